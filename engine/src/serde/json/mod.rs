//! The JSON SerDes: HCatalog's `org.apache.hive.hcatalog.data.JsonSerDe`
//! (Athena's "Hive JSON SerDe"), Hive 4's `org.apache.hadoop.hive.serde2.JsonSerDe`
//! (`STORED AS JSONFILE`) and `org.openx.data.jsonserde.JsonSerDe`.
//!
//! One JSON object per line. Keys match columns case-insensitively (OpenX:
//! unless `case.insensitive` is false; `mapping.<column>` names the key of a
//! column; `dots.in.keys` reads `a.b` as column `a_b`). Missing keys are NULL,
//! unknown keys are ignored, nested objects and arrays fill STRUCT, MAP and
//! ARRAY columns, and numbers and booleans written as strings convert.
//!
//! What goes wrong, as each SerDe has it:
//! - a malformed line: an error naming file and line; with OpenX's
//!   `ignore.malformed.json` a row of NULLs;
//! - an empty line: the same, unless `text.null.empty.line` (Hive) is true;
//! - a value of the wrong type: NULL; with OpenX an error naming the column
//!   unless `use.null.for.invalid.data` is true (its default is false).

pub mod scan;
mod timestamp;
mod write;

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{DataType, Schema};

use self::scan::{Kind, Scanner, SyntaxError};
pub use self::write::write_batch;
use super::builder::{ColumnBuilder, WHOLE_FIELD};
use super::line::{Origin, RowParser};
use crate::error::{HiveError, Result};

/// The properties of a JSON table.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonOptions {
    /// The OpenX SerDe (else HCatalog's / Hive's).
    pub openx: bool,
    /// A malformed line is a row of NULLs instead of an error.
    pub ignore_malformed: bool,
    /// An empty line is a row of NULLs instead of an error.
    pub null_empty_line: bool,
    pub case_insensitive: bool,
    /// Column name -> JSON key (`mapping.<column>`).
    pub mappings: BTreeMap<String, String>,
    /// Dots in keys read as underscores (`dots.in.keys`).
    pub dots_in_keys: bool,
    /// A value of the wrong type is NULL instead of an error.
    pub null_for_invalid: bool,
    /// `timestamp.formats`: Java date-time patterns tried in order.
    pub timestamp_formats: Vec<String>,
}

fn formats(props: &BTreeMap<String, String>) -> Vec<String> {
    props
        .get("timestamp.formats")
        .map(|v| v.split(',').map(|f| f.trim().to_string()).filter(|f| !f.is_empty()).collect())
        .unwrap_or_default()
}

impl JsonOptions {
    /// HCatalog's and Hive's JsonSerDe.
    pub fn hive(props: &BTreeMap<String, String>) -> Result<Self> {
        let o = JsonOptions {
            openx: false,
            ignore_malformed: false,
            null_empty_line: super::bool_property(props, "text.null.empty.line", false)?,
            case_insensitive: true,
            mappings: BTreeMap::new(),
            dots_in_keys: false,
            null_for_invalid: true,
            timestamp_formats: formats(props),
        };
        o.check_formats()?;
        Ok(o)
    }

    /// The OpenX JsonSerDe.
    pub fn openx(props: &BTreeMap<String, String>) -> Result<Self> {
        let ignore_malformed = super::bool_property(props, "ignore.malformed.json", false)?;
        let o = JsonOptions {
            openx: true,
            ignore_malformed,
            null_empty_line: ignore_malformed,
            case_insensitive: super::bool_property(props, "case.insensitive", true)?,
            mappings: props
                .iter()
                .filter_map(|(k, v)| k.strip_prefix("mapping.").map(|c| (c.to_ascii_lowercase(), v.clone())))
                .collect(),
            dots_in_keys: super::bool_property(props, "dots.in.keys", false)?,
            null_for_invalid: super::bool_property(props, "use.null.for.invalid.data", false)?,
            timestamp_formats: formats(props),
        };
        o.check_formats()?;
        Ok(o)
    }

