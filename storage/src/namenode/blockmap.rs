//! The block map: which datanodes hold a replica of which block, built from
//! block reports and kept current by the namenode. It answers what the
//! namenode must do: blocks below their replication factor (to copy),
//! blocks above it (to trim), corrupt replicas (to replace), replicas of
//! blocks no file has (to delete), and how much of the namespace has been
//! reported (safe mode).

use std::collections::{BTreeMap, BTreeSet};

/// What the namenode knows of one block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockState {
    /// The file's replication factor.
    pub target: u16,
    /// Nodes with a good replica.
    pub replicas: BTreeSet<String>,
    /// Nodes whose replica failed a checksum.
    pub corrupt: BTreeSet<String>,
    /// Still being written (its file is open): replication is not checked yet.
    pub under_construction: bool,
    /// Its length as a datanode reported it (lease recovery uses it).
    pub len: Option<u64>,
}

/// Blocks and their replicas.
#[derive(Debug, Default)]
pub struct BlockMap {
    blocks: BTreeMap<u64, BlockState>,
    by_node: BTreeMap<String, BTreeSet<u64>>,
}

impl BlockMap {
    /// A finished block of the namespace with its replication factor
    /// (replicas come from reports).
    pub fn add_block(&mut self, id: u64, target: u16) {
        self.blocks.entry(id).or_default().target = target;
    }

    /// A block just allocated to a file being written: its pipeline is
    /// still filling it, so it is not under-replicated yet.
    pub fn add_block_under_construction(&mut self, id: u64, target: u16) {
        let b = self.blocks.entry(id).or_default();
        b.target = target;
        b.under_construction = true;
    }

    /// The file of these blocks was completed.
    pub fn complete(&mut self, ids: &[u64]) {
        for id in ids {
            if let Some(b) = self.blocks.get_mut(id) {
                b.under_construction = false;
            }
        }
    }

    /// Forget a block (its file was deleted); returns the nodes to delete it from.
    pub fn remove_block(&mut self, id: u64) -> Vec<String> {
        let Some(state) = self.blocks.remove(&id) else { return Vec::new() };
        let nodes: Vec<String> = state.replicas.union(&state.corrupt).cloned().collect();
        for n in &nodes {
            if let Some(set) = self.by_node.get_mut(n) {
                set.remove(&id);
            }
        }
        nodes
    }

    pub fn set_target(&mut self, id: u64, target: u16) {
        if let Some(b) = self.blocks.get_mut(&id) {
            b.target = target;
        }
    }

    pub fn get(&self, id: u64) -> Option<&BlockState> {
        self.blocks.get(&id)
    }

    /// `node` has a good replica of `id` (a write or copy finished there).
    /// Returns false for a block no file has: the node should delete it.
    pub fn add_replica(&mut self, node: &str, id: u64) -> bool {
        let Some(state) = self.blocks.get_mut(&id) else { return false };
        if !state.corrupt.contains(node) {
            state.replicas.insert(node.to_string());
            self.by_node.entry(node.to_string()).or_default().insert(id);
        }
        true
    }

    /// A replica of `id` of `len` bytes was reported.
    pub fn set_len(&mut self, id: u64, len: u64) {
        if let Some(b) = self.blocks.get_mut(&id) {
            b.len = Some(len);
        }
    }

    /// A full block report from `node`: its replicas replace what was known.
    /// Returns the reported blocks no file has (to delete on the node).
    pub fn report(&mut self, node: &str, ids: &[u64]) -> Vec<u64> {
        self.remove_node(node);
        ids.iter().copied().filter(|&id| !self.add_replica(node, id)).collect()
    }

    /// The blocks `node` holds a replica of (good or corrupt).
    pub fn on_node(&self, node: &str) -> usize {
        self.by_node.get(node).map_or(0, |s| s.len())
    }

    /// `node` is dead (or re-registering): its replicas leave the map.
    /// Returns the blocks that lost a replica.
    pub fn remove_node(&mut self, node: &str) -> Vec<u64> {
        let ids: Vec<u64> = self.by_node.remove(node).map(|s| s.into_iter().collect()).unwrap_or_default();
        for id in &ids {
            if let Some(b) = self.blocks.get_mut(id) {
                b.replicas.remove(node);
                b.corrupt.remove(node);
            }
        }
        ids
    }

    /// The replica of `id` on `node` is gone (deleted on purpose).
    pub fn remove_replica(&mut self, node: &str, id: u64) {
        if let Some(b) = self.blocks.get_mut(&id) {
            b.replicas.remove(node);
            b.corrupt.remove(node);
        }
        if let Some(set) = self.by_node.get_mut(node) {
            set.remove(&id);
        }
    }

