//! Bind parameters (`$1`, `$2`, ...) in a statement a client prepares
//! over the wire, and the types their uses imply.
//!
//! HiveQL has no bind parameters: the Hive dialect reads `$1` as a column
//! name, and the wire endpoint writes each value into the text as a
//! literal when the statement runs. A client that sends no parameter types
//! (asyncpg, pgjdbc) asks the server which types to send, as PostgreSQL
//! infers them: `id = $1` makes `$1` the type of `id`. [`parameter_types`]
//! answers that by planning the statement with its `$n` turned into
//! DataFusion placeholders, whose types DataFusion infers from comparisons,
//! arithmetic, `BETWEEN`, `IN` and `LIKE`; a placeholder under a `CAST`
//! takes the cast's type, and one that is a whole value of
//! `INSERT ... VALUES` the type of the column it fills.

use std::collections::HashMap;
use std::ops::ControlFlow;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::expr::Placeholder;
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::sql::sqlparser::ast::{Expr as SqlExpr, Query, Value, VisitMut, VisitorMut};

use super::ast::{HiveStatement, InsertInto};
use crate::error::Result;
use crate::session::Session;
use crate::types::{arrow_type, parse_column_type};

/// The number of `$n` if `name` is one (`$1` is 1).
fn parameter_number(name: &str) -> Option<usize> {
    let digits = name.strip_prefix('$')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|n| *n > 0)
}

/// Turns unquoted `$n` names into placeholders.
struct Placeholders;

impl VisitorMut for Placeholders {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &mut SqlExpr) -> ControlFlow<()> {
        if let SqlExpr::Identifier(id) = expr
            && id.quote_style.is_none()
            && parameter_number(&id.value).is_some()
        {
            *expr = SqlExpr::Value(Value::Placeholder(id.value.clone()).into());
        }
        ControlFlow::Continue(())
    }
}

fn with_placeholders(mut query: Box<Query>) -> Query {
    let _ = query.visit(&mut Placeholders);
    *query
}

/// The types `plan` implies for its placeholders, by `$n` number.
fn implied(plan: &LogicalPlan, types: &mut HashMap<usize, DataType>) -> Result<()> {
    for (id, ty) in plan.get_parameter_types()? {
        if let (Some(n), Some(ty)) = (parameter_number(&id), ty) {
            types.entry(n).or_insert(ty);
        }
    }
    // `CAST($1 AS INT)`: DataFusion leaves the placeholder untyped
    plan.apply_with_subqueries(|node| {
        node.apply_expressions(|e| {
            e.apply(|e| {
                if let Expr::Cast(c) = e
                    && let Expr::Placeholder(Placeholder { id, field: None }) = c.expr.as_ref()
                    && let Some(n) = parameter_number(id)
                {
                    types.entry(n).or_insert_with(|| c.field.data_type().clone());
                }
                if let Expr::TryCast(c) = e
                    && let Expr::Placeholder(Placeholder { id, field: None }) = c.expr.as_ref()
                    && let Some(n) = parameter_number(id)
                {
                    types.entry(n).or_insert_with(|| c.field.data_type().clone());
                }
                Ok(TreeNodeRecursion::Continue)
            })
        })
    })?;
    Ok(())
}

/// For each column of `plan`'s output that is a bare placeholder in every
/// row of a `VALUES` (or a projection of one), its `$n` number.
fn bare_output_placeholders(plan: &LogicalPlan) -> Vec<Option<usize>> {
    let number = |e: &Expr| match e.clone().unalias() {
        Expr::Placeholder(Placeholder { id, .. }) => parameter_number(&id),
        _ => None,
    };
    match plan {
        LogicalPlan::Values(v) => {
            let width = v.schema.fields().len();
            (0..width)
                .map(|i| {
                    // a column placeholder in one row is enough to name its type
                    v.values.iter().find_map(|row| row.get(i).and_then(number))
                })
                .collect()
        }
        LogicalPlan::Projection(p) => {
            let below = bare_output_placeholders(&p.input);
            p.expr
                .iter()
                .map(|e| match e.clone().unalias() {
                    Expr::Column(c) => {
                        p.input.schema().index_of_column(&c).ok().and_then(|i| below.get(i).copied().flatten())
                    }
                    other => number(&other),
                })
                .collect()
        }
        LogicalPlan::SubqueryAlias(s) => bare_output_placeholders(&s.input),
        _ => vec![None; plan.schema().fields().len()],
    }
}

impl Session {
    /// The type each `$n` of `text` must have where its use says so
    /// (`result[n - 1]`, `None` where nothing does), for a client that
    /// prepares `text` without naming its parameters' types. Statements
    /// other than queries, `EXPLAIN` and `INSERT` say nothing.
    pub async fn parameter_types(&self, text: &str, count: usize) -> Result<Vec<Option<DataType>>> {
        let text = self.substitute(text);
        let mut types = HashMap::new();
        match super::parser::parse_statement(&text)? {
            HiveStatement::Query(q) | HiveStatement::Explain { query: q, .. } => {
                implied(&self.plan_query(with_placeholders(q)).await?, &mut types)?;
            }
            HiveStatement::Insert(inserts) => {
                for (target, q) in inserts {
                    let plan = self.plan_query(with_placeholders(q)).await?;
                    implied(&plan, &mut types)?;
                    let InsertInto::Table(target) = target else { continue };
                    let table = self.get_table(&target.table)?;
                    let columns: Vec<&hiveql_metastore::Column> = if target.columns.is_empty() {
                        let static_keys: Vec<&str> =
                            target.partition.iter().filter(|(_, v)| v.is_some()).map(|(k, _)| k.as_str()).collect();
                        table
                            .columns
                            .iter()
                            .chain(
                                table
                                    .partition_keys
                                    .iter()
                                    .filter(|k| !static_keys.iter().any(|s| s.eq_ignore_ascii_case(&k.name))),
                            )
                            .collect()
                    } else {
                        target
                            .columns
                            .iter()
                            .filter_map(|n| table.columns.iter().find(|c| c.name.eq_ignore_ascii_case(n)))
                            .collect()
                    };
                    for (column, n) in columns.iter().zip(bare_output_placeholders(&plan)) {
                        if let Some(n) = n {
                            types.entry(n).or_insert(arrow_type(&parse_column_type(column)?));
                        }
                    }
                }
            }
            _ => {}
        }
        Ok((1..=count).map(|n| types.remove(&n)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dollar_numbers_are_parameters() {
        assert_eq!(parameter_number("$1"), Some(1));
        assert_eq!(parameter_number("$12"), Some(12));
        assert_eq!(parameter_number("$0"), None);
        assert_eq!(parameter_number("$"), None);
        assert_eq!(parameter_number("$a"), None);
        assert_eq!(parameter_number("x$1"), None);
    }
}
