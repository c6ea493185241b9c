//! Perpetual positions: open, grow, reduce, close, margin (docs/protocol.md §4–§6, §9).
//!
//! Every trade, in order:
//! 1. bring the position up to date: ADL PnL, then funding (what the margin cannot pay stays as
//!    the position's funding debt, counted in its equity everywhere);
//! 2. price it on the (clamped) mark curve from the market's net **with the position in it**,
//!    around the base price `B` (the less favourable to the trader of truncated spot and TWAP)
//!    and the block's impact capacity `C`: `cost = B × Δ + charge − rebate` (math::mark); the
//!    rebate is `rebate_factor × curve rebate`, netted against the charge and capped by the
//!    market's impact pool;
//! 3. check the trader's price bound (a sell's on its proceeds per unit), and for trades that
//!    grow a position the premium cap (OI tied to depth) and the side's OI cap;
//! 4. a reduction settles its price PnL and rebate against the vault (a loss beyond the margin
//!    goes down the waterfall: insurance fund, then the vault), then the funding debt, then the
//!    impact charge up to what is left (the rest is waived: never a deficit);
//! 5. take the taker fee from the margin (LP share to the vault, the rest to the treasury);
//! 6. check initial margin on anything that grew, then the vault capacity rule;
//! 7. update the per-side aggregates (remove the old position, add the new).
//!
//! The funding rate is not touched by a trade: time does not pass inside a block, so only the
//! skew at the block's end matters for the next accrual; `block::end` sets it then.

use crate::book::{self, side_add, side_remove};
use crate::ctx::Ctx;
use crate::error::ExchangeError;
use crate::event::{DeficitPayer, Event, TradePricing};
use crate::ids::{MarketId, PositionId};
use crate::math::{funding, margin, mark};
use crate::params::MarketParams;
use crate::state::{Market, MarketStatus, Position, ProtocolFunds, Vault};
use crate::units::{
    mul_wad_down, mul_wad_up, notional_down_up, notional_up, to_i128, Checked, Price, Qty,
    SignedUsd, Usd,
};
use alloy_primitives::Address;

/// The money that moves in one transaction between a position, the vault and protocol funds.
pub(crate) struct Books {
    pub vault: Vault,
    pub funds: ProtocolFunds,
}

impl Books {
    pub(crate) fn load(ctx: &Ctx) -> Self {
        Books {
            vault: ctx.vault(),
            funds: ctx.funds(),
        }
    }
    pub(crate) fn store(self, ctx: &mut Ctx) {
        ctx.put_vault(self.vault);
        ctx.put_funds(self.funds);
    }

    /// Settle a signed PnL between a position's margin and the vault. A loss beyond the margin
    /// goes down the waterfall: insurance fund, then the vault absorbs it.
    /// `trading_pnl`: book it as traders' PnL (false for funding, which is booked separately).
    pub(crate) fn settle_pnl(
        &mut self,
        ctx: &mut Ctx,
        position: PositionId,
        margin: &mut Usd,
        pnl: SignedUsd,
        trading_pnl: bool,
    ) -> Result<(), ExchangeError> {
        if pnl >= 0 {
            let gain = pnl.unsigned_abs();
            if self.vault.cash < gain {
                return Err(ExchangeError::VaultCashShort {
                    cash: self.vault.cash,
                    need: gain,
                });
            }
            self.vault.cash -= gain;
            if trading_pnl {
                self.vault.trader_pnl_paid = self.vault.trader_pnl_paid.add_c(pnl)?;
            }
            *margin = margin.add_c(gain)?;
        } else {
            let loss = pnl.unsigned_abs();
            let from_margin = loss.min(*margin);
            *margin -= from_margin;
            self.vault.cash = self.vault.cash.add_c(from_margin)?;
            if trading_pnl {
                self.vault.trader_pnl_paid =
                    self.vault.trader_pnl_paid.sub_c(to_i128(from_margin)?)?;
            }
            let shortfall = loss - from_margin;
            if shortfall > 0 {
                self.cover_deficit(ctx, position, shortfall)?;
            }
        }
        Ok(())
    }

    /// The loss waterfall after the position's margin: insurance fund, then the vault.
    pub(crate) fn cover_deficit(
        &mut self,
        ctx: &mut Ctx,
        position: PositionId,
        deficit: Usd,
    ) -> Result<(), ExchangeError> {
        let from_insurance = deficit.min(self.funds.insurance);
        if from_insurance > 0 {
            self.funds.insurance -= from_insurance;
            self.vault.cash = self.vault.cash.add_c(from_insurance)?;
            ctx.emit(Event::DeficitCovered {
                position,
                payer: DeficitPayer::InsuranceFund,
                amount: from_insurance,
            });
        }
        let rest = deficit - from_insurance;
        if rest > 0 {
            // The vault was owed `rest` and does not get it: that is its loss. No azUSD moves.
            ctx.emit(Event::DeficitCovered {
                position,
                payer: DeficitPayer::Vault,
                amount: rest,
            });
        }
        Ok(())
    }

