//! Distributed execution on Apache DataFusion Ballista, kept behind this
//! module so Ballista's API churn stays here:
//! - [`codec::HiveCodec`]: hiveql's plan nodes on the wire (and Ballista's);
//! - [`scheduler`]: `hiveql scheduler`, Ballista's scheduler with hiveql's
//!   codec and static (non-adaptive) planning;
//! - [`worker`]: `hiveql worker`, Ballista's executor with hiveql's
//!   functions, codec and object stores (`dfs://` with the home's secret);
//! - [`slots`]: the scheduler's count of the workers' task slots, and
//!   the slots Ballista loses given back;
//! - [`locality`]: scan tasks placed on workers near their blocks;
//! - [`progress`]: a running job's progress, stage by stage;
//! - [`rerun`]: each map output read once after a stage ran again;
//! - [`stages`]: the stage DAG of a plan, for `EXPLAIN` on a cluster;
//! - [`auth`]: the cluster's secret on every role's traffic;
//! - [`client`]: a session's query run on a cluster: the client plans it
//!   physically (it has the metastore and lists the files) and hands the
//!   plan to the scheduler, which cuts it into stages at shuffle
//!   boundaries. Workers need no metastore.

pub mod auth;
pub mod client;
pub mod codec;
pub mod locality;
pub mod progress;
pub mod rerun;
pub mod scheduler;
pub mod slots;
pub mod stages;
pub mod worker;

use std::sync::Arc;

use ballista_core::extension::SessionConfigExt;
use datafusion::execution::SessionState;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::options::Prefixed;

/// The setting naming the scheduler (`HOST:PORT`) a session runs its
/// queries on; empty runs them in-process.
pub const CLUSTER: &str = "hiveql.cluster";

/// The session state the scheduler decodes and plans jobs with:
/// Ballista's, with hiveql's functions (plans name them; without them the
/// scheduler cannot read a plan that calls one).
pub fn session_state(config: SessionConfig) -> datafusion::common::Result<SessionState> {
    let ctx = SessionContext::new_with_state(ballista_core::utils::default_session_builder(config)?);
    crate::functions::register(&ctx);
    Ok(ctx.state())
}

/// The session configuration the scheduler and workers build each job's
/// session from: Ballista's, with hiveql's settings (so a session's `SET
/// hiveql.*` reaches them), the tasks' token ([`auth::TaskAuth`]), hiveql's
/// codec and the static planner.
pub fn session_config() -> SessionConfig {
    SessionConfig::new_with_ballista()
        .with_option_extension(Prefixed(crate::options::HiveqlOptions::default()))
        .with_option_extension(Prefixed(auth::TaskAuth::default()))
        .with_ballista_adaptive_query_planner(false)
        .with_ballista_physical_extension_codec(Arc::new(codec::HiveCodec::default()))
}
