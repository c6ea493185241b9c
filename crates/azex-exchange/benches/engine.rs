//! Throughput of the exchange state machine: trades, auto-deleveraging, block overhead.
//!
//! Run: `CARGO_TARGET_DIR=/work/target-bench cargo bench -p azex-exchange --bench engine`
//! (results and the profile are in `docs/benchmarks.md`, section "Exchange engine").
//!
//! * `trade/open_close/...`: one `OpenPosition` and one `ClosePosition` through `State::apply`
//!   (overlay, mark-curve integral with fractional powers, fee split, capacity rule, commit),
//!   with 1 or 10 markets and 0 / 10k / 1M other positions open. Throughput is counted in trade
//!   operations (open = 1, close = 1), so criterion's `elem/s` is ops/s on one core.
//! * `trade/open_only/...`, `trade/close_only/...`: the same round trip, timing one half.
//! * `trade/close_reopen_random/...`: close a pseudo-random *old* background position (cold in
//!   cache, anywhere in the position map) and reopen the same size for the same user: 2 ops.
//! * `adl/deleverage/...`: one `Deleverage` transaction that really deleverages a winning side
//!   of 1k or 1M positions (profit-cap trigger). Before each timed call the few fields an ADL
//!   touches (markets, vault, funds, event counter) are restored, untimed, to the pre-ADL
//!   values; the setup checks that this gives back the exact pre-ADL state hash.
//! * `block/begin_end/...`: `end_block` + `begin_block` with 1 and 10 markets.
//!
//! Background worlds are built once per configuration, outside the timed loop, through
//! `testkit::World` and `Tx::OpenPosition`; the build time is printed to stderr.
//!
//! Environment: `AZEX_BENCH_MAX_POSITIONS=N` skips configurations with more than `N`
//! background positions (e.g. `10000` for a quick run). A criterion filter argument also skips
//! building worlds whose benchmarks it excludes. `AZEX_BENCH_CLOCK=cpu` times the batch
//! benchmarks (`open_close`, `close_reopen_random`, `begin_end`) with the thread's CPU clock
//! instead of the wall clock: on a shared, loaded machine this leaves out the time the thread
//! was not running (cache and hyper-thread interference remain). Per-operation timings
//! (`open_only`, `close_only`, `adl`) always use the wall clock.
//!
//! Profiling mode (no criterion): `AZEX_PROFILE="kind=trade,markets=1,positions=10000,iters=N"`
//! builds one world, runs `N` iterations in `profile_loop` (`kind` = `trade`, `churn`, `block`,
//! `adl`) and prints ns/iteration; made for `perf record` and
//! `valgrind --tool=callgrind --toggle-collect='*profile_*loop*'`.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_lossless
)] // test data is built with plain casts

use azex_exchange::event::Event;
use azex_exchange::state::{BlockCtx, State};
use azex_exchange::testkit::{addr, World, WorldSpec};
use azex_exchange::units::{QTY_ONE, USD_ONE, WAD};
use azex_exchange::Tx;
use criterion::{criterion_group, Criterion, Throughput};
use std::hint::black_box;
use std::time::{Duration, Instant};

const USERS: u64 = 100;

fn q(num: i128, den: i128) -> i128 {
    QTY_ONE as i128 * num / den
}

fn usd(x: u128) -> u128 {
    x * USD_ONE
}

// --- clocks --------------------------------------------------------------------------------