    /// Pay a position's funding debt from its margin, as far as the margin goes.
    pub(crate) fn pay_debt(&mut self, p: &mut Position) -> Result<(), ExchangeError> {
        let pay = p.funding_debt.min(p.margin);
        if pay > 0 {
            p.margin -= pay;
            p.funding_debt -= pay;
            self.vault.cash = self.vault.cash.add_c(pay)?;
        }
        Ok(())
    }

    /// At a position's end (closed, liquidated to zero, settled): pay its funding debt from the
    /// margin, and what the margin cannot pay goes down the loss waterfall.
    pub(crate) fn clear_debt(
        &mut self,
        ctx: &mut Ctx,
        p: &mut Position,
        margin: &mut Usd,
    ) -> Result<(), ExchangeError> {
        let pay = p.funding_debt.min(*margin);
        *margin -= pay;
        self.vault.cash = self.vault.cash.add_c(pay)?;
        let rest = p.funding_debt - pay;
        p.funding_debt = 0;
        if rest > 0 {
            self.cover_deficit(ctx, p.id, rest)?;
        }
        Ok(())
    }

    /// Collect up to `charge` of impact from a margin into the vault (traders' PnL); returns what
    /// was collected. What the margin cannot pay is waived: never a deficit (docs/protocol.md
    /// §4.7).
    pub(crate) fn collect_charge(
        &mut self,
        margin: &mut Usd,
        charge: Usd,
    ) -> Result<Usd, ExchangeError> {
        let got = charge.min(*margin);
        *margin -= got;
        self.vault.cash = self.vault.cash.add_c(got)?;
        self.vault.trader_pnl_paid = self.vault.trader_pnl_paid.sub_c(to_i128(got)?)?;
        Ok(got)
    }

    /// Take a fee from a margin (capped at the margin) and split it between vault and treasury.
    pub(crate) fn take_fee(
        &mut self,
        margin: &mut Usd,
        fee: Usd,
        lp_share_wad: u128,
    ) -> Result<Usd, ExchangeError> {
        let fee = fee.min(*margin);
        *margin -= fee;
        let to_vault = mul_wad_down(fee, lp_share_wad)?;
        self.vault.cash = self.vault.cash.add_c(to_vault)?;
        self.vault.fees_earned = self.vault.fees_earned.add_c(to_vault)?;
        self.funds.treasury = self.funds.treasury.add_c(fee - to_vault)?;
        Ok(fee)
    }
}

/// Bring a position up to date with its side: credit any ADL PnL it has not received yet, then
/// settle its funding, both against the vault. Funding the margin cannot pay is not written off:
/// it stays on the position as `funding_debt` (counted in its equity everywhere) and is paid
/// from the margin as soon as there is some (docs/protocol.md §9.4). Call with the position removed
/// from the side's aggregates (and add it back afterwards).
pub(crate) fn sync_position(
    ctx: &mut Ctx,
    books: &mut Books,
    m: &Market,
    p: &mut Position,
) -> Result<(), ExchangeError> {
    let side = m.side(p.is_long());
    // ADL PnL and funding since the last sync (for a position of an ended ADL epoch: up to the
    // epoch's end); moves the position's entries to now.
    let book::Synced {
        adl_pnl: adl,
        funding_owed: owed,
    } = book::sync(p, side)?;
    if adl != 0 {
        let mut margin = p.margin;
        books.settle_pnl(ctx, p.id, &mut margin, adl, true)?;
        p.margin = margin;
        ctx.emit(Event::AdlSettled {
            position: p.id,
            realised_pnl: adl,
        });
    }
    if owed != 0 {
        books.vault.funding_earned = books.vault.funding_earned.add_c(owed)?;
        if owed > 0 {
            p.funding_debt = p.funding_debt.add_c(owed.unsigned_abs())?;
        } else {
            // Received funding first cancels debt, the rest is paid into the margin.
            let due = owed.unsigned_abs();
            let cancel = due.min(p.funding_debt);
            p.funding_debt -= cancel;
            let mut margin = p.margin;
            books.settle_pnl(ctx, p.id, &mut margin, to_i128(due - cancel)?, false)?;
            p.margin = margin;
        }
    }
    let debt_before = p.funding_debt;
    books.pay_debt(p)?;
    if owed != 0 || debt_before != p.funding_debt {
        ctx.emit(Event::FundingSettled {
            position: p.id,
            amount: owed,
            debt_after: p.funding_debt,
        });
    }
    Ok(())
}

