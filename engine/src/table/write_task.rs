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

use crate::location::Location;
use crate::serde::TableFormat;

/// Writes each input partition into its own staged file; one row out per
/// partition: `partition` (UInt64), `file` (the staged file's path in its
/// store), `rows` (UInt64).
#[derive(Debug)]
pub struct WriteTaskExec {
    input: Arc<dyn ExecutionPlan>,
    staging: Location,
    format: TableFormat,
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
        WriteTaskExec { input, staging, format, properties: Arc::new(properties) }
    }

    /// The schema of the rows the tasks return.
    pub fn output_schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("partition", DataType::UInt64, false),
            Field::new("file", DataType::Utf8, false),
            Field::new("rows", DataType::UInt64, false),
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
    pub fn read_results(batches: &[RecordBatch]) -> Result<Vec<(usize, Path, u64)>> {
        use datafusion::arrow::array::AsArray;
        use datafusion::arrow::datatypes::UInt64Type;
        let mut out = Vec::new();
        for b in batches {
            let (parts, files, rows) = (
                b.column(0).as_primitive::<UInt64Type>(),
                b.column(1).as_string::<i32>(),
                b.column(2).as_primitive::<UInt64Type>(),
            );
            for i in 0..b.num_rows() {
                out.push((parts.value(i) as usize, Path::from(files.value(i)), rows.value(i)));
            }
        }
        Ok(out)
    }
}

impl DisplayAs for WriteTaskExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WriteTaskExec: staging={}", self.staging)
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
        Ok(Arc::new(WriteTaskExec::new(children.swap_remove(0), self.staging.clone(), self.format.clone())))
    }

    fn with_new_children(self: Arc<Self>, children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(children, ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let store = self.staging.store(context.runtime_env().as_ref())?;
        let (input, format) = (self.input.clone(), self.format.clone());
        let path = Self::file_of(&self.staging, partition);
        let write = async move {
            let rows = super::writer::write_partition(context, input, partition, store, &path, &format)
                .await
                .map_err(datafusion::error::DataFusionError::from)?;
            let batch = RecordBatch::try_new(
                Self::output_schema(),
                vec![
                    Arc::new(UInt64Array::from(vec![partition as u64])),
                    Arc::new(StringArray::from(vec![path.to_string()])),
                    Arc::new(UInt64Array::from(vec![rows])),
                ],
            )?;
            Ok(batch)
        };
        let stream = futures::stream::once(write);
        Ok(Box::pin(RecordBatchStreamAdapter::new(Self::output_schema(), stream)))
    }
}
