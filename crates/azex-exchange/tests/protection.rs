//! Liquidation, the loss waterfall, ADL, the drawdown cap and delisting, end to end.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_lossless
)] // test data is built with plain casts

use azex_exchange::liq_index::LiqIndex;
use azex_exchange::state::MarketStatus;
mod common;

use azex_exchange::testkit::{addr, WorldSpec};
use azex_exchange::units::{QTY_ONE, USD_ONE, WAD};
use azex_exchange::{Event, ExchangeError, Tx};
use common::{check, Checked};

fn one() -> i128 {
    QTY_ONE as i128
}

/// A deep market ($20M of seed liquidity) and a vault of `lp` dollars.
fn deep(lp: u128) -> Checked {
    Checked::new(&WorldSpec {
        markets: vec![(1, 2_000 * WAD, 20_000_000 * USD_ONE)],
        lp_capital: lp * USD_ONE,
        ..WorldSpec::default()
    })
    .unwrap()
}

fn deficits(ev: &[Event]) -> u128 {
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

#[test]
fn a_20x_long_is_found_and_liquidated_without_deficit() {
    let mut w = Checked::new(&WorldSpec::default()).unwrap();
    // 10 tokens at ~$2,000 with $1,050 margin: ~19x.
    let id = w.open(2, 0, 10 * one(), 1_050 * USD_ONE).unwrap();
    w.open(3, 0, -10 * one(), 5_000 * USD_ONE).unwrap(); // keep the market balanced
    assert!(
        w.keeper_pass(9, 0).unwrap().is_empty(),
        "healthy at the start"
    );
    // Down 3 %: under the 2.5 % maintenance.
    w.move_price(4, 0, 1_940 * WAD, 40).unwrap();
    let ix = LiqIndex::build(&w.state).unwrap();
    assert_eq!(ix.candidates(&w.state, 0).unwrap(), vec![id]);
    let ev = w
        .tx(Tx::Liquidate {
            user: addr(9),
            position: id,
        })
        .unwrap();
    assert!(ev
        .iter()
        .any(|e| matches!(e, Event::PositionLiquidated { .. })));
    assert_eq!(deficits(&w.events), 0);
    assert!(w.state.position(id).is_none());
    // A duplicate (stale) keeper transaction is a harmless refusal.
    let h = w.state.hash();
    assert!(matches!(
        w.tx(Tx::Liquidate {
            user: addr(8),
            position: id
        }),
        Err(ExchangeError::UnknownPosition(_))
    ));
    assert_eq!(w.state.hash(), h);
    // The keeper was paid, the insurance fund grew.
    assert!(w.state.wallet(addr(9), azex_exchange::AZUSD) > 0);
    assert!(w.state.funds.insurance > 0);
}

#[test]
fn healthy_positions_cannot_be_liquidated() {
    let mut w = Checked::new(&WorldSpec::default()).unwrap();
    let id = w.open(2, 0, 10 * one(), 5_000 * USD_ONE).unwrap();
    let h = w.state.hash();
    let e = w
        .tx(Tx::Liquidate {
            user: addr(9),
            position: id,
        })
        .unwrap_err();
    assert!(matches!(e, ExchangeError::NotLiquidatable { .. }), "{e:?}");
    assert_eq!(w.state.hash(), h);
}

#[test]
fn large_positions_are_liquidated_stepwise() {
    let mut w = deep(20_000_000);
    // $400k long, 10x, balanced by a short.
    let id = w.open(2, 0, 200 * one(), 45_000 * USD_ONE).unwrap();
    w.open(3, 0, -200 * one(), 200_000 * USD_ONE).unwrap();
    w.move_price(4, 0, 1_850 * WAD, 40).unwrap();
    // First step: a quarter of the size, at the risk price.
    let ev = w
        .tx(Tx::Liquidate {
            user: addr(9),
            position: id,
        })
        .unwrap();
    let left = ev
        .iter()
        .find_map(|e| {
            if let Event::PositionLiquidated { remaining_qty, .. } = e {
                Some(*remaining_qty)
            } else {
                None
            }
        })
        .unwrap();
    assert_eq!(left, 150 * one());
    // Not twice in one block.
    assert!(matches!(
        w.tx(Tx::Liquidate {
            user: addr(9),
            position: id
        }),
        Err(ExchangeError::LiquidationCooldown { .. })
    ));
    // Later steps only while it is still under maintenance: the first step may already restore it.
    let mut steps = 1;
    loop {
        w.next_block().unwrap();
        match w.tx(Tx::Liquidate {
            user: addr(9),
            position: id,
        }) {
            Ok(_) => steps += 1,
            Err(ExchangeError::NotLiquidatable {
                equity,
                maintenance,
                ..
            }) => {
                assert!(equity >= maintenance as i128);
                break;
            }
            Err(ExchangeError::UnknownPosition(_)) => break,
            Err(e) => panic!("{e:?}"),
        }
    }
    assert!(steps <= 4);
    assert_eq!(deficits(&w.events), 0);
}

#[test]
fn profit_cap_deleverages_the_winning_side_in_one_block() {
    // A small vault, a one-sided long market, then the price rises.
    let mut w = deep(500_000);
    let mut ids = vec![];
    for u in 2..=3 {
        for _ in 0..20 {
            ids.push(w.open(u, 0, 5 * one(), 4_000 * USD_ONE).unwrap());
        }
    }
    w.move_price(4, 0, 3_000 * WAD, 100).unwrap();
    let adl: Vec<_> = w
        .events
        .iter()
        .filter(|e| matches!(e, Event::Deleveraged { .. }))
        .cloned()
        .collect();
    assert!(!adl.is_empty(), "the profit cap must trigger ADL");
    if let Event::Deleveraged {
        positions,
        keep_wad,
        ..
    } = &adl[0]
    {
        assert_eq!(*positions, 40, "every position of the side in one event");
        assert!(*keep_wad < WAD);
    }
    // Every position can see its exposure: shrunk size, PnL waiting to be credited.
    let x = w.state.adl_exposure(ids[0]).unwrap();
    assert!(x.effective_qty < x.stored_qty && x.pending_adl_pnl > 0 && x.side_scale_wad < WAD);
    // Each position realises its ADL PnL exactly when next touched; closing pays it out.
    let before = w.state.wallet(addr(2), azex_exchange::AZUSD);
    let ev = w.close(2, ids[0]).unwrap();
    assert!(ev
        .iter()
        .any(|e| matches!(e, Event::AdlSettled { realised_pnl, .. } if *realised_pnl > 0)));
    assert!(w.state.wallet(addr(2), azex_exchange::AZUSD) > before);
}

#[test]
fn drawdown_cap_makes_markets_reduce_only() {
    let mut w = deep(1_000_000);
    for _ in 0..5 {
        w.open(2, 0, 60 * one(), 30_000 * USD_ONE).unwrap();
    }
    w.move_price(4, 0, 2_900 * WAD, 80).unwrap();
    assert!(
        w.events
            .iter()
            .any(|e| matches!(e, Event::DrawdownCapHit { .. })),
        "drawdown cap must trigger"
    );
    let e = w
        .tx(Tx::OpenPosition {
            user: addr(3),
            market: 0,
            qty: one(),
            margin: 1_000 * USD_ONE,
            price_bound: u128::MAX,
        })
        .unwrap_err();
    assert!(matches!(e, ExchangeError::ReduceOnly(0)), "{e:?}");
}

#[test]
fn thin_market_is_delisted_settled_and_relisted() {
    let mut w = Checked::new(&WorldSpec::default()).unwrap();
    let id = w.open(2, 0, 5 * one(), 2_000 * USD_ONE).unwrap();
    // The listing liquidity leaves: remove the creator's whole position.
    let key = w.state.markets[0].pool_key;
    let lp = w
        .state
        .spot
        .pool(&key)
        .unwrap()
        .positions()
        .find(|(k, _)| k.owner == addr(1))
        .map(|(k, p)| (k, p.liquidity))
        .unwrap();
    w.tx(Tx::SpotLiquidity {
        user: addr(1),
        market: 0,
        tick_lower: lp.0.tick_lower,
        tick_upper: lp.0.tick_upper,
        liquidity_delta: -(lp.1 as i128),
        salt: 0,
    })
    .unwrap();
    w.advance(2).unwrap();
    assert_eq!(w.state.markets[0].status, MarketStatus::ReduceOnly);
    w.advance(12).unwrap();
    assert!(matches!(
        w.state.markets[0].status,
        MarketStatus::Delisted { .. }
    ));
    assert!(matches!(
        w.tx(Tx::Relist {
            user: addr(3),
            market: 0
        }),
        Err(ExchangeError::RelistRefused { .. })
    ));
    w.tx(Tx::SettleDelisted {
        user: addr(9),
        position: id,
    })
    .unwrap();
    // Liquidity comes back; the market can be listed again.
    w.tx(Tx::SpotLiquidity {
        user: addr(1),
        market: 0,
        tick_lower: lp.0.tick_lower,
        tick_upper: lp.0.tick_upper,
        liquidity_delta: lp.1 as i128,
        salt: 0,
    })
    .unwrap();
    w.advance(1).unwrap();
    w.tx(Tx::Relist {
        user: addr(3),
        market: 0,
    })
    .unwrap();
    assert_eq!(w.state.markets[0].status, MarketStatus::Active);
}

// --- issue 9: ADL epochs, the drawdown cap's way back ------------------------------------------

/// The vault's share price (NAV per share, WAD) as the drawdown cap sees it.
fn share_price(s: &azex_exchange::State) -> u128 {
    let r = azex_exchange::risk::vault_risk(
        &s.vault,
        s.markets.iter().zip(&s.market_params),
        s.params.max_vault_utilisation_wad,
    )
    .unwrap();
    (r.nav.max(0) as u128) * WAD / s.vault.shares
}

fn azusd(w: &Checked, user: u64) -> u128 {
    w.state.wallet(addr(user), azex_exchange::AZUSD)
}

/// $600k of longs (one-sided) against a $1M vault; the price rises until the drawdown cap trips
/// and ADL closes the long side entirely. Returns the long ids (owner, id).
fn one_sided_market_at_the_cap(w: &mut Checked) -> Vec<(u64, u64)> {
    let mut longs = vec![];
    for u in [2, 3] {
        for _ in 0..3 {
            longs.push((u, w.open(u, 0, 50 * one(), 30_000 * USD_ONE).unwrap()));
        }
    }
    w.move_price(4, 0, 2_900 * WAD, 100).unwrap();
    assert!(w.state.vault.drawdown_mode, "the drawdown cap must trip");
    longs
}

fn full_cuts(ev: &[Event]) -> usize {
    ev.iter()
        .filter(|e| {
            matches!(
                e,
                Event::Deleveraged {
                    long_side: true,
                    keep_wad: 0,
                    ..
                }
            )
        })
        .count()
}

#[test]
fn a_side_closed_entirely_by_adl_trades_again_and_its_old_positions_settle() {
    // Issue 9, defect 1: ADL keeping 0 of a side set its scale to 0 and every later open on the
    // side failed with DivisionByZero for ever.
    let mut w = deep(1_000_000);
    let longs = one_sided_market_at_the_cap(&mut w);
    assert_eq!(
        full_cuts(&w.events),
        1,
        "the one-sided long side is closed entirely"
    );
    let realised: i128 = w
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Deleveraged {
                long_side: true,
                realised_pnl,
                ..
            } => Some(*realised_pnl),
            _ => None,
        })
        .sum();
    assert!(realised > 150_000 * USD_ONE as i128, "{realised}");
    let side = w.state.markets[0].long;
    assert_eq!(
        (side.epoch, side.scale, side.qty),
        (1, azex_exchange::book::RAY, 0)
    );
    assert_eq!((side.positions, side.current_positions()), (6, 0));
    // The old positions: size 0, their ADL PnL waiting; together what the events realised.
    let mut pending = 0;
    for (_, id) in &longs {
        let x = w.state.adl_exposure(*id).unwrap();
        assert!(x.epoch_ended && x.effective_qty == 0 && x.pending_adl_pnl > 0);
        pending += x.pending_adl_pnl;
    }
    assert!(
        realised - pending >= 0 && realised - pending <= 12,
        "{realised} vs {pending}"
    );

    // The way back (defect 2): no new low for a cool-down → the mark is rebased, trading resumes.
    w.block_time = 3_600;
    w.advance(25).unwrap();
    assert!(!w.state.vault.drawdown_mode);
    assert_eq!(w.state.markets[0].status, MarketStatus::Active);

    // An open on the side that was closed entirely now works, at full size (once the oracle
    // has settled after the hour-long blocks).
    w.settle().unwrap();
    let fresh = w.open(3, 0, 10 * one(), 10_000 * USD_ONE).unwrap();
    let x = w.state.adl_exposure(fresh).unwrap();
    assert_eq!((x.effective_qty, x.epoch_ended), (10 * one(), false));
    assert_eq!(x.side_scale_wad, WAD);

    // Old positions settle exactly what they were owed: closed by their owner, or by anyone.
    let mut credited = 0;
    for (i, (owner, id)) in longs.iter().enumerate() {
        let owed = w.state.adl_exposure(*id).unwrap().pending_adl_pnl;
        let before = azusd(&w, *owner);
        let ev = if i % 2 == 0 {
            w.close(*owner, *id).unwrap()
        } else {
            w.tx(Tx::SettleDelisted {
                user: addr(9),
                position: *id,
            })
            .unwrap()
        };
        let adl: i128 = ev
            .iter()
            .filter_map(|e| match e {
                Event::AdlSettled { realised_pnl, .. } => Some(*realised_pnl),
                _ => None,
            })
            .sum();
        assert_eq!(adl, owed, "position {id} is credited what it was shown");
        credited += adl;
        let payout =
            ev.iter()
                .find_map(|e| match e {
                    Event::PositionClosed { payout, .. }
                    | Event::PositionSettled { payout, .. } => Some(*payout),
                    _ => None,
                })
                .unwrap();
        assert_eq!(azusd(&w, *owner) - before, payout, "paid to the owner");
        assert!(payout as i128 > owed, "margin and ADL PnL come back");
        assert!(w.state.position(*id).is_none());
    }
    assert_eq!(credited, pending);
    let side = w.state.markets[0].long;
    assert_eq!(side.positions, 1);
    assert_eq!(side.ended_claims, alloy_primitives::I256::ZERO);
    assert!(
        side.ended.iter().all(|e| e.positions == 0),
        "the slot is free again"
    );
    // The new position trades normally on the new epoch.
    w.close(3, fresh).unwrap();
    assert!(w.state.positions.is_empty());
    check(&w.state);
}

