//! `MockVenue`: a small, integer, deterministic perp exchange for developing the simulator
//! before the real engine is connected. It is deliberately naive where the real engine is not:
//!
//! - **Spot**: one constant-product pool per market (azUSD reserve `y`, price `P`, base
//!   reserve `x = y / P`), swap fee `spot_fee_bps` (taken from the input and kept out of the
//!   pool). The arbitrageur moves it to the data price each sub-step without fee.
//! - **Mark = spot**, no price impact, and liquidations are triggered and executed at spot: the
//!   spot-manipulation and stop-hunting attacks work here, which is what the real engine's
//!   impact curve and truncated TWAP must prevent. The TWAP (mean of end-of-block spots over
//!   `twap_seconds`) is only reported.
//! - **Positions**: isolated; collateral = notional / leverage (rounded up); open/close fees
//!   (to LPs); liquidatable when `equity < maintenance`, where equity = collateral + price PnL −
//!   funding − close fee. Liquidations close the whole position; a penalty of
//!   `liquidation_penalty_bps` of notional (capped at the remaining equity) is split between the
//!   keeper (`keeper_share_bps`) and the insurance fund. A loss beyond collateral is a deficit:
//!   the insurance fund covers what it can, the vault the rest (bad debt).
//! - **Funding**: rate per day = `funding_max_per_day_bps` × (L − S)/(L + S); the dominant side
//!   pays it on its size and the minority side receives it on its size, through per-side
//!   cumulative indexes (O(1) per position); the difference (the net exposure's share) accrues
//!   to the vault.
//! - **Requirement** (AZEx net exposure accounting): per market `min(|L − S| × safety factor,
//!   max(L, S)) + gross_stress_bps × (L + S)`, the safety factor tiered by imbalance
//!   `|L − S| / (L + S)` (default 1.0x up to 10%, 1.25x up to 30%, 1.5x above); the net term
//!   never exceeds what a fully backed pool would hold. An open that would raise
//!   the total requirement above the vault NAV is rejected; so is an LP withdrawal that would
//!   leave NAV below the requirement.
//! - **ADL** at end of block while requirement > NAV: the market with the largest requirement
//!   has its dominant side's most profitable positions closed at spot, without fee.
//! - **Vault**: NAV = cash + unrealised (−trader price PnL + funding owed), aggregated per side
//!   (O(1) per market). Shares are WAD; the first deposit mints one share per azUSD.
//!
//! Per-position funding and the per-side aggregates round separately, so NAV may differ from
//! the exact sum over positions by a few micro-azUSD; nothing else is approximate.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};

use crate::types::{
    Action, AgentId, MarketId, MarketObs, PosRef, PositionId, PositionView, Side, SwapKind,
    VaultObs,
};
use crate::units::*;
use crate::venue::*;

/// The venue's azUSD holdings. Their sum changes exactly by what callers pay in minus what they
/// receive (outcomes, plus owner payouts of liquidation and ADL fills): no azUSD is created or
/// lost by rounding.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MockLedger {
    pub vault_cash_usd: i128,
    pub insurance_usd: i128,
    /// Collateral of open positions.
    pub collateral_usd: u128,
    /// azUSD reserves of the spot pools.
    pub spot_quote_usd: u128,
    /// Spot swap fees taken (kept out of the pools).
    pub spot_fees_usd: u128,
}

impl MockLedger {
    pub fn total(&self) -> i128 {
        self.vault_cash_usd
            + self.insurance_usd
            + self.collateral_usd as i128
            + self.spot_quote_usd as i128
            + self.spot_fees_usd as i128
    }
}

/// One tier of the AZEx safety factor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SafetyTier {
    /// Applies while `|L − S| / (L + S)` ≤ this (bps).
    pub max_imbalance_bps: u32,
    /// Safety factor (bps, 10000 = 1.0x).
    pub factor_bps: u32,
}

