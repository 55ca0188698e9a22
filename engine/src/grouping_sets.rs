//! Correct ordering above `GROUPING SETS`, `CUBE` and `ROLLUP`.
//!
//! DataFusion 55 carries its input's equivalences (constants, orderings)
//! through a grouping-set aggregate as if it were a plain `GROUP BY`. But a
//! grouping set that leaves a column out outputs NULL for it, so after
//! `WHERE a = 1 ... GROUP BY a, b WITH ROLLUP` the column `a` is no longer
//! the constant 1, and an `ORDER BY a` that DataFusion drops as already
//! satisfied comes back unsorted (found by hand:
//! `... WHERE a = 1 GROUP BY b, a WITH ROLLUP ORDER BY a, b`).
//!
//! [`GroupingSetInputs`] runs first among the physical optimizer rules and
//! puts an [`OrderBarrierExec`] under every grouping-set aggregate that
//! reads raw rows: it passes batches through untouched but declares no
//! orderings or constants, so nothing above relies on them.

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::execution_plan::{ChildrenPropertiesMode, ReplaceChildrenOptions};
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, PlanProperties};

/// Places an [`OrderBarrierExec`] under grouping-set aggregates.
#[derive(Debug, Default)]
pub struct GroupingSetInputs;

impl PhysicalOptimizerRule for GroupingSetInputs {
    fn optimize(&self, plan: Arc<dyn ExecutionPlan>, _config: &ConfigOptions) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|p| {
            let Some(agg) = p.downcast_ref::<AggregateExec>() else { return Ok(Transformed::no(p)) };
            let reads_rows = matches!(agg.mode(), AggregateMode::Partial | AggregateMode::Single);
            let input = agg.input();
            if !reads_rows || !agg.group_expr().has_grouping_set() || input.downcast_ref::<OrderBarrierExec>().is_some()
            {
                return Ok(Transformed::no(p));
            }
            let barrier: Arc<dyn ExecutionPlan> = Arc::new(OrderBarrierExec::new(Arc::clone(input)));
            let options = ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute);
            Ok(Transformed::yes(p.replace_children(vec![barrier], options)?))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "hive_grouping_set_inputs"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Its input's rows as they are, declaring no orderings or constants.
#[derive(Debug)]
pub struct OrderBarrierExec {
    input: Arc<dyn ExecutionPlan>,
    properties: Arc<PlanProperties>,
}

impl OrderBarrierExec {
    /// A barrier over `input`.
    pub fn new(input: Arc<dyn ExecutionPlan>) -> Self {
        let properties = PlanProperties::new(
            EquivalenceProperties::new(input.schema()),
            input.output_partitioning().clone(),
            input.pipeline_behavior(),
            input.boundedness(),
        );
        OrderBarrierExec { input, properties: Arc::new(properties) }
    }
}

impl DisplayAs for OrderBarrierExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OrderBarrierExec")
    }
}

impl ExecutionPlan for OrderBarrierExec {
    fn name(&self) -> &str {
        "OrderBarrierExec"
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
            return datafusion::common::internal_err!("OrderBarrierExec has one child, not {}", children.len());
        }
        Ok(Arc::new(OrderBarrierExec::new(children.swap_remove(0))))
    }

    fn with_new_children(self: Arc<Self>, children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(children, ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        self.input.execute(partition, context)
    }
}
