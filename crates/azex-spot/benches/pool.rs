//! Pool-manager micro benchmarks: a swap inside one tick, swaps crossing 10 and 100 initialized
//! ticks, adding and removing liquidity. The side-by-side comparison with the `uniswap-v3-sdk`
//! crate lives in `crates/azex-spot-bench` (kept out of this crate so its build stays light).
//!
//! Run: `CARGO_TARGET_DIR=/work/target-spot cargo bench -p azex-spot --bench pool`
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_lossless
)] // test data is built with plain casts

use alloy_primitives::Address;
use azex_spot::math::tick_math::get_sqrt_price_at_tick;
use azex_spot::{HookContext, ModifyLiquidityParams, NoHooks, PoolKey, PoolManager, SwapParams};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::{Duration, Instant};

const TS: i32 = 60;

fn key() -> PoolKey {
    PoolKey {
        currency0: Address::new([1; 20]),
        currency1: Address::new([2; 20]),
        fee: 3000,
        tick_spacing: TS,
        hooks: Address::ZERO,
    }
}

/// Price at tick 30's lower bound; see [`fixture_at`].
fn fixture() -> PoolManager<NoHooks> {
    fixture_at(get_sqrt_price_at_tick(30).unwrap())
}

/// Price `price`; a full-range position of 1e24 and 240 positions of 1e21 on
/// `[k*60, (k+1)*60]`, k in -120..120: an initialized tick every 60 ticks.
fn fixture_at(price: alloy_primitives::U256) -> PoolManager<NoHooks> {
    let mut m = PoolManager::new(NoHooks);
    let ctx = HookContext::default();
    let k = key();
    m.initialize(&ctx, &k, price).unwrap();
    let add = |m: &mut PoolManager<NoHooks>, lo: i32, hi: i32, l: i128| {
        let p = ModifyLiquidityParams {
            owner: Address::new([7; 20]),
            tick_lower: lo,
            tick_upper: hi,
            liquidity_delta: l,
            salt: [0; 32],
        };
        m.modify_liquidity(&ctx, &k, &p).unwrap();
    };
    add(&mut m, -887_220, 887_220, 1_000_000_000_000_000_000_000_000);
    for i in -120..120 {
        add(&mut m, i * TS, (i + 1) * TS, 1_000_000_000_000_000_000_000);
    }
    m
}

fn swap_to(zero_for_one: bool, tick_limit: i32) -> SwapParams {
    SwapParams {
        zero_for_one,
        amount_specified: -(1i128 << 100),
        sqrt_price_limit_x96: get_sqrt_price_at_tick(tick_limit).unwrap(),
    }
}

fn benches(c: &mut Criterion) {
    let ctx = HookContext::default();
    let k = key();
    let start = get_sqrt_price_at_tick(30).unwrap();

    // a swap inside one tick: from the middle of tick 30, 1e15 exact input, direction chosen
    // to oscillate around the start
    {
        let lo = get_sqrt_price_at_tick(30).unwrap();
        let hi = get_sqrt_price_at_tick(31).unwrap();
        let start = lo + (hi - lo) / alloy_primitives::U256::from(2u8);
        let mut m = fixture_at(start);
        let down = SwapParams {
            zero_for_one: true,
            amount_specified: -1_000_000_000_000_000,
            sqrt_price_limit_x96: get_sqrt_price_at_tick(-887_000).unwrap(),
        };
        let up = SwapParams {
            zero_for_one: false,
            amount_specified: -1_000_000_000_000_000,
            sqrt_price_limit_x96: get_sqrt_price_at_tick(887_000).unwrap(),
        };
        let out = m.swap_detailed(&ctx, &k, &down).unwrap();
        assert_eq!(out.ticks_crossed, 0);
        c.bench_function("ours/swap_within_one_tick", |b| {
            b.iter(|| {
                let p = if m.slot0(&k).unwrap().sqrt_price_x96 > start {
                    &down
                } else {
                    &up
                };
                black_box(m.swap(&ctx, &k, black_box(p)).unwrap())
            })
        });
    }

    // swaps crossing 10 / 100 initialized ticks: down to tick 30 - 60n, then back up to 30
    for n in [10, 100] {
        let mut m = fixture();
        let down = swap_to(true, 30 - TS * n);
        let up = swap_to(false, 30);
        let out = m.swap_detailed(&ctx, &k, &down).unwrap();
        assert_eq!(out.ticks_crossed, n as u32);
        let out = m.swap_detailed(&ctx, &k, &up).unwrap();
        assert_eq!(out.ticks_crossed, n as u32);
        assert_eq!(m.slot0(&k).unwrap().sqrt_price_x96, start);
        c.bench_function(&format!("ours/swap_crossing_{n}_ticks"), |b| {
            b.iter(|| {
                let at_start = m.slot0(&k).unwrap().sqrt_price_x96 == start;
                black_box(
                    m.swap(&ctx, &k, if at_start { &down } else { &up })
                        .unwrap(),
                )
            })
        });
    }

    // add / remove liquidity on a range whose ticks are not yet initialized
    {
        let mut m = fixture();
        let p = |l: i128| ModifyLiquidityParams {
            owner: Address::new([9; 20]),
            tick_lower: -7800,
            tick_upper: 7800,
            liquidity_delta: l,
            salt: [0; 32],
        };
        let (add, remove) = (p(1_000_000_000_000_000_000), p(-1_000_000_000_000_000_000));
        c.bench_function("ours/add_liquidity", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let t = Instant::now();
                    black_box(m.modify_liquidity(&ctx, &k, black_box(&add)).unwrap());
                    total += t.elapsed();
                    m.modify_liquidity(&ctx, &k, &remove).unwrap();
                }
                total
            })
        });
        c.bench_function("ours/remove_liquidity", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    m.modify_liquidity(&ctx, &k, &add).unwrap();
                    let t = Instant::now();
                    black_box(m.modify_liquidity(&ctx, &k, black_box(&remove)).unwrap());
                    total += t.elapsed();
                }
                total
            })
        });
    }
}

criterion_group! {
    name = pool;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = benches
}
criterion_main!(pool);
