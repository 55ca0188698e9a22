//! Printing values the way Hive prints them: doubles as Java does (`1.0`,
//! `1.0E7`), booleans `true`/`false`, timestamps `yyyy-MM-dd HH:mm:ss[.fff]`,
//! and nested values in the CLI's JSON-like form (`["a","b"]`, `{"k":1}`).
//!
//! The text SerDe writer and the `hiveql` output formats share these rules.

use std::fmt::Write;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Date64Type, Decimal128Type, DurationMicrosecondType, DurationMillisecondType,
    DurationNanosecondType, DurationSecondType, Field, Float16Type, Float32Type, Float64Type, Int8Type, Int16Type,
    Int32Type, Int64Type, IntervalDayTimeType, IntervalMonthDayNanoType, IntervalUnit, IntervalYearMonthType, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt8Type,
    UInt16Type, UInt32Type, UInt64Type,
};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

/// Append a double as Java's `Double.toString` prints it.
pub fn write_java_double(v: f64, out: &mut String) {
    write_java_floating(v, out)
}

/// Append a float as Java's `Float.toString` prints it.
pub fn write_java_float(v: f32, out: &mut String) {
    write_java_floating(v, out)
}

/// Java prints the shortest digits that read back, plainly for magnitudes in
/// [1e-3, 1e7) (always with a fraction: `1.0`), otherwise as `d.dddE±n`.
fn write_java_floating<T: Copy + Into<f64> + std::fmt::Display + std::fmt::LowerExp>(v: T, out: &mut String) {
    let d: f64 = v.into();
    if d.is_nan() {
        out.push_str("NaN");
    } else if d.is_infinite() {
        out.push_str(if d < 0.0 { "-Infinity" } else { "Infinity" });
    } else if d == 0.0 {
        out.push_str(if d.is_sign_negative() { "-0.0" } else { "0.0" });
    } else if (1e-3..1e7).contains(&d.abs()) {
        let start = out.len();
        let _ = write!(out, "{v}");
        if !out[start..].contains('.') {
            out.push_str(".0");
        }
    } else {
        let sci = format!("{v:e}");
        let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
        out.push_str(mant);
        if !mant.contains('.') {
            out.push_str(".0");
        }
        out.push('E');
        out.push_str(exp);
    }
}

/// Append a timestamp given as nanoseconds since the epoch, Hive style.
pub fn write_timestamp_nanos(nanos: i64, out: &mut String) {
    let secs = nanos.div_euclid(1_000_000_000);
    let frac = nanos.rem_euclid(1_000_000_000) as u32;
    match chrono::DateTime::from_timestamp(secs, frac) {
        Some(dt) => {
            let _ = write!(out, "{}", dt.naive_utc().format("%Y-%m-%d %H:%M:%S"));
            if frac != 0 {
                let f = format!("{frac:09}");
                out.push('.');
                out.push_str(f.trim_end_matches('0'));
            }
        }
        None => out.push_str("NULL"),
    }
}

/// Append a date given as days since the epoch.
pub fn write_date(days: i32, out: &mut String) {
    match chrono::NaiveDate::from_ymd_opt(1970, 1, 1)
        .and_then(|d| d.checked_add_signed(chrono::Duration::days(days as i64)))
    {
        Some(d) => {
            let _ = write!(out, "{}", d.format("%Y-%m-%d"));
        }
        None => out.push_str("NULL"),
    }
}

/// Append a decimal with its scale (`123.45`).
pub fn write_decimal(v: i128, scale: i8, out: &mut String) {
    if scale <= 0 {
        let _ = write!(out, "{}", v * 10i128.pow((-scale) as u32));
        return;
    }
    let scale = scale as u32;
    let neg = v < 0;
    let digits = v.unsigned_abs().to_string();
    if neg {
        out.push('-');
    }
    if digits.len() as u32 <= scale {
        out.push_str("0.");
        for _ in 0..(scale - digits.len() as u32) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let split = digits.len() - scale as usize;
        out.push_str(&digits[..split]);
        out.push('.');
        out.push_str(&digits[split..]);
    }
}

const NANOS_PER_DAY: i128 = 86_400_000_000_000;

