//! The capital study: the smallest LP capital at which each design stays safe on every path.
//!
//! For each scenario (a preset's population on its data window), each simulator block length
//! (`substeps` per bar) and each Monte Carlo path:
//!
//! 1. **Path.** A price series of `path_days` built by block bootstrap from the scenario's data
//!    ([`bootstrap_series`]): whole bars (open/high/low/close as ratios to the previous close,
//!    every symbol from the same bar, so correlations and intrabar ranges are the data's) are
//!    drawn in blocks of `bootstrap_block_bars` consecutive bars, and `jumps_per_path` bars are
//!    replaced by the data's worst basket bar (jump stress calibrated on the worst move). The
//!    agents' seed is `scenario seed + path`.
//! 2. **Reference run.** The real engine ([`crate::EngineVenue`]) with a vault of
//!    `reference_capital_usd` (no LP agents: the vault's capital is the genesis deposit only).
//!    Its flow (every fill, and every block's prices and funding indexes) is recorded.
//! 3. **Peers.** Each peer design ([`crate::designs`]) replays the recorded flow; the smallest
//!    capital that passes the criterion is found by bisection on a log scale.
//! 4. **AZEx.** The same bisection, but every probe is a new engine run at that vault capital
//!    (the engine refuses, prices and deleverages according to its own capital, so the flow
//!    changes with it).
//!
//! **The criterion** at a capital `C` on a path: the LP value never reaches zero; its largest
//! peak-to-trough drawdown is at most `drawdown_cap_bps`; the design serves the flow (honest
//! traders' open volume refused by its capital rule, plus for AZEx the ADL volume, is at most
//! `service_tolerance_bps` of their open volume more than at the reference capital; refusing an
//! adversary's open is not a loss of service); and bad debt
//! (deficits borne by LPs) is zero. When a path has bad debt even at the top of the bracket, the
//! bisection is repeated without the bad-debt condition and the path is flagged: the design then
//! has no `solvent_capital_usd` (null in the JSON) but a `capital_drawdown_only_usd`.
//!
//! The study's capital for a design is the largest over paths (the smallest capital safe on
//! *every* path, if safety is monotone in capital); per path, capital per $100M of that path's
//! peak and average gross OI gives the distribution (median, p95, worst).

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::agents::AgentKind;
use crate::designs::{drawdown_stats, percentile, replay_with, Design};
use crate::driver::{prepare_prices, run_with, RunOptions, SimConfig, SimError};
use crate::engine_venue::{EngineConfig, EngineVenue};
use crate::prices::{Bar, PriceSeries};
use crate::types::*;
use crate::units::*;
use crate::venue::*;

/// The study's configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StudyConfig {
    /// Presets (or scenario names) to study.
    pub scenarios: Vec<String>,
    /// Monte Carlo paths per scenario and block length.
    pub paths: u32,
    /// Length of each path (days of data time).
    pub path_days: u32,
    /// Simulator blocks per data bar to study (4 = 7.5-minute blocks on 30-minute bars).
    pub substeps: Vec<u32>,
    /// Bars per bootstrap block.
    pub bootstrap_block_bars: u32,
    /// Bars per path replaced by the data's worst basket bar.
    pub jumps_per_path: u32,
    /// Regular agents per run (adversaries on top; LP agents are removed).
    pub agents: u32,
    /// Vault capital of the reference run (whole USD).
    pub reference_capital_usd: u64,
    /// LP drawdown cap of the criterion (bps).
    pub drawdown_cap_bps: u32,
    /// Extra refused (and ADL) volume tolerated against the reference run (bps of open volume).
    pub service_tolerance_bps: u32,
    /// Utilisation cap of the peers (bps).
    pub utilisation_cap_bps: u32,
    /// GMX v2's reserve factor (bps).
    pub gmx_reserve_factor_bps: u32,
    /// Bisection probes per path for AZEx (engine runs), the first bracketing the design's own
    /// requirement ([`bracketed`]).
    pub azex_probes: u32,
    /// Bisection probes per path for the peers (replays).
    pub peer_probes: u32,
    /// Base seed of the bootstrap.
    pub seed: u64,
    /// The chain-resolution stress mode ([`ChainStudy`]); `None`: not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain: Option<ChainStudy>,
}

/// The chain-resolution stress mode of the study: per scenario, `windows` paths, each the
/// scenario's data around one of its worst bars ([`worst_bars`]: the largest equal-weight
/// basket declines, at least a day apart; the first is the jump-stress bar when the scenario's
/// data holds it), replayed as they happened (no bootstrap): `warmup_days` before the window at
/// `warmup_substeps` blocks per bar, then the window (`window_bars_before` bars, the worst bar,
/// `window_bars_after` bars) at 2-second chain blocks (`bar / chain_block_secs` blocks per bar)
/// with the production per-block parameters, keeper latency, a keeper transaction budget per
/// block and adversarial ordering ([`crate::driver::ChainMode`]). Every design is judged by the
/// same criterion as at coarse block lengths; the result is a block length "2 s" in the tables.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChainStudy {
    /// Stress windows (paths) per scenario.
    pub windows: u32,
    /// Days of data before the window.
    pub warmup_days: u32,
    /// Blocks per bar during the warm-up.
    pub warmup_substeps: u32,
    /// Bars before the worst bar in the window.
    pub window_bars_before: u32,
    /// Bars after the worst bar in the window.
    pub window_bars_after: u32,
    /// Keepers' view lags this many blocks ([`crate::driver::ChainMode`]).
    pub keeper_latency_blocks: u32,
    /// Most liquidation transactions per block, all keepers together.
    pub keeper_txs_per_block: u32,
    /// Adversaries first, keepers last, no end-of-block arbitrage.
    pub adversarial_ordering: bool,
    /// The control: also run the same windows (same warm-up, same agents) at this many blocks
    /// per bar with the coarse conversion and no chain mode, reported as its own block length
    /// (`ChainInfo::control_substeps`). `None` (default): no control.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control_substeps: Option<u32>,
}

impl Default for ChainStudy {
    fn default() -> Self {
        ChainStudy {
            windows: 1,
            warmup_days: 2,
            warmup_substeps: 90,
            window_bars_before: 1,
            window_bars_after: 1,
            keeper_latency_blocks: 3,
            keeper_txs_per_block: 8,
            adversarial_ordering: true,
            control_substeps: None,
        }
    }
}

impl Default for StudyConfig {
    fn default() -> Self {
        StudyConfig {
            scenarios: DEFAULT_STUDY_SCENARIOS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            paths: 4,
            path_days: 7,
            substeps: vec![4],
            bootstrap_block_bars: 48,
            jumps_per_path: 1,
            agents: 300,
            reference_capital_usd: 1_000_000_000,
            drawdown_cap_bps: 2_000,
            service_tolerance_bps: 100,
            utilisation_cap_bps: 9_000,
            gmx_reserve_factor_bps: 9_000,
            azex_probes: 7,
            peer_probes: 24,
            seed: 11,
            chain: Some(ChainStudy {
                warmup_days: 1,
                ..Default::default()
            }),
        }
    }
}

