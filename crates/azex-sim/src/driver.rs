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
use std::collections::BinaryHeap;
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
    parse_timestamp, PriceSeries,
};
use crate::types::*;
use crate::units::*;
use crate::venue::{FillKind, RejectKind, RiskSnapshot, Venue};

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
    pub name: String,
    pub description: String,
    pub seed: u64,
    /// Blocks per data bar.
    pub substeps: u32,
    /// First bar to use (`YYYY-MM-DD[ HH:MM:SS]` UTC or Unix seconds), inclusive.
    pub start: Option<String>,
    /// Bars before this time are used.
    pub end: Option<String>,
    pub max_bars: Option<u64>,
    /// Symbols to trade (default: all in the data).
    pub symbols: Option<Vec<String>>,
    pub population: PopulationConfig,
    /// Deposited into the LP vault in the first block (whole USD).
    pub genesis_vault_usd: u64,
    /// Reserve factor of the reserve-factor baseline (bps).
    pub reserve_factor_bps: u32,
    /// Starting capital of the reserve-factor pool (whole USD); default: the AZEx vault's NAV
    /// after the first block, i.e. the same LP capital.
    pub reserve_pool_capital_usd: Option<u64>,
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
    pub substeps: u32,
    pub window_start_bar: u64,
    pub window_bars: u64,
    pub keeper_latency_blocks: u32,
    pub keeper_txs_per_block: u32,
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

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("prices: {0}")]
    Prices(#[from] crate::prices::PriceError),
    #[error("config: {0}")]
    Config(String),
    #[error("venue market {0} has no price data")]
    UnknownSymbol(String),
    #[error("no bars to simulate")]
    NoBars,
    #[error("venue: {0}")]
    Venue(String),
}

/// Applies the config's symbol selection and time window to `prices`. Build the venue from the
/// result (its markets must be these symbols). Idempotent.
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

