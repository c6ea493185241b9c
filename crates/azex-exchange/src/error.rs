//! Every way a transaction can be refused. A refused transaction changes nothing.

use crate::ids::{MarketId, PositionId};
use alloy_primitives::Address;

/// Why a transaction or block step was refused. A refused transaction changes nothing and emits
/// nothing (docs/protocol.md §12). Amounts are in the units of [`crate::units`]: micro-azUSD
/// (`Usd`, 1e-6) unless a field says otherwise. [`ExchangeError::kind`] gives the variant's name
/// as a stable code; [`ExchangeError::is_fault`] tells faults from refusals.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeError {
    // --- arithmetic -------------------------------------------------------------------------
    /// A checked addition, multiplication or narrowing overflowed its integer type (a fault).
    #[error("arithmetic overflow")]
    Overflow,
    /// A checked unsigned subtraction went below zero (a fault).
    #[error("arithmetic underflow")]
    Underflow,
    /// A division by zero in the engine's arithmetic (a fault).
    #[error("division by zero")]
    DivisionByZero,
    /// An argument outside a math function's domain, e.g. a fractional power of a value it
    /// does not take (a fault).
    #[error("argument outside the domain of a math function")]
    MathDomain,

    // --- input ------------------------------------------------------------------------------
    /// A parameter (genesis, market parameters, strategies, a listing request) is outside its
    /// allowed range.
    #[error("invalid parameter {name}: {reason}")]
    InvalidParameter {
        /// The parameter's name (e.g. `"alpha"`, `"fee"`, `"tick_spacing/tick_range"`).
        name: &'static str,
        /// What is wrong with it, for people.
        reason: String,
    },
    /// An amount, size or margin that must be positive is 0 (or would mint no share).
    #[error("amount must be greater than zero")]
    ZeroAmount,
    /// No market has this id.
    #[error("unknown market {0}")]
    UnknownMarket(MarketId),
    /// No open position has this id (never opened, or already closed, liquidated or settled).
    #[error("unknown position {0}")]
    UnknownPosition(PositionId),
    /// The sender of a position's transaction is not its owner.
    #[error("{caller} is not the owner of position {position}")]
    NotPositionOwner {
        /// The sender of the transaction.
        caller: Address,
        /// The position it tried to act on.
        position: PositionId,
    },
    /// An action no one may take (e.g. an azUSD balance in genesis: azUSD is only minted
    /// against USDC); the string says which.
    #[error("unauthorised: {0}")]
    Unauthorised(&'static str),
    /// `begin_block` with a height not above the last block's, or a timestamp before it (a
    /// fault).
    #[error(
        "block {got} does not follow block {last} (height must increase, time must not go back)"
    )]
    BadBlock {
        /// Height of the last block begun.
        last: u64,
        /// Height of the block refused.
        got: u64,
    },
    /// A transaction or `end_block` without an open block (a fault).
    #[error("no block is open: send begin_block first")]
    NoOpenBlock,
    /// `begin_block` while a block is already open (a fault).
    #[error("a block is already open")]
    BlockAlreadyOpen,

    // --- balances ---------------------------------------------------------------------------
    /// A wallet (or, for `RemoveMargin`, a position's margin) holds less than the transaction
    /// takes from it.
    #[error("insufficient {token} balance: have {have}, need {need}")]
    InsufficientBalance {
        /// The token short (azUSD for a margin).
        token: Address,
        /// What is held, in the token's smallest unit (micro-azUSD for azUSD).
        have: u128,
        /// What the transaction needs, in the same unit.
        need: u128,
    },
    /// An LP withdrawal burns more vault shares than the LP holds.
    #[error("insufficient vault shares: have {have}, need {need}")]
    InsufficientShares {
        /// Shares held (1e-18 share units).
        have: u128,
        /// Shares the withdrawal burns (1e-18 share units).
        need: u128,
    },
    /// A redemption of azUSD asks for more USDC than the ledger holds liquid (the rest is in
    /// strategies or in transit).
    #[error("liquid USDC buffer too small for this redemption: liquid {liquid}, need {need}")]
    InsufficientLiquidBuffer {
        /// Liquid USDC in the ledger (USDC smallest unit, 1e-6).
        liquid: u128,
        /// USDC the redemption pays (= azUSD redeemed, micro-azUSD).
        need: u128,
    },

    // --- trading ----------------------------------------------------------------------------
    /// The trade's average execution price is worse than the sender's bound: a buy's above it,
    /// a sell's below it (docs/protocol.md §4.8).
    #[error("execution price {price} is worse than the bound {bound}")]
    PriceBoundExceeded {
        /// Average execution price (WAD USD per whole base token), rounded against the trader:
        /// up for a buy, down for a sell.
        price: u128,
        /// The sender's `price_bound` (WAD).
        bound: u128,
    },
    /// A deposit via swap received less azUSD than the sender's minimum.
    #[error("slippage: received {received}, minimum {minimum}")]
    Slippage {
        /// azUSD the swap would pay out (micro-azUSD).
        received: u128,
        /// The sender's `min_azusd_out` (micro-azUSD).
        minimum: u128,
    },
    /// A reduction larger than the position's effective size (an exact one is a close).
    #[error("size would flip the position's side; close it first")]
    WouldFlip,
    /// A reduction larger than the position. Not raised by the engine (a larger reduction is
    /// [`ExchangeError::WouldFlip`]); kept so clients that match on it still build.
    #[error("reduce size {reduce} exceeds the position size {size}")]
    ReduceTooLarge {
        /// Size to reduce by (`Qty` magnitude, 1e-18 base token).
        reduce: u128,
        /// The position's size (`Qty` magnitude, 1e-18 base token).
        size: u128,
    },
    /// An open, a grow or a margin removal would leave equity below the initial margin
    /// (docs/protocol.md §6.3).
    #[error("initial margin not met: equity {equity}, required {required}")]
    InitialMarginNotMet {
        /// The position's equity after the change (micro-azUSD, signed; docs/protocol.md §6.2),
        /// at the price checked.
        equity: i128,
        /// The initial margin at that price (micro-azUSD, rounded up).
        required: u128,
    },
    /// Leverage above a maximum. Not raised by the engine (margins are checked as
    /// [`ExchangeError::InitialMarginNotMet`]); kept so clients that match on it still build.
    #[error("leverage {leverage_wad} above the maximum {max_wad} (WAD)")]
    LeverageTooHigh {
        /// The leverage asked (WAD, 1e18 = 1x).
        leverage_wad: u128,
        /// The maximum (WAD).
        max_wad: u128,
    },
    /// An open whose notional at the base price is below `min_position_notional`.
    #[error("position notional {notional} below the minimum {minimum}")]
    PositionTooSmall {
        /// The open's notional `N↓(qty, B)` (micro-azUSD, rounded down).
        notional: u128,
        /// The market's `min_position_notional` (micro-azUSD).
        minimum: u128,
    },
    /// An open or a grow on a reduce-only market (depth lost, frozen, drawdown mode, or the
    /// position's ADL epoch ended).
    #[error("market {0} is reduce-only")]
    ReduceOnly(MarketId),
    /// A trade or liquidation on a delisted market (its positions are settled instead).
    #[error("market {0} is delisted")]
    Delisted(MarketId),
    /// New exposure (an open or a grow) on an active market whose oracle has not settled
    /// (docs/protocol.md §8.6).
    #[error("market {market}: its price has not settled (settles at {settles_at}, oracle lag {lag_ticks} ticks, thawing {thawing}): no new exposure")]
    PriceNotSettled {
        /// The market.
        market: MarketId,
        /// The market's `settled_at` (Unix seconds): no new exposure before it.
        settles_at: u64,
        /// Ticks between the pool's price and the truncated spot at block begin (0 required).
        lag_ticks: u32,
        /// The market's prices are thawing after a freeze.
        thawing: bool,
    },
    /// A trade that grows a position and `|net|` would end beyond the premium cap
    /// (docs/protocol.md §4.9).
    #[error("market {market}: price impact {impact_wad} would exceed the cap {cap_wad} (net OI too large for its depth)")]
    ImpactCapExceeded {
        /// The market.
        market: MarketId,
        /// The premium at the net after the trade, `⌊α·pow↓(u↑(n1, B), β)/W⌋` (WAD).
        impact_wad: u128,
        /// The market's `max_premium` (WAD).
        cap_wad: u128,
    },
    /// An open or a grow would take its side's open interest above the cap in force
    /// (docs/protocol.md §5, §11).
    #[error("market {market}: open interest {oi} would exceed the cap {cap}")]
    OpenInterestCapExceeded {
        /// The market.
        market: MarketId,
        /// The side's open interest after the trade: `N↑(side's effective size, S)`
        /// (micro-azUSD, rounded up, at the truncated spot).
        oi: u128,
        /// The cap in force at the block's depth (micro-azUSD).
        cap: u128,
    },

    /// A trade that grows a position and `|net|` when the block's impact capacity `C` is 0.
    #[error("market {0} has no impact capacity (no spot depth and no free vault liquidity)")]
    NoImpactCapacity(MarketId),

    /// A liquidation of a position whose equity is at least its maintenance margin at the
    /// liquidation price (or whose effective size is 0).
    #[error(
        "position {position} is not liquidatable: equity {equity} ≥ maintenance {maintenance}"
    )]
    NotLiquidatable {
        /// The position.
        position: PositionId,
        /// Its equity at the liquidation price after settling funding (micro-azUSD, signed).
        equity: i128,
        /// Its maintenance margin at that price (micro-azUSD, rounded up).
        maintenance: u128,
    },
    /// A second liquidation step on the same position in one block.
    #[error("position {position} already had a liquidation step in this block")]
    LiquidationCooldown {
        /// The position.
        position: PositionId,
    },
    /// A keeper's `Deleverage` when no ADL trigger asks for it (docs/protocol.md §7).
    #[error("market {0} needs no deleveraging")]
    NothingToDeleverage(MarketId),
    /// `SettleDelisted` of a position whose market is not delisted (and whose ADL epoch has not
    /// ended), or `Relist` of a market that is not delisted.
    #[error("market {0} is not delisted")]
    NotDelisted(MarketId),
    /// `Relist` of a delisted market that still has open positions or too little depth.
    #[error("market {market} cannot be listed again: {reason}")]
    RelistRefused {
        /// The market.
        market: MarketId,
        /// Why, for people.
        reason: String,
    },

    // --- LP vault and risk ------------------------------------------------------------------
    /// An open or a grow that raises the vault's total requirement above
    /// `mulW↓(NAV⁺, max_vault_utilisation)` after the transaction (docs/protocol.md §5).
    #[error("vault capacity: requirement {required} would exceed available liquidity {available}")]
    VaultCapacityExceeded {
        /// Σ of the markets' requirements after the transaction (micro-azUSD).
        required: u128,
        /// `mulW↓(NAV⁺, max_vault_utilisation)` after the transaction (micro-azUSD).
        available: u128,
    },
    /// An LP withdrawal after which the rest of the NAV would not back the requirement
    /// (docs/protocol.md §8.2).
    #[error("withdrawal of {requested} exceeds the vault's free liquidity {free}")]
    WithdrawalExceedsFreeLiquidity {
        /// What the shares are worth, `⌊shares × NAV⁺ / total shares⌋` (micro-azUSD).
        requested: u128,
        /// The vault's free liquidity now (micro-azUSD).
        free: u128,
    },
    /// The vault must pay out more azUSD than its cash (a trader's gain, funding it owes, an LP
    /// withdrawal).
    #[error("vault cash {cash} cannot pay {need}")]
    VaultCashShort {
        /// The vault's cash (micro-azUSD).
        cash: u128,
        /// What it had to pay (micro-azUSD).
        need: u128,
    },
    /// An LP deposit while NAV ≤ 0 (there is no share price to mint at); a fault.
    #[error("vault NAV is not positive: deposits are closed")]
    VaultInsolvent,
    /// An LP withdrawal before the LP's lock-up (from its last deposit) is over.
    #[error("withdrawal is locked until {unlock_time}")]
    WithdrawalLocked {
        /// Unix seconds from which the LP may withdraw.
        unlock_time: u64,
    },

    // --- listing ----------------------------------------------------------------------------
    /// `CreateMarket` for a base token that already has a market (the field).
    #[error("a market for {0} already exists")]
    MarketExists(Address),
    /// `CreateMarket` whose seeded pool's depth is below `min_listing_depth`.
    #[error("spot depth {depth} below the listing minimum {minimum}")]
    InsufficientDepth {
        /// The seeded pool's depth within the oracle band (micro-azUSD, rounded down).
        depth: u128,
        /// The genesis `min_listing_depth` (micro-azUSD).
        minimum: u128,
    },

    // --- spot / oracle ----------------------------------------------------------------------
    /// The spot pool manager refused a swap or liquidity change (v4's errors: price limit,
    /// ticks, liquidity, …).
    #[error("spot pool: {0}")]
    Spot(#[from] azex_spot::SpotError),
    /// The oracle hook refused an action or a read.
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