/// The common start of every transaction on an existing position: take it out of its side's
/// aggregates and bring it up to date (ADL PnL, then funding). Returns the money books, the
/// synced position (to be added back, changed, by the caller) and its effective size and cost.
pub(crate) fn touch(
    ctx: &mut Ctx,
    m: &mut Market,
    pos: Position,
) -> Result<(Books, Position, Qty, SignedUsd), ExchangeError> {
    let long = pos.is_long();
    let mut books = Books::load(ctx);
    side_remove(m.side_mut(long), &pos)?;
    let mut np = pos;
    sync_position(ctx, &mut books, m, &mut np)?;
    let (q, c) = book::effective(&np, m.side(long))?;
    Ok((books, np, q, c))
}

/// Accrue a market's funding from its last accrual to `now` at the rate in force.
pub(crate) fn accrue_funding(m: &mut Market, now: u64) -> Result<(), ExchangeError> {
    let dt = now.saturating_sub(m.last_funding_time);
    if dt > 0 && m.funding_rate_per_day_wad != 0 && m.prices.spot > 0 {
        let (up, down) =
            funding::index_deltas(m.funding_rate_per_day_wad.unsigned_abs(), m.prices.spot, dt)?;
        let longs_pay = m.funding_rate_per_day_wad > 0;
        let (payer, receiver) = if longs_pay {
            (&mut m.long, &mut m.short)
        } else {
            (&mut m.short, &mut m.long)
        };
        payer.funding_index = payer
            .funding_index
            .add_c(book::funding_step_up(up, payer.scale)?)?;
        receiver.funding_index = receiver
            .funding_index
            .sub_c(book::funding_step_down(down, receiver.scale)?)?;
    }
    m.last_funding_time = m.last_funding_time.max(now);
    Ok(())
}

/// The impact capacity of a market given the vault's free liquidity. Set once per block, at its
/// start ([`crate::handlers::block::begin`]); trades read `m.prices.capacity`.
pub(crate) fn capacity(
    m: &Market,
    p: &MarketParams,
    free_liquidity: Usd,
) -> Result<Usd, ExchangeError> {
    mark::impact_capacity(p.k1_wad, m.prices.spot_liquidity, p.k2_wad, free_liquidity)
}

pub(crate) fn curve(p: &MarketParams) -> mark::ImpactCurve {
    mark::ImpactCurve {
        alpha_wad: p.alpha_wad,
        beta_wad: p.beta_wad,
    }
}

/// The market's signed mark premium at its spot and block capacity, clamped at the cap.
pub(crate) fn premium_now(m: &Market, p: &MarketParams, net: Qty) -> Result<i128, ExchangeError> {
    mark::clamped_signed_premium_wad(
        curve(p),
        net,
        m.prices.spot,
        m.prices.capacity,
        p.max_premium_wad,
    )
}

/// Recompute the funding rate from the market's current skew (block capacity).
pub(crate) fn refresh_funding_rate(m: &mut Market, p: &MarketParams) -> Result<(), ExchangeError> {
    let prem = premium_now(m, p, m.net_qty()?)?;
    m.funding_rate_per_day_wad =
        funding::rate_per_day_wad(prem, p.funding_factor_wad, p.max_funding_rate_per_day_wad)?;
    Ok(())
}

/// Outcome of pricing a trade. `charge` and `rebate` are net of each other (one is zero): a
/// trade that crosses zero nets the rebate of its first part against the charge of its second.
struct Priced {
    /// `|delta| × B` rounded down and up.
    notional: (Usd, Usd),
    /// `B × delta`, rounded toward +∞ (what the trader owes).
    spot_cost: SignedUsd,
    /// `spot_cost + charge − rebate`.
    cost: SignedUsd,
    avg_price: Price,
    fee: Usd,
    charge: Usd,
    rebate: Usd,
    pricing: TradePricing,
}

