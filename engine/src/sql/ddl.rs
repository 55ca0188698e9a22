//! Data definition: databases, tables, views and their changes. DDL
//! changes the metastore only, except where Hive also touches data: a
//! managed table's directory is created with it and deleted with it, and
//! renaming a managed table moves its directory.

use std::collections::BTreeMap;

use datafusion::sql::sqlparser::ast::Query;
use hiveql_metastore::model::classes;
use hiveql_metastore::{
    Column, Database, MetastoreError, Partition, SerdeInfo, SortColumn, StorageDescriptor, Table, TableType,
};

use super::ast::{AlterTable, CreateTable, CreateView, RowFormat, StoredAs, TableRef};
use crate::error::{HiveError, Result, semantic};
use crate::location::Location;
use crate::serde::TableFormat;
use crate::session::{Session, StatementOutput};
use crate::table::writer;
use crate::types::field_hive_type;

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn owner() -> Option<String> {
    std::env::var("USER").ok().or_else(|| Some("hive".into()))
}

/// The storage descriptor a `ROW FORMAT` / `STORED AS` pair describes.
pub fn storage_descriptor(
    location: String,
    row_format: Option<&RowFormat>,
    stored_as: Option<&StoredAs>,
) -> Result<StorageDescriptor> {
    let mut sd = match stored_as {
        None => StorageDescriptor::text(location),
        Some(StoredAs::Format(f)) => match f.as_str() {
            "TEXTFILE" => StorageDescriptor::text(location),
            "PARQUET" | "PARQUETFILE" => StorageDescriptor::parquet(location),
            "JSONFILE" => StorageDescriptor::json(location),
            other => {
                return Err(HiveError::Unsupported(format!(
                    "STORED AS {other} (supported: TEXTFILE, JSONFILE, PARQUET)"
                )));
            }
        },
        Some(StoredAs::InputOutput { input, output }) => {
            let mut sd = if input.contains("Parquet") {
                StorageDescriptor::parquet(location)
            } else {
                StorageDescriptor::text(location)
            };
            sd.input_format = input.clone();
            sd.output_format = output.clone();
            sd
        }
    };
    match row_format {
        None => {}
        Some(RowFormat::Serde { class, properties }) => {
            sd.serde = SerdeInfo { serialization_lib: class.clone(), parameters: properties.clone() };
        }
        Some(RowFormat::Delimited(d)) => {
            let p = &mut sd.serde.parameters;
            if let Some(f) = &d.fields {
                p.insert("field.delim".into(), f.clone());
                p.insert("serialization.format".into(), f.clone());
            }
            if let Some(e) = &d.escaped {
                p.insert("escape.delim".into(), e.clone());
            }
            if let Some(c) = &d.collection_items {
                p.insert("collection.delim".into(), c.clone());
            }
            if let Some(m) = &d.map_keys {
                p.insert("mapkey.delim".into(), m.clone());
            }
            if let Some(l) = &d.lines {
                p.insert("line.delim".into(), l.clone());
            }
            if let Some(n) = &d.null_defined_as {
                p.insert("serialization.null.format".into(), n.clone());
            }
        }
    }
    if sd.serde.serialization_lib.is_empty() {
        sd.serde.serialization_lib = classes::LAZY_SIMPLE_SERDE.into();
    }
    Ok(sd)
}

impl Session {
    /// The location of a managed table `db.name` by Hive's rules.
    pub(crate) fn default_table_location(&self, db: &str, name: &str) -> Result<Location> {
        let d = self.metastore.get_database(db)?.ok_or_else(|| semantic(format!("Database does not exist: {db}")))?;
        Ok(Location::parse(&d.location)?.child(name))
    }

    /// A table from the metastore; a clear error when it does not exist.
    pub(crate) fn get_table(&self, t: &TableRef) -> Result<Table> {
        let (db, name) = self.qualify(t);
        self.metastore
            .get_table(&db, &name)?
            .ok_or_else(|| HiveError::TableNotFound { db: db.clone(), table: name.clone() })
    }

