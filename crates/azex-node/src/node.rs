//! The node: start-up (genesis, log replay with state-hash checks, index catch-up), the sequencer
//! thread (mempool → block → state), the writer thread (log append + one fsync per block, then
//! acknowledgements), the indexer thread (redb), and the API server.

use crate::chain::{self, Nonces};
use crate::index::Index;
use crate::log::{BlockLog, FileLog, LogReader};
use crate::mempool::{Mempool, MempoolLimits, Pending, Waiter};
use crate::metrics::Metrics;
use alloy_primitives::B256;
use azex_client::{Block, Outcome, SignedTx, TxAck};
use azex_exchange::{BlockCtx, Genesis, State};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, watch};

/// Everything a node is started with.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    /// The data directory (block log, indexes, snapshots, `chain.json`, `genesis.json`).
    pub data: PathBuf,
    /// Where the API listens (port 0: any free port; the bound address is written to
    /// `DATA/node.addr`).
    pub listen: SocketAddr,
    /// Genesis file for a new data directory (default: [`crate::genesis::dev_genesis`]).
    pub genesis: Option<PathBuf>,
    /// Chain id for a new data directory (an existing one keeps its own).
    pub chain_id: u64,
    /// Time between blocks, ms.
    pub block_time_ms: u64,
    /// The mempool's limits.
    pub mempool: MempoolLimits,
    /// The API's limits.
    pub api: crate::api::ApiLimits,
    /// Blocks kept in memory for the API (older ones are read from the log), at most this many
    /// and at most `cache_bytes` of their JSON.
    pub cache_blocks: usize,
    /// At most this many bytes of cached block JSON.
    pub cache_bytes: usize,
    /// Stop on Ctrl-C / SIGTERM (processes; not in tests).
    pub handle_signals: bool,
    /// Write a state snapshot every this many blocks (0: never). Start-up loads the newest
    /// valid one whatever this is.
    pub snapshot_every: u64,
    /// Snapshots kept (the newest).
    pub snapshot_keep: usize,
}

impl NodeOptions {
    /// Defaults for a node on `data` listening on 127.0.0.1:`port`.
    pub fn new(data: PathBuf, port: u16) -> Self {
        NodeOptions {
            data,
            listen: SocketAddr::from(([127, 0, 0, 1], port)),
            genesis: None,
            chain_id: crate::DEFAULT_CHAIN_ID,
            block_time_ms: 200,
            mempool: MempoolLimits::default(),
            api: Default::default(),
            cache_blocks: 2_048,
            cache_bytes: 128 << 20,
            handle_signals: false,
            snapshot_every: crate::snapshot::DEFAULT_EVERY,
            snapshot_keep: crate::snapshot::DEFAULT_KEEP,
        }
    }
}

