//! Queries on a cluster: a real `hiveql scheduler` and two `hiveql worker`
//! processes on loopback ports; a session sends its plans there with
//! `SET hiveql.cluster=HOST:PORT` and must get the rows it gets in-process.

use std::process::Command;
use std::time::{Duration, Instant};

use hiveql_engine::{Session, SessionOptions};
use hiveql_tests::cluster::{LocalCluster, free_port};
use hiveql_tests::{data_dir, format_rows, hiveql_bin};

#[path = "support/big_table.rs"]
mod big_table;
use big_table::{big_table_ddl, block_store_with_big_table, write_big_table};

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
    let cluster = LocalCluster::start(home.path(), 2, 2);
    let addr = cluster.addr.clone();
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
        // functions only hiveql has: the scheduler and the workers must know them
        "SELECT id, amount / 3, amount % 7, unix_timestamp(concat(CAST(sold_on AS STRING), ' 10:00:00')) FROM sales",
    ];
    let mut local = Vec::new();
    for q in queries {
        local.push(rows(&mut s, q).await);
    }
    cluster.wait_ready().await;
    s.execute(&format!("SET hiveql.cluster={addr}")).await.unwrap();
    for (q, want) in queries.iter().zip(&local) {
        assert!(!want.is_empty(), "{q} returned nothing in-process");
        assert_eq!(&rows(&mut s, q).await, want, "{q}");
    }
    // EXPLAIN shows the stages: a map stage scanning the file, hashing on
    // the group key; a reduce stage reading its shuffle output
    let explain = s.execute_collect(queries[1].replace("SELECT", "EXPLAIN SELECT").as_str()).await.unwrap();
    let text = format_rows(&explain, " | ").join("\n");
    assert!(text.contains(&format!("stage 1 on {addr}")), "{text}");
    assert!(text.contains("reads hive-text scan of 1 file (1 split) under file:///"), "{text}");
    assert!(text.contains("writes hash [region@0] into"), "{text}");
    assert!(text.contains("reads stage 1 (shuffle"), "{text}");
    assert!(text.contains("returns 1 partition to the client"), "{text}");
    // the session's settings reach the plan and the workers: the shuffle
    // partition count, the session time zone the functions use
    s.execute("SET datafusion.execution.target_partitions=3").await.unwrap();
    let explain = s.execute_collect(queries[1].replace("SELECT", "EXPLAIN SELECT").as_str()).await.unwrap();
    let text = format_rows(&explain, " | ").join("\n");
    assert!(text.contains("into 3 partitions"), "{text}");
    let zoned = "SELECT id, from_unixtime(id * 86399), unix_timestamp(concat('2024-03-10 0', CAST(id % 10 AS STRING), ':30:00')) FROM sales ORDER BY id";
    for zone in ["Asia/Kolkata", "America/Los_Angeles"] {
        s.execute(&format!("SET hive.local.time.zone={zone}")).await.unwrap();
        let there = rows(&mut s, zoned).await;
        s.execute("SET hiveql.cluster=").await.unwrap();
        assert_eq!(there, rows(&mut s, zoned).await, "{zone}");
        s.execute(&format!("SET hiveql.cluster={addr}")).await.unwrap();
    }
    // the scheduler gone: a clear error naming it, within seconds
    drop(cluster);
    let started = Instant::now();
    let err = s.execute_collect(queries[1]).await.expect_err("no scheduler, no answer").to_string();
    assert!(err.contains(&format!("cluster {addr}")), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    // an empty setting runs in-process again
    s.execute("SET hiveql.cluster=").await.unwrap();
    assert_eq!(rows(&mut s, queries[1]).await, local[1]);
}

