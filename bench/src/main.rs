//! hiveql-bench: measures hiveql against plain DataFusion on the same files,
//! in one process and one run, and the start-up time of the `hiveql` binary.
//!
//! ```text
//! hiveql-bench workload --workloads ../shared/bench/workloads --data /tmp/hiveql-bench-data W4 W5
//! hiveql-bench startup --bin target/release/hiveql
//! hiveql-bench serde --workloads ../shared/bench/workloads --data /tmp/hiveql-bench-data \
//!     --gen /tmp/hiveql-bench-serde W1 W2 CSV NESTED
//! ```
//!
//! `dfs` starts a block store with `hiveql cluster start` (a namenode and
//! three datanode processes whose directories share one disk) and compares, in one run,
//! writing and reading a file through `DfsObjectStore` with the same bytes on
//! a local file, and a query over a text table on `dfs://` with the same
//! table on local disk:
//!
//! ```text
//! hiveql-bench dfs --file /tmp/hiveql-bench-1g/tpch-sf1-tbl/lineitem/lineitem.tbl --dir /tmp/hiveql-bench-dfs
//! ```
//!
//! `serde` times the text SerDes on their own: each query once on one core
//! (`target_partitions = 1`: MB/s per core) and once on all cores (whole-query
//! time). W1 (RegexSerDe, CloudFront logs) and W2 (JsonSerDe, wildrydes) are
//! the shared workloads; CSV (OpenCSVSerde) and NESTED (LazySimpleSerDe with
//! ARRAY/MAP/STRUCT columns) are generated under `--gen` (1 GiB each, seeded)
//! unless present.
//!
//! `functions` times Hive's functions against DataFusion's built-ins for
//! the same jobs, in one session over one generated table (`functions.rs`):
//!
//! ```text
//! hiveql-bench functions --gen /tmp/hiveql-bench-functions --mib 1024
//! ```
//!
//! `partitions` measures partition management at 10,000 partitions,
//! dynamic-partition inserts and partition pruning (`partitions.rs`):
//!
//! ```text
//! hiveql-bench partitions --dir /tmp/hiveql-bench-partitions --mib 1024
//! ```
//!
//! `cluster` runs workloads on a local query cluster against in-process
//! (`cluster.rs`):
//!
//! ```text
//! hiveql-bench cluster --bin target/release/hiveql --workers 2 W2 W3 W5
//! ```
//!
//! `workload` reads `WN.datafusion.sql` (DataFusion's own DDL: what a
//! DataFusion user registers directly) and `WN.hive.sql` (the Hive DDL hiveql
//! runs), both with `-- @query NAME` sections, and times each query on both:
//! one warm-up run, then `--runs` timed runs; the median is printed. Planning
//! is included on both sides. MB/s is the size of the files under the tables'
//! locations divided by the median time; MB = 10^6 bytes.

#![allow(clippy::unwrap_used)] // a benchmark run that fails stops with the failure

mod cluster;
mod functions;
mod partitions;

use std::path::{Path, PathBuf};
use std::time::Instant;

use datafusion::prelude::SessionContext;
use hiveql_engine::sql::script::split_statements;
use hiveql_engine::{Session, SessionOptions};

struct Workload {
    preamble: Vec<String>,
    queries: Vec<(String, String)>,
}

fn read_workload(path: &Path, data: &str) -> Workload {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).replace("${DATA}", data);
    let mut parts = text.split("-- @query ");
    let preamble = split_statements(parts.next().unwrap_or_default()).into_iter().map(|s| s.text).collect();
    let queries = parts
        .map(|p| {
            let (name, body) = p.split_once('\n').unwrap_or((p, ""));
            (name.trim().to_string(), body.trim().trim_end_matches(';').to_string())
        })
        .collect();
    Workload { preamble, queries }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

pub(crate) fn dir_bytes(p: &Path) -> u64 {
    match std::fs::metadata(p) {
        Ok(m) if m.is_file() => m.len(),
        Ok(m) if m.is_dir() => {
            std::fs::read_dir(p).map(|d| d.flatten().map(|e| dir_bytes(&e.path())).sum()).unwrap_or(0)
        }
        _ => 0,
    }
}

