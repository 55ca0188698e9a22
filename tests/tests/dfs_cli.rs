//! The block store through the real binary: `hiveql namenode` and
//! `hiveql datanode` processes on 127.0.0.1 ephemeral ports, driven with
//! `hiveql dfs`, `dfsadmin` and `fsck` as `hadoop fs` / `hdfs` users would;
//! datanodes killed with SIGKILL during reads and writes lose nothing, a
//! namenode killed with SIGKILL in the middle of a stream of changes keeps
//! every acknowledged one; `hiveql cluster start|status|stop`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use hiveql_tests::{files_under, hiveql_bin};

/// Child processes killed when the test ends, however it ends.
struct Daemons(Vec<Child>);

impl Drop for Daemons {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Start a daemon (with the hiveql home `home`) and read the address it prints.
fn start(daemons: &mut Daemons, home: &Path, args: &[&str]) -> String {
    let mut child = Command::new(hiveql_bin())
        .env("HIVEQL_HOME", home)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start daemon");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    daemons.0.push(child);
    line.trim().rsplit(' ').next().unwrap_or_else(|| panic!("no address in {line:?}")).to_string()
}

fn dfs(home: &Path, nn: &str, args: &[&str]) -> Output {
    Command::new(hiveql_bin())
        .env("HIVEQL_HOME", home)
        .args(["dfs", "--namenode", nn, "--block-size", "1024"])
        .args(args)
        .output()
        .expect("run hiveql dfs")
}

/// `hiveql ROLE --namenode NN ARGS` (dfsadmin, fsck, dfs with other flags).
fn tool(home: &Path, role: &str, nn: &str, args: &[&str]) -> Output {
    Command::new(hiveql_bin())
        .env("HIVEQL_HOME", home)
        .args([role, "--namenode", nn])
        .args(args)
        .output()
        .expect("run hiveql")
}

fn text(o: Output) -> String {
    String::from_utf8(ok(o)).unwrap()
}

/// The percentage of a progress line (`... [###>--]  42% ...`).
fn percent_of(line: &str) -> Option<u32> {
    let (before, _) = line.split_once('%')?;
    before.rsplit(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// Poll `check` for up to 30 s.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !check() {
        assert!(std::time::Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

fn ok(o: Output) -> Vec<u8> {
    assert!(o.status.success(), "dfs failed: {}", String::from_utf8_lossy(&o.stderr));
    o.stdout
}

#[test]
fn dfs_commands_against_real_daemons() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).display().to_string();
    let mut daemons = Daemons(Vec::new());
    let home = dir.path().join("home");
    let nn = start(&mut daemons, &home, &["namenode", "--dir", &d("nn"), "--port", "0"]);
    for i in 0..3 {
        let rack = format!("/r{}", i % 2);
        start(
            &mut daemons,
            &home,
            &["datanode", "--namenode", &nn, "--dir", &d(&format!("dn{i}")), "--port", "0", "--rack", &rack],
        );
    }
    let bytes: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
    let local = dir.path().join("local.bin");
    std::fs::write(&local, &bytes).unwrap();
    ok(dfs(&home, &nn, &["-mkdir", "-p", "/data"]));
    ok(dfs(&home, &nn, &["-put", local.to_str().unwrap(), "/data"]));
    let listing = String::from_utf8(ok(dfs(&home, &nn, &["-ls", "/data"]))).unwrap();
    assert!(listing.contains("/data/local.bin") && listing.contains(" 5000 "), "{listing}");
    assert_eq!(ok(dfs(&home, &nn, &["-cat", &format!("dfs://{nn}/data/local.bin")])), bytes);
    // the same file again is refused; a missing one is a clear error
    let again = dfs(&home, &nn, &["-put", local.to_str().unwrap(), "/data/local.bin"]);
    assert!(!again.status.success() && String::from_utf8_lossy(&again.stderr).contains("exists"));
    let missing = dfs(&home, &nn, &["-cat", "/nope"]);
    assert!(!missing.status.success() && String::from_utf8_lossy(&missing.stderr).contains("not found"));
    // kill -9 a datanode: reads go to the other replicas
    daemons.0[1].kill().unwrap();
    daemons.0[1].wait().unwrap();
    let got = dir.path().join("got.bin");
    ok(dfs(&home, &nn, &["-get", "/data/local.bin", got.to_str().unwrap()]));
    assert_eq!(std::fs::read(&got).unwrap(), bytes);
    ok(dfs(&home, &nn, &["-mv", "/data", "/moved"]));
    assert_eq!(ok(dfs(&home, &nn, &["-cat", "/moved/local.bin"])), bytes);
    let rm = dfs(&home, &nn, &["-rm", "/moved"]);
    assert!(!rm.status.success(), "a non-empty directory needs -r");
    ok(dfs(&home, &nn, &["-rm", "-r", "/moved"]));
    assert_eq!(String::from_utf8(ok(dfs(&home, &nn, &["-ls", "/"]))).unwrap(), "Found 0 items\n");
    assert!(Path::new(&d("nn")).join("edits").exists());
}

#[test]
fn copies_sizes_replication_reports_and_kill_9_during_a_write() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).display().to_string();
    let mut daemons = Daemons(Vec::new());
    let home = dir.path().join("home");
    let nn = start(
        &mut daemons,
        &home,
        &["namenode", "--dir", &d("nn"), "--port", "0", "--dead-after-secs", "2", "--monitor-ms", "1000"],
    );
    for i in 0..3 {
        let dn = d(&format!("dn{i}"));
        let args = ["datanode", "--namenode", &nn, "--dir", &dn, "--heartbeat-ms", "200", "--scan-secs", "1"];
        start(&mut daemons, &home, &args);
    }
    // a large file, with a progress line
    let big: Vec<u8> = (0..20u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let local = dir.path().join("big.bin");
    std::fs::write(&local, &big).unwrap();
    let put = Command::new(hiveql_bin())
        .env("HIVEQL_HOME", &home)
        .env("HIVEQL_PROGRESS", "1")
        .args(["dfs", "--namenode", &nn, "--block-size", "1048576", "-put", local.to_str().unwrap(), "/big"])
        .output()
        .unwrap();
    let progress = String::from_utf8_lossy(&put.stderr).to_string();
    assert!(put.status.success() && progress.contains("100%"), "{progress}");
    // -cp, -du, -setrep
    ok(dfs(&home, &nn, &["-mkdir", "/copies"]));
    ok(tool(&home, "dfs", &nn, &["--block-size", "1048576", "-cp", "/big", "/copies/big2"]));
    assert!(ok(dfs(&home, &nn, &["-cat", "/copies/big2"])) == big);
    let du = text(dfs(&home, &nn, &["-du", "-s", "/copies"]));
    assert_eq!(du.split_whitespace().collect::<Vec<_>>(), vec!["20971520", "62914560", "/copies"], "{du}");
    let du = text(dfs(&home, &nn, &["-du", "-h", "/"]));
    assert!(du.contains("20.0 M") && du.contains("60.0 M") && du.contains("/copies"), "{du}");
    ok(dfs(&home, &nn, &["-setrep", "2", "/copies/big2"]));
    eventually("setrep 2 trims the third replicas", || {
        let f = tool(&home, "fsck", &nn, &["/copies", "-files", "-blocks"]);
        let out = String::from_utf8_lossy(&f.stdout).to_string();
        out.contains("replication 2") && !out.contains("Live_repl=3") && f.status.success()
    });
    // dfsadmin -report
    let report = text(tool(&home, "dfsadmin", &nn, &["-report"]));
    assert!(report.contains("Live datanodes (3)") && report.contains("Safe mode is OFF"), "{report}");
    assert!(report.contains("Files: 2") && report.contains("Under replicated blocks: 0"), "{report}");
    // safe mode by hand: changes refused with a clear error, reads work
    assert!(text(tool(&home, "dfsadmin", &nn, &["-safemode", "enter"])).starts_with("Safe mode is ON"));
    let refused = dfs(&home, &nn, &["-mkdir", "/nope"]);
    let why = String::from_utf8_lossy(&refused.stderr).to_string();
    assert!(!refused.status.success() && why.contains("safe mode"), "{why}");
    assert!(ok(dfs(&home, &nn, &["-cat", "/big"])) == big);
    assert_eq!(text(tool(&home, "dfsadmin", &nn, &["-safemode", "leave"])), "Safe mode is OFF\n");

    // kill -9 a datanode while a file is being written: the write completes
    let local2 = dir.path().join("big2.bin");
    std::fs::write(&local2, &big).unwrap();
    let mut writer = Command::new(hiveql_bin())
        .env("HIVEQL_HOME", &home)
        .env("HIVEQL_PROGRESS", "1")
        .args(["dfs", "--namenode", &nn, "--block-size", "1048576", "-put", local2.to_str().unwrap(), "/big2"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // the datanode dies only once the write is seen under way (its progress
    // line past 0% and short of 100%)
    let lines = std::io::BufReader::new(writer.stderr.take().unwrap());
    let (tx, progress) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in std::io::BufRead::lines(lines).map_while(Result::ok) {
            all.push_str(&line);
            all.push('\n');
            if tx.send(line).is_err() {
                continue; // nobody waits for progress any more; keep the rest for the report
            }
        }
        all
    });
    loop {
        let line = progress.recv_timeout(std::time::Duration::from_secs(60)).expect("the write never showed progress");
        match percent_of(&line) {
            Some(100) => panic!("the write finished before the datanode could be killed: make it larger"),
            Some(p) if p > 0 => break,
            _ => {}
        }
    }
    drop(progress);
    daemons.0[1].kill().unwrap();
    daemons.0[1].wait().unwrap();
    let status = writer.wait().unwrap();
    let stderr = reader.join().unwrap();
    assert!(status.success(), "{stderr}");
    assert!(ok(dfs(&home, &nn, &["-cat", "/big2"])) == big);
    // fsck sees under-replicated blocks; a new node joins, every block gets back to 3
    start(&mut daemons, &home, &["datanode", "--namenode", &nn, "--dir", &d("dn3"), "--heartbeat-ms", "200"]);
    eventually("every block back at 3 live replicas", || {
        let f = tool(&home, "fsck", &nn, &["/", "-files", "-blocks", "-locations"]);
        let out = String::from_utf8_lossy(&f.stdout).to_string();
        f.status.success() && out.contains("HEALTHY") && out.contains(" Under-replicated blocks:\t0")
    });
    let report = text(tool(&home, "dfsadmin", &nn, &["-report"]));
    assert!(report.contains("Live datanodes (3)") && report.contains("Dead datanodes (1)"), "{report}");
    assert!(ok(dfs(&home, &nn, &["-cat", "/big2"])) == big);
    assert!(ok(dfs(&home, &nn, &["-cat", "/big"])) == big);

    // flip bytes in one replica on disk: reads still right, fsck shows it
    // (found by a reader or the datanode's block scanner), it is replaced
    // (a block of the replication-2 file, on a live node, so there is a node to copy it to)
    let listing = text(tool(&home, "fsck", &nn, &["/copies/big2", "-files", "-blocks"]));
    let ids: Vec<String> = listing
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter(|w| w.starts_with("blk_"))
        .map(String::from)
        .collect();
    assert_eq!(ids.len(), 20, "{listing}");
    let block_file = ["dn1", "dn2", "dn3"]
        .iter()
        .flat_map(|dn| files_under(Path::new(&d(dn))))
        .find(|p| ids.iter().any(|id| p.file_name().unwrap().to_string_lossy() == id.as_str()))
        .expect("a replica of /copies/big2");
    let mut raw = std::fs::read(&block_file).unwrap();
    raw[500] ^= 0xff;
    std::fs::write(&block_file, raw).unwrap();
    assert!(ok(dfs(&home, &nn, &["-cat", "/copies/big2"])) == big);
    eventually("the corrupt replica is found", || {
        let fsck = tool(&home, "fsck", &nn, &["/", "-files", "-blocks", "-locations"]);
        let out = String::from_utf8_lossy(&fsck.stdout).to_string();
        out.contains("CORRUPT REPLICA") && out.contains("corrupt: [") && fsck.status.success()
    });
    eventually("the corrupt replica replaced", || {
        let f = tool(&home, "fsck", &nn, &["/", "-files", "-blocks"]);
        let out = String::from_utf8_lossy(&f.stdout).to_string();
        f.status.success() && !out.contains("CORRUPT") && !out.contains("UNDER") && !block_file.exists()
    });
    assert!(ok(dfs(&home, &nn, &["-cat", "/copies/big2"])) == big);
}

/// The namespace as a sorted list of paths.
fn tree(client: &mut hiveql_storage::client::DfsClient, rt: &tokio::runtime::Runtime) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec!["/".to_string()];
    while let Some(p) = todo.pop() {
        for s in rt.block_on(client.list(&p)).unwrap() {
            if s.is_dir {
                todo.push(s.path.clone());
            }
            out.push(s.path);
        }
    }
    out.sort();
    out
}

