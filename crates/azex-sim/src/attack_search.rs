//! The attack search: each attack kind of [`crate::attackers`] searches its parameters to
//! maximise first the LPs' loss, then its own PnL, on real and bootstrapped price windows,
//! every evaluation a set of real engine runs ([`crate::EngineVenue`]).
//!
//! - **Windows.** The data's worst day down and worst day up for an equal-weight basket (the
//!   real bars, `window_days` around each), plus `bootstrap_windows` block-bootstrap paths of the
//!   same length with one jump bar (the data's worst bar, [`crate::study::bootstrap_series`]).
//! - **Background.** A preset's population (`organic` by default: balance as an outcome) with
//!   `agents` regular agents, no LP agents, and a vault of `vault_usd` (the genesis deposit).
//! - **Environments.** `defended`: the simulator's default, where the arbitrageur trades every
//!   pool back to the data price before each block ends (a push survives at most one 2-second
//!   chain block, which a 7.5-minute simulator block does not resolve); `worst_case`: no
//!   block-end arbitrage, so a push survives a whole simulator block and the oracle (truncated at
//!   9116 ticks per simulator block) follows it: an upper bound on what pushes can do.
//! - **Figures** (whole USD, summed over the windows): `lp_loss_usd` = the vault's PnL in the
//!   baseline run (same seed and window, no attacker) minus its PnL with the attacker;
//!   `attacker_pnl_usd` = the coalition's final wealth change (azUSD + spot at the last data price
//!   and open positions' equity); `bad_debt_usd` = deficits the vault bore in the attack runs
//!   (`bad_debt_added_usd`: minus the baselines').
//! - **Search** (per kind and environment, `budget` evaluations, seeded ChaCha8): the starting
//!   point ([`AttackSpec::default_for`]), then random points of the grid (`random_share_bps` of
//!   the budget), then coordinate search from the best (each parameter ±1, ±2 grid steps, kept
//!   when better; a random point when a pass finds nothing). Order: LP loss in $1,000 steps, then
//!   attacker PnL. The most profitable point is tracked too. For pushing kinds, the best points
//!   are re-run with `push_bps = 0` (the control): what the push itself added.
//!
//! Same config, data and seed → byte-identical JSON, whatever `jobs`.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::attackers::{coalition, AttackKind, AttackLog, AttackSpec};
use crate::driver::{prepare_prices, run_with_agents, RunOptions, SimConfig};
use crate::engine_venue::{EngineConfig, EngineVenue};
use crate::prices::{format_timestamp, PriceSeries};
use crate::types::*;
use crate::units::*;
use crate::venue::*;

/// The search's configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttackSearchConfig {
    /// Preset whose population trades around the attacker.
    pub scenario: String,
    /// Regular agents (LP agents removed).
    pub agents: u32,
    /// LP vault capital (whole USD).
    pub vault_usd: u64,
    /// Simulator blocks per data bar (4 = 7.5-minute blocks on 30-minute bars).
    pub substeps: u32,
    /// Days per window.
    pub window_days: u32,
    /// Bootstrapped windows besides the worst day down and up.
    pub bootstrap_windows: u32,
    /// Bootstrapped windows the search never saw, on which its best points are re-run
    /// (out-of-sample check: a point tuned to one path's moves does not carry over).
    pub holdout_windows: u32,
    /// Evaluations per kind and environment (each = one engine run per window).
    pub budget: u32,
    /// Share of the budget spent on random points before the coordinate search (bps).
    pub random_share_bps: u32,
    /// Seed of the bootstrap and the random points.
    pub seed: u64,
    /// Attack kinds (names of [`AttackKind`]); empty = all.
    pub kinds: Vec<String>,
    /// `defended` and/or `worst_case`.
    pub environments: Vec<String>,
}

impl Default for AttackSearchConfig {
    fn default() -> Self {
        AttackSearchConfig {
            scenario: "organic".into(),
            agents: 150,
            vault_usd: 20_000_000,
            substeps: 4,
            window_days: 2,
            bootstrap_windows: 2,
            holdout_windows: 4,
            budget: 48,
            random_share_bps: 5_000,
            seed: 7,
            kinds: Vec::new(),
            environments: vec!["defended".into(), "worst_case".into()],
        }
    }
}

impl AttackSearchConfig {
    /// Checks the configuration against its limits.
    pub fn validate(&self) -> Result<(), String> {
        let chk = |n: &str, v: u64, lo: u64, hi: u64| {
            if v < lo || v > hi {
                Err(format!("attack search {n} {v} outside [{lo}, {hi}]"))
            } else {
                Ok(())
            }
        };
        chk("agents", self.agents.into(), 1, 100_000)?;
        chk("vault_usd", self.vault_usd, 1_000, 10_000_000_000)?;
        chk("substeps", self.substeps.into(), 1, 1_000)?;
        chk("window_days", self.window_days.into(), 1, 365)?;
        chk("bootstrap_windows", self.bootstrap_windows.into(), 0, 100)?;
        chk("holdout_windows", self.holdout_windows.into(), 0, 100)?;
        chk("budget", self.budget.into(), 1, 100_000)?;
        chk("random_share_bps", self.random_share_bps.into(), 0, 10_000)?;
        for k in &self.kinds {
            if AttackKind::from_name(k).is_none() {
                return Err(format!(
                    "unknown attack kind {k:?} (known: {})",
                    AttackKind::ALL.map(|k| k.name()).join(", ")
                ));
            }
        }
        if self.environments.is_empty() {
            return Err("attack search: no environment".into());
        }
        for e in &self.environments {
            env_config(e)?;
        }
        Ok(())
    }

    fn kind_list(&self) -> Vec<AttackKind> {
        if self.kinds.is_empty() {
            AttackKind::ALL.to_vec()
        } else {
            AttackKind::ALL
                .into_iter()
                .filter(|k| self.kinds.iter().any(|n| n == k.name()))
                .collect()
        }
    }
}

