//! `CAST` with Hive's value rules where Arrow's differ (a cast never fails
//! on a value; see the reference's "Type conversion (CAST) rules"):
//! - text to an integer type: trimmed, a fraction truncated (`'12.7'` is
//!   12), anything else (an exponent, overflow) NULL;
//! - text to BOOLEAN: false for `''`, `false`, `off`, `no`, `0` (any case),
//!   true for every other text;
//! - text to DATE and TIMESTAMP with Hive's parsers
//!   ([`super::date::parse_date`], [`super::date::parse_timestamp`]);
//! - an integer to a narrower integer wraps (`CAST(300 AS TINYINT)` is 44);
//!   a floating-point number to INT or BIGINT saturates (NaN is 0), to
//!   TINYINT or SMALLINT goes through INT and wraps;
//! - anything to DECIMAL, and DECIMAL to an integer, is NULL when the value
//!   does not fit.
//!
//! [`hive_cast`] decides which casts need this; the rest stay Arrow's.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArray};
use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, FieldRef, Float64Type, Int64Type, TimeUnit, TimestampNanosecondType,
};
use datafusion::common::{DataFusionError, Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::expr::TryCast;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Volatility, lit,
};

use super::is_string;
use super::udf::{Arg, Args, HiveScalar, bools, exactly, prims};

/// The hidden function a Hive cast is planned as: `__hive_cast(value, 'type')`.
pub const NAME: &str = "__hive_cast";

/// `__hive_cast`.
pub(crate) fn udf() -> ScalarUDF {
    HiveScalar::new(NAME, exactly(&[Arg::Any, Arg::Str]), return_type, body).udf()
}

fn target(scalars: &[Option<&ScalarValue>]) -> Result<DataType> {
    match scalars.get(1).copied().flatten() {
        Some(ScalarValue::Utf8(Some(t))) => t.parse::<DataType>().map_err(Into::into),
        _ => plan_err!("{NAME}: the target type must be a constant"),
    }
}

fn return_type(_: &[DataType], scalars: &[Option<&ScalarValue>]) -> Result<DataType> {
    target(scalars)
}

fn is_int(t: &DataType) -> bool {
    matches!(t, DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64)
}

fn int_width(t: &DataType) -> u8 {
    match t {
        DataType::Int8 => 8,
        DataType::Int16 => 16,
        DataType::Int32 => 32,
        _ => 64,
    }
}

/// The expression a `CAST(e AS to)` of an `from` value becomes, if Hive's
/// rules differ from Arrow's for it.
pub fn hive_cast(e: Expr, from: &DataType, to: &DataType) -> std::result::Result<Expr, Expr> {
    let ours = |e: Expr| udf().call(vec![e, lit(to.to_string())]);
    let try_cast = |e: Expr| Expr::TryCast(TryCast::new(Box::new(e), to.clone()));
    match (from, to) {
        (f, t) if is_string(f) && (is_int(t) || t == &DataType::Boolean || t == &DataType::Date32) => Ok(ours(e)),
        (f, DataType::Timestamp(_, None)) if is_string(f) => Ok(ours(e)),
        (f, t) if is_int(f) && is_int(t) && int_width(t) < int_width(f) => Ok(ours(e)),
        (DataType::Float32 | DataType::Float64 | DataType::Float16, t) if is_int(t) => Ok(ours(e)),
        (f, _) if is_string(f) => Ok(try_cast(e)),
        // With hive.strict.timestamp.conversion=false (the check is the
        // caller's): numbers to and from TIMESTAMP, in `timestamp_number`.
        (f, DataType::Timestamp(_, None)) if f.is_numeric() => Ok(ours(e)),
        (DataType::Timestamp(_, None), t) if is_int(t) => Ok(ours(e)),
        (_, DataType::Decimal128(..))
        | (DataType::Decimal128(..), DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64) => {
            Ok(try_cast(e))
        }
        _ => Err(e),
    }
}

