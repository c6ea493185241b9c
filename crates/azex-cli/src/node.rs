//! `azex node`, `azex follow`, `azex keeper`, `azex devnet`, `azex tx`, `azex loadgen`: thin
//! shells over `azex-node` (docs/node.md).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

/// `azex node`: run a node (or `--verify` its data directory).
pub(crate) fn node(a: azex_node::args::NodeArgs) -> Result<ExitCode, String> {
    if let Some(line) = a.run()? {
        crate::out::println_or_exit(format_args!("{line}"));
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub(crate) struct FollowArgs {
    /// Node URL, e.g. http://127.0.0.1:8545
    #[arg(long)]
    node: String,
    /// Stop at this height.
    #[arg(long)]
    blocks: Option<u64>,
    /// Do not re-check transaction signatures.
    #[arg(long)]
    no_verify_signatures: bool,
}

pub(crate) fn follow(a: FollowArgs) -> Result<ExitCode, String> {
    let stop = AtomicBool::new(false);
    azex_node::follower::follow(
        &azex_node::follower::FollowOptions {
            node: a.node,
            blocks: a.blocks,
            verify_signatures: !a.no_verify_signatures,
        },
        &stop,
    )
    .map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub(crate) struct KeeperArgs {
    #[arg(long)]
    node: String,
    /// Key file (created if missing).
    #[arg(long)]
    key: PathBuf,
}

pub(crate) fn keeper(a: KeeperArgs) -> Result<ExitCode, String> {
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    azex_node::keeper::stop_on_signal(stop.clone());
    let r = azex_node::keeper::run_keeper(
        &azex_node::keeper::KeeperOptions {
            node: a.node,
            key: a.key,
            until_height: None,
            quiet: false,
        },
        &stop,
    )
    .map_err(|e| e.to_string())?;
    crate::out::println_or_exit(format_args!(
        "keeper stopped at height {}: {} sent, {} send errors",
        r.height, r.sent, r.send_errors
    ));
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub(crate) struct DevnetArgs {
    #[arg(long)]
    data: PathBuf,
    #[arg(long, default_value_t = 8545)]
    port: u16,
    #[arg(long, default_value_t = 3)]
    keepers: usize,
    #[arg(long, default_value_t = 3)]
    traders: usize,
    #[arg(long, default_value_t = 200)]
    block_time_ms: u64,
    /// Real milliseconds per 30-minute bar of the shipped prices.
    #[arg(long, default_value_t = 2000)]
    bar_ms: u64,
    /// Run keepers as threads instead of `azex keeper` processes.
    #[arg(long)]
    keepers_in_process: bool,
}

pub(crate) fn devnet(a: DevnetArgs) -> Result<ExitCode, String> {
    let mut o = azex_node::devnet::DevnetOptions::new(a.data, a.port);
    o.keepers = a.keepers;
    o.traders = a.traders;
    o.block_time_ms = a.block_time_ms;
    o.bar_ms = a.bar_ms;
    if !a.keepers_in_process {
        o.keeper_exe = std::env::current_exe().ok();
    }
    azex_node::devnet::run(&o)?;
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub(crate) struct TxArgs {
    #[arg(long, default_value = "http://127.0.0.1:8545")]
    node: String,
    /// Key file (0x + 64 hex digits).
    #[arg(long)]
    key: PathBuf,
    /// Return once in the mempool instead of waiting for the durable commit.
    #[arg(long)]
    no_wait: bool,
    /// Simulate only (the engine's `simulate` on the node's state).
    #[arg(long)]
    simulate: bool,
    /// Print the signed transaction (next nonce) instead of sending it, e.g. for curl.
    #[arg(long)]
    sign_only: bool,
    /// Transaction type (mint_azusd, open_position, close_position, lp_deposit, spot_swap, …)
    /// or `keygen`.
    kind: String,
    /// The transaction's fields as `--name value` (JSON field names; `user` is the key's address).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    fields: Vec<String>,
}

pub(crate) fn tx(a: TxArgs) -> Result<ExitCode, String> {
    let v = azex_node::cli::tx(&azex_node::cli::TxOptions {
        node: a.node,
        key: a.key,
        kind: a.kind,
        fields: a.fields,
        wait: !a.no_wait,
        simulate: a.simulate,
        sign_only: a.sign_only,
    })?;
    crate::out::println_or_exit(format_args!(
        "{}",
        serde_json::to_string_pretty(&v).unwrap_or_default()
    ));
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn loadgen(o: azex_node::loadgen::LoadgenOptions) -> Result<ExitCode, String> {
    let r = azex_node::loadgen::run(&o)?;
    crate::out::println_or_exit(format_args!(
        "{}",
        serde_json::to_string_pretty(&r).unwrap_or_default()
    ));
    Ok(ExitCode::SUCCESS)
}
