//! The oracle state of one pool: its parameters, its observation ring buffer and the pool's
//! latest (untruncated) state as seen by the hook.

use crate::error::{OracleError, OracleResult};
use crate::observation::{
    truncate_tick, Cumulative, Observation, ObservationBuffer, PreparedWrite,
};
use crate::params::OracleParams;
use crate::price::{base_to_quote_at_tick, sqrt_price_at_tick};
use crate::twap::{arithmetic_mean_tick, harmonic_mean_liquidity};
use alloy_primitives::U256;
use azex_spot::PoolSnapshot;
use borsh::{BorshDeserialize, BorshSerialize};

/// Oracle state of one azUSD/BASE pool.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct PoolOracle {
    params: OracleParams,
    /// Whether azUSD (the quote) is the pool's `currency0`; BASE is the other currency.
    quote_is_token0: bool,
    observations: ObservationBuffer,
    /// Block number of the latest observation (at most one observation per block).
    last_observation_block: u64,
    /// The pool's tick after the latest committed action: the real, untruncated spot tick.
    pool_tick: i32,
    /// The pool's sqrt price (Q64.96) after the latest committed action.
    pool_sqrt_price_x96: U256,
    /// The pool's in-range liquidity after the latest committed action.
    pool_liquidity: u128,
}

impl PoolOracle {
    /// Oracle state of a pool just initialized at `sqrt_price_x96` / `tick` (no liquidity yet):
    /// the first observation (tick cumulative 0) at `block_timestamp`, recording `tick`, and
    /// `params.cardinality_next` slots allocated.
    pub fn new(
        params: OracleParams,
        quote_is_token0: bool,
        block_number: u64,
        block_timestamp: u64,
        sqrt_price_x96: U256,
        tick: i32,
    ) -> OracleResult<Self> {
        params.validate()?;
        let mut observations = ObservationBuffer::initialize(block_timestamp, tick);
        observations.grow(u32::from(params.cardinality_next))?;
        Ok(Self {
            params,
            quote_is_token0,
            observations,
            last_observation_block: block_number,
            pool_tick: tick,
            pool_sqrt_price_x96: sqrt_price_x96,
            pool_liquidity: 0,
        })
    }

    /// The pool's oracle parameters.
    pub fn params(&self) -> &OracleParams {
        &self.params
    }

    /// Whether azUSD is the pool's `currency0` (else `currency1`).
    pub fn quote_is_token0(&self) -> bool {
        self.quote_is_token0
    }

    /// The observation ring buffer.
    pub fn observations(&self) -> &ObservationBuffer {
        &self.observations
    }

    /// Block number of the latest observation.
    pub fn last_observation_block(&self) -> u64 {
        self.last_observation_block
    }

    /// Replaces the parameters (validated). A new `max_abs_tick_move` applies from the next
    /// observation on; a larger `cardinality_next` grows the buffer; a smaller one is ignored
    /// (slots are never removed) and the stored value stays the buffer's.
    pub fn set_params(&mut self, params: OracleParams) -> OracleResult<()> {
        params.validate()?;
        let next = self.observations.grow(u32::from(params.cardinality_next))?;
        self.params = OracleParams {
            cardinality_next: next,
            ..params
        };
        Ok(())
    }

    /// Grows the observation buffer to `cardinality_next` slots (Uniswap's
    /// `increaseObservationCardinalityNext`); returns the resulting `cardinality_next`.
    pub fn increase_cardinality_next(&mut self, cardinality_next: u32) -> OracleResult<u16> {
        let next = self.observations.grow(cardinality_next)?;
        self.params.cardinality_next = next;
        Ok(next)
    }

    /// The observation an action in block `block_number` at `block_timestamp` would write,
    /// from the pool's pre-action `tick` and `liquidity`; `Ok(None)` when none is written
    /// (this block, or this timestamp, already has its observation). Errors when block number
    /// or time went backwards, or on overflow: the hook rejects the action then.
    pub fn prepare_observation(
        &self,
        block_number: u64,
        block_timestamp: u64,
        tick: i32,
        liquidity: u128,
    ) -> OracleResult<Option<PreparedWrite>> {
        if block_number < self.last_observation_block {
            return Err(OracleError::BlockWentBackwards {
                block: block_number,
                latest: self.last_observation_block,
            });
        }
        let latest = self.observations.latest()?;
        if block_timestamp < latest.block_timestamp {
            return Err(OracleError::TimeWentBackwards {
                now: block_timestamp,
                latest: latest.block_timestamp,
            });
        }
        if block_number == self.last_observation_block {
            return Ok(None);
        }
        self.observations.prepare_write(
            block_timestamp,
            tick,
            liquidity,
            self.params.max_abs_tick_move,
        )
    }

