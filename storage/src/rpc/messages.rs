//! The messages of the block store's RPCs. Control plane (namenode): serde
//! types sent as JSON. Data plane (datanodes): prost messages, so block
//! bytes travel as raw bytes.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::namenode::namespace::FileStatus;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Empty {}

/// A datanode joining the cluster.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegisterRequest {
    /// Stable id (its data directory's), and the address clients reach it at.
    pub id: String,
    pub addr: String,
    pub rack: String,
    pub capacity: u64,
    pub free: u64,
    /// The replicas it holds (a full block report)...
    pub blocks: Vec<u64>,
    /// ...and their lengths.
    #[serde(default)]
    pub lens: Vec<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HeartbeatRequest {
    pub id: String,
    pub capacity: u64,
    pub used: u64,
    pub free: u64,
    /// The last failure on the datanode (with its time), if any.
    #[serde(default)]
    pub last_error: Option<String>,
}

/// What the namenode asks a datanode to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// Copy block `block` to `targets` (addresses).
    Replicate { block: u64, targets: Vec<String> },
    /// Delete these replicas.
    Delete { blocks: Vec<u64> },
    /// Register again with a full block report (the namenode restarted).
    Reregister,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HeartbeatReply {
    pub commands: Vec<Command>,
}

/// A datanode finished a replica.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BlockReceivedRequest {
    pub id: String,
    pub block: u64,
    pub len: u64,
}

/// A client found a replica that fails its checksums.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CorruptRequest {
    pub block: u64,
    /// The datanode's address.
    pub addr: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PathRequest {
    pub path: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateRequest {
    pub path: String,
    pub client: String,
    pub owner: String,
    pub replication: u16,
    pub block_size: u64,
    pub overwrite: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AddBlockRequest {
    pub path: String,
    pub client: String,
    /// The writer's datanode id, if it runs on one (first replica goes there).
    pub writer: Option<String>,
    /// Datanodes the client could not reach (not chosen again).
    pub excluded: Vec<String>,
}

/// A block and where its replicas are (addresses, closest first).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LocatedBlock {
    pub block: u64,
    pub offset: u64,
    pub len: u64,
    /// Live datanodes with a good replica.
    pub locations: Vec<String>,
    /// Datanodes whose replica failed its checksums (not yet replaced).
    #[serde(default)]
    pub corrupt: Vec<String>,
}

/// The writer gives up the last block of a file it is writing (its pipeline
/// failed); it will ask for a new one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AbandonBlockRequest {
    pub path: String,
    pub client: String,
    pub block: u64,
}

/// `dfsadmin -safemode get|enter|leave`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SafeModeRequest {
    Get,
    /// Refuse changes until an administrator leaves safe mode.
    Enter,
    /// Take changes again, whatever share of blocks is reported.
    Leave,
}

/// Whether the namenode is in safe mode, and why.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SafeModeReply {
    pub reason: Option<String>,
}

/// A writer is alive: its leases are renewed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RenewLeaseRequest {
    pub client: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetReplicationRequest {
    pub path: String,
    pub replication: u16,
}

/// A datanode as `dfsadmin -report` shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeReport {
    pub id: String,
    pub addr: String,
    pub rack: String,
    pub capacity: u64,
    pub used: u64,
    pub free: u64,
    /// Replicas it holds.
    pub blocks: u64,
    /// Milliseconds since its last heartbeat.
    pub last_contact_ms: u64,
    /// The last failure the node reported (with its time), if any.
    #[serde(default)]
    pub last_error: Option<String>,
}

/// The state of the cluster (`dfsadmin -report`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClusterReport {
    /// Why the namenode is in safe mode, if it is.
    pub safe_mode: Option<String>,
    pub live: Vec<NodeReport>,
    pub dead: Vec<NodeReport>,
    pub files: u64,
    pub directories: u64,
    pub blocks: u64,
    pub under_replicated: u64,
    /// Blocks with at least one corrupt replica.
    pub corrupt: u64,
    /// Blocks with no good replica.
    pub missing: u64,
    /// The namenode's own last failure (with its time), if any.
    #[serde(default)]
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompleteRequest {
    pub path: String,
    pub client: String,
    pub lengths: Vec<u64>,
}

/// The blocks of a file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Located {
    /// The file itself.
    pub status: PathStatus,
    pub blocks: Vec<LocatedBlock>,
}

/// What `stat` tells of a path.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PathStatus {
    pub path: String,
    pub is_dir: bool,
    pub len: u64,
    pub owner: String,
    pub group: String,
    pub permission: u16,
    pub mtime: u64,
    pub replication: u16,
    pub block_size: u64,
}

impl From<FileStatus> for PathStatus {
    fn from(s: FileStatus) -> PathStatus {
        PathStatus {
            path: s.path,
            is_dir: s.is_dir,
            len: s.len,
            owner: s.attrs.owner,
            group: s.attrs.group,
            permission: s.attrs.permission,
            mtime: s.attrs.mtime,
            replication: s.replication,
            block_size: s.block_size,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Listing {
    pub entries: Vec<PathStatus>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RenameRequest {
    pub src: String,
    pub dst: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeleteRequest {
    pub path: String,
    pub recursive: bool,
}

/// A piece of a block write: the first carries the header.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WritePacket {
    /// The block to write (first packet only; 0 after).
    #[prost(uint64, tag = "1")]
    pub block: u64,
    /// The datanodes after this one in the pipeline (first packet only).
    #[prost(string, repeated, tag = "2")]
    pub downstream: Vec<String>,
    #[prost(bytes = "bytes", tag = "3")]
    pub data: Bytes,
    /// The writer's last packet of this block: a stream that ends without
    /// it was cut off, and its partial replica is discarded.
    #[prost(bool, tag = "4")]
    pub last: bool,
}

/// The end of a pipeline write: every node that has the block on disk.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteAck {
    #[prost(uint64, tag = "1")]
    pub len: u64,
    #[prost(string, repeated, tag = "2")]
    pub stored_on: Vec<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ReadRequest {
    #[prost(uint64, tag = "1")]
    pub block: u64,
    #[prost(uint64, tag = "2")]
    pub offset: u64,
    #[prost(uint64, tag = "3")]
    pub len: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct DataChunk {
    #[prost(bytes = "bytes", tag = "1")]
    pub data: Bytes,
}

/// Where a replica's files are, for a reader on the datanode's machine
/// (short-circuit read: it reads and verifies them itself).
#[derive(Clone, PartialEq, prost::Message)]
pub struct LocalBlock {
    #[prost(string, tag = "1")]
    pub data_path: String,
    #[prost(string, tag = "2")]
    pub meta_path: String,
    #[prost(uint64, tag = "3")]
    pub len: u64,
}
