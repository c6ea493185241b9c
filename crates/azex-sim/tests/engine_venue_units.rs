//! The venue-level checks that used to run on the simulator's mock exchange, now on the real
//! exchange (`EngineVenue`): outcomes and fills of an open and a close, refusals that change
//! nothing, the vault's capacity rule (net exposure), LP withdrawals beyond free liquidity,
//! liquidation by a keeper, funding paid by the crowded side, spot swaps and the arbitrageur.
//! The engine itself checks its invariants (conservation of azUSD among them) after every
//! commit in test builds.

#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_lossless
)] // test data is built with plain casts

use azex_sim::units::*;
use azex_sim::*;

/// Two markets, AAA at $100 and BBB at $10, hourly bars, flat.
fn series() -> PriceSeries {
    let mut csv = String::from("timestamp,symbol,close\n");
    for i in 0..48u64 {
        csv.push_str(&format!("{},AAA,100\n{},BBB,10\n", i * 3600, i * 3600));
    }
    parse_prices(csv.as_bytes(), "synthetic").unwrap()
}

struct V {
    v: EngineVenue,
    h: u64,
}

impl V {
    fn new(vault_usd: u64) -> V {
        let cfg = EngineConfig::default();
        let mut v = V {
            v: EngineVenue::new(cfg, &series(), 3600, 8).unwrap(),
            h: 0,
        };
        v.block();
        v.v.submit(
            GENESIS_OWNER,
            &Action::LpDeposit {
                amount_usd: usd(vault_usd),
            },
        )
        .unwrap();
        // let the listing settle (a market may need blocks before it accepts exposure)
        for _ in 0..3 {
            v.end();
            v.block();
        }
        v
    }
    fn block(&mut self) {
        self.h += 1;
        self.v.begin_block(self.h, 3600 * self.h);
    }
    fn end(&mut self) {
        self.v.end_block();
        assert!(self.v.error().is_none(), "{:?}", self.v.error());
    }
    /// Ends the block, starts the next with the pools moved to `prices`, then lets the
    /// oracle see them (one more block).
    fn move_to(&mut self, prices: [u128; 2]) {
        for _ in 0..3 {
            self.end();
            self.block();
            for (m, &p) in prices.iter().enumerate() {
                self.v.arbitrage_spot_to(m, p).unwrap();
            }
        }
    }
}

#[test]
fn open_close_outcomes_fills_and_refusals() {
    let mut v = V::new(10_000_000);
    let nav0 = v.v.vault().nav_usd;
    let o =
        v.v.submit(1, &Action::open_long(0, usd(10_000), 1_000))
            .unwrap();
    let id = o.position.unwrap();
    // the caller pays the margin (notional / leverage); the fee comes out of it
    assert_eq!(o.usd_delta, -(usd(1_000) as i128), "{o:?}");
    let p = &v.v.positions_of(1)[0];
    assert_eq!((p.id, p.side), (id, Side::Long));
    assert!(
        p.size.abs_diff(100 * WAD) < WAD / 10,
        "≈ 100 AAA: {}",
        p.size
    );
    // price +5 %: the long gains about $500
    v.move_to([105 * WAD, 10 * WAD]);
    let p = &v.v.positions_of(1)[0];
    assert!(p.upnl_usd > usd(400) as i128 && p.upnl_usd < usd(550) as i128);
    let c = v.v.submit(1, &Action::close(id)).unwrap();
    assert!(c.usd_delta > usd(1_300) as i128, "margin + gain back");
    let fills = v.v.take_fills();
    let kinds: Vec<FillKind> = fills.iter().map(|f| f.kind).collect();
    assert_eq!(kinds, [FillKind::Open, FillKind::Close]);
    assert!(fills[1].trader_pnl_usd > 0);
    assert!(fills.iter().all(|f| f.fee_usd > 0 && f.owner == 1));
    // the vault paid the gain and kept its fee share
    let r = v.v.risk_snapshot();
    assert!(r.fees_to_lp_usd > 0);
    assert!(v.v.vault().nav_usd < nav0);
    assert!(v.v.positions_of(1).is_empty());
    // closing again, or someone else's position: refusals that change nothing
    let before = v.v.risk_snapshot();
    assert_eq!(
        v.v.submit(1, &Action::close(id)).unwrap_err().kind,
        RejectKind::UnknownPosition
    );
    let id2 =
        v.v.submit(1, &Action::open_short(1, usd(1_000), 200))
            .unwrap()
            .position
            .unwrap();
    assert_eq!(
        v.v.submit(2, &Action::close(id2)).unwrap_err().kind,
        RejectKind::UnknownPosition
    );
    assert_eq!(v.v.positions_of(1).len(), 1);
    assert_eq!(v.v.risk_snapshot().liquidations, before.liquidations);
}

