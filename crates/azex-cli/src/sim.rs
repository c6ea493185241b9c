//! `azex sim`: historical prices → seeded agents → the exchange state machine, block by block,
//! next to the classic and reserve-factor baselines; JSON, a Markdown report and PNG charts.

use crate::out::{say, Fail, Out};
use azex_sim::scenarios::{validate_config, validate_engine_config, validate_run_size};
use azex_sim::{
    load_default_prices, load_prices, preset, run_engine, write_charts, write_report, EngineConfig,
    RunOptions, SimConfig, SimResult, StudyConfig, PRESET_NAMES,
};
use clap::Args;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Args, Debug)]
pub(crate) struct SimArgs {
    /// Price CSV (or .csv.gz) with `timestamp,symbol,close` (open/high/low/volume optional),
    /// several symbols. Default: the shipped 30-minute BTC/ETH/LTC/XRP/EOS data, Oct 2017 - Oct 2019.
    #[arg(long, value_name = "FILE")]
    pub(crate) prices: Option<PathBuf>,
    /// Scenario preset name or a scenario JSON file (repeatable). Default: every preset.
    #[arg(long = "scenario", value_name = "NAME|FILE")]
    pub(crate) scenarios: Vec<String>,
    /// Seed for every scenario (default: each scenario's own, 1 for the presets).
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Number of regular agents per scenario (adversaries come on top; presets: 1000; at most
    /// 100,000).
    #[arg(long)]
    pub(crate) agents: Option<u32>,
    /// Only use bars from this time on (`YYYY-MM-DD[ HH:MM:SS]` UTC or Unix seconds).
    #[arg(long)]
    pub(crate) start: Option<String>,
    /// Only use bars before this time.
    #[arg(long)]
    pub(crate) end: Option<String>,
    /// Use at most this many bars.
    #[arg(long)]
    pub(crate) max_bars: Option<u64>,
    /// Blocks per data bar (presets: 4, i.e. 7.5-minute blocks on 30-minute bars; 1 to 1,000,
    /// and at most 10 million blocks per run).
    #[arg(long)]
    pub(crate) substeps: Option<u32>,
    /// Engine venue settings as JSON (fields of `azex_sim::EngineConfig`; missing = default).
    #[arg(long, value_name = "FILE")]
    pub(crate) engine_config: Option<PathBuf>,
    /// Output directory for `<scenario>.json`, `report.md` and the charts.
    #[arg(long, default_value = "out/sim")]
    pub(crate) out: PathBuf,
    /// Print the JSON result to stdout (one object; an array for several scenarios).
    #[arg(long)]
    pub(crate) json: bool,
    /// Skip the PNG charts.
    #[arg(long)]
    pub(crate) no_charts: bool,
    /// No progress bar and no summary on stderr.
    #[arg(long)]
    pub(crate) quiet: bool,
    /// Scenarios (or study paths) run in parallel (default: the number of CPUs). Results do
    /// not depend on it.
    #[arg(long)]
    pub(crate) jobs: Option<usize>,
    /// The capital study (the default when no --scenario is given): `default` (a small study,
    /// about a minute on 2 cores), `full` (every preset, 20 paths, three block lengths) or a
    /// JSON file of `azex_sim::StudyConfig` fields. With --scenario, only those scenarios.
    #[arg(long, value_name = "default|full|FILE")]
    pub(crate) study: Option<String>,
    /// Study: Monte Carlo paths per scenario and block length.
    #[arg(long)]
    pub(crate) paths: Option<u32>,
    /// Study: days of data per path.
    #[arg(long)]
    pub(crate) path_days: Option<u32>,
    /// Study: chain-resolution stress windows per scenario (2-second blocks around the data's
    /// worst bars; default study 1, full study 4); 0 leaves the chain-resolution mode out.
    #[arg(long)]
    pub(crate) chain_windows: Option<u32>,
}

fn load_scenario(s: &str) -> Result<SimConfig, String> {
    if let Some(c) = preset(s) {
        return Ok(c);
    }
    let p = Path::new(s);
    if p.extension().is_some_and(|e| e == "json") || p.exists() {
        let text = std::fs::read_to_string(p).map_err(|e| format!("scenario {s}: {e}"))?;
        return serde_json::from_str(&text).map_err(|e| format!("scenario {s}: {e}"));
    }
    Err(format!(
        "unknown scenario {s:?} (presets: {}; or a JSON file)",
        PRESET_NAMES.join(", ")
    ))
}

pub(crate) fn run(a: SimArgs, out: &mut Out) -> Result<(), Fail> {
    let t_all = Instant::now();
    let engine_cfg = engine_config(&a)?;
    let prices = price_data(&a)?;
    note(
        a.quiet,
        format!(
            "prices: {} ({} bars x {} symbols: {})",
            prices.source,
            prices.len(),
            prices.symbols.len(),
            prices.symbols.join(", ")
        ),
    );
    if a.study.is_some() || a.scenarios.is_empty() {
        return study(&a, &prices, &engine_cfg, out, t_all);
    }
    let cfgs = scenario_configs(&a, &prices)?;
    std::fs::create_dir_all(&a.out).map_err(|e| format!("{}: {e}", a.out.display()))?;
    let runs = run_scenarios(&a, &cfgs, &prices, &engine_cfg);
    let mut results: Vec<SimResult> = Vec::new();
    for (c, slot) in cfgs.iter().zip(runs) {
        let (r, secs) = slot
            .into_inner()
            .map_err(|_| "a worker thread panicked".to_string())?
            .ok_or_else(|| format!("scenario {}: not run", c.name))??;
        write_scenario(&a, c, &r, secs)?;
        results.push(r);
    }
    let report = a.out.join("report.md");
    write_report(&results, &report).map_err(|e| format!("{}: {e}", report.display()))?;
    note(
        a.quiet,
        format!(
            "wrote {} ({} scenario(s), {:.1}s)",
            report.display(),
            results.len(),
            t_all.elapsed().as_secs_f64()
        ),
    );
    if a.json {
        let text = if results.len() == 1 {
            results[0].to_json()
        } else {
            serde_json::to_string_pretty(&results).map_err(|e| Fail::Msg(e.to_string()))?
        };
        out.line(text)?;
    }
    Ok(())
}

/// A progress line on stderr unless `--quiet`.
fn note(quiet: bool, msg: String) {
    if !quiet {
        say(msg);
    }
}

/// `--engine-config FILE` (checked) or the default.
fn engine_config(a: &SimArgs) -> Result<EngineConfig, String> {
    let Some(p) = &a.engine_config else {
        return Ok(EngineConfig::default());
    };
    let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
    let c: EngineConfig =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))?;
    validate_engine_config(&c).map_err(|e| format!("{}: {e}", p.display()))?;
    Ok(c)
}

