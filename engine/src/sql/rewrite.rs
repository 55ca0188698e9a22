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
use datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken;
use datafusion::sql::sqlparser::ast::{
    AccessExpr, BinaryOperator, CaseWhen, DateTimeField, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArgumentList, FunctionArguments, Ident, ObjectName, ObjectNamePart, OrderBy, OrderByExpr, OrderByKind,
    OrderByOptions, Query, Select, SelectItem, SetExpr, Statement, UnaryOperator, Value, VisitMut, VisitorMut,
};

use crate::error::HiveError;

/// Hive function names that DataFusion spells differently.
const FUNCTION_ALIASES: &[(&str, &str)] = &[
    ("array", "make_array"),
    ("map", "make_map"),
    ("collect_list", "array_agg"),
    ("lcase", "lower"),
    ("ucase", "upper"),
    ("nvl", "coalesce"),
    ("sort_array", "array_sort"),
    ("percentile", "percentile_cont"),
    ("percentile_approx", "approx_percentile_cont"),
    ("array_remove", "array_remove_all"),
    ("std", "stddev_pop"),
    ("stddev", "stddev_pop"),
    ("variance", "var_pop"),
];

/// The Hive function names this module plans itself (aliases of DataFusion
/// functions, `if`, `collect_list`/`collect_set`), for `SHOW FUNCTIONS`.
pub fn rewritten_function_names() -> impl Iterator<Item = &'static str> {
    FUNCTION_ALIASES.iter().map(|(hive, _)| *hive).chain(["if", "collect_list", "collect_set", "struct"])
}

/// The function a Hive name this module rewrites is planned as.
pub fn rewritten_target(hive: &str) -> Option<&'static str> {
    match hive {
        "if" => Some("CASE WHEN"),
        "collect_list" => Some("array_agg"),
        "collect_set" => Some("array_agg(DISTINCT ...)"),
        "struct" => Some("named_struct"),
        _ => FUNCTION_ALIASES.iter().find(|(h, _)| *h == hive).map(|(_, df)| *df),
    }
}

struct HiveQueryRewriter;

