//! The block store's error type, and how it crosses the wire.
//!
//! Every variant carries what callers need to act on it (the path, the
//! holder of a lease, the offset of a bad checksum) rather than a sentence
//! to be matched by its text. Each has a stable [`ErrorCode`]; on gRPC the
//! code and the variant's fields travel in the `Status` details as an
//! [`ErrorDetail`] prost message, so a client rebuilds the very variant the
//! server raised ([`status`] and `From<tonic::Status>`). The message text is
//! for people only.

use thiserror::Error;

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// What can go wrong in the block store.
#[derive(Debug, Error)]
pub enum StorageError {
    /// A local file operation failed.
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    /// Stored data does not match its checksum.
    #[error("checksum mismatch in {what} at byte {offset}")]
    ChecksumMismatch { what: String, offset: u64 },
    /// A file of the store is not what it should be.
    #[error("corrupt: {0}")]
    Corrupt(String),
    /// The edit log is damaged before its last record: acknowledged changes
    /// follow the damage, so the namenode refuses to start rather than drop them.
    #[error(
        "edit log {path} is corrupt at byte {offset} ({detail}); {after} later record(s) would be lost. Restore the \
         name directory from a good copy, or start once with `hiveql namenode --recover` to keep the records before \
         byte {offset} and drop the rest"
    )]
    EditLogCorrupt { path: String, offset: u64, detail: String, after: u64 },
    /// A request names something that does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The path is taken.
    #[error("{0} exists")]
    AlreadyExists(String),
    /// A file operation named a directory.
    #[error("{0} is a directory")]
    IsDirectory(String),
    /// A directory is needed where a file is.
    #[error("{0} is a file, not a directory")]
    NotDirectory(String),
    /// A non-recursive delete of a directory with children.
    #[error("{0} is a non-empty directory")]
    NotEmpty(String),
    /// Another client holds the write lease of the file.
    #[error("{path} is being written by another client{}; one writer per file", holder.as_deref().map(|h| format!(" ({h})")).unwrap_or_default())]
    LeaseHeld { path: String, holder: Option<String> },
    /// A request that is not valid (bad id, path, range, ...).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The namespace refuses the operation for a reason of its own (not the
    /// last block, not open for writing, moving a directory into itself).
    #[error("{0}")]
    Rejected(String),
    /// The namenode is in safe mode (after a restart, until enough blocks
    /// are reported): reads work, changes are refused.
    #[error("the namenode is in safe mode: {reason}")]
    SafeMode {
        reason: String,
        /// Entered by an administrator: it lasts until they leave it, so
        /// clients do not wait it out (start-up safe mode they do).
        manual: bool,
    },
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

/// The stable code of each kind of [`StorageError`]: what travels on the
/// wire and what users and scripts can search for (README, "Error codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum ErrorCode {
    Io = 1,
    Checksum = 2,
    Corrupt = 3,
    EditLogCorrupt = 4,
    NotFound = 10,
    AlreadyExists = 11,
    IsDirectory = 12,
    NotDirectory = 13,
    NotEmpty = 14,
    LeaseHeld = 15,
    Invalid = 16,
    Rejected = 17,
    SafeMode = 20,
    NoSpace = 21,
    Refused = 22,
    Unavailable = 23,
}

impl ErrorCode {
    const ALL: [ErrorCode; 16] = [
        ErrorCode::Io,
        ErrorCode::Checksum,
        ErrorCode::Corrupt,
        ErrorCode::EditLogCorrupt,
        ErrorCode::NotFound,
        ErrorCode::AlreadyExists,
        ErrorCode::IsDirectory,
        ErrorCode::NotDirectory,
        ErrorCode::NotEmpty,
        ErrorCode::LeaseHeld,
        ErrorCode::Invalid,
        ErrorCode::Rejected,
        ErrorCode::SafeMode,
        ErrorCode::NoSpace,
        ErrorCode::Refused,
        ErrorCode::Unavailable,
    ];

    /// The code of a number, if it is one.
    pub fn from_u32(n: u32) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| *c as u32 == n)
    }

    /// The code as users see it: `DFS-1010` for [`ErrorCode::NotFound`].
    pub fn label(self) -> String {
        format!("DFS-{}", 1000 + self as u32)
    }
}

