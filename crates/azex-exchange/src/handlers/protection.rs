//! LP protection (docs/protocol.md §7, §8.4–§8.5): auto-deleveraging, the drawdown cap,
//! auto-delisting.
//!
//! Run automatically at every block end for every market (so protection never waits for a
//! keeper), and on demand by a keeper's `Deleverage` transaction (refused if nothing is needed).
//!
//! # ADL in one block, at a cost independent of the number of positions
//! A side is reduced by scaling its ADL scale (see [`crate::book`]): one multiplication touches
//! every position at once; each position's realised PnL is exact and is credited when it is next
//! touched. Triggers, each giving a kept fraction `f` of the winning side (the smallest wins):
//! 1. **Profit cap**: a side's unrealised profit above `adl_profit_cap × NAV` → keep
//!    `adl_profit_target × NAV / profit`.
//! 2. **Capacity**: the vault's total requirement above `NAV × max_utilisation` → shrink the
//!    dominant side (the side the vault is the counterparty of, whose gains it would pay) just
//!    enough for the requirement to fit (binary search on `f`, never below balance).
//! 3. **Drawdown cap**: the share price more than `max_drawdown` below its high-water mark →
//!    every market reduce-only, every dominant side cut down to balance (the vault then carries
//!    no direction), until the share price recovers to within half the cap — or, since with
//!    balanced books and no outside income it may never do that, until it has made no new low
//!    (beyond [`DRAWDOWN_NEW_LOW_WAD`]) for `drawdown_cooldown_secs` (at least the LP lock-up):
//!    then the high-water mark is **rebased** to the share price and markets reopen, on
//!    probation — for one more cool-down the cap (and the recovery band) is half as wide
//!    (docs/risk.md §4 argues why this cannot be gamed).
//!
//! Deleveraged positions are closed at the risk price with their PnL realised exactly, whatever
//! its sign: ADL removes the vault's exposure, it does not pick winners and losers. A side closed
//! entirely (kept fraction 0, or a scale that would fall below [`book::MIN_SCALE`]) starts a new
//! ADL epoch ([`crate::book`]): trading on it goes on; its old positions settle when touched, or
//! by anyone with `SettleDelisted`.
//!
//! # Auto-delisting
//! Spot depth below `min_spot_liquidity` makes a market reduce-only; `delist_after_blocks` such
//! blocks in a row delist it: no trading, every position settles at the risk price frozen at
//! delisting (`SettleDelisted`, anyone may send it), no fee, no impact. A delisted market may be
//! listed again (`Relist`) once all its positions are settled and its depth is back above the
//! listing minimum; its OI caps are derived again from the new depth.

use crate::book;
use crate::ctx::Ctx;
use crate::error::ExchangeError;
use crate::event::Event;
use crate::handlers::trade::{finish_market, touch};
use crate::ids::{MarketId, PositionId};
use crate::math::requirement;
use crate::params::MarketParams;
use crate::state::{Market, MarketStatus, AZUSD};
use crate::units::{
    mul_div_down_u128, mul_wad_down, notional_up, signed_value_floor, Checked, SignedUsd, Usd, WAD,
};
use alloy_primitives::Address;

/// The smallest cut ADL makes (1e-9 of a side).
const MIN_CUT: u128 = 1_000_000_000;

/// In drawdown mode, a share price this far (WAD, 0.1 %) below the low the cool-down started
/// from is a new low: the vault is still losing and the cool-down starts again. Smaller dips
/// (rounding, a small rebate) do not restart it, so nobody can hold the markets shut for ever
/// with dust.
pub(crate) const DRAWDOWN_NEW_LOW_WAD: u128 = WAD / 1_000;

/// Unrealised PnL of one side at the market's risk price (effective values).
fn side_upnl(m: &Market, long: bool) -> Result<SignedUsd, ExchangeError> {
    let s = m.side(long);
    let q = i128::try_from(s.eff_qty()?).map_err(|_| ExchangeError::Overflow)?;
    let v = signed_value_floor(if long { q } else { -q }, m.prices.risk)?;
    v.checked_sub(s.eff_cost()?)
        .ok_or_else(crate::error::overflow)
}

