//! `azex attack-search`: optimising adversaries on real price windows through the real engine
//! (`azex_sim::attack_search`); JSON and a Markdown table.

use crate::out::{say, Fail, Out};
use azex_sim::{load_default_prices, load_prices, run_attack_search, AttackSearchConfig};
use clap::Args;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args, Debug)]
pub(crate) struct AttackArgs {
    /// Price CSV (or .csv.gz); default: the shipped 30-minute data, Oct 2017 - Oct 2019.
    #[arg(long, value_name = "FILE")]
    pub(crate) prices: Option<PathBuf>,
    /// Search settings as JSON (fields of `azex_sim::AttackSearchConfig`; missing = default).
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Evaluations per attack kind and environment (each = one engine run per window).
    #[arg(long)]
    pub(crate) budget: Option<u32>,
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Attack kind (repeatable; default all): jelly, funding_default, stop_hunt_patient,
    /// multi_block_manipulation, keeper_sandwich.
    #[arg(long = "kind", value_name = "KIND")]
    pub(crate) kinds: Vec<String>,
    /// Environment (repeatable; default both): defended, worst_case.
    #[arg(long = "env", value_name = "ENV")]
    pub(crate) envs: Vec<String>,
    /// Regular agents around the attacker.
    #[arg(long)]
    pub(crate) agents: Option<u32>,
    /// Days per window.
    #[arg(long)]
    pub(crate) window_days: Option<u32>,
    /// Output directory for `attack-search.json` and `attack-search.md`.
    #[arg(long, default_value = "out/attack")]
    pub(crate) out: PathBuf,
    /// Print the JSON to stdout instead of the Markdown.
    #[arg(long)]
    pub(crate) json: bool,
    /// Threads (default: the number of CPUs). Results do not depend on it.
    #[arg(long)]
    pub(crate) jobs: Option<usize>,
    /// No progress and no summary on stderr.
    #[arg(long)]
    pub(crate) quiet: bool,
}

pub(crate) fn run(a: AttackArgs, out: &mut Out) -> Result<(), Fail> {
    let t0 = Instant::now();
    let mut cfg: AttackSearchConfig = match &a.config {
        Some(f) => {
            let s = std::fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display()))?;
            serde_json::from_str(&s).map_err(|e| format!("{}: {e}", f.display()))?
        }
        None => AttackSearchConfig::default(),
    };
    if let Some(b) = a.budget {
        cfg.budget = b;
    }
    if let Some(s) = a.seed {
        cfg.seed = s;
    }
    if !a.kinds.is_empty() {
        cfg.kinds = a.kinds.clone();
    }
    if !a.envs.is_empty() {
        cfg.environments = a.envs.clone();
    }
    if let Some(n) = a.agents {
        cfg.agents = n;
    }
    if let Some(d) = a.window_days {
        cfg.window_days = d;
    }
    cfg.validate()?;
    let prices = match &a.prices {
        Some(p) => load_prices(p).map_err(|e| format!("{}: {e}", p.display()))?,
        None => load_default_prices().map_err(|e| format!("shipped price data: {e}"))?,
    };
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let quiet = a.quiet;
    let progress = move |d: u64, t: u64| {
        if !quiet {
            say(format_args!(
                "attack search: {d}/{t} tasks ({:.0} s)",
                t0.elapsed().as_secs_f64()
            ));
        }
    };
    let r = run_attack_search(&cfg, &prices, jobs, &progress)?;
    let json = r.to_json();
    let md = azex_sim::attack_search::render_attack_markdown(&r);
    std::fs::create_dir_all(&a.out).map_err(|e| format!("{}: {e}", a.out.display()))?;
    let jp = a.out.join("attack-search.json");
    let mp = a.out.join("attack-search.md");
    std::fs::write(&jp, &json).map_err(|e| format!("{}: {e}", jp.display()))?;
    std::fs::write(&mp, &md).map_err(|e| format!("{}: {e}", mp.display()))?;
    if a.json {
        out.line(&json)?;
    } else {
        out.line(&md)?;
    }
    if !a.quiet {
        say(format_args!(
            "wrote {} and {} in {:.1} s ({} jobs)",
            jp.display(),
            mp.display(),
            t0.elapsed().as_secs_f64(),
            jobs
        ));
    }
    Ok(())
}
