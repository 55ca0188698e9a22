//! The messages of the block store's RPCs, all prost messages: field tags
//! keep old and new nodes compatible, and block bytes travel as raw bytes.
//! Written here as Rust structs with prost's derive (no `.proto` files, no
//! `protoc`; `build.rs` generates the services with `tonic_build::manual`).
//!
//! Protobuf has no 16-bit integers: replication and permission bits are
//! `u32` on the wire and checked where they are used.

use bytes::Bytes;

use crate::namenode::namespace::FileStatus;

#[derive(Clone, PartialEq, prost::Message)]
pub struct Empty {}

/// A datanode joining the cluster.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RegisterRequest {
    /// Stable id (its data directory's), and the address clients reach it at.
    #[prost(string, tag = "1")]
    pub id: String,
    #[prost(string, tag = "2")]
    pub addr: String,
    #[prost(string, tag = "3")]
    pub rack: String,
    #[prost(uint64, tag = "4")]
    pub capacity: u64,
    #[prost(uint64, tag = "5")]
    pub free: u64,
    /// The replicas it holds (a full block report)...
    #[prost(uint64, repeated, tag = "6")]
    pub blocks: Vec<u64>,
    /// ...and their lengths.
    #[prost(uint64, repeated, tag = "7")]
    pub lens: Vec<u64>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct HeartbeatRequest {
    #[prost(string, tag = "1")]
    pub id: String,
    #[prost(uint64, tag = "2")]
    pub capacity: u64,
    #[prost(uint64, tag = "3")]
    pub used: u64,
    #[prost(uint64, tag = "4")]
    pub free: u64,
    /// The last failure on the datanode (with its time), if any.
    #[prost(string, optional, tag = "5")]
    pub last_error: Option<String>,
}

/// What the namenode asks a datanode to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Copy block `block` to `targets` (addresses).
    Replicate { block: u64, targets: Vec<String> },
    /// Delete these replicas.
    Delete { blocks: Vec<u64> },
    /// Register again with a full block report (the namenode restarted).
    Reregister,
}

