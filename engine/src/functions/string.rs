//! Hive's string functions where DataFusion's differ (the reference marks
//! them `≈`, `≠` or `✗`): `concat` is NULL when any argument is, `substr`
//! counts negative positions from the end, `split` and `str_to_map` take
//! Java regular expressions, `instr`/`substr` index UTF-16 code units as
//! Java strings do, and so on. Functions the reference marks `=` stay
//! DataFusion's.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, ListBuilder, MapBuilder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int32Type, Int64Type};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::java_regex::JavaRegex;
use super::udf::{Arg, Args, HiveScalar, exactly, optional, strings, strings_into, try_strings, variadic};
use crate::value;

/// The string functions of this module.
pub(crate) fn functions() -> Vec<ScalarUDF> {
    use Arg::*;
    use DataType::*;
    vec![
        HiveScalar::new(
            "concat",
            variadic(&[Any], 1),
            |t, _| Ok(if t.iter().all(is_bin) { Binary } else { Utf8 }),
            concat,
        )
        .udf(),
        HiveScalar::new("concat_ws", variadic(&[Str, Any], 2), |_, _| Ok(Utf8), concat_ws).udf(),
        substr_udf(),
        HiveScalar::new("substring_index", exactly(&[Str, Str, Int]), |_, _| Ok(Utf8), substring_index).udf(),
        HiveScalar::new("space", exactly(&[Int]), |_, _| Ok(Utf8), space).udf(),
        HiveScalar::new("ascii", exactly(&[Str]), |_, _| Ok(Int32), ascii).udf(),
        HiveScalar::new("chr", exactly(&[Double]), |_, _| Ok(Utf8), chr).udf(),
        HiveScalar::new("lpad", optional(&[Str, Int, Str], 2), |_, _| Ok(Utf8), lpad).udf(),
        HiveScalar::new("rpad", optional(&[Str, Int, Str], 2), |_, _| Ok(Utf8), rpad).udf(),
        HiveScalar::new("initcap", exactly(&[Str]), |_, _| Ok(Utf8), initcap).udf(),
        HiveScalar::new("instr", optional(&[Str, Str, Int, Int], 2), |_, _| Ok(Int32), instr).udf(),
        HiveScalar::new("locate", optional(&[Str, Str, Int], 2), |_, _| Ok(Int32), locate).aliases(&["position"]).udf(),
        HiveScalar::new("field", variadic(&[Str], 1), |_, _| Ok(Int32), field).udf(),
        HiveScalar::new("elt", variadic(&[Int, Str], 2), |_, _| Ok(Utf8), elt).udf(),
        HiveScalar::new("likeany", variadic(&[Str], 2), |_, _| Ok(Boolean), |a| like_many(a, false)).udf(),
        HiveScalar::new("likeall", variadic(&[Str], 2), |_, _| Ok(Boolean), |a| like_many(a, true)).udf(),
        HiveScalar::new("soundex", exactly(&[Str]), |_, _| Ok(Utf8), soundex).udf(),
        HiveScalar::new("replace", exactly(&[Str, Str, Str]), |_, _| Ok(Utf8), replace).udf(),
        HiveScalar::new("split", exactly(&[Str, Str]), |_, _| Ok(list_of_strings()), split).udf(),
        HiveScalar::new("str_to_map", optional(&[Str, Str, Str], 1), |_, _| Ok(map_of_strings()), str_to_map).udf(),
        HiveScalar::new("format_number", exactly(&[Any, Any]), |_, _| Ok(Utf8), format_number).udf(),
        HiveScalar::new("quote", exactly(&[Str]), |_, _| Ok(Utf8), quote).udf(),
        HiveScalar::new("encode", exactly(&[Str, Str]), |_, _| Ok(Binary), encode).udf(),
        HiveScalar::new("decode", exactly(&[StrOrBin, Str]), |_, _| Ok(Utf8), decode).udf(),
        HiveScalar::new("printf", variadic(&[Str, Any], 1), |_, _| Ok(Utf8), printf).udf(),
        HiveScalar::new(
            "sentences",
            optional(&[Str, Str, Str], 1),
            |_, _| Ok(DataType::new_list(list_of_strings(), true)),
            sentences,
        )
        .udf(),
        HiveScalar::new("length", exactly(&[StrOrBin]), |_, _| Ok(Int32), length).udf(),
        HiveScalar::new("character_length", exactly(&[StrOrBin]), |_, _| Ok(Int32), character_length)
            .aliases(&["char_length"])
            .udf(),
        HiveScalar::new("octet_length", exactly(&[StrOrBin]), |_, _| Ok(Int32), octet_length).udf(),
    ]
}

/// `substr(s, pos [, len])`, also `substring` and `mid`.
pub(crate) fn substr_udf() -> ScalarUDF {
    let params = optional(&[Arg::StrOrBin, Arg::Long, Arg::Long], 2);
    HiveScalar::new("substr", params, |t, _| Ok(if is_bin(&t[0]) { DataType::Binary } else { DataType::Utf8 }), substr)
        .aliases(&["substring", "mid"])
        .udf()
}

fn is_bin(t: &DataType) -> bool {
    matches!(t, DataType::Binary | DataType::LargeBinary | DataType::BinaryView)
}

/// `array<string>`.
pub(crate) fn list_of_strings() -> DataType {
    DataType::new_list(DataType::Utf8, true)
}

/// `map<string,string>` as DataFusion's `map` builds it.
pub(crate) fn map_of_strings() -> DataType {
    MapBuilder::new(None, StringBuilder::new(), StringBuilder::new()).finish().data_type().clone()
}

