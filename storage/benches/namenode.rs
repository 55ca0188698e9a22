//! Namespace changes per second: an in-process namenode with its name
//! directory on disk, `CLIENTS` concurrent clients (default 8) each doing
//! `OPS` `mkdir`s (default 2,000) over gRPC. Every change is fsynced before
//! it is acknowledged, so this measures the edit log's group commit.
//!
//! ```text
//! cargo bench -p hiveql-storage --bench namenode            # 8 clients x 2,000, 3 runs
//! BENCH_DIR=/var/tmp/nn CLIENTS=8 OPS=2000 RUNS=5 cargo bench -p hiveql-storage --bench namenode
//! ```

#![allow(clippy::unwrap_used)] // a test (or benchmark) fails by panicking

use std::time::Instant;

use hiveql_storage::client::DfsClient;
use hiveql_storage::namenode::{self, server::NameNodeConfig};
use hiveql_storage::secret::Secret;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let clients = env("CLIENTS", 8);
    let ops = env("OPS", 2000);
    let runs = env("RUNS", 3);
    let dir =
        std::path::PathBuf::from(std::env::var("BENCH_DIR").unwrap_or_else(|_| "/var/tmp/hiveql-bench-nn".into()));
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let mut rates = Vec::new();
    for run in 0..runs {
        if dir.exists() {
            std::fs::remove_dir_all(&dir).expect("clearing the bench directory");
        }
        let rate = rt.block_on(async {
            let nn = namenode::serve(&dir, "127.0.0.1:0".parse().unwrap(), NameNodeConfig::default()).await.unwrap();
            let addr = nn.addr.to_string();
            let start = Instant::now();
            let tasks: Vec<_> = (0..clients)
                .map(|c| {
                    let mut client = DfsClient::new(&addr, Secret::none()).unwrap();
                    tokio::spawn(async move {
                        for i in 0..ops {
                            client.mkdirs(&format!("/c{c}/d{i}")).await.unwrap();
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            let secs = start.elapsed().as_secs_f64();
            nn.kill();
            let rate = (clients * ops) as f64 / secs;
            println!("run {run}: {} mkdirs by {clients} clients in {secs:.3} s: {rate:.0} changes/s", clients * ops);
            rate
        });
        rates.push(rate);
    }
    rates.sort_by(f64::total_cmp);
    println!("namenode mkdir, {clients} clients x {ops}, {runs} runs: median {:.0} changes/s", rates[rates.len() / 2]);
}
