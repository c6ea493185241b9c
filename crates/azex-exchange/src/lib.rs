//! # AZEx exchange: the protocol as one deterministic state machine
//!
//! `state' = apply(state, tx, block)`. No clock, no randomness, no floats, no I/O. Time comes in
//! [`BlockCtx`]. The same transactions from the same [`Genesis`] give the same [`State::hash`].
//!
//! Where each rule lives:
//!
//! | concern | module |
//! |---|---|
//! | units, precisions, named roundings | [`units`] |
//! | parameters, defaults, allowed ranges | [`params`] |
//! | pure formulas (mark, execution price, funding, requirement, margin) | [`math`] |
//! | state types (plain data) | [`state`] |
//! | the open positions (slab + hash index by id, id-ordered iteration) | [`positions`] |
//! | position book: stored vs effective sizes, O(1) ADL scaling | [`book`] |
//! | transactions and events | [`tx`], [`event`] |
//! | transaction overlay (reads through, writes buffered; crate-private) | `ctx` |
//! | handlers: trading, LP vault, azUSD ledger, listing, spot, block steps | [`handlers`] |
//! | vault NAV, requirements, capacity rule | [`risk`] |
//! | entry points: genesis, begin/end block, apply, simulate, the one commit | [`engine`] |
//! | spot pool and oracle link, price conversions | [`spot_link`] |
//! | invariants | [`invariants`] |
//! | canonical hash | [`hash`] |
//! | state snapshots (encode, decode) | [`snapshot`] |
//! | liquidation index for keepers (derived data) | [`liq_index`] |
//! | scenario files (`azex run`) | [`scenario`] |
// Test data is built with plain casts; the library itself is held to the cast lints.
#![cfg_attr(
    test,
    allow(
        clippy::cast_possible_truncation,
        clippy::cast_possible_wrap,
        clippy::cast_sign_loss,
        clippy::cast_lossless
    )
)]
// Errors are built lazily (`ok_or_else`) on purpose: `ExchangeError` has variants owning
// strings, so an eagerly built, unused error runs its drop glue on every success path.
#![allow(clippy::unnecessary_lazy_evaluations)]

pub mod book;
pub(crate) mod ctx;
pub mod engine;
pub mod error;
pub mod event;
pub mod handlers;
pub mod hash;
pub mod ids;
pub mod invariants;
pub mod liq_index;
pub mod math;
pub mod params;
pub mod positions;
pub mod risk;
pub mod scenario;
pub(crate) mod serde_num;
pub mod snapshot;
pub mod spot_link;
pub mod state;
#[cfg(any(test, feature = "test-utils"))]
pub mod testkit;
pub mod tx;
pub mod units;

pub use engine::{Genesis, GenesisBalance, Simulation};
pub use error::ExchangeError;
pub use event::Event;
pub use ids::{MarketId, PositionId};
pub use params::{GlobalParams, MarketParams};
pub use state::{BlockCtx, State, AZUSD, USDC};
pub use tx::Tx;
