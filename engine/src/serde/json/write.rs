//! Writing rows as JSON lines, as Hive's JsonSerDe writes them: one object
//! per row, keys in column order, NULL as `null`, timestamps and dates as
//! strings, nested values as JSON.

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Float32Type, Float64Type};

use super::JsonOptions;
use crate::error::Result;
use crate::value::{write_json_string, write_nested_element};

/// Append the rows of `batch` as JSON lines.
pub fn write_batch(batch: &RecordBatch, opts: &JsonOptions, out: &mut Vec<u8>) -> Result<()> {
    let schema = batch.schema();
    // The key of each column: its mapping (OpenX), else its name.
    let keys: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| {
            let mut k = String::new();
            write_json_string(opts.mappings.get(f.name()).unwrap_or(f.name()), &mut k);
            k
        })
        .collect();
    let mut line = String::new();
    for row in 0..batch.num_rows() {
        line.clear();
        line.push('{');
        for (i, col) in batch.columns().iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            line.push_str(&keys[i]);
            line.push(':');
            write_json_value(col.as_ref(), row, &mut line);
        }
        line.push_str("}\n");
        out.extend_from_slice(line.as_bytes());
    }
    Ok(())
}

/// A value as JSON; non-finite floating point numbers (not JSON numbers) as strings.
fn write_json_value(array: &dyn Array, row: usize, out: &mut String) {
    let non_finite = array.is_valid(row)
        && match array.data_type() {
            DataType::Float64 => !array.as_primitive::<Float64Type>().value(row).is_finite(),
            DataType::Float32 => !array.as_primitive::<Float32Type>().value(row).is_finite(),
            _ => false,
        };
    if non_finite {
        let mut s = String::new();
        crate::value::write_primitive(array, row, &mut s);
        write_json_string(&s, out);
    } else {
        write_nested_element(array, row, out);
    }
}
