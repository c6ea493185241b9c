//! Funding (docs/protocol.md §9): a rate from the skew, accrued per second through cumulative
//! per-side indexes, O(1) per position.
//!
//! ```text
//! rate per day = clamp(funding_factor × premium, −max, +max)     premium = α u^β (signed)
//! ```
//! The dominant side pays `rate × its notional`, the minority side receives `rate × its notional`,
//! so the vault — counterparty of the net — keeps `rate × net notional`. Every payment settles
//! against the vault, so funding creates no azUSD.
//!
//! Each side has an index `I` (azUSD units × 1e18 per whole base token, positive = owes). A
//! position of size `q` opened at index `I0` owes `|q| × (I − I0) / 1e36`, rounded toward +∞.

use crate::error::ExchangeError;
use crate::units::{Price, Qty, SignedUsd, SECONDS_PER_DAY, WAD};
use azex_math::{div_rounding_up, I256, U256};

/// `10^36`: `|q| (1e18) × index (1e6 × 1e18) / 1e36 = azUSD units`.
pub const FUNDING_DIVISOR: u128 = WAD * WAD;

/// The funding rate per day, signed (positive = longs pay), from the signed mark premium.
pub fn rate_per_day_wad(
    signed_premium_wad: i128,
    factor_wad: u128,
    max_wad: u128,
) -> Result<i128, ExchangeError> {
    let mag =
        U256::from(signed_premium_wad.unsigned_abs()) * U256::from(factor_wad) / U256::from(WAD);
    let mag = u128::try_from(mag).unwrap_or(u128::MAX).min(max_wad);
    let mag = i128::try_from(mag).map_err(|_| ExchangeError::Overflow)?;
    Ok(if signed_premium_wad >= 0 { mag } else { -mag })
}

/// Index moves for `dt` seconds at `|rate_per_day|` and `price`: `(payer_increase_up,
/// receiver_decrease_down)`. The payer's index rounds up, the receiver's down: the vault keeps the
/// rounding.
pub fn index_deltas(
    rate_per_day_abs_wad: u128,
    price: Price,
    dt: u64,
) -> Result<(i128, i128), ExchangeError> {
    if rate_per_day_abs_wad == 0 || dt == 0 {
        return Ok((0, 0));
    }
    // ΔI = rate/day × price × dt / 86400 / 1e12   (WAD × WAD → 1e6 × 1e18)
    let num = U256::from(rate_per_day_abs_wad) * U256::from(price) * U256::from(dt);
    let den = U256::from(SECONDS_PER_DAY) * U256::from(1_000_000_000_000u128);
    let up = div_rounding_up(num, den)?;
    let down = num / den;
    let c = |x: U256| i128::try_from(x).map_err(|_| ExchangeError::Overflow);
    Ok((c(up)?, c(down)?))
}

/// Funding a position owes (positive) or is owed (negative) between two index values, rounded
/// toward +∞.
pub fn owed(qty: Qty, index_now: i128, index_entry: i128) -> Result<SignedUsd, ExchangeError> {
    let d = index_now
        .checked_sub(index_entry)
        .ok_or_else(crate::error::overflow)?;
    let prod = U256::from(qty.unsigned_abs()) * U256::from(d.unsigned_abs());
    let div = U256::from(FUNDING_DIVISOR);
    let (q, r) = prod.div_rem(div);
    let q = i128::try_from(q).map_err(|_| ExchangeError::Overflow)?;
    Ok(if d >= 0 {
        q + i128::from(!r.is_zero())
    } else {
        -q
    })
}

/// Aggregate funding owed by a whole side: `(I × Q − Σ|q_i| I0_i) / 1e36`, rounded down (the
/// vault counts what it is owed conservatively).
pub fn side_owed(
    total_qty: u128,
    index_now: i128,
    entry_sum: I256,
) -> Result<SignedUsd, ExchangeError> {
    // |Q × I| < 2^128 × 2^127 fits a positive I256 exactly: no overflow check needed.
    let mag = I256::from_raw(U256::from(total_qty) * U256::from(index_now.unsigned_abs()));
    let now = if index_now < 0 { -mag } else { mag };
    let diff = now
        .checked_sub(entry_sum)
        .ok_or_else(crate::error::overflow)?;
    div_1e36_floor(diff)
}

