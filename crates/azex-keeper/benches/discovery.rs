//! Liquidation discovery: how fast a keeper finds what a price move made liquidatable.
//!
//! Run: `CARGO_TARGET_DIR=/work/target-keeper cargo bench -p azex-keeper --bench discovery`
//! (figures in `docs/benchmarks.md`, section "Liquidation discovery").
//!
//! One market at $2,000 with `AZEX_BENCH_POSITIONS` positions (default 1,000,000) of 0.01 token
//! (~$20 notional), long and short alternating, leverage spread over ~1.8x–17x, opened through
//! `testkit::World` and `Tx::OpenPosition` (the real engine path; a new block every 10,000
//! opens). The build time is printed to stderr.
//!
//! * `index/build`: `LiqIndex::build` over every position (a keeper's start-up or a rebuild
//!   after a gap).
//! * `index/candidates_at/<move>`: the index query at the price moved by `<move>` from $2,000
//!   (both sides are queried; a long-side fall finds longs, a rise finds shorts); the number of
//!   candidates is printed.
//! * `index/candidates/real_down_10pct`: `LiqIndex::candidates` at the market's own liquidation
//!   prices after the pool was moved 10 % down by a real swap and the truncated oracle and its
//!   TWAP followed block by block.
//! * `scan/is_liquidatable_all`: the baseline without an index — the engine's predicate over every
//!   position (what a naive keeper does each block).
//! * `index/upsert`: re-indexing one position (a keeper's cost per position named by an event).
//! * `reindex_side` after an ADL is timed once and printed (one long side, n/2 positions).

#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_lossless
)] // test data is built with plain casts

use azex_exchange::handlers::liquidation::is_liquidatable;
use azex_exchange::liq_index::LiqIndex;
use azex_exchange::testkit::{World, WorldSpec};
use azex_exchange::units::{QTY_ONE, USD_ONE, WAD};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::{Duration, Instant};

const USERS: u64 = 100;

fn positions() -> usize {
    std::env::var("AZEX_BENCH_POSITIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

/// The world: see the module docs. Returns it and the build time.
fn build_world(n: usize) -> (World, Duration) {
    let t = Instant::now();
    let mut w = World::new(&WorldSpec {
        users: USERS,
        usdc_each: 2_000_000_000 * USD_ONE,
        base_each: 10_000_000 * QTY_ONE,
        markets: vec![(1, 2_000 * WAD, 20_000_000 * USD_ONE)],
        lp_capital: 20_000_000 * USD_ONE,
        ..WorldSpec::default()
    })
    .expect("world");
    let qty = (QTY_ONE / 100) as i128;
    for i in 0..n {
        // 2x..17x, every leverage on both sides.
        let lev = 2 + ((i / 2) as u128 * 7_919) % 16;
        let user = 2 + (i as u64 % (USERS - 1));
        let q = if i % 2 == 0 { qty } else { -qty };
        // Plus up to 12 % margin on top, so liquidation prices spread continuously.
        let margin = 20 * USD_ONE * (100 + (i as u128 * 7) % 13) / (100 * lev);
        w.open(user, 0, q, margin).expect("open");
        w.events.clear();
        if i % 10_000 == 9_999 {
            w.next_block().expect("block");
            w.events.clear();
        }
    }
    w.next_block().expect("block");
    w.events.clear();
    (w, t.elapsed())
}

fn scan(w: &World, liq_price: impl Fn(bool) -> u128) -> usize {
    let s = &w.state;
    let m = &s.markets[0];
    let params = &s.market_params[0];
    s.positions
        .values()
        .filter(|p| {
            let long = p.is_long();
            is_liquidatable(params, m.side(long), p, liq_price(long)).unwrap_or(true)
        })
        .count()
}

fn discovery(c: &mut Criterion) {
    let n = positions();
    let (mut w, built) = build_world(n);
    eprintln!(
        "world: {} positions opened through apply in {:.1} s ({:.1} µs per open)",
        w.state.positions.len(),
        built.as_secs_f64(),
        built.as_secs_f64() * 1e6 / n as f64
    );

    let t = Instant::now();
    let ix = LiqIndex::build(&w.state).expect("build");
    eprintln!(
        "index build (one shot): {} positions in {:.3} s",
        ix.len(),
        t.elapsed().as_secs_f64()
    );

    let mut g = c.benchmark_group("index");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    g.bench_function("build", |b| {
        b.iter(|| black_box(LiqIndex::build(&w.state).expect("build")))
    });
    g.measurement_time(Duration::from_secs(3));

    let p0 = 2_000 * WAD;
    for (label, price) in [
        ("down_1pct", p0 / 100 * 99),
        ("down_5pct", p0 / 100 * 95),
        ("down_10pct", p0 / 100 * 90),
        ("up_10pct", p0 / 100 * 110),
    ] {
        let k = ix.candidates_at(&w.state, 0, price).expect("query").len();
        // Correctness at the same price: the index names every position the predicate flags.
        let flagged = scan(&w, |_| price);
        eprintln!("candidates_at {label}: {k} candidates, {flagged} liquidatable by a full scan");
        assert!(k >= flagged);
        g.bench_function(format!("candidates_at/{label}"), |b| {
            b.iter(|| black_box(ix.candidates_at(&w.state, 0, black_box(price)).expect("q")))
        });
    }

    // A real 10 % fall: swap the pool, let the truncated oracle and the TWAP follow.
    let mut ix = ix;
    let before = w.state.markets[0].prices;
    w.move_price(USERS, 0, 1_800 * WAD, 60).expect("move");
    // Keep the index current the way a keeper does (ADL at block end would re-index a side).
    let adl_sides: Vec<_> = w
        .events
        .iter()
        .filter_map(|e| match e {
            azex_exchange::Event::Deleveraged {
                market, long_side, ..
            } => Some((*market, *long_side)),
            _ => None,
        })
        .collect();
    for (m, long) in &adl_sides {
        ix.reindex_side(&w.state, *m, *long).expect("reindex");
    }
    let after = w.state.markets[0].prices;
    let m = w.state.markets[0];
    let k = ix.candidates(&w.state, 0).expect("query").len();
    let flagged = scan(&w, |long| m.liquidation_price(long));
    eprintln!(
        "real move: spot {} -> {}, TWAP {} -> {} (USD); {} ADL events; candidates {k}, \
         liquidatable by a full scan {flagged}",
        before.spot / WAD,
        after.spot / WAD,
        before.risk / WAD,
        after.risk / WAD,
        adl_sides.len(),
    );
    assert!(k >= flagged);
    g.bench_function("candidates/real_down_10pct", |b| {
        b.iter(|| black_box(ix.candidates(&w.state, 0).expect("q")))
    });
    let some = w.state.positions.keys().nth(n / 2).expect("a position");
    g.bench_function("upsert", |b| {
        b.iter(|| ix.upsert(&w.state, black_box(some)).expect("upsert"))
    });
    g.finish();

    let mut g = c.benchmark_group("scan");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    g.bench_function("is_liquidatable_all", |b| {
        b.iter(|| black_box(scan(&w, |long| m.liquidation_price(long))))
    });
    g.finish();

    let t = Instant::now();
    ix.reindex_side(&w.state, 0, true).expect("reindex");
    eprintln!(
        "reindex_side (one shot, {} long positions): {:.3} s",
        w.state.markets[0].long.positions,
        t.elapsed().as_secs_f64()
    );
}

criterion_group!(benches, discovery);
criterion_main!(benches);
