//! Plain data shared by agents, the driver and venues: ids, actions (intents) and observations.
//! All amounts are integers in the units of [`crate::units`].

use serde::{Deserialize, Serialize};

/// Index of a market in [`crate::Venue::markets`] (= index of its symbol in the price data).
pub type MarketId = usize;
/// Agent id, dense from 0 in population order. Venues use it as the account owner.
pub type AgentId = u32;
/// Position id, assigned by the venue, never reused.
pub type PositionId = u64;

/// Owner id of the genesis LP deposit made by the driver at the first block.
pub const GENESIS_OWNER: AgentId = u32::MAX;
/// Owner id of the spot arbitrageur.
pub const ARBITRAGEUR: AgentId = u32::MAX - 1;

/// Direction of a perpetual position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Gains when the price rises.
    Long,
    /// Gains when the price falls.
    Short,
}

impl Side {
    /// The other side.
    pub fn opposite(self) -> Side {
        match self {
            Side::Long => Side::Short,
            Side::Short => Side::Long,
        }
    }
    /// +1 for long, -1 for short.
    pub fn sign(self) -> i128 {
        match self {
            Side::Long => 1,
            Side::Short => -1,
        }
    }
}

/// A reference to a position inside an action batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PosRef {
    /// An existing position.
    Id(PositionId),
    /// The position opened by the `n`-th successful `Open` earlier in the same batch (0-based).
    /// The driver resolves it to `Id` before the venue sees it; venues reject it.
    Batch(u8),
}

/// What a spot swap does. `SellAll` and `Cover` are resolved by the driver from the agent's
/// spot wallet into `SellBase`/`BuyExactBase` before the venue sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SwapKind {
    /// Pay exactly `usd_in` micro-azUSD, receive base.
    BuyWithUsd {
        /// azUSD paid (micro-azUSD).
        usd_in: u128,
    },
    /// Sell exactly `base_in` (WAD) base tokens for azUSD.
    SellBase {
        /// Base tokens sold (WAD).
        base_in: u128,
    },
    /// Buy exactly `base_out` (WAD) base tokens.
    BuyExactBase {
        /// Base tokens bought (WAD).
        base_out: u128,
    },
    /// Sell the whole (positive) base balance the agent holds in this market.
    SellAll,
    /// Buy back a negative base balance (a spot short) to zero.
    Cover,
}

/// An agent's intent. Venues receive them one at a time, in batch order, with every `PosRef`
/// resolved. Leverage is `leverage_x100` (10x = 1000); collateral = notional / leverage,
/// rounded up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// Open a new isolated position of `notional_usd` (micro-azUSD at the current price).
    Open {
        /// Market to trade.
        market: MarketId,
        /// Long or short.
        side: Side,
        /// Notional (micro-azUSD).
        notional_usd: u128,
        /// Leverage ×100 (10x = 1000).
        leverage_x100: u32,
    },
    /// Close a whole position.
    Close {
        /// The position to close.
        position: PosRef,
    },
    /// Close `fraction_bps` (1..=10000) of a position's size.
    Reduce {
        /// The position to reduce.
        position: PosRef,
        /// Fraction of the size to close (bps).
        fraction_bps: u32,
    },
    /// Add collateral to a position.
    AddMargin {
        /// The position to top up.
        position: PosRef,
        /// Collateral added (micro-azUSD).
        amount_usd: u128,
    },
    /// Deposit azUSD into the LP vault.
    LpDeposit {
        /// Amount deposited (micro-azUSD).
        amount_usd: u128,
    },
    /// Redeem LP shares (WAD).
    LpWithdraw {
        /// Shares redeemed (WAD).
        shares: u128,
    },
    /// Trade the market's spot pool (azUSD/BASE).
    SpotSwap {
        /// The market whose spot pool is traded.
        market: MarketId,
        /// What the swap does.
        kind: SwapKind,
    },
    /// Liquidate a position (keepers). Duplicates and stale requests are harmless rejections.
    Liquidate {
        /// The position to liquidate.
        position: PositionId,
    },
}

impl Action {
    /// An `Open` of a long position.
    pub fn open_long(market: MarketId, notional_usd: u128, leverage_x100: u32) -> Action {
        Action::Open {
            market,
            side: Side::Long,
            notional_usd,
            leverage_x100,
        }
    }
    /// An `Open` of a short position.
    pub fn open_short(market: MarketId, notional_usd: u128, leverage_x100: u32) -> Action {
        Action::Open {
            market,
            side: Side::Short,
            notional_usd,
            leverage_x100,
        }
    }
    /// A `Close` of an existing position.
    pub fn close(id: PositionId) -> Action {
        Action::Close {
            position: PosRef::Id(id),
        }
    }
}

