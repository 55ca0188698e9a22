//! The text pre-pass that Hive's CLI applies to a script before any SQL
//! parsing: split into statements on `;` (aware of quotes, backquotes and
//! comments), remember each statement's line, substitute `${var}` variables,
//! and recognise command lines (`SET`, `RESET`, `ADD JAR`, ...) that are not SQL.

use std::collections::HashMap;

/// One statement of a script.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptStatement {
    /// The statement text without the terminating `;` and without leading
    /// comments and white space.
    pub text: String,
    /// 1-based line of the script where the statement starts.
    pub line: usize,
}

/// Split a script into statements. A trailing statement without `;` counts.
/// Statements that hold only comments are dropped.
pub fn split_statements(script: &str) -> Vec<ScriptStatement> {
    split_with_rest(script).0
}

/// True when `text` ends with a complete statement: a `;` outside quotes
/// and comments followed by nothing but white space and comments (what the
/// REPL waits for before running what was typed).
pub fn is_complete(text: &str) -> bool {
    let (stmts, rest_start) = split_with_rest(text);
    !stmts.is_empty() && skip_leading_comments(&text[rest_start..]) == text.len() - rest_start
}

fn split_with_rest(script: &str) -> (Vec<ScriptStatement>, usize) {
    let bytes = script.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut start = 0;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let c = bytes[i];
        match quote {
            Some(q) => {
                if c == b'\\' && q != b'`' {
                    i += 1;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                b'\'' | b'"' | b'`' => quote = Some(c),
                b'-' if bytes.get(i + 1) == Some(&b'-') => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                    continue;
                }
                b'/' if bytes.get(i + 1) == Some(&b'*') => {
                    i += 2;
                    while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                        i += 1;
                    }
                    i += 2;
                    continue;
                }
                b';' => {
                    push_statement(script, start, i, &mut out);
                    start = i + 1;
                }
                _ => {}
            },
        }
        i += 1;
    }
    let rest = start.min(script.len());
    push_statement(script, start, script.len(), &mut out);
    (out, rest)
}

fn push_statement(script: &str, start: usize, end: usize, out: &mut Vec<ScriptStatement>) {
    let end = end.min(script.len());
    if start >= end {
        return;
    }
    let text = &script[start..end];
    let skipped = skip_leading_comments(text);
    let body = text[skipped..].trim_end();
    if body.is_empty() {
        return;
    }
    let line = 1 + script[..start + skipped].bytes().filter(|&b| b == b'\n').count();
    out.push(ScriptStatement { text: body.to_string(), line });
}

/// Byte length of the white space and comments at the start of `text`.
fn skip_leading_comments(text: &str) -> usize {
    let b = text.as_bytes();
    let mut i = 0;
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if b[i..].starts_with(b"--") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            match text[i + 2..].find("*/") {
                Some(p) => i += p + 4,
                None => return b.len(),
            }
        } else {
            return i;
        }
    }
}

/// Where variables come from during substitution.
pub struct Variables<'a> {
    pub hivevar: &'a HashMap<String, String>,
    pub hiveconf: &'a HashMap<String, String>,
}

impl Variables<'_> {
    fn lookup(&self, name: &str) -> Option<String> {
        if let Some(n) = name.strip_prefix("hivevar:") {
            return self.hivevar.get(n).cloned();
        }
        if let Some(n) = name.strip_prefix("hiveconf:") {
            return self.hiveconf.get(n).cloned();
        }
        if let Some(n) = name.strip_prefix("env:") {
            return std::env::var(n).ok();
        }
        if let Some(n) = name.strip_prefix("system:") {
            return match n {
                "user.name" => std::env::var("USER").ok(),
                "user.dir" => std::env::current_dir().ok().map(|p| p.display().to_string()),
                _ => None,
            };
        }
        self.hivevar.get(name).or_else(|| self.hiveconf.get(name)).cloned()
    }

    /// Substitute `${name}`, `${hivevar:name}`, `${hiveconf:name}`,
    /// `${env:NAME}` as Hive does: textually, repeatedly (a value may itself
    /// hold variables, up to 40 rounds as in Hive), leaving unknown ones as written.
    pub fn substitute(&self, text: &str) -> String {
        let mut cur = text.to_string();
        for _ in 0..40 {
            let mut out = String::with_capacity(cur.len());
            let mut rest = cur.as_str();
            let mut changed = false;
            while let Some(p) = rest.find("${") {
                out.push_str(&rest[..p]);
                let after = &rest[p + 2..];
                match after.find('}') {
                    Some(e) if !after[..e].contains("${") => {
                        let name = &after[..e];
                        match self.lookup(name) {
                            Some(v) => {
                                out.push_str(&v);
                                changed = true;
                            }
                            None => out.push_str(&rest[p..p + 3 + e]),
                        }
                        rest = &after[e + 1..];
                    }
                    _ => {
                        out.push_str("${");
                        rest = after;
                    }
                }
            }
            out.push_str(rest);
            cur = out;
            if !changed {
                break;
            }
        }
        cur
    }
}

