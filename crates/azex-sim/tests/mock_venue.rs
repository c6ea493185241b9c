use azex_sim::units::*;
use azex_sim::*;

fn venue() -> MockVenue {
    let cfg = MockConfig {
        spot_fee_bps: 0,
        ..Default::default()
    };
    let mut v = MockVenue::new(
        cfg,
        &["AAA".to_string(), "BBB".to_string()],
        &[100 * WAD, 10 * WAD],
    );
    v.begin_block(1, 1_000);
    v.submit(
        GENESIS_OWNER,
        &Action::LpDeposit {
            amount_usd: usd(1_000_000),
        },
    )
    .unwrap();
    v
}

#[test]
fn open_close_pnl_and_fees_by_hand() {
    let mut v = venue();
    // long $10,000 at 100 with 10x: collateral 1,000, fee 0.1% = 10
    let o = v
        .submit(1, &Action::open_long(0, usd(10_000), 1_000))
        .unwrap();
    assert_eq!(o.usd_delta, -(usd(1_010) as i128));
    let id = o.position.unwrap();
    let p = &v.positions_of(1)[0];
    assert_eq!((p.size, p.collateral_usd), (100 * WAD, usd(1_000)));
    // price +5%: pnl +500, close fee 10.5 -> payout 1,000 + 500 - 10.5
    v.arbitrage_spot_to(0, 105 * WAD).unwrap();
    let p = &v.positions_of(1)[0];
    assert_eq!(p.upnl_usd, usd(500) as i128);
    assert_eq!(p.equity_usd, usd(1_500) as i128 - 10_500_000);
    let o = v.submit(1, &Action::close(id)).unwrap();
    assert_eq!(o.usd_delta, usd(1_500) as i128 - 10_500_000);
    let fills = v.take_fills();
    assert_eq!(fills.len(), 2);
    assert_eq!(fills[1].kind, FillKind::Close);
    assert_eq!(fills[1].trader_pnl_usd, usd(500) as i128);
    let r = v.risk_snapshot();
    assert_eq!(r.fees_to_lp_usd, 20_500_000);
    // vault: +1,000,000 + fees 20.5 - pnl 500
    assert_eq!(
        r.vault_nav_usd,
        usd(1_000_000) as i128 + 20_500_000 - usd(500) as i128
    );
    assert!(v.positions_of(1).is_empty());
    // closing again is a rejection, not a panic
    assert_eq!(
        v.submit(1, &Action::close(id)).unwrap_err().kind,
        RejectKind::UnknownPosition
    );
    // someone else's position
    let id2 = v
        .submit(1, &Action::open_short(1, usd(1_000), 200))
        .unwrap()
        .position
        .unwrap();
    assert_eq!(
        v.submit(2, &Action::close(id2)).unwrap_err().kind,
        RejectKind::UnknownPosition
    );
}

#[test]
fn net_requirement_and_rejection() {
    let mut v = venue();
    // balanced book needs nothing
    v.submit(1, &Action::open_long(0, usd(400_000), 500))
        .unwrap();
    v.submit(2, &Action::open_short(0, usd(400_000), 500))
        .unwrap();
    assert_eq!(v.risk_snapshot().required_usd, 0);
    // 10% imbalance: net 100k of 1M gross... long 500k vs short 400k: imbalance 11.1% -> 1.25x
    v.submit(1, &Action::open_long(0, usd(100_000), 500))
        .unwrap();
    let r = v.risk_snapshot();
    assert_eq!(r.markets[0].required_usd, usd(125_000));
    assert_eq!(v.requirement(usd(100), 0), usd(100)); // capped at max(L, S)
                                                      // an open that pushes the requirement above NAV is rejected; a reducing one is accepted
    let e = v
        .submit(3, &Action::open_long(1, usd(5_000_000), 500))
        .unwrap_err();
    assert_eq!(e.kind, RejectKind::InsufficientLiquidity);
    assert!(v
        .submit(3, &Action::open_short(0, usd(50_000), 500))
        .is_ok());
    // LP withdrawal that would leave NAV below the requirement is rejected
    let shares = v.vault().total_shares;
    assert_eq!(
        v.submit(GENESIS_OWNER, &Action::LpWithdraw { shares })
            .unwrap_err()
            .kind,
        RejectKind::InsufficientLiquidity
    );
    assert!(v
        .submit(GENESIS_OWNER, &Action::LpWithdraw { shares: shares / 2 })
        .is_ok());
    assert_eq!(
        v.submit(7, &Action::LpWithdraw { shares: 1 })
            .unwrap_err()
            .kind,
        RejectKind::InvalidAmount
    );
}

