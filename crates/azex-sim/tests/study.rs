//! The capital study on price data the project never tuned on: a synthetic file with symbols
//! and dates that are not in the shipped data (a geometric random walk with fat-tailed jumps,
//! generated here from a seed). Small and fast: a day per path, a few dozen agents.

use azex_sim::prices::{detect_crash_windows, format_timestamp};
use azex_sim::study::{
    bootstrap_series, run_study, worst_bar, worst_bars, ChainStudy, StudyConfig,
};
use azex_sim::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Hourly bars of two made-up assets from 2022-03-01, with OHLC, `bars` long.
fn synthetic(bars: u64, seed: u64) -> PriceSeries {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut csv = String::from("timestamp,symbol,open,high,low,close\n");
    let mut p = [37.5f64, 0.081];
    let t0 = 1_646_092_800u64; // 2022-03-01
    for i in 0..bars {
        let common: f64 = rng.random_range(-0.02..0.02);
        for (k, sym) in ["SOLX", "DOGX"].iter().enumerate() {
            let mut r = common + rng.random_range(-0.015..0.015);
            if rng.random_range(0..100) == 0 {
                r -= 0.12; // a crash bar now and then
            }
            let o = p[k];
            let c = o * (1.0 + r);
            let h = o.max(c) * (1.0 + rng.random_range(0.0..0.01));
            let l = o.min(c) * (1.0 - rng.random_range(0.0..0.01));
            csv.push_str(&format!(
                "{},{sym},{o:.8},{h:.8},{l:.8},{c:.8}\n",
                t0 + i * 3600
            ));
            p[k] = c;
        }
    }
    parse_prices(csv.as_bytes(), "synthetic-2022").unwrap()
}

#[test]
fn bootstrap_paths_are_seeded_and_include_the_worst_move() {
    let src = synthetic(300, 3);
    let mut a = ChaCha8Rng::seed_from_u64(9);
    let mut b = ChaCha8Rng::seed_from_u64(9);
    let p = bootstrap_series(&src, 100, 24, 2, &mut a).unwrap();
    let q = bootstrap_series(&src, 100, 24, 2, &mut b).unwrap();
    assert_eq!(p, q, "same seed, same path");
    let mut c = ChaCha8Rng::seed_from_u64(10);
    assert_ne!(p, bootstrap_series(&src, 100, 24, 2, &mut c).unwrap());
    assert_eq!(p.len(), 100);
    assert_eq!(p.symbols, src.symbols);
    assert_eq!(p.bars[0][0].open, src.bars[0][0].open);
    for s in &p.bars {
        for x in s {
            assert!(x.low <= x.open.min(x.close) && x.high >= x.open.max(x.close));
        }
    }
    // the worst basket bar of the data appears (two jumps of it were inserted)
    let w = worst_bar(&src).unwrap();
    let mean_close = |t: usize| -> f64 {
        p.bars
            .iter()
            .map(|s| s[t].close as f64 / s[t - 1].close as f64)
            .sum::<f64>()
            / p.bars.len() as f64
    };
    let worst_in_path = (1..p.len()).map(mean_close).fold(f64::INFINITY, f64::min);
    let worst_in_data = w.iter().map(|r| r[3]).sum::<f64>() / w.len() as f64;
    assert!(
        worst_in_path <= worst_in_data + 1e-9,
        "{worst_in_path} vs {worst_in_data}"
    );
}

#[test]
fn crash_windows_include_the_trough_bar() {
    let src = synthetic(400, 5);
    let w = detect_crash_windows(&src, 48, 2);
    assert!(!w.is_empty());
    for x in &w {
        // the trough bar: the last bar opening before end_ts; its close time is end_ts
        let j = src.timestamps.partition_point(|&t| t < x.end_ts) - 1;
        assert_eq!(x.end_ts, src.timestamps[j] + src.bar_seconds(j));
    }
}

