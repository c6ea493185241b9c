//! Fixtures for the side-by-side benchmark `benches/spot_vs_v3sdk.rs`: the same pool built in
//! azex-spot and handed (as a tick list) to the `uniswap-v3-sdk` crate's swap simulation.
//!
//! Run: `cargo bench -p azex-spot-bench` (it builds the `uniswap-v3-sdk` crate and its
//! dependencies, which is why it is a crate of its own).

use alloy_primitives::{Address, U256};
use azex_spot::math::tick_math::get_sqrt_price_at_tick;
use azex_spot::{HookContext, ModifyLiquidityParams, NoHooks, PoolKey, PoolManager, SwapParams};

/// Tick spacing of the fixture (fee 3000 = the SDK's `FeeAmount::MEDIUM`, spacing 60).
pub const TICK_SPACING: i32 = 60;
/// LP fee of the fixture, pips.
pub const FEE: u32 = 3000;
/// The pool starts at this tick's price.
pub const START_TICK: i32 = 30;
/// Exact input of the swap that stays inside one tick.
pub const SMALL_SWAP: i128 = 1_000_000_000_000_000;

/// The fixture's pool key.
pub fn key() -> PoolKey {
    PoolKey {
        currency0: Address::new([1; 20]),
        currency1: Address::new([2; 20]),
        fee: FEE,
        tick_spacing: TICK_SPACING,
        hooks: Address::ZERO,
    }
}

/// The fixture's start price: tick 30's lower bound (the crossing swaps return exactly there).
pub fn start_price() -> U256 {
    get_sqrt_price_at_tick(START_TICK).expect("in range")
}

/// A price in the middle of tick 30's range, where the small swaps of the "within one tick"
/// scenario start (and stay).
pub fn mid_tick_price() -> U256 {
    let lo = get_sqrt_price_at_tick(START_TICK).expect("in range");
    let hi = get_sqrt_price_at_tick(START_TICK + 1).expect("in range");
    lo + (hi - lo) / U256::from(2u8)
}

/// [`fixture`] started at [`mid_tick_price`] (same positions).
pub fn fixture_mid_tick() -> PoolManager<NoHooks> {
    fixture_at(mid_tick_price())
}

/// A full-range position of 1e24 and 240 positions of 1e21 on `[k*60, (k+1)*60]`,
/// `k in -120..120`: an initialized tick every 60 ticks around the price (tick 30).
pub fn fixture() -> PoolManager<NoHooks> {
    fixture_at(start_price())
}

fn fixture_at(price: U256) -> PoolManager<NoHooks> {
    let mut m = PoolManager::new(NoHooks);
    let ctx = HookContext::default();
    let k = key();
    m.initialize(&ctx, &k, price).expect("fresh pool");
    let mut add = |lo: i32, hi: i32, l: i128| {
        let p = ModifyLiquidityParams {
            owner: Address::new([7; 20]),
            tick_lower: lo,
            tick_upper: hi,
            liquidity_delta: l,
            salt: [0; 32],
        };
        m.modify_liquidity(&ctx, &k, &p).expect("valid position");
    };
    add(-887_220, 887_220, 1_000_000_000_000_000_000_000_000);
    for i in -120..120 {
        add(
            i * TICK_SPACING,
            (i + 1) * TICK_SPACING,
            1_000_000_000_000_000_000_000,
        );
    }
    m
}

/// Exact input of `amount` (v4 sign: negative) in the given direction down/up to `tick_limit`'s
/// price.
pub fn swap_params(zero_for_one: bool, amount: i128, tick_limit: i32) -> SwapParams {
    SwapParams {
        zero_for_one,
        amount_specified: -amount,
        sqrt_price_limit_x96: get_sqrt_price_at_tick(tick_limit).expect("in range"),
    }
}
