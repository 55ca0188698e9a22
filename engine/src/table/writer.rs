//! Writing query results as a table's or directory's data files, as Hive
//! does: one file per writer task, named `000000_0`, `000001_0`, ... (with
//! `_copy_N` when a name is taken by an earlier `INSERT INTO`).
//!
//! Files are written into a hidden staging directory first and moved into
//! place only when every writer has finished, so a failed statement leaves
//! the existing data as it was; `OVERWRITE` removes the old files only then.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::parquet::arrow::AsyncArrowWriter;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};
use futures::StreamExt;
use object_store::buffered::BufWriter;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use tokio::io::AsyncWriteExt;
use tokio::task::JoinSet;

use super::listing::{list_all, list_data_files};
use super::write_task::WriteTaskExec;
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
    /// For a [`Destination::Replace`]: the new directory the files are in.
    pub replacement: Option<Location>,
    /// The cluster whose tasks wrote the files, if not this process.
    pub cluster: Option<String>,
}

impl WriteResult {
    /// Where the files were written, for the statement's message: empty
    /// in-process, ` by the tasks of cluster HOST:PORT` on a cluster.
    pub fn written_by(&self) -> String {
        self.cluster.as_ref().map(|c| format!(" by the tasks of cluster {c}")).unwrap_or_default()
    }
}

/// Where a partition's written files go.
#[derive(Debug, Clone)]
pub enum Destination {
    /// Into this directory (next to its files, or replacing them when overwriting).
    Into(Location),
    /// Replacing the partition that lives in this directory: into a new
    /// directory ([`crate::partition::swap`]), which the caller swaps in.
    Replace(Location),
}

/// A function that runs a plan somewhere else (on a cluster) and returns
/// its rows.
pub type RunPlan = Box<
    dyn FnOnce(Arc<dyn ExecutionPlan>) -> futures::future::BoxFuture<'static, Result<SendableRecordBatchStream>> + Send,
>;

/// Where a write's writer tasks run.
pub enum WriteTasks {
    /// In this process: a task per partition of the plan.
    Local(Arc<TaskContext>),
    /// On the cluster `cluster`, which `run` sends the plan to: the plan
    /// goes there under a [`WriteTaskExec`], whose tasks write the files
    /// and return their names.
    Remote {
        /// The cluster's scheduler, `HOST:PORT`.
        cluster: String,
        /// Runs a plan there.
        run: RunPlan,
    },
}

/// Run `plan` and write its rows into `dir` in `format`; with `overwrite`
/// the directory's previous data files are replaced.
pub async fn write_plan(
    tasks: WriteTasks,
    plan: Arc<dyn ExecutionPlan>,
    store: Arc<dyn ObjectStore>,
    dir: &Location,
    format: &TableFormat,
    overwrite: bool,
) -> Result<WriteResult> {
    let mut staging = Staging::new(store.clone(), dir);
    let cluster = match &tasks {
        WriteTasks::Remote { cluster, .. } => Some(cluster.clone()),
        WriteTasks::Local(_) => None,
    };
    let staged = staging.write(tasks, plan, format).await?;
    // From here the statement can no longer be cancelled half-way: the files
    // are moved into place by a task of their own, which runs to the end
    // even if the statement's task is aborted meanwhile (Ctrl-C), so a
    // cancelled INSERT shows all of its rows or none.
    staging.handed_over = true;
    let (dir, location) = (dir.clone(), staging.location.clone());
    let publishing = tokio::spawn(async move {
        let result = publish(store.as_ref(), &dir, staged, overwrite).await;
        remove_dir(store.as_ref(), &location).await;
        result.map(|r| WriteResult { cluster, ..r })
    });
    publishing.await.map_err(|e| HiveError::Internal(format!("publishing the written files: {e}")))?
}

/// A hidden staging directory and the writer tasks filling it (each
/// task's result is a `T`).
///
/// Dropped before its files were handed over to publishing (the write
/// failed, or its statement was cancelled), it aborts the writers and
/// removes the directory once every writer has stopped: a writer still
/// running when the directory is removed would create it again.
struct Staging<T: Send + 'static> {
    store: Arc<dyn ObjectStore>,
    location: Location,
    writers: JoinSet<Result<T>>,
    handed_over: bool,
}

