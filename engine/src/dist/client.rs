//! A session's query on a cluster: the physical plan, planned here where
//! the metastore is, goes to the scheduler ([`super::scheduler`]), which
//! runs it in stages on the workers; the rows stream back from the final
//! stage's workers. A job whose statement is dropped is cancelled.

use std::sync::Arc;

use ballista_core::client::BallistaClient;
use ballista_core::extension::{BallistaConfigGrpcEndpoint, SessionConfigExt};
use ballista_core::serde::protobuf::execute_query_params::Query;
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use ballista_core::serde::protobuf::{
    CancelJobParams, ExecuteQueryParams, GetJobStatusParams, KeyValuePair, PartitionLocation, execute_query_result,
    job_status,
};
use ballista_core::utils::{GrpcClientConfig, create_grpc_client_endpoint};
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::context::SessionState;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion_proto::physical_plan::AsExecutionPlan;
use datafusion_proto::protobuf::PhysicalPlanNode;
use futures::{StreamExt, TryStreamExt};
use hiveql_storage::secret::Secret;

use super::auth::{self, SessionSecret};
use super::codec::HiveCodec;
use super::progress::service::job_progress_client::JobProgressClient;
use super::progress::{self, JobRequest};

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
///
/// The job is submitted and followed here rather than through Ballista's
/// `execute_physical_plan`, which does not let go of the job's id: the
/// statement being dropped (Ctrl-C in the REPL, a cancelled script) must
/// cancel the job on the cluster too, not leave its tasks running.
pub async fn execute(
    scheduler: &str,
    state: &SessionState,
    plan: Arc<dyn ExecutionPlan>,
) -> Result<SendableRecordBatchStream> {
    let on_cluster = |e: DataFusionError| match e {
        DataFusionError::Context(..) => e,
        DataFusionError::Execution(msg) => match task_failure(&msg) {
            Some(readable) => DataFusionError::Execution(readable),
            None => DataFusionError::Execution(msg),
        }
        .context(format!("cluster {scheduler}")),
        other => other.context(format!("cluster {scheduler}")),
    };
    run_job(scheduler, state, plan).await.map_err(on_cluster)
}

