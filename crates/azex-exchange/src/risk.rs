//! Vault accounting and risk figures (docs/protocol.md §5, §8.1): NAV, requirements, free
//! liquidity.
//!
//! The vault is the counterparty of every trader, so
//! ```text
//! NAV = cash − Σ traders' unrealised PnL + Σ funding traders owe (per side, at most what the
//!       side holds: its margin plus its unrealised profit)
//! ```
//! all valued at each market's *risk price* (the TWAP of the truncated oracle), which one block of
//! spot manipulation cannot move much: LP share prices and withdrawal limits are not gameable
//! within a block. Every aggregate is O(1) per market (per-side sums), so NAV is O(markets).
//!
//! Capacity rule: a transaction that raises the total requirement must leave
//! `Σ required ≤ NAV × max_vault_utilisation`; LP withdrawals must leave the same.

use crate::ctx::Ctx;
use crate::error::ExchangeError;
use crate::math::{funding, requirement};
use crate::params::MarketParams;
use crate::state::{Market, Side, Vault};
use crate::units::{mul_wad_down, notional_down_up, notional_up, to_i128, Price, SignedUsd, Usd};
use serde::Serialize;

/// Risk figures of one side of a market, at the market's risk price.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Serialize,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
pub struct SideRisk {
    /// Effective size × risk price, rounded up.
    pub notional: Usd,
    /// What the vault owes the side's traders: value (rounded toward −∞) − cost basis + ADL PnL
    /// not yet credited.
    pub upnl: SignedUsd,
    /// Funding the side owes the vault (negative: the vault owes), rounded down.
    pub funding_owed: SignedUsd,
}

/// Risk figures of one market.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Serialize,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
pub struct MarketRisk {
    /// Long side's effective size × risk price (micro-azUSD, rounded up): `L` of
    /// docs/protocol.md §5.
    pub long_notional: Usd,
    /// Short side's effective size × risk price (micro-azUSD, rounded up): `S` of
    /// docs/protocol.md §5.
    pub short_notional: Usd,
    /// AZEx requirement: net × safety factor + stress term.
    pub required: Usd,
    /// Classic fully-backed requirement: max(long, short).
    pub classic_required: Usd,
    /// Traders' unrealised PnL (what the vault owes them), at the risk price.
    pub traders_upnl: SignedUsd,
    /// Funding traders owe the vault (negative: the vault owes).
    pub traders_funding_owed: SignedUsd,
    /// The two sides' figures the totals above are made of.
    pub long: SideRisk,
    /// The short side's figures (see `long`).
    pub short: SideRisk,
}

/// Risk figures of the whole vault.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VaultRisk {
    /// Net asset value (micro-azUSD, signed): cash − Σ traders' uPnL + Σ funding traders owe
    /// (counted as far as each side can pay), every market at its risk price
    /// (docs/protocol.md §8.1).
    pub nav: SignedUsd,
    /// The vault's azUSD cash (micro-azUSD): LP deposits, fee and yield shares, collected losses
    /// and funding, minus what it paid out.
    pub cash: Usd,
    /// Σ of the markets' AZEx requirements (micro-azUSD): what the capacity rule holds below
    /// `NAV⁺ × max_vault_utilisation`.
    pub required: Usd,
    /// Σ of the markets' classic fully-backed requirements `max(L, S)` (micro-azUSD), for
    /// comparison only (no rule uses it).
    pub classic_required: Usd,
    /// `max(0, NAV × max_utilisation − required)`: what backs nothing yet.
    pub free_liquidity: Usd,
    /// Each market's figures, in the order the markets were passed (market-id order for the
    /// state's own figures).
    pub markets: Vec<MarketRisk>,
}

