//! Every way an action can fail, named after the v4-core error it mirrors.
//!
//! [`SpotError::revert_data`] gives the exact bytes v4-core 1.0.2 would revert with, so a
//! failure can be compared with a trace or a reference vector ([`SpotError::selector`] gives the
//! first four bytes alone).

use crate::hooks::HookError;
use alloy_primitives::{keccak256, Address, U256};

/// A failed pool-manager action. A failed action changes nothing (pool, balances or hook).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpotError {
    // ---- TickMath ----
    /// `TickMath.InvalidTick(int24)`: `|tick| > MAX_TICK`.
    #[error("invalid tick {0}")]
    InvalidTick(i32),
    /// `TickMath.InvalidSqrtPrice(uint160)`: price outside `[MIN_SQRT_PRICE, MAX_SQRT_PRICE)`.
    #[error("invalid sqrt price {0}")]
    InvalidSqrtPrice(U256),

    // ---- SqrtPriceMath ----
    /// `SqrtPriceMath.InvalidPriceOrLiquidity()`: zero price or zero liquidity.
    #[error("invalid price or liquidity")]
    InvalidPriceOrLiquidity,
    /// `SqrtPriceMath.InvalidPrice()`: a zero price in an amount computation.
    #[error("invalid price")]
    InvalidPrice,
    /// `SqrtPriceMath.NotEnoughLiquidity()`: the output exceeds the virtual reserve of token1.
    #[error("not enough liquidity")]
    NotEnoughLiquidity,
    /// `SqrtPriceMath.PriceOverflow()`: the output exceeds the virtual reserve of token0.
    #[error("price overflow")]
    PriceOverflow,

    // ---- SafeCast / LiquidityMath / FullMath / checked Solidity arithmetic ----
    /// `SafeCast.SafeCastOverflow()`: a narrowing cast (or `LiquidityMath.addDelta`) overflowed.
    #[error("safe cast overflow")]
    SafeCastOverflow,
    /// `FullMath` `require` failure (empty revert data): the 512-bit quotient does not fit in
    /// 256 bits, or the denominator is zero.
    #[error("mulDiv overflow or division by zero")]
    MulDivFailed,
    /// Solidity checked-arithmetic overflow or underflow (`Panic(0x11)`).
    #[error("arithmetic overflow")]
    ArithmeticOverflow,
    /// Solidity division by zero (`Panic(0x12)`).
    #[error("division by zero")]
    DivisionByZero,
    /// A swap fee above `MAX_SWAP_FEE` (1e6 pips) was handed to `compute_swap_step`; the pool
    /// validates fees before that, so this only comes from direct library use.
    #[error("swap fee {0} above 100%")]
    SwapFeeTooLarge(u32),

    // ---- TickBitmap ----
    /// `TickBitmap.TickMisaligned(int24,int24)`: a tick to flip is not a multiple of the spacing.
    #[error("tick {tick} not a multiple of tick spacing {tick_spacing}")]
    TickMisaligned {
        /// The tick.
        tick: i32,
        /// The pool's tick spacing.
        tick_spacing: i32,
    },

    // ---- Pool ----
    /// `Pool.PoolAlreadyInitialized()`.
    #[error("pool already initialized")]
    PoolAlreadyInitialized,
    /// `Pool.PoolNotInitialized()` (also `IPoolManager.PoolNotInitialized()`, same selector).
    #[error("pool not initialized")]
    PoolNotInitialized,
    /// `Pool.TicksMisordered(int24,int24)`: `tickLower >= tickUpper`.
    #[error("ticks misordered: {tick_lower} >= {tick_upper}")]
    TicksMisordered {
        /// Lower tick.
        tick_lower: i32,
        /// Upper tick.
        tick_upper: i32,
    },
    /// `Pool.TickLowerOutOfBounds(int24)`: `tickLower < MIN_TICK`.
    #[error("tick lower {0} out of bounds")]
    TickLowerOutOfBounds(i32),
    /// `Pool.TickUpperOutOfBounds(int24)`: `tickUpper > MAX_TICK`.
    #[error("tick upper {0} out of bounds")]
    TickUpperOutOfBounds(i32),
    /// `Pool.TickLiquidityOverflow(int24)`: gross liquidity at a tick above `maxLiquidityPerTick`.
    #[error("liquidity at tick {0} above the per-tick maximum")]
    TickLiquidityOverflow(i32),
    /// `Pool.PriceLimitAlreadyExceeded(uint160,uint160)`: the limit is on the wrong side of the
    /// current price.
    #[error(
        "price limit {sqrt_price_limit_x96} already exceeded (current {sqrt_price_current_x96})"
    )]
    PriceLimitAlreadyExceeded {
        /// The pool's current sqrt price.
        sqrt_price_current_x96: U256,
        /// The caller's sqrt price limit.
        sqrt_price_limit_x96: U256,
    },
    /// `Pool.PriceLimitOutOfBounds(uint160)`: the limit is at or beyond MIN/MAX_SQRT_PRICE.
    #[error("price limit {0} out of bounds")]
    PriceLimitOutOfBounds(U256),
    /// `Pool.NoLiquidityToReceiveFees()`: donation to a pool with no in-range liquidity.
    #[error("no liquidity to receive fees")]
    NoLiquidityToReceiveFees,
    /// `Pool.InvalidFeeForExactOut()`: exact output with a 100% swap fee.
    #[error("invalid fee for exact output")]
    InvalidFeeForExactOut,
    /// `Position.CannotUpdateEmptyPosition()`: a zero-liquidity "poke" of an empty position.
    #[error("cannot update empty position")]
    CannotUpdateEmptyPosition,

    // ---- PoolManager / fee libraries / hooks ----
    /// `IPoolManager.SwapAmountCannotBeZero()`.
    #[error("swap amount cannot be zero")]
    SwapAmountCannotBeZero,
    /// `IPoolManager.TickSpacingTooLarge(int24)`: spacing above 32767.
    #[error("tick spacing {0} too large")]
    TickSpacingTooLarge(i32),
    /// `IPoolManager.TickSpacingTooSmall(int24)`: spacing below 1.
    #[error("tick spacing {0} too small")]
    TickSpacingTooSmall(i32),
    /// `IPoolManager.CurrenciesOutOfOrderOrEqual(address,address)`.
    #[error("currencies out of order or equal: {currency0} >= {currency1}")]
    CurrenciesOutOfOrderOrEqual {
        /// The key's currency0.
        currency0: Address,
        /// The key's currency1.
        currency1: Address,
    },
    /// `IPoolManager.UnauthorizedDynamicLPFeeUpdate()`: not the pool's hook, or not a
    /// dynamic-fee pool.
    #[error("unauthorized dynamic LP fee update")]
    UnauthorizedDynamicLPFeeUpdate,
    /// `Hooks.HookAddressNotValid(address)`: a dynamic-fee pool without a hook.
    #[error("hook address {0} not valid")]
    HookAddressNotValid(Address),
    /// `LPFeeLibrary.LPFeeTooLarge(uint24)`: LP fee above 1_000_000 pips.
    #[error("LP fee {0} too large")]
    LPFeeTooLarge(u32),
    /// `IProtocolFees.ProtocolFeeTooLarge(uint24)`: a direction's protocol fee above 1000 pips.
    #[error("protocol fee {0:#x} too large")]
    ProtocolFeeTooLarge(u32),
    /// A hook callback rejected the action (v4 bubbles the hook's revert up wrapped in
    /// `WrappedError(hook, selector, reason, HookCallFailed())`).
    #[error(transparent)]
    HookRejected(#[from] HookError),
    /// The pool's recorded token balance would go negative: an accounting invariant broke
    /// (v4 would fail on the reserve's checked subtraction, `Panic(0x11)`). Never expected.
    #[error("pool balance of {currency} would go negative")]
    PoolBalanceUnderflow {
        /// The currency.
        currency: Address,
    },
}

