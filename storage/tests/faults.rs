//! Faults on a real cluster in this process (a namenode and datanodes on
//! 127.0.0.1 ephemeral ports, block files on disk; a "killed" node stops
//! answering at once, in-flight calls included): datanodes dying in the
//! middle of reads and writes, full disks, writers that vanish, second
//! writers, strangers without the cluster secret, malformed requests.

#![allow(clippy::unwrap_used)] // a test (or benchmark) fails by panicking

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{data, eventually, is_block, walk};
use futures::StreamExt;
use hiveql_storage::StorageError;
use hiveql_storage::client::DfsClient;
use hiveql_storage::cluster::MiniCluster;
use hiveql_storage::datanode::DataNodeConfig;
use hiveql_storage::namenode::server::NameNodeConfig;
use hiveql_storage::rpc::messages::{ReadRequest, WritePacket};
use hiveql_storage::rpc::pool::DataNodes;
use hiveql_storage::secret::Secret;

fn config() -> NameNodeConfig {
    NameNodeConfig {
        dead_after: Duration::from_secs(2),
        monitor_interval: Duration::from_millis(200),
        lease_limit: Duration::from_secs(2),
        ..Default::default()
    }
}

fn node(i: usize) -> DataNodeConfig {
    DataNodeConfig {
        rack: format!("/r{}", i % 2),
        heartbeat_interval: Duration::from_millis(200),
        ..Default::default()
    }
}

fn index_of(c: &MiniCluster, addr: &str) -> usize {
    c.datanodes.iter().position(|d| d.addr.to_string() == addr).unwrap()
}

