//! The users `hiveql serve` lets in. They live in `$HIVEQL_HOME/pg_users`,
//! one per line, each with the SCRAM-SHA-256 verifier PostgreSQL itself
//! stores (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`):
//! enough to check a client's proof, never the password or anything a
//! client could log in with.
//!
//! The file is rewritten whole (a temporary file, fsync, rename) with mode
//! 0600, and read at each login, so `hiveql user add` takes effect on a
//! running server.

use std::io::Write;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ring::rand::SecureRandom;
use ring::{digest, hmac, pbkdf2};

use crate::error::ServerError;

/// The file's name in the home.
pub const FILE: &str = "pg_users";

/// PostgreSQL's default SCRAM iteration count.
pub const ITERATIONS: u32 = 4096;

const HEADER: &str = "# hiveql serve users (hiveql user add|list|remove): NAME SCRAM-SHA-256 verifier\n";

/// What is stored for a user: enough to verify a SCRAM proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    pub iterations: u32,
    pub salt: Vec<u8>,
    pub stored_key: Vec<u8>,
    pub server_key: Vec<u8>,
}

/// `H(i)`, `HMAC(key, msg)` and `Hi(password, salt, i)` of RFC 5802, with SHA-256.
pub(crate) fn sha256(data: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA256, data).as_ref().to_vec()
}

pub(crate) fn hmac256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), msg).as_ref().to_vec()
}

fn salted_password(password: &str, salt: &[u8], iterations: u32) -> Vec<u8> {
    // clients normalize with SASLprep; a password it rejects is used as is (as PostgreSQL does)
    let normalized = stringprep::saslprep(password).map(|p| p.into_owned()).unwrap_or_else(|_| password.to_owned());
    let mut out = vec![0u8; 32];
    let rounds = NonZeroU32::new(iterations.max(1)).unwrap_or(NonZeroU32::MIN);
    pbkdf2::derive(pbkdf2::PBKDF2_HMAC_SHA256, rounds, salt, normalized.as_bytes(), &mut out);
    out
}

/// Whether two keys are equal, in time that does not depend on where they differ.
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Random bytes from the system's generator.
pub(crate) fn random_bytes(n: usize) -> Result<Vec<u8>, ServerError> {
    let mut buf = vec![0u8; n];
    ring::rand::SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| ServerError::Config("the system's random number generator failed".into()))?;
    Ok(buf)
}

impl Verifier {
    /// A fresh verifier for `password`, with a random salt.
    pub fn new(password: &str) -> Result<Verifier, ServerError> {
        Ok(Verifier::with_salt(password, random_bytes(16)?, ITERATIONS))
    }

    pub(crate) fn with_salt(password: &str, salt: Vec<u8>, iterations: u32) -> Verifier {
        let salted = salted_password(password, &salt, iterations);
        let client_key = hmac256(&salted, b"Client Key");
        Verifier { iterations, salt, stored_key: sha256(&client_key), server_key: hmac256(&salted, b"Server Key") }
    }

    /// Whether `password` is this user's (the `--auth password` method).
    pub fn matches_password(&self, password: &str) -> bool {
        let candidate = Verifier::with_salt(password, self.salt.clone(), self.iterations);
        same_bytes(&candidate.stored_key, &self.stored_key)
    }

    /// PostgreSQL's text form of the verifier.
    pub fn to_text(&self) -> String {
        format!(
            "SCRAM-SHA-256${}:{}${}:{}",
            self.iterations,
            B64.encode(&self.salt),
            B64.encode(&self.stored_key),
            B64.encode(&self.server_key)
        )
    }

    /// Read PostgreSQL's text form.
    pub fn parse(text: &str) -> Result<Verifier, String> {
        let rest = text.strip_prefix("SCRAM-SHA-256$").ok_or("not a SCRAM-SHA-256 verifier")?;
        let (params, keys) = rest.split_once('$').ok_or("no '$' before the keys")?;
        let (iterations, salt) = params.split_once(':').ok_or("no ':' between iterations and salt")?;
        let (stored, server) = keys.split_once(':').ok_or("no ':' between the keys")?;
        let decode = |what: &str, v: &str| B64.decode(v).map_err(|e| format!("{what}: {e}"));
        let v = Verifier {
            iterations: iterations.parse().map_err(|_| format!("iterations '{iterations}' is not a number"))?,
            salt: decode("salt", salt)?,
            stored_key: decode("StoredKey", stored)?,
            server_key: decode("ServerKey", server)?,
        };
        if v.stored_key.len() != 32 || v.server_key.len() != 32 || v.iterations == 0 {
            return Err("keys must be 32 bytes and iterations positive".into());
        }
        Ok(v)
    }
}

/// The users file of a home.
#[derive(Debug, Clone)]
pub struct UserStore {
    path: PathBuf,
}

