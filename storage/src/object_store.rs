//! [`DfsObjectStore`]: the block store as an `object_store::ObjectStore`, so
//! DataFusion scans and hiveql's writers use `dfs://HOST:PORT/path` locations
//! like any other store. Object paths are file paths under `/`; directories
//! are what list-with-delimiter calls common prefixes.
//!
//! Puts write a hidden temporary file and rename it into place, so readers
//! never see a partial object; a multipart upload streams its parts, in the
//! order they are given, into such a file as they come. Gets stream the
//! range block by block. As in other object stores there are no empty
//! directories: a delete removes the parents it leaves empty.

use std::fmt;
use std::ops::Range;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path;
use object_store::{
    CopyMode, CopyOptions, GetOptions, GetRange, GetResult, GetResultPayload, ListResult, MultipartId, MultipartUpload,
    ObjectMeta, ObjectStore, PutMode, PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions,
    RenameTargetMode, UploadPart,
};

use crate::client::FileStatus;
use crate::client::{DfsClient, FileWriter};
use crate::error::StorageError;
use crate::secret::Secret;

const STORE: &str = "dfs";

/// The block store of one namenode as an object store.
#[derive(Debug, Clone)]
pub struct DfsObjectStore {
    client: DfsClient,
    authority: String,
}

impl DfsObjectStore {
    /// A store for the namenode at `authority` (`host:port`), sending the
    /// cluster secret; connects on first use.
    pub fn new(authority: &str, secret: Secret) -> crate::Result<DfsObjectStore> {
        Ok(DfsObjectStore { client: DfsClient::new(authority, secret)?, authority: authority.to_string() })
    }

    /// This store with short-circuit reads on or off (see [`crate::client::reader`]).
    pub fn with_short_circuit(mut self, on: bool) -> DfsObjectStore {
        self.client.short_circuit = on;
        self
    }

    /// The block size of the file at `location` (scans split at block boundaries).
    pub async fn block_size(&self, location: &Path) -> crate::Result<u64> {
        Ok(self.client.clone().stat(&dfs_path(location)).await?.block_size)
    }

