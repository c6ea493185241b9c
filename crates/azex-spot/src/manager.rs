//! The singleton pool manager: many pools keyed by [`PoolKey`], hooks, protocol fees and the
//! token balances each pool holds.
//!
//! Pools are stored in a `BTreeMap<PoolKey, _>` (deterministic order, no hashing on the hot
//! path); the v4 `PoolId` (`keccak256(abi.encode(key))`) is computed once at initialization and
//! available through [`PoolManager::pool_id`] / [`PoolKey::to_id`].
//!
//! Each action runs: checks, the hook's read-only validation callbacks (in v4's order, only
//! those `permissions()` grants, none when the key's hook address is zero or the sender is the
//! hook itself, as v4's `noSelfCall`), the pool's compute phase, then, once nothing can fail any
//! more, the pool's commit phase, the balance updates and [`Hook::on_committed`] (called for
//! every committed action on a pool whose hook address is non-zero). A failed action changes
//! nothing, neither in the pools nor in the hook.

use crate::error::SpotError;
use crate::hooks::{CommittedAction, Hook, HookContext, HookPermissions, PoolSnapshot};
use crate::math::fee_math::{
    initial_lp_fee, is_dynamic_fee, is_valid_protocol_fee, remove_override_flag_and_validate,
    validate_lp_fee,
};
use crate::math::tick_math::{MAX_TICK_SPACING, MIN_TICK_SPACING};
use crate::pool::{
    Crossing, ModifyLiquidityOutcome, Pool, PositionInfo, PositionKey, Slot0, SwapOutcome,
};
use crate::tick::TickInfo;
use crate::types::{BalanceDelta, Currency, ModifyLiquidityParams, PoolId, PoolKey, SwapParams};
use alloy_primitives::{Address, U256};
use std::collections::BTreeMap;

/// A pool with its id and the tokens it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolEntry {
    /// v4's PoolId of the key.
    pub id: PoolId,
    /// The pool state.
    pub pool: Pool,
    /// Token0 held for this pool (LP principal and fees; protocol fees are kept apart).
    pub balance0: U256,
    /// Token1 held for this pool.
    pub balance1: U256,
}

/// The pool manager (v4's `PoolManager` without the lock/settle machinery: every action settles
/// immediately against the pool's balances, and returns the caller's [`BalanceDelta`]).
#[derive(Debug, Clone)]
pub struct PoolManager<H: Hook> {
    hook: H,
    pools: BTreeMap<PoolKey, PoolEntry>,
    protocol_fees_accrued: BTreeMap<Currency, U256>,
    scratch: Vec<Crossing>,
}

impl<H: Hook + Default> Default for PoolManager<H> {
    fn default() -> Self {
        Self::new(H::default())
    }
}

/// Applies a caller delta to a pool balance: negative = paid in (balance grows), positive =
/// paid out (balance shrinks; going negative is an accounting error).
fn apply_delta(balance: U256, delta: i128, currency: Currency) -> Result<U256, SpotError> {
    if delta < 0 {
        balance
            .checked_add(U256::from(delta.unsigned_abs()))
            .ok_or(SpotError::ArithmeticOverflow)
    } else {
        balance
            .checked_sub(U256::from(delta as u128))
            .ok_or(SpotError::PoolBalanceUnderflow { currency })
    }
}

fn snapshot(pool: &Pool) -> PoolSnapshot {
    let s = pool.slot0();
    PoolSnapshot {
        sqrt_price_x96: s.sqrt_price_x96,
        tick: s.tick,
        liquidity: pool.liquidity(),
        protocol_fee: s.protocol_fee,
        lp_fee: s.lp_fee,
    }
}

impl<H: Hook> PoolManager<H> {
    /// An empty manager whose pools with a non-zero hook address call `hook`.
    pub fn new(hook: H) -> Self {
        Self {
            hook,
            pools: BTreeMap::new(),
            protocol_fees_accrued: BTreeMap::new(),
            scratch: Vec::with_capacity(64),
        }
    }

    /// The hook.
    pub fn hook(&self) -> &H {
        &self.hook
    }

