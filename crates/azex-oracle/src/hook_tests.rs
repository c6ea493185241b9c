//! Hook-level tests: the hook driven through its callbacks exactly as the pool manager drives
//! it (validation, then `on_committed` with the pre- and post-action snapshots), with a
//! minimal stand-in for the pool. Integration tests with the real `PoolManager` are in
//! `tests/`.

use crate::*;
use alloy_primitives::{Address, U256};
use azex_spot::{
    BalanceDelta, CommittedAction, Hook, HookContext, ModifyLiquidityParams, PoolKey, PoolSnapshot,
    SwapParams,
};
use borsh::BorshDeserialize;
use proptest::prelude::*;

const AZUSD: Address = Address::repeat_byte(0x11);
const BASE: Address = Address::repeat_byte(0x22);
const OTHER: Address = Address::repeat_byte(0x33);
const HOOK: Address = Address::repeat_byte(0xaa);

fn key() -> PoolKey {
    PoolKey {
        currency0: AZUSD,
        currency1: BASE,
        fee: 3000,
        tick_spacing: 60,
        hooks: HOOK,
    }
}

fn ctx(block: u64, ts: u64) -> HookContext {
    HookContext {
        block_number: block,
        block_timestamp: ts,
        sender: Address::repeat_byte(0x55),
    }
}

/// A stand-in pool: it only tracks tick and liquidity and calls the hook like the manager.
struct FakePool {
    hook: OracleHook,
    key: PoolKey,
    tick: i32,
    liquidity: u128,
}

fn snap(tick: i32, liquidity: u128) -> PoolSnapshot {
    PoolSnapshot {
        sqrt_price_x96: sqrt_price_at_tick(tick).unwrap(),
        tick,
        liquidity,
        protocol_fee: 0,
        lp_fee: 3000,
    }
}

impl FakePool {
    fn new(hook: OracleHook, key: PoolKey, c: HookContext, tick: i32) -> Self {
        let s = sqrt_price_at_tick(tick).unwrap();
        hook.before_initialize(&c, &key, s).unwrap();
        let mut p = Self {
            hook,
            key,
            tick,
            liquidity: 0,
        };
        p.hook.on_committed(
            &c,
            &key,
            &CommittedAction::Initialize {
                sqrt_price_x96: s,
                tick,
            },
        );
        p
    }

    fn swap_to(&mut self, c: HookContext, tick: i32) -> Result<(), azex_spot::HookError> {
        let params = SwapParams {
            zero_for_one: tick < self.tick,
            amount_specified: -1,
            sqrt_price_limit_x96: U256::ZERO,
        };
        let before = snap(self.tick, self.liquidity);
        self.hook.before_swap(&c, &self.key, &before, &params)?;
        let after = snap(tick, self.liquidity);
        self.hook.on_committed(
            &c,
            &self.key,
            &CommittedAction::Swap {
                params,
                before,
                after,
                delta: BalanceDelta::default(),
            },
        );
        self.tick = tick;
        Ok(())
    }

    fn add_liquidity(
        &mut self,
        c: HookContext,
        liquidity: u128,
    ) -> Result<(), azex_spot::HookError> {
        let params = ModifyLiquidityParams {
            owner: Address::ZERO,
            tick_lower: -887_220,
            tick_upper: 887_220,
            liquidity_delta: liquidity as i128,
            salt: [0; 32],
        };
        let before = snap(self.tick, self.liquidity);
        self.hook
            .before_add_liquidity(&c, &self.key, &before, &params)?;
        let after = snap(self.tick, self.liquidity + liquidity);
        self.hook.on_committed(
            &c,
            &self.key,
            &CommittedAction::ModifyLiquidity {
                params,
                before,
                after,
                caller_delta: BalanceDelta::default(),
                fees_accrued: BalanceDelta::default(),
            },
        );
        self.liquidity += liquidity;
        Ok(())
    }

    fn oracle(&self) -> &PoolOracle {
        self.hook.pool(&self.key).unwrap()
    }
}