/// What agents may see of one market at the start of their turn.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketObs {
    /// This market's id.
    pub market: MarketId,
    /// The price in the data for this sub-step (filled in by the driver).
    pub data_price: u128,
    /// Spot pool price (WAD).
    pub spot_price: u128,
    /// Mark price (WAD).
    pub mark_price: u128,
    /// TWAP used for liquidation/ADL triggers (WAD).
    pub twap_price: u128,
    /// Long open interest, notional at the mark (micro-azUSD).
    pub long_oi_usd: u128,
    /// Short open interest, notional at the mark (micro-azUSD).
    pub short_oi_usd: u128,
    /// Current funding rate per day, WAD fraction (1e18 = 100%/day); > 0: longs pay.
    pub funding_rate_per_day: i128,
    /// This market's liquidity requirement (micro-azUSD).
    pub required_usd: u128,
    /// azUSD side of the spot pool's liquidity near the price (micro-azUSD); for a constant
    /// product pool, the azUSD reserve.
    pub spot_depth_usd: u128,
    /// Highest leverage accepted for a new position (x100).
    pub max_leverage_x100: u32,
    /// No new exposure accepted.
    pub reduce_only: bool,
    /// Positions liquidatable now (bounded list, ascending id), for keepers.
    pub liquidatable: Vec<PositionId>,
}

/// What agents may see of the LP vault.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaultObs {
    /// Net asset value (micro-azUSD), marked to market.
    pub nav_usd: i128,
    /// Sum of the markets' requirements (micro-azUSD).
    pub required_usd: u128,
    /// `nav - required` (what new exposure or withdrawals may use), micro-azUSD.
    pub free_usd: i128,
    /// LP shares outstanding (WAD).
    pub total_shares: u128,
    /// Insurance fund balance (micro-azUSD).
    pub insurance_fund_usd: i128,
}

impl VaultObs {
    /// NAV per share in WAD USD (1e18 = 1 azUSD per share). Shares are WAD and the first
    /// deposit mints one share per azUSD, so this starts at 1e18. 0 without shares.
    pub fn share_price_wad(&self) -> u128 {
        share_price_wad(self.nav_usd, self.total_shares)
    }
}

/// NAV per share in WAD USD for `nav_usd` micro-azUSD over `shares` WAD shares.
#[expect(clippy::cast_sign_loss, reason = "nav_usd is checked > 0 first")]
pub fn share_price_wad(nav_usd: i128, shares: u128) -> u128 {
    if shares == 0 || nav_usd <= 0 {
        return 0;
    }
    crate::units::mul_div_floor(nav_usd as u128, crate::units::NOTIONAL_DIV, shares)
}

/// One open position as its owner sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PositionView {
    /// Position id.
    pub id: PositionId,
    /// Its market.
    pub market: MarketId,
    /// Long or short.
    pub side: Side,
    /// Size in base tokens (WAD).
    pub size: u128,
    /// Entry price (WAD).
    pub entry_price: u128,
    /// Collateral (micro-azUSD).
    pub collateral_usd: u128,
    /// Notional at the current mark (micro-azUSD).
    pub notional_usd: u128,
    /// Price PnL at the mark (before funding and fees), micro-azUSD.
    pub upnl_usd: i128,
    /// Funding owed (> 0) or receivable (< 0), not yet settled (micro-azUSD).
    pub funding_usd: i128,
    /// collateral + upnl - funding - close fee (micro-azUSD).
    pub equity_usd: i128,
    /// Block height at which it was opened.
    pub opened_height: u64,
}

/// The agent's own books, kept by the driver from outcomes. Venues treat agents as able to pay
/// (azUSD is minted on demand); these balances say what each agent put in and took out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wallet {
    /// Net azUSD received (< 0: paid in), micro-azUSD.
    pub usd: i128,
    /// Net base tokens per market (WAD; < 0 is a spot short).
    pub base: Vec<i128>,
    /// LP shares held (WAD).
    pub lp_shares: u128,
}

/// Trading phase (scheduled agents) or keeper phase (every block, after trading).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    /// Scheduled agents trade.
    Trade,
    /// Keepers act (every block).
    Keep,
}

/// Everything an agent sees when it is asked to act.
#[derive(Clone, Copy, Debug)]
pub struct Observation<'a> {
    /// Block height.
    pub height: u64,
    /// Block timestamp (unix seconds).
    pub timestamp: u64,
    /// Global sub-step index (0-based).
    pub step: u64,
    /// Sub-steps per hour of data time.
    pub steps_per_hour: u32,
    /// Trading or keeper phase.
    pub phase: Phase,
    /// Every market, by [`MarketId`].
    pub markets: &'a [MarketObs],
    /// The LP vault.
    pub vault: &'a VaultObs,
    /// The agent's open positions.
    pub own_positions: &'a [PositionView],
    /// The agent's own books.
    pub wallet: &'a Wallet,
}
