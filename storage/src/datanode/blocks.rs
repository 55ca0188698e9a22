//! Block replicas on a datanode's disk, as HDFS lays them out: each block is
//! a data file `blk_<id>` and a checksum file `blk_<id>.meta`
//! ([`crate::block::checksum`]) in a fan-out of subdirectories
//! (`current/subdirA/subdirB/`), so no directory grows too large.
//!
//! A replica being written lives in `rbw/` ("replica being written") and is
//! moved into `current/` only when it is complete and fsynced; the data file
//! moves last, so a block in `current/` always has its checksums. Replicas
//! left in `rbw/` by a crash are discarded when the store opens (the writer
//! was never acknowledged).
//!
//! Block ids are numbers, so a request can never name a path outside the
//! store.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::replica_file::{ReplicaFile, write_error};
use crate::block::checksum::{self, BYTES_PER_CHECKSUM};
use crate::block::read_verified;
use crate::error::{Result, StorageError, io};

/// Remove a file whose absence is fine; any other failure is logged (a
/// leftover file is found again by the next block report or restart).
fn remove_quietly(path: &Path) {
    if let Err(e) = fs::remove_file(path)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(file = %path.display(), error = %e, "could not remove a replica file");
    }
}

/// The replicas of one datanode data directory.
#[derive(Debug, Clone)]
pub struct BlockStore {
    root: PathBuf,
}

/// A finished replica: its block id and length in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replica {
    pub id: u64,
    pub len: u64,
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(format!("syncing {}", dir.display())))
}

