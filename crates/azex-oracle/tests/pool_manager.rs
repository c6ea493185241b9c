//! Integration: a real `azex_spot::PoolManager<OracleHook>` with liquidity and swaps.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_lossless
)] // test data is built with plain casts

use alloy_primitives::{Address, U256};
use azex_math::mul_div;
use azex_oracle::*;
use azex_spot::math::tick_math::{
    get_sqrt_price_at_tick, max_usable_tick, min_usable_tick, MAX_SQRT_PRICE, MIN_SQRT_PRICE,
};
use azex_spot::{HookContext, ModifyLiquidityParams, PoolKey, PoolManager, SpotError, SwapParams};
use borsh::BorshDeserialize;
use proptest::prelude::*;

const AZUSD: Address = Address::repeat_byte(0x11);
const BASE: Address = Address::repeat_byte(0x22);
const LOW_BASE: Address = Address::repeat_byte(0x01);
const OTHER: Address = Address::repeat_byte(0x33);
const HOOK: Address = Address::repeat_byte(0xaa);
const LP: Address = Address::repeat_byte(0x77);
const TRADER: Address = Address::repeat_byte(0x88);

/// azUSD is token0.
fn key0() -> PoolKey {
    PoolKey {
        currency0: AZUSD,
        currency1: BASE,
        fee: 3000,
        tick_spacing: 60,
        hooks: HOOK,
    }
}

/// azUSD is token1.
fn key1() -> PoolKey {
    PoolKey {
        currency0: LOW_BASE,
        currency1: AZUSD,
        fee: 3000,
        tick_spacing: 60,
        hooks: HOOK,
    }
}

/// Block `b` at 12-second spacing.
fn ctx(b: u64, sender: Address) -> HookContext {
    HookContext {
        block_number: b,
        block_timestamp: 1_700_000_000 + 12 * b,
        sender,
    }
}

fn ts(b: u64) -> u64 {
    1_700_000_000 + 12 * b
}

fn sqrt(tick: i32) -> U256 {
    get_sqrt_price_at_tick(tick).unwrap()
}

fn manager() -> PoolManager<OracleHook> {
    PoolManager::new(OracleHook::new(AZUSD))
}

fn add(pm: &mut PoolManager<OracleHook>, b: u64, key: &PoolKey, lower: i32, upper: i32, l: i128) {
    pm.modify_liquidity(
        &ctx(b, LP),
        key,
        &ModifyLiquidityParams {
            owner: LP,
            tick_lower: lower,
            tick_upper: upper,
            liquidity_delta: l,
            salt: [0; 32],
        },
    )
    .unwrap();
}

/// Swaps as much as needed to bring the pool to `target_tick` (price limit at that tick).
fn swap_to(pm: &mut PoolManager<OracleHook>, b: u64, key: &PoolKey, target_tick: i32) {
    let cur = pm.pool_snapshot(key).unwrap().tick;
    if cur == target_tick {
        return;
    }
    let zero_for_one = target_tick < cur;
    let limit = sqrt(target_tick).clamp(
        MIN_SQRT_PRICE + U256::from(1u8),
        MAX_SQRT_PRICE - U256::from(1u8),
    );
    pm.swap(
        &ctx(b, TRADER),
        key,
        &SwapParams {
            zero_for_one,
            amount_specified: -(1i128 << 100),
            sqrt_price_limit_x96: limit,
        },
    )
    .unwrap();
}

fn full_range_pool(key: &PoolKey, tick: i32, l: i128) -> PoolManager<OracleHook> {
    let mut pm = manager();
    pm.initialize(&ctx(1, LP), key, sqrt(tick)).unwrap();
    add(&mut pm, 1, key, min_usable_tick(60), max_usable_tick(60), l);
    pm
}

#[test]
fn initialize_through_the_manager() {
    let pm = full_range_pool(&key0(), 0, 1_000_000_000_000);
    let o = pm.hook().pool(&key0()).unwrap();
    assert_eq!(o.truncated_tick().unwrap(), 0);
    assert_eq!(o.latest_observation().unwrap().block_timestamp, ts(1));
    // The liquidity added in the initialization block wrote nothing more.
    assert_eq!(o.observations().index(), 0);
    assert_eq!(o.pool_liquidity(), 1_000_000_000_000);
    assert!(o.quote_is_token0());
    assert!(!pm.hook().quote_is_token0(&key1()).unwrap());
}

