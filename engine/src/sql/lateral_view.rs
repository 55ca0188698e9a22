//! `LATERAL VIEW [OUTER] udtf(args) alias AS c1, ...` and a UDTF alone in
//! the select list (`SELECT explode(m) FROM t`), which DataFusion's SQL
//! planner refuses.
//!
//! [`rewrite_select`] turns each lateral view into a nested join of the
//! FROM clause with a marker table function (the UDTF call, OUTER, the
//! alias and its column names); [`LateralViewPlanner`], a DataFusion
//! `RelationPlanner`, plans that nested join as the input followed by the
//! UDTF's plan ([`crate::functions::udtf::lateral_view`]). Several lateral
//! views nest left to right, so each may use the columns of those before it.

use datafusion::common::{Result, internal_err, plan_err};
use datafusion::logical_expr::planner::{PlannedRelation, RelationPlanner, RelationPlannerContext, RelationPlanning};
use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, Join, JoinConstraint, JoinOperator, ObjectName,
    Select, SelectItem, SelectItemQualifiedWildcardKind, TableAlias, TableAliasColumnDef, TableFactor, TableWithJoins,
    Value, WildcardAdditionalOptions,
};

use crate::functions::udtf;

/// The table function name that marks a lateral view in the rewritten AST.
const MARKER: &str = "__hive_lateral_view";

/// The alias of the lateral view made for a UDTF in the select list.
const SELECT_UDTF: &str = "__udtf";

/// A relation, as one table factor.
fn nested(t: TableWithJoins) -> TableFactor {
    if t.joins.is_empty() { t.relation } else { TableFactor::NestedJoin { table_with_joins: Box::new(t), alias: None } }
}

fn cross(relation: TableFactor) -> Join {
    Join { relation, global: false, join_operator: JoinOperator::CrossJoin(JoinConstraint::None) }
}

/// A UDTF call as the only select item, with the names given to its columns.
fn select_udtf(item: &SelectItem) -> Option<(Expr, Vec<Ident>)> {
    let (e, names) = match item {
        SelectItem::UnnamedExpr(e) => (e, vec![]),
        SelectItem::ExprWithAlias { expr, alias } => (expr, vec![alias.clone()]),
        SelectItem::ExprWithAliases { expr, aliases } => (expr, aliases.clone()),
        _ => return None,
    };
    match e {
        Expr::Function(f) if udtf::is_udtf(&f.name.to_string()) && f.over.is_none() => Some((e.clone(), names)),
        _ => None,
    }
}

/// Move the lateral views of `select` (and a UDTF alone in its select list)
/// into its FROM clause, for [`LateralViewPlanner`].
pub fn rewrite_select(select: &mut Select) {
    if select.lateral_views.is_empty()
        && select.projection.len() == 1
        && let Some((call, names)) = select_udtf(&select.projection[0])
    {
        select.lateral_views.push(datafusion::sql::sqlparser::ast::LateralView {
            lateral_view: call,
            lateral_view_name: ObjectName::from(vec![Ident::new(SELECT_UDTF)]),
            lateral_col_alias: names,
            outer: false,
        });
        select.projection = vec![SelectItem::QualifiedWildcard(
            SelectItemQualifiedWildcardKind::ObjectName(ObjectName::from(vec![Ident::new(SELECT_UDTF)])),
            WildcardAdditionalOptions::default(),
        )];
    }
    if select.lateral_views.is_empty() {
        return;
    }
    // `SELECT explode(array(1, 2))` with no FROM has one input row
    if select.from.is_empty() {
        let Some(one) = one_row() else { return };
        select.from.push(TableWithJoins { relation: one, joins: vec![] });
    }
    let mut from = std::mem::take(&mut select.from).into_iter();
    let mut relation = match from.next() {
        Some(mut base) => {
            // comma-separated tables are cross joined first
            base.joins.extend(from.map(|t| cross(nested(t))));
            nested(base)
        }
        None => return,
    };
    for lv in std::mem::take(&mut select.lateral_views) {
        let name =
            lv.lateral_view_name.0.last().and_then(|p| p.as_ident()).cloned().unwrap_or_else(|| Ident::new("lv"));
        let marker = TableFactor::Function {
            lateral: true,
            name: ObjectName::from(vec![Ident::new(MARKER)]),
            args: vec![
                FunctionArg::Unnamed(FunctionArgExpr::Expr(lv.lateral_view)),
                FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(Value::Boolean(lv.outer).into()))),
            ],
            with_ordinality: false,
            alias: Some(TableAlias {
                explicit: true,
                name,
                columns: lv
                    .lateral_col_alias
                    .into_iter()
                    .map(|c| TableAliasColumnDef { name: c, data_type: None })
                    .collect(),
                at: None,
            }),
        };
        relation = TableFactor::NestedJoin {
            table_with_joins: Box::new(TableWithJoins { relation, joins: vec![cross(marker)] }),
            alias: None,
        };
    }
    select.from = vec![TableWithJoins { relation, joins: vec![] }];
}

