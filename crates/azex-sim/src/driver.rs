//! The simulation loop.
//!
//! Each data bar becomes `substeps` blocks (see [`crate::prices::intrabar_path`]); block `j`
//! (0-based) of bar `t` has timestamp `t_open + (j + 1) × bar_seconds / substeps` and the
//! path's `j`-th price. Per block:
//!
//! 1. `begin_block(height, timestamp)` (height starts at 1);
//!    in the first block the genesis LP deposit (`genesis_vault_usd`) is made;
//! 2. the arbitrageur moves every spot pool to the data price;
//! 3. trading phase: agents whose wake-up step has come act, in (step, id) order;
//! 4. keeper phase: every keeper acts, in an order shuffled per block by the driver's stream;
//! 5. `end_block()`; fills and the risk snapshot feed the baselines and the metrics.
//!
//! Randomness: agent `i` draws from `ChaCha8Rng::seed_from_u64(seed)` on stream `i + 1`; the
//! population builder and the driver use their own streams. Nothing reads a clock, and maps
//! are ordered, so the same seed, data and venue give byte-identical JSON.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};
use std::io::IsTerminal;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::agents::{Agent, AgentKind, Population, PopulationConfig};
use crate::baselines::{CounterpartyPool, ModelKind};
use crate::metrics::*;
use crate::prices::{
    detect_crash_windows, fixed_crash_windows, format_timestamp, intrabar_path_into,
    parse_timestamp, CrashWindow, PriceSeries,
};
use crate::types::*;
use crate::units::*;
use crate::venue::{
    Fill, FillKind, MarketInfo, Outcome, RejectKind, Rejection, RiskSnapshot, Venue,
};

/// How crash windows are chosen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CrashConfig {
    /// How many of the largest basket declines to detect.
    pub detect: u32,
    /// Longest peak-to-trough span considered (days).
    pub horizon_days: u32,
    /// Also report the documented calendar windows (Jan-Feb 2018, Nov 2018) that fall inside
    /// the data.
    pub fixed: bool,
}

impl Default for CrashConfig {
    fn default() -> Self {
        CrashConfig {
            detect: 3,
            horizon_days: 30,
            fixed: true,
        }
    }
}

/// One scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// Scenario name.
    pub name: String,
    /// One-line description for reports.
    pub description: String,
    /// Seed of the population and agents' random streams.
    pub seed: u64,
    /// Blocks per data bar.
    pub substeps: u32,
    /// First bar to use (`YYYY-MM-DD[ HH:MM:SS]` UTC or Unix seconds), inclusive.
    pub start: Option<String>,
    /// Bars before this time are used.
    pub end: Option<String>,
    /// Most bars to simulate (from `start`).
    pub max_bars: Option<u64>,
    /// Symbols to trade (default: all in the data).
    pub symbols: Option<Vec<String>>,
    /// The agents.
    pub population: PopulationConfig,
    /// Deposited into the LP vault in the first block (whole USD).
    pub genesis_vault_usd: u64,
    /// Reserve factor of the reserve-factor baseline (bps).
    pub reserve_factor_bps: u32,
    /// Starting capital of the reserve-factor pool (whole USD); default: the AZEx vault's NAV
    /// after the first block, i.e. the same LP capital.
    pub reserve_pool_capital_usd: Option<u64>,
    /// Crash windows to report drawdowns for.
    pub crash: CrashConfig,
    /// Points per chart series.
    pub chart_points: u32,
    /// Spot depth of this scenario's pools, replacing the engine configuration's (e.g. a
    /// long-tail listing with a concentrated-liquidity profile). `None`: the engine's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depth: Option<crate::engine_venue::DepthConfig>,
    /// Chain-resolution stress window ([`ChainMode`]). `None`: every bar at `substeps`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain: Option<ChainMode>,
}

/// The chain-resolution stress mode of a run: bars `window_start_bar .. window_start_bar +
/// window_bars` run at `substeps` blocks per bar (900 = 2-second chain blocks on 30-minute bars),
/// the other bars (the warm-up) at the scenario's `substeps` (which must divide it). The engine
/// then runs with the production per-block parameters ([`crate::EngineConfig::chain_params`]:
/// 50 ticks of oracle move per block, the 60 s TWAP window). Inside the window:
///
/// - **keeper latency**: keepers act on the liquidatable lists they saw `keeper_latency_blocks`
///   blocks earlier (a position that became liquidatable since is not yet seen);
/// - **keeper transactions per block**: at most `keeper_txs_per_block` liquidation transactions
///   in a block, all keepers together (rejected ones count: they take block space);
/// - **adversarial ordering** (`adversarial_ordering`): after the block's opening arbitrage,
///   adversaries' transactions come first, then the other traders', keepers' last, and nobody
///   arbitrages the pools back before the block ends (the venue's `arbitrage_at_block_end` is
///   off for the whole run), so a push survives into the next block's oracle reading.
///
/// Agents' clocks run at the window's resolution throughout (a warm-up block covers
/// `substeps / scenario substeps` agent steps), so their activity per hour is the same in and out
/// of the window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChainMode {
    /// Blocks per bar inside the window.
    pub substeps: u32,
    /// First bar of the window.
    pub window_start_bar: u64,
    /// Bars in the window.
    pub window_bars: u64,
    /// Keepers' view lags this many blocks.
    pub keeper_latency_blocks: u32,
    /// Most liquidation transactions per block, all keepers together.
    pub keeper_txs_per_block: u32,
    /// Adversaries first, keepers last, no end-of-block arbitrage.
    pub adversarial_ordering: bool,
}

impl Default for ChainMode {
    fn default() -> Self {
        ChainMode {
            substeps: 900,
            window_start_bar: 0,
            window_bars: 1,
            keeper_latency_blocks: 3,
            keeper_txs_per_block: 8,
            adversarial_ordering: true,
        }
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            name: "default".into(),
            description: String::new(),
            seed: 1,
            substeps: 4,
            start: None,
            end: None,
            max_bars: None,
            symbols: None,
            population: PopulationConfig::default(),
            genesis_vault_usd: 5_000_000,
            reserve_factor_bps: 9_000,
            reserve_pool_capital_usd: None,
            crash: CrashConfig::default(),
            chart_points: 1500,
            depth: None,
            chain: None,
        }
    }
}

