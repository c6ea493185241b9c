//! The link between the exchange and its spot pools and oracle hook: price conversions, reading
//! a market's prices for the block, quoting and executing pool operations.
//!
//! Price units: a pool's `sqrtPriceX96` is `sqrt(token1 raw / token0 raw) × 2^96`; AZEx prices
//! are USD per whole base token, WAD. azUSD has 6 decimals, the base token `base_decimals`.

use crate::ctx::SpotOp;
use crate::error::ExchangeError;
use crate::params::GlobalParams;
use crate::state::{BlockCtx, Market, MarketPrices, Spot, State, AZUSD};
use crate::units::{Price, Usd, WAD};
use alloy_primitives::{Address, Uint, U256};
use azex_math::mul_div;
use azex_oracle::{OracleHook, OracleParams};
use azex_spot::math::tick_math;
use azex_spot::{BalanceDelta, HookContext, ModifyLiquidityParams, PoolKey, SwapParams};

/// The address of the oracle hook in pool keys.
pub const ORACLE_HOOK: Address =
    alloy_primitives::address!("000000000000000000000000000000000000a0c1");

pub(crate) fn spot_err(e: azex_spot::SpotError) -> ExchangeError {
    ExchangeError::Spot(e)
}
pub(crate) fn oracle_err(e: azex_oracle::OracleError) -> ExchangeError {
    ExchangeError::Oracle(e)
}

/// A fresh pool manager whose oracle hook uses the protocol's truncation bound. A bound the
/// oracle refuses is an error (no silent fallback to the oracle's defaults).
pub fn new_spot(g: &GlobalParams) -> Result<Spot, ExchangeError> {
    let params = OracleParams {
        max_abs_tick_move: g.max_abs_tick_move,
        ..OracleParams::default()
    };
    let hook = OracleHook::with_default_params(AZUSD, params).map_err(oracle_err)?;
    Ok(Spot::new(hook))
}

/// `(numerator, denominator)` with `numerator / denominator = WAD × 10^(base_decimals − 6)`.
fn decimal_scale(base_decimals: u8) -> (U256, U256) {
    // base_decimals ≤ 30 (listing rule) so 10^|bd − 6| ≤ 10^24 fits in u128: no U256 pow.
    let wad = U256::from(WAD);
    if base_decimals >= 6 {
        (
            wad * U256::from(10u128.pow(u32::from(base_decimals - 6).min(38))),
            U256::from(1u8),
        )
    } else {
        (wad, U256::from(10u128.pow(u32::from(6 - base_decimals))))
    }
}

/// USD per whole base token (WAD) at `sqrt_price_x96`, rounded down.
pub fn price_from_sqrt(
    sqrt_price_x96: U256,
    quote_is_token0: bool,
    base_decimals: u8,
) -> Result<Price, ExchangeError> {
    let q96 = U256::from(1u8) << 96;
    let (num, den) = decimal_scale(base_decimals);
    let p = if quote_is_token0 {
        // token1 = base: raw price = base/quote → USD per base = scale / raw
        let a = mul_div(num, q96, sqrt_price_x96)?;
        let b = mul_div(a, q96, sqrt_price_x96)?;
        b / den
    } else {
        let a = mul_div(sqrt_price_x96, sqrt_price_x96, q96)?;
        mul_div(a, num, q96 * den)?
    };
    u128::try_from(p).map_err(|_| ExchangeError::Overflow)
}

/// [`price_from_sqrt`] saturating at `u128::MAX` instead of failing (block-level price reads
/// must not halt the chain because a pool was pushed to an absurd price).
pub fn price_from_sqrt_saturating(
    sqrt_price_x96: U256,
    quote_is_token0: bool,
    base_decimals: u8,
) -> Price {
    price_from_sqrt(sqrt_price_x96, quote_is_token0, base_decimals).unwrap_or(u128::MAX)
}

/// The sqrt price (Q64.96) of a USD price, rounded down.
pub fn sqrt_from_price(
    price: Price,
    quote_is_token0: bool,
    base_decimals: u8,
) -> Result<U256, ExchangeError> {
    if price == 0 {
        return Err(ExchangeError::ZeroAmount);
    }
    type U512 = Uint<512, 8>;
    let (num, den) = decimal_scale(base_decimals);
    // raw = token1/token0 ; sqrtP = sqrt(raw × 2^192)
    let (n, d) = if quote_is_token0 {
        // raw = scale / price
        (U512::from(num), U512::from(den) * U512::from(price))
    } else {
        (U512::from(price) * U512::from(den), U512::from(num))
    };
    let x: U512 = (n << 192) / d;
    let r = x.root(2);
    let limbs = r.as_limbs();
    if limbs[4..].iter().any(|&l| l != 0) {
        return Err(ExchangeError::Overflow);
    }
    Ok(U256::from_limbs([limbs[0], limbs[1], limbs[2], limbs[3]]))
}

