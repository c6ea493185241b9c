//! `azex-adversary`: long adversary searches and replays (see the crate README).

use azex_adversary::world::{Party, World};
use azex_adversary::{finding_to_jsonl, scenario, search, Base, SearchConfig, SearchReport};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "usage:
  azex-adversary search [--seed N] [--iters N] [--threads N] [--max-len N] [--out DIR] [--quiet]
                        [--commit HASH]
      runs THREADS independent searches with seeds N, N+1, ... (default: seed 1, 2000 iterations,
      1 thread, out/adversary); writes each violation class's best sequence to
      DIR/<class>-seed<S>.jsonl, headed with the engine commit (git rev-parse HEAD, or HASH)
  azex-adversary replay [--json] FILE...
      re-checks scenario files written by the search (--json: every figure of the verdict); exit
      code 1 if any shows a violation
  azex-adversary trace FILE
      replays a scenario file and prints, at every block, the vault's NAV and share price and each
      market's oracle spot, risk price, pool price, depth and open interest";

fn git(args: &[&str]) -> Option<String> {
    std::process::Command::new("git")
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

/// `git rev-parse HEAD`, with `+uncommitted` when the engine's crates differ from it.
fn engine_commit() -> String {
    let Some(head) = git(&["rev-parse", "HEAD"]) else {
        return "unknown".into();
    };
    let dirty = git(&[
        "status",
        "--porcelain",
        "--",
        "crates/azex-exchange/src",
        "crates/azex-spot/src",
        "crates/azex-oracle/src",
        "crates/azex-math/src",
        // replay tools of the spot crate: not part of the engine
        ":(exclude)crates/azex-spot/src/chain_replay.rs",
        ":(exclude)crates/azex-spot/src/vectors.rs",
    ])
    .is_some_and(|s| !s.is_empty());
    if dirty {
        format!("{head}+uncommitted")
    } else {
        head
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("search") => cmd_search(&args[1..]),
        Some("replay") => cmd_replay(&args[1..]),
        Some("trace") if args.len() == 2 => cmd_trace(&args[1]),
        _ => {
            eprintln!("{USAGE}");
            ExitCode::FAILURE
        }
    }
}

/// `azex-adversary search`'s options.
struct SearchArgs {
    cfg: SearchConfig,
    threads: u64,
    out: PathBuf,
    commit: String,
}

/// Parse `search`'s arguments (`None`: a bad argument, already reported).
fn parse_search_args(args: &[String]) -> Option<SearchArgs> {
    let mut a = SearchArgs {
        cfg: SearchConfig {
            iterations: 2_000,
            verbose: true,
            ..SearchConfig::default()
        },
        threads: 1,
        out: PathBuf::from("out/adversary"),
        commit: engine_commit(),
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut num = |name: &str| -> Option<u64> {
            let v = it.next().and_then(|v| v.parse().ok());
            if v.is_none() {
                eprintln!("{name} needs a number\n{USAGE}");
            }
            v
        };
        match arg.as_str() {
            "--seed" => a.cfg.seed = num("--seed")?,
            "--iters" => a.cfg.iterations = num("--iters")?,
            "--threads" => a.threads = num("--threads")?.max(1),
            // A bound on the sequence length: beyond usize, no bound.
            "--max-len" => a.cfg.max_len = usize::try_from(num("--max-len")?).unwrap_or(usize::MAX),
            "--out" => a.out = PathBuf::from(it.next()?),
            "--quiet" => a.cfg.verbose = false,
            "--commit" => a.commit = it.next()?.clone(),
            _ => {
                eprintln!("unknown argument {arg}\n{USAGE}");
                return None;
            }
        }
    }
    Some(a)
}

fn cmd_search(args: &[String]) -> ExitCode {
    let Some(a) = parse_search_args(args) else {
        return ExitCode::FAILURE;
    };
    let base = match Base::standard(false) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("cannot build the world: {e}");
            return ExitCode::FAILURE;
        }
    };
    let t0 = std::time::Instant::now();
    let reports = search_threads(&base, &a.cfg, a.threads);
    eprintln!("searched in {:.1} s", t0.elapsed().as_secs_f64());
    if let Err(e) = std::fs::create_dir_all(&a.out) {
        eprintln!("{}: {e}", a.out.display());
        return ExitCode::FAILURE;
    }
    if write_findings(&reports, &a.out, &a.commit) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `threads` independent searches with seeds `cfg.seed`, `cfg.seed + 1`, …
