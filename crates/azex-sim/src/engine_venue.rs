//! `EngineVenue`: the real AZEx state machine (`azex_exchange::State`) behind the simulator's
//! [`Venue`] trait. Every trade, liquidation, LP flow, mint and spot swap is a [`Tx`] sent
//! through `State::apply`; blocks are opened and closed with `State::begin_block` /
//! `State::end_block` (which run the oracle poke, funding accrual, ADL, the drawdown cap and
//! delisting). Nothing here writes to the state directly.
//!
//! # Genesis (the only external money)
//! The engine has no faucet, so every account that ever pays anything is funded at genesis:
//!
//! | account | USDC | each base token |
//! |---|---|---|
//! | every agent (ids `0..n_agents`) and the driver's genesis LP | `agent_usdc_usd` ($1B) | `agent_base_usd` ($20M) worth at the first price |
//! | the spot LP (creates and seeds every pool) | 2 × Σ pool seeds | 2 × its pool's seed |
//! | the arbitrageur | 20 × Σ pool seeds | 20 × its pool's seed |
//!
//! azUSD is minted from USDC with real `MintAzusd` transactions, on demand, before an action
//! needs it (chunks of at least `mint_chunk_usd`). Agents' own books (what they put in and took
//! out) are kept by the driver from [`Outcome`]s, which are computed from the engine's wallet
//! balances before and after each action (mints excluded), so the generous genesis amounts do
//! not enter any figure.
//!
//! # Markets and spot pools
//! One market per data symbol, listed in a setup block (height 0, at the first bar's time) by a
//! real `CreateMarket` at the first bar's open, base token with 18 decimals, fee tier
//! `spot_fee_pips` (default 0.05 %), **full-range** liquidity by default (the data's prices move
//! 30× over two years; a concentrated range would fall out of range; a concentrated profile is
//! [`EngineConfig::liquidity_profile`], see `crates/azex-sim/README.md`). A full-range pool is a
//! constant-product pool: its ±2 % depth (what the oracle hook reports as `spot_liquidity`) is
//! about 1.97 % of its azUSD reserve, so the seed is `depth / 0.0197`. Depths at listing
//! ([`EngineConfig::depth_usd`]) are rough 2017–2019 aggregate ±2 % order-book depths of each
//! asset: BTC $10M, ETH $5M, XRP $3M, LTC $2M, EOS $2M (others $2M). They set the markets' OI
//! caps (20 × depth per side) and, with the vault's free liquidity, the impact capacity.
//!
//! # Prices
//! The arbitrageur (a real account) trades each pool to the data price every block with a
//! `SpotSwap` whose `sqrtPriceLimitX96` is the target price and whose exact input is its whole
//! balance (the swap stops at the limit). The oracle hook records each pool's tick at the next
//! block's begin (truncated to `max_abs_tick_move` from the previous observation), so the engine
//! trades block `h` at the data price of block `h − 1`: a one-block (7.5 min) lag, as on a
//! chain whose oracle reads the pool at block begin. With `arbitrage_at_block_end` (default) the
//! arbitrageur also trades every pool back to the block's data price before the block ends: on
//! a chain with 2-second blocks arbitrage closes a gap within seconds, far less than one
//! simulator block, so a push by an agent does not survive into the next oracle observation
//! (set it to `false` for the worst case where it survives one whole simulator block).
//!
//! # Per-block parameters
//! A simulator block stands for `block_secs / chain_block_secs` chain blocks (225 for 7.5-minute
//! blocks over 2-second chain blocks). Parameters expressed per block are converted:
//! - `max_abs_tick_move` = `chain_max_abs_tick_move × block_secs / chain_block_secs`, capped at
//!   9116 (Uniswap's bound, the largest the engine accepts): the oracle may follow the data as
//!   fast as 225 chain blocks of 50 ticks would let it;
//! - `risk_twap_window_secs` = 2 blocks: the TWAP of the truncated oracle averages the last two
//!   observations (the default 60 s is shorter than one simulator block).
//!
//! Everything else keeps the protocol defaults, including two per-block parameters the
//! simulator cannot convert because markets derive them at listing and no transaction changes
//! them: stepwise liquidation (25 % of a position above $250k per block, so 4 simulator blocks
//! = 30 minutes instead of 4 chain blocks) and delisting after 10 blocks of low depth (which
//! never happens with these pools).
//!
//! # Fills
//! Fills come from the events of each transaction; ADL (`Deleveraged`, which scales a whole side
//! at once) is turned into one fill per affected position by comparing each position's
//! effective size before and after the block end (O(positions on that side) per ADL event, in
//! the simulator only).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use alloy_primitives::{Address, U256};
use azex_exchange::book;
use azex_exchange::engine::{Genesis, GenesisBalance};
use azex_exchange::event::{DeficitPayer, Event};
use azex_exchange::liq_index::LiqIndex;
use azex_exchange::math::{funding, mark};
use azex_exchange::params::GlobalParams;
use azex_exchange::risk::{self, VaultRisk};
use azex_exchange::spot_link;
use azex_exchange::state::{BlockCtx, MarketStatus, Side as ESide, State, AZUSD, USDC};
use azex_exchange::units as eu;
use azex_exchange::{ExchangeError, Tx};
use serde::{Deserialize, Serialize};

use crate::prices::PriceSeries;
use crate::types::{
    Action, AgentId, MarketId, MarketObs, PosRef, PositionId, PositionView, Side, SwapKind,
    VaultObs, ARBITRAGEUR,
};
use crate::units::*;
use crate::venue::*;

/// Configuration of the [`EngineVenue`] (everything that is a modelling choice of the
/// simulator, not a protocol parameter; protocol parameters keep the engine's defaults except
/// the per-block ones, see the module docs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    /// ±2 % spot depth at listing (whole USD) by asset; a symbol takes the longest key it
    /// starts with (`"BTC"` matches `"BTCUSD"`), else `default_depth_usd`.
    pub depth_usd: BTreeMap<String, u64>,
    /// Depth of symbols matching no key (whole USD).
    pub default_depth_usd: u64,
    /// Spot pool fee (pips, 500 = 0.05 %) and tick spacing.
    pub spot_fee_pips: u32,
    /// Spot pool tick spacing.
    pub tick_spacing: i32,
    /// The chain the protocol defaults are sized for: block time (seconds) and truncation per
    /// block.
    pub chain_block_secs: u64,
    /// Oracle truncation per chain block (ticks).
    pub chain_max_abs_tick_move: i32,
    /// Overrides of the converted per-block parameters (see the module docs).
    pub max_abs_tick_move: Option<i32>,
    /// Override of the risk TWAP window (seconds).
    pub risk_twap_window_secs: Option<u32>,
    /// Override of the LP drawdown cap (`GlobalParams::max_drawdown_wad`, bps; the engine
    /// accepts 100..=9000). Default: the protocol's 20 %.
    pub max_drawdown_bps: Option<u32>,
    /// Worst execution price an agent accepts, relative to the engine's spot: opening, and
    /// closing or reducing (bps).
    pub open_slippage_bps: u32,
    /// The same when closing or reducing (bps).
    pub close_slippage_bps: u32,
    /// Arbitrage the pools back to the data price before each block ends (module docs).
    pub arbitrage_at_block_end: bool,
    /// Longest `liquidatable` list per market observation.
    pub liquidatable_list_max: usize,
    /// Genesis USDC per agent (whole USD).
    pub agent_usdc_usd: u64,
    /// Base tokens per market given to each agent, worth this at the first price (whole USD).
    pub agent_base_usd: u64,
    /// Smallest azUSD top-up minted when an agent runs short (whole USD).
    pub mint_chunk_usd: u64,
    /// Shape of every spot pool's liquidity (module docs, "Concentrated liquidity"). Empty (the
    /// default): one full-range position.
    pub liquidity_profile: Vec<LiquidityBand>,
}

/// One band of a concentrated-liquidity profile: a position from `P / (1 + w)` to `P × (1 + w)`
/// around the listing price `P` (`w = half_width_bps / 10 000`; `None`: full range) holding
/// `share_bps` of the pool's capital (value of both tokens at listing).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiquidityBand {
    /// Half width `w` (bps); `None`: full range.
    #[serde(default)]
    pub half_width_bps: Option<u32>,
    /// Share of the pool's capital in this band (bps).
    pub share_bps: u32,
}

/// A pool's depth for one scenario (overrides the engine configuration's `depth_usd`,
/// `default_depth_usd` and `liquidity_profile`): e.g. a long-tail listing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DepthConfig {
    /// ±2 % spot depth by asset (whole USD), as [`EngineConfig::depth_usd`].
    pub depth_usd: BTreeMap<String, u64>,
    /// Depth of symbols matching no key (whole USD).
    pub default_depth_usd: u64,
    /// Shape of every pool's liquidity, as [`EngineConfig::liquidity_profile`].
    pub liquidity_profile: Vec<LiquidityBand>,
}

impl Default for DepthConfig {
    fn default() -> Self {
        let e = EngineConfig::default();
        DepthConfig {
            depth_usd: e.depth_usd,
            default_depth_usd: e.default_depth_usd,
            liquidity_profile: e.liquidity_profile,
        }
    }
}

