//! Data manipulation: `INSERT` (into tables and directories, from queries,
//! `VALUES` and multi-insert) and `LOAD DATA`. Rows are converted to the
//! target's column types as Hive does (a value that does not convert is
//! NULL) and written with the target's SerDe ([`crate::table::writer`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::expr::TryCast;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, col, lit};
use datafusion::sql::sqlparser::ast::Query;
use hiveql_metastore::{Partition, Table, TableType};
use object_store::ObjectStoreExt;
use object_store::path::Path;

use super::ast::{DirectoryTarget, InsertInto, InsertTarget, RowFormat, TableRef};
use super::ddl::storage_descriptor;
use crate::bucket::{BucketNumber, BucketSpec};
use crate::error::{Result, semantic};
use crate::location::Location;
use crate::partition::spec::KeySpec;
use crate::serde::TableFormat;
use crate::session::{Session, StatementOutput};
use crate::table::listing::list_data_files;
use crate::table::writer::{self, Destination, PartitionValues, SplitWrite, WriteResult, WriteTasks};
use crate::types::{arrow_type, parse_column_type};

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
        let state = self.write_state();
        let physical = state.create_physical_plan(&plan).await?;
        let store = dir.store(self.ctx.runtime_env().as_ref())?;
        let tasks = self.write_tasks(state, &physical);
        writer::write_plan(tasks, physical, store, dir, format, overwrite).await
    }

    /// The state to plan a write with: on a cluster, planned for it.
    fn write_state(&self) -> datafusion::execution::SessionState {
        let state = self.state();
        match crate::dist::client::cluster_of(&state) {
            Some(_) => crate::dist::client::planning_state(&state),
            None => state,
        }
    }

    /// Where the writer tasks of `physical` (planned with `state`) run: on
    /// a cluster, the tasks of the query's last stage write the files.
    fn write_tasks(
        &self,
        state: datafusion::execution::SessionState,
        physical: &Arc<dyn datafusion::physical_plan::ExecutionPlan>,
    ) -> WriteTasks {
        match crate::dist::client::cluster_of(&state) {
            Some(cluster) if crate::dist::client::reads_files(physical) => {
                let addr = cluster.clone();
                let run: writer::RunPlan = Box::new(move |plan| {
                    Box::pin(async move { Ok(crate::dist::client::execute(&addr, &state, plan).await?) })
                });
                WriteTasks::Remote { cluster, run }
            }
            _ => WriteTasks::Local(self.ctx.task_ctx()),
        }
    }

    pub(crate) async fn insert(&mut self, inserts: Vec<(InsertInto, Box<Query>)>) -> Result<StatementOutput> {
        let mut messages = Vec::new();
        let mut rows = 0;
        for (target, query) in inserts {
            let plan = self.plan_query(*query).await?;
            let (n, msg) = match target {
                InsertInto::Table(t) => self.insert_into_table(t, plan).await?,
                InsertInto::Directory(d) => self.insert_into_directory(d, plan).await?,
            };
            rows += n;
            messages.push(msg);
        }
        Ok(StatementOutput::Written { rows, message: messages.join("\n") })
    }

    async fn insert_into_table(&mut self, target: InsertTarget, plan: LogicalPlan) -> Result<(u64, String)> {
        let table = self.get_table(&target.table)?;
        if table.table_type == TableType::View {
            return Err(semantic(format!("Cannot insert into a view: {}", table.qualified_name())));
        }
        let bucketed = BucketSpec::of(&table)?.is_some();
        if !table.partition_keys.is_empty() {
            let spec = self.insert_spec(&table, &target.partition)?;
            if spec.iter().any(Option::is_none) {
                return self.insert_dynamic(&table, &target, &spec, plan).await;
            }
            if bucketed {
                return self.write_dynamic(&table, &target, &spec, plan).await;
            }
        } else if bucketed {
            if !target.partition.is_empty() {
                return Err(semantic(format!(
                    "Table {} is not partitioned but a partition spec was given",
                    table.qualified_name()
                )));
            }
            return self.write_dynamic(&table, &target, &[], plan).await;
        }
        let (dir, partition) = self.partition_target(&table, &target.partition)?;
        if let Some(existing) = &partition
            && let Some(p) = self.metastore.get_partition(&table.database, &table.name, &existing.values)?
        {
            if target.if_not_exists {
                return Ok((0, format!("Partition exists; nothing written to {}", table.qualified_name())));
            }
            // Into the partition where it is (it may have a location of its
            // own); an overwrite writes a new directory and swaps it in.
            let dir = Location::parse(&p.storage.location)?;
            let format = TableFormat::of(&p.storage, &table.properties)?;
            let plan = conform_to_table(plan, &table, &target.columns, &[])?;
            if !target.overwrite {
                let result = self.write_to_location(plan, &dir, &format, false).await?;
                return Ok(loaded(result.rows, &table, &result.written_by()));
            }
            let store = dir.store(self.ctx.runtime_env().as_ref())?;
            let fresh = crate::partition::swap::overwrite_target(store.as_ref(), &dir).await?;
            fresh.make_local_dir()?;
            let result = match self.write_to_location(plan, &fresh, &format, true).await {
                Ok(r) => r,
                Err(e) => {
                    writer::remove_dir(store.as_ref(), &fresh).await;
                    return Err(e);
                }
            };
            let mut moved = p.clone();
            moved.storage.location = fresh.text.clone();
            self.swap_partitions(&table, store.as_ref(), vec![moved], &[(p, fresh)]).await?;
            return Ok(loaded(result.rows, &table, &result.written_by()));
        }
        let plan = conform_to_table(plan, &table, &target.columns, &[])?;
        let format = TableFormat::of(&table.storage, &table.properties)?;
        dir.make_local_dir()?;
        let result = self.write_to_location(plan, &dir, &format, target.overwrite).await?;
        if let Some(p) = partition {
            self.metastore.add_partitions(&table.database, &table.name, &[p], true)?;
        }
        Ok(loaded(result.rows, &table, &result.written_by()))
    }

    /// The partition spec of an insert, one entry per partition key in order:
    /// the static value, or `None` for a dynamic key. A table's keys may all
    /// be left out (all dynamic), as Hive 4 allows.
    fn insert_spec(&self, table: &Table, spec: &[(String, Option<String>)]) -> Result<Vec<Option<Option<String>>>> {
        if spec.is_empty() {
            return Ok(vec![None; table.partition_keys.len()]);
        }
        let spec: Vec<Option<Option<String>>> = crate::partition::spec::resolve(table, spec)?
            .into_iter()
            .enumerate()
            .map(|(i, k)| match k {
                KeySpec::Value(v) => Ok(Some(v)),
                KeySpec::Dynamic => Ok(None),
                KeySpec::Missing => Err(crate::partition::spec::incomplete(table, i)),
            })
            .collect::<Result<_>>()?;
        if let Some(first_dynamic) = spec.iter().position(Option::is_none)
            && let Some(j) = spec[first_dynamic..].iter().position(Option::is_some)
        {
            return Err(semantic(format!(
                "Dynamic partition cannot be the parent of a static partition '{}'",
                table.partition_keys[first_dynamic + j].name
            )));
        }
        Ok(spec)
    }

    /// A Hive boolean/number setting, or its default; a clear error for a bad value.
    fn conf_or<T: std::str::FromStr>(&self, key: &str, default: T) -> Result<T> {
        match self.hiveconf.get(key) {
            None => Ok(default),
            Some(v) => v.trim().parse().map_err(|_| semantic(format!("invalid value '{v}' for {key}"))),
        }
    }

    /// `INSERT ... PARTITION (k1='v', k2)`: rows go to the partitions their
    /// last columns (the dynamic keys, in order) name.
    async fn insert_dynamic(
        &mut self,
        table: &Table,
        target: &InsertTarget,
        spec: &[Option<Option<String>>],
        plan: LogicalPlan,
    ) -> Result<(u64, String)> {
        if !self.conf_or("hive.exec.dynamic.partition", true)? {
            return Err(semantic(
                "Dynamic partition is disabled. Either enable it by setting hive.exec.dynamic.partition=true or specify partition column values",
            ));
        }
        let mode = self.hiveconf.get("hive.exec.dynamic.partition.mode").map(|m| m.trim().to_ascii_lowercase());
        match mode.as_deref() {
            None | Some("strict") => {
                if spec.iter().all(Option::is_none) {
                    return Err(semantic(format!(
                        "Dynamic partition strict mode requires at least one static partition column ({} has none). To turn this off set hive.exec.dynamic.partition.mode=nonstrict",
                        table.qualified_name()
                    )));
                }
            }
            Some("nonstrict") => {}
            Some(other) => {
                return Err(semantic(format!(
                    "invalid value '{other}' for hive.exec.dynamic.partition.mode (strict or nonstrict)"
                )));
            }
        }
        self.write_dynamic(table, target, spec, plan).await
    }

    /// The write of a dynamic-partition insert, once its settings allow it.
    pub(crate) async fn write_dynamic(
        &mut self,
        table: &Table,
        target: &InsertTarget,
        spec: &[Option<Option<String>>],
        plan: LogicalPlan,
    ) -> Result<(u64, String)> {
        let dynamic: Vec<usize> = (0..spec.len()).filter(|i| spec[*i].is_none()).collect();
        let mut plan = conform_to_table(plan, table, &target.columns, &dynamic)?;
        let data_columns = plan.schema().fields().len() - dynamic.len();
        let bucketing = BucketSpec::of(table)?;
        if let Some(b) = &bucketing {
            plan = bucketed(plan, table, b)?;
        }
        let split = SplitWrite {
            data_columns,
            bucketed: bucketing.is_some(),
            per_task: self.conf_or("hive.exec.max.dynamic.partitions.pernode", 100usize)?,
            total: self.conf_or("hive.exec.max.dynamic.partitions", 1000usize)?,
        };
        let format = TableFormat::of(&table.storage, &table.properties)?;
        let state = self.write_state();
        let mut physical = state.create_physical_plan(&plan).await?;
        if bucketing.is_some() && table.storage.sort_columns.is_empty() {
            // Each bucket to one writer task, so one file per bucket. Done on
            // the optimized plan: DataFusion drops a logical repartition
            // that nothing above it requires.
            use datafusion::physical_plan::{Partitioning, expressions::Column, repartition::RepartitionExec};
            let bucket = Arc::new(Column::new(
                BUCKET_COLUMN,
                physical.schema().index_of(BUCKET_COLUMN).map_err(datafusion::error::DataFusionError::from)?,
            ));
            let tasks = state.config().target_partitions().max(1);
            physical = Arc::new(RepartitionExec::try_new(physical, Partitioning::Hash(vec![bucket], tasks))?);
        }
        let table_dir = Location::parse(&table.storage.location)?;
        let store = table_dir.store(self.ctx.runtime_env().as_ref())?;
        table_dir.make_local_dir()?;
        let full_values = |dynamic_values: &PartitionValues| -> Vec<Option<String>> {
            let mut d = dynamic_values.iter();
            spec.iter()
                .map(|s| match s {
                    Some(v) => v.clone(),
                    None => d.next().cloned().flatten(),
                })
                .collect()
        };
        // Partitions that exist keep their location; new ones get Hive's.
        let existing: std::collections::HashMap<Vec<Option<String>>, Partition> = self
            .metastore
            .list_partitions(&table.database, &table.name)?
            .into_iter()
            .map(|p| (p.values.clone(), p))
            .collect();
        // An existing partition that is overwritten is replaced by a new
        // directory, swapped in below; other rows go where they belong.
        let overwrite = target.overwrite;
        let destination = |dynamic_values: &PartitionValues| -> Result<Destination> {
            let values = full_values(dynamic_values);
            match existing.get(&values) {
                Some(p) if overwrite => Ok(Destination::Replace(Location::parse(&p.storage.location)?)),
                Some(p) => Ok(Destination::Into(Location::parse(&p.storage.location)?)),
                None => {
                    let dir = super::partitions::default_location(table, &values)?;
                    dir.make_local_dir()?;
                    Ok(Destination::Into(dir))
                }
            }
        };
        let tasks = self.write_tasks(state, &physical);
        let written = writer::write_dynamic_partitions(
            tasks,
            physical,
            store.clone(),
            &table_dir,
            &format,
            split,
            destination,
            target.overwrite,
        )
        .await?;
        let mut rows = 0;
        let mut add = Vec::new();
        let mut replaced = Vec::new();
        for (dynamic_values, w) in &written {
            rows += w.rows;
            let values = full_values(dynamic_values);
            match (existing.get(&values), &w.replacement) {
                (Some(old), Some(fresh)) => {
                    let mut moved = old.clone();
                    moved.storage.location = fresh.text.clone();
                    replaced.push((old.clone(), fresh.clone()));
                    add.push(moved);
                }
                (Some(_), None) => {}
                (None, _) => {
                    let dir = super::partitions::default_location(table, &values)?;
                    add.push(super::partitions::new_partition(table, values, &dir));
                }
            }
        }
        let by = written.first().map(|(_, w)| w.written_by()).unwrap_or_default();
        if table.partition_keys.is_empty() {
            return Ok(loaded(rows, table, &by));
        }
        self.swap_partitions(table, store.as_ref(), add, &replaced).await?;
        Ok((rows, format!("{rows} rows loaded to {} ({} partitions){by}", table.qualified_name(), written.len())))
    }

    /// Register `add` (new partitions, and replaced ones at their new
    /// locations) in one metastore transaction, then delete the replaced
    /// partitions' old directories. If the metastore refuses, the new
    /// directories are removed and every old partition stays.
    async fn swap_partitions(
        &self,
        table: &Table,
        store: &dyn object_store::ObjectStore,
        add: Vec<Partition>,
        replaced: &[(Partition, Location)],
    ) -> Result<()> {
        let drop: Vec<Vec<Option<String>>> = replaced.iter().map(|(old, _)| old.values.clone()).collect();
        if let Err(e) = self.metastore.change_partitions(&table.database, &table.name, &add, true, &drop, false) {
            for (_, fresh) in replaced {
                writer::remove_dir(store, fresh).await;
            }
            return Err(e.into());
        }
        for (old, _) in replaced {
            crate::partition::swap::retire(store, &Location::parse(&old.storage.location)?).await;
        }
        Ok(())
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
        let values = crate::partition::spec::full_values(table, spec)?;
        let dir = super::partitions::default_location(table, &values)?;
        let part = super::partitions::new_partition(table, values, &dir);
        Ok((dir, Some(part)))
    }

    async fn insert_into_directory(&mut self, d: DirectoryTarget, plan: LogicalPlan) -> Result<(u64, String)> {
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
        Ok((result.rows, format!("{} rows written to {}{}", result.rows, dir, result.written_by())))
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
        let (mut dir, part) = self.partition_target(&t, partition)?;
        if let Some(p) = &part
            && let Some(existing) = self.metastore.get_partition(&t.database, &t.name, &p.values)?
        {
            dir = Location::parse(&existing.storage.location)?;
        }
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
        dir.make_local_dir()?;
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

/// `plan` with each row's bucket number as a last column, sorted by
/// bucket and sort columns for `SORTED BY` tables (one writer, every bucket
/// file sorted). Unsorted tables' rows are repartitioned by bucket on the
/// physical plan (see `write_dynamic`).
fn bucketed(plan: LogicalPlan, table: &Table, b: &BucketSpec) -> Result<LogicalPlan> {
    use datafusion::logical_expr::expr::ScalarFunction;
    let args = b
        .columns
        .iter()
        .map(|c| {
            let Some(column) = table.columns.iter().find(|t| &t.name == c) else {
                return Err(semantic(format!("bucket column {c} is not a column of {}", table.qualified_name())));
            };
            Ok(crate::bucket::hashed_column(col(c.as_str()), &crate::types::parse_column_type(column)?))
        })
        .collect::<Result<Vec<_>>>()?;
    let bucket = Expr::ScalarFunction(ScalarFunction::new_udf(BucketNumber::udf(b.version, b.buckets), args));
    let mut exprs: Vec<Expr> = plan.schema().columns().into_iter().map(col).collect();
    exprs.push(bucket.alias(BUCKET_COLUMN));
    let builder = LogicalPlanBuilder::from(plan).project(exprs)?;
    let sort = &table.storage.sort_columns;
    let builder = if sort.is_empty() {
        builder
    } else {
        let mut keys = vec![col(BUCKET_COLUMN).sort(true, true)];
        keys.extend(sort.iter().map(|s| col(s.name.as_str()).sort(s.ascending, s.ascending)));
        builder.sort(keys)?
    };
    Ok(builder.build()?)
}

/// The name of the bucket number column of a bucketed write.
const BUCKET_COLUMN: &str = "__hive_bucket";

/// Shape a query's rows to a table's columns: by position (or by the given
/// column list, others NULL), converted to the column types; then the
/// partition keys at `dynamic` (positions in the table's keys), taken from
/// the query's last columns in order.
fn conform_to_table(plan: LogicalPlan, table: &Table, columns: &[String], dynamic: &[usize]) -> Result<LogicalPlan> {
    let input: Vec<_> = plan.schema().columns();
    let targets: Vec<String> =
        if columns.is_empty() { table.columns.iter().map(|c| c.name.clone()).collect() } else { columns.to_vec() };
    if targets.len() + dynamic.len() != input.len() {
        let keys: Vec<&str> = dynamic.iter().map(|i| table.partition_keys[*i].name.as_str()).collect();
        return Err(semantic(format!(
            "Cannot insert into target table {} because column number/types are different: table needs {} columns{}, the query has {}",
            table.qualified_name(),
            targets.len() + dynamic.len(),
            if keys.is_empty() {
                String::new()
            } else {
                format!(" (the last for the dynamic partition columns {})", keys.join(", "))
            },
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
    let converted = |i: usize, ty: DataType| {
        let from = plan.schema().field(i).data_type();
        if from == &ty {
            col(input[i].clone())
        } else {
            Expr::TryCast(TryCast::new(Box::new(col(input[i].clone())), ty))
        }
    };
    let mut exprs = Vec::new();
    for c in &table.columns {
        let hive = parse_column_type(c)?;
        let ty: DataType = arrow_type(&hive);
        let limit = crate::types::TextLimit::parse(&hive.to_string());
        let e = match targets.iter().position(|t| t == &c.name) {
            // CHAR(n)/VARCHAR(n) values are cut to length, as Hive stores them
            Some(i) if let Some(limit) = limit => crate::functions::cast::to_char(col(input[i].clone()), limit),
            Some(i) => converted(i, ty),
            None => Expr::TryCast(TryCast::new(Box::new(lit(datafusion::common::ScalarValue::Null)), ty)),
        };
        exprs.push(e.alias(&c.name));
    }
    for (j, k) in dynamic.iter().enumerate() {
        let key = &table.partition_keys[*k];
        let ty: DataType = arrow_type(&parse_column_type(key)?);
        exprs.push(converted(targets.len() + j, ty).alias(&key.name));
    }
    Ok(LogicalPlanBuilder::from(plan).project(exprs)?.build()?)
}

/// What an insert into `table` says: how many rows, and who wrote them.
fn loaded(rows: u64, table: &Table, by: &str) -> (u64, String) {
    (rows, format!("{rows} rows loaded to {}{by}", table.qualified_name()))
}
