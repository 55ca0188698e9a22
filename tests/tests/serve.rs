//! `hiveql serve` against real PostgreSQL clients: psql (Debian's
//! postgresql-client), psycopg 3 with SQLAlchemy and pandas (in the venv
//! `.ci/run` makes; `HIVEQL_TEST_PYTHON` names its python), and pgjdbc
//! (Debian's libpostgresql-jdbc-java, run with the machine's Java). Each
//! test starts the server as a process on an ephemeral loopback port.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use hiveql_tests::cluster::Daemon;
use hiveql_tests::hiveql_bin;

const PASSWORD: &str = "correct horse";

/// A running server and its home.
struct Served {
    daemon: Daemon,
    home: tempfile::TempDir,
    _logs: tempfile::TempDir,
}

impl Served {
    /// `hiveql serve --port 0 EXTRA...` on a fresh home, with user alice.
    fn start(extra: &[&str]) -> Served {
        let home = tempfile::tempdir().unwrap();
        Self::start_in(home, extra)
    }

    fn start_in(home: tempfile::TempDir, extra: &[&str]) -> Served {
        add_user(home.path(), "alice", PASSWORD);
        let mut args: Vec<String> = ["serve", "--port", "0"].iter().map(|s| s.to_string()).collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        let logs = tempfile::tempdir().unwrap();
        let daemon = Daemon::start_logged(home.path(), &args, Some(logs.path().to_path_buf()));
        Served { daemon, home, _logs: logs }
    }

    fn host_port(&self) -> (String, String) {
        let (h, p) = self.daemon.addr.rsplit_once(':').expect("HOST:PORT");
        (h.to_string(), p.to_string())
    }

    /// psql with `args`, logged in as alice.
    fn psql(&self, args: &[&str]) -> Output {
        self.psql_as("alice", PASSWORD, "disable", args)
    }

    fn psql_as(&self, user: &str, password: &str, sslmode: &str, args: &[&str]) -> Output {
        let (host, port) = self.host_port();
        let conninfo =
            format!("host={host} port={port} user={user} dbname=default sslmode={sslmode} connect_timeout=10");
        Command::new("psql")
            .arg("-X")
            .arg("--no-psqlrc")
            .arg(conninfo)
            .args(args)
            .env("PGPASSWORD", password)
            .output()
            .expect("psql (apt-get install postgresql-client)")
    }

    /// The server still answers.
    fn assert_alive(&mut self) {
        assert!(self.daemon.child.try_wait().unwrap().is_none(), "the server exited");
        let out = self.psql(&["-A", "-t", "-c", "SELECT 41 + 1"]);
        assert_eq!(stdout(&out).trim(), "42", "{}", stderr(&out));
    }
}

fn add_user(home: &Path, name: &str, password: &str) {
    let mut child = Command::new(hiveql_bin())
        .args(["user", "add", name])
        .env("HIVEQL_HOME", home)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    assert!(child.wait().unwrap().success());
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("clients")
}

