//! `hiveql serve` (the PostgreSQL wire endpoint, see `hiveql_server`) and
//! `hiveql user add|list|remove` (who may log in to it).

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use hiveql_server::users::UserStore;
use hiveql_server::{AuthMethod, ServeOptions, Server};

use crate::args::{Role, ServeAuth, UserAction};

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("Error: {msg}");
    ExitCode::from(1)
}

/// Run `hiveql serve` until the process is stopped.
pub async fn run(role: Role) -> ExitCode {
    let Role::Serve {
        host,
        port,
        auth,
        allow_remote_trust,
        tls_cert,
        tls_key,
        require_tls,
        cluster,
        hiveconf: extra,
        hivevar,
        home,
        ..
    } = role
    else {
        return fail("not a serve command");
    };
    let home = home.dir();
    // the cluster as the CLI finds it: --cluster, else hiveql.conf; --hiveconf wins
    let mut hiveconf = Vec::new();
    if let Some(c) = cluster.or_else(|| crate::conf::get(&home, hiveql_engine::dist::CLUSTER)) {
        hiveconf.push((hiveql_engine::dist::CLUSTER.to_string(), c));
    }
    hiveconf.extend(extra);
    let auth = match auth {
        ServeAuth::Scram => AuthMethod::Scram,
        ServeAuth::Password => AuthMethod::Password,
        ServeAuth::Trust => AuthMethod::Trust,
    };
    let tls = tls_cert.zip(tls_key);
    let tls_on = tls.is_some();
    let opts = ServeOptions { home, host, port, auth, allow_remote_trust, tls, require_tls, hiveconf, hivevar };
    let server = match Server::bind(opts).await {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    match server.local_addr() {
        Ok(addr) => {
            let tls = match (tls_on, require_tls) {
                (true, true) => "TLS required",
                (true, false) => "TLS on",
                _ => "TLS off",
            };
            let mut out = std::io::stdout();
            let line = format!("hiveql serve (auth {auth:?}, {tls}) listening on {addr}").to_lowercase();
            if let Err(e) = writeln!(out, "{line}").and_then(|()| out.flush()) {
                tracing::warn!(error = %e, "could not print the listening address");
            }
        }
        Err(e) => return fail(e),
    }
    match server.run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

/// `hiveql user ...`.
pub fn user(action: UserAction, home: &std::path::Path) -> ExitCode {
    let store = UserStore::in_home(home);
    let result = match action {
        UserAction::List => store.list().map(|users| {
            for (name, _) in users {
                println!("{name}");
            }
        }),
        UserAction::Remove { name } => match store.remove(&name) {
            Ok(true) => {
                eprintln!("Removed user {name}");
                Ok(())
            }
            Ok(false) => return fail(format!("no user {name}")),
            Err(e) => Err(e),
        },
        UserAction::Add { name } => {
            let password = match read_password(&name) {
                Ok(p) => p,
                Err(e) => return fail(e),
            };
            store.add(&name, &password).map(|replaced| {
                if replaced {
                    eprintln!("Changed the password of user {name}");
                } else {
                    eprintln!("Added user {name}");
                }
            })
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

/// The new password: asked twice, unechoed, on a terminal; else the first
/// line of standard input.
fn read_password(name: &str) -> Result<String, String> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin.lock().read_line(&mut line).map_err(|e| format!("reading the password: {e}"))?;
        return Ok(line.trim_end_matches(['\n', '\r']).to_string());
    }
    let first = prompt_hidden(&format!("Password for {name}: "))?;
    let second = prompt_hidden("Again: ")?;
    if first != second {
        return Err("the passwords differ".into());
    }
    Ok(first)
}

fn prompt_hidden(prompt: &str) -> Result<String, String> {
    eprint!("{prompt}");
    let fd = libc::STDIN_FILENO;
    // SAFETY: termios is plain data; tcgetattr fills it for a terminal fd
    #[allow(unsafe_code)]
    let saved = unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(fd, &mut t) != 0 {
            return Err("cannot read the terminal's settings".into());
        }
        let mut hidden = t;
        hidden.c_lflag &= !libc::ECHO;
        libc::tcsetattr(fd, libc::TCSANOW, &hidden);
        t
    };
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    // SAFETY: restores the settings read above on the same fd
    #[allow(unsafe_code)]
    unsafe {
        libc::tcsetattr(fd, libc::TCSANOW, &saved);
    }
    eprintln!();
    read.map_err(|e| format!("reading the password: {e}"))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}
