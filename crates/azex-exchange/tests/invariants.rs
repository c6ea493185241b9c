//! The invariant check can fail: a state corrupted in each figure it checks is reported, with
//! the figure named. (Every other test only ever sees it pass.)
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_lossless
)] // test data is built with plain casts

mod common;

use alloy_primitives::{I256, U256};
use azex_exchange::invariants::check;
use azex_exchange::state::State;
use azex_exchange::testkit::{addr, WorldSpec};
use azex_exchange::units::{QTY_ONE, USD_ONE, WAD};
use common::Checked;

fn one() -> i128 {
    QTY_ONE as i128
}

/// The drawdown cap tripped by a one-sided market 0: its long side closed entirely (an ended
/// ADL epoch whose positions are still open), and market 1's dominant long side cut to balance
/// (a partial ADL: accumulators and entry sums non-zero).
fn busy_state() -> State {
    let mut w = Checked::new(&WorldSpec {
        markets: vec![
            (1, 2_000 * WAD, 20_000_000 * USD_ONE),
            (2, 2_000 * WAD, 20_000_000 * USD_ONE),
        ],
        lp_capital: 1_000_000 * USD_ONE,
        ..WorldSpec::default()
    })
    .unwrap();
    for u in [2, 3] {
        for _ in 0..3 {
            w.open(u, 0, 40 * one(), 30_000 * USD_ONE).unwrap();
        }
    }
    w.open(2, 1, 50 * one(), 20_000 * USD_ONE).unwrap();
    w.open(3, 1, -10 * one(), 20_000 * USD_ONE).unwrap();
    w.move_price(4, 0, 3_000 * WAD, 150).unwrap();
    let s = w.0.state;
    assert!(s.vault.drawdown_mode);
    assert_eq!(
        s.markets[0].long.epoch, 1,
        "market 0's long side closed entirely"
    );
    assert!(s.markets[0].long.ended[0].positions > 0);
    let l1 = s.markets[1].long;
    assert!(
        l1.scale < azex_exchange::book::RAY && l1.scale > 0,
        "market 1 cut partly"
    );
    check(&s).unwrap();
    s
}

/// Corrupt a copy of `s` with `f`; the check must fail and name `what`.
fn refuses(s: &State, what: &str, f: impl FnOnce(&mut State)) {
    let mut bad = s.clone();
    f(&mut bad);
    match check(&bad) {
        Ok(()) => panic!("corrupting {what} went unnoticed"),
        Err(e) => assert!(e.contains(what), "corrupting {what}: reported {e}"),
    }
}

#[test]
fn every_checked_figure_can_fail_the_check() {
    let s = busy_state();
    let one_unit = I256::ONE;
    // The ADL sums the check used to compute and never compare (issue 9).
    refuses(&s, "aggregates differ", |x| {
        x.markets[1].long.adl_qa_sum += one_unit
    });
    refuses(&s, "aggregates differ", |x| {
        x.markets[1].long.adl_cb_sum -= one_unit
    });
    // Funding debt, also summed per side and never compared before.
    refuses(&s, "aggregates differ", |x| {
        x.markets[1].short.funding_debt += 1
    });
    // Ended epochs: the claims numerator and the slot counts.
    refuses(&s, "aggregates differ", |x| {
        x.markets[0].long.ended_claims += one_unit
    });
    refuses(&s, "aggregates differ", |x| {
        x.markets[0].long.ended[0].positions += 1
    });
    // Sizes, costs, margins of the current epoch.
    refuses(&s, "aggregates differ", |x| x.markets[1].short.qty += 1);
    refuses(&s, "aggregates differ", |x| x.markets[1].short.margin -= 1);
    // A position moved to the other epoch by its side's first id.
    refuses(&s, "aggregates differ", |x| {
        x.markets[0].long.epoch_first_id = 0
    });
    // A scale below the floor (and not the "closed, waiting" zero).
    refuses(&s, "outside [MIN_SCALE, RAY]", |x| {
        x.markets[1].short.scale = 5
    });
    // A position whose ADL entries are ahead of its side's accumulators.
    let id = s
        .positions
        .values()
        .find(|p| p.qty > 0 && p.market == 1)
        .map(|p| p.id)
        .unwrap();
    refuses(&s, "ahead of its side's accumulators", |x| {
        let mut p = *x.positions.get(&id).unwrap();
        p.adl_b_entry = x.markets[1].long.adl_b + U256::from(1u8);
        x.positions.insert(id, p);
    });
    refuses(&s, "not issued yet", |x| x.next_position_id = 1);
    // azUSD conservation, LP shares, the cached risk figures.
    refuses(&s, "azUSD conservation", |x| x.vault.cash += 1);
    refuses(&s, "LP shares", |x| x.vault.shares += 1);
    refuses(&s, "cached risk", |x| x.markets[1].risk.required += 1);
    refuses(&s, "drawdown low", |x| {
        x.vault.drawdown_low_share_price = x.vault.high_water_share_price + 1
    });
    // External tokens: one appearing from nowhere; the market index.
    refuses(&s, "none created at genesis", |x| {
        x.wallets
            .insert((addr(7), azex_exchange::testkit::token(99)), 1);
    });
    refuses(&s, "token index", |x| {
        x.market_by_token.clear();
    });
    refuses(&s, "indexed as", |x| {
        let t = x.markets[0].base_token;
        x.market_by_token.insert(t, 1);
    });
    // And the untouched state passes.
    check(&s).unwrap();
}