    fn check_formats(&self) -> Result<()> {
        for f in &self.timestamp_formats {
            timestamp::TimestampFormat::new(f)
                .map_err(|e| HiveError::Semantic(format!("SerDe property timestamp.formats: '{f}': {e}")))?;
        }
        Ok(())
    }
}

/// Reads JSON lines into the projected columns.
#[derive(Debug)]
pub struct JsonParser {
    opts: Arc<JsonOptions>,
    /// The key each output column is read from, its column name and type.
    keys: Vec<(Vec<u8>, String, DataType)>,
    /// `timestamp.formats`, compiled.
    formats: Vec<timestamp::TimestampFormat>,
    slots: Vec<Option<(Kind, usize, usize)>>,
    key: Vec<u8>,
    scratch: Vec<u8>,
}

impl JsonParser {
    pub fn new(opts: Arc<JsonOptions>, file_schema: &Schema, projection: &[usize]) -> Result<Self> {
        let keys = projection
            .iter()
            .map(|&i| {
                let name = file_schema.field(i).name().clone();
                let key = opts.mappings.get(&name.to_ascii_lowercase()).cloned().unwrap_or_else(|| name.clone());
                (key.into_bytes(), name, file_schema.field(i).data_type().clone())
            })
            .collect();
        let formats = opts
            .timestamp_formats
            .iter()
            .map(|f| timestamp::TimestampFormat::new(f).map_err(HiveError::Semantic))
            .collect::<Result<_>>()?;
        Ok(JsonParser {
            slots: vec![None; projection.len()],
            opts,
            keys,
            formats,
            key: Vec::new(),
            scratch: Vec::new(),
        })
    }

    fn malformed(&self, e: SyntaxError, origin: &Origin, line: u64) -> HiveError {
        HiveError::Data(format!(
            "malformed JSON in {}: {} at byte {} (set SerDe property ignore.malformed.json with the OpenX \
             JsonSerDe to read such lines as NULL)",
            origin.describe(line),
            e.what,
            e.offset
        ))
    }

    /// Find the output column of a key (unescaped in `self.key`).
    fn column_of(&self, key: &[u8]) -> Option<usize> {
        if self.opts.case_insensitive {
            self.keys.iter().position(|(k, ..)| k.eq_ignore_ascii_case(key))
        } else {
            self.keys.iter().position(|(k, ..)| k == key)
        }
    }

    /// Cut the object into the slots of the projected columns.
    fn cut(&mut self, record: &[u8]) -> std::result::Result<Option<String>, SyntaxError> {
        for s in self.slots.iter_mut() {
            *s = None;
        }
        let mut sc = Scanner::new(record);
        sc.expect(b'{', "a JSON object must start with '{'")?;
        sc.ws();
        let mut duplicate = None;
        if sc.peek() == Some(b'}') {
            sc.i += 1;
        } else {
            loop {
                sc.expect(b'"', "an object key must be a string")?;
                let (ks, ke, escaped) = sc.string_body()?;
                sc.expect(b':', "':' expected after an object key")?;
                let value = sc.scalar_or_value()?;
                let raw_key: &[u8] = if escaped || self.opts.dots_in_keys {
                    self.key.clear();
                    if escaped {
                        scan::unescape(&record[ks..ke], &mut self.key);
                    } else {
                        self.key.extend_from_slice(&record[ks..ke]);
                    }
                    if self.opts.dots_in_keys {
                        for b in self.key.iter_mut() {
                            if *b == b'.' {
                                *b = b'_';
                            }
                        }
                    }
                    &self.key
                } else {
                    &record[ks..ke]
                };
                if let Some(col) = self.column_of(raw_key) {
                    if self.slots[col].is_some() && self.opts.openx && duplicate.is_none() {
                        duplicate = Some(String::from_utf8_lossy(raw_key).into_owned());
                    }
                    self.slots[col] = Some(value);
                }
                sc.ws();
                match sc.peek() {
                    Some(b',') => sc.i += 1,
                    Some(b'}') => {
                        sc.i += 1;
                        break;
                    }
                    _ => return sc.err("',' or '}' expected in an object"),
                }
            }
        }
        sc.ws();
        if sc.i != record.len() {
            return sc.err("text after the end of the object");
        }
        Ok(duplicate)
    }
}

