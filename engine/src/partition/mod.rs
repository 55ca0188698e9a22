//! Hive partitions: how partition directories are named
//! ([`path`]), how partition specs are checked ([`spec`]), how a query's
//! predicate chooses partitions through the metastore ([`prune`]), and how
//! `MSCK REPAIR TABLE` finds partitions on storage ([`discover`]), and how
//! Athena's partition projection computes them instead ([`projection`]),
//! and how `INSERT OVERWRITE` replaces a partition atomically ([`swap`]).

pub mod discover;
pub mod path;
pub mod projection;
pub mod prune;
pub mod spec;
pub mod swap;

pub use path::DEFAULT_PARTITION;
