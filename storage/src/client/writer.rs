//! [`FileWriter`]: a file written as a stream. Bytes are cut into packets
//! and blocks; each block streams through its pipeline of datanodes while
//! the writer goes on, and is acknowledged when every node in the pipeline
//! has it on disk.
//!
//! Pipeline recovery: the packets of the block in flight are kept until its
//! acknowledgement. If the pipeline fails (its first datanode dies, runs out
//! of space, ...), the writer abandons the block, asks the namenode for a
//! new one on other datanodes (excluding the failed one) and sends the
//! packets again. (A node failing further down is dropped by the pipeline
//! itself; the namenode re-replicates the block later.) Until
//! [`FileWriter::close`] the file is open and its lease held; a writer
//! dropped without `close` leaves the file to lease recovery, which keeps
//! its complete blocks.

use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::DfsClient;
use crate::error::{Result, StorageError};
use crate::rpc::messages::*;
use crate::rpc::pool::DataNodes;

/// Bytes per write packet.
pub const PACKET: usize = 1 << 20;
/// Writes smaller than this are gathered into packets.
const SMALL_WRITE: usize = 64 << 10;
/// Packets in flight to the first datanode.
const IN_FLIGHT: usize = 8;
/// New pipelines a block may be given after failures.
const RETRIES: usize = 3;
/// How often an open file's lease is renewed (well within the namenode's
/// lease limit, a minute by default), however slowly it is written.
const RENEW_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// A block being written.
struct BlockInFlight {
    located: LocatedBlock,
    tx: Option<mpsc::Sender<WritePacket>>,
    call: JoinHandle<Result<WriteAck>>,
    /// Its packets so far, for a new pipeline if this one fails.
    sent: Vec<Bytes>,
    len: u64,
}

/// Start writing `block` through the pipeline `located.locations`.
fn start_block(datanodes: &DataNodes, located: LocatedBlock) -> Result<BlockInFlight> {
    let (first, rest) = located
        .locations
        .split_first()
        .ok_or_else(|| StorageError::Unavailable(format!("no datanodes for block {}", located.block)))?;
    let mut dn = datanodes.get(first)?;
    let (tx, mut rx) = mpsc::channel(IN_FLIGHT);
    let header = WritePacket { block: located.block, downstream: rest.to_vec(), data: Bytes::new(), last: false };
    tx.try_send(header).expect("a new channel has room");
    let packets = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let call = tokio::spawn(async move { Ok(dn.write_block(packets).await?.into_inner()) });
    Ok(BlockInFlight { located, tx: Some(tx), call, sent: Vec::new(), len: 0 })
}

impl BlockInFlight {
    /// Queue a packet; a closed pipeline is noticed at [`BlockInFlight::finish`].
    async fn send(&mut self, data: Bytes) {
        self.len += data.len() as u64;
        self.sent.push(data.clone());
        if let Some(tx) = &self.tx
            && tx.send(WritePacket { block: 0, downstream: vec![], data, last: false }).await.is_err()
        {
            self.tx = None;
        }
    }

    /// End the block; the pipeline's acknowledgement.
    async fn finish(&mut self) -> Result<WriteAck> {
        if let Some(tx) = self.tx.take() {
            let end = WritePacket { block: 0, downstream: vec![], data: Bytes::new(), last: true };
            let _ = tx.send(end).await;
        }
        let ack = (&mut self.call)
            .await
            .map_err(|e| StorageError::Unavailable(format!("block {} write task: {e}", self.located.block)))??;
        if ack.len != self.len {
            return Err(StorageError::Corrupt(format!(
                "block {} stored {} of {} bytes",
                self.located.block, ack.len, self.len
            )));
        }
        Ok(ack)
    }
}

/// A file open for writing.
pub struct FileWriter {
    client: DfsClient,
    path: String,
    block_size: u64,
    /// Small writes gathered into the next packet.
    pending: BytesMut,
    block: Option<BlockInFlight>,
    /// Lengths of the acknowledged blocks.
    lengths: Vec<u64>,
    /// Datanodes that failed a pipeline of this file.
    excluded: Vec<String>,
    closed: bool,
    /// Renews the lease while the file is open.
    renewer: JoinHandle<()>,
}

impl std::fmt::Debug for FileWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileWriter").field("path", &self.path).field("blocks", &self.lengths.len()).finish()
    }
}

impl FileWriter {
    /// Create `path` (taking its lease) and open it for writing.
    pub(super) async fn create(client: DfsClient, path: &str, overwrite: bool) -> Result<FileWriter> {
        let owner = std::env::var("USER").unwrap_or_else(|_| "hive".into());
        let create = CreateRequest {
            path: path.into(),
            client: client.client.clone(),
            owner,
            replication: client.replication.into(),
            block_size: client.block_size,
            overwrite,
        };
        // The reply is the new file: its block size is the namenode's default unless asked.
        let created =
            super::retrying(&client.namenode, client.retry_for, false, "create", create, |mut nn, r| async move {
                nn.create(r).await
            })
            .await?;
        let block_size = created.block_size.max(1);
        let (mut namenode, holder) = (client.namenode.clone(), client.client.clone());
        let renewer = tokio::spawn(async move {
            loop {
                tokio::time::sleep(RENEW_EVERY).await;
                // a missed renewal is made good by the next one, well within the lease limit
                if let Err(e) = namenode.renew_lease(RenewLeaseRequest { client: holder.clone() }).await {
                    tracing::warn!(client = %holder, error = %StorageError::from(e), "lease renewal failed");
                }
            }
        });
        Ok(FileWriter {
            client,
            path: path.to_string(),
            block_size,
            pending: BytesMut::new(),
            block: None,
            lengths: Vec::new(),
            excluded: Vec::new(),
            closed: false,
            renewer,
        })
    }