/// MockVenue parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MockConfig {
    pub open_fee_bps: u32,
    pub close_fee_bps: u32,
    pub maintenance_margin_bps: u32,
    pub max_leverage_x100: u32,
    pub liquidation_penalty_bps: u32,
    pub keeper_share_bps: u32,
    pub safety_tiers: Vec<SafetyTier>,
    pub gross_stress_bps: u32,
    pub funding_max_per_day_bps: u32,
    /// azUSD reserve of each spot pool at genesis (whole USD).
    pub spot_depth_usd: u64,
    pub spot_fee_bps: u32,
    pub twap_seconds: u64,
    /// Longest `liquidatable` list per market observation.
    pub liquidatable_list_max: usize,
    pub adl_enabled: bool,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            open_fee_bps: 10,
            close_fee_bps: 10,
            maintenance_margin_bps: 100,
            max_leverage_x100: 5000,
            liquidation_penalty_bps: 50,
            keeper_share_bps: 2000,
            safety_tiers: vec![
                SafetyTier {
                    max_imbalance_bps: 1000,
                    factor_bps: 10_000,
                },
                SafetyTier {
                    max_imbalance_bps: 3000,
                    factor_bps: 12_500,
                },
                SafetyTier {
                    max_imbalance_bps: 10_000,
                    factor_bps: 15_000,
                },
            ],
            gross_stress_bps: 0,
            funding_max_per_day_bps: 30,
            spot_depth_usd: 20_000_000,
            spot_fee_bps: 30,
            twap_seconds: 3600,
            liquidatable_list_max: 64,
            adl_enabled: true,
        }
    }
}

#[derive(Clone, Debug)]
struct Pos {
    id: PositionId,
    owner: AgentId,
    market: MarketId,
    side: Side,
    size: u128,
    entry_price: u128,
    /// Entry notional (micro-azUSD), floor(size * entry_price).
    entry_notional: u128,
    collateral: u128,
    /// floor(size * funding_index_at_open / 1e30), signed.
    funding_base: i128,
    /// The side's funding index when the position was opened.
    idx0: i128,
    /// Liquidation ordering key (WAD USD per token), see `liq_key`.
    key: i128,
    opened_height: u64,
}

#[derive(Clone, Debug, Default)]
struct SideBook {
    size: u128,
    entry_notional: u128,
    funding_base: i128,
    index: i128,
    /// (key, id) of open positions.
    liq: BTreeSet<(i128, PositionId)>,
}

#[derive(Clone, Debug)]
struct Mkt {
    symbol: String,
    spot: u128,
    quote: u128,
    twap: u128,
    samples: VecDeque<(u64, u128)>,
    long: SideBook,
    short: SideBook,
}

/// The mock exchange. See the module docs.
#[derive(Clone, Debug)]
pub struct MockVenue {
    cfg: MockConfig,
    markets: Vec<Mkt>,
    positions: Vec<Option<Pos>>,
    by_owner: BTreeMap<AgentId, BTreeSet<PositionId>>,
    lp_shares: BTreeMap<AgentId, u128>,
    total_shares: u128,
    cash: i128,
    insurance: i128,
    height: u64,
    timestamp: u64,
    fills: Vec<Fill>,
    counters: RiskSnapshot,
    /// azUSD swap fees taken from spot traders (kept out of the pools).
    spot_fees: u128,
    /// (NAV, total requirement), filled by read-only queries, cleared by every mutation.
    cache: Cell<Option<(i128, u128)>>,
}

fn side_book(m: &Mkt, s: Side) -> &SideBook {
    match s {
        Side::Long => &m.long,
        Side::Short => &m.short,
    }
}

fn side_book_mut(m: &mut Mkt, s: Side) -> &mut SideBook {
    match s {
        Side::Long => &mut m.long,
        Side::Short => &mut m.short,
    }
}

fn rej<T>(kind: RejectKind, msg: impl Into<String>) -> Result<T, Rejection> {
    Err(Rejection::new(kind, msg))
}

impl MockVenue {
    /// A venue with one market per symbol at the given initial prices (WAD).
    pub fn new(cfg: MockConfig, symbols: &[String], initial_prices: &[u128]) -> MockVenue {
        assert_eq!(symbols.len(), initial_prices.len());
        let markets = symbols
            .iter()
            .zip(initial_prices)
            .map(|(s, &p)| Mkt {
                symbol: s.clone(),
                spot: p.max(1),
                quote: usd(cfg.spot_depth_usd),
                twap: p.max(1),
                samples: VecDeque::new(),
                long: SideBook::default(),
                short: SideBook::default(),
            })
            .collect();
        MockVenue {
            cfg,
            markets,
            positions: Vec::new(),
            by_owner: BTreeMap::new(),
            lp_shares: BTreeMap::new(),
            total_shares: 0,
            cash: 0,
            insurance: 0,
            height: 0,
            timestamp: 0,
            fills: Vec::new(),
            counters: RiskSnapshot::default(),
            cache: Cell::new(None),
            spot_fees: 0,
        }
    }

