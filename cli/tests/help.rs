//! The `hiveql` binary starts and documents its options. (Also makes
//! `cargo test --workspace` build the binary the end-to-end tests drive.)

#![allow(clippy::unwrap_used)] // a test (or benchmark) fails by panicking

use std::process::Command;

#[test]
fn help_documents_the_options() {
    let out = Command::new(env!("CARGO_BIN_EXE_hiveql")).arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for opt in
        ["-e", "-f", "--hivevar", "--hiveconf", "--outputformat", "--showHeader", "--silent", "--force", "--home"]
    {
        assert!(text.contains(opt), "--help lacks {opt}:\n{text}");
    }
}