fn side_notional(m: &Market, long: bool) -> Result<Usd, ExchangeError> {
    notional_up(
        i128::try_from(m.side(long).eff_qty()?).map_err(|_| ExchangeError::Overflow)?,
        m.prices.risk,
    )
}

/// Kept fractions `(long, short)` the triggers ask for (WAD = keep all).
fn adl_need(ctx: &Ctx, m: &Market, p: &MarketParams) -> Result<(u128, u128), ExchangeError> {
    let r = ctx.vault_risk()?;
    let nav = r.nav.max(0).unsigned_abs();
    let mut keep = [WAD, WAD];
    let (ln, sn) = (side_notional(m, true)?, side_notional(m, false)?);
    for (i, long) in [(0usize, true), (1, false)] {
        let profit = side_upnl(m, long)?;
        if profit > 0 {
            let profit = profit.unsigned_abs();
            if profit > mul_wad_down(nav, p.adl_profit_cap_wad)? {
                let target = mul_wad_down(nav, p.adl_profit_target_wad)?;
                keep[i] = keep[i].min(mul_div_down_u128(target, WAD, profit)?);
            }
        }
    }
    let dominant_long = ln >= sn;
    let (dom_n, min_n) = if dominant_long { (ln, sn) } else { (sn, ln) };
    let di = if dominant_long { 0 } else { 1 };
    if dom_n > 0 {
        let balance_keep = mul_div_down_u128(min_n, WAD, dom_n)?;
        let usable = mul_wad_down(nav, ctx.s.params.max_vault_utilisation_wad)?;
        if r.required > usable {
            let mr = r
                .markets
                .get(m.id as usize)
                .map(|x| x.required)
                .unwrap_or(0);
            let others = r.required.saturating_sub(mr);
            let req_at = |k: u128| -> Result<Usd, ExchangeError> {
                let d = mul_div_down_u128(dom_n, k, WAD)?;
                let (l, s) = if dominant_long {
                    (d, min_n)
                } else {
                    (min_n, d)
                };
                Ok(others.saturating_add(requirement::net_requirement(l, s, p)?))
            };
            // Cut to 1 % below the limit (hysteresis): rounding in later NAV figures then cannot
            // re-trigger a dust cut in the same state.
            let target = mul_wad_down(usable, WAD - WAD / 100)?;
            let k = if req_at(balance_keep)? > target {
                balance_keep
            } else {
                // Largest k in [balance_keep, WAD] with req_at(k) ≤ target.
                let (mut lo, mut hi) = (balance_keep, WAD);
                while hi - lo > 1 {
                    let mid = lo + (hi - lo) / 2;
                    if req_at(mid)? <= target {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                lo
            };
            keep[di] = keep[di].min(k);
        }
        if ctx.vault().drawdown_mode {
            keep[di] = keep[di].min(balance_keep);
        }
    }
    Ok((keep[0], keep[1]))
}

/// Deleverage one market if any trigger asks for it. Returns whether anything was done.
pub(crate) fn deleverage(ctx: &mut Ctx, id: MarketId) -> Result<bool, ExchangeError> {
    let mut m = ctx.market(id)?;
    if let MarketStatus::Delisted { .. } = m.status {
        return Ok(false);
    }
    let p = ctx.params_snapshot(id)?;
    let (kl, ks) = adl_need(ctx, &m, &p)?;
    // A cut of less than one part in a billion is rounding, not risk: nothing to do.
    let (kl, ks) = (
        if kl >= WAD - MIN_CUT { WAD } else { kl },
        if ks >= WAD - MIN_CUT { WAD } else { ks },
    );
    if kl >= WAD && ks >= WAD {
        return Ok(false);
    }
    let price = m.prices.risk;
    let next_id = next_position_id(ctx);
    for (long, keep) in [(true, kl), (false, ks)] {
        if keep >= WAD || m.side(long).qty == 0 {
            continue;
        }
        let before = m.side(long).eff_qty()?;
        let upnl = side_upnl(&m, long)?;
        let positions = m.side(long).current_positions();
        // keep_wad 0 in the event: the side was closed entirely (a new epoch starts).
        let cut = book::apply_adl(m.side_mut(long), keep, price, next_id)?;
        let after = m.side(long).eff_qty()?;
        ctx.emit(Event::Deleveraged {
            market: id,
            long_side: long,
            keep_wad: cut.keep_wad,
            price,
            qty_before: before,
            qty_after: after,
            positions,
            realised_pnl: upnl - side_upnl(&m, long)?,
        });
    }
    if waiting_for_epoch(&m) && m.status == MarketStatus::Active {
        // Closed entirely with every ended-epoch slot in use: no new exposure until one frees.
        set_status(ctx, &mut m, MarketStatus::ReduceOnly);
    }
    finish_market(ctx, &mut m, &p, None, None)?;
    Ok(true)
}

/// The id the next position will get: the first of a new epoch.
fn next_position_id(ctx: &Ctx) -> PositionId {
    ctx.fx.next_position_id.unwrap_or(ctx.s.next_position_id)
}

/// A side of the market was closed entirely by ADL and waits for a free ended-epoch slot.
fn waiting_for_epoch(m: &Market) -> bool {
    m.long.waiting_for_epoch() || m.short.waiting_for_epoch()
}

/// The keeper's `Deleverage` transaction.
pub(crate) fn deleverage_tx(ctx: &mut Ctx, id: MarketId) -> Result<(), ExchangeError> {
    if deleverage(ctx, id)? {
        Ok(())
    } else {
        Err(ExchangeError::NothingToDeleverage(id))
    }
}

fn set_status(ctx: &mut Ctx, m: &mut Market, status: MarketStatus) {
    if m.status != status {
        m.status = status;
        ctx.emit(Event::MarketStatusChanged {
            market: m.id,
            status: format!("{status:?}"),
        });
    }
}

/// Freeze a market's prices at its risk price, if not frozen yet: once spot depth is gone,
/// arbitrage no longer defends the oracle, so nothing may be priced from it (docs/protocol.md
/// §8.5).
fn freeze(m: &mut Market) {
    if m.frozen_price == 0 {
        m.frozen_price = m.prices.risk;
        m.prices.spot = m.frozen_price;
        m.thaw_spot = 0;
        m.thaw_risk = 0;
    }
}

/// A transaction left a market's spot depth at `depth`: below the stop-trading level `min`, the
/// market becomes reduce-only and its prices freeze at once, in this transaction (the
/// delisting count starts at this block's end).
pub(crate) fn on_low_depth(
    ctx: &mut Ctx,
    m: &mut Market,
    p: &MarketParams,
    depth: Usd,
) -> Result<(), ExchangeError> {
    if matches!(m.status, MarketStatus::Delisted { .. }) {
        return Ok(());
    }
    let band = ctx.s.spot.hook().default_params().depth_band_ticks;
    if depth >= p.min_spot_liquidity
        && crate::handlers::listing::depth_defends(m, p, depth, band, &ctx.s.params)?
    {
        return Ok(());
    }
    freeze(m);
    set_status(ctx, m, MarketStatus::ReduceOnly);
    Ok(())
}

/// The drawdown cap at a block end, against the high-water mark of the share price: trip it
/// (markets reduce-only, dominant sides cut to balance), recover when the share price is back
/// within half the cap, or rebase the high-water mark after a cool-down with no new low.
/// Returns whether the vault is in drawdown mode after it.
fn drawdown(ctx: &mut Ctx) -> Result<bool, ExchangeError> {
    let r = ctx.vault_risk()?;
    let mut v = ctx.vault();
    if v.shares == 0 {
        return Ok(v.drawdown_mode);
    }
    let now = ctx.block.timestamp;
    let price = if r.nav > 0 {
        mul_div_down_u128(r.nav.unsigned_abs(), WAD, v.shares)?
    } else {
        0
    };
    if price > v.high_water_share_price {
        v.high_water_share_price = price;
    }
    let cap = ctx.s.params.max_drawdown_wad;
    let cooldown = ctx
        .s
        .params
        .drawdown_cooldown_secs
        .max(ctx.s.params.lp_lockup_secs);
    // Probation: for one cool-down after a rebase the cap is half as wide.
    let on_probation =
        v.drawdown_rebased_at != 0 && now < v.drawdown_rebased_at.saturating_add(cooldown);
    let trip_at = if on_probation { cap / 2 } else { cap };
    let floor = mul_wad_down(v.high_water_share_price, WAD - trip_at)?;
    // Back within half the (current) cap: the same hysteresis on probation as off it.
    let recover = mul_wad_down(v.high_water_share_price, WAD - trip_at / 2)?;
    if !v.drawdown_mode {
        if price < floor {
            v.drawdown_mode = true;
            v.drawdown_low_share_price = price;
            v.drawdown_low_at = now;
            ctx.emit(Event::DrawdownCapHit {
                share_price: price,
                high_water: v.high_water_share_price,
            });
        }
    } else if price >= recover {
        v.drawdown_mode = false;
        ctx.emit(Event::DrawdownRecovered {
            share_price: price,
            high_water: v.high_water_share_price,
        });
    } else if price < mul_wad_down(v.drawdown_low_share_price, WAD - DRAWDOWN_NEW_LOW_WAD)? {
        // Still losing: the cool-down starts again from this new low.
        v.drawdown_low_share_price = price;
        v.drawdown_low_at = now;
    } else if price > 0 && now >= v.drawdown_low_at.saturating_add(cooldown) {
        // No new low for a whole cool-down: rebase. No money moves and no share price changes;
        // the cap now measures losses from here (DrawdownRecovered carries the new mark).
        v.drawdown_mode = false;
        v.high_water_share_price = price;
        v.drawdown_rebased_at = now;
        ctx.emit(Event::DrawdownRecovered {
            share_price: price,
            high_water: price,
        });
    }
    let mode = v.drawdown_mode;
    ctx.put_vault(v);
    Ok(mode)
}

/// Block end: drawdown cap, delisting, ADL for every market.
pub(crate) fn end_block(ctx: &mut Ctx) -> Result<(), ExchangeError> {
    let drawdown = drawdown(ctx)?;
    let next_id = next_position_id(ctx);
    for id in crate::ids::market_ids(ctx.market_count()) {
        let mut m = ctx.market(id)?;
        let p = ctx.params_snapshot(id)?;
        if !matches!(m.status, MarketStatus::Delisted { .. }) {
            // A side closed entirely while every ended-epoch slot was in use starts its new
            // epoch as soon as a slot is free.
            for long in [true, false] {
                book::new_epoch(m.side_mut(long), next_id)?;
            }
            // The pool's depth now, after this block's transactions (not the block-start figure).
            let depth = crate::spot_link::spot_liquidity(ctx.s, &m)?;
            let band = ctx.s.spot.hook().default_params().depth_band_ticks;
            if depth < p.min_spot_liquidity {
                m.low_depth_blocks = m.low_depth_blocks.saturating_add(1);
                freeze(&mut m);
            } else if !crate::handlers::listing::depth_defends(&m, &p, depth, band, &ctx.s.params)?
            {
                // Depth left, but too little to defend the oracle for this OI: frozen and
                // reduce-only as without depth (not counted toward delisting).
                m.low_depth_blocks = 0;
                freeze(&mut m);
            } else {
                m.low_depth_blocks = 0;
                // Depth is back: the prices walk back to the live oracle's, one bound a block.
                crate::handlers::price_guard::start_thaw(&mut m);
            }
            let status = if m.low_depth_blocks >= p.delist_after_blocks {
                MarketStatus::Delisted {
                    settlement_price: m.prices.risk,
                }
            } else if drawdown
                || m.low_depth_blocks > 0
                || m.frozen_price != 0
                || waiting_for_epoch(&m)
            {
                MarketStatus::ReduceOnly
            } else {
                MarketStatus::Active
            };
            set_status(ctx, &mut m, status);
            if let MarketStatus::Delisted { .. } = m.status {
                m.funding_rate_per_day_wad = 0;
            }
            ctx.put_market(m)?;
        }
        deleverage(ctx, id)?;
    }
    Ok(())
}

/// Settle a position that has nothing left to trade, for its owner (anyone may send it): a
/// position of a delisted market, at the settlement price (no fee, no impact), or a position
/// whose ADL epoch ended (ADL closed its side entirely: size 0, its ADL PnL and funding up to
/// the epoch's end are credited, its margin paid out).
pub(crate) fn settle_delisted(ctx: &mut Ctx, id: PositionId) -> Result<(), ExchangeError> {
    let pos = ctx.position(id)?;
    let mut m = ctx.market(pos.market)?;
    let settlement_price = match m.status {
        MarketStatus::Delisted { settlement_price } => settlement_price,
        _ if book::is_ended(&pos, m.side(pos.is_long())) => m.prices.risk,
        _ => return Err(ExchangeError::NotDelisted(m.id)),
    };
    let (mut books, mut np, q, c) = touch(ctx, &mut m, pos)?;
    let realised = signed_value_floor(q, settlement_price)?.sub_c(c)?;
    let mut mg = np.margin;
    books.settle_pnl(ctx, id, &mut mg, realised, true)?;
    books.clear_debt(ctx, &mut np, &mut mg)?;
    books.store(ctx);
    ctx.credit(np.owner, AZUSD, mg)?;
    ctx.remove_position(id);
    ctx.put_market(m)?;
    ctx.emit(Event::PositionSettled {
        position: id,
        owner: np.owner,
        price: settlement_price,
        realised_pnl: realised,
        payout: mg,
    });
    Ok(())
}

/// List a delisted market again.
pub(crate) fn relist(ctx: &mut Ctx, user: Address, id: MarketId) -> Result<(), ExchangeError> {
    let mut m = ctx.market(id)?;
    if !matches!(m.status, MarketStatus::Delisted { .. }) {
        return Err(ExchangeError::NotDelisted(id));
    }
    if m.long.positions + m.short.positions > 0 {
        return Err(ExchangeError::RelistRefused {
            market: id,
            reason: "positions are still open".into(),
        });
    }
    let depth = m.prices.spot_liquidity;
    if depth < ctx.s.params.min_listing_depth {
        return Err(ExchangeError::RelistRefused {
            market: id,
            reason: format!(
                "depth {depth} below the listing minimum {}",
                ctx.s.params.min_listing_depth
            ),
        });
    }
    let band = ctx.s.spot.hook().default_params().depth_band_ticks;
    let p = crate::handlers::listing::listed_params(depth, m.pool_key.fee, band, &ctx.s.params)?;
    m.clamp_u_wad = crate::handlers::listing::clamp_of(&p)?;
    m.low_depth_blocks = 0;
    m.frozen_price = 0;
    m.thaw_spot = 0;
    m.thaw_risk = 0;
    // Listed again: a new warm-up, as at listing.
    m.settled_at = crate::handlers::price_guard::settles_at(ctx.block.timestamp, &ctx.s.params);
    m.status = MarketStatus::Active;
    // Fresh sides: every position has been settled, so nothing refers to the old scales.
    m.long = crate::state::Side {
        is_long: true,
        funding_index: m.long.funding_index,
        ..crate::state::Side::new()
    };
    m.short = crate::state::Side {
        is_long: false,
        funding_index: m.short.funding_index,
        ..crate::state::Side::new()
    };
    ctx.fx.params_updates.push((id, p));
    ctx.put_market(m)?;
    ctx.emit(Event::MarketStatusChanged {
        market: id,
        status: format!("Active (relisted by {user})"),
    });
    Ok(())
}
