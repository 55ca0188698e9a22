//! `hiveql dfsadmin -report` and `hiveql fsck PATH`: the state of the
//! cluster and the health of files, as `hdfs dfsadmin` and `hdfs fsck`
//! print them.

use std::process::ExitCode;

use hiveql_storage::client::{ClusterReport, NodeReport, SafeModeAction};

use crate::args::NamenodeArg;
use crate::conf::{connect, split_path};
use crate::dfs::human;

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("Error: {msg}");
    ExitCode::from(1)
}

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 * 100.0 / whole as f64 }
}

fn print_node(n: &NodeReport) {
    println!("Name: {} ({})", n.addr, n.id);
    println!("Rack: {}", n.rack);
    println!("Configured Capacity: {} ({}B)", n.capacity, human(n.capacity));
    println!("DFS Used: {} ({}B)", n.used, human(n.used));
    println!("DFS Remaining: {} ({}B)", n.free, human(n.free));
    println!("DFS Used%: {:.2}%", pct(n.used, n.capacity));
    println!("Blocks: {}", n.blocks);
    println!("Last contact: {:.1} s ago", n.last_contact_ms as f64 / 1000.0);
    if let Some(e) = &n.last_error {
        println!("Last error: {e}");
    }
    println!();
}

fn print_report(r: &ClusterReport) {
    let capacity: u64 = r.live.iter().map(|n| n.capacity).sum();
    let used: u64 = r.live.iter().map(|n| n.used).sum();
    let free: u64 = r.live.iter().map(|n| n.free).sum();
    match &r.safe_mode {
        Some(why) => println!("Safe mode is ON: {why}"),
        None => println!("Safe mode is OFF"),
    }
    if let Some(e) = &r.last_error {
        println!("Namenode last error: {e}");
    }
    println!("Configured Capacity: {capacity} ({}B)", human(capacity));
    println!("DFS Used: {used} ({}B)", human(used));
    println!("DFS Remaining: {free} ({}B)", human(free));
    println!("DFS Used%: {:.2}%", pct(used, capacity));
    println!("Files: {}", r.files);
    println!("Directories: {}", r.directories);
    println!("Blocks: {}", r.blocks);
    println!("Under replicated blocks: {}", r.under_replicated);
    println!("Blocks with corrupt replicas: {}", r.corrupt);
    println!("Missing blocks: {}", r.missing);
    println!();
    println!("Live datanodes ({}):", r.live.len());
    println!();
    r.live.iter().for_each(print_node);
    println!("Dead datanodes ({}):", r.dead.len());
    println!();
    r.dead.iter().for_each(print_node);
}

/// Run `hiveql dfsadmin COMMAND`: `-report`, `-safemode get|enter|leave`.
pub async fn dfsadmin(arg: NamenodeArg, cmd: &[String]) -> ExitCode {
    let usage = "dfsadmin: give a command (-report, -safemode get|enter|leave)";
    let safe_mode = match (cmd.first().map(String::as_str), cmd.get(1).map(String::as_str)) {
        (Some("-report"), _) => None,
        (Some("-safemode"), Some("get")) => Some(SafeModeAction::Get),
        (Some("-safemode"), Some("enter")) => Some(SafeModeAction::Enter),
        (Some("-safemode"), Some("leave")) => Some(SafeModeAction::Leave),
        _ => return fail(usage),
    };
    let mut client = match connect(&arg, &[]) {
        Ok(c) => c,
        Err(e) => return fail(format!("dfsadmin: {e}")),
    };
    if let Some(action) = safe_mode {
        return match client.safe_mode(action).await {
            Ok(Some(why)) => {
                println!("Safe mode is ON: {why}");
                ExitCode::SUCCESS
            }
            Ok(None) => {
                println!("Safe mode is OFF");
                ExitCode::SUCCESS
            }
            Err(e) => fail(format!("dfsadmin -safemode: {e}")),
        };
    }
    match client.report().await {
        Ok(r) => {
            print_report(&r);
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("dfsadmin -report: {e}")),
    }
}