impl<T: Send + 'static> Staging<T> {
    fn new(store: Arc<dyn ObjectStore>, dir: &Location) -> Self {
        let location = dir.child(&format!(".hive-staging_{}_{}", std::process::id(), crate::unique()));
        Staging { store, location, writers: JoinSet::new(), handed_over: false }
    }

    /// Every writer's result, or the first failure.
    async fn join_all(&mut self) -> Result<Vec<T>> {
        let mut out = Vec::new();
        while let Some(joined) = self.writers.join_next().await {
            out.push(joined.map_err(|e| HiveError::Internal(format!("writer task failed: {e}")))??);
        }
        Ok(out)
    }
}

impl Staging<(usize, Path, u64)> {
    /// Write each output partition of `plan` into its own file here; the
    /// written files (partition, path, rows) in partition order.
    async fn write(
        &mut self,
        tasks: WriteTasks,
        plan: Arc<dyn ExecutionPlan>,
        format: &TableFormat,
    ) -> Result<Vec<(usize, Path, u64)>> {
        let ctx = match tasks {
            WriteTasks::Local(ctx) => ctx,
            WriteTasks::Remote { run, .. } => {
                let exec = Arc::new(WriteTaskExec::new(plan, self.location.clone(), format.clone()));
                let batches = datafusion::physical_plan::common::collect(run(exec).await?).await?;
                let mut out: Vec<_> =
                    WriteTaskExec::read_results(&batches)?.into_iter().filter(|(.., rows)| *rows > 0).collect();
                out.sort_by_key(|(p, ..)| *p);
                return Ok(out);
            }
        };
        for part in 0..plan.output_partitioning().partition_count() {
            let (ctx, plan, store, format) = (ctx.clone(), plan.clone(), self.store.clone(), format.clone());
            let path = self.location.path.clone().join(format!("{part:06}_0"));
            self.writers.spawn(async move {
                let rows = write_partition(ctx, plan, part, store, &path, &format).await?;
                Ok((part, path, rows))
            });
        }
        let mut out: Vec<_> = self.join_all().await?.into_iter().filter(|(.., rows)| *rows > 0).collect();
        out.sort_by_key(|(p, ..)| *p);
        Ok(out)
    }
}

impl<T: Send + 'static> Drop for Staging<T> {
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

/// One data file being written, in a table's format.
// One value per open file: the size of its variants does not matter.
#[allow(clippy::large_enum_variant)]
enum FileWriter {
    Text {
        text: crate::serde::TextFormat,
        buf: Vec<u8>,
        out: Option<BufWriter>,
        store: Arc<dyn ObjectStore>,
        path: Path,
    },
    Parquet {
        writer: Option<AsyncArrowWriter<BufWriter>>,
        store: Arc<dyn ObjectStore>,
        path: Path,
    },
}

impl FileWriter {
    fn new(format: &TableFormat, store: Arc<dyn ObjectStore>, path: Path) -> FileWriter {
        match format {
            TableFormat::Text(text) => {
                FileWriter::Text { text: text.clone(), buf: Vec::with_capacity(WRITE_BUFFER), out: None, store, path }
            }
            TableFormat::Parquet => FileWriter::Parquet { writer: None, store, path },
        }
    }

    /// Add rows; the file is created with the first of them.
    async fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        match self {
            FileWriter::Text { text, buf, out, store, path } => {
                text.write_batch(batch, buf)?;
                if buf.len() >= WRITE_BUFFER {
                    let w = out.get_or_insert_with(|| BufWriter::new(store.clone(), path.clone()));
                    w.write_all(buf).await.map_err(|e| crate::error::io_err(format!("writing {path}"), e))?;
                    buf.clear();
                }
            }
            FileWriter::Parquet { writer, store, path } => {
                let w = match writer {
                    Some(w) => w,
                    None => writer.insert(
                        AsyncArrowWriter::try_new(BufWriter::new(store.clone(), path.clone()), batch.schema(), None)
                            .map_err(datafusion::error::DataFusionError::from)?,
                    ),
                };
                w.write(batch).await.map_err(datafusion::error::DataFusionError::from)?;
            }
        }
        Ok(())
    }

    /// Complete the file (if any row was written).
    async fn finish(self) -> Result<()> {
        match self {
            FileWriter::Text { buf, mut out, store, path, .. } => {
                if out.is_none() && buf.is_empty() {
                    return Ok(());
                }
                let w = out.get_or_insert_with(|| BufWriter::new(store.clone(), path.clone()));
                w.write_all(&buf).await.map_err(|e| crate::error::io_err(format!("writing {path}"), e))?;
                w.shutdown().await.map_err(|e| crate::error::io_err(format!("writing {path}"), e))?;
            }
            FileWriter::Parquet { writer, .. } => {
                if let Some(w) = writer {
                    w.close().await.map_err(datafusion::error::DataFusionError::from)?;
                }
            }
        }
        Ok(())
    }
}