impl VisitorMut for HiveQueryRewriter {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        if let Some(with) = query.with.as_mut() {
            order_ctes(&mut with.cte_tables);
        }
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        for_each_select(query.body.as_mut(), &mut |select| {
            super::lateral_view::rewrite_select(select);
            super::grouping::rewrite_select(select);
            name_unnamed_items(select);
        });
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
        // `INTERVAL '1-2' YEAR TO MONTH`, `INTERVAL '1 2:3:4.5' DAY TO SECOND`:
        // Hive's range literals, spelled out for DataFusion's interval parser
        if let Expr::Interval(iv) = expr
            && let Some(last) = iv.last_field.clone()
            && let Some(first) = iv.leading_field.clone()
            && let Expr::Value(v) = iv.value.as_ref()
            && let Value::SingleQuotedString(text) = &v.value
            && let Some(spelled) = spell_interval_range(text, &first, &last)
        {
            *iv.value = Expr::Value(Value::SingleQuotedString(spelled).into());
            iv.leading_field = None;
            iv.last_field = None;
            iv.leading_precision = None;
            iv.fractional_seconds_precision = None;
        }
        // `s [NOT] LIKE ANY (p1, ...)`: Hive's likeany (NULL if any pattern is NULL)
        if let Expr::Like { negated, any: true, expr: subject, pattern, .. } = expr {
            let patterns = match pattern.as_ref() {
                Expr::Tuple(items) => items.clone(),
                Expr::Nested(e) => vec![(**e).clone()],
                other => vec![other.clone()],
            };
            let call = function_call("likeany", std::iter::once((**subject).clone()).chain(patterns).collect());
            *expr = if *negated { Expr::UnaryOp { op: UnaryOperator::Not, expr: Box::new(call) } } else { call };
        }
        // `a RLIKE p` / `a REGEXP p`: Java regular expressions, not DataFusion's
        if let Expr::RLike { negated, expr: subject, pattern, .. } = expr {
            let call = function_call("rlike", vec![(**subject).clone(), (**pattern).clone()]);
            *expr = if *negated { Expr::UnaryOp { op: UnaryOperator::Not, expr: Box::new(call) } } else { call };
        }
        if let Expr::Function(Function { name, args, filter, over, null_treatment, .. }) = expr {
            let lower = name.to_string().to_ascii_lowercase();
            // first_value(x, true) / last_value(x, true): Hive's skip-NULLs argument
            if matches!(lower.as_str(), "first_value" | "last_value")
                && let FunctionArguments::List(list) = args
                && list.args.len() == 2
                && let Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v)))) = list.args.last()
                && let Value::Boolean(skip) = v.value
            {
                list.args.pop();
                if skip {
                    *null_treatment = Some(datafusion::sql::sqlparser::ast::NullTreatment::IgnoreNulls);
                }
            }
            // ... as a function of its own, which survives the trip to a worker
            if matches!(lower.as_str(), "first_value" | "last_value")
                && matches!(null_treatment, Some(datafusion::sql::sqlparser::ast::NullTreatment::IgnoreNulls))
            {
                *null_treatment = None;
                *name =
                    ObjectName::from(vec![Ident::new(crate::functions::window::HiveWindow::skip_nulls_name(&lower))]);
            }
            // coalesce/nvl: a CASE, so the branches get Hive's common type
            // (`coalesce(int_col, 'x')` is a STRING) and only the first
            // non-NULL argument is evaluated
            if matches!(lower.as_str(), "coalesce" | "nvl")
                && over.is_none()
                && let FunctionArguments::List(list) = args
                && list.args.len() >= 2
                && let Some(mut values) = plain_args(list)
            {
                let last = values.pop().map(Box::new);
                *expr = Expr::Case {
                    case_token: AttachedToken::empty(),
                    end_token: AttachedToken::empty(),
                    operand: None,
                    conditions: values
                        .into_iter()
                        .map(|v| CaseWhen { condition: Expr::IsNotNull(Box::new(v.clone())), result: v })
                        .collect(),
                    else_result: last,
                };
                return ControlFlow::Continue(());
            }
            if lower == "if"
                && let FunctionArguments::List(list) = args
                && list.args.len() == 3
                && let Some(branches) = plain_args(list)
            {
                // if(c, a, b) is a CASE: only the branch taken is evaluated
                let [c, a, b]: [Expr; 3] = match branches.try_into() {
                    Ok(x) => x,
                    Err(_) => return ControlFlow::Continue(()),
                };
                *expr = Expr::Case {
                    case_token: AttachedToken::empty(),
                    end_token: AttachedToken::empty(),
                    operand: None,
                    conditions: vec![CaseWhen { condition: c, result: a }],
                    else_result: Some(Box::new(b)),
                };
                return ControlFlow::Continue(());
            }
            if lower == "count"
                && filter.is_none()
                && let FunctionArguments::List(list) = args
                && list.duplicate_treatment == Some(datafusion::sql::sqlparser::ast::DuplicateTreatment::Distinct)
                && list.args.len() > 1
                && let Some(values) = plain_args(list)
            {
                // count(DISTINCT a, b): distinct rows of (a, b) with no NULL in them
                let fields = values
                    .iter()
                    .enumerate()
                    .flat_map(|(i, v)| [Expr::Value(Value::SingleQuotedString(format!("c{i}")).into()), v.clone()])
                    .collect();
                let none_null = values
                    .into_iter()
                    .map(|v| Expr::IsNotNull(Box::new(v)))
                    .reduce(|a, b| Expr::BinaryOp { left: Box::new(a), op: BinaryOperator::And, right: Box::new(b) });
                list.args = vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(function_call("named_struct", fields)))];
                *filter = none_null.map(Box::new);
                return ControlFlow::Continue(());
            }
            if matches!(lower.as_str(), "collect_set" | "collect_list")
                && let FunctionArguments::List(list) = args
            {
                // Hive's collections skip NULLs
                if over.is_none()
                    && filter.is_none()
                    && let Some([arg]) = plain_args(list).as_deref()
                {
                    *filter = Some(Box::new(Expr::IsNotNull(Box::new(arg.clone()))));
                }
                *name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new("array_agg"))]);
                if lower == "collect_set" {
                    list.duplicate_treatment = Some(datafusion::sql::sqlparser::ast::DuplicateTreatment::Distinct);
                }
            } else if let Some((_, df)) = FUNCTION_ALIASES.iter().find(|(h, _)| *h == lower) {
                *name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new(*df))]);
            }
        }
        ControlFlow::Continue(())
    }
}

