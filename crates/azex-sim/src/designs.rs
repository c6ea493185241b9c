//! Peer pool designs replayed on a recorded flow, for the capital study ([`crate::study`]).
//!
//! Every design is the counterparty of every trader through one LP pool of capital `C`: LPs gain
//! what traders lose, pay what traders win, collect the LP share of the trading fees and the net
//! funding (the venue's funding indexes applied to the pool's own open sizes), and bear every
//! deficit (a loss beyond a trader's collateral: none of these designs has an insurance fund in
//! front of its LPs). The designs differ in what an open must fit into (the *admission rule*);
//! an open that does not fit is refused and the position's later fills are ignored, as the
//! reserve-factor baseline does ([`crate::baselines`]).
//!
//! | design | admission rule (after the open) | source |
//! |---|---|---|
//! | `classic` | `Σ_m max(L_m, S_m) ≤ u × V` (fully backed, GMX v1 / Jupiter style) | GMX v1 `Vault.sol` reserves (`reservedAmounts ≤ poolAmounts`); Jupiter JLP: longs lock the token, shorts lock USDC |
//! | `gmx_v2` | `Σ_m (L_m + S_m) ≤ rf × V` | gmx-synthetics: each market's pool holds a long token and a short token; reserved USD of longs `≤ reserveFactor ×` the long-token pool, of shorts `≤ reserveFactor ×` the short-token pool (`MarketUtils.validateReserve`); defaults around 0.9–0.95 |
//! | `synthetix_v2` | `Σ_m |L_m − S_m| ≤ u × V` | Synthetix Perps v2 (`PerpsV2Market.sol`, SCCPs): the debt pool is the counterparty of the *skew*; `maxMarketValue` caps each side's OI, `skewScale` prices the skew (premium and funding velocity) |
//! | `gtrade` | `max(0, traders' open PnL) ≤ u × V` | gTrade gToken vaults (docs.gains.trade, "gToken Vaults"): the vault is the counterparty of every trade, pays winners and keeps losers' collateral; its collateralisation is measured against traders' PnL, not reserved per trade |
//!
//! `V = C + LP PnL` (the pool's value now), `u` the utilisation cap (90 % in the study), `rf`
//! GMX's reserve factor (0.9). Simplifications, each in the peer's favour and documented in
//! `docs/results.md`: GMX v2's two-token composition is assumed always matched to the book
//! (longs' reserve backed by exactly the long-token share needed, which is the "(L+S)/rf" bound),
//! the long token's own price move is left out of the LP value (LPs in a GM pool also hold the
//! asset), and one pool backs all markets (GMX v2 isolates a pool per market, which needs at
//! least as much). gTrade's per-pair OI caps and Synthetix's `maxMarketValue` are governance
//! numbers, not capital rules, and are left out.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::types::{PositionId, Side};
use crate::units::*;
use crate::venue::{Fill, FillKind, MarketRisk};

/// A peer design.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Design {
    /// Fully backed: `Σ max(L, S) ≤ u × V`.
    Classic,
    /// GMX v2: `Σ (L + S) ≤ rf × V`.
    GmxV2,
    /// Synthetix Perps v2: `Σ |L − S| ≤ u × V`.
    SynthetixV2,
    /// gTrade: `max(0, traders' open PnL) ≤ u × V`.
    Gtrade,
}

impl Design {
    /// Every design, in report order.
    pub const ALL: [Design; 4] = [
        Design::Classic,
        Design::GmxV2,
        Design::SynthetixV2,
        Design::Gtrade,
    ];

    /// The snake_case name used in reports and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Design::Classic => "classic",
            Design::GmxV2 => "gmx_v2",
            Design::SynthetixV2 => "synthetix_v2",
            Design::Gtrade => "gtrade",
        }
    }

    /// The admission rule in words (for reports).
    pub fn rule(self) -> &'static str {
        match self {
            Design::Classic => "sum max(L,S) <= u x V",
            Design::GmxV2 => "sum (L+S) <= rf x V (each side against its own token pool)",
            Design::SynthetixV2 => "sum |L-S| <= u x V (the debt pool backs the skew)",
            Design::Gtrade => "max(0, traders' open PnL) <= u x V (the vault backs PnL)",
        }
    }
}