pub(crate) async fn write_partition(
    ctx: Arc<TaskContext>,
    plan: Arc<dyn ExecutionPlan>,
    part: usize,
    store: Arc<dyn ObjectStore>,
    path: &Path,
    format: &TableFormat,
) -> Result<u64> {
    let mut stream = plan.execute(part, ctx)?;
    let mut rows = 0u64;
    let mut file = FileWriter::new(format, store, path.clone());
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        rows += batch.num_rows() as u64;
        file.write(&batch).await?;
    }
    file.finish().await?;
    Ok(rows)
}

/// The values of the dynamic partition keys of one row.
pub type PartitionValues = Vec<Option<String>>;

/// The shape of a partitioned (or bucketed) write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SplitWrite {
    /// The plan's first columns are the data; then come the dynamic
    /// partition keys, then (when `bucketed`) the bucket number (INT).
    pub data_columns: usize,
    /// Each row's last column is its bucket: the rows of bucket `b` go to
    /// the file named `b` (`00000b_0`), as Hive names bucket files.
    pub bucketed: bool,
    /// The most partitions one writer task may create (`hive.exec.max.dynamic.partitions.pernode`).
    pub per_task: usize,
    /// The most partitions the statement may create (`hive.exec.max.dynamic.partitions`).
    pub total: usize,
}

/// Files one writer task wrote for one partition: (file number: the task,
/// or the bucket; file; rows).
pub type StagedFile = (usize, Path, u64);

