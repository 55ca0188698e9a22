//! A whole cluster in one process: a namenode and `n` datanodes on
//! 127.0.0.1 ephemeral ports, each with its own directory under one root.
//! For tests, benchmarks and trying the block store on one machine.

use std::path::{Path, PathBuf};

use crate::datanode::{self, DataNodeConfig};
use crate::error::Result;
use crate::namenode::{self, server::NameNodeConfig};

/// A running local cluster.
#[derive(Debug)]
pub struct MiniCluster {
    pub namenode: namenode::Running,
    pub datanodes: Vec<datanode::Running>,
    /// The datanodes' data directories, in the order of `datanodes`.
    pub dirs: Vec<PathBuf>,
}

impl MiniCluster {
    /// Start a namenode in `root/nn` and `n` datanodes in `root/dnI`;
    /// `datanode(i)` gives datanode `i` its settings (rack, heartbeats).
    pub async fn start(
        root: &Path,
        n: usize,
        config: NameNodeConfig,
        datanode: impl Fn(usize) -> DataNodeConfig,
    ) -> Result<MiniCluster> {
        let any = "127.0.0.1:0".parse().expect("loopback address");
        let nn = namenode::serve(&root.join("nn"), any, config).await?;
        let addr = nn.addr.to_string();
        let mut datanodes = Vec::new();
        let mut dirs = Vec::new();
        for i in 0..n {
            let dir = root.join(format!("dn{i}"));
            datanodes.push(datanode::serve(&dir, any, &addr, datanode(i)).await?);
            dirs.push(dir);
        }
        Ok(MiniCluster { namenode: nn, datanodes, dirs })
    }

    /// `n` datanodes, each on its own rack, heartbeating every 300 ms, and
    /// a namenode with default settings: a small cluster for tests.
    pub async fn start_small(root: &Path, n: usize) -> Result<MiniCluster> {
        let node = |i| DataNodeConfig {
            rack: format!("/r{i}"),
            heartbeat_interval: std::time::Duration::from_millis(300),
            ..Default::default()
        };
        MiniCluster::start(root, n, NameNodeConfig::default(), node).await
    }

    /// The namenode's `host:port`.
    pub fn addr(&self) -> String {
        self.namenode.addr.to_string()
    }
}

impl Drop for MiniCluster {
    fn drop(&mut self) {
        for d in &self.datanodes {
            d.kill();
        }
        self.namenode.server.abort();
    }
}