    /// The hook, mutably (for its owner's configuration; pools never need this).
    pub fn hook_mut(&mut self) -> &mut H {
        &mut self.hook
    }

    /// Validation callbacks granted for this key and sender.
    fn permissions(&self, ctx: &HookContext, key: &PoolKey) -> HookPermissions {
        if key.hooks == Address::ZERO || ctx.sender == key.hooks {
            HookPermissions::NONE
        } else {
            self.hook.permissions(key.hooks)
        }
    }

    fn notify(&mut self, ctx: &HookContext, key: &PoolKey, action: CommittedAction) {
        if key.hooks != Address::ZERO {
            self.hook.on_committed(ctx, key, &action);
        }
    }

    fn entry(&self, key: &PoolKey) -> Result<&PoolEntry, SpotError> {
        self.pools.get(key).ok_or(SpotError::PoolNotInitialized)
    }

    /// v4's PoolId of `key`, `keccak256(abi.encode(key))`.
    pub fn pool_id(key: &PoolKey) -> PoolId {
        key.to_id()
    }

    /// `initialize`: creates the pool at `sqrt_price_x96`; returns its tick.
    ///
    /// Checks in v4's order: tick spacing in `[1, 32767]`, `currency0 < currency1`, hook address
    /// valid (a zero hook cannot have a dynamic fee; a non-zero hook needs at least one
    /// permission or a dynamic fee), LP fee valid (0 for a dynamic-fee pool), `before_initialize`,
    /// not already initialized, price in range, `after_initialize`.
    pub fn initialize(
        &mut self,
        ctx: &HookContext,
        key: &PoolKey,
        sqrt_price_x96: U256,
    ) -> Result<i32, SpotError> {
        if key.tick_spacing > MAX_TICK_SPACING {
            return Err(SpotError::TickSpacingTooLarge(key.tick_spacing));
        }
        if key.tick_spacing < MIN_TICK_SPACING {
            return Err(SpotError::TickSpacingTooSmall(key.tick_spacing));
        }
        if key.currency0 >= key.currency1 {
            return Err(SpotError::CurrenciesOutOfOrderOrEqual {
                currency0: key.currency0,
                currency1: key.currency1,
            });
        }
        let dynamic = is_dynamic_fee(key.fee);
        let valid_hook = if key.hooks == Address::ZERO {
            !dynamic
        } else {
            dynamic || self.hook.permissions(key.hooks) != HookPermissions::NONE
        };
        if !valid_hook {
            return Err(SpotError::HookAddressNotValid(key.hooks));
        }
        let lp_fee = initial_lp_fee(key.fee)?;
        let perms = self.permissions(ctx, key);
        if perms.before_initialize {
            self.hook.before_initialize(ctx, key, sqrt_price_x96)?;
        }
        if self.pools.contains_key(key) {
            return Err(SpotError::PoolAlreadyInitialized);
        }
        let pool = Pool::new(key.tick_spacing, sqrt_price_x96, lp_fee)?;
        let tick = pool.slot0().tick;
        if perms.after_initialize {
            self.hook.after_initialize(ctx, key, sqrt_price_x96, tick)?;
        }
        // commit
        self.pools.insert(
            *key,
            PoolEntry {
                id: key.to_id(),
                pool,
                balance0: U256::ZERO,
                balance1: U256::ZERO,
            },
        );
        self.notify(
            ctx,
            key,
            CommittedAction::Initialize {
                sqrt_price_x96,
                tick,
            },
        );
        Ok(tick)
    }

