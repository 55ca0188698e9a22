//! Data locality: a scan task that reads `dfs://` blocks goes, when it
//! can, to a worker on a host that holds a replica of them. Ballista 55
//! has no locality of its own; this is its task distribution policy
//! ([`DistributionPolicy`], `TaskDistributionPolicy::Custom`).
//!
//! Each scheduling round, for each running stage, it binds in two passes:
//! first every free worker takes the pending partitions its host has more
//! of (bytes with a replica there) than any other host, then the remaining
//! partitions go as Ballista's own "bias" policy places them (the largest
//! free worker first), but for delay scheduling (as Spark's
//! `spark.locality.wait` and Tez's delayed allocation): a partition whose
//! host has a live worker is left for it for up to [`LOCALITY_WAIT`] from
//! the first time a free worker of another host was refused it. After that
//! the free workers take what they are offered, and the wait starts again
//! from the next refusal (so an idle worker takes another host's partitions
//! at a bounded pace, as Spark's wait since SPARK-18886 resets only when no
//! offer was refused). A host with no live worker never holds any. While
//! partitions are held back, [`nudge`] asks the scheduler for a round every
//! [`LOCALITY_WAIT`], so that a held partition never waits on an event that
//! may not come. Apart from that choice of partitions it
//! binds tasks exactly as Ballista does (partition slices up to the
//! worker's free slots, a stage that collapses its input into one
//! partition as one task).
//!
//! Where a stage's partitions are: the stage's one file scan's file groups
//! (a scan stage's partitions are its file groups), each split's blocks
//! located by the namenode once per stage (at most [`LOCATE_WITHIN`] per
//! file, else no preference). When a stage's last partition is bound, the
//! scheduler logs how many of the bytes its located partitions read have
//! a replica on the host they were bound on ("locality: K of N bytes").

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ballista_core::JobId;
use ballista_core::config::BallistaConfig;
use ballista_core::execution_plans::{RangeShuffleReaderExec, ShuffleReaderExec};
use ballista_core::serde::protobuf::{AvailableVcores, executor_status, job_status};
use ballista_core::serde::scheduler::TaskKey;
use ballista_scheduler::cluster::{BoundTask, ClusterState, DistributionPolicy};
use ballista_scheduler::scheduler_server::SchedulerServer;
use ballista_scheduler::state::execution_graph::{TaskDescription, create_task_info};
use ballista_scheduler::state::execution_stage::RunningStage;
use ballista_scheduler::state::task_manager::JobInfoCache;
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};
use hiveql_storage::secret::Secret;

/// The longest the namenode is waited for to locate one file's blocks.
pub const LOCATE_WITHIN: Duration = Duration::from_secs(1);

/// How long a host's scan partitions are kept for its workers once a free
/// worker elsewhere was refused them (Tez waits 250 ms, Spark 3 s).
pub const LOCALITY_WAIT: Duration = Duration::from_millis(250);

/// The bytes of each partition of a stage that each host has a replica
/// of (empty: no preference), and how its partitions were placed.
#[derive(Debug, Default)]
struct StageHosts {
    by_partition: Vec<PartitionHosts>,
    /// Since when free workers have been refused partitions held for
    /// their hosts (none: the last offer refused nothing).
    refused_since: Option<Instant>,
    /// Bytes of located partitions bound so far, and of those the bytes
    /// with a replica on the host they were bound on.
    placed: u64,
    local: u64,
}

/// The bytes of one partition's splits, and how many of them each host
/// has a replica of.
#[derive(Debug, Default)]
struct PartitionHosts {
    bytes: u64,
    on: HashMap<String, u64>,
}

impl PartitionHosts {
    /// Whether `host` has more of the partition than any other host.
    fn best_on(&self, host: &str) -> bool {
        let most = self.on.values().copied().max().unwrap_or(0);
        most > 0 && self.on.get(host) == Some(&most)
    }

    /// The hosts that have more of the partition than any other.
    fn best_hosts(&self) -> impl Iterator<Item = &str> {
        self.on.keys().map(String::as_str).filter(|h| self.best_on(h))
    }
}

/// The locality-aware distribution policy.
pub struct Locality {
    /// Whether local partitions go first; without, tasks are placed as
    /// Ballista's bias policy places them, and only counted.
    prefer: bool,
    workers: Arc<dyn ClusterState>,
    secret: Secret,
    /// Each worker's host.
    hosts: parking_lot::Mutex<HashMap<String, String>>,
    /// Each stage's partitions' hosts, by (job, stage, attempt).
    stages: parking_lot::Mutex<HashMap<(JobId, usize, usize), StageHosts>>,
    /// Whether the last round held partitions back for their hosts.
    holding: AtomicBool,
}

impl std::fmt::Debug for Locality {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Locality")
    }
}

