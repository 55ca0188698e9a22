//! Partition management statements: `ALTER TABLE ... ADD | DROP | RENAME
//! PARTITION`, `ALTER TABLE ... PARTITION (...) SET ...`, `SHOW PARTITIONS`,
//! `TRUNCATE TABLE ... PARTITION` and `MSCK REPAIR TABLE`.
//!
//! Each statement checks its partition specs against the table first
//! ([`crate::partition::spec`]) and changes the metastore in one
//! transaction; data is touched only as Hive does: a managed table's
//! partition directories are created with them and deleted with them.

use std::collections::{BTreeMap, HashMap, HashSet};

use hiveql_metastore::{Partition, PartitionFilter, Table, TableType};

use super::ast::{AlterTable, PartitionSpec, SpecPredicate};
use super::ddl::storage_descriptor;
use crate::error::{HiveError, Result, semantic};
use crate::location::Location;
use crate::partition::discover::discover;
use crate::partition::{path, spec};
use crate::serde::TableFormat;
use crate::session::{Session, StatementOutput, string_rows};
use crate::table::writer;

/// Hive's setting for directories `MSCK REPAIR TABLE` cannot read as partitions.
pub const MSCK_PATH_VALIDATION: &str = "hive.msck.path.validation";

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// `k1=v1/k2=v2` for a table's partition.
pub fn partition_name(table: &Table, values: &[Option<String>]) -> String {
    path::partition_name(table.partition_keys.iter().map(|k| k.name.as_str()), values)
}

/// The default location of a partition: its name under the table's location.
pub fn default_location(table: &Table, values: &[Option<String>]) -> Result<Location> {
    let mut dir = Location::parse(&table.storage.location)?;
    for (k, v) in table.partition_keys.iter().zip(values) {
        dir = dir.child(&path::component(&k.name, v.as_deref()));
    }
    Ok(dir)
}

/// A new partition of `table` at `location`, stored as the table is.
pub fn new_partition(table: &Table, values: Vec<Option<String>>, location: &Location) -> Partition {
    let mut storage = table.storage.clone();
    storage.location = location.text.clone();
    Partition { values, storage, create_time: now(), properties: BTreeMap::new() }
}

fn not_partitioned(table: &Table) -> HiveError {
    semantic(format!("Table {} is not a partitioned table", table.qualified_name()))
}

/// Remove the empty local directories above a partition directory that
/// lies at its default place, up to (not including) the table's.
fn remove_empty_parents(table: &Table, dir: &Location) {
    let (Some(dir), Ok(root)) = (dir.local_path(), Location::parse(&table.storage.location)) else { return };
    let Some(root) = root.local_path() else { return };
    let mut parent = dir.parent();
    while let Some(p) = parent {
        if !p.starts_with(&root) || p == root {
            break;
        }
        // remove_dir refuses a directory that is not empty: that ends the walk.
        if std::fs::remove_dir(p).is_err() {
            break;
        }
        parent = p.parent();
    }
}

impl Session {
    /// The partitions (by values) that every comparison of `preds` selects.
    fn matching_partitions(&self, table: &Table, preds: &[SpecPredicate]) -> Result<Vec<Vec<Option<String>>>> {
        let (filter, matcher) = spec::spec_filter(table, preds)?;
        let mut values = self.metastore.list_partition_values(&table.database, &table.name, &filter)?;
        values.retain(|v| matcher.matches(v));
        Ok(values)
    }

    /// Delete a partition's data (managed tables only), and the parent
    /// directories this leaves empty up to the table's, as Hive does.
    async fn delete_partition_data(&self, table: &Table, p: &Partition) -> Result<()> {
        if table.table_type != TableType::Managed {
            return Ok(());
        }
        let loc = Location::parse(&p.storage.location)?;
        let store = loc.store(self.ctx.runtime_env().as_ref())?;
        writer::delete_data(store.as_ref(), &loc).await?;
        remove_empty_parents(table, &loc);
        Ok(())
    }

