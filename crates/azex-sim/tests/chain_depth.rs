//! The chain-resolution stress mode (2-second blocks, the production oracle bound, keeper
//! latency and transaction budget) and spot depth from a concentrated-liquidity profile
//! (issue 11, items 4 and 6). Small synthetic data: seconds per test.

#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_lossless
)] // test data is built with plain casts

use azex_sim::driver::ChainMode;
use azex_sim::engine_venue::{band_azusd, concentrated_profile, DepthConfig};
use azex_sim::study::{chain_window, engine_probe, worst_bars, ChainStudy};
use azex_sim::units::WAD;
use azex_sim::*;

/// 30-minute bars of one made-up asset: `(open, close)` per bar, high/low at the extremes.
fn series(bars: &[(f64, f64)]) -> PriceSeries {
    let mut csv = String::from("timestamp,symbol,open,high,low,close\n");
    let t0 = 1_646_092_800u64; // 2022-03-01
    for (i, &(o, c)) in bars.iter().enumerate() {
        csv.push_str(&format!(
            "{},AAAUSD,{o:.6},{:.6},{:.6},{c:.6}\n",
            t0 + i as u64 * 1800,
            o.max(c),
            o.min(c)
        ));
    }
    parse_prices(csv.as_bytes(), "synthetic").unwrap()
}

/// A small population with high leverage (liquidations come quickly) and `n` regular agents.
fn scenario(n: u32) -> SimConfig {
    let mut c = preset("balanced-high").unwrap();
    c.population.agents = n;
    c.population.mix.lp = 0;
    c.population.leverage = [20, 40];
    c.genesis_vault_usd = 100_000_000;
    c.crash.detect = 0;
    c.chart_points = 2;
    c
}

const TICK: f64 = 1.0001;

fn ticks_between(a: u128, b: u128) -> f64 {
    (a as f64 / b as f64).ln().abs() / TICK.ln()
}

#[test]
fn chain_mode_truncates_the_oracle_to_50_ticks_per_2s_block() {
    // 6 flat bars at $100, a bar that opens 10 % lower (a gap: ~1054 ticks in one step), one flat
    let mut bars = vec![(100.0, 100.0); 6];
    bars.push((90.0, 90.0));
    bars.push((90.0, 90.0));
    let prices = series(&bars);
    let mut cfg = scenario(10);
    cfg.substeps = 30; // 1-minute warm-up blocks
    cfg.chain = Some(ChainMode {
        window_start_bar: 6,
        window_bars: 2,
        ..Default::default()
    });
    let engine = EngineConfig::default();
    let p = engine_probe(&cfg, &prices, &engine, 100_000_000, true).unwrap();
    assert_eq!(p.flow.len(), 6 * 30 + 2 * 900, "one flow entry per block");
    let spot: Vec<u128> = p.flow.iter().map(|(_, r)| r[0].spot_price).collect();
    let window = &spot[6 * 30 - 1..];
    let mut max_move = 0f64;
    for w in window.windows(2) {
        max_move = max_move.max(ticks_between(w[1], w[0]));
    }
    assert!(
        max_move <= 50.5,
        "oracle moved {max_move} ticks in one 2-s block"
    );
    assert!(max_move >= 49.0, "the bound binds on the gap: {max_move}");
    // the oracle walks the ~1054 ticks in about 21 blocks (42 s), not one
    let arrived = window
        .iter()
        .position(|&s| ticks_between(s, 90 * WAD) < 2.0)
        .unwrap();
    assert!(
        (20..=24).contains(&arrived),
        "arrived after {arrived} blocks"
    );

    // the coarse conversion (7.5-minute blocks: 9116 ticks per block) follows the gap at once
    let mut coarse = scenario(10);
    coarse.substeps = 4;
    let q = engine_probe(&coarse, &prices, &engine, 100_000_000, true).unwrap();
    let s: Vec<u128> = q.flow.iter().map(|(_, r)| r[0].spot_price).collect();
    let jump = s
        .windows(2)
        .map(|w| ticks_between(w[1], w[0]))
        .fold(0.0, f64::max);
    assert!(jump > 1_000.0, "coarse blocks: {jump} ticks in one block");
}

