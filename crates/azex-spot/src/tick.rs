//! Per-tick state: gross and net liquidity referencing a tick and the fee growth on the tick's
//! "other side" (Uniswap v3 whitepaper §6.3), plus the per-tick liquidity cap.

use crate::math::tick_math::{MAX_TICK, MIN_TICK};
use alloy_primitives::U256;

/// State of an initialized tick (v4's `TickInfo`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize,
)]
pub struct TickInfo {
    /// Total liquidity of the positions that use this tick as a bound (the tick is initialized
    /// iff this is non-zero).
    pub liquidity_gross: u128,
    /// Liquidity added to the active liquidity when the price crosses the tick left to right
    /// (subtracted right to left): `+L` for lower bounds, `-L` for upper bounds.
    pub liquidity_net: i128,
    /// Fee growth of token0 per unit of liquidity on the other side of this tick (relative to
    /// the current tick), Q128, modulo 2^256.
    pub fee_growth_outside0_x128: U256,
    /// As `fee_growth_outside0_x128` for token1.
    pub fee_growth_outside1_x128: U256,
}

/// The most gross liquidity a tick may reference for a pool's tick spacing, so that the sum over
/// all usable ticks fits in `uint128`: `floor((2^128 - 1) / numTicks)` where `numTicks` counts
/// the usable ticks from `floor(MIN_TICK / spacing)` to `trunc(MAX_TICK / spacing)` (v4's
/// rounding, which differs from v3's by one tick).
pub fn max_liquidity_per_tick(tick_spacing: i32) -> u128 {
    let min_tick = i64::from(MIN_TICK.div_euclid(tick_spacing));
    let max_tick = i64::from(MAX_TICK / tick_spacing);
    let num_ticks = u128::from((max_tick - min_tick + 1).unsigned_abs()); // > 0: max ≥ min
    u128::MAX / num_ticks
}

/// Fee growth per unit of liquidity accumulated inside `[tick_lower, tick_upper)`, Q128, computed
/// with wrapping subtraction exactly as Uniswap does (the difference is meaningful only modulo
/// 2^256; positions difference two such values).
pub fn fee_growth_inside(
    lower: &TickInfo,
    upper: &TickInfo,
    tick_lower: i32,
    tick_upper: i32,
    tick_current: i32,
    fee_growth_global0_x128: U256,
    fee_growth_global1_x128: U256,
) -> (U256, U256) {
    if tick_current < tick_lower {
        (
            lower
                .fee_growth_outside0_x128
                .wrapping_sub(upper.fee_growth_outside0_x128),
            lower
                .fee_growth_outside1_x128
                .wrapping_sub(upper.fee_growth_outside1_x128),
        )
    } else if tick_current >= tick_upper {
        (
            upper
                .fee_growth_outside0_x128
                .wrapping_sub(lower.fee_growth_outside0_x128),
            upper
                .fee_growth_outside1_x128
                .wrapping_sub(lower.fee_growth_outside1_x128),
        )
    } else {
        (
            fee_growth_global0_x128
                .wrapping_sub(lower.fee_growth_outside0_x128)
                .wrapping_sub(upper.fee_growth_outside0_x128),
            fee_growth_global1_x128
                .wrapping_sub(lower.fee_growth_outside1_x128)
                .wrapping_sub(upper.fee_growth_outside1_x128),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::tick_math::{MAX_TICK_SPACING, MIN_TICK_SPACING};

    #[test]
    fn max_liquidity_matches_v4() {
        // values from v4-core's Tick tests
        assert_eq!(
            max_liquidity_per_tick(10),
            1917559095893846719543856547154045
        );
        assert_eq!(
            max_liquidity_per_tick(60),
            11505354575363080317263139282924270
        );
        assert_eq!(
            max_liquidity_per_tick(200),
            38345995821606768476828330790147420
        );
        assert_eq!(
            max_liquidity_per_tick(MIN_TICK_SPACING),
            191757530477355301479181766273477
        );
        assert_eq!(
            max_liquidity_per_tick(MAX_TICK_SPACING),
            6076470837873901133274546561281575204
        );
        assert_eq!(max_liquidity_per_tick(MAX_TICK), u128::MAX / 3);
    }

    #[test]
    fn inside_wraps() {
        let lower = TickInfo {
            fee_growth_outside0_x128: U256::from(5u8),
            ..Default::default()
        };
        let upper = TickInfo {
            fee_growth_outside0_x128: U256::from(7u8),
            ..Default::default()
        };
        let (f0, _) = fee_growth_inside(&lower, &upper, 0, 10, 5, U256::from(3u8), U256::ZERO);
        assert_eq!(f0, U256::from(3u8).wrapping_sub(U256::from(12u8)));
        let (f0, _) = fee_growth_inside(&lower, &upper, 0, 10, -1, U256::from(3u8), U256::ZERO);
        assert_eq!(f0, U256::from(5u8).wrapping_sub(U256::from(7u8)));
        let (f0, _) = fee_growth_inside(&lower, &upper, 0, 10, 10, U256::from(3u8), U256::ZERO);
        assert_eq!(f0, U256::from(2u8));
    }
}
