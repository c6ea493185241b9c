//! Invariants, checked after every commit in tests and debug builds (and on demand).
//!
//! 1. azUSD conservation, to the unit: supply = wallets + vault cash + position margins +
//!    treasury + insurance + azUSD held by spot pools.
//! 2. Backing: supply = liquid USDC + strategy assets + withdrawals in transit.
//! 3. External tokens (USDC, base tokens) conserved: genesis supply (+ minted yield for USDC) =
//!    wallets + ledger + pools, and no other token held anywhere. Markets: ids are their indexes,
//!    the base-token index and the parameter sets agree with them.
//! 4. OI totals: each side's aggregates equal the sum over its positions — of its current ADL
//!    epoch for qty, cost, funding entry sum and the two ADL entry sums (`Σ q·A_e`, `Σ c·B_e`),
//!    of every epoch for margin, funding debt and count; for ended epochs, each slot's count and
//!    the exact claims numerator. No position has zero size; its market exists; its id was
//!    issued; its ADL entries are not ahead of the accumulators it settles against. A side's
//!    scale is 0 (closed, waiting for a new epoch) or within `[MIN_SCALE, RAY]`.
//! 5. Each market's cached risk figures equal a fresh computation.
//! 6. Spot pool balances tracked by the exchange equal the pool manager's own accounting.
//! 7. LP shares: the vault's total equals the sum of the LPs' holdings; the drawdown low is not
//!    above the high-water mark while the cap is hit.
//!
//! `check` is a plain function: tests call it after every transaction (release builds too, where
//! the engine's own call after each commit is compiled out).

use crate::book::{self, MIN_SCALE, RAY};
use crate::math::funding::entry_term;
use crate::state::{Side, State, AZUSD, USDC};
use alloy_primitives::{Address, I256};
use std::collections::BTreeMap;

fn sum<'a>(mut xs: impl Iterator<Item = &'a u128>) -> Option<u128> {
    xs.try_fold(0u128, |a, b| a.checked_add(*b))
}

/// Check every invariant; the error names the first violation.
pub fn check(s: &State) -> Result<(), String> {
    let backing = azusd_conserved(s)?;
    external_tokens_conserved(s, backing)?;
    markets_indexed(s)?;
    oi_totals_match(s)?;
    risk_cache_fresh(s)?;
    crate::spot_link::check_pool_balances(s)?;
    lp_shares_match(s)
}

/// 1 and 2: azUSD held everywhere equals the supply, and the supply is backed by USDC. Returns
/// the backing.
fn azusd_conserved(s: &State) -> Result<u128, String> {
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
    let backing = s.ledger.backing().ok_or("overflow")?;
    if backing != s.ledger.azusd_supply {
        return Err(format!(
            "azUSD backing: supply {} != USDC backing {backing}",
            s.ledger.azusd_supply
        ));
    }
    Ok(backing)
}

/// 3: every external token's genesis supply (+ minted yield for USDC) is held somewhere, and no
/// token exists that the genesis did not create.
fn external_tokens_conserved(s: &State, backing: u128) -> Result<(), String> {
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
    for (t, got) in &held_ext {
        if *got != 0 && !s.external_supply.contains_key(t) {
            return Err(format!(
                "token {t} conservation: {got} held, none created at genesis"
            ));
        }
    }
    Ok(())
}

/// 3 (markets): ids are their indexes, one per base token, the token index agrees.
fn markets_indexed(s: &State) -> Result<(), String> {
    if s.market_by_token.len() != s.markets.len() || s.market_params.len() != s.markets.len() {
        return Err(format!(
            "markets: {} markets, {} in the token index, {} parameter sets",
            s.markets.len(),
            s.market_by_token.len(),
            s.market_params.len()
        ));
    }
    for (i, m) in s.markets.iter().enumerate() {
        if m.id as usize != i || s.market_by_token.get(&m.base_token) != Some(&m.id) {
            return Err(format!(
                "markets: market at index {i} has id {} and token {} (indexed as {:?})",
                m.id,
                m.base_token,
                s.market_by_token.get(&m.base_token)
            ));
        }
    }
    Ok(())
}

/// 4: each side's aggregates equal the sums over its positions.
fn oi_totals_match(s: &State) -> Result<(), String> {
    let agg = aggregate_positions(s)?;
    for (m, (l, sh)) in s.markets.iter().zip(agg) {
        for (name, want, got) in [("long", l, m.long), ("short", sh, m.short)] {
            side_matches(s, m.id, name, &want, &got)?;
        }
    }
    Ok(())
}