/// Driver options that do not affect results.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Never draw a progress bar (it is also hidden when stderr is not a terminal).
    pub quiet: bool,
    /// Draw the progress bar inside this group (several runs in parallel).
    pub progress: Option<indicatif::MultiProgress>,
}

/// Why a run could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The price data could not be loaded.
    #[error("prices: {0}")]
    Prices(#[from] crate::prices::PriceError),
    /// An invalid configuration.
    #[error("config: {0}")]
    Config(String),
    /// A venue market whose symbol is not in the price data.
    #[error("venue market {0} has no price data")]
    UnknownSymbol(String),
    /// The selection left no bar.
    #[error("no bars to simulate")]
    NoBars,
    /// A fatal venue error.
    #[error("venue: {0}")]
    Venue(String),
}

/// Applies the config's symbol selection and time window to `prices`. Build the venue from the
/// result (its markets must be these symbols). Idempotent.
#[expect(
    clippy::cast_possible_truncation,
    reason = "64-bit targets: u64 → usize is lossless"
)]
pub fn prepare_prices(cfg: &SimConfig, prices: &PriceSeries) -> Result<PriceSeries, SimError> {
    let parse = |s: &Option<String>| -> Result<Option<u64>, SimError> {
        s.as_deref()
            .map(|v| parse_timestamp(v).map_err(|e| SimError::Config(format!("{v}: {e}"))))
            .transpose()
    };
    let mut p = match &cfg.symbols {
        Some(s) => prices.select(s).map_err(SimError::Config)?,
        None => prices.clone(),
    };
    p = p.slice(
        parse(&cfg.start)?,
        parse(&cfg.end)?,
        cfg.max_bars.map(|m| m as usize),
    );
    if p.is_empty() {
        return Err(SimError::NoBars);
    }
    Ok(p)
}

/// Runs a scenario against a venue, with a progress bar on a terminal.
pub fn run<V: Venue>(
    cfg: &SimConfig,
    prices: &PriceSeries,
    venue: &mut V,
) -> Result<SimResult, SimError> {
    run_with(cfg, prices, venue, &RunOptions::default())
}

/// Runs a scenario on a fresh [`crate::EngineVenue`] (the real exchange state machine) built
/// from the prices.
pub fn run_engine(
    cfg: &SimConfig,
    prices: &PriceSeries,
    engine: crate::engine_venue::EngineConfig,
    opts: &RunOptions,
) -> Result<SimResult, SimError> {
    let p = prepare_prices(cfg, prices)?;
    let mut v =
        crate::engine_venue::EngineVenue::for_run(engine, cfg, &p).map_err(SimError::Venue)?;
    run_with(cfg, &p, &mut v, opts)
}

#[derive(Default, Clone)]
struct KindAcc {
    count: u32,
    activations: u64,
    actions: u64,
    accepted: u64,
}

struct Exec {
    stats: ActionStats,
    rejected_opens: u64,
    rejected_open_volume: u128,
    lp_net_deposits: i128,
}

/// `action` with its batch references resolved against the positions `opened` earlier in the
/// batch and its wallet-relative swaps sized from `wallet`; `None` when it refers to nothing
/// (the action is skipped).
#[expect(clippy::cast_sign_loss, reason = "b > 0 is checked first")]
fn resolve_action(action: &Action, opened: &[PositionId], wallet: &Wallet) -> Option<Action> {
    let resolve = |r: PosRef| -> Option<PosRef> {
        match r {
            PosRef::Id(_) => Some(r),
            PosRef::Batch(i) => opened.get(i as usize).map(|&id| PosRef::Id(id)),
        }
    };
    match *action {
        Action::Close { position } => resolve(position).map(|position| Action::Close { position }),
        Action::Reduce {
            position,
            fraction_bps,
        } => resolve(position).map(|position| Action::Reduce {
            position,
            fraction_bps,
        }),
        Action::AddMargin {
            position,
            amount_usd,
        } => resolve(position).map(|position| Action::AddMargin {
            position,
            amount_usd,
        }),
        Action::SpotSwap {
            market,
            kind: SwapKind::SellAll,
        } => {
            let b = wallet.base.get(market).copied().unwrap_or(0);
            (b > 0).then_some(Action::SpotSwap {
                market,
                kind: SwapKind::SellBase { base_in: b as u128 },
            })
        }
        Action::SpotSwap {
            market,
            kind: SwapKind::Cover,
        } => {
            let b = wallet.base.get(market).copied().unwrap_or(0);
            (b < 0).then_some(Action::SpotSwap {
                market,
                kind: SwapKind::BuyExactBase {
                    base_out: b.unsigned_abs(),
                },
            })
        }
        other => Some(other),
    }
}

/// Books an accepted action's outcome in the owner's wallet and the run's tallies.
#[expect(
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap,
    reason = "the result is clamped ≥ 0; share counts (WAD) are far below 2^127"
)]
fn book_accepted(
    action: &Action,
    o: &Outcome,
    wallet: &mut Wallet,
    ex: &mut Exec,
    opened: &mut Vec<PositionId>,
) {
    wallet.usd += o.usd_delta;
    if let Some(m) = o.base_market {
        if wallet.base.len() <= m {
            wallet.base.resize(m + 1, 0);
        }
        wallet.base[m] += o.base_delta;
    }
    wallet.lp_shares = (wallet.lp_shares as i128 + o.shares_delta).max(0) as u128;
    match action {
        Action::Open { .. } => {
            if let Some(id) = o.position {
                opened.push(id);
            }
        }
        Action::LpDeposit { .. } | Action::LpWithdraw { .. } => ex.lp_net_deposits -= o.usd_delta,
        _ => {}
    }
}

/// Counts a rejected action (by rejection kind; capacity-refused opens also by volume).
fn book_rejected(action: &Action, r: &Rejection, ex: &mut Exec) {
    if let (Action::Open { notional_usd, .. }, RejectKind::InsufficientLiquidity) = (action, r.kind)
    {
        ex.rejected_opens += 1;
        ex.rejected_open_volume += notional_usd;
    }
    let key = serde_json::to_value(r.kind)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    *ex.stats.rejected.entry(key).or_default() += 1;
}

