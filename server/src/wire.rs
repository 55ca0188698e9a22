//! Rows on the wire: a statement's Arrow batches as `DataRow`s in the
//! formats the client asked for, or as `COPY ... TO STDOUT` data.
//!
//! Types map as PostgreSQL clients expect (see the README's table): Hive's
//! integers, floats, DECIMAL, strings, BOOLEAN, DATE, TIMESTAMP, BINARY and
//! arrays of those through `arrow-pg`; CHAR(n) and VARCHAR(n) as bpchar and
//! varchar; MAP, STRUCT, UNIONTYPE and arrays of them as `json` text in the
//! form the Hive CLI prints. Batches are encoded as the client reads them,
//! so a result is never held whole in memory.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use arrow_pg::datatypes::field_into_pg_type;
use bytes::{Buf, Bytes};
use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::execution::SendableRecordBatchStream;
use futures::{Stream, StreamExt, stream};
use hiveql_engine::types::TextLimit;
use pgwire::api::Type;
use pgwire::api::portal::Format;
use pgwire::api::results::{CopyResponse, FieldInfo, QueryResponse};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::copy::CopyData;
use pgwire::messages::data::DataRow;

use crate::cancel::{Armed, Stop};
use crate::encode::RowWriter;
use crate::error::datafusion_error;

/// Whether arrow-pg cannot put this type on the wire, so it goes as JSON text.
fn as_json(dt: &DataType) -> bool {
    match dt {
        DataType::Map(..) | DataType::Struct(_) | DataType::Union(..) => true,
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            matches!(f.data_type(), DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..))
                || as_json(f.data_type())
        }
        _ => false,
    }
}

/// How the columns of a result travel: the schema as sent (JSON columns
/// as strings) and each column's PostgreSQL type.
#[derive(Debug, Clone)]
pub struct WireSchema {
    schema: SchemaRef,
    json: Vec<bool>,
    /// Columns cast before encoding (TINYINT goes as int2, which arrow-pg
    /// would write in binary as one byte).
    casts: Vec<Option<DataType>>,
    /// CHAR(n) columns: padded with spaces to n characters, as PostgreSQL
    /// sends bpchar and the Hive CLI prints CHAR.
    pads: Vec<Option<usize>>,
    types: Vec<Type>,
}

/// The type a column is cast to before arrow-pg encodes it, if any.
fn wire_cast(dt: &DataType) -> Option<DataType> {
    match dt {
        DataType::Int8 => Some(DataType::Int16),
        DataType::List(f) => {
            wire_cast(f.data_type()).map(|t| DataType::List(Arc::new(Field::new(f.name(), t, f.is_nullable()))))
        }
        _ => None,
    }
}

impl WireSchema {
    pub fn new(schema: &Schema) -> PgWireResult<WireSchema> {
        let mut fields = Vec::with_capacity(schema.fields().len());
        let mut json = Vec::new();
        let mut casts = Vec::new();
        let mut types = Vec::new();
        let mut pads = Vec::new();
        for f in schema.fields() {
            if as_json(f.data_type()) {
                fields.push(Arc::new(Field::new(f.name(), DataType::Utf8, true)));
                json.push(true);
                casts.push(None);
                pads.push(None);
                types.push(Type::JSON);
                continue;
            }
            let mut cast = wire_cast(f.data_type());
            let limit = TextLimit::of(f);
            let pad = limit.filter(|l| l.char).map(|l| l.length);
            if pad.is_some() {
                cast = Some(DataType::Utf8);
            }
            pads.push(pad);
            let ty = match limit {
                Some(l) if l.char => Type::BPCHAR,
                Some(_) => Type::VARCHAR,
                None => match field_into_pg_type(f)? {
                    // pg_catalog's names of functions (`typinput`): an oid type in
                    // PostgreSQL, whose binary form is the oid (pgjdbc asks for it);
                    // the text is all there is here
                    Type::REGPROC | Type::REGPROCEDURE | Type::REGCLASS | Type::REGTYPE | Type::REGNAMESPACE
                        if matches!(f.data_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) =>
                    {
                        Type::TEXT
                    }
                    // pg_class.reltype, relnamespace, ...: the oid itself (PostgreSQL would
                    // print the name), so as `oid`, which every driver knows; pgjdbc looks an
                    // unknown type up with a query of its own
                    Type::REGPROC
                    | Type::REGPROCEDURE
                    | Type::REGCLASS
                    | Type::REGTYPE
                    | Type::REGNAMESPACE
                    | Type::REGOPER
                    | Type::REGOPERATOR
                    | Type::REGROLE
                    | Type::REGCONFIG => Type::OID,
                    ty => ty,
                },
            };
            match &cast {
                Some(t) => fields.push(Arc::new(f.as_ref().clone().with_data_type(t.clone()))),
                None => fields.push(f.clone()),
            }
            json.push(false);
            casts.push(cast);
            types.push(ty);
        }
        Ok(WireSchema { schema: Arc::new(Schema::new(fields)), json, casts, pads, types })
    }