/// One change of the namespace, and what it does to a model of the tree.
#[derive(Debug, Clone)]
enum Change {
    Mkdir(String),
    Create(String),
    Rename(String, String),
    Delete(String),
}

impl Change {
    fn apply(&self, model: &mut std::collections::BTreeSet<String>) {
        match self {
            Change::Mkdir(p) | Change::Create(p) => {
                model.insert(p.clone());
            }
            Change::Rename(a, b) => {
                let moved: Vec<String> =
                    model.iter().filter(|p| *p == a || p.starts_with(&format!("{a}/"))).cloned().collect();
                for p in moved {
                    model.remove(&p);
                    model.insert(format!("{b}{}", &p[a.len()..]));
                }
            }
            Change::Delete(p) => model.retain(|x| x != p && !x.starts_with(&format!("{p}/"))),
        }
    }
}

#[test]
fn a_namenode_killed_mid_stream_keeps_every_acknowledged_change() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let nn_dir = dir.path().join("nn").display().to_string();
    let mut daemons = Daemons(Vec::new());
    let nn = start(&mut daemons, &home, &["namenode", "--dir", &nn_dir, "--port", "0"]);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let _in_runtime = rt.enter(); // clients connect lazily, on the runtime
    let secret = hiveql_storage::secret::Secret::discover(Some(&home)).unwrap();
    let mut client = hiveql_storage::client::DfsClient::new(&nn, secret.clone()).unwrap();
    client.retry_for = std::time::Duration::ZERO; // the change in flight when the namenode dies fails at once
    // kill -9 the namenode from another thread, once a stream of changes is
    // going (counted, not timed: a loaded machine acknowledges fewer per second)
    let pid = daemons.0[0].id();
    let acked_count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let killer = {
        let acked_count = acked_count.clone();
        std::thread::spawn(move || {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
            while acked_count.load(std::sync::atomic::Ordering::SeqCst) < 50 && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            std::thread::sleep(std::time::Duration::from_millis(150));
            libc_kill(pid);
        })
    };
    let mut acked: Vec<Change> = Vec::new();
    let mut in_flight = None;
    for i in 0.. {
        let change = match i % 4 {
            0 => Change::Mkdir(format!("/d{i}")),
            1 => Change::Create(format!("/d{}/f{i}", i - 1)),
            2 => Change::Rename(format!("/d{}", i - 2), format!("/r{i}")),
            _ => Change::Delete(format!("/r{}/f{}", i - 1, i - 2)),
        };
        let result = rt.block_on(async {
            match &change {
                Change::Mkdir(p) => client.mkdirs(p).await,
                Change::Create(p) => client.write(p, bytes::Bytes::new(), false).await,
                Change::Rename(a, b) => client.rename(a, b).await,
                Change::Delete(p) => client.delete(p, false).await,
            }
        });
        match result {
            Ok(()) => {
                acked.push(change);
                acked_count.store(acked.len(), std::sync::atomic::Ordering::SeqCst);
            }
            Err(_) => {
                in_flight = Some(change);
                break;
            }
        }
        assert!(i < 1_000_000, "the namenode was never killed");
    }
    killer.join().unwrap();
    daemons.0[0].wait().unwrap();
    assert!(acked.len() > 20, "only {} changes before the kill", acked.len());
    // restart on the same directory: every acknowledged change is there, the
    // one in flight entirely or not at all
    let nn = start(&mut daemons, &home, &["namenode", "--dir", &nn_dir, "--port", "0"]);
    let mut client = hiveql_storage::client::DfsClient::new(&nn, secret).unwrap();
    let got = tree(&mut client, &rt);
    let mut model = std::collections::BTreeSet::new();
    acked.iter().for_each(|c| c.apply(&mut model));
    let without: Vec<String> = model.iter().cloned().collect();
    if let Some(c) = &in_flight {
        c.apply(&mut model);
    }
    let with: Vec<String> = model.into_iter().collect();
    assert!(got == without || got == with, "after {} changes and {in_flight:?}: {got:?}", acked.len());
}

