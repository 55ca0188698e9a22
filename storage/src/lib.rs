//! hiveql-storage: hiveql's replicated block store, following the HDFS
//! design summarised in `../shared/DESIGN.md` ("Block store").
//!
//! So far: the parts that keep data safe on one machine, each tested on its
//! own:
//! - [`checksum`]: CRC32C per 512-byte chunk;
//! - [`datanode::blocks`]: block replicas and their checksum files on disk;
//! - [`namenode::namespace`], [`namenode::editlog`], [`namenode::namesystem`]:
//!   the namespace, its fsynced edit log (torn records detected) and
//!   checkpoint images.
//!
//! Still to come (issue 5): the tonic services of the namenode and the
//! datanodes (heartbeats, block reports, the write pipeline, re-replication,
//! leases, placement), `DfsClient` / `DfsObjectStore` and the `dfs://` scheme.

pub mod checksum;
pub mod datanode;
pub mod error;
pub mod namenode;

pub use error::{Result, StorageError};
