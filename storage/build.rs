//! Generates the tonic client and server code of the block store's RPC
//! services from their descriptions here with `tonic_build::manual` (no
//! `.proto` files, no `protoc`): both the namenode's control plane and the
//! datanodes' data plane carry the prost messages of `src/rpc/messages.rs`.

use tonic_build::manual::{Builder, Method, Service};

fn method(name: &str, route: &str, input: &str, output: &str, codec: &str) -> tonic_build::manual::MethodBuilder {
    Method::builder().name(name).route_name(route).input_type(input).output_type(output).codec_path(codec)
}

fn main() {
    let prost = "tonic_prost::ProstCodec";
    let m = "crate::rpc::messages";
    let mut namenode = Service::builder().name("NameNode").package("hiveql.dfs");
    for (name, route, input, output) in [
        ("register", "Register", "RegisterRequest", "Empty"),
        ("heartbeat", "Heartbeat", "HeartbeatRequest", "HeartbeatReply"),
        ("block_received", "BlockReceived", "BlockReceivedRequest", "Empty"),
        ("report_corrupt", "ReportCorrupt", "CorruptRequest", "Empty"),
        ("mkdirs", "Mkdirs", "PathRequest", "Empty"),
        ("create", "Create", "CreateRequest", "PathStatus"),
        ("add_block", "AddBlock", "AddBlockRequest", "LocatedBlock"),
        ("complete", "Complete", "CompleteRequest", "Empty"),
        ("locate", "Locate", "PathRequest", "Located"),
        ("list", "List", "PathRequest", "Listing"),
        ("stat", "Stat", "PathRequest", "PathStatus"),
        ("rename", "Rename", "RenameRequest", "Empty"),
        ("delete", "Delete", "DeleteRequest", "Empty"),
        ("abandon_block", "AbandonBlock", "AbandonBlockRequest", "Empty"),
        ("set_replication", "SetReplication", "SetReplicationRequest", "Empty"),
        ("report", "Report", "Empty", "ClusterReport"),
        ("renew_lease", "RenewLease", "RenewLeaseRequest", "Empty"),
        ("safe_mode", "SafeMode", "SafeModeRequest", "SafeModeReply"),
    ] {
        namenode =
            namenode.method(method(name, route, &format!("{m}::{input}"), &format!("{m}::{output}"), prost).build());
    }
    let datanode = Service::builder()
        .name("DataNode")
        .package("hiveql.dfs")
        .method(
            method("write_block", "WriteBlock", &format!("{m}::WritePacket"), &format!("{m}::WriteAck"), prost)
                .client_streaming()
                .build(),
        )
        .method(
            method("read_block", "ReadBlock", &format!("{m}::ReadRequest"), &format!("{m}::DataChunk"), prost)
                .server_streaming()
                .build(),
        )
        .method(
            method("local_block", "LocalBlock", &format!("{m}::ReadRequest"), &format!("{m}::LocalBlock"), prost)
                .build(),
        )
        .build();
    Builder::new().compile(&[namenode.build(), datanode]);
}
