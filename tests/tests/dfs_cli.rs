//! The block store through the real binary: `hiveql namenode` and three
//! `hiveql datanode` processes on 127.0.0.1 ephemeral ports, driven with
//! `hiveql dfs` as `hadoop fs` users would; a datanode killed with SIGKILL
//! does not stop reads.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use hiveql_tests::hiveql_bin;

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

/// Start a daemon and read the address it prints.
fn start(daemons: &mut Daemons, args: &[&str]) -> String {
    let mut child = Command::new(hiveql_bin())
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

fn dfs(nn: &str, args: &[&str]) -> Output {
    Command::new(hiveql_bin())
        .args(["dfs", "--namenode", nn, "--block-size", "1024"])
        .args(args)
        .output()
        .expect("run hiveql dfs")
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
    let nn = start(&mut daemons, &["namenode", "--dir", &d("nn"), "--port", "0"]);
    for i in 0..3 {
        let rack = format!("/r{}", i % 2);
        start(
            &mut daemons,
            &["datanode", "--namenode", &nn, "--dir", &d(&format!("dn{i}")), "--port", "0", "--rack", &rack],
        );
    }
    let bytes: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
    let local = dir.path().join("local.bin");
    std::fs::write(&local, &bytes).unwrap();
    ok(dfs(&nn, &["-mkdir", "-p", "/data"]));
    ok(dfs(&nn, &["-put", local.to_str().unwrap(), "/data"]));
    let listing = String::from_utf8(ok(dfs(&nn, &["-ls", "/data"]))).unwrap();
    assert!(listing.contains("/data/local.bin") && listing.contains(" 5000 "), "{listing}");
    assert_eq!(ok(dfs(&nn, &["-cat", &format!("dfs://{nn}/data/local.bin")])), bytes);
    // the same file again is refused; a missing one is a clear error
    let again = dfs(&nn, &["-put", local.to_str().unwrap(), "/data/local.bin"]);
    assert!(!again.status.success() && String::from_utf8_lossy(&again.stderr).contains("exists"));
    let missing = dfs(&nn, &["-cat", "/nope"]);
    assert!(!missing.status.success() && String::from_utf8_lossy(&missing.stderr).contains("not found"));
    // kill -9 a datanode: reads go to the other replicas
    daemons.0[1].kill().unwrap();
    daemons.0[1].wait().unwrap();
    let got = dir.path().join("got.bin");
    ok(dfs(&nn, &["-get", "/data/local.bin", got.to_str().unwrap()]));
    assert_eq!(std::fs::read(&got).unwrap(), bytes);
    ok(dfs(&nn, &["-mv", "/data", "/moved"]));
    assert_eq!(ok(dfs(&nn, &["-cat", "/moved/local.bin"])), bytes);
    let rm = dfs(&nn, &["-rm", "/moved"]);
    assert!(!rm.status.success(), "a non-empty directory needs -r");
    ok(dfs(&nn, &["-rm", "-r", "/moved"]));
    assert!(ok(dfs(&nn, &["-ls", "/"])).is_empty());
    assert!(Path::new(&d("nn")).join("edits").exists());
}
