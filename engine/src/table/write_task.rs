//! [`WriteTaskExec`]: the writer tasks of a write, as a plan node, so the
//! tasks that compute a query's last stage write its files wherever they
//! run (on a cluster's workers, `crate::dist`).
//!
//! Partition `p` of the input is written to `STAGING/00000p_0` in the
//! table's format, and the task returns one row: `(p, file, rows)`. The
//! session that planned the write publishes what the rows name, with the
//! same no-clobber commit as an in-process write
//! ([`super::writer::write_plan`]). A task that fails or is run again
//! writes the same file name again, and a file is only ever seen once
//! complete (object stores create a file when its upload completes), so a
//! retried task leaves no partial or duplicate file; nothing in the
//! staging directory is visible to readers before it is published.

use std::sync::Arc;

use datafusion::arrow::array::{RecordBatch, StringArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::Result;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{
    Boundedness, ChildrenPropertiesMode, EmissionType, ReplaceChildrenOptions,
};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, PlanProperties};
use object_store::path::Path;

use super::writer::{PartitionValues, SplitWrite, StagedFile};
use crate::location::Location;
use crate::serde::TableFormat;

/// Writes each input partition into its own staged file; one row out per
/// file: `partition` (UInt64: the file's number, its task's partition or
/// its bucket), `file` (the staged file's path in its store), `rows`
/// (UInt64), `values` (a partitioned write's partition values as a JSON
/// array; NULL otherwise).
///
/// With a [`SplitWrite`], a partitioned or bucketed write: each task
/// splits its rows by their partition keys and bucket, a file per group.
#[derive(Debug)]
pub struct WriteTaskExec {
    input: Arc<dyn ExecutionPlan>,
    staging: Location,
    format: TableFormat,
    split: Option<SplitWrite>,
    properties: Arc<PlanProperties>,
}

impl WriteTaskExec {
    /// Write `input`'s partitions into `staging` in `format`.
    pub fn new(input: Arc<dyn ExecutionPlan>, staging: Location, format: TableFormat) -> Self {
        let properties = PlanProperties::new(
            EquivalenceProperties::new(Self::output_schema()),
            input.output_partitioning().clone(),
            EmissionType::Final,
            Boundedness::Bounded,
        );
        WriteTaskExec { input, staging, format, split: None, properties: Arc::new(properties) }
    }

    /// The same write, split by partition keys and bucket as `split` says.
    pub fn with_split(mut self, split: SplitWrite) -> Self {
        self.split = Some(split);
        self
    }

    /// How a partitioned or bucketed write splits its rows.
    pub fn split(&self) -> Option<SplitWrite> {
        self.split
    }

    /// The schema of the rows the tasks return.
    pub fn output_schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("partition", DataType::UInt64, false),
            Field::new("file", DataType::Utf8, false),
            Field::new("rows", DataType::UInt64, false),
            Field::new("values", DataType::Utf8, true),
        ]))
    }

    /// The staging directory.
    pub fn staging(&self) -> &Location {
        &self.staging
    }

    /// The format files are written in.
    pub fn format(&self) -> &TableFormat {
        &self.format
    }

    /// The staged file of partition `part`.
    pub fn file_of(staging: &Location, part: usize) -> Path {
        staging.path.clone().join(format!("{part:06}_0"))
    }

    /// The `(partition, file, rows)` rows a write's tasks returned.
    pub fn read_results(batches: &[RecordBatch]) -> Result<Vec<StagedFile>> {
        Ok(Self::read_split_results(batches)?.into_iter().map(|(_, file)| file).collect())
    }

    /// The files a split write's tasks returned, with their partition values.
    pub fn read_split_results(batches: &[RecordBatch]) -> Result<Vec<(PartitionValues, StagedFile)>> {
        use datafusion::arrow::array::{Array, AsArray};
        use datafusion::arrow::datatypes::UInt64Type;
        let mut out = Vec::new();
        for b in batches {
            let (parts, files, rows, values) = (
                b.column(0).as_primitive::<UInt64Type>(),
                b.column(1).as_string::<i32>(),
                b.column(2).as_primitive::<UInt64Type>(),
                b.column(3).as_string::<i32>(),
            );
            for i in 0..b.num_rows() {
                let partition_values = if values.is_null(i) {
                    Vec::new()
                } else {
                    serde_json::from_str(values.value(i)).map_err(|e| {
                        datafusion::error::DataFusionError::Internal(format!("a write task's partition values: {e}"))
                    })?
                };
                out.push((partition_values, (parts.value(i) as usize, Path::from(files.value(i)), rows.value(i))));
            }
        }
        Ok(out)
    }

    /// The rows a task returns for the files it wrote.
    fn results(files: Vec<(Option<PartitionValues>, StagedFile)>) -> Result<RecordBatch> {
        let values = files
            .iter()
            .map(|(v, _)| v.as_ref().map(serde_json::to_string).transpose())
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| datafusion::error::DataFusionError::Internal(format!("partition values: {e}")))?;
        Ok(RecordBatch::try_new(
            Self::output_schema(),
            vec![
                Arc::new(UInt64Array::from_iter_values(files.iter().map(|(_, (p, ..))| *p as u64))),
                Arc::new(StringArray::from_iter_values(files.iter().map(|(_, (_, f, _))| f.to_string()))),
                Arc::new(UInt64Array::from_iter_values(files.iter().map(|(_, (.., r))| *r))),
                Arc::new(StringArray::from(values)),
            ],
        )?)
    }
}

impl DisplayAs for WriteTaskExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WriteTaskExec: staging={}", self.staging)?;
        if let Some(split) = &self.split {
            let keys = self.input.schema().fields().len() - split.data_columns - usize::from(split.bucketed);
            write!(f, ", split by {keys} partition key(s)")?;
            if split.bucketed {
                f.write_str(" and bucket")?;
            }
        }
        Ok(())
    }
}

impl ExecutionPlan for WriteTaskExec {
    fn name(&self) -> &str {
        "WriteTaskExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![false]
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    /// Nothing is evaluated here.
    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if children.len() != 1 {
            return datafusion::common::internal_err!("WriteTaskExec has one child, not {}", children.len());
        }
        let mut exec = WriteTaskExec::new(children.swap_remove(0), self.staging.clone(), self.format.clone());
        exec.split = self.split;
        Ok(Arc::new(exec))
    }

    fn with_new_children(self: Arc<Self>, children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(children, ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let store = self.staging.store(context.runtime_env().as_ref())?;
        let (input, format) = (self.input.clone(), self.format.clone());
        let (staging, split) = (self.staging.clone(), self.split);
        let write = async move {
            let files = match split {
                Some(split) => {
                    super::writer::write_dynamic_task(context, input, partition, store, &staging, &format, split)
                        .await
                        .map_err(datafusion::error::DataFusionError::from)?
                        .into_iter()
                        .map(|(values, file)| (Some(values), file))
                        .collect()
                }
                None => {
                    let path = Self::file_of(&staging, partition);
                    let rows = super::writer::write_partition(context, input, partition, store, &path, &format)
                        .await
                        .map_err(datafusion::error::DataFusionError::from)?;
                    vec![(None, (partition, path, rows))]
                }
            };
            Self::results(files)
        };
        let stream = futures::stream::once(write);
        Ok(Box::pin(RecordBatchStreamAdapter::new(Self::output_schema(), stream)))
    }
}