/// Submits `owner`'s batch of actions in order, resolving batch references as positions open.
fn execute<V: Venue>(
    venue: &mut V,
    owner: AgentId,
    actions: &[Action],
    wallet: &mut Wallet,
    ex: &mut Exec,
    acc: &mut KindAcc,
) {
    let mut opened: Vec<PositionId> = Vec::new();
    for a in actions {
        acc.actions += 1;
        let Some(action) = resolve_action(a, &opened, wallet) else {
            ex.stats.skipped += 1;
            continue;
        };
        ex.stats.submitted += 1;
        match venue.submit(owner, &action) {
            Ok(o) => {
                ex.stats.accepted += 1;
                acc.accepted += 1;
                book_accepted(&action, &o, wallet, ex, &mut opened);
            }
            Err(r) => book_rejected(&action, &r, ex),
        }
    }
}

/// Runs a scenario against a venue. `prices` is passed through [`prepare_prices`] first; the
/// venue's markets must be among its symbols.
pub fn run_with<V: Venue>(
    cfg: &SimConfig,
    prices: &PriceSeries,
    venue: &mut V,
    opts: &RunOptions,
) -> Result<SimResult, SimError> {
    run_with_agents(cfg, prices, venue, opts, Vec::new())
}

/// [`run_with`] with `extra` agents after the scenario's population (e.g. the optimising
/// attackers of the attack search); `extra[i]` must have id `population size + i`, and the
/// venue must fund those accounts too.
pub fn run_with_agents<V: Venue>(
    cfg: &SimConfig,
    prices: &PriceSeries,
    venue: &mut V,
    opts: &RunOptions,
    extra: Vec<Box<dyn Agent>>,
) -> Result<SimResult, SimError> {
    let mut run = Run::new(cfg, prices, venue, extra)?;
    let pb = progress_bar(cfg, opts, run.shape.total_blocks);
    for t in 0..run.shape.nbars {
        if let Err(e) = run.bar(t, &pb) {
            pb.finish_and_clear();
            return Err(e);
        }
    }
    pb.finish_and_clear();
    Ok(run.finish())
}

/// The progress bar of a run (hidden when `quiet` or stderr is not a terminal).
fn progress_bar(cfg: &SimConfig, opts: &RunOptions, total_blocks: u64) -> indicatif::ProgressBar {
    if opts.quiet || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new(total_blocks);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{prefix:>18} [{elapsed_precise}] {wide_bar} {pos}/{len} blocks ({eta})",
    ) {
        pb.set_style(style);
    }
    pb.set_prefix(cfg.name.clone());
    match &opts.progress {
        Some(mp) => mp.add(pb),
        None => pb,
    }
}

/// The fixed shape of a run: blocks per bar in and out of the chain window, totals, the agents'
/// clock and the window's keeper limits.
struct Shape {
    /// Blocks per bar outside the chain window.
    k: u32,
    /// Blocks per bar inside the chain window, and agent steps per bar everywhere.
    kf: u32,
    /// The chain window: bars `w0 .. w1`.
    w0: usize,
    w1: usize,
    nbars: usize,
    total_steps: u64,
    total_blocks: u64,
    bar_secs: u64,
    steps_per_hour: u32,
    keeper_latency: usize,
    keeper_budget: usize,
    adversarial: bool,
}

impl Shape {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "bar indexes and counts of an in-memory series; steps per hour ≤ 3600 × substeps"
    )]
    fn new(cfg: &SimConfig, series: &PriceSeries) -> Result<Self, SimError> {
        let k = cfg.substeps.max(1);
        let nbars = series.len();
        // Chain-resolution window: bars [w0, w1) at `kf` blocks per bar; agents' clock at `kf`
        // steps per bar everywhere (a block of a bar at `k` covers `kf / k` steps).
        let (kf, w0, w1) = match &cfg.chain {
            Some(c) => {
                let kf = c.substeps.max(1);
                if kf % k != 0 {
                    return Err(SimError::Config(format!(
                        "chain.substeps {kf} is not a multiple of substeps {k}"
                    )));
                }
                let w0 = (c.window_start_bar as usize).min(nbars);
                (kf, w0, w0.saturating_add(c.window_bars as usize).min(nbars))
            }
            None => (k, 0, 0),
        };
        let bar_secs = series.typical_bar_seconds().max(1);
        Ok(Shape {
            k,
            kf,
            w0,
            w1,
            nbars,
            total_steps: nbars as u64 * u64::from(kf),
            total_blocks: (nbars - (w1 - w0)) as u64 * u64::from(k)
                + (w1 - w0) as u64 * u64::from(kf),
            bar_secs,
            steps_per_hour: ((3600 * u64::from(kf)) / bar_secs).max(1) as u32,
            keeper_latency: cfg
                .chain
                .as_ref()
                .map_or(0, |c| c.keeper_latency_blocks as usize),
            keeper_budget: cfg
                .chain
                .as_ref()
                .map_or(usize::MAX, |c| c.keeper_txs_per_block as usize),
            adversarial: cfg.chain.as_ref().is_some_and(|c| c.adversarial_ordering),
        })
    }

    fn in_window(&self, t: usize) -> bool {
        t >= self.w0 && t < self.w1
    }
}

/// The agents with their random streams, wake-up queue, wallets and per-kind tallies.
struct Actors {
    agents: Vec<Box<dyn Agent>>,
    rngs: Vec<ChaCha8Rng>,
    /// The driver's own stream (keeper order).
    driver_rng: ChaCha8Rng,
    /// `(wake-up step, agent)`, earliest first.
    heap: BinaryHeap<Reverse<(u64, u32)>>,
    /// The keepers, in this block's (shuffled) order.
    keeper_order: Vec<usize>,
    kinds: Vec<AgentKind>,
    kind_acc: BTreeMap<AgentKind, KindAcc>,
    wallets: Vec<Wallet>,
    /// Agents woken in the current block (reused buffer).
    woken: Vec<usize>,
}