    /// The RowDescription of the result in `format`.
    pub fn fields(&self, format: &Format) -> Vec<FieldInfo> {
        self.schema
            .fields()
            .iter()
            .zip(&self.types)
            .enumerate()
            .map(|(i, (f, ty))| FieldInfo::new(f.name().clone(), None, None, ty.clone(), format.format_for(i)))
            .collect()
    }

    /// A batch as sent: JSON columns rendered.
    fn convert(&self, batch: RecordBatch) -> PgWireResult<RecordBatch> {
        let arrow = |e: datafusion::arrow::error::ArrowError| datafusion_error(&e.into());
        if !self.json.iter().any(|j| *j) && self.casts.iter().all(Option::is_none) {
            return Ok(batch);
        }
        let columns = batch
            .columns()
            .iter()
            .zip(self.json.iter().zip(&self.casts).zip(&self.pads))
            .map(|(c, ((json, cast), pad))| {
                if *json {
                    let text: StringArray = (0..c.len())
                        .map(|row| {
                            c.is_valid(row).then(|| {
                                let mut json = String::new();
                                hiveql_engine::value::write_json_value(c.as_ref(), row, &mut json);
                                json
                            })
                        })
                        .collect();
                    Ok(Arc::new(text) as ArrayRef)
                } else if let Some(n) = pad {
                    let text = datafusion::arrow::compute::cast(c, &DataType::Utf8).map_err(arrow)?;
                    let text = datafusion::common::cast::as_string_array(&text).map_err(|e| datafusion_error(&e))?;
                    let padded: StringArray = text.iter().map(|v| v.map(|v| format!("{v:<n$}"))).collect();
                    Ok(Arc::new(padded) as ArrayRef)
                } else if let Some(t) = cast {
                    datafusion::arrow::compute::cast(c, t).map_err(arrow)
                } else {
                    Ok(c.clone())
                }
            })
            .collect::<PgWireResult<Vec<ArrayRef>>>()?;
        RecordBatch::try_new(self.schema.clone(), columns).map_err(arrow)
    }
}

/// A statement's batches, ended early by a cancel of its connection or its
/// time limit.
struct Cancellable {
    inner: Option<SendableRecordBatchStream>,
    cancel: Pin<Box<dyn Future<Output = Stop> + Send>>,
}

impl Stream for Cancellable {
    type Item = PgWireResult<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let Some(inner) = self.inner.as_mut() else { return Poll::Ready(None) };
        let polled = inner.poll_next_unpin(cx);
        if let Poll::Ready(item) = polled {
            return Poll::Ready(item.map(|r| r.map_err(|e| datafusion_error(&e))));
        }
        if let Poll::Ready(stop) = self.cancel.as_mut().poll(cx) {
            // dropping the stream stops the plan (and a cluster job)
            self.inner = None;
            return Poll::Ready(Some(Err(stop.error())));
        }
        Poll::Pending
    }
}

fn cancellable(stream: SendableRecordBatchStream, armed: Armed) -> Cancellable {
    Cancellable { inner: Some(stream), cancel: Box::pin(async move { armed.wait().await }) }
}

/// A statement's rows as a query response in `format`.
pub fn query_response(stream: SendableRecordBatchStream, format: &Format, armed: Armed) -> PgWireResult<QueryResponse> {
    let wire = WireSchema::new(&stream.schema())?;
    let fields = Arc::new(wire.fields(format));
    let mut writer = RowWriter::new(fields.clone());
    let rows = cancellable(stream, armed).map(move |batch| stream::iter(rows_of(batch, &wire, &mut writer))).flatten();
    Ok(QueryResponse::new(fields, rows))
}

