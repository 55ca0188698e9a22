//! Where replicas go, as HDFS's default placement policy puts them: the
//! first replica on the writer's node when the writer is a datanode (else a
//! chosen node), the second on another rack, the third on the second's rack
//! but another node, further ones anywhere; never two replicas on one node.
//! Among the nodes a rule allows, the one with more free space wins out of
//! two picked at random (the "power of two choices"), which balances disks
//! without always piling onto the emptiest one.
//!
//! Re-replication uses the same rules, continuing from the replicas that
//! already exist.

/// A live datanode as placement sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    pub id: String,
    pub rack: String,
    /// Free bytes.
    pub free: u64,
}

/// A seeded generator, so that placement is repeatable in tests.
#[derive(Debug, Clone)]
pub struct Rng(rand::rngs::StdRng);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(rand::SeedableRng::seed_from_u64(seed))
    }

    fn below(&mut self, n: usize) -> usize {
        rand::Rng::random_range(&mut self.0, 0..n)
    }
}

/// Of the nodes that pass `allow`, the one with more free space of two at random.
fn pick<'a>(nodes: &[&'a NodeInfo], allow: impl Fn(&NodeInfo) -> bool, rng: &mut Rng) -> Option<&'a NodeInfo> {
    let allowed: Vec<&NodeInfo> = nodes.iter().copied().filter(|n| allow(n)).collect();
    match allowed.len() {
        0 => None,
        1 => Some(allowed[0]),
        n => {
            let a = allowed[rng.below(n)];
            let b = allowed[rng.below(n)];
            Some(if b.free > a.free { b } else { a })
        }
    }
}

/// The datanode a writer at `client` (its IP address) runs beside, if any:
/// among the nodes whose address `host:port` is on that host, one chosen
/// at random (on a one-machine cluster every node is local).
pub fn writer_node<'a>(
    nodes: &'a [NodeInfo],
    addr_of: impl Fn(&str) -> Option<String>,
    client: std::net::IpAddr,
    rng: &mut Rng,
) -> Option<&'a str> {
    let on_host = |n: &NodeInfo| {
        addr_of(&n.id).and_then(|a| a.parse::<std::net::SocketAddr>().ok()).is_some_and(|a| a.ip() == client)
    };
    let local: Vec<&NodeInfo> = nodes.iter().filter(|n| on_host(n)).collect();
    pick(&local, |_| true, rng).map(|n| n.id.as_str())
}

