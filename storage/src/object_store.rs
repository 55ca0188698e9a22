//! [`DfsObjectStore`]: the block store as an `object_store::ObjectStore`, so
//! DataFusion scans and hiveql's writers use `dfs://HOST:PORT/path` locations
//! like any other store. Object paths are file paths under `/`; directories
//! are what list-with-delimiter calls common prefixes.
//!
//! Puts write a hidden temporary file and rename it into place, so readers
//! never see a partial object; a multipart upload collects its parts and
//! puts them on completion. As in other object stores there are no empty
//! directories: a delete removes the parents it leaves empty.

use std::fmt;
use std::ops::Range;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{
    CopyMode, CopyOptions, GetOptions, GetRange, GetResult, GetResultPayload, ListResult, MultipartUpload, ObjectMeta,
    ObjectStore, PutMode, PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions, RenameTargetMode,
    UploadPart,
};

use crate::client::DfsClient;
use crate::error::StorageError;
use crate::rpc::messages::PathStatus;

const STORE: &str = "dfs";

/// The block store of one namenode as an object store.
#[derive(Debug, Clone)]
pub struct DfsObjectStore {
    client: DfsClient,
    authority: String,
}

impl DfsObjectStore {
    /// A store for the namenode at `authority` (`host:port`); connects on first use.
    pub fn new(authority: &str) -> crate::Result<DfsObjectStore> {
        Ok(DfsObjectStore { client: DfsClient::lazy(authority)?, authority: authority.to_string() })
    }
}

impl fmt::Display for DfsObjectStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DfsObjectStore(dfs://{})", self.authority)
    }
}

fn dfs_path(p: &Path) -> String {
    format!("/{p}")
}

fn err(path: &Path, e: StorageError) -> object_store::Error {
    match e {
        StorageError::NotFound(_) => object_store::Error::NotFound { path: path.to_string(), source: Box::new(e) },
        StorageError::Namespace(ref m) if m.ends_with(" exists") => {
            object_store::Error::AlreadyExists { path: path.to_string(), source: Box::new(e) }
        }
        other => object_store::Error::Generic { store: STORE, source: Box::new(other) },
    }
}

/// The object path of a file path; names are stored as `Path` writes its
/// segments (percent-encoded where needed), so they parse back unchanged.
fn object_path(path: &str) -> Path {
    let p = path.trim_start_matches('/');
    Path::parse(p).unwrap_or_else(|_| Path::from(p))
}

fn meta(s: &PathStatus) -> ObjectMeta {
    ObjectMeta {
        location: object_path(&s.path),
        last_modified: chrono::DateTime::from_timestamp_millis(s.mtime as i64).unwrap_or_default(),
        size: s.len,
        e_tag: Some(format!("{:x}-{:x}", s.mtime, s.len)),
        version: None,
    }
}

impl DfsObjectStore {
    async fn file_status(&self, location: &Path) -> object_store::Result<PathStatus> {
        let s = self.client.clone().stat(&dfs_path(location)).await.map_err(|e| err(location, e))?;
        if s.is_dir {
            return Err(object_store::Error::NotFound {
                path: location.to_string(),
                source: "a directory, not an object".into(),
            });
        }
        Ok(s)
    }

    /// Write `data` to a temporary name and move it to `location`.
    async fn put_bytes(&self, location: &Path, data: Bytes, create_only: bool) -> object_store::Result<PutResult> {
        let mut c = self.client.clone();
        let target = dfs_path(location);
        let (parent, name) = target.rsplit_once('/').unwrap_or(("", &target));
        let nonce =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let tmp = format!("{parent}/.{name}.{nonce:x}.tmp");
        c.write(&tmp, data, false).await.map_err(|e| err(location, e))?;
        let moved = self.move_into_place(&tmp, location, create_only).await;
        if moved.is_err() {
            let _ = c.delete(&tmp, false).await;
        }
        moved?;
        let s = self.file_status(location).await?;
        Ok(PutResult { e_tag: meta(&s).e_tag, version: None })
    }

    /// An object store has no empty directories: remove the parents of
    /// `path` that are left empty (after a delete or a rename away).
    async fn prune_empty_parents(&self, path: &str) {
        let mut c = self.client.clone();
        let mut dir = path.rsplit_once('/').map(|(d, _)| d.to_string()).unwrap_or_default();
        while !dir.is_empty() {
            match c.list(&dir).await {
                Ok(entries) if entries.is_empty() => {
                    if c.delete(&dir, false).await.is_err() {
                        break;
                    }
                }
                _ => break,
            }
            dir = dir.rsplit_once('/').map(|(d, _)| d.to_string()).unwrap_or_default();
        }
    }

    async fn move_into_place(&self, from: &str, to: &Path, create_only: bool) -> object_store::Result<()> {
        let mut c = self.client.clone();
        let target = dfs_path(to);
        if !create_only {
            match c.stat(&target).await {
                Ok(s) if !s.is_dir => c.delete(&target, false).await.map_err(|e| err(to, e))?,
                _ => {}
            }
        }
        c.rename(from, &target).await.map_err(|e| err(to, e))
    }
}