    pub(crate) async fn create_database(
        &mut self,
        name: String,
        if_not_exists: bool,
        comment: Option<String>,
        location: Option<String>,
        properties: BTreeMap<String, String>,
    ) -> Result<StatementOutput> {
        if self.metastore.get_database(&name)?.is_some() {
            return if if_not_exists {
                Ok(StatementOutput::Done(None))
            } else {
                Err(semantic(format!("Database {name} already exists")))
            };
        }
        let loc = match location {
            Some(l) => Location::parse(&l)?,
            None => self.warehouse()?.child(&format!("{name}.db")),
        };
        let db = Database { name: name.clone(), location: loc.text.clone(), comment, owner: owner(), properties };
        match self.metastore.create_database(&db) {
            Ok(()) => {}
            Err(MetastoreError::AlreadyExists { .. }) if if_not_exists => return Ok(StatementOutput::Done(None)),
            Err(e) => return Err(e.into()),
        }
        loc.make_local_dir()?;
        Ok(StatementOutput::Done(None))
    }

    pub(crate) async fn drop_database(
        &mut self,
        name: &str,
        if_exists: bool,
        cascade: bool,
    ) -> Result<StatementOutput> {
        if name == "default" {
            return Err(semantic("Can not drop default database"));
        }
        let Some(db) = self.metastore.get_database(name)? else {
            return if if_exists {
                Ok(StatementOutput::Done(None))
            } else {
                Err(semantic(format!("Database does not exist: {name}")))
            };
        };
        // Partitions must be read before the metastore forgets them.
        let mut partitions = std::collections::HashMap::new();
        if cascade {
            for t in self.metastore.list_tables(name)? {
                partitions.insert(t.clone(), self.metastore.list_partitions(name, &t)?);
            }
        }
        let dropped = self.metastore.drop_database(name, cascade).map_err(|e| match e {
            MetastoreError::DatabaseNotEmpty(d) => {
                semantic(format!("Database {d} is not empty. One or more tables exist."))
            }
            other => other.into(),
        })?;
        for t in dropped.iter().filter(|t| t.table_type == TableType::Managed) {
            self.delete_table_data(t, partitions.get(&t.name).map(Vec::as_slice).unwrap_or_default()).await?;
        }
        let loc = Location::parse(&db.location)?;
        if let Some(p) = loc.local_path() {
            // Hive removes the database directory; keep anything that is not
            // ours (remove_dir refuses a directory that is not empty).
            if let Err(e) = std::fs::remove_dir(&p) {
                tracing::debug!(dir = %p.display(), error = %e, "database directory kept");
            }
        }
        if self.current_db == name {
            self.current_db = "default".into();
            self.ctx.state_ref().write().config_mut().options_mut().catalog.default_schema = "default".into();
        }
        Ok(StatementOutput::Done(None))
    }

    /// Delete a dropped managed table's data: its directory and those of its
    /// partitions (which may lie elsewhere).
    async fn delete_table_data(&self, t: &Table, partitions: &[Partition]) -> Result<()> {
        let loc = Location::parse(&t.storage.location)?;
        let store = loc.store(self.ctx.runtime_env().as_ref())?;
        writer::delete_data(store.as_ref(), &loc).await?;
        for p in partitions {
            writer::delete_data(store.as_ref(), &Location::parse(&p.storage.location)?).await?;
        }
        Ok(())
    }