/// Price a trade of `delta` on market `m` whose net before the trade is `n0` (every open position
/// included, the trading one too: docs/protocol.md §4.5). Does not touch the impact pool: the
/// caller books what is collected ([`book_impact`]).
/// `growing`: the trade grows a position. Only such trades are held to the premium cap; reducing
/// or closing is always priced, on the clamped curve (at most the capped premium per unit).
fn price_trade(
    m: &Market,
    p: &MarketParams,
    n0: Qty,
    delta: Qty,
    bound: Price,
    growing: bool,
) -> Result<Priced, ExchangeError> {
    let b = m.execution_price(delta > 0);
    let cap = m.prices.capacity;
    let n1 = n0.add_c(delta)?;
    let grows_net = n1.unsigned_abs() > n0.unsigned_abs();
    let held_to_cap = growing && grows_net;
    if held_to_cap && cap == 0 {
        return Err(ExchangeError::NoImpactCapacity(m.id));
    }
    let far = if grows_net { n1 } else { n0 };
    let imp = if !mark::beyond_clamp(far, b, cap, m.clamp_u_wad) {
        let (imp, end) = mark::impact_with_end(curve(p), n0, n1, b, cap)?;
        if held_to_cap {
            if let Some(prem) = mark::premium_above_cap(curve(p), end, p.max_premium_wad)? {
                return Err(cap_exceeded(m, p, prem));
            }
        }
        imp
    } else {
        if held_to_cap {
            let prem = mark::premium_wad(
                curve(p),
                mark::utilisation(n1, b, cap, azex_math::Rounding::Up)?,
            )?;
            if prem > p.max_premium_wad {
                return Err(cap_exceeded(m, p, prem));
            }
        }
        mark::impact_clamped(curve(p), n0, n1, b, cap, m.clamp_u_wad)?
    };
    // The rebate is scaled by the rebate factor, netted against the charge, and what is left of
    // it is capped by the impact pool: the market never pays out more impact than it took.
    let rebate_gross = mul_wad_down(imp.rebate, p.rebate_factor_wad)?;
    let (charge, rebate) = if imp.charge >= rebate_gross {
        (imp.charge - rebate_gross, 0)
    } else {
        (0, (rebate_gross - imp.charge).min(m.impact_pool))
    };
    // One multiplication gives the spot cost (rounded toward +∞ on what the trader owes: up for
    // a buy, down for the proceeds of a sell), the volume and the fee base.
    let (n_down, n_up) = notional_down_up(delta, b)?;
    let spot_cost = if delta >= 0 {
        to_i128(n_up)?
    } else {
        -to_i128(n_down)?
    };
    let cost = spot_cost.add_c(to_i128(charge)?)?.sub_c(to_i128(rebate)?)?;
    let avg_price = mark::average_price(delta, cost)?;
    // A buy's bound is on what it pays per unit, a sell's on what it receives per unit (a sell
    // whose charge exceeds its proceeds receives nothing: price 0).
    if (delta > 0 && avg_price > bound) || (delta < 0 && avg_price < bound) {
        return Err(ExchangeError::PriceBoundExceeded {
            price: avg_price,
            bound,
        });
    }
    let fee = mul_wad_up(n_up, p.taker_fee_wad)?;
    // The premium after the trade is set by `finish_market` ([`record_after`]).
    let prem0 = m.premium_wad;
    Ok(Priced {
        notional: (n_down, n_up),
        spot_cost,
        cost,
        avg_price,
        fee,
        charge,
        rebate,
        pricing: TradePricing {
            price: b,
            capacity: cap,
            free_liquidity: m.prices.free_liquidity,
            net_before: n0,
            net_after: n1,
            premium_before_wad: prem0,
            premium_after_wad: prem0,
            mark_before: mark::apply_premium(m.prices.spot, prem0)?,
            mark_after: 0,
            charge_waived: 0,
            impact_pool_after: m.impact_pool,
        },
    })
}

/// Fill in a pricing record's figures after the trade from the written market.
fn record_after(pricing: &mut TradePricing, m: &Market) -> Result<(), ExchangeError> {
    pricing.premium_after_wad = m.premium_wad;
    pricing.mark_after = mark::apply_premium(m.prices.spot, m.premium_wad)?;
    Ok(())
}

fn cap_exceeded(m: &Market, p: &MarketParams, prem: u128) -> ExchangeError {
    ExchangeError::ImpactCapExceeded {
        market: m.id,
        impact_wad: prem,
        cap_wad: p.max_premium_wad,
    }
}

/// Book a priced trade's impact in the market: the rebate paid out of the pool, and `collected`
/// of its charge (all of it for a trade that opens or grows, whose cost basis carries it; up to
/// what the position holds for one that reduces). Volume too.
fn book_impact(m: &mut Market, priced: &mut Priced, collected: Usd) -> Result<(), ExchangeError> {
    debug_assert!(collected <= priced.charge);
    m.impact_pool = m.impact_pool.add_c(collected)?.sub_c(priced.rebate)?;
    m.volume = m.volume.add_c(priced.notional.0)?;
    priced.pricing.charge_waived = priced.charge - collected;
    priced.charge = collected;
    priced.pricing.impact_pool_after = m.impact_pool;
    Ok(())
}

