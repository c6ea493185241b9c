//! WAD fixed point: unsigned reals stored as integers scaled by [`WAD`] = `10^18`.
//!
//! A WAD value `a` stands for the real number `a / 10^18`; the smallest positive value is
//! `10^-18` ("one unit"). Ratios, prices, funding rates and the mark-price curve all use WAD.
//!
//! Every function that can lose precision names its rounding in its name:
//! - `_down`: the result is `floor` of the exact real result (never above it);
//! - `_up`: the result is `ceil` of the exact real result (never below it);
//! - `_exact`: no rounding can happen; an input that would need rounding or overflow is an
//!   error.
//!
//! Callers pick the direction that favours the protocol: what a trader pays rounds up, what a
//! trader receives rounds down.
//!
//! Functions come in two widths: [`U256`] (the canonical one; the 512-bit intermediates of
//! [`crate::full_math`] make every `a * b / c` exact before the single final rounding) and
//! `_u128` variants for hot paths whose operands fit in 128 bits. Both widths return identical
//! values whenever the result fits in `u128`. Nothing here panics or wraps: overflow is
//! [`MathError::Overflow`], a zero divisor is [`MathError::DivisionByZero`], an unsupported
//! argument (e.g. too many decimals) is [`MathError::Domain`].

use crate::full_math::{mul_div, mul_div_rounding_up};
use crate::MathError;
use alloy_primitives::{Uint, U256};

type U512 = Uint<512, 8>;

/// `10^18` as `u128`: the WAD scale.
pub const WAD_U128: u128 = 1_000_000_000_000_000_000;

/// `10^18` as [`U256`]: the WAD scale (`1.0` in WAD).
#[allow(clippy::cast_possible_truncation)] // 10^18 < 2^64 (a const: no `try_from`)
pub const WAD: U256 = U256::from_limbs([WAD_U128 as u64, 0, 0, 0]);

/// Number of decimals of the WAD scale.
pub const WAD_DECIMALS: u8 = 18;

/// `2^96`: the scale of Uniswap `sqrtPriceX96` and other Q64.96 values.
pub const Q96: U256 = U256::from_limbs([0, 1 << 32, 0, 0]);

/// `2^128`: the scale of Uniswap Q128 fee-growth accumulators.
pub const Q128: U256 = U256::from_limbs([0, 0, 1, 0]);

/// Largest number of decimals accepted by [`rescale_down`] / [`rescale_up`]
/// (`10^77 < 2^256 < 10^78`).
pub const MAX_DECIMALS: u8 = 77;

#[inline]
fn to_u128(x: U256) -> Result<u128, MathError> {
    u128::try_from(x).map_err(|_| MathError::Overflow)
}

// ---------------------------------------------------------------------------------------------
// U256
// ---------------------------------------------------------------------------------------------

/// `floor(a * b / 1e18)`: WAD product rounded down.
#[inline]
pub fn mul_wad_down(a: U256, b: U256) -> Result<U256, MathError> {
    mul_div(a, b, WAD)
}

/// `ceil(a * b / 1e18)`: WAD product rounded up.
#[inline]
pub fn mul_wad_up(a: U256, b: U256) -> Result<U256, MathError> {
    mul_div_rounding_up(a, b, WAD)
}

/// `floor(a * 1e18 / b)`: WAD quotient rounded down. `b == 0` is
/// [`MathError::DivisionByZero`].
#[inline]
pub fn div_wad_down(a: U256, b: U256) -> Result<U256, MathError> {
    mul_div(a, WAD, b)
}

/// `ceil(a * 1e18 / b)`: WAD quotient rounded up. `b == 0` is
/// [`MathError::DivisionByZero`].
#[inline]
pub fn div_wad_up(a: U256, b: U256) -> Result<U256, MathError> {
    mul_div_rounding_up(a, WAD, b)
}

/// The integer `n` as a WAD (`n * 1e18`); exact, [`MathError::Overflow`] if it does not fit.
#[inline]
pub fn int_to_wad_exact(n: U256) -> Result<U256, MathError> {
    n.checked_mul(WAD).ok_or(MathError::Overflow)
}

/// `floor(x / 1e18)`: the integer part of a WAD.
#[inline]
pub fn wad_to_int_down(x: U256) -> U256 {
    x / WAD
}

