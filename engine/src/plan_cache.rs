//! The plans of one-row `SELECT`s without `FROM` (`SELECT 1`, `SELECT
//! 'x' || 'y'`), kept by each session so they are planned once.
//!
//! Connection pools check a connection with `SELECT 1` before handing it
//! out (HikariCP's `connectionTestQuery`, SQLAlchemy's `pool_pre_ping`),
//! so over the wire endpoint it is one of the statements run most. Parsing
//! and planning it through DataFusion's analyzer, optimizer and physical
//! optimizer costs about 200 µs of CPU (release build, profiled with perf
//! under `hiveql serve`); running a kept plan costs a few µs.
//!
//! A plan is kept only when running it again is sure to answer as planning
//! it again would: the query reads no table and has no subquery, every
//! function it calls is immutable (not `now()`, `unix_timestamp()`,
//! `current_database()`, `rand()`, which planning would fold or the query
//! must evaluate afresh), and its physical plan is projections over the one
//! placeholder row. Every statement that is not a query (`SET`, `USE`, DDL,
//! `ADD JAR`, ...) empties the cache, since it may change what a function
//! means (`SET hive.local.time.zone`) or which functions exist.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::common::tree_node::TreeNode;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Expr, LogicalPlan, Volatility};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::placeholder_row::PlaceholderRowExec;
use datafusion::physical_plan::projection::ProjectionExec;

/// How many statements a session keeps plans of.
const MAX_PLANS: usize = 64;

/// A session's kept plans, by statement text (after variable substitution).
#[derive(Clone, Default)]
pub struct PlanCache {
    plans: HashMap<String, Arc<dyn ExecutionPlan>>,
    /// The task context the kept plans run with, built once.
    task: Option<Arc<TaskContext>>,
}

impl std::fmt::Debug for PlanCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlanCache").field("plans", &self.plans.len()).finish()
    }
}

impl PlanCache {
    /// The kept plan of `text`, with the context to run it in.
    pub fn get(&self, text: &str) -> Option<(Arc<dyn ExecutionPlan>, Arc<TaskContext>)> {
        Some((self.plans.get(text)?.clone(), self.task.clone()?))
    }

    /// Forget every plan (a statement changed the session).
    pub fn clear(&mut self) {
        self.plans.clear();
        self.task = None;
    }

    /// Keep the plan of `text` if it qualifies (see the module docs).
    /// `logical` is the plan before optimization, which has not folded
    /// `now()` and the like into constants yet.
    pub fn offer(
        &mut self,
        text: &str,
        logical: &LogicalPlan,
        physical: &Arc<dyn ExecutionPlan>,
        task: impl FnOnce() -> Arc<TaskContext>,
    ) {
        if self.plans.len() >= MAX_PLANS || !one_row(physical.as_ref()) || !reads_nothing_changing(logical) {
            return;
        }
        self.task.get_or_insert_with(task);
        self.plans.insert(text.to_string(), physical.clone());
    }
}

/// Whether `plan` is projections over the placeholder row.
fn one_row(plan: &dyn ExecutionPlan) -> bool {
    if plan.is::<PlaceholderRowExec>() {
        return true;
    }
    plan.is::<ProjectionExec>() && plan.children().iter().all(|c| one_row(c.as_ref()))
}

/// Whether `plan` reads no table, has no subquery, and calls only
/// immutable functions.
fn reads_nothing_changing(plan: &LogicalPlan) -> bool {
    let changing = plan.exists(|node| {
        if matches!(node, LogicalPlan::TableScan(_) | LogicalPlan::Subquery(_) | LogicalPlan::Extension(_)) {
            return Ok(true);
        }
        Ok(node.expressions().iter().any(|e| {
            e.exists(|e| {
                Ok(match e {
                    Expr::ScalarFunction(f) => f.func.signature().volatility != Volatility::Immutable,
                    Expr::ScalarSubquery(_)
                    | Expr::Exists(_)
                    | Expr::InSubquery(_)
                    | Expr::OuterReferenceColumn(..)
                    | Expr::Placeholder(_)
                    | Expr::ScalarVariable(..)
                    | Expr::AggregateFunction(_)
                    | Expr::WindowFunction(_) => true,
                    _ => false,
                })
            })
            .unwrap_or(true)
        }))
    });
    !changing.unwrap_or(true)
}