#[test]
fn adding_margin_to_a_position_of_an_ended_epoch_pays_nothing_twice() {
    let mut w = deep(1_000_000);
    let longs = one_sided_market_at_the_cap(&mut w);
    let (owner, id) = longs[0];
    let owed = w.state.adl_exposure(id).unwrap().pending_adl_pnl;
    let m0 = w.state.position(id).unwrap().margin;
    // Touching it credits the ADL PnL once...
    w.tx(Tx::AddMargin {
        user: addr(owner),
        position: id,
        amount: 1_000 * USD_ONE,
    })
    .unwrap();
    let x = w.state.adl_exposure(id).unwrap();
    assert_eq!(x.pending_adl_pnl, 0);
    let m1 = w.state.position(id).unwrap().margin;
    assert!(m1 as i128 >= m0 as i128 + owed - 1_000 * USD_ONE as i128);
    // ...margin can come back out, and closing pays the margin, nothing more.
    w.tx(Tx::RemoveMargin {
        user: addr(owner),
        position: id,
        amount: 1_000 * USD_ONE,
    })
    .unwrap();
    let m2 = w.state.position(id).unwrap().margin;
    let ev = w.close(owner, id).unwrap();
    assert!(!ev.iter().any(|e| matches!(e, Event::AdlSettled { .. })));
    let payout = ev
        .iter()
        .find_map(|e| match e {
            Event::PositionClosed { payout, .. } => Some(*payout),
            _ => None,
        })
        .unwrap();
    assert_eq!(payout, m2);
    // It cannot be grown: it lives in an epoch that has ended.
    let (owner, id) = longs[1];
    assert!(w
        .tx(Tx::ModifyPosition {
            user: addr(owner),
            position: id,
            qty_delta: one(),
            price_bound: u128::MAX,
        })
        .is_err());
}

