//! `a DIV b`: Hive's integer division. Both sides are read as BIGINT
//! (a value that does not convert is NULL), the quotient truncates toward
//! zero, and division by zero is NULL.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, Int64Array};
use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

/// The function `a DIV b` is planned as.
pub const NAME: &str = "hive_div";

#[derive(Debug, PartialEq, Eq, Hash)]
struct HiveDiv {
    signature: Signature,
}

impl ScalarUDFImpl for HiveDiv {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let safe = CastOptions { safe: true, ..Default::default() };
        let a = cast_with_options(&arrays[0], &DataType::Int64, &safe)?;
        let b = cast_with_options(&arrays[1], &DataType::Int64, &safe)?;
        let (a, b) = (a.as_primitive::<Int64Type>(), b.as_primitive::<Int64Type>());
        let out: Int64Array = a.iter().zip(b.iter()).map(|(x, y)| x?.checked_div(y?)).collect();
        let out: ArrayRef = Arc::new(out);
        Ok(if args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_))) {
            ColumnarValue::Scalar(datafusion::common::ScalarValue::try_from_array(&out, 0)?)
        } else {
            ColumnarValue::Array(out)
        })
    }
}

/// The `hive_div` function.
pub fn udf() -> ScalarUDF {
    ScalarUDF::from(HiveDiv { signature: Signature::any(2, Volatility::Immutable) })
}