/// Run `hiveql fsck PATH [-files [-blocks [-locations]]]`: exits 0 when
/// every block under PATH has a good replica (HEALTHY), 1 when some block
/// has none (CORRUPT); under-replicated blocks and corrupt replicas are
/// listed and counted.
pub async fn fsck(arg: NamenodeArg, cmd: &[String]) -> ExitCode {
    let paths: Vec<&str> = cmd.iter().filter(|a| !a.starts_with('-')).map(String::as_str).collect();
    let has = |f: &str| cmd.iter().any(|a| a == f);
    let (files_flag, blocks_flag, locations_flag) = (has("-files"), has("-blocks"), has("-locations"));
    let Some(root) = paths.first() else { return fail("fsck: give a PATH") };
    let path = match split_path(root) {
        Ok((_, p)) => p,
        Err(e) => return fail(format!("fsck: {e}")),
    };
    let mut client = match connect(&arg, &paths) {
        Ok(c) => c,
        Err(e) => return fail(format!("fsck: {e}")),
    };
    let mut todo = vec![path.clone()];
    let (mut files, mut dirs, mut bytes, mut blocks) = (0u64, 0u64, 0u64, 0u64);
    let (mut under, mut corrupt, mut missing) = (0u64, 0u64, 0u64);
    while let Some(p) = todo.pop() {
        let entries = match client.list(&p).await {
            Ok(e) => e,
            Err(e) => return fail(format!("fsck {p}: {e}")),
        };
        if entries.first().is_none_or(|s| s.path != p) {
            dirs += 1;
        }
        for s in entries.into_iter().rev() {
            if s.is_dir {
                todo.push(s.path);
                continue;
            }
            let located = match client.locate(&s.path).await {
                Ok(l) => l,
                Err(e) => return fail(format!("fsck {}: {e}", s.path)),
            };
            files += 1;
            bytes += s.len;
            let target = s.replication as usize;
            let mut problems = Vec::new();
            let mut lines = Vec::new();
            for (i, b) in located.blocks.iter().enumerate() {
                blocks += 1;
                let live = b.locations.len();
                let state = if live == 0 {
                    missing += 1;
                    problems.push(format!("block {} MISSING", b.block));
                    "MISSING"
                } else if !b.corrupt.is_empty() {
                    corrupt += 1;
                    problems.push(format!("block {} has CORRUPT replicas on {}", b.block, b.corrupt.join(", ")));
                    "CORRUPT REPLICA"
                } else if live < target {
                    under += 1;
                    problems.push(format!("block {} under replicated: {live} of {target}", b.block));
                    "UNDER REPLICATED"
                } else {
                    "OK"
                };
                let mut line = format!("{i}. blk_{} len={} Live_repl={live} {state}", b.block, b.len);
                if locations_flag {
                    line.push_str(&format!(" [{}]", b.locations.join(", ")));
                    if !b.corrupt.is_empty() {
                        line.push_str(&format!(" corrupt: [{}]", b.corrupt.join(", ")));
                    }
                }
                lines.push(line);
            }
            if files_flag {
                let health = if problems.is_empty() { "OK".to_string() } else { problems.join("; ") };
                println!(
                    "{} {} bytes, replication {target}, {} block(s): {health}",
                    s.path,
                    s.len,
                    located.blocks.len()
                );
                if blocks_flag || locations_flag {
                    for l in &lines {
                        println!("  {l}");
                    }
                }
            } else {
                for pr in &problems {
                    println!("{}: {pr}", s.path);
                }
            }
        }
    }
    // As in HDFS: healthy while every block has a good replica; corrupt
    // replicas are counted, and replaced by the namenode.
    let healthy = missing == 0;
    println!();
    println!("Status: {}", if healthy { "HEALTHY" } else { "CORRUPT" });
    println!(" Total size:\t{bytes} B");
    println!(" Total dirs:\t{dirs}");
    println!(" Total files:\t{files}");
    println!(" Total blocks:\t{blocks}");
    println!(" Under-replicated blocks:\t{under}");
    println!(" Blocks with corrupt replicas:\t{corrupt}");
    println!(" Missing blocks:\t{missing}");
    println!("The filesystem under path '{path}' is {}", if healthy { "HEALTHY" } else { "CORRUPT" });
    if healthy { ExitCode::SUCCESS } else { ExitCode::from(1) }
}