/// The concentrated profile of the `long-tail` preset: 40 % of the capital within ±2 %, 30 %
/// within ±10 %, 20 % within ±50 %, 10 % full range (a rough shape of Uniswap v3 pools of small
/// tokens, where most liquidity sits near the price; an assumption, not a measurement).
pub fn concentrated_profile() -> Vec<LiquidityBand> {
    [
        (Some(200), 4_000),
        (Some(1_000), 3_000),
        (Some(5_000), 2_000),
        (None, 1_000),
    ]
    .into_iter()
    .map(|(half_width_bps, share_bps)| LiquidityBand {
        half_width_bps,
        share_bps,
    })
    .collect()
}

/// The oracle's depth band (ticks either side of the price).
pub const DEPTH_BAND_TICKS: i32 = 198;
/// Highest usable tick (Uniswap's `MAX_TICK`).
const MAX_TICK: i32 = 887_272;

/// Ticks of a band's half width: `ln(1 + w) / ln(1.0001)`, rounded; full range: `MAX_TICK`.
#[expect(
    clippy::cast_possible_truncation,
    reason = "the tick count is clamped to [1, MAX_TICK] first"
)]
pub fn band_ticks(b: &LiquidityBand) -> i32 {
    match b.half_width_bps {
        None => MAX_TICK,
        Some(w) => {
            let t = libm::log(1.0 + f64::from(w) / 10_000.0) / libm::log(1.0001);
            (libm::round(t) as i64).clamp(1, i64::from(MAX_TICK)) as i32
        }
    }
}

/// Fraction of a symmetric band's capital that lies within `±DEPTH_BAND_TICKS` of the price:
/// `f(min(t, 198)) / f(t)` with `f(t) = 1 − 1.0001^(−t/2)` (a position of liquidity `L` over
/// `±t` ticks is worth `2 L √P f(t)`, half in each token).
pub fn band_depth_fraction(ticks: i32) -> f64 {
    let f = |t: i32| 1.0 - libm::pow(1.0001, -f64::from(t) / 2.0);
    f(ticks.min(DEPTH_BAND_TICKS)) / f(ticks)
}

/// azUSD (micro-USD) each band of `profile` holds so that the pool's ±2 % depth is
/// `depth_usd` (whole USD). Each band holds half its capital in azUSD.
#[expect(
    clippy::cast_sign_loss,
    clippy::cast_possible_truncation,
    reason = "pool seeding heuristic: a non-negative, finite azUSD amount; the float-to-int cast saturates"
)]
pub fn band_azusd(profile: &[LiquidityBand], depth_usd: u64) -> Vec<u128> {
    let total: f64 = profile
        .iter()
        .map(|b| f64::from(b.share_bps) / 10_000.0 * band_depth_fraction(band_ticks(b)))
        .sum();
    let capital = depth_usd as f64 / total.max(1e-12);
    profile
        .iter()
        .map(|b| (capital * f64::from(b.share_bps) / 10_000.0 / 2.0 * 1e6) as u128)
        .collect()
}

impl Default for EngineConfig {
    fn default() -> Self {
        let depth_usd = [
            ("BTC", 10_000_000u64),
            ("ETH", 5_000_000),
            ("XRP", 3_000_000),
            ("LTC", 2_000_000),
            ("EOS", 2_000_000),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        EngineConfig {
            depth_usd,
            default_depth_usd: 2_000_000,
            spot_fee_pips: 500,
            tick_spacing: 10,
            chain_block_secs: 2,
            chain_max_abs_tick_move: 50,
            max_abs_tick_move: None,
            risk_twap_window_secs: None,
            max_drawdown_bps: None,
            open_slippage_bps: 300,
            close_slippage_bps: 1_000,
            arbitrage_at_block_end: true,
            liquidatable_list_max: 64,
            agent_usdc_usd: 1_000_000_000,
            agent_base_usd: 20_000_000,
            mint_chunk_usd: 10_000_000,
            liquidity_profile: Vec::new(),
        }
    }
}

impl EngineConfig {
    /// ±2 % depth (whole USD) for a symbol.
    pub fn depth_for(&self, symbol: &str) -> u64 {
        let s = symbol.to_ascii_uppercase();
        self.depth_usd
            .iter()
            .filter(|(k, _)| s.starts_with(&k.to_ascii_uppercase()))
            .max_by_key(|(k, _)| k.len())
            .map(|(_, v)| *v)
            .unwrap_or(self.default_depth_usd)
    }

    /// The engine's global parameters for simulator blocks of `block_secs` seconds.
    #[expect(
        clippy::cast_sign_loss,
        reason = "chain_max_abs_tick_move is clamped ≥ 1 first"
    )]
    pub fn global_params(&self, block_secs: u64) -> GlobalParams {
        let chain = self.chain_block_secs.max(1);
        let moves =
            (self.chain_max_abs_tick_move.max(1) as u64).saturating_mul(block_secs.max(1)) / chain;
        let tick = self
            .max_abs_tick_move
            .unwrap_or(moves.clamp(1, 9_116) as i32);
        let twap = self
            .risk_twap_window_secs
            .unwrap_or((2 * block_secs).clamp(60, 86_400) as u32);
        let d = GlobalParams::default();
        GlobalParams {
            max_abs_tick_move: tick,
            risk_twap_window_secs: twap,
            // A simulator block stands for `block_secs / chain_block_secs` chain blocks without
            // a stall: the gap between two simulator blocks is not a sequencer outage. Twice the
            // block length: block timestamps are whole seconds, so 1800 s / 16 alternates 112
            // and 113 s gaps.
            max_block_gap_secs: (2 * block_secs).max(d.max_block_gap_secs),
            max_drawdown_wad: self
                .max_drawdown_bps
                .map_or(d.max_drawdown_wad, |b| u128::from(b) * (WAD / 10_000)),
            ..d
        }
    }

    /// The engine's global parameters at chain resolution (the chain-resolution stress mode,
    /// [`crate::driver::ChainMode`]): production values, not converted — the oracle moves at
    /// most `chain_max_abs_tick_move` ticks per block (50) and the risk TWAP window is the
    /// protocol default (60 s = 30 chain blocks). The `max_abs_tick_move` and
    /// `risk_twap_window_secs` overrides are for coarse blocks and are not used. The stall rule
    /// (`max_block_gap_secs`) allows the warm-up blocks of `warmup_block_secs` before the window
    /// (inside the window blocks are 2 s apart and it never fires).
    pub fn chain_params(&self, warmup_block_secs: u64) -> GlobalParams {
        let d = GlobalParams::default();
        GlobalParams {
            max_abs_tick_move: self.chain_max_abs_tick_move,
            block_time_secs: self.chain_block_secs.clamp(1, 3_600) as u32,
            max_block_gap_secs: (2 * warmup_block_secs).max(d.max_block_gap_secs),
            max_drawdown_wad: self
                .max_drawdown_bps
                .map_or(d.max_drawdown_wad, |b| u128::from(b) * (WAD / 10_000)),
            ..d
        }
    }
}

// ---------------------------------------------------------------------------------------------
// accounts

fn account(prefix: u8, n: u64) -> Address {
    let mut b = [0u8; 20];
    b[0] = prefix;
    b[12..].copy_from_slice(&n.to_be_bytes());
    Address::from(b)
}

/// The engine account of an agent (also of [`crate::GENESIS_OWNER`] and [`ARBITRAGEUR`]).
pub fn agent_address(id: AgentId) -> Address {
    account(0xA6, u64::from(id))
}

/// The account that creates and seeds the spot pools.
pub fn spot_lp_address() -> Address {
    account(0x5B, 1)
}

/// Base token address of market `i` (above azUSD's, so azUSD is every pool's token0).
pub fn base_token(i: usize) -> Address {
    account(0xB0, i as u64 + 1)
}

fn agent_of(a: Address) -> Option<AgentId> {
    let b = a.as_slice();
    if b[0] != 0xA6 || b[1..12].iter().any(|&x| x != 0) {
        return None;
    }
    let mut n = [0u8; 8];
    n.copy_from_slice(&b[12..]);
    u32::try_from(u64::from_be_bytes(n)).ok()
}

// ---------------------------------------------------------------------------------------------
// errors

fn rej<T>(kind: RejectKind, msg: impl Into<String>) -> Result<T, Rejection> {
    Err(Rejection::new(kind, msg))
}

/// The exchange's id of simulator market `m`. The simulator indexes markets by `usize`
/// ([`MarketId`]: a position in its per-market vectors), the exchange numbers them by `u32` in
/// listing order, and this venue lists simulator market `m` as exchange market `m`. Checked: an
/// index past `u32::MAX` is no listed market.
fn engine_market(m: MarketId) -> Result<u32, Rejection> {
    u32::try_from(m)
        .map_err(|_| Rejection::new(RejectKind::InvalidAmount, format!("no market {m}")))
}

/// The simulator's index of exchange market `id` (the inverse of [`engine_market`]; a
/// widening on every supported target).
fn sim_market(id: u32) -> MarketId {
    usize::try_from(id).unwrap_or(usize::MAX)
}

