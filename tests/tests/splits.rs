//! A text table read as many byte-range splits gives the same rows as one
//! whole-file read, and the plan really has the splits.

use hiveql_engine::value::format_value;
use hiveql_engine::{Session, SessionOptions};
use hiveql_tests::repo_dir;

async fn run(s: &mut Session, sql: &str) -> Vec<String> {
    let batches = s.execute_collect(sql).await.unwrap();
    let mut out = Vec::new();
    for b in &batches {
        for r in 0..b.num_rows() {
            out.push(
                (0..b.num_columns())
                    .map(|c| format_value(b.column(c).as_ref(), r).unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join("\t"),
            );
        }
    }
    out
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