/// `(SELECT 1)`, the input of a FROM-less lateral view.
fn one_row() -> Option<TableFactor> {
    match crate::sql::parser::parse_statement("SELECT * FROM (SELECT 1 AS __one) __one_row") {
        Ok(crate::sql::ast::HiveStatement::Query(q)) => match *q.body {
            datafusion::sql::sqlparser::ast::SetExpr::Select(s) => s.from.into_iter().next().map(|t| t.relation),
            _ => None,
        },
        _ => None,
    }
}

/// Whether a nested join is a lateral view made by [`rewrite_select`].
fn is_lateral_view(t: &TableWithJoins) -> bool {
    matches!(t.joins.as_slice(), [Join { relation: TableFactor::Function { name, .. }, .. }] if name.to_string() == MARKER)
}

/// Plans the lateral views [`rewrite_select`] left in FROM clauses.
#[derive(Debug, Default)]
pub struct LateralViewPlanner;

impl RelationPlanner for LateralViewPlanner {
    fn plan_relation(&self, relation: TableFactor, ctx: &mut dyn RelationPlannerContext) -> Result<RelationPlanning> {
        let table_with_joins = match relation {
            TableFactor::NestedJoin { table_with_joins, alias: None } if is_lateral_view(&table_with_joins) => {
                table_with_joins
            }
            other => return Ok(RelationPlanning::Original(Box::new(other))),
        };
        let TableWithJoins { relation: base, mut joins } = *table_with_joins;
        let Some(Join { relation: TableFactor::Function { args, alias: Some(alias), .. }, .. }) = joins.pop() else {
            return internal_err!("malformed lateral view");
        };
        let input = ctx.plan(base)?;
        let mut args = args.into_iter();
        let (
            Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(call))),
            Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(outer))),
        ) = (args.next(), args.next())
        else {
            return internal_err!("malformed lateral view");
        };
        let outer = matches!(outer, Expr::Value(v) if v.value == Value::Boolean(true));
        let Expr::Function(f) = call else {
            return plan_err!("LATERAL VIEW needs a table-generating function call, not {call}");
        };
        let name = f.name.to_string().to_ascii_lowercase();
        if !udtf::is_udtf(&name) {
            return plan_err!(
                "{name} is not a table-generating function (LATERAL VIEW takes one of {})",
                udtf::UDTFS.join(", ")
            );
        }
        let sql_args = match f.args {
            FunctionArguments::List(list) => list.args,
            FunctionArguments::None => vec![],
            FunctionArguments::Subquery(_) => return plan_err!("{name} does not take a subquery"),
        };
        let mut exprs = Vec::with_capacity(sql_args.len());
        for a in sql_args {
            match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => exprs.push(ctx.sql_to_expr(e, input.schema())?),
                other => return plan_err!("{name}: unsupported argument {other}"),
            }
        }
        let mut names: Vec<String> = alias.columns.into_iter().map(|c| ctx.normalize_ident(c.name)).collect();
        if names.len() == 1 && names[0] == crate::sql::lexer::DEFAULT_COLUMNS {
            names.clear();
        }
        let plan = udtf::lateral_view(input, &name, exprs, outer, &ctx.normalize_ident(alias.name), names)?;
        Ok(RelationPlanning::Planned(Box::new(PlannedRelation::new(plan, None))))
    }
}