    pub(crate) async fn create_table(&mut self, ct: CreateTable) -> Result<StatementOutput> {
        let name = ct.name.clone().expect("parser sets the name");
        let (db, tname) = self.qualify(&name);
        if self.metastore.get_database(&db)?.is_none() {
            return Err(semantic(format!("Database does not exist: {db}")));
        }
        if self.metastore.get_table(&db, &tname)?.is_some() {
            return if ct.if_not_exists {
                Ok(StatementOutput::Done(None))
            } else {
                Err(semantic(format!("Table already exists: {db}.{tname}")))
            };
        }
        if ct.temporary {
            return Err(HiveError::Unsupported(
                "CREATE TEMPORARY TABLE; create a regular table and drop it after use".into(),
            ));
        }
        let location = match &ct.location {
            Some(l) => Location::parse(l)?,
            None => self.default_table_location(&db, &tname)?,
        };
        let mut table = if let Some(like) = &ct.like {
            let src = self.get_table(like)?;
            if src.table_type == TableType::View {
                return Err(semantic(format!("CREATE TABLE LIKE a view ({}) is not supported", src.qualified_name())));
            }
            let mut storage = src.storage.clone();
            storage.location = location.text.clone();
            let properties = src
                .properties
                .iter()
                .filter(|(k, _)| k.as_str() != "comment" && k.as_str() != "EXTERNAL")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Table {
                columns: src.columns.clone(),
                partition_keys: src.partition_keys.clone(),
                storage,
                properties,
                ..new_table(&db, &tname)
            }
        } else {
            let mut t = new_table(&db, &tname);
            t.columns = ct.columns.clone();
            t.partition_keys = ct.partition_columns.clone();
            t.storage = storage_descriptor(location.text.clone(), ct.row_format.as_ref(), ct.stored_as.as_ref())?;
            t
        };
        table.table_type = if ct.external { TableType::External } else { TableType::Managed };
        if ct.external {
            table.properties.insert("EXTERNAL".into(), "TRUE".into());
        }
        table.properties.extend(ct.properties.clone());
        if let Some(c) = &ct.comment {
            table.properties.insert("comment".into(), c.clone());
        }
        if let Some(b) = &ct.bucketing {
            for c in b.columns.iter().chain(b.sorted_by.iter().map(|(c, _)| c)) {
                if !table.columns.iter().any(|col| &col.name == c) {
                    return Err(semantic(format!("Invalid column reference {c} in CLUSTERED BY / SORTED BY")));
                }
            }
            table.storage.bucket_columns = b.columns.clone();
            table.storage.num_buckets = b.buckets;
            // New bucketed tables hash as Hive 3 and later do, and say so as Hive does.
            table.properties.entry("bucketing_version".into()).or_insert_with(|| "2".into());
            crate::bucket::BucketingVersion::of(&table.properties)?;
            table.storage.sort_columns =
                b.sorted_by.iter().map(|(n, asc)| SortColumn { name: n.clone(), ascending: *asc }).collect();
        }
        for p in &table.partition_keys {
            if table.columns.iter().any(|c| c.name == p.name) {
                return Err(semantic(format!("Column repeated in partitioning columns: {}", p.name)));
            }
        }
        crate::partition::projection::Projection::of(&table)?;
        let format = TableFormat::of(&table.storage, &table.properties)?;
        if ct.query.is_none() {
            format.validate(&crate::types::arrow_schema(&table.columns)?)?;
        }
        if let Some(query) = ct.query {
            return self.create_table_as_select(table, location, format, *query).await;
        }
        self.metastore.create_table(&table)?;
        if table.table_type == TableType::Managed {
            location.make_local_dir()?;
        }
        Ok(StatementOutput::Done(None))
    }

    async fn create_table_as_select(
        &mut self,
        mut table: Table,
        location: Location,
        format: TableFormat,
        query: Query,
    ) -> Result<StatementOutput> {
        let plan = self.plan_query(query).await?;
        let mut columns = Vec::new();
        for f in plan.schema().fields().iter() {
            let name = f.name().to_ascii_lowercase();
            if columns.iter().any(|c: &Column| c.name == name) {
                return Err(semantic(format!(
                    "CREATE TABLE AS SELECT: duplicate column name {name}; give the columns aliases"
                )));
            }
            columns.push(Column::new(name, field_hive_type(f)?.to_string()));
        }
        let names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
        let plan = super::rewrite::rename_columns(plan, &names)?;
        if !table.partition_keys.is_empty() {
            // Hive 4: the partition columns are the query's last columns, in order.
            let keys: Vec<String> = table.partition_keys.iter().map(|k| k.name.clone()).collect();
            let tail: Vec<String> = names[names.len().saturating_sub(keys.len())..].to_vec();
            if names.len() <= keys.len() || tail != keys {
                return Err(semantic(format!(
                    "CREATE TABLE AS SELECT ... PARTITIONED BY ({}): the partition columns must be the query's last columns, in that order (the query ends with {})",
                    keys.join(", "),
                    tail.join(", ")
                )));
            }
            table.partition_keys = columns.split_off(columns.len() - keys.len());
            table.columns = columns;
            format.validate(&crate::types::arrow_schema(&table.columns)?)?;
            self.metastore.create_table(&table)?;
            let target = super::ast::InsertTarget {
                table: TableRef { database: Some(table.database.clone()), name: table.name.clone() },
                overwrite: true,
                partition: Vec::new(),
                columns: Vec::new(),
                if_not_exists: false,
            };
            let spec = vec![None; keys.len()];
            return match self.write_dynamic(&table, &target, &spec, plan).await {
                Ok((rows, message)) => Ok(StatementOutput::Written { rows, message }),
                Err(e) => {
                    // Nothing of a failed CTAS stays: neither the table nor its files.
                    let partitions = self.metastore.list_partitions(&table.database, &table.name)?;
                    self.metastore.drop_table(&table.database, &table.name)?;
                    self.delete_table_data(&table, &partitions).await?;
                    Err(e)
                }
            };
        }
        table.columns = columns;
        let result = self.write_to_location(plan, &location, &format, true).await?;
        if let Err(e) = self.metastore.create_table(&table) {
            let store = location.store(self.ctx.runtime_env().as_ref())?;
            writer::delete_data(store.as_ref(), &location).await?;
            return Err(e.into());
        }
        Ok(StatementOutput::Written {
            rows: result.rows,
            message: format!("{} rows written to {}{}", result.rows, table.qualified_name(), result.written_by()),
        })
    }