/// The data files in a table's directory (not the hidden ones).
fn data_files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| !n.starts_with('.') && !n.starts_with('_'))
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_on_a_cluster_are_written_by_its_tasks_and_published_once() {
    let home = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::start(home.path(), 2, 2);
    cluster.wait_ready().await;
    let mut s = Session::open(SessionOptions {
        home: home.path().into(),
        hiveconf: vec![("hiveql.cluster".into(), cluster.addr.clone())],
        ..Default::default()
    })
    .unwrap();
    let out = home.path().join("out");
    for st in [
        format!(
            "CREATE EXTERNAL TABLE sales (id INT, region STRING, amount DECIMAL(10,2), sold_on DATE) \
             ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION '{}' TBLPROPERTIES ('skip.header.line.count'='1')",
            data_dir().join("sales").display()
        ),
        "CREATE TABLE by_region AS SELECT region, count(*) AS n, sum(amount) AS total FROM sales GROUP BY region"
            .into(),
        "CREATE TABLE sales_pq STORED AS PARQUET AS SELECT * FROM sales".into(),
        "INSERT INTO by_region SELECT region, count(*), sum(amount) FROM sales_pq GROUP BY region".into(),
        format!("INSERT OVERWRITE DIRECTORY '{}' SELECT id, region FROM sales WHERE amount > 15", out.display()),
    ] {
        let done = s.execute(&st).await.unwrap_or_else(|e| panic!("{st}: {e}"));
        // the workers wrote the files, not this process
        if let hiveql_engine::StatementOutput::Written { message: msg, .. } = done {
            assert!(msg.ends_with(&format!("by the tasks of cluster {}", cluster.addr)), "{st}: {msg}");
        } else {
            assert!(st.starts_with("CREATE EXTERNAL"), "{st}: no message");
        }
    }
    let on_cluster = [
        rows(&mut s, "SELECT * FROM by_region").await,
        rows(&mut s, "SELECT * FROM sales_pq").await,
        rows(&mut s, "SELECT count(*) FROM by_region").await,
    ];
    // the same rows as the sources in-process; each row written once
    s.execute("SET hiveql.cluster=").await.unwrap();
    let mut twice = rows(&mut s, "SELECT region, count(*), sum(amount) FROM sales GROUP BY region").await;
    twice.extend(twice.clone());
    twice.sort();
    assert_eq!(on_cluster[0], twice);
    assert_eq!(on_cluster[1], rows(&mut s, "SELECT * FROM sales").await);
    // Hive's file names, the second INSERT's next to the first's; no
    // staging directory left behind
    let wh = home.path().join("warehouse");
    let files = data_files(&wh.join("by_region"));
    assert!(files.iter().all(|f| f.starts_with("0000")), "{files:?}");
    assert!(files.iter().any(|f| f.ends_with("_copy_1")) || files.len() >= 2, "{files:?}");
    for dir in [wh.join("by_region"), wh.join("sales_pq"), out.clone()] {
        let hidden: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| n.starts_with(".hive-staging"))
            .collect();
        assert!(hidden.is_empty(), "{}: {hidden:?}", dir.display());
    }
    let text: String = data_files(&out).iter().map(|f| std::fs::read_to_string(out.join(f)).unwrap()).collect();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort();
    let want: Vec<String> = rows(&mut s, "SELECT id, region FROM sales WHERE amount > 15").await;
    let want: Vec<String> = want.iter().map(|r| r.replace('|', "\u{1}")).collect();
    assert_eq!(lines, want);
}

/// Each bucket file's sorted lines, by file name, under `dir`.
fn bucket_files(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<String>> {
    data_files(dir)
        .into_iter()
        .map(|f| {
            let mut lines: Vec<String> =
                std::fs::read_to_string(dir.join(&f)).unwrap().lines().map(String::from).collect();
            lines.sort();
            (f, lines)
        })
        .collect()
}

/// Dynamic-partition and bucketed inserts run on the cluster too: its
/// tasks split their rows by partition and bucket, and the session
/// publishes the files into the partitions it registers. Same partitions,
/// same bucket files, same rows as the same statements in-process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitioned_and_bucketed_inserts_on_a_cluster_split_as_in_process() {
    let home = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::start(home.path(), 2, 2);
    cluster.wait_ready().await;
    let mut s = Session::open(SessionOptions { home: home.path().into(), ..Default::default() }).unwrap();
    s.execute(&format!(
        "CREATE EXTERNAL TABLE sales (id INT, region STRING, amount DECIMAL(10,2), sold_on DATE) \
         ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION '{}' TBLPROPERTIES ('skip.header.line.count'='1')",
        data_dir().join("sales").display()
    ))
    .await
    .unwrap();
    s.execute("SET hive.exec.dynamic.partition.mode=nonstrict").await.unwrap();
    let wh = home.path().join("warehouse");
    let mut answers = Vec::new();
    for (suffix, cluster_conf) in [("local", String::new()), ("dist", cluster.addr.clone())] {
        s.execute(&format!("SET hiveql.cluster={cluster_conf}")).await.unwrap();
        for st in [
            format!(
                "CREATE TABLE by_{suffix} (id INT, amount DECIMAL(10,2)) PARTITIONED BY (region STRING) STORED AS PARQUET"
            ),
            format!("INSERT INTO by_{suffix} PARTITION (region) SELECT id, amount, region FROM sales"),
            format!(
                "INSERT OVERWRITE TABLE by_{suffix} PARTITION (region) SELECT id, amount, region FROM sales WHERE amount > 15"
            ),
            format!("CREATE TABLE b_{suffix} (id INT, region STRING) CLUSTERED BY (id) INTO 4 BUCKETS"),
            format!("INSERT OVERWRITE TABLE b_{suffix} SELECT id, region FROM sales"),
            format!(
                "CREATE TABLE pb_{suffix} (id INT) PARTITIONED BY (region STRING) CLUSTERED BY (id) INTO 2 BUCKETS"
            ),
            format!("INSERT INTO pb_{suffix} PARTITION (region) SELECT id, region FROM sales"),
        ] {
            let done = s.execute(&st).await.unwrap_or_else(|e| panic!("{st}: {e}"));
            if let hiveql_engine::StatementOutput::Written { message: msg, .. } = done
                && st.starts_with("INSERT")
            {
                let on_cluster = msg.ends_with(&format!("by the tasks of cluster {}", cluster.addr));
                assert_eq!(on_cluster, suffix == "dist", "{st}: {msg}");
            }
        }
        s.execute("SET hiveql.cluster=").await.unwrap();
        let mut partition_dirs = data_files(&wh.join(format!("by_{suffix}")));
        partition_dirs.extend(data_files(&wh.join(format!("pb_{suffix}"))));
        let pb_files: Vec<_> = data_files(&wh.join(format!("pb_{suffix}")))
            .iter()
            .map(|p| bucket_files(&wh.join(format!("pb_{suffix}")).join(p)))
            .collect();
        answers.push((
            rows(&mut s, &format!("SELECT * FROM by_{suffix}")).await,
            rows(&mut s, &format!("SHOW PARTITIONS by_{suffix}")).await,
            partition_dirs,
            bucket_files(&wh.join(format!("b_{suffix}"))),
            pb_files,
            rows(&mut s, &format!("SELECT * FROM pb_{suffix}")).await,
        ));
    }
    let (local, dist) = (&answers[0], &answers[1]);
    assert!(!local.0.is_empty() && local.1.len() > 1 && local.3.len() == 4, "{local:?}");
    assert_eq!(local, dist);
    // nothing staged is left behind
    for t in ["by_dist", "b_dist", "pb_dist"] {
        let dir = wh.join(t);
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| n.starts_with(".hive-staging"))
            .collect();
        assert!(left.is_empty(), "{t}: {left:?}");
    }
}

