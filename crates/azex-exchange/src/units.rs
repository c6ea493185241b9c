//! Units: one named precision per quantity, one named conversion per pair of units.
//!
//! | quantity | Rust type | precision | meaning |
//! |---|---|---|---|
//! | [`Usd`] amounts | `u128` / `i128` | 1e-6 (`USD_ONE` = 1e6) | azUSD smallest unit (= 1 USDC unit) |
//! | [`Qty`] position size | `i128` | 1e-18 (`QTY_ONE` = 1e18) | base tokens, signed (+ long, − short), independent of the token's own decimals |
//! | [`Price`] | `u128` | 1e-18 (`WAD`) | USD per whole base token |
//! | ratios, fees, factors | `u128` / `i128` | 1e-18 (`WAD`) | 1e18 = 100 % |
//! | funding index | `i128` | azUSD units × 1e18 per whole base token | cumulative funding owed per unit of size |
//!
//! Rounding rule: every conversion names its direction. What a trader owes rounds toward +∞,
//! what a trader receives rounds toward −∞; figures used as safety limits round the safe way.
//!
//! This module is the home of the engine's unit *types and constants* and of the conversions
//! that need them (notional, signed value). The integer arithmetic underneath is `azex-math`'s
//! (one fixed-point layer, property-tested there): the `u128` products are
//! [`azex_math::mul_wad_down_u128`] and friends, re-exported here with the engine's error type.

use crate::error::ExchangeError;
pub use azex_math::Rounding;
use azex_math::{mul_div, mul_div_rounding_up, U256};

/// azUSD amount in its smallest unit (1e-6 USD).
pub type Usd = u128;
/// Signed azUSD amount (PnL, deltas).
pub type SignedUsd = i128;
/// Position size in 1e-18 base tokens, signed: positive long, negative short.
pub type Qty = i128;
/// USD per whole base token, WAD (1e18) scaled.
pub type Price = u128;

/// One azUSD in its smallest unit (1e6).
pub const USD_ONE: u128 = 1_000_000;
/// One whole base token as a [`Qty`] (1e18).
pub const QTY_ONE: u128 = 1_000_000_000_000_000_000;
/// `10^18`: the WAD scale of prices and ratios (azex-math's [`azex_math::WAD_U128`]).
pub const WAD: u128 = azex_math::WAD_U128;
/// `Qty (1e18) × Price (1e18) / NOTIONAL_DIVISOR = Usd (1e6)`.
pub const NOTIONAL_DIVISOR: u128 = 1_000_000_000_000_000_000_000_000_000_000; // 1e30
/// Seconds in a day (funding rates are per day).
pub const SECONDS_PER_DAY: u128 = 86_400;

#[inline]
pub(crate) fn u(x: u128) -> U256 {
    U256::from(x)
}

#[inline]
pub(crate) fn to_u128(x: U256) -> Result<u128, ExchangeError> {
    u128::try_from(x).map_err(|_| ExchangeError::Overflow)
}

#[inline]
pub(crate) fn to_i128(x: u128) -> Result<i128, ExchangeError> {
    i128::try_from(x).map_err(|_| ExchangeError::Overflow)
}

/// `(floor(a × b / 1e30), exact)` in `u128` when the pieces fit: [`azex_math::mul_div_e30_u128`].
#[inline]
fn mul_e30(a: u128, b: u128) -> Option<(u128, bool)> {
    azex_math::mul_div_e30_u128(a, b)
}

/// Notional value of `|qty|` at `price`, in azUSD units, rounded down.
#[inline]
pub fn notional_down(qty: Qty, price: Price) -> Result<Usd, ExchangeError> {
    let q = qty.unsigned_abs();
    if let Some(p) = q.checked_mul(price) {
        return Ok(p / NOTIONAL_DIVISOR);
    }
    if let Some((f, _)) = mul_e30(q, price) {
        return Ok(f);
    }
    to_u128(mul_div(u(q), u(price), u(NOTIONAL_DIVISOR))?)
}

/// Notional value of `|qty|` at `price`, in azUSD units, rounded up.
#[inline]
pub fn notional_up(qty: Qty, price: Price) -> Result<Usd, ExchangeError> {
    let q = qty.unsigned_abs();
    if let Some(p) = q.checked_mul(price) {
        return Ok(p.div_ceil(NOTIONAL_DIVISOR));
    }
    if let Some((f, exact)) = mul_e30(q, price) {
        return f
            .checked_add(u128::from(!exact))
            .ok_or_else(crate::error::overflow);
    }
    to_u128(mul_div_rounding_up(u(q), u(price), u(NOTIONAL_DIVISOR))?)
}

/// Notional value of `|qty|` at `price` rounded down and rounded up, from one multiplication.
#[inline]
pub fn notional_down_up(qty: Qty, price: Price) -> Result<(Usd, Usd), ExchangeError> {
    let q = qty.unsigned_abs();
    let (f, exact) = if let Some(p) = q.checked_mul(price) {
        (p / NOTIONAL_DIVISOR, p % NOTIONAL_DIVISOR == 0)
    } else if let Some(r) = mul_e30(q, price) {
        r
    } else {
        return Ok((notional_down(qty, price)?, notional_up(qty, price)?));
    };
    Ok((
        f,
        f.checked_add(u128::from(!exact))
            .ok_or_else(crate::error::overflow)?,
    ))
}

/// Signed value `qty × price` in azUSD, rounded toward +∞ (an amount a trader owes).
#[inline]
pub fn signed_value_ceil(qty: Qty, price: Price) -> Result<SignedUsd, ExchangeError> {
    if qty >= 0 {
        to_i128(notional_up(qty, price)?)
    } else {
        Ok(-to_i128(notional_down(qty, price)?)?)
    }
}