/// The rows of one batch of a result, or its error.
fn rows_of(batch: PgWireResult<RecordBatch>, wire: &WireSchema, writer: &mut RowWriter) -> Vec<PgWireResult<DataRow>> {
    match batch.and_then(|b| wire.convert(b)).and_then(|b| writer.rows(&b)) {
        Ok(rows) => rows.into_iter().map(Ok).collect(),
        Err(e) => vec![Err(e)],
    }
}

/// Options of `COPY ... TO STDOUT`.
#[derive(Debug, Clone)]
pub struct CopyFormat {
    pub csv: bool,
    pub header: bool,
    pub delimiter: String,
    pub null: String,
}

impl CopyFormat {
    pub fn of(c: &crate::route::CopyOut) -> CopyFormat {
        CopyFormat {
            csv: c.csv,
            header: c.header,
            delimiter: c.delimiter.clone().unwrap_or_else(|| if c.csv { ",".into() } else { "\t".into() }),
            null: c.null.clone().unwrap_or_else(|| if c.csv { String::new() } else { "\\N".into() }),
        }
    }

    fn field(&self, value: Option<&[u8]>, out: &mut Vec<u8>) {
        let Some(v) = value else {
            out.extend_from_slice(self.null.as_bytes());
            return;
        };
        let delim = self.delimiter.as_bytes();
        if self.csv {
            let needs_quotes = v.is_empty()
                || v.iter().any(|b| matches!(b, b'"' | b'\n' | b'\r'))
                || v.windows(delim.len().max(1)).any(|w| w == delim)
                || v == self.null.as_bytes();
            if needs_quotes {
                out.push(b'"');
                for b in v {
                    if *b == b'"' {
                        out.push(b'"');
                    }
                    out.push(*b);
                }
                out.push(b'"');
            } else {
                out.extend_from_slice(v);
            }
        } else {
            // runs without a byte to escape are copied whole
            let special = |b: &u8| matches!(b, b'\\' | b'\n' | b'\r' | b'\t') || (delim.len() == 1 && *b == delim[0]);
            let mut rest = v;
            while let Some(at) = rest.iter().position(special) {
                out.extend_from_slice(&rest[..at]);
                match rest[at] {
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    b => out.extend_from_slice(&[b'\\', b]),
                }
                rest = &rest[at + 1..];
            }
            out.extend_from_slice(rest);
        }
    }

    /// One line of COPY data from a text-format DataRow, written at the end
    /// of `out`.
    fn line(&self, row: &DataRow, out: &mut Vec<u8>) {
        let mut data = &row.data[..];
        for i in 0..row.field_count {
            if i > 0 {
                out.extend_from_slice(self.delimiter.as_bytes());
            }
            let len = if data.remaining() >= 4 { data.get_i32() } else { -1 };
            if len < 0 {
                self.field(None, out);
            } else {
                let len = (len as usize).min(data.len());
                self.field(Some(&data[..len]), out);
                data.advance(len);
            }
        }
        out.push(b'\n');
    }
}

