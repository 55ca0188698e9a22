//! Line-oriented decoding shared by every text SerDe: the bytes of a file (or
//! of a split of it) are cut into lines, header and footer lines are dropped,
//! and each record goes to the SerDe's [`RowParser`], which appends one row
//! to the column builders. [`LineDecoder`] is a DataFusion [`Decoder`], so a
//! scan feeds it with DataFusion's own `deserialize_stream`.

use std::collections::VecDeque;
use std::fmt;

use datafusion::arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;
use datafusion_datasource::decoder::Decoder;

use super::builder::ColumnBuilder;
use crate::error::Result;

/// Where the bytes being decoded come from, for error messages.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub path: String,
    /// Byte offset of the split in the file (0: lines are numbered from the file's start).
    pub offset: u64,
}

impl Origin {
    /// "file F, line N" (or "line N of the split at byte B" for a split inside the file).
    pub fn describe(&self, line: u64) -> String {
        if self.offset == 0 {
            format!("file {}, line {line}", self.path)
        } else {
            format!("file {}, line {line} of the split starting at byte {}", self.path, self.offset)
        }
    }
}

/// A SerDe's reader of one record.
pub trait RowParser: Send + fmt::Debug {
    /// Append one row for `record` (a line without its line break, `\r`
    /// removed) to `builders`, the builders of the projected columns.
    /// `line` numbers the record for error messages.
    fn row(&mut self, record: &[u8], builders: &mut [ColumnBuilder], origin: &Origin, line: u64) -> Result<()>;

    /// Whether `record` is a whole record; if not, the next line is appended
    /// to it (after a `\n`) before it is parsed. Formats with quoted line
    /// breaks (CSV) say no while a quote is open.
    fn complete(&self, _record: &[u8]) -> bool {
        true
    }
}

/// Decodes lines into record batches of the projected columns with a [`RowParser`].
#[derive(Debug)]
pub struct LineDecoder {
    parser: Box<dyn RowParser>,
    schema: SchemaRef,
    builders: Vec<ColumnBuilder>,
    rows: usize,
    batch_size: usize,
    /// The start of a line whose line break has not been seen yet.
    partial: Vec<u8>,
    /// A record that spans lines, gathered until the parser calls it complete.
    record: Vec<u8>,
    in_record: bool,
    header_left: usize,
    skip_footer: usize,
    /// Records held back while `skip.footer.line.count` may still drop them.
    footer: VecDeque<(Vec<u8>, u64)>,
    origin: Origin,
    line_no: u64,
    error: Option<ArrowError>,
}

impl LineDecoder {
    /// A decoder of rows of `schema` (the projected columns) that drops the
    /// first `skip_header` and the last `skip_footer` records.
    pub fn new(
        parser: Box<dyn RowParser>,
        schema: SchemaRef,
        batch_size: usize,
        skip_header: usize,
        skip_footer: usize,
        origin: Origin,
    ) -> Result<Self> {
        let builders =
            schema.fields().iter().map(|f| ColumnBuilder::new(f.data_type(), batch_size)).collect::<Result<_>>()?;
        Ok(LineDecoder {
            parser,
            schema,
            builders,
            rows: 0,
            batch_size,
            partial: Vec::new(),
            record: Vec::new(),
            in_record: false,
            header_left: skip_header,
            skip_footer,
            footer: VecDeque::new(),
            origin,
            line_no: 0,
            error: None,
        })
    }

    fn take_record(&mut self, record: &[u8], line: u64) {
        if self.header_left > 0 {
            self.header_left -= 1;
            return;
        }
        if self.skip_footer > 0 {
            self.footer.push_back((record.to_vec(), line));
            if self.footer.len() <= self.skip_footer {
                return;
            }
            if let Some((held, line)) = self.footer.pop_front() {
                self.parse(&held, line);
            }
        } else {
            self.parse(record, line);
        }
    }

    fn parse(&mut self, record: &[u8], line: u64) {
        let record = record.strip_suffix(b"\r").unwrap_or(record);
        match self.parser.row(record, &mut self.builders, &self.origin, line) {
            Ok(()) => self.rows += 1,
            Err(e) => {
                if self.error.is_none() {
                    self.error = Some(ArrowError::ExternalError(Box::new(e)));
                }
            }
        }
    }

    /// Take a whole line (without its `\n`); records that span lines are
    /// gathered in `record` first.
    fn line(&mut self, line: &[u8]) {
        self.line_no += 1;
        if !self.in_record {
            if self.parser.complete(line) {
                let n = self.line_no;
                self.take_record(line, n);
            } else {
                self.record.extend_from_slice(line);
                self.in_record = true;
            }
            return;
        }
        self.record.push(b'\n');
        self.record.extend_from_slice(line);
        if self.parser.complete(&self.record) {
            self.end_record();
        }
    }

    fn end_record(&mut self) {
        let rec = std::mem::take(&mut self.record);
        let n = self.line_no;
        self.take_record(&rec, n);
        self.in_record = false;
    }
}

impl Decoder for LineDecoder {
    fn decode(&mut self, buf: &[u8]) -> Result<usize, ArrowError> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if buf.is_empty() {
            // End of input: the last line may lack its line break, a record its closing quote.
            if !self.partial.is_empty() {
                let line = std::mem::take(&mut self.partial);
                self.line(&line);
            }
            if self.in_record {
                self.end_record();
            }
            return match self.error.take() {
                Some(e) => Err(e),
                None => Ok(0),
            };
        }
        if self.rows >= self.batch_size {
            return Ok(0);
        }
        let mut pos = 0;
        if !self.partial.is_empty() {
            match memchr::memchr(b'\n', buf) {
                Some(i) => {
                    let mut line = std::mem::take(&mut self.partial);
                    line.extend_from_slice(&buf[..i]);
                    self.line(&line);
                    line.clear();
                    self.partial = line;
                    pos = i + 1;
                }
                None => {
                    self.partial.extend_from_slice(buf);
                    return Ok(buf.len());
                }
            }
        }
        while self.rows < self.batch_size && self.error.is_none() {
            match memchr::memchr(b'\n', &buf[pos..]) {
                Some(i) => {
                    self.line(&buf[pos..pos + i]);
                    pos += i + 1;
                }
                None => {
                    self.partial.extend_from_slice(&buf[pos..]);
                    pos = buf.len();
                    break;
                }
            }
        }
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        Ok(pos)
    }

    fn flush(&mut self) -> Result<Option<RecordBatch>, ArrowError> {
        if self.rows == 0 {
            return Ok(None);
        }
        let columns: Vec<ArrayRef> = self.builders.iter_mut().map(|b| b.finish()).collect();
        let options = RecordBatchOptions::new().with_row_count(Some(self.rows));
        self.rows = 0;
        RecordBatch::try_new_with_options(self.schema.clone(), columns, &options).map(Some)
    }

    fn can_flush_early(&self) -> bool {
        self.rows >= self.batch_size
    }
}
