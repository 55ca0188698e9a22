//! The machinery the Hive built-ins share. A [`HiveScalar`] is one Hive
//! function as a DataFusion scalar UDF, described by data rather than by a
//! type of its own: its name and Hive's aliases, how each argument is
//! converted before the body sees it ([`Arg`]), its return type, and a body
//! that reads its arguments through [`Args`] and returns one array.
//!
//! Constant arguments stay one row long (a pattern or a format is not
//! copied into every row), and a call whose arguments are all constants
//! returns a constant, so the planner can fold it.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, ArrowPrimitiveType, AsArray, BinaryArray, BinaryViewArray, LargeBinaryArray, LargeStringArray,
    PrimitiveArray, StringArray, StringViewArray,
};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::config::ConfigOptions;
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::is_string;

/// What an argument is converted to before the body reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Arg {
    /// STRING: string types stay as they are; numbers, dates and booleans
    /// are cast to text (as Hive's bridged UDFs widen them to STRING).
    Str,
    /// INT (Int32); a string that is not a number is NULL.
    Int,
    /// BIGINT (Int64).
    Long,
    /// DOUBLE (Float64).
    Double,
    /// BOOLEAN.
    Bool,
    /// A date or timestamp, kept as DATE, TIMESTAMP or text: the body parses
    /// text with Hive's date rules ([`super::date::parse_date`]).
    DateLike,
    /// STRING or BINARY, kept as it is.
    StrOrBin,
    /// Kept as it is; the body dispatches on the type.
    Any,
}

fn is_binary(t: &DataType) -> bool {
    matches!(t, DataType::Binary | DataType::LargeBinary | DataType::BinaryView)
}

fn is_nested(t: &DataType) -> bool {
    matches!(
        t,
        DataType::List(_)
            | DataType::LargeList(_)
            | DataType::FixedSizeList(..)
            | DataType::Map(..)
            | DataType::Struct(_)
    )
}

impl Arg {
    /// The type an argument of type `t` is converted to.
    fn coerce(self, function: &str, position: usize, t: &DataType) -> Result<DataType> {
        let to = match self {
            // an untyped NULL reads as a NULL string (Arrow's Null arrays have no validity)
            Arg::Any if t.is_null() => DataType::Utf8,
            Arg::Any => t.clone(),
            Arg::Str if is_string(t) => t.clone(),
            Arg::StrOrBin if is_string(t) || is_binary(t) => t.clone(),
            Arg::Str | Arg::StrOrBin if is_nested(t) => {
                return plan_err!("{function}: argument {} must be a primitive type, not {t}", position + 1);
            }
            Arg::Str | Arg::StrOrBin => DataType::Utf8,
            Arg::Int | Arg::Long | Arg::Double | Arg::Bool if is_nested(t) => {
                return plan_err!("{function}: argument {} must be a primitive type, not {t}", position + 1);
            }
            Arg::Int => DataType::Int32,
            Arg::Long => DataType::Int64,
            Arg::Double => DataType::Float64,
            Arg::Bool => DataType::Boolean,
            Arg::DateLike => match t {
                DataType::Date32 | DataType::Timestamp(..) => t.clone(),
                t if is_string(t) => t.clone(),
                DataType::Date64 | DataType::Null => DataType::Date32,
                other => {
                    return plan_err!(
                        "{function}: argument {} must be a DATE, TIMESTAMP or STRING, not {other}",
                        position + 1
                    );
                }
            },
        };
        Ok(to)
    }
}

/// How many arguments a function takes and what each is converted to: the
/// first `required` are needed, the rest optional; with `variadic` the last
/// kind repeats.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Params {
    pub kinds: &'static [Arg],
    pub required: usize,
    pub variadic: bool,
}

/// `kinds`, all required.
pub(crate) const fn exactly(kinds: &'static [Arg]) -> Params {
    Params { kinds, required: kinds.len(), variadic: false }
}

