//! The namenode's RPC service: the namespace operations of clients, and the
//! registrations, heartbeats and block receipts of datanodes. One lock
//! guards the namenode's state; every namespace change is durable (edit log,
//! fsync) before its reply.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tonic::{Request, Response, Status};

use super::blockmap::BlockMap;
use super::lease::LeaseManager;
use super::namespace::{Attrs, Op};
use super::namesystem::{GroupCommit, Namesystem, OpenMode};
use super::placement::{NodeInfo, Rng, choose_targets, writer_node};
use crate::error::{Result, StorageError};
use crate::rpc::messages::*;
use crate::rpc::namenode::name_node_server::NameNode;
use crate::rpc::status;
use crate::secret::Secret;

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
    /// Safe mode after a restart ends when this share of the blocks has a
    /// reported replica.
    pub safe_mode_threshold: f64,
    /// A checkpoint (new image, log truncated) after this many changes.
    pub checkpoint_every: u64,
    /// The cluster secret requests must carry.
    pub secret: Secret,
}

impl Default for NameNodeConfig {
    fn default() -> Self {
        NameNodeConfig {
            dead_after: Duration::from_secs(30),
            monitor_interval: Duration::from_secs(3),
            lease_limit: Duration::from_secs(60),
            default_block_size: 128 << 20,
            safe_mode_threshold: 0.999,
            checkpoint_every: 10_000,
            secret: Secret::none(),
        }
    }
}

#[derive(Debug)]
struct Datanode {
    addr: String,
    rack: String,
    capacity: u64,
    used: u64,
    free: u64,
    last_heartbeat: Instant,
    /// Commands to hand out with the next heartbeat reply.
    pending: Vec<Command>,
    /// The last failure the node reported.
    last_error: Option<String>,
}

#[derive(Debug)]
struct State {
    ns: Namesystem,
    blocks: BlockMap,
    leases: LeaseManager,
    datanodes: BTreeMap<String, Datanode>,
    /// Datanodes declared dead (for `dfsadmin -report`), until they return.
    dead: BTreeMap<String, Datanode>,
    /// Why changes are refused, while in safe mode.
    safe_mode: Option<String>,
    /// Safe mode was entered by an administrator: only they end it.
    safe_mode_manual: bool,
    /// When this namenode started (files left open by a previous run are
    /// recovered once a lease period has passed).
    started: Instant,
    /// Blocks with a copy under way, and when it was asked for.
    replicating: BTreeMap<u64, Instant>,
    rng: Rng,
    /// The namenode's own last background failure (for `dfsadmin -report`).
    last_error: Option<String>,
}

/// The namenode service.
#[derive(Debug)]
pub struct NameNodeService {
    config: NameNodeConfig,
    state: Mutex<State>,
    /// Makes logged changes durable (group commit), outside the state lock.
    commit: Arc<GroupCommit>,
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// A replication factor from the wire (`u32` there), at most 512.
fn replication_of(n: u32) -> std::result::Result<u16, Status> {
    u16::try_from(n)
        .ok()
        .filter(|r| *r <= 512)
        .ok_or_else(|| status(StorageError::Invalid(format!("replication {n} is not in 1..=512"))))
}

fn attrs(owner: &str, permission: u16) -> Attrs {
    Attrs { owner: owner.to_string(), group: "supergroup".into(), permission, mtime: now_ms() }
}

/// Why the namenode is (still) in safe mode.
fn safe_mode_reason(blocks: &BlockMap, threshold: f64) -> String {
    let (share, total) = blocks.reported_fraction();
    format!(
        "{:.1}% of {total} blocks have a reported replica; {:.1}% are needed (reads work, changes are refused \
         until the datanodes have reported)",
        share * 100.0,
        threshold * 100.0
    )
}

impl NameNodeService {
    /// A namenode over the image and edit log in `dir`.
    pub fn open(dir: &Path, config: NameNodeConfig) -> Result<NameNodeService> {
        NameNodeService::open_dirs(&[dir.to_path_buf()], OpenMode::default(), config)
    }

