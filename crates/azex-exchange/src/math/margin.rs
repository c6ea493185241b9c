//! Margin (docs/protocol.md §6.1–§6.3): equity, initial and maintenance requirements, leverage.
//!
//! `equity = margin + uPnL − funding owed − close fee`. A position may be opened or grown only if
//! `equity ≥ initial margin`; it is liquidatable when `equity < maintenance margin`.
//!
//! The tier is chosen by the position's size at entry, `|cost basis|` (not by its notional at the
//! current price): a position's maintenance rate then stays fixed while prices move, which keeps
//! its liquidation price a fixed function of the price (the liquidation index relies on it), and
//! a trader cannot change tier by waiting.

use crate::error::ExchangeError;
use crate::params::MarketParams;
use crate::units::{mul_wad_up, notional_up, Price, Qty, SignedUsd, Usd};

/// Unrealised PnL of `qty` with cost basis `cost` at `price`, rounded toward −∞ (what the trader
/// could receive).
pub fn unrealised_pnl(qty: Qty, cost: SignedUsd, price: Price) -> Result<SignedUsd, ExchangeError> {
    crate::units::signed_value_floor(qty, price)?
        .checked_sub(cost)
        .ok_or_else(crate::error::overflow)
}

/// Equity of a position, signed.
pub fn equity(
    margin: Usd,
    upnl: SignedUsd,
    funding_owed: SignedUsd,
    close_fee: Usd,
) -> Result<SignedUsd, ExchangeError> {
    let m = i128::try_from(margin).map_err(|_| ExchangeError::Overflow)?;
    let f = i128::try_from(close_fee).map_err(|_| ExchangeError::Overflow)?;
    m.checked_add(upnl)
        .and_then(|x| x.checked_sub(funding_owed))
        .and_then(|x| x.checked_sub(f))
        .ok_or_else(crate::error::overflow)
}

/// Initial margin for a position of `qty` at `price` whose cost basis is `cost`, rounded up.
pub fn initial_margin(
    p: &MarketParams,
    qty: Qty,
    price: Price,
    cost: SignedUsd,
) -> Result<Usd, ExchangeError> {
    initial_margin_of_notional(p, notional_up(qty, price)?, cost)
}

/// Initial margin for a position of notional `notional_up` (rounded up) and cost basis `cost`.
pub fn initial_margin_of_notional(
    p: &MarketParams,
    notional_up: Usd,
    cost: SignedUsd,
) -> Result<Usd, ExchangeError> {
    mul_wad_up(
        notional_up,
        p.margin_tier(cost.unsigned_abs()).initial_margin_wad,
    )
}

/// Maintenance margin for a position of `qty` at `price` whose cost basis is `cost`, rounded up.
pub fn maintenance_margin(
    p: &MarketParams,
    qty: Qty,
    price: Price,
    cost: SignedUsd,
) -> Result<Usd, ExchangeError> {
    let n = notional_up(qty, price)?;
    mul_wad_up(n, p.margin_tier(cost.unsigned_abs()).maintenance_margin_wad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{QTY_ONE, USD_ONE, WAD};

    #[test]
    fn tiers_follow_entry_size() {
        let p = MarketParams::default();
        let one = QTY_ONE as i128;
        let c = |usd: i128| usd * USD_ONE as i128;
        // $20k entry: tier 1 → 5 % initial, 2.5 % maintenance
        assert_eq!(
            initial_margin(&p, 10 * one, 2_000 * WAD, c(20_000)).unwrap(),
            1_000 * USD_ONE
        );
        assert_eq!(
            maintenance_margin(&p, -10 * one, 2_000 * WAD, c(-20_000)).unwrap(),
            500 * USD_ONE
        );
        // $2M entry: tier 3 → 20 %
        assert_eq!(
            initial_margin(&p, 1_000 * one, 2_000 * WAD, c(2_000_000)).unwrap(),
            400_000 * USD_ONE
        );
        // the tier follows the entry size, not the price: the same position at $4,000 stays in tier 1
        assert_eq!(
            maintenance_margin(&p, 10 * one, 4_000 * WAD, c(20_000)).unwrap(),
            1_000 * USD_ONE
        );
    }

    #[test]
    fn pnl_rounds_against_trader() {
        assert_eq!(unrealised_pnl(1, 0, WAD).unwrap(), 0);
        assert_eq!(unrealised_pnl(-1, 0, WAD * 1_000_000_000_000).unwrap(), -1);
        assert_eq!(equity(100, -30, 10, 5).unwrap(), 55);
    }
}