/// A [`StorageError`] in the details of a gRPC `Status`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ErrorDetail {
    #[prost(uint32, tag = "1")]
    pub code: u32,
    /// The variant's main field (a path, what was corrupt, the reason).
    #[prost(string, tag = "2")]
    pub subject: String,
    /// A second field where the variant has one (the lease holder, the
    /// edit-log damage).
    #[prost(string, optional, tag = "3")]
    pub extra: Option<String>,
    /// An offset, count or flag where the variant has one.
    #[prost(uint64, tag = "4")]
    pub offset: u64,
    #[prost(uint64, tag = "5")]
    pub count: u64,
}

impl StorageError {
    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        use StorageError::*;
        match self {
            Io { .. } => ErrorCode::Io,
            ChecksumMismatch { .. } => ErrorCode::Checksum,
            Corrupt(_) => ErrorCode::Corrupt,
            EditLogCorrupt { .. } => ErrorCode::EditLogCorrupt,
            NotFound(_) => ErrorCode::NotFound,
            AlreadyExists(_) => ErrorCode::AlreadyExists,
            IsDirectory(_) => ErrorCode::IsDirectory,
            NotDirectory(_) => ErrorCode::NotDirectory,
            NotEmpty(_) => ErrorCode::NotEmpty,
            LeaseHeld { .. } => ErrorCode::LeaseHeld,
            Invalid(_) => ErrorCode::Invalid,
            Rejected(_) => ErrorCode::Rejected,
            SafeMode { .. } => ErrorCode::SafeMode,
            NoSpace(_) => ErrorCode::NoSpace,
            Refused(_) => ErrorCode::Refused,
            Unavailable(_) => ErrorCode::Unavailable,
        }
    }

    /// The message with its code in front: `[DFS-1010] not found: /a`.
    pub fn labelled(&self) -> String {
        format!("[{}] {self}", self.code().label())
    }

    /// Whether trying again later may succeed (a node down or restarting,
    /// a local I/O failure): such errors reach DataFusion as I/O errors, so
    /// a distributed task is retried.
    pub fn is_transient(&self) -> bool {
        matches!(self, StorageError::Unavailable(_) | StorageError::SafeMode { .. } | StorageError::Io { .. })
    }

    fn detail(&self) -> ErrorDetail {
        use StorageError::*;
        let mut d = ErrorDetail { code: self.code() as u32, ..Default::default() };
        match self {
            Io { context, source } => {
                d.subject = context.clone();
                d.extra = Some(source.to_string());
            }
            ChecksumMismatch { what, offset } => {
                d.subject = what.clone();
                d.offset = *offset;
            }
            EditLogCorrupt { path, offset, detail, after } => {
                d.subject = path.clone();
                d.extra = Some(detail.clone());
                d.offset = *offset;
                d.count = *after;
            }
            LeaseHeld { path, holder } => {
                d.subject = path.clone();
                d.extra = holder.clone();
            }
            SafeMode { reason, manual } => {
                d.subject = reason.clone();
                d.count = u64::from(*manual);
            }
            Corrupt(s) | NotFound(s) | AlreadyExists(s) | IsDirectory(s) | NotDirectory(s) | NotEmpty(s)
            | Invalid(s) | Rejected(s) | NoSpace(s) | Refused(s) | Unavailable(s) => d.subject = s.clone(),
        }
        d
    }

    fn from_detail(d: ErrorDetail) -> Option<StorageError> {
        use StorageError::*;
        let s = d.subject;
        Some(match ErrorCode::from_u32(d.code)? {
            ErrorCode::Io => Io { context: s, source: std::io::Error::other(d.extra.unwrap_or_default()) },
            ErrorCode::Checksum => ChecksumMismatch { what: s, offset: d.offset },
            ErrorCode::Corrupt => Corrupt(s),
            ErrorCode::EditLogCorrupt => {
                EditLogCorrupt { path: s, offset: d.offset, detail: d.extra.unwrap_or_default(), after: d.count }
            }
            ErrorCode::NotFound => NotFound(s),
            ErrorCode::AlreadyExists => AlreadyExists(s),
            ErrorCode::IsDirectory => IsDirectory(s),
            ErrorCode::NotDirectory => NotDirectory(s),
            ErrorCode::NotEmpty => NotEmpty(s),
            ErrorCode::LeaseHeld => LeaseHeld { path: s, holder: d.extra },
            ErrorCode::Invalid => Invalid(s),
            ErrorCode::Rejected => Rejected(s),
            ErrorCode::SafeMode => SafeMode { reason: s, manual: d.count == 1 },
            ErrorCode::NoSpace => NoSpace(s),
            ErrorCode::Refused => Refused(s),
            ErrorCode::Unavailable => Unavailable(s),
        })
    }
}

