//! Errors of the metastore, as a typed enum the engine converts at its boundary.

use thiserror::Error;

/// Result type of metastore operations.
pub type Result<T, E = MetastoreError> = std::result::Result<T, E>;

/// What can go wrong in the metastore.
#[derive(Debug, Error)]
pub enum MetastoreError {
    /// A database, table or partition with this name already exists.
    #[error("{kind} {name} already exists")]
    AlreadyExists { kind: &'static str, name: String },
    /// No database, table or partition with this name.
    #[error("{kind} not found: {name}")]
    NotFound { kind: &'static str, name: String },
    /// `DROP DATABASE` without `CASCADE` on a database that still has tables.
    #[error("database {0} is not empty; drop its tables first or use CASCADE")]
    DatabaseNotEmpty(String),
    /// A request that the model does not allow (bad name, bad type, ...).
    #[error("{0}")]
    Invalid(String),
    /// A Hive type string that does not parse.
    #[error("invalid type '{text}': {reason}")]
    InvalidType { text: String, reason: String },
    /// The SQLite file could not be read or written.
    #[error("metastore database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored value that does not decode (the metastore file was altered by hand
    /// or written by a newer version).
    #[error("metastore record is corrupt: {0}")]
    Corrupt(String),
    /// The metastore file was written by a newer hiveql.
    #[error("metastore schema version {found} is newer than this hiveql supports ({supported})")]
    TooNew { found: i64, supported: i64 },
}

impl From<serde_json::Error> for MetastoreError {
    fn from(e: serde_json::Error) -> Self {
        MetastoreError::Corrupt(e.to_string())
    }
}
