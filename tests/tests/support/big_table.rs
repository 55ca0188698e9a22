//! The big text table of the cluster tests: written to local disk, or to a
//! real block store (a namenode and datanodes on loopback addresses), and
//! its DDL. Shared by `dist.rs` and `locality.rs` (a test binary of its
//! own, so that its measurement runs alone).

use std::time::{Duration, Instant};

/// A text table of `files` files of `lines` lines each (`k,v,text`) in
/// `dir`, large enough that a scan of it takes a while in a debug build.
pub fn write_big_table(dir: &std::path::Path, files: usize, lines: usize) {
    use std::io::Write;
    std::fs::create_dir_all(dir).unwrap();
    for f in 0..files {
        let mut out = std::io::BufWriter::new(std::fs::File::create(dir.join(format!("part-{f}"))).unwrap());
        for i in 0..lines {
            let k = f * lines + i;
            writeln!(out, "{k},{},row {k} of a table that takes a while to scan", k % 1000).unwrap();
        }
    }
}

/// The DDL of the table [`write_big_table`] writes, at `location`.
pub fn big_table_ddl(location: &str) -> String {
    format!(
        "CREATE EXTERNAL TABLE big (k BIGINT, v INT, t STRING) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' \
         LOCATION '{location}'"
    )
}

/// A real block store on `h`: a namenode and a datanode bound to each of
/// `binds` (processes, heartbeating every 300 ms), holding a table of four
/// files of `lines` lines at `/big` in blocks of `block_size` bytes with
/// `replication` replicas each.
pub async fn block_store_with_big_table(
    h: &std::path::Path,
    binds: &[&str],
    lines: usize,
    block_size: u64,
    replication: u16,
) -> (hiveql_tests::cluster::Daemon, Vec<hiveql_tests::cluster::Daemon>, hiveql_storage::client::DfsClient) {
    use hiveql_tests::cluster::Daemon;
    let arg = |p: std::path::PathBuf| p.display().to_string();
    let namenode =
        Daemon::start(h, &["namenode".into(), "--dir".into(), arg(h.join("nn")), "--port".into(), "0".into()]);
    let datanodes = binds
        .iter()
        .enumerate()
        .map(|(i, bind)| {
            let dir = arg(h.join(format!("dn{i}")));
            let args =
                ["datanode", "--namenode", &namenode.addr, "--dir", &dir, "--bind", bind, "--heartbeat-ms", "300"];
            Daemon::start(h, &args.map(String::from))
        })
        .collect();
    let local = h.join("big-local");
    write_big_table(&local, 4, lines);
    let secret = hiveql_storage::secret::Secret::discover(Some(h)).unwrap();
    let mut client = hiveql_storage::client::DfsClient::new(&namenode.addr, secret).unwrap();
    client.block_size = block_size;
    client.replication = replication;
    for f in 0..4 {
        let data = bytes::Bytes::from(std::fs::read(local.join(format!("part-{f}"))).unwrap());
        let deadline = Instant::now() + Duration::from_secs(30);
        // the datanodes register a moment after they start
        while let Err(e) = client.write(&format!("/big/part-{f}"), data.clone(), true).await {
            assert!(Instant::now() < deadline, "writing part-{f}: {e}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    (namenode, datanodes, client)
}
