//! The engine's error type. Errors from the metastore, the block store,
//! DataFusion, the parser and I/O are converted here, at the crate boundary,
//! and keep their types: a caller can tell a table that does not exist from
//! a namenode that does not answer without reading the message.
//!
//! Every error has a stable code ([`HiveError::code`]), printed as Hive
//! prints its own (`SemanticException [Error 10001]: Table not found ...`).
//! Hive's numbers are used where Hive has one for the same failure; the
//! others are hiveql's, in Hive's ranges: 10000-19999 the statement is
//! wrong, 20000-29999 a run-time failure that a retry will not mend,
//! 30000-39999 a run-time failure that a retry may mend, 40000 anything
//! else. The README lists them all.
//!
//! Towards DataFusion ([`From<HiveError> for DataFusionError`]) a transient
//! failure (a node down, the namenode in safe mode, a local I/O error)
//! becomes `DataFusionError::IoError`, so a distributed task is retried,
//! and everything else `External`, so it is not.

use datafusion::error::DataFusionError;
use hiveql_metastore::MetastoreError;
use hiveql_storage::StorageError;
use thiserror::Error;

/// Result of engine operations.
pub type Result<T, E = HiveError> = std::result::Result<T, E>;

/// What can go wrong running HiveQL.
#[derive(Debug, Error)]
pub enum HiveError {
    /// The statement text does not parse.
    #[error("ParseException [Error 10101]: {0}")]
    Parse(String),
    /// The statement parses but is not valid (bad property, wrong column, ...).
    #[error("SemanticException [Error 10000]: {0}")]
    Semantic(String),
    /// A table the statement names does not exist.
    #[error("SemanticException [Error 10001]: Table not found: {db}.{table}")]
    TableNotFound { db: String, table: String },
    /// A database the statement names does not exist.
    #[error("SemanticException [Error 10072]: Database does not exist: {0}")]
    DatabaseNotFound(String),
    /// A statement or clause hiveql does not implement.
    #[error("Unsupported [Error 10102]: {0}")]
    Unsupported(String),
    /// The metastore refused or failed.
    #[error("{}: {}", metastore_label(.0), .0)]
    Metastore(#[from] MetastoreError),
    /// The block store refused or failed (its own code is in the message).
    #[error("{} [{}]: {}", storage_label(.0), .0.code().label(), .0)]
    Storage(#[from] StorageError),
    /// DataFusion failed while planning or running.
    #[error("FAILED [Error 40000]: {0}")]
    DataFusion(Box<DataFusionError>),
    /// A local file operation failed.
    #[error("FAILED [Error 30002]: {context}: {source}")]
    Io { context: String, source: std::io::Error },
    /// An object store (local, S3, dfs) failed.
    #[error("FAILED [Error 30003]: {0}")]
    ObjectStore(object_store::Error),
    /// Data that a SerDe cannot read and may not turn into NULLs (malformed JSON).
    #[error("DataException [Error 20001]: {0}")]
    Data(String),
    /// A failure of hiveql itself (a task that panicked, ...).
    #[error("FAILED [Error 20002]: internal error: {0}")]
    Internal(String),
    /// The statement was cancelled (Ctrl-C).
    #[error("FAILED [Error 20003]: query cancelled")]
    Cancelled,
    /// The statement ran past `hive.query.timeout.seconds` and was stopped
    /// ([`crate::deadline`]).
    #[error("FAILED [Error 20005]: query timed out after {} s (hive.query.timeout.seconds)", .0.as_secs_f64())]
    TimedOut(std::time::Duration),
}

fn metastore_label(e: &MetastoreError) -> &'static str {
    match e {
        MetastoreError::AlreadyExists { .. } => "SemanticException [Error 10103]",
        MetastoreError::NotFound { .. } => "SemanticException [Error 10104]",
        MetastoreError::DatabaseNotEmpty(_) => "SemanticException [Error 10105]",
        MetastoreError::Invalid(_) | MetastoreError::InvalidType { .. } => "SemanticException [Error 10106]",
        MetastoreError::Sqlite(_) | MetastoreError::Corrupt(_) | MetastoreError::TooNew { .. } => {
            "MetaException [Error 20010]"
        }
    }
}

fn storage_label(e: &StorageError) -> &'static str {
    if e.is_transient() { "FAILED [Error 30001]" } else { "FAILED [Error 20004]" }
}