#[cfg(target_os = "linux")]
fn thread_cpu_time() -> Duration {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clk: i32, tp: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut t = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: plain libc call writing into a properly sized, aligned struct.
    let r = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(r, 0, "clock_gettime");
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

#[cfg(not(target_os = "linux"))]
fn thread_cpu_time() -> Duration {
    wall_time()
}

fn wall_time() -> Duration {
    static BASE: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    BASE.get_or_init(Instant::now).elapsed()
}

/// The clock for batch timings (see the module docs).
fn batch_clock() -> fn() -> Duration {
    match std::env::var("AZEX_BENCH_CLOCK").as_deref() {
        Ok("cpu") => thread_cpu_time,
        _ => wall_time,
    }
}

/// Time `iters` runs of `f` with the batch clock.
fn timed(iters: u64, mut f: impl FnMut()) -> Duration {
    let now = batch_clock();
    let t0 = now();
    for _ in 0..iters {
        f();
    }
    now() - t0
}

// --- selection -------------------------------------------------------------------------------

/// Criterion's positional filter arguments (flags and their values removed).
fn filters() -> Vec<String> {
    const WITH_VALUE: &[&str] = &[
        "--profile-time",
        "--save-baseline",
        "--baseline",
        "--baseline-lenient",
        "--load-baseline",
        "--sample-size",
        "--warm-up-time",
        "--measurement-time",
        "--nresamples",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--output-format",
        "--color",
        "--plotting-backend",
        "--format",
        "--logfile",
        "--skip",
    ];
    let mut out = vec![];
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if WITH_VALUE.contains(&a.as_str()) {
            args.next();
        } else if !a.starts_with('-') {
            out.push(a);
        }
    }
    out
}