/// `kinds`, of which the first `required` are needed.
pub(crate) const fn optional(kinds: &'static [Arg], required: usize) -> Params {
    Params { kinds, required, variadic: false }
}

/// `kinds` with the last repeating, at least `required` in all.
pub(crate) const fn variadic(kinds: &'static [Arg], required: usize) -> Params {
    Params { kinds, required, variadic: true }
}

/// The return type of a call, from its argument types (after conversion) and
/// the values of its constant arguments.
pub(crate) type ReturnType = fn(&[DataType], &[Option<&ScalarValue>]) -> Result<DataType>;

/// Converts argument types (for functions whose arguments share a type).
pub(crate) type Coerce = fn(&str, &[DataType]) -> Result<Vec<DataType>>;

/// The body of a function: arguments in, one array of `args.rows()` values out.
pub(crate) type Body = fn(&Args) -> Result<ArrayRef>;

/// One Hive built-in as a DataFusion scalar function. Two are the same
/// function when their names and signatures are (the name says which body).
#[derive(Debug)]
pub(crate) struct HiveScalar {
    name: &'static str,
    aliases: Vec<String>,
    signature: Signature,
    params: Params,
    /// Converts argument types itself (for functions whose arguments share
    /// a common type, such as `greatest`); `params` still counts them.
    coerce: Option<Coerce>,
    ret: ReturnType,
    body: Body,
    /// A new value on every row even with no arguments (`rand()`).
    per_row: bool,
}

impl PartialEq for HiveScalar {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.signature == other.signature && self.params == other.params
    }
}

impl Eq for HiveScalar {}

impl std::hash::Hash for HiveScalar {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.signature.hash(state);
    }
}

impl HiveScalar {
    /// A deterministic function.
    pub(crate) fn new(name: &'static str, params: Params, ret: ReturnType, body: Body) -> HiveScalar {
        HiveScalar {
            name,
            aliases: Vec::new(),
            signature: Signature::user_defined(Volatility::Immutable),
            params,
            coerce: None,
            ret,
            body,
            per_row: false,
        }
    }

