//! `hiveql worker`: Ballista's executor, embedded, with what hiveql's plans
//! need on a worker: hiveql's functions (plans name them), the codec, and
//! the object stores of `dfs://` (with the home's cluster secret), `s3://`
//! and local paths.

use std::path::PathBuf;
use std::sync::Arc;

use ballista_core::registry::BallistaFunctionRegistry;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
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
    let secret = hiveql_storage::secret::Secret::discover(Some(&opts.home)).map_err(|e| format!("cluster secret: {e}"));
    let stores = Arc::new(crate::location::LocationStores::new(secret));
    let config = ExecutorProcessConfig {
        bind_host: opts.bind.clone(),
        external_host: Some(opts.bind.clone()),
        port: opts.port,
        grpc_port: opts.port.wrapping_add(1),
        scheduler_host: opts.scheduler_host.clone(),
        scheduler_port: opts.scheduler_port,
        // a worker started with its scheduler waits for it
        scheduler_connect_timeout_seconds: 20,
        vcores: opts.slots,
        executor_heartbeat_interval_seconds: HEARTBEAT_SECONDS,
        work_dir: opts.work_dir.as_ref().map(|d| d.display().to_string()),
        memory_pool_size: opts.memory,
        override_physical_codec: Some(Arc::new(HiveCodec::default())),
        override_function_registry: Some(Arc::new(function_registry())),
        override_config_producer: Some(Arc::new(super::session_config)),
        override_runtime_producer: Some(Arc::new(move |_config| {
            RuntimeEnvBuilder::new().with_object_store_registry(stores.clone()).build_arc()
        })),
        ..Default::default()
    };
    start_executor_process(Arc::new(config)).await?;
    Ok(())
}