/// Why a node could not start (or `verify` failed).
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// A file operation failed: what was being done, and the error.
    #[error("io {0}: {1}")]
    Io(String, std::io::Error),
    /// The data directory, genesis or chain configuration is invalid, or a log record unreadable.
    #[error("{0}")]
    Config(String),
    /// A logged block did not replay to its recorded outcomes or state hash.
    #[error("replaying the log: {0}")]
    Replay(#[from] chain::ReplayError),
    /// The engine refused the genesis.
    #[error("engine: {0}")]
    Engine(#[from] azex_exchange::ExchangeError),
    /// The redb index failed.
    #[error("{0}")]
    Index(#[from] crate::index::IndexError),
}

fn io(what: &str) -> impl FnOnce(std::io::Error) -> NodeError + '_ {
    move |e| NodeError::Io(what.to_string(), e)
}

/// A block as the API holds it: parsed, and its JSON (the log's bytes).
pub struct CachedBlock {
    /// The parsed block.
    pub block: Block,
    /// Its JSON, byte for byte the log record.
    pub json: Arc<[u8]>,
}

/// What the API and the threads share.
pub struct Shared {
    /// The chain id (signatures are checked against it).
    pub chain_id: u64,
    /// The chain's genesis.
    pub genesis: Genesis,
    /// State hash of the genesis state.
    pub genesis_hash: B256,
    /// Time between blocks, ms.
    pub block_time_ms: u64,
    /// The state after the newest executed block (the block may still be being made durable).
    pub state: RwLock<State>,
    /// Pending transactions.
    pub(crate) mempool: Mutex<Mempool>,
    /// Newest durable height and its state hash.
    pub head: watch::Sender<(u64, B256)>,
    /// The newest durable blocks, oldest first, consecutive heights.
    pub cache: RwLock<VecDeque<Arc<CachedBlock>>>,
    /// At most this many blocks in `cache`.
    pub cache_blocks: usize,
    /// At most this many bytes of JSON in `cache`.
    pub cache_bytes: usize,
    /// JSON bytes of the cached blocks.
    pub cached_bytes: std::sync::atomic::AtomicUsize,
    /// Requests waiting for a commit (bounded by `ApiLimits::max_waiters`).
    pub waiters: std::sync::atomic::AtomicU64,
    /// Reads the block log (blocks older than the cache).
    pub log: Arc<dyn LogReader>,
    /// The redb indexes.
    pub index: Index,
    /// Durable but maybe not yet indexed transactions.
    pub(crate) recent: Recent,
    /// Every durable block, for the WebSocket subscriptions.
    pub blocks_tx: broadcast::Sender<Arc<CachedBlock>>,
    /// `/metrics` counters.
    pub metrics: Metrics,
    /// Set to stop the node's threads and server.
    pub stop: AtomicBool,
    /// The API's limits.
    pub api: crate::api::ApiLimits,
    /// Per-IP request and transaction rate limits.
    pub rate: crate::api::RateLimiter,
    /// Signature checks running at once: one per core, so that they do not starve the
    /// sequencer and writer threads.
    pub verifiers: tokio::sync::Semaphore,
    /// Set if the sequencer or writer failed: the node stops taking transactions.
    pub fault: Mutex<Option<String>>,
}

/// Where the transactions of durable blocks not yet indexed are: one small map per block, so
/// that the writer adds a block and the indexer drops blocks in O(1) under the lock (no
/// per-transaction work while holding it). `/v1/tx/{hash}` looks here before the index.
#[derive(Default)]
pub(crate) struct Recent {
    blocks: Mutex<VecDeque<(u64, HashMap<B256, u32>)>>,
}

impl Recent {
    /// A durable block (its map is built before the lock is taken).
    pub(crate) fn push(&self, b: &Block) {
        let map = b
            .txs
            .iter()
            .enumerate()
            .map(|(i, t)| (t.hash, u32::try_from(i).unwrap_or(u32::MAX)))
            .collect();
        if let Ok(mut q) = self.blocks.lock() {
            q.push_back((b.height, map));
        }
    }

    /// The block height and position of a durable, not yet indexed transaction.
    pub(crate) fn get(&self, h: &B256) -> Option<(u64, u32)> {
        let q = self.blocks.lock().ok()?;
        q.iter()
            .rev()
            .find_map(|(height, m)| m.get(h).map(|i| (*height, *i)))
    }

    /// Forget the blocks up to `height` (indexed); their maps are freed outside the lock.
    pub(crate) fn drop_through(&self, height: u64) {
        let mut gone = Vec::new();
        if let Ok(mut q) = self.blocks.lock() {
            while q.front().is_some_and(|(h, _)| *h <= height) {
                gone.extend(q.pop_front());
            }
        }
        drop(gone);
    }
}

impl Shared {
    /// Newest durable height and its state hash.
    pub fn head(&self) -> (u64, B256) {
        *self.head.borrow()
    }

    /// A durable block by height.
    pub fn block(&self, h: u64) -> Option<Arc<CachedBlock>> {
        if h == 0 || h > self.head().0 {
            return None;
        }
        if let Ok(c) = self.cache.read() {
            if let Some(first) = c.front() {
                let fh = first.block.height;
                if h >= fh {
                    // An offset beyond `usize` is not cached: read from the log.
                    let cached = usize::try_from(h - fh).ok().and_then(|i| c.get(i));
                    if let Some(b) = cached {
                        return Some(b.clone());
                    }
                }
            }
        }
        let bytes = self.log.read(h - 1).ok()??;
        let block: Block = serde_json::from_slice(&bytes).ok()?;
        Some(Arc::new(CachedBlock {
            block,
            json: bytes.into(),
        }))
    }

    /// A fatal fault: record `why` (the first one is kept) and stop the node.
    pub(crate) fn fail(&self, why: String) {
        crate::warn_line!("azex-node: FATAL: {why}");
        if let Ok(mut f) = self.fault.lock() {
            f.get_or_insert(why);
        }
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// A duration in µs for the metrics, saturating at `u64::MAX` (585,000 years).
fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// A duration in ms for the metrics, saturating at `u64::MAX`.
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Load or initialise `DATA/genesis.json` and `DATA/chain.json`.
fn load_config(opts: &NodeOptions) -> Result<(Genesis, u64), NodeError> {
    std::fs::create_dir_all(&opts.data).map_err(io("creating the data directory"))?;
    let gpath = opts.data.join("genesis.json");
    let genesis: Genesis = if gpath.exists() {
        let s = std::fs::read_to_string(&gpath).map_err(io("reading genesis.json"))?;
        let g: Genesis = serde_json::from_str(&s)
            .map_err(|e| NodeError::Config(format!("DATA/genesis.json: {e}")))?;
        if let Some(p) = &opts.genesis {
            let s2 = std::fs::read_to_string(p).map_err(io("reading --genesis"))?;
            let g2: Genesis = serde_json::from_str(&s2)
                .map_err(|e| NodeError::Config(format!("{}: {e}", p.display())))?;
            if g2 != g {
                return Err(NodeError::Config(
                    "--genesis differs from the data directory's genesis.json".into(),
                ));
            }
        }
        g
    } else {
        let g = match &opts.genesis {
            Some(p) => {
                let s = std::fs::read_to_string(p).map_err(io("reading --genesis"))?;
                serde_json::from_str(&s)
                    .map_err(|e| NodeError::Config(format!("{}: {e}", p.display())))?
            }
            None => crate::genesis::dev_genesis(),
        };
        let s = serde_json::to_string_pretty(&g).unwrap_or_default();
        write_atomic(&gpath, s.as_bytes())?;
        g
    };
    let cpath = opts.data.join("chain.json");
    let chain_id = if cpath.exists() {
        let s = std::fs::read_to_string(&cpath).map_err(io("reading chain.json"))?;
        let v: serde_json::Value =
            serde_json::from_str(&s).map_err(|e| NodeError::Config(format!("chain.json: {e}")))?;
        let id = v["chain_id"]
            .as_u64()
            .ok_or_else(|| NodeError::Config("chain.json: no chain_id".into()))?;
        if id != opts.chain_id {
            return Err(NodeError::Config(format!(
                "the data directory is chain {id}, not {}",
                opts.chain_id
            )));
        }
        id
    } else {
        write_atomic(
            &cpath,
            format!("{{\"chain_id\": {}}}\n", opts.chain_id).as_bytes(),
        )?;
        opts.chain_id
    };
    Ok((genesis, chain_id))
}

fn write_atomic(p: &Path, bytes: &[u8]) -> Result<(), NodeError> {
    let tmp = p.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(io("writing"))?;
    std::fs::rename(&tmp, p).map_err(io("renaming"))?;
    Ok(())
}

/// What start-up found.
#[derive(Debug, Clone, Default)]
pub struct Startup {
    /// The snapshot start-up began from (`None`: genesis).
    pub snapshot_height: Option<u64>,
    /// Reading and decoding it (with its state hash check).
    pub snapshot_secs: f64,
    /// Newer snapshots that were corrupt or disagreed with the log, skipped.
    pub snapshots_skipped: u64,
    /// Log blocks replayed (after the snapshot, or from genesis).
    pub replayed_blocks: u64,
    /// Transactions in those blocks.
    pub replayed_txs: u64,
    /// Bytes of a torn tail cut off the block log.
    pub truncated_bytes: u64,
    /// Time the replay took, seconds.
    pub replay_secs: f64,
    /// Blocks added to the index at start-up (it lagged the log).
    pub reindexed_blocks: u64,
}

/// Replay a data directory's log from genesis, checking every block's outcomes and state hash.
/// Used by `azex node verify` (start-up begins from a snapshot when there is one).
pub fn replay_dir(
    data: &Path,
    genesis: &Genesis,
    log: &dyn LogReader,
    each: impl FnMut(&Block, &[u8]),
) -> Result<(State, Nonces, Startup), NodeError> {
    let _ = data;
    replay_from(State::genesis(genesis)?, Nonces::default(), log, each)
}

/// Replay the log records after `state`'s height onto it, checking every block's outcomes and
/// state hash.
pub fn replay_from(
    mut state: State,
    mut nonces: Nonces,
    log: &dyn LogReader,
    mut each: impl FnMut(&Block, &[u8]),
) -> Result<(State, Nonces, Startup), NodeError> {
    let t0 = Instant::now();
    let mut st = Startup::default();
    for i in state.block.height..log.len() {
        let (bytes, b) = read_record(log, i)?;
        chain::replay(&mut state, &b)?;
        nonces.record(&b);
        st.replayed_blocks += 1;
        st.replayed_txs += b.txs.len() as u64;
        each(&b, &bytes);
    }
    st.replay_secs = t0.elapsed().as_secs_f64();
    Ok((state, nonces, st))
}

/// The state hash the log records for block `height` (≥ 1).
fn logged_hash(log: &dyn LogReader, height: u64) -> Option<B256> {
    let bytes = log.read(height.checked_sub(1)?).ok()??;
    #[derive(serde::Deserialize)]
    struct Head {
        state_hash: B256,
    }
    serde_json::from_slice::<Head>(&bytes)
        .ok()
        .map(|h| h.state_hash)
}

/// The newest snapshot that decodes and whose state hash is the one the log records at its
/// height; snapshots above the log's length are removed first (they followed blocks that never
/// became durable). `None`: start from genesis.
pub(crate) fn load_snapshot(
    data: &Path,
    log: &dyn LogReader,
    st: &mut Startup,
) -> Option<crate::snapshot::Loaded> {
    let t0 = Instant::now();
    crate::snapshot::remove_above(data, log.len());
    for (h, path) in crate::snapshot::list(data) {
        let why = match std::fs::read(&path)
            .map_err(crate::snapshot::SnapshotFileError::from)
            .and_then(|b| crate::snapshot::decode(&b))
        {
            Ok(l) if Some(B256::from(l.state.hash())) == logged_hash(log, h) && l.height == h => {
                st.snapshot_height = Some(h);
                st.snapshot_secs = t0.elapsed().as_secs_f64();
                return Some(l);
            }
            Ok(_) => "its state hash is not the one the log records at its height".to_string(),
            Err(e) => e.to_string(),
        };
        crate::warn_line!("azex-node: skipping snapshot {}: {why}", path.display());
        st.snapshots_skipped += 1;
    }
    None
}

/// A running node.
pub struct NodeHandle {
    /// The address the API listens on.
    pub addr: SocketAddr,
    /// The state the API and the threads share.
    pub shared: Arc<Shared>,
    /// What start-up found and did.
    pub startup: Startup,
    threads: Vec<std::thread::JoinHandle<()>>,
    server: Option<std::thread::JoinHandle<()>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl NodeHandle {
    /// `http://` and the API's address.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stop producing blocks, finish the durable writes, stop the server.
    pub fn stop(mut self) {
        self.stop_inner();
    }

    fn stop_inner(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.server.take() {
            let _ = t.join();
        }
    }

    /// Block until the node stops (Ctrl-C / SIGTERM or a fault).
    pub fn wait(mut self) {
        while !self.shared.stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(50));
        }
        self.stop_inner();
    }
}

impl Drop for NodeHandle {
    fn drop(&mut self) {
        self.stop_inner();
    }
}

/// A transaction's acknowledgement and the requests waiting for it.
type Ack = (Vec<Waiter>, TxAck);

/// A block for the writer: its acknowledgements are sent once it is durable.
struct ToWrite {
    cached: Arc<CachedBlock>,
    acks: Vec<Ack>,
    exec_us: u64,
    /// When the sequencer finished it.
    built: Instant,
}

/// A snapshot to make: the state after block `height` and the nonces with it.
struct ToSnapshot {
    height: u64,
    state: Box<State>,
    nonces: Nonces,
    clone_ms: u64,
}

/// Start a node: replay, then serve. Returns once the API listens.
pub fn start(opts: NodeOptions) -> Result<NodeHandle, NodeError> {
    let (genesis, chain_id) = load_config(&opts)?;
    let genesis_hash = B256::from(State::genesis(&genesis)?.hash());
    let (log, report) = FileLog::open(&opts.data).map_err(io("opening the block log"))?;
    if report.truncated_bytes > 0 {
        crate::warn_line!(
            "azex-node: cut a torn tail of {} bytes off the block log",
            report.truncated_bytes
        );
    }
    let reader = log.reader();
    let index = Index::open(&opts.data)?;
    let mut recovered = recover(&opts, &genesis, &*reader, &index)?;
    recovered.startup.truncated_bytes = report.truncated_bytes;
    let chain = ChainConfig {
        genesis,
        chain_id,
        genesis_hash,
    };
    let store = Store { log: reader, index };
    let (shared, nonces, startup) = new_shared(&opts, chain, store, recovered);
    let threads = spawn_threads(&shared, &opts, log, nonces)?;
    let api = serve_api(&shared, &opts)?;
    Ok(NodeHandle {
        addr: api.addr,
        shared,
        startup,
        threads,
        server: Some(api.server),
        shutdown: Some(api.shutdown),
    })
}

/// What start-up recovered: the state and nonces after the log's last block, what it did, and
/// the newest blocks for the API's cache.
struct Recovered {
    state: State,
    nonces: Nonces,
    startup: Startup,
    cache: VecDeque<Arc<CachedBlock>>,
    /// JSON bytes of the cached blocks.
    cache_bytes: usize,
}

/// Load the newest valid snapshot (or genesis), index the blocks up to it that the index has
/// not seen, then replay the log after it (indexing and caching the replayed blocks).
fn recover(
    opts: &NodeOptions,
    genesis: &Genesis,
    log: &dyn LogReader,
    index: &Index,
) -> Result<Recovered, NodeError> {
    let indexed = index.height()?;
    let mut loaded_from = Startup::default();
    let (base_state, base_nonces) = match load_snapshot(&opts.data, log, &mut loaded_from) {
        Some(l) => (l.state, l.nonces),
        None => (State::genesis(genesis)?, Nonces::default()),
    };
    // Blocks up to the snapshot that the index has not seen yet: indexed from the log (their
    // execution is in the snapshot).
    let reindexed = index_from_log(index, log, indexed, base_state.block.height)?;
    let mut sink = ReplaySink {
        index,
        indexed,
        to_index: Vec::new(),
        reindexed,
        cache: VecDeque::new(),
        cache_bytes: 0,
        cache_limits: (opts.cache_blocks, opts.cache_bytes),
    };
    let (state, nonces, mut startup) =
        replay_from(base_state, base_nonces, log, |b, bytes| sink.take(b, bytes))?;
    sink.flush()?;
    startup.reindexed_blocks = sink.reindexed;
    startup.snapshot_height = loaded_from.snapshot_height;
    startup.snapshot_secs = loaded_from.snapshot_secs;
    startup.snapshots_skipped = loaded_from.snapshots_skipped;
    Ok(Recovered {
        state,
        nonces,
        startup,
        cache: sink.cache,
        cache_bytes: sink.cache_bytes,
    })
}

/// Log record `i` (block `i + 1`): its bytes and the block.
fn read_record(log: &dyn LogReader, i: u64) -> Result<(Vec<u8>, Block), NodeError> {
    let bytes = log
        .read(i)
        .map_err(io("reading the log"))?
        .ok_or_else(|| NodeError::Config(format!("log record {i} missing")))?;
    let b: Block = serde_json::from_slice(&bytes)
        .map_err(|e| NodeError::Config(format!("log record {i}: {e}")))?;
    Ok((bytes, b))
}

/// Index the log's records `from..to` (blocks `from + 1..=to`) in groups of 256. Returns how
/// many were indexed.
fn index_from_log(
    index: &Index,
    log: &dyn LogReader,
    from: u64,
    to: u64,
) -> Result<u64, NodeError> {
    let mut h = from;
    let mut n = 0u64;
    while h < to {
        let mut chunk = Vec::new();
        while h < to && chunk.len() < 256 {
            chunk.push(read_record(log, h)?.1);
            h += 1;
        }
        n += chunk.len() as u64;
        let refs: Vec<&Block> = chunk.iter().collect();
        index.add(&refs)?;
    }
    Ok(n)
}

/// Where start-up's replay puts each block: the index (blocks above `indexed`, in groups of 256)
/// and the API's cache (bounded by `cache_limits`: blocks, JSON bytes).
struct ReplaySink<'a> {
    index: &'a Index,
    indexed: u64,
    to_index: Vec<Block>,
    reindexed: u64,
    cache: VecDeque<Arc<CachedBlock>>,
    cache_bytes: usize,
    cache_limits: (usize, usize),
}

impl ReplaySink<'_> {
    fn take(&mut self, b: &Block, bytes: &[u8]) {
        if b.height > self.indexed {
            self.to_index.push(b.clone());
            if self.to_index.len() >= 256 {
                if let Err(e) = self.flush() {
                    crate::warn_line!("azex-node: indexing: {e}");
                }
            }
        }
        let cached = Arc::new(CachedBlock {
            block: b.clone(),
            json: bytes.to_vec().into(),
        });
        let (max_blocks, max_bytes) = self.cache_limits;
        push_bounded(
            &mut self.cache,
            &mut self.cache_bytes,
            cached,
            max_blocks,
            max_bytes,
        );
    }

    /// Index the blocks waiting (counted as re-indexed even if indexing fails).
    fn flush(&mut self) -> Result<(), crate::index::IndexError> {
        if self.to_index.is_empty() {
            return Ok(());
        }
        self.reindexed += self.to_index.len() as u64;
        let refs: Vec<&Block> = self.to_index.iter().collect();
        let r = self.index.add(&refs);
        self.to_index.clear();
        r
    }
}