/// The scenarios of the default study.
pub const DEFAULT_STUDY_SCENARIOS: [&str; 7] = [
    "organic",
    "balanced-high",
    "balanced-moderate",
    "organic-one-sided",
    "attack-self-liquidation",
    "attack-spot-manipulation",
    "attack-stop-hunt",
];

impl StudyConfig {
    /// The full study (`azex sim --study full`): the default scenarios plus `crash-replay` and
    /// `long-tail`, 20 paths of 3 days each, 30-, 7.5- and 3.75-minute blocks (1, 4 and 8 per
    /// 30-minute bar), and the chain-resolution stress mode on the 4 worst bars of each
    /// scenario's data (2 days of warm-up).
    pub fn full() -> Self {
        let mut scenarios: Vec<String> = DEFAULT_STUDY_SCENARIOS
            .iter()
            .map(|s| s.to_string())
            .collect();
        scenarios.push("crash-replay".into());
        scenarios.push("long-tail".into());
        StudyConfig {
            scenarios,
            paths: 20,
            path_days: 3,
            substeps: vec![1, 4, 8],
            chain: Some(ChainStudy {
                windows: 4,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// Checks the configuration against its limits (scenarios, paths, days, probes, bps).
    pub fn validate(&self) -> Result<(), String> {
        let chk = check_range;
        if self.scenarios.is_empty() || self.scenarios.len() > 100 {
            return Err("study.scenarios: give 1 to 100".into());
        }
        chk("paths", self.paths.into(), 1, 10_000)?;
        chk("path_days", self.path_days.into(), 1, 3_650)?;
        if self.substeps.is_empty() || self.substeps.len() > 16 {
            return Err("study.substeps: give 1 to 16 block lengths".into());
        }
        for &k in &self.substeps {
            chk(
                "substeps",
                k.into(),
                1,
                crate::scenarios::MAX_SUBSTEPS.into(),
            )?;
        }
        chk(
            "bootstrap_block_bars",
            self.bootstrap_block_bars.into(),
            1,
            1_000_000,
        )?;
        chk("jumps_per_path", self.jumps_per_path.into(), 0, 1_000)?;
        chk(
            "agents",
            self.agents.into(),
            1,
            crate::agents::MAX_AGENTS.into(),
        )?;
        chk(
            "reference_capital_usd",
            self.reference_capital_usd,
            1,
            crate::agents::MAX_CONFIG_USD,
        )?;
        chk("drawdown_cap_bps", self.drawdown_cap_bps.into(), 1, 10_000)?;
        chk(
            "service_tolerance_bps",
            self.service_tolerance_bps.into(),
            0,
            10_000,
        )?;
        chk(
            "utilisation_cap_bps",
            self.utilisation_cap_bps.into(),
            1,
            10_000,
        )?;
        chk(
            "gmx_reserve_factor_bps",
            self.gmx_reserve_factor_bps.into(),
            1,
            10_000,
        )?;
        chk("azex_probes", self.azex_probes.into(), 1, 40)?;
        chk("peer_probes", self.peer_probes.into(), 1, 100)?;
        if let Some(c) = &self.chain {
            validate_chain(c)?;
        }
        Ok(())
    }
}

/// `Err` naming the field `study.{n}` when `v` is outside `[lo, hi]`.
fn check_range(n: &str, v: u64, lo: u64, hi: u64) -> Result<(), String> {
    if v < lo || v > hi {
        Err(format!("study.{n} {v} outside [{lo}, {hi}]"))
    } else {
        Ok(())
    }
}

fn validate_chain(c: &ChainStudy) -> Result<(), String> {
    let chk = check_range;
    chk("chain.windows", c.windows.into(), 1, 1_000)?;
    chk("chain.warmup_days", c.warmup_days.into(), 0, 365)?;
    chk(
        "chain.warmup_substeps",
        c.warmup_substeps.into(),
        1,
        crate::scenarios::MAX_SUBSTEPS.into(),
    )?;
    chk(
        "chain.window_bars_before",
        c.window_bars_before.into(),
        0,
        48,
    )?;
    chk("chain.window_bars_after", c.window_bars_after.into(), 0, 48)?;
    chk(
        "chain.keeper_latency_blocks",
        c.keeper_latency_blocks.into(),
        0,
        1_000,
    )?;
    chk(
        "chain.keeper_txs_per_block",
        c.keeper_txs_per_block.into(),
        1,
        100_000,
    )?;
    if let Some(k) = c.control_substeps {
        chk(
            "chain.control_substeps",
            k.into(),
            1,
            crate::scenarios::MAX_SUBSTEPS.into(),
        )?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// paths

/// The data's worst bar for an equal-weight basket (lowest mean close / previous close), as
/// per-symbol (open, high, low, close) ratios to the previous close. `None` for < 2 bars.
pub fn worst_bar(src: &PriceSeries) -> Option<Vec<[f64; 4]>> {
    let n = src.len();
    if n < 2 {
        return None;
    }
    let ns = src.symbols.len();
    let mut best = (f64::INFINITY, 1usize);
    for t in 1..n {
        let mut s = 0.0;
        for b in &src.bars {
            s += b[t].close as f64 / b[t - 1].close as f64;
        }
        let m = s / ns as f64;
        if m < best.0 {
            best = (m, t);
        }
    }
    Some(ratios_at(src, best.1))
}

fn ratios_at(src: &PriceSeries, t: usize) -> Vec<[f64; 4]> {
    src.bars
        .iter()
        .map(|b| {
            let c0 = b[t - 1].close as f64;
            let x = b[t];
            [
                x.open as f64 / c0,
                x.high as f64 / c0,
                x.low as f64 / c0,
                x.close as f64 / c0,
            ]
        })
        .collect()
}

/// A path of `bars` bars by block bootstrap of `src` (see the module docs), starting at `src`'s
/// first prices and timestamps spaced by its typical bar. Deterministic in `rng`. Prices are
/// kept inside the loader's accepted range (1e-8 .. 1e9 USD).
#[expect(
    clippy::cast_sign_loss,
    clippy::cast_possible_truncation,
    reason = "bar counts of an in-memory series; bootstrap prices are clamped to [lo, hi] (the float-to-int cast saturates)"
)]
pub fn bootstrap_series(
    src: &PriceSeries,
    bars: usize,
    block_bars: usize,
    jumps: u32,
    rng: &mut ChaCha8Rng,
) -> Result<PriceSeries, String> {
    let n = src.len();
    if n < 3 {
        return Err(format!("{}: need at least 3 bars to bootstrap", src.source));
    }
    let ns = src.symbols.len();
    let block = block_bars.clamp(1, n - 1);
    let dt = src.typical_bar_seconds().max(1);
    // draw bar indexes (1..n): each refers to a bar and its previous close
    let mut idx: Vec<usize> = Vec::with_capacity(bars);
    while idx.len() < bars {
        let start = rng.random_range(1..=n - block);
        for t in start..start + block {
            if idx.len() == bars {
                break;
            }
            idx.push(t);
        }
    }
    let worst = worst_bar(src);
    let mut jump_at: Vec<usize> = Vec::new();
    if worst.is_some() {
        for _ in 0..jumps.min(bars as u32) {
            jump_at.push(rng.random_range(0..bars));
        }
    }
    let lo = WAD / 100_000_000;
    let hi = 1_000_000_000 * WAD;
    let clamp = |x: f64| -> u128 { (x.max(0.0) as u128).clamp(lo, hi) };
    let mut out: Vec<Vec<Bar>> = vec![Vec::with_capacity(bars); ns];
    let mut prev: Vec<f64> = src.bars.iter().map(|b| b[0].open as f64).collect();
    for (i, &t) in idx.iter().enumerate() {
        let r = if jump_at.contains(&i) {
            worst.clone().unwrap_or_else(|| ratios_at(src, t))
        } else {
            ratios_at(src, t)
        };
        for s in 0..ns {
            let c0 = prev[s];
            let [o, h, l, c] = r[s];
            let (o, c) = (clamp(c0 * o), clamp(c0 * c));
            let h = clamp(c0 * h).max(o).max(c);
            let l = clamp(c0 * l).min(o).min(c);
            out[s].push(Bar {
                open: o,
                high: h,
                low: l,
                close: c,
            });
            prev[s] = c as f64;
        }
    }
    let t0 = src.timestamps[0];
    Ok(PriceSeries {
        source: format!("bootstrap of {}", src.source),
        symbols: src.symbols.clone(),
        timestamps: (0..bars as u64).map(|i| t0 + i * dt).collect(),
        bars: out,
        filled: vec![0; ns],
        filled_at: vec![Vec::new(); ns],
        repaired: vec![0; ns],
        has_ohlc: true,
    })
}

/// Up to `n` of the data's worst bars for an equal-weight basket (lowest mean close / previous
/// close, declines only), each at least `apart` bars from the others, worst first.
pub fn worst_bars(src: &PriceSeries, n: usize, apart: usize) -> Vec<usize> {
    let len = src.len();
    if len < 2 {
        return Vec::new();
    }
    let ns = src.symbols.len().max(1) as f64;
    let mut r: Vec<(f64, usize)> = (1..len)
        .map(|t| {
            let s: f64 = src
                .bars
                .iter()
                .map(|b| b[t].close as f64 / b[t - 1].close as f64)
                .sum();
            (s / ns, t)
        })
        .filter(|(m, _)| *m < 1.0)
        .collect();
    r.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut out: Vec<usize> = Vec::new();
    for (_, t) in r {
        if out.len() == n {
            break;
        }
        if out.iter().all(|&o| o.abs_diff(t) >= apart) {
            out.push(t);
        }
    }
    out
}

/// The chain-mode path `w` of a scenario: the data slice around its `w`-th worst bar and the
/// run's [`crate::driver::ChainMode`] (window start relative to the slice). `None` when the data
/// has fewer worst bars.
#[expect(
    clippy::cast_possible_truncation,
    reason = "bars per day and blocks per bar of a validated series"
)]
pub fn chain_window(
    src: &PriceSeries,
    c: &ChainStudy,
    engine: &EngineConfig,
    w: usize,
) -> Option<(PriceSeries, crate::driver::ChainMode, u64)> {
    let dt = src.typical_bar_seconds().max(1);
    let day = (86_400 / dt).max(1) as usize;
    let t = *worst_bars(src, w + 1, day).get(w)?;
    let warm = c.warmup_days as usize * day;
    let first = t.saturating_sub(c.window_bars_before as usize);
    let a = first.saturating_sub(warm);
    let b = (t + 1 + c.window_bars_after as usize).min(src.len());
    let slice = src.slice(Some(src.timestamps[a]), None, Some(b - a));
    let substeps = (dt / engine.chain_block_secs.max(1)).max(1) as u32;
    Some((
        slice,
        crate::driver::ChainMode {
            substeps,
            window_start_bar: (first - a) as u64,
            window_bars: (b - first) as u64,
            keeper_latency_blocks: c.keeper_latency_blocks,
            keeper_txs_per_block: c.keeper_txs_per_block,
            adversarial_ordering: c.adversarial_ordering,
        },
        src.timestamps[t],
    ))
}

// ---------------------------------------------------------------------------------------------
// recording the flow of an engine run

/// Per block: fills and markets' risk.
pub type Flow = Vec<(Vec<Fill>, Vec<MarketRisk>)>;

/// What the study records of an engine run (the hook of an [`Observed`] engine venue).
struct Recording {
    flow: Flow,
    pending: Vec<Fill>,
    share_prices: Vec<i128>,
    open_volume: u128,
    refused_volume: u128,
    /// Agents at or above this id are adversaries: their opens are not counted in the service
    /// figures (refusing an attacker is not a loss of service).
    honest_below: AgentId,
}

impl VenueHook for Recording {
    fn after_submit(&mut self, a: AgentId, action: &Action, r: &Result<Outcome, Rejection>) {
        if let (Action::Open { notional_usd, .. }, true) = (action, a < self.honest_below) {
            self.open_volume += notional_usd;
            if let Err(e) = r {
                if matches!(
                    e.kind,
                    RejectKind::InsufficientLiquidity | RejectKind::ImpactCap
                ) {
                    self.refused_volume += notional_usd;
                }
            }
        }
    }

    fn after_fills(&mut self, fills: &[Fill]) {
        self.pending = fills.to_vec();
    }

    /// The driver takes one risk snapshot per block, after the fills: the block is complete.
    #[expect(
        clippy::cast_possible_wrap,
        reason = "share prices (WAD) are far below 2^127"
    )]
    fn after_risk_snapshot(&mut self, r: &RiskSnapshot) {
        self.share_prices
            .push(share_price_wad(r.vault_nav_usd, r.vault_shares) as i128);
        self.flow
            .push((std::mem::take(&mut self.pending), r.markets.clone()));
    }
}