    /// A venue for every symbol of `series`, priced at the first bar's open.
    pub fn for_series(cfg: MockConfig, series: &crate::prices::PriceSeries) -> MockVenue {
        let p0: Vec<u128> = series
            .bars
            .iter()
            .map(|b| b.first().map(|x| x.open).unwrap_or(WAD))
            .collect();
        MockVenue::new(cfg, &series.symbols, &p0)
    }

    pub fn config(&self) -> &MockConfig {
        &self.cfg
    }

    /// Where the venue's azUSD sits (for conservation checks).
    pub fn ledger(&self) -> MockLedger {
        MockLedger {
            vault_cash_usd: self.cash,
            insurance_usd: self.insurance,
            collateral_usd: self.positions.iter().flatten().map(|p| p.collateral).sum(),
            spot_quote_usd: self.markets.iter().map(|m| m.quote).sum(),
            spot_fees_usd: self.spot_fees,
        }
    }

    fn pos(&self, id: PositionId) -> Option<&Pos> {
        self.positions
            .get((id as usize).wrapping_sub(1))
            .and_then(|p| p.as_ref())
    }

    fn owned(&self, owner: AgentId, r: &PosRef) -> Result<PositionId, Rejection> {
        let id = match r {
            PosRef::Id(id) => *id,
            PosRef::Batch(_) => {
                return rej(RejectKind::UnknownPosition, "unresolved batch reference")
            }
        };
        match self.pos(id) {
            Some(p) if p.owner == owner => Ok(id),
            _ => rej(
                RejectKind::UnknownPosition,
                format!("position {id} not open or not owned"),
            ),
        }
    }

    fn notionals(&self, m: &Mkt) -> (u128, u128) {
        (
            notional_floor(m.long.size, m.spot),
            notional_floor(m.short.size, m.spot),
        )
    }

    /// AZEx requirement for given long/short notionals.
    pub fn requirement(&self, long: u128, short: u128) -> u128 {
        let gross = long + short;
        if gross == 0 {
            return 0;
        }
        let net = long.abs_diff(short);
        let imb = mul_div_floor(net, BPS, gross) as u32;
        let factor = self
            .cfg
            .safety_tiers
            .iter()
            .find(|t| imb <= t.max_imbalance_bps)
            .or(self.cfg.safety_tiers.last())
            .map(|t| t.factor_bps)
            .unwrap_or(10_000);
        bps_ceil(net, factor).min(long.max(short)) + bps_ceil(gross, self.cfg.gross_stress_bps)
    }

    fn market_required(&self, m: &Mkt) -> u128 {
        let (l, s) = self.notionals(m);
        self.requirement(l, s)
    }

    fn total_required(&self) -> u128 {
        self.markets.iter().map(|m| self.market_required(m)).sum()
    }

    fn unrealised_side(m: &Mkt, side: Side) -> i128 {
        // Vault's unrealised gain from this side: -trader price PnL + funding owed.
        let b = side_book(m, side);
        let now = notional_floor(b.size, m.spot) as i128;
        let pnl = side.sign() * (now - b.entry_notional as i128);
        let owed = mul_div_signed_floor(b.index, b.size, NOTIONAL_DIV) - b.funding_base;
        owed - pnl
    }

    fn nav(&self) -> i128 {
        self.cash
            + self
                .markets
                .iter()
                .map(|m| {
                    Self::unrealised_side(m, Side::Long) + Self::unrealised_side(m, Side::Short)
                })
                .sum::<i128>()
    }

    fn nav_required_cached(&self) -> (i128, u128) {
        if let Some(c) = self.cache.get() {
            return c;
        }
        let c = (self.nav(), self.total_required());
        self.cache.set(Some(c));
        c
    }

    fn liq_key(&self, p: &Pos, idx0: i128) -> i128 {
        let c_per = mul_div_floor(p.collateral, NOTIONAL_DIV, p.size.max(1)) as i128;
        match p.side {
            Side::Long => p.entry_price as i128 - c_per - idx0,
            Side::Short => p.entry_price as i128 + c_per + idx0,
        }
    }

    fn insert_liq(&mut self, id: PositionId) {
        let p = self.pos(id).unwrap().clone();
        let key = self.liq_key(&p, p.idx0);
        let m = &mut self.markets[p.market];
        side_book_mut(m, p.side).liq.insert((key, id));
        self.positions[id as usize - 1].as_mut().unwrap().key = key;
    }

    fn remove_liq(&mut self, id: PositionId) {
        let p = self.pos(id).unwrap();
        let (market, side, key) = (p.market, p.side, p.key);
        side_book_mut(&mut self.markets[market], side)
            .liq
            .remove(&(key, id));
    }