async fn run_job(
    scheduler: &str,
    state: &SessionState,
    plan: Arc<dyn ExecutionPlan>,
) -> Result<SendableRecordBatchStream> {
    let url = if scheduler.contains("://") { scheduler.to_string() } else { format!("http://{scheduler}") };
    let config = state.config().clone().upgrade_for_ballista().with_ballista_adaptive_query_planner(false);
    let ballista = config.ballista_config();
    let mut bytes = Vec::new();
    PhysicalPlanNode::try_from_physical_plan(plan.clone(), &HiveCodec::default())?
        .try_encode(&mut bytes)
        .map_err(|e| DataFusionError::Internal(format!("encoding the plan: {e}")))?;
    let secret = match state.config().get_extension::<SessionSecret>() {
        Some(secret) => secret.discover().map_err(DataFusionError::Execution)?,
        None => Secret::none(),
    };
    let mut settings: Vec<KeyValuePair> =
        config.options().entries().into_iter().map(|e| KeyValuePair { key: e.key, value: e.value }).collect();
    // the job's tasks show the workers that a session with the secret sent them
    settings.push(KeyValuePair { key: auth::TASK_TOKEN.into(), value: auth::task_token(&secret) });
    let params = ExecuteQueryParams {
        query: Some(Query::PhysicalPlan(bytes)),
        settings,
        session_id: state.session_id().to_string(),
        operation_id: format!("{}-{}", state.session_id(), crate::unique()),
    };
    let grpc = GrpcClientConfig::from(&ballista);
    let max_message = ballista.grpc_client_max_message_size();
    let endpoint =
        create_grpc_client_endpoint(url, Some(&grpc)).map_err(|e| DataFusionError::Execution(format!("{e}")))?;
    let channel = auth::endpoint_override(&secret)(endpoint)
        .map_err(|e| DataFusionError::Execution(format!("{e}")))?
        .connect()
        .await
        .map_err(|e| DataFusionError::Execution(format!("cannot reach the scheduler: {e}")))?;
    let mut progress = JobProgressClient::new(channel.clone());
    let feed = progress::feed_of(state.config());
    let mut client =
        SchedulerGrpcClient::new(channel).max_encoding_message_size(max_message).max_decoding_message_size(max_message);
    let mut request = tonic::Request::new(params);
    ballista_core::version::insert_version_header(request.metadata_mut());
    // The submission runs on its own task and owns the job until it hands
    // the guard over: a statement dropped (Ctrl-C) while the scheduler's
    // answer is on its way still has its job cancelled when the id arrives.
    let live = LiveJob::new();
    let (handover, submitted) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let job = submit(&mut client, request).await.map(|job_id| JobGuard::new(client, job_id, live));
        // a statement gone meanwhile leaves the guard here, and its drop cancels the job
        if let Err(Ok(abandoned)) = handover.send(job) {
            tracing::info!(job = %abandoned.job_id, "statement dropped while its job was submitted");
        }
    });
    let mut job = submitted.await.map_err(|_| DataFusionError::Execution("the job's submission was lost".into()))??;
    // poll the job's status: every 5 ms for the first half second (a short
    // job's answer is not held up: doubling from the start cost a 50 ms
    // job 25 ms), then backing off to every 100 ms
    let mut wait = std::time::Duration::from_millis(5);
    let polling = std::time::Instant::now();
    // the stages' progress, for a session whose progress is watched
    let mut progress_due = std::time::Instant::now() + PROGRESS_EVERY;
    let _clear = feed.clone().map(ClearOnDrop);
    loop {
        let update = job
            .client
            .get_job_status(GetJobStatusParams { job_id: job.job_id.clone() })
            .await
            .map_err(|e| DataFusionError::Execution(format!("following the job: {}", e.message())))?
            .into_inner();
        let status = update.status.and_then(|s| s.status);
        match status {
            Some(job_status::Status::Failed(failed)) => {
                job.finished();
                return Err(DataFusionError::Execution(format!("Job {} failed: {}", job.job_id, failed.error)));
            }
            Some(job_status::Status::Successful(done)) => {
                job.finished();
                // each final output once, even if its stage was run again (see `rerun`)
                let (locations, dropped) = super::rerun::last_of_each(done.partition_location, |l| {
                    let id = l.partition_id.as_ref().map(|p| (p.stage_id, p.partition_id));
                    (id, l.map_partition_id)
                });
                if dropped > 0 {
                    tracing::warn!(job = %job.job_id, "{dropped} final output(s) listed twice; each is read once");
                }
                let results = locations.into_iter().map(move |location| {
                    futures::stream::once(fetch(
                        location,
                        auth::client_endpoint(&secret),
                        max_message,
                        grpc.io_retries_times,
                        grpc.io_retry_wait_time_ms,
                    ))
                    .try_flatten()
                });
                let stream = futures::stream::iter(results).flatten();
                return Ok(Box::pin(RecordBatchStreamAdapter::new(plan.schema(), stream)));
            }
            _ => {
                if let Some(feed) = feed.as_ref().filter(|f| f.watched())
                    && std::time::Instant::now() >= progress_due
                {
                    match progress.stages(JobRequest { job_id: job.job_id.clone() }).await {
                        Ok(stages) => feed.publish(Some(stages.into_inner())),
                        Err(e) => tracing::debug!(job = %job.job_id, "no progress: {}", e.message()),
                    }
                    progress_due = std::time::Instant::now() + PROGRESS_EVERY;
                }
                tokio::time::sleep(wait).await;
                if polling.elapsed() > FAST_POLLS_FOR {
                    wait = (wait * 2).min(std::time::Duration::from_millis(100));
                }
            }
        }
    }
}

/// How long a job's status is asked for every 5 ms before backing off.
const FAST_POLLS_FOR: std::time::Duration = std::time::Duration::from_millis(500);

/// How often a watched job's progress is asked for.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// Tells a session's watchers that its job is over, however it ended.
struct ClearOnDrop(Arc<progress::ProgressFeed>);

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        self.0.publish(None);
    }
}

/// Submit a job; its id.
async fn submit(
    client: &mut SchedulerGrpcClient<tonic::transport::Channel>,
    request: tonic::Request<ExecuteQueryParams>,
) -> Result<String> {
    let submitted = client
        .execute_query(request)
        .await
        .map_err(|e| DataFusionError::Execution(format!("submitting the job: {}", e.message())))?
        .into_inner();
    match submitted.result {
        Some(execute_query_result::Result::Success(ok)) => Ok(ok.job_id),
        Some(execute_query_result::Result::Failure(failure)) => {
            Err(DataFusionError::Execution(format!("the scheduler refused the job: {:?}", failure.failure)))
        }
        None => Err(DataFusionError::Execution("the scheduler answered the job with nothing".into())),
    }
}

