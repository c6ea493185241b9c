//! The load generator and the measurements of docs/benchmarks.md ("AZEx node").
//!
//! One run:
//! 1. **secp256k1 recovery rate** of this machine: recover the signer of pre-signed transactions
//!    (`SignedTx::verify`: EIP-712 hash + recovery + address) on one thread, then on every core,
//!    best of three runs of 4,000; measured again after step 3, and the better of the two is the
//!    reference (the speed of a shared machine drifts within minutes);
//! 2. **the engine alone**: the same transactions through `chain::execute` on a fresh state, in
//!    blocks of the same size, without signatures, network or disk;
//! 3. **the node**: a node started in-process on loopback (its own data directory, fsync per
//!    block), fed pre-signed transactions over HTTP (`POST /v1/txs` batches) at a fixed rate or
//!    as fast as it takes them; each transaction's submit → durable-commit latency is taken when
//!    its block is published (after the fsync);
//! 4. **replay**: the node's log replayed from genesis with every state hash checked.

use crate::api::ApiLimits;
use crate::chain;
use crate::node::{start, CachedBlock, NodeHandle, NodeOptions, Shared};
use alloy_primitives::B256;
use azex_client::{Block, Client, ClientError, Key, SignedTx};
use azex_exchange::units::{QTY_ONE, USD_ONE, WAD};
use azex_exchange::{BlockCtx, State, Tx};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The load mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mix {
    /// `MintAzusd` of one micro-USDC: the lightest transaction.
    Mint,
    /// `OpenPosition` on a listed market, alternately long and short.
    Trade,
}

/// Options of a load-generator run (`azex loadgen`, `azex-node loadgen`).
#[derive(Debug, Clone, clap::Args)]
pub struct LoadgenOptions {
    /// Data directory of the node the run starts (emptied first).
    #[arg(long, default_value_os_t = std::env::temp_dir().join("azex-loadgen"))]
    pub data: PathBuf,
    /// Transactions per second (default: as fast as the node takes them).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Seconds of load.
    #[arg(long, default_value_t = 10.0)]
    pub secs: f64,
    /// Signing accounts.
    #[arg(long, default_value_t = 1_000)]
    pub accounts: usize,
    /// The node's block time.
    #[arg(long, default_value_t = 100)]
    pub block_time_ms: u64,
    /// What the transactions are.
    #[arg(long, value_enum, default_value_t = Mix::Mint)]
    pub mix: Mix,
    /// Transactions per HTTP batch (as fast as possible; at a fixed rate, what is due).
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// Concurrent HTTP senders.
    #[arg(long, default_value_t = 4)]
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
            mix: Mix::Mint,
            batch: 256,
            senders: 4,
        }
    }
}

/// The figures of a load-generator run (printed as JSON).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LoadReport {
    /// Cores of this machine (`available_parallelism`).
    pub cores: usize,
    /// Recovery on one core: the best of the measurements before and after the load.
    pub recover_per_sec_one_core: f64,
    /// Recovery on every core: the best of the measurements before and after the load (the
    /// reference of `ratio_to_recover_all_cores`; the machine's speed drifts between runs).
    pub recover_per_sec_all_cores: f64,
    /// Recovery on every core, per second, before the load.
    pub recover_per_sec_all_cores_before: f64,
    /// Recovery on every core, per second, after the load.
    pub recover_per_sec_all_cores_after: f64,
    /// The engine alone (`chain::execute`; no signatures, network or disk), transactions per
    /// second.
    pub engine_tx_per_sec: f64,
    /// The offered rate, transactions per second (`None`: as fast as the node takes them).
    pub offered_rate: Option<f64>,
    /// Transactions submitted over HTTP.
    pub submitted: u64,
    /// Of those, refused at admission.
    pub rejected: u64,
    /// Submitted transactions seen in durable blocks.
    pub committed: u64,
    /// Of those, applied by the engine (the rest refused).
    pub applied: u64,
    /// Duration of the load, seconds: from its start to the last commit seen.
    pub secs: f64,
    /// `committed` / `secs`.
    pub committed_per_sec: f64,
    /// `committed_per_sec` / `recover_per_sec_all_cores`.
    pub ratio_to_recover_all_cores: f64,
    /// `committed_per_sec` / `engine_tx_per_sec`.
    pub ratio_to_engine: f64,
    /// Submit → durable-commit latency, median, ms.
    pub latency_p50_ms: f64,
    /// Submit → durable-commit latency, 99th percentile, ms.
    pub latency_p99_ms: f64,
    /// Submit → durable-commit latency, maximum, ms.
    pub latency_max_ms: f64,
    /// Blocks published during the load.
    pub blocks: u64,
    /// The node's block time, ms.
    pub block_time_ms: u64,
    /// Blocks replayed from the log after the run.
    pub replay_blocks: u64,
    /// Transactions in those blocks.
    pub replay_txs: u64,
    /// Time the replay took, seconds.
    pub replay_secs: f64,
    /// Size of the block log after the run, bytes.
    pub log_bytes: u64,
    /// The node's own timings over the run are histogram bucket bounds (ms), here the 99th
    /// percentile block build (mempool, execution, encoding): its bucket's upper bound, ms.
    pub node_block_build_p99_ms_le: f64,
    /// The 99th percentile group commit (append + fsync), its bucket's upper bound, ms.
    pub node_log_fsync_p99_ms_le: f64,
    /// The 99th percentile block end-of-build → durable publication, its bucket's upper bound,
    /// ms.
    pub node_block_to_durable_p99_ms_le: f64,
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

