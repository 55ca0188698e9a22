//! Mapping between Hive column types and Arrow types.
//!
//! TINYINT..BIGINT map to Int8..Int64, FLOAT/DOUBLE to Float32/Float64,
//! DECIMAL(p,s) to Decimal128, STRING/VARCHAR/CHAR to Utf8, DATE to Date32,
//! TIMESTAMP to Timestamp(ns) without time zone (Hive timestamps are local
//! wall-clock values), BINARY to Binary, and ARRAY/MAP/STRUCT to
//! List/Map/Struct with Hive's field names.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, TimeUnit};
use hiveql_metastore::{Column, HiveType};

use crate::error::{HiveError, Result, semantic};

/// The Arrow type that holds values of a Hive type.
pub fn arrow_type(t: &HiveType) -> DataType {
    match t {
        HiveType::Boolean => DataType::Boolean,
        HiveType::TinyInt => DataType::Int8,
        HiveType::SmallInt => DataType::Int16,
        HiveType::Int => DataType::Int32,
        HiveType::BigInt => DataType::Int64,
        HiveType::Float => DataType::Float32,
        HiveType::Double => DataType::Float64,
        HiveType::Decimal(p, s) => DataType::Decimal128(*p, *s),
        HiveType::String | HiveType::Varchar(_) | HiveType::Char(_) => DataType::Utf8,
        HiveType::Date => DataType::Date32,
        HiveType::Timestamp => DataType::Timestamp(TimeUnit::Nanosecond, None),
        HiveType::Binary => DataType::Binary,
        HiveType::Array(e) => DataType::List(Arc::new(Field::new("item", arrow_type(e), true))),
        HiveType::Map(k, v) => DataType::Map(
            Arc::new(Field::new(
                "entries",
                DataType::Struct(Fields::from(vec![
                    Field::new("key", arrow_type(k), false),
                    Field::new("value", arrow_type(v), true),
                ])),
                false,
            )),
            false,
        ),
        HiveType::Struct(fields) => DataType::Struct(
            fields.iter().map(|(n, t)| Field::new(n.to_ascii_lowercase(), arrow_type(t), true)).collect::<Fields>(),
        ),
    }
}

/// The Hive type of an Arrow type (for CTAS and INSERT DIRECTORY schemas).
pub fn hive_type(t: &DataType) -> Result<HiveType> {
    Ok(match t {
        DataType::Null => HiveType::String,
        DataType::Boolean => HiveType::Boolean,
        DataType::Int8 => HiveType::TinyInt,
        DataType::Int16 | DataType::UInt8 => HiveType::SmallInt,
        DataType::Int32 | DataType::UInt16 => HiveType::Int,
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => HiveType::BigInt,
        DataType::Float16 | DataType::Float32 => HiveType::Float,
        DataType::Float64 => HiveType::Double,
        DataType::Decimal32(p, s) | DataType::Decimal64(p, s) | DataType::Decimal128(p, s) => {
            HiveType::Decimal((*p).min(38), *s)
        }
        DataType::Decimal256(p, s) => HiveType::Decimal((*p).min(38), *s),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => HiveType::String,
        DataType::Date32 | DataType::Date64 => HiveType::Date,
        DataType::Timestamp(_, _) => HiveType::Timestamp,
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => {
            HiveType::Binary
        }
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) | DataType::ListView(f) => {
            HiveType::Array(Box::new(hive_type(f.data_type())?))
        }
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => {
                HiveType::Map(Box::new(hive_type(kv[0].data_type())?), Box::new(hive_type(kv[1].data_type())?))
            }
            other => return Err(semantic(format!("unsupported map layout {other}"))),
        },
        DataType::Struct(fields) => HiveType::Struct(
            fields
                .iter()
                .map(|f| Ok((f.name().to_ascii_lowercase(), hive_type(f.data_type())?)))
                .collect::<Result<_>>()?,
        ),
        DataType::Dictionary(_, v) => hive_type(v)?,
        other => return Err(HiveError::Unsupported(format!("no Hive type for values of type {other}"))),
    })
}

/// The field metadata key that keeps a column's Hive type where Arrow's
/// type loses it: `char(n)` and `varchar(n)` (both Utf8).
pub const HIVE_TYPE: &str = "hive.type";

/// A field of Hive type `t`: CHAR and VARCHAR keep their length in the
/// field's metadata ([`HIVE_TYPE`]), for casts, inserts and printing.
pub fn arrow_field(name: impl Into<String>, t: &HiveType) -> Field {
    let f = Field::new(name, arrow_type(t), true);
    match t {
        HiveType::Char(_) | HiveType::Varchar(_) => {
            f.with_metadata([(HIVE_TYPE.to_string(), t.to_string())].into_iter().collect())
        }
        _ => f,
    }
}

/// The length limit of a CHAR(n) or VARCHAR(n) field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextLimit {
    /// CHAR: padded with spaces to `length` when printed, trailing spaces
    /// not significant; otherwise VARCHAR.
    pub char: bool,
    /// The most characters a value holds.
    pub length: usize,
}

impl TextLimit {
    /// The limit a field's metadata records, if any.
    pub fn of(field: &Field) -> Option<TextLimit> {
        Self::parse(field.metadata().get(HIVE_TYPE)?)
    }

    /// The limit of a Hive type name (`char(5)`, `varchar(10)`).
    pub fn parse(type_name: &str) -> Option<TextLimit> {
        match HiveType::parse(type_name).ok()? {
            HiveType::Char(n) => Some(TextLimit { char: true, length: n as usize }),
            HiveType::Varchar(n) => Some(TextLimit { char: false, length: n as usize }),
            _ => None,
        }
    }

    /// `v` cut to the limit (by characters); a CHAR also loses its trailing
    /// spaces, which it prints back as padding.
    pub fn apply<'a>(&self, v: &'a str) -> &'a str {
        let cut = v.char_indices().nth(self.length).map_or(v, |(i, _)| &v[..i]);
        if self.char { cut.trim_end_matches(' ') } else { cut }
    }

    /// The Hive type name.
    pub fn type_name(&self) -> String {
        format!("{}({})", if self.char { "char" } else { "varchar" }, self.length)
    }
}

/// The Hive type of a result column: its Arrow type's, or CHAR(n)/VARCHAR(n)
/// where the field's metadata says so.
pub fn field_hive_type(f: &Field) -> Result<HiveType> {
    Ok(match TextLimit::of(f) {
        Some(TextLimit { char: true, length }) => HiveType::Char(length as u32),
        Some(TextLimit { char: false, length }) => HiveType::Varchar(length as u32),
        None => hive_type(f.data_type())?,
    })
}

/// Parse a metastore type string.
pub fn parse_column_type(c: &Column) -> Result<HiveType> {
    HiveType::parse(&c.data_type).map_err(|e| semantic(format!("column {}: {e}", c.name)))
}

/// The Arrow schema of a list of metastore columns.
pub fn arrow_schema(columns: &[Column]) -> Result<Schema> {
    let fields = columns
        .iter()
        .map(|c| Ok(arrow_field(c.name.to_ascii_lowercase(), &parse_column_type(c)?)))
        .collect::<Result<Vec<_>>>()?;
    Ok(Schema::new(fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hive_and_arrow_types_round_trip() {
        for s in [
            "int",
            "decimal(12,2)",
            "array<struct<sku:string,qty:int>>",
            "map<string,array<double>>",
            "timestamp",
            "date",
        ] {
            let h = HiveType::parse(s).unwrap();
            assert_eq!(hive_type(&arrow_type(&h)).unwrap(), h, "{s}");
        }
    }
}