#[test]
fn the_drawdown_cap_rebases_after_a_cool_down_and_trading_resumes() {
    // Issue 9, defect 2: with books balanced and no outside income the share price never climbs
    // back within 10 % of the mark, and deposits buy at the low price, so trading never resumed.
    let mut w = deep(1_000_000);
    one_sided_market_at_the_cap(&mut w);
    let hit_at = w.block.timestamp;
    let low = share_price(&w.state);
    assert!(low < w.state.vault.high_water_share_price * 8 / 10);
    // A new LP buying at the low price does not lift it: still reduce-only.
    w.tx(Tx::LpDeposit {
        user: addr(3),
        amount: 500_000 * USD_ONE,
    })
    .unwrap();
    assert!(share_price(&w.state).abs_diff(low) <= 1);
    // Half a cool-down: still shut.
    w.block_time = 3_600;
    w.advance(12).unwrap();
    assert!(w.state.vault.drawdown_mode);
    assert!(matches!(
        w.open(2, 0, one(), 1_000 * USD_ONE),
        Err(ExchangeError::ReduceOnly(0))
    ));
    // A whole cool-down with no new low: the mark is rebased to the share price, markets reopen.
    w.advance(13).unwrap();
    assert!(w.block.timestamp >= hit_at + w.state.params.drawdown_cooldown_secs);
    let rebased = w
        .events
        .iter()
        .find_map(|e| match e {
            Event::DrawdownRecovered {
                share_price,
                high_water,
            } => Some((*share_price, *high_water)),
            _ => None,
        })
        .expect("the cap recovers by rebasing");
    assert_eq!(
        rebased.0, rebased.1,
        "high-water mark rebased to the share price"
    );
    assert!(rebased.0.abs_diff(low) <= 1, "the rebase moved no money");
    assert_eq!(w.state.vault.high_water_share_price, rebased.0);
    assert_eq!(w.state.markets[0].status, MarketStatus::Active);
    w.settle().unwrap();
    let id = w.open(2, 0, 5 * one(), 5_000 * USD_ONE).unwrap();
    let id2 = w.open(3, 0, -5 * one(), 5_000 * USD_ONE).unwrap();
    w.close(2, id).unwrap();
    w.close(3, id2).unwrap();
}

