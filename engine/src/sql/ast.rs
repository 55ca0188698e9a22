//! The statements of HiveQL as hiveql understands them. Queries and
//! expressions stay sqlparser AST; Hive's DDL/DML shapes are modelled here.

use std::collections::BTreeMap;

use datafusion::sql::sqlparser::ast::{ObjectName, Query};
use hiveql_metastore::Column;

pub use crate::partition::spec::SpecPredicate;

/// A table reference `[db.]name`.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRef {
    pub database: Option<String>,
    pub name: String,
}

impl std::fmt::Display for TableRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.database {
            Some(d) => write!(f, "{d}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// `ROW FORMAT ...`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DelimitedFormat {
    pub fields: Option<String>,
    pub escaped: Option<String>,
    pub collection_items: Option<String>,
    pub map_keys: Option<String>,
    pub lines: Option<String>,
    pub null_defined_as: Option<String>,
}

/// `ROW FORMAT DELIMITED ...` or `ROW FORMAT SERDE 'class' [WITH SERDEPROPERTIES (...)]`.
#[derive(Debug, Clone, PartialEq)]
pub enum RowFormat {
    Delimited(DelimitedFormat),
    Serde { class: String, properties: BTreeMap<String, String> },
}

/// `STORED AS ...`.
#[derive(Debug, Clone, PartialEq)]
pub enum StoredAs {
    /// A named format: TEXTFILE, PARQUET, JSONFILE, ORC, ...
    Format(String),
    /// `STORED AS INPUTFORMAT 'i' OUTPUTFORMAT 'o'`.
    InputOutput { input: String, output: String },
}

/// `CLUSTERED BY (...) [SORTED BY (...)] INTO n BUCKETS`.
#[derive(Debug, Clone, PartialEq)]
pub struct Bucketing {
    pub columns: Vec<String>,
    pub sorted_by: Vec<(String, bool)>,
    pub buckets: u32,
}

/// `CREATE [TEMPORARY] [EXTERNAL] TABLE`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CreateTable {
    pub name: Option<TableRef>,
    pub external: bool,
    pub temporary: bool,
    pub if_not_exists: bool,
    pub columns: Vec<Column>,
    pub comment: Option<String>,
    pub partition_columns: Vec<Column>,
    pub bucketing: Option<Bucketing>,
    pub row_format: Option<RowFormat>,
    pub stored_as: Option<StoredAs>,
    pub location: Option<String>,
    pub properties: BTreeMap<String, String>,
    pub like: Option<TableRef>,
    pub query: Option<Box<Query>>,
}

/// `CREATE [OR REPLACE] VIEW [IF NOT EXISTS] v [(cols)] [COMMENT] [TBLPROPERTIES] AS query`.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateView {
    pub name: TableRef,
    pub if_not_exists: bool,
    pub or_replace: bool,
    /// Declared column names and comments.
    pub columns: Vec<(String, Option<String>)>,
    pub comment: Option<String>,
    pub properties: BTreeMap<String, String>,
    /// The query as written, stored in the metastore.
    pub text: String,
    pub query: Box<Query>,
}

/// A `PARTITION (k='v', k2, ...)` clause: each key with its constant, or
/// `None` for a dynamic partition column.
pub type PartitionSpec = Vec<(String, Option<String>)>;

/// The forms of `ALTER TABLE`.
#[derive(Debug, Clone, PartialEq)]
pub enum AlterTable {
    RenameTo(TableRef),
    AddColumns(Vec<Column>),
    ReplaceColumns(Vec<Column>),
    SetProperties(BTreeMap<String, String>),
    UnsetProperties(Vec<String>),
    SetLocation(String),
    SetSerdeProperties {
        class: Option<String>,
        properties: BTreeMap<String, String>,
    },
    SetFileFormat(StoredAs),
    /// `ADD [IF NOT EXISTS] PARTITION (...) [LOCATION 'p'] [PARTITION ...]`.
    AddPartitions {
        if_not_exists: bool,
        partitions: Vec<(PartitionSpec, Option<String>)>,
    },
    /// `DROP [IF EXISTS] PARTITION (k op v, ...) [, PARTITION (...)] [PURGE]`.
    DropPartitions {
        if_exists: bool,
        specs: Vec<Vec<SpecPredicate>>,
    },
    /// `PARTITION (...) RENAME TO PARTITION (...)`.
    RenamePartition {
        from: PartitionSpec,
        to: PartitionSpec,
    },
    /// `PARTITION (...) SET LOCATION | SET FILEFORMAT | SET SERDE[PROPERTIES]`.
    AlterPartition {
        spec: PartitionSpec,
        op: Box<AlterTable>,
    },
}

