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
//! - [`rpc`], [`namenode::server`], [`datanode::server`], [`client`]: the tonic
//!   services (no protoc: `build.rs` describes them), the write pipeline,
//!   reads that fall over to the next replica, [`namenode::serve`] /
//!   [`datanode::serve`] to run nodes (registration, heartbeats, delete and
//!   replicate commands).
//!
//! Still to come (issue 5): the heartbeat monitor that declares nodes dead and
//! queues re-replication, corrupt-replica reports, safe mode, lease expiry,
//! the cluster secret, `DfsObjectStore` and the `dfs://` scheme, the
//! `hiveql namenode|datanode|dfs|dfsadmin|fsck|cluster` commands.

pub mod checksum;
pub mod client;
pub mod datanode;
pub mod error;
pub mod namenode;
pub mod rpc;

pub use error::{Result, StorageError};