/// Bytes of the table directories a query names (by `LOCATION` in the DDL).
fn input_bytes(wl: &Workload, query: &str) -> u64 {
    let q = query.to_ascii_lowercase();
    wl.preamble
        .iter()
        .filter_map(|ddl| {
            let lower = ddl.to_ascii_lowercase();
            let name = lower.split_whitespace().skip_while(|w| *w != "table").nth(1)?.to_string();
            let name = if name == "if" {
                lower.split_whitespace().skip_while(|w| *w != "exists").nth(1)?.to_string()
            } else {
                name
            };
            let name = name.trim_end_matches('(').to_string();
            let loc = ddl.split("LOCATION '").nth(1)?.split('\'').next()?.to_string();
            let used = q.split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|w| w == name);
            used.then(|| dir_bytes(Path::new(&loc)))
        })
        .sum()
}

pub(crate) async fn time<F, Fut>(runs: usize, mut f: F) -> (f64, usize)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let rows = f().await; // warm-up (also warms the page cache)
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        f().await;
        times.push(t.elapsed().as_secs_f64());
    }
    (median(times), rows)
}

async fn run_workload(dir: &Path, data: &str, name: &str, runs: usize) {
    let df_wl = read_workload(&dir.join(format!("{name}.datafusion.sql")), data);
    let hive_wl = read_workload(&dir.join(format!("{name}.hive.sql")), data);
    let ctx = SessionContext::new();
    for ddl in &df_wl.preamble {
        if let Err(e) = ctx.sql(ddl).await {
            panic!("DataFusion DDL failed: {e}\n{ddl}");
        }
    }
    let home = tempfile::tempdir().unwrap();
    let mut session = Session::open(SessionOptions { home: home.path().to_path_buf(), ..Default::default() }).unwrap();
    for ddl in &hive_wl.preamble {
        session.execute(ddl).await.unwrap_or_else(|e| panic!("hiveql DDL failed: {e}\n{ddl}"));
    }
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) as f64;
    println!("{name}: median of {runs} runs after 1 warm-up; {cores} cores");
    println!(
        "| query | input MB | datafusion s | hiveql s | hiveql / datafusion | datafusion MB/s/core | hiveql MB/s/core | rows |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for ((qname, df_sql), (_, hive_sql)) in df_wl.queries.iter().zip(&hive_wl.queries) {
        let mb = input_bytes(&hive_wl, hive_sql) as f64 / 1e6;
        let (df_s, df_rows) = time(runs, || async {
            let batches = ctx.sql(df_sql).await.unwrap().collect().await.unwrap();
            batches.iter().map(|b| b.num_rows()).sum()
        })
        .await;
        let mut hv = Vec::new();
        let warm = session.execute_collect(hive_sql).await.unwrap_or_else(|e| panic!("{qname}: {e}"));
        let hv_rows: usize = warm.iter().map(|b| b.num_rows()).sum();
        for _ in 0..runs {
            let t = Instant::now();
            session.execute_collect(hive_sql).await.unwrap();
            hv.push(t.elapsed().as_secs_f64());
        }
        let hv_s = median(hv);
        assert_eq!(df_rows, hv_rows, "{qname}: row counts differ");
        println!(
            "| {qname} | {mb:.1} | {df_s:.3} | {hv_s:.3} | {:.2}x | {:.0} | {:.0} | {hv_rows} |",
            hv_s / df_s,
            mb / df_s / cores,
            mb / hv_s / cores
        );
    }
}

/// A seeded generator: the same workload on every run.
pub(crate) struct Rng(rand::rngs::StdRng);

impl Rng {
    fn seeded(seed: u64) -> Rng {
        Rng(rand::SeedableRng::seed_from_u64(seed))
    }

    pub(crate) fn next(&mut self, n: u64) -> u64 {
        rand::Rng::random_range(&mut self.0, 0..n)
    }
}

const NAMES: [&str; 10] = [
    "Shadowfax",
    "Rocinante",
    "Bucephalus",
    "Moonbeam",
    "Kismet",
    "Sparkles",
    "Thunder",
    "Stardust",
    "Blaze",
    "Willow",
];

/// Write about `bytes` bytes of lines made by `line` into `dir/part-0000N` files.
pub(crate) fn generate(dir: &Path, bytes: u64, mut line: impl FnMut(&mut Rng, &mut String)) {
    if dir.exists() {
        return;
    }
    std::fs::create_dir_all(dir).unwrap();
    let mut rng = Rng::seeded(0x5eed);
    let files = 4;
    let mut s = String::new();
    for f in 0..files {
        let mut out = std::io::BufWriter::new(std::fs::File::create(dir.join(format!("part-{f:05}"))).unwrap());
        let mut written = 0u64;
        while written < bytes / files {
            s.clear();
            line(&mut rng, &mut s);
            written += s.len() as u64;
            std::io::Write::write_all(&mut out, s.as_bytes()).unwrap();
        }
    }
}