impl RowParser for JsonParser {
    fn row(&mut self, record: &[u8], builders: &mut [ColumnBuilder], origin: &Origin, line: u64) -> Result<()> {
        if record.trim_ascii().is_empty() {
            if self.opts.null_empty_line {
                builders.iter_mut().for_each(|b| b.append_null());
                return Ok(());
            }
            return Err(HiveError::Data(format!(
                "empty line in JSON data, {} (set SerDe property {} to read empty lines as NULL rows)",
                origin.describe(line),
                if self.opts.openx { "ignore.malformed.json" } else { "text.null.empty.line" }
            )));
        }
        match self.cut(record) {
            Ok(None) => {}
            Ok(Some(dup)) => {
                return Err(HiveError::Data(format!(
                    "duplicate key '{dup}' in JSON data, {} (keys are compared case-insensitively; set SerDe \
                     property case.insensitive = false or map one key with mapping.<column>)",
                    origin.describe(line)
                )));
            }
            Err(e) => {
                if self.opts.ignore_malformed {
                    builders.iter_mut().for_each(|b| b.append_null());
                    return Ok(());
                }
                return Err(self.malformed(e, origin, line));
            }
        }
        for (col, b) in builders.iter_mut().enumerate() {
            let ok = match self.slots[col] {
                None | Some((Kind::Null, ..)) => {
                    b.append_null();
                    true
                }
                Some((kind, s, e)) => append(b, &record[s..e], kind, &self.formats, &mut self.scratch),
            };
            if !ok {
                if !self.opts.null_for_invalid {
                    let (_, s, e) = self.slots[col].expect("a value that failed to convert was found");
                    let value = String::from_utf8_lossy(&record[s..e]);
                    return Err(HiveError::Data(format!(
                        "value {value} of column {} does not convert to {} in {} (set SerDe property \
                         use.null.for.invalid.data = true to read it as NULL)",
                        self.keys[col].1,
                        crate::types::hive_type(&self.keys[col].2).map(|t| t.to_string()).unwrap_or_default(),
                        origin.describe(line)
                    )));
                }
                b.append_null();
            }
        }
        Ok(())
    }
}

/// Hive's `json_read`: each text read as one JSON value of type `dt` by the
/// JsonSerDe's rules (parts that do not fit the type are NULL, and so is a
/// value that does not fit at all); NULL, empty or blank text is NULL. A
/// text that is not JSON is an error naming it.
pub fn read_values<'a>(texts: impl Iterator<Item = Option<&'a str>>, dt: &DataType) -> Result<ArrayRef> {
    let mut b = ColumnBuilder::new(dt, 0)?;
    let mut scratch = Vec::new();
    for text in texts {
        let Some(raw) = text.map(str::as_bytes).filter(|t| !t.trim_ascii().is_empty()) else {
            b.append_null();
            continue;
        };
        let mut sc = Scanner::new(raw);
        sc.ws();
        let value = sc.value().and_then(|v| {
            sc.ws();
            if sc.i == raw.len() { Ok(v) } else { sc.err("text after the end of the value") }
        });
        let (kind, start, end) = value.map_err(|e| {
            HiveError::Data(format!("json_read: {} at byte {} of '{}'", e.what, e.offset, String::from_utf8_lossy(raw)))
        })?;
        if kind == Kind::Null || !append(&mut b, &raw[start..end], kind, &[], &mut scratch) {
            b.append_null();
        }
    }
    Ok(b.finish())
}

