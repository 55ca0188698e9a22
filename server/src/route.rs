//! Which dialect a statement is in. Users send HiveQL and it keeps Hive's
//! meaning; drivers and tools send PostgreSQL of their own (`SET
//! extra_float_digits = 3`, `SHOW transaction isolation level`, catalog
//! queries with `::regclass`): those are answered as PostgreSQL answers
//! them. The rules look at a statement's words, outside quotes and comments.

/// What to do with one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Nothing but whitespace and comments.
    Empty,
    /// `BEGIN` / `START TRANSACTION`: accepted; hiveql statements are
    /// atomic on their own.
    Begin,
    /// `COMMIT` / `END`.
    Commit,
    /// `ROLLBACK` / `ABORT`.
    Rollback,
    /// Accepted and ignored, answered with this tag (`DISCARD ALL`, ...).
    Ignore(String),
    /// `SET name = value` of a PostgreSQL setting.
    PgSet { name: String, value: String },
    /// `SHOW name` of a PostgreSQL setting.
    PgShow(String),
    /// `COPY (query) TO STDOUT`.
    Copy(CopyOut),
    /// `DECLARE ... CURSOR`, `FETCH`, `MOVE`, `CLOSE`.
    Cursor(crate::cursor::CursorOp),
    /// PostgreSQL-dialect SQL over `pg_catalog` and `information_schema`.
    Catalog,
    /// asyncpg's type introspection (see [`crate::typeinfo`]).
    TypeInfo,
    /// HiveQL, run by the connection's session.
    Hive,
}

/// `COPY ... TO STDOUT` and its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyOut {
    /// The query whose rows are copied (`SELECT * FROM t` for `COPY t`).
    pub query: String,
    pub csv: bool,
    pub header: bool,
    pub delimiter: Option<String>,
    pub null: Option<String>,
}

/// PostgreSQL settings a driver may `SET` or `SHOW`, with hiveql's values.
pub const PG_SETTINGS: &[(&str, &str)] = &[
    ("server_version", "15.0"),
    ("server_version_num", "150000"),
    ("server_encoding", "UTF8"),
    ("client_encoding", "UTF8"),
    ("standard_conforming_strings", "on"),
    ("datestyle", "ISO, MDY"),
    ("intervalstyle", "postgres"),
    ("timezone", "UTC"),
    ("integer_datetimes", "on"),
    ("is_superuser", "off"),
    ("max_identifier_length", "63"),
    ("transaction_isolation", "read committed"),
    ("default_transaction_isolation", "read committed"),
    ("transaction_read_only", "off"),
    ("default_transaction_read_only", "off"),
    ("application_name", ""),
    ("extra_float_digits", "1"),
    ("bytea_output", "hex"),
    ("statement_timeout", "0"),
    ("lock_timeout", "0"),
    ("idle_in_transaction_session_timeout", "0"),
    ("client_min_messages", "notice"),
    ("search_path", "\"$user\", public"),
    ("lc_collate", "C.UTF-8"),
    ("lc_ctype", "C.UTF-8"),
    ("lc_messages", "C.UTF-8"),
    ("lc_monetary", "C.UTF-8"),
    ("lc_numeric", "C.UTF-8"),
    ("lc_time", "C.UTF-8"),
    ("geqo", "on"),
    ("jit", "off"),
    ("work_mem", "4MB"),
    ("max_connections", "100"),
    ("session_replication_role", "origin"),
    ("default_with_oids", "off"),
    ("escape_string_warning", "on"),
];

/// The default value of a PostgreSQL setting hiveql knows.
pub fn pg_setting(name: &str) -> Option<&'static str> {
    let name = name.to_ascii_lowercase();
    PG_SETTINGS.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

/// The statement's words (identifiers, keywords, numbers and operators
/// such as `::`), lowercased, with string literals as `'` and comments
/// dropped.
pub fn words(sql: &str) -> Vec<String> {
    tokens(sql).into_iter().map(|t| t.text).collect()
}

/// One word of a statement (see [`words`]).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    text: String,
    /// Written in double quotes: in PostgreSQL an identifier, in Hive a string.
    double_quoted: bool,
}

