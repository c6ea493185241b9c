//! The position book: how positions are stored so that auto-deleveraging a whole side costs O(1).
//!
//! Each side of a market has a **scale** `S` (RAY = 1e27 at listing). A position stores its size
//! and cost basis *normalised* to `S = RAY`; its effective values are `stored × S / RAY`. ADL of a
//! side by a kept fraction `f` is one multiplication, `S ← S × f`: every position on the side
//! shrinks by exactly `f` at once, however many there are. The side's aggregates are sums of the
//! stored values, so "OI totals equal the sum of positions" holds exactly, always.
//!
//! The PnL of the part an ADL event takes away is realised at the event's price `P_k` through two
//! per-side accumulators, like a funding index:
//! ```text
//! A += S_{k-1} × (1 − f_k) × P_k / RAY        (WAD·price units)
//! B += S_{k-1} × (1 − f_k)                     (RAY·WAD units)
//! realised ADL PnL of a position = q_stored × ΔA / 1e48 − c_stored × ΔB / (RAY × WAD)
//! ```
//! It is credited to the position's margin the next time the position is touched ("synced"); until
//! then the vault carries it as a liability in its NAV (per-side entry sums make that O(1)).
//! Funding uses the same trick: the side's funding index advances per *stored* unit,
//! `ΔJ = ΔI × S / RAY`, so a scaled-down position accrues funding on its scaled-down size.
//!
//! While no ADL has happened `S = RAY` and stored values equal effective values exactly.

use crate::error::ExchangeError;
use crate::math::funding;
use crate::state::{Position, Side};
use crate::units::{Checked, Price, Qty, SignedUsd, WAD};
use alloy_primitives::{I256, U256};

/// The unit scale of a side: `S = RAY` means "no ADL yet".
pub const RAY: u128 = 1_000_000_000_000_000_000_000_000_000;
/// `1e48 = WAD × NOTIONAL_DIVISOR`: divides `q_stored × A`.
fn a_div() -> I256 {
    I256::try_from(crate::units::WAD).expect("fits")
        * I256::try_from(crate::units::NOTIONAL_DIVISOR).expect("fits")
}

fn ovf<T>(_: T) -> ExchangeError {
    ExchangeError::Overflow
}

/// `x × S / RAY` for a signed value, rounded toward zero (`up = false`) or away from zero.
fn scale_signed(x: i128, s: u128, up: bool) -> Result<i128, ExchangeError> {
    if s == RAY {
        return Ok(x);
    }
    let m = if up {
        crate::units::mul_div_up_u128(x.unsigned_abs(), s, RAY)?
    } else {
        crate::units::mul_div_down_u128(x.unsigned_abs(), s, RAY)?
    };
    let m = i128::try_from(m).map_err(ovf)?;
    Ok(if x < 0 { -m } else { m })
}

/// `x × RAY / S`, rounded toward zero.
fn unscale_signed(x: i128, s: u128) -> Result<i128, ExchangeError> {
    if s == RAY {
        return Ok(x);
    }
    let m =
        i128::try_from(crate::units::mul_div_down_u128(x.unsigned_abs(), RAY, s)?).map_err(ovf)?;
    Ok(if x < 0 { -m } else { m })
}

/// Round a signed cost toward +∞ when scaling (what the trader paid counts fully).
fn scale_cost(c: i128, s: u128) -> Result<i128, ExchangeError> {
    // toward +∞: positive costs round up, negative ones toward zero
    scale_signed(c, s, c > 0)
}

