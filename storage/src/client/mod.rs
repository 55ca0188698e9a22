//! [`DfsClient`]: what a program uses to read and write files in the block
//! store. Namespace calls go to the namenode; a file is written as a stream
//! ([`writer::FileWriter`]), block by block, each through a pipeline of
//! datanodes the namenode chose; it is read as a stream
//! ([`reader::read_stream`]) from the first replica of each block that
//! answers (any error moves on to the next replica, so a dead datanode or a
//! corrupt replica does not fail the read).

pub mod reader;
pub mod writer;

use bytes::Bytes;
use futures::{Stream, TryStreamExt};

use crate::error::Result;
use crate::rpc::messages::*;
use crate::rpc::pool::DataNodes;
use crate::rpc::{NameNodeConn, namenode_client};
use crate::secret::Secret;
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
        })
    }

    pub async fn mkdirs(&mut self, path: &str) -> Result<()> {
        self.namenode.mkdirs(PathRequest { path: path.into() }).await?;
        Ok(())
    }

    pub async fn stat(&mut self, path: &str) -> Result<PathStatus> {
        Ok(self.namenode.stat(PathRequest { path: path.into() }).await?.into_inner())
    }

    pub async fn list(&mut self, path: &str) -> Result<Vec<PathStatus>> {
        Ok(self.namenode.list(PathRequest { path: path.into() }).await?.into_inner().entries)
    }

    pub async fn rename(&mut self, src: &str, dst: &str) -> Result<()> {
        self.namenode.rename(RenameRequest { src: src.into(), dst: dst.into() }).await?;
        Ok(())
    }

    pub async fn delete(&mut self, path: &str, recursive: bool) -> Result<()> {
        self.namenode.delete(DeleteRequest { path: path.into(), recursive }).await?;
        Ok(())
    }

    pub async fn set_replication(&mut self, path: &str, replication: u16) -> Result<()> {
        self.namenode.set_replication(SetReplicationRequest { path: path.into(), replication }).await?;
        Ok(())
    }

    /// The state of the cluster (`dfsadmin -report`).
    pub async fn report(&mut self) -> Result<ClusterReport> {
        Ok(self.namenode.report(Empty {}).await?.into_inner())
    }

    /// Safe mode: ask (`Get`), enter or leave it; why it is on, if it is.
    pub async fn safe_mode(&mut self, action: SafeModeRequest) -> Result<Option<String>> {
        Ok(self.namenode.safe_mode(action).await?.into_inner().reason)
    }

    /// The file `path` and where its blocks are.
    pub async fn locate(&mut self, path: &str) -> Result<Located> {
        Ok(self.namenode.locate(PathRequest { path: path.into() }).await?.into_inner())
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
        reader::read_stream(self.datanodes.clone(), self.namenode.clone(), located, offset, len, self.short_circuit)
    }

    /// Bytes `[offset, offset + len)` of file `path` (cut at its end).
    pub async fn read_range(&mut self, path: &str, offset: u64, len: u64) -> Result<Vec<u8>> {
        let located = self.locate(path).await?;
        let end = offset.saturating_add(len).min(located.status.len);
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