/// Run `plan`, whose last columns are dynamic partition keys, and write
/// the other columns of each row into the partition its keys name; then
/// move each partition's files into the directory `destination` gives it
/// (replacing its data files with `overwrite`). Staging and publishing are
/// as for [`write_plan`]: nothing is moved unless every writer succeeded.
/// Returns each written partition's values and result.
#[allow(clippy::too_many_arguments)]
pub async fn write_dynamic_partitions(
    tasks: WriteTasks,
    plan: Arc<dyn ExecutionPlan>,
    store: Arc<dyn ObjectStore>,
    staging_dir: &Location,
    format: &TableFormat,
    split: SplitWrite,
    destination: impl Fn(&PartitionValues) -> Result<Destination>,
    overwrite: bool,
) -> Result<Vec<(PartitionValues, WriteResult)>> {
    format.check_writable()?;
    let mut staging: Staging<Vec<(PartitionValues, StagedFile)>> = Staging::new(store.clone(), staging_dir);
    let (written, cluster) = match tasks {
        WriteTasks::Local(ctx) => {
            for part in 0..plan.output_partitioning().partition_count() {
                let (ctx, plan, store, format) = (ctx.clone(), plan.clone(), store.clone(), format.clone());
                let dir = staging.location.clone();
                staging
                    .writers
                    .spawn(async move { write_dynamic_task(ctx, plan, part, store, &dir, &format, split).await });
            }
            (staging.join_all().await?.into_iter().flatten().collect::<Vec<_>>(), None)
        }
        // the tasks of the query's last stage write the files where they run
        WriteTasks::Remote { cluster, run } => {
            let exec = WriteTaskExec::new(plan, staging.location.clone(), format.clone()).with_split(split);
            let batches = datafusion::physical_plan::common::collect(run(Arc::new(exec)).await?).await?;
            (WriteTaskExec::read_split_results(&batches)?, Some(cluster))
        }
    };
    let mut by_partition: std::collections::BTreeMap<PartitionValues, Vec<StagedFile>> = Default::default();
    for (values, file) in written {
        by_partition.entry(values).or_default().push(file);
    }
    if by_partition.len() > split.total {
        return Err(HiveError::Semantic(format!(
            "Number of dynamic partitions created is {}, which is more than {}. To solve this try to set hive.exec.max.dynamic.partitions to at least {}.",
            by_partition.len(),
            split.total,
            by_partition.len()
        )));
    }
    let mut targets = Vec::new();
    for (values, mut files) in by_partition {
        files.sort_by_key(|(p, ..)| *p);
        targets.push((destination(&values)?, values, files));
    }
    staging.handed_over = true;
    let location = staging.location.clone();
    let publishing = tokio::spawn(async move {
        let mut out = Vec::new();
        let mut result = Ok(());
        for (destination, values, files) in targets {
            let published = match destination {
                Destination::Into(dir) => publish(store.as_ref(), &dir, files, overwrite).await,
                Destination::Replace(current) => {
                    match crate::partition::swap::overwrite_target(store.as_ref(), &current).await {
                        Ok(fresh) => match fresh.make_local_dir() {
                            Ok(()) => publish(store.as_ref(), &fresh, files, false).await.map(|mut w| {
                                w.replacement = Some(fresh);
                                w
                            }),
                            Err(e) => Err(e),
                        },
                        Err(e) => Err(e),
                    }
                }
            };
            match published {
                Ok(w) => out.push((values, WriteResult { cluster: cluster.clone(), ..w })),
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        remove_dir(store.as_ref(), &location).await;
        if result.is_err() {
            // The replacements no partition names yet: the old partitions stay.
            for (_, w) in &out {
                if let Some(fresh) = &w.replacement {
                    remove_dir(store.as_ref(), fresh).await;
                }
            }
        }
        result.map(|()| out)
    });
    publishing.await.map_err(|e| HiveError::Internal(format!("publishing the written files: {e}")))?
}

/// A partition key's text at `row`: NULL and '' are the default partition (`None`).
fn key_value(k: &StringArray, row: usize) -> Option<&str> {
    if k.is_null(row) { None } else { Some(k.value(row)) }.filter(|s| !s.is_empty())
}

/// Hive's text of each value of a partition key column: arrow's cast
/// where it prints as Hive does (integers, strings, dates), Hive's
/// printing otherwise (doubles, timestamps, decimals, booleans).
fn key_text(column: &dyn Array) -> Result<StringArray> {
    use datafusion::arrow::datatypes::DataType;
    match column.data_type() {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Date32 => {
            let cast = datafusion::arrow::compute::cast(column, &DataType::Utf8)
                .map_err(datafusion::error::DataFusionError::from)?;
            cast.as_any()
                .downcast_ref::<StringArray>()
                .cloned()
                .ok_or_else(|| HiveError::Internal("a cast to Utf8 gave no StringArray".into()))
        }
        _ => Ok((0..column.len()).map(|row| crate::value::format_value(column, row)).collect()),
    }
}

/// One writer task of [`write_dynamic_partitions`]: one file per
/// partition (and bucket) its rows fall into.
pub(crate) async fn write_dynamic_task(
    ctx: Arc<TaskContext>,
    plan: Arc<dyn ExecutionPlan>,
    part: usize,
    store: Arc<dyn ObjectStore>,
    staging: &Location,
    format: &TableFormat,
    split: SplitWrite,
) -> Result<Vec<(PartitionValues, StagedFile)>> {
    use datafusion::arrow::compute::{SortColumn, lexsort_to_indices, take};
    use datafusion::arrow::datatypes::Int32Type;
    let data_columns = split.data_columns;
    let mut stream = plan.execute(part, ctx)?;
    let data_schema = Arc::new(
        stream
            .schema()
            .project(&(0..data_columns).collect::<Vec<_>>())
            .map_err(datafusion::error::DataFusionError::from)?,
    );
    type Group = (PartitionValues, Option<u32>);
    let mut files: std::collections::HashMap<Group, (FileWriter, Path, u64)> = Default::default();
    let mut partitions: std::collections::HashSet<PartitionValues> = Default::default();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let key_end = batch.num_columns() - split.bucketed as usize;
        let keys: Vec<StringArray> =
            batch.columns()[data_columns..key_end].iter().map(|k| key_text(k.as_ref())).collect::<Result<_>>()?;
        let buckets = split.bucketed.then(|| batch.column(key_end).as_primitive::<Int32Type>().clone());
        // Sort the rows by (keys, bucket) so each group is one run: one
        // `take` per column per batch, then zero-copy slices (grouping row by
        // row in a hash map cost twice as much at 100 partitions).
        let mut sort_columns: Vec<SortColumn> =
            keys.iter().map(|k| SortColumn { values: Arc::new(k.clone()) as ArrayRef, options: None }).collect();
        if let Some(b) = &buckets {
            sort_columns.push(SortColumn { values: Arc::new(b.clone()) as ArrayRef, options: None });
        }
        let order = lexsort_to_indices(&sort_columns, None).map_err(datafusion::error::DataFusionError::from)?;
        let sorted = |a: &dyn Array| take(a, &order, None).map_err(datafusion::error::DataFusionError::from);
        let data = batch.columns()[..data_columns].iter().map(|c| sorted(c.as_ref())).collect::<Result<Vec<_>, _>>()?;
        let keys: Vec<StringArray> = keys
            .iter()
            .map(|k| Ok(sorted(k)?.as_string::<i32>().clone()))
            .collect::<std::result::Result<_, datafusion::error::DataFusionError>>()?;
        let buckets = match &buckets {
            Some(b) => Some(sorted(b)?.as_primitive::<Int32Type>().clone()),
            None => None,
        };
        let same_group = |a: usize, b: usize| {
            keys.iter().all(|k| key_value(k, a) == key_value(k, b))
                && buckets.as_ref().is_none_or(|bk| bk.value(a) == bk.value(b))
        };
        let mut start = 0;
        while start < batch.num_rows() {
            let mut end = start + 1;
            while end < batch.num_rows() && same_group(start, end) {
                end += 1;
            }
            let group: Group = (
                keys.iter().map(|k| key_value(k, start).map(str::to_string)).collect(),
                buckets.as_ref().map(|b| b.value(start) as u32),
            );
            let bucket = group.1;
            let columns = data.iter().map(|c| c.slice(start, end - start)).collect();
            let sub =
                RecordBatch::try_new(data_schema.clone(), columns).map_err(datafusion::error::DataFusionError::from)?;
            start = end;
            if !files.contains_key(&group) {
                if partitions.insert(group.0.clone()) && partitions.len() > split.per_task {
                    return Err(HiveError::Semantic(format!(
                        "Fatal error occurred when node tried to create too many dynamic partitions. The maximum number of dynamic partitions is controlled by hive.exec.max.dynamic.partitions and hive.exec.max.dynamic.partitions.pernode. Maximum was set to {} partitions per node, number of dynamic partitions on this node: {}",
                        split.per_task,
                        partitions.len()
                    )));
                }
                let number = bucket.map_or(part, |b| b as usize);
                // named after the task and the group, not the order groups
                // come in: a task run again (on a cluster, after a lost
                // worker) writes each group's file under the same name,
                // so a late first attempt can only rewrite a file with
                // the same group's rows
                let path =
                    staging.path.clone().join(format!("t{part}_{}", group_id(&group))).join(format!("{number:06}_0"));
                files.insert(group.clone(), (FileWriter::new(format, store.clone(), path.clone()), path, 0));
            }
            if let Some((writer, _, rows)) = files.get_mut(&group) {
                *rows += sub.num_rows() as u64;
                writer.write(&sub).await?;
            }
        }
    }
    let mut out = Vec::with_capacity(files.len());
    for ((values, bucket), (writer, path, rows)) in files {
        writer.finish().await?;
        if rows > 0 {
            out.push((values, (bucket.map_or(part, |b| b as usize), path, rows)));
        }
    }
    Ok(out)
}

/// A name for a group of rows (partition values, bucket) that is the
/// same in every process: the hex of the first 8 bytes of its SHA-256.
fn group_id(group: &(PartitionValues, Option<u32>)) -> String {
    use sha2::Digest;
    let mut hash = sha2::Sha256::new();
    for v in &group.0 {
        match v {
            // a length prefix keeps ("a", "bc") apart from ("ab", "c")
            Some(v) => hash.update(format!("{}:{v};", v.len())),
            None => hash.update("-;"),
        }
    }
    if let Some(b) = group.1 {
        hash.update(format!("b{b}"));
    }
    hash.finalize()[..8].iter().map(|b| format!("{b:02x}")).collect()
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
