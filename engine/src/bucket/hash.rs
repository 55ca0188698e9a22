//! Hive's two field hashes, value by value, as Hive computes them on its
//! writables:
//! - [`java_hash`]: `ObjectInspectorUtils.hashCode`, Java's `hashCode`
//!   arithmetic. It is the `hash()` UDF and the bucket hash of
//!   `bucketing_version=1` tables.
//! - [`murmur_hash`]: `ObjectInspectorUtils.hashCodeMurmur`, Murmur3 over
//!   the value's serialized bytes. It is `murmur_hash()` and the bucket
//!   hash of `bucketing_version=2` tables (Hive 3 and later).
//!
//! The byte forms are Hive's: big-endian numbers, UTF-8 text, a decimal's
//! unscaled value as `BigInteger.toByteArray` with trailing fractional
//! zeros removed (`HiveDecimal` normalises them away), a timestamp as
//! `TimestampWritableV2`'s variable-length serialization. Vectors from
//! `tests/data/bucket_vectors.py`, a Python port written from Hive's source,
//! check each type in `bucket::tests`.

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimeUnit, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
};

/// Hive's Murmur3 seed.
const SEED: u32 = 104_729;

/// Hive's `Murmur3.hash32(data, length)`: MurmurHash3 x86 32-bit with
/// seed 104729, except that the 1-3 tail bytes are sign-extended before
/// they are combined (Java `byte` arithmetic), which Hive's bucket files
/// depend on.
pub fn murmur3_32(data: &[u8]) -> i32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    let mut h = SEED;
    let blocks = data.len() / 4;
    for i in 0..blocks {
        let k = u32::from_le_bytes([data[4 * i], data[4 * i + 1], data[4 * i + 2], data[4 * i + 3]]);
        let k = k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h ^= k;
        h = h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
    }
    let tail = &data[4 * blocks..];
    if !tail.is_empty() {
        let signed = |b: u8| b as i8 as i32 as u32;
        let mut k: u32 = 0;
        if tail.len() >= 3 {
            k ^= signed(tail[2]) << 16;
        }
        if tail.len() >= 2 {
            k ^= signed(tail[1]) << 8;
        }
        k ^= signed(tail[0]);
        h ^= k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
    }
    h ^= data.len() as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    h as i32
}

/// Hive's `hashCodeMurmur` of the value at `row` (0 for NULL); `None` for
/// a type whose version-2 hash hiveql does not reproduce.
pub fn murmur_hash(col: &dyn Array, row: usize) -> Option<i32> {
    if col.is_null(row) {
        return Some(0);
    }
    Some(match col.data_type() {
        DataType::Null => 0,
        DataType::Boolean => col.as_boolean().value(row) as i32,
        DataType::Int8 => col.as_primitive::<Int8Type>().value(row) as i32,
        DataType::Int16 => murmur3_32(&col.as_primitive::<Int16Type>().value(row).to_be_bytes()),
        DataType::Int32 => murmur3_32(&col.as_primitive::<Int32Type>().value(row).to_be_bytes()),
        DataType::Int64 => murmur3_32(&col.as_primitive::<Int64Type>().value(row).to_be_bytes()),
        DataType::Date32 => murmur3_32(&col.as_primitive::<Date32Type>().value(row).to_be_bytes()),
        // ByteBuffer.putFloat(Float.floatToIntBits(f)): the int bits, converted to a float.
        DataType::Float32 => {
            let bits = float_bits(col.as_primitive::<Float32Type>().value(row));
            murmur3_32(&(bits as f32).to_bits().to_be_bytes())
        }
        DataType::Float64 => {
            let bits = double_bits(col.as_primitive::<Float64Type>().value(row));
            murmur3_32(&(bits as f64).to_bits().to_be_bytes())
        }
        DataType::Decimal128(_, scale) => {
            let (unscaled, _) = normalized_decimal(col.as_primitive::<Decimal128Type>().value(row), *scale);
            murmur3_32(&big_integer_bytes(unscaled))
        }
        DataType::Timestamp(unit, _) => {
            let (seconds, nanos) = timestamp_parts(col, *unit, row);
            murmur3_32(&timestamp_bytes(seconds, nanos))
        }
        _ => murmur3_32(text_or_binary(col, row)?),
    })
}

