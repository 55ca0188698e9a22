//! The durable namespace: an image (`fsimage`, the namespace as of a
//! transaction) plus the edit log of the changes after it, kept in one or
//! more name directories (HDFS's `dfs.namenode.name.dir`).
//!
//! [`Namesystem::execute`] applies an op to the namespace and writes it to
//! every directory's log; the change is durable once [`GroupCommit::sync_through`]
//! has returned for its transaction id. That call is group commit, as HDFS's
//! `FSEditLog.logSync`: the first caller fsyncs every log through the last
//! written change while later callers wait, and when they get their turn
//! their changes are already durable, so one fsync covers a burst of
//! concurrent clients. Nothing is acknowledged before its fsync. An op that
//! fails validation is neither applied nor logged. If no log can be written
//! the namesystem stops taking changes (its memory is ahead of its disk;
//! restart replays what is durable); a directory that fails while others
//! work is dropped (and logged) and the namenode goes on.
//!
//! At start ([`Namesystem::open_dirs`]) every directory is read: the one
//! that reaches the highest transaction wins, and every directory that is
//! missing, behind or corrupt is rewritten from it (each repair is
//! reported). Damage in the middle of an edit log refuses the start unless
//! some other directory has a good copy, or the operator asks to recover.
//!
//! [`Namesystem::checkpoint`] writes a new image (to a temporary file,
//! fsynced, renamed over the old one) and then starts an empty log; a crash
//! between the two leaves a log whose records the image already has, which
//! replay skips.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::editlog::{EditLog, Record, Recovered};
use super::namespace::{BlockRef, Namespace, Op};
use crate::error::{Result, StorageError, io};

#[derive(Debug, Serialize, Deserialize)]
struct Image {
    txid: u64,
    namespace: Namespace,
}

/// One name directory and its open log.
#[derive(Debug)]
struct NameDir {
    dir: PathBuf,
    log: EditLog,
}

/// What the durability side of the namesystem knows: which logs to sync,
/// how far they are written and how far synced.
#[derive(Debug, Default)]
struct SyncState {
    logs: Vec<(PathBuf, Arc<File>)>,
    written: u64,
    synced: u64,
    /// Directories whose log failed to sync (the namesystem drops them).
    failed_dirs: Vec<PathBuf>,
    /// Every log failed: no change can be made durable.
    failed: Option<String>,
}

/// Group commit of the edit logs (see the module doc); shared between the
/// namesystem, which writes, and the RPC handlers, which wait.
#[derive(Debug, Default)]
pub struct GroupCommit {
    /// Held by the caller doing an fsync; the others queue behind it.
    leader: Mutex<()>,
    state: Mutex<SyncState>,
    /// fsync rounds run (for the benchmark and tests).
    rounds: std::sync::atomic::AtomicU64,
}

impl GroupCommit {
    fn lock(&self) -> std::sync::MutexGuard<'_, SyncState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Block until every change up to `txid` is on disk in every working
    /// log (or fail when none can be written). Blocking: call it off the
    /// async runtime.
    pub fn sync_through(&self, txid: u64) -> Result<()> {
        if self.lock().synced >= txid {
            return Ok(());
        }
        let _leader = self.leader.lock().unwrap_or_else(|p| p.into_inner());
        let (logs, through) = {
            let s = self.lock();
            if s.synced >= txid {
                return Ok(());
            }
            if let Some(why) = &s.failed {
                return Err(StorageError::Rejected(why.clone()));
            }
            (s.logs.clone(), s.written)
        };
        self.rounds.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut failed = Vec::new();
        let mut last_error = None;
        for (dir, f) in &logs {
            if let Err(e) = f.sync_data() {
                tracing::error!(dir = %dir.display(), error = %e, "edit log sync failed; the name directory is dropped");
                failed.push(dir.clone());
                last_error = Some(e);
            }
        }
        let mut s = self.lock();
        if failed.len() == logs.len()
            && let Some(e) = last_error
        {
            let why = format!("the namenode could not sync its edit log ({e}) and takes no more changes; restart it");
            s.failed = Some(why.clone());
            return Err(StorageError::Rejected(why));
        }
        s.logs.retain(|(d, _)| !failed.contains(d));
        s.failed_dirs.extend(failed);
        s.synced = s.synced.max(through);
        Ok(())
    }