/// One side's risk figures at `price`.
pub fn side_risk(side: &Side, price: Price) -> Result<SideRisk, ExchangeError> {
    let q = i128::try_from(side.eff_qty()?).map_err(|_| ExchangeError::Overflow)?;
    // The side's value rounded toward −∞: a long's value rounded down, a short's −(notional
    // rounded up). Its notional is rounded up (a requirement).
    let (value, notional) = if side.is_long {
        let (down, up) = notional_down_up(q, price)?;
        (to_i128(down)?, up)
    } else {
        let up = notional_up(q, price)?;
        (-to_i128(up)?, up)
    };
    // uPnL = value − cost (cost is signed: shorts negative), plus the ADL PnL the side's
    // positions are owed and have not been credited yet.
    let upnl = value
        .checked_sub(side.eff_cost()?)
        .ok_or_else(crate::error::overflow)?
        .checked_add(side.adl_pending()?)
        .ok_or_else(crate::error::overflow)?;
    // Funding the side owes: accrued since each position's last settlement plus the debts its
    // margins could not pay. The vault counts only what the side can pay — its margin plus its
    // unrealised profit — so funding that can never be collected is not in the NAV
    // (docs/protocol.md §8.1). What the vault owes the side (negative) counts in full.
    let owed = funding::side_owed(side.qty, side.funding_index, side.funding_entry_sum)?
        .checked_add(to_i128(side.funding_debt)?)
        .ok_or_else(crate::error::overflow)?;
    let holds = to_i128(side.margin)?
        .checked_add(upnl)
        .ok_or_else(crate::error::overflow)?
        .max(0);
    Ok(SideRisk {
        notional,
        upnl,
        funding_owed: if owed > 0 { owed.min(holds) } else { owed },
    })
}

/// A market's figures from its two sides' figures.
pub fn combine(
    long: SideRisk,
    short: SideRisk,
    p: &MarketParams,
) -> Result<MarketRisk, ExchangeError> {
    Ok(MarketRisk {
        long_notional: long.notional,
        short_notional: short.notional,
        required: requirement::net_requirement(long.notional, short.notional, p)?,
        classic_required: requirement::classic_requirement(long.notional, short.notional),
        traders_upnl: long
            .upnl
            .checked_add(short.upnl)
            .ok_or_else(crate::error::overflow)?,
        traders_funding_owed: long
            .funding_owed
            .checked_add(short.funding_owed)
            .ok_or_else(crate::error::overflow)?,
        long,
        short,
    })
}

/// One market's risk figures at its risk price.
pub fn market_risk(m: &Market, p: &MarketParams) -> Result<MarketRisk, ExchangeError> {
    let price = m.prices.risk;
    combine(side_risk(&m.long, price)?, side_risk(&m.short, price)?, p)
}

/// [`market_risk`] after a change to one side only (`long` says which): the other side's
/// figures are taken from `prev`, which must be `m`'s figures from before that change (same
/// prices, same other side). Checked against a full computation in debug builds.
pub fn market_risk_one_side(
    m: &Market,
    p: &MarketParams,
    prev: &MarketRisk,
    long: bool,
) -> Result<MarketRisk, ExchangeError> {
    let changed = side_risk(m.side(long), m.prices.risk)?;
    let r = if long {
        combine(changed, prev.short, p)?
    } else {
        combine(prev.long, changed, p)?
    };
    debug_assert_eq!(Ok(r), market_risk(m, p), "the other side changed too");
    Ok(r)
}

/// The vault's totals (no per-market breakdown): what the hot path needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct VaultTotals {
    /// Net asset value (micro-azUSD, signed), as in [`VaultRisk::nav`].
    pub nav: SignedUsd,
    /// Σ of the markets' AZEx requirements (micro-azUSD).
    pub required: Usd,
    /// Σ of the markets' classic requirements `max(L, S)` (micro-azUSD), for comparison only.
    pub classic_required: Usd,
    /// `max(0, mulW↓(NAV⁺, max_vault_utilisation) − required)` (micro-azUSD): what backs nothing
    /// yet (docs/protocol.md §8.1).
    pub free_liquidity: Usd,
}