/// Hive names a select item that is not a column `_c<position>`; naming
/// them here (rather than after planning) also lets a select list repeat
/// an expression (`SELECT '|', trim(s), '|'`), which DataFusion refuses.
/// A column named again later in the list (`SELECT id, name, id`) is
/// named by its position too, as DataFusion needs distinct names.
fn name_unnamed_items(select: &mut Select) {
    let mut columns_seen = std::collections::HashSet::new();
    for (i, item) in select.projection.iter_mut().enumerate() {
        if let SelectItem::UnnamedExpr(e) = item {
            let column = match e {
                Expr::Identifier(id) => Some(id.value.to_ascii_lowercase()),
                Expr::CompoundIdentifier(parts) => {
                    Some(parts.iter().map(|p| p.value.to_ascii_lowercase()).collect::<Vec<_>>().join("."))
                }
                _ => None,
            };
            if column.is_none_or(|c| !columns_seen.insert(c)) {
                *item = SelectItem::ExprWithAlias { expr: e.clone(), alias: Ident::new(format!("_c{i}")) };
            }
        }
    }
}

/// Hive resolves the CTEs of a `WITH` by name, so one may use a CTE defined
/// after it; DataFusion resolves them in order. Put each CTE after those it
/// uses (keeping the written order otherwise; a cycle is left as written).
fn order_ctes(ctes: &mut Vec<datafusion::sql::sqlparser::ast::Cte>) {
    let names: Vec<String> = ctes.iter().map(|c| c.alias.name.value.to_ascii_lowercase()).collect();
    let uses: Vec<Vec<usize>> = ctes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut deps = Vec::new();
            let _ = datafusion::sql::sqlparser::ast::visit_relations(&c.query, |r| {
                if let Some(last) = r.0.last().and_then(|p| p.as_ident()) {
                    let n = last.value.to_ascii_lowercase();
                    if let Some(j) = names.iter().position(|x| *x == n)
                        && j != i
                    {
                        deps.push(j);
                    }
                }
                ControlFlow::<()>::Continue(())
            });
            deps
        })
        .collect();
    let mut placed = vec![false; ctes.len()];
    let mut order = Vec::with_capacity(ctes.len());
    while order.len() < ctes.len() {
        let Some(next) = (0..ctes.len()).find(|&i| !placed[i] && uses[i].iter().all(|&d| placed[d])) else {
            return; // a cycle: DataFusion reports it
        };
        placed[next] = true;
        order.push(next);
    }
    if order.iter().enumerate().all(|(k, &i)| k == i) {
        return;
    }
    let mut old: Vec<Option<datafusion::sql::sqlparser::ast::Cte>> =
        std::mem::take(ctes).into_iter().map(Some).collect();
    ctes.extend(order.into_iter().filter_map(|i| old[i].take()));
}

/// Apply `f` to every SELECT of a query body (both sides of UNIONs).
fn for_each_select(body: &mut SetExpr, f: &mut dyn FnMut(&mut Select)) {
    match body {
        SetExpr::Select(s) => f(s),
        SetExpr::SetOperation { left, right, .. } => {
            for_each_select(left, f);
            for_each_select(right, f);
        }
        _ => {}
    }
}

/// The arguments of a call when all are plain expressions.
fn plain_args(list: &FunctionArgumentList) -> Option<Vec<Expr>> {
    list.args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

/// A call of the function `name`.
pub(crate) fn function_call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function(Function {
        name: ObjectName(vec![ObjectNamePart::Identifier(Ident::new(name))]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args.into_iter().map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e))).collect(),
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}

