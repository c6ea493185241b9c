//! Every way a transaction can be refused. A refused transaction changes nothing.

use crate::ids::{MarketId, PositionId};
use alloy_primitives::Address;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeError {
    // --- arithmetic -------------------------------------------------------------------------
    #[error("arithmetic overflow")]
    Overflow,
    #[error("arithmetic underflow")]
    Underflow,
    #[error("division by zero")]
    DivisionByZero,
    #[error("argument outside the domain of a math function")]
    MathDomain,

    // --- input ------------------------------------------------------------------------------
    #[error("invalid parameter {name}: {reason}")]
    InvalidParameter { name: &'static str, reason: String },
    #[error("amount must be greater than zero")]
    ZeroAmount,
    #[error("unknown market {0}")]
    UnknownMarket(MarketId),
    #[error("unknown position {0}")]
    UnknownPosition(PositionId),
    #[error("{caller} is not the owner of position {position}")]
    NotPositionOwner {
        caller: Address,
        position: PositionId,
    },
    #[error("unauthorised: {0}")]
    Unauthorised(&'static str),
    #[error(
        "block {got} does not follow block {last} (height must increase, time must not go back)"
    )]
    BadBlock { last: u64, got: u64 },
    #[error("no block is open: send begin_block first")]
    NoOpenBlock,
    #[error("a block is already open")]
    BlockAlreadyOpen,

    // --- balances ---------------------------------------------------------------------------
    #[error("insufficient {token} balance: have {have}, need {need}")]
    InsufficientBalance {
        token: Address,
        have: u128,
        need: u128,
    },
    #[error("insufficient vault shares: have {have}, need {need}")]
    InsufficientShares { have: u128, need: u128 },
    #[error("liquid USDC buffer too small for this redemption: liquid {liquid}, need {need}")]
    InsufficientLiquidBuffer { liquid: u128, need: u128 },

    // --- trading ----------------------------------------------------------------------------
    #[error("execution price {price} is worse than the bound {bound}")]
    PriceBoundExceeded { price: u128, bound: u128 },
    #[error("slippage: received {received}, minimum {minimum}")]
    Slippage { received: u128, minimum: u128 },
    #[error("size would flip the position's side; close it first")]
    WouldFlip,
    #[error("reduce size {reduce} exceeds the position size {size}")]
    ReduceTooLarge { reduce: u128, size: u128 },
    #[error("initial margin not met: equity {equity}, required {required}")]
    InitialMarginNotMet { equity: i128, required: u128 },
    #[error("leverage {leverage_wad} above the maximum {max_wad} (WAD)")]
    LeverageTooHigh { leverage_wad: u128, max_wad: u128 },
    #[error("position notional {notional} below the minimum {minimum}")]
    PositionTooSmall { notional: u128, minimum: u128 },
    #[error("market {0} is reduce-only")]
    ReduceOnly(MarketId),
    #[error("market {0} is delisted")]
    Delisted(MarketId),
    #[error("market {market}: its price has not settled (settles at {settles_at}, oracle lag {lag_ticks} ticks, thawing {thawing}): no new exposure")]
    PriceNotSettled {
        market: MarketId,
        settles_at: u64,
        lag_ticks: u32,
        thawing: bool,
    },
    #[error("market {market}: price impact {impact_wad} would exceed the cap {cap_wad} (net OI too large for its depth)")]
    ImpactCapExceeded {
        market: MarketId,
        impact_wad: u128,
        cap_wad: u128,
    },
    #[error("market {market}: open interest {oi} would exceed the cap {cap}")]
    OpenInterestCapExceeded {
        market: MarketId,
        oi: u128,
        cap: u128,
    },

    #[error("market {0} has no impact capacity (no spot depth and no free vault liquidity)")]
    NoImpactCapacity(MarketId),

    #[error(
        "position {position} is not liquidatable: equity {equity} ≥ maintenance {maintenance}"
    )]
    NotLiquidatable {
        position: PositionId,
        equity: i128,
        maintenance: u128,
    },
    #[error("position {position} already had a liquidation step in this block")]
    LiquidationCooldown { position: PositionId },
    #[error("market {0} needs no deleveraging")]
    NothingToDeleverage(MarketId),
    #[error("market {0} is not delisted")]
    NotDelisted(MarketId),
    #[error("market {market} cannot be listed again: {reason}")]
    RelistRefused { market: MarketId, reason: String },

    // --- LP vault and risk ------------------------------------------------------------------
    #[error("vault capacity: requirement {required} would exceed available liquidity {available}")]
    VaultCapacityExceeded { required: u128, available: u128 },
    #[error("withdrawal of {requested} exceeds the vault's free liquidity {free}")]
    WithdrawalExceedsFreeLiquidity { requested: u128, free: u128 },
    #[error("vault cash {cash} cannot pay {need}")]
    VaultCashShort { cash: u128, need: u128 },
    #[error("vault NAV is not positive: deposits are closed")]
    VaultInsolvent,
    #[error("withdrawal is locked until {unlock_time}")]
    WithdrawalLocked { unlock_time: u64 },

    // --- listing ----------------------------------------------------------------------------
    #[error("a market for {0} already exists")]
    MarketExists(Address),
    #[error("spot depth {depth} below the listing minimum {minimum}")]
    InsufficientDepth { depth: u128, minimum: u128 },

    // --- strategies -------------------------------------------------------------------------
    #[error("unknown strategy {0}")]
    UnknownStrategy(u32),
    #[error("strategy {id} capacity exceeded: {requested} > {available}")]
    StrategyCapacity {
        id: u32,
        requested: u128,
        available: u128,
    },

    // --- spot / oracle ----------------------------------------------------------------------
    #[error("spot pool: {0}")]
    Spot(#[from] azex_spot::SpotError),
    #[error("oracle: {0}")]
    Oracle(#[from] azex_oracle::OracleError),
    /// A check of the engine against itself failed (e.g. a pool action executed differently
    /// from its quote): a bug, never the sender's fault.
    #[error("internal fault: {0}")]
    Internal(String),
}

impl ExchangeError {
    /// The variant's name (`"NotLiquidatable"`, `"PriceNotSettled"`, …): a stable code for
    /// refusals in events, APIs and logs (no parsing of the message).
    pub fn kind(&self) -> &'static str {
        use ExchangeError::*;
        match self {
            Overflow => "Overflow",
            Underflow => "Underflow",
            DivisionByZero => "DivisionByZero",
            MathDomain => "MathDomain",
            InvalidParameter { .. } => "InvalidParameter",
            ZeroAmount => "ZeroAmount",
            UnknownMarket(_) => "UnknownMarket",
            UnknownPosition(_) => "UnknownPosition",
            NotPositionOwner { .. } => "NotPositionOwner",
            Unauthorised(_) => "Unauthorised",
            BadBlock { .. } => "BadBlock",
            NoOpenBlock => "NoOpenBlock",
            BlockAlreadyOpen => "BlockAlreadyOpen",
            InsufficientBalance { .. } => "InsufficientBalance",
            InsufficientShares { .. } => "InsufficientShares",
            InsufficientLiquidBuffer { .. } => "InsufficientLiquidBuffer",
            PriceBoundExceeded { .. } => "PriceBoundExceeded",
            Slippage { .. } => "Slippage",
            WouldFlip => "WouldFlip",
            ReduceTooLarge { .. } => "ReduceTooLarge",
            InitialMarginNotMet { .. } => "InitialMarginNotMet",
            LeverageTooHigh { .. } => "LeverageTooHigh",
            PositionTooSmall { .. } => "PositionTooSmall",
            ReduceOnly(_) => "ReduceOnly",
            Delisted(_) => "Delisted",
            PriceNotSettled { .. } => "PriceNotSettled",
            ImpactCapExceeded { .. } => "ImpactCapExceeded",
            OpenInterestCapExceeded { .. } => "OpenInterestCapExceeded",
            NoImpactCapacity(_) => "NoImpactCapacity",
            NotLiquidatable { .. } => "NotLiquidatable",
            LiquidationCooldown { .. } => "LiquidationCooldown",
            NothingToDeleverage(_) => "NothingToDeleverage",
            NotDelisted(_) => "NotDelisted",
            RelistRefused { .. } => "RelistRefused",
            VaultCapacityExceeded { .. } => "VaultCapacityExceeded",
            WithdrawalExceedsFreeLiquidity { .. } => "WithdrawalExceedsFreeLiquidity",
            VaultCashShort { .. } => "VaultCashShort",
            VaultInsolvent => "VaultInsolvent",
            WithdrawalLocked { .. } => "WithdrawalLocked",
            MarketExists(_) => "MarketExists",
            InsufficientDepth { .. } => "InsufficientDepth",
            UnknownStrategy(_) => "UnknownStrategy",
            StrategyCapacity { .. } => "StrategyCapacity",
            Spot(_) => "Spot",
            Oracle(_) => "Oracle",
            Internal(_) => "Internal",
        }
    }

    /// Whether this is a fault (an arithmetic limit reached, a block out of order, the vault
    /// insolvent: a bug or an input outside what the engine is built for) rather than a refusal
    /// of the sender's transaction under the protocol's rules. Both change nothing.
    pub fn is_fault(&self) -> bool {
        use ExchangeError::*;
        matches!(
            self,
            Overflow
                | Underflow
                | DivisionByZero
                | MathDomain
                | BadBlock { .. }
                | NoOpenBlock
                | BlockAlreadyOpen
                | VaultInsolvent
                | Internal(_)
        )
    }
}