#[test]
fn second_initialize_is_the_managers_error() {
    let mut pm = full_range_pool(&key0(), 0, 1_000);
    let r = pm.initialize(&ctx(2, LP), &key0(), sqrt(10));
    assert_eq!(r, Err(SpotError::PoolAlreadyInitialized));
    assert_eq!(pm.hook().failed_writes(), 0);
}

#[test]
fn poke_pool_keeps_an_idle_pool_converging() {
    let m = DEFAULT_MAX_ABS_TICK_MOVE;
    let mut pm = full_range_pool(&key0(), 0, 10i128.pow(18));
    swap_to(&mut pm, 2, &key0(), -1_000);
    for b in 3..=8u64 {
        assert!(OracleHook::poke_pool(&mut pm, &ctx(b, Address::ZERO), &key0()).unwrap());
        assert_eq!(
            pm.hook().truncated_tick(&key0()).unwrap(),
            -(b as i32 - 2) * m
        );
    }
    assert!(!OracleHook::poke_pool(&mut pm, &ctx(8, Address::ZERO), &key0()).unwrap());
}

#[test]
fn manager_rejects_a_pool_without_azusd() {
    let mut pm = manager();
    let k = PoolKey {
        currency0: BASE,
        currency1: OTHER,
        ..key0()
    };
    match pm.initialize(&ctx(1, LP), &k, sqrt(0)) {
        Err(SpotError::HookRejected(e)) => assert!(e.reason.contains("azUSD")),
        other => panic!("expected a hook rejection, got {other:?}"),
    }
    assert!(!pm.is_initialized(&k));
    assert!(pm.hook().pool(&k).is_err());
}

#[test]
fn one_observation_per_block_with_real_swaps() {
    let mut pm = full_range_pool(&key0(), 0, 10i128.pow(18));
    swap_to(&mut pm, 2, &key0(), 30);
    swap_to(&mut pm, 2, &key0(), -20);
    swap_to(&mut pm, 2, &key0(), 10);
    let o = pm.hook().pool(&key0()).unwrap();
    assert_eq!(o.observations().index(), 1, "one write in block 2");
    assert_eq!(
        o.truncated_tick().unwrap(),
        0,
        "the pre-action tick of the block's first swap"
    );
    assert_eq!(
        o.untruncated_pool_tick(),
        pm.pool_snapshot(&key0()).unwrap().tick
    );
    swap_to(&mut pm, 3, &key0(), 40);
    let o = pm.hook().pool(&key0()).unwrap();
    assert_eq!(o.observations().index(), 2);
    // The tick left by block 2's last swap (price at tick 10 exactly, so tick 10).
    assert_eq!(o.truncated_tick().unwrap(), 10);
    assert_eq!(o.latest_observation().unwrap().tick_cumulative, 12 * 10);
}

#[test]
fn huge_swap_is_truncated_and_twap_moves_less() {
    let m = DEFAULT_MAX_ABS_TICK_MOVE;
    let mut pm = full_range_pool(&key0(), 0, 10i128.pow(18));
    // Block 2: push the price up 6000 ticks (×1.82).
    swap_to(&mut pm, 2, &key0(), 6_000);
    assert_eq!(pm.pool_snapshot(&key0()).unwrap().tick, 6_000);
    let hook = pm.hook();
    assert_eq!(hook.truncated_tick(&key0()).unwrap(), 0);
    assert_eq!(hook.truncated_tick_at(&key0(), ts(2)).unwrap(), 0);
    assert_eq!(hook.untruncated_pool_tick(&key0()).unwrap(), 6_000);
    // Block 3 (the attacker holds the price): one step of the bound.
    swap_to(&mut pm, 3, &key0(), 6_000);
    // A no-op swap still counts as an action (a tiny swap up).
    pm.swap(
        &ctx(3, TRADER),
        &key0(),
        &SwapParams {
            zero_for_one: false,
            amount_specified: -1_000,
            sqrt_price_limit_x96: MAX_SQRT_PRICE - U256::from(1u8),
        },
    )
    .unwrap();
    let hook = pm.hook();
    let obs = hook.truncated_tick(&key0()).unwrap();
    assert_eq!(obs, m);
    let twap = hook.twap_tick(&key0(), 24, ts(3)).unwrap();
    assert!(twap >= 0 && twap < m, "twap {twap}");
    // Over k blocks: at most k * bound.
    for b in 4..=13u64 {
        pm.swap(
            &ctx(b, TRADER),
            &key0(),
            &SwapParams {
                zero_for_one: false,
                amount_specified: -1_000,
                sqrt_price_limit_x96: MAX_SQRT_PRICE - U256::from(1u8),
            },
        )
        .unwrap();
        let t = pm.hook().truncated_tick(&key0()).unwrap();
        assert_eq!(t, (b as i32 - 2) * m);
    }
    // Truncated price vs pool price: the TWAP-smoothed price lags the truncated one.
    let hook = pm.hook();
    let one = U256::from(10u64.pow(18));
    let p_trunc = hook.truncated_price_at(&key0(), ts(13), one).unwrap();
    let p_twap = hook.twap_price(&key0(), 120, ts(13), one).unwrap();
    // azUSD is token0: BASE price in azUSD = 1.0001^-tick, so a higher tick is a lower price.
    assert!(p_twap > p_trunc);
    assert_eq!(hook.failed_writes(), 0);
}

