//! Hooks: code a pool calls around each action, as in Uniswap v4.
//!
//! # Two phases, so that a rejected action leaves no trace
//! v4 hooks run inside the transaction and a revert undoes everything. Here a state machine has
//! no implicit revert, so hooks are split in two phases:
//!
//! 1. **Validation** (`before_*`, `after_*`, all `&self`): called in v4's order with the same
//!    data v4 passes (the `after_*` calls also see the computed outcome, before it is written).
//!    Any `Err` rejects the whole action and nothing at all has been written yet.
//! 2. **Commit** ([`Hook::on_committed`], `&mut self`, infallible): called once the pool has
//!    written the action, with everything the before/after calls saw. This is where a hook updates
//!    its own state (the oracle writes its observation here from the pre-action tick, which is
//!    exactly what v4's TruncatedOracle records in `beforeSwap`).
//!
//! One hook value serves every pool whose key names its address; callbacks receive the pool key.

use crate::types::{BalanceDelta, ModifyLiquidityParams, PoolKey, SwapParams};
use alloy_primitives::{Address, U256};

/// Which callbacks a hook wants, as v4 encodes them in the hook address's low bits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HookPermissions {
    pub before_initialize: bool,
    pub after_initialize: bool,
    pub before_add_liquidity: bool,
    pub after_add_liquidity: bool,
    pub before_remove_liquidity: bool,
    pub after_remove_liquidity: bool,
    pub before_swap: bool,
    pub after_swap: bool,
    pub before_donate: bool,
    pub after_donate: bool,
}

impl HookPermissions {
    pub const NONE: Self = Self {
        before_initialize: false,
        after_initialize: false,
        before_add_liquidity: false,
        after_add_liquidity: false,
        before_remove_liquidity: false,
        after_remove_liquidity: false,
        before_swap: false,
        after_swap: false,
        before_donate: false,
        after_donate: false,
    };
    pub const ALL: Self = Self {
        before_initialize: true,
        after_initialize: true,
        before_add_liquidity: true,
        after_add_liquidity: true,
        before_remove_liquidity: true,
        after_remove_liquidity: true,
        before_swap: true,
        after_swap: true,
        before_donate: true,
        after_donate: true,
    };
}

/// Block context handed to hooks: the only notion of time a hook has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HookContext {
    pub block_number: u64,
    /// Seconds (unix time of the block).
    pub block_timestamp: u64,
    /// Who sent the action.
    pub sender: Address,
}

/// A read-only view of a pool's current state, handed to hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSnapshot {
    pub sqrt_price_x96: U256,
    pub tick: i32,
    pub liquidity: u128,
    pub protocol_fee: u32,
    pub lp_fee: u32,
}

/// What a hook may decide in `before_swap`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BeforeSwapDecision {
    /// For dynamic-fee pools: the LP fee (pips) to use for this swap instead of the stored one.
    pub lp_fee_override: Option<u32>,
}

/// An action the pool has written, handed to [`Hook::on_committed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommittedAction {
    Initialize {
        sqrt_price_x96: U256,
        tick: i32,
    },
    ModifyLiquidity {
        params: ModifyLiquidityParams,
        /// Pool state before the action.
        before: PoolSnapshot,
        /// Pool state after the action.
        after: PoolSnapshot,
        caller_delta: BalanceDelta,
        fees_accrued: BalanceDelta,
    },
    Swap {
        params: SwapParams,
        before: PoolSnapshot,
        after: PoolSnapshot,
        delta: BalanceDelta,
    },
    Donate {
        amount0: U256,
        amount1: U256,
        before: PoolSnapshot,
    },
}

/// A hook's reason to reject an action.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("hook {hook} rejected the action: {reason}")]
pub struct HookError {
    pub hook: Address,
    pub reason: String,
}

/// The hook callbacks. Defaults accept everything and record nothing.
#[allow(unused_variables)]
pub trait Hook {
    /// Callbacks this hook wants for pools keyed with `hook_address`.
    fn permissions(&self, hook_address: Address) -> HookPermissions;

    fn before_initialize(
        &self,
        ctx: &HookContext,
        key: &PoolKey,
        sqrt_price_x96: U256,
    ) -> Result<(), HookError> {
        Ok(())
    }
    fn after_initialize(
        &self,
        ctx: &HookContext,
        key: &PoolKey,
        sqrt_price_x96: U256,
        tick: i32,
    ) -> Result<(), HookError> {
        Ok(())
    }
    fn before_add_liquidity(
        &self,
        ctx: &HookContext,
        key: &PoolKey,
        pool: &PoolSnapshot,
        params: &ModifyLiquidityParams,
    ) -> Result<(), HookError> {
        Ok(())
    }
    fn after_add_liquidity(
        &self,
        ctx: &HookContext,
        key: &PoolKey,
        pool: &PoolSnapshot,
        params: &ModifyLiquidityParams,
        caller_delta: BalanceDelta,
        fees_accrued: BalanceDelta,
    ) -> Result<(), HookError> {
        Ok(())
    }
    fn before_remove_liquidity(
        &self,
        ctx: &HookContext,
        key: &PoolKey,
        pool: &PoolSnapshot,
        params: &ModifyLiquidityParams,
    ) -> Result<(), HookError> {
        Ok(())
    }
    fn after_remove_liquidity(
        &self,
        ctx: &HookContext,
        key: &PoolKey,
        pool: &PoolSnapshot,
        params: &ModifyLiquidityParams,
        caller_delta: BalanceDelta,
        fees_accrued: BalanceDelta,
    ) -> Result<(), HookError> {
        Ok(())
    }
    fn before_swap(
        &self,
        ctx: &HookContext,
        key: &PoolKey,
        pool: &PoolSnapshot,
        params: &SwapParams,
    ) -> Result<BeforeSwapDecision, HookError> {
        Ok(BeforeSwapDecision::default())
    }
    fn after_swap(
        &self,
        ctx: &HookContext,
        key: &PoolKey,
        pool_after: &PoolSnapshot,
        params: &SwapParams,
        delta: BalanceDelta,
    ) -> Result<(), HookError> {
        Ok(())
    }
    fn before_donate(
        &self,
        ctx: &HookContext,
        key: &PoolKey,
        pool: &PoolSnapshot,
        amount0: U256,
        amount1: U256,
    ) -> Result<(), HookError> {
        Ok(())
    }
    fn after_donate(
        &self,
        ctx: &HookContext,
        key: &PoolKey,
        pool: &PoolSnapshot,
        amount0: U256,
        amount1: U256,
    ) -> Result<(), HookError> {
        Ok(())
    }

    /// Commit phase: the action has been written to the pool. Infallible.
    fn on_committed(&mut self, ctx: &HookContext, key: &PoolKey, action: &CommittedAction) {}
}

/// The hook of pools keyed with the zero address: no callbacks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoHooks;

impl Hook for NoHooks {
    fn permissions(&self, _hook_address: Address) -> HookPermissions {
        HookPermissions::NONE
    }
}
