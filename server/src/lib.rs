//! `hiveql serve`: the PostgreSQL wire endpoint. psql, JDBC, psycopg and BI
//! tools connect with their own PostgreSQL drivers, no Hive jar and no JVM.
//!
//! Each connection is its own [`Session`] on the home's metastore (its own
//! `USE`, `SET` and variables); the CLI and the server share the home, so
//! DDL from one is seen by the other at its next statement. Statements are
//! HiveQL; what drivers send on their own (catalog queries, settings) is
//! answered in PostgreSQL's dialect (see [`route`]).
//!
//! Modules: [`startup`] (TLS, authentication, the session), [`users`] and
//! [`scram`] (stored verifiers), [`handler`] (simple and extended query
//! protocols), [`portal`] (Execute, rows streamed), [`wire`] (types and rows), [`encode`] (DataRows), [`catalog`] (`pg_catalog`,
//! `information_schema`), [`params`] (`$n`), [`exec`] (the connection's query runtime),
//! [`cancel`] (CancelRequest),
//! [`error`] (SQLSTATEs).
//!
//! Messages longer than pgwire's limits (1 GiB for queries and binds, 10 kB
//! for startup and the rest) close the connection; nothing a client sends
//! stops the server or other connections.

pub mod cancel;
pub mod catalog;
pub mod cursor;
pub mod encode;
pub mod error;
pub mod exec;
pub mod handler;
pub mod params;
pub mod portal;
pub mod route;
pub mod scram;
pub mod startup;
pub mod typeinfo;
pub mod users;
pub mod wire;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use hiveql_engine::Session;
use pgwire::api::{PgWireServerHandlers, RandomPidSecretKeyGenerator};
use tokio::net::TcpListener;
use tokio::sync::Mutex;
use tokio_rustls::TlsAcceptor;

pub use error::ServerError;

/// How clients prove who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// SCRAM-SHA-256 against the home's users (the default).
    Scram,
    /// A cleartext password (use with TLS), checked against the same users.
    Password,
    /// Anyone is let in under the name they give (loopback only, unless allowed).
    Trust,
}

/// How to run the server.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// `HIVEQL_HOME`: the metastore, warehouse and users.
    pub home: PathBuf,
    pub host: String,
    pub port: u16,
    pub auth: AuthMethod,
    /// Let `--auth trust` accept clients that are not on loopback.
    pub allow_remote_trust: bool,
    /// PEM certificate chain and private key.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Refuse connections without TLS.
    pub require_tls: bool,
    /// Settings and variables every session starts with.
    pub hiveconf: Vec<(String, String)>,
    pub hivevar: Vec<(String, String)>,
}

/// What every connection shares.
pub struct Shared {
    pub opts: ServeOptions,
    pub users: users::UserStore,
    pub cancels: Arc<cancel::Cancels>,
    pub pids: RandomPidSecretKeyGenerator,
}

/// One connection's state, kept in pgwire's per-connection extensions.
pub struct Conn {
    pub session: Mutex<Session>,
    /// Where the connection's statements run.
    pub exec: exec::Executor,
    pub identity: Arc<catalog::Identity>,
    pub cancel: Arc<cancel::Flag>,
    pub cursors: Mutex<cursor::Cursors>,
    /// A portal's statement, started when the portal was described (see
    /// [`handler`]): its Execute takes the rows from here.
    pub described: Mutex<Option<handler::Described>>,
    pg: Mutex<Option<Arc<catalog::PgContext>>>,
}

impl Conn {
    pub fn new(
        session: Session,
        exec: exec::Executor,
        identity: Arc<catalog::Identity>,
        cancel: Arc<cancel::Flag>,
    ) -> Conn {
        Conn {
            session: Mutex::new(session),
            exec,
            identity,
            cancel,
            cursors: Mutex::default(),
            described: Mutex::default(),
            pg: Mutex::new(None),
        }
    }

    /// The connection's PostgreSQL-dialect context, built on first use and
    /// following the session's current database.
    pub async fn pg(&self) -> pgwire::error::PgWireResult<Arc<catalog::PgContext>> {
        let mut pg = self.pg.lock().await;
        let schema = self.identity.schema.read().clone();
        if let Some(ctx) = pg.as_ref() {
            ctx.set_schema(&schema);
            return Ok(ctx.clone());
        }
        let session = self.session.lock().await;
        let ctx = Arc::new(
            catalog::PgContext::new(&session, self.identity.clone()).await.map_err(|e| error::datafusion_error(&e))?,
        );
        *pg = Some(ctx.clone());
        Ok(ctx)
    }
}

