//! Hive's grouping syntax in DataFusion's terms: `GROUP BY a, b WITH
//! ROLLUP` / `WITH CUBE` become `ROLLUP(a, b)` / `CUBE(a, b)`, `GROUP BY
//! a, b GROUPING SETS ((a), (b))` becomes `GROUPING SETS ((a), (b))`, and
//! `GROUPING__ID` is `grouping(a, b)` over the GROUP BY columns in order:
//! bit i (from the left) is 1 when column i is aggregated away, as Hive
//! 2.3 and later number it.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, GroupByExpr, GroupByWithModifier, Ident, Select, SelectItem, VisitMut, VisitorMut,
};

/// Rewrite the GROUP BY of one SELECT (see the module doc).
pub fn rewrite_select(select: &mut Select) {
    let GroupByExpr::Expressions(columns, modifiers) = &mut select.group_by else { return };
    let columns_in_order = columns.clone();
    for m in std::mem::take(modifiers) {
        let grouped = match m {
            GroupByWithModifier::Rollup => Expr::Rollup(columns.iter().map(|c| vec![c.clone()]).collect()),
            GroupByWithModifier::Cube => Expr::Cube(columns.iter().map(|c| vec![c.clone()]).collect()),
            GroupByWithModifier::GroupingSets(sets) => sets,
            other => {
                modifiers.push(other);
                continue;
            }
        };
        *columns = vec![grouped];
    }
    if columns_in_order.is_empty() {
        return;
    }
    let mut ids = GroupingId { columns: columns_in_order };
    for item in select.projection.iter_mut() {
        // a bare GROUPING__ID keeps its name (ORDER BY may use it)
        if let SelectItem::UnnamedExpr(Expr::Identifier(id)) = item
            && id.value.eq_ignore_ascii_case("grouping__id")
        {
            *item = SelectItem::ExprWithAlias {
                expr: super::rewrite::function_call("grouping", ids.columns.clone()),
                alias: Ident::new("grouping__id"),
            };
            continue;
        }
        let _ = item.visit(&mut ids);
    }
    if let Some(h) = select.having.as_mut() {
        let _ = h.visit(&mut ids);
    }
}

/// Replaces `GROUPING__ID` with `grouping(c1, ..., cn)`.
struct GroupingId {
    columns: Vec<Expr>,
}

impl VisitorMut for GroupingId {
    type Break = ();

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Expr::Identifier(id) = expr
            && id.value.eq_ignore_ascii_case("grouping__id")
        {
            *expr = super::rewrite::function_call("grouping", self.columns.clone());
        }
        ControlFlow::Continue(())
    }
}