    /// The replica of `id` on `node` failed verification.
    pub fn mark_corrupt(&mut self, id: u64, node: &str) {
        if let Some(b) = self.blocks.get_mut(&id)
            && b.replicas.remove(node)
        {
            b.corrupt.insert(node.to_string());
        }
    }

    /// Blocks with fewer good replicas than their target, most urgent first:
    /// (block, missing replicas).
    pub fn under_replicated(&self) -> Vec<(u64, usize)> {
        let mut v: Vec<(u64, usize, usize)> = self
            .blocks
            .iter()
            .filter(|(_, b)| !b.under_construction && b.replicas.len() < b.target as usize)
            .map(|(id, b)| (*id, b.target as usize - b.replicas.len(), b.replicas.len()))
            .collect();
        v.sort_by_key(|&(id, _, have)| (have, id));
        v.into_iter().map(|(id, missing, _)| (id, missing)).collect()
    }

    /// Blocks with more good replicas than their target: (block, surplus).
    pub fn over_replicated(&self) -> Vec<(u64, usize)> {
        self.blocks
            .iter()
            .filter(|(_, b)| !b.under_construction && b.replicas.len() > b.target as usize)
            .map(|(id, b)| (*id, b.replicas.len() - b.target as usize))
            .collect()
    }

    /// Corrupt replicas that can go because the block has a good copy
    /// elsewhere at full replication: (block, node).
    pub fn removable_corrupt(&self) -> Vec<(u64, String)> {
        self.blocks
            .iter()
            .filter(|(_, b)| b.replicas.len() >= b.target as usize)
            .flat_map(|(id, b)| b.corrupt.iter().map(move |n| (*id, n.clone())))
            .collect()
    }

    /// The share of finished blocks with at least one good replica (1.0
    /// with none), and how many there are.
    pub fn reported_fraction(&self) -> (f64, usize) {
        let done: Vec<&BlockState> = self.blocks.values().filter(|b| !b.under_construction).collect();
        if done.is_empty() {
            return (1.0, 0);
        }
        let have = done.iter().filter(|b| !b.replicas.is_empty()).count();
        (have as f64 / done.len() as f64, done.len())
    }

    /// Counts for `dfsadmin -report`: (blocks, under-replicated, with corrupt replicas, missing).
    pub fn health(&self) -> (usize, usize, usize, usize) {
        let under = self.blocks.values().filter(|b| b.replicas.len() < b.target as usize).count();
        let corrupt = self.blocks.values().filter(|b| !b.corrupt.is_empty()).count();
        let missing = self.blocks.values().filter(|b| b.replicas.is_empty()).count();
        (self.blocks.len(), under, corrupt, missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_being_written_are_not_under_replicated() {
        let mut m = BlockMap::default();
        m.add_block_under_construction(5, 3);
        m.add_replica("a", 5);
        assert!(m.under_replicated().is_empty());
        m.complete(&[5]);
        assert_eq!(m.under_replicated(), vec![(5, 2)]);
    }

    #[test]
    fn reports_deaths_and_corruption() {
        let mut m = BlockMap::default();
        for id in 1..=3 {
            m.add_block(id, 3);
        }
        assert_eq!(m.reported_fraction(), (0.0, 3));
        assert_eq!(m.report("a", &[1, 2, 99]), vec![99], "block 99 belongs to no file");
        m.report("b", &[1, 2]);
        m.report("c", &[1, 3]);
        assert!((m.reported_fraction().0 - 1.0).abs() < 1e-9);
        assert_eq!(m.under_replicated(), vec![(3, 2), (2, 1)]);
        assert_eq!(m.remove_node("c"), vec![1, 3]);
        assert_eq!(m.under_replicated(), vec![(3, 3), (1, 1), (2, 1)]);
        m.mark_corrupt(1, "a");
        assert_eq!(m.get(1).unwrap().replicas.len(), 1);
        assert_eq!(m.health(), (3, 3, 1, 1));
        // the dead node comes back and a copy was made meanwhile: one too many
        m.add_replica("d", 2);
        m.add_replica("e", 2);
        m.report("c", &[2]);
        assert_eq!(m.over_replicated(), vec![(2, 2)]);
        m.set_target(1, 1);
        assert_eq!(m.removable_corrupt(), vec![(1, "a".to_string())]);
        let mut nodes = m.remove_block(2);
        nodes.sort();
        assert_eq!(nodes, vec!["a", "b", "c", "d", "e"]);
    }
}
