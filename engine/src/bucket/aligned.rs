//! [`BucketAlignedExec`]: the rows of a bucketed table, one partition per
//! bucket (or per bucket residue), in place of a hash exchange. It reads
//! its input as it is and declares the exchange's hash partitioning, so
//! that the join or aggregation above it (which needs each key in one
//! partition, and for a join, both sides' partitions to match) takes it for
//! the exchange it replaces. Only [`super::wise::BucketWise`] places it,
//! where that claim holds: Hive's bucket hash puts equal keys in the same
//! bucket, on both sides of a join alike.

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{Partitioning, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{ChildrenPropertiesMode, ReplaceChildrenOptions};
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, PlanProperties};

/// A bucket-aligned input standing in for a hash exchange on `keys`.
#[derive(Debug, Clone)]
pub struct BucketAlignedExec {
    input: Arc<dyn ExecutionPlan>,
    /// The table whose buckets the partitions are, for `EXPLAIN`.
    table: String,
    keys: Vec<Arc<dyn PhysicalExpr>>,
    properties: Arc<PlanProperties>,
}

impl BucketAlignedExec {
    /// `input` (partition `i` holding the rows of the buckets `b` with
    /// `b % partitions == i` of `table`), declared hash-partitioned on `keys`.
    pub fn new(input: Arc<dyn ExecutionPlan>, keys: Vec<Arc<dyn PhysicalExpr>>, table: String) -> Self {
        let partitions = input.output_partitioning().partition_count();
        let properties =
            PlanProperties::clone(input.properties()).with_partitioning(Partitioning::Hash(keys.clone(), partitions));
        BucketAlignedExec { input, table, keys, properties: Arc::new(properties) }
    }

    /// The table whose buckets the partitions are.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The hash keys the partitions are declared partitioned on.
    pub fn keys(&self) -> &[Arc<dyn PhysicalExpr>] {
        &self.keys
    }
}

impl DisplayAs for BucketAlignedExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<String> = self.keys.iter().map(|k| k.to_string()).collect();
        write!(
            f,
            "BucketAlignedExec: table={}, partitions={}, keys=[{}]",
            self.table,
            self.properties.output_partitioning().partition_count(),
            keys.join(", ")
        )
    }
}

impl ExecutionPlan for BucketAlignedExec {
    fn name(&self) -> &str {
        "BucketAlignedExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    /// The keys describe the partitioning; nothing is evaluated here.
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
            return datafusion::common::internal_err!("BucketAlignedExec has one child, not {}", children.len());
        }
        Ok(Arc::new(BucketAlignedExec::new(children.swap_remove(0), self.keys.clone(), self.table.clone())))
    }

    fn with_new_children(self: Arc<Self>, children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(children, ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        self.input.execute(partition, context)
    }
}
