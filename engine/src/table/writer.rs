//! Writing query results as a table's or directory's data files, as Hive
//! does: one file per writer task, named `000000_0`, `000001_0`, ... (with
//! `_copy_N` when a name is taken by an earlier `INSERT INTO`).
//!
//! Files are written into a hidden staging directory first and moved into
//! place only when every writer has finished, so a failed statement leaves
//! the existing data as it was; `OVERWRITE` removes the old files only then.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::execution::TaskContext;
use datafusion::parquet::arrow::AsyncArrowWriter;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};
use futures::StreamExt;
use object_store::buffered::BufWriter;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use tokio::io::AsyncWriteExt;
use tokio::task::JoinSet;

use super::listing::{list_all, list_data_files};
use crate::error::{HiveError, Result};
use crate::location::Location;
use crate::serde::TableFormat;

/// Text is handed to the object store in pieces of this size.
const WRITE_BUFFER: usize = 8 << 20;

/// What a write did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct WriteResult {
    pub rows: u64,
    pub files: Vec<String>,
}

/// Run `plan` and write its rows into `dir` in `format`; with `overwrite`
/// the directory's previous data files are replaced.
pub async fn write_plan(
    ctx: Arc<TaskContext>,
    plan: Arc<dyn ExecutionPlan>,
    store: Arc<dyn ObjectStore>,
    dir: &Location,
    format: &TableFormat,
    overwrite: bool,
) -> Result<WriteResult> {
    let location = dir.child(&format!(".hive-staging_{}_{}", std::process::id(), unique()));
    let mut staging = Staging { store: store.clone(), location, writers: JoinSet::new(), handed_over: false };
    let staged = staging.write(ctx, plan, format).await?;
    // From here the statement can no longer be cancelled half-way: the files
    // are moved into place by a task of their own, which runs to the end
    // even if the statement's task is aborted meanwhile (Ctrl-C), so a
    // cancelled INSERT shows all of its rows or none.
    staging.handed_over = true;
    let (dir, location) = (dir.clone(), staging.location.clone());
    let publishing = tokio::spawn(async move {
        let result = publish(store.as_ref(), &dir, staged, overwrite).await;
        remove_dir(store.as_ref(), &location).await;
        result
    });
    publishing.await.map_err(|e| HiveError::Internal(format!("publishing the written files: {e}")))?
}

/// A hidden staging directory and the writer tasks filling it.
///
/// Dropped before its files were handed over to publishing (the write
/// failed, or its statement was cancelled), it aborts the writers and
/// removes the directory once every writer has stopped: a writer still
/// running when the directory is removed would create it again.
struct Staging {
    store: Arc<dyn ObjectStore>,
    location: Location,
    writers: JoinSet<Result<(usize, Path, u64)>>,
    handed_over: bool,
}

impl Staging {
    /// Write each output partition of `plan` into its own file here; the
    /// written files (partition, path, rows) in partition order.
    async fn write(
        &mut self,
        ctx: Arc<TaskContext>,
        plan: Arc<dyn ExecutionPlan>,
        format: &TableFormat,
    ) -> Result<Vec<(usize, Path, u64)>> {
        for part in 0..plan.output_partitioning().partition_count() {
            let (ctx, plan, store, format) = (ctx.clone(), plan.clone(), self.store.clone(), format.clone());
            let path = self.location.path.clone().join(format!("{part:06}_0"));
            self.writers.spawn(async move {
                let rows = write_partition(ctx, plan, part, store, &path, &format).await?;
                Ok((part, path, rows))
            });
        }
        let mut out = Vec::new();
        while let Some(joined) = self.writers.join_next().await {
            let (part, path, rows) = joined.map_err(|e| HiveError::Internal(format!("writer task failed: {e}")))??;
            if rows > 0 {
                out.push((part, path, rows));
            }
        }
        out.sort_by_key(|(p, ..)| *p);
        Ok(out)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if self.handed_over {
            return;
        }
        let mut writers = std::mem::take(&mut self.writers);
        writers.abort_all();
        let (store, location) = (self.store.clone(), self.location.clone());
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    while writers.join_next().await.is_some() {}
                    remove_dir(store.as_ref(), &location).await;
                });
            }
            Err(_) => tracing::warn!(dir = %location, "staging directory left behind: no runtime to remove it"),
        }
    }
}

fn unique() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