#[test]
fn rejected_swap_leaves_the_oracle_untouched() {
    let mut pm = full_range_pool(&key0(), 0, 10i128.pow(18));
    swap_to(&mut pm, 5, &key0(), 100);
    let before = pm.hook().clone();
    // Block number going backwards is rejected by the hook, through the manager.
    let r = pm.swap(
        &ctx(4, TRADER),
        &key0(),
        &SwapParams {
            zero_for_one: true,
            amount_specified: -1_000,
            sqrt_price_limit_x96: MIN_SQRT_PRICE + U256::from(1u8),
        },
    );
    assert!(matches!(r, Err(SpotError::HookRejected(_))), "{r:?}");
    assert_eq!(pm.hook(), &before);
    assert_eq!(pm.pool_snapshot(&key0()).unwrap().tick, 100);
}

/// Uniswap's `getAmount0Delta` / `getAmount1Delta` rounded down, written out.
fn amount0(l: u128, sa: U256, sb: U256) -> U256 {
    let n1 = U256::from(l) << 96;
    mul_div(n1, sb - sa, sb).unwrap() / sa
}
fn amount1(l: u128, sa: U256, sb: U256) -> U256 {
    mul_div(U256::from(l), sb - sa, U256::from(1u8) << 96).unwrap()
}

#[test]
fn spot_liquidity_of_a_full_range_position() {
    let l: u128 = 10u128.pow(18);
    let pm = full_range_pool(&key0(), 0, l as i128);
    let d = pm.hook().spot_liquidity(&pm, &key0()).unwrap();
    assert_eq!((d.tick_lower, d.tick_upper), (-198, 198));
    let s = sqrt(0);
    // Hand computation: token1 between the band's lower end and the price, token0 above it.
    let a1 = amount1(l, sqrt(-198), s);
    let a0 = amount0(l, s, sqrt(198));
    assert_eq!(d.quote_amount, a0, "azUSD is token0");
    assert_eq!(d.base_amount, a1);
    // Price 1: BASE is worth its amount in azUSD units.
    assert_eq!(d.base_value, a1);
    assert_eq!(d.value, a0 + a1);
    // Sanity in plain numbers: L·(1 − 1.0001^-99) ≈ 0.0098507·L on each side.
    let per_side_min = U256::from(l) * U256::from(98_500u32) / U256::from(10_000_000u32);
    let per_side_max = U256::from(l) * U256::from(98_515u32) / U256::from(10_000_000u32);
    for a in [a0, a1] {
        assert!(a > per_side_min && a < per_side_max, "{a}");
    }
    // The free function over the manager gives the same figure.
    assert_eq!(spot_liquidity(&pm, &key0(), 198, true).unwrap(), d);
}

