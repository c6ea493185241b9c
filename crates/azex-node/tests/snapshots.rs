//! Snapshots in the node: written every N blocks once durable; a restart loads the newest valid
//! one and replays only the log after it, reaching the same state hash as a replay from genesis;
//! a corrupt snapshot falls back to the previous one, then to genesis; a snapshot that disagrees
//! with the log is never used.

#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_lossless
)] // test data is built with plain casts

use azex_client::{Client, Sender};
use azex_exchange::units::{QTY_ONE, USD_ONE, WAD};
use azex_exchange::Tx;
use azex_node::api::ApiLimits;
use azex_node::genesis::dev_key;
use azex_node::setup::{bootstrap, must, MarketSpec};
use azex_node::{start, NodeOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("azex-snap-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn opts(dir: &Path, every: u64) -> NodeOptions {
    let mut o = NodeOptions::new(dir.to_path_buf(), 0);
    o.block_time_ms = 20;
    o.api = ApiLimits::unlimited();
    o.snapshot_every = every;
    o.snapshot_keep = 3;
    o
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !f() {
        assert!(t0.elapsed() < Duration::from_secs(60), "timed out: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn restart_from_snapshot_matches_replay_from_genesis() {
    let dir = tmp("restart");
    let node = start(opts(&dir, 5)).unwrap();
    let client = Client::new(&node.url());
    let mut lister = Sender::connect(client.clone(), dev_key(1)).unwrap();
    bootstrap(
        &mut lister,
        &[MarketSpec {
            token: 1,
            price_wad: 2_000 * WAD,
            seed_azusd: 20_000_000 * USD_ONE,
        }],
        10_000_000 * USD_ONE,
    )
    .unwrap();
    // Traders with positions, so the snapshot holds markets, pools, positions and nonces.
    for k in 2..=4u64 {
        let mut t = Sender::connect(client.clone(), dev_key(k)).unwrap();
        let me = t.address();
        must(
            &mut t,
            Tx::MintAzusd {
                user: me,
                usdc: 100_000 * USD_ONE,
            },
        )
        .unwrap();
        for i in 0..3i128 {
            let side = if (k as i128 + i) % 2 == 0 { 1 } else { -1 };
            must(
                &mut t,
                Tx::OpenPosition {
                    user: me,
                    market: 0,
                    qty: side * QTY_ONE as i128 / 10,
                    margin: 100 * USD_ONE,
                    price_bound: if side > 0 { u128::MAX } else { 0 },
                },
            )
            .unwrap();
        }
    }
    let sh = &node.shared;
    wait_for("three snapshots", || {
        sh.metrics
            .snapshots
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 3
    });
    let last_ack = {
        let mut t = Sender::connect(client.clone(), dev_key(2)).unwrap();
        let me = t.address();
        must(&mut t, Tx::MintAzusd { user: me, usdc: 1 }).unwrap()
    };
    node.stop();
    let snaps = azex_node::snapshot::list(&dir);
    assert_eq!(snaps.len(), 3, "the newest three are kept: {snaps:?}");
    assert!(snaps.iter().all(|(h, _)| h % 5 == 0));

    let (genesis_replay, genesis_hash) = azex_node::node::verify_dir(&dir).unwrap();

    // 1. Restart from the newest snapshot.
    let node = start(opts(&dir, 5)).unwrap();
    let s = node.startup.clone();
    let newest = snaps[0].0;
    assert_eq!(s.snapshot_height, Some(newest));
    assert_eq!(s.snapshots_skipped, 0);
    assert_eq!(
        s.replayed_blocks,
        genesis_replay.replayed_blocks - newest,
        "only the log after the snapshot is replayed"
    );
    let client = Client::new(&node.url());
    let st = client.status().unwrap();
    assert_eq!(st.height, genesis_replay.replayed_blocks);
    assert_eq!(st.state_hash, genesis_hash);
    // Receipts and nonces survive: the used nonce is refused, the next one is taken.
    assert_eq!(client.tx(last_ack.hash).unwrap()["status"], "committed");
    let mut t = Sender::connect(client.clone(), dev_key(2)).unwrap();
    let me = t.address();
    must(&mut t, Tx::MintAzusd { user: me, usdc: 1 }).unwrap();
    node.stop();
    let (genesis_replay, genesis_hash) = azex_node::node::verify_dir(&dir).unwrap();

    // 2. The newest snapshot corrupt: the previous one is used.
    let snaps = azex_node::snapshot::list(&dir);
    let mut b = std::fs::read(&snaps[0].1).unwrap();
    let n = b.len();
    b[n / 2] ^= 0x10;
    std::fs::write(&snaps[0].1, &b).unwrap();
    let node = start(opts(&dir, 0)).unwrap();
    assert_eq!(node.startup.snapshot_height, Some(snaps[1].0));
    assert_eq!(node.startup.snapshots_skipped, 1);
    assert_eq!(
        node.shared.head(),
        (genesis_replay.replayed_blocks, genesis_hash)
    );
    node.stop();

    // 3. A snapshot that disagrees with the log (another height's state under this name) and a
    //    truncated one: both skipped; the oldest valid one is used.
    std::fs::copy(&snaps[2].1, &snaps[1].1).unwrap();
    let node = start(opts(&dir, 0)).unwrap();
    assert_eq!(node.startup.snapshot_height, Some(snaps[2].0));
    assert_eq!(node.startup.snapshots_skipped, 2);
    assert_eq!(
        node.shared.head(),
        (genesis_replay.replayed_blocks, genesis_hash)
    );
    node.stop();

    // 4. All corrupt: replay from genesis, same state.
    let b = std::fs::read(&snaps[2].1).unwrap();
    std::fs::write(&snaps[2].1, &b[..b.len() - 7]).unwrap();
    let node = start(opts(&dir, 0)).unwrap();
    assert_eq!(node.startup.snapshot_height, None);
    assert_eq!(node.startup.replayed_blocks, genesis_replay.replayed_blocks);
    assert_eq!(
        node.shared.head(),
        (genesis_replay.replayed_blocks, genesis_hash)
    );
    node.stop();

    // 5. A snapshot above the log's end (its block never became durable) is deleted.
    let ahead = azex_node::snapshot::dir(&dir).join(format!(
        "snap-{:020}.bin",
        genesis_replay.replayed_blocks + 100
    ));
    std::fs::copy(&snaps[2].1, &ahead).unwrap();
    let node = start(opts(&dir, 0)).unwrap();
    assert!(!ahead.exists());
    node.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