/// One engine run at a vault capital, with what the study needs from it.
#[derive(Clone, Debug)]
pub struct EngineProbe {
    /// Vault capital of the run (micro-azUSD).
    pub capital_usd: u128,
    /// Largest drawdown of the share price (bps).
    pub max_drawdown_bps: u32,
    /// 99th percentile over blocks of the share price's fall from its running peak (bps).
    pub drawdown_p99_bps: u32,
    /// Deficits borne by LPs (micro-azUSD).
    pub bad_debt_usd: u128,
    /// The vault's NAV fell to zero or below.
    pub insolvent: bool,
    /// Open volume submitted (micro-azUSD).
    pub open_volume_usd: u128,
    /// Opens refused for capacity (vault capacity, impact cap) plus ADL volume.
    pub service_loss_usd: u128,
    /// Gross OI peak over blocks (micro-azUSD).
    pub oi_peak_usd: u128,
    /// Gross OI mean over blocks (micro-azUSD).
    pub oi_avg_usd: u128,
    /// Peak vault requirement (micro-azUSD).
    pub required_peak_usd: u128,
    /// Mean vault requirement over blocks (micro-azUSD).
    pub required_avg_usd: u128,
    /// OI-weighted mean imbalance (bps).
    pub imbalance_bps: u32,
    /// Adversaries' PnL per kind (micro-azUSD).
    pub attacker_pnl_usd: BTreeMap<String, i128>,
    /// The recorded flow, for replaying the peers (empty unless asked for).
    pub flow: Flow,
}

