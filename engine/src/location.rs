//! Table and directory locations: local paths, `file://` URLs, `s3://` URLs
//! and `dfs://HOST:PORT/path` (hiveql's block store, its namenode's
//! address), resolved to an object store of DataFusion's runtime.
//! [`LocationStores`] is the runtime's object store registry: it makes the
//! store of an `s3://` bucket or a `dfs://` cluster on first use (the latter
//! with the cluster secret, see `hiveql_storage::secret`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use datafusion::execution::object_store::{DefaultObjectStoreRegistry, ObjectStoreRegistry, ObjectStoreUrl};
use datafusion::execution::runtime_env::RuntimeEnv;
use hiveql_storage::object_store::DfsObjectStore;
use hiveql_storage::secret::Secret;
use object_store::ObjectStore;
use object_store::path::{Path, PathPart};
use url::Url;

use crate::error::{HiveError, Result};

/// A resolved location: which store, and the path inside it.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    /// `file://`, `s3://bucket`, ...
    pub store_url: ObjectStoreUrl,
    /// The path within the store (no leading `/`).
    pub path: Path,
    /// The location as users write it (absolute path or URL).
    pub text: String,
}

impl Location {
    /// Resolve a location string. Relative local paths are taken from the
    /// current directory.
    pub fn parse(text: &str) -> Result<Location> {
        let text = text.trim();
        if text.is_empty() {
            return Err(HiveError::Semantic("empty location".into()));
        }
        if let Some(rest) = text.strip_prefix("file:") {
            let p = rest.trim_start_matches('/');
            return Self::local(&format!("/{p}"));
        }
        if text.contains("://") {
            let url = Url::parse(text).map_err(|e| HiveError::Semantic(format!("invalid location '{text}': {e}")))?;
            return match url.scheme() {
                "s3" | "s3a" | "s3n" => {
                    let bucket = url
                        .host_str()
                        .ok_or_else(|| HiveError::Semantic(format!("location '{text}' has no bucket")))?;
                    Ok(Location {
                        store_url: ObjectStoreUrl::parse(format!("s3://{bucket}"))?,
                        path: raw_path(text)?,
                        text: text.trim_end_matches('/').to_string(),
                    })
                }
                "dfs" => {
                    let dfs = hiveql_storage::DfsUrl::parse(text)
                        .map_err(|e| HiveError::Semantic(format!("invalid location '{text}': {e}")))?;
                    Ok(Location {
                        store_url: ObjectStoreUrl::parse(format!("dfs://{}", dfs.namenode))?,
                        path: raw_path(text)?,
                        text: text.trim_end_matches('/').to_string(),
                    })
                }
                "hdfs" => Err(HiveError::Unsupported(format!(
                    "location '{text}': hdfs:// (Hadoop's HDFS) is not supported; hiveql's block store is dfs://"
                ))),
                other => Err(HiveError::Semantic(format!("location '{text}': unknown scheme {other}://"))),
            };
        }
        let abs = if text.starts_with('/') {
            text.to_string()
        } else {
            let cwd = std::env::current_dir().map_err(|e| crate::error::io_err("current directory", e))?;
            cwd.join(text).display().to_string()
        };
        Self::local(&abs)
    }

    fn local(abs: &str) -> Result<Location> {
        let normalized = normalize(abs);
        Ok(Location {
            store_url: ObjectStoreUrl::local_filesystem(),
            path: Path::parse(normalized.trim_start_matches('/'))
                .map_err(|e| HiveError::Semantic(format!("invalid location '{abs}': {e}")))?,
            text: if normalized.is_empty() { "/".into() } else { normalized },
        })
    }

    /// True for the local file system.
    pub fn is_local(&self) -> bool {
        let url: &Url = self.store_url.as_ref();
        url.scheme() == "file"
    }

    /// The local file-system path, for local locations.
    pub fn local_path(&self) -> Option<std::path::PathBuf> {
        self.is_local().then(|| std::path::PathBuf::from(format!("/{}", self.path)))
    }

    /// A location below this one.
    pub fn child(&self, name: &str) -> Location {
        // The name as it is (Hive's `%XX` escapes stay `%XX` on storage);
        // only a name object_store cannot hold is encoded.
        let part = PathPart::parse(name).unwrap_or_else(|_| PathPart::from(name));
        Location {
            store_url: self.store_url.clone(),
            path: self.path.clone().join(part),
            text: format!("{}/{}", self.text.trim_end_matches('/'), name),
        }
    }

    /// The last segment of the location (`k=v` for `/w/t/k=v`); none for a
    /// root or a bare bucket.
    pub fn name(&self) -> Option<&str> {
        if self.path.as_ref().is_empty() {
            return None;
        }
        self.text.trim_end_matches('/').rsplit('/').next().filter(|n| !n.is_empty())
    }

    /// The location beside this one named `name` (same parent); none for
    /// a root or a bare bucket.
    pub fn sibling(&self, name: &str) -> Option<Location> {
        let own = self.name()?;
        let parent_text = self.text.trim_end_matches('/').strip_suffix(own)?.trim_end_matches('/');
        let parent_path: Path = self.path.parts().take(self.path.parts().count().saturating_sub(1)).collect();
        let parent = Location {
            store_url: self.store_url.clone(),
            path: parent_path,
            text: if parent_text.is_empty() { "/".to_string() } else { parent_text.to_string() },
        };
        Some(parent.child(name))
    }

