//! Queries stop when their task is dropped: yield points after the operators
//! that can emit rows for a long time without reading any input.
//!
//! A statement is cancelled (Ctrl-C in the REPL, a wire CancelRequest) by
//! aborting the task that polls its plan. Tokio can only drop a task when the
//! task yields, and DataFusion's own `EnsureCooperative` rule puts yield
//! points only at scans and exchanges. A join, a sort's merge phase, an
//! aggregate's or a window's output can turn out millions of rows from input
//! they already hold, so a consumer above them (a `count(*)` over a cross
//! join) never returns `Pending` and the abort waits for the join to finish.
//!
//! [`YieldPoints`] wraps the output of those operators in DataFusion's
//! [`CooperativeExec`], which spends one unit of the task's Tokio budget per
//! batch: after at most a budget's worth of batches the task yields, and an
//! abort takes effect. Measured with the REPL test
//! `repl_ctrl_c_stops_a_heavy_join`: the work of a 200,000 x 200,000 cross
//! join stops within a second of Ctrl-C instead of running on at full CPU.

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::config::ConfigOptions;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::aggregates::AggregateExec;
use datafusion::physical_plan::coop::CooperativeExec;
use datafusion::physical_plan::joins::{
    CrossJoinExec, HashJoinExec, NestedLoopJoinExec, SortMergeJoinExec, SymmetricHashJoinExec,
};
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::sorts::sort_preserving_merge::SortPreservingMergeExec;
use datafusion::physical_plan::windows::{BoundedWindowAggExec, WindowAggExec};

/// The physical optimizer rule that adds the yield points; it runs after
/// DataFusion's own rules.
#[derive(Debug, Default)]
pub struct YieldPoints;

/// Whether `plan` can produce many batches from input it has already read.
fn emits_from_state(plan: &dyn ExecutionPlan) -> bool {
    plan.is::<NestedLoopJoinExec>()
        || plan.is::<CrossJoinExec>()
        || plan.is::<HashJoinExec>()
        || plan.is::<SortMergeJoinExec>()
        || plan.is::<SymmetricHashJoinExec>()
        || plan.is::<SortExec>()
        || plan.is::<SortPreservingMergeExec>()
        || plan.is::<AggregateExec>()
        || plan.is::<WindowAggExec>()
        || plan.is::<BoundedWindowAggExec>()
}

impl PhysicalOptimizerRule for YieldPoints {
    fn optimize(&self, plan: Arc<dyn ExecutionPlan>, _config: &ConfigOptions) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            if emits_from_state(node.as_ref()) {
                Ok(Transformed::yes(Arc::new(CooperativeExec::new(node)) as Arc<dyn ExecutionPlan>))
            } else {
                Ok(Transformed::no(node))
            }
        })
        .data()
    }

    fn name(&self) -> &str {
        "hiveql_yield_points"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::SessionContext;

    #[tokio::test]
    async fn joins_and_aggregates_get_a_yield_point_above_them() {
        let ctx = SessionContext::new();
        let df = ctx
            .sql("SELECT count(*) FROM range(10) a CROSS JOIN range(10) b WHERE a.value * b.value % 7 = 3")
            .await
            .unwrap();
        let plan = df.create_physical_plan().await.unwrap();
        let plan = YieldPoints.optimize(plan, &ConfigOptions::default()).unwrap();
        let text = datafusion::physical_plan::displayable(plan.as_ref()).indent(false).to_string();
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        for (i, line) in lines.iter().enumerate() {
            if line.starts_with("NestedLoopJoinExec") || line.starts_with("AggregateExec") {
                assert!(i > 0 && lines[i - 1].starts_with("CooperativeExec"), "{text}");
            }
        }
        assert!(lines.iter().any(|l| l.starts_with("NestedLoopJoinExec")), "{text}");
    }
}