/// The text of a scalar: a string's unescaped body, or the raw token.
fn scalar_text<'a>(raw: &'a [u8], kind: Kind, scratch: &'a mut Vec<u8>) -> &'a [u8] {
    if kind != Kind::String {
        return raw;
    }
    let body = &raw[1..raw.len() - 1];
    if !body.contains(&b'\\') {
        return body;
    }
    scratch.clear();
    scan::unescape(body, scratch);
    scratch
}

/// Append the JSON value `raw` of `kind`; false (nothing appended) if it
/// does not fit the column's type. Parts of nested values that do not fit
/// are NULL.
fn append(
    b: &mut ColumnBuilder,
    raw: &[u8],
    kind: Kind,
    formats: &[timestamp::TimestampFormat],
    scratch: &mut Vec<u8>,
) -> bool {
    if kind == Kind::Null {
        b.append_null();
        return true;
    }
    match b {
        ColumnBuilder::List { offsets, nulls, child, .. } => {
            if kind != Kind::Array {
                return false;
            }
            let mut sc = Scanner::new(raw);
            sc.i = 1;
            let mut n = 0;
            sc.ws();
            if sc.peek() != Some(b']') {
                while let Ok((k, s, e)) = sc.value() {
                    if !append(child, &raw[s..e], k, formats, scratch) {
                        child.append_null();
                    }
                    n += 1;
                    sc.ws();
                    if sc.peek() != Some(b',') {
                        break;
                    }
                    sc.i += 1;
                }
            }
            offsets.push(offsets.last().expect("offsets start with 0") + n);
            nulls.append_non_null();
            true
        }
        ColumnBuilder::Map { offsets, nulls, keys, values, .. } => {
            if kind != Kind::Object {
                return false;
            }
            let mut n = 0;
            let mut key = Vec::new();
            each_member(raw, |ks, ke, escaped, (k, s, e)| {
                key.clear();
                if escaped {
                    scan::unescape(&raw[ks..ke], &mut key);
                } else {
                    key.extend_from_slice(&raw[ks..ke]);
                }
                if keys.append_parsed(&key, &WHOLE_FIELD, scratch) {
                    if !append(values, &raw[s..e], k, formats, scratch) {
                        values.append_null();
                    }
                    n += 1;
                }
            });
            offsets.push(offsets.last().expect("offsets start with 0") + n);
            nulls.append_non_null();
            true
        }
        ColumnBuilder::Struct { fields, nulls, children, len } => {
            if kind != Kind::Object {
                return false;
            }
            let mut found: Vec<Option<(Kind, usize, usize)>> = vec![None; fields.len()];
            let mut key = Vec::new();
            each_member(raw, |ks, ke, escaped, v| {
                key.clear();
                if escaped {
                    scan::unescape(&raw[ks..ke], &mut key);
                } else {
                    key.extend_from_slice(&raw[ks..ke]);
                }
                if let Some(i) = fields.iter().position(|f| f.name().as_bytes().eq_ignore_ascii_case(&key)) {
                    found[i] = Some(v);
                }
            });
            for (child, v) in children.iter_mut().zip(found) {
                match v {
                    Some((k, s, e)) => {
                        if !append(child, &raw[s..e], k, formats, scratch) {
                            child.append_null();
                        }
                    }
                    None => child.append_null(),
                }
            }
            nulls.append_non_null();
            *len += 1;
            true
        }
        ColumnBuilder::Utf8(sb) => {
            let text = scalar_text(raw, kind, scratch);
            sb.append_value(String::from_utf8_lossy(text));
            true
        }
        ColumnBuilder::Timestamp(tb) => {
            let mut own = Vec::new();
            let text = scalar_text(raw, kind, &mut own);
            match timestamp::parse(text, kind == Kind::Number, formats) {
                Some(v) => {
                    tb.append_value(v);
                    true
                }
                None => false,
            }
        }
        _ => {
            if matches!(kind, Kind::Object | Kind::Array) {
                return false;
            }
            let mut own = Vec::new();
            let text = scalar_text(raw, kind, &mut own);
            b.append_parsed(text, &WHOLE_FIELD, scratch)
        }
    }
}

