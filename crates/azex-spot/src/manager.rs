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
            .checked_sub(U256::from(delta.unsigned_abs()))
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
        // one map lookup; the fields are borrowed separately
        let Self {
            hook,
            pools,
            protocol_fees_accrued,
            scratch,
        } = self;
        let entry = pools.get_mut(key).ok_or(SpotError::PoolNotInitialized)?;
        let before = snapshot(&entry.pool);
        let mut lp_fee_override = None;
        if perms.before_swap {
            let decision = hook.before_swap(ctx, key, &before, params)?;
            if is_dynamic_fee(key.fee) {
                if let Some(fee) = decision.lp_fee_override {
                    lp_fee_override = Some(remove_override_flag_and_validate(fee)?);
                }
            }
        }
        let out = entry.pool.compute_swap(params, lp_fee_override, scratch)?;
        // balances: the protocol's share of the input is set apart
        let input_currency = if params.zero_for_one {
            key.currency0
        } else {
            key.currency1
        };
        let mut balance0 = apply_delta(entry.balance0, out.delta.amount0, key.currency0)?;
        let mut balance1 = apply_delta(entry.balance1, out.delta.amount1, key.currency1)?;
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
            let acc = protocol_fees_accrued
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
            hook.after_swap(ctx, key, &after, params, out.delta)?;
        }
        // commit
        entry.pool.commit_swap(&out, scratch);
        entry.balance0 = balance0;
        entry.balance1 = balance1;
        if let Some(acc) = fees_accrued {
            protocol_fees_accrued.insert(input_currency, acc);
        }
        if key.hooks != Address::ZERO {
            hook.on_committed(
                ctx,
                key,
                &CommittedAction::Swap {
                    params: *params,
                    before,
                    after,
                    delta: out.delta,
                },
            );
        }
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

    /// The pool, mutably, for crate-internal set-up (snapshot import).
    #[cfg(feature = "replay")]
    pub(crate) fn pool_mut(&mut self, key: &PoolKey) -> Option<&mut Pool> {
        self.pools.get_mut(key).map(|e| &mut e.pool)
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

/// Canonical bytes of a pool manager (for state snapshots): the hook, the pools as a `u32`
/// count followed by `(key, pool, balance0, balance1)` in key order, then the protocol fees
/// accrued per currency. Pool ids are derived from the keys and recomputed on decoding; the
/// swap scratch buffer is not state.
impl<H: Hook + borsh::BorshSerialize> borsh::BorshSerialize for PoolManager<H> {
    fn serialize<W: std::io::Write>(&self, w: &mut W) -> std::io::Result<()> {
        self.hook.serialize(w)?;
        let n = u32::try_from(self.pools.len())
            .map_err(|_| crate::pool::serial::invalid("too many pools"))?;
        n.serialize(w)?;
        for (k, e) in &self.pools {
            k.serialize(w)?;
            e.pool.serialize(w)?;
            e.balance0.serialize(w)?;
            e.balance1.serialize(w)?;
        }
        crate::pool::serial::write_map(&self.protocol_fees_accrued, w)
    }
}

impl<H: Hook + borsh::BorshDeserialize> borsh::BorshDeserialize for PoolManager<H> {
    fn deserialize_reader<R: std::io::Read>(r: &mut R) -> std::io::Result<Self> {
        let hook = H::deserialize_reader(r)?;
        let n = u32::deserialize_reader(r)?;
        let mut pools = BTreeMap::new();
        for _ in 0..n {
            let key = PoolKey::deserialize_reader(r)?;
            let pool = Pool::deserialize_reader(r)?;
            let balance0 = U256::deserialize_reader(r)?;
            let balance1 = U256::deserialize_reader(r)?;
            if key.tick_spacing != pool.tick_spacing() || key.currency0 >= key.currency1 {
                return Err(crate::pool::serial::invalid(
                    "pool key does not match its pool",
                ));
            }
            if pools.last_key_value().is_some_and(|(last, _)| *last >= key) {
                return Err(crate::pool::serial::invalid("pool keys out of order"));
            }
            let entry = PoolEntry {
                id: key.to_id(),
                pool,
                balance0,
                balance1,
            };
            pools.insert(key, entry);
        }
        let protocol_fees_accrued = crate::pool::serial::read_map(r)?;
        let mut m = Self::new(hook);
        m.pools = pools;
        m.protocol_fees_accrued = protocol_fees_accrued;
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::{BeforeSwapDecision, HookError, NoHooks};
    use crate::math::fee_math::{DYNAMIC_FEE_FLAG, OVERRIDE_FEE_FLAG};
    use crate::math::tick_math::{
        get_sqrt_price_at_tick, MAX_SQRT_PRICE, MAX_TICK, MIN_SQRT_PRICE, MIN_TICK,
    };
    use crate::math::Q96;
    use crate::types::salt_from_u64;
    use proptest::prelude::*;

    fn addr(b: u8) -> Address {
        Address::new([b; 20])
    }

    fn key(fee: u32, tick_spacing: i32, hooks: Address) -> PoolKey {
        PoolKey {
            currency0: addr(1),
            currency1: addr(2),
            fee,
            tick_spacing,
            hooks,
        }
    }

    fn ctx() -> HookContext {
        HookContext::default()
    }

    fn add(owner: u8, lo: i32, hi: i32, l: i128) -> ModifyLiquidityParams {
        ModifyLiquidityParams {
            owner: addr(owner),
            tick_lower: lo,
            tick_upper: hi,
            liquidity_delta: l,
            salt: [0; 32],
        }
    }

    fn swap_params(zero_for_one: bool, amount: i128) -> SwapParams {
        SwapParams {
            zero_for_one,
            amount_specified: amount,
            sqrt_price_limit_x96: if zero_for_one {
                MIN_SQRT_PRICE + U256::from(1u8)
            } else {
                MAX_SQRT_PRICE - U256::from(1u8)
            },
        }
    }

    #[test]
    fn initialize_checks() {
        let mut m = PoolManager::new(NoHooks);
        let c = ctx();
        assert_eq!(
            m.initialize(&c, &key(500, 0, Address::ZERO), Q96),
            Err(SpotError::TickSpacingTooSmall(0))
        );
        assert_eq!(
            m.initialize(&c, &key(500, 32768, Address::ZERO), Q96),
            Err(SpotError::TickSpacingTooLarge(32768))
        );
        let mut k = key(500, 10, Address::ZERO);
        k.currency1 = k.currency0;
        assert!(matches!(
            m.initialize(&c, &k, Q96),
            Err(SpotError::CurrenciesOutOfOrderOrEqual { .. })
        ));
        assert_eq!(
            m.initialize(&c, &key(DYNAMIC_FEE_FLAG, 10, Address::ZERO), Q96),
            Err(SpotError::HookAddressNotValid(Address::ZERO))
        );
        assert_eq!(
            m.initialize(&c, &key(1_000_001, 10, Address::ZERO), Q96),
            Err(SpotError::LPFeeTooLarge(1_000_001))
        );
        assert_eq!(
            m.initialize(&c, &key(500, 10, Address::ZERO), MAX_SQRT_PRICE),
            Err(SpotError::InvalidSqrtPrice(MAX_SQRT_PRICE))
        );
        let k = key(500, 10, Address::ZERO);
        assert_eq!(m.initialize(&c, &k, Q96), Ok(0));
        assert_eq!(
            m.initialize(&c, &k, Q96),
            Err(SpotError::PoolAlreadyInitialized)
        );
        assert_eq!(m.slot0(&k).unwrap().lp_fee, 500);
        assert!(!m.is_initialized(&key(3000, 60, Address::ZERO)));
        assert_eq!(
            m.swap(&c, &key(3000, 60, Address::ZERO), &swap_params(true, -1)),
            Err(SpotError::PoolNotInitialized)
        );
        assert_eq!(
            m.swap(&c, &k, &swap_params(true, 0)),
            Err(SpotError::SwapAmountCannotBeZero)
        );
    }

    #[test]
    fn pool_id_is_keccak_of_abi_encoded_key() {
        let k = key(3000, -60, addr(9));
        let mut enc = Vec::new();
        enc.extend_from_slice(&[0u8; 12]);
        enc.extend_from_slice(addr(1).as_slice());
        enc.extend_from_slice(&[0u8; 12]);
        enc.extend_from_slice(addr(2).as_slice());
        enc.extend_from_slice(&U256::from(3000u32).to_be_bytes::<32>());
        enc.extend_from_slice(&(U256::MAX - U256::from(59u8)).to_be_bytes::<32>());
        enc.extend_from_slice(&[0u8; 12]);
        enc.extend_from_slice(addr(9).as_slice());
        assert_eq!(k.to_id(), alloy_primitives::keccak256(&enc));
        assert_eq!(PoolManager::<NoHooks>::pool_id(&k), k.to_id());
    }

    #[test]
    fn modify_checks_and_amounts() {
        let mut m = PoolManager::new(NoHooks);
        let c = ctx();
        let k = key(3000, 60, Address::ZERO);
        m.initialize(&c, &k, Q96).unwrap();
        assert!(matches!(
            m.modify_liquidity(&c, &k, &add(7, 60, 60, 1)),
            Err(SpotError::TicksMisordered { .. })
        ));
        assert_eq!(
            m.modify_liquidity(&c, &k, &add(7, MIN_TICK - 1, 0, 1)),
            Err(SpotError::TickLowerOutOfBounds(MIN_TICK - 1))
        );
        assert_eq!(
            m.modify_liquidity(&c, &k, &add(7, 0, MAX_TICK + 1, 1)),
            Err(SpotError::TickUpperOutOfBounds(MAX_TICK + 1))
        );
        assert_eq!(
            m.modify_liquidity(&c, &k, &add(7, -61, 60, 1)),
            Err(SpotError::TickMisaligned {
                tick: -61,
                tick_spacing: 60
            })
        );
        let max = m.pool(&k).unwrap().max_liquidity_per_tick() as i128;
        assert_eq!(
            m.modify_liquidity(&c, &k, &add(7, -60, 60, max + 1)),
            Err(SpotError::TickLiquidityOverflow(-60))
        );
        assert_eq!(
            m.modify_liquidity(&c, &k, &add(7, -60, 60, 0)),
            Err(SpotError::CannotUpdateEmptyPosition)
        );
        assert_eq!(
            m.modify_liquidity(&c, &k, &add(7, -60, 60, -1)),
            Err(SpotError::SafeCastOverflow)
        );
        // in range: both tokens, rounded up
        let out = m
            .modify_liquidity(&c, &k, &add(7, -60, 60, 1_000_000_000_000))
            .unwrap();
        assert!(out.caller_delta.amount0 < 0 && out.caller_delta.amount1 < 0);
        assert_eq!(m.liquidity(&k).unwrap(), 1_000_000_000_000);
        // above the price: token0 only; below: token1 only
        let above = m
            .modify_liquidity(&c, &k, &add(7, 60, 120, 1_000_000))
            .unwrap();
        assert!(above.caller_delta.amount0 < 0 && above.caller_delta.amount1 == 0);
        let below = m
            .modify_liquidity(&c, &k, &add(7, -120, -60, 1_000_000))
            .unwrap();
        assert!(below.caller_delta.amount0 == 0 && below.caller_delta.amount1 < 0);
        assert_eq!(m.liquidity(&k).unwrap(), 1_000_000_000_000);
        // removing gives back at most what was paid
        let back = m
            .modify_liquidity(&c, &k, &add(7, -60, 60, -1_000_000_000_000))
            .unwrap();
        assert!(back.caller_delta.amount0 <= -out.caller_delta.amount0);
        assert!(back.caller_delta.amount1 <= -out.caller_delta.amount1);
        assert!(m.tick_info(&k, 0).unwrap().is_none());
        assert!(m.tick_info(&k, -60).unwrap().is_some()); // still used by [-120, -60]
        assert_eq!(m.position(&k, addr(7), -60, 60, [0; 32]).unwrap(), None);
    }

    #[test]
    fn swap_fees_and_price_limits() {
        let mut m = PoolManager::new(NoHooks);
        let c = ctx();
        let k = key(3000, 60, Address::ZERO);
        m.initialize(&c, &k, Q96).unwrap();
        m.modify_liquidity(&c, &k, &add(7, -600, 600, 1_000_000_000_000_000_000))
            .unwrap();
        let limit_err = m.swap(
            &c,
            &k,
            &SwapParams {
                zero_for_one: true,
                amount_specified: -1000,
                sqrt_price_limit_x96: Q96,
            },
        );
        assert_eq!(
            limit_err,
            Err(SpotError::PriceLimitAlreadyExceeded {
                sqrt_price_current_x96: Q96,
                sqrt_price_limit_x96: Q96
            })
        );
        let oob = m.swap(
            &c,
            &k,
            &SwapParams {
                zero_for_one: true,
                amount_specified: -1000,
                sqrt_price_limit_x96: MIN_SQRT_PRICE,
            },
        );
        assert_eq!(oob, Err(SpotError::PriceLimitOutOfBounds(MIN_SQRT_PRICE)));
        // protocol fee: 0.1% each way
        assert_eq!(
            m.set_protocol_fee(&k, 1001),
            Err(SpotError::ProtocolFeeTooLarge(1001))
        );
        m.set_protocol_fee(&k, 1000 | (1000 << 12)).unwrap();
        let d = m.swap(&c, &k, &swap_params(true, -1_000_000)).unwrap();
        assert_eq!(d.amount0, -1_000_000);
        assert!(d.amount1 > 0);
        // protocol gets (amountIn + fee) * 1000 / 1e6 of the input
        assert_eq!(m.protocol_fees_accrued(addr(1)), U256::from(1000u32));
        let (g0, g1) = m.fee_growth_globals(&k).unwrap();
        assert!(g0 > U256::ZERO && g1.is_zero());
        assert_eq!(
            m.collect_protocol_fees(addr(1), U256::ZERO),
            Ok(U256::from(1000u32))
        );
        assert_eq!(m.protocol_fees_accrued(addr(1)), U256::ZERO);
        // swap to the limit across the whole range (liquidity runs out at -600)
        let d = m
            .swap_detailed(&c, &k, &swap_params(true, -i64::MAX as i128))
            .unwrap();
        assert_eq!(d.sqrt_price_x96, MIN_SQRT_PRICE + U256::from(1u8));
        assert_eq!(d.liquidity, 0);
        assert_eq!(d.ticks_crossed, 1);
    }

    #[test]
    fn donate_and_amounts_in_range() {
        let mut m = PoolManager::new(NoHooks);
        let c = ctx();
        let k = key(500, 10, Address::ZERO);
        m.initialize(&c, &k, Q96).unwrap();
        assert_eq!(
            m.donate(&c, &k, U256::from(1u8), U256::ZERO),
            Err(SpotError::NoLiquidityToReceiveFees)
        );
        let l = 1_000_000_000_000_000_000i128;
        let paid = m
            .modify_liquidity(&c, &k, &add(7, -100, 100, l))
            .unwrap()
            .caller_delta;
        let paid2 = m
            .modify_liquidity(&c, &k, &add(8, 50, 200, l))
            .unwrap()
            .caller_delta;
        let (a0, a1) = m.amounts_in_range(&k, MIN_TICK, MAX_TICK).unwrap();
        // the pool holds what the LPs paid, rounding up; the band view rounds down
        let total0 = U256::from((-paid.amount0 - paid2.amount0) as u128);
        let total1 = U256::from((-paid.amount1 - paid2.amount1) as u128);
        assert!(
            a0 <= total0 && total0 - a0 <= U256::from(3u8),
            "{a0} {total0}"
        );
        assert!(
            a1 <= total1 && total1 - a1 <= U256::from(3u8),
            "{a1} {total1}"
        );
        assert_eq!(m.pool_balances(&k).unwrap(), (total0, total1));
        // a band above the price holds only token0
        let (b0, b1) = m.amounts_in_range(&k, 100, 200).unwrap();
        assert!(b0 > U256::ZERO && b1.is_zero());
        let (b0, b1) = m.amounts_in_range(&k, -100, 0).unwrap();
        assert!(b0.is_zero() && b1 > U256::ZERO);
        // donation: fees to the in-range LP only
        let d = m
            .donate(&c, &k, U256::from(1_000_000u32), U256::from(2_000_000u32))
            .unwrap();
        assert_eq!(d, BalanceDelta::new(-1_000_000, -2_000_000));
        let poke = m.modify_liquidity(&c, &k, &add(7, -100, 100, 0)).unwrap();
        assert_eq!(poke.fees_accrued, BalanceDelta::new(999_999, 1_999_999));
        assert_eq!(poke.principal_delta, BalanceDelta::ZERO);
        let poke = m.modify_liquidity(&c, &k, &add(8, 50, 200, 0)).unwrap();
        assert_eq!(poke.fees_accrued, BalanceDelta::ZERO);
        // the price moves across ticks: the view follows
        m.swap(&c, &k, &swap_params(false, -5_000_000_000_000_000))
            .unwrap();
        let t = m.slot0(&k).unwrap().tick;
        assert!(t > 50, "{t}");
        let (a0b, a1b) = m.amounts_in_range(&k, MIN_TICK, MAX_TICK).unwrap();
        assert!(a1b > a1 && a0b < a0);
        assert!(m.amounts_in_range(&k, 10, 10).is_err());
    }

    /// A hook that records what it sees and rejects on demand.
    #[derive(Default)]
    struct Recorder {
        reject_swaps: bool,
        reject_after_add: bool,
        fee_override: Option<u32>,
        committed: Vec<CommittedAction>,
    }

    impl Hook for Recorder {
        fn permissions(&self, _hook_address: Address) -> HookPermissions {
            HookPermissions::ALL
        }
        fn before_swap(
            &self,
            _ctx: &HookContext,
            _key: &PoolKey,
            _pool: &PoolSnapshot,
            _params: &SwapParams,
        ) -> Result<BeforeSwapDecision, HookError> {
            if self.reject_swaps {
                return Err(HookError {
                    hook: addr(0xaa),
                    reason: "no swaps".into(),
                });
            }
            Ok(BeforeSwapDecision {
                lp_fee_override: self.fee_override,
            })
        }
        fn after_add_liquidity(
            &self,
            _ctx: &HookContext,
            _key: &PoolKey,
            _pool: &PoolSnapshot,
            _params: &ModifyLiquidityParams,
            _caller_delta: BalanceDelta,
            _fees_accrued: BalanceDelta,
        ) -> Result<(), HookError> {
            if self.reject_after_add {
                Err(HookError {
                    hook: addr(0xaa),
                    reason: "no adds".into(),
                })
            } else {
                Ok(())
            }
        }
        fn on_committed(&mut self, _ctx: &HookContext, _key: &PoolKey, action: &CommittedAction) {
            self.committed.push(action.clone());
        }
    }

    #[test]
    fn hooks_reject_without_trace_and_see_commits() {
        let mut m = PoolManager::new(Recorder::default());
        let c = ctx();
        let k = key(DYNAMIC_FEE_FLAG, 10, addr(0xaa));
        assert_eq!(m.initialize(&c, &k, Q96), Ok(0));
        assert_eq!(m.slot0(&k).unwrap().lp_fee, 0);
        m.modify_liquidity(&c, &k, &add(7, -100, 100, 1_000_000_000))
            .unwrap();
        assert_eq!(m.hook().committed.len(), 2);

        // rejected after the pool computed everything: nothing written anywhere
        m.hook_mut().reject_after_add = true;
        let before = (m.pool(&k).unwrap().clone(), m.pool_balances(&k).unwrap());
        let e = m
            .modify_liquidity(&c, &k, &add(7, -100, 100, 5))
            .unwrap_err();
        assert!(matches!(e, SpotError::HookRejected(_)));
        assert_eq!(&e.revert_data()[..4], &[0x90, 0xbf, 0xb8, 0x65]);
        assert_eq!(
            (m.pool(&k).unwrap().clone(), m.pool_balances(&k).unwrap()),
            before
        );
        assert_eq!(m.hook().committed.len(), 2);
        m.hook_mut().reject_after_add = false;

        m.hook_mut().reject_swaps = true;
        assert!(m.swap(&c, &k, &swap_params(true, -1000)).is_err());
        assert_eq!(m.hook().committed.len(), 2);
        m.hook_mut().reject_swaps = false;

        // the pool's own hook may set the dynamic fee; nobody else
        assert_eq!(
            m.update_dynamic_lp_fee(&c, &k, 3000),
            Err(SpotError::UnauthorizedDynamicLPFeeUpdate)
        );
        let hook_ctx = HookContext {
            sender: addr(0xaa),
            ..c
        };
        assert_eq!(
            m.update_dynamic_lp_fee(&hook_ctx, &k, 1_000_001),
            Err(SpotError::LPFeeTooLarge(1_000_001))
        );
        m.update_dynamic_lp_fee(&hook_ctx, &k, 3000).unwrap();
        assert_eq!(m.slot0(&k).unwrap().lp_fee, 3000);

        // a before_swap override replaces the fee for one swap, validated
        m.hook_mut().fee_override = Some(OVERRIDE_FEE_FLAG | 1_000_001);
        assert_eq!(
            m.swap(&c, &k, &swap_params(true, -1000)),
            Err(SpotError::LPFeeTooLarge(1_000_001))
        );
        m.hook_mut().fee_override = Some(OVERRIDE_FEE_FLAG | 1_000_000);
        assert_eq!(
            m.swap(&c, &k, &swap_params(true, 1000)),
            Err(SpotError::InvalidFeeForExactOut)
        );
        let d = m.swap(&c, &k, &swap_params(true, -1000)).unwrap();
        assert_eq!(d, BalanceDelta::new(-1000, 0)); // 100% fee
        assert_eq!(m.slot0(&k).unwrap().lp_fee, 3000);
        match m.hook().committed.last().unwrap() {
            CommittedAction::Swap {
                before,
                after,
                delta,
                ..
            } => {
                assert_eq!(*delta, d);
                assert_eq!(before.sqrt_price_x96, after.sqrt_price_x96);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(m.hook().committed.len(), 3);
    }

    #[derive(Debug, Clone)]
    enum Action {
        Add {
            owner: u8,
            salt: u8,
            lo: i32,
            width: i32,
            l: u64,
        },
        Remove {
            which: usize,
            frac: u8,
        },
        Swap {
            zero_for_one: bool,
            exact_in: bool,
            amount: u64,
            scale: u8,
        },
        Donate {
            a0: u32,
            a1: u32,
        },
        ProtocolFee {
            fee0: u16,
            fee1: u16,
        },
    }

    fn action() -> impl Strategy<Value = Action> {
        prop_oneof![
            3 => (0u8..3, 0u8..2, -40i32..40, 1i32..20, 1u64..u64::MAX)
                .prop_map(|(owner, salt, lo, width, l)| Action::Add { owner, salt, lo, width, l }),
            2 => (any::<usize>(), 1u8..=4).prop_map(|(which, frac)| Action::Remove { which, frac }),
            5 => (any::<bool>(), any::<bool>(), 1u64..u64::MAX, 0u8..3)
                .prop_map(|(zero_for_one, exact_in, amount, scale)| Action::Swap { zero_for_one, exact_in, amount, scale }),
            1 => (0u32..1_000_000, 0u32..1_000_000).prop_map(|(a0, a1)| Action::Donate { a0, a1 }),
            1 => (0u16..=1000, 0u16..=1000).prop_map(|(fee0, fee1)| Action::ProtocolFee { fee0, fee1 }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// After any sequence of actions, removing every position (which also collects its fees)
        /// never fails and never pays more than the pool holds; failed actions change nothing.
        #[test]
        fn conservation(
            ts in prop_oneof![Just(1i32), Just(10), Just(60)],
            fee in prop_oneof![Just(0u32), Just(500), Just(3000), Just(10_000)],
            start_tick in -2000i32..2000,
            actions in proptest::collection::vec(action(), 1..40),
        ) {
            let mut m = PoolManager::new(NoHooks);
            let c = ctx();
            let k = key(fee, ts, Address::ZERO);
            m.initialize(&c, &k, get_sqrt_price_at_tick(start_tick).unwrap()).unwrap();
            let mut positions: Vec<(Address, i32, i32, [u8; 32])> = Vec::new();
            for a in &actions {
                let before = (m.pool(&k).unwrap().clone(), m.pool_balances(&k).unwrap());
                let r: Result<(), SpotError> = match a {
                    Action::Add { owner, salt, lo, width, l } => {
                        let lo = (start_tick / ts + lo) * ts;
                        let hi = lo + width * ts;
                        let p = ModifyLiquidityParams {
                            owner: addr(*owner),
                            tick_lower: lo,
                            tick_upper: hi,
                            liquidity_delta: *l as i128 * 1_000,
                            salt: salt_from_u64(*salt as u64),
                        };
                        let r = m.modify_liquidity(&c, &k, &p).map(|_| ());
                        if r.is_ok() && !positions.contains(&(p.owner, lo, hi, p.salt)) {
                            positions.push((p.owner, lo, hi, p.salt));
                        }
                        r
                    }
                    Action::Remove { which, frac } => {
                        if positions.is_empty() {
                            Ok(())
                        } else {
                            let (owner, lo, hi, salt) = positions[which % positions.len()];
                            let liq = m.position(&k, owner, lo, hi, salt).unwrap().map_or(0, |p| p.liquidity);
                            let p = ModifyLiquidityParams {
                                owner,
                                tick_lower: lo,
                                tick_upper: hi,
                                liquidity_delta: -((liq / *frac as u128) as i128),
                                salt,
                            };
                            m.modify_liquidity(&c, &k, &p).map(|_| ())
                        }
                    }
                    Action::Swap { zero_for_one, exact_in, amount, scale } => {
                        let amount = *amount as i128 >> (20 * *scale as u32);
                        let amount = amount.max(1);
                        let amount = if *exact_in { -amount } else { amount };
                        m.swap(&c, &k, &swap_params(*zero_for_one, amount)).map(|_| ())
                    }
                    Action::Donate { a0, a1 } => {
                        m.donate(&c, &k, U256::from(*a0), U256::from(*a1)).map(|_| ())
                    }
                    Action::ProtocolFee { fee0, fee1 } => {
                        m.set_protocol_fee(&k, *fee0 as u32 | ((*fee1 as u32) << 12))
                    }
                };
                if r.is_err() {
                    prop_assert_eq!(&(m.pool(&k).unwrap().clone(), m.pool_balances(&k).unwrap()), &before);
                }
            }
            // everyone leaves, collecting fees
            for (owner, lo, hi, salt) in positions {
                let liq = m.position(&k, owner, lo, hi, salt).unwrap().map_or(0, |p| p.liquidity);
                if liq == 0 {
                    continue;
                }
                let (b0, b1) = m.pool_balances(&k).unwrap();
                let p = ModifyLiquidityParams { owner, tick_lower: lo, tick_upper: hi, liquidity_delta: -(liq as i128), salt };
                let out = m.modify_liquidity(&c, &k, &p);
                prop_assert!(out.is_ok(), "withdrawal failed: {:?}", out);
                let out = out.unwrap();
                prop_assert!(out.caller_delta.amount0 >= 0 && out.caller_delta.amount1 >= 0);
                prop_assert!(U256::from(out.caller_delta.amount0 as u128) <= b0);
                prop_assert!(U256::from(out.caller_delta.amount1 as u128) <= b1);
            }
            let pool = m.pool(&k).unwrap();
            prop_assert_eq!(pool.liquidity(), 0);
            prop_assert_eq!(pool.ticks().count(), 0);
            prop_assert_eq!(pool.positions().count(), 0);
            prop_assert_eq!(pool.bitmap().word_count(), 0);
        }
    }
}
