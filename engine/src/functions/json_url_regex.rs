//! Hive's JSON, URL and regular-expression functions: `get_json_object`
//! with Hive's path syntax (`$.a.b[0]`, `[*]`) over the SerDes' bounded
//! JSON scanner, values printed as Jackson prints them; `parse_url` with
//! `java.net.URL`'s parts; `regexp_extract`, `regexp_replace` and
//! `rlike`/`regexp` with Java regular expressions ([`super::java_regex`]).

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{DataType, Int32Type};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::java_regex::Cache;
use super::udf::{Arg, Args, HiveScalar, bools, exactly, optional, strings, try_strings};
use crate::serde::json::scan::{Kind, Scanner, unescape};

/// The functions of this module.
pub(crate) fn functions() -> Vec<ScalarUDF> {
    use Arg::*;
    use DataType::*;
    vec![
        HiveScalar::new("get_json_object", exactly(&[Str, Str]), |_, _| Ok(Utf8), get_json_object).udf(),
        HiveScalar::new("json_read", exactly(&[Str, Str]), json_read_type, json_read).udf(),
        parse_url_udf(),
        json_tuple_field(),
        HiveScalar::new("regexp_extract", optional(&[Str, Str, Int], 2), |_, _| Ok(Utf8), regexp_extract).udf(),
        HiveScalar::new("regexp_replace", exactly(&[Str, Str, Str]), |_, _| Ok(Utf8), regexp_replace).udf(),
        HiveScalar::new("rlike", exactly(&[Str, Str]), |_, _| Ok(Boolean), rlike).aliases(&["regexp"]).udf(),
    ]
}

/// `parse_url(url, part [, key])`.
pub(crate) fn parse_url_udf() -> ScalarUDF {
    HiveScalar::new("parse_url", optional(&[Arg::Str, Arg::Str, Arg::Str], 2), |_, _| Ok(DataType::Utf8), parse_url)
        .udf()
}

/// One value of `json_tuple(json, k1, ...)`: the top-level member `key`
/// as `get_json_object` prints values (any key, no path syntax).
pub(crate) fn json_tuple_field() -> ScalarUDF {
    HiveScalar::new(
        "__json_tuple_field",
        exactly(&[Arg::Str, Arg::Str]),
        |_, _| Ok(DataType::Utf8),
        |a| {
            let (json, key) = (a.str(0), a.str(1));
            Ok(strings(a.rows(), |i| extract(json.get(i)?.trim().as_bytes(), &[Step::Key(key.get(i)?.to_string())])))
        },
    )
    .udf()
}

// ---- get_json_object ----

/// One step of a Hive JSON path.
#[derive(Debug, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
    All,
}

/// `$` then `.key` and `[n]`/`[*]` steps; keys are `[A-Za-z0-9_\-:\s]+`.
fn parse_path(p: &str) -> Option<Vec<Step>> {
    let rest = p.strip_prefix('$')?;
    let mut steps = Vec::new();
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'.' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len()
                    && (b[j].is_ascii_alphanumeric()
                        || matches!(b[j], b'_' | b'-' | b':')
                        || b[j].is_ascii_whitespace())
                {
                    j += 1;
                }
                if j == start {
                    return None;
                }
                steps.push(Step::Key(rest[start..j].to_string()));
                i = j;
            }
            b'[' => {
                let end = i + rest[i..].find(']')?;
                let inner = &rest[i + 1..end];
                steps.push(if inner == "*" { Step::All } else { Step::Index(inner.parse().ok()?) });
                i = end + 1;
            }
            _ => return None,
        }
    }
    Some(steps)
}

type Span = (Kind, usize, usize);

/// The members of the object at `span`.
fn members(text: &[u8], span: Span) -> Option<Vec<(String, Span)>> {
    if span.0 != Kind::Object {
        return None;
    }
    let mut sc = Scanner::new(&text[..span.2]);
    sc.i = span.1 + 1;
    let mut out = Vec::new();
    sc.ws();
    if sc.peek() == Some(b'}') {
        return Some(out);
    }
    loop {
        sc.expect(b'"', "").ok()?;
        let (s, e, escaped) = sc.string_body().ok()?;
        let key = if escaped {
            let mut k = Vec::new();
            unescape(&text[s..e], &mut k);
            String::from_utf8_lossy(&k).into_owned()
        } else {
            String::from_utf8_lossy(&text[s..e]).into_owned()
        };
        sc.expect(b':', "").ok()?;
        let v = sc.value().ok()?;
        out.push((key, v));
        sc.ws();
        match sc.peek() {
            Some(b',') => sc.i += 1,
            _ => return Some(out),
        }
    }
}