/// The engine venue of an environment.
pub fn env_config(name: &str) -> Result<EngineConfig, String> {
    let mut e = EngineConfig::default();
    match name {
        "defended" => {}
        "worst_case" => e.arbitrage_at_block_end = false,
        _ => {
            return Err(format!(
                "unknown environment {name:?} (defended, worst_case)"
            ))
        }
    }
    Ok(e)
}

// ---------------------------------------------------------------------------------------------
// the parameter grid

/// One searched parameter: its name (an [`AttackSpec`] field) and its grid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dim {
    /// The [`AttackSpec`] field.
    pub name: &'static str,
    /// The values tried, in grid order.
    pub values: Vec<i64>,
}

fn d(name: &'static str, values: &[i64]) -> Dim {
    Dim {
        name,
        values: values.to_vec(),
    }
}

const NOTIONAL: [i64; 11] = [
    25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_000_000, 4_000_000, 8_000_000,
    16_000_000, 32_000_000,
];
const LEVERAGE: [i64; 6] = [200, 300, 500, 1_000, 1_500, 2_000];
const ACCOUNTS: [i64; 6] = [1, 2, 3, 4, 6, 8];
const PUSH: [i64; 9] = [25, 50, 100, 200, 300, 500, 800, 1_200, 2_000];
const PUSH_BLOCKS: [i64; 6] = [1, 2, 3, 4, 6, 8];
const START: [i64; 9] = [500, 1_500, 2_500, 3_500, 4_500, 5_500, 6_500, 7_500, 8_500];

/// The grid of `kind` on `markets` markets.
#[expect(
    clippy::cast_possible_wrap,
    reason = "the number of markets is small (symbols in a price file ≤ 1000)"
)]
pub fn dims(kind: AttackKind, markets: usize) -> Vec<Dim> {
    let market: Vec<i64> = (0..markets.max(1) as i64).collect();
    let m = Dim {
        name: "market",
        values: market,
    };
    match kind {
        AttackKind::Jelly => vec![
            m,
            d("up", &[0, 1]),
            d("notional_usd", &NOTIONAL),
            d("leverage_x100", &LEVERAGE),
            d("accounts", &ACCOUNTS),
            // near-hedged legs (JELLY's were): the payoff is the dying leg's capped loss, not a bet
            d("hedge_bps", &[7_500, 10_000, 12_500]),
            d("push_bps", &PUSH),
            d("push_blocks", &PUSH_BLOCKS),
            d("start_bps", &START),
        ],
        AttackKind::FundingDefault => vec![
            m,
            d("up", &[0, 1]),
            d("notional_usd", &NOTIONAL),
            d("leverage_x100", &LEVERAGE),
            d("accounts", &ACCOUNTS),
            // the receiving leg hedges the paying leg's price risk: what is left is the funding
            // and the debt the paying leg may leave behind
            d("hedge_bps", &[7_500, 10_000]),
            d("hold_blocks", &[16, 32, 64, 128, 192, 256, 320]),
            d("start_bps", &[0, 500, 1_000, 2_000, 3_000]),
        ],
        AttackKind::StopHunt => vec![
            d("notional_usd", &NOTIONAL),
            d("leverage_x100", &LEVERAGE),
            d("push_bps", &PUSH),
            d("push_blocks", &PUSH_BLOCKS),
            d("hold_blocks", &[4, 8, 16, 32, 64]),
            d("threshold", &[1, 2, 3]),
            d("start_bps", &START),
        ],
        AttackKind::MultiBlock => vec![
            m,
            d("up", &[0, 1]),
            d("notional_usd", &NOTIONAL),
            d("leverage_x100", &LEVERAGE),
            d("accounts", &ACCOUNTS),
            d("push_bps", &PUSH),
            d("push_blocks", &PUSH_BLOCKS),
            d("hold_blocks", &[0, 1, 2, 4, 8]),
            d("start_bps", &START),
        ],
        AttackKind::Sandwich => vec![
            d("up", &[0, 1]),
            d("notional_usd", &NOTIONAL),
            d("leverage_x100", &LEVERAGE),
            d("hold_blocks", &[0, 1, 2, 3]),
            d("threshold", &[1, 2, 3, 4]),
            d("start_bps", &[0, 2_500, 5_000]),
        ],
    }
}

#[expect(
    clippy::cast_possible_wrap,
    reason = "searched values come from small grids (market index, notional ≤ 10^10 whole USD)"
)]
fn get(spec: &AttackSpec, name: &str) -> i64 {
    match name {
        "market" => spec.market as i64,
        "up" => i64::from(spec.up),
        "notional_usd" => spec.notional_usd as i64,
        "leverage_x100" => i64::from(spec.leverage_x100),
        "accounts" => i64::from(spec.accounts),
        "hedge_bps" => i64::from(spec.hedge_bps),
        "push_bps" => i64::from(spec.push_bps),
        "push_blocks" => i64::from(spec.push_blocks),
        "hold_blocks" => i64::from(spec.hold_blocks),
        "start_bps" => i64::from(spec.start_bps),
        "threshold" => i64::from(spec.threshold),
        _ => 0,
    }
}

#[expect(
    clippy::cast_sign_loss,
    clippy::cast_possible_truncation,
    reason = "searched values come from the grids of `dims`, which fit the fields (clamped ≥ 0 first)"
)]
fn set(spec: &mut AttackSpec, name: &str, v: i64) {
    let u = v.max(0) as u64;
    match name {
        "market" => spec.market = u as usize,
        "up" => spec.up = v != 0,
        "notional_usd" => spec.notional_usd = u,
        "leverage_x100" => spec.leverage_x100 = u as u32,
        "accounts" => spec.accounts = u as u32,
        "hedge_bps" => spec.hedge_bps = u as u32,
        "push_bps" => spec.push_bps = u as u32,
        "push_blocks" => spec.push_blocks = u as u32,
        "hold_blocks" => spec.hold_blocks = u as u32,
        "start_bps" => spec.start_bps = u as u32,
        "threshold" => spec.threshold = u as u32,
        _ => {}
    }
}