impl Actors {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "agent index < agent count (a u32)"
    )]
    fn new(
        cfg: &SimConfig,
        shape: &Shape,
        nm: usize,
        extra: Vec<Box<dyn Agent>>,
    ) -> Result<Self, SimError> {
        let mut agents: Vec<Box<dyn Agent>> = Population::build(
            &cfg.population,
            nm,
            shape.steps_per_hour,
            shape.total_steps,
            cfg.seed,
        );
        for (i, a) in extra.into_iter().enumerate() {
            if a.id() as usize != agents.len() {
                return Err(SimError::Config(format!(
                    "extra agent {i} has id {}, expected {}",
                    a.id(),
                    agents.len()
                )));
            }
            agents.push(a);
        }
        let na = agents.len();
        let mut rngs: Vec<ChaCha8Rng> = (0..na)
            .map(|i| {
                let mut r = ChaCha8Rng::seed_from_u64(cfg.seed);
                r.set_stream(i as u64 + 1);
                r
            })
            .collect();
        let mut driver_rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        driver_rng.set_stream(u64::MAX);
        let mut heap: BinaryHeap<Reverse<(u64, u32)>> = BinaryHeap::new();
        for (i, a) in agents.iter_mut().enumerate() {
            let w = a.first_wake(&mut rngs[i]);
            if w != u64::MAX {
                heap.push(Reverse((w, i as u32)));
            }
        }
        let keeper_order: Vec<usize> = (0..na).filter(|&i| agents[i].is_keeper()).collect();
        let kinds: Vec<AgentKind> = agents.iter().map(|a| a.kind()).collect();
        let mut kind_acc: BTreeMap<AgentKind, KindAcc> = Default::default();
        for &kd in &kinds {
            kind_acc.entry(kd).or_default().count += 1;
        }
        let wallets = (0..na).map(|_| empty_wallet(nm)).collect();
        Ok(Actors {
            agents,
            rngs,
            driver_rng,
            heap,
            keeper_order,
            kinds,
            kind_acc,
            wallets,
            woken: Vec::new(),
        })
    }

    /// Moves the agents whose wake-up step is at or before `step` into `woken`, in (step, id)
    /// order; adversaries first when `adversaries_first`.
    fn wake(&mut self, step: u64, adversaries_first: bool) {
        self.woken.clear();
        while let Some(&Reverse((s, i))) = self.heap.peek() {
            if s > step {
                break;
            }
            self.heap.pop();
            self.woken.push(i as usize);
        }
        if adversaries_first {
            let kinds = &self.kinds;
            self.woken.sort_by_key(|&i| !kinds[i].is_adversary());
        }
    }
}

fn empty_wallet(nm: usize) -> Wallet {
    Wallet {
        base: vec![0; nm],
        ..Default::default()
    }
}

/// The block being run: its bar, position in the bar and clock.
#[derive(Clone, Copy)]
struct BlockCtx {
    /// Index of the block within its bar (selects the intrabar price).
    j: usize,
    /// Whether the bar is in the chain window.
    win: bool,
    height: u64,
    timestamp: u64,
    /// The last agent step this block covers.
    step: u64,
}

/// Per-block figures accumulated for the metrics, the baselines and the charts.
struct Tracks {
    classic: CounterpartyPool,
    /// The reserve-factor pool, created after the first block (its capital defaults to the
    /// AZEx vault's NAV then).
    rf: Option<CounterpartyPool>,
    t_azex: ModelTrack,
    t_classic: ModelTrack,
    t_rf: ModelTrack,
    step_ts: Vec<u64>,
    azex_nav0: Option<i128>,
    share0: Option<i128>,
    // market stats
    peak_l: Vec<u128>,
    peak_s: Vec<u128>,
    imb_sum: Vec<u128>,
    imb_n: Vec<u64>,
    // headline: AZEx requirement vs max(L, S) on the venue's own OI
    h_req: u128,
    h_classic: u128,
    h_net: u128,
    h_gross: u128,
    h_req_peak: u128,
    h_classic_peak: u128,
    // charts
    stride: u64,
    ch: ChartSeries,
    /// `(block, [azex NAV, classic LP PnL, reserve-factor pool value])` at each chart point
    /// (the classic capital is known only at the end).
    chart_raw: Vec<(usize, [i128; 3])>,
    last_risk: RiskSnapshot,
}

