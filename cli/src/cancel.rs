//! Ctrl-C as the shell sees it: a SIGINT handler that never depends on the
//! async runtime being free.
//!
//! Tokio's own signal stream is driven by the runtime's I/O driver, which only
//! an idle worker polls: while a CPU-bound join keeps both workers busy, a
//! `tokio::signal::ctrl_c()` future is never woken and the query cannot be
//! stopped. Here a plain OS thread waits for SIGINT (`signal-hook`), bumps a
//! generation counter and wakes a [`Notify`]; the waker needs no driver, so the
//! waiting statement returns within milliseconds and aborts the query's task.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::sync::Notify;

/// How many SIGINTs have arrived since [`install`].
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// How many [`Interrupt`]s are listening now.
static ARMED: AtomicUsize = AtomicUsize::new(0);

fn notify() -> &'static Notify {
    static NOTIFY: OnceLock<Notify> = OnceLock::new();
    NOTIFY.get_or_init(Notify::new)
}

/// Take over SIGINT for the rest of the process: from now on Ctrl-C
/// interrupts whatever has [`Interrupt::arm`]ed itself. When nothing has,
/// `hiveql` exits with status 130 if `exit_when_idle` (a script waiting for
/// its input), or ignores it (the REPL, whose prompt reads Ctrl-C as a key).
pub fn install(exit_when_idle: bool) -> std::io::Result<()> {
    let mut signals = signal_hook::iterator::Signals::new([signal_hook::consts::SIGINT])?;
    std::thread::Builder::new().name("sigint".into()).spawn(move || {
        for _ in signals.forever() {
            if exit_when_idle && ARMED.load(Ordering::SeqCst) == 0 {
                eprintln!("Interrupted");
                std::process::exit(130);
            }
            GENERATION.fetch_add(1, Ordering::SeqCst);
            notify().notify_waiters();
        }
    })?;
    Ok(())
}

/// One statement's view of Ctrl-C: only signals after [`Interrupt::arm`] count.
pub struct Interrupt {
    seen: u64,
}

impl Interrupt {
    /// Start listening; a Ctrl-C pressed earlier (at the prompt) is ignored.
    pub fn arm() -> Interrupt {
        ARMED.fetch_add(1, Ordering::SeqCst);
        Interrupt { seen: GENERATION.load(Ordering::SeqCst) }
    }

    /// Resolve at the first SIGINT after [`Interrupt::arm`].
    pub async fn wait(&self) {
        loop {
            let notified = notify().notified();
            tokio::pin!(notified);
            // Register before checking, so a signal between the check and the
            // await is not missed.
            notified.as_mut().enable();
            if GENERATION.load(Ordering::SeqCst) != self.seen {
                return;
            }
            notified.await;
        }
    }
}

impl Drop for Interrupt {
    fn drop(&mut self) {
        ARMED.fetch_sub(1, Ordering::SeqCst);
    }
}