impl BlockStore {
    /// Open (creating if needed) the store under `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<BlockStore> {
        let root = root.into();
        crate::private::private_dir(&root)?;
        let store = BlockStore { root };
        fs::create_dir_all(store.current()).map_err(io(format!("creating {}", store.current().display())))?;
        let rbw = store.rbw();
        if rbw.exists() {
            fs::remove_dir_all(&rbw).map_err(io(format!("clearing {}", rbw.display())))?;
        }
        fs::create_dir_all(&rbw).map_err(io(format!("creating {}", rbw.display())))?;
        Ok(store)
    }

    /// The store under `root` as it is, without clearing unfinished
    /// replicas (for inspection; a serving datanode uses [`BlockStore::open`]).
    pub fn open_existing(root: impl Into<PathBuf>) -> Result<BlockStore> {
        Ok(BlockStore { root: root.into() })
    }

    fn current(&self) -> PathBuf {
        self.root.join("current")
    }

    fn rbw(&self) -> PathBuf {
        self.root.join("rbw")
    }

    /// The directory of a finished block: two levels of 32 subdirectories.
    fn dir_of(&self, id: u64) -> PathBuf {
        self.current().join(format!("subdir{}", (id >> 16) & 0x1f)).join(format!("subdir{}", (id >> 8) & 0x1f))
    }

    fn data_path(&self, id: u64) -> PathBuf {
        self.dir_of(id).join(format!("blk_{id}"))
    }

    fn meta_path(&self, id: u64) -> PathBuf {
        self.dir_of(id).join(format!("blk_{id}.meta"))
    }

    /// Whether a finished replica of `id` is here.
    pub fn contains(&self, id: u64) -> bool {
        self.data_path(id).exists()
    }

    /// Start writing a new replica of block `id`.
    pub fn create(&self, id: u64) -> Result<BlockWriter> {
        if self.contains(id) {
            return Err(StorageError::Invalid(format!("block {id} already exists")));
        }
        let data_tmp = self.rbw().join(format!("blk_{id}"));
        let meta_tmp = self.rbw().join(format!("blk_{id}.meta"));
        let open = |p: &Path| {
            OpenOptions::new().write(true).create_new(true).open(p).map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => {
                    StorageError::Invalid(format!("block {id} is already being written"))
                }
                _ => StorageError::Io { context: format!("creating {}", p.display()), source: e },
            })
        };
        if data_tmp.exists() {
            return Err(StorageError::Invalid(format!("block {id} is already being written")));
        }
        let data = ReplicaFile::create(&data_tmp)
            .map_err(|e| StorageError::Io { context: format!("creating {}", data_tmp.display()), source: e })?;
        let mut meta = open(&meta_tmp)?;
        meta.write_all(&checksum::header()).map_err(io(format!("writing {}", meta_tmp.display())))?;
        Ok(BlockWriter {
            store: self.clone(),
            id,
            data,
            meta,
            data_tmp,
            meta_tmp,
            len: 0,
            partial: Vec::with_capacity(BYTES_PER_CHECKSUM),
            sums: Vec::new(),
        })
    }

    /// The length of finished block `id`.
    pub fn len(&self, id: u64) -> Result<u64> {
        let p = self.data_path(id);
        fs::metadata(&p).map(|m| m.len()).map_err(|_| StorageError::NotFound(format!("block {id}")))
    }

    /// Bytes `[offset, offset + len)` of block `id`, checksum-verified
    /// (a range past the end is cut at the end).
    pub fn read(&self, id: u64, offset: u64, len: u64) -> Result<Vec<u8>> {
        let size = self.len(id)?;
        read_verified(&self.data_path(id), &self.meta_path(id), &format!("block {id}"), size, offset, len)
    }

    /// The files of finished block `id` (data, checksums) and its length,
    /// for a reader on this machine (a short-circuit read).
    pub fn files(&self, id: u64) -> Result<(PathBuf, PathBuf, u64)> {
        let size = self.len(id)?;
        Ok((self.data_path(id), self.meta_path(id), size))
    }

    /// Delete finished block `id`.
    pub fn delete(&self, id: u64) -> Result<()> {
        let data = self.data_path(id);
        if !data.exists() {
            return Err(StorageError::NotFound(format!("block {id}")));
        }
        fs::remove_file(&data).map_err(io(format!("deleting {}", data.display())))?;
        remove_quietly(&self.meta_path(id));
        Ok(())
    }

    /// Every finished replica (for a block report).
    pub fn report(&self) -> Result<Vec<Replica>> {
        let mut out = Vec::new();
        let mut dirs = vec![self.current()];
        while let Some(d) = dirs.pop() {
            for e in fs::read_dir(&d).map_err(io(format!("listing {}", d.display())))? {
                let e = e.map_err(io(format!("listing {}", d.display())))?;
                let name = e.file_name().to_string_lossy().into_owned();
                let ty = e.file_type().map_err(io(format!("listing {}", d.display())))?;
                if ty.is_dir() {
                    dirs.push(e.path());
                } else if let Some(id) = name.strip_prefix("blk_").and_then(|n| n.parse::<u64>().ok()) {
                    let len = e.metadata().map_err(io(format!("reading {}", e.path().display())))?.len();
                    out.push(Replica { id, len });
                }
            }
        }
        out.sort_by_key(|r| r.id);
        Ok(out)
    }

    /// Bytes used by finished replicas.
    pub fn used(&self) -> Result<u64> {
        Ok(self.report()?.iter().map(|r| r.len).sum())
    }
}

/// A replica being written: data is checksummed as it arrives and the
/// replica becomes visible only when [`BlockWriter::finish`] returns.
#[derive(Debug)]
pub struct BlockWriter {
    store: BlockStore,
    id: u64,
    data: ReplicaFile,
    meta: File,
    data_tmp: PathBuf,
    meta_tmp: PathBuf,
    len: u64,
    /// The bytes of the last, not yet full, chunk.
    partial: Vec<u8>,
    sums: Vec<u8>,
}

