//! TIMESTAMP values in JSON: Hive's `yyyy-MM-dd HH:mm:ss[.fffffffff]`,
//! ISO-8601 with `T`, `Z` or an offset (converted to UTC), numbers of
//! seconds or milliseconds since the epoch, and the Java patterns of the
//! `timestamp.formats` SerDe property (`millis` means epoch milliseconds).

use chrono::{DateTime, NaiveDateTime};

use crate::datetime_pattern::Pattern;

use crate::serde::parse::parse_timestamp;

/// One entry of `timestamp.formats`: `millis`, or a Java pattern.
#[derive(Debug, Clone)]
pub enum TimestampFormat {
    Millis,
    Pattern(Box<Pattern>),
}

impl TimestampFormat {
    /// Compile an entry; an unknown pattern letter is an error naming it.
    pub fn new(java: &str) -> Result<TimestampFormat, String> {
        if java == "millis" {
            Ok(TimestampFormat::Millis)
        } else {
            Pattern::new(java).map(|p| TimestampFormat::Pattern(Box::new(p)))
        }
    }
}

fn nanos(t: NaiveDateTime) -> Option<i64> {
    t.and_utc().timestamp_nanos_opt()
}

/// Nanoseconds since the epoch of `text`; `number` says it was a JSON number.
pub fn parse(text: &[u8], number: bool, formats: &[TimestampFormat]) -> Option<i64> {
    let s = std::str::from_utf8(text).ok()?.trim();
    for f in formats {
        match f {
            TimestampFormat::Millis => {
                if let Ok(ms) = s.parse::<i64>() {
                    return ms.checked_mul(1_000_000);
                }
            }
            // a pattern with an offset reads UTC; without, the wall time is kept as UTC
            TimestampFormat::Pattern(p) => {
                if let Some(t) = p.parse(s) {
                    return nanos(t);
                }
            }
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
        let f = |p: &str| TimestampFormat::new(p).map(|f| parse(b"2024-05-01T10:20:30.123Z", false, &[f]));
        assert_eq!(f("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").unwrap(), Some(1_714_558_830_123_000_000));
        assert!(TimestampFormat::new("yyyy-bb").unwrap_err().contains("'b'"));
    }

    #[test]
    fn forms() {
        let f = vec![TimestampFormat::new("dd/MMM/yyyy:HH:mm:ss Z").unwrap()];
        assert_eq!(parse(b"01/Jan/1970:01:00:01 +0100", false, &f), Some(1_000_000_000));
        assert_eq!(parse(b"1970-01-01T00:00:01.5Z", false, &[]), Some(1_500_000_000));
        assert_eq!(parse(b"1970-01-01 00:00:01+00:00", false, &[]), Some(1_000_000_000));
        assert_eq!(parse(b"2.5", true, &[]), Some(2_500_000_000));
        assert_eq!(parse(b"soon", false, &[]), None);
    }
}
