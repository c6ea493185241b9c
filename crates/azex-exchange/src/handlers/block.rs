//! Block begin: for every market, accrue funding over the elapsed time at the rate and price in
//! force, then read this block's prices from the oracle hook, then set the new funding rate.

use crate::ctx::Ctx;
use crate::error::ExchangeError;
use crate::event::Event;
use crate::handlers::trade::{accrue_funding, capacity, refresh_funding_rate};
use crate::math::funding::side_owed;
use crate::state::Market;
use crate::units::SignedUsd;

/// Funding all traders of a market owe the vault (aggregate, rounded down).
fn owed_total(m: &Market) -> Result<SignedUsd, ExchangeError> {
    side_owed(m.long.qty, m.long.funding_index, m.long.funding_entry_sum)?
        .checked_add(side_owed(
            m.short.qty,
            m.short.funding_index,
            m.short.funding_entry_sum,
        )?)
        .ok_or_else(crate::error::overflow)
}

pub fn begin(ctx: &mut Ctx) -> Result<(), ExchangeError> {
    let now = ctx.block.timestamp;
    let n = ctx.market_count() as u32;
    let mut vault_shares = Vec::with_capacity(n as usize);
    for id in 0..n {
        let mut m = ctx.market(id)?;
        let before = owed_total(&m)?;
        accrue_funding(&mut m, now)?;
        vault_shares.push(owed_total(&m)?.saturating_sub(before));
        m.prices = crate::spot_link::read_prices(ctx.s, &m, now)?;
        ctx.put_market(m)?;
    }
    // Funding rates depend on the vault's free liquidity, so set them once all prices are fresh.
    let risk = ctx.vault_totals()?;
    for id in 0..n {
        let mut m = ctx.market(id)?;
        let p = ctx.params_snapshot(id)?;
        let cap = capacity(&m, &p, risk.free_liquidity)?;
        refresh_funding_rate(&mut m, &p, cap)?;
        ctx.emit(Event::PricesUpdated {
            market: id,
            spot: m.prices.spot,
            risk: m.prices.risk,
            pool: m.prices.pool,
            spot_liquidity: m.prices.spot_liquidity,
        });
        ctx.emit(Event::FundingAccrued {
            market: id,
            rate_per_day_wad: m.funding_rate_per_day_wad,
            long_index: m.long.funding_index,
            short_index: m.short.funding_index,
            vault_share: vault_shares[id as usize],
        });
        ctx.put_market_keep_risk(m)?;
    }
    Ok(())
}