/// Runs the engine on `prices` with a vault of `capital_usd` (whole USD) and records it.
pub fn engine_probe(
    cfg: &SimConfig,
    prices: &PriceSeries,
    engine: &EngineConfig,
    capital_usd: u64,
    keep_flow: bool,
) -> Result<EngineProbe, SimError> {
    let mut c = cfg.clone();
    c.genesis_vault_usd = capital_usd;
    let p = prepare_prices(&c, prices)?;
    let inner = EngineVenue::for_run(engine.clone(), &c, &p).map_err(SimError::Venue)?;
    let mut v = Observed::new(
        inner,
        Recording {
            flow: Vec::new(),
            pending: Vec::new(),
            share_prices: Vec::new(),
            open_volume: 0,
            refused_volume: 0,
            honest_below: c.population.agents,
        },
    );
    let r = run_with(
        &c,
        &p,
        &mut v,
        &RunOptions {
            quiet: true,
            ..Default::default()
        },
    )?;
    let rec = v.into_hook();
    let az = r
        .model("azex")
        .ok_or_else(|| SimError::Venue("no azex model".into()))?;
    let (max_dd, p99) = drawdown_stats(&rec.share_prices);
    let util = engine_utilisation_bps();
    let attacker_pnl_usd = r
        .agents
        .iter()
        .filter(|k| {
            AgentKind::ALL
                .iter()
                .any(|a| a.is_adversary() && a.name() == k.kind)
        })
        .map(|k| (k.kind.clone(), k.pnl_usd))
        .collect();
    Ok(EngineProbe {
        capital_usd: usd(capital_usd),
        max_drawdown_bps: max_dd,
        drawdown_p99_bps: p99,
        bad_debt_usd: az.bad_debt_usd,
        insolvent: rec.share_prices.iter().any(|&s| s <= 0),
        open_volume_usd: rec.open_volume,
        service_loss_usd: rec.refused_volume + az.adl_volume_usd,
        oi_peak_usd: az.oi_peak_usd,
        oi_avg_usd: az.oi_avg_usd,
        required_peak_usd: mul_div_ceil(az.required_peak_usd, BPS, u128::from(util)),
        required_avg_usd: mul_div_ceil(az.required_avg_usd, BPS, u128::from(util)),
        imbalance_bps: r.headline.imbalance_bps,
        attacker_pnl_usd,
        flow: if keep_flow { rec.flow } else { Vec::new() },
    })
}

/// The engine's vault utilisation cap (bps).
#[expect(
    clippy::cast_possible_truncation,
    reason = "the engine's utilisation cap is at most 1 WAD (10000 bps)"
)]
pub fn engine_utilisation_bps() -> u32 {
    let w = azex_exchange::params::GlobalParams::default().max_vault_utilisation_wad;
    ((w / (WAD / 10_000)) as u32).clamp(1, 10_000)
}

// ---------------------------------------------------------------------------------------------
// the criterion and the bisection

/// What the criterion looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe {
    /// The pool's value fell to zero or below.
    pub insolvent: bool,
    /// Largest LP drawdown (bps).
    pub max_drawdown_bps: u32,
    /// Deficits borne by LPs (micro-azUSD).
    pub bad_debt_usd: u128,
    /// Service loss minus the reference's, bps of open volume (≤ 0 counts as 0).
    pub extra_service_loss_bps: u32,
}

/// The criterion (module docs); `with_bad_debt`: also require zero bad debt.
pub fn passes(p: &Probe, cfg: &StudyConfig, with_bad_debt: bool) -> bool {
    !p.insolvent
        && p.max_drawdown_bps <= cfg.drawdown_cap_bps
        && p.extra_service_loss_bps <= cfg.service_tolerance_bps
        && (!with_bad_debt || p.bad_debt_usd == 0)
}

fn loss_bps(loss: u128, volume: u128) -> u32 {
    if volume == 0 {
        return 0;
    }
    (mul_div_floor(loss, BPS, volume)).min(BPS) as u32
}

/// Smallest capital in `(lo, hi]` (whole USD, log-scale bisection, `probes` evaluations) at
/// which `ok` holds, assuming it holds at `hi`. Returns `hi` when every probe fails.
#[expect(
    clippy::cast_sign_loss,
    clippy::cast_possible_truncation,
    reason = "the bracket is positive and within the u64 bounds given; float-to-int casts saturate"
)]
pub fn bisect(lo: u64, hi: u64, probes: u32, mut ok: impl FnMut(u64) -> bool) -> u64 {
    let (mut lo, mut hi) = (lo.max(1) as f64, hi.max(2) as f64);
    for _ in 0..probes {
        let mid = (lo * hi).sqrt();
        if mid as u64 >= hi as u64 || mid as u64 <= lo as u64 {
            break;
        }
        if ok(mid as u64) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi.ceil() as u64
}

/// [`bisect`] in a bracket around `hint` (the design's own requirement on the reference flow):
/// one probe at `4 × hint` decides between `[hint / 16, 4 × hint]` and `[4 × hint, hi]`, so
/// the remaining probes narrow a factor 64 (7 probes: within 3.3 %) instead of `hi / lo`.
pub fn bracketed(hint: u64, lo: u64, hi: u64, probes: u32, mut ok: impl FnMut(u64) -> bool) -> u64 {
    let top = hint.saturating_mul(4);
    if hint == 0 || top >= hi || probes < 2 {
        return bisect(lo, hi, probes, ok);
    }
    if ok(top) {
        bisect((hint / 16).max(lo), top, probes - 1, ok)
    } else {
        bisect(top, hi, probes - 1, ok)
    }
}

// ---------------------------------------------------------------------------------------------
// results

/// Median, 95th percentile and worst (largest) of a per-path figure.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Dist {
    /// Median.
    pub median: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Largest value.
    pub worst: f64,
}