    /// A namenode over the name directories `dirs` (each a full copy).
    pub fn open_dirs(dirs: &[std::path::PathBuf], mode: OpenMode, config: NameNodeConfig) -> Result<NameNodeService> {
        let ns = Namesystem::open_dirs(dirs, mode)?;
        let commit = ns.group_commit();
        let mut blocks = BlockMap::default();
        let all = ns.namespace().all_blocks();
        for (b, replication) in &all {
            blocks.add_block(b.id, *replication);
        }
        for path in ns.namespace().under_construction() {
            let ids: Vec<u64> = ns.namespace().blocks(&path)?.iter().map(|b| b.id).collect();
            let replication = ns.namespace().replication(&path)?;
            for id in ids {
                blocks.add_block_under_construction(id, replication);
            }
        }
        let safe_mode = (!all.is_empty()).then(|| safe_mode_reason(&blocks, config.safe_mode_threshold));
        let state = State {
            ns,
            blocks,
            leases: LeaseManager::default(),
            datanodes: BTreeMap::new(),
            dead: BTreeMap::new(),
            safe_mode,
            safe_mode_manual: false,
            started: Instant::now(),
            replicating: BTreeMap::new(),
            rng: Rng::new(now_ms()),
            last_error: None,
        };
        Ok(NameNodeService { config, state: Mutex::new(state), commit })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The state for a change of the namespace: refused in safe mode.
    fn state_for_change(&self) -> std::result::Result<std::sync::MutexGuard<'_, State>, Status> {
        let st = self.state();
        match &st.safe_mode {
            Some(why) => Err(status(StorageError::SafeMode { reason: why.clone(), manual: st.safe_mode_manual })),
            None => Ok(st),
        }
    }

    /// Wait, off the async runtime, until change `txid` is durable.
    async fn durable(&self, txid: u64) -> std::result::Result<(), Status> {
        let commit = self.commit.clone();
        tokio::task::spawn_blocking(move || commit.sync_through(txid))
            .await
            .map_err(|e| Status::internal(format!("edit log sync: {e}")))?
            .map_err(status)
    }

    /// What opening the name directories found and repaired.
    pub fn notes(&self) -> Vec<String> {
        self.state().ns.notes.clone()
    }

    /// The name directories in use.
    pub fn name_dirs(&self) -> Vec<std::path::PathBuf> {
        self.state().ns.dirs()
    }

    /// The group commit (fsync rounds, for benchmarks).
    pub fn group_commit(&self) -> Arc<GroupCommit> {
        self.commit.clone()
    }

    /// Why the namenode is in safe mode, if it is.
    pub fn safe_mode(&self) -> Option<String> {
        self.state().safe_mode.clone()
    }

    /// Leave safe mode once enough blocks are reported.
    fn check_safe_mode(&self, st: &mut State) {
        if st.safe_mode.is_some() && !st.safe_mode_manual {
            let (share, _) = st.blocks.reported_fraction();
            st.safe_mode = (share < self.config.safe_mode_threshold)
                .then(|| safe_mode_reason(&st.blocks, self.config.safe_mode_threshold));
        }
    }

