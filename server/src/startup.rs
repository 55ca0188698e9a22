//! A connection's start: TLS required or not, then authentication by the
//! method the server runs with (SCRAM-SHA-256 against the stored
//! verifiers, a cleartext password checked against them, or trust), then
//! the connection's own [`Session`] on the home's metastore.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use futures::{Sink, SinkExt};
use hiveql_engine::{Session, SessionOptions};
use pgwire::api::auth::{
    DefaultServerParameterProvider, StartupHandler, finish_authentication, protocol_negotiation,
    save_startup_parameters_to_metadata,
};
use pgwire::api::{ClientInfo, METADATA_DATABASE, METADATA_USER, PgWireConnectionState, PidSecretKeyGenerator};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::startup::Authentication;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use tokio::sync::Mutex;

use crate::catalog::Identity;
use crate::error::{code, user_error};
use crate::scram::{Exchange, ScramError};
use crate::{AuthMethod, Conn, Shared};

/// Where a connection's authentication stands.
#[derive(Debug, Default)]
enum AuthState {
    #[default]
    Initial,
    AwaitPassword,
    AwaitScramFirst,
    AwaitScramFinal(Box<Exchange>),
}

/// One connection's startup (pgwire asks for a handler per connection).
pub struct Startup {
    shared: Arc<Shared>,
    state: Mutex<AuthState>,
    /// The connection's cancel flag (also set when its client goes away).
    flag: Arc<crate::cancel::Flag>,
}

impl Startup {
    pub fn new(shared: Arc<Shared>, flag: Arc<crate::cancel::Flag>) -> Startup {
        Startup { shared, state: Mutex::new(AuthState::Initial), flag }
    }
}

fn bad_password(user: &str) -> PgWireError {
    user_error(code::INVALID_PASSWORD, format!("password authentication failed for user \"{user}\""))
}

fn user_of<C: ClientInfo>(client: &C) -> String {
    client.metadata().get(METADATA_USER).cloned().unwrap_or_default()
}

/// A failed startup ends the connection, as PostgreSQL's does: its error
/// is FATAL, and the connection closes right after it. pgwire would send a
/// ReadyForQuery after any error (asyncpg reports that as a protocol error)
/// and, for an ERROR, leave the unauthenticated connection open; so the
/// handler sends the error and closes the socket itself.
async fn fail<C>(client: &mut C, e: PgWireError) -> PgWireError
where
    C: Sink<PgWireBackendMessage> + Unpin,
    C::Error: Debug,
{
    let mut info: ErrorInfo = e.into();
    info.severity = "FATAL".to_owned();
    let kept = ErrorInfo::new(info.severity.clone(), info.code.clone(), info.message.clone());
    // the client may be gone already; the error is returned either way
    let _ = client.send(PgWireBackendMessage::ErrorResponse(info.into())).await;
    let _ = client.close().await;
    PgWireError::UserError(Box::new(kept))
}

#[async_trait]
impl StartupHandler for Startup {
    async fn on_startup<C>(&self, client: &mut C, message: PgWireFrontendMessage) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match self.step(client, message).await {
            Ok(()) => Ok(()),
            Err(e) => Err(fail(client, e).await),
        }
    }
}

