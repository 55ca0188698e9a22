//! `hiveql namenode`, `hiveql datanode` and `hiveql dfs`: the block store's
//! daemons and its file commands, as `hdfs namenode`, `hdfs datanode` and
//! `hadoop fs` users know them.

use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use hiveql_storage::client::DfsClient;
use hiveql_storage::datanode::{self, DataNodeConfig};
use hiveql_storage::namenode::{self, server::NameNodeConfig};
use hiveql_storage::rpc::messages::PathStatus;

use crate::args::Role;

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("Error: {msg}");
    ExitCode::from(1)
}

/// Run a role other than the SQL shell.
pub async fn run(role: Role) -> ExitCode {
    match role {
        Role::Namenode { dir, port, bind, dead_after_secs } => {
            let config = NameNodeConfig { dead_after: Duration::from_secs(dead_after_secs), ..Default::default() };
            let listen = match format!("{bind}:{port}").parse() {
                Ok(a) => a,
                Err(e) => return fail(format!("--bind/--port: {e}")),
            };
            match namenode::serve(&dir, listen, config).await {
                Ok(running) => {
                    println!("namenode listening on {}", running.addr);
                    let _ = running.server.await;
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        Role::Datanode { namenode, dir, port, bind, rack, heartbeat_ms } => {
            let cfg =
                DataNodeConfig { rack, heartbeat_interval: Duration::from_millis(heartbeat_ms), ..Default::default() };
            let listen = match format!("{bind}:{port}").parse() {
                Ok(a) => a,
                Err(e) => return fail(format!("--bind/--port: {e}")),
            };
            match datanode::serve(&dir, listen, &namenode, cfg).await {
                Ok(running) => {
                    println!("datanode listening on {}", running.addr);
                    let _ = running.server.await;
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        Role::Dfs { namenode, block_size, replication, command } => {
            match dfs(namenode, block_size, replication, &command).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(e),
            }
        }
    }
}

/// `dfs://host:port/path` -> (Some(host:port), /path); `/path` -> (None, /path).
fn split_path(p: &str) -> Result<(Option<String>, String), String> {
    match p.strip_prefix("dfs://") {
        Some(rest) => {
            let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
            Ok((Some(host.to_string()), format!("/{path}")))
        }
        None if p.starts_with('/') => Ok((None, p.to_string())),
        None => Err(format!("{p}: give an absolute path or a dfs://HOST:PORT/path URL")),
    }
}

fn print_status(s: &PathStatus) {
    let kind = if s.is_dir { 'd' } else { '-' };
    let mut perm = String::new();
    for shift in [6, 3, 0] {
        let bits = (s.permission >> shift) & 7;
        perm.push(if bits & 4 != 0 { 'r' } else { '-' });
        perm.push(if bits & 2 != 0 { 'w' } else { '-' });
        perm.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    let repl = if s.is_dir { "-".to_string() } else { s.replication.to_string() };
    let when = chrono::DateTime::from_timestamp_millis(s.mtime as i64)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default();
    println!("{kind}{perm}   {repl} {} {} {:>10} {when} {}", s.owner, s.group, s.len, s.path);
}

async fn dfs(
    default_nn: Option<String>,
    block_size: Option<u64>,
    replication: u16,
    cmd: &[String],
) -> Result<(), String> {
    let (op, rest) = cmd.split_first().ok_or("no dfs command")?;
    let flags: Vec<&str> = rest.iter().filter(|a| a.starts_with('-')).map(String::as_str).collect();
    let paths: Vec<&str> = rest.iter().filter(|a| !a.starts_with('-')).map(String::as_str).collect();
    let need = |n: usize| -> Result<(), String> {
        if paths.len() < n { Err(format!("{op} needs {n} path(s)")) } else { Ok(()) }
    };
    // The namenode: from the first dfs:// path, else --namenode.
    let mut nn = default_nn;
    for p in &paths {
        if let Ok((Some(h), _)) = split_path(p) {
            nn = Some(h);
            break;
        }
    }
    let dfs_path = |p: &str| split_path(p).map(|(_, path)| path);
    let nn = nn.ok_or("no namenode: give dfs://HOST:PORT/... paths, --namenode or HIVEQL_NAMENODE")?;
    let mut client = DfsClient::connect(&nn).await.map_err(|e| format!("namenode {nn}: {e}"))?;
    client.replication = replication;
    client.block_size = block_size.unwrap_or(0);
    let e = |e: hiveql_storage::StorageError| e.to_string();
    match op.as_str() {
        "-ls" => {
            need(1)?;
            let recursive = flags.contains(&"-R");
            let mut todo = vec![dfs_path(paths[0])?];
            while let Some(p) = todo.pop() {
                let entries = client.list(&p).await.map_err(e)?;
                for s in &entries {
                    print_status(s);
                    if recursive && s.is_dir {
                        todo.push(s.path.clone());
                    }
                }
            }
        }
        "-mkdir" => {
            need(1)?;
            for p in &paths {
                client.mkdirs(&dfs_path(p)?).await.map_err(e)?;
            }
        }
        "-put" | "-copyFromLocal" => {
            need(2)?;
            let data = std::fs::read(paths[0]).map_err(|err| format!("{}: {err}", paths[0]))?;
            let mut dst = dfs_path(paths[1])?;
            if client.stat(&dst).await.is_ok_and(|s| s.is_dir) {
                let name = std::path::Path::new(paths[0]).file_name().ok_or("bad local file name")?;
                dst = format!("{}/{}", dst.trim_end_matches('/'), name.to_string_lossy());
            }
            client.write(&dst, Bytes::from(data), flags.contains(&"-f")).await.map_err(e)?;
        }
        "-get" | "-copyToLocal" => {
            need(2)?;
            let data = client.read(&dfs_path(paths[0])?).await.map_err(e)?;
            std::fs::write(paths[1], data).map_err(|err| format!("{}: {err}", paths[1]))?;
        }
        "-cat" => {
            need(1)?;
            use std::io::Write;
            for p in &paths {
                let data = client.read(&dfs_path(p)?).await.map_err(e)?;
                std::io::stdout().write_all(&data).map_err(|err| err.to_string())?;
            }
        }
        "-rm" => {
            need(1)?;
            let recursive = flags.iter().any(|f| *f == "-r" || *f == "-R" || *f == "-rf");
            for p in &paths {
                client.delete(&dfs_path(p)?, recursive).await.map_err(e)?;
            }
        }
        "-mv" => {
            need(2)?;
            client.rename(&dfs_path(paths[0])?, &dfs_path(paths[1])?).await.map_err(e)?;
        }
        "-stat" => {
            need(1)?;
            for p in &paths {
                print_status(&client.stat(&dfs_path(p)?).await.map_err(e)?);
            }
        }
        other => {
            return Err(format!(
                "unknown dfs command {other} (supported: -ls [-R], -mkdir [-p], -put, -get, -cat, -rm [-r], -mv, -stat)"
            ));
        }
    }
    Ok(())
}
