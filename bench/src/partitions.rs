//! `hiveql-bench partitions`: the figures issue 12 names, in one run.
//!
//! - Metadata at scale: a local tree of 10,000 partition directories
//!   (`dt` × `h`, one small file each): `MSCK REPAIR TABLE`, `SHOW
//!   PARTITIONS`, planning a query that prunes to one partition (`EXPLAIN`),
//!   running it, and `ALTER TABLE ... ADD PARTITION` of 1,000 partitions in
//!   one statement.
//! - Dynamic partitions: `INSERT OVERWRITE` of a generated lineitem-like
//!   text table into 100 partitions, against the same rows (and the same
//!   computed key column) into an unpartitioned table.
//! - Pruning: the same rows in 365 daily partitions; a one-day query
//!   against the unpartitioned table, and the share of bytes it reads.
//! - Bucket joins: two Parquet tables bucketed on the join key (16 and 32
//!   buckets), a join and a group-by on the key run bucket by bucket,
//!   against the same plans with `hiveql.bucket_wise=false` (hash
//!   repartition of both sides), in the same run.

use std::path::Path;
use std::time::Instant;

use hiveql_engine::{Session, SessionOptions};

use crate::{Rng, dir_bytes, generate, time};

/// lineitem-like lines over the 365 days of 1995:
/// id|qty|price|flag|shipmode|shipdate|comment
fn gen_lineitem_1995(dir: &Path, bytes: u64) {
    generate(dir, bytes, |r: &mut Rng, s: &mut String| {
        use std::fmt::Write;
        let words = ["furiously", "regular", "accounts", "sleep", "quickly", "blithely", "ironic", "deposits"];
        let day = r.next(365) as i64;
        let date = chrono_free_date(1995, day);
        let _ = write!(
            s,
            "{}|{}|{}.{:02}|{}|{}|{date}|",
            r.next(6_000_000),
            1 + r.next(50),
            900 + r.next(100_000),
            r.next(100),
            ["A", "N", "R"][r.next(3) as usize],
            ["AIR", "FOB", "MAIL", "RAIL", "SHIP", "TRUCK"][r.next(6) as usize],
        );
        for i in 0..3 + r.next(5) {
            if i > 0 {
                s.push(' ');
            }
            s.push_str(words[r.next(words.len() as u64) as usize]);
        }
        s.push('\n');
    });
}

/// `yyyy-MM-dd` of day `n` (0-based) of a non-leap year.
fn chrono_free_date(year: i32, mut n: i64) -> String {
    let months = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let mut m = 0;
    while n >= months[m] {
        n -= months[m];
        m += 1;
    }
    format!("{year}-{:02}-{:02}", m + 1, n + 1)
}