impl Side {
    /// A fresh side.
    pub fn new() -> Self {
        Side {
            scale: RAY,
            ..Default::default()
        }
    }
    /// Effective total size (base units), rounded down.
    pub fn eff_qty(&self) -> Result<u128, ExchangeError> {
        if self.scale == RAY {
            return Ok(self.qty);
        }
        crate::units::mul_div_down_u128(self.qty, self.scale, RAY)
    }
    /// Effective total cost basis, rounded toward +∞.
    pub fn eff_cost(&self) -> Result<SignedUsd, ExchangeError> {
        scale_cost(self.cost, self.scale)
    }
    /// ADL PnL owed to the side's positions and not yet credited, rounded up (a liability).
    pub fn adl_pending(&self) -> Result<SignedUsd, ExchangeError> {
        if self.adl_a == U256::ZERO && self.adl_b == U256::ZERO {
            return Ok(0);
        }
        let q = I256::try_from(self.signed_qty()?).map_err(ovf)?;
        let c = I256::try_from(self.cost).map_err(ovf)?;
        let a = I256::try_from(self.adl_a).map_err(ovf)?;
        let b = I256::try_from(self.adl_b).map_err(ovf)?;
        let price_part = q
            .checked_mul(a)
            .ok_or_else(crate::error::overflow)?
            .checked_sub(self.adl_qa_sum)
            .ok_or_else(crate::error::overflow)?;
        let cost_part = c
            .checked_mul(b)
            .ok_or_else(crate::error::overflow)?
            .checked_sub(self.adl_cb_sum)
            .ok_or_else(crate::error::overflow)?;
        let p = div_ceil_i256(price_part, a_div())?;
        let cst = div_floor_i256(
            cost_part,
            I256::try_from(RAY).map_err(ovf)? * I256::try_from(WAD).map_err(ovf)?,
        )?;
        p.checked_sub(cst).ok_or_else(crate::error::overflow)
    }
    /// Σ stored qty with the side's sign.
    fn signed_qty(&self) -> Result<i128, ExchangeError> {
        let q = i128::try_from(self.qty).map_err(ovf)?;
        Ok(if self.is_long { q } else { -q })
    }
}

fn div_floor_i256(x: I256, d: I256) -> Result<i128, ExchangeError> {
    crate::units::div_i256_round(x, d, false)
}

fn div_ceil_i256(x: I256, d: I256) -> Result<i128, ExchangeError> {
    crate::units::div_i256_round(x, d, true)
}

/// A position's effective size and cost basis at its side's scale.
pub fn effective(p: &Position, side: &Side) -> Result<(Qty, SignedUsd), ExchangeError> {
    Ok((
        scale_signed(p.qty, side.scale, false)?,
        scale_cost(p.cost, side.scale)?,
    ))
}

/// Stored values for an effective size and cost at the side's scale.
pub fn stored(
    q_eff: Qty,
    c_eff: SignedUsd,
    side: &Side,
) -> Result<(Qty, SignedUsd), ExchangeError> {
    Ok((
        unscale_signed(q_eff, side.scale)?,
        unscale_signed(c_eff, side.scale)?,
    ))
}

/// Remove a position's contribution from its side's aggregates.
pub fn side_remove(s: &mut Side, p: &Position) -> Result<(), ExchangeError> {
    s.qty = s.qty.sub_c(p.qty.unsigned_abs())?;
    s.cost = s.cost.sub_c(p.cost)?;
    s.margin = s.margin.sub_c(p.margin)?;
    s.funding_debt = s.funding_debt.sub_c(p.funding_debt)?;
    s.funding_entry_sum = s
        .funding_entry_sum
        .checked_sub(funding::entry_term(p.qty, p.funding_entry)?)
        .ok_or_else(crate::error::overflow)?;
    let (qa, cb) = adl_terms(p)?;
    s.adl_qa_sum = s
        .adl_qa_sum
        .checked_sub(qa)
        .ok_or_else(crate::error::overflow)?;
    s.adl_cb_sum = s
        .adl_cb_sum
        .checked_sub(cb)
        .ok_or_else(crate::error::overflow)?;
    s.positions = s.positions.sub_c(1)?;
    Ok(())
}

/// Add a position's contribution to its side's aggregates.
pub fn side_add(s: &mut Side, p: &Position) -> Result<(), ExchangeError> {
    s.qty = s.qty.add_c(p.qty.unsigned_abs())?;
    s.cost = s.cost.add_c(p.cost)?;
    s.margin = s.margin.add_c(p.margin)?;
    s.funding_debt = s.funding_debt.add_c(p.funding_debt)?;
    s.funding_entry_sum = s
        .funding_entry_sum
        .checked_add(funding::entry_term(p.qty, p.funding_entry)?)
        .ok_or_else(crate::error::overflow)?;
    let (qa, cb) = adl_terms(p)?;
    s.adl_qa_sum = s
        .adl_qa_sum
        .checked_add(qa)
        .ok_or_else(crate::error::overflow)?;
    s.adl_cb_sum = s
        .adl_cb_sum
        .checked_add(cb)
        .ok_or_else(crate::error::overflow)?;
    s.positions = s.positions.add_c(1)?;
    Ok(())
}

