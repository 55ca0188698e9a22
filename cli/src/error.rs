//! The errors of the `hiveql` command's own commands (`dfs`, `dfsadmin`,
//! `fsck`, `cluster`, the daemons and their options): typed, so that the
//! exit code follows from the kind of failure, and block-store errors keep
//! their stable `[DFS-NNNN]` code up to the message the user reads.
//! (Statements have their own errors, `hiveql_engine::HiveError`.)

use std::process::ExitCode;

use hiveql_storage::StorageError;

/// What went wrong in a command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command line asks for something that cannot be done as written
    /// (a missing path, an unknown `dfs` command): exit code 2.
    #[error("{0}")]
    Usage(String),
    /// The block store refused or failed, on `path` where there is one.
    #[error("{}{}", path.as_deref().map(|p| format!("{p}: ")).unwrap_or_default(), source.labelled())]
    Storage {
        path: Option<String>,
        #[source]
        source: StorageError,
    },
    /// A local file, directory or process.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// The environment is not set up for the command: no namenode
    /// configured, a cluster already running, a daemon that did not start.
    #[error("{0}")]
    Setup(String),
}

/// Results of the CLI's commands.
pub type Result<T, E = CliError> = std::result::Result<T, E>;

impl CliError {
    /// The process exit code for this error (see the README).
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Usage(_) => ExitCode::from(2),
            _ => ExitCode::from(1),
        }
    }

    /// An I/O error with what was being done.
    pub fn io(context: impl std::fmt::Display, source: std::io::Error) -> CliError {
        CliError::Io { context: context.to_string(), source }
    }
}

impl From<StorageError> for CliError {
    fn from(source: StorageError) -> CliError {
        CliError::Storage { path: None, source }
    }
}

/// Names the path a block-store call was about.
pub trait OnPath<T> {
    fn on(self, path: &str) -> Result<T>;
}

impl<T> OnPath<T> for std::result::Result<T, StorageError> {
    fn on(self, path: &str) -> Result<T> {
        self.map_err(|source| CliError::Storage { path: Some(path.to_string()), source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_errors_keep_their_code_and_name_the_path() {
        let e: Result<()> = Err(StorageError::NotFound("/x".into())).on("/x");
        let text = e.unwrap_err().to_string();
        assert!(text.starts_with("/x: [DFS-"), "{text}");
        assert_eq!(CliError::Usage("needs 1 path(s)".into()).exit_code(), ExitCode::from(2));
        assert_eq!(CliError::Setup("no namenode".into()).exit_code(), ExitCode::from(1));
    }
}