/// Heights (flow index) of liquidation fills.
fn liquidation_blocks(p: &study::EngineProbe) -> Vec<(usize, usize)> {
    p.flow
        .iter()
        .enumerate()
        .map(|(i, (f, _))| {
            (
                i,
                f.iter().filter(|x| x.kind == FillKind::Liquidation).count(),
            )
        })
        .filter(|&(_, n)| n > 0)
        .collect()
}

#[test]
fn keeper_latency_delays_liquidations_and_the_budget_limits_them() {
    // 10 bars drifting around $100 (positions build up), then a bar falling 25 % steadily:
    // leveraged longs become liquidatable inside the chain window
    let mut bars: Vec<(f64, f64)> = (0..10)
        .map(|i| {
            let o = 100.0 + (i % 3) as f64;
            (o, 100.0 + ((i + 1) % 3) as f64)
        })
        .collect();
    bars.push((100.0, 60.0));
    let prices = series(&bars);
    let run = |latency: u32, budget: u32| {
        let mut cfg = scenario(200);
        cfg.substeps = 30;
        cfg.chain = Some(ChainMode {
            window_start_bar: 10,
            window_bars: 1,
            keeper_latency_blocks: latency,
            keeper_txs_per_block: budget,
            ..Default::default()
        });
        engine_probe(&cfg, &prices, &EngineConfig::default(), 100_000_000, true).unwrap()
    };
    let r0 = run(0, 1_000);
    let now = liquidation_blocks(&r0);
    let late = liquidation_blocks(&run(40, 1_000));
    assert!(!now.is_empty(), "the fall liquidates someone");
    assert!(!late.is_empty());
    // same flow until the first position becomes liquidatable: 40 blocks (80 s) later
    assert!(
        late[0].0 >= now[0].0 + 38,
        "latency 40: first liquidation at block {} vs {} without latency",
        late[0].0,
        now[0].0
    );
    // the budget: at most one liquidation transaction per block, all keepers together
    let one = liquidation_blocks(&run(0, 1));
    assert!(one.iter().all(|&(_, n)| n <= 1), "{one:?}");
    assert!(
        now.iter().any(|&(_, n)| n > 1),
        "without a budget some block has several liquidations: {now:?}"
    );
}

#[test]
fn concentrated_profile_depth_matches_its_parameters() {
    let prices = series(&[(100.0, 100.0), (100.0, 100.0)]);
    let depth = |profile: Vec<azex_sim::engine_venue::LiquidityBand>, usd: u64| {
        let cfg = EngineConfig {
            default_depth_usd: usd,
            depth_usd: Default::default(),
            liquidity_profile: profile,
            ..Default::default()
        };
        let mut v = EngineVenue::new(cfg, &prices, 450, 4).unwrap();
        v.begin_block(1, prices.timestamps[0] + 450);
        let at_listing = v.listing_depth_usd[0] as f64 / 1e6;
        let now = v.state().markets[0].prices.spot_liquidity as f64 / 1e6;
        (v, at_listing, now)
    };
    // full range (the default): the ±2 % depth is the configured one
    let (_, _, full) = depth(Vec::new(), 300_000);
    assert!((full / 300_000.0 - 1.0).abs() < 0.02, "full range: {full}");
    // the concentrated profile: the same ±2 % depth from a third of the capital
    let profile = concentrated_profile();
    let (mut v, listed, now) = depth(profile.clone(), 300_000);
    assert!((now / 300_000.0 - 1.0).abs() < 0.02, "profile: {now}");
    // the listing seed is the ±2 % band: its depth alone sets the OI cap
    let amounts = band_azusd(&profile, 300_000);
    let seed_depth = 2.0 * amounts[0] as f64 / 1e6; // the band lies inside ±2 %: all of it
    assert!(
        (listed / seed_depth - 1.0).abs() < 0.03,
        "{listed} vs {seed_depth}"
    );
    let cap = v.state().market_params[0].max_oi_per_side as f64 / 1e6;
    assert!(
        cap <= 20.0 * listed * 1.001,
        "OI cap {cap} from depth {listed}"
    );
    let pool_capital: f64 = amounts.iter().map(|&a| 2.0 * a as f64 / 1e6).sum();
    let full_capital = 2.0 * 300_000.0 / 0.0197;
    assert!(
        pool_capital < full_capital / 10.0,
        "{pool_capital} vs full range {full_capital}"
    );
    // static bands: 5 % away from the listing price the ±2 % band is out of range
    v.arbitrage_spot_to(0, 105 * WAD).unwrap();
    v.end_block();
    v.begin_block(2, prices.timestamps[0] + 900);
    let moved = v.state().markets[0].prices.spot_liquidity as f64 / 1e6;
    assert!(moved < 0.25 * 300_000.0, "depth after the move: {moved}");
}