#[test]
fn the_vault_backs_the_net_and_refuses_beyond_its_capacity() {
    let mut v = V::new(1_000_000);
    v.v.submit(1, &Action::open_long(0, usd(200_000), 500))
        .unwrap();
    let one_sided = v.v.risk_snapshot().required_usd;
    assert!(one_sided > 0);
    v.v.submit(2, &Action::open_short(0, usd(200_000), 500))
        .unwrap();
    let balanced = v.v.risk_snapshot().required_usd;
    assert!(
        balanced < one_sided,
        "a balanced book needs less: {balanced} vs {one_sided}"
    );
    // far beyond a $1M vault: refused, nothing changes
    let req = v.v.risk_snapshot().required_usd;
    let e =
        v.v.submit(3, &Action::open_long(0, usd(20_000_000), 500))
            .unwrap_err();
    assert!(
        matches!(
            e.kind,
            RejectKind::InsufficientLiquidity | RejectKind::ImpactCap | RejectKind::OiCap
        ),
        "{e}"
    );
    assert_eq!(v.v.risk_snapshot().required_usd, req);
    // withdrawing everything while positions are open: refused
    let shares = v.v.vault().total_shares;
    let e =
        v.v.submit(GENESIS_OWNER, &Action::LpWithdraw { shares })
            .unwrap_err();
    assert!(
        matches!(
            e.kind,
            RejectKind::InsufficientLiquidity | RejectKind::Locked
        ),
        "{e}"
    );
}

#[test]
fn keeper_liquidates_after_a_drop() {
    let mut v = V::new(10_000_000);
    let id =
        v.v.submit(1, &Action::open_long(0, usd(50_000), 2_000))
            .unwrap()
            .position
            .unwrap();
    // -10 % at 20x: under water
    v.move_to([90 * WAD, 10 * WAD]);
    assert!(v.v.observe(0).liquidatable.contains(&id));
    v.v.submit(5, &Action::Liquidate { position: id }).unwrap();
    let f: Vec<Fill> = v.v.take_fills();
    let liq: Vec<&Fill> = f
        .iter()
        .filter(|f| f.kind == FillKind::Liquidation)
        .collect();
    assert!(!liq.is_empty());
    assert!(liq.iter().all(|f| f.trader_pnl_usd < 0 && f.position == id));
    let r = v.v.risk_snapshot();
    assert!(r.liquidations >= 1, "{r:?}");
    // a 10 % gap at 20x goes through the bankruptcy price: the deficit is recorded, and with an
    // empty insurance fund the vault bears it
    assert!(r.deficits_usd > 0 && r.bad_debt_usd <= r.deficits_usd);
    assert_eq!(
        liq.iter().map(|f| f.deficit_usd).sum::<u128>(),
        r.deficits_usd
    );
    // a healthy or closed position cannot be liquidated
    if v.v.positions_of(1).is_empty() {
        assert!(v.v.submit(5, &Action::Liquidate { position: id }).is_err());
    }
}

#[test]
fn the_crowded_side_pays_funding() {
    let mut v = V::new(10_000_000);
    v.v.submit(1, &Action::open_long(0, usd(300_000), 300))
        .unwrap();
    v.v.submit(2, &Action::open_short(0, usd(100_000), 300))
        .unwrap();
    let r0 = v.v.risk_snapshot().markets[0].clone();
    for _ in 0..24 {
        v.end();
        v.block();
    }
    let r1 = v.v.risk_snapshot().markets[0].clone();
    assert!(r1.funding_index_long > r0.funding_index_long, "longs pay");
    assert!(
        r1.funding_index_short < r0.funding_index_short,
        "shorts receive"
    );
    assert!(v.v.observe(0).funding_rate_per_day > 0);
}

#[test]
fn spot_swaps_and_arbitrage() {
    let mut v = V::new(1_000_000);
    let p0 = v.v.observe(1).spot_price;
    let o =
        v.v.submit(
            3,
            &Action::SpotSwap {
                market: 1,
                kind: SwapKind::BuyWithUsd {
                    usd_in: usd(100_000),
                },
            },
        )
        .unwrap();
    assert_eq!(o.usd_delta, -(usd(100_000) as i128));
    assert!(o.base_delta > 0 && o.base_market == Some(1));
    let bought = o.base_delta as u128;
    // the arbitrageur restores the data price before the block ends (a 2-second chain's
    // arbitrage, the default model): the oracle never sees the push
    v.end();
    let extra = v.v.take_extra_arbitrage();
    assert!(extra
        .iter()
        .any(|(m, a)| *m == 1 && a.base_delta < 0 && a.usd_delta > 0));
    v.block();
    assert!(v.v.observe(1).spot_price.abs_diff(p0) * 10_000 <= p0);
    let s =
        v.v.submit(
            3,
            &Action::SpotSwap {
                market: 1,
                kind: SwapKind::SellBase { base_in: bought },
            },
        )
        .unwrap();
    assert_eq!(s.base_delta, -(bought as i128));
    assert!(
        s.usd_delta > 0 && s.usd_delta < usd(100_000) as i128,
        "a round trip costs"
    );
}
