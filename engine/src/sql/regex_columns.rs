//! Regex column specs: with `SET hive.support.quoted.identifiers=none`, a
//! backquoted name in a select list is a Java regular expression over the
//! column names of the FROM clause (`` SELECT `(ds|hr)?+.+` FROM t `` is
//! every column but `ds` and `hr`; `` t.`k.*` `` only `t`'s). As in Hive,
//! the expression must match a whole name, case-insensitively, and the
//! columns come in the FROM clause's order; one that matches nothing is an
//! error naming the pattern.
//!
//! The FROM clause of each such select is planned on its own (as
//! `SELECT * FROM ...`, with the query's CTEs) to learn its columns; the
//! items are then replaced by the qualified names before the query itself
//! is planned.

use std::ops::ControlFlow;

use datafusion::error::DataFusionError;
use datafusion::execution::SessionState;
use datafusion::sql::sqlparser::ast::{
    Expr, GroupByExpr, Ident, Query, Select, SelectItem, SetExpr, VisitMut, VisitorMut, WildcardAdditionalOptions,
};

use crate::functions::java_regex::JavaRegex;

/// Hive's setting that makes backquoted select items regexes.
pub const SETTING: &str = "hive.support.quoted.identifiers";

/// The pattern of a regex select item, with the qualifier it is limited to.
fn regex_item(item: &SelectItem) -> Option<(Option<&str>, &str)> {
    let backquoted = |i: &Ident| i.quote_style == Some('`');
    match item {
        SelectItem::UnnamedExpr(Expr::Identifier(i)) if backquoted(i) => Some((None, &i.value)),
        SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) if parts.len() == 2 && backquoted(&parts[1]) => {
            Some((Some(&parts[0].value), &parts[1].value))
        }
        _ => None,
    }
}

fn has_regex(select: &Select) -> bool {
    select.projection.iter().any(|i| regex_item(i).is_some())
}

/// Calls `f` on every select of every query, outermost first, in the same
/// order each time.
struct EachSelect<'a>(&'a mut dyn FnMut(&Query, &mut Select));

impl VisitorMut for EachSelect<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        // the query as it is here: its CTEs are in scope of its selects
        let context = query.clone();
        each_select(query.body.as_mut(), &mut |s| (self.0)(&context, s));
        ControlFlow::Continue(())
    }
}

fn each_select(body: &mut SetExpr, f: &mut dyn FnMut(&mut Select)) {
    match body {
        SetExpr::Select(s) => f(s),
        SetExpr::SetOperation { left, right, .. } => {
            each_select(left, f);
            each_select(right, f);
        }
        SetExpr::Query(q) => each_select(&mut q.body, f),
        _ => {}
    }
}

/// `SELECT * FROM <select's FROM>` with the query's CTEs.
fn probe(context: &Query, select: &Select) -> Query {
    let mut s = select.clone();
    s.projection = vec![SelectItem::Wildcard(WildcardAdditionalOptions::default())];
    s.selection = None;
    s.group_by = GroupByExpr::Expressions(vec![], vec![]);
    s.having = None;
    s.distinct = None;
    s.qualify = None;
    s.named_window.clear();
    s.sort_by.clear();
    s.cluster_by.clear();
    s.distribute_by.clear();
    Query {
        body: Box::new(SetExpr::Select(Box::new(s))),
        order_by: None,
        limit_clause: None,
        fetch: None,
        ..context.clone()
    }
}

/// Replace the regex select items of `query` by the columns they match.
pub async fn expand(state: &SessionState, query: &mut Query) -> Result<(), DataFusionError> {
    let mut probes = Vec::new();
    let _ = query.visit(&mut EachSelect(&mut |context, select| {
        if has_regex(select) {
            probes.push(probe(context, select));
        }
    }));
    if probes.is_empty() {
        return Ok(());
    }
    let mut columns = Vec::new();
    for p in probes {
        let plan = super::rewrite::plan_query_as_written(state, p).await?;
        let cols: Vec<(Option<String>, String)> =
            plan.schema().iter().map(|(q, f)| (q.map(|q| q.table().to_string()), f.name().clone())).collect();
        columns.push(cols);
    }
    let mut next = columns.into_iter();
    let mut failure = None;
    let _ = query.visit(&mut EachSelect(&mut |_, select| {
        if !has_regex(select) || failure.is_some() {
            return;
        }
        let cols = next.next().unwrap_or_default();
        let mut out = Vec::with_capacity(select.projection.len());
        for item in std::mem::take(&mut select.projection) {
            let Some((qualifier, pattern)) = regex_item(&item) else {
                out.push(item);
                continue;
            };
            match matching(&cols, qualifier, pattern) {
                Ok(items) => out.extend(items),
                Err(e) => {
                    failure = Some(e);
                    return;
                }
            }
        }
        select.projection = out;
    }));
    failure.map_or(Ok(()), Err)
}

/// The select items for the columns `pattern` matches.
fn matching(
    cols: &[(Option<String>, String)],
    qualifier: Option<&str>,
    pattern: &str,
) -> Result<Vec<SelectItem>, DataFusionError> {
    let re = JavaRegex::new(&format!("(?i)^(?:{pattern})$"))?;
    let items: Vec<SelectItem> = cols
        .iter()
        .filter(|(q, name)| {
            qualifier.is_none_or(|want| q.as_deref().is_some_and(|q| q.eq_ignore_ascii_case(want))) && re.is_match(name)
        })
        .map(|(q, name)| {
            let name = Ident::with_quote('"', name);
            SelectItem::UnnamedExpr(match q {
                Some(q) => Expr::CompoundIdentifier(vec![Ident::with_quote('"', q), name]),
                None => Expr::Identifier(name),
            })
        })
        .collect();
    if items.is_empty() {
        let of = qualifier.map(|q| format!(" of {q}")).unwrap_or_default();
        return Err(DataFusionError::Plan(format!(
            "Invalid column reference: the regex column spec `{pattern}` matches no column{of} ({SETTING}=none)"
        )));
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn possessive_spec_excludes_partition_columns() {
        let cols: Vec<(Option<String>, String)> =
            ["key", "value", "ds", "hr", "dsx"].iter().map(|n| (Some("t".to_string()), n.to_string())).collect();
        let names: Vec<String> = matching(&cols, None, "(ds|hr)?+.+").unwrap().iter().map(|i| i.to_string()).collect();
        assert_eq!(names, ["\"t\".\"key\"", "\"t\".\"value\"", "\"t\".\"dsx\""]);
        assert_eq!(matching(&cols, Some("T"), "K.*").unwrap().len(), 1);
        assert!(matching(&cols, Some("u"), ".*").is_err());
    }
}
