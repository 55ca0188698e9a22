//! `hiveql cluster start|stop|status`: a local block store cluster in one
//! command, for newcomers: a namenode and `--datanodes N` datanodes as
//! background processes, their data, logs and process ids under
//! `$HIVEQL_HOME/cluster/`, the home's cluster secret, and `fs.defaultFS`
//! in `$HIVEQL_HOME/hiveql.conf` pointing at it (so `hiveql dfs`,
//! `dfsadmin` and `fsck` need no `--namenode`). The data stays across
//! stop and start.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::args::{ClusterAction, HomeArg, NamenodeArg};
use crate::conf;
use crate::error::{CliError, OnPath, Result};

/// What `start` records for `stop` and `status`.
#[derive(Debug, Serialize, Deserialize)]
struct ClusterState {
    namenode: String,
    namenode_pid: u32,
    datanode_pids: Vec<u32>,
    /// The query scheduler's address and pid, when started with `--workers`.
    #[serde(default)]
    scheduler: Option<(String, u32)>,
    #[serde(default)]
    worker_pids: Vec<u32>,
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("Error: cluster: {msg}");
    ExitCode::from(1)
}

fn state_path(root: &Path) -> PathBuf {
    root.join("cluster.json")
}

#[allow(unsafe_code)] // see the SAFETY comments
fn alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid as libc::pid_t, 0) == 0 }
}

#[allow(unsafe_code)] // see the SAFETY comments
fn signal(pid: u32, sig: libc::c_int) {
    // SAFETY: sends a signal to a process this cluster started.
    unsafe {
        libc::kill(pid as libc::pid_t, sig);
    }
}

fn read_state(root: &Path) -> Option<ClusterState> {
    serde_json::from_slice(&std::fs::read(state_path(root)).ok()?).ok()
}

/// Start `hiveql ARGS` in the background, its output to `log`.
fn spawn(args: &[String], log: &Path) -> Result<u32> {
    let exe = std::env::current_exe().map_err(|e| CliError::io("finding the hiveql binary", e))?;
    let out = std::fs::File::create(log).map_err(|e| CliError::io(log.display(), e))?;
    let err = out.try_clone().map_err(|e| CliError::io(log.display(), e))?;
    let mut cmd = Command::new(exe);
    cmd.args(args).stdin(Stdio::null()).stdout(out).stderr(err);
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let child = cmd.spawn().map_err(|e| CliError::io(format!("starting {}", args[0]), e))?;
    Ok(child.id())
}

