//! Baseline pool models run on the same flow (fills) and prices as the venue.
//!
//! In both baselines the LP pool is the counterparty of every trader: LPs gain what traders
//! lose and pay what traders win, and collect the same trading fees and net funding.
//!
//! - **Classic peer-to-pool** (GMX v1 style, fully backed): the pool must hold
//!   `max(longs, shorts)` per market ([`classic_required`]). It accepts the whole flow; its
//!   capital is the peak requirement (what LPs must have posted to back the flow), and its NAV
//!   is that capital plus the LP PnL.
//! - **Reserve-factor pool** (GMX v2 style): reserved open interest must stay within
//!   `reserve_factor × pool value` ([`reserve_factor_required`] gives the pool needed for given
//!   OI). One pool backs all markets, so the reserved amount is Σ over markets of the larger
//!   side (GMX v2 keeps one pool per market; with one market this is exactly its rule). With a
//!   fixed starting capital ([`ModelKind::ReserveFactor`]), an open that raises the reserved
//!   amount above the cap is rejected ([`reserve_factor_allows`]); the rejected position's
//!   later fills are ignored. Traders do not react to rejections (the flow is replayed as is).
//!
//! LP PnL = fees + funding + realised (−trader price PnL − deficits) + unrealised (−trader
//! price PnL of open positions at the current spot). Fills the venue labels ADL are ordinary
//! closes here (baselines have no ADL), and liquidation fills keep the venue's deficit (bad
//! debt) since the positions and their collateral are the same. Funding uses the venue's
//! per-side funding indexes applied to the pool's own open sizes.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::types::{PositionId, Side};
use crate::units::*;
use crate::venue::{Fill, FillKind, MarketRisk};

/// Classic requirement: the larger side's notional.
pub fn classic_required(long_usd: u128, short_usd: u128) -> u128 {
    long_usd.max(short_usd)
}

/// Pool value needed so that each side ≤ `reserve_factor_bps / 1e4 × pool`, rounded up.
pub fn reserve_factor_required(long_usd: u128, short_usd: u128, reserve_factor_bps: u32) -> u128 {
    mul_div_ceil(
        long_usd.max(short_usd),
        BPS,
        u128::from(reserve_factor_bps.max(1)),
    )
}

/// Whether reserved open interest may grow to `reserved_usd_after` (Σ over markets of the
/// larger side) in a pool worth `pool_value_usd`.
#[expect(clippy::cast_sign_loss, reason = "pool_value_usd is checked > 0 first")]
pub fn reserve_factor_allows(
    reserved_usd_after: u128,
    pool_value_usd: i128,
    reserve_factor_bps: u32,
) -> bool {
    pool_value_usd > 0
        && reserved_usd_after <= bps_floor(pool_value_usd as u128, reserve_factor_bps)
}

/// Largest peak-to-trough decline of a value series, in bps of the peak, with the peak and
/// trough indexes. Values ≤ 0 count as a 100% drawdown from a positive peak.
#[expect(
    clippy::cast_sign_loss,
    reason = "peak > 0 and (peak − v).max(0) ≥ 0; the bps are capped at 10000"
)]
pub fn max_drawdown_bps(values: &[i128]) -> (u32, usize, usize) {
    let mut best = (0u32, 0usize, 0usize);
    let mut peak = i128::MIN;
    let mut peak_i = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > peak {
            peak = v;
            peak_i = i;
        }
        if peak > 0 {
            let dd = ((peak - v).max(0) as u128 * BPS / peak as u128).min(BPS) as u32;
            if dd > best.0 {
                best = (dd, peak_i, i);
            }
        }
    }
    best
}

/// Which baseline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ModelKind {
    /// Accepts everything; requirement max(L, S).
    Classic,
    /// Fixed starting capital; rejects opens beyond `reserve_factor_bps × pool value`.
    ReserveFactor {
        /// Largest side allowed, bps of the pool value.
        reserve_factor_bps: u32,
        /// Starting capital (micro-azUSD).
        capital_usd: u128,
    },
}

#[derive(Clone, Debug)]
struct BPos {
    market: usize,
    side: Side,
    size: u128,
    entry_notional: u128,
}

#[derive(Clone, Debug, Default)]
struct BSide {
    size: u128,
    entry_notional: u128,
    index: i128,
}

#[derive(Clone, Debug, Default)]
struct BMkt {
    price: u128,
    long: BSide,
    short: BSide,
}

