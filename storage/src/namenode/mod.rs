//! The namenode: the namespace ([`namespace`]), made durable by an edit log
//! ([`editlog`]) and checkpoint images ([`namesystem`]). (Its RPC service,
//! block map, heartbeats, placement and leases come with the cluster.)

pub mod editlog;
pub mod namespace;
pub mod namesystem;
