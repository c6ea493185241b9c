//! Crash loop: under load, `kill -9` the node process at random moments, restart it on the same
//! data directory, and check that every transaction acknowledged as committed is still there;
//! at the end replay the whole log from genesis, checking every block's state hash (the node
//! also does so at every start).
//!
//! The node writes a snapshot every 5 blocks (100 ms of 20 ms blocks), so most restarts load a
//! snapshot and replay only the log after it (a kill may also land in the middle of a snapshot
//! write: the temp file is ignored); the test checks that restarts do go through snapshots, and
//! that the last one reaches the state hash the replay from genesis computes at the same height.
//!
//! Bounded for CI: `AZEX_CRASH_ITERS` kills (default 50), each after a random 30–300 ms of load.
//! Longer run: `AZEX_CRASH_ITERS=1000 cargo test -p azex-node --release --test crash -- --nocapture`.

use alloy_primitives::B256;
use azex_client::{Client, Sender};
use azex_exchange::units::USD_ONE;
use azex_exchange::Tx;
use azex_node::genesis::dev_key;
use azex_node::log::BlockLog;
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The caller kills and waits for the returned child.
#[allow(clippy::zombie_processes)]
fn spawn(data: &Path) -> (Child, String) {
    let _ = std::fs::remove_file(data.join("node.addr"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_azex-node"))
        .args([
            "run",
            "--port",
            "0",
            "--block-time-ms",
            "20",
            "--no-rate-limits",
            "--snapshot-every",
            "5",
            "--data",
        ])
        .arg(data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn azex-node");
    let t0 = Instant::now();
    loop {
        if let Ok(a) = std::fs::read_to_string(data.join("node.addr")) {
            let url = format!("http://{a}");
            if Client::new(&url).status().is_ok() {
                return (child, url);
            }
        }
        if t0.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("node did not start");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The height of the snapshot the node started from (0: genesis), from `/metrics`.
fn startup_snapshot(url: &str) -> u64 {
    let text = ureq::get(&format!("{url}/metrics"))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("azex_startup_snapshot_height "))
        .and_then(|v| v.trim().parse().ok())
        .expect("azex_startup_snapshot_height in /metrics")
}

#[test]
fn kill_nine_loop() {
    let iters: u32 = std::env::var("AZEX_CRASH_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let data: PathBuf = std::env::temp_dir().join(format!("azex-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(12);
    let acked: Arc<Mutex<Vec<B256>>> = Arc::default();
    let mut checked = 0usize;
    let mut from_snapshot = 0u32;
    let t0 = Instant::now();
    for it in 0..iters {
        let (mut child, url) = spawn(&data);
        if startup_snapshot(&url) > 0 {
            from_snapshot += 1;
        }
        // Everything acknowledged before the previous kill is here.
        let client = Client::new(&url);
        let all = acked.lock().unwrap().clone();
        for h in &all[checked..] {
            let r = client
                .tx(*h)
                .unwrap_or_else(|e| panic!("iteration {it}: acknowledged {h} lost: {e}"));
            assert_eq!(r["status"], "committed", "iteration {it}: {h}");
        }
        checked = all.len();
        // Load: four accounts sending and waiting for commit.
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for k in 1..=4u64 {
            let (url, stop, acked) = (url.clone(), stop.clone(), acked.clone());
            threads.push(std::thread::spawn(move || {
                let Ok(mut s) = Sender::connect(Client::new(&url), dev_key(k)) else {
                    return;
                };
                let me = s.address();
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) && i < 10_000 {
                    i += 1;
                    // Every 5th transaction is refused by the engine (still committed).
                    let tx = if i.is_multiple_of(5) {
                        Tx::RedeemAzusd {
                            user: me,
                            azusd: u128::MAX / 4,
                        }
                    } else {
                        Tx::MintAzusd {
                            user: me,
                            usdc: USD_ONE,
                        }
                    };
                    match s.send(tx, true) {
                        Ok(a) if a.status == "committed" => acked.lock().unwrap().push(a.hash),
                        Ok(_) => {}
                        Err(azex_client::ClientError::Transport(_)) => return,
                        Err(_) => {}
                    }
                }
            }));
        }
        std::thread::sleep(Duration::from_millis(rng.random_range(30..300)));
        child.kill().unwrap(); // SIGKILL
        let _ = child.wait();
        stop.store(true, Ordering::Relaxed);
        for t in threads {
            t.join().unwrap();
        }
    }
    // Final: restart once more and find everything; then replay from genesis.
    let (mut child, url) = spawn(&data);
    let client = Client::new(&url);
    let all = acked.lock().unwrap().clone();
    for h in &all[checked..] {
        assert_eq!(client.tx(*h).unwrap()["status"], "committed");
    }
    let last_snapshot = startup_snapshot(&url);
    let head = client.status().unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    // Replay from genesis checks every block's recorded state hash; the node restarted from a
    // snapshot reported the same hash at its height.
    let (st, hash) = azex_node::node::verify_dir(&data).unwrap();
    assert!(st.replayed_blocks >= head.height);
    if st.replayed_blocks == head.height {
        assert_eq!(hash, head.state_hash);
    }
    let (log, _) = azex_node::log::FileLog::open(&data).unwrap();
    let rec = log.reader().read(head.height - 1).unwrap().unwrap();
    let b: azex_client::Block = serde_json::from_slice(&rec).unwrap();
    assert_eq!(b.state_hash, head.state_hash);
    eprintln!(
        "{iters} kills, {from_snapshot} restarts from a snapshot (the last from block {last_snapshot}), {} acknowledged transactions all found, {} blocks replayed from genesis with matching state hashes, {:.1} s",
        all.len(),
        st.replayed_blocks,
        t0.elapsed().as_secs_f64()
    );
    assert!(all.len() > iters as usize, "the load made progress");
    assert!(
        last_snapshot > 0 && from_snapshot >= iters / 2,
        "restarts went through snapshots: {from_snapshot} of {iters}, last {last_snapshot}"
    );
    let _ = std::fs::remove_dir_all(&data);
}
