//! The `.slt` suite a second time, on a local cluster: a real `hiveql
//! scheduler` and two `hiveql worker` processes on loopback ports, every
//! session with `hiveql.cluster` naming it. The expected rows are the
//! in-process ones: a query must answer the same wherever it runs.

use hiveql_tests::cluster::LocalCluster;

#[tokio::main]
async fn main() {
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