    /// The replication monitor's round: datanodes past the heartbeat timeout
    /// are dead and their replicas leave the block map; blocks below their
    /// replication factor are copied from a live replica to nodes placement
    /// chooses; extra replicas (a dead node came back) and corrupt replicas
    /// with enough good copies are deleted; expired leases are recovered; a
    /// checkpoint is written when the log has grown. Nothing is changed in
    /// safe mode.
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
            if let Some(node) = st.datanodes.remove(&id) {
                st.dead.insert(id.clone(), node);
            }
            st.blocks.remove_node(&id);
        }
        self.check_safe_mode(&mut st);
        if st.safe_mode.is_some() {
            return;
        }
        self.recover_leases(&mut st, now);
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
        let txid = st.ns.last_txid();
        if st.ns.since_checkpoint() >= self.config.checkpoint_every {
            match st.ns.checkpoint() {
                Ok(()) => tracing::info!(txid, "checkpoint written"),
                // the log keeps growing; nothing is lost
                Err(e) => {
                    tracing::error!(error = %e, "checkpoint failed");
                    st.failed(format!("checkpoint failed: {e}"));
                }
            }
        }
        drop(st);
        if let Err(e) = self.commit.sync_through(txid) {
            tracing::error!(error = %e, "syncing the monitor's changes failed");
            self.state().failed(format!("syncing the edit log failed: {e}"));
        }
    }

    /// Files whose writer stopped renewing its lease (or that a previous run
    /// of the namenode left open) are closed at their last block with a
    /// reported replica; later blocks are dropped.
    fn recover_leases(&self, st: &mut State, now: Instant) {
        let mut paths = st.leases.expire(now, self.config.lease_limit);
        if now.duration_since(st.started) > self.config.lease_limit {
            let orphans: Vec<String> =
                st.ns.namespace().under_construction().into_iter().filter(|p| !st.leases.is_held(p)).collect();
            paths.extend(orphans);
        }
        paths.sort();
        paths.dedup();
        for path in paths {
            match st.recover_file(&path) {
                Ok(()) => tracing::info!(path, "lease recovered: file closed at its last reported block"),
                Err(e) => {
                    tracing::warn!(path, error = %e, "lease recovery failed; tried again next round");
                    st.failed(format!("lease recovery of {path} failed: {e}"));
                }
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
    /// Remember a background failure for `dfsadmin -report`.
    fn failed(&mut self, what: String) {
        self.last_error = Some(format!("{} {what}", chrono::Utc::now().format("%Y-%m-%d %H:%M:%S")));
    }

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

    /// Close `path` (left open by a writer that is gone) at its last block
    /// with a reported replica, as the writer's last acknowledged state.
    fn recover_file(&mut self, path: &str) -> Result<()> {
        let blocks = self.ns.namespace().blocks(path)?;
        let keep = blocks.iter().take_while(|b| self.blocks.get(b.id).is_some_and(|s| s.len.is_some())).count();
        for b in blocks[keep..].iter().rev() {
            let (_, removed) = self.ns.execute(Op::AbandonBlock { path: path.to_string(), block: b.id })?;
            self.forget_blocks(removed);
        }
        let lengths: Vec<u64> =
            blocks[..keep].iter().map(|b| self.blocks.get(b.id).and_then(|s| s.len).unwrap_or(0)).collect();
        let ids: Vec<u64> = blocks[..keep].iter().map(|b| b.id).collect();
        self.ns.execute(Op::Complete { path: path.to_string(), lengths, mtime: now_ms() })?;
        self.blocks.complete(&ids);
        self.leases.release(path);
        Ok(())
    }

    /// Where the replicas of `b` are: live good ones (rotated by block id,
    /// so reads of a file spread over the datanodes) and corrupt ones.
    fn locations(&self, block: u64, now: Instant, dead_after: Duration) -> (Vec<String>, Vec<String>) {
        let Some(s) = self.blocks.get(block) else { return (vec![], vec![]) };
        let live =
            |n: &&String| self.datanodes.get(*n).is_some_and(|d| now.duration_since(d.last_heartbeat) <= dead_after);
        let mut good: Vec<String> = s.replicas.iter().filter(live).filter_map(|n| self.addr(n)).collect();
        if !good.is_empty() {
            let k = (block % good.len() as u64) as usize;
            good.rotate_left(k);
        }
        let corrupt = s.corrupt.iter().filter_map(|n| self.addr(n)).collect();
        (good, corrupt)
    }

    fn node_report(id: &str, d: &Datanode, blocks: &BlockMap, now: Instant) -> NodeReport {
        NodeReport {
            id: id.to_string(),
            addr: d.addr.clone(),
            rack: d.rack.clone(),
            capacity: d.capacity,
            used: d.used,
            free: d.free,
            blocks: blocks.on_node(id) as u64,
            last_contact_ms: now.duration_since(d.last_heartbeat).as_millis() as u64,
            last_error: d.last_error.clone(),
        }
    }
}

fn ok<T>(v: T) -> std::result::Result<Response<T>, Status> {
    Ok(Response::new(v))
}

fn not_writer(path: &str, client: &str) -> Status {
    status(StorageError::Rejected(format!(
        "{path} is not open for writing by {client} (its lease expired, or another client holds it)"
    )))
}

#[tonic::async_trait]
impl NameNode for NameNodeService {
    async fn register(&self, r: Request<RegisterRequest>) -> std::result::Result<Response<Empty>, Status> {
        let r = r.into_inner();
        let mut st = self.state();
        let stray = st.blocks.report(&r.id, &r.blocks);
        for (id, len) in r.blocks.iter().zip(&r.lens) {
            st.blocks.set_len(*id, *len);
        }
        let mut pending = Vec::new();
        if !stray.is_empty() {
            pending.push(Command::Delete { blocks: stray });
        }
        let node = Datanode {
            addr: r.addr,
            rack: r.rack,
            capacity: r.capacity,
            used: r.capacity.saturating_sub(r.free),
            free: r.free,
            last_heartbeat: Instant::now(),
            pending,
            last_error: None,
        };
        st.dead.remove(&r.id);
        st.datanodes.insert(r.id, node);
        self.check_safe_mode(&mut st);
        ok(Empty {})
    }

    async fn heartbeat(&self, r: Request<HeartbeatRequest>) -> std::result::Result<Response<HeartbeatReply>, Status> {
        let r = r.into_inner();
        let mut st = self.state();
        match st.datanodes.get_mut(&r.id) {
            Some(d) => {
                d.capacity = r.capacity;
                d.used = r.used;
                d.free = r.free;
                d.last_heartbeat = Instant::now();
                d.last_error = r.last_error;
                ok(HeartbeatReply { commands: d.pending.drain(..).map(CommandMessage::from).collect() })
            }
            None => ok(HeartbeatReply { commands: vec![Command::Reregister.into()] }),
        }
    }

    async fn block_received(&self, r: Request<BlockReceivedRequest>) -> std::result::Result<Response<Empty>, Status> {
        let r = r.into_inner();
        let mut st = self.state();
        if st.blocks.add_replica(&r.id, r.block) {
            st.blocks.set_len(r.block, r.len);
        } else if let Some(d) = st.datanodes.get_mut(&r.id) {
            d.pending.push(Command::Delete { blocks: vec![r.block] });
        }
        st.replicating.remove(&r.block);
        self.check_safe_mode(&mut st);
        ok(Empty {})
    }

    async fn report_corrupt(&self, r: Request<CorruptRequest>) -> std::result::Result<Response<Empty>, Status> {
        let r = r.into_inner();
        self.corrupt_replica(r.block, &r.addr);
        ok(Empty {})
    }

    async fn mkdirs(&self, r: Request<PathRequest>) -> std::result::Result<Response<Empty>, Status> {
        let r = r.into_inner();
        let (txid, _) = self
            .state_for_change()?
            .ns
            .execute(Op::Mkdirs { path: r.path, attrs: attrs("hive", 0o755) })
            .map_err(status)?;
        self.durable(txid).await?;
        ok(Empty {})
    }

    async fn create(&self, r: Request<CreateRequest>) -> std::result::Result<Response<PathStatus>, Status> {
        let r = r.into_inner();
        let replication = replication_of(r.replication.max(1))?;
        let (txid, stat) = {
            let mut st = self.state_for_change()?;
            let now = Instant::now();
            st.leases.acquire(&r.path, &r.client, now).map_err(status)?;
            let block_size = if r.block_size == 0 { self.config.default_block_size } else { r.block_size };
            let op = Op::Create {
                path: r.path.clone(),
                attrs: attrs(&r.owner, 0o644),
                replication,
                block_size,
                overwrite: r.overwrite,
            };
            let executed = st.ns.execute(op);
            match executed {
                Ok((txid, removed)) => {
                    st.forget_blocks(removed);
                    (txid, st.ns.namespace().stat(&r.path).map_err(status)?)
                }
                Err(e) => {
                    st.leases.release(&r.path);
                    return Err(status(e));
                }
            }
        };
        self.durable(txid).await?;
        ok(stat.into())
    }

    async fn add_block(&self, r: Request<AddBlockRequest>) -> std::result::Result<Response<LocatedBlock>, Status> {
        let client_ip = r.remote_addr().map(|a| a.ip());
        let r = r.into_inner();
        let (txid, reply) = (|| {
            let mut st = self.state_for_change()?;
            let now = Instant::now();
            if !st.leases.holds(&r.path, &r.client) {
                return Err(not_writer(&r.path, &r.client));
            }
            st.leases.renew(&r.client, now);
            let replication = st.ns.namespace().replication(&r.path).map_err(status)?;
            let stat = st.ns.namespace().stat(&r.path).map_err(status)?;
            let (offset, block_size) = (stat.len, stat.block_size);
            let live = st.live(now, self.config.dead_after);
            // The client names failed nodes by address; placement knows ids.
            let excluded: Vec<String> =
                st.datanodes.iter().filter(|(_, d)| r.excluded.contains(&d.addr)).map(|(id, _)| id.clone()).collect();
            // The first replica goes beside the writer when it runs on a datanode's host.
            let usable: Vec<NodeInfo> = live.iter().filter(|n| !excluded.contains(&n.id)).cloned().collect();
            let State { rng, datanodes, .. } = &mut *st;
            let addr_of = |id: &str| datanodes.get(id).map(|d| d.addr.clone());
            let writer = match (&r.writer, client_ip) {
                (Some(w), _) => Some(w.clone()),
                (None, Some(ip)) => writer_node(&usable, addr_of, ip, rng).map(String::from),
                (None, None) => None,
            };
            let targets =
                choose_targets(&live, &[], replication as usize, writer.as_deref(), &excluded, block_size, rng);
            if targets.is_empty() {
                let why = if live.is_empty() {
                    "no datanode is alive".to_string()
                } else {
                    format!(
                        "none of the {} live datanodes{} has {block_size} bytes free",
                        live.len(),
                        if excluded.is_empty() {
                            String::new()
                        } else {
                            format!(" ({} failed this write)", excluded.len())
                        }
                    )
                };
                return Err(status(StorageError::NoSpace(format!(
                    "no datanode can take a block of {}: {why}",
                    r.path
                ))));
            }
            let id = st.ns.next_block_id();
            let (txid, _) = st.ns.execute(Op::AddBlock { path: r.path, block: id }).map_err(status)?;
            st.blocks.add_block_under_construction(id, replication);
            let locations = targets.iter().filter_map(|t| st.addr(&t.id)).collect();
            Ok::<_, Status>((txid, LocatedBlock { block: id, offset, len: 0, locations, corrupt: vec![] }))
        })()?;
        self.durable(txid).await?;
        ok(reply)
    }

    async fn abandon_block(&self, r: Request<AbandonBlockRequest>) -> std::result::Result<Response<Empty>, Status> {
        let r = r.into_inner();
        let (txid, reply) = (|| {
            let mut st = self.state_for_change()?;
            if !st.leases.holds(&r.path, &r.client) {
                return Err(not_writer(&r.path, &r.client));
            }
            st.leases.renew(&r.client, Instant::now());
            let (txid, removed) = st.ns.execute(Op::AbandonBlock { path: r.path, block: r.block }).map_err(status)?;
            st.forget_blocks(removed);
            Ok::<_, Status>((txid, Empty {}))
        })()?;
        self.durable(txid).await?;
        ok(reply)
    }

    async fn complete(&self, r: Request<CompleteRequest>) -> std::result::Result<Response<Empty>, Status> {
        let r = r.into_inner();
        let (txid, reply) = (|| {
            let mut st = self.state_for_change()?;
            if !st.leases.holds(&r.path, &r.client) {
                return Err(not_writer(&r.path, &r.client));
            }
            let (txid, _) = st
                .ns
                .execute(Op::Complete { path: r.path.clone(), lengths: r.lengths, mtime: now_ms() })
                .map_err(status)?;
            let ids: Vec<u64> = st.ns.namespace().blocks(&r.path).map_err(status)?.iter().map(|b| b.id).collect();
            st.blocks.complete(&ids);
            st.leases.release(&r.path);
            Ok::<_, Status>((txid, Empty {}))
        })()?;
        self.durable(txid).await?;
        ok(reply)
    }

    async fn locate(&self, r: Request<PathRequest>) -> std::result::Result<Response<Located>, Status> {
        let r = r.into_inner();
        let st = self.state();
        let stat = st.ns.namespace().stat(&r.path).map_err(status)?;
        let now = Instant::now();
        let mut offset = 0;
        let mut blocks = Vec::new();
        for b in st.ns.namespace().blocks(&r.path).map_err(status)? {
            let (locations, corrupt) = st.locations(b.id, now, self.config.dead_after);
            blocks.push(LocatedBlock { block: b.id, offset, len: b.len, locations, corrupt });
            offset += b.len;
        }
        ok(Located { status: Some(stat.into()), blocks })
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
        let (txid, reply) = (|| {
            let mut st = self.state_for_change()?;
            let (txid, _) = st
                .ns
                .execute(Op::Rename { src: r.src.clone(), dst: r.dst.clone(), mtime: now_ms() })
                .map_err(status)?;
            st.leases.rename(&r.src, &r.dst);
            Ok::<_, Status>((txid, Empty {}))
        })()?;
        self.durable(txid).await?;
        ok(reply)
    }

    async fn delete(&self, r: Request<DeleteRequest>) -> std::result::Result<Response<Empty>, Status> {
        let r = r.into_inner();
        let (txid, reply) = (|| {
            let mut st = self.state_for_change()?;
            let (txid, removed) = st
                .ns
                .execute(Op::Delete { path: r.path.clone(), recursive: r.recursive, mtime: now_ms() })
                .map_err(status)?;
            st.forget_blocks(removed);
            st.leases.release_under(&r.path);
            Ok::<_, Status>((txid, Empty {}))
        })()?;
        self.durable(txid).await?;
        ok(reply)
    }

    async fn set_replication(&self, r: Request<SetReplicationRequest>) -> std::result::Result<Response<Empty>, Status> {
        let r = r.into_inner();
        if r.replication == 0 {
            return Err(status(StorageError::Invalid("replication 0 is not in 1..=512".into())));
        }
        let replication = replication_of(r.replication)?;
        let (txid, reply) = (|| {
            let mut st = self.state_for_change()?;
            let (txid, _) = st.ns.execute(Op::SetReplication { path: r.path.clone(), replication }).map_err(status)?;
            for b in st.ns.namespace().blocks(&r.path).map_err(status)? {
                st.blocks.set_target(b.id, replication);
            }
            Ok::<_, Status>((txid, Empty {}))
        })()?;
        self.durable(txid).await?;
        ok(reply)
    }

    async fn renew_lease(&self, r: Request<RenewLeaseRequest>) -> std::result::Result<Response<Empty>, Status> {
        self.state().leases.renew(&r.into_inner().client, Instant::now());
        ok(Empty {})
    }

    async fn safe_mode(&self, r: Request<SafeModeRequest>) -> std::result::Result<Response<SafeModeReply>, Status> {
        let mut st = self.state();
        match r.into_inner().action() {
            SafeModeAction::Get => {}
            SafeModeAction::Enter => {
                st.safe_mode = Some("entered by an administrator (dfsadmin -safemode leave ends it)".into());
                st.safe_mode_manual = true;
            }
            SafeModeAction::Leave => {
                st.safe_mode = None;
                st.safe_mode_manual = false;
            }
        }
        ok(SafeModeReply { reason: st.safe_mode.clone() })
    }

    async fn report(&self, _: Request<Empty>) -> std::result::Result<Response<ClusterReport>, Status> {
        let now = Instant::now();
        let st = self.state();
        let (blocks, under_replicated, corrupt, missing) = st.blocks.health();
        let (files, directories) = st.ns.namespace().counts();
        ok(ClusterReport {
            safe_mode: st.safe_mode.clone(),
            live: st.datanodes.iter().map(|(id, d)| State::node_report(id, d, &st.blocks, now)).collect(),
            dead: st.dead.iter().map(|(id, d)| State::node_report(id, d, &st.blocks, now)).collect(),
            files,
            directories,
            blocks: blocks as u64,
            under_replicated: under_replicated as u64,
            corrupt: corrupt as u64,
            missing: missing as u64,
            last_error: st.last_error.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req<T>(t: T) -> Request<T> {
        Request::new(t)
    }

    fn register(id: &str, blocks: Vec<u64>) -> RegisterRequest {
        let lens = blocks.iter().map(|_| 10).collect();
        RegisterRequest {
            id: id.into(),
            addr: id.into(),
            rack: "/r".into(),
            capacity: 1 << 30,
            free: 1 << 30,
            blocks,
            lens,
        }
    }

    #[tokio::test]
    async fn safe_mode_after_a_restart_until_blocks_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let nn = NameNodeService::open(dir.path(), NameNodeConfig::default()).unwrap();
        assert!(nn.safe_mode().is_none(), "a new namespace has no blocks to wait for");
        nn.register(req(register("dn1", vec![]))).await.unwrap();
        let create = CreateRequest {
            path: "/f".into(),
            client: "c".into(),
            owner: "o".into(),
            replication: 1,
            block_size: 0,
            overwrite: false,
        };
        nn.create(req(create)).await.unwrap();
        let add = AddBlockRequest { path: "/f".into(), client: "c".into(), writer: None, excluded: vec![] };
        let block = nn.add_block(req(add)).await.unwrap().into_inner().block;
        nn.block_received(req(BlockReceivedRequest { id: "dn1".into(), block, len: 10 })).await.unwrap();
        nn.complete(req(CompleteRequest { path: "/f".into(), client: "c".into(), lengths: vec![10] })).await.unwrap();
        drop(nn);

        let nn = NameNodeService::open(dir.path(), NameNodeConfig::default()).unwrap();
        let why = nn.safe_mode().expect("in safe mode");
        assert!(why.contains("0.0% of 1 blocks"), "{why}");
        let e = nn.mkdirs(req(PathRequest { path: "/d".into() })).await.unwrap_err();
        let e = StorageError::from(e);
        assert!(matches!(e, StorageError::SafeMode { .. }), "{e:?}");
        assert!(e.to_string().contains("changes are refused"), "{e}");
        assert_eq!(nn.stat(req(PathRequest { path: "/f".into() })).await.unwrap().into_inner().len, 10);
        // an administrator can leave (and enter) safe mode by hand
        let reply =
            NameNode::safe_mode(&nn, req(SafeModeRequest::from(SafeModeAction::Leave))).await.unwrap().into_inner();
        assert!(reply.reason.is_none());
        nn.mkdirs(req(PathRequest { path: "/by-hand".into() })).await.unwrap();
        NameNode::safe_mode(&nn, req(SafeModeRequest::from(SafeModeAction::Enter))).await.unwrap();
        nn.register(req(register("dn1", vec![block]))).await.unwrap();
        let reason = NameNode::safe_mode(&nn, req(SafeModeRequest::from(SafeModeAction::Get)))
            .await
            .unwrap()
            .into_inner()
            .reason
            .unwrap();
        assert!(reason.contains("administrator"), "a manual safe mode stays: {reason}");
        NameNode::safe_mode(&nn, req(SafeModeRequest::from(SafeModeAction::Leave))).await.unwrap();
        assert!(nn.safe_mode().is_none());
        nn.mkdirs(req(PathRequest { path: "/d".into() })).await.unwrap();
        let report = nn.report(req(Empty {})).await.unwrap().into_inner();
        assert_eq!((report.files, report.directories, report.blocks, report.live.len()), (1, 3, 1, 1));
        assert_eq!(report.under_replicated, 0);
    }
}
