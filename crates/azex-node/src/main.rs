//! `azex-node`: the node binary (the same functions as `azex node`; used by the crash-loop test).

use azex_node::api::ApiLimits;
use azex_node::NodeOptions;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
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
    Run {
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
    },
    /// Measure: recovery rate, engine alone, node throughput and latency, replay.
    Loadgen {
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
    },
    /// Snapshot size, encode/decode time and restart from a snapshot vs replay from genesis,
    /// on a state built with `--positions` open positions.
    Snapbench {
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
    },
    /// Replay a data directory from genesis and check every block's state hash.
    Verify {
        #[arg(long)]
        data: PathBuf,
    },
}

fn main() -> ExitCode {
    match Cli::parse().cmd {
        Cmd::Run {
            data,
            port,
            genesis,
            block_time_ms,
            chain_id,
            no_rate_limits,
            snapshot_every,
            snapshot_keep,
        } => {
            let mut o = NodeOptions::new(data, port);
            o.snapshot_every = snapshot_every;
            o.snapshot_keep = snapshot_keep;
            o.genesis = genesis;
            o.block_time_ms = block_time_ms;
            o.chain_id = chain_id;
            if no_rate_limits {
                o.api = ApiLimits::unlimited();
            }
            match azex_node::node::run(o) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    azex_node::warn_line!("azex-node: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Cmd::Loadgen {
            rate,
            secs,
            accounts,
            block_time_ms,
            mix,
            data,
        } => {
            let mut o = azex_node::loadgen::LoadgenOptions {
                rate,
                secs,
                accounts,
                block_time_ms,
                mix,
                ..Default::default()
            };
            if let Some(d) = data {
                o.data = d;
            }
            match azex_node::loadgen::run(&o) {
                Ok(r) => {
                    azex_node::say!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    azex_node::warn_line!("azex-node loadgen: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Cmd::Snapbench {
            positions,
            markets,
            accounts,
            per_block,
            tail_blocks,
        } => {
            let o = azex_node::snapbench::SnapbenchOptions {
                positions,
                markets: markets.max(1),
                users: accounts.max(2),
                per_block: per_block.max(1),
                tail_blocks,
                ..Default::default()
            };
            match azex_node::snapbench::run(&o) {
                Ok(r) => {
                    azex_node::say!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    azex_node::warn_line!("azex-node snapbench: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Cmd::Verify { data } => match azex_node::node::verify_dir(&data) {
            Ok((s, h)) => {
                azex_node::say!(
                    "verified {} blocks, {} transactions in {:.2} s; state {h}",
                    s.replayed_blocks,
                    s.replayed_txs,
                    s.replay_secs
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                azex_node::warn_line!("azex-node verify: {e}");
                ExitCode::FAILURE
            }
        },
    }
}
