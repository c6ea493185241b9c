//! Transactions: everything that can change the state, as plain data.
//!
//! `user` is the signer (authenticated by the chain around this state machine). Amounts are
//! integers in the units of [`crate::units`]; in JSON they may be given as numbers or decimal
//! strings.

use crate::ids::{MarketId, PositionId};
use crate::units::{Price, Qty, Usd};
use alloy_primitives::{Address, U256};
use serde::{Deserialize, Serialize};

/// A transaction. JSON form: `{"type": "open_position", "user": "0x…", …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Tx {
    /// Mint azUSD 1:1 for USDC from the user's wallet.
    MintAzusd {
        user: Address,
        #[serde(with = "crate::serde_num")]
        usdc: u128,
    },
    /// Redeem azUSD 1:1 for USDC, paid from the liquid buffer.
    RedeemAzusd {
        user: Address,
        #[serde(with = "crate::serde_num")]
        azusd: u128,
    },
    /// Deposit a listed base token by swapping it into azUSD through its spot pool.
    DepositViaSwap {
        user: Address,
        market: MarketId,
        #[serde(with = "crate::serde_num")]
        amount_in: u128,
        #[serde(with = "crate::serde_num")]
        min_azusd_out: u128,
    },
    /// A spot swap on a market's pool (v4 sign: negative `amount_specified` = exact input).
    /// `base_for_quote = true` sells the base token for azUSD.
    SpotSwap {
        user: Address,
        market: MarketId,
        base_for_quote: bool,
        #[serde(with = "crate::serde_num::signed")]
        amount_specified: i128,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sqrt_price_limit_x96: Option<U256>,
    },
    /// Add (positive) or remove (negative) spot liquidity on a market's pool.
    SpotLiquidity {
        user: Address,
        market: MarketId,
        tick_lower: i32,
        tick_upper: i32,
        #[serde(with = "crate::serde_num::signed")]
        liquidity_delta: i128,
        #[serde(default)]
        salt: u64,
    },
    /// Permissionless listing: create the azUSD/BASE pool with the oracle hook, seed it with the
    /// creator's liquidity, derive risk parameters from its depth.
    CreateMarket {
        user: Address,
        base_token: Address,
        base_decimals: u8,
        /// LP fee of the spot pool, pips.
        fee: u32,
        tick_spacing: i32,
        /// Initial price, USD per whole base token (WAD).
        #[serde(with = "crate::serde_num")]
        initial_price: Price,
        /// Seed liquidity: ticks either side of the initial price (rounded to the spacing).
        tick_range: i32,
        /// azUSD the creator puts into the pool (the base amount follows from the price).
        #[serde(with = "crate::serde_num")]
        seed_azusd: Usd,
    },
    /// Deposit azUSD into the LP vault for shares.
    LpDeposit {
        user: Address,
        #[serde(with = "crate::serde_num")]
        amount: Usd,
    },
    /// Burn vault shares for azUSD.
    LpWithdraw {
        user: Address,
        #[serde(with = "crate::serde_num")]
        shares: u128,
    },
    /// Open an isolated position: `qty` signed (+ long), `margin` from the wallet, and the worst
    /// acceptable average execution price.
    OpenPosition {
        user: Address,
        market: MarketId,
        #[serde(with = "crate::serde_num::signed")]
        qty: Qty,
        #[serde(with = "crate::serde_num")]
        margin: Usd,
        #[serde(with = "crate::serde_num")]
        price_bound: Price,
    },
    /// Grow (same sign) or reduce (opposite sign) a position.
    ModifyPosition {
        user: Address,
        position: PositionId,
        #[serde(with = "crate::serde_num::signed")]
        qty_delta: Qty,
        #[serde(with = "crate::serde_num")]
        price_bound: Price,
    },
    /// Close a position entirely; margin and PnL go to the wallet.
    ClosePosition {
        user: Address,
        position: PositionId,
        #[serde(with = "crate::serde_num")]
        price_bound: Price,
    },
    AddMargin {
        user: Address,
        position: PositionId,
        #[serde(with = "crate::serde_num")]
        amount: Usd,
    },
    RemoveMargin {
        user: Address,
        position: PositionId,
        #[serde(with = "crate::serde_num")]
        amount: Usd,
    },
    /// Keeper: liquidate (one step of) an under-margined position.
    Liquidate { user: Address, position: PositionId },
    /// Keeper: deleverage a market's winning side if the vault needs it (also run automatically
    /// at every block end).
    Deleverage { user: Address, market: MarketId },
    /// Settle a position of a delisted market at the settlement price (anyone may send it).
    SettleDelisted { user: Address, position: PositionId },
    /// List a delisted market again once it is empty and deep enough.
    Relist { user: Address, market: MarketId },
}

impl Tx {
    /// The signer.
    pub fn user(&self) -> Address {
        match self {
            Tx::MintAzusd { user, .. }
            | Tx::RedeemAzusd { user, .. }
            | Tx::DepositViaSwap { user, .. }
            | Tx::SpotSwap { user, .. }
            | Tx::SpotLiquidity { user, .. }
            | Tx::CreateMarket { user, .. }
            | Tx::LpDeposit { user, .. }
            | Tx::LpWithdraw { user, .. }
            | Tx::OpenPosition { user, .. }
            | Tx::ModifyPosition { user, .. }
            | Tx::ClosePosition { user, .. }
            | Tx::AddMargin { user, .. }
            | Tx::RemoveMargin { user, .. }
            | Tx::Liquidate { user, .. }
            | Tx::Deleverage { user, .. }
            | Tx::SettleDelisted { user, .. }
            | Tx::Relist { user, .. } => *user,
        }
    }
}
