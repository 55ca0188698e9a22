//! A local query cluster for tests: a real `hiveql scheduler` and
//! `hiveql worker` processes on loopback ports, killed when dropped.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hiveql_engine::{Session, SessionOptions};

use crate::{data_dir, hiveql_bin};

/// A daemon process, killed when dropped.
pub struct Daemon(pub Child);

impl Daemon {
    /// Start `hiveql ARGS` on `home` and wait for its `listening on` line.
    pub fn start(home: &Path, args: &[String]) -> Daemon {
        let mut child = Command::new(hiveql_bin())
            .args(args)
            .env("HIVEQL_HOME", home)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start hiveql");
        let out = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(out).read_line(&mut line).expect("read the address line");
        assert!(line.contains("listening on"), "{args:?}: {line}");
        Daemon(child)
    }

    /// Kill the process at once (SIGKILL) and reap it.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Two free ports in a row (a worker takes `port` and `port + 1`).
pub fn free_port_pair() -> u16 {
    loop {
        let p = free_port();
        if p < u16::MAX && TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
            return p;
        }
    }
}

/// A scheduler and its workers.
pub struct LocalCluster {
    /// The scheduler's `HOST:PORT`.
    pub addr: String,
    /// The workers, in start order.
    pub workers: Vec<Daemon>,
    /// The scheduler (dropped last).
    pub scheduler: Daemon,
}

impl LocalCluster {
    /// Start a scheduler and `workers` workers of `slots` slots each, sharing `home`.
    pub fn start(home: &Path, workers: usize, slots: usize) -> LocalCluster {
        let port = free_port();
        let scheduler = Daemon::start(home, &["scheduler".into(), "--port".into(), port.to_string()]);
        let addr = format!("127.0.0.1:{port}");
        let workers = (0..workers).map(|_| Self::start_worker(home, &addr, slots)).collect();
        LocalCluster { addr, workers, scheduler }
    }

    /// Kill the scheduler (SIGKILL) and start a new one on the same port.
    pub fn restart_scheduler(&mut self, home: &Path) {
        self.scheduler.kill();
        let port = self.addr.rsplit_once(':').map(|(_, p)| p.to_string()).expect("HOST:PORT");
        self.scheduler = Daemon::start(home, &["scheduler".into(), "--port".into(), port]);
    }

    /// Start one more worker of the scheduler at `addr`.
    pub fn start_worker(home: &Path, addr: &str, slots: usize) -> Daemon {
        let port = free_port_pair();
        Daemon::start(
            home,
            &[
                "worker".into(),
                "--scheduler".into(),
                addr.into(),
                "--port".into(),
                port.to_string(),
                "--slots".into(),
                slots.to_string(),
            ],
        )
    }

    /// Wait until the cluster answers a query that reads a file (workers
    /// register a moment after they start).
    pub async fn wait_ready(&self) {
        let home = tempfile::tempdir().unwrap();
        let mut s = Session::open(SessionOptions {
            home: home.path().into(),
            hiveconf: vec![("hiveql.cluster".into(), self.addr.clone())],
            ..Default::default()
        })
        .unwrap();
        let ddl = format!(
            "CREATE EXTERNAL TABLE probe (id INT) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION '{}'",
            data_dir().join("sales").display()
        );
        s.execute(&ddl).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match s.execute_collect("SELECT count(*) FROM probe").await {
                Ok(_) => return,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("cluster not ready: {e}");
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
                Err(e) => panic!("cluster {} never answered: {e}", self.addr),
            }
        }
    }
}
