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

impl Metrics {
    pub fn render(&self) -> String {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let rows: [(&str, &str, &str, u64); 20] = [
            (
                "azex_http_requests_total",
                "counter",
                "HTTP requests",
                g(&self.http_requests),
            ),
            (
                "azex_http_errors_total",
                "counter",
                "HTTP answers with an error",
                g(&self.http_errors),
            ),
            (
                "azex_rate_limited_total",
                "counter",
                "requests refused by a rate limit",
                g(&self.rate_limited),
            ),
            (
                "azex_tx_accepted_total",
                "counter",
                "transactions admitted to the mempool",
                g(&self.tx_accepted),
            ),
            (
                "azex_tx_rejected_total",
                "counter",
                "transactions refused at admission",
                g(&self.tx_rejected),
            ),
            (
                "azex_tx_expired_total",
                "counter",
                "transactions dropped at expiry",
                g(&self.tx_expired),
            ),
            (
                "azex_blocks_total",
                "counter",
                "blocks made durable since start",
                g(&self.blocks),
            ),
            (
                "azex_height",
                "gauge",
                "newest durable block",
                g(&self.height),
            ),
            (
                "azex_txs_committed_total",
                "counter",
                "transactions in durable blocks",
                g(&self.txs_committed),
            ),
            (
                "azex_txs_applied_total",
                "counter",
                "committed transactions the engine applied",
                g(&self.txs_applied),
            ),
            (
                "azex_txs_refused_total",
                "counter",
                "committed transactions the engine refused",
                g(&self.txs_refused),
            ),
            (
                "azex_mempool_size",
                "gauge",
                "pending transactions",
                g(&self.mempool),
            ),
            (
                "azex_block_exec_microseconds",
                "gauge",
                "execution time of the last block",
                g(&self.last_exec_us),
            ),
            (
                "azex_log_fsync_microseconds",
                "gauge",
                "append + fsync time of the last group commit",
                g(&self.last_fsync_us),
            ),
            (
                "azex_ws_clients",
                "gauge",
                "open websocket connections",
                g(&self.ws_clients),
            ),
            (
                "azex_snapshots_total",
                "counter",
                "state snapshots written since start",
                g(&self.snapshots),
            ),
            (
                "azex_snapshot_height",
                "gauge",
                "height of the newest snapshot written",
                g(&self.last_snapshot_height),
            ),
            (
                "azex_snapshot_milliseconds",
                "gauge",
                "time to clone, encode and write the newest snapshot (off the sequencer)",
                g(&self.last_snapshot_ms),
            ),
            (
                "azex_snapshot_bytes",
                "gauge",
                "size of the newest snapshot",
                g(&self.last_snapshot_bytes),
            ),
            (
                "azex_startup_snapshot_height",
                "gauge",
                "height of the snapshot start-up loaded (0: replayed from genesis)",
                g(&self.startup_snapshot_height),
            ),
        ];
        let mut s = String::new();
        for (name, kind, help, v) in rows {
            s.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}\n"
            ));
        }
        s
    }
}
