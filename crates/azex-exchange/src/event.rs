//! Typed events: every state change emits one (docs/protocol.md §12).

use crate::ids::{MarketId, PositionId};
use crate::units::{Price, Qty, SignedUsd, Usd};
use alloy_primitives::Address;
use serde::Serialize;

/// Why a loss left a position's margin (the loss waterfall, docs/protocol.md §6.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeficitPayer {
    /// The insurance fund paid it: its azUSD moved to the vault's cash.
    InsuranceFund,
    /// The vault bore it (what the insurance fund could not pay): the vault was owed it and does
    /// not get it; no azUSD moves.
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
    /// `long − short` effective OI before the trade, the trading position included (`Qty`,
    /// 1e-18 base token, signed).
    pub net_before: Qty,
    /// `long − short` effective OI after the trade (`Qty`, 1e-18 base token, signed).
    pub net_after: Qty,
    /// Signed mark premium at `net_before` (WAD, clamped to ±`max_premium`, at the truncated
    /// spot and the block's capacity; + = mark above spot).
    pub premium_before_wad: i128,
    /// Signed mark premium at `net_after` (WAD, clamped to ±`max_premium`; + = mark above
    /// spot).
    pub premium_after_wad: i128,
    /// Mark price before the trade, `spot × (1 + premium_before)` (WAD USD per whole base
    /// token, the premium's part rounded down).
    pub mark_before: Price,
    /// Mark price after the trade, `spot × (1 + premium_after)` (WAD USD per whole base token,
    /// the premium's part rounded down).
    pub mark_after: Price,
    /// Impact charged but not collected because the position could not pay it (never a deficit).
    pub charge_waived: Usd,
    /// The market's impact pool after the trade.
    pub impact_pool_after: Usd,
}

