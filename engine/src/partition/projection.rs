//! Athena partition projection: a table whose `TBLPROPERTIES` say
//! `'projection.enabled'='true'` has no partitions in the metastore; its
//! partitions are computed from the properties and the query's predicates,
//! as Athena documents it:
//!
//! - `projection.<col>.type` = `integer` (`range` "min,max", `interval`,
//!   `digits`), `date` (`range` "start,end" in `format`, a Java
//!   DateTimeFormatter pattern, or `NOW`, `NOW-3DAYS`, `NOW+1MONTHS`;
//!   `interval`, `interval.unit`), `enum` (`values` "a,b"), or `injected`
//!   (the query must give the values with `=` or `IN`);
//! - `storage.location.template` = `s3://b/p/${col}/...` (every projected
//!   column once); without it, partitions are Hive's `col=value`
//!   directories under the table location.
//!
//! Properties are checked when the table is created or altered, and a bad
//! one is an error naming it.

use chrono::{Duration, Months, NaiveDateTime};
use datafusion::arrow::datatypes::FieldRef;
use datafusion::catalog::Session as DfSession;
use datafusion::logical_expr::Expr;
use hiveql_metastore::{Partition, Table};

use crate::datetime_pattern::Pattern;
use crate::error::{Result, semantic};
use crate::location::Location;

/// Partitions a query may enumerate; more is an error (Athena's limit).
const MAX_PARTITIONS: usize = 1_000_000;

/// How one partition column's values are projected.
#[derive(Debug, Clone)]
enum Column {
    Integer { min: i64, max: i64, interval: i64, digits: usize },
    Date { start: NaiveDateTime, end: NaiveDateTime, format: Pattern, interval: i64, unit: Unit },
    Enum(Vec<String>),
    Injected,
}

/// `projection.<col>.interval.unit`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Unit {
    Years,
    Months,
    Weeks,
    Days,
    Hours,
    Minutes,
    Seconds,
    Millis,
}

impl Unit {
    fn parse(s: &str) -> Option<Unit> {
        Some(match s.trim().to_ascii_uppercase().trim_end_matches('S') {
            "YEAR" => Unit::Years,
            "MONTH" => Unit::Months,
            "WEEK" => Unit::Weeks,
            "DAY" => Unit::Days,
            "HOUR" => Unit::Hours,
            "MINUTE" => Unit::Minutes,
            "SECOND" => Unit::Seconds,
            "MILLI" | "MILLISECOND" => Unit::Millis,
            _ => return None,
        })
    }

    /// `t` moved by `n` of this unit.
    fn add(self, t: NaiveDateTime, n: i64) -> Option<NaiveDateTime> {
        let months = |m: i64| {
            if m >= 0 {
                t.checked_add_months(Months::new(m as u32))
            } else {
                t.checked_sub_months(Months::new((-m) as u32))
            }
        };
        match self {
            Unit::Years => months(n.checked_mul(12)?),
            Unit::Months => months(n),
            Unit::Weeks => t.checked_add_signed(Duration::try_weeks(n)?),
            Unit::Days => t.checked_add_signed(Duration::try_days(n)?),
            Unit::Hours => t.checked_add_signed(Duration::try_hours(n)?),
            Unit::Minutes => t.checked_add_signed(Duration::try_minutes(n)?),
            Unit::Seconds => t.checked_add_signed(Duration::try_seconds(n)?),
            Unit::Millis => t.checked_add_signed(Duration::try_milliseconds(n)?),
        }
    }
}

/// The projection of a table's partitions.
#[derive(Debug, Clone)]
pub struct Projection {
    /// One per partition key, in order.
    columns: Vec<(String, Column)>,
    template: Option<String>,
}

fn bad(table: &Table, key: &str, why: impl std::fmt::Display) -> crate::error::HiveError {
    semantic(format!("table {}: TBLPROPERTIES '{key}': {why}", table.qualified_name()))
}

