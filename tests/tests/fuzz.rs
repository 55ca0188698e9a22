//! Bounded fuzzing of the parsers that see user input: the HiveQL front end
//! (script splitter, lexer, parser and its sub-parsers, variable
//! substitution), the Java-regex translator (and the engines it feeds), and
//! each text SerDe's row parser through real scans of mangled files. Inputs
//! are generated from each format's own vocabulary plus random bytes, with a
//! fixed seed per run and a bounded count; no input may panic, overflow the
//! stack or take more than a few seconds.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hiveql_engine::sql::{parser, script};
use hiveql_engine::{Session, SessionOptions, StatementOutput};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The longest any one input may take.
const SLOW: Duration = Duration::from_secs(5);

fn pick<'a>(rng: &mut StdRng, words: &[&'a str]) -> &'a str {
    words[rng.random_range(0..words.len())]
}

/// Text made of `words` with random bytes mixed in.
fn soup(rng: &mut StdRng, words: &[&str], len: usize) -> String {
    let mut s = String::new();
    for _ in 0..rng.random_range(0..len) {
        if rng.random_ratio(1, 12) {
            s.push(char::from(rng.random_range(0u8..128)));
        } else {
            s.push_str(pick(rng, words));
        }
    }
    s
}

const SQL: &[&str] = &[
    "SELECT ",
    "FROM ",
    "WHERE ",
    "t",
    " a",
    "1",
    "'x'",
    "\"y\"",
    "`c`",
    "`db.t`",
    ";",
    ",",
    "(",
    ")",
    "[",
    "]",
    "<",
    ">",
    "=",
    "*",
    "+",
    " DIV ",
    "--",
    "\n",
    "/*",
    "*/",
    "${",
    "}",
    "${hivevar:v}",
    "${env:HOME}",
    "\\",
    "'\\001'",
    "CREATE ",
    "EXTERNAL ",
    "TABLE ",
    "(a INT, b ARRAY<STRUCT<x:INT>>)",
    "ROW FORMAT ",
    "SERDE ",
    "'org.apache.hadoop.hive.serde2.RegexSerDe' ",
    "WITH SERDEPROPERTIES ('input.regex'='(.*)') ",
    "PARTITIONED BY (d STRING) ",
    "CLUSTERED BY (a) INTO 4 BUCKETS ",
    "STORED AS ",
    "TEXTFILE ",
    "LOCATION ",
    "TBLPROPERTIES ('a'='b') ",
    "INSERT ",
    "OVERWRITE ",
    "INTO ",
    "PARTITION (d='1') ",
    "DIRECTORY ",
    "VALUES ",
    "ALTER ",
    "ADD ",
    "COLUMNS ",
    "SET ",
    "hivevar:v=1",
    "DESCRIBE ",
    "SHOW ",
    "PARTITIONS ",
    "LIMIT 1,2 ",
    "LATERAL VIEW ",
    "explode(",
    "CASE WHEN ",
    " THEN ",
    " END ",
    "MAP<STRING,INT>",
    "10Y ",
    "1.5BD ",
    " ",
    "DROP ",
    "IF EXISTS ",
    "LOAD DATA LOCAL INPATH ",
    "USE ",
    "EXPLAIN ",
    "WITH x AS (",
    "UNION ALL ",
];

/// Random scripts through the splitter, substitution and parser.
#[test]
fn the_hiveql_front_end_takes_any_text() {
    let mut rng = StdRng::seed_from_u64(0x51);
    let mut hivevar = std::collections::HashMap::new();
    hivevar.insert("v".to_string(), "${v}x".to_string()); // a value that refers to itself
    let hiveconf = std::collections::HashMap::new();
    let vars = script::Variables { hivevar: &hivevar, hiveconf: &hiveconf };
    for round in 0..4_000 {
        let text = soup(&mut rng, SQL, 60);
        let start = Instant::now();
        let _ = script::is_complete(&text);
        for stmt in script::split_statements(&text) {
            let sub = vars.substitute(&stmt.text);
            let _ = script::parse_command(&sub);
            let _ = parser::parse_statement(&sub);
        }
        assert!(start.elapsed() < SLOW, "round {round} took {:?}: {text:?}", start.elapsed());
    }
}

/// Deeply nested input is an error, never a stack overflow.
#[test]
fn deep_nesting_in_statements_is_refused() {
    for text in [
        format!("SELECT {}1{}", "(".repeat(100_000), ")".repeat(100_000)),
        format!("SELECT {}1{}", "array(".repeat(50_000), ")".repeat(50_000)),
        format!("CREATE TABLE t (a {}INT{})", "ARRAY<".repeat(100_000), ">".repeat(100_000)),
        format!("CREATE TABLE t (a {}INT{})", "STRUCT<x:".repeat(50_000), ">".repeat(50_000)),
        format!("SELECT * FROM {}t{}", "(SELECT * FROM ".repeat(20_000), ")".repeat(20_000)),
        format!("SELECT -{}1", "-".repeat(200_000)),
        format!("SELECT 1 {}", "UNION ALL SELECT 1 ".repeat(20_000)),
    ] {
        let start = Instant::now();
        let _ = script::split_statements(&text);
        assert!(parser::parse_statement(&text).is_err() || text.contains("UNION") || text.starts_with("SELECT -"));
        assert!(start.elapsed() < SLOW, "{:?} for {}...", start.elapsed(), &text[..40]);
    }
}

