//! Identifiers. Plain integers, allocated sequentially, never reused.

/// Index of a market in `State::markets`.
pub type MarketId = u32;
/// Sequential position number.
pub type PositionId = u64;
/// Index of a yield strategy in the ledger.
pub type StrategyId = u32;