/// `--prices FILE` or the shipped data.
fn price_data(a: &SimArgs) -> Result<azex_sim::PriceSeries, String> {
    match &a.prices {
        Some(p) => load_prices(p).map_err(|e| match e {
            azex_sim::prices::PriceError::Io { .. } => e.to_string(),
            e => format!("{}: {e}", p.display()),
        }),
        None => load_default_prices().map_err(|e| format!("shipped price data: {e}")),
    }
}

/// The `--scenario`s with the command line's overrides, each checked; a preset whose dates are
/// not in the data is skipped with a note.
fn scenario_configs(a: &SimArgs, prices: &azex_sim::PriceSeries) -> Result<Vec<SimConfig>, Fail> {
    let mut cfgs: Vec<SimConfig> = Vec::new();
    for n in &a.scenarios {
        let c = with_overrides(a, load_scenario(n)?);
        validate_config(&c).map_err(|e| format!("scenario {n}: {e}"))?;
        if cfgs.iter().any(|o| o.name == c.name) {
            return Err(format!(
                "scenario {n}: name {:?} used twice (each writes <out>/<name>.json)",
                c.name
            )
            .into());
        }
        let bars = match azex_sim::driver::prepare_prices(&c, prices) {
            Ok(p) => p.len(),
            Err(azex_sim::SimError::NoBars) if preset(n).is_some() && a.start.is_none() => {
                note(
                    a.quiet,
                    format!(
                        "note: skipping preset {n}: its dates ({} .. {}) are not in the data",
                        c.start.as_deref().unwrap_or("start"),
                        c.end.as_deref().unwrap_or("end")
                    ),
                );
                continue;
            }
            Err(e) => return Err(format!("scenario {n}: {e}").into()),
        };
        validate_run_size(&c, bars)?;
        cfgs.push(c);
    }
    Ok(cfgs)
}