    /// `modifyLiquidity`: adds (`liquidity_delta > 0`) or removes liquidity of the position
    /// `(params.owner, tick_lower, tick_upper, salt)`, collecting its fees; a zero delta just
    /// collects fees ("poke"). Returns the caller delta, principal and fees.
    ///
    /// Order: pool initialized, `before_add_liquidity` (delta > 0) or `before_remove_liquidity`
    /// (delta <= 0), the pool's rules (see [`Pool::compute_modify_liquidity`]), balances, then
    /// `after_add_liquidity` / `after_remove_liquidity` with the post-action snapshot.
    pub fn modify_liquidity(
        &mut self,
        ctx: &HookContext,
        key: &PoolKey,
        params: &ModifyLiquidityParams,
    ) -> Result<ModifyLiquidityOutcome, SpotError> {
        let perms = self.permissions(ctx, key);
        let entry = self.entry(key)?;
        let before = snapshot(&entry.pool);
        let adding = params.liquidity_delta > 0;
        if adding && perms.before_add_liquidity {
            self.hook.before_add_liquidity(ctx, key, &before, params)?;
        } else if !adding && perms.before_remove_liquidity {
            self.hook
                .before_remove_liquidity(ctx, key, &before, params)?;
        }
        let plan = entry.pool.compute_modify_liquidity(params)?;
        let out = plan.outcome;
        let balance0 = apply_delta(entry.balance0, out.caller_delta.amount0, key.currency0)?;
        let balance1 = apply_delta(entry.balance1, out.caller_delta.amount1, key.currency1)?;
        let after = PoolSnapshot {
            liquidity: plan.liquidity_after(),
            ..before
        };
        if adding && perms.after_add_liquidity {
            self.hook.after_add_liquidity(
                ctx,
                key,
                &after,
                params,
                out.caller_delta,
                out.fees_accrued,
            )?;
        } else if !adding && perms.after_remove_liquidity {
            self.hook.after_remove_liquidity(
                ctx,
                key,
                &after,
                params,
                out.caller_delta,
                out.fees_accrued,
            )?;
        }
        // commit
        let entry = self.pools.get_mut(key).expect("checked above");
        entry.pool.commit_modify_liquidity(&plan);
        entry.balance0 = balance0;
        entry.balance1 = balance1;
        self.notify(
            ctx,
            key,
            CommittedAction::ModifyLiquidity {
                params: *params,
                before,
                after,
                caller_delta: out.caller_delta,
                fees_accrued: out.fees_accrued,
            },
        );
        Ok(out)
    }

    /// `swap`: exact input when `amount_specified < 0`, exact output when `> 0`, stopping at
    /// `sqrt_price_limit_x96`. Returns the caller delta (negative = paid in).
    pub fn swap(
        &mut self,
        ctx: &HookContext,
        key: &PoolKey,
        params: &SwapParams,
    ) -> Result<BalanceDelta, SpotError> {
        self.swap_detailed(ctx, key, params).map(|o| o.delta)
    }

    /// [`swap`](Self::swap) returning the full [`SwapOutcome`] (new price, tick, liquidity, fee
    /// growth, protocol fee, ticks crossed).
    ///
    /// Order: `SwapAmountCannotBeZero`, pool initialized, `before_swap` (a dynamic-fee pool's
    /// hook may override the LP fee for this swap: validated, `LPFeeTooLarge`), the pool's rules
    /// (see [`Pool::compute_swap`]), balances, `after_swap` with the post-swap snapshot.
    pub fn swap_detailed(
        &mut self,
        ctx: &HookContext,
        key: &PoolKey,
        params: &SwapParams,
    ) -> Result<SwapOutcome, SpotError> {
        if params.amount_specified == 0 {
            return Err(SpotError::SwapAmountCannotBeZero);
        }
        let perms = self.permissions(ctx, key);
        let entry = self.pools.get(key).ok_or(SpotError::PoolNotInitialized)?;
        let before = snapshot(&entry.pool);
        let mut lp_fee_override = None;
        if perms.before_swap {
            let decision = self.hook.before_swap(ctx, key, &before, params)?;
            if is_dynamic_fee(key.fee) {
                if let Some(fee) = decision.lp_fee_override {
                    lp_fee_override = Some(remove_override_flag_and_validate(fee)?);
                }
            }
        }
        let out = entry
            .pool
            .compute_swap(params, lp_fee_override, &mut self.scratch)?;
        // balances: the protocol's share of the input is set apart
        let (mut balance0, mut balance1) = (entry.balance0, entry.balance1);
        let input_currency = if params.zero_for_one {
            key.currency0
        } else {
            key.currency1
        };
        balance0 = apply_delta(balance0, out.delta.amount0, key.currency0)?;
        balance1 = apply_delta(balance1, out.delta.amount1, key.currency1)?;
        let fees_accrued = if out.amount_to_protocol.is_zero() {
            None
        } else {
            let b = if params.zero_for_one {
                &mut balance0
            } else {
                &mut balance1
            };
            *b = b
                .checked_sub(out.amount_to_protocol)
                .ok_or(SpotError::PoolBalanceUnderflow {
                    currency: input_currency,
                })?;
            let acc = self
                .protocol_fees_accrued
                .get(&input_currency)
                .copied()
                .unwrap_or_default();
            // v4 accrues protocol fees unchecked
            Some(acc.wrapping_add(out.amount_to_protocol))
        };
        let after = PoolSnapshot {
            sqrt_price_x96: out.sqrt_price_x96,
            tick: out.tick,
            liquidity: out.liquidity,
            ..before
        };
        if perms.after_swap {
            self.hook.after_swap(ctx, key, &after, params, out.delta)?;
        }
        // commit
        let entry = self.pools.get_mut(key).expect("checked above");
        entry.pool.commit_swap(&out, &self.scratch);
        entry.balance0 = balance0;
        entry.balance1 = balance1;
        if let Some(acc) = fees_accrued {
            self.protocol_fees_accrued.insert(input_currency, acc);
        }
        self.notify(
            ctx,
            key,
            CommittedAction::Swap {
                params: *params,
                before,
                after,
                delta: out.delta,
            },
        );
        Ok(out)
    }