    /// `ALTER TABLE` forms that act on partitions.
    pub(crate) async fn alter_partitions(&mut self, table: Table, op: AlterTable) -> Result<StatementOutput> {
        if table.partition_keys.is_empty() {
            return Err(not_partitioned(&table));
        }
        match op {
            AlterTable::AddPartitions { if_not_exists, partitions } => {
                self.add_partitions(&table, if_not_exists, partitions).await
            }
            AlterTable::DropPartitions { if_exists, specs } => self.drop_partitions(&table, if_exists, &specs).await,
            AlterTable::RenamePartition { from, to } => self.rename_partition(&table, &from, &to).await,
            AlterTable::AlterPartition { spec, op } => self.alter_partition_storage(&table, &spec, *op),
            other => Err(HiveError::Internal(format!("not a partition operation: {other:?}"))),
        }
    }

    async fn add_partitions(
        &mut self,
        table: &Table,
        if_not_exists: bool,
        partitions: Vec<(PartitionSpec, Option<String>)>,
    ) -> Result<StatementOutput> {
        let mut parts = Vec::with_capacity(partitions.len());
        let mut seen = HashSet::new();
        for (spec_items, location) in &partitions {
            let values = spec::full_values(table, spec_items)?;
            if !seen.insert(values.clone()) {
                return Err(semantic(format!(
                    "partition {} is given twice in one ADD PARTITION",
                    partition_name(table, &values)
                )));
            }
            let location = match location {
                Some(l) => Location::parse(l)?,
                None => default_location(table, &values)?,
            };
            parts.push(new_partition(table, values, &location));
        }
        self.metastore.add_partitions(&table.database, &table.name, &parts, if_not_exists).map_err(|e| match e {
            hiveql_metastore::MetastoreError::AlreadyExists { .. } => semantic(format!(
                "Partition already exists in {} (use ADD IF NOT EXISTS to skip existing partitions): {e}",
                table.qualified_name()
            )),
            other => other.into(),
        })?;
        for p in &parts {
            Location::parse(&p.storage.location)?.make_local_dir()?;
        }
        Ok(StatementOutput::Done(None))
    }

    async fn drop_partitions(
        &mut self,
        table: &Table,
        if_exists: bool,
        specs: &[Vec<SpecPredicate>],
    ) -> Result<StatementOutput> {
        let mut values = Vec::new();
        for preds in specs {
            let matched = self.matching_partitions(table, preds)?;
            if matched.is_empty() && !if_exists {
                let text: Vec<String> =
                    preds.iter().map(|p| format!("{} {} '{}'", p.key, p.op.sql(), p.value)).collect();
                return Err(semantic(format!(
                    "No partition of {} matches PARTITION ({}); nothing was dropped (use DROP IF EXISTS to allow this)",
                    table.qualified_name(),
                    text.join(", ")
                )));
            }
            values.extend(matched);
        }
        values.sort();
        values.dedup();
        let dropped = self.metastore.drop_partitions(&table.database, &table.name, &values, true)?;
        for p in &dropped {
            self.delete_partition_data(table, p).await?;
        }
        let names: Vec<String> = dropped.iter().map(|p| partition_name(table, &p.values)).collect();
        Ok(StatementOutput::Done((!names.is_empty()).then(|| format!("Dropped the partition {}", names.join(", ")))))
    }