/// OpenCSVSerde input: wildrydes as quoted CSV (a header line per file is not used).
fn gen_csv(dir: &Path, bytes: u64) {
    generate(dir, bytes, |r, s| {
        use std::fmt::Write;
        let _ = writeln!(
            s,
            "\"{}\",\"2017-11-{:02} {:02}:{:02}:{:02}.{:03}\",\"{:.6}\",\"{:.6}\",\"{:.1}\",\"{}\",\"{}\"",
            NAMES[r.next(10) as usize],
            1 + r.next(30),
            r.next(24),
            r.next(60),
            r.next(60),
            r.next(1000),
            40.0 + r.next(8_000_000) as f64 / 1e6,
            -75.0 + r.next(8_000_000) as f64 / 1e6,
            r.next(2000) as f64 / 10.0,
            100 + r.next(100),
            100 + r.next(100)
        );
    });
}

/// LazySimpleSerDe input with nested columns: id, ARRAY<STRING>, MAP<STRING,INT>, STRUCT<lat,lon>.
fn gen_nested(dir: &Path, bytes: u64) {
    let mut id = 0u64;
    generate(dir, bytes, |r, s| {
        use std::fmt::Write;
        id += 1;
        let _ = write!(s, "{id}\x01");
        for i in 0..1 + r.next(4) {
            if i > 0 {
                s.push('\x02');
            }
            s.push_str(NAMES[r.next(10) as usize]);
        }
        s.push('\x01');
        for (i, k) in ["a", "b", "c"].iter().enumerate().take(1 + r.next(3) as usize) {
            if i > 0 {
                s.push('\x02');
            }
            let _ = write!(s, "{k}\x03{}", r.next(1000));
        }
        let _ = writeln!(
            s,
            "\x01{:.6}\x02{:.6}",
            40.0 + r.next(8_000_000) as f64 / 1e6,
            -75.0 + r.next(8_000_000) as f64 / 1e6
        );
    });
}

async fn run_serde(dir: &Path, data: &str, gen_dir: &Path, names: &[&String], runs: usize) {
    let gib = 1u64 << 30;
    let mut cases: Vec<(String, Vec<String>, String)> = Vec::new();
    for name in names {
        match name.as_str() {
            "W1" | "W2" => {
                let wl = read_workload(&dir.join(format!("{name}.hive.sql")), data);
                let (_, q) = wl.queries.iter().find(|(n, _)| n == name.as_str()).expect("query").clone();
                cases.push((name.to_string(), wl.preamble, q));
            }
            "CSV" => {
                let d = gen_dir.join("csv");
                gen_csv(&d, gib);
                cases.push((
                    "CSV".into(),
                    vec![format!(
                        "CREATE EXTERNAL TABLE rydes_csv (name STRING, statustime TIMESTAMP, latitude DOUBLE, \
                         longitude DOUBLE, distance DOUBLE, healthpoints INT, magicpoints INT) \
                         ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde' LOCATION '{}'",
                        d.display()
                    )],
                    "SELECT name, count(*), avg(distance), max(healthpoints) FROM rydes_csv GROUP BY name ORDER BY name"
                        .into(),
                ));
            }
            "NESTED" => {
                let d = gen_dir.join("nested");
                gen_nested(&d, gib);
                cases.push((
                    "NESTED".into(),
                    vec![format!(
                        "CREATE EXTERNAL TABLE nested (id BIGINT, tags ARRAY<STRING>, props MAP<STRING,INT>, \
                         pos STRUCT<lat:DOUBLE, lon:DOUBLE>) LOCATION '{}'",
                        d.display()
                    )],
                    "SELECT tags[0], count(*), sum(props['a']), avg(pos.lat), max(size(tags)) FROM nested \
                     GROUP BY tags[0] ORDER BY 1"
                        .into(),
                ));
            }
            other => panic!("unknown serde case {other} (W1, W2, CSV, NESTED)"),
        }
    }
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!("text SerDes: median of {runs} runs after 1 warm-up; {cores} cores");
    println!("| case | input MB | 1 core s | MB/s per core | {cores} cores s | MB/s | rows |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (name, ddl, query) in cases {
        let home = tempfile::tempdir().unwrap();
        let mut session =
            Session::open(SessionOptions { home: home.path().to_path_buf(), ..Default::default() }).unwrap();
        for d in &ddl {
            session.execute(d).await.unwrap_or_else(|e| panic!("{name} DDL failed: {e}\n{d}"));
        }
        let wl = Workload { preamble: ddl.clone(), queries: vec![] };
        let mb = input_bytes(&wl, &query) as f64 / 1e6;
        let mut results = Vec::new();
        for parts in [1, cores] {
            session.execute(&format!("SET datafusion.execution.target_partitions={parts}")).await.unwrap();
            let (secs, rows) = time(runs, || {
                let (mut s, query, name) = (session.clone(), query.clone(), name.clone());
                async move {
                    let b = s.execute_collect(&query).await.unwrap_or_else(|e| panic!("{name}: {e}"));
                    b.iter().map(|b| b.num_rows()).sum()
                }
            })
            .await;
            results.push((secs, rows));
        }
        let (one, all) = (results[0], results[1]);
        println!(
            "| {name} | {mb:.1} | {:.3} | {:.0} | {:.3} | {:.0} | {} |",
            one.0,
            mb / one.0,
            all.0,
            mb / all.0,
            all.1
        );
    }
}

