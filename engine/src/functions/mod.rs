//! Hive's type semantics and built-ins on top of DataFusion:
//! - [`planner::HiveExprPlanner`] types binary operators as Hive does
//!   (`/` returns DOUBLE, `DIV`, strings meeting numbers read as DOUBLE) and
//!   makes array subscripts count from 0;
//! - [`literal::IntLiterals`] (before type coercion): `5` is an INT;
//! - [`LenientCasts`] (after type coercion): casts follow Hive's value
//!   rules ([`cast`]), so a value that does not convert is NULL instead of
//!   an error that kills the query;
//! - Hive's built-in functions where DataFusion's differ or are missing
//!   (see `../shared/reference/hive-functions.md`), one module per group,
//!   registered over DataFusion's own by [`register`].

pub mod aggregate;
pub mod cast;
pub mod collection;
pub mod conditional;
pub mod date;
pub mod decimal;
pub mod div;
pub mod hash_crypto;
pub mod java_regex;
pub mod json_url_regex;
pub mod literal;
pub mod math;
pub mod misc;
pub mod planner;
pub mod strict;
pub mod string;
pub(crate) mod udf;
pub mod udtf;
pub mod window;

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, Result};
use datafusion::logical_expr::expr::Cast;
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan};
use datafusion::optimizer::analyzer::AnalyzerRule;

/// Register Hive's built-ins on a context, replacing DataFusion's
/// functions of the same names.
pub fn register(ctx: &datafusion::prelude::SessionContext) {
    let groups = [
        string::functions(),
        math::functions(),
        conditional::functions(),
        collection::functions(),
        date::functions(),
        hash_crypto::functions(),
        json_url_regex::functions(),
        misc::functions(),
        vec![cast::udf(), cast::char_udf()],
    ];
    for f in groups.into_iter().flatten() {
        ctx.register_udf(f);
    }
    ctx.register_udf(div::udf());
    // internal, but named in plans a worker or scheduler decodes
    use datafusion::logical_expr::Operator;
    for op in [Operator::Plus, Operator::Minus, Operator::Multiply, Operator::Divide, Operator::Modulo] {
        ctx.register_udf(decimal::udf(op));
    }
    for f in aggregate::functions() {
        ctx.register_udaf(f);
    }
    for f in window::functions() {
        ctx.register_udwf(f);
    }
}

/// Utf8, LargeUtf8 or Utf8View.
pub(crate) fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// Apply `f` to every expression of every plan node, with the schema the
/// node's expressions are evaluated against, keeping the expressions' names
/// (later nodes refer to them) and recomputing node schemas.
fn rewrite_plan(plan: LogicalPlan, f: &dyn Fn(Expr, &DFSchema) -> Result<Transformed<Expr>>) -> Result<LogicalPlan> {
    plan.transform_up_with_subqueries(|plan| {
        let mut schema = DFSchema::empty();
        for input in plan.inputs() {
            schema.merge(input.schema());
        }
        if let LogicalPlan::TableScan(_) = &plan {
            schema = plan.schema().as_ref().clone();
        }
        let names = NamePreserver::new(&plan);
        let t = plan.map_expressions(|e| {
            let saved = names.save(&e);
            e.transform_up(|e| f(e, &schema))?.map_data(|e| Ok(saved.restore(e)))
        })?;
        if t.transformed { Ok(Transformed::yes(t.data.recompute_schema()?)) } else { Ok(t) }
    })
    .map(|t| t.data)
}

/// Casts never fail on a value and follow Hive's value rules ([`cast`]);
/// the casts Hive's strict checks refuse are errors ([`strict`]).
#[derive(Debug, Default)]
pub struct LenientCasts {
    strict: Arc<strict::Strictness>,
}

impl AnalyzerRule for LenientCasts {
    fn name(&self) -> &str {
        "hive_lenient_casts"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        rewrite_plan(plan, &|e, schema| match e {
            // CHAR(n)/VARCHAR(n): cut to length, the type kept in the field
            Expr::Cast(Cast { expr, field }) if let Some(limit) = crate::types::TextLimit::of(&field) => {
                self.strict.check_cast(&expr.get_type(schema)?, field.data_type())?;
                Ok(Transformed::yes(cast::to_char(*expr, limit)))
            }
            Expr::Cast(Cast { expr, field }) => match expr.get_type(schema) {
                Ok(t) if &t != field.data_type() => match self
                    .strict
                    .check_cast(&t, field.data_type())
                    .map(|()| cast::hive_cast(*expr, &t, field.data_type()))?
                {
                    Ok(hive) => Ok(Transformed::yes(hive)),
                    Err(expr) => Ok(Transformed::no(Expr::Cast(Cast { expr: Box::new(expr), field }))),
                },
                _ => Ok(Transformed::no(Expr::Cast(Cast { expr, field }))),
            },
            other => Ok(Transformed::no(other)),
        })
    }
}

/// `UNION` branches unify only within one of Hive's type groups (numbers,
/// strings, dates and timestamps, ...): an INT column meeting a STRING one
/// is an error naming the column, as in Hive, not a silent conversion.
#[derive(Debug, Default)]
pub struct UnionGroups;

/// The group a type unifies within in a `UNION`; None for NULL, which
/// joins any group.
fn union_group(t: &DataType) -> Option<&'static str> {
    Some(match t {
        DataType::Null => return None,
        t if t.is_numeric() => "numeric",
        t if is_string(t) => "string",
        DataType::Date32 | DataType::Date64 | DataType::Timestamp(..) => "date",
        DataType::Boolean => "boolean",
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => "binary",
        _ => "complex",
    })
}

impl AnalyzerRule for UnionGroups {
    fn name(&self) -> &str {
        "hive_union_groups"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.apply_with_subqueries(|p| {
            if let LogicalPlan::Union(u) = p
                && let Some(first) = u.inputs.first()
            {
                for (i, f) in first.schema().fields().iter().enumerate() {
                    let mut seen: Option<(&'static str, &DataType)> = None;
                    for input in &u.inputs {
                        let Some(other) = input.schema().fields().get(i) else { continue };
                        let t = other.data_type();
                        let Some(g) = union_group(t) else { continue };
                        match seen {
                            None => seen = Some((g, t)),
                            Some((g0, t0)) if g0 != g => {
                                let name = |t: &DataType| {
                                    crate::types::hive_type(t).map_or_else(|_| t.to_string(), |t| t.to_string())
                                };
                                return datafusion::common::plan_err!(
                                    "Schema of both sides of union should match: column {} is of type {} on one side and {} on the other",
                                    f.name(),
                                    name(t0),
                                    name(t)
                                );
                            }
                            _ => {}
                        }
                    }
                }
            }
            Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
        })?;
        Ok(plan)
    }
}

/// DataFusion's analyzer rules with Hive's integer literal typing before
/// type coercion and Hive's lenient casts after it.
pub fn analyzer_rules(strict: Arc<strict::Strictness>) -> Vec<Arc<dyn AnalyzerRule + Send + Sync>> {
    let mut rules = datafusion::optimizer::Analyzer::new().rules;
    let pos = rules.iter().position(|r| r.name() == "type_coercion").unwrap_or(rules.len());
    rules.insert(pos + 1, Arc::new(LenientCasts { strict }));
    rules.insert(pos, Arc::new(literal::IntLiterals));
    rules.insert(pos + 1, Arc::new(UnionGroups));
    rules
}