    /// Also known by these names.
    pub(crate) fn aliases(mut self, names: &[&str]) -> Self {
        self.aliases = names.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Gives another value on every call (`rand`, `uuid`).
    pub(crate) fn volatile(mut self) -> Self {
        self.signature = Signature::user_defined(Volatility::Volatile);
        self.per_row = true;
        self
    }

    /// Fixed for the statement but not a constant (`current_date`).
    pub(crate) fn stable(mut self) -> Self {
        self.signature = Signature::user_defined(Volatility::Stable);
        self
    }

    /// Converts the argument types with `f` instead of `params`' kinds.
    pub(crate) fn coerce_with(mut self, f: Coerce) -> Self {
        self.coerce = Some(f);
        self
    }

    /// The DataFusion function.
    pub(crate) fn udf(self) -> ScalarUDF {
        ScalarUDF::new_from_impl(self)
    }

    /// The usage line `DESCRIBE FUNCTION` prints: the arguments it takes
    /// (optional ones in brackets, repeating ones with `...`).
    pub(crate) fn usage(&self) -> String {
        let p = &self.params;
        let mut text = String::new();
        for (i, kind) in p.kinds.iter().enumerate() {
            let name = match kind {
                Arg::Str => "STRING",
                Arg::Int => "INT",
                Arg::Long => "BIGINT",
                Arg::Double => "DOUBLE",
                Arg::Bool => "BOOLEAN",
                Arg::DateLike => "DATE|TIMESTAMP|STRING",
                Arg::StrOrBin => "STRING|BINARY",
                Arg::Any => "ANY",
            };
            let sep = if i == 0 { "" } else { ", " };
            if i < p.required {
                text.push_str(&format!("{sep}{name}"));
            } else {
                text.push_str(&format!("[{sep}{name}"));
            }
        }
        text.push_str(&"]".repeat(p.kinds.len().saturating_sub(p.required)));
        if p.variadic {
            text.push_str(", ...");
        }
        format!("{}({text}) - Hive's {} (see README, Hive functions)", self.name, self.name)
    }

    fn check_count(&self, n: usize) -> Result<()> {
        let p = &self.params;
        let max = if p.variadic { usize::MAX } else { p.kinds.len() };
        if n < p.required || n > max {
            let wanted = match (p.variadic, p.required == p.kinds.len()) {
                (true, _) => format!("at least {}", p.required),
                (false, true) => p.required.to_string(),
                (false, false) => format!("{} to {}", p.required, p.kinds.len()),
            };
            return plan_err!("{}() takes {wanted} argument(s), got {n}", self.name);
        }
        Ok(())
    }
}

impl ScalarUDFImpl for HiveScalar {
    fn name(&self) -> &str {
        self.name
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.check_count(arg_types.len())?;
        if let Some(f) = self.coerce {
            return f(self.name, arg_types);
        }
        let kinds = self.params.kinds;
        arg_types
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let kind = kinds.get(i).or(kinds.last()).copied().unwrap_or(Arg::Any);
                kind.coerce(self.name, i, t)
            })
            .collect()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        (self.ret)(arg_types, &vec![None; arg_types.len()])
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let types: Vec<DataType> = args.arg_fields.iter().map(|f| f.data_type().clone()).collect();
        let t = (self.ret)(&types, args.scalar_arguments)?;
        Ok(Arc::new(Field::new(self.name, t, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let constant = !self.per_row && args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if constant { 1 } else { args.number_rows };
        let cols = args
            .args
            .iter()
            .map(|a| match a {
                ColumnarValue::Array(a) => Ok((a.clone(), false)),
                ColumnarValue::Scalar(s) => Ok((s.to_array_of_size(1)?, true)),
            })
            .collect::<Result<Vec<_>>>()?;
        let call = Args {
            cols,
            fields: &args.arg_fields,
            rows,
            ret: args.return_field.data_type(),
            config: &args.config_options,
        };
        let out = (self.body)(&call)?;
        if constant {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}

/// The arguments of one call, as the body reads them. A constant argument
/// is one row long and reads the same at every row.
pub(crate) struct Args<'a> {
    cols: Vec<(ArrayRef, bool)>,
    fields: &'a [FieldRef],
    rows: usize,
    ret: &'a DataType,
    config: &'a ConfigOptions,
}

impl<'a> Args<'a> {
    /// How many rows to return.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// How many arguments the call has.
    pub fn len(&self) -> usize {
        self.cols.len()
    }

    /// The return type the planner settled on.
    pub fn ret(&self) -> &DataType {
        self.ret
    }

    /// The session's settings.
    pub fn config(&self) -> &ConfigOptions {
        self.config
    }

    /// Argument `k` as an array (one row long when constant).
    pub fn col(&self, k: usize) -> &ArrayRef {
        &self.cols[k].0
    }

    /// The field of argument `k` (its metadata says CHAR/VARCHAR).
    pub fn field(&self, k: usize) -> &Field {
        &self.fields[k]
    }

    /// The type of argument `k`.
    pub fn data_type(&self, k: usize) -> &DataType {
        self.cols[k].0.data_type()
    }

    /// Whether argument `k` is a constant.
    pub fn is_const(&self, k: usize) -> bool {
        self.cols[k].1
    }

    /// The row of argument `k`'s array that holds its value at row `i`.
    pub fn at(&self, k: usize, i: usize) -> usize {
        if self.cols[k].1 { 0 } else { i }
    }

    /// Argument `k` as text (any string type).
    pub fn str(&self, k: usize) -> Strs<'_> {
        let (a, one) = &self.cols[k];
        let col = match a.data_type() {
            DataType::LargeUtf8 => StrCol::Large(a.as_string::<i64>()),
            DataType::Utf8View => StrCol::View(a.as_string_view()),
            DataType::Utf8 => StrCol::Small(a.as_string::<i32>()),
            _ => StrCol::None,
        };
        Strs { col, one: *one }
    }

    /// Argument `k` as bytes (any string or binary type).
    pub fn bytes(&self, k: usize) -> Bytes<'_> {
        let (a, one) = &self.cols[k];
        let col = match a.data_type() {
            DataType::Binary => BinCol::Small(a.as_binary::<i32>()),
            DataType::LargeBinary => BinCol::Large(a.as_binary::<i64>()),
            DataType::BinaryView => BinCol::View(a.as_binary_view()),
            _ => BinCol::Str(self.str(k)),
        };
        Bytes { col, one: *one }
    }

    /// Argument `k` as primitive values of type `T`.
    pub fn prim<T: ArrowPrimitiveType>(&self, k: usize) -> Prims<'_, T> {
        let (a, one) = &self.cols[k];
        Prims { col: a.as_primitive_opt::<T>(), one: *one }
    }

