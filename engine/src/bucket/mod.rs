//! Hive's bucketing: which bucket a row belongs to, so that files written
//! here are the files Hive would write (`000003_0` holds bucket 3) and
//! buckets written by Hive are read as Hive reads them.
//!
//! A row's bucket is `(hash & Integer.MAX_VALUE) % buckets`, where `hash`
//! folds the bucket columns' hashes as `31 * h + field_hash` from 0. The
//! field hash depends on the table's `bucketing_version`:
//! - version 2 (Hive 3 and later; what new tables get): Murmur3 (32-bit,
//!   seed 104729) over the value's big-endian bytes, as Hive's
//!   `ObjectInspectorUtils.hashCodeMurmur` computes it, quirks included
//!   (the tail bytes are sign-extended; `FLOAT`/`DOUBLE` bits are converted
//!   back to a number before being written; `TINYINT` is not hashed);
//! - version 1 (older tables, or `'bucketing_version'='1'`): Java's
//!   `hashCode` of Hive's writables, the same hash as the `hash()` UDF.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int32Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature, Volatility,
};
use hiveql_metastore::{HiveType, Table};

use crate::error::semantic;

pub mod aligned;
pub mod hash;
pub mod wise;

/// How a table's rows are hashed to buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BucketingVersion {
    /// Java `hashCode` (Hive 1 and 2).
    V1,
    /// Murmur3 (Hive 3 and later).
    V2,
}

impl BucketingVersion {
    /// The version a table declares in `bucketing_version`; tables that do
    /// not say were written before Hive 3, with version 1.
    pub fn of(properties: &BTreeMap<String, String>) -> crate::Result<BucketingVersion> {
        match properties.get("bucketing_version").map(|v| v.trim()) {
            None | Some("1") => Ok(BucketingVersion::V1),
            Some("2") => Ok(BucketingVersion::V2),
            Some(other) => Err(semantic(format!("bucketing_version '{other}' is not 1 or 2"))),
        }
    }

    /// The hash of one row's bucket columns (`31 * h + field` from 0).
    pub fn row_hash(self, columns: &[ArrayRef], row: usize) -> Result<i32> {
        let mut h = 0i32;
        for c in columns {
            let field = match self {
                BucketingVersion::V1 => hash::java_hash(c.as_ref(), row),
                BucketingVersion::V2 => match hash::murmur_hash(c.as_ref(), row) {
                    Some(f) => f,
                    None => {
                        return exec_err!(
                            "bucketing_version 2 hash of a {} column is not supported yet (bucket by another column, or use bucketing_version 1)",
                            c.data_type()
                        );
                    }
                },
            };
            h = h.wrapping_mul(31).wrapping_add(field);
        }
        Ok(h)
    }
}

/// The bucket of a row hash among `buckets`.
pub fn bucket_of(hash: i32, buckets: u32) -> u32 {
    ((hash & i32::MAX) as u32) % buckets
}

/// The bucket of each row of `columns`.
pub fn bucket_ids(columns: &[ArrayRef], version: BucketingVersion, buckets: u32) -> Result<Vec<u32>> {
    let rows = columns.first().map_or(0, |c| c.len());
    (0..rows).map(|r| Ok(bucket_of(version.row_hash(columns, r)?, buckets))).collect()
}

/// The bucketing of a table: its columns, their positions, the count and version.
#[derive(Debug, Clone, PartialEq)]
pub struct BucketSpec {
    pub columns: Vec<String>,
    pub buckets: u32,
    pub version: BucketingVersion,
}

impl BucketSpec {
    /// The bucketing `table` declares, if any.
    pub fn of(table: &Table) -> crate::Result<Option<BucketSpec>> {
        let sd = &table.storage;
        if sd.num_buckets == 0 || sd.bucket_columns.is_empty() {
            return Ok(None);
        }
        Ok(Some(BucketSpec {
            columns: sd.bucket_columns.clone(),
            buckets: sd.num_buckets,
            version: BucketingVersion::of(&table.properties)?,
        }))
    }
}

