//! Hive's ranking window functions: `row_number`, `rank`, `dense_rank` and
//! `ntile` return INT in Hive, where DataFusion's return UInt64 (which a
//! CTAS would store as an unsigned type Hive does not have, and which
//! does not mix with INT columns the way Hive's results do).
//!
//! [`HiveWindow::int_result`] wraps DataFusion's function under the same
//! name and casts its results to Int32; everything else (frames, bounded
//! execution, limit pushdown) is the wrapped function's.
//!
//! [`HiveWindow::skip_nulls`] is `first_value(x, true)` / `last_value(x, true)`, Hive's
//! skip-NULLs argument, as functions of their own
//! (`__hive_first_value_skip_nulls`): DataFusion's `IGNORE NULLS` flag on
//! a window function call is lost when a plan is sent to a worker
//! (datafusion-proto 55 writes `ignore_nulls: false` for every window
//! UDF), a function name is not.

use std::ops::Range;
use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::{ExpressionArgs, PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::window_state::WindowAggState;
use datafusion::logical_expr::{LimitEffect, PartitionEvaluator, ReversedUDWF, Signature, WindowUDF, WindowUDFImpl};
use datafusion::physical_expr::PhysicalExpr;

/// How [`HiveWindow`] changes the function it wraps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Adapt {
    /// Its integer results cast to Hive's INT.
    IntResult,
    /// NULLs skipped (as with `IGNORE NULLS`), under a name of its own.
    SkipNulls,
}

/// One of DataFusion's window functions as Hive has it; everything not
/// [`Adapt`]ed is the wrapped function's.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct HiveWindow {
    inner: Arc<WindowUDF>,
    name: String,
    adapt: Adapt,
}

impl HiveWindow {
    fn udwf(inner: Arc<WindowUDF>, adapt: Adapt) -> WindowUDF {
        let name = match adapt {
            Adapt::IntResult => inner.name().to_string(),
            Adapt::SkipNulls => Self::skip_nulls_name(inner.name()),
        };
        WindowUDF::new_from_impl(HiveWindow { inner, name, adapt })
    }

    /// `inner` with its results cast to INT, under its own name.
    pub fn int_result(inner: Arc<WindowUDF>) -> WindowUDF {
        Self::udwf(inner, Adapt::IntResult)
    }

    /// `inner`, skipping NULLs, named [`HiveWindow::skip_nulls_name`] of `inner`'s name.
    pub fn skip_nulls(inner: Arc<WindowUDF>) -> WindowUDF {
        Self::udwf(inner, Adapt::SkipNulls)
    }

    /// The name of the NULL-skipping version of the window function `name`.
    pub fn skip_nulls_name(name: &str) -> String {
        format!("__hive_{name}_skip_nulls")
    }
}

impl WindowUDFImpl for HiveWindow {
    fn name(&self) -> &str {
        &self.name
    }

    fn aliases(&self) -> &[String] {
        match self.adapt {
            Adapt::IntResult => self.inner.aliases(),
            Adapt::SkipNulls => &[],
        }
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn expressions(&self, expr_args: ExpressionArgs) -> Vec<Arc<dyn PhysicalExpr>> {
        self.inner.expressions(expr_args)
    }

    fn partition_evaluator(&self, args: PartitionEvaluatorArgs) -> Result<Box<dyn PartitionEvaluator>> {
        match self.adapt {
            Adapt::IntResult => Ok(Box::new(IntEvaluator { inner: self.inner.partition_evaluator_factory(args)? })),
            Adapt::SkipNulls => {
                let args =
                    PartitionEvaluatorArgs::new(args.input_exprs(), args.input_fields(), args.is_reversed(), true);
                self.inner.partition_evaluator_factory(args)
            }
        }
    }

    fn field(&self, field_args: WindowUDFFieldArgs) -> Result<FieldRef> {
        let f = self.inner.field(field_args)?;
        Ok(match self.adapt {
            Adapt::IntResult => Arc::new(Field::new(f.name(), DataType::Int32, f.is_nullable())),
            Adapt::SkipNulls => f,
        })
    }

    fn sort_options(&self) -> Option<datafusion::arrow::compute::SortOptions> {
        self.inner.sort_options()
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }

    fn reverse_expr(&self) -> ReversedUDWF {
        match self.inner.reverse_expr() {
            ReversedUDWF::Reversed(f) => ReversedUDWF::Reversed(Arc::new(HiveWindow::udwf(f, self.adapt))),
            other => other,
        }
    }

    fn limit_effect(&self, args: &[Arc<dyn PhysicalExpr>]) -> LimitEffect {
        self.inner.inner().limit_effect(args)
    }
}

#[derive(Debug)]
struct IntEvaluator {
    inner: Box<dyn PartitionEvaluator>,
}

fn to_int(a: ArrayRef) -> Result<ArrayRef> {
    Ok(cast(&a, &DataType::Int32)?)
}

impl PartitionEvaluator for IntEvaluator {
    fn memoize(&mut self, state: &mut WindowAggState) -> Result<()> {
        self.inner.memoize(state)
    }

    fn get_range(&self, idx: usize, n_rows: usize) -> Result<Range<usize>> {
        self.inner.get_range(idx, n_rows)
    }

    fn is_causal(&self) -> bool {
        self.inner.is_causal()
    }

    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> Result<ArrayRef> {
        to_int(self.inner.evaluate_all(values, num_rows)?)
    }

    fn evaluate(&mut self, values: &[ArrayRef], range: &Range<usize>) -> Result<ScalarValue> {
        self.inner.evaluate(values, range)?.cast_to(&DataType::Int32)
    }

    fn evaluate_all_with_rank(&self, num_rows: usize, ranks: &[Range<usize>]) -> Result<ArrayRef> {
        to_int(self.inner.evaluate_all_with_rank(num_rows, ranks)?)
    }

    fn supports_bounded_execution(&self) -> bool {
        self.inner.supports_bounded_execution()
    }

    fn uses_window_frame(&self) -> bool {
        self.inner.uses_window_frame()
    }

    fn include_rank(&self) -> bool {
        self.inner.include_rank()
    }
}

/// Hive's versions of DataFusion's ranking functions, and the
/// NULL-skipping `first_value` and `last_value`.
pub fn functions() -> Vec<WindowUDF> {
    use datafusion::functions_window::{nth_value, ntile, rank, row_number};
    let ranking = [row_number::row_number_udwf(), rank::rank_udwf(), rank::dense_rank_udwf(), ntile::ntile_udwf()]
        .into_iter()
        .map(HiveWindow::int_result);
    let skipping =
        [nth_value::first_value_udwf(), nth_value::last_value_udwf()].into_iter().map(HiveWindow::skip_nulls);
    ranking.chain(skipping).collect()
}
