//! Secondary indexes in redb (derived from the block log, rebuilt from it when behind):
//! transactions by hash, transactions and events by account, events by market.
//!
//! Events are located by `(height, seq)`: `seq` numbers a block's events in order (begin-block
//! events, each transaction's, end-block events). An event concerns an account when any of its
//! top-level fields is that address, and a market when it has a `market` field: no list of event
//! fields to keep in step with the engine.
//!
//! Index writes are not fsynced per block (the log is the source of truth); every
//! [`DURABLE_EVERY`] blocks a durable commit records the indexed height, and start-up re-indexes
//! the blocks after it.

use alloy_primitives::{Address, B256};
use azex_client::Block;
use redb::{Database, Durability, TableDefinition};
use serde_json::Value;
use std::path::Path;

const TXS: TableDefinition<[u8; 32], (u64, u32)> = TableDefinition::new("txs");
const ACCOUNT_TXS: TableDefinition<([u8; 20], u64, u32), ()> = TableDefinition::new("account_txs");
const ACCOUNT_EVENTS: TableDefinition<([u8; 20], u64, u32), ()> =
    TableDefinition::new("account_events");
const MARKET_EVENTS: TableDefinition<(u32, u64, u32), ()> = TableDefinition::new("market_events");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// A group of blocks holding a height that is a multiple of this is committed durably.
pub const DURABLE_EVERY: u64 = 64;

/// A redb failure (its message).
#[derive(Debug, thiserror::Error)]
#[error("index: {0}")]
pub struct IndexError(pub String);

fn e<E: std::fmt::Display>(x: E) -> IndexError {
    IndexError(x.to_string())
}

/// The node's redb database of indexes (`DATA/index.redb`).
pub struct Index {
    db: Database,
}

/// Every event of a block in `seq` order.
pub fn block_events(b: &Block) -> impl Iterator<Item = &Value> {
    b.begin_events
        .iter()
        .chain(b.txs.iter().flat_map(|t| t.events.iter()))
        .chain(b.end_events.iter())
}

fn addresses(v: &Value) -> impl Iterator<Item = Address> + '_ {
    v.as_object()
        .into_iter()
        .flat_map(|o| o.values())
        .filter_map(|x| x.as_str())
        .filter(|s| s.len() == 42 && s.starts_with("0x"))
        .filter_map(|s| s.parse::<Address>().ok())
}

fn market(v: &Value) -> Option<u32> {
    v.get("market")?
        .as_u64()
        .and_then(|m| u32::try_from(m).ok())
}

/// The index keys of a group of blocks, each table's sorted (sorted inserts touch each B-tree
/// page once per group instead of once per key).
#[derive(Default)]
struct Keys {
    txs: Vec<([u8; 32], (u64, u32))>,
    account_txs: Vec<([u8; 20], u64, u32)>,
    account_events: Vec<([u8; 20], u64, u32)>,
    market_events: Vec<(u32, u64, u32)>,
}

impl Keys {
    fn of(blocks: &[&Block]) -> Keys {
        let mut k = Keys::default();
        for b in blocks {
            // A block's transactions and events fit in u32 positions (the mempool caps a block
            // far below); saturate rather than wrap if a log ever said otherwise.
            let pos = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
            for (i, t) in b.txs.iter().enumerate() {
                k.txs.push((t.hash.0, (b.height, pos(i))));
                k.account_txs
                    .push((t.signed.tx.user().0 .0, b.height, pos(i)));
            }
            for (seq, ev) in block_events(b).enumerate() {
                let mut seen: Vec<Address> = Vec::new();
                for a in addresses(ev) {
                    if !seen.contains(&a) {
                        seen.push(a);
                        k.account_events.push((a.0 .0, b.height, pos(seq)));
                    }
                }
                if let Some(m) = market(ev) {
                    k.market_events.push((m, b.height, pos(seq)));
                }
            }
        }
        k.txs.sort_unstable();
        k.account_txs.sort_unstable();
        k.account_events.sort_unstable();
        k.market_events.sort_unstable();
        k
    }
}

impl Index {
    /// Open (or create) `dir/index.redb` and its tables.
    pub fn open(dir: &Path) -> Result<Self, IndexError> {
        let db = Database::create(dir.join("index.redb")).map_err(e)?;
        let w = db.begin_write().map_err(e)?;
        {
            w.open_table(TXS).map_err(e)?;
            w.open_table(ACCOUNT_TXS).map_err(e)?;
            w.open_table(ACCOUNT_EVENTS).map_err(e)?;
            w.open_table(MARKET_EVENTS).map_err(e)?;
            w.open_table(META).map_err(e)?;
        }
        w.commit().map_err(e)?;
        Ok(Index { db })
    }

