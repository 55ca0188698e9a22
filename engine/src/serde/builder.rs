//! Building Arrow columns from text fields.
//!
//! A [`ColumnBuilder`] takes the bytes of one field (or one element of a
//! collection) and appends the typed value, or NULL when the text does not
//! parse as the column's type (Hive's lazy deserialization). Nested values
//! are split with the delimiter of their level ([`TextContext`]).

use std::sync::Arc;

use base64::Engine;
use datafusion::arrow::array::NullBufferBuilder;
use datafusion::arrow::array::{
    ArrayRef, BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder, Float32Builder, Float64Builder,
    Int8Builder, Int16Builder, Int32Builder, Int64Builder, ListArray, MapArray, StringBuilder, StructArray,
    TimestampNanosecondBuilder,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, FieldRef, Fields, TimeUnit};

use super::parse;
use crate::error::{HiveError, Result};

/// Delimiters, escape and NULL marker of delimited text.
#[derive(Debug, Clone, Copy)]
pub struct TextContext<'a> {
    /// Separator per nesting level: 0 fields, 1 collection items, 2 map keys, then 4, 5, ...
    pub separators: &'a [u8],
    pub null: &'a [u8],
    pub escape: Option<u8>,
}

/// Text taken whole: no separators, no escapes, and nothing reads as NULL
/// (only a failed conversion does). For SerDes whose fields are already cut.
pub const WHOLE_FIELD: TextContext<'static> =
    TextContext { separators: &[], null: b"\xFF\xFFno-null\xFF", escape: None };

impl TextContext<'_> {
    /// The separator of nesting `level`.
    pub fn separator(&self, level: usize) -> u8 {
        self.separators.get(level).copied().unwrap_or((level + 1) as u8)
    }

    /// Call `f` for each part of `b` split at `sep`, honouring the escape byte.
    pub fn split(&self, b: &[u8], sep: u8, mut f: impl FnMut(&[u8])) {
        match self.escape {
            None => {
                for part in b.split(|&c| c == sep) {
                    f(part);
                }
            }
            Some(esc) => {
                let mut start = 0;
                let mut i = 0;
                while i < b.len() {
                    if b[i] == esc {
                        i += 2;
                        continue;
                    }
                    if b[i] == sep {
                        f(&b[start..i]);
                        start = i + 1;
                    }
                    i += 1;
                }
                f(&b[start.min(b.len())..]);
            }
        }
    }

    /// Remove escape bytes (`\x` -> `x`, with `\n`/`\r` meaning the control characters).
    pub fn unescape<'b>(&self, b: &'b [u8], scratch: &'b mut Vec<u8>) -> &'b [u8] {
        let Some(esc) = self.escape else { return b };
        if !b.contains(&esc) {
            return b;
        }
        scratch.clear();
        let mut i = 0;
        while i < b.len() {
            if b[i] == esc && i + 1 < b.len() {
                scratch.push(match b[i + 1] {
                    b'n' if esc == b'\\' => b'\n',
                    b'r' if esc == b'\\' => b'\r',
                    c => c,
                });
                i += 2;
            } else {
                scratch.push(b[i]);
                i += 1;
            }
        }
        scratch
    }
}

/// A growing Arrow column fed with text.
#[derive(Debug)]
pub enum ColumnBuilder {
    Boolean(BooleanBuilder),
    Int8(Int8Builder),
    Int16(Int16Builder),
    Int32(Int32Builder),
    Int64(Int64Builder),
    Float32(Float32Builder),
    Float64(Float64Builder),
    Decimal(Decimal128Builder, u8, i8),
    Utf8(StringBuilder),
    Date(Date32Builder),
    Timestamp(TimestampNanosecondBuilder),
    Binary(BinaryBuilder),
    List {
        field: FieldRef,
        offsets: Vec<i32>,
        nulls: NullBufferBuilder,
        child: Box<ColumnBuilder>,
    },
    Map {
        entries: FieldRef,
        key_value: Fields,
        offsets: Vec<i32>,
        nulls: NullBufferBuilder,
        keys: Box<ColumnBuilder>,
        values: Box<ColumnBuilder>,
    },
    Struct {
        fields: Fields,
        nulls: NullBufferBuilder,
        children: Vec<ColumnBuilder>,
        len: usize,
    },
}

