//! File statistics for the planner: row counts and column min/max/nulls from
//! Parquet footers, as DataFusion's `ListingTable` collects them (the join
//! planner uses them to pick build sides). Footers are read once per file
//! version and kept in a [`StatisticsCache`] shared by a session's tables.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session as DfSession;
use datafusion::common::{Result, Statistics};
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use object_store::{ObjectMeta, ObjectStore};
use parking_lot::Mutex;

type Key = (String, u64, i64);

/// Statistics of files already read, by path, size and modification time.
#[derive(Debug, Default)]
pub struct StatisticsCache {
    entries: Mutex<HashMap<Key, Arc<Statistics>>>,
}

impl StatisticsCache {
    /// The statistics of a Parquet file, mapped onto `schema`.
    pub async fn parquet(
        &self,
        state: &dyn DfSession,
        store: &Arc<dyn ObjectStore>,
        schema: SchemaRef,
        meta: &ObjectMeta,
    ) -> Result<Arc<Statistics>> {
        let key = (meta.location.to_string(), meta.size, meta.last_modified.timestamp_nanos_opt().unwrap_or(0));
        if let Some(s) = self.entries.lock().get(&key) {
            return Ok(s.clone());
        }
        let stats = Arc::new(ParquetFormat::default().infer_stats(state, store, schema, meta).await?);
        self.entries.lock().insert(key, stats.clone());
        Ok(stats)
    }
}
