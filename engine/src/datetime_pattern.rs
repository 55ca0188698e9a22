//! `java.time.DateTimeFormatter` patterns (what Hive's `date_format`,
//! `unix_timestamp`, `from_unixtime` and `to_unix_timestamp` take, and the
//! JSON SerDes' `timestamp.formats` property, such as `yyyy-MM-dd HH:mm:ss`
//! or `dd/MMM/yyyy:HH:mm:ss Z`), compiled once and used to print and to
//! read wall-clock times. Letters: `G y u Y M L d D
//! Q q E e c a h K k H m s S n A N w W F V z O X x Z`, `'quoted'` text and
//! `''`; any other letter is an error naming it, as Java's is. Reading
//! follows the SMART resolver: fields not in the pattern default to
//! 1970-01-01 00:00:00, the whole text must be consumed, and names
//! (`Jan`, `Mon`, `PM`) are read case-insensitively as Hive does.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Lit(String),
    Field(char, usize),
}

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pattern {
    toks: Vec<Tok>,
}

impl Pattern {
    /// Compile a pattern; an unknown letter or an unclosed quote is an error.
    pub fn new(p: &str) -> Result<Pattern, String> {
        let chars: Vec<char> = p.chars().collect();
        let mut toks = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '\'' {
                let mut lit = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(format!("unclosed quote in pattern '{p}'")),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            lit.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(&ch) => {
                            lit.push(ch);
                            i += 1;
                        }
                    }
                }
                if lit.is_empty() {
                    lit.push('\'');
                }
                toks.push(Tok::Lit(lit));
            } else if c.is_ascii_alphabetic() {
                let mut n = 1;
                while chars.get(i + n) == Some(&c) {
                    n += 1;
                }
                if !"GyuYMLdDQqEecahKkHmsSnANwWFVzOXxZ".contains(c) {
                    return Err(format!("unknown pattern letter '{c}' in '{p}'"));
                }
                toks.push(Tok::Field(c, n));
                i += n;
            } else if c == '[' || c == ']' {
                // optional sections: printed always, read when present
                i += 1;
            } else {
                toks.push(Tok::Lit(c.to_string()));
                i += 1;
            }
        }
        Ok(Pattern { toks })
    }

    /// Print `t` (a wall-clock time in the zone called `zone`, whose offset
    /// from UTC is `offset_secs`).
    pub fn format(&self, t: &NaiveDateTime, zone: &str, offset_secs: i32) -> String {
        let mut out = String::new();
        for tok in &self.toks {
            match tok {
                Tok::Lit(s) => out.push_str(s),
                Tok::Field(c, n) => field(&mut out, *c, *n, t, zone, offset_secs),
            }
        }
        out
    }

    /// Read a wall-clock time; `None` when the text does not fit.
    pub fn parse(&self, s: &str) -> Option<NaiveDateTime> {
        let b = s.as_bytes();
        let mut i = 0;
        let (mut year, mut month, mut day, mut doy) = (1970i32, 1u32, 1u32, None::<u32>);
        let (mut hour, mut minute, mut second, mut nano) = (0u32, 0u32, 0u32, 0u32);
        let mut pm: Option<bool> = None;
        let mut hour12 = false;
        let mut offset: Option<i32> = None;
        for (k, tok) in self.toks.iter().enumerate() {
            match tok {
                Tok::Lit(l) => {
                    let end = i + l.len();
                    if end > b.len() || !s[i..end].eq_ignore_ascii_case(l) {
                        return None;
                    }
                    i = end;
                }
                Tok::Field(c, n) => {
                    // a numeric field followed by another takes exactly its width
                    let fixed = matches!(self.toks.get(k + 1), Some(Tok::Field(d, _)) if is_numeric(*d));
                    match c {
                        'M' | 'L' if *n >= 3 => {
                            let (m, len) = name_at(&s[i..], &MONTHS, *n == 3)?;
                            month = m as u32 + 1;
                            i += len;
                        }
                        'E' | 'e' | 'c' if *c == 'E' || *n >= 3 => {
                            let (_, len) = name_at(&s[i..], &DAYS, *n <= 3)?;
                            i += len;
                        }
                        'a' => {
                            let t = s.get(i..i + 2)?;
                            pm = Some(if t.eq_ignore_ascii_case("PM") {
                                true
                            } else if t.eq_ignore_ascii_case("AM") {
                                false
                            } else {
                                return None;
                            });
                            i += 2;
                        }
                        'G' => {
                            let t = s.get(i..i + 2)?;
                            if !t.eq_ignore_ascii_case("AD") {
                                return None;
                            }
                            i += 2;
                        }
                        'Z' | 'X' | 'x' | 'O' => {
                            let (off, len) = offset_at(&s[i..])?;
                            offset = Some(off);
                            i += len;
                        }
                        'z' | 'V' => {
                            // a zone name: letters, '/', '_', '+', '-', digits
                            let len = s[i..]
                                .find(|ch: char| !(ch.is_ascii_alphanumeric() || "/_+-:".contains(ch)))
                                .unwrap_or(s.len() - i);
                            if len == 0 {
                                return None;
                            }
                            i += len;
                        }
                        _ => {
                            let neg = matches!(c, 'y' | 'u' | 'Y') && b.get(i) == Some(&b'-');
                            if neg {
                                i += 1;
                            }
                            let max = if fixed {
                                *n
                            } else if *c == 'S' || *c == 'n' {
                                9
                            } else {
                                10
                            };
                            let start = i;
                            while i < b.len() && i - start < max && b[i].is_ascii_digit() {
                                i += 1;
                            }
                            let digits = &s[start..i];
                            if digits.is_empty() || (fixed && digits.len() != *n) {
                                return None;
                            }
                            let v: i64 = digits.parse().ok()?;
                            let v = if neg { -v } else { v };
                            match c {
                                'y' | 'u' | 'Y' => {
                                    year = if *n == 2 && digits.len() == 2 { 2000 + v as i32 } else { v as i32 };
                                }
                                'M' | 'L' => month = v as u32,
                                'd' => day = v as u32,
                                'D' => doy = Some(v as u32),
                                'H' | 'k' => hour = (v % 24) as u32,
                                'h' | 'K' => {
                                    hour = (v % 12) as u32;
                                    hour12 = true;
                                }
                                'm' => minute = v as u32,
                                's' => second = v as u32,
                                'S' => nano = (v as u64 * 10u64.pow(9 - digits.len() as u32)) as u32,
                                'n' => nano = v as u32,
                                _ => {}
                            }
                        }
                    }
                }
            }
        }
        if i != b.len() {
            return None;
        }
        if let Some(p) = pm
            && (hour12 || hour < 12)
        {
            hour = hour % 12 + if p { 12 } else { 0 };
        }
        let date = match doy {
            Some(d) => NaiveDate::from_yo_opt(year, d)?,
            None => NaiveDate::from_ymd_opt(year, month, day)?,
        };
        let t = date.and_time(NaiveTime::from_hms_nano_opt(hour, minute, second, nano)?);
        Some(match offset {
            Some(off) => t - chrono::Duration::seconds(off as i64),
            None => t,
        })
    }

    /// Whether the pattern reads a zone offset (then [`Pattern::parse`]
    /// returns UTC rather than wall time).
    pub fn has_offset(&self) -> bool {
        self.toks.iter().any(|t| matches!(t, Tok::Field('Z' | 'X' | 'x' | 'O', _)))
    }
}