/// Choose `needed` more nodes for a block that already has replicas on
/// `existing` (node ids), written from `writer` (a node id, if the writer
/// runs on a datanode). Nodes in `excluded` and nodes without `min_free`
/// bytes free are not chosen. Returns fewer nodes if not enough qualify.
pub fn choose_targets(
    nodes: &[NodeInfo],
    existing: &[String],
    needed: usize,
    writer: Option<&str>,
    excluded: &[String],
    min_free: u64,
    rng: &mut Rng,
) -> Vec<NodeInfo> {
    let usable: Vec<&NodeInfo> = nodes.iter().filter(|n| n.free >= min_free && !excluded.contains(&n.id)).collect();
    let rack_of = |id: &str| nodes.iter().find(|n| n.id == id).map(|n| n.rack.clone());
    // The replicas in placement order: existing ones first.
    let mut chosen: Vec<String> = existing.to_vec();
    let mut out = Vec::new();
    while out.len() < needed {
        let taken = |n: &NodeInfo| !chosen.contains(&n.id);
        let next = match chosen.len() {
            0 => writer.and_then(|w| usable.iter().copied().find(|n| n.id == w)).or_else(|| pick(&usable, taken, rng)),
            1 => {
                let first = rack_of(&chosen[0]);
                pick(&usable, |n| taken(n) && Some(&n.rack) != first.as_ref(), rng)
                    .or_else(|| pick(&usable, taken, rng))
            }
            2 => {
                let (r0, r1) = (rack_of(&chosen[0]), rack_of(&chosen[1]));
                // Third: with the second if the first two are on different racks,
                // else on another rack.
                let rule = |n: &NodeInfo| {
                    if r0 != r1 { Some(&n.rack) == r1.as_ref() } else { Some(&n.rack) != r0.as_ref() }
                };
                pick(&usable, |n| taken(n) && rule(n), rng).or_else(|| pick(&usable, taken, rng))
            }
            _ => pick(&usable, taken, rng),
        };
        match next {
            Some(n) => {
                chosen.push(n.id.clone());
                out.push(n.clone());
            }
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster() -> Vec<NodeInfo> {
        let mut v = Vec::new();
        for (i, rack) in ["/r1", "/r1", "/r1", "/r2", "/r2", "/r3"].iter().enumerate() {
            v.push(NodeInfo { id: format!("dn{i}"), rack: rack.to_string(), free: 1000 + i as u64 * 10 });
        }
        v
    }

    #[test]
    fn three_replicas_follow_the_rack_rules() {
        let nodes = cluster();
        let mut rng = Rng::new(42);
        for _ in 0..200 {
            let t = choose_targets(&nodes, &[], 3, Some("dn1"), &[], 0, &mut rng);
            assert_eq!(t.len(), 3);
            assert_eq!(t[0].id, "dn1", "first replica on the writer's node");
            assert_ne!(t[1].rack, t[0].rack, "second on another rack");
            let rack_has_room = nodes.iter().filter(|n| n.rack == t[1].rack).count() > 1;
            if rack_has_room {
                assert_eq!(t[2].rack, t[1].rack, "third on the second's rack");
            }
            assert!(t[2].id != t[1].id && t[2].id != t[0].id);
        }
        // not a datanode writer: any first node; never two replicas on one node
        let t = choose_targets(&nodes, &[], 6, None, &[], 0, &mut rng);
        let mut ids: Vec<_> = t.iter().map(|n| n.id.clone()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 6);
        assert_eq!(choose_targets(&nodes, &[], 9, None, &[], 0, &mut rng).len(), 6);
    }

    #[test]
    fn the_writers_own_node_is_found_by_address() {
        let nodes: Vec<NodeInfo> = ["10.0.0.1:9866", "10.0.0.2:9866", "10.0.0.2:9867"]
            .iter()
            .map(|a| NodeInfo { id: a.to_string(), rack: "/r".into(), free: 1 << 30 })
            .collect();
        let mut rng = Rng::new(7);
        let addr = |id: &str| Some(id.to_string());
        assert_eq!(writer_node(&nodes, addr, "10.0.0.1".parse().unwrap(), &mut rng), Some("10.0.0.1:9866"));
        for _ in 0..10 {
            let w = writer_node(&nodes, addr, "10.0.0.2".parse().unwrap(), &mut rng).unwrap();
            assert!(w.starts_with("10.0.0.2:"), "{w}");
        }
        assert_eq!(writer_node(&nodes, addr, "10.0.0.9".parse().unwrap(), &mut rng), None);
    }

    #[test]
    fn rereplication_excludes_and_full_disks() {
        let nodes = cluster();
        let mut rng = Rng::new(7);
        // two replicas left on /r1: the third goes to another rack
        let t = choose_targets(&nodes, &["dn0".into(), "dn2".into()], 1, None, &[], 0, &mut rng);
        assert_ne!(t[0].rack, "/r1");
        let excluded = vec!["dn3".to_string(), "dn4".to_string()];
        let t = choose_targets(&nodes, &["dn0".into()], 1, None, &excluded, 0, &mut rng);
        assert_eq!(t[0].id, "dn5", "the only node on another rack that is left");
        // a node without room is skipped
        let t = choose_targets(&nodes, &[], 1, Some("dn0"), &[], 1005, &mut rng);
        assert_ne!(t[0].id, "dn0");
    }
}
