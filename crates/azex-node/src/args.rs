//! The command-line options of a node, shared by `azex node` and `azex-node run`.

use crate::api::ApiLimits;
use crate::NodeOptions;
use std::path::PathBuf;

/// `azex node …` / `azex-node run …`.
#[derive(Debug, Clone, clap::Args)]
pub struct NodeArgs {
    /// Data directory (block log, indexes, genesis).
    #[arg(long)]
    pub data: PathBuf,
    /// API port.
    #[arg(long, default_value_t = 8545)]
    pub port: u16,
    /// Listen address.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: std::net::IpAddr,
    /// Genesis file for a new data directory (default: dev genesis).
    #[arg(long)]
    pub genesis: Option<PathBuf>,
    /// Block time.
    #[arg(long, default_value_t = 200)]
    pub block_time_ms: u64,
    /// EIP-712 chain id transactions must be signed for.
    #[arg(long, default_value_t = crate::DEFAULT_CHAIN_ID)]
    pub chain_id: u64,
    /// Disable the per-IP and per-account rate limits.
    #[arg(long)]
    pub no_rate_limits: bool,
    /// Replay the data directory from genesis, check every state hash, and exit.
    #[arg(long)]
    pub verify: bool,
    /// Write a state snapshot every N blocks (0: never); start-up loads the newest valid one
    /// and replays only the log after it.
    #[arg(long, default_value_t = crate::snapshot::DEFAULT_EVERY)]
    pub snapshot_every: u64,
    /// Snapshots kept.
    #[arg(long, default_value_t = crate::snapshot::DEFAULT_KEEP)]
    pub snapshot_keep: usize,
}

impl NodeArgs {
    /// The node's options.
    pub fn options(&self) -> NodeOptions {
        let mut o = NodeOptions::new(self.data.clone(), self.port);
        o.listen = std::net::SocketAddr::new(self.host, self.port);
        o.genesis = self.genesis.clone();
        o.block_time_ms = self.block_time_ms;
        o.chain_id = self.chain_id;
        o.snapshot_every = self.snapshot_every;
        o.snapshot_keep = self.snapshot_keep;
        if self.no_rate_limits {
            o.api = ApiLimits::unlimited();
        }
        o
    }

    /// Run the node until Ctrl-C / SIGTERM, or with `--verify` replay the directory and return
    /// the line to print.
    pub fn run(&self) -> Result<Option<String>, String> {
        if self.verify {
            let (s, h) = crate::node::verify_dir(&self.data).map_err(|e| e.to_string())?;
            return Ok(Some(format!(
                "verified {} blocks, {} transactions in {:.2} s; state {h}",
                s.replayed_blocks, s.replayed_txs, s.replay_secs
            )));
        }
        crate::node::run(self.options()).map_err(|e| e.to_string())?;
        Ok(None)
    }
}