impl Startup {
    /// One message of the startup: the startup packet, then the password or
    /// SCRAM messages.
    async fn step<C>(&self, client: &mut C, message: PgWireFrontendMessage) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let opts = &self.shared.opts;
        let mut state = self.state.lock().await;
        match message {
            PgWireFrontendMessage::Startup(ref startup) => {
                protocol_negotiation(client, startup).await?;
                save_startup_parameters_to_metadata(client, startup);
                client.set_state(PgWireConnectionState::AuthenticationInProgress);
                if opts.require_tls && !client.is_secure() {
                    return Err(user_error(
                        code::INVALID_AUTHORIZATION,
                        "this server requires TLS: connect with sslmode=require",
                    ));
                }
                let user = user_of(client);
                if user.is_empty() {
                    return Err(user_error(code::INVALID_AUTHORIZATION, "no user name in the startup message"));
                }
                match opts.auth {
                    AuthMethod::Trust => {
                        let peer = client.socket_addr().ip();
                        if !peer.is_loopback() && !opts.allow_remote_trust {
                            return Err(user_error(
                                code::INVALID_AUTHORIZATION,
                                format!("--auth trust accepts only loopback clients, not {peer}"),
                            ));
                        }
                        self.finish(client, user).await?;
                    }
                    AuthMethod::Password => {
                        *state = AuthState::AwaitPassword;
                        client.send(PgWireBackendMessage::Authentication(Authentication::CleartextPassword)).await?;
                    }
                    AuthMethod::Scram => {
                        *state = AuthState::AwaitScramFirst;
                        let mechanisms = vec!["SCRAM-SHA-256".to_string()];
                        client.send(PgWireBackendMessage::Authentication(Authentication::SASL(mechanisms))).await?;
                    }
                }
            }
            PgWireFrontendMessage::PasswordMessageFamily(msg) => {
                let user = user_of(client);
                match std::mem::take(&mut *state) {
                    AuthState::AwaitPassword => {
                        let password = msg.into_password()?.password;
                        let verifier = self.verifier(&user)?;
                        if !verifier.is_some_and(|v| v.matches_password(&password)) {
                            tracing::info!(%user, peer = %client.socket_addr(), "password authentication failed");
                            return Err(bad_password(&user));
                        }
                        self.finish(client, user).await?;
                    }
                    AuthState::AwaitScramFirst => {
                        let first = msg.into_sasl_initial_response()?;
                        if first.auth_method != "SCRAM-SHA-256" {
                            return Err(user_error(
                                code::INVALID_AUTHORIZATION,
                                format!("SASL mechanism {} is not offered (SCRAM-SHA-256 is)", first.auth_method),
                            ));
                        }
                        let data = first.data.unwrap_or_default();
                        let (exchange, server_first) =
                            Exchange::start(&data, self.verifier(&user)?).map_err(|e| scram_error(&user, e))?;
                        *state = AuthState::AwaitScramFinal(Box::new(exchange));
                        client
                            .send(PgWireBackendMessage::Authentication(Authentication::SASLContinue(
                                server_first.into_bytes().into(),
                            )))
                            .await?;
                    }
                    AuthState::AwaitScramFinal(exchange) => {
                        let last = msg.into_sasl_response()?;
                        let server_final = exchange.finish(&last.data).map_err(|e| {
                            tracing::info!(%user, peer = %client.socket_addr(), "SCRAM authentication failed");
                            scram_error(&user, e)
                        })?;
                        client
                            .feed(PgWireBackendMessage::Authentication(Authentication::SASLFinal(
                                server_final.into_bytes().into(),
                            )))
                            .await?;
                        self.finish(client, user).await?;
                    }
                    AuthState::Initial => {
                        return Err(user_error(
                            code::PROTOCOL_VIOLATION,
                            "a password message before the startup message",
                        ));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

fn scram_error(user: &str, e: ScramError) -> PgWireError {
    match e {
        ScramError::WrongPassword => bad_password(user),
        ScramError::Malformed(m) => user_error(code::PROTOCOL_VIOLATION, format!("malformed SCRAM message: {m}")),
    }
}

impl Startup {
    fn verifier(&self, user: &str) -> PgWireResult<Option<crate::users::Verifier>> {
        self.shared.users.get(user).map_err(|e| {
            tracing::error!(error = %e, "cannot read the users file");
            user_error(code::INTERNAL_ERROR, format!("cannot read the server's users: {e}"))
        })
    }

    /// Open the connection's session and tell the client it is in.
    async fn finish<C>(&self, client: &mut C, user: String) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let opts = SessionOptions {
            home: self.shared.opts.home.clone(),
            hiveconf: self.shared.opts.hiveconf.clone(),
            hivevar: self.shared.opts.hivevar.clone(),
        };
        let database = client.metadata().get(METADATA_DATABASE).cloned();
        let pg_database = database.clone().filter(|d| !d.is_empty()).unwrap_or_else(|| user.clone());
        let hive = |e: hiveql_engine::HiveError| crate::error::hive_error(&e);
        let mut session = tokio::task::spawn_blocking(move || Session::open(opts))
            .await
            .map_err(|e| user_error(code::INTERNAL_ERROR, format!("opening the session: {e}")))?
            .map_err(hive)?;
        // the database a client names is the current one, if hiveql has it
        // (psql names the user's when none is given)
        if let Some(db) = database.filter(|d| !d.is_empty())
            && session.metastore().get_database(&db).map_err(|e| hive(e.into()))?.is_some()
        {
            session.execute(&format!("USE `{db}`")).await.map_err(hive)?;
        }

        let (pid, secret) = self.shared.pids.generate(client);
        client.set_pid_and_secret_key(pid, secret.clone());
        let flag = self.flag.clone();
        let registration = self.shared.cancels.register(pid, &secret, flag.clone());
        let identity = Arc::new(Identity {
            user: user.clone(),
            database: pg_database,
            schema: parking_lot::RwLock::new(session.current_database().to_string()),
            settings: Default::default(),
        });
        client.session_extensions().insert(registration);
        let exec = crate::exec::Executor::new()
            .map_err(|e| user_error(code::INTERNAL_ERROR, format!("starting the connection's query runtime: {e}")))?;
        client.session_extensions().insert(Conn::new(session, exec, identity, flag));
        tracing::info!(%user, pid, peer = %client.socket_addr(), tls = client.is_secure(), "connection authenticated");

        let mut params = DefaultServerParameterProvider::default();
        params.server_version = crate::route::pg_setting("server_version").unwrap_or("15.0").to_string();
        params.search_path = "default".to_string();
        params.is_superuser = false;
        params.time_zone = "UTC".to_string();
        params.date_style = "ISO, MDY".to_string();
        finish_authentication(client, &params).await
    }
}
