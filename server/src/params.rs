//! `$1`, `$2`, ... in a statement sent with the extended protocol. HiveQL
//! has no bind parameters, so the values are written into the text as
//! literals of the statement's dialect (as pgjdbc itself does for simple
//! statements): numbers as numbers, text quoted and escaped, dates and
//! timestamps typed. The parameter's type is the one the client sent, else
//! the one the server described, else text.

use chrono::{NaiveDate, NaiveDateTime};
use datafusion::arrow::datatypes::DataType;
use pgwire::api::Type;
use pgwire::api::portal::Portal;
use pgwire::error::PgWireResult;
use rust_decimal::Decimal;

use crate::error::{code, user_error};

/// How string literals are escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `'it\'s'`: Hive reads backslash escapes.
    Hive,
    /// `'it''s'`: standard-conforming strings.
    Postgres,
}

/// `text` with every `$n` outside quotes and comments replaced by
/// `values[n - 1]`.
pub fn substitute(text: &str, values: &[String]) -> PgWireResult<String> {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len() + values.iter().map(String::len).sum::<usize>());
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\'' || c == b'"' || c == b'`' {
            let q = c;
            i += 1;
            while i < b.len() && b[i] != q {
                if b[i] == b'\\' && q == b'\'' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
        } else if c == b'-' && b.get(i + 1) == Some(&b'-') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                i += 1;
            }
            i += 2;
        } else if c == b'$' && b.get(i + 1).is_some_and(u8::is_ascii_digit) && (i == 0 || !is_word(b[i - 1])) {
            let start = i;
            i += 1;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let n: usize = text[start + 1..i].parse().unwrap_or(0);
            let value = n.checked_sub(1).and_then(|k| values.get(k)).ok_or_else(|| {
                user_error(
                    code::PROTOCOL_VIOLATION,
                    format!("there is no parameter ${n} ({} were bound)", values.len()),
                )
            })?;
            out.push_str(&text[copied..start]);
            out.push_str(value);
            copied = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&text[copied.min(text.len())..]);
    Ok(out)
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The highest `$n` in `text` (outside quotes), the number of parameters
/// a statement takes.
pub fn count(text: &str) -> usize {
    let mut n = 0;
    for w in crate::route::words(text) {
        if let Some(d) = w.strip_prefix('$').and_then(|d| d.parse::<usize>().ok()) {
            n = n.max(d);
        }
    }
    n
}

/// The PostgreSQL type a parameter of Arrow type `dt` is described as: one
/// of the types [`literal`] reads (the result columns' mapping,
/// `crate::wire::WireSchema`, also covers arrays and JSON, which a
/// parameter cannot be bound as), else text, which Hive converts where the
/// statement needs.
pub fn wire_type(dt: &DataType) -> Type {
    match dt {
        DataType::Boolean => Type::BOOL,
        DataType::Int8 | DataType::Int16 | DataType::UInt8 => Type::INT2,
        DataType::Int32 | DataType::UInt16 => Type::INT4,
        DataType::Int64 | DataType::UInt32 => Type::INT8,
        DataType::UInt64 | DataType::Decimal32(..) | DataType::Decimal64(..) => Type::NUMERIC,
        DataType::Decimal128(..) | DataType::Decimal256(..) => Type::NUMERIC,
        DataType::Float16 | DataType::Float32 => Type::FLOAT4,
        DataType::Float64 => Type::FLOAT8,
        DataType::Date32 | DataType::Date64 => Type::DATE,
        DataType::Timestamp(_, None) => Type::TIMESTAMP,
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => Type::BYTEA,
        _ => Type::TEXT,
    }
}