fn search_threads(base: &Base, cfg: &SearchConfig, threads: u64) -> Vec<SearchReport> {
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|i| {
                let cfg = SearchConfig {
                    seed: cfg.seed + i,
                    ..cfg.clone()
                };
                s.spawn(move || search(base, &cfg))
            })
            .collect();
        hs.into_iter().filter_map(|h| h.join().ok()).collect()
    })
}

/// Print each report's summary and write each finding to `out/<class>-seed<S>.jsonl`. Returns
/// whether there was any finding.
fn write_findings(reports: &[SearchReport], out: &Path, commit: &str) -> bool {
    let mut any = false;
    for r in reports {
        print!("{}", r.summary());
        for f in &r.findings {
            any = true;
            let path = out.join(format!("{}-seed{}.jsonl", f.kind, r.seed));
            match finding_to_jsonl(f, r.seed, commit) {
                Ok(text) => match std::fs::write(&path, text) {
                    Ok(()) => println!("  wrote {}", path.display()),
                    Err(e) => eprintln!("{}: {e}", path.display()),
                },
                Err(e) => eprintln!("cannot re-run the {} finding: {e}", f.kind),
            }
        }
    }
    any
}

fn cmd_replay(args: &[String]) -> ExitCode {
    let json = args.iter().any(|a| a == "--json");
    let mut bad = false;
    for f in args.iter().filter(|a| *a != "--json") {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{f}: {e}");
                return ExitCode::FAILURE;
            }
        };
        match scenario::replay(&text) {
            Ok(o) if json => {
                println!("{}", serde_json::to_string_pretty(&o).unwrap_or_default());
                bad |= !o.violations.is_empty();
            }
            Ok(o) => {
                println!(
                    "{f}: coalition gain ${:.2}, honest LP loss ${:.2}, violations {:?}",
                    o.coalition_gain as f64 / 1e6,
                    o.vault_loss as f64 / 1e6,
                    o.kinds()
                );
                for v in &o.violations {
                    println!("  {}", serde_json::to_string(v).unwrap_or_default());
                }
                bad |= !o.violations.is_empty();
            }
            Err(e) => {
                eprintln!("{f}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    if bad {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn cmd_trace(file: &str) -> ExitCode {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{file}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut world: Option<World> = None;
    for (i, l) in text.lines().enumerate() {
        let l = l.trim();
        if l.starts_with("# coalition:") {
            println!("{l}");
        }
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let Ok(v) = serde_json::from_str::<serde_json::Value>(l) else {
            eprintln!("line {}: not JSON", i + 1);
            return ExitCode::FAILURE;
        };
        if let Some(g) = v.get("genesis") {
            let g = serde_json::from_value(g.clone()).ok();
            world = g.and_then(|g| World::from_genesis(&g, false).ok());
            continue;
        }
        let Some(w) = world.as_mut() else {
            eprintln!("line {}: no genesis before", i + 1);
            return ExitCode::FAILURE;
        };
        if let Some(b) = v
            .get("block")
            .and_then(|b| serde_json::from_value(b.clone()).ok())
        {
            if let Err(e) = w.begin(b) {
                println!("chain halted: {e}");
                break;
            }
            print_block(w);
        } else if let Some(tx) = v
            .get("tx")
            .and_then(|t| serde_json::from_value(t.clone()).ok())
        {
            if let Err(e) = w.apply(tx, Party::Setup) {
                println!("  line {}: refused: {e}", i + 1);
            }
        }
    }
    ExitCode::SUCCESS
}

/// One line for the block just begun: the vault's NAV and share price, and each market's
/// status, prices, depth and open interest.
fn print_block(w: &World) {
    let Ok(s) = azex_exchange::scenario::summarize(&w.state, 0) else {
        return;
    };
    let usd = |x: u128| x as f64 / 1e6;
    let px = |x: u128| x as f64 / 1e18;
    let ms: Vec<String> = s
        .markets
        .iter()
        .map(|m| {
            format!(
                "m{} {} spot {:.4} risk {:.4} pool {:.4} depth ${:.0} L ${:.0} S ${:.0}",
                m.market,
                m.status,
                px(m.spot),
                px(m.risk_price),
                px(m.pool_price),
                usd(m.spot_liquidity),
                usd(m.long_notional),
                usd(m.short_notional)
            )
        })
        .collect();
    println!(
        "block {:>4} t {} · NAV ${:.2} share {} · {}",
        w.block.height,
        w.block.timestamp,
        s.vault_nav as f64 / 1e6,
        s.share_price,
        ms.join(" · ")
    );
}
