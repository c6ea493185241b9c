//! When a market may take new exposure: the oracle must have *settled* (docs/risk.md §8).
//!
//! The truncated oracle slows a manipulator down, but it slows the correction of a wrong price
//! down just as much; and the TWAP's defence (holding the pool away for a whole window, against
//! an arbitrageur every block) assumes a window spans `risk_twap_window / block_time` blocks.
//! A position opened while the oracle is still walking toward the pool's price, or just after a
//! stall in which one observation filled the whole window, collects the rest of the walk from
//! the vault. So new exposure (opens and grows; reductions, closes and liquidations are never
//! held) waits while any of these holds:
//!
//! 1. **Warm-up.** A market listed (or listed again) at time `t` settles at
//!    `t + risk_twap_window_secs`: until then its oracle has only the lister's price. Markets
//!    listed in the first block (the genesis block: the operator's) start settled.
//! 2. **Stall.** A block more than `max_block_gap_secs` after the previous one starts one TWAP
//!    window of settling for every market (like a sequencer-uptime grace period).
//! 3. **Lag.** At block begin the truncated spot is not at the pool's tick: the truncation bound
//!    held it back, so the oracle is still catching up (or being pushed).
//! 4. **Thaw.** After a depth-loss freeze ends, the market's spot and risk prices walk from the
//!    frozen price to the live oracle's by at most one truncation bound per block (so the
//!    liquidation price never jumps by the move stored up under the freeze); until they arrive.

use crate::error::ExchangeError;
use crate::params::GlobalParams;
use crate::state::{Market, MarketPrices};
use crate::units::{mul_div_down_u128, mul_div_up_u128};
use crate::units::{Price, WAD};

/// The time from which a market listed at `now` takes new exposure (rule 1).
pub(crate) fn settles_at(listed_at: u64, g: &GlobalParams) -> u64 {
    listed_at.saturating_add(u64::from(g.risk_twap_window_secs))
}

/// Rule 2 at the start of a block at `now`, the previous one at `prev` (`None`: first block).
pub(crate) fn on_block_gap(m: &mut Market, prev: Option<u64>, now: u64, g: &GlobalParams) {
    if let Some(prev) = prev {
        if now.saturating_sub(prev) > g.max_block_gap_secs {
            m.settled_at = m.settled_at.max(settles_at(now, g));
        }
    }
}

/// Whether the market takes new exposure in the current block at `now` (rules 1, 3, 4).
pub fn takes_new_exposure(m: &Market, now: u64) -> bool {
    now >= m.settled_at && m.prices.oracle_lag_ticks == 0 && m.thaw_spot == 0
}

/// Refuse new exposure on a market whose oracle has not settled.
pub(crate) fn check_new_exposure(m: &Market, now: u64) -> Result<(), ExchangeError> {
    if takes_new_exposure(m, now) {
        Ok(())
    } else {
        Err(ExchangeError::PriceNotSettled {
            market: m.id,
            settles_at: m.settled_at,
            lag_ticks: m.prices.oracle_lag_ticks,
            thawing: m.thaw_spot != 0,
        })
    }
}

/// Rule 4 at block begin: move the thawing prices one step toward the live oracle's `live`
/// (already read), write them into `live`, and end the thaw once both have arrived.
pub(crate) fn thaw(
    m: &mut Market,
    live: &mut MarketPrices,
    max_abs_tick_move: i32,
) -> Result<(), ExchangeError> {
    if m.thaw_spot == 0 {
        return Ok(());
    }
    let step_wad = bound_ratio_wad(max_abs_tick_move)?;
    let spot = step_toward(m.thaw_spot, live.spot, step_wad)?;
    let risk = step_toward(m.thaw_risk, live.risk, step_wad)?;
    if spot == live.spot && risk == live.risk {
        m.thaw_spot = 0;
        m.thaw_risk = 0;
    } else {
        m.thaw_spot = spot;
        m.thaw_risk = risk;
        live.spot = spot;
        live.risk = risk;
    }
    Ok(())
}

/// A freeze ends (depth is back): the prices start thawing from the frozen price.
pub(crate) fn start_thaw(m: &mut Market) {
    if m.frozen_price != 0 {
        m.thaw_spot = m.frozen_price;
        m.thaw_risk = m.frozen_price;
        m.frozen_price = 0;
    }
}

/// One truncation bound as a price ratio: `1.0001^max_abs_tick_move` in WAD, rounded down (a
/// shorter step).
pub fn bound_ratio_wad(max_abs_tick_move: i32) -> Result<u128, ExchangeError> {
    let sqrt = azex_spot::math::tick_math::get_sqrt_price_at_tick(max_abs_tick_move.max(0))
        .map_err(crate::spot_link::spot_err)?;
    // sqrt / 2^96 in 1e9 units, squared: 1.0001^t in WAD (both roundings down).
    let half = azex_math::mul_div(
        sqrt,
        azex_math::U256::from(1_000_000_000u64),
        azex_math::U256::ONE << 96,
    )?;
    let half = crate::units::to_u128(half)?;
    half.checked_mul(half).ok_or(ExchangeError::Overflow)
}

/// `cur` moved toward `target` by at most the ratio `step_wad` (rounded toward `cur`), and by at
/// least one unit so that a thaw always ends.
fn step_toward(cur: Price, target: Price, step_wad: u128) -> Result<Price, ExchangeError> {
    if target > cur {
        // A step past u128 is past the target too.
        let up = match mul_div_down_u128(cur, step_wad, WAD) {
            Ok(up) => up.max(cur.saturating_add(1)),
            Err(ExchangeError::Overflow) => target,
            Err(e) => return Err(e),
        };
        Ok(up.min(target))
    } else if target < cur {
        let down = mul_div_up_u128(cur, WAD, step_wad)?.min(cur.saturating_sub(1));
        Ok(down.max(target))
    } else {
        Ok(cur)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_bound_is_half_a_percent() {
        let r = bound_ratio_wad(50).unwrap();
        // 1.0001^50 = 1.005012269...
        assert!(
            r > 1_005_012_000_000_000_000 && r <= 1_005_012_270_000_000_000,
            "{r}"
        );
        assert_eq!(bound_ratio_wad(0).unwrap(), WAD);
    }

    #[test]
    fn a_step_never_passes_the_target_and_always_moves() {
        let r = bound_ratio_wad(50).unwrap();
        let p = 2_000 * WAD;
        let up = step_toward(p, 3_000 * WAD, r).unwrap();
        assert!(up > p && up <= mul_div_down_u128(p, r, WAD).unwrap());
        assert_eq!(step_toward(p, p + 5, r).unwrap(), p + 5);
        let down = step_toward(p, 1_000 * WAD, r).unwrap();
        assert!(down < p && down >= mul_div_up_u128(p, WAD, r).unwrap() - 1);
        assert_eq!(step_toward(3, 1_000, WAD).unwrap(), 4);
        assert_eq!(step_toward(3, 0, WAD).unwrap(), 2);
    }
}