impl Tracks {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "capacity hint for an in-memory series"
    )]
    fn new(cfg: &SimConfig, nm: usize, total_blocks: u64) -> Self {
        Tracks {
            classic: CounterpartyPool::new(ModelKind::Classic, nm),
            rf: None,
            t_azex: ModelTrack::default(),
            t_classic: ModelTrack::default(),
            t_rf: ModelTrack::default(),
            step_ts: Vec::with_capacity(total_blocks as usize),
            azex_nav0: None,
            share0: None,
            peak_l: vec![0; nm],
            peak_s: vec![0; nm],
            imb_sum: vec![0; nm],
            imb_n: vec![0; nm],
            h_req: 0,
            h_classic: 0,
            h_net: 0,
            h_gross: 0,
            h_req_peak: 0,
            h_classic_peak: 0,
            stride: (total_blocks / u64::from(cfg.chart_points.max(1))).max(1),
            ch: ChartSeries {
                data_price: vec![Vec::new(); nm],
                mark_price: vec![Vec::new(); nm],
                long_oi: vec![Vec::new(); nm],
                short_oi: vec![Vec::new(); nm],
                required: vec![Vec::new(); 3],
                available: vec![Vec::new(); 3],
                value_index: vec![Vec::new(); 3],
                drawdown: vec![Vec::new(); 3],
                ..Default::default()
            },
            chart_raw: Vec::new(),
            last_risk: RiskSnapshot::default(),
        }
    }

    /// Feeds a block's fills and risk to the baselines and records the block's figures.
    /// `prices[m]` is market `m`'s data price in this block.
    #[allow(clippy::too_many_arguments)]
    #[expect(
        clippy::cast_sign_loss,
        clippy::cast_possible_truncation,
        clippy::cast_possible_wrap,
        reason = "amounts (micro-azUSD) and share prices (WAD) are far below 2^127; block index of an in-memory run"
    )]
    fn record_block(
        &mut self,
        cfg: &SimConfig,
        nm: usize,
        fills: &[Fill],
        risk: RiskSnapshot,
        lp_net_deposits: i128,
        block_ix: u64,
        total_blocks: u64,
        ts: u64,
        prices: impl Fn(usize) -> u128,
    ) {
        if self.azex_nav0.is_none() {
            self.azex_nav0 = Some(risk.vault_nav_usd);
            let cap = cfg
                .reserve_pool_capital_usd
                .map(|c| usd(c) as i128)
                .unwrap_or(risk.vault_nav_usd)
                .max(0) as u128;
            self.rf = Some(CounterpartyPool::new(
                ModelKind::ReserveFactor {
                    reserve_factor_bps: cfg.reserve_factor_bps,
                    capital_usd: cap,
                },
                nm,
            ));
        }
        self.classic.on_block(fills, &risk.markets);
        let rfp = self.rf.as_mut().expect("created above");
        rfp.on_block(fills, &risk.markets);

        let oi: u128 = risk
            .markets
            .iter()
            .map(|m| m.long_notional_usd + m.short_notional_usd)
            .sum();
        let sp = share_price_wad(risk.vault_nav_usd, risk.vault_shares) as i128;
        if self.share0.is_none() && sp > 0 {
            self.share0 = Some(sp);
        }
        self.t_azex.record(
            risk.required_usd,
            oi,
            risk.vault_nav_usd,
            sp,
            risk.vault_nav_usd - lp_net_deposits,
        );
        let c_req = self.classic.required_usd();
        let c_pnl = self.classic.lp_pnl_usd();
        self.t_classic
            .record(c_req, self.classic.gross_oi_usd(), i128::MAX, c_pnl, c_pnl);
        let r_req = rfp.required_usd();
        let r_val = rfp.pool_value_usd();
        self.t_rf
            .record(r_req, rfp.gross_oi_usd(), r_val, r_val, r_val);
        self.record_markets(&risk);
        self.step_ts.push(ts);
        if block_ix % self.stride == 0 || block_ix + 1 == total_blocks {
            self.ch.timestamps.push(ts);
            for (m, r) in risk.markets.iter().enumerate() {
                self.ch.data_price[m].push(wad_to_f64(prices(m)));
                self.ch.mark_price[m].push(wad_to_f64(r.mark_price));
                self.ch.long_oi[m].push(usd_to_f64(r.long_notional_usd as i128));
                self.ch.short_oi[m].push(usd_to_f64(r.short_notional_usd as i128));
            }
            self.chart_raw
                .push((block_ix as usize, [risk.vault_nav_usd, c_pnl, r_val]));
            self.ch.required[0].push(usd_to_f64(risk.required_usd as i128));
            self.ch.required[1].push(usd_to_f64(c_req as i128));
            self.ch.required[2].push(usd_to_f64(r_req as i128));
        }
        self.last_risk = risk;
    }

    /// The headline sums and the per-market peaks and imbalance.
    fn record_markets(&mut self, risk: &RiskSnapshot) {
        let (mut c, mut n, mut g) = (0u128, 0u128, 0u128);
        for r in &risk.markets {
            c += r.long_notional_usd.max(r.short_notional_usd);
            n += r.long_notional_usd.abs_diff(r.short_notional_usd);
            g += r.long_notional_usd + r.short_notional_usd;
        }
        self.h_req += risk.required_usd;
        self.h_classic += c;
        self.h_net += n;
        self.h_gross += g;
        self.h_req_peak = self.h_req_peak.max(risk.required_usd);
        self.h_classic_peak = self.h_classic_peak.max(c);
        for (m, r) in risk.markets.iter().enumerate() {
            self.peak_l[m] = self.peak_l[m].max(r.long_notional_usd);
            self.peak_s[m] = self.peak_s[m].max(r.short_notional_usd);
            let g = r.long_notional_usd + r.short_notional_usd;
            if let Some(imb) =
                (r.long_notional_usd.abs_diff(r.short_notional_usd) * 10_000).checked_div(g)
            {
                self.imb_sum[m] += imb;
                self.imb_n[m] += 1;
            }
        }
    }
}

/// A run in progress: the scenario, the venue and everything the loop carries from block to
/// block. [`run_with_agents`] builds it, calls [`Run::bar`] for every bar and [`Run::finish`].
struct Run<'a, V: Venue> {
    cfg: &'a SimConfig,
    series: PriceSeries,
    venue: &'a mut V,
    markets: Vec<MarketInfo>,
    /// `data_ix[m]`: the data symbol index of venue market `m`.
    data_ix: Vec<usize>,
    shape: Shape,
    actors: Actors,
    arb: Wallet,
    genesis: Wallet,
    ex: Exec,
    /// Tally of the genesis deposit (not an agent).
    genesis_acc: KindAcc,
    windows: Vec<CrashWindow>,
    tracks: Tracks,
    /// Per market: this bar's intrabar price path.
    paths: Vec<Vec<u128>>,
    obs_m: Vec<MarketObs>,
    /// Chain window: the markets as seen in the last blocks (keeper latency).
    keeper_hist: VecDeque<Vec<MarketObs>>,
    height: u64,
    block_ix: u64,
}

