//! Runs every `tests/slt/*.slt` file, each on a fresh session and home.
//! Results and column types (`query ITR` letters, see
//! [`hiveql_tests::column_type`]) are both checked.
//!
//! `SLT_COMPLETE=1 cargo test -p hiveql-tests --test slt [NAME]` rewrites
//! the files' expected results and letters from what hiveql returns (as
//! DataFusion's `--complete`); review the diff before committing it.

#[tokio::main]
async fn main() {
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let complete = std::env::var("SLT_COMPLETE").is_ok_and(|v| v == "1");
    if hiveql_tests::slt::run_files(filter.as_deref(), &[], complete).await > 0 {
        std::process::exit(1);
    }
}