async fn write_partition(
    ctx: Arc<TaskContext>,
    plan: Arc<dyn ExecutionPlan>,
    part: usize,
    store: Arc<dyn ObjectStore>,
    path: &Path,
    format: &TableFormat,
) -> Result<u64> {
    let mut stream = plan.execute(part, ctx)?;
    let schema: SchemaRef = stream.schema();
    let mut rows = 0u64;
    match format {
        TableFormat::Text(text) => {
            let mut writer: Option<BufWriter> = None;
            let mut buf = Vec::with_capacity(WRITE_BUFFER);
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                rows += batch.num_rows() as u64;
                text.write_batch(&batch, &mut buf)?;
                if buf.len() >= WRITE_BUFFER {
                    let w = writer.get_or_insert_with(|| BufWriter::new(store.clone(), path.clone()));
                    w.write_all(&buf).await.map_err(|e| crate::error::io_err(format!("writing {path}"), e))?;
                    buf.clear();
                }
            }
            if rows > 0 {
                let w = writer.get_or_insert_with(|| BufWriter::new(store.clone(), path.clone()));
                w.write_all(&buf).await.map_err(|e| crate::error::io_err(format!("writing {path}"), e))?;
                w.shutdown().await.map_err(|e| crate::error::io_err(format!("writing {path}"), e))?;
            }
        }
        TableFormat::Parquet => {
            let mut writer: Option<AsyncArrowWriter<BufWriter>> = None;
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                if batch.num_rows() == 0 {
                    continue;
                }
                rows += batch.num_rows() as u64;
                let w = match &mut writer {
                    Some(w) => w,
                    None => writer.insert(
                        AsyncArrowWriter::try_new(BufWriter::new(store.clone(), path.clone()), schema.clone(), None)
                            .map_err(datafusion::error::DataFusionError::from)?,
                    ),
                };
                w.write(&batch).await.map_err(datafusion::error::DataFusionError::from)?;
            }
            if let Some(w) = writer {
                w.close().await.map_err(datafusion::error::DataFusionError::from)?;
            }
        }
    }
    Ok(rows)
}

/// Move staged files into `dir` (after removing its data files when overwriting).
async fn publish(
    store: &dyn ObjectStore,
    dir: &Location,
    staged: Vec<(usize, Path, u64)>,
    overwrite: bool,
) -> Result<WriteResult> {
    let existing = list_data_files(store, dir).await?;
    let mut taken: HashSet<String> = HashSet::new();
    if overwrite {
        for f in &existing {
            store.delete(&f.location).await?;
        }
    } else {
        taken.extend(existing.iter().filter_map(|f| f.location.filename().map(str::to_string)));
    }
    let mut result = WriteResult::default();
    for (part, from, rows) in staged {
        let name = publish_file(store, &from, dir, &format!("{part:06}_0"), &mut taken).await?;
        result.rows += rows;
        result.files.push(name);
    }
    Ok(result)
}

/// Move `from` into `dir` as `base`, or `base_copy_N` for the first N whose
/// name is free. Never replaces a file: another writer may be publishing
/// into the same directory at the same time.
pub async fn publish_file(
    store: &dyn ObjectStore,
    from: &Path,
    dir: &Location,
    base: &str,
    taken: &mut HashSet<String>,
) -> Result<String> {
    let mut k = 0;
    loop {
        let name = if k == 0 { base.to_string() } else { format!("{base}_copy_{k}") };
        k += 1;
        if taken.contains(&name) {
            continue;
        }
        let to = dir.path.clone().join(name.as_str());
        match store.rename_if_not_exists(from, &to).await {
            Ok(()) => {
                taken.insert(name.clone());
                return Ok(name);
            }
            Err(object_store::Error::AlreadyExists { .. }) => {
                taken.insert(name);
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Delete a directory and everything under it, best effort: what cannot
/// be removed is logged, not reported (the statement's outcome is decided).
pub async fn remove_dir(store: &dyn ObjectStore, dir: &Location) {
    match list_all(store, dir).await {
        Ok(all) => {
            for o in all {
                if let Err(e) = store.delete(&o.location).await {
                    tracing::warn!(file = %o.location, error = %e, "could not remove a staging file");
                }
            }
        }
        Err(e) => tracing::warn!(dir = %dir, error = %e, "could not list a staging directory to remove it"),
    }
    if let Some(p) = dir.local_path()
        && let Err(e) = std::fs::remove_dir_all(&p)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(dir = %p.display(), error = %e, "could not remove a staging directory");
    }
}

/// Delete the data of a directory: its files, and the directory when local.
pub async fn delete_data(store: &dyn ObjectStore, dir: &Location) -> Result<()> {
    for o in list_all(store, dir).await? {
        store.delete(&o.location).await?;
    }
    if let Some(p) = dir.local_path()
        && p.exists()
    {
        std::fs::remove_dir_all(&p).map_err(|e| crate::error::io_err(format!("deleting {}", p.display()), e))?;
    }
    Ok(())
}

/// Remove the data files (not hidden ones) directly in `dir`.
pub async fn truncate_dir(store: &dyn ObjectStore, dir: &Location) -> Result<()> {
    for f in list_data_files(store, dir).await? {
        store.delete(&f.location).await?;
    }
    Ok(())
}
