//! The block store's RPC services over tonic (gRPC on HTTP/2): the
//! namenode's control plane and the datanodes' data plane. Generated from
//! `build.rs`; [`messages`] holds the prost messages of both. Here too: how connections are made ([`endpoint`]: large
//! HTTP/2 windows, so one stream can carry a block at disk speed) and the
//! client types, which carry the cluster secret.

pub mod messages;
pub mod pool;

use std::time::Duration;

use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

use crate::error::{Result, StorageError};
use crate::secret::Secret;

/// The namenode service (client and server).
pub mod namenode {
    include!(concat!(env!("OUT_DIR"), "/hiveql.dfs.NameNode.rs"));
}

/// The datanode service (client and server).
pub mod datanode {
    include!(concat!(env!("OUT_DIR"), "/hiveql.dfs.DataNode.rs"));
}

/// HTTP/2 flow-control window of one stream (a block read or write).
pub const STREAM_WINDOW: u32 = 8 << 20;
/// HTTP/2 flow-control window of one connection.
pub const CONNECTION_WINDOW: u32 = 32 << 20;
/// HTTP/2 frame size nodes advertise (the protocol's default is 16 KiB):
/// block data travels in few, large frames.
pub const FRAME: u32 = 1 << 20;
/// The largest message a node accepts (a packet is 1 MiB; namespace
/// listings of big directories are the largest control messages).
pub const MAX_MESSAGE: usize = 64 << 20;

/// The largest message a datanode accepts: a write packet and its header.
pub const MAX_PACKET_MESSAGE: usize = crate::client::writer::PACKET + (64 << 10);

/// A namenode client that sends the cluster secret.
pub type NameNodeConn = namenode::name_node_client::NameNodeClient<InterceptedService<Channel, Secret>>;
/// A datanode client that sends the cluster secret.
pub type DataNodeConn = datanode::data_node_client::DataNodeClient<InterceptedService<Channel, Secret>>;

/// How this crate connects to a node at `addr` (`host:port`).
pub fn endpoint(addr: &str) -> Result<Endpoint> {
    Ok(Endpoint::from_shared(format!("http://{addr}"))
        .map_err(|e| StorageError::Invalid(format!("address {addr}: {e}")))?
        .connect_timeout(Duration::from_secs(5))
        .tcp_nodelay(true)
        .initial_stream_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .max_frame_size(FRAME)
        .http2_keep_alive_interval(Duration::from_secs(10))
        .keep_alive_timeout(Duration::from_secs(20)))
}

/// A client of the namenode at `addr`; connects on first use.
pub fn namenode_client(addr: &str, secret: &Secret) -> Result<NameNodeConn> {
    let channel = endpoint(addr)?.connect_lazy();
    Ok(namenode::name_node_client::NameNodeClient::with_interceptor(channel, secret.clone())
        .max_decoding_message_size(MAX_MESSAGE))
}

/// A client of a datanode over `channel`.
pub fn datanode_client(channel: Channel, secret: &Secret) -> DataNodeConn {
    datanode::data_node_client::DataNodeClient::with_interceptor(channel, secret.clone())
        .max_decoding_message_size(MAX_MESSAGE)
}

/// A tonic server with this crate's flow-control windows.
pub fn server() -> tonic::transport::Server {
    tonic::transport::Server::builder()
        .tcp_nodelay(true)
        .initial_stream_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .max_frame_size(FRAME)
}

/// A node's check of each request: refused once `alive` is false (the node
/// was stopped; in-process tests "kill" nodes this way, since open
/// connections would outlive the server task), else checked by `guard`.
/// Returns the interceptor and the flag.
#[allow(clippy::type_complexity)]
pub fn gate(
    guard: crate::secret::Guard,
    alive: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> (impl tonic::service::Interceptor + Clone + Send + Sync + 'static, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    let flag = alive.clone();
    let mut guard = guard;
    let check = move |request: tonic::Request<()>| {
        if !flag.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(tonic::Status::unavailable("the node is stopped"));
        }
        tonic::service::Interceptor::call(&mut guard, request)
    };
    (check, alive)
}

pub use crate::error::status;
