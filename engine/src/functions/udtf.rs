//! Hive's table-generating functions (UDTFs) as DataFusion plans: each
//! input row joined with the rows the function makes of it, as
//! `LATERAL VIEW [OUTER] udtf(args) alias AS c1, ...` asks. They are built
//! from DataFusion's `Unnest` and projections, so they run (and
//! serialise) like any other plan:
//! - `explode(array)` (`col`), `explode(map)` (`key`, `value`);
//! - `posexplode(array)` (`pos` from 0, `val`);
//! - `inline(array<struct>)` (one column per field);
//! - `stack(n, v1, ...)` (`col0`, ...: n rows, filled row by row);
//! - `json_tuple(json, k1, ...)` and `parse_url_tuple(url, p1, ...)`
//!   (`c0`, ...: one row per input row);
//! - `replicate_rows(n, c1, ...)` (`col0` = n, `col1`, ...: n copies).
//!
//! An input row for which the function makes no rows is dropped, or with
//! `OUTER` kept once with NULLs, as in Hive.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{NullHandling, Result, ScalarValue, TableReference, UnnestOptions, plan_err};
use datafusion::functions::core::expr_fn::get_field;
use datafusion::functions_nested::expr_fn::{cardinality, make_array, map_entries, range};
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan, LogicalPlanBuilder, cast, col, lit};

/// The names Hive's UDTFs are called by.
pub const UDTFS: &[&str] =
    &["explode", "posexplode", "inline", "stack", "json_tuple", "parse_url_tuple", "replicate_rows"];

/// Whether `name` is a table-generating function.
pub fn is_udtf(name: &str) -> bool {
    UDTFS.contains(&name.to_ascii_lowercase().as_str())
}

/// The columns a UDTF makes when the query does not name them.
fn default_names(name: &str, args: &[Expr], input: &LogicalPlan) -> Result<Vec<String>> {
    let schema = input.schema();
    Ok(match name {
        "explode" => match args.first().map(|a| a.get_type(schema)).transpose()? {
            Some(DataType::Map(..)) => vec!["key".into(), "value".into()],
            _ => vec!["col".into()],
        },
        "posexplode" => vec!["pos".into(), "val".into()],
        "inline" => match args.first().map(|a| a.get_type(schema)).transpose()? {
            Some(DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _)) => match f.data_type() {
                DataType::Struct(fields) => fields.iter().map(|f| f.name().clone()).collect(),
                t => return plan_err!("inline takes an ARRAY of STRUCTs, not an ARRAY of {t}"),
            },
            t => return plan_err!("inline takes an ARRAY of STRUCTs, not {}", fmt_type(t)),
        },
        "stack" => {
            let k = stack_width(args)?;
            (0..k).map(|j| format!("col{j}")).collect()
        }
        "replicate_rows" => (0..args.len()).map(|j| format!("col{j}")).collect(),
        _ => (0..args.len().saturating_sub(1)).map(|j| format!("c{j}")).collect(),
    })
}

fn fmt_type(t: Option<DataType>) -> String {
    t.map_or_else(|| "nothing".to_string(), |t| t.to_string())
}

/// The constant row count of `stack(n, ...)` and its column count.
fn stack_rows(args: &[Expr]) -> Result<usize> {
    match args.first() {
        Some(Expr::Literal(v, _)) => match v.cast_to(&DataType::Int64) {
            Ok(ScalarValue::Int64(Some(n))) if n >= 1 => Ok(n as usize),
            _ => plan_err!("stack: the number of rows must be a constant of at least 1, not {v}"),
        },
        _ => plan_err!("stack: the number of rows must be a constant"),
    }
}

fn stack_width(args: &[Expr]) -> Result<usize> {
    let n = stack_rows(args)?;
    let values = args.len() - 1;
    if values == 0 {
        return plan_err!("stack: no values to stack");
    }
    Ok(values.div_ceil(n))
}

/// How the unnested columns become the UDTF's output columns.
type Outputs<'a> = Box<dyn Fn(Vec<Expr>) -> Vec<Expr> + 'a>;

