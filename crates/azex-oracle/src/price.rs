//! Prices from ticks and sqrt prices, in azUSD units, always rounded DOWN.
//!
//! A pool's price is `token1 per token0 = (sqrt_price_x96 / 2^96)^2 = 1.0001^tick`, in raw
//! smallest units of each token. AZEx values BASE in azUSD: `quote_is_token0` says which side
//! azUSD is. The conversions follow `OracleLibrary.getQuoteAtTick` (a 192-bit ratio when the
//! sqrt price fits in 128 bits, a 128-bit ratio otherwise) but always round down, even where
//! the ratio is a denominator (there it is rounded up instead of down).

use crate::error::{OracleError, OracleResult};
use alloy_primitives::U256;
use azex_math::{mul_div, mul_div_rounding_up};
use azex_spot::math::tick_math::{get_sqrt_price_at_tick, MAX_TICK, MIN_TICK};

fn q(bits: usize) -> U256 {
    U256::from(1u8) << bits
}

/// `base_amount` BASE smallest units valued in azUSD smallest units at `sqrt_price_x96`,
/// rounded down (the result never exceeds the exact value).
pub fn base_to_quote(
    sqrt_price_x96: U256,
    base_amount: U256,
    quote_is_token0: bool,
) -> OracleResult<U256> {
    if sqrt_price_x96.is_zero() {
        return Err(OracleError::Math(azex_math::MathError::DivisionByZero));
    }
    let small = sqrt_price_x96 <= U256::from(u128::MAX);
    let out = match (quote_is_token0, small) {
        // BASE is token0: quote = base * s^2 / 2^192.
        (false, true) => mul_div(sqrt_price_x96 * sqrt_price_x96, base_amount, q(192))?,
        (false, false) => {
            let ratio_x128 = mul_div(sqrt_price_x96, sqrt_price_x96, q(64))?; // rounded down
            mul_div(ratio_x128, base_amount, q(128))?
        }
        // BASE is token1: quote = base * 2^192 / s^2.
        (true, true) => mul_div(q(192), base_amount, sqrt_price_x96 * sqrt_price_x96)?,
        (true, false) => {
            let ratio_x128 = mul_div_rounding_up(sqrt_price_x96, sqrt_price_x96, q(64))?; // up
            mul_div(q(128), base_amount, ratio_x128)?
        }
    };
    Ok(out)
}

/// The sqrt price (Q64.96) at `tick` (v4's `TickMath.getSqrtPriceAtTick`).
pub fn sqrt_price_at_tick(tick: i32) -> OracleResult<U256> {
    if !(MIN_TICK..=MAX_TICK).contains(&tick) {
        return Err(OracleError::TickOutOfRange { tick });
    }
    get_sqrt_price_at_tick(tick).map_err(|_| OracleError::TickOutOfRange { tick })
}

/// `base_amount` BASE smallest units valued in azUSD smallest units at `tick`, rounded down
/// (`OracleLibrary.getQuoteAtTick` with AZEx's rounding).
pub fn base_to_quote_at_tick(
    tick: i32,
    base_amount: U256,
    quote_is_token0: bool,
) -> OracleResult<U256> {
    base_to_quote(sqrt_price_at_tick(tick)?, base_amount, quote_is_token0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::Uint;
    use proptest::prelude::*;

    type U512 = Uint<512, 8>;

    /// Exact floor of the quote, in 512 bits.
    fn exact(s: U256, base: U256, quote_is_token0: bool) -> U512 {
        let s = U512::from(s);
        let b = U512::from(base);
        let q192 = U512::from(1u8) << 192;
        if quote_is_token0 {
            b * q192 / (s * s)
        } else {
            b * s * s / q192
        }
    }

    #[test]
    fn hand_computed_quotes() {
        let one = q(96);
        // Tick 0, price 1.
        assert_eq!(
            base_to_quote(one, U256::from(1000u32), false).unwrap(),
            U256::from(1000u32)
        );
        assert_eq!(
            base_to_quote(one, U256::from(1000u32), true).unwrap(),
            U256::from(1000u32)
        );
        assert_eq!(
            base_to_quote_at_tick(0, U256::from(7u8), true).unwrap(),
            U256::from(7u8)
        );
        // sqrt price 2: 4 token1 per token0.
        let two = one * U256::from(2u8);
        assert_eq!(
            base_to_quote(two, U256::from(1000u32), false).unwrap(),
            U256::from(4000u32)
        );
        assert_eq!(
            base_to_quote(two, U256::from(1000u32), true).unwrap(),
            U256::from(250u32)
        );
        assert_eq!(
            base_to_quote(two, U256::from(1003u32), true).unwrap(),
            U256::from(250u32)
        );
        // sqrt price 2^130 (> u128::MAX): price 2^68.
        let big = q(130);
        assert_eq!(
            base_to_quote(big, U256::from(3u8), false).unwrap(),
            U256::from(3u8) * q(68)
        );
        assert_eq!(base_to_quote(big, q(70), true).unwrap(), U256::from(4u8));
        assert_eq!(
            base_to_quote(big, q(70) - U256::from(1u8), true).unwrap(),
            U256::from(3u8)
        );
        // A 6-decimal azUSD (token0) / 18-decimal BASE (token1) pool at 2000 azUSD per BASE:
        // price token1/token0 = 1e18 / 2000e6 = 5e8, sqrt = sqrt(5e8) * 2^96 (rounded down).
        // Valuing 1 BASE (1e18 units) gives just under 2000e6 azUSD units.
        // sqrt(5e8) = 22360.679774997896...; truncated to 22360.679774997 the price is a hair
        // lower, so the quote is a hair (8e-14 relative) higher than 2000 azUSD: floor 2000e6.
        let s = U256::from(22_360_679_774_997u64) * q(96) / U256::from(1_000_000_000u64);
        let v = base_to_quote(s, U256::from(10u64.pow(18)), true).unwrap();
        assert_eq!(v, U256::from(2_000_000_000u64));
    }

    #[test]
    fn tick_out_of_range() {
        assert_eq!(
            sqrt_price_at_tick(887_273),
            Err(OracleError::TickOutOfRange { tick: 887_273 })
        );
        assert_eq!(
            sqrt_price_at_tick(-887_273),
            Err(OracleError::TickOutOfRange { tick: -887_273 })
        );
        assert!(sqrt_price_at_tick(887_272).is_ok());
    }

    proptest! {
        /// Never above the exact value; at most one unit below it (single mulDiv branches) or a
        /// relative 2^-60 below it (the two-step branches).
        #[test]
        fn quotes_round_down(
            tick in -887_272i32..=887_272,
            base in any::<u128>(),
            quote_is_token0 in any::<bool>(),
        ) {
            let s = sqrt_price_at_tick(tick).unwrap();
            let base = U256::from(base);
            let ex = exact(s, base, quote_is_token0);
            match base_to_quote(s, base, quote_is_token0) {
                Ok(v) => {
                    let v = U512::from(v);
                    prop_assert!(v <= ex);
                    let slack = (ex >> 60) + U512::from(1u8);
                    prop_assert!(ex - v <= slack, "ex {} v {}", ex, v);
                }
                // Only when the exact result does not fit in 256 bits.
                Err(_) => prop_assert!(ex >= (U512::from(1u8) << 256)),
            }
        }
    }
}
