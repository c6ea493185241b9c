//! The liquidation index: finds every position a price move makes liquidatable in
//! O(k + log n) per (market, side, margin tier), never by scanning all positions.
//!
//! This is *derived* data for keepers (and the simulator), not consensus state: the engine
//! re-checks every liquidation itself. A keeper keeps it up to date from the events of each block
//! (`upsert` every position an event names); after a `Deleveraged` event it re-indexes that side.
//!
//! # The key
//! For a long with effective size `q`, cost `c`, margin `M`, stored size `q_s`, funding entry
//! `J_e`, maintenance rate `mm` (fixed by its tier) and close-fee rate `fee`, with `k = 1 − fee −
//! mm`, the position is liquidatable at price `P` and funding index `J` iff
//! ```text
//! P < X + J·(q_s/q)/k        X = (c − M − q_s·J_e) / (q·k)      (units made explicit in code)
//! ```
//! `X` depends only on the position; the funding term is the same for every position of a side
//! and tier (`q_s/q = RAY/S`). So each (market, side, tier) keeps an ordered set of `(X, id)` and a
//! query is one range: longs with `X > P − J·RAY/(S·k)`. Shorts mirror it with `k' = 1 + fee + mm`:
//! liquidatable iff `Y < P + J·RAY/(S·k')`, `Y = (M − c + a_s·J_e)/(a·k')`. (In code units: a
//! funding index `J` is azUSD·1e18 per token and owed amounts divide by 1e36, so the term is
//! `J·1e12·RAY/(S·k_wad)` in WAD price units.)
//!
//! Rounding is conservative: keys and thresholds round toward "liquidatable", so the index may
//! name a position that is not (the engine refuses, harmlessly) but never misses one between
//! re-indexings.

use crate::book::{self, RAY};
use crate::error::ExchangeError;
use crate::ids::{MarketId, PositionId};
use crate::state::{Position, State};
use crate::units::{Price, WAD};
use alloy_primitives::I256;
use std::collections::{BTreeMap, BTreeSet};

type Book = (MarketId, bool, u8);

/// See the module docs.
#[derive(Debug, Clone, Default)]
pub struct LiqIndex {
    books: BTreeMap<Book, BTreeSet<(i128, PositionId)>>,
    by_id: BTreeMap<PositionId, (Book, i128)>,
    /// Ids per (market, side), so re-indexing a side costs O(side), not O(all).
    sides: BTreeMap<(MarketId, bool), BTreeSet<PositionId>>,
}

fn i(x: u128) -> I256 {
    I256::try_from(x).expect("u128 fits in I256")
}

fn clamp(x: I256) -> i128 {
    if x > I256::try_from(i128::MAX).expect("fits") {
        i128::MAX
    } else if x < I256::try_from(i128::MIN).expect("fits") {
        i128::MIN
    } else {
        i128::try_from(x).expect("checked")
    }
}

/// floor / ceil division of signed values by a positive divisor.
fn div_floor(x: I256, d: I256) -> I256 {
    let (q, r) = (x / d, x % d);
    if r.is_negative() {
        q - I256::ONE
    } else {
        q
    }
}
fn div_ceil(x: I256, d: I256) -> I256 {
    let (q, r) = (x / d, x % d);
    if !r.is_zero() && !r.is_negative() {
        q + I256::ONE
    } else {
        q
    }
}

/// The index entry of a position: `(book, key)`, or `None` if it has no effective size.
pub fn entry(s: &State, p: &Position) -> Result<Option<(Book, i128)>, ExchangeError> {
    let m = s
        .market(p.market)
        .ok_or_else(|| ExchangeError::UnknownMarket(p.market))?;
    let params = s
        .market_params
        .get(p.market as usize)
        .ok_or_else(|| ExchangeError::UnknownMarket(p.market))?;
    let long = p.is_long();
    let side = m.side(long);
    let (q, c) = book::effective(p, side)?;
    if q == 0 {
        return Ok(None);
    }
    let tier_idx = params
        .margin_tiers
        .iter()
        .position(|t| c.unsigned_abs() <= t.max_notional)
        .unwrap_or(params.margin_tiers.len() - 1);
    let mm = params.margin_tiers[tier_idx].maintenance_margin_wad;
    let fee = params.taker_fee_wad;
    let a = i(q.unsigned_abs());
    let funding_entry = div_floor(
        i(p.qty.unsigned_abs()) * I256::try_from(p.funding_entry).expect("fits"),
        i(WAD * WAD),
    );
    let cm = I256::try_from(c).expect("fits");
    // Margin net of the position's funding debt (one equity everywhere, docs/protocol.md §6.2).
    let m_ = i(p.margin) - i(p.funding_debt);
    // X = (c − M − q_s·J_e/1e36) × 1e30 / q × WAD / k, rounded up (longs; flags earlier);
    // Y = (M − c + a_s·J_e/1e36) × 1e30 / a × WAD / k', rounded down (shorts). On overflow the
    // key saturates toward "always a candidate".
    let key = if long {
        let k = i(WAD.saturating_sub(fee + mm).max(1));
        (cm - m_ - funding_entry)
            .checked_mul(i(crate::units::NOTIONAL_DIVISOR))
            .map(|x| div_ceil(x, a))
            .and_then(|x| x.checked_mul(i(WAD)))
            .map(|x| clamp(div_ceil(x, k)))
            .unwrap_or(i128::MAX)
    } else {
        let k = i(WAD + fee + mm);
        (m_ - cm + funding_entry)
            .checked_mul(i(crate::units::NOTIONAL_DIVISOR))
            .map(|x| div_floor(x, a))
            .and_then(|x| x.checked_mul(i(WAD)))
            .map(|x| clamp(div_floor(x, k)))
            .unwrap_or(i128::MIN)
    };
    let tier = u8::try_from(tier_idx).map_err(|_| crate::error::overflow())?;
    Ok(Some(((p.market, long, tier), key)))
}