/// Append argument `k` at row `i` as Hive's `concat` reads it: strings as
/// they are, booleans `TRUE`/`FALSE`, numbers as Hive prints them. False
/// for NULL.
pub(crate) fn push_text(args: &Args, k: usize, i: usize, out: &mut String) -> bool {
    let col = args.col(k);
    let row = args.at(k, i);
    if col.is_null(row) {
        return false;
    }
    match col.data_type() {
        DataType::Boolean => out.push_str(if col.as_boolean().value(row) { "TRUE" } else { "FALSE" }),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            if let Some(s) = args.str(k).get(i) {
                out.push_str(s)
            }
        }
        _ => value::write_value(col.as_ref(), row, out),
    }
    true
}

fn concat(a: &Args) -> Result<ArrayRef> {
    if a.ret() == &DataType::Binary {
        let cols: Vec<_> = (0..a.len()).map(|k| a.bytes(k)).collect();
        return Ok(super::udf::binaries(a.rows(), |i| {
            let mut out = Vec::new();
            for c in &cols {
                out.extend_from_slice(c.get(i)?);
            }
            Some(out)
        }));
    }
    // text arguments read straight from their arrays; others as Hive prints them
    let texts: Vec<Option<super::udf::Strs>> =
        (0..a.len()).map(|k| super::is_string(a.data_type(k)).then(|| a.str(k))).collect();
    Ok(strings_into(a.rows(), |i, out| {
        texts.iter().enumerate().all(|(k, t)| match t {
            Some(t) => t.get(i).map(|v| out.push_str(v)).is_some(),
            None => push_text(a, k, i, out),
        })
    }))
}

fn concat_ws(a: &Args) -> Result<ArrayRef> {
    let sep = a.str(0);
    Ok(strings_into(a.rows(), |i, out| {
        let Some(sep) = sep.get(i) else { return false };
        let mut first = true;
        let mut piece = |s: &str, out: &mut String| {
            if !first {
                out.push_str(sep);
            }
            first = false;
            out.push_str(s);
        };
        for k in 1..a.len() {
            let col = a.col(k);
            let row = a.at(k, i);
            if col.is_null(row) {
                continue;
            }
            match col.data_type() {
                DataType::List(_) | DataType::LargeList(_) => {
                    let values: ArrayRef = if let DataType::List(_) = col.data_type() {
                        col.as_list::<i32>().value(row)
                    } else {
                        col.as_list::<i64>().value(row)
                    };
                    let mut text = String::new();
                    for j in 0..values.len() {
                        text.clear();
                        match value::format_value(values.as_ref(), j) {
                            Some(v) => piece(&v, out),
                            None => piece("null", out),
                        }
                    }
                    if values.is_empty() {
                        piece("", out);
                    }
                }
                _ => {
                    let mut text = String::new();
                    push_text(a, k, i, &mut text);
                    piece(&text, out);
                }
            }
        }
        true
    }))
}

/// Java's `String.length()`: UTF-16 code units.
fn utf16_len(s: &str) -> usize {
    if s.is_ascii() { s.len() } else { s.chars().map(char::len_utf16).sum() }
}

/// `s[start..end]` in UTF-16 code units, as Java's `substring` (a split
/// surrogate pair becomes U+FFFD, as Java's UTF-8 encoder writes `?`).
fn utf16_slice(s: &str, start: usize, end: usize) -> String {
    if s.is_ascii() {
        return s[start..end].to_string();
    }
    let units: Vec<u16> = s.encode_utf16().collect();
    String::from_utf16_lossy(&units[start..end])
}

/// Hive's `UDFSubstr` start and end for a value of `len` units.
fn substr_range(pos: i64, count: Option<i64>, len: usize) -> Option<(usize, usize)> {
    let len_i = len as i64;
    if let Some(c) = count
        && c <= 0
    {
        return Some((0, 0));
    }
    if pos.unsigned_abs() > len as u64 {
        return Some((0, 0));
    }
    let start = if pos > 0 {
        pos - 1
    } else if pos < 0 {
        len_i + pos
    } else {
        0
    };
    let end = match count {
        Some(c) if len_i - start >= c => start + c,
        _ => len_i,
    };
    Some((start as usize, end as usize))
}

fn substr(a: &Args) -> Result<ArrayRef> {
    let pos = a.prim::<Int64Type>(1);
    let count = (a.len() > 2).then(|| a.prim::<Int64Type>(2));
    let bounds = |i: usize| -> Option<(i64, Option<i64>)> {
        let p = pos.get(i)?;
        let c = match &count {
            Some(c) => Some(c.get(i)?),
            None => None,
        };
        // a BIGINT position or length outside INT's range is NULL
        let int = |v: i64| i32::try_from(v).is_ok();
        (int(p) && c.is_none_or(int)).then_some((p, c))
    };
    if is_bin(a.data_type(0)) {
        let s = a.bytes(0);
        return Ok(super::udf::binaries(a.rows(), |i| {
            let v = s.get(i)?;
            let (p, c) = bounds(i)?;
            let (x, y) = substr_range(p, c, v.len())?;
            Some(v[x..y].to_vec())
        }));
    }
    let s = a.str(0);
    Ok(strings_into(a.rows(), |i, out| {
        let (Some(v), Some((p, c))) = (s.get(i), bounds(i)) else { return false };
        if v.is_ascii() {
            if let Some((x, y)) = substr_range(p, c, v.len()) {
                out.push_str(&v[x..y]);
            }
        } else if let Some((x, y)) = substr_range(p, c, utf16_len(v)) {
            out.push_str(&utf16_slice(v, x, y));
        }
        true
    }))
}

