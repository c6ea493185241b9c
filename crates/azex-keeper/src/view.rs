//! What a keeper sees of the chain ([`ChainView`]) and where it sends transactions ([`TxSink`]).
//!
//! These two traits are the keeper's only doors to the chain. The in-process
//! [`LocalChain`](crate::LocalChain) and the thread-side [`ReplicaView`](crate::ReplicaView)
//! implement them; a network client would implement them over RPC, keeping a replica of the state
//! (the engine is a pure deterministic state machine, so a replica is the state the chain's
//! blocks produce) and a window of recent block records.

use azex_exchange::state::{MarketStatus, Position};
use azex_exchange::{ExchangeError, MarketId, PositionId, Simulation, State, Tx};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

/// What became of one transaction of a block: applied, or refused with the engine's reason (a
/// refused transaction changed nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The transaction, as submitted.
    pub tx: Tx,
    /// `Ok(())` if it was applied, or the engine's reason for refusing it.
    pub result: Result<(), ExchangeError>,
}

/// Everything one finished block produced: its events (block begin, every applied transaction,
/// block end, in order) and one receipt per transaction it considered, in arrival order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlockRecord {
    /// The block's height.
    pub height: u64,
    /// The block's timestamp, in seconds.
    pub timestamp: u64,
    /// Every event the block emitted: block begin, each applied transaction, block end, in
    /// order.
    pub events: Vec<azex_exchange::Event>,
    /// One receipt per transaction the block considered, in arrival order (refused ones
    /// included).
    pub receipts: Vec<Receipt>,
}

/// Why a view cannot answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ViewError {
    /// The view no longer (or never did) hold block `from`: the caller must resynchronise from
    /// the state (a keeper rebuilds its index).
    #[error("block records from {from} are not available (oldest held: {oldest:?})")]
    Unavailable {
        /// The first height asked for (the cursor + 1).
        from: u64,
        /// Height of the oldest record the view holds (`None`: it holds none).
        oldest: Option<u64>,
    },
    /// The cursor is ahead of the view (the view went back: a restarted node, a reorg).
    #[error("cursor {cursor} is ahead of the view's height {height}")]
    CursorAhead {
        /// The height the caller had folded in.
        cursor: u64,
        /// The view's height (newest finished block it knows).
        height: u64,
    },
}

/// Why a submission failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// Nobody receives transactions any more (the chain stopped or the keeper was cut off).
    #[error("the mempool is closed")]
    Closed,
}

/// A keeper's read interface to the chain.
///
/// Heights are those of *finished* blocks: `state()` is the state after block `height()` ended,
/// and a transaction submitted now is executed in a later block, at that block's prices. Nothing
/// a view says is trusted by the engine: every keeper transaction is re-checked on execution.
pub trait ChainView {
    /// Height of the newest finished block the view knows.
    fn height(&self) -> u64;

    /// The replicated state as of [`ChainView::height`]: what derived indexes
    /// ([`azex_exchange::liq_index::LiqIndex`]) and simulations are computed from.
    fn state(&self) -> &State;

    /// The records of the finished blocks after `cursor` (heights `cursor + 1 ..= height()`),
    /// oldest first. [`ViewError::Unavailable`] when the view does not hold them all.
    fn blocks_since(&self, cursor: u64) -> Result<Vec<Arc<BlockRecord>>, ViewError>;

    /// The record of one block, if the view holds it.
    fn block(&self, height: u64) -> Option<Arc<BlockRecord>> {
        let cursor = height.checked_sub(1)?;
        self.blocks_since(cursor)
            .ok()?
            .into_iter()
            .find(|r| r.height == height)
    }

    /// Number of markets.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "market ids are u32, assigned as the market count at listing, which refuses an id \
                  beyond MarketId::MAX: the count fits unless all 2^32 ids are listed"
    )]
    fn market_count(&self) -> u32 {
        self.state().markets.len() as u32
    }

    /// A market's status (`None` if it does not exist).
    fn market_status(&self, market: MarketId) -> Option<MarketStatus> {
        self.state().market(market).map(|m| m.status)
    }

    /// A position by id (`None` once it is closed, liquidated or settled).
    fn position(&self, id: PositionId) -> Option<Position> {
        self.state().position(id).copied()
    }

    /// Dry-run a transaction against the view's state (the engine's own code path).
    fn simulate(&self, tx: &Tx) -> Result<Simulation, ExchangeError> {
        self.state().simulate(tx)
    }
}

/// A bare state is a view without an event log: a keeper on it rebuilds its index every step
/// (useful in tests and in the simulator, where the state is at hand, possibly in the middle of
/// an open block, so even an unchanged height says nothing about what changed).
impl ChainView for State {
    fn height(&self) -> u64 {
        self.block.height
    }
    fn state(&self) -> &State {
        self
    }
    fn blocks_since(&self, cursor: u64) -> Result<Vec<Arc<BlockRecord>>, ViewError> {
        Err(ViewError::Unavailable {
            from: cursor.saturating_add(1),
            oldest: None,
        })
    }
}

