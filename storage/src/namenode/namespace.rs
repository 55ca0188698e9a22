//! The file system namespace: a tree of directories and files with owner,
//! group, permission bits, modification time, replication factor, block size
//! and, for files, their blocks. Every change is an [`Op`], applied by
//! [`Namespace::apply`]; the same ops, replayed from the edit log, rebuild the
//! same tree (apply is deterministic: times and ids are in the op).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Result, StorageError};

/// A block of a file: its id and length in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockRef {
    pub id: u64,
    pub len: u64,
}

/// Who owns an inode and what they may do with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attrs {
    pub owner: String,
    pub group: String,
    /// Permission bits (`0o755`).
    pub permission: u16,
    /// Modification time, milliseconds since the epoch.
    pub mtime: u64,
}

/// A file: its attributes, replication, block size and blocks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileNode {
    pub attrs: Attrs,
    pub replication: u16,
    pub block_size: u64,
    pub blocks: Vec<BlockRef>,
    /// Open for writing (not yet completed).
    pub under_construction: bool,
}

/// A node of the namespace tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum INode {
    Dir { attrs: Attrs, children: BTreeMap<String, INode> },
    File(FileNode),
}

/// A change to the namespace (what the edit log records).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// Create a directory and any missing parents.
    Mkdirs {
        path: String,
        attrs: Attrs,
    },
    /// Create an empty file open for writing (parents created as needed).
    Create {
        path: String,
        attrs: Attrs,
        replication: u16,
        block_size: u64,
        overwrite: bool,
    },
    /// Give an open file a new (empty) last block.
    AddBlock {
        path: String,
        block: u64,
    },
    /// Drop the last block of an open file (its pipeline failed, or lease
    /// recovery found no replica of it).
    AbandonBlock {
        path: String,
        block: u64,
    },
    /// Close an open file with the final lengths of its blocks.
    Complete {
        path: String,
        lengths: Vec<u64>,
        mtime: u64,
    },
    /// Move a file or directory (atomically); `dst` must not exist.
    Rename {
        src: String,
        dst: String,
        mtime: u64,
    },
    /// Remove a file, or a directory (non-empty only if `recursive`).
    Delete {
        path: String,
        recursive: bool,
        mtime: u64,
    },
    SetReplication {
        path: String,
        replication: u16,
    },
}

/// What `stat` and `list` report of an inode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStatus {
    pub path: String,
    pub is_dir: bool,
    pub len: u64,
    pub attrs: Attrs,
    pub replication: u16,
    pub block_size: u64,
}

/// The namespace tree, with the highest block id handed out so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Namespace {
    root: INode,
    pub last_block_id: u64,
}

/// The components of an absolute path (`/a/b` -> `["a", "b"]`).
pub fn components(path: &str) -> Result<Vec<&str>> {
    if !path.starts_with('/') {
        return Err(StorageError::Invalid(format!("path must be absolute: {path}")));
    }
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    if parts.iter().any(|p| *p == "." || *p == "..") {
        return Err(StorageError::Invalid(format!("path may not contain . or ..: {path}")));
    }
    Ok(parts)
}

fn ns_err(msg: String) -> StorageError {
    StorageError::Rejected(msg)
}

impl INode {
    fn attrs(&self) -> &Attrs {
        match self {
            INode::Dir { attrs, .. } => attrs,
            INode::File(f) => &f.attrs,
        }
    }

    fn status(&self, path: String) -> FileStatus {
        match self {
            INode::Dir { attrs, .. } => {
                FileStatus { path, is_dir: true, len: 0, attrs: attrs.clone(), replication: 0, block_size: 0 }
            }
            INode::File(f) => FileStatus {
                path,
                is_dir: false,
                len: f.blocks.iter().map(|b| b.len).sum(),
                attrs: f.attrs.clone(),
                replication: f.replication,
                block_size: f.block_size,
            },
        }
    }

