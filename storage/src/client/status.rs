//! What the client tells its callers about files and about the cluster:
//! the client API's own types, converted from the wire messages
//! ([`crate::rpc::messages`]) where a reply arrives, so that the wire can
//! evolve (new fields, protobuf's `u32` for 16-bit values) without every
//! caller changing with it.

use crate::rpc::messages;

/// A file or directory, as `stat` and `list` report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStatus {
    pub path: String,
    pub is_dir: bool,
    /// Bytes (0 for a directory).
    pub len: u64,
    pub owner: String,
    pub group: String,
    /// Permission bits (`0o755`).
    pub permission: u16,
    /// Milliseconds since the epoch.
    pub mtime: u64,
    /// Target replication (0 for a directory).
    pub replication: u16,
    pub block_size: u64,
}

/// A 16-bit value carried as `u32` on the wire (saturating: a namenode
/// never sends more, a different one is not trusted to).
fn narrow(v: u32) -> u16 {
    u16::try_from(v).unwrap_or(u16::MAX)
}

impl From<messages::PathStatus> for FileStatus {
    fn from(s: messages::PathStatus) -> FileStatus {
        FileStatus {
            path: s.path,
            is_dir: s.is_dir,
            len: s.len,
            owner: s.owner,
            group: s.group,
            permission: narrow(s.permission),
            mtime: s.mtime,
            replication: narrow(s.replication),
            block_size: s.block_size,
        }
    }
}

/// One block of a located file and the datanodes holding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockLocation {
    pub block: u64,
    /// Where the block starts in the file.
    pub offset: u64,
    pub len: u64,
    /// Datanodes (addresses) with a good replica, closest first.
    pub locations: Vec<String>,
    /// Datanodes whose replica failed its checksums (not yet replaced).
    pub corrupt: Vec<String>,
}

impl BlockLocation {
    /// The hosts of the datanodes with a good replica, closest first.
    pub fn hosts(&self) -> impl Iterator<Item = &str> {
        self.locations.iter().map(|addr| addr.rsplit_once(':').map_or(addr.as_str(), |(host, _)| host))
    }
}

impl From<messages::LocatedBlock> for BlockLocation {
    fn from(b: messages::LocatedBlock) -> BlockLocation {
        BlockLocation { block: b.block, offset: b.offset, len: b.len, locations: b.locations, corrupt: b.corrupt }
    }
}

/// A file and where its blocks are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub file: FileStatus,
    pub blocks: Vec<BlockLocation>,
}

/// `dfsadmin -safemode get|enter|leave`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SafeModeAction {
    Get,
    /// Refuse changes until an administrator leaves safe mode.
    Enter,
    /// Take changes again, whatever share of blocks is reported.
    Leave,
}

impl From<SafeModeAction> for messages::SafeModeRequest {
    fn from(a: SafeModeAction) -> messages::SafeModeRequest {
        let action = match a {
            SafeModeAction::Get => messages::SafeModeAction::Get,
            SafeModeAction::Enter => messages::SafeModeAction::Enter,
            SafeModeAction::Leave => messages::SafeModeAction::Leave,
        };
        messages::SafeModeRequest::from(action)
    }
}

/// A datanode as `dfsadmin -report` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    pub last_error: Option<String>,
}

impl From<messages::NodeReport> for NodeReport {
    fn from(n: messages::NodeReport) -> NodeReport {
        NodeReport {
            id: n.id,
            addr: n.addr,
            rack: n.rack,
            capacity: n.capacity,
            used: n.used,
            free: n.free,
            blocks: n.blocks,
            last_contact_ms: n.last_contact_ms,
            last_error: n.last_error,
        }
    }
}

/// The state of the cluster (`dfsadmin -report`).
#[derive(Debug, Clone, PartialEq, Eq)]
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
    pub last_error: Option<String>,
}

impl From<messages::ClusterReport> for ClusterReport {
    fn from(r: messages::ClusterReport) -> ClusterReport {
        ClusterReport {
            safe_mode: r.safe_mode,
            live: r.live.into_iter().map(NodeReport::from).collect(),
            dead: r.dead.into_iter().map(NodeReport::from).collect(),
            files: r.files,
            directories: r.directories,
            blocks: r.blocks,
            under_replicated: r.under_replicated,
            corrupt: r.corrupt,
            missing: r.missing,
            last_error: r.last_error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_names_the_hosts_of_its_replicas() {
        let b = BlockLocation {
            block: 1,
            offset: 0,
            len: 10,
            locations: vec!["127.0.0.5:9866".into(), "dn1.example.com:1".into(), "dn2".into()],
            corrupt: vec![],
        };
        assert_eq!(b.hosts().collect::<Vec<_>>(), vec!["127.0.0.5", "dn1.example.com", "dn2"]);
    }
}
