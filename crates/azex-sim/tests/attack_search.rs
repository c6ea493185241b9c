//! The attack search (crates/azex-sim/src/attack_search.rs) and its attackers
//! (src/attackers.rs), on the shipped data with a tiny budget: 1-day windows, 40 agents.

use std::sync::OnceLock;

use azex_sim::attack_search::{
    attack_windows, background, env_config, render_attack_markdown, run_one, RunOut,
};
use azex_sim::*;

fn prices() -> &'static PriceSeries {
    static P: OnceLock<PriceSeries> = OnceLock::new();
    P.get_or_init(|| load_default_prices().expect("shipped data"))
}

fn tiny() -> AttackSearchConfig {
    AttackSearchConfig {
        agents: 40,
        window_days: 1,
        bootstrap_windows: 0,
        holdout_windows: 1,
        budget: 3,
        ..Default::default()
    }
}

/// The worst-day-down window (22 Dec 2017 in the shipped data) with the tiny background.
fn stress_window() -> (SimConfig, PriceSeries) {
    let cfg = tiny();
    let w = attack_windows(prices(), &cfg).unwrap().remove(0);
    assert!(w.label.starts_with("worst day down"), "{}", w.label);
    (background(&cfg).unwrap(), w.prices)
}

fn run(kind: AttackKind, env: &str, f: impl Fn(&mut AttackSpec)) -> RunOut {
    let (cfg, p) = stress_window();
    let mut s = AttackSpec::default_for(kind);
    f(&mut s);
    run_one(&cfg, &p, &env_config(env).unwrap(), Some(&s)).unwrap()
}

#[test]
fn the_search_is_deterministic_and_never_ends_below_its_start() {
    let mut cfg = tiny();
    cfg.kinds = vec!["multi_block_manipulation".into()];
    let a = run_attack_search(&cfg, prices(), 2, &|_, _| {}).unwrap();
    let b = run_attack_search(&cfg, prices(), 1, &|_, _| {}).unwrap();
    assert_eq!(a.to_json(), b.to_json(), "same seed, any jobs: same bytes");
    assert_eq!(a.results.len(), 2, "1 kind x 2 environments");
    for r in &a.results {
        assert_eq!(r.evaluations, cfg.budget, "{} {}", r.kind, r.environment);
        let key = |e: &azex_sim::attack_search::Eval| {
            (e.lp_loss_usd.div_euclid(1_000), e.attacker_pnl_usd)
        };
        assert!(
            key(&r.best) >= key(&r.start),
            "{} {}: best {:?} below start {:?}",
            r.kind,
            r.environment,
            key(&r.best),
            key(&r.start)
        );
        if r.start.attacker_volume_usd > 0 {
            assert!(r.best_for_attacker.attacker_pnl_usd >= r.start.attacker_pnl_usd);
        }
        assert_eq!(r.windows_len(), a.windows.len());
        let c = r
            .control
            .as_ref()
            .expect("a pushing kind has a no-push control");
        assert_eq!(c.params["push_bps"], 0);
        assert_eq!(c.params["notional_usd"], r.best.params["notional_usd"]);
    }
    assert_eq!(a.baselines.len(), 2 * (a.windows.len() + a.holdout.len()));
    assert!(a.results.iter().all(|r| r.holdout_best.is_some()));
    let md = render_attack_markdown(&a);
    assert!(
        md.contains("| multi_block_manipulation | worst_case |"),
        "{md}"
    );
}

trait WindowsLen {
    fn windows_len(&self) -> usize;
}
impl WindowsLen for azex_sim::attack_search::KindResult {
    fn windows_len(&self) -> usize {
        self.best.windows.len()
    }
}

#[test]
fn every_attacker_kind_trades() {
    for env in ["defended", "worst_case"] {
        for k in AttackKind::ALL {
            let r = run(k, env, |s| {
                s.market = 3; // LTC: $2M of depth
                s.notional_usd = 500_000;
                s.push_bps = 300;
            });
            assert!(
                r.attacker_volume_usd > 0 && r.attacker_actions > 0,
                "{env} {k:?} did not trade: {r:?}"
            );
            assert!(r.log.rounds > 0, "{env} {k:?}: {r:?}");
        }
    }
}

#[test]
fn a_coalition_splits_its_legs_across_accounts() {
    let one = run(AttackKind::Jelly, "worst_case", |s| {
        s.market = 3;
        s.notional_usd = 400_000;
        s.accounts = 1;
    });
    let four = run(AttackKind::Jelly, "worst_case", |s| {
        s.market = 3;
        s.notional_usd = 400_000;
        s.accounts = 4;
    });
    // 2 opens by member 0 (+ spot) vs 2 opens by each of 4 members
    assert!(
        four.attacker_actions >= one.attacker_actions + 6,
        "{one:?} {four:?}"
    );
    assert!(four.attacker_volume_usd > 0);
}

