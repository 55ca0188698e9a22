//! Bucket-wise joins and aggregations: when both sides of a join are
//! bucketed on the join keys the same way, bucket `b` of one side can only
//! match bucket `b` of the other, so the join runs bucket by bucket with no
//! repartition of either side (Hive's bucket map join and sort-merge bucket
//! join). A `GROUP BY` (or any hash exchange) on a superset of a table's
//! bucket columns needs no repartition either: every group lies in one bucket.
//!
//! DataFusion assumes that every hash-partitioned input was hashed by its
//! own `RepartitionExec`, so scans cannot simply declare Hive's buckets as
//! `Hash` partitioning: a join of a bucketed table with a repartitioned one
//! would then pair partitions hashed two different ways. [`BucketWise`]
//! therefore runs after DataFusion's rules, on the finished plan, and
//! removes a hash exchange only where nothing above it relies on the
//! exchange's hash:
//! - a partitioned hash join whose two sides are exchanges over scans of
//!   compatible bucketed tables (same hash version, same key types, the
//!   bucket columns paired by the join keys, bucket counts that divide one
//!   another) reads both scans regrouped into `min(N, M)` partitions, one
//!   bucket (or the buckets `b, b + N, ...` of the larger side) per partition;
//! - an exchange over one bucketed scan, whose keys include the bucket columns.
//!
//! Neither is done below an operator that co-partitions several inputs by
//! DataFusion's hash (another partitioned join fed without an exchange
//! between), since that operator's other input stays hashed DataFusion's way.
//! The regrouped input stands under a [`BucketAlignedExec`], which declares
//! the partitioning of the exchange it replaces; a bucket join drops its
//! dynamic filter, which would route probe rows by DataFusion's hash.
//!
//! Scans are recognised by the [`BucketedFile`] extension the table provider
//! attaches to each data file whose name gives its bucket (`000003_0`).

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::config::ConfigOptions;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfig, FileScanConfigBuilder};
use datafusion::datasource::source::DataSourceExec;
use datafusion::physical_expr::{Distribution, Partitioning, PhysicalExpr};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::execution_plan::{ChildrenPropertiesMode, ReplaceChildrenOptions};
use datafusion::physical_plan::expressions::Column;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::joins::{HashJoinExec, PartitionMode};
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::sorts::sort_preserving_merge::SortPreservingMergeExec;
use datafusion::physical_plan::union::InterleaveExec;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};

use super::BucketingVersion;
use super::aligned::BucketAlignedExec;
use crate::explain::PlanNotes;

/// How a scanned table is bucketed, shared by the [`BucketedFile`]s of a scan.
#[derive(Debug, PartialEq)]
pub struct BucketedTable {
    /// `db.table`, for `EXPLAIN`.
    pub name: String,
    /// The bucket columns, in the table's `CLUSTERED BY` order.
    pub columns: Vec<String>,
    /// The type each bucket column is hashed as ([`super::hashed_type`]).
    pub hash_types: Vec<DataType>,
    pub buckets: u32,
    pub version: BucketingVersion,
}

/// A `PartitionedFile` extension: the file holds bucket `bucket` of `table`.
#[derive(Debug, Clone)]
pub struct BucketedFile {
    pub table: Arc<BucketedTable>,
    pub bucket: u32,
}

/// The physical optimizer rule (see the module documentation).
#[derive(Debug)]
pub struct BucketWise {
    notes: Arc<PlanNotes>,
}

impl BucketWise {
    /// The rule, noting what it does in `notes` for `EXPLAIN`.
    pub fn new(notes: Arc<PlanNotes>) -> Self {
        BucketWise { notes }
    }

    /// `plan` with its bucket-wise exchanges removed. `co_partitioned`: an
    /// operator above relies on `plan`'s partitioning being DataFusion's hash.
    fn rewrite(&self, plan: Arc<dyn ExecutionPlan>, co_partitioned: bool) -> Result<Arc<dyn ExecutionPlan>> {
        if !co_partitioned {
            if let Some(join) = self.bucket_join(&plan)? {
                return Ok(join);
            }
            if let Some(input) = self.bucket_exchange(&plan)? {
                return Ok(input);
            }
        }
        let children: Vec<Arc<dyn ExecutionPlan>> = plan.children().into_iter().cloned().collect();
        if children.is_empty() {
            return Ok(plan);
        }
        // An exchange's output does not depend on its input's partitioning.
        let exchange =
            plan.is::<RepartitionExec>() || plan.is::<CoalescePartitionsExec>() || plan.is::<SortPreservingMergeExec>();
        let pairs_inputs = children.len() > 1 || plan.is::<InterleaveExec>();
        let required = plan.input_distribution_requirements();
        let mut changed = false;
        let mut rewritten = Vec::with_capacity(children.len());
        for (i, child) in children.into_iter().enumerate() {
            let hashed = required.child_distribution(i).is_some_and(keyed) || plan.is::<InterleaveExec>();
            let constrained = !exchange && (co_partitioned || (pairs_inputs && hashed));
            let new = self.rewrite(Arc::clone(&child), constrained)?;
            changed |= !Arc::ptr_eq(&new, &child);
            rewritten.push(new);
        }
        if changed { recompute(plan, rewritten) } else { Ok(plan) }
    }

