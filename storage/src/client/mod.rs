//! [`DfsClient`]: what a program uses to read and write files in the block
//! store. Namespace calls go to the namenode; a file is written as a stream
//! ([`writer::FileWriter`]), block by block, each through a pipeline of
//! datanodes the namenode chose; it is read as a stream
//! ([`reader::read_stream`]) from the first replica of each block that
//! answers (any error moves on to the next replica, so a dead datanode or a
//! corrupt replica does not fail the read).
//!
//! A client waits out a restarting namenode, as HDFS clients do: a change
//! refused by start-up safe mode, a call that finds the namenode down (for
//! calls that may safely be sent twice), and a read of a block with no
//! reported replica yet are tried again with backoff for
//! [`DfsClient::retry_for`] (30 s by default, `HIVEQL_DFS_RETRY_SECS`)
//! before the error reaches the caller.

pub mod reader;
pub mod status;
pub mod writer;

use std::future::Future;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::{Stream, TryStreamExt};

use crate::error::{Result, StorageError};
use crate::rpc::messages::{DeleteRequest, Empty, PathRequest, RenameRequest, SafeModeRequest, SetReplicationRequest};
use crate::rpc::pool::DataNodes;
use crate::rpc::{NameNodeConn, namenode_client};
use crate::secret::Secret;
pub use status::{BlockLocation, ClusterReport, FileStatus, Located, NodeReport, SafeModeAction};
pub use writer::FileWriter;

/// A client of one cluster.
#[derive(Debug, Clone)]
pub struct DfsClient {
    namenode: NameNodeConn,
    datanodes: DataNodes,
    /// Identifies this client's leases.
    client: String,
    /// Replication factor of new files.
    pub replication: u16,
    /// Block size of new files (0: the namenode's default).
    pub block_size: u64,
    /// Read replicas on this machine straight from their block files.
    pub short_circuit: bool,
    /// How long to wait out a restarting namenode (see the module doc).
    pub retry_for: Duration,
}

/// The default of [`DfsClient::retry_for`]: `HIVEQL_DFS_RETRY_SECS`, else 30 s.
pub fn retry_default() -> Duration {
    let secs = std::env::var("HIVEQL_DFS_RETRY_SECS").ok().and_then(|v| v.trim().parse::<f64>().ok());
    Duration::from_secs_f64(secs.filter(|s| s.is_finite() && *s >= 0.0).unwrap_or(30.0))
}

/// Whether a failed call may be sent again after a pause: start-up safe
/// mode refused a change (nothing was done), or the node could not be
/// reached and the call is `idempotent`.
pub(crate) fn worth_retrying(e: &StorageError, idempotent: bool) -> bool {
    match e {
        StorageError::SafeMode { manual, .. } => !manual,
        StorageError::Unavailable(_) => idempotent,
        _ => false,
    }
}

/// The pauses between tries: 100 ms doubling to 2 s, until `retry_for`.
pub(crate) struct Backoff {
    deadline: Instant,
    wait: Duration,
}

impl Backoff {
    pub(crate) fn new(retry_for: Duration) -> Backoff {
        Backoff { deadline: Instant::now() + retry_for, wait: Duration::from_millis(100) }
    }

    /// Sleep before the next try; false when the time is up.
    pub(crate) async fn pause(&mut self) -> bool {
        if Instant::now() + self.wait > self.deadline {
            return false;
        }
        tokio::time::sleep(self.wait).await;
        self.wait = (self.wait * 2).min(Duration::from_secs(2));
        true
    }
}

/// Send `req` to the namenode with `call` until it succeeds, fails for
/// good, or `retry_for` is over.
pub(crate) async fn retrying<Req: Clone, T, Fut>(
    namenode: &NameNodeConn,
    retry_for: Duration,
    idempotent: bool,
    what: &str,
    req: Req,
    call: impl Fn(NameNodeConn, Req) -> Fut,
) -> Result<T>
where
    Fut: Future<Output = std::result::Result<tonic::Response<T>, tonic::Status>>,
{
    let mut backoff = Backoff::new(retry_for);
    loop {
        let e = match call(namenode.clone(), req.clone()).await {
            Ok(r) => return Ok(r.into_inner()),
            Err(status) => StorageError::from(status),
        };
        if !worth_retrying(&e, idempotent) || !backoff.pause().await {
            return Err(e);
        }
        tracing::debug!(call = what, error = %e, "namenode call refused; trying again");
    }
}

impl DfsClient {
    /// A client of the namenode at `addr` (`host:port`) sending `secret`;
    /// connects on first use.
    pub fn new(addr: &str, secret: Secret) -> Result<DfsClient> {
        let namenode = namenode_client(addr, &secret)?;
        let client = format!(
            "client-{}-{:x}",
            std::process::id(),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
        );
        Ok(DfsClient {
            namenode,
            datanodes: DataNodes::new(secret),
            client,
            replication: 3,
            block_size: 0,
            short_circuit: reader::short_circuit_default(),
            retry_for: retry_default(),
        })
    }

