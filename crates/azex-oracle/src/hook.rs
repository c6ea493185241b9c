//! [`OracleHook`]: the hook value registered on every azUSD/BASE spot pool.

use crate::depth::{spot_liquidity, SpotDepth};
use crate::error::{OracleError, OracleResult};
use crate::observation::Cumulative;
use crate::params::OracleParams;
use crate::pool::PoolOracle;
use alloy_primitives::{Address, U256};
use azex_spot::{
    CommittedAction, Hook, HookContext, HookError, HookPermissions, ModifyLiquidityParams, PoolKey,
    PoolManager, PoolSnapshot, SwapParams,
};
use borsh::{BorshDeserialize, BorshSerialize};
use std::collections::BTreeMap;
use std::io::{Read, Write};

/// The hook oracle of AZEx's azUSD/BASE pools. One value serves every pool keyed with its
/// address; per-pool state lives in a `BTreeMap` keyed by [`PoolKey`] (deterministic order).
///
/// Callbacks used (see [`OracleHook::PERMISSIONS`]):
/// * `before_initialize` rejects a pool that does not have azUSD on one side;
/// * `before_swap`, `before_add_liquidity`, `before_remove_liquidity` reject an action whose
///   observation could not be written (block or time running backwards, overflow), so that the
///   infallible commit phase cannot fail;
/// * `on_committed` writes: the first observation on `Initialize`, and this block's observation
///   (if it has none yet) from the pre-action tick on `Swap` and `ModifyLiquidity`. `Donate`
///   moves neither tick nor liquidity and writes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OracleHook {
    /// The azUSD token address: the quote currency of every pool this hook serves.
    azusd: Address,
    /// Parameters for pools without an explicit entry in `pool_params`.
    default_params: OracleParams,
    /// Parameters registered for pools not initialized yet.
    pool_params: BTreeMap<PoolKey, OracleParams>,
    /// Oracle state of each initialized pool.
    pools: BTreeMap<PoolKey, PoolOracle>,
    /// Commit-phase observation writes that failed. Validation rejects such actions first, so
    /// this stays 0; it is kept (rather than panicking) because `on_committed` is infallible.
    failed_writes: u64,
}

impl OracleHook {
    /// Callbacks the oracle needs.
    pub const PERMISSIONS: HookPermissions = HookPermissions {
        before_initialize: true,
        after_initialize: false,
        before_add_liquidity: true,
        after_add_liquidity: false,
        before_remove_liquidity: true,
        after_remove_liquidity: false,
        before_swap: true,
        after_swap: false,
        before_donate: false,
        after_donate: false,
    };

    /// A hook quoting in `azusd`, with [`OracleParams::default`] for every pool.
    pub fn new(azusd: Address) -> Self {
        Self {
            azusd,
            default_params: OracleParams::default(),
            pool_params: BTreeMap::new(),
            pools: BTreeMap::new(),
            failed_writes: 0,
        }
    }

    /// A hook quoting in `azusd` with `default_params` (validated) for pools without their own.
    pub fn with_default_params(azusd: Address, default_params: OracleParams) -> OracleResult<Self> {
        default_params.validate()?;
        Ok(Self {
            default_params,
            ..Self::new(azusd)
        })
    }

    /// The azUSD address.
    pub fn azusd(&self) -> Address {
        self.azusd
    }

    /// Parameters used for pools without their own.
    pub fn default_params(&self) -> &OracleParams {
        &self.default_params
    }

    /// Commit-phase writes that failed (expected 0, see the type docs).
    pub fn failed_writes(&self) -> u64 {
        self.failed_writes
    }

    /// Whether azUSD is `key`'s `currency0` (`false`: `currency1`); errors when the pool has no
    /// azUSD side.
    pub fn quote_is_token0(&self, key: &PoolKey) -> OracleResult<bool> {
        if key.currency0 == self.azusd {
            Ok(true)
        } else if key.currency1 == self.azusd {
            Ok(false)
        } else {
            Err(OracleError::NotAnAzusdPool)
        }
    }

    /// The parameters `key` uses (or will use once initialized).
    pub fn params(&self, key: &PoolKey) -> OracleParams {
        match self.pools.get(key) {
            Some(p) => *p.params(),
            None => *self.pool_params.get(key).unwrap_or(&self.default_params),
        }
    }

