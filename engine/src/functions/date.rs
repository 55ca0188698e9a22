//! Hive's date and time functions. Text arguments are read with Hive's
//! rules ([`parse_date`], [`parse_timestamp`]: trimmed, a `y-M-d` prefix,
//! invalid calendar dates NULL) rather than DataFusion's casts, which raise
//! errors; formats are `DateTimeFormatter` patterns
//! ([`crate::datetime_pattern`]); conversions between instants and wall
//! time use the session zone (`SET hive.local.time.zone=...`, which sets
//! `datafusion.execution.time_zone`; the machine's zone when unset).

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Timelike, Utc};
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Float64Type, Int32Type, Int64Type, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
};
use datafusion::common::config::ConfigOptions;
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::ScalarUDF;

use super::udf::{Arg, Args, HiveScalar, exactly, optional, prims, prims_as, strings};
use crate::datetime_pattern::Pattern;

/// The date and time functions of this module.
pub(crate) fn functions() -> Vec<ScalarUDF> {
    use Arg::*;
    use DataType::*;
    vec![
        HiveScalar::new("to_date", exactly(&[DateLike]), |_, _| Ok(Date32), to_date).udf(),
        HiveScalar::new("year", exactly(&[DateLike]), |_, _| Ok(Int32), |a| date_part(a, |d| d.year())).udf(),
        HiveScalar::new(
            "quarter",
            exactly(&[DateLike]),
            |_, _| Ok(Int32),
            |a| date_part(a, |d| d.month0() as i32 / 3 + 1),
        )
        .udf(),
        HiveScalar::new("month", exactly(&[DateLike]), |_, _| Ok(Int32), |a| date_part(a, |d| d.month() as i32)).udf(),
        HiveScalar::new("day", exactly(&[DateLike]), |_, _| Ok(Int32), |a| date_part(a, |d| d.day() as i32))
            .aliases(&["dayofmonth"])
            .udf(),
        HiveScalar::new(
            "dayofweek",
            exactly(&[DateLike]),
            |_, _| Ok(Int32),
            |a| date_part(a, |d| d.weekday().num_days_from_sunday() as i32 + 1),
        )
        .udf(),
        HiveScalar::new(
            "weekofyear",
            exactly(&[DateLike]),
            |_, _| Ok(Int32),
            |a| date_part(a, |d| d.iso_week().week() as i32),
        )
        .udf(),
        HiveScalar::new("hour", exactly(&[DateLike]), |_, _| Ok(Int32), |a| time_part(a, |t| t.hour() as i32)).udf(),
        HiveScalar::new("minute", exactly(&[DateLike]), |_, _| Ok(Int32), |a| time_part(a, |t| t.minute() as i32))
            .udf(),
        HiveScalar::new("second", exactly(&[DateLike]), |_, _| Ok(Int32), |a| time_part(a, |t| t.second() as i32))
            .udf(),
        HiveScalar::new("date_add", exactly(&[DateLike, Int]), |_, _| Ok(Date32), |a| add_days(a, 1)).udf(),
        HiveScalar::new("date_sub", exactly(&[DateLike, Int]), |_, _| Ok(Date32), |a| add_days(a, -1)).udf(),
        HiveScalar::new("datediff", exactly(&[DateLike, DateLike]), |_, _| Ok(Int32), datediff).udf(),
        HiveScalar::new("add_months", optional(&[DateLike, Int, Str], 2), |_, _| Ok(Utf8), add_months).udf(),
        HiveScalar::new("months_between", optional(&[DateLike, DateLike, Bool], 2), |_, _| Ok(Float64), months_between)
            .udf(),
        HiveScalar::new("last_day", exactly(&[DateLike]), |_, _| Ok(Utf8), last_day).udf(),
        HiveScalar::new("next_day", exactly(&[DateLike, Str]), |_, _| Ok(Utf8), next_day).udf(),
        HiveScalar::new("date_format", exactly(&[DateLike, Str]), |_, _| Ok(Utf8), date_format).udf(),
        HiveScalar::new("from_unixtime", optional(&[Long, Str], 1), |_, _| Ok(Utf8), from_unixtime).udf(),
        HiveScalar::new("unix_timestamp", optional(&[DateLike, Str], 0), |_, _| Ok(Int64), unix_timestamp)
            .stable()
            .udf(),
        HiveScalar::new("to_unix_timestamp", optional(&[DateLike, Str], 1), |_, _| Ok(Int64), unix_timestamp).udf(),
        HiveScalar::new(
            "from_utc_timestamp",
            exactly(&[DateLike, Str]),
            |_, _| Ok(Timestamp(TimeUnit::Nanosecond, None)),
            |a| shift_zone(a, true),
        )
        .udf(),
        HiveScalar::new(
            "to_utc_timestamp",
            exactly(&[DateLike, Str]),
            |_, _| Ok(Timestamp(TimeUnit::Nanosecond, None)),
            |a| shift_zone(a, false),
        )
        .udf(),
        HiveScalar::new(
            "tumbling_window",
            optional(&[DateLike, Any, DateLike], 2),
            |_, _| Ok(Timestamp(TimeUnit::Nanosecond, None)),
            tumbling_window,
        )
        .udf(),
        HiveScalar::new(
            "datetime_legacy_hybrid_calendar",
            exactly(&[DateLike]),
            |t, _| match &t[0] {
                Date32 => Ok(Date32),
                Timestamp(..) => Ok(Timestamp(TimeUnit::Nanosecond, None)),
                other => plan_err!("datetime_legacy_hybrid_calendar only allows date or timestamp types, not {other}"),
            },
            legacy_hybrid_calendar,
        )
        .udf(),
        HiveScalar::new("floor_year", exactly(&[DateLike]), floor_type, |a| floor_time(a, Unit::Year)).udf(),
        HiveScalar::new("floor_quarter", exactly(&[DateLike]), floor_type, |a| floor_time(a, Unit::Quarter)).udf(),
        HiveScalar::new("floor_month", exactly(&[DateLike]), floor_type, |a| floor_time(a, Unit::Month)).udf(),
        HiveScalar::new("floor_week", exactly(&[DateLike]), floor_type, |a| floor_time(a, Unit::Week)).udf(),
        HiveScalar::new("floor_day", exactly(&[DateLike]), floor_type, |a| floor_time(a, Unit::Day)).udf(),
        HiveScalar::new("floor_hour", exactly(&[DateLike]), floor_type, |a| floor_time(a, Unit::Hour)).udf(),
        HiveScalar::new("floor_minute", exactly(&[DateLike]), floor_type, |a| floor_time(a, Unit::Minute)).udf(),
        HiveScalar::new("floor_second", exactly(&[DateLike]), floor_type, |a| floor_time(a, Unit::Second)).udf(),
        HiveScalar::new(
            "to_epoch_milli",
            exactly(&[DateLike]),
            |_, _| Ok(Int64),
            |a| {
                let rows = a.rows();
                Ok(prims::<Int64Type>(rows, |i| Some(timestamp_at(a, 0, i)?.and_utc().timestamp_millis())))
            },
        )
        .udf(),
    ]
}

