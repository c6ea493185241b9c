//! Counters for `/metrics` (Prometheus text format).

use std::sync::atomic::{AtomicU64, Ordering};

/// The node's counters and gauges, shared by its threads (relaxed atomics).
#[derive(Default)]
pub struct Metrics {
    /// HTTP requests served.
    pub http_requests: AtomicU64,
    /// HTTP answers with an error status.
    pub http_errors: AtomicU64,
    /// Requests refused by a rate limit.
    pub rate_limited: AtomicU64,
    /// Transactions admitted to the mempool.
    pub tx_accepted: AtomicU64,
    /// Transactions refused at admission.
    pub tx_rejected: AtomicU64,
    /// Transactions dropped from the mempool at expiry.
    pub tx_expired: AtomicU64,
    /// Blocks made durable since start.
    pub blocks: AtomicU64,
    /// Height of the newest durable block.
    pub height: AtomicU64,
    /// Transactions in durable blocks since start.
    pub txs_committed: AtomicU64,
    /// Committed transactions the engine applied.
    pub txs_applied: AtomicU64,
    /// Committed transactions the engine refused.
    pub txs_refused: AtomicU64,
    /// Pending transactions in the mempool.
    pub mempool: AtomicU64,
    /// Execution time of the last block, µs.
    pub last_exec_us: AtomicU64,
    /// Append + fsync time of the last group commit, µs.
    pub last_fsync_us: AtomicU64,
    /// Open WebSocket connections.
    pub ws_clients: AtomicU64,
    /// State snapshots written since start.
    pub snapshots: AtomicU64,
    /// Height of the newest snapshot written.
    pub last_snapshot_height: AtomicU64,
    /// Time to clone, encode and write the newest snapshot, ms.
    pub last_snapshot_ms: AtomicU64,
    /// Size of the newest snapshot, bytes.
    pub last_snapshot_bytes: AtomicU64,
    /// Height of the snapshot start-up loaded (0: replayed from genesis).
    pub startup_snapshot_height: AtomicU64,
    /// Per block: taking it from the mempool, executing it and encoding it (the sequencer).
    pub block_build: Histogram,
    /// Per group commit: appending its blocks to the log and the fsync.
    pub log_fsync: Histogram,
    /// Per block: from the end of its build to its publication after the fsync (queueing
    /// behind the writer included).
    pub block_to_durable: Histogram,
}

/// Upper bounds of the histogram buckets, microseconds (the last bucket is `+Inf`).
pub const BUCKETS_US: [u64; 12] = [
    500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000,
    2_000_000,
];

/// A Prometheus histogram of durations (cumulative buckets in seconds when rendered).
#[derive(Default)]
pub struct Histogram {
    /// Observations in each bucket of [`BUCKETS_US`] (not cumulative), then `+Inf`.
    counts: [AtomicU64; 13],
    sum_us: AtomicU64,
}

impl Histogram {
    /// Record one duration.
    pub fn observe(&self, d: std::time::Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        let i = BUCKETS_US
            .iter()
            .position(|b| us <= *b)
            .unwrap_or(BUCKETS_US.len());
        self.counts[i].fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(us, Ordering::Relaxed);
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.counts.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    /// The upper bound (µs) of the bucket holding the `q` quantile (`u64::MAX`: beyond the
    /// last bound; 0: no observation).
    pub fn quantile_bound_us(&self, q: f64) -> u64 {
        let n = self.count();
        if n == 0 {
            return 0;
        }
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss,
            reason = "a rank from a quantile in [0, 1] of a count"
        )]
        let rank = ((n as f64) * q.clamp(0.0, 1.0)).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c.load(Ordering::Relaxed);
            if seen >= rank {
                return BUCKETS_US.get(i).copied().unwrap_or(u64::MAX);
            }
        }
        u64::MAX
    }

    fn render(&self, name: &str, help: &str, s: &mut String) {
        s.push_str(&format!("# HELP {name} {help}\n# TYPE {name} histogram\n"));
        let mut cum = 0;
        for (i, c) in self.counts.iter().enumerate() {
            cum += c.load(Ordering::Relaxed);
            let le = BUCKETS_US
                .get(i)
                .map_or("+Inf".to_string(), |b| format!("{}", *b as f64 / 1e6));
            s.push_str(&format!("{name}_bucket{{le=\"{le}\"}} {cum}\n"));
        }
        let sum = self.sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        s.push_str(&format!("{name}_sum {sum}\n{name}_count {cum}\n"));
    }
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
        self.block_build.render(
            "azex_block_build_seconds",
            "per block: take from the mempool, execute, encode",
            &mut s,
        );
        self.log_fsync.render(
            "azex_log_fsync_seconds",
            "per group commit: append to the block log and fsync",
            &mut s,
        );
        self.block_to_durable.render(
            "azex_block_to_durable_seconds",
            "per block: end of its build to its publication after the fsync",
            &mut s,
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn histogram_buckets_quantiles_and_text() {
        let h = Histogram::default();
        assert_eq!(h.quantile_bound_us(0.99), 0);
        for ms in [1, 1, 3, 3, 3, 40, 40, 40, 40, 5_000] {
            h.observe(Duration::from_millis(ms));
        }
        assert_eq!(h.count(), 10);
        assert_eq!(h.quantile_bound_us(0.2), 1_000);
        assert_eq!(h.quantile_bound_us(0.5), 5_000);
        assert_eq!(h.quantile_bound_us(0.9), 50_000);
        assert_eq!(h.quantile_bound_us(0.99), u64::MAX);
        let mut s = String::new();
        h.render("x", "help", &mut s);
        assert!(s.contains("# TYPE x histogram\n"), "{s}");
        assert!(s.contains("x_bucket{le=\"0.001\"} 2\n"), "{s}");
        assert!(s.contains("x_bucket{le=\"0.005\"} 5\n"), "{s}");
        assert!(s.contains("x_bucket{le=\"2\"} 9\n"), "{s}");
        assert!(s.contains("x_bucket{le=\"+Inf\"} 10\n"), "{s}");
        assert!(s.contains("x_count 10\n"), "{s}");
        assert!(s.contains("x_sum 5.171\n"), "{s}");
    }
}
