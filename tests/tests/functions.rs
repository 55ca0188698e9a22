//! `SHOW FUNCTIONS` lists every function of Hive 4's reference
//! (`tests/data/hive-function-names.txt`, taken from
//! `../shared/reference/hive-functions.md`) except operators and keywords,
//! Hive's internal helpers, and the functions not written yet, which are
//! listed here by name: the test fails when one of them arrives (take it
//! off the list) as when one of the others goes missing.

use std::collections::BTreeSet;

use hiveql_engine::{Session, SessionOptions};

/// Operators and syntax the reference lists among the functions.
const SYNTAX: &[&str] = &[
    "and",
    "or",
    "not",
    "between",
    "in",
    "like",
    "index",
    "case",
    "when",
    "div",
    "is_not_distinct_from",
    "internal_interval",
    "cast_format",
];

/// Hive's internal helpers (statistics, ACID, LLAP, Iceberg, constraints).
const INTERNAL: &[&str] = &[
    "compute_stats",
    "compute_bit_vector_fm",
    "compute_bit_vector_hll",
    "ndv_compute_bit_vector",
    "bloom_filter",
    "in_bloom_filter",
    "get_splits",
    "get_llap_splits",
    "get_sql_schema",
    "validate_acid_sort_order",
    "bucket_number",
    "split_map_privs",
    "deserialize",
    "exception_in_vertex_udf",
    "exception_in_vertex_udaf",
    "iceberg_bucket",
    "iceberg_truncate",
    "iceberg_year",
    "iceberg_month",
    "iceberg_day",
    "iceberg_hour",
    "iceberg_zorder",
    "assert_true_oom",
    "surrogate_key",
    "cardinality_violation",
    "enforce_constraint",
    "sq_count_check",
    "toarray",
    "tomap",
    "tostruct",
    "parse_json",
    "to_json",
    "variant_get",
    "try_variant_get",
    "current_authorizer",
    "restrict_information_schema",
];

/// Not written yet.
const NOT_YET: &[&str] = &[];

#[tokio::test]
async fn show_functions_lists_the_reference() {
    let home = tempfile::tempdir().unwrap();
    let mut s = Session::open(SessionOptions { home: home.path().to_path_buf(), ..Default::default() }).unwrap();
    let batches = s.execute_collect("SHOW FUNCTIONS").await.unwrap();
    let mut shown = BTreeSet::new();
    for b in &batches {
        for r in 0..b.num_rows() {
            shown.insert(hiveql_engine::value::format_value(b.column(0).as_ref(), r).unwrap());
        }
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/hive-function-names.txt");
    let reference: Vec<String> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(str::to_string)
        .collect();
    let exempt = |n: &str| SYNTAX.contains(&n) || INTERNAL.contains(&n);
    let missing: Vec<&String> =
        reference.iter().filter(|n| !exempt(n) && !NOT_YET.contains(&n.as_str()) && !shown.contains(*n)).collect();
    assert!(missing.is_empty(), "SHOW FUNCTIONS misses {} reference functions: {missing:?}", missing.len());
    let arrived: Vec<&&str> = NOT_YET.iter().filter(|n| shown.contains(**n)).collect();
    assert!(arrived.is_empty(), "take these off NOT_YET, they exist now: {arrived:?}");
    // LIKE filters with Hive's wildcards
    let batches = s.execute_collect("SHOW FUNCTIONS LIKE 'regexp*'").await.unwrap();
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert!(rows >= 3, "regexp, regexp_extract, regexp_replace");
}
