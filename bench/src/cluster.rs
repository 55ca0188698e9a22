//! `hiveql-bench cluster`: the shared workloads on a local query cluster
//! (a `hiveql scheduler` and `hiveql worker` processes of the binary given
//! with `--bin`) against the same session in-process, in one run: the same
//! session runs each query both ways (`SET hiveql.cluster=...` and
//! `SET hiveql.cluster=`), alternating, and the answers must be identical.
//!
//! Also: the cost of a stage (a `count(*)` over a one-file table), the
//! shuffle bytes a query writes (the most the workers' work directories
//! grow by while it runs), and a workload's time on 1, 2 and 4 workers.
//!
//! ```text
//! hiveql-bench cluster --bin target/release/hiveql --workloads ../shared/bench/workloads \
//!     --data /tmp/hiveql-bench-data --workers 2 W2 W3 W5
//! ```

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hiveql_engine::{Session, SessionOptions};

use super::{dir_bytes, input_bytes, median, read_workload};

/// A role process, killed when dropped.
struct Role(Child);

impl Drop for Role {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `bin ARGS` and wait for its `listening on HOST:PORT` line; the address.
fn start(bin: &Path, home: &Path, args: &[&str]) -> (Role, String) {
    let mut child = Command::new(bin)
        .args(args)
        .env("HIVEQL_HOME", home)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start hiveql");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().rsplit(' ').next().unwrap_or_default().to_string();
    assert!(line.contains("listening on"), "{args:?}: {line}");
    (Role(child), addr)
}

/// A scheduler and `workers` workers (all cores' slots each), shuffle files under `home/work-N`.
struct Cluster {
    addr: String,
    work_dirs: Vec<PathBuf>,
    _roles: Vec<Role>,
}

impl Cluster {
    fn start(bin: &Path, home: &Path, workers: usize, slots: usize) -> Cluster {
        let (scheduler, addr) = start(bin, home, &["scheduler", "--port", "0"]);
        let mut roles = vec![scheduler];
        let mut work_dirs = Vec::new();
        for w in 0..workers {
            let dir = home.join(format!("work-{w}"));
            std::fs::create_dir_all(&dir).unwrap();
            let (role, _) = start(
                bin,
                home,
                &[
                    "worker",
                    "--scheduler",
                    &addr,
                    "--port",
                    "0",
                    "--slots",
                    &slots.to_string(),
                    "--work-dir",
                    &dir.display().to_string(),
                ],
            );
            roles.push(role);
            work_dirs.push(dir);
        }
        Cluster { addr, work_dirs, _roles: roles }
    }

    fn shuffle_bytes(&self) -> u64 {
        self.work_dirs.iter().map(|d| dir_bytes(d)).sum()
    }

    /// Watch the workers' work directories every 5 ms until the returned
    /// flag is set; the thread's result is the most they grew by. (The
    /// scheduler has a job's shuffle files removed once the job is done,
    /// so their size is only seen while it runs.)
    fn watch_shuffle(&self) -> (std::sync::Arc<std::sync::atomic::AtomicBool>, std::thread::JoinHandle<u64>) {
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let dirs = self.work_dirs.clone();
        let before = self.shuffle_bytes();
        let flag = done.clone();
        let watcher = std::thread::spawn(move || {
            let mut peak = 0;
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                let now: u64 = dirs.iter().map(|d| dir_bytes(d)).sum();
                peak = peak.max(now.saturating_sub(before));
                std::thread::sleep(Duration::from_millis(5));
            }
            peak
        });
        (done, watcher)
    }
}

/// Whether two answers agree: the same rows, numbers equal to 1e-9
/// relative (a sum of doubles taken in another order differs in its last
/// digits).
fn same_answer(a: &[String], b: &[String]) -> bool {
    let cell_eq = |x: &str, y: &str| {
        x == y
            || matches!((x.parse::<f64>(), y.parse::<f64>()),
                (Ok(p), Ok(q)) if (p - q).abs() <= 1e-9 * p.abs().max(q.abs()))
    };
    a.len() == b.len()
        && a.iter().zip(b).all(|(r, s)| {
            let (r, s): (Vec<&str>, Vec<&str>) = (r.split('\t').collect(), s.split('\t').collect());
            r.len() == s.len() && r.iter().zip(&s).all(|(x, y)| cell_eq(x, y))
        })
}

