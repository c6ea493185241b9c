//! `spot_liquidity`: how much value the pool's liquidity holds near the current price.
//!
//! **Band.** For a half-band of `b` ticks (per-pool parameter `depth_band_ticks`, default 198)
//! and the pool's current tick `t`, the band is the tick range `[t − b, t + b]` clamped to
//! `[MIN_TICK, MAX_TICK]`, i.e. the prices `1.0001^(t−b) .. 1.0001^(t+b)`: about −1.96% .. +2.00%
//! of the current price for the default. It is centred on the current (untruncated) tick: it
//! measures what a trader can actually trade against now.
//!
//! **Amounts.** The token0 and token1 the pool's liquidity holds inside the band
//! ([`PoolManager::amounts_in_range`]): token1 between the band's lower end and the current
//! price, token0 between the current price and the band's upper end, i.e. what selling into the
//! pool down to the band's lower end, or buying from it up to the upper end, would take out.
//!
//! **Unit.** The result is in **azUSD smallest units** (azUSD has 6 decimals: `1_000_000` = one
//! azUSD). The azUSD amount counts at face value; the BASE amount is valued at the current pool
//! price with [`base_to_quote`], rounded down: depth is a safety figure, so it is never
//! overstated.

use crate::error::{OracleError, OracleResult};
use crate::price::base_to_quote;
use alloy_primitives::U256;
use azex_spot::math::tick_math::{MAX_TICK, MIN_TICK};
use azex_spot::{Hook, PoolKey, PoolManager};

/// A depth measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpotDepth {
    /// The band's lower tick.
    pub tick_lower: i32,
    /// The band's upper tick.
    pub tick_upper: i32,
    /// azUSD held in the band (azUSD smallest units).
    pub quote_amount: U256,
    /// BASE held in the band (BASE smallest units).
    pub base_amount: U256,
    /// `base_amount` valued at the current pool price (azUSD smallest units, rounded down).
    pub base_value: U256,
    /// `quote_amount + base_value`: the spot liquidity figure (azUSD smallest units).
    pub value: U256,
}

/// The band `[tick − band_ticks, tick + band_ticks]` clamped to `[MIN_TICK, MAX_TICK]`.
pub fn depth_band(tick: i32, band_ticks: i32) -> OracleResult<(i32, i32)> {
    if !(MIN_TICK..=MAX_TICK).contains(&tick) {
        return Err(OracleError::TickOutOfRange { tick });
    }
    if band_ticks < 1 {
        return Err(OracleError::InvalidDepthBand { value: band_ticks });
    }
    let lo = (i64::from(tick) - i64::from(band_ticks)).max(i64::from(MIN_TICK));
    let hi = (i64::from(tick) + i64::from(band_ticks)).min(i64::from(MAX_TICK));
    // Both within [MIN_TICK, MAX_TICK], and lo < hi because band_ticks >= 1.
    let narrow = |t: i64| i32::try_from(t).map_err(|_| OracleError::Overflow);
    Ok((narrow(lo)?, narrow(hi)?))
}

/// Values in-band amounts `(amount0, amount1)` at `sqrt_price_x96`: the azUSD side at face
/// value plus the BASE side converted with [`base_to_quote`] (rounded down).
pub fn spot_liquidity_from_amounts(
    amount0: U256,
    amount1: U256,
    sqrt_price_x96: U256,
    quote_is_token0: bool,
    band: (i32, i32),
) -> OracleResult<SpotDepth> {
    let (quote_amount, base_amount) = if quote_is_token0 {
        (amount0, amount1)
    } else {
        (amount1, amount0)
    };
    let base_value = base_to_quote(sqrt_price_x96, base_amount, quote_is_token0)?;
    let value = quote_amount
        .checked_add(base_value)
        .ok_or(OracleError::Overflow)?;
    Ok(SpotDepth {
        tick_lower: band.0,
        tick_upper: band.1,
        quote_amount,
        base_amount,
        base_value,
        value,
    })
}

/// The spot liquidity of `key`'s pool in `pm`: value (azUSD smallest units) of the tokens its
/// liquidity holds within `band_ticks` ticks of the current tick. Reads the pool manager only.
pub fn spot_liquidity<H: Hook>(
    pm: &PoolManager<H>,
    key: &PoolKey,
    band_ticks: i32,
    quote_is_token0: bool,
) -> OracleResult<SpotDepth> {
    let snap = pm.pool_snapshot(key)?;
    let band = depth_band(snap.tick, band_ticks)?;
    let (amount0, amount1) = pm.amounts_in_range(key, band.0, band.1)?;
    spot_liquidity_from_amounts(amount0, amount1, snap.sqrt_price_x96, quote_is_token0, band)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn band_is_clamped() {
        assert_eq!(depth_band(0, 198).unwrap(), (-198, 198));
        assert_eq!(depth_band(887_200, 198).unwrap(), (887_002, 887_272));
        assert_eq!(depth_band(-887_272, 198).unwrap(), (-887_272, -887_074));
        assert_eq!(depth_band(887_272, 1).unwrap(), (887_271, 887_272));
        assert_eq!(depth_band(5, 1_774_544).unwrap(), (MIN_TICK, MAX_TICK));
        assert_eq!(
            depth_band(0, 0),
            Err(OracleError::InvalidDepthBand { value: 0 })
        );
        assert_eq!(
            depth_band(887_273, 1),
            Err(OracleError::TickOutOfRange { tick: 887_273 })
        );
    }

    #[test]
    fn amounts_are_valued_in_azusd() {
        let s = U256::from(2u8) << 96; // 4 token1 per token0
                                       // azUSD is token0: BASE (token1) at 1/4 azUSD per unit.
        let d = spot_liquidity_from_amounts(U256::from(100u8), U256::from(41u8), s, true, (-1, 1))
            .unwrap();
        assert_eq!(d.quote_amount, U256::from(100u8));
        assert_eq!(d.base_amount, U256::from(41u8));
        assert_eq!(d.base_value, U256::from(10u8)); // floor(41 / 4)
        assert_eq!(d.value, U256::from(110u8));
        // azUSD is token1: BASE (token0) at 4 azUSD per unit.
        let d = spot_liquidity_from_amounts(U256::from(100u8), U256::from(41u8), s, false, (-1, 1))
            .unwrap();
        assert_eq!(d.quote_amount, U256::from(41u8));
        assert_eq!(d.base_value, U256::from(400u16));
        assert_eq!(d.value, U256::from(441u16));
    }
}