/// The Arrow type Hive's bucket hash sees a column of type `ty` as:
/// `VARCHAR` and `CHAR` are hashed as Hive's `Text` writable, the way
/// `BINARY` is (in version 1 that differs from `STRING`); see [`hashed_column`].
pub fn hashed_type(ty: &HiveType) -> DataType {
    match ty {
        HiveType::Varchar(_) | HiveType::Char(_) => DataType::Binary,
        t => crate::types::arrow_type(t),
    }
}

/// Bucket column `column` (of type `ty`) as the bucket hash's argument:
/// `VARCHAR` as its UTF-8 bytes, `CHAR` as those of its value without
/// trailing spaces (`HiveChar.getStrippedValue`), other types as they are.
pub fn hashed_column(column: datafusion::logical_expr::Expr, ty: &HiveType) -> datafusion::logical_expr::Expr {
    use datafusion::logical_expr::{cast, lit};
    match ty {
        HiveType::Varchar(_) => cast(column, DataType::Binary),
        HiveType::Char(_) => {
            cast(datafusion::functions::string::expr_fn::rtrim(vec![column, lit(" ")]), DataType::Binary)
        }
        _ => column,
    }
}

/// The buckets that can hold rows satisfying `filters`: when the
/// conjuncts pin every bucket column to constants (`c = v`, `c IN (...)`),
/// the buckets of those values; `None` when they do not (every bucket).
/// `types` are the bucket columns' types, in the spec's order.
pub fn selected_buckets(
    spec: &BucketSpec,
    types: &[HiveType],
    filters: &[datafusion::logical_expr::Expr],
) -> Result<Option<std::collections::BTreeSet<u32>>> {
    use datafusion::common::ScalarValue;
    /// More combinations than this are not worth enumerating.
    const MAX_COMBINATIONS: usize = 1024;
    // Pruning with a hash that is not Hive's would drop rows: only the
    // types whose hash is checked against vectors from Hive's source prune.
    // Version 1 hashes a TIMESTAMP in the Hive server's JVM zone: not known here.
    let verified = |t: &DataType| match t {
        DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::Float32
        | DataType::Float64
        | DataType::Decimal128(..)
        | DataType::Utf8
        | DataType::Binary
        | DataType::Date32 => true,
        DataType::Timestamp(..) => spec.version == BucketingVersion::V2,
        _ => false,
    };
    // A CHAR constant's trailing spaces are not the column's: not pruned.
    if types.iter().any(|t| matches!(t, HiveType::Char(_))) {
        return Ok(None);
    }
    let types: Vec<DataType> = types.iter().map(hashed_type).collect();
    if !types.iter().all(verified) {
        return Ok(None);
    }
    // TABLESAMPLE (BUCKET x OUT OF y): the table's buckets that hold the sample.
    for f in filters.iter().flat_map(|f| datafusion::logical_expr::utils::split_conjunction(f)) {
        if let Some(selected) = sampled_buckets(spec, f) {
            return Ok(Some(selected));
        }
    }
    let mut values: Vec<Option<Vec<ScalarValue>>> = vec![None; spec.columns.len()];
    for f in filters.iter().flat_map(|f| datafusion::logical_expr::utils::split_conjunction(f)) {
        if let Some((i, vs)) = column_values(spec, f)
            && values[i].is_none()
        {
            values[i] = Some(vs.into_iter().filter(|v| !v.is_null()).collect());
        }
    }
    let Some(values) = values.into_iter().collect::<Option<Vec<_>>>() else { return Ok(None) };
    if values.iter().map(Vec::len).product::<usize>() > MAX_COMBINATIONS {
        return Ok(None);
    }
    // Every combination of the columns' values, as columns of the bucket columns' types.
    let mut combos: Vec<Vec<ScalarValue>> = vec![vec![]];
    for vs in &values {
        combos = combos.iter().flat_map(|c| vs.iter().map(move |v| [c.clone(), vec![v.clone()]].concat())).collect();
    }
    if combos.is_empty() || combos[0].is_empty() {
        return Ok(Some(Default::default()));
    }
    let mut columns = Vec::with_capacity(types.len());
    for (i, ty) in types.iter().enumerate() {
        // A constant that does not convert to the column's type selects no row.
        let typed: Vec<ScalarValue> = match combos.iter().map(|c| c[i].cast_to(ty)).collect() {
            Ok(v) => v,
            Err(_) => return Ok(None),
        };
        columns.push(ScalarValue::iter_to_array(typed)?);
    }
    Ok(Some(bucket_ids(&columns, spec.version, spec.buckets)?.into_iter().collect()))
}

