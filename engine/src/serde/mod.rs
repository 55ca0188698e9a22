//! Hive's row formats (SerDes): how the bytes of a table's files become rows
//! and rows become bytes. [`TableFormat::of`] picks the SerDe of a table or
//! partition from its storage descriptor.
//!
//! Text SerDes read one record per line ([`line::LineDecoder`] cuts lines,
//! each SerDe's [`line::RowParser`] fills the columns):
//! - `LazySimpleSerDe` (delimited text, [`lazy_simple`]),
//! - `RegexSerDe` ([`regex`]),
//! - the HCatalog, Hive and OpenX `JsonSerDe`s ([`json`]),
//! - `OpenCSVSerde` ([`opencsv`]).

pub mod builder;
pub mod json;
pub mod lazy_simple;
pub mod line;
pub mod opencsv;
pub mod parse;
pub mod regex;

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::Schema;
use hiveql_metastore::StorageDescriptor;
use hiveql_metastore::model::classes;
use serde::{Deserialize, Serialize};

use crate::error::{HiveError, Result};
pub use json::JsonOptions;
pub use lazy_simple::LazySimpleOptions;
pub use opencsv::OpenCsvOptions;
pub use regex::RegexOptions;

/// How a table's files are read and written.
#[derive(Debug, Clone, PartialEq)]
pub enum TableFormat {
    /// Text read line by line with a SerDe.
    Text(TextFormat),
    /// Parquet (`ParquetHiveSerDe`).
    Parquet,
}

/// What a text format is made from: the SerDe class and properties as the
/// metastore has them. Plans carry this (it is what a physical plan codec
/// ships), and [`TextFormat::from_spec`] rebuilds the reader from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SerdeSpec {
    pub serde: String,
    pub serde_properties: BTreeMap<String, String>,
    pub table_properties: BTreeMap<String, String>,
}

/// The SerDe of a text table, with its properties read.
#[derive(Debug, Clone, PartialEq)]
pub struct TextFormat {
    pub spec: SerdeSpec,
    pub serde: TextSerde,
    /// `skip.header.line.count`: lines skipped at the start of each file.
    pub skip_header: usize,
    /// `skip.footer.line.count`: lines dropped at the end of each file.
    pub skip_footer: usize,
}

/// The text SerDes.
#[derive(Debug, Clone, PartialEq)]
pub enum TextSerde {
    LazySimple(Arc<LazySimpleOptions>),
    Regex(Arc<RegexOptions>),
    Json(Arc<JsonOptions>),
    OpenCsv(Arc<OpenCsvOptions>),
}

impl TableFormat {
    /// The format of data described by `sd` in a table with `table_props`.
    pub fn of(sd: &StorageDescriptor, table_props: &BTreeMap<String, String>) -> Result<TableFormat> {
        let serde = sd.serde.serialization_lib.as_str();
        let input = sd.input_format.as_str();
        if serde == classes::PARQUET_SERDE || input.contains("Parquet") {
            return Ok(TableFormat::Parquet);
        }
        if !(input.is_empty() || input == classes::TEXT_INPUT) {
            return Err(HiveError::Unsupported(format!("input format {input}")));
        }
        let spec = SerdeSpec {
            serde: serde.to_string(),
            serde_properties: sd.serde.parameters.clone(),
            table_properties: table_props.clone(),
        };
        Ok(TableFormat::Text(TextFormat::from_spec(spec)?))
    }

    /// An error if rows cannot be written in this format.
    pub fn check_writable(&self) -> Result<()> {
        match self {
            TableFormat::Text(TextFormat { serde: TextSerde::Regex(_), .. }) => Err(HiveError::Unsupported(
                "writing to a RegexSerDe table (Hive's RegexSerDe cannot serialize rows either)".into(),
            )),
            _ => Ok(()),
        }
    }

    /// Check at DDL time that the format can read rows of `schema`.
    pub fn validate(&self, schema: &Schema) -> Result<()> {
        match self {
            TableFormat::Text(t) => t.validate(schema),
            TableFormat::Parquet => Ok(()),
        }
    }
}

fn count_property(props: &BTreeMap<String, String>, key: &str) -> Result<usize> {
    match props.get(key) {
        None => Ok(0),
        Some(v) => v
            .trim()
            .parse::<i64>()
            .map(|n| n.max(0) as usize)
            .map_err(|_| HiveError::Semantic(format!("table property {key} must be a whole number, got '{v}'"))),
    }
}

