//! A keeper network around a [`LocalChain`]: keepers run either inline (stepped in a fixed order
//! on the chain's thread: deterministic) or as separate threads, each with its own replica view
//! and index, all submitting into the chain's one mempool.
//!
//! The chain never depends on a keeper: after each block it hands the new state and record to
//! every live keeper and waits at most [`NetworkConfig::ack_timeout`] for them to answer (so that,
//! in tests, their transactions reach the next block), then goes on. A killed, crashed or slow
//! keeper only means fewer transactions.

use crate::keeper::{Keeper, KeeperConfig, KeeperError, KeeperStats};
use crate::local::LocalChain;
use crate::view::{BlockRecord, ChainView, RecordLog, ViewError};
use azex_exchange::{ExchangeError, State, Tx};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One finished block as a replica receives it: the record, and the state after it when the
/// network ships snapshots ([`Replication::Snapshot`]); without a state the replica replays the
/// record's transactions itself ([`Replication::Replay`]).
#[derive(Debug, Clone)]
pub struct BlockUpdate {
    /// The chain's state after the block ([`Replication::Snapshot`]), or `None`: replay the
    /// record ([`Replication::Replay`]).
    pub state: Option<Arc<State>>,
    /// The block's record (events and receipts).
    pub record: Arc<BlockRecord>,
}

/// How thread keepers' replicas follow the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Replication {
    /// The chain clones its state once per block and shares it (cheap for small states;
    /// O(state) per block).
    #[default]
    Snapshot,
    /// Each replica re-executes the block from its record (block context and the applied
    /// transactions, in order) on its own copy: what a node of a replicated deployment does. It
    /// relies on the engine's determinism and checks it: the replayed events must equal the
    /// record's, or the replica stops (diverged).
    Replay,
}

/// Why a replica could not follow a block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplicaError {
    /// The record is not the block after the replica's state (or the replica's block is still
    /// open).
    #[error("block {got} does not follow the replica's block {have}")]
    OutOfOrder {
        /// Height of the replica's state.
        have: u64,
        /// Height of the record received.
        got: u64,
    },
    /// The engine refused to begin or end the block, or to apply a transaction the record says
    /// was applied.
    #[error("replaying block {height}: {error}")]
    Engine {
        /// Height of the block replayed.
        height: u64,
        /// The engine's error.
        error: ExchangeError,
    },
    /// The replay ran but its events differ from the record's.
    #[error("replaying block {height}: {detail}")]
    Diverged {
        /// Height of the block replayed.
        height: u64,
        /// Event counts (replayed, recorded) and the index of the first difference.
        detail: String,
    },
}

/// A keeper's own copy of the chain: the newest state it has and a window of records. What a
/// network client would keep.
#[derive(Debug, Clone)]
pub struct ReplicaView {
    state: Arc<State>,
    log: RecordLog,
    /// A replay failed: the state is no longer the chain's.
    diverged: Option<ReplicaError>,
}

impl ReplicaView {
    /// Start from a state (no records yet: a keeper on it builds its index from the state).
    pub fn new(state: Arc<State>, retain_blocks: usize) -> Self {
        Self {
            state,
            log: RecordLog::new(retain_blocks),
            diverged: None,
        }
    }

    /// Take in a finished block: adopt its state, or replay it in place (see [`Replication`]).
    /// A failed replay leaves the replica diverged: it refuses every later block (a snapshot
    /// update would be needed to recover) and must not be acted on.
    pub fn ingest(&mut self, u: BlockUpdate) -> Result<(), ReplicaError> {
        match u.state {
            Some(s) => {
                self.state = s;
                self.diverged = None;
            }
            None => {
                if let Some(e) = &self.diverged {
                    return Err(e.clone());
                }
                // In place: the replica owns its state (a clone only if a snapshot is shared).
                if let Err(e) = replay(Arc::make_mut(&mut self.state), &u.record) {
                    self.diverged = Some(e.clone());
                    return Err(e);
                }
            }
        }
        self.log.push(u.record);
        Ok(())
    }

