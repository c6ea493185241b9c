//! v4's `SwapMath` (MIT, Uniswap Labs): one swap step inside a single initialized-tick range.

use super::full_math::{div_rem_pips, mul_div, mul_div_rounding_up};
use super::sqrt_price_math::{
    get_amount0_delta, get_amount1_delta, get_next_sqrt_price_from_input,
    get_next_sqrt_price_from_output,
};
use crate::error::SpotError;
use alloy_primitives::{I256, U256};

/// The total swap fee (LP + protocol) is in pips; 1e6 is 100%.
pub const MAX_SWAP_FEE: u32 = 1_000_000;

/// `SwapMath.getSqrtPriceTarget`: the price a step aims at, the next initialized tick's price
/// unless the caller's limit comes first (`max(next, limit)` for zero-for-one, `min` otherwise).
#[inline]
pub fn get_sqrt_price_target(
    zero_for_one: bool,
    sqrt_price_next_x96: U256,
    sqrt_price_limit_x96: U256,
) -> U256 {
    if zero_for_one {
        sqrt_price_next_x96.max(sqrt_price_limit_x96)
    } else {
        sqrt_price_next_x96.min(sqrt_price_limit_x96)
    }
}

/// Outcome of [`compute_swap_step`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwapStep {
    /// Price after the step (never beyond the target).
    pub sqrt_price_next_x96: U256,
    /// Input taken by the curve, fee excluded (rounded up).
    pub amount_in: U256,
    /// Output paid out (rounded down).
    pub amount_out: U256,
    /// Fee taken from the input (rounded up), LP and protocol shares together.
    pub fee_amount: U256,
}

/// `SwapMath.computeSwapStep`: swap within `[current, target]` at constant `liquidity`.
///
/// `amount_remaining < 0` is exact input (`|amount_remaining|` includes the fee), `> 0` exact
/// output. For exact input the fee is `ceil(amountIn * fee / (1e6 - fee))` when the target is
/// reached, else everything left after the curve's input. Invariants (v4's): for exact input
/// `amount_in + fee_amount <= |amount_remaining|`; for exact output
/// `amount_out <= amount_remaining`. `fee_pips` must be at most [`MAX_SWAP_FEE`].
pub fn compute_swap_step(
    sqrt_price_current_x96: U256,
    sqrt_price_target_x96: U256,
    liquidity: u128,
    amount_remaining: I256,
    fee_pips: u32,
) -> Result<SwapStep, SpotError> {
    compute_swap_step_abs(
        sqrt_price_current_x96,
        sqrt_price_target_x96,
        liquidity,
        amount_remaining.is_negative(),
        amount_remaining.unsigned_abs(),
        fee_pips,
    )
}

/// `floor(x * (1e6 - fee) / 1e6)`, v4's `amountRemainingLessFee`.
#[inline]
fn less_fee(x: U256, fee_pips: u32) -> Result<U256, SpotError> {
    let m = u64::from(MAX_SWAP_FEE - fee_pips);
    let l = x.as_limbs();
    if l[2] == 0 && l[3] == 0 {
        // x = q * 1e6 + r  =>  floor(x * m / 1e6) = q * m + floor(r * m / 1e6), all in 128 bits
        let (q, r) = div_rem_pips(u128::from(l[0]) | u128::from(l[1]) << 64);
        return Ok(U256::from(
            q * u128::from(m) + u128::from(r * m / 1_000_000),
        ));
    }
    mul_div(x, U256::from(m), U256::from(MAX_SWAP_FEE))
}

/// Product of two little-endian limb slices into 8 limbs (the operands' significant limbs must
/// total at most 8).
#[inline]
#[expect(
    clippy::cast_possible_truncation,
    reason = "the low 64-bit limb of a limb product; the carry is kept"
)]
fn mul_limbs(a: &[u64], b: &[u64]) -> [u64; 8] {
    let mut p = [0u64; 8];
    for (i, &ai) in a.iter().enumerate() {
        if ai == 0 {
            continue;
        }
        let mut carry: u128 = 0;
        for (j, &bj) in b.iter().enumerate() {
            let t = u128::from(ai) * u128::from(bj) + u128::from(p[i + j]) + carry;
            p[i + j] = t as u64;
            carry = t >> 64;
        }
        if i + b.len() < 8 {
            p[i + b.len()] = carry as u64;
        }
    }
    p
}

