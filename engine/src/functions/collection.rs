//! Hive's collection functions where DataFusion's differ: `size` of NULL is
//! -1, `array_contains` is false (not NULL) for a NULL array or value,
//! `array_slice` counts from 0 and takes a length, `array_join` of an empty
//! array is NULL, `sort_array_by` orders structs by named fields (`struct(...)`, whose fields Hive names `col1`, `col2`, ...,
//! is planned as `named_struct`, see `sql::rewrite`)
//! (`sort_array`, `array_remove`, `map_keys` and the rest are DataFusion's
//! under Hive's names, see `sql::rewrite`).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Field, Int32Type};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::ScalarUDF;

use super::udf::{Arg, Args, HiveScalar, exactly, optional, prims, strings_into, variadic};

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
        HiveScalar::new("sort_array_by", variadic(&[Any, Str], 2), |t, _| Ok(t[0].clone()), sort_array_by).udf(),
        HiveScalar::new("create_union", variadic(&[Int, Any], 2), |t, _| union_of(&t[1..]), create_union).udf(),
        HiveScalar::new("extract_union", optional(&[Any, Any], 1), extract_union_type, extract_union).udf(),
    ]
}

/// Hive's `uniontype<T0, T1, ...>`: a sparse union whose tags are the
/// positions of its types.
fn union_of(types: &[DataType]) -> Result<DataType> {
    use datafusion::arrow::datatypes::{UnionFields, UnionMode};
    let fields = types.iter().enumerate().map(|(i, t)| Field::new(i.to_string(), t.clone(), true));
    Ok(DataType::Union(UnionFields::try_new(0..types.len() as i8, fields)?, UnionMode::Sparse))
}