/// `ceil(x / 1e18)`: the smallest integer not below a WAD.
#[inline]
pub fn wad_to_int_up(x: U256) -> U256 {
    let (q, r) = x.div_rem(WAD);
    // q <= (2^256 - 1) / 1e18, so q + 1 cannot overflow.
    if r.is_zero() {
        q
    } else {
        q + U256::from(1u8)
    }
}

/// `10^d` for `d <= MAX_DECIMALS`.
fn pow10(d: u8) -> Result<U256, MathError> {
    if d > MAX_DECIMALS {
        return Err(MathError::Domain);
    }
    Ok(U256::from(10u8).pow(U256::from(d)))
}

/// Re-expresses an amount with `from` decimals in `to` decimals, rounding down
/// (`floor(x * 10^to / 10^from)`). Exact when `to >= from` (then only overflow can fail).
/// Example: a WAD to azUSD micro-units is `rescale_down(x, 18, 6)`.
/// Decimals above [`MAX_DECIMALS`] are [`MathError::Domain`].
pub fn rescale_down(x: U256, from: u8, to: u8) -> Result<U256, MathError> {
    if from.max(to) > MAX_DECIMALS {
        return Err(MathError::Domain);
    }
    if to >= from {
        x.checked_mul(pow10(to - from)?).ok_or(MathError::Overflow)
    } else {
        Ok(x / pow10(from - to)?)
    }
}

/// Re-expresses an amount with `from` decimals in `to` decimals, rounding up
/// (`ceil(x * 10^to / 10^from)`). Exact when `to >= from`.
/// Decimals above [`MAX_DECIMALS`] are [`MathError::Domain`].
pub fn rescale_up(x: U256, from: u8, to: u8) -> Result<U256, MathError> {
    if from.max(to) > MAX_DECIMALS {
        return Err(MathError::Domain);
    }
    if to >= from {
        x.checked_mul(pow10(to - from)?).ok_or(MathError::Overflow)
    } else {
        let (q, r) = x.div_rem(pow10(from - to)?);
        // q <= x / 10, so q + 1 cannot overflow.
        Ok(if r.is_zero() { q } else { q + U256::from(1u8) })
    }
}

/// `floor(x * 2^96 / 1e18)`: a WAD as a Q96 value, rounded down.
#[inline]
pub fn wad_to_q96_down(x: U256) -> Result<U256, MathError> {
    mul_div(x, Q96, WAD)
}

/// `ceil(x * 2^96 / 1e18)`: a WAD as a Q96 value, rounded up.
#[inline]
pub fn wad_to_q96_up(x: U256) -> Result<U256, MathError> {
    mul_div_rounding_up(x, Q96, WAD)
}

/// `floor(x * 1e18 / 2^96)`: a Q96 value as a WAD, rounded down.
#[inline]
pub fn q96_to_wad_down(x: U256) -> Result<U256, MathError> {
    mul_div(x, WAD, Q96)
}

/// `ceil(x * 1e18 / 2^96)`: a Q96 value as a WAD, rounded up.
#[inline]
pub fn q96_to_wad_up(x: U256) -> Result<U256, MathError> {
    mul_div_rounding_up(x, WAD, Q96)
}

/// `floor(x * 2^128 / 1e18)`: a WAD as a Q128 value, rounded down.
#[inline]
pub fn wad_to_q128_down(x: U256) -> Result<U256, MathError> {
    mul_div(x, Q128, WAD)
}

/// `ceil(x * 2^128 / 1e18)`: a WAD as a Q128 value, rounded up.
#[inline]
pub fn wad_to_q128_up(x: U256) -> Result<U256, MathError> {
    mul_div_rounding_up(x, Q128, WAD)
}

/// `floor(x * 1e18 / 2^128)`: a Q128 value as a WAD, rounded down.
#[inline]
pub fn q128_to_wad_down(x: U256) -> Result<U256, MathError> {
    mul_div(x, WAD, Q128)
}

/// `ceil(x * 1e18 / 2^128)`: a Q128 value as a WAD, rounded up.
#[inline]
pub fn q128_to_wad_up(x: U256) -> Result<U256, MathError> {
    mul_div_rounding_up(x, WAD, Q128)
}

