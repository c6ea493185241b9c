//! v4's `FullMath` and `UnsafeMath` (MIT, Uniswap Labs): `floor/ceil(a * b / d)` with a 512-bit
//! intermediate product.
//!
//! The results are those of `azex_math::mul_div` (which the property tests use as the
//! reference); this module adds the fast paths the swap loop needs: products that fit in 128
//! or 256 bits, and a limb-wise long division (Knuth's algorithm D on 64-bit limbs, as in
//! Hacker's Delight `divmnu64`) instead of a generic 512-by-512 division.

use crate::error::SpotError;
use alloy_primitives::U256;

/// Number of significant 64-bit limbs.
#[inline(always)]
fn limb_len(x: &[u64]) -> usize {
    let mut n = x.len();
    while n > 0 && x[n - 1] == 0 {
        n -= 1;
    }
    n
}

/// `q, r = u / v` on little-endian limbs with ruint's limb-level long division (reciprocal
/// based, no hardware division); `u` becomes the quotient. `v` must have a non-zero top limb.
#[inline(always)]
fn div_limbs(u: &mut [u64], v: &mut [u64]) {
    alloy_primitives::ruint::algorithms::div(u, v);
}

/// `u128 / 1e6` and `u128 % 1e6` without a 128-bit division (three 64-bit divisions by a
/// constant, which compile to multiplications).
#[inline(always)]
#[expect(
    clippy::cast_possible_truncation,
    reason = "splitting a u128 into its two 64-bit limbs"
)]
pub(crate) fn div_rem_pips(x: u128) -> (u128, u64) {
    const D: u64 = 1_000_000;
    let hi = (x >> 64) as u64;
    let lo = x as u64;
    let (q_hi, r1) = (hi / D, hi % D);
    let t1 = (r1 << 32) | (lo >> 32);
    let (q1, r2) = (t1 / D, t1 % D);
    let t2 = (r2 << 32) | (lo & 0xffff_ffff);
    let (q2, r3) = (t2 / D, t2 % D);
    (
        (u128::from(q_hi) << 64) | (u128::from(q1) << 32) | u128::from(q2),
        r3,
    )
}

/// `(a * b / d, a * b % d != 0)` with a 512-bit product; `None` when `d == 0` or the quotient
/// does not fit in 256 bits.
#[inline]
#[expect(
    clippy::cast_possible_truncation,
    reason = "the low 64-bit limb of a limb product; the carry is kept"
)]
fn mul_div_rem(a: U256, b: U256, d: U256) -> Option<(U256, bool)> {
    let (al, bl, dl) = (a.as_limbs(), b.as_limbs(), d.as_limbs());
    let (na, nb, nd) = (limb_len(al), limb_len(bl), limb_len(dl));
    if nd == 0 {
        return None;
    }
    if na == 0 || nb == 0 {
        return Some((U256::ZERO, false));
    }
    if na + nb <= 4 {
        // the product fits in 256 bits
        let p = a.wrapping_mul(b);
        if p < d {
            return Some((U256::ZERO, !p.is_zero()));
        }
        let (q, r) = div_rem(p, d);
        return Some((q, !r.is_zero()));
    }
    // schoolbook product of the significant limbs
    let mut p = [0u64; 8];
    for i in 0..na {
        let mut carry: u128 = 0;
        let ai = u128::from(al[i]);
        for j in 0..nb {
            let t = ai * u128::from(bl[j]) + u128::from(p[i + j]) + carry;
            p[i + j] = t as u64;
            carry = t >> 64;
        }
        p[i + nb] = carry as u64;
    }
    let np = limb_len(&p);
    // quotient > 2^256 - 1 unless the product's extra limbs are below the divisor's
    if np > 4 + nd {
        return None;
    }
    let mut v = [dl[0], dl[1], dl[2], dl[3]];
    if np < nd {
        return Some((U256::ZERO, true));
    }
    div_limbs(&mut p[..np], &mut v[..nd]);
    if p[4..].iter().any(|&x| x != 0) {
        return None;
    }
    Some((
        U256::from_limbs([p[0], p[1], p[2], p[3]]),
        v.iter().any(|&x| x != 0),
    ))
}

/// `FullMath.mulDiv`: `floor(a * b / denominator)` with a 512-bit intermediate.
/// Fails ([`SpotError::MulDivFailed`], v4's empty revert) when the result does not fit in 256
/// bits or `denominator == 0`.
#[inline]
pub fn mul_div(a: U256, b: U256, denominator: U256) -> Result<U256, SpotError> {
    mul_div_rem(a, b, denominator)
        .map(|(q, _)| q)
        .ok_or(SpotError::MulDivFailed)
}

/// `FullMath.mulDivRoundingUp`: `ceil(a * b / denominator)`; fails like [`mul_div`], and also
/// when rounding up would exceed `2^256 - 1`.
#[inline]
pub fn mul_div_rounding_up(a: U256, b: U256, denominator: U256) -> Result<U256, SpotError> {
    let (q, rem) = mul_div_rem(a, b, denominator).ok_or(SpotError::MulDivFailed)?;
    if rem {
        q.checked_add(U256::from(1u8))
            .ok_or(SpotError::MulDivFailed)
    } else {
        Ok(q)
    }
}

