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
//!
//! # Epochs
//! When ADL closes a side entirely (kept fraction 0: a one-sided market at the drawdown cap), or
//! when the scale would fall below [`MIN_SCALE`] (repeated ADL: stored sizes of new positions
//! would grow past what the integers hold), the side is closed entirely at that event's price and
//! starts a new **epoch**: `S = RAY`, `A = B = 0`, its current-epoch sums emptied (the funding
//! index carries on). Without it, `S = 0` made every later open on the side divide by zero.
//! - A position belongs to the epoch it was opened in: the side records the first position id of
//!   its current epoch, and ids only grow, so `id < epoch_first_id` ⇔ the position's epoch ended.
//!   Positions never move between epochs (one of an ended epoch can only be closed or settled).
//! - A position of an ended epoch has effective size 0. What it is still owed is fixed: its ADL
//!   PnL up to the epoch's end, minus the funding it owes up to then. The side keeps the epoch's
//!   end values (`A_end`, `B_end`, `J_end`) in [`EndedEpoch`] while some of its positions are
//!   open, and the position settles against them when it is next touched (O(1), exact as before).
//! - The vault counts those claims in O(1): at the epoch's end the side's exact sums give one
//!   numerator `Σ q (A_end − A_e) − 1e3 c (B_end − B_e) − 1e12 |q| (J_end − J_e)` over 1e48, kept
//!   in `Side::ended_claims`; each settling position takes its own exact term out, so the
//!   numerator is exactly the sum over the positions still open (checked by the invariants).
//! - The side keeps [`ENDED_SLOTS`] ended epochs. If all are still in use when another one ends,
//!   the side stays closed (`S = 0`) and its market reduce-only until the oldest is free:
//!   anyone can settle those positions (`SettleDelisted`); the new epoch starts at the next block
//!   end after that.

use crate::error::ExchangeError;
use crate::math::funding;
use crate::state::{EndedEpoch, Position, Side};
use crate::units::{Checked, Price, Qty, Rounding, SignedUsd, WAD};
use alloy_primitives::{I256, U256};

/// The unit scale of a side: `S = RAY` means "no ADL yet".
pub const RAY: u128 = 1_000_000_000_000_000_000_000_000_000;
/// The smallest scale a side keeps (1e-9 of RAY). Below it a new position's stored size would be
/// more than 1e9 times its effective size (an i128 holds 1.7e11 tokens at that factor) and the
/// products with the ADL accumulators approach the 256-bit range; an ADL that would take the
/// scale below it closes the side entirely instead (and a new epoch starts).
pub const MIN_SCALE: u128 = RAY / 1_000_000_000;
/// Ended epochs a side keeps while their positions are open.
pub const ENDED_SLOTS: usize = 2;

/// `1e48 = WAD × NOTIONAL_DIVISOR`: divides `q_stored × A`.
fn a_div() -> I256 {
    I256::try_from(crate::units::WAD).expect("fits")
        * I256::try_from(crate::units::NOTIONAL_DIVISOR).expect("fits")
}

/// `1e45 = RAY × WAD`: divides `c_stored × B`.
fn b_div() -> I256 {
    I256::try_from(RAY).expect("fits") * I256::try_from(WAD).expect("fits")
}

/// `a_div / b_div = 1e3` and `a_div / 1e36 = 1e12`: bring the cost and funding terms of a claim
/// over the price term's denominator.
fn e3() -> I256 {
    I256::try_from(1_000u64).expect("fits")
}
fn e12() -> I256 {
    I256::try_from(1_000_000_000_000u64).expect("fits")
}

fn ovf<T>(_: T) -> ExchangeError {
    ExchangeError::Overflow
}

fn i256_u(x: U256) -> Result<I256, ExchangeError> {
    I256::try_from(x).map_err(ovf)
}

fn mul(a: I256, b: I256) -> Result<I256, ExchangeError> {
    a.checked_mul(b).ok_or_else(crate::error::overflow)
}

fn sub(a: I256, b: I256) -> Result<I256, ExchangeError> {
    a.checked_sub(b).ok_or_else(crate::error::overflow)
}

fn add(a: I256, b: I256) -> Result<I256, ExchangeError> {
    a.checked_add(b).ok_or_else(crate::error::overflow)
}

