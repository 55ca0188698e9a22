//! The namenode's RPC service: the namespace operations of clients, and the
//! registrations, heartbeats and block receipts of datanodes. One lock
//! guards the namenode's state; every namespace change is durable (edit log,
//! fsync) before its reply.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tonic::{Request, Response, Status};

use super::blockmap::BlockMap;
use super::lease::LeaseManager;
use super::namespace::{Attrs, Op};
use super::namesystem::Namesystem;
use super::placement::{NodeInfo, Rng, choose_targets};
use crate::error::Result;
use crate::rpc::messages::*;
use crate::rpc::namenode::name_node_server::NameNode;
use crate::rpc::status;

/// Settings of a namenode (tests shorten the times).
#[derive(Debug, Clone)]
pub struct NameNodeConfig {
    /// A datanode without a heartbeat for this long is dead.
    pub dead_after: Duration,
    /// How often the replication monitor looks for work.
    pub monitor_interval: Duration,
    /// A writer without a lease renewal for this long loses its files' leases.
    pub lease_limit: Duration,
    pub default_block_size: u64,
}

impl Default for NameNodeConfig {
    fn default() -> Self {
        NameNodeConfig {
            dead_after: Duration::from_secs(30),
            monitor_interval: Duration::from_secs(3),
            lease_limit: Duration::from_secs(60),
            default_block_size: 128 << 20,
        }
    }
}

#[derive(Debug)]
struct Datanode {
    addr: String,
    rack: String,
    free: u64,
    last_heartbeat: Instant,
    /// Commands to hand out with the next heartbeat reply.
    pending: Vec<Command>,
}

#[derive(Debug)]
struct State {
    ns: Namesystem,
    blocks: BlockMap,
    leases: LeaseManager,
    datanodes: BTreeMap<String, Datanode>,
    /// Blocks with a copy under way, and when it was asked for.
    replicating: BTreeMap<u64, Instant>,
    rng: Rng,
}

/// The namenode service.
#[derive(Debug)]
pub struct NameNodeService {
    config: NameNodeConfig,
    state: Mutex<State>,
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

fn attrs(owner: &str, permission: u16) -> Attrs {
    Attrs { owner: owner.to_string(), group: "supergroup".into(), permission, mtime: now_ms() }
}

impl NameNodeService {
    /// A namenode over the image and edit log in `dir`.
    pub fn open(dir: &Path, config: NameNodeConfig) -> Result<NameNodeService> {
        let ns = Namesystem::open(dir)?;
        let mut blocks = BlockMap::default();
        for (b, replication) in ns.namespace().all_blocks() {
            blocks.add_block(b.id, replication);
        }
        let state = State {
            ns,
            blocks,
            leases: LeaseManager::default(),
            datanodes: BTreeMap::new(),
            replicating: BTreeMap::new(),
            rng: Rng::new(now_ms()),
        };
        Ok(NameNodeService { config, state: Mutex::new(state) })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The replication monitor's round: datanodes past the heartbeat timeout
    /// are dead and their replicas leave the block map; blocks below their
    /// replication factor are copied from a live replica to nodes placement
    /// chooses; extra replicas (a dead node came back) and corrupt replicas
    /// with enough good copies are deleted.
    pub fn monitor(&self) {
        let now = Instant::now();
        let mut st = self.state();
        let dead: Vec<String> = st
            .datanodes
            .iter()
            .filter(|(_, d)| now.duration_since(d.last_heartbeat) > self.config.dead_after)
            .map(|(id, _)| id.clone())
            .collect();
        for id in dead {
            st.datanodes.remove(&id);
            st.blocks.remove_node(&id);
        }
        let retry_after = self.config.dead_after.max(self.config.monitor_interval * 3);
        st.replicating.retain(|_, asked| now.duration_since(*asked) < retry_after);
        let live = st.live(now, self.config.dead_after);
        for (block, missing) in st.blocks.under_replicated() {
            if st.replicating.contains_key(&block) {
                continue;
            }
            let Some(state) = st.blocks.get(block) else { continue };
            let holders: Vec<String> = state.replicas.iter().cloned().collect();
            // A node with a corrupt copy cannot take a new one until it is deleted.
            let corrupt: Vec<String> = state.corrupt.iter().cloned().collect();
            let Some(source) = holders.first().cloned() else { continue }; // no good copy left
            let State { rng, .. } = &mut *st;
            let targets = choose_targets(&live, &holders, missing, None, &corrupt, 0, rng);
            if targets.is_empty() {
                continue;
            }
            let addrs: Vec<String> = targets.iter().filter_map(|t| st.addr(&t.id)).collect();
            if let Some(d) = st.datanodes.get_mut(&source) {
                d.pending.push(Command::Replicate { block, targets: addrs });
                st.replicating.insert(block, now);
            }
        }
        for (block, surplus) in st.blocks.over_replicated() {
            let mut holders: Vec<(u64, String)> = st
                .blocks
                .get(block)
                .map(|b| b.replicas.iter().map(|n| (st.datanodes.get(n).map_or(0, |d| d.free), n.clone())).collect())
                .unwrap_or_default();
            holders.sort(); // the fullest disks give up their copies
            for (_, node) in holders.into_iter().take(surplus) {
                st.blocks.remove_replica(&node, block);
                if let Some(d) = st.datanodes.get_mut(&node) {
                    d.pending.push(Command::Delete { blocks: vec![block] });
                }
            }
        }
        for (block, node) in st.blocks.removable_corrupt() {
            st.blocks.remove_replica(&node, block);
            if let Some(d) = st.datanodes.get_mut(&node) {
                d.pending.push(Command::Delete { blocks: vec![block] });
            }
        }
    }

    /// A client found a corrupt replica of `block` on the datanode at `addr`.
    pub fn corrupt_replica(&self, block: u64, addr: &str) {
        let mut st = self.state();
        let node = st.datanodes.iter().find(|(_, d)| d.addr == addr).map(|(id, _)| id.clone());
        if let Some(node) = node {
            st.blocks.mark_corrupt(block, &node);
        }
    }
}

impl State {
    /// Live datanodes as placement sees them.
    fn live(&self, now: Instant, dead_after: Duration) -> Vec<NodeInfo> {
        self.datanodes
            .iter()
            .filter(|(_, d)| now.duration_since(d.last_heartbeat) <= dead_after)
            .map(|(id, d)| NodeInfo { id: id.clone(), rack: d.rack.clone(), free: d.free })
            .collect()
    }