fn substring_index(a: &Args) -> Result<ArrayRef> {
    let (s, d, n) = (a.str(0), a.str(1), a.prim::<Int32Type>(2));
    Ok(strings(a.rows(), |i| {
        let (s, d, n) = (s.get(i)?, d.get(i)?, n.get(i)?);
        if n == 0 || s.is_empty() || d.is_empty() {
            return Some(String::new());
        }
        if n > 0 {
            let mut at = 0;
            for _ in 0..n {
                match s[at..].find(d) {
                    Some(p) => at += p + d.len(),
                    None => return Some(s.to_string()),
                }
            }
            Some(s[..at - d.len()].to_string())
        } else {
            // Hive finds the |n|-th delimiter from the end and returns what
            // follows its first character (so `('a::b::c','::',-1)` is `:c`).
            let mut end = s.len();
            let mut found = 0;
            for _ in 0..n.unsigned_abs() {
                match s[..end].rfind(d) {
                    Some(p) => {
                        found = p;
                        end = p;
                    }
                    None => return Some(s.to_string()),
                }
                if end == 0 {
                    break;
                }
            }
            let cut = found + s[found..].chars().next().map_or(1, char::len_utf8);
            Some(s[cut..].to_string())
        }
    }))
}

fn space(a: &Args) -> Result<ArrayRef> {
    let n = a.prim::<Int32Type>(0);
    Ok(strings(a.rows(), |i| Some(" ".repeat(n.get(i)?.max(0) as usize))))
}

fn ascii(a: &Args) -> Result<ArrayRef> {
    let s = a.str(0);
    Ok(super::udf::prims::<Int32Type>(a.rows(), |i| Some(s.get(i)?.as_bytes().first().map_or(0, |b| *b as i8 as i32))))
}

fn chr(a: &Args) -> Result<ArrayRef> {
    let n = a.prim::<Float64Type>(0);
    Ok(strings(a.rows(), |i| {
        let v = n.get(i)?.trunc();
        if v < 0.0 {
            return Some(String::new());
        }
        let code = (v as i64 % 256) as u8;
        Some(char::from(code).to_string())
    }))
}

fn pad(a: &Args, left: bool) -> Result<ArrayRef> {
    let (s, n) = (a.str(0), a.prim::<Int32Type>(1));
    let p = (a.len() > 2).then(|| a.str(2));
    try_strings(a.rows(), |i| {
        let (Some(s), Some(n)) = (s.get(i), n.get(i)) else { return Ok(None) };
        let pad = match &p {
            Some(p) => match p.get(i) {
                Some(p) => p,
                None => return Ok(None),
            },
            None => " ",
        };
        if n < 0 {
            return exec_err!("{}: negative length {n}", if left { "lpad" } else { "rpad" });
        }
        let n = n as usize;
        let chars: Vec<char> = s.chars().collect();
        if chars.len() >= n {
            return Ok(Some(chars[..n].iter().collect()));
        }
        if pad.is_empty() {
            return Ok(None);
        }
        let fill: String = pad.chars().cycle().take(n - chars.len()).collect();
        Ok(Some(if left { fill + s } else { s.to_string() + &fill }))
    })
}

fn lpad(a: &Args) -> Result<ArrayRef> {
    pad(a, true)
}

fn rpad(a: &Args) -> Result<ArrayRef> {
    pad(a, false)
}

fn initcap(a: &Args) -> Result<ArrayRef> {
    let s = a.str(0);
    Ok(strings_into(a.rows(), |i, out| {
        let Some(v) = s.get(i) else { return false };
        let mut start = true;
        for c in v.chars() {
            if c.is_whitespace() {
                start = true;
                out.push(c);
            } else if start {
                out.extend(c.to_uppercase());
                start = false;
            } else {
                out.extend(c.to_lowercase());
            }
        }
        true
    }))
}

/// The UTF-16 index of byte offset `b` of `s`.
fn utf16_index(s: &str, b: usize) -> usize {
    if s.is_ascii() { b } else { s[..b].chars().map(char::len_utf16).sum() }
}

fn instr(a: &Args) -> Result<ArrayRef> {
    let (s, sub) = (a.str(0), a.str(1));
    let pos = (a.len() > 2).then(|| a.prim::<Int32Type>(2));
    let occ = (a.len() > 3).then(|| a.prim::<Int32Type>(3));
    Ok(super::udf::prims::<Int32Type>(a.rows(), |i| {
        let (s, sub) = (s.get(i)?, sub.get(i)?);
        let pos = match &pos {
            Some(p) => p.get(i)?,
            None => 1,
        };
        let occ = match &occ {
            Some(o) => o.get(i)?,
            None => 1,
        };
        if occ <= 0 {
            return None;
        }
        if pos == 0 {
            return Some(0);
        }
        // every start of `sub` (overlapping, as Java's indexOf steps by one), in UTF-16 units
        let starts = s
            .char_indices()
            .map(|(b, _)| b)
            .chain(std::iter::once(s.len()))
            .filter(|&b| s[b..].starts_with(sub))
            .map(|b| utf16_index(s, b) as i64);
        let found = if pos > 0 {
            starts.filter(|&u| u >= pos as i64 - 1).nth(occ as usize - 1)
        } else {
            let from = utf16_len(s) as i64 + pos as i64;
            let before: Vec<i64> = starts.filter(|&u| u <= from).collect();
            before.len().checked_sub(occ as usize).map(|j| before[j])
        };
        Some(found.map_or(0, |u| u as i32 + 1))
    }))
}

fn locate(a: &Args) -> Result<ArrayRef> {
    let (sub, s) = (a.str(0), a.str(1));
    let pos = (a.len() > 2).then(|| a.prim::<Int32Type>(2));
    Ok(super::udf::prims::<Int32Type>(a.rows(), |i| {
        let (sub, s) = (sub.get(i)?, s.get(i)?);
        let pos = match &pos {
            Some(p) => match p.get(i) {
                Some(p) => p,
                None => return Some(0),
            },
            None => 1,
        };
        if pos < 1 {
            return Some(0);
        }
        let chars = s.chars().count();
        let start_char = (pos - 1) as usize;
        if start_char > chars {
            return Some(0);
        }
        let start = s.char_indices().nth(start_char).map_or(s.len(), |(b, _)| b);
        match s[start..].find(sub) {
            Some(b) => Some((s[..start + b].chars().count() + 1) as i32),
            None => Some(0),
        }
    }))
}