/// Append a block to a cache, then drop the oldest while there are more than `max_blocks` or
/// more than `max_bytes` of JSON (always keeping one). `bytes` is the cache's JSON size.
fn push_bounded(
    cache: &mut VecDeque<Arc<CachedBlock>>,
    bytes: &mut usize,
    block: Arc<CachedBlock>,
    max_blocks: usize,
    max_bytes: usize,
) {
    *bytes += block.json.len();
    cache.push_back(block);
    while cache.len() > max_blocks || (*bytes > max_bytes && cache.len() > 1) {
        if let Some(f) = cache.pop_front() {
            *bytes -= f.json.len();
        }
    }
}

/// The chain a node serves.
struct ChainConfig {
    genesis: Genesis,
    chain_id: u64,
    genesis_hash: B256,
}

/// The durable store the API reads: the block log and the indexes.
struct Store {
    log: Arc<dyn LogReader>,
    index: Index,
}

/// What the API and the threads share, from what start-up recovered; returns it with the
/// nonces (for the sequencer) and the start-up report.
fn new_shared(
    opts: &NodeOptions,
    chain: ChainConfig,
    store: Store,
    recovered: Recovered,
) -> (Arc<Shared>, Nonces, Startup) {
    let Recovered {
        state,
        nonces,
        startup,
        cache,
        cache_bytes,
    } = recovered;
    let head_hash = B256::from(state.hash());
    let height = state.block.height;
    let mut mempool = Mempool::new(opts.mempool.clone());
    for (a, n) in &nonces.0 {
        mempool.set_next_nonce(*a, *n);
    }
    let (head, _) = watch::channel((height, head_hash));
    let (blocks_tx, _) = broadcast::channel(256);
    let shared = Arc::new(Shared {
        chain_id: chain.chain_id,
        genesis: chain.genesis,
        genesis_hash: chain.genesis_hash,
        block_time_ms: opts.block_time_ms.max(1),
        state: RwLock::new(state),
        mempool: Mutex::new(mempool),
        head,
        cache: RwLock::new(cache),
        cache_blocks: opts.cache_blocks.max(1),
        cache_bytes: opts.cache_bytes,
        cached_bytes: std::sync::atomic::AtomicUsize::new(cache_bytes),
        waiters: std::sync::atomic::AtomicU64::new(0),
        log: store.log,
        index: store.index,
        recent: Recent::default(),
        blocks_tx,
        metrics: Metrics::default(),
        stop: AtomicBool::new(false),
        rate: crate::api::RateLimiter::new(&opts.api),
        verifiers: tokio::sync::Semaphore::new(
            std::thread::available_parallelism()
                .map(|c| c.get())
                .unwrap_or(2),
        ),
        api: opts.api.clone(),
        fault: Mutex::new(None),
    });
    shared.metrics.height.store(height, Ordering::Relaxed);
    shared
        .metrics
        .startup_snapshot_height
        .store(startup.snapshot_height.unwrap_or(0), Ordering::Relaxed);
    (shared, nonces, startup)
}