#[allow(clippy::too_many_arguments)]
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
        let resolve = |r: PosRef| -> Option<PosRef> {
            match r {
                PosRef::Id(_) => Some(r),
                PosRef::Batch(i) => opened.get(i as usize).map(|&id| PosRef::Id(id)),
            }
        };
        let resolved = match *a {
            Action::Close { position } => {
                resolve(position).map(|position| Action::Close { position })
            }
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
        };
        let Some(action) = resolved else {
            ex.stats.skipped += 1;
            continue;
        };
        ex.stats.submitted += 1;
        match venue.submit(owner, &action) {
            Ok(o) => {
                ex.stats.accepted += 1;
                acc.accepted += 1;
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
                    Action::LpDeposit { .. } | Action::LpWithdraw { .. } => {
                        ex.lp_net_deposits -= o.usd_delta
                    }
                    _ => {}
                }
            }
            Err(r) => {
                if let (Action::Open { notional_usd, .. }, RejectKind::InsufficientLiquidity) =
                    (action, r.kind)
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
    let series = prepare_prices(cfg, prices)?;
    let vm = venue.markets();
    if vm.is_empty() {
        return Err(SimError::Config("venue has no markets".into()));
    }
    let data_ix: Vec<usize> = vm
        .iter()
        .map(|m| {
            series
                .symbol_index(&m.symbol)
                .ok_or_else(|| SimError::UnknownSymbol(m.symbol.clone()))
        })
        .collect::<Result<_, _>>()?;
    let nm = vm.len();
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
    let in_window = |t: usize| t >= w0 && t < w1;
    let total_steps = nbars as u64 * kf as u64;
    let total_blocks = (nbars - (w1 - w0)) as u64 * k as u64 + (w1 - w0) as u64 * kf as u64;
    let bar_secs = series.typical_bar_seconds().max(1);
    let steps_per_hour = ((3600 * kf as u64) / bar_secs).max(1) as u32;
    let latency = cfg
        .chain
        .as_ref()
        .map_or(0, |c| c.keeper_latency_blocks as usize);
    let keeper_budget = cfg
        .chain
        .as_ref()
        .map_or(usize::MAX, |c| c.keeper_txs_per_block as usize);
    let adversarial = cfg.chain.as_ref().is_some_and(|c| c.adversarial_ordering);

    let mut agents: Vec<Box<dyn Agent>> =
        Population::build(&cfg.population, nm, steps_per_hour, total_steps, cfg.seed);
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
    let keepers: Vec<usize> = (0..na).filter(|&i| agents[i].is_keeper()).collect();
    let kinds: Vec<AgentKind> = agents.iter().map(|a| a.kind()).collect();
    let mut kind_acc: std::collections::BTreeMap<AgentKind, KindAcc> = Default::default();
    for &kd in &kinds {
        kind_acc.entry(kd).or_default().count += 1;
    }
    let mut wallets: Vec<Wallet> = (0..na)
        .map(|_| Wallet {
            base: vec![0; nm],
            ..Default::default()
        })
        .collect();
    let mut arb = Wallet {
        base: vec![0; nm],
        ..Default::default()
    };
    let mut genesis = Wallet {
        base: vec![0; nm],
        ..Default::default()
    };
    let mut ex = Exec {
        stats: ActionStats::default(),
        rejected_opens: 0,
        rejected_open_volume: 0,
        lp_net_deposits: 0,
    };
    let mut dummy_acc = KindAcc::default();

    // crash windows
    let mut windows = Vec::new();
    if cfg.crash.fixed {
        windows.extend(fixed_crash_windows(&series));
    }
    let horizon_bars = (cfg.crash.horizon_days as u64 * 86_400 / bar_secs) as usize;
    windows.extend(detect_crash_windows(
        &series,
        horizon_bars,
        cfg.crash.detect as usize,
    ));

    let mut classic = CounterpartyPool::new(ModelKind::Classic, nm);
    let mut rf: Option<CounterpartyPool> = None;
    let mut t_azex = ModelTrack::default();
    let mut t_classic = ModelTrack::default();
    let mut t_rf = ModelTrack::default();
    let mut step_ts: Vec<u64> = Vec::with_capacity(total_blocks as usize);
    let mut azex_nav0: Option<i128> = None;
    let mut share0: Option<i128> = None;

    // market stats
    let mut peak_l = vec![0u128; nm];
    let mut peak_s = vec![0u128; nm];
    let mut imb_sum = vec![0u128; nm];
    let mut imb_n = vec![0u64; nm];
    // headline: AZEx requirement vs max(L, S) on the venue's own OI
    let (mut h_req, mut h_classic, mut h_net, mut h_gross) = (0u128, 0u128, 0u128, 0u128);
    let (mut h_req_peak, mut h_classic_peak) = (0u128, 0u128);

    // charts
    let stride = (total_blocks / cfg.chart_points.max(1) as u64).max(1);
    let mut ch = ChartSeries {
        data_price: vec![Vec::new(); nm],
        mark_price: vec![Vec::new(); nm],
        long_oi: vec![Vec::new(); nm],
        short_oi: vec![Vec::new(); nm],
        required: vec![Vec::new(); 3],
        available: vec![Vec::new(); 3],
        value_index: vec![Vec::new(); 3],
        drawdown: vec![Vec::new(); 3],
        ..Default::default()
    };
    let mut peaks = [i128::MIN; 3];
    let mut chart_raw: Vec<(usize, [i128; 3])> = Vec::new(); // classic needs capital known at end

    let pb = if opts.quiet || !std::io::stderr().is_terminal() {
        indicatif::ProgressBar::hidden()
    } else {
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
    };

    let mut paths: Vec<Vec<u128>> = vec![Vec::new(); nm];
    let mut obs_m: Vec<MarketObs> = vec![MarketObs::default(); nm];
    let mut last_risk = RiskSnapshot::default();
    let mut height = 0u64;
    let mut keeper_order = keepers.clone();
    let mut woken: Vec<usize> = Vec::new();
    let mut keeper_hist: std::collections::VecDeque<Vec<MarketObs>> = Default::default();
    let mut block_ix = 0u64;
    for t in 0..nbars {
        let win = in_window(t);
        let kt = if win { kf } else { k };
        let span = (kf / kt) as u64;
        for (m, path) in paths.iter_mut().enumerate() {
            intrabar_path_into(&series.bars[data_ix[m]][t], kt, path);
        }
        if !win {
            keeper_hist.clear();
        }
        let dt = series.bar_seconds(t);
        for j in 0..kt as usize {
            // the last agent step this block covers
            let step = t as u64 * kf as u64 + (j as u64 + 1) * span - 1;
            height += 1;
            let ts = series.timestamps[t] + (j as u64 + 1) * dt / kt as u64;
            venue.begin_block(height, ts);
            if block_ix == 0 && cfg.genesis_vault_usd > 0 {
                execute(
                    venue,
                    GENESIS_OWNER,
                    &[Action::LpDeposit {
                        amount_usd: usd(cfg.genesis_vault_usd),
                    }],
                    &mut genesis,
                    &mut ex,
                    &mut dummy_acc,
                );
            }
            for (m, path) in paths.iter().enumerate() {
                if let Ok(o) = venue.arbitrage_spot_to(m, path[j]) {
                    arb.usd += o.usd_delta;
                    arb.base[m] += o.base_delta;
                }
            }
            for (m, o) in obs_m.iter_mut().enumerate() {
                *o = venue.observe(m);
                o.data_price = paths[m][j];
            }
            let mut vault = venue.vault();
            let submitted_before = ex.stats.submitted;
            // trading phase: agents whose wake-up step has come, in (step, id) order; in the
            // chain window with adversarial ordering, adversaries first
            woken.clear();
            while let Some(&Reverse((s, i))) = heap.peek() {
                if s > step {
                    break;
                }
                heap.pop();
                woken.push(i as usize);
            }
            if win && adversarial {
                woken.sort_by_key(|&i| !kinds[i].is_adversary());
            }
            for &i in &woken {
                let own = venue.positions_of(i as AgentId);
                let obs = Observation {
                    height,
                    timestamp: ts,
                    step,
                    steps_per_hour,
                    phase: Phase::Trade,
                    markets: &obs_m,
                    vault: &vault,
                    own_positions: &own,
                    wallet: &wallets[i],
                };
                let actions = agents[i].decide(&obs, &mut rngs[i]);
                let acc = kind_acc.get_mut(&kinds[i]).unwrap();
                acc.activations += 1;
                if !actions.is_empty() {
                    execute(venue, i as AgentId, &actions, &mut wallets[i], &mut ex, acc);
                }
                let w = agents[i].next_wake(&mut rngs[i]);
                if w != u64::MAX {
                    heap.push(Reverse((step.saturating_add(w.max(1)), i as u32)));
                }
            }
            // keeper phase (re-observe only if the trading phase changed anything)
            if !keepers.is_empty() {
                if ex.stats.submitted != submitted_before {
                    for (m, o) in obs_m.iter_mut().enumerate() {
                        *o = venue.observe(m);
                        o.data_price = paths[m][j];
                    }
                    vault = venue.vault();
                }
                // chain window: keepers see the lists of `latency` blocks ago and share a
                // per-block transaction budget
                let seen: &[MarketObs] = if win && latency > 0 {
                    keeper_hist.push_back(obs_m.clone());
                    while keeper_hist.len() > latency + 1 {
                        keeper_hist.pop_front();
                    }
                    keeper_hist.front().map_or(&obs_m, |v| v.as_slice())
                } else {
                    &obs_m
                };
                let mut budget = if win { keeper_budget } else { usize::MAX };
                keeper_order.shuffle(&mut driver_rng);
                for &i in &keeper_order {
                    if budget == 0 {
                        break;
                    }
                    let own = venue.positions_of(i as AgentId);
                    let obs = Observation {
                        height,
                        timestamp: ts,
                        step,
                        steps_per_hour,
                        phase: Phase::Keep,
                        markets: seen,
                        vault: &vault,
                        own_positions: &own,
                        wallet: &wallets[i],
                    };
                    let mut actions = agents[i].decide(&obs, &mut rngs[i]);
                    actions.truncate(budget);
                    budget -= actions.len();
                    let acc = kind_acc.get_mut(&kinds[i]).unwrap();
                    acc.activations += 1;
                    if !actions.is_empty() {
                        execute(venue, i as AgentId, &actions, &mut wallets[i], &mut ex, acc);
                    }
                }
            }
            venue.end_block();
            for (m, o) in venue.take_extra_arbitrage() {
                arb.usd += o.usd_delta;
                if let Some(b) = arb.base.get_mut(m) {
                    *b += o.base_delta;
                }
            }
            if let Some(e) = venue.error() {
                pb.finish_and_clear();
                return Err(SimError::Venue(e));
            }
            let fills = venue.take_fills();
            for f in &fills {
                if matches!(f.kind, FillKind::Liquidation | FillKind::Adl)
                    && (f.owner as usize) < na
                {
                    wallets[f.owner as usize].usd += f.owner_payout_usd as i128;
                }
            }
            let risk = venue.risk_snapshot();
            if azex_nav0.is_none() {
                azex_nav0 = Some(risk.vault_nav_usd);
                let cap = cfg
                    .reserve_pool_capital_usd
                    .map(|c| usd(c) as i128)
                    .unwrap_or(risk.vault_nav_usd)
                    .max(0) as u128;
                rf = Some(CounterpartyPool::new(
                    ModelKind::ReserveFactor {
                        reserve_factor_bps: cfg.reserve_factor_bps,
                        capital_usd: cap,
                    },
                    nm,
                ));
            }
            classic.on_block(&fills, &risk.markets);
            let rfp = rf.as_mut().unwrap();
            rfp.on_block(&fills, &risk.markets);

            // metrics
            let oi: u128 = risk
                .markets
                .iter()
                .map(|m| m.long_notional_usd + m.short_notional_usd)
                .sum();
            let sp = share_price_wad(risk.vault_nav_usd, risk.vault_shares) as i128;
            if share0.is_none() && sp > 0 {
                share0 = Some(sp);
            }
            t_azex.record(
                risk.required_usd,
                oi,
                risk.vault_nav_usd,
                sp,
                risk.vault_nav_usd - ex.lp_net_deposits,
            );
            let c_req = classic.required_usd();
            let c_pnl = classic.lp_pnl_usd();
            t_classic.record(c_req, classic.gross_oi_usd(), i128::MAX, c_pnl, c_pnl);
            let r_req = rfp.required_usd();
            let r_val = rfp.pool_value_usd();
            t_rf.record(r_req, rfp.gross_oi_usd(), r_val, r_val, r_val);
            {
                let (mut c, mut n, mut g) = (0u128, 0u128, 0u128);
                for r in &risk.markets {
                    c += r.long_notional_usd.max(r.short_notional_usd);
                    n += r.long_notional_usd.abs_diff(r.short_notional_usd);
                    g += r.long_notional_usd + r.short_notional_usd;
                }
                h_req += risk.required_usd;
                h_classic += c;
                h_net += n;
                h_gross += g;
                h_req_peak = h_req_peak.max(risk.required_usd);
                h_classic_peak = h_classic_peak.max(c);
            }
            for (m, r) in risk.markets.iter().enumerate() {
                peak_l[m] = peak_l[m].max(r.long_notional_usd);
                peak_s[m] = peak_s[m].max(r.short_notional_usd);
                let g = r.long_notional_usd + r.short_notional_usd;
                if let Some(imb) =
                    (r.long_notional_usd.abs_diff(r.short_notional_usd) * 10_000).checked_div(g)
                {
                    imb_sum[m] += imb;
                    imb_n[m] += 1;
                }
            }
            step_ts.push(ts);
            if block_ix % stride == 0 || block_ix + 1 == total_blocks {
                ch.timestamps.push(ts);
                for (m, r) in risk.markets.iter().enumerate() {
                    ch.data_price[m].push(wad_to_f64(paths[m][j]));
                    ch.mark_price[m].push(wad_to_f64(r.mark_price));
                    ch.long_oi[m].push(usd_to_f64(r.long_notional_usd as i128));
                    ch.short_oi[m].push(usd_to_f64(r.short_notional_usd as i128));
                }
                chart_raw.push((block_ix as usize, [risk.vault_nav_usd, c_pnl, r_val]));
                ch.required[0].push(usd_to_f64(risk.required_usd as i128));
                ch.required[1].push(usd_to_f64(c_req as i128));
                ch.required[2].push(usd_to_f64(r_req as i128));
            }
            last_risk = risk;
            if block_ix % 512 == 0 {
                pb.set_position(block_ix);
            }
            block_ix += 1;
        }
    }
    pb.finish_and_clear();

    // ---- finish ----
    let rfp = rf.expect("at least one block ran");
    let win_ix: Vec<(String, usize, usize)> = windows
        .iter()
        .map(|w| {
            let a = step_ts.partition_point(|&t| t < w.start_ts);
            let b = step_ts
                .partition_point(|&t| t <= w.end_ts)
                .saturating_sub(1);
            (w.label.clone(), a, b)
        })
        .collect();

    let final_sp = share_price_wad(last_risk.vault_nav_usd, last_risk.vault_shares) as i128;
    let azex_lp_pnl = last_risk.vault_nav_usd - ex.lp_net_deposits;
    let nav0 = azex_nav0.unwrap_or(0);
    let mut azex = ModelMetrics {
        model: "azex".into(),
        capital_usd: nav0,
        required_peak_usd: 0,
        required_avg_usd: 0,
        oi_peak_usd: 0,
        oi_avg_usd: 0,
        capital_per_oi_peak: 0.0,
        capital_per_oi_avg: 0.0,
        capital_per_oi_worst_block: 0.0,
        shortfall_blocks: 0,
        max_drawdown_bps: 0,
        crash_drawdowns: vec![],
        worst_block_loss_usd: 0,
        worst_block_loss_over_required: 0.0,
        deficits_usd: last_risk.deficits_usd,
        bad_debt_usd: last_risk.bad_debt_usd,
        adl_volume_usd: last_risk.adl_volume_usd,
        adl_count: last_risk.adl_count,
        liquidations: last_risk.liquidations,
        liquidation_volume_usd: last_risk.liquidation_volume_usd,
        fees_to_lp_usd: last_risk.fees_to_lp_usd,
        funding_to_lp_usd: last_risk.funding_to_lp_usd,
        lp_pnl_usd: azex_lp_pnl,
        lp_return_bps: match share0 {
            Some(s0) if s0 > 0 => ((final_sp - s0) * 10_000 / s0) as i64,
            _ => 0,
        },
        rejected_opens: ex.rejected_opens,
        rejected_volume_usd: ex.rejected_open_volume,
    };
    t_azex.finish_into(&mut azex, 0, &win_ix);

    let baseline = |name: &str, pool: &CounterpartyPool, capital: i128, track: &ModelTrack| {
        let t = &pool.totals;
        let pnl = pool.lp_pnl_usd();
        let mut m = ModelMetrics {
            model: name.into(),
            capital_usd: capital,
            required_peak_usd: 0,
            required_avg_usd: 0,
            oi_peak_usd: 0,
            oi_avg_usd: 0,
            capital_per_oi_peak: 0.0,
            capital_per_oi_avg: 0.0,
            capital_per_oi_worst_block: 0.0,
            shortfall_blocks: 0,
            max_drawdown_bps: 0,
            crash_drawdowns: vec![],
            worst_block_loss_usd: 0,
            worst_block_loss_over_required: 0.0,
            deficits_usd: t.deficits_usd,
            bad_debt_usd: t.deficits_usd,
            adl_volume_usd: 0,
            adl_count: 0,
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
        };
        let base = if matches!(pool.kind, ModelKind::Classic) {
            capital
        } else {
            0
        };
        track.finish_into(&mut m, base, &win_ix);
        m
    };
    let classic_cap = t_classic.required_peak as i128;
    let rf_cap = match rfp.kind {
        ModelKind::ReserveFactor { capital_usd, .. } => capital_usd as i128,
        _ => 0,
    };
    let m_classic = baseline("classic", &classic, classic_cap, &t_classic);
    let mut m_rf = baseline("reserve_factor", &rfp, rf_cap, &t_rf);
    m_rf.shortfall_blocks = t_rf.shortfall_blocks;

    // charts: available capital and drawdowns
    for (_, vals) in &chart_raw {
        let avail = [vals[0], classic_cap + vals[1], vals[2]];
        for (mi, &v) in avail.iter().enumerate() {
            ch.available[mi].push(usd_to_f64(v));
        }
    }
    for (mi, track) in [&t_azex, &t_classic, &t_rf].iter().enumerate() {
        let base = if mi == 1 { classic_cap } else { 0 };
        peaks[mi] = i128::MIN;
        let mut next = 0usize;
        let first = track
            .values
            .iter()
            .map(|v| v + base)
            .find(|v| *v > 0)
            .unwrap_or(1) as f64;
        for (s, &v) in track.values.iter().enumerate() {
            let v = v + base;
            peaks[mi] = peaks[mi].max(v);
            if next < chart_raw.len() && chart_raw[next].0 == s {
                let p = peaks[mi];
                ch.value_index[mi].push(v as f64 / first);
                ch.drawdown[mi].push(if p > 0 {
                    ((p - v).max(0) as f64 / p as f64).min(1.0)
                } else {
                    0.0
                });
                next += 1;
            }
        }
    }

    // agents' final wealth
    let last_prices: Vec<u128> = paths.iter().map(|p| *p.last().unwrap_or(&0)).collect();
    let mut pnl_by_kind: std::collections::BTreeMap<AgentKind, i128> = Default::default();
    for (i, w) in wallets.iter().enumerate() {
        let mut v = w.usd;
        for (m, &b) in w.base.iter().enumerate() {
            v += mul_div_signed_floor(b, last_prices[m], NOTIONAL_DIV);
        }
        for p in venue.positions_of(i as AgentId) {
            v += p.equity_usd;
        }
        v += mul_div_floor(w.lp_shares, final_sp.max(0) as u128, NOTIONAL_DIV) as i128;
        *pnl_by_kind.entry(kinds[i]).or_default() += v;
    }
    let mut arb_pnl = arb.usd;
    for (m, &b) in arb.base.iter().enumerate() {
        arb_pnl += mul_div_signed_floor(b, last_prices[m], NOTIONAL_DIV);
    }
    let agents_summary: Vec<KindSummary> = kind_acc
        .iter()
        .map(|(k, a)| KindSummary {
            kind: k.name().into(),
            count: a.count,
            activations: a.activations,
            actions: a.actions,
            accepted: a.accepted,
            pnl_usd: pnl_by_kind.get(k).copied().unwrap_or(0),
        })
        .collect();

    let markets: Vec<MarketSummary> = (0..nm)
        .map(|m| MarketSummary {
            symbol: vm[m].symbol.clone(),
            first_price: fmt_wad(series.bars[data_ix[m]][0].open, 6),
            last_price: fmt_wad(series.bars[data_ix[m]][nbars - 1].close, 6),
            peak_long_oi_usd: peak_l[m],
            peak_short_oi_usd: peak_s[m],
            avg_imbalance_bps: if imb_n[m] > 0 {
                (imb_sum[m] / imb_n[m] as u128) as u32
            } else {
                0
            },
            final_long_oi_usd: last_risk.markets[m].long_notional_usd,
            final_short_oi_usd: last_risk.markets[m].short_notional_usd,
        })
        .collect();

    Ok(SimResult {
        scenario: cfg.name.clone(),
        description: cfg.description.clone(),
        seed: cfg.seed,
        venue: venue.name(),
        data: DataSummary {
            source: series.source.clone(),
            symbols: vm.iter().map(|m| m.symbol.clone()).collect(),
            bars: nbars as u64,
            substeps_per_bar: k,
            blocks: total_blocks,
            first: format_timestamp(series.timestamps[0]),
            last: format_timestamp(*series.timestamps.last().unwrap()),
            bar_seconds: bar_secs,
            filled_bars: data_ix.iter().map(|&d| series.filled[d]).collect(),
        },
        crash_windows: windows,
        models: vec![azex, m_classic, m_rf],
        markets,
        agents: agents_summary,
        actions: ex.stats,
        arbitrageur_pnl_usd: arb_pnl,
        headline: Headline {
            azex_per_classic_avg: ratio6(h_req, h_classic),
            azex_per_classic_peak: ratio6(h_req_peak, h_classic_peak),
            net_per_classic_avg: ratio6(h_net, h_classic),
            imbalance_bps: (h_net * 10_000).checked_div(h_gross).unwrap_or(0) as u32,
        },
        venue_info: venue.describe(),
        config: cfg.clone(),
        series: ch,
    })
}
