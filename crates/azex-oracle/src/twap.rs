//! Time-weighted averages from two accumulator readings (Uniswap's `OracleLibrary.consult`).

use crate::error::{OracleError, OracleResult};
use crate::observation::Cumulative;
use alloy_primitives::U256;

/// The arithmetic mean tick over `window_secs` seconds between two readings `start` (older)
/// and `end` (newer): `(end - start) / window`, rounded toward negative infinity like
/// `OracleLibrary.consult`. `1.0001^mean_tick` is the time-weighted *geometric* mean price
/// (token1 per token0).
pub fn arithmetic_mean_tick(
    start: &Cumulative,
    end: &Cumulative,
    window_secs: u32,
) -> OracleResult<i32> {
    if window_secs == 0 {
        return Err(OracleError::ZeroWindow);
    }
    let delta = end
        .tick_cumulative
        .checked_sub(start.tick_cumulative)
        .ok_or(OracleError::Overflow)?;
    // div_euclid by a positive divisor is floor division.
    let mean = delta.div_euclid(i64::from(window_secs));
    i32::try_from(mean).map_err(|_| OracleError::Overflow)
}

/// The harmonic mean liquidity over `window_secs` seconds between two readings, as
/// `OracleLibrary.consult` computes it: `window·(2^160 − 1) / (Δspl << 32)`, rounded down.
pub fn harmonic_mean_liquidity(
    start: &Cumulative,
    end: &Cumulative,
    window_secs: u32,
) -> OracleResult<u128> {
    if window_secs == 0 {
        return Err(OracleError::ZeroWindow);
    }
    let spl_delta = end
        .seconds_per_liquidity_cumulative_x128
        .checked_sub(start.seconds_per_liquidity_cumulative_x128)
        .ok_or(OracleError::Overflow)?;
    let max_u160 = (U256::from(1u8) << 160) - U256::from(1u8);
    let seconds_x160 = U256::from(window_secs)
        .checked_mul(max_u160)
        .ok_or(OracleError::Overflow)?;
    let denominator = spl_delta.checked_shl(32).ok_or(OracleError::Overflow)?;
    if denominator.is_zero() || spl_delta.leading_zeros() < 32 {
        // Zero Δspl (impossible for a positive window) or a shift that would drop bits.
        return Err(OracleError::Overflow);
    }
    u128::try_from(seconds_x160 / denominator).map_err(|_| OracleError::Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(tc: i64) -> Cumulative {
        Cumulative {
            tick_cumulative: tc,
            seconds_per_liquidity_cumulative_x128: U256::ZERO,
        }
    }

    #[test]
    fn mean_tick_rounds_toward_negative_infinity() {
        assert_eq!(arithmetic_mean_tick(&c(0), &c(30), 10).unwrap(), 3);
        assert_eq!(arithmetic_mean_tick(&c(0), &c(35), 10).unwrap(), 3);
        assert_eq!(arithmetic_mean_tick(&c(0), &c(-30), 10).unwrap(), -3);
        assert_eq!(arithmetic_mean_tick(&c(0), &c(-35), 10).unwrap(), -4);
        assert_eq!(arithmetic_mean_tick(&c(0), &c(-1), 10).unwrap(), -1);
        assert_eq!(arithmetic_mean_tick(&c(100), &c(100), 10).unwrap(), 0);
        assert_eq!(
            arithmetic_mean_tick(&c(0), &c(1), 0),
            Err(OracleError::ZeroWindow)
        );
    }

    #[test]
    fn harmonic_mean_liquidity_of_constant_liquidity() {
        // Constant liquidity L over 100 s: Δspl = (100 << 128) / L.
        for l in [1u128, 7, 1_000_000, 1u128 << 100] {
            let spl = (U256::from(100u8) << 128) / U256::from(l);
            let start = Cumulative {
                tick_cumulative: 0,
                seconds_per_liquidity_cumulative_x128: U256::from(5u8),
            };
            let end = Cumulative {
                tick_cumulative: 0,
                seconds_per_liquidity_cumulative_x128: spl + U256::from(5u8),
            };
            let h = harmonic_mean_liquidity(&start, &end, 100).unwrap();
            // (2^160 - 1)/2^160 and the floor of Δspl make it at most a hair off L.
            assert!(h <= l && l - h <= 1 + l / (1u128 << 30), "l={l} h={h}");
        }
    }
}