/// `(q_stored × A_entry, c_stored × B_entry)`.
pub fn adl_terms(p: &Position) -> Result<(I256, I256), ExchangeError> {
    if p.adl_a_entry.is_zero() && p.adl_b_entry.is_zero() {
        return Ok((I256::ZERO, I256::ZERO));
    }
    let q = I256::try_from(p.qty).map_err(ovf)?;
    let c = I256::try_from(p.cost).map_err(ovf)?;
    let a = I256::try_from(p.adl_a_entry).map_err(ovf)?;
    let b = I256::try_from(p.adl_b_entry).map_err(ovf)?;
    Ok((
        q.checked_mul(a).ok_or_else(crate::error::overflow)?,
        c.checked_mul(b).ok_or_else(crate::error::overflow)?,
    ))
}

/// ADL PnL a position has not yet been credited, rounded toward −∞ (what the trader receives).
pub fn adl_owed_to(p: &Position, side: &Side) -> Result<SignedUsd, ExchangeError> {
    if side.adl_a == p.adl_a_entry && side.adl_b == p.adl_b_entry {
        return Ok(0);
    }
    let q = I256::try_from(p.qty).map_err(ovf)?;
    let c = I256::try_from(p.cost).map_err(ovf)?;
    let da = I256::try_from(side.adl_a - p.adl_a_entry).map_err(ovf)?;
    let db = I256::try_from(side.adl_b - p.adl_b_entry).map_err(ovf)?;
    let price_part = div_floor_i256(
        q.checked_mul(da).ok_or_else(crate::error::overflow)?,
        a_div(),
    )?;
    let cost_part = div_ceil_i256(
        c.checked_mul(db).ok_or_else(crate::error::overflow)?,
        I256::try_from(RAY).map_err(ovf)? * I256::try_from(WAD).map_err(ovf)?,
    )?;
    price_part
        .checked_sub(cost_part)
        .ok_or_else(crate::error::overflow)
}

/// Reduce a whole side to the kept fraction `keep_wad` (< WAD) at `price`: O(1).
pub fn apply_adl(side: &mut Side, keep_wad: u128, price: Price) -> Result<(), ExchangeError> {
    if keep_wad >= WAD {
        return Ok(());
    }
    let cut = U256::from(WAD - keep_wad);
    let s_prev = U256::from(side.scale);
    let a_inc = s_prev * cut * U256::from(price) / U256::from(RAY);
    let b_inc = s_prev * cut;
    side.adl_a = side
        .adl_a
        .checked_add(a_inc)
        .ok_or_else(crate::error::overflow)?;
    side.adl_b = side
        .adl_b
        .checked_add(b_inc)
        .ok_or_else(crate::error::overflow)?;
    side.scale = crate::units::mul_div_down_u128(side.scale, keep_wad, WAD)?;
    Ok(())
}

