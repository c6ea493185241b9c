//! The boundary between the simulator and an exchange.
//!
//! The driver only ever talks to a [`Venue`]. A block looks like this:
//!
//! ```text
//! begin_block(h, ts)
//! arbitrage_spot_to(m, data price)      for every market
//! observe(m) / vault() / positions_of(a) as agents are asked to act
//! submit(agent, action)                  trading phase, then keeper phase
//! end_block()
//! take_fills(); risk_snapshot()          metrics and baselines
//! ```
//!
//! Implementations must be deterministic: the same calls in the same order give the same
//! results. All amounts are integers ([`crate::units`]).

use serde::{Deserialize, Serialize};

use crate::types::{
    Action, AgentId, MarketId, MarketObs, PositionId, PositionView, Side, VaultObs,
};

/// Static description of a market.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketInfo {
    /// Must equal the price data's symbol for this market (e.g. `"BTCUSD"`).
    pub symbol: String,
    /// Highest leverage accepted (x100).
    pub max_leverage_x100: u32,
}

/// Why a venue refused an action. Refusals are normal events (counted per kind), not failures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// The reason, for counting.
    pub kind: RejectKind,
    /// The venue's own explanation.
    pub message: String,
}

impl Rejection {
    /// A rejection of `kind` with `message`.
    pub fn new(kind: RejectKind, message: impl Into<String>) -> Self {
        Rejection {
            kind,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}

/// The kinds of [`Rejection`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectKind {
    /// The vault's requirement would exceed its liquidity (pre-execution simulation).
    InsufficientLiquidity,
    /// The market accepts only risk-reducing actions.
    ReduceOnly,
    /// Liquidation requested for a healthy (or already closed) position.
    NotLiquidatable,
    /// Unknown or closed position, or one the caller does not own.
    UnknownPosition,
    /// Size, leverage or amount out of range.
    InvalidAmount,
    /// The mark-price premium cap (net open interest too large for the market's depth).
    ImpactCap,
    /// A side's open-interest cap.
    OiCap,
    /// The execution price is worse than the caller's bound (slippage).
    PriceBound,
    /// Equity below the initial margin for this size.
    InitialMargin,
    /// An LP deposit still in its lock-up period.
    Locked,
    /// Any other engine refusal.
    Other,
}

/// The caller's side of an accepted action.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// The position opened (for `Open`).
    pub position: Option<PositionId>,
    /// azUSD the caller received (> 0) or paid (< 0), micro-azUSD.
    pub usd_delta: i128,
    /// Base tokens the caller received (> 0) or paid (< 0) in `base_market`, WAD.
    pub base_delta: i128,
    /// The market whose base token `base_delta` is in.
    pub base_market: Option<MarketId>,
    /// LP shares minted (> 0) or burned (< 0).
    pub shares_delta: i128,
}

/// What a [`Fill`] did to its position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FillKind {
    /// A position opened.
    Open,
    /// Part of a position closed by its owner.
    Reduce,
    /// A whole position closed by its owner.
    Close,
    /// A position liquidated.
    Liquidation,
    /// A position closed by auto-deleveraging.
    Adl,
}

/// One change of a position, as the baselines need it. Every open, close, reduction,
/// liquidation and ADL produces exactly one fill.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fill {
    /// Block height of the fill.
    pub height: u64,
    /// The position.
    pub position: PositionId,
    /// Its owner.
    pub owner: AgentId,
    /// Its market.
    pub market: MarketId,
    /// Its side.
    pub side: Side,
    /// What happened.
    pub kind: FillKind,
    /// Size opened or closed by this fill (WAD).
    pub size: u128,
    /// Execution price (WAD).
    pub price: u128,
    /// `size * price` (micro-azUSD).
    pub notional_usd: u128,
    /// Trading fee charged on this fill and credited to LPs (micro-azUSD).
    pub fee_usd: u128,
    /// Price PnL of the closed part (0 for opens), before funding and fees.
    pub trader_pnl_usd: i128,
    /// Funding settled on the closed part (> 0: the trader paid).
    pub funding_usd: i128,
    /// Loss beyond the position's collateral (bad debt) on this fill.
    pub deficit_usd: u128,
    /// azUSD paid to the position's owner by this fill. The driver credits owners from the
    /// [`Outcome`] of actions they submitted, and from this field for `Liquidation` and `Adl`
    /// fills (which someone else triggered).
    pub owner_payout_usd: u128,
}