/// How an engine refusal is counted.
pub fn reject_kind(e: &ExchangeError) -> RejectKind {
    use ExchangeError as E;
    match e {
        E::VaultCapacityExceeded { .. }
        | E::WithdrawalExceedsFreeLiquidity { .. }
        | E::VaultCashShort { .. }
        | E::VaultInsolvent => RejectKind::InsufficientLiquidity,
        E::ReduceOnly(_) | E::Delisted(_) => RejectKind::ReduceOnly,
        E::NotLiquidatable { .. } | E::LiquidationCooldown { .. } => RejectKind::NotLiquidatable,
        E::UnknownPosition(_) | E::NotPositionOwner { .. } => RejectKind::UnknownPosition,
        E::ImpactCapExceeded { .. } | E::NoImpactCapacity(_) => RejectKind::ImpactCap,
        E::OpenInterestCapExceeded { .. } => RejectKind::OiCap,
        E::PriceBoundExceeded { .. } | E::Slippage { .. } => RejectKind::PriceBound,
        E::InitialMarginNotMet { .. } | E::LeverageTooHigh { .. } => RejectKind::InitialMargin,
        E::ZeroAmount
        | E::PositionTooSmall { .. }
        | E::WouldFlip
        | E::ReduceTooLarge { .. }
        | E::InsufficientBalance { .. }
        | E::InsufficientShares { .. } => RejectKind::InvalidAmount,
        E::WithdrawalLocked { .. } => RejectKind::Locked,
        _ => RejectKind::Other,
    }
}

fn to_rejection(e: ExchangeError) -> Rejection {
    Rejection::new(reject_kind(&e), e.to_string())
}

// ---------------------------------------------------------------------------------------------
// the venue

#[derive(Clone, Copy, Debug)]
struct PosInfo {
    owner: AgentId,
    market: usize,
    long: bool,
    opened_height: u64,
}

#[derive(Clone, Debug)]
struct ObsCache {
    version: u64,
    risk: VaultRisk,
    marks: Vec<u128>,
}

/// What a transaction needs from before it ran to describe its effects.
#[derive(Clone, Copy, Debug, Default)]
struct Pre {
    /// The position the transaction targets, its effective size then, its owner's azUSD.
    position: Option<PositionId>,
    q_abs: u128,
    owner_usd: u128,
}

/// The genesis balances: the agents' (and the genesis depositor's) azUSD and base tokens, the
/// spot LP's (twice the seeds) and the arbitrageur's (twenty times).
fn genesis_balances(
    cfg: &EngineConfig,
    nm: usize,
    n_agents: u32,
    seeds: &[u128],
    p0: &[u128],
) -> Vec<GenesisBalance> {
    let seed_sum: u128 = seeds.iter().sum();
    let base_of = |usd_amount: u128, m: usize| size_from_notional(usd_amount, p0[m]);
    let mut balances = Vec::new();
    let mut fund = |owner: Address, usdc: u128, base_usd: &dyn Fn(usize) -> u128| {
        balances.push(GenesisBalance {
            owner,
            token: USDC,
            amount: usdc,
        });
        for m in 0..nm {
            let b = base_usd(m);
            if b > 0 {
                balances.push(GenesisBalance {
                    owner,
                    token: base_token(m),
                    amount: b,
                });
            }
        }
    };
    let agent_base = |m: usize| base_of(usd(cfg.agent_base_usd), m);
    for id in 0..n_agents {
        fund(agent_address(id), usd(cfg.agent_usdc_usd), &agent_base);
    }
    fund(
        agent_address(crate::types::GENESIS_OWNER),
        usd(cfg.agent_usdc_usd),
        &|_| 0,
    );
    fund(spot_lp_address(), 2 * seed_sum + usd(1_000), &|m| {
        base_of(2 * seeds[m], m)
    });
    fund(agent_address(ARBITRAGEUR), 20 * seed_sum, &|m| {
        base_of(20 * seeds[m], m)
    });
    balances
}

/// A transaction's per-position deficits and funding (gathered before its fills are booked)
/// and the positions it touched.
#[derive(Default)]
struct TxEffects {
    deficit: BTreeMap<PositionId, u128>,
    funding_paid: BTreeMap<PositionId, i128>,
    touched: BTreeSet<PositionId>,
}

impl TxEffects {
    fn deficit(&self, id: PositionId) -> u128 {
        self.deficit.get(&id).copied().unwrap_or(0)
    }

    fn funding(&self, id: PositionId) -> i128 {
        self.funding_paid.get(&id).copied().unwrap_or(0)
    }
}

/// The real exchange as a [`Venue`]. See the module docs.
#[derive(Clone, Debug)]
pub struct EngineVenue {
    cfg: EngineConfig,
    state: State,
    block: BlockCtx,
    block_secs: u64,
    symbols: Vec<String>,
    liq: LiqIndex,
    pos: BTreeMap<PositionId, PosInfo>,
    by_owner: BTreeMap<AgentId, BTreeSet<PositionId>>,
    /// `[market][0 = long, 1 = short]`.
    by_side: Vec<[BTreeSet<PositionId>; 2]>,
    fills: Vec<Fill>,
    counters: RiskSnapshot,
    /// Per market: cumulative funding per effective unit in simulator units (long, short), and
    /// the engine's stored-unit indexes at the last update.
    funding_eff: Vec<(i128, i128)>,
    funding_raw: Vec<(i128, i128)>,
    targets: Vec<u128>,
    /// Last (target price, its sqrt price) per market.
    sqrt_cache: Vec<(u128, U256)>,
    extra_arb: Vec<(MarketId, Outcome)>,
    version: u64,
    cache: RefCell<Option<ObsCache>>,
    fatal: Option<String>,
    lp_fee_share: u128,
    /// Arbitrage swaps that could not reach the target (input balance exhausted).
    pub arb_shortfalls: u64,
    /// Spot depth (USD ±2 %) of each market at listing, as the engine measured it.
    pub listing_depth_usd: Vec<u128>,
}

fn side_ix(long: bool) -> usize {
    if long {
        0
    } else {
        1
    }
}

fn sim_side(long: bool) -> Side {
    if long {
        Side::Long
    } else {
        Side::Short
    }
}

impl EngineVenue {
    /// A venue with one market per symbol of `series` (listed at the first bar's open), blocks
    /// of `block_secs` seconds, and `n_agents` funded agent accounts (ids `0..n_agents`).
    pub fn new(
        cfg: EngineConfig,
        series: &PriceSeries,
        block_secs: u64,
        n_agents: u32,
    ) -> Result<EngineVenue, String> {
        let nm = series.symbols.len();
        if nm == 0 || series.is_empty() {
            return Err("no price data".into());
        }
        let params = cfg.global_params(block_secs);
        EngineVenue::with_params(cfg, series, block_secs, n_agents, params)
    }

    /// [`EngineVenue::new`] with the engine's global parameters given.
    pub fn with_params(
        cfg: EngineConfig,
        series: &PriceSeries,
        block_secs: u64,
        n_agents: u32,
        params: GlobalParams,
    ) -> Result<EngineVenue, String> {
        let nm = series.symbols.len();
        if nm == 0 || series.is_empty() {
            return Err("no price data".into());
        }
        let p0: Vec<u128> = series.bars.iter().map(|b| b[0].open.max(1)).collect();
        // Per market, azUSD of each liquidity position: full range (no profile): one position,
        // depth / 1.97 %; a profile: one per band (`band_azusd`), the first one the listing seed.
        let bands: Vec<Vec<u128>> = series
            .symbols
            .iter()
            .map(|s| {
                if cfg.liquidity_profile.is_empty() {
                    vec![usd(cfg.depth_for(s)) * 10_000 / 197]
                } else {
                    band_azusd(&cfg.liquidity_profile, cfg.depth_for(s))
                }
            })
            .collect();
        let seeds: Vec<u128> = bands.iter().map(|b| b.iter().sum()).collect();
        let seed_sum: u128 = seeds.iter().sum();

        params
            .validate()
            .map_err(|e| format!("engine parameters: {e}"))?;
        let balances = genesis_balances(&cfg, nm, n_agents, &seeds, &p0);
        let genesis = Genesis {
            params,
            balances,
            strategies: vec![],
        };
        let state = State::genesis(&genesis).map_err(|e| format!("genesis: {e}"))?;
        let mut v = EngineVenue {
            lp_fee_share: state.params.lp_fee_share_wad,
            cfg,
            state,
            block: BlockCtx {
                height: 0,
                timestamp: series.timestamps[0],
            },
            block_secs,
            symbols: series.symbols.clone(),
            liq: LiqIndex::new(),
            pos: BTreeMap::new(),
            by_owner: BTreeMap::new(),
            by_side: (0..nm).map(|_| Default::default()).collect(),
            fills: Vec::new(),
            counters: RiskSnapshot::default(),
            funding_eff: vec![(0, 0); nm],
            funding_raw: vec![(0, 0); nm],
            targets: p0.clone(),
            sqrt_cache: vec![(0, U256::ZERO); nm],
            extra_arb: Vec::new(),
            version: 0,
            cache: RefCell::new(None),
            fatal: None,
            arb_shortfalls: 0,
            listing_depth_usd: Vec::new(),
        };
        v.list_markets(series, &p0, &bands, seed_sum)?;
        Ok(v)
    }

