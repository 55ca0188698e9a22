//! `hiveql`: the Hive-compatible command line. With no script it is an
//! interactive REPL; `-e` / `-f` / a pipe run a batch script.
//!
//! Query rows go to standard output in the chosen `--outputformat`; status
//! lines (OK, timings, row counts) and errors go to standard error.

mod admin;
mod args;
mod cancel;
mod cluster;
mod conf;
mod daemon;
mod dfs;
mod error;
mod output;
mod progress;
mod repl;
mod runner;
mod serve;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use args::{Args, Role};

/// Structured logs (`tracing`) to standard error or the daemon's log file:
/// the level from `--log-level`, else `RUST_LOG`, else `default`.
fn init_logging(level: Option<String>, file: Option<std::path::PathBuf>, default: &str) -> error::Result<()> {
    use tracing_subscriber::EnvFilter;
    let filter = match level {
        Some(l) => EnvFilter::try_new(&l).map_err(|e| error::CliError::Usage(format!("--log-level {l}: {e}")))?,
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default)),
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(true);
    match file {
        Some(path) => {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|e| error::CliError::io(format!("--log-file {}", path.display()), e))?;
            builder.with_ansi(false).with_writer(std::sync::Mutex::new(f)).init();
        }
        None => builder.with_writer(std::io::stderr).init(),
    }
    Ok(())
}

/// mimalloc, as DataFusion's own CLI uses: glibc's malloc spent a fifth of
/// the server's time fetching a 1M-row result (`malloc_consolidate`,
/// `_int_free`, page faults: one buffer per row on the wire).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = Args::parse();
    let (level, file, default) = args.log();
    if let Err(e) = init_logging(level, file, default) {
        eprintln!("Error: {e}");
        return e.exit_code();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("Error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async_main(args))
}

async fn async_main(mut args: Args) -> ExitCode {
    if let Some(role) = args.role.take() {
        return match role {
            r @ (Role::Namenode { .. } | Role::Datanode { .. } | Role::Scheduler { .. } | Role::Worker { .. }) => {
                daemon::run(r).await
            }
            Role::Dfs { namenode, block_size, replication, command } => {
                dfs::run(namenode, block_size, replication, &command).await
            }
            Role::Dfsadmin { namenode, command } => admin::dfsadmin(namenode, &command).await,
            Role::Fsck { namenode, command } => admin::fsck(namenode, &command).await,
            Role::Cluster { action, datanodes, workers, port, home } => {
                cluster::run(action, datanodes, workers, port, home).await
            }
            r @ Role::Serve { .. } => serve::run(r).await,
            Role::User { action, home } => serve::user(action, &home.dir()),
        };
    }
    let mut runner = match runner::Runner::new(&args) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("Error: {e}");
            return ExitCode::from(1);
        }
    };
    let script = match args.script() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("Error: {e}");
            return ExitCode::from(1);
        }
    };
    let interactive = script.is_none() && std::io::stdin().is_terminal();
    // From here on Ctrl-C cancels the running statement instead of killing
    // the process (at the REPL prompt it clears the line).
    if let Err(e) = cancel::install(!interactive) {
        eprintln!("Error: cannot handle Ctrl-C: {e}");
        return ExitCode::from(1);
    }
    match script {
        Some(text) => runner.run_script(&text).await,
        None if std::io::stdin().is_terminal() => repl::run(&mut runner).await,
        None => {
            let mut text = String::new();
            if let Err(e) = std::io::Read::read_to_string(&mut std::io::stdin(), &mut text) {
                eprintln!("Error: reading standard input: {e}");
                return ExitCode::from(1);
            }
            runner.run_script(&text).await
        }
    }
}