/// One market's risk figures after a block.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketRisk {
    /// Spot pool price (WAD).
    pub spot_price: u128,
    /// Mark price (WAD).
    pub mark_price: u128,
    /// Notional at the mark (micro-azUSD).
    pub long_notional_usd: u128,
    /// Short notional at the mark (micro-azUSD).
    pub short_notional_usd: u128,
    /// Open size per side (WAD base).
    pub long_size: u128,
    /// Short open size (WAD base).
    pub short_size: u128,
    /// This market's AZEx liquidity requirement (micro-azUSD).
    pub required_usd: u128,
    /// Cumulative funding per unit of size paid by each side since genesis (WAD USD per WAD
    /// base token; falls when the side receives). A position of size s pays
    /// `s * (index_now - index_at_open)` over its life.
    pub funding_index_long: i128,
    /// The same for shorts.
    pub funding_index_short: i128,
    /// The market accepts only risk-reducing actions.
    pub reduce_only: bool,
}

/// Whole-venue risk figures after a block. Counters are cumulative since genesis.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskSnapshot {
    /// Per market, by [`MarketId`].
    pub markets: Vec<MarketRisk>,
    /// LP vault NAV (micro-azUSD).
    pub vault_nav_usd: i128,
    /// LP shares outstanding (WAD).
    pub vault_shares: u128,
    /// Sum of the markets' requirements.
    pub required_usd: u128,
    /// Insurance fund balance (micro-azUSD).
    pub insurance_fund_usd: i128,
    /// Losses beyond collateral, total (before the insurance fund).
    pub deficits_usd: u128,
    /// The part of `deficits_usd` the LP vault bore after the insurance fund.
    pub bad_debt_usd: u128,
    /// Notional closed by auto-deleveraging (micro-azUSD).
    pub adl_volume_usd: u128,
    /// Positions auto-deleveraged.
    pub adl_count: u64,
    /// Liquidations executed.
    pub liquidations: u64,
    /// Notional liquidated (micro-azUSD).
    pub liquidation_volume_usd: u128,
    /// Fees credited to LPs (micro-azUSD).
    pub fees_to_lp_usd: u128,
    /// Net funding credited to LPs (can be negative).
    pub funding_to_lp_usd: i128,
    /// Liquidation rewards paid to keepers (micro-azUSD).
    pub keeper_rewards_usd: u128,
}

/// An exchange as the simulator sees it. Keep implementations deterministic.
pub trait Venue {
    /// A short label for reports (e.g. `"azex-exchange"`).
    fn name(&self) -> String {
        "venue".into()
    }

    /// Markets, indexed by [`MarketId`]. Symbols must match the price data.
    fn markets(&self) -> Vec<MarketInfo>;

    /// Starts block `height` at Unix time `timestamp` (both strictly increasing). Accrues
    /// funding, updates oracles.
    fn begin_block(&mut self, height: u64, timestamp: u64);

    /// The arbitrageur trades the market's spot pool until its price is `target_price`
    /// (WAD). Returns the arbitrageur's side (`usd_delta`, `base_delta`).
    fn arbitrage_spot_to(
        &mut self,
        market: MarketId,
        target_price: u128,
    ) -> Result<Outcome, Rejection>;

    /// What agents see of a market now (`data_price` is left 0; the driver fills it).
    fn observe(&self, market: MarketId) -> MarketObs;

    /// What agents see of the LP vault now.
    fn vault(&self) -> VaultObs;

    /// The owner's open positions, ascending id.
    fn positions_of(&self, owner: AgentId) -> Vec<PositionView>;

    /// Executes one action for `owner` (all `PosRef`s resolved to ids). A rejected action
    /// changes nothing.
    fn submit(&mut self, owner: AgentId, action: &Action) -> Result<Outcome, Rejection>;

