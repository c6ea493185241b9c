//! The same swaps through azex-spot and through the `uniswap-v3-sdk` crate (an independent Rust
//! implementation of the v3 swap loop), in one run, so the ratio is measured side by side.
//!
//! * `ours/manager_swap`: `PoolManager::swap`, the full action (checks, compute, commit, balances).
//! * `ours/compute_swap`: `Pool::compute_swap`, the read-only swap loop: like for like with
//! * `peer/v3_swap`: `uniswap_v3_sdk::utils::v3_swap` on a `TickListDataProvider` (read-only).
//! * `peer/get_output_amount`: the SDK's `Pool::get_output_amount` (its public quoting API).
//!
//! Every scenario first checks that both implementations give identical amounts and prices.
//!
//! Run: `CARGO_TARGET_DIR=/work/target-spot cargo bench -p azex-spot-bench`

use alloy_primitives::aliases::{U160, U24};
use alloy_primitives::{I256, U256};
use azex_spot::{HookContext, NoHooks, PoolManager, SwapParams};
use azex_spot_bench::{
    fixture, fixture_mid_tick, key, mid_tick_price, start_price, swap_params, FEE, SMALL_SWAP,
    START_TICK, TICK_SPACING,
};
use criterion::{criterion_group, criterion_main, Criterion};
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use uniswap_v3_sdk::prelude::sdk_core::prelude::{CurrencyAmount, ToBig, Token};
use uniswap_v3_sdk::prelude::*;

/// Polls a future that never waits (the SDK's tick-list provider is synchronous underneath).
fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    match f.as_mut().poll(&mut cx) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("the tick-list provider never waits"),
    }
}

struct Peer {
    ticks: TickListDataProvider,
    sqrt_price: U160,
    tick: i32,
    liquidity: u128,
}

fn peer_of(m: &PoolManager<NoHooks>) -> Peer {
    let pool = m.pool(&key()).unwrap();
    let ticks: Vec<Tick> = pool
        .ticks()
        .map(|(t, info)| Tick::new(t, info.liquidity_gross, info.liquidity_net))
        .collect();
    Peer {
        ticks: TickListDataProvider::new(ticks, TICK_SPACING),
        sqrt_price: U160::from(pool.slot0().sqrt_price_x96),
        tick: pool.slot0().tick,
        liquidity: pool.liquidity(),
    }
}

impl Peer {
    fn swap(&self, p: &SwapParams) -> SwapState {
        block_on(v3_swap(
            U24::from(FEE),
            self.sqrt_price,
            self.tick,
            self.liquidity,
            TICK_SPACING,
            &self.ticks,
            p.zero_for_one,
            // the SDK's sign: positive = exact input
            I256::try_from(-p.amount_specified).unwrap(),
            Some(U160::from(p.sqrt_price_limit_x96)),
        ))
        .unwrap()
    }
}

fn same_result(m: &PoolManager<NoHooks>, peer: &Peer, p: &SwapParams) -> u32 {
    let mut scratch = Vec::new();
    let ours = m
        .pool(&key())
        .unwrap()
        .compute_swap(p, None, &mut scratch)
        .unwrap();
    let theirs = peer.swap(p);
    // SDK: amount_calculated is the output, negative; remaining in its own sign
    let (used_in, out) = if p.zero_for_one {
        (-ours.delta.amount0, ours.delta.amount1)
    } else {
        (-ours.delta.amount1, ours.delta.amount0)
    };
    let specified = -p.amount_specified;
    assert_eq!(
        I256::try_from(specified - used_in).unwrap(),
        theirs.amount_specified_remaining
    );
    assert_eq!(I256::try_from(-out).unwrap(), theirs.amount_calculated);
    assert_eq!(U256::from(theirs.sqrt_price_x96), ours.sqrt_price_x96);
    assert_eq!(theirs.liquidity, ours.liquidity);
    ours.ticks_crossed
}

fn benches(c: &mut Criterion) {
    let ctx = HookContext::default();
    let k = key();
    let mut g = c.benchmark_group("spot_vs_v3sdk");

    // scenario: (name, swap down, swap back up); ours alternates down/up so that its state is
    // periodic, the read-only ones repeat the swap down from the start state
    let scenarios = [
        ("swap_within_one_tick", SMALL_SWAP, -887_000, 0u32),
        (
            "swap_crossing_10_ticks",
            1i128 << 100,
            START_TICK - 10 * TICK_SPACING,
            10,
        ),
        (
            "swap_crossing_100_ticks",
            1i128 << 100,
            START_TICK - 100 * TICK_SPACING,
            100,
        ),
    ];
    for (name, amount, limit_tick, crossed) in scenarios {
        let within = crossed == 0;
        let fresh_fixture = || {
            if within {
                fixture_mid_tick()
            } else {
                fixture()
            }
        };
        let start = if within {
            mid_tick_price()
        } else {
            start_price()
        };
        let mut m = fresh_fixture();
        let peer = peer_of(&m);
        let down = swap_params(true, amount, limit_tick);
        assert_eq!(same_result(&m, &peer, &down), crossed);
        let up = if crossed == 0 {
            swap_params(false, amount, 887_000)
        } else {
            swap_params(false, amount, START_TICK)
        };

        g.bench_function(format!("{name}/ours/manager_swap"), |b| {
            b.iter(|| {
                let price = m.slot0(&k).unwrap().sqrt_price_x96;
                // inside one tick: oscillate around the start; crossing: down from the start,
                // back up to it
                let go_down = if crossed == 0 {
                    price > start
                } else {
                    price == start
                };
                let p = if go_down { &down } else { &up };
                black_box(m.swap(&ctx, &k, black_box(p)).unwrap())
            })
        });
        let fresh = fresh_fixture();
        let pool = fresh.pool(&k).unwrap();
        let mut scratch = Vec::with_capacity(128);
        g.bench_function(format!("{name}/ours/compute_swap"), |b| {
            b.iter(|| {
                black_box(
                    pool.compute_swap(black_box(&down), None, &mut scratch)
                        .unwrap(),
                )
            })
        });
        g.bench_function(format!("{name}/peer/v3_swap"), |b| {
            b.iter(|| black_box(peer.swap(black_box(&down))))
        });
        // the SDK's public quoting API, for reference
        let t0 = Token::new(1, k.currency0, 18, None, None, 0, 0);
        let t1 = Token::new(1, k.currency1, 18, None, None, 0, 0);
        let sdk_pool = Pool::new_with_tick_data_provider(
            t0.clone(),
            t1,
            FeeAmount::MEDIUM,
            peer.sqrt_price,
            peer.liquidity,
            peer.ticks.clone(),
        )
        .unwrap();
        let input =
            CurrencyAmount::from_raw_amount(t0, I256::try_from(amount).unwrap().to_big_int())
                .unwrap();
        let limit = Some(U160::from(down.sqrt_price_limit_x96));
        g.bench_function(format!("{name}/peer/get_output_amount"), |b| {
            b.iter(|| {
                black_box(block_on(sdk_pool.get_output_amount(black_box(&input), limit)).unwrap())
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = compare;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = benches
}
criterion_main!(compare);