    /// Every block under this inode.
    fn blocks(&self, out: &mut Vec<BlockRef>) {
        match self {
            INode::Dir { children, .. } => children.values().for_each(|c| c.blocks(out)),
            INode::File(f) => out.extend(f.blocks.iter().copied()),
        }
    }
}

impl Default for Namespace {
    fn default() -> Self {
        let attrs = Attrs { owner: "hive".into(), group: "supergroup".into(), permission: 0o755, mtime: 0 };
        Namespace { root: INode::Dir { attrs, children: BTreeMap::new() }, last_block_id: 0 }
    }
}

impl Namespace {
    fn get(&self, parts: &[&str]) -> Option<&INode> {
        let mut node = &self.root;
        for p in parts {
            match node {
                INode::Dir { children, .. } => node = children.get(*p)?,
                INode::File(_) => return None,
            }
        }
        Some(node)
    }

    fn get_mut(&mut self, parts: &[&str]) -> Option<&mut INode> {
        let mut node = &mut self.root;
        for p in parts {
            match node {
                INode::Dir { children, .. } => node = children.get_mut(*p)?,
                INode::File(_) => return None,
            }
        }
        Some(node)
    }

    /// The children map of directory `parts`, creating missing directories with `attrs`.
    fn make_dirs(&mut self, parts: &[&str], attrs: &Attrs) -> Result<&mut BTreeMap<String, INode>> {
        let mut node = &mut self.root;
        let mut walked = String::new();
        for p in parts {
            walked.push('/');
            walked.push_str(p);
            let INode::Dir { children, .. } = node else { unreachable!() };
            node = children
                .entry(p.to_string())
                .or_insert_with(|| INode::Dir { attrs: attrs.clone(), children: BTreeMap::new() });
            if matches!(node, INode::File(_)) {
                return Err(StorageError::NotDirectory(walked));
            }
        }
        match node {
            INode::Dir { children, .. } => Ok(children),
            INode::File(_) => unreachable!(),
        }
    }

    fn open_file(&mut self, path: &str) -> Result<&mut FileNode> {
        let parts = components(path)?;
        match self.get_mut(&parts) {
            Some(INode::File(f)) if f.under_construction => Ok(f),
            Some(INode::File(_)) => Err(ns_err(format!("{path} is not open for writing"))),
            Some(INode::Dir { .. }) => Err(StorageError::IsDirectory(path.to_string())),
            None => Err(StorageError::NotFound(path.to_string())),
        }
    }

