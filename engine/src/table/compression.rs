//! Compressed text files, recognised by extension as Hadoop's codecs name
//! them: `.gz` (GzipCodec), `.bz2` (BZip2Codec), `.zst` (ZStandardCodec),
//! `.deflate` (DefaultCodec: a zlib stream), `.xz`. A compressed file is
//! read whole, as one split, and decompressed as it streams in.

use bytes::Bytes;
use datafusion::common::Result;
use datafusion::error::DataFusionError;
use datafusion_datasource::file_compression_type::FileCompressionType;
use flate2::{Decompress, FlushDecompress, Status};
use futures::StreamExt;
use futures::stream::BoxStream;

/// The compression of a text file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Compression {
    /// One of the codecs DataFusion decodes (or none).
    DataFusion(FileCompressionType),
    /// Hadoop's DefaultCodec: zlib-wrapped deflate.
    Deflate,
}

impl Compression {
    /// The compression of the file at `path`, from its extension.
    pub fn of(path: &str) -> Compression {
        let lower = path.to_ascii_lowercase();
        Compression::DataFusion(if lower.ends_with(".gz") {
            FileCompressionType::GZIP
        } else if lower.ends_with(".deflate") {
            return Compression::Deflate;
        } else if lower.ends_with(".bz2") {
            FileCompressionType::BZIP2
        } else if lower.ends_with(".zst") {
            FileCompressionType::ZSTD
        } else if lower.ends_with(".xz") {
            FileCompressionType::XZ
        } else {
            FileCompressionType::UNCOMPRESSED
        })
    }

    pub fn is_compressed(&self) -> bool {
        match self {
            Compression::DataFusion(t) => t.is_compressed(),
            Compression::Deflate => true,
        }
    }

    /// The decompressed bytes of `stream`.
    pub fn decode(&self, stream: BoxStream<'static, Result<Bytes>>) -> Result<BoxStream<'static, Result<Bytes>>> {
        match self {
            Compression::DataFusion(t) => t.convert_stream(stream),
            Compression::Deflate => Ok(inflate(stream)),
        }
    }
}

/// Inflate a zlib stream chunk by chunk.
fn inflate(stream: BoxStream<'static, Result<Bytes>>) -> BoxStream<'static, Result<Bytes>> {
    let state = (stream, Decompress::new(true), false);
    futures::stream::unfold(state, |(mut input, mut z, mut done)| async move {
        loop {
            if done {
                return None;
            }
            let chunk = match input.next().await {
                Some(Ok(c)) => c,
                Some(Err(e)) => return Some((Err(e), (input, z, true))),
                None => {
                    done = true;
                    Bytes::new()
                }
            };
            let mut out = Vec::with_capacity(chunk.len() * 4 + 64);
            let mut pos = 0;
            loop {
                if out.len() == out.capacity() {
                    out.reserve(out.capacity().max(64 << 10));
                }
                let (in_before, out_before) = (z.total_in(), out.len());
                let flush = if done { FlushDecompress::Finish } else { FlushDecompress::None };
                let status = match z.decompress_vec(&chunk[pos..], &mut out, flush) {
                    Ok(s) => s,
                    Err(e) => {
                        let err = DataFusionError::Execution(format!("corrupt .deflate data: {e}"));
                        return Some((Err(err), (input, z, true)));
                    }
                };
                pos += (z.total_in() - in_before) as usize;
                if status == Status::StreamEnd {
                    done = true;
                    break;
                }
                let room_left = out.len() < out.capacity();
                let stuck = z.total_in() == in_before && out.len() == out_before;
                if room_left && (pos >= chunk.len() || stuck) {
                    break;
                }
            }
            if !out.is_empty() {
                return Some((Ok(Bytes::from(out)), (input, z, done)));
            }
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;
    use std::io::Write;

    #[tokio::test]
    async fn inflates_zlib_streams_in_any_chunking() {
        let text: Vec<u8> = (0..50_000).flat_map(|i| format!("line {i}\n").into_bytes()).collect();
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&text).unwrap();
        let compressed = enc.finish().unwrap();
        for chunk in [1, 7, 4096, 1 << 20] {
            let parts: Vec<Result<Bytes>> = compressed.chunks(chunk).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
            let out: Vec<Bytes> = Compression::of("x.deflate")
                .decode(futures::stream::iter(parts).boxed())
                .unwrap()
                .try_collect()
                .await
                .unwrap();
            assert_eq!(out.concat(), text, "chunk {chunk}");
        }
    }
}