/// A [`Command`] on the wire.
#[derive(Clone, PartialEq, prost::Message)]
pub struct CommandMessage {
    #[prost(oneof = "CommandKind", tags = "1, 2, 3")]
    pub kind: Option<CommandKind>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
pub enum CommandKind {
    #[prost(message, tag = "1")]
    Replicate(ReplicateCommand),
    #[prost(message, tag = "2")]
    Delete(DeleteCommand),
    #[prost(message, tag = "3")]
    Reregister(Empty),
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ReplicateCommand {
    #[prost(uint64, tag = "1")]
    pub block: u64,
    #[prost(string, repeated, tag = "2")]
    pub targets: Vec<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct DeleteCommand {
    #[prost(uint64, repeated, tag = "1")]
    pub blocks: Vec<u64>,
}

impl From<Command> for CommandMessage {
    fn from(c: Command) -> CommandMessage {
        let kind = match c {
            Command::Replicate { block, targets } => CommandKind::Replicate(ReplicateCommand { block, targets }),
            Command::Delete { blocks } => CommandKind::Delete(DeleteCommand { blocks }),
            Command::Reregister => CommandKind::Reregister(Empty {}),
        };
        CommandMessage { kind: Some(kind) }
    }
}

impl CommandMessage {
    /// The command, or `None` for one this node does not know (sent by a
    /// newer namenode): it is skipped.
    pub fn command(self) -> Option<Command> {
        Some(match self.kind? {
            CommandKind::Replicate(r) => Command::Replicate { block: r.block, targets: r.targets },
            CommandKind::Delete(d) => Command::Delete { blocks: d.blocks },
            CommandKind::Reregister(_) => Command::Reregister,
        })
    }
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct HeartbeatReply {
    #[prost(message, repeated, tag = "1")]
    pub commands: Vec<CommandMessage>,
}

/// A datanode finished a replica.
#[derive(Clone, PartialEq, prost::Message)]
pub struct BlockReceivedRequest {
    #[prost(string, tag = "1")]
    pub id: String,
    #[prost(uint64, tag = "2")]
    pub block: u64,
    #[prost(uint64, tag = "3")]
    pub len: u64,
}

/// A client found a replica that fails its checksums.
#[derive(Clone, PartialEq, prost::Message)]
pub struct CorruptRequest {
    #[prost(uint64, tag = "1")]
    pub block: u64,
    /// The datanode's address.
    #[prost(string, tag = "2")]
    pub addr: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct PathRequest {
    #[prost(string, tag = "1")]
    pub path: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct CreateRequest {
    #[prost(string, tag = "1")]
    pub path: String,
    #[prost(string, tag = "2")]
    pub client: String,
    #[prost(string, tag = "3")]
    pub owner: String,
    #[prost(uint32, tag = "4")]
    pub replication: u32,
    #[prost(uint64, tag = "5")]
    pub block_size: u64,
    #[prost(bool, tag = "6")]
    pub overwrite: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct AddBlockRequest {
    #[prost(string, tag = "1")]
    pub path: String,
    #[prost(string, tag = "2")]
    pub client: String,
    /// The writer's datanode id, if it runs on one (first replica goes there).
    #[prost(string, optional, tag = "3")]
    pub writer: Option<String>,
    /// Datanodes the client could not reach (not chosen again).
    #[prost(string, repeated, tag = "4")]
    pub excluded: Vec<String>,
}

/// A block and where its replicas are (addresses, closest first).
#[derive(Clone, PartialEq, prost::Message)]
pub struct LocatedBlock {
    #[prost(uint64, tag = "1")]
    pub block: u64,
    #[prost(uint64, tag = "2")]
    pub offset: u64,
    #[prost(uint64, tag = "3")]
    pub len: u64,
    /// Live datanodes with a good replica.
    #[prost(string, repeated, tag = "4")]
    pub locations: Vec<String>,
    /// Datanodes whose replica failed its checksums (not yet replaced).
    #[prost(string, repeated, tag = "5")]
    pub corrupt: Vec<String>,
}

/// The writer gives up the last block of a file it is writing (its pipeline
/// failed); it will ask for a new one.
#[derive(Clone, PartialEq, prost::Message)]
pub struct AbandonBlockRequest {
    #[prost(string, tag = "1")]
    pub path: String,
    #[prost(string, tag = "2")]
    pub client: String,
    #[prost(uint64, tag = "3")]
    pub block: u64,
}

/// `dfsadmin -safemode get|enter|leave`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum SafeModeAction {
    Get = 0,
    /// Refuse changes until an administrator leaves safe mode.
    Enter = 1,
    /// Take changes again, whatever share of blocks is reported.
    Leave = 2,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct SafeModeRequest {
    #[prost(enumeration = "SafeModeAction", tag = "1")]
    pub action: i32,
}

impl From<SafeModeAction> for SafeModeRequest {
    fn from(a: SafeModeAction) -> SafeModeRequest {
        SafeModeRequest { action: a as i32 }
    }
}

/// Whether the namenode is in safe mode, and why.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SafeModeReply {
    #[prost(string, optional, tag = "1")]
    pub reason: Option<String>,
}

/// A writer is alive: its leases are renewed.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RenewLeaseRequest {
    #[prost(string, tag = "1")]
    pub client: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct SetReplicationRequest {
    #[prost(string, tag = "1")]
    pub path: String,
    #[prost(uint32, tag = "2")]
    pub replication: u32,
}

/// A datanode as `dfsadmin -report` shows it.
#[derive(Clone, PartialEq, prost::Message)]
pub struct NodeReport {
    #[prost(string, tag = "1")]
    pub id: String,
    #[prost(string, tag = "2")]
    pub addr: String,
    #[prost(string, tag = "3")]
    pub rack: String,
    #[prost(uint64, tag = "4")]
    pub capacity: u64,
    #[prost(uint64, tag = "5")]
    pub used: u64,
    #[prost(uint64, tag = "6")]
    pub free: u64,
    /// Replicas it holds.
    #[prost(uint64, tag = "7")]
    pub blocks: u64,
    /// Milliseconds since its last heartbeat.
    #[prost(uint64, tag = "8")]
    pub last_contact_ms: u64,
    /// The last failure the node reported (with its time), if any.
    #[prost(string, optional, tag = "9")]
    pub last_error: Option<String>,
}

/// The state of the cluster (`dfsadmin -report`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ClusterReport {
    /// Why the namenode is in safe mode, if it is.
    #[prost(string, optional, tag = "1")]
    pub safe_mode: Option<String>,
    #[prost(message, repeated, tag = "2")]
    pub live: Vec<NodeReport>,
    #[prost(message, repeated, tag = "3")]
    pub dead: Vec<NodeReport>,
    #[prost(uint64, tag = "4")]
    pub files: u64,
    #[prost(uint64, tag = "5")]
    pub directories: u64,
    #[prost(uint64, tag = "6")]
    pub blocks: u64,
    #[prost(uint64, tag = "7")]
    pub under_replicated: u64,
    /// Blocks with at least one corrupt replica.
    #[prost(uint64, tag = "8")]
    pub corrupt: u64,
    /// Blocks with no good replica.
    #[prost(uint64, tag = "9")]
    pub missing: u64,
    /// The namenode's own last failure (with its time), if any.
    #[prost(string, optional, tag = "10")]
    pub last_error: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct CompleteRequest {
    #[prost(string, tag = "1")]
    pub path: String,
    #[prost(string, tag = "2")]
    pub client: String,
    #[prost(uint64, repeated, tag = "3")]
    pub lengths: Vec<u64>,
}

/// The blocks of a file.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Located {
    /// The file itself (always sent; optional only because protobuf message
    /// fields are: the client refuses a reply without it).
    #[prost(message, optional, tag = "1")]
    pub status: Option<PathStatus>,
    #[prost(message, repeated, tag = "2")]
    pub blocks: Vec<LocatedBlock>,
}

/// What `stat` tells of a path.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PathStatus {
    #[prost(string, tag = "1")]
    pub path: String,
    #[prost(bool, tag = "2")]
    pub is_dir: bool,
    #[prost(uint64, tag = "3")]
    pub len: u64,
    #[prost(string, tag = "4")]
    pub owner: String,
    #[prost(string, tag = "5")]
    pub group: String,
    /// Permission bits (`0o755`).
    #[prost(uint32, tag = "6")]
    pub permission: u32,
    /// Milliseconds since the epoch.
    #[prost(uint64, tag = "7")]
    pub mtime: u64,
    #[prost(uint32, tag = "8")]
    pub replication: u32,
    #[prost(uint64, tag = "9")]
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
            permission: s.attrs.permission.into(),
            mtime: s.attrs.mtime,
            replication: s.replication.into(),
            block_size: s.block_size,
        }
    }
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Listing {
    #[prost(message, repeated, tag = "1")]
    pub entries: Vec<PathStatus>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct RenameRequest {
    #[prost(string, tag = "1")]
    pub src: String,
    #[prost(string, tag = "2")]
    pub dst: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct DeleteRequest {
    #[prost(string, tag = "1")]
    pub path: String,
    #[prost(bool, tag = "2")]
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

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;

    #[test]
    fn commands_cross_the_wire_and_unknown_ones_are_skipped() {
        let sent = vec![
            Command::Replicate { block: 7, targets: vec!["a:1".into(), "b:2".into()] },
            Command::Delete { blocks: vec![1, 2, 3] },
            Command::Reregister,
        ];
        let reply = HeartbeatReply { commands: sent.iter().cloned().map(CommandMessage::from).collect() };
        let bytes = reply.encode_to_vec();
        let got: Vec<Command> = HeartbeatReply::decode(bytes.as_slice())
            .unwrap()
            .commands
            .into_iter()
            .filter_map(CommandMessage::command)
            .collect();
        assert_eq!(got, sent);
        // a command from a newer namenode (a tag this node does not know) decodes as none
        let mut unknown = Vec::new();
        prost::encoding::message::encode(9, &Empty {}, &mut unknown);
        let mut wrapped = Vec::new();
        prost::encoding::bytes::encode(1, &unknown, &mut wrapped);
        let reply = HeartbeatReply::decode(wrapped.as_slice()).unwrap();
        assert_eq!(reply.commands.len(), 1);
        assert_eq!(reply.commands[0].clone().command(), None);
    }

    #[test]
    fn safe_mode_actions_cross_the_wire() {
        let s = SafeModeRequest::decode(SafeModeRequest::from(SafeModeAction::Leave).encode_to_vec().as_slice());
        assert_eq!(s.unwrap().action(), SafeModeAction::Leave);
    }
}
