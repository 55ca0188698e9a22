//! Hive's conditional and NULL functions where DataFusion has none or
//! differs: `isnull`/`isnotnull`, `istrue` and friends (never NULL),
//! `assert_true`, and the common types Hive gives mixed arguments
//! (`greatest`, `least`). `if(c, a, b)` is planned as a `CASE` (see
//! `sql::rewrite`), so only the branch taken is evaluated, as in Hive.

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::ScalarUDF;

use super::is_string;
use super::udf::{Arg, Args, HiveScalar, bools, exactly};

/// The conditional functions of this module.
pub(crate) fn functions() -> Vec<ScalarUDF> {
    use Arg::*;
    use DataType::*;
    vec![
        HiveScalar::new(
            "isnull",
            exactly(&[Any]),
            |_, _| Ok(Boolean),
            |a| {
                let c = a.col(0);
                Ok(bools(a.rows(), |i| Some(c.is_null(a.at(0, i)))))
            },
        )
        .udf(),
        HiveScalar::new(
            "isnotnull",
            exactly(&[Any]),
            |_, _| Ok(Boolean),
            |a| {
                let c = a.col(0);
                Ok(bools(a.rows(), |i| Some(c.is_valid(a.at(0, i)))))
            },
        )
        .udf(),
        HiveScalar::new("istrue", exactly(&[Bool]), |_, _| Ok(Boolean), |a| truth(a, |v| v == Some(true))).udf(),
        HiveScalar::new("isnottrue", exactly(&[Bool]), |_, _| Ok(Boolean), |a| truth(a, |v| v != Some(true))).udf(),
        HiveScalar::new("isfalse", exactly(&[Bool]), |_, _| Ok(Boolean), |a| truth(a, |v| v == Some(false))).udf(),
        HiveScalar::new("isnotfalse", exactly(&[Bool]), |_, _| Ok(Boolean), |a| truth(a, |v| v != Some(false))).udf(),
        HiveScalar::new("assert_true", exactly(&[Bool]), |_, _| Ok(Null), assert_true).udf(),
    ]
}

fn truth(a: &Args, f: fn(Option<bool>) -> bool) -> Result<ArrayRef> {
    let b = a.bool(0);
    Ok(bools(a.rows(), |i| Some(f(b.get(i)))))
}

fn assert_true(a: &Args) -> Result<ArrayRef> {
    let b = a.bool(0);
    if (0..a.rows()).any(|i| b.get(i) != Some(true)) {
        return exec_err!("ASSERT_TRUE(): assertion failed.");
    }
    Ok(datafusion::arrow::array::new_null_array(&DataType::Null, a.rows()))
}

/// Hive's numeric widening order: TINYINT < SMALLINT < INT < BIGINT <
/// DECIMAL < FLOAT < DOUBLE.
fn numeric_rank(t: &DataType) -> u8 {
    match t {
        DataType::Int8 | DataType::UInt8 => 1,
        DataType::Int16 | DataType::UInt16 => 2,
        DataType::Int32 | DataType::UInt32 => 3,
        DataType::Int64 | DataType::UInt64 => 4,
        DataType::Decimal32(..) | DataType::Decimal64(..) | DataType::Decimal128(..) | DataType::Decimal256(..) => 5,
        DataType::Float16 | DataType::Float32 => 6,
        _ => 7,
    }
}

/// The integer digits an integer type holds as a decimal (INT is DECIMAL(10,0)).
fn integer_digits(t: &DataType) -> Option<(u8, i8)> {
    Some(match t {
        DataType::Int8 | DataType::UInt8 => (3, 0),
        DataType::Int16 | DataType::UInt16 => (5, 0),
        DataType::Int32 | DataType::UInt32 => (10, 0),
        DataType::Int64 | DataType::UInt64 => (19, 0),
        DataType::Decimal128(p, s) => (*p, *s),
        _ => return None,
    })
}

/// The wider of two numeric types, as Hive widens them.
pub(crate) fn wider_numeric(l: &DataType, r: &DataType) -> DataType {
    if l == r {
        return l.clone();
    }
    let (rl, rr) = (numeric_rank(l), numeric_rank(r));
    if rl == 5 || rr == 5 {
        if rl > 5 || rr > 5 {
            return DataType::Float64;
        }
        if let (Some((p1, s1)), Some((p2, s2))) = (integer_digits(l), integer_digits(r)) {
            let scale = s1.max(s2);
            let int = (p1 as i16 - s1 as i16).max(p2 as i16 - s2 as i16);
            let p = (int + scale as i16).min(38) as u8;
            return DataType::Decimal128(p.max(1), scale.min(p as i8));
        }
        return DataType::Float64;
    }
    if rl >= rr { l.clone() } else { r.clone() }
}

/// The type Hive compares mixed arguments as (`getCommonClassForComparison`):
/// strings meeting numbers as DOUBLE, strings meeting dates as the date
/// type, numbers widened, DATE with TIMESTAMP as TIMESTAMP.
pub(crate) fn common_comparison(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    let mut common: Option<DataType> = None;
    for t in types {
        if t.is_null() {
            continue;
        }
        common = Some(match common {
            None => t.clone(),
            Some(c) if &c == t => c,
            Some(c) if is_string(&c) && is_string(t) => DataType::Utf8,
            Some(c) if c.is_numeric() && t.is_numeric() => wider_numeric(&c, t),
            Some(c) if (is_string(&c) && t.is_numeric()) || (c.is_numeric() && is_string(t)) => DataType::Float64,
            Some(c) if is_date(&c) && is_string(t) => c,
            Some(c) if is_string(&c) && is_date(t) => t.clone(),
            Some(DataType::Date32) if matches!(t, DataType::Timestamp(..)) => t.clone(),
            Some(c @ DataType::Timestamp(..)) if t == &DataType::Date32 => c,
            Some(c) => return plan_err!("{name}: arguments of types {c} and {t} cannot be compared"),
        });
    }
    let common = common.unwrap_or(DataType::Utf8);
    Ok(vec![common; types.len()])
}

fn is_date(t: &DataType) -> bool {
    matches!(t, DataType::Date32 | DataType::Timestamp(..))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widening() {
        assert_eq!(wider_numeric(&DataType::Int32, &DataType::Int64), DataType::Int64);
        assert_eq!(wider_numeric(&DataType::Int32, &DataType::Decimal128(5, 2)), DataType::Decimal128(12, 2));
        assert_eq!(wider_numeric(&DataType::Float32, &DataType::Decimal128(5, 2)), DataType::Float64);
        let t = common_comparison("greatest", &[DataType::Int32, DataType::Utf8]).unwrap();
        assert_eq!(t[0], DataType::Float64);
    }
}