/// Issue 10's case, as an operator meets it: kill -9 the namenode, start
/// it again, and at once read a file and INSERT into a `dfs://` table. The
/// namenode is in safe mode and has no replica locations until the
/// datanodes report (every 3 s); both commands wait that out by themselves.
#[test]
fn clients_wait_out_a_restarting_namenode() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).display().to_string();
    let mut daemons = Daemons(Vec::new());
    let home = dir.path().join("home");
    let nn = start(&mut daemons, &home, &["namenode", "--dir", &d("nn"), "--port", "0"]);
    let port = nn.rsplit(':').next().unwrap().to_string();
    for i in 0..3 {
        start(&mut daemons, &home, &["datanode", "--namenode", &nn, "--dir", &d(&format!("dn{i}")), "--port", "0"]);
    }
    let bytes: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
    let local = dir.path().join("local.bin");
    std::fs::write(&local, &bytes).unwrap();
    ok(dfs(&home, &nn, &["-mkdir", "-p", "/data"]));
    ok(dfs(&home, &nn, &["-mkdir", "-p", "/t"]));
    ok(dfs(&home, &nn, &["-put", local.to_str().unwrap(), "/data"]));
    let sql = |stmts: &str| {
        Command::new(hiveql_bin())
            .env("HIVEQL_HOME", &home)
            .args(["--silent", "--showHeader=false", "-e"])
            .arg(format!("CREATE EXTERNAL TABLE IF NOT EXISTS t (id INT) LOCATION 'dfs://{nn}/t'; {stmts}"))
            .output()
            .unwrap()
    };
    let first = sql("INSERT INTO t VALUES (1);");
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    // kill -9 the namenode and start it again on the same port
    libc_kill(daemons.0[0].id());
    daemons.0[0].wait().unwrap();
    start(&mut daemons, &home, &["namenode", "--dir", &d("nn"), "--port", &port]);
    let cat = {
        let (home, nn) = (home.clone(), nn.clone());
        std::thread::spawn(move || dfs(&home, &nn, &["-cat", "/data/local.bin"]))
    };
    let insert = sql("INSERT INTO t VALUES (2); SELECT sum(id) FROM t;");
    let cat = cat.join().unwrap();
    assert!(cat.status.success(), "dfs -cat right after the restart: {}", String::from_utf8_lossy(&cat.stderr));
    assert_eq!(cat.stdout, bytes);
    assert!(insert.status.success(), "INSERT right after the restart: {}", String::from_utf8_lossy(&insert.stderr));
    assert_eq!(String::from_utf8_lossy(&insert.stdout).trim(), "3");
}

