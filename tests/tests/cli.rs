//! End-to-end tests of the `hiveql` binary: scripts with -e, -f and standard
//! input, variables, output formats, errors and exit codes, and two
//! processes sharing one HIVEQL_HOME.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use hiveql_tests::{data_dir, hiveql_bin, repo_dir};

fn hiveql(home: &Path, args: &[&str]) -> Output {
    Command::new(hiveql_bin()).arg("--home").arg(home).args(args).output().expect("run hiveql")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "hiveql failed: {}\nstdout:\n{}\nstderr:\n{}", o.status, stdout(o), stderr(o));
    stdout(o)
}

#[test]
fn select_one_prints_the_value() {
    let home = tempfile::tempdir().unwrap();
    let o = hiveql(home.path(), &["--showHeader=false", "-e", "SELECT 1"]);
    assert_eq!(ok(&o), "1\n");
    assert!(stderr(&o).contains("Fetched: 1 row(s)"), "{}", stderr(&o));
    assert!(home.path().join("metastore.db").exists());
    assert!(home.path().join("warehouse").exists());
}

#[test]
fn values_print_as_hive_prints_them() {
    let home = tempfile::tempdir().unwrap();
    let o = hiveql(
        home.path(),
        &[
            "--silent",
            "-e",
            "SELECT 1.0 AS d, true AS b, CAST(NULL AS STRING) AS n, array('a','b') AS a, map('k','v') AS m, named_struct('f', 1) AS s, 7 / 2 AS q",
        ],
    );
    assert_eq!(ok(&o), "d\tb\tn\ta\tm\ts\tq\n1.0\ttrue\tNULL\t[\"a\",\"b\"]\t{\"k\":\"v\"}\t{\"f\":1}\t3.5\n");
    assert_eq!(stderr(&o), "", "--silent prints no status");
}

#[test]
fn chars_pad_and_intervals_print_as_hive_prints_them() {
    let home = tempfile::tempdir().unwrap();
    let o = hiveql(
        home.path(),
        &[
            "--silent",
            "--showHeader=false",
            "-e",
            "SELECT CAST('ab' AS CHAR(5)), CAST('abcdef' AS VARCHAR(3)), INTERVAL '1-2' YEAR TO MONTH, INTERVAL '1 2:3:4.5' DAY TO SECOND, 2147483647 + 1, 7.0 / 2",
        ],
    );
    assert_eq!(ok(&o), "ab   \tabc\t1-2\t1 02:03:04.500000000\t-2147483648\t3.500000\n");
}

#[test]
fn output_formats() {
    let home = tempfile::tempdir().unwrap();
    let q = "SELECT 1 AS id, 'a,b' AS name UNION ALL SELECT 2, NULL ORDER BY id";
    let table = ok(&hiveql(home.path(), &["--outputformat=table", "-e", q]));
    assert_eq!(table, "+----+------+\n| id | name |\n+----+------+\n| 1  | a,b  |\n| 2  | NULL |\n+----+------+\n");
    let csv = ok(&hiveql(home.path(), &["--outputformat=csv2", "-e", q]));
    assert_eq!(csv, "id,name\n1,\"a,b\"\n2,NULL\n");
    let json = ok(&hiveql(home.path(), &["--outputformat=json", "-e", q]));
    assert_eq!(json, "{\"resultset\":[{\"id\":1,\"name\":\"a,b\"},{\"id\":2,\"name\":null}]}\n");
    let vertical = ok(&hiveql(home.path(), &["--outputformat=vertical", "-e", q]));
    assert_eq!(vertical, "id    1\nname  a,b\n\nid    2\nname  NULL\n");
    let noheader = ok(&hiveql(home.path(), &["--outputformat=tsv2", "--showHeader=false", "-e", q]));
    assert_eq!(noheader, "1\ta,b\n2\tNULL\n");
    // unnamed expressions are _c0, _c1, ... as in Hive
    let names = ok(&hiveql(home.path(), &["--outputformat=tsv2", "-e", "SELECT 1, upper('x') AS u, 2 + 3"]));
    assert_eq!(names, "_c0\tu\t_c2\n1\tX\t5\n");
    let bad = hiveql(home.path(), &["--outputformat=xml", "-e", q]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("invalid value 'xml'"), "{}", stderr(&bad));
}

