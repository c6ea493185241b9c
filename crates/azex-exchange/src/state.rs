//! The protocol's state: plain data, no behaviour beyond read accessors.
//! All writes go through the crate-private `ctx::Effects` and `State::commit` — one place.

use crate::ids::{MarketId, PositionId};
use crate::params::{GlobalParams, MarketParams};
use crate::units::{Price, Qty, SignedUsd, Usd};
use alloy_primitives::{address, Address, I256, U256};
use azex_spot::PoolKey;
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// azUSD's token address inside this state machine.
pub const AZUSD: Address = address!("00000000000000000000000000000000a2050000");
/// USDC's token address inside this state machine.
pub const USDC: Address = address!("00000000000000000000000000000000005dc000");

/// The current block, given from outside (the state machine has no clock).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    BorshSerialize,
    BorshDeserialize,
)]
#[serde(deny_unknown_fields)]
pub struct BlockCtx {
    /// Block height: strictly above the previous block's (else `BadBlock`).
    pub height: u64,
    /// Unix seconds.
    pub timestamp: u64,
}

/// One side (long or short) of a market: aggregates kept in O(1) per trade. Sizes and costs are
/// *stored* values, normalised to scale RAY (see [`crate::book`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Side {
    /// Which side this is (`true` = long), fixed at listing.
    pub is_long: bool,
    /// Σ |stored qty| of the side's positions.
    pub qty: u128,
    /// Σ stored cost basis (signed: positive for longs, negative for shorts).
    pub cost: SignedUsd,
    /// Σ margin.
    pub margin: Usd,
    /// Σ funding debt (funding owed beyond margin, see [`Position::funding_debt`]).
    pub funding_debt: Usd,
    /// Cumulative funding owed per stored unit (azUSD units × 1e18 per token), + = owes.
    pub funding_index: i128,
    /// Σ |stored qty_i| × funding index at the position's last settlement.
    #[borsh(
        serialize_with = "borsh_i256::ser",
        deserialize_with = "borsh_i256::de"
    )]
    pub funding_entry_sum: I256,
    /// ADL scale `S` (RAY = no ADL yet): effective = stored × S / RAY.
    pub scale: u128,
    /// First ADL accumulator `A` of [`crate::book`] (WAD·price units): Σ over ADL events of
    /// `S_{k-1} × (1 − f_k) × P_k / RAY`; a position's realised ADL PnL adds
    /// `q_stored × ΔA / 1e48`.
    #[borsh(
        serialize_with = "borsh_u256::ser",
        deserialize_with = "borsh_u256::de"
    )]
    pub adl_a: U256,
    /// Second ADL accumulator `B` of [`crate::book`] (RAY·WAD units): Σ over ADL events of
    /// `S_{k-1} × (1 − f_k)`; a position's realised ADL PnL subtracts
    /// `c_stored × ΔB / (RAY × WAD)`.
    #[borsh(
        serialize_with = "borsh_u256::ser",
        deserialize_with = "borsh_u256::de"
    )]
    pub adl_b: U256,
    /// Σ stored qty_i × A_entry_i over the current epoch's positions (exact, 256-bit).
    #[borsh(
        serialize_with = "borsh_i256::ser",
        deserialize_with = "borsh_i256::de"
    )]
    pub adl_qa_sum: I256,
    /// Σ stored cost_i × B_entry_i over the current epoch's positions (exact, 256-bit): with
    /// `adl_qa_sum` it gives the side's ADL PnL not yet credited in O(1).
    #[borsh(
        serialize_with = "borsh_i256::ser",
        deserialize_with = "borsh_i256::de"
    )]
    pub adl_cb_sum: I256,
    /// Open positions on this side, of every epoch.
    pub positions: u64,
    /// ADL epoch (0 at listing). When ADL closes the side entirely (or its scale would fall below
    /// [`crate::book::MIN_SCALE`]) a new epoch starts: scale back to RAY, ADL accumulators back to
    /// zero (the funding index carries on). `qty`, `cost`, `funding_entry_sum`, `adl_qa_sum` and
    /// `adl_cb_sum` are sums over the current epoch's positions; `margin`, `funding_debt` and
    /// `positions` over every position of the side (see [`crate::book`]).
    pub epoch: u32,
    /// The first position id of the current epoch: a position of this side with a smaller id
    /// belongs to an ended epoch (effective size 0; settles against that epoch's end values).
    pub epoch_first_id: u64,
    /// Ended epochs some of whose positions are still open (a slot with `positions == 0` is free).
    pub ended: [EndedEpoch; crate::book::ENDED_SLOTS],
    /// What the positions of ended epochs are still owed, as one exact numerator over 1e48:
    /// `Σ q (A_end − A_e) − 1e3 · c (B_end − B_e) − 1e12 · |q| (J_end − J_e)` (ADL PnL minus the
    /// funding they owe up to their epoch's end).
    #[borsh(
        serialize_with = "borsh_i256::ser",
        deserialize_with = "borsh_i256::de"
    )]
    pub ended_claims: I256,
}