const REGEX: &[&str] = &[
    "a",
    ".",
    "*",
    "+",
    "?",
    "*?",
    "++",
    "{2}",
    "{1,3}",
    "{2,}",
    "(",
    ")",
    "(?:",
    "(?<n>",
    "(?=",
    "(?!",
    "(?<=",
    "(?<!",
    "(?>",
    "(?i)",
    "[",
    "]",
    "[^",
    "-",
    "^",
    "$",
    "|",
    "\\",
    "\\\\",
    "\\d",
    "\\s",
    "\\w",
    "\\S",
    "\\h",
    "\\v",
    "\\R",
    "\\Q",
    "\\E",
    "\\p{Alpha}",
    "\\p{javaLowerCase}",
    "\\P{IsLatin}",
    "\\p{InGreek}",
    "\\1",
    "\\k<n>",
    "\\u00e9",
    "\\x41",
    "\\0101",
    "\\cA",
    "\\G",
    "\\Z",
    "\\z",
    "\\b",
    "&&",
    "[a-z&&[^e]]",
    "é",
    " ",
];

/// Random Java patterns through the translator and, when it takes them,
/// compiled and run the way RegexSerDe does, on lines that may match.
#[test]
fn the_java_regex_translator_takes_any_pattern() {
    let mut rng = StdRng::seed_from_u64(0x52);
    for round in 0..6_000 {
        let pattern = soup(&mut rng, REGEX, 16);
        let start = Instant::now();
        let mut props = BTreeMap::new();
        props.insert("input.regex".to_string(), pattern.clone());
        if let Ok(opts) = hiveql_engine::serde::RegexOptions::from_properties(&props) {
            let _ = opts.groups();
        }
        if let Ok(t) = hiveql_engine::serde::regex::java::translate(&pattern) {
            let line = soup(&mut rng, REGEX, 30);
            if t.fancy {
                if let Ok(re) = fancy_regex::Regex::new(&t.pattern) {
                    let _ = re.captures(&line);
                }
            } else if let Ok(re) = regex::Regex::new(&t.pattern) {
                let _ = re.captures(&line);
            }
        }
        assert!(start.elapsed() < SLOW, "round {round} took {:?}: {pattern:?}", start.elapsed());
    }
}

/// One table per SerDe over a file of mangled lines: every scan ends with
/// rows or a data error that names the file, never a panic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_serde_reads_mangled_files_without_panicking() {
    let home = tempfile::tempdir().unwrap();
    let mut session =
        Session::open(SessionOptions { home: home.path().to_path_buf(), hiveconf: vec![], hivevar: vec![] }).unwrap();
    let mut rng = StdRng::seed_from_u64(0x53);
    let tables = [
        (
            "lazy",
            "(a INT, b ARRAY<STRUCT<x:INT,y:MAP<STRING,DOUBLE>>>, c TIMESTAMP, d DECIMAL(10,2)) \
             ROW FORMAT DELIMITED FIELDS TERMINATED BY ','",
            &["1", ",", "\u{2}", "\u{3}", "\u{4}", "x", "2024-01-01 00:00:00", "1.5", "\\N", "\\", "\n", "é", "-"][..],
        ),
        (
            "regex",
            "(a STRING, b INT) ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe' \
             WITH SERDEPROPERTIES ('input.regex'='([^ ]*) (\\\\d+)(?:\\\\s.*)?')",
            &["a", " ", "12", "x", "\t", "\n", "é", "999999999999", "(", ")"][..],
        ),
        (
            "json",
            "(a INT, b ARRAY<STRING>, c STRUCT<x:INT>, d MAP<STRING,INT>) ROW FORMAT SERDE \
             'org.openx.data.jsonserde.JsonSerDe' WITH SERDEPROPERTIES ('ignore.malformed.json'='true')",
            &[
                "{",
                "}",
                "[",
                "]",
                "\"a\"",
                "\"b\"",
                "\"c\"",
                "\"d\"",
                ":",
                ",",
                "1",
                "\"x\"",
                "null",
                "true",
                "\\",
                "\n",
                "\"\\u12\"",
            ][..],
        ),
        (
            "hcat",
            "(a INT, b ARRAY<STRING>) ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'",
            &["{", "}", "[", "]", "\"a\"", "\"b\"", ":", ",", "1", "\"x\"", "null", "\n"][..],
        ),
        (
            "csv",
            "(a STRING, b INT, c STRING) ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'",
            &["a", ",", "\"", "\"\"", "\\", "\n", "\r\n", "1", " ", "é"][..],
        ),
    ];
    for (name, ddl, words) in tables {
        let dir = home.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let mut created = false;
        for round in 0..40 {
            let mut text = soup(&mut rng, words, 400);
            if round % 10 == 0 {
                text.push_str(&"[".repeat(100_000)); // one deeply nested line
            }
            std::fs::write(dir.join("data.txt"), text.as_bytes()).unwrap();
            if !created {
                let create = format!("CREATE EXTERNAL TABLE {name} {ddl} LOCATION '{}'", dir.display());
                session.execute(&create).await.unwrap_or_else(|e| panic!("{create}: {e}"));
                created = true;
            }
            let start = Instant::now();
            match session.execute(&format!("SELECT * FROM {name}")).await {
                Ok(StatementOutput::Rows(stream)) => {
                    if let Err(e) = datafusion::physical_plan::common::collect(stream).await {
                        let e = hiveql_engine::HiveError::from(e);
                        assert!(e.to_string().contains("data.txt"), "{name}: an error that names no file: {e}");
                    }
                }
                Ok(other) => panic!("{name}: {other:?}"),
                Err(e) => assert!(e.to_string().contains("data.txt"), "{name}: {e}"),
            }
            assert!(start.elapsed() < SLOW, "{name} round {round} took {:?}", start.elapsed());
        }
    }
}