/// For `__hive_bucket(bucket columns)[y buckets] = k` (a bucket sample) on
/// a table in `spec.buckets` buckets hashed the same way: the table's
/// buckets whose rows can satisfy it. With y dividing N, bucket b's rows
/// have hash % y == b % y; with N dividing y, the sample lies in bucket
/// k % N. Otherwise `None` (every bucket).
fn sampled_buckets(
    spec: &BucketSpec,
    expr: &datafusion::logical_expr::Expr,
) -> Option<std::collections::BTreeSet<u32>> {
    use datafusion::logical_expr::{BinaryExpr, Expr, Operator};
    let Expr::BinaryExpr(BinaryExpr { left, op: Operator::Eq, right }) = expr else { return None };
    let (Expr::ScalarFunction(f), Expr::Literal(k, _)) = (left.as_ref(), right.as_ref()) else { return None };
    let sample = f.func.inner().downcast_ref::<BucketNumber>()?;
    let on_bucket_columns = f.args.len() == spec.columns.len()
        && f.args.iter().zip(&spec.columns).all(|(a, c)| matches!(a, Expr::Column(col) if &col.name == c));
    if !on_bucket_columns || sample.version != spec.version {
        return None;
    }
    let k = match k {
        datafusion::common::ScalarValue::Int32(Some(k)) if *k >= 0 => *k as u32,
        _ => return None,
    };
    let (n, y) = (spec.buckets, sample.buckets);
    if n.is_multiple_of(y) {
        Some((0..n).filter(|b| b % y == k).collect())
    } else if y.is_multiple_of(n) {
        Some(std::iter::once(k % n).collect())
    } else {
        None
    }
}

/// The bucket column `expr` pins and the constants it allows: `c = v`,
/// `c IN (...)`, and `OR`s of those on one column.
fn column_values(
    spec: &BucketSpec,
    expr: &datafusion::logical_expr::Expr,
) -> Option<(usize, Vec<datafusion::common::ScalarValue>)> {
    use datafusion::logical_expr::expr::InList;
    use datafusion::logical_expr::{BinaryExpr, Expr, Operator};
    let position = |e: &Expr| match e {
        Expr::Column(c) => spec.columns.iter().position(|b| b == &c.name),
        _ => None,
    };
    match expr {
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::Eq, right }) => match (left.as_ref(), right.as_ref()) {
            (c, Expr::Literal(v, _)) | (Expr::Literal(v, _), c) => position(c).map(|i| (i, vec![v.clone()])),
            _ => None,
        },
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::Or, right }) => {
            let (i, mut a) = column_values(spec, left)?;
            let (j, b) = column_values(spec, right)?;
            (i == j).then(|| {
                a.extend(b);
                (i, a)
            })
        }
        Expr::InList(InList { expr, list, negated: false }) => {
            let i = position(expr)?;
            let vs = list
                .iter()
                .map(|e| match e {
                    Expr::Literal(v, _) => Some(v.clone()),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()?;
            Some((i, vs))
        }
        _ => None,
    }
}

