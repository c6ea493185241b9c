//! The load generator and the measurements of docs/benchmarks.md ("AZEx node").
//!
//! One run:
//! 1. **secp256k1 recovery rate** of this machine: recover the signer of pre-signed transactions
//!    (`SignedTx::verify`: EIP-712 hash + recovery + address) on one thread, then on every core;
//! 2. **the engine alone**: the same transactions through `chain::execute` on a fresh state, in
//!    blocks of the same size, without signatures, network or disk;
//! 3. **the node**: a node started in-process on loopback (its own data directory, fsync per
//!    block), fed pre-signed transactions over HTTP (`POST /v1/txs` batches) at a fixed rate or
//!    as fast as it takes them; each transaction's submit → durable-commit latency is taken when
//!    its block is published (after the fsync);
//! 4. **replay**: the node's log replayed from genesis with every state hash checked.

use crate::api::ApiLimits;
use crate::chain;
use crate::node::{start, NodeOptions};
use alloy_primitives::B256;
use azex_client::{Client, Key, SignedTx};
use azex_exchange::units::{QTY_ONE, USD_ONE, WAD};
use azex_exchange::{BlockCtx, State, Tx};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct LoadgenOptions {
    /// Data directory of the node the run starts (emptied first).
    pub data: PathBuf,
    /// Transactions per second (None: as fast as the node takes them).
    pub rate: Option<f64>,
    pub secs: f64,
    pub accounts: usize,
    pub block_time_ms: u64,
    /// `mint` (MintAzusd: the lightest transaction) or `trade` (OpenPosition on a listed market).
    pub mix: String,
    /// Transactions per HTTP batch (as fast as possible; at a fixed rate, what is due).
    pub batch: usize,
    /// Concurrent HTTP senders.
    pub senders: usize,
}

