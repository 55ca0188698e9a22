//! Hive's session and miscellaneous functions: `current_database`,
//! `current_user`, `version`, `typeof` (Hive's type names), `in_file`; and
//! the functions hiveql does not provide, registered under their names so
//! a user learns why (the JVM's reflection, geospatial `ST_*` and
//! DataSketches `ds_*` families, XPath).

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{DataType, IntervalUnit};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::udf::{Arg, Args, HiveScalar, bools, exactly, strings, unsupported};

/// The version `version()` reports: Hive's language level and hiveql's own.
pub const VERSION: &str = concat!("4.0.0 hiveql-", env!("CARGO_PKG_VERSION"));

/// The functions of this module.
pub(crate) fn functions() -> Vec<ScalarUDF> {
    use Arg::*;
    use DataType::*;
    let mut out = vec![
        HiveScalar::new(
            "current_database",
            exactly(&[]),
            |_, _| Ok(Utf8),
            |a| {
                let db = a.config().catalog.default_schema.clone();
                Ok(strings(1, |_| Some(db.clone())))
            },
        )
        .aliases(&["current_schema"])
        .stable()
        .udf(),
        HiveScalar::new("current_user", exactly(&[]), |_, _| Ok(Utf8), |_| Ok(strings(1, |_| Some(user()))))
            .aliases(&["logged_in_user", "session_user"])
            .stable()
            .udf(),
        HiveScalar::new(
            "current_groups",
            exactly(&[]),
            |_, _| Ok(List(std::sync::Arc::new(datafusion::arrow::datatypes::Field::new("item", Utf8, true)))),
            current_groups,
        )
        .stable()
        .udf(),
        HiveScalar::new("current_catalog", exactly(&[]), |_, _| Ok(Utf8), |_| Ok(strings(1, |_| Some("hive".into()))))
            .udf(),
        HiveScalar::new("version", exactly(&[]), |_, _| Ok(Utf8), |_| Ok(strings(1, |_| Some(VERSION.into()))))
            .aliases(&["buildversion"])
            .udf(),
        HiveScalar::new(
            "typeof",
            exactly(&[Any]),
            |_, _| Ok(Utf8),
            |a| {
                let name = match a.data_type(0) {
                    _ if let Some(limit) = crate::types::TextLimit::of(a.field(0)) => limit.type_name(),
                    Interval(IntervalUnit::YearMonth) => "interval_year_month".to_string(),
                    Interval(_) | Duration(_) => "interval_day_time".to_string(),
                    t => crate::types::hive_type(t).map_or_else(|_| t.to_string(), |t| t.to_string()),
                };
                Ok(strings(a.rows(), |_| Some(name.clone())))
            },
        )
        .udf(),
        HiveScalar::new("in_file", exactly(&[Str, Str]), |_, _| Ok(Boolean), in_file).udf(),
    ];
    for name in ["reflect", "reflect2", "java_method"] {
        out.push(unsupported(name, "not supported by hiveql: it calls Java methods, and hiveql has no JVM"));
    }
    for name in [
        "xpath",
        "xpath_string",
        "xpath_boolean",
        "xpath_int",
        "xpath_short",
        "xpath_long",
        "xpath_float",
        "xpath_double",
        "xpath_number",
    ] {
        out.push(unsupported(name, "not supported by hiveql yet: XPath over XML text is not implemented"));
    }
    // a UDTF anywhere but alone in the select list or in LATERAL VIEW
    for name in super::udtf::UDTFS {
        out.push(unsupported(
            name,
            "a table-generating function must be the only expression in the select list, or be used in LATERAL VIEW",
        ));
    }
    out
}

fn user() -> String {
    std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "hive".into())
}

/// The groups of `user` as the system's group database lists them: its
/// primary group (from `/etc/passwd`) first, then every group that names
/// it as a member (`/etc/group`), as Hive's Unix group mapping gives them.
fn groups_of(user: &str, passwd: &str, group: &str) -> Vec<String> {
    let primary_gid = passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() > 3 && f[0] == user)
        .map(|f| f[3].to_string());
    let mut out: Vec<String> = Vec::new();
    let mut rest: Vec<String> = Vec::new();
    for fields in group.lines().map(|l| l.split(':').collect::<Vec<_>>()).filter(|f| f.len() > 2) {
        if primary_gid.as_deref() == Some(fields[2]) {
            out.push(fields[0].to_string());
        } else if fields.get(3).is_some_and(|m| m.split(',').any(|u| u.trim() == user)) {
            rest.push(fields[0].to_string());
        }
    }
    out.extend(rest);
    out
}

/// `current_groups()`: the current user's groups (one value, like `current_user`).
fn current_groups(_: &Args) -> Result<ArrayRef> {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let groups = groups_of(&user(), &read("/etc/passwd"), &read("/etc/group"));
    let mut b = datafusion::arrow::array::ListBuilder::new(datafusion::arrow::array::StringBuilder::new());
    for g in &groups {
        b.values().append_value(g);
    }
    b.append(true);
    Ok(std::sync::Arc::new(b.finish()))
}

fn in_file(a: &Args) -> Result<ArrayRef> {
    let (s, path) = (a.str(0), a.str(1));
    if !a.is_const(1) {
        return exec_err!("in_file: the file name must be a constant");
    }
    let Some(p) = path.get(0) else { return Ok(bools(a.rows(), |_| None)) };
    // read for each batch: the file may change between statements
    let text = match std::fs::read_to_string(p) {
        Ok(text) => text,
        Err(e) => return exec_err!("in_file: cannot read {p}: {e}"),
    };
    let lines: std::collections::HashSet<&str> = text.lines().collect();
    Ok(bools(a.rows(), |i| Some(lines.contains(s.get(i)?))))
}

#[cfg(test)]
mod group_tests {
    use super::groups_of;

    #[test]
    fn groups_from_the_group_database() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\nann:x:1000:1000::/home/ann:/bin/sh\n";
        let group = "root:x:0:\nwheel:x:10:ann,bob\nann:x:1000:\ndocker:x:999:bob, ann\n";
        assert_eq!(groups_of("ann", passwd, group), ["ann", "wheel", "docker"]);
        assert_eq!(groups_of("nobody", passwd, group), Vec::<String>::new());
    }
}
