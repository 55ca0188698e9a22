//! `hive.query.timeout.seconds`, Hive's limit on how long one statement
//! runs. A statement still running at its deadline is stopped as Ctrl-C
//! stops it (its plan is dropped; a job on a cluster is cancelled there)
//! and fails with [`HiveError::TimedOut`]. The deadline covers the whole
//! statement: planning, writing, and a query's rows until the last is read.
//! Unset or 0: no limit, as in Hive.
//!
//! A script that must not wait on a stalled job for ever (a cluster whose
//! workers hang without dying) sets it, as it would on Hive.
//!
//! The deadline is kept by a thread of its own ([`Alarm`]), not by Tokio's
//! timer: a runtime whose workers are all busy with a heavy plan services
//! its timers late (a 1 s limit on a cross join over the wire ended it
//! after 5.4 s), while a wake from another thread is taken up at the
//! task's next turn.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream};
use futures::task::AtomicWaker;
use futures::{Future, Stream};

use crate::error::{HiveError, Result};
use crate::session::StatementOutput;

/// The setting's name.
pub const SETTING: &str = "hive.query.timeout.seconds";

/// The limit a value of the setting sets: a count of seconds, or a count
/// with one of Hive's time units (`ms`, `s`/`sec`, `m`/`min`, `h`, `d`);
/// `None` for 0.
pub fn parse(value: &str) -> Result<Option<Duration>> {
    let v = value.trim().to_ascii_lowercase();
    let digits = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (number, unit) = v.split_at(digits);
    let bad =
        || HiveError::Semantic(format!("SET {SETTING}: '{value}' is not a time (seconds, or e.g. 30s, 5min, 2h)"));
    let n: u64 = number.parse().map_err(|_| bad())?;
    let limit = match unit.trim() {
        "ms" | "msec" | "msecs" => Duration::from_millis(n),
        "" | "s" | "sec" | "secs" | "second" | "seconds" => Duration::from_secs(n),
        "m" | "min" | "mins" | "minute" | "minutes" => Duration::from_secs(n.saturating_mul(60)),
        "h" | "hour" | "hours" => Duration::from_secs(n.saturating_mul(3600)),
        "d" | "day" | "days" => Duration::from_secs(n.saturating_mul(86_400)),
        _ => return Err(bad()),
    };
    Ok((!limit.is_zero()).then_some(limit))
}

/// When a statement started under a limit must be done by.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    at: Instant,
    limit: Duration,
}

impl Deadline {
    /// The deadline of a statement starting now under `limit`, if any.
    pub fn start(limit: Option<Duration>) -> Option<Deadline> {
        limit.map(|limit| Deadline { at: Instant::now() + limit, limit })
    }

    fn timed_out(&self) -> HiveError {
        HiveError::TimedOut(self.limit)
    }

    /// Run `work` until the deadline: what it gives, or [`HiveError::TimedOut`]
    /// (and `work` dropped) if it is not done by then.
    pub async fn run<T>(deadline: Option<Deadline>, work: impl Future<Output = Result<T>>) -> Result<T> {
        let Some(d) = deadline else { return work.await };
        let alarm = Alarm::set(d.at);
        let mut work = std::pin::pin!(work);
        std::future::poll_fn(|cx| {
            if let Poll::Ready(done) = work.as_mut().poll(cx) {
                return Poll::Ready(done);
            }
            alarm.poll(cx).map(|()| Err(d.timed_out()))
        })
        .await
    }

    /// `output`, whose rows (if it has rows) end in [`HiveError::TimedOut`]
    /// at the deadline, their plan dropped.
    pub fn rows(deadline: Option<Deadline>, output: StatementOutput) -> StatementOutput {
        match (deadline, output) {
            (Some(d), StatementOutput::Rows(rows)) => StatementOutput::Rows(Box::pin(Limited {
                schema: rows.schema(),
                rows: Some(rows),
                alarm: Alarm::set(d.at),
                deadline: d,
            })),
            (_, output) => output,
        }
    }
}

/// Rows that stop at a deadline.
struct Limited {
    schema: SchemaRef,
    /// `None` once the deadline passed (the plan is dropped then).
    rows: Option<SendableRecordBatchStream>,
    alarm: Alarm,
    deadline: Deadline,
}

