//! The interactive shell: multi-line statements ending in `;`, history in
//! `$HIVEQL_HOME/history`, completion of keywords and table names, Ctrl-C
//! clears the line at the prompt and cancels a running query.

use std::process::ExitCode;

use hiveql_engine::sql::script::{is_complete, split_statements};
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::FileHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};

use crate::runner::Runner;

const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP BY",
    "ORDER BY",
    "SORT BY",
    "CLUSTER BY",
    "DISTRIBUTE BY",
    "HAVING",
    "LIMIT",
    "JOIN",
    "LEFT",
    "RIGHT",
    "FULL",
    "OUTER",
    "INNER",
    "SEMI",
    "ON",
    "AS",
    "AND",
    "OR",
    "NOT",
    "NULL",
    "IS",
    "IN",
    "LIKE",
    "RLIKE",
    "BETWEEN",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "DISTINCT",
    "UNION",
    "ALL",
    "WITH",
    "INSERT",
    "INTO",
    "OVERWRITE",
    "TABLE",
    "VALUES",
    "CREATE",
    "EXTERNAL",
    "DATABASE",
    "SCHEMA",
    "VIEW",
    "DROP",
    "ALTER",
    "RENAME",
    "TO",
    "ADD",
    "REPLACE",
    "COLUMNS",
    "PARTITION",
    "PARTITIONED",
    "CLUSTERED",
    "BUCKETS",
    "ROW",
    "FORMAT",
    "DELIMITED",
    "FIELDS",
    "TERMINATED",
    "SERDE",
    "SERDEPROPERTIES",
    "STORED",
    "TEXTFILE",
    "PARQUET",
    "LOCATION",
    "TBLPROPERTIES",
    "LOAD",
    "DATA",
    "LOCAL",
    "INPATH",
    "DIRECTORY",
    "SHOW",
    "TABLES",
    "DATABASES",
    "DESCRIBE",
    "FORMATTED",
    "EXTENDED",
    "USE",
    "TRUNCATE",
    "EXPLAIN",
    "SET",
    "CAST",
    "COUNT",
    "SUM",
    "AVG",
    "MIN",
    "MAX",
    "STRING",
    "INT",
    "BIGINT",
    "DOUBLE",
    "DECIMAL",
    "BOOLEAN",
    "DATE",
    "TIMESTAMP",
    "ARRAY",
    "MAP",
    "STRUCT",
    "IF",
    "EXISTS",
    "quit",
    "exit",
];

struct HiveHelper {
    names: Vec<String>,
}

impl Completer for HiveHelper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let start =
            line[..pos].rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.')).map(|i| i + 1).unwrap_or(0);
        let word = &line[start..pos];
        if word.is_empty() {
            return Ok((pos, Vec::new()));
        }
        let lower = word.to_ascii_lowercase();
        let mut out: Vec<Pair> = Vec::new();
        for k in KEYWORDS {
            if k.to_ascii_lowercase().starts_with(&lower) {
                let text = if word.chars().next().is_some_and(|c| c.is_lowercase()) {
                    k.to_ascii_lowercase()
                } else {
                    k.to_string()
                };
                out.push(Pair { display: text.clone(), replacement: text });
            }
        }
        for n in &self.names {
            if n.starts_with(&lower) {
                out.push(Pair { display: n.clone(), replacement: n.clone() });
            }
        }
        Ok((start, out))
    }
}

impl Hinter for HiveHelper {
    type Hint = String;
}
impl Highlighter for HiveHelper {}
impl Validator for HiveHelper {}
impl Helper for HiveHelper {}

/// Run the REPL until `quit;`, `exit;` or end of input.
pub async fn run(runner: &mut Runner) -> ExitCode {
    let mut editor: Editor<HiveHelper, FileHistory> = match Editor::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("Error: cannot start the shell: {e}");
            return ExitCode::from(1);
        }
    };
    editor.set_helper(Some(HiveHelper { names: runner.session.completion_names() }));
    let history = runner.home.join("history");
    let _ = editor.load_history(&history);
    eprintln!("hiveql {} - statements end with ';', quit; to leave", env!("CARGO_PKG_VERSION"));
    let mut buffer = String::new();
    loop {
        let prompt = if buffer.is_empty() { "hiveql> " } else { "      > " };
        match editor.readline(prompt) {
            Ok(line) => {
                if !buffer.is_empty() {
                    buffer.push('\n');
                }
                buffer.push_str(&line);
                if !is_complete(&buffer) {
                    continue;
                }
                let _ = editor.add_history_entry(buffer.trim());
                let text = std::mem::take(&mut buffer);
                for stmt in split_statements(&text) {
                    let word = stmt.text.trim().to_ascii_lowercase();
                    if word == "quit" || word == "exit" {
                        let _ = editor.save_history(&history);
                        return ExitCode::SUCCESS;
                    }
                    if let Err(e) = runner.run_statement(&stmt.text).await {
                        eprintln!("Error: {e}");
                    }
                }
                if let Some(h) = editor.helper_mut() {
                    h.names = runner.session.completion_names();
                }
            }
            Err(ReadlineError::Interrupted) => {
                buffer.clear();
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("Error: {e}");
                break;
            }
        }
    }
    let _ = editor.save_history(&history);
    ExitCode::SUCCESS
}