/// The spec at grid point `p`.
pub fn spec_at(kind: AttackKind, dims: &[Dim], p: &[usize]) -> AttackSpec {
    let mut s = AttackSpec::default_for(kind);
    for (dim, &i) in dims.iter().zip(p) {
        set(&mut s, dim.name, dim.values[i.min(dim.values.len() - 1)]);
    }
    s
}

/// The grid point nearest to the default spec of `kind`.
pub fn start_point(kind: AttackKind, dims: &[Dim]) -> Vec<usize> {
    let s = AttackSpec::default_for(kind);
    dims.iter()
        .map(|dim| {
            let v = get(&s, dim.name);
            (0..dim.values.len())
                .min_by_key(|&i| (dim.values[i] - v).unsigned_abs())
                .unwrap_or(0)
        })
        .collect()
}

fn params_of(spec: &AttackSpec, dims: &[Dim]) -> BTreeMap<String, i64> {
    dims.iter()
        .map(|d| (d.name.to_string(), get(spec, d.name)))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// windows

/// One price window of the search.
#[derive(Clone, Debug)]
pub struct Window {
    /// Name in reports.
    pub label: String,
    /// The window's prices.
    pub prices: PriceSeries,
}

/// Summary of a window for the JSON.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowInfo {
    /// Name in reports.
    pub label: String,
    /// First bar's time (UTC text).
    pub first: String,
    /// Last bar's time (UTC text).
    pub last: String,
    /// Bars in the window.
    pub bars: u64,
    /// Simulator blocks in the window.
    pub blocks: u64,
    /// Block length (seconds of data time).
    pub block_seconds: u64,
}

/// The worst day down and up of the equal-weight basket (close over the close a day before),
/// as the first bar of that day.
fn extreme_days(src: &PriceSeries, day: usize) -> Option<(usize, usize)> {
    let n = src.len();
    if n <= day + 1 {
        return None;
    }
    let ns = src.symbols.len().max(1) as f64;
    let (mut lo, mut hi) = ((f64::INFINITY, 0usize), (f64::NEG_INFINITY, 0usize));
    for t in 0..n - day {
        let mut s = 0.0;
        for b in &src.bars {
            s += b[t + day].close as f64 / b[t].close.max(1) as f64;
        }
        let r = s / ns;
        if r < lo.0 {
            lo = (r, t + 1);
        }
        if r > hi.0 {
            hi = (r, t + 1);
        }
    }
    Some((lo.1, hi.1))
}

/// The search's windows on `src` (see the module docs).
#[expect(
    clippy::cast_possible_truncation,
    reason = "bars per day of a validated series (bar length ≥ 1 s)"
)]
pub fn attack_windows(src: &PriceSeries, cfg: &AttackSearchConfig) -> Result<Vec<Window>, String> {
    let dt = src.typical_bar_seconds().max(1);
    let day = ((86_400 / dt) as usize).max(1);
    let bars = (cfg.window_days as usize * day).max(2);
    let n = src.len();
    if n < bars + 2 {
        return Err(format!(
            "{}: {} bars, need more than {bars} for {}-day windows",
            src.source, n, cfg.window_days
        ));
    }
    let mut out = Vec::new();
    if let Some((down, up)) = extreme_days(src, day) {
        for (what, t) in [("worst day down", down), ("worst day up", up)] {
            let a = (t + day / 2).saturating_sub(bars / 2).min(n - bars);
            let p = src.slice(
                Some(src.timestamps[a]),
                src.timestamps.get(a + bars).copied(),
                Some(bars),
            );
            out.push(Window {
                label: format!(
                    "{what} ({} .. {})",
                    format_timestamp(src.timestamps[t]),
                    format_timestamp(src.timestamps[(t + day).min(n - 1)])
                ),
                prices: p,
            });
        }
    }
    for i in 0..cfg.bootstrap_windows {
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        rng.set_stream(0xB007_0000 + u64::from(i));
        let p = crate::study::bootstrap_series(src, bars, day, 1, &mut rng)?;
        out.push(Window {
            label: format!("bootstrap {} ({} days, 1 jump bar)", i + 1, cfg.window_days),
            prices: p,
        });
    }
    Ok(out)
}