/// `x × S / RAY` for a signed value, its magnitude rounded in direction `r` (`Down`: toward
/// zero, `Up`: away from zero); the sign is kept.
fn scale_signed(x: i128, s: u128, r: Rounding) -> Result<i128, ExchangeError> {
    if s == RAY {
        return Ok(x);
    }
    let m = match r {
        Rounding::Up => crate::units::mul_div_up_u128(x.unsigned_abs(), s, RAY)?,
        Rounding::Down => crate::units::mul_div_down_u128(x.unsigned_abs(), s, RAY)?,
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
    scale_signed(c, s, Rounding::up_if(c > 0))
}

impl Side {
    /// A fresh side.
    pub fn new() -> Self {
        Side {
            scale: RAY,
            ..Default::default()
        }
    }
    /// Effective total size (base units) of the current epoch, rounded down.
    pub fn eff_qty(&self) -> Result<u128, ExchangeError> {
        if self.scale == RAY {
            return Ok(self.qty);
        }
        crate::units::mul_div_down_u128(self.qty, self.scale, RAY)
    }
    /// Effective total cost basis of the current epoch, rounded toward +∞.
    pub fn eff_cost(&self) -> Result<SignedUsd, ExchangeError> {
        scale_cost(self.cost, self.scale)
    }
    /// PnL owed to the side's positions and not yet credited, rounded up (a liability): ADL PnL
    /// of the current epoch, plus what positions of ended epochs are still owed (their ADL PnL
    /// minus the funding they owe up to their epoch's end).
    pub fn adl_pending(&self) -> Result<SignedUsd, ExchangeError> {
        let ended = if self.ended_claims.is_zero() {
            0
        } else {
            div_ceil_i256(self.ended_claims, a_div())?
        };
        if self.adl_a == U256::ZERO && self.adl_b == U256::ZERO {
            return Ok(ended);
        }
        let q = I256::try_from(self.signed_qty()?).map_err(ovf)?;
        let c = I256::try_from(self.cost).map_err(ovf)?;
        let price_part = sub(mul(q, i256_u(self.adl_a)?)?, self.adl_qa_sum)?;
        let cost_part = sub(mul(c, i256_u(self.adl_b)?)?, self.adl_cb_sum)?;
        let p = div_ceil_i256(price_part, a_div())?;
        let cst = div_floor_i256(cost_part, b_div())?;
        p.checked_sub(cst)
            .and_then(|x| x.checked_add(ended))
            .ok_or_else(crate::error::overflow)
    }
    /// Σ stored qty with the side's sign.
    fn signed_qty(&self) -> Result<i128, ExchangeError> {
        let q = i128::try_from(self.qty).map_err(ovf)?;
        Ok(if self.is_long { q } else { -q })
    }
    /// Open positions of the current epoch.
    pub fn current_positions(&self) -> u64 {
        let ended: u64 = self.ended.iter().map(|e| e.positions).sum();
        self.positions.saturating_sub(ended)
    }
    /// The side was closed entirely by ADL and its new epoch waits for a free slot (every slot
    /// holds an ended epoch with open positions): no new exposure until then.
    pub fn waiting_for_epoch(&self) -> bool {
        self.scale == 0
    }
}

fn div_floor_i256(x: I256, d: I256) -> Result<i128, ExchangeError> {
    crate::units::div_i256_down(x, d)
}

fn div_ceil_i256(x: I256, d: I256) -> Result<i128, ExchangeError> {
    crate::units::div_i256_up(x, d)
}

/// Whether a position belongs to an ended epoch of its side: effective size 0 for ever; it can
/// only be closed (or settled by anyone), never grown.
pub fn is_ended(p: &Position, side: &Side) -> bool {
    p.id < side.epoch_first_id
}

/// A slot that holds (or held) an ended epoch.
fn slot_used(e: &EndedEpoch) -> bool {
    e.positions != 0 || e.adl_b != U256::ZERO
}

/// The slot of the ended epoch a position of an ended epoch belongs to: the one that started
/// last at or before its id (epochs cover disjoint, increasing id ranges, so no other epoch
/// whose slot is still kept can start between the position's epoch's start and its id).
fn ended_slot(side: &Side, id: crate::ids::PositionId) -> Result<usize, ExchangeError> {
    side.ended
        .iter()
        .enumerate()
        .filter(|(_, e)| slot_used(e) && e.first_id <= id)
        .max_by_key(|(_, e)| e.first_id)
        .map(|(i, _)| i)
        .ok_or(ExchangeError::UnknownPosition(id))
}

/// The ended epoch a position belongs to (`None`: the current epoch).
pub fn ended_epoch_of<'a>(
    p: &Position,
    side: &'a Side,
) -> Result<Option<&'a EndedEpoch>, ExchangeError> {
    if !is_ended(p, side) {
        return Ok(None);
    }
    Ok(Some(&side.ended[ended_slot(side, p.id)?]))
}