impl Dist {
    /// The distribution of `v` (nearest-rank percentiles; all 0 when empty).
    pub fn of(v: &[f64]) -> Dist {
        if v.is_empty() {
            return Dist::default();
        }
        let mut s = v.to_vec();
        s.sort_by(|a, b| a.total_cmp(b));
        let at = |p: usize| s[((p * s.len()).div_ceil(100)).clamp(1, s.len()) - 1];
        Dist {
            median: at(50),
            p95: at(95),
            worst: *s.last().unwrap(),
        }
    }
}

fn per_100m(capital: u128, oi: u128) -> f64 {
    if oi == 0 {
        return 0.0;
    }
    (capital as f64 / oi as f64 * 100.0 * 1e6).round()
}

/// One path's result for one design.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PathResult {
    /// Path index.
    pub path: u32,
    /// Capital found (whole USD).
    pub capital_usd: u64,
    /// Whether that capital also has zero bad debt.
    pub zero_bad_debt: bool,
    /// Largest LP drawdown at that capital (bps).
    pub max_drawdown_bps: u32,
    /// 99th percentile of the per-block LP drawdown at that capital (bps).
    pub drawdown_p99_bps: u32,
    /// Bad debt at that capital (micro-azUSD).
    pub bad_debt_usd: u128,
    /// Peak gross OI of the demand (micro-azUSD): the reference run's flow (the denominator of
    /// every "per $100M" figure, the same for every design on a path).
    pub oi_peak_usd: u128,
    /// Average gross OI of the demand (micro-azUSD).
    pub oi_avg_usd: u128,
    /// Peak gross OI the design actually carried at its capital (AZEx: its own run, whose flow
    /// reacts to the capital through prices, funding and refusals; peers: the accepted replay).
    pub served_oi_peak_usd: u128,
    /// The design's requirement formula (utilisation cap applied) on the reference flow, per
    /// $100M of that flow's peak gross OI (whole USD).
    pub formula_per_100m_peak_oi: f64,
    /// The same per $100M of average gross OI (whole USD).
    pub formula_per_100m_avg_oi: f64,
    /// Service loss beyond the reference's at that capital (bps of open volume).
    pub extra_service_loss_bps: u32,
    /// The reference capital itself failed the criterion without bad debt: no capital in the
    /// bracket is safe on this path.
    pub unsafe_at_reference: bool,
}

/// A design's figures over the paths of one scenario and block length.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DesignResult {
    /// Design name ("azex" or a [`crate::designs::Design`] name).
    pub design: String,
    /// Its admission rule in words.
    pub rule: String,
    /// Smallest capital (whole USD) with zero bad debt and drawdown within the cap on every
    /// path; `None` when a path has bad debt at every capital tried or no capital is safe.
    pub solvent_capital_usd: Option<u64>,
    /// That capital per $100M of peak gross OI (whole USD).
    pub solvent_capital_per_100m_peak_oi: Option<f64>,
    /// That capital per $100M of average gross OI (whole USD).
    pub solvent_capital_per_100m_avg_oi: Option<f64>,
    /// The same without the bad-debt condition.
    pub capital_drawdown_only_usd: Option<u64>,
    /// That capital per $100M of peak gross OI (whole USD).
    pub capital_drawdown_only_per_100m_peak_oi: Option<f64>,
    /// Per path: capital / that path's peak gross OI × $100M.
    pub per_path_per_100m_peak_oi: Dist,
    /// Per path: capital / that path's average gross OI × $100M.
    pub per_path_per_100m_avg_oi: Dist,
    /// The design's formula (its requirement on the reference flow, utilisation cap applied)
    /// per $100M of peak OI, worst path.
    pub formula_per_100m_peak_oi: f64,
    /// The same per $100M of average OI.
    pub formula_per_100m_avg_oi: f64,
    /// At each path's capital, worst path: bad debt (micro-azUSD).
    pub bad_debt_usd: u128,
    /// Largest LP drawdown, worst path (bps).
    pub lp_max_drawdown_bps: u32,
    /// p99 over paths of the per-block drawdown p99 (bps).
    pub lp_drawdown_p99_bps: u32,
    /// Paths with bad debt at every capital tried.
    pub paths_with_bad_debt: u32,
    /// Paths on which no capital in the bracket is safe.
    pub paths_unsafe_at_reference: u32,
    /// Per path.
    pub paths: Vec<PathResult>,
}

/// One scenario at one block length.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScenarioStudy {
    /// Scenario name.
    pub scenario: String,
    /// Blocks per bar.
    pub substeps: u32,
    /// Block length (seconds of data time).
    pub block_seconds: u64,
    /// Paths run.
    pub paths: u32,
    /// Bars per path.
    pub bars_per_path: u64,
    /// Source of the scenario's price data.
    pub data: String,
    /// OI-weighted mean imbalance of the reference runs (bps), per path distribution.
    pub imbalance_bps: Dist,
    /// Adversaries' PnL per kind in the reference runs (micro-azUSD), summed over paths.
    pub attacker_pnl_usd: BTreeMap<String, i128>,
    /// Adversaries' PnL per kind on the attacker's best path (micro-azUSD).
    pub attacker_best_path_pnl_usd: BTreeMap<String, i128>,
    /// AZEx and the peer designs.
    pub designs: Vec<DesignResult>,
    /// Chain-resolution stress mode only: how the paths were run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<ChainInfo>,
}

/// How the chain-resolution paths of a scenario were run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChainInfo {
    /// Per path: the worst bar's open time (UTC).
    pub stress_bars: Vec<String>,
    /// Warm-up block length (seconds).
    pub warmup_block_seconds: u64,
    /// Bars in each window.
    pub window_bars: u64,
    /// Keepers' view lag (blocks).
    pub keeper_latency_blocks: u32,
    /// Most liquidation transactions per block.
    pub keeper_txs_per_block: u32,
    /// Adversarial ordering was on.
    pub adversarial_ordering: bool,
    /// Blocks per path at chain resolution (the window).
    pub chain_blocks_per_path: u64,
    /// The control ([`ChainStudy::control_substeps`]): these rows are the same windows at this
    /// many blocks per bar, coarse conversion, no chain mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_substeps: Option<u32>,
}

/// The whole study.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StudyResult {
    /// The study configuration run.
    pub config: StudyConfig,
    /// Source of the price data.
    pub data: String,
    /// Scenarios skipped, with the reason (e.g. dates not in the data).
    pub skipped: Vec<String>,
    /// Per scenario and block length.
    pub scenarios: Vec<ScenarioStudy>,
}

impl StudyResult {
    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("StudyResult serialises")
    }
}

// ---------------------------------------------------------------------------------------------
// running it

/// One unit of work: a (scenario, block length, path).
#[derive(Clone, Debug)]
struct Job {
    sc: usize,
    k: usize,
    path: u32,
}

/// Per-path results of a job: one per design (AZEx first, then [`Design::ALL`]).
#[derive(Clone, Debug, Default)]
struct JobOut {
    designs: Vec<PathResult>,
    imbalance_bps: u32,
    attacker: BTreeMap<String, i128>,
    bars: u64,
    block_seconds: u64,
}

