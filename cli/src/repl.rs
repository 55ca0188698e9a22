//! The interactive shell: multi-line statements ending in `;` (rustyline's
//! `Validator` keeps Enter inside an unfinished statement), history in
//! `$HIVEQL_HOME/history`, completion of keywords, functions, databases and
//! tables; Ctrl-C clears the input at the prompt and cancels a running query.

use std::process::ExitCode;

use hiveql_engine::sql::script::{is_complete, split_statements};
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::FileHistory;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Editor, Helper};

use crate::runner::Runner;

/// Words the shell completes besides names: every SQL keyword sqlparser
/// knows (Hive's among them) and the shell's own commands.
fn keywords() -> impl Iterator<Item = &'static str> {
    datafusion::sql::sqlparser::keywords::ALL_KEYWORDS.iter().copied().chain(["quit", "exit"])
}

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
        for k in keywords() {
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
/// Enter ends the input only when it holds a complete statement (the last
/// `;` outside quotes and comments); before that it starts a new line of the
/// same entry, so a multi-line statement is edited and recalled as one.
impl Validator for HiveHelper {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        let input = ctx.input();
        let word = input.trim().trim_end_matches(';').trim().to_ascii_lowercase();
        if input.trim().is_empty() || is_complete(input) || word == "quit" || word == "exit" {
            Ok(ValidationResult::Valid(None))
        } else {
            Ok(ValidationResult::Incomplete)
        }
    }
}
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
    match editor.load_history(&history) {
        Ok(()) => {}
        Err(ReadlineError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => eprintln!("Warning: could not read the history {}: {e}", history.display()),
    }
    eprintln!("hiveql {} - statements end with ';', quit; to leave", env!("CARGO_PKG_VERSION"));
    loop {
        match editor.readline("hiveql> ") {
            Ok(text) => {
                if text.trim().is_empty() {
                    continue;
                }
                if let Err(e) = editor.add_history_entry(text.trim()) {
                    tracing::warn!(error = %e, "could not add to the history");
                }
                for stmt in split_statements(&text) {
                    let word = stmt.text.trim().to_ascii_lowercase();
                    if word == "quit" || word == "exit" {
                        save(&mut editor, &history);
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
            // Ctrl-C at the prompt throws away what was typed
            Err(ReadlineError::Interrupted) => {}
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("Error: {e}");
                break;
            }
        }
    }
    save(&mut editor, &history);
    ExitCode::SUCCESS
}

fn save(editor: &mut Editor<HiveHelper, FileHistory>, history: &std::path::Path) {
    if let Err(e) = editor.save_history(history) {
        eprintln!("Warning: could not save the history to {}: {e}", history.display());
    }
}