/// A position of an ended epoch: its exact claim numerator over 1e48 (see the module docs).
fn claim_numerator(p: &Position, e: &EndedEpoch) -> Result<I256, ExchangeError> {
    let q = I256::try_from(p.qty).map_err(ovf)?;
    let qa = I256::try_from(p.qty.unsigned_abs()).map_err(ovf)?;
    let c = I256::try_from(p.cost).map_err(ovf)?;
    let da = i256_u(
        e.adl_a
            .checked_sub(p.adl_a_entry)
            .ok_or(ExchangeError::Underflow)?,
    )?;
    let db = i256_u(
        e.adl_b
            .checked_sub(p.adl_b_entry)
            .ok_or(ExchangeError::Underflow)?,
    )?;
    let dj = I256::try_from(e.funding_index)
        .map_err(ovf)?
        .checked_sub(I256::try_from(p.funding_entry).map_err(ovf)?)
        .ok_or_else(crate::error::overflow)?;
    sub(
        sub(mul(q, da)?, mul(mul(c, db)?, e3())?)?,
        mul(mul(qa, dj)?, e12())?,
    )
}

/// For the invariant check: the ended-epoch slot a position belongs to (`None`: current epoch)
/// and its exact claim numerator over 1e48 (zero for the current epoch).
pub fn ended_claim(p: &Position, side: &Side) -> Result<Option<(usize, I256)>, ExchangeError> {
    if !is_ended(p, side) {
        return Ok(None);
    }
    let i = ended_slot(side, p.id)?;
    Ok(Some((i, claim_numerator(p, &side.ended[i])?)))
}

/// The current epoch's claim numerator over all its positions, from the side's exact sums.
fn current_claims(side: &Side) -> Result<I256, ExchangeError> {
    let q = I256::try_from(side.signed_qty()?).map_err(ovf)?;
    let c = I256::try_from(side.cost).map_err(ovf)?;
    let price = sub(mul(q, i256_u(side.adl_a)?)?, side.adl_qa_sum)?;
    let cost = sub(mul(c, i256_u(side.adl_b)?)?, side.adl_cb_sum)?;
    let fund = sub(
        funding::entry_term(i128::try_from(side.qty).map_err(ovf)?, side.funding_index)?,
        side.funding_entry_sum,
    )?;
    sub(sub(price, mul(cost, e3())?)?, mul(fund, e12())?)
}

/// A position's effective size and cost basis at its side's scale (0 in an ended epoch).
pub fn effective(p: &Position, side: &Side) -> Result<(Qty, SignedUsd), ExchangeError> {
    if is_ended(p, side) {
        return Ok((0, 0));
    }
    Ok((
        scale_signed(p.qty, side.scale, Rounding::Down)?,
        scale_cost(p.cost, side.scale)?,
    ))
}

/// Stored values for an effective size and cost at the side's (current epoch's) scale.
pub fn stored(
    q_eff: Qty,
    c_eff: SignedUsd,
    side: &Side,
) -> Result<(Qty, SignedUsd), ExchangeError> {
    if side.scale == 0 {
        // Closed by ADL, new epoch waiting for a slot (the market is reduce-only meanwhile).
        return Err(ExchangeError::DivisionByZero);
    }
    Ok((
        unscale_signed(q_eff, side.scale)?,
        unscale_signed(c_eff, side.scale)?,
    ))
}

