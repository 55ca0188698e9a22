//! Table and directory locations: local paths, `file://` URLs, `s3://` URLs
//! and `dfs://HOST:PORT/path` (hiveql's block store, its namenode's
//! address), resolved to an object store registered in DataFusion's runtime.

use std::sync::Arc;

use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::runtime_env::RuntimeEnv;
use object_store::ObjectStore;
use object_store::path::Path;
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
                        path: Path::from_url_path(url.path())
                            .map_err(|e| HiveError::Semantic(format!("invalid location '{text}': {e}")))?,
                        text: text.trim_end_matches('/').to_string(),
                    })
                }
                "dfs" => {
                    let host = url
                        .host_str()
                        .ok_or_else(|| HiveError::Semantic(format!("location '{text}' has no namenode host")))?;
                    let port = url.port().unwrap_or(8020);
                    Ok(Location {
                        store_url: ObjectStoreUrl::parse(format!("dfs://{host}:{port}"))?,
                        path: Path::from_url_path(url.path())
                            .map_err(|e| HiveError::Semantic(format!("invalid location '{text}': {e}")))?,
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
        Location {
            store_url: self.store_url.clone(),
            path: self.path.clone().join(name),
            text: format!("{}/{}", self.text.trim_end_matches('/'), name),
        }
    }

    /// The object store of this location, registering one for S3 buckets on first use.
    pub fn store(&self, runtime: &RuntimeEnv) -> Result<Arc<dyn ObjectStore>> {
        if let Ok(s) = runtime.object_store(&self.store_url) {
            return Ok(s);
        }
        let url: &Url = self.store_url.as_ref();
        match url.scheme() {
            "s3" => {
                let bucket = url.host_str().unwrap_or_default();
                let s3 = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket).build()?;
                let s3: Arc<dyn ObjectStore> = Arc::new(s3);
                runtime.register_object_store(url, s3.clone());
                Ok(s3)
            }
            "dfs" => {
                let authority = format!("{}:{}", url.host_str().unwrap_or_default(), url.port().unwrap_or(8020));
                let dfs = hiveql_storage::object_store::DfsObjectStore::new(&authority)
                    .map_err(|e| HiveError::Semantic(format!("location {self}: {e}")))?;
                let dfs: Arc<dyn ObjectStore> = Arc::new(dfs);
                runtime.register_object_store(url, dfs.clone());
                Ok(dfs)
            }
            _ => Ok(runtime.object_store(&self.store_url)?),
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Collapse `//`, `.` and `..` in an absolute path and drop a trailing `/`.
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
}