/// An INTERVAL YEAR TO MONTH as Hive prints it: `1-2`, `-0-3`.
fn write_year_month(months: i32, out: &mut String) {
    let sign = if months < 0 { "-" } else { "" };
    let m = months.unsigned_abs();
    let _ = write!(out, "{sign}{}-{}", m / 12, m % 12);
}

/// An INTERVAL DAY TO SECOND as Hive prints it: `1 02:03:04.000000000`.
fn write_day_time(nanos: i128, out: &mut String) {
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.unsigned_abs();
    let secs = n / 1_000_000_000;
    let _ = write!(
        out,
        "{sign}{} {:02}:{:02}:{:02}.{:09}",
        secs / 86_400,
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60,
        n % 1_000_000_000
    );
}

/// Append one non-null primitive value at `row`. Returns false for nested
/// types, which the caller formats itself.
pub fn write_primitive(array: &dyn Array, row: usize, out: &mut String) -> bool {
    macro_rules! int {
        ($t:ty) => {{
            let _ = write!(out, "{}", array.as_primitive::<$t>().value(row));
        }};
    }
    match array.data_type() {
        DataType::Boolean => out.push_str(if array.as_boolean().value(row) { "true" } else { "false" }),
        DataType::Int8 => int!(Int8Type),
        DataType::Int16 => int!(Int16Type),
        DataType::Int32 => int!(Int32Type),
        DataType::Int64 => int!(Int64Type),
        DataType::UInt8 => int!(UInt8Type),
        DataType::UInt16 => int!(UInt16Type),
        DataType::UInt32 => int!(UInt32Type),
        DataType::UInt64 => int!(UInt64Type),
        DataType::Float16 => write_java_float(array.as_primitive::<Float16Type>().value(row).to_f32(), out),
        DataType::Float32 => write_java_float(array.as_primitive::<Float32Type>().value(row), out),
        DataType::Float64 => write_java_double(array.as_primitive::<Float64Type>().value(row), out),
        DataType::Decimal128(_, s) => write_decimal(array.as_primitive::<Decimal128Type>().value(row), *s, out),
        DataType::Utf8 => out.push_str(array.as_string::<i32>().value(row)),
        DataType::LargeUtf8 => out.push_str(array.as_string::<i64>().value(row)),
        DataType::Utf8View => out.push_str(array.as_string_view().value(row)),
        DataType::Date32 => write_date(array.as_primitive::<Date32Type>().value(row), out),
        DataType::Date64 => write_date((array.as_primitive::<Date64Type>().value(row) / 86_400_000) as i32, out),
        DataType::Timestamp(unit, _) => {
            let nanos = match unit {
                TimeUnit::Second => {
                    array.as_primitive::<TimestampSecondType>().value(row).saturating_mul(1_000_000_000)
                }
                TimeUnit::Millisecond => {
                    array.as_primitive::<TimestampMillisecondType>().value(row).saturating_mul(1_000_000)
                }
                TimeUnit::Microsecond => {
                    array.as_primitive::<TimestampMicrosecondType>().value(row).saturating_mul(1_000)
                }
                TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().value(row),
            };
            write_timestamp_nanos(nanos, out)
        }
        DataType::Interval(IntervalUnit::YearMonth) => {
            write_year_month(array.as_primitive::<IntervalYearMonthType>().value(row), out)
        }
        DataType::Interval(IntervalUnit::DayTime) => {
            let v = array.as_primitive::<IntervalDayTimeType>().value(row);
            write_day_time(v.days as i128 * NANOS_PER_DAY + v.milliseconds as i128 * 1_000_000, out)
        }
        DataType::Interval(IntervalUnit::MonthDayNano) => {
            let v = array.as_primitive::<IntervalMonthDayNanoType>().value(row);
            match (v.months, v.days, v.nanoseconds) {
                (m, 0, 0) if m != 0 => write_year_month(m, out),
                (0, d, n) => write_day_time(d as i128 * NANOS_PER_DAY + n as i128, out),
                // no Hive type holds both months and days
                (m, d, n) => {
                    write_year_month(m, out);
                    out.push(' ');
                    write_day_time(d as i128 * NANOS_PER_DAY + n as i128, out)
                }
            }
        }
        DataType::Duration(unit) => {
            let (v, per) = match unit {
                TimeUnit::Second => (array.as_primitive::<DurationSecondType>().value(row), 1_000_000_000),
                TimeUnit::Millisecond => (array.as_primitive::<DurationMillisecondType>().value(row), 1_000_000),
                TimeUnit::Microsecond => (array.as_primitive::<DurationMicrosecondType>().value(row), 1_000),
                TimeUnit::Nanosecond => (array.as_primitive::<DurationNanosecondType>().value(row), 1),
            };
            write_day_time(v as i128 * per, out)
        }
        DataType::Binary => out.push_str(&String::from_utf8_lossy(array.as_binary::<i32>().value(row))),
        DataType::LargeBinary => out.push_str(&String::from_utf8_lossy(array.as_binary::<i64>().value(row))),
        DataType::BinaryView => out.push_str(&String::from_utf8_lossy(array.as_binary_view().value(row))),
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::FixedSizeList(..)
        | DataType::Map(..)
        | DataType::Struct(_)
        | DataType::Union(..) => {
            return false;
        }
        DataType::Dictionary(..) => {
            let arr = datafusion::arrow::compute::cast(&array.slice(row, 1), &DataType::Utf8);
            match arr {
                Ok(a) if a.is_valid(0) => out.push_str(a.as_string::<i32>().value(0)),
                _ => out.push_str("NULL"),
            }
        }
        _ => {
            let opts = FormatOptions::default();
            match ArrayFormatter::try_new(array, &opts) {
                Ok(f) => {
                    let _ = write!(out, "{}", f.value(row));
                }
                Err(_) => out.push('?'),
            }
        }
    }
    true
}

