//! Adversarial price paths and the self-liquidation attack.
//!
//! No negative equity: with the default parameters (oracle truncation 50 ticks ≈ 0.5 % per block,
//! maintenance margin ≥ 2.5 %, close fee 0.06 %), a position liquidated in the block in which it
//! becomes liquidatable cannot end below zero. The property drives the worst price path the oracle
//! allows — the pool is pushed far away every block so the truncated price moves the full bound
//! every block, in runs of either direction — against positions opened at the maximum leverage,
//! with one keeper liquidating every block, and finds zero deficits.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_lossless
)] // test data is built with plain casts

use azex_exchange::testkit::{addr, World, WorldSpec};
use azex_exchange::units::{QTY_ONE, USD_ONE, WAD};
use azex_exchange::{Event, Tx};
use proptest::prelude::*;

fn one() -> i128 {
    QTY_ONE as i128
}

fn deep(lp: u128) -> World {
    World::new(&WorldSpec {
        users: 5,
        markets: vec![(1, 2_000 * WAD, 20_000_000 * USD_ONE)],
        lp_capital: lp * USD_ONE,
        ..WorldSpec::default()
    })
    .unwrap()
}

fn deficit_total(ev: &[Event]) -> u128 {
    ev.iter()
        .map(|e| {
            if let Event::DeficitCovered { amount, .. } = e {
                *amount
            } else {
                0
            }
        })
        .sum()
}

/// Push the pool 5 % away from the current risk price (far beyond the truncation bound), one block.
fn shove(w: &mut World, up: bool) {
    let p = w.state.markets[0].prices.risk;
    let target = if up { p / 100 * 105 } else { p / 100 * 95 };
    w.move_price(4, 0, target, 1).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn worst_oracle_paths_leave_no_deficit(
        runs in prop::collection::vec((any::<bool>(), 1usize..25), 2..6),
        leverages in prop::collection::vec(5u64..=20, 6..12),
    ) {
        let mut w = deep(20_000_000);
        // Positions at up to the maximum leverage (initial margin 5 %), both sides.
        let mut opened = 0;
        for (i, lev) in leverages.iter().enumerate() {
            let qty = (1 + (i as i128 % 5)) * one();
            let notional = qty as u128 / QTY_ONE * 2_000 * USD_ONE;
            let margin = notional / *lev as u128 + notional / 500; // + fees and impact
            let q = if i % 2 == 0 { qty } else { -qty };
            if w.open(2 + (i as u64 % 2), 0, q, margin).is_ok() { opened += 1; }
        }
        prop_assert!(opened > 0);
        for (up, n) in runs {
            for _ in 0..n {
                shove(&mut w, up);
                w.keeper_pass(9, 0).unwrap();
            }
        }
        // Let the keeper finish whatever is still under water.
        for _ in 0..5 { w.next_block().unwrap(); w.keeper_pass(9, 0).unwrap(); }
        let liquidations = w.events.iter().filter(|e| matches!(e, Event::PositionLiquidated { .. })).count();
        prop_assert_eq!(deficit_total(&w.events), 0, "deficits after {} liquidations", liquidations);
    }
}

/// The truncation bound really is what the property exercises: one shove moves the truncated
/// price by the full bound (50 ticks ≈ 0.5 %), not less and not more.
#[test]
fn a_shove_moves_the_truncated_price_by_the_bound() {
    let mut w = deep(20_000_000);
    let before = w.state.markets[0].prices.spot;
    shove(&mut w, false);
    let after = w.state.markets[0].prices.spot;
    let moved = (before - after) as f64 / before as f64;
    assert!((0.0045..0.0052).contains(&moved), "moved {moved}");
}