/// A storage error as an RPC status: the gRPC code for generic clients, the
/// [`ErrorDetail`] for ours.
pub fn status(e: StorageError) -> tonic::Status {
    use tonic::Code;
    let code = match e.code() {
        ErrorCode::NotFound => Code::NotFound,
        ErrorCode::AlreadyExists => Code::AlreadyExists,
        ErrorCode::Invalid => Code::InvalidArgument,
        ErrorCode::IsDirectory
        | ErrorCode::NotDirectory
        | ErrorCode::NotEmpty
        | ErrorCode::LeaseHeld
        | ErrorCode::Rejected => Code::FailedPrecondition,
        ErrorCode::SafeMode | ErrorCode::Unavailable => Code::Unavailable,
        ErrorCode::NoSpace => Code::ResourceExhausted,
        ErrorCode::Refused => Code::Unauthenticated,
        ErrorCode::Checksum | ErrorCode::Corrupt | ErrorCode::EditLogCorrupt => Code::DataLoss,
        ErrorCode::Io => Code::Internal,
    };
    let details = prost::Message::encode_to_vec(&e.detail());
    tonic::Status::with_details(code, e.to_string(), details.into())
}

impl From<tonic::Status> for StorageError {
    /// Our own servers' statuses carry an [`ErrorDetail`]; anything else
    /// (a transport failure, a stranger's reply, a message over the size
    /// limit) is judged by its gRPC code.
    fn from(s: tonic::Status) -> Self {
        use tonic::Code;
        if !s.details().is_empty()
            && let Ok(d) = <ErrorDetail as prost::Message>::decode(s.details())
            && let Some(e) = StorageError::from_detail(d)
        {
            return e;
        }
        let m = s.message().to_string();
        match s.code() {
            Code::NotFound => StorageError::NotFound(m),
            Code::InvalidArgument | Code::ResourceExhausted | Code::OutOfRange => StorageError::Invalid(m),
            Code::AlreadyExists => StorageError::AlreadyExists(m),
            Code::FailedPrecondition => StorageError::Rejected(m),
            Code::DataLoss => StorageError::Corrupt(m),
            Code::Unauthenticated | Code::PermissionDenied => StorageError::Refused(m),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant comes back from the wire as itself, fields and all.
    #[test]
    fn every_variant_round_trips_through_a_status() {
        let all = vec![
            StorageError::Io { context: "writing x".into(), source: std::io::Error::other("disk") },
            StorageError::ChecksumMismatch { what: "blk_1".into(), offset: 512 },
            StorageError::Corrupt("blk_2".into()),
            StorageError::EditLogCorrupt { path: "/n/edits".into(), offset: 77, detail: "crc".into(), after: 3 },
            StorageError::NotFound("/a".into()),
            StorageError::AlreadyExists("/a".into()),
            StorageError::IsDirectory("/a".into()),
            StorageError::NotDirectory("/a".into()),
            StorageError::NotEmpty("/a".into()),
            StorageError::LeaseHeld { path: "/a".into(), holder: Some("c1".into()) },
            StorageError::LeaseHeld { path: "/a".into(), holder: None },
            StorageError::Invalid("x".into()),
            StorageError::Rejected("x".into()),
            StorageError::SafeMode { reason: "x".into(), manual: true },
            StorageError::NoSpace("x".into()),
            StorageError::Refused("x".into()),
            StorageError::Unavailable("x".into()),
        ];
        for e in all {
            let (code, text) = (e.code(), e.to_string());
            let back = StorageError::from(status(e));
            assert_eq!(back.code(), code);
            assert_eq!(back.to_string(), text);
        }
        assert_eq!(
            ErrorCode::ALL.len(),
            ErrorCode::ALL.iter().map(|c| *c as u32).collect::<std::collections::BTreeSet<_>>().len()
        );
    }

    #[test]
    fn a_status_without_details_is_judged_by_its_code() {
        let e = StorageError::from(tonic::Status::unavailable("connection refused"));
        assert!(e.is_transient());
        let e = StorageError::from(tonic::Status::not_found("gone"));
        assert_eq!(e.code(), ErrorCode::NotFound);
    }
}
