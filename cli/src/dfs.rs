//! `hiveql dfs`: file commands on the block store, as `hadoop fs` users
//! know them. Files stream in and out (a large `-put` or `-get` never sits
//! whole in memory) with a progress bar on standard error (see
//! [`crate::progress`]).

use std::io::{Read, Write};
use std::process::ExitCode;

use bytes::Bytes;
use futures::TryStreamExt;
use hiveql_storage::StorageError;
use hiveql_storage::client::{DfsClient, FileStatus};

use crate::args::NamenodeArg;
use crate::conf::{connect, split_path};
use crate::error::{CliError, OnPath, Result};

/// Bytes read from a local file per write.
const CHUNK: usize = 4 << 20;

/// `1.5 G`, `12.0 M`, `512`: sizes as `-h` prints them.
pub fn human(n: u64) -> String {
    let units = ["K", "M", "G", "T", "P"];
    if n < 1024 {
        return n.to_string();
    }
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", units[u])
}

fn print_status(s: &FileStatus, readable: bool) {
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
    let len = if readable { human(s.len) } else { s.len.to_string() };
    println!("{kind}{perm}   {repl} {} {} {len:>10} {when} {}", s.owner, s.group, s.path);
}

/// Run `hiveql dfs COMMAND ARGS...`.
pub async fn run(arg: NamenodeArg, block_size: Option<u64>, replication: u16, cmd: &[String]) -> ExitCode {
    match dfs(arg, block_size, replication, cmd).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let op = cmd.first().map(String::as_str).unwrap_or("dfs");
            eprintln!("Error: {op}: {e}");
            e.exit_code()
        }
    }
}

async fn put(client: &mut DfsClient, local: &str, dst: &str, overwrite: bool) -> Result<()> {
    let mut file = std::fs::File::open(local).map_err(|e| CliError::io(local, e))?;
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut w = client.create(dst, overwrite).await.on(dst)?;
    let progress = crate::progress::transfer(&format!("put {local}"), total);
    loop {
        let mut buf = vec![0u8; CHUNK];
        let n = file.read(&mut buf).map_err(|e| CliError::io(local, e))?;
        if n == 0 {
            break;
        }
        buf.truncate(n);
        if let Err(err) = w.write(Bytes::from(buf)).await {
            if let Err(abort) = w.abort().await {
                tracing::warn!(path = dst, error = %abort, "abandoning the half-written file failed");
            }
            return Err(err).on(dst);
        }
        progress.inc(n as u64);
    }
    w.close().await.on(dst)?;
    progress.finish();
    Ok(())
}

async fn get(client: &mut DfsClient, src: &str, mut out: impl Write, what: String) -> Result<()> {
    let located = client.locate(src).await.on(src)?;
    if located.file.is_dir {
        return Err(StorageError::IsDirectory(src.to_string())).on(src);
    }
    let progress = crate::progress::transfer(&what, located.file.len);
    let mut chunks = std::pin::pin!(client.read_stream(located, 0, u64::MAX));
    while let Some(c) = chunks.try_next().await.on(src)? {
        out.write_all(&c).map_err(|e| CliError::io(format!("writing {src} out"), e))?;
        progress.inc(c.len() as u64);
    }
    out.flush().map_err(|e| CliError::io(format!("writing {src} out"), e))?;
    progress.finish();
    Ok(())
}

/// Every file under `path` (itself if a file), with its status.
async fn files_under(client: &mut DfsClient, path: &str) -> Result<Vec<FileStatus>> {
    let mut out = Vec::new();
    let mut todo = vec![path.to_string()];
    while let Some(p) = todo.pop() {
        for s in client.list(&p).await.on(&p)? {
            if s.is_dir {
                todo.push(s.path.clone());
            } else {
                out.push(s);
            }
        }
    }
    Ok(out)
}

