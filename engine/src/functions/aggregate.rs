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
//!   that the bins depend on the order rows arrive in, in Hive as here;
//! - `ngrams(sentences, n, k [, pf])` and `context_ngrams(sentences,
//!   context, k [, pf])`: Hive's `NGramEstimator`, the k most frequent
//!   n-grams of arrays of words (or of the words filling a context's NULLs),
//!   counts kept for `max(k * pf, 1000)` n-grams (trimmed at twice that),
//!   ordered by frequency and then by words. Exact while fewer n-grams than
//!   that buffer are seen; past it, frequencies are under-counted as Hive's.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, ListArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility};
use datafusion::physical_expr::expressions::Literal;

/// The aggregates of this module.
pub(crate) fn functions() -> Vec<AggregateUDF> {
    vec![
        AggregateUDF::from(PercentileDisc::new()),
        AggregateUDF::from(HistogramNumeric::new()),
        AggregateUDF::from(NGrams::new(false)),
        AggregateUDF::from(NGrams::new(true)),
    ]
}

/// `ngrams` (or, `context`, `context_ngrams`).
#[derive(Debug, PartialEq, Eq, Hash)]
struct NGrams {
    context: bool,
    signature: Signature,
}

impl NGrams {
    fn new(context: bool) -> Self {
        use datafusion::logical_expr::TypeSignature;
        NGrams {
            context,
            signature: Signature::one_of(vec![TypeSignature::Any(3), TypeSignature::Any(4)], Volatility::Immutable),
        }
    }

    fn gram_type() -> DataType {
        DataType::Struct(
            vec![
                Field::new("ngram", DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))), true),
                Field::new("estfrequency", DataType::Float64, true),
            ]
            .into(),
        )
    }
}