/// Remove a position's contribution from its side's aggregates.
pub fn side_remove(s: &mut Side, p: &Position) -> Result<(), ExchangeError> {
    s.margin = s.margin.sub_c(p.margin)?;
    s.funding_debt = s.funding_debt.sub_c(p.funding_debt)?;
    s.positions = s.positions.sub_c(1)?;
    if is_ended(p, s) {
        let i = ended_slot(s, p.id)?;
        let n = claim_numerator(p, &s.ended[i])?;
        s.ended[i].positions = s.ended[i].positions.sub_c(1)?;
        s.ended_claims = sub(s.ended_claims, n)?;
        return Ok(());
    }
    s.qty = s.qty.sub_c(p.qty.unsigned_abs())?;
    s.cost = s.cost.sub_c(p.cost)?;
    s.funding_entry_sum = sub(
        s.funding_entry_sum,
        funding::entry_term(p.qty, p.funding_entry)?,
    )?;
    let (qa, cb) = adl_terms(p)?;
    s.adl_qa_sum = sub(s.adl_qa_sum, qa)?;
    s.adl_cb_sum = sub(s.adl_cb_sum, cb)?;
    Ok(())
}

/// Add a position's contribution to its side's aggregates.
pub fn side_add(s: &mut Side, p: &Position) -> Result<(), ExchangeError> {
    s.margin = s.margin.add_c(p.margin)?;
    s.funding_debt = s.funding_debt.add_c(p.funding_debt)?;
    s.positions = s.positions.add_c(1)?;
    if is_ended(p, s) {
        // Only ever added back after `sync` settled it to its epoch's end (nothing left to claim).
        // Refusing anything else keeps a caller that moved its entries elsewhere from recording a
        // claim it would be paid twice.
        let i = ended_slot(s, p.id)?;
        let e = &s.ended[i];
        if (p.adl_a_entry, p.adl_b_entry, p.funding_entry) != (e.adl_a, e.adl_b, e.funding_index) {
            return Err(ExchangeError::Unauthorised(
                "a position of an ended ADL epoch must be settled to the epoch's end (book::sync)",
            ));
        }
        s.ended[i].positions = s.ended[i].positions.add_c(1)?;
        return Ok(());
    }
    s.qty = s.qty.add_c(p.qty.unsigned_abs())?;
    s.cost = s.cost.add_c(p.cost)?;
    s.funding_entry_sum = add(
        s.funding_entry_sum,
        funding::entry_term(p.qty, p.funding_entry)?,
    )?;
    let (qa, cb) = adl_terms(p)?;
    s.adl_qa_sum = add(s.adl_qa_sum, qa)?;
    s.adl_cb_sum = add(s.adl_cb_sum, cb)?;
    Ok(())
}

/// `(q_stored × A_entry, c_stored × B_entry)`.
pub fn adl_terms(p: &Position) -> Result<(I256, I256), ExchangeError> {
    if p.adl_a_entry.is_zero() && p.adl_b_entry.is_zero() {
        return Ok((I256::ZERO, I256::ZERO));
    }
    let q = I256::try_from(p.qty).map_err(ovf)?;
    let c = I256::try_from(p.cost).map_err(ovf)?;
    Ok((
        mul(q, i256_u(p.adl_a_entry)?)?,
        mul(c, i256_u(p.adl_b_entry)?)?,
    ))
}

/// ADL PnL between entries `(a_e, b_e)` and accumulators `(a, b)`, rounded toward −∞.
fn adl_between(p: &Position, a: U256, b: U256) -> Result<SignedUsd, ExchangeError> {
    if a == p.adl_a_entry && b == p.adl_b_entry {
        return Ok(0);
    }
    let q = I256::try_from(p.qty).map_err(ovf)?;
    let c = I256::try_from(p.cost).map_err(ovf)?;
    let da = i256_u(
        a.checked_sub(p.adl_a_entry)
            .ok_or(ExchangeError::Underflow)?,
    )?;
    let db = i256_u(
        b.checked_sub(p.adl_b_entry)
            .ok_or(ExchangeError::Underflow)?,
    )?;
    let price_part = div_floor_i256(mul(q, da)?, a_div())?;
    let cost_part = div_ceil_i256(mul(c, db)?, b_div())?;
    price_part
        .checked_sub(cost_part)
        .ok_or_else(crate::error::overflow)
}

/// ADL PnL a position has not yet been credited, rounded toward −∞ (what the trader receives).
/// For a position of an ended epoch: up to that epoch's end.
pub fn adl_owed_to(p: &Position, side: &Side) -> Result<SignedUsd, ExchangeError> {
    match ended_epoch_of(p, side)? {
        Some(e) => adl_between(p, e.adl_a, e.adl_b),
        None => adl_between(p, side.adl_a, side.adl_b),
    }
}

