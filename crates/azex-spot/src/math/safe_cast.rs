//! v4's `SafeCast` (MIT, Uniswap Labs): narrowing casts that fail with `SafeCastOverflow`.

use super::MAX_U160;
use crate::error::SpotError;
use alloy_primitives::{I256, U256};

/// `SafeCast.toUint160(uint256)`.
#[inline]
pub fn to_u160(x: U256) -> Result<U256, SpotError> {
    if x > MAX_U160 {
        Err(SpotError::SafeCastOverflow)
    } else {
        Ok(x)
    }
}

/// `SafeCast.toUint128(uint256)`.
#[inline]
pub fn to_u128(x: U256) -> Result<u128, SpotError> {
    u128::try_from(x).map_err(|_| SpotError::SafeCastOverflow)
}

/// `SafeCast.toInt256(uint256)`: fails when bit 255 is set.
#[inline]
pub fn to_i256(x: U256) -> Result<I256, SpotError> {
    if x.bit(255) {
        Err(SpotError::SafeCastOverflow)
    } else {
        Ok(I256::from_raw(x))
    }
}

/// `SafeCast.toInt128(int256)`.
#[inline]
pub fn i256_to_i128(x: I256) -> Result<i128, SpotError> {
    i128::try_from(x).map_err(|_| SpotError::SafeCastOverflow)
}

/// `SafeCast.toInt128(uint256)`: fails when `x >= 2^127`.
#[inline]
pub fn u256_to_i128(x: U256) -> Result<i128, SpotError> {
    let v = u128::try_from(x).map_err(|_| SpotError::SafeCastOverflow)?;
    i128::try_from(v).map_err(|_| SpotError::SafeCastOverflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts() {
        assert!(to_u160(MAX_U160).is_ok());
        assert_eq!(
            to_u160(MAX_U160 + U256::from(1u8)),
            Err(SpotError::SafeCastOverflow)
        );
        assert_eq!(to_u128(U256::from(u128::MAX)), Ok(u128::MAX));
        assert!(to_u128(U256::from(u128::MAX) + U256::from(1u8)).is_err());
        assert!(to_i256(U256::MAX).is_err());
        assert_eq!(u256_to_i128(U256::from(i128::MAX as u128)), Ok(i128::MAX));
        assert!(u256_to_i128(U256::from(1u8) << 127).is_err());
        assert_eq!(
            i256_to_i128(I256::try_from(i128::MIN).unwrap()),
            Ok(i128::MIN)
        );
        assert!(i256_to_i128(I256::try_from(i128::MIN).unwrap() - I256::ONE).is_err());
    }
}