#[test]
fn long_tail_preset_lists_small_depth_and_its_oi_caps_bind() {
    let prices = load_default_prices().unwrap();
    let mut cfg = preset("long-tail").unwrap();
    cfg.population.agents = 300;
    cfg.start = Some("2017-12-15".into());
    cfg.max_bars = Some(144);
    cfg.crash.detect = 0;
    cfg.chart_points = 2;
    let r = run_engine(
        &cfg,
        &prices,
        EngineConfig::default(),
        &RunOptions::default(),
    )
    .unwrap();
    for s in &r.data.symbols {
        let d = &r.venue_info[&format!("depth_at_listing.{s}")];
        let d: f64 = d.replace(',', "").parse().unwrap();
        assert!((200_000.0..300_000.0).contains(&d), "{s}: depth {d}");
    }
    let refused = r.actions.rejected.get("oi_cap").copied().unwrap_or(0);
    assert!(refused > 0, "OI caps never bound: {:?}", r.actions.rejected);
    // the same flow on the default (full-range, deep) pools is never refused by an OI cap
    let mut deep = cfg.clone();
    deep.depth = Some(DepthConfig::default());
    let d = run_engine(
        &deep,
        &prices,
        EngineConfig::default(),
        &RunOptions::default(),
    )
    .unwrap();
    assert_eq!(d.actions.rejected.get("oi_cap"), None);
}

#[test]
fn chain_windows_are_the_worst_bars_with_their_warm_up() {
    let mut bars: Vec<(f64, f64)> = vec![(100.0, 100.0); 200];
    bars[150] = (100.0, 70.0); // the worst
    for b in bars.iter_mut().skip(151) {
        *b = (70.0, 70.0);
    }
    bars[60] = (100.0, 90.0);
    for b in bars.iter_mut().take(150).skip(61) {
        *b = (90.0, 90.0);
    }
    bars[149] = (90.0, 100.0);
    let prices = series(&bars);
    assert_eq!(worst_bars(&prices, 3, 48), vec![150, 60]);
    let c = ChainStudy {
        warmup_days: 1,
        ..Default::default()
    };
    let (slice, mode, ts) = chain_window(&prices, &c, &EngineConfig::default(), 0).unwrap();
    assert_eq!(ts, prices.timestamps[150]);
    assert_eq!(mode.substeps, 900);
    assert_eq!((mode.window_start_bar, mode.window_bars), (48, 3));
    assert_eq!(slice.len(), 48 + 3);
    assert_eq!(slice.timestamps[48], prices.timestamps[149]);
    assert!(chain_window(&prices, &c, &EngineConfig::default(), 2).is_none());
}
