//! An in-process chain: a [`State`], a mempool and a log of block records, stepped block by block
//! by a test harness or a driver.
//!
//! One block is: `begin_block` → every mempool transaction in arrival order (each applied or
//! refused, with a receipt; a refusal changes nothing and never stops the block) → `end_block`
//! (which runs the engine's own ADL, drawdown and delisting checks).

use crate::view::{BlockRecord, ChainView, Receipt, RecordLog, SubmitError, TxSink, ViewError};
use azex_exchange::event::Event;
use azex_exchange::{BlockCtx, ExchangeError, State, Tx};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{mpsc, Arc};

/// How the local chain runs.
#[derive(Debug, Clone)]
pub struct ChainConfig {
    /// Seconds between blocks.
    pub block_time: u64,
    /// Most transactions a block takes (a gas limit); the rest wait, in order. `None`: no limit.
    pub max_txs_per_block: Option<usize>,
    /// Block records kept for [`ChainView::blocks_since`].
    pub retain_blocks: usize,
    /// Hash the state around every refused transaction and count any difference (a refusal must
    /// change nothing). Costs one state hash per refusal; meant for tests.
    pub verify_refusals: bool,
}

impl Default for ChainConfig {
    fn default() -> Self {
        Self {
            block_time: 2,
            max_txs_per_block: None,
            retain_blocks: 256,
            verify_refusals: false,
        }
    }
}

/// What the chain did so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainStats {
    /// Blocks produced.
    pub blocks: u64,
    /// Transactions applied, all kinds.
    pub applied: u64,
    /// Transactions refused, all kinds and reasons.
    pub refused: u64,
    /// Applied transactions by kind (`"Liquidate"`, `"SpotSwap"`, …).
    pub applied_by_kind: BTreeMap<String, u64>,
    /// Refusals by `"TxKind/ErrorKind"`, e.g. `"Liquidate/UnknownPosition"`.
    pub refusals: BTreeMap<String, u64>,
    /// Refusals after which the state hash differed (must stay 0; only counted with
    /// [`ChainConfig::verify_refusals`]).
    pub refusals_that_changed_state: u64,
    /// Refusals whose state was hashed before and after.
    pub refusals_verified: u64,
    /// `PositionLiquidated` events emitted by the blocks produced.
    pub liquidation_events: u64,
    /// `Deleveraged` events (one per ADL step on a side, by a keeper's `Deleverage` or the
    /// engine's own block-end run).
    pub deleverage_events: u64,
    /// `PositionSettled` events (positions of delisted markets settled).
    pub settlement_events: u64,
    /// `DeficitCovered` events (a position's loss beyond its margin, covered by the loss
    /// waterfall).
    pub deficit_events: u64,
}

impl ChainStats {
    /// Refusals of one transaction kind, all reasons.
    pub fn refused_of(&self, kind: &str) -> u64 {
        let prefix = format!("{kind}/");
        self.refusals
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix))
            .map(|(_, v)| *v)
            .sum()
    }
}

/// The variant name of a transaction.
pub fn tx_kind(tx: &Tx) -> &'static str {
    match tx {
        Tx::MintAzusd { .. } => "MintAzusd",
        Tx::RedeemAzusd { .. } => "RedeemAzusd",
        Tx::DepositViaSwap { .. } => "DepositViaSwap",
        Tx::SpotSwap { .. } => "SpotSwap",
        Tx::SpotLiquidity { .. } => "SpotLiquidity",
        Tx::CreateMarket { .. } => "CreateMarket",
        Tx::LpDeposit { .. } => "LpDeposit",
        Tx::LpWithdraw { .. } => "LpWithdraw",
        Tx::OpenPosition { .. } => "OpenPosition",
        Tx::ModifyPosition { .. } => "ModifyPosition",
        Tx::ClosePosition { .. } => "ClosePosition",
        Tx::AddMargin { .. } => "AddMargin",
        Tx::RemoveMargin { .. } => "RemoveMargin",
        Tx::Liquidate { .. } => "Liquidate",
        Tx::Deleverage { .. } => "Deleverage",
        Tx::SettleDelisted { .. } => "SettleDelisted",
        Tx::Relist { .. } => "Relist",
    }
}

/// The variant name of an engine error (`"NotLiquidatable"`, `"UnknownPosition"`, …).
pub fn error_kind(e: &ExchangeError) -> String {
    e.kind().to_string()
}

