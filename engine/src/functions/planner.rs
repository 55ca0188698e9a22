//! [`HiveExprPlanner`]: Hive's typing of binary operators, applied while
//! DataFusion plans SQL (where the operand types are known):
//! - `/` on non-decimal numbers returns DOUBLE; `a DIV b` is integer division
//!   ([`super::div`]); division and modulo by zero are NULL;
//! - a DECIMAL meeting an exact number follows Hive's decimal result types
//!   ([`super::decimal`]);
//! - comparisons Hive 4's strict checks refuse are errors ([`super::strict`]);
//! - a string meeting a number in arithmetic or a comparison is read as
//!   DOUBLE (a string that is not a number is NULL);
//! - `arr[i]` counts from 0;
//! - FLOAT with an integer stays FLOAT;
//! - DATE ± a day-time interval is a TIMESTAMP;
//! - `SUBSTRING(... FROM ... FOR ...)` is Hive's `substr`, `struct(...)`
//!   names its fields `col1`, `col2`, ...
//!
//! It must come before DataFusion's own planners (see `Session`).

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, Result};
use datafusion::functions::expr_fn::nullif;
use datafusion::logical_expr::GetFieldAccess;
use datafusion::logical_expr::expr::{Cast, TryCast};
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawBinaryExpr, RawFieldAccessExpr};
use datafusion::logical_expr::{BinaryExpr, Expr, ExprSchemable, Operator, lit};
use datafusion::sql::sqlparser::ast::BinaryOperator;

use std::sync::Arc;

use super::is_string;
use super::strict::Strictness;

fn is_decimal(t: &DataType) -> bool {
    matches!(t, DataType::Decimal32(..) | DataType::Decimal64(..) | DataType::Decimal128(..) | DataType::Decimal256(..))
}

fn to_double(e: Expr, t: &DataType) -> Expr {
    if is_string(t) {
        Expr::TryCast(TryCast::new(Box::new(e), DataType::Float64))
    } else if t == &DataType::Float64 {
        e
    } else {
        Expr::Cast(Cast::new(Box::new(e), DataType::Float64))
    }
}

fn binary(l: Expr, op: Operator, r: Expr) -> Expr {
    Expr::BinaryExpr(BinaryExpr::new(Box::new(l), op, Box::new(r)))
}

/// An interval literal with a day or time part and no months: Hive's
/// INTERVAL DAY TO SECOND.
fn is_day_time(e: &Expr) -> bool {
    match e {
        Expr::Literal(datafusion::common::ScalarValue::IntervalMonthDayNano(Some(v)), _) => v.months == 0,
        Expr::Literal(datafusion::common::ScalarValue::IntervalDayTime(Some(_)), _) => true,
        _ => false,
    }
}

/// Plans binary operators with Hive's semantics.
#[derive(Debug, Default)]
pub struct HiveExprPlanner {
    strict: Arc<Strictness>,
}

impl HiveExprPlanner {
    /// A planner applying the session's strict checks.
    pub fn new(strict: Arc<Strictness>) -> Self {
        HiveExprPlanner { strict }
    }
}