fn pool_at(tick: i32) -> FakePool {
    FakePool::new(OracleHook::new(AZUSD), key(), ctx(1, 1_000), tick)
}

#[test]
fn rejects_pools_without_azusd() {
    let hook = OracleHook::new(AZUSD);
    let k = PoolKey {
        currency0: BASE,
        currency1: OTHER,
        ..key()
    };
    let e = hook
        .before_initialize(&ctx(1, 1), &k, U256::from(1u8) << 96)
        .unwrap_err();
    assert_eq!(e.hook, HOOK);
    assert!(e.reason.contains("azUSD"), "{}", e.reason);
    // azUSD as currency1 is fine.
    let k1 = PoolKey {
        currency0: Address::repeat_byte(0x01),
        currency1: AZUSD,
        ..key()
    };
    hook.before_initialize(&ctx(1, 1), &k1, U256::from(1u8) << 96)
        .unwrap();
    assert!(!hook.quote_is_token0(&k1).unwrap());
    assert!(hook.quote_is_token0(&key()).unwrap());
}

#[test]
fn initialize_writes_first_observation() {
    let mut p = pool_at(-4_321);
    let o = p.oracle();
    assert_eq!(o.observations().cardinality(), 1);
    assert_eq!(
        o.observations().cardinality_next(),
        DEFAULT_CARDINALITY_NEXT
    );
    let latest = o.latest_observation().unwrap();
    assert_eq!(latest.block_timestamp, 1_000);
    assert_eq!(latest.tick, -4_321);
    assert_eq!(latest.tick_cumulative, 0);
    assert_eq!(o.truncated_tick().unwrap(), -4_321);
    assert_eq!(o.untruncated_pool_tick(), -4_321);
    assert_eq!(o.last_observation_block(), 1);
    assert!(o.quote_is_token0());
    // A second Initialize commit (which the manager never sends) changes nothing.
    let before = p.hook.clone();
    p.hook.on_committed(
        &ctx(2, 1_010),
        &key(),
        &CommittedAction::Initialize {
            sqrt_price_x96: U256::from(1u8) << 96,
            tick: 0,
        },
    );
    assert_eq!(p.oracle(), before.pool(&key()).unwrap());
    assert_eq!(p.hook.failed_writes(), 1);
}

#[test]
fn poke_writes_the_blocks_observation_from_the_current_state() {
    let mut p = pool_at(0);
    p.swap_to(ctx(2, 1_010), 5_000).unwrap(); // writes tick 0 at 1010
                                              // Idle blocks: poke at block begin.
    let s = snap(5_000, 0);
    assert!(p.hook.poke(&ctx(3, 1_020), &key(), &s).unwrap());
    assert!(!p.hook.poke(&ctx(3, 1_020), &key(), &s).unwrap());
    assert_eq!(
        p.oracle().truncated_tick().unwrap(),
        DEFAULT_MAX_ABS_TICK_MOVE
    );
    // A swap later in the poked block writes nothing more.
    p.swap_to(ctx(3, 1_020), 0).unwrap();
    assert_eq!(p.oracle().observations().index(), 2);
    assert_eq!(
        p.hook.poke(&ctx(2, 1_030), &key(), &s),
        Err(OracleError::BlockWentBackwards {
            block: 2,
            latest: 3
        })
    );
    let other = PoolKey { fee: 1, ..key() };
    assert_eq!(
        p.hook.poke(&ctx(4, 1_030), &other, &s),
        Err(OracleError::NotInitialized)
    );
    assert_eq!(p.hook.failed_writes(), 0);
}