impl LiqIndex {
    /// An empty index (no position); fill it with [`LiqIndex::build`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Index every position of a state (start-up of a keeper).
    pub fn build(s: &State) -> Result<Self, ExchangeError> {
        let mut ix = Self::new();
        for p in s.positions.values() {
            ix.insert(s, p)?;
        }
        Ok(ix)
    }

    /// Number of positions indexed (a position whose effective size is 0, e.g. of an ended ADL
    /// epoch, is not indexed).
    pub fn len(&self) -> usize {
        self.by_id.len()
    }
    /// Whether no position is indexed.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    fn insert(&mut self, s: &State, p: &Position) -> Result<(), ExchangeError> {
        if let Some((book, key)) = entry(s, p)? {
            self.books.entry(book).or_default().insert((key, p.id));
            self.by_id.insert(p.id, (book, key));
            self.sides.entry((book.0, book.1)).or_default().insert(p.id);
        }
        Ok(())
    }

    /// Forget a position.
    pub fn remove(&mut self, id: PositionId) {
        if let Some((book, key)) = self.by_id.remove(&id) {
            if let Some(set) = self.books.get_mut(&book) {
                set.remove(&(key, id));
            }
            if let Some(set) = self.sides.get_mut(&(book.0, book.1)) {
                set.remove(&id);
            }
        }
    }

    /// Re-read a position from the state (after any event naming it); removes it if it is gone.
    pub fn upsert(&mut self, s: &State, id: PositionId) -> Result<(), ExchangeError> {
        self.remove(id);
        if let Some(p) = s.position(id) {
            self.insert(s, &p.clone())?;
        }
        Ok(())
    }

    /// Re-index every position of one side (after an ADL event on it): O(side size).
    pub fn reindex_side(
        &mut self,
        s: &State,
        market: MarketId,
        long: bool,
    ) -> Result<(), ExchangeError> {
        let ids: Vec<PositionId> = self
            .sides
            .get(&(market, long))
            .map(|x| x.iter().copied().collect())
            .unwrap_or_default();
        for id in ids {
            self.upsert(s, id)?;
        }
        Ok(())
    }

    /// Positions of `market` that may be liquidatable at `price` (the engine decides).
    pub fn candidates_at(
        &self,
        s: &State,
        market: MarketId,
        price: Price,
    ) -> Result<Vec<PositionId>, ExchangeError> {
        self.candidates_side(s, market, price, None)
    }

    fn candidates_side(
        &self,
        s: &State,
        market: MarketId,
        price: Price,
        only: Option<bool>,
    ) -> Result<Vec<PositionId>, ExchangeError> {
        let m = s
            .market(market)
            .ok_or_else(|| ExchangeError::UnknownMarket(market))?;
        let params = &s.market_params[market as usize];
        let mut out = Vec::new();
        for (tier_idx, t) in params.margin_tiers.iter().enumerate() {
            for long in [true, false] {
                if only.is_some_and(|o| o != long) {
                    continue;
                }
                let tier = u8::try_from(tier_idx).map_err(|_| crate::error::overflow())?;
                let Some(set) = self.books.get(&(market, long, tier)) else {
                    continue;
                };
                let side = m.side(long);
                let j = I256::try_from(side.funding_index).expect("fits");
                let scale = i(side.scale.max(1));
                let p = i(price);
                // The funding term J·(RAY/S)·1e12/k (k in WAD), rounded so that the threshold
                // flags more; saturating on overflow (unreachable for any real J).
                let jterm = |k: I256| -> I256 {
                    j.checked_mul(i(1_000_000_000_000) * i(RAY))
                        .map(|x| div_ceil(x, k * scale))
                        .unwrap_or(if j.is_negative() {
                            I256::MIN
                        } else {
                            I256::MAX
                        })
                };
                if long {
                    let k = i(WAD
                        .saturating_sub(params.taker_fee_wad + t.maintenance_margin_wad)
                        .max(1));
                    let th = clamp(p.saturating_sub(jterm(k)));
                    out.extend(set.range((th.saturating_add(1), 0)..).map(|(_, id)| *id));
                } else {
                    let k = i(WAD + params.taker_fee_wad + t.maintenance_margin_wad);
                    let th = clamp(p.saturating_add(jterm(k)));
                    out.extend(set.range(..(th, 0)).map(|(_, id)| *id));
                }
            }
        }
        Ok(out)
    }

    /// Candidates at the market's current liquidation prices (each side its own).
    pub fn candidates(
        &self,
        s: &State,
        market: MarketId,
    ) -> Result<Vec<PositionId>, ExchangeError> {
        let m = s
            .market(market)
            .ok_or_else(|| ExchangeError::UnknownMarket(market))?;
        let mut out = self.candidates_side(s, market, m.liquidation_price(true), Some(true))?;
        out.extend(self.candidates_side(s, market, m.liquidation_price(false), Some(false))?);
        Ok(out)
    }
}