/// `(s^2 * 1e18 / 2^192, remainder != 0)` computed exactly in 512 bits.
fn sqrt_price_x96_to_price_wad(s: U256) -> Result<(U256, bool), MathError> {
    let sq: U512 = s.widening_mul(s);
    let scaled = sq
        .checked_mul(U512::from(WAD_U128))
        .ok_or(MathError::Overflow)?; // sq * 1e18 >= 2^512 implies a result >= 2^320
    let q: U512 = scaled >> 192;
    let inexact = scaled.trailing_zeros() < 192;
    let q = U256::checked_from_limbs_slice(q.as_limbs()).ok_or(MathError::Overflow)?;
    Ok((q, inexact))
}

/// The price `(sqrtPriceX96 / 2^96)^2` as a WAD, rounded down (single rounding of the exact
/// value, no intermediate truncation). Uniswap's price is token1 per token0 in raw units.
pub fn sqrt_price_x96_to_price_wad_down(sqrt_price_x96: U256) -> Result<U256, MathError> {
    Ok(sqrt_price_x96_to_price_wad(sqrt_price_x96)?.0)
}

/// The price `(sqrtPriceX96 / 2^96)^2` as a WAD, rounded up (single rounding).
pub fn sqrt_price_x96_to_price_wad_up(sqrt_price_x96: U256) -> Result<U256, MathError> {
    let (q, inexact) = sqrt_price_x96_to_price_wad(sqrt_price_x96)?;
    if inexact {
        q.checked_add(U256::from(1u8)).ok_or(MathError::Overflow)
    } else {
        Ok(q)
    }
}

// ---------------------------------------------------------------------------------------------
// u128 fast variants
// ---------------------------------------------------------------------------------------------

/// `floor(a * b / 1e18)` on `u128`; [`MathError::Overflow`] if the result exceeds `u128`.
#[inline]
pub fn mul_wad_down_u128(a: u128, b: u128) -> Result<u128, MathError> {
    match a.checked_mul(b) {
        Some(p) => Ok(p / WAD_U128),
        None => to_u128(mul_wad_down(U256::from(a), U256::from(b))?),
    }
}

/// `ceil(a * b / 1e18)` on `u128`; [`MathError::Overflow`] if the result exceeds `u128`.
#[inline]
pub fn mul_wad_up_u128(a: u128, b: u128) -> Result<u128, MathError> {
    match a.checked_mul(b) {
        // p / 1e18 < 2^68, so + 1 cannot overflow.
        Some(p) => Ok(p / WAD_U128 + u128::from(p % WAD_U128 != 0)),
        None => to_u128(mul_wad_up(U256::from(a), U256::from(b))?),
    }
}

/// `floor(a * 1e18 / b)` on `u128`; zero divisor and overflow are errors.
#[inline]
pub fn div_wad_down_u128(a: u128, b: u128) -> Result<u128, MathError> {
    if b == 0 {
        return Err(MathError::DivisionByZero);
    }
    match a.checked_mul(WAD_U128) {
        Some(p) => Ok(p / b),
        None => to_u128(div_wad_down(U256::from(a), U256::from(b))?),
    }
}

/// `ceil(a * 1e18 / b)` on `u128`; zero divisor and overflow are errors.
#[inline]
pub fn div_wad_up_u128(a: u128, b: u128) -> Result<u128, MathError> {
    if b == 0 {
        return Err(MathError::DivisionByZero);
    }
    match a.checked_mul(WAD_U128) {
        // p / b <= p < 2^128 and the + 1 only happens when p % b != 0, i.e. p / b < p.
        Some(p) => Ok(p / b + u128::from(p % b != 0)),
        None => to_u128(div_wad_up(U256::from(a), U256::from(b))?),
    }
}

#[cfg(test)]
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_lossless
)]
mod tests {
    use super::*;
    use num_bigint::BigInt;
    use proptest::prelude::*;

    use crate::reference::{big, to_u256};

    fn u(x: u128) -> U256 {
        U256::from(x)
    }

    /// Exact floor/ceil of `n / d` for non-negative big integers, as U256 (None if too big).
    fn floor_ceil(n: &BigInt, d: &BigInt) -> (Option<U256>, Option<U256>) {
        let q = n / d;
        let c = if &q * d == *n { q.clone() } else { &q + 1 };
        let fits = |v: &BigInt| v.bits() <= 256;
        (fits(&q).then(|| to_u256(&q)), fits(&c).then(|| to_u256(&c)))
    }