/// How `DESCRIBE` prints.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DescribeStyle {
    Plain,
    Extended,
    Formatted,
}

/// `SHOW ...`.
#[derive(Debug, Clone, PartialEq)]
pub enum Show {
    Databases {
        like: Option<String>,
    },
    Tables {
        database: Option<String>,
        like: Option<String>,
    },
    Views {
        database: Option<String>,
        like: Option<String>,
    },
    CreateTable(TableRef),
    TblProperties {
        table: TableRef,
        key: Option<String>,
    },
    Columns(TableRef),
    /// `SHOW PARTITIONS t [PARTITION (k='v', ...)]`.
    Partitions(TableRef, Vec<SpecPredicate>),
    Functions {
        like: Option<String>,
    },
    CurrentDatabase,
}

/// The target of an `INSERT`.
#[derive(Debug, Clone, PartialEq)]
pub struct InsertTarget {
    pub table: TableRef,
    pub overwrite: bool,
    /// `PARTITION (k='v', k2)` specs; a `None` value is a dynamic partition.
    pub partition: PartitionSpec,
    pub columns: Vec<String>,
    pub if_not_exists: bool,
}

/// `INSERT OVERWRITE [LOCAL] DIRECTORY`.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectoryTarget {
    pub path: String,
    pub local: bool,
    pub row_format: Option<RowFormat>,
    pub stored_as: Option<StoredAs>,
}

/// Where one insert of a (multi-)insert goes.
#[derive(Debug, Clone, PartialEq)]
pub enum InsertInto {
    Table(InsertTarget),
    Directory(DirectoryTarget),
}

/// A parsed statement.
#[derive(Debug, Clone, PartialEq)]
pub enum HiveStatement {
    Query(Box<Query>),
    Explain {
        analyze: bool,
        verbose: bool,
        query: Box<Query>,
    },
    CreateDatabase {
        name: String,
        if_not_exists: bool,
        comment: Option<String>,
        location: Option<String>,
        properties: BTreeMap<String, String>,
    },
    DropDatabase {
        name: String,
        if_exists: bool,
        cascade: bool,
    },
    Use(String),
    CreateTable(Box<CreateTable>),
    CreateView(Box<CreateView>),
    DropTable {
        name: TableRef,
        if_exists: bool,
        purge: bool,
        view: bool,
    },
    Truncate {
        table: TableRef,
        partition: Option<PartitionSpec>,
    },
    /// `MSCK [REPAIR] TABLE t [ADD | DROP | SYNC PARTITIONS]`.
    Msck {
        table: TableRef,
        add: bool,
        drop: bool,
    },
    AlterTable {
        name: TableRef,
        op: AlterTable,
    },
    Describe {
        table: TableRef,
        style: DescribeStyle,
        partition: Option<PartitionSpec>,
    },
    DescribeDatabase {
        name: String,
        extended: bool,
    },
    /// `DESCRIBE FUNCTION [EXTENDED] f`.
    DescribeFunction {
        name: String,
        extended: bool,
    },
    Show(Show),
    LoadData {
        local: bool,
        path: String,
        overwrite: bool,
        table: TableRef,
        partition: PartitionSpec,
    },
    /// One or more inserts fed from queries (`INSERT ... SELECT`, `INSERT ... VALUES`,
    /// `FROM src INSERT ... SELECT ... INSERT ... SELECT ...`).
    Insert(Vec<(InsertInto, Box<Query>)>),
    /// `CREATE FUNCTION`, `ANALYZE`, ... : accepted and ignored, with a note.
    NoOp(String),
}

/// Convert a sqlparser object name into a table reference.
pub fn table_ref(name: &ObjectName) -> crate::Result<TableRef> {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|p| p.as_ident().map(|i| i.value.to_ascii_lowercase()).unwrap_or_else(|| p.to_string()))
        .collect();
    match parts.as_slice() {
        [t] => Ok(TableRef { database: None, name: t.clone() }),
        [d, t] => Ok(TableRef { database: Some(d.clone()), name: t.clone() }),
        _ => Err(crate::error::semantic(format!("invalid table name {name}"))),
    }
}