async fn exec(s: &mut Session, sql: &str) -> usize {
    let b = s.execute_collect(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    b.iter().map(|b| b.num_rows()).sum()
}

/// Seconds one run of `sql` takes (after a warm-up when `runs` > 0: the median of `runs`).
async fn timed(session: &Session, runs: usize, sql: &str) -> f64 {
    time(runs, || {
        let mut s = session.clone();
        let sql = sql.to_string();
        async move { exec(&mut s, &sql).await }
    })
    .await
    .0
}

pub async fn run(dir: &Path, mib: u64, runs: usize) {
    std::fs::create_dir_all(dir).unwrap();
    metadata_at_scale(dir, runs).await;
    dynamic_and_pruned(dir, mib, runs).await;
    bucket_joins(mib, runs).await;
}

/// Bucket-wise join and group-by against the repartitioning plans, in one run.
async fn bucket_joins(mib: u64, runs: usize) {
    // About 8M rows a side per GiB asked for.
    let rows = mib * 8 * 1024;
    let home = tempfile::tempdir().unwrap();
    let mut s = Session::open(SessionOptions { home: home.path().to_path_buf(), ..Default::default() }).unwrap();
    for sql in [
        "CREATE TABLE l (k BIGINT, v STRING) CLUSTERED BY (k) INTO 16 BUCKETS STORED AS PARQUET".to_string(),
        "CREATE TABLE r (k BIGINT, w STRING) CLUSTERED BY (k) INTO 32 BUCKETS STORED AS PARQUET".to_string(),
        format!("INSERT INTO l SELECT value * 7 % {rows}, concat('l', value % 1000) FROM range(0, {rows})"),
        format!("INSERT INTO r SELECT value * 13 % {rows}, concat('r', value % 977) FROM range(0, {rows})"),
    ] {
        exec(&mut s, &sql).await;
    }
    let join = "SELECT count(*), sum(length(l.v) + length(r.w)) FROM l JOIN r ON l.k = r.k";
    let group = "SELECT count(*) FROM (SELECT k, count(*) AS c FROM l GROUP BY k) t WHERE c > 1";
    let mut figures = Vec::new();
    for sql in [join, group] {
        let mut pair = Vec::new();
        for on in ["true", "false"] {
            exec(&mut s, &format!("SET hiveql.bucket_wise={on}")).await;
            pair.push(timed(&s, runs, sql).await);
        }
        figures.push(pair);
    }
    println!("bucket joins: {rows} rows a side, Parquet, 16 and 32 buckets");
    for (name, f) in ["join on the bucket key", "group by the bucket key"].iter().zip(&figures) {
        println!(
            "  {name:<24} bucket by bucket {:>8.0} ms   repartitioned {:>8.0} ms   ({:.2}x)",
            f[0] * 1e3,
            f[1] * 1e3,
            f[1] / f[0]
        );
    }
}

async fn metadata_at_scale(dir: &Path, runs: usize) {
    let tree = dir.join("tree10k");
    if !tree.exists() {
        for d in 0..100 {
            let date = chrono_free_date(2024, d);
            for h in 0..100 {
                let p = tree.join(format!("dt={date}")).join(format!("h={h}"));
                std::fs::create_dir_all(&p).unwrap();
                std::fs::write(p.join("000000_0"), format!("{d}\x01{h}\n")).unwrap();
            }
        }
    }
    let home = tempfile::tempdir().unwrap();
    let mut s = Session::open(SessionOptions { home: home.path().to_path_buf(), ..Default::default() }).unwrap();
    exec(
        &mut s,
        &format!(
            "CREATE EXTERNAL TABLE t10k (a INT, b INT) PARTITIONED BY (dt STRING, h INT) LOCATION '{}'",
            tree.display()
        ),
    )
    .await;
    let t = Instant::now();
    exec(&mut s, "MSCK REPAIR TABLE t10k").await;
    let msck = t.elapsed().as_secs_f64();
    let shown = exec(&mut s, "SHOW PARTITIONS t10k").await;
    assert_eq!(shown, 10_000, "MSCK found every partition");
    let show = timed(&s, runs, "SHOW PARTITIONS t10k").await;
    let plan = timed(&s, runs, "EXPLAIN SELECT count(*) FROM t10k WHERE dt = '2024-02-15' AND h = 42").await;
    let query = timed(&s, runs, "SELECT count(*) FROM t10k WHERE dt = '2024-02-15' AND h = 42").await;
    let function_plan =
        timed(&s, runs, "EXPLAIN SELECT count(*) FROM t10k WHERE substr(dt, 1, 7) = '2024-02' AND h = 42").await;

    exec(&mut s, "CREATE TABLE adds (a INT) PARTITIONED BY (dt STRING, h INT)").await;
    let mut add = String::from("ALTER TABLE adds ADD");
    for i in 0..1000 {
        add.push_str(&format!(" PARTITION (dt='2024-{:02}-{:02}', h={})", 1 + i / 100, 1 + (i % 100) / 4, i));
    }
    let t = Instant::now();
    exec(&mut s, &add).await;
    let add_1000 = t.elapsed().as_secs_f64();

    println!("partitions: 10,000 partitions (dt x h), local directory tree");
    println!("  MSCK REPAIR TABLE (discover + add 10,000)   {:>8.1} ms   (target < 2000 ms)", msck * 1e3);
    println!("  SHOW PARTITIONS (10,000 rows)               {:>8.1} ms   (target < 200 ms)", show * 1e3);
    println!("  plan a query pruned to 1 partition          {:>8.1} ms   (target < 50 ms)", plan * 1e3);
    println!("  plan with substr(dt,1,7) (DataFusion prunes){:>8.1} ms", function_plan * 1e3);
    println!("  run the pruned count(*)                     {:>8.1} ms", query * 1e3);
    println!("  ADD PARTITION x 1,000 in one statement      {:>8.1} ms   (target < 1000 ms)", add_1000 * 1e3);
}

async fn dynamic_and_pruned(dir: &Path, mib: u64, runs: usize) {
    let src = dir.join(format!("lineitem1995-{mib}m"));
    gen_lineitem_1995(&src, mib << 20);
    let src_bytes = dir_bytes(&src);
    let home = tempfile::tempdir().unwrap();
    let mut s = Session::open(SessionOptions { home: home.path().to_path_buf(), ..Default::default() }).unwrap();
    let cols = "id BIGINT, qty INT, price DECIMAL(15,2), flag STRING, shipmode STRING";
    exec(
        &mut s,
        &format!(
            "CREATE EXTERNAL TABLE src ({cols}, shipdate STRING, comment STRING) \
             ROW FORMAT DELIMITED FIELDS TERMINATED BY '|' LOCATION '{}'",
            src.display()
        ),
    )
    .await;
    exec(&mut s, &format!("CREATE TABLE plain ({cols}, shipdate STRING, comment STRING, k INT)")).await;
    exec(&mut s, &format!("CREATE TABLE part100 ({cols}, shipdate STRING, comment STRING) PARTITIONED BY (k INT)"))
        .await;
    exec(&mut s, &format!("CREATE TABLE daily ({cols}, comment STRING) PARTITIONED BY (shipdate STRING)")).await;
    exec(&mut s, "SET hive.exec.dynamic.partition.mode=nonstrict").await;
    exec(&mut s, "SET hive.exec.max.dynamic.partitions.pernode=1000").await;

    let plain = timed(&s, runs, "INSERT OVERWRITE TABLE plain SELECT *, pmod(id, 100) FROM src").await;
    let part = timed(&s, runs, "INSERT OVERWRITE TABLE part100 PARTITION (k) SELECT *, pmod(id, 100) FROM src").await;
    let t = Instant::now();
    exec(
        &mut s,
        "INSERT OVERWRITE TABLE daily PARTITION (shipdate) SELECT id, qty, price, flag, shipmode, comment, shipdate FROM src",
    )
    .await;
    let daily_insert = t.elapsed().as_secs_f64();
    let mb = src_bytes as f64 / 1e6;
    println!("\ndynamic partitions: INSERT OVERWRITE of {mb:.0} MB of text rows");
    println!("  unpartitioned table                         {:>8.2} s   {:>7.1} MB/s", plain, mb / plain);
    println!(
        "  100 dynamic partitions                      {:>8.2} s   {:>7.1} MB/s   (overhead {:+.0}%)",
        part,
        mb / part,
        (part / plain - 1.0) * 100.0
    );
    println!("  365 dynamic partitions (one run)            {:>8.2} s   {:>7.1} MB/s", daily_insert, mb / daily_insert);

    let day = "1995-06-17";
    let q_plain = format!("SELECT count(*), sum(price) FROM src WHERE shipdate = '{day}'");
    let q_part = format!("SELECT count(*), sum(price) FROM daily WHERE shipdate = '{day}'");
    let a = s.execute_collect(&q_plain).await.unwrap();
    let b = s.execute_collect(&q_part).await.unwrap();
    assert_eq!(
        datafusion::arrow::util::pretty::pretty_format_batches(&a).unwrap().to_string(),
        datafusion::arrow::util::pretty::pretty_format_batches(&b).unwrap().to_string(),
        "the pruned query gives the unpartitioned answer"
    );
    let t_plain = timed(&s, runs, &q_plain).await;
    let t_part = timed(&s, runs, &q_part).await;
    let daily_dir = home.path().join("warehouse").join("daily");
    let day_bytes = dir_bytes(&daily_dir.join(format!("shipdate={day}")));
    println!("\npruning: one day of 365 daily partitions vs the unpartitioned table");
    println!("  unpartitioned (scan + filter)               {:>8.1} ms", t_plain * 1e3);
    println!(
        "  partitioned (1 of 365 read)                 {:>8.1} ms   ({:.1}x faster; {:.2}% of the bytes: {} of {})",
        t_part * 1e3,
        t_plain / t_part,
        day_bytes as f64 * 100.0 / dir_bytes(&daily_dir) as f64,
        day_bytes,
        dir_bytes(&daily_dir)
    );
}
