//! Seeded, deterministic trading agents.
//!
//! An agent is asked to act at scheduled sub-steps (trading phase; [`Agent::next_wake`] says
//! when next) and, if it is a keeper, once every block after the trading phase (keeper phase).
//! It returns a batch of [`Action`]s that the driver executes in order. Agents see only an
//! [`Observation`]; their randomness comes from the `ChaCha8Rng` the driver hands them (one
//! stream per agent, derived from the scenario seed and the agent id).
//!
//! Heuristics may use f64, but only `+ − × /`, comparisons and `sqrt` (all exactly rounded by
//! IEEE-754, and Rust never fuses them), and every amount leaves an agent as an integer: the
//! same seed gives the same actions on any IEEE-754 machine.
//!
//! The `balance` parameter (0 = one-sided flow, 1 = fully balanced) acts in two places:
//! directional agents without a price signal (noise traders, whales) pick the scenario's bias
//! side with probability `0.5 + 0.5 × (1 − balance)`, and hedgers keep each market's imbalance
//! `|L − S| / (L + S)` at or below `1 − balance` (they are idle below balance 0.05).

use std::collections::VecDeque;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::types::*;
use crate::units::*;

/// The kinds of agents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentKind {
    /// [`NoiseTrader`].
    Noise,
    /// [`TrendFollower`].
    TrendFollower,
    /// [`MeanReverter`].
    MeanReverter,
    /// [`Hedger`].
    Hedger,
    /// [`Whale`].
    Whale,
    /// [`LpAgent`].
    Lp,
    /// [`Keeper`].
    Keeper,
    /// [`SelfLiquidator`].
    SelfLiquidator,
    /// [`SpotManipulator`].
    SpotManipulator,
    /// [`StopHunter`].
    StopHunter,
    /// [`FundingArbitrageur`].
    FundingArbitrageur,
    /// The optimising attackers of [`crate::attackers`] (not built by [`Population`]): a
    /// member of an [`crate::AttackKind::Jelly`] coalition.
    Jelly,
    /// A member of an [`crate::AttackKind::FundingDefault`] coalition.
    FundingDefault,
    /// The [`crate::AttackKind::StopHunt`] attacker.
    PatientStopHunter,
    /// A member of an [`crate::AttackKind::MultiBlock`] coalition.
    MultiBlockManipulator,
    /// The [`crate::AttackKind::Sandwich`] attacker.
    KeeperSandwich,
}

impl AgentKind {
    /// The optimising attackers ([`crate::attackers`]); [`AgentKind::ALL`] lists the kinds a
    /// [`Population`] builds.
    pub const ATTACKERS: [AgentKind; 5] = [
        AgentKind::Jelly,
        AgentKind::FundingDefault,
        AgentKind::PatientStopHunter,
        AgentKind::MultiBlockManipulator,
        AgentKind::KeeperSandwich,
    ];

    /// The kinds a [`Population`] builds.
    pub const ALL: [AgentKind; 11] = [
        AgentKind::Noise,
        AgentKind::TrendFollower,
        AgentKind::MeanReverter,
        AgentKind::Hedger,
        AgentKind::Whale,
        AgentKind::Lp,
        AgentKind::Keeper,
        AgentKind::SelfLiquidator,
        AgentKind::SpotManipulator,
        AgentKind::StopHunter,
        AgentKind::FundingArbitrageur,
    ];

    /// The snake_case name used in configurations and reports.
    pub fn name(self) -> &'static str {
        match self {
            AgentKind::Noise => "noise",
            AgentKind::TrendFollower => "trend_follower",
            AgentKind::MeanReverter => "mean_reverter",
            AgentKind::Hedger => "hedger",
            AgentKind::Whale => "whale",
            AgentKind::Lp => "lp",
            AgentKind::Keeper => "keeper",
            AgentKind::SelfLiquidator => "self_liquidator",
            AgentKind::SpotManipulator => "spot_manipulator",
            AgentKind::StopHunter => "stop_hunter",
            AgentKind::FundingArbitrageur => "funding_arbitrageur",
            AgentKind::Jelly => "jelly",
            AgentKind::FundingDefault => "funding_default",
            AgentKind::PatientStopHunter => "stop_hunt_patient",
            AgentKind::MultiBlockManipulator => "multi_block_manipulation",
            AgentKind::KeeperSandwich => "keeper_sandwich",
        }
    }

    /// Self-liquidators, spot manipulators, stop hunters and the optimising attackers.
    pub fn is_adversary(self) -> bool {
        matches!(
            self,
            AgentKind::SelfLiquidator | AgentKind::SpotManipulator | AgentKind::StopHunter
        ) || AgentKind::ATTACKERS.contains(&self)
    }
}

/// A simulated participant.
pub trait Agent {
    /// The agent's id.
    fn id(&self) -> AgentId;
    /// The agent's kind.
    fn kind(&self) -> AgentKind;
    /// The actions to take now, executed in order. Must depend only on `self`, `obs` and `rng`.
    fn decide(&mut self, obs: &Observation<'_>, rng: &mut ChaCha8Rng) -> Vec<Action>;
    /// Sub-steps until the next trading-phase call (≥ 1; `u64::MAX` = never). Called after
    /// each trading-phase `decide`.
    fn next_wake(&mut self, rng: &mut ChaCha8Rng) -> u64;
    /// Sub-step of the first trading-phase call (0 = first block).
    fn first_wake(&mut self, rng: &mut ChaCha8Rng) -> u64 {
        self.next_wake(rng).saturating_sub(1)
    }
    /// Keepers are also called in the keeper phase of every block.
    fn is_keeper(&self) -> bool {
        false
    }
}

// ---------------------------------------------------------------------------------------------
// helpers

/// Uniform in `[1, 2·mean − 1]` (mean `mean`), never 0.
pub fn jittered_interval(rng: &mut ChaCha8Rng, mean: u64) -> u64 {
    let mean = mean.max(1);
    rng.random_range(1..=2 * mean - 1)
}

fn chance(rng: &mut ChaCha8Rng, bps: u32) -> bool {
    rng.random_range(0..10_000u32) < bps
}

/// Log-uniform-ish amount in `[min, max]` whole USD → micro-USD: one of 8 geometric buckets
/// (ratio `(max/min)^(1/8)`, computed with three square roots), then uniform inside it.
pub fn log_uniform_usd(rng: &mut ChaCha8Rng, min: u64, max: u64) -> u128 {
    let (min, max) = (min.max(1) as f64, max.max(min.max(1)) as f64);
    let r = (max / min).sqrt().sqrt().sqrt();
    let b = rng.random_range(0..8u32);
    let mut lo = min;
    for _ in 0..b {
        lo *= r;
    }
    let hi = (lo * r).min(max);
    let u: f64 = rng.random::<f64>();
    f64_to_usd(lo + (hi - lo) * u).max(USD)
}

fn leverage(rng: &mut ChaCha8Rng, range: [u32; 2], max_x100: u32) -> u32 {
    // Saturating: `PopulationConfig::validate` bounds leverage to MAX_LEVERAGE, but a library
    // caller that skips it must not overflow.
    let lo = range[0].max(1).saturating_mul(100);
    let hi = (range[1].max(range[0]).max(1).saturating_mul(100)).min(max_x100.max(100));
    let lo = lo.min(hi);
    rng.random_range(lo..=hi) / 50 * 50
}

fn biased_side(rng: &mut ChaCha8Rng, balance_bps: u32, bias: Side) -> Side {
    let p = 5_000 + (10_000 - balance_bps.min(10_000)) / 2;
    if chance(rng, p) {
        bias
    } else {
        bias.opposite()
    }
}

#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    reason = "a and b are WAD prices (< 2^127); the bps ratio of two mark prices fits i64"
)]
fn ratio_bps(a: u128, b: u128) -> i64 {
    // (a - b) / b in bps, signed; b > 0
    if b == 0 {
        return 0;
    }
    let d = a as i128 - b as i128;
    (d * 10_000 / b as i128) as i64
}