/// Running totals of a baseline pool (micro-azUSD unless named).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolTotals {
    /// Trading fees credited to the pool.
    pub fees_usd: u128,
    /// Net funding the pool received (< 0: paid).
    pub funding_usd: i128,
    /// −trader price PnL on closed parts, before deficits.
    pub realised_usd: i128,
    /// Losses beyond traders' collateral, borne by the pool.
    pub deficits_usd: u128,
    /// Liquidations of accepted positions.
    pub liquidations: u64,
    /// Notional liquidated.
    pub liquidation_volume_usd: u128,
    /// Opens refused (reserve cap).
    pub rejected_opens: u64,
    /// Notional of the refused opens.
    pub rejected_volume_usd: u128,
    /// Notional of the accepted opens.
    pub accepted_volume_usd: u128,
}

/// One baseline pool fed block by block.
#[derive(Clone, Debug)]
pub struct CounterpartyPool {
    /// Which baseline.
    pub kind: ModelKind,
    markets: Vec<BMkt>,
    open: BTreeMap<PositionId, BPos>,
    rejected: BTreeSet<PositionId>,
    /// Per market (long, short) notional at the market's last price, kept current.
    oi: Vec<(u128, u128)>,
    /// Running totals.
    pub totals: PoolTotals,
}

impl CounterpartyPool {
    /// An empty pool of `kind` over `markets` markets.
    pub fn new(kind: ModelKind, markets: usize) -> Self {
        CounterpartyPool {
            kind,
            markets: vec![BMkt::default(); markets],
            open: BTreeMap::new(),
            rejected: BTreeSet::new(),
            oi: vec![(0, 0); markets],
            totals: PoolTotals::default(),
        }
    }

    fn side(&mut self, m: usize, s: Side) -> &mut BSide {
        match s {
            Side::Long => &mut self.markets[m].long,
            Side::Short => &mut self.markets[m].short,
        }
    }

