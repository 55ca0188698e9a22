//! [`HiveTableProvider`]: a metastore table as a DataFusion `TableProvider`.
//! Each scan chooses the partitions its predicates select (through the
//! metastore, see [`crate::partition::prune`]), lists their data files
//! afresh, cuts them into splits and plans a `DataSourceExec` per SerDe
//! and file system (a partition may have its own), united when there are several.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, FieldRef, Schema, SchemaRef};
use datafusion::catalog::Session as DfSession;
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{FileScanConfigBuilder, FileSource, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{CastExpr, Column as PhysicalColumn};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::union::UnionExec;
use datafusion_datasource::compute_all_files_statistics;
use hiveql_metastore::{HiveType, Metastore, Partition, Table};

use super::compression::Compression;
use super::listing::list_data_files;
use super::split::{Cut, plan_splits};
use super::statistics::StatisticsCache;
use super::text_source::HiveTextSource;
use crate::bucket::BucketSpec;
use crate::bucket::wise::{BucketedFile, BucketedTable};
use crate::error::HiveError;
use crate::explain::PlanNotes;
use crate::location::{Location, LocationStores};
use crate::partition::projection::Projection;
use crate::partition::{path, prune, spec};
use crate::serde::TableFormat;
use crate::types::arrow_schema;

/// A table of the metastore, ready to scan.
#[derive(Debug)]
pub struct HiveTableProvider {
    table: Table,
    metastore: Arc<dyn Metastore>,
    key_types: Vec<HiveType>,
    data_schema: SchemaRef,
    partition_fields: Vec<FieldRef>,
    schema: SchemaRef,
    format: TableFormat,
    statistics: Arc<StatisticsCache>,
    /// The table's bucketing and its bucket columns' types, if bucketed.
    bucketing: Option<(BucketSpec, Vec<HiveType>)>,
    /// Athena partition projection, when the table enables it.
    projection: Option<Projection>,
}

/// The schema a format reads `columns` with: Parquet reads strings as
/// views, as DataFusion itself does (`schema_force_view_types`): no
/// copies, faster grouping.
fn data_schema(columns: &[hiveql_metastore::Column], format: &TableFormat) -> crate::Result<SchemaRef> {
    let schema = arrow_schema(columns)?;
    if *format != TableFormat::Parquet {
        return Ok(Arc::new(schema));
    }
    Ok(Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                DataType::Utf8 => Arc::new(f.as_ref().clone().with_data_type(DataType::Utf8View)),
                DataType::Binary => Arc::new(f.as_ref().clone().with_data_type(DataType::BinaryView)),
                _ => f.clone(),
            })
            .collect::<Vec<_>>(),
    )))
}

impl HiveTableProvider {
    /// A provider for `table`, whose partitions (if any) are read from
    /// `metastore` when it is scanned; file statistics are kept in `statistics`.
    pub fn try_new(
        table: Table,
        metastore: Arc<dyn Metastore>,
        statistics: Arc<StatisticsCache>,
    ) -> crate::Result<Self> {
        let format = TableFormat::of(&table.storage, &table.properties)
            .map_err(|e| HiveError::Semantic(format!("table {}: {e}", table.qualified_name())))?;
        let data_schema = data_schema(&table.columns, &format)?;
        let key_types = spec::key_types(&table)?;
        let partition_fields: Vec<FieldRef> = table
            .partition_keys
            .iter()
            .zip(&key_types)
            .map(|(c, t)| Arc::new(crate::types::arrow_field(c.name.clone(), t)))
            .collect();
        let mut fields: Vec<FieldRef> = data_schema.fields().iter().cloned().collect();
        fields.extend(partition_fields.iter().cloned());
        let bucketing = match BucketSpec::of(&table)? {
            None => None,
            Some(b) => {
                let types = b
                    .columns
                    .iter()
                    .map(|c| {
                        let col = table.columns.iter().find(|t| &t.name == c).ok_or_else(|| {
                            HiveError::Semantic(format!(
                                "bucket column {c} is not a column of {}",
                                table.qualified_name()
                            ))
                        })?;
                        crate::types::parse_column_type(col)
                    })
                    .collect::<crate::Result<Vec<_>>>()?;
                Some((b, types))
            }
        };
        let projection = Projection::of(&table)?;
        Ok(HiveTableProvider {
            projection,
            bucketing,
            schema: Arc::new(Schema::new(fields)),
            table,
            metastore,
            key_types,
            data_schema,
            partition_fields,
            format,
            statistics,
        })
    }

    /// The metastore definition of the table.
    pub fn table(&self) -> &Table {
        &self.table
    }