/// A market that takes new exposure and has a price.
pub fn usable(m: &MarketObs) -> bool {
    !m.reduce_only && m.mark_price > 0
}

// ---------------------------------------------------------------------------------------------
// configuration

/// `[min, max]` whole USD.
pub type UsdRange = [u64; 2];

/// Relative weights of the regular (non-adversary) agents; counts are apportioned from
/// [`PopulationConfig::agents`] by largest remainder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgentMix {
    /// Weight of noise traders.
    pub noise: u32,
    /// Weight of trend followers.
    pub trend_follower: u32,
    /// Weight of mean reverters.
    pub mean_reverter: u32,
    /// Weight of hedgers.
    pub hedger: u32,
    /// Weight of whales.
    pub whale: u32,
    /// Weight of LPs.
    pub lp: u32,
    /// Weight of keepers.
    pub keeper: u32,
    /// Funding/premium arbitrageurs ([`FundingArbitrageur`]): balancing flow for profit.
    pub funding_arb: u32,
}

impl Default for AgentMix {
    fn default() -> Self {
        AgentMix {
            noise: 560,
            trend_follower: 120,
            mean_reverter: 100,
            hedger: 100,
            whale: 15,
            lp: 95,
            keeper: 10,
            funding_arb: 0,
        }
    }
}

/// Adversaries, added on top of the regular population.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdversaryConfig {
    /// Number of self-liquidators.
    pub self_liquidators: u32,
    /// Number of spot manipulators.
    pub spot_manipulators: u32,
    /// Number of stop hunters.
    pub stop_hunters: u32,
    /// Perp notional per attack (whole USD).
    pub notional_usd: u64,
    /// How far manipulators/hunters push the spot price (bps).
    pub push_bps: u32,
    /// Mean hours between attacks.
    pub interval_hours: u32,
}

impl Default for AdversaryConfig {
    fn default() -> Self {
        AdversaryConfig {
            self_liquidators: 0,
            spot_manipulators: 0,
            stop_hunters: 0,
            notional_usd: 2_000_000,
            push_bps: 500,
            interval_hours: 48,
        }
    }
}

/// Mean hours between activations per kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Intervals {
    /// Noise traders (hours).
    pub noise: u32,
    /// Trend followers (hours).
    pub trend_follower: u32,
    /// Mean reverters (hours).
    pub mean_reverter: u32,
    /// Hedgers and funding arbitrageurs (hours).
    pub hedger: u32,
    /// Whales (hours).
    pub whale: u32,
    /// LPs (hours).
    pub lp: u32,
}

impl Default for Intervals {
    fn default() -> Self {
        Intervals {
            noise: 12,
            trend_follower: 4,
            mean_reverter: 4,
            hedger: 2,
            whale: 96,
            lp: 72,
        }
    }
}

/// The population of one scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PopulationConfig {
    /// Number of regular agents (adversaries come on top).
    pub agents: u32,
    /// Weights of the regular kinds.
    pub mix: AgentMix,
    /// 0 = one-sided, 1 = perfectly balanced flow.
    pub balance: f64,
    /// The side one-sided flow leans to.
    pub bias: Side,
    /// Notional range of regular traders (whole USD).
    pub trade_usd: UsdRange,
    /// Notional range of whales (whole USD).
    pub whale_usd: UsdRange,
    /// Deposit range of LPs (whole USD).
    pub lp_usd: UsdRange,
    /// Leverage range (x) of regular traders.
    pub leverage: [u32; 2],
    /// Fraction (bps) of LPs present from the first block; the rest enter later.
    pub lp_initial_bps: u32,
    /// Probability (bps) that a keeper skips a block (is offline).
    pub keeper_fail_bps: u32,
    /// Mean hours between activations per kind.
    pub intervals: Intervals,
    /// Adversaries on top of the regular agents.
    pub adversaries: AdversaryConfig,
}

impl Default for PopulationConfig {
    fn default() -> Self {
        PopulationConfig {
            agents: 1000,
            mix: AgentMix::default(),
            balance: 0.6,
            bias: Side::Long,
            trade_usd: [1_000, 50_000],
            whale_usd: [300_000, 2_000_000],
            lp_usd: [50_000, 500_000],
            leverage: [2, 10],
            lp_initial_bps: 6_000,
            keeper_fail_bps: 1_000,
            intervals: Intervals::default(),
            adversaries: AdversaryConfig::default(),
        }
    }
}

/// Most regular agents a population may have (each is funded and tracked by the venue).
pub const MAX_AGENTS: u32 = 100_000;
/// Most adversaries of each kind.
pub const MAX_ADVERSARIES_PER_KIND: u32 = 1_000;
/// Highest leverage (x) a population may ask for.
pub const MAX_LEVERAGE: u32 = 1_000;
/// Largest amount (whole USD) in any sizing range or attack notional.
pub const MAX_CONFIG_USD: u64 = 10_000_000_000;
/// Longest mean interval (hours) between activations.
pub const MAX_INTERVAL_HOURS: u32 = 100_000;

fn check_range(name: &str, r: UsdRange) -> Result<(), String> {
    if r[0] == 0 || r[0] > r[1] || r[1] > MAX_CONFIG_USD {
        return Err(format!(
            "population.{name} [{}, {}]: need 1 <= min <= max <= {MAX_CONFIG_USD}",
            r[0], r[1]
        ));
    }
    Ok(())
}

fn check_max(name: &str, v: u64, max: u64) -> Result<(), String> {
    if v > max {
        return Err(format!("{name} {v} above the limit {max}"));
    }
    Ok(())
}