    /// −trader price PnL of open positions at the last prices.
    #[expect(
        clippy::cast_possible_wrap,
        reason = "notionals (micro-azUSD) are far below 2^127"
    )]
    pub fn unrealised_usd(&self) -> i128 {
        self.markets
            .iter()
            .zip(&self.oi)
            .map(|(m, &(l, s))| {
                (m.long.entry_notional as i128 - l as i128)
                    + (s as i128 - m.short.entry_notional as i128)
            })
            .sum()
    }

    fn mark(&mut self, i: usize) {
        let m = &self.markets[i];
        self.oi[i] = (
            notional_floor(m.long.size, m.price),
            notional_floor(m.short.size, m.price),
        );
    }

    /// LP PnL so far.
    #[expect(
        clippy::cast_possible_wrap,
        reason = "fees and deficits (micro-azUSD) are far below 2^127"
    )]
    pub fn lp_pnl_usd(&self) -> i128 {
        let t = &self.totals;
        t.fees_usd as i128 + t.funding_usd + t.realised_usd - t.deficits_usd as i128
            + self.unrealised_usd()
    }

    /// Pool value for the reserve-factor model (capital + LP PnL); for the classic model, the
    /// LP PnL alone (its capital is only known at the end).
    #[expect(
        clippy::cast_possible_wrap,
        reason = "capital (micro-azUSD) is far below 2^127"
    )]
    pub fn pool_value_usd(&self) -> i128 {
        match self.kind {
            ModelKind::Classic => self.lp_pnl_usd(),
            ModelKind::ReserveFactor { capital_usd, .. } => capital_usd as i128 + self.lp_pnl_usd(),
        }
    }

    /// Per market (long, short) notional of open positions at the last prices.
    pub fn open_interest(&self) -> Vec<(u128, u128)> {
        self.oi.clone()
    }

    /// Gross open interest (long + short, all markets).
    pub fn gross_oi_usd(&self) -> u128 {
        self.oi.iter().map(|(l, s)| l + s).sum()
    }

    /// This model's requirement now: Σ max(L, S) (classic) or Σ max(L, S) / rf (reserve factor).
    pub fn required_usd(&self) -> u128 {
        self.oi
            .iter()
            .map(|&(l, s)| match self.kind {
                ModelKind::Classic => classic_required(l, s),
                ModelKind::ReserveFactor {
                    reserve_factor_bps, ..
                } => reserve_factor_required(l, s, reserve_factor_bps),
            })
            .sum()
    }

    /// Processes one block: funding on the sizes held since the last block (from the venue's
    /// indexes), then the block's fills in order, then the new prices.
    pub fn on_block(&mut self, fills: &[Fill], risk: &[MarketRisk]) {
        // 1. funding since last block
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
            let f = mul_div_signed_floor(dl, m.long.size, NOTIONAL_DIV)
                + mul_div_signed_floor(ds, m.short.size, NOTIONAL_DIV);
            self.totals.funding_usd += f;
            m.long.index = r.funding_index_long;
            m.short.index = r.funding_index_short;
        }
        // 2. fills
        for f in fills {
            self.apply_fill(f);
        }
        // 3. prices
        for (i, r) in risk.iter().enumerate() {
            self.markets[i].price = r.spot_price;
            self.mark(i);
        }
    }

    #[expect(
        clippy::cast_possible_wrap,
        reason = "notionals (micro-azUSD) are far below 2^127"
    )]
    fn apply_fill(&mut self, f: &Fill) {
        if f.kind == FillKind::Open {
            if let ModelKind::ReserveFactor {
                reserve_factor_bps, ..
            } = self.kind
            {
                let reserved: u128 = self.oi.iter().map(|&(l, s)| l.max(s)).sum();
                let (l, s) = self.oi[f.market];
                let (l2, s2) = match f.side {
                    Side::Long => (l + f.notional_usd, s),
                    Side::Short => (l, s + f.notional_usd),
                };
                let after = reserved - l.max(s) + l2.max(s2);
                if after > reserved
                    && !reserve_factor_allows(after, self.pool_value_usd(), reserve_factor_bps)
                {
                    self.rejected.insert(f.position);
                    self.totals.rejected_opens += 1;
                    self.totals.rejected_volume_usd += f.notional_usd;
                    return;
                }
            }
            let en = notional_floor(f.size, f.price);
            let s = self.side(f.market, f.side);
            s.size += f.size;
            s.entry_notional += en;
            self.open.insert(
                f.position,
                BPos {
                    market: f.market,
                    side: f.side,
                    size: f.size,
                    entry_notional: en,
                },
            );
            self.totals.fees_usd += f.fee_usd;
            self.totals.accepted_volume_usd += f.notional_usd;
            self.mark(f.market);
            return;
        }
        if self.rejected.contains(&f.position) {
            if matches!(
                f.kind,
                FillKind::Close | FillKind::Liquidation | FillKind::Adl
            ) {
                self.rejected.remove(&f.position);
            }
            return;
        }
        let Some(p) = self.open.get(&f.position).cloned() else {
            return; // opened before this pool started observing
        };
        let part = f.size.min(p.size);
        let full = part == p.size;
        let en_part = if full {
            p.entry_notional
        } else {
            mul_div_floor(p.entry_notional, part, p.size)
        };
        let now = notional_floor(part, f.price) as i128;
        let trader_pnl = p.side.sign() * (now - en_part as i128);
        self.totals.realised_usd -= trader_pnl;
        self.totals.fees_usd += f.fee_usd;
        self.totals.deficits_usd += f.deficit_usd;
        self.totals.accepted_volume_usd += f.notional_usd;
        if f.kind == FillKind::Liquidation {
            self.totals.liquidations += 1;
            self.totals.liquidation_volume_usd += f.notional_usd;
        }
        let s = self.side(p.market, p.side);
        s.size -= part;
        s.entry_notional -= en_part;
        if full {
            self.open.remove(&f.position);
        } else {
            let q = self.open.get_mut(&f.position).unwrap();
            q.size -= part;
            q.entry_notional -= en_part;
        }
        self.mark(p.market);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Side;

    fn risk(price: u128, il: i128, is: i128) -> MarketRisk {
        MarketRisk {
            spot_price: price,
            mark_price: price,
            funding_index_long: il,
            funding_index_short: is,
            ..Default::default()
        }
    }

    fn fill(
        id: PositionId,
        side: Side,
        kind: FillKind,
        size_tokens: u128,
        price_usd: u128,
        fee: u128,
        deficit: u128,
    ) -> Fill {
        let size = size_tokens * WAD;
        let price = price_usd * WAD;
        Fill {
            height: 0,
            position: id,
            owner: 0,
            market: 0,
            side,
            kind,
            size,
            price,
            notional_usd: notional_floor(size, price),
            fee_usd: fee,
            trader_pnl_usd: 0,
            funding_usd: 0,
            deficit_usd: deficit,
            owner_payout_usd: 0,
        }
    }

    #[test]
    #[expect(clippy::cast_possible_wrap, reason = "test amounts are small")]
    fn requirements_by_hand() {
        assert_eq!(classic_required(usd(100), usd(95)), usd(100));
        // 100 / 0.9 = 111.111112 (rounded up to the micro-dollar)
        assert_eq!(
            reserve_factor_required(usd(100), usd(95), 9000),
            111_111_112
        );
        assert!(reserve_factor_allows(usd(90), usd(100) as i128, 9000));
        assert!(!reserve_factor_allows(usd(90) + 1, usd(100) as i128, 9000));
        assert!(!reserve_factor_allows(0, 0, 9000));
    }

    #[test]
    fn drawdown_by_hand() {
        assert_eq!(
            max_drawdown_bps(&[100, 120, 90, 130, 65, 140]),
            (5000, 3, 4)
        );
        assert_eq!(max_drawdown_bps(&[1, 2, 3]), (0, 0, 0));
        assert_eq!(max_drawdown_bps(&[100, -50]).0, 10_000);
    }

    #[test]
    #[expect(clippy::cast_possible_wrap, reason = "test amounts are small")]
    fn classic_lp_pnl_by_hand() {
        let mut pool = CounterpartyPool::new(ModelKind::Classic, 1);
        pool.on_block(&[], &[risk(100 * WAD, 0, 0)]);
        // long 10 @ 100 (fee 1), short 6 @ 100 (fee 0.6)
        let fills = [
            fill(1, Side::Long, FillKind::Open, 10, 100, usd(1), 0),
            fill(2, Side::Short, FillKind::Open, 6, 100, 600_000, 0),
        ];
        pool.on_block(&fills, &[risk(100 * WAD, 0, 0)]);
        assert_eq!(pool.required_usd(), usd(1000));
        assert_eq!(pool.gross_oi_usd(), usd(1600));
        // price to 110: traders net long 4 tokens gain 40 -> LP -40 unrealised (+ fees 1.6)
        pool.on_block(&[], &[risk(110 * WAD, 0, 0)]);
        assert_eq!(pool.unrealised_usd(), -(usd(40) as i128));
        assert_eq!(pool.lp_pnl_usd(), -(usd(40) as i128) + 1_600_000);
        assert_eq!(pool.required_usd(), usd(1100));
        // funding: long index +0.5 USD/token, short index -0.5 -> longs pay 5, shorts get 3: LP +2
        pool.on_block(&[], &[risk(110 * WAD, WAD as i128 / 2, -(WAD as i128) / 2)]);
        assert_eq!(pool.totals.funding_usd, usd(2) as i128);
        // long closes at 110 with fee 1.1: realised -100 for LP
        pool.on_block(
            &[fill(1, Side::Long, FillKind::Close, 10, 110, 1_100_000, 0)],
            &[risk(110 * WAD, WAD as i128 / 2, -(WAD as i128) / 2)],
        );
        assert_eq!(pool.totals.realised_usd, -(usd(100) as i128));
        // short still open: entry 600, now 660 -> LP +60 unrealised
        assert_eq!(pool.unrealised_usd(), usd(60) as i128);
        assert_eq!(
            pool.lp_pnl_usd(),
            -(usd(100) as i128) + usd(60) as i128 + 2_700_000 + usd(2) as i128
        );
        // short liquidated at 200 with a deficit of 5: LP realises +600 - 5
        pool.on_block(
            &[fill(
                2,
                Side::Short,
                FillKind::Liquidation,
                6,
                200,
                0,
                usd(5),
            )],
            &[risk(200 * WAD, WAD as i128 / 2, -(WAD as i128) / 2)],
        );
        assert_eq!(pool.totals.liquidations, 1);
        assert_eq!(
            pool.lp_pnl_usd(),
            -(usd(100) as i128) + usd(600) as i128 - usd(5) as i128 + 2_700_000 + usd(2) as i128
        );
        assert_eq!(pool.required_usd(), 0);
    }

    #[test]
    #[expect(clippy::cast_possible_wrap, reason = "test amounts are small")]
    fn reserve_factor_rejects_beyond_cap() {
        let kind = ModelKind::ReserveFactor {
            reserve_factor_bps: 9000,
            capital_usd: usd(1000),
        };
        let mut pool = CounterpartyPool::new(kind, 1);
        pool.on_block(&[], &[risk(100 * WAD, 0, 0)]);
        // 8 tokens long (800) fits under 900; another 2 (1000) does not; a short of 5 does.
        let fills = [
            fill(1, Side::Long, FillKind::Open, 8, 100, 0, 0),
            fill(2, Side::Long, FillKind::Open, 2, 100, 0, 0),
            fill(3, Side::Short, FillKind::Open, 5, 100, 0, 0),
            fill(2, Side::Long, FillKind::Close, 2, 100, 0, 0),
        ];
        pool.on_block(&fills, &[risk(100 * WAD, 0, 0)]);
        assert_eq!(pool.totals.rejected_opens, 1);
        assert_eq!(pool.totals.rejected_volume_usd, usd(200));
        assert_eq!(pool.open_interest(), vec![(usd(800), usd(500))]);
        assert_eq!(pool.required_usd(), 888_888_889);
        // longs win 80, shorts lose 50: value 1000 - 80 + 50
        pool.on_block(&[], &[risk(110 * WAD, 0, 0)]);
        assert_eq!(
            pool.pool_value_usd(),
            usd(1000) as i128 - usd(80) as i128 + usd(50) as i128
        );
    }
}