/// Significant limbs of a U256.
#[inline]
fn sig(x: &U256) -> &[u64] {
    let l = x.as_limbs();
    let mut n = 4;
    while n > 0 && l[n - 1] == 0 {
        n -= 1;
    }
    &l[..n]
}

/// Whether `x < L * 2^96 * (b - a) / (a * b)` exactly (`0 < a <= b < 2^160`), i.e.
/// `x * a * b < (L << 96) * (b - a)`: bit lengths decide most cases, 512-bit products the rest.
#[inline]
#[expect(clippy::cast_possible_wrap, reason = "bit lengths are ≤ 512")]
fn below_amount0(x: U256, a: U256, b: U256, liquidity: u128) -> bool {
    let n1 = U256::from(liquidity) << 96usize;
    let n2 = b - a;
    if n1.is_zero() || n2.is_zero() {
        return false;
    }
    if x.is_zero() {
        return true;
    }
    // N1*N2 in [2^(n1+n2-2), 2^(n1+n2)), a*b in [2^(na+nb-2), 2^(na+nb)), x in [2^(nx-1), 2^nx)
    let e = (n1.bit_len() + n2.bit_len()) as i64 - (a.bit_len() + b.bit_len()) as i64;
    let nx = x.bit_len() as i64;
    if nx <= e - 2 {
        return true;
    }
    if nx > e + 2 {
        return false;
    }
    let ab = mul_limbs(sig(&a), sig(&b));
    let lhs = mul_limbs(sig(&x), &ab[..4]); // a * b < 2^256 here (checked below)
    let ab_high = ab[4..].iter().any(|&l| l != 0);
    let rhs = mul_limbs(sig(&n1), sig(&n2));
    if ab_high {
        // x * a * b with a * b above 256 bits: fall back to the generic comparison
        type U512 = alloy_primitives::Uint<512, 8>;
        let lhs = U512::from(x) * U512::from_limbs(ab);
        return lhs < U512::from_limbs(rhs);
    }
    for i in (0..8).rev() {
        if lhs[i] != rhs[i] {
            return lhs[i] < rhs[i];
        }
    }
    false
}

