//! The keeper process: a [`Follower`] (its own replica of the chain, every block replayed and
//! checked), the `azex-keeper` logic on it (liquidation index, plan), and signed submissions of
//! what it plans. It needs no funds: liquidation rewards are paid to it.

use crate::follower::{FollowError, Follower};
use azex_client::{Client, Key, Sender};
use azex_exchange::Tx;
use azex_keeper::{Keeper, KeeperConfig, KeeperStats};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Options of `azex keeper`.
#[derive(Debug, Clone)]
pub struct KeeperOptions {
    /// URL of the node's HTTP API.
    pub node: String,
    /// Key file (created if missing).
    pub key: PathBuf,
    /// Stop at this height (None: until stopped).
    pub until_height: Option<u64>,
    /// No progress lines and no per-transaction send errors (connection retries are still
    /// reported).
    pub quiet: bool,
}

/// What a keeper did, returned when it stops.
#[derive(Debug, Clone, Default)]
pub struct KeeperReport {
    /// The `azex-keeper` logic's counters.
    pub stats: KeeperStats,
    /// Transactions the node accepted into its mempool.
    pub sent: u64,
    /// Transactions whose submission failed.
    pub send_errors: u64,
    /// Height of the newest block the keeper's follower replayed.
    pub height: u64,
}

/// Why a keeper stopped.
#[derive(Debug, thiserror::Error)]
pub enum KeeperProcessError {
    /// The key file could not be read or created.
    #[error("{0}")]
    Key(#[from] azex_client::key::KeyError),
    /// Following the chain failed (other than an unreachable node, which is retried).
    #[error("{0}")]
    Follow(#[from] FollowError),
    /// The keeper logic failed.
    #[error("keeper: {0}")]
    Keeper(#[from] azex_keeper::KeeperError),
}

/// Run a keeper until `stop` (or `until_height`).
pub fn run_keeper(
    opts: &KeeperOptions,
    stop: &AtomicBool,
) -> Result<KeeperReport, KeeperProcessError> {
    let key = Key::load_or_create(&opts.key)?;
    let addr = key.address();
    let mut follower = loop {
        match Follower::connect(&opts.node) {
            Ok(f) => break f,
            Err(FollowError::Client(e)) if !stop.load(Ordering::Relaxed) => {
                crate::warn_line!("azex keeper: {e}; retrying");
                std::thread::sleep(Duration::from_millis(500));
            }
            Err(e) => return Err(e.into()),
        }
    };
    let mut sender = None;
    let mut keeper = Keeper::new(KeeperConfig::new(addr));
    let mut rep = KeeperReport::default();
    if !opts.quiet {
        crate::say!("keeper {addr} following {}", opts.node);
    }
    while !stop.load(Ordering::Relaxed) {
        match follower.poll(500) {
            Ok(0) => continue,
            Ok(_) => {}
            Err(FollowError::Client(e)) => {
                crate::warn_line!("azex keeper: {e}; retrying");
                std::thread::sleep(Duration::from_millis(300));
                continue;
            }
            Err(e) => return Err(e.into()),
        }
        let sink: Mutex<Vec<Tx>> = Mutex::new(Vec::new());
        let step = keeper.step(&follower, &sink)?;
        let txs = sink.into_inner().unwrap_or_default();
        if !txs.is_empty() {
            if sender.is_none() {
                match Sender::connect(Client::new(&opts.node), key.clone()) {
                    Ok(s) => sender = Some(s),
                    Err(e) => {
                        crate::warn_line!("azex keeper: {e}");
                        continue;
                    }
                }
            }
            if let Some(s) = sender.as_mut() {
                for tx in txs {
                    match s.send(tx, false) {
                        Ok(_) => rep.sent += 1,
                        Err(e) => {
                            rep.send_errors += 1;
                            if !opts.quiet {
                                crate::warn_line!("azex keeper: send: {e}");
                            }
                        }
                    }
                }
            }
        }
        if !opts.quiet && !step.submitted.is_empty() {
            crate::say!(
                "height {}: {} candidates, {} sent",
                step.height,
                step.candidates,
                step.submitted.len()
            );
        }
        rep.height = follower.height();
        if let Some(h) = opts.until_height {
            if rep.height >= h {
                break;
            }
        }
    }
    rep.stats = keeper.into_stats();
    Ok(rep)
}

/// Set `stop` on Ctrl-C or SIGTERM (a small runtime thread).
pub fn stop_on_signal(stop: std::sync::Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{signal, SignalKind};
                if let Ok(mut term) = signal(SignalKind::terminate()) {
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        _ = term.recv() => {}
                    }
                } else {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
            #[cfg(not(unix))]
            let _ = tokio::signal::ctrl_c().await;
        });
        stop.store(true, Ordering::SeqCst);
    });
}