/// The held-out windows: `holdout_windows` bootstrap paths on streams the search does not use.
#[expect(
    clippy::cast_possible_truncation,
    reason = "bars per day of a validated series (bar length ≥ 1 s)"
)]
pub fn holdout_windows(src: &PriceSeries, cfg: &AttackSearchConfig) -> Result<Vec<Window>, String> {
    let dt = src.typical_bar_seconds().max(1);
    let day = ((86_400 / dt) as usize).max(1);
    let bars = (cfg.window_days as usize * day).max(2);
    (0..cfg.holdout_windows)
        .map(|i| {
            let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
            rng.set_stream(0x401D_0000 + u64::from(i));
            Ok(Window {
                label: format!("holdout {} ({} days, 1 jump bar)", i + 1, cfg.window_days),
                prices: crate::study::bootstrap_series(src, bars, day, 1, &mut rng)?,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// one engine run

/// Counts what the attacker (ids ≥ `first_attacker`) did (the hook of an [`Observed`] engine
/// venue).
struct Tally {
    first_attacker: AgentId,
    volume: u128,
    actions: u64,
    refused: u64,
    liquidated: u64,
}

impl VenueHook for Tally {
    fn after_submit(&mut self, a: AgentId, action: &Action, r: &Result<Outcome, Rejection>) {
        if a >= self.first_attacker && a < ARBITRAGEUR {
            self.actions += 1;
            match (r, action) {
                (Err(_), _) => self.refused += 1,
                (Ok(o), Action::SpotSwap { .. }) => self.volume += o.usd_delta.unsigned_abs(),
                _ => {}
            }
        }
    }

    fn after_fills(&mut self, fills: &[Fill]) {
        for x in fills {
            if x.owner >= self.first_attacker && x.owner < ARBITRAGEUR {
                self.volume += x.notional_usd;
                if x.kind == FillKind::Liquidation {
                    self.liquidated += 1;
                }
            }
        }
    }
}

/// What one engine run gave.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunOut {
    /// LP PnL of the run (micro-azUSD).
    pub lp_pnl_usd: i128,
    /// The spot arbitrageur's PnL (it trades every push back at the next block's start).
    pub arbitrageur_pnl_usd: i128,
    /// Bad debt borne by LPs (micro-azUSD).
    pub bad_debt_usd: u128,
    /// The coalition's PnL (micro-azUSD).
    pub attacker_pnl_usd: i128,
    /// Notional of the coalition's fills (micro-azUSD).
    pub attacker_volume_usd: u128,
    /// Actions the coalition submitted.
    pub attacker_actions: u64,
    /// Of which refused.
    pub attacker_refused: u64,
    /// Liquidation fills of the coalition's positions.
    pub attacker_liquidated: u64,
    /// What the coalition did.
    pub log: AttackLog,
}

/// The background scenario of the search (a preset, LP agents removed).
pub fn background(cfg: &AttackSearchConfig) -> Result<SimConfig, String> {
    let mut c = crate::scenarios::preset(&cfg.scenario)
        .ok_or_else(|| format!("unknown preset {:?}", cfg.scenario))?;
    c.population.agents = cfg.agents;
    c.population.mix.lp = 0;
    c.population.adversaries = Default::default();
    c.chart_points = 2;
    c.crash.detect = 0;
    c.crash.fixed = false;
    c.genesis_vault_usd = cfg.vault_usd;
    c.substeps = cfg.substeps;
    c.start = None;
    c.end = None;
    c.max_bars = None;
    c.symbols = None;
    Ok(c)
}

/// One engine run of `cfg` on `prices` with `engine`, with the attack `spec` (or none).
#[expect(
    clippy::cast_possible_truncation,
    reason = "agent ids are u32 (population ≤ 100000 plus the coalition)"
)]
pub fn run_one(
    cfg: &SimConfig,
    prices: &PriceSeries,
    engine: &EngineConfig,
    spec: Option<&AttackSpec>,
) -> Result<RunOut, String> {
    let p = prepare_prices(cfg, prices).map_err(|e| e.to_string())?;
    let first = cfg.population.agents;
    let steps = p.len() as u64 * u64::from(cfg.substeps.max(1));
    let (agents, brain) = match spec {
        Some(s) => {
            let (a, b) = coalition(s, first, steps);
            (a, Some(b))
        }
        None => (Vec::new(), None),
    };
    let block_secs = (p.typical_bar_seconds() / u64::from(cfg.substeps.max(1))).max(1);
    let inner = EngineVenue::new(engine.clone(), &p, block_secs, first + agents.len() as u32)?;
    let mut v = Observed::new(
        inner,
        Tally {
            first_attacker: first,
            volume: 0,
            actions: 0,
            refused: 0,
            liquidated: 0,
        },
    );
    let r = run_with_agents(
        cfg,
        &p,
        &mut v,
        &RunOptions {
            quiet: true,
            ..Default::default()
        },
        agents,
    )
    .map_err(|e| e.to_string())?;
    let az = r.model("azex").ok_or("no azex model")?;
    let kind = spec.map(|s| s.kind.name());
    let v = v.into_hook();
    Ok(RunOut {
        lp_pnl_usd: az.lp_pnl_usd,
        arbitrageur_pnl_usd: r.arbitrageur_pnl_usd,
        bad_debt_usd: az.bad_debt_usd,
        attacker_pnl_usd: r
            .agents
            .iter()
            .filter(|k| Some(k.kind.as_str()) == kind)
            .map(|k| k.pnl_usd)
            .sum(),
        attacker_volume_usd: v.volume,
        attacker_actions: v.actions,
        attacker_refused: v.refused,
        attacker_liquidated: v.liquidated,
        log: brain.map(|b| b.borrow().log.clone()).unwrap_or_default(),
    })
}

// ---------------------------------------------------------------------------------------------
// evaluations and the search

#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    reason = "whole USD clamped to the i64 range first"
)]
fn whole(micro: i128) -> i64 {
    (micro / USD as i128).clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// One window of an evaluation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowEval {
    /// The window's label.
    pub window: String,
    /// LP PnL of the baseline minus the run's (whole USD).
    pub lp_loss_usd: i64,
    /// The coalition's PnL (whole USD).
    pub attacker_pnl_usd: i64,
    /// The arbitrageur's PnL minus the baseline's (whole USD).
    pub arbitrage_gain_usd: i64,
    /// Bad debt of the run (whole USD).
    pub bad_debt_usd: i64,
    /// Notional of the coalition's fills (whole USD).
    pub attacker_volume_usd: i64,
    /// What the coalition did.
    pub log: AttackLog,
}

/// One evaluation (one parameter point on every window). Whole USD, summed over windows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Eval {
    /// The searched parameters' values, by name.
    pub params: BTreeMap<String, i64>,
    /// LP loss against the baselines.
    pub lp_loss_usd: i64,
    /// The coalition's PnL.
    pub attacker_pnl_usd: i64,
    /// The arbitrageur's PnL minus the baseline's: what it earned trading the attacker's pushes
    /// back. `attacker_pnl_usd + arbitrage_gain_usd` bounds an attacker that also orders the
    /// next block's first trade and takes the reversion itself (it would then pay little more
    /// than the pool fee per push).
    pub arbitrage_gain_usd: i64,
    /// Bad debt of the runs.
    pub bad_debt_usd: i64,
    /// Bad debt minus the baselines'.
    pub bad_debt_added_usd: i64,
    /// Notional of the coalition's fills.
    pub attacker_volume_usd: i64,
    /// Actions the coalition submitted.
    pub attacker_actions: u64,
    /// Of which refused.
    pub attacker_refused: u64,
    /// Liquidation fills of the attacker's own positions.
    pub attacker_liquidated: u64,
    /// Per window.
    pub windows: Vec<WindowEval>,
}

impl Eval {
    /// The search's order: LP loss in $1,000 steps, then attacker PnL.
    fn key(&self) -> (i64, i64) {
        (self.lp_loss_usd.div_euclid(1_000), self.attacker_pnl_usd)
    }
}

