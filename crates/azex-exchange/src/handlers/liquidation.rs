//! Liquidation (docs/protocol.md §6.5): anyone (a keeper) may liquidate a position whose equity,
//! judged at its **liquidation price** — the less favourable to the position of the truncated spot
//! and its TWAP ([`crate::state::Market::liquidation_price`]) — is below its maintenance margin.
//!
//! - The engine re-checks everything; a duplicate or stale keeper transaction is refused with
//!   `NotLiquidatable` / `UnknownPosition` and changes nothing.
//! - The vault takes the closed part over at that same price, with no price impact either way: the
//!   trigger price and the execution price are the same, so a keeper that acts within the blocks
//!   the maintenance margin covers always finds equity ≥ 0 (the no-negative-equity argument,
//!   docs/risk.md).
//! - Large positions (notional above `liquidation_step_notional`) are closed stepwise,
//!   `liquidation_step` of the size per block, so one liquidation never dumps a whole whale.
//! - The penalty (`liquidation_penalty` × closed notional) is taken only from what margin is
//!   left; the keeper's share grows from `keeper_share_start` by `keeper_share_growth_per_sec`
//!   since the liquidation began, capped at `keeper_share_max` (a Dutch auction); the rest goes to
//!   the insurance fund.
//! - A loss beyond the margin goes down the waterfall (insurance fund, then the vault), each step an
//!   event.

use crate::book::{self, side_add};
use crate::ctx::Ctx;
use crate::error::ExchangeError;
use crate::event::Event;
use crate::handlers::trade::{finish_market, released_cost, touch};
use crate::ids::PositionId;
use crate::math::margin;
use crate::params::MarketParams;
use crate::state::{MarketStatus, Position, Side, AZUSD};
use crate::units::{
    mul_div_up_u128, mul_wad_down, mul_wad_up, notional_up, signed_value_floor, to_i128, Checked,
    Price, Qty, SignedUsd, Usd, WAD,
};
use alloy_primitives::Address;

/// Equity and maintenance margin of a position at `price` (effective values).
/// `funding_owed`: funding the position owes and has not paid (its funding debt, plus any not
/// yet settled): one equity everywhere (docs/protocol.md §6.2).
pub fn health(
    p: &MarketParams,
    qty: Qty,
    cost: SignedUsd,
    margin_amt: Usd,
    funding_owed: SignedUsd,
    price: Price,
) -> Result<(SignedUsd, Usd), ExchangeError> {
    let upnl = margin::unrealised_pnl(qty, cost, price)?;
    let close_fee = mul_wad_up(notional_up(qty, price)?, p.taker_fee_wad)?;
    let eq = margin::equity(margin_amt, upnl, funding_owed, close_fee)?;
    Ok((eq, margin::maintenance_margin(p, qty, price, cost)?))
}

/// Whether a stored position is liquidatable now (funding and ADL settled as of this block).
pub fn is_liquidatable(
    p: &MarketParams,
    side: &Side,
    pos: &Position,
    price: Price,
) -> Result<bool, ExchangeError> {
    let (q, c) = book::effective(pos, side)?;
    if q == 0 {
        return Ok(false);
    }
    let owed = crate::math::funding::owed(pos.qty, side.funding_index, pos.funding_entry)?
        .add_c(to_i128(pos.funding_debt)?)?;
    let adl = book::adl_owed_to(pos, side)?;
    let (eq, mm) = health(p, q, c, pos.margin, owed.sub_c(adl)?, price)?;
    Ok(eq < 0 || eq.unsigned_abs() < mm)
}