// ---- Hive's parsing of date and timestamp text ----

/// `y-M-d` at the start of `s` (1 to 4 digit year? Hive takes any digits),
/// with the length read; `None` when the prefix is not a valid date.
fn ymd_prefix(s: &str) -> Option<(NaiveDate, usize)> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut parts = [0i64; 3];
    for (k, part) in parts.iter_mut().enumerate() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 9 {
            i += 1;
        }
        if i == start || (k > 0 && i - start > 2) {
            return None;
        }
        *part = s[start..i].parse().ok()?;
        if k < 2 {
            if b.get(i) != Some(&b'-') {
                return None;
            }
            i += 1;
        }
    }
    let d = NaiveDate::from_ymd_opt(parts[0] as i32, parts[1] as u32, parts[2] as u32)?;
    Some((d, i))
}

/// `H:m:s[.fffffffff]` at the start of `s`.
fn hms(s: &str) -> Option<(NaiveTime, usize)> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut parts = [0u32; 3];
    for (k, part) in parts.iter_mut().enumerate() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 2 {
            i += 1;
        }
        if i == start {
            return None;
        }
        *part = s[start..i].parse().ok()?;
        if k < 2 {
            if b.get(i) != Some(&b':') {
                return None;
            }
            i += 1;
        }
    }
    let mut nanos = 0u32;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        let mut j = start;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        // digits past the ninth are dropped
        let digits = &s[start..j.min(start + 9)];
        if !digits.is_empty() {
            nanos = digits.parse::<u32>().ok()? * 10u32.pow(9 - digits.len() as u32);
        }
        i = j;
    }
    Some((NaiveTime::from_hms_nano_opt(parts[0], parts[1], parts[2], nanos)?, i))
}

/// A timestamp as Hive reads text: strict `y-M-d[ H:m:s[.f]]`, ISO
/// `yyyy-MM-ddTHH:mm[:ss]`, a zone after the time (dropped), `HH:mm:ss`
/// alone (today), and last a `y-M-d` prefix at midnight.
pub(crate) fn parse_timestamp(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    if let Some((d, n)) = ymd_prefix(s) {
        let rest = &s[n..];
        if rest.is_empty() {
            return Some(d.and_time(NaiveTime::MIN));
        }
        if let Some(r) = rest.strip_prefix(' ').or_else(|| rest.strip_prefix('T')) {
            if let Some((t, m)) = hms(r) {
                let tail = &r[m..];
                if tail.is_empty() || tail.starts_with(' ') || tail.starts_with('Z') || tail.starts_with(['+', '-']) {
                    return Some(d.and_time(t));
                }
            }
            // ISO without seconds: yyyy-MM-ddTHH:mm
            if rest.starts_with('T')
                && let Some((h, m)) = r.split_once(':')
                && let (Ok(h), Ok(m)) = (h.parse::<u32>(), m.parse::<u32>())
            {
                return NaiveTime::from_hms_opt(h, m, 0).map(|t| d.and_time(t));
            }
        }
        return Some(d.and_time(NaiveTime::MIN));
    }
    if let Some((t, m)) = hms(s)
        && m == s.len()
    {
        return Some(Utc::now().date_naive().and_time(t));
    }
    None
}