    /// Equity and maintenance of a position at the current spot.
    fn health(&self, p: &Pos) -> (i128, i128, i128, u128) {
        let m = &self.markets[p.market];
        let now = notional_floor(p.size, m.spot);
        let pnl = p.side.sign() * (now as i128 - p.entry_notional as i128);
        let owed =
            mul_div_signed_floor(side_book(m, p.side).index, p.size, NOTIONAL_DIV) - p.funding_base;
        let fee = bps_ceil(now, self.cfg.close_fee_bps) as i128;
        let equity = p.collateral as i128 + pnl - owed - fee;
        (equity, pnl, owed, now)
    }

    fn view(&self, p: &Pos) -> PositionView {
        let (equity, pnl, owed, now) = self.health(p);
        PositionView {
            id: p.id,
            market: p.market,
            side: p.side,
            size: p.size,
            entry_price: p.entry_price,
            collateral_usd: p.collateral,
            notional_usd: now,
            upnl_usd: pnl,
            funding_usd: owed,
            equity_usd: equity,
            opened_height: p.opened_height,
        }
    }

    fn is_liquidatable(&self, p: &Pos) -> bool {
        let (equity, _, _, now) = self.health(p);
        equity < bps_ceil(now, self.cfg.maintenance_margin_bps) as i128
    }

    /// Closes `part` of position `id` at spot. Returns the owner's payout and the penalty paid
    /// to the keeper.
    fn close_part(&mut self, id: PositionId, part: u128, kind: FillKind) -> (u128, u128) {
        let p = self.pos(id).unwrap().clone();
        let full = part >= p.size;
        let part = part.min(p.size);
        let frac = |x: u128| {
            if full {
                x
            } else {
                mul_div_floor(x, part, p.size)
            }
        };
        let c_part = frac(p.collateral);
        let en_part = frac(p.entry_notional);
        let fb_part = if full {
            p.funding_base
        } else {
            mul_div_signed_floor(p.funding_base, part, p.size)
        };
        let spot = self.markets[p.market].spot;
        let idx = side_book(&self.markets[p.market], p.side).index;
        let now = notional_floor(part, spot);
        let pnl = p.side.sign() * (now as i128 - en_part as i128);
        let owed = mul_div_signed_floor(idx, part, NOTIONAL_DIV) - fb_part;
        let fee = if kind == FillKind::Adl {
            0
        } else {
            bps_ceil(now, self.cfg.close_fee_bps)
        };
        let v = c_part as i128 + pnl - owed - fee as i128;
        let penalty = if kind == FillKind::Liquidation {
            (bps_floor(now, self.cfg.liquidation_penalty_bps) as i128).min(v.max(0)) as u128
        } else {
            0
        };
        let keeper = bps_floor(penalty, self.cfg.keeper_share_bps);
        self.insurance += (penalty - keeper) as i128;
        let payout = (v - penalty as i128).max(0) as u128;
        let deficit = (-v).max(0) as u128;
        let fee_collected = if v >= 0 {
            fee as i128
        } else {
            (fee as i128 + v).max(0)
        };
        self.cash += c_part as i128 - payout as i128 - penalty as i128;
        if deficit > 0 {
            let cover = (deficit as i128).min(self.insurance.max(0));
            self.insurance -= cover;
            self.cash += cover;
            self.counters.deficits_usd += deficit;
            self.counters.bad_debt_usd += deficit - cover as u128;
        }
        self.counters.fees_to_lp_usd += fee_collected as u128;
        self.counters.keeper_rewards_usd += keeper;
        match kind {
            FillKind::Liquidation => {
                self.counters.liquidations += 1;
                self.counters.liquidation_volume_usd += now;
            }
            FillKind::Adl => {
                self.counters.adl_count += 1;
                self.counters.adl_volume_usd += now;
            }
            _ => {}
        }
        // aggregates
        self.remove_liq(id);
        {
            let b = side_book_mut(&mut self.markets[p.market], p.side);
            b.size -= part;
            b.entry_notional -= en_part;
            b.funding_base -= fb_part;
        }
        if full {
            self.positions[id as usize - 1] = None;
            if let Some(set) = self.by_owner.get_mut(&p.owner) {
                set.remove(&id);
            }
        } else {
            let q = self.positions[id as usize - 1].as_mut().unwrap();
            q.size -= part;
            q.entry_notional -= en_part;
            q.collateral -= c_part;
            q.funding_base -= fb_part;
            self.insert_liq(id);
        }
        self.fills.push(Fill {
            height: self.height,
            position: id,
            owner: p.owner,
            market: p.market,
            side: p.side,
            kind,
            size: part,
            price: spot,
            notional_usd: now,
            fee_usd: fee_collected as u128,
            trader_pnl_usd: pnl,
            funding_usd: owed,
            deficit_usd: deficit,
            owner_payout_usd: payout,
        });
        (payout, keeper)
    }

