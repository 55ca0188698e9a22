//! Partition pruning opens only the selected partitions' files: the
//! session's local file system is wrapped in a store that counts every
//! file read and the bytes returned, and a query on one partition of a
//! many-partition table must read that partition's file and no other.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use futures::stream::BoxStream;
use hiveql_engine::{Session, SessionOptions};
use hiveql_tests::format_rows;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore, PutMultipartOptions,
    PutOptions, PutPayload, PutResult, RenameOptions, Result,
};

/// The local file system, counting the bytes read from each file.
#[derive(Debug)]
struct CountingStore {
    inner: LocalFileSystem,
    reads: Mutex<BTreeMap<String, u64>>,
}

impl fmt::Display for CountingStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Counting({})", self.inner)
    }
}

#[async_trait::async_trait]
impl ObjectStore for CountingStore {
    async fn put_opts(&self, location: &Path, payload: PutPayload, opts: PutOptions) -> Result<PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }
    async fn put_multipart_opts(&self, location: &Path, opts: PutMultipartOptions) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }
    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        let result = self.inner.get_opts(location, options).await?;
        let bytes = result.range.end - result.range.start;
        *self.reads.lock().unwrap().entry(location.to_string()).or_default() += bytes;
        Ok(result)
    }
    fn delete_stream(&self, locations: BoxStream<'static, Result<Path>>) -> BoxStream<'static, Result<Path>> {
        self.inner.delete_stream(locations)
    }
    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list(prefix)
    }
    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }
    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        self.inner.rename_opts(from, to, options).await
    }
}