#[test]
fn the_stop_hunter_stops_after_a_refusal() {
    // defended: the arbitrageur trades the push back before the oracle reads it, so the first
    // hunt's push is not followed; with max_refusals 1 the hunter gives up for good
    let d = run(AttackKind::StopHunt, "defended", |s| {
        s.threshold = 1;
        s.hold_blocks = 4;
    });
    assert_eq!(d.log.refusals, 1, "{d:?}");
    assert!(d.log.stopped_at_step.is_some(), "{d:?}");
    assert_eq!(d.log.rounds, 1, "no hunt after the stop: {d:?}");
    assert_eq!(d.log.pushes, 1, "{d:?}");
    assert_eq!(d.log.pushes_after_stop, 0);
    assert_eq!(d.log.pushes_followed, 0);
    // with 3 refusals allowed it tries exactly 3 times
    let d3 = run(AttackKind::StopHunt, "defended", |s| {
        s.threshold = 3;
        s.hold_blocks = 4;
    });
    assert_eq!((d3.log.refusals, d3.log.rounds), (3, 3), "{d3:?}");
    // worst case: the oracle follows its pushes, so it keeps hunting until something is refused
    let w = run(AttackKind::StopHunt, "worst_case", |s| {
        s.threshold = 1;
        s.hold_blocks = 4;
    });
    assert!(w.log.pushes_followed > 0, "{w:?}");
    assert!(w.log.rounds > 1, "{w:?}");
    assert!(w.log.refusals <= 1 && w.log.pushes_after_stop == 0, "{w:?}");
}

#[test]
fn pushes_reach_the_oracle_only_without_block_end_arbitrage() {
    for k in [AttackKind::Jelly, AttackKind::MultiBlock] {
        let d = run(k, "defended", |s| {
            s.market = 3;
            s.notional_usd = 500_000;
            s.push_bps = 300;
        });
        let w = run(k, "worst_case", |s| {
            s.market = 3;
            s.notional_usd = 500_000;
            s.push_bps = 300;
        });
        assert!(d.log.pushes > 0 && w.log.pushes > 0, "{d:?} {w:?}");
        assert_eq!(d.log.pushes_followed, 0, "{k:?} defended: {d:?}");
        assert!(w.log.pushes_followed > 0, "{k:?} worst case: {w:?}");
    }
}

#[test]
fn the_net_control_is_the_legs_net_exposure() {
    use azex_sim::attack_search::net_control;
    let mut f = AttackSpec::default_for(AttackKind::FundingDefault);
    (f.notional_usd, f.hedge_bps, f.up, f.accounts) = (2_000_000, 7_500, false, 3);
    let c = net_control(&f).unwrap();
    assert_eq!(
        (c.notional_usd, c.up, c.hedge_bps, c.accounts),
        (500_000, false, 0, 1)
    );
    let mut j = AttackSpec::default_for(AttackKind::Jelly);
    (j.notional_usd, j.hedge_bps, j.up) = (1_000_000, 12_500, true);
    // the winning leg (long when pumping) is the larger: the control is a long, i.e. a Jelly
    // whose main leg is long (up = false)
    let c = net_control(&j).unwrap();
    assert_eq!((c.notional_usd, c.up, c.push_bps), (250_000, false, 0));
    j.hedge_bps = 10_000;
    assert_eq!(net_control(&j).unwrap().notional_usd, 0, "hedged: nothing");
    assert!(net_control(&AttackSpec::default_for(AttackKind::StopHunt)).is_none());
}

/// Pinned finding (docs/results.md, "Optimising adversaries"): when a push survives into the
/// next oracle read (`worst_case`: no block-end arbitrage, the oracle following up to 9116 ticks
/// per 7.5-minute block), a stop hunter that shorts $4M and pushes spot down 5 % for two blocks,
/// every 4 blocks, takes over $1M from a $20M vault in one day (its shorts close at the pushed
/// oracle) while losing money itself: the arbitrageur, who trades each push back at the next
/// block's start, earns the pushes' cost, and the attacker plus the arbitrageur are ahead; with the default block-end arbitrage (`defended`) its
/// first push is not followed and it gives up. Current behaviour, not a target: if the engine
/// starts refusing trades at a pushed oracle, the first half fails and this test must change.
#[test]
fn pinned_stop_hunt_griefing_only_when_pushes_survive_a_block() {
    let (cfg, p) = stress_window();
    let hunt = |env: &str| {
        let e = env_config(env).unwrap();
        let base = run_one(&cfg, &p, &e, None).unwrap();
        let mut s = AttackSpec::default_for(AttackKind::StopHunt);
        (s.hold_blocks, s.leverage_x100, s.notional_usd) = (4, 300, 4_000_000);
        (s.push_blocks, s.push_bps, s.start_bps, s.threshold) = (2, 500, 500, 2);
        let r = run_one(&cfg, &p, &e, Some(&s)).unwrap();
        let arb_gain = r.arbitrageur_pnl_usd - base.arbitrageur_pnl_usd;
        (base.lp_pnl_usd - r.lp_pnl_usd, arb_gain, r)
    };
    let (lp_loss, arb_gain, w) = hunt("worst_case");
    eprintln!("worst case: LP loss {lp_loss}, arbitrageur's gain {arb_gain}, {w:?}");
    assert!(w.log.pushes_followed >= 2, "{w:?}");
    assert!(
        lp_loss > 1_000_000 * 1_000_000,
        "LPs lose over $1M: {lp_loss}"
    );
    assert!(w.attacker_pnl_usd < 0, "the attacker does not gain: {w:?}");
    // ... because the arbitrageur takes the pushes' reversion: an attacker that also made the
    // next block's first trade (as a block builder could) would be ahead
    assert!(
        w.attacker_pnl_usd + arb_gain > 0,
        "attacker {} + arbitrageur's gain {arb_gain}",
        w.attacker_pnl_usd
    );
    let (lp_loss_d, _, d) = hunt("defended");
    eprintln!("defended: LP loss {lp_loss_d}, {d:?}");
    assert_eq!(d.log.pushes_followed, 0, "{d:?}");
    assert!(d.log.stopped_at_step.is_some(), "{d:?}");
    assert!(lp_loss_d < lp_loss / 10, "{lp_loss_d} vs {lp_loss}");
}
