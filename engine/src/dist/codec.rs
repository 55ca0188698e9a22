//! [`HiveCodec`], the physical extension codec of hiveql's plan nodes.
//!
//! A text SerDe scan is a `DataSourceExec` over a `FileScanConfig` whose
//! source is a [`HiveTextSource`]. DataFusion's protobuf serializer handles
//! its own sources and hands any other to the extension codec, which writes
//! the file scan configuration (files, byte ranges, schema, projection,
//! limit) with DataFusion's own `FileScanExecConf` message, and the SerDe as
//! the metastore has it ([`SerdeSpec`]): the worker rebuilds the reader from
//! the same class and properties.
//!
//! Wire form: `u32` length (little-endian) of the SerDe spec as JSON, the
//! JSON, then the `FileScanExecConf` protobuf.

use std::sync::Arc;

use datafusion::common::{Result, internal_err};
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::DataFusionError;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::physical_plan::from_proto::{parse_protobuf_file_scan_config, parse_table_schema_from_proto};
use datafusion_proto::physical_plan::to_proto::serialize_file_scan_config;
use datafusion_proto::physical_plan::{
    PhysicalExtensionCodec, PhysicalPlanDecodeContext, PhysicalProtoConverterExtension,
};
use datafusion_proto::protobuf::FileScanExecConf;
use prost::Message;

use crate::serde::{SerdeSpec, TextFormat};
use crate::table::text_source::HiveTextSource;

/// Encodes and decodes hiveql's physical plan nodes.
#[derive(Debug, Default, Clone)]
pub struct HiveCodec;

fn codec_err(what: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Internal(format!("hiveql plan codec: {what}"))
}

impl PhysicalExtensionCodec for HiveCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        _inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let len = buf.get(..4).ok_or_else(|| codec_err("truncated node"))?;
        let len = u32::from_le_bytes(len.try_into().expect("4 bytes")) as usize;
        let spec = buf.get(4..4 + len).ok_or_else(|| codec_err("truncated SerDe spec"))?;
        let spec: SerdeSpec = serde_json::from_slice(spec).map_err(codec_err)?;
        let conf = FileScanExecConf::decode(&buf[4 + len..]).map_err(codec_err)?;
        let format = TextFormat::from_spec(spec)?;
        let source = HiveTextSource::new(parse_table_schema_from_proto(&conf)?, format);
        let decode_ctx = PhysicalPlanDecodeContext::new(ctx, self);
        let config = parse_protobuf_file_scan_config(&conf, &decode_ctx, proto_converter, Arc::new(source))?;
        Ok(DataSourceExec::from_data_source(config))
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        let Some(config) =
            node.downcast_ref::<DataSourceExec>().and_then(|exec| exec.data_source().downcast_ref::<FileScanConfig>())
        else {
            return internal_err!("hiveql plan codec: cannot encode {}", node.name());
        };
        let Some(source) = config.file_source().downcast_ref::<HiveTextSource>() else {
            return internal_err!("hiveql plan codec: cannot encode a {} scan", config.file_source().file_type());
        };
        let spec = serde_json::to_vec(&source.format().spec).map_err(codec_err)?;
        buf.extend_from_slice(&(spec.len() as u32).to_le_bytes());
        buf.extend_from_slice(&spec);
        serialize_file_scan_config(config, self, proto_converter)?.encode(buf).map_err(codec_err)?;
        Ok(())
    }
}