    /// A partitioned hash join of two bucket-aligned sides, joined bucket by bucket.
    fn bucket_join(&self, plan: &Arc<dyn ExecutionPlan>) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let Some(join) = plan.downcast_ref::<HashJoinExec>() else { return Ok(None) };
        if join.partition_mode() != &PartitionMode::Partitioned {
            return Ok(None);
        }
        let (Some(left), Some(right)) = (hash_exchange_input(join.left()), hash_exchange_input(join.right())) else {
            return Ok(None);
        };
        let (Some(l), Some(r)) = (aligned(left), aligned(right)) else { return Ok(None) };
        let (lt, rt) = (&l.table, &r.table);
        let compatible = lt.version == rt.version
            && lt.hash_types == rt.hash_types
            && (lt.buckets.is_multiple_of(rt.buckets) || rt.buckets.is_multiple_of(lt.buckets));
        // Each pair of bucket columns (in CLUSTERED BY order) must be equated by the join.
        let paired = l.columns.iter().zip(&r.columns).all(|(lc, rc)| {
            join.on().iter().any(|(le, re)| column_index(le) == Some(*lc) && column_index(re) == Some(*rc))
        });
        if !compatible || !paired {
            return Ok(None);
        }
        let buckets = lt.buckets.min(rt.buckets);
        let children = vec![
            aligned_exchange(join.left(), realign(left, buckets)?, lt)?,
            aligned_exchange(join.right(), realign(right, buckets)?, rt)?,
        ];
        self.notes.record(
            "bucket join",
            format!("{} with {}: joined bucket by bucket in {buckets} partitions, no repartition", lt.name, rt.name),
        );
        // Without its dynamic filter: that filter routes probe rows to the
        // build partitions by DataFusion's hash, not by bucket.
        let join = join.builder().with_new_children(children)?.reset_state().recompute_properties().build_exec()?;
        Ok(Some(join))
    }

    /// A hash exchange whose keys include the bucket columns of the
    /// bucket-aligned input below it: the input, regrouped by bucket.
    fn bucket_exchange(&self, plan: &Arc<dyn ExecutionPlan>) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let Some(input) = hash_exchange_input(plan) else { return Ok(None) };
        let Some(Partitioning::Hash(keys, _)) = plan.downcast_ref::<RepartitionExec>().map(|r| r.partitioning()) else {
            return Ok(None);
        };
        let Some(a) = aligned(input) else { return Ok(None) };
        let keys: Vec<usize> = keys.iter().filter_map(column_index).collect();
        if !a.columns.iter().all(|c| keys.contains(c)) {
            return Ok(None);
        }
        self.notes.record(
            "bucketed exchange",
            format!("{}: grouped by bucket in {} partitions, no repartition", a.table.name, a.table.buckets),
        );
        Ok(Some(aligned_exchange(plan, realign(input, a.table.buckets)?, &a.table)?))
    }
}

impl PhysicalOptimizerRule for BucketWise {
    fn optimize(&self, plan: Arc<dyn ExecutionPlan>, config: &ConfigOptions) -> Result<Arc<dyn ExecutionPlan>> {
        match config.extensions.get::<crate::options::HiveqlOptions>() {
            Some(o) if !o.bucket_wise => Ok(plan),
            _ => self.rewrite(plan, false),
        }
    }