    /// Apply `op`; an error leaves the namespace unchanged. Returns the
    /// blocks that the op removed (deleted or overwritten files).
    pub fn apply(&mut self, op: &Op) -> Result<Vec<BlockRef>> {
        let mut removed = Vec::new();
        match op {
            Op::Mkdirs { path, attrs } => {
                let parts = components(path)?;
                // Check first, so a file in the way changes nothing.
                for i in 1..=parts.len() {
                    if let Some(INode::File(_)) = self.get(&parts[..i]) {
                        return Err(StorageError::NotDirectory(format!("/{}", parts[..i].join("/"))));
                    }
                }
                self.make_dirs(&parts, attrs)?;
            }
            Op::Create { path, attrs, replication, block_size, overwrite } => {
                let parts = components(path)?;
                let Some((name, parent)) = parts.split_last() else {
                    return Err(ns_err("cannot create a file at /".into()));
                };
                for i in 1..=parent.len() {
                    if let Some(INode::File(_)) = self.get(&parent[..i]) {
                        return Err(StorageError::NotDirectory(format!("/{}", parent[..i].join("/"))));
                    }
                }
                match self.get(&parts) {
                    Some(INode::Dir { .. }) => return Err(StorageError::IsDirectory(path.clone())),
                    Some(INode::File(f)) if f.under_construction => {
                        return Err(StorageError::LeaseHeld { path: path.clone(), holder: None });
                    }
                    Some(INode::File(_)) if !overwrite => return Err(StorageError::AlreadyExists(path.clone())),
                    Some(node) => node.blocks(&mut removed),
                    None => {}
                }
                let file = FileNode {
                    attrs: attrs.clone(),
                    replication: *replication,
                    block_size: *block_size,
                    blocks: Vec::new(),
                    under_construction: true,
                };
                self.make_dirs(parent, &Attrs { permission: 0o755, ..attrs.clone() })?
                    .insert(name.to_string(), INode::File(file));
            }
            Op::AddBlock { path, block } => {
                let f = self.open_file(path)?;
                f.blocks.push(BlockRef { id: *block, len: 0 });
                self.last_block_id = self.last_block_id.max(*block);
            }
            Op::AbandonBlock { path, block } => {
                let f = self.open_file(path)?;
                match f.blocks.last() {
                    Some(b) if b.id == *block => removed.extend(f.blocks.pop()),
                    _ => return Err(ns_err(format!("block {block} is not the last block of {path}"))),
                }
            }
            Op::Complete { path, lengths, mtime } => {
                let f = self.open_file(path)?;
                if lengths.len() != f.blocks.len() {
                    return Err(ns_err(format!(
                        "{path} has {} blocks but {} lengths were given",
                        f.blocks.len(),
                        lengths.len()
                    )));
                }
                for (b, len) in f.blocks.iter_mut().zip(lengths) {
                    b.len = *len;
                }
                f.under_construction = false;
                f.attrs.mtime = *mtime;
            }
            Op::Rename { src, dst, mtime } => {
                let (s, d) = (components(src)?, components(dst)?);
                if s.is_empty() || d.is_empty() {
                    return Err(ns_err("cannot rename /".into()));
                }
                if d.len() > s.len() && d[..s.len()] == s[..] {
                    return Err(ns_err(format!("cannot move {src} into itself ({dst})")));
                }
                if self.get(&s).is_none() {
                    return Err(StorageError::NotFound(src.clone()));
                }
                if self.get(&d).is_some() {
                    return Err(StorageError::AlreadyExists(dst.clone()));
                }
                let Some((dname, dparent)) = d.split_last() else {
                    return Err(StorageError::Invalid(format!("cannot rename onto the root: {dst}")));
                };
                match self.get(dparent) {
                    Some(INode::Dir { .. }) => {}
                    Some(INode::File(_)) => return Err(StorageError::NotDirectory(format!("parent of {dst}"))),
                    None => return Err(StorageError::NotFound(format!("parent directory of {dst}"))),
                }
                let Some((sname, sparent)) = s.split_last() else {
                    return Err(StorageError::Invalid(format!("cannot rename the root: {src}")));
                };
                let Some(INode::Dir { children, attrs }) = self.get_mut(sparent) else {
                    return Err(StorageError::NotFound(src.clone()));
                };
                let Some(mut node) = children.remove(*sname) else {
                    return Err(StorageError::NotFound(src.clone()));
                };
                attrs.mtime = *mtime;
                if let INode::File(f) = &mut node {
                    f.attrs.mtime = (*mtime).max(f.attrs.mtime);
                }
                let Some(INode::Dir { children, attrs }) = self.get_mut(dparent) else { unreachable!() };
                children.insert(dname.to_string(), node);
                attrs.mtime = *mtime;
            }
            Op::Delete { path, recursive, mtime } => {
                let parts = components(path)?;
                let Some((name, parent)) = parts.split_last() else {
                    return Err(ns_err("cannot delete /".into()));
                };
                match self.get(&parts) {
                    None => return Err(StorageError::NotFound(path.clone())),
                    Some(INode::Dir { children, .. }) if !children.is_empty() && !recursive => {
                        return Err(StorageError::NotEmpty(path.clone()));
                    }
                    Some(node) => node.blocks(&mut removed),
                }
                let Some(INode::Dir { children, attrs }) = self.get_mut(parent) else { unreachable!() };
                children.remove(*name);
                attrs.mtime = *mtime;
            }
            Op::SetReplication { path, replication } => {
                let parts = components(path)?;
                match self.get_mut(&parts) {
                    Some(INode::File(f)) => f.replication = *replication,
                    Some(INode::Dir { .. }) => return Err(StorageError::IsDirectory(path.clone())),
                    None => return Err(StorageError::NotFound(path.clone())),
                }
            }
        }
        Ok(removed)
    }

