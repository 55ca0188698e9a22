//! A whole cluster in one process: a namenode and `n` datanodes on
//! 127.0.0.1 ephemeral ports, each with its own directory under one root.
//! For tests, benchmarks and trying the block store on one machine.

use std::path::{Path, PathBuf};

use crate::client::DfsClient;
use crate::datanode::{self, DataNodeConfig};
use crate::error::Result;
use crate::namenode::{self, server::NameNodeConfig};
use crate::object_store::DfsObjectStore;
use crate::secret::Secret;

/// A running local cluster.
#[derive(Debug)]
pub struct MiniCluster {
    pub namenode: namenode::Running,
    pub datanodes: Vec<datanode::Running>,
    /// The datanodes' data directories, in the order of `datanodes`.
    pub dirs: Vec<PathBuf>,
    /// The cluster secret every node requires.
    pub secret: Secret,
}

impl MiniCluster {
    /// Start a namenode in `root/nn` and `n` datanodes in `root/dnI`;
    /// `datanode(i)` gives datanode `i` its settings (rack, heartbeats).
    /// The cluster's secret is the namenode config's, or a new one
    /// (`root/cluster.secret`) when that has none.
    pub async fn start(
        root: &Path,
        n: usize,
        mut config: NameNodeConfig,
        datanode: impl Fn(usize) -> DataNodeConfig,
    ) -> Result<MiniCluster> {
        if !config.secret.is_set() {
            config.secret = Secret::load_or_create(root)?;
        }
        let secret = config.secret.clone();
        let any = "127.0.0.1:0".parse().expect("loopback address");
        let nn = namenode::serve(&root.join("nn"), any, config).await?;
        let mut cluster = MiniCluster { namenode: nn, datanodes: Vec::new(), dirs: Vec::new(), secret };
        for i in 0..n {
            cluster.add_datanode(&root.join(format!("dn{i}")), datanode(i)).await?;
        }
        Ok(cluster)
    }

    /// Start one more datanode (with this cluster's secret) in `dir`.
    pub async fn add_datanode(&mut self, dir: &Path, config: DataNodeConfig) -> Result<()> {
        let any = "127.0.0.1:0".parse().expect("loopback address");
        let config = DataNodeConfig { secret: self.secret.clone(), ..config };
        self.datanodes.push(datanode::serve(dir, any, &self.addr(), config).await?);
        self.dirs.push(dir.to_path_buf());
        Ok(())
    }

    /// A client of this cluster.
    pub fn client(&self) -> Result<DfsClient> {
        DfsClient::new(&self.addr(), self.secret.clone())
    }

    /// This cluster as an object store.
    pub fn store(&self) -> Result<DfsObjectStore> {
        DfsObjectStore::new(&self.addr(), self.secret.clone())
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
        self.namenode.kill();
    }
}