fn field(a: &Args) -> Result<ArrayRef> {
    let cols: Vec<_> = (0..a.len()).map(|k| a.str(k)).collect();
    Ok(super::udf::prims::<Int32Type>(a.rows(), |i| {
        let Some(v) = cols[0].get(i) else { return Some(0) };
        Some(cols[1..].iter().position(|c| c.get(i) == Some(v)).map_or(0, |p| p as i32 + 1))
    }))
}

fn elt(a: &Args) -> Result<ArrayRef> {
    let n = a.prim::<Int32Type>(0);
    let cols: Vec<_> = (1..a.len()).map(|k| a.str(k)).collect();
    Ok(strings(a.rows(), |i| {
        let n = n.get(i)?;
        if n < 1 || n as usize > cols.len() {
            return None;
        }
        cols[n as usize - 1].get(i).map(str::to_string)
    }))
}

/// `likeany(s, p1, ...)` / `likeall(...)` (Hive's `s LIKE ANY (p1, ...)`):
/// NULL when `s` or any pattern is NULL, else whether any (all) match.
fn like_many(a: &Args, all: bool) -> Result<ArrayRef> {
    let cols: Vec<_> = (0..a.len()).map(|k| a.str(k)).collect();
    Ok(super::udf::bools(a.rows(), |i| {
        let s = cols[0].get(i)?;
        let patterns = cols[1..].iter().map(|c| c.get(i)).collect::<Option<Vec<&str>>>()?;
        let mut matches = patterns.iter().map(|p| like_match(s, p));
        Some(if all { matches.all(|m| m) } else { matches.any(|m| m) })
    }))
}

/// Hive's `LIKE`: `%` any run of characters, `_` one character, `\` makes
/// the next character literal; the whole value must match.
pub(crate) fn like_match(s: &str, pattern: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum Tok {
        Any,
        One,
        Char(char),
    }
    let mut toks = Vec::new();
    let mut it = pattern.chars();
    while let Some(c) = it.next() {
        toks.push(match c {
            '%' => Tok::Any,
            '_' => Tok::One,
            '\\' => Tok::Char(it.next().unwrap_or('\\')),
            c => Tok::Char(c),
        });
    }
    let s: Vec<char> = s.chars().collect();
    // Greedy match with backtracking to the last `%`.
    let (mut si, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        match toks.get(ti) {
            Some(Tok::Any) => {
                star = Some((ti, si));
                ti += 1;
            }
            Some(Tok::One) => {
                si += 1;
                ti += 1;
            }
            Some(Tok::Char(c)) if *c == s[si] => {
                si += 1;
                ti += 1;
            }
            _ => match star {
                Some((t, at)) => {
                    ti = t + 1;
                    si = at + 1;
                    star = Some((t, at + 1));
                }
                None => return false,
            },
        }
    }
    toks[ti..].iter().all(|t| *t == Tok::Any)
}

/// commons-codec's Soundex (American mapping).
fn soundex_of(s: &str) -> Option<String> {
    const MAP: &[u8; 26] = b"01230120022455012623010202";
    let letters: Vec<char> = s.chars().filter(|c| c.is_alphabetic()).collect();
    if s.is_empty() {
        return Some(String::new());
    }
    let first = *letters.first()?;
    let code = |c: char| -> Option<u8> {
        let u = c.to_ascii_uppercase();
        if u.is_ascii_uppercase() { Some(MAP[(u as u8 - b'A') as usize]) } else { None }
    };
    code(first)?;
    let mut out = String::new();
    out.push(first.to_ascii_uppercase());
    let mut last = code(first);
    for &c in &letters[1..] {
        let d = code(c)?;
        let u = c.to_ascii_uppercase();
        if d != b'0' && Some(d) != last {
            out.push(d as char);
            if out.len() == 4 {
                break;
            }
        }
        // H and W do not separate equal codes
        if u != 'H' && u != 'W' {
            last = Some(d);
        }
    }
    while out.len() < 4 {
        out.push('0');
    }
    Some(out)
}

fn soundex(a: &Args) -> Result<ArrayRef> {
    let s = a.str(0);
    Ok(strings(a.rows(), |i| soundex_of(s.get(i)?)))
}

fn replace(a: &Args) -> Result<ArrayRef> {
    let (s, from, to) = (a.str(0), a.str(1), a.str(2));
    Ok(strings(a.rows(), |i| {
        let (s, from, to) = (s.get(i)?, from.get(i)?, to.get(i)?);
        if from.is_empty() {
            // Java inserts the replacement around every character
            let mut out = String::with_capacity(s.len() + to.len() * (s.len() + 1));
            out.push_str(to);
            for c in s.chars() {
                out.push(c);
                out.push_str(to);
            }
            return Some(out);
        }
        Some(s.replace(from, to))
    }))
}

/// Java's `String.split(regex, -1)`.
pub(crate) fn java_split<'s>(re: &JavaRegex, s: &'s str) -> Vec<&'s str> {
    let mut out = Vec::new();
    let mut last = 0;
    for (start, end) in re.find_iter(s) {
        if end == 0 {
            // a zero-width match at the start never gives a leading empty piece
            continue;
        }
        out.push(&s[last..start]);
        last = end;
    }
    out.push(&s[last..]);
    out
}

fn split(a: &Args) -> Result<ArrayRef> {
    let (s, p) = (a.str(0), a.str(1));
    let mut cache = super::java_regex::Cache::default();
    let mut b = ListBuilder::new(StringBuilder::new());
    for i in 0..a.rows() {
        let (Some(s), Some(p)) = (s.get(i), p.get(i)) else {
            b.append_null();
            continue;
        };
        let re = cache.get(p)?;
        for piece in java_split(re, s) {
            b.values().append_value(piece);
        }
        b.append(true);
    }
    Ok(Arc::new(b.finish()))
}

