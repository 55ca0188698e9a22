//! Runs every `tests/slt/*.slt` file, each on a fresh session and home.
//! Results and column types (`query ITR` letters, see
//! [`hiveql_tests::column_type`]) are both checked.
//!
//! `SLT_COMPLETE=1 cargo test -p hiveql-tests --test slt [NAME]` rewrites
//! the files' expected results and letters from what hiveql returns (as
//! DataFusion's `--complete`); review the diff before committing it.

use std::path::PathBuf;

use hiveql_tests::HiveDb;

#[tokio::main]
async fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("slt");
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .collect();
    files.sort();
    let complete = std::env::var("SLT_COMPLETE").is_ok_and(|v| v == "1");
    let (mut passed, mut failed) = (0, 0);
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        if filter.as_ref().is_some_and(|flt| !name.contains(flt.as_str())) {
            continue;
        }
        let mut runner = sqllogictest::Runner::new(|| async { HiveDb::new() });
        runner.with_column_validator(sqllogictest::strict_column_validator);
        let outcome = if complete {
            runner
                .update_test_file(
                    &f,
                    " ",
                    sqllogictest::default_validator,
                    sqllogictest::default_normalizer,
                    sqllogictest::strict_column_validator,
                )
                .await
                .map_err(|e| e.to_string())
        } else {
            runner.run_file_async(&f).await.map_err(|e| e.to_string())
        };
        match outcome {
            Ok(()) => {
                println!("test {name} ... ok");
                passed += 1;
            }
            Err(e) => {
                println!("test {name} ... FAILED\n{e}\n");
                failed += 1;
            }
        }
    }
    println!(
        "\ntest result: {}. {passed} passed; {failed} failed; 0 ignored; 0 measured; 0 filtered out",
        if failed == 0 { "ok" } else { "FAILED" }
    );
    if failed > 0 {
        std::process::exit(1);
    }
}