impl PopulationConfig {
    /// Checks the configuration against the documented limits ([`MAX_AGENTS`],
    /// [`MAX_ADVERSARIES_PER_KIND`], [`MAX_LEVERAGE`], [`MAX_CONFIG_USD`],
    /// [`MAX_INTERVAL_HOURS`], basis points ≤ 10 000, `balance` in [0, 1]) so that building and
    /// running the population cannot overflow or exhaust memory.
    pub fn validate(&self) -> Result<(), String> {
        check_max("population.agents", self.agents.into(), MAX_AGENTS.into())?;
        if !(0.0..=1.0).contains(&self.balance) {
            return Err(format!(
                "population.balance {} outside [0, 1]",
                self.balance
            ));
        }
        check_range("trade_usd", self.trade_usd)?;
        check_range("whale_usd", self.whale_usd)?;
        check_range("lp_usd", self.lp_usd)?;
        let [lo, hi] = self.leverage;
        if lo == 0 || lo > hi || hi > MAX_LEVERAGE {
            return Err(format!(
                "population.leverage [{lo}, {hi}]: need 1 <= min <= max <= {MAX_LEVERAGE}"
            ));
        }
        check_max(
            "population.lp_initial_bps",
            self.lp_initial_bps.into(),
            10_000,
        )?;
        check_max(
            "population.keeper_fail_bps",
            self.keeper_fail_bps.into(),
            10_000,
        )?;
        let iv = &self.intervals;
        for (name, h) in [
            ("noise", iv.noise),
            ("trend_follower", iv.trend_follower),
            ("mean_reverter", iv.mean_reverter),
            ("hedger", iv.hedger),
            ("whale", iv.whale),
            ("lp", iv.lp),
        ] {
            check_max(
                &format!("population.intervals.{name}"),
                h.into(),
                MAX_INTERVAL_HOURS.into(),
            )?;
        }
        let a = &self.adversaries;
        for (name, n) in [
            ("self_liquidators", a.self_liquidators),
            ("spot_manipulators", a.spot_manipulators),
            ("stop_hunters", a.stop_hunters),
        ] {
            check_max(
                &format!("population.adversaries.{name}"),
                n.into(),
                MAX_ADVERSARIES_PER_KIND.into(),
            )?;
        }
        check_max(
            "population.adversaries.notional_usd",
            a.notional_usd,
            MAX_CONFIG_USD,
        )?;
        check_max("population.adversaries.push_bps", a.push_bps.into(), 10_000)?;
        check_max(
            "population.adversaries.interval_hours",
            a.interval_hours.into(),
            MAX_INTERVAL_HOURS.into(),
        )?;
        Ok(())
    }

    /// `balance` in bps, clamped to [0, 10000].
    #[expect(
        clippy::cast_sign_loss,
        clippy::cast_possible_truncation,
        reason = "balance is clamped to [0, 1] (NaN → 0), so the rounded bps is in 0..=10000"
    )]
    pub fn balance_bps(&self) -> u32 {
        let b = if self.balance.is_nan() {
            0.0
        } else {
            self.balance.clamp(0.0, 1.0)
        };
        (b * 10_000.0 + 0.5).floor() as u32
    }

    /// Counts per regular kind (largest remainder; ties to the earlier kind).
    #[expect(
        clippy::cast_possible_truncation,
        reason = "counts are at most `agents` (a u32), and the remainder count is below the number of kinds"
    )]
    pub fn counts(&self) -> Vec<(AgentKind, u32)> {
        let m = &self.mix;
        let w = [
            (AgentKind::Noise, m.noise),
            (AgentKind::TrendFollower, m.trend_follower),
            (AgentKind::MeanReverter, m.mean_reverter),
            (AgentKind::Hedger, m.hedger),
            (AgentKind::Whale, m.whale),
            (AgentKind::Lp, m.lp),
            (AgentKind::Keeper, m.keeper),
            (AgentKind::FundingArbitrageur, m.funding_arb),
        ];
        let total: u64 = w.iter().map(|x| u64::from(x.1)).sum();
        if total == 0 {
            return w.iter().map(|x| (x.0, 0)).collect();
        }
        let n = u64::from(self.agents);
        let mut counts: Vec<u64> = w.iter().map(|x| n * u64::from(x.1) / total).collect();
        let mut rem: Vec<(u64, usize)> = w
            .iter()
            .enumerate()
            .map(|(i, x)| (n * u64::from(x.1) % total, i))
            .collect();
        rem.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let assigned: u64 = counts.iter().sum();
        for &(_, i) in rem.iter().take((n - assigned) as usize) {
            counts[i] += 1;
        }
        w.iter().zip(counts).map(|(x, c)| (x.0, c as u32)).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// agents

/// Shared sizing of position-taking agents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sizing {
    /// Notional range (whole USD).
    pub usd: UsdRange,
    /// Leverage range (x).
    pub leverage: [u32; 2],
}

/// Noise trader: at each activation closes each open position with probability 35%, halves it
/// with 5%, tops up margin (20% of collateral) with 3% when equity is below half the
/// collateral; then, holding fewer than 2 positions, opens one with probability 60% on a
/// uniformly chosen market, side by the balance rule, log-uniform notional, uniform leverage.
#[derive(Clone, Debug)]
pub struct NoiseTrader {
    /// Agent id.
    pub id: AgentId,
    /// Notional and leverage ranges.
    pub sizing: Sizing,
    /// Flow balance (bps; 10000 = fully balanced).
    pub balance_bps: u32,
    /// The side one-sided flow leans to.
    pub bias: Side,
    /// Mean sub-steps between activations.
    pub mean_interval: u64,
}

impl Agent for NoiseTrader {
    fn id(&self) -> AgentId {
        self.id
    }
    fn kind(&self) -> AgentKind {
        AgentKind::Noise
    }
    #[expect(
        clippy::cast_possible_wrap,
        reason = "collateral (micro-azUSD) is far below 2^127"
    )]
    fn decide(&mut self, obs: &Observation<'_>, rng: &mut ChaCha8Rng) -> Vec<Action> {
        let mut out = Vec::new();
        let mut kept = 0;
        for p in obs.own_positions {
            let r = rng.random_range(0..100u32);
            if r < 35 {
                out.push(Action::close(p.id));
            } else if r < 40 {
                out.push(Action::Reduce {
                    position: PosRef::Id(p.id),
                    fraction_bps: 5_000,
                });
                kept += 1;
            } else if r < 43 && p.equity_usd < (p.collateral_usd / 2) as i128 {
                out.push(Action::AddMargin {
                    position: PosRef::Id(p.id),
                    amount_usd: (p.collateral_usd / 5).max(1),
                });
                kept += 1;
            } else {
                kept += 1;
            }
        }
        if kept < 2 && chance(rng, 6_000) && !obs.markets.is_empty() {
            let m = &obs.markets[rng.random_range(0..obs.markets.len())];
            if usable(m) {
                let side = biased_side(rng, self.balance_bps, self.bias);
                let notional = log_uniform_usd(rng, self.sizing.usd[0], self.sizing.usd[1]);
                let lev = leverage(rng, self.sizing.leverage, m.max_leverage_x100);
                out.push(Action::Open {
                    market: m.market,
                    side,
                    notional_usd: notional,
                    leverage_x100: lev,
                });
            }
        }
        out
    }
    fn next_wake(&mut self, rng: &mut ChaCha8Rng) -> u64 {
        jittered_interval(rng, self.mean_interval)
    }
}

