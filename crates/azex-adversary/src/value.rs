//! Valuation at the external prices: what a set of accounts holds, in azUSD units.
//!
//! - wallets: azUSD and USDC 1:1, base tokens at their external price (rounded down);
//! - LP shares at the vault's share price (NAV at risk prices, per share, rounded down);
//! - positions at their equity at the external price (margin + ADL PnL owed − funding owed +
//!   unrealised PnL; a delisted market's at its settlement price), floored at zero — generous to
//!   the holder: no close fee, no impact — and in all at most their margins plus the vault's cash
//!   (a claim the vault cannot pay is worth nothing);
//! - spot liquidity at what removing it now would return (tokens and fees owed), valued as a
//!   wallet would be.

use crate::world::ext_price;
use alloy_primitives::Address;
use azex_exchange::book;
use azex_exchange::event::Event;
use azex_exchange::math::funding;
use azex_exchange::state::MarketStatus;
use azex_exchange::units::{notional_down, signed_value_floor};
use azex_exchange::{Genesis, State, Tx, AZUSD, USDC};

/// What a set of accounts holds, in azUSD units (1e-6 USD) at the external prices.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Holdings {
    /// azUSD, USDC and base tokens in wallets.
    pub wallets: i128,
    /// LP vault shares at the share price.
    pub lp_shares: i128,
    /// Open positions at their equity (capped: see the module documentation).
    pub positions: i128,
    /// Spot liquidity at what removing it would return.
    pub spot_liquidity: i128,
}

impl Holdings {
    /// The sum of the four.
    pub fn total(&self) -> i128 {
        self.wallets + self.lp_shares + self.positions + self.spot_liquidity
    }
}

/// An unsigned amount as a signed one, saturating at `i128::MAX` (no balance, share or margin
/// of this world comes near it: the figure is a valuation, and a saturated one still compares
/// correctly against the start).
pub(crate) fn signed(x: u128) -> i128 {
    i128::try_from(x).unwrap_or(i128::MAX)
}

/// `amount` of `token` in azUSD units (1e-6 USD) at its external price, rounded down; azUSD and
/// USDC 1:1; a token without an external price is worth nothing.
fn token_value(token: Address, amount: u128) -> i128 {
    if token == AZUSD || token == USDC {
        return signed(amount);
    }
    match ext_price(token) {
        Some(p) => signed(notional_down(signed(amount), p).unwrap_or(0)),
        None => 0,
    }
}

/// Value of the genesis balances of `who`.
pub fn genesis_value(g: &Genesis, who: &[Address]) -> i128 {
    g.balances
        .iter()
        .filter(|b| who.contains(&b.owner))
        .map(|b| token_value(b.token, b.amount))
        .sum()
}

/// Value of everything `who` holds in `s`.
pub fn holdings(s: &State, who: &[Address]) -> Holdings {
    let mut h = Holdings::default();
    for ((owner, token), v) in &s.wallets {
        if who.contains(owner) {
            h.wallets += token_value(*token, *v);
        }
    }
    let price = crate::world::share_price(s);
    for (owner, a) in &s.lps {
        if who.contains(owner) {
            h.lp_shares += signed(crate::world::mul_div(
                a.shares,
                price,
                azex_exchange::units::WAD,
            ));
        }
    }
    let (mut equity, mut margins) = (0i128, 0i128);
    for p in s.positions.values() {
        if who.contains(&p.owner) {
            equity += position_equity(s, p.id).max(0);
            margins = margins.saturating_add(signed(p.margin));
        }
    }
    // What positions can claim beyond their margins is paid from the vault's cash.
    h.positions = equity.min(margins.saturating_add(signed(s.vault.cash)));
    for m in &s.markets {
        let Ok(pool) = s.spot.pool(&m.pool_key) else {
            continue;
        };
        for (k, info) in pool.positions() {
            if !who.contains(&k.owner) || info.liquidity == 0 {
                continue;
            }
            let mut salt = [0u8; 8];
            salt.copy_from_slice(&k.salt[24..]);
            let tx = Tx::SpotLiquidity {
                user: k.owner,
                market: m.id,
                tick_lower: k.tick_lower,
                tick_upper: k.tick_upper,
                liquidity_delta: -signed(info.liquidity),
                salt: u64::from_be_bytes(salt),
            };
            if let Ok(sim) = s.simulate(&tx) {
                for e in sim.events {
                    if let Event::SpotLiquidityChanged {
                        amount0, amount1, ..
                    } = e
                    {
                        let (c0, c1) = (m.pool_key.currency0, m.pool_key.currency1);
                        h.spot_liquidity += token_value(c0, amount0.max(0).unsigned_abs())
                            + token_value(c1, amount1.max(0).unsigned_abs());
                    }
                }
            }
        }
    }
    h
}

/// A position's equity at the external price (its market's settlement price if delisted):
/// margin + ADL PnL owed − funding owed (and funding debt) + unrealised PnL. Not floored.
pub fn position_equity(s: &State, id: u64) -> i128 {
    let Some(p) = s.position(id) else {
        return 0;
    };
    let m = &s.markets[p.market as usize];
    let price = match m.status {
        MarketStatus::Delisted { settlement_price } => settlement_price,
        _ => ext_price(m.base_token).unwrap_or(m.prices.risk),
    };
    let side = m.side(p.is_long());
    let f = || -> Result<i128, azex_exchange::ExchangeError> {
        let (q, c) = book::effective(p, side)?;
        let adl = book::adl_owed_to(p, side)?;
        let owed = funding::owed(p.qty, side.funding_index, p.funding_entry)?;
        let to_i128 =
            |x: u128| i128::try_from(x).map_err(|_| azex_exchange::ExchangeError::Overflow);
        let (margin, debt) = (to_i128(p.margin)?, to_i128(p.funding_debt)?);
        Ok(margin + adl - owed - debt + signed_value_floor(q, price)? - c)
    };
    f().unwrap_or(0)
}
