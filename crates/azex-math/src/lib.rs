//! Deterministic integer math shared by every AZEx crate.
//!
//! Nothing here uses floats, clocks or randomness. Every function that can overflow returns
//! [`MathError`] instead of wrapping or panicking, and every division names its rounding.

pub mod full_math;

pub use alloy_primitives::{I256, U256};
pub use full_math::{div_rounding_up, mul_div, mul_div_rounding_up};

/// Arithmetic failures, named. The protocol maps them to its own error types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MathError {
    #[error("arithmetic overflow")]
    Overflow,
    #[error("division by zero")]
    DivisionByZero,
}