/// Hive's `ObjectInspectorUtils.hashCode` of the value at `row` (0 for NULL).
///
/// A `TIMESTAMP` is hashed as Hive does on a server whose JVM runs in UTC
/// (Hive rebuilds the value through `java.sql.Timestamp.valueOf`, in the
/// JVM's zone).
pub fn java_hash(col: &dyn Array, row: usize) -> i32 {
    if col.is_null(row) {
        return 0;
    }
    match col.data_type() {
        DataType::Boolean => col.as_boolean().value(row) as i32,
        DataType::Int8 => col.as_primitive::<Int8Type>().value(row) as i32,
        DataType::Int16 => col.as_primitive::<Int16Type>().value(row) as i32,
        DataType::Int32 => col.as_primitive::<Int32Type>().value(row),
        DataType::Int64 => fold_long(col.as_primitive::<Int64Type>().value(row)),
        DataType::Float32 => float_bits(col.as_primitive::<Float32Type>().value(row)),
        DataType::Float64 => fold_long(double_bits(col.as_primitive::<Float64Type>().value(row))),
        // String hashing in ObjectInspectorUtils: signed bytes from 0.
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            java_bytes_hash(0, text_or_binary(col, row).unwrap_or(&[]))
        }
        // BytesWritable.hashCode (WritableComparator.hashBytes): from 1.
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
            java_bytes_hash(1, text_or_binary(col, row).unwrap_or(&[]))
        }
        DataType::Date32 => col.as_primitive::<Date32Type>().value(row),
        DataType::Timestamp(unit, _) => {
            // TimestampWritable.hashCode: seconds << 30 | nanos, folded
            let (seconds, nanos) = timestamp_parts(col, *unit, row);
            fold_long((seconds << 30) | nanos as i64)
        }
        DataType::Decimal128(_, scale) => {
            // BigDecimal.hashCode of the normalised value: 31 * unscaled.hashCode() + scale
            let (unscaled, scale) = normalized_decimal(col.as_primitive::<Decimal128Type>().value(row), *scale);
            big_integer_hash(unscaled).wrapping_mul(31).wrapping_add(scale)
        }
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) => {
            let col_ref: ArrayRef = col.slice(row, 1);
            match crate::functions::collection::list_values(&col_ref, 0) {
                Some(v) => (0..v.len()).fold(0i32, |r, j| r.wrapping_mul(31).wrapping_add(java_hash(v.as_ref(), j))),
                None => 0,
            }
        }
        DataType::Map(..) => {
            let e = col.as_map().value(row);
            (0..e.len()).fold(0i32, |r, j| {
                r.wrapping_add(java_hash(e.column(0).as_ref(), j) ^ java_hash(e.column(1).as_ref(), j))
            })
        }
        DataType::Struct(_) => {
            let s = col.as_struct();
            s.columns().iter().fold(0i32, |r, c| r.wrapping_mul(31).wrapping_add(java_hash(c.as_ref(), row)))
        }
        _ => 0,
    }
}

/// The bytes of a text or binary value; `None` for other types.
fn text_or_binary(col: &dyn Array, row: usize) -> Option<&[u8]> {
    Some(match col.data_type() {
        DataType::Utf8 => col.as_string::<i32>().value(row).as_bytes(),
        DataType::LargeUtf8 => col.as_string::<i64>().value(row).as_bytes(),
        DataType::Utf8View => col.as_string_view().value(row).as_bytes(),
        DataType::Binary => col.as_binary::<i32>().value(row),
        DataType::LargeBinary => col.as_binary::<i64>().value(row),
        DataType::BinaryView => col.as_binary_view().value(row),
        _ => return None,
    })
}

/// Java's `(int)(v ^ (v >>> 32))`.
fn fold_long(v: i64) -> i32 {
    (v ^ ((v as u64) >> 32) as i64) as i32
}

/// `Float.floatToIntBits`: NaN has one canonical form.
fn float_bits(v: f32) -> i32 {
    (if v.is_nan() { 0x7fc0_0000 } else { v.to_bits() }) as i32
}

/// `Double.doubleToLongBits`: NaN has one canonical form.
fn double_bits(v: f64) -> i64 {
    (if v.is_nan() { 0x7ff8_0000_0000_0000 } else { v.to_bits() }) as i64
}

/// `h = 31 * h + (byte) b` over `bytes`, from `start`.
fn java_bytes_hash(start: i32, bytes: &[u8]) -> i32 {
    bytes.iter().fold(start, |r, &b| r.wrapping_mul(31).wrapping_add(b as i8 as i32))
}

/// A decimal as `HiveDecimal` holds it: trailing fractional zeros removed
/// (`1.50` is `15` at scale 1). Returns (unscaled, scale).
fn normalized_decimal(mut unscaled: i128, scale: i8) -> (i128, i32) {
    let mut scale = scale as i32;
    if unscaled == 0 {
        return (0, 0);
    }
    while scale > 0 && unscaled % 10 == 0 {
        unscaled /= 10;
        scale -= 1;
    }
    (unscaled, scale)
}

/// `BigInteger.toByteArray`: two's complement, big-endian, in the fewest bytes.
fn big_integer_bytes(v: i128) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let mut start = 0;
    while start < bytes.len() - 1 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        if (b == 0x00 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    bytes[start..].to_vec()
}