/// A state change, as the engine reports it: every transaction and block step returns the events
/// it caused, in order (a refused transaction emits none). JSON form: `{"event": "position_opened",
/// …}`. Amounts are in the units of [`crate::units`]: micro-azUSD (`Usd`, 1e-6) for azUSD,
/// `Qty` (1e-18 base token, + long, − short) for sizes, WAD (1e18 = 1) for prices, ratios and
/// rates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// `begin_block` opened a block (first event of the block).
    BlockBegun {
        /// The block's height.
        height: u64,
        /// The block's time, Unix seconds.
        timestamp: u64,
    },
    /// `end_block` closed the block (last event of the block, after the block-end steps').
    BlockEnded {
        /// The block's height.
        height: u64,
    },
    /// `MintAzusd`: USDC paid in, azUSD minted 1:1.
    AzusdMinted {
        /// The sender: paid the USDC, received the azUSD.
        user: Address,
        /// azUSD minted (micro-azUSD) = USDC paid (USDC smallest unit, 1e-6).
        amount: u128,
    },
    /// `RedeemAzusd`: azUSD burned, USDC paid 1:1 from the liquid buffer.
    AzusdRedeemed {
        /// The sender: burned the azUSD, received the USDC.
        user: Address,
        /// azUSD burned (micro-azUSD) = USDC paid out (USDC smallest unit, 1e-6).
        amount: u128,
    },
    /// `DepositViaSwap`: a base token sold for azUSD (after the swap's `SpotSwapped`).
    SwappedIntoAzusd {
        /// The sender: sold the base token, received the azUSD.
        user: Address,
        /// The market whose pool was used.
        market: MarketId,
        /// Base token sold, in the token's own smallest unit.
        amount_in: u128,
        /// azUSD received (micro-azUSD), at least the sender's minimum.
        azusd_out: u128,
    },
    /// A spot swap on a market's pool (`SpotSwap`, or the swap inside `DepositViaSwap`).
    SpotSwapped {
        /// The sender: paid the input token, received the output token.
        user: Address,
        /// The market whose pool was swapped on.
        market: MarketId,
        /// The sender's change of currency0 of the pool (the lower token address), in its
        /// smallest unit, v4 sign: − paid into the pool, + received from it.
        amount0: i128,
        /// The sender's change of currency1 of the pool, same convention.
        amount1: i128,
        /// The pool's tick after the swap (the exchange's prices follow from the next block).
        tick_after: i32,
    },
    /// Spot liquidity added or removed on a market's pool (`SpotLiquidity`).
    SpotLiquidityChanged {
        /// The sender: owner of the liquidity position.
        user: Address,
        /// The market whose pool changed.
        market: MarketId,
        /// Lower tick of the range.
        tick_lower: i32,
        /// Upper tick of the range.
        tick_upper: i32,
        /// Change of v4 liquidity `L`: + added, − removed.
        liquidity_delta: i128,
        /// The sender's change of currency0 (smallest unit, v4 sign: − paid in, + received,
        /// fees owed to the position included).
        amount0: i128,
        /// The sender's change of currency1, same convention.
        amount1: i128,
    },
    /// `CreateMarket`: a market was listed and its pool created and seeded.
    MarketCreated {
        /// The new market's id.
        market: MarketId,
        /// Its base token.
        base_token: Address,
        /// The lister (paid the seed, owns the seed position).
        creator: Address,
        /// The pool's depth `D` at listing (micro-azUSD, rounded down).
        spot_liquidity: Usd,
        /// Open-interest cap per side derived from that depth (micro-azUSD, docs/protocol.md
        /// §11).
        max_oi_per_side: Usd,
        /// The listing price (USD per base token, WAD) and what the lister put into the pool.
        price: Price,
        /// azUSD the lister paid into the pool (micro-azUSD).
        seed_azusd: Usd,
        /// Base token the lister paid into the pool, in the token's own smallest unit.
        seed_base: u128,
        /// The market's taker fee (at least the pool's LP fee tier).
        taker_fee_wad: u128,
    },
    /// A market's status changed (depth lost or back, drawdown mode, delisting, ADL waiting
    /// for an epoch slot, relisting).
    MarketStatusChanged {
        /// The market.
        market: MarketId,
        /// The new status as text: `"Active"`, `"ReduceOnly"`,
        /// `"Delisted { settlement_price: … }"` (WAD), or `"Active (relisted by 0x…)"`.
        status: String,
    },
    /// At every block begin, for every market: the prices, depth and impact capacity in force
    /// for the whole block (docs/protocol.md §3, §4.2, §8.6).
    PricesUpdated {
        /// The market.
        market: MarketId,
        /// Spot `S` in force (WAD): the truncated oracle's, or the frozen or thawing price.
        spot: Price,
        /// Risk price `R` in force (WAD): the capped TWAP, or the frozen or thawing price.
        risk: Price,
        /// The pool's current (untruncated) price, for display (WAD).
        pool: Price,
        /// The pool's depth `D` within the oracle band (micro-azUSD, rounded down).
        spot_liquidity: Usd,
        /// The vault's free liquidity `F` at block start (micro-azUSD): the `k2` part of the
        /// capacity.
        free_liquidity: Usd,
        /// The block's impact capacity `C = mulW↓(D, k1) + mulW↓(F, k2)` (micro-azUSD).
        impact_capacity: Usd,
        /// The frozen price in force (0 = none): spot and risk above equal it.
        frozen_price: Price,
        /// The live oracle's truncated spot (WAD), before a freeze or a thaw replaces it.
        oracle_spot: Price,
        /// The live oracle's capped TWAP price (WAD), before a freeze or a thaw replaces it.
        oracle_risk: Price,
        /// Ticks between the pool's tick and the truncated tick at block begin (0 = no lag).
        oracle_lag_ticks: u32,
        /// Whether the market takes new exposure in this block (`handlers::price_guard`).
        new_exposure: bool,
    },
    /// The funding rate for the interval until the next block (set at the end of a block).
    FundingRateSet {
        /// The market.
        market: MarketId,
        /// The new rate per day (WAD, signed: + longs pay shorts, − shorts pay longs), capped at
        /// ±`max_funding_rate` (docs/protocol.md §9.1).
        rate_per_day_wad: i128,
    },
    /// Funding accrued at the start of a block over the elapsed time, at the rate in force.
    FundingAccrued {
        /// The market.
        market: MarketId,
        /// The rate the interval accrued at (WAD per day, signed: + longs pay).
        rate_per_day_wad: i128,
        /// The long side's funding index after the accrual (azUSD units × 1e18 per stored whole
        /// token): the paying side's index rises by the step rounded up, the receiving side's
        /// falls by it rounded down (docs/protocol.md §9.2).
        long_index: i128,
        /// The short side's funding index after the accrual (same units and rule).
        short_index: i128,
        /// The change of the funding traders owe the vault as the vault counts it (micro-azUSD,
        /// signed: + the vault's NAV gains; docs/protocol.md §9.2).
        vault_share: SignedUsd,
    },
    /// `LpDeposit`: azUSD moved into the vault's cash, shares minted.
    LpDeposited {
        /// The LP (sender).
        user: Address,
        /// azUSD deposited (micro-azUSD).
        amount: Usd,
        /// Shares minted (1e-18 share units), `⌊amount × total shares / NAV⌋` (1e12 per
        /// micro-azUSD for the first deposit).
        shares: u128,
    },
    /// `LpWithdraw`: shares burned, azUSD paid from the vault's cash.
    LpWithdrawn {
        /// The LP (sender).
        user: Address,
        /// Shares burned (1e-18 share units).
        shares: u128,
        /// azUSD paid to the LP (micro-azUSD), `⌊shares × NAV⁺ / total shares⌋`.
        amount: Usd,
    },
    /// `OpenPosition`: a position was opened.
    PositionOpened {
        /// The new position's id.
        position: PositionId,
        /// Its owner (the sender).
        owner: Address,
        /// The market.
        market: MarketId,
        /// Its size (`Qty`, + long, − short).
        qty: Qty,
        /// Its margin after the fee (micro-azUSD).
        margin: Usd,
        /// Its cost basis: spot cost + net impact charge − paid rebate (micro-azUSD, signed,
        /// docs/protocol.md §4.7): positive (paid) for a long, negative (received) for a short.
        cost: SignedUsd,
        /// Average execution price `|cost| / |qty|` (WAD, rounded up for a buy, down for a
        /// sell).
        avg_price: Price,
        /// Taker fee taken from the margin (micro-azUSD, rounded up); split between vault and
        /// treasury.
        fee: Usd,
        /// Net impact charge collected (micro-azUSD; in the cost basis).
        impact_charge: Usd,
        /// Impact rebate paid (micro-azUSD; in the cost basis).
        impact_rebate: Usd,
        /// The trade's pricing record.
        pricing: TradePricing,
    },
    /// `ModifyPosition` that grew or reduced a position (a reduction to zero is a
    /// `PositionClosed` instead).
    PositionModified {
        /// The position.
        position: PositionId,
        /// The size traded (`Qty`, effective units: same sign as the position grows it).
        qty_delta: Qty,
        /// Effective size after the trade (`Qty`, signed).
        qty_after: Qty,
        /// The trade's cost, spot cost + net impact charge − paid rebate, before any waiver
        /// (micro-azUSD, signed: positive when a buy pays, negative when a sell receives).
        cost_delta: SignedUsd,
        /// Average execution price (WAD, rounded up for a buy, down for a sell).
        avg_price: Price,
        /// PnL realised by a reduction, `−spot cost − released cost + paid rebate − collected
        /// charge` (micro-azUSD, signed; 0 for a grow).
        realised_pnl: SignedUsd,
        /// Taker fee taken from the margin (micro-azUSD, capped at the margin).
        fee: Usd,
        /// Impact charge collected (micro-azUSD; for a reduction, up to what the margin held).
        impact_charge: Usd,
        /// Impact rebate paid (micro-azUSD).
        impact_rebate: Usd,
        /// The trade's pricing record.
        pricing: TradePricing,
    },
    /// A position was closed by its owner (`ClosePosition`, or a `ModifyPosition` reducing by
    /// the whole size).
    PositionClosed {
        /// The position (removed).
        position: PositionId,
        /// Its owner, who received the payout.
        owner: Address,
        /// PnL realised by the closing trade (micro-azUSD, signed; 0 when ADL had already
        /// taken the whole size).
        realised_pnl: SignedUsd,
        /// Margin left paid to the owner's wallet (micro-azUSD), after PnL, funding debt and
        /// fee.
        payout: Usd,
        /// Average execution price (WAD; 0 when nothing was left to trade).
        avg_price: Price,
        /// Taker fee taken from the margin (micro-azUSD, capped at the margin).
        fee: Usd,
        /// Impact charge collected (micro-azUSD, up to what the margin held).
        impact_charge: Usd,
        /// Impact rebate paid (micro-azUSD).
        impact_rebate: Usd,
        /// The trade's pricing record (the market's figures unchanged when nothing was traded).
        pricing: TradePricing,
    },
    /// `Liquidate`: one liquidation step (docs/protocol.md §6.5).
    PositionLiquidated {
        /// The position.
        position: PositionId,
        /// The keeper (sender), paid `keeper_reward`.
        keeper: Address,
        /// The liquidation price the step was judged and executed at: `min(S, R)` for a long,
        /// `max(S, R)` for a short (WAD).
        price: Price,
        /// Size closed by the step, signed as the closing trade (− for a long, + for a short).
        closed_qty: Qty,
        /// Effective size left (`Qty`, signed; 0 = the position is closed).
        remaining_qty: Qty,
        /// Price PnL of the closed part at `price`, minus its released cost (micro-azUSD,
        /// signed, rounded toward −∞).
        realised_pnl: SignedUsd,
        /// Penalty taken from the margin, `min(mulW↑(N↑(closed, price), penalty), margin)`
        /// (micro-azUSD).
        penalty: Usd,
        /// The keeper's share of the penalty, credited to its wallet (micro-azUSD, rounded
        /// down).
        keeper_reward: Usd,
        /// The rest of the penalty, to the insurance fund (micro-azUSD).
        to_insurance: Usd,
        /// The position's equity at `price` before the step, funding settled (micro-azUSD,
        /// signed).
        equity_before: SignedUsd,
        /// Its maintenance margin at `price` before the step (micro-azUSD, rounded up).
        maintenance_before: Usd,
        /// What the owner received (non-zero only when this step closed the position).
        payout: Usd,
    },
    /// ADL shrank one side of a market by a kept fraction (docs/protocol.md §7): at a block
    /// end or on a keeper's `Deleverage`.
    Deleveraged {
        /// The market.
        market: MarketId,
        /// The side cut (`true` = long).
        long_side: bool,
        /// The fraction of the side kept (WAD; 0 = the side was closed entirely and a new ADL
        /// epoch starts).
        keep_wad: u128,
        /// The price the removed part is realised at: the risk price (WAD).
        price: Price,
        /// The side's effective size before the cut (`Qty` magnitude).
        qty_before: u128,
        /// The side's effective size after the cut (`Qty` magnitude).
        qty_after: u128,
        /// Open positions of the side's current epoch, all cut by the same fraction.
        positions: u64,
        /// PnL realised for the side's positions by the cut (micro-azUSD, signed): credited to
        /// each position when it is next touched (`AdlSettled`).
        realised_pnl: SignedUsd,
    },
    /// At a block end the share price fell below the drawdown floor: drawdown mode begins
    /// (every market reduce-only; docs/protocol.md §8.4).
    DrawdownCapHit {
        /// The share price, `⌊NAV⁺ × WAD / total shares⌋` (micro-azUSD per 1e18 share units).
        share_price: u128,
        /// The high-water mark it is measured against (same unit).
        high_water: u128,
    },
    /// Drawdown mode ended: the share price recovered to within half the cap, or the
    /// high-water mark was rebased after a cool-down with no new low.
    DrawdownRecovered {
        /// The share price (micro-azUSD per 1e18 share units).
        share_price: u128,
        /// The high-water mark after it (equal to `share_price` after a rebase).
        high_water: u128,
    },
    /// `SettleDelisted`: a position of a delisted market (or of an ended ADL epoch) was
    /// settled and removed.
    PositionSettled {
        /// The position (removed).
        position: PositionId,
        /// Its owner, who received the payout.
        owner: Address,
        /// Settlement price (WAD): the market's, or the risk price for an ended epoch.
        price: Price,
        /// `value↓(q, price) − cost` (micro-azUSD, signed), no fee, no impact.
        realised_pnl: SignedUsd,
        /// Margin left paid to the owner's wallet (micro-azUSD).
        payout: Usd,
    },
    /// ADL PnL realised earlier for a position was credited to (or taken from) its margin when
    /// it was next touched.
    AdlSettled {
        /// The position.
        position: PositionId,
        /// The PnL settled (micro-azUSD, signed: + paid by the vault, − taken from the margin,
        /// beyond it down the waterfall), rounded toward −∞.
        realised_pnl: SignedUsd,
    },
    /// A position's funding was settled when it was touched (docs/protocol.md §9.3).
    FundingSettled {
        /// The position.
        position: PositionId,
        /// Funding settled (+ = the position paid, − = it received).
        amount: SignedUsd,
        /// What of it the margin could not pay: the position's funding debt after settling.
        debt_after: Usd,
    },
    /// `AddMargin` or `RemoveMargin`.
    MarginChanged {
        /// The position.
        position: PositionId,
        /// azUSD moved (micro-azUSD, signed: + added from the wallet, − removed to it).
        delta: SignedUsd,
        /// The margin after the change (micro-azUSD; after paying funding debt when adding).
        margin_after: Usd,
    },
    /// A loss beyond a position's margin, or funding debt unpaid at its end, was covered
    /// (docs/protocol.md §6.7): one event per payer.
    DeficitCovered {
        /// The position whose deficit it was.
        position: PositionId,
        /// Who covered this part.
        payer: DeficitPayer,
        /// The part covered (micro-azUSD).
        amount: Usd,
    },
    /// At block begin: a strategy's simple-interest yield since its last accrual, minted as
    /// azUSD (docs/protocol.md §10).
    YieldAccrued {
        /// The strategy's index in the ledger.
        strategy: u32,
        /// Yield accrued, added to the strategy's assets and minted as azUSD (micro-azUSD =
        /// USDC units, rounded down).
        amount: u128,
        /// The LP share, `mulW↓(amount, lp_yield_share)`, to the vault's cash (micro-azUSD).
        to_vault: Usd,
        /// The rest, to the treasury (micro-azUSD).
        to_treasury: Usd,
    },
    /// At block end: USDC moved between the liquid buffer and a strategy (one of the two
    /// amounts is 0).
    StrategyRebalanced {
        /// The strategy's index in the ledger.
        strategy: u32,
        /// USDC moved from the liquid buffer into the strategy (USDC smallest unit, 1e-6).
        deposited: u128,
        /// USDC requested back from the strategy, arriving after its withdrawal delay (USDC
        /// smallest unit, 1e-6).
        withdrawal_requested: u128,
    },
    /// At block begin: matured withdrawals of a strategy returned to the liquid buffer.
    StrategyWithdrawalArrived {
        /// The strategy's index in the ledger.
        strategy: u32,
        /// USDC that arrived (USDC smallest unit, 1e-6).
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
            YieldAccrued { .. } => "yield_accrued",
            StrategyRebalanced { .. } => "strategy_rebalanced",
            StrategyWithdrawalArrived { .. } => "strategy_withdrawal_arrived",
        }
    }
}