    /// The block size of the file at `location` and where each block is:
    /// its offset and the hosts of its replicas (scans split at block
    /// boundaries, and group the splits of a host together).
    pub async fn block_hosts(&self, location: &Path) -> crate::Result<(u64, Vec<(u64, Vec<String>)>)> {
        let located = self.client.clone().locate(&dfs_path(location)).await?;
        let blocks = located.blocks.iter().map(|b| (b.offset, b.hosts().map(String::from).collect())).collect();
        Ok((located.file.block_size, blocks))
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
        StorageError::AlreadyExists(_) => {
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

/// Whether `path` is a put or upload in progress (`.NAME.HEX.tmp`,
/// `.NAME.HEX.upload`): listings leave them out.
fn in_progress(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let Some(rest) = name.strip_prefix('.') else { return false };
    let Some((stem, kind)) = rest.rsplit_once('.') else { return false };
    let nonce = stem.rsplit_once('.').map_or("", |(_, n)| n);
    matches!(kind, "tmp" | "upload") && !nonce.is_empty() && nonce.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Clean-up after a failure that is being reported already (or after the
/// work is done): its own failure is logged, not returned.
fn cleanup(what: &str, result: crate::Result<()>) {
    if let Err(e) = result {
        tracing::warn!(error = %e, "{what} failed");
    }
}

fn meta(s: &FileStatus) -> ObjectMeta {
    ObjectMeta {
        location: object_path(&s.path),
        last_modified: chrono::DateTime::from_timestamp_millis(s.mtime as i64).unwrap_or_default(),
        size: s.len,
        e_tag: Some(format!("{:x}-{:x}", s.mtime, s.len)),
        version: None,
    }
}

impl DfsObjectStore {
    async fn file_status(&self, location: &Path) -> object_store::Result<FileStatus> {
        let s = self.client.clone().stat(&dfs_path(location)).await.map_err(|e| err(location, e))?;
        if s.is_dir {
            return Err(object_store::Error::NotFound {
                path: location.to_string(),
                source: "a directory, not an object".into(),
            });
        }
        Ok(s)
    }

    /// A hidden temporary name beside `location`, and a writer of it.
    async fn create_temporary(&self, location: &Path) -> object_store::Result<(String, FileWriter)> {
        let target = dfs_path(location);
        let (parent, name) = target.rsplit_once('/').unwrap_or(("", &target));
        let nonce =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let tmp = format!("{parent}/.{name}.{nonce:x}.tmp");
        let writer = self.client.clone().create(&tmp, false).await.map_err(|e| err(location, e))?;
        Ok((tmp, writer))
    }

    /// Close the temporary file `tmp` and move it to `location`; on any
    /// failure the temporary file goes.
    async fn publish(
        &self,
        tmp: &str,
        mut writer: FileWriter,
        location: &Path,
        create_only: bool,
    ) -> object_store::Result<PutResult> {
        let closed = writer.close().await.map_err(|e| err(location, e));
        let moved = match closed {
            Ok(()) => self.move_into_place(tmp, location, create_only).await,
            Err(e) => Err(e),
        };
        if moved.is_err() {
            cleanup("removing the temporary file of a failed put", self.client.clone().delete(tmp, false).await);
        }
        moved?;
        let s = self.file_status(location).await?;
        Ok(PutResult { e_tag: meta(&s).e_tag, version: None })
    }

    /// Write `data` to a temporary name and move it to `location`.
    async fn put_bytes(&self, location: &Path, data: Bytes, create_only: bool) -> object_store::Result<PutResult> {
        let (tmp, mut writer) = self.create_temporary(location).await?;
        if let Err(e) = writer.write(data).await {
            cleanup("abandoning a failed upload", writer.abort().await);
            return Err(err(location, e));
        }
        self.publish(&tmp, writer, location, create_only).await
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
        let (tmp, mut writer) = self.create_temporary(location).await?;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Part>();
        let path = location.clone();
        // Parts are written in the order they were given; each part's future
        // ends when it is in the pipeline (the caller's back-pressure).
        let task = tokio::spawn(async move {
            while let Some((part, done)) = rx.recv().await {
                for b in part.iter() {
                    if let Err(e) = writer.write(b.clone()).await {
                        let _ = done.send(Err(e.to_string()));
                        cleanup("abandoning a failed upload", writer.abort().await);
                        return Err(err(&path, e));
                    }
                }
                let _ = done.send(Ok(()));
            }
            Ok(writer)
        });
        Ok(Box::new(Upload { store: self.clone(), location: location.clone(), tmp, parts: Some(tx), task: Some(task) }))
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> object_store::Result<GetResult> {
        let located = match self.client.clone().locate(&dfs_path(location)).await {
            Ok(l) => l,
            // a directory is not an object
            Err(e @ StorageError::IsDirectory(_)) => {
                return Err(object_store::Error::NotFound { path: location.to_string(), source: Box::new(e) });
            }
            Err(e) => return Err(err(location, e)),
        };
        let s = &located.file;
        let meta = meta(s);
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
        let stream = if options.head {
            futures::stream::empty().boxed()
        } else {
            let path = location.clone();
            self.client
                .read_stream(located, range.start, range.end - range.start)
                .map_err(move |e| err(&path, e))
                .boxed()
        };
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
                for s in entries.into_iter().filter(|s| !in_progress(&s.path)) {
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
        for s in entries.into_iter().filter(|s| !in_progress(&s.path)) {
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
        let located = self.client.clone().locate(&dfs_path(from)).await.map_err(|e| err(from, e))?;
        if located.file.is_dir {
            return Err(object_store::Error::NotFound { path: from.to_string(), source: "a directory".into() });
        }
        let (tmp, mut writer) = self.create_temporary(to).await?;
        let mut chunks = std::pin::pin!(self.client.read_stream(located, 0, u64::MAX));
        while let Some(chunk) = chunks.next().await {
            let written = match chunk {
                Ok(c) => writer.write(c).await.map_err(|e| err(to, e)),
                Err(e) => Err(err(from, e)),
            };
            if let Err(e) = written {
                cleanup("abandoning a failed upload", writer.abort().await);
                return Err(e);
            }
        }
        self.publish(&tmp, writer, to, options.mode == CopyMode::Create).await.map(|_| ())
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

/// Uploads whose parts come in any order (S3's model): each part is a
/// hidden file in a hidden directory beside the target, and completing the
/// upload writes them in order into the object.
#[async_trait]
impl MultipartStore for DfsObjectStore {
    async fn create_multipart(&self, path: &Path) -> object_store::Result<MultipartId> {
        let nonce =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let id = format!("{nonce:x}");
        self.client.clone().mkdirs(&self.parts_dir(path, &id)).await.map_err(|e| err(path, e))?;
        Ok(id)
    }

    async fn put_part(
        &self,
        path: &Path,
        id: &MultipartId,
        part_idx: usize,
        data: PutPayload,
    ) -> object_store::Result<PartId> {
        let part = format!("{}/part-{part_idx:06}", self.parts_dir(path, id));
        let mut w = self.client.clone().create(&part, true).await.map_err(|e| err(path, e))?;
        for b in data.iter() {
            w.write(b.clone()).await.map_err(|e| err(path, e))?;
        }
        w.close().await.map_err(|e| err(path, e))?;
        Ok(PartId { content_id: part })
    }

    async fn complete_multipart(
        &self,
        path: &Path,
        id: &MultipartId,
        parts: Vec<PartId>,
    ) -> object_store::Result<PutResult> {
        let (tmp, mut writer) = self.create_temporary(path).await?;
        for part in &parts {
            let located = self.client.clone().locate(&part.content_id).await.map_err(|e| err(path, e))?;
            let mut chunks = std::pin::pin!(self.client.read_stream(located, 0, u64::MAX));
            while let Some(chunk) = chunks.next().await {
                let written = match chunk {
                    Ok(c) => writer.write(c).await,
                    Err(e) => Err(e),
                };
                if let Err(e) = written {
                    cleanup("abandoning a failed upload", writer.abort().await);
                    return Err(err(path, e));
                }
            }
        }
        let put = self.publish(&tmp, writer, path, false).await?;
        cleanup(
            "removing the parts of a completed upload",
            self.client.clone().delete(&self.parts_dir(path, id), true).await,
        );
        Ok(put)
    }

    async fn abort_multipart(&self, path: &Path, id: &MultipartId) -> object_store::Result<()> {
        match self.client.clone().delete(&self.parts_dir(path, id), true).await {
            Ok(()) | Err(StorageError::NotFound(_)) => Ok(()),
            Err(e) => Err(err(path, e)),
        }
    }
}

impl DfsObjectStore {
    /// Where the parts of upload `id` of `path` wait.
    fn parts_dir(&self, path: &Path, id: &str) -> String {
        let target = dfs_path(path);
        let (parent, name) = target.rsplit_once('/').unwrap_or(("", &target));
        format!("{parent}/.{name}.{id}.upload")
    }
}

type UploadTask = tokio::task::JoinHandle<object_store::Result<FileWriter>>;
/// A part, and where to say it was written.
type Part = (PutPayload, tokio::sync::oneshot::Sender<Result<(), String>>);

#[cfg(test)]
mod tests {
    #[test]
    fn puts_in_progress_are_recognised() {
        assert!(super::in_progress("/a/.x.csv.18f3a.tmp"));
        assert!(super::in_progress(".x.ab12.upload"));
        assert!(!super::in_progress("/a/.hidden"));
        assert!(!super::in_progress("/a/x.tmp"));
        assert!(!super::in_progress("/a/.x.notes.tmp"));
    }
}

/// A multipart upload: a task streams the parts into a temporary file, which
/// `complete` moves into place.
#[derive(Debug)]
struct Upload {
    store: DfsObjectStore,
    location: Path,
    tmp: String,
    parts: Option<tokio::sync::mpsc::UnboundedSender<Part>>,
    task: Option<UploadTask>,
}

impl Upload {
    fn failed(&self, what: &str) -> object_store::Error {
        object_store::Error::Generic { store: STORE, source: format!("upload of {}: {what}", self.location).into() }
    }
}

#[async_trait]
impl MultipartUpload for Upload {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        let Some(tx) = self.parts.clone() else {
            let e = self.failed("a part after complete or abort");
            return Box::pin(futures::future::ready(Err(e)));
        };
        let (done, written) = tokio::sync::oneshot::channel();
        let location = self.location.clone();
        let failed = move |why: String| object_store::Error::Generic {
            store: STORE,
            source: format!("upload of {location}: {why}").into(),
        };
        if tx.send((data, done)).is_err() {
            return Box::pin(futures::future::ready(Err(failed("the upload failed earlier".into()))));
        }
        Box::pin(async move {
            match written.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(why)) => Err(failed(why)),
                Err(_) => Err(failed("the upload was aborted".into())),
            }
        })
    }

    async fn complete(&mut self) -> object_store::Result<PutResult> {
        self.parts = None;
        let task = self.task.take().ok_or_else(|| self.failed("completed twice"))?;
        let writer = task.await.map_err(|e| self.failed(&e.to_string()))??;
        self.store.publish(&self.tmp, writer, &self.location, false).await
    }

    async fn abort(&mut self) -> object_store::Result<()> {
        self.parts = None;
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
        match self.store.client.clone().delete(&self.tmp, false).await {
            Ok(()) | Err(StorageError::NotFound(_)) => Ok(()),
            Err(e) => Err(err(&self.location, e)),
        }
    }
}
