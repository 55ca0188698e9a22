//! The datanode's RPC service: block writes through a pipeline and
//! checksum-verified block reads.
//!
//! A write arrives as a stream of packets; the first names the block and the
//! datanodes after this one, the last says so (`last`). Each packet is
//! written here and forwarded to the next datanode, whose own write forwards
//! further. When the last packet is in, this node makes its replica durable,
//! waits for the rest of the pipeline's answer, and acknowledges with every
//! node that has the block on disk. A downstream node that fails is dropped
//! from the pipeline; the write goes on with the rest (the namenode
//! re-replicates the block later). A stream that breaks off, or ends without
//! its last packet, leaves no replica here or downstream.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use tokio::sync::mpsc;
use tonic::{Request, Response, Status, Streaming};

use super::blocks::{BlockStore, BlockWriter};
use crate::rpc::datanode::data_node_server::DataNode;
use crate::rpc::messages::{BlockReceivedRequest, DataChunk, LocalBlock, ReadRequest, WriteAck, WritePacket};
use crate::rpc::pool::DataNodes;
use crate::rpc::{DataNodeConn, NameNodeConn, status};

/// Bytes per read response message.
const READ_CHUNK: u64 = 2 << 20;
/// Packets queued for the next datanode.
const FORWARD_QUEUE: usize = 8;

/// A datanode serving one block store.
#[derive(Debug, Clone)]
pub struct DataNodeService {
    store: BlockStore,
    /// This node's id and address (what it registered with).
    id: String,
    addr: String,
    /// Where finished replicas are reported.
    namenode: Option<NameNodeConn>,
    /// Connections to the next datanodes of pipelines.
    datanodes: DataNodes,
    /// False once the node is stopped: every call fails from then on.
    alive: Arc<AtomicBool>,
    /// Bytes this node may hold, and holds (finished and being written).
    capacity: u64,
    used: Arc<AtomicU64>,
}

impl DataNodeService {
    pub fn new(
        store: BlockStore,
        id: String,
        addr: String,
        namenode: Option<NameNodeConn>,
        datanodes: DataNodes,
        capacity: u64,
    ) -> crate::Result<Self> {
        let used = Arc::new(AtomicU64::new(store.used()?));
        Ok(DataNodeService {
            store,
            id,
            addr,
            namenode,
            datanodes,
            alive: Arc::new(AtomicBool::new(true)),
            capacity,
            used,
        })
    }

    /// The flag that stops this service (see [`super::Running::kill`]).
    pub fn alive(&self) -> Arc<AtomicBool> {
        self.alive.clone()
    }

    /// Bytes held (finished and being written).
    pub fn used(&self) -> Arc<AtomicU64> {
        self.used.clone()
    }

    fn check_alive(&self) -> Result<(), Status> {
        if self.alive.load(Ordering::Relaxed) {
            Ok(())
        } else {
            Err(Status::unavailable(format!("datanode {} is stopped", self.addr)))
        }
    }

    async fn report_received(&self, block: u64, len: u64) {
        let Some(nn) = &self.namenode else { return };
        // a lost report is made good by the next full block report
        if let Err(e) = nn.clone().block_received(BlockReceivedRequest { id: self.id.clone(), block, len }).await {
            tracing::warn!(block, error = %e, "reporting a received block to the namenode failed");
        }
    }

    /// Take room for `n` more bytes, or say there is none.
    fn reserve(&self, block: u64, n: u64) -> Result<(), Status> {
        let before = self.used.fetch_add(n, Ordering::Relaxed);
        if before + n > self.capacity {
            self.used.fetch_sub(n, Ordering::Relaxed);
            return Err(status(crate::StorageError::NoSpace(format!(
                "datanode {} cannot take block {block}: {} of its {} bytes are used",
                self.addr, before, self.capacity
            ))));
        }
        Ok(())
    }

    /// Give a replica being written up, and its room back.
    fn discard(&self, writer: BlockWriter, downstream: &Option<tokio::task::JoinHandle<Option<WriteAck>>>) {
        if let Some(h) = downstream {
            h.abort();
        }
        self.used.fetch_sub(writer.len(), Ordering::Relaxed);
        writer.abort();
    }
}

/// Run blocking file work on tokio's blocking pool.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, Status> {
    tokio::task::spawn_blocking(f).await.map_err(|e| Status::internal(format!("replica I/O task: {e}")))
}

/// Send packets to the next datanode; its answer, or None if it failed.
fn forward(mut client: DataNodeConn, mut rx: mpsc::Receiver<WritePacket>) -> tokio::task::JoinHandle<Option<WriteAck>> {
    tokio::spawn(async move {
        let packets = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
        client.write_block(packets).await.ok().map(Response::into_inner)
    })
}

