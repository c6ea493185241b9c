//! A small typed blocking client for the node's HTTP API (ureq, no TLS: nodes are reached on
//! loopback or behind a proxy).

use crate::key::Key;
use crate::signed::SignedTx;
use crate::wire::*;
use alloy_primitives::{Address, B256};
use azex_exchange::{Genesis, Tx};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::Duration;

/// Why a request to the node failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    /// The node answered with an error.
    #[error("{status} {}: {}", .error.code, .error.message)]
    Api {
        /// The HTTP status code.
        status: u16,
        /// The node's error body; for a body that is not the API's error shape, code
        /// `http_error` and the first 500 characters of the body as message.
        error: ApiError,
    },
    /// Could not reach the node or read its answer.
    #[error("transport: {0}")]
    Transport(String),
    /// The node answered with success but the body did not decode as the expected type.
    #[error("decode: {0}")]
    Decode(String),
}

impl ClientError {
    /// The API error code, if the node answered.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Api { error, .. } => Some(&error.code),
            _ => None,
        }
    }
}

/// A client of one node.
#[derive(Clone)]
pub struct Client {
    base: String,
    agent: ureq::Agent,
}

impl Client {
    /// `base` like `http://127.0.0.1:8545`.
    pub fn new(base: &str) -> Self {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .max_idle_connections_per_host(64)
            .build();
        Client {
            base: base.trim_end_matches('/').to_string(),
            agent,
        }
    }

    /// The node's base URL, without a trailing `/`.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn finish<T: DeserializeOwned>(
        r: Result<ureq::Response, ureq::Error>,
    ) -> Result<T, ClientError> {
        match r {
            Ok(resp) => resp
                .into_json::<T>()
                .map_err(|e| ClientError::Decode(e.to_string())),
            Err(ureq::Error::Status(status, resp)) => {
                let text = resp.into_string().unwrap_or_default();
                let error = serde_json::from_str::<ErrorBody>(&text)
                    .map(|b| b.error)
                    .unwrap_or(ApiError {
                        code: "http_error".into(),
                        message: text.chars().take(500).collect(),
                    });
                Err(ClientError::Api { status, error })
            }
            Err(e) => Err(ClientError::Transport(e.to_string())),
        }
    }

    /// GET a path (`/v1/...`) and decode the JSON answer. Errors: [`ClientError::Api`] for a
    /// non-2xx answer, [`ClientError::Transport`] if the node cannot be reached (connect timeout
    /// 5 s, overall 60 s), [`ClientError::Decode`] if the body is not a `T`. Every method below
    /// returns these same errors.
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        Self::finish(self.agent.get(&format!("{}{}", self.base, path)).call())
    }

    /// POST `body` as JSON to a path and decode the JSON answer; errors as for [`Client::get`].
    pub fn post<B: serde::Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        Self::finish(
            self.agent
                .post(&format!("{}{}", self.base, path))
                .send_json(body),
        )
    }

    /// `GET /v1/status`: chain id, durable height and state hash, genesis hash, mempool size,
    /// block time.
    pub fn status(&self) -> Result<Status, ClientError> {
        self.get("/v1/status")
    }

    /// `GET /v1/genesis`: the chain's genesis.
    pub fn genesis(&self) -> Result<Genesis, ClientError> {
        self.get("/v1/genesis")
    }

    /// `GET /v1/accounts/{a}/nonce`: the account's committed and next nonces.
    pub fn nonce(&self, a: Address) -> Result<NonceInfo, ClientError> {
        self.get(&format!("/v1/accounts/{a}/nonce"))
    }

    /// `POST /v1/tx` (with `wait_commit`, `/v1/tx?wait=commit`): submit one signed transaction.
    /// Without `wait_commit` the answer is `pending` once admitted to the mempool; with it, the
    /// answer is `committed` (height, index, outcome) after the block holding it is durable.
    /// Admission refusals come as [`ClientError::Api`] (`nonce_used`, `bad_signature`, …).
    pub fn submit(&self, tx: &SignedTx, wait_commit: bool) -> Result<TxAck, ClientError> {
        let path = if wait_commit {
            "/v1/tx?wait=commit"
        } else {
            "/v1/tx"
        };
        self.post(path, tx)
    }

    /// `POST /v1/txs`: submit many signed transactions; one [`BatchItem`] per transaction, in
    /// order (a hash if admitted, else its error). A batch refused as a whole (e.g.
    /// `batch_too_large`) is a [`ClientError::Api`].
    pub fn submit_batch(&self, txs: &[SignedTx]) -> Result<Vec<BatchItem>, ClientError> {
        self.post("/v1/txs", &txs)
    }

    /// [`Client::submit_batch`] with the body already written: a JSON array of signed
    /// transactions (a load generator serialises its transactions before it starts the clock).
    pub fn submit_batch_json(&self, body: &[u8]) -> Result<Vec<BatchItem>, ClientError> {
        Self::finish(
            self.agent
                .post(&format!("{}/v1/txs", self.base))
                .set("Content-Type", "application/json")
                .send_bytes(body),
        )
    }

    /// `POST /v1/simulate`: run an unsigned `Tx` through the engine's `simulate` on the node's
    /// state, changing nothing; `{ok: true, events, risk_after}` or
    /// `{ok: false, refusal: {kind, message}}` as JSON.
    pub fn simulate(&self, tx: &Tx) -> Result<Value, ClientError> {
        self.post("/v1/simulate", tx)
    }

    /// `GET /v1/tx/{hash}`: the transaction's receipt as JSON (`committed` with outcome and
    /// events, or `pending`); an unknown hash is a [`ClientError::Api`] with code `not_found`
    /// (404).
    pub fn tx(&self, hash: B256) -> Result<Value, ClientError> {
        self.get(&format!("/v1/tx/{hash}"))
    }

    /// `GET /v1/blocks/{height}`: one durable block with its transactions, outcomes and events.
    pub fn block(&self, height: u64) -> Result<Block, ClientError> {
        self.get(&format!("/v1/blocks/{height}"))
    }

    /// `GET /v1/blocks?from&limit&wait_ms&full=true`: durable blocks `from..` (at most `limit`),
    /// with full transactions; if `from` is beyond the head, the node waits up to `wait_ms`
    /// milliseconds (capped by the node at 30 s) for it.
    pub fn blocks_from(
        &self,
        from: u64,
        limit: u32,
        wait_ms: u64,
    ) -> Result<Vec<Block>, ClientError> {
        self.get(&format!(
            "/v1/blocks?from={from}&limit={limit}&wait_ms={wait_ms}&full=true"
        ))
    }
}

