//! Turning a Hive query into a DataFusion logical plan.
//!
//! Before planning, the AST gets Hive's meaning where DataFusion's SQL
//! differs: `SORT BY` and `CLUSTER BY` order the result (one reducer's view
//! of Hive's per-reducer sort), `DISTRIBUTE BY` only moves rows and is
//! dropped, and Hive function names map to DataFusion's. Type semantics
//! (`/` returns DOUBLE, failed casts are NULL) are analyzer rules in
//! [`crate::functions`].

use std::ops::ControlFlow;

use datafusion::common::DataFusionError;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder, col};
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{
    AccessExpr, Expr, Function, FunctionArguments, Ident, ObjectName, ObjectNamePart, OrderBy, OrderByExpr,
    OrderByKind, OrderByOptions, Query, SetExpr, Statement, Value, VisitMut, VisitorMut,
};

/// Hive function names that DataFusion spells differently.
const FUNCTION_ALIASES: &[(&str, &str)] = &[
    ("size", "cardinality"),
    ("array", "make_array"),
    ("map", "make_map"),
    ("collect_list", "array_agg"),
    ("lcase", "lower"),
    ("ucase", "upper"),
    ("nvl", "coalesce"),
    ("pmod", "mod"),
    ("std", "stddev_pop"),
    ("stddev", "stddev_pop"),
    ("variance", "var_pop"),
];

struct HiveQueryRewriter;

impl VisitorMut for HiveQueryRewriter {
    type Break = ();

    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        if let SetExpr::Select(select) = query.body.as_mut() {
            let mut order: Vec<OrderByExpr> = std::mem::take(&mut select.sort_by);
            if order.is_empty() {
                order = std::mem::take(&mut select.cluster_by)
                    .into_iter()
                    .map(|expr| OrderByExpr {
                        expr,
                        options: OrderByOptions { asc: None, nulls_first: None },
                        with_fill: None,
                    })
                    .collect();
            }
            select.cluster_by.clear();
            select.distribute_by.clear();
            if !order.is_empty() && query.order_by.is_none() {
                query.order_by = Some(OrderBy { kind: OrderByKind::Expressions(order), interpolate: None });
            }
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        // `trips[0].km`: a field of a subscripted value. DataFusion takes the
        // field name only as a string there.
        if let Expr::CompoundFieldAccess { access_chain, .. } = expr {
            for access in access_chain.iter_mut() {
                if let AccessExpr::Dot(field) = access
                    && let Expr::Identifier(ident) = &*field
                {
                    let name = ident.value.clone();
                    *field = Expr::Value(Value::SingleQuotedString(name).into());
                }
            }
        }
        if let Expr::Function(Function { name, args, .. }) = expr {
            let lower = name.to_string().to_ascii_lowercase();
            if lower == "collect_set"
                && let FunctionArguments::List(list) = args
            {
                *name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new("array_agg"))]);
                list.duplicate_treatment = Some(datafusion::sql::sqlparser::ast::DuplicateTreatment::Distinct);
            } else if let Some((_, df)) = FUNCTION_ALIASES.iter().find(|(h, _)| *h == lower) {
                *name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new(*df))]);
            }
        }
        ControlFlow::Continue(())
    }
}

/// Apply Hive's query rewrites to the AST.
pub fn rewrite_query(query: &mut Query) {
    let _ = query.visit(&mut HiveQueryRewriter);
}

/// Plan a Hive query with a DataFusion session state. Result columns that
/// are not plain names (unaliased expressions) are named `_c0`, `_c1`, ...
/// by position, as Hive names them.
pub async fn plan_query(state: &SessionState, mut query: Query) -> Result<LogicalPlan, DataFusionError> {
    rewrite_query(&mut query);
    let plan = state.statement_to_plan(DfStatement::Statement(Box::new(Statement::Query(Box::new(query))))).await?;
    let names: Vec<String> = plan
        .schema()
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| if is_plain_name(f.name()) { f.name().clone() } else { format!("_c{i}") })
        .collect();
    rename_columns(plan, &names).map_err(DataFusionError::from)
}

fn is_plain_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_') && chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// A plan whose output columns are renamed, in order, to `names`.
pub fn rename_columns(plan: LogicalPlan, names: &[String]) -> crate::Result<LogicalPlan> {
    let fields = plan.schema().columns();
    if names.len() != fields.len() || fields.iter().zip(names).all(|(f, n)| &f.name == n) {
        return Ok(plan);
    }
    let exprs: Vec<_> = fields.into_iter().zip(names).map(|(f, n)| col(f).alias(n)).collect();
    Ok(LogicalPlanBuilder::from(plan).project(exprs)?.build()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::ast::HiveStatement;
    use crate::sql::parser::parse_statement;

    fn rewritten(sql: &str) -> String {
        let HiveStatement::Query(mut q) = parse_statement(sql).unwrap() else { panic!() };
        rewrite_query(&mut q);
        q.to_string()
    }

    #[test]
    fn sort_cluster_distribute_by() {
        assert_eq!(rewritten("SELECT a FROM t SORT BY a DESC"), "SELECT a FROM t ORDER BY a DESC");
        assert_eq!(rewritten("SELECT a FROM t CLUSTER BY a"), "SELECT a FROM t ORDER BY a");
        assert_eq!(rewritten("SELECT a FROM t DISTRIBUTE BY a"), "SELECT a FROM t");
        assert_eq!(
            rewritten("SELECT size(x), collect_set(y) FROM t"),
            "SELECT cardinality(x), array_agg(DISTINCT y) FROM t"
        );
    }
}