    /// The object store of this location (made on first use for S3
    /// buckets and dfs clusters, see [`LocationStores`]).
    /// Create the directory (and its parents) when it is local; object
    /// stores have no directories to create.
    pub fn make_local_dir(&self) -> Result<()> {
        if let Some(p) = self.local_path() {
            std::fs::create_dir_all(&p).map_err(|e| crate::error::io_err(format!("creating {}", p.display()), e))?;
        }
        Ok(())
    }

    pub fn store(&self, runtime: &RuntimeEnv) -> Result<Arc<dyn ObjectStore>> {
        Ok(runtime.object_store(&self.store_url)?)
    }
}

/// The object stores of a session's locations: DataFusion's default
/// registry (local files and what is registered), plus S3 buckets and dfs
/// clusters made on first use. Also kept as a session config extension, so
/// table scans can ask a dfs cluster for its files' block sizes.
#[derive(Debug)]
pub struct LocationStores {
    inner: DefaultObjectStoreRegistry,
    /// The secret dfs requests carry (or why it could not be read: only
    /// dfs locations need it).
    secret: std::result::Result<Secret, String>,
    dfs: Mutex<HashMap<String, Arc<DfsObjectStore>>>,
}

impl LocationStores {
    pub fn new(secret: std::result::Result<Secret, String>) -> LocationStores {
        LocationStores { inner: DefaultObjectStoreRegistry::new(), secret, dfs: Mutex::default() }
    }

    /// The store of the dfs cluster at `authority` (`host:port`).
    pub fn dfs(&self, authority: &str) -> Result<Arc<DfsObjectStore>> {
        let mut dfs = self.dfs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = dfs.get(authority) {
            return Ok(s.clone());
        }
        let secret = self.secret.clone().map_err(|e| {
            HiveError::Storage(hiveql_storage::StorageError::Refused(format!("dfs://{authority}: {e}")))
        })?;
        let store = DfsObjectStore::new(authority, secret)?;
        let store = Arc::new(store);
        dfs.insert(authority.to_string(), store.clone());
        Ok(store)
    }
}

/// The namenode `HOST:PORT` of a `dfs://` store URL.
pub(crate) fn authority(url: &Url) -> Result<String> {
    hiveql_storage::DfsUrl::parse(url.as_str())
        .map(|u| u.namenode)
        .map_err(|e| HiveError::Semantic(format!("invalid location '{url}': {e}")))
}

impl ObjectStoreRegistry for LocationStores {
    fn register_store(&self, url: &Url, store: Arc<dyn ObjectStore>) -> Option<Arc<dyn ObjectStore>> {
        self.inner.register_store(url, store)
    }

    fn deregister_store(&self, url: &Url) -> datafusion::error::Result<Arc<dyn ObjectStore>> {
        self.inner.deregister_store(url)
    }

    fn get_store(&self, url: &Url) -> datafusion::error::Result<Arc<dyn ObjectStore>> {
        if let Ok(s) = self.inner.get_store(url) {
            return Ok(s);
        }
        let made: Arc<dyn ObjectStore> = match url.scheme() {
            "s3" => {
                let bucket = url.host_str().unwrap_or_default();
                let mut builder = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
                // Writers publish files with a no-clobber rename; S3 does it as a
                // conditional multipart copy unless AWS_COPY_IF_NOT_EXISTS says otherwise.
                if std::env::var_os("AWS_COPY_IF_NOT_EXISTS").is_none() {
                    builder = builder.with_copy_if_not_exists(object_store::aws::S3CopyIfNotExists::Multipart);
                }
                Arc::new(builder.build()?)
            }
            "dfs" => self.dfs(&authority(url)?)?,
            _ => return self.inner.get_store(url),
        };
        self.inner.register_store(url, made.clone());
        Ok(made)
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Collapse `//`, `.` and `..` in an absolute path and drop a trailing `/`.
/// The path of a `scheme://authority/path` location as written: Hive
/// (Hadoop's `Path`) takes location text literally, so `dt=a%2Fb` names a
/// directory called `dt=a%2Fb`, not `dt=a/b`.
fn raw_path(text: &str) -> Result<Path> {
    let after_scheme = text.split_once("://").map_or(text, |(_, rest)| rest);
    let path = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
    Path::parse(path).map_err(|e| HiveError::Semantic(format!("invalid location '{text}': {e}")))
}

fn normalize(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_locations() {
        let l = Location::parse("/data//x/./t/").unwrap();
        assert_eq!(l.path.as_ref(), "data/x/t");
        assert_eq!(l.text, "/data/x/t");
        assert!(l.is_local());
        assert_eq!(l.local_path().unwrap(), std::path::PathBuf::from("/data/x/t"));
        let l = Location::parse("file:///data/t").unwrap();
        assert_eq!(l.path.as_ref(), "data/t");
        let l = Location::parse("s3://bucket/a/b/").unwrap();
        assert_eq!(l.store_url.as_str(), "s3://bucket/");
        assert_eq!(l.path.as_ref(), "a/b");
        assert!(Location::parse("ftp://x/y").is_err());
        assert_eq!(Location::parse("/a").unwrap().child("b").text, "/a/b");
    }

    /// Hive's escaped partition names are names, not URL escapes: they
    /// reach storage as written, and parse back to the same path.
    #[test]
    fn escaped_partition_names_stay_as_written() {
        for root in ["/wh/t", "s3://bucket/wh/t", "dfs://nn:9000/wh/t"] {
            let child = Location::parse(root).unwrap().child("dt=a%2Fb%3Ac");
            assert_eq!(child.path.as_ref().rsplit('/').next(), Some("dt=a%2Fb%3Ac"), "{root}");
            let again = Location::parse(&child.text).unwrap();
            assert_eq!(again.path, child.path, "{root}");
        }
    }
}