fn str_to_map(a: &Args) -> Result<ArrayRef> {
    let text = a.str(0);
    let d1 = (a.len() > 1).then(|| a.str(1));
    let d2 = (a.len() > 2).then(|| a.str(2));
    let (mut c1, mut c2) = (super::java_regex::Cache::default(), super::java_regex::Cache::default());
    let mut b = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    for i in 0..a.rows() {
        let p1 = d1.as_ref().map_or(Some(","), |d| d.get(i));
        let p2 = d2.as_ref().map_or(Some(":"), |d| d.get(i));
        let (Some(p1), Some(p2)) = (p1, p2) else {
            b.append(false)?;
            continue;
        };
        let Some(text) = text.get(i) else {
            // NULL text is an empty map
            b.append(true)?;
            continue;
        };
        let (r1, r2) = (c1.get(p1)?, c2.get(p2)?);
        let mut pairs: Vec<(&str, Option<&str>)> = Vec::new();
        for pair in java_split(r1, text) {
            // Java's split(regex, 2): cut at the first match
            let kv: Vec<&str> = match r2.find_iter(pair).into_iter().find(|(_, e)| *e > 0) {
                Some((start, end)) => vec![&pair[..start], &pair[end..]],
                None => vec![pair],
            };
            let (k, v) = (kv[0], kv.get(1).copied());
            match pairs.iter_mut().find(|(key, _)| *key == k) {
                Some(p) => p.1 = v,
                None => pairs.push((k, v)),
            }
        }
        for (k, v) in pairs {
            b.keys().append_value(k);
            b.values().append_option(v);
        }
        b.append(true)?;
    }
    Ok(Arc::new(b.finish()))
}