    fn addr(&self, id: &str) -> Option<String> {
        self.datanodes.get(id).map(|d| d.addr.clone())
    }

    /// Queue the deletion of blocks removed from the namespace.
    fn forget_blocks(&mut self, removed: Vec<super::namespace::BlockRef>) {
        for b in removed {
            for node in self.blocks.remove_block(b.id) {
                if let Some(d) = self.datanodes.get_mut(&node) {
                    d.pending.push(Command::Delete { blocks: vec![b.id] });
                }
            }
        }
    }
}

fn ok<T>(v: T) -> std::result::Result<Response<T>, Status> {
    Ok(Response::new(v))
}

#[tonic::async_trait]
impl NameNode for NameNodeService {
    async fn register(&self, r: Request<RegisterRequest>) -> std::result::Result<Response<Empty>, Status> {
        let r = r.into_inner();
        let mut st = self.state();
        let stray = st.blocks.report(&r.id, &r.blocks);
        let mut pending = Vec::new();
        if !stray.is_empty() {
            pending.push(Command::Delete { blocks: stray });
        }
        let node = Datanode { addr: r.addr, rack: r.rack, free: r.free, last_heartbeat: Instant::now(), pending };
        st.datanodes.insert(r.id, node);
        ok(Empty {})
    }

    async fn heartbeat(&self, r: Request<HeartbeatRequest>) -> std::result::Result<Response<HeartbeatReply>, Status> {
        let r = r.into_inner();
        let mut st = self.state();
        match st.datanodes.get_mut(&r.id) {
            Some(d) => {
                d.free = r.free;
                d.last_heartbeat = Instant::now();
                ok(HeartbeatReply { commands: std::mem::take(&mut d.pending) })
            }
            None => ok(HeartbeatReply { commands: vec![Command::Reregister] }),
        }
    }

    async fn block_received(&self, r: Request<BlockReceivedRequest>) -> std::result::Result<Response<Empty>, Status> {
        let r = r.into_inner();
        let mut st = self.state();
        if !st.blocks.add_replica(&r.id, r.block)
            && let Some(d) = st.datanodes.get_mut(&r.id)
        {
            d.pending.push(Command::Delete { blocks: vec![r.block] });
        }
        st.replicating.remove(&r.block);
        ok(Empty {})
    }

    async fn report_corrupt(&self, r: Request<CorruptRequest>) -> std::result::Result<Response<Empty>, Status> {
        let r = r.into_inner();
        self.corrupt_replica(r.block, &r.addr);
        ok(Empty {})
    }

    async fn mkdirs(&self, r: Request<PathRequest>) -> std::result::Result<Response<Empty>, Status> {
        let r = r.into_inner();
        self.state().ns.execute(Op::Mkdirs { path: r.path, attrs: attrs("hive", 0o755) }).map_err(status)?;
        ok(Empty {})
    }

    async fn create(&self, r: Request<CreateRequest>) -> std::result::Result<Response<Empty>, Status> {
        let r = r.into_inner();
        let mut st = self.state();
        let now = Instant::now();
        st.leases.acquire(&r.path, &r.client, now).map_err(status)?;
        let block_size = if r.block_size == 0 { self.config.default_block_size } else { r.block_size };
        let op = Op::Create {
            path: r.path.clone(),
            attrs: attrs(&r.owner, 0o644),
            replication: r.replication.max(1),
            block_size,
            overwrite: r.overwrite,
        };
        match st.ns.execute(op) {
            Ok(removed) => {
                st.forget_blocks(removed);
                ok(Empty {})
            }
            Err(e) => {
                st.leases.release(&r.path);
                Err(status(e))
            }
        }
    }