#[derive(Clone, Debug)]
struct DPos {
    market: usize,
    side: Side,
    size: u128,
    entry_notional: u128,
}

#[derive(Clone, Debug, Default)]
struct DSide {
    size: u128,
    entry_notional: u128,
    index: i128,
}

#[derive(Clone, Debug, Default)]
struct DMkt {
    price: u128,
    long: DSide,
    short: DSide,
}

/// What one replay of a design at one capital gave.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayOutcome {
    /// The pool's starting capital `C` (micro-azUSD).
    pub capital_usd: u128,
    /// Largest peak-to-trough fall of `V` (bps of the peak; 10 000 when `V` reached 0).
    pub max_drawdown_bps: u32,
    /// 99th percentile over blocks of the fall of `V` from its running peak (bps).
    pub drawdown_p99_bps: u32,
    /// Deficits borne by the pool (micro-azUSD).
    pub bad_debt_usd: u128,
    /// `V` fell to zero or below (winners could not be paid).
    pub insolvent: bool,
    /// Open volume replayed and refused by the admission rule (micro-azUSD; honest owners only
    /// with [`replay_with`]).
    pub open_volume_usd: u128,
    /// Of which refused (micro-azUSD).
    pub refused_volume_usd: u128,
    /// Gross OI peak over blocks (accepted positions, at spot; micro-azUSD).
    pub oi_peak_usd: u128,
    /// Gross OI mean over blocks (micro-azUSD).
    pub oi_avg_usd: u128,
    /// The design's requirement (the capital its rule needs for the book, `/ u` applied) at
    /// its peak (micro-azUSD).
    pub required_peak_usd: u128,
    /// The same on average over blocks (micro-azUSD).
    pub required_avg_usd: u128,
    /// LP PnL at the end (micro-azUSD).
    pub lp_pnl_usd: i128,
}

/// One design's pool fed block by block.
#[derive(Clone, Debug)]
pub struct DesignPool {
    /// The design replayed.
    pub design: Design,
    capital: u128,
    util_bps: u32,
    markets: Vec<DMkt>,
    open: BTreeMap<PositionId, DPos>,
    refused: BTreeSet<PositionId>,
    fees: u128,
    funding: i128,
    realised: i128,
    deficits: u128,
    open_volume: u128,
    refused_volume: u128,
    /// Owners at or above this id (the adversaries) are left out of the service figures.
    pub honest_below: crate::types::AgentId,
}

impl DesignPool {
    /// `util_bps`: the utilisation cap `u` (the reserve factor for GMX v2).
    pub fn new(design: Design, capital_usd: u128, util_bps: u32, markets: usize) -> Self {
        DesignPool {
            design,
            capital: capital_usd,
            util_bps: util_bps.clamp(1, 10_000),
            markets: vec![DMkt::default(); markets],
            open: BTreeMap::new(),
            refused: BTreeSet::new(),
            fees: 0,
            funding: 0,
            realised: 0,
            deficits: 0,
            open_volume: 0,
            refused_volume: 0,
            honest_below: crate::types::AgentId::MAX,
        }
    }

    fn oi(&self, m: usize) -> (u128, u128) {
        let k = &self.markets[m];
        (
            notional_floor(k.long.size, k.price),
            notional_floor(k.short.size, k.price),
        )
    }