    fn open(
        &mut self,
        owner: AgentId,
        market: MarketId,
        side: Side,
        notional: u128,
        lev: u32,
    ) -> Result<Outcome, Rejection> {
        if market >= self.markets.len() {
            return rej(RejectKind::InvalidAmount, "no such market");
        }
        if lev < 100 || lev > self.cfg.max_leverage_x100 {
            return rej(
                RejectKind::InvalidAmount,
                format!("leverage {lev} out of range"),
            );
        }
        let spot = self.markets[market].spot;
        let size = size_from_notional(notional, spot);
        if size == 0 {
            return rej(RejectKind::InvalidAmount, "zero size");
        }
        let en = notional_floor(size, spot);
        let collateral = mul_div_ceil(notional, 100, lev as u128);
        let fee = bps_ceil(en, self.cfg.open_fee_bps);
        // pre-execution check of the requirement
        let m = &self.markets[market];
        let (l, s) = self.notionals(m);
        let req_old = self.requirement(l, s);
        let (l2, s2) = match side {
            Side::Long => (l + en, s),
            Side::Short => (l, s + en),
        };
        let req_new = self.requirement(l2, s2);
        let total_old = self.total_required();
        let total_new = total_old - req_old + req_new;
        let nav = self.nav() + fee as i128;
        if req_new > req_old && total_new as i128 > nav {
            return rej(
                RejectKind::InsufficientLiquidity,
                format!(
                    "requirement {} would exceed vault NAV {}",
                    fmt_usd(total_new as i128),
                    fmt_usd(nav)
                ),
            );
        }
        let idx = side_book(&self.markets[market], side).index;
        let funding_base = mul_div_signed_floor(idx, size, NOTIONAL_DIV);
        let id = self.positions.len() as PositionId + 1;
        self.positions.push(Some(Pos {
            id,
            owner,
            market,
            side,
            size,
            entry_price: spot,
            entry_notional: en,
            collateral,
            funding_base,
            idx0: idx,
            key: 0,
            opened_height: self.height,
        }));
        {
            let b = side_book_mut(&mut self.markets[market], side);
            b.size += size;
            b.entry_notional += en;
            b.funding_base += funding_base;
        }
        self.insert_liq(id);
        self.by_owner.entry(owner).or_default().insert(id);
        self.cash += fee as i128;
        self.counters.fees_to_lp_usd += fee;
        self.fills.push(Fill {
            height: self.height,
            position: id,
            owner,
            market,
            side,
            kind: FillKind::Open,
            size,
            price: spot,
            notional_usd: en,
            fee_usd: fee,
            trader_pnl_usd: 0,
            funding_usd: 0,
            deficit_usd: 0,
            owner_payout_usd: 0,
        });
        Ok(Outcome {
            position: Some(id),
            usd_delta: -((collateral + fee) as i128),
            ..Default::default()
        })
    }

    fn swap(&mut self, market: MarketId, kind: SwapKind) -> Result<Outcome, Rejection> {
        if market >= self.markets.len() {
            return rej(RejectKind::InvalidAmount, "no such market");
        }
        let fee_bps = self.cfg.spot_fee_bps;
        let (y, p) = (self.markets[market].quote, self.markets[market].spot);
        let x = mul_div_floor(y, NOTIONAL_DIV, p);
        let (usd_delta, base_delta, x1, y1) = match kind {
            SwapKind::BuyWithUsd { usd_in } => {
                let a = usd_in - bps_ceil(usd_in, fee_bps).min(usd_in);
                if a == 0 {
                    return rej(RejectKind::InvalidAmount, "zero swap");
                }
                let y1 = y + a;
                let x1 = mul_div_ceil(x, y, y1);
                self.spot_fees += usd_in - a;
                (-(usd_in as i128), (x - x1) as i128, x1, y1)
            }
            SwapKind::SellBase { base_in } => {
                let b = base_in - bps_ceil(base_in, fee_bps).min(base_in);
                if b == 0 {
                    return rej(RejectKind::InvalidAmount, "zero swap");
                }
                let x1 = x + b;
                let y1 = mul_div_ceil(x, y, x1);
                ((y - y1) as i128, -(base_in as i128), x1, y1)
            }
            SwapKind::BuyExactBase { base_out } => {
                if base_out == 0 || base_out >= x / 2 {
                    return rej(
                        RejectKind::InvalidAmount,
                        "base_out zero or above half the pool",
                    );
                }
                let x1 = x - base_out;
                let y1 = mul_div_ceil(x, y, x1);
                let a = y1 - y;
                let usd_in = mul_div_ceil(a, BPS, BPS - fee_bps as u128);
                self.spot_fees += usd_in - a;
                (-(usd_in as i128), base_out as i128, x1, y1)
            }
            SwapKind::SellAll | SwapKind::Cover => {
                return rej(RejectKind::InvalidAmount, "unresolved wallet-relative swap")
            }
        };
        if x1 == 0 || y1 == 0 {
            return rej(RejectKind::InvalidAmount, "pool exhausted");
        }
        let m = &mut self.markets[market];
        m.quote = y1;
        m.spot = mul_div_floor(y1, NOTIONAL_DIV, x1).max(1);
        Ok(Outcome {
            usd_delta,
            base_delta,
            base_market: Some(market),
            ..Default::default()
        })
    }

