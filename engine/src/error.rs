//! The engine's error type. Errors from the metastore, DataFusion, the
//! parser and I/O are converted here, at the crate boundary.

use datafusion::error::DataFusionError;
use hiveql_metastore::MetastoreError;
use thiserror::Error;

/// Result of engine operations.
pub type Result<T, E = HiveError> = std::result::Result<T, E>;

/// What can go wrong running HiveQL.
#[derive(Debug, Error)]
pub enum HiveError {
    /// The statement text does not parse.
    #[error("ParseException: {0}")]
    Parse(String),
    /// The statement parses but is not valid (unknown table, bad property, ...).
    #[error("SemanticException: {0}")]
    Semantic(String),
    /// A statement or clause hiveql does not implement.
    #[error("Unsupported: {0}")]
    Unsupported(String),
    #[error("{0}")]
    Metastore(#[from] MetastoreError),
    #[error("{0}")]
    DataFusion(Box<DataFusionError>),
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    #[error("{0}")]
    ObjectStore(#[from] object_store::Error),
    /// Data that a SerDe cannot read and may not turn into NULLs (malformed JSON).
    #[error("{0}")]
    Data(String),
    /// The statement was cancelled (Ctrl-C).
    #[error("query cancelled")]
    Cancelled,
}

impl From<DataFusionError> for HiveError {
    fn from(e: DataFusionError) -> Self {
        if let DataFusionError::Plan(msg) = e.find_root()
            && let Some(t) = table_not_found(msg)
        {
            return HiveError::Semantic(format!("Table not found: {t}"));
        }
        match e {
            DataFusionError::ArrowError(arrow, ctx) => match *arrow {
                datafusion::arrow::error::ArrowError::ExternalError(inner) if inner.is::<HiveError>() => {
                    *inner.downcast::<HiveError>().unwrap()
                }
                other => HiveError::DataFusion(Box::new(DataFusionError::ArrowError(Box::new(other), ctx))),
            },
            DataFusionError::External(inner) => match inner.downcast::<HiveError>() {
                Ok(h) => *h,
                Err(inner) => HiveError::DataFusion(Box::new(DataFusionError::External(inner))),
            },
            DataFusionError::Context(ctx, inner) => match *inner {
                DataFusionError::External(ext) if ext.is::<HiveError>() => {
                    let h = *ext.downcast::<HiveError>().unwrap();
                    HiveError::Semantic(format!("{ctx}: {h}"))
                }
                other => HiveError::DataFusion(Box::new(DataFusionError::Context(ctx, Box::new(other)))),
            },
            other => HiveError::DataFusion(Box::new(other)),
        }
    }
}

/// The table named by DataFusion's "table 'hive.db.t' not found".
fn table_not_found(msg: &str) -> Option<String> {
    let rest = msg.strip_prefix("table '")?;
    let name = rest.strip_suffix("' not found")?;
    Some(name.strip_prefix("hive.").unwrap_or(name).to_string())
}

impl From<HiveError> for DataFusionError {
    fn from(e: HiveError) -> Self {
        match e {
            HiveError::DataFusion(d) => *d,
            other => DataFusionError::External(Box::new(other)),
        }
    }
}

impl From<datafusion::sql::sqlparser::tokenizer::TokenizerError> for HiveError {
    fn from(e: datafusion::sql::sqlparser::tokenizer::TokenizerError) -> Self {
        HiveError::Parse(e.to_string())
    }
}

impl From<sqlparser_error::ParserError> for HiveError {
    fn from(e: sqlparser_error::ParserError) -> Self {
        HiveError::Parse(e.to_string().trim_start_matches("sql parser error: ").to_string())
    }
}

mod sqlparser_error {
    pub use datafusion::sql::sqlparser::parser::ParserError;
}

/// Shorthand for a semantic error.
pub fn semantic(msg: impl Into<String>) -> HiveError {
    HiveError::Semantic(msg.into())
}

/// Shorthand for an I/O error with context.
pub fn io_err(context: impl Into<String>, source: std::io::Error) -> HiveError {
    HiveError::Io { context: context.into(), source }
}