/// A baseline run (no attacker).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    /// `defended` or `worst_case`.
    pub environment: String,
    /// The window's label.
    pub window: String,
    /// LP PnL (whole USD).
    pub lp_pnl_usd: i64,
    /// Bad debt (whole USD).
    pub bad_debt_usd: i64,
}

/// One kind in one environment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindResult {
    /// The attack kind's name.
    pub kind: String,
    /// `defended` or `worst_case`.
    pub environment: String,
    /// Evaluations made.
    pub evaluations: u32,
    /// Engine runs made.
    pub engine_runs: u64,
    /// The starting point.
    pub start: Eval,
    /// The best point by LP loss (then attacker PnL).
    pub best: Eval,
    /// The point with the highest attacker PnL found among those that traded (if any did).
    pub best_for_attacker: Eval,
    /// Pushing kinds: `best` again with `push_bps = 0`.
    pub control: Option<Eval>,
    /// `best_for_attacker` with `push_bps = 0`.
    pub control_for_attacker: Option<Eval>,
    /// Two-legged kinds (Jelly, FundingDefault): `best_for_attacker`'s net directional exposure
    /// alone (one position of |main − second leg| on the larger leg's side, 2x/3x, no push),
    /// held as long: what the path paid, whatever the attack did.
    pub net_control_for_attacker: Option<Eval>,
    /// `best` on the held-out windows.
    pub holdout_best: Option<Eval>,
    /// `best_for_attacker` on the held-out windows.
    pub holdout_best_for_attacker: Option<Eval>,
    /// `control_for_attacker` on the held-out windows.
    pub holdout_control_for_attacker: Option<Eval>,
    /// `net_control_for_attacker` on the held-out windows.
    pub holdout_net_control_for_attacker: Option<Eval>,
    /// The attacker traded and ended ahead at some point of the search (in sample); a
    /// non-trading point (an open refused, a keeper collecting only rewards) does not count.
    pub pays: bool,
    /// ... and its most profitable point still trades and ends ahead on the held-out windows.
    pub pays_out_of_sample: bool,
}

/// The whole search.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AttackSearchResult {
    /// The configuration run.
    pub config: AttackSearchConfig,
    /// Source of the price data.
    pub data: String,
    /// The search's windows.
    pub windows: Vec<WindowInfo>,
    /// The held-out windows.
    pub holdout: Vec<WindowInfo>,
    /// Runs without an attacker, per environment and window.
    pub baselines: Vec<Baseline>,
    /// Per kind and environment (`kind` → `environment` → figure) of the best point by LP
    /// loss: its LP loss (whole USD).
    pub lp_loss_usd: BTreeMap<String, BTreeMap<String, i64>>,
    /// Per kind and environment, the bad debt of the best point by LP loss (whole USD).
    pub bad_debt_usd: BTreeMap<String, BTreeMap<String, i64>>,
    /// Per kind and environment, the highest attacker PnL found (whole USD).
    pub attacker_pnl_usd: BTreeMap<String, BTreeMap<String, i64>>,
    /// Per kind and environment.
    pub results: Vec<KindResult>,
}

impl AttackSearchResult {
    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("AttackSearchResult serialises")
    }
}

struct Ctx<'a> {
    windows: &'a [(SimConfig, PriceSeries)],
    labels: &'a [String],
    engine: EngineConfig,
    baselines: Vec<RunOut>,
}

#[expect(
    clippy::cast_possible_wrap,
    reason = "bad debt and volume (micro-azUSD) are far below 2^127"
)]
fn evaluate(ctx: &Ctx<'_>, spec: &AttackSpec, dims: &[Dim]) -> Result<Eval, String> {
    let mut e = Eval {
        params: params_of(spec, dims),
        ..Default::default()
    };
    for (w, (cfg, prices)) in ctx.windows.iter().enumerate() {
        let r = run_one(cfg, prices, &ctx.engine, Some(spec))?;
        let b = &ctx.baselines[w];
        let we = WindowEval {
            window: ctx.labels[w].clone(),
            lp_loss_usd: whole(b.lp_pnl_usd - r.lp_pnl_usd),
            attacker_pnl_usd: whole(r.attacker_pnl_usd),
            arbitrage_gain_usd: whole(r.arbitrageur_pnl_usd - b.arbitrageur_pnl_usd),
            bad_debt_usd: whole(r.bad_debt_usd as i128),
            attacker_volume_usd: whole(r.attacker_volume_usd as i128),
            log: r.log.clone(),
        };
        e.lp_loss_usd += we.lp_loss_usd;
        e.attacker_pnl_usd += we.attacker_pnl_usd;
        e.arbitrage_gain_usd += we.arbitrage_gain_usd;
        e.bad_debt_usd += we.bad_debt_usd;
        e.bad_debt_added_usd += whole(r.bad_debt_usd as i128 - b.bad_debt_usd as i128);
        e.attacker_volume_usd += we.attacker_volume_usd;
        e.attacker_actions += r.attacker_actions;
        e.attacker_refused += r.attacker_refused;
        e.attacker_liquidated += r.attacker_liquidated;
        e.windows.push(we);
    }
    Ok(e)
}

