//! A running job's progress, stage by stage: the scheduler serves it (a
//! small gRPC service of hiveql's, beside Ballista's, whose job status
//! says nothing of stages), the client asks for it while it follows a
//! job, and a session's [`ProgressFeed`] hands it to whoever watches (the
//! CLI draws "stage 2: 3/4 tasks" on stderr).

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use ballista_scheduler::scheduler_server::SchedulerServer;
use ballista_scheduler::state::execution_stage::ExecutionStage;
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};
use tonic::{Request, Response, Status};

/// The service's generated client and server.
pub mod service {
    include!(concat!(env!("OUT_DIR"), "/hiveql.dist.JobProgress.rs"));
}

/// Which job.
#[derive(Clone, PartialEq, prost::Message)]
pub struct JobRequest {
    /// Ballista's job id.
    #[prost(string, tag = "1")]
    pub job_id: String,
}

/// A job's stages, in stage order; none when the job is not running.
#[derive(Clone, PartialEq, prost::Message)]
pub struct JobStages {
    /// The stages.
    #[prost(message, repeated, tag = "1")]
    pub stages: Vec<StageProgress>,
}

/// One stage's progress.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct StageProgress {
    /// The stage's number (Ballista's stage id, from 1).
    #[prost(uint32, tag = "1")]
    pub stage: u32,
    /// Tasks (input partitions) done.
    #[prost(uint32, tag = "2")]
    pub done: u32,
    /// Tasks in all.
    #[prost(uint32, tag = "3")]
    pub total: u32,
    /// Tasks running now.
    #[prost(uint32, tag = "4")]
    pub running: u32,
}

impl fmt::Display for JobStages {
    /// `stage 1: 4/4 tasks, stage 2: 1/2 tasks`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.stages.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "stage {}: {}/{} tasks", s.stage, s.done, s.total)?;
        }
        Ok(())
    }
}

/// A stage's progress as its graph has it.
fn stage_progress(id: usize, stage: &ExecutionStage) -> StageProgress {
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let (total, done, running) = match stage {
        // not resolved yet: as many tasks as the stage's plan has partitions
        ExecutionStage::UnResolved(s) => (s.plan.properties().output_partitioning().partition_count(), 0, 0),
        ExecutionStage::Resolved(s) => (s.partitions, 0, 0),
        ExecutionStage::Successful(s) => (s.partitions, s.partitions, 0),
        ExecutionStage::Running(s) => {
            let mut done = BTreeSet::new();
            let mut running = 0;
            for task in &s.task_infos {
                match &task.task_status {
                    ballista_core::serde::protobuf::task_status::Status::Successful(_) => {
                        done.extend(task.global_input_partition_ids.iter().copied())
                    }
                    ballista_core::serde::protobuf::task_status::Status::Running(_) => running += 1,
                    _ => {}
                }
            }
            (s.partitions, done.len(), running)
        }
        ExecutionStage::Failed(s) => (s.partitions, 0, 0),
    };
    StageProgress { stage: count(id), done: count(done), total: count(total), running: count(running) }
}

/// The scheduler's side: the progress of its running jobs.
#[derive(Clone)]
pub struct ProgressService(pub SchedulerServer<LogicalPlanNode, PhysicalPlanNode>);

#[tonic::async_trait]
impl service::job_progress_server::JobProgress for ProgressService {
    async fn stages(&self, request: Request<JobRequest>) -> Result<Response<JobStages>, Status> {
        let job_id = request.into_inner().job_id;
        let jobs = self.0.state.task_manager.get_running_job_cache();
        let Some(job) = jobs.get(job_id.as_str()) else { return Ok(Response::new(JobStages::default())) };
        let graph = job.execution_graph.read().await;
        let mut stages: Vec<StageProgress> =
            graph.stages().iter().map(|(id, stage)| stage_progress(*id, stage)).collect();
        stages.sort_by_key(|s| s.stage);
        Ok(Response::new(JobStages { stages }))
    }
}

/// A session's feed of its running job's progress (a session config
/// extension): the client publishes, watchers read the latest. Nothing is
/// asked of the scheduler while nobody watches.
#[derive(Debug)]
pub struct ProgressFeed(tokio::sync::watch::Sender<Option<JobStages>>);

impl Default for ProgressFeed {
    fn default() -> Self {
        ProgressFeed(tokio::sync::watch::channel(None).0)
    }
}

impl ProgressFeed {
    /// Watch the progress of the session's jobs (`None` between jobs).
    pub fn watch(&self) -> tokio::sync::watch::Receiver<Option<JobStages>> {
        self.0.subscribe()
    }

    /// Whether anyone watches.
    pub fn watched(&self) -> bool {
        self.0.receiver_count() > 0
    }

    /// Publish a job's progress (`None`: the job ended).
    pub fn publish(&self, stages: Option<JobStages>) {
        self.0.send_replace(stages);
    }
}

/// The feed of a session state, if it has one.
pub fn feed_of(config: &datafusion::prelude::SessionConfig) -> Option<Arc<ProgressFeed>> {
    config.get_extension::<ProgressFeed>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_reads_as_stage_done_over_total() {
        let stages = JobStages {
            stages: vec![
                StageProgress { stage: 1, done: 4, total: 4, running: 0 },
                StageProgress { stage: 2, done: 1, total: 2, running: 1 },
            ],
        };
        assert_eq!(stages.to_string(), "stage 1: 4/4 tasks, stage 2: 1/2 tasks");
        assert_eq!(JobStages::default().to_string(), "");
    }
}