/// `x / y` and `x % y` for `y != 0` (`(0, 0)` for `y == 0`, the EVM's convention).
#[inline]
pub fn div_rem(x: U256, y: U256) -> (U256, U256) {
    let (xl, yl) = (x.as_limbs(), y.as_limbs());
    let (nx, ny) = (limb_len(xl), limb_len(yl));
    if ny == 0 {
        return (U256::ZERO, U256::ZERO);
    }
    if nx < ny || (nx == ny && x < y) {
        return (U256::ZERO, x);
    }
    let mut u = *xl;
    let mut v = *yl;
    div_limbs(&mut u[..nx], &mut v[..ny]);
    (U256::from_limbs(u), U256::from_limbs(v))
}

/// `UnsafeMath.divRoundingUp`: `ceil(x / y)` with the EVM's convention that `x / 0 == 0`.
#[inline]
pub fn div_rounding_up(x: U256, y: U256) -> U256 {
    if y.is_zero() {
        return U256::ZERO;
    }
    let (q, r) = div_rem(x, y);
    // q < 2^256 - 1 whenever r != 0 (y >= 2), so the increment cannot wrap.
    if r.is_zero() {
        q
    } else {
        q + U256::from(1u8)
    }
}

/// `x / y` with the EVM's convention that `x / 0 == 0`.
#[inline]
pub fn div(x: U256, y: U256) -> U256 {
    if y.is_zero() {
        U256::ZERO
    } else {
        div_rem(x, y).0
    }
}

/// `UnsafeMath.simpleMulDiv`: `(a * b mod 2^256) / denominator`, EVM semantics (`/0 == 0`).
/// v4 uses it for fee growth, where the product provably fits (`feeAmount < 2^128`).
#[inline]
pub fn simple_mul_div(a: U256, b: U256, denominator: U256) -> U256 {
    div(a.wrapping_mul(b), denominator)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
        assert_eq!(mul_div(U256::MAX, U256::MAX, U256::MAX), Ok(U256::MAX));
        assert_eq!(
            mul_div(U256::MAX, U256::from(2u8), U256::from(1u8)),
            Err(SpotError::MulDivFailed)
        );
        assert_eq!(
            mul_div_rounding_up(
                U256::MAX,
                U256::MAX - U256::from(1u8),
                U256::MAX - U256::from(2u8)
            ),
            Err(SpotError::MulDivFailed)
        );
    }

    #[test]
    fn pips_division() {
        for x in [
            0u128,
            1,
            999_999,
            1_000_000,
            u64::MAX as u128,
            u128::MAX,
            (1u128 << 100) + 12345,
        ] {
            let (q, r) = div_rem_pips(x);
            assert_eq!((q, r as u128), (x / 1_000_000, x % 1_000_000));
        }
    }

    #[test]
    fn add_back_step() {
        // Hacker's Delight's add-back case, on 64-bit limbs
        let u = U256::from_limbs([0, 0, 1 << 63, (1 << 63) - 1]);
        let v = U256::from_limbs([1, 0, 1 << 63, 0]);
        assert_eq!(div_rem(u, v), u.div_rem(v));
        let w = U256::from_limbs([3, 0, 1 << 63, 0]);
        assert_eq!(div_rem(u, w), u.div_rem(w));
        assert_eq!(
            mul_div(u, U256::from(1u8) << 200usize, v << 100usize),
            azex_math::mul_div(u, U256::from(1u8) << 200usize, v << 100usize)
                .map_err(SpotError::from)
        );
    }

    /// Operands with a random number of significant limbs (and edge patterns), to reach every
    /// branch of the long division.
    fn operand() -> impl Strategy<Value = U256> {
        (any::<[u64; 4]>(), 0usize..=4, 0u32..64, any::<bool>()).prop_map(|(l, n, shift, ones)| {
            let mut limbs = [0u64; 4];
            for i in 0..n {
                limbs[i] = if ones { u64::MAX } else { l[i] };
            }
            U256::from_limbs(limbs) >> shift as usize
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        #[test]
        fn matches_reference(a in operand(), b in operand(), d in operand()) {
            let want = azex_math::mul_div(a, b, d).map_err(SpotError::from);
            prop_assert_eq!(mul_div(a, b, d), want);
            let want = azex_math::mul_div_rounding_up(a, b, d).map_err(SpotError::from);
            prop_assert_eq!(mul_div_rounding_up(a, b, d), want);
            let a128 = a.wrapping_to::<u128>();
            let (q, r) = div_rem_pips(a128);
            prop_assert_eq!((q, r as u128), (a128 / 1_000_000, a128 % 1_000_000));
            if !d.is_zero() {
                prop_assert_eq!(div_rem(a, d), a.div_rem(d));
                prop_assert_eq!(div_rounding_up(a, d), azex_math::div_rounding_up(a, d).unwrap());
            }
        }
    }
}