/// Size of each trade of the `trade` mix: 0.01 token (`QTY_ONE / 100`, in base units).
const TRADE_QTY: i128 = 10_000_000_000_000_000;
const _: () = assert!(QTY_ONE / 100 == TRADE_QTY.unsigned_abs());

fn tx_for(mix: Mix, k: &Key, j: u64) -> Tx {
    let user = k.address();
    if mix == Mix::Trade {
        let long = j.is_multiple_of(2);
        Tx::OpenPosition {
            user,
            market: 0,
            qty: if long { TRADE_QTY } else { -TRADE_QTY },
            margin: 10 * USD_ONE,
            price_bound: if long { u128::MAX } else { 0 },
        }
    } else {
        Tx::MintAzusd { user, usdc: 1 }
    }
}

/// Sign `per_account` transactions for each key starting at nonce `first`, interleaved so that
/// sending them in order keeps each account's nonces in order. Uses every core.
pub(crate) fn presign(
    keys: &[Key],
    first: u64,
    per_account: u64,
    chain_id: u64,
    mix: Mix,
) -> Vec<SignedTx> {
    let expiry = now_secs() + 3_600;
    let n = keys.len() as u64 * per_account;
    let cores = std::thread::available_parallelism()
        .map(|c| c.get())
        .unwrap_or(2);
    let chunk = n.div_ceil(cores as u64).max(1);
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..n)
            .step_by(usize::try_from(chunk).unwrap_or(usize::MAX))
            .map(|start| {
                s.spawn(move || {
                    (start..(start + chunk).min(n))
                        .map(|g| {
                            let a = usize::try_from(g % keys.len() as u64)
                                .expect("below keys.len(), a usize");
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
pub(crate) fn recover_rate(txs: &[SignedTx], chain_id: u64, threads: usize) -> f64 {
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
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "the nearest rank, in [0, len - 1] for p in [0, 1]"
    )]
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

    // 1. Recovery rate (again after the load: the reference is the better of the two).
    let sample = presign(&ks[..ks.len().min(200)], 0, 20, chain_id, Mix::Mint);
    let (one, all) = measure_recovery(&sample, chain_id, cores);
    rep.recover_per_sec_one_core = one;
    rep.recover_per_sec_all_cores = all;
    rep.recover_per_sec_all_cores_before = all;

    // Transactions: enough for the run at the offered (or a generous) rate.
    let target = o.rate.unwrap_or(rep.recover_per_sec_all_cores * 1.2) * o.secs;
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a count rounded up from a rate × seconds (saturating `as`)"
    )]
    let per_account = ((target / ks.len() as f64).ceil() as u64).max(1);
    let first_nonce = if o.mix == Mix::Trade { 1 } else { 0 };
    let txs = presign(&ks, first_nonce, per_account, chain_id, o.mix);
    crate::warn_line!("signed {} transactions", txs.len());

    // 2. The engine alone on the same transactions (after the same set-up).
    let node = start_node(o, &ks, &lister)?;
    let client = Client::new(&node.url());
    if o.mix == Mix::Trade {
        set_up_trading(o, &client, &lister, &ks, chain_id)?;
    }
    measure_engine_alone(o, &node, &txs, &mut rep)?;

    // 3. The node under load.
    measure_node(o, &node, &client, &txs, &mut rep)?;
    let m = &node.shared.metrics;
    let ms = |h: &crate::metrics::Histogram| h.quantile_bound_us(0.99) as f64 / 1e3;
    rep.node_block_build_p99_ms_le = ms(&m.block_build);
    rep.node_log_fsync_p99_ms_le = ms(&m.log_fsync);
    rep.node_block_to_durable_p99_ms_le = ms(&m.block_to_durable);
    node.stop();
    let (one, all) = measure_recovery(&sample, chain_id, cores);
    rep.recover_per_sec_all_cores_after = all;
    rep.recover_per_sec_one_core = rep.recover_per_sec_one_core.max(one);
    rep.recover_per_sec_all_cores = rep.recover_per_sec_all_cores.max(all);
    node_ratios(&mut rep);

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

/// Best of three runs over `sample` (4,000 signatures), on one thread and on `cores`.
fn measure_recovery(sample: &[SignedTx], chain_id: u64, cores: usize) -> (f64, f64) {
    let (mut one, mut all) = (0f64, 0f64);
    for _ in 0..3 {
        one = one.max(recover_rate(sample, chain_id, 1));
        all = all.max(recover_rate(sample, chain_id, cores));
    }
    crate::warn_line!("recover: {one:.0}/s on one core, {all:.0}/s on {cores}");
    (one, all)
}

/// A node on an emptied `o.data`, without rate limits, whose genesis funds every account and
/// the lister.
fn start_node(o: &LoadgenOptions, ks: &[Key], lister: &Key) -> Result<NodeHandle, String> {
    let mut addrs: Vec<_> = ks.iter().map(|k| k.address()).collect();
    addrs.push(lister.address());
    let genesis =
        crate::genesis::funded_genesis(&addrs, 1_000_000_000 * USD_ONE, 1_000_000 * QTY_ONE);
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
    start(opts).map_err(|e| e.to_string())
}

/// The `trade` mix: the lister lists one market, each trader mints azUSD first (nonce 0);
/// returns three blocks later.
fn set_up_trading(
    o: &LoadgenOptions,
    client: &Client,
    lister: &Key,
    ks: &[Key],
    chain_id: u64,
) -> Result<(), String> {
    let mut s =
        azex_client::Sender::connect(client.clone(), lister.clone()).map_err(|e| e.to_string())?;
    let market = crate::setup::MarketSpec {
        token: 1,
        price_wad: 2_000 * WAD,
        seed_azusd: 200_000_000 * USD_ONE,
    };
    crate::setup::bootstrap(&mut s, &[market], 500_000_000 * USD_ONE).map_err(|e| e.to_string())?;
    let expiry = now_secs() + 3_600;
    let mints: Vec<SignedTx> = ks
        .iter()
        .map(|k| {
            let usdc = 1_000_000 * USD_ONE;
            k.sign(
                Tx::MintAzusd {
                    user: k.address(),
                    usdc,
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
    Ok(())
}

/// The engine alone: a copy of the node's state now (same set-up) runs the transactions in
/// blocks of what all cores recover in a block time, for at most `o.secs`.
fn measure_engine_alone(
    o: &LoadgenOptions,
    node: &NodeHandle,
    txs: &[SignedTx],
    rep: &mut LoadReport,
) -> Result<(), String> {
    let mut st: State = node.shared.state.read().map_err(|_| "lock")?.clone();
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a block size rounded down from a rate × block time (saturating `as`)"
    )]
    let per_block =
        (rep.recover_per_sec_all_cores * o.block_time_ms as f64 / 1000.0).max(1.0) as usize;
    let t0 = Instant::now();
    let mut n = 0usize;
    let ts = st.block.timestamp;
    for (h, chunk) in (st.block.height + 1..).zip(txs.chunks(per_block)) {
        let ctx = BlockCtx {
            height: h,
            timestamp: ts,
        };
        let _ =
            chain::execute(&mut st, ctx, chunk.iter().map(|t| &t.tx)).map_err(|e| e.to_string())?;
        n += chunk.len();
        if t0.elapsed().as_secs_f64() > o.secs {
            break;
        }
    }
    rep.engine_tx_per_sec = n as f64 / t0.elapsed().as_secs_f64();
    crate::warn_line!("engine alone: {:.0} tx/s", rep.engine_tx_per_sec);
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the observer counted of the submitted transactions.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    committed: u64,
    applied: u64,
    blocks: u64,
    first_commit: Option<Instant>,
    last_commit: Option<Instant>,
}

/// The load phase's shared figures: the senders' side and the observer's.
#[derive(Default)]
struct Load {
    /// Submitted and not yet committed: when.
    sent_at: Mutex<HashMap<B256, Instant>>,
    /// Submit → durable commit, milliseconds.
    latencies: Mutex<Vec<f64>>,
    counts: Mutex<Counts>,
    submitted: AtomicU64,
    rejected: AtomicU64,
    /// A sender's failure (the run stops).
    error: Mutex<Option<String>>,
    /// Stops the observer.
    done: AtomicBool,
}

impl Load {
    /// A published (durable) block: the latency of each of our transactions in it.
    fn record_block(&self, b: &Block, now: Instant) {
        let mut sent = lock(&self.sent_at);
        let mut l = lock(&self.latencies);
        let mut c = lock(&self.counts);
        c.blocks += 1;
        for t in &b.txs {
            if let Some(s) = sent.remove(&t.hash) {
                l.push(now.duration_since(s).as_secs_f64() * 1e3);
                c.committed += 1;
                if t.outcome.is_applied() {
                    c.applied += 1;
                }
                c.first_commit.get_or_insert(now);
                c.last_commit = Some(now);
            }
        }
    }
}

/// The node under load: the observer takes each published block, the senders submit the
/// transactions at the offered rate (or as fast as the node takes them) for `o.secs`, then the
/// pending ones get up to 30 s to commit.
fn measure_node(
    o: &LoadgenOptions,
    node: &NodeHandle,
    client: &Client,
    txs: &[SignedTx],
    rep: &mut LoadReport,
) -> Result<(), String> {
    let load = Arc::new(Load::default());
    let observer = observe(node.shared.blocks_tx.subscribe(), load.clone());
    let shares = shares(o, txs);
    let t0 = Instant::now();
    send_all(o, node, client, &shares, t0, &load);
    if let Some(e) = lock(&load.error).take() {
        return Err(e);
    }
    // Let the pending ones commit (bounded).
    let t_end = Instant::now();
    while !lock(&load.sent_at).is_empty() && t_end.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    load.done.store(true, Ordering::Relaxed);
    let _ = observer.join();
    node_figures(&load, t0, rep);
    Ok(())
}

/// A thread that records every published block in `load` until `load.done`.
fn observe(
    mut rx: tokio::sync::broadcast::Receiver<Arc<CachedBlock>>,
    load: Arc<Load>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        let Ok(rt) = rt else { return };
        rt.block_on(async move {
            while !load.done.load(Ordering::Relaxed) {
                let r = tokio::time::timeout(Duration::from_millis(200), rx.recv()).await;
                let now = Instant::now();
                match r {
                    Ok(Ok(b)) => load.record_block(&b.block, now),
                    Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
                    Ok(Err(_)) => break,
                    Err(_) => {}
                }
            }
        });
    })
}

/// How a sender paces itself.
#[derive(Debug, Clone, Copy)]
struct Pace {
    t0: Instant,
    /// This sender's share of the offered rate (None: as fast as possible).
    rate: Option<f64>,
    batch: usize,
    deadline: Duration,
}

/// A signed transaction as the senders send it: its hash and its JSON, both computed before
/// the clock starts (a client elsewhere would pay for them, not this machine's node).
struct Wire {
    hash: B256,
    json: Vec<u8>,
}

impl Wire {
    fn of(t: &SignedTx) -> Wire {
        Wire {
            hash: t.hash(),
            json: serde_json::to_vec(t).unwrap_or_default(),
        }
    }
}

/// The senders' shares: sender `w` owns the accounts `a` with `a % senders == w`, so that each
/// account's nonces stay in order.
fn shares(o: &LoadgenOptions, txs: &[SignedTx]) -> Vec<Vec<Wire>> {
    let senders = o.senders.max(1);
    let n_acc = o.accounts.max(1);
    let mut out: Vec<Vec<Wire>> = (0..senders).map(|_| Vec::new()).collect();
    for (g, t) in txs.iter().enumerate() {
        out[(g % n_acc) % senders].push(Wire::of(t));
    }
    out
}

/// One thread per share, each at its share of the offered rate.
fn send_all(
    o: &LoadgenOptions,
    node: &NodeHandle,
    client: &Client,
    shares: &[Vec<Wire>],
    t0: Instant,
    load: &Load,
) {
    let pace = Pace {
        t0,
        rate: o.rate.map(|r| r / shares.len().max(1) as f64),
        batch: o.batch.max(1),
        deadline: Duration::from_secs_f64(o.secs),
    };
    std::thread::scope(|sc| {
        for mine in shares {
            let (client, shared) = (client.clone(), node.shared.clone());
            sc.spawn(move || send_share(mine, &client, &shared, load, pace));
        }
    });
}

/// One sender: its transactions in batches, each marked sent before it goes; at a fixed rate
/// only what is due, else as fast as the node takes them (waiting while its mempool holds more
/// than 100,000).
fn send_share(mine: &[Wire], client: &Client, shared: &Shared, load: &Load, pace: Pace) {
    let Pace {
        t0,
        rate,
        batch,
        deadline,
    } = pace;
    let mut i = 0usize;
    while i < mine.len() && t0.elapsed() < deadline {
        if let Some(rate) = rate {
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "transactions due so far, rounded down"
            )]
            let due = (t0.elapsed().as_secs_f64() * rate) as usize;
            if due <= i {
                std::thread::sleep(Duration::from_millis(2));
                continue;
            }
        }
        let end = if rate.is_some() {
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "transactions due so far, rounded down"
            )]
            let due = (t0.elapsed().as_secs_f64() * rate.unwrap_or(0.0)) as usize;
            due.min(i + batch).min(mine.len()).max(i + 1)
        } else {
            (i + batch).min(mine.len())
        };
        if let Err(e) = submit(client, &mine[i..end], load) {
            *lock(&load.error) = Some(format!("submit: {e}"));
            return;
        }
        i = end;
        if rate.is_none() {
            while shared.metrics.mempool.load(Ordering::Relaxed) > 100_000 {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
}

/// Submit one batch: each transaction marked sent now; a refused one is counted and unmarked.
fn submit(client: &Client, chunk: &[Wire], load: &Load) -> Result<(), ClientError> {
    let mut body = Vec::with_capacity(chunk.iter().map(|t| t.json.len() + 1).sum::<usize>() + 2);
    body.push(b'[');
    for (k, t) in chunk.iter().enumerate() {
        if k > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&t.json);
    }
    body.push(b']');
    let now = Instant::now();
    {
        let mut s = lock(&load.sent_at);
        for t in chunk {
            s.insert(t.hash, now);
        }
    }
    let items = client.submit_batch_json(&body)?;
    for (t, it) in chunk.iter().zip(items) {
        load.submitted.fetch_add(1, Ordering::Relaxed);
        if it.error.is_some() {
            load.rejected.fetch_add(1, Ordering::Relaxed);
            lock(&load.sent_at).remove(&t.hash);
        }
    }
    Ok(())
}

/// The node's throughput as a share of recovery on every core and of the engine alone.
fn node_ratios(rep: &mut LoadReport) {
    rep.ratio_to_recover_all_cores =
        rep.committed_per_sec / rep.recover_per_sec_all_cores.max(1e-9);
    rep.ratio_to_engine = rep.committed_per_sec / rep.engine_tx_per_sec.max(1e-9);
}

/// The node's figures: counts, throughput over the time the load lasted (first submission to
/// last commit), latency percentiles.
fn node_figures(load: &Load, t0: Instant, rep: &mut LoadReport) {
    let c = *lock(&load.counts);
    rep.submitted = load.submitted.load(Ordering::Relaxed);
    rep.rejected = load.rejected.load(Ordering::Relaxed);
    rep.committed = c.committed;
    rep.applied = c.applied;
    rep.blocks = c.blocks;
    let span = match (c.first_commit, c.last_commit) {
        (Some(_), Some(l)) => l.duration_since(t0).as_secs_f64(),
        _ => t0.elapsed().as_secs_f64(),
    };
    rep.secs = span;
    rep.committed_per_sec = c.committed as f64 / span.max(1e-9);
    let mut l = lock(&load.latencies).clone();
    l.sort_by(|a, b| a.total_cmp(b));
    rep.latency_p50_ms = percentile(&l, 0.50);
    rep.latency_p99_ms = percentile(&l, 0.99);
    rep.latency_max_ms = l.last().copied().unwrap_or(0.0);
}