impl Locality {
    /// A policy that learns the workers' hosts from `workers` and locates
    /// blocks with `secret`; `prefer` off places tasks as Ballista's bias
    /// policy does (the locality log lines then show what that gives).
    pub fn new(workers: Arc<dyn ClusterState>, secret: Secret, prefer: bool) -> Self {
        Locality {
            prefer,
            workers,
            secret,
            hosts: Default::default(),
            stages: Default::default(),
            holding: AtomicBool::new(false),
        }
    }

    async fn host_of(&self, worker: &str) -> Option<String> {
        if let Some(h) = self.hosts.lock().get(worker) {
            return Some(h.clone());
        }
        let host = self.workers.get_executor_metadata(worker).await.ok()?.host;
        self.hosts.lock().insert(worker.to_string(), host.clone());
        Some(host)
    }

    /// Locate the partitions of `stage` (once per stage attempt).
    async fn locate(&self, job: &JobId, stage: &RunningStage) {
        let key = (job.clone(), stage.stage_id, stage.stage_attempt_num);
        if self.stages.lock().contains_key(&key) {
            return;
        }
        let by_partition = match scan_of(&stage.plan) {
            Some(scan) if scan.file_groups.len() == stage.pending.total_partitions() => {
                partition_hosts(&scan, &self.secret).await
            }
            _ => Vec::new(),
        };
        self.stages.lock().insert(key, StageHosts { by_partition, ..Default::default() });
    }

    /// The hosts with a live worker.
    async fn live_hosts(&self) -> HashSet<String> {
        let mut live = HashSet::new();
        for (worker, beat) in self.workers.executor_heartbeats() {
            let active = matches!(beat.status.and_then(|s| s.status), Some(executor_status::Status::Active(_)) | None);
            if active && let Some(host) = self.host_of(&worker).await {
                live.insert(host);
            }
        }
        live
    }

    /// The pending partitions of `stage` that a worker on `host` may take
    /// now, at most `max`: all but those held for another host (its best
    /// for the partition, with a live worker), within [`LOCALITY_WAIT`] of
    /// the first refusal.
    fn free_partitions(
        &self,
        job: &JobId,
        stage: &mut RunningStage,
        host: Option<&str>,
        max: usize,
        live: &HashSet<String>,
    ) -> Vec<usize> {
        let mut stages = self.stages.lock();
        let hosts = stages.get_mut(&(job.clone(), stage.stage_id, stage.stage_attempt_num));
        let Some(hosts) = hosts.filter(|h| self.prefer && !h.by_partition.is_empty()) else {
            return stage.pending.next_slice(max);
        };
        let waiting = hosts.refused_since.is_none_or(|t| t.elapsed() < LOCALITY_WAIT);
        let held = |p: usize| {
            let Some(part) = hosts.by_partition.get(p) else { return false };
            let mut best = part.best_hosts().peekable();
            waiting && best.peek().is_some() && best.all(|h| Some(h) != host && live.contains(h))
        };
        let mut refused = false;
        let free = take_pending(stage, max, |p| {
            let free = !held(p);
            refused |= !free;
            free
        });
        if refused {
            hosts.refused_since.get_or_insert_with(Instant::now);
            self.holding.store(true, Ordering::Relaxed);
        } else {
            hosts.refused_since = None;
        }
        free
    }

    /// Whether a round since the last call held partitions back.
    pub fn holding(&self) -> bool {
        self.holding.swap(false, Ordering::Relaxed)
    }

    /// The pending partitions of `stage` with a replica on `host`, at most `max`.
    fn local_partitions(&self, job: &JobId, stage: &mut RunningStage, host: &str, max: usize) -> Vec<usize> {
        let stages = self.stages.lock();
        let Some(hosts) = stages.get(&(job.clone(), stage.stage_id, stage.stage_attempt_num)) else { return vec![] };
        if hosts.by_partition.is_empty() {
            return vec![];
        }
        take_pending(stage, max, |p| hosts.by_partition.get(p).is_some_and(|h| h.best_on(host)))
    }

    /// Count where `partitions` of `stage` went; log the stage's share once
    /// its last partition is bound.
    fn placed(&self, job: &JobId, stage: &RunningStage, partitions: &[usize], host: Option<&str>) {
        let mut stages = self.stages.lock();
        let Some(hosts) = stages.get_mut(&(job.clone(), stage.stage_id, stage.stage_attempt_num)) else { return };
        for p in partitions {
            let Some(part) = hosts.by_partition.get(*p) else { continue };
            let local = host.and_then(|h| part.on.get(h)).copied().unwrap_or(0);
            hosts.placed += part.bytes;
            hosts.local += local;
        }
        if stage.pending.is_empty() && hosts.placed > 0 {
            tracing::info!(
                job = %job,
                stage = stage.stage_id,
                "locality: {} of {} bytes to read bound on a host with a replica",
                hosts.local,
                hosts.placed
            );
        }
    }

