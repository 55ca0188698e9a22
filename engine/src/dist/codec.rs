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
//! A [`BucketAlignedExec`] carries its table's name and its hash keys as
//! DataFusion's `PhysicalExprNode`s.
//!
//! A [`WriteTaskExec`] (the writer tasks of INSERT, CTAS and INSERT
//! OVERWRITE DIRECTORY) carries its staging directory, the format and,
//! for a partitioned or bucketed write, how it splits its rows.
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
use datafusion::logical_expr::ScalarUDF;
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::physical_plan::from_proto::{parse_protobuf_file_scan_config, parse_table_schema_from_proto};
use datafusion_proto::physical_plan::to_proto::serialize_file_scan_config;
use datafusion_proto::physical_plan::{
    PhysicalExtensionCodec, PhysicalPlanDecodeContext, PhysicalProtoConverterExtension,
};
use datafusion_proto::protobuf::{FileScanExecConf, PhysicalExprNode};
use prost::Message;

use crate::bucket::aligned::BucketAlignedExec;
use crate::bucket::{BucketNumber, BucketingVersion};
use crate::grouping_sets::OrderBarrierExec;
use crate::location::Location;
use crate::serde::{SerdeSpec, TableFormat, TextFormat};
use crate::table::text_source::HiveTextSource;
use crate::table::write_task::WriteTaskExec;
use crate::table::writer::SplitWrite;

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
/// A [`WriteTaskExec`]: then the [`WriteSpec`] as JSON.
const WRITE_TASK: u8 = 3;
/// A [`BucketAlignedExec`]: then `u32` length and the table's name, then
/// its key expressions as length-delimited `PhysicalExprNode`s.
const BUCKET_ALIGNED: u8 = 4;

/// Where and how a [`WriteTaskExec`] writes, on the wire.
#[derive(serde::Serialize, serde::Deserialize)]
struct WriteSpec {
    /// The staging directory, as a location URL.
    staging: String,
    /// The text SerDe, or none for Parquet.
    serde: Option<SerdeSpec>,
    /// How a partitioned or bucketed write splits its rows.
    #[serde(default)]
    split: Option<SplitWrite>,
}

fn codec_err(what: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Internal(format!("hiveql plan codec: {what}"))
}

/// `bytes` after their length (`u32`, little-endian).
fn put_length_prefixed(buf: &mut Vec<u8>, bytes: &[u8]) {
    buf.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    buf.extend_from_slice(bytes);
}

/// The bytes [`put_length_prefixed`] wrote at the start of `buf`, and what follows them.
fn length_prefixed(buf: &[u8]) -> Result<(&[u8], &[u8])> {
    let len = buf.get(..4).ok_or_else(|| codec_err("truncated node"))?;
    let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
    let bytes = buf.get(4..).and_then(|b| b.get(..len)).ok_or_else(|| codec_err("truncated node"))?;
    Ok((bytes, &buf[4 + len..]))
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
            // a shuffle read after a rerun may list a map output twice
            return self.ballista.try_decode(buf, inputs, ctx, proto_converter).map(super::rerun::read_once);
        };
        match buf.split_first() {
            Some((&ORDER_BARRIER, _)) => match inputs {
                [input] => Ok(Arc::new(OrderBarrierExec::new(Arc::clone(input)))),
                _ => Err(codec_err(format!("an order barrier has one input, not {}", inputs.len()))),
            },
            Some((&WRITE_TASK, buf)) => {
                let spec: WriteSpec = serde_json::from_slice(buf).map_err(codec_err)?;
                let format = match spec.serde {
                    Some(serde) => TableFormat::Text(TextFormat::from_spec(serde)?),
                    None => TableFormat::Parquet,
                };
                let staging = Location::parse(&spec.staging)?;
                match inputs {
                    [input] => {
                        let exec = WriteTaskExec::new(Arc::clone(input), staging, format);
                        Ok(Arc::new(match spec.split {
                            Some(split) => exec.with_split(split),
                            None => exec,
                        }))
                    }
                    _ => Err(codec_err(format!("a write task has one input, not {}", inputs.len()))),
                }
            }
            Some((&BUCKET_ALIGNED, buf)) => {
                let [input] = inputs else {
                    return Err(codec_err(format!("a bucket-aligned input has one input, not {}", inputs.len())));
                };
                let (table, mut rest) = length_prefixed(buf)?;
                let table = String::from_utf8(table.to_vec()).map_err(codec_err)?;
                let decode_ctx = PhysicalPlanDecodeContext::new(ctx, self);
                let schema = input.schema();
                let mut keys = Vec::new();
                while !rest.is_empty() {
                    let node = PhysicalExprNode::decode_length_delimited(&mut rest).map_err(codec_err)?;
                    keys.push(proto_converter.proto_to_physical_expr(&node, &schema, &decode_ctx)?);
                }
                Ok(Arc::new(BucketAlignedExec::new(Arc::clone(input), keys, table)))
            }
            Some((&TEXT_SCAN, buf)) => {
                let (spec, conf) = length_prefixed(buf)?;
                let spec: SerdeSpec = serde_json::from_slice(spec).map_err(codec_err)?;
                let conf = FileScanExecConf::decode(conf).map_err(codec_err)?;
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

    /// `__hive_bucket` carries its parameters (its hash version and bucket
    /// count): one byte, 1 or 2, then the count as `u32`. Every other
    /// function is found by name in the registry of the side decoding.
    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        if let Some(bucket) = (node.inner().as_ref() as &dyn std::any::Any).downcast_ref::<BucketNumber>() {
            let (version, buckets) = bucket.parameters();
            buf.push(match version {
                BucketingVersion::V1 => 1,
                BucketingVersion::V2 => 2,
            });
            buf.extend_from_slice(&buckets.to_le_bytes());
        }
        Ok(())
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        match (name, buf) {
            (BucketNumber::NAME, [version, b0, b1, b2, b3]) => {
                let version = match version {
                    1 => BucketingVersion::V1,
                    2 => BucketingVersion::V2,
                    other => return Err(codec_err(format!("unknown bucketing version {other}"))),
                };
                Ok(BucketNumber::udf(version, u32::from_le_bytes([*b0, *b1, *b2, *b3])))
            }
            _ => Err(codec_err(format!("no function {name} with a {}-byte definition", buf.len()))),
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
        if let Some(aligned) = node.downcast_ref::<BucketAlignedExec>() {
            buf.extend_from_slice(TAG);
            buf.push(BUCKET_ALIGNED);
            put_length_prefixed(buf, aligned.table().as_bytes());
            for key in aligned.keys() {
                proto_converter.physical_expr_to_proto(key, self)?.encode_length_delimited(buf).map_err(codec_err)?;
            }
            return Ok(());
        }
        if let Some(write) = node.downcast_ref::<WriteTaskExec>() {
            let serde = match write.format() {
                TableFormat::Text(text) => Some(text.spec.clone()),
                TableFormat::Parquet => None,
            };
            let spec = WriteSpec { staging: write.staging().to_string(), serde, split: write.split() };
            buf.extend_from_slice(TAG);
            buf.push(WRITE_TASK);
            serde_json::to_writer(&mut *buf, &spec).map_err(codec_err)?;
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
        put_length_prefixed(buf, &spec);
        serialize_file_scan_config(config, self, proto_converter)?.encode(buf).map_err(codec_err)?;
        Ok(())
    }
}
