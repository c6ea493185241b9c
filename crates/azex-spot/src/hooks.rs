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
//!
//! # How [`PoolManager`](crate::PoolManager) calls a hook
//! * Pools whose key has the zero hook address call nothing.
//! * Validation callbacks are called in v4's order, only those [`Hook::permissions`] grants for
//!   the key's hook address, and none when the action's sender is the hook itself (v4's
//!   `noSelfCall`). `before_*` see the pool before the action; `after_add_liquidity`,
//!   `after_remove_liquidity` and `after_swap` see it as it will be after the action (computed,
//!   not yet written); `after_donate` sees it before (a donation moves no price or liquidity).
//! * A liquidity delta `> 0` is an add, `<= 0` a remove (as v4).
//! * [`Hook::on_committed`] is called once for every committed action of a pool with a non-zero
//!   hook address, whatever the permissions; never for a failed action.
//! * A non-zero hook address must grant at least one permission (or the pool must use the
//!   dynamic fee), else `initialize` fails with `HookAddressNotValid`, as in v4.

use crate::types::{BalanceDelta, ModifyLiquidityParams, PoolKey, SwapParams};
use alloy_primitives::{Address, U256};

/// Which callbacks a hook wants, as v4 encodes them in the hook address's low bits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HookPermissions {
    /// Call `before_initialize`.
    pub before_initialize: bool,
    /// Call `after_initialize`.
    pub after_initialize: bool,
    /// Call `before_add_liquidity` (liquidity delta > 0).
    pub before_add_liquidity: bool,
    /// Call `after_add_liquidity`.
    pub after_add_liquidity: bool,
    /// Call `before_remove_liquidity` (liquidity delta <= 0).
    pub before_remove_liquidity: bool,
    /// Call `after_remove_liquidity`.
    pub after_remove_liquidity: bool,
    /// Call `before_swap` (may override a dynamic pool's LP fee).
    pub before_swap: bool,
    /// Call `after_swap`.
    pub after_swap: bool,
    /// Call `before_donate`.
    pub before_donate: bool,
    /// Call `after_donate`.
    pub after_donate: bool,
}

impl HookPermissions {
    /// No callbacks.
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
    /// Every callback.
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
    /// Block number.
    pub block_number: u64,
    /// Seconds (unix time of the block).
    pub block_timestamp: u64,
    /// Who sent the action.
    pub sender: Address,
}

/// A read-only view of a pool's current state, handed to hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSnapshot {
    /// Current sqrt price, Q64.96.
    pub sqrt_price_x96: U256,
    /// Current tick.
    pub tick: i32,
    /// Active (in-range) liquidity.
    pub liquidity: u128,
    /// Protocol fee (pips, two 12-bit directions).
    pub protocol_fee: u32,
    /// LP fee (pips).
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
    /// The pool was initialized.
    Initialize {
        /// Initial sqrt price.
        sqrt_price_x96: U256,
        /// Initial tick.
        tick: i32,
    },
    /// Liquidity was added or removed (or fees collected with a zero delta).
    ModifyLiquidity {
        /// The action's parameters.
        params: ModifyLiquidityParams,
        /// Pool state before the action.
        before: PoolSnapshot,
        /// Pool state after the action.
        after: PoolSnapshot,
        /// What the caller paid (negative) or received: principal plus fees.
        caller_delta: BalanceDelta,
        /// Fees paid out to the position.
        fees_accrued: BalanceDelta,
    },
    /// A swap.
    Swap {
        /// The swap's parameters.
        params: SwapParams,
        /// Pool state before the swap.
        before: PoolSnapshot,
        /// Pool state after the swap.
        after: PoolSnapshot,
        /// Caller-side deltas (negative = paid in).
        delta: BalanceDelta,
    },
    /// A donation to the in-range liquidity.
    Donate {
        /// Token0 donated.
        amount0: U256,
        /// Token1 donated.
        amount1: U256,
        /// Pool state before the donation.
        before: PoolSnapshot,
    },
}

/// A hook's reason to reject an action.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("hook {hook} rejected the action: {reason}")]
pub struct HookError {
    /// The hook's address (the pool key's `hooks`).
    pub hook: Address,
    /// Human-readable reason.
    pub reason: String,
}

/// The hook callbacks. Defaults accept everything and record nothing.
#[allow(unused_variables)]
pub trait Hook {
    /// Callbacks this hook wants for pools keyed with `hook_address`.
    fn permissions(&self, hook_address: Address) -> HookPermissions;

    /// Before the pool is created (v4 `beforeInitialize`).
    fn before_initialize(
        &self,
        ctx: &HookContext,
        key: &PoolKey,
        sqrt_price_x96: U256,
    ) -> Result<(), HookError> {
        Ok(())
    }
    /// After the pool state is computed, before it is written (v4 `afterInitialize`).
    fn after_initialize(
        &self,
        ctx: &HookContext,
        key: &PoolKey,
        sqrt_price_x96: U256,
        tick: i32,
    ) -> Result<(), HookError> {
        Ok(())
    }
    /// Before adding liquidity, with the pool before the action (v4 `beforeAddLiquidity`).
    fn before_add_liquidity(
        &self,
        ctx: &HookContext,
        key: &PoolKey,
        pool: &PoolSnapshot,
        params: &ModifyLiquidityParams,
    ) -> Result<(), HookError> {
        Ok(())
    }
    /// After adding liquidity is computed, with the pool after it (v4 `afterAddLiquidity`).
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
    /// Before removing liquidity or collecting fees (v4 `beforeRemoveLiquidity`).
    fn before_remove_liquidity(
        &self,
        ctx: &HookContext,
        key: &PoolKey,
        pool: &PoolSnapshot,
        params: &ModifyLiquidityParams,
    ) -> Result<(), HookError> {
        Ok(())
    }
    /// After removing liquidity is computed, with the pool after it (v4 `afterRemoveLiquidity`).
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
    /// Before a swap, with the pool before it; a dynamic-fee pool's hook may override the LP fee (v4 `beforeSwap`).
    fn before_swap(
        &self,
        ctx: &HookContext,
        key: &PoolKey,
        pool: &PoolSnapshot,
        params: &SwapParams,
    ) -> Result<BeforeSwapDecision, HookError> {
        Ok(BeforeSwapDecision::default())
    }
    /// After a swap is computed, with the pool after it (v4 `afterSwap`).
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
    /// Before a donation (v4 `beforeDonate`).
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
    /// After a donation is computed (v4 `afterDonate`).
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