/// The elements of the array at `span`.
fn elements(text: &[u8], span: Span) -> Option<Vec<Span>> {
    if span.0 != Kind::Array {
        return None;
    }
    let mut sc = Scanner::new(&text[..span.2]);
    sc.i = span.1 + 1;
    let mut out = Vec::new();
    sc.ws();
    if sc.peek() == Some(b']') {
        return Some(out);
    }
    loop {
        out.push(sc.value().ok()?);
        sc.ws();
        match sc.peek() {
            Some(b',') => sc.i += 1,
            _ => return Some(out),
        }
    }
}

/// A JSON number as Jackson reads it and Java prints it: integers exactly,
/// others as a double (`1.50` is `1.5`, `1e10` is `1.0E10`).
fn write_number(raw: &str, out: &mut String) {
    if raw.bytes().all(|c| c.is_ascii_digit() || c == b'-') {
        out.push_str(raw);
    } else {
        match raw.parse::<f64>() {
            Ok(v) => crate::value::write_java_double(v, out),
            Err(_) => out.push_str(raw),
        }
    }
}

/// The value at `span` re-serialised compactly (no white space outside
/// strings, numbers as Java prints them), as Jackson writes it.
fn write_compact(text: &[u8], span: Span, out: &mut String) {
    let raw = &text[span.1..span.2];
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        if c == b'"' {
            let start = i;
            i += 1;
            while i < raw.len() && raw[i] != b'"' {
                if raw[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i = (i + 1).min(raw.len());
            out.push_str(&String::from_utf8_lossy(&raw[start..i]));
        } else if c == b'-' || c.is_ascii_digit() {
            let start = i;
            while i < raw.len() && (raw[i].is_ascii_digit() || matches!(raw[i], b'-' | b'+' | b'.' | b'e' | b'E')) {
                i += 1;
            }
            write_number(&String::from_utf8_lossy(&raw[start..i]), out);
        } else {
            if !c.is_ascii_whitespace() {
                out.push(c as char);
            }
            i += 1;
        }
    }
}

/// A value as `get_json_object` returns it; `None` for JSON `null`.
fn json_result(text: &[u8], span: Span) -> Option<String> {
    let mut out = String::new();
    match span.0 {
        Kind::Null => return None,
        Kind::String => {
            let mut v = Vec::new();
            unescape(&text[span.1 + 1..span.2 - 1], &mut v);
            return Some(String::from_utf8_lossy(&v).into_owned());
        }
        Kind::Number => write_number(&String::from_utf8_lossy(&text[span.1..span.2]), &mut out),
        _ => write_compact(text, span, &mut out),
    }
    Some(out)
}

/// Hive's `UDFJson` walk: `.key` on an array maps over its objects and
/// flattens; `[*]` makes a list; a list of one value is that value.
fn extract(text: &[u8], steps: &[Step]) -> Option<String> {
    let mut sc = Scanner::new(text);
    let root = sc.value().ok()?;
    sc.ws();
    if sc.i != text.len() {
        return None;
    }
    let mut current = vec![root];
    let mut is_list = false;
    for step in steps {
        let mut next = Vec::new();
        match step {
            Step::Key(k) => {
                for &v in &current {
                    match v.0 {
                        Kind::Object => {
                            if let Some(m) = members(text, v)?.into_iter().rev().find(|(key, _)| key == k) {
                                next.push(m.1);
                            }
                        }
                        Kind::Array if is_list || current.len() == 1 => {
                            for e in elements(text, v)? {
                                if e.0 == Kind::Object
                                    && let Some(m) = members(text, e)?.into_iter().rev().find(|(key, _)| key == k)
                                {
                                    match m.1.0 {
                                        Kind::Array => next.extend(elements(text, m.1)?),
                                        _ => next.push(m.1),
                                    }
                                }
                            }
                            is_list = true;
                        }
                        _ => {}
                    }
                }
            }
            Step::Index(n) => {
                for &v in &current {
                    if let Some(e) = elements(text, v).and_then(|e| e.get(*n).copied()) {
                        next.push(e);
                    }
                }
            }
            Step::All => {
                for &v in &current {
                    if let Some(e) = elements(text, v) {
                        next.extend(e);
                    }
                }
                is_list = true;
            }
        }
        if next.is_empty() {
            return None;
        }
        current = next;
    }
    if is_list && current.len() > 1 {
        let mut out = String::from("[");
        for (j, v) in current.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            match v.0 {
                Kind::Number => write_number(&String::from_utf8_lossy(&text[v.1..v.2]), &mut out),
                _ => write_compact(text, *v, &mut out),
            }
        }
        out.push(']');
        return Some(out);
    }
    json_result(text, current[0])
}

