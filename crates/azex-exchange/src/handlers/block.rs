//! Block steps for markets.
//!
//! * Begin: for every market, accrue funding over the elapsed time at the rate in force (set at
//!   the end of the previous block), then read this block's prices from the oracle hook.
//!   Then every market's impact capacity for the block is set from the vault's free liquidity at
//!   that moment: every trade of the block is priced with it.
//! * End (after the protection steps, which may deleverage): set every live market's funding
//!   rate from its final skew at the block's capacity. Time does not pass inside a block,
//!   so this is the rate for the whole interval until the next block; setting it once per block
//!   instead of after every trade gives the same accrual for a fraction of the work, and every
//!   market's rate reflects the same end-of-block vault.

use crate::ctx::Ctx;
use crate::error::ExchangeError;
use crate::event::Event;
use crate::handlers::price_guard;
use crate::handlers::trade::{accrue_funding, capacity, premium_now, refresh_funding_rate};
use crate::state::MarketStatus;

pub(crate) fn begin(ctx: &mut Ctx) -> Result<(), ExchangeError> {
    let now = ctx.block.timestamp;
    let n = crate::ids::market_ids(ctx.market_count()).end;
    // The previous block's time (none before the chain's first block).
    let prev = (ctx.s.block != crate::state::BlockCtx::default() || ctx.s.event_seq != 0)
        .then_some(ctx.s.block.timestamp);
    let mut live = Vec::with_capacity(n as usize);
    for id in 0..n {
        let mut m = ctx.market(id)?;
        // The cached risk figures hold what traders owe in funding (price-independent).
        let before = m.risk.traders_funding_owed;
        accrue_funding(&mut m, now)?;
        let mut prices = crate::spot_link::read_prices(ctx.s, &m, now)?;
        live.push((prices.spot, prices.risk));
        if m.frozen_price != 0 {
            // Depth is gone: the oracle is no longer defended by arbitrage (docs/protocol.md §8.5).
            prices.spot = m.frozen_price;
            prices.risk = m.frozen_price;
        } else {
            price_guard::thaw(&mut m, &mut prices, ctx.s.params.max_abs_tick_move)?;
        }
        price_guard::on_block_gap(&mut m, prev, now, &ctx.s.params);
        m.prices = prices;
        m.risk = crate::risk::market_risk(&m, &*ctx.params_snapshot(id)?)?;
        let vault_share = m.risk.traders_funding_owed.saturating_sub(before);
        ctx.emit(Event::FundingAccrued {
            market: id,
            rate_per_day_wad: m.funding_rate_per_day_wad,
            long_index: m.long.funding_index,
            short_index: m.short.funding_index,
            vault_share,
        });
        ctx.put_market_with_risk(m)?;
    }
    // Every market's impact capacity for this block, from the vault's free liquidity now
    // (after accrual and the new prices, before any transaction): the price of a trade does not
    // depend on the trades before it in the block (docs/protocol.md §4.2).
    let free = ctx.vault_totals()?.free_liquidity;
    for id in 0..n {
        let mut m = ctx.market(id)?;
        let p = ctx.params_snapshot(id)?;
        m.prices.free_liquidity = free;
        m.prices.capacity = capacity(&m, &p, free)?;
        m.premium_wad = premium_now(&m, &p, m.net_qty()?)?;
        ctx.emit(Event::PricesUpdated {
            market: id,
            spot: m.prices.spot,
            risk: m.prices.risk,
            pool: m.prices.pool,
            spot_liquidity: m.prices.spot_liquidity,
            free_liquidity: free,
            impact_capacity: m.prices.capacity,
            frozen_price: m.frozen_price,
            oracle_spot: live[id as usize].0,
            oracle_risk: live[id as usize].1,
            oracle_lag_ticks: m.prices.oracle_lag_ticks,
            new_exposure: price_guard::takes_new_exposure(&m, now),
        });
        ctx.put_market_keep_risk(m)?;
    }
    Ok(())
}

/// End of block: set every live market's funding rate for the coming interval, from its final
/// skew at the block's capacity.
pub(crate) fn end(ctx: &mut Ctx) -> Result<(), ExchangeError> {
    for id in crate::ids::market_ids(ctx.market_count()) {
        let mut m = ctx.market(id)?;
        if matches!(m.status, MarketStatus::Delisted { .. }) {
            continue; // no funding after delisting (the rate was zeroed then)
        }
        let p = ctx.params_snapshot(id)?;
        let old = m.funding_rate_per_day_wad;
        refresh_funding_rate(&mut m, &p)?;
        if m.funding_rate_per_day_wad != old {
            ctx.emit(Event::FundingRateSet {
                market: id,
                rate_per_day_wad: m.funding_rate_per_day_wad,
            });
            ctx.put_market_keep_risk(m)?;
        }
    }
    Ok(())
}