fn spawn(
    name: &str,
    f: impl FnOnce() + Send + 'static,
) -> Result<std::thread::JoinHandle<()>, NodeError> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .map_err(io("spawning"))
}

/// The node's threads: indexer ← writer ← sequencer, and the snapshot thread.
fn spawn_threads(
    shared: &Arc<Shared>,
    opts: &NodeOptions,
    mut log: FileLog,
    nonces: Nonces,
) -> Result<Vec<std::thread::JoinHandle<()>>, NodeError> {
    let (idx_tx, idx_rx) = mpsc::channel::<Arc<CachedBlock>>();
    let (w_tx, w_rx) = mpsc::sync_channel::<ToWrite>(2);
    let (s_tx, s_rx) = mpsc::sync_channel::<ToSnapshot>(1);
    let snapshot_busy = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    let sh = shared.clone();
    threads.push(spawn("azex-indexer", move || indexer(sh, idx_rx))?);
    let sh = shared.clone();
    threads.push(spawn("azex-writer", move || {
        writer(sh, &mut log, w_rx, idx_tx)
    })?);
    let (sh, data, keep) = (shared.clone(), opts.data.clone(), opts.snapshot_keep);
    let busy = snapshot_busy.clone();
    threads.push(spawn("azex-snapshots", move || {
        snapshotter(sh, &data, keep, s_rx, &busy)
    })?);
    let sequencer = Sequencer {
        sh: shared.clone(),
        w_tx,
        nonces,
        snapshots: SnapshotHandoff {
            every: opts.snapshot_every,
            tx: s_tx,
            busy: snapshot_busy,
        },
    };
    threads.push(spawn("azex-sequencer", move || sequencer.run())?);
    Ok(threads)
}