    /// The setup block: lists every market at its first open price with the spot LP's seed
    /// (and the liquidity profile's other bands), then records the funding indices.
    fn list_markets(
        &mut self,
        series: &PriceSeries,
        p0: &[u128],
        bands: &[Vec<u128>],
        seed_sum: u128,
    ) -> Result<(), String> {
        let v = self;
        let nm = series.symbols.len();
        // setup block: list the markets
        v.state
            .begin_block(v.block)
            .map_err(|e| format!("setup block: {e}"))?;
        let lp = spot_lp_address();
        v.exec(&Tx::MintAzusd {
            user: lp,
            // a profile's band amounts round up in the pool: a margin of $1 per band
            usdc: seed_sum + nm as u128 + usd(v.cfg.liquidity_profile.len() as u64) * nm as u128,
        })
        .map_err(|e| format!("setup mint: {e}"))?;
        let profile = v.cfg.liquidity_profile.clone();
        for (m, sym) in series.symbols.iter().enumerate() {
            let range = profile
                .first()
                .map_or(443_636, |b| band_ticks(b).min(443_636));
            let ev = v
                .exec(&Tx::CreateMarket {
                    user: lp,
                    base_token: base_token(m),
                    base_decimals: 18,
                    fee: v.cfg.spot_fee_pips,
                    tick_spacing: v.cfg.tick_spacing,
                    initial_price: p0[m],
                    tick_range: range,
                    seed_azusd: bands[m][0],
                })
                .map_err(|e| format!("listing {sym}: {e}"))?;
            for e in &ev {
                if let Event::MarketCreated { spot_liquidity, .. } = e {
                    v.listing_depth_usd.push(*spot_liquidity);
                }
            }
            // the profile's other bands: liquidity positions of the spot LP
            for (b, &amount) in profile.iter().zip(&bands[m]).skip(1) {
                let (lo, hi, liq) = v
                    .band_position(m, band_ticks(b), amount)
                    .map_err(|e| format!("liquidity band of {sym}: {e}"))?;
                v.exec(&Tx::SpotLiquidity {
                    user: lp,
                    market: engine_market(m).map_err(|e| e.message)?,
                    tick_lower: lo,
                    tick_upper: hi,
                    liquidity_delta: liq,
                    salt: 0,
                })
                .map_err(|e| format!("liquidity band of {sym}: {e}"))?;
            }
        }
        v.state
            .end_block()
            .map_err(|e| format!("setup block end: {e}"))?;
        for m in 0..nm {
            let mk = &v.state.markets[m];
            v.funding_raw[m] = (mk.long.funding_index, mk.short.funding_index);
        }
        Ok(())
    }

    /// A position of ±`ticks` around market `m`'s current tick (on the tick spacing, inside the
    /// usable range) holding `azusd` of azUSD: (lower tick, upper tick, liquidity), with the
    /// listing's formula (azUSD is token0: `L = amount0 × √P × √Pb / (√Pb − √P) / 2^96`).
    fn band_position(&self, m: usize, ticks: i32, azusd: u128) -> Result<(i32, i32, i128), String> {
        let mk = &self.state.markets[m];
        let (q0, dec) = (mk.quote_is_token0, mk.base_decimals);
        let slot = self
            .state
            .spot
            .slot0(&mk.pool_key)
            .map_err(|e| e.to_string())?;
        let sp = (self.cfg.tick_spacing).max(1);
        let max_usable = (MAX_TICK / sp) * sp;
        let lower = ((slot.tick - ticks).div_euclid(sp) * sp).max(-max_usable);
        let upper = ((slot.tick + ticks).div_euclid(sp) * sp + sp).min(max_usable);
        let sqrt_at = |t: i32| -> Result<U256, String> {
            let p = spot_link::price_at_tick(t, q0, dec).map_err(|e| e.to_string())?;
            spot_link::sqrt_from_price(p.max(1), q0, dec).map_err(|e| e.to_string())
        };
        let s = slot.sqrt_price_x96;
        let q96 = U256::from(1u8) << 96;
        let amount = U256::from(azusd);
        let liq = if q0 {
            let sb = sqrt_at(upper)?;
            if sb <= s {
                return Err("band above the price is empty".into());
            }
            let a = azex_math::mul_div(amount, s, q96).map_err(|e| format!("{e:?}"))?;
            azex_math::mul_div(a, sb, sb - s).map_err(|e| format!("{e:?}"))?
        } else {
            let sa = sqrt_at(lower)?;
            if sa >= s {
                return Err("band below the price is empty".into());
            }
            azex_math::mul_div(amount, q96, s - sa).map_err(|e| format!("{e:?}"))?
        };
        let liq = i128::try_from(liq).map_err(|_| "liquidity overflows".to_string())?;
        Ok((lower, upper, liq))
    }

    /// A venue for a run of `cfg` on `series` (already passed through
    /// [`crate::prepare_prices`]). The scenario's `depth` replaces the engine configuration's
    /// depths and profile; its `chain` mode sets the chain-resolution parameters
    /// ([`EngineConfig::chain_params`]) and, with adversarial ordering, no arbitrage at block end.
    pub fn for_run(
        mut engine: EngineConfig,
        cfg: &crate::SimConfig,
        series: &PriceSeries,
    ) -> Result<EngineVenue, String> {
        let block_secs = (series.typical_bar_seconds() / u64::from(cfg.substeps.max(1))).max(1);
        let adv = &cfg.population.adversaries;
        let n = cfg
            .population
            .agents
            .saturating_add(adv.self_liquidators)
            .saturating_add(adv.spot_manipulators)
            .saturating_add(adv.stop_hunters);
        if let Some(d) = &cfg.depth {
            engine.depth_usd = d.depth_usd.clone();
            engine.default_depth_usd = d.default_depth_usd;
            engine.liquidity_profile = d.liquidity_profile.clone();
        }
        match &cfg.chain {
            Some(ch) => {
                if ch.adversarial_ordering {
                    engine.arbitrage_at_block_end = false;
                }
                let params = engine.chain_params(block_secs);
                EngineVenue::with_params(engine, series, block_secs, n, params)
            }
            None => EngineVenue::new(engine, series, block_secs, n),
        }
    }

    /// The engine state (read-only).
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The venue's configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    /// Seconds of data time per simulator block.
    pub fn block_secs(&self) -> u64 {
        self.block_secs
    }

    /// The first fatal engine error (a failed `begin_block`/`end_block`), if any.
    pub fn fatal(&self) -> Option<&str> {
        self.fatal.as_deref()
    }

    /// Effective size of every open position, by id, as the venue's books see it (for tests).
    pub fn effective_sizes(&self) -> BTreeMap<PositionId, (usize, Side, u128)> {
        self.pos
            .iter()
            .filter_map(|(&id, info)| {
                let p = self.state.position(id)?;
                let m = &self.state.markets[info.market];
                let (q, _) = book::effective(p, m.side(info.long)).ok()?;
                Some((id, (info.market, sim_side(info.long), q.unsigned_abs())))
            })
            .collect()
    }

    fn exec(&mut self, tx: &Tx) -> Result<Vec<Event>, ExchangeError> {
        let ev = self.state.apply(tx, self.block)?;
        self.version += 1;
        Ok(ev)
    }

    fn azusd(&self, a: Address) -> u128 {
        self.state.wallet(a, AZUSD)
    }

    /// Mint azUSD from the account's USDC so that it holds at least `need`.
    fn ensure_azusd(&mut self, user: Address, need: u128) -> Result<(), Rejection> {
        let have = self.azusd(user);
        if have >= need {
            return Ok(());
        }
        let usdc = self.state.wallet(user, USDC);
        let amount = (need - have).max(usd(self.cfg.mint_chunk_usd)).min(usdc);
        if amount < need - have {
            return rej(
                RejectKind::InvalidAmount,
                format!("account {user} is out of USDC (genesis funding exhausted)"),
            );
        }
        self.exec(&Tx::MintAzusd { user, usdc: amount })
            .map_err(to_rejection)?;
        Ok(())
    }

    fn check_market(&self, market: MarketId) -> Result<(), Rejection> {
        if market >= self.state.markets.len() {
            return rej(RejectKind::InvalidAmount, format!("no market {market}"));
        }
        Ok(())
    }

    fn owned(&self, owner: AgentId, r: &PosRef) -> Result<(PositionId, PosInfo), Rejection> {
        let id = match r {
            PosRef::Id(id) => *id,
            PosRef::Batch(_) => {
                return rej(RejectKind::UnknownPosition, "unresolved batch reference")
            }
        };
        match self.pos.get(&id) {
            Some(info) if info.owner == owner => Ok((id, *info)),
            _ => rej(
                RejectKind::UnknownPosition,
                format!("position {id} not open or not owned"),
            ),
        }
    }

    /// Effective |size| of a position now.
    fn q_abs(&self, id: PositionId) -> u128 {
        let Some(info) = self.pos.get(&id) else {
            return 0;
        };
        let Some(p) = self.state.position(id) else {
            return 0;
        };
        book::effective(p, self.state.markets[info.market].side(info.long))
            .map(|(q, _)| q.unsigned_abs())
            .unwrap_or(0)
    }

