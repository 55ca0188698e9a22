//! Reading a byte range of a file as a stream of chunks. A task reads ahead
//! of the consumer (a few chunks, plus what HTTP/2 flow control lets the
//! datanode send), block after block. A replica that fails, at the start or
//! in the middle of a block, is left for the next one, which carries on from
//! the byte where the last one stopped; a replica that fails its checksums
//! is reported to the namenode.
//!
//! Short-circuit reads (as HDFS's): a replica on this machine is read
//! straight from its block file, checksums verified here, after the
//! datanode says where it is; if that fails for any reason but corruption
//! the replica is streamed as usual. `HIVEQL_DFS_SHORT_CIRCUIT=0` turns
//! them off.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use tokio::sync::mpsc;

use super::status::Located;
use crate::block::read_verified;
use crate::error::{Result, StorageError};
use crate::rpc::NameNodeConn;
use crate::rpc::messages::{CorruptRequest, PathRequest, ReadRequest};
use crate::rpc::pool::DataNodes;

/// Chunks read ahead of the consumer.
const READ_AHEAD: usize = 4;
/// Bytes per chunk of a short-circuit read.
const LOCAL_CHUNK: u64 = 1 << 20;

/// Whether short-circuit reads are on (`HIVEQL_DFS_SHORT_CIRCUIT=0` turns them off).
pub fn short_circuit_default() -> bool {
    std::env::var("HIVEQL_DFS_SHORT_CIRCUIT").map_or(true, |v| v != "0" && v != "false")
}

/// Whether the datanode at `addr` is on this machine.
fn is_local(addr: &str) -> bool {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h).trim_matches(|c| c == '[' || c == ']');
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// How a read goes about it.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    /// Read replicas on this machine from their files.
    pub short_circuit: bool,
    /// How long a block with no readable replica is looked up again (a
    /// namenode that just restarted has not heard from its datanodes yet).
    pub retry_for: std::time::Duration,
}

/// Bytes `[offset, offset + len)` of the file `located` describes (cut at
/// its end).
pub fn read_stream(
    datanodes: DataNodes,
    namenode: NameNodeConn,
    located: Located,
    offset: u64,
    len: u64,
    opts: ReadOptions,
) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
    let (tx, mut rx) = mpsc::channel(READ_AHEAD);
    tokio::spawn(async move {
        let end = offset.saturating_add(len).min(located.file.len);
        for b in &located.blocks {
            let (bs, be) = (b.offset, b.offset + b.len);
            if be <= offset || bs >= end {
                continue;
            }
            let (mut pos, to) = (offset.max(bs) - bs, end.min(be) - bs);
            let mut locations = b.locations.clone();
            let mut backoff = super::Backoff::new(opts.retry_for);
            loop {
                let reading =
                    read_block(&datanodes, &namenode, b.block, &locations, &mut pos, to, opts.short_circuit, &tx).await;
                match reading {
                    Ok(()) => break,
                    Err(e) if e.is_transient() && backoff.pause().await => {
                        tracing::debug!(block = b.block, error = %e, "no replica could be read; locating the block again");
                        let again = namenode.clone().locate(PathRequest { path: located.file.path.clone() }).await;
                        if let Some(found) =
                            again.ok().and_then(|l| l.into_inner().blocks.into_iter().find(|x| x.block == b.block))
                        {
                            locations = found.locations;
                        }
                    }
                    Err(e) => {
                        // the consumer may be gone already; then nobody needs the error
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                }
            }
        }
    });
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// Read `[*pos, to)` of `block` from the replica files on this machine
/// that the datanode at `addr` names, advancing `*pos`.
async fn read_local(
    dn: &mut crate::rpc::DataNodeConn,
    block: u64,
    pos: &mut u64,
    to: u64,
    tx: &mpsc::Sender<Result<Bytes>>,
) -> Result<()> {
    let files = dn.local_block(ReadRequest { block, offset: 0, len: 0 }).await?.into_inner();
    let (data, meta) = (std::path::PathBuf::from(files.data_path), std::path::PathBuf::from(files.meta_path));
    let what = format!("block {block}");
    while *pos < to {
        let (d, m, w, at, n) = (data.clone(), meta.clone(), what.clone(), *pos, LOCAL_CHUNK.min(to - *pos));
        let chunk = tokio::task::spawn_blocking(move || read_verified(&d, &m, &w, files.len, at, n))
            .await
            .map_err(|e| StorageError::Unavailable(e.to_string()))??;
        if chunk.len() as u64 != n {
            return Err(StorageError::Corrupt(format!("{what}: {} of {n} bytes at {at}", chunk.len())));
        }
        *pos += n;
        if tx.send(Ok(Bytes::from(chunk))).await.is_err() {
            *pos = to; // the consumer went away
        }
    }
    Ok(())
}

/// Tell the namenode that `addr` holds a corrupt replica of `block` (it
/// re-replicates from a good one). A report that does not arrive is made
/// good by the block scanner or the next reader.
async fn report_corrupt(namenode: &NameNodeConn, block: u64, addr: &str) {
    if let Err(e) = namenode.clone().report_corrupt(CorruptRequest { block, addr: addr.to_string() }).await {
        tracing::warn!(block, addr, error = %StorageError::from(e), "reporting a corrupt replica failed");
    }
}

/// Send bytes `[*pos, to)` of `block` to `tx`, replica after replica until
/// they are all sent. `Ok` also when the consumer went away.
#[allow(clippy::too_many_arguments)]
async fn read_block(
    datanodes: &DataNodes,
    namenode: &NameNodeConn,
    block: u64,
    locations: &[String],
    pos: &mut u64,
    to: u64,
    short_circuit: bool,
    tx: &mpsc::Sender<Result<Bytes>>,
) -> Result<()> {
    let mut last = StorageError::Unavailable(format!("block {block} has no live replica"));
    // replicas on this machine first
    let mut order: Vec<&String> = locations.iter().collect();
    if short_circuit {
        order.sort_by_key(|a| !is_local(a));
    }
    for addr in order {
        let mut dn = datanodes.get(addr)?;
        if short_circuit && is_local(addr) {
            match read_local(&mut dn, block, pos, to, tx).await {
                Ok(()) => return Ok(()),
                Err(e @ (StorageError::Corrupt(_) | StorageError::ChecksumMismatch { .. })) => {
                    report_corrupt(namenode, block, addr).await;
                    last = e;
                    continue;
                }
                Err(_) => {} // not readable from here: stream it
            }
        }
        let failure = match dn.read_block(ReadRequest { block, offset: *pos, len: to - *pos }).await {
            Err(e) => StorageError::from(e),
            Ok(reply) => {
                let mut chunks = reply.into_inner();
                loop {
                    match chunks.next().await {
                        Some(Ok(c)) => {
                            *pos += c.data.len() as u64;
                            if tx.send(Ok(c.data)).await.is_err() {
                                return Ok(());
                            }
                        }
                        Some(Err(e)) => break StorageError::from(e),
                        None if *pos == to => return Ok(()),
                        None => {
                            break StorageError::Corrupt(format!(
                                "block {block} on {addr} ended at byte {pos} of {to}"
                            ));
                        }
                    }
                }
            }
        };
        match &failure {
            StorageError::Corrupt(_) => report_corrupt(namenode, block, addr).await,
            StorageError::Unavailable(_) => datanodes.forget(addr),
            _ => {}
        }
        last = failure;
    }
    Err(last)
}
