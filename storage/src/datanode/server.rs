//! The datanode's RPC service: block writes through a pipeline and
//! checksum-verified block reads.
//!
//! A write arrives as a stream of packets; the first names the block and the
//! datanodes after this one. Each packet is written here and forwarded to
//! the next datanode, whose own write forwards further. When the stream ends
//! this node makes its replica durable, waits for the rest of the pipeline's
//! answer, and acknowledges with every node that has the block on disk. A
//! downstream node that fails is dropped from the pipeline; the write goes
//! on with the rest (the namenode re-replicates the block later).

use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use tokio::sync::mpsc;
use tonic::{Request, Response, Status, Streaming};

use super::blocks::BlockStore;
use crate::rpc::datanode::data_node_client::DataNodeClient;
use crate::rpc::datanode::data_node_server::DataNode;
use crate::rpc::messages::{BlockReceivedRequest, DataChunk, ReadRequest, WriteAck, WritePacket};
use crate::rpc::namenode::name_node_client::NameNodeClient;
use crate::rpc::status;

/// Bytes per read response message.
const READ_CHUNK: u64 = 256 << 10;

/// A datanode serving one block store.
#[derive(Debug, Clone)]
pub struct DataNodeService {
    store: BlockStore,
    /// This node's id and address (what it registered with).
    id: String,
    addr: String,
    /// Where finished replicas are reported.
    namenode: Option<String>,
}

impl DataNodeService {
    pub fn new(store: BlockStore, id: String, addr: String, namenode: Option<String>) -> Self {
        DataNodeService { store, id, addr, namenode }
    }

    async fn report_received(&self, block: u64, len: u64) {
        let Some(nn) = &self.namenode else { return };
        if let Ok(mut c) = NameNodeClient::connect(format!("http://{nn}")).await {
            let _ = c.block_received(BlockReceivedRequest { id: self.id.clone(), block, len }).await;
        }
    }
}

/// Send packets to the next datanode; its answer, or None if it failed.
fn forward(next: String, rx: mpsc::Receiver<WritePacket>) -> tokio::task::JoinHandle<Option<WriteAck>> {
    tokio::spawn(async move {
        let mut client = DataNodeClient::connect(format!("http://{next}")).await.ok()?;
        let packets = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|p| (p, rx)) });
        client.write_block(packets).await.ok().map(Response::into_inner)
    })
}

#[tonic::async_trait]
impl DataNode for DataNodeService {
    async fn write_block(&self, request: Request<Streaming<WritePacket>>) -> Result<Response<WriteAck>, Status> {
        let mut packets = request.into_inner();
        let first = packets.message().await?.ok_or_else(|| Status::invalid_argument("empty block write"))?;
        let block = first.block;
        let mut writer = self.store.create(block).map_err(status)?;
        let (mut tx, downstream) = match first.downstream.split_first() {
            Some((next, rest)) => {
                let (tx, rx) = mpsc::channel(8);
                let handle = forward(next.clone(), rx);
                let header = WritePacket { block, downstream: rest.to_vec(), data: Bytes::new() };
                let tx = tx.send(header).await.ok().map(|_| tx);
                (tx, Some(handle))
            }
            None => (None, None),
        };
        let mut next = Some(first);
        loop {
            let packet = match next.take() {
                Some(p) => p,
                None => match packets.message().await {
                    Ok(Some(p)) => p,
                    Ok(None) => break,
                    Err(e) => {
                        // Cancel the downstream call too: a clean end of its
                        // stream would make it keep a partial replica.
                        if let Some(h) = &downstream {
                            h.abort();
                        }
                        writer.abort();
                        return Err(e);
                    }
                },
            };
            if packet.data.is_empty() {
                continue;
            }
            if let Err(e) = writer.write(&packet.data) {
                if let Some(h) = &downstream {
                    h.abort();
                }
                writer.abort();
                return Err(status(e));
            }
            if let Some(t) = &tx
                && t.send(WritePacket { block: 0, downstream: vec![], data: packet.data }).await.is_err()
            {
                tx = None; // the next node is gone: go on without it
            }
        }
        drop(tx);
        let len = writer.finish().map_err(status)?;
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

    type ReadBlockStream = Pin<Box<dyn Stream<Item = Result<DataChunk, Status>> + Send>>;

    async fn read_block(&self, request: Request<ReadRequest>) -> Result<Response<Self::ReadBlockStream>, Status> {
        let r = request.into_inner();
        let size = self.store.len(r.block).map_err(status)?;
        let end = r.offset.saturating_add(r.len).min(size);
        if r.offset > size {
            return Err(Status::invalid_argument(format!("offset {} past the end of block {}", r.offset, r.block)));
        }
        let store = Arc::new(self.store.clone());
        let block = r.block;
        let chunks = futures::stream::unfold(r.offset, move |pos| {
            let store = store.clone();
            async move {
                if pos >= end {
                    return None;
                }
                let n = READ_CHUNK.min(end - pos);
                let item = store.read(block, pos, n).map(|d| DataChunk { data: Bytes::from(d) }).map_err(status);
                let next = if item.is_ok() { pos + n } else { end };
                Some((item, next))
            }
        });
        Ok(Response::new(chunks.boxed()))
    }
}