/// The end of an ADL epoch of a side, kept while some of its positions are open: what they settle
/// against (see [`crate::book`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct EndedEpoch {
    /// The epoch's first position id (its positions: ids from here to the next epoch's first).
    pub first_id: u64,
    /// First ADL accumulator `A` when the epoch ended (WAD·price units).
    #[borsh(
        serialize_with = "borsh_u256::ser",
        deserialize_with = "borsh_u256::de"
    )]
    pub adl_a: U256,
    /// Second ADL accumulator `B` when the epoch ended (RAY·WAD units).
    #[borsh(
        serialize_with = "borsh_u256::ser",
        deserialize_with = "borsh_u256::de"
    )]
    pub adl_b: U256,
    /// The side's funding index when the epoch ended (azUSD units × 1e18 per stored whole token).
    pub funding_index: i128,
    /// Its positions still open.
    pub positions: u64,
}

mod borsh_u256 {
    use alloy_primitives::U256;
    pub(super) fn ser<W: std::io::Write>(v: &U256, w: &mut W) -> std::io::Result<()> {
        w.write_all(&v.to_le_bytes::<32>())
    }
    pub(super) fn de<R: std::io::Read>(r: &mut R) -> std::io::Result<U256> {
        let mut b = [0u8; 32];
        r.read_exact(&mut b)?;
        Ok(U256::from_le_bytes(b))
    }
}

mod borsh_i256 {
    use alloy_primitives::I256;
    pub(super) fn ser<W: std::io::Write>(v: &I256, w: &mut W) -> std::io::Result<()> {
        w.write_all(&v.to_le_bytes::<32>())
    }
    pub(super) fn de<R: std::io::Read>(r: &mut R) -> std::io::Result<I256> {
        let mut b = [0u8; 32];
        r.read_exact(&mut b)?;
        Ok(I256::from_le_bytes(b))
    }
}

/// Whether a market takes new exposure.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
pub enum MarketStatus {
    /// Trades in both directions (subject to the new-exposure guard of docs/protocol.md §8.6).
    Active,
    /// Only trades that reduce a position are accepted.
    ReduceOnly,
    /// No trading; positions settle at `settlement_price`.
    Delisted {
        /// Settlement price (WAD USD per whole base token): the (frozen) risk price when the market
        /// was delisted (docs/protocol.md §8.5).
        settlement_price: Price,
    },
}

/// Prices and depth of a market for the current block, read from the oracle hook at block begin.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, BorshSerialize, BorshDeserialize,
)]
pub struct MarketPrices {
    /// Spot from the truncated oracle (latest truncated observation).
    pub spot: Price,
    /// TWAP of the truncated oracle over `risk_twap_window_secs`: the price used for
    /// liquidation, ADL and settlement triggers (stop-hunting defence).
    pub risk: Price,
    /// The pool's current (untruncated) price, for display.
    pub pool: Price,
    /// USD value of the pool's in-range tokens within the oracle band.
    pub spot_liquidity: Usd,
    /// The vault's free liquidity at the start of this block (before its first transaction).
    pub free_liquidity: Usd,
    /// Impact capacity `C = k1 × spot_liquidity + k2 × free_liquidity` for this whole block:
    /// every trade of the block is priced with it, so the price of a trade does not depend on the
    /// trades before it in the block (docs/protocol.md §4.2).
    pub capacity: Usd,
    /// Ticks between the pool's price and the truncated spot at block begin: non-zero when the
    /// truncation bound held the oracle back (it is catching up, or being pushed); no new
    /// exposure then (`handlers::price_guard`).
    pub oracle_lag_ticks: u32,
}