    fn pre_for(&self, id: PositionId) -> Pre {
        let owner_usd = self
            .pos
            .get(&id)
            .map(|i| self.azusd(agent_address(i.owner)))
            .unwrap_or(0);
        Pre {
            position: Some(id),
            q_abs: self.q_abs(id),
            owner_usd,
        }
    }

    fn lp_fee(&self, fee: u128) -> u128 {
        eu::mul_wad_down(fee, self.lp_fee_share).unwrap_or(0)
    }

    fn remove_pos(&mut self, id: PositionId) {
        if let Some(info) = self.pos.remove(&id) {
            if let Some(set) = self.by_owner.get_mut(&info.owner) {
                set.remove(&id);
                if set.is_empty() {
                    self.by_owner.remove(&info.owner);
                }
            }
            self.by_side[info.market][side_ix(info.long)].remove(&id);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push_fill(
        &mut self,
        id: PositionId,
        info: PosInfo,
        kind: FillKind,
        size: u128,
        price: u128,
        fee: u128,
        pnl: i128,
        funding: i128,
        deficit: u128,
        payout: u128,
    ) {
        self.fills.push(Fill {
            height: self.block.height,
            position: id,
            owner: info.owner,
            market: info.market,
            side: sim_side(info.long),
            kind,
            size,
            price,
            notional_usd: notional_floor(size, price),
            fee_usd: fee,
            trader_pnl_usd: pnl,
            funding_usd: funding,
            deficit_usd: deficit,
            owner_payout_usd: payout,
        });
    }

    /// Book a successful transaction's events: fills, counters, the position maps and the
    /// liquidation index.
    fn after_tx(&mut self, events: &[Event], caller: Address, pre: Pre) {
        let mut fx = self.tx_effects(events);
        for e in events {
            match e {
                Event::PositionOpened { .. } => self.book_opened(e, &mut fx),
                Event::PositionModified { .. } => self.book_modified(e, &mut fx),
                Event::PositionClosed { .. } | Event::PositionSettled { .. } => {
                    self.book_closed(e, &pre, &mut fx)
                }
                Event::PositionLiquidated { .. } => self.book_liquidated(e, &pre, &mut fx),
                _ => {}
            }
        }
        let _ = caller;
        for id in fx.touched {
            // The index is derived data; a failure to index a position only makes keepers miss
            // it until it is touched again, and the engine re-checks everything anyway.
            let _ = self.liq.upsert(&self.state, id);
        }
    }

    /// First pass over a transaction's events: deficits and funding per position (the fills
    /// report them), the deficit and funding counters, the positions touched.
    fn tx_effects(&mut self, events: &[Event]) -> TxEffects {
        let mut fx = TxEffects::default();
        for e in events {
            match *e {
                Event::DeficitCovered {
                    position,
                    payer,
                    amount,
                } => {
                    *fx.deficit.entry(position).or_default() += amount;
                    self.counters.deficits_usd += amount;
                    if payer == DeficitPayer::Vault {
                        self.counters.bad_debt_usd += amount;
                    }
                    fx.touched.insert(position);
                }
                Event::FundingSettled {
                    position, amount, ..
                } => {
                    *fx.funding_paid.entry(position).or_default() += amount;
                    fx.touched.insert(position);
                }
                Event::AdlSettled { position, .. } | Event::MarginChanged { position, .. } => {
                    fx.touched.insert(position);
                }
                Event::FundingAccrued { vault_share, .. } => {
                    self.counters.funding_to_lp_usd += vault_share;
                }
                _ => {}
            }
        }
        fx
    }

    /// A `PositionOpened` event: index the new position (if an agent's) and book an open fill.
    fn book_opened(&mut self, e: &Event, fx: &mut TxEffects) {
        let Event::PositionOpened {
            position,
            owner,
            market,
            qty,
            avg_price,
            fee,
            ..
        } = *e
        else {
            return;
        };
        let Some(agent) = agent_of(owner) else {
            return;
        };
        let info = PosInfo {
            owner: agent,
            market: sim_market(market),
            long: qty > 0,
            opened_height: self.block.height,
        };
        self.pos.insert(position, info);
        self.by_owner.entry(agent).or_default().insert(position);
        self.by_side[info.market][side_ix(info.long)].insert(position);
        let f = self.lp_fee(fee);
        self.push_fill(
            position,
            info,
            FillKind::Open,
            qty.unsigned_abs(),
            avg_price,
            f,
            0,
            0,
            0,
            0,
        );
        fx.touched.insert(position);
    }

    /// A `PositionModified` event: a reduce fill when the size moved against the side.
    fn book_modified(&mut self, e: &Event, fx: &mut TxEffects) {
        let Event::PositionModified {
            position,
            qty_delta,
            avg_price,
            realised_pnl,
            fee,
            ..
        } = *e
        else {
            return;
        };
        let Some(&info) = self.pos.get(&position) else {
            return;
        };
        if (qty_delta > 0) != info.long {
            let f = self.lp_fee(fee);
            self.push_fill(
                position,
                info,
                FillKind::Reduce,
                qty_delta.unsigned_abs(),
                avg_price,
                f,
                realised_pnl,
                fx.funding(position),
                fx.deficit(position),
                0,
            );
        }
        fx.touched.insert(position);
    }

    /// A `PositionClosed` or `PositionSettled` event: a close fill of the size the transaction
    /// found (settlements pay no fee), and the position leaves the maps.
    fn book_closed(&mut self, e: &Event, pre: &Pre, fx: &mut TxEffects) {
        let (position, price, fee, realised_pnl, payout) = match *e {
            Event::PositionClosed {
                position,
                realised_pnl,
                payout,
                avg_price,
                fee,
                ..
            } => (position, avg_price, Some(fee), realised_pnl, payout),
            Event::PositionSettled {
                position,
                price,
                realised_pnl,
                payout,
                ..
            } => (position, price, None, realised_pnl, payout),
            _ => return,
        };
        let Some(&info) = self.pos.get(&position) else {
            return;
        };
        let size = if pre.position == Some(position) {
            pre.q_abs
        } else {
            0
        };
        if size > 0 {
            let f = fee.map_or(0, |fee| self.lp_fee(fee));
            self.push_fill(
                position,
                info,
                FillKind::Close,
                size,
                price,
                f,
                realised_pnl,
                fx.funding(position),
                fx.deficit(position),
                payout,
            );
        }
        self.remove_pos(position);
        fx.touched.insert(position);
    }

    /// A `PositionLiquidated` event: the liquidation counters and fill (with the owner's payout
    /// when the position is gone and the owner did not liquidate it himself).
    fn book_liquidated(&mut self, e: &Event, pre: &Pre, fx: &mut TxEffects) {
        let Event::PositionLiquidated {
            position,
            keeper,
            price,
            closed_qty,
            remaining_qty,
            realised_pnl,
            keeper_reward,
            ..
        } = *e
        else {
            return;
        };
        let Some(&info) = self.pos.get(&position) else {
            return;
        };
        let owner = agent_address(info.owner);
        let payout = if remaining_qty == 0 && owner != keeper {
            self.azusd(owner).saturating_sub(pre.owner_usd)
        } else {
            0
        };
        let size = closed_qty.unsigned_abs();
        self.counters.liquidations += 1;
        self.counters.liquidation_volume_usd += notional_floor(size, price);
        self.counters.keeper_rewards_usd += keeper_reward;
        self.push_fill(
            position,
            info,
            FillKind::Liquidation,
            size,
            price,
            0,
            realised_pnl,
            fx.funding(position),
            fx.deficit(position),
            payout,
        );
        if remaining_qty == 0 {
            self.remove_pos(position);
        }
        fx.touched.insert(position);
    }

    /// Reduces `owner`'s position by `fraction_bps` (a full close when nothing would remain).
    #[expect(clippy::cast_possible_wrap, reason = "sizes (WAD) are far below 2^127")]
    fn reduce(
        &mut self,
        owner: AgentId,
        position: PosRef,
        fraction_bps: u32,
    ) -> Result<Outcome, Rejection> {
        let user = agent_address(owner);
        let (id, info) = self.owned(owner, &position)?;
        if fraction_bps == 0 || fraction_bps > 10_000 {
            return rej(RejectKind::InvalidAmount, "fraction out of range");
        }
        let q = self.q_abs(id);
        let part = bps_floor(q, fraction_bps);
        if part == 0 {
            return rej(RejectKind::InvalidAmount, "zero reduction");
        }
        let pre = self.pre_for(id);
        let u0 = self.azusd(user);
        let bound = self.close_bound(info.market, info.long, part);
        let tx = if part >= q {
            Tx::ClosePosition {
                user,
                position: id,
                price_bound: bound,
            }
        } else {
            Tx::ModifyPosition {
                user,
                position: id,
                qty_delta: if info.long {
                    -(part as i128)
                } else {
                    part as i128
                },
                price_bound: bound,
            }
        };
        self.run_tx(user, &tx, pre)?;
        Ok(self.usd_outcome(user, u0))
    }

    /// Adds `amount_usd` of margin to `owner`'s position.
    fn add_margin(
        &mut self,
        owner: AgentId,
        position: PosRef,
        amount_usd: u128,
    ) -> Result<Outcome, Rejection> {
        let user = agent_address(owner);
        let (id, _) = self.owned(owner, &position)?;
        if amount_usd == 0 {
            return rej(RejectKind::InvalidAmount, "zero margin");
        }
        self.ensure_azusd(user, amount_usd)?;
        let u0 = self.azusd(user);
        self.run_tx(
            user,
            &Tx::AddMargin {
                user,
                position: id,
                amount: amount_usd,
            },
            Pre::default(),
        )?;
        Ok(self.usd_outcome(user, u0))
    }

    /// `owner` (a keeper) liquidates `position`.
    fn liquidate(&mut self, owner: AgentId, position: PositionId) -> Result<Outcome, Rejection> {
        let user = agent_address(owner);
        if !self.pos.contains_key(&position) {
            return rej(
                RejectKind::NotLiquidatable,
                format!("position {position} is not open"),
            );
        }
        let pre = self.pre_for(position);
        let u0 = self.azusd(user);
        self.run_tx(user, &Tx::Liquidate { user, position }, pre)?;
        Ok(self.usd_outcome(user, u0))
    }

    /// Apply a transaction for `caller`, booking its effects.
    fn run_tx(&mut self, caller: Address, tx: &Tx, pre: Pre) -> Result<(), Rejection> {
        if let Some(f) = &self.fatal {
            return rej(RejectKind::Other, format!("venue halted: {f}"));
        }
        let ev = self.exec(tx).map_err(to_rejection)?;
        self.after_tx(&ev, caller, pre);
        Ok(())
    }

    /// Trades market `m`'s pool to `target` as `who`; returns (azUSD delta, base delta).
    #[expect(
        clippy::cast_possible_wrap,
        reason = "balances (micro-azUSD, WAD base) are far below 2^127"
    )]
    fn swap_to(
        &mut self,
        who: Address,
        m: MarketId,
        target: u128,
    ) -> Result<(i128, i128), Rejection> {
        let mk = &self.state.markets[m];
        let (q0, dec, key, token) = (
            mk.quote_is_token0,
            mk.base_decimals,
            mk.pool_key,
            mk.base_token,
        );
        let sqrt = match self.sqrt_cache.get(m) {
            Some(&(t, sq)) if t == target => sq,
            _ => {
                let sq = spot_link::sqrt_from_price(target, q0, dec).map_err(to_rejection)?;
                if let Some(c) = self.sqrt_cache.get_mut(m) {
                    *c = (target, sq);
                }
                sq
            }
        };
        let cur = self
            .state
            .spot
            .slot0(&key)
            .map_err(|e| Rejection::new(RejectKind::Other, e.to_string()))?
            .sqrt_price_x96;
        if sqrt == cur {
            return Ok((0, 0));
        }
        let zero_for_one = sqrt < cur;
        let base_for_quote = zero_for_one != q0;
        if !base_for_quote {
            // buying base with azUSD: keep at least half the pool's azUSD reserve on hand
            let need = self.state.markets[m].pool_azusd / 2 + usd(1);
            self.ensure_azusd(who, need)?;
        }
        let (u0, b0) = (self.azusd(who), self.state.wallet(who, token));
        let bal = if base_for_quote { b0 } else { u0 };
        let amount = i128::try_from(bal).unwrap_or(i128::MAX);
        if amount == 0 {
            self.arb_shortfalls += 1;
            return rej(RejectKind::InvalidAmount, "arbitrageur has no balance");
        }
        self.run_tx(
            who,
            &Tx::SpotSwap {
                user: who,
                market: engine_market(m)?,
                base_for_quote,
                amount_specified: -amount,
                sqrt_price_limit_x96: Some(sqrt),
            },
            Pre::default(),
        )?;
        let now = self
            .state
            .spot
            .slot0(&key)
            .map(|s| s.sqrt_price_x96)
            .unwrap_or(U256::ZERO);
        if now != sqrt {
            self.arb_shortfalls += 1;
        }
        let (u1, b1) = (self.azusd(who), self.state.wallet(who, token));
        Ok((u1 as i128 - u0 as i128, b1 as i128 - b0 as i128))
    }