impl HiveError {
    /// The stable code of this error (see the module doc and the README).
    pub fn code(&self) -> u32 {
        match self {
            HiveError::Parse(_) => 10101,
            HiveError::Semantic(_) => 10000,
            HiveError::TableNotFound { .. } => 10001,
            HiveError::DatabaseNotFound(_) => 10072,
            HiveError::Unsupported(_) => 10102,
            HiveError::Metastore(e) => match e {
                MetastoreError::AlreadyExists { .. } => 10103,
                MetastoreError::NotFound { .. } => 10104,
                MetastoreError::DatabaseNotEmpty(_) => 10105,
                MetastoreError::Invalid(_) | MetastoreError::InvalidType { .. } => 10106,
                _ => 20010,
            },
            HiveError::Storage(e) if e.is_transient() => 30001,
            HiveError::Storage(_) => 20004,
            HiveError::DataFusion(_) => 40000,
            HiveError::Io { .. } => 30002,
            HiveError::ObjectStore(_) => 30003,
            HiveError::Data(_) => 20001,
            HiveError::Internal(_) => 20002,
            HiveError::Cancelled => 20003,
            HiveError::TimedOut(_) => 20005,
        }
    }

    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            HiveError::Storage(e) => e.is_transient(),
            HiveError::Io { .. } => true,
            _ => false,
        }
    }
}

/// The storage error inside an object store error, if it is one (a dfs
/// location's store reports [`StorageError`]s as the source).
fn storage_source(e: &object_store::Error) -> bool {
    use std::error::Error as _;
    e.source().is_some_and(|s| s.is::<StorageError>())
}

impl From<object_store::Error> for HiveError {
    fn from(e: object_store::Error) -> Self {
        if storage_source(&e) {
            let source = match e {
                object_store::Error::Generic { source, .. }
                | object_store::Error::NotFound { source, .. }
                | object_store::Error::AlreadyExists { source, .. }
                | object_store::Error::Precondition { source, .. }
                | object_store::Error::NotModified { source, .. } => source,
                other => return HiveError::ObjectStore(other),
            };
            return match source.downcast::<StorageError>() {
                Ok(s) => HiveError::Storage(*s),
                Err(other) => HiveError::ObjectStore(object_store::Error::Generic { store: "dfs", source: other }),
            };
        }
        HiveError::ObjectStore(e)
    }
}

