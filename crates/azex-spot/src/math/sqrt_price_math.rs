//! v4's `SqrtPriceMath` (MIT, Uniswap Labs): next sqrt price after adding/removing an amount of
//! one token, and the token amounts between two sqrt prices for a liquidity, with the same
//! rounding directions (always in the pool's favour).

use super::full_math::{div, div_rounding_up, mul_div, mul_div_rounding_up};
use super::safe_cast::{to_i256, to_u160};
use super::{MAX_U160, Q96};
use crate::error::SpotError;
use alloy_primitives::{I256, U256};

/// `getNextSqrtPriceFromAmount0RoundingUp`: price after adding (`add`) or removing `amount` of
/// token0 at liquidity `liquidity`; always rounds up. Computes `L * sqrtP / (L ± amount * sqrtP)`
/// (or `L / (L / sqrtP ± amount)` when the product overflows). Removing more token0 than the
/// virtual reserve fails with `PriceOverflow`.
pub fn get_next_sqrt_price_from_amount0_rounding_up(
    sqrt_px96: U256,
    liquidity: u128,
    amount: U256,
    add: bool,
) -> Result<U256, SpotError> {
    // short circuit: the formula does not return the input price for amount == 0
    if amount.is_zero() {
        return Ok(sqrt_px96);
    }
    let numerator1 = U256::from(liquidity) << 96usize;
    let (product, overflow) = amount.overflowing_mul(sqrt_px96);
    if add {
        if !overflow {
            let (denominator, carry) = numerator1.overflowing_add(product);
            if !carry {
                // always fits in 160 bits (v4 truncates with uint160())
                return Ok(mul_div_rounding_up(numerator1, sqrt_px96, denominator)? & MAX_U160);
            }
        }
        if sqrt_px96.is_zero() {
            return Err(SpotError::DivisionByZero);
        }
        let denom = div(numerator1, sqrt_px96)
            .checked_add(amount)
            .ok_or(SpotError::ArithmeticOverflow)?;
        Ok(div_rounding_up(numerator1, denom) & MAX_U160)
    } else {
        if overflow || numerator1 <= product {
            return Err(SpotError::PriceOverflow);
        }
        let denominator = numerator1 - product;
        to_u160(mul_div_rounding_up(numerator1, sqrt_px96, denominator)?)
    }
}

/// `getNextSqrtPriceFromAmount1RoundingDown`: price after adding (`add`) or removing `amount`
/// of token1: `sqrtP ± amount / L`, always rounding the price down. Removing more token1 than
/// the virtual reserve fails with `NotEnoughLiquidity`.
pub fn get_next_sqrt_price_from_amount1_rounding_down(
    sqrt_px96: U256,
    liquidity: u128,
    amount: U256,
    add: bool,
) -> Result<U256, SpotError> {
    let liq = U256::from(liquidity);
    if add {
        let quotient = if amount <= MAX_U160 {
            if liquidity == 0 {
                return Err(SpotError::DivisionByZero);
            }
            div(amount << 96, liq)
        } else {
            mul_div(amount, Q96, liq)?
        };
        let sum = sqrt_px96
            .checked_add(quotient)
            .ok_or(SpotError::ArithmeticOverflow)?;
        to_u160(sum)
    } else {
        let quotient = if amount <= MAX_U160 {
            div_rounding_up(amount << 96, liq)
        } else {
            mul_div_rounding_up(amount, Q96, liq)?
        };
        if sqrt_px96 <= quotient {
            return Err(SpotError::NotEnoughLiquidity);
        }
        Ok(sqrt_px96 - quotient)
    }
}

/// `getNextSqrtPriceFromInput`: price after swapping `amount_in` of token0 (`zero_for_one`) or
/// token1 in; rounds so the target price is never passed. Zero price or liquidity fails with
/// `InvalidPriceOrLiquidity`.
#[inline]
pub fn get_next_sqrt_price_from_input(
    sqrt_px96: U256,
    liquidity: u128,
    amount_in: U256,
    zero_for_one: bool,
) -> Result<U256, SpotError> {
    if sqrt_px96.is_zero() || liquidity == 0 {
        return Err(SpotError::InvalidPriceOrLiquidity);
    }
    if zero_for_one {
        get_next_sqrt_price_from_amount0_rounding_up(sqrt_px96, liquidity, amount_in, true)
    } else {
        get_next_sqrt_price_from_amount1_rounding_down(sqrt_px96, liquidity, amount_in, true)
    }
}

