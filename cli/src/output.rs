//! Printing result rows in the `--outputformat`s of beeline, with values as
//! Hive prints them (see `hiveql_engine::value`).

use std::io::Write;

use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::datatypes::DataType;
use datafusion::execution::SendableRecordBatchStream;
use futures::StreamExt;
use hiveql_engine::HiveError;
use hiveql_engine::value::format_value;

use crate::args::OutputFormat;

/// Writes result rows to an output.
pub struct Printer<W: Write> {
    format: OutputFormat,
    header: bool,
    out: W,
}

fn io(e: std::io::Error) -> HiveError {
    HiveError::Io { context: "writing results".into(), source: e }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

fn json_value(col: &dyn Array, row: usize) -> serde_json::Value {
    let Some(text) = format_value(col, row) else { return serde_json::Value::Null };
    match col.data_type() {
        DataType::Boolean => serde_json::Value::Bool(text == "true"),
        t if t.is_integer() => {
            text.parse::<i64>().map(serde_json::Value::from).unwrap_or(serde_json::Value::String(text))
        }
        t if t.is_floating() || matches!(t, DataType::Decimal128(..)) => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::String(text)),
        DataType::List(_) | DataType::Map(..) | DataType::Struct(_) => {
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
        }
        _ => serde_json::Value::String(text),
    }
}

impl<W: Write> Printer<W> {
    pub fn new(format: OutputFormat, header: bool, out: W) -> Self {
        Printer { format, header, out }
    }

    /// Print every row of `stream`; returns the row count.
    pub async fn print_stream(&mut self, mut stream: SendableRecordBatchStream) -> Result<usize, HiveError> {
        let schema = stream.schema();
        let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let mut rows = 0;
        match self.format {
            OutputFormat::Table => {
                let mut cells: Vec<Vec<String>> = Vec::new();
                while let Some(b) = stream.next().await {
                    let b = b?;
                    rows += b.num_rows();
                    cells.extend(text_rows(&b));
                }
                self.table(&names, &cells).map_err(io)?;
            }
            OutputFormat::Tsv2 | OutputFormat::Csv2 => {
                let tsv = self.format == OutputFormat::Tsv2;
                let line = |vals: Vec<String>| -> String {
                    if tsv { vals.join("\t") } else { vals.iter().map(|v| csv_field(v)).collect::<Vec<_>>().join(",") }
                };
                if self.header {
                    writeln!(self.out, "{}", line(names.clone())).map_err(io)?;
                }
                while let Some(b) = stream.next().await {
                    let b = b?;
                    rows += b.num_rows();
                    let mut buf = String::new();
                    for r in text_rows(&b) {
                        buf.push_str(&line(r));
                        buf.push('\n');
                    }
                    self.out.write_all(buf.as_bytes()).map_err(io)?;
                }
            }
            OutputFormat::Json => {
                let mut all = Vec::new();
                while let Some(b) = stream.next().await {
                    let b = b?;
                    rows += b.num_rows();
                    for r in 0..b.num_rows() {
                        let mut obj = serde_json::Map::new();
                        for (c, n) in names.iter().enumerate() {
                            obj.insert(n.clone(), json_value(b.column(c).as_ref(), r));
                        }
                        all.push(serde_json::Value::Object(obj));
                    }
                }
                let doc = serde_json::json!({ "resultset": all });
                writeln!(self.out, "{doc}").map_err(io)?;
            }
            OutputFormat::Vertical => {
                let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
                while let Some(b) = stream.next().await {
                    let b = b?;
                    for r in text_rows(&b) {
                        if rows > 0 {
                            writeln!(self.out).map_err(io)?;
                        }
                        rows += 1;
                        for (n, v) in names.iter().zip(r) {
                            writeln!(self.out, "{n:width$}  {v}").map_err(io)?;
                        }
                    }
                }
            }
        }
        self.out.flush().map_err(io)?;
        Ok(rows)
    }

    fn table(&mut self, names: &[String], cells: &[Vec<String>]) -> std::io::Result<()> {
        let mut widths: Vec<usize> = names.iter().map(|n| if self.header { n.chars().count() } else { 0 }).collect();
        for r in cells {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let rule: String = format!("+{}+", widths.iter().map(|w| "-".repeat(w + 2)).collect::<Vec<_>>().join("+"));
        let row = |vals: &[String]| {
            let parts: Vec<String> =
                vals.iter().zip(&widths).map(|(v, w)| format!(" {v}{} ", " ".repeat(w - v.chars().count()))).collect();
            format!("|{}|", parts.join("|"))
        };
        let mut s = String::new();
        s.push_str(&rule);
        s.push('\n');
        if self.header {
            s.push_str(&row(names));
            s.push('\n');
            s.push_str(&rule);
            s.push('\n');
        }
        for r in cells {
            s.push_str(&row(r));
            s.push('\n');
        }
        if !cells.is_empty() || !self.header {
            s.push_str(&rule);
            s.push('\n');
        }
        self.out.write_all(s.as_bytes())
    }
}

/// Cells of a batch as Hive prints them (NULL as `NULL`).
fn text_rows(b: &RecordBatch) -> Vec<Vec<String>> {
    (0..b.num_rows())
        .map(|r| b.columns().iter().map(|c| format_value(c.as_ref(), r).unwrap_or_else(|| "NULL".into())).collect())
        .collect()
}
