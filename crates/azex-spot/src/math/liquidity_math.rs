//! v4's `LiquidityMath` (MIT, Uniswap Labs).

use crate::error::SpotError;

/// `LiquidityMath.addDelta`: `x + y` for a signed liquidity delta. In v4 an overflow or an
/// underflow below zero reverts with `SafeCastOverflow` (not a panic), and so does this.
#[inline]
pub fn add_delta(x: u128, y: i128) -> Result<u128, SpotError> {
    x.checked_add_signed(y).ok_or(SpotError::SafeCastOverflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_delta_bounds() {
        assert_eq!(add_delta(1, 0), Ok(1));
        assert_eq!(add_delta(1, -1), Ok(0));
        assert_eq!(add_delta(1, 1), Ok(2));
        assert_eq!(add_delta(0, -1), Err(SpotError::SafeCastOverflow));
        assert_eq!(add_delta(u128::MAX, 1), Err(SpotError::SafeCastOverflow));
        assert_eq!(
            add_delta(u128::MAX, i128::MIN),
            Ok(u128::MAX - (1u128 << 127))
        );
    }
}
