//! Deterministic integer math shared by every AZEx crate.
//!
//! Nothing here uses floats, clocks or randomness: every result is a pure function of its
//! integer inputs, identical on every machine. Every function that can overflow returns
//! [`MathError`] instead of wrapping or panicking.
//!
//! # Named precisions
//!
//! | name | scale | used for | module |
//! |------|-------|----------|--------|
//! | WAD | `10^18` ([`wad::WAD`]) | ratios, prices, rates, the mark-price curve, `x^y` | [`wad`], [`pow`] |
//! | Q96 | `2^96` ([`wad::Q96`]) | Uniswap `sqrtPriceX96` | [`wad`] conversions |
//! | Q128 | `2^128` ([`wad::Q128`]) | Uniswap fee-growth accumulators | [`wad`] conversions |
//! | Q64 | `2^64` ([`pow::Q64_ONE`]) | signed `log2` values inside [`pow`] | [`pow`] |
//! | azUSD | `10^6` (micro-dollars) | collateral and PnL amounts | defined by the exchange crate; convert with [`wad::rescale_down`] / [`wad::rescale_up`] |
//!
//! # Rounding rule
//!
//! Every function that can lose precision names its rounding in its name: `_down` returns a
//! value never above the exact real result (usually its floor), `_up` one never below it
//! (usually its ceil), `_exact` cannot round (it errors instead). Older helpers keep their
//! Uniswap names: [`mul_div`] floors, [`mul_div_rounding_up`] and [`div_rounding_up`] ceil.
//! Where one routine computes both bounds of an enclosure it takes a [`Rounding`] (never a
//! `bool`): [`pow_wad_rounded`], [`mul_div_rounded`], [`div_rounded`], [`div_i256`].
//! Callers choose the direction that favours the protocol: **what a trader pays rounds up,
//! what a trader receives rounds down**. A value that feeds a later subtraction needs the
//! opposite direction from the one it is subtracted from; spell it out at the call site.
//!
//! # Modules
//!
//! - [`full_math`]: `mul_div` with a 512-bit intermediate (Uniswap FullMath semantics).
//! - [`wad`]: WAD products, quotients and conversions (`U256` and `u128` variants).
//! - [`int`]: `u128` / `i128` products and quotients (`mul_div_{down,up}_u128`, the `10^30`
//!   split, signed 256-bit division to `i128`) and the [`Rounding`] direction for code that
//!   computes both bounds of one figure with the same steps.
//! - [`pow`]: `log2`, `exp2` and `x^y` in WAD with a proven enclosure
//!   `pow_wad_down(x, y) <= x^y <= pow_wad_up(x, y)` and a stated gap
//!   (`<= ceil((y + 16) 2^-60 x^y) + 1` units; relative `<= 1.74e-17` for `y <= 4`,
//!   `<= 8.9e-16` for every accepted `y <= 1000`), 45-110 ns per call.
//!
//! # Example: the mark-curve antiderivative, rounded for the protocol
//!
//! ```
//! use azex_math::{pow_wad_down, pow_wad_up, wad::div_wad_up, U256, WAD};
//! # fn main() -> Result<(), azex_math::MathError> {
//! let u = U256::from(250_000_000_000_000_000u128); // u = 0.25
//! let beta_plus_one = U256::from(1_500_000_000_000_000_000u128); // beta = 0.5
//! // What the trader pays: an upper bound of u^(beta+1) / (beta+1).
//! let pay = div_wad_up(pow_wad_up(u, beta_plus_one)?, beta_plus_one)?;
//! // 0.25^1.5 / 1.5 = 0.0833333...
//! assert_eq!(pay, U256::from(83_333_333_333_333_334u128));
//! assert!(pow_wad_down(u, beta_plus_one)? <= U256::from(125_000_000_000_000_000u128));
//! assert_eq!(pow_wad_down(WAD, beta_plus_one)?, WAD);
//! # Ok(())
//! # }
//! ```
//!
//! # Errors
//!
//! [`MathError::Overflow`] (result does not fit), [`MathError::DivisionByZero`],
//! [`MathError::Domain`] (argument outside the documented domain, e.g. `log2(0)` or an
//! exponent above [`pow::POW_MAX_EXPONENT`]).

pub mod full_math;
pub mod int;
pub mod pow;
pub mod wad;

#[cfg(test)]
// The exact-rational reference the property tests check the integer math against (floats only
// in its test error messages): test code, not part of the library.
#[cfg(test)]
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_lossless
)]
pub(crate) mod reference;

pub use alloy_primitives::{I256, U256};
pub use full_math::{div_rounding_up, mul_div, mul_div_rounding_up};
pub use int::{
    div_i256, div_i256_down, div_i256_up, div_rounded, mul_div_down_u128, mul_div_e30_u128,
    mul_div_rounded, mul_div_up_u128, Rounding,
};
pub use pow::{
    exp2_wad_down, exp2_wad_up, log2_wad_down, log2_wad_up, pow_wad_down, pow_wad_rounded,
    pow_wad_up, POW_MAX_EXPONENT,
};
pub use wad::{div_wad_down, div_wad_up, mul_wad_down, mul_wad_up, WAD, WAD_U128};

/// Arithmetic failures, named. The protocol maps them to its own error types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MathError {
    /// The result does not fit in the output type.
    #[error("arithmetic overflow")]
    Overflow,
    /// A divisor was zero.
    #[error("division by zero")]
    DivisionByZero,
    /// An argument is outside the function's documented domain.
    #[error("argument outside the function's domain")]
    Domain,
}