/// A perpetual market on one base token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Market {
    /// Market id: its index in [`State::markets`], assigned in listing order.
    pub id: MarketId,
    /// The base token's address.
    pub base_token: Address,
    /// The base token's decimals (converts pool prices into WAD prices).
    pub base_decimals: u8,
    /// Hashed separately (see `hash.rs`).
    #[borsh(skip)]
    pub pool_key: PoolKey,
    /// azUSD is currency0 of the pool (else currency1).
    pub quote_is_token0: bool,
    /// Whether it trades, reduces only, or is delisted.
    pub status: MarketStatus,
    /// The long side's book.
    pub long: Side,
    /// The short side's book.
    pub short: Side,
    /// Funding rate per day in force since `last_funding_time` (signed, + = longs pay).
    pub funding_rate_per_day_wad: i128,
    /// Unix seconds of the last funding accrual (the listing time at first): accrual at block begin
    /// covers `now − last_funding_time` (docs/protocol.md §9.2).
    pub last_funding_time: u64,
    /// Impact charged minus rebates paid so far: a counter, not money (the charge sits in the
    /// traders' cost bases, hence in the vault's NAV). Rebates are capped by it, so the market never
    /// pays out more impact than it charged.
    pub impact_pool: Usd,
    /// This block's prices, depth, free liquidity and impact capacity.
    pub prices: MarketPrices,
    /// The lister (sender of `CreateMarket`).
    pub creator: Address,
    /// Unix seconds of its listing (`Relist` does not change it).
    pub listed_at: u64,
    /// Cumulative taker volume (azUSD notional).
    pub volume: Usd,
    /// azUSD and base tokens the spot pool holds (from the deltas of every pool action).
    pub pool_azusd: u128,
    /// Base token the spot pool holds, in the token's own smallest unit.
    pub pool_base: u128,
    /// Consecutive blocks with spot depth below `min_spot_liquidity`.
    pub low_depth_blocks: u64,
    /// While spot depth is below the stop-trading level: the risk price frozen when it fell
    /// there (0 = not frozen). Trades, liquidations, NAV and delisting settlement use it instead
    /// of the oracle, which an empty pool no longer defends (docs/protocol.md §8.5).
    pub frozen_price: Price,
    /// After a freeze: the spot and risk prices in force while they walk back to the live
    /// oracle's by at most one truncation bound per block (0 = not thawing;
    /// `handlers::price_guard`).
    pub thaw_spot: Price,
    /// The risk price in force while thawing (WAD; 0 = not thawing), see `thaw_spot`.
    pub thaw_risk: Price,
    /// New exposure is refused before this time: one TWAP window after listing, or after a block
    /// that came more than `max_block_gap_secs` after the previous one (`handlers::price_guard`).
    pub settled_at: u64,
    /// Where the mark curve is clamped: `u_c` (WAD) with `α u_c^β = max_premium`, rounded down
    /// ([`crate::math::mark::clamp_utilisation`]; derived from the market's parameters whenever
    /// they are set). Beyond it the premium stays at `α u_c^β` (docs/protocol.md §4.4).
    pub clamp_u_wad: u128,
    /// The signed mark premium at the market's current net, spot and block capacity (clamped),
    /// refreshed whenever the net or the block's prices change: the mark is
    /// `spot × (1 + premium)` (docs/protocol.md §4.10).
    pub premium_wad: i128,
    /// This market's risk figures, recomputed whenever the market is written (derived data; the
    /// invariant check recomputes it from scratch). Lets the vault's NAV and requirement be a sum
    /// over markets without re-deriving every market on every trade.
    pub risk: crate::risk::MarketRisk,
}

