//! Typed events: every state change emits one (docs/protocol.md §12).

use crate::ids::{MarketId, PositionId};
use crate::units::{Price, Qty, SignedUsd, Usd};
use alloy_primitives::Address;
use serde::Serialize;

/// Why a loss left a position's margin (the loss waterfall, docs/protocol.md §6.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeficitPayer {
    InsuranceFund,
    Vault,
}

/// What an auditor needs to recompute a trade's price (docs/protocol.md §4.10): the base price
/// the trade executed around, the block's impact capacity and the free liquidity it came from,
/// the market's net before and after, the premium and mark on each side of the trade, and the
/// impact pool after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TradePricing {
    /// Base price `B`: the higher of truncated spot and TWAP for a buy, the lower for a sell.
    pub price: Price,
    /// The block's impact capacity `C`.
    pub capacity: Usd,
    /// The vault's free liquidity at block start (the `k2` part of `C`).
    pub free_liquidity: Usd,
    /// `long − short` effective OI before and after the trade (base units).
    pub net_before: Qty,
    pub net_after: Qty,
    /// Signed mark premium (clamped, at the truncated spot), before and after, WAD.
    pub premium_before_wad: i128,
    pub premium_after_wad: i128,
    /// `spot × (1 + premium)`, before and after.
    pub mark_before: Price,
    pub mark_after: Price,
    /// Impact charged but not collected because the position could not pay it (never a deficit).
    pub charge_waived: Usd,
    /// The market's impact pool after the trade.
    pub impact_pool_after: Usd,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    BlockBegun {
        height: u64,
        timestamp: u64,
    },
    BlockEnded {
        height: u64,
    },
    AzusdMinted {
        user: Address,
        amount: u128,
    },
    AzusdRedeemed {
        user: Address,
        amount: u128,
    },
    SwappedIntoAzusd {
        user: Address,
        market: MarketId,
        amount_in: u128,
        azusd_out: u128,
    },
    SpotSwapped {
        user: Address,
        market: MarketId,
        amount0: i128,
        amount1: i128,
        tick_after: i32,
    },
    SpotLiquidityChanged {
        user: Address,
        market: MarketId,
        tick_lower: i32,
        tick_upper: i32,
        liquidity_delta: i128,
        amount0: i128,
        amount1: i128,
    },
    MarketCreated {
        market: MarketId,
        base_token: Address,
        creator: Address,
        spot_liquidity: Usd,
        max_oi_per_side: Usd,
        /// The listing price (USD per base token, WAD) and what the lister put into the pool.
        price: Price,
        seed_azusd: Usd,
        seed_base: u128,
        /// The market's taker fee (at least the pool's LP fee tier).
        taker_fee_wad: u128,
    },
    MarketStatusChanged {
        market: MarketId,
        status: String,
    },
    PricesUpdated {
        market: MarketId,
        spot: Price,
        risk: Price,
        pool: Price,
        spot_liquidity: Usd,
        /// The vault's free liquidity at block start and the block's impact capacity.
        free_liquidity: Usd,
        impact_capacity: Usd,
        /// The frozen price in force (0 = none): spot and risk above equal it.
        frozen_price: Price,
        /// The live oracle's truncated spot and TWAP (before a freeze or a thaw replaces them),
        /// and how many ticks the truncated spot lags the pool.
        oracle_spot: Price,
        oracle_risk: Price,
        oracle_lag_ticks: u32,
        /// Whether the market takes new exposure in this block (`handlers::price_guard`).
        new_exposure: bool,
    },
    /// The funding rate for the interval until the next block (set at the end of a block).
    FundingRateSet {
        market: MarketId,
        rate_per_day_wad: i128,
    },
    /// Funding accrued at the start of a block over the elapsed time, at the rate in force.
    FundingAccrued {
        market: MarketId,
        rate_per_day_wad: i128,
        long_index: i128,
        short_index: i128,
        vault_share: SignedUsd,
    },
    LpDeposited {
        user: Address,
        amount: Usd,
        shares: u128,
    },
    LpWithdrawn {
        user: Address,
        shares: u128,
        amount: Usd,
    },
    PositionOpened {
        position: PositionId,
        owner: Address,
        market: MarketId,
        qty: Qty,
        margin: Usd,
        cost: SignedUsd,
        avg_price: Price,
        fee: Usd,
        impact_charge: Usd,
        impact_rebate: Usd,
        pricing: TradePricing,
    },
    PositionModified {
        position: PositionId,
        qty_delta: Qty,
        qty_after: Qty,
        cost_delta: SignedUsd,
        avg_price: Price,
        realised_pnl: SignedUsd,
        fee: Usd,
        impact_charge: Usd,
        impact_rebate: Usd,
        pricing: TradePricing,
    },
    PositionClosed {
        position: PositionId,
        owner: Address,
        realised_pnl: SignedUsd,
        payout: Usd,
        avg_price: Price,
        fee: Usd,
        impact_charge: Usd,
        impact_rebate: Usd,
        pricing: TradePricing,
    },
    PositionLiquidated {
        position: PositionId,
        keeper: Address,
        price: Price,
        closed_qty: Qty,
        remaining_qty: Qty,
        realised_pnl: SignedUsd,
        penalty: Usd,
        keeper_reward: Usd,
        to_insurance: Usd,
        equity_before: SignedUsd,
        maintenance_before: Usd,
        /// What the owner received (non-zero only when this step closed the position).
        payout: Usd,
    },
    Deleveraged {
        market: MarketId,
        long_side: bool,
        keep_wad: u128,
        price: Price,
        qty_before: u128,
        qty_after: u128,
        positions: u64,
        realised_pnl: SignedUsd,
    },
    DrawdownCapHit {
        share_price: u128,
        high_water: u128,
    },
    DrawdownRecovered {
        share_price: u128,
        high_water: u128,
    },
    PositionSettled {
        position: PositionId,
        owner: Address,
        price: Price,
        realised_pnl: SignedUsd,
        payout: Usd,
    },
    AdlSettled {
        position: PositionId,
        realised_pnl: SignedUsd,
    },
    FundingSettled {
        position: PositionId,
        /// Funding settled (+ = the position paid, − = it received).
        amount: SignedUsd,
        /// What of it the margin could not pay: the position's funding debt after settling.
        debt_after: Usd,
    },
    MarginChanged {
        position: PositionId,
        delta: SignedUsd,
        margin_after: Usd,
    },
    DeficitCovered {
        position: PositionId,
        payer: DeficitPayer,
        amount: Usd,
    },
    FeesDistributed {
        market: MarketId,
        to_vault: Usd,
        to_treasury: Usd,
    },
    YieldAccrued {
        strategy: u32,
        amount: u128,
        to_vault: Usd,
        to_treasury: Usd,
    },
    StrategyRebalanced {
        strategy: u32,
        deposited: u128,
        withdrawal_requested: u128,
    },
    StrategyWithdrawalArrived {
        strategy: u32,
        amount: u128,
    },
}

