//! v4's `BitMath` (MIT, Uniswap Labs): most and least significant set bit of a `uint256`.

use alloy_primitives::U256;

/// Index of the most significant set bit (`x > 0`), as `BitMath.mostSignificantBit`.
/// Returns `None` for zero, where v4 reverts (`require(x > 0)`).
#[inline]
#[expect(
    clippy::cast_possible_truncation,
    reason = "a bit index of a U256 is < 256"
)]
pub fn most_significant_bit(x: U256) -> Option<u8> {
    let len = x.bit_len();
    if len == 0 {
        None
    } else {
        Some((len - 1) as u8)
    }
}

/// Index of the least significant set bit (`x > 0`), as `BitMath.leastSignificantBit`.
/// Returns `None` for zero, where v4 reverts.
#[inline]
#[expect(
    clippy::cast_possible_truncation,
    reason = "a bit index of a U256 is < 256"
)]
pub fn least_significant_bit(x: U256) -> Option<u8> {
    if x.is_zero() {
        None
    } else {
        Some(x.trailing_zeros() as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits() {
        assert_eq!(most_significant_bit(U256::ZERO), None);
        assert_eq!(least_significant_bit(U256::ZERO), None);
        assert_eq!(most_significant_bit(U256::from(1u8)), Some(0));
        assert_eq!(least_significant_bit(U256::from(1u8)), Some(0));
        assert_eq!(most_significant_bit(U256::MAX), Some(255));
        assert_eq!(least_significant_bit(U256::MAX), Some(0));
        for i in 0..256 {
            let x = U256::from(1u8) << i;
            assert_eq!(most_significant_bit(x), Some(i as u8));
            assert_eq!(least_significant_bit(x), Some(i as u8));
        }
        assert_eq!(most_significant_bit(U256::from(0b1010_0000u32)), Some(7));
        assert_eq!(least_significant_bit(U256::from(0b1010_0000u32)), Some(5));
    }
}