/// Whether any benchmark id starting with `prefix` can pass the filter, and the size limit.
fn wanted(prefix: &str, positions: usize) -> bool {
    let max = std::env::var("AZEX_BENCH_MAX_POSITIONS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(usize::MAX);
    if positions > max {
        return false;
    }
    let f = filters();
    f.is_empty()
        || f.iter()
            .any(|f| prefix.contains(f.as_str()) || f.starts_with(prefix))
}

fn label(n: usize) -> String {
    match n {
        0 => "0".into(),
        n if n.is_multiple_of(1_000_000) => format!("{}M", n / 1_000_000),
        n if n.is_multiple_of(1_000) => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

// --- worlds ----------------------------------------------------------------------------------

/// `markets` deep markets ($20M seed each, as `tests/protection.rs::deep`), `lp` dollars of LP
/// capital, 100 users with plenty of azUSD.
fn world(markets: u64, lp: u128) -> World {
    World::new(&WorldSpec {
        users: USERS,
        usdc_each: usd(2_000_000_000),
        base_each: 10_000_000 * QTY_ONE,
        markets: (1..=markets)
            .map(|t| (t, 2_000 * WAD, usd(20_000_000)))
            .collect(),
        lp_capital: usd(lp),
        ..WorldSpec::default()
    })
    .expect("world")
}

/// A background position: who holds it and what it is (to close and reopen it).
#[derive(Clone, Copy)]
struct Bg {
    id: u64,
    user: u64,
    market: u32,
    qty: i128,
}

/// Background margin per position.
const BG_MARGIN: u128 = 5 * USD_ONE;

/// Open `n` background positions of 0.01 token (~$20) with $5 margin, spread round-robin over
/// the markets and users, long and short alternating in each market (net stays ≈ 0), a new
/// block every 10,000 opens. Returns the build time and the positions.
fn fill_balanced(w: &mut World, markets: u32, n: usize) -> (Duration, Vec<Bg>) {
    let t = Instant::now();
    let mut bg = Vec::with_capacity(n);
    for i in 0..n {
        let market = (i % markets as usize) as u32;
        let long = (i / markets as usize).is_multiple_of(2);
        let user = 2 + (i as u64 % (USERS - 1));
        let qty = if long { q(1, 100) } else { -q(1, 100) };
        let id = w
            .open(user, market, qty, BG_MARGIN)
            .expect("background open");
        bg.push(Bg {
            id,
            user,
            market,
            qty,
        });
        w.events.clear();
        if i % 10_000 == 9_999 {
            w.next_block().expect("block");
            w.events.clear();
        }
    }
    w.next_block().expect("block");
    w.events.clear();
    (t.elapsed(), bg)
}

/// Close a pseudo-randomly chosen background position (anywhere in the book, cold in cache) and
/// open the same size, side and market again for the same user (new id): the book keeps its
/// size and balance. Two trade operations.
fn churn_random(s: &mut State, b: BlockCtx, bg: &mut [Bg], rng: &mut u64) {
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    let k = (*rng % bg.len() as u64) as usize;
    let p = bg[k];
    s.apply(
        &Tx::ClosePosition {
            user: addr(p.user),
            position: p.id,
            price_bound: if p.qty > 0 { 0 } else { u128::MAX },
        },
        b,
    )
    .expect("close old");
    let id = s.next_position_id;
    s.apply(
        &Tx::OpenPosition {
            user: addr(p.user),
            market: p.market,
            qty: p.qty,
            margin: BG_MARGIN,
            price_bound: if p.qty > 0 { u128::MAX } else { 0 },
        },
        b,
    )
    .expect("reopen");
    bg[k].id = id;
}

// --- 1. trades -------------------------------------------------------------------------------

struct Trader {
    user: alloy_primitives::Address,
    qty: i128,
    margin: u128,
}

impl Trader {
    fn open(&self, s: &mut State, b: BlockCtx) -> u64 {
        let id = s.next_position_id;
        s.apply(
            &Tx::OpenPosition {
                user: self.user,
                market: 0,
                qty: self.qty,
                margin: self.margin,
                price_bound: u128::MAX,
            },
            b,
        )
        .expect("open");
        id
    }
    fn close(&self, s: &mut State, b: BlockCtx, id: u64) {
        s.apply(
            &Tx::ClosePosition {
                user: self.user,
                position: id,
                price_bound: 0,
            },
            b,
        )
        .expect("close");
    }
}

fn trades(c: &mut Criterion) {
    let trader = Trader {
        user: addr(2),
        qty: q(1, 10), // 0.1 token ≈ $200
        margin: usd(50),
    };
    for markets in [1u32, 10] {
        for n in [0usize, 10_000, 1_000_000] {
            let tag = format!("markets={markets}/positions={}", label(n));
            if !wanted(&format!("trade/open_close/{tag}"), n)
                && !wanted(&format!("trade/open_only/{tag}"), n)
                && !wanted(&format!("trade/close_only/{tag}"), n)
                && !wanted(&format!("trade/close_reopen_random/{tag}"), n)
            {
                continue;
            }
            let mut w = world(markets as u64, 50_000_000);
            let (took, mut bg) = fill_balanced(&mut w, markets, n);
            if n > 0 {
                eprintln!(
                    "[engine bench] built {tag}: {n} opens in {:.2?} ({:.0} ns/open incl. blocks)",
                    took,
                    took.as_nanos() as f64 / n as f64
                );
            }
            // Sanity: the round trip works and the predicted id is the real one.
            {
                let id = trader.open(&mut w.state, w.block);
                assert!(w.state.position(id).is_some());
                trader.close(&mut w.state, w.block, id);
                assert!(w.state.position(id).is_none());
                assert_eq!(w.state.positions.len(), n);
            }
            let mut g = c.benchmark_group("trade");
            g.sample_size(20)
                .warm_up_time(Duration::from_secs(1))
                .measurement_time(Duration::from_secs(3));
            let b = w.block;
            g.throughput(Throughput::Elements(2));
            g.bench_function(format!("open_close/{tag}"), |bch| {
                bch.iter_custom(|iters| {
                    timed(iters, || {
                        let id = trader.open(&mut w.state, b);
                        trader.close(&mut w.state, b, black_box(id));
                    })
                })
            });
            // Each half on its own (timer overhead ≈ 2 × 20 ns per iteration included).
            g.throughput(Throughput::Elements(1));
            for (half, name) in [(0, "open_only"), (1, "close_only")] {
                g.bench_function(format!("{name}/{tag}"), |bch| {
                    bch.iter_custom(|iters| {
                        let mut d = Duration::ZERO;
                        for _ in 0..iters {
                            let t0 = Instant::now();
                            let id = trader.open(&mut w.state, b);
                            let t1 = Instant::now();
                            trader.close(&mut w.state, b, black_box(id));
                            let t2 = Instant::now();
                            d += if half == 0 { t1 - t0 } else { t2 - t1 };
                        }
                        d
                    })
                });
            }
            // An old position anywhere in the book closed, the same one reopened (cold paths).
            if n > 0 {
                g.throughput(Throughput::Elements(2));
                let mut rng = 0x2545_F491_4F6C_DD1Du64;
                g.bench_function(format!("close_reopen_random/{tag}"), |bch| {
                    bch.iter_custom(|iters| {
                        timed(iters, || churn_random(&mut w.state, b, &mut bg, &mut rng))
                    })
                });
                assert_eq!(w.state.positions.len(), n);
            }
            g.finish();
            drop(w);
        }
    }
}

// --- 2. auto-deleveraging ----------------------------------------------------------------------

/// A market whose long side (`n` positions of 0.01 token) wins while the vault is small: after
/// the price rises the profit cap asks for ADL. Every 10 longs one short of 0.095 token keeps
/// the market near balance (L/S ≈ 1.05, `n / 10` shorts), so the vault capacity allows it; the
/// vault is $4 per long. Returns the world in the first block whose `Deleverage` transaction deleverages
/// (before that block's `end_block`, which would do it automatically).
fn adl_world(n: usize) -> (World, Duration) {
    assert!(n.is_multiple_of(1_000));
    let t = Instant::now();
    let mut w = world(1, 4 * n as u128);
    for i in 0..n {
        let user = 2 + (i as u64 % (USERS - 1));
        w.open(user, 0, q(1, 100), usd(5)).expect("long");
        w.events.clear();
        if i % 10 == 9 {
            w.open(user, 0, -q(95, 1_000), usd(50)).expect("short");
            w.events.clear();
        }
        if i % 10_000 == 9_999 {
            w.next_block().expect("block");
            w.events.clear();
        }
    }
    let built = t.elapsed();
    // Price up ~25 % in the pool; the truncated oracle and its TWAP follow block by block.
    w.move_price(99, 0, 2_500 * WAD, 0).expect("move");
    let probe = Tx::Deleverage {
        user: addr(9),
        market: 0,
    };
    for _ in 0..1_000 {
        w.next_block().expect("block");
        assert!(
            !w.events
                .iter()
                .any(|e| matches!(e, Event::Deleveraged { .. })),
            "end_block deleveraged before a Deleverage tx could"
        );
        w.events.clear();
        if w.state.simulate(&probe).is_ok() {
            return (w, built);
        }
    }
    panic!("no ADL trigger reached");
}

fn adl(c: &mut Criterion) {
    let mut g = c.benchmark_group("adl");
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for n in [1_000usize, 1_000_000] {
        let id = format!("deleverage/winning_side={}", label(n));
        if !wanted(&format!("adl/{id}"), n) {
            continue;
        }
        let (mut w, built) = adl_world(n);
        eprintln!(
            "[engine bench] built adl {}: {n} longs in {built:.2?}, pre-ADL at block {}",
            label(n),
            w.block.height
        );
        let tx = Tx::Deleverage {
            user: addr(9),
            market: 0,
        };
        let b = w.block;
        let pre_markets = w.state.markets.clone();
        let pre_vault = w.state.vault;
        let pre_funds = w.state.funds;
        let pre_seq = w.state.event_seq;
        let restore = |s: &mut State| {
            s.markets.clone_from(&pre_markets);
            s.vault = pre_vault;
            s.funds = pre_funds;
            s.event_seq = pre_seq;
        };
        // Check: it deleverages the whole side in one event, and the restore is exact.
        let t = Instant::now();
        let h0 = w.state.hash();
        let hash_took = t.elapsed();
        let ev = w.state.apply(&tx, b).expect("deleverage");
        let d = ev
            .iter()
            .find_map(|e| match e {
                Event::Deleveraged {
                    positions,
                    keep_wad,
                    long_side,
                    ..
                } => Some((*positions, *keep_wad, *long_side)),
                _ => None,
            })
            .expect("a Deleveraged event");
        assert_eq!(d.0, n as u64, "every position of the side in one event");
        assert!(d.1 < WAD && d.2);
        eprintln!(
            "[engine bench] adl {}: keep {:.4}, {} positions (state hash {hash_took:.2?})",
            label(n),
            d.1 as f64 / WAD as f64,
            d.0
        );
        restore(&mut w.state);
        assert_eq!(w.state.hash(), h0, "restore gives back the pre-ADL state");
        g.throughput(Throughput::Elements(1));
        g.bench_function(&id, |bch| {
            bch.iter_custom(|iters| {
                let mut d = Duration::ZERO;
                for _ in 0..iters {
                    restore(&mut w.state);
                    let t0 = Instant::now();
                    let ev = w.state.apply(black_box(&tx), b).expect("deleverage");
                    d += t0.elapsed();
                    black_box(ev);
                }
                d
            })
        });
        drop(w);
    }
    g.finish();
}

// --- 3. block overhead -------------------------------------------------------------------------

fn blocks(c: &mut Criterion) {
    let mut g = c.benchmark_group("block");
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for markets in [1u32, 10] {
        let id = format!("begin_end/markets={markets}");
        if !wanted(&format!("block/{id}"), 0) {
            continue;
        }
        let mut w = world(markets as u64, 50_000_000);
        // A little skewed open interest in every market, so funding and risk math do real work.
        for m in 0..markets {
            w.open(2, m, q(3, 1), usd(1_000)).expect("long");
            w.open(3, m, -q(2, 1), usd(1_000)).expect("short");
        }
        w.events.clear();
        let mut b = w.block;
        g.bench_function(&id, |bch| {
            bch.iter_custom(|iters| {
                timed(iters, || {
                    let e1 = w.state.end_block().expect("end");
                    b = BlockCtx {
                        height: b.height + 1,
                        timestamp: b.timestamp + 2,
                    };
                    let e2 = w.state.begin_block(black_box(b)).expect("begin");
                    black_box((e1, e2));
                })
            })
        });
    }
    g.finish();
}

// --- profiling mode --------------------------------------------------------------------------

/// The loop a profiler looks at (`--toggle-collect=*profile_loop*` with callgrind).
#[inline(never)]
fn profile_loop(w: &mut World, trader: &Trader, kind: &str, iters: u64) {
    let mut b = w.block;
    for _ in 0..iters {
        if kind == "block" {
            let e1 = w.state.end_block().expect("end");
            b = BlockCtx {
                height: b.height + 1,
                timestamp: b.timestamp + 2,
            };
            let e2 = w.state.begin_block(b).expect("begin");
            black_box((e1, e2));
        } else {
            let id = trader.open(&mut w.state, b);
            trader.close(&mut w.state, b, black_box(id));
        }
    }
}

/// `AZEX_PROFILE="kind=trade,markets=10,positions=10000,iters=20000"`: build the world, run the
/// loop, print the time per iteration, exit (no criterion). `kind=block` runs block overhead,
/// `kind=churn` the random close/reopen, `kind=adl` the deleverage (`positions` = winning side).
fn profile(spec: &str) {
    let mut kind = "trade".to_string();
    let (mut markets, mut positions, mut iters) = (1u32, 10_000usize, 20_000u64);
    for kv in spec.split(',').filter(|x| !x.is_empty()) {
        let (k, v) = kv.split_once('=').expect("key=value");
        match k.trim() {
            "kind" => kind = v.trim().to_string(),
            "markets" => markets = v.trim().parse().expect("markets"),
            "positions" => positions = v.trim().parse().expect("positions"),
            "iters" => iters = v.trim().parse().expect("iters"),
            other => panic!("unknown AZEX_PROFILE key {other}"),
        }
    }
    eprintln!(
        "[engine profile] sizes: Market {} B, MarketParams {} B, Position {} B, Event {} B, \
         VaultRisk {} B",
        std::mem::size_of::<azex_exchange::state::Market>(),
        std::mem::size_of::<azex_exchange::MarketParams>(),
        std::mem::size_of::<azex_exchange::state::Position>(),
        std::mem::size_of::<Event>(),
        std::mem::size_of::<azex_exchange::risk::VaultRisk>(),
    );
    if kind == "adl" {
        return profile_adl(positions, iters);
    }
    let mut w = world(markets as u64, 50_000_000);
    let (took, mut bg) = fill_balanced(&mut w, markets, positions);
    eprintln!("[engine profile] built {positions} positions in {took:.2?}");
    if kind == "churn" {
        let (b, mut rng) = (w.block, 0x2545_F491_4F6C_DD1Du64);
        let (t, c) = (wall_time(), thread_cpu_time());
        profile_churn_loop(&mut w.state, b, &mut bg, &mut rng, iters);
        let (t, c) = (wall_time() - t, thread_cpu_time() - c);
        eprintln!(
            "[engine profile] churn markets={markets} positions={positions}: {iters} iterations, \
             {:.0} ns/iter wall, {:.0} ns/iter cpu",
            t.as_nanos() as f64 / iters as f64,
            c.as_nanos() as f64 / iters as f64
        );
        return;
    }
    let trader = Trader {
        user: addr(2),
        qty: q(1, 10),
        margin: usd(50),
    };
    let (t, c) = (wall_time(), thread_cpu_time());
    profile_loop(&mut w, &trader, &kind, iters);
    let (t, c) = (wall_time() - t, thread_cpu_time() - c);
    eprintln!(
        "[engine profile] {kind} markets={markets} positions={positions}: {iters} iterations, \
         {:.0} ns/iter wall, {:.0} ns/iter cpu",
        t.as_nanos() as f64 / iters as f64,
        c.as_nanos() as f64 / iters as f64
    );
}

/// The random close/reopen loop for a profiler.
#[inline(never)]
fn profile_churn_loop(s: &mut State, b: BlockCtx, bg: &mut [Bg], rng: &mut u64, iters: u64) {
    for _ in 0..iters {
        churn_random(s, b, bg, rng);
    }
}

/// The ADL loop for a profiler: restore the pre-ADL market, apply `Deleverage`.
#[inline(never)]
fn profile_adl_loop(s: &mut State, pre: &[azex_exchange::state::Market], b: BlockCtx, iters: u64) {
    let tx = Tx::Deleverage {
        user: addr(9),
        market: 0,
    };
    for _ in 0..iters {
        s.markets.clone_from_slice(pre);
        black_box(s.apply(&tx, b).expect("deleverage"));
    }
}

fn profile_adl(positions: usize, iters: u64) {
    let (mut w, took) = adl_world(positions);
    eprintln!("[engine profile] built adl world with {positions} longs in {took:.2?}");
    let pre = w.state.markets.clone();
    let (vault, funds, seq) = (w.state.vault, w.state.funds, w.state.event_seq);
    let (t, c) = (wall_time(), thread_cpu_time());
    profile_adl_loop(&mut w.state, &pre, w.block, iters);
    let (t, c) = (wall_time() - t, thread_cpu_time() - c);
    assert!(w.state.vault == vault && w.state.funds == funds && w.state.event_seq > seq);
    eprintln!(
        "[engine profile] adl positions={positions}: {iters} iterations, {:.0} ns/iter wall, \
         {:.0} ns/iter cpu",
        t.as_nanos() as f64 / iters as f64,
        c.as_nanos() as f64 / iters as f64
    );
}

criterion_group!(benches, trades, adl, blocks);

fn main() {
    if let Ok(spec) = std::env::var("AZEX_PROFILE") {
        profile(&spec);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