/// Where a file named like `src` goes when `dst` is a directory.
async fn into_dir(client: &mut DfsClient, src_name: &str, dst: String) -> String {
    if client.stat(&dst).await.is_ok_and(|s| s.is_dir) {
        let name = src_name.rsplit('/').next().unwrap_or(src_name);
        format!("{}/{name}", dst.trim_end_matches('/'))
    } else {
        dst
    }
}

async fn dfs(arg: NamenodeArg, block_size: Option<u64>, replication: u16, cmd: &[String]) -> Result<()> {
    let (op, rest) = cmd.split_first().ok_or_else(|| CliError::Usage("no dfs command".into()))?;
    let flags: Vec<&str> = rest.iter().filter(|a| a.starts_with('-')).map(String::as_str).collect();
    let paths: Vec<&str> = rest.iter().filter(|a| !a.starts_with('-')).map(String::as_str).collect();
    let need = |n: usize| -> Result<()> {
        if paths.len() < n { Err(CliError::Usage(format!("needs {n} path(s)"))) } else { Ok(()) }
    };
    let has = |f: &str| flags.contains(&f);
    let dfs_path = |p: &str| split_path(p).map(|(_, path)| path);
    let mut client = connect(&arg, &paths)?;
    client.replication = replication;
    client.block_size = block_size.unwrap_or(0);
    match op.as_str() {
        "-ls" => {
            let recursive = has("-R");
            let mut todo: Vec<String> = if paths.is_empty() {
                vec!["/".into()]
            } else {
                paths.iter().map(|p| dfs_path(p)).collect::<Result<_, _>>()?
            };
            todo.reverse();
            while let Some(p) = todo.pop() {
                let entries = client.list(&p).await.on(&p)?;
                let is_dir = entries.first().is_none_or(|s| s.path != p);
                if is_dir {
                    println!("Found {} items", entries.len());
                }
                for s in entries.iter().rev() {
                    if recursive && s.is_dir {
                        todo.push(s.path.clone());
                    }
                }
                for s in &entries {
                    print_status(s, has("-h"));
                }
            }
        }
        "-mkdir" => {
            need(1)?;
            for p in &paths {
                let path = dfs_path(p)?;
                if !has("-p") && client.stat(&path).await.is_ok() {
                    return Err(StorageError::AlreadyExists(path.clone())).on(&path);
                }
                client.mkdirs(&path).await.on(&path)?;
            }
        }
        "-put" | "-copyFromLocal" => {
            need(2)?;
            let (dst, srcs) = paths.split_last().expect("two paths");
            let dst = dfs_path(dst)?;
            if srcs.len() > 1 && !client.stat(&dst).await.is_ok_and(|s| s.is_dir) {
                return Err(CliError::Usage(format!("{dst}: not a directory (several files are put)")));
            }
            for src in srcs {
                let target = into_dir(&mut client, src, dst.clone()).await;
                put(&mut client, src, &target, has("-f")).await?;
            }
        }
        "-get" | "-copyToLocal" => {
            need(2)?;
            let src = dfs_path(paths[0])?;
            let mut local = std::path::PathBuf::from(paths[1]);
            if local.is_dir() {
                local = local.join(src.rsplit('/').next().unwrap_or("file"));
            }
            // Written beside the target and renamed, so a failed copy leaves nothing half-written.
            let tmp = local.with_file_name(format!(
                ".{}.hiveql-get",
                local.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default()
            ));
            let file = std::fs::File::create(&tmp).map_err(|e| CliError::io(tmp.display(), e))?;
            let got = get(&mut client, &src, std::io::BufWriter::new(file), format!("get {src}")).await;
            match got {
                Ok(()) => std::fs::rename(&tmp, &local).map_err(|e| CliError::io(local.display(), e))?,
                Err(err) => {
                    if let Err(e) = std::fs::remove_file(&tmp) {
                        tracing::warn!(file = %tmp.display(), error = %e, "could not remove the partial copy");
                    }
                    return Err(err);
                }
            }
        }
        "-cat" => {
            need(1)?;
            for p in &paths {
                let path = dfs_path(p)?;
                get(&mut client, &path, std::io::stdout().lock(), String::new()).await?;
            }
        }
        "-rm" => {
            need(1)?;
            let recursive = flags.iter().any(|f| matches!(*f, "-r" | "-R" | "-rf" | "-fr"));
            let force = flags.iter().any(|f| matches!(*f, "-f" | "-rf" | "-fr"));
            for p in &paths {
                match client.delete(&dfs_path(p)?, recursive).await {
                    Ok(()) => println!("Deleted {p}"),
                    Err(hiveql_storage::StorageError::NotFound(_)) if force => {}
                    Err(err) => return Err(err).on(p),
                }
            }
        }
        "-mv" => {
            need(2)?;
            let src = dfs_path(paths[0])?;
            let dst = into_dir(&mut client, &src, dfs_path(paths[1])?).await;
            client.rename(&src, &dst).await.on(&src)?;
        }
        "-cp" => {
            need(2)?;
            let src = dfs_path(paths[0])?;
            let dst = into_dir(&mut client, &src, dfs_path(paths[1])?).await;
            let files = files_under(&mut client, &src).await?;
            for f in files {
                let target = format!("{dst}{}", &f.path[src.len()..]);
                let located = client.locate(&f.path).await.on(&f.path)?;
                let mut w = client.create(&target, has("-f")).await.on(&target)?;
                let mut chunks = std::pin::pin!(client.read_stream(located, 0, u64::MAX));
                while let Some(c) = chunks.try_next().await.on(&f.path)? {
                    w.write(c).await.on(&target)?;
                }
                w.close().await.on(&target)?;
            }
        }
        "-du" => {
            let targets: Vec<String> = if paths.is_empty() {
                vec!["/".into()]
            } else {
                paths.iter().map(|p| dfs_path(p)).collect::<Result<_, _>>()?
            };
            let size = |n: u64| if has("-h") { human(n) } else { n.to_string() };
            for t in targets {
                // each entry (or the path itself with -s): its size and its size with all replicas
                let entries =
                    if has("-s") { vec![client.stat(&t).await.on(&t)?] } else { client.list(&t).await.on(&t)? };
                for entry in entries {
                    let files =
                        if entry.is_dir { files_under(&mut client, &entry.path).await? } else { vec![entry.clone()] };
                    let len: u64 = files.iter().map(|f| f.len).sum();
                    let raw: u64 = files.iter().map(|f| f.len * f.replication as u64).sum();
                    println!("{:<10} {:<10} {}", size(len), size(raw), entry.path);
                }
            }
        }
        "-setrep" => {
            let usage = || CliError::Usage("usage: -setrep [-R] [-w] N PATH...".into());
            let n: u16 = rest.iter().find_map(|a| a.parse().ok()).ok_or_else(usage)?;
            let targets: Vec<&str> = paths.iter().copied().filter(|p| p.parse::<u16>().is_err()).collect();
            if targets.is_empty() {
                return Err(usage());
            }
            for p in targets {
                let path = dfs_path(p)?;
                for f in files_under(&mut client, &path).await? {
                    client.set_replication(&f.path, n).await.on(&f.path)?;
                    println!("Replication {n} set: {}", f.path);
                }
            }
        }
        "-stat" => {
            need(1)?;
            for p in &paths {
                let path = dfs_path(p)?;
                print_status(&client.stat(&path).await.on(&path)?, false);
            }
        }
        other => {
            return Err(CliError::Usage(format!(
                "unknown command {other} (supported: -ls [-R] [-h], -mkdir [-p], -put [-f], -get, -cat, -rm [-r] [-f], \
                 -mv, -cp [-f], -du [-s] [-h], -setrep N, -stat)"
            )));
        }
    }
    Ok(())
}
