//! Running statements and printing what they produce, for scripts and the REPL.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Instant;

use hiveql_engine::sql::script::split_statements;
use hiveql_engine::{HiveError, Session, SessionOptions, StatementOutput};

use crate::args::{Args, OutputFormat};
use crate::output::Printer;

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
        let session = Session::open(SessionOptions {
            home: home.clone(),
            hiveconf: args.hiveconf.clone(),
            hivevar: args.hivevar.clone(),
        })?;
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

    /// Run one statement, printing its rows or status. Ctrl-C cancels it.
    pub async fn run_statement(&mut self, text: &str) -> Result<(), HiveError> {
        let start = Instant::now();
        let fmt = self.format;
        let header = self.show_header;
        let work = async {
            let out = self.session.execute(text).await?;
            match out {
                StatementOutput::Rows(stream) => {
                    let stdout = std::io::stdout();
                    let mut printer = Printer::new(fmt, header, stdout.lock());
                    let rows = printer.print_stream(stream).await?;
                    Ok::<_, HiveError>(Some(rows))
                }
                StatementOutput::Done(msg) => {
                    if let Some(m) = msg.filter(|m| !m.is_empty()) {
                        if !self.silent {
                            eprintln!("{m}");
                        }
                    }
                    Ok(None)
                }
            }
        };
        let result = tokio::select! {
            r = work => r,
            _ = tokio::signal::ctrl_c() => Err(HiveError::Cancelled),
        };
        let _ = std::io::stdout().flush();
        let secs = start.elapsed().as_secs_f64();
        match result? {
            Some(rows) => self.status(&format!("Time taken: {secs:.3} seconds, Fetched: {rows} row(s)")),
            None => self.status(&format!("OK\nTime taken: {secs:.3} seconds")),
        }
        Ok(())
    }
}
