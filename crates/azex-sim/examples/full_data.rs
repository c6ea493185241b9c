//! Runs presets on the shipped data with the MockVenue and writes JSON, report and charts.
//!
//! cargo run --release -p azex-sim --example full_data -- [OUT_DIR] [PRESET...]

use std::time::Instant;

use azex_sim::*;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = args
        .first()
        .cloned()
        .unwrap_or_else(|| "target/sim-out".into());
    let names: Vec<String> = if args.len() > 1 {
        args[1..].to_vec()
    } else {
        PRESET_NAMES.iter().map(|s| s.to_string()).collect()
    };
    std::fs::create_dir_all(&out).unwrap();
    let t = Instant::now();
    let prices = load_default_prices().expect("load data");
    eprintln!(
        "loaded {} bars x {} symbols in {:?}",
        prices.len(),
        prices.symbols.len(),
        t.elapsed()
    );
    let mut results = Vec::new();
    for n in names {
        let cfg = preset(&n).unwrap_or_else(|| panic!("unknown preset {n}"));
        let t = Instant::now();
        let r =
            run_mock(&cfg, &prices, MockConfig::default(), &RunOptions::default()).expect("run");
        eprintln!("{n}: {} blocks in {:?}", r.data.blocks, t.elapsed());
        std::fs::write(format!("{out}/{n}.json"), r.to_json()).unwrap();
        let t = Instant::now();
        write_charts(&r, &out).expect("charts");
        eprintln!("  charts in {:?}", t.elapsed());
        results.push(r);
    }
    write_report(&results, format!("{out}/report.md")).unwrap();
}
