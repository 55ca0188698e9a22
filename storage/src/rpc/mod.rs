//! The block store's RPC services over tonic (gRPC on HTTP/2): the
//! namenode's control plane and the datanodes' data plane. Generated from
//! `build.rs`; [`messages`] holds the types, [`codec`] the JSON codec of the
//! control plane.

pub mod codec;
pub mod messages;

/// The namenode service (client and server).
pub mod namenode {
    include!(concat!(env!("OUT_DIR"), "/hiveql.dfs.NameNode.rs"));
}

/// The datanode service (client and server).
pub mod datanode {
    include!(concat!(env!("OUT_DIR"), "/hiveql.dfs.DataNode.rs"));
}

/// A storage error as an RPC status (and back, by its message).
pub fn status(e: crate::StorageError) -> tonic::Status {
    use crate::StorageError::*;
    match e {
        NotFound(m) => tonic::Status::not_found(m),
        Invalid(m) => tonic::Status::invalid_argument(m),
        Namespace(m) => tonic::Status::failed_precondition(m),
        ChecksumMismatch { .. } | Corrupt(_) => tonic::Status::data_loss(e.to_string()),
        other => tonic::Status::internal(other.to_string()),
    }
}