    pub(crate) async fn create_view(&mut self, view: CreateView) -> Result<StatementOutput> {
        let CreateView { name, if_not_exists, or_replace, columns, comment, properties, text, query } = view;
        let (db, vname) = self.qualify(&name);
        if let Some(existing) = self.metastore.get_table(&db, &vname)? {
            if if_not_exists {
                return Ok(StatementOutput::Done(None));
            }
            if !or_replace || existing.table_type != TableType::View {
                return Err(semantic(format!("Table already exists: {db}.{vname}")));
            }
        }
        let plan = self.plan_query(*query).await?;
        let fields = plan.schema().fields().clone();
        if !columns.is_empty() && columns.len() != fields.len() {
            return Err(semantic(format!(
                "view {db}.{vname} names {} columns but its query has {}",
                columns.len(),
                fields.len()
            )));
        }
        let mut t = new_table(&db, &vname);
        t.table_type = TableType::View;
        t.storage = StorageDescriptor::default();
        t.columns = fields
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let (n, c) = columns.get(i).cloned().unwrap_or_else(|| (f.name().to_ascii_lowercase(), None));
                Ok(Column { name: n, data_type: field_hive_type(f)?.to_string(), comment: c })
            })
            .collect::<Result<_>>()?;
        t.properties = properties;
        if let Some(c) = comment {
            t.properties.insert("comment".into(), c);
        }
        t.view_text = Some(text);
        if or_replace && self.metastore.get_table(&db, &vname)?.is_some() {
            self.metastore.alter_table(&db, &vname, &t)?;
        } else {
            self.metastore.create_table(&t)?;
        }
        Ok(StatementOutput::Done(None))
    }

    pub(crate) async fn drop_table(&mut self, name: &TableRef, if_exists: bool, view: bool) -> Result<StatementOutput> {
        let (db, tname) = self.qualify(name);
        let Some(t) = self.metastore.get_table(&db, &tname)? else {
            return if if_exists {
                Ok(StatementOutput::Done(None))
            } else {
                Err(HiveError::TableNotFound { db: db.clone(), table: tname.clone() })
            };
        };
        if view && t.table_type != TableType::View {
            return Err(semantic(format!("Cannot drop a table with DROP VIEW: {db}.{tname}")));
        }
        if !view && t.table_type == TableType::View {
            return Err(semantic(format!("Cannot drop a view with DROP TABLE: {db}.{tname}")));
        }
        let partitions = self.metastore.list_partitions(&db, &tname)?;
        self.metastore.drop_table(&db, &tname)?;
        if t.table_type == TableType::Managed {
            self.delete_table_data(&t, &partitions).await?;
        }
        Ok(StatementOutput::Done(None))
    }

    pub(crate) async fn truncate(&mut self, name: &TableRef) -> Result<StatementOutput> {
        let t = self.get_table(name)?;
        if t.table_type != TableType::Managed {
            return Err(semantic(format!("Cannot truncate non-managed table {}", t.qualified_name())));
        }
        let loc = Location::parse(&t.storage.location)?;
        let store = loc.store(self.ctx.runtime_env().as_ref())?;
        writer::truncate_dir(store.as_ref(), &loc).await?;
        for p in self.metastore.list_partitions(&t.database, &t.name)? {
            writer::truncate_dir(store.as_ref(), &Location::parse(&p.storage.location)?).await?;
        }
        Ok(StatementOutput::Done(None))
    }

    pub(crate) async fn alter_table(&mut self, name: &TableRef, op: AlterTable) -> Result<StatementOutput> {
        let old = self.get_table(name)?;
        if matches!(
            op,
            AlterTable::AddPartitions { .. }
                | AlterTable::DropPartitions { .. }
                | AlterTable::RenamePartition { .. }
                | AlterTable::AlterPartition { .. }
        ) {
            if old.table_type == TableType::View {
                return Err(semantic(format!("{} is a view", old.qualified_name())));
            }
            return self.alter_partitions(old, op).await;
        }
        let mut t = old.clone();
        let is_view = t.table_type == TableType::View;
        if is_view
            && !matches!(op, AlterTable::RenameTo(_) | AlterTable::SetProperties(_) | AlterTable::UnsetProperties(_))
        {
            return Err(semantic(format!("{} is a view", t.qualified_name())));
        }
        let mut move_dir: Option<(Location, Location)> = None;
        match op {
            AlterTable::RenameTo(to) => {
                let (db, n) = (to.database.clone().unwrap_or_else(|| t.database.clone()), to.name.clone());
                if self.metastore.get_database(&db)?.is_none() {
                    return Err(semantic(format!("Database does not exist: {db}")));
                }
                if t.table_type == TableType::Managed {
                    let default_old = self.default_table_location(&t.database, &t.name)?;
                    if Location::parse(&t.storage.location)? == default_old {
                        let new_loc = self.default_table_location(&db, &n)?;
                        t.storage.location = new_loc.text.clone();
                        move_dir = Some((default_old, new_loc));
                    }
                }
                t.database = db;
                t.name = n;
            }
            AlterTable::AddColumns(cols) => {
                for c in cols {
                    if t.columns.iter().chain(&t.partition_keys).any(|x| x.name == c.name) {
                        return Err(semantic(format!("Duplicate column name: {}", c.name)));
                    }
                    t.columns.push(c);
                }
            }
            AlterTable::ReplaceColumns(cols) => t.columns = cols,
            AlterTable::SetProperties(p) => t.properties.extend(p),
            AlterTable::UnsetProperties(keys) => {
                for k in keys {
                    t.properties.remove(&k);
                }
            }
            AlterTable::SetLocation(l) => t.storage.location = Location::parse(&l)?.text,
            AlterTable::SetSerdeProperties { class, properties } => {
                if let Some(c) = class {
                    t.storage.serde.serialization_lib = c;
                }
                t.storage.serde.parameters.extend(properties);
            }
            AlterTable::SetFileFormat(f) => {
                let sd = storage_descriptor(t.storage.location.clone(), None, Some(&f))?;
                t.storage.input_format = sd.input_format;
                t.storage.output_format = sd.output_format;
                t.storage.serde.serialization_lib = sd.serde.serialization_lib;
            }
            AlterTable::AddPartitions { .. }
            | AlterTable::DropPartitions { .. }
            | AlterTable::RenamePartition { .. }
            | AlterTable::AlterPartition { .. } => {
                return Err(HiveError::Internal("partition forms of ALTER TABLE are handled above".into()));
            }
        }
        if !is_view {
            TableFormat::of(&t.storage, &t.properties)?.validate(&crate::types::arrow_schema(&t.columns)?)?;
            crate::partition::projection::Projection::of(&t)?;
        }
        if let Some((from, to)) = &move_dir
            && let (Some(f), Some(tp)) = (from.local_path(), to.local_path())
            && f.exists()
        {
            if tp.exists() {
                return Err(semantic(format!("cannot rename: {} already exists", tp.display())));
            }
            if let Some(parent) = tp.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| crate::error::io_err(format!("creating {}", parent.display()), e))?;
            }
            std::fs::rename(&f, &tp)
                .map_err(|e| crate::error::io_err(format!("moving {} to {}", f.display(), tp.display()), e))?;
        }
        if let Err(e) = self.metastore.alter_table(&old.database, &old.name, &t) {
            if let Some((from, to)) = move_dir
                && let (Some(f), Some(tp)) = (from.local_path(), to.local_path())
                && let Err(undo) = std::fs::rename(&tp, &f)
            {
                tracing::error!(
                    from = %tp.display(), to = %f.display(), error = %undo,
                    "the table's data stays at its new place: moving it back after a failed rename failed"
                );
            }
            return Err(e.into());
        }
        Ok(StatementOutput::Done(None))
    }
}

fn new_table(db: &str, name: &str) -> Table {
    Table {
        database: db.to_string(),
        name: name.to_string(),
        table_type: TableType::Managed,
        owner: owner(),
        create_time: now(),
        columns: Vec::new(),
        partition_keys: Vec::new(),
        storage: StorageDescriptor::default(),
        properties: BTreeMap::new(),
        view_text: None,
    }
}
