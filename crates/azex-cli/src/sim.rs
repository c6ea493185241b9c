//! `azex sim`: historical prices → seeded agents → the exchange state machine, block by block,
//! next to the classic and reserve-factor baselines; JSON, a Markdown report and PNG charts.

use crate::out::{say, Fail, Out};
use azex_sim::scenarios::{validate_config, validate_engine_config, validate_run_size};
use azex_sim::{
    load_default_prices, load_prices, preset, run_engine, write_charts, write_report, EngineConfig,
    RunOptions, SimConfig, SimResult, PRESET_NAMES,
};
use clap::Args;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Args, Debug)]
pub struct SimArgs {
    /// Price CSV (or .csv.gz) with `timestamp,symbol,close` (open/high/low/volume optional),
    /// several symbols. Default: the shipped 30-minute BTC/ETH/LTC/XRP/EOS data, Oct 2017 - Oct 2019.
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,
    /// Scenario preset name or a scenario JSON file (repeatable). Default: every preset.
    #[arg(long = "scenario", value_name = "NAME|FILE")]
    pub scenarios: Vec<String>,
    /// Seed for every scenario (default: each scenario's own, 1 for the presets).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Number of regular agents per scenario (adversaries come on top; presets: 1000; at most
    /// 100,000).
    #[arg(long)]
    pub agents: Option<u32>,
    /// Only use bars from this time on (`YYYY-MM-DD[ HH:MM:SS]` UTC or Unix seconds).
    #[arg(long)]
    pub start: Option<String>,
    /// Only use bars before this time.
    #[arg(long)]
    pub end: Option<String>,
    /// Use at most this many bars.
    #[arg(long)]
    pub max_bars: Option<u64>,
    /// Blocks per data bar (presets: 4, i.e. 7.5-minute blocks on 30-minute bars; 1 to 1,000,
    /// and at most 10 million blocks per run).
    #[arg(long)]
    pub substeps: Option<u32>,
    /// Engine venue settings as JSON (fields of `azex_sim::EngineConfig`; missing = default).
    #[arg(long, value_name = "FILE")]
    pub engine_config: Option<PathBuf>,
    /// Output directory for `<scenario>.json`, `report.md` and the charts.
    #[arg(long, default_value = "out/sim")]
    pub out: PathBuf,
    /// Print the JSON result to stdout (one object; an array for several scenarios).
    #[arg(long)]
    pub json: bool,
    /// Skip the PNG charts.
    #[arg(long)]
    pub no_charts: bool,
    /// No progress bar and no summary on stderr.
    #[arg(long)]
    pub quiet: bool,
    /// Scenarios run in parallel (default: the number of CPUs). Results do not depend on it.
    #[arg(long)]
    pub jobs: Option<usize>,
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

pub fn run(a: SimArgs, out: &mut Out) -> Result<(), Fail> {
    let t_all = Instant::now();
    let say = |msg: String| {
        if !a.quiet {
            say(msg);
        }
    };
    let engine_cfg: EngineConfig = match &a.engine_config {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
            let c: EngineConfig =
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))?;
            validate_engine_config(&c).map_err(|e| format!("{}: {e}", p.display()))?;
            c
        }
        None => EngineConfig::default(),
    };
    let prices = match &a.prices {
        Some(p) => load_prices(p).map_err(|e| match e {
            azex_sim::prices::PriceError::Io { .. } => e.to_string(),
            e => format!("{}: {e}", p.display()),
        })?,
        None => load_default_prices().map_err(|e| format!("shipped price data: {e}"))?,
    };
    say(format!(
        "prices: {} ({} bars x {} symbols: {})",
        prices.source,
        prices.len(),
        prices.symbols.len(),
        prices.symbols.join(", ")
    ));
    let names: Vec<String> = if a.scenarios.is_empty() {
        PRESET_NAMES.iter().map(|s| s.to_string()).collect()
    } else {
        a.scenarios.clone()
    };
    let mut cfgs = Vec::new();
    for n in &names {
        let mut c = load_scenario(n)?;
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
        validate_config(&c).map_err(|e| format!("scenario {n}: {e}"))?;
        if cfgs.iter().any(|o: &SimConfig| o.name == c.name) {
            return Err(format!(
                "scenario {n}: name {:?} used twice (each writes <out>/<name>.json)",
                c.name
            )
            .into());
        }
        let bars = azex_sim::driver::prepare_prices(&c, &prices)
            .map_err(|e| format!("scenario {n}: {e}"))?
            .len();
        validate_run_size(&c, bars)?;
        cfgs.push(c);
    }
    std::fs::create_dir_all(&a.out).map_err(|e| format!("{}: {e}", a.out.display()))?;
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, cfgs.len().max(1));
    let progress = (!a.quiet && jobs > 1).then(azex_sim::MultiProgress::new);
    let opts = RunOptions {
        quiet: a.quiet,
        progress,
    };
    // Scenarios are independent: run them on `jobs` threads, collect in the given order.
    let next = std::sync::atomic::AtomicUsize::new(0);
    type Slot = std::sync::Mutex<Option<Result<(SimResult, f64), String>>>;
    let slots: Vec<Slot> = cfgs.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|sc| {
        for _ in 0..jobs {
            sc.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(c) = cfgs.get(i) else { break };
                let t = Instant::now();
                // A panic is a bug; it must not take the other scenarios (or the exit code)
                // with it: it becomes this scenario's error.
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    run_engine(c, &prices, engine_cfg.clone(), &opts).map_err(|e| e.to_string())
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
    let mut results: Vec<SimResult> = Vec::new();
    for (c, slot) in cfgs.iter().zip(slots) {
        let (r, secs) = slot
            .into_inner()
            .map_err(|_| "a worker thread panicked".to_string())?
            .ok_or_else(|| format!("scenario {}: not run", c.name))??;
        let file = a.out.join(format!("{}.json", c.name));
        std::fs::write(&file, r.to_json()).map_err(|e| format!("{}: {e}", file.display()))?;
        if !a.no_charts {
            write_charts(&r, &a.out).map_err(|e| format!("charts for {}: {e}", c.name))?;
        }
        if let Some(az) = r.model("azex") {
            say(format!(
                "{:<26} {:>7} blocks in {:>6.1}s | AZEx needs ${:.1}M per $100M classic (avg), bad debt {}, max drawdown {:.2}%, LP return {:.2}%",
                c.name,
                r.data.blocks,
                secs,
                r.headline.azex_per_classic_avg * 100.0,
                azex_sim::units::fmt_usd(az.bad_debt_usd as i128),
                az.max_drawdown_bps as f64 / 100.0,
                az.lp_return_bps as f64 / 100.0,
            ));
        }
        results.push(r);
    }
    let report = a.out.join("report.md");
    write_report(&results, &report).map_err(|e| format!("{}: {e}", report.display()))?;
    say(format!(
        "wrote {} ({} scenario(s), {:.1}s)",
        report.display(),
        results.len(),
        t_all.elapsed().as_secs_f64()
    ));
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