    pub async fn mkdirs(&mut self, path: &str) -> Result<()> {
        let req = PathRequest { path: path.into() };
        retrying(&self.namenode, self.retry_for, true, "mkdirs", req, |mut nn, r| async move { nn.mkdirs(r).await })
            .await?;
        Ok(())
    }

    pub async fn stat(&mut self, path: &str) -> Result<FileStatus> {
        let req = PathRequest { path: path.into() };
        retrying(&self.namenode, self.retry_for, true, "stat", req, |mut nn, r| async move { nn.stat(r).await })
            .await
            .map(FileStatus::from)
    }

    pub async fn list(&mut self, path: &str) -> Result<Vec<FileStatus>> {
        let req = PathRequest { path: path.into() };
        let listing =
            retrying(&self.namenode, self.retry_for, true, "list", req, |mut nn, r| async move { nn.list(r).await })
                .await?;
        Ok(listing.entries.into_iter().map(FileStatus::from).collect())
    }

    /// Rename `src` to `dst` (not sent twice after a lost connection: a
    /// second rename would fail on the first one's success).
    pub async fn rename(&mut self, src: &str, dst: &str) -> Result<()> {
        let req = RenameRequest { src: src.into(), dst: dst.into() };
        retrying(&self.namenode, self.retry_for, false, "rename", req, |mut nn, r| async move { nn.rename(r).await })
            .await?;
        Ok(())
    }

    pub async fn delete(&mut self, path: &str, recursive: bool) -> Result<()> {
        let req = DeleteRequest { path: path.into(), recursive };
        retrying(&self.namenode, self.retry_for, false, "delete", req, |mut nn, r| async move { nn.delete(r).await })
            .await?;
        Ok(())
    }

    pub async fn set_replication(&mut self, path: &str, replication: u16) -> Result<()> {
        let req = SetReplicationRequest { path: path.into(), replication: replication.into() };
        retrying(&self.namenode, self.retry_for, true, "set_replication", req, |mut nn, r| async move {
            nn.set_replication(r).await
        })
        .await?;
        Ok(())
    }

    /// The state of the cluster (`dfsadmin -report`).
    pub async fn report(&mut self) -> Result<ClusterReport> {
        Ok(self.namenode.report(Empty {}).await?.into_inner().into())
    }

    /// Safe mode: ask (`Get`), enter or leave it; why it is on, if it is.
    pub async fn safe_mode(&mut self, action: SafeModeAction) -> Result<Option<String>> {
        Ok(self.namenode.safe_mode(SafeModeRequest::from(action)).await?.into_inner().reason)
    }

    /// The file `path` and where its blocks are.
    pub async fn locate(&mut self, path: &str) -> Result<Located> {
        let req = PathRequest { path: path.into() };
        let located =
            retrying(
                &self.namenode,
                self.retry_for,
                true,
                "locate",
                req,
                |mut nn, r| async move { nn.locate(r).await },
            )
            .await?;
        let Some(file) = located.status else {
            return Err(StorageError::Rejected(format!("the namenode's reply for {path} has no file status")));
        };
        Ok(Located { file: file.into(), blocks: located.blocks.into_iter().map(BlockLocation::from).collect() })
    }

    /// Create file `path` for writing (replacing it if `overwrite`).
    pub async fn create(&mut self, path: &str, overwrite: bool) -> Result<FileWriter> {
        FileWriter::create(self.clone(), path, overwrite).await
    }

    /// Write `data` as file `path`.
    pub async fn write(&mut self, path: &str, data: Bytes, overwrite: bool) -> Result<()> {
        let mut w = self.create(path, overwrite).await?;
        w.write(data).await?;
        w.close().await
    }

    /// Bytes `[offset, offset + len)` of the file `located` describes (cut at
    /// its end), as a stream of chunks.
    pub fn read_stream(
        &self,
        located: Located,
        offset: u64,
        len: u64,
    ) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
        reader::read_stream(
            self.datanodes.clone(),
            self.namenode.clone(),
            located,
            offset,
            len,
            reader::ReadOptions { short_circuit: self.short_circuit, retry_for: self.retry_for },
        )
    }

    /// Bytes `[offset, offset + len)` of file `path` (cut at its end).
    pub async fn read_range(&mut self, path: &str, offset: u64, len: u64) -> Result<Vec<u8>> {
        let located = self.locate(path).await?;
        let end = offset.saturating_add(len).min(located.file.len);
        let mut out = Vec::with_capacity(end.saturating_sub(offset) as usize);
        let mut chunks = std::pin::pin!(self.read_stream(located, offset, len));
        while let Some(c) = chunks.try_next().await? {
            out.extend_from_slice(&c);
        }
        Ok(out)
    }

    /// The whole of file `path`.
    pub async fn read(&mut self, path: &str) -> Result<Vec<u8>> {
        self.read_range(path, 0, u64::MAX).await
    }
}
