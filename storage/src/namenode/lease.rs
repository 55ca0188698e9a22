//! Leases: one writer per file. A client holds the lease of each file it has
//! open for writing and renews all its leases together; a second writer is
//! refused; a lease not renewed within the limit expires, and the namenode
//! recovers the file (closes it at its last complete block).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::error::{Result, StorageError};

#[derive(Debug, Default)]
pub struct LeaseManager {
    /// path -> holder
    holders: BTreeMap<String, String>,
    /// holder -> last renewal
    renewed: BTreeMap<String, Instant>,
}

impl LeaseManager {
    /// Give `client` the lease of `path`, or say who holds it.
    pub fn acquire(&mut self, path: &str, client: &str, now: Instant) -> Result<()> {
        match self.holders.get(path) {
            Some(h) if h != client => Err(StorageError::LeaseHeld { path: path.to_string(), holder: Some(h.clone()) }),
            _ => {
                self.holders.insert(path.to_string(), client.to_string());
                self.renewed.insert(client.to_string(), now);
                Ok(())
            }
        }
    }

    /// `client` is alive: all its leases are renewed.
    pub fn renew(&mut self, client: &str, now: Instant) {
        if let Some(t) = self.renewed.get_mut(client) {
            *t = now;
        }
    }

    /// Whether `client` holds the lease of `path`.
    pub fn holds(&self, path: &str, client: &str) -> bool {
        self.holders.get(path).is_some_and(|h| h == client)
    }

    /// The file is closed (or deleted): its lease ends.
    pub fn release(&mut self, path: &str) {
        if let Some(h) = self.holders.remove(path)
            && !self.holders.values().any(|x| *x == h)
        {
            self.renewed.remove(&h);
        }
    }

    /// Whether anyone holds the lease of `path`.
    pub fn is_held(&self, path: &str) -> bool {
        self.holders.contains_key(path)
    }

    /// `path` was deleted: the leases of it and of files under it end.
    pub fn release_under(&mut self, path: &str) {
        let under: Vec<String> = self
            .holders
            .keys()
            .filter(|p| *p == path || p.starts_with(&format!("{}/", path.trim_end_matches('/'))))
            .cloned()
            .collect();
        for p in under {
            self.release(&p);
        }
    }

    /// A file was renamed while open: its lease follows it.
    pub fn rename(&mut self, src: &str, dst: &str) {
        let moved: Vec<(String, String)> = self
            .holders
            .iter()
            .filter(|(p, _)| *p == src || p.starts_with(&format!("{src}/")))
            .map(|(p, h)| (p.clone(), h.clone()))
            .collect();
        for (p, h) in moved {
            self.holders.remove(&p);
            self.holders.insert(format!("{dst}{}", &p[src.len()..]), h);
        }
    }

    /// Files whose holder has not renewed within `limit`: their leases end
    /// and the files are to be recovered.
    pub fn expire(&mut self, now: Instant, limit: Duration) -> Vec<String> {
        let dead: Vec<String> =
            self.renewed.iter().filter(|(_, t)| now.duration_since(**t) > limit).map(|(c, _)| c.clone()).collect();
        let mut paths = Vec::new();
        for c in dead {
            self.renewed.remove(&c);
            let mine: Vec<String> = self.holders.iter().filter(|(_, h)| **h == c).map(|(p, _)| p.clone()).collect();
            for p in mine {
                self.holders.remove(&p);
                paths.push(p);
            }
        }
        paths
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_writer_per_file_and_expiry() {
        let mut l = LeaseManager::default();
        let t0 = Instant::now();
        l.acquire("/a", "c1", t0).unwrap();
        l.acquire("/b", "c1", t0).unwrap();
        let e = l.acquire("/a", "c2", t0).unwrap_err().to_string();
        assert!(e.contains("being written by another client (c1)"), "{e}");
        l.acquire("/c", "c2", t0).unwrap();
        l.rename("/b", "/d");
        assert!(l.holds("/d", "c1"));
        let t1 = t0 + Duration::from_secs(5);
        l.renew("c2", t1);
        let mut expired = l.expire(t1, Duration::from_secs(3));
        expired.sort();
        assert_eq!(expired, vec!["/a", "/d"]);
        l.acquire("/a", "c2", t1).unwrap();
        l.release("/a");
        l.release("/c");
        assert!(l.expire(t1 + Duration::from_secs(100), Duration::from_secs(3)).is_empty());
    }
}
