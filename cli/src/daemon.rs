//! `hiveql namenode` and `hiveql datanode`: the block store's daemons, as
//! `hdfs namenode` and `hdfs datanode`. Each prints its address once it
//! listens (`namenode listening on HOST:PORT`) and runs until killed. Both
//! take the cluster secret from `HIVEQL_CLUSTER_SECRET` or
//! `$HIVEQL_HOME/cluster.secret`, creating the file if neither exists.

use std::process::ExitCode;
use std::time::Duration;

use hiveql_storage::datanode::{self, DataNodeConfig};
use hiveql_storage::namenode::{self, namesystem, server::NameNodeConfig};
use hiveql_storage::secret::Secret;

use crate::args::Role;

/// The one line a daemon writes to standard output, which supervisors (and
/// `hiveql cluster start`) read for the address. Everything after it goes to
/// the log: whoever started the daemon may have closed the pipe by then, and
/// a write to a closed pipe must not stop a running daemon.
fn announce(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout();
    if let Err(e) = writeln!(out, "{line}").and_then(|()| out.flush()) {
        tracing::warn!(error = %e, "could not write the address line to standard output");
    }
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("Error: {msg}");
    ExitCode::from(1)
}

/// `port`, or for 0 the first of `count` consecutive free ports on `bind`
/// (Ballista takes its ports by number, so they are found here; another
/// process could take one in between, and then the role fails to start).
fn free_ports(bind: &str, port: u16, count: u16) -> std::io::Result<u16> {
    if port != 0 {
        return Ok(port);
    }
    for _ in 0..100 {
        let first = std::net::TcpListener::bind((bind, 0))?.local_addr()?.port();
        let rest_free =
            (1..count).all(|k| first.checked_add(k).is_some_and(|p| std::net::TcpListener::bind((bind, p)).is_ok()));
        if rest_free {
            return Ok(first);
        }
    }
    Err(std::io::Error::new(std::io::ErrorKind::AddrInUse, "no free consecutive ports"))
}

/// Run until the daemon's server task ends (it runs until the process is killed).
async fn wait(server: tokio::task::JoinHandle<()>, role: &str) -> ExitCode {
    match server.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("{role} stopped: {e}")),
    }
}

/// Run a daemon role (namenode, datanode, scheduler or worker).
pub async fn run(role: Role) -> ExitCode {
    match role {
        Role::Scheduler { port, bind, home, no_locality, .. } => {
            let addr: std::net::SocketAddr = match format!("{bind}:{port}").parse() {
                Ok(a) => a,
                Err(e) => return fail(format!("--bind/--port: {e}")),
            };
            let secret = match Secret::load_or_create(&home.dir()) {
                Ok(s) => s,
                Err(e) => return fail(format!("cluster secret: {e}")),
            };
            let listening = |addr| announce(&format!("scheduler listening on {addr}"));
            match hiveql_engine::dist::scheduler::run(addr, secret, !no_locality, listening).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(e),
            }
        }
        Role::Worker { scheduler, port, bind, slots, memory, work_dir, home, .. } => {
            let Some((host, sport)) = scheduler.rsplit_once(':').and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
            else {
                return fail(format!("--scheduler {scheduler}: expected HOST:PORT"));
            };
            let port = match free_ports(&bind, port, 2) {
                Ok(p) => p,
                Err(e) => return fail(format!("--bind/--port: {e}")),
            };
            let opts = hiveql_engine::dist::worker::WorkerOptions {
                scheduler_host: host.to_string(),
                scheduler_port: sport,
                bind: bind.clone(),
                port,
                slots: slots.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
                memory,
                work_dir,
                home: home.dir(),
            };
            announce(&format!("worker listening on {bind}:{port}"));
            match hiveql_engine::dist::worker::run(opts).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(e),
            }
        }
        Role::Namenode {
            dir,
            recover,
            port,
            bind,
            dead_after_secs,
            lease_secs,
            monitor_ms,
            safe_mode_threshold,
            home,
            ..
        } => {
            if !(0.0..=1.0).contains(&safe_mode_threshold) {
                return fail(format!("--safe-mode-threshold {safe_mode_threshold} is not between 0 and 1"));
            }
            let secret = match Secret::load_or_create(&home.dir()) {
                Ok(s) => s,
                Err(e) => return fail(format!("cluster secret: {e}")),
            };
            let config = NameNodeConfig {
                dead_after: Duration::from_secs(dead_after_secs),
                lease_limit: Duration::from_secs(lease_secs),
                monitor_interval: Duration::from_millis(monitor_ms),
                safe_mode_threshold,
                secret,
                ..Default::default()
            };
            let listen = match format!("{bind}:{port}").parse() {
                Ok(a) => a,
                Err(e) => return fail(format!("--bind/--port: {e}")),
            };
            let mode = namesystem::OpenMode { recover };
            match namenode::serve_dirs(&dir, mode, listen, config).await {
                Ok(running) => {
                    announce(&format!("namenode listening on {}", running.addr));
                    tracing::info!(addr = %running.addr, dirs = ?dir, "namenode started");
                    for note in running.service.notes() {
                        tracing::warn!("{note}");
                    }
                    if let Some(why) = running.service.safe_mode() {
                        tracing::info!("in safe mode: {why}");
                    }
                    wait(running.server, "namenode").await
                }
                Err(e) => {
                    let dirs: Vec<String> = dir.iter().map(|d| d.display().to_string()).collect();
                    fail(format!("namenode in {}: {e}", dirs.join(", ")))
                }
            }
        }
        Role::Datanode { namenode, dir, port, bind, rack, heartbeat_ms, capacity, scan_secs, home, .. } => {
            let secret = match Secret::load_or_create(&home.dir()) {
                Ok(s) => s,
                Err(e) => return fail(format!("cluster secret: {e}")),
            };
            let cfg = DataNodeConfig {
                rack,
                heartbeat_interval: Duration::from_millis(heartbeat_ms),
                capacity: capacity.unwrap_or(u64::MAX),
                secret,
                scan_interval: Duration::from_secs(scan_secs),
                ..Default::default()
            };
            let listen = match format!("{bind}:{port}").parse() {
                Ok(a) => a,
                Err(e) => return fail(format!("--bind/--port: {e}")),
            };
            match datanode::serve(&dir, listen, &namenode, cfg).await {
                Ok(running) => {
                    announce(&format!("datanode listening on {}", running.addr));
                    tracing::info!(addr = %running.addr, dir = %dir.display(), namenode, "datanode started");
                    wait(running.server, "datanode").await
                }
                Err(e) => fail(format!("datanode in {} (namenode {namenode}): {e}", dir.display())),
            }
        }
        _ => unreachable!("not a daemon role"),
    }
}