impl ExprPlanner for HiveExprPlanner {
    fn plan_field_access(
        &self,
        expr: RawFieldAccessExpr,
        schema: &DFSchema,
    ) -> Result<PlannerResult<RawFieldAccessExpr>> {
        let RawFieldAccessExpr { field_access, expr } = expr;
        let field_access = match field_access {
            // Hive's arr[i] counts from 0, DataFusion's from 1: shift and let
            // DataFusion's planner build the array_element call.
            GetFieldAccess::ListIndex { key }
                if matches!(
                    expr.get_type(schema)?,
                    DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..)
                ) =>
            {
                GetFieldAccess::ListIndex { key: Box::new(*key + lit(1i64)) }
            }
            other => other,
        };
        Ok(PlannerResult::Original(RawFieldAccessExpr { field_access, expr }))
    }

    /// `SUBSTRING(s FROM p FOR n)` is Hive's `substr`.
    fn plan_substring(&self, args: Vec<Expr>) -> Result<PlannerResult<Vec<Expr>>> {
        Ok(PlannerResult::Planned(super::string::substr_udf().call(args)))
    }

    /// `struct(a, b)` names its fields `col1`, `col2`, ... as Hive does.
    fn plan_struct_literal(&self, args: Vec<Expr>, is_named_struct: bool) -> Result<PlannerResult<Vec<Expr>>> {
        if is_named_struct {
            return Ok(PlannerResult::Original(args));
        }
        let named = args.into_iter().enumerate().flat_map(|(i, v)| [lit(format!("col{}", i + 1)), v]).collect();
        Ok(PlannerResult::Planned(datafusion::functions::core::expr_fn::named_struct(named)))
    }

    fn plan_binary_op(&self, expr: RawBinaryExpr, schema: &DFSchema) -> Result<PlannerResult<RawBinaryExpr>> {
        if expr.op == BinaryOperator::MyIntegerDivide {
            return Ok(PlannerResult::Planned(super::div::udf().call(vec![expr.left, expr.right])));
        }
        let (Ok(lt), Ok(rt)) = (expr.left.get_type(schema), expr.right.get_type(schema)) else {
            return Ok(PlannerResult::Original(expr));
        };
        let numeric = |t: &DataType| t.is_numeric();
        let op = match &expr.op {
            BinaryOperator::Plus => Operator::Plus,
            BinaryOperator::Minus => Operator::Minus,
            BinaryOperator::Multiply => Operator::Multiply,
            BinaryOperator::Divide => Operator::Divide,
            BinaryOperator::Modulo => Operator::Modulo,
            BinaryOperator::Eq => Operator::Eq,
            BinaryOperator::NotEq => Operator::NotEq,
            BinaryOperator::Lt => Operator::Lt,
            BinaryOperator::LtEq => Operator::LtEq,
            BinaryOperator::Gt => Operator::Gt,
            BinaryOperator::GtEq => Operator::GtEq,
            _ => return Ok(PlannerResult::Original(expr)),
        };
        if matches!(op, Operator::Eq | Operator::NotEq | Operator::Lt | Operator::LtEq | Operator::Gt | Operator::GtEq)
        {
            self.strict.check_comparison(&expr.left, &lt, &expr.right, &rt)?;
        }
        let (l, r) = (expr.left.clone(), expr.right.clone());
        let planned = if (is_string(&lt) && numeric(&rt)) || (numeric(&lt) && is_string(&rt)) {
            let (l, r) = (to_double(l, &lt), to_double(r, &rt));
            match op {
                Operator::Divide | Operator::Modulo => binary(l, op, nullif(r, lit(0f64))),
                _ => binary(l, op, r),
            }
        } else if op == Operator::Divide && numeric(&lt) && numeric(&rt) && !is_decimal(&lt) && !is_decimal(&rt) {
            binary(to_double(l, &lt), Operator::Divide, nullif(to_double(r, &rt), lit(0f64)))
        } else if let Some(planned) = super::decimal::plan(l.clone(), &lt, op, r.clone(), &rt) {
            planned
        } else if (op == Operator::Divide || op == Operator::Modulo) && numeric(&lt) && numeric(&rt) {
            let zero = if is_decimal(&rt) || rt.is_floating() { lit(0f64) } else { lit(0i64) };
            binary(l, op, nullif(r, zero))
        } else if matches!(op, Operator::Plus | Operator::Minus) && lt == DataType::Date32 && is_day_time(&expr.right) {
            // DATE ± INTERVAL DAY TO SECOND is a TIMESTAMP in Hive (± YEAR TO MONTH stays a DATE)
            let ts = DataType::Timestamp(datafusion::arrow::datatypes::TimeUnit::Nanosecond, None);
            binary(Expr::Cast(Cast::new(Box::new(l), ts)), op, r)
        } else if matches!(op, Operator::Plus | Operator::Minus | Operator::Multiply)
            && ((lt == DataType::Float32 && rt.is_integer()) || (lt.is_integer() && rt == DataType::Float32))
        {
            // FLOAT with an integer stays FLOAT in Hive (and prints as a float: 3.0, not 3.0000001192092896)
            let f32 = |e: Expr, t: &DataType| {
                if t.is_integer() { Expr::Cast(Cast::new(Box::new(e), DataType::Float32)) } else { e }
            };
            binary(f32(l, &lt), op, f32(r, &rt))
        } else {
            return Ok(PlannerResult::Original(expr));
        };
        Ok(PlannerResult::Planned(planned))
    }
}

/// SQL types (in `CAST`, `CREATE TABLE ... AS` and the like) as Hive means
/// them: `BINARY`, `DECIMAL` = `DECIMAL(10,0)`, `ARRAY<T>`, `MAP<K,V>`,
/// `STRUCT<a:T>`, `VARCHAR(n)` and `CHAR(n)` through the metastore's type
/// parser; a type it does not know is left to DataFusion.
#[derive(Debug, Default)]
pub struct HiveTypePlanner;

impl datafusion::logical_expr::planner::TypePlanner for HiveTypePlanner {
    fn plan_type_field(
        &self,
        sql_type: &datafusion::sql::sqlparser::ast::DataType,
    ) -> Result<Option<datafusion::arrow::datatypes::FieldRef>> {
        let Ok(t) = hiveql_metastore::HiveType::parse(&sql_type.to_string()) else { return Ok(None) };
        Ok(Some(std::sync::Arc::new(crate::types::arrow_field("", &t))))
    }
}
