//! A session's query on a cluster: the physical plan, planned here where
//! the metastore is, goes to the scheduler ([`super::scheduler`]), which
//! runs it in stages on the workers; the rows stream back from the final
//! stage.

use std::sync::Arc;

use ballista_core::extension::SessionConfigExt;
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::context::SessionState;
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::protobuf::PhysicalPlanNode;

use super::codec::HiveCodec;

/// The scheduler a session's configuration names (`hiveql.cluster`), if any.
pub fn cluster_of(state: &SessionState) -> Option<String> {
    state
        .config()
        .options()
        .extensions
        .get::<crate::options::HiveqlOptions>()
        .map(|o| o.cluster.trim().to_string())
        .filter(|c| !c.is_empty())
}

/// The state to plan a query for a cluster with: `state` without dynamic
/// filters. A join's or a top-k's dynamic filter is filled by one operator
/// and read by another in the same process; on a cluster the two run in
/// different stages, and Ballista's scheduler refuses to re-plan a join
/// that carries one ("Cannot swap HashJoinExec inputs after dynamic
/// filters have been constructed") and the job never finishes.
pub fn planning_state(state: &SessionState) -> SessionState {
    let mut state = state.clone();
    let optimizer = &mut state.config_mut().options_mut().optimizer;
    optimizer.enable_dynamic_filter_pushdown = false;
    optimizer.enable_join_dynamic_filter_pushdown = false;
    optimizer.enable_topk_dynamic_filter_pushdown = false;
    optimizer.enable_aggregate_dynamic_filter_pushdown = false;
    state
}

/// Whether `plan` reads any file. A plan that reads none (constants,
/// `VALUES`) has nothing to distribute: the session runs it in-process,
/// which also spares it a round trip to the scheduler (and Ballista 55
/// hangs on a stage that is a `UNION ALL` of constant rows).
pub fn reads_files(plan: &Arc<dyn ExecutionPlan>) -> bool {
    plan.downcast_ref::<DataSourceExec>()
        .is_some_and(|exec| exec.data_source().downcast_ref::<FileScanConfig>().is_some())
        || plan.children().into_iter().any(reads_files)
}

/// Run `plan` on the cluster whose scheduler is at `scheduler` (`HOST:PORT`).
pub async fn execute(
    scheduler: &str,
    state: &SessionState,
    plan: Arc<dyn ExecutionPlan>,
) -> Result<SendableRecordBatchStream> {
    let url = if scheduler.contains("://") { scheduler.to_string() } else { format!("http://{scheduler}") };
    let config = state.config().clone().upgrade_for_ballista().with_ballista_adaptive_query_planner(false);
    let ballista = config.ballista_config();
    ballista_core::execution_plans::execute_physical_plan::<PhysicalPlanNode>(
        url,
        &ballista,
        plan,
        &HiveCodec::default(),
        state.session_id().to_string(),
        config,
    )
    .await
    .map_err(|e| match e {
        DataFusionError::Context(..) => e,
        DataFusionError::Execution(msg) => match task_failure(&msg) {
            Some(readable) => DataFusionError::Execution(readable),
            None => DataFusionError::Execution(msg),
        }
        .context(format!("cluster {scheduler}")),
        other => other.context(format!("cluster {scheduler}")),
    })
}

/// A failed job's error as the user should read it. Ballista reports a
/// task's error as the `Debug` text of the worker's error, inside its own
/// words (`Job J failed: Job failed due to stage 2 failed: Task failed due
/// to runtime execution error: DataFusionError(Shared(External(...
/// Data("value \"many\" ...")))))`); this keeps the stage and the
/// innermost message, unescaped: `stage 2 failed: value "many" ...`.
pub fn task_failure(msg: &str) -> Option<String> {
    const TASK: &str = "runtime execution error: ";
    let at = msg.find(TASK)?;
    let debug = &msg[at + TASK.len()..];
    let (start, end) = (debug.find('"')?, debug.rfind('"')?);
    if end <= start {
        return None;
    }
    let mut inner = String::new();
    let mut chars = debug[start + 1..end].chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            inner.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => inner.push('\n'),
            Some('t') => inner.push('\t'),
            Some(other) => inner.push(other),
            None => {}
        }
    }
    let stage = msg[..at]
        .rsplit_once("stage ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .filter(|n| n.chars().all(|c| c.is_ascii_digit()));
    Some(match stage {
        Some(n) => format!("stage {n} failed: {inner}"),
        None => inner,
    })
}

#[cfg(test)]
mod tests {
    use super::task_failure;

    #[test]
    fn a_task_failure_reads_as_the_workers_error() {
        let msg = r#"Job 038J0F077T000 failed: Job failed due to stage 1 failed: Task failed due to runtime execution error: DataFusionError(Shared(External(ArrowError(ExternalError(Data("value "many" of column count does not convert to int in file /x/events.json, line 3 (set SerDe property use.null.for.invalid.data = true)"))))))"#;
        assert_eq!(
            task_failure(msg).unwrap(),
            r#"stage 1 failed: value "many" of column count does not convert to int in file /x/events.json, line 3 (set SerDe property use.null.for.invalid.data = true)"#
        );
        assert_eq!(task_failure("Job 1 failed: the scheduler went away"), None);
    }
}