fn tokens(sql: &str) -> Vec<Token> {
    let b = sql.as_bytes();
    let mut out: Vec<Token> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'-' && b.get(i + 1) == Some(&b'-') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                i += 1;
            }
            i += 2;
        } else if c == b'\'' || c == b'"' || c == b'`' {
            // a quoted string or identifier; a doubled quote or a backslash escapes
            let q = c;
            let start = i + 1;
            i += 1;
            while i < b.len() {
                if b[i] == b'\\' && q == b'\'' {
                    i += 2;
                    continue;
                }
                if b[i] == q {
                    if b.get(i + 1) == Some(&q) {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            let end = i.min(b.len());
            i += 1;
            let double_quoted = q == b'"';
            let text =
                if q == b'\'' { "'".to_string() } else { String::from_utf8_lossy(&b[start..end]).to_lowercase() };
            out.push(Token { text, double_quoted });
        } else if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80 {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$' || b[i] >= 0x80) {
                i += 1;
            }
            out.push(Token { text: String::from_utf8_lossy(&b[start..i]).to_lowercase(), double_quoted: false });
        } else if c == b':' && b.get(i + 1) == Some(&b':') {
            out.push(Token { text: "::".into(), double_quoted: false });
            i += 2;
        } else {
            out.push(Token { text: (c as char).to_string(), double_quoted: false });
            i += 1;
        }
    }
    out
}

/// Whether the statement names a relation or qualifies a column with
/// double-quoted identifiers (`FROM "default"."sales"`, `"sales"."id"`), as
/// the SQL that BI tools generate does (Metabase, DBeaver's data view). In
/// Hive a double-quoted word is a string, which can neither be read from
/// nor have fields, so such a statement can only mean PostgreSQL's.
fn quotes_identifiers(tokens: &[Token]) -> bool {
    tokens.iter().enumerate().any(|(i, t)| {
        t.double_quoted
            && (tokens.get(i + 1).is_some_and(|n| n.text == "." && !n.double_quoted)
                || i.checked_sub(1)
                    .and_then(|p| tokens.get(p))
                    .is_some_and(|p| !p.double_quoted && matches!(p.text.as_str(), "from" | "join" | "into" | "table")))
    })
}

/// Words that only PostgreSQL's catalog queries use.
const PG_ONLY: &[&str] = &[
    "pg_catalog",
    "information_schema",
    "::",
    "regclass",
    "regtype",
    "regproc",
    "regnamespace",
    "current_setting",
    "set_config",
    "current_schema",
    "current_schemas",
    "current_database",
    "session_user",
    "format_type",
    "obj_description",
    "col_description",
    "shobj_description",
    "has_table_privilege",
    "has_schema_privilege",
    "has_database_privilege",
    "array_upper",
    "array_lower",
    "quote_ident",
];

/// Decide what to do with one statement.
pub fn route(sql: &str) -> Route {
    let tokens = tokens(sql);
    let w: Vec<&str> = tokens.iter().map(|t| t.text.as_str()).filter(|s| *s != ";").collect();
    let Some(&first) = w.first() else { return Route::Empty };
    if matches!(first, "declare" | "fetch" | "move" | "close")
        && let Some(op) = crate::cursor::parse(sql)
    {
        return Route::Cursor(op);
    }
    match (first, w.get(1).copied()) {
        ("begin", _) | ("start", Some("transaction")) => return Route::Begin,
        ("commit", _) | ("end", _) => return Route::Commit,
        ("rollback", _) | ("abort", _) => return Route::Rollback,
        ("savepoint", _) => return Route::Ignore("SAVEPOINT".into()),
        ("release", _) => return Route::Ignore("RELEASE".into()),
        ("discard", _) => return Route::Ignore("DISCARD ALL".into()),
        ("deallocate", _) => return Route::Ignore("DEALLOCATE".into()),
        ("listen", _) => return Route::Ignore("LISTEN".into()),
        ("unlisten", _) => return Route::Ignore("UNLISTEN".into()),
        ("set", _) => {
            if let Some(r) = pg_set(&w[1..], sql) {
                return r;
            }
        }
        ("reset", Some(name)) if pg_setting(name).is_some() || name == "all" => {
            return Route::Ignore("RESET".into());
        }
        ("show", Some(name)) => {
            if name == "transaction" && w.get(2) == Some(&"isolation") {
                return Route::PgShow("transaction_isolation".into());
            }
            if w.len() == 2 && (pg_setting(name).is_some() || name == "all") {
                return Route::PgShow(name.to_string());
            }
        }
        ("copy", _) => {
            if let Some(c) = copy_out(sql) {
                return Route::Copy(c);
            }
        }
        _ => {}
    }
    if crate::typeinfo::is_introspection(&w) {
        return Route::TypeInfo;
    }
    if quotes_identifiers(&tokens) {
        return Route::Catalog;
    }
    let pg_words = w.iter().enumerate().any(|(i, word)| {
        PG_ONLY.contains(word)
            || word.starts_with("pg_") // pg_class, pg_get_expr(...)
            || (*word == "version" && w.get(i + 1) == Some(&"(") && w.get(i + 2) == Some(&")"))
            || (*word == "current_user" && w.get(i + 1) != Some(&"("))
    });
    if pg_words { Route::Catalog } else { Route::Hive }
}