#[test]
fn liquidation_keeper_reward_and_deficit() {
    let mut v = venue();
    let id = v
        .submit(1, &Action::open_long(0, usd(10_000), 2_000))
        .unwrap()
        .position
        .unwrap(); // 20x: 500 margin
    assert!(v.observe(0).liquidatable.is_empty());
    assert_eq!(
        v.submit(9, &Action::Liquidate { position: id })
            .unwrap_err()
            .kind,
        RejectKind::NotLiquidatable
    );
    // -4%: equity 500 - 400 - 9.6 = 90.4 < maintenance 96
    v.arbitrage_spot_to(0, 96 * WAD).unwrap();
    assert_eq!(v.observe(0).liquidatable, vec![id]);
    let o = v.submit(9, &Action::Liquidate { position: id }).unwrap();
    // penalty 0.5% of 9,600 = 48, keeper 20% = 9.6
    assert_eq!(o.usd_delta, 9_600_000);
    let f = v.take_fills();
    assert_eq!(f.last().unwrap().kind, FillKind::Liquidation);
    assert_eq!(f.last().unwrap().owner_payout_usd, 90_400_000 - 48_000_000);
    let r = v.risk_snapshot();
    assert_eq!((r.liquidations, r.deficits_usd), (1, 0));
    assert_eq!(r.insurance_fund_usd, 38_400_000);
    // a gap through the bankruptcy price leaves a deficit, covered by insurance first
    let id = v
        .submit(1, &Action::open_long(0, usd(10_000), 2_000))
        .unwrap()
        .position
        .unwrap(); // at 96
    v.arbitrage_spot_to(0, 86 * WAD).unwrap();
    v.submit(9, &Action::Liquidate { position: id }).unwrap();
    let r = v.risk_snapshot();
    assert!(r.deficits_usd > 0);
    assert_eq!(r.insurance_fund_usd, 0);
    assert_eq!(r.bad_debt_usd, r.deficits_usd - 38_400_000);
}

#[test]
fn funding_flows_to_the_vault() {
    let mut v = venue();
    v.submit(1, &Action::open_long(0, usd(300_000), 500))
        .unwrap();
    v.submit(2, &Action::open_short(0, usd(100_000), 500))
        .unwrap();
    v.end_block();
    v.begin_block(2, 1_000 + 86_400);
    let r = v.risk_snapshot();
    // imbalance 50%: 0.15%/day on 100 per token = 0.15 per token
    assert_eq!(r.markets[0].funding_index_long, 150_000_000_000_000_000);
    assert_eq!(r.markets[0].funding_index_short, -150_000_000_000_000_000);
    // longs pay 3,000 tokens x 0.15 = 450, shorts receive 1,000 x 0.15 = 150: vault +300
    assert_eq!(r.funding_to_lp_usd, usd(300) as i128);
    let p = v.positions_of(1);
    assert_eq!(p[0].funding_usd, usd(450) as i128);
    assert_eq!(v.positions_of(2)[0].funding_usd, -(usd(150) as i128));
}

#[test]
fn spot_swaps_and_arbitrage() {
    let mut v = venue();
    let depth = v.observe(0).spot_depth_usd;
    assert_eq!(depth, usd(20_000_000));
    let o = v
        .submit(
            5,
            &Action::SpotSwap {
                market: 0,
                kind: SwapKind::BuyWithUsd {
                    usd_in: usd(1_000_000),
                },
            },
        )
        .unwrap();
    assert!(o.base_delta > 0 && o.usd_delta == -(usd(1_000_000) as i128));
    // constant product: price rises by (21/20)^2
    let p = v.observe(0).spot_price;
    assert!((p as f64 / (100.0 * 1.1025e18) - 1.0).abs() < 1e-9);
    let o2 = v
        .submit(
            5,
            &Action::SpotSwap {
                market: 0,
                kind: SwapKind::SellBase {
                    base_in: o.base_delta as u128,
                },
            },
        )
        .unwrap();
    assert!(o2.usd_delta <= usd(1_000_000) as i128 && o2.usd_delta > usd(999_999) as i128);
    let a = v.arbitrage_spot_to(0, 120 * WAD).unwrap();
    assert_eq!(v.observe(0).spot_price, 120 * WAD);
    assert!(a.base_delta > 0 && a.usd_delta < 0);
    let o = v
        .submit(
            5,
            &Action::SpotSwap {
                market: 0,
                kind: SwapKind::BuyExactBase { base_out: WAD },
            },
        )
        .unwrap();
    assert_eq!(o.base_delta, WAD as i128);
    assert!(o.usd_delta < -(usd(120) as i128));
    assert!(v
        .submit(
            5,
            &Action::SpotSwap {
                market: 0,
                kind: SwapKind::SellAll
            }
        )
        .is_err());
}

