//! Hive's aggregates that DataFusion lacks (the others run as DataFusion's
//! under Hive's names, see `sql::rewrite`):
//! - `percentile_disc(x, p)`: the value at index `ceil(p * (n - 1))` of the
//!   sorted non-NULL values, as a DOUBLE, as Hive's
//!   `GenericUDAFPercentileDisc` computes it over the position
//!   `p * (n - 1)` of its continuous sibling; NULL with no values;
//! - `histogram_numeric(x, nb)`: Hive's `NumericHistogram` (Ben-Haim and
//!   Tom-Tov's streaming histogram): at most `nb` bins, each new value a bin
//!   of its own and the two closest bins merged into their weighted mean
//!   while there are too many (ties broken by `java.util.Random(31183)` as
//!   Hive breaks them); partial histograms merge the same way. With at most
//!   `nb` distinct values the bins are exact (each value, its count); past
//!   that the bins depend on the order rows arrive in, in Hive as here.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, ListArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility};
use datafusion::physical_expr::expressions::Literal;

/// The aggregates of this module.
pub(crate) fn functions() -> Vec<AggregateUDF> {
    vec![AggregateUDF::from(PercentileDisc::new()), AggregateUDF::from(HistogramNumeric::new())]
}

/// The constant argument `k` of an aggregate, as a DOUBLE.
fn constant_f64(args: &AccumulatorArgs, k: usize, name: &str, what: &str) -> Result<f64> {
    match args.exprs.get(k).and_then(|e| e.downcast_ref::<Literal>()).map(|l| l.value()) {
        Some(v) => match v.cast_to(&DataType::Float64)? {
            ScalarValue::Float64(Some(x)) => Ok(x),
            _ => plan_err!("{name}: the {what} must not be NULL"),
        },
        None => plan_err!("{name}: the {what} must be a constant"),
    }
}

/// A list of DOUBLEs as one state value.
fn f64_list(values: Vec<f64>) -> ScalarValue {
    let values: ArrayRef = Arc::new(Float64Array::from(values));
    ScalarValue::List(Arc::new(ListArray::new(
        Arc::new(Field::new("item", DataType::Float64, true)),
        datafusion::arrow::buffer::OffsetBuffer::from_lengths([values.len()]),
        values,
        None,
    )))
}

/// The state field of an aggregate whose state is one list of DOUBLEs.
fn f64_list_field(name: &str, what: &str) -> FieldRef {
    let item = Arc::new(Field::new("item", DataType::Float64, true));
    Arc::new(Field::new(format!("{name}[{what}]"), DataType::List(item), true))
}

/// `histogram_numeric(x, nb)`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct HistogramNumeric {
    signature: Signature,
}

impl HistogramNumeric {
    fn new() -> Self {
        HistogramNumeric {
            signature: Signature::exact(vec![DataType::Float64, DataType::Float64], Volatility::Immutable),
        }
    }

    fn bin_type() -> DataType {
        DataType::Struct(
            vec![Field::new("x", DataType::Float64, true), Field::new("y", DataType::Float64, true)].into(),
        )
    }
}

impl AggregateUDFImpl for HistogramNumeric {
    fn name(&self) -> &str {
        "histogram_numeric"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::List(Arc::new(Field::new("item", Self::bin_type(), true))))
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let nb = constant_f64(&args, 1, "histogram_numeric", "number of bins")?;
        if nb < 2.0 {
            return plan_err!("histogram_numeric needs nbins to be at least 2, but you supplied {nb}");
        }
        Ok(Box::new(Histogram { bins_max: nb as usize, bins: Vec::new(), random: super::math::JavaRandom::new(31183) }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![f64_list_field(args.name, "bins")])
    }
}

/// Hive's `NumericHistogram`: (x, count) bins in x order.
#[derive(Debug)]
struct Histogram {
    bins_max: usize,
    bins: Vec<(f64, f64)>,
    random: super::math::JavaRandom,
}

