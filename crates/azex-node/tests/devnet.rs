//! `azex devnet` end to end (keepers as threads here): markets listed from the shipped data,
//! bots trade, the arbitrageur moves pools; stopped, started again on the same directory, it
//! resumes from the log.

use azex_node::devnet::{run, DevnetOptions};
use std::time::Duration;

#[test]
fn devnet_runs_and_resumes() {
    let dir = std::env::temp_dir().join(format!("azex-devnet-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut o = DevnetOptions::new(dir.clone(), 0);
    o.block_time_ms = 100;
    o.bar_ms = 300;
    o.run_for = Some(Duration::from_secs(12));
    run(&o).unwrap();
    let (st1, h1) = azex_node::node::verify_dir(&dir.join("node")).unwrap();
    assert!(st1.replayed_txs > 10, "bots sent transactions: {st1:?}");
    // Key files were generated.
    assert!(dir.join("keys/keeper-1.key").exists() && dir.join("keys/trader-1.key").exists());
    // Again on the same directory: resumes (no second listing), goes on.
    o.run_for = Some(Duration::from_secs(4));
    run(&o).unwrap();
    let (st2, _) = azex_node::node::verify_dir(&dir.join("node")).unwrap();
    assert!(st2.replayed_blocks > st1.replayed_blocks);
    let _ = h1;
    let _ = std::fs::remove_dir_all(&dir);
}
