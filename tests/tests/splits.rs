//! A text table read as many byte-range splits gives the same rows as one
//! whole-file read, and the plan really has the splits.

use hiveql_engine::{Session, SessionOptions};
use hiveql_tests::{format_rows, repo_dir};

async fn run(s: &mut Session, sql: &str) -> Vec<String> {
    format_rows(&s.execute_collect(sql).await.unwrap(), "\t")
}

#[tokio::test]
async fn split_scans_read_every_line_once() {
    let home = tempfile::tempdir().unwrap();
    let mut s = Session::open(SessionOptions { home: home.path().into(), ..Default::default() }).unwrap();
    let dir = repo_dir().join("sample-data/page_views");
    run(&mut s, &format!(
        "CREATE EXTERNAL TABLE views (view_time STRING, user_id BIGINT, page_url STRING, referrer STRING, country STRING, duration_ms INT) \
         ROW FORMAT DELIMITED FIELDS TERMINATED BY '\\t' LOCATION '{}' TBLPROPERTIES ('skip.header.line.count'='1')",
        dir.display()
    ))
    .await;
    let q =
        "SELECT view_time, user_id, page_url, country, duration_ms FROM views ORDER BY view_time, user_id, page_url";
    let whole = run(&mut s, q).await;
    assert_eq!(whole.len(), 2000);
    for parts in [3, 7, 64] {
        run(&mut s, "SET datafusion.optimizer.repartition_file_min_size=1").await;
        run(&mut s, &format!("SET datafusion.execution.target_partitions={parts}")).await;
        let plan = run(&mut s, "EXPLAIN SELECT count(*) FROM views").await.join("\n");
        assert!(plan.contains(&format!("file_groups={{{parts} groups")), "{plan}");
        assert_eq!(run(&mut s, q).await, whole, "{parts} splits");
    }
}

/// Random files of multi-byte UTF-8 text (no trailing newline on some, CRLF on
/// some lines), read through the JSON and Regex SerDes at random split sizes:
/// always the rows of a whole-file read.
#[tokio::test]
async fn random_files_and_split_sizes_give_the_same_rows() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("data");
    std::fs::create_dir_all(dir.join("json")).unwrap();
    std::fs::create_dir_all(dir.join("regex")).unwrap();
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(99);
    let mut rnd = move |n: u64| rand::Rng::random_range(&mut rng, 0..n);
    let words = ["é", "日本", "a", "zz", "🦄", "q r", "ß"];
    for f in 0..3 {
        let (mut json, mut text) = (String::new(), String::new());
        let lines = 50 + rnd(400);
        for i in 0..lines {
            let w: String = (0..1 + rnd(6)).map(|_| words[rnd(words.len() as u64) as usize]).collect();
            let end = if rnd(5) == 0 { "\r\n" } else { "\n" };
            json.push_str(&format!("{{\"id\":{i},\"w\":\"{w}\",\"f\":{f}}}{end}"));
            text.push_str(&format!("{f}:{i}={w}{end}"));
        }
        if rnd(2) == 0 {
            json.truncate(json.trim_end().len());
            text.truncate(text.trim_end().len());
        }
        std::fs::write(dir.join(format!("json/part-{f}.json")), json).unwrap();
        std::fs::write(dir.join(format!("regex/part-{f}.txt")), text).unwrap();
    }
    let mut s = Session::open(SessionOptions { home: home.path().into(), ..Default::default() }).unwrap();
    run(&mut s, &format!(
        "CREATE EXTERNAL TABLE j (id INT, w STRING, f INT) ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe' LOCATION '{}'",
        dir.join("json").display()
    ))
    .await;
    run(&mut s, &format!(
        "CREATE EXTERNAL TABLE r (f INT, id INT, w STRING) ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe' \
         WITH SERDEPROPERTIES ('input.regex' = '(\\\\d+):(\\\\d+)=(.*)') LOCATION '{}'",
        dir.join("regex").display()
    ))
    .await;
    let qj = "SELECT f, id, w FROM j ORDER BY f, id";
    let qr = "SELECT f, id, w FROM r ORDER BY f, id";
    let (whole_j, whole_r) = (run(&mut s, qj).await, run(&mut s, qr).await);
    assert_eq!(whole_j, whole_r);
    assert!(whole_j.iter().all(|l| !l.contains('\r') && !l.contains('\u{FFFD}')));
    run(&mut s, "SET datafusion.execution.target_partitions=16").await;
    for _ in 0..12 {
        let min = 1 + rnd(3000);
        run(&mut s, &format!("SET datafusion.optimizer.repartition_file_min_size={min}")).await;
        assert_eq!(run(&mut s, qj).await, whole_j, "JSON, splits of {min} bytes");
        assert_eq!(run(&mut s, qr).await, whole_r, "Regex, splits of {min} bytes");
    }
}
