//! Hive tables on the block store: a warehouse on `dfs://` (managed tables,
//! INSERT, LOAD DATA, CTAS) and an external table at a `dfs://` location give
//! the same answers as the same script on local disk. The cluster is real
//! (a namenode and three datanodes on 127.0.0.1 ephemeral ports, block files
//! on disk), with a small block size so files span many blocks.

use hiveql_engine::{Session, SessionOptions};
use hiveql_storage::cluster::MiniCluster;
use hiveql_tests::{data_dir, format_rows};

async fn rows(s: &mut Session, sql: &str) -> Vec<String> {
    let batches = s.execute_collect(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    format_rows(&batches, "|")
}

/// Run the script with the warehouse at `warehouse` and the external table at `ext`.
async fn script(home: &std::path::Path, warehouse: &str, ext: &str, local_file: &str) -> Vec<Vec<String>> {
    let mut s = Session::open(SessionOptions {
        home: home.to_path_buf(),
        hiveconf: vec![("hive.metastore.warehouse.dir".into(), warehouse.into())],
        ..Default::default()
    })
    .unwrap();
    let statements = [
        format!(
            "CREATE EXTERNAL TABLE sales (id INT, region STRING, amount DECIMAL(10,2), sold_on DATE) \
             ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION '{ext}' TBLPROPERTIES ('skip.header.line.count'='1')"
        ),
        "CREATE TABLE totals (region STRING, total DECIMAL(20,2), n BIGINT)".into(),
        "INSERT INTO totals SELECT region, sum(amount), count(*) FROM sales GROUP BY region".into(),
        "INSERT INTO totals VALUES ('west', 1.50, 1)".into(),
        "CREATE TABLE copy STORED AS PARQUET AS SELECT * FROM sales WHERE amount IS NOT NULL".into(),
        "CREATE TABLE loaded (id INT, region STRING, amount DECIMAL(10,2), sold_on DATE) ROW FORMAT DELIMITED FIELDS TERMINATED BY ','".into(),
        format!("LOAD DATA LOCAL INPATH '{local_file}' INTO TABLE loaded"),
        // partitions: dynamic insert, an escaped value, ADD/DROP, and MSCK
        // rediscovering the managed table's directories through an external table
        "CREATE TABLE parted (id INT, amount DECIMAL(10,2)) PARTITIONED BY (region STRING, y INT)".into(),
        "SET hive.exec.dynamic.partition.mode=nonstrict".into(),
        "INSERT INTO parted PARTITION (region, y) SELECT id, amount, region, year(sold_on) FROM sales".into(),
        "INSERT INTO parted PARTITION (region='a/b', y=1) VALUES (99, 9.99)".into(),
        format!("CREATE EXTERNAL TABLE found (id INT, amount DECIMAL(10,2)) PARTITIONED BY (region STRING, y INT) LOCATION '{warehouse}/parted'"),
        "MSCK REPAIR TABLE found".into(),
        "ALTER TABLE parted ADD PARTITION (region='empty', y=0)".into(),
        "ALTER TABLE parted DROP PARTITION (y < 1)".into(),
    ];
    for st in &statements {
        s.execute(st).await.unwrap_or_else(|e| panic!("{st}: {e}"));
    }
    let mut out = Vec::new();
    for q in [
        "SELECT * FROM sales ORDER BY id",
        "SELECT * FROM totals ORDER BY region",
        "SELECT id, amount FROM copy ORDER BY id",
        "SELECT count(*), sum(amount) FROM loaded WHERE id IS NOT NULL",
        "SHOW PARTITIONS parted",
        "SELECT region, count(*), sum(amount) FROM parted WHERE region IN ('east', 'a/b') GROUP BY region ORDER BY region",
        "SHOW PARTITIONS found",
        "SELECT * FROM found ORDER BY id",
    ] {
        out.push(rows(&mut s, q).await);
    }
    s.execute("INSERT OVERWRITE TABLE totals SELECT 'all', sum(amount), count(*) FROM sales").await.unwrap();
    out.push(rows(&mut s, "SELECT * FROM totals").await);
    s.execute("DROP TABLE copy").await.unwrap();
    out.push(rows(&mut s, "SHOW TABLES").await);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tables_on_dfs_match_tables_on_local_disk() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = MiniCluster::start_small(dir.path(), 3).await.unwrap();
    let addr = cluster.addr();
    // the external table's file, put on dfs with small blocks
    let sales = std::fs::read(data_dir().join("sales/sales.csv")).unwrap();
    let mut client = cluster.client().unwrap();
    client.block_size = 64;
    client.write("/ext/sales/sales.csv", bytes::Bytes::from(sales), false).await.unwrap();
    assert!(client.locate("/ext/sales/sales.csv").await.unwrap().blocks.len() > 1);
    let load_file = dir.path().join("load.csv");
    std::fs::write(&load_file, "10,north,1.25,2024-03-01\n11,south,2.50,2024-03-02\n").unwrap();
    let load = load_file.display().to_string();

    let local_home = dir.path().join("local-home");
    let local = script(
        &local_home,
        &local_home.join("warehouse").display().to_string(),
        &data_dir().join("sales").display().to_string(),
        &load,
    )
    .await;
    // a home that shares the cluster's secret reaches it
    let dfs_home = dir.path().join("dfs-home");
    std::fs::create_dir_all(&dfs_home).unwrap();
    std::fs::copy(dir.path().join("cluster.secret"), dfs_home.join("cluster.secret")).unwrap();
    let on_dfs = script(&dfs_home, &format!("dfs://{addr}/warehouse"), &format!("dfs://{addr}/ext/sales"), &load).await;
    assert_eq!(on_dfs, local);
    assert_eq!(local[0].len(), 5);
    assert!(local[4].iter().any(|p| p == "region=a%2Fb/y=1"), "{:?}", local[4]);
    assert_eq!(local[7].len(), local[0].len() + 1);
    // the escaped name is the directory's name on dfs too
    let regions: Vec<String> = client.list("/warehouse/parted").await.unwrap().into_iter().map(|s| s.path).collect();
    assert!(regions.contains(&"/warehouse/parted/region=a%2Fb".to_string()), "{regions:?}");
    // the managed tables' files really are on dfs, the dropped one is gone
    let names: Vec<String> = client.list("/warehouse").await.unwrap().into_iter().map(|s| s.path).collect();
    let left: Vec<String> =
        client.list("/warehouse/copy").await.map(|v| v.into_iter().map(|s| s.path).collect()).unwrap_or_default();
    assert_eq!(names, vec!["/warehouse/loaded", "/warehouse/parted", "/warehouse/totals"], "left in copy: {left:?}");
    assert!(!client.list("/warehouse/totals").await.unwrap().is_empty());
    // the external data is untouched
    assert_eq!(client.list("/ext/sales").await.unwrap().len(), 1);

    // a home without the secret is refused, with a message that says why
    let mut stranger =
        Session::open(SessionOptions { home: dir.path().join("other-home"), ..Default::default() }).unwrap();
    stranger
        .execute(&format!("CREATE EXTERNAL TABLE s (line STRING) LOCATION 'dfs://{addr}/ext/sales'"))
        .await
        .unwrap();
    let e = stranger.execute_collect("SELECT count(*) FROM s").await.unwrap_err().to_string();
    assert!(e.contains("cluster secret"), "{e}");
}

/// A text table on dfs is scanned in splits at block boundaries.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn text_scans_split_at_block_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = MiniCluster::start_small(dir.path(), 3).await.unwrap();
    let addr = cluster.addr();
    let mut client = cluster.client().unwrap();
    client.block_size = 1000;
    let text: String = (0..2000).map(|i| format!("{i},{}\n", i % 7)).collect();
    client.write("/t/part-0", bytes::Bytes::from(text.clone()), false).await.unwrap();
    let blocks = client.locate("/t/part-0").await.unwrap().blocks.len();
    assert!(blocks > 10, "{blocks} blocks");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::copy(dir.path().join("cluster.secret"), home.join("cluster.secret")).unwrap();
    let mut s = Session::open(SessionOptions { home, ..Default::default() }).unwrap();
    s.execute(&format!(
        "CREATE EXTERNAL TABLE t (id INT, k INT) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 'dfs://{addr}/t'"
    ))
    .await
    .unwrap();
    s.execute("SET datafusion.execution.target_partitions=4").await.unwrap();
    s.execute("SET datafusion.optimizer.repartition_file_min_size=1").await.unwrap();
    let plan = rows(&mut s, "EXPLAIN SELECT * FROM t").await.join("\n");
    // every split lies within one block of 1000 bytes
    let ranges: Vec<(u64, u64)> = plan
        .match_indices("part-0:")
        .map(|(i, _)| {
            let rest = &plan[i + "part-0:".len()..];
            let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
            let (a, b) = rest[..end].split_once("..").unwrap();
            (a.parse().unwrap(), b.parse().unwrap())
        })
        .collect();
    assert!(ranges.len() >= blocks, "{plan}");
    for (a, b) in &ranges {
        assert_eq!(a / 1000, (b - 1) / 1000, "split {a}..{b} crosses a block boundary");
    }
    // and the scan reads every row exactly once
    let got = rows(&mut s, "SELECT count(*), sum(id), count(DISTINCT id) FROM t").await;
    assert_eq!(got, vec!["2000|1999000|2000"]);
}
