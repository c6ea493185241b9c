//! Without keepers: the engine's own block-end protection (ADL) still runs; liquidations do not.

#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_lossless
)] // test data is built with plain casts

mod common;

use azex_exchange::testkit::{addr, World, WorldSpec};
use azex_exchange::units::{QTY_ONE, USD_ONE, WAD};
use azex_keeper::{ChainView, KeeperConfig, Network, NetworkConfig};
use common::*;

#[test]
fn without_keepers_adl_still_happens_but_liquidations_do_not() {
    // A small vault carrying a one-sided long market (the profit-cap ADL case), plus a few 10x
    // shorts that a rising price makes liquidatable.
    let mut w = World::new(&WorldSpec {
        users: 6,
        markets: vec![(1, 2_000 * WAD, 20_000_000 * USD_ONE)],
        lp_capital: 500_000 * USD_ONE,
        ..WorldSpec::default()
    })
    .unwrap();
    let one = QTY_ONE as i128;
    for u in [2, 3] {
        for _ in 0..20 {
            w.open(u, 0, 5 * one, 4_000 * USD_ONE).unwrap();
        }
    }
    let shorts: Vec<_> = (0..6)
        .map(|_| w.open(5, 0, -2 * one, 400 * USD_ONE).unwrap())
        .collect();
    let mut net = Network::new(chain_of(w, false), NetworkConfig::default());
    let mover = addr(MOVER);
    if let Some(tx) = swap_to(net.chain().state(), mover, 0, 3_000 * WAD) {
        net.submit(tx);
    }
    // ADL events by size: material cuts, and dust (keep within 1e-9 of everything).
    let (mut material, mut dust) = (0, 0);
    for _ in 0..100 {
        for e in &net.step().unwrap().events {
            if let azex_exchange::Event::Deleveraged { keep_wad, .. } = e {
                if *keep_wad + 1_000_000_000 >= WAD {
                    dust += 1;
                } else {
                    material += 1;
                }
            }
        }
    }
    eprintln!("ADL events: {material} material, {dust} dust");
    let cs = net.chain().stats().clone();
    assert!(
        cs.deleverage_events > 0,
        "the engine deleverages at block end"
    );
    assert_eq!(cs.liquidation_events, 0, "nobody liquidates");
    let stuck = liquidatable(net.chain().state());
    for id in &shorts {
        assert!(
            stuck.contains(id),
            "short {id} is liquidatable and still open"
        );
    }
    // Deficits grow while they wait: equity of the stuck shorts is far below zero by now. A
    // keeper arriving late liquidates them, and the loss beyond their margin goes down the
    // waterfall — which is why keepers must run.
    let k = net.add_inline(KeeperConfig::new(keeper(1)));
    net.run(2).unwrap();
    let after = net.chain().stats().clone();
    assert!(liquidatable(net.chain().state()).is_empty());
    assert_eq!(after.liquidation_events, shorts.len() as u64);
    assert!(after.deficit_events > 0);
    assert_eq!(net.stats(k).unwrap().liquidations, shorts.len() as u64);
    eprintln!(
        "no keeper for 100 blocks: {} ADL events, 0 liquidations, {} positions stuck; \
         a late keeper liquidated {} with {} deficit events",
        cs.deleverage_events,
        stuck.len(),
        after.liquidation_events,
        after.deficit_events
    );
}
