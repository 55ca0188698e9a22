//! The cluster's shared secret: every RPC to a namenode or datanode carries
//! it (metadata `x-hiveql-secret`), and a node refuses a request without it.
//!
//! Where it comes from (`../shared/DESIGN.md`): `HIVEQL_CLUSTER_SECRET`, else
//! the file `$HIVEQL_HOME/cluster.secret`, which the first daemon started
//! with that home creates (random, mode 0600). So every role started with
//! the same `HIVEQL_HOME` (namenode, datanodes, `hiveql dfs`, queries) just
//! works, and anything else is refused.

use std::fmt;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use tonic::metadata::MetadataValue;
use tonic::service::Interceptor;
use tonic::{Request, Status};

use crate::error::{Result, StorageError, io};

/// The environment variable that overrides the secret file.
pub const ENV: &str = "HIVEQL_CLUSTER_SECRET";
/// The secret file's name in `HIVEQL_HOME`.
pub const FILE: &str = "cluster.secret";
const HEADER: &str = "x-hiveql-secret";

/// A cluster secret. Clients attach it to their requests (it is their
/// [`Interceptor`]); a node's [`Guard`] checks it. `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Option<Arc<str>>);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "Secret(..)" } else { "Secret(none)" })
    }
}

impl Secret {
    /// A given secret (tests, `MiniCluster`).
    pub fn new(s: &str) -> Secret {
        Secret(Some(Arc::from(s.trim())))
    }

    /// No secret: requests go out without one (and are refused).
    pub fn none() -> Secret {
        Secret(None)
    }

    /// A client's secret: `HIVEQL_CLUSTER_SECRET`, else `home/cluster.secret`
    /// if it exists, else none (requests will be refused with a message
    /// saying where the secret is looked for).
    pub fn discover(home: Option<&Path>) -> Result<Secret> {
        if let Ok(s) = std::env::var(ENV)
            && !s.trim().is_empty()
        {
            return Ok(Secret::new(&s));
        }
        match home.map(|h| h.join(FILE)) {
            Some(p) if p.exists() => {
                let s = std::fs::read_to_string(&p).map_err(io(format!("reading {}", p.display())))?;
                if s.trim().is_empty() {
                    return Err(StorageError::Invalid(format!("{} is empty", p.display())));
                }
                Ok(Secret::new(&s))
            }
            _ => Ok(Secret::none()),
        }
    }

    /// A daemon's secret: as [`Secret::discover`], creating
    /// `home/cluster.secret` (random, mode 0600) when there is none yet.
    pub fn load_or_create(home: &Path) -> Result<Secret> {
        let found = Secret::discover(Some(home))?;
        if found.0.is_some() {
            return Ok(found);
        }
        let mut raw = [0u8; 32];
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut raw))
            .map_err(io("reading /dev/urandom"))?;
        let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        std::fs::create_dir_all(home).map_err(io(format!("creating {}", home.display())))?;
        let path = home.join(FILE);
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        match opts.open(&path) {
            Ok(mut f) => {
                f.write_all(hex.as_bytes())
                    .and_then(|_| f.sync_all())
                    .map_err(io(format!("writing {}", path.display())))?;
                Ok(Secret::new(&hex))
            }
            // Another daemon created it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Secret::discover(Some(home)),
            Err(e) => Err(StorageError::Io { context: format!("creating {}", path.display()), source: e }),
        }
    }

    /// Whether there is a secret.
    pub fn is_set(&self) -> bool {
        self.0.is_some()
    }

    /// The guard that checks requests for this secret.
    pub fn guard(&self) -> Guard {
        Guard(self.clone())
    }

    /// The secret itself, for a protocol that carries it its own way (the
    /// cluster's task traffic: `hiveql_engine::dist::auth`).
    pub fn value(&self) -> Option<&str> {
        self.0.as_deref()
    }

    /// Whether `presented` (what a request carried, if anything) is this
    /// secret; `Unauthenticated`, saying what was wrong, if not. Without a
    /// secret of its own, a node admits everything.
    pub fn check(&self, presented: Option<&[u8]>) -> Result<(), Status> {
        let Some(expected) = &self.0 else { return Ok(()) };
        match presented {
            Some(got) if same(got, expected.as_bytes()) => Ok(()),
            Some(_) => Err(Status::unauthenticated("wrong cluster secret")),
            None => Err(Status::unauthenticated(format!(
                "request without the cluster secret (set {ENV} or share the cluster's $HIVEQL_HOME/{FILE})"
            ))),
        }
    }
}

impl Interceptor for Secret {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(s) = &self.0 {
            let v =
                MetadataValue::try_from(&**s).map_err(|_| Status::invalid_argument("cluster secret is not ASCII"))?;
            request.metadata_mut().insert(HEADER, v);
        }
        Ok(request)
    }
}

/// A node's check of incoming requests: the right secret, or
/// `Unauthenticated`.
#[derive(Clone, Debug)]
pub struct Guard(Secret);

/// Whether `a` and `b` are equal, compared without stopping at the first
/// differing byte (so the time taken does not tell how much of a guess was right).
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Interceptor for Guard {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        self.0.check(request.metadata().get(HEADER).map(|v| v.as_bytes()))?;
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_with_mode_0600_and_checked() {
        let home = tempfile::tempdir().unwrap();
        let a = Secret::load_or_create(home.path()).unwrap();
        let b = Secret::load_or_create(home.path()).unwrap();
        assert_eq!(a, b);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(home.path().join(FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let mut guard = a.guard();
        let mut signed = a.clone();
        assert!(guard.call(signed.call(Request::new(())).unwrap()).is_ok());
        let e = guard.call(Request::new(())).unwrap_err();
        assert_eq!(e.code(), tonic::Code::Unauthenticated);
        assert!(e.message().contains(ENV), "{}", e.message());
        let e = guard.call(Secret::new("other").call(Request::new(())).unwrap()).unwrap_err();
        assert_eq!(e.message(), "wrong cluster secret");
    }
}