    /// fsync rounds so far.
    pub fn rounds(&self) -> u64 {
        self.rounds.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// How to open the name directories.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenMode {
    /// Keep what precedes damage in an edit log instead of refusing to start.
    pub recover: bool,
}

/// The namespace with its image and edit logs.
#[derive(Debug)]
pub struct Namesystem {
    dirs: Vec<NameDir>,
    namespace: Namespace,
    last_txid: u64,
    /// Changes logged since the last checkpoint.
    since_checkpoint: u64,
    commit: Arc<GroupCommit>,
    /// What opening found and did (repairs, recoveries), for the operator.
    pub notes: Vec<String>,
}

/// One directory as read at start.
struct Loaded {
    image: Image,
    records: Vec<Record>,
    log: EditLog,
    recovered: Option<Recovered>,
}

impl Loaded {
    fn end_txid(&self) -> u64 {
        self.records.last().map_or(self.image.txid, |r| r.txid.max(self.image.txid))
    }
}

fn load(dir: &Path, mode: OpenMode) -> Result<Loaded> {
    crate::private::private_dir(dir)?;
    let image_path = dir.join("fsimage");
    let image = if image_path.exists() {
        let bytes = std::fs::read(&image_path).map_err(io(format!("reading {}", image_path.display())))?;
        serde_json::from_slice::<Image>(&bytes)
            .map_err(|e| StorageError::Corrupt(format!("{}: {e}", image_path.display())))?
    } else {
        Image { txid: 0, namespace: Namespace::default() }
    };
    let edits = dir.join("edits");
    let (log, replay) = if mode.recover { EditLog::open_recovering(&edits)? } else { EditLog::open(&edits)? };
    Ok(Loaded { image, records: replay.records, log, recovered: replay.recovered })
}

/// Write `bytes` as `path`, durably (temporary file, fsync, rename).
fn write_durably(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("ckpt");
    let mut f = File::create(&tmp).map_err(io(format!("creating {}", tmp.display())))?;
    f.write_all(bytes).map_err(io(format!("writing {}", tmp.display())))?;
    f.sync_all().map_err(io(format!("syncing {}", tmp.display())))?;
    std::fs::rename(&tmp, path).map_err(io(format!("replacing {}", path.display())))?;
    if let Some(dir) = path.parent() {
        File::open(dir).and_then(|d| d.sync_all()).map_err(io(format!("syncing {}", dir.display())))?;
    }
    Ok(())
}

/// Make `dir` a copy of `from` (its image and edit log).
fn copy_dir(from: &Path, dir: &Path) -> Result<()> {
    crate::private::private_dir(dir)?;
    for name in ["fsimage", "edits"] {
        let src = from.join(name);
        if src.exists() {
            let bytes = std::fs::read(&src).map_err(io(format!("reading {}", src.display())))?;
            write_durably(&dir.join(name), &bytes)?;
        } else {
            match std::fs::remove_file(dir.join(name)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(io(format!("removing {}", dir.join(name).display()))(e));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

impl Namesystem {
    /// Open the namesystem stored in `dir` (created if empty).
    pub fn open(dir: &Path) -> Result<Namesystem> {
        Namesystem::open_dirs(&[dir.to_path_buf()], OpenMode::default())
    }

    /// Open the namesystem kept in every one of `dirs`: the directory that
    /// reaches furthest is the truth, the others are repaired from it.
    pub fn open_dirs(dirs: &[PathBuf], mode: OpenMode) -> Result<Namesystem> {
        if dirs.is_empty() {
            return Err(StorageError::Invalid("the namenode needs at least one name directory".into()));
        }
        let mut loaded: Vec<(PathBuf, Result<Loaded>)> = dirs.iter().map(|d| (d.clone(), load(d, mode))).collect();
        let best = loaded
            .iter()
            .enumerate()
            .filter_map(|(i, (_, l))| l.as_ref().ok().map(|l| (l.end_txid(), std::cmp::Reverse(i))))
            .max()
            .map(|(_, std::cmp::Reverse(i))| i);
        let Some(best) = best else {
            // no good copy anywhere: the first directory's error says why
            let (_, first) = loaded.swap_remove(0);
            return Err(first.err().unwrap_or_else(|| StorageError::Invalid("no name directory".into())));
        };
        let mut notes = Vec::new();
        let best_dir = loaded[best].0.clone();
        let best_txid = loaded[best].1.as_ref().map(Loaded::end_txid).unwrap_or(0);
        let mut open = Vec::new();
        let mut chosen = None;
        for (i, (dir, l)) in loaded.into_iter().enumerate() {
            let why = match &l {
                _ if i == best => None,
                Err(e) => Some(e.to_string()),
                Ok(l) if l.end_txid() < best_txid => {
                    Some(format!("it ends at transaction {} and {} has {best_txid}", l.end_txid(), best_dir.display()))
                }
                Ok(_) => None,
            };
            match (why, l) {
                (None, Ok(l)) => {
                    if let Some(r) = &l.recovered {
                        notes.push(format!(
                            "recovered {}: kept the records before byte {}, dropped {} later record(s); the damaged \
                             log is saved as {}",
                            dir.join("edits").display(),
                            r.offset,
                            r.dropped,
                            r.saved_as.display()
                        ));
                    }
                    if i == best {
                        chosen = Some((l.image, l.records));
                    }
                    open.push(NameDir { dir, log: l.log });
                }
                (Some(why), l) => {
                    drop(l);
                    copy_dir(&best_dir, &dir)?;
                    let (log, _) = EditLog::open(&dir.join("edits"))?;
                    notes.push(format!(
                        "name directory {} was restored from {}: {why}",
                        dir.display(),
                        best_dir.display()
                    ));
                    open.push(NameDir { dir, log });
                }
                (None, Err(_)) => unreachable!("a failed directory always has a reason"),
            }
        }
        let (image, records) = chosen.ok_or_else(|| StorageError::Invalid("no name directory".into()))?;
        for n in &notes {
            tracing::warn!("{n}");
        }
        let mut namespace = image.namespace;
        let mut last_txid = image.txid;
        let mut since_checkpoint = 0;
        for r in records.into_iter().filter(|r| r.txid > image.txid) {
            if r.txid != last_txid + 1 {
                return Err(StorageError::Corrupt(format!(
                    "edit log starts at transaction {} but the image ends at {last_txid}",
                    r.txid
                )));
            }
            namespace
                .apply(&r.op)
                .map_err(|e| StorageError::Corrupt(format!("replaying transaction {}: {e}", r.txid)))?;
            last_txid = r.txid;
            since_checkpoint += 1;
        }
        let commit = Arc::new(GroupCommit::default());
        {
            let mut s = commit.lock();
            s.logs =
                open.iter().map(|d| d.log.syncer().map(|f| (d.dir.clone(), Arc::new(f)))).collect::<Result<_>>()?;
            s.written = last_txid;
            s.synced = last_txid;
        }
        Ok(Namesystem { dirs: open, namespace, last_txid, since_checkpoint, commit, notes })
    }

    /// The namespace as of the last change (durable or about to be).
    pub fn namespace(&self) -> &Namespace {
        &self.namespace
    }

    /// The id of the last change.
    pub fn last_txid(&self) -> u64 {
        self.last_txid
    }

    /// Changes logged since the last checkpoint.
    pub fn since_checkpoint(&self) -> u64 {
        self.since_checkpoint
    }

    /// The group commit that makes changes durable.
    pub fn group_commit(&self) -> Arc<GroupCommit> {
        self.commit.clone()
    }

    /// The name directories in use.
    pub fn dirs(&self) -> Vec<PathBuf> {
        self.dirs.iter().map(|d| d.dir.clone()).collect()
    }

    /// Apply `op` and write it to every log; returns its transaction id
    /// and the blocks it removed. Durable once
    /// `group_commit().sync_through(txid)` returns.
    pub fn execute(&mut self, op: Op) -> Result<(u64, Vec<BlockRef>)> {
        {
            let s = self.commit.lock();
            if let Some(why) = &s.failed {
                return Err(StorageError::Rejected(why.clone()));
            }
            if !s.failed_dirs.is_empty() {
                let failed = s.failed_dirs.clone();
                self.dirs.retain(|d| !failed.contains(&d.dir));
            }
        }
        let removed = self.namespace.apply(&op)?;
        let record = Record { txid: self.last_txid + 1, op };
        let mut written = 0;
        let mut failed = Vec::new();
        for d in &mut self.dirs {
            match d.log.write(&record) {
                Ok(()) => written += 1,
                Err(e) => {
                    tracing::error!(dir = %d.dir.display(), error = %e, "edit log write failed; the name directory is dropped");
                    failed.push(d.dir.clone());
                }
            }
        }
        let mut s = self.commit.lock();
        if written == 0 {
            let why = "the namenode could not write its edit log and takes no more changes; restart it".to_string();
            s.failed = Some(why.clone());
            return Err(StorageError::Rejected(why));
        }
        self.dirs.retain(|d| !failed.contains(&d.dir));
        s.logs.retain(|(d, _)| !failed.contains(d));
        s.written = record.txid;
        self.last_txid = record.txid;
        self.since_checkpoint += 1;
        Ok((record.txid, removed))
    }

    /// [`Namesystem::execute`] and wait for its fsync (blocking).
    pub fn execute_durably(&mut self, op: Op) -> Result<Vec<BlockRef>> {
        let (txid, removed) = self.execute(op)?;
        self.commit.sync_through(txid)?;
        Ok(removed)
    }

    /// A new block id (the next after every id the namespace has seen).
    pub fn next_block_id(&self) -> u64 {
        self.namespace.last_block_id + 1
    }

    /// Write a new image to every directory and truncate the logs. Blocking.
    pub fn checkpoint(&mut self) -> Result<()> {
        let image = Image { txid: self.last_txid, namespace: self.namespace.clone() };
        let bytes = serde_json::to_vec(&image).map_err(|e| StorageError::Invalid(e.to_string()))?;
        for d in &self.dirs {
            write_durably(&d.dir.join("fsimage"), &bytes)?;
        }
        // every change up to the image's is durable now, whatever its log says
        for d in &mut self.dirs {
            d.log = EditLog::create(&d.dir.join("edits"))?;
        }
        let logs =
            self.dirs.iter().map(|d| d.log.syncer().map(|f| (d.dir.clone(), Arc::new(f)))).collect::<Result<_>>()?;
        let mut s = self.commit.lock();
        s.logs = logs;
        s.synced = s.synced.max(image.txid);
        self.since_checkpoint = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::namenode::namespace::Attrs;

    fn attrs() -> Attrs {
        Attrs { owner: "o".into(), group: "g".into(), permission: 0o755, mtime: 1 }
    }

    #[test]
    fn survives_restart_with_and_without_checkpoints() {
        let dir = tempfile::tempdir().unwrap();
        let mut ns = Namesystem::open(dir.path()).unwrap();
        ns.execute_durably(Op::Mkdirs { path: "/a".into(), attrs: attrs() }).unwrap();
        ns.execute_durably(Op::Create {
            path: "/a/f".into(),
            attrs: attrs(),
            replication: 3,
            block_size: 64,
            overwrite: false,
        })
        .unwrap();
        let id = ns.next_block_id();
        ns.execute_durably(Op::AddBlock { path: "/a/f".into(), block: id }).unwrap();
        // a refused op is not logged
        assert!(ns.execute_durably(Op::Delete { path: "/nope".into(), recursive: false, mtime: 2 }).is_err());
        drop(ns);
        let mut ns = Namesystem::open(dir.path()).unwrap();
        assert_eq!(ns.last_txid(), 3);
        assert_eq!(ns.namespace().blocks("/a/f").unwrap(), vec![BlockRef { id, len: 0 }]);
        assert_eq!(ns.next_block_id(), id + 1);
        ns.checkpoint().unwrap();
        ns.execute_durably(Op::Complete { path: "/a/f".into(), lengths: vec![10], mtime: 3 }).unwrap();
        ns.execute_durably(Op::Rename { src: "/a".into(), dst: "/b".into(), mtime: 4 }).unwrap();
        drop(ns);
        let ns = Namesystem::open(dir.path()).unwrap();
        assert_eq!(ns.last_txid(), 5);
        assert_eq!(ns.since_checkpoint(), 2);
        assert_eq!(ns.namespace().stat("/b/f").unwrap().len, 10);
    }

    #[test]
    fn a_crash_between_image_and_log_truncation_replays_nothing_twice() {
        let dir = tempfile::tempdir().unwrap();
        let mut ns = Namesystem::open(dir.path()).unwrap();
        ns.execute_durably(Op::Mkdirs { path: "/a".into(), attrs: attrs() }).unwrap();
        ns.execute_durably(Op::Rename { src: "/a".into(), dst: "/b".into(), mtime: 2 }).unwrap();
        let edits = std::fs::read(dir.path().join("edits")).unwrap();
        ns.checkpoint().unwrap();
        drop(ns);
        // the old log comes back, as if the crash came before truncation
        std::fs::write(dir.path().join("edits"), edits).unwrap();
        let ns = Namesystem::open(dir.path()).unwrap();
        assert_eq!(ns.last_txid(), 2);
        assert!(ns.namespace().stat("/b").unwrap().is_dir);
    }

    fn mkdirs(ns: &mut Namesystem, n: u64) {
        for i in 0..n {
            ns.execute_durably(Op::Mkdirs { path: format!("/d{i}"), attrs: attrs() }).unwrap();
        }
    }

    fn flip_in_the_middle(path: &Path) {
        let mut bytes = std::fs::read(path).unwrap();
        let at = bytes.len() / 3;
        bytes[at] ^= 0x10;
        std::fs::write(path, bytes).unwrap();
    }

    /// Two name directories: a log damaged in one, or a directory lost
    /// altogether, is restored from the other at start, and said so.
    #[test]
    fn a_corrupt_or_missing_copy_is_restored_from_the_good_one() {
        let root = tempfile::tempdir().unwrap();
        let dirs = vec![root.path().join("a"), root.path().join("b")];
        let mut ns = Namesystem::open_dirs(&dirs, OpenMode::default()).unwrap();
        mkdirs(&mut ns, 100);
        drop(ns);
        assert_eq!(std::fs::read(dirs[0].join("edits")).unwrap(), std::fs::read(dirs[1].join("edits")).unwrap());

        flip_in_the_middle(&dirs[0].join("edits"));
        assert!(matches!(Namesystem::open(&dirs[0]), Err(StorageError::EditLogCorrupt { .. })));
        let ns = Namesystem::open_dirs(&dirs, OpenMode::default()).unwrap();
        assert_eq!(ns.last_txid(), 100);
        assert!(
            ns.notes.iter().any(|n| n.contains(&dirs[0].display().to_string()) && n.contains("corrupt")),
            "{:?}",
            ns.notes
        );
        drop(ns);
        assert_eq!(Namesystem::open(&dirs[0]).unwrap().last_txid(), 100, "the damaged copy was rewritten");

        std::fs::remove_dir_all(&dirs[1]).unwrap();
        let mut ns = Namesystem::open_dirs(&dirs, OpenMode::default()).unwrap();
        assert!(ns.notes.iter().any(|n| n.contains(&dirs[1].display().to_string())), "{:?}", ns.notes);
        mkdirs(&mut ns, 1);
        ns.checkpoint().unwrap();
        drop(ns);
        for d in &dirs {
            assert_eq!(Namesystem::open(d).unwrap().last_txid(), 101);
        }
    }

    /// With every copy damaged the namenode refuses to start; recovery
    /// keeps the records before the damage and reports what it dropped.
    #[test]
    fn damage_in_every_copy_refuses_to_start_unless_recovering() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a");
        let mut ns = Namesystem::open(&dir).unwrap();
        mkdirs(&mut ns, 300);
        drop(ns);
        flip_in_the_middle(&dir.join("edits"));
        let e = Namesystem::open(&dir).unwrap_err();
        assert!(e.to_string().contains("--recover"), "{e}");
        let ns = Namesystem::open_dirs(std::slice::from_ref(&dir), OpenMode { recover: true }).unwrap();
        let kept = ns.last_txid();
        assert!(kept > 80 && kept < 120, "{kept}");
        assert!(ns.notes.iter().any(|n| n.contains("dropped") && n.contains("saved as")), "{:?}", ns.notes);
        assert!(ns.namespace().stat(&format!("/d{}", kept - 1)).is_ok());
        assert!(ns.namespace().stat(&format!("/d{kept}")).is_err());
    }

    /// Concurrent writers share fsyncs: far fewer rounds than changes, and
    /// every change is durable when its wait returns.
    #[test]
    fn concurrent_changes_share_fsyncs() {
        let dir = tempfile::tempdir().unwrap();
        let ns = std::sync::Arc::new(Mutex::new(Namesystem::open(dir.path()).unwrap()));
        let commit = ns.lock().unwrap().group_commit();
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let (ns, commit) = (ns.clone(), commit.clone());
                std::thread::spawn(move || {
                    for i in 0..200 {
                        let (txid, _) = ns
                            .lock()
                            .unwrap()
                            .execute(Op::Mkdirs { path: format!("/t{t}/d{i}"), attrs: attrs() })
                            .unwrap();
                        commit.sync_through(txid).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(commit.rounds() < 1600, "{} fsync rounds for 1,600 changes", commit.rounds());
        drop(ns);
        assert_eq!(Namesystem::open(dir.path()).unwrap().last_txid(), 1600);
    }
}
