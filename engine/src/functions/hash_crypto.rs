//! Hive's hashing, digest, encoding and masking functions: `hash` with
//! Java's `hashCode` arithmetic (also the bucket function of
//! `bucketing_version=1`), `sha1`/`sha2`/`crc32` as hex text or numbers,
//! `base64` with padding and lenient `unbase64`, AES in ECB mode with PKCS5
//! padding, and the `mask*` family. `md5` is DataFusion's (the same).

use std::sync::Arc;

use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit, generic_array::GenericArray};
use base64::Engine as _;
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Int32Type, Int64Type};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;
use sha2::Digest;

use super::udf::{Arg, Args, Body, HiveScalar, Params, binaries, exactly, optional, prims, strings, variadic};

/// The hashing and masking functions of this module.
pub(crate) fn functions() -> Vec<ScalarUDF> {
    use Arg::*;
    use DataType::*;
    let mut out = vec![
        HiveScalar::new("hash", variadic(&[Any], 0), |_, _| Ok(Int32), hash).udf(),
        HiveScalar::new("murmur_hash", variadic(&[Any], 0), |_, _| Ok(Int32), murmur_hash).udf(),
        HiveScalar::new("crc32", exactly(&[StrOrBin]), |_, _| Ok(Int64), crc32).udf(),
        HiveScalar::new(
            "sha1",
            exactly(&[StrOrBin]),
            |_, _| Ok(Utf8),
            |a| digest_hex(a, |b| sha1::Sha1::digest(b).to_vec()),
        )
        .aliases(&["sha"])
        .udf(),
        HiveScalar::new("sha2", exactly(&[StrOrBin, Int]), |_, _| Ok(Utf8), sha2).udf(),
        HiveScalar::new(
            "mask_hash",
            exactly(&[StrOrBin]),
            |_, _| Ok(Utf8),
            |a| digest_hex(a, |b| sha2::Sha256::digest(b).to_vec()),
        )
        .udf(),
        HiveScalar::new("base64", exactly(&[StrOrBin]), |_, _| Ok(Utf8), base64).udf(),
        HiveScalar::new("unbase64", exactly(&[Str]), |_, _| Ok(Binary), unbase64).udf(),
        HiveScalar::new("aes_encrypt", exactly(&[StrOrBin, StrOrBin]), |_, _| Ok(Binary), |a| aes(a, true)).udf(),
        HiveScalar::new("aes_decrypt", exactly(&[StrOrBin, StrOrBin]), |_, _| Ok(Binary), |a| aes(a, false)).udf(),
    ];
    // mask(v, upper, lower, digit, other, number) and the n-variants (n second)
    let masks: [(&'static str, Params, Body); 5] = [
        ("mask", optional(&[Any, Any, Any, Any, Any, Any], 1), |a| mask(a, Part::All)),
        ("mask_first_n", optional(&[Any, Int, Any, Any, Any, Any], 1), |a| mask(a, Part::First)),
        ("mask_last_n", optional(&[Any, Int, Any, Any, Any, Any], 1), |a| mask(a, Part::Last)),
        ("mask_show_first_n", optional(&[Any, Int, Any, Any, Any, Any], 1), |a| mask(a, Part::ShowFirst)),
        ("mask_show_last_n", optional(&[Any, Int, Any, Any, Any, Any], 1), |a| mask(a, Part::ShowLast)),
    ];
    for (name, params, body) in masks {
        out.push(HiveScalar::new(name, params, |t, _| Ok(t[0].clone()), body).udf());
    }
    out
}

fn hash(a: &Args) -> Result<ArrayRef> {
    Ok(prims::<Int32Type>(a.rows(), |i| {
        Some((0..a.len()).fold(0i32, |r, k| {
            r.wrapping_mul(31).wrapping_add(crate::bucket::hash::java_hash(a.col(k).as_ref(), a.at(k, i)))
        }))
    }))
}

/// Hive's `murmur_hash(a, ...)`: the `bucketing_version=2` row hash of its arguments.
fn murmur_hash(a: &Args) -> Result<ArrayRef> {
    let mut out = Vec::with_capacity(a.rows());
    for i in 0..a.rows() {
        let mut h = 0i32;
        for k in 0..a.len() {
            let col = a.col(k);
            let Some(f) = crate::bucket::hash::murmur_hash(col.as_ref(), a.at(k, i)) else {
                return exec_err!("murmur_hash of a {} value is not supported yet", col.data_type());
            };
            h = h.wrapping_mul(31).wrapping_add(f);
        }
        out.push(h);
    }
    Ok(Arc::new(datafusion::arrow::array::Int32Array::from(out)))
}

fn crc32(a: &Args) -> Result<ArrayRef> {
    let b = a.bytes(0);
    Ok(prims::<Int64Type>(a.rows(), |i| Some(crc32fast::hash(b.get(i)?) as i64)))
}

fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from_digit((b >> 4) as u32, 16).unwrap_or('0'));
        s.push(char::from_digit((b & 15) as u32, 16).unwrap_or('0'));
    }
    s
}