impl Market {
    /// The price at which a position on the given side is judged and liquidated: the less
    /// favourable to it of the truncated spot and its TWAP (docs/risk.md explains why not the
    /// TWAP alone: it would give traders a free option against the vault in a trend).
    pub fn liquidation_price(&self, long: bool) -> Price {
        if long {
            self.prices.spot.min(self.prices.risk)
        } else {
            self.prices.spot.max(self.prices.risk)
        }
    }

    /// The base price of a trade (docs/protocol.md §4.3): the less favourable to the trader of the
    /// truncated spot and its TWAP — the higher for a buy, the lower for a sell (the same rule
    /// as the liquidation price, so moving the spot alone for a few blocks does not pay).
    pub fn execution_price(&self, buy: bool) -> Price {
        self.liquidation_price(!buy)
    }

    /// Signed effective net OI in base units: `long − short`.
    pub fn net_qty(&self) -> Result<Qty, crate::error::ExchangeError> {
        let l = i128::try_from(self.long.eff_qty()?)
            .map_err(|_| crate::error::ExchangeError::Overflow)?;
        let s = i128::try_from(self.short.eff_qty()?)
            .map_err(|_| crate::error::ExchangeError::Overflow)?;
        l.checked_sub(s)
            .ok_or(crate::error::ExchangeError::Overflow)
    }
    /// The long (`true`) or short side.
    pub fn side(&self, long: bool) -> &Side {
        if long {
            &self.long
        } else {
            &self.short
        }
    }
    /// The long (`true`) or short side, mutably.
    pub fn side_mut(&mut self, long: bool) -> &mut Side {
        if long {
            &mut self.long
        } else {
            &mut self.short
        }
    }
}

/// An isolated-margin perpetual position. `qty` and `cost` are stored values at scale RAY
/// ([`crate::book::effective`] gives the effective ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, BorshSerialize, BorshDeserialize)]
pub struct Position {
    /// Position id, assigned in opening order from 1 ([`State::next_position_id`]).
    pub id: PositionId,
    /// Owner: may modify, close or change the margin; receives the margin left at the end.
    pub owner: Address,
    /// The market it trades.
    pub market: MarketId,
    /// Signed stored size: + long, − short. Never zero while the position exists.
    pub qty: Qty,
    /// Signed stored cost basis: what was paid (long, > 0) or received (short, < 0) for `qty`,
    /// including price impact, excluding fees.
    pub cost: SignedUsd,
    /// Isolated margin (micro-azUSD): collateral backing this position only; fees are taken
    /// from it, PnL and funding settle against it.
    #[serde(with = "crate::serde_num")]
    pub margin: Usd,
    /// The side's funding index at the last settlement.
    pub funding_entry: i128,
    /// The side's first ADL accumulator `A` at the last sync (WAD·price units).
    #[borsh(
        serialize_with = "borsh_u256::ser",
        deserialize_with = "borsh_u256::de"
    )]
    pub adl_a_entry: U256,
    /// The side's second ADL accumulator `B` at the last sync (RAY·WAD units).
    #[borsh(
        serialize_with = "borsh_u256::ser",
        deserialize_with = "borsh_u256::de"
    )]
    pub adl_b_entry: U256,
    /// Unix seconds of the opening.
    pub opened_at: u64,
    /// Unix seconds of the last trade, margin change or liquidation step on it.
    pub updated_at: u64,
    /// When its (stepwise) liquidation began (0 = never), and the block of the last step.
    pub liquidation_started_at: u64,
    /// Height of the block of its last liquidation step (0 = none): one step per block.
    pub last_liquidation_block: u64,
    /// Funding owed beyond the margin at its last settlement: still owed, counted in its
    /// equity, paid from PnL when the position is reduced, closed or liquidated
    /// (docs/protocol.md §9.4). Never written off while the position lives.
    #[serde(with = "crate::serde_num")]
    pub funding_debt: Usd,
}

impl Position {
    /// Whether it is long (`qty > 0`); a short has `qty < 0`.
    pub fn is_long(&self) -> bool {
        self.qty > 0
    }
}

