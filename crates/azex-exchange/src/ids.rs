//! Identifiers. Plain integers, allocated sequentially, never reused.

/// Index of a market in `State::markets`.
pub type MarketId = u32;
/// Sequential position number.
pub type PositionId = u64;
/// Index of a yield strategy in the ledger.
pub type StrategyId = u32;

/// `0..count` as market ids. A count always fits: listing refuses a market beyond
/// `MarketId::MAX` (`handlers::listing`), so the saturation never acts.
pub(crate) fn market_ids(count: usize) -> std::ops::Range<MarketId> {
    0..MarketId::try_from(count).unwrap_or(MarketId::MAX)
}

/// The id of the strategy at index `i`: at most `params::MAX_STRATEGIES` (16) exist (genesis
/// checks), so it always fits.
pub(crate) fn strategy_id(i: usize) -> StrategyId {
    StrategyId::try_from(i).unwrap_or(StrategyId::MAX)
}
