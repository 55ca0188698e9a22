//! `hiveql scheduler`: Ballista's scheduler, embedded. It takes physical
//! plans from hiveql sessions (decoded with [`super::codec::HiveCodec`]),
//! cuts them into stages at shuffle boundaries and hands the tasks to the
//! workers. Its gRPC service admits only traffic carrying the cluster's
//! secret ([`super::auth`]).

use std::net::SocketAddr;
use std::sync::Arc;

use ballista_core::serde::protobuf::scheduler_grpc_server::SchedulerGrpcServer;
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::{SchedulerConfig, TaskDistributionPolicy};
use ballista_scheduler::scheduler_server::JobIdGenerator;
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};
use hiveql_storage::secret::Secret;

use super::codec::HiveCodec;
use super::progress::service::job_progress_server::JobProgressServer;
use super::slots::SlotLedger;

/// Errors of the scheduler role.
#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    /// Ballista could not set up or run the scheduler.
    #[error("scheduler on {addr}: {source}")]
    Ballista {
        /// The address it was to listen on.
        addr: SocketAddr,
        /// Ballista's error.
        source: ballista_core::error::BallistaError,
    },
}

/// Job ids nobody can guess: 122 random bits each (a version 4 UUID, in
/// hex), where Ballista's own are time-ordered snowflakes. A job's id is
/// all that a worker's control calls to cancel the job's tasks or remove
/// its shuffle files take, and the task service's loopback alias answers
/// them without the secret ([`super::auth`]). The ids show only to
/// sessions (which hold the secret) and in the scheduler's and workers'
/// logs and work directories (their owner's only:
/// [`hiveql_storage::private`]).
struct UnguessableJobIds;

#[async_trait::async_trait]
impl JobIdGenerator for UnguessableJobIds {
    async fn next_id(&self) -> String {
        uuid::Uuid::new_v4().simple().to_string()
    }
}

/// Seconds without a heartbeat after which a worker is taken for lost.
pub const LOST_WORKER_SECONDS: u64 = 8;

/// The scheduler's configuration for listening on `addr`, reaching its
/// workers with `secret`.
pub fn config(addr: SocketAddr, secret: &Secret) -> SchedulerConfig {
    SchedulerConfig {
        bind_host: addr.ip().to_string(),
        external_host: addr.ip().to_string(),
        bind_port: addr.port(),
        override_physical_codec: Some(Arc::new(HiveCodec::default())),
        override_config_producer: Some(Arc::new(super::session_config)),
        override_session_builder: Some(Arc::new(super::session_state)),
        // a query fails at once when no worker is left, instead of waiting
        // minutes for one to register
        no_executors_grace_period_seconds: 10,
        // a worker that stops sending heartbeats (every
        // [`super::worker::HEARTBEAT_SECONDS`]) is taken for lost after
        // this long, and its tasks and map outputs are run again on others
        executor_timeout_seconds: LOST_WORKER_SECONDS,
        expire_dead_executor_interval_seconds: 1,
        override_create_grpc_client_endpoint: Some(super::auth::endpoint_override(secret)),
        job_id_generator: Some(Arc::new(UnguessableJobIds)),
        ..Default::default()
    }
}

/// Run the scheduler on `addr` (port 0: any free port) until the process
/// ends, admitting only traffic with `secret`, placing scan tasks near
/// their blocks unless `locality` is off ([`super::locality`]);
/// `listening` is told the address once it accepts connections.
pub async fn run(
    addr: SocketAddr,
    secret: Secret,
    locality: bool,
    listening: impl FnOnce(SocketAddr),
) -> Result<(), SchedulerError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| SchedulerError::Ballista { addr, source: ballista_core::error::BallistaError::from(e) })?;
    let addr = listener
        .local_addr()
        .map_err(|e| SchedulerError::Ballista { addr, source: ballista_core::error::BallistaError::from(e) })?;
    let mut config = config(addr, &secret);
    let (max_decoding, max_encoding) =
        (config.grpc_server_max_decoding_message_size as usize, config.grpc_server_max_encoding_message_size as usize);
    let wrap = |source| SchedulerError::Ballista { addr, source };
    let cluster = BallistaCluster::new_from_config(&config).await.map_err(wrap)?;
    let ledger = Arc::new(SlotLedger::new(cluster.cluster_state()));
    let cluster = BallistaCluster::new(ledger.clone(), cluster.job_state());
    let policy = Arc::new(super::locality::Locality::new(ledger.clone(), secret.clone(), locality));
    config.task_distribution = TaskDistributionPolicy::Custom(policy.clone());
    let scheduler = ballista_scheduler::scheduler_process::create_scheduler::<LogicalPlanNode, PhysicalPlanNode>(
        cluster,
        Arc::new(config),
    )
    .await
    .map_err(wrap)?;
    tokio::spawn(super::slots::reconcile(ledger, scheduler.clone()));
    tokio::spawn(super::locality::nudge(policy, scheduler.clone()));
    // Ballista's own `start_grpc_service_with_listener` has no place for the
    // secret's check: the same gRPC service, served here behind it
    let progress = JobProgressServer::new(super::progress::ProgressService(scheduler.clone()));
    let grpc = SchedulerGrpcServer::new(scheduler)
        .max_encoding_message_size(max_encoding)
        .max_decoding_message_size(max_decoding);
    let router =
        super::auth::guarded(tonic::service::Routes::new(grpc).add_service(progress).into_axum_router(), secret);
    listening(addr);
    super::auth::serve(listener, router, std::future::pending())
        .await
        .map_err(|e| wrap(ballista_core::error::BallistaError::from(e)))
}