impl Histogram {
    fn add(&mut self, v: f64) {
        let at = self.bins.partition_point(|(x, _)| *x < v);
        if at < self.bins.len() && self.bins[at].0 == v {
            self.bins[at].1 += 1.0;
        } else {
            self.bins.insert(at, (v, 1.0));
            self.trim();
        }
    }

    /// Merge the closest neighbours until at most `bins_max` bins remain.
    fn trim(&mut self) {
        while self.bins.len() > self.bins_max {
            let mut smallest = self.bins[1].0 - self.bins[0].0;
            let (mut at, mut ties) = (0, 1);
            for i in 1..self.bins.len() - 1 {
                let diff = self.bins[i + 1].0 - self.bins[i].0;
                if diff < smallest {
                    smallest = diff;
                    at = i;
                    ties = 1;
                } else if diff == smallest {
                    ties += 1;
                    if self.random.next_double() <= 1.0 / ties as f64 {
                        at = i;
                    }
                }
            }
            let ((x0, y0), (x1, y1)) = (self.bins[at], self.bins[at + 1]);
            let d = y0 + y1;
            self.bins[at] = (x0 * (y0 / d) + x1 / d * y1, d);
            self.bins.remove(at + 1);
        }
    }
}

impl Accumulator for Histogram {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(v) = values.first() else { return exec_err!("histogram_numeric: no argument") };
        for x in v.as_primitive::<Float64Type>().iter().flatten() {
            self.add(x);
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let Some(lists) = states.first() else { return exec_err!("histogram_numeric: no state") };
        for list in lists.as_list::<i32>().iter().flatten() {
            let other = list.as_primitive::<Float64Type>();
            if other.len() < 3 {
                continue;
            }
            // [nb, x1, y1, x2, y2, ...], as Hive's partial result
            let other_bins = (1..other.len() - 1).step_by(2).map(|i| (other.value(i), other.value(i + 1)));
            if self.bins.is_empty() {
                self.bins_max = other.value(0) as usize;
                self.bins = other_bins.collect();
            } else {
                self.bins.extend(other_bins);
                self.bins.sort_by(|a, b| a.0.total_cmp(&b.0));
                self.trim();
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        if self.bins.is_empty() {
            return Ok(vec![f64_list(vec![])]);
        }
        let mut out = vec![self.bins_max as f64];
        out.extend(self.bins.iter().flat_map(|(x, y)| [*x, *y]));
        Ok(vec![f64_list(out)])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let item = Arc::new(Field::new("item", HistogramNumeric::bin_type(), true));
        if self.bins.is_empty() {
            return ScalarValue::try_from(&DataType::List(item));
        }
        let xs: ArrayRef = Arc::new(Float64Array::from(self.bins.iter().map(|b| b.0).collect::<Vec<_>>()));
        let ys: ArrayRef = Arc::new(Float64Array::from(self.bins.iter().map(|b| b.1).collect::<Vec<_>>()));
        let DataType::Struct(fields) = HistogramNumeric::bin_type() else { unreachable!("a struct type") };
        let structs: ArrayRef = Arc::new(datafusion::arrow::array::StructArray::try_new(fields, vec![xs, ys], None)?);
        Ok(ScalarValue::List(Arc::new(ListArray::new(
            item,
            datafusion::arrow::buffer::OffsetBuffer::from_lengths([structs.len()]),
            structs,
            None,
        ))))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.bins.capacity() * std::mem::size_of::<(f64, f64)>()
    }
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
        let p = constant_f64(&args, 1, "percentile_disc", "percentile")?;
        if !(0.0..=1.0).contains(&p) {
            return plan_err!("percentile_disc: percentile value must be within the range of 0 to 1, got {p}");
        }
        Ok(Box::new(Values { p, values: Vec::new() }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![f64_list_field(args.name, "values")])
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
        Ok(vec![f64_list(self.values.clone())])
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
