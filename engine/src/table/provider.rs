//! [`HiveTableProvider`]: a metastore table as a DataFusion `TableProvider`.
//! Each scan lists the table's (or its partitions') data files afresh, cuts
//! them into splits and plans a `DataSourceExec` with the table's SerDe.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use datafusion::catalog::Session as DfSession;
use datafusion::common::{Result, ScalarValue};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{FileScanConfigBuilder, FileSource, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion_datasource::compute_all_files_statistics;
use hiveql_metastore::{Partition, Table};

use super::compression::Compression;
use super::listing::list_data_files;
use super::split::{Cut, plan_splits};
use super::statistics::StatisticsCache;
use super::text_source::HiveTextSource;
use crate::error::HiveError;
use crate::location::{Location, LocationStores};
use crate::serde::TableFormat;
use crate::types::{arrow_schema, arrow_type, parse_column_type};

/// Hive's name for a NULL partition value.
pub const DEFAULT_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// A table of the metastore, ready to scan.
#[derive(Debug)]
pub struct HiveTableProvider {
    table: Table,
    partitions: Vec<Partition>,
    data_schema: SchemaRef,
    partition_fields: Vec<FieldRef>,
    schema: SchemaRef,
    format: TableFormat,
    statistics: Arc<StatisticsCache>,
}

impl HiveTableProvider {
    /// A provider for `table`; `partitions` are its partitions (if
    /// partitioned); file statistics are kept in `statistics`.
    pub fn try_new(table: Table, partitions: Vec<Partition>, statistics: Arc<StatisticsCache>) -> crate::Result<Self> {
        let format = TableFormat::of(&table.storage, &table.properties)
            .map_err(|e| HiveError::Semantic(format!("table {}: {e}", table.qualified_name())))?;
        let mut data_schema = arrow_schema(&table.columns)?;
        if format == TableFormat::Parquet {
            // Read Parquet strings as views, as DataFusion itself does
            // (`schema_force_view_types`): no copies, faster grouping.
            data_schema = Schema::new(
                data_schema
                    .fields()
                    .iter()
                    .map(|f| match f.data_type() {
                        DataType::Utf8 => Arc::new(f.as_ref().clone().with_data_type(DataType::Utf8View)),
                        DataType::Binary => Arc::new(f.as_ref().clone().with_data_type(DataType::BinaryView)),
                        _ => f.clone(),
                    })
                    .collect::<Vec<_>>(),
            );
        }
        let data_schema = Arc::new(data_schema);
        let partition_fields: Vec<FieldRef> = table
            .partition_keys
            .iter()
            .map(|c| Ok(Arc::new(Field::new(c.name.clone(), arrow_type(&parse_column_type(c)?), true))))
            .collect::<crate::Result<_>>()?;
        let mut fields: Vec<FieldRef> = data_schema.fields().iter().cloned().collect();
        fields.extend(partition_fields.iter().cloned());
        Ok(HiveTableProvider {
            schema: Arc::new(Schema::new(fields)),
            table,
            partitions,
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

    /// Directories to read, with the partition values of their rows.
    fn directories(&self) -> crate::Result<Vec<(Location, Vec<ScalarValue>)>> {
        if self.table.partition_keys.is_empty() {
            return Ok(vec![(Location::parse(&self.table.storage.location)?, vec![])]);
        }
        self.partitions
            .iter()
            .map(|p| {
                let values = p
                    .values
                    .iter()
                    .zip(&self.partition_fields)
                    .map(|(v, f)| match v.as_deref() {
                        None | Some(DEFAULT_PARTITION) => ScalarValue::try_from(f.data_type()),
                        Some(s) => ScalarValue::try_from_string(s.to_string(), f.data_type())
                            .or_else(|_| ScalarValue::try_from(f.data_type())),
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok((Location::parse(&p.storage.location)?, values))
            })
            .collect()
    }
}

/// The block sizes of files in the block store (none for other stores).
async fn block_sizes(
    state: &dyn DfSession,
    store_url: &ObjectStoreUrl,
    files: &[PartitionedFile],
) -> Result<HashMap<object_store::path::Path, u64>> {
    let url: &url::Url = store_url.as_ref();
    let mut out = HashMap::new();
    if url.scheme() != "dfs" {
        return Ok(out);
    }
    let Some(stores) = state.config().get_extension::<LocationStores>() else { return Ok(out) };
    let dfs = stores.dfs(&crate::location::authority(url)?)?;
    for f in files {
        let b = dfs.block_size(&f.object_meta.location).await.map_err(HiveError::Storage)?;
        out.insert(f.object_meta.location.clone(), b);
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

    async fn scan(
        &self,
        state: &dyn DfSession,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let runtime = state.runtime_env();
        let mut files = Vec::new();
        let mut store_url = None;
        for (dir, values) in self.directories()? {
            let store = dir.store(runtime)?;
            if store_url.as_ref().is_some_and(|u| u != &dir.store_url) {
                return Err(HiveError::Unsupported(format!(
                    "table {} has partitions in different file systems",
                    self.table.qualified_name()
                ))
                .into());
            }
            for meta in list_data_files(store.as_ref(), &dir).await? {
                let mut file = PartitionedFile::new_from_meta(meta.clone()).with_partition_values(values.clone());
                if self.format == TableFormat::Parquet && state.config().collect_statistics() {
                    file = file.with_statistics(
                        self.statistics.parquet(state, &store, self.data_schema.clone(), &meta).await?,
                    );
                }
                files.push(file);
            }
            store_url = Some(dir.store_url);
        }
        let projected = match projection {
            Some(p) => Arc::new(self.schema.project(p)?),
            None => self.schema.clone(),
        };
        let Some(store_url) = store_url.filter(|_| !files.is_empty()) else {
            return Ok(Arc::new(EmptyExec::new(projected)));
        };
        let table_schema = TableSchema::builder(self.data_schema.clone())
            .with_table_partition_cols(self.partition_fields.clone())
            .build();
        let target = state.config().target_partitions();
        let (source, mut groups): (Arc<dyn FileSource>, _) = match &self.format {
            TableFormat::Text(format) => {
                let src = HiveTextSource::new(table_schema, format.clone());
                let splittable = src.splittable();
                // DataFusion's knob for cutting files into ranges decides the smallest split.
                let min_split = state.config_options().optimizer.repartition_file_min_size as u64;
                let blocks = block_sizes(state, &store_url, &files).await?;
                let groups = plan_splits(files, target, min_split, |f| {
                    if !splittable || Compression::of(f.object_meta.location.as_ref()).is_compressed() {
                        Cut::Whole
                    } else {
                        blocks.get(&f.object_meta.location).map_or(Cut::Anywhere, |b| Cut::Blocks(*b))
                    }
                });
                (Arc::new(src), groups)
            }
            TableFormat::Parquet => {
                let groups = plan_splits(files, target, u64::MAX, |_| Cut::Whole);
                (Arc::new(ParquetSource::new(table_schema)), groups)
            }
        };
        let mut builder = FileScanConfigBuilder::new(store_url, source);
        if self.format == TableFormat::Parquet && state.config().collect_statistics() {
            let (with_stats, stats) = compute_all_files_statistics(groups, self.schema.clone(), true, false)?;
            groups = with_stats;
            builder = builder.with_statistics(stats);
        }
        let config =
            builder.with_file_groups(groups).with_projection_indices(projection.cloned())?.with_limit(limit).build();
        Ok(DataSourceExec::from_data_source(config))
    }
}