fn digest_hex(a: &Args, f: fn(&[u8]) -> Vec<u8>) -> Result<ArrayRef> {
    let b = a.bytes(0);
    Ok(strings(a.rows(), |i| Some(to_hex(&f(b.get(i)?)))))
}

fn sha2(a: &Args) -> Result<ArrayRef> {
    let (b, bits) = (a.bytes(0), a.prim::<Int32Type>(1));
    Ok(strings(a.rows(), |i| {
        let v = b.get(i)?;
        let d = match bits.get(i)? {
            0 | 256 => sha2::Sha256::digest(v).to_vec(),
            224 => sha2::Sha224::digest(v).to_vec(),
            384 => sha2::Sha384::digest(v).to_vec(),
            512 => sha2::Sha512::digest(v).to_vec(),
            _ => return None,
        };
        Some(to_hex(&d))
    }))
}

fn base64(a: &Args) -> Result<ArrayRef> {
    let b = a.bytes(0);
    Ok(strings(a.rows(), |i| Some(base64::engine::general_purpose::STANDARD.encode(b.get(i)?))))
}

fn unbase64(a: &Args) -> Result<ArrayRef> {
    let s = a.str(0);
    Ok(binaries(a.rows(), |i| {
        // commons-codec skips characters outside the alphabet
        let clean: String = s
            .get(i)?
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '-' | '_'))
            .map(|c| match c {
                '-' => '+',
                '_' => '/',
                c => c,
            })
            .collect();
        let usable = clean.len() - clean.len() % 4 + if clean.len() % 4 >= 2 { clean.len() % 4 } else { 0 };
        base64::engine::general_purpose::STANDARD_NO_PAD.decode(&clean[..usable]).ok()
    }))
}

/// AES/ECB/PKCS5Padding with a 128, 192 or 256-bit key; any other key, or
/// a ciphertext that does not decrypt, is NULL.
fn aes(a: &Args, encrypt: bool) -> Result<ArrayRef> {
    let (input, key) = (a.bytes(0), a.bytes(1));
    Ok(binaries(a.rows(), |i| {
        let (input, key) = (input.get(i)?, key.get(i)?);
        match key.len() {
            16 => ecb::<aes::Aes128>(key, input, encrypt),
            24 => ecb::<aes::Aes192>(key, input, encrypt),
            32 => ecb::<aes::Aes256>(key, input, encrypt),
            _ => None,
        }
    }))
}

fn ecb<C: KeyInit + BlockEncrypt + BlockDecrypt>(key: &[u8], input: &[u8], encrypt: bool) -> Option<Vec<u8>> {
    let cipher = C::new_from_slice(key).ok()?;
    if encrypt {
        let pad = 16 - input.len() % 16;
        let mut data = input.to_vec();
        data.extend(std::iter::repeat_n(pad as u8, pad));
        for block in data.chunks_mut(16) {
            cipher.encrypt_block(GenericArray::from_mut_slice(block));
        }
        Some(data)
    } else {
        if input.is_empty() || !input.len().is_multiple_of(16) {
            return None;
        }
        let mut data = input.to_vec();
        for block in data.chunks_mut(16) {
            cipher.decrypt_block(GenericArray::from_mut_slice(block));
        }
        let pad = *data.last()? as usize;
        if pad == 0 || pad > 16 || data[data.len() - pad..].iter().any(|&b| b as usize != pad) {
            return None;
        }
        data.truncate(data.len() - pad);
        Some(data)
    }
}

#[derive(Clone, Copy)]
enum Part {
    All,
    First,
    Last,
    ShowFirst,
    ShowLast,
}

impl Part {
    /// The positions of a value of `len` characters that are masked, with
    /// `n` the count of the `_n` variants.
    fn range(self, len: usize, n: usize) -> std::ops::Range<usize> {
        let n = n.min(len);
        match self {
            Part::All => 0..len,
            Part::First => 0..n,
            Part::Last => len - n..len,
            Part::ShowFirst => n..len,
            Part::ShowLast => 0..len - n,
        }
    }
}