/// The input joined with the rows `name(args)` makes of each input row;
/// the new columns are qualified by `alias` and named `names` (Hive's
/// defaults when empty).
pub fn lateral_view(
    input: LogicalPlan,
    name: &str,
    args: Vec<Expr>,
    outer: bool,
    alias: &str,
    names: Vec<String>,
) -> Result<LogicalPlan> {
    let name = name.to_ascii_lowercase();
    let names = if names.is_empty() { default_names(&name, &args, &input)? } else { names };
    let keep: Vec<Expr> = input.schema().columns().into_iter().map(Expr::Column).collect();
    let schema = input.schema().clone();
    let arg_type = |k: usize| -> Result<DataType> {
        match args.get(k) {
            Some(a) => a.get_type(&schema),
            None => plan_err!("{name}: argument {} is missing", k + 1),
        }
    };
    let qualifier = TableReference::bare(alias);
    let out = |e: Expr, n: &str| e.alias_qualified(Some(qualifier.clone()), n);
    let expect = |want: usize| -> Result<()> {
        if names.len() != want {
            return plan_err!("{name} makes {want} column(s), but the LATERAL VIEW names {}", names.len());
        }
        Ok(())
    };
    // lists to unnest side by side, and how the unnested columns become the outputs
    let (lists, outputs): (Vec<Expr>, Outputs) = match name.as_str() {
        "explode" => {
            if args.len() != 1 {
                return plan_err!("explode takes one argument, got {}", args.len());
            }
            match arg_type(0)? {
                DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) => {
                    expect(1)?;
                    let n = names[0].clone();
                    (vec![args[0].clone()], Box::new(move |u| vec![out(u[0].clone(), &n)]))
                }
                DataType::Map(..) => {
                    expect(2)?;
                    let (k, v) = (names[0].clone(), names[1].clone());
                    (
                        vec![map_entries(args[0].clone())],
                        Box::new(move |u| {
                            vec![out(get_field(u[0].clone(), "key"), &k), out(get_field(u[0].clone(), "value"), &v)]
                        }),
                    )
                }
                t => return plan_err!("explode takes an ARRAY or a MAP, not {t}"),
            }
        }
        "posexplode" => {
            if args.len() != 1 || !matches!(arg_type(0)?, DataType::List(_) | DataType::LargeList(_)) {
                return plan_err!("posexplode takes one ARRAY");
            }
            expect(2)?;
            let positions = range(
                lit(0i64),
                cast(
                    datafusion::functions::expr_fn::coalesce(vec![cardinality(args[0].clone()), lit(0u64)]),
                    DataType::Int64,
                ),
                lit(1i64),
            );
            let (p, v) = (names[0].clone(), names[1].clone());
            (
                vec![positions, args[0].clone()],
                Box::new(move |u| vec![out(cast(u[0].clone(), DataType::Int32), &p), out(u[1].clone(), &v)]),
            )
        }
        "inline" => {
            let fields = match arg_type(0)? {
                DataType::List(f) | DataType::LargeList(f) => match f.data_type() {
                    DataType::Struct(fields) => fields.iter().map(|f| f.name().clone()).collect::<Vec<_>>(),
                    t => return plan_err!("inline takes an ARRAY of STRUCTs, not an ARRAY of {t}"),
                },
                t => return plan_err!("inline takes an ARRAY of STRUCTs, not {t}"),
            };
            expect(fields.len())?;
            let names = names.clone();
            (
                vec![args[0].clone()],
                Box::new(move |u| {
                    fields.iter().zip(&names).map(|(f, n)| out(get_field(u[0].clone(), f.as_str()), n)).collect()
                }),
            )
        }
        "stack" => {
            let rows = stack_rows(&args)?;
            let width = stack_width(&args)?;
            expect(width)?;
            let values = &args[1..];
            // column j holds v[j], v[j + width], ...; missing values are NULL
            let mut lists = Vec::with_capacity(width);
            for j in 0..width {
                let column: Vec<Expr> = (0..rows)
                    .map(|r| values.get(r * width + j).cloned().unwrap_or(Expr::Literal(ScalarValue::Null, None)))
                    .collect();
                lists.push(make_array(column));
            }
            let names = names.clone();
            (lists, Box::new(move |u| u.into_iter().zip(&names).map(|(e, n)| out(e, n)).collect()))
        }
        "replicate_rows" => {
            if args.len() < 2 {
                return plan_err!("replicate_rows(n, cols...) expects at least two arguments, got {}", args.len());
            }
            let n = arg_type(0)?;
            if !n.is_integer() {
                return plan_err!("The first argument to replicate_rows must be a BIGINT (got {n} instead)");
            }
            expect(args.len())?;
            // one element per copy: 0 .. n (none for a NULL or non-positive n)
            let copies = range(
                lit(0i64),
                cast(datafusion::functions::expr_fn::coalesce(vec![args[0].clone(), lit(0i64)]), DataType::Int64),
                lit(1i64),
            );
            let (args, names) = (args.clone(), names.clone());
            (vec![copies], Box::new(move |_| args.iter().zip(&names).map(|(a, n)| out(a.clone(), n)).collect()))
        }
        "json_tuple" | "parse_url_tuple" => {
            if args.len() < 2 {
                return plan_err!("{name} needs a value and at least one key");
            }
            expect(args.len() - 1)?;
            let mut exprs = keep.clone();
            for (k, n) in args[1..].iter().zip(&names) {
                let e = if name == "json_tuple" {
                    super::json_url_regex::json_tuple_field().call(vec![args[0].clone(), k.clone()])
                } else {
                    url_part(&args[0], k)?
                };
                exprs.push(out(e, n));
            }
            return LogicalPlanBuilder::from(input).project(exprs)?.build();
        }
        other => return plan_err!("{other} is not a table-generating function"),
    };
    let temp: Vec<String> = (0..lists.len()).map(|k| format!("__lateral_{k}")).collect();
    let mut first = keep.clone();
    first.extend(lists.into_iter().zip(&temp).map(|(l, t)| l.alias(t)));
    let handling = if outer { NullHandling::PreserveAndExpandEmpty } else { NullHandling::Drop };
    let unnested = LogicalPlanBuilder::from(input).project(first)?.unnest_columns_with_options(
        temp.iter().map(|t| t.as_str().into()).collect(),
        UnnestOptions::new().with_null_handling(handling),
    )?;
    let mut last = keep;
    last.extend(outputs(temp.iter().map(|t| col(t.as_str())).collect()));
    unnested.project(last)?.build()
}

/// `parse_url_tuple`'s parts: `HOST`, `PATH`, ..., or `QUERY:key`.
fn url_part(url: &Expr, part: &Expr) -> Result<Expr> {
    let parse_url = super::json_url_regex::parse_url_udf();
    match part {
        Expr::Literal(
            ScalarValue::Utf8(Some(p)) | ScalarValue::Utf8View(Some(p)) | ScalarValue::LargeUtf8(Some(p)),
            _,
        ) => Ok(match p.split_once(':') {
            Some(("QUERY", key)) => parse_url.call(vec![url.clone(), lit("QUERY"), lit(key)]),
            _ => parse_url.call(vec![url.clone(), lit(p.as_str())]),
        }),
        _ => plan_err!("parse_url_tuple: the parts must be string constants"),
    }
}