fn get_json_object(a: &Args) -> Result<ArrayRef> {
    let (json, path) = (a.str(0), a.str(1));
    let mut last: Option<(String, Option<Vec<Step>>)> = None;
    Ok(strings(a.rows(), |i| {
        let (j, p) = (json.get(i)?, path.get(i)?);
        if last.as_ref().is_none_or(|(lp, _)| lp != p) {
            last = Some((p.to_string(), parse_path(p)));
        }
        let steps = last.as_ref()?.1.as_ref()?;
        extract(j.trim().as_bytes(), steps)
    }))
}

// ---- parse_url ----

/// The parts of a URL as `java.net.URL` splits it.
#[derive(Debug, Default, PartialEq)]
struct Url<'a> {
    protocol: &'a str,
    authority: Option<&'a str>,
    path: &'a str,
    query: Option<&'a str>,
    fragment: Option<&'a str>,
}

fn split_url(s: &str) -> Option<Url<'_>> {
    let colon = s.find(':')?;
    let protocol = &s[..colon];
    if protocol.is_empty()
        || !protocol.starts_with(|c: char| c.is_ascii_alphabetic())
        || !protocol.chars().all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
    {
        return None;
    }
    let mut rest = &s[colon + 1..];
    let mut url = Url { protocol, ..Url::default() };
    if let Some((r, f)) = rest.split_once('#') {
        url.fragment = Some(f);
        rest = r;
    }
    if let Some(r) = rest.strip_prefix("//") {
        let end = r.find(['/', '?']).unwrap_or(r.len());
        url.authority = Some(&r[..end]);
        rest = &r[end..];
    }
    if let Some((p, q)) = rest.split_once('?') {
        url.path = p;
        url.query = Some(q);
    } else {
        url.path = rest;
    }
    Some(url)
}

fn url_part(url: &Url, part: &str, key: Option<&str>, cache: &mut Cache) -> Result<Option<String>> {
    let host_port = url.authority.map(|a| a.rsplit_once('@').map_or(a, |(_, h)| h));
    Ok(match part {
        "HOST" => host_port.map(|h| {
            if h.starts_with('[') {
                h.find(']').map_or(h, |e| &h[..=e]).to_string()
            } else {
                h.rsplit_once(':').map_or(h, |(h, _)| h).to_string()
            }
        }),
        "PATH" => Some(url.path.to_string()),
        "QUERY" => match (url.query, key) {
            (Some(q), Some(k)) => {
                let re = cache.get(&format!("(&|^){k}=([^&]*)"))?;
                re.captures(q).and_then(|c| c.get(2).copied().flatten()).map(str::to_string)
            }
            (q, None) => q.map(str::to_string),
            (None, Some(_)) => None,
        },
        "REF" => url.fragment.map(str::to_string),
        "PROTOCOL" => Some(url.protocol.to_string()),
        "AUTHORITY" => url.authority.map(str::to_string),
        "FILE" => Some(match url.query {
            Some(q) => format!("{}?{q}", url.path),
            None => url.path.to_string(),
        }),
        "USERINFO" => url.authority.and_then(|a| a.rsplit_once('@')).map(|(u, _)| u.to_string()),
        _ => None,
    })
}

fn parse_url(a: &Args) -> Result<ArrayRef> {
    let (u, part) = (a.str(0), a.str(1));
    let key = (a.len() > 2).then(|| a.str(2));
    let mut cache = Cache::default();
    try_strings(a.rows(), |i| {
        let (Some(u), Some(part)) = (u.get(i), part.get(i)) else { return Ok(None) };
        let Some(url) = split_url(u.trim()) else { return Ok(None) };
        let k = match &key {
            Some(k) => match k.get(i) {
                Some(k) => Some(k),
                None => return Ok(None),
            },
            None => None,
        };
        url_part(&url, part, k, &mut cache)
    })
}

// ---- regular expressions ----

fn regexp_extract(a: &Args) -> Result<ArrayRef> {
    let (s, p) = (a.str(0), a.str(1));
    let idx = (a.len() > 2).then(|| a.prim::<Int32Type>(2));
    let mut cache = Cache::default();
    try_strings(a.rows(), |i| {
        let (Some(s), Some(p)) = (s.get(i), p.get(i)) else { return Ok(None) };
        let n = match &idx {
            Some(x) => match x.get(i) {
                Some(n) => n,
                None => return Ok(None),
            },
            None => 1,
        };
        let re = cache.get(p)?;
        if n < 0 || n as usize > re.groups() {
            return exec_err!("regexp_extract: group {n} does not exist in '{p}' ({} groups)", re.groups());
        }
        Ok(match re.captures(s) {
            None => Some(String::new()),
            Some(groups) => groups[n as usize].map(str::to_string),
        })
    })
}

fn regexp_replace(a: &Args) -> Result<ArrayRef> {
    let (s, p, r) = (a.str(0), a.str(1), a.str(2));
    let mut cache = Cache::default();
    try_strings(a.rows(), |i| {
        let (Some(s), Some(p), Some(r)) = (s.get(i), p.get(i), r.get(i)) else { return Ok(None) };
        cache.get(p)?.replace_all(s, r).map(Some)
    })
}