    /// The status of `path`.
    pub fn stat(&self, path: &str) -> Result<FileStatus> {
        let parts = components(path)?;
        let node = self.get(&parts).ok_or_else(|| StorageError::NotFound(path.to_string()))?;
        Ok(node.status(format!("/{}", parts.join("/"))))
    }

    /// The entries of directory `path` (or the file itself), sorted by name.
    pub fn list(&self, path: &str) -> Result<Vec<FileStatus>> {
        let parts = components(path)?;
        let base = format!("/{}", parts.join("/"));
        match self.get(&parts) {
            None => Err(StorageError::NotFound(path.to_string())),
            Some(f @ INode::File(_)) => Ok(vec![f.status(base)]),
            Some(INode::Dir { children, .. }) => Ok(children
                .iter()
                .map(|(name, c)| c.status(format!("{}/{name}", base.trim_end_matches('/'))))
                .collect()),
        }
    }

    /// The blocks of file `path`.
    pub fn blocks(&self, path: &str) -> Result<Vec<BlockRef>> {
        let parts = components(path)?;
        match self.get(&parts) {
            Some(INode::File(f)) => Ok(f.blocks.clone()),
            Some(INode::Dir { .. }) => Err(StorageError::IsDirectory(path.to_string())),
            None => Err(StorageError::NotFound(path.to_string())),
        }
    }

    /// Every block of every file with the file's replication factor.
    pub fn all_blocks(&self) -> Vec<(BlockRef, u16)> {
        let mut out = Vec::new();
        let mut stack = vec![&self.root];
        while let Some(node) = stack.pop() {
            match node {
                INode::Dir { children, .. } => stack.extend(children.values()),
                INode::File(f) => out.extend(f.blocks.iter().map(|b| (*b, f.replication))),
            }
        }
        out
    }

    /// Files open for writing (not yet completed).
    pub fn under_construction(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![(String::new(), &self.root)];
        while let Some((path, node)) = stack.pop() {
            match node {
                INode::Dir { children, .. } => {
                    stack.extend(children.iter().map(|(name, c)| (format!("{path}/{name}"), c)));
                }
                INode::File(f) if f.under_construction => out.push(path),
                INode::File(_) => {}
            }
        }
        out
    }

    /// Files and directories in the namespace (`/` counts as a directory).
    pub fn counts(&self) -> (u64, u64) {
        let (mut files, mut dirs) = (0, 0);
        let mut stack = vec![&self.root];
        while let Some(node) = stack.pop() {
            match node {
                INode::Dir { children, .. } => {
                    dirs += 1;
                    stack.extend(children.values());
                }
                INode::File(_) => files += 1,
            }
        }
        (files, dirs)
    }

    /// The replication factor of file `path`.
    pub fn replication(&self, path: &str) -> Result<u16> {
        let parts = components(path)?;
        match self.get(&parts) {
            Some(INode::File(f)) => Ok(f.replication),
            Some(INode::Dir { .. }) => Err(StorageError::IsDirectory(path.to_string())),
            None => Err(StorageError::NotFound(path.to_string())),
        }
    }