async fn big_table_session(home: &std::path::Path, data: &std::path::Path) -> Session {
    let mut s = Session::open(SessionOptions { home: home.into(), ..Default::default() }).unwrap();
    s.execute(&big_table_ddl(&data.display().to_string())).await.unwrap();
    s
}

const BIG_QUERY: &str = "SELECT v % 7, count(*), sum(k), max(t) FROM big GROUP BY v % 7 ORDER BY 1";

/// Run [`BIG_QUERY`] on two workers of one slot and kill -9 the first
/// worker whose log shows a line with all of `parts`, `delay` after it:
/// the query still gives the in-process answer, in bounded time.
async fn kill_a_worker_when_it_logs(parts: &[&str], delay: Duration) {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("big");
    write_big_table(&data, 4, 500_000);
    let mut s = big_table_session(home.path(), &data).await;
    let want = rows(&mut s, BIG_QUERY).await;
    let logs = home.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let mut cluster = LocalCluster::start_logged(home.path(), 2, 1, Some(logs));
    cluster.wait_ready().await;
    s.execute(&format!("SET hiveql.cluster={}", cluster.addr)).await.unwrap();
    let from = cluster.worker_log_lens();
    let started = Instant::now();
    let query = tokio::spawn(async move {
        let got = rows(&mut s, BIG_QUERY).await;
        (got, s)
    });
    let victim = cluster.wait_for_worker_log(&from, parts, Duration::from_secs(60)).await;
    tokio::time::sleep(delay).await;
    cluster.workers[victim].kill();
    let killed_at = started.elapsed();
    let (got, _s) = tokio::time::timeout(Duration::from_secs(90), query).await.expect("the query hung").unwrap();
    if got != want {
        let kept = home.keep();
        panic!("worker killed at {killed_at:?}: got {got:?}, want {want:?}; logs in {}", kept.join("logs").display());
    }
    eprintln!("worker killed at {killed_at:?}; answered in {:?}", started.elapsed());
}

/// A worker killed while its map task runs: the task runs again elsewhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_query_costs_a_retry_not_the_query() {
    kill_a_worker_when_it_logs(&["Execute task", "/1.0/"], Duration::from_millis(150)).await;
}

/// A worker killed the moment its map task is done, as the reduce stage
/// is launched: its map output is lost with it and computed again, and
/// the reduce tasks that were cancelled give their slots back (Ballista
/// alone loses them, and the query waited forever; see `dist::slots`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_after_its_map_task_costs_a_rerun_not_the_query() {
    kill_a_worker_when_it_logs(&["Finished task", "/1.0/"], Duration::ZERO).await;
}

/// A `big` table of 4 files of `lines` lines each in `home`, a cluster of
/// one worker (one slot) logging into `home/logs`, and a session on both.
async fn big_table_on_one_worker(home: &std::path::Path, lines: usize) -> (Session, LocalCluster, std::path::PathBuf) {
    let data = home.join("big");
    write_big_table(&data, 4, lines);
    let mut s = big_table_session(home, &data).await;
    let logs = home.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let cluster = LocalCluster::start_logged(home, 1, 1, Some(logs.clone()));
    cluster.wait_ready().await;
    s.execute(&format!("SET hiveql.cluster={}", cluster.addr)).await.unwrap();
    (s, cluster, logs)
}

