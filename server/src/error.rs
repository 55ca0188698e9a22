//! What can stop `hiveql serve`, and how a failed statement reaches a
//! client: an `ErrorResponse` whose SQLSTATE says what kind of failure it
//! is, read off the engine's typed error (never its message), and whose
//! message is the one the `hiveql` CLI prints.

use std::path::PathBuf;

use datafusion::arrow::error::ArrowError;
use datafusion::common::SchemaError;
use datafusion::error::DataFusionError;
use hiveql_engine::HiveError;
use hiveql_metastore::MetastoreError;
use pgwire::error::{ErrorInfo, PgWireError};

/// Why the server cannot start or a user command failed.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A file or socket operation failed.
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    /// The command line asks for something that cannot work.
    #[error("{0}")]
    Config(String),
    /// The users file is damaged.
    #[error("users file {}: line {line}: {msg}", path.display())]
    UsersFile { path: PathBuf, line: usize, msg: String },
    /// A user name or password that cannot be stored.
    #[error("{0}")]
    BadUser(String),
    /// The engine failed (opening the home's metastore, ...).
    #[error(transparent)]
    Hive(#[from] HiveError),
}

impl ServerError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> ServerError {
        ServerError::Io { context: context.into(), source }
    }
}

/// SQLSTATE codes hiveql answers with.
pub mod code {
    pub const SYNTAX_ERROR: &str = "42601";
    pub const UNDEFINED_TABLE: &str = "42P01";
    pub const UNDEFINED_COLUMN: &str = "42703";
    pub const AMBIGUOUS_COLUMN: &str = "42702";
    pub const INVALID_SCHEMA_NAME: &str = "3F000";
    pub const DUPLICATE_OBJECT: &str = "42710";
    pub const DEPENDENT_OBJECTS_STILL_EXIST: &str = "2BP01";
    pub const SYNTAX_OR_ACCESS: &str = "42000";
    pub const FEATURE_NOT_SUPPORTED: &str = "0A000";
    pub const INVALID_TEXT_REPRESENTATION: &str = "22P02";
    pub const CHARACTER_NOT_IN_REPERTOIRE: &str = "22021";
    pub const DIVISION_BY_ZERO: &str = "22012";
    pub const NUMERIC_OUT_OF_RANGE: &str = "22003";
    pub const INVALID_PARAMETER_VALUE: &str = "22023";
    pub const DATA_EXCEPTION: &str = "22000";
    pub const QUERY_CANCELED: &str = "57014";
    pub const IO_ERROR: &str = "58030";
    pub const SYSTEM_ERROR: &str = "58000";
    pub const OUT_OF_MEMORY: &str = "53200";
    pub const INTERNAL_ERROR: &str = "XX000";
    pub const INVALID_PASSWORD: &str = "28P01";
    pub const INVALID_AUTHORIZATION: &str = "28000";
    pub const PROTOCOL_VIOLATION: &str = "08P01";
    pub const INVALID_CURSOR_NAME: &str = "34000";
}

/// The SQLSTATE of an engine error.
pub fn sqlstate(e: &HiveError) -> &'static str {
    match e {
        HiveError::Parse(_) => code::SYNTAX_ERROR,
        HiveError::Semantic(_) => code::SYNTAX_OR_ACCESS,
        HiveError::TableNotFound { .. } => code::UNDEFINED_TABLE,
        HiveError::DatabaseNotFound(_) => code::INVALID_SCHEMA_NAME,
        HiveError::Unsupported(_) => code::FEATURE_NOT_SUPPORTED,
        HiveError::Metastore(m) => match m {
            MetastoreError::AlreadyExists { .. } => code::DUPLICATE_OBJECT,
            MetastoreError::NotFound { .. } => code::UNDEFINED_TABLE,
            MetastoreError::DatabaseNotEmpty(_) => code::DEPENDENT_OBJECTS_STILL_EXIST,
            MetastoreError::Invalid(_) | MetastoreError::InvalidType { .. } => code::INVALID_PARAMETER_VALUE,
            _ => code::SYSTEM_ERROR,
        },
        HiveError::Storage(_) | HiveError::ObjectStore(_) => code::SYSTEM_ERROR,
        HiveError::Io { .. } => code::IO_ERROR,
        HiveError::Data(_) => code::INVALID_TEXT_REPRESENTATION,
        HiveError::Internal(_) => code::INTERNAL_ERROR,
        // PostgreSQL's statement_timeout also ends a statement with 57014
        HiveError::Cancelled | HiveError::TimedOut(_) => code::QUERY_CANCELED,
        HiveError::DataFusion(d) => datafusion_sqlstate(d),
    }
}