impl AggregateUDFImpl for NGrams {
    fn name(&self) -> &str {
        if self.context { "context_ngrams" } else { "ngrams" }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        let words = |t: &DataType| match t {
            DataType::List(f) | DataType::LargeList(f) => {
                matches!(f.data_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
                    || matches!(f.data_type(), DataType::List(g) | DataType::LargeList(g)
                        if matches!(g.data_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View))
            }
            _ => false,
        };
        if !args.first().is_some_and(words) {
            return plan_err!("{}: the first argument must be an ARRAY of STRING or of ARRAY<STRING>", self.name());
        }
        Ok(DataType::List(Arc::new(Field::new("item", Self::gram_type(), true))))
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let name = self.name();
        let k = constant_f64(&args, 2, name, "k")? as usize;
        let pf = if args.exprs.len() > 3 { constant_f64(&args, 3, name, "precision factor")? as usize } else { 1 };
        if k == 0 || pf == 0 {
            return plan_err!("{name}: k and the precision factor must be positive");
        }
        let context = if self.context {
            let value = args.exprs.get(1).and_then(|e| e.downcast_ref::<Literal>()).map(|l| l.value().clone());
            let Some(ScalarValue::List(list)) = value else {
                return plan_err!(
                    "{name}: the context must be a constant ARRAY of STRING (NULL where words are counted)"
                );
            };
            let words = datafusion::arrow::compute::cast(&list.value(0), &DataType::Utf8)?;
            let words: Vec<Option<String>> = words.as_string::<i32>().iter().map(|w| w.map(str::to_string)).collect();
            if !words.iter().any(Option::is_none) {
                return plan_err!("{name}: the context must contain at least one NULL");
            }
            Some(words)
        } else {
            None
        };
        let n = match &context {
            Some(c) => c.iter().filter(|w| w.is_none()).count(),
            None => constant_f64(&args, 1, name, "n")? as usize,
        };
        if n == 0 {
            return plan_err!("{name}: n must be positive");
        }
        // Hive's NGramEstimator.initialize: at least 1000 n-grams are kept
        let pf = if k * pf < 1000 { 1000 / k } else { pf };
        Ok(Box::new(NGramCounts { k, pf, n, context, counts: Default::default() }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let item = Arc::new(Field::new("item", DataType::Utf8, true));
        Ok(vec![Arc::new(Field::new(format!("{}[ngrams]", args.name), DataType::List(item), true))])
    }
}

/// Hive's `NGramEstimator`.
#[derive(Debug)]
struct NGramCounts {
    k: usize,
    pf: usize,
    n: usize,
    context: Option<Vec<Option<String>>>,
    counts: std::collections::HashMap<Vec<String>, f64>,
}

impl NGramCounts {
    fn add(&mut self, gram: Vec<String>) {
        *self.counts.entry(gram).or_insert(0.0) += 1.0;
        if self.counts.len() > self.k * self.pf * 2 {
            self.trim(self.k * self.pf);
        }
    }

    /// Keep the `keep` most frequent n-grams (ties: the smaller words first).
    fn trim(&mut self, keep: usize) {
        if self.counts.len() <= keep {
            return;
        }
        let mut all: Vec<(Vec<String>, f64)> = self.counts.drain().collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        all.truncate(keep);
        self.counts = all.into_iter().collect();
    }

    /// The n-grams of one sentence.
    fn sentence(&mut self, words: &[Option<&str>]) {
        let width = self.context.as_ref().map_or(self.n, Vec::len);
        if words.len() < width {
            return;
        }
        for i in 0..=words.len() - width {
            let window = &words[i..i + width];
            let gram: Option<Vec<String>> = match &self.context {
                None => window.iter().map(|w| w.map(str::to_string)).collect(),
                Some(context) => {
                    let matches = context.iter().zip(window).all(|(c, w)| c.is_none() || c.as_deref() == *w);
                    if !matches {
                        continue;
                    }
                    context
                        .iter()
                        .zip(window)
                        .filter(|(c, _)| c.is_none())
                        .map(|(_, w)| w.map(str::to_string))
                        .collect()
                }
            };
            // an n-gram with a NULL word is not counted
            if let Some(gram) = gram {
                self.add(gram);
            }
        }
    }
}

impl Accumulator for NGramCounts {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(v) = values.first() else { return exec_err!("ngrams: no argument") };
        let text = |a: &ArrayRef| datafusion::arrow::compute::cast(a, &DataType::Utf8);
        for row in 0..v.len() {
            let Some(outer) = super::collection::list_values(v, row) else { continue };
            match outer.data_type() {
                DataType::List(_) | DataType::LargeList(_) => {
                    for s in 0..outer.len() {
                        let Some(inner) = super::collection::list_values(&outer, s) else { continue };
                        let inner = text(&inner)?;
                        let words: Vec<Option<&str>> = inner.as_string::<i32>().iter().collect();
                        self.sentence(&words);
                    }
                }
                _ => {
                    let outer = text(&outer)?;
                    let words: Vec<Option<&str>> = outer.as_string::<i32>().iter().collect();
                    self.sentence(&words);
                }
            }
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let Some(lists) = states.first() else { return exec_err!("ngrams: no state") };
        for list in lists.as_list::<i32>().iter().flatten() {
            let items: Vec<&str> = list.as_string::<i32>().iter().map(|s| s.unwrap_or_default()).collect();
            // [k, n, pf, w1 .. wn, frequency, ...], as Hive's serialize()
            let chunks = items.get(3..).unwrap_or_default().chunks_exact(self.n + 1);
            for chunk in chunks {
                let gram: Vec<String> = chunk[..self.n].iter().map(|w| w.to_string()).collect();
                let f: f64 = chunk[self.n].parse().unwrap_or(0.0);
                *self.counts.entry(gram).or_insert(0.0) += f;
            }
            self.trim(self.k * self.pf);
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let mut items = vec![self.k.to_string(), self.n.to_string(), self.pf.to_string()];
        for (gram, f) in &self.counts {
            items.extend(gram.iter().cloned());
            items.push(f.to_string());
        }
        let values: ArrayRef = Arc::new(datafusion::arrow::array::StringArray::from(items));
        Ok(vec![one_list(Arc::new(Field::new("item", DataType::Utf8, true)), values)])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let item = Arc::new(Field::new("item", NGrams::gram_type(), true));
        self.trim(self.k);
        if self.counts.is_empty() {
            return ScalarValue::try_from(&DataType::List(item));
        }
        let mut all: Vec<(&Vec<String>, &f64)> = self.counts.iter().collect();
        all.sort_by(|a, b| b.1.total_cmp(a.1).then_with(|| a.0.cmp(b.0)));
        let mut words = datafusion::arrow::array::ListBuilder::new(datafusion::arrow::array::StringBuilder::new());
        for (gram, _) in &all {
            for w in gram.iter() {
                words.values().append_value(w);
            }
            words.append(true);
        }
        let words: ArrayRef = Arc::new(words.finish());
        let freqs: ArrayRef = Arc::new(Float64Array::from(all.iter().map(|(_, f)| **f).collect::<Vec<_>>()));
        let DataType::Struct(fields) = NGrams::gram_type() else { unreachable!("a struct type") };
        let structs: ArrayRef =
            Arc::new(datafusion::arrow::array::StructArray::try_new(fields, vec![words, freqs], None)?);
        Ok(one_list(item, structs))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
            + self.counts.keys().map(|g| g.iter().map(String::len).sum::<usize>() + 48).sum::<usize>()
    }
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

/// One list value holding `values` (of the type `item` describes).
fn one_list(item: FieldRef, values: ArrayRef) -> ScalarValue {
    let offsets = datafusion::arrow::buffer::OffsetBuffer::from_lengths([values.len()]);
    ScalarValue::List(Arc::new(ListArray::new(item, offsets, values, None)))
}

/// A list of DOUBLEs as one state value.
fn f64_list(values: Vec<f64>) -> ScalarValue {
    one_list(Arc::new(Field::new("item", DataType::Float64, true)), Arc::new(Float64Array::from(values)))
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
        Ok(one_list(item, structs))
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
