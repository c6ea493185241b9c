//! The capped TWAP (`PoolOracle::capped_twap_tick`): equal to the Uniswap-style TWAP when no
//! interval between observations exceeds the cap, and a stalled interval weighs no more than the
//! cap (docs/risk.md §8).
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_lossless
)] // test data is built with plain casts

use azex_oracle::params::OracleParams;
use azex_oracle::pool::PoolOracle;
use azex_spot::hooks::PoolSnapshot;
use azex_spot::math::tick_math::get_sqrt_price_at_tick;
use proptest::prelude::*;

fn snap(tick: i32) -> PoolSnapshot {
    PoolSnapshot {
        sqrt_price_x96: get_sqrt_price_at_tick(tick).unwrap(),
        tick,
        liquidity: 1_000_000,
        protocol_fee: 0,
        lp_fee: 500,
    }
}

/// A pool oracle driven through `blocks` (gap seconds, pool tick after an action in that block).
fn drive(blocks: &[(u64, i32)]) -> (PoolOracle, u64) {
    let mut o = PoolOracle::new(
        OracleParams::default(),
        true,
        1,
        1_000,
        get_sqrt_price_at_tick(0).unwrap(),
        0,
    )
    .unwrap();
    let (mut h, mut t, mut tick) = (1u64, 1_000u64, 0i32);
    for &(gap, next) in blocks {
        h += 1;
        t += gap;
        o.record_action(h, t, &snap(tick), &snap(next)).unwrap();
        tick = next;
    }
    (o, t)
}

proptest! {
    #[test]
    fn equals_the_twap_when_no_interval_exceeds_the_cap(
        blocks in prop::collection::vec((1u64..=2, -400i32..400), 1..80),
        window in 1u32..120,
        tail in 0u64..=2,
    ) {
        let (o, t) = drive(&blocks);
        let now = t + tail;
        let oldest = o.oldest_observation_timestamp().unwrap();
        let capped = o.capped_twap_tick(window, 2, now).unwrap();
        if now - oldest >= u64::from(window) {
            prop_assert_eq!(capped, o.twap_tick(window, now).unwrap());
        } else {
            // A young pool: its history, then the initial tick (0) for the rest of the window.
            let h = (now - oldest) as u32;
            let c = o.observe(now, &[h, 0]).unwrap();
            let sum = i128::from(c[1].tick_cumulative - c[0].tick_cumulative);
            prop_assert_eq!(i128::from(capped), sum.div_euclid(i128::from(window)));
        }
    }
}

#[test]
fn a_stalled_interval_weighs_no_more_than_the_cap() {
    // 40 ordinary 2 s blocks at tick 0, then the pool pushed 50 ticks up and a 60 s stall.
    let mut blocks = vec![(2u64, 0i32); 40];
    blocks.push((2, 50));
    blocks.push((60, 50));
    let (o, now) = drive(&blocks);
    // Uncapped, the pushed tick fills the whole 60 s window.
    assert_eq!(o.twap_tick(60, now).unwrap(), 50);
    // Capped at 2 s, it is one interval of thirty.
    let capped = o.capped_twap_tick(60, 2, now).unwrap();
    assert_eq!(capped, (50 * 2) / 60);
}

#[test]
fn a_young_pool_moves_no_faster_than_a_mature_one() {
    // Listed at tick 0; two blocks later the pool is pushed 50 ticks.
    let (o, now) = drive(&[(2, 50), (2, 50)]);
    // The plain TWAP over the 4 s of history: 25; the capped one over a 60 s window: 50·2/60.
    assert_eq!(o.twap_tick(4, now).unwrap(), 25);
    assert_eq!(o.capped_twap_tick(60, 2, now).unwrap(), 1);
}