#[test]
fn the_cool_down_restarts_while_the_vault_is_still_losing() {
    // A drawdown whose losses are not over yet (an under-water short the keepers missed): the
    // cool-down counts from the last new low, not from the cap hit, so markets do not reopen
    // while the vault is still bleeding.
    let mut w = deep(1_000_000);
    w.open(2, 0, 300 * one(), 180_000 * USD_ONE).unwrap();
    let short = w.open(3, 0, -70 * one(), 15_000 * USD_ONE).unwrap();
    w.move_price(4, 0, 3_300 * WAD, 150).unwrap();
    assert!(w.state.vault.drawdown_mode);
    let hit_at = w.block.timestamp;
    w.block_time = 3_600;
    w.advance(12).unwrap();
    // Half-way through the cool-down the short is liquidated with a deficit: a new low.
    let before = share_price(&w.state);
    let ev = w
        .tx(Tx::Liquidate {
            user: addr(9),
            position: short,
        })
        .unwrap();
    assert!(deficits(&ev) > 50_000 * USD_ONE, "{}", deficits(&ev));
    assert!(share_price(&w.state) < before * 95 / 100);
    let new_low_at = w.block.timestamp;
    // A cool-down after the cap hit: a timer started at the hit would reopen now; it does not.
    w.advance(14).unwrap();
    assert!(w.block.timestamp >= hit_at + w.state.params.drawdown_cooldown_secs);
    assert!(
        w.state.vault.drawdown_mode,
        "still losing half-way: still shut"
    );
    assert_eq!(w.state.markets[0].status, MarketStatus::ReduceOnly);
    // A cool-down after the last new low: reopened.
    w.advance(12).unwrap();
    assert!(w.block.timestamp >= new_low_at + w.state.params.drawdown_cooldown_secs);
    assert!(!w.state.vault.drawdown_mode);
    assert_eq!(w.state.markets[0].status, MarketStatus::Active);
}