    fn name(&self) -> &str {
        "hiveql_bucket_wise"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// The input of a hash `RepartitionExec`.
fn hash_exchange_input(plan: &Arc<dyn ExecutionPlan>) -> Option<&Arc<dyn ExecutionPlan>> {
    let r = plan.downcast_ref::<RepartitionExec>()?;
    matches!(r.partitioning(), Partitioning::Hash(..)).then(|| r.input())
}

/// `realigned` (the input of `exchange`, regrouped by bucket) standing in
/// for the hash exchange `exchange`, with the same declared partitioning.
fn aligned_exchange(
    exchange: &Arc<dyn ExecutionPlan>,
    realigned: Arc<dyn ExecutionPlan>,
    table: &BucketedTable,
) -> Result<Arc<dyn ExecutionPlan>> {
    let Partitioning::Hash(keys, _) = exchange.output_partitioning() else {
        return datafusion::common::internal_err!("a bucket-aligned input replaces a hash exchange");
    };
    Ok(Arc::new(BucketAlignedExec::new(realigned, keys.clone(), table.name.clone())))
}

/// The index of a plain column reference.
fn column_index(e: &Arc<dyn PhysicalExpr>) -> Option<usize> {
    e.downcast_ref::<Column>().map(Column::index)
}

/// A plan whose rows can be regrouped by bucket: it is a scan of a bucketed
/// table under operators that keep rows where they are.
struct Aligned {
    table: Arc<BucketedTable>,
    /// The plan's output column of each bucket column, in `CLUSTERED BY` order.
    columns: Vec<usize>,
}

/// `plan` as a bucketed scan under row-preserving operators, if it is one.
fn aligned(plan: &Arc<dyn ExecutionPlan>) -> Option<Aligned> {
    if let Some(scan) = plan.downcast_ref::<DataSourceExec>() {
        let config = scan.data_source().downcast_ref::<FileScanConfig>()?;
        let mut table: Option<&Arc<BucketedTable>> = None;
        for file in config.file_groups.iter().flat_map(|g| g.iter()) {
            let b = file.extension::<BucketedFile>()?;
            match table {
                Some(t) if !Arc::ptr_eq(t, &b.table) => return None,
                _ => table = Some(&b.table),
            }
        }
        let table = Arc::clone(table?);
        let schema = plan.schema();
        let columns = table.columns.iter().map(|c| schema.index_of(c).ok()).collect::<Option<Vec<_>>>()?;
        return Some(Aligned { table, columns });
    }
    if let Some(p) = plan.downcast_ref::<ProjectionExec>() {
        let inner = aligned(p.input())?;
        let columns = inner
            .columns
            .iter()
            .map(|c| p.expr().iter().position(|e| column_index(&e.expr) == Some(*c)))
            .collect::<Option<Vec<_>>>()?;
        return Some(Aligned { table: inner.table, columns });
    }
    if let Some(f) = plan.downcast_ref::<FilterExec>() {
        let inner = aligned(f.input())?;
        let Some(projection) = f.projection() else { return Some(inner) };
        let columns =
            inner.columns.iter().map(|c| projection.iter().position(|p| p == c)).collect::<Option<Vec<_>>>()?;
        return Some(Aligned { table: inner.table, columns });
    }
    if let Some(a) = plan.downcast_ref::<AggregateExec>() {
        if a.mode() != &AggregateMode::Partial || !a.group_expr().is_single() {
            return None;
        }
        let inner = aligned(a.input())?;
        let groups = a.group_expr().expr();
        let columns = inner
            .columns
            .iter()
            .map(|c| groups.iter().position(|(e, _)| column_index(e) == Some(*c)))
            .collect::<Option<Vec<_>>>()?;
        return Some(Aligned { table: inner.table, columns });
    }
    if let Some(r) = plan.downcast_ref::<RepartitionExec>() {
        // A round-robin spread is undone by `realign`.
        return matches!(r.partitioning(), Partitioning::RoundRobinBatch(_)).then(|| aligned(r.input())).flatten();
    }
    None
}

/// `plan` (which [`aligned`] accepted) with its scan regrouped into
/// `partitions` partitions, partition `i` reading the files of the buckets
/// `b` with `b % partitions == i`, and its round-robin spreads removed.
fn realign(plan: &Arc<dyn ExecutionPlan>, partitions: u32) -> Result<Arc<dyn ExecutionPlan>> {
    if let Some(scan) = plan.downcast_ref::<DataSourceExec>()
        && let Some(config) = scan.data_source().downcast_ref::<FileScanConfig>()
    {
        let mut groups: Vec<Vec<_>> = vec![Vec::new(); partitions as usize];
        for file in config.file_groups.iter().flat_map(|g| g.iter()) {
            let bucket = file.extension::<BucketedFile>().map_or(0, |b| b.bucket);
            groups[(bucket % partitions) as usize].push(file.clone());
        }
        let groups = groups.into_iter().map(FileGroup::new).collect();
        // A declared partitioning keeps each file in its group: DataFusion
        // otherwise lets idle partitions steal files from busy ones.
        let config = FileScanConfigBuilder::from(config.clone())
            .with_file_groups(groups)
            .with_output_partitioning(Some(Partitioning::UnknownPartitioning(partitions as usize)))
            .build();
        return Ok(DataSourceExec::from_data_source(config));
    }
    if let Some(r) = plan.downcast_ref::<RepartitionExec>() {
        return realign(r.input(), partitions);
    }
    let children =
        plan.children().into_iter().map(|c| realign(c, partitions)).collect::<Result<Vec<Arc<dyn ExecutionPlan>>>>()?;
    recompute(Arc::clone(plan), children)
}

/// `plan` over new children, its properties (partitioning) derived afresh.
fn recompute(plan: Arc<dyn ExecutionPlan>, children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
    plan.replace_children(children, ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute))
}

/// Whether a child must be partitioned by key (DataFusion's hash).
#[allow(deprecated)] // HashPartitioned: the old name of KeyPartitioned, still produced by plans
fn keyed(d: &Distribution) -> bool {
    matches!(d, Distribution::KeyPartitioned(_) | Distribution::HashPartitioned(_))
}
