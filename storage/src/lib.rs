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
//!   reads that fall over to the next replica and report corrupt ones,
//!   [`namenode::serve`] / [`datanode::serve`] to run nodes (registration,
//!   heartbeats, the replication monitor: dead nodes, re-replication, extra
//!   and corrupt replicas deleted).
//!
//! Still to come (issue 5): safe mode, lease expiry and file recovery, the
//! cluster secret and request limits, a datanode failing mid-pipeline
//! (tested), disk-full handling, `DfsObjectStore` and the `dfs://` scheme,
//! the `hiveql namenode|datanode|dfs|dfsadmin|fsck|cluster` commands,
//! process-level kill -9 tests, benchmarks.

pub mod checksum;
pub mod client;
pub mod cluster;
pub mod datanode;
pub mod error;
pub mod namenode;
pub mod object_store;
pub mod rpc;

pub use error::{Result, StorageError};
