//! Every way an oracle operation can fail, named.

use crate::params::{MAX_CARDINALITY, MAX_DEPTH_BAND_TICKS, MAX_MAX_ABS_TICK_MOVE};

/// Errors of the hook oracle. Arithmetic that could overflow is checked and reported as
/// [`OracleError::Overflow`] (or [`OracleError::Math`] for a `mulDiv`), never wrapped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OracleError {
    /// The pool has no oracle state (it was not initialized with this hook), or the ring buffer
    /// holds no observation yet (Uniswap's `'I'`).
    #[error("oracle not initialized for this pool")]
    NotInitialized,
    /// The pool key does not have azUSD as one of its currencies.
    #[error("pool does not quote in azUSD")]
    NotAnAzusdPool,
    /// The requested time is older than the oldest observation kept (Uniswap's `'OLD'`).
    #[error("observation too old: target {target} is before the oldest observation {oldest}")]
    ObservationTooOld {
        /// The time asked for.
        target: u64,
        /// The oldest observation's time.
        oldest: u64,
    },
    /// `seconds_ago` reaches before timestamp 0.
    #[error("seconds_ago {seconds_ago} exceeds the current time {now}")]
    SecondsAgoBeforeEpoch {
        /// The current time.
        now: u64,
        /// How far back was asked for.
        seconds_ago: u32,
    },
    /// The caller's time is before the latest observation: time never runs backwards.
    #[error("time went backwards: now {now} is before the latest observation {latest}")]
    TimeWentBackwards {
        /// The caller's time.
        now: u64,
        /// The latest observation's time.
        latest: u64,
    },
    /// The block number is before the block of the latest observation.
    #[error("block went backwards: block {block} is before the latest observed block {latest}")]
    BlockWentBackwards {
        /// The caller's block.
        block: u64,
        /// The latest observed block.
        latest: u64,
    },
    /// A TWAP window of zero seconds (Uniswap's `'BP'`).
    #[error("TWAP window must be at least one second")]
    ZeroWindow,
    /// `grow` beyond the ring buffer's hard limit of 65535 slots.
    #[error("cardinality {requested} exceeds the maximum {MAX_CARDINALITY}")]
    CardinalityTooLarge {
        /// The cardinality asked for.
        requested: u32,
    },
    /// A per-pool cardinality parameter of zero.
    #[error("cardinality must be at least 1")]
    ZeroCardinality,
    /// `max_abs_tick_move` outside `1..=9116`.
    #[error("max_abs_tick_move {value} outside 1..={MAX_MAX_ABS_TICK_MOVE}")]
    InvalidMaxAbsTickMove {
        /// The value given.
        value: i32,
    },
    /// `depth_band_ticks` outside `1..=1774544`.
    #[error("depth_band_ticks {value} outside 1..={MAX_DEPTH_BAND_TICKS}")]
    InvalidDepthBand {
        /// The value given.
        value: i32,
    },
    /// A tick outside `[MIN_TICK, MAX_TICK]`.
    #[error("tick {tick} out of range")]
    TickOutOfRange {
        /// The tick given.
        tick: i32,
    },
    /// Checked integer arithmetic overflowed (or a result did not fit its type).
    #[error("arithmetic overflow")]
    Overflow,
    /// A `mulDiv` failed (overflow of the 256-bit result or a zero denominator).
    #[error("math: {0}")]
    Math(#[from] azex_math::MathError),
    /// The spot pool manager refused a read (unknown pool, invalid tick band, ...).
    #[error("spot: {0}")]
    Spot(#[from] azex_spot::SpotError),
}

/// Result alias of this crate.
pub type OracleResult<T> = Result<T, OracleError>;