#[test]
fn attack_trigger_the_cap_buy_cheap_shares_and_cash_in_on_the_rebase() {
    // The attack: drain the vault to the cap with a one-sided long (the attacker is its
    // counterparty's counterparty: the vault pays its profit), buy LP shares at the bottom, wait
    // out the cool-down, and withdraw after the rebase and reopening, hoping the rebase lifts
    // the shares or hands over the stayers' capital. It must not: the rebase moves no money
    // and changes no share price; shares bought at NAV are worth what was paid.
    let mut w = deep(1_000_000);
    let honest_shares = w.state.lps[&addr(1)].shares;
    one_sided_market_at_the_cap(&mut w);
    let low = share_price(&w.state);
    let attacker = 4;
    let paid = 400_000 * USD_ONE;
    w.tx(Tx::LpDeposit {
        user: addr(attacker),
        amount: paid,
    })
    .unwrap();
    let bought = w.state.lps[&addr(attacker)].shares;
    assert!(
        share_price(&w.state).abs_diff(low) <= 1,
        "a deposit at NAV moves nothing"
    );
    // Wait out the cool-down: rebase, reopening.
    w.block_time = 3_600;
    w.advance(25).unwrap();
    assert!(!w.state.vault.drawdown_mode);
    assert_eq!(w.state.markets[0].status, MarketStatus::Active);
    let after = share_price(&w.state);
    assert!(
        after.abs_diff(low) <= 1,
        "the rebase lifts no share: {low} → {after}"
    );
    // Trading resumes; the attacker leaves with at most what it paid.
    let before = azusd(&w, attacker);
    w.tx(Tx::LpWithdraw {
        user: addr(attacker),
        shares: bought,
    })
    .unwrap();
    let got = azusd(&w, attacker) - before;
    assert!(
        got <= paid,
        "the round trip across the rebase earns nothing: {got} > {paid}"
    );
    // The LP who stayed holds the same value per share as before the attacker came and went.
    assert!(share_price(&w.state).abs_diff(low) <= 1);
    assert_eq!(w.state.lps[&addr(1)].shares, honest_shares);
}