async fn rows(s: &mut Session, sql: &str) -> Vec<String> {
    let batches = s.execute_collect(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    format_rows(&batches, "|")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pruned_query_reads_only_the_selected_partitions_files() {
    let home = tempfile::tempdir().unwrap();
    let mut s = Session::open(SessionOptions { home: home.path().to_path_buf(), ..Default::default() }).unwrap();
    for sql in [
        "CREATE TABLE ev (id INT, payload STRING) PARTITIONED BY (dt STRING, h INT) STORED AS PARQUET",
        "CREATE TABLE tx (id INT, payload STRING) PARTITIONED BY (dt STRING, h INT)",
        "SET hive.exec.dynamic.partition.mode=nonstrict",
    ] {
        s.execute(sql).await.unwrap();
    }
    // 6 days x 4 hours, 10 rows each, in Parquet and in text
    let values: Vec<String> = (0..240)
        .map(|i| format!("({i}, 'row {i} {}', '2024-01-0{}', {})", "x".repeat(50), 1 + i / 40, (i / 10) % 4))
        .collect();
    for t in ["ev", "tx"] {
        s.execute(&format!("INSERT INTO {t} PARTITION (dt, h) VALUES {}", values.join(", "))).await.unwrap();
        assert_eq!(rows(&mut s, &format!("SHOW PARTITIONS {t}")).await.len(), 24);
    }

    let counting = Arc::new(CountingStore { inner: LocalFileSystem::new(), reads: Mutex::default() });
    let url = url_of("file:///");
    s.context().runtime_env().register_object_store(&url, counting.clone());

    for (t, query, want) in [
        ("ev", "SELECT count(*), min(id) FROM ev WHERE dt = '2024-01-03' AND h = 2", "10|100"),
        ("tx", "SELECT count(*), min(id) FROM tx WHERE dt = '2024-01-03' AND h = 2", "10|100"),
        ("tx", "SELECT count(*), min(id) FROM tx WHERE substr(dt, 9, 2) = '03' AND h + 1 = 3", "10|100"),
    ] {
        counting.reads.lock().unwrap().clear();
        assert_eq!(rows(&mut s, query).await, vec![want.to_string()], "{query}");
        let reads = counting.reads.lock().unwrap().clone();
        let partition_dir = format!("/{t}/dt=2024-01-03/h=2/");
        assert!(!reads.is_empty(), "{query}: nothing read?");
        for file in reads.keys() {
            assert!(file.contains(&partition_dir), "{query} read {file}, outside {partition_dir}: {reads:?}");
        }
        let read: u64 = reads.values().sum();
        let dir = home.path().join("warehouse").join(t).join("dt=2024-01-03").join("h=2");
        let size: u64 = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum();
        // Parquet's footer is read twice (statistics when planning, then the scan).
        let bound = if t == "ev" { 2 * size } else { size };
        assert!(read <= bound, "{query}: read {read} bytes of a {size}-byte partition");
    }

    // EXPLAIN says how many partitions of how many are read
    let plan = rows(&mut s, "EXPLAIN SELECT * FROM ev WHERE dt >= '2024-01-05' AND h IN (0, 3)").await.join("\n");
    assert!(plan.contains("default.ev: 4 of 24 partitions read"), "{plan}");
}

fn url_of(s: &str) -> url::Url {
    url::Url::parse(s).unwrap()
}

/// The lines of a file, sorted (bucket files' row order is not part of the layout).
fn sorted_lines(path: &std::path::Path) -> Vec<String> {
    let mut lines: Vec<String> = std::fs::read_to_string(path).unwrap().lines().map(str::to_string).collect();
    lines.sort();
    lines
}

/// Rows written into a bucketed table land in the file Hive would put them
/// in: the written `00000b_0` files hold exactly the rows of the same files
/// of `tests/data/hive_bucketed_v{1,2}`, laid out by a port of Hive's hash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bucketed_inserts_place_rows_as_hive_does() {
    let home = tempfile::tempdir().unwrap();
    let mut s = Session::open(SessionOptions { home: home.path().to_path_buf(), ..Default::default() }).unwrap();
    for version in [1, 2] {
        let src = hiveql_tests::data_dir().join(format!("hive_bucketed_v{version}"));
        for sql in [
            format!("CREATE EXTERNAL TABLE src{version} (id INT, name STRING) LOCATION '{}'", src.display()),
            format!(
                "CREATE TABLE w{version} (id INT, name STRING) CLUSTERED BY (id) INTO 4 BUCKETS \
                 TBLPROPERTIES ('bucketing_version'='{version}')"
            ),
            format!("INSERT INTO w{version} SELECT * FROM src{version}"),
        ] {
            s.execute(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        let written = home.path().join("warehouse").join(format!("w{version}"));
        for b in 0..4 {
            let name = format!("{b:06}_0");
            assert_eq!(
                sorted_lines(&written.join(&name)),
                sorted_lines(&src.join(&name)),
                "bucketing_version {version}, bucket file {name}"
            );
        }
    }
}

/// Decimal, timestamp, VARCHAR and CHAR bucket columns place each row in
/// the file Hive's hash names, for both bucketing versions. The expected
/// buckets (of 16) come from `tests/data/bucket_vectors.py`, a port of
/// Hive's `ObjectInspectorUtils` hashes written from Hive's source.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decimal_timestamp_and_varchar_buckets_are_hives() {
    let home = tempfile::tempdir().unwrap();
    let mut s = Session::open(SessionOptions { home: home.path().to_path_buf(), ..Default::default() }).unwrap();
    // (column type, values as SQL literals, expected bucket per version 1 and 2)
    type Case<'a> = (&'a str, &'a [&'a str], [&'a [u32]; 2]);
    let cases: [Case; 4] = [
        ("DECIMAL(10,2)", &["1.50", "-123.45", "0.00", "100.00", "9.99"], [&[2, 11, 0, 12, 11], &[3, 0, 5, 13, 10]]),
        (
            "TIMESTAMP",
            &[
                "TIMESTAMP '2024-05-01 00:00:00'",
                "TIMESTAMP '2024-05-01 00:00:00.123'",
                "TIMESTAMP '1969-12-31 00:00:00.5'",
                "TIMESTAMP '2100-01-01 00:00:00'",
            ],
            [&[0, 0, 0, 0], &[2, 4, 9, 6]],
        ),
        ("VARCHAR(10)", &["'hive'", "'café'", "'x'"], [&[1, 13, 7], &[5, 8, 10]]),
        ("CHAR(6)", &["'ab'"], [&[2], &[8]]),
    ];
    for (n, (ty, values, expected)) in cases.iter().enumerate() {
        for (version, buckets) in [(1, expected[0]), (2, expected[1])] {
            let table = format!("t{n}_v{version}");
            let selects: Vec<String> =
                values.iter().enumerate().map(|(i, v)| format!("SELECT {i} AS id, CAST({v} AS {ty}) AS c")).collect();
            for sql in [
                format!(
                    "CREATE TABLE {table} (id INT, c {ty}) CLUSTERED BY (c) INTO 16 BUCKETS \
                     TBLPROPERTIES ('bucketing_version'='{version}')"
                ),
                format!("INSERT INTO {table} {}", selects.join(" UNION ALL ")),
            ] {
                s.execute(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
            let dir = home.path().join("warehouse").join(&table);
            // one file per bucket, even from a UNION ALL of several inputs
            let files: Vec<String> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            assert!(files.iter().all(|f| !f.contains("copy")), "{ty} v{version}: {files:?}");
            for (id, bucket) in buckets.iter().enumerate() {
                let file = dir.join(format!("{bucket:06}_0"));
                let ids: Vec<String> = std::fs::read_to_string(&file)
                    .unwrap_or_else(|e| panic!("{ty} v{version}: {}: {e}", file.display()))
                    .lines()
                    .map(|l| l.split('\u{1}').next().unwrap_or_default().to_string())
                    .collect();
                assert!(
                    ids.contains(&id.to_string()),
                    "{ty} {} (v{version}) not in bucket {bucket}: {ids:?}",
                    values[id]
                );
            }
            // and a query on one value reads its bucket only, finding the row
            let first = values[0];
            let got = rows(&mut s, &format!("SELECT id FROM {table} WHERE c = CAST({first} AS {ty})")).await;
            assert_eq!(got, vec!["0"], "{ty} v{version}");
        }
    }
}

/// The `EXPLAIN` text of `sql`.
async fn plan_of(s: &mut Session, sql: &str) -> String {
    rows(s, &format!("EXPLAIN {sql}")).await.join("\n")
}

/// Joins and aggregations of bucketed tables run bucket by bucket where
/// the buckets line up (EXPLAIN shows `BucketAlignedExec` and no
/// repartition of that side) and give exactly the rows the same query
/// gives on unbucketed copies of the tables, for every shape: inner and
/// outer joins, bucket counts that divide one another, extra join keys,
/// NULL keys, partitioned tables, pruned buckets, windows and group-bys.
/// Where they do not line up (another hash version, bucket counts that do
/// not divide, a key of another type, a third table joined above), the
/// plan repartitions as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bucket_joins_and_group_bys_skip_the_repartition_and_keep_the_rows() {
    let home = tempfile::tempdir().unwrap();
    let mut s = Session::open(SessionOptions { home: home.path().to_path_buf(), ..Default::default() }).unwrap();
    let rows_of = "SELECT CASE WHEN value % 97 = 0 THEN NULL ELSE CAST(value % 300 AS INT) END AS k, \
                   CAST(value % 7 AS INT) AS x, concat('r', value) AS v FROM range(0, 2000)";
    let setup = [
        "CREATE TABLE src (k INT, x INT, v STRING)".to_string(),
        format!("INSERT INTO src {rows_of}"),
        "CREATE TABLE b4 (k INT, x INT, v STRING) CLUSTERED BY (k) INTO 4 BUCKETS".into(),
        "CREATE TABLE b8 (k INT, x INT, v STRING) CLUSTERED BY (k) SORTED BY (k) INTO 8 BUCKETS".into(),
        "CREATE TABLE b6 (k INT, x INT, v STRING) CLUSTERED BY (k) INTO 6 BUCKETS".into(),
        "CREATE TABLE b4v1 (k INT, x INT, v STRING) CLUSTERED BY (k) INTO 4 BUCKETS \
         TBLPROPERTIES ('bucketing_version'='1')"
            .into(),
        "CREATE TABLE b4big (k BIGINT, x INT, v STRING) CLUSTERED BY (k) INTO 4 BUCKETS".into(),
        "CREATE TABLE p8 (k INT, v STRING) PARTITIONED BY (x INT) CLUSTERED BY (k) INTO 8 BUCKETS".into(),
        "SET hive.exec.dynamic.partition.mode=nonstrict".into(),
        "INSERT INTO b4 SELECT * FROM src".into(),
        "INSERT INTO b8 SELECT * FROM src".into(),
        "INSERT INTO b6 SELECT * FROM src".into(),
        "INSERT INTO b4v1 SELECT * FROM src".into(),
        "INSERT INTO b4big SELECT * FROM src".into(),
        "INSERT INTO p8 PARTITION (x) SELECT k, v, x FROM src".into(),
        // Small tables would be broadcast; these tests want partitioned joins.
        "SET datafusion.optimizer.hash_join_single_partition_threshold=0".into(),
        "SET datafusion.optimizer.hash_join_single_partition_threshold_rows=0".into(),
    ];
    for sql in &setup {
        s.execute(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    // (query over bucketed tables, the same over src, bucket-wise?)
    let cases = [
        ("SELECT a.k, a.v, b.v FROM b4 a JOIN b8 b ON a.k = b.k", true),
        ("SELECT a.k, a.v, b.v FROM b8 a JOIN b4 b ON a.k = b.k", true),
        ("SELECT a.k, b.v FROM b4 a LEFT JOIN b8 b ON a.k = b.k AND b.x < 3", true),
        ("SELECT a.k, b.k FROM b4 a FULL OUTER JOIN b8 b ON a.k = b.k AND a.x = b.x", true),
        ("SELECT a.v, b.v FROM b4 a JOIN b4 b ON a.k = b.k WHERE a.x = 1 AND b.v LIKE 'r1%'", true),
        ("SELECT a.v, b.v FROM b4 a JOIN p8 b ON a.k = b.k WHERE b.x IN (2, 5)", true),
        ("SELECT a.v, b.v FROM b8 a JOIN b4 b ON a.k = b.k WHERE a.k IN (7, 150, 299)", true),
        ("SELECT k, count(*), min(v) FROM b8 GROUP BY k", true),
        ("SELECT k, x, count(*) FROM p8 GROUP BY k, x", true),
        ("SELECT k, v, row_number() OVER (PARTITION BY k ORDER BY v) FROM b4", true),
        ("SELECT a.v, b.v FROM b4 a JOIN b6 b ON a.k = b.k", false),
        ("SELECT a.v, b.v FROM b4 a JOIN b4v1 b ON a.k = b.k", false),
        ("SELECT a.v, b.v FROM b4 a JOIN b4big b ON a.k = b.k", false),
        ("SELECT a.v, b.v FROM b4 a JOIN src b ON a.k = b.k", false),
        ("SELECT a.v, b.v FROM b4 a JOIN b8 b ON a.x = b.x AND a.k < 5", false),
        ("SELECT x, count(*) FROM b4 GROUP BY x", false),
        ("SELECT a.v, c.v FROM b4 a JOIN b8 b ON a.k = b.k JOIN src c ON b.k = c.k", false),
    ];
    for target in [2, 3] {
        s.execute(&format!("SET datafusion.execution.target_partitions={target}")).await.unwrap();
        for (sql, bucket_wise) in cases {
            let mut got = rows(&mut s, sql).await;
            got.sort();
            let oracle = ["b4big", "b4v1", "b4", "b8", "b6", "p8"]
                .iter()
                .fold(sql.to_string(), |q, t| q.replace(&format!(" {t} "), " src "));
            let mut want = rows(&mut s, &oracle).await;
            want.sort();
            assert!(!want.is_empty(), "{sql}: the oracle has no rows");
            if got != want {
                let missing: Vec<_> = want.iter().filter(|r| !got.contains(r)).take(5).collect();
                let extra: Vec<_> = got.iter().filter(|r| !want.contains(r)).take(5).collect();
                panic!(
                    "{sql} (target_partitions {target}): {} rows, {oracle}: {} rows; missing {missing:?}, extra {extra:?}",
                    got.len(),
                    want.len()
                );
            }
            let plan = plan_of(&mut s, sql).await;
            assert_eq!(plan.contains("BucketAlignedExec"), bucket_wise, "{sql}:\n{plan}");
        }
    }
    // A bucket-wise join of the tables only: no exchange under the join.
    let plan = plan_of(&mut s, "SELECT count(*) FROM b4 a JOIN b8 b ON a.k = b.k").await;
    assert!(!plan.contains("RepartitionExec"), "{plan}");
    assert!(plan.contains("bucket join"), "{plan}");
    // Hive's switch turns it off (and a bad value is refused).
    s.execute("SET hive.optimize.bucketmapjoin=false").await.unwrap();
    let plan = plan_of(&mut s, "SELECT count(*) FROM b4 a JOIN b8 b ON a.k = b.k").await;
    assert!(plan.contains("RepartitionExec") && !plan.contains("BucketAlignedExec"), "{plan}");
    assert!(s.execute("SET hiveql.bucket_wise=maybe").await.is_err());
    s.execute("SET hiveql.bucket_wise=true").await.unwrap();
    assert!(plan_of(&mut s, "SELECT count(*) FROM b4 a JOIN b8 b ON a.k = b.k").await.contains("BucketAlignedExec"));
}

/// The data files directly in `dir` (not hidden), and the hidden entries beside them.
fn listing(dir: &std::path::Path) -> (Vec<String>, Vec<String>) {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(d) => d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => vec![],
    };
    names.sort();
    names.into_iter().partition(|n| !n.starts_with('.') && !n.starts_with('_'))
}

/// INSERT OVERWRITE replaces an existing partition atomically: a reader
/// running queries on another session the whole time sees the old rows or
/// the new rows, never an empty or mixed partition; a failed overwrite
/// leaves every old partition as it was, with nothing left behind; each
/// overwrite moves the partition to a new hidden sibling of `k=v` and removes
/// the old directory; the partitions an overwrite does not write are untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_overwrite_swaps_partitions_atomically() {
    let home = tempfile::tempdir().unwrap();
    let mut s = Session::open(SessionOptions { home: home.path().to_path_buf(), ..Default::default() }).unwrap();
    for sql in [
        "CREATE TABLE t (id INT, v STRING) PARTITIONED BY (k STRING)",
        "SET hive.exec.dynamic.partition.mode=nonstrict",
        "INSERT INTO t PARTITION (k) SELECT CAST(value AS INT), 'old', 'a' FROM range(0, 10000)",
        "INSERT INTO t PARTITION (k) SELECT CAST(value AS INT), 'old', 'b' FROM range(0, 50)",
    ] {
        s.execute(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let table = home.path().join("warehouse").join("t");

    // A reader on its own session, counting partition a until told to stop.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (stop, home) = (stop.clone(), home.path().to_path_buf());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                let mut r = Session::open(SessionOptions { home, ..Default::default() }).unwrap();
                let mut seen: Vec<std::result::Result<String, String>> = Vec::new();
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let sql = "SELECT count(*), count(DISTINCT v) FROM t WHERE k = 'a'";
                    seen.push(match r.execute_collect(sql).await {
                        Ok(b) => Ok(format_rows(&b, "|").join("")),
                        Err(e) => Err(e.to_string()),
                    });
                }
                seen
            })
        })
    };
    // Overwrites alternate between 10,000 and 20,000 rows of one value, in
    // several files each (so that publishing takes a while).
    s.execute("SET datafusion.execution.target_partitions=4").await.unwrap();
    for round in 0..30 {
        let n = if round % 2 == 0 { 20000 } else { 10000 };
        let sql = if round % 3 == 0 {
            format!(
                "INSERT OVERWRITE TABLE t PARTITION (k = 'a') SELECT CAST(value AS INT), 'r{round}' FROM range(0, {n})"
            )
        } else {
            format!(
                "INSERT OVERWRITE TABLE t PARTITION (k) SELECT CAST(value AS INT), 'r{round}', 'a' FROM range(0, {n})"
            )
        };
        s.execute(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        // never more than the partition's directory and one being replaced
        let (_, hidden) = listing(&table);
        assert!(hidden.len() <= 1, "round {round}: {hidden:?}");
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = reader.join().unwrap();
    let counts: Vec<&String> = seen.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert!(counts.len() >= 5, "the reader ran {} queries: {seen:?}", seen.len());
    for c in &counts {
        assert!(c.as_str() == "10000|1" || c.as_str() == "20000|1", "a reader saw {c}: {seen:?}");
    }
    // A reader that planned against the old files just before they went may
    // fail to open them; it never reads a wrong partition.
    for e in seen.iter().filter_map(|r| r.as_ref().err()) {
        assert!(e.contains("not found") || e.contains("No such file"), "reader error: {e}");
    }
    // 30 rounds ended on 10,000 rows; b untouched.
    assert_eq!(
        rows(&mut s, "SELECT k, count(*), min(v) FROM t GROUP BY k ORDER BY k").await,
        ["a|10000|r29", "b|50|old"]
    );
    // Partition a is in one hidden directory, its old ones gone; b is where it was.
    let (data, hidden) = listing(&table);
    assert_eq!(data, ["k=b"]);
    assert_eq!(hidden.len(), 1, "{hidden:?}");
    let location = rows(&mut s, "DESCRIBE FORMATTED t PARTITION (k = 'a')").await.join("\n");
    assert!(location.contains(&format!("/t/{}", hidden[0])), "{location}");

    // A failed overwrite (of both partitions) leaves both as they were, and no directory behind.
    let before = listing(&table);
    let sql = "INSERT OVERWRITE TABLE t PARTITION (k) \
               SELECT CAST(value AS INT), 'bad', IF(value % 2 = 0, 'a', 'b') FROM range(0, 1000) \
               WHERE assert_true(value < 900) IS NULL";
    assert!(s.execute(sql).await.is_err(), "{sql} should fail");
    assert_eq!(
        rows(&mut s, "SELECT k, count(*), min(v) FROM t GROUP BY k ORDER BY k").await,
        ["a|10000|r29", "b|50|old"]
    );
    assert_eq!(listing(&table), before);
}