/// The LP vault: counterparty of every trade, backing only the net exposure.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, BorshSerialize, BorshDeserialize,
)]
pub struct Vault {
    /// azUSD the vault holds.
    pub cash: Usd,
    /// Total LP shares.
    pub shares: u128,
    /// Highest share price seen, `⌊NAV × WAD / shares⌋` at a block end (micro-azUSD per 1e18
    /// share units), for the drawdown cap.
    pub high_water_share_price: u128,
    /// Cumulative income, for reporting.
    pub fees_earned: Usd,
    /// Cumulative funding settled by positions against the vault (micro-azUSD, signed: + traders
    /// owed it, − it owed traders), counted at settlement (a funding debt counts before it is
    /// paid).
    pub funding_earned: SignedUsd,
    /// Cumulative strategy yield minted to the vault, its LP share (micro-azUSD).
    pub yield_earned: Usd,
    /// Cumulative trading PnL the vault paid traders (price and ADL gains paid out) minus the
    /// losses and impact charges it collected from their margins (micro-azUSD, signed: + traders
    /// are net winners). Losses beyond a margin are not in it (they go down the waterfall).
    pub trader_pnl_paid: SignedUsd,
    /// The drawdown cap is hit: every market is reduce-only until the share price recovers to
    /// within half the cap of its high-water mark, or until it has made no new low for
    /// `drawdown_cooldown_secs` (then the high-water mark is rebased: docs/risk.md §4).
    pub drawdown_mode: bool,
    /// While in drawdown mode: the lowest share price seen (same unit as the high-water mark);
    /// the cool-down restarts at every new low (the vault is still losing).
    pub drawdown_low_share_price: u128,
    /// Unix seconds at which `drawdown_low_share_price` was seen.
    pub drawdown_low_at: u64,
    /// When the high-water mark was last rebased (0 = never): for one cool-down after it the cap
    /// is half as wide (probation).
    pub drawdown_rebased_at: u64,
}

/// One LP's holding.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, BorshSerialize, BorshDeserialize,
)]
pub struct LpAccount {
    /// LP shares held (1e-18 share units: the first deposit mints 1e12 per micro-azUSD).
    pub shares: u128,
    /// Deposits are locked until this time.
    pub unlock_time: u64,
}

/// A USDC withdrawal from a strategy on its way back to the liquid buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, BorshSerialize, BorshDeserialize)]
pub struct PendingWithdrawal {
    /// USDC on its way back (USDC smallest unit, 1e-6).
    #[serde(with = "crate::serde_num")]
    pub amount: u128,
    /// Unix seconds from which it lands in the liquid buffer (at the first block begin at or
    /// after it).
    pub ready_at: u64,
}

/// A yield strategy adapter (Aave, Ethena, Morpho, Fluid in the seeds), modelled by its rate,
/// capacity and withdrawal delay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategyConfig {
    /// Display name of the strategy.
    pub name: String,
    /// Simple yearly rate, WAD.
    #[serde(with = "crate::serde_num")]
    pub rate_per_year_wad: u128,
    /// Most USDC it accepts.
    #[serde(with = "crate::serde_num")]
    pub capacity: u128,
    /// Seconds between a withdrawal request and its arrival in the liquid buffer.
    pub withdrawal_delay_secs: u64,
    /// Share of the deployable reserve to place here (WAD; the shares sum to ≤ 1).
    #[serde(with = "crate::serde_num")]
    pub target_share_wad: u128,
}

/// A yield strategy and the USDC it holds (docs/protocol.md §10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, BorshSerialize, BorshDeserialize)]
pub struct Strategy {
    /// Its rate, capacity, delay and target share (from genesis).
    pub config: StrategyConfig,
    /// USDC deployed, including accrued yield.
    #[serde(with = "crate::serde_num")]
    pub assets: u128,
    /// Withdrawals requested and not yet arrived, in request order.
    pub pending: Vec<PendingWithdrawal>,
    /// Unix seconds up to which yield has been accrued.
    pub last_accrual: u64,
}