/// The search for one kind in one environment (module docs).
#[expect(
    clippy::cast_possible_truncation,
    reason = "evaluations ≤ budget (a u32)"
)]
fn search_kind(
    ctx: &Ctx<'_>,
    hold: &Ctx<'_>,
    kind: AttackKind,
    env: &str,
    cfg: &AttackSearchConfig,
    markets: usize,
) -> Result<KindResult, String> {
    let dims = dims(kind, markets);
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let env_ix = cfg.environments.iter().position(|e| e == env).unwrap_or(0) as u64;
    rng.set_stream(0x5EA2_0000 + ((kind as u64) << 8) + env_ix);
    let (seen, start, best) = explore(ctx, kind, &dims, cfg, &mut rng)?;
    let best_pnl = seen
        .iter()
        .max_by(|a, b| {
            // a point that trades beats one that does not (a keeper's rewards are no attack)
            (a.1.attacker_volume_usd > 0)
                .cmp(&(b.1.attacker_volume_usd > 0))
                .then(a.1.attacker_pnl_usd.cmp(&b.1.attacker_pnl_usd))
                .then(b.0.cmp(a.0))
        })
        .map(|(p, _)| p.clone())
        .unwrap_or_else(|| start.clone());
    let evaluations = seen.len() as u32;
    let mut runs = u64::from(evaluations) * ctx.windows.len() as u64;
    let control = |p: &Vec<usize>, runs: &mut u64| -> Result<Option<Eval>, String> {
        if !kind.pushes() {
            return Ok(None);
        }
        let mut s = spec_at(kind, &dims, p);
        s.push_bps = 0;
        *runs += ctx.windows.len() as u64;
        evaluate(ctx, &s, &dims).map(Some)
    };
    let c_best = control(&best, &mut runs)?;
    let c_pnl = if best_pnl == best {
        c_best.clone()
    } else {
        control(&best_pnl, &mut runs)?
    };
    let trades_and_wins = |e: &Eval| e.attacker_pnl_usd > 0 && e.attacker_volume_usd > 0;
    let pays = seen.values().any(trades_and_wins);
    let net_spec = net_control(&spec_at(kind, &dims, &best_pnl));
    let net = match &net_spec {
        Some(s) => {
            runs += ctx.windows.len() as u64;
            Some(evaluate(ctx, s, &dims)?)
        }
        None => None,
    };
    let (hb, hp, hc, hn) = holdout(
        hold,
        kind,
        &dims,
        &best,
        &best_pnl,
        net_spec.as_ref(),
        &mut runs,
    )?;
    let pays_out_of_sample = pays && hp.as_ref().is_some_and(trades_and_wins);
    Ok(KindResult {
        kind: kind.name().into(),
        environment: env.into(),
        evaluations,
        engine_runs: runs,
        start: seen[&start].clone(),
        best: seen[&best].clone(),
        best_for_attacker: seen[&best_pnl].clone(),
        control: c_best,
        control_for_attacker: c_pnl,
        net_control_for_attacker: net,
        holdout_best: hb,
        holdout_best_for_attacker: hp,
        holdout_control_for_attacker: hc,
        holdout_net_control_for_attacker: hn,
        pays,
        pays_out_of_sample,
    })
}

/// Evaluated points of the search space.
type Seen = BTreeMap<Vec<usize>, Eval>;

/// The search proper: the start point, random points (the budget's random share), then
/// coordinate search from the best (a random point when no neighbour improves). Returns every
/// evaluated point, the start and the best (by [`Eval::key`]).
#[expect(
    clippy::cast_sign_loss,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    reason = "grid indexes are small (a dimension has a handful of values) and checked in range before use"
)]
fn explore(
    ctx: &Ctx<'_>,
    kind: AttackKind,
    dims: &[Dim],
    cfg: &AttackSearchConfig,
    rng: &mut ChaCha8Rng,
) -> Result<(Seen, Vec<usize>, Vec<usize>), String> {
    let mut seen = Seen::new();
    let budget = cfg.budget.max(1) as usize;
    let n_random = budget * cfg.random_share_bps.min(10_000) as usize / 10_000;
    let random_point = |rng: &mut ChaCha8Rng| -> Vec<usize> {
        dims.iter()
            .map(|d| rng.random_range(0..d.values.len()))
            .collect()
    };
    let eval_at = |p: &Vec<usize>, seen: &mut BTreeMap<Vec<usize>, Eval>| -> Result<(), String> {
        if !seen.contains_key(p) {
            let e = evaluate(ctx, &spec_at(kind, dims, p), dims)?;
            seen.insert(p.clone(), e);
        }
        Ok(())
    };
    let start = start_point(kind, dims);
    eval_at(&start, &mut seen)?;
    let mut best = start.clone();
    let better = |a: &Eval, b: &Eval| a.key() > b.key();
    let mut guard = 0;
    while seen.len() < n_random.max(1).min(budget) && guard < budget * 20 {
        guard += 1;
        let p = random_point(rng);
        eval_at(&p, &mut seen)?;
        if better(&seen[&p], &seen[&best]) {
            best = p;
        }
    }
    // coordinate search from the best
    let mut guard = 0;
    while seen.len() < budget && guard < budget * 20 {
        guard += 1;
        let mut improved = false;
        'pass: for step in [1i64, 2] {
            for di in 0..dims.len() {
                for dir in [-1i64, 1] {
                    if seen.len() >= budget {
                        break 'pass;
                    }
                    let i = best[di] as i64 + dir * step;
                    if i < 0 || i >= dims[di].values.len() as i64 {
                        continue;
                    }
                    let mut p = best.clone();
                    p[di] = i as usize;
                    if seen.contains_key(&p) {
                        continue;
                    }
                    eval_at(&p, &mut seen)?;
                    if better(&seen[&p], &seen[&best]) {
                        best = p;
                        improved = true;
                    }
                }
            }
            if improved {
                break;
            }
        }
        if !improved && seen.len() < budget {
            let p = random_point(rng);
            eval_at(&p, &mut seen)?;
            if better(&seen[&p], &seen[&best]) {
                best = p;
            }
        }
    }
    Ok((seen, start, best))
}

