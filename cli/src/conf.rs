//! The block store settings of a hiveql home: `$HIVEQL_HOME/hiveql.conf`
//! (`key=value` lines; `fs.defaultFS=dfs://HOST:PORT` names the default
//! namenode, as in Hadoop's `core-site.xml`) and the cluster secret, and how
//! a block store command connects with them.

use std::path::Path;

use hiveql_storage::DfsUrl;
use hiveql_storage::client::DfsClient;
use hiveql_storage::secret::Secret;

use crate::args::NamenodeArg;
use crate::error::{CliError, OnPath, Result};

/// The configuration file's name in the home.
pub const FILE: &str = "hiveql.conf";
/// The key of the default namenode.
pub const DEFAULT_FS: &str = "fs.defaultFS";

/// The value of `key` in `home/hiveql.conf`.
pub fn get(home: &Path, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(home.join(FILE)).ok()?;
    text.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .find(|(k, _)| k.trim() == key)
        .map(|(_, v)| v.trim().to_string())
}

/// Set `key` in `home/hiveql.conf`, keeping the other lines.
pub fn set(home: &Path, key: &str, value: &str) -> std::io::Result<()> {
    let path = home.join(FILE);
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    let mut lines: Vec<String> =
        old.lines().filter(|l| l.split_once('=').is_none_or(|(k, _)| k.trim() != key)).map(String::from).collect();
    lines.push(format!("{key}={value}"));
    std::fs::create_dir_all(home)?;
    std::fs::write(path, lines.join("\n") + "\n")
}

/// The namenode `host:port` of `fs.defaultFS`.
pub fn default_namenode(home: &Path) -> Option<String> {
    let fs = get(home, DEFAULT_FS)?;
    match DfsUrl::parse(&fs) {
        Ok(url) => Some(url.namenode),
        // a bare HOST[:PORT]
        Err(_) => hiveql_storage::dfs_url::namenode_address(fs.trim_end_matches('/')).ok(),
    }
}

/// The namenode to use: a path's own (`dfs://HOST:PORT/...`), else
/// `--namenode`/`HIVEQL_NAMENODE`, else `fs.defaultFS`.
pub fn namenode(arg: &NamenodeArg, from_path: Option<String>) -> Result<String> {
    from_path.or_else(|| arg.namenode.clone()).or_else(|| default_namenode(&arg.home.dir())).ok_or_else(|| {
        CliError::Setup(format!(
            "no namenode: give dfs://HOST:PORT/... paths, --namenode, HIVEQL_NAMENODE, or {DEFAULT_FS} in {}",
            arg.home.dir().join(FILE).display()
        ))
    })
}

/// A client of `namenode` with the home's cluster secret.
pub fn client(arg: &NamenodeArg, namenode: &str) -> Result<DfsClient> {
    let secret = Secret::discover(Some(&arg.home.dir()))?;
    DfsClient::new(namenode, secret).on(&format!("namenode {namenode}"))
}

/// `dfs://host:port/path` -> (Some(host:port), /path); `/path` -> (None, /path).
pub fn split_path(p: &str) -> Result<(Option<String>, String)> {
    if p.starts_with("dfs://") {
        let url = DfsUrl::parse(p).map_err(|e| CliError::Usage(e.to_string()))?;
        Ok((Some(url.namenode), url.path))
    } else if p.starts_with('/') {
        Ok((None, p.to_string()))
    } else {
        Err(CliError::Usage(format!("{p}: give an absolute path or a dfs://HOST:PORT/path URL")))
    }
}

/// The client for a command on `paths`: the first `dfs://` path's namenode,
/// else the default one.
pub fn connect(arg: &NamenodeArg, paths: &[&str]) -> Result<DfsClient> {
    let from_path = paths.iter().find_map(|p| split_path(p).ok().and_then(|(h, _)| h));
    let nn = namenode(arg, from_path)?;
    client(arg, &nn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_replaces_and_keeps_other_keys() {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(home.path().join(FILE), "# mine\na=1\nfs.defaultFS=dfs://old:1\n").unwrap();
        set(home.path(), DEFAULT_FS, "dfs://127.0.0.1:8020").unwrap();
        assert_eq!(get(home.path(), "a").as_deref(), Some("1"));
        assert_eq!(default_namenode(home.path()).as_deref(), Some("127.0.0.1:8020"));
        let text = std::fs::read_to_string(home.path().join(FILE)).unwrap();
        assert!(text.starts_with("# mine\n") && !text.contains("old"), "{text}");
    }
}