#[test]
fn study_on_unseen_data_skips_presets_outside_it_and_reports_every_design() {
    let prices = synthetic(24 * 20, 7);
    let study = StudyConfig {
        scenarios: vec!["balanced-moderate".into(), "crash-replay".into()],
        paths: 2,
        path_days: 1,
        substeps: vec![2],
        agents: 40,
        azex_probes: 3,
        peer_probes: 12,
        reference_capital_usd: 100_000_000,
        chain: None,
        ..Default::default()
    };
    let cfgs: Vec<SimConfig> = study.scenarios.iter().map(|n| preset(n).unwrap()).collect();
    let r = run_study(
        &study,
        &cfgs,
        &prices,
        &EngineConfig::default(),
        2,
        &|_, _| {},
    )
    .unwrap();
    // crash-replay's dates (Dec 2017 - Mar 2018) are not in 2022 data: skipped with a note
    assert_eq!(r.skipped.len(), 1);
    assert!(r.skipped[0].starts_with("crash-replay"), "{:?}", r.skipped);
    assert_eq!(r.scenarios.len(), 1);
    let s = &r.scenarios[0];
    assert_eq!((s.paths, s.bars_per_path, s.block_seconds), (2, 24, 1800));
    let names: Vec<&str> = s.designs.iter().map(|d| d.design.as_str()).collect();
    assert_eq!(
        names,
        ["azex", "classic", "gmx_v2", "synthetix_v2", "gtrade"]
    );
    for d in &s.designs {
        assert_eq!(d.paths.len(), 2);
        assert!(
            d.paths.iter().all(|p| p.oi_peak_usd > 0),
            "{}: the flow traded",
            d.design
        );
        // solvent capital exists exactly when no path has bad debt and every path is safe
        assert_eq!(
            d.solvent_capital_usd.is_some(),
            d.paths_with_bad_debt == 0 && d.paths_unsafe_at_reference == 0,
            "{}",
            d.design
        );
        if let Some(c) = d.capital_drawdown_only_usd {
            assert_eq!(c, d.paths.iter().map(|p| p.capital_usd).max().unwrap());
            assert!(c <= study.reference_capital_usd);
            // at its capital every path keeps within the drawdown cap
            assert!(
                d.lp_max_drawdown_bps <= study.drawdown_cap_bps,
                "{}",
                d.design
            );
        }
        assert!(d.formula_per_100m_peak_oi >= 0.0);
    }
    // GMX v2 backs both sides in full: never less than the classic max(L, S) formula
    let f = |n: &str| {
        s.designs
            .iter()
            .find(|d| d.design == n)
            .unwrap()
            .formula_per_100m_peak_oi
    };
    assert!(f("gmx_v2") >= f("classic"));
    assert!(f("classic") >= f("synthetix_v2"));
    // the JSON carries the documented fields
    let j = r.to_json();
    for k in [
        "solvent_capital_usd",
        "solvent_capital_per_100m_peak_oi",
        "bad_debt_usd",
        "lp_max_drawdown_bps",
        "lp_drawdown_p99_bps",
        "attacker_pnl_usd",
        "imbalance_bps",
    ] {
        assert!(j.contains(&format!("\"{k}\"")), "{k} missing");
    }
    // deterministic
    let again = run_study(
        &study,
        &cfgs,
        &prices,
        &EngineConfig::default(),
        1,
        &|_, _| {},
    )
    .unwrap();
    assert_eq!(again.to_json(), j, "thread count does not change results");
}

#[test]
fn chain_resolution_mode_is_a_2s_block_length_judged_like_the_others() {
    let prices = synthetic(24 * 6, 7);
    let study = StudyConfig {
        scenarios: vec!["balanced-moderate".into()],
        paths: 1,
        path_days: 1,
        substeps: vec![2],
        agents: 40,
        azex_probes: 2,
        peer_probes: 8,
        reference_capital_usd: 100_000_000,
        chain: Some(ChainStudy {
            windows: 1,
            warmup_days: 1,
            warmup_substeps: 60,
            window_bars_before: 0,
            window_bars_after: 0,
            control_substeps: Some(2),
            ..Default::default()
        }),
        ..Default::default()
    };
    let cfgs: Vec<SimConfig> = study.scenarios.iter().map(|n| preset(n).unwrap()).collect();
    let run = |jobs| {
        run_study(
            &study,
            &cfgs,
            &prices,
            &EngineConfig::default(),
            jobs,
            &|_, _| {},
        )
        .unwrap()
    };
    let r = run(2);
    assert_eq!(
        r.scenarios.len(),
        3,
        "a coarse block length, chain resolution and its coarse control"
    );
    // the control: the same windows at 2 blocks per bar, no chain mode
    let ctl = &r.scenarios[2];
    assert_eq!((ctl.block_seconds, ctl.substeps), (1800, 2));
    let ci = ctl.chain.as_ref().unwrap();
    assert_eq!(ci.control_substeps, Some(2));
    assert_eq!(
        ci.stress_bars,
        r.scenarios[1].chain.as_ref().unwrap().stress_bars
    );
    assert_eq!(ctl.bars_per_path, r.scenarios[1].bars_per_path);
    assert!(r.scenarios[1]
        .chain
        .as_ref()
        .unwrap()
        .control_substeps
        .is_none());
    let s = &r.scenarios[1];
    // hourly bars: 1800 two-second blocks per bar; up to a day of warm-up and the worst bar
    let worst = worst_bars(&prices, 1, 24)[0];
    let bars = worst.min(24) as u64 + 1;
    assert_eq!(
        (s.block_seconds, s.substeps, s.bars_per_path),
        (2, 1800, bars)
    );
    let info = s.chain.as_ref().unwrap();
    assert_eq!(
        info.stress_bars,
        vec![format_timestamp(prices.timestamps[worst])]
    );
    assert_eq!(
        (info.warmup_block_seconds, info.chain_blocks_per_path),
        (60, 1800)
    );
    assert_eq!(s.designs.len(), 5);
    for d in &s.designs {
        assert!(d.paths[0].oi_peak_usd > 0, "{}: the flow traded", d.design);
        assert_eq!(
            d.solvent_capital_usd.is_some(),
            d.paths_with_bad_debt == 0 && d.paths_unsafe_at_reference == 0
        );
    }
    assert!(r.scenarios[0].chain.is_none());
    assert_eq!(run(1).to_json(), r.to_json(), "deterministic");
}
