//! v4's `TickMath` (MIT, Uniswap Labs): sqrt price of a tick, `sqrt(1.0001^tick) * 2^96`, and its
//! inverse. Follows the Solidity library constant for constant; the 256-bit products are done on
//! `u128` halves, which is exact because every intermediate fits (see comments).

use super::{bit_math, mul_u128_wide};
use crate::error::SpotError;
use alloy_primitives::U256;

/// Smallest tick: `log_1.0001(2^-128)`.
pub const MIN_TICK: i32 = -887_272;
/// Largest tick: `log_1.0001(2^128)`.
pub const MAX_TICK: i32 = 887_272;
/// Smallest tick spacing a pool may use.
pub const MIN_TICK_SPACING: i32 = 1;
/// Largest tick spacing a pool may use (`type(int16).max`).
pub const MAX_TICK_SPACING: i32 = i16::MAX as i32;
/// `getSqrtPriceAtTick(MIN_TICK)` = 4295128739.
pub const MIN_SQRT_PRICE: U256 = U256::from_limbs([4_295_128_739, 0, 0, 0]);
/// `getSqrtPriceAtTick(MAX_TICK)` = 1461446703485210103287273052203988822378723970342.
pub const MAX_SQRT_PRICE: U256 =
    U256::from_limbs([0x5d95_1d52_6398_8d26, 0xefd1_fc6a_5064_8849, 0xfffd_8963, 0]);

/// `TickMath.maxUsableTick`: the largest multiple of `tick_spacing` not above `MAX_TICK`.
#[inline]
pub fn max_usable_tick(tick_spacing: i32) -> i32 {
    (MAX_TICK / tick_spacing) * tick_spacing
}

/// `TickMath.minUsableTick`: the smallest multiple of `tick_spacing` not below `MIN_TICK`.
#[inline]
pub fn min_usable_tick(tick_spacing: i32) -> i32 {
    (MIN_TICK / tick_spacing) * tick_spacing
}

/// Q128 factors `2^128 / sqrt(1.0001)^(2^i)` for bits 1..19 of `|tick|`.
const FACTORS: [u128; 19] = [
    0xfff97272373d413259a46990580e213a,
    0xfff2e50f5f656932ef12357cf3c7fdcc,
    0xffe5caca7e10e4e61c3624eaa0941cd0,
    0xffcb9843d60f6159c9db58835c926644,
    0xff973b41fa98c081472e6896dfb254c0,
    0xff2ea16466c96a3843ec78b326b52861,
    0xfe5dee046a99a2a811c461f1969c3053,
    0xfcbe86c7900a88aedcffc83b479aa3a4,
    0xf987a7253ac413176f2b074cf7815e54,
    0xf3392b0822b70005940c7a398e4b70f3,
    0xe7159475a2c29b7443b29c7fa6e889d9,
    0xd097f3bdfd2022b8845ad8f792aa5825,
    0xa9f746462d870fdf8a65dc1f90e061e5,
    0x70d869a156d2a1b890bb3df62baf32f7,
    0x31be135f97d08fd981231505542fcfa6,
    0x9aa508b5b7a84e1c677de54f3e99bc9,
    0x5d6af8dedb81196699c329225ee604,
    0x2216e584f5fa1ea926041bedfe98,
    0x48a170391f7dc42444e8fa2,
];

/// The Q128 product `2^128 / sqrt(1.0001)^|tick|` of `getSqrtPriceAtTick` (`None` = exactly
/// 2^128, for tick 0). After one multiplication by a factor < 2^128 the product stays below
/// 2^128, so `(price * f) >> 128` is the high half of a 128x128 product. `abs_tick <= MAX_TICK`.
#[inline]
fn ratio_q128(abs_tick: u32) -> Option<u128> {
    let mut price: Option<u128> = if abs_tick & 1 != 0 {
        Some(0xfffcb933bd6fad37aa2d162d1a594001)
    } else {
        None
    };
    let mut bits = abs_tick >> 1;
    while bits != 0 {
        let i = bits.trailing_zeros() as usize;
        bits &= bits - 1;
        let f = FACTORS[i];
        price = Some(match price {
            None => f,
            Some(p) => mul_u128_wide(p, f).0,
        });
    }
    price
}