/// The scenario configuration the study runs for `name` (a preset or a JSON file already
/// loaded by the caller): LP agents removed, `agents` regular agents.
pub fn study_scenario(mut c: SimConfig, study: &StudyConfig) -> SimConfig {
    c.population.agents = study.agents;
    c.population.mix.lp = 0;
    c.chart_points = 2;
    c.crash.detect = 0;
    c
}

fn job(
    study: &StudyConfig,
    base: &SimConfig,
    src: &PriceSeries,
    engine: &EngineConfig,
    j: &Job,
) -> Result<JobOut, String> {
    let mut cfg = base.clone();
    cfg.seed = base.seed.wrapping_add(u64::from(j.path));
    cfg.start = None;
    cfg.end = None;
    cfg.max_bars = None;
    let (prices, block_seconds) = job_prices(study, &mut cfg, src, engine, j)?;
    let bars = prices.len();
    let err = |e: SimError| format!("{} path {}: {e}", base.name, j.path);
    let reference =
        engine_probe(&cfg, &prices, engine, study.reference_capital_usd, true).map_err(err)?;
    let mut out = JobOut {
        imbalance_bps: reference.imbalance_bps,
        attacker: reference.attacker_pnl_usd.clone(),
        bars: bars as u64,
        block_seconds,
        ..Default::default()
    };
    // AZEx: engine runs
    out.designs
        .push(azex_path(study, &cfg, &prices, engine, j, &reference));
    // peers: replays of the reference flow
    for d in Design::ALL {
        out.designs.push(peer_path(study, &cfg, j, &reference, d));
    }
    Ok(out)
}

/// The job's price path and block length; sets the substeps (and the chain mode) of `cfg`.
#[expect(
    clippy::cast_possible_truncation,
    reason = "bars per path of an in-memory series"
)]
fn job_prices(
    study: &StudyConfig,
    cfg: &mut SimConfig,
    src: &PriceSeries,
    engine: &EngineConfig,
    j: &Job,
) -> Result<(PriceSeries, u64), String> {
    let dt = src.typical_bar_seconds().max(1);
    Ok(match (study.substeps.get(j.k), &study.chain) {
        (Some(&substeps), _) => {
            cfg.substeps = substeps;
            let mut rng = ChaCha8Rng::seed_from_u64(study.seed);
            rng.set_stream(((j.sc as u64) << 32) | u64::from(j.path));
            let bars = ((u64::from(study.path_days) * 86_400) / dt).max(2) as usize;
            let p = bootstrap_series(
                src,
                bars,
                study.bootstrap_block_bars as usize,
                study.jumps_per_path,
                &mut rng,
            )?;
            (p, dt / u64::from(substeps.max(1)))
        }
        (None, Some(c)) => {
            let (p, mode, _) = chain_window(src, c, engine, j.path as usize)
                .ok_or_else(|| format!("{}: no chain window {}", cfg.name, j.path))?;
            match c.control_substeps {
                Some(k) if j.k > study.substeps.len() => {
                    cfg.substeps = k;
                    (p, dt / u64::from(k.max(1)))
                }
                _ => {
                    cfg.substeps = c.warmup_substeps;
                    cfg.chain = Some(mode);
                    (p, engine.chain_block_secs.max(1))
                }
            }
        }
        (None, None) => return Err("no such block length".into()),
    })
}

/// AZEx's capital on a path: the least (bracketed) capital at which engine runs pass the safety
/// test, probed around the reference run's requirement.
#[expect(
    clippy::cast_possible_truncation,
    reason = "whole USD of a requirement well below 2^64"
)]
fn azex_path(
    study: &StudyConfig,
    cfg: &SimConfig,
    prices: &PriceSeries,
    engine: &EngineConfig,
    j: &Job,
    reference: &EngineProbe,
) -> PathResult {
    let ref_loss = loss_bps(reference.service_loss_usd, reference.open_volume_usd);
    let hi = study.reference_capital_usd;
    let lo = (hi / 100_000).max(1);
    let engine_probe_at = |c: u64| -> Option<(Probe, EngineProbe)> {
        let p = engine_probe(cfg, prices, engine, c, false).ok()?;
        let extra = loss_bps(p.service_loss_usd, p.open_volume_usd.max(1)).saturating_sub(ref_loss);
        Some((
            Probe {
                insolvent: p.insolvent,
                max_drawdown_bps: p.max_drawdown_bps,
                bad_debt_usd: p.bad_debt_usd,
                extra_service_loss_bps: extra,
            },
            p,
        ))
    };
    let ref_probe = Probe {
        insolvent: reference.insolvent,
        max_drawdown_bps: reference.max_drawdown_bps,
        bad_debt_usd: reference.bad_debt_usd,
        extra_service_loss_bps: 0,
    };
    let strict = passes(&ref_probe, study, true);
    let relaxed = passes(&ref_probe, study, false);
    let c = if strict || relaxed {
        let hint = (reference.required_peak_usd / USD) as u64;
        bracketed(hint, lo, hi, study.azex_probes, |c| {
            engine_probe_at(c).is_some_and(|(p, _)| passes(&p, study, strict))
        })
    } else {
        hi
    };
    let at = if c == hi {
        Some((ref_probe, reference.clone()))
    } else {
        engine_probe_at(c)
    };
    let mut pr = PathResult {
        path: j.path,
        capital_usd: c,
        unsafe_at_reference: !relaxed,
        ..Default::default()
    };
    if let Some((p, e)) = at {
        pr.zero_bad_debt = strict && e.bad_debt_usd == 0;
        pr.max_drawdown_bps = e.max_drawdown_bps;
        pr.drawdown_p99_bps = e.drawdown_p99_bps;
        pr.bad_debt_usd = e.bad_debt_usd;
        pr.served_oi_peak_usd = e.oi_peak_usd;
        pr.extra_service_loss_bps = p.extra_service_loss_bps;
    }
    pr.oi_peak_usd = reference.oi_peak_usd;
    pr.oi_avg_usd = reference.oi_avg_usd;
    pr.formula_per_100m_peak_oi = per_100m(reference.required_peak_usd, reference.oi_peak_usd);
    pr.formula_per_100m_avg_oi = per_100m(reference.required_avg_usd, reference.oi_avg_usd);
    pr
}

