//! `mulDiv` with a full 512-bit intermediate product, the building block of every fixed-point
//! conversion (Uniswap's FullMath semantics: the result must fit in 256 bits or it is an error).

use crate::MathError;
use alloy_primitives::{Uint, U256};

type U512 = Uint<512, 8>;

/// `Some(x)` when `x < 2^128`.
#[inline(always)]
fn as_u128(x: &U256) -> Option<u128> {
    let l = x.as_limbs();
    if (l[2] | l[3]) == 0 {
        Some(u128::from(l[0]) | (u128::from(l[1]) << 64))
    } else {
        None
    }
}

/// `a * b` and `denominator` as `u128` when the product and the denominator fit (the common
/// case for WAD amounts): native 128-bit division is ~3x faster than the 256-bit one.
#[inline(always)]
fn u128_operands(a: &U256, b: &U256, denominator: &U256) -> Option<(u128, u128)> {
    let p = as_u128(a)?.checked_mul(as_u128(b)?)?;
    Some((p, as_u128(denominator)?))
}

/// `floor(a * b / denominator)` computed without intermediate overflow.
#[inline]
pub fn mul_div(a: U256, b: U256, denominator: U256) -> Result<U256, MathError> {
    if denominator.is_zero() {
        return Err(MathError::DivisionByZero);
    }
    if let Some((p, d)) = u128_operands(&a, &b, &denominator) {
        return Ok(U256::from(p / d));
    }
    // Fast path: the product fits in 256 bits.
    let (prod, overflow) = a.overflowing_mul(b);
    if !overflow {
        return Ok(prod / denominator);
    }
    let wide: U512 = a.widening_mul(b);
    let q = wide / U512::from(denominator);
    narrow(q)
}

/// `ceil(a * b / denominator)` computed without intermediate overflow.
#[inline]
pub fn mul_div_rounding_up(a: U256, b: U256, denominator: U256) -> Result<U256, MathError> {
    if denominator.is_zero() {
        return Err(MathError::DivisionByZero);
    }
    if let Some((p, d)) = u128_operands(&a, &b, &denominator) {
        // p / d <= p < 2^128, so the + 1 fits in U256.
        return Ok(U256::from(p / d + u128::from(p % d != 0)));
    }
    let (prod, overflow) = a.overflowing_mul(b);
    if !overflow {
        let (q, r) = prod.div_rem(denominator);
        return if r.is_zero() {
            Ok(q)
        } else {
            q.checked_add(U256::from(1u8)).ok_or(MathError::Overflow)
        };
    }
    let wide: U512 = a.widening_mul(b);
    let (q, r) = wide.div_rem(U512::from(denominator));
    let q = narrow(q)?;
    if r.is_zero() {
        Ok(q)
    } else {
        q.checked_add(U256::from(1u8)).ok_or(MathError::Overflow)
    }
}

/// `ceil(x / y)`; errors on `y == 0`.
#[inline]
pub fn div_rounding_up(x: U256, y: U256) -> Result<U256, MathError> {
    if y.is_zero() {
        return Err(MathError::DivisionByZero);
    }
    let (q, r) = x.div_rem(y);
    Ok(if r.is_zero() { q } else { q + U256::from(1u8) })
}

#[inline]
fn narrow(q: U512) -> Result<U256, MathError> {
    let limbs = q.as_limbs();
    if limbs[4..].iter().any(|&l| l != 0) {
        return Err(MathError::Overflow);
    }
    Ok(U256::from_limbs([limbs[0], limbs[1], limbs[2], limbs[3]]))
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

    fn u(x: u128) -> U256 {
        U256::from(x)
    }

    #[test]
    fn small_values() {
        assert_eq!(mul_div(u(10), u(10), u(3)).unwrap(), u(33));
        assert_eq!(mul_div_rounding_up(u(10), u(10), u(3)).unwrap(), u(34));
        assert_eq!(mul_div_rounding_up(u(9), u(10), u(3)).unwrap(), u(30));
        assert_eq!(
            mul_div(u(1), u(1), U256::ZERO),
            Err(MathError::DivisionByZero)
        );
    }

    #[test]
    fn wide_product() {
        let q128 = U256::from(1u8) << 128;
        // (2^255 * 2^128) / 2^128 == 2^255 needs the 512-bit path.
        let big = U256::from(1u8) << 255;
        assert_eq!(mul_div(big, q128, q128).unwrap(), big);
        assert_eq!(mul_div(U256::MAX, U256::MAX, U256::MAX).unwrap(), U256::MAX);
        assert_eq!(mul_div(U256::MAX, u(2), u(1)), Err(MathError::Overflow));
        assert_eq!(
            mul_div_rounding_up(U256::MAX, U256::MAX, U256::MAX).unwrap(),
            U256::MAX
        );
        // Result is MAX with a remainder: rounding up overflows.
        assert_eq!(
            mul_div_rounding_up(U256::MAX, U256::MAX - u(1), U256::MAX - u(2)),
            Err(MathError::Overflow)
        );
    }

    proptest! {
        #[test]
        fn matches_u128_reference(a in any::<u64>(), b in any::<u64>(), d in 1u64..) {
            let exact = (a as u128) * (b as u128);
            let floor = exact / d as u128;
            let ceil = floor + u128::from(exact % d as u128 != 0);
            prop_assert_eq!(mul_div(u(a as u128), u(b as u128), u(d as u128)).unwrap(), u(floor));
            prop_assert_eq!(mul_div_rounding_up(u(a as u128), u(b as u128), u(d as u128)).unwrap(), u(ceil));
        }

        #[test]
        fn wide_roundtrip(a in any::<[u64; 4]>(), b in any::<[u64; 4]>()) {
            let a = U256::from_limbs(a);
            let b = U256::from_limbs(b);
            prop_assume!(!a.is_zero() && !b.is_zero());
            // a * b / b == a exactly, through the 512-bit path when it overflows.
            prop_assert_eq!(mul_div(a, b, b).unwrap(), a);
            prop_assert_eq!(mul_div_rounding_up(a, b, b).unwrap(), a);
        }
    }
}