/// A date as Hive reads text: a 10-character string as a `y-M-d` prefix,
/// otherwise the timestamp rules and then any `y-M-d` prefix.
pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    if s.len() == 10 {
        return ymd_prefix(s).map(|(d, _)| d);
    }
    parse_timestamp(s).map(|t| t.date()).or_else(|| ymd_prefix(s).map(|(d, _)| d))
}

const EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(1970, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// Days since the epoch of a date.
pub(crate) fn epoch_days(d: NaiveDate) -> i32 {
    (d - EPOCH).num_days() as i32
}

fn from_epoch_days(days: i32) -> Option<NaiveDate> {
    EPOCH.checked_add_signed(Duration::days(days as i64))
}

fn nanos_to_datetime(n: i64) -> NaiveDateTime {
    DateTime::from_timestamp_nanos(n).naive_utc()
}

/// Argument `k` at row `i` as a wall-clock time (DATE at midnight, text by
/// Hive's timestamp rules).
pub(crate) fn timestamp_at(a: &Args, k: usize, i: usize) -> Option<NaiveDateTime> {
    let col = a.col(k);
    let r = a.at(k, i);
    if col.is_null(r) {
        return None;
    }
    match col.data_type() {
        DataType::Date32 => {
            from_epoch_days(col.as_primitive::<Date32Type>().value(r)).map(|d| d.and_time(NaiveTime::MIN))
        }
        DataType::Timestamp(unit, _) => Some(nanos_to_datetime(match unit {
            TimeUnit::Second => col.as_primitive::<TimestampSecondType>().value(r).saturating_mul(1_000_000_000),
            TimeUnit::Millisecond => col.as_primitive::<TimestampMillisecondType>().value(r).saturating_mul(1_000_000),
            TimeUnit::Microsecond => col.as_primitive::<TimestampMicrosecondType>().value(r).saturating_mul(1_000),
            TimeUnit::Nanosecond => col.as_primitive::<TimestampNanosecondType>().value(r),
        })),
        _ => parse_timestamp(a.str(k).get(i)?),
    }
}

/// Argument `k` at row `i` as a date (text by Hive's date rules).
pub(crate) fn date_at(a: &Args, k: usize, i: usize) -> Option<NaiveDate> {
    match a.data_type(k) {
        DataType::Date32 | DataType::Timestamp(..) => timestamp_at(a, k, i).map(|t| t.date()),
        _ => parse_date(a.str(k).get(i)?),
    }
}

// ---- the session zone ----

/// A time zone: a named zone, a fixed offset, or the machine's zone.
#[derive(Clone, Copy)]
pub(crate) enum Zone {
    Named(chrono_tz::Tz),
    Fixed(chrono::FixedOffset),
    Local,
}

impl Zone {
    /// A zone id (`America/New_York`, `UTC`, `+05:30`, `GMT+8`); `None` if unknown.
    pub fn parse(id: &str) -> Option<Zone> {
        let id = id.trim();
        if id.eq_ignore_ascii_case("LOCAL") || id.is_empty() {
            return Some(Zone::Local);
        }
        if let Ok(tz) = id.parse::<chrono_tz::Tz>() {
            return Some(Zone::Named(tz));
        }
        // Java's three-letter ids (ZoneId.SHORT_IDS), which Hive users write
        const SHORT_IDS: &[(&str, &str)] = &[
            ("ACT", "Australia/Darwin"),
            ("AET", "Australia/Sydney"),
            ("AGT", "America/Argentina/Buenos_Aires"),
            ("ART", "Africa/Cairo"),
            ("AST", "America/Anchorage"),
            ("BET", "America/Sao_Paulo"),
            ("BST", "Asia/Dhaka"),
            ("CAT", "Africa/Harare"),
            ("CNT", "America/St_Johns"),
            ("CST", "America/Chicago"),
            ("CTT", "Asia/Shanghai"),
            ("EAT", "Africa/Addis_Ababa"),
            ("ECT", "Europe/Paris"),
            ("IET", "America/Indiana/Indianapolis"),
            ("IST", "Asia/Kolkata"),
            ("JST", "Asia/Tokyo"),
            ("MIT", "Pacific/Apia"),
            ("NET", "Asia/Yerevan"),
            ("NST", "Pacific/Auckland"),
            ("PLT", "Asia/Karachi"),
            ("PNT", "America/Phoenix"),
            ("PRT", "America/Puerto_Rico"),
            ("PST", "America/Los_Angeles"),
            ("SST", "Pacific/Guadalcanal"),
            ("VST", "Asia/Ho_Chi_Minh"),
            ("EST", "-05:00"),
            ("MST", "-07:00"),
            ("HST", "-10:00"),
        ];
        if let Some((_, full)) = SHORT_IDS.iter().find(|(k, _)| k.eq_ignore_ascii_case(id)) {
            return Zone::parse(full);
        }
        let upper = id.to_ascii_uppercase();
        if upper == "Z" || upper == "UTC" || upper == "GMT" {
            return Some(Zone::Fixed(Utc.fix()));
        }
        let off = upper.strip_prefix("GMT").or_else(|| upper.strip_prefix("UTC")).unwrap_or(&upper);
        let sign = match off.as_bytes().first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let body = &off[1..];
        let (h, m) = match body.split_once(':') {
            Some((h, m)) => (h.parse::<i32>().ok()?, m.parse::<i32>().ok()?),
            None if body.len() <= 2 => (body.parse::<i32>().ok()?, 0),
            None if body.len() == 4 => (body[..2].parse::<i32>().ok()?, body[2..].parse::<i32>().ok()?),
            None => return None,
        };
        chrono::FixedOffset::east_opt(sign * (h * 3600 + m * 60)).map(Zone::Fixed)
    }

    /// The session zone of a call.
    pub fn of(config: &ConfigOptions) -> Zone {
        config.execution.time_zone.as_deref().and_then(Zone::parse).unwrap_or(Zone::Local)
    }

    /// The wall time at an instant given in UTC, and the zone's offset then.
    pub fn wall(&self, utc: NaiveDateTime) -> (NaiveDateTime, i32) {
        match self {
            Zone::Named(tz) => {
                let t = tz.from_utc_datetime(&utc);
                (t.naive_local(), t.offset().fix().local_minus_utc())
            }
            Zone::Fixed(f) => (utc + Duration::seconds(f.local_minus_utc() as i64), f.local_minus_utc()),
            Zone::Local => {
                let t = chrono::Local.from_utc_datetime(&utc);
                (t.naive_local(), t.offset().local_minus_utc())
            }
        }
    }

    /// The instant (UTC) of a wall time; in a gap, the time after it.
    pub fn instant(&self, wall: NaiveDateTime) -> Option<NaiveDateTime> {
        fn pick<T: TimeZone>(tz: &T, wall: NaiveDateTime) -> Option<NaiveDateTime> {
            match tz.from_local_datetime(&wall) {
                chrono::LocalResult::Single(t) => Some(t.naive_utc()),
                chrono::LocalResult::Ambiguous(a, _) => Some(a.naive_utc()),
                chrono::LocalResult::None => tz
                    .from_local_datetime(&(wall + Duration::hours(1)))
                    .earliest()
                    .map(|t| t.naive_utc() - Duration::hours(1)),
            }
        }
        match self {
            Zone::Named(tz) => pick(tz, wall),
            Zone::Fixed(f) => pick(f, wall),
            Zone::Local => pick(&chrono::Local, wall),
        }
    }

    /// The zone's id, as `V` prints it.
    pub fn name(&self) -> String {
        match self {
            Zone::Named(tz) => tz.name().to_string(),
            Zone::Fixed(f) if f.local_minus_utc() == 0 => "UTC".to_string(),
            Zone::Fixed(f) => f.to_string(),
            Zone::Local => std::env::var("TZ").ok().filter(|z| !z.is_empty()).unwrap_or_else(|| "UTC".to_string()),
        }
    }
}

// ---- the functions ----

fn date32_array(rows: usize, mut f: impl FnMut(usize) -> Option<NaiveDate>) -> ArrayRef {
    prims::<Date32Type>(rows, |i| f(i).map(epoch_days))
}

fn to_date(a: &Args) -> Result<ArrayRef> {
    Ok(date32_array(a.rows(), |i| date_at(a, 0, i)))
}

fn date_part(a: &Args, f: fn(NaiveDate) -> i32) -> Result<ArrayRef> {
    Ok(prims::<Int32Type>(a.rows(), |i| Some(f(date_at(a, 0, i)?))))
}

/// `hour`, `minute`, `second`: text may also be `HH:mm:ss` alone.
fn time_part(a: &Args, f: fn(NaiveTime) -> i32) -> Result<ArrayRef> {
    Ok(prims::<Int32Type>(a.rows(), |i| {
        if super::is_string(a.data_type(0)) {
            let s = a.str(0).get(i)?.trim();
            if let Some((t, n)) = hms(s)
                && n == s.len()
            {
                return Some(f(t));
            }
        }
        Some(f(timestamp_at(a, 0, i)?.time()))
    }))
}

fn add_days(a: &Args, sign: i64) -> Result<ArrayRef> {
    let n = a.prim::<Int32Type>(1);
    Ok(date32_array(a.rows(), |i| {
        let d = date_at(a, 0, i)?;
        d.checked_add_signed(Duration::days(sign * n.get(i)? as i64))
    }))
}

fn datediff(a: &Args) -> Result<ArrayRef> {
    Ok(prims::<Int32Type>(a.rows(), |i| Some((date_at(a, 0, i)? - date_at(a, 1, i)?).num_days() as i32)))
}

fn last_day_of(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() == 12 { (d.year() + 1, 1) } else { (d.year(), d.month() + 1) };
    NaiveDate::from_ymd_opt(y, m, 1).and_then(|f| f.pred_opt()).unwrap_or(d)
}

fn format_date(d: NaiveDate) -> String {
    let mut s = String::new();
    crate::value::write_date(epoch_days(d), &mut s);
    s
}

/// `add_months`: the last day of a month maps to the last day of the
/// target month; other days are clamped to it.
fn add_months_to(d: NaiveDate, n: i32) -> Option<NaiveDate> {
    let months = d.year() as i64 * 12 + d.month0() as i64 + n as i64;
    let (y, m) = (months.div_euclid(12) as i32, months.rem_euclid(12) as u32 + 1);
    let first = NaiveDate::from_ymd_opt(y, m, 1)?;
    let last = last_day_of(first);
    if d == last_day_of(d) { Some(last) } else { Some(first.with_day(d.day().min(last.day()))?.max(first)) }
}

fn add_months(a: &Args) -> Result<ArrayRef> {
    let n = a.prim::<Int32Type>(1);
    let fmt = (a.len() > 2).then(|| a.str(2));
    let mut bad = None;
    let mut cache: Option<(String, Pattern)> = None;
    let out = strings(a.rows(), |i| {
        // the time of day is kept (it shows when a format prints it)
        let start = if super::is_string(a.data_type(0)) {
            let d = date_at(a, 0, i)?;
            timestamp_at(a, 0, i).filter(|t| t.date() == d).unwrap_or(d.and_time(NaiveTime::MIN))
        } else {
            timestamp_at(a, 0, i)?
        };
        let d = add_months_to(start.date(), n.get(i)?)?;
        match &fmt {
            None => Some(format_date(d)),
            Some(f) => {
                let f = f.get(i)?;
                if cache.as_ref().is_none_or(|(p, _)| p != f) {
                    match Pattern::new(f) {
                        Ok(p) => cache = Some((f.to_string(), p)),
                        Err(e) => {
                            bad = Some(e);
                            return None;
                        }
                    }
                }
                cache.as_ref().map(|(_, p)| p.format(&d.and_time(start.time()), "UTC", 0))
            }
        }
    });
    match bad {
        Some(e) => exec_err!("add_months: {e}"),
        None => Ok(out),
    }
}

fn months_between(a: &Args) -> Result<ArrayRef> {
    let round = (a.len() > 2).then(|| a.bool(2));
    Ok(prims::<Float64Type>(a.rows(), |i| {
        let (t1, t2) = (timestamp_at(a, 0, i)?, timestamp_at(a, 1, i)?);
        let round = match &round {
            Some(r) => r.get(i)?,
            None => true,
        };
        let (d1, d2) = (t1.date(), t2.date());
        let months = (d1.year() as i64 - d2.year() as i64) * 12 + d1.month() as i64 - d2.month() as i64;
        let both_last = d1 == last_day_of(d1) && d2 == last_day_of(d2);
        if d1.day() == d2.day() || both_last {
            return Some(months as f64);
        }
        let secs = |t: NaiveDateTime| t.day() as i64 * 86_400 + t.num_seconds_from_midnight() as i64;
        let v = months as f64 + (secs(t1) - secs(t2)) as f64 / (31.0 * 86_400.0);
        Some(if round { (v * 1e8).round() / 1e8 } else { v })
    }))
}

fn last_day(a: &Args) -> Result<ArrayRef> {
    Ok(strings(a.rows(), |i| Some(format_date(last_day_of(date_at(a, 0, i)?)))))
}

fn weekday_named(s: &str) -> Option<chrono::Weekday> {
    use chrono::Weekday::*;
    let u = s.trim().to_ascii_uppercase();
    let days = [
        ("MO", "MON", "MONDAY", Mon),
        ("TU", "TUE", "TUESDAY", Tue),
        ("WE", "WED", "WEDNESDAY", Wed),
        ("TH", "THU", "THURSDAY", Thu),
        ("FR", "FRI", "FRIDAY", Fri),
        ("SA", "SAT", "SATURDAY", Sat),
        ("SU", "SUN", "SUNDAY", Sun),
    ];
    days.iter().find(|(a, b, c, _)| u == *a || u == *b || u == *c).map(|d| d.3)
}

fn next_day(a: &Args) -> Result<ArrayRef> {
    let dow = a.str(1);
    Ok(strings(a.rows(), |i| {
        let d = date_at(a, 0, i)?;
        let target = weekday_named(dow.get(i)?)?;
        let ahead = (target.num_days_from_monday() as i64 - d.weekday().num_days_from_monday() as i64 + 7 - 1) % 7 + 1;
        Some(format_date(d + Duration::days(ahead)))
    }))
}

/// `trunc(date, fmt)`: `MONTH`/`MON`/`MM`, `QUARTER`/`Q`, `YEAR`/`YYYY`/`YY`
/// (case-sensitive, as Hive); anything else is NULL.
pub(crate) fn trunc_date(a: &Args) -> Result<ArrayRef> {
    let fmt = a.str(1);
    Ok(strings(a.rows(), |i| {
        let d = date_at(a, 0, i)?;
        let t = match fmt.get(i)? {
            "MONTH" | "MON" | "MM" => d.with_day(1)?,
            "QUARTER" | "Q" => NaiveDate::from_ymd_opt(d.year(), d.month0() / 3 * 3 + 1, 1)?,
            "YEAR" | "YYYY" | "YY" => NaiveDate::from_ymd_opt(d.year(), 1, 1)?,
            _ => return None,
        };
        Some(format_date(t))
    }))
}

/// A pattern cache for calls whose format is nearly always a constant.
#[derive(Default)]
struct Patterns {
    last: Option<(String, Pattern)>,
    error: Option<String>,
}

impl Patterns {
    fn get(&mut self, f: &str) -> Option<&Pattern> {
        if self.last.as_ref().is_none_or(|(p, _)| p != f) {
            match Pattern::new(f) {
                Ok(p) => self.last = Some((f.to_string(), p)),
                Err(e) => {
                    self.error = Some(e);
                    return None;
                }
            }
        }
        self.last.as_ref().map(|(_, p)| p)
    }

    fn finish(self, name: &str, out: ArrayRef) -> Result<ArrayRef> {
        match self.error {
            Some(e) => exec_err!("{name}: {e}"),
            None => Ok(out),
        }
    }
}

fn date_format(a: &Args) -> Result<ArrayRef> {
    let fmt = a.str(1);
    let zone = Zone::of(a.config());
    let name = zone.name();
    let mut pats = Patterns::default();
    let out = strings(a.rows(), |i| {
        let t = timestamp_at(a, 0, i)?;
        let p = pats.get(fmt.get(i)?)?;
        // the wall time is printed as it is; the zone letters show the session zone
        let offset = zone.instant(t).map_or(0, |u| zone.wall(u).1);
        Some(p.format(&t, &name, offset))
    });
    pats.finish("date_format", out)
}

fn from_unixtime(a: &Args) -> Result<ArrayRef> {
    let secs = a.prim::<Int64Type>(0);
    let fmt = (a.len() > 1).then(|| a.str(1));
    let zone = Zone::of(a.config());
    let name = zone.name();
    let mut pats = Patterns::default();
    let default = Pattern::new("uuuu-MM-dd HH:mm:ss").map_err(datafusion::error::DataFusionError::Execution)?;
    let out = strings(a.rows(), |i| {
        let utc = DateTime::from_timestamp(secs.get(i)?, 0)?.naive_utc();
        let (wall, offset) = zone.wall(utc);
        let p = match &fmt {
            Some(f) => pats.get(f.get(i)?)?,
            None => &default,
        };
        Some(p.format(&wall, &name, offset))
    });
    pats.finish("from_unixtime", out)
}

fn unix_timestamp(a: &Args) -> Result<ArrayRef> {
    let zone = Zone::of(a.config());
    if a.len() == 0 {
        return Ok(prims::<Int64Type>(a.rows(), |_| Some(Utc::now().timestamp())));
    }
    let fmt = (a.len() > 1).then(|| a.str(1));
    let mut pats = Patterns::default();
    let text = super::is_string(a.data_type(0));
    let out = prims::<Int64Type>(a.rows(), |i| {
        let wall = match (&fmt, text) {
            (Some(f), true) => {
                let p = pats.get(f.get(i)?)?;
                let t = p.parse(a.str(0).get(i)?.trim())?;
                if p.has_offset() {
                    return Some(t.and_utc().timestamp());
                }
                t
            }
            (_, true) => {
                // Timestamp.valueOf: a full date and time is needed
                let s = a.str(0).get(i)?.trim();
                let (d, n) = ymd_prefix(s)?;
                let r = s[n..].strip_prefix(' ').or_else(|| s[n..].strip_prefix('T'))?;
                let (t, m) = hms(r)?;
                if m != r.len() {
                    return None;
                }
                d.and_time(t)
            }
            _ => timestamp_at(a, 0, i)?,
        };
        Some(zone.instant(wall)?.and_utc().timestamp())
    });
    pats.finish("unix_timestamp", out)
}

/// `from_utc_timestamp` (UTC wall time to the zone's) and
/// `to_utc_timestamp` (the zone's wall time to UTC). An unknown zone is GMT.
fn shift_zone(a: &Args, from_utc: bool) -> Result<ArrayRef> {
    let tz = a.str(1);
    let t = a.ret().clone();
    if !matches!(t, DataType::Timestamp(TimeUnit::Nanosecond, None)) {
        return plan_err!("unexpected return type {t}");
    }
    prims_as::<TimestampNanosecondType>(a.rows(), &t, |i| {
        let ts = timestamp_at(a, 0, i)?;
        let zone = Zone::parse(tz.get(i)?).unwrap_or(Zone::Fixed(Utc.fix()));
        let zone = if matches!(zone, Zone::Local) { Zone::Fixed(Utc.fix()) } else { zone };
        let out = if from_utc { zone.wall(ts).0 } else { zone.instant(ts)? };
        out.and_utc().timestamp_nanos_opt()
    })
}

/// The units `floor_<unit>(ts)` truncates to.
#[derive(Clone, Copy)]
enum Unit {
    Year,
    Quarter,
    Month,
    Week,
    Day,
    Hour,
    Minute,
    Second,
}

fn floor_type(_: &[DataType], _: &[Option<&datafusion::common::ScalarValue>]) -> Result<DataType> {
    Ok(DataType::Timestamp(TimeUnit::Nanosecond, None))
}

/// `tumbling_window(ts, interval [, origin])`: the start of the window of
/// length `interval` (a day-time interval) that holds `ts`, windows
/// counted from `origin` (default 1970-01-01 00:00:00).
fn tumbling_window(a: &Args) -> Result<ArrayRef> {
    use datafusion::arrow::datatypes::{IntervalDayTimeType, IntervalMonthDayNanoType, IntervalUnit};
    let width = a.col(1);
    let width_at = |i: usize| -> Result<Option<i64>> {
        let i = a.at(1, i);
        if width.is_null(i) {
            return Ok(None);
        }
        let nanos = match width.data_type() {
            DataType::Interval(IntervalUnit::MonthDayNano) => {
                let v = width.as_primitive::<IntervalMonthDayNanoType>().value(i);
                if v.months != 0 {
                    return exec_err!("tumbling_window needs a day-time interval, not a year-month one");
                }
                v.days as i64 * 86_400_000_000_000 + v.nanoseconds
            }
            DataType::Interval(IntervalUnit::DayTime) => {
                let v = width.as_primitive::<IntervalDayTimeType>().value(i);
                v.days as i64 * 86_400_000_000_000 + v.milliseconds as i64 * 1_000_000
            }
            other => return exec_err!("tumbling_window needs a day-time interval, not {other}"),
        };
        if nanos <= 0 {
            return exec_err!("tumbling_window needs a positive interval");
        }
        Ok(Some(nanos))
    };
    let t = a.ret().clone();
    let mut out = Vec::with_capacity(a.rows());
    for i in 0..a.rows() {
        let start = (|| -> Result<Option<i64>> {
            let Some(w) = width_at(i)? else { return Ok(None) };
            let Some(ts) = timestamp_at(a, 0, i).and_then(|t| t.and_utc().timestamp_nanos_opt()) else {
                return Ok(None);
            };
            let origin = if a.len() > 2 {
                match timestamp_at(a, 2, i).and_then(|t| t.and_utc().timestamp_nanos_opt()) {
                    Some(o) => o,
                    None => return Ok(None),
                }
            } else {
                0
            };
            Ok(ts.checked_sub(origin).map(|d| origin + d.div_euclid(w) * w))
        })()?;
        out.push(start);
    }
    let mut it = out.into_iter();
    prims_as::<TimestampNanosecondType>(a.rows(), &t, |_| it.next().flatten())
}

/// `datetime_legacy_hybrid_calendar(d)`: a DATE or TIMESTAMP (days counted
/// in the proleptic Gregorian calendar) as Hive's old readers saw it, in
/// the hybrid Julian/Gregorian calendar: before 1582-10-15 the same day
/// is named by its Julian date (`1000-01-01` becomes `0999-12-27`); the
/// time of day is kept.
fn legacy_hybrid_calendar(a: &Args) -> Result<ArrayRef> {
    /// The first day of the Gregorian calendar in Java's hybrid calendar.
    const CUTOVER: Option<NaiveDate> = NaiveDate::from_ymd_opt(1582, 10, 15);
    let shift = |d: NaiveDate| -> Option<NaiveDate> {
        if Some(d) >= CUTOVER {
            return Some(d);
        }
        // The Julian calendar's name of the day (from its Julian day number).
        let jdn = d.num_days_from_ce() as i64 + 1_721_425;
        let c = jdn + 32_082;
        let dd = (4 * c + 3).div_euclid(1461);
        let e = c - (1461 * dd).div_euclid(4);
        let m = (5 * e + 2).div_euclid(153);
        let day = e - (153 * m + 2).div_euclid(5) + 1;
        let month = m + 3 - 12 * m.div_euclid(10);
        let year = dd - 4800 + m.div_euclid(10);
        // SimpleDateFormat's yyyy is the year of the era; the text is then
        // read back leniently (Julian 1500-02-29 is 1500-03-01).
        let year = if year <= 0 { 1 - year } else { year };
        NaiveDate::from_ymd_opt(year as i32, month as u32, 1)?.checked_add_signed(Duration::days(day - 1))
    };
    match a.data_type(0) {
        DataType::Date32 => {
            let t = a.ret().clone();
            prims_as::<Date32Type>(a.rows(), &t, |i| {
                let d = shift(date_at(a, 0, i)?)?;
                Some((d - NaiveDate::from_ymd_opt(1970, 1, 1)?).num_days() as i32)
            })
        }
        DataType::Timestamp(..) => {
            let t = a.ret().clone();
            prims_as::<TimestampNanosecondType>(a.rows(), &t, |i| {
                let ts = timestamp_at(a, 0, i)?;
                shift(ts.date())?.and_time(ts.time()).and_utc().timestamp_nanos_opt()
            })
        }
        other => exec_err!("datetime_legacy_hybrid_calendar only allows date or timestamp types, not {other}"),
    }
}

/// `floor_year(ts)` ... `floor_second(ts)`: the start of the unit holding
/// ts (weeks start on Monday).
fn floor_time(a: &Args, unit: Unit) -> Result<ArrayRef> {
    let t = a.ret().clone();
    prims_as::<TimestampNanosecondType>(a.rows(), &t, |i| {
        let ts = timestamp_at(a, 0, i)?;
        let d = ts.date();
        let floored = match unit {
            Unit::Year => NaiveDate::from_ymd_opt(d.year(), 1, 1)?.and_time(NaiveTime::MIN),
            Unit::Quarter => NaiveDate::from_ymd_opt(d.year(), d.month0() / 3 * 3 + 1, 1)?.and_time(NaiveTime::MIN),
            Unit::Month => d.with_day(1)?.and_time(NaiveTime::MIN),
            Unit::Week => (d - Duration::days(d.weekday().num_days_from_monday() as i64)).and_time(NaiveTime::MIN),
            Unit::Day => d.and_time(NaiveTime::MIN),
            Unit::Hour => d.and_hms_opt(ts.hour(), 0, 0)?,
            Unit::Minute => d.and_hms_opt(ts.hour(), ts.minute(), 0)?,
            Unit::Second => d.and_hms_opt(ts.hour(), ts.minute(), ts.second())?,
        };
        floored.and_utc().timestamp_nanos_opt()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Option<String> {
        parse_timestamp(s).map(|t| t.format("%Y-%m-%d %H:%M:%S%.f").to_string())
    }

    #[test]
    fn hive_text_rules() {
        assert_eq!(parse_date("2009-7-3x"), NaiveDate::from_ymd_opt(2009, 7, 3));
        assert_eq!(parse_date(" 2009-07-30 "), NaiveDate::from_ymd_opt(2009, 7, 30));
        assert_eq!(parse_date("2009-07-30 junk"), NaiveDate::from_ymd_opt(2009, 7, 30));
        assert_eq!(parse_date("2009-02-30"), None);
        assert_eq!(parse_date("junk"), None);
        assert_eq!(ts("2009-07-30 04:17:52.123456789999").as_deref(), Some("2009-07-30 04:17:52.123456789"));
        assert_eq!(ts("2009-07-30 04:17").as_deref(), Some("2009-07-30 00:00:00"));
        assert_eq!(ts("2009-07-30T04:17").as_deref(), Some("2009-07-30 04:17:00"));
        assert_eq!(ts("2009-07-30 04:17:52 America/New_York").as_deref(), Some("2009-07-30 04:17:52"));
    }

    #[test]
    fn months() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(add_months_to(d(2009, 2, 28), 1), Some(d(2009, 3, 31)));
        assert_eq!(add_months_to(d(2009, 1, 31), 1), Some(d(2009, 2, 28)));
        assert_eq!(add_months_to(d(2009, 1, 15), -2), Some(d(2008, 11, 15)));
    }

    #[test]
    fn zones() {
        let z = Zone::parse("America/Los_Angeles").unwrap();
        let utc = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap().and_hms_opt(12, 0, 0).unwrap();
        assert_eq!(z.wall(utc).0.hour(), 4);
        assert_eq!(z.instant(z.wall(utc).0), Some(utc));
        assert!(Zone::parse("GMT+05:30").is_some());
        assert!(Zone::parse("Mars/Olympus").is_none());
    }
}