    /// Whether a replay failed.
    pub fn diverged(&self) -> Option<&ReplicaError> {
        self.diverged.as_ref()
    }
}

/// Re-execute a block record on `s`: begin the block, apply the transactions the record applied
/// (refused ones changed nothing), end it; the events must be the record's.
pub fn replay(s: &mut State, r: &BlockRecord) -> Result<(), ReplicaError> {
    let have = s.block.height;
    if r.height != have + 1 || s.block_open {
        return Err(ReplicaError::OutOfOrder {
            have,
            got: r.height,
        });
    }
    let b = azex_exchange::BlockCtx {
        height: r.height,
        timestamp: r.timestamp,
    };
    let engine = |error| ReplicaError::Engine {
        height: r.height,
        error,
    };
    let mut events = s.begin_block(b).map_err(engine)?;
    for rc in r.receipts.iter().filter(|rc| rc.result.is_ok()) {
        events.extend(s.apply(&rc.tx, b).map_err(engine)?);
    }
    events.extend(s.end_block().map_err(engine)?);
    if events != r.events {
        let at = events
            .iter()
            .zip(&r.events)
            .position(|(a, b)| a != b)
            .unwrap_or(events.len().min(r.events.len()));
        return Err(ReplicaError::Diverged {
            height: r.height,
            detail: format!(
                "{} events replayed, {} recorded; first difference at {at}",
                events.len(),
                r.events.len()
            ),
        });
    }
    Ok(())
}

impl ChainView for ReplicaView {
    fn height(&self) -> u64 {
        self.state.block.height
    }
    fn state(&self) -> &State {
        &self.state
    }
    fn blocks_since(&self, cursor: u64) -> Result<Vec<Arc<BlockRecord>>, ViewError> {
        self.log.since(cursor, self.height())
    }
}

/// How the network runs.
#[derive(Debug, Clone)]
pub struct NetworkConfig {
    /// Longest the chain waits after a block for the live thread keepers to answer.
    pub ack_timeout: Duration,
    /// Records each replica keeps.
    pub replica_retain: usize,
    /// How thread keepers' replicas follow the chain.
    pub replication: Replication,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        Self {
            ack_timeout: Duration::from_secs(10),
            replica_retain: 64,
            replication: Replication::Snapshot,
        }
    }
}

/// Handle of a keeper in a [`Network`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeeperId(pub usize);

/// Why the network stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    /// The chain could not produce a block (an engine error at block begin or end).
    #[error("chain: {0}")]
    Chain(#[from] ExchangeError),
    /// An inline keeper's step failed (the keeper, and its error).
    #[error("inline keeper {0:?}: {1}")]
    Keeper(KeeperId, KeeperError),
}

enum Node {
    Inline { keeper: Box<Keeper>, alive: bool },
    Thread(ThreadNode),
}

struct ThreadNode {
    updates: Option<mpsc::Sender<BlockUpdate>>,
    kill: Arc<AtomicBool>,
    join: Option<JoinHandle<()>>,
    stats: Arc<Mutex<KeeperStats>>,
}

impl ThreadNode {
    /// Tell the thread to stop, drop its channel, wait for it; its figures.
    fn stop(&mut self) -> Option<KeeperStats> {
        self.kill.store(true, Ordering::Release);
        self.updates.take();
        if let Some(j) = self.join.take() {
            let _ = j.join();
        }
        self.stats.lock().ok().map(|s| s.clone())
    }
}

impl Drop for ThreadNode {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Node {
    fn alive(&self) -> bool {
        match self {
            Node::Inline { alive, .. } => *alive,
            Node::Thread(t) => t.updates.is_some(),
        }
    }
}

/// A chain plus keepers. See the module docs.
pub struct Network {
    chain: LocalChain,
    cfg: NetworkConfig,
    nodes: Vec<Node>,
    ack_tx: mpsc::Sender<(usize, u64)>,
    ack_rx: mpsc::Receiver<(usize, u64)>,
    ack_timeouts: u64,
}

impl Network {
    /// A network around `chain`, with no keepers yet.
    pub fn new(chain: LocalChain, cfg: NetworkConfig) -> Self {
        let (ack_tx, ack_rx) = mpsc::channel();
        Self {
            chain,
            cfg,
            nodes: vec![],
            ack_tx,
            ack_rx,
            ack_timeouts: 0,
        }
    }

