//! A single keeper's behaviour: gaps and rebuilds, deleveraging, delisting, spreading work.

#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_lossless
)] // test data is built with plain casts

mod common;

use azex_exchange::event::Event;
use azex_exchange::liq_index::LiqIndex;
use azex_exchange::state::MarketStatus;
use azex_exchange::testkit::{addr, World, WorldSpec};
use azex_exchange::units::{QTY_ONE, USD_ONE, WAD};
use azex_exchange::{ExchangeError, Tx};
use azex_keeper::{
    BlockUpdate, ChainView, Keeper, KeeperConfig, Network, NetworkConfig, ReplicaView,
};
use common::*;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

fn sorted(mut v: Vec<u64>) -> Vec<u64> {
    v.sort_unstable();
    v
}

#[test]
fn replica_gap_forces_a_rebuild_and_the_index_matches_a_fresh_one() {
    let (w, _) = leveraged_world(40);
    let mut chain = chain_of(w, false);
    let mut view = ReplicaView::new(Arc::new(chain.state().clone()), 4);
    let mut k = Keeper::new(KeeperConfig {
        precheck: false,
        ..KeeperConfig::new(keeper(1))
    });
    let sink = Mutex::new(vec![]);
    let feed = |chain: &mut azex_keeper::LocalChain, view: &mut ReplicaView| {
        let record = chain.produce_block().unwrap();
        view.ingest(BlockUpdate {
            state: Some(Arc::new(chain.state().clone())),
            record,
        })
        .unwrap();
    };
    assert!(k.step(&view, &sink).unwrap().rebuilt, "start: build");
    let mover_tx = |chain: &azex_keeper::LocalChain, p: u128| {
        if let Some(tx) = swap_to(chain.state(), addr(MOVER), 0, p * WAD) {
            azex_keeper::TxSink::submit(chain, tx).unwrap();
        }
    };
    mover_tx(&chain, 1_850);
    // Two blocks unseen (within the 4-record window): folded from events, no rebuild.
    feed(&mut chain, &mut view);
    feed(&mut chain, &mut view);
    assert!(!k.step(&view, &sink).unwrap().rebuilt);
    // Ten blocks unseen: a gap.
    for _ in 0..10 {
        feed(&mut chain, &mut view);
    }
    let st = k.step(&view, &sink).unwrap();
    assert!(st.rebuilt, "gap: rebuild");
    assert_eq!(k.stats().rebuilds, 2);
    // Events-only from here, with positions opening, liquidating, closing; then compare with a
    // fresh build at several heights.
    for round in 0..40 {
        for tx in sink.lock().unwrap().drain(..) {
            azex_keeper::TxSink::submit(&chain, tx).unwrap();
        }
        if round == 5 {
            mover_tx(&chain, 2_150);
        }
        feed(&mut chain, &mut view);
        assert!(!k.step(&view, &sink).unwrap().rebuilt);
        let fresh = LiqIndex::build(view.state()).unwrap();
        assert_eq!(k.index().len(), fresh.len());
        for price in [1_700u128, 1_900, 2_000, 2_100, 2_300] {
            assert_eq!(
                sorted(
                    k.index()
                        .candidates_at(view.state(), 0, price * WAD)
                        .unwrap()
                ),
                sorted(fresh.candidates_at(view.state(), 0, price * WAD).unwrap()),
                "round {round}, price {price}"
            );
        }
    }
    assert!(chain.stats().liquidation_events > 0);
    assert_eq!(k.stats().rebuilds, 2);
}

#[test]
fn keeper_sends_deleverage_when_a_simulation_says_it_would_succeed() {
    // A risk price that follows spot at once (no TWAP, no truncation to speak of), so that a
    // block can open with the profit cap far exceeded: ADL is due before this block's end.
    let mut spec = WorldSpec {
        users: 6,
        markets: vec![(1, 2_000 * WAD, 20_000_000 * USD_ONE)],
        lp_capital: 500_000 * USD_ONE,
        ..WorldSpec::default()
    };
    spec.genesis.params.risk_twap_window_secs = 0;
    spec.genesis.params.max_abs_tick_move = 9_000;
    // Without a TWAP a one-block oracle push is all it takes to move the price trades execute
    // at, so the OI caps against manipulation are tiny unless the taker fee is high.
    spec.genesis.params.market_defaults = Some(azex_exchange::MarketParams {
        taker_fee_wad: WAD / 100,
        ..Default::default()
    });
    let mut w = World::new(&spec).unwrap();
    for u in [2, 3] {
        for _ in 0..20 {
            w.open(u, 0, 5 * QTY_ONE as i128, 4_000 * USD_ONE).unwrap();
        }
    }
    w.move_price(MOVER, 0, 3_000 * WAD, 1).unwrap();
    // `w.state` is in the middle of the block that just began: a bare state is a view too.
    let sink = Mutex::new(vec![]);
    let mut k = Keeper::new(KeeperConfig::new(keeper(1)));
    k.step(&w.state, &sink).unwrap();
    let sent = sink.lock().unwrap().clone();
    let adl = Tx::Deleverage {
        user: keeper(1),
        market: 0,
    };
    assert_eq!(sent, vec![adl.clone()]);
    let ev = w.tx(adl.clone()).unwrap();
    assert!(ev.iter().any(|e| matches!(e, Event::Deleveraged { .. })));
    // A second copy is stale: it must change nothing of substance. (The engine currently
    // accepts it with a dust cut, keep = 1 − 1e-18, instead of refusing it with
    // `NothingToDeleverage`; see the crate's notes. Either outcome is accepted here.)
    let h = w.state.hash();
    match w.tx(adl) {
        Err(ExchangeError::NothingToDeleverage(0)) => assert_eq!(w.state.hash(), h),
        Ok(ev) => {
            for e in ev {
                if let Event::Deleveraged {
                    keep_wad,
                    realised_pnl,
                    ..
                } = e
                {
                    assert!(keep_wad + 1_000_000_000 >= WAD, "dust only: {keep_wad}");
                    assert_eq!(realised_pnl, 0);
                }
            }
        }
        Err(e) => panic!("{e:?}"),
    }
    // The keeper does not send it again: it is in flight, and a fresh keeper, which has nothing
    // in flight, sees no material cut to make.
    sink.lock().unwrap().clear();
    k.step(&w.state, &sink).unwrap();
    assert!(sink.lock().unwrap().is_empty());
    Keeper::new(KeeperConfig::new(keeper(2)))
        .step(&w.state, &sink)
        .unwrap();
    assert!(sink.lock().unwrap().is_empty());
}

