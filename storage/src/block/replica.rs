//! Reading a replica from its two files: the data file and its `.meta`
//! checksum file ([`super::checksum`]), verifying every 512-byte chunk the
//! read touches. The datanode serves reads (and its block scanner checks
//! replicas) this way, and a client on the same machine reads replicas this
//! way directly (short-circuit reads), so both check the same format with
//! the same code.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::checksum::{self, BYTES_PER_CHECKSUM, HEADER_LEN};
use crate::error::{Result, StorageError, io};

/// Bytes `[offset, offset + len)` of the replica in `data` (of `size`
/// bytes), verified against its checksums in `meta`; `what` names it in
/// errors.
pub fn read_verified(data: &Path, meta: &Path, what: &str, size: u64, offset: u64, len: u64) -> Result<Vec<u8>> {
    if offset > size {
        return Err(StorageError::Invalid(format!("offset {offset} is past the end of {what} ({size} bytes)")));
    }
    let end = offset.saturating_add(len).min(size);
    let chunk = BYTES_PER_CHECKSUM as u64;
    let (first, last) = (offset / chunk, end.div_ceil(chunk));
    let mut m = File::open(meta).map_err(|_| StorageError::Corrupt(format!("{what}: no checksums")))?;
    let mut header = [0u8; HEADER_LEN];
    m.read_exact(&mut header).map_err(|_| StorageError::Corrupt(format!("{what}: short checksum file")))?;
    let bpc = checksum::parse_header(&header, what)?;
    if bpc != BYTES_PER_CHECKSUM {
        return Err(StorageError::Corrupt(format!("{what}: {bpc} bytes per checksum")));
    }
    let mut sums = vec![0u8; ((last - first) * 4) as usize];
    m.seek(SeekFrom::Start(HEADER_LEN as u64 + first * 4)).map_err(io(format!("reading {what}")))?;
    m.read_exact(&mut sums).map_err(|_| StorageError::Corrupt(format!("{what}: checksums missing")))?;
    let want = (last * chunk).min(size) - first * chunk;
    let mut f = File::open(data).map_err(io(format!("opening {what}")))?;
    f.seek(SeekFrom::Start(first * chunk)).map_err(io(format!("reading {what}")))?;
    // read_to_end fills spare capacity without zeroing it first
    let mut buf = Vec::with_capacity(want as usize);
    f.take(want).read_to_end(&mut buf).map_err(io(format!("reading {what}")))?;
    if buf.len() as u64 != want {
        return Err(StorageError::Corrupt(format!("{what}: {} of {want} bytes on disk", buf.len())));
    }
    checksum::verify(&buf, &sums, first as usize, what)?;
    let from = (offset - first * chunk) as usize;
    buf.truncate(from + (end - offset) as usize);
    if from > 0 {
        buf.drain(..from);
    }
    Ok(buf)
}