    /// Sets `key`'s parameters (validated): registered for later if the pool is not initialized,
    /// applied at once otherwise (see [`PoolOracle::set_params`]).
    pub fn set_pool_params(&mut self, key: &PoolKey, params: OracleParams) -> OracleResult<()> {
        params.validate()?;
        self.quote_is_token0(key)?;
        match self.pools.get_mut(key) {
            Some(p) => p.set_params(params),
            None => {
                self.pool_params.insert(*key, params);
                Ok(())
            }
        }
    }

    /// Grows `key`'s observation buffer (Uniswap's `increaseObservationCardinalityNext`).
    pub fn increase_cardinality_next(
        &mut self,
        key: &PoolKey,
        cardinality_next: u32,
    ) -> OracleResult<u16> {
        self.pools
            .get_mut(key)
            .ok_or(OracleError::NotInitialized)?
            .increase_cardinality_next(cardinality_next)
    }

    /// The oracle state of `key`.
    pub fn pool(&self, key: &PoolKey) -> OracleResult<&PoolOracle> {
        self.pools.get(key).ok_or(OracleError::NotInitialized)
    }

    /// All pools with oracle state, in key order.
    pub fn pools(&self) -> impl Iterator<Item = (&PoolKey, &PoolOracle)> {
        self.pools.iter()
    }

    /// Accumulators of `key` at `now - seconds_ago` for each request (Uniswap's `observe`).
    pub fn observe(
        &self,
        key: &PoolKey,
        now: u64,
        seconds_agos: &[u32],
    ) -> OracleResult<Vec<Cumulative>> {
        self.pool(key)?.observe(now, seconds_agos)
    }

    /// Time-weighted mean truncated tick of `key` over `[now - window_secs, now]`, rounded toward
    /// negative infinity. See [`PoolOracle::twap_tick`].
    pub fn twap_tick(&self, key: &PoolKey, window_secs: u32, now: u64) -> OracleResult<i32> {
        self.pool(key)?.twap_tick(window_secs, now)
    }

    /// Mean truncated tick of `key` over the last `window_secs` of time, each interval between
    /// observations counted for at most `max_interval_secs`. See
    /// [`PoolOracle::capped_twap_tick`].
    pub fn capped_twap_tick(
        &self,
        key: &PoolKey,
        window_secs: u32,
        max_interval_secs: u64,
        now: u64,
    ) -> OracleResult<i32> {
        self.pool(key)?
            .capped_twap_tick(window_secs, max_interval_secs, now)
    }

    /// Harmonic mean liquidity of `key` over `[now - window_secs, now]`.
    pub fn twap_harmonic_mean_liquidity(
        &self,
        key: &PoolKey,
        window_secs: u32,
        now: u64,
    ) -> OracleResult<u128> {
        self.pool(key)?
            .twap_harmonic_mean_liquidity(window_secs, now)
    }

    /// Sqrt price at `key`'s TWAP tick. See [`PoolOracle::twap_sqrt_price_x96`].
    pub fn twap_sqrt_price_x96(
        &self,
        key: &PoolKey,
        window_secs: u32,
        now: u64,
    ) -> OracleResult<U256> {
        self.pool(key)?.twap_sqrt_price_x96(window_secs, now)
    }

    /// `base_amount` BASE valued in azUSD smallest units at `key`'s TWAP tick, rounded down.
    /// See [`PoolOracle::twap_price`].
    pub fn twap_price(
        &self,
        key: &PoolKey,
        window_secs: u32,
        now: u64,
        base_amount: U256,
    ) -> OracleResult<U256> {
        self.pool(key)?.twap_price(window_secs, now, base_amount)
    }

    /// Sqrt price at `key`'s truncated tick as of `now`.
    pub fn truncated_sqrt_price_x96_at(&self, key: &PoolKey, now: u64) -> OracleResult<U256> {
        self.pool(key)?.truncated_sqrt_price_x96_at(now)
    }

    /// `base_amount` BASE valued in azUSD smallest units at `key`'s truncated tick as of `now`,
    /// rounded down.
    pub fn truncated_price_at(
        &self,
        key: &PoolKey,
        now: u64,
        base_amount: U256,
    ) -> OracleResult<U256> {
        self.pool(key)?.truncated_price_at(now, base_amount)
    }

    /// `key`'s spot liquidity in `pm` (azUSD smallest units, see [`crate::depth`]), with the
    /// pool's `depth_band_ticks` and quote side. `pm` is the manager this hook lives in (read
    /// it as `pm.hook().spot_liquidity(&pm, &key)`); any manager holding the pool works.
    pub fn spot_liquidity<H: Hook>(
        &self,
        pm: &PoolManager<H>,
        key: &PoolKey,
    ) -> OracleResult<SpotDepth> {
        let p = self.pool(key)?;
        spot_liquidity(pm, key, p.params().depth_band_ticks, p.quote_is_token0())
    }