/// The in-process chain. See the module docs.
pub struct LocalChain {
    state: State,
    cfg: ChainConfig,
    log: RecordLog,
    tx_in: mpsc::Sender<Tx>,
    rx: mpsc::Receiver<Tx>,
    backlog: VecDeque<Tx>,
    stats: ChainStats,
}

impl LocalChain {
    /// Take over a state. If it has an open block (a testkit `World` always has one), that block
    /// is ended first and becomes the first record.
    pub fn new(mut state: State, cfg: ChainConfig) -> Result<Self, ExchangeError> {
        let mut log = RecordLog::new(cfg.retain_blocks);
        if state.block_open {
            let events = state.end_block()?;
            log.push(Arc::new(BlockRecord {
                height: state.block.height,
                timestamp: state.block.timestamp,
                events,
                receipts: vec![],
            }));
        }
        let (tx_in, rx) = mpsc::channel();
        Ok(Self {
            state,
            cfg,
            log,
            tx_in,
            rx,
            backlog: VecDeque::new(),
            stats: ChainStats::default(),
        })
    }

    /// A sender into the mempool, for another thread.
    pub fn sender(&self) -> mpsc::Sender<Tx> {
        self.tx_in.clone()
    }

    /// What the chain did so far.
    pub fn stats(&self) -> &ChainStats {
        &self.stats
    }

    /// The chain's configuration.
    pub fn config(&self) -> &ChainConfig {
        &self.cfg
    }

    /// Transactions waiting (received but not yet in a block).
    pub fn pending(&mut self) -> usize {
        self.backlog.extend(self.rx.try_iter());
        self.backlog.len()
    }

    /// Give the state back.
    pub fn into_state(self) -> State {
        self.state
    }

    /// Produce the next block: begin it, apply the mempool in arrival order (up to the block's
    /// limit), end it. Refusals are recorded, never fatal; only an engine failure at block begin or
    /// end (a bug) is an error.
    pub fn produce_block(&mut self) -> Result<Arc<BlockRecord>, ExchangeError> {
        let b = BlockCtx {
            height: self.state.block.height + 1,
            timestamp: self.state.block.timestamp + self.cfg.block_time,
        };
        let mut events = self.state.begin_block(b)?;
        self.backlog.extend(self.rx.try_iter());
        let n = self
            .cfg
            .max_txs_per_block
            .unwrap_or(usize::MAX)
            .min(self.backlog.len());
        let mut receipts = Vec::with_capacity(n);
        for tx in self.backlog.drain(..n) {
            let before = self.cfg.verify_refusals.then(|| self.state.hash());
            let kind = tx_kind(&tx);
            match self.state.apply(&tx, b) {
                Ok(ev) => {
                    self.stats.applied += 1;
                    *self.stats.applied_by_kind.entry(kind.into()).or_default() += 1;
                    events.extend(ev);
                    receipts.push(Receipt { tx, result: Ok(()) });
                }
                Err(e) => {
                    self.stats.refused += 1;
                    *self
                        .stats
                        .refusals
                        .entry(format!("{kind}/{}", error_kind(&e)))
                        .or_default() += 1;
                    if let Some(h) = before {
                        self.stats.refusals_verified += 1;
                        if self.state.hash() != h {
                            self.stats.refusals_that_changed_state += 1;
                            tracing::error!(?tx, ?e, "a refused transaction changed the state");
                        }
                    }
                    tracing::debug!(?tx, %e, "refused");
                    receipts.push(Receipt { tx, result: Err(e) });
                }
            }
        }
        events.extend(self.state.end_block()?);
        for e in &events {
            match e {
                Event::PositionLiquidated { .. } => self.stats.liquidation_events += 1,
                Event::Deleveraged { .. } => self.stats.deleverage_events += 1,
                Event::PositionSettled { .. } => self.stats.settlement_events += 1,
                Event::DeficitCovered { .. } => self.stats.deficit_events += 1,
                _ => {}
            }
        }
        self.stats.blocks += 1;
        let rec = Arc::new(BlockRecord {
            height: b.height,
            timestamp: b.timestamp,
            events,
            receipts,
        });
        self.log.push(rec.clone());
        Ok(rec)
    }
}

impl ChainView for LocalChain {
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

impl TxSink for LocalChain {
    fn submit(&self, tx: Tx) -> Result<(), SubmitError> {
        self.tx_in.send(tx).map_err(|_| SubmitError::Closed)
    }
}
