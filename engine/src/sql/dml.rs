//! Data manipulation: `INSERT` (into tables and directories, from queries,
//! `VALUES` and multi-insert) and `LOAD DATA`. Rows are converted to the
//! target's column types as Hive does (a value that does not convert is
//! NULL) and written with the target's SerDe ([`crate::table::writer`]).

use std::collections::BTreeMap;

use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::expr::TryCast;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, col, lit};
use datafusion::sql::sqlparser::ast::Query;
use hiveql_metastore::{Partition, Table, TableType};
use object_store::ObjectStoreExt;
use object_store::path::Path;

use super::ast::{DirectoryTarget, InsertInto, InsertTarget, RowFormat, TableRef};
use super::ddl::storage_descriptor;
use crate::error::{HiveError, Result, semantic};
use crate::location::Location;
use crate::serde::TableFormat;
use crate::session::{Session, StatementOutput};
use crate::table::listing::list_data_files;
use crate::table::provider::DEFAULT_PARTITION;
use crate::table::writer::{self, WriteResult};
use crate::types::{arrow_type, parse_column_type};

/// Hive's escaping of a partition value in a directory name.
pub fn escape_partition_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if (c as u32) < 0x20 || "\"#%'*/:=?\\\x7f{[]^".contains(c) {
            out.push_str(&format!("%{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

impl Session {
    /// Run `plan` and write its rows into `dir`.
    pub(crate) async fn write_to_location(
        &self,
        plan: LogicalPlan,
        dir: &Location,
        format: &TableFormat,
        overwrite: bool,
    ) -> Result<WriteResult> {
        format.check_writable()?;
        let state = self.state();
        let physical = state.create_physical_plan(&plan).await?;
        let store = dir.store(self.ctx.runtime_env().as_ref())?;
        writer::write_plan(self.ctx.task_ctx(), physical, store, dir, format, overwrite).await
    }

    pub(crate) async fn insert(&mut self, inserts: Vec<(InsertInto, Box<Query>)>) -> Result<StatementOutput> {
        let mut messages = Vec::new();
        for (target, query) in inserts {
            let plan = self.plan_query(*query).await?;
            let msg = match target {
                InsertInto::Table(t) => self.insert_into_table(t, plan).await?,
                InsertInto::Directory(d) => self.insert_into_directory(d, plan).await?,
            };
            messages.push(msg);
        }
        Ok(StatementOutput::Done(Some(messages.join("\n"))))
    }

    async fn insert_into_table(&mut self, target: InsertTarget, plan: LogicalPlan) -> Result<String> {
        let table = self.get_table(&target.table)?;
        if table.table_type == TableType::View {
            return Err(semantic(format!("Cannot insert into a view: {}", table.qualified_name())));
        }
        let (dir, partition) = self.partition_target(&table, &target.partition)?;
        if target.if_not_exists
            && let Some(partition) = &partition
        {
            let values = partition.values.clone();
            if self.metastore.list_partitions(&table.database, &table.name)?.iter().any(|p| p.values == values) {
                return Ok(format!("Partition exists; nothing written to {}", table.qualified_name()));
            }
        }
        let plan = conform_to_table(plan, &table, &target.columns)?;
        let format = TableFormat::of(&table.storage, &table.properties)?;
        let result = self.write_to_location(plan, &dir, &format, target.overwrite).await?;
        if let Some(p) = partition {
            self.metastore.add_partitions(&table.database, &table.name, &[p], true)?;
        }
        Ok(format!("{} rows loaded to {}", result.rows, table.qualified_name()))
    }

    /// The directory a (static) partition spec writes to, and the partition to register.
    fn partition_target(
        &self,
        table: &Table,
        spec: &[(String, Option<String>)],
    ) -> Result<(Location, Option<Partition>)> {
        let table_dir = Location::parse(&table.storage.location)?;
        if table.partition_keys.is_empty() {
            if !spec.is_empty() {
                return Err(semantic(format!(
                    "Table {} is not partitioned but a partition spec was given",
                    table.qualified_name()
                )));
            }
            return Ok((table_dir, None));
        }
        let mut values = Vec::new();
        let mut dir = table_dir;
        for key in &table.partition_keys {
            let v = spec.iter().find(|(k, _)| k == &key.name).ok_or_else(|| {
                semantic(format!(
                    "Table {} is partitioned; the PARTITION clause must name {}",
                    table.qualified_name(),
                    key.name
                ))
            })?;
            let Some(value) = v.1.clone() else {
                return Err(HiveError::Unsupported(format!(
                    "dynamic partition column {} (give a value: PARTITION ({}='...'))",
                    key.name, key.name
                )));
            };
            dir = dir.child(&format!("{}={}", key.name, escape_partition_value(&value)));
            values.push(if value == DEFAULT_PARTITION { None } else { Some(value) });
        }
        if spec.len() != table.partition_keys.len() {
            return Err(semantic(format!(
                "Partition spec {spec:?} does not match the partition columns of {}",
                table.qualified_name()
            )));
        }
        let mut sd = table.storage.clone();
        sd.location = dir.text.clone();
        let part = Partition { values, storage: sd, create_time: 0, properties: BTreeMap::new() };
        Ok((dir, Some(part)))
    }

    async fn insert_into_directory(&mut self, d: DirectoryTarget, plan: LogicalPlan) -> Result<String> {
        let dir = Location::parse(&d.path)?;
        if d.local && !dir.is_local() {
            return Err(semantic(format!("INSERT OVERWRITE LOCAL DIRECTORY needs a local path, got {}", d.path)));
        }
        let sd = storage_descriptor(dir.text.clone(), d.row_format.as_ref(), d.stored_as.as_ref())?;
        if let Some(RowFormat::Serde { class, .. }) = &d.row_format {
            TableFormat::of(&sd, &BTreeMap::new()).map_err(|e| semantic(format!("ROW FORMAT SERDE '{class}': {e}")))?;
        }
        let format = TableFormat::of(&sd, &BTreeMap::new())?;
        let names: Vec<String> = (0..plan.schema().fields().len()).map(|i| format!("_col{i}")).collect();
        let plan = super::rewrite::rename_columns(plan, &names)?;
        // The old files are replaced only once the new ones are written.
        let result = self.write_to_location(plan, &dir, &format, true).await?;
        Ok(format!("{} rows written to {}", result.rows, dir))
    }

    pub(crate) async fn load_data(
        &mut self,
        local: bool,
        path: &str,
        overwrite: bool,
        table: &TableRef,
        partition: &[(String, Option<String>)],
    ) -> Result<StatementOutput> {
        let t = self.get_table(table)?;
        if t.table_type == TableType::View {
            return Err(semantic(format!("Cannot load data into a view: {}", t.qualified_name())));
        }
        let (dir, part) = self.partition_target(&t, partition)?;
        let src = Location::parse(path)?;
        if local && !src.is_local() {
            return Err(semantic(format!("LOAD DATA LOCAL INPATH needs a local path, got '{path}'")));
        }
        let runtime = self.ctx.runtime_env();
        let src_store = src.store(runtime.as_ref())?;
        let dst_store = dir.store(runtime.as_ref())?;
        // A file, or the data files of a directory.
        let files = match src_store.head(&src.path).await {
            Ok(meta) => vec![meta],
            Err(object_store::Error::NotFound { .. }) => list_data_files(src_store.as_ref(), &src).await?,
            Err(e) => return Err(e.into()),
        };
        if files.is_empty() {
            return Err(semantic(format!("Invalid path '{path}': No files matching path")));
        }
        if overwrite {
            writer::truncate_dir(dst_store.as_ref(), &dir).await?;
        }
        if let Some(p) = dir.local_path() {
            std::fs::create_dir_all(&p).map_err(|e| crate::error::io_err(format!("creating {}", p.display()), e))?;
        }
        let mut taken: std::collections::HashSet<String> = list_data_files(dst_store.as_ref(), &dir)
            .await?
            .into_iter()
            .filter_map(|f| f.location.filename().map(str::to_string))
            .collect();
        // Copy (LOCAL) or move each file into a hidden staging name in the
        // table directory, then publish it under a free name.
        let mut bytes = 0u64;
        let staging = dir.child(&format!(".hive-staging_load_{}", std::process::id()));
        for (i, f) in files.iter().enumerate() {
            let name = f.location.filename().unwrap_or("data").to_string();
            let staged: Path = staging.path.clone().join(format!("{i}"));
            if src.store_url == dir.store_url {
                if local {
                    src_store.copy(&f.location, &staged).await?;
                } else {
                    src_store.rename(&f.location, &staged).await?;
                }
            } else {
                let data = src_store.get(&f.location).await?.bytes().await?;
                dst_store.put(&staged, data.into()).await?;
                if !local {
                    src_store.delete(&f.location).await?;
                }
            }
            writer::publish_file(dst_store.as_ref(), &staged, &dir, &name, &mut taken).await?;
            bytes += f.size;
        }
        writer::remove_dir(dst_store.as_ref(), &staging).await;
        if let Some(p) = part {
            self.metastore.add_partitions(&t.database, &t.name, &[p], true)?;
        }
        Ok(StatementOutput::Done(Some(format!(
            "Loading data to table {}: {} file(s), {} bytes",
            t.qualified_name(),
            files.len(),
            bytes
        ))))
    }
}

/// Shape a query's rows to a table's columns: by position (or by the given
/// column list, others NULL), converted to the column types.
fn conform_to_table(plan: LogicalPlan, table: &Table, columns: &[String]) -> Result<LogicalPlan> {
    let input: Vec<_> = plan.schema().columns();
    let targets: Vec<String> =
        if columns.is_empty() { table.columns.iter().map(|c| c.name.clone()).collect() } else { columns.to_vec() };
    if targets.len() != input.len() {
        return Err(semantic(format!(
            "Cannot insert into target table {} because column number/types are different: table needs {} columns, the query has {}",
            table.qualified_name(),
            targets.len(),
            input.len()
        )));
    }
    for t in &targets {
        if !table.columns.iter().any(|c| &c.name == t) {
            return Err(semantic(format!(
                "Invalid column reference {t} in the insert column list of {}",
                table.qualified_name()
            )));
        }
    }
    let mut exprs = Vec::new();
    for c in &table.columns {
        let ty: DataType = arrow_type(&parse_column_type(c)?);
        let e = match targets.iter().position(|t| t == &c.name) {
            Some(i) => {
                let from = plan.schema().field(i).data_type();
                if from == &ty {
                    col(input[i].clone())
                } else {
                    Expr::TryCast(TryCast::new(Box::new(col(input[i].clone())), ty))
                }
            }
            None => Expr::TryCast(TryCast::new(Box::new(lit(datafusion::common::ScalarValue::Null)), ty)),
        };
        exprs.push(e.alias(&c.name));
    }
    Ok(LogicalPlanBuilder::from(plan).project(exprs)?.build()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_partition_values_like_hive() {
        assert_eq!(escape_partition_value("2024-01-01"), "2024-01-01");
        assert_eq!(escape_partition_value("a/b:c"), "a%2Fb%3Ac");
        assert_eq!(escape_partition_value("x=y"), "x%3Dy");
    }
}