/// Four-byte selector of a Solidity error or function signature.
pub fn selector_of(signature: &str) -> [u8; 4] {
    let h = keccak256(signature.as_bytes());
    [h[0], h[1], h[2], h[3]]
}

fn word_u256(x: U256) -> [u8; 32] {
    x.to_be_bytes::<32>()
}

fn word_i32(x: i32) -> [u8; 32] {
    let fill = if x < 0 { 0xff } else { 0 };
    let mut w = [fill; 32];
    w[28..].copy_from_slice(&x.to_be_bytes());
    w
}

fn word_u32(x: u32) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[28..].copy_from_slice(&x.to_be_bytes());
    w
}

fn word_address(a: Address) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(a.as_slice());
    w
}

/// ABI-encodes a dynamic `bytes` tail (length word + padded data).
fn bytes_tail(data: &[u8]) -> Vec<u8> {
    let mut out = word_u256(U256::from(data.len())).to_vec();
    out.extend_from_slice(data);
    let pad = (32 - data.len() % 32) % 32;
    out.extend(std::iter::repeat_n(0u8, pad));
    out
}

impl SpotError {
    /// The Solidity signature of the v4 error (or `Panic(uint256)`), `None` for errors with
    /// empty revert data or no v4 equivalent.
    pub fn signature(&self) -> Option<&'static str> {
        use SpotError::*;
        Some(match self {
            InvalidTick(_) => "InvalidTick(int24)",
            InvalidSqrtPrice(_) => "InvalidSqrtPrice(uint160)",
            InvalidPriceOrLiquidity => "InvalidPriceOrLiquidity()",
            InvalidPrice => "InvalidPrice()",
            NotEnoughLiquidity => "NotEnoughLiquidity()",
            PriceOverflow => "PriceOverflow()",
            SafeCastOverflow => "SafeCastOverflow()",
            MulDivFailed | SwapFeeTooLarge(_) => return None,
            ArithmeticOverflow | DivisionByZero | PoolBalanceUnderflow { .. } => "Panic(uint256)",
            TickMisaligned { .. } => "TickMisaligned(int24,int24)",
            PoolAlreadyInitialized => "PoolAlreadyInitialized()",
            PoolNotInitialized => "PoolNotInitialized()",
            TicksMisordered { .. } => "TicksMisordered(int24,int24)",
            TickLowerOutOfBounds(_) => "TickLowerOutOfBounds(int24)",
            TickUpperOutOfBounds(_) => "TickUpperOutOfBounds(int24)",
            TickLiquidityOverflow(_) => "TickLiquidityOverflow(int24)",
            PriceLimitAlreadyExceeded { .. } => "PriceLimitAlreadyExceeded(uint160,uint160)",
            PriceLimitOutOfBounds(_) => "PriceLimitOutOfBounds(uint160)",
            NoLiquidityToReceiveFees => "NoLiquidityToReceiveFees()",
            InvalidFeeForExactOut => "InvalidFeeForExactOut()",
            CannotUpdateEmptyPosition => "CannotUpdateEmptyPosition()",
            SwapAmountCannotBeZero => "SwapAmountCannotBeZero()",
            TickSpacingTooLarge(_) => "TickSpacingTooLarge(int24)",
            TickSpacingTooSmall(_) => "TickSpacingTooSmall(int24)",
            CurrenciesOutOfOrderOrEqual { .. } => "CurrenciesOutOfOrderOrEqual(address,address)",
            UnauthorizedDynamicLPFeeUpdate => "UnauthorizedDynamicLPFeeUpdate()",
            HookAddressNotValid(_) => "HookAddressNotValid(address)",
            LPFeeTooLarge(_) => "LPFeeTooLarge(uint24)",
            ProtocolFeeTooLarge(_) => "ProtocolFeeTooLarge(uint24)",
            HookRejected(_) => "WrappedError(address,bytes4,bytes,bytes)",
        })
    }

    /// The four-byte revert selector v4 would emit, `None` for empty revert data.
    pub fn selector(&self) -> Option<[u8; 4]> {
        self.signature().map(selector_of)
    }

    /// The full revert data v4-core 1.0.2 would produce (selector + ABI-encoded arguments).
    pub fn revert_data(&self) -> Vec<u8> {
        use SpotError::*;
        let Some(sel) = self.selector() else {
            return Vec::new();
        };
        let mut out = sel.to_vec();
        let mut push = |w: [u8; 32]| out.extend_from_slice(&w);
        match self {
            InvalidTick(t) | TickLowerOutOfBounds(t) | TickUpperOutOfBounds(t) => {
                push(word_i32(*t))
            }
            TickLiquidityOverflow(t) | TickSpacingTooLarge(t) | TickSpacingTooSmall(t) => {
                push(word_i32(*t))
            }
            InvalidSqrtPrice(p) | PriceLimitOutOfBounds(p) => push(word_u256(*p)),
            ArithmeticOverflow | PoolBalanceUnderflow { .. } => push(word_u32(0x11)),
            DivisionByZero => push(word_u32(0x12)),
            TickMisaligned { tick, tick_spacing } => {
                push(word_i32(*tick));
                push(word_i32(*tick_spacing));
            }
            TicksMisordered {
                tick_lower,
                tick_upper,
            } => {
                push(word_i32(*tick_lower));
                push(word_i32(*tick_upper));
            }
            PriceLimitAlreadyExceeded {
                sqrt_price_current_x96,
                sqrt_price_limit_x96,
            } => {
                push(word_u256(*sqrt_price_current_x96));
                push(word_u256(*sqrt_price_limit_x96));
            }
            CurrenciesOutOfOrderOrEqual {
                currency0,
                currency1,
            } => {
                push(word_address(*currency0));
                push(word_address(*currency1));
            }
            HookAddressNotValid(a) => push(word_address(*a)),
            LPFeeTooLarge(f) | ProtocolFeeTooLarge(f) => push(word_u32(*f)),
            HookRejected(e) => {
                // WrappedError(target, selector, reason, details): the hook's reason as
                // `Error(string)`, details = HookCallFailed().
                let mut reason = selector_of("Error(string)").to_vec();
                reason.extend_from_slice(&word_u32(0x20));
                reason.extend_from_slice(&bytes_tail(e.reason.as_bytes()));
                let details = selector_of("HookCallFailed()").to_vec();
                push(word_address(e.hook));
                push([0u8; 32]); // bytes4 selector of the hook call: not modelled
                push(word_u32(0x80));
                let reason_tail = bytes_tail(&reason);
                push(word_u256(U256::from(0x80 + reason_tail.len())));
                out.extend_from_slice(&reason_tail);
                out.extend_from_slice(&bytes_tail(&details));
            }
            _ => {}
        }
        out
    }
}

