//! The datanode: stores block replicas on local disk ([`blocks`]).
//! (Its RPC service, heartbeats and block reports come with the cluster.)

pub mod blocks;