/// `floor(x / 1e36)` as an `i128`: two divisions by 1e18 (one 64-bit limb each, much cheaper
/// than one division by a two-limb divisor). `⌊⌊m/a⌋/b⌋ = ⌊m/(ab)⌋`, and the remainder of the
/// whole division is zero iff both partial remainders are.
fn div_1e36_floor(x: I256) -> Result<SignedUsd, ExchangeError> {
    let e18 = U256::from(WAD);
    let (q1, r1) = x.unsigned_abs().div_rem(e18);
    let (q, r2) = q1.div_rem(e18);
    let q = i128::try_from(q).map_err(|_| ExchangeError::Overflow)?;
    if !x.is_negative() {
        return Ok(q);
    }
    let inexact = !r1.is_zero() || !r2.is_zero();
    q.checked_add(i128::from(inexact))
        .map(|v| -v)
        .ok_or_else(crate::error::overflow)
}

/// `|q| × I` as I256, the term a position contributes to its side's `entry_sum`.
pub fn entry_term(qty: Qty, index: i128) -> Result<I256, ExchangeError> {
    let a = I256::try_from(qty.unsigned_abs()).map_err(|_| ExchangeError::Overflow)?;
    let b = I256::try_from(index).map_err(|_| ExchangeError::Overflow)?;
    a.checked_mul(b).ok_or_else(crate::error::overflow)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{QTY_ONE, USD_ONE};

    #[test]
    fn one_day_at_one_percent() {
        // 1 % / day on a $2,000 token for a day: 20 USD per token.
        let (up, down) = index_deltas(WAD / 100, 2_000 * WAD, 86_400).unwrap();
        assert_eq!(up, down);
        let o = owed(10 * QTY_ONE as i128, up, 0).unwrap();
        assert_eq!(o, 200 * USD_ONE as i128);
        assert_eq!(
            owed(-10 * QTY_ONE as i128, -down, 0).unwrap(),
            -200 * USD_ONE as i128
        );
    }

    #[test]
    fn rounding_favours_the_vault() {
        let (up, down) = index_deltas(WAD / 100, 2_000 * WAD + 7, 1).unwrap();
        assert_eq!(up, down + 1);
        // owed rounds toward +∞ both ways
        assert_eq!(owed(1, 1, 0).unwrap(), 1);
        assert_eq!(owed(1, -1, 0).unwrap(), 0);
    }

    #[test]
    fn rate_is_clamped_and_signed() {
        assert_eq!(
            rate_per_day_wad(-(WAD as i128) / 10, WAD, WAD / 100).unwrap(),
            -(WAD as i128) / 100
        );
        assert_eq!(
            rate_per_day_wad(WAD as i128 / 1000, WAD, WAD / 100).unwrap(),
            WAD as i128 / 1000
        );
    }

    proptest::proptest! {
        /// The two-step division by 1e36 is exactly the floor of the quotient.
        #[test]
        fn div_1e36_is_floor(hi in proptest::prelude::any::<i128>(), lo in proptest::prelude::any::<u128>(), small in proptest::prelude::any::<bool>()) {
            let x = if small {
                I256::try_from(hi).unwrap()
            } else {
                (I256::try_from(hi).unwrap() << 100usize) + I256::try_from(lo >> 1).unwrap()
            };
            let d = I256::try_from(FUNDING_DIVISOR).unwrap();
            let (q, r) = (x / d, x % d);
            let want = if r.is_negative() { q - I256::ONE } else { q };
            match i128::try_from(want) {
                Ok(w) => proptest::prop_assert_eq!(div_1e36_floor(x).unwrap(), w),
                Err(_) => proptest::prop_assert!(div_1e36_floor(x).is_err()),
            }
        }
    }

    #[test]
    fn side_aggregate_matches_positions() {
        let qs = [3 * QTY_ONE as i128, 7 * QTY_ONE as i128 + 13];
        let entries = [
            5_000_000_000_000_000_000_000_i128,
            12_345_678_901_234_567_890_123,
        ];
        let now = 99_999_999_999_999_999_999_999_i128;
        let mut sum = I256::ZERO;
        let mut individual = 0;
        for (q, e) in qs.iter().zip(entries) {
            sum += entry_term(*q, e).unwrap();
            individual += owed(*q, now, e).unwrap();
        }
        let total_q: u128 = qs.iter().map(|q| q.unsigned_abs()).sum();
        let agg = side_owed(total_q, now, sum).unwrap();
        assert!(individual >= agg && individual - agg <= 2);
    }
}