    /// Records a committed swap or liquidity change: writes this block's observation (if it
    /// has none yet) from the PRE-action tick and liquidity (`before`), then remembers the
    /// post-action pool state (`after`). Returns whether an observation was written. On error
    /// (which [`prepare_observation`](Self::prepare_observation) reports beforehand) no
    /// observation is written but the post-action pool state is still recorded.
    pub fn record_action(
        &mut self,
        block_number: u64,
        block_timestamp: u64,
        before: &PoolSnapshot,
        after: &PoolSnapshot,
    ) -> OracleResult<bool> {
        let prepared =
            self.prepare_observation(block_number, block_timestamp, before.tick, before.liquidity);
        // The pool has moved whatever happens to the observation.
        self.pool_tick = after.tick;
        self.pool_sqrt_price_x96 = after.sqrt_price_x96;
        self.pool_liquidity = after.liquidity;
        match prepared? {
            Some(w) => {
                self.observations.apply(w);
                self.last_observation_block = block_number;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// The current, UNTRUNCATED pool tick (after the latest committed action). This is the
    /// raw spot tick an attacker can move within a block; it is not what AZEx prices with.
    pub fn untruncated_pool_tick(&self) -> i32 {
        self.pool_tick
    }

    /// The current, UNTRUNCATED pool sqrt price (Q64.96, token1 per token0).
    pub fn untruncated_sqrt_price_x96(&self) -> U256 {
        self.pool_sqrt_price_x96
    }

    /// The pool's in-range liquidity after the latest committed action.
    pub fn pool_liquidity(&self) -> u128 {
        self.pool_liquidity
    }

    /// The truncated tick recorded by the latest observation.
    pub fn truncated_tick(&self) -> OracleResult<i32> {
        Ok(self.observations.latest()?.tick)
    }

    /// The truncated tick as of `now`: the latest observation's when it was written at `now`,
    /// otherwise the tick an observation written at `now` would record (the current pool tick
    /// truncated against the latest observation). Unlike [`truncated_tick`](Self::truncated_tick)
    /// it follows an idle pool (no action for several blocks) and is never the post-action tick
    /// of a swap in the current block.
    pub fn truncated_tick_at(&self, now: u64) -> OracleResult<i32> {
        let latest = self.observations.latest()?;
        if now < latest.block_timestamp {
            return Err(OracleError::TimeWentBackwards {
                now,
                latest: latest.block_timestamp,
            });
        }
        if now == latest.block_timestamp {
            return Ok(latest.tick);
        }
        Ok(truncate_tick(
            self.pool_tick,
            latest.tick,
            self.params.max_abs_tick_move,
        ))
    }

    /// Timestamp of the oldest observation kept: the longest TWAP window available at `now` is
    /// `now - oldest_observation_timestamp()`.
    pub fn oldest_observation_timestamp(&self) -> OracleResult<u64> {
        Ok(self.observations.oldest()?.block_timestamp)
    }

    /// The most recent observation.
    pub fn latest_observation(&self) -> OracleResult<&Observation> {
        self.observations.latest()
    }

    /// Accumulators at `now - seconds_ago` for each request (Uniswap's `observe`); times after
    /// the latest observation use the current pool tick, truncated, and liquidity.
    pub fn observe(&self, now: u64, seconds_agos: &[u32]) -> OracleResult<Vec<Cumulative>> {
        self.observations.observe(
            now,
            seconds_agos,
            self.pool_tick,
            self.pool_liquidity,
            self.params.max_abs_tick_move,
        )
    }

    /// The time-weighted arithmetic mean of the truncated tick over `[now - window_secs, now]`,
    /// rounded toward negative infinity (`OracleLibrary.consult`).
    pub fn twap_tick(&self, window_secs: u32, now: u64) -> OracleResult<i32> {
        if window_secs == 0 {
            return Err(OracleError::ZeroWindow);
        }
        let c = self.observe(now, &[window_secs, 0])?;
        arithmetic_mean_tick(&c[0], &c[1], window_secs)
    }

    /// The mean truncated tick over the last `window_secs` of *capped* time, rounded toward
    /// negative infinity: walking back from `now`, each interval between two observations (and
    /// the one from the latest observation to `now`, at the tick an observation at `now` would
    /// record) counts for at most `max_interval_secs`. With every interval within the cap this
    /// is [`twap_tick`](Self::twap_tick) exactly; after a stall, the stalled interval weighs no
    /// more than one ordinary block, so one observation cannot fill the window; a history shorter
    /// than the window is completed at its oldest observation's tick (docs/risk.md §8).
    pub fn capped_twap_tick(
        &self,
        window_secs: u32,
        max_interval_secs: u64,
        now: u64,
    ) -> OracleResult<i32> {
        if window_secs == 0 {
            return Err(OracleError::ZeroWindow);
        }
        let cap = max_interval_secs.max(1);
        let mut remaining = u64::from(window_secs);
        let mut sum = 0i128;
        let mut take = |tick: i32, w: u64, remaining: &mut u64| {
            let w = w.min(*remaining);
            sum += i128::from(tick) * i128::from(w);
            *remaining -= w;
        };
        let latest = self.observations.latest()?;
        let current = self.truncated_tick_at(now)?;
        if now > latest.block_timestamp {
            take(
                current,
                (now - latest.block_timestamp).min(cap),
                &mut remaining,
            );
        }
        let ring = &self.observations;
        let card = ring.cardinality();
        let mut i = ring.index();
        // At most `card - 1` steps back: the last `prev` is the oldest slot.
        for _ in 1..card {
            if remaining == 0 {
                break;
            }
            let prev_i = if i == 0 { card - 1 } else { i - 1 };
            let (Some(cur), Some(prev)) = (ring.slot(i), ring.slot(prev_i)) else {
                break;
            };
            if !prev.initialized || prev.block_timestamp >= cur.block_timestamp {
                break;
            }
            let dt = (cur.block_timestamp - prev.block_timestamp).min(cap);
            take(cur.tick, dt, &mut remaining);
            i = prev_i;
        }
        // A history shorter than the window: the rest of the window at the oldest observation's
        // tick (for a young pool, its initial tick), so that a young pool's mean moves no faster
        // than a mature one's: each pushed observation is one interval of a full window.
        let oldest = ring.slot(i).map_or(current, |o| o.tick);
        take(oldest, remaining, &mut remaining);
        let mean = sum.div_euclid(i128::from(window_secs));
        i32::try_from(mean).map_err(|_| OracleError::Overflow)
    }

    /// The sqrt price (Q64.96, token1 per token0) at [`twap_tick`](Self::twap_tick): the
    /// time-weighted geometric mean of the truncated price.
    pub fn twap_sqrt_price_x96(&self, window_secs: u32, now: u64) -> OracleResult<U256> {
        sqrt_price_at_tick(self.twap_tick(window_secs, now)?)
    }

    /// `base_amount` BASE smallest units valued in azUSD smallest units at
    /// [`twap_tick`](Self::twap_tick), rounded down. With `base_amount = 10^base_decimals` this
    /// is the TWAP price of one BASE in azUSD units (6 decimals).
    pub fn twap_price(&self, window_secs: u32, now: u64, base_amount: U256) -> OracleResult<U256> {
        base_to_quote_at_tick(
            self.twap_tick(window_secs, now)?,
            base_amount,
            self.quote_is_token0,
        )
    }

    /// The sqrt price (Q64.96, token1 per token0) at [`truncated_tick_at`](Self::truncated_tick_at).
    pub fn truncated_sqrt_price_x96_at(&self, now: u64) -> OracleResult<U256> {
        sqrt_price_at_tick(self.truncated_tick_at(now)?)
    }

    /// `base_amount` BASE smallest units valued in azUSD smallest units at
    /// [`truncated_tick_at`](Self::truncated_tick_at), rounded down: the truncated spot price.
    pub fn truncated_price_at(&self, now: u64, base_amount: U256) -> OracleResult<U256> {
        base_to_quote_at_tick(
            self.truncated_tick_at(now)?,
            base_amount,
            self.quote_is_token0,
        )
    }

    /// The harmonic mean in-range liquidity over `[now - window_secs, now]`
    /// (`OracleLibrary.consult`).
    pub fn twap_harmonic_mean_liquidity(&self, window_secs: u32, now: u64) -> OracleResult<u128> {
        if window_secs == 0 {
            return Err(OracleError::ZeroWindow);
        }
        let c = self.observe(now, &[window_secs, 0])?;
        harmonic_mean_liquidity(&c[0], &c[1], window_secs)
    }
}
