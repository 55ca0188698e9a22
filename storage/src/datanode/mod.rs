//! The datanode: stores block replicas on local disk ([`blocks`]) and serves
//! them ([`server`]); registers with the namenode with a full block report,
//! then heartbeats (capacity, used, free space) and carries out the commands
//! in the replies (copy a block to other nodes, delete replicas, register
//! again after a namenode restart).

pub mod blocks;
pub mod replica_file;
pub mod server;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tonic::transport::server::TcpIncoming;

use crate::error::{Result, StorageError};
use crate::rpc::datanode::data_node_server::DataNodeServer;
use crate::rpc::messages::{Command, CorruptRequest, HeartbeatRequest, RegisterRequest};
use crate::rpc::pool::DataNodes;
use crate::rpc::{MAX_PACKET_MESSAGE, NameNodeConn, namenode_client};
use crate::secret::Secret;

/// A running datanode.
#[derive(Debug)]
pub struct Running {
    pub addr: SocketAddr,
    pub server: tokio::task::JoinHandle<()>,
    pub heartbeat: tokio::task::JoinHandle<()>,
    alive: Arc<AtomicBool>,
}

impl Running {
    /// Stop serving at once (as if the process died): calls in progress
    /// fail, new ones are refused, heartbeats stop.
    pub fn kill(&self) {
        self.alive.store(false, Ordering::Relaxed);
        self.server.abort();
        self.heartbeat.abort();
    }
}

/// Settings of a datanode.
#[derive(Debug, Clone)]
pub struct DataNodeConfig {
    pub rack: String,
    pub heartbeat_interval: Duration,
    /// The most bytes this node stores (also bounded by the disk's free space).
    pub capacity: u64,
    /// The cluster secret its requests carry and it requires.
    pub secret: Secret,
    /// How often every replica is read and checked against its checksums
    /// (the block scanner), so corruption is found even where nobody reads.
    pub scan_interval: Duration,
    /// How often a full block report is sent (besides the one at start).
    pub report_interval: Duration,
}

impl Default for DataNodeConfig {
    fn default() -> Self {
        DataNodeConfig {
            rack: "/default-rack".into(),
            heartbeat_interval: Duration::from_secs(3),
            capacity: u64::MAX,
            secret: Secret::none(),
            scan_interval: Duration::from_secs(21 * 24 * 3600), // HDFS: every three weeks
            report_interval: Duration::from_secs(3600),
        }
    }
}

/// Free bytes on the file system of `dir`.
fn disk_free(dir: &Path) -> u64 {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else { return 0 };
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated path and `st` a valid out-pointer.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return 0;
    }
    st.f_bavail as u64 * st.f_frsize as u64
}

/// What this node reports of its space: (capacity, used, free).
fn space(dir: &Path, cfg: &DataNodeConfig, used: u64) -> (u64, u64, u64) {
    let disk = disk_free(dir);
    let capacity = cfg.capacity.min(used + disk);
    (capacity, used, capacity.saturating_sub(used))
}

async fn register(
    nn: &mut NameNodeConn,
    store: &blocks::BlockStore,
    dir: &Path,
    id: &str,
    cfg: &DataNodeConfig,
    used: u64,
) -> Result<()> {
    let replicas = store.report()?;
    let (capacity, _, free) = space(dir, cfg, used);
    let req = RegisterRequest {
        id: id.to_string(),
        addr: id.to_string(),
        rack: cfg.rack.clone(),
        capacity,
        free,
        blocks: replicas.iter().map(|r| r.id).collect(),
        lens: replicas.iter().map(|r| r.len).collect(),
    };
    nn.register(req).await?;
    Ok(())
}

async fn run_command(store: &blocks::BlockStore, datanodes: &DataNodes, used: &AtomicU64, cmd: Command) {
    match cmd {
        Command::Delete { blocks } => {
            for b in blocks {
                let len = store.len(b).unwrap_or(0);
                if store.delete(b).is_ok() {
                    used.fetch_sub(len, Ordering::Relaxed);
                }
            }
        }
        Command::Replicate { block, targets } => {
            if let Ok(len) = store.len(block)
                && let Ok(data) = store.read(block, 0, len)
            {
                let _ = crate::client::writer::write_block(datanodes, block, &targets, Bytes::from(data)).await;
            }
        }
        Command::Reregister => {}
    }
}