/// A statement dropped while its job runs (Ctrl-C in the REPL) cancels
/// the job on the cluster: the scheduler is told, cancels the job and its
/// running tasks (its log says so), and the cluster answers the next query.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_statement_cancels_its_job_on_the_cluster() {
    let home = tempfile::tempdir().unwrap();
    let (mut s, _cluster, logs) = big_table_on_one_worker(home.path(), 1_500_000).await;
    s.execute(
        "CREATE EXTERNAL TABLE small (k BIGINT) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION '{}'"
            .replace("{}", &data_dir().join("sales").display().to_string())
            .as_str(),
    )
    .await
    .unwrap();
    let started = Instant::now();
    rows(&mut s, BIG_QUERY).await;
    let whole = started.elapsed();
    // the same query, abandoned a moment after it started
    let abandoned = tokio::time::timeout(whole / 4, s.execute_collect(BIG_QUERY)).await;
    assert!(abandoned.is_err(), "the query finished within a quarter of its time");
    let log = || {
        std::fs::read_dir(&logs)
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap_or_default())
            .collect::<String>()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(log().contains("Job cancelled") && log().contains("running tasks for job")) {
        assert!(Instant::now() < deadline, "the job was not cancelled on the cluster:\n{}", log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let started = Instant::now();
    rows(&mut s, "SELECT count(*) FROM small").await;
    eprintln!("whole query {whole:?}; the next one after a cancel {:?}", started.elapsed());
}

/// A job that stalls (its only worker hangs, stopped, while the scheduler
/// still counts it alive) ends at the session's `hive.query.timeout.seconds`
/// with a timed-out error, and the scheduler cancels it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_job_ends_at_the_query_timeout() {
    let home = tempfile::tempdir().unwrap();
    let (mut s, mut cluster, _logs) = big_table_on_one_worker(home.path(), 100_000).await;
    let expected = rows(&mut s, BIG_QUERY).await;
    s.execute("SET hive.query.timeout.seconds=3").await.unwrap();
    let worker = cluster.workers[0].child.id() as libc::pid_t;
    unsafe { libc::kill(worker, libc::SIGSTOP) };
    let started = Instant::now();
    let e = s.execute_collect(BIG_QUERY).await.unwrap_err();
    let took = started.elapsed();
    unsafe { libc::kill(worker, libc::SIGCONT) };
    assert!(matches!(e, hiveql_engine::HiveError::TimedOut(_)), "{e}");
    assert_eq!(e.to_string(), "FAILED [Error 20005]: query timed out after 3 s (hive.query.timeout.seconds)");
    // the scheduler would count the stopped worker lost after 8 s: the timeout came first
    assert!(took >= Duration::from_secs(3) && took < Duration::from_secs(6), "timed out after {took:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cluster.scheduler.log_text().contains("Job cancelled") {
        assert!(Instant::now() < deadline, "the job was not cancelled:\n{}", cluster.scheduler.log_text());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // the worker, running again, answers the next query
    s.execute("SET hive.query.timeout.seconds=0").await.unwrap();
    assert_eq!(rows(&mut s, BIG_QUERY).await, expected);
    assert!(cluster.workers[0].child.try_wait().unwrap().is_none());
}

/// Ctrl-C on `hiveql -e` while a worker runs the job's tasks: the process
/// exits (130) only after the job's cancel has reached the scheduler, so
/// the job does not run on without anyone waiting for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_on_hiveql_e_cancels_its_job_before_exiting() {
    ctrl_c_on_hiveql_e_cancels(Interrupt::TaskRunning).await;
}

/// Ctrl-C on `hiveql -e` while its job is being submitted (the scheduler
/// has it, the client has not yet heard its id): still cancelled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_while_the_job_is_submitted_still_cancels_it() {
    ctrl_c_on_hiveql_e_cancels(Interrupt::Submitting).await;
}

/// When the test sends SIGINT to `hiveql -e`.
enum Interrupt {
    /// As the scheduler receives the job.
    Submitting,
    /// As a worker starts one of its tasks.
    TaskRunning,
}