    async fn rename_partition(
        &mut self,
        table: &Table,
        from: &PartitionSpec,
        to: &PartitionSpec,
    ) -> Result<StatementOutput> {
        let old_values = spec::full_values(table, from)?;
        let new_values = spec::full_values(table, to)?;
        let old = self.metastore.get_partition(&table.database, &table.name, &old_values)?.ok_or_else(|| {
            semantic(format!(
                "Partition not found: {} of {}",
                partition_name(table, &old_values),
                table.qualified_name()
            ))
        })?;
        let mut new = old.clone();
        new.values = new_values.clone();
        // A managed partition at its default place moves with its name.
        let old_default = default_location(table, &old_values)?;
        let moved = table.table_type == TableType::Managed && Location::parse(&old.storage.location)? == old_default;
        let new_default = default_location(table, &new_values)?;
        if moved {
            new.storage.location = new_default.text.clone();
        }
        self.metastore.alter_partition(&table.database, &table.name, &old_values, &new).map_err(|e| match e {
            hiveql_metastore::MetastoreError::AlreadyExists { .. } => semantic(format!(
                "Partition already exists: {} of {}",
                partition_name(table, &new_values),
                table.qualified_name()
            )),
            other => other.into(),
        })?;
        if moved
            && let (Some(from), Some(to)) = (old_default.local_path(), new_default.local_path())
            && from.exists()
        {
            let moving = to.parent().map_or(Ok(()), std::fs::create_dir_all).and_then(|()| std::fs::rename(&from, &to));
            if moving.is_ok() {
                remove_empty_parents(table, &old_default);
            }
            if let Err(e) = moving {
                // Put the metastore back so it names where the data is.
                self.metastore.alter_partition(&table.database, &table.name, &new_values, &old)?;
                return Err(crate::error::io_err(format!("moving {} to {}", from.display(), to.display()), e));
            }
        }
        Ok(StatementOutput::Done(None))
    }

    fn alter_partition_storage(
        &mut self,
        table: &Table,
        spec_items: &PartitionSpec,
        op: AlterTable,
    ) -> Result<StatementOutput> {
        let values = spec::full_values(table, spec_items)?;
        let old = self.metastore.get_partition(&table.database, &table.name, &values)?.ok_or_else(|| {
            semantic(format!("Partition not found: {} of {}", partition_name(table, &values), table.qualified_name()))
        })?;
        let mut new = old.clone();
        let sd = &mut new.storage;
        match op {
            AlterTable::SetLocation(l) => sd.location = Location::parse(&l)?.text,
            AlterTable::SetFileFormat(f) => {
                let fresh = storage_descriptor(sd.location.clone(), None, Some(&f))?;
                sd.input_format = fresh.input_format;
                sd.output_format = fresh.output_format;
                sd.serde.serialization_lib = fresh.serde.serialization_lib;
            }
            AlterTable::SetSerdeProperties { class, properties } => {
                if let Some(c) = class {
                    sd.serde.serialization_lib = c;
                }
                sd.serde.parameters.extend(properties);
            }
            other => return Err(HiveError::Internal(format!("not a partition storage change: {other:?}"))),
        }
        TableFormat::of(&new.storage, &table.properties)
            .and_then(|f| f.validate(&crate::types::arrow_schema(&table.columns)?))
            .map_err(|e| {
                semantic(format!("partition {} of {}: {e}", partition_name(table, &values), table.qualified_name()))
            })?;
        self.metastore.alter_partition(&table.database, &table.name, &values, &new)?;
        Ok(StatementOutput::Done(None))
    }

    /// `SHOW PARTITIONS t [PARTITION (...)]`: names, sorted.
    pub(crate) fn show_partitions(&self, table: &Table, preds: &[SpecPredicate]) -> Result<StatementOutput> {
        if table.partition_keys.is_empty() {
            return Err(not_partitioned(table));
        }
        let values = if preds.is_empty() {
            self.metastore.list_partition_values(&table.database, &table.name, &PartitionFilter::All)?
        } else {
            self.matching_partitions(table, preds)?
        };
        let mut names: Vec<String> = values.iter().map(|v| partition_name(table, v)).collect();
        names.sort();
        Ok(string_rows(&["partition"], names.into_iter().map(|n| vec![Some(n)]).collect()))
    }

    /// `TRUNCATE TABLE t PARTITION (...)`: the data files of one partition.
    pub(crate) async fn truncate_partition(
        &mut self,
        table: &Table,
        spec_items: &PartitionSpec,
    ) -> Result<StatementOutput> {
        if table.partition_keys.is_empty() {
            return Err(not_partitioned(table));
        }
        // A partial spec truncates every partition it matches, as in Hive.
        let preds: Vec<SpecPredicate> = spec_items
            .iter()
            .map(|(k, v)| SpecPredicate {
                key: k.clone(),
                op: hiveql_metastore::CompareOp::Eq,
                value: v.clone().unwrap_or_default(),
            })
            .collect();
        let values = self.matching_partitions(table, &preds)?;
        if values.is_empty() {
            return Err(semantic(format!("No partition of {} matches the PARTITION clause", table.qualified_name())));
        }
        for p in self.metastore.get_partitions(&table.database, &table.name, &values)? {
            let loc = Location::parse(&p.storage.location)?;
            let store = loc.store(self.ctx.runtime_env().as_ref())?;
            writer::truncate_dir(store.as_ref(), &loc).await?;
        }
        Ok(StatementOutput::Done(None))
    }