/// The holdout evaluations of the best point, the attacker's best, its control and net
/// control (all `None` without holdout windows); adds their engine runs to `runs`.
#[allow(clippy::type_complexity)]
fn holdout(
    hold: &Ctx<'_>,
    kind: AttackKind,
    dims: &[Dim],
    best: &[usize],
    best_pnl: &[usize],
    net_spec: Option<&AttackSpec>,
    runs: &mut u64,
) -> Result<(Option<Eval>, Option<Eval>, Option<Eval>, Option<Eval>), String> {
    let (mut hb, mut hp, mut hc, mut hn) = (None, None, None, None);
    if !hold.windows.is_empty() {
        let b = evaluate(hold, &spec_at(kind, dims, best), dims)?;
        let p = if best_pnl == best {
            b.clone()
        } else {
            evaluate(hold, &spec_at(kind, dims, best_pnl), dims)?
        };
        *runs += hold.windows.len() as u64 * if best_pnl == best { 1 } else { 2 };
        if kind.pushes() {
            let mut s = spec_at(kind, dims, best_pnl);
            s.push_bps = 0;
            hc = Some(evaluate(hold, &s, dims)?);
            *runs += hold.windows.len() as u64;
        }
        if let Some(s) = net_spec {
            hn = Some(evaluate(hold, s, dims)?);
            *runs += hold.windows.len() as u64;
        }
        hb = Some(b);
        hp = Some(p);
    }
    Ok((hb, hp, hc, hn))
}

/// The net-exposure control of a two-legged spec (see [`KindResult::net_control_for_attacker`]).
#[expect(
    clippy::cast_possible_truncation,
    reason = "net_bps ≤ 10000, so the result is at most notional_usd"
)]
pub fn net_control(s: &AttackSpec) -> Option<AttackSpec> {
    let net_bps = s.hedge_bps.abs_diff(10_000);
    let main_is_larger = s.hedge_bps < 10_000;
    let mut c = s.clone();
    c.notional_usd = (u128::from(s.notional_usd) * u128::from(net_bps) / BPS) as u64;
    c.hedge_bps = 0;
    c.accounts = 1;
    c.push_bps = 0;
    match s.kind {
        // main leg = the dying leg (short when `up`); the winning leg is the other side
        AttackKind::Jelly => {
            c.leverage_x100 = 300;
            c.up = if main_is_larger { s.up } else { !s.up };
        }
        // main leg = the paying leg (long when `up`)
        AttackKind::FundingDefault => {
            c.leverage_x100 = 200;
            c.up = if main_is_larger { s.up } else { !s.up };
        }
        _ => return None,
    }
    Some(c)
}

/// Runs `f` on every item with `jobs` threads; results in item order.
fn par_map<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    f: &(dyn Fn(&T) -> Result<R, String> + Sync),
    progress: &(dyn Fn() + Sync),
) -> Result<Vec<R>, String> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    type Slot<R> = std::sync::Mutex<Option<Result<R, String>>>;
    let slots: Vec<Slot<R>> = items.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1).min(items.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(it) = items.get(i) else { break };
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(it)))
                    .unwrap_or_else(|_| Err("internal error (panic)".into()));
                if let Ok(mut g) = slots[i].lock() {
                    *g = Some(r);
                }
                progress();
            });
        }
    });
    slots
        .into_iter()
        .map(|s| {
            s.into_inner()
                .map_err(|_| "a worker panicked".to_string())?
                .ok_or_else(|| "a task did not run".to_string())?
        })
        .collect()
}

/// Runs the search on `prices` with `jobs` threads. `progress(done, total)` after each task
/// (a baseline or a kind's search).
#[expect(
    clippy::cast_possible_wrap,
    reason = "bad debt (micro-azUSD) is far below 2^127"
)]
pub fn run_attack_search(
    cfg: &AttackSearchConfig,
    prices: &PriceSeries,
    jobs: usize,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<AttackSearchResult, String> {
    cfg.validate()?;
    let base = background(cfg)?;
    let wins = attack_windows(prices, cfg)?;
    let (windows, labels) = seeded(&base, &wins, 0);
    let hwins = holdout_windows(prices, cfg)?;
    let (hwindows, hlabels) = seeded(&base, &hwins, 1_000);
    let all_windows: Vec<(SimConfig, PriceSeries)> =
        windows.iter().chain(&hwindows).cloned().collect();
    let all_labels: Vec<String> = labels.iter().chain(&hlabels).cloned().collect();
    let kinds = cfg.kind_list();
    let envs = cfg.environments.clone();
    let total = (envs.len() * all_windows.len() + envs.len() * kinds.len()) as u64;
    let done = std::sync::atomic::AtomicU64::new(0);
    let tick = || {
        let d = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        progress(d, total);
    };
    // baselines
    let nw = all_windows.len();
    let base_jobs: Vec<(usize, usize)> = (0..envs.len())
        .flat_map(|e| (0..nw).map(move |w| (e, w)))
        .collect();
    let base_runs = par_map(
        &base_jobs,
        jobs,
        &|&(e, w)| {
            let eng = env_config(&envs[e])?;
            run_one(&all_windows[w].0, &all_windows[w].1, &eng, None)
        },
        &tick,
    )?;
    let mut baselines = Vec::new();
    let mut per_env: Vec<Vec<RunOut>> = vec![Vec::new(); envs.len()];
    for (&(e, w), r) in base_jobs.iter().zip(&base_runs) {
        baselines.push(Baseline {
            environment: envs[e].clone(),
            window: all_labels[w].clone(),
            lp_pnl_usd: whole(r.lp_pnl_usd),
            bad_debt_usd: whole(r.bad_debt_usd as i128),
        });
        per_env[e].push(r.clone());
    }
    let markets = prices.symbols.len();
    let tasks: Vec<(AttackKind, usize)> = kinds
        .iter()
        .flat_map(|&k| (0..envs.len()).map(move |e| (k, e)))
        .collect();
    let results = par_map(
        &tasks,
        jobs,
        &|&(k, e)| {
            let ctx = Ctx {
                windows: &windows,
                labels: &labels,
                engine: env_config(&envs[e])?,
                baselines: per_env[e][..windows.len()].to_vec(),
            };
            let hold = Ctx {
                windows: &hwindows,
                labels: &hlabels,
                engine: env_config(&envs[e])?,
                baselines: per_env[e][windows.len()..].to_vec(),
            };
            search_kind(&ctx, &hold, k, &envs[e], cfg, markets)
        },
        &tick,
    )?;
    let mut out = AttackSearchResult {
        config: cfg.clone(),
        data: prices.source.clone(),
        windows: window_info(&windows, &labels),
        holdout: window_info(&hwindows, &hlabels),
        baselines,
        ..Default::default()
    };
    out.tabulate(&results);
    out.results = results;
    Ok(out)
}

/// The background scenario on each window, seeds `base.seed + seed_offset + i`; and the
/// windows' labels.
fn seeded(
    base: &SimConfig,
    wins: &[Window],
    seed_offset: u64,
) -> (Vec<(SimConfig, PriceSeries)>, Vec<String>) {
    let windows = wins
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let mut c = base.clone();
            c.seed = base.seed.wrapping_add(seed_offset + i as u64);
            (c, w.prices.clone())
        })
        .collect();
    (windows, wins.iter().map(|w| w.label.clone()).collect())
}

