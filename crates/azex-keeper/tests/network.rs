//! Keeper networks end to end: keepers fail, restart, or are absent; the engine stays safe.

#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_lossless
)] // test data is built with plain casts

mod common;

use azex_exchange::event::Event;
use azex_exchange::testkit::addr;
use azex_keeper::{ChainView, KeeperConfig, Network, NetworkConfig, Replication};
use common::*;
use std::collections::BTreeMap;

/// Liquidations in a block record, by keeper address.
fn liquidators(rec: &azex_keeper::BlockRecord) -> Vec<alloy_primitives::Address> {
    rec.events
        .iter()
        .filter_map(|e| match e {
            Event::PositionLiquidated { keeper, .. } => Some(*keeper),
            _ => None,
        })
        .collect()
}

#[test]
fn three_keepers_two_killed_every_liquidation_still_happens() {
    three_keepers_two_killed(Replication::Snapshot);
}

#[test]
fn three_replaying_keepers_two_killed_every_liquidation_still_happens() {
    three_keepers_two_killed(Replication::Replay);
}

fn three_keepers_two_killed(replication: Replication) {
    let n = 80;
    let (w, ids) = leveraged_world(n);
    let mut net = Network::new(
        chain_of(w, true),
        NetworkConfig {
            replication,
            ..NetworkConfig::default()
        },
    );
    let ks: Vec<_> = (1..=3)
        .map(|i| net.spawn(KeeperConfig::new(keeper(i))))
        .collect();
    let path = down_and_up();
    let kill_at = 5; // at the bottom, before the way up
    let mut after_kill: BTreeMap<_, u64> = BTreeMap::new();
    let mut killed = vec![];
    for (step, (target, blocks)) in path.iter().enumerate() {
        if step == kill_at {
            killed.push(net.kill(ks[0]).unwrap());
            killed.push(net.kill(ks[1]).unwrap());
            assert!(!net.alive(ks[0]) && !net.alive(ks[1]) && net.alive(ks[2]));
        }
        if let Some(tx) = swap_to(net.chain().state(), addr(MOVER), 0, *target) {
            net.submit(tx);
        }
        for _ in 0..*blocks {
            let rec = net.step().unwrap();
            if step >= kill_at {
                for k in liquidators(&rec) {
                    *after_kill.entry(k).or_default() += 1;
                }
            }
        }
    }
    let ack_timeouts = net.ack_timeouts();
    let (chain, stats) = net.shutdown();
    let s = chain.state();
    let cs = chain.stats();

    // Nothing is left liquidatable, by the engine's predicate and by simulation.
    assert_eq!(liquidatable(s), Vec::<u64>::new());
    common::assert_none_liquidatable_by_simulation(s);

    // Liquidations happened, on both sides of the path, also after two keepers died, and only
    // the survivor did them then.
    let liquidated = ids.iter().filter(|id| s.position(**id).is_none()).count();
    assert!(cs.liquidation_events >= 20, "{cs:?}");
    assert!(liquidated >= 20);
    assert_eq!(
        after_kill.keys().copied().collect::<Vec<_>>(),
        vec![keeper(3)]
    );
    assert!(after_kill[&keeper(3)] > 0);
    let by_keepers: u64 = stats.iter().map(|k| k.liquidations).sum();
    assert_eq!(by_keepers, cs.liquidation_events);
    // Killed keepers stopped where they were killed.
    assert_eq!(stats[0].steps, killed[0].steps);
    assert_eq!(stats[1].steps, killed[1].steps);
    assert!(stats[2].steps > stats[0].steps);

    // Duplicates were sent (three keepers saw the same candidates) and each was refused as a
    // stale keeper transaction, without changing the state.
    let dup = cs.refused_of("Liquidate");
    assert!(dup > 0, "{cs:?}");
    for (k, v) in &cs.refusals {
        assert!(
            matches!(
                k.as_str(),
                "Liquidate/UnknownPosition"
                    | "Liquidate/NotLiquidatable"
                    | "Liquidate/LiquidationCooldown"
                    | "Deleverage/NothingToDeleverage"
            ),
            "unexpected refusal {k} × {v}"
        );
    }
    // The long whale was liquidated stepwise while three keepers ran: the same step sent three
    // times in one block, applied once.
    assert!(
        cs.refusals.contains_key("Liquidate/LiquidationCooldown"),
        "{cs:?}"
    );
    assert_eq!(cs.refusals_verified, cs.refused);
    assert_eq!(cs.refusals_that_changed_state, 0);
    assert_eq!(ack_timeouts, 0);
    eprintln!(
        "{replication:?}: positions {n} + 2 whales, liquidated {liquidated} (left {}), liquidation events {}, deficits {}, \
         Liquidate applied {}, refused {} {:?}, after kill by keeper 3: {}",
        s.positions.len(),
        cs.liquidation_events,
        cs.deficit_events,
        cs.applied_by_kind.get("Liquidate").copied().unwrap_or(0),
        dup,
        cs.refusals,
        after_kill[&keeper(3)],
    );
    for (i, k) in stats.iter().enumerate() {
        eprintln!("keeper {}: {k:?}", i + 1);
    }
}

