//! A session keeps the plans of one-row `SELECT`s without `FROM` and runs
//! them again without planning; what keeping a plan could get wrong (the
//! time, the current database, a setting, a table's rows) is checked here
//! against the answers a fresh plan gives.

use hiveql_engine::{Session, SessionOptions};
use hiveql_tests::format_rows;

async fn rows(s: &mut Session, sql: &str) -> Vec<String> {
    let batches = s.execute_collect(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    format_rows(&batches, "|")
}

fn session(home: &tempfile::TempDir) -> Session {
    Session::open(SessionOptions { home: home.path().to_path_buf(), ..Default::default() }).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_row_select_is_planned_once_and_answers_the_same() {
    let home = tempfile::tempdir().unwrap();
    let mut s = session(&home);
    assert!(!s.has_kept_plan("SELECT 1"));
    assert_eq!(rows(&mut s, "SELECT 1").await, ["1"]);
    assert!(s.has_kept_plan("SELECT 1"), "SELECT 1 was not kept");
    assert_eq!(rows(&mut s, "SELECT 1").await, ["1"]);
    assert_eq!(rows(&mut s, "SELECT 1").await, ["1"]);
    assert_eq!(rows(&mut s, "SELECT concat('a', 'b'), 2 * 21").await, ["ab|42"]);
    assert_eq!(rows(&mut s, "SELECT concat('a', 'b'), 2 * 21").await, ["ab|42"]);
    // variables are written in before the text is looked up
    s.execute("SET hivevar:n=7").await.unwrap();
    assert_eq!(rows(&mut s, "SELECT ${n}").await, ["7"]);
    s.execute("SET hivevar:n=8").await.unwrap();
    assert_eq!(rows(&mut s, "SELECT ${n}").await, ["8"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_changes_between_runs_is_never_kept() {
    let home = tempfile::tempdir().unwrap();
    let mut s = session(&home);
    for sql in ["SELECT unix_timestamp()", "SELECT current_timestamp()", "SELECT rand()", "SELECT current_database()"] {
        rows(&mut s, sql).await;
        assert!(!s.has_kept_plan(sql), "{sql} was kept");
    }
    let first = rows(&mut s, "SELECT unix_timestamp()").await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_ne!(rows(&mut s, "SELECT unix_timestamp()").await, first, "the time stood still");

    // a table's rows are read afresh (a query with FROM is never kept)
    rows(&mut s, "CREATE TABLE t (x INT)").await;
    rows(&mut s, "INSERT INTO t VALUES (1)").await;
    assert_eq!(rows(&mut s, "SELECT count(*) FROM t").await, ["1"]);
    assert!(!s.has_kept_plan("SELECT count(*) FROM t"));
    rows(&mut s, "INSERT INTO t VALUES (2)").await;
    assert_eq!(rows(&mut s, "SELECT count(*) FROM t").await, ["2"]);
    // nor is a subquery reading one
    let sql = "SELECT (SELECT max(x) FROM t)";
    assert_eq!(rows(&mut s, sql).await, ["2"]);
    assert!(!s.has_kept_plan(sql));

    // USE is seen by current_database()
    rows(&mut s, "CREATE DATABASE other").await;
    rows(&mut s, "USE other").await;
    assert_eq!(rows(&mut s, "SELECT current_database()").await, ["other"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_setting_or_a_statement_empties_the_kept_plans() {
    let home = tempfile::tempdir().unwrap();
    let mut s = session(&home);
    // the session's time zone changes what from_unixtime answers
    rows(&mut s, "SET hive.local.time.zone=UTC").await;
    let sql = "SELECT from_unixtime(0)";
    assert_eq!(rows(&mut s, sql).await, ["1970-01-01 00:00:00"]);
    assert!(s.has_kept_plan(sql));
    rows(&mut s, "SET hive.local.time.zone=Asia/Tokyo").await;
    assert!(!s.has_kept_plan(sql), "SET left the kept plans");
    assert_eq!(rows(&mut s, sql).await, ["1970-01-01 09:00:00"]);

    // any statement that is not a query empties them too
    assert!(s.has_kept_plan(sql));
    rows(&mut s, "CREATE TABLE u (y INT)").await;
    assert!(!s.has_kept_plan(sql));
}
