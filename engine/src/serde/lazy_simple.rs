//! Hive's default text SerDe, `LazySimpleSerDe`: one row per line, fields
//! split by `field.delim` (default `\001`), collection items by
//! `collection.delim` (`\002`), map keys by `mapkey.delim` (`\003`), deeper
//! levels by `\004`, `\005`, ...; `\N` is NULL; an optional escape byte.
//!
//! [`LazySimpleParser`] reads one line into a row; [`write_batch`] turns
//! batches into text Hive reads back.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::DataType;

use super::builder::{ColumnBuilder, TextContext};
use super::line::{Origin, RowParser};
use crate::error::{HiveError, Result};
use crate::value;

/// The properties of a LazySimpleSerDe table.
#[derive(Debug, Clone, PartialEq)]
pub struct LazySimpleOptions {
    /// Separators by nesting level (fields, collection items, map keys).
    pub separators: Vec<u8>,
    pub escape: Option<u8>,
    /// Text that means NULL (`serialization.null.format`, default `\N`).
    pub null_format: Vec<u8>,
    /// `serialization.last.column.takes.rest`.
    pub last_column_takes_rest: bool,
}

impl Default for LazySimpleOptions {
    fn default() -> Self {
        LazySimpleOptions {
            separators: vec![1, 2, 3],
            escape: None,
            null_format: b"\\N".to_vec(),
            last_column_takes_rest: false,
        }
    }
}

/// Hive's `LazySerDeParameters.getByte`: a number is a byte value, anything
/// else its first character.
fn delimiter_byte(key: &str, v: &str) -> Result<u8> {
    if let Ok(n) = v.parse::<i8>() {
        return Ok(n as u8);
    }
    let c = v.chars().next().ok_or_else(|| HiveError::Semantic(format!("SerDe property {key} is empty")))?;
    if (c as u32) < 256 {
        Ok(c as u32 as u8)
    } else {
        Err(HiveError::Semantic(format!("SerDe property {key}: delimiter '{c}' is not a single-byte character")))
    }
}

impl LazySimpleOptions {
    /// Read the options from SerDe properties and table properties (Hive
    /// takes `serialization.null.format` from either).
    pub fn from_properties(serde: &BTreeMap<String, String>, table: &BTreeMap<String, String>) -> Result<Self> {
        let mut o = LazySimpleOptions::default();
        if let Some(v) = serde.get("field.delim").or_else(|| serde.get("serialization.format")) {
            o.separators[0] = delimiter_byte("field.delim", v)?;
        }
        if let Some(v) = serde.get("collection.delim").or_else(|| serde.get("colelction.delim")) {
            o.separators[1] = delimiter_byte("collection.delim", v)?;
        }
        if let Some(v) = serde.get("mapkey.delim") {
            o.separators[2] = delimiter_byte("mapkey.delim", v)?;
        }
        if let Some(v) = serde.get("escape.delim") {
            o.escape = Some(delimiter_byte("escape.delim", v)?);
        }
        if let Some(v) = serde.get("line.delim")
            && v != "\n"
        {
            return Err(HiveError::Unsupported(format!(
                "LINES TERMINATED BY {v:?}: only '\\n' is supported, as in Hive"
            )));
        }
        if let Some(v) = serde.get("serialization.null.format").or_else(|| table.get("serialization.null.format")) {
            o.null_format = v.as_bytes().to_vec();
        }
        o.last_column_takes_rest =
            serde.get("serialization.last.column.takes.rest").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        Ok(o)
    }

    fn context(&self) -> TextContext<'_> {
        TextContext { separators: &self.separators, null: &self.null_format, escape: self.escape }
    }
}

/// Reads LazySimpleSerDe records into the projected columns.
#[derive(Debug)]
pub struct LazySimpleParser {
    opts: Arc<LazySimpleOptions>,
    /// For each column of the file, the output column it feeds.
    targets: Vec<Option<usize>>,
    /// Fields past this index are not looked at.
    fields_needed: usize,
    scratch: Vec<u8>,
}

impl LazySimpleParser {
    /// `file_columns` is the number of columns in the table's data;
    /// `projection[i]` the file column of output column `i`.
    pub fn new(opts: Arc<LazySimpleOptions>, file_columns: usize, projection: &[usize]) -> Self {
        let mut targets = vec![None; file_columns];
        for (out, &file_idx) in projection.iter().enumerate() {
            targets[file_idx] = Some(out);
        }
        let fields_needed = projection.iter().map(|i| i + 1).max().unwrap_or(0);
        LazySimpleParser { opts, targets, fields_needed, scratch: Vec::new() }
    }
}