/// Take the [`HiveError`] (or typed storage or metastore error) out of a
/// DataFusion error chain, if one is in it; otherwise give the error back.
fn unwrap_typed(e: DataFusionError) -> std::result::Result<HiveError, DataFusionError> {
    use datafusion::arrow::error::ArrowError;
    fn external(
        inner: Box<dyn std::error::Error + Send + Sync>,
    ) -> std::result::Result<HiveError, Box<dyn std::error::Error + Send + Sync>> {
        let inner = match inner.downcast::<HiveError>() {
            Ok(h) => return Ok(*h),
            Err(i) => i,
        };
        let inner = match inner.downcast::<StorageError>() {
            Ok(s) => return Ok(HiveError::Storage(*s)),
            Err(i) => i,
        };
        let inner = match inner.downcast::<object_store::Error>() {
            Ok(o) if storage_source(&o) => return Ok(HiveError::from(*o)),
            Ok(o) => return Err(o),
            Err(i) => i,
        };
        match inner.downcast::<std::io::Error>() {
            Ok(io) => match io.into_inner() {
                Some(inner) => external(inner),
                None => Err(Box::new(std::io::Error::other("I/O error"))),
            },
            Err(i) => Err(i),
        }
    }
    match e {
        DataFusionError::External(inner) => external(inner).map_err(DataFusionError::External),
        DataFusionError::ArrowError(arrow, ctx) => match *arrow {
            ArrowError::ExternalError(inner) => {
                external(inner).map_err(|i| DataFusionError::ArrowError(Box::new(ArrowError::ExternalError(i)), ctx))
            }
            other => Err(DataFusionError::ArrowError(Box::new(other), ctx)),
        },
        DataFusionError::ObjectStore(o) if storage_source(&o) => Ok(HiveError::from(*o)),
        DataFusionError::IoError(io) if io.get_ref().is_some_and(|i| i.is::<StorageError>() || i.is::<HiveError>()) => {
            match io.into_inner() {
                Some(inner) => external(inner).map_err(DataFusionError::External),
                None => Err(DataFusionError::Internal("I/O error".into())),
            }
        }
        DataFusionError::Context(ctx, inner) => match unwrap_typed(*inner) {
            Ok(HiveError::Semantic(m)) => Ok(HiveError::Semantic(format!("{ctx}: {m}"))),
            Ok(h) => Ok(h),
            Err(inner) => Err(DataFusionError::Context(ctx, Box::new(inner))),
        },
        DataFusionError::Diagnostic(_, inner) => unwrap_typed(*inner),
        // the statement is wrong (unknown function or column, bad argument types ...)
        DataFusionError::Plan(m) => Ok(HiveError::Semantic(m)),
        DataFusionError::SchemaError(e, _) => Ok(HiveError::Semantic(e.to_string())),
        DataFusionError::NotImplemented(m) => Ok(HiveError::Unsupported(m)),
        DataFusionError::Shared(shared) => match std::sync::Arc::try_unwrap(shared) {
            Ok(inner) => unwrap_typed(inner),
            Err(shared) => Err(DataFusionError::Shared(shared)),
        },
        other => Err(other),
    }
}

impl From<DataFusionError> for HiveError {
    fn from(e: DataFusionError) -> Self {
        match unwrap_typed(e) {
            Ok(h) => h,
            Err(other) => HiveError::DataFusion(Box::new(other)),
        }
    }
}

impl From<HiveError> for DataFusionError {
    /// Transient failures as I/O errors (retried by a distributed run),
    /// the rest as external errors that keep their type.
    fn from(e: HiveError) -> Self {
        match e {
            HiveError::DataFusion(d) => *d,
            e if e.is_transient() => DataFusionError::IoError(std::io::Error::other(e)),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A storage error keeps its type through DataFusion, both ways, and a
    /// transient one travels as an I/O error (what Ballista retries).
    #[test]
    fn storage_errors_keep_their_type_through_datafusion() {
        let transient = HiveError::Storage(StorageError::Unavailable("datanode 1".into()));
        let df = DataFusionError::from(transient);
        assert!(matches!(df, DataFusionError::IoError(_)), "{df:?}");
        let back = HiveError::from(df.context("reading x"));
        assert!(matches!(back, HiveError::Storage(StorageError::Unavailable(_))), "{back:?}");
        assert_eq!(back.code(), 30001);

        let lost = HiveError::Storage(StorageError::NotFound("/a".into()));
        let df = DataFusionError::from(lost);
        assert!(matches!(df, DataFusionError::External(_)), "{df:?}");
        assert!(matches!(HiveError::from(df), HiveError::Storage(StorageError::NotFound(_))));

        let os = object_store::Error::Generic {
            store: "dfs",
            source: Box::new(StorageError::SafeMode { reason: "x".into(), manual: false }),
        };
        let h = HiveError::from(DataFusionError::ObjectStore(Box::new(os)));
        assert!(matches!(h, HiveError::Storage(StorageError::SafeMode { .. })), "{h:?}");
        assert!(h.is_transient());
    }

    #[test]
    fn codes_are_printed_as_hive_prints_them() {
        let e = HiveError::TableNotFound { db: "default".into(), table: "t".into() };
        assert_eq!(e.to_string(), "SemanticException [Error 10001]: Table not found: default.t");
        let wrapped = HiveError::from(DataFusionError::from(e).context("planning"));
        assert_eq!(wrapped.code(), 10001);
        let s = HiveError::Storage(StorageError::NotFound("/x".into()));
        assert_eq!(s.to_string(), "FAILED [Error 20004] [DFS-1010]: not found: /x");
    }
}