    fn run_adl(&mut self) {
        for _ in 0..10_000 {
            let nav = self.nav();
            let total = self.total_required();
            if (total as i128) <= nav {
                return;
            }
            // market with the largest requirement, lowest id on ties
            let Some(mi) = (0..self.markets.len())
                .filter(|&i| self.market_required(&self.markets[i]) > 0)
                .max_by(|&a, &b| {
                    self.market_required(&self.markets[a])
                        .cmp(&self.market_required(&self.markets[b]))
                        .then(b.cmp(&a))
                })
            else {
                return;
            };
            let (l, s) = self.notionals(&self.markets[mi]);
            let side = if l >= s { Side::Long } else { Side::Short };
            // most profitable first (ties: lower id)
            let mut cands: Vec<(i128, PositionId)> = side_book(&self.markets[mi], side)
                .liq
                .iter()
                .map(|&(_, id)| (self.health(self.pos(id).unwrap()).1, id))
                .collect();
            if cands.is_empty() {
                return;
            }
            cands.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            let mut progressed = false;
            for (_, id) in cands {
                let size = self.pos(id).unwrap().size;
                self.close_part(id, size, FillKind::Adl);
                progressed = true;
                let (l, s) = self.notionals(&self.markets[mi]);
                let still_dominant = match side {
                    Side::Long => l > s,
                    Side::Short => s > l,
                };
                if (self.total_required() as i128) <= self.nav() || !still_dominant {
                    break;
                }
            }
            if !progressed {
                return;
            }
        }
    }
}

impl Venue for MockVenue {
    fn name(&self) -> String {
        "mock".into()
    }

    fn markets(&self) -> Vec<MarketInfo> {
        self.markets
            .iter()
            .map(|m| MarketInfo {
                symbol: m.symbol.clone(),
                max_leverage_x100: self.cfg.max_leverage_x100,
            })
            .collect()
    }

    fn begin_block(&mut self, height: u64, timestamp: u64) {
        self.cache.set(None);
        let dt = if self.timestamp == 0 {
            0
        } else {
            timestamp.saturating_sub(self.timestamp)
        };
        self.height = height;
        self.timestamp = timestamp;
        if dt == 0 {
            return;
        }
        let max_bps = self.cfg.funding_max_per_day_bps as u128;
        let mut to_lp = 0i128;
        for m in &mut self.markets {
            let (l, s) = (
                notional_floor(m.long.size, m.spot),
                notional_floor(m.short.size, m.spot),
            );
            if l == s || l + s == 0 {
                continue;
            }
            // per-token funding over dt: spot * max_per_day * imbalance * dt / 1 day
            let net = l.abs_diff(s);
            let per_token = mul_div_floor(
                mul_div_floor(m.spot, net, l + s),
                max_bps * dt as u128,
                BPS * 86_400,
            ) as i128;
            if per_token == 0 {
                continue;
            }
            let (dom, min) = if l > s {
                (&mut m.long, &mut m.short)
            } else {
                (&mut m.short, &mut m.long)
            };
            dom.index += per_token;
            min.index -= per_token;
            to_lp += mul_div_floor(
                per_token as u128,
                dom.size - min.size.min(dom.size),
                NOTIONAL_DIV,
            ) as i128;
        }
        self.counters.funding_to_lp_usd += to_lp;
    }