/// [`compute_swap_step`] with the remaining amount given as direction (`exact_in`) and
/// magnitude, as the pool's swap loop keeps it.
#[inline]
pub fn compute_swap_step_abs(
    sqrt_price_current_x96: U256,
    sqrt_price_target_x96: U256,
    liquidity: u128,
    exact_in: bool,
    remaining: U256,
    fee_pips: u32,
) -> Result<SwapStep, SpotError> {
    if fee_pips > MAX_SWAP_FEE {
        return Err(SpotError::SwapFeeTooLarge(fee_pips));
    }
    let zero_for_one = sqrt_price_current_x96 >= sqrt_price_target_x96;
    let (cur, tgt) = (sqrt_price_current_x96, sqrt_price_target_x96);
    let fee = U256::from(fee_pips);
    let fee_complement = U256::from(MAX_SWAP_FEE - fee_pips);

    let sqrt_price_next_x96;
    let mut amount_in;
    let mut amount_out;
    let fee_amount;
    if exact_in {
        let remaining_less_fee = less_fee(remaining, fee_pips)?;
        // Zero for one, the exact input to the target (token0) needs two divisions; when the
        // remaining input is below even the exact rational value
        // `L * 2^96 * (cur - tgt) / (cur * tgt)`, the target is out of reach and v4 discards
        // that amount anyway, so decide with multiplications only.
        let short_of_target = zero_for_one
            && !tgt.is_zero()
            && below_amount0(remaining_less_fee, tgt, cur, liquidity);
        amount_in = if short_of_target {
            U256::MAX // only compared below: any value above remaining_less_fee
        } else if zero_for_one {
            get_amount0_delta(tgt, cur, liquidity, true)?
        } else {
            get_amount1_delta(cur, tgt, liquidity, true)
        };
        if remaining_less_fee >= amount_in {
            // the target price caps amountIn
            sqrt_price_next_x96 = tgt;
            fee_amount = if fee_pips == MAX_SWAP_FEE {
                amount_in // zero here
            } else {
                mul_div_rounding_up(amount_in, fee, fee_complement)?
            };
        } else {
            // the remaining input is exhausted before the target
            amount_in = remaining_less_fee;
            sqrt_price_next_x96 =
                get_next_sqrt_price_from_input(cur, liquidity, remaining_less_fee, zero_for_one)?;
            fee_amount = remaining - amount_in;
        }
        amount_out = if zero_for_one {
            get_amount1_delta(sqrt_price_next_x96, cur, liquidity, false)
        } else {
            get_amount0_delta(cur, sqrt_price_next_x96, liquidity, false)?
        };
    } else {
        amount_out = if zero_for_one {
            get_amount1_delta(tgt, cur, liquidity, false)
        } else {
            get_amount0_delta(cur, tgt, liquidity, false)?
        };
        if remaining >= amount_out {
            sqrt_price_next_x96 = tgt;
        } else {
            // cap the output at what is still wanted
            amount_out = remaining;
            sqrt_price_next_x96 =
                get_next_sqrt_price_from_output(cur, liquidity, amount_out, zero_for_one)?;
        }
        amount_in = if zero_for_one {
            get_amount0_delta(sqrt_price_next_x96, cur, liquidity, true)?
        } else {
            get_amount1_delta(cur, sqrt_price_next_x96, liquidity, true)
        };
        // A 100% fee cannot serve exact output (the pool rejects it first with
        // InvalidFeeForExactOut); here, as in v4, the division by zero fails.
        fee_amount = mul_div_rounding_up(amount_in, fee, fee_complement)?;
    }
    Ok(SwapStep {
        sqrt_price_next_x96,
        amount_in,
        amount_out,
        fee_amount,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> U256 {
        s.parse().unwrap()
    }
    fn i(x: i128) -> I256 {
        I256::try_from(x).unwrap()
    }

    #[test]
    fn target() {
        let (a, b) = (U256::from(1u8), U256::from(2u8));
        assert_eq!(get_sqrt_price_target(true, a, b), b);
        assert_eq!(get_sqrt_price_target(true, b, a), b);
        assert_eq!(get_sqrt_price_target(false, a, b), a);
        assert_eq!(get_sqrt_price_target(false, b, a), a);
    }

    #[test]
    fn exact_in_capped_at_target() {
        // v4 SwapMath test: price 1 -> 1.01 (one for zero), liquidity 2e18, 1e18 in, fee 600
        let price = u("79228162514264337593543950336");
        let target = u("79623317895830914510639640423");
        let s = compute_swap_step(
            price,
            target,
            2_000_000_000_000_000_000,
            i(-1_000_000_000_000_000_000),
            600,
        )
        .unwrap();
        assert_eq!(s.amount_in, u("9975124224178055"));
        assert_eq!(s.fee_amount, u("5988667735148"));
        assert_eq!(s.amount_out, u("9925619580021728"));
        assert_eq!(s.sqrt_price_next_x96, target);
        assert!(s.amount_in + s.fee_amount < u("1000000000000000000"));
    }

    #[test]
    fn full_fee_exact_in_takes_everything() {
        let s = compute_swap_step(
            u("79228162514264337593543950336"),
            u("79623317895830914510639640423"),
            1_000_000,
            i(-1000),
            MAX_SWAP_FEE,
        )
        .unwrap();
        assert_eq!(s.amount_in, U256::ZERO);
        assert_eq!(s.fee_amount, U256::from(1000u32));
        assert_eq!(s.amount_out, U256::ZERO);
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use crate::math::tick_math::{MAX_SQRT_PRICE, MIN_SQRT_PRICE};
    use alloy_primitives::Uint;
    use proptest::prelude::*;

    type Wide = Uint<768, 12>;

    fn w(x: U256) -> Wide {
        Wide::from(x)
    }

    fn sqrt_price() -> impl Strategy<Value = U256> {
        (any::<[u64; 3]>()).prop_map(|l| {
            let x = U256::from_limbs([l[0], l[1], l[2] & 0xffff_ffff, 0]);
            let span = MAX_SQRT_PRICE - MIN_SQRT_PRICE;
            MIN_SQRT_PRICE + x % span
        })
    }

    fn liquidity() -> impl Strategy<Value = u128> {
        prop_oneof![
            1u128..1_000_000,
            1u128..(1u128 << 80),
            any::<u128>().prop_map(|x| x.max(1))
        ]
    }

    fn amount() -> impl Strategy<Value = i128> {
        prop_oneof![
            (-1_000_000i128..1_000_000),
            (i64::MIN as i128..i64::MAX as i128),
            any::<i128>()
        ]
        .prop_filter("non-zero", |a| *a != 0 && *a != i128::MIN)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn step_invariants(
            cur in sqrt_price(),
            tgt in sqrt_price(),
            l in liquidity(),
            rem in amount(),
            fee in prop_oneof![0u32..=1_000_000, Just(0u32), Just(3000u32), Just(999_999u32), Just(1_000_000u32)],
        ) {
            let exact_in = rem < 0;
            prop_assume!(exact_in || fee < MAX_SWAP_FEE);
            let s = compute_swap_step(cur, tgt, l, I256::try_from(rem).unwrap(), fee).unwrap();
            let abs = U256::from(rem.unsigned_abs());
            let zero_for_one = cur >= tgt;
            let next = s.sqrt_price_next_x96;
            // the price lies between current and target
            if zero_for_one {
                prop_assert!(next <= cur && next >= tgt);
            } else {
                prop_assert!(next >= cur && next <= tgt);
            }
            if exact_in {
                // input plus fee never exceeds what remains, and uses all of it when the
                // target is not reached
                prop_assert!(s.amount_in + s.fee_amount <= abs);
            // the multiplication-only shortcut agrees with the exact amount and with a plain
            // 768-bit evaluation of its inequality
            if zero_for_one && exact_in && fee < MAX_SWAP_FEE {
                let exact = get_amount0_delta(tgt, cur, l, true).unwrap();
                let rlf = less_fee(abs, fee).unwrap();
                let below = below_amount0(rlf, tgt, cur, l);
                if below {
                    prop_assert!(rlf < exact);
                }
                let reference = w(rlf) * w(tgt) * w(cur) < (w(U256::from(l)) << 96) * w(cur - tgt);
                prop_assert_eq!(below, reference && l > 0 && cur != tgt);
            }
                if next != tgt {
                    prop_assert_eq!(s.amount_in + s.fee_amount, abs);
                }
            } else {
                prop_assert!(s.amount_out <= abs);
                if next != tgt {
                    prop_assert_eq!(s.amount_out, abs);
                }
            }
            // rounding favours the pool, checked against exact rationals:
            // token0 = L * 2^96 * (hi - lo) / (hi * lo), token1 = L * (hi - lo) / 2^96
            let (lo, hi) = if cur < next { (cur, next) } else { (next, cur) };
            let l96 = w(U256::from(l)) << 96;
            let token0_num = l96 * w(hi - lo); // exact token0 * (hi * lo)
            let token0_den = w(hi) * w(lo);
            let token1_num = w(U256::from(l)) * w(hi - lo); // exact token1 * 2^96
            let q96 = Wide::from(1u8) << 96;
            let (amount_in, amount_out) = (w(s.amount_in), w(s.amount_out));
            if zero_for_one {
                // in: token0 (rounded up), out: token1 (rounded down)
                prop_assert!(amount_in * token0_den >= token0_num);
                prop_assert!(amount_out * q96 <= token1_num);
            } else {
                prop_assert!(amount_in * q96 >= token1_num);
                prop_assert!(amount_out * token0_den <= token0_num);
            }
            // fee: at least fee/(1e6 - fee) of the input when the target is reached
            if fee < MAX_SWAP_FEE && (next == tgt || !exact_in) {
                prop_assert!(w(s.fee_amount) * Wide::from(MAX_SWAP_FEE - fee) >= amount_in * Wide::from(fee));
            }
            // for exact input, the fee is at least fee pips of everything paid
            if exact_in {
                let paid = w(s.amount_in + s.fee_amount);
                prop_assert!(w(s.fee_amount) * Wide::from(MAX_SWAP_FEE) >= paid * Wide::from(fee));
            }
        }
    }
}