    /// Forget the stages of jobs no longer running.
    fn forget_ended(&self, running: &HashMap<JobId, JobInfoCache>) {
        self.stages.lock().retain(|(job, ..), _| running.contains_key(job));
    }
}

/// Up to `max` of `stage`'s pending partitions that `eligible` admits (it is
/// asked of every pending partition); the others stay pending.
fn take_pending(stage: &mut RunningStage, max: usize, mut eligible: impl FnMut(usize) -> bool) -> Vec<usize> {
    let (mut taken, mut rest) = (Vec::new(), Vec::new());
    for p in stage.pending.next_slice(usize::MAX) {
        if eligible(p) && taken.len() < max {
            taken.push(p);
        } else {
            rest.push(p);
        }
    }
    stage.pending.reschedule(rest);
    taken
}

/// For as long as the scheduler runs: every [`LOCALITY_WAIT`], a round of
/// offers if the last rounds held partitions back (a held partition must
/// not wait for a task of another job to end before it is offered again).
pub async fn nudge(policy: Arc<Locality>, scheduler: SchedulerServer<LogicalPlanNode, PhysicalPlanNode>) {
    let mut tick = tokio::time::interval(LOCALITY_WAIT);
    loop {
        tick.tick().await;
        if policy.holding() {
            super::slots::offer_slots(&scheduler, "").await;
        }
    }
}

#[async_trait::async_trait]
impl DistributionPolicy for Locality {
    async fn bind_tasks(
        &self,
        mut budgets: Vec<&mut AvailableVcores>,
        running_jobs: Arc<HashMap<JobId, JobInfoCache>>,
    ) -> datafusion::error::Result<Vec<BoundTask>> {
        self.forget_ended(&running_jobs);
        let mut bound = Vec::new();
        if budgets.iter().all(|b| b.vcores == 0) {
            return Ok(bound);
        }
        // as Ballista's bias policy: the largest free worker first
        budgets.sort_by_key(|b| std::cmp::Reverse(b.vcores));
        let mut hosts = Vec::with_capacity(budgets.len());
        for b in &budgets {
            hosts.push(self.host_of(&b.executor_id).await);
        }
        let live = if self.prefer { self.live_hosts().await } else { HashSet::new() };
        for (job_id, job) in running_jobs.iter() {
            if !matches!(job.status, Some(job_status::Status::Running(_))) {
                continue;
            }
            let mut graph = job.execution_graph.write().await;
            let session_id = graph.session_id().to_string();
            let mut done = Vec::new();
            while let Some(stage) = graph.fetch_running_stage(&done) {
                done.push(stage.stage_id);
                self.locate(job_id, stage).await;
                let collapse = collapses_input(&stage.plan);
                // first each worker's local partitions, then the rest
                for local_pass in [true, false] {
                    for (budget, host) in budgets.iter_mut().zip(&hosts) {
                        while budget.vcores > 0 && !stage.pending.is_empty() {
                            let max = if collapse { usize::MAX } else { (budget.vcores as usize).min(cap(stage)) };
                            let partitions = match (local_pass, host) {
                                (true, Some(host)) if self.prefer && !collapse => {
                                    self.local_partitions(job_id, stage, host, max)
                                }
                                (true, _) => Vec::new(),
                                (false, _) if collapse => stage.pending.next_slice(max),
                                (false, host) => self.free_partitions(job_id, stage, host.as_deref(), max, &live),
                            };
                            if partitions.is_empty() {
                                break;
                            }
                            self.placed(job_id, stage, &partitions, host.as_deref());
                            bound.push(bind(stage, &session_id, job_id, budget, partitions, collapse));
                        }
                    }
                }
                if budgets.iter().all(|b| b.vcores == 0) {
                    return Ok(bound);
                }
            }
        }
        Ok(bound)
    }

    fn name(&self) -> &str {
        "hiveql-locality"
    }
}

/// The most partitions one task may take (`ballista.*.max_partitions_per_task`).
fn cap(stage: &RunningStage) -> usize {
    stage
        .session_config
        .options()
        .extensions
        .get::<BallistaConfig>()
        .map(|c| c.max_partitions_per_task())
        .filter(|&n| n > 0)
        .unwrap_or(usize::MAX)
}