/// The text of a Hive interval range literal (`'-1-2'` YEAR TO MONTH,
/// `'1 2:3:4.5'` DAY TO SECOND, ...) as DataFusion's interval words
/// (`-1 years -2 months`); None when it does not fit the range.
fn spell_interval_range(text: &str, first: &DateTimeField, last: &DateTimeField) -> Option<String> {
    const UNITS: [&str; 6] = ["years", "months", "days", "hours", "minutes", "seconds"];
    let rank = |f: &DateTimeField| match f {
        DateTimeField::Year | DateTimeField::Years => Some(0),
        DateTimeField::Month | DateTimeField::Months => Some(1),
        DateTimeField::Day | DateTimeField::Days => Some(2),
        DateTimeField::Hour | DateTimeField::Hours => Some(3),
        DateTimeField::Minute | DateTimeField::Minutes => Some(4),
        DateTimeField::Second | DateTimeField::Seconds => Some(5),
        _ => None,
    };
    let (from, to) = (rank(first)?, rank(last)?);
    // year-month and day-time ranges do not mix
    if to <= from || (from < 2) != (to < 2) {
        return None;
    }
    let t = text.trim();
    let (sign, body) = match t.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", t.strip_prefix('+').unwrap_or(t)),
    };
    let parts: Vec<&str> = body.split([' ', ':', '-']).filter(|p| !p.is_empty()).collect();
    if parts.len() != to - from + 1 {
        return None;
    }
    let mut words = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        let unit = from + i;
        let ok = if unit == 5 { p.parse::<f64>().is_ok() } else { p.bytes().all(|b| b.is_ascii_digit()) };
        if !ok {
            return None;
        }
        words.push(format!("{sign}{p} {}", UNITS[unit]));
    }
    Some(words.join(" "))
}

/// Apply Hive's query rewrites to the AST.
pub fn rewrite_query(query: &mut Query) {
    let _ = query.visit(&mut HiveQueryRewriter);
}

/// Plan a Hive query with a DataFusion session state. Result columns that
/// are not plain names (unaliased expressions) are named `_c0`, `_c1`, ...
/// by position, as Hive names them. The plan comes back analyzed (typed).
pub async fn plan_query(state: &SessionState, mut query: Query) -> Result<LogicalPlan, DataFusionError> {
    let regex_names = state
        .config()
        .options()
        .extensions
        .get::<crate::options::HiveqlOptions>()
        .is_some_and(|o| o.quoted_identifiers.eq_ignore_ascii_case("none"));
    if regex_names {
        super::regex_columns::expand(state, &mut query).await?;
    }
    plan_query_as_written(state, query).await
}

/// [`plan_query`] without expanding regex column specs.
pub(crate) async fn plan_query_as_written(
    state: &SessionState,
    mut query: Query,
) -> Result<LogicalPlan, DataFusionError> {
    rewrite_query(&mut query);
    let statement = DfStatement::Statement(Box::new(Statement::Query(Box::new(query))));
    check_tables(state, &statement)?;
    let plan = state.statement_to_plan(statement).await?;
    let names: Vec<String> = plan
        .schema()
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| if is_plain_name(f.name()) { f.name().clone() } else { format!("_c{i}") })
        .collect();
    let plan = rename_columns(plan, &names).map_err(DataFusionError::from)?;
    // Analyzed here so that the result's column types are Hive's (`5` an
    // INT) for the statements that read them: CTAS, views, INSERT.
    state.analyzer().execute_and_check(plan, state.config_options(), |_, _| {})
}

/// Every table the statement reads exists (or is a CTE or a table
/// function); otherwise a typed "table not found" or "database does not
/// exist", which DataFusion's planner would report only as text.
fn check_tables(state: &SessionState, statement: &DfStatement) -> Result<(), DataFusionError> {
    let (tables, _ctes) = datafusion::sql::resolve::resolve_table_references(statement, true)?;
    let options = state.config().options();
    let (catalog_name, default_db) = (&options.catalog.default_catalog, &options.catalog.default_schema);
    for t in tables {
        let (Some(catalog), db) = (
            state.catalog_list().catalog(t.catalog().unwrap_or(catalog_name)),
            t.schema().unwrap_or(default_db).to_string(),
        ) else {
            continue;
        };
        if t.schema().is_none() && state.table_functions().contains_key(t.table()) {
            continue;
        }
        let missing = match catalog.schema(&db) {
            None => Some(HiveError::DatabaseNotFound(db)),
            Some(schema) if schema.table_exist(t.table()) => None,
            Some(_) => Some(HiveError::TableNotFound { db, table: t.table().to_string() }),
        };
        if let Some(e) = missing {
            return Err(DataFusionError::External(Box::new(e)));
        }
    }
    Ok(())
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
            "SELECT size(x) AS _c0, array_agg(DISTINCT y) FILTER (WHERE y IS NOT NULL) AS _c1 FROM t"
        );
    }
}