/// Trend follower on one market: samples the mark at each activation (last `lookback`
/// samples); momentum = price / oldest sample − 1. Above `threshold_bps` it wants long, below
/// −threshold short; it closes positions against the wanted side, and everything when
/// |momentum| < threshold / 2; it opens when it wants a side and holds nothing.
#[derive(Clone, Debug)]
pub struct TrendFollower {
    /// Agent id.
    pub id: AgentId,
    /// Home market.
    pub market: MarketId,
    /// Notional and leverage ranges.
    pub sizing: Sizing,
    /// Number of mark samples kept.
    pub lookback: usize,
    /// Signal threshold (bps).
    pub threshold_bps: i64,
    /// Mean sub-steps between activations.
    pub mean_interval: u64,
    /// Mark prices (WAD) at the last activations, oldest first.
    pub samples: VecDeque<u128>,
}

fn signal_trade(
    own: &[PositionView],
    market: &MarketObs,
    want: Option<Side>,
    flat: bool,
    sizing: &Sizing,
    rng: &mut ChaCha8Rng,
) -> Vec<Action> {
    let mut out = Vec::new();
    let mut holding = false;
    for p in own.iter().filter(|p| p.market == market.market) {
        if flat || want.is_some_and(|w| w != p.side) {
            out.push(Action::close(p.id));
        } else {
            holding = true;
        }
    }
    if let Some(side) = want {
        if !holding && usable(market) {
            let notional = log_uniform_usd(rng, sizing.usd[0], sizing.usd[1]);
            let lev = leverage(rng, sizing.leverage, market.max_leverage_x100);
            out.push(Action::Open {
                market: market.market,
                side,
                notional_usd: notional,
                leverage_x100: lev,
            });
        }
    }
    out
}

impl Agent for TrendFollower {
    fn id(&self) -> AgentId {
        self.id
    }
    fn kind(&self) -> AgentKind {
        AgentKind::TrendFollower
    }
    fn decide(&mut self, obs: &Observation<'_>, rng: &mut ChaCha8Rng) -> Vec<Action> {
        let Some(m) = obs.markets.get(self.market) else {
            return Vec::new();
        };
        self.samples.push_back(m.mark_price);
        if self.samples.len() > self.lookback {
            self.samples.pop_front();
        }
        if self.samples.len() < self.lookback {
            return Vec::new();
        }
        let mom = ratio_bps(m.mark_price, self.samples[0]);
        let want = if mom > self.threshold_bps {
            Some(Side::Long)
        } else if mom < -self.threshold_bps {
            Some(Side::Short)
        } else {
            None
        };
        let flat = mom.abs() < self.threshold_bps / 2;
        signal_trade(obs.own_positions, m, want, flat, &self.sizing, rng)
    }
    fn next_wake(&mut self, rng: &mut ChaCha8Rng) -> u64 {
        jittered_interval(rng, self.mean_interval)
    }
}

/// Mean reverter on one market: deviation = mark / mean(last `lookback` samples) − 1. Above
/// `threshold_bps` it wants short, below −threshold long; it closes when |deviation| <
/// threshold / 3 or when holding against the wanted side.
#[derive(Clone, Debug)]
pub struct MeanReverter {
    /// Agent id.
    pub id: AgentId,
    /// Home market.
    pub market: MarketId,
    /// Notional and leverage ranges.
    pub sizing: Sizing,
    /// Number of mark samples kept.
    pub lookback: usize,
    /// Signal threshold (bps).
    pub threshold_bps: i64,
    /// Mean sub-steps between activations.
    pub mean_interval: u64,
    /// Mark prices (WAD) at the last activations, oldest first.
    pub samples: VecDeque<u128>,
}

impl Agent for MeanReverter {
    fn id(&self) -> AgentId {
        self.id
    }
    fn kind(&self) -> AgentKind {
        AgentKind::MeanReverter
    }
    fn decide(&mut self, obs: &Observation<'_>, rng: &mut ChaCha8Rng) -> Vec<Action> {
        let Some(m) = obs.markets.get(self.market) else {
            return Vec::new();
        };
        self.samples.push_back(m.mark_price);
        if self.samples.len() > self.lookback {
            self.samples.pop_front();
        }
        if self.samples.len() < self.lookback {
            return Vec::new();
        }
        let mean = self.samples.iter().sum::<u128>() / self.samples.len() as u128;
        let dev = ratio_bps(m.mark_price, mean);
        let want = if dev > self.threshold_bps {
            Some(Side::Short)
        } else if dev < -self.threshold_bps {
            Some(Side::Long)
        } else {
            None
        };
        let flat = dev.abs() < self.threshold_bps / 3;
        signal_trade(obs.own_positions, m, want, flat, &self.sizing, rng)
    }
    fn next_wake(&mut self, rng: &mut ChaCha8Rng) -> u64 {
        jittered_interval(rng, self.mean_interval)
    }
}

/// Hedger on one market: keeps the imbalance `|L − S| / (L + S)` at or below
/// `target_bps` (= 1 − balance). When above, it closes its own positions on the dominant side
/// and opens on the minority side half the excess notional (capped at `max_usd`, at least
/// `min_usd`), with low leverage; positions older than `max_hold` sub-steps are closed with
/// probability 10% per activation (turnover). Idle when `target_bps` ≥ 9500.
#[derive(Clone, Debug)]
pub struct Hedger {
    /// Agent id.
    pub id: AgentId,
    /// Home market.
    pub market: MarketId,
    /// Highest imbalance tolerated (bps).
    pub target_bps: u32,
    /// Smallest notional it opens (whole USD).
    pub min_usd: u64,
    /// Largest notional it opens (whole USD).
    pub max_usd: u64,
    /// Leverage ×100.
    pub leverage_x100: u32,
    /// Age (blocks) beyond which positions may be closed for turnover.
    pub max_hold: u64,
    /// Mean sub-steps between activations.
    pub mean_interval: u64,
}

impl Agent for Hedger {
    fn id(&self) -> AgentId {
        self.id
    }
    fn kind(&self) -> AgentKind {
        AgentKind::Hedger
    }
    #[expect(
        clippy::cast_possible_truncation,
        reason = "net ≤ gross, so the imbalance is at most 10000 bps"
    )]
    fn decide(&mut self, obs: &Observation<'_>, rng: &mut ChaCha8Rng) -> Vec<Action> {
        let mut out = Vec::new();
        let Some(m) = obs.markets.get(self.market) else {
            return out;
        };
        if self.target_bps >= 9_500 {
            return out;
        }
        let (l, s) = (m.long_oi_usd, m.short_oi_usd);
        let gross = l + s;
        if gross == 0 {
            return out;
        }
        let net = l.abs_diff(s);
        let imb = (net * 10_000 / gross) as u32;
        let dominant = if l >= s { Side::Long } else { Side::Short };
        let mut held = 0;
        for p in obs.own_positions {
            let old = obs.height.saturating_sub(p.opened_height) > self.max_hold;
            if (imb > self.target_bps && p.market == self.market && p.side == dominant)
                || (old && chance(rng, 1_000))
            {
                out.push(Action::close(p.id));
            } else {
                held += 1;
            }
        }
        if imb > self.target_bps && held < 4 && usable(m) {
            let excess = net - mul_div_floor(gross, u128::from(self.target_bps), 10_000);
            let amt = (excess / 2).min(usd(self.max_usd));
            if amt >= usd(self.min_usd) {
                out.push(Action::Open {
                    market: self.market,
                    side: dominant.opposite(),
                    notional_usd: amt,
                    leverage_x100: self.leverage_x100,
                });
            }
        }
        out
    }
    fn next_wake(&mut self, rng: &mut ChaCha8Rng) -> u64 {
        jittered_interval(rng, self.mean_interval)
    }
}

