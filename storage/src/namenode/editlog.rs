//! The namenode's edit log: every namespace change, appended and fsynced
//! before it is acknowledged.
//!
//! File layout: magic `HQED` and a `u32` version, then records
//! `[u32 payload length][u32 CRC32C of payload][payload]`, the payload the
//! JSON of a [`Record`] (transaction id and op). A crash in the middle of an
//! append leaves a torn last record: its length or checksum does not hold,
//! so [`EditLog::open`] stops there, never misreads it, and cuts the file
//! back to the last whole record before appending again.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::namespace::Op;
use crate::error::{Result, StorageError, io};

const MAGIC: &[u8; 4] = b"HQED";
const VERSION: u32 = 1;
const HEADER_LEN: u64 = 8;
/// Larger records are refused (and a length field above it means a torn record).
const MAX_RECORD: u32 = 16 << 20;

/// One logged change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub txid: u64,
    pub op: Op,
}

/// An open edit log, positioned for appending.
#[derive(Debug)]
pub struct EditLog {
    path: PathBuf,
    file: File,
}

/// What opening a log found.
#[derive(Debug)]
pub struct Replay {
    pub records: Vec<Record>,
    /// Bytes of a torn last record that were cut off (0 if none).
    pub torn_bytes: u64,
}

fn sync_parent(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent() {
        File::open(dir).and_then(|d| d.sync_all()).map_err(io(format!("syncing {}", dir.display())))?;
    }
    Ok(())
}

impl EditLog {
    /// Create an empty log at `path` (replacing any), durably.
    pub fn create(path: &Path) -> Result<EditLog> {
        let tmp = path.with_extension("new");
        let mut f = File::create(&tmp).map_err(io(format!("creating {}", tmp.display())))?;
        f.write_all(MAGIC).and_then(|_| f.write_all(&VERSION.to_le_bytes())).map_err(io("writing edit log"))?;
        f.sync_all().map_err(io("syncing edit log"))?;
        std::fs::rename(&tmp, path).map_err(io(format!("replacing {}", path.display())))?;
        sync_parent(path)?;
        let file = OpenOptions::new().append(true).open(path).map_err(io(format!("opening {}", path.display())))?;
        Ok(EditLog { path: path.to_path_buf(), file })
    }

    /// Open the log at `path` (creating it if missing) and read its records.
    pub fn open(path: &Path) -> Result<(EditLog, Replay)> {
        if !path.exists() {
            return Ok((EditLog::create(path)?, Replay { records: Vec::new(), torn_bytes: 0 }));
        }
        let what = path.display().to_string();
        let mut bytes = Vec::new();
        File::open(path).and_then(|mut f| f.read_to_end(&mut bytes)).map_err(io(format!("reading {what}")))?;
        if bytes.len() < HEADER_LEN as usize || &bytes[..4] != MAGIC {
            return Err(StorageError::Corrupt(format!("{what} is not an edit log")));
        }
        let version = u32::from_le_bytes(bytes[4..8].try_into().unwrap());
        if version != VERSION {
            return Err(StorageError::Corrupt(format!("{what}: edit log version {version}")));
        }
        let mut records = Vec::new();
        let mut pos = HEADER_LEN as usize;
        loop {
            let Some(head) = bytes.get(pos..pos + 8) else { break };
            let len = u32::from_le_bytes(head[..4].try_into().unwrap());
            let crc = u32::from_le_bytes(head[4..].try_into().unwrap());
            if len > MAX_RECORD {
                break;
            }
            let Some(payload) = bytes.get(pos + 8..pos + 8 + len as usize) else { break };
            if crc32c::crc32c(payload) != crc {
                break;
            }
            let record: Record = serde_json::from_slice(payload)
                .map_err(|e| StorageError::Corrupt(format!("{what}: record at byte {pos}: {e}")))?;
            if let Some(prev) = records.last().map(|r: &Record| r.txid)
                && record.txid != prev + 1
            {
                return Err(StorageError::Corrupt(format!(
                    "{what}: transaction {} follows {prev} at byte {pos}",
                    record.txid
                )));
            }
            records.push(record);
            pos += 8 + len as usize;
        }
        let torn_bytes = (bytes.len() - pos) as u64;
        let mut file = OpenOptions::new().write(true).open(path).map_err(io(format!("opening {what}")))?;
        if torn_bytes > 0 {
            file.set_len(pos as u64).map_err(io(format!("cutting the torn record off {what}")))?;
            file.sync_all().map_err(io(format!("syncing {what}")))?;
        }
        file.seek(SeekFrom::End(0)).map_err(io(format!("seeking {what}")))?;
        Ok((EditLog { path: path.to_path_buf(), file }, Replay { records, torn_bytes }))
    }

    /// Append `record` and fsync: when this returns Ok the change is durable.
    pub fn append(&mut self, record: &Record) -> Result<()> {
        let payload = serde_json::to_vec(record).map_err(|e| StorageError::Invalid(e.to_string()))?;
        if payload.len() > MAX_RECORD as usize {
            return Err(StorageError::Invalid(format!("edit log record of {} bytes", payload.len())));
        }
        let mut buf = Vec::with_capacity(payload.len() + 8);
        buf.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        buf.extend_from_slice(&crc32c::crc32c(&payload).to_le_bytes());
        buf.extend_from_slice(&payload);
        let what = self.path.display().to_string();
        self.file.write_all(&buf).map_err(io(format!("appending to {what}")))?;
        self.file.sync_data().map_err(io(format!("syncing {what}")))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::namenode::namespace::Attrs;

    fn record(txid: u64) -> Record {
        let attrs = Attrs { owner: "o".into(), group: "g".into(), permission: 0o755, mtime: txid };
        Record { txid, op: Op::Mkdirs { path: format!("/d{txid}"), attrs } }
    }

    /// A log cut at every byte of its last record keeps exactly the whole
    /// records before it, and appends cleanly afterwards.
    #[test]
    fn torn_last_record_is_dropped_at_any_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("edits");
        let (mut log, replay) = EditLog::open(&path).unwrap();
        assert!(replay.records.is_empty());
        for t in 1..=3 {
            log.append(&record(t)).unwrap();
        }
        drop(log);
        let full = std::fs::read(&path).unwrap();
        let (_, replay) = EditLog::open(&path).unwrap();
        assert_eq!(replay.records, (1..=3).map(record).collect::<Vec<_>>());
        let whole_two = {
            let (mut l, _) = EditLog::create(&dir.path().join("two")).map(|l| (l, ())).unwrap();
            l.append(&record(1)).unwrap();
            l.append(&record(2)).unwrap();
            std::fs::metadata(dir.path().join("two")).unwrap().len() as usize
        };
        for cut in whole_two..full.len() {
            std::fs::write(&path, &full[..cut]).unwrap();
            let (mut log, replay) = EditLog::open(&path).unwrap();
            assert_eq!(replay.records.len(), 2, "cut at {cut}");
            assert_eq!(replay.torn_bytes as usize, cut - whole_two);
            log.append(&record(3)).unwrap();
            drop(log);
            let (_, replay) = EditLog::open(&path).unwrap();
            assert_eq!(replay.records, (1..=3).map(record).collect::<Vec<_>>(), "cut at {cut}");
        }
        // a flipped byte inside the last record is caught by its checksum
        let mut bad = full.clone();
        let n = bad.len();
        bad[n - 3] ^= 0x20;
        std::fs::write(&path, &bad).unwrap();
        assert_eq!(EditLog::open(&path).unwrap().1.records.len(), 2);
    }
}
