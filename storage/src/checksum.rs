//! Block checksums, as HDFS keeps them: a CRC32C for every 512-byte chunk
//! of a block, stored in a `.meta` file beside the block. A reader verifies
//! every chunk it returns, so a flipped bit on disk is found at the chunk
//! where it lies.
//!
//! `.meta` layout: magic `HQCK`, version `u16` (1), bytes per checksum `u32`,
//! then one little-endian `u32` CRC32C per chunk (the last chunk may be short).

use crate::error::{Result, StorageError};

/// Bytes covered by one checksum.
pub const BYTES_PER_CHECKSUM: usize = 512;
const MAGIC: &[u8; 4] = b"HQCK";
const VERSION: u16 = 1;
/// Size of the `.meta` header.
pub const HEADER_LEN: usize = 10;

/// The `.meta` header.
pub fn header() -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..4].copy_from_slice(MAGIC);
    h[4..6].copy_from_slice(&VERSION.to_le_bytes());
    h[6..10].copy_from_slice(&(BYTES_PER_CHECKSUM as u32).to_le_bytes());
    h
}

/// Check a `.meta` header; returns the bytes per checksum.
pub fn parse_header(h: &[u8], what: &str) -> Result<usize> {
    if h.len() < HEADER_LEN || &h[..4] != MAGIC {
        return Err(StorageError::Corrupt(format!("{what}: not a checksum file")));
    }
    let version = u16::from_le_bytes([h[4], h[5]]);
    if version != VERSION {
        return Err(StorageError::Corrupt(format!("{what}: checksum file version {version}")));
    }
    let bpc = u32::from_le_bytes([h[6], h[7], h[8], h[9]]) as usize;
    if bpc == 0 {
        return Err(StorageError::Corrupt(format!("{what}: zero bytes per checksum")));
    }
    Ok(bpc)
}

/// The checksums of `data`, one per chunk, appended to `out` as little-endian bytes.
pub fn chunk_sums(data: &[u8], out: &mut Vec<u8>) {
    for chunk in data.chunks(BYTES_PER_CHECKSUM) {
        out.extend_from_slice(&crc32c::crc32c(chunk).to_le_bytes());
    }
}

/// Verify `data` (whole chunks from chunk number `first_chunk`) against `sums`
/// (the checksums of those chunks); the error names the first bad chunk's offset.
pub fn verify(data: &[u8], sums: &[u8], first_chunk: usize, what: &str) -> Result<()> {
    for (i, chunk) in data.chunks(BYTES_PER_CHECKSUM).enumerate() {
        let expected = sums.get(i * 4..i * 4 + 4).map(|b| u32::from_le_bytes(b.try_into().unwrap()));
        if expected != Some(crc32c::crc32c(chunk)) {
            let offset = (first_chunk + i) * BYTES_PER_CHECKSUM;
            return Err(StorageError::ChecksumMismatch { what: what.to_string(), offset: offset as u64 });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_bad_chunk() {
        let data: Vec<u8> = (0..2000u32).map(|i| i as u8).collect();
        let mut sums = Vec::new();
        chunk_sums(&data, &mut sums);
        assert_eq!(sums.len(), 4 * 4);
        verify(&data, &sums, 0, "b").unwrap();
        let mut bad = data.clone();
        bad[1300] ^= 1;
        match verify(&bad, &sums, 0, "b") {
            Err(StorageError::ChecksumMismatch { offset, .. }) => assert_eq!(offset, 1024),
            other => panic!("{other:?}"),
        }
        assert_eq!(parse_header(&header(), "m").unwrap(), BYTES_PER_CHECKSUM);
        assert!(parse_header(b"nope", "m").is_err());
    }
}