#[test]
fn delisted_markets_are_settled_by_the_keeper() {
    let mut w = World::new(&WorldSpec::default()).unwrap();
    let one = QTY_ONE as i128;
    let ids: Vec<_> = [(2, 5), (3, -4), (2, -1), (3, 2)]
        .iter()
        .map(|(u, q)| w.open(*u, 0, q * one, 2_000 * USD_ONE).unwrap())
        .collect();
    // The listing liquidity leaves.
    let key = w.state.markets[0].pool_key;
    let (pk, liq) = w
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
        tick_lower: pk.tick_lower,
        tick_upper: pk.tick_upper,
        liquidity_delta: -(liq as i128),
        salt: 0,
    })
    .unwrap();
    let mut net = Network::new(chain_of(w, true), NetworkConfig::default());
    let k = net.add_inline(KeeperConfig::new(keeper(1)));
    net.run(16).unwrap();
    let s = net.chain().state();
    assert!(matches!(s.markets[0].status, MarketStatus::Delisted { .. }));
    for id in &ids {
        assert!(s.position(*id).is_none(), "position {id} settled");
    }
    let st = net.stats(k).unwrap();
    assert_eq!(st.submitted_settle, ids.len() as u64);
    assert_eq!(st.submitted_liquidate, 0);
    assert_eq!(net.chain().stats().settlement_events, ids.len() as u64);
    assert_eq!(net.chain().stats().refused, 0);
}

#[test]
fn capped_keepers_spread_over_different_positions() {
    let (mut w, _) = leveraged_world(80);
    w.move_price(MOVER, 0, 1_780 * WAD, 60).unwrap();
    let due = liquidatable(&w.state);
    assert!(due.len() >= 15, "{}", due.len());
    let mut sets = vec![];
    for i in 1..=3 {
        let sink = Mutex::new(vec![]);
        let mut k = Keeper::new(KeeperConfig {
            max_txs_per_block: 5,
            ..KeeperConfig::new(keeper(i))
        });
        k.step(&w.state, &sink).unwrap();
        let sent: BTreeSet<_> = sink
            .lock()
            .unwrap()
            .iter()
            .map(|tx| match tx {
                Tx::Liquidate { position, .. } => *position,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(sent.len(), 5);
        assert!(sent.iter().all(|id| due.contains(id)));
        sets.push(sent);
    }
    let union: BTreeSet<_> = sets.iter().flatten().collect();
    assert!(
        union.len() > 5,
        "three keepers cover {} positions",
        union.len()
    );
    // Same address, same view: the same transactions.
    let again = Mutex::new(vec![]);
    Keeper::new(KeeperConfig {
        max_txs_per_block: 5,
        ..KeeperConfig::new(keeper(1))
    })
    .step(&w.state, &again)
    .unwrap();
    assert_eq!(again.lock().unwrap().len(), 5);
}

#[test]
fn a_replaying_replica_reproduces_the_chain_state_block_by_block() {
    let (w, _) = leveraged_world(40);
    let mut net = Network::new(chain_of(w, false), NetworkConfig::default());
    net.add_inline(KeeperConfig::new(keeper(1)));
    let mut view = ReplicaView::new(Arc::new(net.chain().state().clone()), 8);
    for (target, blocks) in down_and_up().into_iter().take(6) {
        if let Some(tx) = swap_to(net.chain().state(), addr(MOVER), 0, target) {
            net.submit(tx);
        }
        for _ in 0..blocks {
            let record = net.step().unwrap();
            view.ingest(BlockUpdate {
                state: None,
                record,
            })
            .unwrap();
            assert_eq!(view.state().hash(), net.chain().state().hash());
        }
    }
    assert!(net.chain().stats().liquidation_events > 0);
    // A record that does not match the state: the replica notices and stops following.
    let mut bad = (*view.block(view.height()).unwrap()).clone();
    bad.height += 1;
    bad.timestamp += 2;
    bad.events.clear();
    let e = view
        .ingest(BlockUpdate {
            state: None,
            record: Arc::new(bad),
        })
        .unwrap_err();
    assert!(
        matches!(e, azex_keeper::ReplicaError::Diverged { .. }),
        "{e}"
    );
    assert!(view.diverged().is_some());
}
