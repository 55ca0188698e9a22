//! Queries on a cluster: a real `hiveql scheduler` and two `hiveql worker`
//! processes on loopback ports; a session sends its plans there with
//! `SET hiveql.cluster=HOST:PORT` and must get the rows it gets in-process.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hiveql_engine::{Session, SessionOptions};
use hiveql_tests::{data_dir, format_rows, hiveql_bin};

/// A daemon process, killed when dropped.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Two free ports in a row (a worker takes `port` and `port + 1`).
fn free_port_pair() -> u16 {
    loop {
        let p = free_port();
        if p < u16::MAX && TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
            return p;
        }
    }
}

/// Start a role and wait for its address line.
fn start(home: &std::path::Path, args: &[String]) -> Daemon {
    let mut child = Command::new(hiveql_bin())
        .args(args)
        .env("HIVEQL_HOME", home)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start hiveql");
    let out = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(out).read_line(&mut line).unwrap();
    assert!(line.contains("listening on"), "{args:?}: {line}");
    Daemon(child)
}

async fn rows(s: &mut Session, sql: &str) -> Vec<String> {
    let batches = s.execute_collect(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut out = format_rows(&batches, "|");
    if !sql.contains("ORDER BY") {
        out.sort();
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_on_a_cluster_answer_as_in_process() {
    let home = tempfile::tempdir().unwrap();
    let sport = free_port();
    let scheduler = start(home.path(), &["scheduler".into(), "--port".into(), sport.to_string()]);
    let cluster = format!("127.0.0.1:{sport}");
    let mut workers = Vec::new();
    for _ in 0..2 {
        let port = free_port_pair();
        workers.push(start(
            home.path(),
            &[
                "worker".into(),
                "--scheduler".into(),
                cluster.clone(),
                "--port".into(),
                port.to_string(),
                "--slots".into(),
                "2".into(),
            ],
        ));
    }

    let mut s = Session::open(SessionOptions { home: home.path().into(), ..Default::default() }).unwrap();
    let sales = data_dir().join("sales");
    for st in [
        format!(
            "CREATE EXTERNAL TABLE sales (id INT, region STRING, amount DECIMAL(10,2), sold_on DATE) \
             ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION '{}' TBLPROPERTIES ('skip.header.line.count'='1')",
            sales.display()
        ),
        "CREATE TABLE sales_pq STORED AS PARQUET AS SELECT * FROM sales".into(),
        "CREATE TABLE parted (id INT, amount DECIMAL(10,2)) PARTITIONED BY (region STRING)".into(),
        "SET hive.exec.dynamic.partition.mode=nonstrict".into(),
        "INSERT INTO parted PARTITION (region) SELECT id, amount, region FROM sales".into(),
    ] {
        s.execute(&st).await.unwrap_or_else(|e| panic!("{st}: {e}"));
    }
    let queries = [
        "SELECT * FROM sales",
        "SELECT region, count(*), sum(amount), avg(amount) FROM sales GROUP BY region ORDER BY region",
        "SELECT a.id, b.region FROM sales a JOIN sales_pq b ON a.id = b.id WHERE a.amount > 15",
        "SELECT region, sum(amount) FROM parted WHERE region <> 'north' GROUP BY region ORDER BY region",
        "SELECT region, id, rank() OVER (PARTITION BY region ORDER BY amount DESC) FROM sales_pq",
        "SELECT upper(region), concat(region, '-', CAST(id AS STRING)), 7.0 / 2 FROM sales ORDER BY id LIMIT 3",
        "SELECT region, count(DISTINCT id) FROM sales GROUP BY region WITH ROLLUP ORDER BY region",
    ];
    let mut local = Vec::new();
    for q in queries {
        local.push(rows(&mut s, q).await);
    }
    s.execute(&format!("SET hiveql.cluster={cluster}")).await.unwrap();
    // the workers register within a few seconds of starting
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match s.execute_collect("SELECT count(*) FROM sales").await {
            Ok(_) => break,
            Err(e) if Instant::now() < deadline => {
                eprintln!("cluster not ready: {e}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => panic!("cluster never answered: {e}"),
        }
    }
    for (q, want) in queries.iter().zip(&local) {
        assert!(!want.is_empty(), "{q} returned nothing in-process");
        assert_eq!(&rows(&mut s, q).await, want, "{q}");
    }
    // the scheduler gone: a clear error naming it, within seconds
    drop(workers);
    drop(scheduler);
    let started = Instant::now();
    let err = s.execute_collect(queries[1]).await.expect_err("no scheduler, no answer").to_string();
    assert!(err.contains(&format!("cluster {cluster}")), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    // an empty setting runs in-process again
    s.execute("SET hiveql.cluster=").await.unwrap();
    assert_eq!(rows(&mut s, queries[1]).await, local[1]);
}

fn hiveql(home: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(hiveql_bin()).env("HIVEQL_HOME", home).args(args).output().expect("run hiveql")
}

#[test]
fn cluster_start_runs_a_scheduler_and_workers_that_sessions_use() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let nn_port = free_port().to_string();
    let start = hiveql(h, &["cluster", "start", "--datanodes", "1", "--workers", "2", "--port", &nn_port]);
    let out = String::from_utf8_lossy(&start.stdout).to_string();
    assert!(start.status.success(), "{out}{}", String::from_utf8_lossy(&start.stderr));
    assert!(out.contains("started a query scheduler at 127.0.0.1:"), "{out}");
    let conf = std::fs::read_to_string(h.join("hiveql.conf")).unwrap();
    assert!(conf.contains("hiveql.cluster=127.0.0.1:"), "{conf}");

    let status = hiveql(h, &["cluster", "status"]);
    let text = String::from_utf8_lossy(&status.stdout).to_string();
    assert!(text.contains("scheduler 127.0.0.1:") && text.contains("worker 1 (pid"), "{text}");
    assert!(!text.contains("NOT RUNNING"), "{text}");

    let sales = data_dir().join("sales");
    let ddl = format!(
        "CREATE EXTERNAL TABLE sales (id INT, region STRING, amount DECIMAL(10,2), sold_on DATE) \
         ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION '{}' TBLPROPERTIES ('skip.header.line.count'='1')",
        sales.display()
    );
    let q = "SELECT region, count(*), sum(amount) FROM sales GROUP BY region ORDER BY region";
    let created = hiveql(h, &["--hiveconf", "hiveql.cluster=", "-e", &ddl]);
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let local = hiveql(h, &["--silent", "--hiveconf", "hiveql.cluster=", "-e", q]);
    let on_cluster = hiveql(h, &["--silent", "-e", q]);
    assert!(on_cluster.status.success(), "{}", String::from_utf8_lossy(&on_cluster.stderr));
    assert_eq!(String::from_utf8_lossy(&on_cluster.stdout), String::from_utf8_lossy(&local.stdout));

    let stop = hiveql(h, &["cluster", "stop"]);
    assert!(stop.status.success());
    // the configured scheduler is gone: the session says which one it could not reach
    let after = hiveql(h, &["--silent", "-e", q]);
    assert!(!after.status.success());
    assert!(
        String::from_utf8_lossy(&after.stderr).contains("cluster 127.0.0.1:"),
        "{}",
        String::from_utf8_lossy(&after.stderr)
    );
}