/// Whale on one market: rare activations; holding nothing, opens with probability 50% a large
/// position (side by the balance rule, 2–5x); holding, closes with probability 30%.
#[derive(Clone, Debug)]
pub struct Whale {
    /// Agent id.
    pub id: AgentId,
    /// Home market.
    pub market: MarketId,
    /// Notional and leverage ranges.
    pub sizing: Sizing,
    /// Flow balance (bps; 10000 = fully balanced).
    pub balance_bps: u32,
    /// The side one-sided flow leans to.
    pub bias: Side,
    /// Mean sub-steps between activations.
    pub mean_interval: u64,
}

impl Agent for Whale {
    fn id(&self) -> AgentId {
        self.id
    }
    fn kind(&self) -> AgentKind {
        AgentKind::Whale
    }
    fn decide(&mut self, obs: &Observation<'_>, rng: &mut ChaCha8Rng) -> Vec<Action> {
        let Some(m) = obs.markets.get(self.market) else {
            return Vec::new();
        };
        if !obs.own_positions.is_empty() {
            if chance(rng, 3_000) {
                return obs
                    .own_positions
                    .iter()
                    .map(|p| Action::close(p.id))
                    .collect();
            }
            return Vec::new();
        }
        if chance(rng, 5_000) && usable(m) {
            let side = biased_side(rng, self.balance_bps, self.bias);
            let notional = log_uniform_usd(rng, self.sizing.usd[0], self.sizing.usd[1]);
            let lev = leverage(rng, self.sizing.leverage, m.max_leverage_x100);
            return vec![Action::Open {
                market: self.market,
                side,
                notional_usd: notional,
                leverage_x100: lev,
            }];
        }
        Vec::new()
    }
    fn next_wake(&mut self, rng: &mut ChaCha8Rng) -> u64 {
        jittered_interval(rng, self.mean_interval)
    }
}

/// LP: enters by depositing `deposit_usd` (at its first activation: sub-step 0 for initial
/// LPs, later for the others). While in: if the share price has fallen more than
/// `panic_drawdown_bps` since entry it withdraws everything it can (probability 50%);
/// otherwise with probability 8% it leaves (withdraws all it can) and with 10% tops up by half
/// its deposit. Withdrawals are capped at the vault's free liquidity. Out, it re-enters with
/// probability 30% per activation.
#[derive(Clone, Debug)]
pub struct LpAgent {
    /// Agent id.
    pub id: AgentId,
    /// Deposit per entry (micro-azUSD).
    pub deposit_usd: u128,
    /// Sub-step of the first deposit.
    pub start_step: u64,
    /// Share-price drawdown since entry that triggers a withdrawal (bps).
    pub panic_drawdown_bps: u32,
    /// Mean sub-steps between activations.
    pub mean_interval: u64,
    /// Whether it holds (or has just asked for) shares.
    pub entered: bool,
    /// Share price at entry (WAD).
    pub entry_share_price: u128,
}

impl LpAgent {
    #[expect(
        clippy::cast_sign_loss,
        reason = "free_usd and nav_usd are checked > 0 just above"
    )]
    fn withdraw_all(obs: &Observation<'_>) -> Option<Action> {
        let v = obs.vault;
        let own = obs.wallet.lp_shares;
        if own == 0 || v.free_usd <= 0 || v.nav_usd <= 0 || v.total_shares == 0 {
            return None;
        }
        let max_shares = mul_div_floor(v.free_usd as u128, v.total_shares, v.nav_usd as u128);
        let shares = own.min(max_shares);
        (shares > 0).then_some(Action::LpWithdraw { shares })
    }
}

impl Agent for LpAgent {
    fn id(&self) -> AgentId {
        self.id
    }
    fn kind(&self) -> AgentKind {
        AgentKind::Lp
    }
    #[expect(
        clippy::cast_possible_truncation,
        reason = "sp < entry_share_price here, so the drawdown is below 10000 bps"
    )]
    fn decide(&mut self, obs: &Observation<'_>, rng: &mut ChaCha8Rng) -> Vec<Action> {
        let sp = obs.vault.share_price_wad();
        if self.entered && obs.wallet.lp_shares == 0 {
            self.entered = false;
        }
        if !self.entered {
            if obs.step == self.start_step || obs.step > self.start_step && chance(rng, 3_000) {
                self.entered = true;
                self.entry_share_price = if sp == 0 { WAD } else { sp };
                return vec![Action::LpDeposit {
                    amount_usd: self.deposit_usd,
                }];
            }
            return Vec::new();
        }
        let dd = if sp < self.entry_share_price {
            ((self.entry_share_price - sp) * 10_000 / self.entry_share_price) as u32
        } else {
            0
        };
        if dd > self.panic_drawdown_bps {
            if chance(rng, 5_000) {
                return Self::withdraw_all(obs).into_iter().collect();
            }
            return Vec::new();
        }
        let r = rng.random_range(0..100u32);
        if r < 8 {
            Self::withdraw_all(obs).into_iter().collect()
        } else if r < 18 {
            vec![Action::LpDeposit {
                amount_usd: self.deposit_usd / 2,
            }]
        } else {
            Vec::new()
        }
    }
    fn next_wake(&mut self, rng: &mut ChaCha8Rng) -> u64 {
        jittered_interval(rng, self.mean_interval)
    }
    fn first_wake(&mut self, _rng: &mut ChaCha8Rng) -> u64 {
        self.start_step
    }
}

/// Keeper: in every keeper phase (unless offline, probability `fail_bps`), liquidates up to
/// `max_per_block` positions from the markets' `liquidatable` lists, starting at a random
/// offset so that several keepers spread out. Duplicates are harmless rejections.
#[derive(Clone, Debug)]
pub struct Keeper {
    /// Agent id.
    pub id: AgentId,
    /// Most liquidations per block.
    pub max_per_block: usize,
    /// Probability of skipping a block (bps).
    pub fail_bps: u32,
}

/// Up to `max` `Liquidate` actions from the markets' `liquidatable` lists, from a random offset.
pub fn liquidations(obs: &Observation<'_>, rng: &mut ChaCha8Rng, max: usize) -> Vec<Action> {
    let all: Vec<PositionId> = obs
        .markets
        .iter()
        .flat_map(|m| m.liquidatable.iter().copied())
        .collect();
    if all.is_empty() {
        return Vec::new();
    }
    let start = rng.random_range(0..all.len());
    (0..all.len().min(max))
        .map(|i| Action::Liquidate {
            position: all[(start + i) % all.len()],
        })
        .collect()
}