/// [`ExchangeError::Overflow`], for `ok_or_else` (an eagerly built error is dropped on the
/// success path, which costs a call because some variants own strings).
#[inline]
pub(crate) fn overflow() -> ExchangeError {
    ExchangeError::Overflow
}

impl From<azex_math::MathError> for ExchangeError {
    fn from(e: azex_math::MathError) -> Self {
        match e {
            azex_math::MathError::DivisionByZero => ExchangeError::DivisionByZero,
            azex_math::MathError::Domain => ExchangeError::MathDomain,
            azex_math::MathError::Overflow => ExchangeError::Overflow,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ExchangeError::*;
    use super::*;

    /// `kind()` is the variant's name for every variant (what `Debug` prints first).
    #[test]
    fn kind_is_the_variant_name() {
        let a = Address::ZERO;
        let all = [
            Overflow,
            Underflow,
            DivisionByZero,
            MathDomain,
            InvalidParameter {
                name: "x",
                reason: String::new(),
            },
            ZeroAmount,
            UnknownMarket(0),
            UnknownPosition(0),
            NotPositionOwner {
                caller: a,
                position: 0,
            },
            Unauthorised("x"),
            BadBlock { last: 0, got: 0 },
            NoOpenBlock,
            BlockAlreadyOpen,
            InsufficientBalance {
                token: a,
                have: 0,
                need: 0,
            },
            InsufficientShares { have: 0, need: 0 },
            InsufficientLiquidBuffer { liquid: 0, need: 0 },
            PriceBoundExceeded { price: 0, bound: 0 },
            Slippage {
                received: 0,
                minimum: 0,
            },
            WouldFlip,
            ReduceTooLarge { reduce: 0, size: 0 },
            InitialMarginNotMet {
                equity: 0,
                required: 0,
            },
            LeverageTooHigh {
                leverage_wad: 0,
                max_wad: 0,
            },
            PositionTooSmall {
                notional: 0,
                minimum: 0,
            },
            ReduceOnly(0),
            Delisted(0),
            PriceNotSettled {
                market: 0,
                settles_at: 0,
                lag_ticks: 0,
                thawing: false,
            },
            ImpactCapExceeded {
                market: 0,
                impact_wad: 0,
                cap_wad: 0,
            },
            OpenInterestCapExceeded {
                market: 0,
                oi: 0,
                cap: 0,
            },
            NoImpactCapacity(0),
            NotLiquidatable {
                position: 0,
                equity: 0,
                maintenance: 0,
            },
            LiquidationCooldown { position: 0 },
            NothingToDeleverage(0),
            NotDelisted(0),
            RelistRefused {
                market: 0,
                reason: String::new(),
            },
            VaultCapacityExceeded {
                required: 0,
                available: 0,
            },
            WithdrawalExceedsFreeLiquidity {
                requested: 0,
                free: 0,
            },
            VaultCashShort { cash: 0, need: 0 },
            VaultInsolvent,
            WithdrawalLocked { unlock_time: 0 },
            MarketExists(a),
            InsufficientDepth {
                depth: 0,
                minimum: 0,
            },
            UnknownStrategy(0),
            StrategyCapacity {
                id: 0,
                requested: 0,
                available: 0,
            },
            Spot(azex_spot::SpotError::PoolNotInitialized),
            Oracle(azex_oracle::OracleError::ZeroWindow),
            Internal(String::new()),
        ];
        for e in &all {
            let debug = format!("{e:?}");
            let name: String = debug.chars().take_while(|c| c.is_alphanumeric()).collect();
            assert_eq!(e.kind(), name, "{debug}");
        }
        assert!(Overflow.is_fault() && Internal(String::new()).is_fault());
        assert!(!ZeroAmount.is_fault() && !ReduceOnly(0).is_fault());
    }
}