    /// Argument `k` as booleans.
    pub fn bool(&self, k: usize) -> Bools<'_> {
        let (a, one) = &self.cols[k];
        Bools { col: a.as_boolean_opt(), one: *one }
    }

    /// The value of constant argument `k`, if it is one.
    pub fn scalar(&self, k: usize) -> Option<ScalarValue> {
        let (a, one) = &self.cols[k];
        if *one { ScalarValue::try_from_array(a, 0).ok() } else { None }
    }
}

enum StrCol<'a> {
    Small(&'a StringArray),
    Large(&'a LargeStringArray),
    View(&'a StringViewArray),
    None,
}

/// Text values of one argument.
pub(crate) struct Strs<'a> {
    col: StrCol<'a>,
    one: bool,
}

impl<'a> Strs<'a> {
    /// The value at row `i`, `None` for NULL.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&'a str> {
        let i = if self.one { 0 } else { i };
        match &self.col {
            StrCol::Small(a) => a.is_valid(i).then(|| a.value(i)),
            StrCol::Large(a) => a.is_valid(i).then(|| a.value(i)),
            StrCol::View(a) => a.is_valid(i).then(|| a.value(i)),
            StrCol::None => None,
        }
    }
}

enum BinCol<'a> {
    Small(&'a BinaryArray),
    Large(&'a LargeBinaryArray),
    View(&'a BinaryViewArray),
    Str(Strs<'a>),
}

/// Byte values of one argument.
pub(crate) struct Bytes<'a> {
    col: BinCol<'a>,
    one: bool,
}

impl<'a> Bytes<'a> {
    /// The value at row `i`, `None` for NULL.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        let j = if self.one { 0 } else { i };
        match &self.col {
            BinCol::Small(a) => a.is_valid(j).then(|| a.value(j)),
            BinCol::Large(a) => a.is_valid(j).then(|| a.value(j)),
            BinCol::View(a) => a.is_valid(j).then(|| a.value(j)),
            BinCol::Str(s) => s.get(i).map(str::as_bytes),
        }
    }
}

/// Primitive values of one argument.
pub(crate) struct Prims<'a, T: ArrowPrimitiveType> {
    col: Option<&'a PrimitiveArray<T>>,
    one: bool,
}

impl<T: ArrowPrimitiveType> Prims<'_, T> {
    /// The value at row `i`, `None` for NULL.
    #[inline]
    pub fn get(&self, i: usize) -> Option<T::Native> {
        let i = if self.one { 0 } else { i };
        let a = self.col?;
        a.is_valid(i).then(|| a.value(i))
    }
}

/// Boolean values of one argument.
pub(crate) struct Bools<'a> {
    col: Option<&'a datafusion::arrow::array::BooleanArray>,
    one: bool,
}

impl Bools<'_> {
    /// The value at row `i`, `None` for NULL.
    #[inline]
    pub fn get(&self, i: usize) -> Option<bool> {
        let i = if self.one { 0 } else { i };
        let a = self.col?;
        a.is_valid(i).then(|| a.value(i))
    }
}

