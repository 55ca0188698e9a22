//! Where a connection's statements run: a Tokio runtime of the
//! connection's own, apart from the server's, which reads and writes the
//! sockets and answers CancelRequests.
//!
//! A query's operators can hold a worker thread for seconds in one poll (a
//! nested-loop join evaluates a batch against its whole build side). On a
//! runtime shared with the connections, that kept a cancel and another
//! connection's `SELECT 42` waiting 3.4–3.9 s (release build, two cores).
//! With a runtime per connection the operating system shares the cores
//! between the connections' threads, so one connection's join slows the
//! others down but never stops them, and a cancel is answered at once: the
//! statement's task is aborted, its operators stop at their next yield
//! point (see [`hiveql_engine::cancel`]).
//!
//! Rows cross from the connection's runtime to the server's through a
//! bounded channel of batches (DataFusion's
//! [`RecordBatchReceiverStream`]), so a result is never held whole.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchReceiverStream;
use futures::StreamExt;
use tokio::runtime::{Builder, Handle, Runtime};
use tokio::task::JoinHandle;

/// How many batches a statement's runtime computes ahead of the client.
const BATCHES_AHEAD: usize = 2;

/// How long a closing connection waits for cancels of its cluster jobs to
/// reach the scheduler (they run on its runtime).
const CANCELS_SETTLE: Duration = Duration::from_secs(5);

/// One connection's query runtime.
#[derive(Debug)]
pub struct Executor {
    runtime: Option<Runtime>,
}

impl Executor {
    /// A runtime with a worker per core, started now.
    pub fn new() -> std::io::Result<Executor> {
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        let runtime =
            Builder::new_multi_thread().worker_threads(workers).thread_name("hiveql-query").enable_all().build()?;
        Ok(Executor { runtime: Some(runtime) })
    }

    fn handle(&self) -> &Handle {
        self.runtime.as_ref().expect("the runtime lives as long as the executor").handle()
    }

    /// Run `work` on the connection's runtime. Dropping the returned
    /// future aborts it.
    pub fn run<F>(&self, work: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Task(self.handle().spawn(work))
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        let Some(runtime) = self.runtime.take() else { return };
        // a runtime cannot be dropped on another runtime's thread; a thread of
        // its own lets a cluster job's cancel, still on its way, arrive first
        let closing = std::thread::Builder::new().name("hiveql-query-close".into()).spawn(move || {
            runtime.block_on(hiveql_engine::dist::client::settle_cancels(CANCELS_SETTLE));
            runtime.shutdown_background();
        });
        if let Err(e) = closing {
            tracing::warn!(error = %e, "cannot start the thread that closes a connection's runtime");
        }
    }
}

/// A statement's work on its connection's runtime; aborted when dropped.
#[derive(Debug)]
pub struct Task<T>(JoinHandle<T>);

impl<T> Future for Task<T> {
    /// The work's output, or why the task ended without one (a panic).
    type Output = Result<T, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map_err(|e| {
            tracing::error!(error = %e, "a statement's task failed");
            format!("the statement's task failed: {e}")
        })
    }
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// `stream`'s batches computed on the current runtime (call it from a
/// [`Executor::run`] task) and read from anywhere; dropping the returned
/// stream stops the computing.
pub fn offload(mut stream: SendableRecordBatchStream) -> SendableRecordBatchStream {
    let mut builder = RecordBatchReceiverStream::builder(stream.schema(), BATCHES_AHEAD);
    let tx = builder.tx();
    builder.spawn(async move {
        while let Some(batch) = stream.next().await {
            if tx.send(batch).await.is_err() {
                break; // the reader is gone
            }
        }
        Ok(())
    });
    builder.build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, RecordBatch};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// A future that never yields once it starts: a hogging operator.
    async fn hog(stop: Arc<AtomicBool>) {
        while !stop.load(Ordering::SeqCst) {
            std::hint::spin_loop();
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_hogging_statement_does_not_stop_another_connections() {
        let stop = Arc::new(AtomicBool::new(false));
        let busy = Executor::new().unwrap();
        // more hogs than the runtime has workers: every worker of `busy` is held
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        let hogs: Vec<_> = (0..workers + 1).map(|_| busy.run(hog(stop.clone()))).collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let other = Executor::new().unwrap();
        let answered = tokio::time::timeout(Duration::from_secs(2), other.run(async { 42 })).await;
        stop.store(true, Ordering::SeqCst);
        assert_eq!(answered.expect("another connection's statement waited for the hog").unwrap(), 42);
        drop(hogs);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn rows_cross_runtimes_and_dropping_the_reader_stops_the_writer() {
        let exec = Executor::new().unwrap();
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        let produced = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = produced.clone();
        let s = schema.clone();
        let batches = futures::stream::iter(0..).map(move |i| {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok(RecordBatch::try_new(s.clone(), vec![Arc::new(Int64Array::from(vec![i as i64]))]).unwrap())
        });
        let endless: SendableRecordBatchStream = Box::pin(RecordBatchStreamAdapter::new(schema, batches));
        let mut rows = exec.run(async move { offload(endless) }).await.unwrap();
        for want in 0..3i64 {
            let b = rows.next().await.unwrap().unwrap();
            assert_eq!(b.column(0).as_any().downcast_ref::<Int64Array>().unwrap().value(0), want);
        }
        drop(rows);
        tokio::time::sleep(Duration::from_millis(100)).await;
        let after_drop = produced.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(produced.load(Ordering::SeqCst), after_drop, "the writer went on after the reader left");
        assert!(after_drop <= 3 + BATCHES_AHEAD + 2, "computed {after_drop} batches for 3 read");
    }
}