/// Hive's text-to-integer rule: sign, digits, an optional fraction dropped.
fn parse_integer(s: &str) -> Option<i64> {
    let t = s.trim_matches(|c: char| c.is_ascii_whitespace());
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = int.strip_prefix(['+', '-']).unwrap_or(int);
    if digits.is_empty() && frac.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if digits.is_empty() {
        return Some(0);
    }
    int.parse::<i64>().ok()
}

fn fits(v: i64, width: u8) -> bool {
    match width {
        8 => i8::try_from(v).is_ok(),
        16 => i16::try_from(v).is_ok(),
        32 => i32::try_from(v).is_ok(),
        _ => true,
    }
}

/// Java's narrowing: keep the low bits.
fn wrap(v: i64, width: u8) -> i64 {
    match width {
        8 => v as i8 as i64,
        16 => v as i16 as i64,
        32 => v as i32 as i64,
        _ => v,
    }
}

/// An array of `to` from i64 values.
fn ints_as(rows: usize, to: &DataType, f: impl FnMut(usize) -> Option<i64>) -> Result<ArrayRef> {
    let wide = prims::<Int64Type>(rows, f);
    // every value already fits `to`: this cast only changes the width
    Ok(cast_with_options(&wide, to, &CastOptions { safe: true, ..Default::default() })?)
}

fn body(a: &Args) -> Result<ArrayRef> {
    let to = a.ret().clone();
    let from = a.data_type(0).clone();
    let rows = a.rows();
    let width = int_width(&to);
    if is_string(&from) {
        let s = a.str(0);
        return match &to {
            t if is_int(t) => ints_as(rows, t, |i| parse_integer(s.get(i)?).filter(|v| fits(*v, width))),
            DataType::Boolean => Ok(bools(rows, |i| {
                let v = s.get(i)?;
                Some(!(v.is_empty() || ["false", "off", "no", "0"].iter().any(|f| v.eq_ignore_ascii_case(f))))
            })),
            DataType::Date32 => {
                Ok(prims::<Date32Type>(rows, |i| Some(super::date::epoch_days(super::date::parse_date(s.get(i)?)?))))
            }
            DataType::Timestamp(unit, None) => {
                let nanos = prims::<TimestampNanosecondType>(rows, |i| {
                    super::date::parse_timestamp(s.get(i)?)?.and_utc().timestamp_nanos_opt()
                });
                if unit == &TimeUnit::Nanosecond {
                    Ok(nanos)
                } else {
                    Ok(cast_with_options(&nanos, &to, &CastOptions { safe: true, ..Default::default() })?)
                }
            }
            other => exec_err!("{NAME}: no Hive rule for text to {other}"),
        };
    }
    if matches!(to, DataType::Timestamp(..)) || matches!(from, DataType::Timestamp(..)) {
        return timestamp_number(a, &from, &to);
    }
    if is_int(&from) {
        let v = cast_with_options(a.col(0), &DataType::Int64, &CastOptions::default())?;
        let v = v.as_primitive::<Int64Type>();
        return ints_as(rows, &to, |i| {
            let r = a.at(0, i);
            v.is_valid(r).then(|| wrap(v.value(r), width))
        });
    }
    let v = cast_with_options(a.col(0), &DataType::Float64, &CastOptions::default())?;
    let v = v.as_primitive::<Float64Type>();
    ints_as(rows, &to, |i| {
        let r = a.at(0, i);
        if !v.is_valid(r) {
            return None;
        }
        let x = v.value(r);
        // (int) / (long) x saturate; NaN is 0
        Some(if width == 64 { x as i64 } else { wrap((x as i32) as i64, width) })
    })
}