fn is_numeric(c: char) -> bool {
    "yuYMLdDHhKkmsSnQqwWF".contains(c)
}

/// A month or day name at the start of `s` (short or full form), with its
/// index and length.
fn name_at(s: &str, names: &[&str], short: bool) -> Option<(usize, usize)> {
    for (k, name) in names.iter().enumerate() {
        let cand = if short { &name[..3] } else { name };
        if s.len() >= cand.len() && s[..cand.len()].eq_ignore_ascii_case(cand) {
            return Some((k, cand.len()));
        }
    }
    // the other form is accepted too (lenient, as Hive reads case-insensitively)
    for (k, name) in names.iter().enumerate() {
        let cand = if short { *name } else { &name[..3] };
        if s.len() >= cand.len() && s[..cand.len()].eq_ignore_ascii_case(cand) {
            return Some((k, cand.len()));
        }
    }
    None
}

/// `Z`, `+hh`, `+hhmm`, `+hh:mm`, `GMT+hh:mm`: seconds east of UTC and the length read.
fn offset_at(s: &str) -> Option<(i32, usize)> {
    let (skip, rest) = if s.starts_with("GMT") || s.starts_with("UTC") { (3, &s[3..]) } else { (0, s) };
    if rest.starts_with('Z') {
        return Some((0, skip + 1));
    }
    if skip > 0 && !rest.starts_with(['+', '-']) {
        return Some((0, skip));
    }
    let sign = match rest.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = rest[1..].chars().take_while(|c| c.is_ascii_digit() || *c == ':').collect();
    let plain: String = digits.chars().filter(|c| *c != ':').collect();
    let (h, m) = match plain.len() {
        1 | 2 => (plain.parse::<i32>().ok()?, 0),
        4 => (plain[..2].parse::<i32>().ok()?, plain[2..].parse::<i32>().ok()?),
        _ => return None,
    };
    Some((sign * (h * 3600 + m * 60), skip + 1 + digits.len()))
}

