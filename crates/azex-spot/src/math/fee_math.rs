//! v4's `LPFeeLibrary` and `ProtocolFeeLibrary` (MIT, Uniswap Labs): fee encodings in pips
//! (hundredths of a basis point, 1e-6).

use crate::error::SpotError;

/// A pool key's `fee` equal to this marks a dynamic-fee pool (its LP fee is set by the hook).
pub const DYNAMIC_FEE_FLAG: u32 = 0x80_0000;
/// Flag a `beforeSwap` fee must carry to override a dynamic pool's stored LP fee for one swap.
pub const OVERRIDE_FEE_FLAG: u32 = 0x40_0000;
/// Mask clearing [`OVERRIDE_FEE_FLAG`].
pub const REMOVE_OVERRIDE_MASK: u32 = 0xBF_FFFF;
/// Largest LP fee: 100% (1_000_000 pips).
pub const MAX_LP_FEE: u32 = 1_000_000;
/// Largest protocol fee per direction: 1000 pips (0.1%).
pub const MAX_PROTOCOL_FEE: u32 = 1000;
/// Pips per unit.
pub const PIPS_DENOMINATOR: u32 = 1_000_000;

/// `LPFeeLibrary.isDynamicFee`: the key's fee is exactly the dynamic flag.
#[inline]
pub fn is_dynamic_fee(fee: u32) -> bool {
    fee == DYNAMIC_FEE_FLAG
}

/// `LPFeeLibrary.validate`: `fee <= MAX_LP_FEE`, else `LPFeeTooLarge(fee)`.
#[inline]
pub fn validate_lp_fee(fee: u32) -> Result<u32, SpotError> {
    if fee > MAX_LP_FEE {
        Err(SpotError::LPFeeTooLarge(fee))
    } else {
        Ok(fee)
    }
}

/// `LPFeeLibrary.getInitialLPFee`: 0 for a dynamic-fee pool, else the validated key fee.
#[inline]
pub fn initial_lp_fee(key_fee: u32) -> Result<u32, SpotError> {
    if is_dynamic_fee(key_fee) {
        Ok(0)
    } else {
        validate_lp_fee(key_fee)
    }
}

/// `LPFeeLibrary.isOverride`.
#[inline]
pub fn is_override(fee: u32) -> bool {
    fee & OVERRIDE_FEE_FLAG != 0
}

/// `LPFeeLibrary.removeOverrideFlagAndValidate`.
#[inline]
pub fn remove_override_flag_and_validate(fee: u32) -> Result<u32, SpotError> {
    validate_lp_fee(fee & REMOVE_OVERRIDE_MASK)
}

/// `ProtocolFeeLibrary.getZeroForOneFee`: the low 12 bits.
#[inline]
pub fn zero_for_one_protocol_fee(protocol_fee: u32) -> u32 {
    protocol_fee & 0xfff
}

/// `ProtocolFeeLibrary.getOneForZeroFee`: bits 12..24.
#[inline]
pub fn one_for_zero_protocol_fee(protocol_fee: u32) -> u32 {
    (protocol_fee >> 12) & 0xfff
}

/// `ProtocolFeeLibrary.isValidProtocolFee`: both 12-bit halves at most 1000 pips (and, since v4
/// stores it in a `uint24`, nothing above bit 24).
#[inline]
pub fn is_valid_protocol_fee(protocol_fee: u32) -> bool {
    protocol_fee <= 0xff_ffff
        && zero_for_one_protocol_fee(protocol_fee) <= MAX_PROTOCOL_FEE
        && one_for_zero_protocol_fee(protocol_fee) <= MAX_PROTOCOL_FEE
}

/// `ProtocolFeeLibrary.calculateSwapFee`: the total swap fee when the protocol fee is taken
/// first and the LP fee from the rest: `p + l - floor(p * l / 1e6)`.
#[inline]
#[expect(
    clippy::cast_possible_truncation,
    reason = "p + l − p·l/10⁶ < 2^24 for 12- and 24-bit fees"
)]
pub fn calculate_swap_fee(protocol_fee: u32, lp_fee: u32) -> u32 {
    let p = u64::from(protocol_fee & 0xfff);
    let l = u64::from(lp_fee & 0xff_ffff);
    (p + l - p * l / u64::from(PIPS_DENOMINATOR)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fees() {
        assert_eq!(initial_lp_fee(DYNAMIC_FEE_FLAG), Ok(0));
        assert_eq!(initial_lp_fee(3000), Ok(3000));
        assert_eq!(
            initial_lp_fee(1_000_001),
            Err(SpotError::LPFeeTooLarge(1_000_001))
        );
        assert!(is_valid_protocol_fee(1000 | (1000 << 12)));
        assert!(!is_valid_protocol_fee(1001));
        assert!(!is_valid_protocol_fee(1001 << 12));
        assert_eq!(zero_for_one_protocol_fee(0x3e8_1f4), 0x1f4);
        assert_eq!(one_for_zero_protocol_fee(0x3e8_1f4), 0x3e8);
        assert_eq!(calculate_swap_fee(0, 3000), 3000);
        assert_eq!(calculate_swap_fee(1000, 3000), 1000 + 3000 - 3);
        assert_eq!(calculate_swap_fee(1000, 1_000_000), 1_000_000);
        assert_eq!(
            remove_override_flag_and_validate(OVERRIDE_FEE_FLAG | 500),
            Ok(500)
        );
        assert!(is_override(OVERRIDE_FEE_FLAG | 500));
    }
}
