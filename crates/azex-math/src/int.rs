//! Native-width (`u128` / `i128`) helpers with the rounding in the name or in a [`Rounding`]
//! argument: products and quotients of amounts that fit in 128 bits, computed in 128 bits when
//! the intermediate product fits and through the 512-bit [`mul_div`] otherwise. Each fast path
//! returns exactly what the wide path returns (property tests below).

use crate::{div_rounding_up, mul_div, mul_div_rounding_up, MathError, I256, U256};

/// The direction of a rounding, for code that computes both bounds of one figure with the same
/// steps (an enclosure): `Down` never above the exact result, `Up` never below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rounding {
    /// Toward −∞ (the floor).
    Down,
    /// Toward +∞ (the ceiling).
    Up,
}

impl Rounding {
    /// `Up` when `up`, else `Down` (for call sites that decide the direction from a sign).
    #[inline]
    pub fn up_if(up: bool) -> Self {
        if up {
            Rounding::Up
        } else {
            Rounding::Down
        }
    }

    /// `true` for [`Rounding::Up`].
    #[inline]
    pub fn is_up(self) -> bool {
        self == Rounding::Up
    }
}

/// `a × b / d` on `U256`, in the given direction ([`mul_div`] or [`mul_div_rounding_up`]).
#[inline]
pub fn mul_div_rounded(a: U256, b: U256, d: U256, r: Rounding) -> Result<U256, MathError> {
    match r {
        Rounding::Down => mul_div(a, b, d),
        Rounding::Up => mul_div_rounding_up(a, b, d),
    }
}

/// `x / d` on `U256`, in the given direction; [`MathError::DivisionByZero`] when `d = 0`.
#[inline]
pub fn div_rounded(x: U256, d: U256, r: Rounding) -> Result<U256, MathError> {
    match r {
        Rounding::Down => x.checked_div(d).ok_or(MathError::DivisionByZero),
        Rounding::Up => div_rounding_up(x, d),
    }
}

#[inline]
fn to_u128(x: U256) -> Result<u128, MathError> {
    u128::try_from(x).map_err(|_| MathError::Overflow)
}

/// `floor(a × b / d)` on `u128`; zero divisor and a result above `u128` are errors.
#[inline]
pub fn mul_div_down_u128(a: u128, b: u128, d: u128) -> Result<u128, MathError> {
    if d == 0 {
        return Err(MathError::DivisionByZero);
    }
    match a.checked_mul(b) {
        Some(p) => Ok(p / d),
        None => to_u128(mul_div(U256::from(a), U256::from(b), U256::from(d))?),
    }
}

/// `ceil(a × b / d)` on `u128`; zero divisor and a result above `u128` are errors.
#[inline]
pub fn mul_div_up_u128(a: u128, b: u128, d: u128) -> Result<u128, MathError> {
    if d == 0 {
        return Err(MathError::DivisionByZero);
    }
    match a.checked_mul(b) {
        Some(p) => Ok(p.div_ceil(d)),
        None => to_u128(mul_div_rounding_up(
            U256::from(a),
            U256::from(b),
            U256::from(d),
        )?),
    }
}

const E15: u128 = 1_000_000_000_000_000;

/// `(floor(a × b / 10^30), a × b divisible by 10^30)` in `u128` arithmetic, `None` when a piece
/// does not fit (then use [`mul_div`]). With `a = A·10^15 + a0`, `b = B·10^15 + b0`:
/// `a·b = A·B·10^30 + (A·b0 + a0·B)·10^15 + a0·b0`; flooring `a0·b0 / 10^15` first does not
/// change the outer floor, and the product divides exactly iff both partial remainders are 0.
/// (`10^30` = a 1e18 quantity times a 1e18 price, in 1e-6 units.)
#[inline]
pub fn mul_div_e30_u128(a: u128, b: u128) -> Option<(u128, bool)> {
    let (ah, al) = (a / E15, a % E15);
    let (bh, bl) = (b / E15, b % E15);
    let hi = ah.checked_mul(bh)?;
    let low = al * bl; // < 10^30
    let mid = ah
        .checked_mul(bl)?
        .checked_add(al.checked_mul(bh)?)?
        .checked_add(low / E15)?;
    Some((hi.checked_add(mid / E15)?, low % E15 == 0 && mid % E15 == 0))
}

/// `x / d` for signed 256-bit values, rounded toward −∞, as an `i128`.
#[inline]
pub fn div_i256_down(x: I256, d: I256) -> Result<i128, MathError> {
    div_i256(x, d, Rounding::Down)
}

/// `x / d` for signed 256-bit values, rounded toward +∞, as an `i128`.
#[inline]
pub fn div_i256_up(x: I256, d: I256) -> Result<i128, MathError> {
    div_i256(x, d, Rounding::Up)
}

