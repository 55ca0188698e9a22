//! A session's query on a cluster: the physical plan, planned here where
//! the metastore is, goes to the scheduler ([`super::scheduler`]), which
//! runs it in stages on the workers; the rows stream back from the final
//! stage.

use std::sync::Arc;

use ballista_core::extension::SessionConfigExt;
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
        other => other.context(format!("cluster {scheduler}")),
    })
}
