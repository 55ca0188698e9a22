//! A real cluster on 127.0.0.1 ephemeral ports (a namenode and three
//! datanodes in this process, real block files in temporary directories):
//! files from 0 bytes to many blocks written through the pipeline and read
//! back byte-exact, whole and in random ranges, three replicas each.

#![allow(clippy::unwrap_used)] // a test (or benchmark) fails by panicking

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{data, eventually, walk};
use hiveql_storage::cluster::MiniCluster;
use hiveql_storage::datanode::DataNodeConfig;
use hiveql_storage::namenode::server::NameNodeConfig;

async fn cluster(n: usize) -> (tempfile::TempDir, MiniCluster) {
    let dir = tempfile::tempdir().unwrap();
    let config = NameNodeConfig {
        dead_after: Duration::from_secs(2),
        monitor_interval: Duration::from_millis(200),
        ..Default::default()
    };
    let c = MiniCluster::start(dir.path(), n, config, |i| DataNodeConfig {
        rack: format!("/r{}", i % 2),
        heartbeat_interval: Duration::from_millis(200),
        ..Default::default()
    })
    .await
    .unwrap();
    (dir, c)
}

fn replicas_on_disk(c: &MiniCluster, block: u64) -> usize {
    c.dirs
        .iter()
        .filter(|d| hiveql_storage::datanode::blocks::BlockStore::open_existing(d).unwrap().contains(block))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn files_of_any_size_round_trip_with_three_replicas() {
    let (_dir, c) = cluster(4).await;
    let mut client = c.client().unwrap();
    client.block_size = 1024;
    client.mkdirs("/data").await.unwrap();
    for (i, n) in [0usize, 1, 1023, 1024, 1025, 10_000, 20_000].into_iter().enumerate() {
        let path = format!("/data/f{i}");
        let bytes = data(n, i as u64 + 1);
        client.write(&path, Bytes::from(bytes.clone()), false).await.unwrap();
        assert_eq!(client.read(&path).await.unwrap(), bytes, "{n} bytes");
        let located = client.locate(&path).await.unwrap();
        assert_eq!(located.blocks.len(), n.div_ceil(1024));
        for b in &located.blocks {
            assert_eq!(b.locations.len(), 3, "block {} of {path}", b.block);
            assert_eq!(replicas_on_disk(&c, b.block), 3);
        }
        let mut seed = n as u64 + 7;
        for _ in 0..10 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let off = if n == 0 { 0 } else { (seed >> 33) as usize % n };
            let len = (seed >> 20) as usize % 3000;
            let got = client.read_range(&path, off as u64, len as u64).await.unwrap();
            assert_eq!(got, &bytes[off..(off + len).min(n)], "{path} [{off}, +{len})");
        }
    }
    let listing = client.list("/data").await.unwrap();
    assert_eq!(listing.len(), 7);
    // a second writer of an open file, an existing file, a missing path
    let e = client.write("/data/f1", Bytes::from_static(b"x"), false).await.unwrap_err().to_string();
    assert!(e.contains("exists"), "{e}");
    assert!(client.read("/nope").await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reads_fall_over_to_another_replica() {
    let (_dir, c) = cluster(3).await;
    let mut client = c.client().unwrap();
    client.block_size = 4096;
    let bytes = data(20_000, 3);
    client.write("/f", Bytes::from(bytes.clone()), false).await.unwrap();
    // one datanode dies: every block still has two live replicas
    c.datanodes[0].kill();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(client.read("/f").await.unwrap(), bytes);
    // flip a byte in every replica on a second node: checksums catch it, reads go elsewhere
    for entry in walk(&c.dirs[1]) {
        let name = entry.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("blk_") && !name.ends_with(".meta") {
            let mut raw = std::fs::read(&entry).unwrap();
            if !raw.is_empty() {
                let mid = raw.len() / 2;
                raw[mid] ^= 0xff;
                std::fs::write(&entry, raw).unwrap();
            }
        }
    }
    assert_eq!(client.read("/f").await.unwrap(), bytes);
}

/// After a datanode dies, every block gets back to three replicas on the
/// survivors; a corrupt replica a reader reported is replaced and deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lost_and_corrupt_replicas_are_replaced() {
    let (_dir, c) = cluster(5).await;
    let mut client = c.client().unwrap();
    client.block_size = 2048;
    let bytes = data(12_000, 11);
    client.write("/f", Bytes::from(bytes.clone()), false).await.unwrap();
    let before = client.locate("/f").await.unwrap();
    let victim = before.blocks[0].locations[0].clone();
    let victim_idx = c.datanodes.iter().position(|d| d.addr.to_string() == victim).unwrap();
    c.datanodes[victim_idx].kill();
    eventually("blocks back at 3 live replicas without the dead node", async || {
        let l = client.locate("/f").await.unwrap();
        l.blocks.iter().all(|b| b.locations.len() == 3 && !b.locations.contains(&victim))
    })
    .await;
    for b in &client.locate("/f").await.unwrap().blocks {
        let on_disk = c
            .dirs
            .iter()
            .enumerate()
            .filter(|(i, d)| {
                *i != victim_idx
                    && hiveql_storage::datanode::blocks::BlockStore::open_existing(d).unwrap().contains(b.block)
            })
            .count();
        assert_eq!(on_disk, 3, "block {}", b.block);
    }
    assert_eq!(client.read("/f").await.unwrap(), bytes);

    // corrupt the first block's first live replica
    let l = client.locate("/f").await.unwrap();
    let (block, holder) = (l.blocks[0].block, l.blocks[0].locations[0].clone());
    let holder_idx = c.datanodes.iter().position(|d| d.addr.to_string() == holder).unwrap();
    let store = hiveql_storage::datanode::blocks::BlockStore::open_existing(&c.dirs[holder_idx]).unwrap();
    let path = walk(&c.dirs[holder_idx])
        .into_iter()
        .find(|p| p.file_name().unwrap().to_string_lossy() == format!("blk_{block}"))
        .unwrap();
    let mut raw = std::fs::read(&path).unwrap();
    raw[10] ^= 1;
    std::fs::write(&path, raw).unwrap();
    assert!(store.read(block, 0, 100).is_err());
    // the read still returns the right bytes, and reports the bad replica
    assert_eq!(client.read("/f").await.unwrap(), bytes);
    eventually("the corrupt replica replaced by a good one elsewhere", async || {
        let l = client.locate("/f").await.unwrap();
        l.blocks[0].locations.len() == 3 && !l.blocks[0].locations.contains(&holder)
    })
    .await;
    eventually("the corrupt replica deleted", async || !store.contains(block)).await;
    assert_eq!(client.read("/f").await.unwrap(), bytes);
}