    /// The partitions `filters` (partition predicates) select: the
    /// metastore narrows them by SQL, DataFusion checks the rest on the
    /// partition values, and only the chosen ones are loaded whole.
    fn partitions(&self, state: &dyn DfSession, filters: &[Expr]) -> Result<Vec<Partition>> {
        let (db, name) = (&self.table.database, &self.table.name);
        let ms = |e: hiveql_metastore::MetastoreError| DataFusionError::from(HiveError::from(e));
        let predicates: Vec<Expr> =
            filters.iter().filter(|f| prune::is_partition_predicate(f, &self.partition_fields)).cloned().collect();
        if let Some(projection) = &self.projection {
            let parts = projection.partitions(state, &self.table, &self.partition_fields, &predicates)?;
            note_pruning(state, &self.table, parts.len(), parts.len(), "projected partitions");
            return Ok(parts);
        }
        let total = self.metastore.count_partitions(db, name).map_err(ms)?;
        let parts = if predicates.is_empty() {
            self.metastore.list_partitions(db, name).map_err(ms)?
        } else {
            let filter = prune::metastore_filter(&predicates, &self.partition_fields, &self.key_types);
            let candidates = self.metastore.list_partition_values(db, name, &filter).map_err(ms)?;
            let chosen = prune::evaluate(state, &predicates, &self.partition_fields, candidates)?;
            self.metastore.get_partitions(db, name, &chosen).map_err(ms)?
        };
        note_pruning(state, &self.table, parts.len(), total, "partitions");
        Ok(parts)
    }

    /// Directories to read, with their format and the partition values of their rows.
    fn directories(&self, parts: &Option<Vec<Partition>>) -> Result<Vec<Directory>> {
        let Some(parts) = parts else {
            return Ok(vec![Directory {
                location: Location::parse(&self.table.storage.location)?,
                format: self.format.clone(),
                values: vec![],
            }]);
        };
        parts
            .iter()
            .map(|p| {
                let values = p
                    .values
                    .iter()
                    .zip(&self.partition_fields)
                    .map(|(v, f)| prune::partition_scalar(v.as_deref(), f.data_type()))
                    .collect::<Result<Vec<_>>>()?;
                let format = if p.storage.serde == self.table.storage.serde
                    && p.storage.input_format == self.table.storage.input_format
                {
                    self.format.clone()
                } else {
                    TableFormat::of(&p.storage, &self.table.properties).map_err(|e| {
                        HiveError::Semantic(format!(
                            "partition {} of {}: {e}",
                            path::partition_name(self.table.partition_keys.iter().map(|k| k.name.as_str()), &p.values),
                            self.table.qualified_name()
                        ))
                    })?
                };
                Ok(Directory { location: Location::parse(&p.storage.location)?, format, values })
            })
            .collect()
    }

    /// Whether any of `parts` now lives elsewhere (or is gone) in the metastore.
    fn moved(&self, parts: &[Partition]) -> Result<bool> {
        if parts.is_empty() {
            return Ok(false);
        }
        let values: Vec<Vec<Option<String>>> = parts.iter().map(|p| p.values.clone()).collect();
        let now = self
            .metastore
            .get_partitions(&self.table.database, &self.table.name, &values)
            .map_err(|e| DataFusionError::from(HiveError::from(e)))?;
        let current: HashMap<&Vec<Option<String>>, &str> =
            now.iter().map(|p| (&p.values, p.storage.location.as_str())).collect();
        Ok(parts.iter().any(|p| current.get(&p.values) != Some(&p.storage.location.as_str())))
    }

    /// True for a predicate on bucket columns only (which may select buckets).
    fn is_bucket_predicate(&self, f: &Expr) -> bool {
        let Some((b, _)) = &self.bucketing else { return false };
        let columns = f.column_refs();
        !columns.is_empty() && columns.iter().all(|c| b.columns.contains(&c.name)) && !f.is_volatile()
    }

    /// The buckets a scan must read (`None`: all), recorded for `EXPLAIN`.
    fn buckets(&self, state: &dyn DfSession, filters: &[Expr]) -> Result<Option<std::collections::BTreeSet<u32>>> {
        let Some((spec, types)) = &self.bucketing else { return Ok(None) };
        let selected = crate::bucket::selected_buckets(spec, types, filters)?;
        if let Some(sel) = &selected {
            note_pruning(state, &self.table, sel.len(), spec.buckets as usize, "buckets");
        }
        Ok(selected)
    }

