//! Partition pruning: choosing the partitions a query reads from its
//! predicates on partition columns, before any file is listed.
//!
//! Two steps. The conjuncts the metastore can evaluate (comparisons with
//! constants, `IN`, `BETWEEN`, `IS NULL`, `LIKE`, and their `AND`/`OR`/`NOT`)
//! become a [`PartitionFilter`], so the metastore's SQL returns only the
//! values of candidate partitions. Every predicate (functions of partition
//! columns such as `substr(dt, 1, 7) = '2024-05'` too) is then evaluated
//! by DataFusion on those values, and only the partitions that pass are
//! loaded whole.

use std::sync::Arc;

use datafusion::arrow::array::{Array, BooleanArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, FieldRef, Schema};
use datafusion::catalog::Session as DfSession;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, DFSchema, Result, ScalarValue};
use datafusion::logical_expr::expr::InList;
use datafusion::logical_expr::{Between, BinaryExpr, Expr, Like, Operator};
use hiveql_metastore::{CompareOp, FilterValue, HiveType, PartitionFilter};

use super::path::DEFAULT_PARTITION;
use crate::value::write_date;

/// The typed value of a partition key (NULL for the default partition and
/// for text that does not convert, as Hive reads it).
pub fn partition_scalar(value: Option<&str>, ty: &DataType) -> Result<ScalarValue> {
    match value {
        None | Some(DEFAULT_PARTITION) => ScalarValue::try_from(ty),
        Some(s) => ScalarValue::try_from_string(s.to_string(), ty).or_else(|_| ScalarValue::try_from(ty)),
    }
}

/// True when `expr` can choose partitions: it reads partition columns
/// only and gives the same answer every time it is evaluated.
pub fn is_partition_predicate(expr: &Expr, fields: &[FieldRef]) -> bool {
    let columns = expr.column_refs();
    !columns.is_empty() && columns.iter().all(|c| fields.iter().any(|f| f.name() == &c.name)) && !expr.is_volatile()
}

/// The part of `exprs` (each a partition predicate) the metastore can evaluate.
pub fn metastore_filter(exprs: &[Expr], fields: &[FieldRef], types: &[HiveType]) -> PartitionFilter {
    PartitionFilter::And(exprs.iter().map(|e| translate(e, fields, types)).collect())
}

fn translate(expr: &Expr, fields: &[FieldRef], types: &[HiveType]) -> PartitionFilter {
    let key_of = |e: &Expr| match e {
        Expr::Column(c) => fields.iter().position(|f| f.name() == &c.name),
        _ => None,
    };
    let value_of = |key: usize, e: &Expr| match e {
        Expr::Literal(v, _) => filter_value(&types[key], v),
        _ => None,
    };
    match expr {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => match op {
            Operator::And | Operator::Or => {
                let both = vec![translate(left, fields, types), translate(right, fields, types)];
                if *op == Operator::And { PartitionFilter::And(both) } else { PartitionFilter::Or(both) }
            }
            _ => {
                let Some(op) = compare_op(*op) else { return PartitionFilter::All };
                let (key, value, op) = match (key_of(left), key_of(right)) {
                    (Some(k), None) => (k, right.as_ref(), op),
                    (None, Some(k)) => (k, left.as_ref(), flip(op)),
                    _ => return PartitionFilter::All,
                };
                if matches!(value, Expr::Literal(v, _) if v.is_null()) {
                    // `k = NULL` holds for no row.
                    return PartitionFilter::Or(vec![]);
                }
                match value_of(key, value) {
                    Some(value) => PartitionFilter::Compare { key, op, value },
                    None => PartitionFilter::All,
                }
            }
        },
        Expr::Not(e) => PartitionFilter::Not(Box::new(translate(e, fields, types))),
        Expr::IsNull(e) => key_of(e).map_or(PartitionFilter::All, |key| PartitionFilter::IsNull { key }),
        Expr::IsNotNull(e) => key_of(e)
            .map_or(PartitionFilter::All, |key| PartitionFilter::Not(Box::new(PartitionFilter::IsNull { key }))),
        Expr::InList(InList { expr, list, negated }) => {
            let Some(key) = key_of(expr) else { return PartitionFilter::All };
            let values: Option<Vec<FilterValue>> = list
                .iter()
                .filter(|e| !matches!(e, Expr::Literal(v, _) if v.is_null()))
                .map(|e| value_of(key, e))
                .collect();
            match values {
                Some(values) if !negated => PartitionFilter::In { key, values },
                Some(values) => PartitionFilter::Not(Box::new(PartitionFilter::In { key, values })),
                None => PartitionFilter::All,
            }
        }
        Expr::Between(Between { expr, negated, low, high }) => {
            let Some(key) = key_of(expr) else { return PartitionFilter::All };
            let (Some(lo), Some(hi)) = (value_of(key, low), value_of(key, high)) else { return PartitionFilter::All };
            let range = PartitionFilter::And(vec![
                PartitionFilter::Compare { key, op: CompareOp::GtEq, value: lo },
                PartitionFilter::Compare { key, op: CompareOp::LtEq, value: hi },
            ]);
            if *negated { PartitionFilter::Not(Box::new(range)) } else { range }
        }
        Expr::Like(Like { negated: false, expr, pattern, escape_char: None, case_insensitive: false }) => {
            let Some(key) = key_of(expr) else { return PartitionFilter::All };
            match pattern.as_ref() {
                // SQLite's LIKE has no escape character by default: leave patterns with one to DataFusion.
                Expr::Literal(v, _)
                    if matches!(types[key], HiveType::String | HiveType::Varchar(_) | HiveType::Char(_)) =>
                {
                    match v.try_as_str().flatten() {
                        Some(p) if !p.contains('\\') => PartitionFilter::Like { key, pattern: p.to_string() },
                        _ => PartitionFilter::All,
                    }
                }
                _ => PartitionFilter::All,
            }
        }
        _ => PartitionFilter::All,
    }
}