    /// Owner, group and permission of `path`.
    pub fn attrs(&self, path: &str) -> Result<&Attrs> {
        let parts = components(path)?;
        self.get(&parts).map(INode::attrs).ok_or_else(|| StorageError::NotFound(path.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn attrs(mtime: u64) -> Attrs {
        Attrs { owner: "ann".into(), group: "staff".into(), permission: 0o644, mtime }
    }

    fn create(path: &str) -> Op {
        Op::Create { path: path.into(), attrs: attrs(1), replication: 3, block_size: 1024, overwrite: false }
    }

    #[test]
    fn files_blocks_rename_delete() {
        let mut ns = Namespace::default();
        ns.apply(&Op::Mkdirs { path: "/a/b".into(), attrs: attrs(1) }).unwrap();
        ns.apply(&create("/a/b/f")).unwrap();
        assert!(ns.apply(&create("/a/b/f")).unwrap_err().to_string().contains("being written by another client"));
        ns.apply(&Op::AddBlock { path: "/a/b/f".into(), block: 7 }).unwrap();
        ns.apply(&Op::AddBlock { path: "/a/b/f".into(), block: 9 }).unwrap();
        assert_eq!(ns.under_construction(), vec!["/a/b/f"]);
        assert!(ns.apply(&Op::AbandonBlock { path: "/a/b/f".into(), block: 7 }).is_err(), "not the last");
        let dropped = ns.apply(&Op::AbandonBlock { path: "/a/b/f".into(), block: 9 }).unwrap();
        assert_eq!(dropped, vec![BlockRef { id: 9, len: 0 }]);
        ns.apply(&Op::AddBlock { path: "/a/b/f".into(), block: 8 }).unwrap();
        ns.apply(&Op::Complete { path: "/a/b/f".into(), lengths: vec![1024, 10], mtime: 5 }).unwrap();
        assert_eq!(ns.stat("/a/b/f").unwrap().len, 1034);
        assert_eq!(ns.last_block_id, 9);
        assert!(ns.under_construction().is_empty());
        assert_eq!(ns.counts(), (1, 3));
        assert!(ns.apply(&Op::AddBlock { path: "/a/b/f".into(), block: 10 }).is_err());
        // a directory rename moves everything under it
        ns.apply(&Op::Rename { src: "/a".into(), dst: "/z".into(), mtime: 6 }).unwrap();
        assert_eq!(ns.blocks("/z/b/f").unwrap().len(), 2);
        assert!(ns.stat("/a").is_err());
        assert!(ns.apply(&Op::Rename { src: "/z".into(), dst: "/z/b/x".into(), mtime: 6 }).is_err());
        assert!(ns.apply(&Op::Delete { path: "/z".into(), recursive: false, mtime: 7 }).is_err());
        let removed = ns.apply(&Op::Delete { path: "/z".into(), recursive: true, mtime: 7 }).unwrap();
        assert_eq!(removed.iter().map(|b| b.id).collect::<Vec<_>>(), vec![7, 8]);
        assert!(ns.list("/").unwrap().is_empty());
    }

    #[test]
    fn a_failed_op_changes_nothing() {
        let mut ns = Namespace::default();
        ns.apply(&create("/f")).unwrap();
        let before = ns.clone();
        for op in [
            Op::Mkdirs { path: "/f/g".into(), attrs: attrs(2) },
            create("/f/g/h"),
            Op::Rename { src: "/nope".into(), dst: "/x".into(), mtime: 2 },
            Op::Rename { src: "/f".into(), dst: "/missing/x".into(), mtime: 2 },
            Op::Delete { path: "/".into(), recursive: true, mtime: 2 },
            Op::Complete { path: "/f".into(), lengths: vec![1], mtime: 2 },
            Op::SetReplication { path: "/x".into(), replication: 1 },
            Op::Mkdirs { path: "relative".into(), attrs: attrs(2) },
            Op::Mkdirs { path: "/a/../b".into(), attrs: attrs(2) },
        ] {
            assert!(ns.apply(&op).is_err(), "{op:?}");
            assert_eq!(ns, before, "{op:?}");
        }
    }
}
