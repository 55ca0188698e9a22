//! The namenode's edit log: every namespace change, appended and fsynced
//! before it is acknowledged.
//!
//! File layout: magic `HQED` and a `u32` version, then records
//! `[u32 payload length][u32 CRC32C of payload][payload]`, the payload the
//! JSON of a [`Record`] (transaction id and op).
//!
//! A crash in the middle of an append leaves a torn *last* record (a prefix
//! of it, or its sectors half written, or zeros where the file grew): its
//! length or checksum does not hold and nothing valid follows it, so
//! [`EditLog::open`] cuts the file back to the last whole record. Damage
//! anywhere else (a flipped bit in a record that has whole records after
//! it) is not a crash: those later records were acknowledged, so `open`
//! refuses with [`StorageError::EditLogCorrupt`], naming the file and the
//! byte, and changes nothing. [`EditLog::open_recovering`] is the
//! operator's way out (`hiveql namenode --recover`): it keeps the records
//! before the damage, saves the whole damaged file beside it, and says what
//! it dropped.
//!
//! Appends are split in two for group commit: [`EditLog::write`] puts a
//! record in the file (no fsync) and [`EditLog::syncer`] hands out a handle
//! whose `sync_data` makes everything written so far durable, so one fsync
//! can cover the changes of many concurrent clients (see `namesystem`).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::namespace::Op;
use crate::error::{Result, StorageError, io};

const MAGIC: &[u8; 4] = b"HQED";
const VERSION: u32 = 1;
const HEADER_LEN: u64 = 8;
/// Larger records are refused (and a length field above it means a damaged record).
const MAX_RECORD: u32 = 16 << 20;
/// How every record's payload starts: what a scan for whole records after
/// a damaged one looks for.
const RECORD_START: &[u8] = b"{\"txid\":";

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
    /// With [`EditLog::open_recovering`]: what was dropped, if anything.
    pub recovered: Option<Recovered>,
}

/// What recovery dropped from a damaged log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// Where the damage starts.
    pub offset: u64,
    /// Whole records found after the damage (and dropped).
    pub dropped: u64,
    /// The damaged file, kept as it was.
    pub saved_as: PathBuf,
}

fn sync_parent(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent() {
        File::open(dir).and_then(|d| d.sync_all()).map_err(io(format!("syncing {}", dir.display())))?;
    }
    Ok(())
}

/// The record at `pos` of `bytes`: `Ok(Some((record, next)))` when whole
/// and valid, `Ok(None)` at the end, `Err(why)` when it does not hold.
fn record_at(bytes: &[u8], pos: usize) -> std::result::Result<Option<(Record, usize)>, String> {
    if pos == bytes.len() {
        return Ok(None);
    }
    let Some(head) = bytes.get(pos..pos + 8) else { return Err("a record header is cut short".into()) };
    let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
    let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    if len == 0 || len > MAX_RECORD {
        return Err(format!("record length {len}"));
    }
    let Some(payload) = bytes.get(pos + 8..pos + 8 + len as usize) else {
        return Err(format!("a record of {len} bytes is cut short"));
    };
    if crc32c::crc32c(payload) != crc {
        return Err("record checksum mismatch".into());
    }
    let record: Record = serde_json::from_slice(payload).map_err(|e| format!("record does not parse: {e}"))?;
    Ok(Some((record, pos + 8 + len as usize)))
}