#[test]
fn one_observation_per_block() {
    let mut p = pool_at(0);
    p.add_liquidity(ctx(1, 1_000), 1_000).unwrap(); // same block as initialize: no write
    assert_eq!(p.oracle().observations().index(), 0);

    p.swap_to(ctx(2, 1_012), 10).unwrap(); // writes tick 0 (pre-action) at 1012
    p.swap_to(ctx(2, 1_012), 40).unwrap(); // same block: no write
    p.add_liquidity(ctx(2, 1_012), 5).unwrap(); // same block: no write
    let o = p.oracle();
    assert_eq!(o.observations().index(), 1);
    assert_eq!(o.latest_observation().unwrap().block_timestamp, 1_012);
    assert_eq!(o.truncated_tick().unwrap(), 0);
    assert_eq!(o.untruncated_pool_tick(), 40);
    assert_eq!(o.pool_liquidity(), 1_005);

    p.swap_to(ctx(3, 1_024), -10).unwrap(); // writes 40 (within the bound)
    let o = p.oracle();
    assert_eq!(o.observations().index(), 2);
    assert_eq!(o.truncated_tick().unwrap(), 40);
    assert_eq!(o.latest_observation().unwrap().tick_cumulative, 40 * 12);
    assert_eq!(o.last_observation_block(), 3);
}

#[test]
fn new_block_with_same_timestamp_does_not_write() {
    let mut p = pool_at(0);
    p.swap_to(ctx(2, 1_000), 30).unwrap();
    assert_eq!(p.oracle().observations().index(), 0);
    p.swap_to(ctx(3, 1_001), 0).unwrap();
    assert_eq!(p.oracle().observations().index(), 1);
    assert_eq!(p.oracle().truncated_tick().unwrap(), 30);
}

#[test]
fn huge_swap_moves_oracle_at_most_bound_per_block() {
    let m = DEFAULT_MAX_ABS_TICK_MOVE;
    let mut p = pool_at(0);
    p.add_liquidity(ctx(1, 1_000), 1_000_000).unwrap();
    // Block 2: a huge swap, 0 -> 5000 ticks (+65%). The observation is the pre-swap tick.
    p.swap_to(ctx(2, 1_012), 5_000).unwrap();
    let o = p.oracle();
    assert_eq!(o.truncated_tick().unwrap(), 0);
    assert_eq!(o.truncated_tick_at(1_012).unwrap(), 0);
    assert_eq!(o.untruncated_pool_tick(), 5_000);
    let twap_before = o.twap_tick(12, 1_012).unwrap();
    assert_eq!(twap_before, 0);

    // Block 3: the observation may move by the bound only.
    p.swap_to(ctx(3, 1_024), 5_000).unwrap();
    let o = p.oracle();
    assert_eq!(o.truncated_tick().unwrap(), m);
    // The TWAP moved less than the truncated price.
    let twap_after = o.twap_tick(24, 1_024).unwrap();
    assert!(twap_after > 0 && twap_after < m, "{twap_after}");

    // Over k more blocks (actions or not) at most k * bound.
    for k in 1..=10i32 {
        let b = 3 + k as u64;
        let t = 1_024 + 12 * k as u64;
        // The as-of-now truncated tick follows an idle pool too.
        assert_eq!(p.oracle().truncated_tick_at(t).unwrap(), (k + 1) * m);
        p.swap_to(ctx(b, t), 5_000).unwrap();
        assert_eq!(p.oracle().truncated_tick().unwrap(), (k + 1) * m);
    }
    // Prices: the truncated price moved by 1.0001^(11*50) while the pool moved by 1.0001^5000.
    let o = p.oracle();
    let one_base = U256::from(10u64.pow(18));
    let now = 1_024 + 120;
    assert_eq!(
        o.truncated_price_at(now, one_base).unwrap(),
        base_to_quote_at_tick(11 * m, one_base, true).unwrap()
    );
    let twap = o.twap_tick(120, now).unwrap();
    assert!(twap < 11 * m && twap > m, "{twap}");
    assert_eq!(
        o.twap_price(120, now, one_base).unwrap(),
        base_to_quote_at_tick(twap, one_base, true).unwrap()
    );
    assert_eq!(
        o.truncated_sqrt_price_x96_at(now).unwrap(),
        sqrt_price_at_tick(11 * m).unwrap()
    );
}

#[test]
fn down_moves_are_truncated_too() {
    let mut p = pool_at(100);
    p.swap_to(ctx(2, 1_010), -50_000).unwrap();
    p.swap_to(ctx(3, 1_020), -50_000).unwrap();
    assert_eq!(
        p.oracle().truncated_tick().unwrap(),
        100 - DEFAULT_MAX_ABS_TICK_MOVE
    );
}