impl Agent for Keeper {
    fn id(&self) -> AgentId {
        self.id
    }
    fn kind(&self) -> AgentKind {
        AgentKind::Keeper
    }
    fn decide(&mut self, obs: &Observation<'_>, rng: &mut ChaCha8Rng) -> Vec<Action> {
        if obs.phase != Phase::Keep || chance(rng, self.fail_bps) {
            return Vec::new();
        }
        liquidations(obs, rng, self.max_per_block)
    }
    fn next_wake(&mut self, _rng: &mut ChaCha8Rng) -> u64 {
        u64::MAX
    }
    fn first_wake(&mut self, _rng: &mut ChaCha8Rng) -> u64 {
        u64::MAX
    }
    fn is_keeper(&self) -> bool {
        true
    }
}

/// Self-liquidation attacker: opens equal long and short positions of `notional_usd` at the
/// market's maximum leverage on a random market; waits (checking every `check_interval`)
/// until one leg has been liquidated, then closes the surviving, winning leg. The vault is
/// left with the dead leg's net exposure in between (and any deficit if the price gapped
/// through the dead leg's bankruptcy price).
#[derive(Clone, Debug)]
pub struct SelfLiquidator {
    /// Agent id.
    pub id: AgentId,
    /// Perp notional per attack (micro-azUSD).
    pub notional_usd: u128,
    /// Mean sub-steps between activations.
    pub mean_interval: u64,
    /// Sub-steps between checks while an attack is open.
    pub check_interval: u64,
    /// An attack is open.
    pub active: bool,
}

impl Agent for SelfLiquidator {
    fn id(&self) -> AgentId {
        self.id
    }
    fn kind(&self) -> AgentKind {
        AgentKind::SelfLiquidator
    }
    fn decide(&mut self, obs: &Observation<'_>, rng: &mut ChaCha8Rng) -> Vec<Action> {
        match obs.own_positions.len() {
            0 => {
                self.active = false;
                if obs.markets.is_empty() {
                    return Vec::new();
                }
                let m = &obs.markets[rng.random_range(0..obs.markets.len())];
                if !usable(m) {
                    return Vec::new();
                }
                self.active = true;
                let lev = m.max_leverage_x100;
                vec![
                    Action::open_long(m.market, self.notional_usd, lev),
                    Action::open_short(m.market, self.notional_usd, lev),
                ]
            }
            1 => {
                self.active = false;
                vec![Action::close(obs.own_positions[0].id)]
            }
            _ => {
                self.active = true;
                Vec::new()
            }
        }
    }
    fn next_wake(&mut self, rng: &mut ChaCha8Rng) -> u64 {
        if self.active {
            self.check_interval.max(1)
        } else {
            jittered_interval(rng, self.mean_interval)
        }
    }
}

/// Spot manipulator (the 2022 GMX AVAX pattern): in one batch, opens a perp position of
/// `notional_usd` (10x), pushes the spot pool `push_bps` in its favour (buying with azUSD for a
/// long, selling base for a short, sized for a constant-product pool from `spot_depth_usd`),
/// closes the perp at the moved price, and unwinds the spot trade.
#[derive(Clone, Debug)]
pub struct SpotManipulator {
    /// Agent id.
    pub id: AgentId,
    /// Perp notional per attack (micro-azUSD).
    pub notional_usd: u128,
    /// How far it pushes the spot price (bps).
    pub push_bps: u32,
    /// Mean sub-steps between activations.
    pub mean_interval: u64,
}

/// azUSD to pay into a constant-product pool with azUSD reserve `depth` to raise its price by
/// `push_bps`: `depth × (sqrt(1 + g) − 1)`.
pub fn usd_to_push_up(depth_usd: u128, push_bps: u32) -> u128 {
    let g = f64::from(push_bps) / 10_000.0;
    let y = depth_usd as f64;
    f64_to_usd(y * ((1.0 + g).sqrt() - 1.0) / USD as f64)
}

/// Base (WAD) to sell into a constant-product pool with azUSD reserve `depth` at `price` to
/// lower its price by `push_bps`: `x × (1 / sqrt(1 − g) − 1)`, `x = depth / price`.
#[expect(
    clippy::cast_sign_loss,
    clippy::cast_possible_truncation,
    reason = "push sizing heuristic: b is finite and ≥ 0 (g ≤ 0.9); the float-to-int cast saturates"
)]
pub fn base_to_push_down(depth_usd: u128, price: u128, push_bps: u32) -> u128 {
    let g = f64::from(push_bps.min(9_000)) / 10_000.0;
    let x = size_from_notional(depth_usd, price.max(1)) as f64;
    let b = x * (1.0 / (1.0 - g).sqrt() - 1.0);
    if b > 0.0 {
        b as u128
    } else {
        0
    }
}

impl Agent for SpotManipulator {
    fn id(&self) -> AgentId {
        self.id
    }
    fn kind(&self) -> AgentKind {
        AgentKind::SpotManipulator
    }
    fn decide(&mut self, obs: &Observation<'_>, rng: &mut ChaCha8Rng) -> Vec<Action> {
        if obs.markets.is_empty() {
            return Vec::new();
        }
        let m = &obs.markets[rng.random_range(0..obs.markets.len())];
        if !usable(m) {
            return Vec::new();
        }
        let mut out: Vec<Action> = obs
            .own_positions
            .iter()
            .map(|p| Action::close(p.id))
            .collect();
        let open_ix = 0u8;
        if chance(rng, 5_000) {
            out.push(Action::open_long(m.market, self.notional_usd, 1_000));
            out.push(Action::SpotSwap {
                market: m.market,
                kind: SwapKind::BuyWithUsd {
                    usd_in: usd_to_push_up(m.spot_depth_usd, self.push_bps).max(1),
                },
            });
            out.push(Action::Close {
                position: PosRef::Batch(open_ix),
            });
            out.push(Action::SpotSwap {
                market: m.market,
                kind: SwapKind::SellAll,
            });
        } else {
            out.push(Action::open_short(m.market, self.notional_usd, 1_000));
            out.push(Action::SpotSwap {
                market: m.market,
                kind: SwapKind::SellBase {
                    base_in: base_to_push_down(m.spot_depth_usd, m.spot_price, self.push_bps)
                        .max(1),
                },
            });
            out.push(Action::Close {
                position: PosRef::Batch(open_ix),
            });
            out.push(Action::SpotSwap {
                market: m.market,
                kind: SwapKind::Cover,
            });
        }
        out
    }
    fn next_wake(&mut self, rng: &mut ChaCha8Rng) -> u64 {
        jittered_interval(rng, self.mean_interval)
    }
}

