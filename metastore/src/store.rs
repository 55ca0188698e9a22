//! The seam between the engine and wherever the metastore lives.

use crate::error::Result;
use crate::filter::PartitionFilter;
use crate::model::{Database, Partition, Table};

/// Operations the engine needs from a Hive metastore. Every call is one
/// atomic change or one consistent read; names are matched case-insensitively.
pub trait Metastore: Send + Sync + std::fmt::Debug {
    /// Create a database; `AlreadyExists` if it exists (callers handle `IF NOT EXISTS`).
    fn create_database(&self, db: &Database) -> Result<()>;
    fn get_database(&self, name: &str) -> Result<Option<Database>>;
    /// All database names, sorted.
    fn list_databases(&self) -> Result<Vec<String>>;
    /// Drop a database. Without `cascade` it must be empty; with it, its tables
    /// go too and are returned so the caller can delete managed data.
    fn drop_database(&self, name: &str, cascade: bool) -> Result<Vec<Table>>;

    /// Create a table or view; `AlreadyExists` if the name is taken.
    fn create_table(&self, table: &Table) -> Result<()>;
    fn get_table(&self, db: &str, name: &str) -> Result<Option<Table>>;
    /// Table and view names of a database, sorted.
    fn list_tables(&self, db: &str) -> Result<Vec<String>>;
    /// Replace the definition of `db.name` with `table` (which may carry a new
    /// name or database: a rename).
    fn alter_table(&self, db: &str, name: &str, table: &Table) -> Result<()>;
    /// Drop a table and its partitions, returning what was dropped.
    fn drop_table(&self, db: &str, name: &str) -> Result<Table>;

    /// Add partitions; `AlreadyExists` (and nothing added) if one exists, unless
    /// `if_not_exists`, when existing ones are skipped.
    fn add_partitions(&self, db: &str, table: &str, parts: &[Partition], if_not_exists: bool) -> Result<()>;
    /// The partition with these values, if any.
    fn get_partition(&self, db: &str, table: &str, values: &[Option<String>]) -> Result<Option<Partition>>;
    /// All partitions of a table, ordered by their values.
    fn list_partitions(&self, db: &str, table: &str) -> Result<Vec<Partition>>;
    /// The partitions `filter` selects (possibly more, never fewer: see
    /// [`PartitionFilter`]), ordered by their values. The store evaluates the
    /// filter itself instead of returning every partition.
    fn list_partitions_by_filter(&self, db: &str, table: &str, filter: &PartitionFilter) -> Result<Vec<Partition>>;
    /// The values of the partitions `filter` selects (a superset, as for
    /// [`Metastore::list_partitions_by_filter`]), ordered; cheaper than whole partitions.
    fn list_partition_values(
        &self,
        db: &str,
        table: &str,
        filter: &PartitionFilter,
    ) -> Result<Vec<Vec<Option<String>>>>;
    /// The partitions with these values that exist, in the order given.
    fn get_partitions(&self, db: &str, table: &str, values: &[Vec<Option<String>>]) -> Result<Vec<Partition>>;
    /// How many partitions a table has.
    fn count_partitions(&self, db: &str, table: &str) -> Result<usize>;
    /// Drop the partitions with these values, returning the dropped ones;
    /// `NotFound` (and nothing dropped) for a missing one unless `if_exists`.
    fn drop_partitions(
        &self,
        db: &str,
        table: &str,
        values: &[Vec<Option<String>>],
        if_exists: bool,
    ) -> Result<Vec<Partition>>;
    /// Replace the partition with `values` by `new` (which may have other
    /// values: a rename); `NotFound` / `AlreadyExists` leave both unchanged.
    fn alter_partition(&self, db: &str, table: &str, values: &[Option<String>], new: &Partition) -> Result<()>;
    /// Drop and add partitions in one atomic change (as `MSCK REPAIR TABLE ...
    /// SYNC PARTITIONS` needs), returning the dropped ones. Drops come first.
    fn change_partitions(
        &self,
        db: &str,
        table: &str,
        add: &[Partition],
        if_not_exists: bool,
        drop: &[Vec<Option<String>>],
        if_exists: bool,
    ) -> Result<Vec<Partition>>;
}