/// `x / d` for signed 256-bit values in direction `r`, as an `i128`: one unsigned division of
/// the magnitudes (the generic signed `/` and `%` would divide twice).
#[inline]
pub fn div_i256(x: I256, d: I256, r: Rounding) -> Result<i128, MathError> {
    if d.is_zero() {
        return Err(MathError::DivisionByZero);
    }
    let neg = x.is_negative() != d.is_negative();
    let (q, rem) = x.unsigned_abs().div_rem(d.unsigned_abs());
    // Rounding away from zero: the floor of a negative quotient, the ceiling of a positive one.
    let q = if !rem.is_zero() && neg != r.is_up() {
        q.checked_add(U256::from(1u8)).ok_or(MathError::Overflow)?
    } else {
        q
    };
    let q = to_u128(q)?;
    if neg {
        0i128.checked_sub_unsigned(q) // reaches i128::MIN exactly
    } else {
        i128::try_from(q).ok()
    }
    .ok_or(MathError::Overflow)
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
    use proptest::prelude::*;

    const E30: u128 = 1_000_000_000_000_000_000_000_000_000_000;

    #[test]
    fn signed_division_reaches_the_extremes() {
        let min = I256::try_from(i128::MIN).unwrap();
        assert_eq!(div_i256_down(min, I256::ONE), Ok(i128::MIN));
        assert_eq!(div_i256_up(min, -I256::ONE), Err(MathError::Overflow));
        let max = I256::try_from(i128::MAX).unwrap();
        assert_eq!(div_i256_up(max, I256::ONE), Ok(i128::MAX));
        assert_eq!(div_i256_up(max, I256::ZERO), Err(MathError::DivisionByZero));
    }

    #[test]
    fn e30_exactness_edges() {
        assert_eq!(mul_div_e30_u128(E30, 7), Some((7, true)));
        assert_eq!(mul_div_e30_u128(E30 + 1, 1), Some((1, false)));
        assert_eq!(mul_div_e30_u128(E15 * 3, E15 * 5), Some((15, true)));
        assert_eq!(mul_div_e30_u128(E15 * 3 + 1, E15 * 5), Some((15, false)));
    }

    #[test]
    fn zero_divisors_are_errors() {
        assert_eq!(mul_div_down_u128(1, 1, 0), Err(MathError::DivisionByZero));
        assert_eq!(mul_div_up_u128(1, 1, 0), Err(MathError::DivisionByZero));
        assert_eq!(
            div_rounded(U256::from(1u8), U256::ZERO, Rounding::Down),
            Err(MathError::DivisionByZero)
        );
    }

    proptest! {
        /// Signed 256-bit division with one unsigned division of the magnitudes agrees with
        /// the generic signed `/` and `%` (floor and ceiling).
        #[test]
        fn signed_division_rounds_like_the_generic_one(x in any::<i128>(), sh in 0usize..100, d in any::<i64>()) {
            prop_assume!(d != 0);
            let x = I256::try_from(x).unwrap() << sh;
            let d = I256::try_from(d).unwrap();
            let (q, r) = (x / d, x % d);
            let floor = if !r.is_zero() && (r.is_negative() != d.is_negative()) { q - I256::ONE } else { q };
            let ceil = if !r.is_zero() && (r.is_negative() == d.is_negative()) { q + I256::ONE } else { q };
            for (got, want) in [(div_i256_down(x, d), floor), (div_i256_up(x, d), ceil)] {
                match i128::try_from(want) {
                    Ok(w) => prop_assert_eq!(got, Ok(w)),
                    Err(_) => prop_assert!(got.is_err()),
                }
            }
        }

        /// The `10^30` split agrees with the 512-bit path, both roundings.
        #[test]
        fn e30_split_matches_wide(a in 0u128..(1u128 << 100), b in 0u128..(1u128 << 90)) {
            if let Some((f, exact)) = mul_div_e30_u128(a, b) {
                let (ua, ub, ud) = (U256::from(a), U256::from(b), U256::from(E30));
                prop_assert_eq!(U256::from(f), mul_div(ua, ub, ud).unwrap());
                prop_assert_eq!(U256::from(f + u128::from(!exact)), mul_div_rounding_up(ua, ub, ud).unwrap());
            }
        }

        /// The `u128` products agree with the 512-bit ones whenever the result fits, and the
        /// up result is the down one plus one exactly when the division is inexact.
        #[test]
        fn u128_mul_div_matches_wide(a in any::<u128>(), b in any::<u128>(), d in 1u128..) {
            let (ua, ub, ud) = (U256::from(a), U256::from(b), U256::from(d));
            let wide_down = mul_div(ua, ub, ud).ok().and_then(|v| u128::try_from(v).ok());
            let wide_up = mul_div_rounding_up(ua, ub, ud).ok().and_then(|v| u128::try_from(v).ok());
            prop_assert_eq!(mul_div_down_u128(a, b, d).ok(), wide_down);
            prop_assert_eq!(mul_div_up_u128(a, b, d).ok(), wide_up);
            for r in [Rounding::Down, Rounding::Up] {
                let want = if r.is_up() { mul_div_rounding_up(ua, ub, ud) } else { mul_div(ua, ub, ud) };
                prop_assert_eq!(mul_div_rounded(ua, ub, ud, r), want);
            }
            if let (Some(lo), Some(hi)) = (wide_down, wide_up) {
                let exact = U256::from(lo) * ud == ua * ub;
                prop_assert_eq!(hi, lo + u128::from(!exact));
            }
        }
    }
}
