//! The node's wire types shared by the node and its clients: blocks, receipts, acknowledgements,
//! errors. Events are carried as JSON values (the engine's `Event` serialises; its fields evolve
//! with the engine, and clients should not depend on them being fixed).

use crate::signed::SignedTx;
use alloy_primitives::B256;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The one error shape of the API: `{"error": {"code": "nonce_used", "message": "…"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// Stable, machine-readable (`snake_case`); see docs/node.md for the list.
    pub code: String,
    /// Human-readable; may change.
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ApiError,
}

/// What the engine did with an included transaction. A refused transaction changed nothing but
/// is in the block (it consumed its nonce).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Applied,
    Refused {
        /// The engine's error variant (`"NotLiquidatable"`, `"InsufficientBalance"`, …).
        kind: String,
        message: String,
    },
}

impl Outcome {
    pub fn is_applied(&self) -> bool {
        matches!(self, Outcome::Applied)
    }
}

/// One transaction of a block with its outcome and events.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BlockTx {
    pub hash: B256,
    pub signed: SignedTx,
    pub outcome: Outcome,
    pub events: Vec<Value>,
}

/// A block as the log keeps it and the API serves it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Block {
    pub height: u64,
    /// Unix seconds (non-decreasing).
    pub timestamp: u64,
    /// Canonical hash of the state after the block (`State::hash`), hex.
    pub state_hash: B256,
    /// Events of `begin_block`.
    pub begin_events: Vec<Value>,
    pub txs: Vec<BlockTx>,
    /// Events of `end_block`.
    pub end_events: Vec<Value>,
}

/// Answer to a submission. `status` is `pending` (in the mempool) or `committed` (durably in a
/// block, with the block height, index and outcome).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TxAck {
    pub hash: B256,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
}

/// One item of a batch submission's answer: the hash, or the error for that transaction.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BatchItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<B256>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiError>,
}

/// `GET /v1/status`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Status {
    pub chain_id: u64,
    /// Newest durable block.
    pub height: u64,
    pub state_hash: B256,
    /// Hash of the genesis state.
    pub genesis_hash: B256,
    pub mempool: usize,
    pub block_time_ms: u64,
}

/// `GET /v1/accounts/{address}/nonce`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NonceInfo {
    /// Next nonce after every committed transaction of the account.
    pub committed: u64,
    /// Next nonce after its pending ones too: what to sign next.
    pub next: u64,
}
