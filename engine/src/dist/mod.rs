//! What distributed execution needs from the engine: plans that travel.
//! [`codec::HiveCodec`] encodes hiveql's own plan nodes (the text SerDe
//! scan) so a scheduler can ship them to workers.

pub mod codec;