impl Default for LoadgenOptions {
    fn default() -> Self {
        LoadgenOptions {
            data: std::env::temp_dir().join("azex-loadgen"),
            rate: None,
            secs: 10.0,
            accounts: 1_000,
            block_time_ms: 100,
            mix: "mint".into(),
            batch: 256,
            senders: 2,
        }
    }
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LoadReport {
    pub cores: usize,
    pub recover_per_sec_one_core: f64,
    pub recover_per_sec_all_cores: f64,
    pub engine_tx_per_sec: f64,
    pub offered_rate: Option<f64>,
    pub submitted: u64,
    pub rejected: u64,
    pub committed: u64,
    pub applied: u64,
    pub secs: f64,
    pub committed_per_sec: f64,
    pub ratio_to_recover_all_cores: f64,
    pub ratio_to_engine: f64,
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
    pub latency_max_ms: f64,
    pub blocks: u64,
    pub block_time_ms: u64,
    pub replay_blocks: u64,
    pub replay_txs: u64,
    pub replay_secs: f64,
    pub log_bytes: u64,
}

fn keys(n: usize) -> Vec<Key> {
    (0..n as u64)
        .map(|i| Key::from_seed(1_000_000 + i))
        .collect()
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn tx_for(mix: &str, k: &Key, j: u64) -> Tx {
    let user = k.address();
    if mix == "trade" {
        let long = j.is_multiple_of(2);
        Tx::OpenPosition {
            user,
            market: 0,
            qty: if long {
                QTY_ONE as i128 / 100
            } else {
                -(QTY_ONE as i128) / 100
            },
            margin: 10 * USD_ONE,
            price_bound: if long { u128::MAX } else { 0 },
        }
    } else {
        Tx::MintAzusd { user, usdc: 1 }
    }
}

/// Sign `per_account` transactions for each key starting at nonce `first`, interleaved so that
/// sending them in order keeps each account's nonces in order. Uses every core.
pub fn presign(
    keys: &[Key],
    first: u64,
    per_account: u64,
    chain_id: u64,
    mix: &str,
) -> Vec<SignedTx> {
    let expiry = now_secs() + 3_600;
    let n = keys.len() as u64 * per_account;
    let cores = std::thread::available_parallelism()
        .map(|c| c.get())
        .unwrap_or(2);
    let chunk = n.div_ceil(cores as u64).max(1);
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..n)
            .step_by(chunk as usize)
            .map(|start| {
                s.spawn(move || {
                    (start..(start + chunk).min(n))
                        .map(|g| {
                            let a = (g % keys.len() as u64) as usize;
                            let j = g / keys.len() as u64;
                            let k = &keys[a];
                            k.sign(tx_for(mix, k, j), first + j, expiry, chain_id)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        hs.into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// Signer recoveries per second on `threads` threads.
pub fn recover_rate(txs: &[SignedTx], chain_id: u64, threads: usize) -> f64 {
    let t0 = Instant::now();
    let per = txs.len().div_ceil(threads).max(1);
    let ok: usize = std::thread::scope(|s| {
        let hs: Vec<_> = txs
            .chunks(per)
            .map(|c| s.spawn(move || c.iter().filter(|t| t.verify(chain_id).is_ok()).count()))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    });
    ok as f64 / t0.elapsed().as_secs_f64()
}

fn percentile(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

/// Run the whole measurement (see the module docs).
pub fn run(o: &LoadgenOptions) -> Result<LoadReport, String> {
    let cores = std::thread::available_parallelism()
        .map(|c| c.get())
        .unwrap_or(2);
    let mut rep = LoadReport {
        cores,
        block_time_ms: o.block_time_ms,
        offered_rate: o.rate,
        ..Default::default()
    };
    let chain_id = crate::DEFAULT_CHAIN_ID;
    let ks = keys(o.accounts.max(1));
    let lister = Key::from_seed(999_999);

    // 1. Recovery rate.
    // Best of three runs of 2,000 recoveries each (the machine may be shared).
    let sample = presign(&ks[..ks.len().min(200)], 0, 10, chain_id, "mint");
    for _ in 0..3 {
        rep.recover_per_sec_one_core = rep
            .recover_per_sec_one_core
            .max(recover_rate(&sample, chain_id, 1));
        rep.recover_per_sec_all_cores = rep
            .recover_per_sec_all_cores
            .max(recover_rate(&sample, chain_id, cores));
    }
    crate::warn_line!(
        "recover: {:.0}/s on one core, {:.0}/s on {cores}",
        rep.recover_per_sec_one_core,
        rep.recover_per_sec_all_cores
    );

    // Transactions: enough for the run at the offered (or a generous) rate.
    let target = o.rate.unwrap_or(rep.recover_per_sec_all_cores * 1.2) * o.secs;
    let per_account = ((target / ks.len() as f64).ceil() as u64).max(1);
    let first_nonce = if o.mix == "trade" { 1 } else { 0 };
    let txs = presign(&ks, first_nonce, per_account, chain_id, &o.mix);
    crate::warn_line!("signed {} transactions", txs.len());

    // Genesis: every account funded; the lister lists one market for `trade`.
    let mut addrs: Vec<_> = ks.iter().map(|k| k.address()).collect();
    addrs.push(lister.address());
    let genesis =
        crate::genesis::funded_genesis(&addrs, 1_000_000_000 * USD_ONE, 1_000_000 * QTY_ONE);

    // 2. The engine alone on the same transactions (after the same set-up).
    let _ = std::fs::remove_dir_all(&o.data);
    std::fs::create_dir_all(&o.data).map_err(|e| e.to_string())?;
    let gpath = o.data.join("genesis.in.json");
    std::fs::write(
        &gpath,
        serde_json::to_vec(&genesis).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let mut opts = NodeOptions::new(o.data.clone(), 0);
    opts.genesis = Some(gpath);
    opts.block_time_ms = o.block_time_ms;
    opts.api = ApiLimits::unlimited();
    opts.mempool.max_total = 1_000_000;
    opts.mempool.max_per_block = 200_000;
    let node = start(opts).map_err(|e| e.to_string())?;
    let url = node.url();
    let client = Client::new(&url);
    if o.mix == "trade" {
        let mut s = azex_client::Sender::connect(client.clone(), lister.clone())
            .map_err(|e| e.to_string())?;
        crate::setup::bootstrap(
            &mut s,
            &[crate::setup::MarketSpec {
                token: 1,
                price_wad: 2_000 * WAD,
                seed_azusd: 200_000_000 * USD_ONE,
            }],
            500_000_000 * USD_ONE,
        )
        .map_err(|e| e.to_string())?;
        // Each trader mints azUSD first (nonce 0).
        let expiry = now_secs() + 3_600;
        let mints: Vec<SignedTx> = ks
            .iter()
            .map(|k| {
                k.sign(
                    Tx::MintAzusd {
                        user: k.address(),
                        usdc: 1_000_000 * USD_ONE,
                    },
                    0,
                    expiry,
                    chain_id,
                )
            })
            .collect();
        for c in mints.chunks(o.batch.max(1)) {
            client.submit_batch(c).map_err(|e| e.to_string())?;
        }
        let want = client.status().map_err(|e| e.to_string())?.height + 3;
        while client.status().map_err(|e| e.to_string())?.height < want {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    {
        // Engine alone: copy the node's state now (same set-up) and run the transactions.
        let mut st: State = node.shared.state.read().map_err(|_| "lock")?.clone();
        let per_block =
            (rep.recover_per_sec_all_cores * o.block_time_ms as f64 / 1000.0).max(1.0) as usize;
        let t0 = Instant::now();
        let mut n = 0usize;
        let ts = st.block.timestamp;
        for (h, chunk) in (st.block.height + 1..).zip(txs.chunks(per_block)) {
            let _ = chain::execute(
                &mut st,
                BlockCtx {
                    height: h,
                    timestamp: ts,
                },
                chunk.iter().map(|t| &t.tx),
            )
            .map_err(|e| e.to_string())?;
            n += chunk.len();
            if t0.elapsed().as_secs_f64() > o.secs {
                break;
            }
        }
        rep.engine_tx_per_sec = n as f64 / t0.elapsed().as_secs_f64();
        crate::warn_line!("engine alone: {:.0} tx/s", rep.engine_tx_per_sec);
    }

    // 3. The node under load.
    let sent_at: Arc<Mutex<HashMap<B256, Instant>>> = Arc::default();
    let lat: Arc<Mutex<Vec<f64>>> = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    let mut rx = node.shared.blocks_tx.subscribe();
    let (lat2, sent2, done2) = (lat.clone(), sent_at.clone(), done.clone());
    let counts = Arc::new(Mutex::new((
        0u64,
        0u64,
        0u64,
        None::<Instant>,
        None::<Instant>,
    )));
    let counts2 = counts.clone();
    let observer = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        let Ok(rt) = rt else { return };
        rt.block_on(async move {
            loop {
                if done2.load(Ordering::Relaxed) {
                    break;
                }
                let r = tokio::time::timeout(Duration::from_millis(200), rx.recv()).await;
                let now = Instant::now();
                match r {
                    Ok(Ok(b)) => {
                        let mut sent = sent2.lock().unwrap_or_else(|e| e.into_inner());
                        let mut l = lat2.lock().unwrap_or_else(|e| e.into_inner());
                        let mut c = counts2.lock().unwrap_or_else(|e| e.into_inner());
                        c.2 += 1;
                        for t in &b.block.txs {
                            if let Some(s) = sent.remove(&t.hash) {
                                l.push(now.duration_since(s).as_secs_f64() * 1e3);
                                c.0 += 1;
                                if t.outcome.is_applied() {
                                    c.1 += 1;
                                }
                                c.3.get_or_insert(now);
                                c.4 = Some(now);
                            }
                        }
                    }
                    Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
                    Ok(Err(_)) => break,
                    Err(_) => {}
                }
            }
        });
    });
    let t0 = Instant::now();
    let senders = o.senders.max(1);
    let n_acc = ks.len();
    let submitted_c = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let rejected_c = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let error: Arc<Mutex<Option<String>>> = Arc::default();
    std::thread::scope(|sc| {
        for w in 0..senders {
            // Each sender owns the accounts a with a % senders == w: per-account nonce order holds.
            let mine: Vec<&SignedTx> = txs
                .iter()
                .enumerate()
                .filter(|(g, _)| (g % n_acc) % senders == w)
                .map(|(_, t)| t)
                .collect();
            let (client, sent_at, submitted_c, rejected_c, error) = (
                client.clone(),
                sent_at.clone(),
                submitted_c.clone(),
                rejected_c.clone(),
                error.clone(),
            );
            let shared = node.shared.clone();
            let rate = o.rate.map(|r| r / senders as f64);
            let batch = o.batch.max(1);
            let deadline = Duration::from_secs_f64(o.secs);
            sc.spawn(move || {
                let mut i = 0usize;
                while i < mine.len() && t0.elapsed() < deadline {
                    if let Some(rate) = rate {
                        let due = (t0.elapsed().as_secs_f64() * rate) as usize;
                        if due <= i {
                            std::thread::sleep(Duration::from_millis(2));
                            continue;
                        }
                    }
                    let end = if rate.is_some() {
                        let due = (t0.elapsed().as_secs_f64() * rate.unwrap_or(0.0)) as usize;
                        due.min(i + batch).min(mine.len()).max(i + 1)
                    } else {
                        (i + batch).min(mine.len())
                    };
                    let chunk: Vec<SignedTx> = mine[i..end].iter().map(|t| (*t).clone()).collect();
                    let now = Instant::now();
                    {
                        let mut s = sent_at.lock().unwrap_or_else(|e| e.into_inner());
                        for t in &chunk {
                            s.insert(t.hash(), now);
                        }
                    }
                    match client.submit_batch(&chunk) {
                        Ok(items) => {
                            for (t, it) in chunk.iter().zip(items) {
                                submitted_c.fetch_add(1, Ordering::Relaxed);
                                if it.error.is_some() {
                                    rejected_c.fetch_add(1, Ordering::Relaxed);
                                    sent_at
                                        .lock()
                                        .unwrap_or_else(|e| e.into_inner())
                                        .remove(&t.hash());
                                }
                            }
                        }
                        Err(e) => {
                            *error.lock().unwrap_or_else(|e| e.into_inner()) =
                                Some(format!("submit: {e}"));
                            return;
                        }
                    }
                    i = end;
                    if rate.is_none() {
                        while shared.metrics.mempool.load(Ordering::Relaxed) > 100_000 {
                            std::thread::sleep(Duration::from_millis(5));
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = error.lock().unwrap_or_else(|e| e.into_inner()).take() {
        return Err(e);
    }
    let submitted = submitted_c.load(Ordering::Relaxed);
    let rejected = rejected_c.load(Ordering::Relaxed);
    // Let the pending ones commit (bounded).
    let t_end = Instant::now();
    while !sent_at.lock().unwrap_or_else(|e| e.into_inner()).is_empty()
        && t_end.elapsed() < Duration::from_secs(30)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    done.store(true, Ordering::Relaxed);
    let _ = observer.join();
    let (committed, applied, blocks, first, last) =
        *counts.lock().unwrap_or_else(|e| e.into_inner());
    rep.submitted = submitted;
    rep.rejected = rejected;
    rep.committed = committed;
    rep.applied = applied;
    rep.blocks = blocks;
    // Throughput over the time the load lasted (first submission to last commit).
    let span = match (first, last) {
        (Some(_), Some(l)) => l.duration_since(t0).as_secs_f64(),
        _ => t0.elapsed().as_secs_f64(),
    };
    rep.secs = span;
    rep.committed_per_sec = committed as f64 / span.max(1e-9);
    rep.ratio_to_recover_all_cores =
        rep.committed_per_sec / rep.recover_per_sec_all_cores.max(1e-9);
    rep.ratio_to_engine = rep.committed_per_sec / rep.engine_tx_per_sec.max(1e-9);
    let mut l = lat.lock().unwrap_or_else(|e| e.into_inner()).clone();
    l.sort_by(|a, b| a.total_cmp(b));
    rep.latency_p50_ms = percentile(&l, 0.50);
    rep.latency_p99_ms = percentile(&l, 0.99);
    rep.latency_max_ms = l.last().copied().unwrap_or(0.0);
    node.stop();

    // 4. Replay from the log.
    rep.log_bytes = std::fs::metadata(o.data.join("blocks.log"))
        .map(|m| m.len())
        .unwrap_or(0);
    let (st, _) = crate::node::verify_dir(&o.data).map_err(|e| e.to_string())?;
    rep.replay_blocks = st.replayed_blocks;
    rep.replay_txs = st.replayed_txs;
    rep.replay_secs = st.replay_secs;
    Ok(rep)
}