/// `create_union(tag, v0, v1, ...)`: the union holding `v<tag>`.
fn create_union(a: &Args) -> Result<ArrayRef> {
    use datafusion::arrow::array::{UInt32Array, UnionArray};
    let DataType::Union(fields, _) = a.ret().clone() else { return exec_err!("create_union: not a union type") };
    let tags = a.prim::<Int32Type>(0);
    let n = a.len() - 1;
    let mut type_ids = Vec::with_capacity(a.rows());
    for i in 0..a.rows() {
        match tags.get(i) {
            Some(t) if t >= 0 && (t as usize) < n => type_ids.push(t as i8),
            Some(t) => return exec_err!("create_union: tag {t} is not between 0 and {}", n - 1),
            None => return exec_err!("create_union: the tag must not be NULL"),
        }
    }
    // A sparse union's children are as long as the union: the arguments, spread to every row.
    let children = (1..a.len())
        .map(|k| {
            let col = a.col(k);
            if col.len() == a.rows() {
                Ok(col.clone())
            } else {
                let rows = UInt32Array::from_iter_values((0..a.rows()).map(|i| a.at(k, i) as u32));
                Ok(datafusion::arrow::compute::take(col.as_ref(), &rows, None)?)
            }
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Arc::new(UnionArray::try_new(fields, type_ids.into(), None, children)?))
}

/// The type `extract_union(u [, tag])` returns: with a tag, that member's
/// type; without, a struct `tag_0, tag_1, ...` of every member.
fn extract_union_type(t: &[DataType], scalars: &[Option<&ScalarValue>]) -> Result<DataType> {
    let DataType::Union(fields, _) = &t[0] else {
        return plan_err!("extract_union takes a UNIONTYPE, not {}", t[0]);
    };
    if t.len() > 1 {
        let tag = match scalars.get(1).copied().flatten().map(|s| s.cast_to(&DataType::Int64)) {
            Some(Ok(ScalarValue::Int64(Some(tag)))) => tag,
            _ => return plan_err!("extract_union: the tag must be a constant integer"),
        };
        return match fields.iter().find(|(id, _)| *id as i64 == tag) {
            Some((_, f)) => Ok(f.data_type().clone()),
            None => plan_err!("extract_union: the union has no tag {tag}"),
        };
    }
    Ok(DataType::Struct(
        fields.iter().map(|(id, f)| Field::new(format!("tag_{id}"), f.data_type().clone(), true)).collect(),
    ))
}

/// `extract_union(u [, tag])`: each member where it is the union's value
/// (NULL elsewhere), as a struct; or the one member asked for.
fn extract_union(a: &Args) -> Result<ArrayRef> {
    use datafusion::arrow::array::{BooleanArray, StructArray, UnionArray};
    use datafusion::arrow::compute::nullif;
    let Some(u) = a.col(0).as_any().downcast_ref::<UnionArray>() else {
        return exec_err!("extract_union takes a UNIONTYPE, not {}", a.data_type(0));
    };
    if u.is_dense() {
        return exec_err!("extract_union: dense unions are not supported");
    }
    let member = |id: i8| -> Result<ArrayRef> {
        let other = BooleanArray::from_iter((0..u.len()).map(|i| Some(u.type_id(i) != id)));
        Ok(nullif(u.child(id).as_ref(), &other)?)
    };
    let spread = |col: ArrayRef| -> Result<ArrayRef> {
        if col.len() == a.rows() {
            return Ok(col);
        }
        let rows = datafusion::arrow::array::UInt32Array::from_iter_values((0..a.rows()).map(|i| a.at(0, i) as u32));
        Ok(datafusion::arrow::compute::take(col.as_ref(), &rows, None)?)
    };
    match a.ret() {
        DataType::Struct(fields) => {
            let DataType::Union(members, _) = a.data_type(0) else { return exec_err!("extract_union: not a union") };
            let columns = members.iter().map(|(id, _)| member(id).and_then(spread)).collect::<Result<Vec<_>>>()?;
            Ok(Arc::new(StructArray::try_new(fields.clone(), columns, None)?))
        }
        _ => {
            let tag = datafusion::arrow::compute::cast(a.col(1), &DataType::Int8)?;
            let tag = tag.as_primitive::<datafusion::arrow::datatypes::Int8Type>();
            if tag.is_null(0) {
                return exec_err!("extract_union: the tag must not be NULL");
            }
            spread(member(tag.value(0))?)
        }
    }
}

/// `sort_array_by(array<struct>, 'f1', ... [, 'ASC' | 'DESC'])`: the
/// structs ordered by the named fields (case-insensitive), NULL fields
/// first when ascending, a stable sort as Java's; NULL for a NULL array.
fn sort_array_by(a: &Args) -> Result<ArrayRef> {
    use datafusion::arrow::compute::{SortColumn, SortOptions, lexsort_to_indices, take};
    let arr = a.col(0);
    let mut names: Vec<String> = Vec::new();
    for k in 1..a.len() {
        match a.scalar(k) {
            Some(ScalarValue::Utf8(Some(n)) | ScalarValue::LargeUtf8(Some(n)) | ScalarValue::Utf8View(Some(n))) => {
                names.push(n)
            }
            _ => return exec_err!("sort_array_by: argument {} must be a constant field name", k + 1),
        }
    }
    let mut descending = false;
    if names.len() > 1
        && let Some(order) = names.last().map(|o| o.trim().to_ascii_uppercase())
        && (order == "ASC" || order == "DESC")
    {
        descending = order == "DESC";
        names.pop();
    }
    let field = match a.ret() {
        DataType::List(f) => f.clone(),
        t => return exec_err!("sort_array_by: argument 1 must be an ARRAY of STRUCT, not {t}"),
    };
    let DataType::Struct(fields) = field.data_type() else {
        return exec_err!("sort_array_by: the array's elements must be STRUCTs, not {}", field.data_type());
    };
    let positions = names
        .iter()
        .map(|n| match fields.iter().position(|f| f.name().eq_ignore_ascii_case(n)) {
            Some(p) => Ok(p),
            None => exec_err!("sort_array_by: the structs have no field '{n}'"),
        })
        .collect::<Result<Vec<_>>>()?;
    let options = SortOptions { descending, nulls_first: !descending };
    let mut pieces = Vec::with_capacity(a.rows());
    for i in 0..a.rows() {
        let Some(values) = list_values(arr, a.at(0, i)) else {
            pieces.push(None);
            continue;
        };
        let structs = values.as_struct();
        let mut keys: Vec<SortColumn> = positions
            .iter()
            .map(|p| SortColumn { values: structs.column(*p).clone(), options: Some(options) })
            .collect();
        // the element's position last: equal keys keep their order
        let order: ArrayRef = Arc::new(datafusion::arrow::array::UInt32Array::from_iter_values(0..values.len() as u32));
        keys.push(SortColumn { values: order, options: None });
        let indices = lexsort_to_indices(&keys, None)?;
        pieces.push(Some(take(values.as_ref(), &indices, None)?));
    }
    rebuild_list(field, pieces)
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