/// Stops the benchmark's cluster however the benchmark ends.
struct ClusterGuard(PathBuf, PathBuf);

impl Drop for ClusterGuard {
    fn drop(&mut self) {
        let _ = std::process::Command::new(&self.0).args(["cluster", "stop", "--home"]).arg(&self.1).output();
    }
}

async fn run_dfs(file: &Path, dir: &Path, runs: usize) {
    use hiveql_storage::object_store::DfsObjectStore;
    use hiveql_storage::secret::Secret;
    use object_store::ObjectStoreExt;
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    // The cluster as users run it: `hiveql cluster start` (a namenode and
    // three datanode processes), with the hiveql binary beside this one.
    let hiveql = std::env::current_exe().unwrap().with_file_name("hiveql");
    let cluster_home = dir.join("home");
    let started = std::process::Command::new(&hiveql)
        .args(["cluster", "start", "--datanodes", "3", "--port", "0", "--home"])
        .arg(&cluster_home)
        .output()
        .expect("hiveql cluster start");
    let _guard = ClusterGuard(hiveql.clone(), cluster_home.clone());
    let out = String::from_utf8_lossy(&started.stdout).to_string();
    assert!(started.status.success(), "{out}{}", String::from_utf8_lossy(&started.stderr));
    let addr = out.split("dfs://").nth(1).and_then(|r| r.split_whitespace().next()).unwrap().to_string();
    let secret = Secret::discover(Some(&cluster_home)).unwrap();
    let data = bytes::Bytes::from(std::fs::read(file).expect("--file"));
    let mb = data.len() as f64 / 1e6;
    let store = DfsObjectStore::new(&addr, secret.clone()).unwrap();
    let name = file.file_name().unwrap().to_string_lossy().to_string();
    let dfs_path = object_store::path::Path::from(format!("bench/{name}"));
    let local_copy = dir.join("local").join(&name);
    std::fs::create_dir_all(local_copy.parent().unwrap()).unwrap();
    let median_of = |mut v: Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2]
    };
    let (mut local_w, mut dfs_w, mut local_r, mut dfs_r, mut streamed_r) = (vec![], vec![], vec![], vec![], vec![]);
    let streamed = DfsObjectStore::new(&addr, secret).unwrap().with_short_circuit(false);
    for _ in 0..runs {
        let t = Instant::now();
        std::fs::write(&local_copy, &data).unwrap();
        std::fs::File::open(&local_copy).unwrap().sync_all().unwrap();
        local_w.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        store.put(&dfs_path, data.clone().into()).await.unwrap();
        dfs_w.push(t.elapsed().as_secs_f64());
    }
    for _ in 0..runs + 1 {
        let t = Instant::now();
        let n = std::fs::read(&local_copy).unwrap().len();
        local_r.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let got = store.get(&dfs_path).await.unwrap().bytes().await.unwrap();
        dfs_r.push(t.elapsed().as_secs_f64());
        assert_eq!((got.len(), n), (data.len(), data.len()));
        let t = Instant::now();
        let got = streamed.get(&dfs_path).await.unwrap().bytes().await.unwrap();
        streamed_r.push(t.elapsed().as_secs_f64());
        assert_eq!(got.len(), data.len());
    }
    local_r.remove(0); // the first read warms the page cache
    dfs_r.remove(0);
    streamed_r.remove(0);
    let (lw, dw, lr, dr) = (median_of(local_w), median_of(dfs_w), median_of(local_r), median_of(dfs_r));
    let sr = median_of(streamed_r);
    println!("block store on one disk, 3 datanodes, {mb:.1} MB file, median of {runs} runs");
    println!("| operation | local file | dfs:// | dfs vs local |");
    println!("|---|---:|---:|---:|");
    println!(
        "| write (replication 3 vs 1 copy, fsynced) | {lw:.3} s ({:.0} MB/s) | {dw:.3} s ({:.0} MB/s) | {:.0}% |",
        mb / lw,
        mb / dw,
        100.0 * lw / dw
    );
    println!(
        "| sequential read (warm cache, short-circuit) | {lr:.3} s ({:.0} MB/s) | {dr:.3} s ({:.0} MB/s) | {:.0}% |",
        mb / lr,
        mb / dr,
        100.0 * lr / dr
    );
    println!(
        "| sequential read, streamed from the datanodes (no short-circuit) | {lr:.3} s | {sr:.3} s ({:.0} MB/s) | {:.0}% |",
        mb / sr,
        100.0 * lr / sr
    );
    // The same text table on local disk and on dfs://
    let home = tempfile::tempdir().unwrap();
    std::fs::copy(cluster_home.join("cluster.secret"), home.path().join("cluster.secret")).unwrap();
    let mut session = Session::open(SessionOptions { home: home.path().to_path_buf(), ..Default::default() }).unwrap();
    let cols = "l_orderkey BIGINT, l_partkey BIGINT, l_suppkey BIGINT, l_linenumber INT, l_quantity DECIMAL(15,2), \
        l_extendedprice DECIMAL(15,2), l_discount DECIMAL(15,2), l_tax DECIMAL(15,2), l_returnflag STRING, \
        l_linestatus STRING, l_shipdate DATE, l_commitdate DATE, l_receiptdate DATE, l_shipinstruct STRING, \
        l_shipmode STRING, l_comment STRING";
    for (t, loc) in
        [("local_t", local_copy.parent().unwrap().display().to_string()), ("dfs_t", format!("dfs://{addr}/bench"))]
    {
        session
            .execute(&format!(
                "CREATE EXTERNAL TABLE {t} ({cols}) ROW FORMAT DELIMITED FIELDS TERMINATED BY '|' LOCATION '{loc}'"
            ))
            .await
            .unwrap();
    }
    let q = "SELECT l_returnflag, l_linestatus, sum(l_quantity), sum(l_extendedprice), count(*) FROM {t} \
             WHERE l_shipdate <= DATE '1998-09-02' GROUP BY l_returnflag, l_linestatus ORDER BY 1, 2";
    // Local and dfs runs alternate, so drift on the machine hits both alike.
    let sql = |t: &str| q.replace("{t}", t);
    for t in ["local_t", "dfs_t"] {
        session.execute_collect(&sql(t)).await.unwrap();
    }
    let (mut local_q, mut dfs_q) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        for (t, v) in [("local_t", &mut local_q), ("dfs_t", &mut dfs_q)] {
            let t0 = Instant::now();
            session.execute_collect(&sql(t)).await.unwrap();
            v.push(t0.elapsed().as_secs_f64());
        }
    }
    let times = [median_of(local_q), median_of(dfs_q)];
    println!(
        "| TPC-H Q1-style query over the text table | {:.3} s | {:.3} s | {:.2}x the local time |",
        times[0],
        times[1],
        times[1] / times[0]
    );
    // The same query as users run it: `hiveql -e`, a process per query,
    // on a home that shares the cluster's secret.
    let cli_home = dir.join("cli-home");
    std::fs::create_dir_all(&cli_home).unwrap();
    std::fs::copy(cluster_home.join("cluster.secret"), cli_home.join("cluster.secret")).unwrap();
    let run_cli = |sql: &str| {
        let t0 = Instant::now();
        let out = std::process::Command::new(&hiveql)
            .arg("--home")
            .arg(&cli_home)
            .args(["--silent", "-e", sql])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        t0.elapsed().as_secs_f64()
    };
    for (t, loc) in
        [("local_t", local_copy.parent().unwrap().display().to_string()), ("dfs_t", format!("dfs://{addr}/bench"))]
    {
        run_cli(&format!(
            "CREATE EXTERNAL TABLE {t} ({cols}) ROW FORMAT DELIMITED FIELDS TERMINATED BY '|' LOCATION '{loc}'"
        ));
    }
    let (mut local_c, mut dfs_c) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        local_c.push(run_cli(&sql("local_t")));
        dfs_c.push(run_cli(&sql("dfs_t")));
    }
    let (lc, dc) = (median_of(local_c), median_of(dfs_c));
    println!(
        "| the same query, `hiveql -e` (a process per query) | {lc:.3} s | {dc:.3} s | {:.2}x the local time |",
        dc / lc
    );
}