    /// Traders' open price PnL (> 0: the pool owes it).
    #[expect(
        clippy::cast_possible_wrap,
        reason = "notionals (micro-azUSD) are far below 2^127"
    )]
    pub fn traders_open_pnl_usd(&self) -> i128 {
        (0..self.markets.len())
            .map(|m| {
                let (l, s) = self.oi(m);
                let k = &self.markets[m];
                (l as i128 - k.long.entry_notional as i128)
                    + (k.short.entry_notional as i128 - s as i128)
            })
            .sum()
    }

    /// LP PnL so far: fees + funding + realised − deficits − traders' open PnL (micro-azUSD).
    #[expect(
        clippy::cast_possible_wrap,
        reason = "fees and deficits (micro-azUSD) are far below 2^127"
    )]
    pub fn lp_pnl_usd(&self) -> i128 {
        self.fees as i128 + self.funding + self.realised
            - self.deficits as i128
            - self.traders_open_pnl_usd()
    }

    /// `V = C + LP PnL` (micro-azUSD).
    #[expect(
        clippy::cast_possible_wrap,
        reason = "capital (micro-azUSD) is far below 2^127"
    )]
    pub fn value_usd(&self) -> i128 {
        self.capital as i128 + self.lp_pnl_usd()
    }

    /// Gross OI (long + short, all markets) at the last prices (micro-azUSD).
    pub fn gross_oi_usd(&self) -> u128 {
        (0..self.markets.len())
            .map(|m| {
                let (l, s) = self.oi(m);
                l + s
            })
            .sum()
    }

    /// What the rule reserves for a book of per-market (long, short) notionals and traders'
    /// open PnL (before dividing by `u`).
    #[expect(clippy::cast_sign_loss, reason = "traders_pnl.max(0) is non-negative")]
    fn reserved(&self, oi: &[(u128, u128)], traders_pnl: i128) -> u128 {
        match self.design {
            Design::Classic => oi.iter().map(|&(l, s)| l.max(s)).sum(),
            Design::GmxV2 => oi.iter().map(|&(l, s)| l + s).sum(),
            Design::SynthetixV2 => oi.iter().map(|&(l, s)| l.abs_diff(s)).sum(),
            Design::Gtrade => traders_pnl.max(0) as u128,
        }
    }

    /// The capital the rule needs now (`reserved / u`, rounded up).
    pub fn required_usd(&self) -> u128 {
        let oi: Vec<(u128, u128)> = (0..self.markets.len()).map(|m| self.oi(m)).collect();
        mul_div_ceil(
            self.reserved(&oi, self.traders_open_pnl_usd()),
            BPS,
            u128::from(self.util_bps),
        )
    }

    #[expect(clippy::cast_sign_loss, reason = "v is checked > 0 first")]
    fn admits(&self, f: &Fill) -> bool {
        let mut oi: Vec<(u128, u128)> = (0..self.markets.len()).map(|m| self.oi(m)).collect();
        let pnl = self.traders_open_pnl_usd();
        let before = self.reserved(&oi, pnl);
        match f.side {
            Side::Long => oi[f.market].0 += f.notional_usd,
            Side::Short => oi[f.market].1 += f.notional_usd,
        }
        let after = self.reserved(&oi, pnl);
        if after <= before && self.design != Design::Gtrade {
            return true; // risk-reducing for this rule
        }
        let v = self.value_usd();
        v > 0 && after <= bps_floor(v as u128, self.util_bps)
    }

    fn side(&mut self, m: usize, s: Side) -> &mut DSide {
        match s {
            Side::Long => &mut self.markets[m].long,
            Side::Short => &mut self.markets[m].short,
        }
    }

    /// One block: funding on the sizes held since the last block, the block's fills, the new
    /// prices.
    pub fn on_block(&mut self, fills: &[Fill], risk: &[MarketRisk]) {
        for (i, r) in risk.iter().enumerate() {
            let m = &mut self.markets[i];
            if m.price == 0 {
                m.price = r.spot_price;
                m.long.index = r.funding_index_long;
                m.short.index = r.funding_index_short;
                continue;
            }
            let dl = r.funding_index_long - m.long.index;
            let ds = r.funding_index_short - m.short.index;
            self.funding += mul_div_signed_floor(dl, m.long.size, NOTIONAL_DIV)
                + mul_div_signed_floor(ds, m.short.size, NOTIONAL_DIV);
            m.long.index = r.funding_index_long;
            m.short.index = r.funding_index_short;
        }
        for f in fills {
            self.apply(f);
        }
        for (i, r) in risk.iter().enumerate() {
            self.markets[i].price = r.spot_price;
        }
    }

    #[expect(
        clippy::cast_possible_wrap,
        reason = "notionals (micro-azUSD) are far below 2^127"
    )]
    fn apply(&mut self, f: &Fill) {
        if f.kind == FillKind::Open {
            let honest = f.owner < self.honest_below;
            if honest {
                self.open_volume += f.notional_usd;
            }
            if !self.admits(f) {
                self.refused.insert(f.position);
                if honest {
                    self.refused_volume += f.notional_usd;
                }
                return;
            }
            let en = notional_floor(f.size, f.price);
            let s = self.side(f.market, f.side);
            s.size += f.size;
            s.entry_notional += en;
            self.open.insert(
                f.position,
                DPos {
                    market: f.market,
                    side: f.side,
                    size: f.size,
                    entry_notional: en,
                },
            );
            self.fees += f.fee_usd;
            return;
        }
        if self.refused.contains(&f.position) {
            if matches!(
                f.kind,
                FillKind::Close | FillKind::Liquidation | FillKind::Adl
            ) {
                self.refused.remove(&f.position);
            }
            return;
        }
        let Some(p) = self.open.get(&f.position).cloned() else {
            return;
        };
        let part = f.size.min(p.size);
        let full = part == p.size;
        let en_part = if full {
            p.entry_notional
        } else {
            mul_div_floor(p.entry_notional, part, p.size)
        };
        let now = notional_floor(part, f.price) as i128;
        self.realised -= p.side.sign() * (now - en_part as i128);
        self.fees += f.fee_usd;
        self.deficits += f.deficit_usd;
        let s = self.side(p.market, p.side);
        s.size -= part;
        s.entry_notional -= en_part;
        if full {
            self.open.remove(&f.position);
        } else if let Some(q) = self.open.get_mut(&f.position) {
            q.size -= part;
            q.entry_notional -= en_part;
        }
    }
}

