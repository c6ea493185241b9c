//! Typed events: every state change emits one (PROTOCOL.md §1).

use crate::ids::{MarketId, PositionId};
use crate::units::{Price, Qty, SignedUsd, Usd};
use alloy_primitives::Address;
use serde::Serialize;

/// Why a loss left a position's margin (the loss waterfall, PROTOCOL.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeficitPayer {
    InsuranceFund,
    Vault,
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
        amount: SignedUsd,
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