/// The API server: its address, its thread, and the sender that stops it.
struct Api {
    addr: SocketAddr,
    server: std::thread::JoinHandle<()>,
    shutdown: tokio::sync::oneshot::Sender<()>,
}

/// Bind the API (the bound address is written to `DATA/node.addr`) and serve it on its own
/// runtime thread.
fn serve_api(shared: &Arc<Shared>, opts: &NodeOptions) -> Result<Api, NodeError> {
    let listener = std::net::TcpListener::bind(opts.listen).map_err(io("binding the API"))?;
    listener
        .set_nonblocking(true)
        .map_err(io("binding the API"))?;
    let addr = listener.local_addr().map_err(io("binding the API"))?;
    let _ = write_atomic(&opts.data.join("node.addr"), addr.to_string().as_bytes());
    let (shutdown, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
    let sh = shared.clone();
    let handle_signals = opts.handle_signals;
    let server = spawn("azex-api", move || {
        let rt = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                sh.fail(format!("tokio runtime: {e}"));
                return;
            }
        };
        rt.block_on(serve(sh, listener, handle_signals, shutdown_rx));
        rt.shutdown_timeout(Duration::from_millis(500));
    })?;
    Ok(Api {
        addr,
        server,
        shutdown,
    })
}

/// Serve the API until `shutdown` fires (or, with `handle_signals`, Ctrl-C / SIGTERM stops the
/// node); a server error is a fault.
async fn serve(
    sh: Arc<Shared>,
    listener: std::net::TcpListener,
    handle_signals: bool,
    shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            sh.fail(format!("listener: {e}"));
            return;
        }
    };
    if handle_signals {
        let sig_sh = sh.clone();
        tokio::spawn(async move {
            wait_signal().await;
            crate::warn_line!("azex-node: stopping");
            sig_sh.stop.store(true, Ordering::SeqCst);
        });
    }
    let app = crate::api::router(sh.clone());
    let stop_sh = sh.clone();
    let r = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        let _ = shutdown.await;
        stop_sh.stop.store(true, Ordering::SeqCst);
    })
    .await;
    if let Err(e) = r {
        sh.fail(format!("server: {e}"));
    }
}