impl<'a, V: Venue> Run<'a, V> {
    /// Setup: prices, the run's shape, the agents, crash windows and the accumulators.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "crash horizon in bars of an in-memory series"
    )]
    fn new(
        cfg: &'a SimConfig,
        prices: &PriceSeries,
        venue: &'a mut V,
        extra: Vec<Box<dyn Agent>>,
    ) -> Result<Self, SimError> {
        let series = prepare_prices(cfg, prices)?;
        let markets = venue.markets();
        if markets.is_empty() {
            return Err(SimError::Config("venue has no markets".into()));
        }
        let data_ix: Vec<usize> = markets
            .iter()
            .map(|m| {
                series
                    .symbol_index(&m.symbol)
                    .ok_or_else(|| SimError::UnknownSymbol(m.symbol.clone()))
            })
            .collect::<Result<_, _>>()?;
        let nm = markets.len();
        let shape = Shape::new(cfg, &series)?;
        let actors = Actors::new(cfg, &shape, nm, extra)?;
        let mut windows = Vec::new();
        if cfg.crash.fixed {
            windows.extend(fixed_crash_windows(&series));
        }
        let horizon_bars = (u64::from(cfg.crash.horizon_days) * 86_400 / shape.bar_secs) as usize;
        windows.extend(detect_crash_windows(
            &series,
            horizon_bars,
            cfg.crash.detect as usize,
        ));
        let tracks = Tracks::new(cfg, nm, shape.total_blocks);
        Ok(Run {
            cfg,
            series,
            venue,
            markets,
            data_ix,
            shape,
            actors,
            arb: empty_wallet(nm),
            genesis: empty_wallet(nm),
            ex: Exec {
                stats: ActionStats::default(),
                rejected_opens: 0,
                rejected_open_volume: 0,
                lp_net_deposits: 0,
            },
            genesis_acc: KindAcc::default(),
            windows,
            tracks,
            paths: vec![Vec::new(); nm],
            obs_m: vec![MarketObs::default(); nm],
            keeper_hist: Default::default(),
            height: 0,
            block_ix: 0,
        })
    }

    /// Runs the blocks of bar `t`.
    fn bar(&mut self, t: usize, pb: &indicatif::ProgressBar) -> Result<(), SimError> {
        let win = self.shape.in_window(t);
        let kf = self.shape.kf;
        let kt = if win { kf } else { self.shape.k };
        let span = u64::from(kf / kt);
        for (m, path) in self.paths.iter_mut().enumerate() {
            intrabar_path_into(&self.series.bars[self.data_ix[m]][t], kt, path);
        }
        if !win {
            self.keeper_hist.clear();
        }
        let dt = self.series.bar_seconds(t);
        for j in 0..kt as usize {
            self.height += 1;
            let ctx = BlockCtx {
                j,
                win,
                height: self.height,
                timestamp: self.series.timestamps[t] + (j as u64 + 1) * dt / u64::from(kt),
                step: t as u64 * u64::from(kf) + (j as u64 + 1) * span - 1,
            };
            self.block(ctx)?;
            if self.block_ix % 512 == 0 {
                pb.set_position(self.block_ix);
            }
            self.block_ix += 1;
        }
        Ok(())
    }

    /// One block: open (genesis deposit, arbitrage), trading phase, keeper phase, close, then
    /// the block's figures.
    #[expect(
        clippy::cast_possible_wrap,
        reason = "payouts (micro-azUSD) are far below 2^127"
    )]
    fn block(&mut self, ctx: BlockCtx) -> Result<(), SimError> {
        self.venue.begin_block(ctx.height, ctx.timestamp);
        if self.block_ix == 0 && self.cfg.genesis_vault_usd > 0 {
            execute(
                self.venue,
                GENESIS_OWNER,
                &[Action::LpDeposit {
                    amount_usd: usd(self.cfg.genesis_vault_usd),
                }],
                &mut self.genesis,
                &mut self.ex,
                &mut self.genesis_acc,
            );
        }
        for (m, path) in self.paths.iter().enumerate() {
            if let Ok(o) = self.venue.arbitrage_spot_to(m, path[ctx.j]) {
                self.arb.usd += o.usd_delta;
                self.arb.base[m] += o.base_delta;
            }
        }
        self.observe_markets(ctx.j);
        let vault = self.venue.vault();
        let submitted_before = self.ex.stats.submitted;
        self.trading_phase(&ctx, &vault);
        if !self.actors.keeper_order.is_empty() {
            self.keeper_phase(&ctx, vault, submitted_before);
        }
        self.venue.end_block();
        for (m, o) in self.venue.take_extra_arbitrage() {
            self.arb.usd += o.usd_delta;
            if let Some(b) = self.arb.base.get_mut(m) {
                *b += o.base_delta;
            }
        }
        if let Some(e) = self.venue.error() {
            return Err(SimError::Venue(e));
        }
        let fills = self.venue.take_fills();
        let na = self.actors.wallets.len();
        for f in &fills {
            if matches!(f.kind, FillKind::Liquidation | FillKind::Adl) && (f.owner as usize) < na {
                self.actors.wallets[f.owner as usize].usd += f.owner_payout_usd as i128;
            }
        }
        let risk = self.venue.risk_snapshot();
        let paths = &self.paths;
        self.tracks.record_block(
            self.cfg,
            self.markets.len(),
            &fills,
            risk,
            self.ex.lp_net_deposits,
            self.block_ix,
            self.shape.total_blocks,
            ctx.timestamp,
            |m| paths[m][ctx.j],
        );
        Ok(())
    }

    /// Observes every market, with the data price of block `j` of the bar.
    fn observe_markets(&mut self, j: usize) {
        for (m, o) in self.obs_m.iter_mut().enumerate() {
            *o = self.venue.observe(m);
            o.data_price = self.paths[m][j];
        }
    }

    /// Trading phase: agents whose wake-up step has come act, in (step, id) order; in the chain
    /// window with adversarial ordering, adversaries first.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "agent index < agent count (a u32)"
    )]
    fn trading_phase(&mut self, ctx: &BlockCtx, vault: &VaultObs) {
        let a = &mut self.actors;
        a.wake(ctx.step, ctx.win && self.shape.adversarial);
        for &i in &a.woken {
            let own = self.venue.positions_of(i as AgentId);
            let obs = Observation {
                height: ctx.height,
                timestamp: ctx.timestamp,
                step: ctx.step,
                steps_per_hour: self.shape.steps_per_hour,
                phase: Phase::Trade,
                markets: &self.obs_m,
                vault,
                own_positions: &own,
                wallet: &a.wallets[i],
            };
            let actions = a.agents[i].decide(&obs, &mut a.rngs[i]);
            let acc = a.kind_acc.get_mut(&a.kinds[i]).unwrap();
            acc.activations += 1;
            if !actions.is_empty() {
                execute(
                    self.venue,
                    i as AgentId,
                    &actions,
                    &mut a.wallets[i],
                    &mut self.ex,
                    acc,
                );
            }
            let w = a.agents[i].next_wake(&mut a.rngs[i]);
            if w != u64::MAX {
                a.heap
                    .push(Reverse((ctx.step.saturating_add(w.max(1)), i as u32)));
            }
        }
    }

    /// Keeper phase: every keeper acts, in an order shuffled per block (re-observing first only
    /// if the trading phase submitted anything). In the chain window keepers see the lists of
    /// `keeper_latency` blocks ago and share a per-block transaction budget.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "agent index < agent count (a u32)"
    )]
    fn keeper_phase(&mut self, ctx: &BlockCtx, mut vault: VaultObs, submitted_before: u64) {
        if self.ex.stats.submitted != submitted_before {
            self.observe_markets(ctx.j);
            vault = self.venue.vault();
        }
        let latency = self.shape.keeper_latency;
        let seen: &[MarketObs] = if ctx.win && latency > 0 {
            self.keeper_hist.push_back(self.obs_m.clone());
            while self.keeper_hist.len() > latency + 1 {
                self.keeper_hist.pop_front();
            }
            self.keeper_hist
                .front()
                .map_or(&self.obs_m, |v| v.as_slice())
        } else {
            &self.obs_m
        };
        let mut budget = if ctx.win {
            self.shape.keeper_budget
        } else {
            usize::MAX
        };
        let a = &mut self.actors;
        a.keeper_order.shuffle(&mut a.driver_rng);
        for &i in &a.keeper_order {
            if budget == 0 {
                break;
            }
            let own = self.venue.positions_of(i as AgentId);
            let obs = Observation {
                height: ctx.height,
                timestamp: ctx.timestamp,
                step: ctx.step,
                steps_per_hour: self.shape.steps_per_hour,
                phase: Phase::Keep,
                markets: seen,
                vault: &vault,
                own_positions: &own,
                wallet: &a.wallets[i],
            };
            let mut actions = a.agents[i].decide(&obs, &mut a.rngs[i]);
            actions.truncate(budget);
            budget -= actions.len();
            let acc = a.kind_acc.get_mut(&a.kinds[i]).unwrap();
            acc.activations += 1;
            if !actions.is_empty() {
                execute(
                    self.venue,
                    i as AgentId,
                    &actions,
                    &mut a.wallets[i],
                    &mut self.ex,
                    acc,
                );
            }
        }
    }

    /// The metrics phase: models, charts, agents' and markets' summaries.
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_possible_wrap,
        reason = "amounts (micro-azUSD) and share prices (WAD) are far below 2^127; imbalance bps ≤ 10000; LP return in bps of a share price"
    )]
    fn finish(mut self) -> SimResult {
        let win_ix = self.window_indices();
        let last_risk = std::mem::take(&mut self.tracks.last_risk);
        let final_sp = share_price_wad(last_risk.vault_nav_usd, last_risk.vault_shares) as i128;
        let azex = self.azex_metrics(&last_risk, final_sp, &win_ix);
        let tr = &self.tracks;
        let rfp = tr.rf.as_ref().expect("at least one block ran");
        let classic_cap = tr.t_classic.required_peak as i128;
        let rf_cap = match rfp.kind {
            ModelKind::ReserveFactor { capital_usd, .. } => capital_usd as i128,
            _ => 0,
        };
        let m_classic =
            baseline_metrics("classic", &tr.classic, classic_cap, &tr.t_classic, &win_ix);
        let mut m_rf = baseline_metrics("reserve_factor", rfp, rf_cap, &tr.t_rf, &win_ix);
        m_rf.shortfall_blocks = tr.t_rf.shortfall_blocks;
        self.chart_capital(classic_cap);
        let (agents, arbitrageur_pnl_usd) = self.agent_pnl(final_sp);
        let markets = self.market_summaries(&last_risk);
        let cfg = self.cfg;
        let series = &self.series;
        let tr = &self.tracks;
        let h = Headline {
            azex_per_classic_avg: ratio6(tr.h_req, tr.h_classic),
            azex_per_classic_peak: ratio6(tr.h_req_peak, tr.h_classic_peak),
            net_per_classic_avg: ratio6(tr.h_net, tr.h_classic),
            imbalance_bps: (tr.h_net * 10_000).checked_div(tr.h_gross).unwrap_or(0) as u32,
        };
        SimResult {
            scenario: cfg.name.clone(),
            description: cfg.description.clone(),
            seed: cfg.seed,
            venue: self.venue.name(),
            data: DataSummary {
                source: series.source.clone(),
                symbols: self.markets.iter().map(|m| m.symbol.clone()).collect(),
                bars: self.shape.nbars as u64,
                substeps_per_bar: self.shape.k,
                blocks: self.shape.total_blocks,
                first: format_timestamp(series.timestamps[0]),
                last: format_timestamp(*series.timestamps.last().unwrap()),
                bar_seconds: self.shape.bar_secs,
                filled_bars: self.data_ix.iter().map(|&d| series.filled[d]).collect(),
            },
            crash_windows: self.windows,
            models: vec![azex, m_classic, m_rf],
            markets,
            agents,
            actions: self.ex.stats,
            arbitrageur_pnl_usd,
            headline: h,
            venue_info: self.venue.describe(),
            config: cfg.clone(),
            series: self.tracks.ch,
        }
    }

    /// Each crash window as `(label, first block, last block)`.
    fn window_indices(&self) -> Vec<(String, usize, usize)> {
        let step_ts = &self.tracks.step_ts;
        self.windows
            .iter()
            .map(|w| {
                let a = step_ts.partition_point(|&t| t < w.start_ts);
                let b = step_ts
                    .partition_point(|&t| t <= w.end_ts)
                    .saturating_sub(1);
                (w.label.clone(), a, b)
            })
            .collect()
    }

    #[expect(
        clippy::cast_possible_truncation,
        reason = "LP return in bps of the first share price"
    )]
    fn azex_metrics(
        &self,
        last_risk: &RiskSnapshot,
        final_sp: i128,
        win_ix: &[(String, usize, usize)],
    ) -> ModelMetrics {
        let mut azex = ModelMetrics {
            model: "azex".into(),
            capital_usd: self.tracks.azex_nav0.unwrap_or(0),
            deficits_usd: last_risk.deficits_usd,
            bad_debt_usd: last_risk.bad_debt_usd,
            adl_volume_usd: last_risk.adl_volume_usd,
            adl_count: last_risk.adl_count,
            liquidations: last_risk.liquidations,
            liquidation_volume_usd: last_risk.liquidation_volume_usd,
            fees_to_lp_usd: last_risk.fees_to_lp_usd,
            funding_to_lp_usd: last_risk.funding_to_lp_usd,
            lp_pnl_usd: last_risk.vault_nav_usd - self.ex.lp_net_deposits,
            lp_return_bps: match self.tracks.share0 {
                Some(s0) if s0 > 0 => ((final_sp - s0) * 10_000 / s0) as i64,
                _ => 0,
            },
            rejected_opens: self.ex.rejected_opens,
            rejected_volume_usd: self.ex.rejected_open_volume,
            ..ModelMetrics::default()
        };
        self.tracks.t_azex.finish_into(&mut azex, 0, win_ix);
        azex
    }

    /// The charts' available capital, value index and drawdown series (the classic pool's
    /// capital, its peak requirement, is known only now).
    fn chart_capital(&mut self, classic_cap: i128) {
        let tr = &mut self.tracks;
        for (_, vals) in &tr.chart_raw {
            let avail = [vals[0], classic_cap + vals[1], vals[2]];
            for (mi, &v) in avail.iter().enumerate() {
                tr.ch.available[mi].push(usd_to_f64(v));
            }
        }
        for (mi, track) in [&tr.t_azex, &tr.t_classic, &tr.t_rf].iter().enumerate() {
            let base = if mi == 1 { classic_cap } else { 0 };
            let mut peak = i128::MIN;
            let mut next = 0usize;
            let first = track
                .values
                .iter()
                .map(|v| v + base)
                .find(|v| *v > 0)
                .unwrap_or(1) as f64;
            for (s, &v) in track.values.iter().enumerate() {
                let v = v + base;
                peak = peak.max(v);
                if next < tr.chart_raw.len() && tr.chart_raw[next].0 == s {
                    tr.ch.value_index[mi].push(v as f64 / first);
                    tr.ch.drawdown[mi].push(if peak > 0 {
                        ((peak - v).max(0) as f64 / peak as f64).min(1.0)
                    } else {
                        0.0
                    });
                    next += 1;
                }
            }
        }
    }

    /// Agents' final wealth per kind (wallet, spot holdings and LP shares at the last prices,
    /// open positions' equity) and the arbitrageur's PnL.
    #[expect(
        clippy::cast_sign_loss,
        clippy::cast_possible_truncation,
        clippy::cast_possible_wrap,
        reason = "agent index < agent count (a u32); share price clamped ≥ 0; values (micro-azUSD) far below 2^127"
    )]
    fn agent_pnl(&self, final_sp: i128) -> (Vec<KindSummary>, i128) {
        let last_prices: Vec<u128> = self.paths.iter().map(|p| *p.last().unwrap_or(&0)).collect();
        let a = &self.actors;
        let mut pnl_by_kind: BTreeMap<AgentKind, i128> = Default::default();
        for (i, w) in a.wallets.iter().enumerate() {
            let mut v = w.usd;
            for (m, &b) in w.base.iter().enumerate() {
                v += mul_div_signed_floor(b, last_prices[m], NOTIONAL_DIV);
            }
            for p in self.venue.positions_of(i as AgentId) {
                v += p.equity_usd;
            }
            v += mul_div_floor(w.lp_shares, final_sp.max(0) as u128, NOTIONAL_DIV) as i128;
            *pnl_by_kind.entry(a.kinds[i]).or_default() += v;
        }
        let mut arb_pnl = self.arb.usd;
        for (m, &b) in self.arb.base.iter().enumerate() {
            arb_pnl += mul_div_signed_floor(b, last_prices[m], NOTIONAL_DIV);
        }
        let summary = a
            .kind_acc
            .iter()
            .map(|(k, acc)| KindSummary {
                kind: k.name().into(),
                count: acc.count,
                activations: acc.activations,
                actions: acc.actions,
                accepted: acc.accepted,
                pnl_usd: pnl_by_kind.get(k).copied().unwrap_or(0),
            })
            .collect();
        (summary, arb_pnl)
    }

    #[expect(
        clippy::cast_possible_truncation,
        reason = "mean imbalance ≤ 10000 bps"
    )]
    fn market_summaries(&self, last_risk: &RiskSnapshot) -> Vec<MarketSummary> {
        let tr = &self.tracks;
        let nbars = self.shape.nbars;
        (0..self.markets.len())
            .map(|m| MarketSummary {
                symbol: self.markets[m].symbol.clone(),
                first_price: fmt_wad(self.series.bars[self.data_ix[m]][0].open, 6),
                last_price: fmt_wad(self.series.bars[self.data_ix[m]][nbars - 1].close, 6),
                peak_long_oi_usd: tr.peak_l[m],
                peak_short_oi_usd: tr.peak_s[m],
                avg_imbalance_bps: if tr.imb_n[m] > 0 {
                    (tr.imb_sum[m] / u128::from(tr.imb_n[m])) as u32
                } else {
                    0
                },
                final_long_oi_usd: last_risk.markets[m].long_notional_usd,
                final_short_oi_usd: last_risk.markets[m].short_notional_usd,
            })
            .collect()
    }
}

