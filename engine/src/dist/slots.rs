//! The task slots of the workers, kept honest.
//!
//! Ballista's scheduler takes a worker's slots (vcores) when it binds a task
//! to it and gives them back when the worker reports the task ended. Ballista
//! 55 gives nothing back for a report it cannot place in the job's graph: a
//! task of a stage that was rolled back because another worker was lost (the
//! stage's tasks elsewhere are cancelled, and their reports ignored), or of a
//! job already gone. Each such report loses its slots for good. A worker of
//! one slot then never gets another task and the job waits forever: seen
//! when a worker was killed just as the map stage ended and the reduce
//! stage was being launched.
//!
//! [`SlotLedger`] wraps the cluster state and counts the slots it bound on
//! each worker. [`reconcile`] compares that count every [`RECONCILE_EVERY`]
//! with the slots the running jobs' tasks hold on each worker; slots held by
//! no task on two checks in a row are given back, and the scheduler is
//! prompted to offer them to waiting tasks.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use ballista_core::JobId;
use ballista_core::error::Result;
use ballista_core::serde::protobuf::scheduler_grpc_server::SchedulerGrpc;
use ballista_core::serde::protobuf::{ExecutorHeartbeat, UpdateTaskStatusParams, task_status};
use ballista_core::serde::scheduler::{ExecutorData, ExecutorMetadata};
use ballista_scheduler::cluster::{BoundTask, ClusterState, ClusterStateEventStream, ExecutorSlot};
use ballista_scheduler::config::TaskDistributionPolicy;
use ballista_scheduler::scheduler_server::SchedulerServer;
use ballista_scheduler::state::task_manager::JobInfoCache;
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};

/// How often [`reconcile`] looks for lost slots.
pub const RECONCILE_EVERY: Duration = Duration::from_secs(2);

/// The cluster state of the scheduler, counting the slots bound per worker.
pub struct SlotLedger {
    inner: Arc<dyn ClusterState>,
    /// Slots bound and not given back, per worker. Binds and unbinds hold
    /// this lock across the inner call, so a reading under it sees the
    /// count and the graphs' tasks agree.
    held: tokio::sync::Mutex<HashMap<String, u32>>,
}

impl SlotLedger {
    /// Count the slots of `inner`.
    pub fn new(inner: Arc<dyn ClusterState>) -> Self {
        Self { inner, held: Default::default() }
    }

    /// Workers whose count exceeds the slots their running tasks hold, and
    /// by how much; `None` when a job's graph is busy (try again later
    /// rather than wait for it while holding the ledger, which Ballista may
    /// want while holding the graph).
    async fn surplus(&self, jobs: &HashMap<JobId, JobInfoCache>) -> Option<HashMap<String, u32>> {
        let held = self.held.lock().await;
        let mut in_use: HashMap<&str, u32> = HashMap::new();
        let graphs = jobs.values().map(|job| job.execution_graph.try_read().ok()).collect::<Option<Vec<_>>>()?;
        for graph in &graphs {
            for stage in graph.stages().values() {
                for task in stage.task_infos().unwrap_or_default() {
                    if let task_status::Status::Running(running) = &task.task_status {
                        *in_use.entry(running.executor_id.as_str()).or_default() += task.vcores_consumed;
                    }
                }
            }
        }
        Some(
            held.iter()
                .filter_map(|(worker, &n)| {
                    let used = in_use.get(worker.as_str()).copied().unwrap_or(0);
                    (n > used).then(|| (worker.clone(), n - used))
                })
                .collect(),
        )
    }
}

#[async_trait::async_trait]
impl ClusterState for SlotLedger {
    async fn init(&self) -> Result<()> {
        self.inner.init().await
    }

    async fn bind_schedulable_tasks(
        &self,
        distribution: TaskDistributionPolicy,
        active_jobs: Arc<HashMap<JobId, JobInfoCache>>,
        executors: Option<HashSet<String>>,
    ) -> Result<Vec<BoundTask>> {
        let mut held = self.held.lock().await;
        let bound = self.inner.bind_schedulable_tasks(distribution, active_jobs, executors).await?;
        for (worker, task) in &bound {
            *held.entry(worker.clone()).or_default() += task.vcores_consumed;
        }
        Ok(bound)
    }