/// `NOW`, `NOW-3DAYS`, `NOW+1MONTHS`, or a date in the column's format.
fn date_bound(text: &str, format: &Pattern, now: NaiveDateTime) -> Option<NaiveDateTime> {
    let t = text.trim();
    if t.len() >= 3 && t[..3].eq_ignore_ascii_case("now") {
        let rest = t[3..].trim();
        if rest.is_empty() {
            return Some(now);
        }
        let (sign, rest) = match rest.as_bytes()[0] {
            b'+' => (1, &rest[1..]),
            b'-' => (-1, &rest[1..]),
            _ => return None,
        };
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        let n: i64 = rest[..digits].parse().ok()?;
        return Unit::parse(&rest[digits..])?.add(now, sign * n);
    }
    format.parse(t)
}

impl Projection {
    /// The projection `table` declares (`None` when not enabled); an error
    /// names the property that is unknown, missing or wrong.
    pub fn of(table: &Table) -> Result<Option<Projection>> {
        let props = &table.properties;
        match props.get("projection.enabled").map(|v| v.trim().to_ascii_lowercase()) {
            None => return Ok(None),
            Some(v) if v == "false" => return Ok(None),
            Some(v) if v == "true" => {}
            Some(v) => return Err(bad(table, "projection.enabled", format!("'{v}' is not true or false"))),
        }
        if table.partition_keys.is_empty() {
            return Err(bad(table, "projection.enabled", "the table has no partition columns to project"));
        }
        let keys: Vec<&str> = table.partition_keys.iter().map(|k| k.name.as_str()).collect();
        // Every projection.* property names a partition column and a known setting.
        for k in props.keys().filter(|k| k.starts_with("projection.") && *k != "projection.enabled") {
            let rest = &k["projection.".len()..];
            let Some((col, setting)) = rest.split_once('.') else {
                return Err(bad(table, k, "expected projection.<column>.<setting>"));
            };
            if !keys.iter().any(|c| c.eq_ignore_ascii_case(col)) {
                return Err(bad(table, k, format!("{col} is not a partition column (they are {})", keys.join(", "))));
            }
            if !["type", "range", "interval", "interval.unit", "digits", "format", "values"].contains(&setting) {
                return Err(bad(table, k, format!("unknown projection setting '{setting}'")));
            }
        }
        let now = chrono::Utc::now().naive_utc();
        let mut columns = Vec::new();
        for col in &keys {
            let get = |s: &str| props.get(&format!("projection.{col}.{s}")).map(|v| v.trim().to_string());
            let key = |s: &str| format!("projection.{col}.{s}");
            let need = |s: &str| get(s).ok_or_else(|| bad(table, &key(s), "missing"));
            let ty = need("type")?.to_ascii_lowercase();
            let interval = || -> Result<i64> {
                match get("interval") {
                    None => Ok(1),
                    Some(i) => i
                        .parse()
                        .ok()
                        .filter(|i: &i64| *i > 0)
                        .ok_or_else(|| bad(table, &key("interval"), format!("'{i}' is not a positive integer"))),
                }
            };
            let only = |allowed: &[&str]| -> Result<()> {
                for s in ["range", "interval", "interval.unit", "digits", "format", "values"] {
                    if !allowed.contains(&s) && get(s).is_some() {
                        return Err(bad(table, &key(s), format!("not a setting of a {ty} projection")));
                    }
                }
                Ok(())
            };
            let column = match ty.as_str() {
                "integer" => {
                    only(&["range", "interval", "digits"])?;
                    let range = need("range")?;
                    let parsed =
                        range.split_once(',').and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)));
                    let Some((min, max)) = parsed.filter(|(a, b): &(i64, i64)| a <= b) else {
                        return Err(bad(table, &key("range"), format!("'{range}' is not 'min,max' with min <= max")));
                    };
                    let interval = interval()?;
                    let digits = match get("digits") {
                        None => 0,
                        Some(d) => d
                            .parse()
                            .ok()
                            .filter(|d: &usize| (1..=20).contains(d))
                            .ok_or_else(|| bad(table, &key("digits"), format!("'{d}' is not 1..20")))?,
                    };
                    Column::Integer { min, max, interval, digits }
                }
                "date" => {
                    only(&["range", "interval", "interval.unit", "format"])?;
                    let format_text = need("format")?;
                    let format = Pattern::new(&format_text).map_err(|e| bad(table, &key("format"), e))?;
                    let range = need("range")?;
                    let (a, b) = range
                        .split_once(',')
                        .ok_or_else(|| bad(table, &key("range"), format!("'{range}' is not 'start,end'")))?;
                    let parse = |t: &str| {
                        date_bound(t, &format, now).ok_or_else(|| {
                            bad(
                                table,
                                &key("range"),
                                format!(
                                    "'{}' is neither NOW[+-]n<UNIT> nor a date in the format '{format_text}'",
                                    t.trim()
                                ),
                            )
                        })
                    };
                    let (start, end) = (parse(a)?, parse(b)?);
                    if start > end {
                        return Err(bad(table, &key("range"), format!("'{range}' ends before it starts")));
                    }
                    let interval = interval()?;
                    let unit = match get("interval.unit") {
                        None => Unit::Days,
                        Some(u) => Unit::parse(&u).ok_or_else(|| {
                            bad(
                                table,
                                &key("interval.unit"),
                                format!("'{u}' is not YEARS, MONTHS, WEEKS, DAYS, HOURS, MINUTES, SECONDS or MILLIS"),
                            )
                        })?,
                    };
                    Column::Date { start, end, format, interval, unit }
                }
                "enum" => {
                    only(&["values"])?;
                    let values: Vec<String> = need("values")?.split(',').map(|v| v.trim().to_string()).collect();
                    if values.iter().any(String::is_empty) {
                        return Err(bad(table, &key("values"), "empty value in the list"));
                    }
                    Column::Enum(values)
                }
                "injected" => {
                    only(&[])?;
                    Column::Injected
                }
                other => {
                    return Err(bad(table, &key("type"), format!("'{other}' is not integer, date, enum or injected")));
                }
            };
            columns.push((col.to_string(), column));
        }
        let template = props.get("storage.location.template").cloned();
        if let Some(t) = &template {
            for col in &keys {
                if !t.contains(&format!("${{{col}}}")) {
                    return Err(bad(table, "storage.location.template", format!("'{t}' does not use ${{{col}}}")));
                }
            }
            Location::parse(&t.replace("${", "").replace('}', ""))
                .map_err(|e| bad(table, "storage.location.template", e))?;
        }
        Ok(Some(Projection { columns, template }))
    }

    /// Every value of column `i` (the whole range).
    fn all_values(&self, i: usize) -> Result<Vec<String>> {
        let (name, column) = &self.columns[i];
        let too_many = || semantic(format!("partition projection of {name} gives more than {MAX_PARTITIONS} values"));
        Ok(match column {
            Column::Integer { min, max, interval, digits } => {
                let count = ((max - min) / interval + 1) as usize;
                if count > MAX_PARTITIONS {
                    return Err(too_many());
                }
                (0..count as i64).map(|k| format!("{:0digits$}", min + k * interval, digits = *digits)).collect()
            }
            Column::Date { start, end, format, interval, unit } => {
                let mut out = Vec::new();
                let mut k = 0i64;
                while let Some(t) = unit.add(*start, k * interval).filter(|t| t <= end) {
                    out.push(format.format(&t, "UTC", 0));
                    if out.len() > MAX_PARTITIONS {
                        return Err(too_many());
                    }
                    k += 1;
                }
                out
            }
            Column::Enum(values) => values.clone(),
            Column::Injected => {
                return Err(semantic(format!(
                    "CONSTRAINT_VIOLATION: For the injected projected partition column {name}, the WHERE clause must contain only static equality conditions, and at least one such condition must be present"
                )));
            }
        })
    }

    /// True when `v` is a value of column `i`'s projection.
    fn admits(&self, i: usize, v: &str) -> bool {
        match &self.columns[i].1 {
            Column::Integer { min, max, interval, .. } => {
                v.trim().parse::<i64>().is_ok_and(|n| n >= *min && n <= *max && (n - min) % interval == 0)
            }
            Column::Date { start, end, format, .. } => format.parse(v).is_some_and(|t| t >= *start && t <= *end),
            Column::Enum(values) => values.iter().any(|x| x == v),
            Column::Injected => true,
        }
    }

    /// The partitions of `table` that `predicates` (partition predicates)
    /// select: each column's values (pinned by `=`/`IN` where the query
    /// gives them, else its whole projection), every combination, checked
    /// by DataFusion against all the predicates.
    pub fn partitions(
        &self,
        state: &dyn DfSession,
        table: &Table,
        fields: &[FieldRef],
        predicates: &[Expr],
    ) -> Result<Vec<Partition>> {
        let mut per_column = Vec::new();
        for i in 0..self.columns.len() {
            let values = match pinned_values(&self.columns[i].0, predicates) {
                Some(pinned) => pinned.into_iter().filter(|v| self.admits(i, v)).collect(),
                None => self.all_values(i)?,
            };
            per_column.push(values);
        }
        if per_column.iter().try_fold(1usize, |n, v| n.checked_mul(v.len())).is_none_or(|n| n > MAX_PARTITIONS) {
            return Err(semantic(format!(
                "partition projection of {} would enumerate more than {MAX_PARTITIONS} partitions; add predicates on its partition columns",
                table.qualified_name()
            )));
        }
        let mut combos: Vec<Vec<Option<String>>> = vec![vec![]];
        for values in &per_column {
            combos = combos
                .iter()
                .flat_map(|c| values.iter().map(move |v| [c.clone(), vec![Some(v.clone())]].concat()))
                .collect();
        }
        let chosen = super::prune::evaluate(state, predicates, fields, combos)?;
        chosen
            .into_iter()
            .map(|values| {
                let location = match &self.template {
                    Some(t) => {
                        let mut loc = t.clone();
                        for ((name, _), v) in self.columns.iter().zip(&values) {
                            loc = loc.replace(&format!("${{{name}}}"), v.as_deref().unwrap_or_default());
                        }
                        Location::parse(&loc)?
                    }
                    None => crate::sql::partitions::default_location(table, &values)?,
                };
                Ok(crate::sql::partitions::new_partition(table, values, &location))
            })
            .collect()
    }
}

/// The constants `=` / `IN` conjuncts (or `OR`s of them) give column `name`, if any.
fn pinned_values(name: &str, predicates: &[Expr]) -> Option<Vec<String>> {
    predicates
        .iter()
        .flat_map(|p| datafusion::logical_expr::utils::split_conjunction(p))
        .find_map(|p| values_of(name, p))
}

fn values_of(name: &str, e: &Expr) -> Option<Vec<String>> {
    use datafusion::logical_expr::expr::InList;
    use datafusion::logical_expr::{BinaryExpr, Operator};
    let is_col = |e: &Expr| matches!(e, Expr::Column(c) if c.name == name);
    let text = |e: &Expr| match e {
        Expr::Literal(v, _) if !v.is_null() => Some(v.to_string()),
        _ => None,
    };
    match e {
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::Eq, right }) if is_col(left) => text(right).map(|v| vec![v]),
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::Eq, right }) if is_col(right) => text(left).map(|v| vec![v]),
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::Or, right }) => {
            let mut a = values_of(name, left)?;
            a.extend(values_of(name, right)?);
            Some(a)
        }
        Expr::InList(InList { expr, list, negated: false }) if is_col(expr) => list.iter().map(text).collect(),
        _ => None,
    }
}
