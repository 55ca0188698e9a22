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
    for_each_sum(data, |_, sum| out.extend_from_slice(&sum.to_le_bytes()));
}

/// Call `f(i, crc)` for chunk `i` of `data`, in order. Where the CPU has
/// SSE4.2, three whole chunks are summed at once (the `crc32` instruction's
/// latency, not its throughput, bounds one chunk at a time).
#[allow(unsafe_code)] // see the SAFETY comments
fn for_each_sum(data: &[u8], mut f: impl FnMut(usize, u32)) {
    let mut i = 0;
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("sse4.2") {
        let triple = 3 * BYTES_PER_CHECKSUM;
        while data.len() - i * BYTES_PER_CHECKSUM >= triple {
            let at = i * BYTES_PER_CHECKSUM;
            // SAFETY: SSE4.2 is present (checked above).
            let sums = unsafe { three_sums(&data[at..at + triple]) };
            for (k, sum) in sums.into_iter().enumerate() {
                f(i + k, sum);
            }
            i += 3;
        }
    }
    for chunk in data[i * BYTES_PER_CHECKSUM..].chunks(BYTES_PER_CHECKSUM) {
        f(i, crc32c::crc32c(chunk));
        i += 1;
    }
}

/// The CRC32C of each of three consecutive chunks of `BYTES_PER_CHECKSUM` bytes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse4.2")]
#[allow(unsafe_code)] // see the SAFETY comments
unsafe fn three_sums(data: &[u8]) -> [u32; 3] {
    use std::arch::x86_64::_mm_crc32_u64;
    let word = |c: usize, w: usize| {
        let at = c * BYTES_PER_CHECKSUM + w * 8;
        u64::from_le_bytes(data[at..at + 8].try_into().expect("8 bytes"))
    };
    let (mut a, mut b, mut c) = (!0u64, !0u64, !0u64);
    for w in 0..BYTES_PER_CHECKSUM / 8 {
        a = _mm_crc32_u64(a, word(0, w));
        b = _mm_crc32_u64(b, word(1, w));
        c = _mm_crc32_u64(c, word(2, w));
    }
    [!(a as u32), !(b as u32), !(c as u32)]
}

/// Verify `data` (whole chunks from chunk number `first_chunk`) against `sums`
/// (the checksums of those chunks); the error names the first bad chunk's offset.
pub fn verify(data: &[u8], sums: &[u8], first_chunk: usize, what: &str) -> Result<()> {
    let mut bad = None;
    for_each_sum(data, |i, sum| {
        let expected = sums.get(i * 4..i * 4 + 4).map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")));
        if bad.is_none() && expected != Some(sum) {
            bad = Some(i);
        }
    });
    match bad {
        Some(i) => {
            let offset = (first_chunk + i) * BYTES_PER_CHECKSUM;
            Err(StorageError::ChecksumMismatch { what: what.to_string(), offset: offset as u64 })
        }
        None => Ok(()),
    }
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
    }

    #[test]
    fn three_at_once_agrees_with_one_at_a_time() {
        let data: Vec<u8> = (0..20_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8).collect();
        for n in [0, 1, 511, 512, 1535, 1536, 1537, 5000, 20_000] {
            let mut sums = Vec::new();
            chunk_sums(&data[..n], &mut sums);
            let plain: Vec<u8> =
                data[..n].chunks(BYTES_PER_CHECKSUM).flat_map(|c| crc32c::crc32c(c).to_le_bytes()).collect();
            assert_eq!(sums, plain, "{n} bytes");
        }
        assert!(parse_header(b"nope", "m").is_err());
    }
}