/// Call `f(key_start, key_end, key_escaped, value)` for each member of the object `raw`.
fn each_member(raw: &[u8], mut f: impl FnMut(usize, usize, bool, (Kind, usize, usize))) {
    let mut sc = Scanner::new(raw);
    sc.i = 1;
    sc.ws();
    if sc.peek() == Some(b'}') {
        return;
    }
    loop {
        if sc.expect(b'"', "").is_err() {
            return;
        }
        let Ok((ks, ke, escaped)) = sc.string_body() else { return };
        if sc.expect(b':', "").is_err() {
            return;
        }
        let Ok(v) = sc.value() else { return };
        f(ks, ke, escaped, v);
        sc.ws();
        if sc.peek() != Some(b',') {
            return;
        }
        sc.i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serde::line::LineDecoder;
    use crate::types::arrow_schema;
    use crate::value::format_value;
    use datafusion::arrow::array::RecordBatch;
    use datafusion_datasource::decoder::Decoder;
    use hiveql_metastore::Column;

    fn read(opts: JsonOptions, cols: &[(&str, &str)], text: &str) -> Result<RecordBatch> {
        let columns: Vec<Column> = cols.iter().map(|(n, t)| Column::new(*n, *t)).collect();
        let schema = Arc::new(arrow_schema(&columns)?);
        let projection: Vec<usize> = (0..cols.len()).collect();
        let parser = JsonParser::new(Arc::new(opts), &schema, &projection)?;
        let origin = Origin { path: "f.json".into(), offset: 0 };
        let mut d = LineDecoder::new(Box::new(parser), schema, 100, 0, 0, origin)?;
        let mut buf = text.as_bytes();
        while !buf.is_empty() {
            let n = d.decode(buf).map_err(|e| HiveError::Data(e.to_string()))?;
            buf = &buf[n..];
        }
        d.decode(&[]).map_err(|e| HiveError::Data(e.to_string()))?;
        Ok(d.flush().unwrap().unwrap())
    }

    fn rows(b: &RecordBatch) -> Vec<String> {
        (0..b.num_rows())
            .map(|r| {
                (0..b.num_columns())
                    .map(|c| format_value(b.column(c).as_ref(), r).unwrap_or("NULL".into()))
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect()
    }

    fn hive() -> JsonOptions {
        JsonOptions::hive(&BTreeMap::new()).unwrap()
    }

    #[test]
    fn reads_keys_case_insensitively_with_conversions() {
        let text = "{\"Name\":\"Shadowfax\",\"Distance\":\"12.5\",\"HP\":\"7\",\"ok\":\"TRUE\",\"extra\":[1,{\"x\":2}]}\n\
                    {\"name\":\"a\\u00e9\\\"\",\"distance\":3,\"hp\":7.9,\"ok\":1}\n\
                    {\"hp\":\"x\"}";
        let b = read(hive(), &[("name", "string"), ("distance", "double"), ("hp", "int"), ("ok", "boolean")], text)
            .unwrap();
        assert_eq!(rows(&b), vec!["Shadowfax|12.5|7|true", "aé\"|3.0|7|NULL", "NULL|NULL|NULL|NULL"]);
    }

    #[test]
    fn reads_nested_values() {
        let text = r#"{"s":{"A":1,"b":["x",null]},"m":{"k1":1,"k2":"2","k3":"bad"},"a":[[1,2],[],null]}"#;
        let b = read(
            hive(),
            &[("s", "struct<a:int,b:array<string>>"), ("m", "map<string,int>"), ("a", "array<array<int>>")],
            text,
        )
        .unwrap();
        assert_eq!(rows(&b), vec![r#"{"a":1,"b":["x",null]}|{"k1":1,"k2":2,"k3":null}|[[1,2],[],null]"#]);
    }

    #[test]
    fn timestamps_in_many_forms() {
        let text = "{\"t\":\"2017-11-12 19:58:31.545\"}\n{\"t\":\"2017-11-12T19:58:31Z\"}\n\
                    {\"t\":\"2017-11-12T20:58:31+01:00\"}\n{\"t\":1510516711}\n{\"t\":1510516711545}\n{\"t\":\"12/11/2017\"}";
        let b = read(hive(), &[("t", "timestamp")], text).unwrap();
        assert_eq!(
            rows(&b),
            vec![
                "2017-11-12 19:58:31.545",
                "2017-11-12 19:58:31",
                "2017-11-12 19:58:31",
                "2017-11-12 19:58:31",
                "2017-11-12 19:58:31.545",
                "NULL"
            ]
        );
        let props = BTreeMap::from([("timestamp.formats".to_string(), "dd/MM/yyyy,yyyy-MM-dd'T'HH:mm".to_string())]);
        let b = read(JsonOptions::hive(&props).unwrap(), &[("t", "timestamp")], text).unwrap();
        assert_eq!(rows(&b)[5], "2017-11-12 00:00:00");
    }

    #[test]
    fn malformed_and_empty_lines_follow_each_serde() {
        let e = read(hive(), &[("a", "int")], "{\"a\":1}\n{\"a\":\n").unwrap_err().to_string();
        assert!(e.contains("f.json, line 2") && e.contains("malformed"), "{e}");
        let e = read(hive(), &[("a", "int")], "{\"a\":1}\n\n").unwrap_err().to_string();
        assert!(e.contains("empty line") && e.contains("text.null.empty.line"), "{e}");
        let props = BTreeMap::from([("text.null.empty.line".to_string(), "true".to_string())]);
        let b = read(JsonOptions::hive(&props).unwrap(), &[("a", "int")], "{\"a\":1}\n\n").unwrap();
        assert_eq!(rows(&b), vec!["1", "NULL"]);
        let props = BTreeMap::from([("ignore.malformed.json".to_string(), "true".to_string())]);
        let b = read(JsonOptions::openx(&props).unwrap(), &[("a", "int")], "{\"a\":1}\nnot json\n{\"a\":2} x").unwrap();
        assert_eq!(rows(&b), vec!["1", "NULL", "NULL"]);
    }

    #[test]
    fn openx_properties() {
        let props = BTreeMap::from([
            ("mapping.ts".to_string(), "@timestamp".to_string()),
            ("dots.in.keys".to_string(), "true".to_string()),
            ("use.null.for.invalid.data".to_string(), "true".to_string()),
        ]);
        let b = read(
            JsonOptions::openx(&props).unwrap(),
            &[("ts", "string"), ("a_b", "int")],
            r#"{"@timestamp":"x","a.b":"nope"}"#,
        )
        .unwrap();
        assert_eq!(rows(&b), vec!["x|NULL"]);
        let e = read(JsonOptions::openx(&BTreeMap::new()).unwrap(), &[("a", "int")], r#"{"a":"nope"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("use.null.for.invalid.data") && e.contains("column a"), "{e}");
        let e = read(JsonOptions::openx(&BTreeMap::new()).unwrap(), &[("a", "int")], r#"{"a":1,"A":2}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("duplicate key"), "{e}");
        let props = BTreeMap::from([("case.insensitive".to_string(), "false".to_string())]);
        let b = read(JsonOptions::openx(&props).unwrap(), &[("a", "int")], r#"{"A":1}"#).unwrap();
        assert_eq!(rows(&b), vec!["NULL"]);
    }
}