/// A boolean SerDe property (`true`/`false`, any case); `default` when absent.
pub(crate) fn bool_property(props: &BTreeMap<String, String>, key: &str, default: bool) -> Result<bool> {
    match props.get(key).map(|v| v.trim()) {
        None => Ok(default),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(HiveError::Semantic(format!("SerDe property {key} must be true or false, got '{v}'"))),
    }
}

impl TextFormat {
    /// Read the SerDe properties of `spec`.
    pub fn from_spec(spec: SerdeSpec) -> Result<TextFormat> {
        let (props, table) = (&spec.serde_properties, &spec.table_properties);
        let serde = match spec.serde.as_str() {
            classes::LAZY_SIMPLE_SERDE | "" | "org.apache.hadoop.hive.serde2.MetadataTypedColumnsetSerDe" => {
                TextSerde::LazySimple(Arc::new(LazySimpleOptions::from_properties(props, table)?))
            }
            classes::REGEX_SERDE | classes::CONTRIB_REGEX_SERDE => {
                TextSerde::Regex(Arc::new(RegexOptions::from_properties(props)?))
            }
            classes::HCATALOG_JSON_SERDE | classes::HIVE_JSON_SERDE => {
                TextSerde::Json(Arc::new(JsonOptions::hive(props)?))
            }
            classes::OPENX_JSON_SERDE => TextSerde::Json(Arc::new(JsonOptions::openx(props)?)),
            classes::OPEN_CSV_SERDE => TextSerde::OpenCsv(Arc::new(OpenCsvOptions::from_properties(props)?)),
            other => {
                return Err(HiveError::Unsupported(format!(
                    "SerDe {other} (supported: LazySimpleSerDe, RegexSerDe, JsonSerDe (HCatalog, Hive, OpenX), \
                     OpenCSVSerde, ParquetHiveSerDe)"
                )));
            }
        };
        let skip_header = count_property(table, "skip.header.line.count")?;
        let skip_footer = count_property(table, "skip.footer.line.count")?;
        Ok(TextFormat { spec, serde, skip_header, skip_footer })
    }

    /// The SerDe's short name, for plans.
    pub fn name(&self) -> &'static str {
        match self.serde {
            TextSerde::LazySimple(_) => "LazySimpleSerDe",
            TextSerde::Regex(_) => "RegexSerDe",
            TextSerde::Json(ref o) if o.openx => "OpenX JsonSerDe",
            TextSerde::Json(_) => "JsonSerDe",
            TextSerde::OpenCsv(_) => "OpenCSVSerde",
        }
    }

    /// Whether an uncompressed file may be cut into byte ranges: not when a
    /// footer must be found at its end, nor for CSV, whose quoted fields may
    /// hold line breaks.
    pub fn splittable(&self) -> bool {
        self.skip_footer == 0 && !matches!(self.serde, TextSerde::OpenCsv(_))
    }

    /// Check that the format can read rows of `schema` (a DDL-time check).
    pub fn validate(&self, schema: &Schema) -> Result<()> {
        match &self.serde {
            TextSerde::Regex(o) => o.validate(schema),
            _ => Ok(()),
        }
    }

    /// A reader of records into the columns `projection` (indices into
    /// `file_schema`, the table's data columns).
    pub fn parser(&self, file_schema: &Schema, projection: &[usize]) -> Result<Box<dyn line::RowParser>> {
        Ok(match &self.serde {
            TextSerde::LazySimple(o) => {
                Box::new(lazy_simple::LazySimpleParser::new(o.clone(), file_schema.fields().len(), projection))
            }
            TextSerde::Regex(o) => Box::new(regex::RegexParser::new(o.clone(), file_schema, projection)?),
            TextSerde::Json(o) => Box::new(json::JsonParser::new(o.clone(), file_schema, projection)?),
            TextSerde::OpenCsv(o) => Box::new(opencsv::OpenCsvParser::new(o.clone(), file_schema, projection)),
        })
    }

    /// Append the rows of `batch` in this format to `out`.
    pub fn write_batch(&self, batch: &RecordBatch, out: &mut Vec<u8>) -> Result<()> {
        match &self.serde {
            TextSerde::LazySimple(o) => {
                lazy_simple::write_batch(batch, o, out);
                Ok(())
            }
            TextSerde::Json(o) => json::write_batch(batch, o, out),
            TextSerde::OpenCsv(o) => opencsv::write_batch(batch, o, out),
            TextSerde::Regex(_) => Err(HiveError::Unsupported(
                "writing to a RegexSerDe table (Hive's RegexSerDe cannot serialize rows either)".into(),
            )),
        }
    }
}
