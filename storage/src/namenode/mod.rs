//! The namenode: the namespace ([`namespace`]), made durable by an edit log
//! ([`editlog`]) and checkpoint images ([`namesystem`]); the block map built
//! from block reports ([`blockmap`]); replica placement ([`placement`]);
//! write leases ([`lease`]). (Its RPC service and the heartbeat monitor come
//! with the cluster.)

pub mod blockmap;
pub mod editlog;
pub mod lease;
pub mod namespace;
pub mod namesystem;
pub mod placement;
