//! End-to-end runs of the simulator on the shipped data: determinism, a small run's report and
//! charts, custom CSV files, presets.

use azex_sim::*;

fn small_cfg(seed: u64) -> SimConfig {
    let mut c = preset("balanced-moderate").unwrap();
    c.name = "e2e".into();
    c.seed = seed;
    c.start = Some("2018-01-15".into());
    c.max_bars = Some(192);
    c.population.agents = 80;
    c.population.adversaries = AdversaryConfig {
        self_liquidators: 1,
        spot_manipulators: 1,
        stop_hunters: 1,
        interval_hours: 12,
        ..Default::default()
    };
    c.chart_points = 200;
    c
}

fn quiet() -> RunOptions {
    RunOptions {
        quiet: true,
        ..Default::default()
    }
}

#[test]
fn same_seed_gives_byte_identical_json_and_different_seed_differs() {
    let prices = load_default_prices().unwrap();
    let a = run_engine(&small_cfg(7), &prices, EngineConfig::default(), &quiet()).unwrap();
    let b = run_engine(&small_cfg(7), &prices, EngineConfig::default(), &quiet()).unwrap();
    assert_eq!(a.to_json(), b.to_json());
    let c = run_engine(&small_cfg(8), &prices, EngineConfig::default(), &quiet()).unwrap();
    assert_ne!(a.to_json(), c.to_json());
    // JSON round-trips into the same summary
    let back: SimResult = serde_json::from_str(&a.to_json()).unwrap();
    assert_eq!(back.to_json(), a.to_json());
}

#[test]
fn small_run_is_sane_and_writes_report_and_charts() {
    let prices = load_default_prices().unwrap();
    let cfg = small_cfg(3);
    let r = run_engine(&cfg, &prices, EngineConfig::default(), &quiet()).unwrap();
    assert_eq!(r.data.bars, 192);
    assert_eq!(r.data.blocks, 768);
    assert_eq!(r.data.first, "2018-01-15 00:00");
    assert_eq!(
        r.models
            .iter()
            .map(|m| m.model.as_str())
            .collect::<Vec<_>>(),
        ["azex", "classic", "reserve_factor"]
    );
    let az = r.model("azex").unwrap();
    let cl = r.model("classic").unwrap();
    let rf = r.model("reserve_factor").unwrap();
    assert!(az.oi_peak_usd > 0);
    // the classic pool replays the engine's fills (valued at spot, the engine at the mark)
    assert!(az.oi_peak_usd.abs_diff(cl.oi_peak_usd) * 100 < az.oi_peak_usd);
    assert!(cl.capital_per_oi_avg >= 0.5 && cl.capital_per_oi_avg <= 1.0);
    assert!(rf.capital_per_oi_avg > cl.capital_per_oi_avg);
    assert_eq!(az.capital_usd, rf.capital_usd);
    assert!(az.fees_to_lp_usd > 0);
    assert!(
        az.liquidations > 0,
        "a January 2018 slice liquidates someone"
    );
    // same flow, so the classic pool sees the same liquidations and fees
    assert_eq!(cl.liquidations, az.liquidations);
    assert_eq!(cl.fees_to_lp_usd, az.fees_to_lp_usd);
    assert!(r.crash_windows.iter().any(|w| w.label == "Jan-Feb 2018"));
    assert_eq!(az.crash_drawdowns.len(), r.crash_windows.len());
    let kinds: Vec<&str> = r.agents.iter().map(|k| k.kind.as_str()).collect();
    for k in [
        "noise",
        "hedger",
        "lp",
        "keeper",
        "self_liquidator",
        "spot_manipulator",
        "stop_hunter",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    assert!(r.agents.iter().all(|k| k.activations > 0), "{:?}", r.agents);
    let manip = r
        .agents
        .iter()
        .find(|k| k.kind == "spot_manipulator")
        .unwrap();
    assert!(manip.accepted > 0);

    let dir = std::env::temp_dir().join(format!("azex-sim-e2e-{}", std::process::id()));
    let files = write_charts(&r, &dir).unwrap();
    assert_eq!(files.len(), 4);
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{f:?}");
        assert!(bytes.len() > 10_000);
    }
    let md = dir.join("report.md");
    write_report(std::slice::from_ref(&r), &md).unwrap();
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(text.contains("## Scenario `e2e`"));
    assert!(text.contains("| Capital per $ of OI, avg |"));
    assert!(text.contains("Drawdown in Jan-Feb 2018"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn custom_csv_and_symbol_mismatch() {
    let mut csv = String::from("timestamp,symbol,close\n");
    for i in 0..200u64 {
        let p = 100.0 + (i % 20) as f64 - 10.0;
        csv.push_str(&format!(
            "{},AAA,{p}\n{},BBB,{}\n",
            i * 3600,
            i * 3600,
            p / 10.0
        ));
    }
    let prices = parse_prices(csv.as_bytes(), "synthetic").unwrap();
    let mut cfg = SimConfig {
        name: "synthetic".into(),
        seed: 5,
        substeps: 2,
        ..Default::default()
    };
    cfg.population.agents = 60;
    let r = run_engine(&cfg, &prices, EngineConfig::default(), &quiet()).unwrap();
    assert_eq!(r.data.blocks, 400);
    assert_eq!(r.data.bar_seconds, 3600);
    // a venue whose market is not in the data is an error
    let other = parse_prices(
        "timestamp,symbol,close\n0,ZZZ,1\n3600,ZZZ,1\n".as_bytes(),
        "other",
    )
    .unwrap();
    let mut v = EngineVenue::new(EngineConfig::default(), &other, 1800, 60).unwrap();
    assert!(matches!(
        run_with(&cfg, &prices, &mut v, &quiet()),
        Err(SimError::UnknownSymbol(_))
    ));
    // a venue with a subset of the symbols trades only those
    let only_b = prices.select(&["BBB".to_string()]).unwrap();
    let mut v = EngineVenue::new(EngineConfig::default(), &only_b, 1800, 60).unwrap();
    let r = run_with(&cfg, &prices, &mut v, &quiet()).unwrap();
    assert_eq!(r.data.symbols, vec!["BBB"]);
    cfg.symbols = Some(vec!["NOPE".into()]);
    assert!(matches!(
        run_engine(&cfg, &prices, EngineConfig::default(), &quiet()),
        Err(SimError::Config(_))
    ));
}

#[test]
fn presets_exist_and_parse_back() {
    assert_eq!(presets().len(), PRESET_NAMES.len());
    for p in presets() {
        let j = serde_json::to_string(&p).unwrap();
        let back: SimConfig = serde_json::from_str(&j).unwrap();
        assert_eq!(back, p);
    }
    // partial configs fill in defaults
    let c: SimConfig =
        serde_json::from_str(r#"{"name":"x","population":{"balance":0.9}}"#).unwrap();
    assert_eq!(c.population.agents, 1000);
    assert_eq!(c.substeps, 4);
    assert!(preset("nope").is_none());
    // typos are errors, not silently ignored
    assert!(serde_json::from_str::<SimConfig>(r#"{"population":{"balanse":0.9}}"#).is_err());
    assert!(serde_json::from_str::<EngineConfig>(r#"{"spot_fee_pips":5,"x":1}"#).is_err());
}
