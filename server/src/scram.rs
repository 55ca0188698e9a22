//! The server side of SCRAM-SHA-256 (RFC 5802, RFC 7677), checked against
//! the stored [`Verifier`] alone: the client proves it knows the password
//! by a proof whose hash must equal the StoredKey, and the server proves it
//! knows the ServerKey. pgwire's own SCRAM wants the salted password, which
//! a client could log in with; so hiveql does this exchange itself.
//!
//! Channel binding (SCRAM-SHA-256-PLUS) is not offered; a client that asks
//! for it (`p=` in its first message) is refused.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use crate::users::{Verifier, hmac256, random_bytes, same_bytes, sha256};

/// Why an exchange failed.
#[derive(Debug, PartialEq, Eq)]
pub enum ScramError {
    /// The message does not follow RFC 5802.
    Malformed(String),
    /// The proof is wrong (or the user does not exist).
    WrongPassword,
}

/// The server's state between its first message and the client's last.
#[derive(Debug)]
pub struct Exchange {
    verifier: Option<Verifier>,
    gs2_header: String,
    client_first_bare: String,
    server_first: String,
    nonce: String,
}

fn attr(part: &str, key: char) -> Result<&str, ScramError> {
    part.strip_prefix(key)
        .and_then(|p| p.strip_prefix('='))
        .ok_or_else(|| ScramError::Malformed(format!("expected '{key}=' in '{part}'")))
}

impl Exchange {
    /// Answer the client's first message. `verifier` is `None` for a user
    /// that does not exist: the exchange goes on with a made-up salt and
    /// fails at the end, so a client cannot tell which names exist.
    pub fn start(client_first: &[u8], verifier: Option<Verifier>) -> Result<(Exchange, String), ScramError> {
        let nonce = B64.encode(random_bytes(18).map_err(|e| ScramError::Malformed(e.to_string()))?);
        Exchange::start_with_nonce(client_first, verifier, &nonce)
    }

    fn start_with_nonce(
        client_first: &[u8],
        verifier: Option<Verifier>,
        server_nonce: &str,
    ) -> Result<(Exchange, String), ScramError> {
        let text = std::str::from_utf8(client_first).map_err(|_| ScramError::Malformed("not UTF-8".into()))?;
        let mut parts = text.splitn(3, ',');
        let (flag, authzid, bare) = match (parts.next(), parts.next(), parts.next()) {
            (Some(f), Some(a), Some(b)) => (f, a, b),
            _ => return Err(ScramError::Malformed("client-first-message has no GS2 header".into())),
        };
        match flag {
            "n" | "y" => {}
            f if f.starts_with("p=") => {
                return Err(ScramError::Malformed("channel binding is not offered (use SCRAM-SHA-256)".into()));
            }
            f => return Err(ScramError::Malformed(format!("unknown channel binding flag '{f}'"))),
        }
        let mut fields = bare.split(',');
        let _user = attr(fields.next().unwrap_or(""), 'n')?;
        let client_nonce = attr(fields.next().unwrap_or(""), 'r')?;
        if client_nonce.is_empty() {
            return Err(ScramError::Malformed("empty client nonce".into()));
        }
        let (salt, iterations) = match &verifier {
            Some(v) => (v.salt.clone(), v.iterations),
            None => (sha256(bare.as_bytes())[..16].to_vec(), crate::users::ITERATIONS),
        };
        let nonce = format!("{client_nonce}{server_nonce}");
        let server_first = format!("r={nonce},s={},i={iterations}", B64.encode(&salt));
        let exchange = Exchange {
            verifier,
            gs2_header: format!("{flag},{authzid},"),
            client_first_bare: bare.to_string(),
            server_first: server_first.clone(),
            nonce,
        };
        Ok((exchange, server_first))
    }

    /// Check the client's final message; on success, the server's final
    /// message (`v=` the server signature).
    pub fn finish(&self, client_final: &[u8]) -> Result<String, ScramError> {
        let text = std::str::from_utf8(client_final).map_err(|_| ScramError::Malformed("not UTF-8".into()))?;
        let (without_proof, proof) =
            text.rsplit_once(",p=").ok_or_else(|| ScramError::Malformed("client-final-message has no proof".into()))?;
        let mut fields = without_proof.split(',');
        let binding = attr(fields.next().unwrap_or(""), 'c')?;
        let nonce = attr(fields.next().unwrap_or(""), 'r')?;
        if binding != B64.encode(self.gs2_header.as_bytes()) {
            return Err(ScramError::Malformed("channel binding does not match the first message".into()));
        }
        if nonce != self.nonce {
            return Err(ScramError::Malformed("nonce does not match".into()));
        }
        let proof = B64.decode(proof).map_err(|_| ScramError::Malformed("proof is not base64".into()))?;
        let Some(v) = &self.verifier else { return Err(ScramError::WrongPassword) };
        let auth_message = format!("{},{},{}", self.client_first_bare, self.server_first, without_proof);
        let client_signature = hmac256(&v.stored_key, auth_message.as_bytes());
        if proof.len() != client_signature.len() {
            return Err(ScramError::WrongPassword);
        }
        let client_key: Vec<u8> = proof.iter().zip(&client_signature).map(|(a, b)| a ^ b).collect();
        if !same_bytes(&sha256(&client_key), &v.stored_key) {
            return Err(ScramError::WrongPassword);
        }
        let server_signature = hmac256(&v.server_key, auth_message.as_bytes());
        Ok(format!("v={}", B64.encode(server_signature)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7677, section 3: user "user", password "pencil"
    const CLIENT_FIRST: &str = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    const SERVER_NONCE: &str = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    const SALT: &str = "W22ZaJ0SNY7soEsUEjb6gQ==";
    const CLIENT_FINAL: &str =
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";

    fn pencil() -> Verifier {
        Verifier::with_salt("pencil", B64.decode(SALT).unwrap(), 4096)
    }

    #[test]
    fn rfc7677_exchange() {
        let (ex, server_first) =
            Exchange::start_with_nonce(CLIENT_FIRST.as_bytes(), Some(pencil()), SERVER_NONCE).unwrap();
        assert_eq!(server_first, format!("r=rOprNGfwEbeRWgbNEkqO{SERVER_NONCE},s={SALT},i=4096"));
        let server_final = ex.finish(CLIENT_FINAL.as_bytes()).unwrap();
        assert_eq!(server_final, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    }

    #[test]
    fn a_wrong_password_or_unknown_user_fails_at_the_end() {
        let other = Verifier::with_salt("pencil2", B64.decode(SALT).unwrap(), 4096);
        for v in [Some(other), None] {
            let (ex, _) = Exchange::start_with_nonce(CLIENT_FIRST.as_bytes(), v, SERVER_NONCE).unwrap();
            assert_eq!(ex.finish(CLIENT_FINAL.as_bytes()), Err(ScramError::WrongPassword));
        }
    }

    #[test]
    fn garbage_is_refused_not_panicked_on() {
        for msg in ["", "n", "p=tls-server-end-point,,n=,r=x", "n,,n=user", "n,,n=u,r=", "\u{0}\u{1}"] {
            assert!(Exchange::start(msg.as_bytes(), Some(pencil())).is_err(), "{msg:?}");
        }
        let (ex, _) = Exchange::start_with_nonce(CLIENT_FIRST.as_bytes(), Some(pencil()), SERVER_NONCE).unwrap();
        for msg in
            ["", "c=biws", "c=biws,r=wrong,p=AAAA", "c=eSws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=!!"]
        {
            assert!(ex.finish(msg.as_bytes()).is_err(), "{msg:?}");
        }
    }
}