/// Whole, valid records after a damaged one at `bad`: the transaction ids
/// that would be lost by cutting there.
fn records_after(bytes: &[u8], bad: usize, last_txid: Option<u64>) -> u64 {
    let finder = memchr::memmem::Finder::new(RECORD_START);
    let mut n = 0;
    let mut from = bad + 1;
    while let Some(hit) = finder.find(bytes.get(from..).unwrap_or_default()) {
        let start = from + hit;
        from = start + 1;
        let Some(pos) = start.checked_sub(8) else { continue };
        if pos < bad {
            continue;
        }
        if let Ok(Some((r, next))) = record_at(bytes, pos)
            && last_txid.is_none_or(|t| r.txid > t)
        {
            n += 1;
            from = next;
        }
    }
    n
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
    /// A torn last record is cut off; damage before the last record is
    /// [`StorageError::EditLogCorrupt`] and leaves the file as it is.
    pub fn open(path: &Path) -> Result<(EditLog, Replay)> {
        EditLog::open_with(path, false)
    }

    /// As [`EditLog::open`], but damage before the last record is cut off
    /// too, after the whole file is copied to `edits.corrupt-<ms>`.
    pub fn open_recovering(path: &Path) -> Result<(EditLog, Replay)> {
        EditLog::open_with(path, true)
    }

    fn open_with(path: &Path, recover: bool) -> Result<(EditLog, Replay)> {
        if !path.exists() {
            return Ok((EditLog::create(path)?, Replay { records: Vec::new(), torn_bytes: 0, recovered: None }));
        }
        let what = path.display().to_string();
        let mut bytes = Vec::new();
        File::open(path).and_then(|mut f| f.read_to_end(&mut bytes)).map_err(io(format!("reading {what}")))?;
        if bytes.len() < HEADER_LEN as usize || &bytes[..4] != MAGIC {
            return Err(StorageError::Corrupt(format!("{what} is not an edit log")));
        }
        let version = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
        if version != VERSION {
            return Err(StorageError::Corrupt(format!("{what}: edit log version {version}")));
        }
        let mut records: Vec<Record> = Vec::new();
        let mut pos = HEADER_LEN as usize;
        let mut recovered = None;
        loop {
            match record_at(&bytes, pos) {
                Ok(None) => break,
                Ok(Some((record, next))) => {
                    if let Some(prev) = records.last().map(|r| r.txid)
                        && record.txid != prev + 1
                    {
                        return Err(StorageError::EditLogCorrupt {
                            path: what,
                            offset: pos as u64,
                            detail: format!("transaction {} follows {prev}", record.txid),
                            after: 0,
                        });
                    }
                    records.push(record);
                    pos = next;
                }
                Err(why) => {
                    let after = records_after(&bytes, pos, records.last().map(|r| r.txid));
                    if after == 0 {
                        break; // a torn last record
                    }
                    if !recover {
                        return Err(StorageError::EditLogCorrupt {
                            path: what,
                            offset: pos as u64,
                            detail: why,
                            after,
                        });
                    }
                    let ms = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_millis())
                        .unwrap_or(0);
                    let saved_as = path.with_extension(format!("corrupt-{ms}"));
                    std::fs::write(&saved_as, &bytes).map_err(io(format!("saving {}", saved_as.display())))?;
                    recovered = Some(Recovered { offset: pos as u64, dropped: after, saved_as });
                    break;
                }
            }
        }
        let torn_bytes = (bytes.len() - pos) as u64;
        let mut file = OpenOptions::new().write(true).open(path).map_err(io(format!("opening {what}")))?;
        if torn_bytes > 0 {
            file.set_len(pos as u64).map_err(io(format!("cutting the torn record off {what}")))?;
            file.sync_all().map_err(io(format!("syncing {what}")))?;
        }
        file.seek(SeekFrom::End(0)).map_err(io(format!("seeking {what}")))?;
        Ok((EditLog { path: path.to_path_buf(), file }, Replay { records, torn_bytes, recovered }))
    }

    /// Put `record` in the file, not yet durable: a [`EditLog::syncer`]'s
    /// `sync_data` makes it so.
    pub fn write(&mut self, record: &Record) -> Result<()> {
        let payload = serde_json::to_vec(record).map_err(|e| StorageError::Invalid(e.to_string()))?;
        if payload.len() > MAX_RECORD as usize {
            return Err(StorageError::Invalid(format!("edit log record of {} bytes", payload.len())));
        }
        let mut buf = Vec::with_capacity(payload.len() + 8);
        buf.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        buf.extend_from_slice(&crc32c::crc32c(&payload).to_le_bytes());
        buf.extend_from_slice(&payload);
        self.file.write_all(&buf).map_err(io(format!("appending to {}", self.path.display())))
    }

    /// A handle on the log file whose `sync_data` makes every record
    /// written so far durable (and may run on another thread).
    pub fn syncer(&self) -> Result<File> {
        self.file.try_clone().map_err(io(format!("opening {} for syncing", self.path.display())))
    }

    /// Append `record` and fsync: when this returns Ok the change is durable.
    pub fn append(&mut self, record: &Record) -> Result<()> {
        self.write(record)?;
        self.file.sync_data().map_err(io(format!("syncing {}", self.path.display())))
    }

    /// Where the log is.
    pub fn path(&self) -> &Path {
        &self.path
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

    fn log_of(path: &Path, n: u64) -> Vec<u8> {
        let mut log = EditLog::create(path).unwrap();
        for t in 1..=n {
            log.append(&record(t)).unwrap();
        }
        std::fs::read(path).unwrap()
    }

    /// The operator's case: 1,000 acknowledged changes, one byte flipped a
    /// third of the way in. The log refuses to open, naming file and byte,
    /// and is left as it was; `--recover` keeps what precedes the damage.
    #[test]
    fn a_flipped_byte_in_the_middle_refuses_to_open_and_recovery_keeps_the_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("edits");
        let mut bytes = log_of(&path, 1000);
        let at = bytes.len() / 3;
        bytes[at] ^= 0x04;
        std::fs::write(&path, &bytes).unwrap();
        let e = EditLog::open(&path).unwrap_err();
        let StorageError::EditLogCorrupt { path: p, offset, after, .. } = &e else { panic!("{e}") };
        assert_eq!(p, &path.display().to_string());
        assert!((*offset as usize) <= at && at - (*offset as usize) < 200, "{e}");
        assert!(*after > 600, "{e}");
        let text = e.to_string();
        assert!(text.contains(&path.display().to_string()) && text.contains(&format!("byte {offset}")), "{text}");
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "a refused log is not changed");
        let (mut log, replay) = EditLog::open_recovering(&path).unwrap();
        let kept = replay.records.len() as u64;
        assert!(kept > 300 && kept < 340, "{kept}");
        assert_eq!(replay.records, (1..=kept).map(record).collect::<Vec<_>>());
        let rec = replay.recovered.unwrap();
        assert_eq!(rec.dropped, 1000 - kept - 1, "every whole record after the damaged one is counted");
        assert_eq!(std::fs::read(&rec.saved_as).unwrap(), bytes, "the damaged log is kept");
        log.append(&record(kept + 1)).unwrap();
        drop(log);
        assert_eq!(EditLog::open(&path).unwrap().1.records.len() as u64, kept + 1);
    }

    /// A byte flipped anywhere in a log either refuses it, or loses nothing
    /// but the last record when the flip is inside that record (a torn
    /// tail looks the same): never a silent loss of acknowledged records.
    #[test]
    fn a_flip_at_any_byte_is_refused_or_costs_at_most_the_last_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("edits");
        let full = log_of(&path, 20);
        let last_start = {
            let p = dir.path().join("nineteen");
            log_of(&p, 19).len()
        };
        for at in 0..full.len() {
            for bit in [0x01u8, 0x80] {
                let mut bad = full.clone();
                bad[at] ^= bit;
                std::fs::write(&path, &bad).unwrap();
                match EditLog::open(&path) {
                    Err(_) => assert!(at < last_start, "a flip in the last record at {at} refused the log"),
                    Ok((_, replay)) => {
                        let n = replay.records.len();
                        assert!(n == 20 || (n == 19 && at >= last_start), "flip at {at}: {n} records");
                        assert_eq!(replay.records, (1..=n as u64).map(record).collect::<Vec<_>>());
                    }
                }
            }
        }
    }

    /// Zeros where the file grew before a crash are a torn tail, not damage.
    #[test]
    fn zeros_after_the_last_record_are_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("edits");
        let mut bytes = log_of(&path, 5);
        bytes.extend_from_slice(&[0u8; 4096]);
        std::fs::write(&path, &bytes).unwrap();
        let (_, replay) = EditLog::open(&path).unwrap();
        assert_eq!(replay.records.len(), 5);
        assert_eq!(replay.torn_bytes, 4096);
    }

    /// Random bytes, random cuts and splices of real logs: the reader
    /// answers with records or an error, never a panic.
    #[test]
    fn any_bytes_are_read_or_refused() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(0xed17);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("edits");
        let full = log_of(&path, 50);
        for _ in 0..3_000 {
            let mut bytes = full.clone();
            match rng.random_range(0..4) {
                0 => bytes.truncate(rng.random_range(0..bytes.len())),
                1 => {
                    let at = rng.random_range(8..bytes.len());
                    let n = rng.random_range(1..64).min(bytes.len() - at);
                    rng.fill(&mut bytes[at..at + n]);
                }
                2 => {
                    let from = rng.random_range(8..bytes.len());
                    let to = rng.random_range(8..bytes.len());
                    let piece = bytes[from..(from + 40).min(bytes.len())].to_vec();
                    bytes.splice(to..to, piece);
                }
                _ => {
                    bytes.truncate(8);
                    let mut tail = vec![0u8; rng.random_range(0..512)];
                    rng.fill(&mut tail[..]);
                    bytes.extend_from_slice(&tail);
                }
            }
            std::fs::write(&path, &bytes).unwrap();
            if let Ok((_, replay)) = EditLog::open(&path) {
                assert_eq!(replay.records, (1..=replay.records.len() as u64).map(record).collect::<Vec<_>>());
            }
        }
    }
}
