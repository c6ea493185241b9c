//! # AZEx keepers
//!
//! Keepers are the protocol's outside hands (docs/protocol.md §6.5, §7, §8.5): separate processes
//! that watch the chain and send the transactions the engine cannot send itself — `Liquidate` for
//! under-margined positions, `Deleverage` when the vault needs it, `SettleDelisted` for the
//! positions of delisted markets. Anyone may run one; the keeper's reward (a Dutch-auction share of
//! the liquidation penalty) pays for it.
//!
//! ## Pieces
//!
//! | piece | what it is |
//! |---|---|
//! | [`ChainView`] | the keeper's read interface: height, state, markets, positions, block records (events and receipts) since a cursor, `simulate` |
//! | [`TxSink`] | where it sends transactions (a mempool) |
//! | [`Keeper`] | a [`LiqIndex`](azex_exchange::liq_index::LiqIndex) kept up to date from block records, and a step that turns the view into transactions |
//! | [`LocalChain`] | an in-process chain (state + mempool + record log) stepped block by block |
//! | [`Network`] | a `LocalChain` with keepers inline (deterministic order) or on their own threads with their own [`ReplicaView`], fed state snapshots or replaying each block ([`Replication`]) |
//!
//! ## How a keeper works
//!
//! Each step (once per block it sees):
//! 1. **Sync.** Fold the records of every block since its cursor into its index: every position
//!    an event names is re-read from the state (`upsert`: added, re-keyed, or removed); a side
//!    named by a `Deleveraged` event is re-indexed whole (ADL rescales every position of the side
//!    at once). Funding needs nothing: the index's query carries the side's funding index. If the
//!    view cannot supply every record since the cursor (start-up, a gap, a view that went back),
//!    the index is rebuilt from the state. Receipts of its own transactions clear them from its
//!    in-flight set.
//! 2. **Plan.** For each market: if it is delisted, settle every position of it; otherwise send
//!    `Deleverage` if `simulate` says it would succeed and cut a side by more than dust
//!    ([`KeeperConfig::deleverage_min_cut_wad`]), and `Liquidate` for every index candidate at
//!    its side's liquidation price (the less favourable to the position of the truncated spot and
//!    its TWAP), pre-checked with the engine's own `is_liquidatable` ([`KeeperConfig::precheck`]).
//!    Nothing already in flight is sent again; at most [`KeeperConfig::max_txs_per_block`] per
//!    step: `Deleverage` first, then liquidations and settlements in a permutation seeded with the
//!    keeper's address, so that several capped keepers start on different positions.
//! 3. **Submit** to the sink.
//!
//! Since the engine deleverages at every block end by itself, and a keeper normally sees the
//! state after a block ended (where that has just run), a simulated `Deleverage` succeeds only on
//! a state inside a block (a bare [`State`](azex_exchange::State) view in a simulator, a chain
//! that exposes its pending state): the keeper's `Deleverage` is a backstop, not the mechanism.
//!
//! Discovery costs O(k + log n) per (market, side, margin tier) for k candidates among n positions
//! (see `docs/benchmarks.md`, "Liquidation discovery"), never a scan.
//!
//! A keeper is deterministic: ordered maps only, the permutation is a fixed function of the
//! address and the position ids, so the same views give the same transactions.
//!
//! ## Views
//!
//! - [`LocalChain`] is a view of itself (inline keepers).
//! - [`ReplicaView`] is a thread keeper's own copy: it receives each finished block and either
//!   adopts the chain's state snapshot or **replays** the block's record (block context and applied
//!   transactions) on its own state, checking that it reproduces the recorded events — the way a
//!   keeper next to a replicated deployment would follow the chain ([`Replication`]).
//! - A bare [`State`](azex_exchange::State) is a view without records: a keeper on it rebuilds
//!   its index each step.
//!
//! A network client would implement [`ChainView`] the same way as `ReplicaView` (replaying blocks
//! fetched over RPC) and [`TxSink`] as a transaction submission call.
//!
//! ```no_run
//! use azex_exchange::testkit::{addr, World, WorldSpec};
//! use azex_keeper::{ChainConfig, KeeperConfig, LocalChain, Network, NetworkConfig};
//!
//! let world = World::new(&WorldSpec::default()).unwrap();
//! let chain = LocalChain::new(world.state, ChainConfig::default()).unwrap();
//! let mut net = Network::new(chain, NetworkConfig::default());
//! let a = net.spawn(KeeperConfig::new(addr(9_001))); // its own thread and replica
//! let _b = net.add_inline(KeeperConfig::new(addr(9_002))); // stepped after each block
//! net.run(10).unwrap(); // blocks; keepers' transactions land in the next block
//! net.kill(a); // the kill switch
//! let (chain, stats) = net.shutdown();
//! println!("{:?} {:?}", chain.stats(), stats);
//! ```
//!
//! ## Why duplicate and stale transactions are harmless
//!
//! The engine trusts nothing a keeper says. `Liquidate` re-checks the position's equity against
//! its maintenance margin at the block's liquidation price, `Deleverage` re-runs the ADL triggers,
//! `SettleDelisted` requires the market to be delisted. A transaction that is no longer valid —
//! the position was already liquidated by another keeper (`UnknownPosition`), a step already ran
//! this block (`LiquidationCooldown`), the position recovered (`NotLiquidatable`), ADL already ran
//! at block end (`NothingToDeleverage`) — is refused, and a refused transaction changes nothing:
//! every handler writes to an overlay that is committed only on success. The tests hash the state
//! around every refusal to show it. So keepers need no coordination: they may all send the same
//! transaction; exactly one is applied.
//!
//! ## Failure model
//!
//! - **Any number of keepers may fail** (crash, stall, be killed, lag). Liquidation needs one
//!   live keeper; which one does not matter. With none, positions stay liquidatable (the engine
//!   never liquidates on its own: a liquidation needs someone to pay for the transaction and to be
//!   paid for it), but **ADL and the drawdown cap still run at every block end** inside the engine,
//!   so the vault's protection never waits for a keeper. Delisted markets' positions wait for a
//!   `SettleDelisted` from anyone.
//! - **The chain never waits for keepers.** [`Network`] gives live keepers a bounded time to
//!   answer; a silent keeper only means fewer transactions.
//! - **A keeper that restarts or misses blocks** rebuilds its index from the state (a full build,
//!   O(n log n)) and catches up: what is liquidatable then is liquidatable now.
//! - **Timing.** A keeper acts on the state after block h; its transaction runs in block h+1 at
//!   h+1's prices. The maintenance margin is sized to cover the oracle's bounded per-block
//!   move over that delay (docs/risk.md); a keeper that is late by more blocks than that may leave
//!   a deficit, which goes down the loss waterfall (insurance fund, then vault).
//! - **Transactions lost** before a block (a full mempool, a dropped connection) are sent again
//!   after [`KeeperConfig::inflight_ttl`] blocks without a receipt, if still needed.
//! - **Events the keeper does not know** (a new engine event that changes positions without naming
//!   them) would leave its index stale; [`KeeperConfig::rebuild_every`] bounds how long.

pub mod keeper;
pub mod local;
pub mod network;
pub mod view;

pub use keeper::{position_named, Keeper, KeeperConfig, KeeperError, KeeperStats, Step};
pub use local::{error_kind, tx_kind, ChainConfig, ChainStats, LocalChain};
pub use network::{
    replay, BlockUpdate, KeeperId, Network, NetworkConfig, NetworkError, ReplicaError, ReplicaView,
    Replication,
};
pub use view::{BlockRecord, ChainView, Receipt, SubmitError, TxSink, ViewError};
