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
use crate::rpc::messages::{Command, CommandMessage, CorruptRequest, HeartbeatRequest, RegisterRequest};
use crate::rpc::pool::DataNodes;
use crate::rpc::{MAX_PACKET_MESSAGE, NameNodeConn, namenode_client};
use crate::secret::Secret;

/// A running datanode.
#[derive(Debug)]
pub struct Running {
    pub addr: SocketAddr,
    pub server: tokio::task::JoinHandle<()>,
    pub heartbeat: tokio::task::JoinHandle<()>,
    /// Cleared by `kill` (tests): every call is refused from then on.
    #[cfg_attr(not(any(test, feature = "testing")), allow(dead_code))]
    alive: Arc<AtomicBool>,
}

#[cfg(any(test, feature = "testing"))]
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
#[allow(unsafe_code)] // see the SAFETY comments
fn disk_free(dir: &Path) -> u64 {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else { return 0 };
    // SAFETY: statvfs is a plain C struct of integers; all-zero is a valid value.
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

/// Carry out a namenode command; what failed, if anything (the replica
/// file work runs off the async workers).
async fn run_command(
    store: &blocks::BlockStore,
    datanodes: &DataNodes,
    used: &AtomicU64,
    cmd: Command,
) -> std::result::Result<(), String> {
    match cmd {
        Command::Delete { blocks } => {
            let s = store.clone();
            let freed = tokio::task::spawn_blocking(move || {
                let mut freed = 0;
                let mut failed = Vec::new();
                for b in blocks {
                    let len = s.len(b).unwrap_or(0);
                    match s.delete(b) {
                        Ok(()) => freed += len,
                        Err(e) => failed.push(format!("deleting block {b}: {e}")),
                    }
                }
                (freed, failed)
            })
            .await
            .map_err(|e| format!("delete task: {e}"))?;
            used.fetch_sub(freed.0, Ordering::Relaxed);
            if freed.1.is_empty() { Ok(()) } else { Err(freed.1.join("; ")) }
        }
        Command::Replicate { block, targets } => {
            let s = store.clone();
            let data = tokio::task::spawn_blocking(move || s.len(block).and_then(|len| s.read(block, 0, len)))
                .await
                .map_err(|e| format!("replica read task: {e}"))?
                .map_err(|e| format!("reading block {block} to copy it: {e}"))?;
            crate::client::writer::write_block(datanodes, block, &targets, Bytes::from(data))
                .await
                .map(|_| ())
                .map_err(|e| format!("copying block {block} to {}: {e}", targets.join(", ")))
        }
        Command::Reregister => Ok(()),
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
        if let Err(e) = crate::rpc::server().add_service(svc).serve_with_incoming(incoming).await {
            tracing::error!(error = %e, "datanode server stopped");
        }
    });
    register(&mut nn, &store, dir, &id, &cfg, used.load(Ordering::Relaxed)).await?;
    let dir = dir.to_path_buf();
    let heartbeat = tokio::spawn(async move {
        let (mut last_scan, mut last_report) = (std::time::Instant::now(), std::time::Instant::now());
        // The last thing that went wrong here, sent with every heartbeat
        // (`dfsadmin -report` shows it) until something else does.
        let mut last_error: Option<String> = None;
        fn failed(last_error: &mut Option<String>, what: String) {
            tracing::warn!("{what}");
            *last_error = Some(format!("{} {what}", chrono::Utc::now().format("%Y-%m-%d %H:%M:%S")));
        }
        loop {
            tokio::time::sleep(cfg.heartbeat_interval).await;
            if last_report.elapsed() >= cfg.report_interval {
                if let Err(e) = register(&mut nn, &store, &dir, &id, &cfg, used.load(Ordering::Relaxed)).await {
                    failed(&mut last_error, format!("block report failed: {e}"));
                }
                last_report = std::time::Instant::now();
            }
            if last_scan.elapsed() >= cfg.scan_interval {
                let scanned = store.clone();
                match tokio::task::spawn_blocking(move || scan(&scanned)).await {
                    Ok(corrupt) => {
                        for block in corrupt {
                            tracing::warn!(block, "block scanner found a corrupt replica");
                            if let Err(e) = nn.report_corrupt(CorruptRequest { block, addr: id.clone() }).await {
                                failed(
                                    &mut last_error,
                                    format!("reporting corrupt block {block}: {}", StorageError::from(e)),
                                );
                            }
                        }
                    }
                    Err(e) => failed(&mut last_error, format!("block scan failed: {e}")),
                }
                last_scan = std::time::Instant::now();
            }
            let (capacity, used_now, free) = space(&dir, &cfg, used.load(Ordering::Relaxed));
            let req =
                HeartbeatRequest { id: id.clone(), capacity, used: used_now, free, last_error: last_error.clone() };
            let reply = match nn.heartbeat(req).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(error = %StorageError::from(e), "heartbeat failed; the namenode may be down");
                    continue;
                }
            };
            for cmd in reply.into_inner().commands.into_iter().filter_map(CommandMessage::command) {
                if cmd == Command::Reregister {
                    tracing::info!("the namenode asked this datanode to register again");
                    if let Err(e) = register(&mut nn, &store, &dir, &id, &cfg, used.load(Ordering::Relaxed)).await {
                        failed(&mut last_error, format!("registering again failed: {e}"));
                    }
                } else if let Err(e) = run_command(&store, &datanodes, &used, cmd).await {
                    failed(&mut last_error, e);
                }
            }
        }
    });
    Ok(Running { addr, server, heartbeat, alive })
}
