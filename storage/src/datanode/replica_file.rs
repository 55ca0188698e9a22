//! [`ReplicaFile`]: the data file of a replica being written, written the
//! fastest way the file system allows. With `O_DIRECT` (Linux, where the
//! file system takes it) bytes are staged in an aligned buffer and written
//! past the page cache in large aligned writes, so three replicas on one
//! disk cost three disk writes, not three page-cache copies plus their
//! writeback; the unaligned tail is written normally at the end. Elsewhere
//! the file is written through the page cache with its writeback started
//! every few MiB ("sync behind writes"), so the final fsync has little left.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use crate::error::{Result, StorageError};

/// Alignment of direct writes (the largest logical block size in use).
const ALIGN: usize = 4096;
/// Bytes staged before a direct write.
const STAGE: usize = 4 << 20;
/// Bytes after which buffered writes have their writeback started.
const WRITE_BEHIND: u64 = 8 << 20;

/// A replica's data file being written sequentially.
#[derive(Debug)]
pub struct ReplicaFile {
    file: File,
    /// Direct I/O: the staging buffer (over-allocated so an aligned window
    /// of `STAGE` bytes starts at `offset`), and how much of it is filled.
    stage: Option<(Vec<u8>, usize, usize)>,
    /// Buffered I/O: bytes written, and whose writeback has been started.
    written: u64,
    synced: u64,
}

/// A write error; a full disk is [`StorageError::NoSpace`].
pub fn write_error(e: std::io::Error, what: &str) -> StorageError {
    match e.kind() {
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
            StorageError::NoSpace(format!("{what}: the disk is full ({e})"))
        }
        _ => StorageError::Io { context: what.to_string(), source: e },
    }
}

impl ReplicaFile {
    /// Create `path` (it must not exist), for direct I/O where possible.
    pub fn create(path: &Path) -> std::io::Result<ReplicaFile> {
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::fs::OpenOptionsExt;
            let direct = OpenOptions::new().write(true).create_new(true).custom_flags(libc::O_DIRECT).open(path);
            match direct {
                Ok(file) => {
                    let buf = vec![0u8; STAGE + ALIGN];
                    let offset = buf.as_ptr().align_offset(ALIGN);
                    return Ok(ReplicaFile { file, stage: Some((buf, offset, 0)), written: 0, synced: 0 });
                }
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                    let _ = std::fs::remove_file(path); // the file system refuses O_DIRECT
                }
                Err(e) => return Err(e),
            }
        }
        let file = OpenOptions::new().write(true).create_new(true).open(path)?;
        Ok(ReplicaFile { file, stage: None, written: 0, synced: 0 })
    }

    /// Append `buf`.
    pub fn write(&mut self, mut buf: &[u8], what: &str) -> Result<()> {
        match &mut self.stage {
            Some((stage, offset, filled)) => {
                while !buf.is_empty() {
                    let n = (STAGE - *filled).min(buf.len());
                    stage[*offset + *filled..*offset + *filled + n].copy_from_slice(&buf[..n]);
                    *filled += n;
                    buf = &buf[n..];
                    if *filled == STAGE {
                        self.file.write_all(&stage[*offset..*offset + STAGE]).map_err(|e| write_error(e, what))?;
                        *filled = 0;
                    }
                }
            }
            None => {
                self.file.write_all(buf).map_err(|e| write_error(e, what))?;
                self.written += buf.len() as u64;
                if self.written - self.synced >= WRITE_BEHIND {
                    start_writeback(&self.file, self.synced, self.written - self.synced);
                    self.synced = self.written;
                }
            }
        }
        Ok(())
    }

    /// Write what is staged and make the file durable.
    pub fn finish(&mut self, what: &str) -> Result<()> {
        if let Some((stage, offset, filled)) = &mut self.stage {
            let whole = *filled / ALIGN * ALIGN;
            self.file.write_all(&stage[*offset..*offset + whole]).map_err(|e| write_error(e, what))?;
            let tail = &stage[*offset + whole..*offset + *filled];
            if !tail.is_empty() {
                clear_direct(&self.file).map_err(|e| write_error(e, what))?;
                self.file.write_all(tail).map_err(|e| write_error(e, what))?;
            }
            *filled = 0;
        }
        self.file.sync_all().map_err(|e| write_error(e, what))
    }
}

/// Turn direct I/O off for `file` (for the unaligned tail).
#[allow(unsafe_code)] // see the SAFETY comments
fn clear_direct(file: &File) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: fcntl on a valid open descriptor, changing only its status flags.
        unsafe {
            let flags = libc::fcntl(file.as_raw_fd(), libc::F_GETFL);
            if flags < 0 || libc::fcntl(file.as_raw_fd(), libc::F_SETFL, flags & !libc::O_DIRECT) < 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = file;
    Ok(())
}

/// Start writing `len` bytes of `file` from `offset` to disk, without waiting.
#[allow(unsafe_code)] // see the SAFETY comments
fn start_writeback(file: &File, offset: u64, len: u64) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: a valid open file descriptor; the call only schedules I/O.
        unsafe {
            libc::sync_file_range(file.as_raw_fd(), offset as i64, len as i64, libc::SYNC_FILE_RANGE_WRITE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (file, offset, len);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_sizes_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        for (i, n) in
            [0usize, 1, 4095, 4096, 4097, STAGE - 1, STAGE, STAGE + 5000, 3 * STAGE + 123].into_iter().enumerate()
        {
            let data: Vec<u8> = (0..n).map(|j| (j * 31 + i) as u8).collect();
            let path = dir.path().join(format!("f{i}"));
            let mut f = ReplicaFile::create(&path).unwrap();
            for piece in data.chunks(100_003) {
                f.write(piece, "test").unwrap();
            }
            f.finish("test").unwrap();
            assert!(std::fs::read(&path).unwrap() == data, "{n} bytes");
        }
    }
}