#[test]
fn attack_drain_again_right_after_the_rebase_is_stopped_at_half_the_cap() {
    // The attack a naive rebase opens: trip the cap, wait, and drain the rebased vault by another
    // full cap at once, then again and again. After a rebase the vault is on probation for a
    // cool-down: the cap is half as wide, so a second drain is stopped at ~10 % (+ one block of
    // price move), and the cool-down to the next rebase starts again.
    let mut w = deep(1_000_000);
    let longs = one_sided_market_at_the_cap(&mut w);
    for (owner, id) in longs {
        w.close(owner, id).unwrap();
    }
    w.block_time = 3_600;
    w.advance(25).unwrap();
    assert!(!w.state.vault.drawdown_mode);
    let mark = w.state.vault.high_water_share_price;
    assert_eq!(share_price(&w.state), mark);
    // Second drain, within the probation cool-down.
    w.block_time = 2;
    w.settle().unwrap();
    let price = w.state.markets[0].prices.risk;
    for _ in 0..4 {
        w.open(4, 0, 50 * one(), 60_000 * USD_ONE).unwrap();
    }
    w.move_price(4, 0, price * 12 / 10, 100).unwrap();
    let hit = w
        .events
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::DrawdownCapHit {
                share_price,
                high_water,
            } => Some((*share_price, *high_water)),
            _ => None,
        })
        .unwrap();
    // The mark the second drain is measured from: the rebased one (plus the fees it earned since).
    let (tripped, mark2) = hit;
    assert!(mark2 >= mark && mark2 - mark < mark / 100);
    let cap = w.state.params.max_drawdown_wad;
    let fall = (mark2 - tripped) * WAD / mark2;
    assert!(
        fall > cap / 2 && fall < cap * 6 / 10,
        "tripped {fall} below the mark (WAD)"
    );
    // The drain is over: every long closed at the cap, markets shut for another cool-down.
    assert!(w.state.vault.drawdown_mode);
    assert_eq!(w.state.markets[0].long.eff_qty().unwrap(), 0);
}