fn startup(bin: &Path, runs: usize) {
    let home = tempfile::tempdir().unwrap();
    let run = || {
        let t = Instant::now();
        let out = std::process::Command::new(bin)
            .arg("--home")
            .arg(home.path())
            .args(["--silent", "-e", "SELECT 1"])
            .output()
            .expect("run hiveql");
        assert!(out.status.success() && out.stdout == b"_c0\n1\n", "{out:?}");
        t.elapsed().as_secs_f64()
    };
    run();
    let times: Vec<f64> = (0..runs).map(|_| run()).collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "hiveql -e \"SELECT 1\" (warm, {runs} runs): median {:.1} ms, min {:.1} ms, max {:.1} ms",
        median(times) * 1e3,
        sorted[0] * 1e3,
        sorted[sorted.len() - 1] * 1e3
    );
}

/// The arguments after the subcommand that are neither flags nor flag values.
fn positional(args: &[String]) -> Vec<&String> {
    args.iter()
        .enumerate()
        .skip(1)
        .filter(|(i, a)| !a.starts_with("--") && !args[i - 1].starts_with("--"))
        .map(|(_, a)| a)
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str, default: &str| -> String {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
            .unwrap_or_else(|| default.to_string())
    };
    let runs: usize = flag("--runs", "3").parse().expect("--runs N");
    match args.first().map(String::as_str) {
        Some("startup") => {
            startup(&PathBuf::from(flag("--bin", "target/release/hiveql")), flag("--runs", "20").parse().unwrap())
        }
        Some("workload") => {
            let dir = PathBuf::from(flag("--workloads", "../shared/bench/workloads"));
            let data = flag("--data", "/tmp/hiveql-bench-data");
            let names = positional(&args);
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
            for n in names {
                rt.block_on(run_workload(&dir, &data, n, runs));
            }
        }
        Some("dfs") => {
            let file = PathBuf::from(flag("--file", "/tmp/hiveql-bench-1g/tpch-sf1-tbl/lineitem/lineitem.tbl"));
            let dir = PathBuf::from(flag("--dir", "/tmp/hiveql-bench-dfs"));
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
            rt.block_on(run_dfs(&file, &dir, runs));
        }
        Some("serde") => {
            let dir = PathBuf::from(flag("--workloads", "../shared/bench/workloads"));
            let data = flag("--data", "/tmp/hiveql-bench-data");
            let gen_dir = PathBuf::from(flag("--gen", "/tmp/hiveql-bench-serde"));
            let names = positional(&args);
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
            rt.block_on(run_serde(&dir, &data, &gen_dir, &names, runs));
        }
        Some("functions") => {
            let gen_dir = PathBuf::from(flag("--gen", "/tmp/hiveql-bench-functions"));
            let mb: u64 = flag("--mib", "1024").parse().expect("--mib N");
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
            rt.block_on(functions::run(&gen_dir, mb, runs));
        }
        Some("cluster") => {
            let bin = PathBuf::from(flag("--bin", "target/release/hiveql"));
            let dir = PathBuf::from(flag("--workloads", "../shared/bench/workloads"));
            let data = flag("--data", "/tmp/hiveql-bench-data");
            let workers: usize = flag("--workers", "2").parse().expect("--workers N");
            let names = positional(&args);
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
            rt.block_on(cluster::run(&bin, &dir, &data, &names, workers, runs));
        }
        Some("partitions") => {
            let dir = PathBuf::from(flag("--dir", "/tmp/hiveql-bench-partitions"));
            let mb: u64 = flag("--mib", "1024").parse().expect("--mib N");
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
            rt.block_on(partitions::run(&dir, mb, runs));
        }
        _ => eprintln!(
            "usage: hiveql-bench workload [--workloads DIR] [--data DIR] [--runs N] W4 W5 | startup [--bin PATH] [--runs N] \
             | serde [--workloads DIR] [--data DIR] [--gen DIR] [--runs N] W1 W2 CSV NESTED \
             | functions [--gen DIR] [--mib N] [--runs N] | partitions [--dir DIR] [--mib N] [--runs N] \
             | cluster [--bin PATH] [--workloads DIR] [--data DIR] [--workers N] [--runs N] W2 W3 W5"
        ),
    }
}
