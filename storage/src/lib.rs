//! hiveql-storage: hiveql's replicated block store, following the HDFS
//! design summarised in `../shared/DESIGN.md` ("Block store").
//!
//! So far: the parts that keep data safe on one machine, each tested on its
//! own:
//! - [`checksum`]: CRC32C per 512-byte chunk;
//! - [`datanode::blocks`]: block replicas and their checksum files on disk;
//! - [`namenode::namespace`], [`namenode::editlog`], [`namenode::namesystem`]:
//!   the namespace, its fsynced edit log (torn records detected) and
//!   checkpoint images;
//! - [`namenode::blockmap`], [`namenode::placement`], [`namenode::lease`]: the
//!   block map (under/over-replication, corrupt replicas, safe-mode share),
//!   rack-aware placement, and one-writer leases.
//!
//! Still to come (issue 5): the tonic services of the namenode and the
//! datanodes (heartbeats, block reports, the write pipeline driving these
//! parts), `DfsClient` / `DfsObjectStore` and the `dfs://` scheme.

pub mod checksum;
pub mod datanode;
pub mod error;
pub mod namenode;

pub use error::{Result, StorageError};