/// `SET` of a PostgreSQL setting: `SET [SESSION|LOCAL] name {TO|=} value`,
/// `SET TIME ZONE value`, `SET SESSION CHARACTERISTICS ...`. Hive's `SET
/// key=value` (dotted names, or names PostgreSQL does not have) is not.
fn pg_set(rest: &[&str], sql: &str) -> Option<Route> {
    let mut rest = rest;
    let mut scoped = false;
    if matches!(rest.first(), Some(&"session") | Some(&"local")) {
        if rest.get(1) == Some(&"characteristics") || rest.get(1) == Some(&"authorization") {
            return Some(Route::Ignore("SET".into()));
        }
        rest = &rest[1..];
        scoped = true;
    }
    if rest.first() == Some(&"transaction") {
        return Some(Route::Ignore("SET".into()));
    }
    if rest.first() == Some(&"time") && rest.get(1) == Some(&"zone") {
        return Some(Route::PgSet { name: "timezone".into(), value: raw_value_after(sql, "zone") });
    }
    let name = *rest.first()?;
    let sep = rest.get(1).copied();
    let dotted = rest.get(1) == Some(&".");
    if dotted {
        return None;
    }
    if pg_setting(name).is_some() || sep == Some("to") || scoped {
        let value = if sep == Some("to") { raw_value_after(sql, "to") } else { raw_value_after(sql, "=") };
        return Some(Route::PgSet { name: name.to_string(), value });
    }
    None
}

/// The text after the first `marker` word (or `=`), unquoted.
fn raw_value_after(sql: &str, marker: &str) -> String {
    let lower = sql.to_ascii_lowercase();
    let at = if marker == "=" {
        lower.find('=').map(|i| i + 1)
    } else {
        lower.find(&format!(" {marker} ")).map(|i| i + marker.len() + 2)
    };
    let v = at.map(|i| sql[i..].trim().trim_end_matches(';').trim()).unwrap_or("");
    v.trim_matches('\'').trim_matches('"').to_string()
}

/// `COPY (query) TO STDOUT [WITH] [(options)]` or `COPY table TO STDOUT`.
fn copy_out(sql: &str) -> Option<CopyOut> {
    let body = sql.trim().trim_end_matches(';').trim();
    let after_copy = body.get(4..)?.trim_start();
    let (query, rest) = if after_copy.starts_with('(') {
        let close = matching_paren(after_copy)?;
        (after_copy[1..close].trim().to_string(), &after_copy[close + 1..])
    } else {
        let end = after_copy.find(char::is_whitespace)?;
        let table = &after_copy[..end];
        (format!("SELECT * FROM {table}"), &after_copy[end..])
    };
    let w = words(rest);
    if w.first().map(String::as_str) != Some("to") || w.get(1).map(String::as_str) != Some("stdout") {
        return None;
    }
    let opts: Vec<&str> = w[2..].iter().map(String::as_str).collect();
    let has = |k: &str| opts.contains(&k);
    let header = opts
        .iter()
        .enumerate()
        .any(|(i, o)| *o == "header" && !matches!(opts.get(i + 1), Some(&"false") | Some(&"off") | Some(&"0")));
    // DELIMITER 'x' and NULL 'x' take a quoted value, read from the text
    let quoted_after = |key: &str| {
        let lower = rest.to_ascii_lowercase();
        let i = lower.find(key)? + key.len();
        let tail = rest[i..].trim_start();
        let tail = tail.strip_prefix(|c: char| c.is_ascii_alphabetic()).map_or(tail, |t| t).trim_start();
        let tail = tail.strip_prefix('\'')?;
        Some(tail[..tail.find('\'')?].to_string())
    };
    // asyncpg quotes the format: FORMAT 'csv'
    let csv = has("csv")
        || opts.windows(2).any(|p| p[0] == "format" && p[1] == "csv")
        || quoted_after("format").is_some_and(|f| f.eq_ignore_ascii_case("csv"));
    Some(CopyOut { query, csv, header, delimiter: quoted_after("delimiter"), null: quoted_after(" null") })
}

