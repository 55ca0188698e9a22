//! Runs the `tests/slt/*.slt` files, each on a fresh session and home,
//! in-process or on a cluster (the same files, the same expected rows).

use std::path::PathBuf;

use crate::HiveDb;

/// Run every `.slt` file whose name contains `filter` (all without one),
/// each on a new [`HiveDb`] with `hiveconf`; print each file's outcome and
/// return the number that failed. `complete` rewrites the files' expected
/// results from what hiveql returns instead.
pub async fn run_files(filter: Option<&str>, hiveconf: &[(String, String)], complete: bool) -> usize {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("slt");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .collect();
    files.sort();
    let (mut passed, mut failed) = (0, 0);
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        if filter.is_some_and(|flt| !name.contains(flt)) {
            continue;
        }
        let conf = hiveconf.to_vec();
        let mut runner = sqllogictest::Runner::new(move || {
            let conf = conf.clone();
            async move { HiveDb::with_hiveconf(conf) }
        });
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
    failed
}
