//! Pure math libraries of the pool, bit-exact with Uniswap v4-core 1.0.2.
//!
//! These modules follow v4-core's MIT-licensed libraries (`TickMath`, `SqrtPriceMath`,
//! `SwapMath`, `FullMath`, `BitMath`, `LiquidityMath`, `LPFeeLibrary`, `ProtocolFeeLibrary`,
//! `SafeCast`, `UnsafeMath`; Copyright Uniswap Labs, MIT licence) closely, translated to Rust
//! with checked arithmetic: where Solidity would revert, these functions return the same named
//! [`SpotError`](crate::SpotError).
//!
//! Conventions: a `uint160` sqrt price is a [`U256`] below 2^160, a
//! `uint128` liquidity is `u128`, token amounts are `U256`, ticks are `i32` (v4's `int24`).

pub mod bit_math;
pub mod fee_math;
pub mod full_math;
pub mod liquidity_math;
pub mod safe_cast;
pub mod sqrt_price_math;
pub mod swap_math;
pub mod tick_math;

use alloy_primitives::U256;

/// `2^96`, the scale of a Q64.96 sqrt price (v4's `FixedPoint96.Q96`).
pub const Q96: U256 = U256::from_limbs([0, 1 << 32, 0, 0]);
/// `2^128`, the scale of Q128 fee growth (v4's `FixedPoint128.Q128`).
pub const Q128: U256 = U256::from_limbs([0, 0, 1, 0]);
/// `2^160 - 1`, the largest `uint160`.
pub const MAX_U160: U256 = U256::from_limbs([u64::MAX, u64::MAX, u32::MAX as u64, 0]);

/// Full 128x128 -> 256-bit product as `(high, low)` halves.
#[inline(always)]
pub(crate) const fn mul_u128_wide(a: u128, b: u128) -> (u128, u128) {
    const M: u128 = u64::MAX as u128;
    let (a1, a0) = (a >> 64, a & M);
    let (b1, b0) = (b >> 64, b & M);
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    let mid = (p00 >> 64) + (p01 & M) + (p10 & M);
    let lo = (p00 & M) | (mid << 64);
    let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    (hi, lo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn constants() {
        assert_eq!(Q96, U256::from(1u8) << 96);
        assert_eq!(Q128, U256::from(1u8) << 128);
        assert_eq!(MAX_U160, (U256::from(1u8) << 160) - U256::from(1u8));
    }

    proptest! {
        #[test]
        fn wide_mul_matches_u256(a in any::<u128>(), b in any::<u128>()) {
            let (hi, lo) = mul_u128_wide(a, b);
            let p = U256::from(a) * U256::from(b);
            prop_assert_eq!((U256::from(hi) << 128) | U256::from(lo), p);
        }
    }
}