/// Equity (funding debt counted) must cover initial margin at `price` (effective size and cost
/// given).
fn check_initial_margin(
    p: &MarketParams,
    qty: Qty,
    cost: SignedUsd,
    margin_amt: Usd,
    debt: Usd,
    price: Price,
) -> Result<(), ExchangeError> {
    check_initial_margin_n(
        p,
        qty,
        cost,
        margin_amt,
        debt,
        notional_down_up(qty, price)?,
    )
}

/// [`check_initial_margin`] given `|qty| × price` rounded down and up.
fn check_initial_margin_n(
    p: &MarketParams,
    qty: Qty,
    cost: SignedUsd,
    margin_amt: Usd,
    debt: Usd,
    (n_down, n_up): (Usd, Usd),
) -> Result<(), ExchangeError> {
    // uPnL rounded toward −∞: value of a long rounded down, of a short −(rounded up).
    let value = if qty >= 0 {
        to_i128(n_down)?
    } else {
        -to_i128(n_up)?
    };
    let upnl = value.sub_c(cost)?;
    let close_fee = mul_wad_up(n_up, p.taker_fee_wad)?;
    let eq = margin::equity(margin_amt, upnl, to_i128(debt)?, close_fee)?;
    let im = margin::initial_margin_of_notional(p, n_up, cost)?;
    if eq < 0 || eq.unsigned_abs() < im {
        return Err(ExchangeError::InitialMarginNotMet {
            equity: eq,
            required: im,
        });
    }
    Ok(())
}

fn check_oi_cap(ctx: &Ctx, m: &Market, p: &MarketParams, long: bool) -> Result<(), ExchangeError> {
    let oi = notional_up(
        i128::try_from(m.side(long).eff_qty()?).map_err(|_| ExchangeError::Overflow)?,
        m.prices.spot,
    )?;
    let band = ctx.s.spot.hook().default_params().depth_band_ticks;
    let cap = crate::handlers::listing::oi_cap_now(m, p, band, &ctx.s.params)?;
    if oi > cap {
        return Err(ExchangeError::OpenInterestCapExceeded {
            market: m.id,
            oi,
            cap,
        });
    }
    Ok(())
}

fn check_tradeable(m: &Market, growing: bool, now: u64) -> Result<(), ExchangeError> {
    match m.status {
        MarketStatus::Active if growing => crate::handlers::price_guard::check_new_exposure(m, now),
        MarketStatus::Active => Ok(()),
        MarketStatus::ReduceOnly if !growing => Ok(()),
        MarketStatus::ReduceOnly => Err(ExchangeError::ReduceOnly(m.id)),
        MarketStatus::Delisted { .. } => Err(ExchangeError::Delisted(m.id)),
    }
}

fn owned(ctx: &Ctx, user: Address, id: PositionId) -> Result<Position, ExchangeError> {
    let p = ctx.position(id)?;
    if p.owner != user {
        return Err(ExchangeError::NotPositionOwner {
            caller: user,
            position: id,
        });
    }
    Ok(p)
}

/// The common end of every transaction that changes a market's open interest: refresh the
/// market's cached risk figures (only those of side `changed_side` when the transaction touched
/// one side alone), apply the capacity rule if the transaction grew exposure
/// (`required_before` = `Some`), write the market. (The funding rate is set once per block, at
/// its end, from the block's final skew: see [`crate::handlers::block::end`].)
pub(crate) fn finish_market(
    ctx: &mut Ctx,
    m: &mut Market,
    p: &MarketParams,
    changed_side: Option<bool>,
    required_before: Option<Usd>,
) -> Result<(), ExchangeError> {
    m.risk = match changed_side {
        Some(long) => crate::risk::market_risk_one_side(m, p, &m.risk, long)?,
        None => crate::risk::market_risk(m, p)?,
    };
    m.premium_wad = premium_now(m, p, m.net_qty()?)?;
    if let Some(r) = required_before {
        let after = ctx.vault_totals_with(Some(m))?;
        ctx.check_capacity_of(&after, r)?;
    }
    ctx.put_market_with_risk(*m)
}