impl From<azex_math::MathError> for SpotError {
    /// `FullMath` failures revert with empty data in v4.
    fn from(_: azex_math::MathError) -> Self {
        SpotError::MulDivFailed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn selectors_match_the_vectors() {
        assert_eq!(
            hex(&SpotError::PoolAlreadyInitialized.selector().unwrap()),
            "7983c051"
        );
        assert_eq!(
            hex(&SpotError::SwapAmountCannotBeZero.selector().unwrap()),
            "be8b8507"
        );
        assert_eq!(
            hex(&SpotError::SafeCastOverflow.selector().unwrap()),
            "93dafdf1"
        );
        assert_eq!(
            hex(&SpotError::CannotUpdateEmptyPosition.selector().unwrap()),
            "aefeb924"
        );
        assert_eq!(
            hex(&SpotError::TickMisaligned {
                tick: 1,
                tick_spacing: 2
            }
            .selector()
            .unwrap()),
            "d4d8f3e6"
        );
        assert_eq!(
            hex(&SpotError::ArithmeticOverflow.selector().unwrap()),
            "4e487b71"
        );
        assert_eq!(
            hex(&SpotError::HookRejected(HookError {
                hook: Address::ZERO,
                reason: String::new()
            })
            .selector()
            .unwrap()),
            "90bfb865"
        );
        let e = SpotError::PriceLimitAlreadyExceeded {
            sqrt_price_current_x96: U256::from(5u8),
            sqrt_price_limit_x96: U256::from(7u8),
        };
        let d = e.revert_data();
        assert_eq!(hex(&d[..4]), "7c9c6e8f");
        assert_eq!(d.len(), 68);
        assert_eq!(d[35], 5);
        assert_eq!(d[67], 7);
        assert!(SpotError::MulDivFailed.revert_data().is_empty());
        let neg = SpotError::TickLowerOutOfBounds(-1).revert_data();
        assert!(neg[4..].iter().all(|&b| b == 0xff));
    }
}
