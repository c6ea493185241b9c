#![warn(missing_docs)]
//! A Uniswap v4-exact concentrated-liquidity pool manager with hooks.
//!
//! * [`math`]: v4-core's math libraries (TickMath, SqrtPriceMath, SwapMath, FullMath, BitMath,
//!   LiquidityMath, fee libraries, SafeCast), bit-exact.
//! * [`tick_bitmap`], [`tick`], [`pool`]: one pool's state, each action split into a read-only
//!   compute phase and an infallible commit phase.
//! * [`manager`]: [`PoolManager`], many pools keyed by [`PoolKey`], hooks ([`hooks`]), protocol
//!   and dynamic fees, per-pool token balances.
//! * [`error`]: [`SpotError`], named after v4's errors, with the exact v4 revert data.
//! * [`vectors`]: replay of v4-core reference vectors; [`chain_replay`]: replay of on-chain
//!   pool event logs from a snapshot.
//!
//! No floats, clocks, randomness or hash-map iteration: everything is deterministic integer
//! math; overflow is a named error except where Uniswap wraps on purpose (Q128 fee growth).
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

#[cfg(feature = "replay")]
pub mod chain_replay;
pub mod error;
pub mod hooks;
pub mod manager;
pub mod math;
pub mod pool;
pub mod tick;
pub mod tick_bitmap;
pub mod types;
#[cfg(feature = "replay")]
pub mod vectors;

pub use error::SpotError;
pub use hooks::*;
pub use manager::{PoolEntry, PoolManager};
pub use pool::{ModifyLiquidityOutcome, Pool, PositionInfo, PositionKey, Slot0, SwapOutcome};
pub use tick::TickInfo;
pub use types::*;
