//! Hive's collection functions where DataFusion's differ: `size` of NULL is
//! -1, `array_contains` is false (not NULL) for a NULL array or value,
//! `array_slice` counts from 0 and takes a length, `array_join` of an empty
//! array is NULL (`struct(...)`, whose fields Hive names `col1`, `col2`, ...,
//! is planned as `named_struct`, see `sql::rewrite`)
//! (`sort_array`, `array_remove`, `map_keys` and the rest are DataFusion's
//! under Hive's names, see `sql::rewrite`).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Field, Int32Type};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::ScalarUDF;

use super::udf::{Arg, Args, HiveScalar, exactly, optional, prims, strings_into};

/// The collection functions of this module.
pub(crate) fn functions() -> Vec<ScalarUDF> {
    use Arg::*;
    use DataType::*;
    vec![
        HiveScalar::new("size", exactly(&[Any]), |_, _| Ok(Int32), size).udf(),
        HiveScalar::new("array_contains", exactly(&[Any, Any]), |_, _| Ok(Boolean), array_contains)
            .coerce_with(element_and_value)
            .udf(),
        HiveScalar::new("array_slice", exactly(&[Any, Int, Int]), |t, _| Ok(t[0].clone()), array_slice).udf(),
        HiveScalar::new("array_join", optional(&[Any, Str, Str], 2), |_, _| Ok(Utf8), array_join).udf(),
    ]
}

/// The values of the list at `row` (any list type), `None` when NULL or not a list.
pub(crate) fn list_values(col: &ArrayRef, row: usize) -> Option<ArrayRef> {
    if col.is_null(row) {
        return None;
    }
    Some(match col.data_type() {
        DataType::List(_) => col.as_list::<i32>().value(row),
        DataType::LargeList(_) => col.as_list::<i64>().value(row),
        DataType::FixedSizeList(..) => col.as_fixed_size_list().value(row),
        _ => return None,
    })
}

fn size(a: &Args) -> Result<ArrayRef> {
    let col = a.col(0);
    let t = col.data_type().clone();
    Ok(prims::<Int32Type>(a.rows(), |i| {
        let r = a.at(0, i);
        if col.is_null(r) {
            return Some(-1);
        }
        Some(match &t {
            DataType::Map(..) => col.as_map().value_length(r),
            DataType::List(_) => col.as_list::<i32>().value_length(r),
            DataType::LargeList(_) => col.as_list::<i64>().value_length(r) as i32,
            DataType::FixedSizeList(_, n) => *n,
            _ => -1,
        })
    }))
}

/// `array_contains(array<T>, v)`: v converted to T.
fn element_and_value(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    let element = match &types[0] {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => f.data_type().clone(),
        DataType::Null => return Ok(types.to_vec()),
        t => return plan_err!("{name}: argument 1 must be an ARRAY, not {t}"),
    };
    Ok(vec![types[0].clone(), element])
}

fn array_contains(a: &Args) -> Result<ArrayRef> {
    let (arr, v) = (a.col(0), a.col(1));
    let mut out = Vec::with_capacity(a.rows());
    for i in 0..a.rows() {
        let r = a.at(1, i);
        let Some(values) = list_values(arr, a.at(0, i)) else {
            out.push(Some(false));
            continue;
        };
        if v.is_null(r) || values.is_empty() {
            out.push(Some(false));
            continue;
        }
        let needle = ScalarValue::try_from_array(v, r)?.to_array_of_size(values.len())?;
        let eq = datafusion::arrow::compute::kernels::cmp::eq(&values, &needle)?;
        out.push(Some(eq.true_count() > 0));
    }
    Ok(Arc::new(datafusion::arrow::array::BooleanArray::from(out)))
}

fn array_slice(a: &Args) -> Result<ArrayRef> {
    let arr = a.col(0);
    let (start, len) = (a.prim::<Int32Type>(1), a.prim::<Int32Type>(2));
    let mut pieces: Vec<Option<ArrayRef>> = Vec::with_capacity(a.rows());
    for i in 0..a.rows() {
        let (Some(values), Some(s), Some(n)) = (list_values(arr, a.at(0, i)), start.get(i), len.get(i)) else {
            pieces.push(None);
            continue;
        };
        if s < 0 || n < 0 {
            return exec_err!("array_slice: start and length must not be negative (got {s}, {n})");
        }
        let (s, n) = (s as usize, n as usize);
        pieces.push(Some(if s + n > values.len() { values.slice(0, 0) } else { values.slice(s, n) }));
    }
    let field = match a.ret() {
        DataType::List(f) => f.clone(),
        t => return exec_err!("array_slice: argument 1 must be an ARRAY, not {t}"),
    };
    rebuild_list(field, pieces)
}

/// A list array from one optional piece per row.
pub(crate) fn rebuild_list(field: Arc<Field>, pieces: Vec<Option<ArrayRef>>) -> Result<ArrayRef> {
    let mut offsets = vec![0i32];
    let mut valid = Vec::with_capacity(pieces.len());
    let mut parts: Vec<&dyn Array> = Vec::new();
    for p in &pieces {
        let n = p.as_ref().map_or(0, |p| p.len());
        offsets.push(offsets[offsets.len() - 1] + n as i32);
        valid.push(p.is_some());
        if let Some(p) = p {
            parts.push(p.as_ref());
        }
    }
    let values = if parts.is_empty() {
        datafusion::arrow::array::new_empty_array(field.data_type())
    } else {
        datafusion::arrow::compute::concat(&parts)?
    };
    let values = if values.data_type() == field.data_type() {
        values
    } else {
        datafusion::arrow::compute::cast(&values, field.data_type())?
    };
    Ok(Arc::new(datafusion::arrow::array::ListArray::try_new(
        field,
        datafusion::arrow::buffer::OffsetBuffer::new(offsets.into()),
        values,
        Some(valid.into()),
    )?))
}

fn array_join(a: &Args) -> Result<ArrayRef> {
    let arr = a.col(0);
    let delim = a.str(1);
    let repl = (a.len() > 2).then(|| a.str(2));
    Ok(strings_into(a.rows(), |i, out| {
        let (Some(values), Some(d)) = (list_values(arr, a.at(0, i)), delim.get(i)) else { return false };
        if values.is_empty() {
            return false;
        }
        let r = repl.as_ref().and_then(|r| r.get(i));
        let mut first = true;
        for j in 0..values.len() {
            let text = match crate::value::format_value(values.as_ref(), j) {
                Some(t) => t,
                None => match r {
                    Some(r) => r.to_string(),
                    None => continue,
                },
            };
            if !first {
                out.push_str(d);
            }
            first = false;
            out.push_str(&text);
        }
        true
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebuilds_lists() {
        let field = Arc::new(Field::new("item", DataType::Int32, true));
        let piece: ArrayRef = Arc::new(datafusion::arrow::array::Int32Array::from(vec![1, 2]));
        let l = rebuild_list(field, vec![Some(piece), None]).unwrap();
        assert_eq!(l.len(), 2);
        assert!(l.is_null(1));
    }
}
