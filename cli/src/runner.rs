//! Running statements and printing what they produce, for scripts and the REPL.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Instant;

use hiveql_engine::sql::script::split_statements;
use hiveql_engine::{HiveError, Session, SessionOptions, StatementOutput};

use crate::args::{Args, OutputFormat};
use crate::cancel::Interrupt;
use crate::output::Printer;

/// A statement running longer than this shows a spinner (on a terminal).
const SPINNER_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// How long an interrupted statement may take to be dropped, and then its
/// cluster job's cancel to reach the scheduler, before the process exits.
const CANCEL_REACHES_CLUSTER: std::time::Duration = std::time::Duration::from_secs(3);

/// A session plus how to print.
pub struct Runner {
    pub session: Session,
    format: OutputFormat,
    show_header: bool,
    silent: bool,
    force: bool,
    pub home: std::path::PathBuf,
}

impl Runner {
    pub fn new(args: &Args) -> Result<Runner, HiveError> {
        let home = args.home_dir();
        // the cluster: --cluster, else hiveql.cluster in hiveql.conf; a
        // --hiveconf hiveql.cluster=... (even empty) comes after, so it wins
        let mut hiveconf = Vec::new();
        if let Some(c) = args.cluster.clone().or_else(|| crate::conf::get(&home, hiveql_engine::dist::CLUSTER)) {
            hiveconf.push((hiveql_engine::dist::CLUSTER.to_string(), c));
        }
        hiveconf.extend(args.hiveconf.iter().cloned());
        let session = Session::open(SessionOptions { home: home.clone(), hiveconf, hivevar: args.hivevar.clone() })?;
        let format = args.output_format.unwrap_or(if std::io::stdout().is_terminal() {
            OutputFormat::Table
        } else {
            OutputFormat::Tsv2
        });
        Ok(Runner { session, format, show_header: args.show_header, silent: args.silent, force: args.force, home })
    }

    fn status(&self, msg: &str) {
        if !self.silent {
            eprintln!("{msg}");
        }
    }

    /// Run every statement of a script; stop at the first error unless `--force`.
    pub async fn run_script(&mut self, text: &str) -> ExitCode {
        let mut failed = false;
        for stmt in split_statements(text) {
            match self.run_statement(&stmt.text).await {
                Ok(()) => {}
                Err(HiveError::Cancelled) => {
                    eprintln!("Error: line {}: query cancelled", stmt.line);
                    // the process is about to end: let a cluster job's cancel reach its scheduler
                    hiveql_engine::dist::client::settle_cancels(CANCEL_REACHES_CLUSTER).await;
                    return ExitCode::from(130);
                }
                Err(e) => {
                    eprintln!("Error: line {}: {e}", stmt.line);
                    failed = true;
                    if !self.force {
                        return ExitCode::from(1);
                    }
                }
            }
        }
        if failed { ExitCode::from(1) } else { ExitCode::SUCCESS }
    }

    /// Run one statement, printing its rows or status.
    ///
    /// The statement runs as its own task on a copy of the session; Ctrl-C
    /// (see [`crate::cancel`]) aborts that task, which drops the query's plan
    /// and every task it spawned, and the session stays as it was before the
    /// statement. A completed statement's session (current database, `SET`s)
    /// replaces this one.
    pub async fn run_statement(&mut self, text: &str) -> Result<(), HiveError> {
        let start = Instant::now();
        let fmt = self.format;
        let header = self.show_header;
        let silent = self.silent;
        let mut session = self.session.clone();
        let text = text.to_string();
        let interrupt = Interrupt::arm();
        let spinner = crate::progress::statement();
        let bar = spinner.clone();
        // a cluster job's stages, drawn in the spinner's message
        let mut stages = if silent { None } else { self.session.job_progress() };
        let mut task = tokio::spawn(async move {
            let out = session.execute(&text).await;
            let printed = match out {
                Err(e) => Err(e),
                Ok(StatementOutput::Rows(stream)) => {
                    let mut printer =
                        Printer::new(fmt, header, std::io::BufWriter::new(std::io::stdout())).with_progress(bar);
                    printer.print_stream(stream).await.map(Some)
                }
                Ok(StatementOutput::Done(msg)) => {
                    bar.finish_and_clear();
                    if let Some(m) = msg.filter(|m| !m.is_empty() && !silent) {
                        eprintln!("{m}");
                    }
                    Ok(None)
                }
                Ok(StatementOutput::Written { message, .. }) => {
                    bar.finish_and_clear();
                    let msg = Some(message);
                    if let Some(m) = msg.filter(|m| !m.is_empty() && !silent) {
                        eprintln!("{m}");
                    }
                    Ok(None)
                }
            };
            (session, printed)
        });
        let slow = tokio::time::sleep(SPINNER_AFTER);
        tokio::pin!(slow);
        let mut waited = false;
        let result = loop {
            tokio::select! {
                joined = &mut task => break match joined {
                    Ok((session, printed)) => {
                        if printed.is_ok() {
                            self.session = session;
                        }
                        printed
                    }
                    Err(e) => Err(HiveError::Internal(format!("the statement's task failed: {e}"))),
                },
                _ = interrupt.wait() => {
                    task.abort();
                    break Err(HiveError::Cancelled);
                }
                _ = &mut slow, if !waited && !silent => {
                    waited = true;
                    crate::progress::show(&spinner);
                }
                line = crate::progress::next_stages(&mut stages) => spinner.set_message(line),
            }
        };
        spinner.finish_and_clear();
        let _ = std::io::stdout().flush();
        let secs = start.elapsed().as_secs_f64();
        match result? {
            Some(rows) => self.status(&format!("Time taken: {secs:.3} seconds, Fetched: {rows} row(s)")),
            None => self.status(&format!("OK\nTime taken: {secs:.3} seconds")),
        }
        Ok(())
    }
}