/// Stop hunter: picks the market where longs are most crowded (largest L / S), opens a short
/// of `notional_usd` (5x) and sells spot to push the price down `push_bps`, so that the
/// oracle dips through long liquidation prices; it also runs as a keeper (collecting the
/// rewards of the liquidations it caused). Next sub-step it closes its short and buys back
/// the spot it sold.
#[derive(Clone, Debug)]
pub struct StopHunter {
    /// Agent id.
    pub id: AgentId,
    /// Perp notional per attack (micro-azUSD).
    pub notional_usd: u128,
    /// How far it pushes the spot price (bps).
    pub push_bps: u32,
    /// Mean sub-steps between activations.
    pub mean_interval: u64,
    /// A hunt is open (to be unwound next sub-step).
    pub hunting: bool,
}

impl Agent for StopHunter {
    fn id(&self) -> AgentId {
        self.id
    }
    fn kind(&self) -> AgentKind {
        AgentKind::StopHunter
    }
    fn decide(&mut self, obs: &Observation<'_>, rng: &mut ChaCha8Rng) -> Vec<Action> {
        if obs.phase == Phase::Keep {
            return liquidations(obs, rng, 64);
        }
        if self.hunting {
            self.hunting = false;
            let mut out: Vec<Action> = obs
                .own_positions
                .iter()
                .map(|p| Action::close(p.id))
                .collect();
            for (i, &b) in obs.wallet.base.iter().enumerate() {
                if b < 0 {
                    out.push(Action::SpotSwap {
                        market: i,
                        kind: SwapKind::Cover,
                    });
                }
            }
            return out;
        }
        // most crowded long market: max L/S (cross-multiplied to stay integer)
        let best = obs
            .markets
            .iter()
            .filter(|m| usable(m) && m.long_oi_usd > m.short_oi_usd)
            .max_by(|a, b| {
                (a.long_oi_usd * (b.short_oi_usd + 1))
                    .cmp(&(b.long_oi_usd * (a.short_oi_usd + 1)))
                    .then(b.market.cmp(&a.market))
            });
        let Some(m) = best else { return Vec::new() };
        self.hunting = true;
        vec![
            Action::open_short(m.market, self.notional_usd, 500),
            Action::SpotSwap {
                market: m.market,
                kind: SwapKind::SellBase {
                    base_in: base_to_push_down(m.spot_depth_usd, m.spot_price, self.push_bps)
                        .max(1),
                },
            },
        ]
    }
    fn next_wake(&mut self, rng: &mut ChaCha8Rng) -> u64 {
        if self.hunting {
            1
        } else {
            jittered_interval(rng, self.mean_interval)
        }
    }
    fn is_keeper(&self) -> bool {
        true
    }
}

/// Funding and premium arbitrageur on one market: a profit-seeking trader, not a balancer told to
/// hold a ratio. At each activation it estimates the edge of taking the side that *receives*
/// funding, delta-hedged on spot: `|funding rate per day| × expected holding time + the mark
/// premium in its favour − its round-trip cost` (perp fees both ways, spot fees and impact both
/// ways: `cost_bps`, drawn per agent). Above `min_edge_bps` it opens that side (size: its
/// capital limit `max_usd`, 3x) and the opposite spot trade (buys spot against a short perp,
/// sells spot against a long perp). It unwinds both when the edge is gone (funding below its
/// cost over the holding time, or paying instead of receiving) or after `2 × hold_hours`.
/// Whatever balance results is an outcome of prices, funding and costs.
#[derive(Clone, Debug)]
pub struct FundingArbitrageur {
    /// Agent id.
    pub id: AgentId,
    /// Home market.
    pub market: MarketId,
    /// Notional of each trade (whole USD).
    pub max_usd: u64,
    /// Leverage ×100.
    pub leverage_x100: u32,
    /// Expected holding time (hours) used to value funding.
    pub hold_hours: u32,
    /// Round-trip cost assumed (bps).
    pub cost_bps: u32,
    /// Smallest expected edge it trades on (bps).
    pub min_edge_bps: u32,
    /// Sub-step at which the current trade was opened.
    pub opened_step: u64,
    /// Mean sub-steps between activations.
    pub mean_interval: u64,
}

impl FundingArbitrageur {
    /// Funding (bps/day, > 0: longs pay) and the mark premium (bps, > 0: mark above spot).
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_possible_wrap,
        reason = "the funding rate is clamped to ±1 WAD/day (±10000 bps) and premiums are bps of WAD prices; `sign()` is ±1"
    )]
    fn signals(m: &MarketObs) -> (i64, i64) {
        let rate = (m.funding_rate_per_day.clamp(-(WAD as i128), WAD as i128) * 10_000
            / WAD as i128) as i64;
        (rate, ratio_bps(m.mark_price, m.spot_price))
    }

    /// Edge (bps) of receiving funding on `side` now.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "`sign()` is ±1; rates are bps"
    )]
    fn edge_bps(&self, m: &MarketObs, side: Side) -> i64 {
        let (rate, premium) = Self::signals(m);
        let carry = -side.sign() as i64 * rate * i64::from(self.hold_hours) / 24;
        // a short sells at the mark: a positive premium is in its favour (and vice versa)
        let prem = -side.sign() as i64 * premium;
        carry + prem.max(0) - i64::from(self.cost_bps)
    }
}

impl Agent for FundingArbitrageur {
    fn id(&self) -> AgentId {
        self.id
    }
    fn kind(&self) -> AgentKind {
        AgentKind::FundingArbitrageur
    }
    #[expect(clippy::cast_possible_truncation, reason = "`sign()` is ±1")]
    fn decide(&mut self, obs: &Observation<'_>, _rng: &mut ChaCha8Rng) -> Vec<Action> {
        let mut out = Vec::new();
        let Some(m) = obs.markets.get(self.market) else {
            return out;
        };
        let mine: Vec<&PositionView> = obs
            .own_positions
            .iter()
            .filter(|p| p.market == self.market)
            .collect();
        if let Some(p) = mine.first() {
            let (rate, _) = Self::signals(m);
            // still receiving enough to cover what unwinding later would cost anyway?
            let receiving = -p.side.sign() as i64 * rate;
            let stale = obs.step.saturating_sub(self.opened_step)
                > 2 * u64::from(self.hold_hours) * u64::from(obs.steps_per_hour);
            if receiving * i64::from(self.hold_hours) / 24 < i64::from(self.min_edge_bps) || stale {
                for p in &mine {
                    out.push(Action::close(p.id));
                }
                let b = obs.wallet.base.get(self.market).copied().unwrap_or(0);
                if b > 0 {
                    out.push(Action::SpotSwap {
                        market: self.market,
                        kind: SwapKind::SellAll,
                    });
                } else if b < 0 {
                    out.push(Action::SpotSwap {
                        market: self.market,
                        kind: SwapKind::Cover,
                    });
                }
            }
            return out;
        }
        if !usable(m) {
            return out;
        }
        let side = if m.funding_rate_per_day > 0 {
            Side::Short
        } else if m.funding_rate_per_day < 0 {
            Side::Long
        } else {
            return out;
        };
        if self.edge_bps(m, side) < i64::from(self.min_edge_bps) {
            return out;
        }
        let notional = usd(self.max_usd);
        out.push(Action::Open {
            market: self.market,
            side,
            notional_usd: notional,
            leverage_x100: self.leverage_x100,
        });
        out.push(Action::SpotSwap {
            market: self.market,
            kind: match side {
                Side::Short => SwapKind::BuyWithUsd { usd_in: notional },
                Side::Long => SwapKind::SellBase {
                    base_in: size_from_notional(notional, m.spot_price.max(1)),
                },
            },
        });
        self.opened_step = obs.step;
        out
    }
    fn next_wake(&mut self, rng: &mut ChaCha8Rng) -> u64 {
        jittered_interval(rng, self.mean_interval)
    }
}

