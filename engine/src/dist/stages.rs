//! The stage DAG a physical plan runs as on a cluster, for `EXPLAIN` on a
//! cluster session: the plan cut at its shuffle boundaries by Ballista's
//! static planner (the one the scheduler runs), each stage described by
//! what it reads (file splits or earlier stages' shuffle output), how it
//! partitions what it writes, and how many tasks it runs.

use std::sync::Arc;

use ballista_core::JobId;
use ballista_core::execution_plans::UnresolvedShuffleExec;
use ballista_scheduler::planner::{DefaultDistributedPlanner, DistributedPlanner};
use datafusion::common::Result;
use datafusion::config::ConfigOptions;
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::physical_plan::{ExecutionPlan, Partitioning, displayable};

/// One stage of a distributed plan, described.
#[derive(Debug, Clone, PartialEq)]
pub struct StageDescription {
    /// The stage's number (Ballista's stage id).
    pub id: usize,
    /// One line: tasks, inputs, output.
    pub summary: String,
    /// The stage's operators, indented.
    pub plan: String,
}

/// The stages `plan` runs as, inputs before the stages that read them; the
/// last is the final stage, whose partitions the client reads.
pub fn describe(plan: Arc<dyn ExecutionPlan>, config: &ConfigOptions) -> Result<Vec<StageDescription>> {
    let stages = DefaultDistributedPlanner::new()
        .plan_query_stages(&JobId::new("explain"), plan, config)
        .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?;
    let last = stages.len().saturating_sub(1);
    Ok(stages
        .iter()
        .enumerate()
        .map(|(i, stage)| {
            let mut inputs = Vec::new();
            collect_inputs(stage.children()[0], &mut inputs);
            let tasks = stage.input_partition_count();
            let parts = format!("{tasks} partition{}", if tasks == 1 { "" } else { "s" });
            let output = match stage.shuffle_output_partitioning() {
                Some(p) => format!("writes {}", partitioning(p)),
                None if i == last => format!("returns {parts} to the client"),
                None => format!("writes its {parts} unchanged"),
            };
            StageDescription {
                id: stage.stage_id(),
                summary: format!(
                    "Stage {}: {tasks} task{}, reads {}, {output}",
                    stage.stage_id(),
                    if tasks == 1 { "" } else { "s" },
                    if inputs.is_empty() { "no input".to_string() } else { inputs.join(" and ") },
                ),
                plan: displayable(stage.children()[0].as_ref()).indent(false).to_string(),
            }
        })
        .collect())
}

/// What a stage's plan reads: its scans and the stages whose shuffle output
/// it reads.
fn collect_inputs(plan: &Arc<dyn ExecutionPlan>, out: &mut Vec<String>) {
    if let Some(shuffle) = plan.downcast_ref::<UnresolvedShuffleExec>() {
        let how = if shuffle.broadcast { "broadcast" } else { "shuffle" };
        out.push(format!("stage {} ({how}, {} partitions)", shuffle.stage_id, shuffle.upstream_partition_count));
        return;
    }
    if let Some(scan) =
        plan.downcast_ref::<DataSourceExec>().and_then(|exec| exec.data_source().downcast_ref::<FileScanConfig>())
    {
        // a file cut into byte ranges is in several groups
        let files: std::collections::HashSet<&str> =
            scan.file_groups.iter().flat_map(|g| g.iter()).map(|f| f.object_meta.location.as_ref()).collect();
        let (files, splits) = (files.len(), scan.file_groups.iter().map(|g| g.len()).sum::<usize>());
        let dir = scan
            .file_groups
            .iter()
            .flat_map(|g| g.iter())
            .next()
            .map(|f| {
                let path = f.object_meta.location.as_ref();
                format!(" under {}{}", scan.object_store_url.as_str(), path.rsplit_once('/').map_or("", |(d, _)| d))
            })
            .unwrap_or_default();
        out.push(format!(
            "{} scan of {files} file{} ({splits} split{}){dir}",
            scan.file_source().file_type(),
            if files == 1 { "" } else { "s" },
            if splits == 1 { "" } else { "s" },
        ));
        return;
    }
    for child in plan.children() {
        collect_inputs(child, out);
    }
}

/// A shuffle's output partitioning, as EXPLAIN prints it.
fn partitioning(p: &Partitioning) -> String {
    match p {
        Partitioning::Hash(keys, n) => {
            let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
            format!("hash [{}] into {n} partitions", keys.join(", "))
        }
        Partitioning::RoundRobinBatch(n) => format!("round robin into {n} partitions"),
        other => other.to_string(),
    }
}