/// A statement's rows as `COPY ... TO STDOUT` data, one message a row.
pub fn copy_response(
    stream: SendableRecordBatchStream,
    format: CopyFormat,
    armed: Armed,
) -> PgWireResult<CopyResponse> {
    let wire = WireSchema::new(&stream.schema())?;
    let columns = wire.types.len();
    let fields = Arc::new(wire.fields(&Format::UnifiedText));
    let header = format.header.then(|| {
        let mut out = Vec::new();
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(format.delimiter.as_bytes());
            }
            format.field(Some(f.name().as_bytes()), &mut out);
        }
        out.push(b'\n');
        out
    });
    // pgwire counts the messages for the tag (`COPY n`), so the header goes in the
    // first row's message, or alone when there is no row
    let header = Arc::new(parking_lot::Mutex::new(header));
    let first = header.clone();
    let mut writer = RowWriter::new(fields);
    let rows = cancellable(stream, armed)
        .map(move |batch| {
            let rows = rows_of(batch, &wire, &mut writer);
            // a batch's lines are written into one buffer, each message a slice of it
            let mut buf = first.lock().take().unwrap_or_default();
            if rows.is_empty() {
                *first.lock() = Some(buf);
                return stream::iter(vec![]);
            }
            let size: usize =
                rows.iter().map(|r| r.as_ref().map_or(0, |r| r.data.len() + 2 * r.field_count as usize)).sum();
            buf.reserve(size);
            let mut ends = Vec::with_capacity(rows.len());
            let mut failed = None;
            for row in rows {
                match row {
                    Ok(r) => {
                        format.line(&r, &mut buf);
                        ends.push(buf.len());
                    }
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            let mut all = Bytes::from(buf);
            let mut start = 0;
            let mut messages: Vec<PgWireResult<CopyData>> = ends
                .into_iter()
                .map(|end| {
                    let line = all.split_to(end - start);
                    start = end;
                    Ok(CopyData::new(line))
                })
                .collect();
            messages.extend(failed.map(Err));
            stream::iter(messages)
        })
        .flatten();
    let alone = stream::iter([()]).filter_map(move |_| {
        let h = header.lock().take();
        async move { h.map(|h| Ok(CopyData::new(Bytes::from(h)))) }
    });
    Ok(CopyResponse::new(0, columns, rows.chain(alone)))
}

/// A one-batch result of text columns (`SHOW` of a PostgreSQL setting).
pub fn text_rows(names: &[&str], rows: Vec<Vec<Option<String>>>) -> PgWireResult<SendableRecordBatchStream> {
    let schema = Arc::new(Schema::new(names.iter().map(|n| Field::new(*n, DataType::Utf8, true)).collect::<Vec<_>>()));
    let columns: Vec<ArrayRef> = (0..names.len())
        .map(|i| Arc::new(rows.iter().map(|r| r[i].clone()).collect::<StringArray>()) as ArrayRef)
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), columns)
        .map_err(|e| datafusion_error(&datafusion::error::DataFusionError::from(e)))?;
    Ok(Box::pin(datafusion::physical_plan::stream::RecordBatchStreamAdapter::new(
        schema,
        stream::iter(vec![Ok(batch)]),
    )))
}

/// Error out of a stream of rows, as PostgreSQL's ErrorResponse.
pub fn into_info(e: PgWireError) -> Box<pgwire::error::ErrorInfo> {
    match e {
        PgWireError::UserError(info) => info,
        other => Box::new(crate::error::error_info(crate::error::code::INTERNAL_ERROR, other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy_format(csv: bool) -> CopyFormat {
        CopyFormat::of(&crate::route::CopyOut { query: String::new(), csv, header: false, delimiter: None, null: None })
    }

    #[test]
    fn copy_text_escapes_what_postgresql_escapes() {
        let f = copy_format(false);
        let mut out = Vec::new();
        f.field(Some(b"a\tb\\c\nd\re|plain"), &mut out);
        assert_eq!(out, b"a\\tb\\\\c\\nd\\re|plain");
        out.clear();
        f.field(None, &mut out);
        assert_eq!(out, b"\\N");
        let mut row = pgwire::api::results::DataRowEncoder::new(Arc::new(vec![
            FieldInfo::new("a".into(), None, None, Type::TEXT, pgwire::api::results::FieldFormat::Text),
            FieldInfo::new("b".into(), None, None, Type::TEXT, pgwire::api::results::FieldFormat::Text),
        ]));
        row.encode_field(&Some("x\ty")).unwrap();
        row.encode_field(&None::<&str>).unwrap();
        let mut line = b"header\n".to_vec();
        f.line(&row.take_row(), &mut line);
        assert_eq!(line, b"header\nx\\ty\t\\N\n");
    }

    #[test]
    fn copy_csv_quotes_what_needs_it() {
        let f = copy_format(true);
        let mut out = Vec::new();
        f.field(Some(b"say \"hi\", twice"), &mut out);
        assert_eq!(out, b"\"say \"\"hi\"\", twice\"");
        out.clear();
        f.field(Some(b""), &mut out);
        assert_eq!(out, b"\"\"");
        out.clear();
        f.field(None, &mut out);
        assert_eq!(out, b"");
    }
}