#[test]
fn psql_runs_hiveql_scripts_and_its_meta_commands() {
    let mut s = Served::start(&[]);
    let data = s.home.path().join("sales.csv");
    std::fs::write(&data, "1,north,10.5\n2,south,20\n3,north,\n").unwrap();
    let out = s.psql(&[
        "-v",
        "ON_ERROR_STOP=1",
        "-c",
        "CREATE TABLE sales (id INT, region STRING, amount DOUBLE) ROW FORMAT DELIMITED FIELDS TERMINATED BY ','",
        "-c",
        &format!("LOAD DATA LOCAL INPATH '{}' INTO TABLE sales", data.display()),
        "-c",
        "INSERT INTO sales VALUES (4, 'east', 1.5)",
        "-c",
        "SELECT region, count(*) AS n FROM sales GROUP BY region ORDER BY region",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("CREATE TABLE") && text.contains("INSERT 0 1"), "{text}");
    assert!(text.contains(" north  | 2") && text.contains("(3 rows)"), "{text}");

    // meta-commands send psql's own catalog queries
    let dt = stdout(&s.psql(&["-c", "\\dt"]));
    assert!(dt.contains("default | sales | table"), "{dt}");
    let d = stdout(&s.psql(&["-c", "\\d sales"]));
    assert!(d.contains("region") && d.contains("double precision") && d.contains("integer"), "{d}");
    let dn = stdout(&s.psql(&["-c", "\\dn"]));
    assert!(dn.contains("default"), "{dn}");
    let l = stdout(&s.psql(&["-c", "\\l"]));
    assert!(l.contains(" default "), "the connected database: {l}");
    let dt_plus = s.psql(&["-c", "\\dt+"]);
    assert!(stdout(&dt_plus).contains("default | sales | table"), "{}", stderr(&dt_plus));
    let d_plus = s.psql(&["-c", "\\d+ sales"]);
    assert!(stdout(&d_plus).contains(" region | text "), "{}", stderr(&d_plus));

    let copy = s.psql(&["-c", "\\copy (SELECT id, region, amount FROM sales ORDER BY id) TO STDOUT WITH CSV HEADER"]);
    assert_eq!(
        stdout(&copy),
        "id,region,amount\n1,north,10.5\n2,south,20.0\n3,north,\n4,east,1.5\n",
        "{}",
        stderr(&copy)
    );

    // a script stops at its error, which names the statement's failure and its SQLSTATE
    let script = s.home.path().join("script.sql");
    std::fs::write(
        &script,
        "CREATE TABLE before_error (a INT);\nSELECT * FROM no_such_table;\nCREATE TABLE after_error (a INT);\n",
    )
    .unwrap();
    let out = s.psql(&["-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose", "-f", script.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(
            "script.sql:2: ERROR:  42P01: SemanticException [Error 10001]: Table not found: default.no_such_table"
        ),
        "{err}"
    );
    let tables = stdout(&s.psql(&["-A", "-t", "-c", "SHOW TABLES"]));
    assert!(tables.contains("before_error") && !tables.contains("after_error"), "{tables}");

    // DDL from a CLI process on the same home is seen at the next statement
    let cli = Command::new(hiveql_bin())
        .args(["-e", "CREATE TABLE from_cli (x INT); INSERT INTO from_cli VALUES (7)"])
        .env("HIVEQL_HOME", s.home.path())
        .output()
        .unwrap();
    assert!(cli.status.success(), "{}", stderr(&cli));
    let seen = stdout(&s.psql(&["-A", "-t", "-c", "SELECT x FROM from_cli"]));
    assert_eq!(seen.trim(), "7");

    // driver housekeeping is answered as PostgreSQL does
    let out = s.psql(&[
        "-A",
        "-t",
        "-c",
        "SET extra_float_digits = 3",
        "-c",
        "SET application_name = 'tool'",
        "-c",
        "SHOW application_name",
        "-c",
        "SHOW transaction isolation level",
        "-c",
        "BEGIN",
        "-c",
        "COMMIT",
        "-c",
        "SELECT current_schema()",
    ]);
    assert_eq!(stdout(&out), "SET\nSET\ntool\nread committed\nBEGIN\nCOMMIT\ndefault\n", "{}", stderr(&out));
    s.assert_alive();
}

/// A client's checks all passed: it exited with success and printed a line
/// `ok NAME` (perhaps followed by details) for each of `checks`. Its output
/// is printed (the cancel timings).
fn assert_checks_passed(out: &std::process::Output, checks: &[&str]) {
    let text = stdout(out);
    assert!(out.status.success(), "{text}\n{}", stderr(out));
    println!("{text}");
    for c in checks {
        let ok = format!("ok {c}");
        assert!(text.lines().any(|l| l == ok || l.starts_with(&format!("{ok} "))), "{c}: {text}");
    }
}

/// Run the checks of a Python client script (tests/clients) against `s`, each
/// of which prints `ok NAME`; the script's output is printed (timings).
fn python_checks(s: &Served, script: &str, checks: &[&str]) {
    let python = std::env::var_os("HIVEQL_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/hiveql-venv/bin/python"));
    assert!(
        python.exists(),
        "{}: make the venv as .ci/run does (psycopg[binary], sqlalchemy, pandas, asyncpg)",
        python.display()
    );
    let (host, port) = s.host_port();
    let out = Command::new(python)
        .arg(clients_dir().join(script))
        .args([host.as_str(), port.as_str(), "alice", PASSWORD])
        .args(checks)
        .env("HIVEQL_SERVER_PID", s.daemon.child.id().to_string())
        .output()
        .unwrap();
    assert_checks_passed(&out, checks);
}

#[test]
fn psycopg_sqlalchemy_and_pandas() {
    let s = Served::start(&[]);
    let checks = [
        "parameters",
        "types",
        "server_side_cursor",
        "streamed_rows",
        "prepared_many_times",
        "copy_to_stdout",
        "cancel",
        "statement_timeout",
        "concurrent_connections",
        "errors_keep_the_connection",
        "wrong_password",
        "sqlalchemy_and_pandas",
    ];
    python_checks(&s, "psycopg_checks.py", &checks);
}

#[test]
fn asyncpg() {
    let s = Served::start(&[]);
    let checks =
        ["parameter_types", "parameters", "types", "cursor", "copy", "errors", "cancel", "pool", "wrong_password"];
    python_checks(&s, "asyncpg_checks.py", &checks);
}

/// Compile and run a Java client of tests/clients (`class`.java) with the
/// PostgreSQL JDBC driver against `s`, and check that it printed `ok C` for
/// each of `checks`.
fn java_checks(s: &Served, class: &str, checks: &[&str]) {
    let jar = Path::new("/usr/share/java/postgresql.jar");
    assert!(jar.exists(), "apt-get install libpostgresql-jdbc-java");
    let classes = tempfile::tempdir().unwrap();
    let javac = Command::new("javac")
        .arg("-d")
        .arg(classes.path())
        .arg(clients_dir().join(format!("{class}.java")))
        .output()
        .expect("javac (apt-get install default-jdk-headless)");
    assert!(javac.status.success(), "{}", stderr(&javac));
    let (host, port) = s.host_port();
    let out = Command::new("java")
        .arg("-cp")
        .arg(format!("{}:{}", jar.display(), classes.path().display()))
        .arg(class)
        .arg(format!("jdbc:postgresql://{host}:{port}/default"))
        .args(["alice", PASSWORD])
        .output()
        .unwrap();
    assert_checks_passed(&out, checks);
}

#[test]
fn the_postgresql_jdbc_driver() {
    let s = Served::start(&[]);
    let checks =
        ["ddl", "prepared_statement", "get_schemas", "get_tables", "get_columns", "get_primary_keys", "errors"];
    java_checks(&s, "JdbcChecks", &checks);
}

#[test]
fn dbeaver_and_metabase_catalog_queries() {
    let s = Served::start(&[]);
    let checks = [
        "dbeaver_connect",
        "dbeaver_navigation",
        "dbeaver_data",
        "metabase_tables",
        "metabase_fields",
        "metabase_questions",
    ];
    java_checks(&s, "ToolQueries", &checks);
}

#[test]
fn tls_and_scram_are_enforced() {
    let home = tempfile::tempdir().unwrap();
    let (cert, key) = (home.path().join("cert.pem"), home.path().join("key.pem"));
    let openssl = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl");
    assert!(openssl.status.success(), "{}", stderr(&openssl));
    let s = Served::start_in(
        home,
        &["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap(), "--require-tls"],
    );
    let ok = s.psql_as("alice", PASSWORD, "require", &["-A", "-t", "-c", "SELECT 'over tls'"]);
    assert_eq!(stdout(&ok).trim(), "over tls", "{}", stderr(&ok));
    let plain = s.psql_as("alice", PASSWORD, "disable", &["-c", "SELECT 1"]);
    assert!(!plain.status.success() && stderr(&plain).contains("requires TLS"), "{}", stderr(&plain));
    let wrong = s.psql_as("alice", "not it", "require", &["-c", "SELECT 1"]);
    assert!(stderr(&wrong).contains("FATAL:  password authentication failed for user \"alice\""), "{}", stderr(&wrong));
    let nobody = s.psql_as("mallory", PASSWORD, "require", &["-c", "SELECT 1"]);
    assert!(stderr(&nobody).contains("password authentication failed for user \"mallory\""), "{}", stderr(&nobody));
    // the users file holds verifiers, never the password
    let users = std::fs::read_to_string(s.home.path().join("pg_users")).unwrap();
    assert!(users.contains("alice SCRAM-SHA-256$4096:") && !users.contains(PASSWORD), "{users}");

    // trust is for loopback only, unless asked for
    let refused = Command::new(hiveql_bin())
        .args(["serve", "--host", "0.0.0.0", "--port", "0", "--auth", "trust"])
        .env("HIVEQL_HOME", s.home.path())
        .output()
        .unwrap();
    assert!(!refused.status.success() && stderr(&refused).contains("--allow-remote-trust"), "{}", stderr(&refused));
}

/// A startup message for `user` (protocol 3.0).
fn startup(user: &str) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&196608i32.to_be_bytes());
    for (k, v) in [("user", user), ("database", "default")] {
        body.extend_from_slice(k.as_bytes());
        body.push(0);
        body.extend_from_slice(v.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut msg = ((body.len() + 4) as i32).to_be_bytes().to_vec();
    msg.extend(body);
    msg
}

/// Read from `sock` until a message of type `kind` arrives (or EOF/timeout).
fn read_until(sock: &mut TcpStream, kind: u8) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match sock.read(&mut buf) {
            Ok(0) | Err(_) => return seen,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
        // walk the complete messages
        let mut i = 0;
        while i + 5 <= seen.len() {
            let len = i32::from_be_bytes([seen[i + 1], seen[i + 2], seen[i + 3], seen[i + 4]]) as usize;
            if seen[i] == kind {
                return seen;
            }
            i += 1 + len;
        }
    }
}

fn connect(s: &Served) -> TcpStream {
    let sock = TcpStream::connect(&s.daemon.addr).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    sock
}

#[test]
fn a_failed_login_ends_the_connection() {
    let s = Served::start(&["--auth", "password"]);
    let mut sock = connect(&s);
    sock.write_all(&startup("alice")).unwrap();
    let asked = read_until(&mut sock, b'R');
    assert_eq!(asked.first(), Some(&b'R'), "no password request: {asked:?}");
    let mut password = vec![b'p'];
    password.extend_from_slice(&(4 + 7i32).to_be_bytes());
    password.extend_from_slice(b"not it\0");
    sock.write_all(&password).unwrap();
    let answer = read_until(&mut sock, b'Z');
    let text = String::from_utf8_lossy(&answer);
    assert!(answer.first() == Some(&b'E') && text.contains("FATAL") && text.contains("28P01"), "{text}");
    assert!(!answer.contains(&b'Z'), "ReadyForQuery after a failed login: {text}");
    // the server has closed the connection: a query gets nothing back
    let _ = sock.write_all(b"Q\0\0\0\x0dSELECT 1\0");
    let mut rest = Vec::new();
    let _ = sock.read_to_end(&mut rest);
    assert!(rest.is_empty(), "answered after a failed login: {}", String::from_utf8_lossy(&rest));
}

#[test]
fn bad_input_never_takes_the_server_down() {
    let mut s = Served::start(&["--auth", "trust"]);
    // garbage instead of a startup message
    let mut sock = connect(&s);
    sock.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let _ = read_until(&mut sock, b'E');
    drop(sock);
    s.assert_alive();

    // a truncated startup message, then the client goes away
    let mut sock = connect(&s);
    sock.write_all(&startup("alice")[..7]).unwrap();
    drop(sock);
    s.assert_alive();

    // absurd lengths: a 2 GiB startup message, a 1 GiB+ query
    let mut sock = connect(&s);
    sock.write_all(&0x7fff_fff0i32.to_be_bytes()).unwrap();
    sock.write_all(&196608i32.to_be_bytes()).unwrap();
    let _ = read_until(&mut sock, b'E');
    drop(sock);
    let mut sock = connect(&s);
    sock.write_all(&startup("alice")).unwrap();
    let ready = read_until(&mut sock, b'Z');
    assert!(ready.contains(&b'Z'), "no ReadyForQuery: {ready:?}");
    sock.write_all(b"Q").unwrap();
    sock.write_all(&0x7fff_fff0i32.to_be_bytes()).unwrap();
    sock.write_all(b"SELECT 1").unwrap();
    let _ = read_until(&mut sock, b'E');
    drop(sock);
    s.assert_alive();

    // an unknown message type after startup
    let mut sock = connect(&s);
    sock.write_all(&startup("alice")).unwrap();
    read_until(&mut sock, b'Z');
    sock.write_all(&[b'!', 0, 0, 0, 8, 1, 2, 3, 4]).unwrap();
    let _ = read_until(&mut sock, b'E');
    drop(sock);
    s.assert_alive();

    // a client that disconnects in the middle of a heavy query
    let mut sock = connect(&s);
    sock.write_all(&startup("alice")).unwrap();
    read_until(&mut sock, b'Z');
    // 10^10 pairs: minutes of work unless it is stopped
    let q = "SELECT count(*) FROM (SELECT pos FROM (SELECT 1 AS one) o LATERAL VIEW posexplode(split(space(99999), ' ')) e AS pos, v) x \
             CROSS JOIN (SELECT pos AS pos2 FROM (SELECT 1 AS one) o LATERAL VIEW posexplode(split(space(99999), ' ')) e AS pos, v) y \
             WHERE pos + pos2 = 7\0";
    let mut msg = vec![b'Q'];
    msg.extend_from_slice(&((q.len() + 4) as i32).to_be_bytes());
    msg.extend_from_slice(q.as_bytes());
    sock.write_all(&msg).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    drop(sock);
    // the server sees the client gone and stops its query
    let start = std::time::Instant::now();
    while !s.daemon.log_text().contains("client went away") {
        assert!(start.elapsed() < Duration::from_secs(5), "the query ran on: {}", s.daemon.log_text());
        std::thread::sleep(Duration::from_millis(50));
    }
    s.assert_alive();
    // and one that sends half a message and stalls does not hold others up
    let mut stalled = connect(&s);
    stalled.write_all(&startup("alice")).unwrap();
    read_until(&mut stalled, b'Z');
    stalled.write_all(&[b'Q', 0, 0, 1, 0, b'S']).unwrap();
    s.assert_alive();
}
