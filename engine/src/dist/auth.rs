//! Cluster traffic carries the cluster's shared secret (the block store's:
//! [`hiveql_storage::secret`]), and every role refuses traffic without it.
//!
//! What is guarded, and how:
//! - the scheduler's gRPC service (sessions submit and follow jobs; workers
//!   register, heartbeat and report tasks): served by
//!   [`super::scheduler`] behind [`guarded`];
//! - a worker's shuffle service (Arrow Flight: other workers and sessions
//!   fetch partitions): served by [`serve_shuffle`] behind the same check;
//! - a worker's task service (the scheduler launches and cancels tasks):
//!   Ballista serves it itself, with no hook for a check. It listens on a
//!   loopback alias ([`hidden_host`]) instead, and [`serve_task_front`]
//!   takes its advertised address, checks each request and relays it.
//!   A local user of the worker's host can reach the alias; nobody else
//!   can. So each task also carries a token of the secret in its settings
//!   ([`TASK_TOKEN`]: the submitting session adds it to its job's, and the
//!   scheduler hands the job's settings to every task), and the worker
//!   refuses a task without it before its plan is read ([`check_task`]).
//!   The alias's other calls (stop the worker, cancel a job's tasks,
//!   remove a job's shuffle files) act only on the worker or job their id
//!   names, and a stranger cannot learn or guess one: a worker's id is a
//!   random UUID, a job's too ([`super::scheduler`]: Ballista's own are
//!   time-ordered), and the logs and work directories that show them are
//!   their owner's only ([`hiveql_storage::private`]).
//!
//! The one hook Ballista's own clients offer is the endpoint they connect
//! with ([`EndpointOverrideFn`]), and the one header an endpoint sets is
//! `user-agent`. So the secret travels as a `hiveql-secret/<secret>` token
//! in it, from every client ([`endpoint_override`]), sessions too: one way
//! for all.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use ballista_core::extension::{BallistaConfigGrpcEndpoint, EndpointOverrideFn};
use datafusion::common::config::ConfigExtension;
use datafusion::common::extensions_options;
use datafusion::prelude::SessionConfig;
use hiveql_storage::secret::Secret;
use tonic::Status;
use tonic::transport::{Channel, Endpoint};

/// The `user-agent` token's prefix; the secret follows it.
const TOKEN: &str = "hiveql-secret/";

extensions_options! {
    /// What a job's tasks carry to show that the session which submitted
    /// the job had the cluster's secret. Known to the scheduler's and the
    /// workers' configuration only (see [`super::session_config`]); a
    /// session adds it to the settings of each job it submits.
    pub struct TaskAuth {
        /// [`task_token`] of the cluster's secret.
        pub token: String, default = String::new()
    }
}

impl ConfigExtension for TaskAuth {
    const PREFIX: &'static str = "hiveql_task";
}

/// The setting a job's tasks carry their token in.
pub const TASK_TOKEN: &str = "hiveql_task.token";

/// The token of tasks of a cluster with `secret` (none without one): the
/// secret hashed one way, so that the scheduler, which passes it on to
/// every task, holds nothing that reaches the block store.
pub fn task_token(secret: &Secret) -> Option<String> {
    use sha2::Digest;
    let secret = secret.value()?;
    let digest = sha2::Sha256::new().chain_update(b"hiveql task token\n").chain_update(secret.as_bytes()).finalize();
    Some(digest.iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether a task, whose settings are `config`, carries the token of
/// `secret` (a worker without a secret admits every task).
pub fn check_task(config: &SessionConfig, secret: &Secret) -> Result<(), String> {
    let Some(expected) = task_token(secret) else { return Ok(()) };
    let presented = config.options().extensions.get::<TaskAuth>().map(|t| t.token.as_str()).unwrap_or_default();
    hiveql_storage::secret::same(presented.as_bytes(), expected.as_bytes()).then_some(()).ok_or_else(|| {
        "a task without the cluster's token is refused: it was not submitted through the scheduler".into()
    })
}

/// Where a session's cluster traffic finds its secret (a session config
/// extension): the session's home, read again for each job, so a session
/// opened before its cluster was started still reaches it.
#[derive(Debug, Clone)]
pub struct SessionSecret(pub std::path::PathBuf);

impl SessionSecret {
    /// The secret, as [`Secret::discover`] finds it now.
    pub fn discover(&self) -> Result<Secret, String> {
        Secret::discover(Some(&self.0)).map_err(|e| format!("cluster secret: {e}"))
    }
}

/// An endpoint override that makes every request of a connection carry
/// `secret` (nothing, without one).
pub fn endpoint_override(secret: &Secret) -> EndpointOverrideFn {
    let agent = secret.value().map(|s| format!("{TOKEN}{s}"));
    Arc::new(move |endpoint: Endpoint| match &agent {
        Some(agent) => Ok(endpoint.user_agent(agent.clone())?),
        None => Ok(endpoint),
    })
}

/// [`endpoint_override`] as Ballista's clients take it.
pub fn client_endpoint(secret: &Secret) -> Arc<BallistaConfigGrpcEndpoint> {
    Arc::new(BallistaConfigGrpcEndpoint::new(endpoint_override(secret)))
}

/// The secret a request presents, if any.
fn presented(headers: &axum::http::HeaderMap) -> Option<&[u8]> {
    let agent = headers.get(axum::http::header::USER_AGENT)?.to_str().ok()?;
    agent.split_whitespace().find_map(|t| t.strip_prefix(TOKEN)).map(str::as_bytes)
}

async fn require_secret(State(secret): State<Secret>, request: Request, next: Next) -> Response {
    match secret.check(presented(request.headers())) {
        Ok(()) => next.run(request).await,
        Err(status) => {
            let peer = request.extensions().get::<axum::extract::ConnectInfo<SocketAddr>>().map(|c| c.0);
            tracing::warn!(?peer, path = %request.uri().path(), "refused: {}", status.message());
            status.into_http()
        }
    }
}

/// `router` admitting only requests that carry `secret`; the others get
/// gRPC's `Unauthenticated`, saying why.
pub fn guarded(router: axum::Router, secret: Secret) -> axum::Router {
    router.layer(axum::middleware::from_fn_with_state(secret, require_secret))
}

/// Serve `router` on `listener` until `shutdown` resolves (with the peer's
/// address known to the guard's log).
///
/// Each connection sends at once (`TCP_NODELAY`, as Ballista's and tonic's
/// own servers set it, and axum does not): a gRPC answer goes out as its
/// body and then its trailers, and with Nagle's algorithm the trailers
/// waited for the client's delayed ACK, 40 ms, on one job status poll in
/// two (a trivial query on the cluster took 57-107 ms).
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("TCP_NODELAY: {e}");
        }
    });
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}

