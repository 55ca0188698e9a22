//! `TABLESAMPLE` on a table, as a DataFusion `RelationPlanner`:
//! - `TABLESAMPLE (n ROWS)`: the first n rows (Hive takes n rows from each
//!   input split; one split's worth is what scripts that write
//!   `FROM src TABLESAMPLE (1 ROWS)` to evaluate an expression once rely on);
//! - `TABLESAMPLE (p PERCENT)`: each row with probability p/100 (Hive
//!   samples whole HDFS blocks, so its share is as approximate).
//!
//! - `TABLESAMPLE (BUCKET x OUT OF y [ON cols | ON rand()])`: the rows
//!   whose bucket among `y` (the table's bucket hash over its bucket
//!   columns, or over the `ON` columns) is `x - 1`, as Hive samples; so for
//!   a table in N buckets and y dividing N, buckets x-1, x-1+y, ...;
//!   `ON rand()` keeps each row with probability 1/y.
//!
//! - `TABLESAMPLE (nB | nK | nM | nG)`: whole input files, in listing
//!   order, until at least n bytes are read (Hive picks whole splits
//!   until their length reaches n; its starting split depends on
//!   `hive.sample.seednumber`, here it is the first).

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session as DfSession;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfig, FileScanConfigBuilder};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::{TableProvider, TableType, provider_as_source, source_as_provider};
use datafusion::logical_expr::planner::{PlannedRelation, RelationPlanner, RelationPlannerContext, RelationPlanning};
use datafusion::logical_expr::{Expr as DfExpr, LogicalPlanBuilder, lit};
use datafusion::logical_expr::{LogicalPlan, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::sql::sqlparser::ast::{TableFactor, TableSampleKind, TableSampleUnit};

/// Plans tables with a `TABLESAMPLE` clause.
#[derive(Debug, Default)]
pub struct TableSamplePlanner;

/// The constant number a sample clause gives.
fn number(e: DfExpr) -> Option<f64> {
    match e {
        DfExpr::Literal(v, _) => match v.cast_to(&datafusion::arrow::datatypes::DataType::Float64) {
            Ok(ScalarValue::Float64(Some(x))) => Some(x),
            _ => None,
        },
        _ => None,
    }
}

impl RelationPlanner for TableSamplePlanner {
    fn plan_relation(&self, relation: TableFactor, ctx: &mut dyn RelationPlannerContext) -> Result<RelationPlanning> {
        let TableFactor::Table { sample: Some(_), .. } = &relation else {
            return Ok(RelationPlanning::Original(Box::new(relation)));
        };
        let mut relation = relation;
        let TableFactor::Table { sample, name, .. } = &mut relation else {
            return Ok(RelationPlanning::Original(Box::new(relation)));
        };
        let table = name.to_string();
        let sample = match sample.take() {
            Some(TableSampleKind::BeforeTableAlias(s) | TableSampleKind::AfterTableAlias(s)) => s,
            None => return Ok(RelationPlanning::Original(Box::new(relation))),
        };
        if let Some(bucket) = sample.bucket {
            let input = ctx.plan(relation)?;
            let plan = bucket_sample(input, &table, bucket, ctx)?;
            return Ok(RelationPlanning::Planned(Box::new(PlannedRelation::new(plan, None))));
        }
        let Some(q) = sample.quantity else { return plan_err!("TABLESAMPLE on {table} needs a quantity") };
        let empty = datafusion::common::DFSchema::empty();
        let value = ctx.sql_to_expr(q.value.clone(), &empty).ok().and_then(number);
        let input = ctx.plan(relation)?;
        let plan = match (q.unit, value) {
            (Some(TableSampleUnit::Rows), Some(n)) if n >= 0.0 => {
                LogicalPlanBuilder::from(input).limit(0, Some(n as usize))?.build()?
            }
            (Some(TableSampleUnit::Percent), Some(p)) if (0.0..=100.0).contains(&p) => {
                let keep = datafusion::functions::math::expr_fn::random().lt(lit(p / 100.0));
                LogicalPlanBuilder::from(input).filter(keep)?.build()?
            }
            (None, _) => {
                let Some(bytes) = byte_length(&q.value.to_string()) else {
                    return plan_err!(
                        "TABLESAMPLE ({}) on {table}: a size is a number with B, K, M or G (100M)",
                        q.value
                    );
                };
                byte_sample(input, bytes)?
            }
            _ => return plan_err!("TABLESAMPLE on {table}: {} is not a valid sample size", q.value),
        };
        Ok(RelationPlanning::Planned(Box::new(PlannedRelation::new(plan, None))))
    }
}

/// The `BUCKET x OUT OF y` sample of `input` (a scan of `table`).
fn bucket_sample(
    input: datafusion::logical_expr::LogicalPlan,
    table: &str,
    bucket: datafusion::sql::sqlparser::ast::TableSampleBucket,
    ctx: &mut dyn RelationPlannerContext,
) -> Result<datafusion::logical_expr::LogicalPlan> {
    use datafusion::logical_expr::expr::ScalarFunction;
    use datafusion::sql::sqlparser::ast::{Expr as SqlExpr, Value};
    let int = |v: &Value| match v {
        Value::Number(n, _) => n.parse::<u32>().ok(),
        _ => None,
    };
    let (Some(x), Some(y)) = (int(&bucket.bucket.value), int(&bucket.total.value)) else {
        return plan_err!("TABLESAMPLE (BUCKET x OUT OF y) on {table}: x and y must be positive integers");
    };
    if y == 0 || x == 0 || x > y {
        return plan_err!("TABLESAMPLE (BUCKET {x} OUT OF {y}) on {table}: the bucket must be between 1 and {y}");
    }
    let hive_table = scanned_table(&input);
    let version = match &hive_table {
        Some(t) => {
            crate::bucket::BucketingVersion::of(&t.properties).map_err(datafusion::error::DataFusionError::from)?
        }
        None => crate::bucket::BucketingVersion::V1,
    };
    let keep = match bucket.on {
        Some(SqlExpr::Function(f))
            if ["rand", "random"].contains(&f.name.to_string().to_ascii_lowercase().as_str()) =>
        {
            let r = datafusion::functions::math::expr_fn::random();
            datafusion::functions::math::expr_fn::floor(r * lit(y as f64)).eq(lit((x - 1) as f64))
        }
        Some(on) => {
            let schema = input.schema().clone();
            let columns = match on {
                SqlExpr::Tuple(items) => items,
                SqlExpr::Nested(e) => vec![*e],
                other => vec![other],
            };
            let args = columns.into_iter().map(|c| ctx.sql_to_expr(c, &schema)).collect::<Result<Vec<_>>>()?;
            let udf = crate::bucket::BucketNumber::udf(version, y);
            DfExpr::ScalarFunction(ScalarFunction::new_udf(udf, args)).eq(lit((x - 1) as i32))
        }
        None => {
            let Some(t) = hive_table.filter(|t| !t.storage.bucket_columns.is_empty()) else {
                return plan_err!(
                    "TABLESAMPLE (BUCKET {x} OUT OF {y}) on {table}: the table is not bucketed; name the columns to sample on with ON (col, ...)"
                );
            };
            let args = t
                .storage
                .bucket_columns
                .iter()
                .map(|c| {
                    let column = datafusion::prelude::col(c.as_str());
                    match t.columns.iter().find(|d| &d.name == c).map(crate::types::parse_column_type) {
                        Some(ty) => Ok(crate::bucket::hashed_column(column, &ty?)),
                        None => Ok(column),
                    }
                })
                .collect::<crate::Result<Vec<_>>>()
                .map_err(datafusion::error::DataFusionError::from)?;
            let udf = crate::bucket::BucketNumber::udf(version, y);
            DfExpr::ScalarFunction(ScalarFunction::new_udf(udf, args)).eq(lit((x - 1) as i32))
        }
    };
    LogicalPlanBuilder::from(input).filter(keep)?.build()
}

/// The metastore table a plan scans directly (through aliases), if any.
fn scanned_table(plan: &datafusion::logical_expr::LogicalPlan) -> Option<hiveql_metastore::Table> {
    use datafusion::logical_expr::LogicalPlan;
    match plan {
        LogicalPlan::TableScan(scan) => {
            let provider = datafusion::datasource::source_as_provider(&scan.source).ok()?;
            provider.downcast_ref::<crate::table::HiveTableProvider>().map(|p| p.table().clone())
        }
        LogicalPlan::SubqueryAlias(a) => scanned_table(&a.input),
        _ => None,
    }
}

/// Hive's byte length literal (`100M`, `1g`, `512B`) in bytes.
fn byte_length(text: &str) -> Option<u64> {
    let text = text.trim();
    let (digits, unit) = text.split_at(text.len().checked_sub(1)?);
    let n: u64 = digits.parse().ok()?;
    let scale: u64 = match unit.to_ascii_lowercase().as_str() {
        "b" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(scale)
}

/// `input` (a table scan, through aliases) reading whole files until `bytes`.
fn byte_sample(input: LogicalPlan, bytes: u64) -> Result<LogicalPlan> {
    input
        .transform_down(|plan| match plan {
            LogicalPlan::TableScan(scan) => {
                let inner = source_as_provider(&scan.source)?;
                let source = provider_as_source(Arc::new(ByteSample { inner, bytes }));
                // Scans compare by name, not source: a name of its own keeps
                // DataFusion from merging this scan with an unsampled one,
                // and an alias keeps the table's name for the query.
                let name = scan.table_name.clone();
                let sampled = format!("{name} tablesample {bytes}");
                let scan = datafusion::logical_expr::logical_plan::TableScanBuilder::new(sampled, source)
                    .with_projection(scan.projection)
                    .with_filters(scan.filters)
                    .with_fetch(scan.fetch)
                    .build()?;
                let alias =
                    datafusion::logical_expr::SubqueryAlias::try_new(Arc::new(LogicalPlan::TableScan(scan)), name)?;
                Ok(Transformed::new(
                    LogicalPlan::SubqueryAlias(alias),
                    true,
                    datafusion::common::tree_node::TreeNodeRecursion::Jump,
                ))
            }
            other => Ok(Transformed::no(other)),
        })
        .data()
}

/// A table whose scans stop after the files that hold `bytes` bytes.
#[derive(Debug)]
struct ByteSample {
    inner: Arc<dyn TableProvider>,
    bytes: u64,
}

#[async_trait]
impl TableProvider for ByteSample {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn table_type(&self) -> TableType {
        self.inner.table_type()
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&datafusion::logical_expr::Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        self.inner.supports_filters_pushdown(filters)
    }

    async fn scan(
        &self,
        state: &dyn DfSession,
        projection: Option<&Vec<usize>>,
        filters: &[datafusion::logical_expr::Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let plan = self.inner.scan(state, projection, filters, limit).await?;
        let mut left = self.bytes;
        plan.transform_down(|node| {
            let Some(config) =
                node.downcast_ref::<DataSourceExec>().and_then(|s| s.data_source().downcast_ref::<FileScanConfig>())
            else {
                return Ok(Transformed::no(node));
            };
            let mut groups = Vec::with_capacity(config.file_groups.len());
            for group in &config.file_groups {
                let mut kept = Vec::new();
                for file in group.iter() {
                    if left == 0 {
                        break;
                    }
                    let size = file.range.as_ref().map_or(file.object_meta.size, |r| (r.end - r.start) as u64);
                    left = left.saturating_sub(size.max(1));
                    kept.push(file.clone());
                }
                groups.push(FileGroup::new(kept));
            }
            // The table's statistics are not the sample's (an exact row count would answer count(*)).
            let unknown = datafusion::common::Statistics::new_unknown(config.file_source.table_schema().table_schema());
            let config =
                FileScanConfigBuilder::from(config.clone()).with_file_groups(groups).with_statistics(unknown).build();
            Ok(Transformed::yes(DataSourceExec::from_data_source(config)))
        })
        .data()
    }
}

#[cfg(test)]
mod tests {
    use super::byte_length;

    #[test]
    fn byte_lengths_as_hive_writes_them() {
        assert_eq!(byte_length("100M"), Some(100 << 20));
        assert_eq!(byte_length("1g"), Some(1 << 30));
        assert_eq!(byte_length("512B"), Some(512));
        assert_eq!(byte_length("2K"), Some(2048));
        assert_eq!(byte_length("M"), None);
        assert_eq!(byte_length("12"), None);
        assert_eq!(byte_length("1.5M"), None);
    }
}