#[tonic::async_trait]
impl DataNode for DataNodeService {
    async fn write_block(&self, request: Request<Streaming<WritePacket>>) -> Result<Response<WriteAck>, Status> {
        self.check_alive()?;
        let mut packets = request.into_inner();
        let first = packets.message().await?.ok_or_else(|| Status::invalid_argument("empty block write"))?;
        let block = first.block;
        if block == 0 {
            return Err(Status::invalid_argument("a block write must name its block first"));
        }
        let mut writer = self.store.create(block).map_err(status)?;
        let (mut tx, downstream) = match first.downstream.split_first() {
            Some((next, rest)) => {
                let (tx, rx) = mpsc::channel(FORWARD_QUEUE);
                let client = self.datanodes.get(next).map_err(status)?;
                let handle = forward(client, rx);
                let header = WritePacket { block, downstream: rest.to_vec(), data: Bytes::new(), last: false };
                let tx = tx.send(header).await.ok().map(|_| tx);
                (tx, Some(handle))
            }
            None => (None, None),
        };
        let mut next = Some(first);
        let mut complete = false;
        loop {
            let packet = match next.take() {
                Some(p) => p,
                None => match packets.message().await {
                    Ok(Some(p)) => p,
                    Ok(None) => break,
                    Err(e) => {
                        self.discard(writer, &downstream);
                        return Err(e);
                    }
                },
            };
            if let Err(e) = self.check_alive() {
                self.discard(writer, &downstream);
                return Err(e);
            }
            let data = packet.data;
            // downstream first, so the next node writes while this one does
            if let Some(t) = &tx
                && t.send(WritePacket { block: 0, downstream: vec![], data: data.clone(), last: packet.last })
                    .await
                    .is_err()
            {
                tx = None; // the next node is gone: go on without it
            }
            if !data.is_empty() {
                if let Err(e) = self.reserve(block, data.len() as u64) {
                    self.discard(writer, &downstream);
                    return Err(e);
                }
                let n = data.len() as u64;
                // replica writes block on the disk: off the async workers
                let (back, written) = blocking(move || {
                    let r = writer.write(&data);
                    (writer, r)
                })
                .await?;
                writer = back;
                if let Err(e) = written {
                    self.used.fetch_sub(n, Ordering::Relaxed);
                    self.discard(writer, &downstream);
                    return Err(status(e));
                }
            }
            if packet.last {
                complete = true;
                break;
            }
        }
        if !complete {
            self.discard(writer, &downstream);
            return Err(Status::cancelled(format!("the write of block {block} ended without its last packet")));
        }
        drop(tx);
        let len = match blocking(move || writer.finish()).await? {
            Ok(len) => len,
            Err(e) => {
                if let Some(h) = &downstream {
                    h.abort();
                }
                return Err(status(e));
            }
        };
        let mut stored_on = vec![self.addr.clone()];
        if let Some(handle) = downstream
            && let Ok(Some(ack)) = handle.await
            && ack.len == len
        {
            stored_on.extend(ack.stored_on);
        }
        self.report_received(block, len).await;
        Ok(Response::new(WriteAck { len, stored_on }))
    }

    async fn local_block(&self, request: Request<ReadRequest>) -> Result<Response<LocalBlock>, Status> {
        self.check_alive()?;
        let (data, meta, len) = self.store.files(request.into_inner().block).map_err(status)?;
        Ok(Response::new(LocalBlock {
            data_path: data.display().to_string(),
            meta_path: meta.display().to_string(),
            len,
        }))
    }

    type ReadBlockStream = Pin<Box<dyn Stream<Item = Result<DataChunk, Status>> + Send>>;

    async fn read_block(&self, request: Request<ReadRequest>) -> Result<Response<Self::ReadBlockStream>, Status> {
        self.check_alive()?;
        let r = request.into_inner();
        let size = self.store.len(r.block).map_err(status)?;
        let end = r.offset.saturating_add(r.len).min(size);
        if r.offset > size {
            return Err(Status::invalid_argument(format!("offset {} past the end of block {}", r.offset, r.block)));
        }
        let service = self.clone();
        let block = r.block;
        let chunks = futures::stream::unfold(r.offset, move |pos| {
            let service = service.clone();
            async move {
                if pos >= end {
                    return None;
                }
                let n = READ_CHUNK.min(end - pos);
                let item = match service.check_alive() {
                    Err(e) => Err(e),
                    Ok(()) => {
                        let store = service.store.clone();
                        match blocking(move || store.read(block, pos, n)).await {
                            Ok(read) => read.map(|d| DataChunk { data: Bytes::from(d) }).map_err(status),
                            Err(e) => Err(e),
                        }
                    }
                };
                let next = if item.is_ok() { pos + n } else { end };
                Some((item, next))
            }
        });
        Ok(Response::new(chunks.boxed()))
    }
}
