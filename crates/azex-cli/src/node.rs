//! `azex node`, `azex follow`, `azex keeper`, `azex devnet`, `azex tx`, `azex loadgen`: thin
//! shells over `azex-node` (docs/node.md).

use azex_node::api::ApiLimits;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

#[derive(clap::Args)]
pub struct NodeArgs {
    /// Data directory (block log, indexes, genesis).
    #[arg(long)]
    data: PathBuf,
    /// API port on 127.0.0.1.
    #[arg(long, default_value_t = 8545)]
    port: u16,
    /// Listen address (default 127.0.0.1).
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// Genesis file for a new data directory (default: dev genesis).
    #[arg(long)]
    genesis: Option<PathBuf>,
    #[arg(long, default_value_t = 200)]
    block_time_ms: u64,
    #[arg(long, default_value_t = azex_node::DEFAULT_CHAIN_ID)]
    chain_id: u64,
    /// Disable the per-IP and per-account rate limits.
    #[arg(long)]
    no_rate_limits: bool,
    /// Replay the data directory from genesis, check every state hash, and exit.
    #[arg(long)]
    verify: bool,
    /// Write a state snapshot every N blocks (0: never); start-up loads the newest valid one
    /// and replays only the log after it.
    #[arg(long, default_value_t = azex_node::snapshot::DEFAULT_EVERY)]
    snapshot_every: u64,
    /// Snapshots kept.
    #[arg(long, default_value_t = azex_node::snapshot::DEFAULT_KEEP)]
    snapshot_keep: usize,
}

pub fn node(a: NodeArgs) -> Result<ExitCode, String> {
    if a.verify {
        let (s, h) = azex_node::node::verify_dir(&a.data).map_err(|e| e.to_string())?;
        crate::out::println_or_exit(format_args!(
            "verified {} blocks, {} transactions in {:.2} s; state {h}",
            s.replayed_blocks, s.replayed_txs, s.replay_secs
        ));
        return Ok(ExitCode::SUCCESS);
    }
    let mut o = azex_node::NodeOptions::new(a.data, a.port);
    o.listen = std::net::SocketAddr::new(a.host, a.port);
    o.genesis = a.genesis;
    o.block_time_ms = a.block_time_ms;
    o.chain_id = a.chain_id;
    o.snapshot_every = a.snapshot_every;
    o.snapshot_keep = a.snapshot_keep;
    if a.no_rate_limits {
        o.api = ApiLimits::unlimited();
    }
    azex_node::node::run(o).map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct FollowArgs {
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

pub fn follow(a: FollowArgs) -> Result<ExitCode, String> {
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
pub struct KeeperArgs {
    #[arg(long)]
    node: String,
    /// Key file (created if missing).
    #[arg(long)]
    key: PathBuf,
}

pub fn keeper(a: KeeperArgs) -> Result<ExitCode, String> {
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
pub struct DevnetArgs {
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

pub fn devnet(a: DevnetArgs) -> Result<ExitCode, String> {
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
pub struct TxArgs {
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

pub fn tx(a: TxArgs) -> Result<ExitCode, String> {
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

#[derive(clap::Args)]
pub struct LoadgenArgs {
    /// Transactions per second (default: as fast as the node takes them).
    #[arg(long)]
    rate: Option<f64>,
    #[arg(long, default_value_t = 10.0)]
    secs: f64,
    #[arg(long, default_value_t = 1000)]
    accounts: usize,
    #[arg(long, default_value_t = 100)]
    block_time_ms: u64,
    /// mint | trade
    #[arg(long, default_value = "mint")]
    mix: String,
    /// Data directory of the node the run starts (emptied).
    #[arg(long)]
    data: Option<PathBuf>,
}

pub fn loadgen(a: LoadgenArgs) -> Result<ExitCode, String> {
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
    crate::out::println_or_exit(format_args!(
        "{}",
        serde_json::to_string_pretty(&r).unwrap_or_default()
    ));
    Ok(ExitCode::SUCCESS)
}