    #[test]
    fn constants() {
        assert_eq!(WAD, U256::from(10u8).pow(U256::from(18u8)));
        assert_eq!(Q96, U256::from(1u8) << 96);
        assert_eq!(Q128, U256::from(1u8) << 128);
        assert_eq!(pow10(MAX_DECIMALS).unwrap().to_string().len(), 78);
        assert_eq!(pow10(MAX_DECIMALS + 1), Err(MathError::Domain));
    }

    #[test]
    fn rounding_directions_small() {
        // 1.5 * 1.000000000000000001 = 1.5000000000000000015 -> ...001 / ...002
        let a = u(1_500_000_000_000_000_000);
        let b = u(1_000_000_000_000_000_001);
        assert_eq!(mul_wad_down(a, b).unwrap(), u(1_500_000_000_000_000_001));
        assert_eq!(mul_wad_up(a, b).unwrap(), u(1_500_000_000_000_000_002));
        // 1 / 3
        assert_eq!(
            div_wad_down(WAD, u(3) * WAD).unwrap(),
            u(333_333_333_333_333_333)
        );
        assert_eq!(
            div_wad_up(WAD, u(3) * WAD).unwrap(),
            u(333_333_333_333_333_334)
        );
        // exact cases do not round
        assert_eq!(mul_wad_up(u(2) * WAD, u(3) * WAD).unwrap(), u(6) * WAD);
        assert_eq!(div_wad_up(u(6) * WAD, u(3) * WAD).unwrap(), u(2) * WAD);
        assert_eq!(
            div_wad_down(WAD, U256::ZERO),
            Err(MathError::DivisionByZero)
        );
        assert_eq!(div_wad_up_u128(1, 0), Err(MathError::DivisionByZero));
        assert_eq!(wad_to_int_down(u(2_999_999_999_999_999_999)), u(2));
        assert_eq!(wad_to_int_up(u(2_000_000_000_000_000_001)), u(3));
        assert_eq!(wad_to_int_up(u(2) * WAD), u(2));
        assert_eq!(wad_to_int_up(U256::MAX), U256::MAX / WAD + u(1));
        assert_eq!(int_to_wad_exact(u(7)).unwrap(), u(7) * WAD);
        assert_eq!(int_to_wad_exact(U256::MAX), Err(MathError::Overflow));
    }

    #[test]
    fn rescale() {
        // 1.2345678 WAD-units... to 6 decimals
        let x = u(1_234_567_890_123_456_789);
        assert_eq!(rescale_down(x, 18, 6).unwrap(), u(1_234_567));
        assert_eq!(rescale_up(x, 18, 6).unwrap(), u(1_234_568));
        assert_eq!(
            rescale_up(u(1_234_567_000_000_000_000), 18, 6).unwrap(),
            u(1_234_567)
        );
        assert_eq!(
            rescale_down(u(1_234_567), 6, 18).unwrap(),
            u(1_234_567_000_000_000_000)
        );
        assert_eq!(rescale_up(u(5), 6, 6).unwrap(), u(5));
        assert_eq!(rescale_down(u(5), 78, 6), Err(MathError::Domain));
        assert_eq!(rescale_down(u(5), 6, 78), Err(MathError::Domain));
        assert_eq!(rescale_up(u(1), 0, 77).unwrap(), pow10(77).unwrap());
        assert_eq!(rescale_up(u(2), 0, 77), Err(MathError::Overflow));
        assert_eq!(rescale_down(U256::MAX, 77, 0).unwrap(), u(1));
        assert_eq!(rescale_up(U256::MAX, 77, 0).unwrap(), u(2));
    }

    #[test]
    fn q_conversions() {
        assert_eq!(wad_to_q96_down(WAD).unwrap(), Q96);
        assert_eq!(q96_to_wad_up(Q96).unwrap(), WAD);
        assert_eq!(wad_to_q128_up(WAD).unwrap(), Q128);
        assert_eq!(q128_to_wad_down(Q128).unwrap(), WAD);
        // 1 unit of Q96 is 1.26e-11 WAD units: rounds to 0 / 1.
        assert_eq!(q96_to_wad_down(u(1)).unwrap(), U256::ZERO);
        assert_eq!(q96_to_wad_up(u(1)).unwrap(), u(1));
        // sqrtPriceX96 of price 1 is 2^96; of price 4 is 2^97.
        assert_eq!(sqrt_price_x96_to_price_wad_down(Q96).unwrap(), WAD);
        assert_eq!(
            sqrt_price_x96_to_price_wad_up(Q96 << 1).unwrap(),
            u(4) * WAD
        );
        assert_eq!(sqrt_price_x96_to_price_wad_down(Q96 + u(1)).unwrap(), WAD);
        assert_eq!(
            sqrt_price_x96_to_price_wad_up(Q96 + u(1)).unwrap(),
            WAD + u(1)
        );
        assert_eq!(
            sqrt_price_x96_to_price_wad_down(U256::MAX),
            Err(MathError::Overflow)
        );
        // Uniswap's MAX_SQRT_RATIO still converts.
        let max_sqrt =
            U256::from_str_radix("1461446703485210103287273052203988822378723970342", 10).unwrap();
        assert!(sqrt_price_x96_to_price_wad_up(max_sqrt).is_ok());
    }

