//! Shared helpers of hiveql's end-to-end tests: where the built `hiveql`
//! binary and the test data are, and a sqllogictest connection that runs
//! `.slt` files against a real session on a fresh `HIVEQL_HOME`.

pub mod cluster;
pub mod slt;

use std::path::PathBuf;

use async_trait::async_trait;
use hiveql_engine::value::{format_field_value, format_value};
use hiveql_engine::{HiveError, Session, SessionOptions, StatementOutput};
use sqllogictest::{DBOutput, DefaultColumnType};

/// The `hiveql` binary built for this test run (`cargo test --workspace`
/// builds it because the `hiveql-cli` package has integration tests).
pub fn hiveql_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe.parent().and_then(|d| d.parent()).expect("target profile directory");
    let bin = dir.join("hiveql");
    assert!(bin.exists(), "{} not found: run the tests with `cargo test --workspace`", bin.display());
    bin
}

/// The rows of `batches` as text, values as Hive prints them (NULL as `NULL`)
/// joined by `sep`.
pub fn format_rows(batches: &[datafusion::arrow::array::RecordBatch], sep: &str) -> Vec<String> {
    batches
        .iter()
        .flat_map(|b| {
            (0..b.num_rows()).map(move |r| {
                (0..b.num_columns())
                    .map(|c| format_value(b.column(c).as_ref(), r).unwrap_or_else(|| "NULL".into()))
                    .collect::<Vec<_>>()
                    .join(sep)
            })
        })
        .collect()
}

/// Every file under `dir` (block files of a datanode, say).
pub fn files_under(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

/// `tests/data`.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data")
}

/// The repository root.
pub fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A sqllogictest connection: a session on its own temporary home, with
/// `${DATA}` (tests/data), `${TMP}` (a scratch directory) and `${WAREHOUSE}`
/// (the session's warehouse) defined.
pub struct HiveDb {
    session: Session,
    _home: tempfile::TempDir,
}

impl HiveDb {
    pub fn new() -> Result<HiveDb, HiveError> {
        Self::with_hiveconf(Vec::new())
    }

    /// A connection whose session starts with these `--hiveconf` settings.
    pub fn with_hiveconf(hiveconf: Vec<(String, String)>) -> Result<HiveDb, HiveError> {
        let home = tempfile::tempdir().expect("temp dir");
        let tmp = home.path().join("tmp");
        std::fs::create_dir_all(&tmp).expect("scratch dir");
        let session = Session::open(SessionOptions {
            home: home.path().to_path_buf(),
            hiveconf,
            hivevar: vec![
                ("DATA".into(), data_dir().display().to_string()),
                ("TMP".into(), tmp.display().to_string()),
                ("WAREHOUSE".into(), home.path().join("warehouse").display().to_string()),
            ],
        })?;
        Ok(HiveDb { session, _home: home })
    }
}

/// The sqllogictest letter of a result column: `I` integers, `R` floating
/// point and decimals, `T` everything else (the `.slt` files' `query` lines
/// are checked against these).
pub fn column_type(t: &datafusion::arrow::datatypes::DataType) -> DefaultColumnType {
    use datafusion::arrow::datatypes::DataType::*;
    match t {
        Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 => DefaultColumnType::Integer,
        Float16 | Float32 | Float64 | Decimal32(..) | Decimal64(..) | Decimal128(..) | Decimal256(..) => {
            DefaultColumnType::FloatingPoint
        }
        _ => DefaultColumnType::Text,
    }
}

#[async_trait]
impl sqllogictest::AsyncDB for HiveDb {
    type Error = HiveError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, HiveError> {
        // SLT_ECHO=1: each statement on stderr before it runs (which one hangs?)
        if std::env::var_os("SLT_ECHO").is_some() {
            eprintln!("{sql}");
        }
        match self.session.execute(sql.trim().trim_end_matches(';')).await? {
            StatementOutput::Done(_) => Ok(DBOutput::StatementComplete(0)),
            StatementOutput::Written { rows, .. } => Ok(DBOutput::StatementComplete(rows)),
            StatementOutput::Rows(stream) => {
                let schema = stream.schema();
                let batches = datafusion::physical_plan::common::collect(stream).await?;
                let types: Vec<DefaultColumnType> =
                    schema.fields().iter().map(|f| column_type(f.data_type())).collect();
                let mut rows = Vec::new();
                for b in &batches {
                    for r in 0..b.num_rows() {
                        rows.push(
                            b.columns()
                                .iter()
                                .zip(schema.fields())
                                .map(|(c, f)| match format_field_value(f, c.as_ref(), r) {
                                    None => "NULL".to_string(),
                                    Some(s) if s.is_empty() => "(empty)".to_string(),
                                    Some(s) => s,
                                })
                                .collect(),
                        );
                    }
                }
                Ok(DBOutput::Rows { types, rows })
            }
        }
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "hiveql"
    }
}