    /// One scan of the files of directories that share a format and a file system.
    async fn scan_group(
        &self,
        state: &dyn DfSession,
        group: &ScanGroup,
        projection: Option<&Vec<usize>>,
        limit: Option<usize>,
        buckets: Option<&std::collections::BTreeSet<u32>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let runtime = state.runtime_env();
        let store = group.store_url_location.store(runtime)?;
        let data_schema = if group.format == self.format {
            self.data_schema.clone()
        } else {
            data_schema(&self.table.columns, &group.format)?
        };
        // Files named for their bucket carry it, for bucket-wise joins.
        let bucketed_table = self.bucketing.as_ref().map(|(spec, types)| {
            Arc::new(BucketedTable {
                name: self.table.qualified_name(),
                columns: spec.columns.clone(),
                hash_types: types.iter().map(crate::bucket::hashed_type).collect(),
                buckets: spec.buckets,
                version: spec.version,
            })
        });
        let mut files = Vec::new();
        for dir in &group.directories {
            for meta in list_data_files(store.as_ref(), &dir.location).await? {
                // A file named for another bucket holds none of the rows sought.
                if let Some(wanted) = buckets
                    && meta
                        .location
                        .filename()
                        .and_then(crate::bucket::bucket_of_file)
                        .is_some_and(|b| !wanted.contains(&b))
                {
                    continue;
                }
                let mut file = PartitionedFile::new_from_meta(meta.clone()).with_partition_values(dir.values.clone());
                if let Some(table) = &bucketed_table
                    && let Some(bucket) = meta.location.filename().and_then(crate::bucket::bucket_of_file)
                    && bucket < table.buckets
                {
                    file = file.with_extension(BucketedFile { table: table.clone(), bucket });
                }
                if group.format == TableFormat::Parquet && state.config().collect_statistics() {
                    file =
                        file.with_statistics(self.statistics.parquet(state, &store, data_schema.clone(), &meta).await?);
                }
                files.push(file);
            }
        }
        let mut fields: Vec<FieldRef> = data_schema.fields().iter().cloned().collect();
        fields.extend(self.partition_fields.iter().cloned());
        let group_schema = Arc::new(Schema::new(fields));
        if files.is_empty() {
            let projected = match projection {
                Some(p) => Arc::new(group_schema.project(p)?),
                None => group_schema,
            };
            return Ok(Arc::new(EmptyExec::new(projected)));
        }
        let store_url = group.store_url_location.store_url.clone();
        let table_schema =
            TableSchema::builder(data_schema.clone()).with_table_partition_cols(self.partition_fields.clone()).build();
        let target = state.config().target_partitions();
        let (source, mut groups): (Arc<dyn FileSource>, _) = match &group.format {
            TableFormat::Text(format) => {
                let src = HiveTextSource::new(table_schema, format.clone());
                let splittable = src.splittable();
                // DataFusion's knob for cutting files into ranges decides the smallest split.
                let min_split = state.config_options().optimizer.repartition_file_min_size as u64;
                let blocks = block_layout(state, &store_url, &files).await?;
                let cut = |f: &PartitionedFile| {
                    if !splittable || Compression::of(f.object_meta.location.as_ref()).is_compressed() {
                        Cut::Whole
                    } else {
                        blocks.get(&f.object_meta.location).map_or(Cut::Anywhere, |(b, _)| Cut::Blocks(*b))
                    }
                };
                // a split's host: the first replica's of the block it starts in
                let host = |f: &PartitionedFile, at: u64| {
                    let (_, located) = blocks.get(&f.object_meta.location)?;
                    let i = located.partition_point(|(offset, _)| *offset <= at).checked_sub(1)?;
                    located[i].1.first().cloned()
                };
                let groups = plan_splits(files, target, min_split, cut, host);
                (Arc::new(src), groups)
            }
            TableFormat::Parquet => {
                let groups = plan_splits(files, target, u64::MAX, |_| Cut::Whole, |_, _| None);
                (Arc::new(ParquetSource::new(table_schema)), groups)
            }
        };
        let mut builder = FileScanConfigBuilder::new(store_url, source);
        if group.format == TableFormat::Parquet && state.config().collect_statistics() {
            let (with_stats, stats) = compute_all_files_statistics(groups, group_schema, true, false)?;
            groups = with_stats;
            builder = builder.with_statistics(stats);
        }
        let config =
            builder.with_file_groups(groups).with_projection_indices(projection.cloned())?.with_limit(limit).build();
        Ok(DataSourceExec::from_data_source(config))
    }
}

/// Note for `EXPLAIN` how many of a table's partitions or buckets a scan reads.
fn note_pruning(state: &dyn DfSession, table: &Table, selected: usize, total: usize, unit: &str) {
    if let Some(notes) = state.config().get_extension::<PlanNotes>() {
        notes.record("pruning", format!("{}: {selected} of {total} {unit} read", table.qualified_name()));
    }
}

