//! `azex`: the command-line front end. Each subcommand is a thin shell over a library call.

mod demo;
mod fmt;
mod sim;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "azex",
    version,
    about = "AZEx: a capital-efficient peer-to-pool perpetual AMM"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Create an azUSD/BASE pool with the oracle hook, add liquidity, swap (including a
    /// manipulation attempt) and print what the oracle sees block by block.
    Demo,
    /// Spot pool tools.
    Spot {
        #[command(subcommand)]
        cmd: SpotCmd,
    },
    /// Run a scenario file (JSON lines of blocks and transactions) through the exchange; print
    /// events as JSON lines, then the summary and the state hash.
    Run {
        /// The scenario file.
        file: PathBuf,
        /// Print only the final summary.
        #[arg(long)]
        summary_only: bool,
    },
    /// Simulate seeded agents trading on the exchange over historical prices (the shipped
    /// 2017-2019 data by default), next to classic and reserve-factor baselines; write
    /// JSON, a Markdown report and PNG charts (default `out/sim`).
    Sim(Box<sim::SimArgs>),
}

#[derive(Subcommand)]
enum SpotCmd {
    /// Replay Uniswap v4 reference vectors (JSON lines) and compare every step.
    ReplayVectors {
        /// One or more vector files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Rebuild a pool from a snapshot and replay its recorded on-chain event log.
    ReplayChain {
        #[arg(long)]
        state: PathBuf,
        #[arg(long)]
        events: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.cmd {
        Cmd::Demo => demo::run().map(|_| ExitCode::SUCCESS),
        Cmd::Sim(a) => sim::run(*a).map(|_| ExitCode::SUCCESS),
        Cmd::Spot {
            cmd: SpotCmd::ReplayVectors { files },
        } => {
            let mut total = azex_spot::vectors::VectorReport::default();
            for f in &files {
                let r = azex_spot::vectors::replay_vectors_file(f)
                    .map_err(|e| format!("{}: {e}", f.display()))?;
                if files.len() > 1 {
                    println!(
                        "{}: {}",
                        f.display(),
                        r.to_string().lines().next().unwrap_or("")
                    );
                }
                total.merge(r);
            }
            println!("{total}");
            Ok(if total.mismatches > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Cmd::Spot {
            cmd: SpotCmd::ReplayChain { state, events },
        } => {
            let r = azex_spot::chain_replay::replay_chain_files(&state, &events)
                .map_err(|e| e.to_string())?;
            println!("{r}");
            Ok(if r.swaps_differed > 0 || r.skipped_count > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Cmd::Run { file, summary_only } => {
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let r = azex_exchange::scenario::run(&text)
                .map_err(|e| format!("{}: {e}", file.display()))?;
            if !summary_only {
                for l in &r.output {
                    println!("{}", serde_json::to_string(l).map_err(|e| e.to_string())?);
                }
            }
            println!(
                "{}",
                serde_json::to_string_pretty(&r.summary).map_err(|e| e.to_string())?
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
