//! CancelRequest: a client opens a second connection carrying the process
//! id and secret key it was given at startup, and the statement running on
//! the first connection stops, as Ctrl-C stops one in the CLI (the
//! statement's future and its stream are dropped, which aborts the plan's
//! tasks and a cluster job). The connection stays usable.
//!
//! Each connection has a [`Flag`]; a statement [`Flag::arm`]s it when it
//! starts, so a cancel that arrives between statements stops nothing (as in
//! PostgreSQL).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use hiveql_engine::HiveError;
use parking_lot::Mutex;
use pgwire::api::cancel::CancelHandler;
use pgwire::error::PgWireError;
use pgwire::messages::cancel::CancelRequest;
use pgwire::messages::startup::SecretKey;
use tokio::sync::Notify;

use crate::error::{cancelled, hive_error};

/// One connection's cancel signal.
#[derive(Debug, Default)]
pub struct Flag {
    generation: AtomicU64,
    notify: Notify,
}

impl Flag {
    /// Start listening for cancels of the statement about to run.
    pub fn arm(self: &Arc<Self>) -> Armed {
        Armed { flag: self.clone(), seen: self.generation.load(Ordering::SeqCst), deadline: None }
    }

    /// Cancel the statement running now, if any.
    pub fn cancel(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.notify.notify_waiters();
    }
}

/// A statement's view of its connection's cancels.
#[derive(Debug, Clone)]
pub struct Armed {
    flag: Arc<Flag>,
    seen: u64,
    /// When the statement's time limit runs out, and the limit.
    deadline: Option<(tokio::time::Instant, Duration)>,
}

/// Why a statement was stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// A CancelRequest (or the client went away).
    Cancelled,
    /// Its time limit (`statement_timeout`, `hive.query.timeout.seconds`) ran out.
    TimedOut(Duration),
}

impl Stop {
    /// The error the client gets.
    pub fn error(self) -> PgWireError {
        match self {
            Stop::Cancelled => cancelled(),
            Stop::TimedOut(limit) => hive_error(&HiveError::TimedOut(limit)),
        }
    }
}

impl Armed {
    /// Stop the statement at `limit` from now too. The session keeps the
    /// same limit on the statement's own runtime
    /// ([`hiveql_engine::deadline`]); kept here as well, on the server's
    /// runtime, it is met on time even when a heavy plan keeps the
    /// statement's runtime busy and its wake-ups late (a 1 s limit ended a
    /// join after 4.8 s while a build ran beside it).
    pub fn until(mut self, limit: Option<Duration>) -> Armed {
        self.deadline = limit.map(|l| (tokio::time::Instant::now() + l, l));
        self
    }

    /// Whether a cancel arrived since [`Flag::arm`].
    pub fn is_cancelled(&self) -> bool {
        self.flag.generation.load(Ordering::SeqCst) != self.seen
    }

    /// Resolve at the first cancel since [`Flag::arm`], or at the deadline.
    pub async fn wait(&self) -> Stop {
        let cancelled = async {
            loop {
                let notified = self.flag.notify.notified();
                tokio::pin!(notified);
                // register before checking, so a cancel in between is not missed
                notified.as_mut().enable();
                if self.is_cancelled() {
                    return Stop::Cancelled;
                }
                notified.await;
            }
        };
        match self.deadline {
            None => cancelled.await,
            Some((at, limit)) => tokio::select! {
                stop = cancelled => stop,
                _ = tokio::time::sleep_until(at) => Stop::TimedOut(limit),
            },
        }
    }
}

type Key = (i32, Bytes);

/// The connections that can be cancelled, by process id and secret key.
#[derive(Debug, Default)]
pub struct Cancels {
    flags: Mutex<HashMap<Key, Arc<Flag>>>,
}

impl Cancels {
    /// Register a connection's flag; it is forgotten when the returned
    /// [`Registration`] drops (when the connection ends).
    pub fn register(self: &Arc<Self>, pid: i32, secret: &SecretKey, flag: Arc<Flag>) -> Registration {
        let key = (pid, secret.to_bytes());
        self.flags.lock().insert(key.clone(), flag);
        Registration { key, cancels: self.clone() }
    }

    fn cancel(&self, pid: i32, secret: &SecretKey) -> bool {
        let flag = self.flags.lock().get(&(pid, secret.to_bytes())).cloned();
        match flag {
            Some(f) => {
                f.cancel();
                true
            }
            None => false,
        }
    }
}

