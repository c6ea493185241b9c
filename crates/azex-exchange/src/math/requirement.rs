//! Net-exposure accounting (docs/protocol.md §5, seed 000): how much LP capital a market needs.
//!
//! ```text
//! required(market) = min( |L − S| × safetyFactor(imbalance) + stressFactor × min(L, S),  max(L, S) )
//! classic(market)  = max(L, S)                       (fully backed peer-to-pool, GMX v1 style)
//! imbalance        = |L − S| / (L + S)
//! ```
//! `L`, `S` are the long and short notionals at the risk price.
//!
//! Why the stress term: net-only sizing relies on the two sides offsetting. If the smaller side
//! vanishes at once (a mass liquidation, or one actor who opened both sides and lets one leg die),
//! the net jumps by `min(L, S)`. The vault then carries that extra exposure until ADL reduces the
//! winning side, which takes at most a block or two; over that time the truncated oracle can move
//! the price by at most a few per-block bounds. `stressFactor` (default 5 %) covers ten blocks of
//! the default 0.5 % bound on the extra exposure, so the jump can never by itself leave the vault
//! under water before ADL acts (docs/risk.md).

use crate::error::ExchangeError;
use crate::params::MarketParams;
use crate::units::{mul_div_down_u128, mul_wad_up, Usd, WAD};

/// `|L − S| / (L + S)` in WAD, rounded down (0 when there is no OI).
pub fn imbalance_wad(long: Usd, short: Usd) -> Result<u128, ExchangeError> {
    let gross = long.checked_add(short).ok_or_else(crate::error::overflow)?;
    if gross == 0 {
        return Ok(0);
    }
    mul_div_down_u128(long.abs_diff(short), WAD, gross)
}

/// The AZEx requirement of one market, rounded up. Never more than the classic requirement: a
/// one-sided market is backed exactly like a fully backed pool, a balanced one needs far less.
pub fn net_requirement(long: Usd, short: Usd, p: &MarketParams) -> Result<Usd, ExchangeError> {
    let sf = p.safety_factor(imbalance_wad(long, short)?);
    let net = mul_wad_up(long.abs_diff(short), sf)?;
    let stress = mul_wad_up(long.min(short), p.stress_factor_wad)?;
    Ok(net
        .checked_add(stress)
        .ok_or_else(crate::error::overflow)?
        .min(classic_requirement(long, short)))
}

/// What a classic fully backed peer-to-pool vault would need: `max(L, S)`.
pub fn classic_requirement(long: Usd, short: Usd) -> Usd {
    long.max(short)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::USD_ONE;

    const M: u128 = 1_000_000 * USD_ONE;

    #[test]
    fn seed_example_100m_vs_95m() {
        let p = MarketParams::default();
        // imbalance 5/195 ≈ 2.6 % → tier 1 (×1.5): 5M × 1.5 + 95M × 5 % = 7.5M + 4.75M
        assert_eq!(
            net_requirement(100 * M, 95 * M, &p).unwrap(),
            7_500_000 * USD_ONE + 4_750_000 * USD_ONE
        );
        assert_eq!(classic_requirement(100 * M, 95 * M), 100 * M);
    }

    #[test]
    fn one_sided_market_needs_exactly_classic() {
        let p = MarketParams::default();
        // all long: imbalance 100 % → ×2.5 = 25M, capped at the classic 10M
        assert_eq!(net_requirement(10 * M, 0, &p).unwrap(), 10 * M);
        // 70/30: 40M × 2.0 + 30M × 5 % = 81.5M > classic 70M → 70M
        assert_eq!(net_requirement(70 * M, 30 * M, &p).unwrap(), 70 * M);
        // 57.5/42.5 (15 % imbalance): 15M × 1.75 + 2.125M = 28.375M
        assert_eq!(
            net_requirement(57_500_000 * USD_ONE, 42_500_000 * USD_ONE, &p).unwrap(),
            28_375_000 * USD_ONE
        );
    }

    #[test]
    fn requirement_never_below_net() {
        let p = MarketParams::default();
        for (l, s) in [(1u128, 0u128), (0, 1), (7 * M, 3 * M), (3, 5)] {
            let r = net_requirement(l, s, &p).unwrap();
            assert!(r >= l.abs_diff(s) && r <= l.max(s));
        }
        assert_eq!(imbalance_wad(0, 0).unwrap(), 0);
    }
}
