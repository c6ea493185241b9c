//! `azex-node`: the node binary (the same functions as `azex node`; used by the crash-loop test).

use azex_node::args::NodeArgs;
use azex_node::loadgen::LoadgenOptions;
use azex_node::snapbench::SnapbenchOptions;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "azex-node", about = "The AZEx node")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a node (`--verify`: replay its data directory from genesis, check every block's
    /// state hash, exit).
    Run(NodeArgs),
    /// Measure: recovery rate, engine alone, node throughput and latency, replay.
    Loadgen(LoadgenOptions),
    /// Snapshot size, encode/decode time and restart from a snapshot vs replay from genesis,
    /// on a state built with `--positions` open positions.
    Snapbench(SnapbenchOptions),
}

fn main() -> ExitCode {
    let (what, result) = match Cli::parse().cmd {
        Cmd::Run(a) => ("azex-node", run(a)),
        Cmd::Loadgen(a) => ("azex-node loadgen", loadgen(a)),
        Cmd::Snapbench(a) => ("azex-node snapbench", snapbench(a)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            azex_node::warn_line!("{what}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(a: NodeArgs) -> Result<(), String> {
    if let Some(line) = a.run()? {
        azex_node::say!("{line}");
    }
    Ok(())
}

fn loadgen(o: LoadgenOptions) -> Result<(), String> {
    let r = azex_node::loadgen::run(&o)?;
    azex_node::say!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
    Ok(())
}

fn snapbench(o: SnapbenchOptions) -> Result<(), String> {
    let r = azex_node::snapbench::run(&o)?;
    azex_node::say!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
    Ok(())
}