    /// Ends the block (engine end-of-block work such as ADL).
    fn end_block(&mut self);

    /// Fills since the last call, in execution order.
    fn take_fills(&mut self) -> Vec<Fill>;

    /// Risk figures now.
    fn risk_snapshot(&self) -> RiskSnapshot;

    /// Arbitrage the venue did by itself since the last call (e.g. restoring the pools at the
    /// end of a block), as the arbitrageur's outcomes per market. Called after `end_block`.
    fn take_extra_arbitrage(&mut self) -> Vec<(MarketId, Outcome)> {
        Vec::new()
    }

    /// A fatal venue error (the run cannot go on), checked after every block.
    fn error(&self) -> Option<String> {
        None
    }

    /// Key facts about the venue's configuration, recorded in the result.
    fn describe(&self) -> std::collections::BTreeMap<String, String> {
        Default::default()
    }
}

/// What an [`Observed`] venue reports to its observer. Every method does nothing by default.
pub trait VenueHook {
    /// After `owner`'s action was submitted, with the venue's answer.
    fn after_submit(
        &mut self,
        _owner: AgentId,
        _action: &Action,
        _result: &Result<Outcome, Rejection>,
    ) {
    }

    /// After the driver took a block's fills.
    fn after_fills(&mut self, _fills: &[Fill]) {}

    /// After the driver took a risk snapshot (once per block, after the fills).
    fn after_risk_snapshot(&mut self, _snapshot: &RiskSnapshot) {}
}

/// A venue that forwards everything to `inner` and reports submissions, fills and risk
/// snapshots to a [`VenueHook`] (e.g. the study's recorder, the attack search's tally).
pub struct Observed<V, H> {
    /// The venue doing the work.
    pub inner: V,
    /// A cell because [`Venue::risk_snapshot`] takes `&self`.
    hook: std::cell::RefCell<H>,
}

impl<V: Venue, H: VenueHook> Observed<V, H> {
    /// Wraps `inner`, reporting to `hook`.
    pub fn new(inner: V, hook: H) -> Self {
        Observed {
            inner,
            hook: std::cell::RefCell::new(hook),
        }
    }

    /// The hook, with what it observed.
    pub fn into_hook(self) -> H {
        self.hook.into_inner()
    }
}

impl<V: Venue, H: VenueHook> Venue for Observed<V, H> {
    fn name(&self) -> String {
        self.inner.name()
    }
    fn markets(&self) -> Vec<MarketInfo> {
        self.inner.markets()
    }
    fn begin_block(&mut self, height: u64, timestamp: u64) {
        self.inner.begin_block(height, timestamp)
    }
    fn arbitrage_spot_to(
        &mut self,
        market: MarketId,
        target_price: u128,
    ) -> Result<Outcome, Rejection> {
        self.inner.arbitrage_spot_to(market, target_price)
    }
    fn observe(&self, market: MarketId) -> MarketObs {
        self.inner.observe(market)
    }
    fn vault(&self) -> VaultObs {
        self.inner.vault()
    }
    fn positions_of(&self, owner: AgentId) -> Vec<PositionView> {
        self.inner.positions_of(owner)
    }
    fn submit(&mut self, owner: AgentId, action: &Action) -> Result<Outcome, Rejection> {
        let r = self.inner.submit(owner, action);
        self.hook.get_mut().after_submit(owner, action, &r);
        r
    }
    fn end_block(&mut self) {
        self.inner.end_block()
    }
    fn take_fills(&mut self) -> Vec<Fill> {
        let f = self.inner.take_fills();
        self.hook.get_mut().after_fills(&f);
        f
    }
    fn risk_snapshot(&self) -> RiskSnapshot {
        let r = self.inner.risk_snapshot();
        self.hook.borrow_mut().after_risk_snapshot(&r);
        r
    }
    fn take_extra_arbitrage(&mut self) -> Vec<(MarketId, Outcome)> {
        self.inner.take_extra_arbitrage()
    }
    fn error(&self) -> Option<String> {
        self.inner.error()
    }
    fn describe(&self) -> std::collections::BTreeMap<String, String> {
        self.inner.describe()
    }
}