/// The loopback alias a worker's own task service listens on, behind its
/// front: one the worker's bind address is not.
pub fn hidden_host(bind: &str) -> &'static str {
    if bind == "127.0.0.2" { "127.0.0.3" } else { "127.0.0.2" }
}

/// A worker's shuffle service (Ballista's Arrow Flight service over the
/// work directory) on `listener`, behind the secret.
pub async fn serve_shuffle(
    listener: tokio::net::TcpListener,
    work_dir: String,
    max_message: usize,
    secret: Secret,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use arrow_flight::flight_service_server::FlightServiceServer;
    let flight = FlightServiceServer::new(ballista_executor::flight_service::BallistaFlightService::new(work_dir))
        .max_decoding_message_size(max_message)
        .max_encoding_message_size(max_message);
    let router = tonic::service::Routes::new(flight).into_axum_router();
    serve(listener, guarded(router, secret), shutdown).await
}

/// The front of a worker's task service: on `listener`, each request that
/// carries `secret` is relayed to the service at `hidden`.
pub async fn serve_task_front(
    listener: tokio::net::TcpListener,
    hidden: SocketAddr,
    secret: Secret,
) -> std::io::Result<()> {
    let channel = Endpoint::from_shared(format!("http://{hidden}"))
        .map_err(|e| std::io::Error::other(format!("the task service at {hidden}: {e}")))?
        .connect_lazy();
    let router = axum::Router::new().fallback(relay).with_state(channel);
    serve(listener, guarded(router, secret), std::future::pending()).await
}

async fn relay(State(channel): State<Channel>, request: Request) -> Response {
    use tower::ServiceExt;
    match channel.oneshot(request.map(tonic::body::Body::new)).await {
        Ok(response) => response.map(axum::body::Body::new),
        Err(e) => Status::unavailable(format!("the worker's task service: {e}")).into_http(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_rides_in_the_user_agent_and_is_checked() {
        let secret = Secret::new("s3cr3t");
        let endpoint = endpoint_override(&secret)(Endpoint::from_static("http://127.0.0.1:1")).unwrap();
        // tonic appends its own agent after ours
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(axum::http::header::USER_AGENT, "hiveql-secret/s3cr3t tonic/0.14".parse().unwrap());
        assert!(secret.check(presented(&headers)).is_ok());
        headers.insert(axum::http::header::USER_AGENT, "hiveql-secret/other tonic/0.14".parse().unwrap());
        assert_eq!(secret.check(presented(&headers)).unwrap_err().message(), "wrong cluster secret");
        headers.insert(axum::http::header::USER_AGENT, "grpc-go/1.0".parse().unwrap());
        assert_eq!(secret.check(presented(&headers)).unwrap_err().code(), tonic::Code::Unauthenticated);
        drop(endpoint);
        assert_eq!(hidden_host("127.0.0.1"), "127.0.0.2");
        assert_eq!(hidden_host("127.0.0.2"), "127.0.0.3");
    }

    #[test]
    fn a_task_is_admitted_with_its_clusters_token_only() {
        let secret = Secret::new("s3cr3t");
        let token = task_token(&secret).unwrap();
        assert_eq!(token.len(), 64);
        assert!(!token.contains("s3cr3t"));
        assert_ne!(Some(token.clone()), task_token(&Secret::new("other")));
        let with = |t: Option<&str>| {
            let config = super::super::session_config();
            match t {
                Some(t) => config.set_str(TASK_TOKEN, t),
                None => config,
            }
        };
        assert!(check_task(&with(Some(&token)), &secret).is_ok());
        let refused = check_task(&with(None), &secret).unwrap_err();
        assert!(refused.contains("without the cluster's token"), "{refused}");
        assert!(check_task(&with(Some(&task_token(&Secret::new("other")).unwrap())), &secret).is_err());
        assert!(check_task(&with(Some(&token[..63])), &secret).is_err());
        // a cluster without a secret admits all, as its services do
        assert!(check_task(&with(None), &Secret::none()).is_ok());
    }

    /// The token goes from the session's job settings to the scheduler's
    /// session, and from there to each task's settings, as Ballista hands
    /// them on: by their entries' keys.
    #[test]
    fn the_token_survives_the_way_to_a_task() {
        use ballista_core::extension::SessionConfigHelperExt;
        use ballista_core::serde::protobuf::KeyValuePair;
        let secret = Secret::new("s3cr3t");
        let job = vec![KeyValuePair { key: TASK_TOKEN.into(), value: task_token(&secret) }];
        let scheduler = super::super::session_config().update_from_key_value_pair(&job);
        let task = super::super::session_config().update_from_key_value_pair(&scheduler.to_key_value_pairs());
        check_task(&task, &secret).unwrap();
    }
}
