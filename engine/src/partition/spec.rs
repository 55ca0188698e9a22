//! Partition specs (`PARTITION (k='v', ...)`) checked against a table:
//! every named column must be a partition key, each value must convert to
//! its key's type, and values are kept in one canonical text form (the
//! metastore compares them as text or numbers, so `h='07'` and `h=7` must
//! be the same partition).

use hiveql_metastore::{CompareOp, FilterValue, HiveType, PartitionFilter, Table};

use super::path::DEFAULT_PARTITION;
use crate::error::{Result, semantic};
use crate::serde::parse;
use crate::types::parse_column_type;
use crate::value::write_date;

/// The canonical text of a partition value of type `ty`, or why it is not one.
/// `None` stands for NULL (the default partition).
pub fn normalize(ty: &HiveType, value: &str) -> std::result::Result<Option<String>, String> {
    if value == DEFAULT_PARTITION {
        return Ok(None);
    }
    let bad = || format!("'{value}' is not a valid {ty}");
    let b = value.trim().as_bytes();
    let int_range = |lo: i64, hi: i64| {
        // Partition values are exact: no fraction dropped, no overflow.
        if b.contains(&b'.') {
            return Err(bad());
        }
        let v = parse::parse_i64(b).ok_or_else(bad)?;
        if (lo..=hi).contains(&v) { Ok(Some(v.to_string())) } else { Err(bad()) }
    };
    match ty {
        HiveType::TinyInt => int_range(i8::MIN as i64, i8::MAX as i64),
        HiveType::SmallInt => int_range(i16::MIN as i64, i16::MAX as i64),
        HiveType::Int => int_range(i32::MIN as i64, i32::MAX as i64),
        HiveType::BigInt => int_range(i64::MIN, i64::MAX),
        HiveType::Float | HiveType::Double => {
            parse::parse_f64(b).ok_or_else(bad)?;
            Ok(Some(value.trim().to_string()))
        }
        HiveType::Decimal(p, s) => {
            parse::parse_decimal(b, *p, *s).ok_or_else(bad)?;
            Ok(Some(value.trim().to_string()))
        }
        HiveType::Boolean => Ok(Some(parse::parse_bool(b).ok_or_else(bad)?.to_string())),
        HiveType::Date => {
            let days = parse::parse_date(b).ok_or_else(bad)?;
            let mut out = String::new();
            write_date(days, &mut out);
            Ok(Some(out))
        }
        HiveType::Timestamp => {
            parse::parse_timestamp(b).ok_or_else(bad)?;
            Ok(Some(value.trim().to_string()))
        }
        HiveType::String | HiveType::Varchar(_) | HiveType::Char(_) => {
            Ok(if value.is_empty() { None } else { Some(value.to_string()) })
        }
        HiveType::Binary | HiveType::Array(_) | HiveType::Map(..) | HiveType::Struct(_) => {
            Err(format!("partition columns of type {ty} are not supported"))
        }
    }
}

/// The Hive types of a table's partition keys.
pub fn key_types(table: &Table) -> Result<Vec<HiveType>> {
    table.partition_keys.iter().map(parse_column_type).collect()
}

/// The position of partition key `name`; a clear error for other columns.
fn key_index(table: &Table, name: &str) -> Result<usize> {
    table.partition_keys.iter().position(|k| k.name.eq_ignore_ascii_case(name)).ok_or_else(|| {
        semantic(format!(
            "Non-Partition column appears in the partition specification: {name} (the partition columns of {} are {})",
            table.qualified_name(),
            key_list(table)
        ))
    })
}

fn key_list(table: &Table) -> String {
    table.partition_keys.iter().map(|k| k.name.as_str()).collect::<Vec<_>>().join(", ")
}

fn checked_value(table: &Table, types: &[HiveType], i: usize, value: &str) -> Result<Option<String>> {
    normalize(&types[i], value).map_err(|e| {
        semantic(format!(
            "Partition value for column {} of {} cannot be converted to {}: {e}",
            table.partition_keys[i].name,
            table.qualified_name(),
            types[i]
        ))
    })
}

/// What a `PARTITION (...)` clause says about one partition key.
#[derive(Debug, Clone, PartialEq)]
pub enum KeySpec {
    /// The key is not named.
    Missing,
    /// The key is named without a value (a dynamic partition column).
    Dynamic,
    /// The key's canonical value (`None`: the default partition).
    Value(Option<String>),
}

/// Check a `PARTITION (...)` clause against the table's keys: every named
/// column is a partition key, named once, with a value of its type.
/// One entry per partition key, in the table's order.
pub fn resolve(table: &Table, spec: &[(String, Option<String>)]) -> Result<Vec<KeySpec>> {
    if table.partition_keys.is_empty() {
        return Err(semantic(format!(
            "Table {} is not partitioned but a partition spec was given",
            table.qualified_name()
        )));
    }
    let types = key_types(table)?;
    let mut keys = vec![KeySpec::Missing; types.len()];
    for (k, v) in spec {
        let i = key_index(table, k)?;
        if keys[i] != KeySpec::Missing {
            return Err(semantic(format!("partition column {k} is given twice in the partition specification")));
        }
        keys[i] = match v {
            None => KeySpec::Dynamic,
            Some(v) => KeySpec::Value(checked_value(table, &types, i, v)?),
        };
    }
    Ok(keys)
}