/// Open a new isolated position.
pub(crate) fn open(
    ctx: &mut Ctx,
    user: Address,
    market: MarketId,
    qty: Qty,
    margin_in: Usd,
    bound: Price,
) -> Result<PositionId, ExchangeError> {
    if qty == 0 || margin_in == 0 {
        return Err(ExchangeError::ZeroAmount);
    }
    let mut m = ctx.market(market)?;
    check_tradeable(&m, true, ctx.block.timestamp)?;
    let p = ctx.params_snapshot(market)?;
    let before = ctx.vault_totals()?;
    ctx.debit(user, crate::state::AZUSD, margin_in)?;

    let mut priced = price_trade(&m, &p, m.net_qty()?, qty, bound, true)?;
    let notional = priced.notional.0;
    if notional < p.min_position_notional {
        return Err(ExchangeError::PositionTooSmall {
            notional,
            minimum: p.min_position_notional,
        });
    }
    let charge = priced.charge;
    book_impact(&mut m, &mut priced, charge)?;
    let mut books = Books::load(ctx);
    let mut margin_left = margin_in;
    let fee = books.take_fee(&mut margin_left, priced.fee, ctx.s.params.lp_fee_share_wad)?;
    check_initial_margin_n(&p, qty, priced.cost, margin_left, 0, priced.notional)?;
    // And at the price it would be judged at for liquidation: a position is never born
    // liquidatable (a buy executes at the higher of spot and TWAP, is judged at the lower).
    let judged = m.liquidation_price(qty > 0);
    if judged != priced.pricing.price {
        check_initial_margin(&p, qty, priced.cost, margin_left, 0, judged)?;
    }
    let id = ctx.next_position_id()?;
    let long = qty > 0;
    let side = m.side(long);
    let (q_s, c_s) = book::stored(qty, priced.cost, side)?;
    if q_s == 0 {
        return Err(ExchangeError::ZeroAmount);
    }
    let pos = Position {
        id,
        owner: user,
        market,
        qty: q_s,
        cost: c_s,
        margin: margin_left,
        funding_entry: side.funding_index,
        adl_a_entry: side.adl_a,
        adl_b_entry: side.adl_b,
        opened_at: ctx.block.timestamp,
        updated_at: ctx.block.timestamp,
        liquidation_started_at: 0,
        last_liquidation_block: 0,
        funding_debt: 0,
    };
    side_add(m.side_mut(long), &pos)?;
    check_oi_cap(ctx, &m, &p, long)?;
    books.store(ctx);
    ctx.put_position(pos);
    finish_market(ctx, &mut m, &p, Some(long), Some(before.required))?;
    record_after(&mut priced.pricing, &m)?;
    ctx.emit(Event::PositionOpened {
        position: id,
        owner: user,
        market,
        qty,
        margin: margin_left,
        cost: priced.cost,
        avg_price: priced.avg_price,
        fee,
        impact_charge: priced.charge,
        impact_rebate: priced.rebate,
        pricing: priced.pricing,
    });
    Ok(id)
}

/// Grow (same sign as the position) or reduce (opposite sign) a position. Reducing to zero closes.
/// `delta` is in effective units.
pub(crate) fn modify(
    ctx: &mut Ctx,
    user: Address,
    id: PositionId,
    delta: Qty,
    bound: Price,
) -> Result<(), ExchangeError> {
    if delta == 0 {
        return Err(ExchangeError::ZeroAmount);
    }
    let pos = owned(ctx, user, id)?;
    let m0 = ctx.market(pos.market)?;
    let growing = (delta > 0) == pos.is_long();
    if growing && book::is_ended(&pos, m0.side(pos.is_long())) {
        // Fully deleveraged by ADL: it can only be closed (its ADL PnL and margin paid out).
        return Err(ExchangeError::ReduceOnly(pos.market));
    }
    let (q_eff, _) = book::effective(&pos, m0.side(pos.is_long()))?;
    if !growing && delta.unsigned_abs() > q_eff.unsigned_abs() {
        return Err(ExchangeError::WouldFlip);
    }
    if !growing && delta.unsigned_abs() == q_eff.unsigned_abs() {
        return close(ctx, user, id, bound);
    }
    let mut m = m0;
    check_tradeable(&m, growing, ctx.block.timestamp)?;
    let p = ctx.params_snapshot(pos.market)?;
    let before = ctx.vault_totals()?;
    let long = pos.is_long();
    // The net before the trade, this position still in it.
    let n0 = m.net_qty()?;
    let (mut books, mut np, q_eff, c_eff) = touch(ctx, &mut m, pos)?;
    let mut priced = price_trade(&m, &p, n0, delta, bound, growing)?;
    let mut realised = 0;
    let (q_new, c_new) = if growing {
        let charge = priced.charge;
        book_impact(&mut m, &mut priced, charge)?;
        (q_eff.add_c(delta)?, c_eff.add_c(priced.cost)?)
    } else {
        // Release the reduced share of the cost basis, rounded toward +∞ (less PnL for the trader).
        let released = released_cost(c_eff, delta.unsigned_abs(), q_eff.unsigned_abs())?;
        let mut mg = np.margin;
        let collected = settle_reduction(ctx, &mut books, &mut np, &mut mg, &priced, released)?;
        np.margin = mg;
        book_impact(&mut m, &mut priced, collected)?;
        realised = (-priced.spot_cost)
            .sub_c(released)?
            .add_c(to_i128(priced.rebate)?)?
            .sub_c(to_i128(collected)?)?;
        (q_eff.add_c(delta)?, c_eff.sub_c(released)?)
    };
    let mut mg = np.margin;
    let fee = books.take_fee(&mut mg, priced.fee, ctx.s.params.lp_fee_share_wad)?;
    np.margin = mg;
    np.updated_at = ctx.block.timestamp;
    if growing {
        // Judged where liquidation would judge it: never grown into a liquidatable position.
        let price = m.liquidation_price(long);
        check_initial_margin(&p, q_new, c_new, np.margin, np.funding_debt, price)?;
    }
    let (q_s, c_s) = book::stored(q_new, c_new, m.side(long))?;
    np.qty = q_s;
    np.cost = c_s;
    side_add(m.side_mut(long), &np)?;
    if growing {
        check_oi_cap(ctx, &m, &p, long)?;
    }
    books.store(ctx);
    ctx.put_position(np);
    // Growing must fit the vault; reducing is always allowed (a trader can always get out).
    finish_market(
        ctx,
        &mut m,
        &p,
        Some(long),
        growing.then_some(before.required),
    )?;
    record_after(&mut priced.pricing, &m)?;
    ctx.emit(Event::PositionModified {
        position: id,
        qty_delta: delta,
        qty_after: q_new,
        cost_delta: priced.cost,
        avg_price: priced.avg_price,
        realised_pnl: realised,
        fee,
        impact_charge: priced.charge,
        impact_rebate: priced.rebate,
        pricing: priced.pricing,
    });
    Ok(())
}