/// A directory of data files to scan.
struct Directory {
    location: Location,
    format: TableFormat,
    values: Vec<ScalarValue>,
}

/// Directories scanned together: one format, one file system.
struct ScanGroup {
    format: TableFormat,
    /// Any location on the group's file system (to find its object store).
    store_url_location: Location,
    directories: Vec<Directory>,
}

/// Group directories by format and file system, in order of first appearance.
fn scan_groups(directories: Vec<Directory>) -> Vec<ScanGroup> {
    let mut groups: Vec<ScanGroup> = Vec::new();
    for d in directories {
        match groups.iter_mut().find(|g| g.format == d.format && g.store_url_location.store_url == d.location.store_url)
        {
            Some(g) => g.directories.push(d),
            None => groups.push(ScanGroup {
                format: d.format.clone(),
                store_url_location: d.location.clone(),
                directories: vec![d],
            }),
        }
    }
    groups
}

/// `plan` with its columns cast to `schema` (same names and order), so that
/// partitions in other formats union with the table's own.
fn conform(plan: Arc<dyn ExecutionPlan>, schema: &SchemaRef) -> Result<Arc<dyn ExecutionPlan>> {
    if plan.schema().fields().iter().zip(schema.fields()).all(|(a, b)| a.data_type() == b.data_type()) {
        return Ok(plan);
    }
    let input = plan.schema();
    let exprs: Vec<(Arc<dyn PhysicalExpr>, String)> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let column: Arc<dyn PhysicalExpr> = Arc::new(PhysicalColumn::new(f.name(), i));
            let e: Arc<dyn PhysicalExpr> = if input.field(i).data_type() == f.data_type() {
                column
            } else {
                Arc::new(CastExpr::new(column, f.data_type().clone(), None))
            };
            (e, f.name().clone())
        })
        .collect();
    Ok(Arc::new(ProjectionExec::try_new(exprs, plan)?))
}

/// The block size of each file in the block store, and its blocks'
/// offsets and replicas' hosts (none for other stores).
type BlockLayout = HashMap<object_store::path::Path, (u64, Vec<(u64, Vec<String>)>)>;

async fn block_layout(
    state: &dyn DfSession,
    store_url: &ObjectStoreUrl,
    files: &[PartitionedFile],
) -> Result<BlockLayout> {
    let url: &url::Url = store_url.as_ref();
    let mut out = HashMap::new();
    if url.scheme() != "dfs" {
        return Ok(out);
    }
    let Some(stores) = state.config().get_extension::<LocationStores>() else { return Ok(out) };
    let dfs = stores.dfs(&crate::location::authority(url)?)?;
    for f in files {
        let layout = dfs.block_hosts(&f.object_meta.location).await.map_err(HiveError::Storage)?;
        out.insert(f.object_meta.location.clone(), layout);
    }
    Ok(out)
}

#[async_trait]
impl TableProvider for HiveTableProvider {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    /// Partition predicates choose partitions; DataFusion still applies
    /// them to the rows (`Inexact`), which costs little on constant columns.
    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(filters
            .iter()
            .map(|f| {
                if prune::is_partition_predicate(f, &self.partition_fields) || self.is_bucket_predicate(f) {
                    TableProviderFilterPushDown::Inexact
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn DfSession,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let projected = match projection {
            Some(p) => Arc::new(self.schema.project(p)?),
            None => self.schema.clone(),
        };
        let buckets = self.buckets(state, filters)?;
        let mut attempt = 0;
        loop {
            let parts =
                if self.table.partition_keys.is_empty() { None } else { Some(self.partitions(state, filters)?) };
            let groups = scan_groups(self.directories(&parts)?);
            let mut plans = Vec::new();
            for group in &groups {
                let plan = self.scan_group(state, group, projection, limit, buckets.as_ref()).await?;
                plans.push(conform(plan, &projected)?);
            }
            // An INSERT OVERWRITE may have moved a partition to a new directory
            // (and begun deleting the old one) between the metastore read and the
            // listing: then list again. When the locations still hold, the
            // listing came before any swap, so it saw whole partitions.
            attempt += 1;
            if let Some(parts) = &parts
                && self.projection.is_none()
                && attempt < 10
                && self.moved(parts)?
            {
                continue;
            }
            if plans.is_empty() {
                return Ok(Arc::new(EmptyExec::new(projected)));
            }
            return UnionExec::try_new(plans);
        }
    }
}