/// Run `sql`, returning its rows as text (sorted: the order of an
/// unordered result is not part of the answer).
async fn answer(s: &mut Session, sql: &str) -> Vec<String> {
    let batches = s.execute_collect(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut rows = Vec::new();
    for b in &batches {
        for r in 0..b.num_rows() {
            let row: Vec<String> = (0..b.num_columns())
                .map(|c| hiveql_engine::value::format_value(b.column(c).as_ref(), r).unwrap_or_else(|| "NULL".into()))
                .collect();
            rows.push(row.join("\t"));
        }
    }
    rows.sort();
    rows
}

async fn session(home: &Path, preamble: &[String]) -> Session {
    let mut s = Session::open(SessionOptions { home: home.to_path_buf(), ..Default::default() }).unwrap();
    for ddl in preamble {
        s.execute(ddl).await.unwrap_or_else(|e| panic!("{ddl}: {e}"));
    }
    s
}

/// Wait until the cluster runs a query over `table` (workers register a moment after they start).
async fn wait_ready(s: &mut Session, addr: &str, table: &str) {
    s.execute(&format!("SET hiveql.cluster={addr}")).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while let Err(e) = s.execute_collect(&format!("SELECT count(*) FROM {table}")).await {
        assert!(Instant::now() < deadline, "cluster {addr} never answered: {e}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    s.execute("SET hiveql.cluster=").await.unwrap();
}

/// Each workload on `workers` workers against in-process, then the stage
/// cost and, for the last workload, 1, 2 and 4 workers.
pub async fn run(bin: &Path, dir: &Path, data: &str, names: &[&String], workers: usize, runs: usize) {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let home = tempfile::tempdir().unwrap();
    let cluster = Cluster::start(bin, home.path(), workers, cores);
    println!("cluster of {workers} workers ({cores} slots each) vs in-process, same session, same binary;");
    println!("median of {runs} runs after 1 warm-up each, the two alternating");
    println!(
        "| workload | query | input MB | in-process s | cluster s | cluster / in-process | shuffle KB | rows | same answer |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---|");
    for name in names {
        let wl = read_workload(&dir.join(format!("{name}.hive.sql")), data);
        let mut s = session(home.path(), &wl.preamble).await;
        let first_table = first_table(&wl.preamble);
        wait_ready(&mut s, &cluster.addr, &first_table).await;
        for (qname, sql) in &wl.queries {
            let mb = input_bytes(&wl, sql) as f64 / 1e6;
            let local = answer(&mut s, sql).await;
            s.execute(&format!("SET hiveql.cluster={}", cluster.addr)).await.unwrap();
            let (done, watcher) = cluster.watch_shuffle();
            let remote = answer(&mut s, sql).await;
            done.store(true, std::sync::atomic::Ordering::Relaxed);
            let shuffle_kb = watcher.join().unwrap_or(0) as f64 / 1e3;
            let (mut in_process, mut on_cluster) = (Vec::new(), Vec::new());
            for _ in 0..runs {
                for (setting, times) in [("", &mut in_process), (cluster.addr.as_str(), &mut on_cluster)] {
                    s.execute(&format!("SET hiveql.cluster={setting}")).await.unwrap();
                    let t = Instant::now();
                    s.execute_collect(sql).await.unwrap();
                    times.push(t.elapsed().as_secs_f64());
                }
            }
            s.execute("SET hiveql.cluster=").await.unwrap();
            let (a, b) = (median(in_process), median(on_cluster));
            println!(
                "| {name} | {qname} | {mb:.1} | {a:.3} | {b:.3} | {:.2}x | {shuffle_kb:.0} | {} | {} |",
                b / a,
                local.len(),
                if same_answer(&local, &remote) { "yes" } else { "NO" }
            );
        }
    }
    stage_cost(&cluster.addr, home.path(), runs.max(10)).await;
    drop(cluster);
    if let Some(name) = names.last() {
        scaling(bin, dir, data, name, cores, runs).await;
    }
}

/// The first table the preamble creates.
fn first_table(preamble: &[String]) -> String {
    preamble
        .iter()
        .find_map(|ddl| {
            let lower = ddl.to_ascii_lowercase();
            let words: Vec<&str> = lower.split_whitespace().collect();
            let at = words.iter().position(|w| *w == "table")?;
            let name = if words.get(at + 1) == Some(&"if") { words.get(at + 4) } else { words.get(at + 1) };
            name.map(|n| n.trim_end_matches('(').to_string())
        })
        .expect("the workload creates a table")
}

/// Wall time of `SELECT count(*)` over a one-file table on the cluster.
async fn stage_cost(addr: &str, home: &Path, runs: usize) {
    let dir = home.join("one-file");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("000000_0"), (0..1000).map(|i| format!("{i},row {i}\n")).collect::<String>()).unwrap();
    let ddl = format!(
        "CREATE EXTERNAL TABLE one_file (id INT, s STRING) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION '{}'",
        dir.display()
    );
    let mut s = session(home, &[ddl]).await;
    wait_ready(&mut s, addr, "one_file").await;
    let mut times = Vec::new();
    for setting in ["", addr] {
        s.execute(&format!("SET hiveql.cluster={setting}")).await.unwrap();
        s.execute_collect("SELECT count(*) FROM one_file").await.unwrap();
        let mut t = Vec::new();
        for _ in 0..runs {
            let t0 = Instant::now();
            s.execute_collect("SELECT count(*) FROM one_file").await.unwrap();
            t.push(t0.elapsed().as_secs_f64());
        }
        times.push(median(t));
    }
    println!(
        "\nSELECT count(*) over a one-file table, median of {runs}: in-process {:.1} ms, on the cluster {:.1} ms",
        times[0] * 1e3,
        times[1] * 1e3
    );
    task_rate(addr, home, &mut s).await;
}

/// Scheduler throughput: a map stage of many one-file partitions
/// (`target_partitions` as high as the file count) and its one reduce
/// partition, partitions per second of wall time. Ballista packs up to a
/// worker's free slots of partitions into one task.
async fn task_rate(addr: &str, home: &Path, s: &mut Session) {
    const FILES: usize = 256;
    let dir = home.join("many-files");
    std::fs::create_dir_all(&dir).unwrap();
    for f in 0..FILES {
        std::fs::write(dir.join(format!("{f:06}_0")), format!("{f},file {f}\n")).unwrap();
    }
    let ddl = format!(
        "CREATE EXTERNAL TABLE many_files (id INT, s STRING) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION '{}'",
        dir.display()
    );
    s.execute(&ddl).await.unwrap();
    s.execute(&format!("SET hiveql.cluster={addr}")).await.unwrap();
    s.execute(&format!("SET datafusion.execution.target_partitions={FILES}")).await.unwrap();
    s.execute_collect("SELECT count(*) FROM many_files").await.unwrap();
    let t0 = Instant::now();
    s.execute_collect("SELECT count(*) FROM many_files").await.unwrap();
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "scheduler: {} partitions ({FILES} map partitions of one file, 1 reduce) in {:.3} s: {:.0} partitions/s",
        FILES + 1,
        secs,
        (FILES + 1) as f64 / secs
    );
}

/// Workload `name` on 1, 2 and 4 workers (each with all cores' slots).
async fn scaling(bin: &Path, dir: &Path, data: &str, name: &str, cores: usize, runs: usize) {
    let wl = read_workload(&dir.join(format!("{name}.hive.sql")), data);
    println!("\n{name} by number of workers ({cores} slots each), median of {runs} runs after 1 warm-up:");
    println!("| workers | {} |", wl.queries.iter().map(|(q, _)| format!("{q} s")).collect::<Vec<_>>().join(" | "));
    println!("|---:|{}", "---:|".repeat(wl.queries.len()));
    for workers in [1, 2, 4] {
        let home = tempfile::tempdir().unwrap();
        let cluster = Cluster::start(bin, home.path(), workers, cores);
        let mut s = session(home.path(), &wl.preamble).await;
        wait_ready(&mut s, &cluster.addr, &first_table(&wl.preamble)).await;
        s.execute(&format!("SET hiveql.cluster={}", cluster.addr)).await.unwrap();
        let mut cells = Vec::new();
        for (_, sql) in &wl.queries {
            s.execute_collect(sql).await.unwrap();
            let mut t = Vec::new();
            for _ in 0..runs {
                let t0 = Instant::now();
                s.execute_collect(sql).await.unwrap();
                t.push(t0.elapsed().as_secs_f64());
            }
            cells.push(format!("{:.3}", median(t)));
        }
        println!("| {workers} | {} |", cells.join(" | "));
    }
}
