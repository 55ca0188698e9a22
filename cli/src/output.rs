//! Printing result rows in the `--outputformat`s of beeline, with values as
//! Hive prints them (see `hiveql_engine::value`).

use std::io::Write;

use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::datatypes::DataType;
use datafusion::execution::SendableRecordBatchStream;
use futures::StreamExt;
use hiveql_engine::HiveError;
use hiveql_engine::value::{format_field_value, format_value};

use crate::args::OutputFormat;

/// Writes result rows to an output.
pub struct Printer<W: Write> {
    format: OutputFormat,
    header: bool,
    out: W,
    /// The statement's spinner, cleared before the first line is written.
    progress: Option<indicatif::ProgressBar>,
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
        Printer { format, header, out, progress: None }
    }

    /// Clear `bar` before printing anything, and count fetched rows on it.
    pub fn with_progress(mut self, bar: indicatif::ProgressBar) -> Self {
        self.progress = Some(bar);
        self
    }

    fn fetched(&self, rows: usize) {
        if let Some(p) = &self.progress {
            p.set_message(format!("{rows} row(s) fetched"));
        }
    }

    fn start_output(&mut self) {
        if let Some(p) = self.progress.take() {
            p.finish_and_clear();
        }
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
                    self.fetched(rows);
                    cells.extend(text_rows(&b));
                }
                self.start_output();
                self.table(&names, &cells).map_err(io)?;
            }
            OutputFormat::Tsv2 | OutputFormat::Csv2 => {
                let tsv = self.format == OutputFormat::Tsv2;
                let line = |vals: Vec<String>| -> String {
                    if tsv { vals.join("\t") } else { vals.iter().map(|v| csv_field(v)).collect::<Vec<_>>().join(",") }
                };
                self.start_output();
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
                self.start_output();
                let doc = serde_json::json!({ "resultset": all });
                writeln!(self.out, "{doc}").map_err(io)?;
            }
            OutputFormat::Vertical => {
                self.start_output();
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

    /// Beeline's table: `+---+` rules above, below and under the header,
    /// no rules between rows, cells padded by one space and never wrapped.
    fn table(&mut self, names: &[String], cells: &[Vec<String>]) -> std::io::Result<()> {
        let mut table = comfy_table::Table::new();
        table.load_preset(BEELINE).set_content_arrangement(comfy_table::ContentArrangement::Disabled);
        if self.header {
            table.set_header(names);
        }
        for r in cells {
            table.add_row(r);
        }
        writeln!(self.out, "{table}")
    }
}

/// comfy-table's style characters for beeline's look (see
/// `comfy_table::presets`): borders `|` and `-` with `+` corners, a `-` rule
/// under the header, and nothing between rows.
const BEELINE: &str = "||--+-++|    ++++++";

/// Cells of a batch as Hive prints them (NULL as `NULL`).
fn text_rows(b: &RecordBatch) -> Vec<Vec<String>> {
    (0..b.num_rows())
        .map(|r| {
            b.columns()
                .iter()
                .zip(b.schema_ref().fields())
                .map(|(c, f)| format_field_value(f, c.as_ref(), r).unwrap_or_else(|| "NULL".into()))
                .collect()
        })
        .collect()
}