/// Rebuild every side's aggregates from the positions (checking each position on the way).
fn aggregate_positions(s: &State) -> Result<Vec<(Side, Side)>, String> {
    let mut agg: Vec<(Side, Side)> = vec![(Side::new(), Side::new()); s.markets.len()];
    for p in s.positions.values() {
        if p.qty == 0 {
            return Err(format!("position {} has zero size", p.id));
        }
        if p.id >= s.next_position_id {
            return Err(format!(
                "position {} has an id not issued yet (next {})",
                p.id, s.next_position_id
            ));
        }
        let (Some(a), Some(m)) = (
            agg.get_mut(p.market as usize),
            s.markets.get(p.market as usize),
        ) else {
            return Err(format!("position {} in unknown market {}", p.id, p.market));
        };
        let (side, real) = if p.qty > 0 {
            (&mut a.0, &m.long)
        } else {
            (&mut a.1, &m.short)
        };
        add_position(side, real, p)?;
    }
    Ok(agg)
}

/// Add one position to its side's rebuilt aggregates: to an ended epoch's slot, or to the
/// current epoch's sums.
fn add_position(side: &mut Side, real: &Side, p: &crate::state::Position) -> Result<(), String> {
    side.margin += p.margin;
    side.funding_debt += p.funding_debt;
    side.positions += 1;
    match book::ended_claim(p, real).map_err(|e| format!("position {}: {e}", p.id))? {
        Some((slot, claim)) => {
            let e = &real.ended[slot];
            if p.adl_a_entry > e.adl_a || p.adl_b_entry > e.adl_b {
                return Err(format!(
                    "position {} has ADL entries past the end of its epoch",
                    p.id
                ));
            }
            side.ended[slot].positions += 1;
            side.ended_claims += claim;
        }
        None => {
            if p.adl_a_entry > real.adl_a || p.adl_b_entry > real.adl_b {
                return Err(format!(
                    "position {} has ADL entries ahead of its side's accumulators",
                    p.id
                ));
            }
            side.qty += p.qty.unsigned_abs();
            side.cost += p.cost;
            side.funding_entry_sum +=
                entry_term(p.qty, p.funding_entry).map_err(|e| e.to_string())?;
            let (qa, cb) = book::adl_terms(p).map_err(|e| e.to_string())?;
            side.adl_qa_sum += qa;
            side.adl_cb_sum += cb;
        }
    }
    Ok(())
}

/// One side's stored aggregates against the rebuilt ones, and its ADL bookkeeping bounds.
fn side_matches(
    s: &State,
    market: crate::ids::MarketId,
    name: &str,
    want: &Side,
    got: &Side,
) -> Result<(), String> {
    let key = |x: &Side| {
        (
            x.qty,
            x.cost,
            x.margin,
            x.funding_debt,
            x.funding_entry_sum,
            x.adl_qa_sum,
            x.adl_cb_sum,
            x.positions,
            x.ended.map(|e| e.positions),
            x.ended_claims,
        )
    };
    if key(want) != key(got) {
        return Err(format!(
            "market {market} {name} aggregates differ from its positions: {got:?} vs {want:?}"
        ));
    }
    if got.scale != 0 && !(MIN_SCALE..=RAY).contains(&got.scale) {
        return Err(format!(
            "market {market} {name}: ADL scale {} outside [MIN_SCALE, RAY]",
            got.scale
        ));
    }
    if got.epoch_first_id > s.next_position_id {
        return Err(format!(
            "market {market} {name}: epoch starts at id {} beyond the next id {}",
            got.epoch_first_id, s.next_position_id
        ));
    }
    if got.ended_claims != I256::ZERO && got.ended.iter().all(|e| e.positions == 0) {
        return Err(format!(
            "market {market} {name}: claims of ended epochs without their positions"
        ));
    }
    Ok(())
}

/// 5: each market's cached risk figures equal a fresh computation.
fn risk_cache_fresh(s: &State) -> Result<(), String> {
    for (m, p) in s.markets.iter().zip(&s.market_params) {
        let fresh = crate::risk::market_risk(m, p).map_err(|e| e.to_string())?;
        if fresh != m.risk {
            return Err(format!(
                "market {} cached risk {:?} != fresh {:?}",
                m.id, m.risk, fresh
            ));
        }
    }
    Ok(())
}

/// 7: LP shares add up, and the drawdown low is not above the high-water mark.
fn lp_shares_match(s: &State) -> Result<(), String> {
    let lp_shares = s
        .lps
        .values()
        .try_fold(0u128, |a, l| a.checked_add(l.shares))
        .ok_or("overflow")?;
    if lp_shares != s.vault.shares {
        return Err(format!(
            "LP shares: the vault counts {} but LPs hold {lp_shares}",
            s.vault.shares
        ));
    }
    if s.vault.drawdown_mode && s.vault.drawdown_low_share_price > s.vault.high_water_share_price {
        return Err(format!(
            "drawdown low {} above the high-water mark {}",
            s.vault.drawdown_low_share_price, s.vault.high_water_share_price
        ));
    }
    Ok(())
}