fn compare_op(op: Operator) -> Option<CompareOp> {
    Some(match op {
        Operator::Eq => CompareOp::Eq,
        Operator::NotEq => CompareOp::NotEq,
        Operator::Lt => CompareOp::Lt,
        Operator::LtEq => CompareOp::LtEq,
        Operator::Gt => CompareOp::Gt,
        Operator::GtEq => CompareOp::GtEq,
        _ => return None,
    })
}

/// `const op key` as `key op' const`.
fn flip(op: CompareOp) -> CompareOp {
    match op {
        CompareOp::Lt => CompareOp::Gt,
        CompareOp::LtEq => CompareOp::GtEq,
        CompareOp::Gt => CompareOp::Lt,
        CompareOp::GtEq => CompareOp::LtEq,
        other => other,
    }
}

/// A constant as the metastore compares it with a key of type `ty`; `None`
/// when the comparison is left to DataFusion.
fn filter_value(ty: &HiveType, v: &ScalarValue) -> Option<FilterValue> {
    let int = match v {
        ScalarValue::Int8(Some(i)) => Some(*i as i64),
        ScalarValue::Int16(Some(i)) => Some(*i as i64),
        ScalarValue::Int32(Some(i)) => Some(*i as i64),
        ScalarValue::Int64(Some(i)) => Some(*i),
        ScalarValue::UInt8(Some(i)) => Some(*i as i64),
        ScalarValue::UInt16(Some(i)) => Some(*i as i64),
        ScalarValue::UInt32(Some(i)) => Some(*i as i64),
        _ => None,
    };
    let real = match v {
        ScalarValue::Float32(Some(f)) => Some(*f as f64),
        ScalarValue::Float64(Some(f)) => Some(*f),
        _ => int.map(|i| i as f64),
    };
    match ty {
        HiveType::TinyInt | HiveType::SmallInt | HiveType::Int | HiveType::BigInt => {
            int.map(FilterValue::Int).or(real.map(FilterValue::Real))
        }
        HiveType::Float | HiveType::Double => real.map(FilterValue::Real),
        HiveType::String | HiveType::Varchar(_) | HiveType::Char(_) => {
            v.try_as_str().flatten().map(|s| FilterValue::Text(s.to_string()))
        }
        HiveType::Date => match v {
            ScalarValue::Date32(Some(d)) => {
                let mut s = String::new();
                write_date(*d, &mut s);
                Some(FilterValue::Text(s))
            }
            _ => None,
        },
        _ => None,
    }
}

/// The partitions (given by their values) for which every one of `exprs`
/// is true, evaluated by DataFusion on the typed partition values.
pub fn evaluate(
    state: &dyn DfSession,
    exprs: &[Expr],
    fields: &[FieldRef],
    candidates: Vec<Vec<Option<String>>>,
) -> Result<Vec<Vec<Option<String>>>> {
    if exprs.is_empty() || candidates.is_empty() {
        return Ok(candidates);
    }
    let schema = Arc::new(Schema::new(fields.to_vec()));
    let columns = fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let values = candidates
                .iter()
                .map(|vals| partition_scalar(vals.get(i).cloned().flatten().as_deref(), f.data_type()))
                .collect::<Result<Vec<_>>>()?;
            ScalarValue::iter_to_array(values)
        })
        .collect::<Result<Vec<_>>>()?;
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    let df_schema = DFSchema::try_from(schema.as_ref().clone())?;
    let mut keep = vec![true; candidates.len()];
    for expr in exprs {
        // Scan filters name the table; the partition batch has bare names.
        let bare = expr
            .clone()
            .transform_up(|e| match e {
                Expr::Column(c) => Ok(Transformed::yes(Expr::Column(Column::new_unqualified(c.name)))),
                other => Ok(Transformed::no(other)),
            })?
            .data;
        let physical = state.create_physical_expr(bare, &df_schema)?;
        let result = physical.evaluate(&batch)?.into_array(batch.num_rows())?;
        let Some(result) = result.as_any().downcast_ref::<BooleanArray>() else { continue };
        for (i, k) in keep.iter_mut().enumerate() {
            *k &= result.is_valid(i) && result.value(i);
        }
    }
    Ok(candidates.into_iter().zip(keep).filter_map(|(v, k)| k.then_some(v)).collect())
}