#[test]
fn spot_liquidity_of_a_single_range_position_at_a_price() {
    // azUSD is token1 here; the pool sits at tick 6932 (≈ 2 azUSD units per BASE unit).
    let k = key1();
    let mut pm = manager();
    pm.initialize(&ctx(1, LP), &k, sqrt(6_932)).unwrap();
    let s = pm.pool_snapshot(&k).unwrap().sqrt_price_x96;
    // One position [6840, 7020], entirely inside the ±198 band around 6932.
    let l: u128 = 5 * 10u128.pow(17);
    add(&mut pm, 1, &k, 6_840, 7_020, l as i128);
    // And one far away, which must not count.
    add(&mut pm, 1, &k, 12_000, 12_600, l as i128);
    let d = pm.hook().spot_liquidity(&pm, &k).unwrap();
    assert_eq!((d.tick_lower, d.tick_upper), (6_932 - 198, 6_932 + 198));
    let a0 = amount0(l, s, sqrt(7_020)); // BASE (token0) above the price
    let a1 = amount1(l, sqrt(6_840), s); // azUSD (token1) below the price
    assert_eq!(d.base_amount, a0);
    assert_eq!(d.quote_amount, a1);
    // The position's whole deposit is in the band: the pool's balances minus the position far
    // away, which holds only token0 (it is above the price).
    let (b0, b1) = pm.pool_balances(&k).unwrap();
    assert!(b1 >= a1 && b1 - a1 <= U256::from(1u8));
    let far0 = amount0(l, sqrt(12_000), sqrt(12_600));
    assert!(b0 >= a0 + far0 && b0 - (a0 + far0) <= U256::from(2u8));
    // BASE valued at s²/2^192 azUSD per unit, rounded down (the two-step hand computation
    // below rounds down twice, so it may be up to 2 units lower).
    let q96 = U256::from(1u8) << 96;
    let base_value = mul_div(mul_div(a0, s, q96).unwrap(), s, q96).unwrap();
    assert!(d.base_value >= base_value && d.base_value - base_value <= U256::from(2u8));
    assert_eq!(
        d.base_value,
        mul_div(s * s, a0, U256::from(1u8) << 192).unwrap()
    );
    assert_eq!(d.value, d.quote_amount + d.base_value);
    // 1.0001^6932 ≈ 2.00004: BASE value ≈ 2 × amount.
    assert!(d.base_value > a0 * U256::from(1_999u16) / U256::from(1_000u16));
    assert!(d.base_value < a0 * U256::from(2_001u16) / U256::from(1_000u16));
}

#[test]
fn spot_liquidity_follows_the_band_parameter() {
    let mut pm = full_range_pool(&key0(), 0, 10i128.pow(18));
    let d198 = pm.hook().spot_liquidity(&pm, &key0()).unwrap();
    pm.hook_mut()
        .set_pool_params(
            &key0(),
            OracleParams {
                depth_band_ticks: 99,
                ..OracleParams::default()
            },
        )
        .unwrap();
    let d99 = pm.hook().spot_liquidity(&pm, &key0()).unwrap();
    assert_eq!((d99.tick_lower, d99.tick_upper), (-99, 99));
    assert!(d99.value < d198.value);
    // Twice the band over a constant-L range: (1 − 1.0001^-99) / (1 − 1.0001^-49.5) ≈ 1.995
    // times the depth.
    assert!(d99.value * U256::from(199u8) < d198.value * U256::from(100u8));
    assert!(d99.value * U256::from(201u8) > d198.value * U256::from(100u8));
}

#[test]
fn borsh_round_trip_after_activity() {
    let mut pm = full_range_pool(&key0(), 0, 10i128.pow(18));
    for b in 2..10u64 {
        swap_to(&mut pm, b, &key0(), (b as i32 % 3 - 1) * 500);
    }
    let bytes = borsh::to_vec(pm.hook()).unwrap();
    let back = OracleHook::try_from_slice(&bytes).unwrap();
    assert_eq!(&back, pm.hook());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// With real swaps: consecutive observations move at most the bound, and TWAPs stay
    /// between the smallest and largest observed (truncated) ticks.
    #[test]
    fn real_swaps_bounded_and_twap_in_range(
        targets in proptest::collection::vec((-3_000i32..3_000, 0usize..3), 1..40),
    ) {
        let m = DEFAULT_MAX_ABS_TICK_MOVE;
        let mut pm = full_range_pool(&key0(), 0, 10i128.pow(18));
        let mut ticks = vec![0i32];
        let mut b = 1u64;
        for (t, swaps_in_block) in targets {
            b += 1;
            for j in 0..=swaps_in_block {
                swap_to(&mut pm, b, &key0(), t + 7 * j as i32);
            }
            let latest = *pm.hook().pool(&key0()).unwrap().latest_observation().unwrap();
            if latest.block_timestamp == ts(b) {
                ticks.push(latest.tick);
            }
        }
        for w in ticks.windows(2) {
            prop_assert!((w[1] - w[0]).abs() <= m);
        }
        // The counterfactual tail (if the last block wrote nothing) is in force too.
        ticks.push(pm.hook().truncated_tick_at(&key0(), ts(b)).unwrap());
        let lo = *ticks.iter().min().unwrap();
        let hi = *ticks.iter().max().unwrap();
        let now = ts(b);
        let life = (now - ts(1)) as u32;
        for window in [1u32, 12, 30, 100, life].into_iter().filter(|&w| w <= life) {
            let twap = pm.hook().twap_tick(&key0(), window, now).unwrap();
            prop_assert!(lo <= twap && twap <= hi, "{} not in [{}, {}]", twap, lo, hi);
        }
        prop_assert_eq!(pm.hook().failed_writes(), 0);
    }
}
