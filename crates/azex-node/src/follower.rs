//! A follower: a read replica of a node. It fetches the genesis and every block over HTTP,
//! checks every transaction's signature, replays the block on its own [`State`] with the same
//! [`crate::chain::replay`] the node uses at start-up (outcomes and state hash must match), and
//! keeps a window of block records so that keepers can run on it ([`ChainView`]).

use crate::chain;
use azex_client::{Block, Client, ClientError, Outcome};
use azex_exchange::State;
use azex_keeper::{BlockRecord, ChainView, Receipt, ViewError};
use std::collections::VecDeque;
use std::sync::Arc;

/// Why following stopped.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// The node could not be reached or answered with an error.
    #[error("node: {0}")]
    Client(#[from] ClientError),
    /// A block did not replay to its recorded outcomes or state hash.
    #[error("{0}")]
    Replay(#[from] chain::ReplayError),
    /// The genesis the node serves is not valid for the engine.
    #[error("engine: {0}")]
    Engine(#[from] azex_exchange::ExchangeError),
    #[error("block {height}, transaction {index}: {reason}")]
    /// A transaction's signature does not verify, or does not give its recorded hash.
    BadTx {
        /// Height of the block.
        height: u64,
        /// Position of the transaction in the block.
        index: usize,
        /// What is wrong with it.
        reason: String,
    },
    #[error("the node's genesis hash {node} differs from ours {ours}")]
    /// The node's genesis hash differs from that of the genesis it serves.
    Genesis {
        /// The genesis hash the node reports.
        node: alloy_primitives::B256,
        /// The hash of the genesis state built here.
        ours: alloy_primitives::B256,
    },
}

/// A replica of the node's chain.
pub struct Follower {
    /// HTTP client of the node followed.
    pub client: Client,
    /// The node's chain id (signatures are checked against it).
    pub chain_id: u64,
    state: State,
    records: VecDeque<Arc<BlockRecord>>,
    retain: usize,
    /// Check signatures of replayed transactions.
    pub verify_signatures: bool,
    /// Blocks replayed since connecting.
    pub blocks_replayed: u64,
    /// Transactions replayed since connecting.
    pub txs_replayed: u64,
}

impl Follower {
    /// Connect: read the chain id and genesis, build the genesis state, check its hash.
    pub fn connect(url: &str) -> Result<Self, FollowError> {
        let client = Client::new(url);
        let st = client.status()?;
        let g = client.genesis()?;
        let state = State::genesis(&g)?;
        let ours = alloy_primitives::B256::from(state.hash());
        if ours != st.genesis_hash {
            return Err(FollowError::Genesis {
                node: st.genesis_hash,
                ours,
            });
        }
        Ok(Follower {
            client,
            chain_id: st.chain_id,
            state,
            records: VecDeque::new(),
            retain: 256,
            verify_signatures: true,
            blocks_replayed: 0,
            txs_replayed: 0,
        })
    }

    /// The replica's state, after the newest block replayed.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Height of the newest block replayed (0: genesis).
    pub fn height(&self) -> u64 {
        self.state.block.height
    }

    /// Replay one block (the next one).
    pub fn apply(&mut self, b: &Block) -> Result<(), FollowError> {
        if self.verify_signatures {
            // Recovery on every core (the replay itself is sequential).
            let chain_id = self.chain_id;
            let cores = std::thread::available_parallelism()
                .map(|c| c.get())
                .unwrap_or(2);
            let per = b.txs.len().div_ceil(cores).max(1);
            let bad = std::thread::scope(|sc| {
                let hs: Vec<_> =
                    b.txs
                        .chunks(per)
                        .enumerate()
                        .map(|(ci, chunk)| {
                            sc.spawn(move || {
                                for (j, t) in chunk.iter().enumerate() {
                                    let r = match t.signed.verify(chain_id) {
                                        Ok(h) if h == t.hash => Ok(()),
                                        Ok(_) => Err("recorded hash differs from the signing hash"
                                            .to_string()),
                                        Err(e) => Err(e.to_string()),
                                    };
                                    if let Err(reason) = r {
                                        return Some((ci * per + j, reason));
                                    }
                                }
                                None
                            })
                        })
                        .collect();
                hs.into_iter()
                    .filter_map(|h| h.join().ok().flatten())
                    .min_by_key(|(i, _)| *i)
            });
            if let Some((index, reason)) = bad {
                return Err(FollowError::BadTx {
                    height: b.height,
                    index,
                    reason,
                });
            }
        }
        let exec = chain::replay(&mut self.state, b)?;
        let mut events = exec.begin;
        let mut receipts = Vec::with_capacity(b.txs.len());
        for (t, r) in b.txs.iter().zip(exec.results) {
            let result = match r {
                Ok(ev) => {
                    events.extend(ev);
                    Ok(())
                }
                Err(e) => Err(e),
            };
            debug_assert_eq!(result.is_ok(), t.outcome == Outcome::Applied);
            receipts.push(Receipt {
                tx: t.signed.tx.clone(),
                result,
            });
        }
        events.extend(exec.end);
        self.records.push_back(Arc::new(BlockRecord {
            height: b.height,
            timestamp: b.timestamp,
            events,
            receipts,
        }));
        while self.records.len() > self.retain {
            self.records.pop_front();
        }
        self.blocks_replayed += 1;
        self.txs_replayed += b.txs.len() as u64;
        Ok(())
    }

    /// Fetch and replay what the node has after our height (waiting up to `wait_ms` for a new
    /// block). Returns the number of blocks replayed.
    pub fn poll(&mut self, wait_ms: u64) -> Result<usize, FollowError> {
        let blocks = self.client.blocks_from(self.height() + 1, 100, wait_ms)?;
        let n = blocks.len();
        for b in &blocks {
            self.apply(b)?;
        }
        Ok(n)
    }
}

impl ChainView for Follower {
    fn height(&self) -> u64 {
        self.state.block.height
    }
    fn state(&self) -> &State {
        &self.state
    }
    fn blocks_since(&self, cursor: u64) -> Result<Vec<Arc<BlockRecord>>, ViewError> {
        let height = self.state.block.height;
        if cursor > height {
            return Err(ViewError::CursorAhead { cursor, height });
        }
        if cursor == height {
            return Ok(vec![]);
        }
        let from = cursor + 1;
        let oldest = self.records.front().map(|r| r.height);
        match oldest {
            // An offset beyond `usize` is beyond any window held in memory: not held.
            Some(o) if o <= from => {
                let start = usize::try_from(from - o)
                    .map_err(|_| ViewError::Unavailable { from, oldest })?;
                Ok(self.records.iter().skip(start).cloned().collect())
            }
            _ => Err(ViewError::Unavailable { from, oldest }),
        }
    }
}

/// Options of `azex follow`.
#[derive(Debug, Clone)]
pub struct FollowOptions {
    /// URL of the node's HTTP API.
    pub node: String,
    /// Stop after this many blocks (None: until stopped).
    pub blocks: Option<u64>,
    /// Check the signature of every replayed transaction.
    pub verify_signatures: bool,
}

/// Follow a node, printing one line per 100 blocks; returns the height reached.
pub fn follow(
    opts: &FollowOptions,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<u64, FollowError> {
    let mut f = Follower::connect(&opts.node)?;
    f.verify_signatures = opts.verify_signatures;
    let t0 = std::time::Instant::now();
    let mut last_print = 0;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        match f.poll(1_000) {
            Ok(_) => {}
            Err(FollowError::Client(e)) => {
                crate::warn_line!("azex follow: {e}; retrying");
                std::thread::sleep(std::time::Duration::from_millis(500));
                continue;
            }
            Err(e) => return Err(e),
        }
        if f.height() >= last_print + 100 {
            last_print = f.height();
            crate::say!(
                "height {} state {} ({} txs replayed, {:.0} blocks/s)",
                f.height(),
                f.state().hash_hex(),
                f.txs_replayed,
                f.blocks_replayed as f64 / t0.elapsed().as_secs_f64().max(1e-9)
            );
        }
        if let Some(n) = opts.blocks {
            if f.height() >= n {
                break;
            }
        }
    }
    crate::say!(
        "followed to height {} state {}",
        f.height(),
        f.state().hash_hex()
    );
    Ok(f.height())
}