#[test]
fn a_keeper_restarted_from_scratch_catches_up() {
    let (w, _) = leveraged_world(40);
    let mut net = Network::new(chain_of(w, false), NetworkConfig::default());
    let first = net.spawn(KeeperConfig::new(keeper(1)));
    let path = down_and_up();
    // Two steps down with the keeper, then it dies for two more steps.
    for (i, (target, blocks)) in path.iter().take(4).enumerate() {
        if i == 2 {
            net.kill(first);
        }
        if let Some(tx) = swap_to(net.chain().state(), addr(MOVER), 0, *target) {
            net.submit(tx);
        }
        net.run(*blocks).unwrap();
    }
    let backlog = liquidatable(net.chain().state());
    assert!(
        !backlog.is_empty(),
        "positions pile up while no keeper runs"
    );
    // A new keeper, knowing nothing: it builds its index from the state and clears the backlog.
    let fresh = net.spawn(KeeperConfig::new(keeper(2)));
    net.run(3).unwrap();
    let st = net.stats(fresh).unwrap();
    assert_eq!(st.rebuilds, 1, "one build at start, then events only");
    for id in &backlog {
        assert!(
            net.chain().state().position(*id).is_none()
                || !liquidatable(net.chain().state()).contains(id),
            "position {id} still liquidatable"
        );
    }
    // And it keeps up for the rest of the path.
    for (target, blocks) in path.iter().skip(4) {
        if let Some(tx) = swap_to(net.chain().state(), addr(MOVER), 0, *target) {
            net.submit(tx);
        }
        net.run(*blocks).unwrap();
    }
    let (chain, stats) = net.shutdown();
    assert!(liquidatable(chain.state()).is_empty());
    assert!(stats[1].liquidations >= backlog.len() as u64);
    assert_eq!(stats[1].rebuilds, 1);
    eprintln!(
        "backlog when restarted: {}, fresh keeper: {:?}",
        backlog.len(),
        stats[1]
    );
}

/// The main scenario with inline keepers stepped in a fixed order: the final state hash.
fn inline_run(
    n: usize,
) -> (
    [u8; 32],
    azex_keeper::ChainStats,
    Vec<azex_keeper::KeeperStats>,
) {
    let (w, _) = leveraged_world(n);
    let mut net = Network::new(chain_of(w, false), NetworkConfig::default());
    let ks: Vec<_> = (1..=3)
        .map(|i| net.add_inline(KeeperConfig::new(keeper(i))))
        .collect();
    for (step, (target, blocks)) in down_and_up().iter().enumerate() {
        if step == 5 {
            net.kill(ks[0]);
            net.kill(ks[1]);
        }
        if let Some(tx) = swap_to(net.chain().state(), addr(MOVER), 0, *target) {
            net.submit(tx);
        }
        net.run(*blocks).unwrap();
    }
    let (chain, stats) = net.shutdown();
    assert!(liquidatable(chain.state()).is_empty());
    (chain.state().hash(), chain.stats().clone(), stats)
}

#[test]
fn inline_runs_are_deterministic() {
    let a = inline_run(60);
    let b = inline_run(60);
    assert_eq!(a.0, b.0, "final state hash");
    assert_eq!(a.1, b.1);
    assert_eq!(a.2, b.2);
    assert!(a.1.liquidation_events > 0);
    // In a fixed order the first keeper always wins; the others' copies are refused.
    assert_eq!(a.2[1].liquidations, 0);
    assert!(a.2[1].own_refused > 0);
    eprintln!(
        "final hash {}, chain {:?}",
        alloy_primitives::hex::encode(a.0),
        a.1
    );
}

#[test]
fn congested_blocks_delay_but_do_not_lose_liquidations() {
    // Blocks take at most 3 transactions; keepers send at most 4 each per block and re-send
    // what found no receipt within 3 blocks. The backlog is worked off in arrival order.
    let (w, _) = leveraged_world(60);
    let chain = azex_keeper::LocalChain::new(
        w.state,
        azex_keeper::ChainConfig {
            max_txs_per_block: Some(3),
            ..Default::default()
        },
    )
    .unwrap();
    let mut net = Network::new(chain, NetworkConfig::default());
    for i in 1..=3 {
        net.add_inline(KeeperConfig {
            max_txs_per_block: 4,
            inflight_ttl: 3,
            ..KeeperConfig::new(keeper(i))
        });
    }
    for (target, blocks) in down_and_up() {
        if let Some(tx) = swap_to(net.chain().state(), addr(MOVER), 0, target) {
            net.submit(tx);
        }
        net.run(blocks).unwrap();
    }
    // Drain what is still queued, then a few quiet blocks.
    let mut extra = 0;
    while net.chain_mut().pending() > 0 || !liquidatable(net.chain().state()).is_empty() {
        net.step().unwrap();
        extra += 1;
        assert!(extra < 200, "backlog never clears");
    }
    let (chain, stats) = net.shutdown();
    assert!(liquidatable(chain.state()).is_empty());
    assert!(chain.stats().liquidation_events >= 20);
    let expired: u64 = stats.iter().map(|s| s.expired).sum();
    assert!(
        expired > 0,
        "the queue was long enough for receipts to be late"
    );
    eprintln!(
        "congested: {} liquidations, {} refusals, {} keeper txs expired and re-sent, {} extra \
         blocks, {} deficit events",
        chain.stats().liquidation_events,
        chain.stats().refused,
        expired,
        extra,
        chain.stats().deficit_events
    );
}