#[test]
fn scripts_from_file_and_stdin_with_variables() {
    let home = tempfile::tempdir().unwrap();
    let script = home.path().join("job.sql");
    std::fs::write(
        &script,
        format!(
            "-- a Hive script\nCREATE EXTERNAL TABLE people (id INT, name STRING) LOCATION '{}/people';\nSET hivevar:min_id=2;\nSELECT name FROM ${{hivevar:tbl}} WHERE id >= ${{min_id}} AND name IS NOT NULL ORDER BY id;\n",
            data_dir().display()
        ),
    )
    .unwrap();
    let o = hiveql(home.path(), &["--hivevar", "tbl=people", "--showHeader=false", "-f", script.to_str().unwrap()]);
    assert_eq!(ok(&o), "Bob\nDana\n");

    let mut child = Command::new(hiveql_bin())
        .arg("--home")
        .arg(home.path())
        .args(["-d", "who=Alice", "--showHeader=false"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"SELECT id FROM people WHERE name = '${who}';").unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(ok(&o), "1\n");

    let o = hiveql(home.path(), &["--hiveconf", "x.y=z", "--showHeader=false", "-e", "SET x.y"]);
    assert_eq!(ok(&o), "x.y=z\n");

    // -e text may start with a comment
    let o = hiveql(home.path(), &["--showHeader=false", "-e", "-- first a comment\nSELECT 5"]);
    assert_eq!(ok(&o), "5\n");
}

#[test]
fn errors_name_the_line_and_leave_the_metastore_unchanged() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    ok(&hiveql(h, &["-e", "CREATE TABLE keep (a INT); INSERT INTO keep VALUES (1)"]));

    // unknown table, on line 3 of the script
    let o = hiveql(h, &["-e", "SELECT 1;\n\nSELECT * FROM nope;\nCREATE TABLE never (a INT)"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("Error: line 3:") && stderr(&o).contains("nope"), "{}", stderr(&o));

    // bad DDL
    let o = hiveql(h, &["-e", "CREATE TABLE broken (a INT,, b INT)"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("ParseException") && stderr(&o).contains("line 1"), "{}", stderr(&o));

    // type mismatch in an insert
    let o = hiveql(h, &["-e", "INSERT INTO keep SELECT 1, 2"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("column number/types are different"), "{}", stderr(&o));

    // missing file
    let o = hiveql(h, &["-e", "LOAD DATA LOCAL INPATH '/no/such/file.txt' INTO TABLE keep"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("Invalid path '/no/such/file.txt'"), "{}", stderr(&o));

    // missing script file
    let o = hiveql(h, &["-f", "/no/such/script.sql"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("cannot read script /no/such/script.sql"), "{}", stderr(&o));

    // nothing changed
    let tables = ok(&hiveql(h, &["--showHeader=false", "-e", "SHOW TABLES"]));
    assert_eq!(tables, "keep\n");
    assert_eq!(ok(&hiveql(h, &["--showHeader=false", "-e", "SELECT * FROM keep"])), "1\n");

    // --force goes on after an error but still fails
    let o = hiveql(h, &["--force", "--showHeader=false", "-e", "SELECT * FROM nope; SELECT 42"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), "42\n");
}

#[test]
fn show_create_table_round_trips() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    ok(&hiveql(
        h,
        &[
            "-e",
            "CREATE TABLE src (a INT COMMENT 'it''s a', m MAP<STRING,ARRAY<INT>>) COMMENT 'c' PARTITIONED BY (dt STRING) CLUSTERED BY (a) SORTED BY (a DESC) INTO 4 BUCKETS ROW FORMAT DELIMITED FIELDS TERMINATED BY '\\t' NULL DEFINED AS 'nil' TBLPROPERTIES ('k'='v')",
        ],
    ));
    let ddl = ok(&hiveql(h, &["--showHeader=false", "--outputformat=tsv2", "-e", "SHOW CREATE TABLE src"]));
    assert!(ddl.contains("'field.delim'='\\t'"), "{ddl}");
    // run it again under another name and compare the definitions
    let again = ddl.replace("`default`.`src`", "`default`.`copy`").replace("/warehouse/src", "/warehouse/copy");
    ok(&hiveql(h, &["-e", &again]));
    let d1 = ok(&hiveql(h, &["--showHeader=false", "-e", "DESCRIBE src; SHOW TBLPROPERTIES src('k')"]));
    let d2 = ok(&hiveql(h, &["--showHeader=false", "-e", "DESCRIBE copy; SHOW TBLPROPERTIES copy('k')"]));
    assert_eq!(d1, d2);
    let ddl2 = ok(&hiveql(h, &["--showHeader=false", "--outputformat=tsv2", "-e", "SHOW CREATE TABLE copy"]));
    assert_eq!(ddl2, again);
}

#[test]
fn managed_table_data_lives_in_the_warehouse() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    ok(&hiveql(
        h,
        &[
            "-e",
            "CREATE DATABASE db1; CREATE TABLE db1.t (a INT, s STRING); INSERT INTO db1.t VALUES (1, 'x'), (2, NULL)",
        ],
    ));
    let file = h.join("warehouse/db1.db/t/000000_0");
    let files: Vec<String> = std::fs::read_dir(h.join("warehouse/db1.db/t"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert!(files.iter().all(|f| f.ends_with("_0") || f.contains("_0_copy_")), "{files:?}");
    let mut text = String::new();
    for f in &files {
        text.push_str(&std::fs::read_to_string(h.join("warehouse/db1.db/t").join(f)).unwrap());
    }
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort();
    assert_eq!(lines, vec!["1\u{1}x", "2\u{1}\\N"], "Hive's default text format ({})", file.display());
    ok(&hiveql(h, &["-e", "DROP TABLE db1.t"]));
    assert!(!h.join("warehouse/db1.db/t").exists(), "DROP of a managed table deletes its data");
    // DROP DATABASE CASCADE deletes its managed tables' data, partitions included
    ok(&hiveql(
        h,
        &[
            "-e",
            "CREATE DATABASE db2; CREATE TABLE db2.p (a INT) PARTITIONED BY (dt STRING); INSERT INTO db2.p PARTITION (dt='x') VALUES (1)",
        ],
    ));
    assert!(h.join("warehouse/db2.db/p/dt=x/000000_0").exists());
    ok(&hiveql(h, &["-e", "DROP DATABASE db2 CASCADE"]));
    assert!(!h.join("warehouse/db2.db").exists());
    // renaming a managed table moves its directory
    ok(&hiveql(h, &["-e", "CREATE TABLE r (a INT); INSERT INTO r VALUES (7); ALTER TABLE r RENAME TO r2"]));
    assert!(!h.join("warehouse/r").exists() && h.join("warehouse/r2").exists());
    assert_eq!(ok(&hiveql(h, &["--showHeader=false", "-e", "SELECT a FROM r2"])), "7\n");
}

#[test]
fn two_processes_share_one_home() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path().to_path_buf();
    ok(&hiveql(&h, &["-e", "CREATE TABLE shared (who STRING, n INT)"]));
    let spawn = |who: &str| {
        let mut script = String::new();
        for i in 0..15 {
            script.push_str(&format!("CREATE TABLE {who}_{i} (a INT);\nINSERT INTO shared VALUES ('{who}', {i});\n"));
        }
        Command::new(hiveql_bin())
            .arg("--home")
            .arg(&h)
            .args(["--silent", "-e", &script])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn("a"), spawn("b"));
    ok(&a.wait_with_output().unwrap());
    ok(&b.wait_with_output().unwrap());
    let tables = ok(&hiveql(&h, &["--showHeader=false", "-e", "SHOW TABLES"]));
    assert_eq!(tables.lines().count(), 31, "{tables}");
    let counts = ok(&hiveql(
        &h,
        &["--showHeader=false", "-e", "SELECT who, count(*), sum(n) FROM shared GROUP BY who ORDER BY who"],
    ));
    assert_eq!(counts, "a\t15\t105\nb\t15\t105\n");
}

/// The README's demo as shipped, with its output directory moved from
/// `/tmp/hiveql-demo` into this test's own directory (no test writes to a
/// fixed path).
#[test]
fn demo_script_runs() {
    let home = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo_dir().join("sample-data/demo.sql")).unwrap();
    assert!(text.contains("'/tmp/hiveql-demo/top_pages'"), "the demo's output directory moved");
    let out_dir = home.path().join("demo-out");
    let script = home.path().join("demo.sql");
    std::fs::write(&script, text.replace("/tmp/hiveql-demo", &out_dir.display().to_string())).unwrap();
    let o = Command::new(hiveql_bin())
        .current_dir(repo_dir())
        .arg("--home")
        .arg(home.path())
        .args(["--showHeader=false", "-f"])
        .arg(&script)
        .output()
        .unwrap();
    let out = ok(&o);
    assert!(out.lines().count() >= 10, "{out}");
    let top = std::fs::read_to_string(out_dir.join("top_pages/000000_0")).unwrap();
    assert_eq!(top.lines().count(), 10, "{top}");
}

/// A program on a pseudo-terminal (util-linux `script`), read as it writes:
/// tests wait for what it prints, never for a fixed time.
struct Terminal {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    screen: std::sync::Arc<std::sync::Mutex<String>>,
    /// How much of the screen earlier `expect`s consumed.
    seen: usize,
}

impl Terminal {
    /// Run `cmd` on a new pseudo-terminal. `script` starts it through
    /// `$SHELL -c`; `exec` makes the command the terminal's only process,
    /// since a shell that stays to wait for it (dash does) is killed by the
    /// Ctrl-C meant for the command, and `script` then reports 130.
    fn start(cmd: &str) -> Terminal {
        let mut child = Command::new("script")
            .args(["-q", "-e", "-c", &format!("exec {cmd}"), "/dev/null"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("util-linux `script` is needed for the REPL test");
        let stdin = child.stdin.take().unwrap();
        let mut out = child.stdout.take().unwrap();
        let screen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = std::io::Read::read(&mut out, &mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Terminal { child, stdin, screen, seen: 0 }
    }

    fn type_text(&mut self, text: &str) {
        self.stdin.write_all(text.as_bytes()).unwrap();
        self.stdin.flush().unwrap();
    }

    /// Wait until `what` appears after what was already seen; the time it took.
    fn expect(&mut self, what: &str, limit: std::time::Duration) -> std::time::Duration {
        let start = std::time::Instant::now();
        loop {
            {
                let screen = self.screen.lock().unwrap();
                if let Some(at) = screen[self.seen..].find(what) {
                    self.seen += at + what.len();
                    return start.elapsed();
                }
                assert!(start.elapsed() < limit, "no '{what}' within {limit:?}; the screen:\n{screen}");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

/// CPU seconds used so far by the process whose command line mentions `marker`.
fn cpu_seconds_of(marker: &str) -> Option<f64> {
    for e in std::fs::read_dir("/proc").ok()?.flatten() {
        let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(marker) && !cmdline.starts_with("script") && !cmdline.contains(" -c ") {
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let after = stat.rsplit_once(')')?.1;
            let fields: Vec<&str> = after.split_whitespace().collect();
            let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
            return Some(ticks / 100.0);
        }
    }
    None
}

/// The REPL as a person uses it: multi-line statements, history, and
/// Ctrl-C on the heavy nested-loop join from issue 10 (200,000 x 200,000
/// rows) once it is seen burning CPU: the prompt is back within a second,
/// the join's CPU use stops, and the shell answers the next statement.
#[test]
fn repl_ctrl_c_stops_a_heavy_join() {
    use std::time::Duration;
    let home = tempfile::tempdir().unwrap();
    let cmd = format!("{} --home {}", hiveql_bin().display(), home.path().display());
    let mut term = Terminal::start(&cmd);
    let long = Duration::from_secs(60);
    term.expect("hiveql> ", long);
    term.type_text("CREATE TABLE big (k BIGINT);\n");
    term.expect("OK", long);
    term.type_text("INSERT INTO big SELECT value FROM range(200000);\n");
    term.expect("OK", long);
    // Enter inside an unfinished statement starts a new line of it
    term.type_text("SELECT count(*) AS answer\n");
    term.type_text("  FROM big WHERE k < 42;\n");
    term.expect("| 42     |", long);
    term.expect("hiveql> ", long);
    let marker = home.path().display().to_string();
    let before = cpu_seconds_of(&marker).expect("the hiveql process");
    term.type_text("SELECT count(*) FROM big a CROSS JOIN big b WHERE a.k * b.k % 7 = 3;\n");
    // Ctrl-C only once the join is seen running (two CPU seconds spent on it)
    let start = std::time::Instant::now();
    while cpu_seconds_of(&marker).unwrap_or(0.0) < before + 2.0 {
        assert!(start.elapsed() < long, "the join never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    term.type_text("\x03");
    let took = term.expect("query cancelled", Duration::from_secs(10));
    assert!(took < Duration::from_secs(1), "the prompt came back after {took:?}");
    term.expect("hiveql> ", Duration::from_secs(5));
    // the join's work stops too: at most one second of CPU over the next two
    std::thread::sleep(Duration::from_secs(1));
    let after_cancel = cpu_seconds_of(&marker).unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let burnt = cpu_seconds_of(&marker).unwrap() - after_cancel;
    assert!(burnt < 1.0, "{burnt:.2} CPU seconds spent in the two seconds after the cancel");
    term.type_text("SELECT concat('still', 'here');\n");
    term.expect("stillhere", long);
    term.type_text("quit;\n");
    let out = term.child.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}", out.status);
    let history = std::fs::read_to_string(home.path().join("history")).unwrap();
    assert!(history.contains("CREATE TABLE big (k BIGINT);"), "{history}");
    assert!(history.contains("FROM big WHERE k < 42;"), "{history}");
}

/// Ctrl-C at the prompt clears a half-typed statement; Ctrl-C on a scan of
/// twenty billion rows cancels it; a script run keeps going after neither.
#[test]
fn repl_ctrl_c_clears_the_line_and_cancels_a_scan() {
    use std::time::Duration;
    let home = tempfile::tempdir().unwrap();
    let cmd = format!("{} --home {}", hiveql_bin().display(), home.path().display());
    let mut term = Terminal::start(&cmd);
    let long = Duration::from_secs(60);
    term.expect("hiveql> ", long);
    // a half-typed statement is thrown away by Ctrl-C
    term.type_text("SELECT 'never' AS\n");
    // the editor redraws the line when Enter leaves it incomplete; only
    // then is the Enter handled and a Ctrl-C meant for the next line
    term.expect("hiveql> SELECT 'never' AS", long);
    term.type_text("\x03");
    term.expect("hiveql> ", long);
    term.type_text("SELECT 40 + 2 AS answer;\n");
    term.expect("| 42     |", long);
    term.expect("hiveql> ", long);
    let marker = home.path().display().to_string();
    let before = cpu_seconds_of(&marker).expect("the hiveql process");
    term.type_text("SELECT count(*) FROM range(20000000000);\n");
    let start = std::time::Instant::now();
    while cpu_seconds_of(&marker).unwrap_or(0.0) < before + 1.0 {
        assert!(start.elapsed() < long, "the scan never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    term.type_text("\x03");
    let took = term.expect("query cancelled", Duration::from_secs(10));
    assert!(took < Duration::from_secs(1), "the prompt came back after {took:?}");
    term.expect("hiveql> ", long);
    term.type_text("SELECT concat('still', 'here');\n");
    term.expect("stillhere", long);
    term.type_text("quit;\n");
    let out = term.child.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}", out.status);
    let screen = term.screen.lock().unwrap().clone();
    assert!(!screen.contains("| never"), "{screen}");
}

/// The EMR CloudFront sample (RegexSerDe over gzipped logs) and the Athena
/// wildrydes sample (JSON SerDe) run as shipped, with the answers a line
/// count of the data gives.
#[test]
fn serde_demo_scripts_run() {
    let home = tempfile::tempdir().unwrap();
    let samples = repo_dir().join("sample-data");
    let input = format!("INPUT={}", samples.display());
    let cf = samples.join("cloudfront.sql");
    let out = ok(&hiveql(home.path(), &["-d", &input, "--showHeader=false", "-f", cf.to_str().unwrap()]));
    let mut rows: Vec<&str> = out.lines().collect();
    rows.sort();
    assert_eq!(rows, vec!["Android\t100", "Linux\t118", "MacOS\t153", "Windows\t106", "iOS\t115"]);
    let wr = samples.join("wildrydes.sql");
    let out = ok(&hiveql(home.path(), &["-d", &input, "--showHeader=false", "-f", wr.to_str().unwrap()]));
    assert_eq!(out.lines().count(), 10, "{out}");
    assert!(out.starts_with("Blaze\t110\t107.0\t199\n"), "{out}");
}

/// Data errors stop the script with the statement's line and the file and
/// line of the bad data; DDL errors name the property.
#[test]
fn serde_errors_name_statement_file_and_line() {
    let home = tempfile::tempdir().unwrap();
    let bad = data_dir().join("json_malformed");
    let script = format!(
        "CREATE EXTERNAL TABLE j (a INT)\n  ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'\n  LOCATION '{}';\n\
         SELECT sum(a) FROM j;\n",
        bad.display()
    );
    let o = hiveql(home.path(), &["-e", &script]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("Error: line 4:"), "{err}");
    assert!(err.contains(&format!("malformed JSON in file {}/data.json, line 2", bad.display())), "{err}");
    let o = hiveql(
        home.path(),
        &[
            "-e",
            "CREATE TABLE r (a STRING, b STRING) ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe' WITH SERDEPROPERTIES ('input.regex'='(x)')",
        ],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("input.regex has 1 capture groups but the table has 2 columns"), "{}", stderr(&o));
}

/// Ctrl-C (SIGINT) during a script cancels the running statement and the
/// script stops with exit status 130, naming the line; while a script waits
/// for its input on a pipe, Ctrl-C ends it at once.
#[test]
fn script_ctrl_c_cancels_and_exits_130() {
    use std::time::{Duration, Instant};
    let home = tempfile::tempdir().unwrap();
    let mut child = Command::new(hiveql_bin())
        .arg("--home")
        .arg(home.path())
        .args(["-e", "SELECT 1;\nSELECT count(*) FROM range(20000000000);\nSELECT 'not reached';"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let marker = home.path().display().to_string();
    let start = Instant::now();
    while cpu_seconds_of(&marker).unwrap_or(0.0) < 1.0 {
        assert!(start.elapsed() < Duration::from_secs(60), "the scan never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    let sent = Instant::now();
    // SAFETY: sends SIGINT to the child this test started.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let out = loop {
        if let Some(_status) = child.try_wait().unwrap() {
            break child.wait_with_output().unwrap();
        }
        assert!(sent.elapsed() < Duration::from_secs(5), "still running after SIGINT");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(sent.elapsed() < Duration::from_secs(1), "exited {:?} after SIGINT", sent.elapsed());
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(stderr(&out).contains("line 2: query cancelled"), "{}", stderr(&out));
    assert!(!stdout(&out).contains("not reached"));

    // waiting for a script on a pipe that never ends
    let mut child = Command::new(hiveql_bin())
        .arg("--home")
        .arg(home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _stdin = child.stdin.take();
    // the handler is in place once the metastore is open; wait for it
    let start = Instant::now();
    while !home.path().join("metastore.db").exists() || start.elapsed() < Duration::from_millis(500) {
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: as above.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
}
