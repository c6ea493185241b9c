//! Spot actions on a market's azUSD/BASE pool, through the pool manager and its oracle hook:
//! swaps, liquidity changes, and deposits of a base token swapped into azUSD.
//!
//! Each action is quoted read-only during the plan (hooks validate too), its token movements are
//! booked in the overlay, and the pool operation itself runs at commit, where the manager must
//! reproduce the quote exactly.

use crate::ctx::{Ctx, SpotOp};
use crate::error::ExchangeError;
use crate::event::Event;
use crate::ids::MarketId;
use crate::spot_link;
use crate::state::{Market, AZUSD};
use crate::units::Checked;
use alloy_primitives::{Address, U256};
use azex_spot::math::tick_math::{MAX_SQRT_PRICE, MIN_SQRT_PRICE};
use azex_spot::{BalanceDelta, ModifyLiquidityParams, SwapParams};

/// Move the caller's side of a pool delta between the wallet and the pool (negative = paid in).
fn settle_delta(
    ctx: &mut Ctx,
    user: Address,
    m: &mut Market,
    d: BalanceDelta,
) -> Result<(), ExchangeError> {
    let (dq, db) = if m.quote_is_token0 {
        (d.amount0, d.amount1)
    } else {
        (d.amount1, d.amount0)
    };
    for (amount, token, is_quote) in [(dq, AZUSD, true), (db, m.base_token, false)] {
        let pool_bal = if is_quote {
            &mut m.pool_azusd
        } else {
            &mut m.pool_base
        };
        if amount < 0 {
            let a = amount.unsigned_abs();
            ctx.debit(user, token, a)?;
            *pool_bal = pool_bal.add_c(a)?;
        } else if amount > 0 {
            let a = amount.unsigned_abs();
            *pool_bal = pool_bal.sub_c(a)?;
            ctx.credit(user, token, a)?;
        }
    }
    Ok(())
}

/// A spot swap. Returns the caller's delta.
pub(crate) fn swap(
    ctx: &mut Ctx,
    user: Address,
    market: MarketId,
    base_for_quote: bool,
    amount_specified: i128,
    limit: Option<U256>,
) -> Result<BalanceDelta, ExchangeError> {
    if amount_specified == 0 {
        return Err(ExchangeError::ZeroAmount);
    }
    let mut m = ctx.market(market)?;
    let zero_for_one = base_for_quote != m.quote_is_token0;
    let sqrt_price_limit_x96 = limit.unwrap_or(if zero_for_one {
        MIN_SQRT_PRICE + U256::from(1u8)
    } else {
        MAX_SQRT_PRICE - U256::from(1u8)
    });
    let params = SwapParams {
        zero_for_one,
        amount_specified,
        sqrt_price_limit_x96,
    };
    let out = spot_link::quote_swap(ctx.s, ctx.block, &m.pool_key, &params, user)?;
    settle_delta(ctx, user, &mut m, out.delta)?;
    ctx.fx.spot_ops.push(SpotOp::Swap {
        key: m.pool_key,
        params,
        sender: user,
        expected: out.delta,
    });
    ctx.put_market(m)?;
    ctx.emit(Event::SpotSwapped {
        user,
        market,
        amount0: out.delta.amount0,
        amount1: out.delta.amount1,
        tick_after: out.tick,
    });
    Ok(out.delta)
}

/// Deposit a base token by selling it for azUSD (exact input) with a minimum out.
pub(crate) fn deposit_via_swap(
    ctx: &mut Ctx,
    user: Address,
    market: MarketId,
    amount_in: u128,
    min_out: u128,
) -> Result<u128, ExchangeError> {
    let amt = i128::try_from(amount_in).map_err(|_| ExchangeError::Overflow)?;
    let d = swap(ctx, user, market, true, -amt, None)?;
    let m = ctx.market(market)?;
    let q = if m.quote_is_token0 {
        d.amount0
    } else {
        d.amount1
    };
    let received = u128::try_from(q.max(0)).unwrap_or(0);
    if received < min_out {
        return Err(ExchangeError::Slippage {
            received,
            minimum: min_out,
        });
    }
    ctx.emit(Event::SwappedIntoAzusd {
        user,
        market,
        amount_in,
        azusd_out: received,
    });
    Ok(received)
}

/// The salt of a spot position from a small integer (big-endian in the last 8 bytes).
pub(crate) fn salt_bytes(salt: u64) -> [u8; 32] {
    let mut s = [0u8; 32];
    s[24..].copy_from_slice(&salt.to_be_bytes());
    s
}

/// Add or remove spot liquidity (fees owed to the position are paid out with it, as in v4).
pub(crate) fn modify_liquidity(
    ctx: &mut Ctx,
    user: Address,
    market: MarketId,
    tick_lower: i32,
    tick_upper: i32,
    liquidity_delta: i128,
    salt: u64,
) -> Result<BalanceDelta, ExchangeError> {
    let mut m = ctx.market(market)?;
    let params = ModifyLiquidityParams {
        owner: user,
        tick_lower,
        tick_upper,
        liquidity_delta,
        salt: salt_bytes(salt),
    };
    let d = spot_link::quote_modify(ctx.s, ctx.block, &m.pool_key, &params, user)?;
    settle_delta(ctx, user, &mut m, d)?;
    if liquidity_delta < 0 {
        let depth = spot_link::depth_after_modify(ctx.s, &m, &params)?;
        let p = ctx.params_snapshot(market)?.into_owned();
        crate::handlers::protection::on_low_depth(ctx, &mut m, &p, depth)?;
    }
    ctx.fx.spot_ops.push(SpotOp::Modify {
        key: m.pool_key,
        params,
        sender: user,
        expected: d,
    });
    ctx.put_market(m)?;
    ctx.emit(Event::SpotLiquidityChanged {
        user,
        market,
        tick_lower,
        tick_upper,
        liquidity_delta,
        amount0: d.amount0,
        amount1: d.amount1,
    });
    Ok(d)
}