/// Funding a position owes since its last settlement (+ = owes; rounded up when owed). For a
/// position of an ended epoch: up to that epoch's end (its effective size is 0 since).
pub fn funding_owed_by(p: &Position, side: &Side) -> Result<SignedUsd, ExchangeError> {
    let index = match ended_epoch_of(p, side)? {
        Some(e) => e.funding_index,
        None => side.funding_index,
    };
    funding::owed(p.qty, index, p.funding_entry)
}

/// What bringing a position up to date with its side moves: ADL PnL credited to it (rounded
/// toward −∞) and funding it owes (+) or receives (−).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Synced {
    /// ADL PnL credited to the position by this sync (micro-azUSD, signed: + a gain paid to the
    /// position, − a loss it bears), rounded toward −∞.
    pub adl_pnl: SignedUsd,
    /// Funding the position settles by this sync (micro-azUSD, signed: + it owes, − it
    /// receives), rounded toward +∞.
    pub funding_owed: SignedUsd,
}

/// Bring a position's ADL and funding entries up to date with its side (for a position of an
/// ended epoch: to the epoch's end) and return what that settles. The caller moves the money.
/// Call with the position out of its side's aggregates.
pub fn sync(p: &mut Position, side: &Side) -> Result<Synced, ExchangeError> {
    let (a, b, j) = match ended_epoch_of(p, side)? {
        Some(e) => (e.adl_a, e.adl_b, e.funding_index),
        None => (side.adl_a, side.adl_b, side.funding_index),
    };
    let s = Synced {
        adl_pnl: adl_between(p, a, b)?,
        funding_owed: funding::owed(p.qty, j, p.funding_entry)?,
    };
    p.adl_a_entry = a;
    p.adl_b_entry = b;
    p.funding_entry = j;
    Ok(s)
}

/// What one ADL event did to a side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdlCut {
    /// The kept fraction applied (0 when the precision floor turned the cut into a full one).
    pub keep_wad: u128,
    /// The side was closed entirely and a new epoch started.
    pub new_epoch: bool,
}

/// Reduce a whole side to the kept fraction `keep_wad` (< WAD) at `price`: O(1). A cut that
/// would leave the scale below [`MIN_SCALE`] closes the side entirely; a side closed entirely
/// starts a new epoch whose first position id is `next_id` (if a slot is free, else it waits).
pub fn apply_adl(
    side: &mut Side,
    keep_wad: u128,
    price: Price,
    next_id: crate::ids::PositionId,
) -> Result<AdlCut, ExchangeError> {
    if keep_wad >= WAD {
        return Ok(AdlCut {
            keep_wad: WAD,
            new_epoch: false,
        });
    }
    let mut keep = keep_wad;
    let mut scale = crate::units::mul_div_down_u128(side.scale, keep, WAD)?;
    if scale < MIN_SCALE {
        keep = 0;
        scale = 0;
    }
    let cut = U256::from(WAD - keep);
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
    side.scale = scale;
    let new_epoch = scale == 0 && new_epoch(side, next_id)?;
    Ok(AdlCut {
        keep_wad: keep,
        new_epoch,
    })
}

/// Start a new epoch on a side closed entirely by ADL (`scale == 0`): its positions move to an
/// ended-epoch slot (their claims into `ended_claims`), the side starts afresh at scale RAY with
/// `next_id` as its first position id. Returns false (nothing changed) when every slot still
/// holds an ended epoch with open positions.
pub fn new_epoch(side: &mut Side, next_id: crate::ids::PositionId) -> Result<bool, ExchangeError> {
    if side.scale != 0 {
        return Ok(false);
    }
    let open = side.current_positions();
    if open > 0 {
        let Some(slot) = side.ended.iter().position(|e| e.positions == 0) else {
            return Ok(false);
        };
        let claims = current_claims(side)?;
        side.ended[slot] = EndedEpoch {
            first_id: side.epoch_first_id,
            adl_a: side.adl_a,
            adl_b: side.adl_b,
            funding_index: side.funding_index,
            positions: open,
        };
        side.ended_claims = add(side.ended_claims, claims)?;
    }
    side.qty = 0;
    side.cost = 0;
    side.funding_entry_sum = I256::ZERO;
    side.adl_a = U256::ZERO;
    side.adl_b = U256::ZERO;
    side.adl_qa_sum = I256::ZERO;
    side.adl_cb_sum = I256::ZERO;
    side.scale = RAY;
    side.epoch = side
        .epoch
        .checked_add(1)
        .ok_or_else(crate::error::overflow)?;
    side.epoch_first_id = next_id;
    Ok(true)
}