#[test]
fn twap_of_constant_price_equals_it() {
    for tick in [-200_000, -1_234, -1, 0, 1, 1_234, 200_000] {
        let mut p = pool_at(tick);
        for b in 2..40u64 {
            p.add_liquidity(ctx(b, 1_000 + 7 * b), 10).unwrap();
        }
        let now = 1_000 + 7 * 40 + 3;
        for w in [1u32, 5, 7, 60, 200, 283] {
            assert_eq!(
                p.oracle().twap_tick(w, now).unwrap(),
                tick,
                "tick {tick} window {w}"
            );
            assert_eq!(
                p.oracle().twap_sqrt_price_x96(w, now).unwrap(),
                sqrt_price_at_tick(tick).unwrap()
            );
        }
        // Harmonic-mean liquidity of a constant-liquidity window is that liquidity.
        let h = p.oracle().twap_harmonic_mean_liquidity(3, now).unwrap();
        assert!((379..=380).contains(&h), "{h}");
        // 283 s is the pool's whole life; 284 s is before it.
        assert_eq!(
            p.oracle().twap_tick(284, now),
            Err(OracleError::ObservationTooOld {
                target: 999,
                oldest: 1_000
            })
        );
        assert_eq!(p.oracle().twap_tick(0, now), Err(OracleError::ZeroWindow));
    }
}

#[test]
fn twap_hand_computed() {
    // Tick 0 over (1000, 1010], tick 30 over (1010, 1030], tick 60 after.
    let mut p = pool_at(0);
    p.swap_to(ctx(2, 1_010), 30).unwrap();
    p.swap_to(ctx(3, 1_030), 60).unwrap();
    let o = p.oracle();
    // Window (1000, 1040]: (0*10 + 30*20 + 60*10) / 40 = 30.
    assert_eq!(o.twap_tick(40, 1_040).unwrap(), 30);
    // Window (1005, 1035]: (0*5 + 30*20 + 60*5) / 30 = 30.
    assert_eq!(o.twap_tick(30, 1_035).unwrap(), 30);
    // Window (1025, 1032]: (30*5 + 60*2) / 7 = 270/7 = 38.57 -> 38.
    assert_eq!(o.twap_tick(7, 1_032).unwrap(), 38);
    let c = o.observe(1_040, &[40, 35, 20, 10, 0]).unwrap();
    let tc: Vec<i64> = c.iter().map(|c| c.tick_cumulative).collect();
    assert_eq!(tc, vec![0, 0, 300, 600, 1_200]);
}

#[test]
fn twap_of_negative_ticks_rounds_down() {
    // Tick -1 over (1000, 1003], tick -2 after: window 3 at 1004 = (-1*2 - 2) / 3 = -1.33 -> -2.
    let mut p = pool_at(-1);
    p.swap_to(ctx(2, 1_003), -2).unwrap();
    assert_eq!(p.oracle().twap_tick(3, 1_004).unwrap(), -2);
    assert_eq!(p.oracle().twap_tick(3, 1_003).unwrap(), -1);
}

#[test]
fn validation_rejects_time_or_block_going_backwards() {
    let mut p = pool_at(0);
    p.swap_to(ctx(5, 1_050), 10).unwrap();
    let e = p.swap_to(ctx(4, 1_060), 20).unwrap_err();
    assert!(e.reason.contains("block went backwards"), "{}", e.reason);
    let e = p.swap_to(ctx(6, 1_040), 20).unwrap_err();
    assert!(e.reason.contains("time went backwards"), "{}", e.reason);
    // Nothing was recorded by the rejected actions.
    assert_eq!(p.oracle().untruncated_pool_tick(), 10);
    assert_eq!(p.hook.failed_writes(), 0);
    // An unknown pool is rejected.
    let other = PoolKey { fee: 500, ..key() };
    let e = p
        .hook
        .before_swap(
            &ctx(7, 2_000),
            &other,
            &snap(0, 0),
            &SwapParams {
                zero_for_one: true,
                amount_specified: -1,
                sqrt_price_limit_x96: U256::ZERO,
            },
        )
        .unwrap_err();
    assert!(e.reason.contains("not initialized"), "{}", e.reason);
}