/// The USD price at a tick.
pub fn price_at_tick(
    tick: i32,
    quote_is_token0: bool,
    base_decimals: u8,
) -> Result<Price, ExchangeError> {
    price_from_sqrt(
        tick_math::get_sqrt_price_at_tick(tick).map_err(spot_err)?,
        quote_is_token0,
        base_decimals,
    )
}

fn hook_ctx(b: BlockCtx, sender: Address) -> HookContext {
    HookContext {
        block_number: b.height,
        block_timestamp: b.timestamp,
        sender,
    }
}

/// Block begin: each pool's oracle records this block's observation from the current pool tick
/// (truncated), even when nobody trades the pool, so the truncated price keeps converging.
///
/// All or nothing across pools: every pool's write is first computed without writing
/// (`PoolOracle::prepare_observation`, the check `poke` itself starts with), so a pool that
/// refuses its observation fails the call before any pool is written. Why this write is not
/// deferred to the overlay's commit: ARCHITECTURE.md, "One commit path".
pub fn observe_block(s: &mut State, b: BlockCtx) -> Result<(), ExchangeError> {
    let ctx = hook_ctx(b, Address::ZERO);
    let keys: Vec<PoolKey> = s.markets.iter().map(|m| m.pool_key).collect();
    for key in &keys {
        let snap = s
            .spot
            .pool_snapshot(key)
            .map_err(|e| oracle_err(e.into()))?;
        s.spot
            .hook()
            .pool(key)
            .and_then(|p| {
                p.prepare_observation(
                    ctx.block_number,
                    ctx.block_timestamp,
                    snap.tick,
                    snap.liquidity,
                )
            })
            .map_err(oracle_err)?;
    }
    for key in keys {
        OracleHook::poke_pool(&mut s.spot, &ctx, &key).map_err(oracle_err)?;
    }
    Ok(())
}

/// A market's prices for the block (see [`MarketPrices`]).
pub fn read_prices(s: &State, m: &Market, now: u64) -> Result<MarketPrices, ExchangeError> {
    let oracle = s.spot.hook();
    let (q0, dec) = (m.quote_is_token0, m.base_decimals);
    let trunc = oracle
        .truncated_tick_at(&m.pool_key, now)
        .map_err(oracle_err)?;
    let window = s.params.risk_twap_window_secs;
    let twap = if window == 0 {
        trunc
    } else {
        // Each interval between observations counts for at most the longest ordinary block
        // gap, so a stall's one observation cannot fill the window (docs/risk.md §8); a young
        // pool averages over what history exists.
        oracle
            .capped_twap_tick(&m.pool_key, window, s.params.max_block_gap_secs, now)
            .map_err(oracle_err)?
    };
    let slot0 = s.spot.slot0(&m.pool_key).map_err(spot_err)?;
    // Saturating, like the pool's price: a pool pushed to the edge of the tick range (its
    // truncated oracle walking there 50 ticks a block) must not stop every block.
    let at = |t: i32| {
        tick_math::get_sqrt_price_at_tick(t)
            .map(|s| price_from_sqrt_saturating(s, q0, dec))
            .map_err(spot_err)
    };
    Ok(MarketPrices {
        spot: at(trunc)?,
        risk: at(twap)?,
        pool: price_from_sqrt_saturating(slot0.sqrt_price_x96, q0, dec),
        spot_liquidity: spot_liquidity(s, m)?,
        // Set for the block by `block::begin` once every market's prices are read.
        free_liquidity: m.prices.free_liquidity,
        capacity: m.prices.capacity,
        oracle_lag_ticks: slot0.tick.abs_diff(trunc),
    })
}

/// USD value of `pool`'s tokens within `band` ticks of its current tick, valued at its price
/// (the oracle hook's figure for a pool that is not, or not yet, the committed one: at listing,
/// and after a liquidity change that is only quoted).
pub fn pool_depth(
    pool: &azex_spot::Pool,
    quote_is_token0: bool,
    band: i32,
) -> Result<Usd, ExchangeError> {
    use azex_spot::math::tick_math::{MAX_TICK, MIN_TICK};
    let slot = pool.slot0();
    let tick = slot.tick;
    let (a0, a1) = pool
        .amounts_in_range(
            tick.saturating_sub(band).max(MIN_TICK),
            tick.saturating_add(band).min(MAX_TICK),
        )
        .map_err(spot_err)?;
    let d = azex_oracle::spot_liquidity_from_amounts(
        a0,
        a1,
        slot.sqrt_price_x96,
        quote_is_token0,
        (tick - band, tick + band),
    )
    .map_err(oracle_err)?;
    Ok(u128::try_from(d.value).unwrap_or(u128::MAX))
}

