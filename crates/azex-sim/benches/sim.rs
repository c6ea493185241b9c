//! Simulator throughput on the real exchange state machine.
//!
//! `CARGO_TARGET_DIR=/work/target-sim2 cargo bench -p azex-sim --bench sim`
//!
//! * `sim/engine/balanced-high/1000-agents/jan-2018`: one month of the shipped data (January
//!   2018, the first crash: heavy liquidation and ADL traffic), 5 markets, 1,000 agents, 4 blocks
//!   per 30-minute bar (5,952 blocks), everything through `State::apply`. Throughput is counted
//!   in blocks, so criterion's `elem/s` is blocks per second; the full two-year run is 140,088
//!   blocks (docs/results.md gives the measured wall time of the full run).
//!
//! Prices are loaded and sliced once, outside the timed loop.

use azex_sim::*;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let prices = load_default_prices().expect("shipped data");
    let mut cfg = preset("balanced-high").expect("preset");
    cfg.start = Some("2018-01-01".into());
    cfg.end = Some("2018-02-01".into());
    cfg.chart_points = 100;
    let p = prepare_prices(&cfg, &prices).expect("slice");
    let blocks = p.len() as u64 * u64::from(cfg.substeps);
    let quiet = RunOptions {
        quiet: true,
        ..Default::default()
    };
    let mut g = c.benchmark_group("sim");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .warm_up_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(blocks));
    g.bench_function("engine/balanced-high/1000-agents/jan-2018", |b| {
        b.iter(|| {
            let r = run_engine(&cfg, &p, EngineConfig::default(), &quiet).expect("run");
            black_box(r.data.blocks)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