#[test]
fn adl_when_requirement_exceeds_nav() {
    let cfg = MockConfig::default();
    let mut v = MockVenue::new(cfg, &["AAA".to_string()], &[100 * WAD]);
    v.begin_block(1, 1_000);
    v.submit(
        GENESIS_OWNER,
        &Action::LpDeposit {
            amount_usd: usd(100_000),
        },
    )
    .unwrap();
    v.submit(1, &Action::open_long(0, usd(40_000), 200))
        .unwrap();
    v.submit(2, &Action::open_long(0, usd(40_000), 200))
        .unwrap();
    // longs gain 50%: vault NAV falls to ~60k, requirement (net 120k capped at max side) 120k
    v.arbitrage_spot_to(0, 150 * WAD).unwrap();
    v.end_block();
    let r = v.risk_snapshot();
    assert!(r.adl_count >= 1);
    assert!(r.required_usd as i128 <= r.vault_nav_usd);
    let fills = v.take_fills();
    assert!(fills
        .iter()
        .any(|f| f.kind == FillKind::Adl && f.owner_payout_usd > 0));
}

#[test]
fn azusd_is_conserved_exactly_under_random_activity() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let syms = ["AAA".to_string(), "BBB".to_string(), "CCC".to_string()];
    let prices = [43_117 * WAD / 10, 7 * WAD / 3, 1_999 * WAD];
    let mut v = MockVenue::new(MockConfig::default(), &syms, &prices);
    let mut price = prices;
    let mut paid_in: i128 = 0; // what callers paid in minus what they received
    let mut ts = 1_000;
    let l0 = v.ledger().total();
    for h in 1..400u64 {
        ts += 450;
        v.begin_block(h, ts);
        for (m, p) in price.iter_mut().enumerate() {
            let step = rng.random_range(9_700..10_300u128);
            *p = (*p * step / 10_000).max(1);
            paid_in -= v.arbitrage_spot_to(m, *p).unwrap().usd_delta;
        }
        for _ in 0..12 {
            let owner = rng.random_range(0..6u32);
            let m = rng.random_range(0..3usize);
            let own = v.positions_of(owner);
            let pick = |r: &mut rand_chacha::ChaCha8Rng| {
                own.get(r.random_range(0..own.len().max(1))).map(|p| p.id)
            };
            let action = match rng.random_range(0..10) {
                0 => Some(Action::LpDeposit {
                    amount_usd: rng.random_range(1..usd(200_000)),
                }),
                1 => Some(Action::LpWithdraw {
                    shares: rng.random_range(1..usd(50_000)) * 1_000_000_000_000,
                }),
                2 | 3 => Some(Action::Open {
                    market: m,
                    side: if rng.random_bool(0.5) {
                        Side::Long
                    } else {
                        Side::Short
                    },
                    notional_usd: rng.random_range(1..usd(100_000)),
                    leverage_x100: rng.random_range(100..=5_000),
                }),
                4 => pick(&mut rng).map(Action::close),
                5 => pick(&mut rng).map(|id| Action::Reduce {
                    position: PosRef::Id(id),
                    fraction_bps: rng.random_range(1..=10_000),
                }),
                6 => pick(&mut rng).map(|id| Action::AddMargin {
                    position: PosRef::Id(id),
                    amount_usd: rng.random_range(1..usd(1_000)),
                }),
                7 => Some(Action::SpotSwap {
                    market: m,
                    kind: SwapKind::BuyWithUsd {
                        usd_in: rng.random_range(1..usd(50_000)),
                    },
                }),
                8 => Some(Action::SpotSwap {
                    market: m,
                    kind: SwapKind::BuyExactBase {
                        base_out: rng.random_range(1..WAD),
                    },
                }),
                _ => Some(Action::SpotSwap {
                    market: m,
                    kind: SwapKind::SellBase {
                        base_in: rng.random_range(1..WAD),
                    },
                }),
            };
            if let Some(a) = action {
                if let Ok(o) = v.submit(owner, &a) {
                    paid_in -= o.usd_delta;
                }
            }
        }
        for m in 0..3 {
            for id in v.observe(m).liquidatable {
                paid_in -= v
                    .submit(99, &Action::Liquidate { position: id })
                    .unwrap()
                    .usd_delta;
            }
        }
        v.end_block();
        for f in v.take_fills() {
            if matches!(f.kind, FillKind::Liquidation | FillKind::Adl) {
                paid_in -= f.owner_payout_usd as i128;
            }
        }
        assert_eq!(v.ledger().total() - l0, paid_in, "block {h}");
    }
    let r = v.risk_snapshot();
    assert!(r.liquidations > 0 && r.fees_to_lp_usd > 0);
}