#[async_trait]
impl ObjectStore for DfsObjectStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        let create_only = match opts.mode {
            PutMode::Overwrite => false,
            PutMode::Create => true,
            PutMode::Update(_) => {
                return Err(object_store::Error::NotImplemented {
                    operation: "put with PutMode::Update".into(),
                    implementer: STORE.into(),
                });
            }
        };
        self.put_bytes(location, Bytes::from(payload), create_only).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        _opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        Ok(Box::new(Upload { store: self.clone(), location: location.clone(), parts: Vec::new() }))
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> object_store::Result<GetResult> {
        let s = self.file_status(location).await?;
        let meta = meta(&s);
        options.check_preconditions(&meta)?;
        let range: Range<u64> = match &options.range {
            None => 0..s.len,
            Some(GetRange::Bounded(r)) => {
                if r.start > r.end || r.start >= s.len.max(1) && s.len > 0 {
                    return Err(object_store::Error::Generic {
                        store: STORE,
                        source: format!("range {r:?} is outside {location} ({} bytes)", s.len).into(),
                    });
                }
                r.start..r.end.min(s.len)
            }
            Some(GetRange::Offset(o)) => {
                if *o >= s.len && s.len > 0 {
                    return Err(object_store::Error::Generic {
                        store: STORE,
                        source: format!("offset {o} is outside {location} ({} bytes)", s.len).into(),
                    });
                }
                (*o).min(s.len)..s.len
            }
            Some(GetRange::Suffix(n)) => s.len.saturating_sub(*n)..s.len,
        };
        let data = if options.head {
            Bytes::new()
        } else {
            let d = self.client.clone().read_range(&s.path, range.start, range.end - range.start).await;
            Bytes::from(d.map_err(|e| err(location, e))?)
        };
        let stream = futures::stream::once(async move { Ok(data) }).boxed();
        Ok(GetResult { payload: GetResultPayload::Stream(stream), meta, range, attributes: Default::default() })
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        let store = self.clone();
        locations
            .and_then(move |p| {
                let store = store.clone();
                async move {
                    let mut c = store.client.clone();
                    let path = dfs_path(&p);
                    match c.delete(&path, false).await {
                        Ok(()) | Err(StorageError::NotFound(_)) => {}
                        Err(e) => return Err(err(&p, e)),
                    }
                    store.prune_empty_parents(&path).await;
                    Ok(p)
                }
            })
            .boxed()
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        let client = self.client.clone();
        let root = prefix.map(dfs_path).unwrap_or_else(|| "/".into());
        let walk = async move {
            let mut c = client;
            let mut out = Vec::new();
            let mut todo = vec![root];
            while let Some(dir) = todo.pop() {
                let entries = match c.list(&dir).await {
                    Ok(e) => e,
                    Err(StorageError::NotFound(_)) => continue,
                    Err(e) => return Err(object_store::Error::Generic { store: STORE, source: Box::new(e) }),
                };
                for s in entries {
                    if s.is_dir {
                        todo.push(s.path.clone());
                    } else if s.path != dir {
                        out.push(Ok(meta(&s)));
                    }
                }
            }
            Ok(futures::stream::iter(out))
        };
        futures::stream::once(walk).try_flatten().boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        let dir = prefix.map(dfs_path).unwrap_or_else(|| "/".into());
        let entries = match self.client.clone().list(&dir).await {
            Ok(e) => e,
            Err(StorageError::NotFound(_)) => Vec::new(),
            Err(e) => return Err(object_store::Error::Generic { store: STORE, source: Box::new(e) }),
        };
        let mut result = ListResult { common_prefixes: Vec::new(), objects: Vec::new() };
        for s in entries {
            if s.path == dir {
                continue; // the prefix names a file, not a directory
            }
            if s.is_dir {
                result.common_prefixes.push(object_path(&s.path));
            } else {
                result.objects.push(meta(&s));
            }
        }
        Ok(result)
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> object_store::Result<()> {
        let s = self.file_status(from).await?;
        let data = self.client.clone().read(&s.path).await.map_err(|e| err(from, e))?;
        self.put_bytes(to, Bytes::from(data), options.mode == CopyMode::Create).await.map(|_| ())
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> object_store::Result<()> {
        self.file_status(from).await?;
        let mut c = self.client.clone();
        let target = dfs_path(to);
        if let Some((parent, _)) = target.rsplit_once('/')
            && !parent.is_empty()
        {
            c.mkdirs(parent).await.map_err(|e| err(to, e))?;
        }
        let source = dfs_path(from);
        self.move_into_place(&source, to, options.target_mode == RenameTargetMode::Create).await?;
        self.prune_empty_parents(&source).await;
        Ok(())
    }
}

/// A multipart upload: parts are kept until `complete` puts them as one object.
#[derive(Debug)]
struct Upload {
    store: DfsObjectStore,
    location: Path,
    parts: Vec<PutPayload>,
}

#[async_trait]
impl MultipartUpload for Upload {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        self.parts.push(data);
        Box::pin(futures::future::ready(Ok(())))
    }

    async fn complete(&mut self) -> object_store::Result<PutResult> {
        let mut all = Vec::new();
        for p in self.parts.drain(..) {
            for b in p.iter() {
                all.extend_from_slice(b);
            }
        }
        self.store.put_bytes(&self.location, Bytes::from(all), false).await
    }

    async fn abort(&mut self) -> object_store::Result<()> {
        self.parts.clear();
        Ok(())
    }
}