/// A line that Hive's CLI handles itself instead of parsing as SQL.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `SET` / `SET -v`: list properties.
    ListSettings,
    /// `SET key`: show one property.
    ShowSetting(String),
    /// `SET key=value` (key may carry `hivevar:` / `hiveconf:`).
    Set { key: String, value: String },
    /// `RESET`: back to the defaults.
    Reset,
    /// `ADD JAR|FILE|ARCHIVE ...`, `LIST ...`, `DELETE ...`: resources that only
    /// mean something to a JVM.
    Resource(String),
}

/// Recognise a command line. `text` is a statement from [`split_statements`].
pub fn parse_command(text: &str) -> Option<Command> {
    let first = text.split_whitespace().next()?.to_ascii_lowercase();
    match first.as_str() {
        "set" => {
            let rest = text[3..].trim();
            if rest.is_empty() || rest == "-v" {
                return Some(Command::ListSettings);
            }
            match rest.find('=') {
                Some(eq) => {
                    Some(Command::Set { key: rest[..eq].trim().to_string(), value: rest[eq + 1..].trim().to_string() })
                }
                None => Some(Command::ShowSetting(rest.to_string())),
            }
        }
        "reset" => Some(Command::Reset),
        "add" | "list" | "delete" => {
            let second = text.split_whitespace().nth(1).unwrap_or("").to_ascii_lowercase();
            matches!(second.as_str(), "jar" | "jars" | "file" | "files" | "archive" | "archives")
                .then(|| Command::Resource(text.to_string()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_semicolons_outside_quotes_and_comments() {
        let s = "-- header; comment\nSELECT 'a;b', \"c;\\\"d\" FROM t;\n\n/* x; */ SELECT `we;ird` FROM u;\nSET a=b";
        let st = split_statements(s);
        assert_eq!(st.len(), 3, "{st:?}");
        assert_eq!(st[0], ScriptStatement { text: "SELECT 'a;b', \"c;\\\"d\" FROM t".into(), line: 2 });
        assert_eq!(st[1].text, "SELECT `we;ird` FROM u");
        assert_eq!(st[1].line, 4);
        assert_eq!(st[2], ScriptStatement { text: "SET a=b".into(), line: 5 });
        assert!(split_statements("  ;; -- nothing\n").is_empty());
        assert!(is_complete("SELECT 1;"));
        assert!(is_complete("SELECT 1; -- done\n"));
        assert!(!is_complete("SELECT ';"));
        assert!(!is_complete("SELECT 1"));
        assert!(!is_complete("SELECT 1; SELECT"));
    }

    #[test]
    fn substitutes_variables_like_hive() {
        let hv = HashMap::from([("db".to_string(), "sales".to_string()), ("x".to_string(), "${db}_x".to_string())]);
        let hc = HashMap::from([("hive.k".to_string(), "v".to_string())]);
        let vars = Variables { hivevar: &hv, hiveconf: &hc };
        assert_eq!(vars.substitute("USE ${db}; ${hivevar:db}.t ${hiveconf:hive.k}"), "USE sales; sales.t v");
        assert_eq!(vars.substitute("${x}"), "sales_x");
        assert_eq!(vars.substitute("${unknown} $x ${"), "${unknown} $x ${");
    }

    #[test]
    fn recognises_command_lines() {
        assert_eq!(
            parse_command("SET hivevar:dt=2024-01-01"),
            Some(Command::Set { key: "hivevar:dt".into(), value: "2024-01-01".into() })
        );
        assert_eq!(parse_command("set"), Some(Command::ListSettings));
        assert_eq!(parse_command("SET hive.exec.x"), Some(Command::ShowSetting("hive.exec.x".into())));
        assert_eq!(parse_command("ADD JAR /x.jar"), Some(Command::Resource("ADD JAR /x.jar".into())));
        assert_eq!(parse_command("SELECT 1"), None);
        assert_eq!(parse_command("settings"), None);
    }
}
