//! `dfs://HOST[:PORT]/path` URLs, parsed in this one place for the CLI,
//! the engine's table locations and the object store registry: the
//! namenode's address (port 8020, HDFS's default, when none is given) and
//! the absolute path in the namespace.

use crate::error::{Result, StorageError};

/// The namenode port when a URL gives none (HDFS's `fs.defaultFS` default).
pub const DEFAULT_PORT: u16 = 8020;

/// A parsed `dfs://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DfsUrl {
    /// `HOST:PORT` of the namenode.
    pub namenode: String,
    /// The path, absolute (`/` when the URL has none); not percent-decoded.
    pub path: String,
}

impl DfsUrl {
    /// Parse `dfs://HOST[:PORT][/path]`.
    pub fn parse(text: &str) -> Result<DfsUrl> {
        let invalid = |why: String| StorageError::Invalid(format!("{text}: {why}"));
        let rest = text.strip_prefix("dfs://").ok_or_else(|| invalid("not a dfs://HOST:PORT/path URL".into()))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        Ok(DfsUrl { namenode: namenode_address(authority).map_err(invalid)?, path: path.to_string() })
    }
}

/// `HOST[:PORT]` as `HOST:PORT` (the default port when none is given);
/// what is wrong with it otherwise.
pub fn namenode_address(authority: &str) -> std::result::Result<String, String> {
    if authority.is_empty() {
        return Err("no namenode host".into());
    }
    // `[::1]` is an IPv6 host without a port
    match authority.rsplit_once(':').filter(|_| !authority.ends_with(']')) {
        Some(("", _)) => Err("no namenode host".into()),
        Some((host, port)) => match port.parse::<u16>() {
            Ok(p) => Ok(format!("{host}:{p}")),
            Err(_) => Err(format!("port '{port}' is not a port number")),
        },
        None => Ok(format!("{authority}:{DEFAULT_PORT}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_give_the_namenode_and_the_path() {
        let u = DfsUrl::parse("dfs://nn.example:9000/warehouse/t").unwrap();
        assert_eq!((u.namenode.as_str(), u.path.as_str()), ("nn.example:9000", "/warehouse/t"));
        let u = DfsUrl::parse("dfs://nn").unwrap();
        assert_eq!((u.namenode.as_str(), u.path.as_str()), ("nn:8020", "/"));
        assert_eq!(DfsUrl::parse("dfs://[::1]/x").unwrap().namenode, "[::1]:8020");
        assert_eq!(DfsUrl::parse("dfs://[::1]:7/x").unwrap().namenode, "[::1]:7");
        for bad in ["dfs:///x", "dfs://:80/x", "dfs://h:port/x", "dfs://h:99999/", "s3://b/x", "/x"] {
            assert!(DfsUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
