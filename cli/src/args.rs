//! The command line, as Hive CLI and beeline users know it.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// How query results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Boxed table (beeline's `table`).
    Table,
    /// Tab-separated values.
    Tsv2,
    /// Comma-separated values (quoted where needed).
    Csv2,
    /// `{"resultset":[{...},...]}`.
    Json,
    /// One `column value` line per column, rows separated by a blank line.
    Vertical,
}

fn key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, got '{s}'")),
    }
}

/// hiveql: a Hive/Athena-compatible SQL engine.
///
/// With no -e/-f and a terminal on standard input, starts the interactive
/// shell (statements end with `;`, `quit;` leaves, Ctrl-C cancels the running
/// query). Otherwise runs the statements of -e, -f FILE (`-f -` is standard
/// input) or a pipe, stopping at the first error unless --force.
///
/// Variables: `${name}`, `${hivevar:name}`, `${hiveconf:name}`, `${env:NAME}`
/// are replaced in statements; set them with --hivevar/-d, --hiveconf or
/// `SET hivevar:name=value;` in the script.
///
/// Everything runs in-process on the embedded metastore in HIVEQL_HOME
/// (default ~/.hiveql): `metastore.db` and `warehouse/`.
#[derive(Debug, Parser)]
#[command(name = "hiveql", version, verbatim_doc_comment)]
pub struct Args {
    /// Run these statements (separated by `;`) and exit.
    #[arg(short = 'e', value_name = "SQL", conflicts_with = "file", allow_hyphen_values = true)]
    pub execute: Option<String>,

    /// Run the statements of this script file (`-` for standard input) and exit.
    #[arg(short = 'f', value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// Define a variable for substitution, as `${K}` or `${hivevar:K}` (repeatable).
    #[arg(long = "hivevar", short = 'd', alias = "define", value_name = "K=V", value_parser = key_value)]
    pub hivevar: Vec<(String, String)>,

    /// Set a session property, e.g. hive.metastore.warehouse.dir=/data/wh (repeatable).
    #[arg(long = "hiveconf", value_name = "K=V", value_parser = key_value)]
    pub hiveconf: Vec<(String, String)>,

    /// Result format [default: table on a terminal, tsv2 otherwise].
    #[arg(long = "outputformat", value_enum, value_name = "FORMAT")]
    pub output_format: Option<OutputFormat>,

    /// Print column names above the results.
    #[arg(long = "showHeader", value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    pub show_header: bool,

    /// Print no status lines (OK, timings, row counts), only results and errors.
    #[arg(long = "silent", short = 'S', default_value_t = false, action = clap::ArgAction::SetTrue)]
    pub silent: bool,

    /// Keep going after a failing statement (exit status is still non-zero).
    #[arg(long = "force", default_value_t = false)]
    pub force: bool,

    /// The hiveql home: metastore.db, warehouse/ and the REPL history.
    #[arg(long = "home", env = "HIVEQL_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,
}

impl Args {
    /// The script to run, or `None` for interactive/standard input.
    pub fn script(&self) -> Result<Option<String>, String> {
        if let Some(e) = &self.execute {
            return Ok(Some(e.clone()));
        }
        match &self.file {
            None => Ok(None),
            Some(p) if p.as_os_str() == "-" => {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                    .map_err(|e| format!("reading standard input: {e}"))?;
                Ok(Some(s))
            }
            Some(p) => {
                std::fs::read_to_string(p).map(Some).map_err(|e| format!("cannot read script {}: {e}", p.display()))
            }
        }
    }

    /// HIVEQL_HOME, defaulting to ~/.hiveql.
    pub fn home_dir(&self) -> PathBuf {
        self.home.clone().unwrap_or_else(|| {
            let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
            home.join(".hiveql")
        })
    }
}