fn is_stringy(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Date32
            | DataType::Date64
            | DataType::Timestamp(..)
            | DataType::Binary
            | DataType::LargeBinary
            | DataType::Dictionary(..)
    )
}

/// Append `s` as a quoted JSON string.
pub fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Append a value inside a nested value: strings quoted, NULL as `null`.
pub fn write_nested_element(array: &dyn Array, row: usize, out: &mut String) {
    write_element(array, row, out, Nesting::Hive)
}

/// How nested values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Nesting {
    /// As the Hive CLI prints them: a map's keys and a union's tag with
    /// their own types (`{1:"a"}`).
    Hive,
    /// Valid JSON: every key a string (`{"1":"a"}`).
    Json,
}

fn write_element(array: &dyn Array, row: usize, out: &mut String, nesting: Nesting) {
    if array.is_null(row) || array.data_type() == &DataType::Null {
        out.push_str("null");
    } else if is_stringy(array.data_type()) {
        let mut s = String::new();
        write_primitive(array, row, &mut s);
        write_json_string(&s, out);
    } else {
        write_nested(array, row, out, nesting);
    }
}

/// Append a non-null value as the Hive CLI prints it.
pub fn write_value(array: &dyn Array, row: usize, out: &mut String) {
    write_nested(array, row, out, Nesting::Hive)
}

/// Append a non-null value as the Hive CLI prints it, except that a
/// nested value is valid JSON (a map's keys are strings): what a JSON
/// column over the PostgreSQL wire carries.
pub fn write_json_value(array: &dyn Array, row: usize, out: &mut String) {
    write_nested(array, row, out, Nesting::Json)
}

/// A map key or union tag: as itself, or as a JSON string.
fn write_key(array: &dyn Array, row: usize, out: &mut String, nesting: Nesting) {
    if nesting == Nesting::Json && !is_stringy(array.data_type()) && !array.is_null(row) {
        let mut s = String::new();
        write_nested(array, row, &mut s, nesting);
        write_json_string(&s, out);
    } else {
        write_element(array, row, out, nesting);
    }
}

