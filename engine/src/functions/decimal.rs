//! Hive's DECIMAL arithmetic: the result type of `+ - * / %` when a
//! DECIMAL meets a DECIMAL or an integer, and the values computed in it.
//!
//! Hive counts an INT as DECIMAL(10,0), a BIGINT as (19,0), a SMALLINT as
//! (5,0), a TINYINT as (3,0), and an integer *literal* by its digits
//! (`2` is (1,0)). Then (`GenericUDFOPPlus` and friends):
//!
//! | op | precision | scale |
//! |---|---|---|
//! | `+ -` | max(p1−s1, p2−s2) + max(s1,s2) + 1 | max(s1,s2) |
//! | `*` | p1+p2+1 | s1+s2 |
//! | `/` | p1−s1+s2 + max(6, s1+p2+1) | max(6, s1+p2+1) |
//! | `%` | min(p1−s1, p2−s2) + max(s1,s2) | max(s1,s2) |
//!
//! A precision over 38 becomes 38 and the scale max(38 − integer digits,
//! min(scale, 6)). Values round HALF_UP into the result scale; one that
//! does not fit its precision, or a division by zero, is NULL.
//!
//! DataFusion agrees on `+ - *` below the cap once literals are typed by
//! their digits, so those stay DataFusion's kernels; `/`, `%` and capped
//! results are computed here exactly, in 256-bit integers.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Decimal128Array};
use datafusion::arrow::datatypes::{DataType, Decimal128Type, i256};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::expr::Cast;
use datafusion::logical_expr::{
    BinaryExpr, ColumnarValue, Expr, Operator, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// Hive's largest DECIMAL precision.
const MAX_PRECISION: u8 = 38;

/// The DECIMAL(p,s) Hive counts an operand of type `t` as, or None when
/// the operand is not exact (float, double, string, ...).
fn operand_type(e: &Expr, t: &DataType) -> Option<(u8, i8)> {
    if let Expr::Literal(v, _) = e {
        let digits = |v: i128| (v.unsigned_abs().max(1).ilog10() + 1) as u8;
        match v {
            ScalarValue::Int64(Some(v)) => return Some((digits(*v as i128), 0)),
            ScalarValue::Int32(Some(v)) => return Some((digits(*v as i128), 0)),
            _ => {}
        }
    }
    match t {
        DataType::Int8 | DataType::UInt8 => Some((3, 0)),
        DataType::Int16 | DataType::UInt16 => Some((5, 0)),
        DataType::Int32 | DataType::UInt32 => Some((10, 0)),
        DataType::Int64 | DataType::UInt64 => Some((19, 0)),
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => Some((*p, *s)),
        _ => None,
    }
}

/// Hive's cap: precision at most 38, giving up scale down to 6.
fn cap(p: i32, s: i32) -> (u8, i8) {
    if p <= MAX_PRECISION as i32 {
        return (p as u8, s as i8);
    }
    let int_digits = p - s;
    let s = (MAX_PRECISION as i32 - int_digits).max(s.min(6));
    (MAX_PRECISION, s as i8)
}

/// The uncapped (precision, scale) of `l op r`.
fn uncapped(op: Operator, (p1, s1): (u8, i8), (p2, s2): (u8, i8)) -> (i32, i32) {
    let (p1, s1, p2, s2) = (p1 as i32, s1 as i32, p2 as i32, s2 as i32);
    match op {
        Operator::Plus | Operator::Minus => ((p1 - s1).max(p2 - s2) + s1.max(s2) + 1, s1.max(s2)),
        Operator::Multiply => (p1 + p2 + 1, s1 + s2),
        Operator::Divide => {
            let s = 6.max(s1 + p2 + 1);
            (p1 - s1 + s2 + s, s)
        }
        _ => ((p1 - s1).min(p2 - s2) + s1.max(s2), s1.max(s2)),
    }
}

/// Plans `l op r` with Hive's decimal rules when one side is a DECIMAL and
/// the other exact; None leaves the operator to the other rules.
pub fn plan(l: Expr, lt: &DataType, op: Operator, r: Expr, rt: &DataType) -> Option<Expr> {
    let arithmetic =
        matches!(op, Operator::Plus | Operator::Minus | Operator::Multiply | Operator::Divide | Operator::Modulo);
    let is_decimal =
        |t: &DataType| matches!(t, DataType::Decimal32(..) | DataType::Decimal64(..) | DataType::Decimal128(..));
    if !arithmetic || !(is_decimal(lt) || is_decimal(rt)) {
        return None;
    }
    let (Some(a), Some(b)) = (operand_type(&l, lt), operand_type(&r, rt)) else { return None };
    let as_decimal = |e: Expr, t: &DataType, (p, s): (u8, i8)| {
        let to = DataType::Decimal128(p, s);
        if t == &to { e } else { Expr::Cast(Cast::new(Box::new(e), to)) }
    };
    let (l, r) = (as_decimal(l, lt, a), as_decimal(r, rt, b));
    let (p, _) = uncapped(op, a, b);
    Some(match op {
        Operator::Plus | Operator::Minus | Operator::Multiply if p <= MAX_PRECISION as i32 => {
            Expr::BinaryExpr(BinaryExpr::new(Box::new(l), op, Box::new(r)))
        }
        _ => udf(op).call(vec![l, r]),
    })
}

/// The function computing `op` on two DECIMAL(p,s) in Hive's result type.
pub fn udf(op: Operator) -> ScalarUDF {
    let name = match op {
        Operator::Plus => "__hive_decimal_plus",
        Operator::Minus => "__hive_decimal_minus",
        Operator::Multiply => "__hive_decimal_multiply",
        Operator::Divide => "__hive_decimal_divide",
        _ => "__hive_decimal_modulo",
    };
    ScalarUDF::from(DecimalArith { name, op, signature: Signature::any(2, Volatility::Immutable) })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct DecimalArith {
    name: &'static str,
    op: Operator,
    signature: Signature,
}

fn decimal_of(t: &DataType) -> Result<(u8, i8)> {
    match t {
        DataType::Decimal128(p, s) => Ok((*p, *s)),
        other => plan_err!("decimal arithmetic on {other}"),
    }
}

fn ten_pow(n: i32) -> Option<i256> {
    i256::from_i128(10).checked_pow(n as u32)
}

/// `v` at scale `from` rescaled to scale `to`, rounding HALF_UP.
fn rescale(v: i256, from: i32, to: i32) -> Option<i256> {
    if to >= from {
        return v.checked_mul(ten_pow(to - from)?);
    }
    let d = ten_pow(from - to)?;
    let (q, r) = (v / d, v % d);
    let twice = r.wrapping_abs().checked_mul(i256::from_i128(2))?;
    Some(if twice >= d { q + i256::from_i128(if v.is_negative() { -1 } else { 1 }) } else { q })
}

/// `a op b` for unscaled values at scales `s1`, `s2`, in scale `s`.
fn compute(op: Operator, a: i256, s1: i32, b: i256, s2: i32, s: i32) -> Option<i256> {
    match op {
        Operator::Plus | Operator::Minus | Operator::Modulo => {
            let common = s1.max(s2);
            let (a, b) = (rescale(a, s1, common)?, rescale(b, s2, common)?);
            let v = match op {
                Operator::Plus => a.checked_add(b)?,
                Operator::Minus => a.checked_sub(b)?,
                _ if b == i256::ZERO => return None,
                _ => a % b,
            };
            rescale(v, common, s)
        }
        Operator::Multiply => rescale(a.checked_mul(b)?, s1 + s2, s),
        _ => {
            if b == i256::ZERO {
                return None;
            }
            // a/b at scale s is (a·10^(s−s1+s2)) / b, rounded HALF_UP.
            let k = s - s1 + s2;
            let (a, b) = if k >= 0 { (a.checked_mul(ten_pow(k)?)?, b) } else { (a, b.checked_mul(ten_pow(-k)?)?) };
            let (q, r) = (a / b, a % b);
            let up = r.wrapping_abs().checked_mul(i256::from_i128(2))? >= b.wrapping_abs();
            let negative = a.is_negative() != b.is_negative();
            Some(if up { q + i256::from_i128(if negative { -1 } else { 1 }) } else { q })
        }
    }
}

impl ScalarUDFImpl for DecimalArith {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        let (p, s) = uncapped(self.op, decimal_of(&args[0])?, decimal_of(&args[1])?);
        let (p, s) = cap(p, s);
        Ok(DataType::Decimal128(p, s))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let ((_, s1), (_, s2)) = (decimal_of(arrays[0].data_type())?, decimal_of(arrays[1].data_type())?);
        let DataType::Decimal128(p, s) = args.return_field.data_type().clone() else {
            return plan_err!("{}: result is not a decimal", self.name);
        };
        let limit = ten_pow(p as i32).expect("10^38 fits 256 bits");
        let (a, b) = (arrays[0].as_primitive::<Decimal128Type>(), arrays[1].as_primitive::<Decimal128Type>());
        let out: Decimal128Array = (0..a.len())
            .map(|i| {
                if a.is_null(i) || b.is_null(i) {
                    return None;
                }
                let (x, y) = (i256::from_i128(a.value(i)), i256::from_i128(b.value(i)));
                let v = compute(self.op, x, s1 as i32, y, s2 as i32, s as i32)?;
                if v.wrapping_abs() >= limit { None } else { v.to_i128() }
            })
            .collect();
        let out: ArrayRef = Arc::new(out.with_precision_and_scale(p, s)?);
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

    fn typed(op: Operator, a: (u8, i8), b: (u8, i8)) -> (u8, i8) {
        let (p, s) = uncapped(op, a, b);
        cap(p, s)
    }

    #[test]
    fn result_types_are_hives() {
        // 7.0/2: decimal(2,1) / literal (1,0) -> decimal(7,6)
        assert_eq!(typed(Operator::Divide, (2, 1), (1, 0)), (7, 6));
        assert_eq!(typed(Operator::Plus, (10, 2), (10, 3)), (12, 3));
        assert_eq!(typed(Operator::Multiply, (10, 2), (10, 3)), (21, 5));
        assert_eq!(typed(Operator::Modulo, (3, 1), (1, 0)), (2, 1));
        // capped: (38,10)*(38,10) -> 77 digits, 20 scale -> (38, 6)
        assert_eq!(typed(Operator::Multiply, (38, 10), (38, 10)), (38, 6));
        assert_eq!(typed(Operator::Divide, (38, 0), (10, 0)), (38, 6));
    }

    #[test]
    fn values_round_half_up() {
        let v = |x: i128| i256::from_i128(x);
        // 1.0 / 3 at scale 6 = 0.333333
        assert_eq!(compute(Operator::Divide, v(10), 1, v(3), 0, 6), Some(v(333_333)));
        // 2.0 / 3 = 0.666667 ; -2.0 / 3 = -0.666667
        assert_eq!(compute(Operator::Divide, v(20), 1, v(3), 0, 6), Some(v(666_667)));
        assert_eq!(compute(Operator::Divide, v(-20), 1, v(3), 0, 6), Some(v(-666_667)));
        assert_eq!(compute(Operator::Divide, v(1), 0, v(0), 0, 6), None);
        // -10.5 % 3 = -1.5 (sign of the dividend, as BigDecimal.remainder)
        assert_eq!(compute(Operator::Modulo, v(-105), 1, v(3), 0, 1), Some(v(-15)));
        // 0.25 at scale 1 rounds to 0.3, -0.25 to -0.3
        assert_eq!(rescale(v(25), 2, 1), Some(v(3)));
        assert_eq!(rescale(v(-25), 2, 1), Some(v(-3)));
    }
}