    fn arbitrage_spot_to(&mut self, market: MarketId, target: u128) -> Result<Outcome, Rejection> {
        self.cache.set(None);
        if market >= self.markets.len() || target == 0 {
            return rej(RejectKind::InvalidAmount, "bad market or price");
        }
        let m = &mut self.markets[market];
        let (y, p) = (m.quote, m.spot);
        if target == p {
            return Ok(Outcome {
                base_market: Some(market),
                ..Default::default()
            });
        }
        let x = mul_div_floor(y, NOTIONAL_DIV, p);
        let r = mul_div_floor(target, WAD, p); // WAD ratio
        let y1 = mul_div_floor(y, (r.saturating_mul(WAD)).isqrt(), WAD).max(1);
        let x1 = mul_div_floor(y1, NOTIONAL_DIV, target);
        m.quote = y1;
        m.spot = target;
        Ok(Outcome {
            usd_delta: y as i128 - y1 as i128,
            base_delta: x as i128 - x1 as i128,
            base_market: Some(market),
            ..Default::default()
        })
    }

    fn observe(&self, market: MarketId) -> MarketObs {
        let m = &self.markets[market];
        let (l, s) = self.notionals(m);
        let k = self.cfg.close_fee_bps as u128 + self.cfg.maintenance_margin_bps as u128;
        let thr_l = mul_div_floor(m.spot, BPS.saturating_sub(k), BPS) as i128 - m.long.index;
        let thr_s = mul_div_ceil(m.spot, BPS + k, BPS) as i128 + m.short.index;
        let max = self.cfg.liquidatable_list_max;
        let mut liq: Vec<PositionId> = m
            .long
            .liq
            .range((thr_l.saturating_add(1), 0)..)
            .rev()
            .take(max)
            .map(|&(_, id)| id)
            .chain(m.short.liq.range(..(thr_s, 0)).take(max).map(|&(_, id)| id))
            .collect();
        liq.sort_unstable();
        liq.truncate(max);
        let imb = if l + s == 0 {
            0
        } else {
            (l as i128 - s as i128) * WAD as i128 / (l + s) as i128
        };
        MarketObs {
            market,
            data_price: 0,
            spot_price: m.spot,
            mark_price: m.spot,
            twap_price: m.twap,
            long_oi_usd: l,
            short_oi_usd: s,
            funding_rate_per_day: imb * self.cfg.funding_max_per_day_bps as i128 / BPS as i128,
            required_usd: self.requirement(l, s),
            spot_depth_usd: m.quote,
            max_leverage_x100: self.cfg.max_leverage_x100,
            reduce_only: false,
            liquidatable: liq,
        }
    }

    fn vault(&self) -> VaultObs {
        let (nav, req) = self.nav_required_cached();
        VaultObs {
            nav_usd: nav,
            required_usd: req,
            free_usd: nav - req as i128,
            total_shares: self.total_shares,
            insurance_fund_usd: self.insurance,
        }
    }