/// The SQLSTATE of a DataFusion error (from the PostgreSQL-dialect catalog
/// queries, or inside an engine error).
pub fn datafusion_sqlstate(e: &DataFusionError) -> &'static str {
    match e.find_root() {
        DataFusionError::SQL(..) => code::SYNTAX_ERROR,
        DataFusionError::SchemaError(s, _) => match s.as_ref() {
            SchemaError::FieldNotFound { .. } => code::UNDEFINED_COLUMN,
            SchemaError::AmbiguousReference { .. } => code::AMBIGUOUS_COLUMN,
            _ => code::SYNTAX_OR_ACCESS,
        },
        DataFusionError::Plan(_) => code::SYNTAX_OR_ACCESS,
        DataFusionError::NotImplemented(_) => code::FEATURE_NOT_SUPPORTED,
        DataFusionError::ResourcesExhausted(_) => code::OUT_OF_MEMORY,
        DataFusionError::IoError(_) => code::IO_ERROR,
        DataFusionError::ArrowError(a, _) => match a.as_ref() {
            ArrowError::CastError(_) | ArrowError::ParseError(_) => code::INVALID_TEXT_REPRESENTATION,
            ArrowError::DivideByZero => code::DIVISION_BY_ZERO,
            ArrowError::ArithmeticOverflow(_) => code::NUMERIC_OUT_OF_RANGE,
            _ => code::DATA_EXCEPTION,
        },
        DataFusionError::External(inner) => match inner.downcast_ref::<HiveError>() {
            Some(h) => sqlstate(h),
            None => code::INTERNAL_ERROR,
        },
        _ => code::INTERNAL_ERROR,
    }
}

/// An `ErrorResponse` with `code` and `message`.
pub fn user_error(code: &str, message: impl Into<String>) -> PgWireError {
    PgWireError::UserError(Box::new(error_info(code, message)))
}

/// The fields of an `ErrorResponse`.
pub fn error_info(code: &str, message: impl Into<String>) -> ErrorInfo {
    ErrorInfo::new("ERROR".to_owned(), code.to_owned(), message.into())
}

/// An engine error as the client sees it.
pub fn hive_error(e: &HiveError) -> PgWireError {
    user_error(sqlstate(e), e.to_string())
}

/// A DataFusion error (catalog queries) as the client sees it.
pub fn datafusion_error(e: &DataFusionError) -> PgWireError {
    // an engine error raised inside a plan (a timed-out statement's rows, a SerDe's
    // DataException) reads as the CLI prints it, without DataFusion's "External error: "
    let message = match e.find_root() {
        DataFusionError::External(inner) => match inner.downcast_ref::<HiveError>() {
            Some(h) => h.to_string(),
            None => e.to_string(),
        },
        _ => e.to_string(),
    };
    user_error(datafusion_sqlstate(e), message)
}

/// The statement was cancelled (a CancelRequest, or the client went away).
pub fn cancelled() -> PgWireError {
    user_error(code::QUERY_CANCELED, "canceling statement due to user request")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_errors_get_the_sqlstate_of_their_kind() {
        let missing = HiveError::TableNotFound { db: "default".into(), table: "t".into() };
        assert_eq!(sqlstate(&missing), "42P01");
        assert_eq!(sqlstate(&HiveError::Parse("x".into())), "42601");
        assert_eq!(sqlstate(&HiveError::Cancelled), "57014");
        // raised inside a plan's stream: the kind's SQLSTATE, and the message the CLI prints
        let timed_out = DataFusionError::External(Box::new(HiveError::TimedOut(std::time::Duration::from_secs(1))));
        let PgWireError::UserError(info) = datafusion_error(&timed_out) else { panic!("not a user error") };
        assert_eq!(
            (info.code.as_str(), info.message.as_str()),
            ("57014", "FAILED [Error 20005]: query timed out after 1 s (hive.query.timeout.seconds)")
        );
        // wrapped by DataFusion on the way up, the kind is still found
        let wrapped = HiveError::DataFusion(Box::new(DataFusionError::Context(
            "planning".into(),
            Box::new(DataFusionError::External(Box::new(missing))),
        )));
        assert_eq!(sqlstate(&wrapped), "42P01");
        let cast = HiveError::DataFusion(Box::new(DataFusionError::ArrowError(
            Box::new(ArrowError::CastError("x".into())),
            None,
        )));
        assert_eq!(sqlstate(&cast), "22P02");
    }
}