/// Bind `partitions` of `stage` as one task on `budget`'s worker, as
/// Ballista's own policies do.
fn bind(
    stage: &mut RunningStage,
    session_id: &str,
    job_id: &JobId,
    budget: &mut AvailableVcores,
    partitions: Vec<usize>,
    collapse: bool,
) -> BoundTask {
    // a collapsing stage's task drives one partition whatever it reads
    let vcores = if collapse { 1 } else { u32::try_from(partitions.len()).unwrap_or(u32::MAX) };
    let task_id = stage.task_infos.len();
    let task_attempt = partitions.iter().map(|p| stage.task_failure_numbers[*p]).max().unwrap_or(0);
    let mut info = create_task_info(budget.executor_id.clone(), task_id);
    info.global_input_partition_ids = partitions.clone();
    info.vcores_consumed = vcores;
    stage.task_infos.push(info);
    let task = TaskDescription {
        session_id: session_id.to_string(),
        key: TaskKey { job_id: job_id.clone(), stage_id: stage.stage_id, task_id },
        stage_attempt_num: stage.stage_attempt_num,
        task_attempt,
        global_input_partition_ids: partitions,
        vcores_consumed: vcores,
        plan: stage.plan.clone(),
        session_config: stage.session_config.clone(),
    };
    budget.vcores = budget.vcores.saturating_sub(vcores);
    (budget.executor_id.clone(), task)
}

/// Whether the stage's plan collapses its input partitions into one below
/// its root (its input must then go to one task whole): Ballista's rule,
/// walking single-child operators down to the stage's shuffle reads.
fn collapses_input(root: &Arc<dyn ExecutionPlan>) -> bool {
    fn walk(node: &Arc<dyn ExecutionPlan>) -> bool {
        if node.downcast_ref::<ShuffleReaderExec>().is_some() || node.downcast_ref::<RangeShuffleReaderExec>().is_some()
        {
            return false;
        }
        if node.output_partitioning().partition_count() == 1 {
            return true;
        }
        match node.children().as_slice() {
            [child] => walk(child),
            _ => false,
        }
    }
    match root.children().as_slice() {
        [child] => walk(child),
        _ => false,
    }
}

/// The stage's file scan, if it has exactly one and it reads `dfs://`.
fn scan_of(plan: &Arc<dyn ExecutionPlan>) -> Option<FileScanConfig> {
    fn collect(plan: &Arc<dyn ExecutionPlan>, out: &mut Vec<FileScanConfig>) {
        if let Some(config) =
            plan.downcast_ref::<DataSourceExec>().and_then(|e| e.data_source().downcast_ref::<FileScanConfig>())
        {
            out.push(config.clone());
        }
        for child in plan.children() {
            collect(child, out);
        }
    }
    let mut scans = Vec::new();
    collect(plan, &mut scans);
    match scans.as_slice() {
        [scan] if scan.object_store_url.as_str().starts_with("dfs://") => scans.pop(),
        _ => None,
    }
}

/// The bytes of each file group's splits each host has a replica of.
async fn partition_hosts(scan: &FileScanConfig, secret: &Secret) -> Vec<PartitionHosts> {
    let namenode = scan.object_store_url.as_str().trim_start_matches("dfs://").trim_end_matches('/').to_string();
    let Ok(mut client) = hiveql_storage::client::DfsClient::new(&namenode, secret.clone()) else { return vec![] };
    let mut blocks: HashMap<String, Vec<(u64, u64, HashSet<String>)>> = HashMap::new();
    let mut out = Vec::with_capacity(scan.file_groups.len());
    for group in &scan.file_groups {
        let mut hosts = PartitionHosts::default();
        for file in group.iter() {
            let path = format!("/{}", file.object_meta.location);
            if !blocks.contains_key(&path) {
                let located = match tokio::time::timeout(LOCATE_WITHIN, client.locate(&path)).await {
                    Ok(Ok(located)) => located,
                    Ok(Err(e)) => {
                        tracing::debug!(%path, "no locality: {e}");
                        return vec![];
                    }
                    Err(_) => {
                        tracing::debug!(%path, "no locality: the namenode did not answer within {LOCATE_WITHIN:?}");
                        return vec![];
                    }
                };
                // a host with two replicas of a block still reads it once
                let spans = located
                    .blocks
                    .iter()
                    .map(|b| (b.offset, b.offset + b.len, b.hosts().map(String::from).collect::<HashSet<_>>()))
                    .collect();
                blocks.insert(path.clone(), spans);
            }
            let (start, end) = match &file.range {
                Some(r) => (u64::try_from(r.start).unwrap_or(0), u64::try_from(r.end).unwrap_or(u64::MAX)),
                None => (0, u64::MAX),
            };
            for (b_start, b_end, locations) in &blocks[&path] {
                let overlap = end.min(*b_end).saturating_sub(start.max(*b_start));
                if overlap == 0 {
                    continue;
                }
                hosts.bytes += overlap;
                for h in locations {
                    *hosts.on.entry(h.clone()).or_default() += overlap;
                }
            }
        }
        out.push(hosts);
    }
    out
}
