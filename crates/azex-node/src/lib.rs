//! # The AZEx node
//!
//! A sequencer around the pure `azex-exchange` state machine, adding no protocol rule:
//!
//! | module | what |
//! |---|---|
//! | [`chain`] | executing a block (`begin_block`, `apply` each transaction, `end_block`, state hash); replay with checks |
//! | [`mempool`] | admission (nonces, expiry, limits) and fair ordering |
//! | [`log`] | the append-only block log (checksums, one fsync per block, torn-tail recovery) behind [`log::BlockLog`] |
//! | [`index`] | redb indexes: transactions by hash, events by account and market |
//! | [`snapshot`] | state snapshots every N blocks (atomic files); start-up loads the newest valid one |
//! | [`node`] | start-up (replay, checks), sequencer, writer and indexer threads |
//! | [`priority`] | block production first: the index and snapshot threads at nice 10 (recovery keeps the normal priority) |
//! | [`metrics`] | `/metrics`: counters and histograms (block build, fsync, block → durable) |
//! | [`json`] | engine values as JSON values, integers beyond ±2^53 as strings |
//! | [`api`] | HTTP + WebSocket API (axum) |
//! | [`follower`] | a read replica replaying the node's blocks and checking every state hash |
//! | [`keeper`] | the keeper process: a follower + `azex-keeper`'s logic + signed submissions |
//! | [`devnet`] | node + keepers + bots in one command |
//! | [`loadgen`] | load generator and measurements |
//! | [`snapbench`] | snapshot size and restore time on a big state |
//! | [`args`] | the node's command-line options (shared by `azex node` and `azex-node run`) |
//!
//! See docs/node.md.

/// `println!` that never panics: a closed or full stdout (`azex devnet | head`) drops the line.
#[macro_export]
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($t)*);
    }};
}

/// `eprintln!` that never panics.
#[macro_export]
macro_rules! warn_line {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($t)*);
    }};
}

pub mod api;
pub mod args;
pub mod chain;
pub mod cli;
pub mod devnet;
pub mod follower;
pub mod genesis;
pub mod index;
pub mod json;
pub mod keeper;
pub mod loadgen;
pub mod log;
pub mod mempool;
pub mod metrics;
pub mod node;
pub mod priority;
pub mod setup;
pub mod snapbench;
pub mod snapshot;

pub use node::{start, NodeError, NodeHandle, NodeOptions};

/// Chain id of devnets and of `azex node` unless told otherwise.
pub const DEFAULT_CHAIN_ID: u64 = 31_337;
