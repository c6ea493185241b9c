//! Micro benchmarks of the math libraries (profiling aid).
//!
//! Run: `CARGO_TARGET_DIR=/work/target-spot cargo bench -p azex-spot --bench math`

use alloy_primitives::{I256, U256};
use azex_spot::math::full_math::{mul_div, mul_div_rounding_up};
use azex_spot::math::sqrt_price_math::{
    get_amount0_delta, get_amount1_delta, get_next_sqrt_price_from_input,
};
use azex_spot::math::swap_math::compute_swap_step;
use azex_spot::math::tick_math::{get_sqrt_price_at_tick, get_tick_at_sqrt_price};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Duration;

fn benches(c: &mut Criterion) {
    let p30 = get_sqrt_price_at_tick(30).unwrap();
    let p0 = get_sqrt_price_at_tick(0).unwrap();
    let l: u128 = 1_001_000_000_000_000_000_000_000;
    c.bench_function("math/get_sqrt_price_at_tick(+30)", |b| {
        b.iter(|| get_sqrt_price_at_tick(black_box(30)))
    });
    c.bench_function("math/get_sqrt_price_at_tick(-5970)", |b| {
        b.iter(|| get_sqrt_price_at_tick(black_box(-5970)))
    });
    c.bench_function("math/get_tick_at_sqrt_price", |b| {
        b.iter(|| get_tick_at_sqrt_price(black_box(p30 - U256::from(12345u32))))
    });
    let n1 = U256::from(l) << 96usize;
    c.bench_function("math/mul_div_512", |b| {
        b.iter(|| mul_div(black_box(n1), black_box(p30 - p0), black_box(p30)))
    });
    c.bench_function("math/mul_div_256", |b| {
        b.iter(|| {
            mul_div(
                black_box(U256::from(1u64 << 60)),
                black_box(U256::from(997_000u32)),
                black_box(U256::from(1_000_000u32)),
            )
        })
    });
    c.bench_function("math/mul_div_rounding_up_512", |b| {
        b.iter(|| {
            mul_div_rounding_up(
                black_box(n1),
                black_box(p30),
                black_box(n1 + U256::from(1u64 << 50) * p30),
            )
        })
    });
    c.bench_function("math/get_amount0_delta", |b| {
        b.iter(|| get_amount0_delta(black_box(p0), black_box(p30), black_box(l), true))
    });
    c.bench_function("math/get_amount1_delta", |b| {
        b.iter(|| get_amount1_delta(black_box(p0), black_box(p30), black_box(l), true))
    });
    c.bench_function("math/next_price_from_input0", |b| {
        b.iter(|| {
            get_next_sqrt_price_from_input(
                black_box(p30),
                black_box(l),
                black_box(U256::from(1u64 << 50)),
                true,
            )
        })
    });
    let rem = I256::try_from(-1_000_000_000_000_000i128).unwrap();
    c.bench_function("math/compute_swap_step", |b| {
        b.iter(|| {
            compute_swap_step(
                black_box(p30),
                black_box(p0),
                black_box(l),
                black_box(rem),
                black_box(3000),
            )
        })
    });
    let q128 = U256::from(1u8) << 128usize;
    c.bench_function("math/u256_div_fee_growth", |b| {
        b.iter(|| black_box(U256::from(3_000_000_000_000u64) * q128) / black_box(U256::from(l)))
    });
}

criterion_group! {
    name = math;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(800))
        .sample_size(20);
    targets = benches
}
criterion_main!(math);
