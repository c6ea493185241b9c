//! Plain data types of the pool manager (v4's PoolKey, params and BalanceDelta).
//! The spot helper owns this file; the field names below are the contract other crates use.

use alloy_primitives::{Address, U256};

/// A token. Ordered: a pool's `currency0 < currency1`.
pub type Currency = Address;

/// Identifies a pool, as v4's PoolKey.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PoolKey {
    pub currency0: Currency,
    pub currency1: Currency,
    /// LP fee in pips (1e-6), or `DYNAMIC_FEE_FLAG` (0x800000) for a dynamic-fee pool.
    pub fee: u32,
    pub tick_spacing: i32,
    pub hooks: Address,
}

/// v4's ModifyLiquidityParams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModifyLiquidityParams {
    pub owner: Address,
    pub tick_lower: i32,
    pub tick_upper: i32,
    pub liquidity_delta: i128,
    pub salt: [u8; 32],
}

/// v4's SwapParams: negative `amount_specified` = exact input, positive = exact output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwapParams {
    pub zero_for_one: bool,
    pub amount_specified: i128,
    pub sqrt_price_limit_x96: U256,
}

/// Token amounts from the caller's side: negative = the caller pays into the pool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BalanceDelta {
    pub amount0: i128,
    pub amount1: i128,
}