#[test]
fn commit_without_validation_counts_failures_and_still_tracks_the_pool() {
    // The manager skips validation when the hook itself is the sender (v4's noSelfCall); the
    // commit must stay infallible.
    let mut p = pool_at(0);
    p.swap_to(ctx(5, 1_050), 10).unwrap();
    let c = ctx(4, 1_040);
    p.hook.on_committed(
        &c,
        &key(),
        &CommittedAction::Swap {
            params: SwapParams {
                zero_for_one: false,
                amount_specified: -1,
                sqrt_price_limit_x96: U256::ZERO,
            },
            before: snap(10, 0),
            after: snap(20, 0),
            delta: BalanceDelta::default(),
        },
    );
    assert_eq!(p.hook.failed_writes(), 1);
    assert_eq!(p.oracle().untruncated_pool_tick(), 20);
    assert_eq!(p.oracle().observations().index(), 1);
}

#[test]
fn donate_writes_nothing() {
    let mut p = pool_at(0);
    p.hook.on_committed(
        &ctx(2, 1_010),
        &key(),
        &CommittedAction::Donate {
            amount0: U256::from(1u8),
            amount1: U256::from(1u8),
            before: snap(0, 0),
        },
    );
    assert_eq!(p.oracle().observations().index(), 0);
    assert_eq!(p.oracle().last_observation_block(), 1);
}

#[test]
fn per_pool_params() {
    let mut hook = OracleHook::new(AZUSD);
    let bad = OracleParams {
        max_abs_tick_move: 0,
        ..OracleParams::default()
    };
    assert_eq!(
        hook.set_pool_params(&key(), bad),
        Err(OracleError::InvalidMaxAbsTickMove { value: 0 })
    );
    let k_other = PoolKey {
        currency0: BASE,
        currency1: OTHER,
        ..key()
    };
    assert_eq!(
        hook.set_pool_params(&k_other, OracleParams::default()),
        Err(OracleError::NotAnAzusdPool)
    );
    let custom = OracleParams {
        max_abs_tick_move: 10,
        depth_band_ticks: 500,
        cardinality_next: 8,
    };
    hook.set_pool_params(&key(), custom).unwrap();
    assert_eq!(hook.params(&key()), custom);
    let mut p = FakePool::new(hook, key(), ctx(1, 1_000), 0);
    assert_eq!(p.oracle().params(), &custom);
    assert_eq!(p.oracle().observations().cardinality_next(), 8);
    p.swap_to(ctx(2, 1_010), 1_000).unwrap();
    p.swap_to(ctx(3, 1_020), 1_000).unwrap();
    assert_eq!(p.oracle().truncated_tick().unwrap(), 10);
    // Change the bound on a live pool: applies from the next observation.
    p.hook
        .set_pool_params(
            &key(),
            OracleParams {
                max_abs_tick_move: 100,
                ..custom
            },
        )
        .unwrap();
    p.swap_to(ctx(4, 1_030), 1_000).unwrap();
    assert_eq!(p.oracle().truncated_tick().unwrap(), 110);
    // Growing the buffer; shrinking is ignored; above 65535 is an error.
    assert_eq!(p.hook.increase_cardinality_next(&key(), 100).unwrap(), 100);
    assert_eq!(p.hook.increase_cardinality_next(&key(), 50).unwrap(), 100);
    assert_eq!(
        p.hook.increase_cardinality_next(&key(), 70_000),
        Err(OracleError::CardinalityTooLarge { requested: 70_000 })
    );
    assert_eq!(p.oracle().params().cardinality_next, 100);
}

#[test]
fn borsh_round_trip() {
    let mut p = pool_at(7);
    p.add_liquidity(ctx(2, 1_010), 123).unwrap();
    p.swap_to(ctx(3, 1_020), 900).unwrap();
    p.hook
        .set_pool_params(&PoolKey { fee: 500, ..key() }, OracleParams::default())
        .unwrap();
    let bytes = borsh::to_vec(&p.hook).unwrap();
    let back = OracleHook::try_from_slice(&bytes).unwrap();
    assert_eq!(back, p.hook);
    assert_eq!(borsh::to_vec(&back).unwrap(), bytes);
}