/// Settle the money of a trade that reduces a position by `released` of its cost basis: the
/// price PnL and any rebate against the vault (a loss beyond the margin goes down the
/// waterfall), then the funding debt from what is left, then the impact charge up to what is
/// left (the rest is waived, never a deficit). Returns the charge collected.
fn settle_reduction(
    ctx: &mut Ctx,
    books: &mut Books,
    np: &mut Position,
    margin: &mut Usd,
    priced: &Priced,
    released: SignedUsd,
) -> Result<Usd, ExchangeError> {
    let price_pnl = (-priced.spot_cost)
        .sub_c(released)?
        .add_c(to_i128(priced.rebate)?)?;
    books.settle_pnl(ctx, np.id, margin, price_pnl, true)?;
    let pay = np.funding_debt.min(*margin);
    *margin -= pay;
    np.funding_debt -= pay;
    books.vault.cash = books.vault.cash.add_c(pay)?;
    books.collect_charge(margin, priced.charge)
}

/// `cost × part / whole`, rounded toward +∞.
pub(crate) fn released_cost(
    cost: SignedUsd,
    part: u128,
    whole: u128,
) -> Result<SignedUsd, ExchangeError> {
    let mag = if cost >= 0 {
        crate::units::mul_div_up_u128(cost.unsigned_abs(), part, whole)?
    } else {
        crate::units::mul_div_down_u128(cost.unsigned_abs(), part, whole)?
    };
    let mag = i128::try_from(mag).map_err(|_| ExchangeError::Overflow)?;
    Ok(if cost >= 0 { mag } else { -mag })
}

