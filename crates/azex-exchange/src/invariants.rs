//! Invariants, checked after every commit in tests and debug builds (and on demand).
//!
//! 1. azUSD conservation, to the unit: supply = wallets + vault cash + position margins +
//!    treasury + insurance + azUSD held by spot pools.
//! 2. Backing: supply = liquid USDC + strategy assets + withdrawals in transit.
//! 3. External tokens (USDC, base tokens) conserved: genesis supply (+ minted yield for USDC) =
//!    wallets + ledger + pools.
//! 4. OI totals: each side's aggregates equal the sum over its positions (qty, cost, margin,
//!    funding entry sum, count); no position has zero size; position market exists.
//! 5. Each market's cached risk figures equal a fresh computation.
//! 6. Spot pool balances tracked by the exchange equal the pool manager's own accounting.

use crate::math::funding::entry_term;
use crate::state::{Side, State, AZUSD, USDC};
use alloy_primitives::Address;
use std::collections::BTreeMap;

fn sum<'a>(mut xs: impl Iterator<Item = &'a u128>) -> Option<u128> {
    xs.try_fold(0u128, |a, b| a.checked_add(*b))
}

/// Check every invariant; the error names the first violation.
pub fn check(s: &State) -> Result<(), String> {
    // 1. azUSD conservation
    let wallets_azusd = sum(s
        .wallets
        .iter()
        .filter(|((_, t), _)| *t == AZUSD)
        .map(|(_, v)| v))
    .ok_or("overflow")?;
    let margins = sum(s.positions.values().map(|p| &p.margin)).ok_or("overflow")?;
    let pools = sum(s.markets.iter().map(|m| &m.pool_azusd)).ok_or("overflow")?;
    let held = [
        wallets_azusd,
        s.vault.cash,
        margins,
        s.funds.treasury,
        s.funds.insurance,
        pools,
    ]
    .iter()
    .try_fold(0u128, |a, b| a.checked_add(*b))
    .ok_or("overflow")?;
    if held != s.ledger.azusd_supply {
        return Err(format!(
            "azUSD conservation: supply {} != held {} (wallets {wallets_azusd}, vault {}, margins {margins}, treasury {}, insurance {}, pools {pools})",
            s.ledger.azusd_supply, held, s.vault.cash, s.funds.treasury, s.funds.insurance
        ));
    }
    // 2. backing
    let backing = s.ledger.backing().ok_or("overflow")?;
    if backing != s.ledger.azusd_supply {
        return Err(format!(
            "azUSD backing: supply {} != USDC backing {backing}",
            s.ledger.azusd_supply
        ));
    }
    // 3. external tokens
    let mut held_ext: BTreeMap<Address, u128> = BTreeMap::new();
    for ((_, t), v) in &s.wallets {
        if *t != AZUSD {
            *held_ext.entry(*t).or_default() += v;
        }
    }
    *held_ext.entry(USDC).or_default() += backing;
    for m in &s.markets {
        *held_ext.entry(m.base_token).or_default() += m.pool_base;
    }
    for (t, supply) in &s.external_supply {
        let expect = if *t == USDC {
            supply + s.ledger.yield_minted
        } else {
            *supply
        };
        let got = held_ext.get(t).copied().unwrap_or(0);
        if got != expect {
            return Err(format!(
                "token {t} conservation: expected {expect}, held {got}"
            ));
        }
    }
    // 4. OI totals
    let mut agg: Vec<(Side, Side)> = vec![(Side::new(), Side::new()); s.markets.len()];
    for p in s.positions.values() {
        if p.qty == 0 {
            return Err(format!("position {} has zero size", p.id));
        }
        let Some(a) = agg.get_mut(p.market as usize) else {
            return Err(format!("position {} in unknown market {}", p.id, p.market));
        };
        let side = if p.qty > 0 { &mut a.0 } else { &mut a.1 };
        side.qty += p.qty.unsigned_abs();
        side.cost += p.cost;
        side.margin += p.margin;
        side.funding_entry_sum += entry_term(p.qty, p.funding_entry).map_err(|e| e.to_string())?;
        let (qa, cb) = crate::book::adl_terms(p).map_err(|e| e.to_string())?;
        side.adl_qa_sum += qa;
        side.adl_cb_sum += cb;
        side.positions += 1;
    }
    for (m, (l, sh)) in s.markets.iter().zip(agg) {
        for (name, want, got) in [("long", l, m.long), ("short", sh, m.short)] {
            if (
                want.qty,
                want.cost,
                want.margin,
                want.funding_entry_sum,
                want.positions,
            ) != (
                got.qty,
                got.cost,
                got.margin,
                got.funding_entry_sum,
                got.positions,
            ) {
                return Err(format!(
                    "market {} {name} aggregates differ from its positions: {got:?} vs {want:?}",
                    m.id
                ));
            }
        }
    }
    // 5. cached risk figures equal a fresh computation
    for (m, p) in s.markets.iter().zip(&s.market_params) {
        let fresh = crate::risk::market_risk(m, p).map_err(|e| e.to_string())?;
        if fresh != m.risk {
            return Err(format!(
                "market {} cached risk {:?} != fresh {:?}",
                m.id, m.risk, fresh
            ));
        }
    }
    // 6. pool balances
    crate::spot_link::check_pool_balances(s)?;
    Ok(())
}