    fn arb_u256() -> impl Strategy<Value = U256> {
        (any::<[u64; 4]>(), 0usize..256).prop_map(|(l, s)| U256::from_limbs(l) >> s)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn u256_ops_match_exact(a in arb_u256(), b in arb_u256()) {
            let w = BigInt::from(WAD_U128);
            let (d, up) = floor_ceil(&(big(a) * big(b)), &w);
            prop_assert_eq!(mul_wad_down(a, b).ok(), d);
            prop_assert_eq!(mul_wad_up(a, b).ok(), up);
            if !b.is_zero() {
                let (d, up) = floor_ceil(&(big(a) * &w), &big(b));
                prop_assert_eq!(div_wad_down(a, b).ok(), d);
                prop_assert_eq!(div_wad_up(a, b).ok(), up);
            }
            let (d, up) = floor_ceil(&(big(a) * BigInt::from(1u128 << 96)), &w);
            prop_assert_eq!(wad_to_q96_down(a).ok(), d);
            prop_assert_eq!(wad_to_q96_up(a).ok(), up);
            let (d, up) = floor_ceil(&(big(a) * &w), &BigInt::from(1u128 << 96));
            prop_assert_eq!(q96_to_wad_down(a).ok(), d);
            prop_assert_eq!(q96_to_wad_up(a).ok(), up);
            let q128 = BigInt::from(1u8) << 128;
            let (d, up) = floor_ceil(&(big(a) * &q128), &w);
            prop_assert_eq!(wad_to_q128_down(a).ok(), d);
            prop_assert_eq!(wad_to_q128_up(a).ok(), up);
            let (d, up) = floor_ceil(&(big(a) * &w), &q128);
            prop_assert_eq!(q128_to_wad_down(a).ok(), d);
            prop_assert_eq!(q128_to_wad_up(a).ok(), up);
            let (d, up) = floor_ceil(&(big(a) * big(a) * &w), &(BigInt::from(1u8) << 192));
            prop_assert_eq!(sqrt_price_x96_to_price_wad_down(a).ok(), d);
            prop_assert_eq!(sqrt_price_x96_to_price_wad_up(a).ok(), up);
            let (d, up) = floor_ceil(&big(a), &w);
            prop_assert_eq!(Some(wad_to_int_down(a)), d);
            prop_assert_eq!(Some(wad_to_int_up(a)), up);
        }

        #[test]
        fn u128_ops_match_u256(a in any::<u128>(), b in any::<u128>(), sa in 0u32..128, sb in 0u32..128) {
            let (a, b) = (a >> sa, b >> sb);
            let narrow = |r: Result<U256, MathError>| r.and_then(to_u128);
            prop_assert_eq!(mul_wad_down_u128(a, b), narrow(mul_wad_down(u(a), u(b))));
            prop_assert_eq!(mul_wad_up_u128(a, b), narrow(mul_wad_up(u(a), u(b))));
            prop_assert_eq!(div_wad_down_u128(a, b), narrow(div_wad_down(u(a), u(b))));
            prop_assert_eq!(div_wad_up_u128(a, b), narrow(div_wad_up(u(a), u(b))));
        }

        #[test]
        fn rescale_matches_exact(a in arb_u256(), from in 0u8..=77, to in 0u8..=77) {
            let pf = BigInt::from(10u8).pow(u32::from(from));
            let pt = BigInt::from(10u8).pow(u32::from(to));
            let (d, up) = floor_ceil(&(big(a) * pt), &pf);
            prop_assert_eq!(rescale_down(a, from, to).ok(), d);
            prop_assert_eq!(rescale_up(a, from, to).ok(), up);
        }
    }
}
