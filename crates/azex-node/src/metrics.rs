//! Counters for `/metrics` (Prometheus text format).

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub struct Metrics {
    pub http_requests: AtomicU64,
    pub http_errors: AtomicU64,
    pub rate_limited: AtomicU64,
    pub tx_accepted: AtomicU64,
    pub tx_rejected: AtomicU64,
    pub tx_expired: AtomicU64,
    pub blocks: AtomicU64,
    pub height: AtomicU64,
    pub txs_committed: AtomicU64,
    pub txs_applied: AtomicU64,
    pub txs_refused: AtomicU64,
    pub mempool: AtomicU64,
    pub last_exec_us: AtomicU64,
    pub last_fsync_us: AtomicU64,
    pub ws_clients: AtomicU64,
    pub snapshots: AtomicU64,
    pub last_snapshot_height: AtomicU64,
    pub last_snapshot_ms: AtomicU64,
    pub last_snapshot_bytes: AtomicU64,
    /// Height of the snapshot start-up loaded (0: replayed from genesis).
    pub startup_snapshot_height: AtomicU64,
}

const COUNTER: &str = "counter";
const GAUGE: &str = "gauge";

/// One exported figure: its Prometheus name, type and help text, and the counter it reads.
struct Row {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    value: fn(&Metrics) -> &AtomicU64,
}

/// Every figure `/metrics` exports, in the order it prints them.
const ROWS: [Row; 20] = [
    Row {
        name: "azex_http_requests_total",
        kind: COUNTER,
        help: "HTTP requests",
        value: |m| &m.http_requests,
    },
    Row {
        name: "azex_http_errors_total",
        kind: COUNTER,
        help: "HTTP answers with an error",
        value: |m| &m.http_errors,
    },
    Row {
        name: "azex_rate_limited_total",
        kind: COUNTER,
        help: "requests refused by a rate limit",
        value: |m| &m.rate_limited,
    },
    Row {
        name: "azex_tx_accepted_total",
        kind: COUNTER,
        help: "transactions admitted to the mempool",
        value: |m| &m.tx_accepted,
    },
    Row {
        name: "azex_tx_rejected_total",
        kind: COUNTER,
        help: "transactions refused at admission",
        value: |m| &m.tx_rejected,
    },
    Row {
        name: "azex_tx_expired_total",
        kind: COUNTER,
        help: "transactions dropped at expiry",
        value: |m| &m.tx_expired,
    },
    Row {
        name: "azex_blocks_total",
        kind: COUNTER,
        help: "blocks made durable since start",
        value: |m| &m.blocks,
    },
    Row {
        name: "azex_height",
        kind: GAUGE,
        help: "newest durable block",
        value: |m| &m.height,
    },
    Row {
        name: "azex_txs_committed_total",
        kind: COUNTER,
        help: "transactions in durable blocks",
        value: |m| &m.txs_committed,
    },
    Row {
        name: "azex_txs_applied_total",
        kind: COUNTER,
        help: "committed transactions the engine applied",
        value: |m| &m.txs_applied,
    },
    Row {
        name: "azex_txs_refused_total",
        kind: COUNTER,
        help: "committed transactions the engine refused",
        value: |m| &m.txs_refused,
    },
    Row {
        name: "azex_mempool_size",
        kind: GAUGE,
        help: "pending transactions",
        value: |m| &m.mempool,
    },
    Row {
        name: "azex_block_exec_microseconds",
        kind: GAUGE,
        help: "execution time of the last block",
        value: |m| &m.last_exec_us,
    },
    Row {
        name: "azex_log_fsync_microseconds",
        kind: GAUGE,
        help: "append + fsync time of the last group commit",
        value: |m| &m.last_fsync_us,
    },
    Row {
        name: "azex_ws_clients",
        kind: GAUGE,
        help: "open websocket connections",
        value: |m| &m.ws_clients,
    },
    Row {
        name: "azex_snapshots_total",
        kind: COUNTER,
        help: "state snapshots written since start",
        value: |m| &m.snapshots,
    },
    Row {
        name: "azex_snapshot_height",
        kind: GAUGE,
        help: "height of the newest snapshot written",
        value: |m| &m.last_snapshot_height,
    },
    Row {
        name: "azex_snapshot_milliseconds",
        kind: GAUGE,
        help: "time to clone, encode and write the newest snapshot (off the sequencer)",
        value: |m| &m.last_snapshot_ms,
    },
    Row {
        name: "azex_snapshot_bytes",
        kind: GAUGE,
        help: "size of the newest snapshot",
        value: |m| &m.last_snapshot_bytes,
    },
    Row {
        name: "azex_startup_snapshot_height",
        kind: GAUGE,
        help: "height of the snapshot start-up loaded (0: replayed from genesis)",
        value: |m| &m.startup_snapshot_height,
    },
];

impl Metrics {
    /// The Prometheus text exposition of every counter: `# HELP`, `# TYPE` and the value.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for Row {
            name,
            kind,
            help,
            value,
        } in &ROWS
        {
            let v = value(self).load(Ordering::Relaxed);
            s.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}\n"
            ));
        }
        s
    }
}
