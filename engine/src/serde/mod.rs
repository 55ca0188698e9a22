//! Hive's row formats (SerDes): how the bytes of a table's files become rows
//! and rows become bytes. [`TableFormat::of`] picks the SerDe of a table or
//! partition from its storage descriptor.

pub mod builder;
pub mod lazy_simple;
pub mod parse;

use std::collections::BTreeMap;

use hiveql_metastore::StorageDescriptor;
use hiveql_metastore::model::classes;

use crate::error::{HiveError, Result};
pub use lazy_simple::LazySimpleOptions;

/// How a table's files are read and written.
#[derive(Debug, Clone, PartialEq)]
pub enum TableFormat {
    /// Delimited text (`LazySimpleSerDe`).
    Text(LazySimpleOptions),
    /// Parquet (`ParquetHiveSerDe`).
    Parquet,
}

impl TableFormat {
    /// The format of data described by `sd` in a table with `table_props`.
    pub fn of(sd: &StorageDescriptor, table_props: &BTreeMap<String, String>) -> Result<TableFormat> {
        let serde = sd.serde.serialization_lib.as_str();
        let input = sd.input_format.as_str();
        if serde == classes::PARQUET_SERDE || input.contains("Parquet") {
            return Ok(TableFormat::Parquet);
        }
        match serde {
            classes::LAZY_SIMPLE_SERDE | "" | "org.apache.hadoop.hive.serde2.MetadataTypedColumnsetSerDe" => {
                if !(input.is_empty() || input == classes::TEXT_INPUT) {
                    return Err(HiveError::Unsupported(format!("input format {input}")));
                }
                Ok(TableFormat::Text(LazySimpleOptions::from_properties(&sd.serde.parameters, table_props)?))
            }
            other => {
                Err(HiveError::Unsupported(format!("SerDe {other} (supported: LazySimpleSerDe, ParquetHiveSerDe)")))
            }
        }
    }
}