    /// The chain.
    pub fn chain(&self) -> &LocalChain {
        &self.chain
    }
    /// The chain, mutably (to change its state or configuration between blocks).
    pub fn chain_mut(&mut self) -> &mut LocalChain {
        &mut self.chain
    }
    /// Blocks after which the chain stopped waiting for a keeper.
    pub fn ack_timeouts(&self) -> u64 {
        self.ack_timeouts
    }

    /// Add a keeper stepped inline, after the block, in the order keepers were added. It starts
    /// at the next block (its first step builds its index from the state).
    pub fn add_inline(&mut self, cfg: KeeperConfig) -> KeeperId {
        self.nodes.push(Node::Inline {
            keeper: Box::new(Keeper::new(cfg)),
            alive: true,
        });
        KeeperId(self.nodes.len() - 1)
    }

    /// Start a keeper on its own thread, with a replica of the current state. It builds its
    /// index and acts on the current state at once, then on every block it receives.
    pub fn spawn(&mut self, cfg: KeeperConfig) -> KeeperId {
        let id = self.nodes.len();
        let (utx, urx) = mpsc::channel::<BlockUpdate>();
        let kill = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(Mutex::new(KeeperStats::default()));
        let view = ReplicaView::new(
            Arc::new(self.chain.state().clone()),
            self.cfg.replica_retain,
        );
        let sink = self.chain.sender();
        let acks = self.ack_tx.clone();
        let (k2, s2) = (kill.clone(), stats.clone());
        let join = std::thread::Builder::new()
            .name(format!("keeper-{id}"))
            .spawn(move || run_thread(id, Keeper::new(cfg), view, urx, sink, acks, k2, s2))
            .expect("spawn a keeper thread");
        self.nodes.push(Node::Thread(ThreadNode {
            updates: Some(utx),
            kill,
            join: Some(join),
            stats,
        }));
        KeeperId(id)
    }

    /// The kill switch: the keeper stops (a thread is told, its channel dropped, and joined).
    /// Returns its figures. Killing twice is harmless.
    pub fn kill(&mut self, id: KeeperId) -> Option<KeeperStats> {
        let node = self.nodes.get_mut(id.0)?;
        match node {
            Node::Inline { keeper, alive } => {
                *alive = false;
                Some(keeper.stats().clone())
            }
            Node::Thread(t) => t.stop(),
        }
    }

    /// Figures of a keeper (as of its last step).
    pub fn stats(&self, id: KeeperId) -> Option<KeeperStats> {
        match self.nodes.get(id.0)? {
            Node::Inline { keeper, .. } => Some(keeper.stats().clone()),
            Node::Thread(t) => t.stats.lock().ok().map(|s| s.clone()),
        }
    }

    /// Whether a keeper is live: added and not killed (a thread keeper whose channel is still
    /// open). `false` for an unknown id.
    pub fn alive(&self, id: KeeperId) -> bool {
        self.nodes.get(id.0).is_some_and(Node::alive)
    }

    /// Submit a transaction of a user (a trader, a price mover) to the mempool.
    pub fn submit(&self, tx: Tx) {
        // The chain holds a sender itself: its own mempool cannot be closed.
        let _ = crate::view::TxSink::submit(&self.chain, tx);
    }