fn pad(out: &mut String, v: i64, n: usize) {
    if v < 0 {
        out.push('-');
    }
    let s = v.unsigned_abs().to_string();
    for _ in s.len()..n {
        out.push('0');
    }
    out.push_str(&s);
}

fn field(out: &mut String, c: char, n: usize, t: &NaiveDateTime, zone: &str, offset: i32) {
    let hour = t.hour() as i64;
    match c {
        'G' => out.push_str(if n == 4 { "Anno Domini" } else { "AD" }),
        'y' | 'u' | 'Y' => {
            let y = t.year() as i64;
            if n == 2 { pad(out, y.rem_euclid(100), 2) } else { pad(out, y, n) }
        }
        'M' | 'L' => match n {
            1 | 2 => pad(out, t.month() as i64, n),
            3 => out.push_str(&MONTHS[t.month0() as usize][..3]),
            _ => out.push_str(MONTHS[t.month0() as usize]),
        },
        'd' => pad(out, t.day() as i64, n),
        'D' => pad(out, t.ordinal() as i64, n),
        'Q' | 'q' => match n {
            1 | 2 => pad(out, (t.month0() / 3 + 1) as i64, n),
            3 => out.push_str(&format!("Q{}", t.month0() / 3 + 1)),
            _ => out.push_str(["1st quarter", "2nd quarter", "3rd quarter", "4th quarter"][(t.month0() / 3) as usize]),
        },
        'E' => {
            let d = DAYS[t.weekday().num_days_from_monday() as usize];
            out.push_str(if n >= 4 { d } else { &d[..3] })
        }
        'e' | 'c' => match n {
            // localized day of week, Sunday first (Locale.US)
            1 | 2 => pad(out, t.weekday().num_days_from_sunday() as i64 + 1, n),
            3 => out.push_str(&DAYS[t.weekday().num_days_from_monday() as usize][..3]),
            _ => out.push_str(DAYS[t.weekday().num_days_from_monday() as usize]),
        },
        'a' => out.push_str(if hour < 12 { "AM" } else { "PM" }),
        'h' => pad(out, if hour % 12 == 0 { 12 } else { hour % 12 }, n),
        'K' => pad(out, hour % 12, n),
        'k' => pad(out, if hour == 0 { 24 } else { hour }, n),
        'H' => pad(out, hour, n),
        'm' => pad(out, t.minute() as i64, n),
        's' => pad(out, t.second() as i64, n),
        'S' => {
            let f = format!("{:09}", t.nanosecond() % 1_000_000_000);
            if n <= 9 {
                out.push_str(&f[..n]);
            } else {
                out.push_str(&f);
                out.extend(std::iter::repeat_n('0', n - 9));
            }
        }
        'n' => pad(out, (t.nanosecond() % 1_000_000_000) as i64, n),
        'N' => pad(out, t.num_seconds_from_midnight() as i64 * 1_000_000_000 + t.nanosecond() as i64, n),
        'A' => pad(out, t.num_seconds_from_midnight() as i64 * 1000 + (t.nanosecond() / 1_000_000) as i64, n),
        'w' => {
            // week of the week-based year, Locale.US (weeks start Sunday, first week has one day)
            let jan1 = NaiveDate::from_ymd_opt(t.year(), 1, 1).unwrap_or(t.date());
            let offset = jan1.weekday().num_days_from_sunday() as i64;
            pad(out, (t.ordinal0() as i64 + offset) / 7 + 1, n)
        }
        'W' => {
            let first = t.date().with_day(1).unwrap_or(t.date());
            let offset = first.weekday().num_days_from_sunday() as i64;
            pad(out, (t.day0() as i64 + offset) / 7 + 1, n)
        }
        'F' => pad(out, (t.day0() / 7 + 1) as i64, n),
        'V' => out.push_str(zone),
        'z' if n >= 4 => out.push_str(zone),
        'z' => out.push_str(&short_zone(zone, offset)),
        'Z' | 'X' | 'x' | 'O' => write_offset(out, c, n, offset),
        _ => {}
    }
}