/// Wait until `log` has a line starting with `prefix`; the rest of it.
fn wait_for_line(log: &Path, prefix: &str, pid: u32) -> Result<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.starts_with(prefix)) {
            return Ok(line[prefix.len()..].trim().to_string());
        }
        if !alive(pid) || Instant::now() > deadline {
            return Err(CliError::Setup(format!("it did not start; {}:\n{text}", log.display())));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn stop_pids(pids: &[u32]) {
    for &p in pids {
        signal(p, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while pids.iter().any(|&p| alive(p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    for &p in pids {
        if alive(p) {
            signal(p, libc::SIGKILL);
        }
    }
}

/// Run `hiveql cluster ACTION`.
pub async fn run(action: ClusterAction, datanodes: usize, workers: usize, port: u16, home: HomeArg) -> ExitCode {
    let home_dir = home.dir();
    let root = home_dir.join("cluster");
    match action {
        ClusterAction::Start => match start(&home_dir, &root, datanodes, workers, port).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("Error: cluster: {e}");
                e.exit_code()
            }
        },
        ClusterAction::Stop => {
            let Some(state) = read_state(&root) else {
                return fail(format!("no cluster is running in {}", root.display()));
            };
            let mut pids = state.worker_pids.clone();
            pids.extend(state.scheduler.iter().map(|(_, pid)| *pid));
            pids.extend(state.datanode_pids.iter().copied());
            pids.push(state.namenode_pid);
            stop_pids(&pids);
            if let Err(e) = std::fs::remove_file(state_path(&root)) {
                tracing::warn!(file = %state_path(&root).display(), error = %e, "could not remove the cluster state");
            }
            println!("stopped the cluster at dfs://{} (its data stays in {})", state.namenode, root.display());
            ExitCode::SUCCESS
        }
        ClusterAction::Status => {
            let Some(state) = read_state(&root) else {
                println!("no cluster is running in {}", root.display());
                return ExitCode::from(1);
            };
            let up = |p: u32| if alive(p) { "running" } else { "NOT RUNNING" };
            println!("namenode dfs://{} (pid {}): {}", state.namenode, state.namenode_pid, up(state.namenode_pid));
            for (i, p) in state.datanode_pids.iter().enumerate() {
                println!("datanode {i} (pid {p}): {}", up(*p));
            }
            if let Some((addr, pid)) = &state.scheduler {
                println!("scheduler {addr} (pid {pid}): {}", up(*pid));
            }
            for (i, p) in state.worker_pids.iter().enumerate() {
                println!("worker {i} (pid {p}): {}", up(*p));
            }
            let arg = NamenodeArg { namenode: Some(state.namenode.clone()), home };
            let report = match conf::connect(&arg, &[]) {
                Ok(mut c) => c.report().await.map_err(CliError::from),
                Err(e) => Err(e),
            };
            match report {
                Ok(r) => {
                    println!(
                        "{} live and {} dead datanodes; {} files, {} blocks ({} under-replicated, {} corrupt, {} missing){}",
                        r.live.len(),
                        r.dead.len(),
                        r.files,
                        r.blocks,
                        r.under_replicated,
                        r.corrupt,
                        r.missing,
                        r.safe_mode.map(|w| format!("; safe mode: {w}")).unwrap_or_default()
                    );
                    if let Some(e) = &r.last_error {
                        println!("namenode last error: {e}");
                    }
                    for n in r.live.iter().chain(&r.dead) {
                        if let Some(e) = &n.last_error {
                            println!("datanode {} last error: {e}", n.addr);
                        }
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(format!("the namenode does not answer: {e}")),
            }
        }
    }
}

async fn start(home: &Path, root: &Path, datanodes: usize, workers: usize, port: u16) -> Result<()> {
    if let Some(state) = read_state(root)
        && alive(state.namenode_pid)
    {
        return Err(CliError::Setup(format!(
            "a cluster is already running at dfs://{} (pid {}); `hiveql cluster stop` first",
            state.namenode, state.namenode_pid
        )));
    }
    if datanodes == 0 {
        return Err(CliError::Usage("--datanodes must be at least 1".into()));
    }
    // its logs name what the secret guards, and its daemons' directories
    // are readable without it: the cluster's owner's only
    hiveql_storage::private::private_dir(root).on("the cluster's directory")?;
    let logs = root.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| CliError::io(logs.display(), e))?;
    hiveql_storage::secret::Secret::load_or_create(home).on("cluster secret")?;
    let h = home.display().to_string();
    let nn_log = logs.join("namenode.log");
    let nn_args: Vec<String> = vec![
        "namenode".into(),
        "--dir".into(),
        root.join("nn").display().to_string(),
        "--port".into(),
        port.to_string(),
        "--home".into(),
        h.clone(),
        "--dead-after-secs".into(),
        "10".into(),
        "--monitor-ms".into(),
        "1000".into(),
    ];
    let nn_pid = spawn(&nn_args, &nn_log)?;
    let addr = wait_for_line(&nn_log, "namenode listening on ", nn_pid)
        .map_err(|e| CliError::Setup(format!("namenode: {e}")))?;
    let mut pids = Vec::new();
    for i in 0..datanodes {
        let log = logs.join(format!("datanode{i}.log"));
        let args: Vec<String> = vec![
            "datanode".into(),
            "--namenode".into(),
            addr.clone(),
            "--dir".into(),
            root.join(format!("dn{i}")).display().to_string(),
            "--home".into(),
            h.clone(),
            "--heartbeat-ms".into(),
            "1000".into(),
        ];
        match spawn(&args, &log).and_then(|pid| wait_for_line(&log, "datanode listening on ", pid).map(|_| pid)) {
            Ok(pid) => pids.push(pid),
            Err(e) => {
                pids.push(nn_pid);
                stop_pids(&pids);
                return Err(CliError::Setup(format!("datanode {i}: {e}")));
            }
        }
    }
    let mut state = ClusterState {
        namenode: addr.clone(),
        namenode_pid: nn_pid,
        datanode_pids: pids,
        scheduler: None,
        worker_pids: Vec::new(),
    };
    if workers > 0
        && let Err(e) = start_query_roles(&mut state, &logs, &h, workers)
    {
        let mut all = state.worker_pids.clone();
        all.extend(state.scheduler.iter().map(|(_, p)| *p));
        all.extend(state.datanode_pids.iter().copied());
        all.push(nn_pid);
        stop_pids(&all);
        return Err(e);
    }
    let json = serde_json::to_vec_pretty(&state).map_err(|e| CliError::io("the cluster state", e.into()))?;
    std::fs::write(state_path(root), json).map_err(|e| CliError::io(state_path(root).display(), e))?;
    conf::set(home, conf::DEFAULT_FS, &format!("dfs://{addr}")).map_err(|e| CliError::io(conf::FILE, e))?;
    println!("started a namenode at dfs://{addr} and {datanodes} datanodes");
    if let Some((sched, _)) = &state.scheduler {
        conf::set(home, hiveql_engine::dist::CLUSTER, sched).map_err(|e| CliError::io(conf::FILE, e))?;
        println!("started a query scheduler at {sched} and {workers} workers; queries run there");
    }
    println!("data and logs: {}", root.display());
    println!("{} in {} now points at it; try:", conf::DEFAULT_FS, home.join(conf::FILE).display());
    println!("  hiveql dfs -ls /");
    println!("  hiveql dfsadmin -report");
    println!("  hiveql -e \"CREATE TABLE t (x INT) LOCATION 'dfs://{addr}/t'\"");
    println!("stop it with: hiveql cluster stop");
    Ok(())
}

/// Start the query scheduler (on any free port) and `workers` workers.
fn start_query_roles(state: &mut ClusterState, logs: &Path, home: &str, workers: usize) -> Result<()> {
    let log = logs.join("scheduler.log");
    let args: Vec<String> = vec!["scheduler".into(), "--port".into(), "0".into(), "--home".into(), home.to_string()];
    let pid = spawn(&args, &log)?;
    let addr =
        wait_for_line(&log, "scheduler listening on ", pid).map_err(|e| CliError::Setup(format!("scheduler: {e}")))?;
    state.scheduler = Some((addr.clone(), pid));
    for i in 0..workers {
        let log = logs.join(format!("worker{i}.log"));
        let args: Vec<String> = vec![
            "worker".into(),
            "--scheduler".into(),
            addr.clone(),
            "--port".into(),
            "0".into(),
            "--home".into(),
            home.to_string(),
        ];
        let pid = spawn(&args, &log)?;
        state.worker_pids.push(pid);
        wait_for_line(&log, "worker listening on ", pid).map_err(|e| CliError::Setup(format!("worker {i}: {e}")))?;
    }
    Ok(())
}