/// Hands the state to the snapshot thread every `every` blocks (0: never) unless it is `busy`.
struct SnapshotHandoff {
    every: u64,
    tx: mpsc::SyncSender<ToSnapshot>,
    busy: Arc<AtomicBool>,
}

/// The sequencer thread: every block time, a block from the mempool, executed on the state and
/// handed to the writer.
struct Sequencer {
    sh: Arc<Shared>,
    w_tx: mpsc::SyncSender<ToWrite>,
    nonces: Nonces,
    snapshots: SnapshotHandoff,
}

impl Sequencer {
    /// Until the node stops, a fault, or the writer is gone.
    fn run(mut self) {
        let period = Duration::from_millis(self.sh.block_time_ms);
        let mut next = Instant::now() + period;
        while !self.sh.stop.load(Ordering::SeqCst) {
            let now = Instant::now();
            if now < next {
                std::thread::sleep((next - now).min(Duration::from_millis(20)));
                continue;
            }
            next += period;
            if next < now {
                next = now + period; // fell behind: do not burst
            }
            let Some(block) = self.make_block() else {
                break;
            };
            if self.w_tx.send(block).is_err() {
                break;
            }
        }
    }

    /// Take a block from the mempool, execute it and make it ready for the writer. `None`: a
    /// fault (reported), the sequencer stops.
    fn make_block(&mut self) -> Option<ToWrite> {
        let t_start = Instant::now();
        let t_secs = now_secs();
        let (batch, expired) = self.take_from_mempool(t_secs)?;
        ack_expired(&self.sh, expired);
        let t0 = Instant::now();
        let exec = self.execute(&batch, t_secs)?;
        let exec_us = micros(t0.elapsed());
        let (acks, txs) = receipts(&exec, batch);
        let block = chain::to_block(&exec, txs);
        self.nonces.record(&block);
        self.maybe_snapshot(block.height);
        let json = match serde_json::to_vec(&block) {
            Ok(j) => j,
            Err(e) => {
                self.sh.fail(format!("encoding block: {e}"));
                return None;
            }
        };
        let cached = Arc::new(CachedBlock {
            block,
            json: json.into(),
        });
        self.sh.metrics.block_build.observe(t_start.elapsed());
        Some(ToWrite {
            cached,
            acks,
            exec_us,
            built: Instant::now(),
        })
    }

    /// This block's transactions and the expired ones.
    fn take_from_mempool(&self, t_secs: u64) -> Option<(Vec<Pending>, Vec<Pending>)> {
        match self.sh.mempool.lock() {
            Ok(mut m) => {
                let r = m.take_block(t_secs);
                self.sh
                    .metrics
                    .mempool
                    .store(m.len() as u64, Ordering::Relaxed);
                Some(r)
            }
            Err(_) => {
                self.sh.fail("mempool lock poisoned".into());
                None
            }
        }
    }