/// The handlers of one connection.
struct Handlers {
    shared: Arc<Shared>,
    handler: Arc<handler::Handler>,
    flag: Arc<cancel::Flag>,
}

impl PgWireServerHandlers for Handlers {
    fn simple_query_handler(&self) -> Arc<impl pgwire::api::query::SimpleQueryHandler> {
        self.handler.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl pgwire::api::query::ExtendedQueryHandler> {
        self.handler.clone()
    }

    fn startup_handler(&self) -> Arc<impl pgwire::api::auth::StartupHandler> {
        Arc::new(startup::Startup::new(self.shared.clone(), self.flag.clone()))
    }

    fn cancel_handler(&self) -> Arc<impl pgwire::api::cancel::CancelHandler> {
        Arc::new(cancel::CancelRequests(self.shared.cancels.clone()))
    }
}

fn tls_acceptor(cert: &PathBuf, key: &PathBuf) -> Result<TlsAcceptor, ServerError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| ServerError::Config(format!("--tls-cert {}: {e}", cert.display())))?;
    if certs.is_empty() {
        return Err(ServerError::Config(format!("--tls-cert {}: no certificate in the file", cert.display())));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| ServerError::Config(format!("--tls-key {}: {e}", key.display())))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| ServerError::Config(format!("--tls-cert/--tls-key: {e}")))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// A bound server, not yet accepting.
pub struct Server {
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    watcher: Arc<cancel::PeerWatcher>,
}

impl Server {
    /// Check the options, load TLS, and bind the port.
    pub async fn bind(opts: ServeOptions) -> Result<Server, ServerError> {
        let loopback = matches!(opts.host.as_str(), "localhost")
            || opts.host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
        if opts.auth == AuthMethod::Trust && !loopback && !opts.allow_remote_trust {
            return Err(ServerError::Config(format!(
                "--auth trust lets anyone in: it listens only on loopback, not {} (add --allow-remote-trust to mean it)",
                opts.host
            )));
        }
        if opts.require_tls && opts.tls.is_none() {
            return Err(ServerError::Config("--require-tls needs --tls-cert and --tls-key".into()));
        }
        let tls = match &opts.tls {
            Some((cert, key)) => Some(tls_acceptor(cert, key)?),
            None => None,
        };
        let users = users::UserStore::in_home(&opts.home);
        if opts.auth != AuthMethod::Trust && users.list()?.is_empty() {
            tracing::warn!("no users yet: add one with `hiveql user add NAME` (clients cannot log in until then)");
        }
        // the home must open as a session does, before clients find out it does not
        Session::open(hiveql_engine::SessionOptions {
            home: opts.home.clone(),
            hiveconf: opts.hiveconf.clone(),
            hivevar: opts.hivevar.clone(),
        })?;
        let addr = format!("{}:{}", opts.host, opts.port);
        let listener =
            TcpListener::bind(&addr).await.map_err(|e| ServerError::io(format!("listening on {addr}"), e))?;
        let shared =
            Arc::new(Shared { opts, users, cancels: Arc::default(), pids: RandomPidSecretKeyGenerator::default() });
        let watcher = cancel::PeerWatcher::start().map_err(|e| ServerError::io("starting the peer watcher", e))?;
        Ok(Server { listener, tls, shared, watcher })
    }

    /// The address clients connect to.
    pub fn local_addr(&self) -> Result<SocketAddr, ServerError> {
        self.listener.local_addr().map_err(|e| ServerError::io("reading the listening address", e))
    }

    /// Accept connections until the process ends, each on its own task.
    pub async fn run(self) -> Result<(), ServerError> {
        let handler = Arc::new(handler::Handler);
        loop {
            let (socket, peer) = match self.listener.accept().await {
                Ok(s) => s,
                Err(e) => {
                    // out of file descriptors and the like: wait, do not spin or stop
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            if let Err(e) = socket.set_nodelay(true) {
                tracing::debug!(error = %e, "TCP_NODELAY");
            }
            let flag = Arc::new(cancel::Flag::default());
            // a second handle on the socket, to see the client go away mid-statement
            match std::os::fd::AsFd::as_fd(&socket).try_clone_to_owned() {
                Ok(fd) => self.watcher.watch(std::net::TcpStream::from(fd), &flag),
                Err(e) => tracing::warn!(error = %e, "cannot watch the client's socket"),
            }
            let handlers = Handlers { shared: self.shared.clone(), handler: handler.clone(), flag };
            let tls = self.tls.clone();
            tokio::spawn(async move {
                tracing::debug!(%peer, "connection");
                if let Err(e) = pgwire::tokio::process_socket(socket, tls, handlers).await {
                    tracing::info!(%peer, error = %e, "connection ended with an error");
                }
            });
        }
    }
}