/// `BigInteger.hashCode`: the magnitude's 32-bit words, high first,
/// folded as `31 * h + word`, times the sign.
fn big_integer_hash(v: i128) -> i32 {
    let magnitude = v.unsigned_abs();
    let words = (0..4).rev().map(|i| (magnitude >> (32 * i)) as u32).skip_while(|w| *w == 0);
    let h = words.fold(0i32, |h, w| h.wrapping_mul(31).wrapping_add(w as i32));
    h.wrapping_mul(v.signum() as i32)
}

/// Seconds since the epoch (rounded down) and nanoseconds within the second.
fn timestamp_parts(col: &dyn Array, unit: TimeUnit, row: usize) -> (i64, u32) {
    let (v, per_second) = match unit {
        TimeUnit::Second => (col.as_primitive::<TimestampSecondType>().value(row), 1),
        TimeUnit::Millisecond => (col.as_primitive::<TimestampMillisecondType>().value(row), 1_000),
        TimeUnit::Microsecond => (col.as_primitive::<TimestampMicrosecondType>().value(row), 1_000_000),
        TimeUnit::Nanosecond => (col.as_primitive::<TimestampNanosecondType>().value(row), 1_000_000_000),
    };
    let nanos = v.rem_euclid(per_second) * (1_000_000_000 / per_second);
    (v.div_euclid(per_second), nanos as u32)
}

/// `TimestampWritableV2.getBytes()`: 4 bytes of seconds whose top bit
/// flags more; then the nanoseconds with their 9 digits reversed as a
/// VLong (negated minus one when the seconds need a second VLong); then
/// `seconds >> 31` as a VLong when the seconds do not fit in 31 bits.
fn timestamp_bytes(seconds: i64, nanos: u32) -> Vec<u8> {
    let wide = !(0..=i32::MAX as i64).contains(&seconds);
    let mut reversed: i64 = 0;
    let mut n = nanos as i64;
    if n != 0 {
        for _ in 0..9 {
            reversed = reversed * 10 + n % 10;
            n /= 10;
        }
    }
    let mut first = seconds as i32;
    if reversed != 0 || wide {
        first |= i32::MIN;
    } else {
        first &= i32::MAX;
    }
    let mut out = first.to_be_bytes().to_vec();
    if wide || reversed != 0 {
        write_vlong(&mut out, if wide { -reversed - 1 } else { reversed });
    }
    if wide {
        write_vlong(&mut out, seconds >> 31);
    }
    out
}

/// Hadoop's `WritableUtils.writeVLong` encoding.
fn write_vlong(out: &mut Vec<u8>, mut v: i64) {
    if (-112..=127).contains(&v) {
        out.push(v as i8 as u8);
        return;
    }
    let mut len: i32 = -112;
    if v < 0 {
        v = !v;
        len = -120;
    }
    let mut tmp = v;
    while tmp != 0 {
        tmp >>= 8;
        len -= 1;
    }
    out.push(len as i8 as u8);
    let bytes = if len < -120 { -(len + 120) } else { -(len + 112) };
    for i in (0..bytes).rev() {
        out.push((v >> (8 * i)) as u8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, StringArray};

    #[test]
    fn java_hash_codes() {
        // "hello".hashCode() in Java
        assert_eq!(java_hash(&StringArray::from(vec!["hello"]), 0), 99162322);
        assert_eq!(java_hash(&Int64Array::from(vec![1i64 << 32 | 5]), 0), 4);
    }

    #[test]
    fn big_integers_as_java_has_them() {
        assert_eq!(big_integer_bytes(0), vec![0]);
        assert_eq!(big_integer_bytes(127), vec![0x7f]);
        assert_eq!(big_integer_bytes(128), vec![0x00, 0x80]);
        assert_eq!(big_integer_bytes(-1), vec![0xff]);
        assert_eq!(big_integer_bytes(-129), vec![0xff, 0x7f]);
        // new BigInteger("12345678901234567890").hashCode()
        assert_eq!(big_integer_hash(12345678901234567890), -1_436_577_082);
        assert_eq!(normalized_decimal(1500, 3), (15, 1));
        assert_eq!(normalized_decimal(100, 0), (100, 0));
    }

    #[test]
    fn vlongs_as_hadoop_writes_them() {
        let enc = |v| {
            let mut o = vec![];
            write_vlong(&mut o, v);
            o
        };
        assert_eq!(enc(5), vec![5]);
        assert_eq!(enc(-112), vec![0x90]);
        assert_eq!(enc(128), vec![0x8f, 0x80]);
        assert_eq!(enc(-113), vec![0x87, 0x70]);
        assert_eq!(enc(5_000_000), vec![0x8d, 0x4c, 0x4b, 0x40]);
    }
}
