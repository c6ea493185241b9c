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

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Long,
    Short,
}

impl Side {
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
    BuyWithUsd { usd_in: u128 },
    /// Sell exactly `base_in` (WAD) base tokens for azUSD.
    SellBase { base_in: u128 },
    /// Buy exactly `base_out` (WAD) base tokens.
    BuyExactBase { base_out: u128 },
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
        market: MarketId,
        side: Side,
        notional_usd: u128,
        leverage_x100: u32,
    },
    /// Close a whole position.
    Close { position: PosRef },
    /// Close `fraction_bps` (1..=10000) of a position's size.
    Reduce { position: PosRef, fraction_bps: u32 },
    /// Add collateral to a position.
    AddMargin { position: PosRef, amount_usd: u128 },
    /// Deposit azUSD into the LP vault.
    LpDeposit { amount_usd: u128 },
    /// Redeem LP shares (WAD).
    LpWithdraw { shares: u128 },
    /// Trade the market's spot pool (azUSD/BASE).
    SpotSwap { market: MarketId, kind: SwapKind },
    /// Liquidate a position (keepers). Duplicates and stale requests are harmless rejections.
    Liquidate { position: PositionId },
}

impl Action {
    pub fn open_long(market: MarketId, notional_usd: u128, leverage_x100: u32) -> Action {
        Action::Open {
            market,
            side: Side::Long,
            notional_usd,
            leverage_x100,
        }
    }
    pub fn open_short(market: MarketId, notional_usd: u128, leverage_x100: u32) -> Action {
        Action::Open {
            market,
            side: Side::Short,
            notional_usd,
            leverage_x100,
        }
    }
    pub fn close(id: PositionId) -> Action {
        Action::Close {
            position: PosRef::Id(id),
        }
    }
}

/// What agents may see of one market at the start of their turn.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketObs {
    pub market: MarketId,
    /// The price in the data for this sub-step (filled in by the driver).
    pub data_price: u128,
    /// Spot pool price (WAD).
    pub spot_price: u128,
    /// Mark price (WAD).
    pub mark_price: u128,
    /// TWAP used for liquidation/ADL triggers (WAD).
    pub twap_price: u128,
    /// Long and short open interest, notional at the mark (micro-azUSD).
    pub long_oi_usd: u128,
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
    /// Sum of the markets' requirements.
    pub required_usd: u128,
    /// `nav - required` (what new exposure or withdrawals may use).
    pub free_usd: i128,
    pub total_shares: u128,
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
pub fn share_price_wad(nav_usd: i128, shares: u128) -> u128 {
    if shares == 0 || nav_usd <= 0 {
        return 0;
    }
    crate::units::mul_div_floor(nav_usd as u128, crate::units::NOTIONAL_DIV, shares)
}

/// One open position as its owner sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PositionView {
    pub id: PositionId,
    pub market: MarketId,
    pub side: Side,
    pub size: u128,
    pub entry_price: u128,
    pub collateral_usd: u128,
    /// Notional at the current mark.
    pub notional_usd: u128,
    /// Price PnL at the mark (before funding and fees).
    pub upnl_usd: i128,
    /// Funding owed (> 0) or receivable (< 0), not yet settled.
    pub funding_usd: i128,
    /// collateral + upnl - funding - close fee.
    pub equity_usd: i128,
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
    pub lp_shares: u128,
}

/// Trading phase (scheduled agents) or keeper phase (every block, after trading).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    Trade,
    Keep,
}

/// Everything an agent sees when it is asked to act.
#[derive(Clone, Copy, Debug)]
pub struct Observation<'a> {
    pub height: u64,
    pub timestamp: u64,
    /// Global sub-step index (0-based) and sub-steps per hour of data time.
    pub step: u64,
    pub steps_per_hour: u32,
    pub phase: Phase,
    pub markets: &'a [MarketObs],
    pub vault: &'a VaultObs,
    pub own_positions: &'a [PositionView],
    pub wallet: &'a Wallet,
}