#[derive(Debug, Clone)]
enum Step {
    /// Advance to the next block, `dt` seconds later.
    NextBlock(u64),
    /// Swap to a tick in the current block.
    Swap(i32),
    /// Add liquidity in the current block.
    Add(u32),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (1u64..30).prop_map(Step::NextBlock),
        (-887_000i32..887_000).prop_map(Step::Swap),
        (-2_000i32..2_000).prop_map(Step::Swap),
        (1u32..1_000_000).prop_map(Step::Add),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Consecutive observations move at most the bound (so k blocks at most k * bound), and
    /// every TWAP lies between the smallest and largest truncated tick in force in its window.
    #[test]
    fn bounded_moves_and_twap_between_extremes(
        m in prop_oneof![Just(50i32), 1i32..=9116],
        start in -100_000i32..100_000,
        steps in proptest::collection::vec(step(), 1..120),
        windows in proptest::collection::vec(1u32..1_000, 1..8),
    ) {
        let mut hook = OracleHook::new(AZUSD);
        hook.set_pool_params(&key(), OracleParams { max_abs_tick_move: m, depth_band_ticks: 198, cardinality_next: 64 }).unwrap();
        let mut p = FakePool::new(hook, key(), ctx(1, 1_000), start);
        let (mut block, mut ts) = (1u64, 1_000u64);
        let mut history = vec![(1_000u64, 1u64, start)]; // (timestamp, block, truncated tick)
        for s in steps {
            match s {
                Step::NextBlock(dt) => { block += 1; ts += dt; }
                Step::Swap(t) => p.swap_to(ctx(block, ts), t).unwrap(),
                Step::Add(l) => p.add_liquidity(ctx(block, ts), u128::from(l)).unwrap(),
            }
            let latest = *p.oracle().latest_observation().unwrap();
            if latest.block_timestamp != history.last().unwrap().0 {
                history.push((latest.block_timestamp, block, latest.tick));
            }
        }
        for w in history.windows(2) {
            let (_, b0, t0) = w[0];
            let (_, b1, t1) = w[1];
            prop_assert!(b1 > b0);
            prop_assert!((i64::from(t1) - i64::from(t0)).abs() <= i64::from(m));
        }
        for (i, &(_, b0, t0)) in history.iter().enumerate() {
            for &(_, b1, t1) in &history[i + 1..] {
                prop_assert!((i64::from(t1) - i64::from(t0)).abs() <= i64::from(m) * (b1 - b0) as i64);
            }
        }
        let now = ts + 5;
        let cf = p.oracle().truncated_tick_at(now).unwrap();
        prop_assert!((i64::from(cf) - i64::from(history.last().unwrap().2)).abs() <= i64::from(m));
        let oldest = p.oracle().oldest_observation_timestamp().unwrap();
        for w in windows {
            let target = now.saturating_sub(u64::from(w));
            match p.oracle().twap_tick(w, now) {
                Ok(twap) => {
                    prop_assert!(target >= oldest);
                    // Ticks in force over (target, now]: observations after target, plus the
                    // counterfactual tail after the latest one.
                    let mut in_force: Vec<i32> = history.iter().filter(|h| h.0 > target).map(|h| h.2).collect();
                    in_force.push(cf);
                    let lo = *in_force.iter().min().unwrap();
                    let hi = *in_force.iter().max().unwrap();
                    prop_assert!(lo <= twap && twap <= hi, "twap {} not in [{}, {}]", twap, lo, hi);
                }
                Err(OracleError::ObservationTooOld { target: t, oldest: o }) => {
                    prop_assert_eq!(t, target);
                    prop_assert_eq!(o, oldest);
                    prop_assert!(target < oldest);
                }
                Err(e) => prop_assert!(false, "unexpected {:?}", e),
            }
        }
    }
}