    /// Execute the block on the shared state (under its write lock).
    fn execute(&self, batch: &[Pending], t_secs: u64) -> Option<chain::Exec> {
        let built = {
            let mut st = match self.sh.state.write() {
                Ok(s) => s,
                Err(_) => {
                    self.sh.fail("state lock poisoned".into());
                    return None;
                }
            };
            let ctx = BlockCtx {
                height: st.block.height + 1,
                timestamp: t_secs.max(st.block.timestamp),
            };
            // An engine panic is a bug, but it must not leave a silent node: stop with a fault
            // (health 503); a restart replays the durable log, which does not hold this block.
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                chain::execute(&mut st, ctx, batch.iter().map(|p| &p.signed.tx))
            }))
        };
        match built {
            Ok(Ok(e)) => Some(e),
            Err(_) => {
                self.sh
                    .fail("the engine panicked while executing a block".into());
                None
            }
            Ok(Err(e)) => {
                self.sh.fail(format!("engine failed in a block step: {e}"));
                None
            }
        }
    }

    /// Every `every` blocks, a copy of the state (memory bandwidth, no encoding) is all the
    /// sequencer pays; the snapshot thread encodes it and writes it once the block is durable.
    /// If the previous snapshot is still being written, this one is skipped.
    fn maybe_snapshot(&self, height: u64) {
        let s = &self.snapshots;
        if s.every == 0 || !height.is_multiple_of(s.every) || s.busy.load(Ordering::SeqCst) {
            return;
        }
        let t = Instant::now();
        if let Ok(st) = self.sh.state.read() {
            let snap = ToSnapshot {
                height,
                state: Box::new(st.clone()),
                nonces: self.nonces.clone(),
                clone_ms: millis(t.elapsed()),
            };
            drop(st);
            s.busy.store(true, Ordering::SeqCst);
            if s.tx.try_send(snap).is_err() {
                s.busy.store(false, Ordering::SeqCst);
            }
        }
    }
}

/// Tell the waiters of expired transactions.
fn ack_expired(sh: &Shared, expired: Vec<Pending>) {
    for p in expired {
        sh.metrics.tx_expired.fetch_add(1, Ordering::Relaxed);
        for w in p.waiters {
            let _ = w.send(TxAck {
                hash: p.hash,
                status: "expired".into(),
                height: None,
                index: None,
                outcome: None,
            });
        }
    }
}

/// Each transaction's acknowledgement (sent once the block is durable) with its waiters, and
/// the block's transactions.
fn receipts(exec: &chain::Exec, batch: Vec<Pending>) -> (Vec<Ack>, Vec<(B256, SignedTx)>) {
    let mut acks = Vec::with_capacity(batch.len());
    let mut txs = Vec::with_capacity(batch.len());
    for (i, p) in batch.into_iter().enumerate() {
        let Pending {
            hash,
            signed,
            waiters,
            ..
        } = p;
        let outcome = chain::outcome_of(&exec.results[i]);
        acks.push((
            waiters,
            TxAck {
                hash,
                status: "committed".into(),
                height: Some(exec.ctx.height),
                // A block holds far fewer than 2^32 transactions (`max_per_block`).
                index: u32::try_from(i).ok(),
                outcome: Some(outcome),
            },
        ));
        txs.push((hash, signed));
    }
    (acks, txs)
}

fn writer(
    sh: Arc<Shared>,
    log: &mut FileLog,
    rx: mpsc::Receiver<ToWrite>,
    idx_tx: mpsc::Sender<Arc<CachedBlock>>,
) {
    while let Ok(first) = rx.recv() {
        // Group commit: everything queued now shares one fsync.
        let mut group = vec![first];
        while let Ok(more) = rx.try_recv() {
            group.push(more);
        }
        let t0 = Instant::now();
        for w in &group {
            if let Err(e) = log.append(&w.cached.json) {
                sh.fail(format!("appending to the log: {e}"));
                return;
            }
        }
        if let Err(e) = log.sync() {
            sh.fail(format!("fsync of the log: {e}"));
            return;
        }
        let fsync_us = micros(t0.elapsed());
        sh.metrics.log_fsync.observe(t0.elapsed());
        for w in group {
            let b = &w.cached.block;
            let m = &sh.metrics;
            m.blocks.fetch_add(1, Ordering::Relaxed);
            m.height.store(b.height, Ordering::Relaxed);
            m.txs_committed
                .fetch_add(b.txs.len() as u64, Ordering::Relaxed);
            let applied = b
                .txs
                .iter()
                .filter(|t| t.outcome == Outcome::Applied)
                .count();
            m.txs_applied.fetch_add(applied as u64, Ordering::Relaxed);
            m.txs_refused
                .fetch_add((b.txs.len() - applied) as u64, Ordering::Relaxed);
            m.last_exec_us.store(w.exec_us, Ordering::Relaxed);
            m.last_fsync_us.store(fsync_us, Ordering::Relaxed);
            sh.recent.push(b);
            if let Ok(mut c) = sh.cache.write() {
                let mut bytes = sh.cached_bytes.load(Ordering::Relaxed);
                let (max_blocks, max_bytes) = (sh.cache_blocks, sh.cache_bytes);
                push_bounded(&mut c, &mut bytes, w.cached.clone(), max_blocks, max_bytes);
                sh.cached_bytes.store(bytes, Ordering::Relaxed);
            }
            sh.head.send_replace((b.height, b.state_hash));
            for (waiters, ack) in w.acks {
                for tx in waiters {
                    let _ = tx.send(ack.clone());
                }
            }
            let _ = sh.blocks_tx.send(w.cached.clone());
            let _ = idx_tx.send(w.cached);
            m.block_to_durable.observe(w.built.elapsed());
        }
    }
}

