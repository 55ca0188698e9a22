//! A block replica as it lies on disk, shared by the datanode, which
//! writes, serves and scans replicas, and the client, which reads local
//! replicas itself (short-circuit reads): the checksum format
//! ([`checksum`]) and verified reads ([`read_verified`]). Where replicas
//! live on a datanode is the datanode's business (`datanode::blocks`).

pub mod checksum;
mod replica;

pub use replica::read_verified;
