//! The namenode: the namespace ([`namespace`]), made durable by an edit log
//! ([`editlog`]) and checkpoint images ([`namesystem`]); the block map built
//! from block reports ([`blockmap`]); replica placement ([`placement`]);
//! write leases ([`lease`]). (Its RPC service and the heartbeat monitor come
//! with the cluster.)

pub mod blockmap;
pub mod editlog;
pub mod lease;
pub mod namespace;
pub mod namesystem;
pub mod placement;
pub mod server;

use std::net::SocketAddr;
use std::path::Path;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use tonic::transport::server::TcpIncoming;

use crate::error::{Result, StorageError};
use crate::rpc::namenode::name_node_server::NameNodeServer;

/// A running namenode.
#[derive(Debug)]
pub struct Running {
    pub addr: SocketAddr,
    pub server: tokio::task::JoinHandle<()>,
    pub service: Arc<server::NameNodeService>,
    /// Cleared by `kill` (tests): every call is refused from then on.
    #[cfg_attr(not(any(test, feature = "testing")), allow(dead_code))]
    alive: Arc<AtomicBool>,
}

#[cfg(any(test, feature = "testing"))]
impl Running {
    /// Stop at once (as if the process died): every call is refused from
    /// now on, and the monitor stops.
    pub fn kill(&self) {
        self.alive.store(false, std::sync::atomic::Ordering::Relaxed);
        self.server.abort();
    }
}

fn alive_flag() -> Arc<AtomicBool> {
    Arc::new(AtomicBool::new(true))
}

/// Serve the namespace stored in `dir` on `listen` (`127.0.0.1:0` for any port).
pub async fn serve(dir: &Path, listen: SocketAddr, config: server::NameNodeConfig) -> Result<Running> {
    serve_dirs(&[dir.to_path_buf()], namesystem::OpenMode::default(), listen, config).await
}

/// Serve the namespace kept in every one of `dirs` (see [`namesystem`]).
pub async fn serve_dirs(
    dirs: &[std::path::PathBuf],
    mode: namesystem::OpenMode,
    listen: SocketAddr,
    config: server::NameNodeConfig,
) -> Result<Running> {
    let interval = config.monitor_interval;
    let guard = crate::rpc::gate(config.secret.guard(), alive_flag());
    let alive = guard.1.clone();
    let opening = dirs.to_vec();
    // replaying the log reads and may rewrite files: off the async workers
    let service = tokio::task::spawn_blocking(move || server::NameNodeService::open_dirs(&opening, mode, config))
        .await
        .map_err(|e| StorageError::Unavailable(format!("opening the name directories: {e}")))??;
    let service = Arc::new(service);
    let incoming =
        TcpIncoming::bind(listen).map_err(|e| StorageError::Unavailable(format!("binding {listen}: {e}")))?;
    let addr = incoming.local_addr().map_err(|e| StorageError::Unavailable(e.to_string()))?;
    let monitored = service.clone();
    let monitor = tokio::spawn(async move {
        loop {
            tokio::time::sleep(interval).await;
            let round = monitored.clone();
            // the monitor may fsync and checkpoint: off the async workers
            if let Err(e) = tokio::task::spawn_blocking(move || round.monitor()).await {
                tracing::error!(error = %e, "replication monitor round failed");
            }
        }
    });
    let svc = NameNodeServer::from_arc(service.clone()).max_decoding_message_size(crate::rpc::MAX_MESSAGE);
    let svc = tonic::service::interceptor::InterceptedService::new(svc, guard.0);
    let server = tokio::spawn(async move {
        if let Err(e) = crate::rpc::server().add_service(svc).serve_with_incoming(incoming).await {
            tracing::error!(error = %e, "namenode server stopped");
        }
        monitor.abort();
    });
    Ok(Running { addr, server, service, alive })
}