/// What the report says about each window.
fn window_info(ws: &[(SimConfig, PriceSeries)], ls: &[String]) -> Vec<WindowInfo> {
    ws.iter()
        .zip(ls)
        .map(|((c, p), l)| WindowInfo {
            label: l.clone(),
            first: format_timestamp(p.timestamps.first().copied().unwrap_or(0)),
            last: format_timestamp(p.timestamps.last().copied().unwrap_or(0)),
            bars: p.len() as u64,
            blocks: p.len() as u64 * u64::from(c.substeps.max(1)),
            block_seconds: (p.typical_bar_seconds() / u64::from(c.substeps.max(1))).max(1),
        })
        .collect()
}

impl AttackSearchResult {
    /// The per-kind, per-environment tables from the search results.
    fn tabulate(&mut self, results: &[KindResult]) {
        for r in results {
            self.lp_loss_usd
                .entry(r.kind.clone())
                .or_default()
                .insert(r.environment.clone(), r.best.lp_loss_usd);
            self.bad_debt_usd
                .entry(r.kind.clone())
                .or_default()
                .insert(r.environment.clone(), r.best.bad_debt_usd);
            self.attacker_pnl_usd
                .entry(r.kind.clone())
                .or_default()
                .insert(r.environment.clone(), r.best_for_attacker.attacker_pnl_usd);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Markdown

/// Whole USD with thousands separators: `-$1,234,567`.
fn money(v: i64) -> String {
    let digits = v.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{}${out}", if v < 0 { "-" } else { "" })
}

fn params_line(p: &BTreeMap<String, i64>) -> String {
    p.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The Markdown report of a search.
pub fn render_attack_markdown(r: &AttackSearchResult) -> String {
    let c = &r.config;
    let mut s = String::new();
    s.push_str("# Attack search\n\n");
    s.push_str(&format!(
        "Background `{}` ({} agents, no LP agents), vault ${}, {} blocks per bar, seed {}, budget {} evaluations per kind and environment. Data: {}.\n\n",
        c.scenario, c.agents, c.vault_usd, c.substeps, c.seed, c.budget, r.data
    ));
    s.push_str("| window | first | last | bars | blocks | block |\n|---|---|---|---|---|---|\n");
    for w in r.windows.iter().chain(&r.holdout) {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} s |\n",
            w.label, w.first, w.last, w.bars, w.blocks, w.block_seconds
        ));
    }
    s.push_str("\nBest point by LP loss (then attacker PnL), sums over the windows; ");
    s.push_str("\"control\" = the same point with no push (`push_bps = 0`).\n\n");
    s.push_str("| kind | environment | LP loss | attacker PnL | attacker + arbitrageur's gain | bad debt (added) | attacker volume | control: LP loss / attacker PnL | params |\n|---|---|---|---|---|---|---|---|---|\n");
    for k in &r.results {
        let b = &k.best;
        let ctl = k.control.as_ref().map_or("–".to_string(), |c| {
            format!("{} / {}", money(c.lp_loss_usd), money(c.attacker_pnl_usd))
        });
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} ({}) | {} | {} | `{}` |\n",
            k.kind,
            k.environment,
            money(b.lp_loss_usd),
            money(b.attacker_pnl_usd),
            money(b.attacker_pnl_usd + b.arbitrage_gain_usd),
            money(b.bad_debt_usd),
            money(b.bad_debt_added_usd),
            money(b.attacker_volume_usd),
            ctl,
            params_line(&b.params)
        ));
    }
    s.push_str("\nMost profitable point found for the attacker, in sample and on the held-out windows:\n\n");
    s.push_str("\"net control\" = the same net directional exposure as one plain position, no push (two-legged kinds).\n\n");
    s.push_str("| kind | environment | attacker PnL | LP loss | bad debt (added) | attacker volume | control / net control: attacker PnL | held out: attacker PnL / LP loss / bad debt added | held out control / net control: attacker PnL | pays in sample / held out | evaluations | params |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    let dash = || "–".to_string();
    for k in &r.results {
        let b = &k.best_for_attacker;
        let pair = |a: &Option<Eval>, b: &Option<Eval>| {
            let f = |e: &Option<Eval>| e.as_ref().map_or_else(dash, |c| money(c.attacker_pnl_usd));
            format!("{} / {}", f(a), f(b))
        };
        let ctl = pair(&k.control_for_attacker, &k.net_control_for_attacker);
        let h = k.holdout_best_for_attacker.as_ref().map_or_else(dash, |h| {
            format!(
                "{} / {} / {}",
                money(h.attacker_pnl_usd),
                money(h.lp_loss_usd),
                money(h.bad_debt_added_usd)
            )
        });
        let hc = pair(
            &k.holdout_control_for_attacker,
            &k.holdout_net_control_for_attacker,
        );
        let yn = |b: bool| if b { "yes" } else { "no" };
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} ({}) | {} | {} | {} | {} | {} / {} | {} | `{}` |\n",
            k.kind,
            k.environment,
            money(b.attacker_pnl_usd),
            money(b.lp_loss_usd),
            money(b.bad_debt_usd),
            money(b.bad_debt_added_usd),
            money(b.attacker_volume_usd),
            ctl,
            h,
            hc,
            yn(k.pays),
            yn(k.pays_out_of_sample),
            k.evaluations,
            params_line(&b.params)
        ));
    }
    s
}
