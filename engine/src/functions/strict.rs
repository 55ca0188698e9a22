//! Hive 4's strict checks, compile errors where Hive refuses a statement:
//! - `hive.strict.checks.type.safety` (default true): comparing a BIGINT
//!   with a string or a DOUBLE/FLOAT, or a DECIMAL with a string, when
//!   neither side is a constant (a constant is converted to the other
//!   side's type first, so `bigint_col = '5'` is fine);
//! - `hive.strict.timestamp.conversion` (default true): `CAST` between a
//!   number and a DATE/TIMESTAMP, and comparing them.
//!
//! The switches are read while a statement is planned (by the expression
//! planner and the cast rule), so a session shares one [`Strictness`] with
//! them and updates it on `SET`.

use std::sync::atomic::{AtomicBool, Ordering};

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::Expr;

/// Hive's setting for comparisons that may lose information.
pub const TYPE_SAFETY: &str = "hive.strict.checks.type.safety";
/// Hive's setting for numbers meeting dates and timestamps.
pub const TIMESTAMP_CONVERSION: &str = "hive.strict.timestamp.conversion";

/// The session's strict switches (both on, as in Hive 4).
#[derive(Debug)]
pub struct Strictness {
    type_safety: AtomicBool,
    timestamp_conversion: AtomicBool,
}

impl Default for Strictness {
    fn default() -> Self {
        Strictness { type_safety: AtomicBool::new(true), timestamp_conversion: AtomicBool::new(true) }
    }
}

impl Strictness {
    /// Apply `SET key=value` if `key` is one of the switches; a value that
    /// is not a boolean is an error naming the setting.
    pub fn set(&self, key: &str, value: &str) -> std::result::Result<(), String> {
        let flag = match key {
            TYPE_SAFETY => &self.type_safety,
            TIMESTAMP_CONVERSION => &self.timestamp_conversion,
            _ => return Ok(()),
        };
        let on = match value.trim().to_ascii_lowercase().as_str() {
            "true" => true,
            "false" => false,
            other => return Err(format!("SET {key}: '{other}' is not true or false")),
        };
        flag.store(on, Ordering::Relaxed);
        Ok(())
    }

    /// Refuse a comparison of `l` and `r` that Hive's strict checks refuse.
    pub fn check_comparison(&self, l: &Expr, lt: &DataType, r: &Expr, rt: &DataType) -> Result<()> {
        if self.timestamp_conversion.load(Ordering::Relaxed)
            && ((is_datetime(lt) && rt.is_numeric()) || (lt.is_numeric() && is_datetime(rt)))
        {
            return plan_err!(
                "comparing {} with {} is not allowed: numbers and dates/timestamps do not compare ({TIMESTAMP_CONVERSION}=true); cast one side, or SET {TIMESTAMP_CONVERSION}=false",
                type_name(lt),
                type_name(rt)
            );
        }
        if !self.type_safety.load(Ordering::Relaxed) || is_constant(l) || is_constant(r) {
            return Ok(());
        }
        let unsafe_pair = |a: &DataType, b: &DataType| {
            (a == &DataType::Int64 && (super::is_string(b) || b.is_floating()))
                || (matches!(a, DataType::Decimal128(..)) && super::is_string(b))
        };
        if unsafe_pair(lt, rt) || unsafe_pair(rt, lt) {
            return plan_err!(
                "comparing {} with {} may lose information and is refused ({TYPE_SAFETY}=true); cast one side to the other's type, or SET {TYPE_SAFETY}=false",
                type_name(lt),
                type_name(rt)
            );
        }
        Ok(())
    }

    /// Refuse a `CAST` between a number and a DATE/TIMESTAMP.
    pub fn check_cast(&self, from: &DataType, to: &DataType) -> Result<()> {
        if self.timestamp_conversion.load(Ordering::Relaxed)
            && ((from.is_numeric() && is_datetime(to)) || (is_datetime(from) && to.is_numeric()))
        {
            return plan_err!(
                "CAST from {} to {} is not allowed ({TIMESTAMP_CONVERSION}=true); SET {TIMESTAMP_CONVERSION}=false to convert",
                type_name(from),
                type_name(to)
            );
        }
        Ok(())
    }
}

fn is_datetime(t: &DataType) -> bool {
    matches!(t, DataType::Date32 | DataType::Date64 | DataType::Timestamp(..))
}

/// A literal, possibly negated or cast: Hive folds it to the other side.
fn is_constant(e: &Expr) -> bool {
    match e {
        Expr::Literal(..) => true,
        Expr::Negative(e) => is_constant(e),
        Expr::Cast(c) => is_constant(&c.expr),
        Expr::TryCast(c) => is_constant(&c.expr),
        _ => false,
    }
}

fn type_name(t: &DataType) -> String {
    crate::types::hive_type(t).map_or_else(|_| t.to_string(), |t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::logical_expr::{col, lit};

    #[test]
    fn refuses_what_hive_refuses() {
        let s = Strictness::default();
        assert!(s.check_comparison(&col("a"), &DataType::Int64, &col("b"), &DataType::Utf8).is_err());
        assert!(s.check_comparison(&col("a"), &DataType::Float64, &col("b"), &DataType::Int64).is_err());
        assert!(s.check_comparison(&col("a"), &DataType::Int64, &lit("5"), &DataType::Utf8).is_ok());
        assert!(s.check_comparison(&col("a"), &DataType::Int32, &col("b"), &DataType::Utf8).is_ok());
        assert!(s.check_comparison(&col("a"), &DataType::Date32, &lit(5), &DataType::Int32).is_err());
        assert!(
            s.check_cast(
                &DataType::Int64,
                &DataType::Timestamp(datafusion::arrow::datatypes::TimeUnit::Nanosecond, None)
            )
            .is_err()
        );
        s.set(TYPE_SAFETY, "false").unwrap();
        s.set(TIMESTAMP_CONVERSION, "FALSE").unwrap();
        assert!(s.check_comparison(&col("a"), &DataType::Int64, &col("b"), &DataType::Utf8).is_ok());
        assert!(s.check_cast(&DataType::Int64, &DataType::Date32).is_ok());
        assert!(s.set(TYPE_SAFETY, "maybe").is_err());
    }
}
