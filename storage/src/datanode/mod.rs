//! The datanode: stores block replicas on local disk ([`blocks`]).
//! (Its RPC service, heartbeats and block reports come with the cluster.)

pub mod blocks;
pub mod server;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;

use crate::error::{Result, StorageError};
use crate::rpc::datanode::data_node_server::DataNodeServer;
use crate::rpc::messages::{Command, HeartbeatRequest, RegisterRequest};
use crate::rpc::namenode::name_node_client::NameNodeClient;

/// A running datanode.
#[derive(Debug)]
pub struct Running {
    pub addr: SocketAddr,
    pub server: tokio::task::JoinHandle<()>,
    pub heartbeat: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stop serving (as if the process died).
    pub fn kill(&self) {
        self.server.abort();
        self.heartbeat.abort();
    }
}

/// Settings of a datanode.
#[derive(Debug, Clone)]
pub struct DataNodeConfig {
    pub rack: String,
    pub heartbeat_interval: Duration,
    /// Capacity reported to the namenode.
    pub capacity: u64,
}

impl Default for DataNodeConfig {
    fn default() -> Self {
        DataNodeConfig { rack: "/default-rack".into(), heartbeat_interval: Duration::from_secs(3), capacity: 1 << 40 }
    }
}

async fn register(
    nn: &mut NameNodeClient<tonic::transport::Channel>,
    store: &blocks::BlockStore,
    id: &str,
    cfg: &DataNodeConfig,
) -> Result<()> {
    let used = store.used()?;
    let blocks = store.report()?.into_iter().map(|r| r.id).collect();
    let req = RegisterRequest {
        id: id.to_string(),
        addr: id.to_string(),
        rack: cfg.rack.clone(),
        capacity: cfg.capacity,
        free: cfg.capacity.saturating_sub(used),
        blocks,
    };
    nn.register(req).await?;
    Ok(())
}

async fn run_command(store: &blocks::BlockStore, cmd: Command) {
    match cmd {
        Command::Delete { blocks } => {
            for b in blocks {
                let _ = store.delete(b);
            }
        }
        Command::Replicate { block, targets } => {
            if let Ok(len) = store.len(block)
                && let Ok(data) = store.read(block, 0, len)
            {
                let _ = crate::client::write_block(block, &targets, Bytes::from(data)).await;
            }
        }
        Command::Reregister => {}
    }
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
    let service = server::DataNodeService::new(store.clone(), id.clone(), id.clone(), Some(namenode.to_string()));
    let server = tokio::spawn(async move {
        let _ = Server::builder().add_service(DataNodeServer::new(service)).serve_with_incoming(incoming).await;
    });
    let mut nn = NameNodeClient::connect(format!("http://{namenode}")).await?;
    register(&mut nn, &store, &id, &cfg).await?;
    let heartbeat = tokio::spawn(async move {
        loop {
            tokio::time::sleep(cfg.heartbeat_interval).await;
            let used = store.used().unwrap_or(0);
            let req = HeartbeatRequest {
                id: id.clone(),
                capacity: cfg.capacity,
                used,
                free: cfg.capacity.saturating_sub(used),
            };
            let Ok(reply) = nn.heartbeat(req).await else { continue };
            for cmd in reply.into_inner().commands {
                if cmd == Command::Reregister {
                    let _ = register(&mut nn, &store, &id, &cfg).await;
                } else {
                    run_command(&store, cmd).await;
                }
            }
        }
    });
    Ok(Running { addr, server, heartbeat })
}