    /// The truncated tick of `key`'s latest observation.
    pub fn truncated_tick(&self, key: &PoolKey) -> OracleResult<i32> {
        self.pool(key)?.truncated_tick()
    }

    /// The truncated tick of `key` as of `now`. See [`PoolOracle::truncated_tick_at`].
    pub fn truncated_tick_at(&self, key: &PoolKey, now: u64) -> OracleResult<i32> {
        self.pool(key)?.truncated_tick_at(now)
    }

    /// The current UNTRUNCATED tick of `key`'s pool, as of its latest committed action.
    pub fn untruncated_pool_tick(&self, key: &PoolKey) -> OracleResult<i32> {
        Ok(self.pool(key)?.untruncated_pool_tick())
    }

    /// Timestamp of `key`'s oldest kept observation.
    pub fn oldest_observation_timestamp(&self, key: &PoolKey) -> OracleResult<u64> {
        self.pool(key)?.oldest_observation_timestamp()
    }

    /// Writes this block's observation for `key` from the pool's current state `pool` (its
    /// tick and liquidity, in force since the last action), if the block has none yet, and
    /// records `pool` as the current pool state. For the exchange's block-begin step: it keeps
    /// the truncated price converging toward an idle pool's tick, exactly as a no-op action
    /// would. Returns whether an observation was written. Errors (nothing written) when the
    /// pool is unknown or block number / time went backwards.
    pub fn poke(
        &mut self,
        ctx: &HookContext,
        key: &PoolKey,
        pool: &PoolSnapshot,
    ) -> OracleResult<bool> {
        let p = self.pools.get_mut(key).ok_or(OracleError::NotInitialized)?;
        p.prepare_observation(
            ctx.block_number,
            ctx.block_timestamp,
            pool.tick,
            pool.liquidity,
        )?;
        p.record_action(ctx.block_number, ctx.block_timestamp, pool, pool)
    }

    /// [`poke`](Self::poke) with the pool's current state read from `pm`, the manager this hook
    /// lives in.
    pub fn poke_pool(
        pm: &mut PoolManager<OracleHook>,
        ctx: &HookContext,
        key: &PoolKey,
    ) -> OracleResult<bool> {
        let snap = pm.pool_snapshot(key)?;
        pm.hook_mut().poke(ctx, key, &snap)
    }

    fn reject(key: &PoolKey, e: OracleError) -> HookError {
        HookError {
            hook: key.hooks,
            reason: e.to_string(),
        }
    }

    /// Validation shared by swaps and liquidity changes: the observation this action would
    /// write must be writable.
    fn check_action(
        &self,
        ctx: &HookContext,
        key: &PoolKey,
        pool: &PoolSnapshot,
    ) -> Result<(), HookError> {
        let p = self.pool(key).map_err(|e| Self::reject(key, e))?;
        p.prepare_observation(
            ctx.block_number,
            ctx.block_timestamp,
            pool.tick,
            pool.liquidity,
        )
        .map(|_| ())
        .map_err(|e| Self::reject(key, e))
    }

    fn commit_initialize(
        &mut self,
        ctx: &HookContext,
        key: &PoolKey,
        sqrt_price_x96: U256,
        tick: i32,
    ) {
        if self.pools.contains_key(key) {
            self.failed_writes += 1;
            return;
        }
        let params = self.pool_params.remove(key).unwrap_or(self.default_params);
        let created = self.quote_is_token0(key).and_then(|q| {
            PoolOracle::new(
                params,
                q,
                ctx.block_number,
                ctx.block_timestamp,
                sqrt_price_x96,
                tick,
            )
        });
        match created {
            Ok(p) => {
                self.pools.insert(*key, p);
            }
            Err(_) => self.failed_writes += 1,
        }
    }

    fn commit_action(
        &mut self,
        ctx: &HookContext,
        key: &PoolKey,
        before: &PoolSnapshot,
        after: &PoolSnapshot,
    ) {
        let ok = match self.pools.get_mut(key) {
            Some(p) => p
                .record_action(ctx.block_number, ctx.block_timestamp, before, after)
                .is_ok(),
            None => false,
        };
        if !ok {
            self.failed_writes += 1;
        }
    }
}

impl Hook for OracleHook {
    fn permissions(&self, _hook_address: Address) -> HookPermissions {
        Self::PERMISSIONS
    }