    /// `MSCK [REPAIR] TABLE t [ADD | DROP | SYNC PARTITIONS]`.
    pub(crate) async fn msck(&mut self, table: &Table, add: bool, drop: bool) -> Result<StatementOutput> {
        if table.table_type == TableType::View {
            return Err(semantic(format!("{} is a view", table.qualified_name())));
        }
        if table.partition_keys.is_empty() {
            return Ok(StatementOutput::Done(Some(format!(
                "{} is not partitioned: nothing to repair",
                table.qualified_name()
            ))));
        }
        let validation = self.hiveconf.get(MSCK_PATH_VALIDATION).map(String::as_str).unwrap_or("skip");
        let root = Location::parse(&table.storage.location)?;
        let store = root.store(self.ctx.runtime_env().as_ref())?;
        let keys: Vec<_> = table.partition_keys.iter().map(|k| k.name.clone()).zip(spec::key_types(table)?).collect();
        let (found, invalid) = discover(store.as_ref(), &root, &keys).await?;
        if validation == "throw" && !invalid.is_empty() {
            let list: Vec<String> = invalid.iter().map(|i| format!("{} ({})", i.path, i.reason)).collect();
            return Err(semantic(format!(
                "MSCK found directories that are not partitions of {} ({MSCK_PATH_VALIDATION}=throw; nothing was changed): {}",
                table.qualified_name(),
                list.join(", ")
            )));
        }
        let existing: HashMap<Vec<Option<String>>, Partition> = self
            .metastore
            .list_partitions(&table.database, &table.name)?
            .into_iter()
            .map(|p| (p.values.clone(), p))
            .collect();
        let on_storage: HashSet<&str> = found.iter().map(|f| f.location.text.as_str()).collect();
        let mut to_add = Vec::new();
        if add {
            let mut seen = HashSet::new();
            for f in &found {
                // `h=07` and `h=7` are one partition: the first directory wins.
                if !existing.contains_key(&f.values) && seen.insert(f.values.clone()) {
                    to_add.push(new_partition(table, f.values.clone(), &f.location));
                }
            }
        }
        let mut to_drop = Vec::new();
        if drop {
            for (values, p) in &existing {
                if on_storage.contains(p.storage.location.as_str()) {
                    continue;
                }
                // Not where discovery looked (another location, or a name
                // other than the default one): ask its store.
                let loc = Location::parse(&p.storage.location)?;
                let st = loc.store(self.ctx.runtime_env().as_ref())?;
                let missing = match st.list_with_delimiter(Some(&loc.path)).await {
                    Ok(l) => {
                        l.objects.is_empty()
                            && l.common_prefixes.is_empty()
                            && !loc.local_path().is_some_and(|p| p.is_dir())
                    }
                    Err(object_store::Error::NotFound { .. }) => true,
                    Err(e) => return Err(e.into()),
                };
                if missing {
                    to_drop.push(values.clone());
                }
            }
            to_drop.sort();
        }
        self.metastore.change_partitions(&table.database, &table.name, &to_add, true, &to_drop, true)?;
        let mut lines = Vec::new();
        if validation != "ignore" {
            for i in &invalid {
                lines.push(format!("Skipped directory {}: {}", i.path, i.reason));
            }
        }
        lines.push(format!(
            "Repair: added {} partition(s) to the metastore, dropped {} from it ({} on storage)",
            to_add.len(),
            to_drop.len(),
            found.len()
        ));
        Ok(StatementOutput::Done(Some(lines.join("\n"))))
    }
}
