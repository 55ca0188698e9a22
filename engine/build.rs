//! Generates the tonic client and server of the scheduler's job progress
//! service (hiveql's own, served beside Ballista's: Ballista's job status
//! says nothing of stages) with `tonic_build::manual`: no `.proto` file,
//! no `protoc`; the prost messages are in `src/dist/progress.rs`.

use tonic_build::manual::{Builder, Method, Service};

fn main() {
    let m = "crate::dist::progress";
    let stages = Method::builder()
        .name("stages")
        .route_name("Stages")
        .input_type(format!("{m}::JobRequest"))
        .output_type(format!("{m}::JobStages"))
        .codec_path("tonic_prost::ProstCodec")
        .build();
    let service = Service::builder().name("JobProgress").package("hiveql.dist").method(stages).build();
    Builder::new().compile(&[service]);
}