    fn before_initialize(
        &self,
        _ctx: &HookContext,
        key: &PoolKey,
        _sqrt_price_x96: U256,
    ) -> Result<(), HookError> {
        // A second initialization is left to the manager (v4's `PoolAlreadyInitialized`).
        self.quote_is_token0(key)
            .map_err(|e| Self::reject(key, e))?;
        self.params(key)
            .validate()
            .map_err(|e| Self::reject(key, e))
    }

    fn before_add_liquidity(
        &self,
        ctx: &HookContext,
        key: &PoolKey,
        pool: &PoolSnapshot,
        _params: &ModifyLiquidityParams,
    ) -> Result<(), HookError> {
        self.check_action(ctx, key, pool)
    }

    fn before_remove_liquidity(
        &self,
        ctx: &HookContext,
        key: &PoolKey,
        pool: &PoolSnapshot,
        _params: &ModifyLiquidityParams,
    ) -> Result<(), HookError> {
        self.check_action(ctx, key, pool)
    }

    fn before_swap(
        &self,
        ctx: &HookContext,
        key: &PoolKey,
        pool: &PoolSnapshot,
        _params: &SwapParams,
    ) -> Result<azex_spot::BeforeSwapDecision, HookError> {
        self.check_action(ctx, key, pool)?;
        Ok(azex_spot::BeforeSwapDecision::default())
    }

    fn on_committed(&mut self, ctx: &HookContext, key: &PoolKey, action: &CommittedAction) {
        match action {
            CommittedAction::Initialize {
                sqrt_price_x96,
                tick,
            } => self.commit_initialize(ctx, key, *sqrt_price_x96, *tick),
            CommittedAction::Swap { before, after, .. }
            | CommittedAction::ModifyLiquidity { before, after, .. } => {
                self.commit_action(ctx, key, before, after)
            }
            CommittedAction::Donate { .. } => {}
        }
    }
}

/// Borsh image of a [`PoolKey`] (which does not implement borsh itself).
#[derive(BorshSerialize, BorshDeserialize)]
struct PoolKeyRepr {
    currency0: Address,
    currency1: Address,
    fee: u32,
    tick_spacing: i32,
    hooks: Address,
}

impl From<&PoolKey> for PoolKeyRepr {
    fn from(k: &PoolKey) -> Self {
        Self {
            currency0: k.currency0,
            currency1: k.currency1,
            fee: k.fee,
            tick_spacing: k.tick_spacing,
            hooks: k.hooks,
        }
    }
}

impl From<PoolKeyRepr> for PoolKey {
    fn from(k: PoolKeyRepr) -> Self {
        Self {
            currency0: k.currency0,
            currency1: k.currency1,
            fee: k.fee,
            tick_spacing: k.tick_spacing,
            hooks: k.hooks,
        }
    }
}

fn write_map<W: Write, V: BorshSerialize>(
    map: &BTreeMap<PoolKey, V>,
    w: &mut W,
) -> std::io::Result<()> {
    let len = u32::try_from(map.len())
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "map too large"))?;
    len.serialize(w)?;
    for (k, v) in map {
        PoolKeyRepr::from(k).serialize(w)?;
        v.serialize(w)?;
    }
    Ok(())
}

fn read_map<R: Read, V: BorshDeserialize>(r: &mut R) -> std::io::Result<BTreeMap<PoolKey, V>> {
    let len = u32::deserialize_reader(r)?;
    let mut map = BTreeMap::new();
    for _ in 0..len {
        let k = PoolKey::from(PoolKeyRepr::deserialize_reader(r)?);
        let v = V::deserialize_reader(r)?;
        if map.insert(k, v).is_some() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "duplicate pool key",
            ));
        }
    }
    Ok(map)
}

/// Same layout as a derived implementation would give (maps as a `u32` length followed by the
/// entries in key order, a [`PoolKey`] as its five fields in declaration order).
impl BorshSerialize for OracleHook {
    fn serialize<W: Write>(&self, w: &mut W) -> std::io::Result<()> {
        self.azusd.serialize(w)?;
        self.default_params.serialize(w)?;
        write_map(&self.pool_params, w)?;
        write_map(&self.pools, w)?;
        self.failed_writes.serialize(w)
    }
}

impl BorshDeserialize for OracleHook {
    fn deserialize_reader<R: Read>(r: &mut R) -> std::io::Result<Self> {
        Ok(Self {
            azusd: Address::deserialize_reader(r)?,
            default_params: OracleParams::deserialize_reader(r)?,
            pool_params: read_map(r)?,
            pools: read_map(r)?,
            failed_writes: u64::deserialize_reader(r)?,
        })
    }
}