/// Where a keeper sends transactions: a mempool.
pub trait TxSink {
    /// Hand a transaction over for inclusion in a later block. Acceptance says nothing about
    /// its outcome (the block's receipt does). [`SubmitError::Closed`] when nobody receives
    /// transactions any more.
    fn submit(&self, tx: Tx) -> Result<(), SubmitError>;
}

impl TxSink for mpsc::Sender<Tx> {
    fn submit(&self, tx: Tx) -> Result<(), SubmitError> {
        self.send(tx).map_err(|_| SubmitError::Closed)
    }
}

/// A plain list (tests, single-threaded drivers).
impl TxSink for Mutex<Vec<Tx>> {
    fn submit(&self, tx: Tx) -> Result<(), SubmitError> {
        self.lock().map_err(|_| SubmitError::Closed)?.push(tx);
        Ok(())
    }
}

impl<T: TxSink + ?Sized> TxSink for &T {
    fn submit(&self, tx: Tx) -> Result<(), SubmitError> {
        (**self).submit(tx)
    }
}

impl<T: ChainView + ?Sized> ChainView for &T {
    fn height(&self) -> u64 {
        (**self).height()
    }
    fn state(&self) -> &State {
        (**self).state()
    }
    fn blocks_since(&self, cursor: u64) -> Result<Vec<Arc<BlockRecord>>, ViewError> {
        (**self).blocks_since(cursor)
    }
    fn block(&self, height: u64) -> Option<Arc<BlockRecord>> {
        (**self).block(height)
    }
    fn market_count(&self) -> u32 {
        (**self).market_count()
    }
    fn market_status(&self, market: MarketId) -> Option<MarketStatus> {
        (**self).market_status(market)
    }
    fn position(&self, id: PositionId) -> Option<Position> {
        (**self).position(id)
    }
    fn simulate(&self, tx: &Tx) -> Result<Simulation, ExchangeError> {
        (**self).simulate(tx)
    }
}

/// A window of recent block records, shared by [`LocalChain`](crate::LocalChain) and
/// [`ReplicaView`](crate::ReplicaView).
#[derive(Debug, Clone, Default)]
pub(crate) struct RecordLog {
    records: std::collections::VecDeque<Arc<BlockRecord>>,
    retain: usize,
}

impl RecordLog {
    pub(crate) fn new(retain: usize) -> Self {
        Self {
            records: Default::default(),
            retain: retain.max(1),
        }
    }

    pub(crate) fn push(&mut self, r: Arc<BlockRecord>) {
        self.records.push_back(r);
        while self.records.len() > self.retain {
            self.records.pop_front();
        }
    }

    /// Records after `cursor` up to `height`, all of them or an error.
    pub(crate) fn since(
        &self,
        cursor: u64,
        height: u64,
    ) -> Result<Vec<Arc<BlockRecord>>, ViewError> {
        if cursor > height {
            return Err(ViewError::CursorAhead { cursor, height });
        }
        if cursor == height {
            return Ok(vec![]);
        }
        let oldest = self.records.front().map(|r| r.height);
        let from = cursor + 1;
        let start = match oldest {
            // An offset beyond `usize` is beyond any log held in memory: those records are
            // not held.
            Some(o) if o <= from => {
                usize::try_from(from - o).map_err(|_| ViewError::Unavailable { from, oldest })?
            }
            _ => return Err(ViewError::Unavailable { from, oldest }),
        };
        let out: Vec<_> = self.records.iter().skip(start).cloned().collect();
        // Contiguous from `from` to `height`, or the log has a hole.
        let contiguous = out
            .iter()
            .enumerate()
            .all(|(i, r)| r.height == from + i as u64)
            && out.last().map(|r| r.height) == Some(height);
        if !contiguous {
            return Err(ViewError::Unavailable { from, oldest });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(h: u64) -> Arc<BlockRecord> {
        Arc::new(BlockRecord {
            height: h,
            timestamp: 2 * h,
            ..Default::default()
        })
    }

    #[test]
    fn record_log_window() {
        let mut log = RecordLog::new(3);
        assert_eq!(log.since(5, 5).unwrap(), vec![]);
        assert!(matches!(
            log.since(4, 5),
            Err(ViewError::Unavailable { from: 5, .. })
        ));
        for h in 1..=5 {
            log.push(rec(h));
        }
        // Holds 3..=5.
        let hs = |v: Vec<Arc<BlockRecord>>| v.iter().map(|r| r.height).collect::<Vec<_>>();
        assert_eq!(hs(log.since(2, 5).unwrap()), vec![3, 4, 5]);
        assert_eq!(hs(log.since(4, 5).unwrap()), vec![5]);
        assert!(log.since(1, 5).is_err(), "block 2 was pruned");
        assert!(matches!(
            log.since(6, 5),
            Err(ViewError::CursorAhead { .. })
        ));
        // A view whose state is ahead of its records has a hole.
        assert!(log.since(4, 6).is_err());
        // A hole inside the window.
        log.push(rec(7));
        assert!(log.since(4, 7).is_err());
    }
}
