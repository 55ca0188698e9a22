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
//! Wire form: the tag `HQL1`, a kind byte; for a text scan then `u32` length (little-endian) of the SerDe
//! spec as JSON, the JSON, then the `FileScanExecConf` protobuf. Nodes
//! without the tag are Ballista's (shuffle readers and writers), which
//! this codec hands to Ballista's own codec, both ways.

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

use crate::grouping_sets::OrderBarrierExec;
use crate::serde::{SerdeSpec, TextFormat};
use crate::table::text_source::HiveTextSource;

/// Encodes and decodes hiveql's physical plan nodes, and Ballista's.
#[derive(Debug, Default, Clone)]
pub struct HiveCodec {
    ballista: Arc<ballista_core::serde::BallistaPhysicalExtensionCodec>,
}

/// The first bytes of a node this codec wrote itself, then its kind.
const TAG: &[u8; 4] = b"HQL1";
/// A text SerDe scan (`DataSourceExec` over a [`HiveTextSource`]).
const TEXT_SCAN: u8 = 1;
/// A [`OrderBarrierExec`].
const ORDER_BARRIER: u8 = 2;

fn codec_err(what: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Internal(format!("hiveql plan codec: {what}"))
}

impl PhysicalExtensionCodec for HiveCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let Some(buf) = buf.strip_prefix(TAG) else {
            return self.ballista.try_decode(buf, inputs, ctx, proto_converter);
        };
        match buf.split_first() {
            Some((&ORDER_BARRIER, _)) => match inputs {
                [input] => Ok(Arc::new(OrderBarrierExec::new(Arc::clone(input)))),
                _ => Err(codec_err(format!("an order barrier has one input, not {}", inputs.len()))),
            },
            Some((&TEXT_SCAN, buf)) => {
                let len = buf.get(..4).ok_or_else(|| codec_err("truncated node"))?;
                let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
                let spec = buf.get(4..4 + len).ok_or_else(|| codec_err("truncated SerDe spec"))?;
                let spec: SerdeSpec = serde_json::from_slice(spec).map_err(codec_err)?;
                let conf = FileScanExecConf::decode(&buf[4 + len..]).map_err(codec_err)?;
                let format = TextFormat::from_spec(spec)?;
                let source = HiveTextSource::new(parse_table_schema_from_proto(&conf)?, format);
                let decode_ctx = PhysicalPlanDecodeContext::new(ctx, self);
                let config = parse_protobuf_file_scan_config(&conf, &decode_ctx, proto_converter, Arc::new(source))?;
                Ok(DataSourceExec::from_data_source(config))
            }
            Some((kind, _)) => Err(codec_err(format!("unknown node kind {kind}"))),
            None => Err(codec_err("empty node")),
        }
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        if node.downcast_ref::<OrderBarrierExec>().is_some() {
            buf.extend_from_slice(TAG);
            buf.push(ORDER_BARRIER);
            return Ok(());
        }
        let Some(config) =
            node.downcast_ref::<DataSourceExec>().and_then(|exec| exec.data_source().downcast_ref::<FileScanConfig>())
        else {
            return self.ballista.try_encode(node, buf, proto_converter);
        };
        let Some(source) = config.file_source().downcast_ref::<HiveTextSource>() else {
            return internal_err!("hiveql plan codec: cannot encode a {} scan", config.file_source().file_type());
        };
        let spec = serde_json::to_vec(&source.format().spec).map_err(codec_err)?;
        buf.extend_from_slice(TAG);
        buf.push(TEXT_SCAN);
        buf.extend_from_slice(&(spec.len() as u32).to_le_bytes());
        buf.extend_from_slice(&spec);
        serialize_file_scan_config(config, self, proto_converter)?.encode(buf).map_err(codec_err)?;
        Ok(())
    }
}