/// The azUSD ledger (docs/protocol.md §10): supply = liquid USDC + strategy assets (+ in transit).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, BorshSerialize, BorshDeserialize)]
pub struct Ledger {
    /// azUSD in existence (micro-azUSD): always equal to the USDC backing it ([`Ledger::backing`]).
    #[serde(with = "crate::serde_num")]
    pub azusd_supply: u128,
    /// USDC held liquid (the buffer that pays redemptions; USDC smallest unit, 1e-6).
    #[serde(with = "crate::serde_num")]
    pub usdc_liquid: u128,
    /// The yield strategies, in genesis order (the order rebalancing serves them).
    pub strategies: Vec<Strategy>,
    /// Yield minted so far.
    #[serde(with = "crate::serde_num")]
    pub yield_minted: u128,
}

impl Ledger {
    /// USDC backing: liquid + deployed + in transit.
    pub fn backing(&self) -> Option<u128> {
        let mut t = self.usdc_liquid;
        for s in &self.strategies {
            t = t.checked_add(s.assets)?;
            for p in &s.pending {
                t = t.checked_add(p.amount)?;
            }
        }
        Some(t)
    }
}

/// azUSD owned by the protocol itself (not by LPs or traders).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, BorshSerialize, BorshDeserialize,
)]
pub struct ProtocolFunds {
    /// Treasury: its share of fees and yield.
    pub treasury: Usd,
    /// Insurance fund: liquidation penalties; first payer of deficits after position margin.
    pub insurance: Usd,
}

/// The pool manager with the AZEx oracle hook.
pub type Spot = azex_spot::PoolManager<azex_oracle::OracleHook>;

/// The whole protocol state.
#[derive(Debug, Clone)]
pub struct State {
    /// Protocol-wide parameters (genesis).
    pub params: GlobalParams,
    /// The current (or last) block.
    pub block: BlockCtx,
    /// Whether a block is open (between `begin_block` and `end_block`): transactions are refused
    /// (`NoOpenBlock`) outside one.
    pub block_open: bool,
    /// The azUSD ledger: supply, liquid USDC, strategies.
    pub ledger: Ledger,
    /// The LP vault.
    pub vault: Vault,
    /// Treasury and insurance fund.
    pub funds: ProtocolFunds,
    /// (owner, token) → balance. azUSD, USDC and base tokens alike.
    pub wallets: BTreeMap<(Address, Address), u128>,
    /// LP accounts by address.
    pub lps: BTreeMap<Address, LpAccount>,
    /// Markets, indexed by [`MarketId`].
    pub markets: Vec<Market>,
    /// Each market's parameters, indexed by [`MarketId`] (parallel to `markets`).
    pub market_params: Vec<MarketParams>,
    /// Base token → market.
    pub market_by_token: BTreeMap<Address, MarketId>,
    /// Open positions by id.
    pub positions: crate::positions::Positions,
    /// Id the next opened position gets (starts at 1; ids are never reused).
    pub next_position_id: PositionId,
    /// The spot pool manager with the oracle hook: every market's azUSD/BASE pool.
    pub spot: Spot,
    /// Events emitted so far (sequence number of the next one).
    pub event_seq: u64,
    /// Genesis supply of every external token (USDC, base tokens), for conservation checks.
    pub external_supply: BTreeMap<Address, u128>,
    /// Not state: emptied transaction buffers kept for reuse, so a transaction does not allocate
    /// its overlay afresh. Always empty between transactions; not part of the hash.
    pub(crate) scratch: Option<Box<crate::ctx::Effects>>,
}

impl State {
    /// Balance of `token` held by `owner` (0 if none), in the token's smallest unit.
    pub fn wallet(&self, owner: Address, token: Address) -> u128 {
        self.wallets.get(&(owner, token)).copied().unwrap_or(0)
    }
    /// Market `id`, if listed.
    pub fn market(&self, id: MarketId) -> Option<&Market> {
        self.markets.get(id as usize)
    }
    /// Position `id`, if open.
    pub fn position(&self, id: PositionId) -> Option<&Position> {
        self.positions.get(&id)
    }
}