impl Event {
    /// The event's name as serialised (`"position_opened"`, …): its `event` tag in JSON.
    pub fn kind(&self) -> &'static str {
        use Event::*;
        match self {
            BlockBegun { .. } => "block_begun",
            BlockEnded { .. } => "block_ended",
            AzusdMinted { .. } => "azusd_minted",
            AzusdRedeemed { .. } => "azusd_redeemed",
            SwappedIntoAzusd { .. } => "swapped_into_azusd",
            SpotSwapped { .. } => "spot_swapped",
            SpotLiquidityChanged { .. } => "spot_liquidity_changed",
            MarketCreated { .. } => "market_created",
            MarketStatusChanged { .. } => "market_status_changed",
            PricesUpdated { .. } => "prices_updated",
            FundingRateSet { .. } => "funding_rate_set",
            FundingAccrued { .. } => "funding_accrued",
            LpDeposited { .. } => "lp_deposited",
            LpWithdrawn { .. } => "lp_withdrawn",
            PositionOpened { .. } => "position_opened",
            PositionModified { .. } => "position_modified",
            PositionClosed { .. } => "position_closed",
            PositionLiquidated { .. } => "position_liquidated",
            Deleveraged { .. } => "deleveraged",
            DrawdownCapHit { .. } => "drawdown_cap_hit",
            DrawdownRecovered { .. } => "drawdown_recovered",
            PositionSettled { .. } => "position_settled",
            AdlSettled { .. } => "adl_settled",
            FundingSettled { .. } => "funding_settled",
            MarginChanged { .. } => "margin_changed",
            DeficitCovered { .. } => "deficit_covered",
            FeesDistributed { .. } => "fees_distributed",
            YieldAccrued { .. } => "yield_accrued",
            StrategyRebalanced { .. } => "strategy_rebalanced",
            StrategyWithdrawalArrived { .. } => "strategy_withdrawal_arrived",
        }
    }
}