    async fn unbind_tasks(&self, slots: Vec<ExecutorSlot>) -> Result<()> {
        let mut held = self.held.lock().await;
        self.inner.unbind_tasks(slots.clone()).await?;
        for (worker, n) in slots {
            if let Some(count) = held.get_mut(&worker) {
                *count = count.saturating_sub(n);
            }
        }
        Ok(())
    }

    async fn register_executor(&self, metadata: ExecutorMetadata, spec: ExecutorData) -> Result<()> {
        let mut held = self.held.lock().await;
        let id = metadata.id.clone();
        self.inner.register_executor(metadata, spec).await?;
        held.insert(id, 0);
        Ok(())
    }

    async fn save_executor_metadata(&self, metadata: ExecutorMetadata) -> Result<()> {
        self.inner.save_executor_metadata(metadata).await
    }

    async fn get_executor_metadata(&self, executor_id: &str) -> Result<ExecutorMetadata> {
        self.inner.get_executor_metadata(executor_id).await
    }

    async fn registered_executor_metadata(&self) -> Vec<ExecutorMetadata> {
        self.inner.registered_executor_metadata().await
    }

    async fn save_executor_heartbeat(&self, heartbeat: ExecutorHeartbeat) -> Result<()> {
        self.inner.save_executor_heartbeat(heartbeat).await
    }

    async fn remove_executor(&self, executor_id: &str) -> Result<()> {
        let mut held = self.held.lock().await;
        self.inner.remove_executor(executor_id).await?;
        held.remove(executor_id);
        Ok(())
    }

    fn executor_heartbeats(&self) -> HashMap<String, ExecutorHeartbeat> {
        self.inner.executor_heartbeats()
    }

    fn get_executor_heartbeat(&self, executor_id: &str) -> Option<ExecutorHeartbeat> {
        self.inner.get_executor_heartbeat(executor_id)
    }

    async fn cluster_state_events(&self) -> Result<ClusterStateEventStream> {
        self.inner.cluster_state_events().await
    }
}

/// Give back, for as long as the scheduler runs, the slots `ledger` counts
/// that no running task of `scheduler` holds on two checks in a row.
pub async fn reconcile(ledger: Arc<SlotLedger>, scheduler: SchedulerServer<LogicalPlanNode, PhysicalPlanNode>) {
    let mut previous: HashMap<String, u32> = HashMap::new();
    let mut tick = tokio::time::interval(RECONCILE_EVERY);
    loop {
        tick.tick().await;
        let jobs = scheduler.state.task_manager.get_running_job_cache();
        let Some(surplus) = ledger.surplus(&jobs).await else { continue };
        // a surplus seen once may be a task between its report and the
        // graph's update; one seen twice is lost
        let lost: Vec<ExecutorSlot> = surplus
            .iter()
            .filter_map(|(worker, &n)| previous.get(worker).map(|&m| (worker.clone(), n.min(m))))
            .collect();
        previous = surplus;
        for (worker, n) in lost {
            tracing::warn!(worker = %worker, slots = n, "giving back task slots that no running task holds");
            if let Err(e) = ledger.unbind_tasks(vec![(worker.clone(), n)]).await {
                tracing::error!(worker = %worker, "could not give back task slots: {e}");
                continue;
            }
            previous.remove(&worker);
            offer_slots(&scheduler, &worker).await;
        }
    }
}

/// Have `scheduler` offer the free slots to the tasks waiting for them, as
/// it does when `worker` (or no one, for an empty id) reports: with an
/// empty status report from it.
pub async fn offer_slots(scheduler: &SchedulerServer<LogicalPlanNode, PhysicalPlanNode>, worker: &str) {
    let prompt = UpdateTaskStatusParams { executor_id: worker.to_string(), task_status: vec![] };
    if let Err(e) = SchedulerGrpc::update_task_status(scheduler, tonic::Request::new(prompt)).await {
        tracing::error!(worker = %worker, "could not prompt the scheduler to offer slots: {e}");
    }
}
