//! `hiveql worker`: Ballista's executor, embedded, with what hiveql's plans
//! need on a worker: hiveql's functions (plans name them), the codec, and
//! the object stores of `dfs://` (with the home's cluster secret), `s3://`
//! and local paths. Its shuffle and task services admit only traffic
//! carrying the cluster's secret, its tasks only with the token of it, and
//! its own requests carry it ([`super::auth`]).

use std::path::PathBuf;
use std::sync::Arc;

use ballista_core::extension::SessionConfigExt;
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use datafusion::error::DataFusionError;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::SessionContext;

use super::codec::HiveCodec;

/// Seconds between a worker's heartbeats to the scheduler (Ballista's
/// default, 60, would let a lost worker go unnoticed for minutes).
pub const HEARTBEAT_SECONDS: u64 = 2;

/// How to run a worker.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// The scheduler's host.
    pub scheduler_host: String,
    /// The scheduler's port.
    pub scheduler_port: u16,
    /// The address to listen on.
    pub bind: String,
    /// The port shuffle reads reach this worker on (the next port is its
    /// gRPC port).
    pub port: u16,
    /// Tasks run at once.
    pub slots: usize,
    /// Bytes of memory the tasks share (spilling beyond), if limited.
    pub memory: Option<u64>,
    /// Where shuffle files go.
    pub work_dir: Option<PathBuf>,
    /// The hiveql home whose cluster secret reaches `dfs://`.
    pub home: PathBuf,
}

/// Errors of the worker role.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// Ballista could not set up or run the executor.
    #[error("worker: {0}")]
    Ballista(#[from] ballista_core::error::BallistaError),
    /// The worker could not be set up (its secret, its ports).
    #[error("worker: {0}")]
    Setup(String),
}

/// The functions a worker resolves plan nodes' calls with: DataFusion's
/// and hiveql's, as a hiveql session has them.
pub fn function_registry() -> BallistaFunctionRegistry {
    let ctx = SessionContext::new();
    crate::functions::register(&ctx);
    BallistaFunctionRegistry::from(&ctx.state())
}

/// Run a worker until the process ends.
pub async fn run(opts: WorkerOptions) -> Result<(), WorkerError> {
    let secret = hiveql_storage::secret::Secret::load_or_create(&opts.home)
        .map_err(|e| WorkerError::Setup(format!("cluster secret: {e}")))?;
    let stores = Arc::new(crate::location::LocationStores::new(Ok(secret.clone())));
    // Ballista's own default work directory is a temporary one that it
    // drops at once and then re-creates with the umask's mode, where any
    // local user can list the jobs and read their shuffle files: a worker
    // keeps its own, its owner's only, for as long as it runs
    let temporary;
    let work_dir = match &opts.work_dir {
        Some(dir) => dir.clone(),
        None => {
            temporary = tempfile::Builder::new()
                .prefix("hiveql-worker-")
                .tempdir()
                .map_err(|e| WorkerError::Setup(format!("a temporary work directory: {e}")))?;
            temporary.path().to_path_buf()
        }
    };
    hiveql_storage::private::private_dir(&work_dir).map_err(|e| WorkerError::Setup(format!("work directory: {e}")))?;
    let grpc_port = opts.port.wrapping_add(1);
    // Ballista serves the task service itself, with no hook for the
    // secret's check: it listens on a loopback alias, and a front on the
    // address the scheduler is told relays what carries the secret
    let hidden = super::auth::hidden_host(&opts.bind);
    let front = tokio::net::TcpListener::bind((opts.bind.as_str(), grpc_port))
        .await
        .map_err(|e| WorkerError::Setup(format!("task service on {}:{grpc_port}: {e}", opts.bind)))?;
    let hidden_addr =
        std::net::SocketAddr::new(hidden.parse().map_err(|e| WorkerError::Setup(format!("{hidden}: {e}")))?, grpc_port);
    let front_secret = secret.clone();
    tokio::spawn(async move {
        if let Err(e) = super::auth::serve_task_front(front, hidden_addr, front_secret).await {
            tracing::error!("the task service's front stopped: {e}");
        }
    });
    let endpoint = super::auth::endpoint_override(&secret);
    let config_endpoint = endpoint.clone();
    let shuffle_bind = opts.bind.clone();
    let shuffle_secret = secret.clone();
    let task_secret = secret.clone();
    let defaults = ExecutorProcessConfig::default();
    let max_message = defaults.grpc_max_encoding_message_size.max(defaults.grpc_max_decoding_message_size) as usize;
    let config = ExecutorProcessConfig {
        bind_host: hidden.to_string(),
        external_host: Some(opts.bind.clone()),
        port: opts.port,
        grpc_port,
        scheduler_host: opts.scheduler_host.clone(),
        scheduler_port: opts.scheduler_port,
        // a worker started with its scheduler waits for it
        scheduler_connect_timeout_seconds: 20,
        vcores: opts.slots,
        executor_heartbeat_interval_seconds: HEARTBEAT_SECONDS,
        work_dir: Some(work_dir.display().to_string()),
        memory_pool_size: opts.memory,
        override_physical_codec: Some(Arc::new(HiveCodec::default())),
        override_function_registry: Some(Arc::new(function_registry())),
        // shuffle reads from other workers carry the secret too
        override_config_producer: Some(Arc::new(move || {
            super::session_config().with_ballista_override_create_grpc_client_endpoint(config_endpoint.clone())
        })),
        // called with each task's settings before its plan is read: a task
        // without the token (sent to the task service's alias by a local
        // user, not by the scheduler) is refused there
        override_runtime_producer: Some(Arc::new(move |config| {
            super::auth::check_task(config, &task_secret).map_err(|e| {
                tracing::warn!("{e}");
                DataFusionError::Execution(e)
            })?;
            RuntimeEnvBuilder::new().with_object_store_registry(stores.clone()).build_arc()
        })),
        override_create_grpc_client_endpoint: Some(endpoint),
        override_arrow_flight_service: Some(Arc::new(move |work_dir, addr, mut shutdown, _grpc| {
            let (bind, secret) = (shuffle_bind.clone(), shuffle_secret.clone());
            tokio::spawn(async move {
                let at = format!("{bind}:{}", addr.port());
                let listener = tokio::net::TcpListener::bind(&at).await?;
                super::auth::serve_shuffle(
                    listener,
                    work_dir,
                    max_message,
                    secret,
                    async move { shutdown.recv().await },
                )
                .await
                .map_err(|e| ballista_core::error::BallistaError::General(format!("shuffle service on {at}: {e}")))
            })
        })),
        ..defaults
    };
    start_executor_process(Arc::new(config)).await?;
    Ok(())
}
