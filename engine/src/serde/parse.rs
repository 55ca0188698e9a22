//! Parsing Hive text values into typed values, with Hive's lazy rules: a
//! value that does not parse is `None` (NULL), never an error.

/// Integer text: optional sign, digits, and (as Hive's `LazyInteger` allows)
/// a fractional part that is dropped. Overflow is NULL.
pub fn parse_i64(b: &[u8]) -> Option<i64> {
    let (neg, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: i64 = 0;
    let mut i = 0;
    while i < digits.len() {
        let c = digits[i];
        if c.is_ascii_digit() {
            v = v.checked_mul(10)?.checked_sub((c - b'0') as i64)?;
        } else if c == b'.' && i > 0 {
            if !digits[i + 1..].iter().all(u8::is_ascii_digit) {
                return None;
            }
            break;
        } else {
            return None;
        }
        i += 1;
    }
    if neg { Some(v) } else { v.checked_neg() }
}

/// Floating-point text as Java's `Double.parseDouble` takes it: surrounding
/// white space, `NaN`, `Infinity`, a trailing `d`/`f` suffix.
pub fn parse_f64(b: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(b).ok()?.trim();
    if let Ok(v) = s.parse::<f64>() {
        // Rust accepts "inf"/"infinity" in any case; Java only "Infinity".
        if v.is_infinite() && !s.trim_start_matches(['+', '-']).starts_with("Infinity") {
            return s
                .trim_start_matches(['+', '-'])
                .chars()
                .next()
                .filter(|c| c.is_ascii_digit() || *c == '.')
                .map(|_| v);
        }
        if v.is_nan() && s != "NaN" {
            return None;
        }
        return Some(v);
    }
    let t = s.strip_suffix(['d', 'D', 'f', 'F'])?;
    if t.ends_with(|c: char| c.is_ascii_digit() || c == '.') { t.parse().ok() } else { None }
}

/// `true`/`false` in any case.
pub fn parse_bool(b: &[u8]) -> Option<bool> {
    if b.eq_ignore_ascii_case(b"true") {
        Some(true)
    } else if b.eq_ignore_ascii_case(b"false") {
        Some(false)
    } else {
        None
    }
}

/// A decimal as an unscaled i128 at `scale`, rounded half-up; NULL when it
/// needs more than `precision` digits. Accepts a sign, a fraction and an
/// exponent (`-1.5e3`), as Hive's `HiveDecimal` does. No allocation: this is
/// on the scan's hot path.
pub fn parse_decimal(b: &[u8], precision: u8, scale: i8) -> Option<i128> {
    let b = b.trim_ascii();
    let (neg, b) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    let (mant, exp) = match b.iter().position(|&c| c == b'e' || c == b'E') {
        Some(p) => (&b[..p], std::str::from_utf8(&b[p + 1..]).ok()?.parse::<i32>().ok()?),
        None => (b, 0),
    };
    // First pass: validate and count digits after the point.
    let mut digits = 0usize;
    let mut frac = 0i32;
    let mut dot = false;
    for &c in mant {
        match c {
            b'0'..=b'9' => {
                digits += 1;
                if dot {
                    frac += 1;
                }
            }
            b'.' if !dot => dot = true,
            _ => return None,
        }
    }
    if digits == 0 {
        return None;
    }
    // value = int(digits) * 10^(exp - frac); we want value * 10^scale.
    let shift = exp.checked_sub(frac)?.checked_add(scale as i32)?;
    let keep = if shift >= 0 { digits } else { digits.saturating_sub((-shift) as usize) };
    let mut v: i128 = 0;
    let mut seen = 0usize;
    let mut round_up = false;
    for &c in mant {
        if c == b'.' {
            continue;
        }
        if seen < keep {
            v = v.checked_mul(10)?.checked_add((c - b'0') as i128)?;
        } else if seen == keep {
            round_up = c >= b'5';
        }
        seen += 1;
    }
    if shift > 0 {
        v = v.checked_mul(10i128.checked_pow(shift as u32)?)?;
    }
    if round_up {
        v += 1;
    }
    if v >= 10i128.pow(precision as u32) {
        return None;
    }
    Some(if neg { -v } else { v })
}

fn digits_n(b: &[u8], from: usize, min: usize, max: usize) -> Option<(u32, usize)> {
    let mut v = 0u32;
    let mut i = from;
    while i < b.len() && i - from < max && b[i].is_ascii_digit() {
        v = v * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    if i - from < min { None } else { Some((v, i)) }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = (y - era * 400) as u32;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe as i32 - 719468
}

fn valid_date(y: i32, m: u32, d: u32) -> bool {
    if !(1..=12).contains(&m) || d == 0 {
        return false;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let dim = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][(m - 1) as usize];
    d <= dim
}

/// `yyyy-MM-dd` at the start of `b`; returns days and the index after it.
fn parse_date_prefix(b: &[u8]) -> Option<(i32, usize)> {
    let (y, i) = digits_n(b, 0, 4, 4)?;
    if b.get(i) != Some(&b'-') {
        return None;
    }
    let (m, i) = digits_n(b, i + 1, 1, 2)?;
    if b.get(i) != Some(&b'-') {
        return None;
    }
    let (d, i) = digits_n(b, i + 1, 1, 2)?;
    if !valid_date(y as i32, m, d) {
        return None;
    }
    Some((days_from_civil(y as i32, m, d), i))
}

/// A DATE: `yyyy-MM-dd`, optionally followed by a time (ignored), as Hive
/// accepts timestamp strings for dates.
pub fn parse_date(b: &[u8]) -> Option<i32> {
    let b = b.trim_ascii();
    let (days, i) = parse_date_prefix(b)?;
    if i == b.len() || b[i] == b' ' || b[i] == b'T' { Some(days) } else { None }
}

/// A TIMESTAMP as nanoseconds: `yyyy-MM-dd[( |T)HH:mm[:ss[.f{1,9}]]]`.
pub fn parse_timestamp(b: &[u8]) -> Option<i64> {
    let b = b.trim_ascii();
    let (days, mut i) = parse_date_prefix(b)?;
    let mut nanos: i64 = 0;
    if i < b.len() {
        if b[i] != b' ' && b[i] != b'T' {
            return None;
        }
        let (h, j) = digits_n(b, i + 1, 1, 2)?;
        if b.get(j) != Some(&b':') {
            return None;
        }
        let (mi, j) = digits_n(b, j + 1, 2, 2)?;
        i = j;
        let mut s = 0;
        if b.get(i) == Some(&b':') {
            let (sv, j) = digits_n(b, i + 1, 2, 2)?;
            s = sv;
            i = j;
        }
        if h > 23 || mi > 59 || s > 59 {
            return None;
        }
        nanos = ((h * 3600 + mi * 60 + s) as i64) * 1_000_000_000;
        if b.get(i) == Some(&b'.') {
            let start = i + 1;
            let (f, j) = digits_n(b, start, 1, 9)?;
            nanos += f as i64 * 10i64.pow((9 - (j - start)) as u32);
            i = j;
        }
        if i != b.len() && !(b[i] == b'Z' && i + 1 == b.len()) {
            return None;
        }
    }
    (days as i64).checked_mul(86_400_000_000_000)?.checked_add(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers() {
        assert_eq!(parse_i64(b"42"), Some(42));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"+7"), Some(7));
        assert_eq!(parse_i64(b"12.75"), Some(12));
        assert_eq!(parse_i64(b"12a"), None);
        assert_eq!(parse_i64(b" 1"), None);
        assert_eq!(parse_i64(b""), None);
        assert_eq!(parse_i64(b"-"), None);
    }

    #[test]
    fn doubles_and_booleans() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b" 2 "), Some(2.0));
        assert_eq!(parse_f64(b"1e3"), Some(1000.0));
        assert_eq!(parse_f64(b"2.5d"), Some(2.5));
        assert!(parse_f64(b"NaN").unwrap().is_nan());
        assert_eq!(parse_f64(b"Infinity"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"inf"), None);
        assert_eq!(parse_f64(b"abc"), None);
        assert_eq!(parse_bool(b"TRUE"), Some(true));
        assert_eq!(parse_bool(b"1"), None);
    }

    #[test]
    fn decimals() {
        assert_eq!(parse_decimal(b"123.456", 10, 2), Some(12346));
        assert_eq!(parse_decimal(b"-0.005", 10, 2), Some(-1));
        assert_eq!(parse_decimal(b"1e2", 10, 2), Some(10000));
        assert_eq!(parse_decimal(b"12345", 4, 0), None);
        assert_eq!(parse_decimal(b"99.99", 4, 2), Some(9999));
        assert_eq!(parse_decimal(b"x", 4, 2), None);
        assert_eq!(parse_decimal(b".5", 4, 1), Some(5));
        assert_eq!(parse_decimal(b"0.0449", 4, 2), Some(4));
        assert_eq!(parse_decimal(b"0.045", 4, 2), Some(5));
        assert_eq!(parse_decimal(b"1.2.3", 4, 2), None);
        assert_eq!(parse_decimal(b"-", 4, 2), None);
        assert_eq!(parse_decimal(b"1e-2", 4, 2), Some(1));
        assert_eq!(parse_decimal(b"00012.50", 6, 2), Some(1250));
    }

    #[test]
    fn dates_and_timestamps() {
        assert_eq!(parse_date(b"1970-01-02"), Some(1));
        assert_eq!(parse_date(b"2014-07-05"), Some(16256));
        assert_eq!(parse_date(b"2014-02-30"), None);
        assert_eq!(parse_date(b"2014-07-05 10:00:00"), Some(16256));
        assert_eq!(parse_date(b"07/05/2014"), None);
        assert_eq!(parse_timestamp(b"1970-01-01 00:00:01.5"), Some(1_500_000_000));
        assert_eq!(parse_timestamp(b"1970-01-01T00:01:00"), Some(60_000_000_000));
        assert_eq!(parse_timestamp(b"1970-01-02"), Some(86_400_000_000_000));
        assert_eq!(parse_timestamp(b"1969-12-31 23:59:59"), Some(-1_000_000_000));
        assert_eq!(parse_timestamp(b"1970-01-01 25:00:00"), None);
        assert_eq!(days_from_civil(2000, 3, 1), 11017);
    }
}
