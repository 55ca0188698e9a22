//! The `.slt` suite a second time, on a local cluster: a real `hiveql
//! scheduler` and two `hiveql worker` processes on loopback ports, every
//! session with `hiveql.cluster` naming it. The expected rows are the
//! in-process ones: a query must answer the same wherever it runs.

use hiveql_tests::cluster::LocalCluster;

fn main() {
    // Each file runs on a fresh home: they all share the cluster's secret
    // through the environment (the roles started below inherit it).
    // SAFETY: no other thread exists yet.
    unsafe { std::env::set_var("HIVEQL_CLUSTER_SECRET", format!("slt-{}", std::process::id())) };
    tokio::runtime::Runtime::new().unwrap().block_on(run());
}

async fn run() {
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let home = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::start(home.path(), 2, 2);
    cluster.wait_ready().await;
    let conf = [("hiveql.cluster".to_string(), cluster.addr.clone())];
    let failed = hiveql_tests::slt::run_files(filter.as_deref(), &conf, false).await;
    drop(cluster);
    if failed > 0 {
        std::process::exit(1);
    }
}