/// The metrics of a baseline pool (`base`: the capital its value series is offset by, the
/// classic pool's).
#[expect(
    clippy::cast_possible_truncation,
    reason = "LP return in bps of the capital"
)]
fn baseline_metrics(
    name: &str,
    pool: &CounterpartyPool,
    capital: i128,
    track: &ModelTrack,
    win_ix: &[(String, usize, usize)],
) -> ModelMetrics {
    let t = &pool.totals;
    let pnl = pool.lp_pnl_usd();
    let mut m = ModelMetrics {
        model: name.into(),
        capital_usd: capital,
        deficits_usd: t.deficits_usd,
        bad_debt_usd: t.deficits_usd,
        liquidations: t.liquidations,
        liquidation_volume_usd: t.liquidation_volume_usd,
        fees_to_lp_usd: t.fees_usd,
        funding_to_lp_usd: t.funding_usd,
        lp_pnl_usd: pnl,
        lp_return_bps: if capital > 0 {
            (pnl * 10_000 / capital) as i64
        } else {
            0
        },
        rejected_opens: t.rejected_opens,
        rejected_volume_usd: t.rejected_volume_usd,
        ..ModelMetrics::default()
    };
    let base = if matches!(pool.kind, ModelKind::Classic) {
        capital
    } else {
        0
    };
    track.finish_into(&mut m, base, win_ix);
    m
}