fn short_zone(zone: &str, offset: i32) -> String {
    if zone == "UTC" || zone == "Etc/UTC" || zone == "GMT" {
        return "UTC".to_string();
    }
    if zone.contains('/') {
        let mut s = String::new();
        write_offset(&mut s, 'O', 1, offset);
        return s;
    }
    zone.to_string()
}

fn write_offset(out: &mut String, c: char, n: usize, offset: i32) {
    let sign = if offset < 0 { '-' } else { '+' };
    let (h, m) = (offset.abs() / 3600, offset.abs() % 3600 / 60);
    match c {
        'X' if offset == 0 => out.push('Z'),
        'O' => {
            out.push_str("GMT");
            if offset != 0 {
                out.push(sign);
                if n == 4 {
                    out.push_str(&format!("{h:02}:{m:02}"));
                } else {
                    out.push_str(&h.to_string());
                    if m != 0 {
                        out.push_str(&format!(":{m:02}"));
                    }
                }
            }
        }
        'Z' if n == 4 => {
            out.push_str("GMT");
            if offset != 0 {
                out.push_str(&format!("{sign}{h:02}:{m:02}"));
            }
        }
        'Z' if n <= 3 => out.push_str(&format!("{sign}{h:02}{m:02}")),
        _ => match n {
            1 if m == 0 => out.push_str(&format!("{sign}{h:02}")),
            1 | 2 | 4 => out.push_str(&format!("{sign}{h:02}{m:02}")),
            _ => out.push_str(&format!("{sign}{h:02}:{m:02}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap()
    }

    #[test]
    fn prints_every_common_letter() {
        let p = |f: &str| Pattern::new(f).unwrap().format(&t("2009-07-30 04:17:52.12"), "UTC", 0);
        assert_eq!(p("yyyy-MM-dd HH:mm:ss"), "2009-07-30 04:17:52");
        assert_eq!(p("yy/M/d h:m a"), "09/7/30 4:17 AM");
        assert_eq!(p("dd/MMM/yyyy:HH:mm:ss Z"), "30/Jul/2009:04:17:52 +0000");
        assert_eq!(p("EEEE, MMMM d, yyyy"), "Thursday, July 30, 2009");
        assert_eq!(p("EEE D SSS"), "Thu 211 120");
        assert_eq!(p("'week' w, Q"), "week 31, 3");
        assert_eq!(p("yyyy-MM-dd'T'HH:mm:ssXXX"), "2009-07-30T04:17:52Z");
        assert_eq!(p("kk KK hh"), "04 04 04");
        assert!(Pattern::new("yyyy-bb").is_err());
    }

    #[test]
    fn reads_what_it_prints() {
        let r = |f: &str, s: &str| Pattern::new(f).unwrap().parse(s);
        assert_eq!(r("yyyy-MM-dd HH:mm:ss", "2009-07-30 04:17:52"), Some(t("2009-07-30 04:17:52")));
        assert_eq!(r("yyyy-MM-dd", "2009-07-30"), Some(t("2009-07-30 00:00:00")));
        assert_eq!(r("dd/MMM/yyyy:HH:mm:ss Z", "30/jul/2009:04:17:52 +0200"), Some(t("2009-07-30 02:17:52")));
        assert_eq!(r("yyyyMMdd", "20090730"), Some(t("2009-07-30 00:00:00")));
        assert_eq!(r("MM/dd/yyyy hh:mm a", "07/30/2009 04:17 PM"), Some(t("2009-07-30 16:17:00")));
        assert_eq!(r("yyyy-MM-dd", "2009-02-30"), None);
        assert_eq!(r("yyyy-MM-dd", "2009-07-30 junk"), None);
        assert_eq!(r("yyyy-MM-dd HH:mm:ss.SSS", "2009-07-30 04:17:52.5"), Some(t("2009-07-30 04:17:52.5")));
    }
}