/// `getNextSqrtPriceFromOutput`: price after swapping `amount_out` of token1 (`zero_for_one`)
/// or token0 out; rounds so the target price is at least reached.
#[inline]
pub fn get_next_sqrt_price_from_output(
    sqrt_px96: U256,
    liquidity: u128,
    amount_out: U256,
    zero_for_one: bool,
) -> Result<U256, SpotError> {
    if sqrt_px96.is_zero() || liquidity == 0 {
        return Err(SpotError::InvalidPriceOrLiquidity);
    }
    if zero_for_one {
        get_next_sqrt_price_from_amount1_rounding_down(sqrt_px96, liquidity, amount_out, false)
    } else {
        get_next_sqrt_price_from_amount0_rounding_up(sqrt_px96, liquidity, amount_out, false)
    }
}

/// `getAmount0Delta(uint160,uint160,uint128,bool)`: token0 between two sqrt prices for
/// `liquidity`, `L * (sqrtB - sqrtA) / (sqrtB * sqrtA)`, rounded up or down. The prices may come
/// in either order; a zero price fails with `InvalidPrice`.
pub fn get_amount0_delta(
    sqrt_a: U256,
    sqrt_b: U256,
    liquidity: u128,
    round_up: bool,
) -> Result<U256, SpotError> {
    let (a, b) = if sqrt_a > sqrt_b {
        (sqrt_b, sqrt_a)
    } else {
        (sqrt_a, sqrt_b)
    };
    if a.is_zero() {
        return Err(SpotError::InvalidPrice);
    }
    let numerator1 = U256::from(liquidity) << 96usize;
    let numerator2 = b - a;
    if round_up {
        Ok(div_rounding_up(
            mul_div_rounding_up(numerator1, numerator2, b)?,
            a,
        ))
    } else {
        Ok(div(mul_div(numerator1, numerator2, b)?, a))
    }
}

/// `getAmount1Delta(uint160,uint160,uint128,bool)`: token1 between two sqrt prices,
/// `L * |sqrtB - sqrtA| / 2^96`, rounded up or down (cannot overflow: the result is < 2^192).
pub fn get_amount1_delta(sqrt_a: U256, sqrt_b: U256, liquidity: u128, round_up: bool) -> U256 {
    let diff = if sqrt_a > sqrt_b {
        sqrt_a - sqrt_b
    } else {
        sqrt_b - sqrt_a
    };
    let l = U256::from(liquidity);
    let (prod, overflow) = l.overflowing_mul(diff);
    let amount = if overflow {
        let wide: alloy_primitives::Uint<512, 8> = l.widening_mul(diff);
        let q = wide >> 96usize;
        let limbs = q.as_limbs();
        U256::from_limbs([limbs[0], limbs[1], limbs[2], limbs[3]])
    } else {
        prod >> 96usize
    };
    // The low 96 bits of the (wide) product are the low 96 bits of the wrapped product.
    let low = prod.as_limbs();
    let remainder = low[0] != 0 || (low[1] & 0xffff_ffff) != 0;
    if round_up && remainder {
        amount + U256::from(1u8)
    } else {
        amount
    }
}

/// Signed `getAmount0Delta(uint160,uint160,int128)`: for a liquidity change, the token0 the
/// caller receives (positive, rounded down) when liquidity is removed (`liquidity < 0`), or owes
/// (negative, rounded up) when it is added.
pub fn get_amount0_delta_signed(
    sqrt_a: U256,
    sqrt_b: U256,
    liquidity: i128,
) -> Result<I256, SpotError> {
    if liquidity < 0 {
        to_i256(get_amount0_delta(
            sqrt_a,
            sqrt_b,
            liquidity.unsigned_abs(),
            false,
        )?)
    } else {
        Ok(-to_i256(get_amount0_delta(
            sqrt_a,
            sqrt_b,
            liquidity.unsigned_abs(),
            true,
        )?)?)
    }
}

