//! Per-pool oracle parameters, their defaults and the ranges they are validated against.
//!
//! See the crate documentation for the argument behind [`DEFAULT_MAX_ABS_TICK_MOVE`] and
//! [`DEFAULT_DEPTH_BAND_TICKS`].

use crate::error::{OracleError, OracleResult};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// Uniswap v4-periphery's `TruncatedOracle.MAX_ABS_TICK_MOVE` (≈ `MAX_TICK / 100`, a factor of
/// `1.0001^9116 ≈ 2.49` per observation). AZEx accepts it as the *upper* end of the valid range.
pub const UNISWAP_MAX_ABS_TICK_MOVE: i32 = 9116;
/// Smallest accepted `max_abs_tick_move` (a frozen oracle, bound 0, is not accepted).
pub const MIN_MAX_ABS_TICK_MOVE: i32 = 1;
/// Largest accepted `max_abs_tick_move`.
pub const MAX_MAX_ABS_TICK_MOVE: i32 = UNISWAP_MAX_ABS_TICK_MOVE;
/// AZEx default: 50 ticks per observation, a price ratio of `1.0001^50 ≈ 1.00501` (+0.501%, or
/// −0.499% downwards). At most one observation is written per block, so this bounds the move of
/// the oracle price per block. See the crate docs for why it is sized against maintenance margin.
pub const DEFAULT_MAX_ABS_TICK_MOVE: i32 = 50;

/// Smallest accepted depth half-band.
pub const MIN_DEPTH_BAND_TICKS: i32 = 1;
/// Largest accepted depth half-band: `MAX_TICK - MIN_TICK`, which always covers the whole
/// price range (the band is clamped to `[MIN_TICK, MAX_TICK]`).
pub const MAX_DEPTH_BAND_TICKS: i32 = 2 * 887_272;
/// AZEx default depth half-band: 198 ticks, `1.0001^198 ≈ 1.0200` (+2.00%) above and
/// `1.0001^-198 ≈ 0.9804` (−1.96%) below the current price: "±2% depth".
pub const DEFAULT_DEPTH_BAND_TICKS: i32 = 198;

/// Hard limit of the observation ring buffer (Uniswap's `Observation[65535]`).
pub const MAX_CARDINALITY: u16 = u16::MAX;
/// AZEx default number of observation slots allocated when a pool is initialized: at one
/// observation per block at most, 1024 slots keep at least the last 1024 blocks (more when
/// the pool is idle in some blocks), e.g. 34 minutes at 2-second blocks, which covers the
/// TWAP windows the exchange uses; grow it with `increase_cardinality_next` for longer windows.
pub const DEFAULT_CARDINALITY_NEXT: u16 = 1024;

/// Per-pool oracle parameters.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
pub struct OracleParams {
    /// Largest move, in ticks, of the observed tick from one observation to the next.
    /// Valid range `1..=9116`; default [`DEFAULT_MAX_ABS_TICK_MOVE`].
    pub max_abs_tick_move: i32,
    /// Half-width, in ticks, of the band around the current tick in which spot liquidity is
    /// measured. Valid range `1..=1774544`; default [`DEFAULT_DEPTH_BAND_TICKS`].
    pub depth_band_ticks: i32,
    /// Observation slots to allocate (Uniswap's `observationCardinalityNext`). Valid range
    /// `1..=65535`; default [`DEFAULT_CARDINALITY_NEXT`]. Slots are only ever added.
    pub cardinality_next: u16,
}

impl Default for OracleParams {
    fn default() -> Self {
        Self {
            max_abs_tick_move: DEFAULT_MAX_ABS_TICK_MOVE,
            depth_band_ticks: DEFAULT_DEPTH_BAND_TICKS,
            cardinality_next: DEFAULT_CARDINALITY_NEXT,
        }
    }
}

impl OracleParams {
    /// Checks every field against its valid range.
    pub fn validate(&self) -> OracleResult<()> {
        if !(MIN_MAX_ABS_TICK_MOVE..=MAX_MAX_ABS_TICK_MOVE).contains(&self.max_abs_tick_move) {
            return Err(OracleError::InvalidMaxAbsTickMove {
                value: self.max_abs_tick_move,
            });
        }
        if !(MIN_DEPTH_BAND_TICKS..=MAX_DEPTH_BAND_TICKS).contains(&self.depth_band_ticks) {
            return Err(OracleError::InvalidDepthBand {
                value: self.depth_band_ticks,
            });
        }
        if self.cardinality_next == 0 {
            return Err(OracleError::ZeroCardinality);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        OracleParams::default().validate().unwrap();
        assert_eq!(OracleParams::default().max_abs_tick_move, 50);
        assert_eq!(OracleParams::default().depth_band_ticks, 198);
    }

    #[test]
    fn ranges_are_enforced() {
        let p = OracleParams::default();
        for bad in [0, -1, 9117, i32::MIN, i32::MAX] {
            let q = OracleParams {
                max_abs_tick_move: bad,
                ..p
            };
            assert_eq!(
                q.validate(),
                Err(OracleError::InvalidMaxAbsTickMove { value: bad })
            );
        }
        for good in [1, 50, 9116] {
            OracleParams {
                max_abs_tick_move: good,
                ..p
            }
            .validate()
            .unwrap();
        }
        for bad in [0, -5, MAX_DEPTH_BAND_TICKS + 1] {
            let q = OracleParams {
                depth_band_ticks: bad,
                ..p
            };
            assert_eq!(
                q.validate(),
                Err(OracleError::InvalidDepthBand { value: bad })
            );
        }
        let q = OracleParams {
            cardinality_next: 0,
            ..p
        };
        assert_eq!(q.validate(), Err(OracleError::ZeroCardinality));
    }
}
