//! Hive's aggregates that DataFusion lacks (the others run as DataFusion's
//! under Hive's names, see `sql::rewrite`):
//! - `percentile_disc(x, p)`: the value at index `ceil(p * (n - 1))` of the
//!   sorted non-NULL values, as a DOUBLE, as Hive's
//!   `GenericUDAFPercentileDisc` computes it over the position
//!   `p * (n - 1)` of its continuous sibling; NULL with no values.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, ListArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility};
use datafusion::physical_expr::expressions::Literal;

/// The aggregates of this module.
pub(crate) fn functions() -> Vec<AggregateUDF> {
    vec![AggregateUDF::from(PercentileDisc::new())]
}

/// `percentile_disc(x, p)`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct PercentileDisc {
    signature: Signature,
}

impl PercentileDisc {
    fn new() -> Self {
        PercentileDisc {
            signature: Signature::exact(vec![DataType::Float64, DataType::Float64], Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for PercentileDisc {
    fn name(&self) -> &str {
        "percentile_disc"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let p = match args.exprs.get(1).and_then(|e| e.downcast_ref::<Literal>()).map(|l| l.value()) {
            Some(v) => match v.cast_to(&DataType::Float64)? {
                ScalarValue::Float64(Some(p)) => p,
                _ => return plan_err!("percentile_disc: the percentile must not be NULL"),
            },
            None => return plan_err!("percentile_disc: the percentile must be a constant"),
        };
        if !(0.0..=1.0).contains(&p) {
            return plan_err!("percentile_disc: percentile value must be within the range of 0 to 1, got {p}");
        }
        Ok(Box::new(Values { p, values: Vec::new() }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let item = Arc::new(Field::new("item", DataType::Float64, true));
        Ok(vec![Arc::new(Field::new(format!("{}[values]", args.name), DataType::List(item), true))])
    }
}

/// The values seen so far.
#[derive(Debug)]
struct Values {
    p: f64,
    values: Vec<f64>,
}

impl Accumulator for Values {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(v) = values.first() else { return exec_err!("percentile_disc: no argument") };
        self.values.extend(v.as_primitive::<Float64Type>().iter().flatten());
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let Some(lists) = states.first() else { return exec_err!("percentile_disc: no state") };
        for list in lists.as_list::<i32>().iter().flatten() {
            self.values.extend(list.as_primitive::<Float64Type>().iter().flatten());
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let values: ArrayRef = Arc::new(Float64Array::from(self.values.clone()));
        Ok(vec![ScalarValue::List(Arc::new(ListArray::new(
            Arc::new(Field::new("item", DataType::Float64, true)),
            datafusion::arrow::buffer::OffsetBuffer::from_lengths([values.len()]),
            values,
            None,
        )))])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if self.values.is_empty() {
            return Ok(ScalarValue::Float64(None));
        }
        self.values.sort_by(f64::total_cmp);
        let position = self.p * (self.values.len() - 1) as f64;
        Ok(ScalarValue::Float64(Some(self.values[position.ceil() as usize])))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.values.capacity() * std::mem::size_of::<f64>()
    }
}
