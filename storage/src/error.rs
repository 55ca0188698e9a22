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
    /// The namenode is in safe mode (after a restart, until enough blocks
    /// are reported): reads work, changes are refused.
    #[error("the namenode is in safe mode: {0}")]
    SafeMode(String),
    /// No datanode (or this datanode) has room for a block.
    #[error("no space: {0}")]
    NoSpace(String),
    /// A node refused the request (the cluster secret is missing or wrong).
    #[error("refused: {0}")]
    Refused(String),
    /// A node could not be reached or failed to answer.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

impl From<tonic::Status> for StorageError {
    fn from(s: tonic::Status) -> Self {
        use tonic::Code;
        let m = s.message().to_string();
        match s.code() {
            Code::NotFound => StorageError::NotFound(m),
            Code::InvalidArgument => StorageError::Invalid(m),
            Code::FailedPrecondition | Code::AlreadyExists => StorageError::Namespace(m),
            Code::DataLoss => StorageError::Corrupt(m),
            Code::Unauthenticated | Code::PermissionDenied => StorageError::Refused(m),
            Code::ResourceExhausted => match m.strip_prefix("no space: ") {
                Some(rest) => StorageError::NoSpace(rest.to_string()),
                None => StorageError::Invalid(m), // e.g. a message over the size limit
            },
            Code::Unavailable if m.starts_with("safe mode: ") => {
                StorageError::SafeMode(m["safe mode: ".len()..].to_string())
            }
            _ => StorageError::Unavailable(format!("{:?}: {m}", s.code())),
        }
    }
}

impl From<tonic::transport::Error> for StorageError {
    fn from(e: tonic::transport::Error) -> Self {
        StorageError::Unavailable(e.to_string())
    }
}

/// An I/O error with what was being done.
pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> StorageError {
    let context = context.into();
    move |source| StorageError::Io { context, source }
}