/// `TickMath.getSqrtPriceAtTick`: `sqrt(1.0001^tick) * 2^96` as Q64.96, rounded up so that
/// [`get_tick_at_sqrt_price`] of the result is `tick`. Fails with `InvalidTick` if
/// `|tick| > MAX_TICK`.
pub fn get_sqrt_price_at_tick(tick: i32) -> Result<U256, SpotError> {
    let abs_tick = tick.unsigned_abs();
    if abs_tick > MAX_TICK as u32 {
        return Err(SpotError::InvalidTick(tick));
    }
    let p = match ratio_q128(abs_tick) {
        None => return Ok(U256::from_limbs([0, 1 << 32, 0, 0])), // 2^96
        Some(p) => p,
    };
    if tick > 0 {
        let q = super::full_math::div(U256::MAX, U256::from(p));
        // Q128.128 -> Q128.96, rounding up; fits in 160 bits for ticks in range
        Ok((q + U256::from(u32::MAX)) >> 32usize)
    } else {
        // p < 2^128: the rounding up stays within 128 bits + 1
        let (sum, carry) = p.overflowing_add(u128::from(u32::MAX));
        Ok(U256::from((sum >> 32) | (u128::from(carry) << 96)))
    }
}

/// `getSqrtPriceAtTick(tick) <= sqrt_price_x96` (fails with `InvalidTick` out of range), decided
/// without the division of positive ticks:
/// for `tick > 0`, `ceil(floor((2^256 - 1) / p) / 2^32) <= P` iff `p * (P * 2^32 + 1) >= 2^256`.
#[inline]
pub fn sqrt_price_at_tick_le(tick: i32, sqrt_price_x96: U256) -> Result<bool, SpotError> {
    let abs_tick = tick.unsigned_abs();
    if abs_tick > MAX_TICK as u32 || tick <= 0 {
        return Ok(get_sqrt_price_at_tick(tick)? <= sqrt_price_x96);
    }
    let p = match ratio_q128(abs_tick) {
        None => return Ok(U256::from_limbs([0, 1 << 32, 0, 0]) <= sqrt_price_x96),
        Some(p) => p,
    };
    // sqrt_price_x96 < 2^160, so P * 2^32 + 1 < 2^192 and the product fits in 320 bits
    let m = (sqrt_price_x96 << 32usize) | U256::from(1u8);
    let (_, overflow) = U256::from(p).overflowing_mul(m);
    Ok(overflow)
}