/// The self-liquidation attack: one actor opens an equal long and short (no net requirement), then
/// a price move liquidates one leg, leaving the vault with the other leg's exposure. Returns
/// (attacker PnL, vault NAV change, whether ADL fired).
fn self_liquidation_attack(vault_usd: u128, withdraw_pct: u128) -> (i128, i128, bool) {
    let mut w = deep(vault_usd);
    let attacker = 5;
    let usd0 = w.state.wallet(addr(attacker), azex_exchange::AZUSD) as i128;
    let nav_pre = azex_exchange::scenario::summarize(&w.state, 0)
        .unwrap()
        .vault_nav;
    // $80k each side at ~19x (the smallest margin tier: 5 % initial, 2.5 % maintenance).
    let long = w.open(attacker, 0, 40 * one(), 4_300 * USD_ONE).unwrap();
    let short = w.open(attacker, 0, -40 * one(), 4_300 * USD_ONE).unwrap();
    if withdraw_pct > 0 {
        // The balanced pair needs little, so LPs may take capital out: exactly what net-exposure
        // accounting allows, and what the attack then tests.
        w.block_time = 3_600;
        w.next_block().unwrap();
        w.block_time = 2;
        let shares = w.state.lps[&addr(1)].shares * withdraw_pct / 100;
        w.tx(Tx::LpWithdraw {
            user: addr(1),
            shares,
        })
        .unwrap();
    }
    let s0 = azex_exchange::scenario::summarize(&w.state, 0).unwrap();
    assert!(
        s0.total_required <= 6_000 * USD_ONE,
        "a balanced pair needs only the stress term: {}",
        s0.total_required
    );
    // The price rises until the short leg is liquidated.
    let mut blocks = 0;
    while w.state.position(short).is_some() && blocks < 60 {
        shove(&mut w, true);
        w.keeper_pass(9, 0).unwrap();
        blocks += 1;
    }
    assert!(w.state.position(short).is_none(), "the short leg died");
    assert_eq!(
        deficit_total(&w.events),
        0,
        "no deficit: the dead leg paid its own loss"
    );
    // The block ends (ADL runs at every block end, with or without keepers).
    w.next_block().unwrap();
    let adl = w
        .events
        .iter()
        .any(|e| matches!(e, Event::Deleveraged { .. }));
    // Whatever survives is backed: the requirement fits, or ADL cut the surviving leg.
    let s1 = azex_exchange::scenario::summarize(&w.state, 0).unwrap();
    // ADL restores the capacity rule at every block end; within a block prices can move one
    // oracle bound (≈ 0.5 %), hence the 1 % tolerance.
    let usable = (s1.vault_nav.max(0) as u128) / 10 * 9;
    assert!(
        s1.total_required <= usable + usable / 100,
        "requirement {} vs usable {usable}",
        s1.total_required
    );
    if w.state.position(long).is_some() {
        w.close(attacker, long).unwrap();
    }
    let usd1 = w.state.wallet(addr(attacker), azex_exchange::AZUSD) as i128;
    let s2 = azex_exchange::scenario::summarize(&w.state, 0).unwrap();
    // LP flows are not the attack's doing: add the withdrawal back.
    let withdrawn: i128 = w
        .events
        .iter()
        .map(|e| {
            if let Event::LpWithdrawn { amount, .. } = e {
                *amount as i128
            } else {
                0
            }
        })
        .sum();
    let _ = s0;
    (usd1 - usd0, s2.vault_nav - nav_pre + withdrawn, adl)
}

/// With a large vault the surviving leg is simply backed (classic backing); with a small one ADL
/// cuts it in the same block. Either way the attacker loses (fees, penalty, the dead leg) and the
/// vault's loss is bounded by the surviving leg's exposure over the blocks until it ends.
#[test]
fn self_liquidation_attack_is_unprofitable_and_bounded() {
    for (vault, withdraw) in [(2_000_000u128, 0u128), (100_000, 40)] {
        let (attacker_pnl, vault_change, adl) = self_liquidation_attack(vault, withdraw);
        assert!(
            attacker_pnl < 0,
            "vault ${vault}: the attack must lose money, made {attacker_pnl}"
        );
        // The vault's loss is bounded by the surviving leg's notional times the price move between
        // the dead leg's liquidation and the end of the exposure (here: the close one block later,
        // at most two oracle bounds ≈ 1 %): $80k × 1 % = $800.
        assert!(
            vault_change >= -800 * USD_ONE as i128,
            "vault ${vault}: NAV changed by {vault_change}"
        );
        if withdraw > 0 {
            assert!(
                adl,
                "a $60k vault cannot back a lone $80k leg: ADL must fire in the same block"
            );
        }
    }
    let _ = Tx::Deleverage {
        user: addr(9),
        market: 0,
    };
}

/// The property above really liquidates: at the maximum leverage, ten blocks of the maximum
/// oracle move down liquidate every long, and still nobody ends below zero.
#[test]
fn maximum_leverage_longs_are_all_liquidated_without_deficit() {
    let mut w = deep(20_000_000);
    let mut ids = vec![];
    for i in 0..10u64 {
        let qty = (1 + i as i128 % 3) * one();
        let notional = qty as u128 / QTY_ONE * 2_000 * USD_ONE;
        ids.push(
            w.open(2 + i % 2, 0, qty, notional / 20 + notional / 500)
                .unwrap(),
        );
    }
    w.open(3, 0, -15 * one(), 100_000 * USD_ONE).unwrap(); // the other side, well margined
    for _ in 0..10 {
        shove(&mut w, false);
        w.keeper_pass(9, 0).unwrap();
    }
    let liquidated = w
        .events
        .iter()
        .filter(|e| matches!(e, Event::PositionLiquidated { .. }))
        .count();
    assert_eq!(
        liquidated,
        ids.len(),
        "every max-leverage long is liquidated"
    );
    assert!(ids.iter().all(|id| w.state.position(*id).is_none()));
    assert_eq!(deficit_total(&w.events), 0);
}
