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

/// Parse a metastore type string.
pub fn parse_column_type(c: &Column) -> Result<HiveType> {
    HiveType::parse(&c.data_type).map_err(|e| semantic(format!("column {}: {e}", c.name)))
}

/// The Arrow schema of a list of metastore columns.
pub fn arrow_schema(columns: &[Column]) -> Result<Schema> {
    let fields = columns
        .iter()
        .map(|c| Ok(Field::new(c.name.to_ascii_lowercase(), arrow_type(&parse_column_type(c)?), true)))
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