/// `TickMath.getTickAtSqrtPrice`: the greatest tick whose sqrt price is `<= sqrt_price_x96`.
/// Fails with `InvalidSqrtPrice` unless `MIN_SQRT_PRICE <= sqrt_price_x96 < MAX_SQRT_PRICE`.
#[expect(
    clippy::cast_possible_wrap,
    reason = "a 0/1 bit, a 128-bit high word below 2^127 (log2 × factor), ticks checked in range below"
)]
#[expect(
    clippy::cast_possible_truncation,
    reason = "the price is checked in [MIN_SQRT_PRICE, MAX_SQRT_PRICE), so both tick candidates are in the tick range"
)]
pub fn get_tick_at_sqrt_price(sqrt_price_x96: U256) -> Result<i32, SpotError> {
    if sqrt_price_x96 < MIN_SQRT_PRICE || sqrt_price_x96 >= MAX_SQRT_PRICE {
        return Err(SpotError::InvalidSqrtPrice(sqrt_price_x96));
    }
    let price = sqrt_price_x96 << 32; // < 2^192
    let msb = u32::from(bit_math::most_significant_bit(price).unwrap_or(0)); // in [64, 191]
                                                                             // Normalise to [2^127, 2^128).
    let mut r: u128 = if msb >= 128 {
        (price >> (msb - 127) as usize).to::<u128>()
    } else {
        (price << (127 - msb) as usize).to::<u128>()
    };
    let mut log_2: i128 = (i128::from(msb) - 128) << 64;
    // 14 squarings give fraction bits 63..50: r := (r*r) >> 127 (up to 129 bits), the bit
    // above 128 is the next log bit, and r is halved when it is set.
    for shift in (50..=63).rev() {
        let (hi, lo) = mul_u128_wide(r, r);
        let f = hi >> 127;
        log_2 |= (f as i128) << shift;
        r = if f == 1 { hi } else { (hi << 1) | (lo >> 127) };
    }
    // log_sqrt10001 = log_2 * 255738958999603826347141 (Q22.128), as a 256-bit two's
    // complement number (hi: signed high half, lo: low half).
    const LOG_FACTOR: u128 = 255_738_958_999_603_826_347_141;
    let (mut hi, mut lo) = {
        let (h, l) = mul_u128_wide(log_2.unsigned_abs(), LOG_FACTOR);
        (h as i128, l)
    };
    if log_2 < 0 {
        // two's complement negation of (hi, lo)
        let (nl, carry) = (!lo).overflowing_add(1);
        lo = nl;
        hi = (!hi).wrapping_add(i128::from(carry));
    }
    const ERR_LOW: u128 = 3_402_992_956_809_132_418_596_140_100_660_247_210;
    const ERR_HIGH: u128 = 291_339_464_771_989_622_907_027_621_153_398_088_495;
    // (x - ERR_LOW) >> 128 and (x + ERR_HIGH) >> 128, arithmetic shifts: the high halves.
    let tick_low = hi - i128::from(lo < ERR_LOW);
    let tick_high = hi + i128::from(lo.overflowing_add(ERR_HIGH).1);
    let (tick_low, tick_high) = (tick_low as i32, tick_high as i32);
    if tick_low == tick_high {
        Ok(tick_low)
    } else if sqrt_price_at_tick_le(tick_high, sqrt_price_x96)? {
        Ok(tick_high)
    } else {
        Ok(tick_low)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn u(s: &str) -> U256 {
        s.parse().unwrap()
    }

    #[test]
    fn bounds() {
        assert_eq!(get_sqrt_price_at_tick(MIN_TICK).unwrap(), MIN_SQRT_PRICE);
        assert_eq!(get_sqrt_price_at_tick(MAX_TICK).unwrap(), MAX_SQRT_PRICE);
        assert_eq!(
            MAX_SQRT_PRICE,
            u("1461446703485210103287273052203988822378723970342")
        );
        assert_eq!(get_sqrt_price_at_tick(0).unwrap(), U256::from(1u8) << 96);
        assert_eq!(
            get_sqrt_price_at_tick(MIN_TICK - 1),
            Err(SpotError::InvalidTick(MIN_TICK - 1))
        );
        assert_eq!(
            get_sqrt_price_at_tick(MAX_TICK + 1),
            Err(SpotError::InvalidTick(MAX_TICK + 1))
        );
        assert_eq!(get_tick_at_sqrt_price(MIN_SQRT_PRICE).unwrap(), MIN_TICK);
        assert_eq!(
            get_tick_at_sqrt_price(MAX_SQRT_PRICE - U256::from(1u8)).unwrap(),
            MAX_TICK - 1
        );
        assert!(get_tick_at_sqrt_price(MAX_SQRT_PRICE).is_err());
        assert!(get_tick_at_sqrt_price(MIN_SQRT_PRICE - U256::from(1u8)).is_err());
        assert_eq!(max_usable_tick(60), 887_220);
        assert_eq!(min_usable_tick(60), -887_220);
    }

    #[test]
    fn known_values() {
        // Values from v4-core's TickMath tests / Uniswap v3's published table.
        assert_eq!(
            get_sqrt_price_at_tick(1).unwrap(),
            u("79232123823359799118286999568")
        );
        assert_eq!(
            get_sqrt_price_at_tick(-1).unwrap(),
            u("79224201403219477170569942574")
        );
        assert_eq!(
            get_sqrt_price_at_tick(50).unwrap(),
            u("79426470787362580746886972461")
        );
        assert_eq!(
            get_sqrt_price_at_tick(-50).unwrap(),
            u("79030349367926598376800521322")
        );
        assert_eq!(
            get_tick_at_sqrt_price(u("271122381723009598090561716224")).unwrap(),
            24605
        );
        assert_eq!(get_tick_at_sqrt_price(u("82034020779")).unwrap(), -828277);
    }

    proptest! {
        #[test]
        fn inverse_is_consistent(tick in MIN_TICK..MAX_TICK) {
            let p = get_sqrt_price_at_tick(tick).unwrap();
            prop_assert_eq!(get_tick_at_sqrt_price(p).unwrap(), tick);
            let next = get_sqrt_price_at_tick(tick + 1).unwrap();
            prop_assert!(next > p);
            prop_assert_eq!(get_tick_at_sqrt_price(next - U256::from(1u8)).unwrap(), tick);
        }

        #[test]
        fn division_free_comparison(tick in MIN_TICK..=MAX_TICK, delta in -3i64..3) {
            let p = get_sqrt_price_at_tick(tick).unwrap();
            let x = if delta < 0 { p - U256::from(-delta) } else { p + U256::from(delta) };
            prop_assert_eq!(sqrt_price_at_tick_le(tick, x).unwrap(), p <= x);
        }

        #[test]
        fn tick_is_greatest_below(limbs in any::<[u64; 3]>()) {
            let x = U256::from_limbs([limbs[0], limbs[1], limbs[2] & 0xffff_ffff, 0]);
            prop_assume!(x >= MIN_SQRT_PRICE && x < MAX_SQRT_PRICE);
            let t = get_tick_at_sqrt_price(x).unwrap();
            prop_assert!(get_sqrt_price_at_tick(t).unwrap() <= x);
            prop_assert!(get_sqrt_price_at_tick(t + 1).unwrap() > x);
        }
    }
}
