//! `TABLESAMPLE` on a table, as a DataFusion `RelationPlanner`:
//! - `TABLESAMPLE (n ROWS)`: the first n rows (Hive takes n rows from each
//!   input split; one split's worth is what scripts that write
//!   `FROM src TABLESAMPLE (1 ROWS)` to evaluate an expression once rely on);
//! - `TABLESAMPLE (p PERCENT)`: each row with probability p/100 (Hive
//!   samples whole HDFS blocks, so its share is as approximate).
//!
//! The bucket form (`BUCKET x OUT OF y`) and the byte-size form (`100M`)
//! are refused with a clear error.

use datafusion::common::{Result, ScalarValue, not_impl_err, plan_err};
use datafusion::logical_expr::planner::{PlannedRelation, RelationPlanner, RelationPlannerContext, RelationPlanning};
use datafusion::logical_expr::{Expr as DfExpr, LogicalPlanBuilder, lit};
use datafusion::sql::sqlparser::ast::{TableFactor, TableSampleKind, TableSampleUnit};

/// Plans tables with a `TABLESAMPLE` clause.
#[derive(Debug, Default)]
pub struct TableSamplePlanner;

/// The constant number a sample clause gives.
fn number(e: DfExpr) -> Option<f64> {
    match e {
        DfExpr::Literal(v, _) => match v.cast_to(&datafusion::arrow::datatypes::DataType::Float64) {
            Ok(ScalarValue::Float64(Some(x))) => Some(x),
            _ => None,
        },
        _ => None,
    }
}

impl RelationPlanner for TableSamplePlanner {
    fn plan_relation(&self, relation: TableFactor, ctx: &mut dyn RelationPlannerContext) -> Result<RelationPlanning> {
        let TableFactor::Table { sample: Some(_), .. } = &relation else {
            return Ok(RelationPlanning::Original(Box::new(relation)));
        };
        let mut relation = relation;
        let TableFactor::Table { sample, name, .. } = &mut relation else {
            return Ok(RelationPlanning::Original(Box::new(relation)));
        };
        let table = name.to_string();
        let sample = match sample.take() {
            Some(TableSampleKind::BeforeTableAlias(s) | TableSampleKind::AfterTableAlias(s)) => s,
            None => return Ok(RelationPlanning::Original(Box::new(relation))),
        };
        if sample.bucket.is_some() {
            return not_impl_err!("TABLESAMPLE (BUCKET x OUT OF y) on {table} is not supported yet");
        }
        let Some(q) = sample.quantity else { return plan_err!("TABLESAMPLE on {table} needs a quantity") };
        let empty = datafusion::common::DFSchema::empty();
        let value = ctx.sql_to_expr(q.value.clone(), &empty).ok().and_then(number);
        let input = ctx.plan(relation)?;
        let plan = match (q.unit, value) {
            (Some(TableSampleUnit::Rows), Some(n)) if n >= 0.0 => {
                LogicalPlanBuilder::from(input).limit(0, Some(n as usize))?.build()?
            }
            (Some(TableSampleUnit::Percent), Some(p)) if (0.0..=100.0).contains(&p) => {
                let keep = datafusion::functions::math::expr_fn::random().lt(lit(p / 100.0));
                LogicalPlanBuilder::from(input).filter(keep)?.build()?
            }
            (None, _) => {
                return not_impl_err!("TABLESAMPLE ({}) on {table}: sampling by size is not supported", q.value);
            }
            _ => return plan_err!("TABLESAMPLE on {table}: {} is not a valid sample size", q.value),
        };
        Ok(RelationPlanning::Planned(Box::new(PlannedRelation::new(plan, None))))
    }
}