/// Signed `getAmount1Delta(uint160,uint160,int128)`: as [`get_amount0_delta_signed`] for token1.
pub fn get_amount1_delta_signed(
    sqrt_a: U256,
    sqrt_b: U256,
    liquidity: i128,
) -> Result<I256, SpotError> {
    if liquidity < 0 {
        to_i256(get_amount1_delta(
            sqrt_a,
            sqrt_b,
            liquidity.unsigned_abs(),
            false,
        ))
    } else {
        Ok(-to_i256(get_amount1_delta(
            sqrt_a,
            sqrt_b,
            liquidity.unsigned_abs(),
            true,
        ))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn u(x: u128) -> U256 {
        U256::from(x)
    }
    fn q96() -> U256 {
        Q96
    }

    #[test]
    fn next_price_basics() {
        let p = q96();
        assert_eq!(
            get_next_sqrt_price_from_input(U256::ZERO, 1, u(1), true),
            Err(SpotError::InvalidPriceOrLiquidity)
        );
        assert_eq!(
            get_next_sqrt_price_from_input(p, 0, u(1), true),
            Err(SpotError::InvalidPriceOrLiquidity)
        );
        assert_eq!(
            get_next_sqrt_price_from_input(p, 1, U256::ZERO, true).unwrap(),
            p
        );
        assert_eq!(
            get_next_sqrt_price_from_input(p, 1, U256::ZERO, false).unwrap(),
            p
        );
        // v4 test: 0.1 token1 in at price 1, liquidity 1e18
        let l = 1_000_000_000_000_000_000u128;
        assert_eq!(
            get_next_sqrt_price_from_input(p, l, u(100_000_000_000_000_000), false).unwrap(),
            "87150978765690771352898345369".parse::<U256>().unwrap()
        );
        assert_eq!(
            get_next_sqrt_price_from_input(p, l, u(100_000_000_000_000_000), true).unwrap(),
            "72025602285694852357767227579".parse::<U256>().unwrap()
        );
        // output more than the reserves
        assert_eq!(
            get_next_sqrt_price_from_output(p, 1, u(4), false),
            Err(SpotError::PriceOverflow)
        );
        assert_eq!(
            get_next_sqrt_price_from_output(p, 1, u(1), true),
            Err(SpotError::NotEnoughLiquidity)
        );
    }

    #[test]
    fn amounts() {
        let p1 = q96();
        let p121 = "87150978765690771352898345369".parse::<U256>().unwrap();
        let l = 1_000_000_000_000_000_000u128;
        let a0 = get_amount0_delta(p1, p121, l, true).unwrap();
        assert_eq!(a0, u(90_909_090_909_090_910));
        assert_eq!(get_amount0_delta(p1, p121, l, false).unwrap(), a0 - u(1));
        let a1 = get_amount1_delta(p1, p121, l, true);
        assert_eq!(a1, u(100_000_000_000_000_000));
        assert_eq!(get_amount1_delta(p1, p121, l, false), a1 - u(1));
        assert_eq!(
            get_amount0_delta(U256::ZERO, p1, 1, true),
            Err(SpotError::InvalidPrice)
        );
        assert_eq!(
            get_amount0_delta_signed(p1, p121, -(l as i128)).unwrap(),
            I256::try_from(90_909_090_909_090_909i128).unwrap()
        );
        assert_eq!(
            get_amount1_delta_signed(p1, p121, l as i128).unwrap(),
            I256::try_from(-100_000_000_000_000_000i128).unwrap()
        );
    }

    proptest! {
        #[test]
        fn amount1_matches_wide_reference(a in any::<[u64; 3]>(), b in any::<[u64; 3]>(), l in any::<u128>()) {
            let a = U256::from_limbs([a[0], a[1], a[2] & 0xffff_ffff, 0]);
            let b = U256::from_limbs([b[0], b[1], b[2] & 0xffff_ffff, 0]);
            let diff = if a > b { a - b } else { b - a };
            let down = mul_div(U256::from(l), diff, Q96).unwrap();
            let up = mul_div_rounding_up(U256::from(l), diff, Q96).unwrap();
            prop_assert_eq!(get_amount1_delta(a, b, l, false), down);
            prop_assert_eq!(get_amount1_delta(a, b, l, true), up);
        }
    }
}
