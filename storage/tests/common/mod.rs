//! Helpers shared by the block store's integration tests.

#![allow(dead_code)] // each test binary uses its own share of them

use std::path::{Path, PathBuf};
use std::time::Duration;

/// `n` pseudo-random bytes, the same for the same `seed`.
pub fn data(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(seed);
    let mut out = vec![0u8; n];
    rand::RngCore::fill_bytes(&mut rng, &mut out);
    out
}

/// Every file under `dir`.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

/// Whether `p` is a block's data file (not its checksums).
pub fn is_block(p: &Path) -> bool {
    let name = p.file_name().unwrap().to_string_lossy();
    name.starts_with("blk_") && !name.ends_with(".meta")
}

/// Wait (up to 30 s, polling) until `check` holds.
pub async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(std::time::Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
