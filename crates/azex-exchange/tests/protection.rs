//! Liquidation, the loss waterfall, ADL, the drawdown cap and delisting, end to end.

use azex_exchange::liq_index::LiqIndex;
use azex_exchange::state::MarketStatus;
use azex_exchange::testkit::{addr, World, WorldSpec};
use azex_exchange::units::{QTY_ONE, USD_ONE, WAD};
use azex_exchange::{Event, ExchangeError, Tx};

fn one() -> i128 {
    QTY_ONE as i128
}

/// A deep market ($20M of seed liquidity) and a vault of `lp` dollars.
fn deep(lp: u128) -> World {
    World::new(&WorldSpec {
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
    let mut w = World::new(&WorldSpec::default()).unwrap();
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
    let mut w = World::new(&WorldSpec::default()).unwrap();
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
    let mut w = World::new(&WorldSpec::default()).unwrap();
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