    /// Height of the newest indexed block.
    pub fn height(&self) -> Result<u64, IndexError> {
        let r = self.db.begin_read().map_err(e)?;
        let t = r.open_table(META).map_err(e)?;
        Ok(t.get("height").map_err(e)?.map(|v| v.value()).unwrap_or(0))
    }

    /// Index blocks (in height order, following the indexed height).
    pub fn add(&self, blocks: &[&Block]) -> Result<(), IndexError> {
        let Some(last) = blocks.last() else {
            return Ok(());
        };
        let mut w = self.db.begin_write().map_err(e)?;
        let durable = blocks.iter().any(|b| b.height % DURABLE_EVERY == 0);
        w.set_durability(if durable {
            Durability::Immediate
        } else {
            Durability::None
        });
        let k = Keys::of(blocks);
        {
            let mut txs = w.open_table(TXS).map_err(e)?;
            for (h, at) in k.txs {
                txs.insert(h, at).map_err(e)?;
            }
            let mut atx = w.open_table(ACCOUNT_TXS).map_err(e)?;
            for key in k.account_txs {
                atx.insert(key, ()).map_err(e)?;
            }
            let mut aev = w.open_table(ACCOUNT_EVENTS).map_err(e)?;
            for key in k.account_events {
                aev.insert(key, ()).map_err(e)?;
            }
            let mut mev = w.open_table(MARKET_EVENTS).map_err(e)?;
            for key in k.market_events {
                mev.insert(key, ()).map_err(e)?;
            }
            let mut meta = w.open_table(META).map_err(e)?;
            meta.insert("height", last.height).map_err(e)?;
        }
        w.commit().map_err(e)?;
        Ok(())
    }

    /// Block height and position in it of the transaction with hash `h`.
    pub fn tx(&self, h: B256) -> Result<Option<(u64, u32)>, IndexError> {
        let r = self.db.begin_read().map_err(e)?;
        let t = r.open_table(TXS).map_err(e)?;
        Ok(t.get(h.0).map_err(e)?.map(|v| v.value()))
    }

    /// Events naming `a` as (height, seq): newest first, strictly before `before`, at most
    /// `limit`.
    pub fn account_events(
        &self,
        a: Address,
        before: (u64, u32),
        limit: usize,
    ) -> Result<Vec<(u64, u32)>, IndexError> {
        let r = self.db.begin_read().map_err(e)?;
        let t = r.open_table(ACCOUNT_EVENTS).map_err(e)?;
        let k = a.0 .0;
        let it = t
            .range((k, 0u64, 0u32)..(k, before.0, before.1))
            .map_err(e)?;
        let mut out = Vec::new();
        for x in it.rev().take(limit) {
            let (kk, _) = x.map_err(e)?;
            let (_, h, s) = kk.value();
            out.push((h, s));
        }
        Ok(out)
    }

    /// Transactions `a` sent, as (height, position): newest first, strictly before `before`,
    /// at most `limit`.
    pub fn account_txs(
        &self,
        a: Address,
        before: (u64, u32),
        limit: usize,
    ) -> Result<Vec<(u64, u32)>, IndexError> {
        let r = self.db.begin_read().map_err(e)?;
        let t = r.open_table(ACCOUNT_TXS).map_err(e)?;
        let k = a.0 .0;
        let it = t
            .range((k, 0u64, 0u32)..(k, before.0, before.1))
            .map_err(e)?;
        let mut out = Vec::new();
        for x in it.rev().take(limit) {
            let (kk, _) = x.map_err(e)?;
            let (_, h, s) = kk.value();
            out.push((h, s));
        }
        Ok(out)
    }

    /// Events of market `m` as (height, seq): newest first, strictly before `before`, at most
    /// `limit`.
    pub fn market_events(
        &self,
        m: u32,
        before: (u64, u32),
        limit: usize,
    ) -> Result<Vec<(u64, u32)>, IndexError> {
        let r = self.db.begin_read().map_err(e)?;
        let t = r.open_table(MARKET_EVENTS).map_err(e)?;
        let it = t
            .range((m, 0u64, 0u32)..(m, before.0, before.1))
            .map_err(e)?;
        let mut out = Vec::new();
        for x in it.rev().take(limit) {
            let (kk, _) = x.map_err(e)?;
            let (_, h, s) = kk.value();
            out.push((h, s));
        }
        Ok(out)
    }
}
