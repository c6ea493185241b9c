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
        /// The signer: pays the USDC and receives the azUSD.
        user: Address,
        /// USDC paid in, in its smallest unit (1e-6, the same as micro-azUSD); the same number
        /// of micro-azUSD is minted. Refused (`ZeroAmount`) if 0.
        #[serde(with = "crate::serde_num")]
        usdc: u128,
    },
    /// Redeem azUSD 1:1 for USDC, paid from the liquid buffer.
    RedeemAzusd {
        /// The signer: burns the azUSD and receives the USDC.
        user: Address,
        /// azUSD burned (micro-azUSD); the same number of USDC units is paid out. Refused
        /// (`InsufficientLiquidBuffer`) beyond the ledger's liquid USDC.
        #[serde(with = "crate::serde_num")]
        azusd: u128,
    },
    /// Deposit a listed base token by swapping it into azUSD through its spot pool.
    DepositViaSwap {
        /// The signer: pays the base token and receives the azUSD.
        user: Address,
        /// The market whose pool (and base token) is used.
        market: MarketId,
        /// Base token sold (exact input), in the token's own smallest unit (its decimals).
        #[serde(with = "crate::serde_num")]
        amount_in: u128,
        /// Least azUSD the swap must pay out (micro-azUSD), else refused (`Slippage`).
        #[serde(with = "crate::serde_num")]
        min_azusd_out: u128,
    },
    /// A spot swap on a market's pool (v4 sign: negative `amount_specified` = exact input).
    /// `base_for_quote = true` sells the base token for azUSD.
    SpotSwap {
        /// The signer: pays the input token and receives the output token.
        user: Address,
        /// The market whose pool is swapped on.
        market: MarketId,
        /// `true`: base token in, azUSD out; `false`: azUSD in, base token out.
        base_for_quote: bool,
        /// v4 convention: negative = exact input (of the input token), positive = exact output
        /// (of the output token), in that token's smallest unit (micro-azUSD for azUSD).
        /// Refused (`ZeroAmount`) if 0.
        #[serde(with = "crate::serde_num::signed")]
        amount_specified: i128,
        /// Price limit as a v4 Q64.96 sqrt price; absent: no limit (v4's extreme sqrt price,
        /// one unit inside it, in the swap's direction).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sqrt_price_limit_x96: Option<U256>,
    },
    /// Add (positive) or remove (negative) spot liquidity on a market's pool.
    SpotLiquidity {
        /// The signer: owner of the liquidity position; pays the tokens in (adding) or
        /// receives them, with the position's accrued fees (removing).
        user: Address,
        /// The market whose pool is changed.
        market: MarketId,
        /// Lower tick of the range (inclusive; a multiple of the pool's tick spacing).
        tick_lower: i32,
        /// Upper tick of the range (exclusive; a multiple of the pool's tick spacing).
        tick_upper: i32,
        /// Change of v4 liquidity `L` (not a token amount): + add, − remove. A removal that
        /// leaves the depth below the market's stop-trading level freezes the market
        /// (docs/protocol.md §8.5).
        #[serde(with = "crate::serde_num::signed")]
        liquidity_delta: i128,
        /// Tells apart positions of one owner on one range (v4's salt: this integer,
        /// big-endian, in the last 8 of its 32 bytes); default 0.
        #[serde(default)]
        salt: u64,
    },
    /// Permissionless listing: create the azUSD/BASE pool with the oracle hook, seed it with the
    /// creator's liquidity, derive risk parameters from its depth.
    CreateMarket {
        /// The signer: the lister, who pays the seed liquidity in azUSD and base token and
        /// owns the seed position.
        user: Address,
        /// The base token to list: not azUSD, USDC or the zero address, and not listed yet
        /// (`MarketExists`).
        base_token: Address,
        /// The base token's decimals (≤ 30), used to convert pool prices to WAD prices.
        base_decimals: u8,
        /// LP fee of the spot pool, pips (1e-6; at most 10 000 = 1 %). The market's taker fee
        /// is at least this fee tier (docs/protocol.md §11).
        fee: u32,
        /// Tick spacing of the spot pool (1 ..= 16 384).
        tick_spacing: i32,
        /// Initial price, USD per whole base token (WAD).
        #[serde(with = "crate::serde_num")]
        initial_price: Price,
        /// Seed liquidity: ticks either side of the initial price (rounded to the spacing;
        /// 1 ..= 443 636).
        tick_range: i32,
        /// azUSD the creator puts into the pool, micro-azUSD (the base amount follows from the
        /// price). The pool's depth must reach `min_listing_depth` (`InsufficientDepth`).
        #[serde(with = "crate::serde_num")]
        seed_azusd: Usd,
    },
    /// Deposit azUSD into the LP vault for shares.
    LpDeposit {
        /// The signer: pays the azUSD and receives the shares (locked for `lp_lockup_secs`).
        user: Address,
        /// azUSD deposited (micro-azUSD). Refused (`ZeroAmount`) if 0 or if it would mint no
        /// share (docs/protocol.md §8.2).
        #[serde(with = "crate::serde_num")]
        amount: Usd,
    },
    /// Burn vault shares for azUSD.
    LpWithdraw {
        /// The signer: burns the shares and receives the azUSD.
        user: Address,
        /// Vault shares burned (1e-18 share units); paid `⌊shares × NAV⁺ / total shares⌋`
        /// micro-azUSD.
        #[serde(with = "crate::serde_num")]
        shares: u128,
    },
    /// Open an isolated position: `qty` signed (+ long), `margin` from the wallet, and the worst
    /// acceptable average execution price.
    OpenPosition {
        /// The signer: owner of the new position; pays the margin.
        user: Address,
        /// The market traded.
        market: MarketId,
        /// Size, `Qty` (1e-18 base token, [`QTY_ONE`](crate::units::QTY_ONE) = one token),
        /// positive long, negative short; refused (`ZeroAmount`) if 0.
        #[serde(with = "crate::serde_num::signed")]
        qty: Qty,
        /// Margin taken from the wallet (micro-azUSD); the fee is then taken from it.
        #[serde(with = "crate::serde_num")]
        margin: Usd,
        /// Worst acceptable average execution price (WAD USD per whole base token): a long's
        /// ceiling on what it pays per unit, a short's floor on what it receives per unit
        /// (`PriceBoundExceeded`).
        #[serde(with = "crate::serde_num")]
        price_bound: Price,
    },
    /// Grow (same sign) or reduce (opposite sign) a position.
    ModifyPosition {
        /// The signer: must own the position (`NotPositionOwner`).
        user: Address,
        /// The position changed.
        position: PositionId,
        /// Size change in effective units (`Qty`, 1e-18 base token): same sign as the position
        /// grows it, opposite sign reduces it; a reduction of exactly the effective size
        /// closes it, a larger one is refused (`WouldFlip`).
        #[serde(with = "crate::serde_num::signed")]
        qty_delta: Qty,
        /// Worst acceptable average execution price of the change (WAD): a ceiling for a buy
        /// (`qty_delta` > 0), a floor for a sell.
        #[serde(with = "crate::serde_num")]
        price_bound: Price,
    },
    /// Close a position entirely; margin and PnL go to the wallet.
    ClosePosition {
        /// The signer: must own the position; receives the margin left.
        user: Address,
        /// The position closed.
        position: PositionId,
        /// Worst acceptable average execution price of the closing trade (WAD): a floor when
        /// closing a long (a sell), a ceiling when closing a short (a buy).
        #[serde(with = "crate::serde_num")]
        price_bound: Price,
    },
    /// Move azUSD from the owner's wallet into a position's margin (allowed in any market
    /// status; pays funding debt first).
    AddMargin {
        /// The signer: must own the position; pays the azUSD.
        user: Address,
        /// The position whose margin grows.
        position: PositionId,
        /// azUSD added (micro-azUSD); refused (`ZeroAmount`) if 0.
        #[serde(with = "crate::serde_num")]
        amount: Usd,
    },
    /// Move azUSD from a position's margin back to the owner's wallet, if the position still
    /// meets its initial margin at its liquidation price afterwards (docs/protocol.md §6.3).
    RemoveMargin {
        /// The signer: must own the position; receives the azUSD.
        user: Address,
        /// The position whose margin shrinks.
        position: PositionId,
        /// azUSD removed (micro-azUSD); refused (`ZeroAmount`) if 0, (`InsufficientBalance`)
        /// above the margin, (`InitialMarginNotMet`) if the rest is too little.
        #[serde(with = "crate::serde_num")]
        amount: Usd,
    },
    /// Keeper: liquidate (one step of) an under-margined position.
    Liquidate {
        /// The keeper: receives the keeper's share of the penalty.
        user: Address,
        /// The position liquidated.
        position: PositionId,
    },
    /// Keeper: deleverage a market's winning side if the vault needs it (also run automatically
    /// at every block end).
    Deleverage {
        /// The sender (anyone; receives nothing).
        user: Address,
        /// The market deleveraged; refused (`NothingToDeleverage`) if no trigger asks.
        market: MarketId,
    },
    /// Settle a position of a delisted market at the settlement price (anyone may send it).
    SettleDelisted {
        /// The sender (anyone; the margin left goes to the position's owner, not to it).
        user: Address,
        /// The position settled: its market must be delisted, or its ADL epoch ended (then
        /// settled at the risk price); else refused (`NotDelisted`).
        position: PositionId,
    },
    /// List a delisted market again once it is empty and deep enough.
    Relist {
        /// The sender (anyone).
        user: Address,
        /// The delisted market; refused (`RelistRefused`) while positions are open or the
        /// pool's depth is below `min_listing_depth`.
        market: MarketId,
    },
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