/// Drawdown statistics of a value series: (max, p99 over blocks), bps of the running peak.
#[expect(
    clippy::cast_sign_loss,
    reason = "peak > 0 and (peak − v).max(0) ≥ 0; the bps are capped at 10000"
)]
pub fn drawdown_stats(values: &[i128]) -> (u32, u32) {
    let mut peak = i128::MIN;
    let mut dds: Vec<u32> = Vec::with_capacity(values.len());
    for &v in values {
        peak = peak.max(v);
        let dd = if peak > 0 {
            ((peak - v).max(0) as u128 * BPS / peak as u128).min(BPS) as u32
        } else {
            0
        };
        dds.push(dd);
    }
    let max = dds.iter().copied().max().unwrap_or(0);
    (max, percentile(&mut dds, 99))
}

/// The `p`-th percentile (nearest rank) of `v` (sorted in place); 0 for an empty slice.
pub fn percentile<T: Copy + Ord + Default>(v: &mut [T], p: u32) -> T {
    if v.is_empty() {
        return T::default();
    }
    v.sort_unstable();
    let n = v.len();
    let rank = ((p.min(100) as usize * n).div_ceil(100)).clamp(1, n);
    v[rank - 1]
}

/// Replays a recorded flow (per block: fills, market risk) through `design` at `capital_usd`.
pub fn replay(
    design: Design,
    capital_usd: u128,
    util_bps: u32,
    blocks: &[(Vec<Fill>, Vec<MarketRisk>)],
) -> ReplayOutcome {
    replay_with(
        design,
        capital_usd,
        util_bps,
        crate::types::AgentId::MAX,
        blocks,
    )
}