    /// `donate`: gives `amount0`/`amount1` to the in-range liquidity as fees. Order: pool
    /// initialized, `before_donate`, the pool's rules (`NoLiquidityToReceiveFees`, amounts below
    /// 2^127), `after_donate`.
    pub fn donate(
        &mut self,
        ctx: &HookContext,
        key: &PoolKey,
        amount0: U256,
        amount1: U256,
    ) -> Result<BalanceDelta, SpotError> {
        let perms = self.permissions(ctx, key);
        let entry = self.entry(key)?;
        let before = snapshot(&entry.pool);
        if perms.before_donate {
            self.hook
                .before_donate(ctx, key, &before, amount0, amount1)?;
        }
        let (delta, g0, g1) = entry.pool.compute_donate(amount0, amount1)?;
        let balance0 = apply_delta(entry.balance0, delta.amount0, key.currency0)?;
        let balance1 = apply_delta(entry.balance1, delta.amount1, key.currency1)?;
        if perms.after_donate {
            self.hook
                .after_donate(ctx, key, &before, amount0, amount1)?;
        }
        let entry = self.pools.get_mut(key).expect("checked above");
        entry.pool.commit_donate(g0, g1);
        entry.balance0 = balance0;
        entry.balance1 = balance1;
        self.notify(
            ctx,
            key,
            CommittedAction::Donate {
                amount0,
                amount1,
                before,
            },
        );
        Ok(delta)
    }

    /// `setProtocolFee` (the protocol-fee controller's call): both 12-bit halves at most 1000
    /// pips (`ProtocolFeeTooLarge`), pool initialized.
    pub fn set_protocol_fee(&mut self, key: &PoolKey, protocol_fee: u32) -> Result<(), SpotError> {
        if !is_valid_protocol_fee(protocol_fee) {
            return Err(SpotError::ProtocolFeeTooLarge(protocol_fee));
        }
        let entry = self
            .pools
            .get_mut(key)
            .ok_or(SpotError::PoolNotInitialized)?;
        entry.pool.set_protocol_fee(protocol_fee);
        Ok(())
    }

    /// `updateDynamicLPFee`: only for dynamic-fee pools and only from the pool's hook
    /// (`ctx.sender == key.hooks`), else `UnauthorizedDynamicLPFeeUpdate`; fee at most 100%.
    pub fn update_dynamic_lp_fee(
        &mut self,
        ctx: &HookContext,
        key: &PoolKey,
        new_fee: u32,
    ) -> Result<(), SpotError> {
        if !is_dynamic_fee(key.fee) || ctx.sender != key.hooks {
            return Err(SpotError::UnauthorizedDynamicLPFeeUpdate);
        }
        validate_lp_fee(new_fee)?;
        let entry = self
            .pools
            .get_mut(key)
            .ok_or(SpotError::PoolNotInitialized)?;
        entry.pool.set_lp_fee(new_fee);
        Ok(())
    }

