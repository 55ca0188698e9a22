//! Hive's `OpenCSVSerde` (opencsv 2.3 rules): fields split by `separatorChar`
//! (default `,`), optionally quoted with `quoteChar` (default `"`; a doubled
//! quote inside quotes is a quote), `escapeChar` (default `\`) escapes a
//! quote or itself and is dropped before other characters. Quoted fields may
//! hold separators and line breaks. Hive reads every column as a string;
//! typed columns are cast, NULL when the text does not convert (as Athena).
//! Missing fields are NULL, extra fields are ignored.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::datatypes::Schema;

use super::builder::{ColumnBuilder, WHOLE_FIELD};
use super::line::{Origin, RowParser};
use crate::error::{HiveError, Result};
use crate::value;

/// The properties of an OpenCSVSerde table.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenCsvOptions {
    pub separator: u8,
    pub quote: u8,
    pub escape: u8,
}

fn char_property(props: &BTreeMap<String, String>, key: &str, default: u8) -> Result<u8> {
    match props.get(key) {
        None => Ok(default),
        Some(v) => {
            let mut chars = v.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if c.is_ascii() => Ok(c as u8),
                _ => Err(HiveError::Semantic(format!("SerDe property {key} must be one ASCII character, got '{v}'"))),
            }
        }
    }
}

impl OpenCsvOptions {
    pub fn from_properties(props: &BTreeMap<String, String>) -> Result<Self> {
        Ok(OpenCsvOptions {
            separator: char_property(props, "separatorChar", b',')?,
            quote: char_property(props, "quoteChar", b'"')?,
            escape: char_property(props, "escapeChar", b'\\')?,
        })
    }

    /// Cut `record` into fields, calling `f(index, text)` for each.
    fn fields(&self, record: &[u8], field: &mut Vec<u8>, mut f: impl FnMut(usize, &[u8]) -> bool) {
        let (sep, quote, esc) = (self.separator, self.quote, self.escape);
        let mut index = 0;
        let mut in_quotes = false;
        field.clear();
        let mut i = 0;
        while i < record.len() {
            let c = record[i];
            if c == esc && esc != quote {
                // opencsv: the escape keeps a following quote or escape, and is dropped otherwise.
                if let Some(&n) = record.get(i + 1)
                    && (n == quote || n == esc)
                {
                    field.push(n);
                    i += 2;
                    continue;
                }
                i += 1;
                continue;
            }
            if c == quote {
                if in_quotes && record.get(i + 1) == Some(&quote) {
                    field.push(quote);
                    i += 2;
                    continue;
                }
                in_quotes = !in_quotes;
                i += 1;
                continue;
            }
            if c == sep && !in_quotes {
                if !f(index, field) {
                    return;
                }
                field.clear();
                index += 1;
                i += 1;
                continue;
            }
            field.push(c);
            i += 1;
        }
        f(index, field);
    }

    /// Whether quotes are balanced at the end of `record`.
    fn closed(&self, record: &[u8]) -> bool {
        let mut in_quotes = false;
        let mut i = 0;
        while i < record.len() {
            let c = record[i];
            if c == self.escape && self.escape != self.quote {
                i += 2;
                continue;
            }
            if c == self.quote {
                in_quotes = !in_quotes;
            }
            i += 1;
        }
        !in_quotes
    }
}

/// Reads CSV records into the projected columns.
#[derive(Debug)]
pub struct OpenCsvParser {
    opts: Arc<OpenCsvOptions>,
    /// For each field index, the output column it feeds.
    targets: Vec<Option<usize>>,
    seen: Vec<bool>,
    field: Vec<u8>,
    scratch: Vec<u8>,
}

impl OpenCsvParser {
    pub fn new(opts: Arc<OpenCsvOptions>, file_schema: &Schema, projection: &[usize]) -> Self {
        let mut targets = vec![None; file_schema.fields().len()];
        for (out, &i) in projection.iter().enumerate() {
            targets[i] = Some(out);
        }
        OpenCsvParser { opts, targets, seen: vec![false; projection.len()], field: Vec::new(), scratch: Vec::new() }
    }
}

impl RowParser for OpenCsvParser {
    fn row(&mut self, record: &[u8], builders: &mut [ColumnBuilder], _origin: &Origin, _line: u64) -> Result<()> {
        self.seen.iter_mut().for_each(|s| *s = false);
        let targets = &self.targets;
        let seen = &mut self.seen;
        let scratch = &mut self.scratch;
        let needed = targets.iter().rposition(|t| t.is_some()).map_or(0, |i| i + 1);
        if needed > 0 {
            self.opts.fields(record, &mut self.field, |i, text| {
                if let Some(Some(out)) = targets.get(i) {
                    builders[*out].append_text(text, &WHOLE_FIELD, 1, scratch);
                    seen[*out] = true;
                }
                i + 1 < needed
            });
        }
        for (out, b) in builders.iter_mut().enumerate() {
            if !self.seen[out] {
                b.append_null();
            }
        }
        Ok(())
    }

    fn complete(&self, record: &[u8]) -> bool {
        self.opts.closed(record)
    }
}

/// Append the rows of `batch` as opencsv writes them: every field quoted,
/// quotes and escapes inside escaped, NULL as an empty unquoted field.
pub fn write_batch(batch: &RecordBatch, opts: &OpenCsvOptions, out: &mut Vec<u8>) -> Result<()> {
    let mut s = String::new();
    for row in 0..batch.num_rows() {
        for (i, col) in batch.columns().iter().enumerate() {
            if i > 0 {
                out.push(opts.separator);
            }
            if col.is_null(row) {
                continue;
            }
            s.clear();
            if !value::write_primitive(col.as_ref(), row, &mut s) {
                value::write_value(col.as_ref(), row, &mut s);
            }
            out.push(opts.quote);
            for &c in s.as_bytes() {
                if c == opts.quote || c == opts.escape {
                    out.push(opts.escape);
                }
                out.push(c);
            }
            out.push(opts.quote);
        }
        out.push(b'\n');
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(opts: &OpenCsvOptions, record: &str) -> Vec<String> {
        let mut out = Vec::new();
        opts.fields(record.as_bytes(), &mut Vec::new(), |_, t| {
            out.push(String::from_utf8_lossy(t).into_owned());
            true
        });
        out
    }

    #[test]
    fn opencsv_rules() {
        let o = OpenCsvOptions::from_properties(&BTreeMap::new()).unwrap();
        assert_eq!(split(&o, r#"a,"b,c","say ""hi""",\"q\",x\y,"#), vec!["a", "b,c", "say \"hi\"", "\"q\"", "xy", ""]);
        assert_eq!(split(&o, "\"multi\nline\",2"), vec!["multi\nline", "2"]);
        assert!(!o.closed(b"1,\"open"));
        assert!(o.closed(b"1,\"open\nclosed\""));
        let tab = OpenCsvOptions::from_properties(&BTreeMap::from([
            ("separatorChar".to_string(), "\t".to_string()),
            ("quoteChar".to_string(), "'".to_string()),
        ]))
        .unwrap();
        assert_eq!(split(&tab, "'a\tb'\tc"), vec!["a\tb", "c"]);
        let e = OpenCsvOptions::from_properties(&BTreeMap::from([("quoteChar".to_string(), "ab".to_string())]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("quoteChar"), "{e}");
    }
}