/// Funding index increment per stored unit for an effective increment `d`, rounded up or down.
pub fn funding_step(d: i128, scale: u128, up: bool) -> Result<i128, ExchangeError> {
    scale_signed(d, scale, up)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{QTY_ONE, USD_ONE};

    fn pos(q: i128, c: i128) -> Position {
        Position {
            id: 1,
            owner: Default::default(),
            market: 0,
            qty: q,
            cost: c,
            margin: 0,
            funding_entry: 0,
            adl_a_entry: U256::ZERO,
            adl_b_entry: U256::ZERO,
            opened_at: 0,
            updated_at: 0,
            liquidation_started_at: 0,
            last_liquidation_block: 0,
            funding_debt: 0,
        }
    }

    #[test]
    fn adl_halves_every_position_and_realises_pnl_exactly() {
        let mut side = Side {
            is_long: true,
            ..Side::new()
        };
        // Two longs: 10 tokens at $1,000 and 30 tokens at $1,500.
        let p1 = pos(10 * QTY_ONE as i128, 10_000 * USD_ONE as i128);
        let p2 = pos(30 * QTY_ONE as i128, 45_000 * USD_ONE as i128);
        side_add(&mut side, &p1).unwrap();
        side_add(&mut side, &p2).unwrap();
        apply_adl(&mut side, WAD / 2, 2_000 * WAD).unwrap();
        // effective sizes halve
        assert_eq!(effective(&p1, &side).unwrap().0, 5 * QTY_ONE as i128);
        assert_eq!(side.eff_qty().unwrap(), 20 * QTY_ONE);
        // realised: half of (10 × 2000 − 10,000) = 5,000 and half of (30 × 2000 − 45,000) = 7,500
        assert_eq!(adl_owed_to(&p1, &side).unwrap(), 5_000 * USD_ONE as i128);
        assert_eq!(adl_owed_to(&p2, &side).unwrap(), 7_500 * USD_ONE as i128);
        assert_eq!(side.adl_pending().unwrap(), 12_500 * USD_ONE as i128);
        // a second event on top: keep 80 % at $1,000
        apply_adl(&mut side, 8 * WAD / 10, 1_000 * WAD).unwrap();
        // p1: 5 tokens, cost 5,000 → cut 1 token at 1,000 vs cost 1,000: pnl 0
        assert_eq!(adl_owed_to(&p1, &side).unwrap(), 5_000 * USD_ONE as i128);
        // p2: 15 tokens cost 22,500 → cut 3 tokens: 3,000 − 4,500 = −1,500
        assert_eq!(adl_owed_to(&p2, &side).unwrap(), 6_000 * USD_ONE as i128);
        assert_eq!(side.adl_pending().unwrap(), 11_000 * USD_ONE as i128);
    }

    #[test]
    fn shorts_realise_with_the_right_sign() {
        let mut side = Side {
            is_long: false,
            ..Side::new()
        };
        let p = pos(-10 * QTY_ONE as i128, -20_000 * USD_ONE as i128); // short 10 at $2,000
        side_add(&mut side, &p).unwrap();
        apply_adl(&mut side, 0, 1_500 * WAD).unwrap(); // cut all at $1,500: +5,000
        assert_eq!(adl_owed_to(&p, &side).unwrap(), 5_000 * USD_ONE as i128);
        assert_eq!(side.adl_pending().unwrap(), 5_000 * USD_ONE as i128);
        assert_eq!(effective(&p, &side).unwrap().0, 0);
    }
}

/// What a position holder can see of auto-deleveraging: its current effective size, the size it
/// was opened/last touched at, the PnL ADL has realised for it and not yet credited, and how its
/// side stands against the profit cap (the trigger that targets winners).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct AdlExposure {
    pub position: crate::ids::PositionId,
    /// Effective size now (after every ADL event on its side).
    pub effective_qty: Qty,
    /// Stored size (its size before any ADL event since it was last touched, at scale RAY).
    pub stored_qty: Qty,
    /// PnL realised by ADL for it, credited to its margin when it is next touched.
    pub pending_adl_pnl: SignedUsd,
    /// Its side's kept fraction since listing (WAD; 1e18 = never deleveraged).
    pub side_scale_wad: u128,
    /// Its side's unrealised profit as a share of vault NAV (WAD), and the cap that triggers ADL.
    pub side_profit_to_nav_wad: u128,
    pub profit_cap_wad: u128,
}

impl crate::state::State {
    /// A position's ADL exposure (see [`AdlExposure`]).
    pub fn adl_exposure(&self, id: crate::ids::PositionId) -> Result<AdlExposure, ExchangeError> {
        let p = self
            .position(id)
            .ok_or_else(|| ExchangeError::UnknownPosition(id))?;
        let m = self
            .market(p.market)
            .ok_or_else(|| ExchangeError::UnknownMarket(p.market))?;
        let params = &self.market_params[p.market as usize];
        let side = m.side(p.is_long());
        let (q, _) = effective(p, side)?;
        let totals = crate::risk::fold(
            self.vault.cash,
            self.markets.iter().map(|m| &m.risk),
            self.params.max_vault_utilisation_wad,
        )?;
        let sq = i128::try_from(side.eff_qty()?).map_err(ovf)?;
        let value =
            crate::units::signed_value_floor(if p.is_long() { sq } else { -sq }, m.prices.risk)?;
        let profit = value
            .checked_sub(side.eff_cost()?)
            .ok_or_else(crate::error::overflow)?
            .max(0) as u128;
        let ratio = if totals.nav > 0 {
            crate::units::mul_div_down_u128(profit, WAD, totals.nav as u128)?
        } else {
            u128::MAX
        };
        Ok(AdlExposure {
            position: id,
            effective_qty: q,
            stored_qty: p.qty,
            pending_adl_pnl: adl_owed_to(p, side)?,
            side_scale_wad: crate::units::mul_div_down_u128(side.scale, WAD, RAY)?,
            side_profit_to_nav_wad: ratio,
            profit_cap_wad: params.adl_profit_cap_wad,
        })
    }
}
