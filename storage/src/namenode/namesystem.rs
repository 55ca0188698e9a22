//! The durable namespace: an image (`fsimage`, the namespace as of a
//! transaction) plus the edit log of the changes after it.
//!
//! [`Namesystem::execute`] applies an op to the namespace, then logs and
//! fsyncs it before returning: an acknowledged change survives a crash, and
//! an op that fails validation is neither applied nor logged. If the log
//! cannot be written the namesystem stops taking changes (its memory is ahead
//! of its disk; restart replays what is durable).
//!
//! [`Namesystem::checkpoint`] writes a new image (to a temporary file, fsynced,
//! renamed over the old one) and then starts an empty log; a crash between
//! the two leaves a log whose records the image already has, which replay skips.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::editlog::{EditLog, Record};
use super::namespace::{BlockRef, Namespace, Op};
use crate::error::{Result, StorageError, io};

#[derive(Debug, Serialize, Deserialize)]
struct Image {
    txid: u64,
    namespace: Namespace,
}

/// The namespace with its image and edit log.
#[derive(Debug)]
pub struct Namesystem {
    dir: PathBuf,
    namespace: Namespace,
    log: EditLog,
    last_txid: u64,
    /// Changes logged since the last checkpoint.
    since_checkpoint: u64,
    failed: bool,
}

impl Namesystem {
    /// Open the namesystem stored in `dir` (created if empty): load the
    /// image, replay the log.
    pub fn open(dir: &Path) -> Result<Namesystem> {
        std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
        let image_path = dir.join("fsimage");
        let image = if image_path.exists() {
            let bytes = std::fs::read(&image_path).map_err(io(format!("reading {}", image_path.display())))?;
            serde_json::from_slice::<Image>(&bytes)
                .map_err(|e| StorageError::Corrupt(format!("{}: {e}", image_path.display())))?
        } else {
            Image { txid: 0, namespace: Namespace::default() }
        };
        let (log, replay) = EditLog::open(&dir.join("edits"))?;
        let mut namespace = image.namespace;
        let mut last_txid = image.txid;
        let mut since_checkpoint = 0;
        for r in replay.records.into_iter().filter(|r| r.txid > image.txid) {
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
        Ok(Namesystem { dir: dir.to_path_buf(), namespace, log, last_txid, since_checkpoint, failed: false })
    }

    /// The namespace as of the last acknowledged change.
    pub fn namespace(&self) -> &Namespace {
        &self.namespace
    }

    /// The id of the last acknowledged change.
    pub fn last_txid(&self) -> u64 {
        self.last_txid
    }

    /// Changes logged since the last checkpoint.
    pub fn since_checkpoint(&self) -> u64 {
        self.since_checkpoint
    }

    /// Apply `op` and make it durable; returns the blocks it removed.
    pub fn execute(&mut self, op: Op) -> Result<Vec<BlockRef>> {
        if self.failed {
            return Err(StorageError::Namespace(
                "the namenode could not write its edit log and takes no more changes; restart it".into(),
            ));
        }
        let removed = self.namespace.apply(&op)?;
        let record = Record { txid: self.last_txid + 1, op };
        if let Err(e) = self.log.append(&record) {
            self.failed = true;
            return Err(e);
        }
        self.last_txid = record.txid;
        self.since_checkpoint += 1;
        Ok(removed)
    }

    /// A new block id (the next after every id the namespace has seen).
    pub fn next_block_id(&self) -> u64 {
        self.namespace.last_block_id + 1
    }

    /// Write a new image and truncate the log.
    pub fn checkpoint(&mut self) -> Result<()> {
        let image = Image { txid: self.last_txid, namespace: self.namespace.clone() };
        let bytes = serde_json::to_vec(&image).map_err(|e| StorageError::Invalid(e.to_string()))?;
        let path = self.dir.join("fsimage");
        let tmp = self.dir.join("fsimage.ckpt");
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp).map_err(io(format!("creating {}", tmp.display())))?;
            f.write_all(&bytes).map_err(io(format!("writing {}", tmp.display())))?;
            f.sync_all().map_err(io(format!("syncing {}", tmp.display())))?;
        }
        std::fs::rename(&tmp, &path).map_err(io(format!("replacing {}", path.display())))?;
        std::fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io(format!("syncing {}", self.dir.display())))?;
        self.log = EditLog::create(&self.dir.join("edits"))?;
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
        ns.execute(Op::Mkdirs { path: "/a".into(), attrs: attrs() }).unwrap();
        ns.execute(Op::Create {
            path: "/a/f".into(),
            attrs: attrs(),
            replication: 3,
            block_size: 64,
            overwrite: false,
        })
        .unwrap();
        let id = ns.next_block_id();
        ns.execute(Op::AddBlock { path: "/a/f".into(), block: id }).unwrap();
        // a refused op is not logged
        assert!(ns.execute(Op::Delete { path: "/nope".into(), recursive: false, mtime: 2 }).is_err());
        drop(ns);
        let mut ns = Namesystem::open(dir.path()).unwrap();
        assert_eq!(ns.last_txid(), 3);
        assert_eq!(ns.namespace().blocks("/a/f").unwrap(), vec![BlockRef { id, len: 0 }]);
        assert_eq!(ns.next_block_id(), id + 1);
        ns.checkpoint().unwrap();
        ns.execute(Op::Complete { path: "/a/f".into(), lengths: vec![10], mtime: 3 }).unwrap();
        ns.execute(Op::Rename { src: "/a".into(), dst: "/b".into(), mtime: 4 }).unwrap();
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
        ns.execute(Op::Mkdirs { path: "/a".into(), attrs: attrs() }).unwrap();
        ns.execute(Op::Rename { src: "/a".into(), dst: "/b".into(), mtime: 2 }).unwrap();
        let edits = std::fs::read(dir.path().join("edits")).unwrap();
        ns.checkpoint().unwrap();
        drop(ns);
        // the old log comes back, as if the crash came before truncation
        std::fs::write(dir.path().join("edits"), edits).unwrap();
        let ns = Namesystem::open(dir.path()).unwrap();
        assert_eq!(ns.last_txid(), 2);
        assert!(ns.namespace().stat("/b").unwrap().is_dir);
    }
}