/// The error for a partition key a whole-partition spec leaves out.
pub fn incomplete(table: &Table, i: usize) -> crate::error::HiveError {
    semantic(format!(
        "partition specification of {} is incomplete: {} has no value (the partition columns are {})",
        table.qualified_name(),
        table.partition_keys[i].name,
        key_list(table)
    ))
}

/// The values of one whole partition from a spec that names every key
/// once with a constant (`ALTER TABLE ... ADD PARTITION`, `LOAD DATA`).
pub fn full_values(table: &Table, spec: &[(String, Option<String>)]) -> Result<Vec<Option<String>>> {
    resolve(table, spec)?
        .into_iter()
        .enumerate()
        .map(|(i, k)| match k {
            KeySpec::Value(v) => Ok(v),
            KeySpec::Dynamic => {
                let name = &table.partition_keys[i].name;
                Err(semantic(format!("partition column {name} needs a value here: PARTITION ({name}='...')")))
            }
            KeySpec::Missing => Err(incomplete(table, i)),
        })
        .collect()
}

/// A comparison in a `DROP PARTITION` or `SHOW PARTITIONS` spec.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecPredicate {
    pub key: String,
    pub op: CompareOp,
    pub value: String,
}

/// The metastore filter of a (possibly partial) spec of comparisons, and
/// the same test to apply exactly to a partition's values (the metastore
/// may return more).
pub fn spec_filter(table: &Table, spec: &[SpecPredicate]) -> Result<(PartitionFilter, SpecMatcher)> {
    let types = key_types(table)?;
    let mut filters = Vec::new();
    let mut tests = Vec::new();
    for p in spec {
        let i = key_index(table, &p.key)?;
        let value = checked_value(table, &types, i, &p.value)?;
        let Some(value) = value else {
            if p.op != CompareOp::Eq {
                return Err(semantic(format!("the default partition can only be named with '=': {}", p.key)));
            }
            filters.push(PartitionFilter::IsNull { key: i });
            tests.push((i, p.op, None));
            continue;
        };
        let typed = filter_value(&types[i], &value);
        filters.push(PartitionFilter::Compare { key: i, op: p.op, value: typed.clone() });
        tests.push((i, p.op, Some(typed)));
    }
    Ok((PartitionFilter::And(filters), SpecMatcher { types, tests }))
}

/// How a key of this type compares in the metastore.
pub fn filter_value(ty: &HiveType, canonical: &str) -> FilterValue {
    match ty {
        HiveType::TinyInt | HiveType::SmallInt | HiveType::Int | HiveType::BigInt => {
            canonical.parse().map(FilterValue::Int).unwrap_or_else(|_| FilterValue::Text(canonical.into()))
        }
        HiveType::Float | HiveType::Double | HiveType::Decimal(..) => parse::parse_f64(canonical.as_bytes())
            .map(FilterValue::Real)
            .unwrap_or_else(|| FilterValue::Text(canonical.into())),
        _ => FilterValue::Text(canonical.into()),
    }
}

/// The exact test of a spec of comparisons on a partition's values.
#[derive(Debug)]
pub struct SpecMatcher {
    types: Vec<HiveType>,
    tests: Vec<(usize, CompareOp, Option<FilterValue>)>,
}

impl SpecMatcher {
    /// True when every comparison holds for `values`.
    pub fn matches(&self, values: &[Option<String>]) -> bool {
        self.tests.iter().all(|(i, op, want)| match (values.get(*i).cloned().flatten(), want) {
            (None, None) => true,
            (None, Some(_)) | (Some(_), None) => false,
            (Some(v), Some(want)) => {
                let have = filter_value(&self.types[*i], &v);
                let ord = match (&have, want) {
                    (FilterValue::Int(a), FilterValue::Int(b)) => a.partial_cmp(b),
                    (FilterValue::Real(a), FilterValue::Real(b)) => a.partial_cmp(b),
                    (FilterValue::Text(a), FilterValue::Text(b)) => a.partial_cmp(b),
                    _ => None,
                };
                let Some(ord) = ord else { return false };
                match op {
                    CompareOp::Eq => ord.is_eq(),
                    CompareOp::NotEq => ord.is_ne(),
                    CompareOp::Lt => ord.is_lt(),
                    CompareOp::LtEq => ord.is_le(),
                    CompareOp::Gt => ord.is_gt(),
                    CompareOp::GtEq => ord.is_ge(),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_and_made_canonical() {
        assert_eq!(normalize(&HiveType::Int, "007"), Ok(Some("7".into())));
        assert_eq!(normalize(&HiveType::Int, "-3"), Ok(Some("-3".into())));
        assert!(normalize(&HiveType::Int, "3000000000").is_err());
        assert!(normalize(&HiveType::Int, "1.5").is_err());
        assert!(normalize(&HiveType::TinyInt, "128").is_err());
        assert!(normalize(&HiveType::Int, "abc").unwrap_err().contains("'abc' is not a valid int"));
        assert_eq!(normalize(&HiveType::Date, "2024-5-1"), Ok(Some("2024-05-01".into())));
        assert!(normalize(&HiveType::Date, "2024-02-30").is_err());
        assert_eq!(normalize(&HiveType::String, ""), Ok(None));
        assert_eq!(normalize(&HiveType::String, DEFAULT_PARTITION), Ok(None));
        assert_eq!(normalize(&HiveType::Int, DEFAULT_PARTITION), Ok(None));
        assert_eq!(normalize(&HiveType::Boolean, "TRUE"), Ok(Some("true".into())));
        assert!(normalize(&HiveType::Decimal(4, 2), "123.45").is_err());
    }
}