/// A key with a client, a chain id and a local nonce counter: signs and sends.
pub struct Sender {
    /// The node client used to submit.
    pub client: Client,
    /// The signing key; its address is the transactions' `user`.
    pub key: Key,
    /// The chain id signed into each transaction.
    pub chain_id: u64,
    /// The nonce the next [`Sender::sign`] uses.
    pub nonce: u64,
    /// Seconds of validity given to each transaction.
    pub ttl_secs: u64,
}

impl Sender {
    /// Reads the chain id and the account's next nonce from the node.
    pub fn connect(client: Client, key: Key) -> Result<Self, ClientError> {
        let st = client.status()?;
        let n = client.nonce(key.address())?;
        Ok(Sender {
            client,
            key,
            chain_id: st.chain_id,
            nonce: n.next,
            ttl_secs: 600,
        })
    }

    /// The key's address.
    pub fn address(&self) -> Address {
        self.key.address()
    }

    /// Re-read the next nonce from the node (after an error).
    pub fn resync(&mut self) -> Result<(), ClientError> {
        self.nonce = self.client.nonce(self.key.address())?.next;
        Ok(())
    }

    /// Sign with the next nonce (and advance it).
    pub fn sign(&mut self, tx: Tx) -> SignedTx {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let s = self
            .key
            .sign(tx, self.nonce, now + self.ttl_secs, self.chain_id);
        self.nonce += 1;
        s
    }

    /// Sign and send; on a nonce error, resynchronise the nonce (the caller may retry).
    pub fn send(&mut self, tx: Tx, wait_commit: bool) -> Result<TxAck, ClientError> {
        let s = self.sign(tx);
        let r = self.client.submit(&s, wait_commit);
        if let Err(e) = &r {
            if matches!(e.code(), Some(c) if c.starts_with("nonce"))
                || matches!(e, ClientError::Transport(_))
            {
                let _ = self.resync();
            }
        }
        r
    }
}