/// A peer design's capital on a path, from replays of the reference flow.
#[expect(
    clippy::cast_possible_truncation,
    reason = "whole USD of a requirement well below 2^64"
)]
fn peer_path(
    study: &StudyConfig,
    cfg: &SimConfig,
    j: &Job,
    reference: &EngineProbe,
    d: Design,
) -> PathResult {
    let hi = study.reference_capital_usd;
    let lo = (hi / 100_000).max(1);
    let util = if d == Design::GmxV2 {
        study.gmx_reserve_factor_bps
    } else {
        study.utilisation_cap_bps
    };
    let flow = &reference.flow;
    let probe_of = |c: u64| {
        let o = replay_with(d, usd(c), util, cfg.population.agents, flow);
        (
            Probe {
                insolvent: o.insolvent,
                max_drawdown_bps: o.max_drawdown_bps,
                bad_debt_usd: o.bad_debt_usd,
                extra_service_loss_bps: loss_bps(o.refused_volume_usd, o.open_volume_usd),
            },
            o,
        )
    };
    let (top, _) = probe_of(hi);
    let strict = passes(&top, study, true);
    let relaxed = passes(&top, study, false);
    let c = if strict || relaxed {
        let hint = (probe_of(hi).1.required_peak_usd / USD) as u64;
        bracketed(hint, lo, hi, study.peer_probes, |c| {
            passes(&probe_of(c).0, study, strict)
        })
    } else {
        hi
    };
    let (p, o) = probe_of(c);
    let (_, r) = probe_of(hi);
    PathResult {
        path: j.path,
        capital_usd: c,
        zero_bad_debt: strict && o.bad_debt_usd == 0,
        max_drawdown_bps: o.max_drawdown_bps,
        drawdown_p99_bps: o.drawdown_p99_bps,
        bad_debt_usd: o.bad_debt_usd,
        oi_peak_usd: reference.oi_peak_usd,
        oi_avg_usd: reference.oi_avg_usd,
        served_oi_peak_usd: o.oi_peak_usd,
        formula_per_100m_peak_oi: per_100m(r.required_peak_usd, r.oi_peak_usd),
        formula_per_100m_avg_oi: per_100m(r.required_avg_usd, r.oi_avg_usd),
        extra_service_loss_bps: p.extra_service_loss_bps,
        unsafe_at_reference: !relaxed,
    }
}

#[expect(
    clippy::cast_possible_truncation,
    reason = "path counts ≤ the configured paths (a u32)"
)]
fn summarise(name: &str, rule: &str, paths: Vec<PathResult>) -> DesignResult {
    let safe: Vec<&PathResult> = paths.iter().filter(|p| !p.unsafe_at_reference).collect();
    let all_safe = safe.len() == paths.len() && !paths.is_empty();
    let all_zero = all_safe && paths.iter().all(|p| p.zero_bad_debt);
    let cap = paths.iter().map(|p| p.capital_usd).max().unwrap_or(0);
    let worst_ratio = |f: &dyn Fn(&PathResult) -> u128| -> f64 {
        paths
            .iter()
            .map(|p| per_100m(usd(p.capital_usd), f(p)))
            .fold(0.0, f64::max)
    };
    let peak_ratios: Vec<f64> = paths
        .iter()
        .map(|p| per_100m(usd(p.capital_usd), p.oi_peak_usd))
        .collect();
    let avg_ratios: Vec<f64> = paths
        .iter()
        .map(|p| per_100m(usd(p.capital_usd), p.oi_avg_usd))
        .collect();
    let mut p99s: Vec<u32> = paths.iter().map(|p| p.drawdown_p99_bps).collect();
    DesignResult {
        design: name.into(),
        rule: rule.into(),
        solvent_capital_usd: all_zero.then_some(cap),
        solvent_capital_per_100m_peak_oi: all_zero.then(|| worst_ratio(&|p| p.oi_peak_usd)),
        solvent_capital_per_100m_avg_oi: all_zero.then(|| worst_ratio(&|p| p.oi_avg_usd)),
        capital_drawdown_only_usd: all_safe.then_some(cap),
        capital_drawdown_only_per_100m_peak_oi: all_safe.then(|| worst_ratio(&|p| p.oi_peak_usd)),
        per_path_per_100m_peak_oi: Dist::of(&peak_ratios),
        per_path_per_100m_avg_oi: Dist::of(&avg_ratios),
        formula_per_100m_peak_oi: paths
            .iter()
            .map(|p| p.formula_per_100m_peak_oi)
            .fold(0.0, f64::max),
        formula_per_100m_avg_oi: paths
            .iter()
            .map(|p| p.formula_per_100m_avg_oi)
            .fold(0.0, f64::max),
        bad_debt_usd: paths.iter().map(|p| p.bad_debt_usd).max().unwrap_or(0),
        lp_max_drawdown_bps: paths.iter().map(|p| p.max_drawdown_bps).max().unwrap_or(0),
        lp_drawdown_p99_bps: percentile(&mut p99s, 99),
        paths_with_bad_debt: paths.iter().filter(|p| p.bad_debt_usd > 0).count() as u32,
        paths_unsafe_at_reference: paths.iter().filter(|p| p.unsafe_at_reference).count() as u32,
        paths,
    }
}

