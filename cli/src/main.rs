//! `hiveql`: the Hive-compatible command line. With no script it is an
//! interactive REPL; `-e` / `-f` / a pipe run a batch script.
//!
//! Query rows go to standard output in the chosen `--outputformat`; status
//! lines (OK, timings, row counts) and errors go to standard error.

mod admin;
mod args;
mod cluster;
mod conf;
mod daemon;
mod dfs;
mod output;
mod repl;
mod runner;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use args::{Args, Role};

fn main() -> ExitCode {
    let args = Args::parse();
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
            r @ (Role::Namenode { .. } | Role::Datanode { .. }) => daemon::run(r).await,
            Role::Dfs { namenode, block_size, replication, command } => {
                dfs::run(namenode, block_size, replication, &command).await
            }
            Role::Dfsadmin { namenode, command } => admin::dfsadmin(namenode, &command).await,
            Role::Fsck { namenode, command } => admin::fsck(namenode, &command).await,
            Role::Cluster { action, datanodes, port, home } => cluster::run(action, datanodes, port, home).await,
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
