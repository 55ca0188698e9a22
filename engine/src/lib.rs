//! hiveql-engine: the HiveQL front end and query execution on Apache DataFusion.
//!
//! A [`Session`] takes HiveQL text, splits it into statements
//! ([`sql::script`]), parses each with a Hive dialect of sqlparser
//! ([`sql::parser`]), and runs it: DDL against the [`hiveql_metastore`]
//! metastore, queries and DML as DataFusion plans over metastore tables
//! ([`table`]) whose rows are read and written by Hive's SerDes ([`serde`]).

pub mod bucket;
pub mod cancel;
pub mod catalog;
pub mod datetime_pattern;
pub mod deadline;
pub mod dist;
pub mod error;
pub mod explain;
pub mod functions;
pub mod grouping_sets;
pub mod location;
pub mod options;
pub mod partition;
pub mod plan_cache;
pub mod serde;
pub mod session;
pub mod sql;
pub mod table;
pub mod types;
pub mod value;

pub use error::{HiveError, Result};
pub use session::{Session, SessionOptions, Shape, StatementOutput};

/// A number no other call in this process returns, and unlikely in any
/// other: the time in nanoseconds, then the low 20 bits of a count of the
/// calls so far (names of staging directories, ids of cluster jobs'
/// operations).
pub(crate) fn unique() -> u128 {
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    (now << 20) | u128::from(CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) & 0xF_FFFF)
}
