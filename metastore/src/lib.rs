//! The Hive metastore of hiveql: the model of databases, tables, columns,
//! partitions and storage descriptors, and the stores that keep it.
//!
//! The engine talks to the metastore only through the [`Metastore`] trait, so
//! the embedded SQLite store ([`SqliteMetastore`]) can later be joined by a
//! shared metastore service without touching the engine.

pub mod error;
pub mod filter;
pub mod model;
pub mod sqlite;
pub mod store;
pub mod types;

pub use error::{MetastoreError, Result};
pub use filter::{CompareOp, FilterValue, PartitionFilter};
pub use model::{Column, Database, Partition, SerdeInfo, SortColumn, StorageDescriptor, Table, TableType};
pub use sqlite::SqliteMetastore;
pub use store::Metastore;
pub use types::HiveType;