/// Keeps a connection cancellable while it lives.
#[derive(Debug)]
pub struct Registration {
    key: Key,
    cancels: Arc<Cancels>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.cancels.flags.lock().remove(&self.key);
    }
}

/// Cancels a connection's statement when its client goes away: a query
/// whose client closed the socket would otherwise run on until its first
/// row is written. A plain thread (not the runtime, whose timers wait while
/// a heavy query keeps its workers busy) peeks, without reading, at a
/// duplicate of each socket every [`PeerWatcher::EVERY`].
#[derive(Debug, Default)]
pub struct PeerWatcher {
    peers: Mutex<Vec<(std::net::TcpStream, std::sync::Weak<Flag>)>>,
}

impl PeerWatcher {
    pub const EVERY: std::time::Duration = std::time::Duration::from_millis(200);

    /// Start the watching thread.
    pub fn start() -> std::io::Result<Arc<PeerWatcher>> {
        let watcher = Arc::new(PeerWatcher::default());
        let w = watcher.clone();
        std::thread::Builder::new().name("peer-watch".into()).spawn(move || {
            loop {
                std::thread::sleep(Self::EVERY);
                w.check();
            }
        })?;
        Ok(watcher)
    }

    /// Watch `peer` (a duplicate of a connection's socket) for `flag`'s
    /// connection; forgotten when the flag is dropped with the connection.
    pub fn watch(&self, peer: std::net::TcpStream, flag: &Arc<Flag>) {
        match peer.set_nonblocking(true) {
            Ok(()) => self.peers.lock().push((peer, Arc::downgrade(flag))),
            Err(e) => tracing::debug!(error = %e, "cannot watch the client's socket"),
        }
    }

    fn check(&self) {
        let mut byte = [0u8; 1];
        self.peers.lock().retain(|(peer, flag)| {
            let Some(flag) = flag.upgrade() else { return false };
            match peer.peek(&mut byte) {
                Ok(0) => {
                    tracing::info!("client went away: its statement is cancelled");
                    flag.cancel();
                    false
                }
                Err(e) if e.kind() != std::io::ErrorKind::WouldBlock => {
                    tracing::info!(error = %e, "client connection failed: its statement is cancelled");
                    flag.cancel();
                    false
                }
                _ => true,
            }
        });
    }
}

/// pgwire's hook for CancelRequest messages.
#[derive(Debug)]
pub struct CancelRequests(pub Arc<Cancels>);

#[async_trait]
impl CancelHandler for CancelRequests {
    async fn on_cancel_request(&self, request: CancelRequest) {
        if self.0.cancel(request.pid, &request.secret_key) {
            tracing::info!(pid = request.pid, "statement cancelled by a CancelRequest");
        } else {
            // a wrong key or a finished connection: PostgreSQL says nothing either
            tracing::info!(pid = request.pid, "CancelRequest for no connection");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_cancel_stops_the_armed_statement_not_the_next() {
        let cancels = Arc::new(Cancels::default());
        let key = SecretKey::I32(7);
        let flag = Arc::new(Flag::default());
        let _reg = cancels.register(1, &key, flag.clone());
        let armed = flag.arm();
        assert!(!cancels.cancel(1, &SecretKey::I32(8)), "a wrong secret cancels nothing");
        assert!(!armed.is_cancelled());
        assert!(cancels.cancel(1, &key));
        assert_eq!(armed.wait().await, Stop::Cancelled);
        assert!(!flag.arm().is_cancelled(), "the next statement starts clean");
    }

    #[tokio::test]
    async fn a_statement_with_a_limit_is_stopped_at_it() {
        let flag = Arc::new(Flag::default());
        let limit = Duration::from_millis(50);
        assert_eq!(flag.arm().until(Some(limit)).wait().await, Stop::TimedOut(limit));
        // a cancel before the limit is a cancel
        let armed = flag.arm().until(Some(Duration::from_secs(60)));
        flag.cancel();
        assert_eq!(armed.wait().await, Stop::Cancelled);
    }

    #[test]
    fn a_closed_connection_is_forgotten() {
        let cancels = Arc::new(Cancels::default());
        let reg = cancels.register(1, &SecretKey::I32(7), Arc::default());
        drop(reg);
        assert!(!cancels.cancel(1, &SecretKey::I32(7)));
    }
}