    fn cached(&self) -> std::cell::Ref<'_, Option<ObsCache>> {
        let fresh = matches!(&*self.cache.borrow(), Some(c) if c.version == self.version);
        if !fresh {
            let risk = self.vault_risk_now();
            let marks = self
                .state
                .markets
                .iter()
                .zip(&self.state.market_params)
                .map(|(m, p)| {
                    let net = m.net_qty().unwrap_or(0);
                    mark::clamped_signed_premium_wad(
                        mark::ImpactCurve {
                            alpha_wad: p.alpha_wad,
                            beta_wad: p.beta_wad,
                        },
                        net,
                        m.prices.spot,
                        m.prices.capacity,
                        p.max_premium_wad,
                    )
                    .and_then(|prem| mark::apply_premium(m.prices.spot, prem))
                    .unwrap_or(m.prices.spot)
                })
                .collect();
            *self.cache.borrow_mut() = Some(ObsCache {
                version: self.version,
                risk,
                marks,
            });
        }
        self.cache.borrow()
    }

    /// The vault's risk figures from each market's cached risk (the engine keeps `Market::risk`
    /// current on every write): O(markets).
    fn vault_risk_now(&self) -> VaultRisk {
        let s = &self.state;
        match risk::fold(
            s.vault.cash,
            s.markets.iter().map(|m| &m.risk),
            s.params.max_vault_utilisation_wad,
        ) {
            Ok(t) => VaultRisk {
                nav: t.nav,
                cash: s.vault.cash,
                required: t.required,
                classic_required: t.classic_required,
                free_liquidity: t.free_liquidity,
                markets: s.markets.iter().map(|m| m.risk).collect(),
            },
            Err(_) => VaultRisk::default(),
        }
    }

    #[expect(
        clippy::cast_possible_wrap,
        reason = "margins, fees (micro-azUSD) are far below 2^127"
    )]
    fn view(&self, id: PositionId, info: &PosInfo) -> Option<PositionView> {
        let p = self.state.position(id)?;
        let m = &self.state.markets[info.market];
        let params = &self.state.market_params[info.market];
        let side = m.side(info.long);
        let (q, c) = book::effective(p, side).ok()?;
        let spot = m.prices.spot;
        let size = q.unsigned_abs();
        let entry = if size > 0 {
            mul_div_floor(c.unsigned_abs(), NOTIONAL_DIV, size)
        } else {
            0
        };
        let notional = notional_floor(size, spot);
        let upnl = eu::signed_value_floor(q, spot).ok()? - c;
        let owed = funding::owed(p.qty, side.funding_index, p.funding_entry).ok()?;
        let adl = book::adl_owed_to(p, side).ok()?;
        let close_fee =
            eu::mul_wad_up(eu::notional_up(q, spot).ok()?, params.taker_fee_wad).ok()?;
        let equity = p.margin as i128 + adl + upnl - owed - close_fee as i128;
        Some(PositionView {
            id,
            market: info.market,
            side: sim_side(info.long),
            size,
            entry_price: entry,
            collateral_usd: p.margin,
            notional_usd: notional,
            upnl_usd: upnl + adl,
            funding_usd: owed,
            equity_usd: equity,
            opened_height: info.opened_height,
        })
    }

    #[expect(
        clippy::cast_possible_wrap,
        reason = "balances (micro-azUSD) are far below 2^127"
    )]
    fn usd_outcome(&self, user: Address, u0: u128) -> Outcome {
        Outcome {
            usd_delta: self.azusd(user) as i128 - u0 as i128,
            ..Default::default()
        }
    }

    #[expect(
        clippy::cast_possible_wrap,
        reason = "balances (micro-azUSD) and shares (WAD) are far below 2^127"
    )]
    fn outcome_from(&self, user: Address, u0: u128, shares0: u128) -> Outcome {
        let shares1 = self.state.lps.get(&user).map(|a| a.shares).unwrap_or(0);
        Outcome {
            usd_delta: self.azusd(user) as i128 - u0 as i128,
            shares_delta: shares1 as i128 - shares0 as i128,
            ..Default::default()
        }
    }

    #[expect(
        clippy::cast_sign_loss,
        clippy::cast_possible_wrap,
        reason = "sizes and balances are far below 2^127; the shortfall is clamped ≥ 0"
    )]
    fn open(
        &mut self,
        owner: AgentId,
        market: MarketId,
        side: Side,
        notional: u128,
        lev: u32,
    ) -> Result<Outcome, Rejection> {
        self.check_market(market)?;
        if lev < 100 {
            return rej(
                RejectKind::InvalidAmount,
                format!("leverage {lev} below 1x"),
            );
        }
        let user = agent_address(owner);
        let m = &self.state.markets[market];
        let p = &self.state.market_params[market];
        let spot = m.prices.spot;
        if spot == 0 {
            return rej(RejectKind::Other, "market has no price");
        }
        let size = size_from_notional(notional, spot);
        if size == 0 || size > i128::MAX as u128 {
            return rej(RejectKind::InvalidAmount, "zero size");
        }
        let n = notional_floor(size, spot);
        // Margin: the agent's leverage, but at least what the engine's tier asks for this size
        // (initial margin + open and close fee + 0.1 % for impact), as a trading front end would
        // compute it; if impact still leaves equity short, one retry with the shortfall added.
        let tier = p.margin_tier(n);
        let fee = eu::mul_wad_up(n, p.taker_fee_wad).unwrap_or(0);
        let min_margin =
            eu::mul_wad_up(n, tier.initial_margin_wad).unwrap_or(n) + 2 * fee + bps_ceil(n, 10);
        let mut margin = mul_div_ceil(notional, 100, u128::from(lev)).max(min_margin);
        let long = side == Side::Long;
        let slip = self.cfg.open_slippage_bps;
        let bound = if long {
            mul_div_ceil(spot, BPS + u128::from(slip), BPS)
        } else {
            mul_div_floor(spot, BPS.saturating_sub(u128::from(slip)), BPS)
        };
        let qty = if long { size as i128 } else { -(size as i128) };
        for attempt in 0..2 {
            self.ensure_azusd(user, margin)?;
            let u_before = self.azusd(user);
            let tx = Tx::OpenPosition {
                user,
                market: engine_market(market)?,
                qty,
                margin,
                price_bound: bound,
            };
            if let Some(f) = &self.fatal {
                return rej(RejectKind::Other, format!("venue halted: {f}"));
            }
            match self.exec(&tx) {
                Ok(ev) => {
                    self.after_tx(&ev, user, Pre::default());
                    let id = ev.iter().find_map(|e| match e {
                        Event::PositionOpened { position, .. } => Some(*position),
                        _ => None,
                    });
                    // minting (before `u_before`) is not part of the outcome
                    return Ok(Outcome {
                        position: id,
                        usd_delta: self.azusd(user) as i128 - u_before as i128,
                        ..Default::default()
                    });
                }
                Err(ExchangeError::InitialMarginNotMet { equity, required }) if attempt == 0 => {
                    let short = (required as i128 - equity).max(0) as u128;
                    margin += short + bps_ceil(n, 5) + 1;
                }
                Err(e) => return Err(to_rejection(e)),
            }
        }
        rej(RejectKind::InitialMargin, "initial margin not met")
    }

    /// The worst price accepted to close or reduce: `close_slippage_bps` from the engine's spot.
    /// A dust position (under $1 at spot, e.g. what ADL left) is closed without a bound: the
    /// engine's average price of a dust trade rounds to 0, which no bound would accept.
    fn close_bound(&self, market: usize, long: bool, q_abs: u128) -> u128 {
        let spot = self.state.markets[market].prices.spot;
        if notional_floor(q_abs, spot) < USD {
            return if long { 0 } else { u128::MAX };
        }
        let slip = u128::from(self.cfg.close_slippage_bps);
        if long {
            mul_div_floor(spot, BPS.saturating_sub(slip), BPS)
        } else {
            mul_div_ceil(spot, BPS + slip, BPS)
        }
    }

    #[expect(
        clippy::cast_possible_wrap,
        reason = "amounts are capped at i128::MAX first; balances far below 2^127"
    )]
    fn swap(
        &mut self,
        owner: AgentId,
        market: MarketId,
        kind: SwapKind,
    ) -> Result<Outcome, Rejection> {
        self.check_market(market)?;
        let user = agent_address(owner);
        let token = self.state.markets[market].base_token;
        let (base_for_quote, amount) = match kind {
            SwapKind::BuyWithUsd { usd_in } => {
                self.ensure_azusd(user, usd_in)?;
                (false, -(usd_in.min(i128::MAX as u128) as i128))
            }
            SwapKind::SellBase { base_in } => (true, -(base_in.min(i128::MAX as u128) as i128)),
            SwapKind::BuyExactBase { base_out } => {
                let spot = self.state.markets[market].prices.spot;
                self.ensure_azusd(user, notional_ceil(base_out, spot).saturating_mul(2))?;
                (false, base_out.min(i128::MAX as u128) as i128)
            }
            SwapKind::SellAll | SwapKind::Cover => {
                return rej(RejectKind::InvalidAmount, "unresolved wallet-relative swap")
            }
        };
        if amount == 0 {
            return rej(RejectKind::InvalidAmount, "zero swap");
        }
        let (u0, b0) = (self.azusd(user), self.state.wallet(user, token));
        self.run_tx(
            user,
            &Tx::SpotSwap {
                user,
                market: engine_market(market)?,
                base_for_quote,
                amount_specified: amount,
                sqrt_price_limit_x96: None,
            },
            Pre::default(),
        )?;
        Ok(Outcome {
            usd_delta: self.azusd(user) as i128 - u0 as i128,
            base_delta: self.state.wallet(user, token) as i128 - b0 as i128,
            base_market: Some(market),
            ..Default::default()
        })
    }

    /// Highest leverage of the smallest margin tier (x100): 1 / its initial margin.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "leverage x100 fits u32 for any initial margin above 2.4e-8 (the engine's margins are percents)"
    )]
    fn max_leverage_x100(&self) -> u32 {
        self.state.market_params.first().map_or(2_000, |p| {
            let im = p.margin_tiers[0].initial_margin_wad.max(1);
            (WAD * 100 / im) as u32
        })
    }

    fn halt(&mut self, what: &str, e: ExchangeError) {
        if self.fatal.is_none() {
            self.fatal = Some(format!(
                "{what} at height {} failed: {e}",
                self.block.height
            ));
        }
    }

    /// Settle every position of delisted markets (anyone may send `SettleDelisted`; the venue
    /// does it as the arbitrageur, so positions never hang in a delisted market).
    fn settle_delisted(&mut self) {
        let who = agent_address(ARBITRAGEUR);
        for m in 0..self.state.markets.len() {
            if !matches!(self.state.markets[m].status, MarketStatus::Delisted { .. }) {
                continue;
            }
            let ids: Vec<PositionId> = self.by_side[m][0]
                .iter()
                .chain(self.by_side[m][1].iter())
                .copied()
                .collect();
            for id in ids {
                let pre = self.pre_for(id);
                let _ = self.run_tx(
                    who,
                    &Tx::SettleDelisted {
                        user: who,
                        position: id,
                    },
                    pre,
                );
            }
        }
    }

    /// Turn the block end's `Deleveraged` events into per-position fills.
    fn adl_fills(&mut self, events: &[Event], before: &[[ESide; 2]]) {
        for e in events {
            let Event::Deleveraged {
                market,
                long_side,
                price,
                ..
            } = *e
            else {
                continue;
            };
            let m = sim_market(market);
            let si = side_ix(long_side);
            let after = *self.state.markets[m].side(long_side);
            let prev = before[m][si];
            let ids: Vec<PositionId> = self.by_side[m][si].iter().copied().collect();
            for id in ids {
                let Some(p) = self.state.position(id).copied() else {
                    continue;
                };
                let (Ok((q0, _)), Ok((q1, _))) =
                    (book::effective(&p, &prev), book::effective(&p, &after))
                else {
                    continue;
                };
                let cut = q0.unsigned_abs().saturating_sub(q1.unsigned_abs());
                if cut == 0 {
                    continue;
                }
                let pnl = book::adl_owed_to(&p, &after).unwrap_or(0)
                    - book::adl_owed_to(&p, &prev).unwrap_or(0);
                let info = self.pos[&id];
                self.counters.adl_count += 1;
                self.counters.adl_volume_usd += notional_floor(cut, price);
                self.push_fill(id, info, FillKind::Adl, cut, price, 0, pnl, 0, 0, 0);
            }
            let _ = self.liq.reindex_side(&self.state, market, long_side);
        }
    }
}

