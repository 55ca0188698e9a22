//! Hive's typing of integer literals: `5` is an INT, `3000000000` a BIGINT.
//!
//! DataFusion's SQL planner types every integer literal as Int64, so
//! `int_col + 1` would be BIGINT and `2147483647 + 1` would not wrap as it
//! does in Hive. [`IntLiterals`] runs before type coercion and narrows the
//! Int64 literals that fit an INT to Int32; type coercion then widens them
//! wherever the other operand is wider, exactly as Hive widens an INT.
//!
//! Left alone: `LIMIT`/`OFFSET` counts, `VALUES` rows (their schema is
//! fixed when planned) and the `count(*)` expansion (DataFusion recognises
//! it by its literal).

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::expr::AggregateFunction;
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::utils::COUNT_STAR_EXPANSION;
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::optimizer::analyzer::AnalyzerRule;

/// Narrows integer literals that fit an INT to Int32 (see the module doc).
#[derive(Debug, Default)]
pub struct IntLiterals;

fn is_count_star(a: &AggregateFunction) -> bool {
    matches!(a.params.args.as_slice(), [Expr::Literal(v, _)] if v == &COUNT_STAR_EXPANSION)
}

/// `e` with its INT-sized Int64 literals narrowed.
pub fn narrow(e: Expr) -> Result<Transformed<Expr>> {
    e.transform_down(|e| match e {
        Expr::AggregateFunction(ref a) if is_count_star(a) => Ok(Transformed::new(e, false, TreeNodeRecursion::Jump)),
        Expr::Literal(ScalarValue::Int64(Some(v)), meta) if i32::try_from(v).is_ok() => {
            Ok(Transformed::yes(Expr::Literal(ScalarValue::Int32(Some(v as i32)), meta)))
        }
        other => Ok(Transformed::no(other)),
    })
}

impl AnalyzerRule for IntLiterals {
    fn name(&self) -> &str {
        "hive_int_literals"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|plan| {
            if matches!(plan, LogicalPlan::Limit(_) | LogicalPlan::Values(_)) {
                return Ok(Transformed::no(plan));
            }
            let names = NamePreserver::new(&plan);
            let t = plan.map_expressions(|e| {
                let saved = names.save(&e);
                narrow(e)?.map_data(|e| Ok(saved.restore(e)))
            })?;
            if t.transformed { Ok(Transformed::yes(t.data.recompute_schema()?)) } else { Ok(t) }
        })
        .map(|t| t.data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::logical_expr::lit;

    #[test]
    fn narrows_only_what_fits_an_int() {
        let e = lit(5i64) + lit(3_000_000_000i64);
        let out = narrow(e).unwrap().data;
        assert_eq!(out, lit(5i32) + lit(3_000_000_000i64));
        let min = narrow(lit(i32::MIN as i64)).unwrap().data;
        assert_eq!(min, lit(i32::MIN));
    }
}