async fn all_blocks_at(client: &mut DfsClient, path: &str, n: usize, dead: &str) -> bool {
    let l = client.locate(path).await.unwrap();
    l.blocks.iter().all(|b| b.locations.len() == n && !b.locations.iter().any(|a| a == dead))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_datanode_dying_mid_write_does_not_fail_the_write() {
    let dir = tempfile::tempdir().unwrap();
    let c = MiniCluster::start(dir.path(), 5, config(), node).await.unwrap();
    let mut client = c.client().unwrap();
    client.block_size = 256 << 10;
    let bytes = data(1 << 20, 5);
    // the first node of a pipeline dies: the block moves to a new pipeline
    let mut w = client.create("/first", false).await.unwrap();
    w.write(Bytes::from(bytes[..300 << 10].to_vec())).await.unwrap();
    let first = w.pipeline().unwrap()[0].clone();
    c.datanodes[index_of(&c, &first)].kill();
    w.write(Bytes::from(bytes[300 << 10..].to_vec())).await.unwrap();
    w.close().await.unwrap();
    assert_eq!(client.read("/first").await.unwrap(), bytes);
    // a node further down dies: the pipeline goes on without it
    let mut w = client.create("/second", false).await.unwrap();
    w.write(Bytes::from(bytes[..100 << 10].to_vec())).await.unwrap();
    let second = w.pipeline().unwrap()[1].clone();
    c.datanodes[index_of(&c, &second)].kill();
    w.write(Bytes::from(bytes[100 << 10..].to_vec())).await.unwrap();
    w.close().await.unwrap();
    assert_eq!(client.read("/second").await.unwrap(), bytes);
    // after the dead timeout every block is back at three live replicas
    for path in ["/first", "/second"] {
        eventually("blocks back at 3 replicas", async || {
            all_blocks_at(&mut client, path, 3, &first).await && all_blocks_at(&mut client, path, 3, &second).await
        })
        .await;
        assert_eq!(client.read(path).await.unwrap(), bytes);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_datanode_dying_mid_read_does_not_fail_the_read() {
    let dir = tempfile::tempdir().unwrap();
    let c = MiniCluster::start(dir.path(), 3, config(), node).await.unwrap();
    let mut client = c.client().unwrap();
    client.block_size = 4 << 20;
    client.short_circuit = false; // streamed from the datanode, which dies mid-stream
    let bytes = data(10 << 20, 9);
    client.write("/f", Bytes::from(bytes.clone()), false).await.unwrap();
    let located = client.locate("/f").await.unwrap();
    let serving = located.blocks[0].locations[0].clone();
    let mut stream = std::pin::pin!(client.read_stream(located, 0, u64::MAX));
    let mut got = stream.next().await.unwrap().unwrap().to_vec();
    c.datanodes[index_of(&c, &serving)].kill(); // in the middle of its first block
    while let Some(chunk) = stream.next().await {
        got.extend_from_slice(&chunk.unwrap());
    }
    assert!(got == bytes, "the read returned other bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_datanode_refuses_blocks_and_the_write_moves_on() {
    let dir = tempfile::tempdir().unwrap();
    let small = 100 << 10;
    let c = MiniCluster::start(dir.path(), 3, config(), |i| DataNodeConfig {
        capacity: if i == 0 { small } else { u64::MAX },
        ..node(i)
    })
    .await
    .unwrap();
    let mut client = c.client().unwrap();
    client.block_size = 64 << 10;
    let bytes = data(1 << 20, 3);
    client.write("/f", Bytes::from(bytes.clone()), false).await.unwrap();
    assert_eq!(client.read("/f").await.unwrap(), bytes);
    let used: u64 = walk(&c.dirs[0]).iter().filter(|p| is_block(p)).map(|p| std::fs::metadata(p).unwrap().len()).sum();
    assert!(used <= small, "the full node holds {used} bytes");
    // nowhere to go: a clear error
    let dir2 = tempfile::tempdir().unwrap();
    let full =
        MiniCluster::start(dir2.path(), 2, config(), |i| DataNodeConfig { capacity: small, ..node(i) }).await.unwrap();
    let mut client = full.client().unwrap();
    client.block_size = 64 << 10;
    let e = client.write("/g", Bytes::from(bytes.clone()), false).await.unwrap_err();
    assert!(e.to_string().contains("no space"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_writer_per_file_and_a_vanished_writer_is_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let c = MiniCluster::start(dir.path(), 3, config(), node).await.unwrap();
    let mut a = c.client().unwrap();
    a.block_size = 1000;
    let mut b = c.client().unwrap();
    let bytes = data(2500, 1);
    let mut w = a.create("/open", false).await.unwrap();
    w.write(Bytes::from(bytes.clone())).await.unwrap();
    w.flush().await.unwrap(); // two blocks done, a third in flight
    let e = b.write("/open", Bytes::from_static(b"x"), true).await.unwrap_err().to_string();
    assert!(e.contains("being written by another client"), "{e}");
    // concurrent writers of different files are fine
    let (mut c1, mut c2) = (c.client().unwrap(), c.client().unwrap());
    let (r1, r2) = tokio::join!(
        c1.write("/x1", Bytes::from(data(5000, 2)), false),
        c2.write("/x2", Bytes::from(data(5000, 3)), false)
    );
    r1.unwrap();
    r2.unwrap();
    // the writer vanishes without closing: its lease expires, the file is
    // closed at its last complete block
    drop(w);
    eventually("the file recovered", async || b.stat("/open").await.is_ok_and(|s| s.len == 2000)).await;
    assert_eq!(b.read("/open").await.unwrap(), &bytes[..2000]);
    b.write("/open", Bytes::from_static(b"new"), true).await.unwrap();
    assert_eq!(b.read("/open").await.unwrap(), b"new");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_without_the_secret_or_out_of_bounds_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let c = MiniCluster::start(dir.path(), 1, config(), node).await.unwrap();
    let mut good = c.client().unwrap();
    good.replication = 1;
    good.write("/f", Bytes::from_static(b"hello"), false).await.unwrap();
    for secret in [Secret::none(), Secret::new("not-it")] {
        let mut stranger = DfsClient::new(&c.addr(), secret.clone()).unwrap();
        match stranger.stat("/f").await {
            Err(StorageError::Refused(m)) => assert!(m.contains("secret"), "{m}"),
            other => panic!("{other:?}"),
        }
        let mut dn = DataNodes::new(secret).get(&c.datanodes[0].addr.to_string()).unwrap();
        let block = good.locate("/f").await.unwrap().blocks[0].block;
        let e = dn.read_block(ReadRequest { block, offset: 0, len: 5 }).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::Unauthenticated);
    }
    let mut dn = DataNodes::new(c.secret.clone()).get(&c.datanodes[0].addr.to_string()).unwrap();
    // an unknown block
    let e = dn.read_block(ReadRequest { block: 987_654, offset: 0, len: 5 }).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::NotFound, "{e}");
    // a write that names no block
    let packets =
        futures::stream::iter(vec![WritePacket { block: 0, downstream: vec![], data: Bytes::new(), last: true }]);
    let e = dn.write_block(packets).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument, "{e}");
    // an oversized packet
    let huge = WritePacket { block: 5, downstream: vec![], data: Bytes::from(vec![0u8; 8 << 20]), last: true };
    let e = dn.write_block(futures::stream::iter(vec![huge])).await.unwrap_err();
    assert!(
        matches!(e.code(), tonic::Code::ResourceExhausted | tonic::Code::OutOfRange | tonic::Code::Internal),
        "{e}"
    );
    assert_eq!(good.read("/f").await.unwrap(), b"hello");
}