/// [`pool_depth`] of a market's pool after a liquidity change that is quoted but not committed.
pub fn depth_after_modify(
    s: &State,
    m: &Market,
    params: &ModifyLiquidityParams,
) -> Result<Usd, ExchangeError> {
    let mut pool = s
        .spot
        .pool_entry(&m.pool_key)
        .map_err(spot_err)?
        .pool
        .clone();
    let plan = pool.compute_modify_liquidity(params).map_err(spot_err)?;
    pool.commit_modify_liquidity(&plan);
    let band = s.spot.hook().default_params().depth_band_ticks;
    pool_depth(&pool, m.quote_is_token0, band)
}

/// USD value of the pool's tokens in range within the oracle's depth band (the oracle hook's
/// figure: azUSD held plus BASE valued at the pool price, one rounding, down).
pub fn spot_liquidity(s: &State, m: &Market) -> Result<Usd, ExchangeError> {
    let d = s
        .spot
        .hook()
        .spot_liquidity(&s.spot, &m.pool_key)
        .map_err(oracle_err)?;
    Ok(u128::try_from(d.value).unwrap_or(u128::MAX))
}

/// Quote a swap without writing anything.
pub fn quote_swap(
    s: &State,
    b: BlockCtx,
    key: &PoolKey,
    params: &SwapParams,
    sender: Address,
) -> Result<azex_spot::SwapOutcome, ExchangeError> {
    let _ = hook_ctx(b, sender);
    if params.amount_specified == 0 {
        return Err(ExchangeError::ZeroAmount);
    }
    let e = s.spot.pool_entry(key).map_err(spot_err)?;
    let mut crossings = Vec::new();
    e.pool
        .compute_swap(params, None, &mut crossings)
        .map_err(spot_err)
}

/// Quote a liquidity change without writing anything.
pub fn quote_modify(
    s: &State,
    b: BlockCtx,
    key: &PoolKey,
    params: &ModifyLiquidityParams,
    sender: Address,
) -> Result<BalanceDelta, ExchangeError> {
    let _ = hook_ctx(b, sender);
    let e = s.spot.pool_entry(key).map_err(spot_err)?;
    e.pool
        .compute_modify_liquidity(params)
        .map(|p| p.outcome.caller_delta)
        .map_err(spot_err)
}

/// Execute a planned pool operation (commit phase). The result must equal the plan's quote.
pub fn execute(s: &mut State, op: &SpotOp) -> Result<(), ExchangeError> {
    let b = s.block;
    match op {
        SpotOp::Initialize {
            key,
            sqrt_price_x96,
        } => {
            s.spot
                .initialize(&hook_ctx(b, Address::ZERO), key, *sqrt_price_x96)
                .map_err(spot_err)?;
        }
        SpotOp::Swap {
            key,
            params,
            sender,
            expected,
        } => {
            let d = s
                .spot
                .swap(&hook_ctx(b, *sender), key, params)
                .map_err(spot_err)?;
            if d != *expected {
                return Err(ExchangeError::Internal(format!(
                    "swap executed {d:?}, quoted {expected:?}"
                )));
            }
        }
        SpotOp::Modify {
            key,
            params,
            sender,
            expected,
        } => {
            let d = s
                .spot
                .modify_liquidity(&hook_ctx(b, *sender), key, params)
                .map_err(spot_err)?;
            if d.caller_delta != *expected {
                return Err(ExchangeError::Internal(format!(
                    "modify executed {:?}, quoted {expected:?}",
                    d.caller_delta
                )));
            }
        }
    }
    Ok(())
}

/// Invariant: what the exchange tracked as each pool's holdings equals the manager's accounting.
pub fn check_pool_balances(s: &State) -> Result<(), String> {
    for m in &s.markets {
        let Ok((b0, b1)) = s.spot.pool_balances(&m.pool_key) else {
            return Err(format!("market {} has no pool", m.id));
        };
        let (q, base) = if m.quote_is_token0 {
            (b0, b1)
        } else {
            (b1, b0)
        };
        if q != U256::from(m.pool_azusd) || base != U256::from(m.pool_base) {
            return Err(format!(
                "market {} pool balances: manager ({q}, {base}) vs exchange ({}, {})",
                m.id, m.pool_azusd, m.pool_base
            ));
        }
    }
    Ok(())
}