    /// Produce one block, hand it to every live keeper, let them act.
    pub fn step(&mut self) -> Result<Arc<BlockRecord>, NetworkError> {
        let rec = self.chain.produce_block()?;
        let h = rec.height;
        // Inline keepers, in a fixed order, on the chain's own view.
        for (i, node) in self.nodes.iter_mut().enumerate() {
            if let Node::Inline { keeper, alive } = node {
                if *alive {
                    keeper
                        .step(&self.chain, &self.chain)
                        .map_err(|e| NetworkError::Keeper(KeeperId(i), e))?;
                }
            }
        }
        // Thread keepers: one shared snapshot of the new state.
        let mut waiting = BTreeSet::new();
        let mut snapshot = None;
        let ship_state = self.cfg.replication == Replication::Snapshot;
        for (i, node) in self.nodes.iter_mut().enumerate() {
            if let Node::Thread(ThreadNode { updates, .. }) = node {
                let Some(tx) = updates else { continue };
                let state = ship_state.then(|| {
                    snapshot
                        .get_or_insert_with(|| Arc::new(self.chain.state().clone()))
                        .clone()
                });
                if tx
                    .send(BlockUpdate {
                        state,
                        record: rec.clone(),
                    })
                    .is_ok()
                {
                    waiting.insert(i);
                } else {
                    // The thread is gone (it failed): treat as killed.
                    updates.take();
                }
            }
        }
        let deadline = Instant::now() + self.cfg.ack_timeout;
        while !waiting.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.ack_rx.recv_timeout(left) {
                Ok((i, height)) if height >= h => {
                    waiting.remove(&i);
                }
                Ok(_) => {}
                Err(_) => {
                    self.ack_timeouts += 1;
                    tracing::warn!(block = h, ?waiting, "keepers did not answer in time");
                    break;
                }
            }
        }
        Ok(rec)
    }

    /// Run `n` blocks.
    pub fn run(&mut self, n: u64) -> Result<(), NetworkError> {
        for _ in 0..n {
            self.step()?;
        }
        Ok(())
    }

    /// Stop every keeper; return the chain and every keeper's figures (in id order).
    pub fn shutdown(mut self) -> (LocalChain, Vec<KeeperStats>) {
        let stats = (0..self.nodes.len())
            .map(|i| self.kill(KeeperId(i)).unwrap_or_default())
            .collect();
        // Every thread is joined: dropping the nodes is now trivial.
        (self.chain, stats)
    }
}

#[allow(clippy::too_many_arguments)]
fn run_thread(
    id: usize,
    mut keeper: Keeper,
    mut view: ReplicaView,
    updates: mpsc::Receiver<BlockUpdate>,
    sink: mpsc::Sender<Tx>,
    acks: mpsc::Sender<(usize, u64)>,
    kill: Arc<AtomicBool>,
    stats: Arc<Mutex<KeeperStats>>,
) {
    let mut first = true;
    loop {
        if kill.load(Ordering::Acquire) {
            break;
        }
        if !first {
            let mut got = match updates.recv_timeout(Duration::from_millis(100)) {
                Ok(u) => vec![u],
                Err(mpsc::RecvTimeoutError::Timeout) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            // Catch up on everything that arrived meanwhile: one step for all of it.
            got.extend(updates.try_iter());
            let mut diverged = false;
            for u in got {
                if let Err(e) = view.ingest(u) {
                    // A replica that cannot follow the chain must not act on it.
                    tracing::error!(keeper = id, %e, "replica diverged: stopping");
                    diverged = true;
                    break;
                }
            }
            if diverged {
                break;
            }
            if kill.load(Ordering::Acquire) {
                break;
            }
        }
        first = false;
        match keeper.step(&view, &sink) {
            Ok(_) => {}
            Err(KeeperError::Submit(e)) => {
                tracing::info!(keeper = id, %e, "mempool closed: stopping");
                break;
            }
            Err(e) => {
                // Start over from the state at the next block.
                tracing::warn!(keeper = id, %e, "step failed; rebuilding at the next block");
                keeper.reset();
            }
        }
        if let Ok(mut s) = stats.lock() {
            *s = keeper.stats().clone();
        }
        let _ = acks.send((id, view.height()));
    }
    if let Ok(mut s) = stats.lock() {
        *s = keeper.stats().clone();
    }
}