/// The command line's `--seed`, `--agents`, `--start`, `--end`, `--max-bars`, `--substeps`.
fn with_overrides(a: &SimArgs, mut c: SimConfig) -> SimConfig {
    if let Some(s) = a.seed {
        c.seed = s;
    }
    if let Some(n) = a.agents {
        c.population.agents = n;
    }
    if a.start.is_some() {
        c.start = a.start.clone();
    }
    if a.end.is_some() {
        c.end = a.end.clone();
    }
    if a.max_bars.is_some() {
        c.max_bars = a.max_bars;
    }
    if let Some(k) = a.substeps {
        c.substeps = k;
    }
    c
}

/// One scenario's outcome: its result and run time, or its error.
type Slot = std::sync::Mutex<Option<Result<(SimResult, f64), String>>>;

/// Run the scenarios on `--jobs` threads (they are independent); results in the given order.
/// A panic is a bug; it must not take the other scenarios (or the exit code) with it: it
/// becomes that scenario's error.
fn run_scenarios(
    a: &SimArgs,
    cfgs: &[SimConfig],
    prices: &azex_sim::PriceSeries,
    engine_cfg: &EngineConfig,
) -> Vec<Slot> {
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, cfgs.len().max(1));
    let progress = (!a.quiet && jobs > 1).then(azex_sim::MultiProgress::new);
    let opts = RunOptions {
        quiet: a.quiet,
        progress,
    };
    let next = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<Slot> = cfgs.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|sc| {
        for _ in 0..jobs {
            sc.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(c) = cfgs.get(i) else { break };
                let t = Instant::now();
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    run_engine(c, prices, engine_cfg.clone(), &opts).map_err(|e| e.to_string())
                }))
                .unwrap_or_else(|p| {
                    let msg = p
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| p.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    Err(format!("internal error: {msg}"))
                })
                .map(|r| (r, t.elapsed().as_secs_f64()))
                .map_err(|e| format!("scenario {}: {e}", c.name));
                if let Ok(mut s) = slots[i].lock() {
                    *s = Some(r);
                }
            });
        }
    });
    slots
}

/// `<out>/<name>.json`, its charts, and the one-line summary.
fn write_scenario(a: &SimArgs, c: &SimConfig, r: &SimResult, secs: f64) -> Result<(), String> {
    let file = a.out.join(format!("{}.json", c.name));
    std::fs::write(&file, r.to_json()).map_err(|e| format!("{}: {e}", file.display()))?;
    if !a.no_charts {
        write_charts(r, &a.out).map_err(|e| format!("charts for {}: {e}", c.name))?;
    }
    if let Some(az) = r.model("azex") {
        note(
            a.quiet,
            format!(
                "{:<26} {:>7} blocks in {:>6.1}s | AZEx needs ${:.1}M per $100M classic (avg), bad debt {}, max drawdown {:.2}%, LP return {:.2}%",
                c.name,
                r.data.blocks,
                secs,
                r.headline.azex_per_classic_avg * 100.0,
                azex_sim::units::fmt_usd(i128::try_from(az.bad_debt_usd).unwrap_or(i128::MAX)),
                f64::from(az.max_drawdown_bps) / 100.0,
                az.lp_return_bps as f64 / 100.0,
            ),
        );
    }
    Ok(())
}