impl ColumnBuilder {
    /// A builder for columns of type `dt`.
    pub fn new(dt: &DataType, capacity: usize) -> Result<Self> {
        Ok(match dt {
            DataType::Boolean => Self::Boolean(BooleanBuilder::with_capacity(capacity)),
            DataType::Int8 => Self::Int8(Int8Builder::with_capacity(capacity)),
            DataType::Int16 => Self::Int16(Int16Builder::with_capacity(capacity)),
            DataType::Int32 => Self::Int32(Int32Builder::with_capacity(capacity)),
            DataType::Int64 => Self::Int64(Int64Builder::with_capacity(capacity)),
            DataType::Float32 => Self::Float32(Float32Builder::with_capacity(capacity)),
            DataType::Float64 => Self::Float64(Float64Builder::with_capacity(capacity)),
            DataType::Decimal128(p, s) => {
                Self::Decimal(Decimal128Builder::with_capacity(capacity).with_data_type(dt.clone()), *p, *s)
            }
            DataType::Utf8 => Self::Utf8(StringBuilder::with_capacity(capacity, capacity * 16)),
            DataType::Date32 => Self::Date(Date32Builder::with_capacity(capacity)),
            DataType::Timestamp(TimeUnit::Nanosecond, None) => {
                Self::Timestamp(TimestampNanosecondBuilder::with_capacity(capacity))
            }
            DataType::Binary => Self::Binary(BinaryBuilder::with_capacity(capacity, capacity * 16)),
            DataType::List(f) => Self::List {
                field: f.clone(),
                offsets: vec![0],
                nulls: NullBufferBuilder::new(capacity),
                child: Box::new(Self::new(f.data_type(), capacity)?),
            },
            DataType::Map(entries, _) => {
                let DataType::Struct(kv) = entries.data_type() else {
                    return Err(HiveError::Unsupported(format!("map layout {dt}")));
                };
                Self::Map {
                    entries: entries.clone(),
                    key_value: kv.clone(),
                    offsets: vec![0],
                    nulls: NullBufferBuilder::new(capacity),
                    keys: Box::new(Self::new(kv[0].data_type(), capacity)?),
                    values: Box::new(Self::new(kv[1].data_type(), capacity)?),
                }
            }
            DataType::Struct(fields) => Self::Struct {
                fields: fields.clone(),
                nulls: NullBufferBuilder::new(capacity),
                children: fields.iter().map(|f| Self::new(f.data_type(), capacity)).collect::<Result<_>>()?,
                len: 0,
            },
            other => return Err(HiveError::Unsupported(format!("text columns of type {other}"))),
        })
    }

    /// Append NULL.
    pub fn append_null(&mut self) {
        match self {
            Self::Boolean(b) => b.append_null(),
            Self::Int8(b) => b.append_null(),
            Self::Int16(b) => b.append_null(),
            Self::Int32(b) => b.append_null(),
            Self::Int64(b) => b.append_null(),
            Self::Float32(b) => b.append_null(),
            Self::Float64(b) => b.append_null(),
            Self::Decimal(b, ..) => b.append_null(),
            Self::Utf8(b) => b.append_null(),
            Self::Date(b) => b.append_null(),
            Self::Timestamp(b) => b.append_null(),
            Self::Binary(b) => b.append_null(),
            Self::List { offsets, nulls, .. } | Self::Map { offsets, nulls, .. } => {
                offsets.push(*offsets.last().expect("offsets start with 0"));
                nulls.append_null();
            }
            Self::Struct { nulls, children, len, .. } => {
                for c in children {
                    c.append_null();
                }
                nulls.append_null();
                *len += 1;
            }
        }
    }

    /// Append a primitive value parsed from `b`; false (nothing appended)
    /// if it does not parse.
    pub fn append_parsed(&mut self, b: &[u8], ctx: &TextContext, scratch: &mut Vec<u8>) -> bool {
        macro_rules! int {
            ($builder:expr, $t:ty) => {
                match parse::parse_i64(b).and_then(|v| <$t>::try_from(v).ok()) {
                    Some(v) => {
                        $builder.append_value(v);
                        true
                    }
                    None => false,
                }
            };
        }
        macro_rules! opt {
            ($builder:expr, $v:expr) => {
                match $v {
                    Some(v) => {
                        $builder.append_value(v);
                        true
                    }
                    None => false,
                }
            };
        }
        match self {
            Self::Boolean(bl) => opt!(bl, parse::parse_bool(b)),
            Self::Int8(bl) => int!(bl, i8),
            Self::Int16(bl) => int!(bl, i16),
            Self::Int32(bl) => int!(bl, i32),
            Self::Int64(bl) => int!(bl, i64),
            Self::Float32(bl) => opt!(bl, parse::parse_f64(b).map(|v| v as f32)),
            Self::Float64(bl) => opt!(bl, parse::parse_f64(b)),
            Self::Decimal(bl, p, s) => opt!(bl, parse::parse_decimal(b, *p, *s)),
            Self::Date(bl) => opt!(bl, parse::parse_date(b)),
            Self::Timestamp(bl) => opt!(bl, parse::parse_timestamp(b)),
            Self::Utf8(bl) => {
                let b = ctx.unescape(b, scratch);
                match std::str::from_utf8(b) {
                    Ok(s) => bl.append_value(s),
                    Err(_) => bl.append_value(String::from_utf8_lossy(b)),
                }
                true
            }
            Self::Binary(bl) => {
                let b = ctx.unescape(b, scratch);
                match base64::engine::general_purpose::STANDARD.decode(b) {
                    Ok(v) => bl.append_value(v),
                    Err(_) => bl.append_value(b),
                }
                true
            }
            _ => false,
        }
    }

