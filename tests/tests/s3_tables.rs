//! Partitioned and bucketed tables on `s3://` locations, against a real S3
//! endpoint on loopback (moto's standalone server; `.ci/run` installs it):
//! dynamic-partition inserts, `_copy_N` names for a second insert, MSCK
//! discovery, pruning, INSERT OVERWRITE's directory swap, DROP PARTITION
//! and a bucket join, all through the same object store code as local
//! files. The `hiveql` binary runs with the endpoint in `AWS_*` variables,
//! as a user would configure it.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use hiveql_tests::hiveql_bin;

/// A moto S3 server on a free loopback port, stopped when dropped.
struct S3Server {
    child: Child,
    endpoint: String,
}

impl S3Server {
    fn start() -> S3Server {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("moto_server (pip install 'moto[server]') could not start: {e}"));
        let endpoint = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while curl(&["-s", "-o", "/dev/null", &endpoint]).map(|o| !o.status.success()).unwrap_or(true) {
            assert!(Instant::now() < deadline, "moto_server did not answer on {endpoint}");
            std::thread::sleep(Duration::from_millis(100));
        }
        S3Server { child, endpoint }
    }

    fn create_bucket(&self, name: &str) {
        let o = curl(&["-s", "-f", "-X", "PUT", &format!("{}/{name}", self.endpoint)]).unwrap();
        assert!(o.status.success(), "creating bucket {name}: {o:?}");
    }

    /// The keys under `prefix` in `bucket`.
    fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let o = curl(&["-s", "-f", &format!("{}/{bucket}?list-type=2&prefix={prefix}", self.endpoint)]).unwrap();
        let xml = String::from_utf8_lossy(&o.stdout).to_string();
        let mut keys: Vec<String> =
            xml.split("<Key>").skip(1).filter_map(|k| k.split("</Key>").next()).map(str::to_string).collect();
        keys.sort();
        keys
    }

    /// `hiveql -e script` against this server.
    fn hiveql(&self, home: &Path, script: &str) -> String {
        let o: Output = Command::new(hiveql_bin())
            .arg("--home")
            .arg(home)
            .args(["-e", script])
            .env("AWS_ENDPOINT", &self.endpoint)
            .env("AWS_ALLOW_HTTP", "true")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env_remove("AWS_COPY_IF_NOT_EXISTS")
            .output()
            .unwrap();
        let (out, err) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        assert!(o.status.success(), "hiveql failed on {script}\nstdout:\n{out}\nstderr:\n{err}");
        out.to_string()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn curl(args: &[&str]) -> std::io::Result<Output> {
    Command::new("curl").args(args).output()
}

#[test]
fn partitioned_and_bucketed_tables_on_s3() {
    let s3 = S3Server::start();
    s3.create_bucket("hiveql-test");
    let home = tempfile::tempdir().unwrap();
    let out = s3.hiveql(
        home.path(),
        "CREATE EXTERNAL TABLE t (id INT, v STRING) PARTITIONED BY (k STRING) LOCATION 's3://hiveql-test/wh/t';
         SET hive.exec.dynamic.partition.mode=nonstrict;
         INSERT INTO t PARTITION (k) SELECT CAST(value AS INT), 'x', IF(value % 2 = 0, 'a', 'b') FROM range(0, 100);
         INSERT INTO t PARTITION (k) SELECT CAST(value AS INT), 'y', 'b' FROM range(0, 10);
         CREATE EXTERNAL TABLE side (id INT, v STRING) LOCATION 's3://hiveql-test/wh/t/k=c%2Fd';
         INSERT INTO side SELECT 7, 'z';
         MSCK REPAIR TABLE t;
         SHOW PARTITIONS t;
         SELECT k, count(*), min(v) FROM t GROUP BY k ORDER BY k;
         SELECT count(*) FROM t WHERE k = 'c/d';",
    );
    assert!(out.contains("k=a\nk=b\nk=c%2Fd\n"), "{out}");
    assert!(out.contains("a\t50\tx\nb\t60\tx\nc/d\t1\tz\n"), "{out}");
    assert_eq!(
        s3.keys("hiveql-test", "wh/t/"),
        ["wh/t/k=a/000000_0", "wh/t/k=b/000000_0", "wh/t/k=b/000000_0_copy_1", "wh/t/k=c%2Fd/000000_0"]
    );
    // EXPLAIN shows the pruning; the overwrite swaps k=a into a new directory.
    let out = s3.hiveql(
        home.path(),
        "EXPLAIN SELECT * FROM t WHERE k = 'b';
         INSERT OVERWRITE TABLE t PARTITION (k = 'a') SELECT 1, 'new';
         SELECT k, count(*), min(v) FROM t GROUP BY k ORDER BY k;
         ALTER TABLE t DROP PARTITION (k = 'b');
         SHOW PARTITIONS t;",
    );
    assert!(out.contains("default.t: 1 of 3 partitions read"), "{out}");
    assert!(out.contains("a\t1\tnew\nb\t60\tx\nc/d\t1\tz\n"), "{out}");
    assert!(out.ends_with("k=a\nk=c%2Fd\n"), "{out}");
    let keys = s3.keys("hiveql-test", "wh/t/");
    assert_eq!(keys.len(), 4, "external partition b keeps its files: {keys:?}");
    assert!(keys.iter().any(|k| k.starts_with("wh/t/.k=a_hiveql_")), "{keys:?}");
    assert!(!keys.iter().any(|k| k.starts_with("wh/t/k=a/")), "the old k=a files are gone: {keys:?}");

    // Bucketed tables on S3: one file per bucket, joined bucket by bucket.
    let out = s3.hiveql(
        home.path(),
        "CREATE TABLE b4 (k INT, v STRING) CLUSTERED BY (k) INTO 4 BUCKETS LOCATION 's3://hiveql-test/wh/b4';
         CREATE TABLE b8 (k INT, v STRING) CLUSTERED BY (k) INTO 8 BUCKETS LOCATION 's3://hiveql-test/wh/b8';
         INSERT INTO b4 SELECT CAST(value AS INT), 'l' FROM range(0, 500);
         INSERT INTO b8 SELECT CAST(value AS INT), 'r' FROM range(250, 750);
         SET datafusion.optimizer.hash_join_single_partition_threshold=0;
         SET datafusion.optimizer.hash_join_single_partition_threshold_rows=0;
         EXPLAIN SELECT count(*) FROM b4 JOIN b8 ON b4.k = b8.k;
         SELECT count(*), min(b4.k), max(b8.k) FROM b4 JOIN b8 ON b4.k = b8.k;",
    );
    assert!(out.contains("BucketAlignedExec"), "{out}");
    assert!(out.contains("250\t250\t499"), "{out}");
    assert_eq!(s3.keys("hiveql-test", "wh/b4/").len(), 4);
    assert_eq!(s3.keys("hiveql-test", "wh/b8/").len(), 8);
}
