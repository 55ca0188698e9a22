//! [`DfsClient`]: what a program uses to read and write files in the block
//! store. Namespace calls go to the namenode; a file is written block by
//! block, each through a pipeline of datanodes the namenode chose, and read
//! block by block from the first replica that answers (any error moves on to
//! the next replica, so a dead datanode or a corrupt replica does not fail
//! the read).

use bytes::Bytes;
use futures::StreamExt;
use tonic::transport::Channel;

use crate::error::{Result, StorageError};
use crate::rpc::datanode::data_node_client::DataNodeClient;
use crate::rpc::messages::*;
use crate::rpc::namenode::name_node_client::NameNodeClient;

/// Bytes per write packet.
const PACKET: usize = 64 << 10;

/// A client of one cluster.
#[derive(Debug, Clone)]
pub struct DfsClient {
    namenode: NameNodeClient<Channel>,
    /// Identifies this client's leases.
    client: String,
    pub replication: u16,
    /// Block size of new files (0: the namenode's default).
    pub block_size: u64,
}

/// Write one block through the pipeline `locations`; the nodes that stored it.
pub async fn write_block(block: u64, locations: &[String], data: Bytes) -> Result<WriteAck> {
    let (first, rest) = locations.split_first().ok_or_else(|| StorageError::Unavailable("no datanodes".into()))?;
    let mut dn = DataNodeClient::connect(format!("http://{first}")).await?;
    let mut packets = vec![WritePacket { block, downstream: rest.to_vec(), data: Bytes::new() }];
    let mut pos = 0;
    while pos < data.len() {
        let end = (pos + PACKET).min(data.len());
        packets.push(WritePacket { block: 0, downstream: vec![], data: data.slice(pos..end) });
        pos = end;
    }
    Ok(dn.write_block(futures::stream::iter(packets)).await?.into_inner())
}

/// Bytes `[offset, offset + len)` of a block from the first replica that
/// answers; replicas that fail their checksums are reported to `namenode`.
pub async fn read_block(
    block: u64,
    locations: &[String],
    offset: u64,
    len: u64,
    namenode: Option<&mut NameNodeClient<Channel>>,
) -> Result<Vec<u8>> {
    let mut namenode = namenode;
    let mut last = StorageError::Unavailable(format!("block {block} has no live replica"));
    for addr in locations {
        let attempt = async {
            let mut dn = DataNodeClient::connect(format!("http://{addr}")).await?;
            let mut stream = dn.read_block(ReadRequest { block, offset, len }).await?.into_inner();
            let mut out = Vec::with_capacity(len as usize);
            while let Some(chunk) = stream.next().await {
                out.extend_from_slice(&chunk?.data);
            }
            Ok::<_, StorageError>(out)
        };
        match attempt.await {
            Ok(d) if d.len() as u64 == len => return Ok(d),
            Ok(d) => last = StorageError::Corrupt(format!("block {block} on {addr}: {} of {len} bytes", d.len())),
            Err(e) => {
                if let (StorageError::Corrupt(_), Some(nn)) = (&e, namenode.as_mut()) {
                    let _ = nn.report_corrupt(CorruptRequest { block, addr: addr.clone() }).await;
                }
                last = e;
            }
        }
    }
    Err(last)
}

impl DfsClient {
    /// Connect to the namenode at `addr` (`host:port`).
    pub async fn connect(addr: &str) -> Result<DfsClient> {
        let namenode = NameNodeClient::connect(format!("http://{addr}")).await?;
        Ok(Self::with_namenode(namenode))
    }

    /// A client that connects to the namenode at `addr` on first use.
    pub fn lazy(addr: &str) -> Result<DfsClient> {
        let channel = Channel::from_shared(format!("http://{addr}"))
            .map_err(|e| StorageError::Invalid(format!("namenode address {addr}: {e}")))?
            .connect_lazy();
        Ok(Self::with_namenode(NameNodeClient::new(channel)))
    }

    fn with_namenode(namenode: NameNodeClient<Channel>) -> DfsClient {
        let client = format!(
            "client-{}-{:x}",
            std::process::id(),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
        );
        DfsClient { namenode, client, replication: 3, block_size: 0 }
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

    /// Where the blocks of `path` are.
    pub async fn locate(&mut self, path: &str) -> Result<Located> {
        Ok(self.namenode.locate(PathRequest { path: path.into() }).await?.into_inner())
    }

    /// Write `data` as file `path`.
    pub async fn write(&mut self, path: &str, data: Bytes, overwrite: bool) -> Result<()> {
        let owner = std::env::var("USER").unwrap_or_else(|_| "hive".into());
        let create = CreateRequest {
            path: path.into(),
            client: self.client.clone(),
            owner,
            replication: self.replication,
            block_size: self.block_size,
            overwrite,
        };
        self.namenode.create(create).await?;
        let block_size = self.stat(path).await?.block_size.max(1) as usize;
        let mut lengths = Vec::new();
        let mut pos = 0;
        while pos < data.len() {
            let end = (pos + block_size).min(data.len());
            let req =
                AddBlockRequest { path: path.into(), client: self.client.clone(), writer: None, excluded: vec![] };
            let located = self.namenode.add_block(req).await?.into_inner();
            let ack = write_block(located.block, &located.locations, data.slice(pos..end)).await?;
            if ack.len != (end - pos) as u64 {
                return Err(StorageError::Corrupt(format!(
                    "block {} stored {} of {} bytes",
                    located.block,
                    ack.len,
                    end - pos
                )));
            }
            lengths.push(ack.len);
            pos = end;
        }
        self.namenode.complete(CompleteRequest { path: path.into(), client: self.client.clone(), lengths }).await?;
        Ok(())
    }

    /// Bytes `[offset, offset + len)` of file `path` (cut at its end).
    pub async fn read_range(&mut self, path: &str, offset: u64, len: u64) -> Result<Vec<u8>> {
        let located = self.locate(path).await?;
        let end = offset.saturating_add(len).min(located.len);
        let mut out = Vec::with_capacity(end.saturating_sub(offset) as usize);
        for b in &located.blocks {
            let (bs, be) = (b.offset, b.offset + b.len);
            if be <= offset || bs >= end {
                continue;
            }
            let from = offset.max(bs) - bs;
            let to = end.min(be) - bs;
            out.extend(read_block(b.block, &b.locations, from, to - from, Some(&mut self.namenode)).await?);
        }
        Ok(out)
    }

    /// The whole of file `path`.
    pub async fn read(&mut self, path: &str) -> Result<Vec<u8>> {
        self.read_range(path, 0, u64::MAX).await
    }
}