/// The index of the `)` closing the `(` at 0, skipping quoted text.
fn matching_paren(s: &str) -> Option<usize> {
    let mut depth = 0;
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_housekeeping_is_postgresql() {
        assert_eq!(
            route("SET extra_float_digits = 3"),
            Route::PgSet { name: "extra_float_digits".into(), value: "3".into() }
        );
        assert_eq!(
            route("SET application_name = 'PostgreSQL JDBC Driver'"),
            Route::PgSet { name: "application_name".into(), value: "PostgreSQL JDBC Driver".into() }
        );
        assert_eq!(route("SET TIME ZONE 'UTC'"), Route::PgSet { name: "timezone".into(), value: "UTC".into() });
        assert_eq!(
            route("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED"),
            Route::Ignore("SET".into())
        );
        assert_eq!(route("SHOW transaction isolation level"), Route::PgShow("transaction_isolation".into()));
        assert_eq!(route("show server_version"), Route::PgShow("server_version".into()));
        assert_eq!(route("BEGIN"), Route::Begin);
        assert_eq!(route("commit;"), Route::Commit);
        assert_eq!(route("  -- nothing\n"), Route::Empty);
    }

    #[test]
    fn hive_statements_stay_hive() {
        for s in [
            "SET hive.exec.dynamic.partition.mode=nonstrict",
            "SET mapreduce.job.reduces=4",
            "SHOW TABLES",
            "SHOW PARTITIONS sales",
            "SELECT current_user()",
            "SELECT 'pg_catalog' AS s, x FROM t",
            "SELECT version FROM releases",
            "INSERT INTO t SELECT * FROM s",
            // double-quoted strings, as Hive reads them
            "SELECT \"a.b\", concat(\"x\", '.') FROM t WHERE s = \"from\"",
            "SELECT a AS \"label\" FROM t",
        ] {
            assert_eq!(route(s), Route::Hive, "{s}");
        }
    }

    #[test]
    fn catalog_queries_are_postgresql() {
        for s in [
            "SELECT n.nspname FROM pg_catalog.pg_namespace n",
            "select 'sales'::regclass::oid",
            "SELECT current_schema()",
            "SELECT version()",
            "SELECT table_name FROM information_schema.tables",
            "select current_user",
            // what BI tools generate: double-quoted relations and qualified columns
            "SELECT \"default\".\"sales\".\"id\" AS \"id\" FROM \"default\".\"sales\" LIMIT 2000",
            "SELECT * FROM \"sales\"",
            "SELECT s.id FROM t JOIN \"sales\" s ON t.id = s.id",
        ] {
            assert_eq!(route(s), Route::Catalog, "{s}");
        }
    }

    #[test]
    fn copy_to_stdout() {
        let Route::Copy(c) =
            route("COPY (SELECT a, 'x)' FROM t) TO STDOUT WITH (FORMAT csv, HEADER true, DELIMITER ';')")
        else {
            panic!()
        };
        assert_eq!(c.query, "SELECT a, 'x)' FROM t");
        assert!(c.csv && c.header);
        assert_eq!(c.delimiter.as_deref(), Some(";"));
        let Route::Copy(c) = route("COPY (SELECT 1) TO STDOUT (FORMAT 'csv', HEADER True, NULL 'n/a')") else {
            panic!()
        };
        assert!(c.csv && c.header);
        assert_eq!(c.null.as_deref(), Some("n/a"));
        let Route::Copy(c) = route("copy sales to stdout") else { panic!() };
        assert_eq!(c.query, "SELECT * FROM sales");
        assert!(!c.csv && !c.header);
        assert_eq!(route("COPY t FROM STDIN"), Route::Hive);
    }
}
