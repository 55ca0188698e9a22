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
pub struct Daemon {
    /// The process.
    pub child: Child,
    /// The file its log goes to, if it logs.
    pub log: Option<std::path::PathBuf>,
    /// The address it announced (`HOST:PORT`).
    pub addr: String,
}

impl Daemon {
    /// Start `hiveql ARGS` on `home` and wait for its `listening on` line.
    pub fn start(home: &Path, args: &[String]) -> Daemon {
        Self::start_logged(home, args, std::env::var_os("HIVEQL_TEST_LOGS").map(Into::into))
    }

    /// [`Daemon::start`], the role's log (`RUST_LOG`, default info) going
    /// to a file in `logs` (`HIVEQL_TEST_LOGS=DIR` does this for every role).
    pub fn start_logged(home: &Path, args: &[String], logs: Option<std::path::PathBuf>) -> Daemon {
        let log = logs.map(|dir| {
            static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Path::new(&dir).join(format!("{}-{n}.log", args[0]))
        });
        let stderr = match &log {
            Some(file) => Stdio::from(std::fs::File::create(file).expect("log file")),
            None => Stdio::null(),
        };
        let mut child = Command::new(hiveql_bin())
            .args(args)
            .env("HIVEQL_HOME", home)
            .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()))
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start hiveql");
        let out = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(out).read_line(&mut line).expect("read the address line");
        let addr = match line.split_once("listening on ") {
            Some((_, addr)) => addr.trim().to_string(),
            None => panic!("{args:?}: {line}"),
        };
        Daemon { child, log, addr }
    }

    /// Kill the process at once (SIGKILL) and reap it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// What the daemon has logged so far (empty when it does not log).
    pub fn log_text(&self) -> String {
        self.log.as_ref().and_then(|f| std::fs::read_to_string(f).ok()).unwrap_or_default()
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
    /// The home the roles share (its `cluster.secret` is the cluster's).
    pub home: std::path::PathBuf,
}

impl LocalCluster {
    /// Start a scheduler and `workers` workers of `slots` slots each, sharing `home`.
    pub fn start(home: &Path, workers: usize, slots: usize) -> LocalCluster {
        Self::start_logged(home, workers, slots, std::env::var_os("HIVEQL_TEST_LOGS").map(Into::into))
    }

    /// [`LocalCluster::start`], every role logging into its file in `logs`.
    pub fn start_logged(home: &Path, workers: usize, slots: usize, logs: Option<std::path::PathBuf>) -> LocalCluster {
        let port = free_port();
        let scheduler =
            Daemon::start_logged(home, &["scheduler".into(), "--port".into(), port.to_string()], logs.clone());
        let addr = format!("127.0.0.1:{port}");
        let workers = (0..workers).map(|_| Self::start_worker_logged(home, &addr, slots, logs.clone())).collect();
        LocalCluster { addr, workers, scheduler, home: home.to_path_buf() }
    }

    /// The length of each worker's log so far, to look for lines past it.
    pub fn worker_log_lens(&self) -> Vec<usize> {
        self.workers.iter().map(|w| w.log_text().len()).collect()
    }

    /// Wait until a worker's log, past `from` (of [`Self::worker_log_lens`]),
    /// has a line containing all of `parts`; the first such worker's index.
    pub async fn wait_for_worker_log(&self, from: &[usize], parts: &[&str], timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        loop {
            for (i, w) in self.workers.iter().enumerate() {
                let text = w.log_text();
                if text.get(from[i]..).unwrap_or("").lines().any(|l| parts.iter().all(|p| l.contains(p))) {
                    return i;
                }
            }
            assert!(Instant::now() < deadline, "no worker logged a line with {parts:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Kill the scheduler (SIGKILL) and start a new one on the same port.
    pub fn restart_scheduler(&mut self, home: &Path) {
        self.scheduler.kill();
        let port = self.addr.rsplit_once(':').map(|(_, p)| p.to_string()).expect("HOST:PORT");
        self.scheduler = Daemon::start(home, &["scheduler".into(), "--port".into(), port]);
    }

    /// Start one more worker of the scheduler at `addr`.
    pub fn start_worker(home: &Path, addr: &str, slots: usize) -> Daemon {
        Self::start_worker_logged(home, addr, slots, std::env::var_os("HIVEQL_TEST_LOGS").map(Into::into))
    }

    /// [`LocalCluster::start_worker`], logging into a file in `logs`.
    pub fn start_worker_logged(home: &Path, addr: &str, slots: usize, logs: Option<std::path::PathBuf>) -> Daemon {
        let port = free_port_pair();
        Daemon::start_logged(
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
            logs,
        )
    }

    /// Wait until the cluster answers a query that reads a file (workers
    /// register a moment after they start).
    pub async fn wait_ready(&self) {
        // a home of its own (its metastore stays out of the tests'), with the cluster's secret
        let home = tempfile::tempdir().unwrap();
        let secret = self.home.join("cluster.secret");
        if secret.exists() {
            std::fs::copy(&secret, home.path().join("cluster.secret")).unwrap();
        }
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