fn write_nested(array: &dyn Array, row: usize, out: &mut String, nesting: Nesting) {
    if write_primitive(array, row, out) {
        return;
    }
    match array.data_type() {
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) => {
            let values: ArrayRef = match array.data_type() {
                DataType::List(_) => array.as_list::<i32>().value(row),
                DataType::LargeList(_) => array.as_list::<i64>().value(row),
                _ => array.as_fixed_size_list().value(row),
            };
            out.push('[');
            for i in 0..values.len() {
                if i > 0 {
                    out.push(',');
                }
                write_element(values.as_ref(), i, out, nesting);
            }
            out.push(']');
        }
        DataType::Map(..) => {
            let entries = array.as_map().value(row);
            out.push('{');
            for i in 0..entries.len() {
                if i > 0 {
                    out.push(',');
                }
                // keys print with their own type: `{"k":1}`, `{1:"a"}` (JSON: `{"1":"a"}`)
                write_key(entries.column(0).as_ref(), i, out, nesting);
                out.push(':');
                write_element(entries.column(1).as_ref(), i, out, nesting);
            }
            out.push('}');
        }
        DataType::Struct(fields) => {
            let s = array.as_struct();
            out.push('{');
            for (i, f) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(f.name(), out);
                out.push(':');
                write_element(s.column(i).as_ref(), row, out, nesting);
            }
            out.push('}');
        }
        // Hive prints a union as `{tag:value}`
        DataType::Union(..) => {
            let Some(u) = array.as_any().downcast_ref::<datafusion::arrow::array::UnionArray>() else {
                out.push('?');
                return;
            };
            let tag = u.type_id(row);
            match nesting {
                Nesting::Hive => {
                    let _ = write!(out, "{{{tag}:");
                }
                Nesting::Json => {
                    let _ = write!(out, "{{\"{tag}\":");
                }
            }
            write_element(u.child(tag).as_ref(), u.value_offset(row), out, nesting);
            out.push('}');
        }
        _ => out.push('?'),
    }
}

/// [`format_value`] for a column of a result: a CHAR(n) column (see
/// [`crate::types::TextLimit`]) is padded with spaces to n characters.
pub fn format_field_value(field: &Field, array: &dyn Array, row: usize) -> Option<String> {
    let mut v = format_value(array, row)?;
    if let Some(limit) = crate::types::TextLimit::of(field).filter(|l| l.char) {
        let n = v.chars().count();
        v.extend(std::iter::repeat_n(' ', limit.length.saturating_sub(n)));
    }
    Some(v)
}

/// The value at `row` as the Hive CLI prints it, `None` for NULL.
pub fn format_value(array: &dyn Array, row: usize) -> Option<String> {
    if array.is_null(row) || array.data_type() == &DataType::Null {
        return None;
    }
    let mut s = String::new();
    write_value(array, row, &mut s);
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Float64Array, ListArray, StringArray};
    use datafusion::arrow::datatypes::Int32Type;

    fn d(v: f64) -> String {
        let mut s = String::new();
        write_java_double(v, &mut s);
        s
    }

    #[test]
    fn doubles_print_like_java() {
        assert_eq!(d(1.0), "1.0");
        assert_eq!(d(2.5), "2.5");
        assert_eq!(d(1e7), "1.0E7");
        assert_eq!(d(12345678.9), "1.23456789E7");
        assert_eq!(d(0.0001), "1.0E-4");
        assert_eq!(d(0.001), "0.001");
        assert_eq!(d(-0.0), "-0.0");
        assert_eq!(d(f64::NAN), "NaN");
        assert_eq!(d(100.0 / 3.0), "33.333333333333336");
    }

    #[test]
    fn decimals_timestamps_and_nested() {
        let mut s = String::new();
        write_decimal(-5, 2, &mut s);
        assert_eq!(s, "-0.05");
        s.clear();
        write_timestamp_nanos(1_404_561_600_500_000_000, &mut s);
        assert_eq!(s, "2014-07-05 12:00:00.5");
        let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(vec![Some(1), None, Some(3)])]);
        assert_eq!(format_value(&list, 0).unwrap(), "[1,null,3]");
        let strs = StringArray::from(vec![Some("a\"b")]);
        let mut s = String::new();
        write_nested_element(&strs, 0, &mut s);
        assert_eq!(s, "\"a\\\"b\"");
        assert_eq!(format_value(&Float64Array::from(vec![3.0]), 0).unwrap(), "3.0");
    }

    #[test]
    fn intervals_print_like_hive() {
        let mut s = String::new();
        write_year_month(14, &mut s);
        s.push('|');
        write_year_month(-3, &mut s);
        s.push('|');
        write_day_time(-(NANOS_PER_DAY + 7_384_000_000_000 + 500_000_000), &mut s);
        assert_eq!(s, "1-2|-0-3|-1 02:03:04.500000000");
    }
}