/// Hive's non-strict conversions between numbers and TIMESTAMP: an
/// integer is milliseconds since the epoch, any other number seconds; a
/// TIMESTAMP reads back as the epoch seconds of its wall time.
fn timestamp_number(a: &Args, from: &DataType, to: &DataType) -> Result<ArrayRef> {
    let safe = CastOptions { safe: true, ..Default::default() };
    let rows = a.rows();
    if let DataType::Timestamp(..) = to {
        let nanos = if is_int(from) {
            let v = cast_with_options(a.col(0), &DataType::Int64, &safe)?;
            let v = v.as_primitive::<Int64Type>();
            prims::<TimestampNanosecondType>(rows, |i| {
                let r = a.at(0, i);
                v.is_valid(r).then(|| v.value(r).checked_mul(1_000_000)).flatten()
            })
        } else {
            let v = cast_with_options(a.col(0), &DataType::Float64, &safe)?;
            let v = v.as_primitive::<Float64Type>();
            prims::<TimestampNanosecondType>(rows, |i| {
                let r = a.at(0, i);
                let ns = v.value(r) * 1e9;
                (v.is_valid(r) && ns.is_finite() && ns.abs() < i64::MAX as f64).then(|| ns.round() as i64)
            })
        };
        return Ok(cast_with_options(&nanos, to, &safe)?);
    }
    let nanos = cast_with_options(a.col(0), &DataType::Timestamp(TimeUnit::Nanosecond, None), &safe)?;
    let nanos = nanos.as_primitive::<TimestampNanosecondType>();
    let width = int_width(to);
    ints_as(rows, to, |i| {
        let r = a.at(0, i);
        nanos.is_valid(r).then(|| wrap(nanos.value(r).div_euclid(1_000_000_000), width))
    })
}

/// The hidden function a cast to (or an insert into) CHAR(n)/VARCHAR(n)
/// is planned as: `__hive_char(value, 'char(5)')`.
pub const CHAR_NAME: &str = "__hive_char";

/// `__hive_char`: the value as text, cut to n characters (CHAR also loses
/// its trailing spaces); the result field keeps the type in its metadata.
pub fn char_udf() -> ScalarUDF {
    ScalarUDF::from(HiveChar { signature: datafusion::logical_expr::Signature::any(2, Volatility::Immutable) })
}

/// `e` as a value of the Hive type `limit` names.
pub fn to_char(e: Expr, limit: crate::types::TextLimit) -> Expr {
    char_udf().call(vec![e, lit(limit.type_name())])
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct HiveChar {
    signature: datafusion::logical_expr::Signature,
}

fn char_limit(scalar: Option<&ScalarValue>) -> Result<crate::types::TextLimit> {
    match scalar {
        Some(ScalarValue::Utf8(Some(t))) => match crate::types::TextLimit::parse(t) {
            Some(l) => Ok(l),
            None => plan_err!("{CHAR_NAME}: '{t}' is not a char or varchar type"),
        },
        _ => plan_err!("{CHAR_NAME}: the type must be a constant"),
    }
}

impl ScalarUDFImpl for HiveChar {
    fn name(&self) -> &str {
        CHAR_NAME
    }

    fn signature(&self) -> &datafusion::logical_expr::Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let limit = char_limit(args.scalar_arguments.get(1).copied().flatten())?;
        let t =
            hiveql_metastore::HiveType::parse(&limit.type_name()).map_err(|e| DataFusionError::Plan(e.to_string()))?;
        Ok(Arc::new(crate::types::arrow_field(CHAR_NAME, &t)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let limit = match &args.args[1] {
            ColumnarValue::Scalar(s) => char_limit(Some(s))?,
            _ => return exec_err!("{CHAR_NAME}: the type must be a constant"),
        };
        let all_scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let v = args.args[0].to_array(args.number_rows)?;
        let text = cast_with_options(&v, &DataType::Utf8, &CastOptions { safe: true, ..Default::default() })?;
        let out: StringArray = text.as_string::<i32>().iter().map(|v| v.map(|v| limit.apply(v))).collect();
        let out: ArrayRef = Arc::new(out);
        Ok(if all_scalar {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)
        } else {
            ColumnarValue::Array(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_to_integer_as_hive() {
        assert_eq!(parse_integer(" 12 "), Some(12));
        assert_eq!(parse_integer("12.7"), Some(12));
        assert_eq!(parse_integer("-.5"), Some(0));
        assert_eq!(parse_integer("12."), Some(12));
        assert_eq!(parse_integer("1e3"), None);
        assert_eq!(parse_integer(""), None);
        assert_eq!(parse_integer("abc"), None);
        assert_eq!(wrap(300, 8), 44);
    }
}