impl RowParser for LazySimpleParser {
    fn row(&mut self, line: &[u8], builders: &mut [ColumnBuilder], _origin: &Origin, _line_no: u64) -> Result<()> {
        let opts = &*self.opts;
        let ctx = opts.context();
        let sep = opts.separators[0];
        let last = self.targets.len().saturating_sub(1);
        let mut field = 0;
        let mut start = 0;
        let needed = self.fields_needed;
        if needed == 0 {
            return Ok(());
        }
        let targets = &self.targets;
        let scratch = &mut self.scratch;
        let mut emit = |field: usize, bytes: &[u8], builders: &mut [ColumnBuilder]| {
            if let Some(Some(out)) = targets.get(field) {
                builders[*out].append_text(bytes, &ctx, 1, scratch);
            }
        };
        match opts.escape {
            None => {
                for pos in memchr::memchr_iter(sep, line) {
                    if field == last && opts.last_column_takes_rest {
                        break;
                    }
                    emit(field, &line[start..pos], builders);
                    field += 1;
                    start = pos + 1;
                    if field >= needed {
                        break;
                    }
                }
            }
            Some(esc) => {
                let mut i = 0;
                while i < line.len() && field < needed {
                    if line[i] == esc {
                        i += 2;
                        continue;
                    }
                    if line[i] == sep && !(field == last && opts.last_column_takes_rest) {
                        emit(field, &line[start..i], builders);
                        field += 1;
                        start = i + 1;
                    }
                    i += 1;
                }
            }
        }
        if field < needed {
            emit(field, &line[start.min(line.len())..], builders);
            field += 1;
        }
        for out in targets[field..needed].iter().flatten() {
            builders[*out].append_null();
        }
        Ok(())
    }
}

/// Append the text of one value at nesting `level` to `out`.
fn write_text_value(array: &dyn Array, row: usize, ctx: &TextContext, level: usize, out: &mut Vec<u8>, s: &mut String) {
    if array.is_null(row) {
        out.extend_from_slice(ctx.null);
        return;
    }
    match array.data_type() {
        DataType::List(_) | DataType::LargeList(_) => {
            let values = match array.data_type() {
                DataType::List(_) => array.as_list::<i32>().value(row),
                _ => array.as_list::<i64>().value(row),
            };
            for i in 0..values.len() {
                if i > 0 {
                    out.push(ctx.separator(level));
                }
                write_text_value(values.as_ref(), i, ctx, level + 1, out, s);
            }
        }
        DataType::Map(..) => {
            let entries = array.as_map().value(row);
            for i in 0..entries.len() {
                if i > 0 {
                    out.push(ctx.separator(level));
                }
                write_text_value(entries.column(0).as_ref(), i, ctx, level + 2, out, s);
                out.push(ctx.separator(level + 1));
                write_text_value(entries.column(1).as_ref(), i, ctx, level + 2, out, s);
            }
        }
        DataType::Struct(_) => {
            let st = array.as_struct();
            for i in 0..st.num_columns() {
                if i > 0 {
                    out.push(ctx.separator(level));
                }
                write_text_value(st.column(i).as_ref(), row, ctx, level + 1, out, s);
            }
        }
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
            let bytes: &[u8] = match array.data_type() {
                DataType::Binary => array.as_binary::<i32>().value(row),
                DataType::LargeBinary => array.as_binary::<i64>().value(row),
                _ => array.as_binary_view().value(row),
            };
            out.extend_from_slice(base64::engine::general_purpose::STANDARD.encode(bytes).as_bytes());
        }
        _ => {
            s.clear();
            value::write_primitive(array, row, s);
            match ctx.escape {
                Some(esc) => {
                    for &c in s.as_bytes() {
                        if c == esc || ctx.separators.contains(&c) || c == b'\n' || c == b'\r' {
                            out.push(esc);
                            out.push(match c {
                                b'\n' if esc == b'\\' => b'n',
                                b'\r' if esc == b'\\' => b'r',
                                c => c,
                            });
                        } else {
                            out.push(c);
                        }
                    }
                }
                None => out.extend_from_slice(s.as_bytes()),
            }
        }
    }
}