/// Runs the study on `prices` with `jobs` threads. Scenarios whose window has no data are
/// skipped (listed in `skipped`). `progress`: called after every finished path with (done,
/// total).
#[expect(
    clippy::cast_possible_truncation,
    reason = "window counts ≤ the configured windows (a u32)"
)]
pub fn run_study(
    study: &StudyConfig,
    scenarios: &[SimConfig],
    prices: &PriceSeries,
    engine: &EngineConfig,
    jobs: usize,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<StudyResult, String> {
    study.validate()?;
    let (bases, skipped) = study_bases(study, scenarios, prices)?;
    // block lengths: the coarse ones, then (index `substeps.len()`) chain resolution, whose
    // paths are the scenario's worst bars
    let nk = study.substeps.len()
        + study
            .chain
            .as_ref()
            .map_or(0, |c| 1 + usize::from(c.control_substeps.is_some()));
    let chain_paths: Vec<u32> = bases
        .iter()
        .map(|(_, src)| match &study.chain {
            Some(c) => {
                let day = (86_400 / src.typical_bar_seconds().max(1)).max(1) as usize;
                worst_bars(src, c.windows as usize, day).len() as u32
            }
            None => 0,
        })
        .collect();
    let paths_of = |sc: usize, k: usize| {
        if k < study.substeps.len() {
            study.paths
        } else {
            chain_paths[sc]
        }
    };
    let mut work = Vec::new();
    for sc in 0..bases.len() {
        for k in 0..nk {
            for path in 0..paths_of(sc, k) {
                work.push(Job { sc, k, path });
            }
        }
    }
    let outs = run_jobs(study, &bases, engine, &work, jobs, progress)?;
    let mut scenarios_out = Vec::new();
    for (sc, (base, src)) in bases.iter().enumerate() {
        for k in 0..nk {
            if paths_of(sc, k) == 0 {
                continue;
            }
            let (substeps, chain) = match study.substeps.get(k) {
                Some(&s) => (s, None),
                None => chain_block_length(study, src, engine, k, paths_of(sc, k)),
            };
            let mine: Vec<&JobOut> = work
                .iter()
                .zip(&outs)
                .filter(|(j, _)| j.sc == sc && j.k == k)
                .map(|(_, o)| o)
                .collect();
            scenarios_out.push(scenario_study(base, src, substeps, chain, &mine));
        }
    }
    Ok(StudyResult {
        config: study.clone(),
        data: prices.source.clone(),
        skipped,
        scenarios: scenarios_out,
    })
}

/// The study's scenarios with their prices (at least 3 bars), and the ones skipped because their
/// dates are not in the data.
#[allow(clippy::type_complexity)]
fn study_bases(
    study: &StudyConfig,
    scenarios: &[SimConfig],
    prices: &PriceSeries,
) -> Result<(Vec<(SimConfig, PriceSeries)>, Vec<String>), String> {
    let mut skipped = Vec::new();
    let mut bases: Vec<(SimConfig, PriceSeries)> = Vec::new();
    for c in scenarios {
        match prepare_prices(c, prices) {
            Ok(p) if p.len() >= 3 => bases.push((study_scenario(c.clone(), study), p)),
            Ok(_) | Err(SimError::NoBars) => skipped.push(format!(
                "{}: its dates ({} .. {}) are not in the data ({} .. {})",
                c.name,
                c.start.as_deref().unwrap_or("start"),
                c.end.as_deref().unwrap_or("end"),
                crate::prices::format_timestamp(prices.timestamps.first().copied().unwrap_or(0)),
                crate::prices::format_timestamp(prices.timestamps.last().copied().unwrap_or(0)),
            )),
            Err(e) => return Err(format!("{}: {e}", c.name)),
        }
    }
    Ok((bases, skipped))
}

/// Runs the jobs on `jobs` threads; their outputs in job order.
fn run_jobs(
    study: &StudyConfig,
    bases: &[(SimConfig, PriceSeries)],
    engine: &EngineConfig,
    work: &[Job],
    jobs: usize,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<Vec<JobOut>, String> {
    let total = work.len() as u64;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::atomic::AtomicU64::new(0);
    type Slot = std::sync::Mutex<Option<Result<JobOut, String>>>;
    let slots: Vec<Slot> = work.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(j) = work.get(i) else { break };
                let (base, src) = &bases[j.sc];
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    job(study, base, src, engine, j)
                }))
                .unwrap_or_else(|_| Err(format!("{} path {}: internal error", base.name, j.path)));
                if let Ok(mut g) = slots[i].lock() {
                    *g = Some(r);
                }
                let d = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                progress(d, total);
            });
        }
    });
    let mut outs: Vec<JobOut> = Vec::with_capacity(work.len());
    for s in slots {
        outs.push(
            s.into_inner()
                .map_err(|_| "a worker panicked".to_string())?
                .ok_or("a path did not run")??,
        );
    }
    Ok(outs)
}

/// The chain-resolution block length `k`'s substeps and description.
fn chain_block_length(
    study: &StudyConfig,
    src: &PriceSeries,
    engine: &EngineConfig,
    k: usize,
    paths: u32,
) -> (u32, Option<ChainInfo>) {
    let c = study.chain.clone().unwrap_or_default();
    let windows: Vec<_> = (0..paths as usize)
        .filter_map(|w| chain_window(src, &c, engine, w))
        .collect();
    let first = windows.first();
    let dt = src.typical_bar_seconds().max(1);
    let info = ChainInfo {
        stress_bars: windows
            .iter()
            .map(|(_, _, ts)| crate::prices::format_timestamp(*ts))
            .collect(),
        warmup_block_seconds: dt / u64::from(c.warmup_substeps.max(1)),
        window_bars: first.map_or(0, |w| w.1.window_bars),
        keeper_latency_blocks: c.keeper_latency_blocks,
        keeper_txs_per_block: c.keeper_txs_per_block,
        adversarial_ordering: c.adversarial_ordering,
        chain_blocks_per_path: first.map_or(0, |w| w.1.window_bars * u64::from(w.1.substeps)),
        control_substeps: c.control_substeps.filter(|_| k > study.substeps.len()),
    };
    match info.control_substeps {
        Some(ks) => (ks, Some(info)),
        None => (first.map_or(0, |w| w.1.substeps), Some(info)),
    }
}

/// A scenario's results at one block length, from its paths' outputs.
#[expect(
    clippy::cast_possible_truncation,
    reason = "path counts ≤ the configured paths (a u32)"
)]
fn scenario_study(
    base: &SimConfig,
    src: &PriceSeries,
    substeps: u32,
    chain: Option<ChainInfo>,
    mine: &[&JobOut],
) -> ScenarioStudy {
    let mut attacker: BTreeMap<String, i128> = BTreeMap::new();
    let mut best: BTreeMap<String, i128> = BTreeMap::new();
    for o in mine {
        for (kd, &v) in &o.attacker {
            *attacker.entry(kd.clone()).or_default() += v;
            let b = best.entry(kd.clone()).or_insert(i128::MIN);
            *b = (*b).max(v);
        }
    }
    let mut designs = Vec::new();
    let names: Vec<(String, String)> = std::iter::once((
        "azex".to_string(),
        "engine: vault capacity on the net exposure (docs/protocol.md)".to_string(),
    ))
    .chain(
        Design::ALL
            .iter()
            .map(|d| (d.name().to_string(), d.rule().to_string())),
    )
    .collect();
    for (di, (n, rule)) in names.iter().enumerate() {
        let paths: Vec<PathResult> = mine.iter().map(|o| o.designs[di].clone()).collect();
        designs.push(summarise(n, rule, paths));
    }
    let imb: Vec<f64> = mine.iter().map(|o| f64::from(o.imbalance_bps)).collect();
    ScenarioStudy {
        scenario: base.name.clone(),
        substeps,
        block_seconds: mine.first().map_or(0, |o| o.block_seconds),
        paths: mine.len() as u32,
        bars_per_path: mine.first().map_or(0, |o| o.bars),
        data: src.source.clone(),
        imbalance_bps: Dist::of(&imb),
        attacker_pnl_usd: attacker,
        attacker_best_path_pnl_usd: best,
        designs,
        chain,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bracketed_bisection_finds_the_threshold() {
        for threshold in [3_000u64, 250_000, 7_700_000, 90_000_000] {
            let mut calls = 0;
            let c = bracketed(threshold / 2, 10, 1_000_000_000, 7, |c| {
                calls += 1;
                c >= threshold
            });
            assert!(calls <= 7);
            assert!(c >= threshold, "{c} < {threshold}");
            // a factor 64 narrowed by 6 probes: within 7 %
            assert!(c as f64 <= threshold as f64 * 1.07, "{c} vs {threshold}");
        }
        assert_eq!(
            bisect(1, 1_000, 20, |_| false),
            1_000,
            "nothing passes: the top"
        );
    }

    #[test]
    fn dist_median_p95_worst() {
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        let d = Dist::of(&v);
        assert_eq!((d.median, d.p95, d.worst), (10.0, 19.0, 20.0));
    }
}
