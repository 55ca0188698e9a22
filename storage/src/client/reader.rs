//! Reading a byte range of a file as a stream of chunks. A task reads ahead
//! of the consumer (a few chunks, plus what HTTP/2 flow control lets the
//! datanode send), block after block. A replica that fails, at the start or
//! in the middle of a block, is left for the next one, which carries on from
//! the byte where the last one stopped; a replica that fails its checksums
//! is reported to the namenode.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use tokio::sync::mpsc;

use crate::error::{Result, StorageError};
use crate::rpc::NameNodeConn;
use crate::rpc::messages::{CorruptRequest, Located, ReadRequest};
use crate::rpc::pool::DataNodes;

/// Chunks read ahead of the consumer.
const READ_AHEAD: usize = 8;

/// Bytes `[offset, offset + len)` of the file `located` describes (cut at
/// its end).
pub fn read_stream(
    datanodes: DataNodes,
    namenode: NameNodeConn,
    located: Located,
    offset: u64,
    len: u64,
) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
    let (tx, mut rx) = mpsc::channel(READ_AHEAD);
    tokio::spawn(async move {
        let end = offset.saturating_add(len).min(located.status.len);
        for b in &located.blocks {
            let (bs, be) = (b.offset, b.offset + b.len);
            if be <= offset || bs >= end {
                continue;
            }
            let (from, to) = (offset.max(bs) - bs, end.min(be) - bs);
            let reading = read_block(&datanodes, &namenode, b.block, &b.locations, from, to, &tx).await;
            if let Err(e) = reading {
                let _ = tx.send(Err(e)).await;
                return;
            }
        }
    });
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// Send bytes `[from, to)` of `block` to `tx`, replica after replica until
/// they are all sent. `Ok` also when the consumer went away.
async fn read_block(
    datanodes: &DataNodes,
    namenode: &NameNodeConn,
    block: u64,
    locations: &[String],
    from: u64,
    to: u64,
    tx: &mpsc::Sender<Result<Bytes>>,
) -> Result<()> {
    let mut pos = from;
    let mut last = StorageError::Unavailable(format!("block {block} has no live replica"));
    for addr in locations {
        let mut dn = datanodes.get(addr)?;
        let failure = match dn.read_block(ReadRequest { block, offset: pos, len: to - pos }).await {
            Err(e) => StorageError::from(e),
            Ok(reply) => {
                let mut chunks = reply.into_inner();
                loop {
                    match chunks.next().await {
                        Some(Ok(c)) => {
                            pos += c.data.len() as u64;
                            if tx.send(Ok(c.data)).await.is_err() {
                                return Ok(());
                            }
                        }
                        Some(Err(e)) => break StorageError::from(e),
                        None if pos == to => return Ok(()),
                        None => {
                            break StorageError::Corrupt(format!("block {block} on {addr} ended at byte {pos} of {to}"));
                        }
                    }
                }
            }
        };
        match &failure {
            StorageError::Corrupt(_) => {
                let _ = namenode.clone().report_corrupt(CorruptRequest { block, addr: addr.clone() }).await;
            }
            StorageError::Unavailable(_) => datanodes.forget(addr),
            _ => {}
        }
        last = failure;
    }
    Err(last)
}