impl Stream for Limited {
    type Item = datafusion::error::Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let Some(rows) = this.rows.as_mut() else { return Poll::Ready(None) };
        // the clock first: a plan that always has a batch ready never waits on the timer
        if Instant::now() < this.deadline.at {
            let next = rows.as_mut().poll_next(cx);
            if next.is_ready() || this.alarm.poll(cx).is_pending() {
                return next;
            }
        }
        this.rows = None;
        Poll::Ready(Some(Err(self.deadline.timed_out().into())))
    }
}

/// A thread that wakes the task waiting on it at a given instant. It
/// sleeps until then, or until the alarm is dropped (the statement ended
/// first).
struct Alarm {
    at: Instant,
    shared: Arc<Ringing>,
    /// The sleeping thread, to wake when the alarm is dropped; `None` if it
    /// could not be started (then only the clock checks at each poll remain).
    thread: Option<std::thread::Thread>,
}

#[derive(Default)]
struct Ringing {
    waker: AtomicWaker,
    rang: AtomicBool,
    dropped: AtomicBool,
}

impl Alarm {
    fn set(at: Instant) -> Alarm {
        let shared = Arc::new(Ringing::default());
        let ringing = shared.clone();
        let thread = std::thread::Builder::new().name("hiveql-deadline".into()).spawn(move || {
            while !ringing.dropped.load(Ordering::Acquire) {
                let now = Instant::now();
                if now >= at {
                    ringing.rang.store(true, Ordering::Release);
                    ringing.waker.wake();
                    return;
                }
                std::thread::park_timeout(at - now);
            }
        });
        let thread = match thread {
            Ok(handle) => Some(handle.thread().clone()),
            Err(e) => {
                tracing::warn!("{SETTING}: no thread to keep the deadline ({e}); checked as rows come");
                None
            }
        };
        Alarm { at, shared, thread }
    }

    /// Ready once the instant has passed; until then the task is woken then.
    fn poll(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.shared.waker.register(cx.waker());
        let rang = self.shared.rang.load(Ordering::Acquire) || Instant::now() >= self.at;
        if rang { Poll::Ready(()) } else { Poll::Pending }
    }
}

impl Drop for Alarm {
    fn drop(&mut self) {
        self.shared.dropped.store(true, Ordering::Release);
        if let Some(thread) = &self.thread {
            thread.unpark();
        }
    }
}

impl RecordBatchStream for Limited {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::Schema;
    use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
    use futures::StreamExt;

    #[test]
    fn values_are_hives_times() {
        assert_eq!(parse("30").unwrap(), Some(Duration::from_secs(30)));
        assert_eq!(parse(" 30s ").unwrap(), Some(Duration::from_secs(30)));
        assert_eq!(parse("5min").unwrap(), Some(Duration::from_secs(300)));
        assert_eq!(parse("2h").unwrap(), Some(Duration::from_secs(7200)));
        assert_eq!(parse("1500ms").unwrap(), Some(Duration::from_millis(1500)));
        assert_eq!(parse("0").unwrap(), None);
        for bad in ["", "-1", "ten", "5 parsecs", "1.5"] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.contains(SETTING) && e.contains("is not a time"), "{bad}: {e}");
        }
    }

    #[tokio::test]
    async fn rows_that_never_come_end_at_the_deadline() {
        let schema = std::sync::Arc::new(Schema::empty());
        let never = RecordBatchStreamAdapter::new(schema, futures::stream::pending());
        let d = Deadline::start(Some(Duration::from_millis(200)));
        let started = Instant::now();
        let StatementOutput::Rows(mut rows) = Deadline::rows(d, StatementOutput::Rows(Box::pin(never))) else {
            unreachable!()
        };
        let e = HiveError::from(rows.next().await.unwrap().unwrap_err());
        assert!(matches!(e, HiveError::TimedOut(_)), "{e}");
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(rows.next().await.is_none());
        let e = Deadline::run(d, std::future::pending::<Result<()>>()).await.unwrap_err();
        assert_eq!(e.to_string(), "FAILED [Error 20005]: query timed out after 0.2 s (hive.query.timeout.seconds)");
    }
}