impl Venue for EngineVenue {
    fn name(&self) -> String {
        "azex-exchange".into()
    }

    fn markets(&self) -> Vec<MarketInfo> {
        let max_lev = self.max_leverage_x100();
        self.symbols
            .iter()
            .map(|s| MarketInfo {
                symbol: s.clone(),
                max_leverage_x100: max_lev,
            })
            .collect()
    }

    #[expect(
        clippy::cast_possible_wrap,
        reason = "ADL sizes (WAD) are far below 2^127"
    )]
    fn begin_block(&mut self, height: u64, timestamp: u64) {
        if self.fatal.is_some() {
            return;
        }
        if self.state.block_open {
            if let Err(e) = self.state.end_block() {
                return self.halt("end_block", e);
            }
        }
        let b = BlockCtx { height, timestamp };
        match self.state.begin_block(b) {
            Ok(ev) => {
                self.block = b;
                self.version += 1;
                self.after_tx(&ev, Address::ZERO, Pre::default());
            }
            Err(e) => return self.halt("begin_block", e),
        }
        // effective funding indexes (the scale is the one funding accrued at)
        for (i, m) in self.state.markets.iter().enumerate() {
            let (jl, js) = (m.long.funding_index, m.short.funding_index);
            let (pl, ps) = self.funding_raw[i];
            let conv = |d: i128, scale: u128| -> i128 {
                // ΔJ (azUSD units × 1e18 per stored unit) → WAD USD per effective unit:
                // × RAY / scale / 1e6
                let mag = mul_div_floor(d.unsigned_abs(), book::RAY, scale.max(1) * USD);
                if d < 0 {
                    -(mag as i128)
                } else {
                    mag as i128
                }
            };
            self.funding_eff[i].0 += conv(jl - pl, m.long.scale);
            self.funding_eff[i].1 += conv(js - ps, m.short.scale);
            self.funding_raw[i] = (jl, js);
        }
    }

    fn arbitrage_spot_to(&mut self, market: MarketId, target: u128) -> Result<Outcome, Rejection> {
        self.check_market(market)?;
        if target == 0 {
            return rej(RejectKind::InvalidAmount, "zero price");
        }
        self.targets[market] = target;
        let (u, b) = self.swap_to(agent_address(ARBITRAGEUR), market, target)?;
        Ok(Outcome {
            usd_delta: u,
            base_delta: b,
            base_market: Some(market),
            ..Default::default()
        })
    }

    fn observe(&self, market: MarketId) -> MarketObs {
        let c = self.cached();
        let c = c.as_ref().expect("cache filled");
        let m = &self.state.markets[market];
        let mr = c.risk.markets.get(market).copied().unwrap_or_default();
        let mut liq = engine_market(market)
            .ok()
            .and_then(|id| self.liq.candidates(&self.state, id).ok())
            .unwrap_or_default();
        liq.sort_unstable();
        liq.dedup();
        liq.truncate(self.cfg.liquidatable_list_max);
        MarketObs {
            market,
            data_price: 0,
            spot_price: m.prices.spot,
            mark_price: c.marks[market],
            twap_price: m.prices.risk,
            long_oi_usd: mr.long_notional,
            short_oi_usd: mr.short_notional,
            funding_rate_per_day: m.funding_rate_per_day_wad,
            required_usd: mr.required,
            spot_depth_usd: m.pool_azusd,
            max_leverage_x100: self.max_leverage_x100(),
            reduce_only: m.status != MarketStatus::Active,
            liquidatable: liq,
        }
    }

    #[expect(
        clippy::cast_possible_wrap,
        reason = "free liquidity and the insurance fund (micro-azUSD) are far below 2^127"
    )]
    fn vault(&self) -> VaultObs {
        let c = self.cached();
        let r = &c.as_ref().expect("cache filled").risk;
        VaultObs {
            nav_usd: r.nav,
            required_usd: r.required,
            free_usd: r.free_liquidity as i128,
            total_shares: self.state.vault.shares,
            insurance_fund_usd: self.state.funds.insurance as i128,
        }
    }

    fn positions_of(&self, owner: AgentId) -> Vec<PositionView> {
        self.by_owner
            .get(&owner)
            .map(|set| {
                set.iter()
                    .filter_map(|id| self.view(*id, &self.pos[id]))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn submit(&mut self, owner: AgentId, action: &Action) -> Result<Outcome, Rejection> {
        if let Some(f) = &self.fatal {
            return rej(RejectKind::Other, format!("venue halted: {f}"));
        }
        let user = agent_address(owner);
        match *action {
            Action::Open {
                market,
                side,
                notional_usd,
                leverage_x100,
            } => self.open(owner, market, side, notional_usd, leverage_x100),
            Action::Close { position } => {
                let (id, info) = self.owned(owner, &position)?;
                let pre = self.pre_for(id);
                let u0 = self.azusd(user);
                let bound = self.close_bound(info.market, info.long, pre.q_abs);
                self.run_tx(
                    user,
                    &Tx::ClosePosition {
                        user,
                        position: id,
                        price_bound: bound,
                    },
                    pre,
                )?;
                Ok(self.usd_outcome(user, u0))
            }
            Action::Reduce {
                position,
                fraction_bps,
            } => self.reduce(owner, position, fraction_bps),
            Action::AddMargin {
                position,
                amount_usd,
            } => self.add_margin(owner, position, amount_usd),
            Action::LpDeposit { amount_usd } => {
                if amount_usd == 0 {
                    return rej(RejectKind::InvalidAmount, "zero deposit");
                }
                self.ensure_azusd(user, amount_usd)?;
                let u0 = self.azusd(user);
                let s0 = self.state.lps.get(&user).map(|a| a.shares).unwrap_or(0);
                self.run_tx(
                    user,
                    &Tx::LpDeposit {
                        user,
                        amount: amount_usd,
                    },
                    Pre::default(),
                )?;
                Ok(self.outcome_from(user, u0, s0))
            }
            Action::LpWithdraw { shares } => {
                let u0 = self.azusd(user);
                let s0 = self.state.lps.get(&user).map(|a| a.shares).unwrap_or(0);
                self.run_tx(user, &Tx::LpWithdraw { user, shares }, Pre::default())?;
                Ok(self.outcome_from(user, u0, s0))
            }
            Action::SpotSwap { market, kind } => self.swap(owner, market, kind),
            Action::Liquidate { position } => self.liquidate(owner, position),
        }
    }

    fn end_block(&mut self) {
        if self.fatal.is_some() || !self.state.block_open {
            return;
        }
        if self.cfg.arbitrage_at_block_end {
            for m in 0..self.targets.len() {
                let t = self.targets[m];
                if let Ok((u, b)) = self.swap_to(agent_address(ARBITRAGEUR), m, t) {
                    if u != 0 || b != 0 {
                        self.extra_arb.push((
                            m,
                            Outcome {
                                usd_delta: u,
                                base_delta: b,
                                base_market: Some(m),
                                ..Default::default()
                            },
                        ));
                    }
                }
            }
        }
        self.settle_delisted();
        let before: Vec<[ESide; 2]> = self
            .state
            .markets
            .iter()
            .map(|m| [m.long, m.short])
            .collect();
        match self.state.end_block() {
            Ok(ev) => {
                self.version += 1;
                self.after_tx(&ev, Address::ZERO, Pre::default());
                self.adl_fills(&ev, &before);
            }
            Err(e) => self.halt("end_block", e),
        }
    }

    fn take_fills(&mut self) -> Vec<Fill> {
        std::mem::take(&mut self.fills)
    }

    fn take_extra_arbitrage(&mut self) -> Vec<(MarketId, Outcome)> {
        std::mem::take(&mut self.extra_arb)
    }

    fn error(&self) -> Option<String> {
        self.fatal.clone()
    }

    #[expect(
        clippy::cast_possible_wrap,
        reason = "configured depths and OI caps (micro-azUSD) are far below 2^127"
    )]
    fn describe(&self) -> BTreeMap<String, String> {
        let g = &self.state.params;
        let p = self
            .state
            .market_params
            .first()
            .cloned()
            .unwrap_or_default();
        let mut d = BTreeMap::new();
        d.insert("block_secs".into(), self.block_secs.to_string());
        d.insert("max_abs_tick_move".into(), g.max_abs_tick_move.to_string());
        d.insert(
            "risk_twap_window_secs".into(),
            g.risk_twap_window_secs.to_string(),
        );
        d.insert(
            "liquidation_step_wad (engine)".into(),
            p.liquidation_step_wad.to_string(),
        );
        d.insert("max_drawdown_wad".into(), g.max_drawdown_wad.to_string());
        d.insert(
            "arbitrage_at_block_end".into(),
            self.cfg.arbitrage_at_block_end.to_string(),
        );
        d.insert("spot_fee_pips".into(), self.cfg.spot_fee_pips.to_string());
        for (i, s) in self.symbols.iter().enumerate() {
            if let Some(dep) = self.listing_depth_usd.get(i) {
                d.insert(format!("depth_at_listing.{s}"), fmt_usd(*dep as i128));
            }
            if let Some(mp) = self.state.market_params.get(i) {
                d.insert(
                    format!("oi_cap_per_side.{s}"),
                    fmt_usd(mp.max_oi_per_side as i128),
                );
            }
        }
        d
    }

    #[expect(
        clippy::cast_possible_wrap,
        reason = "the insurance fund (micro-azUSD) is far below 2^127"
    )]
    fn risk_snapshot(&self) -> RiskSnapshot {
        let c = self.cached();
        let c = c.as_ref().expect("cache filled");
        let mut s = self.counters.clone();
        s.markets = self
            .state
            .markets
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let mr = c.risk.markets.get(i).copied().unwrap_or_default();
                MarketRisk {
                    spot_price: m.prices.spot,
                    mark_price: c.marks[i],
                    long_notional_usd: mr.long_notional,
                    short_notional_usd: mr.short_notional,
                    long_size: m.long.eff_qty().unwrap_or(0),
                    short_size: m.short.eff_qty().unwrap_or(0),
                    required_usd: mr.required,
                    funding_index_long: self.funding_eff[i].0,
                    funding_index_short: self.funding_eff[i].1,
                    reduce_only: m.status != MarketStatus::Active,
                }
            })
            .collect();
        s.vault_nav_usd = c.risk.nav;
        s.vault_shares = self.state.vault.shares;
        s.required_usd = c.risk.required;
        s.insurance_fund_usd = self.state.funds.insurance as i128;
        s.fees_to_lp_usd = self.state.vault.fees_earned;
        s
    }
}