/// Funding index increment per stored unit for an effective increment `d`, its magnitude
/// rounded up (away from zero): what the paying side owes.
pub fn funding_step_up(d: i128, scale: u128) -> Result<i128, ExchangeError> {
    scale_signed(d, scale, Rounding::Up)
}

/// Funding index increment per stored unit for an effective increment `d`, its magnitude
/// rounded down (toward zero): what the receiving side is owed.
pub fn funding_step_down(d: i128, scale: u128) -> Result<i128, ExchangeError> {
    scale_signed(d, scale, Rounding::Down)
}

/// What a position holder can see of auto-deleveraging: its current effective size, the size it
/// was opened/last touched at, the PnL ADL has realised for it and not yet credited, and how its
/// side stands against the profit cap (the trigger that targets winners).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct AdlExposure {
    /// The position these figures are about.
    pub position: crate::ids::PositionId,
    /// Effective size now (after every ADL event on its side).
    pub effective_qty: Qty,
    /// Stored size (its size before any ADL event since it was last touched, at scale RAY).
    pub stored_qty: Qty,
    /// PnL realised by ADL for it, credited to its margin when it is next touched.
    pub pending_adl_pnl: SignedUsd,
    /// Its side's kept fraction since its epoch began (WAD; 1e18 = never deleveraged; 0 for a
    /// position of an ended epoch).
    pub side_scale_wad: u128,
    /// Its epoch ended: ADL closed its side entirely; it can only be closed (margin and PnL
    /// paid out) or settled by anyone (`SettleDelisted`).
    pub epoch_ended: bool,
    /// Its side's unrealised profit at the risk price (0 when the side is at a loss) as a share
    /// of vault NAV (WAD, rounded down; `u128::MAX` when NAV ≤ 0).
    pub side_profit_to_nav_wad: u128,
    /// The market's ADL profit cap, `MarketParams::adl_profit_cap_wad` (WAD, default 45 %): ADL
    /// cuts the side when `side_profit_to_nav_wad` exceeds it (docs/protocol.md §7).
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
            .max(0)
            .unsigned_abs();
        let ratio = if totals.nav > 0 {
            crate::units::mul_div_down_u128(profit, WAD, totals.nav.unsigned_abs())?
        } else {
            u128::MAX
        };
        Ok(AdlExposure {
            position: id,
            effective_qty: q,
            stored_qty: p.qty,
            pending_adl_pnl: adl_owed_to(p, side)?,
            side_scale_wad: if is_ended(p, side) {
                0
            } else {
                crate::units::mul_div_down_u128(side.scale, WAD, RAY)?
            },
            epoch_ended: is_ended(p, side),
            side_profit_to_nav_wad: ratio,
            profit_cap_wad: params.adl_profit_cap_wad,
        })
    }
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
        apply_adl(&mut side, WAD / 2, 2_000 * WAD, 100).unwrap();
        // effective sizes halve
        assert_eq!(effective(&p1, &side).unwrap().0, 5 * QTY_ONE as i128);
        assert_eq!(side.eff_qty().unwrap(), 20 * QTY_ONE);
        // realised: half of (10 × 2000 − 10,000) = 5,000 and half of (30 × 2000 − 45,000) = 7,500
        assert_eq!(adl_owed_to(&p1, &side).unwrap(), 5_000 * USD_ONE as i128);
        assert_eq!(adl_owed_to(&p2, &side).unwrap(), 7_500 * USD_ONE as i128);
        assert_eq!(side.adl_pending().unwrap(), 12_500 * USD_ONE as i128);
        // a second event on top: keep 80 % at $1,000
        apply_adl(&mut side, 8 * WAD / 10, 1_000 * WAD, 100).unwrap();
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
        let cut = apply_adl(&mut side, 0, 1_500 * WAD, 100).unwrap(); // cut all at $1,500: +5,000
        assert!(cut.new_epoch && side.scale == RAY && side.epoch == 1);
        assert_eq!(adl_owed_to(&p, &side).unwrap(), 5_000 * USD_ONE as i128);
        assert_eq!(side.adl_pending().unwrap(), 5_000 * USD_ONE as i128);
        assert_eq!(effective(&p, &side).unwrap().0, 0);
    }

    fn pos_id(id: u64, q: i128, c: i128) -> Position {
        Position { id, ..pos(q, c) }
    }

    /// Take a position out, settle it against its side (what `trade::touch` does), put it back.
    fn touch(side: &mut Side, p: &mut Position) -> Synced {
        side_remove(side, p).unwrap();
        let s = sync(p, side).unwrap();
        side_add(side, p).unwrap();
        s
    }

    #[test]
    fn a_side_closed_entirely_starts_a_new_epoch_and_old_positions_settle_exactly() {
        let one = QTY_ONE as i128;
        let usd = USD_ONE as i128;
        let mut side = Side {
            is_long: true,
            ..Side::new()
        };
        // Two longs of epoch 0 with funding accrued since their entry.
        let mut p1 = pos_id(1, 10 * one, 10_000 * usd);
        let mut p2 = pos_id(2, 30 * one, 45_000 * usd);
        side_add(&mut side, &p1).unwrap();
        side_add(&mut side, &p2).unwrap();
        side.funding_index = 7 * WAD as i128 * 1_000_000; // $7 per token owed
        apply_adl(&mut side, WAD / 2, 2_000 * WAD, 3).unwrap();
        // The one-sided market at the drawdown cap: keep 0.
        let cut = apply_adl(&mut side, 0, 1_000 * WAD, 3).unwrap();
        assert!(cut.new_epoch);
        assert_eq!((side.epoch, side.epoch_first_id, side.scale), (1, 3, RAY));
        assert_eq!(
            (side.qty, side.current_positions(), side.positions),
            (0, 0, 2)
        );
        assert!(is_ended(&p1, &side) && effective(&p1, &side).unwrap() == (0, 0));
        // p1: half at 2,000 (+5,000), half at 1,000 (0); funding 10 × $7 = 70.
        assert_eq!(adl_owed_to(&p1, &side).unwrap(), 5_000 * usd);
        assert_eq!(funding_owed_by(&p1, &side).unwrap(), 70 * usd);
        // p2: +7,500 then 15 × 1,000 − 22,500 = −7,500; funding 210.
        assert_eq!(adl_owed_to(&p2, &side).unwrap(), 0);
        assert_eq!(funding_owed_by(&p2, &side).unwrap(), 210 * usd);
        // The vault's liability: claims net of funding, 5,000 − 70 + 0 − 210.
        assert_eq!(side.adl_pending().unwrap(), 4_720 * usd);

        // The new epoch works: a new position opens at scale RAY, funding and ADL apply to it
        // and not to the positions of the ended epoch.
        let (q3, c3) = stored(4 * one, 8_000 * usd, &side).unwrap();
        let mut p3 = Position {
            funding_entry: side.funding_index,
            ..pos_id(3, q3, c3)
        };
        side_add(&mut side, &p3).unwrap();
        side.funding_index += 5 * WAD as i128 * 1_000_000;
        apply_adl(&mut side, WAD / 4, 3_000 * WAD, 4).unwrap();
        assert_eq!(effective(&p3, &side).unwrap().0, one);
        assert_eq!(adl_owed_to(&p3, &side).unwrap(), 3 * 1_000 * usd); // 3 × (3,000 − 2,000)
        assert_eq!(adl_owed_to(&p1, &side).unwrap(), 5_000 * usd);
        assert_eq!(funding_owed_by(&p1, &side).unwrap(), 70 * usd);
        assert_eq!(side.adl_pending().unwrap(), 4_720 * usd + 3_000 * usd);

        // Settling the old positions takes exactly their claims out; the slot frees.
        let s1 = touch(&mut side, &mut p1);
        assert_eq!(
            s1,
            Synced {
                adl_pnl: 5_000 * usd,
                funding_owed: 70 * usd
            }
        );
        assert_eq!(touch(&mut side, &mut p1), Synced::default(), "settled once");
        side_remove(&mut side, &p1).unwrap();
        let s2 = touch(&mut side, &mut p2);
        assert_eq!(
            s2,
            Synced {
                adl_pnl: 0,
                funding_owed: 210 * usd
            }
        );
        side_remove(&mut side, &p2).unwrap();
        assert_eq!(side.ended_claims, I256::ZERO);
        assert_eq!(side.ended[0].positions, 0);
        assert_eq!(side.adl_pending().unwrap(), 3_000 * usd);
        let s3 = touch(&mut side, &mut p3);
        assert_eq!(s3.adl_pnl, 3_000 * usd);
        assert_eq!(s3.funding_owed, 20 * usd); // 4 tokens × $5
    }

    #[test]
    fn the_precision_floor_closes_the_side_instead_of_shrinking_it_further() {
        let one = QTY_ONE as i128;
        let usd = USD_ONE as i128;
        let mut side = Side {
            is_long: false,
            ..Side::new()
        };
        let p = pos_id(1, -1_000_000 * one, -2_000_000_000 * usd); // short 1M at $2,000
        side_add(&mut side, &p).unwrap();
        // Three cuts to a thousandth each: the scale reaches the floor exactly and stays.
        for _ in 0..3 {
            let c = apply_adl(&mut side, WAD / 1_000, 1_000 * WAD, 9).unwrap();
            assert!(!c.new_epoch && c.keep_wad == WAD / 1_000);
        }
        assert_eq!(side.scale, MIN_SCALE);
        assert_eq!(effective(&p, &side).unwrap().0, -one / 1_000);
        // A new position on a side at the floor: stored 1e9 times its size, still exact.
        let (q, _) = stored(-one, -1_000 * usd, &side).unwrap();
        assert_eq!(q, -one * 1_000_000_000);
        // The next cut would leave less than the floor: the side is closed at this price.
        let c = apply_adl(&mut side, WAD / 2, 1_000 * WAD, 9).unwrap();
        assert_eq!(
            c,
            AdlCut {
                keep_wad: 0,
                new_epoch: true
            }
        );
        assert_eq!((side.scale, side.epoch_first_id), (RAY, 9));
        // Everything was realised at $1,000 against a $2,000 entry: +$1B exactly (to a unit).
        let owed = adl_owed_to(&p, &side).unwrap();
        assert!((1_000_000_000 * usd - owed).abs() <= 1, "{owed}");
        assert!(side.adl_pending().unwrap() >= owed);
        assert!(side.adl_pending().unwrap() - owed <= 2);
    }

    #[test]
    fn with_every_slot_in_use_the_side_waits_closed_until_one_frees() {
        let one = QTY_ONE as i128;
        let usd = USD_ONE as i128;
        let mut side = Side {
            is_long: true,
            ..Side::new()
        };
        let mut ids = 1u64;
        let mut olds = vec![];
        for _ in 0..ENDED_SLOTS {
            let (q, c) = stored(one, 1_000 * usd, &side).unwrap();
            let p = pos_id(ids, q, c);
            ids += 1;
            side_add(&mut side, &p).unwrap();
            olds.push(p);
            assert!(apply_adl(&mut side, 0, 1_000 * WAD, ids).unwrap().new_epoch);
        }
        let p = pos_id(ids, one, 1_000 * usd);
        ids += 1;
        side_add(&mut side, &p).unwrap();
        let c = apply_adl(&mut side, 0, 1_000 * WAD, ids).unwrap();
        assert!(!c.new_epoch && side.waiting_for_epoch());
        assert_eq!(
            stored(one, 1_000 * usd, &side),
            Err(ExchangeError::DivisionByZero)
        );
        assert!(!new_epoch(&mut side, ids).unwrap(), "no slot yet");
        // The oldest epoch's last position settles and leaves: its slot frees.
        let mut o = olds[0];
        side_remove(&mut side, &o).unwrap();
        sync(&mut o, &side).unwrap();
        assert!(new_epoch(&mut side, ids).unwrap());
        assert_eq!((side.scale, side.epoch as usize), (RAY, ENDED_SLOTS + 1));
        assert!(is_ended(&p, &side) && is_ended(&olds[1], &side));
        assert_eq!(ended_epoch_of(&p, &side).unwrap().unwrap().first_id, p.id);
        assert_eq!(
            ended_epoch_of(&olds[1], &side).unwrap().unwrap().first_id,
            olds[1].id
        );
    }
}