/// The vault's NAV (azUSD units).
fn nav(s: &azex_exchange::State) -> u128 {
    azex_exchange::risk::vault_risk(
        &s.vault,
        s.markets.iter().zip(&s.market_params),
        s.params.max_vault_utilisation_wad,
    )
    .unwrap()
    .nav
    .max(0) as u128
}

/// One-sided longs worth 70 % of NAV, the price pushed up until the drawdown cap closes the long
/// side entirely, the price brought back (the vault is flat then), a cool-down waited out.
fn drain_and_wait(w: &mut Checked) -> Vec<(u64, u64)> {
    w.settle().unwrap();
    let price = w.state.markets[0].prices.risk;
    let each = azex_exchange::units::mul_div_down_u128(
        nav(&w.state) * 7 / 10 / 6,
        azex_exchange::units::NOTIONAL_DIVISOR,
        price,
    )
    .unwrap() as i128;
    let mut longs = vec![];
    for u in [2, 3] {
        for _ in 0..3 {
            longs.push((u, w.open(u, 0, each, 30_000 * USD_ONE).unwrap()));
        }
    }
    let cuts = full_cuts(&w.events);
    w.block_time = 2;
    let mut target = price;
    while full_cuts(&w.events) == cuts {
        target = target * 105 / 100;
        w.move_price(4, 0, target, 20).unwrap();
    }
    w.move_price(4, 0, 2_000 * WAD, 120).unwrap();
    w.block_time = 3_600;
    w.advance(25).unwrap();
    longs
}

#[test]
fn a_side_closed_entirely_with_both_slots_in_use_waits_until_one_is_settled() {
    let mut w = deep(1_000_000);
    let first = drain_and_wait(&mut w);
    drain_and_wait(&mut w);
    assert_eq!(w.state.markets[0].long.epoch, 2);
    assert_eq!(w.state.markets[0].status, MarketStatus::Active);
    // A third full cut while the positions of both ended epochs are still open: no slot.
    drain_and_wait(&mut w);
    let side = w.state.markets[0].long;
    assert!(side.waiting_for_epoch() && side.epoch == 2, "{side:?}");
    assert!(!w.state.vault.drawdown_mode, "the cap itself has rebased");
    assert_eq!(w.state.markets[0].status, MarketStatus::ReduceOnly);
    assert!(matches!(
        w.open(2, 0, one(), 1_000 * USD_ONE),
        Err(ExchangeError::ReduceOnly(0))
    ));
    // Anyone settles the oldest epoch's positions; at the next block end the side starts afresh.
    for (_, id) in first {
        w.tx(Tx::SettleDelisted {
            user: addr(9),
            position: id,
        })
        .unwrap();
    }
    w.next_block().unwrap();
    let side = w.state.markets[0].long;
    assert!(!side.waiting_for_epoch() && side.epoch == 3);
    assert_eq!(w.state.markets[0].status, MarketStatus::Active);
    w.settle().unwrap();
    let id = w.open(2, 0, one(), 1_000 * USD_ONE).unwrap();
    w.close(2, id).unwrap();
    // Every old position still settles.
    let ids: Vec<(u64, i128)> = w.state.positions.values().map(|p| (p.id, p.qty)).collect();
    assert!(!ids.is_empty());
    for (id, _) in ids {
        w.tx(Tx::SettleDelisted {
            user: addr(9),
            position: id,
        })
        .unwrap();
    }
    let side = w.state.markets[0].long;
    assert_eq!(
        (side.positions, side.ended_claims),
        (0, alloy_primitives::I256::ZERO)
    );
}
