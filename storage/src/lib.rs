//! hiveql-storage: hiveql's replicated block store, following the HDFS
//! design summarised in `../shared/DESIGN.md` ("Block store").
//!
//! - [`block`]: a replica on disk, shared by datanode and client: CRC32C
//!   per 512-byte chunk ([`block::checksum`]) and verified reads;
//! - [`datanode`]: where replicas live on disk ([`datanode::blocks`]), the
//!   write pipeline and checksum-verified reads
//!   ([`datanode::server`]), registration, heartbeats and the namenode's
//!   commands;
//! - [`namenode`]: the namespace ([`namenode::namespace`]), its fsynced edit
//!   log with torn records detected ([`namenode::editlog`]) and checkpoint
//!   images ([`namenode::namesystem`]); the block map, rack-aware placement,
//!   one-writer leases and their recovery, safe mode, the replication
//!   monitor ([`namenode::server`]);
//! - [`rpc`]: the tonic services (no protoc: `build.rs` describes them) and
//!   how nodes connect ([`rpc::pool`]); [`secret`]: the cluster secret every
//!   request carries; [`private`]: the daemons' directories, their owner's
//!   only;
//! - [`client`]: streaming writes with pipeline recovery, streaming reads
//!   that fall over to the next replica and report corrupt ones;
//! - [`object_store`]: the store as an `object_store::ObjectStore`, for
//!   `dfs://` locations; `cluster`: a whole cluster in one process, and the
//!   nodes' `kill` switches (test machinery: only with the `testing`
//!   feature, which tests and benchmarks turn on; not in the release binary).

pub mod block;
pub mod client;
#[cfg(any(test, feature = "testing"))]
pub mod cluster;
pub mod datanode;
pub mod dfs_url;
pub mod error;
pub mod namenode;
pub mod object_store;
pub mod private;
pub mod rpc;
pub mod secret;

pub use dfs_url::DfsUrl;
pub use error::{Result, StorageError};