/// Digits of `v` rounded HALF_EVEN to `d` places, with `,` every three
/// integer digits (`DecimalFormat("#,###,###.00")`).
fn group_digits(int: &str, out: &mut String) {
    let n = int.len();
    for (j, c) in int.chars().enumerate() {
        if j > 0 && (n - j).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
}

/// Round the decimal text `digits` (no sign, optional `.`) HALF_EVEN to `d` places.
pub(crate) fn round_text(text: &str, d: usize, half_even: bool) -> (String, String) {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let mut digits: Vec<u8> = int.bytes().chain(frac.bytes()).map(|b| b - b'0').collect();
    let int_len = int.len();
    let keep = int_len + d;
    if digits.len() > keep {
        let rest = &digits[keep..];
        let first = rest[0];
        let beyond = rest[1..].iter().any(|&x| x != 0);
        let last_odd = keep > 0 && digits[keep - 1] % 2 == 1;
        let up = first > 5 || (first == 5 && (beyond || !half_even || last_odd));
        digits.truncate(keep);
        if up {
            let mut j = keep;
            loop {
                if j == 0 {
                    digits.insert(0, 1);
                    break;
                }
                j -= 1;
                if digits[j] == 9 {
                    digits[j] = 0;
                } else {
                    digits[j] += 1;
                    break;
                }
            }
        }
    }
    while digits.len() < keep {
        digits.push(0);
    }
    let split = digits.len() - d;
    let s: String = digits.iter().map(|x| (x + b'0') as char).collect();
    let (i, f) = s.split_at(split);
    let i = i.trim_start_matches('0');
    (if i.is_empty() { "0".to_string() } else { i.to_string() }, f.to_string())
}

/// The plain decimal text of a double as `BigDecimal.valueOf` sees it.
pub(crate) fn plain_double(v: f64) -> String {
    let s = format!("{}", v.abs());
    if !s.contains('e') {
        return s;
    }
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    let (mi, mf) = m.split_once('.').unwrap_or((m, ""));
    let digits = format!("{mi}{mf}");
    let point = mi.len() as i32 + e;
    if point <= 0 {
        format!("0.{}{}", "0".repeat((-point) as usize), digits)
    } else if point as usize >= digits.len() {
        format!("{}{}", digits, "0".repeat(point as usize - digits.len()))
    } else {
        format!("{}.{}", &digits[..point as usize], &digits[point as usize..])
    }
}

fn format_number(a: &Args) -> Result<ArrayRef> {
    let x = a.col(0).clone();
    let d = a.col(1).clone();
    if !x.data_type().is_numeric() && !x.data_type().is_null() {
        return exec_err!("format_number: argument 1 must be a number, not {}", x.data_type());
    }
    let x64 = datafusion::arrow::compute::cast(&x, &DataType::Utf8)?;
    let places =
        if d.data_type().is_integer() { Some(datafusion::arrow::compute::cast(&d, &DataType::Int64)?) } else { None };
    let pattern = if super::is_string(d.data_type()) {
        Some(datafusion::arrow::compute::cast(&d, &DataType::Utf8)?)
    } else {
        None
    };
    let xs = x64.as_string::<i32>();
    let xf = datafusion::arrow::compute::cast(&x, &DataType::Float64)?;
    let xf = xf.as_primitive::<Float64Type>();
    let mut err = None;
    let out = strings(a.rows(), |i| {
        let xi = a.at(0, i);
        if xs.is_null(xi) {
            return None;
        }
        let di = a.at(1, i);
        let places = match (&places, &pattern) {
            (Some(p), _) => {
                let p = p.as_primitive::<Int64Type>();
                if p.is_null(di) {
                    return None;
                }
                p.value(di)
            }
            (None, Some(p)) => {
                let p = p.as_string::<i32>();
                if p.is_null(di) {
                    return None;
                }
                // the fraction digits a DecimalFormat pattern asks for
                let pat = p.value(di);
                pat.split_once('.').map_or(0, |(_, f)| f.chars().filter(|c| *c == '0' || *c == '#').count()) as i64
            }
            _ => return None,
        };
        if places < 0 {
            err = Some(places);
            return None;
        }
        let text = match x.data_type() {
            DataType::Float32 | DataType::Float64 | DataType::Float16 => {
                let v = xf.value(xi);
                if !v.is_finite() {
                    return Some(value::format_value(&xf, xi).unwrap_or_default());
                }
                (if v.is_sign_negative() && v != 0.0 { "-" } else { "" }).to_string() + &plain_double(v)
            }
            _ => xs.value(xi).to_string(),
        };
        let (neg, body) = match text.strip_prefix('-') {
            Some(b) => (true, b),
            None => (false, text.as_str()),
        };
        let (int, frac) = round_text(body, places as usize, true);
        let mut out = String::new();
        if neg && (int != "0" || frac.bytes().any(|b| b != b'0')) {
            out.push('-');
        }
        group_digits(&int, &mut out);
        if !frac.is_empty() {
            out.push('.');
            out.push_str(&frac);
        }
        Some(out)
    });
    if let Some(p) = err {
        return exec_err!("format_number: the number of decimal places must not be negative, got {p}");
    }
    Ok(out)
}

fn quote(a: &Args) -> Result<ArrayRef> {
    let s = a.str(0);
    Ok(strings(a.rows(), |i| Some(format!("'{}'", s.get(i)?.replace('\'', "\\'")))))
}

/// A charset name as Java's `Charset.forName` knows it.
#[derive(Clone, Copy)]
enum Charset {
    Utf8,
    Ascii,
    Latin1,
    Utf16Be,
    Utf16Le,
    Utf16,
}

fn charset(name: &str) -> Option<Charset> {
    Some(match name.to_ascii_uppercase().replace('_', "-").as_str() {
        "UTF-8" | "UTF8" => Charset::Utf8,
        "US-ASCII" | "ASCII" => Charset::Ascii,
        "ISO-8859-1" | "LATIN1" | "ISO8859-1" => Charset::Latin1,
        "UTF-16BE" => Charset::Utf16Be,
        "UTF-16LE" => Charset::Utf16Le,
        "UTF-16" => Charset::Utf16,
        _ => return None,
    })
}

fn encode(a: &Args) -> Result<ArrayRef> {
    let (s, cs) = (a.str(0), a.str(1));
    let mut bad = None;
    let out = super::udf::binaries(a.rows(), |i| {
        let (s, name) = (s.get(i)?, cs.get(i)?);
        let Some(c) = charset(name) else {
            bad = Some(name.to_string());
            return None;
        };
        Some(match c {
            Charset::Utf8 => s.as_bytes().to_vec(),
            // unmappable characters become '?', as Java's encoders do
            Charset::Ascii => s.chars().map(|c| if c.is_ascii() { c as u8 } else { b'?' }).collect(),
            Charset::Latin1 => s.chars().map(|c| if (c as u32) < 256 { c as u8 } else { b'?' }).collect(),
            Charset::Utf16Be => s.encode_utf16().flat_map(u16::to_be_bytes).collect(),
            Charset::Utf16Le => s.encode_utf16().flat_map(u16::to_le_bytes).collect(),
            Charset::Utf16 => [0xFE, 0xFF].into_iter().chain(s.encode_utf16().flat_map(u16::to_be_bytes)).collect(),
        })
    });
    match bad {
        Some(name) => exec_err!("encode: unsupported charset {name}"),
        None => Ok(out),
    }
}

fn decode(a: &Args) -> Result<ArrayRef> {
    let (b, cs) = (a.bytes(0), a.str(1));
    let mut bad = None;
    let out = strings(a.rows(), |i| {
        let (b, name) = (b.get(i)?, cs.get(i)?);
        let Some(c) = charset(name) else {
            bad = Some(name.to_string());
            return None;
        };
        let units = |le: bool, b: &[u8]| -> String {
            let u: Vec<u16> = b
                .chunks(2)
                .map(|p| {
                    if p.len() == 2 {
                        if le { u16::from_le_bytes([p[0], p[1]]) } else { u16::from_be_bytes([p[0], p[1]]) }
                    } else {
                        0xFFFD
                    }
                })
                .collect();
            String::from_utf16_lossy(&u)
        };
        Some(match c {
            Charset::Utf8 => String::from_utf8_lossy(b).into_owned(),
            Charset::Ascii => b.iter().map(|&x| if x < 128 { x as char } else { '\u{FFFD}' }).collect(),
            Charset::Latin1 => b.iter().map(|&x| x as char).collect(),
            Charset::Utf16Be => units(false, b),
            Charset::Utf16Le => units(true, b),
            Charset::Utf16 => match b {
                [0xFF, 0xFE, rest @ ..] => units(true, rest),
                [0xFE, 0xFF, rest @ ..] => units(false, rest),
                _ => units(false, b),
            },
        })
    });
    match bad {
        Some(name) => exec_err!("decode: unsupported charset {name}"),
        None => Ok(out),
    }
}

/// `java.util.Formatter` with `Locale.US`, for the conversions Hive users
/// write: `%s %S %d %x %X %o %f %e %E %g %c %b %% %n`, flags `-+ 0,#(`,
/// width and precision, and `%n$` argument indexes.
fn printf(a: &Args) -> Result<ArrayRef> {
    let fmt = a.str(0);
    try_strings(a.rows(), |i| {
        let Some(f) = fmt.get(i) else { return Ok(None) };
        let mut out = String::new();
        match format_java(f, a, i, &mut out) {
            Ok(()) => Ok(Some(out)),
            Err(e) => exec_err!("printf: {e}"),
        }
    })
}

fn format_java(f: &str, a: &Args, row: usize, out: &mut String) -> std::result::Result<(), String> {
    let b = f.as_bytes();
    let mut i = 0;
    let mut next_arg = 1;
    while i < b.len() {
        if b[i] != b'%' {
            let start = i;
            while i < b.len() && b[i] != b'%' {
                i += 1;
            }
            out.push_str(&f[start..i]);
            continue;
        }
        i += 1;
        // %[index$][flags][width][.precision]conversion
        let spec_start = i;
        let mut index = None;
        let mut j = i;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j < b.len() && b[j] == b'$' && j > i {
            index = f[i..j].parse::<usize>().ok();
            i = j + 1;
        }
        let mut flags = String::new();
        while i < b.len() && b"-#+ 0,(".contains(&b[i]) {
            flags.push(b[i] as char);
            i += 1;
        }
        let ws = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let width: usize = f[ws..i].parse().unwrap_or(0);
        let mut precision = None;
        if i < b.len() && b[i] == b'.' {
            i += 1;
            let ps = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            precision = f[ps..i].parse::<usize>().ok();
        }
        let Some(&conv) = b.get(i) else { return Err(format!("unfinished format specifier '%{}'", &f[spec_start..])) };
        i += 1;
        let conv = conv as char;
        if conv == '%' {
            pad_to(out, "%", width, &flags);
            continue;
        }
        if conv == 'n' {
            out.push('\n');
            continue;
        }
        let k = match index {
            Some(n) => n,
            None => {
                let k = next_arg;
                next_arg += 1;
                k
            }
        };
        if k == 0 || k >= a.len() {
            return Err(format!("format specifier '%{conv}' has no argument"));
        }
        let col = a.col(k);
        let r = a.at(k, row);
        let text = if col.is_null(r) {
            match conv {
                'b' | 'B' => "false".to_string(),
                _ => "null".to_string(),
            }
        } else {
            format_one(col.as_ref(), r, conv, &flags, precision)?
        };
        let text = if conv.is_ascii_uppercase() { text.to_uppercase() } else { text };
        pad_to(out, &text, width, &flags);
    }
    Ok(())
}

fn pad_to(out: &mut String, text: &str, width: usize, flags: &str) {
    let n = text.chars().count();
    if n >= width {
        out.push_str(text);
    } else if flags.contains('-') {
        out.push_str(text);
        out.extend(std::iter::repeat_n(' ', width - n));
    } else if flags.contains('0') && text.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+') {
        let (sign, digits) = if text.starts_with(['-', '+']) { text.split_at(1) } else { ("", text) };
        out.push_str(sign);
        out.extend(std::iter::repeat_n('0', width - n));
        out.push_str(digits);
    } else {
        out.extend(std::iter::repeat_n(' ', width - n));
        out.push_str(text);
    }
}

