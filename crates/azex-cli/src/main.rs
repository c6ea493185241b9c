//! `azex`: the command-line front end. Each subcommand is a thin shell over a library call.

mod attack;
mod demo;
mod fmt;
mod node;
mod out;
mod sim;

use clap::{Parser, Subcommand};
use out::{Fail, Out};
use std::path::{Path, PathBuf};
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
    /// events as JSON lines, then the summary (accounts, open positions, markets, vault) and the
    /// state hash. The file is read and the output written one line at a time. A malformed line
    /// stops the run with `FILE:LINE: message` and exit code 2.
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
    /// Optimising adversaries: each attack kind searches its parameters for the largest LP loss
    /// (then its own PnL) on real price windows through the real engine; JSON and Markdown.
    AttackSearch(Box<attack::AttackArgs>),
    /// Run a node: sequencer, durable block log, HTTP/WebSocket API (docs/node.md).
    Node(azex_node::args::NodeArgs),
    /// Follow a node: replay its blocks into a local state, checking every state hash.
    Follow(node::FollowArgs),
    /// Run a keeper against a node: follow the chain, send signed liquidations and ADL.
    Keeper(node::KeeperArgs),
    /// Start a node, three keepers and trading bots in one command.
    Devnet(node::DevnetArgs),
    /// Sign and submit (or simulate) a transaction with a key file.
    Tx(node::TxArgs),
    /// Measure the node: recovery rate, engine alone, throughput, latency, replay.
    Loadgen(azex_node::loadgen::LoadgenOptions),
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
    let mut out = Out::new();
    let res = run(cli, &mut out).and_then(|code| out.finish().map(|_| code));
    match res {
        Ok(code) => code,
        // The reader of stdout went away (`azex run … | head`): it wanted no more.
        Err(Fail::Pipe) => ExitCode::SUCCESS,
        Err(Fail::Msg(e)) => {
            out::say(format_args!("error: {e}"));
            ExitCode::from(2)
        }
    }
}

/// `FILE:LINE: message` for a scenario error.
fn scenario_error(file: &Path, e: &azex_exchange::scenario::ScenarioError) -> String {
    match e.line() {
        Some(0) => format!("{}: at the end of the run: {}", file.display(), e.detail()),
        Some(n) => format!("{}:{n}: {}", file.display(), e.detail()),
        None => format!("{}: {e}", file.display()),
    }
}

fn run_scenario(file: &Path, summary_only: bool, out: &mut Out) -> Result<ExitCode, Fail> {
    use azex_exchange::scenario::{run_reader, RunError};
    use std::io::Write;
    let f = std::fs::File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
    if f.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(format!("{}: is a directory", file.display()).into());
    }
    let reader = std::io::BufReader::with_capacity(1 << 16, f);
    let res = run_reader(reader, |l| {
        if summary_only {
            return Ok(());
        }
        let w = out.writer();
        serde_json::to_writer(&mut *w, &l).map_err(std::io::Error::from)?;
        w.write_all(b"\n")
    });
    match res {
        Ok(done) => {
            let w = out.writer();
            serde_json::to_writer_pretty(&mut *w, &done.summary)
                .map_err(std::io::Error::from)
                .map_err(out::write_error)?;
            out.line("")?;
            Ok(ExitCode::SUCCESS)
        }
        Err(RunError::Output(e)) => Err(out::write_error(e)),
        Err(RunError::Scenario(e)) => Err(scenario_error(file, &e).into()),
    }
}

fn run(cli: Cli, out: &mut Out) -> Result<ExitCode, Fail> {
    match cli.cmd {
        Cmd::Demo => demo::run(out).map(|_| ExitCode::SUCCESS),
        Cmd::Sim(a) => sim::run(*a, out).map(|_| ExitCode::SUCCESS),
        Cmd::AttackSearch(a) => attack::run(*a, out).map(|_| ExitCode::SUCCESS),
        Cmd::Spot {
            cmd: SpotCmd::ReplayVectors { files },
        } => {
            use azex_spot::vectors::VectorError;
            let mut total = azex_spot::vectors::VectorReport::default();
            for f in &files {
                let r = azex_spot::vectors::replay_vectors_file(f).map_err(|e| match e {
                    VectorError::Format { line, message } => {
                        format!("{}:{line}: {message}", f.display())
                    }
                    e => format!("{}: {e}", f.display()),
                })?;
                if files.len() > 1 {
                    out.line(format_args!(
                        "{}: {}",
                        f.display(),
                        r.to_string().lines().next().unwrap_or("")
                    ))?;
                }
                total.merge(r);
            }
            out.line(&total)?;
            Ok(if total.mismatches > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Cmd::Spot {
            cmd: SpotCmd::ReplayChain { state, events },
        } => {
            use azex_spot::chain_replay::ChainReplayError as E;
            let r =
                azex_spot::chain_replay::replay_chain_files(&state, &events).map_err(
                    |e| match e {
                        E::State(m) => format!("{}: {m}", state.display()),
                        E::Snapshot(m) => {
                            format!("{}: rebuilding the snapshot: {m}", state.display())
                        }
                        E::Events(m) if m.starts_with(&*events.to_string_lossy()) => m,
                        E::Events(m) => format!("{}: {m}", events.display()),
                        e => e.to_string(),
                    },
                )?;
            out.line(&r)?;
            Ok(if r.swaps_differed > 0 || r.skipped_count > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Cmd::Run { file, summary_only } => run_scenario(&file, summary_only, out),
        Cmd::Node(a) => Ok(node::node(a)?),
        Cmd::Follow(a) => Ok(node::follow(a)?),
        Cmd::Keeper(a) => Ok(node::keeper(a)?),
        Cmd::Devnet(a) => Ok(node::devnet(a)?),
        Cmd::Tx(a) => Ok(node::tx(a)?),
        Cmd::Loadgen(a) => Ok(node::loadgen(a)?),
    }
}
