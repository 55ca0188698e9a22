//! TIMESTAMP values in JSON: Hive's `yyyy-MM-dd HH:mm:ss[.fffffffff]`,
//! ISO-8601 with `T`, `Z` or an offset (converted to UTC), numbers of
//! seconds or milliseconds since the epoch, and the Java patterns of the
//! `timestamp.formats` SerDe property (`millis` means epoch milliseconds).

use chrono::{DateTime, NaiveDate, NaiveDateTime};

use crate::serde::parse::parse_timestamp;

/// A Java `DateTimeFormatter`/`SimpleDateFormat` pattern as a chrono format.
pub fn java_to_strftime(java: &str) -> Result<String, String> {
    if java == "millis" {
        return Ok(java.to_string());
    }
    let chars: Vec<char> = java.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // Quoted literal text; '' is a quote.
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '\'' {
                out.push(chars[j]);
                j += 1;
            }
            if j == i + 1 {
                out.push('\'');
            }
            i = j + 1;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            if c == '%' {
                out.push_str("%%");
            } else {
                out.push(c);
            }
            i += 1;
            continue;
        }
        let mut n = 1;
        while i + n < chars.len() && chars[i + n] == c {
            n += 1;
        }
        let spec = match (c, n) {
            ('y' | 'u', 2) => "%y",
            ('y' | 'u', _) => "%Y",
            ('M', 1 | 2) => "%m",
            ('M', 3) => "%b",
            ('M', _) => "%B",
            ('d', _) => "%d",
            ('H', _) => "%H",
            ('h', _) => "%I",
            ('m', _) => "%M",
            ('s', _) => "%S",
            ('S', 3) => "%3f",
            ('S', 6) => "%6f",
            ('S', 9) => "%9f",
            ('S', _) => "%f",
            ('a', _) => "%p",
            ('E', 1..=3) => "%a",
            ('E', _) => "%A",
            ('D', _) => "%j",
            ('Z', _) => "%z",
            ('X' | 'x', 1 | 2) => "%#z",
            ('X' | 'x', _) => "%:z",
            (other, _) => return Err(format!("pattern letter '{other}' is not supported")),
        };
        out.push_str(spec);
        i += n;
    }
    Ok(out)
}

fn nanos(t: NaiveDateTime) -> Option<i64> {
    t.and_utc().timestamp_nanos_opt()
}

/// Nanoseconds since the epoch of `text`; `number` says it was a JSON number.
pub fn parse(text: &[u8], number: bool, formats: &[String]) -> Option<i64> {
    let s = std::str::from_utf8(text).ok()?.trim();
    for f in formats {
        if f == "millis" {
            if let Ok(ms) = s.parse::<i64>() {
                return ms.checked_mul(1_000_000);
            }
            continue;
        }
        if f.contains("%z") || f.contains("%:z") || f.contains("%#z") {
            if let Ok(t) = DateTime::parse_from_str(s, f) {
                return t.timestamp_nanos_opt();
            }
        } else if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return nanos(t);
        } else if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            return nanos(d.and_hms_opt(0, 0, 0)?);
        }
    }
    if !number && let Some(v) = parse_timestamp(s.as_bytes()) {
        return Some(v);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return t.timestamp_nanos_opt();
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%:z"] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return t.timestamp_nanos_opt();
        }
    }
    // Epoch numbers: milliseconds from 10^11 up (year 5138 in seconds), else seconds.
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'-' || b == b'.') {
        if let Ok(v) = s.parse::<i64>() {
            return if v.abs() >= 100_000_000_000 { v.checked_mul(1_000_000) } else { v.checked_mul(1_000_000_000) };
        }
        if let Ok(v) = s.parse::<f64>() {
            return Some((v * 1e9).round() as i64);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_patterns() {
        assert_eq!(java_to_strftime("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").unwrap(), "%Y-%m-%dT%H:%M:%S.%3fZ");
        assert_eq!(java_to_strftime("dd/MMM/yyyy:HH:mm:ss Z").unwrap(), "%d/%b/%Y:%H:%M:%S %z");
        assert!(java_to_strftime("yyyy-QQ").unwrap_err().contains("'Q'"));
    }

    #[test]
    fn forms() {
        let f = vec![java_to_strftime("dd/MMM/yyyy:HH:mm:ss Z").unwrap()];
        assert_eq!(parse(b"01/Jan/1970:01:00:01 +0100", false, &f), Some(1_000_000_000));
        assert_eq!(parse(b"1970-01-01T00:00:01.5Z", false, &[]), Some(1_500_000_000));
        assert_eq!(parse(b"1970-01-01 00:00:01+00:00", false, &[]), Some(1_000_000_000));
        assert_eq!(parse(b"2.5", true, &[]), Some(2_500_000_000));
        assert_eq!(parse(b"soon", false, &[]), None);
    }
}