fn format_one(
    col: &dyn Array,
    r: usize,
    conv: char,
    flags: &str,
    precision: Option<usize>,
) -> std::result::Result<String, String> {
    let t = col.data_type();
    let as_f64 = || -> std::result::Result<f64, String> {
        let c = datafusion::arrow::compute::cast(&col.slice(r, 1), &DataType::Float64).map_err(|e| e.to_string())?;
        Ok(c.as_primitive::<Float64Type>().value(0))
    };
    let as_i64 = || -> std::result::Result<i64, String> {
        if !t.is_integer() {
            return Err(format!("%{conv} needs an integer argument, not {t}"));
        }
        let c = datafusion::arrow::compute::cast(&col.slice(r, 1), &DataType::Int64).map_err(|e| e.to_string())?;
        Ok(c.as_primitive::<Int64Type>().value(0))
    };
    let sign = |neg: bool, body: String| -> String {
        if neg {
            if flags.contains('(') { format!("({body})") } else { format!("-{body}") }
        } else if flags.contains('+') {
            format!("+{body}")
        } else if flags.contains(' ') {
            format!(" {body}")
        } else {
            body
        }
    };
    let grouped = |int: &str| -> String {
        if flags.contains(',') {
            let mut s = String::new();
            group_digits(int, &mut s);
            s
        } else {
            int.to_string()
        }
    };
    Ok(match conv.to_ascii_lowercase() {
        's' => {
            let mut s = String::new();
            value::write_value(col, r, &mut s);
            match precision {
                Some(p) => s.chars().take(p).collect(),
                None => s,
            }
        }
        'b' => match t {
            DataType::Boolean => col.as_boolean().value(r).to_string(),
            _ => "true".to_string(),
        },
        'c' => {
            let v = as_i64()?;
            char::from_u32(v as u32).map(String::from).ok_or(format!("{v} is not a character"))?
        }
        'd' => {
            let v = as_i64()?;
            sign(v < 0, grouped(&v.unsigned_abs().to_string()))
        }
        'x' => {
            let v = as_i64()?;
            let body = match t {
                DataType::Int8 => format!("{:x}", v as i8),
                DataType::Int16 => format!("{:x}", v as i16),
                DataType::Int32 => format!("{:x}", v as i32),
                _ => format!("{v:x}"),
            };
            if flags.contains('#') { format!("0x{body}") } else { body }
        }
        'o' => {
            let v = as_i64()?;
            let body = match t {
                DataType::Int32 => format!("{:o}", v as i32),
                _ => format!("{v:o}"),
            };
            if flags.contains('#') { format!("0{body}") } else { body }
        }
        'f' => {
            let v = as_f64()?;
            if !v.is_finite() {
                return Ok(if v.is_nan() { "NaN".into() } else { sign(v < 0.0, "Infinity".into()) });
            }
            let p = precision.unwrap_or(6);
            let (int, frac) = round_text(&plain_double(v), p, false);
            let body = if frac.is_empty() { grouped(&int) } else { format!("{}.{frac}", grouped(&int)) };
            sign(v.is_sign_negative() && v != 0.0, body)
        }
        'e' => {
            let v = as_f64()?;
            let p = precision.unwrap_or(6);
            let s = format!("{:.*e}", p, v.abs());
            let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
            let e: i32 = e.parse().unwrap_or(0);
            sign(v < 0.0, format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs()))
        }
        'g' => {
            let v = as_f64()?;
            let p = precision.unwrap_or(6).max(1);
            let abs = v.abs();
            if abs != 0.0 && (abs < 1e-4 || abs >= 10f64.powi(p as i32)) {
                let s = format!("{:.*e}", p - 1, abs);
                let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
                let e: i32 = e.parse().unwrap_or(0);
                sign(v < 0.0, format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs()))
            } else {
                let digits_before = if abs == 0.0 { 1 } else { abs.log10().floor() as i64 + 1 };
                let places = (p as i64 - digits_before).max(0) as usize;
                let (int, frac) = round_text(&plain_double(abs), places, false);
                let body = if frac.is_empty() { grouped(&int) } else { format!("{}.{frac}", grouped(&int)) };
                sign(v < 0.0, body)
            }
        }
        'h' => {
            let mut s = String::new();
            value::write_value(col, r, &mut s);
            format!("{:x}", java_string_hash(&s))
        }
        other => return Err(format!("unknown format conversion '%{other}'")),
    })
}