impl BlockWriter {
    /// Append `buf` to the replica.
    pub fn write(&mut self, mut buf: &[u8]) -> Result<()> {
        let what = format!("writing block {}", self.id);
        self.data.write(buf, &what)?;
        self.len += buf.len() as u64;
        self.sums.clear();
        if !self.partial.is_empty() {
            let take = (BYTES_PER_CHECKSUM - self.partial.len()).min(buf.len());
            self.partial.extend_from_slice(&buf[..take]);
            buf = &buf[take..];
            if self.partial.len() == BYTES_PER_CHECKSUM {
                checksum::chunk_sums(&self.partial, &mut self.sums);
                self.partial.clear();
            }
        }
        let whole = buf.len() / BYTES_PER_CHECKSUM * BYTES_PER_CHECKSUM;
        checksum::chunk_sums(&buf[..whole], &mut self.sums);
        self.partial.extend_from_slice(&buf[whole..]);
        self.meta.write_all(&self.sums).map_err(|e| write_error(e, &what))?;
        Ok(())
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Make the replica durable and visible; returns its length.
    pub fn finish(mut self) -> Result<u64> {
        let what = format!("finishing block {}", self.id);
        if !self.partial.is_empty() {
            self.sums.clear();
            checksum::chunk_sums(&self.partial, &mut self.sums);
            self.meta.write_all(&self.sums).map_err(io(what.clone()))?;
        }
        self.data.finish(&what)?;
        self.meta.sync_all().map_err(io(what.clone()))?;
        let dir = self.store.dir_of(self.id);
        fs::create_dir_all(&dir).map_err(io(format!("creating {}", dir.display())))?;
        fs::rename(&self.meta_tmp, self.store.meta_path(self.id)).map_err(io(what.clone()))?;
        fs::rename(&self.data_tmp, self.store.data_path(self.id)).map_err(io(what))?;
        sync_dir(&dir)?;
        Ok(self.len)
    }

    /// Give the replica up (a failed pipeline).
    pub fn abort(self) {
        remove_quietly(&self.data_tmp);
        remove_quietly(&self.meta_tmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(n: usize, seed: u8) -> Vec<u8> {
        (0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
    }

    #[test]
    fn writes_and_reads_any_range() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlockStore::open(dir.path()).unwrap();
        for (id, n) in [(1u64, 0usize), (2, 1), (3, 511), (4, 512), (5, 513), (70_000, 5000)] {
            let data = bytes(n, id as u8);
            let mut w = store.create(id).unwrap();
            for piece in data.chunks(97) {
                w.write(piece).unwrap();
            }
            assert_eq!(w.finish().unwrap(), n as u64);
            assert_eq!(store.read(id, 0, u64::MAX).unwrap(), data);
            for (off, len) in [(0, 1), (100, 1000), (511, 2), (n as u64 / 2, 700)] {
                if off <= n as u64 {
                    let end = (off + len).min(n as u64) as usize;
                    assert_eq!(store.read(id, off, len).unwrap(), &data[off as usize..end], "{id} {off} {len}");
                }
            }
        }
        let report = store.report().unwrap();
        assert_eq!(report.len(), 6);
        assert!(report.contains(&Replica { id: 70_000, len: 5000 }));
        assert!(matches!(store.create(3), Err(StorageError::Invalid(_))));
        store.delete(3).unwrap();
        assert!(matches!(store.read(3, 0, 1), Err(StorageError::NotFound(_))));
    }

    #[test]
    fn a_flipped_byte_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlockStore::open(dir.path()).unwrap();
        let data = bytes(3000, 7);
        let mut w = store.create(9).unwrap();
        w.write(&data).unwrap();
        w.finish().unwrap();
        let path = store.data_path(9);
        let mut raw = fs::read(&path).unwrap();
        raw[2000] ^= 0x40;
        fs::write(&path, raw).unwrap();
        // a range that does not touch the bad chunk still reads
        assert_eq!(store.read(9, 0, 1024).unwrap(), &data[..1024]);
        match store.read(9, 1500, 100) {
            Err(StorageError::ChecksumMismatch { offset, .. }) => assert_eq!(offset, 1536),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unfinished_replicas_are_invisible_and_dropped_on_restart() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlockStore::open(dir.path()).unwrap();
        let mut w = store.create(5).unwrap();
        w.write(b"half").unwrap();
        assert!(!store.contains(5));
        assert!(store.report().unwrap().is_empty());
        drop(w); // a crash: the file stays in rbw/
        let store = BlockStore::open(dir.path()).unwrap();
        assert!(fs::read_dir(dir.path().join("rbw")).unwrap().next().is_none());
        store.create(5).unwrap().finish().unwrap();
        assert_eq!(store.len(5).unwrap(), 0);
    }
}