/// The block scanner's round: the replicas here that fail their checksums.
fn scan(store: &blocks::BlockStore) -> Vec<u64> {
    let Ok(replicas) = store.report() else { return Vec::new() };
    let chunk = 4 << 20;
    replicas
        .into_iter()
        .filter(|r| {
            let mut pos = 0;
            while pos < r.len.max(1) {
                match store.read(r.id, pos, chunk) {
                    Err(StorageError::ChecksumMismatch { .. } | StorageError::Corrupt(_)) => return true,
                    Err(_) => return false, // deleted meanwhile
                    Ok(_) => pos += chunk,
                }
            }
            false
        })
        .map(|r| r.id)
        .collect()
}

/// Serve the blocks in `dir` on `listen` (`127.0.0.1:0` for any port) for
/// the namenode at `namenode`: register, then heartbeat and carry out the
/// namenode's commands.
pub async fn serve(dir: &Path, listen: SocketAddr, namenode: &str, cfg: DataNodeConfig) -> Result<Running> {
    let store = blocks::BlockStore::open(dir)?;
    let incoming =
        TcpIncoming::bind(listen).map_err(|e| StorageError::Unavailable(format!("binding {listen}: {e}")))?;
    let addr = incoming.local_addr().map_err(|e| StorageError::Unavailable(e.to_string()))?;
    let id = addr.to_string();
    let mut nn = namenode_client(namenode, &cfg.secret)?;
    let datanodes = DataNodes::new(cfg.secret.clone());
    let capacity = cfg.capacity;
    let service = server::DataNodeService::new(
        store.clone(),
        id.clone(),
        id.clone(),
        Some(nn.clone()),
        datanodes.clone(),
        capacity,
    )?;
    let (alive, used) = (service.alive(), service.used());
    let (guard, _) = crate::rpc::gate(cfg.secret.guard(), alive.clone());
    let server = tokio::spawn(async move {
        let svc = DataNodeServer::new(service).max_decoding_message_size(MAX_PACKET_MESSAGE);
        let svc = tonic::service::interceptor::InterceptedService::new(svc, guard);
        let _ = crate::rpc::server().add_service(svc).serve_with_incoming(incoming).await;
    });
    register(&mut nn, &store, dir, &id, &cfg, used.load(Ordering::Relaxed)).await?;
    let dir = dir.to_path_buf();
    let heartbeat = tokio::spawn(async move {
        let (mut last_scan, mut last_report) = (std::time::Instant::now(), std::time::Instant::now());
        loop {
            tokio::time::sleep(cfg.heartbeat_interval).await;
            if last_report.elapsed() >= cfg.report_interval {
                let _ = register(&mut nn, &store, &dir, &id, &cfg, used.load(Ordering::Relaxed)).await;
                last_report = std::time::Instant::now();
            }
            if last_scan.elapsed() >= cfg.scan_interval {
                let scanned = store.clone();
                let corrupt = tokio::task::spawn_blocking(move || scan(&scanned)).await.unwrap_or_default();
                for block in corrupt {
                    let _ = nn.report_corrupt(CorruptRequest { block, addr: id.clone() }).await;
                }
                last_scan = std::time::Instant::now();
            }
            let (capacity, used_now, free) = space(&dir, &cfg, used.load(Ordering::Relaxed));
            let req = HeartbeatRequest { id: id.clone(), capacity, used: used_now, free };
            let Ok(reply) = nn.heartbeat(req).await else { continue };
            for cmd in reply.into_inner().commands {
                if cmd == Command::Reregister {
                    let _ = register(&mut nn, &store, &dir, &id, &cfg, used.load(Ordering::Relaxed)).await;
                } else {
                    run_command(&store, &datanodes, &used, cmd).await;
                }
            }
        }
    });
    Ok(Running { addr, server, heartbeat, alive })
}