    /// Append `data`.
    pub async fn write(&mut self, mut data: Bytes) -> Result<()> {
        if data.len() < SMALL_WRITE {
            self.pending.extend_from_slice(&data);
            if self.pending.len() >= PACKET {
                let packet = self.pending.split().freeze();
                self.send(packet).await?;
            }
            return Ok(());
        }
        self.flush().await?;
        while !data.is_empty() {
            let n = data.len().min(PACKET);
            self.send(data.split_to(n)).await?;
        }
        Ok(())
    }

    /// Send the bytes gathered from small writes down the pipeline (they
    /// are durable when their block is acknowledged).
    pub async fn flush(&mut self) -> Result<()> {
        if !self.pending.is_empty() {
            let packet = self.pending.split().freeze();
            self.send(packet).await?;
        }
        Ok(())
    }

    /// Send one packet, cut at the block boundary.
    async fn send(&mut self, mut data: Bytes) -> Result<()> {
        while !data.is_empty() {
            if self.block.is_none() {
                self.block = Some(self.new_block().await?);
            }
            let b = self.block.as_mut().expect("a block in flight");
            let room = (self.block_size - b.len) as usize;
            let part = data.split_to(room.min(data.len()));
            b.send(part).await;
            if b.len == self.block_size {
                self.finish_block().await?;
            }
        }
        Ok(())
    }

    async fn new_block(&mut self) -> Result<BlockInFlight> {
        let req = AddBlockRequest {
            path: self.path.clone(),
            client: self.client.client.clone(),
            writer: None,
            excluded: self.excluded.clone(),
        };
        let (nn, retry_for) = (&self.client.namenode, self.client.retry_for);
        let located =
            super::retrying(nn, retry_for, false, "add_block", req, |mut nn, r| async move { nn.add_block(r).await })
                .await?;
        start_block(&self.client.datanodes, located)
    }

    /// Wait for the block in flight to be acknowledged, moving it to a new
    /// pipeline if this one fails.
    async fn finish_block(&mut self) -> Result<()> {
        let Some(mut b) = self.block.take() else { return Ok(()) };
        let mut failures = Vec::new();
        loop {
            match b.finish().await {
                Ok(ack) => {
                    self.lengths.push(ack.len);
                    return Ok(());
                }
                Err(e) if failures.len() < RETRIES && !matches!(e, StorageError::Refused(_)) => {
                    let first = b.located.locations.first().cloned().unwrap_or_default();
                    failures.push(format!("{first}: {e}"));
                    self.client.datanodes.forget(&first);
                    self.excluded.push(first);
                    let abandon = AbandonBlockRequest {
                        path: self.path.clone(),
                        client: self.client.client.clone(),
                        block: b.located.block,
                    };
                    self.client.namenode.abandon_block(abandon).await?;
                    let sent = std::mem::take(&mut b.sent);
                    b = self.new_block().await?;
                    for p in sent {
                        b.send(p).await;
                    }
                }
                Err(e) => {
                    let tried =
                        if failures.is_empty() { String::new() } else { format!(" (after {})", failures.join("; ")) };
                    return Err(StorageError::Unavailable(format!(
                        "writing block {} of {}: {e}{tried}",
                        b.located.block, self.path
                    )));
                }
            }
        }
    }

    /// The datanodes of the block being written, first first (none between blocks).
    pub fn pipeline(&self) -> Option<&[String]> {
        self.block.as_ref().map(|b| b.located.locations.as_slice())
    }

    /// Write what is left, wait for every block's acknowledgement and close
    /// the file (its lease ends).
    pub async fn close(&mut self) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        self.flush().await?;
        self.finish_block().await?;
        let complete = CompleteRequest {
            path: self.path.clone(),
            client: self.client.client.clone(),
            lengths: self.lengths.clone(),
        };
        let (nn, retry_for) = (&self.client.namenode, self.client.retry_for);
        super::retrying(nn, retry_for, false, "complete", complete, |mut nn, r| async move { nn.complete(r).await })
            .await?;
        self.closed = true;
        self.renewer.abort();
        Ok(())
    }

    /// Give up: cut off the block in flight (its replicas are discarded) and
    /// delete the file.
    pub async fn abort(&mut self) -> Result<()> {
        if let Some(b) = self.block.take() {
            b.call.abort();
        }
        self.closed = true;
        self.renewer.abort();
        self.client.delete(&self.path, false).await
    }
}

impl Drop for FileWriter {
    fn drop(&mut self) {
        self.renewer.abort(); // the lease expires; the namenode recovers the file
        if let Some(b) = &self.block {
            b.call.abort(); // no `last` packet: the datanodes discard the replica
        }
    }
}

/// Write `data` as block `block` through the pipeline `locations` (the
/// namenode's re-replication: a datanode copies a block to others).
pub async fn write_block(datanodes: &DataNodes, block: u64, locations: &[String], data: Bytes) -> Result<WriteAck> {
    let located = LocatedBlock { block, offset: 0, len: 0, locations: locations.to_vec(), corrupt: vec![] };
    let mut b = start_block(datanodes, located)?;
    let mut data = data;
    while !data.is_empty() {
        let n = data.len().min(PACKET);
        b.send(data.split_to(n)).await;
    }
    b.finish().await
}