impl UserStore {
    pub fn in_home(home: &Path) -> UserStore {
        UserStore { path: home.join(FILE) }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every user, in file order.
    pub fn list(&self) -> Result<Vec<(String, Verifier)>, ServerError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(ServerError::io(format!("reading {}", self.path.display()), e)),
        };
        let mut users = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |msg: String| ServerError::UsersFile { path: self.path.clone(), line: i + 1, msg };
            let (name, verifier) = line.split_once(char::is_whitespace).ok_or_else(|| bad("no verifier".into()))?;
            users.push((name.to_string(), Verifier::parse(verifier.trim()).map_err(bad)?));
        }
        Ok(users)
    }

    /// The verifier of `name`, if that user exists.
    pub fn get(&self, name: &str) -> Result<Option<Verifier>, ServerError> {
        Ok(self.list()?.into_iter().find(|(n, _)| n == name).map(|(_, v)| v))
    }

    /// Add `name` or change its password; true when it replaced a user.
    pub fn add(&self, name: &str, password: &str) -> Result<bool, ServerError> {
        check_name(name)?;
        if password.is_empty() {
            return Err(ServerError::BadUser("the password is empty".into()));
        }
        let verifier = Verifier::new(password)?;
        let mut users = self.list()?;
        let replaced = match users.iter_mut().find(|(n, _)| n == name) {
            Some(entry) => {
                entry.1 = verifier;
                true
            }
            None => {
                users.push((name.to_string(), verifier));
                false
            }
        };
        self.write(&users)?;
        Ok(replaced)
    }

    /// Remove `name`; false when there was no such user.
    pub fn remove(&self, name: &str) -> Result<bool, ServerError> {
        let mut users = self.list()?;
        let before = users.len();
        users.retain(|(n, _)| n != name);
        if users.len() == before {
            return Ok(false);
        }
        self.write(&users)?;
        Ok(true)
    }

    fn write(&self, users: &[(String, Verifier)]) -> Result<(), ServerError> {
        use std::os::unix::fs::OpenOptionsExt;
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| ServerError::io(format!("creating {}", dir.display()), e))?;
        let tmp = self.path.with_extension("tmp");
        let io = |e| ServerError::io(format!("writing {}", tmp.display()), e);
        let mut f =
            std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp).map_err(io)?;
        let mut text = String::from(HEADER);
        for (name, v) in users {
            text.push_str(&format!("{name} {}\n", v.to_text()));
        }
        f.write_all(text.as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)?;
        std::fs::rename(&tmp, &self.path)
            .map_err(|e| ServerError::io(format!("replacing {}", self.path.display()), e))?;
        // the rename itself survives a crash once the directory is synced
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| ServerError::io(format!("syncing {}", dir.display()), e))
    }
}

/// A user name PostgreSQL clients can send and the file can hold.
fn check_name(name: &str) -> Result<(), ServerError> {
    if name.is_empty() || name.len() > 63 {
        return Err(ServerError::BadUser(format!("user name '{name}' must be 1 to 63 bytes")));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control() || c == '#') {
        return Err(ServerError::BadUser(format!("user name '{name}' may not hold spaces, control characters or '#'")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verifier_reads_back_and_checks_passwords() {
        // (the keys themselves are checked against RFC 7677's exchange in `scram`)
        let v = Verifier::with_salt("secret", B64.decode("c2FsdHNhbHRzYWx0").unwrap(), 4096);
        assert_eq!(Verifier::parse(&v.to_text()).unwrap(), v);
        assert!(v.matches_password("secret"));
        assert!(!v.matches_password("Secret"));
    }

    #[test]
    fn users_are_added_listed_and_removed_and_the_file_holds_no_password() {
        let dir = tempfile::tempdir().unwrap();
        let store = UserStore::in_home(dir.path());
        assert!(!store.add("alice", "pw-alice-1").unwrap());
        assert!(!store.add("bob", "pw-bob").unwrap());
        assert!(store.add("alice", "pw-alice-2").unwrap(), "a second add changes the password");
        let names: Vec<String> = store.list().unwrap().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["alice", "bob"]);
        assert!(store.get("alice").unwrap().unwrap().matches_password("pw-alice-2"));
        let text = std::fs::read_to_string(store.path()).unwrap();
        assert!(!text.contains("pw-"), "{text}");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(store.path()).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(store.remove("bob").unwrap());
        assert!(!store.remove("bob").unwrap());
        assert!(store.add("bad name", "x").is_err());
    }

    #[test]
    fn a_damaged_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let store = UserStore::in_home(dir.path());
        std::fs::write(store.path(), "# header\nalice SCRAM-SHA-256$4096:abc\n").unwrap();
        let err = store.list().unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
    }
}