fn rlike(a: &Args) -> Result<ArrayRef> {
    let (s, p) = (a.str(0), a.str(1));
    let mut cache = Cache::default();
    let mut err = None;
    let out = bools(a.rows(), |i| {
        let (s, p) = (s.get(i)?, p.get(i)?);
        if p.is_empty() {
            return Some(false);
        }
        match cache.get(p) {
            Ok(re) => Some(re.is_match(s)),
            Err(e) => {
                err = Some(e);
                None
            }
        }
    });
    match err {
        Some(e) => exec_err!("{e}"),
        None => Ok(out),
    }
}

/// The type `json_read(json, 'type')` returns: the Hive type its constant
/// second argument names.
fn json_read_type(_: &[DataType], scalars: &[Option<&datafusion::common::ScalarValue>]) -> Result<DataType> {
    use datafusion::common::{ScalarValue, plan_err};
    let text = match scalars.get(1).copied().flatten() {
        Some(ScalarValue::Utf8(Some(t)) | ScalarValue::LargeUtf8(Some(t)) | ScalarValue::Utf8View(Some(t))) => t,
        _ => return plan_err!("json_read: the type must be a constant string, such as 'array<struct<a:int>>'"),
    };
    match hiveql_metastore::HiveType::parse(text) {
        Ok(t) => Ok(crate::types::arrow_type(&t)),
        Err(e) => plan_err!("json_read: '{text}' is not a Hive type: {e}"),
    }
}

/// `json_read(json, 'type')`: the JSON text read as a value of that type.
fn json_read(a: &Args) -> Result<ArrayRef> {
    let texts = a.str(0);
    let ty = a.ret().clone();
    crate::serde::json::read_values((0..a.rows()).map(|i| texts.get(i)), &ty)
        .map_err(datafusion::error::DataFusionError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(json: &str, path: &str) -> Option<String> {
        extract(json.as_bytes(), &parse_path(path)?)
    }

    #[test]
    fn json_paths_as_hive() {
        let j = r#"{"store":{"fruit":[{"weight":8,"type":"apple"},{"weight":9,"type":"pear"}],"bicycle":{"price":19.950,"color":"red"}},"owner":"amy","n":null}"#;
        assert_eq!(get(j, "$.owner").as_deref(), Some("amy"));
        assert_eq!(get(j, "$.store.bicycle.price").as_deref(), Some("19.95"));
        assert_eq!(get(j, "$.store.fruit[0]").as_deref(), Some(r#"{"weight":8,"type":"apple"}"#));
        assert_eq!(get(j, "$.store.fruit[*].type").as_deref(), Some(r#"["apple","pear"]"#));
        assert_eq!(get(j, "$.store.fruit[1].weight").as_deref(), Some("9"));
        assert_eq!(get(j, "$.n"), None);
        assert_eq!(get(j, "$.missing"), None);
        assert_eq!(get(j, "store"), None);
        assert_eq!(get("{\"a\": [1, 2.0e1]}", "$.a").as_deref(), Some("[1,20.0]"));
        assert_eq!(get("not json", "$.a"), None);
        assert_eq!(get(r#"[{"a":1}]"#, "$[0].a").as_deref(), Some("1"));
    }

    #[test]
    fn url_parts() {
        let u = split_url("http://user:pw@facebook.com:80/path/p1.php?query=1&k2=v2#Ref1").unwrap();
        let mut c = Cache::default();
        let p = |part: &str, key: Option<&str>, c: &mut Cache| url_part(&u, part, key, c).unwrap();
        assert_eq!(p("HOST", None, &mut c).as_deref(), Some("facebook.com"));
        assert_eq!(p("PATH", None, &mut c).as_deref(), Some("/path/p1.php"));
        assert_eq!(p("QUERY", None, &mut c).as_deref(), Some("query=1&k2=v2"));
        assert_eq!(p("QUERY", Some("k2"), &mut c).as_deref(), Some("v2"));
        assert_eq!(p("REF", None, &mut c).as_deref(), Some("Ref1"));
        assert_eq!(p("PROTOCOL", None, &mut c).as_deref(), Some("http"));
        assert_eq!(p("AUTHORITY", None, &mut c).as_deref(), Some("user:pw@facebook.com:80"));
        assert_eq!(p("FILE", None, &mut c).as_deref(), Some("/path/p1.php?query=1&k2=v2"));
        assert_eq!(p("USERINFO", None, &mut c).as_deref(), Some("user:pw"));
        assert_eq!(p("host", None, &mut c), None);
        assert!(split_url("not a url").is_none());
    }
}
