//! The Hive metastore model: what a database, a table, its storage descriptor
//! and its partitions are. Names of databases, tables and columns are kept in
//! lower case, as Hive's metastore keeps them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Hive's input/output format and SerDe class names for the formats hiveql knows.
pub mod classes {
    pub const TEXT_INPUT: &str = "org.apache.hadoop.mapred.TextInputFormat";
    pub const TEXT_OUTPUT: &str = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat";
    pub const LAZY_SIMPLE_SERDE: &str = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe";
    pub const PARQUET_INPUT: &str = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat";
    pub const PARQUET_OUTPUT: &str = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat";
    pub const PARQUET_SERDE: &str = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe";
    pub const REGEX_SERDE: &str = "org.apache.hadoop.hive.serde2.RegexSerDe";
    /// The RegexSerDe of old `hive-contrib` jars.
    pub const CONTRIB_REGEX_SERDE: &str = "org.apache.hadoop.hive.contrib.serde2.RegexSerDe";
    /// The JSON SerDe of HCatalog (Athena's "Hive JSON SerDe").
    pub const HCATALOG_JSON_SERDE: &str = "org.apache.hive.hcatalog.data.JsonSerDe";
    /// Hive 4's JSON SerDe, the one `STORED AS JSONFILE` names.
    pub const HIVE_JSON_SERDE: &str = "org.apache.hadoop.hive.serde2.JsonSerDe";
    pub const OPENX_JSON_SERDE: &str = "org.openx.data.jsonserde.JsonSerDe";
    pub const OPEN_CSV_SERDE: &str = "org.apache.hadoop.hive.serde2.OpenCSVSerde";
}

/// A database (schema): a namespace of tables with a default location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Database {
    pub name: String,
    pub location: String,
    pub comment: Option<String>,
    pub owner: Option<String>,
    pub properties: BTreeMap<String, String>,
}

/// Whether the metastore owns a table's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TableType {
    /// Data lives under the table's location and is deleted with it.
    Managed,
    /// Data belongs to someone else; DROP keeps it.
    External,
    /// A stored query.
    View,
}

impl TableType {
    /// Hive's name for the type, as `DESCRIBE FORMATTED` prints it.
    pub fn hive_name(self) -> &'static str {
        match self {
            TableType::Managed => "MANAGED_TABLE",
            TableType::External => "EXTERNAL_TABLE",
            TableType::View => "VIRTUAL_VIEW",
        }
    }

    fn from_hive_name(s: &str) -> Option<TableType> {
        Some(match s {
            "MANAGED_TABLE" => TableType::Managed,
            "EXTERNAL_TABLE" => TableType::External,
            "VIRTUAL_VIEW" => TableType::View,
            _ => return None,
        })
    }
}

impl std::str::FromStr for TableType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        TableType::from_hive_name(s).ok_or_else(|| format!("unknown table type {s}"))
    }
}

/// A column: name, Hive type string and comment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    /// The Hive type in canonical form (see [`crate::HiveType`]).
    pub data_type: String,
    pub comment: Option<String>,
}

impl Column {
    pub fn new(name: impl Into<String>, data_type: impl Into<String>) -> Self {
        Column { name: name.into(), data_type: data_type.into(), comment: None }
    }
}

/// The SerDe of a table or partition: its class and properties.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SerdeInfo {
    pub serialization_lib: String,
    pub parameters: BTreeMap<String, String>,
}

/// A `SORTED BY` column of a bucketed table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SortColumn {
    pub name: String,
    pub ascending: bool,
}

/// Where and how the data of a table or partition is stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageDescriptor {
    /// A local path, `file://`, `dfs://host:port/...` or `s3://...` URL.
    pub location: String,
    pub input_format: String,
    pub output_format: String,
    pub serde: SerdeInfo,
    /// `CLUSTERED BY` columns; empty when not bucketed.
    pub bucket_columns: Vec<String>,
    /// Number of buckets; 0 when not bucketed.
    pub num_buckets: u32,
    pub sort_columns: Vec<SortColumn>,
}

impl StorageDescriptor {
    /// Hive's default: text with LazySimpleSerDe.
    pub fn text(location: impl Into<String>) -> Self {
        StorageDescriptor {
            location: location.into(),
            input_format: classes::TEXT_INPUT.into(),
            output_format: classes::TEXT_OUTPUT.into(),
            serde: SerdeInfo { serialization_lib: classes::LAZY_SIMPLE_SERDE.into(), parameters: BTreeMap::new() },
            ..Default::default()
        }
    }

    /// JSON lines (`STORED AS JSONFILE`).
    pub fn json(location: impl Into<String>) -> Self {
        let mut sd = StorageDescriptor::text(location);
        sd.serde.serialization_lib = classes::HIVE_JSON_SERDE.into();
        sd
    }

    /// Parquet with ParquetHiveSerDe.
    pub fn parquet(location: impl Into<String>) -> Self {
        StorageDescriptor {
            location: location.into(),
            input_format: classes::PARQUET_INPUT.into(),
            output_format: classes::PARQUET_OUTPUT.into(),
            serde: SerdeInfo { serialization_lib: classes::PARQUET_SERDE.into(), parameters: BTreeMap::new() },
            ..Default::default()
        }
    }
}

/// A table or view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub database: String,
    pub name: String,
    pub table_type: TableType,
    pub owner: Option<String>,
    /// Seconds since the epoch.
    pub create_time: i64,
    pub columns: Vec<Column>,
    pub partition_keys: Vec<Column>,
    pub storage: StorageDescriptor,
    /// `TBLPROPERTIES`; the table comment is the `comment` property, as in Hive.
    pub properties: BTreeMap<String, String>,
    /// For views: the query text as written.
    pub view_text: Option<String>,
}

impl Table {
    /// `db.name`.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.database, self.name)
    }

    /// The table comment (`COMMENT '...'` in DDL).
    pub fn comment(&self) -> Option<&str> {
        self.properties.get("comment").map(String::as_str)
    }
}

/// A partition of a partitioned table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Partition {
    /// Values in the order of the table's partition keys (`None` is NULL).
    pub values: Vec<Option<String>>,
    pub storage: StorageDescriptor,
    pub create_time: i64,
    pub properties: BTreeMap<String, String>,
}