/// A job of this process that may still be running on the cluster (being
/// submitted, or followed by a [`JobGuard`]): [`settle_cancels`] waits
/// until there are none.
struct LiveJob;

impl LiveJob {
    fn new() -> Self {
        LIVE_JOBS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        LiveJob
    }
}

impl Drop for LiveJob {
    fn drop(&mut self) {
        LIVE_JOBS.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A submitted job, cancelled on the cluster if dropped before it ended.
struct JobGuard {
    client: SchedulerGrpcClient<tonic::transport::Channel>,
    job_id: String,
    /// Whether the job has ended (nothing to cancel).
    ended: bool,
    /// Dropped after [`Drop::drop`] has queued the cancel.
    _live: LiveJob,
}

impl JobGuard {
    fn new(client: SchedulerGrpcClient<tonic::transport::Channel>, job_id: String, live: LiveJob) -> Self {
        Self { client, job_id, ended: false, _live: live }
    }

    /// The job ended: nothing to cancel.
    fn finished(&mut self) {
        self.ended = true;
    }
}

impl Drop for JobGuard {
    fn drop(&mut self) {
        if !self.ended {
            let (mut client, job_id) = (self.client.clone(), self.job_id.clone());
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => {
                    let cancel = rt.spawn(async move {
                        match client.cancel_job(CancelJobParams { job_id: job_id.clone() }).await {
                            Ok(_) => tracing::info!(job = %job_id, "cancelled the job on the cluster"),
                            Err(e) => tracing::warn!(job = %job_id, "could not cancel the job: {}", e.message()),
                        }
                    });
                    // a long-lived process (the REPL) keeps only the cancels still on their way
                    let mut cancels = CANCELS.lock();
                    cancels.retain(|c| !c.is_finished());
                    cancels.push(cancel);
                }
                Err(_) => tracing::warn!(job = %self.job_id, "job left running: no runtime to cancel it"),
            }
        }
    }
}

/// [`LiveJob`]s of this process.
static LIVE_JOBS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Cancels of dropped jobs still on their way to the scheduler.
static CANCELS: parking_lot::Mutex<Vec<tokio::task::JoinHandle<()>>> = parking_lot::Mutex::new(Vec::new());

/// Wait, at most `within`, until the cancels of dropped jobs have reached
/// their schedulers: a process about to exit after Ctrl-C (`hiveql -e`)
/// calls this, or its job runs on without it. An abandoned statement's
/// job may be dropped a moment after the statement (by the task that fed
/// it), so this first waits for every job's guard to be gone.
pub async fn settle_cancels(within: std::time::Duration) {
    let settle = async {
        while LIVE_JOBS.load(std::sync::atomic::Ordering::SeqCst) > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let pending = std::mem::take(&mut *CANCELS.lock());
        futures::future::join_all(pending).await;
    };
    if tokio::time::timeout(within, settle).await.is_err() {
        tracing::warn!("a cluster job's cancel had not reached its scheduler after {within:?}");
    }
}

/// The rows of one result partition, from the worker holding it.
async fn fetch(
    location: PartitionLocation,
    endpoint: Arc<BallistaConfigGrpcEndpoint>,
    max_message: usize,
    retries: u8,
    retry_wait_ms: u64,
) -> Result<SendableRecordBatchStream> {
    let layout = location.layout();
    let worker =
        location.executor_meta.ok_or_else(|| DataFusionError::Internal("a result without its worker".into()))?;
    let partition =
        location.partition_id.ok_or_else(|| DataFusionError::Internal("a result without its partition".into()))?;
    let port = u16::try_from(worker.port).map_err(|e| DataFusionError::Internal(format!("worker port: {e}")))?;
    let mut client =
        BallistaClient::try_new(&worker.host, port, max_message, false, Some(endpoint), retries, retry_wait_ms, 0, 0)
            .await
            .map_err(|e| DataFusionError::Execution(format!("reaching worker {}:{port}: {e}", worker.host)))?;
    client
        .fetch_partition(&worker.id, &partition.into(), location.file_id, layout, true)
        .await
        .map_err(|e| e.into_datafusion())
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