    async fn add_block(&self, r: Request<AddBlockRequest>) -> std::result::Result<Response<LocatedBlock>, Status> {
        let r = r.into_inner();
        let mut st = self.state();
        let now = Instant::now();
        if !st.leases.holds(&r.path, &r.client) {
            return Err(Status::failed_precondition(format!("{} is not open for writing by {}", r.path, r.client)));
        }
        st.leases.renew(&r.client, now);
        let replication = st.ns.namespace().replication(&r.path).map_err(status)?;
        let offset = st.ns.namespace().stat(&r.path).map_err(status)?.len;
        let block_size = st.ns.namespace().stat(&r.path).map_err(status)?.block_size;
        let live = st.live(now, self.config.dead_after);
        let State { rng, .. } = &mut *st;
        let targets =
            choose_targets(&live, &[], replication as usize, r.writer.as_deref(), &r.excluded, block_size, rng);
        if targets.is_empty() {
            return Err(Status::unavailable(format!(
                "no datanode can take a block of {} ({} live, none with {block_size} bytes free)",
                r.path,
                live.len()
            )));
        }
        let id = st.ns.next_block_id();
        st.ns.execute(Op::AddBlock { path: r.path, block: id }).map_err(status)?;
        st.blocks.add_block_under_construction(id, replication);
        let locations = targets.iter().filter_map(|t| st.addr(&t.id)).collect();
        ok(LocatedBlock { block: id, offset, len: 0, locations })
    }

    async fn complete(&self, r: Request<CompleteRequest>) -> std::result::Result<Response<Empty>, Status> {
        let r = r.into_inner();
        let mut st = self.state();
        if !st.leases.holds(&r.path, &r.client) {
            return Err(Status::failed_precondition(format!("{} is not open for writing by {}", r.path, r.client)));
        }
        st.ns.execute(Op::Complete { path: r.path.clone(), lengths: r.lengths, mtime: now_ms() }).map_err(status)?;
        let ids: Vec<u64> = st.ns.namespace().blocks(&r.path).map_err(status)?.iter().map(|b| b.id).collect();
        st.blocks.complete(&ids);
        st.leases.release(&r.path);
        ok(Empty {})
    }

    async fn locate(&self, r: Request<PathRequest>) -> std::result::Result<Response<Located>, Status> {
        let r = r.into_inner();
        let st = self.state();
        let stat = st.ns.namespace().stat(&r.path).map_err(status)?;
        let now = Instant::now();
        let mut offset = 0;
        let mut blocks = Vec::new();
        for b in st.ns.namespace().blocks(&r.path).map_err(status)? {
            let locations = st
                .blocks
                .get(b.id)
                .map(|s| {
                    s.replicas
                        .iter()
                        .filter(|n| {
                            st.datanodes
                                .get(*n)
                                .is_some_and(|d| now.duration_since(d.last_heartbeat) <= self.config.dead_after)
                        })
                        .filter_map(|n| st.addr(n))
                        .collect()
                })
                .unwrap_or_default();
            blocks.push(LocatedBlock { block: b.id, offset, len: b.len, locations });
            offset += b.len;
        }
        ok(Located { len: stat.len, block_size: stat.block_size, blocks })
    }

    async fn list(&self, r: Request<PathRequest>) -> std::result::Result<Response<Listing>, Status> {
        let r = r.into_inner();
        let entries = self.state().ns.namespace().list(&r.path).map_err(status)?;
        ok(Listing { entries: entries.into_iter().map(PathStatus::from).collect() })
    }

    async fn stat(&self, r: Request<PathRequest>) -> std::result::Result<Response<PathStatus>, Status> {
        let r = r.into_inner();
        ok(self.state().ns.namespace().stat(&r.path).map_err(status)?.into())
    }

    async fn rename(&self, r: Request<RenameRequest>) -> std::result::Result<Response<Empty>, Status> {
        let r = r.into_inner();
        let mut st = self.state();
        st.ns.execute(Op::Rename { src: r.src.clone(), dst: r.dst.clone(), mtime: now_ms() }).map_err(status)?;
        st.leases.rename(&r.src, &r.dst);
        ok(Empty {})
    }

    async fn delete(&self, r: Request<DeleteRequest>) -> std::result::Result<Response<Empty>, Status> {
        let r = r.into_inner();
        let mut st = self.state();
        let removed = st
            .ns
            .execute(Op::Delete { path: r.path.clone(), recursive: r.recursive, mtime: now_ms() })
            .map_err(status)?;
        st.forget_blocks(removed);
        st.leases.release(&r.path);
        ok(Empty {})
    }
}