/// Java's `String.hashCode`.
pub(crate) fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(u as i32))
}

/// Sentences and words as `java.text.BreakIterator` cuts plain text: a
/// sentence ends after `.`, `!` or `?` followed by white space; words are
/// runs of letters, digits, `'` and `_`; punctuation is dropped.
fn sentences(a: &Args) -> Result<ArrayRef> {
    let s = a.str(0);
    let mut b = ListBuilder::new(ListBuilder::new(StringBuilder::new()));
    for i in 0..a.rows() {
        let Some(text) = s.get(i) else {
            b.append_null();
            continue;
        };
        let mut words: Vec<String> = Vec::new();
        let mut word = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if c.is_alphanumeric() || c == '\'' || c == '_' {
                word.push(c);
                continue;
            }
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            let ends = matches!(c, '.' | '!' | '?') && chars.peek().is_none_or(|n| n.is_whitespace());
            if ends && !words.is_empty() {
                for w in words.drain(..) {
                    b.values().values().append_value(w);
                }
                b.values().append(true);
            }
        }
        if !word.is_empty() {
            words.push(word);
        }
        if !words.is_empty() {
            for w in words {
                b.values().values().append_value(w);
            }
            b.values().append(true);
        }
        b.append(true);
    }
    Ok(Arc::new(b.finish()))
}

fn length(a: &Args) -> Result<ArrayRef> {
    let b = a.bytes(0);
    let text = !is_bin(a.data_type(0));
    Ok(super::udf::prims::<Int32Type>(a.rows(), |i| {
        let v = b.get(i)?;
        Some(if text { bytecount_chars(v) } else { v.len() } as i32)
    }))
}

/// Code points in UTF-8 text (bytes that do not continue a character).
fn bytecount_chars(v: &[u8]) -> usize {
    v.iter().filter(|&&b| (b as i8) >= -0x40).count()
}

fn character_length(a: &Args) -> Result<ArrayRef> {
    let b = a.bytes(0);
    Ok(super::udf::prims::<Int32Type>(a.rows(), |i| Some(bytecount_chars(b.get(i)?) as i32)))
}

fn octet_length(a: &Args) -> Result<ArrayRef> {
    let b = a.bytes(0);
    Ok(super::udf::prims::<Int32Type>(a.rows(), |i| Some(b.get(i)?.len() as i32)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substr_follows_udfsubstr() {
        let s = |p, c, len| substr_range(p, c, len);
        assert_eq!(s(-5, None, 8), Some((3, 8))); // substr('Facebook', -5) = 'ebook'
        assert_eq!(s(0, Some(2), 8), Some((0, 2)));
        assert_eq!(s(9, None, 8), Some((0, 0)));
        assert_eq!(s(2, Some(-1), 8), Some((0, 0)));
        assert_eq!(s(5, Some(10), 8), Some((4, 8)));
    }

    #[test]
    fn soundex_as_commons_codec() {
        assert_eq!(soundex_of("Miller").as_deref(), Some("M460"));
        assert_eq!(soundex_of("Ashcraft").as_deref(), Some("A261"));
        assert_eq!(soundex_of("Tymczak").as_deref(), Some("T522"));
        assert_eq!(soundex_of("").as_deref(), Some(""));
    }

    #[test]
    fn rounding_text() {
        assert_eq!(round_text("2.5", 0, true), ("2".into(), "".into()));
        assert_eq!(round_text("3.5", 0, true), ("4".into(), "".into()));
        assert_eq!(round_text("1.005", 2, false), ("1".into(), "01".into()));
        assert_eq!(round_text("999.996", 2, false), ("1000".into(), "00".into()));
        assert_eq!(plain_double(1e-7), "0.0000001");
        assert_eq!(plain_double(1.5e20), "150000000000000000000");
    }
}

#[cfg(test)]
mod like_tests {
    use super::like_match;

    #[test]
    fn like_as_hive_matches() {
        assert!(like_match("abc", "a%"));
        assert!(like_match("abc", "%c"));
        assert!(like_match("abc", "a_c"));
        assert!(like_match("abc", "%"));
        assert!(like_match("", "%"));
        assert!(!like_match("", "_"));
        assert!(like_match("a%c", "a\\%c"));
        assert!(!like_match("abc", "a\\%c"));
        assert!(like_match("aXbXc", "a%b%c"));
        assert!(!like_match("abcd", "a%b%c"));
        assert!(like_match("日本語", "日_語"));
        assert!(like_match("mississippi", "%iss%pi"));
    }
}