// ---------------------------------------------------------------------------------------------
// population

/// Builds a scenario's agents.
pub struct Population;

impl Population {
    /// Creates the agents of `cfg` for `markets` markets. Ids are dense from 0 in this order:
    /// noise, trend followers, mean reverters, hedgers, whales, LPs, keepers, self-liquidators,
    /// spot manipulators, stop hunters. Per-agent parameters (home market, size, thresholds,
    /// LP entry time) are drawn from a ChaCha8 stream of `seed`; `total_steps` is the length of
    /// the run in sub-steps (for LP entry times).
    pub fn build(
        cfg: &PopulationConfig,
        markets: usize,
        steps_per_hour: u32,
        total_steps: u64,
        seed: u64,
    ) -> Vec<Box<dyn Agent>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(0x706f_7075_6c61_7465); // "populate"
        let markets = markets.max(1);
        let ctx = BuildCtx {
            cfg,
            sph: u64::from(steps_per_hour.max(1)),
            balance_bps: cfg.balance_bps(),
            trade: Sizing {
                usd: cfg.trade_usd,
                leverage: cfg.leverage,
            },
            total_steps,
        };
        let mut agents: Vec<Box<dyn Agent>> = Vec::new();
        let mut next_id = 0u32;
        for (kind, n) in cfg.counts() {
            for _ in 0..n {
                let market = rng.random_range(0..markets);
                agents.push(ctx.regular(kind, next_id, market, &mut rng));
                next_id += 1;
            }
        }
        ctx.push_adversaries(&mut agents, next_id);
        agents
    }
}

/// What building an agent needs besides the random stream.
struct BuildCtx<'a> {
    cfg: &'a PopulationConfig,
    /// Sub-steps per hour.
    sph: u64,
    balance_bps: u32,
    /// The regular traders' sizing.
    trade: Sizing,
    total_steps: u64,
}

impl BuildCtx<'_> {
    /// `h` hours in sub-steps (at least 1).
    fn hours(&self, h: u32) -> u64 {
        (u64::from(h) * self.sph).max(1)
    }

    /// A regular agent of `kind` with id `id` (home market `market`), its parameters drawn
    /// from `rng`.
    fn regular(
        &self,
        kind: AgentKind,
        id: u32,
        market: usize,
        rng: &mut ChaCha8Rng,
    ) -> Box<dyn Agent> {
        let cfg = self.cfg;
        let iv = &cfg.intervals;
        let hours = |h: u32| self.hours(h);
        let balance_bps = self.balance_bps;
        let trade = &self.trade;
        let total_steps = self.total_steps;
        match kind {
            AgentKind::Noise => Box::new(NoiseTrader {
                id,
                sizing: trade.clone(),
                balance_bps,
                bias: cfg.bias,
                mean_interval: hours(iv.noise),
            }),
            AgentKind::TrendFollower => Box::new(TrendFollower {
                id,
                market,
                sizing: trade.clone(),
                lookback: rng.random_range(4..=12),
                threshold_bps: rng.random_range(150..=500),
                mean_interval: hours(iv.trend_follower),
                samples: VecDeque::new(),
            }),
            AgentKind::MeanReverter => Box::new(MeanReverter {
                id,
                market,
                sizing: trade.clone(),
                lookback: rng.random_range(6..=24),
                threshold_bps: rng.random_range(200..=600),
                mean_interval: hours(iv.mean_reverter),
                samples: VecDeque::new(),
            }),
            AgentKind::Hedger => Box::new(Hedger {
                id,
                market,
                target_bps: 10_000 - balance_bps,
                min_usd: cfg.trade_usd[0],
                max_usd: cfg.trade_usd[1].saturating_mul(4),
                leverage_x100: 300,
                max_hold: hours(24 * 7),
                mean_interval: hours(iv.hedger),
            }),
            AgentKind::Whale => Box::new(Whale {
                id,
                market,
                sizing: Sizing {
                    usd: cfg.whale_usd,
                    leverage: [2, 5],
                },
                balance_bps,
                bias: cfg.bias,
                mean_interval: hours(iv.whale),
            }),
            AgentKind::Lp => {
                let initial = chance(rng, cfg.lp_initial_bps);
                let start_step = if initial || total_steps < 2 {
                    0
                } else {
                    rng.random_range(1..total_steps)
                };
                Box::new(LpAgent {
                    id,
                    deposit_usd: log_uniform_usd(rng, cfg.lp_usd[0], cfg.lp_usd[1]),
                    start_step,
                    panic_drawdown_bps: rng.random_range(1_000..=3_000),
                    mean_interval: hours(iv.lp),
                    entered: false,
                    entry_share_price: 0,
                })
            }
            AgentKind::Keeper => Box::new(Keeper {
                id,
                max_per_block: 32,
                fail_bps: cfg.keeper_fail_bps,
            }),
            AgentKind::FundingArbitrageur => Box::new(FundingArbitrageur {
                id,
                market,
                max_usd: cfg.trade_usd[1].saturating_mul(4),
                leverage_x100: 300,
                hold_hours: rng.random_range(24..=96),
                cost_bps: rng.random_range(20..=40),
                min_edge_bps: rng.random_range(5..=20),
                opened_step: 0,
                mean_interval: hours(iv.hedger),
            }),
            _ => unreachable!("counts() lists regular kinds only"),
        }
    }

    /// The adversaries, ids from `next_id`.
    fn push_adversaries(&self, agents: &mut Vec<Box<dyn Agent>>, mut next_id: u32) {
        let mut id = || {
            let i = next_id;
            next_id += 1;
            i
        };
        let hours = |h: u32| self.hours(h);
        let adv = &self.cfg.adversaries;
        let notional = usd(adv.notional_usd);
        for _ in 0..adv.self_liquidators {
            agents.push(Box::new(SelfLiquidator {
                id: id(),
                notional_usd: notional,
                mean_interval: hours(adv.interval_hours),
                check_interval: hours(1),
                active: false,
            }));
        }
        for _ in 0..adv.spot_manipulators {
            agents.push(Box::new(SpotManipulator {
                id: id(),
                notional_usd: notional,
                push_bps: adv.push_bps,
                mean_interval: hours(adv.interval_hours),
            }));
        }
        for _ in 0..adv.stop_hunters {
            agents.push(Box::new(StopHunter {
                id: id(),
                notional_usd: notional,
                push_bps: adv.push_bps,
                mean_interval: hours(adv.interval_hours),
                hunting: false,
            }));
        }
    }
}