/// Close a position: realise all PnL, pay margin to the owner's wallet.
pub(crate) fn close(
    ctx: &mut Ctx,
    user: Address,
    id: PositionId,
    bound: Price,
) -> Result<(), ExchangeError> {
    let pos = owned(ctx, user, id)?;
    let mut m = ctx.market(pos.market)?;
    check_tradeable(&m, false, ctx.block.timestamp)?;
    let p = ctx.params_snapshot(pos.market)?;
    let pos_long = pos.is_long();
    let n0 = m.net_qty()?;
    let (mut books, mut np, q_eff, c_eff) = touch(ctx, &mut m, pos)?;
    let mut mg = np.margin;
    let (realised, mut priced) = if q_eff == 0 {
        // Fully deleveraged by ADL already: nothing left to trade.
        (0, None)
    } else {
        let mut priced = price_trade(&m, &p, n0, -q_eff, bound, false)?;
        let collected = settle_reduction(ctx, &mut books, &mut np, &mut mg, &priced, c_eff)?;
        book_impact(&mut m, &mut priced, collected)?;
        let realised = (-priced.spot_cost)
            .sub_c(c_eff)?
            .add_c(to_i128(priced.rebate)?)?
            .sub_c(to_i128(collected)?)?;
        (realised, Some(priced))
    };
    books.clear_debt(ctx, &mut np, &mut mg)?;
    let fee_due = priced.as_ref().map_or(0, |x| x.fee);
    let fee = books.take_fee(&mut mg, fee_due, ctx.s.params.lp_fee_share_wad)?;
    books.store(ctx);
    ctx.credit(user, crate::state::AZUSD, mg)?;
    ctx.remove_position(id);
    // Closing is always allowed, even if it raises the net (ADL handles an over-limit vault).
    finish_market(ctx, &mut m, &p, Some(pos_long), None)?;
    let pricing = match priced.as_mut() {
        Some(x) => {
            record_after(&mut x.pricing, &m)?;
            x.pricing
        }
        None => idle_pricing(&m, n0)?,
    };
    ctx.emit(Event::PositionClosed {
        position: id,
        owner: user,
        realised_pnl: realised,
        payout: mg,
        avg_price: priced.as_ref().map_or(0, |x| x.avg_price),
        fee,
        impact_charge: priced.as_ref().map_or(0, |x| x.charge),
        impact_rebate: priced.as_ref().map_or(0, |x| x.rebate),
        pricing,
    });
    Ok(())
}

/// The pricing record of a close with nothing left to trade.
fn idle_pricing(m: &Market, n: Qty) -> Result<TradePricing, ExchangeError> {
    let prem = m.premium_wad;
    let mark = mark::apply_premium(m.prices.spot, prem)?;
    Ok(TradePricing {
        price: m.prices.spot,
        capacity: m.prices.capacity,
        free_liquidity: m.prices.free_liquidity,
        net_before: n,
        net_after: n,
        premium_before_wad: prem,
        premium_after_wad: prem,
        mark_before: mark,
        mark_after: mark,
        charge_waived: 0,
        impact_pool_after: m.impact_pool,
    })
}

/// Move azUSD from the wallet into a position's margin (paying its funding debt first).
pub(crate) fn add_margin(
    ctx: &mut Ctx,
    user: Address,
    id: PositionId,
    amount: Usd,
) -> Result<(), ExchangeError> {
    if amount == 0 {
        return Err(ExchangeError::ZeroAmount);
    }
    let pos = owned(ctx, user, id)?;
    let mut m = ctx.market(pos.market)?;
    ctx.debit(user, crate::state::AZUSD, amount)?;
    let long = pos.is_long();
    let (mut books, mut np, _, _) = touch(ctx, &mut m, pos)?;
    np.margin = np.margin.add_c(amount)?;
    books.pay_debt(&mut np)?;
    np.updated_at = ctx.block.timestamp;
    side_add(m.side_mut(long), &np)?;
    books.store(ctx);
    ctx.put_position(np);
    ctx.put_market(m)?;
    ctx.emit(Event::MarginChanged {
        position: id,
        delta: to_i128(amount)?,
        margin_after: np.margin,
    });
    Ok(())
}

/// Move azUSD from a position's margin to the wallet; the rest must still cover initial margin,
/// judged at the less favourable of the spot and the risk price, funding debt counted.
pub(crate) fn remove_margin(
    ctx: &mut Ctx,
    user: Address,
    id: PositionId,
    amount: Usd,
) -> Result<(), ExchangeError> {
    if amount == 0 {
        return Err(ExchangeError::ZeroAmount);
    }
    let pos = owned(ctx, user, id)?;
    let mut m = ctx.market(pos.market)?;
    let p = ctx.params_snapshot(pos.market)?;
    let long = pos.is_long();
    let (books, mut np, _, _) = touch(ctx, &mut m, pos)?;
    if np.margin < amount {
        return Err(ExchangeError::InsufficientBalance {
            token: crate::state::AZUSD,
            have: np.margin,
            need: amount,
        });
    }
    np.margin -= amount;
    np.updated_at = ctx.block.timestamp;
    let worst = m.liquidation_price(long);
    let (q_eff, c_eff) = book::effective(&np, m.side(long))?;
    check_initial_margin(&p, q_eff, c_eff, np.margin, np.funding_debt, worst)?;
    side_add(m.side_mut(long), &np)?;
    books.store(ctx);
    ctx.credit(user, crate::state::AZUSD, amount)?;
    ctx.put_position(np);
    ctx.put_market(m)?;
    ctx.emit(Event::MarginChanged {
        position: id,
        delta: -to_i128(amount)?,
        margin_after: np.margin,
    });
    Ok(())
}
