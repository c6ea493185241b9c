//! Executing a block on a [`State`]: the one function the sequencer, start-up replay and
//! followers share, so that they cannot differ. It adds no protocol rule: `begin_block`, then
//! `apply` for every transaction in order (a refused transaction changes nothing but stays in the
//! block), then `end_block`, then the state hash.

use alloy_primitives::{Address, B256};
use azex_client::{Block, BlockTx, Outcome, SignedTx};
use azex_exchange::{BlockCtx, Event, ExchangeError, State, Tx};
use serde_json::Value;
use std::collections::HashMap;

/// What executing a block produced, in engine types.
pub struct Exec {
    /// The block's height and timestamp.
    pub ctx: BlockCtx,
    /// Events of `begin_block`.
    pub begin: Vec<Event>,
    /// Per transaction, in block order: its events, or the engine's refusal.
    pub results: Vec<Result<Vec<Event>, ExchangeError>>,
    /// Events of `end_block`.
    pub end: Vec<Event>,
    /// The state hash after `end_block`.
    pub state_hash: B256,
}

/// Run one block. An error here is an engine failure in `begin_block`/`end_block` (not a
/// refused transaction): the chain cannot go on.
pub fn execute<'a>(
    state: &mut State,
    ctx: BlockCtx,
    txs: impl IntoIterator<Item = &'a Tx>,
) -> Result<Exec, ExchangeError> {
    let begin = state.begin_block(ctx)?;
    let results = txs.into_iter().map(|tx| state.apply(tx, ctx)).collect();
    let end = state.end_block()?;
    Ok(Exec {
        ctx,
        begin,
        results,
        end,
        state_hash: B256::from(state.hash()),
    })
}

/// The engine's error variant name (`"NotLiquidatable"`, …): a stable code.
pub fn error_kind(e: &ExchangeError) -> String {
    azex_keeper::error_kind(e)
}

/// A transaction's recorded outcome: applied, or refused with the engine's error kind and message.
pub fn outcome_of(r: &Result<Vec<Event>, ExchangeError>) -> Outcome {
    match r {
        Ok(_) => Outcome::Applied,
        Err(e) => Outcome::Refused {
            kind: error_kind(e),
            message: e.to_string(),
        },
    }
}

fn to_values(ev: &[Event]) -> Vec<Value> {
    ev.iter().map(crate::json::jv).collect()
}

/// The block record of an execution.
pub fn to_block(exec: &Exec, txs: Vec<(B256, SignedTx)>) -> Block {
    let txs = txs
        .into_iter()
        .zip(&exec.results)
        .map(|((hash, signed), r)| BlockTx {
            hash,
            signed,
            outcome: outcome_of(r),
            events: r.as_ref().map(|e| to_values(e)).unwrap_or_default(),
        })
        .collect();
    Block {
        height: exec.ctx.height,
        timestamp: exec.ctx.timestamp,
        state_hash: exec.state_hash,
        begin_events: to_values(&exec.begin),
        txs,
        end_events: to_values(&exec.end),
    }
}

/// Why a recorded block could not be reproduced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error("block {got} does not follow block {have}")]
    /// The block's height is not the state's height + 1.
    OutOfOrder {
        /// Height of the state.
        have: u64,
        /// Height of the block.
        got: u64,
    },
    #[error("block {height}: engine error: {error}")]
    /// `begin_block` or `end_block` failed.
    Engine {
        /// Height of the block.
        height: u64,
        /// The engine's error.
        error: ExchangeError,
    },
    #[error("block {height}: transaction {index} recorded {recorded:?}, replayed {replayed:?}")]
    /// A transaction's outcome (applied, or the refusal's kind) differs from the record.
    Outcome {
        /// Height of the block.
        height: u64,
        /// Position of the transaction in the block.
        index: usize,
        /// The outcome in the block record.
        recorded: Outcome,
        /// The outcome of the re-execution.
        replayed: Outcome,
    },
    #[error("block {height}: state hash {replayed} differs from the recorded {recorded}")]
    /// The state hash after the block differs from the record.
    StateHash {
        /// Height of the block.
        height: u64,
        /// The state hash in the block record.
        recorded: B256,
        /// The state hash of the re-execution.
        replayed: B256,
    },
    #[error("block {height}: transaction {index}: {reason}")]
    /// A recorded transaction is invalid (not raised by [`replay`] itself).
    BadTx {
        /// Height of the block.
        height: u64,
        /// Position of the transaction in the block.
        index: usize,
        /// What is wrong with it.
        reason: String,
    },
}

/// Re-execute a recorded block on `state` and check every outcome and the state hash.
pub fn replay(state: &mut State, b: &Block) -> Result<Exec, ReplayError> {
    let have = state.block.height;
    if b.height != have + 1 {
        return Err(ReplayError::OutOfOrder {
            have,
            got: b.height,
        });
    }
    let ctx = BlockCtx {
        height: b.height,
        timestamp: b.timestamp,
    };
    let exec = execute(state, ctx, b.txs.iter().map(|t| &t.signed.tx)).map_err(|error| {
        ReplayError::Engine {
            height: b.height,
            error,
        }
    })?;
    for (i, (t, r)) in b.txs.iter().zip(&exec.results).enumerate() {
        let replayed = outcome_of(r);
        let same = match (&t.outcome, &replayed) {
            (Outcome::Applied, Outcome::Applied) => true,
            (Outcome::Refused { kind: a, .. }, Outcome::Refused { kind: b, .. }) => a == b,
            _ => false,
        };
        if !same {
            return Err(ReplayError::Outcome {
                height: b.height,
                index: i,
                recorded: t.outcome.clone(),
                replayed,
            });
        }
    }
    if exec.state_hash != b.state_hash {
        return Err(ReplayError::StateHash {
            height: b.height,
            recorded: b.state_hash,
            replayed: exec.state_hash,
        });
    }
    Ok(exec)
}

/// Next nonce of every account, from blocks (each included transaction uses its nonce).
#[derive(Debug, Clone, Default)]
pub struct Nonces(pub HashMap<Address, u64>);

impl Nonces {
    /// Advance the nonces of the accounts that sent transactions in `b`.
    pub fn record(&mut self, b: &Block) {
        for t in &b.txs {
            let e = self.0.entry(t.signed.tx.user()).or_default();
            *e = (*e).max(t.signed.nonce + 1);
        }
    }
}