/// The return type is the type of argument `k` (after conversion).
pub(crate) fn same_as<const K: usize>(types: &[DataType], _: &[Option<&ScalarValue>]) -> Result<DataType> {
    Ok(types.get(K).cloned().unwrap_or(DataType::Null))
}

/// Text results: one `Option<String>`-producing closure per row.
pub(crate) fn strings(rows: usize, mut f: impl FnMut(usize) -> Option<String>) -> ArrayRef {
    let mut b = datafusion::arrow::array::StringBuilder::with_capacity(rows, rows * 8);
    for i in 0..rows {
        b.append_option(f(i));
    }
    Arc::new(b.finish())
}

/// Text results from a body that may fail: the first error ends the call.
pub(crate) fn try_strings(rows: usize, mut f: impl FnMut(usize) -> Result<Option<String>>) -> Result<ArrayRef> {
    let mut b = datafusion::arrow::array::StringBuilder::with_capacity(rows, rows * 8);
    for i in 0..rows {
        b.append_option(f(i)?);
    }
    Ok(Arc::new(b.finish()))
}

/// Text results written into a reused buffer: the closure appends the value
/// to the buffer and returns false for NULL.
pub(crate) fn strings_into(rows: usize, mut f: impl FnMut(usize, &mut String) -> bool) -> ArrayRef {
    let mut b = datafusion::arrow::array::StringBuilder::with_capacity(rows, rows * 8);
    let mut buf = String::new();
    for i in 0..rows {
        buf.clear();
        if f(i, &mut buf) {
            b.append_value(&buf);
        } else {
            b.append_null();
        }
    }
    Arc::new(b.finish())
}

/// Primitive results, one per row.
pub(crate) fn prims<T: ArrowPrimitiveType>(rows: usize, f: impl FnMut(usize) -> Option<T::Native>) -> ArrayRef {
    let out: PrimitiveArray<T> = (0..rows).map(f).collect();
    Arc::new(out)
}

/// Primitive results with the given type (decimals with their precision and
/// scale, timestamps with their zone).
pub(crate) fn prims_as<T: ArrowPrimitiveType>(
    rows: usize,
    t: &DataType,
    f: impl FnMut(usize) -> Option<T::Native>,
) -> Result<ArrayRef> {
    let out: PrimitiveArray<T> = (0..rows).map(f).collect();
    Ok(Arc::new(out.with_data_type(t.clone())))
}

/// Boolean results, one per row.
pub(crate) fn bools(rows: usize, f: impl FnMut(usize) -> Option<bool>) -> ArrayRef {
    let out: datafusion::arrow::array::BooleanArray = (0..rows).map(f).collect();
    Arc::new(out)
}

/// Binary results, one per row.
pub(crate) fn binaries(rows: usize, mut f: impl FnMut(usize) -> Option<Vec<u8>>) -> ArrayRef {
    let mut b = datafusion::arrow::array::BinaryBuilder::with_capacity(rows, rows * 8);
    for i in 0..rows {
        b.append_option(f(i));
    }
    Arc::new(b.finish())
}

/// A name that is not a scalar function here, registered so the user
/// learns why (`why` completes "NAME: ...") rather than that it does not exist.
pub(crate) fn unsupported(name: &'static str, why: &'static str) -> ScalarUDF {
    #[derive(Debug, PartialEq, Eq, Hash)]
    struct Unsupported {
        name: &'static str,
        why: &'static str,
        signature: Signature,
    }
    impl ScalarUDFImpl for Unsupported {
        fn name(&self) -> &str {
            self.name
        }
        fn signature(&self) -> &Signature {
            &self.signature
        }
        fn return_type(&self, _: &[DataType]) -> Result<DataType> {
            plan_err!("{}: {}", self.name, self.why)
        }
        fn invoke_with_args(&self, _: ScalarFunctionArgs) -> Result<ColumnarValue> {
            plan_err!("{}: {}", self.name, self.why)
        }
    }
    ScalarUDF::new_from_impl(Unsupported { name, why, signature: Signature::variadic_any(Volatility::Volatile) })
}