/// Encodes each snapshot handed over by the sequencer, waits until its block is durable, then
/// writes it (atomically) and prunes old ones. A failure is reported, not fatal: the log alone
/// is enough to restart.
fn snapshotter(
    sh: Arc<Shared>,
    data: &Path,
    keep: usize,
    rx: mpsc::Receiver<ToSnapshot>,
    busy: &AtomicBool,
) {
    crate::priority::background();
    while let Ok(s) = rx.recv() {
        snapshot_one(&sh, data, keep, s);
        busy.store(false, Ordering::SeqCst);
    }
}

fn snapshot_one(sh: &Shared, data: &Path, keep: usize, s: ToSnapshot) {
    {
        let t0 = Instant::now();
        let bytes = match s
            .state
            .try_encode()
            .and_then(|state| crate::snapshot::encode(s.height, &s.nonces, &state))
        {
            Ok(bytes) => bytes,
            Err(e) => {
                crate::warn_line!("azex-node: snapshot {}: {e}", s.height);
                return;
            }
        };
        drop(s.state);
        let encode_ms = millis(t0.elapsed());
        // Only a durable block may have a snapshot.
        let mut durable = sh.head().0 >= s.height;
        while !durable && !sh.stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(2));
            durable = sh.head().0 >= s.height;
        }
        if !durable {
            return;
        }
        let t1 = Instant::now();
        match crate::snapshot::write(data, s.height, &bytes, keep) {
            Ok(_) => {
                let m = &sh.metrics;
                m.snapshots.fetch_add(1, Ordering::Relaxed);
                m.last_snapshot_height.store(s.height, Ordering::Relaxed);
                m.last_snapshot_bytes
                    .store(bytes.len() as u64, Ordering::Relaxed);
                m.last_snapshot_ms.store(
                    s.clone_ms + encode_ms + millis(t1.elapsed()),
                    Ordering::Relaxed,
                );
            }
            Err(e) => crate::warn_line!("azex-node: writing snapshot {}: {e}", s.height),
        }
    }
}

/// How often the indexer commits at most: the blocks of this interval go into one redb write
/// (the index lags the durable head by at most about this much; `/v1/tx/{hash}` reads the
/// not-yet-indexed transactions from `Shared::recent`).
const INDEX_EVERY: Duration = Duration::from_millis(1000);

/// Blocks that arrive within [`INDEX_EVERY`] of the last index commit, at most 256.
fn index_group(
    rx: &mpsc::Receiver<Arc<CachedBlock>>,
    first: Arc<CachedBlock>,
    due: Instant,
) -> Vec<Arc<CachedBlock>> {
    let mut group = vec![first];
    while group.len() < 256 {
        let now = Instant::now();
        let next = if now >= due {
            rx.try_recv().ok()
        } else {
            rx.recv_timeout(due - now).ok()
        };
        match next {
            Some(b) => group.push(b),
            None => break,
        }
    }
    group
}

fn indexer(sh: Arc<Shared>, rx: mpsc::Receiver<Arc<CachedBlock>>) {
    crate::priority::background();
    let mut last = Instant::now();
    while let Ok(first) = rx.recv() {
        let group = index_group(&rx, first, last + INDEX_EVERY);
        let refs: Vec<&Block> = group.iter().map(|c| &c.block).collect();
        let r = sh.index.add(&refs);
        last = Instant::now();
        if let Err(e) = r {
            crate::warn_line!("azex-node: indexing: {e}");
            continue;
        }
        if let Some(last) = group.last() {
            sh.recent.drop_through(last.block.height);
        }
    }
}

#[cfg(unix)]
async fn wait_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

/// Run a node until Ctrl-C / SIGTERM (the `azex node` command).
pub fn run(mut opts: NodeOptions) -> Result<(), NodeError> {
    opts.handle_signals = true;
    let h = start(opts)?;
    let s = &h.startup;
    let from = match s.snapshot_height {
        Some(sh) => format!("snapshot {sh} loaded in {:.2} s, then", s.snapshot_secs),
        None => "genesis, then".to_string(),
    };
    crate::say!(
        "azex node: API on http://{} (chain {}, height {}; {from} replayed {} blocks / {} txs in {:.2} s)",
        h.addr,
        h.shared.chain_id,
        h.shared.head().0,
        s.replayed_blocks,
        s.replayed_txs,
        s.replay_secs
    );
    let sh = h.shared.clone();
    h.wait();
    match sh.fault.lock().ok().and_then(|f| f.clone()) {
        Some(f) => Err(NodeError::Config(format!("stopped on a fault: {f}"))),
        None => Ok(()),
    }
}

/// Replay a data directory from genesis, checking every block's outcomes and state hash
/// (`azex node verify`). Returns what was replayed.
pub fn verify_dir(data: &Path) -> Result<(Startup, B256), NodeError> {
    let s =
        std::fs::read_to_string(data.join("genesis.json")).map_err(io("reading genesis.json"))?;
    let g: Genesis =
        serde_json::from_str(&s).map_err(|e| NodeError::Config(format!("genesis.json: {e}")))?;
    let (log, _) = FileLog::open(data).map_err(io("opening the block log"))?;
    let reader = log.reader();
    let (state, _, st) = replay_dir(data, &g, &*reader, |_, _| {})?;
    Ok((st, B256::from(state.hash())))
}