    fn positions_of(&self, owner: AgentId) -> Vec<PositionView> {
        self.by_owner
            .get(&owner)
            .map(|set| {
                set.iter()
                    .map(|&id| self.view(self.pos(id).unwrap()))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn submit(&mut self, owner: AgentId, action: &Action) -> Result<Outcome, Rejection> {
        self.cache.set(None);
        match *action {
            Action::Open {
                market,
                side,
                notional_usd,
                leverage_x100,
            } => self.open(owner, market, side, notional_usd, leverage_x100),
            Action::Close { position } => {
                let id = self.owned(owner, &position)?;
                let size = self.pos(id).unwrap().size;
                let (payout, _) = self.close_part(id, size, FillKind::Close);
                Ok(Outcome {
                    usd_delta: payout as i128,
                    ..Default::default()
                })
            }
            Action::Reduce {
                position,
                fraction_bps,
            } => {
                let id = self.owned(owner, &position)?;
                if fraction_bps == 0 || fraction_bps > 10_000 {
                    return rej(RejectKind::InvalidAmount, "fraction out of range");
                }
                let size = self.pos(id).unwrap().size;
                let part = bps_floor(size, fraction_bps);
                if part == 0 {
                    return rej(RejectKind::InvalidAmount, "zero reduction");
                }
                let kind = if part >= size {
                    FillKind::Close
                } else {
                    FillKind::Reduce
                };
                let (payout, _) = self.close_part(id, part, kind);
                Ok(Outcome {
                    usd_delta: payout as i128,
                    ..Default::default()
                })
            }
            Action::AddMargin {
                position,
                amount_usd,
            } => {
                let id = self.owned(owner, &position)?;
                if amount_usd == 0 {
                    return rej(RejectKind::InvalidAmount, "zero margin");
                }
                self.remove_liq(id);
                let q = self.positions[id as usize - 1].as_mut().unwrap();
                q.collateral += amount_usd;
                self.insert_liq(id);
                Ok(Outcome {
                    usd_delta: -(amount_usd as i128),
                    ..Default::default()
                })
            }
            Action::LpDeposit { amount_usd } => {
                if amount_usd == 0 {
                    return rej(RejectKind::InvalidAmount, "zero deposit");
                }
                let nav = self.nav();
                let shares = if self.total_shares == 0 || nav <= 0 {
                    amount_usd * (NOTIONAL_DIV / WAD)
                } else {
                    mul_div_floor(amount_usd, self.total_shares, nav as u128)
                };
                if shares == 0 {
                    return rej(RejectKind::InvalidAmount, "deposit too small");
                }
                self.cash += amount_usd as i128;
                self.total_shares += shares;
                *self.lp_shares.entry(owner).or_default() += shares;
                Ok(Outcome {
                    usd_delta: -(amount_usd as i128),
                    shares_delta: shares as i128,
                    ..Default::default()
                })
            }
            Action::LpWithdraw { shares } => {
                let have = self.lp_shares.get(&owner).copied().unwrap_or(0);
                if shares == 0 || shares > have {
                    return rej(RejectKind::InvalidAmount, "not enough shares");
                }
                let nav = self.nav();
                if nav <= 0 {
                    return rej(
                        RejectKind::InsufficientLiquidity,
                        "vault NAV is not positive",
                    );
                }
                let amount = mul_div_floor(shares, nav as u128, self.total_shares);
                let req = self.total_required() as i128;
                if nav - (amount as i128) < req || amount as i128 > self.cash {
                    return rej(
                        RejectKind::InsufficientLiquidity,
                        "withdrawal would take liquidity backing the requirement",
                    );
                }
                self.cash -= amount as i128;
                self.total_shares -= shares;
                *self.lp_shares.get_mut(&owner).unwrap() -= shares;
                Ok(Outcome {
                    usd_delta: amount as i128,
                    shares_delta: -(shares as i128),
                    ..Default::default()
                })
            }
            Action::SpotSwap { market, kind } => self.swap(market, kind),
            Action::Liquidate { position } => {
                let Some(p) = self.pos(position) else {
                    return rej(
                        RejectKind::NotLiquidatable,
                        format!("position {position} is not open"),
                    );
                };
                if !self.is_liquidatable(p) {
                    return rej(
                        RejectKind::NotLiquidatable,
                        format!("position {position} is healthy"),
                    );
                }
                let size = p.size;
                let (_, keeper) = self.close_part(position, size, FillKind::Liquidation);
                Ok(Outcome {
                    usd_delta: keeper as i128,
                    ..Default::default()
                })
            }
        }
    }

    fn end_block(&mut self) {
        self.cache.set(None);
        if self.cfg.adl_enabled {
            self.run_adl();
        }
        let (ts, win) = (self.timestamp, self.cfg.twap_seconds);
        for m in &mut self.markets {
            m.samples.push_back((ts, m.spot));
            while let Some(&(t, _)) = m.samples.front() {
                if t + win < ts {
                    m.samples.pop_front();
                } else {
                    break;
                }
            }
            m.twap = m.samples.iter().map(|s| s.1).sum::<u128>() / m.samples.len() as u128;
        }
    }

    fn take_fills(&mut self) -> Vec<Fill> {
        std::mem::take(&mut self.fills)
    }

    fn risk_snapshot(&self) -> RiskSnapshot {
        let mut s = self.counters.clone();
        s.markets = self
            .markets
            .iter()
            .map(|m| {
                let (l, sh) = self.notionals(m);
                MarketRisk {
                    spot_price: m.spot,
                    mark_price: m.spot,
                    long_notional_usd: l,
                    short_notional_usd: sh,
                    long_size: m.long.size,
                    short_size: m.short.size,
                    required_usd: self.requirement(l, sh),
                    funding_index_long: m.long.index,
                    funding_index_short: m.short.index,
                    reduce_only: false,
                }
            })
            .collect();
        s.vault_nav_usd = self.nav_required_cached().0;
        s.vault_shares = self.total_shares;
        s.required_usd = s.markets.iter().map(|m| m.required_usd).sum();
        s.insurance_fund_usd = self.insurance;
        s
    }
}
