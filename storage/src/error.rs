//! The block store's error type.

use thiserror::Error;

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// What can go wrong in the block store.
#[derive(Debug, Error)]
pub enum StorageError {
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    /// Stored data does not match its checksum.
    #[error("checksum mismatch in {what} at byte {offset}")]
    ChecksumMismatch { what: String, offset: u64 },
    /// A file of the store is not what it should be.
    #[error("corrupt: {0}")]
    Corrupt(String),
    /// A request names something that does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A request that is not valid (bad id, path, range, ...).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The namespace refuses the operation (exists, not empty, ...).
    #[error("{0}")]
    Namespace(String),
}

/// An I/O error with what was being done.
pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> StorageError {
    let context = context.into();
    move |source| StorageError::Io { context, source }
}