impl crate::state::State {
    /// The price at which a position becomes liquidatable, funding and ADL as of the current
    /// block, with the engine's own roundings: for a long the highest liquidation price (see
    /// [`crate::state::Market::liquidation_price`]) at which [`is_liquidatable`] holds, for a short
    /// the lowest. `None` when there is none (a long margined beyond its cost; a short whose
    /// liquidation price would be above 10^6 times the current one), or the position is empty.
    /// Found by bisection (at most 128 steps) on [`is_liquidatable`]: exact, since the check is
    /// monotonic in the price.
    pub fn liquidation_price(&self, id: PositionId) -> Result<Option<Price>, ExchangeError> {
        let pos = self
            .position(id)
            .ok_or(ExchangeError::UnknownPosition(id))?;
        let m = self
            .market(pos.market)
            .ok_or(ExchangeError::UnknownMarket(pos.market))?;
        let p = &self.market_params[pos.market as usize];
        let side = m.side(pos.is_long());
        if book::effective(pos, side)?.0 == 0 {
            return Ok(None);
        }
        let now = m.liquidation_price(pos.is_long()).max(1);
        // A figure that overflows at an absurd price counts as liquidatable there.
        let liq = |x: Price| is_liquidatable(p, side, pos, x).unwrap_or(true);
        let long = pos.is_long();
        let (mut lo, mut hi) = if long {
            (0, now)
        } else {
            (now, now.saturating_mul(1_000_000))
        };
        if long {
            if !liq(lo) {
                return Ok(None);
            }
            if liq(hi) {
                // Liquidatable now: search upward for where it stops.
                hi = now.saturating_mul(1_000_000);
                if liq(hi) {
                    return Ok(Some(hi));
                }
            }
        } else {
            if !liq(hi) {
                return Ok(None);
            }
            if liq(lo) {
                lo = 0;
                if liq(lo) {
                    return Ok(Some(0));
                }
            }
        }
        // Invariant: long: liq(lo) && !liq(hi); short: !liq(lo) && liq(hi).
        for _ in 0..128 {
            if hi - lo <= 1 {
                break;
            }
            let mid = lo + (hi - lo) / 2;
            if liq(mid) == long {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Ok(Some(if long { lo } else { hi }))
    }
}

/// Liquidate (one step of) a position.
pub fn liquidate(ctx: &mut Ctx, keeper: Address, id: PositionId) -> Result<(), ExchangeError> {
    let pos = ctx.position(id)?;
    let mut m = ctx.market(pos.market)?;
    if let MarketStatus::Delisted { .. } = m.status {
        return Err(ExchangeError::Delisted(m.id));
    }
    let p = ctx.params_snapshot(pos.market)?;
    let now = ctx.block.timestamp;
    if pos.last_liquidation_block == ctx.block.height && ctx.block.height != 0 {
        return Err(ExchangeError::LiquidationCooldown { position: id });
    }
    let long = pos.is_long();
    let price = m.liquidation_price(long);
    let (mut books, mut np, q, c) = touch(ctx, &mut m, pos)?;
    let debt = to_i128(np.funding_debt)?;
    let (eq, mm) = if q == 0 {
        (to_i128(np.margin)?.sub_c(debt)?, 0)
    } else {
        health(&p, q, c, np.margin, debt, price)?
    };
    if q == 0 || (eq >= 0 && eq.unsigned_abs() >= mm) {
        return Err(ExchangeError::NotLiquidatable {
            position: id,
            equity: eq,
            maintenance: mm,
        });
    }
    let close_abs = step_size(&p, q, price)?;
    let close_q = if long {
        -to_i128(close_abs)?
    } else {
        to_i128(close_abs)?
    };
    // The vault takes the part over at the risk price.
    let released = released_cost(c, close_abs, q.unsigned_abs())?;
    let proceeds = signed_value_floor(-close_q, price)?; // long: + value received; short: − value paid
    let realised = proceeds.sub_c(released)?;
    let mut mg = np.margin;
    books.settle_pnl(ctx, id, &mut mg, realised, true)?;
    // Funding debt before the penalty: the vault is paid what it is owed first.
    np.margin = mg;
    books.pay_debt(&mut np)?;
    mg = np.margin;
    if np.liquidation_started_at == 0 {
        np.liquidation_started_at = now;
    }
    let elapsed = now.saturating_sub(np.liquidation_started_at);
    let pen = penalty(&p, notional_up(close_q, price)?, mg, elapsed)?;
    mg -= pen.penalty;
    books.funds.insurance = books.funds.insurance.add_c(pen.to_insurance)?;
    ctx.credit(keeper, AZUSD, pen.keeper_reward)?;
    let q_left = q.add_c(close_q)?;
    let c_left = c.sub_c(released)?;
    let payout = leave_or_close(ctx, &mut books, &mut m, np, (q_left, c_left), mg)?;
    books.store(ctx);
    finish_market(ctx, &mut m, &p, Some(long), None)?;
    ctx.emit(Event::PositionLiquidated {
        position: id,
        keeper,
        price,
        closed_qty: close_q,
        remaining_qty: q_left,
        realised_pnl: realised,
        penalty: pen.penalty,
        keeper_reward: pen.keeper_reward,
        to_insurance: pen.to_insurance,
        equity_before: eq,
        maintenance_before: mm,
        payout,
    });
    Ok(())
}

/// Size of one liquidation step: the whole position when its notional is at most the step
/// notional, else `liquidation_step` of it (rounded up, at most the position).
fn step_size(p: &MarketParams, q: i128, price: u128) -> Result<u128, ExchangeError> {
    let notional = notional_up(q, price)?;
    Ok(if notional <= p.liquidation_step_notional {
        q.unsigned_abs()
    } else {
        mul_div_up_u128(q.unsigned_abs(), p.liquidation_step_wad, WAD)?.min(q.unsigned_abs())
    })
}

/// The liquidation penalty and its split.
struct Penalty {
    penalty: u128,
    keeper_reward: u128,
    to_insurance: u128,
}

/// The penalty on the closed notional, from what the margin has left, split by the Dutch
/// auction: the keeper's share grows with the seconds since the liquidation started.
fn penalty(
    p: &MarketParams,
    closed_notional: u128,
    margin: u128,
    elapsed_secs: u64,
) -> Result<Penalty, ExchangeError> {
    let penalty = mul_wad_up(closed_notional, p.liquidation_penalty_wad)?.min(margin);
    let share = p
        .keeper_share_start_wad
        .saturating_add(
            p.keeper_share_growth_per_sec_wad
                .saturating_mul(u128::from(elapsed_secs)),
        )
        .min(p.keeper_share_max_wad);
    let keeper_reward = mul_wad_down(penalty, share)?;
    Ok(Penalty {
        penalty,
        keeper_reward,
        to_insurance: penalty - keeper_reward,
    })
}

/// After a step: close the position (debts cleared, the rest of the margin paid to its owner)
/// if nothing is left of it, else store what is left. Returns the payout.
fn leave_or_close(
    ctx: &mut Ctx,
    books: &mut crate::handlers::trade::Books,
    m: &mut crate::state::Market,
    mut np: Position,
    (q_left, c_left): (i128, i128),
    mut mg: u128,
) -> Result<u128, ExchangeError> {
    let long = np.is_long();
    if q_left != 0 {
        let (qs, cs) = book::stored(q_left, c_left, m.side(long))?;
        np.qty = qs;
        np.cost = cs;
        np.margin = mg;
        np.last_liquidation_block = ctx.block.height;
        np.updated_at = ctx.block.timestamp;
        if np.qty != 0 {
            side_add(m.side_mut(long), &np)?;
            ctx.put_position(np);
            return Ok(0);
        }
    }
    books.clear_debt(ctx, &mut np, &mut mg)?;
    ctx.credit(np.owner, AZUSD, mg)?;
    ctx.remove_position(np.id);
    Ok(mg)
}
