//! v4's `FullMath` and `UnsafeMath` (MIT, Uniswap Labs) on top of `azex-math`'s 512-bit mulDiv.

use crate::error::SpotError;
use alloy_primitives::U256;

/// `FullMath.mulDiv`: `floor(a * b / denominator)` with a 512-bit intermediate.
/// Fails ([`SpotError::MulDivFailed`], v4's empty revert) when the result does not fit in 256
/// bits or `denominator == 0`.
#[inline]
pub fn mul_div(a: U256, b: U256, denominator: U256) -> Result<U256, SpotError> {
    azex_math::mul_div(a, b, denominator).map_err(|_| SpotError::MulDivFailed)
}

/// `FullMath.mulDivRoundingUp`: `ceil(a * b / denominator)`; fails like [`mul_div`], and also
/// when rounding up would exceed `2^256 - 1`.
#[inline]
pub fn mul_div_rounding_up(a: U256, b: U256, denominator: U256) -> Result<U256, SpotError> {
    azex_math::mul_div_rounding_up(a, b, denominator).map_err(|_| SpotError::MulDivFailed)
}

/// `UnsafeMath.divRoundingUp`: `ceil(x / y)` with the EVM's convention that `x / 0 == 0`.
#[inline]
pub fn div_rounding_up(x: U256, y: U256) -> U256 {
    if y.is_zero() {
        return U256::ZERO;
    }
    let (q, r) = x.div_rem(y);
    // q < 2^256 - 1 whenever r != 0 (y >= 2), so the increment cannot wrap.
    if r.is_zero() {
        q
    } else {
        q + U256::from(1u8)
    }
}

/// `UnsafeMath.simpleMulDiv`: `(a * b mod 2^256) / denominator`, EVM semantics (`/0 == 0`).
/// v4 uses it for fee growth, where the product provably fits (`feeAmount < 2^128`).
#[inline]
pub fn simple_mul_div(a: U256, b: U256, denominator: U256) -> U256 {
    if denominator.is_zero() {
        return U256::ZERO;
    }
    a.wrapping_mul(b) / denominator
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evm_conventions() {
        assert_eq!(div_rounding_up(U256::from(7u8), U256::ZERO), U256::ZERO);
        assert_eq!(
            div_rounding_up(U256::from(7u8), U256::from(2u8)),
            U256::from(4u8)
        );
        assert_eq!(div_rounding_up(U256::MAX, U256::from(1u8)), U256::MAX);
        assert_eq!(
            simple_mul_div(U256::from(7u8), U256::from(3u8), U256::ZERO),
            U256::ZERO
        );
        assert_eq!(
            mul_div(U256::from(1u8), U256::from(1u8), U256::ZERO),
            Err(SpotError::MulDivFailed)
        );
    }
}
