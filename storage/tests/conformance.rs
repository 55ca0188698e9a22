//! `object_store`'s own conformance suite (its `integration` feature) run
//! against `DfsObjectStore` on a live cluster: a namenode and three
//! datanodes on 127.0.0.1 ephemeral ports with real block files.

#![allow(clippy::unwrap_used)] // a test (or benchmark) fails by panicking

use hiveql_storage::cluster::MiniCluster;
use object_store::integration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dfs_object_store_passes_the_object_store_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = MiniCluster::start_small(dir.path(), 3).await.unwrap();
    let store = cluster.store().unwrap();
    integration::put_get_delete_list(&store).await;
    integration::get_opts(&store).await;
    integration::list_uses_directories_correctly(&store).await;
    integration::list_with_delimiter(&store).await;
    integration::rename_and_copy(&store).await;
    integration::copy_if_not_exists(&store).await;
    integration::copy_rename_nonexistent_object(&store).await;
    integration::stream_get(&store).await;
    integration::get_nonexistent_object(&store, None).await.unwrap_err();
    integration::put_opts(&store, false).await;
    integration::list_with_offset_exclusivity(&store).await;
    integration::multipart_out_of_order(&store).await;
    integration::multipart(&store, &store).await;
    integration::multipart_race_condition(&store, true).await;
}
