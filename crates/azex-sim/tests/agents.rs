//! The agents (crates/azex-sim/src/agents.rs): valid actions from every type, population
//! counts and determinism, the balance parameter, push sizing, the funding arbitrageur.

#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_lossless
)] // test data is built with plain casts

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use azex_sim::agents::*;
use azex_sim::units::*;
use azex_sim::*;

fn market(i: usize, long: u128, short: u128) -> MarketObs {
    MarketObs {
        market: i,
        data_price: 100 * WAD,
        spot_price: 100 * WAD,
        mark_price: 100 * WAD,
        twap_price: 100 * WAD,
        long_oi_usd: long,
        short_oi_usd: short,
        spot_depth_usd: usd(20_000_000),
        max_leverage_x100: 5_000,
        liquidatable: vec![7, 9],
        ..Default::default()
    }
}

fn position(id: PositionId, market: MarketId, side: Side) -> PositionView {
    PositionView {
        id,
        market,
        side,
        size: WAD,
        entry_price: 100 * WAD,
        collateral_usd: usd(10),
        notional_usd: usd(100),
        upnl_usd: 0,
        funding_usd: 0,
        equity_usd: usd(3) as i128,
        opened_height: 0,
    }
}

/// Checks an action batch against what the observation allows.
fn check(actions: &[Action], obs: &Observation<'_>) {
    let own: Vec<PositionId> = obs.own_positions.iter().map(|p| p.id).collect();
    let mut opens = 0u8;
    let nm = obs.markets.len();
    let pos_ok = |r: &PosRef, opens: u8| match r {
        PosRef::Id(id) => own.contains(id),
        PosRef::Batch(i) => *i < opens,
    };
    for a in actions {
        match a {
            Action::Open {
                market,
                notional_usd,
                leverage_x100,
                ..
            } => {
                assert!(*market < nm);
                assert!(*notional_usd >= USD, "{a:?}");
                assert!(
                    *leverage_x100 >= 100
                        && *leverage_x100 <= obs.markets[*market].max_leverage_x100,
                    "{a:?}"
                );
                opens += 1;
            }
            Action::Close { position } => assert!(pos_ok(position, opens), "{a:?}"),
            Action::Reduce {
                position,
                fraction_bps,
            } => {
                assert!(pos_ok(position, opens));
                assert!((1..=10_000).contains(fraction_bps));
            }
            Action::AddMargin {
                position,
                amount_usd,
            } => {
                assert!(pos_ok(position, opens));
                assert!(*amount_usd > 0);
            }
            Action::LpDeposit { amount_usd } => assert!(*amount_usd > 0),
            Action::LpWithdraw { shares } => {
                assert!(*shares > 0 && *shares <= obs.wallet.lp_shares)
            }
            Action::SpotSwap { market, kind } => {
                assert!(*market < nm);
                match kind {
                    SwapKind::BuyWithUsd { usd_in } => assert!(*usd_in > 0),
                    SwapKind::SellBase { base_in } => assert!(*base_in > 0),
                    SwapKind::BuyExactBase { base_out } => assert!(*base_out > 0),
                    SwapKind::SellAll | SwapKind::Cover => {}
                }
            }
            Action::Liquidate { position } => {
                assert!(obs
                    .markets
                    .iter()
                    .any(|m| m.liquidatable.contains(position)))
            }
        }
    }
}