/// Signed value `qty × price` in azUSD, rounded toward −∞ (an amount a trader receives).
#[inline]
pub fn signed_value_floor(qty: Qty, price: Price) -> Result<SignedUsd, ExchangeError> {
    if qty >= 0 {
        to_i128(notional_down(qty, price)?)
    } else {
        Ok(-to_i128(notional_up(qty, price)?)?)
    }
}

/// `amount × ratio / WAD`, rounded down ([`azex_math::mul_wad_down_u128`]).
#[inline]
pub fn mul_wad_down(amount: u128, ratio_wad: u128) -> Result<u128, ExchangeError> {
    Ok(azex_math::wad::mul_wad_down_u128(amount, ratio_wad)?)
}

/// `amount × ratio / WAD`, rounded up ([`azex_math::mul_wad_up_u128`]).
#[inline]
pub fn mul_wad_up(amount: u128, ratio_wad: u128) -> Result<u128, ExchangeError> {
    Ok(azex_math::wad::mul_wad_up_u128(amount, ratio_wad)?)
}

/// `a × b / d`, rounded down, u128 in and out ([`azex_math::mul_div_down_u128`]).
#[inline]
pub fn mul_div_down_u128(a: u128, b: u128, d: u128) -> Result<u128, ExchangeError> {
    Ok(azex_math::mul_div_down_u128(a, b, d)?)
}

/// `a × b / d`, rounded up, u128 in and out ([`azex_math::mul_div_up_u128`]).
#[inline]
pub fn mul_div_up_u128(a: u128, b: u128, d: u128) -> Result<u128, ExchangeError> {
    Ok(azex_math::mul_div_up_u128(a, b, d)?)
}

/// `x / d` for signed 256-bit values, rounded toward −∞, as an `i128`
/// ([`azex_math::div_i256_down`]).
#[inline]
pub(crate) fn div_i256_down(
    x: alloy_primitives::I256,
    d: alloy_primitives::I256,
) -> Result<i128, ExchangeError> {
    Ok(azex_math::div_i256_down(x, d)?)
}

/// `x / d` for signed 256-bit values, rounded toward +∞, as an `i128`
/// ([`azex_math::div_i256_up`]).
#[inline]
pub(crate) fn div_i256_up(
    x: alloy_primitives::I256,
    d: alloy_primitives::I256,
) -> Result<i128, ExchangeError> {
    Ok(azex_math::div_i256_up(x, d)?)
}

/// Checked helpers that turn overflow into [`ExchangeError::Overflow`].
pub(crate) trait Checked: Sized {
    fn add_c(self, o: Self) -> Result<Self, ExchangeError>;
    fn sub_c(self, o: Self) -> Result<Self, ExchangeError>;
}

macro_rules! checked_impl {
    ($t:ty, $under:expr) => {
        impl Checked for $t {
            #[inline]
            fn add_c(self, o: Self) -> Result<Self, ExchangeError> {
                self.checked_add(o).ok_or_else(crate::error::overflow)
            }
            #[inline]
            fn sub_c(self, o: Self) -> Result<Self, ExchangeError> {
                self.checked_sub(o).ok_or($under)
            }
        }
    };
}

// Unsigned subtraction below zero is an underflow; signed subtraction can only overflow.
checked_impl!(u128, ExchangeError::Underflow);
checked_impl!(u64, ExchangeError::Underflow);
checked_impl!(i128, ExchangeError::Overflow);

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// One multiplication for both roundings gives what the two separate conversions give.
        #[test]
        fn notional_pair_matches(q in proptest::prelude::any::<i128>(), p in 0u128..(1u128 << 100)) {
            let pair = notional_down_up(q, p);
            match (notional_down(q, p), notional_up(q, p)) {
                (Ok(d), Ok(u)) => proptest::prop_assert_eq!(pair, Ok((d, u))),
                _ => proptest::prop_assert!(pair.is_err()),
            }
        }

        /// The u128 fast path agrees with the 512-bit path, both roundings.
        #[test]
        fn fast_notional_matches_wide(a in 0u128..(1u128 << 100), b in 0u128..(1u128 << 90)) {
            if let Some((f, exact)) = mul_e30(a, b) {
                let wf = to_u128(mul_div(u(a), u(b), u(NOTIONAL_DIVISOR)).unwrap()).unwrap();
                let wc = to_u128(mul_div_rounding_up(u(a), u(b), u(NOTIONAL_DIVISOR)).unwrap()).unwrap();
                proptest::prop_assert_eq!(f, wf);
                proptest::prop_assert_eq!(f + u128::from(!exact), wc);
            }
        }
    }

    #[test]
    fn notional_rounding() {
        // 1.5 tokens at $2000.000000000000000001
        let q = 3 * QTY_ONE as i128 / 2;
        let p = 2000 * WAD + 1;
        assert_eq!(notional_down(q, p).unwrap(), 3000 * USD_ONE);
        assert_eq!(notional_up(q, p).unwrap(), 3000 * USD_ONE + 1);
        assert_eq!(signed_value_ceil(-q, p).unwrap(), -(3000 * USD_ONE as i128));
        assert_eq!(
            signed_value_floor(-q, p).unwrap(),
            -(3000 * USD_ONE as i128) - 1
        );
        // Large sizes go through the 512-bit path without loss.
        let big = i128::MAX / 2;
        assert!(notional_down(big, 100_000 * WAD).is_ok());
    }
}
