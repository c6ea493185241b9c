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

/// The body of every error answer: `{"error": {...}}` around an [`ApiError`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error's code and message.
    pub error: ApiError,
}

/// What the engine did with an included transaction. A refused transaction changed nothing but
/// is in the block (it consumed its nonce).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// The engine executed the transaction; its state changes and events are in the block
    /// (`{"status": "applied"}`).
    Applied,
    /// The engine refused the transaction: no state change except the consumed nonce
    /// (`{"status": "refused", "kind": …, "message": …}`).
    Refused {
        /// The engine's error variant (`"NotLiquidatable"`, `"InsufficientBalance"`, …).
        kind: String,
        /// The engine error's human-readable text; may change.
        message: String,
    },
}

impl Outcome {
    /// Whether the engine applied the transaction (`false` for [`Outcome::Refused`]).
    pub fn is_applied(&self) -> bool {
        matches!(self, Outcome::Applied)
    }
}

/// One transaction of a block with its outcome and events.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BlockTx {
    /// The transaction hash (the EIP-712 signing hash of [`SignedTx::tx`] with its nonce, expiry
    /// and chain id), hex.
    pub hash: B256,
    /// The transaction as submitted, signature included.
    pub signed: SignedTx,
    /// Applied or refused, with the refusal's reason.
    pub outcome: Outcome,
    /// The engine events the transaction emitted, in order (empty when refused), as JSON.
    pub events: Vec<Value>,
}

/// A block as the log keeps it and the API serves it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Block {
    /// Block number in the chain's log.
    pub height: u64,
    /// Unix seconds (non-decreasing).
    pub timestamp: u64,
    /// Canonical hash of the state after the block (`State::hash`), hex.
    pub state_hash: B256,
    /// Events of `begin_block`.
    pub begin_events: Vec<Value>,
    /// The block's transactions in execution order, each with its outcome and events.
    pub txs: Vec<BlockTx>,
    /// Events of `end_block`.
    pub end_events: Vec<Value>,
}

/// Answer to a submission. `status` is `pending` (in the mempool) or `committed` (durably in a
/// block, with the block height, index and outcome).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TxAck {
    /// The transaction hash (its EIP-712 signing hash), hex.
    pub hash: B256,
    /// `"pending"` or `"committed"`.
    pub status: String,
    /// Height of the block that holds the transaction (`committed` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    /// Position of the transaction in that block's `txs`, from 0 (`committed` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// What the engine did with it (`committed` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
}

/// One item of a batch submission's answer: the hash, or the error for that transaction.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BatchItem {
    /// The transaction hash when the node admitted it to the mempool (then `error` is absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<B256>,
    /// Why the node refused this transaction (then `hash` is absent); same codes as a single
    /// submission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiError>,
}

/// `GET /v1/status`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Status {
    /// The chain id transactions must be signed for (EIP-712 domain `chainId`).
    pub chain_id: u64,
    /// Newest durable block.
    pub height: u64,
    /// Canonical state hash after block `height`, hex.
    pub state_hash: B256,
    /// Hash of the genesis state.
    pub genesis_hash: B256,
    /// Number of transactions waiting in the mempool.
    pub mempool: usize,
    /// The node's target interval between blocks, in milliseconds.
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
