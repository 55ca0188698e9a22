//! Metastore tables as DataFusion tables: listing a table's data files,
//! cutting them into splits, scanning them with the table's SerDe, and
//! writing query results into table and directory locations.

pub mod compression;
pub mod listing;
pub mod provider;
pub mod split;
pub mod statistics;
pub mod text_source;
pub mod write_task;
pub mod writer;

pub use provider::HiveTableProvider;