    /// Append the value whose text is `b`, at nesting `level` (a top-level
    /// field's value is at level 1). NULL marker or unparsable text: NULL.
    pub fn append_text(&mut self, b: &[u8], ctx: &TextContext, level: usize, scratch: &mut Vec<u8>) {
        if b == ctx.null {
            self.append_null();
            return;
        }
        match self {
            Self::List { offsets, nulls, child, .. } => {
                let mut n = 0;
                if !b.is_empty() {
                    ctx.split(b, ctx.separator(level), |part| {
                        child.append_text(part, ctx, level + 1, scratch);
                        n += 1;
                    });
                }
                offsets.push(offsets.last().expect("offsets start with 0") + n);
                nulls.append_non_null();
            }
            Self::Map { offsets, nulls, keys, values, .. } => {
                let mut n = 0;
                if !b.is_empty() {
                    let kv_sep = ctx.separator(level + 1);
                    ctx.split(b, ctx.separator(level), |entry| {
                        let (k, v) = match entry.iter().position(|&c| c == kv_sep) {
                            Some(p) => (&entry[..p], Some(&entry[p + 1..])),
                            None => (entry, None),
                        };
                        if k != ctx.null && keys.append_parsed(k, ctx, scratch) {
                            match v {
                                Some(v) => values.append_text(v, ctx, level + 2, scratch),
                                None => values.append_null(),
                            }
                            n += 1;
                        }
                    });
                }
                offsets.push(offsets.last().expect("offsets start with 0") + n);
                nulls.append_non_null();
            }
            Self::Struct { nulls, children, len, .. } => {
                let mut i = 0;
                ctx.split(b, ctx.separator(level), |part| {
                    if let Some(c) = children.get_mut(i) {
                        c.append_text(part, ctx, level + 1, scratch);
                    }
                    i += 1;
                });
                for c in children.iter_mut().skip(i) {
                    c.append_null();
                }
                nulls.append_non_null();
                *len += 1;
            }
            _ => {
                if !self.append_parsed(b, ctx, scratch) {
                    self.append_null();
                }
            }
        }
    }

    /// Take the built column, leaving the builder empty.
    pub fn finish(&mut self) -> ArrayRef {
        match self {
            Self::Boolean(b) => Arc::new(b.finish()),
            Self::Int8(b) => Arc::new(b.finish()),
            Self::Int16(b) => Arc::new(b.finish()),
            Self::Int32(b) => Arc::new(b.finish()),
            Self::Int64(b) => Arc::new(b.finish()),
            Self::Float32(b) => Arc::new(b.finish()),
            Self::Float64(b) => Arc::new(b.finish()),
            Self::Decimal(b, ..) => Arc::new(b.finish()),
            Self::Utf8(b) => Arc::new(b.finish()),
            Self::Date(b) => Arc::new(b.finish()),
            Self::Timestamp(b) => Arc::new(b.finish()),
            Self::Binary(b) => Arc::new(b.finish()),
            Self::List { field, offsets, nulls, child } => {
                let offs = std::mem::replace(offsets, vec![0]);
                Arc::new(ListArray::new(field.clone(), OffsetBuffer::new(offs.into()), child.finish(), nulls.finish()))
            }
            Self::Map { entries, key_value, offsets, nulls, keys, values } => {
                let offs = std::mem::replace(offsets, vec![0]);
                let kv = StructArray::new(key_value.clone(), vec![keys.finish(), values.finish()], None);
                Arc::new(MapArray::new(entries.clone(), OffsetBuffer::new(offs.into()), kv, nulls.finish(), false))
            }
            Self::Struct { fields, nulls, children, len } => {
                let n = std::mem::take(len);
                let cols: Vec<ArrayRef> = children.iter_mut().map(|c| c.finish()).collect();
                if fields.is_empty() {
                    Arc::new(StructArray::new_empty_fields(n, nulls.finish()))
                } else {
                    Arc::new(StructArray::new(fields.clone(), cols, nulls.finish()))
                }
            }
        }
    }
}