/// Fold market risk figures into the vault's totals.
pub fn fold<'a>(
    cash: Usd,
    risks: impl Iterator<Item = &'a MarketRisk>,
    max_utilisation_wad: u128,
) -> Result<VaultTotals, ExchangeError> {
    let mut t = VaultTotals {
        nav: i128::try_from(cash).map_err(|_| ExchangeError::Overflow)?,
        ..Default::default()
    };
    for r in risks {
        t.nav = t
            .nav
            .checked_sub(r.traders_upnl)
            .and_then(|x| x.checked_add(r.traders_funding_owed))
            .ok_or_else(crate::error::overflow)?;
        t.required = t
            .required
            .checked_add(r.required)
            .ok_or_else(crate::error::overflow)?;
        t.classic_required = t
            .classic_required
            .checked_add(r.classic_required)
            .ok_or_else(crate::error::overflow)?;
    }
    let usable = if t.nav > 0 {
        mul_wad_down(t.nav.unsigned_abs(), max_utilisation_wad)?
    } else {
        0
    };
    t.free_liquidity = usable.saturating_sub(t.required);
    Ok(t)
}

/// The vault's figures for a set of markets, computed from scratch (summaries, invariants).
pub fn vault_risk<'a>(
    vault: &Vault,
    markets: impl Iterator<Item = (&'a Market, &'a MarketParams)>,
    max_utilisation_wad: u128,
) -> Result<VaultRisk, ExchangeError> {
    let risks = markets
        .map(|(m, p)| market_risk(m, p))
        .collect::<Result<Vec<_>, _>>()?;
    let t = fold(vault.cash, risks.iter(), max_utilisation_wad)?;
    Ok(VaultRisk {
        nav: t.nav,
        cash: vault.cash,
        required: t.required,
        classic_required: t.classic_required,
        free_liquidity: t.free_liquidity,
        markets: risks,
    })
}

impl Ctx<'_> {
    /// The vault's totals as this transaction sees the state, from each market's cached risk
    /// figures: O(markets) additions, no clones.
    pub fn vault_totals(&self) -> Result<VaultTotals, ExchangeError> {
        self.vault_totals_with(None)
    }

    /// The vault's totals as if `pending` (a market with fresh cached risk figures, not yet
    /// written) replaced its current version.
    pub fn vault_totals_with(
        &self,
        pending: Option<&crate::state::Market>,
    ) -> Result<VaultTotals, ExchangeError> {
        let n = crate::ids::market_ids(self.market_count()).end;
        let risks = (0..n).map(|i| match pending {
            Some(m) if m.id == i => Some(&m.risk),
            _ => self.market_ref(i).map(|m| &m.risk),
        });
        let mut ok = true;
        let t = fold(
            self.vault().cash,
            risks.map_while(|r| {
                ok &= r.is_some();
                r
            }),
            self.s.params.max_vault_utilisation_wad,
        )?;
        if !ok {
            return Err(ExchangeError::Overflow);
        }
        Ok(t)
    }

    /// Vault risk with the per-market breakdown, from the cached figures.
    pub fn vault_risk(&self) -> Result<VaultRisk, ExchangeError> {
        let t = self.vault_totals()?;
        let markets = crate::ids::market_ids(self.market_count())
            .filter_map(|i| self.market_ref(i).map(|m| m.risk))
            .collect();
        Ok(VaultRisk {
            nav: t.nav,
            cash: self.vault().cash,
            required: t.required,
            classic_required: t.classic_required,
            free_liquidity: t.free_liquidity,
            markets,
        })
    }

    /// The capacity rule on the totals `r` after the transaction: if it raised the requirement
    /// (above `required_before`), the requirement must still fit the vault.
    pub fn check_capacity_of(
        &self,
        r: &VaultTotals,
        required_before: Usd,
    ) -> Result<(), ExchangeError> {
        if r.required > required_before {
            let usable = if r.nav > 0 {
                mul_wad_down(
                    r.nav.unsigned_abs(),
                    self.s.params.max_vault_utilisation_wad,
                )?
            } else {
                0
            };
            if r.required > usable {
                return Err(ExchangeError::VaultCapacityExceeded {
                    required: r.required,
                    available: usable,
                });
            }
        }
        Ok(())
    }
}