/// The replacement characters of a `mask*` call: a one-character string
/// (its first character), or -1 to keep the original.
struct MaskChars {
    upper: Option<char>,
    lower: Option<char>,
    digit: Option<char>,
    other: Option<char>,
    number: char,
}

fn mask_char(a: &Args, k: usize, default: Option<char>) -> Result<Option<char>> {
    if k >= a.len() {
        return Ok(default);
    }
    let Some(v) = a.scalar(k) else { return exec_err!("mask: argument {} must be a constant", k + 1) };
    if v.is_null() {
        return Ok(default);
    }
    let text = v.to_string();
    if let Ok(n) = text.parse::<i64>()
        && !matches!(v.data_type(), DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8)
    {
        return Ok(if n == -1 { None } else { char::from_u32(n as u32) });
    }
    Ok(text.chars().next().or(default))
}

fn mask(a: &Args, part: Part) -> Result<ArrayRef> {
    // mask(v, upper, lower, digit, other, number); the n-variants take n second
    let base = if matches!(part, Part::All) { 1 } else { 2 };
    let chars = MaskChars {
        upper: mask_char(a, base, Some('X'))?,
        lower: mask_char(a, base + 1, Some('x'))?,
        digit: mask_char(a, base + 2, Some('n'))?,
        other: mask_char(a, base + 3, None)?,
        number: mask_char(a, base + 4, Some('1'))?.unwrap_or('1'),
    };
    let n = if base == 2 && a.len() > 1 { Some(a.prim::<Int32Type>(1)) } else { None };
    let count = |i: usize| -> usize { n.as_ref().map_or(Some(4), |n| n.get(i)).unwrap_or(4).max(0) as usize };
    let masked = |s: &str, i: usize| -> String {
        let range = part.range(s.chars().count(), count(i));
        s.chars()
            .enumerate()
            .map(|(j, ch)| {
                if !range.contains(&j) {
                    return ch;
                }
                let to = if ch.is_uppercase() {
                    chars.upper
                } else if ch.is_lowercase() {
                    chars.lower
                } else if ch.is_ascii_digit() {
                    chars.digit
                } else {
                    chars.other
                };
                to.unwrap_or(ch)
            })
            .collect()
    };
    let t = a.data_type(0).clone();
    if super::is_string(&t) {
        let s = a.str(0);
        let out = strings(a.rows(), |i| Some(masked(s.get(i)?, i)));
        return Ok(datafusion::arrow::compute::cast(&out, &t)?);
    }
    if t.is_integer() {
        // digits of numbers become the `number` character (a digit)
        let v = datafusion::arrow::compute::cast(a.col(0), &DataType::Int64)?;
        let v = v.as_primitive::<Int64Type>();
        let digit = chars.number.to_digit(10).unwrap_or(1);
        let out = prims::<Int64Type>(a.rows(), |i| {
            let r = a.at(0, i);
            if v.is_null(r) {
                return None;
            }
            let text = v.value(r).to_string();
            let m: String = {
                let range = part.range(text.trim_start_matches('-').len(), count(i));
                let neg = text.starts_with('-');
                let body: String = text
                    .trim_start_matches('-')
                    .chars()
                    .enumerate()
                    .map(|(j, ch)| if range.contains(&j) { char::from_digit(digit, 10).unwrap_or('1') } else { ch })
                    .collect();
                if neg { format!("-{body}") } else { body }
            };
            m.parse().ok()
        });
        return Ok(datafusion::arrow::compute::cast(&out, &t)?);
    }
    if t == DataType::Date32 && matches!(part, Part::All) {
        // dates become 0000-01-01 (day 1, month 0 = January, year 0)
        let days = chrono::NaiveDate::from_ymd_opt(0, 1, 1)
            .map(|d| (d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(d)).num_days() as i32);
        let v = a.col(0);
        return Ok(Arc::new(
            (0..a.rows())
                .map(|i| if v.is_null(a.at(0, i)) { None } else { days })
                .collect::<datafusion::arrow::array::Date32Array>(),
        ));
    }
    // other types are returned unmasked, as Hive returns them
    Ok(a.col(0).clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aes_round_trip() {
        let key = b"1234567890123456";
        let c = ecb::<aes::Aes128>(key, b"ABC", true).unwrap();
        assert_eq!(c.len(), 16);
        assert_eq!(ecb::<aes::Aes128>(key, &c, false).unwrap(), b"ABC");
    }
}