async fn ctrl_c_on_hiveql_e_cancels(when: Interrupt) {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("big");
    write_big_table(&data, 4, 1_500_000);
    drop(big_table_session(home.path(), &data).await);
    let logs = home.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let cluster = LocalCluster::start_logged(home.path(), 1, 1, Some(logs));
    cluster.wait_ready().await;
    let from = cluster.worker_log_lens();
    let mut child = Command::new(hiveql_bin())
        .env("HIVEQL_HOME", home.path())
        .args(["--hiveconf", &format!("hiveql.cluster={}", cluster.addr), "-e", BIG_QUERY])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    match when {
        Interrupt::TaskRunning => {
            cluster.wait_for_worker_log(&from, &["Execute task"], Duration::from_secs(60)).await;
        }
        Interrupt::Submitting => {
            let deadline = Instant::now() + Duration::from_secs(60);
            while cluster.scheduler.log_text().matches("execution query job received").count() < 2 {
                assert!(Instant::now() < deadline, "the scheduler never received the job");
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    }
    // SAFETY: sends SIGINT to the child this test started.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let sent = Instant::now();
    let status = child.wait().unwrap();
    let exited = sent.elapsed();
    assert_eq!(status.code(), Some(130), "{status:?}");
    // the scheduler logs a cancel as it handles it; give the log a moment to be written
    let deadline = Instant::now() + Duration::from_secs(2);
    while !cluster.scheduler.log_text().contains("Job cancelled") {
        assert!(
            Instant::now() < deadline,
            "hiveql exited {exited:?} after SIGINT and its job was not cancelled:\n{}",
            cluster.scheduler.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(exited < Duration::from_secs(3), "exited {exited:?} after SIGINT");
    eprintln!("exited {exited:?} after SIGINT, its job cancelled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_workers_lost_fails_the_query_in_bounded_time() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("big");
    write_big_table(&data, 4, 500_000);
    let mut s = big_table_session(home.path(), &data).await;
    let mut cluster = LocalCluster::start(home.path(), 2, 1);
    cluster.wait_ready().await;
    s.execute(&format!("SET hiveql.cluster={}", cluster.addr)).await.unwrap();
    let query = tokio::spawn(async move { s.execute_collect(BIG_QUERY).await.map(|_| ()).map_err(|e| e.to_string()) });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    for w in &mut cluster.workers {
        w.kill();
    }
    let outcome = tokio::time::timeout(Duration::from_secs(60), query).await.expect("the query hung").unwrap();
    let err = outcome.expect_err("no worker left, no answer");
    assert!(err.contains(&format!("cluster {}", cluster.addr)), "{err}");
    eprintln!("failed after {:?}: {err}", started.elapsed());
    // a new worker registers and the cluster answers again
    let _worker = LocalCluster::start_worker(home.path(), &cluster.addr, 1);
    cluster.wait_ready().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_scheduler_takes_queries_and_its_workers_come_back() {
    let home = tempfile::tempdir().unwrap();
    let mut cluster = LocalCluster::start(home.path(), 2, 1);
    cluster.wait_ready().await;
    cluster.restart_scheduler(home.path());
    // the workers' heartbeats reach the new scheduler, which takes them on
    let started = Instant::now();
    cluster.wait_ready().await;
    eprintln!("answering again {:?} after the restart", started.elapsed());
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

/// Runs `args` as the unprivileged user `nobody` (through `setpriv`), or
/// `None` where this process cannot switch users (not root).
fn as_nobody(args: &[&str]) -> Option<std::process::Output> {
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .args(args)
        .output()
        .ok()?;
    let err = String::from_utf8_lossy(&out.stderr);
    (!err.starts_with("setpriv:")).then_some(out)
}

/// What `hiveql cluster start`'s daemons keep on disk (block replicas, the
/// namespace, logs that name each worker's id, shuffle files under
/// directories named by job ids) is readable without the cluster's secret,
/// so another local user cannot read it, even where the home is open to
/// all; and a job's id, all that a worker's control calls to cancel its
/// tasks or remove its shuffle files take, cannot be guessed.
#[test]
fn what_a_cluster_keeps_on_disk_is_its_owners_only() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    std::fs::set_permissions(h, std::fs::Permissions::from_mode(0o755)).unwrap();
    let nn_port = free_port().to_string();
    let start = hiveql(h, &["cluster", "start", "--datanodes", "1", "--workers", "1", "--port", &nn_port]);
    assert!(start.status.success(), "{}", String::from_utf8_lossy(&start.stderr));
    let sales = data_dir().join("sales").join("sales.csv");
    let put = hiveql(h, &["dfs", "-put", sales.to_str().unwrap(), "/sales.csv"]);
    assert!(put.status.success(), "{}", String::from_utf8_lossy(&put.stderr));
    let ddl = format!(
        "CREATE EXTERNAL TABLE sales (id INT, region STRING) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' \
         LOCATION '{}' TBLPROPERTIES ('skip.header.line.count'='1')",
        data_dir().join("sales").display()
    );
    let q = "SELECT region, count(*) FROM sales GROUP BY region ORDER BY region";
    let ran = hiveql(h, &["--silent", "-e", &format!("{ddl}; {q}")]);
    assert!(ran.status.success(), "{}", String::from_utf8_lossy(&ran.stderr));

    let cluster = h.join("cluster");
    let log = cluster.join("logs").join("worker0.log");
    let log_text = std::fs::read_to_string(&log).unwrap();
    let work_dir = log_text
        .lines()
        .find_map(|l| l.split("Executor working directory: ").nth(1))
        .map(|d| std::path::PathBuf::from(d.trim()))
        .unwrap_or_else(|| panic!("the worker's log names no work directory:\n{log_text}"));
    for dir in [&cluster, &cluster.join("nn"), &cluster.join("dn0"), &work_dir] {
        assert_eq!(mode(dir), 0o700, "{} is open to others", dir.display());
    }
    // the job's shuffle directory is named by an id of 122 random bits
    let jobs: Vec<String> =
        std::fs::read_dir(&work_dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(!jobs.is_empty(), "no shuffle files in {}", work_dir.display());
    for job in &jobs {
        assert!(job.len() == 32 && job.bytes().all(|b| b.is_ascii_hexdigit()), "a guessable job id: {job}");
    }
    // as another user: nothing there can be listed or read
    let (block_dir, name_dir) = (cluster.join("dn0"), cluster.join("nn"));
    let tries: [&[&str]; 4] = [
        &["cat", log.to_str().unwrap()],
        &["ls", work_dir.to_str().unwrap()],
        &["ls", "-R", block_dir.to_str().unwrap()],
        &["ls", name_dir.to_str().unwrap()],
    ];
    match as_nobody(&["true"]) {
        Some(_) => {
            for args in tries {
                let out = as_nobody(args).unwrap();
                let err = String::from_utf8_lossy(&out.stderr);
                assert!(!out.status.success() && err.contains("Permission denied"), "{args:?} as nobody: {err}");
            }
        }
        None => eprintln!("not root: the modes alone were checked"),
    }
    assert!(hiveql(h, &["cluster", "stop"]).status.success());
    // a worker's temporary work directory goes with it
    assert!(!work_dir.exists(), "{} outlived its worker", work_dir.display());
}

/// A session opened on `home` with `hiveql.cluster` naming `addr`, over the
/// `sales` sample table.
async fn sales_session(home: &std::path::Path, addr: &str) -> Session {
    let mut s = Session::open(SessionOptions {
        home: home.into(),
        hiveconf: vec![("hiveql.cluster".into(), addr.into())],
        ..Default::default()
    })
    .unwrap();
    let ddl = format!(
        "CREATE EXTERNAL TABLE sales (id INT, region STRING) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' \
         LOCATION '{}' TBLPROPERTIES ('skip.header.line.count'='1')",
        data_dir().join("sales").display()
    );
    s.execute(&ddl).await.unwrap();
    s
}

/// A stage task, encoded as the scheduler sends it, that reads `file` as CSV
/// and writes it to a shuffle file.
async fn task_reading(file: &std::path::Path) -> Vec<u8> {
    use datafusion::prelude::{CsvReadOptions, SessionContext};
    use datafusion_proto::physical_plan::AsExecutionPlan;
    let options = CsvReadOptions::new().has_header(false).file_extension("");
    let scan = SessionContext::new()
        .read_csv(file.to_str().unwrap(), options)
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    let writer = ballista_core::execution_plans::ShuffleWriterExec::try_new(
        "stranger".to_string().into(),
        1,
        scan,
        "/tmp".into(),
    )
    .unwrap();
    let codec = hiveql_engine::dist::codec::HiveCodec::default();
    let mut bytes = Vec::new();
    datafusion_proto::protobuf::PhysicalPlanNode::try_from_physical_plan(std::sync::Arc::new(writer), &codec)
        .unwrap()
        .try_encode(&mut bytes)
        .unwrap();
    bytes
}

/// Without the cluster's secret, nothing gets in: not a session, not a
/// worker registering, not a stranger's request to a worker's task or
/// shuffle service or to the scheduler; each gets `Unauthenticated`
/// saying why; a task sent straight to the task service's loopback alias
/// without the token of the secret is refused. With the secret, a damaged
/// plan sent to the scheduler or a worker is refused or fails. Every role
/// keeps running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_without_the_secret_are_refused_and_nothing_breaks() {
    use ballista_core::serde::protobuf::executor_grpc_client::ExecutorGrpcClient;
    use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
    use ballista_core::serde::protobuf::{
        CancelTasksParams, ExecuteQueryParams, ExecutorRegistration, GetJobStatusParams, KeyValuePair,
        LaunchMultiTaskParams, MultiTaskDefinition, RegisterExecutorParams, RemoveJobDataParams, RunningTaskInfo,
        StopExecutorParams, TaskId, execute_query_params, execute_query_result, job_status,
    };

    let home = tempfile::tempdir().unwrap();
    let logs = home.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let mut cluster = LocalCluster::start_logged(home.path(), 1, 1, Some(logs.clone()));
    cluster.wait_ready().await;
    let q = "SELECT region, count(*) FROM sales GROUP BY region ORDER BY region";

    // sessions: a home with another secret, a home with none
    let other = tempfile::tempdir().unwrap();
    std::fs::write(other.path().join("cluster.secret"), "not-the-cluster-secret").unwrap();
    let mut s = sales_session(other.path(), &cluster.addr).await;
    let e = s.execute_collect(q).await.unwrap_err().to_string();
    assert!(e.contains("wrong cluster secret") && e.contains(&cluster.addr), "{e}");
    let none = tempfile::tempdir().unwrap();
    let mut s = sales_session(none.path(), &cluster.addr).await;
    let e = s.execute_collect(q).await.unwrap_err().to_string();
    assert!(e.contains("request without the cluster secret"), "{e}");

    // a worker with another secret never joins: the scheduler refuses it
    let rogue_home = tempfile::tempdir().unwrap();
    std::fs::write(rogue_home.path().join("cluster.secret"), "rogue").unwrap();
    let mut rogue = LocalCluster::start_worker_logged(rogue_home.path(), &cluster.addr, 1, Some(logs));
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cluster.scheduler.log_text().contains("refused: wrong cluster secret") {
        assert!(Instant::now() < deadline, "the scheduler did not refuse the rogue worker:\n{}", rogue.log_text());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // strangers' raw requests
    let stranger = |addr: &str| tonic::transport::Endpoint::from_shared(format!("http://{addr}")).unwrap();
    let worker = &cluster.workers[0];
    let (host, port) = worker.addr.rsplit_once(':').unwrap();
    let task_service = format!("{host}:{}", port.parse::<u16>().unwrap() + 1);
    let mut tasks = ExecutorGrpcClient::new(stranger(&task_service).connect().await.unwrap());
    let stop = StopExecutorParams { executor_id: String::new(), reason: "stranger".into(), force: true };
    let e = tasks.stop_executor(stop).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::Unauthenticated, "{e}");
    let mut shuffle =
        arrow_flight::flight_service_client::FlightServiceClient::new(stranger(&worker.addr).connect().await.unwrap());
    let ticket = arrow_flight::Ticket { ticket: b"../../etc/passwd".to_vec().into() };
    let e = shuffle.do_get(ticket).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::Unauthenticated, "{e}");
    let mut scheduler = SchedulerGrpcClient::new(stranger(&cluster.addr).connect().await.unwrap());
    let register =
        RegisterExecutorParams { metadata: Some(ExecutorRegistration { id: "stranger".into(), ..Default::default() }) };
    let e = scheduler.register_executor(register).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::Unauthenticated, "{e}");
    // a local user of the worker's host reaches the task service's own
    // address (the loopback alias behind its front) with no secret, and a
    // task that reads the home's secret file: refused before its plan is read
    let alias = format!("{}:{}", hiveql_engine::dist::auth::hidden_host(host), port.parse::<u16>().unwrap() + 1);
    let mut alias = ExecutorGrpcClient::new(stranger(&alias).connect().await.unwrap());
    let plan = task_reading(&home.path().join("cluster.secret")).await;
    let launch = |props: Vec<KeyValuePair>| LaunchMultiTaskParams {
        multi_tasks: vec![MultiTaskDefinition {
            task_ids: vec![TaskId { task_id: 0, global_output_partition_ids: vec![0], ..Default::default() }],
            job_id: "stranger".into(),
            stage_id: 1,
            stage_attempt_num: 0,
            plan: plan.clone(),
            session_id: "stranger".into(),
            launch_time: 0,
            props,
        }],
        scheduler_endpoint: cluster.addr.clone(),
    };
    let refused = alias.launch_multi_task(launch(vec![])).await.unwrap().into_inner();
    assert_eq!(refused.failed_jobs, vec!["stranger".to_string()], "a task without the token was taken");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !worker.log_text().contains("a task without the cluster's token is refused") {
        assert!(Instant::now() < deadline, "the worker did not say why it refused:\n{}", worker.log_text());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // the same task with the token is run: the token alone kept it out
    let secret = hiveql_storage::secret::Secret::discover(Some(home.path())).unwrap();
    let token = KeyValuePair {
        key: hiveql_engine::dist::auth::TASK_TOKEN.into(),
        value: hiveql_engine::dist::auth::task_token(&secret),
    };
    let taken = alias.launch_multi_task(launch(vec![token])).await.unwrap().into_inner();
    assert!(taken.failed_jobs.is_empty(), "{:?}", taken.failed_jobs);
    while !worker.log_text().contains("Execute task  : [TID stranger/1.0/0.0]") {
        assert!(Instant::now() < deadline, "the task with the token did not run:\n{}", worker.log_text());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // the alias's control calls act on a worker or a job only by its id,
    // which a stranger cannot guess: a stop, cancels and removals with made-up
    // ids change nothing (the worker runs on, below)
    let made_up = uuid::Uuid::new_v4().to_string();
    let stop = StopExecutorParams { executor_id: made_up.clone(), reason: "stranger".into(), force: true };
    alias.stop_executor(stop).await.unwrap();
    for job_id in ["", ".", "..", "/", made_up.as_str()] {
        let remove = RemoveJobDataParams { job_id: job_id.into(), remove_stage_ids: vec![] };
        alias.remove_job_data(remove).await.ok();
        let task = RunningTaskInfo { task_id: 0, job_id: job_id.into(), stage_id: 1 };
        alias.cancel_tasks(CancelTasksParams { task_infos: vec![task] }).await.ok();
    }
    // not even HTTP/2: the connection is dropped
    for addr in [&cluster.addr, &worker.addr, &task_service] {
        use std::io::Write;
        let mut raw = std::net::TcpStream::connect(addr.as_str()).unwrap();
        raw.write_all(&[0xde, 0xad, 0xbe, 0xef].repeat(4096)).ok();
    }

    // with the secret, a damaged plan: refused or failed, and nothing crashes
    let member = |addr: &str| hiveql_engine::dist::auth::endpoint_override(&secret)(stranger(addr)).unwrap();
    let mut scheduler = SchedulerGrpcClient::new(member(&cluster.addr).connect().await.unwrap());
    let garbage = b"HQL1\x03{not a plan".to_vec();
    let submit = ExecuteQueryParams {
        query: Some(execute_query_params::Query::PhysicalPlan(garbage.clone())),
        settings: vec![],
        session_id: "damaged".into(),
        operation_id: "damaged-1".into(),
    };
    match scheduler.execute_query(submit).await.map(|r| r.into_inner().result) {
        Err(_) | Ok(Some(execute_query_result::Result::Failure(_))) => {}
        Ok(Some(execute_query_result::Result::Success(ok))) => {
            // taken, then failed as it is planned
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let status = scheduler
                    .get_job_status(GetJobStatusParams { job_id: ok.job_id.clone() })
                    .await
                    .unwrap()
                    .into_inner()
                    .status
                    .and_then(|s| s.status);
                match status {
                    Some(job_status::Status::Failed(_)) => break,
                    Some(job_status::Status::Successful(_)) => panic!("a damaged plan ran"),
                    _ => assert!(Instant::now() < deadline, "the damaged job neither failed nor ended"),
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Ok(None) => panic!("the scheduler answered a damaged plan with nothing"),
    }
    let mut tasks = ExecutorGrpcClient::new(member(&task_service).connect().await.unwrap());
    let launch = LaunchMultiTaskParams {
        multi_tasks: vec![MultiTaskDefinition {
            task_ids: vec![TaskId {
                task_id: 0,
                task_attempt_num: 0,
                global_output_partition_ids: vec![0],
                ..Default::default()
            }],
            job_id: "damaged".into(),
            stage_id: 1,
            stage_attempt_num: 0,
            plan: garbage,
            session_id: "damaged".into(),
            launch_time: 0,
            props: vec![],
        }],
        scheduler_endpoint: String::new(),
    };
    match tasks.launch_multi_task(launch).await {
        Ok(r) => assert_eq!(r.into_inner().failed_jobs, vec!["damaged".to_string()], "a damaged task was taken"),
        Err(e) => assert_ne!(e.code(), tonic::Code::Unauthenticated, "{e}"),
    }

    // the cluster runs on, with its own worker only
    let mut s = sales_session(home.path(), &cluster.addr).await;
    assert!(!rows(&mut s, q).await.is_empty());
    for d in [&mut cluster.scheduler, &mut cluster.workers[0]] {
        assert!(d.child.try_wait().unwrap().is_none(), "a role died");
    }
    let rogue_log = rogue.log_text();
    assert_eq!(rogue_log.matches("Execute task").count(), 0, "the rogue worker ran tasks:\n{rogue_log}");
    // and it says why it stopped
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        match rogue.child.try_wait().unwrap() {
            Some(status) => break status,
            None if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
            None => panic!("the refused worker runs on:\n{rogue_log}"),
        }
    };
    let rogue_log = rogue.log_text();
    assert!(!status.success() && rogue_log.contains("Error: worker: ") && rogue_log.contains("wrong cluster secret"));
}

/// `hiveql -e` on a cluster shows its stages' tasks done as the job runs
/// (plain lines here, where `HIVEQL_PROGRESS=1` forces them off a
/// terminal), and nothing with `--silent`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_query_shows_its_stages_progress_unless_silent() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("big");
    write_big_table(&data, 4, 1_000_000);
    drop(big_table_session(home.path(), &data).await);
    let cluster = LocalCluster::start(home.path(), 1, 1);
    cluster.wait_ready().await;
    let run = |extra: &[&str]| {
        let mut args = vec!["--hiveconf".to_string(), format!("hiveql.cluster={}", cluster.addr)];
        args.extend(extra.iter().map(|a| a.to_string()));
        args.extend(["-e".to_string(), BIG_QUERY.to_string()]);
        let out = Command::new(hiveql_bin())
            .env("HIVEQL_HOME", home.path())
            .env("HIVEQL_PROGRESS", "1")
            .args(&args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let shown = run(&[]);
    let line = regex::Regex::new(r"stage (\d+): (\d+)/(\d+) tasks").unwrap();
    let seen: Vec<(u32, u32, u32)> = line
        .captures_iter(&shown)
        .map(|c| (c[1].parse().unwrap(), c[2].parse().unwrap(), c[3].parse().unwrap()))
        .collect();
    // the scan stage (a task per file group) and the stage after its shuffle
    assert!(seen.iter().any(|&(stage, _, total)| stage == 1 && total > 0), "{shown}");
    assert!(seen.iter().any(|&(stage, _, _)| stage == 2), "{shown}");
    assert!(seen.iter().any(|&(_, done, total)| done < total), "never a stage part done:\n{shown}");
    assert!(seen.iter().all(|&(_, done, total)| done <= total), "{shown}");
    let silent = run(&["--silent"]);
    assert!(!line.is_match(&silent) && !silent.contains("running"), "{silent}");
}

/// A datanode killed (`kill -9`) while the workers read a table on the
/// block store: reads move to the other replicas, or the task runs again,
/// and the query answers as before the kill.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_datanode_killed_mid_read_costs_a_retry_not_the_query() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    // four files in blocks of 1 MiB, a replica of each on every datanode
    let local = ["127.0.0.1"; 3];
    let (namenode, mut datanodes, _client) = block_store_with_big_table(h, &local, 100_000, 1 << 20, 3).await;
    let logs = h.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let cluster = LocalCluster::start_logged(h, 2, 1, Some(logs));
    cluster.wait_ready().await;
    let mut s = Session::open(SessionOptions { home: h.into(), ..Default::default() }).unwrap();
    for st in
        [big_table_ddl(&format!("dfs://{}/big", namenode.addr)), "SET datafusion.execution.target_partitions=8".into()]
    {
        s.execute(&st).await.unwrap();
    }
    let want = rows(&mut s, BIG_QUERY).await;
    s.execute(&format!("SET hiveql.cluster={}", cluster.addr)).await.unwrap();
    let from = cluster.worker_log_lens();
    let query = tokio::spawn(async move { s.execute_collect(BIG_QUERY).await.map(|b| format_rows(&b, "|")) });
    cluster.wait_for_worker_log(&from, &["Execute task"], Duration::from_secs(60)).await;
    assert!(!query.is_finished(), "the query ended before the kill");
    datanodes[0].kill();
    let got = tokio::time::timeout(Duration::from_secs(120), query)
        .await
        .expect("the query hangs after a datanode was killed")
        .unwrap()
        .unwrap_or_else(|e| panic!("the query failed after a datanode was killed: {e}"));
    assert_eq!(got, want);
}