    /// Protocol fees accrued in `currency` (not yet collected).
    pub fn protocol_fees_accrued(&self, currency: Currency) -> U256 {
        self.protocol_fees_accrued
            .get(&currency)
            .copied()
            .unwrap_or_default()
    }

    /// Collects up to `amount` (0 = everything) of accrued protocol fees in `currency`; returns
    /// what was collected (fails with `ArithmeticOverflow` when asking for more than accrued).
    pub fn collect_protocol_fees(
        &mut self,
        currency: Currency,
        amount: U256,
    ) -> Result<U256, SpotError> {
        let acc = self.protocol_fees_accrued(currency);
        let take = if amount.is_zero() { acc } else { amount };
        let left = acc.checked_sub(take).ok_or(SpotError::ArithmeticOverflow)?;
        self.protocol_fees_accrued.insert(currency, left);
        Ok(take)
    }

    // ---- read accessors ----

    /// Whether the pool exists.
    pub fn is_initialized(&self, key: &PoolKey) -> bool {
        self.pools.contains_key(key)
    }
    /// The pool (read-only).
    pub fn pool(&self, key: &PoolKey) -> Result<&Pool, SpotError> {
        Ok(&self.entry(key)?.pool)
    }
    /// The pool with its id and balances.
    pub fn pool_entry(&self, key: &PoolKey) -> Result<&PoolEntry, SpotError> {
        self.entry(key)
    }
    /// Keys of all pools, in key order.
    pub fn pool_keys(&self) -> impl Iterator<Item = &PoolKey> {
        self.pools.keys()
    }
    /// `getSlot0`.
    pub fn slot0(&self, key: &PoolKey) -> Result<Slot0, SpotError> {
        Ok(self.entry(key)?.pool.slot0())
    }
    /// `getLiquidity`: active liquidity.
    pub fn liquidity(&self, key: &PoolKey) -> Result<u128, SpotError> {
        Ok(self.entry(key)?.pool.liquidity())
    }
    /// `getTickInfo` (`None` for an uninitialized tick, where v4 returns zeros).
    pub fn tick_info(&self, key: &PoolKey, tick: i32) -> Result<Option<TickInfo>, SpotError> {
        Ok(self.entry(key)?.pool.tick_info(tick))
    }
    /// `getPositionInfo` (`None` for an empty position, where v4 returns zeros).
    pub fn position(
        &self,
        key: &PoolKey,
        owner: Address,
        tick_lower: i32,
        tick_upper: i32,
        salt: [u8; 32],
    ) -> Result<Option<PositionInfo>, SpotError> {
        Ok(self.entry(key)?.pool.position(&PositionKey {
            owner,
            tick_lower,
            tick_upper,
            salt,
        }))
    }
    /// `getFeeGrowthGlobals`.
    pub fn fee_growth_globals(&self, key: &PoolKey) -> Result<(U256, U256), SpotError> {
        Ok(self.entry(key)?.pool.fee_growth_globals())
    }
    /// The read-only view hooks receive.
    pub fn pool_snapshot(&self, key: &PoolKey) -> Result<PoolSnapshot, SpotError> {
        Ok(snapshot(&self.entry(key)?.pool))
    }
    /// Tokens the pool holds `(token0, token1)` (LP principal and fees, protocol fees excluded).
    pub fn pool_balances(&self, key: &PoolKey) -> Result<(U256, U256), SpotError> {
        let e = self.entry(key)?;
        Ok((e.balance0, e.balance1))
    }
    /// Token0 and token1 held by the pool's liquidity in the price band
    /// `[tick_lower, tick_upper]`: token1 below the current price, token0 above, walking
    /// initialized ticks outwards from the current tick, each segment rounded down.
    pub fn amounts_in_range(
        &self,
        key: &PoolKey,
        tick_lower: i32,
        tick_upper: i32,
    ) -> Result<(U256, U256), SpotError> {
        self.entry(key)?
            .pool
            .amounts_in_range(tick_lower, tick_upper)
    }
}