/// [`replay`], counting in the open and refused volumes only owners below `honest_below`
/// (adversaries' refused opens are not a loss of service).
pub fn replay_with(
    design: Design,
    capital_usd: u128,
    util_bps: u32,
    honest_below: crate::types::AgentId,
    blocks: &[(Vec<Fill>, Vec<MarketRisk>)],
) -> ReplayOutcome {
    let nm = blocks.first().map_or(0, |b| b.1.len());
    let mut pool = DesignPool::new(design, capital_usd, util_bps, nm);
    pool.honest_below = honest_below;
    let mut values = Vec::with_capacity(blocks.len());
    let (mut oi_peak, mut oi_sum, mut req_peak, mut req_sum) = (0u128, 0u128, 0u128, 0u128);
    let mut insolvent = false;
    for (fills, risk) in blocks {
        pool.on_block(fills, risk);
        let v = pool.value_usd();
        insolvent |= v <= 0;
        values.push(v);
        let oi = pool.gross_oi_usd();
        let req = pool.required_usd();
        oi_peak = oi_peak.max(oi);
        oi_sum += oi;
        req_peak = req_peak.max(req);
        req_sum += req;
    }
    let n = blocks.len().max(1) as u128;
    let (max_dd, p99) = drawdown_stats(&values);
    ReplayOutcome {
        capital_usd,
        max_drawdown_bps: max_dd,
        drawdown_p99_bps: p99,
        bad_debt_usd: pool.deficits,
        insolvent,
        open_volume_usd: pool.open_volume,
        refused_volume_usd: pool.refused_volume,
        oi_peak_usd: oi_peak,
        oi_avg_usd: oi_sum / n,
        required_peak_usd: req_peak,
        required_avg_usd: req_sum / n,
        lp_pnl_usd: pool.lp_pnl_usd(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn risk(p: u128) -> Vec<MarketRisk> {
        vec![MarketRisk {
            spot_price: p,
            mark_price: p,
            ..Default::default()
        }]
    }

    fn open(id: PositionId, side: Side, usd_notional: u64, p: u128) -> Fill {
        let size = size_from_notional(usd(usd_notional), p);
        Fill {
            height: 1,
            position: id,
            owner: 1,
            market: 0,
            side,
            kind: FillKind::Open,
            size,
            price: p,
            notional_usd: notional_floor(size, p),
            fee_usd: 0,
            trader_pnl_usd: 0,
            funding_usd: 0,
            deficit_usd: 0,
            owner_payout_usd: 0,
        }
    }

    #[test]
    fn admission_rules_by_design() {
        // long $600k then short $500k at $100 into a $1M pool, cap 90 %
        let p = 100 * WAD;
        let flow = vec![(
            vec![
                open(1, Side::Long, 600_000, p),
                open(2, Side::Short, 500_000, p),
            ],
            risk(p),
        )];
        let r = |d| replay(d, usd(1_000_000), 9_000, &flow);
        // classic: max(600k, 500k) fits 900k
        assert_eq!(r(Design::Classic).refused_volume_usd, 0);
        // GMX v2: 600k + 500k > 900k: the short is refused
        assert!(r(Design::GmxV2).refused_volume_usd > 0);
        // Synthetix: skew 100k after the block
        assert_eq!(r(Design::SynthetixV2).refused_volume_usd, 0);
        assert_eq!(
            r(Design::SynthetixV2).required_peak_usd,
            mul_div_ceil(usd(100_000), BPS, 9_000)
        );
        // gTrade: no open PnL yet
        assert_eq!(r(Design::Gtrade).required_peak_usd, 0);
    }

    #[test]
    fn losses_drawdown_and_insolvency() {
        let p = 100 * WAD;
        let flow = vec![
            (vec![open(1, Side::Long, 500_000, p)], risk(p)),
            (vec![], risk(150 * WAD)), // longs +50 %: the pool owes $250k
        ];
        let o = replay(Design::Classic, usd(1_000_000), 9_000, &flow);
        assert!(!o.insolvent);
        assert!(
            o.max_drawdown_bps.abs_diff(2_500) <= 1,
            "{}",
            o.max_drawdown_bps
        );
        // a $500k pool backing the $500k long in full: +110 % leaves it owing more than it has
        let mut worse = flow.clone();
        worse.push((vec![], risk(210 * WAD)));
        let o = replay(Design::Classic, usd(500_000), 10_000, &worse);
        assert_eq!(o.refused_volume_usd, 0);
        assert!(o.insolvent && o.max_drawdown_bps == 10_000);
        // gTrade's requirement follows the traders' PnL
        let o = replay(Design::Gtrade, usd(1_000_000), 9_000, &flow);
        assert!(o.required_peak_usd >= usd(277_000));
    }

    #[test]
    fn percentile_nearest_rank() {
        let mut v: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&mut v, 99), 99);
        assert_eq!(percentile(&mut v, 50), 50);
        assert_eq!(percentile(&mut [7u32], 99), 7);
        assert_eq!(percentile::<u32>(&mut [], 99), 0);
    }
}
