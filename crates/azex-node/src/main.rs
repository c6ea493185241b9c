//! `azex-node`: the node binary (the same functions as `azex node`; used by the crash-loop test).

use azex_node::api::ApiLimits;
use azex_node::NodeOptions;
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "azex-node", about = "The AZEx node")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a node.
    Run(RunArgs),
    /// Measure: recovery rate, engine alone, node throughput and latency, replay.
    Loadgen(LoadgenArgs),
    /// Snapshot size, encode/decode time and restart from a snapshot vs replay from genesis,
    /// on a state built with `--positions` open positions.
    Snapbench(SnapbenchArgs),
    /// Replay a data directory from genesis and check every block's state hash.
    Verify {
        #[arg(long)]
        data: PathBuf,
    },
}

#[derive(Args)]
struct RunArgs {
    #[arg(long)]
    data: PathBuf,
    #[arg(long, default_value_t = 8545)]
    port: u16,
    #[arg(long)]
    genesis: Option<PathBuf>,
    #[arg(long, default_value_t = 200)]
    block_time_ms: u64,
    #[arg(long, default_value_t = azex_node::DEFAULT_CHAIN_ID)]
    chain_id: u64,
    /// No rate limits (benchmarks).
    #[arg(long)]
    no_rate_limits: bool,
    /// Write a state snapshot every N blocks (0: never).
    #[arg(long, default_value_t = azex_node::snapshot::DEFAULT_EVERY)]
    snapshot_every: u64,
    /// Snapshots kept.
    #[arg(long, default_value_t = azex_node::snapshot::DEFAULT_KEEP)]
    snapshot_keep: usize,
}

#[derive(Args)]
struct LoadgenArgs {
    #[arg(long)]
    rate: Option<f64>,
    #[arg(long, default_value_t = 10.0)]
    secs: f64,
    #[arg(long, default_value_t = 1000)]
    accounts: usize,
    #[arg(long, default_value_t = 100)]
    block_time_ms: u64,
    #[arg(long, default_value = "mint")]
    mix: String,
    #[arg(long)]
    data: Option<PathBuf>,
}

#[derive(Args)]
struct SnapbenchArgs {
    #[arg(long, default_value_t = 1_000_000)]
    positions: usize,
    #[arg(long, default_value_t = 5)]
    markets: u64,
    #[arg(long, default_value_t = 1_000)]
    accounts: u64,
    #[arg(long, default_value_t = 10_000)]
    per_block: usize,
    #[arg(long, default_value_t = 10)]
    tail_blocks: usize,
}

fn main() -> ExitCode {
    let (what, result) = match Cli::parse().cmd {
        Cmd::Run(a) => ("azex-node", run(a)),
        Cmd::Loadgen(a) => ("azex-node loadgen", loadgen(a)),
        Cmd::Snapbench(a) => ("azex-node snapbench", snapbench(a)),
        Cmd::Verify { data } => ("azex-node verify", verify(&data)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            azex_node::warn_line!("{what}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(a: RunArgs) -> Result<(), String> {
    let mut o = NodeOptions::new(a.data, a.port);
    o.snapshot_every = a.snapshot_every;
    o.snapshot_keep = a.snapshot_keep;
    o.genesis = a.genesis;
    o.block_time_ms = a.block_time_ms;
    o.chain_id = a.chain_id;
    if a.no_rate_limits {
        o.api = ApiLimits::unlimited();
    }
    azex_node::node::run(o).map_err(|e| e.to_string())
}

fn loadgen(a: LoadgenArgs) -> Result<(), String> {
    let mut o = azex_node::loadgen::LoadgenOptions {
        rate: a.rate,
        secs: a.secs,
        accounts: a.accounts,
        block_time_ms: a.block_time_ms,
        mix: a.mix,
        ..Default::default()
    };
    if let Some(d) = a.data {
        o.data = d;
    }
    let r = azex_node::loadgen::run(&o)?;
    azex_node::say!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
    Ok(())
}

fn snapbench(a: SnapbenchArgs) -> Result<(), String> {
    let o = azex_node::snapbench::SnapbenchOptions {
        positions: a.positions,
        markets: a.markets.max(1),
        users: a.accounts.max(2),
        per_block: a.per_block.max(1),
        tail_blocks: a.tail_blocks,
        ..Default::default()
    };
    let r = azex_node::snapbench::run(&o)?;
    azex_node::say!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
    Ok(())
}

fn verify(data: &Path) -> Result<(), String> {
    let (s, h) = azex_node::node::verify_dir(data).map_err(|e| e.to_string())?;
    azex_node::say!(
        "verified {} blocks, {} transactions in {:.2} s; state {h}",
        s.replayed_blocks,
        s.replayed_txs,
        s.replay_secs
    );
    Ok(())
}