fn libc_kill(pid: u32) {
    let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
}

#[test]
fn a_local_cluster_in_one_command() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let hiveql = |args: &[&str]| Command::new(hiveql_bin()).env("HIVEQL_HOME", &home).args(args).output().unwrap();
    let started = hiveql(&["cluster", "start", "--datanodes", "3", "--port", "0"]);
    let out = String::from_utf8_lossy(&started.stdout).to_string();
    assert!(started.status.success(), "{out}{}", String::from_utf8_lossy(&started.stderr));
    let addr = out.split("dfs://").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    let stop = StopCluster(home.clone());
    let again = hiveql(&["cluster", "start"]);
    assert!(!again.status.success() && String::from_utf8_lossy(&again.stderr).contains("already running"));
    let status = hiveql(&["cluster", "status"]);
    let text_status = String::from_utf8_lossy(&status.stdout).to_string();
    assert!(status.status.success() && text_status.contains("3 live and 0 dead datanodes"), "{text_status}");
    // dfs commands and queries find the cluster (fs.defaultFS) and its secret (the home's)
    let local = dir.path().join("rows.csv");
    std::fs::write(&local, "1,a\n2,b\n3,c\n").unwrap();
    assert!(hiveql(&["dfs", "-mkdir", "-p", "/t"]).status.success());
    assert!(hiveql(&["dfs", "-put", local.to_str().unwrap(), "/t/"]).status.success());
    let q = hiveql(&[
        "--silent",
        "-e",
        &format!(
            "CREATE EXTERNAL TABLE t (id INT, s STRING) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' \
             LOCATION 'dfs://{addr}/t'; SELECT sum(id), max(s) FROM t;"
        ),
    ]);
    let rows = String::from_utf8_lossy(&q.stdout).to_string();
    assert_eq!(rows.lines().last(), Some("6\tc"), "{rows}{}", String::from_utf8_lossy(&q.stderr));
    drop(stop);
    let status = hiveql(&["cluster", "status"]);
    assert!(!status.status.success());
}

/// Stops the test's local cluster however the test ends.
struct StopCluster(std::path::PathBuf);

impl Drop for StopCluster {
    fn drop(&mut self) {
        let _ = Command::new(hiveql_bin()).env("HIVEQL_HOME", &self.0).args(["cluster", "stop"]).output();
    }
}