#[test]
fn every_agent_type_produces_valid_actions() {
    let cfg = PopulationConfig {
        agents: 200,
        mix: AgentMix {
            funding_arb: 20,
            ..Default::default()
        },
        adversaries: AdversaryConfig {
            self_liquidators: 2,
            spot_manipulators: 2,
            stop_hunters: 2,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut agents = Population::build(&cfg, 3, 8, 10_000, 42);
    let kinds: std::collections::BTreeSet<AgentKind> = agents.iter().map(|a| a.kind()).collect();
    assert_eq!(kinds.len(), AgentKind::ALL.len(), "{kinds:?}");
    let books = [
        vec![
            market(0, usd(1_000_000), usd(200_000)),
            market(1, usd(100), usd(5_000)),
            market(2, 0, 0),
        ],
        vec![
            market(0, usd(500_000), usd(500_000)),
            market(1, 0, usd(900_000)),
            market(2, usd(1), 0),
        ],
    ];
    let owns = [
        vec![],
        vec![position(11, 0, Side::Long)],
        vec![position(11, 0, Side::Long), position(12, 1, Side::Short)],
        vec![
            position(11, 2, Side::Short),
            position(12, 2, Side::Long),
            position(13, 0, Side::Long),
        ],
    ];
    let vault = VaultObs {
        nav_usd: usd(10_000_000) as i128,
        required_usd: usd(1_000_000),
        free_usd: usd(9_000_000) as i128,
        total_shares: usd(10_000_000) * 1_000_000_000_000,
        insurance_fund_usd: 0,
    };
    let wallets = [
        Wallet {
            usd: 0,
            base: vec![0, 0, 0],
            lp_shares: 0,
        },
        Wallet {
            usd: -5,
            base: vec![WAD as i128, -(WAD as i128), 0],
            lp_shares: usd(100_000) * 1_000_000_000_000,
        },
    ];
    let mut produced: std::collections::BTreeMap<AgentKind, usize> = Default::default();
    for (ai, agent) in agents.iter_mut().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(ai as u64);
        for round in 0..40u64 {
            let markets = &books[(round % 2) as usize];
            let own = &owns[(round % 4) as usize];
            let wallet = &wallets[(round / 2 % 2) as usize];
            for phase in [Phase::Trade, Phase::Keep] {
                let obs = Observation {
                    height: round + 1,
                    timestamp: 1_000 + round,
                    step: round * 50,
                    steps_per_hour: 8,
                    phase,
                    markets,
                    vault: &vault,
                    own_positions: own,
                    wallet,
                };
                let acts = agent.decide(&obs, &mut rng);
                check(&acts, &obs);
                *produced.entry(agent.kind()).or_default() += acts.len();
            }
            let w = agent.next_wake(&mut rng);
            assert!(w >= 1);
        }
    }
    for k in AgentKind::ALL {
        assert!(
            produced.get(&k).copied().unwrap_or(0) > 0,
            "{k:?} never acted"
        );
    }
}

#[test]
fn population_counts_and_determinism() {
    let cfg = PopulationConfig {
        agents: 1000,
        ..Default::default()
    };
    let counts = cfg.counts();
    assert_eq!(counts.iter().map(|c| c.1).sum::<u32>(), 1000);
    let cfg7 = PopulationConfig {
        agents: 7,
        ..Default::default()
    };
    assert_eq!(cfg7.counts().iter().map(|c| c.1).sum::<u32>(), 7);
    let a = Population::build(&cfg, 5, 8, 1000, 9);
    let b = Population::build(&cfg, 5, 8, 1000, 9);
    assert_eq!(a.len(), 1000);
    let ids: Vec<u32> = a.iter().map(|x| x.id()).collect();
    assert_eq!(ids, (0..1000).collect::<Vec<_>>());
    // same seed, same first decisions
    let obs_m = vec![market(0, usd(10), usd(20)); 5]
        .into_iter()
        .enumerate()
        .map(|(i, mut m)| {
            m.market = i;
            m
        })
        .collect::<Vec<_>>();
    let vault = VaultObs::default();
    let wallet = Wallet::default();
    let obs = Observation {
        height: 1,
        timestamp: 1,
        step: 0,
        steps_per_hour: 8,
        phase: Phase::Trade,
        markets: &obs_m,
        vault: &vault,
        own_positions: &[],
        wallet: &wallet,
    };
    let run = |mut v: Vec<Box<dyn Agent>>| -> Vec<Vec<Action>> {
        v.iter_mut()
            .map(|a| {
                let mut r = ChaCha8Rng::seed_from_u64(3);
                a.decide(&obs, &mut r)
            })
            .collect()
    };
    assert_eq!(run(a), run(b));
    assert_eq!(
        PopulationConfig {
            balance: 0.6,
            ..Default::default()
        }
        .balance_bps(),
        6_000
    );
    assert_eq!(
        PopulationConfig {
            balance: 7.0,
            ..Default::default()
        }
        .balance_bps(),
        10_000
    );
}

#[test]
fn balance_parameter_controls_side_choice() {
    // noise traders with balance 0 always take the bias side; with 1 about half
    let obs_m = vec![market(0, 0, 0)];
    let vault = VaultObs::default();
    let wallet = Wallet::default();
    let obs = Observation {
        height: 1,
        timestamp: 1,
        step: 0,
        steps_per_hour: 8,
        phase: Phase::Trade,
        markets: &obs_m,
        vault: &vault,
        own_positions: &[],
        wallet: &wallet,
    };
    let count_longs = |balance_bps: u32| {
        let mut a = NoiseTrader {
            id: 0,
            sizing: Sizing {
                usd: [100, 1_000],
                leverage: [1, 5],
            },
            balance_bps,
            bias: Side::Long,
            mean_interval: 10,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let (mut longs, mut n) = (0, 0);
        for _ in 0..4_000 {
            for act in a.decide(&obs, &mut rng) {
                if let Action::Open { side, .. } = act {
                    n += 1;
                    longs += (side == Side::Long) as u32;
                }
            }
        }
        longs as f64 / n as f64
    };
    assert_eq!(count_longs(0), 1.0);
    let half = count_longs(10_000);
    assert!((half - 0.5).abs() < 0.05, "{half}");
    let h = Hedger {
        id: 0,
        market: 0,
        target_bps: 1_000,
        min_usd: 10,
        max_usd: 1_000_000,
        leverage_x100: 300,
        max_hold: 100,
        mean_interval: 4,
    };
    let mut h = h;
    let obs_m = vec![market(0, usd(1_000_000), usd(200_000))];
    let obs = Observation {
        markets: &obs_m,
        ..obs
    };
    let acts = h.decide(&obs, &mut ChaCha8Rng::seed_from_u64(1));
    // imbalance 66.7%, target 10%: excess = 800k - 120k = 680k, hedge half on the short side
    assert_eq!(acts, vec![Action::open_short(0, usd(340_000), 300)]);
}

#[test]
fn push_sizing_for_constant_product_pool() {
    // buying depth*(sqrt(1.05)-1) raises a constant-product price by 5%
    let u = usd_to_push_up(usd(20_000_000), 500);
    let y1 = usd(20_000_000) + u;
    let ratio = (y1 as f64 / usd(20_000_000) as f64).powi(2);
    assert!((ratio - 1.05).abs() < 1e-6);
    let b = base_to_push_down(usd(20_000_000), 100 * WAD, 500);
    let x = 200_000.0 * 1e18;
    let ratio = (x / (x + b as f64)).powi(2);
    assert!((ratio - 0.95).abs() < 1e-6);
}

#[test]
fn funding_arbitrageur_takes_the_receiving_side_only_when_it_pays() {
    let mut a = azex_sim::agents::FundingArbitrageur {
        id: 1,
        market: 0,
        max_usd: 100_000,
        leverage_x100: 300,
        hold_hours: 48,
        cost_bps: 30,
        min_edge_bps: 10,
        opened_step: 0,
        mean_interval: 4,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let vault = VaultObs::default();
    let wallet = Wallet {
        base: vec![0],
        ..Default::default()
    };
    let run =
        |a: &mut azex_sim::agents::FundingArbitrageur, rng: &mut ChaCha8Rng, rate_bps_day: i128| {
            let mut m = market(0, 2_000_000, 1_000_000);
            m.funding_rate_per_day = rate_bps_day * (WAD as i128) / 10_000;
            let ms = [m];
            let obs = Observation {
                height: 1,
                timestamp: 0,
                step: 0,
                steps_per_hour: 2,
                phase: Phase::Trade,
                markets: &ms,
                vault: &vault,
                own_positions: &[],
                wallet: &wallet,
            };
            a.decide(&obs, rng)
        };
    // longs pay 1 bp/day: 2 bp over 48 h does not cover 30 bp of costs
    assert!(run(&mut a, &mut rng, 1).is_empty());
    // longs pay 50 bp/day: 100 bp over 48 h: short the perp, buy spot
    let acts = run(&mut a, &mut rng, 50);
    assert!(matches!(
        acts[0],
        Action::Open {
            side: Side::Short,
            ..
        }
    ));
    assert!(matches!(
        acts[1],
        Action::SpotSwap {
            kind: SwapKind::BuyWithUsd { .. },
            ..
        }
    ));
    // shorts pay: long the perp, sell spot
    let acts = run(&mut a, &mut rng, -50);
    assert!(matches!(
        acts[0],
        Action::Open {
            side: Side::Long,
            ..
        }
    ));
}
