//! `hiveql-bench functions`: the cost of Hive's function semantics. Each
//! job runs in one session over the same generated lineitem-like text table
//! (W5's columns plus a JSON string column), once with the Hive function
//! and once with DataFusion's built-in for the same job (registered under
//! a `df_` name, or DataFusion's own expression), so the two differ only
//! in the function. `LATERAL VIEW explode` is timed against DataFusion's
//! `unnest` over the same arrays.

use std::path::Path;

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
};

use hiveql_engine::{Session, SessionOptions};

use crate::{Rng, generate, time};

const MODES: [&str; 7] = ["AIR", "FOB", "MAIL", "RAIL", "REG AIR", "SHIP", "TRUCK"];

/// lineitem-like lines: id|qty|price|flag|shipmode|shipdate|comment|json
fn gen_lineitem(dir: &Path, bytes: u64) {
    generate(dir, bytes, |r: &mut Rng, s: &mut String| {
        use std::fmt::Write;
        let words = ["furiously", "regular", "accounts", "sleep", "quickly", "blithely", "ironic", "deposits"];
        let mut comment = String::new();
        for i in 0..3 + r.next(5) {
            if i > 0 {
                comment.push(' ');
            }
            comment.push_str(words[r.next(words.len() as u64) as usize]);
        }
        let _ = writeln!(
            s,
            "{}|{}|{}.{:02}|{}|{}|199{}-{:02}-{:02}|{comment}|{{\"a\":{{\"b\":{},\"c\":\"{}\"}},\"d\":[{},{}]}}",
            r.next(6_000_000),
            1 + r.next(50),
            900 + r.next(100_000),
            r.next(100),
            ["A", "N", "R"][r.next(3) as usize],
            MODES[r.next(7) as usize],
            2 + r.next(7),
            1 + r.next(12),
            1 + r.next(28),
            r.next(1000),
            words[r.next(8) as usize],
            r.next(10),
            r.next(10),
        );
    });
}

/// A DataFusion function under another name, so it can stand beside the
/// Hive function that replaced it.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Renamed {
    name: String,
    inner: ScalarUDF,
}

impl ScalarUDFImpl for Renamed {
    fn name(&self) -> &str {
        &self.name
    }
    fn signature(&self) -> &Signature {
        self.inner.signature()
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        self.inner.return_type(args)
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.inner.return_field_from_args(args)
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(args)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        self.inner.invoke_with_args(args)
    }
}

/// Register DataFusion's own functions under `df_` names, beside Hive's.
fn register_datafusion_builtins(session: &Session) {
    let builtins = [
        datafusion::functions::unicode::substr(),
        datafusion::functions::string::concat(),
        datafusion::functions::regex::regexp_replace(),
        datafusion::functions::math::round(),
    ];
    for f in builtins {
        let name = format!("df_{}", f.name());
        session.context().register_udf(ScalarUDF::new_from_impl(Renamed { name, inner: f.as_ref().clone() }));
    }
}

/// (job, Hive expression, DataFusion's expression for the same job or "")
const JOBS: &[(&str, &str, &str)] = &[
    ("substr", "substr(l_comment, 3, 10)", "df_substr(l_comment, 3, 10)"),
    ("concat", "concat(l_flag, '-', l_shipmode)", "df_concat(l_flag, '-', l_shipmode)"),
    ("regexp_replace", "regexp_replace(l_comment, 'e+', 'E')", "df_regexp_replace(l_comment, 'e+', 'E', 'g')"),
    ("date_add", "date_add(l_shipdate, 7)", "l_shipdate + INTERVAL '7' DAY"),
    ("round", "round(CAST(l_price AS DOUBLE) * 1.1e0, 1)", "df_round(CAST(l_price AS DOUBLE) * 1.1e0, 1)"),
    ("upper", "upper(l_shipmode)", "upper(l_shipmode)"),
    (
        "case",
        "CASE WHEN l_qty > 25 THEN 'big' WHEN l_qty > 10 THEN 'mid' ELSE 'small' END",
        "CASE WHEN l_qty > 25 THEN 'big' WHEN l_qty > 10 THEN 'mid' ELSE 'small' END",
    ),
    ("get_json_object", "get_json_object(l_json, '$.a.c')", ""),
];

pub async fn run(gen_dir: &Path, mb: u64, runs: usize) {
    let dir = gen_dir.join("lineitem");
    gen_lineitem(&dir, mb << 20);
    let home = tempfile::tempdir().unwrap();
    let mut session = Session::open(SessionOptions { home: home.path().to_path_buf(), ..Default::default() }).unwrap();
    session
        .execute(&format!(
            "CREATE EXTERNAL TABLE li (l_id BIGINT, l_qty INT, l_price DECIMAL(15,2), l_flag STRING, l_shipmode STRING, \
             l_shipdate DATE, l_comment STRING, l_json STRING) ROW FORMAT DELIMITED FIELDS TERMINATED BY '|' LOCATION '{}'",
            dir.display()
        ))
        .await
        .unwrap();
    register_datafusion_builtins(&session);
    // 1M rows of 10-element arrays for LATERAL VIEW explode
    session
        .execute(
            "CREATE TABLE arrs STORED AS PARQUET AS SELECT value AS id, \
             array(value, value + 1, value + 2, value + 3, value + 4, value + 5, value + 6, value + 7, value + 8, value + 9) AS a \
             FROM range(1000000)",
        )
        .await
        .unwrap();

    let bytes: u64 = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum();
    let input_mb = bytes as f64 / 1e6;
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) as f64;
    let run_query = |sql: String| {
        let session = session.clone();
        async move {
            time(runs, || {
                let (mut s, sql) = (session.clone(), sql.clone());
                async move {
                    let b = s.execute_collect(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
                    b.iter().map(|b| b.num_rows()).sum()
                }
            })
            .await
            .0
        }
    };
    println!("Hive functions vs DataFusion built-ins: {input_mb:.0} MB of text, median of {runs} runs after 1 warm-up");
    println!("| job | hiveql s | MB/s per core | DataFusion s | MB/s per core | ratio |");
    println!("|---|---:|---:|---:|---:|---:|");
    let scan = run_query("SELECT max(l_comment), max(l_shipdate) FROM li".into()).await;
    println!("| scan only | {scan:.3} | {:.0} | | | |", input_mb / scan / cores);
    for (job, hive, df) in JOBS {
        let h = run_query(format!("SELECT max({hive}) FROM li")).await;
        if df.is_empty() {
            println!("| {job} | {h:.3} | {:.0} | — | — | — |", input_mb / h / cores);
            continue;
        }
        let d = run_query(format!("SELECT max({df}) FROM li")).await;
        println!(
            "| {job} | {h:.3} | {:.0} | {d:.3} | {:.0} | {:.2}x |",
            input_mb / h / cores,
            input_mb / d / cores,
            h / d
        );
    }

    // LATERAL VIEW explode against unnest, over 10 million elements
    let hive = run_query("SELECT count(x), sum(x) FROM arrs LATERAL VIEW explode(a) t AS x".into()).await;
    let df = run_query("SELECT count(x), sum(x) FROM (SELECT unnest(a) AS x FROM arrs) u".into()).await;
    println!(
        "| LATERAL VIEW explode, 10M elements | {hive:.3} | {:.1} M rows/s | unnest {df:.3} | {:.1} M rows/s | {:.2}x |",
        10.0 / hive,
        10.0 / df,
        hive / df
    );
}
