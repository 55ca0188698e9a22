//! Cancelling a statement, as the REPL's Ctrl-C and the wire endpoint's
//! CancelRequest do it: the task running the statement is aborted. For every
//! plan shape the task is gone within a second, its CPU use stops, and a
//! cancelled INSERT leaves nothing visible in the table.

use std::time::{Duration, Instant};

use futures::StreamExt;
use hiveql_engine::{Session, SessionOptions, StatementOutput};

/// CPU seconds this process has used (user + system), from /proc.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = stat.rsplit_once(')').unwrap().1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    (fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap()) / 100.0
}

/// Run `sql` to the end, reading every row, the way a client does.
async fn run(mut session: Session, sql: String) -> usize {
    match session.execute(&sql).await.unwrap() {
        StatementOutput::Rows(mut stream) => {
            let mut rows = 0;
            while let Some(b) = stream.next().await {
                rows += b.unwrap().num_rows();
            }
            rows
        }
        StatementOutput::Done(_) | StatementOutput::Written { .. } => 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aborting_the_task_stops_every_plan_shape() {
    let home = tempfile::tempdir().unwrap();
    let mut s = Session::open(SessionOptions { home: home.path().into(), ..Default::default() }).unwrap();
    s.execute_collect("CREATE TABLE big (k BIGINT)").await.unwrap();
    s.execute_collect("INSERT INTO big SELECT value FROM range(200000)").await.unwrap();
    s.execute_collect("CREATE TABLE out (k BIGINT)").await.unwrap();
    s.execute_collect("CREATE TABLE pout (k BIGINT) PARTITIONED BY (p BIGINT)").await.unwrap();
    s.execute_collect("SET hive.exec.dynamic.partition.mode=nonstrict").await.unwrap();
    let shapes = [
        ("nested-loop join", "SELECT count(*) FROM big a CROSS JOIN big b WHERE a.k * b.k % 7 = 3"),
        ("hash join", "SELECT count(*) FROM big a JOIN big b ON a.k % 20 = b.k % 20"),
        ("sort", "SELECT k FROM (SELECT a.k * 200000 + b.k AS k FROM big a CROSS JOIN big b) t ORDER BY k DESC"),
        ("aggregate", "SELECT count(DISTINCT value % 1000000007) FROM range(3000000000)"),
        ("window", "SELECT max(r) FROM (SELECT row_number() OVER (ORDER BY -value) AS r FROM range(300000000)) t"),
        ("scan", "SELECT count(*) FROM big a CROSS JOIN big b CROSS JOIN big c"),
        ("write", "INSERT INTO out SELECT a.k FROM big a CROSS JOIN big b WHERE a.k * b.k % 7 = 3"),
        (
            "dynamic-partition write",
            "INSERT INTO pout PARTITION (p) SELECT a.k, a.k % 5 FROM big a CROSS JOIN big b WHERE a.k * b.k % 7 = 3",
        ),
    ];
    for (shape, sql) in shapes {
        let before = cpu_seconds();
        let task = tokio::spawn(run(s.clone(), sql.to_string()));
        // wait until the query is seen working: a CPU second spent on it
        let start = Instant::now();
        while cpu_seconds() < before + 1.0 {
            assert!(start.elapsed() < Duration::from_secs(60), "{shape}: the query never started");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(!task.is_finished(), "{shape}: finished before it could be cancelled; make it heavier");
        let aborted = Instant::now();
        task.abort();
        let joined = task.await;
        let took = aborted.elapsed();
        assert!(joined.unwrap_err().is_cancelled(), "{shape}");
        assert!(took < Duration::from_secs(1), "{shape}: the task lived on for {took:?} after the abort");
        // nothing of it keeps running in other tasks either: a task left
        // running would burn a whole core (1 CPU second per second); the
        // allowance is for the runtime and a batch finishing its last poll
        tokio::time::sleep(Duration::from_millis(500)).await;
        let idle = cpu_seconds();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let burnt = cpu_seconds() - idle;
        assert!(burnt < 0.5, "{shape}: {burnt:.2} CPU seconds spent in the second after the cancel");
    }
    // the cancelled INSERTs left no rows, no partition and no visible file
    for table in ["out", "pout"] {
        let rows = s.execute_collect(&format!("SELECT count(*) FROM {table}")).await.unwrap();
        let n = rows[0].column(0).as_any().downcast_ref::<datafusion::arrow::array::Int64Array>().unwrap().value(0);
        assert_eq!(n, 0, "{table}");
        let dir = home.path().join("warehouse").join(table);
        let visible: Vec<String> = std::fs::read_dir(&dir)
            .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        assert!(visible.iter().all(|n| n.starts_with('.')), "{table}: {visible:?}");
        // and its staging directory is cleaned up
        let start = Instant::now();
        while std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0) > 0 {
            assert!(start.elapsed() < Duration::from_secs(5), "staging left behind in {}", dir.display());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    assert!(s.execute_collect("SHOW PARTITIONS pout").await.unwrap().iter().all(|b| b.num_rows() == 0));
}
