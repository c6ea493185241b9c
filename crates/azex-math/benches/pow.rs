//! Cost of the fixed-point power and its building blocks.
//!
//! Run: `cargo bench -p azex-math --bench pow`. Per-call numbers are reported by criterion;
//! the `mixed` groups evaluate 64 varied inputs per iteration (throughput = elements), so
//! branch prediction cannot memorise one path.

use azex_math::pow::{exp2_wad_down, log2_wad_down, pow_wad_down, pow_wad_up};
use azex_math::wad::{mul_wad_down, mul_wad_down_u128, WAD, WAD_U128};
use azex_math::U256;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;

fn w(num: u128, den: u128) -> U256 {
    U256::from(num * WAD_U128 / den)
}

fn single(c: &mut Criterion) {
    let mut g = c.benchmark_group("pow_single");
    let cases = [
        ("x=1.234,y=1.5", w(1234, 1000), w(3, 2)),
        ("x=0.37,y=2.2", w(37, 100), w(22, 10)),
        ("x=1e6,y=1.2", w(1_000_000, 1), w(12, 10)),
        ("x=1e-12,y=0.5", U256::from(1_000_000u64), w(1, 2)),
        ("x=2^200,y=0.25", U256::from(1u8) << 200, w(1, 4)),
    ];
    for (name, x, y) in cases {
        g.bench_function(format!("down {name}"), |b| {
            b.iter(|| pow_wad_down(black_box(x), black_box(y)))
        });
        g.bench_function(format!("up {name}"), |b| {
            b.iter(|| pow_wad_up(black_box(x), black_box(y)))
        });
    }
    g.bench_function("down integer y=2 (exact path)", |b| {
        b.iter(|| pow_wad_down(black_box(w(1234, 1000)), black_box(w(2, 1))))
    });
    g.bench_function("down integer y=5 (exact path)", |b| {
        b.iter(|| pow_wad_down(black_box(w(1234, 1000)), black_box(w(5, 1))))
    });
    g.finish();
}

fn mixed(c: &mut Criterion) {
    // 64 pseudo-random (x, y): x log-spread over [1e-12, 1e6] WAD, y in (0, 5).
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let inputs: Vec<(U256, U256)> = (0..64)
        .map(|_| {
            let x = U256::from(1_000_000u64 + (next() >> 20)) << ((next() % 60) as usize);
            let y = U256::from(next() % (5 * 1_000_000_000_000_000_000u64)); // y < 5.0
            (x, y)
        })
        .collect();
    let mut g = c.benchmark_group("pow_mixed");
    g.throughput(Throughput::Elements(inputs.len() as u64));
    g.bench_function("pow_wad_down x64", |b| {
        b.iter(|| {
            for &(x, y) in &inputs {
                let _ = black_box(pow_wad_down(black_box(x), black_box(y)));
            }
        })
    });
    g.bench_function("pow_wad_up x64", |b| {
        b.iter(|| {
            for &(x, y) in &inputs {
                let _ = black_box(pow_wad_up(black_box(x), black_box(y)));
            }
        })
    });
    g.finish();
}

fn parts(c: &mut Criterion) {
    let mut g = c.benchmark_group("parts");
    let x = w(1234, 1000);
    g.bench_function("log2_wad_down", |b| b.iter(|| log2_wad_down(black_box(x))));
    g.bench_function("exp2_wad_down", |b| {
        b.iter(|| exp2_wad_down(black_box(1_234_567_890_123_456_789i128)))
    });
    g.bench_function("mul_wad_down U256 (u128 fast path)", |b| {
        b.iter(|| mul_wad_down(black_box(x), black_box(WAD + U256::from(7u8))))
    });
    let big = U256::from(1u8) << 150;
    g.bench_function("mul_wad_down U256 (512-bit path)", |b| {
        b.iter(|| mul_wad_down(black_box(big), black_box(big)))
    });
    g.bench_function("mul_wad_down_u128", |b| {
        b.iter(|| mul_wad_down_u128(black_box(1_234 * WAD_U128 / 100), black_box(WAD_U128 + 7)))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = single, mixed, parts
}
criterion_main!(benches);