/// A quoted string literal.
pub fn quote(s: &str, dialect: Dialect) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match (dialect, c) {
            (_, '\'') if dialect == Dialect::Postgres => out.push_str("''"),
            (Dialect::Hive, '\'') => out.push_str("\\'"),
            (Dialect::Hive, '\\') => out.push_str("\\\\"),
            (_, c) => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// The literal for parameter `idx` of `portal`, read as `ty`.
pub fn literal<S: Clone>(portal: &Portal<S>, idx: usize, ty: &Type, dialect: Dialect) -> PgWireResult<String> {
    let bad = |e: pgwire::error::PgWireError| {
        user_error(code::INVALID_TEXT_REPRESENTATION, format!("parameter ${}: {e}", idx + 1))
    };
    if portal.parameters.get(idx).is_none_or(Option::is_none) {
        return Ok("NULL".into());
    }
    let number = |v: Option<String>| v.unwrap_or_else(|| "NULL".into());
    Ok(match *ty {
        Type::BOOL => number(portal.parameter::<bool>(idx, ty).map_err(bad)?.map(|b| b.to_string().to_uppercase())),
        Type::INT2 => number(portal.parameter::<i16>(idx, ty).map_err(bad)?.map(|v| v.to_string())),
        Type::INT4 => number(portal.parameter::<i32>(idx, ty).map_err(bad)?.map(|v| v.to_string())),
        Type::INT8 => number(portal.parameter::<i64>(idx, ty).map_err(bad)?.map(|v| v.to_string())),
        Type::OID => number(portal.parameter::<u32>(idx, ty).map_err(bad)?.map(|v| v.to_string())),
        Type::FLOAT4 => float(portal.parameter::<f32>(idx, ty).map_err(bad)?.map(f64::from), dialect),
        Type::FLOAT8 => float(portal.parameter::<f64>(idx, ty).map_err(bad)?, dialect),
        Type::NUMERIC => number(portal.parameter::<Decimal>(idx, ty).map_err(bad)?.map(|d| d.to_string())),
        Type::DATE => match portal.parameter::<NaiveDate>(idx, ty).map_err(bad)? {
            Some(d) => format!("DATE '{}'", d.format("%Y-%m-%d")),
            None => "NULL".into(),
        },
        Type::TIMESTAMP => match portal.parameter::<NaiveDateTime>(idx, ty).map_err(bad)? {
            Some(t) => format!("TIMESTAMP '{}'", t.format("%Y-%m-%d %H:%M:%S%.f")),
            None => "NULL".into(),
        },
        Type::BYTEA => match portal.parameter::<Vec<u8>>(idx, ty).map_err(bad)? {
            Some(bytes) => {
                let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
                match dialect {
                    Dialect::Hive => format!("unhex('{hex}')"),
                    Dialect::Postgres => format!("decode('{hex}', 'hex')"),
                }
            }
            None => "NULL".into(),
        },
        // text, varchar, unknown (no type sent) and anything else: as text,
        // which Hive converts where the statement needs another type
        _ => {
            let raw = portal.parameters[idx].as_ref().map(|b| String::from_utf8_lossy(b).into_owned());
            // text's binary form is its bytes (so is unknown's, as PostgreSQL reads it)
            let text_like = matches!(*ty, Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN);
            match (raw, portal.parameter_format.is_binary(idx)) {
                (Some(s), false) => quote(&s, dialect),
                (Some(_), true) if text_like => {
                    let bytes = portal.parameters[idx].as_deref().unwrap_or_default();
                    let s = std::str::from_utf8(bytes).map_err(|_| {
                        user_error(
                            code::CHARACTER_NOT_IN_REPERTOIRE,
                            format!("parameter ${}: invalid byte sequence for encoding \"UTF8\"", idx + 1),
                        )
                    })?;
                    quote(s, dialect)
                }
                (Some(_), true) => {
                    return Err(user_error(
                        code::FEATURE_NOT_SUPPORTED,
                        format!("parameter ${}: binary values of type {} are not supported", idx + 1, ty.name()),
                    ));
                }
                (None, _) => "NULL".into(),
            }
        }
    })
}

fn float(v: Option<f64>, dialect: Dialect) -> String {
    match v {
        None => "NULL".into(),
        Some(f) if f.is_finite() => {
            // an exponent makes the literal a DOUBLE in Hive, not a DECIMAL
            let s = format!("{f:e}");
            if dialect == Dialect::Hive { s } else { format!("{f}") }
        }
        Some(f) => {
            let name = if f.is_nan() {
                "NaN"
            } else if f > 0.0 {
                "Infinity"
            } else {
                "-Infinity"
            };
            match dialect {
                Dialect::Hive => format!("CAST('{name}' AS DOUBLE)"),
                Dialect::Postgres => format!("'{name}'::float8"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_outside_quotes_are_replaced() {
        let v = vec!["42".to_string(), "'x'".to_string()];
        assert_eq!(substitute("SELECT $1, '$1', $2 -- $1\n", &v).unwrap(), "SELECT 42, '$1', 'x' -- $1\n");
        assert_eq!(substitute("SELECT a$1 FROM t WHERE b = $2", &v).unwrap(), "SELECT a$1 FROM t WHERE b = 'x'");
        assert!(substitute("SELECT $3", &v).is_err());
        assert_eq!(count("SELECT $1 + $12, '$99'"), 12);
    }

    #[test]
    fn strings_are_escaped_for_their_dialect() {
        assert_eq!(quote("it's a \\ test", Dialect::Hive), "'it\\'s a \\\\ test'");
        assert_eq!(quote("it's", Dialect::Postgres), "'it''s'");
    }
}