/// Append the rows of `batch` as LazySimpleSerDe text.
pub fn write_batch(batch: &RecordBatch, opts: &LazySimpleOptions, out: &mut Vec<u8>) {
    let ctx = opts.context();
    let mut s = String::new();
    for row in 0..batch.num_rows() {
        for (i, col) in batch.columns().iter().enumerate() {
            if i > 0 {
                out.push(opts.separators[0]);
            }
            write_text_value(col.as_ref(), row, &ctx, 1, out, &mut s);
        }
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serde::line::LineDecoder;
    use crate::types::arrow_schema;
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use datafusion_datasource::decoder::Decoder;
    use hiveql_metastore::Column;

    fn decode(
        text: &[u8],
        cols: &[(&str, &str)],
        opts: LazySimpleOptions,
        projection: Option<Vec<usize>>,
    ) -> RecordBatch {
        decode_skipping(text, cols, opts, projection, 0, 0)
    }

    fn decode_skipping(
        text: &[u8],
        cols: &[(&str, &str)],
        opts: LazySimpleOptions,
        projection: Option<Vec<usize>>,
        skip: usize,
        footer: usize,
    ) -> RecordBatch {
        let columns: Vec<Column> = cols.iter().map(|(n, t)| Column::new(*n, *t)).collect();
        let full = Arc::new(arrow_schema(&columns).unwrap());
        let projection = projection.unwrap_or_else(|| (0..cols.len()).collect());
        let schema = Arc::new(full.project(&projection).unwrap());
        let parser = LazySimpleParser::new(Arc::new(opts), cols.len(), &projection);
        let mut d = LineDecoder::new(Box::new(parser), schema, 1024, skip, footer, Origin::default()).unwrap();
        // feed in small pieces to exercise partial lines
        for chunk in text.chunks(7) {
            let mut c = chunk;
            while !c.is_empty() {
                let n = d.decode(c).unwrap();
                c = &c[n..];
            }
        }
        d.decode(&[]).unwrap();
        d.flush().unwrap().unwrap()
    }

    #[test]
    fn reads_primitives_with_hive_null_rules() {
        let text = b"1\x01a\x012.5\x012024-01-02\n\\N\x01\x01x\x01bad\nnotint\x01b\n";
        let b = decode(
            text,
            &[("i", "int"), ("s", "string"), ("d", "double"), ("dt", "date")],
            LazySimpleOptions::default(),
            None,
        );
        let out = pretty_format_batches(&[b]).unwrap().to_string();
        let expected = "\
+---+---+-----+------------+
| i | s | d   | dt         |
+---+---+-----+------------+
| 1 | a | 2.5 | 2024-01-02 |
|   |   |     |            |
|   | b |     |            |
+---+---+-----+------------+";
        assert_eq!(out, expected);
    }

    #[test]
    fn reads_nested_types_and_projection() {
        let text = b"1\x01a\x02b\x01k1\x031\x02k2\x03\\N\x01x\x0244\x0355\n";
        let cols =
            [("i", "int"), ("arr", "array<string>"), ("m", "map<string,int>"), ("s", "struct<f:string,g:array<int>>")];
        let b = decode(text, &cols, LazySimpleOptions::default(), None);
        let vals: Vec<String> = (0..4).map(|c| value::format_value(b.column(c).as_ref(), 0).unwrap()).collect();
        assert_eq!(vals, vec!["1", "[\"a\",\"b\"]", "{\"k1\":1,\"k2\":null}", "{\"f\":\"x\",\"g\":[44,55]}"]);
        let b = decode(text, &cols, LazySimpleOptions::default(), Some(vec![2]));
        assert_eq!(b.num_columns(), 1);
        assert_eq!(b.num_rows(), 1);
    }

    #[test]
    fn header_footer_crlf_escape_and_no_trailing_newline() {
        let o = LazySimpleOptions { separators: vec![b',', 2, 3], escape: Some(b'\\'), ..Default::default() };
        let text = b"h1,h2\r\na\\,b,1\r\nc,2\r\nfooter,9";
        let b = decode_skipping(text, &[("s", "string"), ("n", "int")], o.clone(), None, 1, 1);
        let out = pretty_format_batches(&[b]).unwrap().to_string();
        assert!(out.contains("| a,b | 1 |") && out.contains("| c   | 2 |") && !out.contains("footer"), "{out}");
        let b = decode(b"x,1\ny,2", &[("s", "string"), ("n", "int")], o, None);
        assert_eq!(b.num_rows(), 2);
    }

    #[test]
    fn writes_text_that_reads_back() {
        let text = b"1\x01a\x02b\x01k\x037\x01\\N\n2\x01\x01\x01x\n";
        let cols = [("i", "int"), ("arr", "array<string>"), ("m", "map<string,int>"), ("s", "string")];
        let b = decode(text, &cols, LazySimpleOptions::default(), None);
        let mut out = Vec::new();
        write_batch(&b, &LazySimpleOptions::default(), &mut out);
        assert_eq!(out, text);
    }

    #[test]
    fn reads_properties() {
        let serde = BTreeMap::from([
            ("field.delim".to_string(), ",".to_string()),
            ("colelction.delim".to_string(), "|".to_string()),
        ]);
        let table = BTreeMap::from([
            ("skip.header.line.count".to_string(), "2".to_string()),
            ("serialization.null.format".to_string(), "".to_string()),
        ]);
        let o = LazySimpleOptions::from_properties(&serde, &table).unwrap();
        assert_eq!(o.separators, vec![b',', b'|', 3]);
        assert_eq!(o.null_format, b"");
        let bad = BTreeMap::from([("skip.header.line.count".to_string(), "x".to_string())]);
        let spec =
            crate::serde::SerdeSpec { serde: String::new(), serde_properties: BTreeMap::new(), table_properties: bad };
        let e = crate::serde::TextFormat::from_spec(spec).unwrap_err().to_string();
        assert!(e.contains("skip.header.line.count"), "{e}");
    }
}