/// `azex sim` without --scenario, or with --study: the capital study (`azex_sim::study`).
fn study(
    a: &SimArgs,
    prices: &azex_sim::PriceSeries,
    engine_cfg: &EngineConfig,
    out: &mut Out,
    t_all: Instant,
) -> Result<(), Fail> {
    let st = study_config(a)?;
    let cfgs = study_scenarios(a, &st)?;
    std::fs::create_dir_all(&a.out).map_err(|e| format!("{}: {e}", a.out.display()))?;
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let pb = progress_bar(a.quiet);
    note(
        a.quiet,
        format!(
            "study: {} scenario(s) x {} block length(s) x {} paths of {} days{}, {} agents, {} thread(s)",
            cfgs.len(),
            st.substeps.len(),
            st.paths,
            st.path_days,
            st.chain.as_ref().map_or(String::new(), |c| format!(
                " + {} chain-resolution window(s) (2-s blocks)",
                c.windows
            )),
            st.agents,
            jobs
        ),
    );
    let progress = |d: u64, t: u64| {
        pb.set_length(t);
        pb.set_position(d);
    };
    let r = azex_sim::run_study(&st, &cfgs, prices, engine_cfg, jobs, &progress)?;
    pb.finish_and_clear();
    for s in &r.skipped {
        note(a.quiet, format!("note: skipped {s}"));
    }
    write_study(a, &r, t_all)?;
    if a.json {
        out.line(r.to_json())?;
    }
    Ok(())
}

/// `--study default|full|FILE` with the command line's overrides, checked.
fn study_config(a: &SimArgs) -> Result<StudyConfig, String> {
    let mut st: StudyConfig = match a.study.as_deref() {
        None | Some("default") => StudyConfig::default(),
        Some("full") => StudyConfig::full(),
        Some(f) => {
            let text = std::fs::read_to_string(f).map_err(|e| format!("study {f}: {e}"))?;
            serde_json::from_str(&text).map_err(|e| format!("study {f}: {e}"))?
        }
    };
    if !a.scenarios.is_empty() {
        st.scenarios = a.scenarios.clone();
    }
    if let Some(n) = a.agents {
        st.agents = n;
    }
    if let Some(k) = a.substeps {
        st.substeps = vec![k];
    }
    if let Some(p) = a.paths {
        st.paths = p;
    }
    if let Some(d) = a.path_days {
        st.path_days = d;
    }
    match a.chain_windows {
        Some(0) => st.chain = None,
        Some(n) => st.chain.get_or_insert_with(Default::default).windows = n,
        None => {}
    }
    st.validate()?;
    Ok(st)
}

/// The study's scenarios (with `--seed`), checked, names unique.
fn study_scenarios(a: &SimArgs, st: &StudyConfig) -> Result<Vec<SimConfig>, Fail> {
    let mut cfgs: Vec<SimConfig> = Vec::new();
    for n in &st.scenarios {
        let mut c = load_scenario(n)?;
        if let Some(s) = a.seed {
            c.seed = s;
        }
        validate_config(&c).map_err(|e| format!("scenario {n}: {e}"))?;
        if cfgs.iter().any(|o| o.name == c.name) {
            return Err(format!("scenario {n}: name {:?} used twice", c.name).into());
        }
        cfgs.push(c);
    }
    Ok(cfgs)
}

/// A progress bar on a terminal's stderr, hidden otherwise or with `--quiet`.
fn progress_bar(quiet: bool) -> azex_sim::indicatif::ProgressBar {
    if quiet || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return azex_sim::indicatif::ProgressBar::hidden();
    }
    let pb = azex_sim::indicatif::ProgressBar::new(0);
    if let Ok(style) = azex_sim::indicatif::ProgressStyle::with_template(
        "study [{elapsed_precise}] {wide_bar} {pos}/{len} paths ({eta})",
    ) {
        pb.set_style(style);
    }
    pb
}

/// `study.json`, `study.md`, the charts, and the headline lines.
fn write_study(a: &SimArgs, r: &azex_sim::StudyResult, t_all: Instant) -> Result<(), String> {
    let file = a.out.join("study.json");
    std::fs::write(&file, r.to_json()).map_err(|e| format!("{}: {e}", file.display()))?;
    let md = a.out.join("study.md");
    std::fs::write(&md, azex_sim::study_report::render(r))
        .map_err(|e| format!("{}: {e}", md.display()))?;
    if !a.no_charts {
        azex_sim::study_report::write_charts(r, &a.out)
            .map_err(|e| format!("study charts: {e}"))?;
    }
    if !a.quiet {
        for line in azex_sim::study_report::headline_lines(r) {
            say(line);
        }
    }
    note(
        a.quiet,
        format!(
            "wrote {} and {} ({:.1}s)",
            file.display(),
            md.display(),
            t_all.elapsed().as_secs_f64()
        ),
    );
    Ok(())
}