/// The bucket a data file holds, from Hive's file name (`000003_0`,
/// `000003_0_copy_1`, `000003_1`): the number before the first `_`.
pub fn bucket_of_file(name: &str) -> Option<u32> {
    let digits = name.split('_').next()?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// `__hive_bucket(cols...)`: the bucket number (INT) of each row among a
/// fixed number of buckets with a fixed hash version. Built per use (the
/// count and the version are part of the function), never registered.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct BucketNumber {
    version: BucketingVersion,
    buckets: u32,
    signature: Signature,
}

impl BucketNumber {
    /// The function as a DataFusion UDF.
    pub fn udf(version: BucketingVersion, buckets: u32) -> Arc<ScalarUDF> {
        Arc::new(ScalarUDF::new_from_impl(BucketNumber {
            version,
            buckets,
            signature: Signature::new(TypeSignature::VariadicAny, Volatility::Immutable),
        }))
    }
}

impl BucketNumber {
    /// The name plans call it by.
    pub const NAME: &'static str = "__hive_bucket";

    /// The hash version and the bucket count, as a plan codec ships them.
    pub fn parameters(&self) -> (BucketingVersion, u32) {
        (self.version, self.buckets)
    }
}

impl ScalarUDFImpl for BucketNumber {
    fn name(&self) -> &str {
        Self::NAME
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let columns: Vec<ArrayRef> = args.args.into_iter().map(|a| a.into_array(rows)).collect::<Result<_>>()?;
        let ids = if columns.is_empty() { vec![0; rows] } else { bucket_ids(&columns, self.version, self.buckets)? };
        Ok(ColumnarValue::Array(Arc::new(ids.into_iter().map(|b| b as i32).collect::<Int32Array>())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{
        Array, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array, Int8Array,
        Int16Array, Int64Array, StringArray, TimestampNanosecondArray,
    };

    /// Vectors from `tests/data/bucket_vectors.py`, a Python port of Hive's
    /// `Murmur3.hash32` and `ObjectInspectorUtils.hashCode[Murmur]` written
    /// from Hive's source (its Murmur3 is checked there against the `mmh3`
    /// package for inputs whose tail has no high bit set).
    #[test]
    fn murmur3_matches_hive() {
        let vectors: &[(&[u8], i32)] = &[
            (b"", -965378730),
            (b"a", 1086686554),
            (b"ab", 398604456),
            (b"abc", -885266671),
            (b"abcd", -873246740),
            (b"hello", 1321743225),
            (b"\xc3\xa9", -527561221),
            (b"caf\xc3\xa9", 1332717960),
            (b"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 1359263722),
            (b"\xff\xfe\xfd", -1962641613),
        ];
        for (input, want) in vectors {
            assert_eq!(hash::murmur3_32(input), *want, "{input:?}");
        }
    }

    fn one(a: impl Array + 'static) -> Vec<ArrayRef> {
        vec![Arc::new(a)]
    }

    fn dec(v: i128, precision: u8, scale: i8) -> Decimal128Array {
        Decimal128Array::from(vec![v]).with_precision_and_scale(precision, scale).unwrap()
    }

    fn ts(nanos: i64) -> TimestampNanosecondArray {
        TimestampNanosecondArray::from(vec![nanos])
    }

    /// (columns, v2 hash, v2 bucket of 16, v1 hash) as Hive computes them
    /// (`tests/data/bucket_vectors.py`).
    #[test]
    fn bucket_hashes_match_hive_for_each_type() {
        let cases: Vec<(Vec<ArrayRef>, i32, u32, i32)> = vec![
            (one(Int32Array::from(vec![0])), 1362653161, 9, 0),
            (one(Int32Array::from(vec![1])), 1321152925, 13, 1),
            (one(Int32Array::from(vec![-1])), 1626716813, 13, -1),
            (one(Int32Array::from(vec![i32::MAX])), 1133859967, 15, i32::MAX),
            (one(Int64Array::from(vec![3_000_000_000])), 1911009367, 7, -1294967296),
            (one(Int64Array::from(vec![-5])), -1904124550, 10, 4),
            (one(Int16Array::from(vec![7])), -1257352624, 0, 7),
            (one(Int8Array::from(vec![-3])), -3, 13, -3),
            (one(BooleanArray::from(vec![true])), 1, 1, 1),
            (one(StringArray::from(vec!["hive"])), -1992589179, 5, 3202928),
            (one(StringArray::from(vec!["café"])), 1332717960, 8, 94414350),
            (one(StringArray::from(vec!["日本"])), 529705047, 7, -844066782),
            (one(Date32Array::from(vec![19844])), 1777049705, 9, 19844),
            (one(Float64Array::from(vec![1.5])), 76905473, 1, 1073217536),
            (one(Float32Array::from(vec![2.25])), 45390166, 6, 1074790400),
            (one(dec(150, 5, 2)), 864210675, 3, 466),
            (one(dec(-12345678, 10, 3)), -1428927624, 8, -382716015),
            (one(dec(0, 5, 2)), 500407381, 5, 0),
            (one(dec(100, 5, 0)), 275017581, 13, 3100),
            (one(dec(123456789012345678905, 38, 1)), 1071851749, 5, 1337890915),
            (one(ts(1_714_521_600_000_000_000)), -1912946750, 2, 428630400),
            (one(ts(1_714_521_600_123_000_000)), -694724876, 4, 517518656),
            (one(ts(-86_399_500_000_000)), 2028032041, 9, -499986784),
            (one(ts(4_102_444_800_000_000_000)), -836623274, 6, 1025611200),
            (one(BinaryArray::from(vec![&[1u8, 255, 128][..]])), 106441408, 0, 30593),
            // a VARCHAR is hashed as its bytes (`hashed_column`)
            (one(BinaryArray::from(vec![&b"hive"[..]])), -1992589179, 5, 4126449),
            (vec![Arc::new(dec(999, 3, 2)), Arc::new(ts(1_714_521_600_000_000_000))], 927585160, 8, 429590501),
            (vec![Arc::new(Int32Array::from(vec![42])), Arc::new(StringArray::from(vec!["x"]))], 1251119967, 15, 1422),
            (
                vec![
                    Arc::new(StringArray::from(vec!["us"])),
                    Arc::new(Date32Array::from(vec![19844])),
                    Arc::new(Int64Array::from(vec![7])),
                ],
                -243436575,
                1,
                4211233,
            ),
            (one(Int32Array::from(vec![None])), 0, 0, 0),
        ];
        for (cols, v2, bucket16, v1) in cases {
            let what = format!("{cols:?}");
            assert_eq!(BucketingVersion::V2.row_hash(&cols, 0).unwrap(), v2, "v2 {what}");
            assert_eq!(bucket_ids(&cols, BucketingVersion::V2, 16).unwrap(), vec![bucket16], "bucket {what}");
            assert_eq!(BucketingVersion::V1.row_hash(&cols, 0).unwrap(), v1, "v1 {what}");
        }
    }

    #[test]
    fn file_names_give_buckets() {
        assert_eq!(bucket_of_file("000003_0"), Some(3));
        assert_eq!(bucket_of_file("000003_0_copy_2"), Some(3));
        assert_eq!(bucket_of_file("000012_1"), Some(12));
        assert_eq!(bucket_of_file("part-0000"), None);
        assert_eq!(bucket_of_file("_SUCCESS"), None);
    }

    #[test]
    fn rows_fold_their_columns() {
        let a: ArrayRef = Arc::new(Int16Array::from(vec![Some(1), None]));
        let b: ArrayRef = Arc::new(StringArray::from(vec![Some("x"), Some("y")]));
        let h0 = BucketingVersion::V2.row_hash(&[a.clone(), b.clone()], 0).unwrap();
        let fa = hash::murmur_hash(a.as_ref(), 0).unwrap();
        let fb = hash::murmur_hash(b.as_ref(), 0).unwrap();
        assert_eq!(h0, fa.wrapping_mul(31).wrapping_add(fb));
        // NULL hashes to 0
        assert_eq!(BucketingVersion::V2.row_hash(&[a], 1).unwrap(), 0);
    }
}
