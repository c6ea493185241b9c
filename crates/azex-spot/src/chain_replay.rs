//! Replay of a real pool's event log from a snapshot: rebuilds the pool from `STATE.json`, then
//! applies `EVENTS.csv` (Uniswap `Swap`, `Mint`, `Burn` events) in `(block, log_index)` order
//! and reports how many swaps our pool reproduces bit for bit.
//!
//! # Inputs
//! * `STATE.json`: `fee`, `tick_spacing`, `sqrt_price_x96`, `tick`, and `liquidity_by_range`
//!   (`"tickLower:tickUpper" -> liquidity`); numbers may be JSON integers or decimal strings.
//!   Any other key is an error (a misspelled field is never silently ignored).
//!   The pool is initialized at `sqrt_price_x96`; a recorded `tick` one below the price's tick
//!   (Uniswap's pre-emptive decrement after a zero-for-one swap ending on a tick price) is
//!   adopted; then every range's liquidity is added as one position of [`SNAPSHOT_OWNER`].
//! * `EVENTS.csv`: header `timestamp_utc,block,log_index,action,amount0,amount1,
//!   sqrt_price_x96_after,tick_lower,tick_upper,liquidity,owner`; `action` is `Swap`, `Mint` or
//!   `Burn`; amounts are signed as in Uniswap's events (positive = into the pool). A log file
//!   with no event row (only the header) is an error for [`replay_chain_files`] (the
//!   `azex spot replay-chain` command): there is nothing to replay. [`replay_chain`] on text
//!   accepts it, to check a snapshot alone.
//!
//! # How a swap is replayed
//! The token with a positive amount went in: `zeroForOne = amount0 > 0`. The swap is replayed
//! as **exact input of that amount**, in this order:
//! 1. with the recorded `sqrt_price_x96_after` as the price limit (when it lies on the swap's
//!    side of the current price). This reproduces exact-output swaps and swaps stopped by a
//!    limit bit for bit: every step, including the last one ending at the recorded price,
//!    computes the same input, fee and output.
//! 2. if that does not reproduce the event (an exact-input original may leave a few wei of
//!    input unspent at the limit, because its last step derived the price from the input rather
//!    than the input from the price), without a limit (`MIN_SQRT_PRICE + 1` /
//!    `MAX_SQRT_PRICE - 1`), which reproduces exact-input swaps.
//!
//! Both attempts are computed read-only ([`Pool::compute_swap`](crate::Pool::compute_swap));
//! the first that reproduces the amounts, the post-swap price and (when the `liquidity` column
//! is filled for swaps) the post-swap liquidity is committed. If neither does, the swap counts
//! as differing and attempt 1 (or 2 if 1 failed) is committed, so the replay keeps following
//! the recorded price.
//!
//! # Mint and Burn
//! `Mint` adds `liquidity` to the `(owner, tickLower, tickUpper)` position. `Burn` removes it
//! from the owner's own replayed position first and takes any remainder from the snapshot's
//! position on that range (liquidity that existed before the snapshot). A zero-liquidity burn
//! (a fee poke) is a no-op. Their principal amounts are compared with the event's (as
//! information: splitting a burn may round differently by a wei).

use crate::error::SpotError;
use crate::hooks::{HookContext, NoHooks};
use crate::manager::PoolManager;
use crate::math::tick_math::{MAX_SQRT_PRICE, MIN_SQRT_PRICE};
use crate::pool::SwapOutcome;
use crate::types::{BalanceDelta, ModifyLiquidityParams, PoolKey, SwapParams};
use alloy_primitives::{Address, U256};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// Owner of the positions rebuilt from the snapshot's `liquidity_by_range`.
pub const SNAPSHOT_OWNER: Address = Address::new([0x5a; 20]);

/// How many differing swaps / unapplied events the report keeps in full.
pub const MAX_DETAILS: usize = 10;

/// Why the replay could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum ChainReplayError {
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// File path.
        path: String,
        #[source]
        /// The I/O error.
        source: std::io::Error,
    },
    /// STATE.json is malformed.
    #[error("STATE.json: {0}")]
    State(String),
    /// The snapshot could not be rebuilt into a pool.
    #[error("rebuilding the snapshot: {0}")]
    Snapshot(String),
    /// EVENTS.csv is malformed as a whole (bad header or CSV syntax).
    #[error("EVENTS.csv: {0}")]
    Events(String),
}

/// The pool snapshot of `STATE.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainSnapshot {
    /// LP fee in pips.
    pub fee: u32,
    /// Tick spacing.
    pub tick_spacing: i32,
    /// Current sqrt price, Q64.96.
    pub sqrt_price_x96: U256,
    /// Current tick.
    pub tick: i32,
    /// Liquidity per `(tickLower, tickUpper)` range.
    pub liquidity_by_range: BTreeMap<(i32, i32), u128>,
}

fn json_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl ChainSnapshot {
    /// Parses `STATE.json`.
    pub fn from_json(text: &str) -> Result<Self, ChainReplayError> {
        let bad = |m: String| ChainReplayError::State(m);
        let v: Value = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        let obj = v
            .as_object()
            .ok_or_else(|| bad("not a JSON object".into()))?;
        const KEYS: [&str; 5] = [
            "fee",
            "tick_spacing",
            "sqrt_price_x96",
            "tick",
            "liquidity_by_range",
        ];
        if let Some(k) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(bad(format!(
                "unknown field `{k}` (expected {})",
                KEYS.join(", ")
            )));
        }
        let get = |name: &str| -> Result<String, ChainReplayError> {
            v.get(name)
                .and_then(json_text)
                .ok_or_else(|| bad(format!("missing or non-numeric `{name}`")))
        };
        let fee = get("fee")?
            .parse::<u32>()
            .map_err(|e| bad(format!("fee: {e}")))?;
        let tick_spacing = get("tick_spacing")?
            .parse::<i32>()
            .map_err(|e| bad(format!("tick_spacing: {e}")))?;
        let sqrt_price_x96 = get("sqrt_price_x96")?
            .parse::<U256>()
            .map_err(|e| bad(format!("sqrt_price_x96: {e}")))?;
        let tick = get("tick")?
            .parse::<i32>()
            .map_err(|e| bad(format!("tick: {e}")))?;
        let ranges = v
            .get("liquidity_by_range")
            .and_then(Value::as_object)
            .ok_or_else(|| bad("missing object `liquidity_by_range`".into()))?;
        let mut liquidity_by_range = BTreeMap::new();
        for (range, l) in ranges {
            let (lo, hi) = range
                .split_once(':')
                .ok_or_else(|| bad(format!("range `{range}` is not `tickLower:tickUpper`")))?;
            let lo = lo
                .trim()
                .parse::<i32>()
                .map_err(|e| bad(format!("range `{range}`: {e}")))?;
            let hi = hi
                .trim()
                .parse::<i32>()
                .map_err(|e| bad(format!("range `{range}`: {e}")))?;
            let l = json_text(l)
                .ok_or_else(|| bad(format!("liquidity of `{range}` is not a number")))?
                .parse::<u128>()
                .map_err(|e| bad(format!("liquidity of `{range}`: {e}")))?;
            *liquidity_by_range.entry((lo, hi)).or_insert(0u128) = liquidity_by_range
                .get(&(lo, hi))
                .copied()
                .unwrap_or(0)
                .checked_add(l)
                .ok_or_else(|| bad(format!("liquidity of `{range}` overflows")))?;
        }
        Ok(Self {
            fee,
            tick_spacing,
            sqrt_price_x96,
            tick,
            liquidity_by_range,
        })
    }

    /// The key the replay uses (fixed currencies, no hook).
    pub fn pool_key(&self) -> PoolKey {
        PoolKey {
            currency0: Address::new([0x10; 20]),
            currency1: Address::new([0x11; 20]),
            fee: self.fee,
            tick_spacing: self.tick_spacing,
            hooks: Address::ZERO,
        }
    }

    /// Rebuilds the pool: initialize, adopt the recorded tick, add every range's liquidity.
    pub fn build(&self) -> Result<(PoolManager<NoHooks>, PoolKey), ChainReplayError> {
        let key = self.pool_key();
        let ctx = HookContext::default();
        let mut m = PoolManager::new(NoHooks);
        let bad = |m: String| ChainReplayError::Snapshot(m);
        m.initialize(&ctx, &key, self.sqrt_price_x96)
            .map_err(|e| bad(format!("initialize: {e}")))?;
        let pool = m.pool_mut(&key).expect("just initialized");
        if !pool.adopt_snapshot_tick(self.tick) {
            return Err(bad(format!(
                "tick {} is inconsistent with sqrt_price_x96 {} (tick {})",
                self.tick,
                self.sqrt_price_x96,
                pool.slot0().tick
            )));
        }
        for (&(lo, hi), &l) in &self.liquidity_by_range {
            if l == 0 {
                continue;
            }
            let delta = i128::try_from(l)
                .map_err(|_| bad(format!("liquidity of {lo}:{hi} above int128")))?;
            let p = ModifyLiquidityParams {
                owner: SNAPSHOT_OWNER,
                tick_lower: lo,
                tick_upper: hi,
                liquidity_delta: delta,
                salt: [0; 32],
            };
            m.modify_liquidity(&ctx, &key, &p)
                .map_err(|e| bad(format!("range {lo}:{hi}: {e}")))?;
        }
        Ok((m, key))
    }
}

/// A swap the replay did not reproduce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwapDifference {
    /// 1-based data row in EVENTS.csv (the header is row 0).
    pub row: usize,
    /// Block of the event.
    pub block: u64,
    /// Log index of the event within its block.
    pub log_index: u64,
    /// Recorded amounts (event sign: positive = into the pool) and post-swap price/liquidity.
    pub recorded_amount0: i128,
    /// Recorded token1 amount (positive = into the pool).
    pub recorded_amount1: i128,
    /// Recorded sqrt price after the swap.
    pub recorded_sqrt_price_x96: U256,
    /// Recorded active liquidity after the swap, when the CSV has it.
    pub recorded_liquidity: Option<u128>,
    /// What the replay produced (event sign), from the committed attempt.
    pub replayed_amount0: i128,
    /// Replayed token1 amount (positive = into the pool).
    pub replayed_amount1: i128,
    /// Replayed sqrt price after the swap.
    pub replayed_sqrt_price_x96: U256,
    /// Replayed active liquidity after the swap.
    pub replayed_liquidity: u128,
}

/// An event the replay could not apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedEvent {
    /// 1-based data row in EVENTS.csv.
    pub row: usize,
    /// Block of the event (0 when unreadable).
    pub block: u64,
    /// Log index of the event (0 when unreadable).
    pub log_index: u64,
    /// The row's `action` column.
    pub action: String,
    /// Why it was not applied.
    pub reason: String,
}

/// Outcome of [`replay_chain`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainReplayReport {
    /// Data rows read.
    pub events: usize,
    /// Swaps replayed.
    pub swaps: usize,
    /// Swaps reproduced exactly (amounts, post price, post liquidity when recorded).
    pub swaps_matched: usize,
    /// Of those, reproduced with the recorded price as limit (attempt 1) / without (attempt 2).
    pub swaps_matched_at_limit: usize,
    /// Swaps reproduced by attempt 2 (exact input without a limit).
    pub swaps_matched_without_limit: usize,
    /// Swaps replayed with a different outcome.
    pub swaps_differed: usize,
    /// The first [`MAX_DETAILS`] differing swaps.
    pub differences: Vec<SwapDifference>,
    /// Mints and burns applied.
    pub mints: usize,
    /// Burns applied.
    pub burns: usize,
    /// Applied mints/burns whose principal amounts differ from the event's.
    pub liquidity_amount_mismatches: usize,
    /// Events not applied, and the first [`MAX_DETAILS`] of them in full.
    pub skipped_count: usize,
    /// The first [`MAX_DETAILS`] events not applied.
    pub skipped: Vec<SkippedEvent>,
    /// Pool state at the end.
    pub final_sqrt_price_x96: U256,
    /// Tick at the end.
    pub final_tick: i32,
    /// Active liquidity at the end.
    pub final_liquidity: u128,
}

impl fmt::Display for ChainReplayReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} events: {} swaps ({} reproduced exactly [{} at the recorded price limit, {} without limit], {} differ), {} mints, {} burns ({} with different principal), {} not applied",
            self.events,
            self.swaps,
            self.swaps_matched,
            self.swaps_matched_at_limit,
            self.swaps_matched_without_limit,
            self.swaps_differed,
            self.mints,
            self.burns,
            self.liquidity_amount_mismatches,
            self.skipped_count
        )?;
        write!(
            f,
            "final state: sqrtPriceX96={} tick={} liquidity={}",
            self.final_sqrt_price_x96, self.final_tick, self.final_liquidity
        )?;
        for d in &self.differences {
            write!(
                f,
                "\nswap differs at row {} (block {}, log {}): recorded amount0={} amount1={} sqrtPriceX96After={} liquidity={}; replayed amount0={} amount1={} sqrtPriceX96After={} liquidity={}",
                d.row,
                d.block,
                d.log_index,
                d.recorded_amount0,
                d.recorded_amount1,
                d.recorded_sqrt_price_x96,
                d.recorded_liquidity.map_or("-".to_string(), |l| l.to_string()),
                d.replayed_amount0,
                d.replayed_amount1,
                d.replayed_sqrt_price_x96,
                d.replayed_liquidity
            )?;
        }
        for s in &self.skipped {
            write!(
                f,
                "\nnot applied: row {} (block {}, log {}, {}): {}",
                s.row, s.block, s.log_index, s.action, s.reason
            )?;
        }
        Ok(())
    }
}

/// One parsed CSV row (raw fields, parsed per action).
#[derive(Debug, Clone)]
struct Row {
    row: usize,
    block: u64,
    log_index: u64,
    fields: BTreeMap<&'static str, String>,
}

const COLUMNS: [&str; 11] = [
    "timestamp_utc",
    "block",
    "log_index",
    "action",
    "amount0",
    "amount1",
    "sqrt_price_x96_after",
    "tick_lower",
    "tick_upper",
    "liquidity",
    "owner",
];

impl Row {
    fn get(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", |s| s.as_str())
    }
    fn parse<T: std::str::FromStr>(&self, name: &str) -> Result<T, String>
    where
        T::Err: fmt::Display,
    {
        let t = self.get(name);
        if t.is_empty() {
            return Err(format!("empty `{name}`"));
        }
        t.parse::<T>()
            .map_err(|e| format!("bad `{name}` `{t}`: {e}"))
    }
    fn owner(&self) -> Result<Address, String> {
        let t = self.get("owner");
        if t.is_empty() {
            return Ok(Address::ZERO);
        }
        t.parse::<Address>()
            .map_err(|e| format!("bad `owner` `{t}`: {e}"))
    }
}

fn read_rows(events_csv: &str) -> Result<(Vec<Row>, Vec<SkippedEvent>), ChainReplayError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(events_csv.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| ChainReplayError::Events(e.to_string()))?
        .clone();
    let mut index = BTreeMap::new();
    for col in COLUMNS {
        let i = headers
            .iter()
            .position(|h| h == col)
            .ok_or_else(|| ChainReplayError::Events(format!("missing column `{col}`")))?;
        index.insert(col, i);
    }
    let mut rows = Vec::new();
    let mut bad = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let row = i + 1;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                bad.push(SkippedEvent {
                    row,
                    block: 0,
                    log_index: 0,
                    action: String::new(),
                    reason: format!("unreadable CSV record: {e}"),
                });
                continue;
            }
        };
        let fields: BTreeMap<&'static str, String> = index
            .iter()
            .map(|(col, &i)| (*col, rec.get(i).unwrap_or("").to_string()))
            .collect();
        let mut r = Row {
            row,
            block: 0,
            log_index: 0,
            fields,
        };
        match (r.parse::<u64>("block"), r.parse::<u64>("log_index")) {
            (Ok(b), Ok(l)) => {
                r.block = b;
                r.log_index = l;
                rows.push(r);
            }
            (Err(e), _) | (_, Err(e)) => bad.push(SkippedEvent {
                row,
                block: 0,
                log_index: 0,
                action: r.get("action").to_string(),
                reason: e,
            }),
        }
    }
    // chain order; stable, so equal keys keep file order
    rows.sort_by_key(|r| (r.block, r.log_index));
    Ok((rows, bad))
}

struct Replayer {
    manager: PoolManager<NoHooks>,
    key: PoolKey,
    ctx: HookContext,
    scratch: Vec<crate::pool::Crossing>,
    report: ChainReplayReport,
}

/// Event-signed amounts (positive = into the pool) from a caller delta.
fn event_amounts(d: BalanceDelta) -> (i128, i128) {
    (d.amount0.wrapping_neg(), d.amount1.wrapping_neg())
}

impl Replayer {
    fn skip(&mut self, r: &Row, reason: String) {
        self.report.skipped_count += 1;
        if self.report.skipped.len() < MAX_DETAILS {
            self.report.skipped.push(SkippedEvent {
                row: r.row,
                block: r.block,
                log_index: r.log_index,
                action: r.get("action").to_string(),
                reason,
            });
        }
    }

    fn swap(&mut self, r: &Row) -> Result<(), String> {
        let rec = RecordedSwap::parse(r)?;
        let current = self
            .manager
            .slot0(&self.key)
            .map_err(|e| e.to_string())?
            .sqrt_price_x96;
        let attempts = rec.attempts(current);
        let pool = self.manager.pool(&self.key).map_err(|e| e.to_string())?;
        let mut fallback: Option<(SwapParams, SwapOutcome)> = None;
        let mut errors = Vec::new();
        let mut matched: Option<(SwapParams, bool)> = None;
        for (params, at_limit) in &attempts {
            match pool.compute_swap(params, None, &mut self.scratch) {
                Ok(out) if rec.matches(&out) => {
                    matched = Some((*params, *at_limit));
                    break;
                }
                Ok(out) => {
                    fallback.get_or_insert((*params, out));
                }
                Err(e) => errors.push(e.to_string()),
            }
        }
        let params = match (matched, fallback) {
            (Some((params, at_limit)), _) => {
                self.count_match(at_limit);
                params
            }
            (None, Some((params, out))) => {
                self.record_difference(r, &rec, &out);
                params
            }
            (None, None) => return Err(format!("swap fails: {}", errors.join("; "))),
        };
        self.manager
            .swap(&self.ctx, &self.key, &params)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// A swap replayed exactly, with or without the recorded price as its limit.
    fn count_match(&mut self, at_limit: bool) {
        self.report.swaps += 1;
        self.report.swaps_matched += 1;
        if at_limit {
            self.report.swaps_matched_at_limit += 1;
        } else {
            self.report.swaps_matched_without_limit += 1;
        }
    }

    /// A swap that replayed but differs from the log (the first `MAX_DETAILS` are kept).
    fn record_difference(&mut self, r: &Row, rec: &RecordedSwap, out: &SwapOutcome) {
        self.report.swaps += 1;
        self.report.swaps_differed += 1;
        if self.report.differences.len() < MAX_DETAILS {
            let (r0, r1) = event_amounts(out.delta);
            self.report.differences.push(SwapDifference {
                row: r.row,
                block: r.block,
                log_index: r.log_index,
                recorded_amount0: rec.amount0,
                recorded_amount1: rec.amount1,
                recorded_sqrt_price_x96: rec.price_after,
                recorded_liquidity: rec.liquidity,
                replayed_amount0: r0,
                replayed_amount1: r1,
                replayed_sqrt_price_x96: out.sqrt_price_x96,
                replayed_liquidity: out.liquidity,
            });
        }
    }

    fn principal_differs(r: &Row, principal: BalanceDelta) -> bool {
        // compare magnitudes: burns may be logged as positive (v3's raw event) or negative
        let a0 = r.parse::<i128>("amount0").ok();
        let a1 = r.parse::<i128>("amount1").ok();
        match (a0, a1) {
            (Some(a0), Some(a1)) => {
                a0.unsigned_abs() != principal.amount0.unsigned_abs()
                    || a1.unsigned_abs() != principal.amount1.unsigned_abs()
            }
            _ => false,
        }
    }

    fn mint(&mut self, r: &Row) -> Result<(), String> {
        let lo: i32 = r.parse("tick_lower")?;
        let hi: i32 = r.parse("tick_upper")?;
        let l: u128 = r.parse("liquidity")?;
        let owner = r.owner()?;
        let l = i128::try_from(l).map_err(|_| "liquidity above int128".to_string())?;
        if l == 0 {
            return Err("mint of zero liquidity".into());
        }
        let p = ModifyLiquidityParams {
            owner,
            tick_lower: lo,
            tick_upper: hi,
            liquidity_delta: l,
            salt: [0; 32],
        };
        let out = self
            .manager
            .modify_liquidity(&self.ctx, &self.key, &p)
            .map_err(|e: SpotError| format!("mint fails: {e}"))?;
        self.report.mints += 1;
        if Self::principal_differs(r, out.principal_delta) {
            self.report.liquidity_amount_mismatches += 1;
        }
        Ok(())
    }

    fn burn(&mut self, r: &Row) -> Result<(), String> {
        let lo: i32 = r.parse("tick_lower")?;
        let hi: i32 = r.parse("tick_upper")?;
        let l: u128 = r.parse("liquidity")?;
        let owner = r.owner()?;
        if l == 0 {
            self.report.burns += 1;
            return Ok(());
        }
        let held = |who: Address| -> u128 {
            self.manager
                .position(&self.key, who, lo, hi, [0; 32])
                .ok()
                .flatten()
                .map_or(0, |p| p.liquidity)
        };
        let own = if owner == SNAPSHOT_OWNER {
            0
        } else {
            held(owner)
        };
        let from_own = own.min(l);
        let from_snapshot = l - from_own;
        if from_snapshot > held(SNAPSHOT_OWNER) {
            return Err(format!(
                "burn of {l} exceeds the liquidity of {owner} ({own}) and of the snapshot ({}) on {lo}:{hi}",
                held(SNAPSHOT_OWNER)
            ));
        }
        // compute both parts first so that a failure leaves nothing half-done
        let mut parts = Vec::new();
        if from_own > 0 {
            parts.push((owner, from_own));
        }
        if from_snapshot > 0 {
            parts.push((SNAPSHOT_OWNER, from_snapshot));
        }
        let mut principal = BalanceDelta::ZERO;
        if parts.len() > 1 {
            // a two-part burn is tried on a copy first so that it applies whole or not at all
            let mut sim = self
                .manager
                .pool(&self.key)
                .map_err(|e| e.to_string())?
                .clone();
            for (who, part) in &parts {
                let p = ModifyLiquidityParams {
                    owner: *who,
                    tick_lower: lo,
                    tick_upper: hi,
                    liquidity_delta: -(i128::try_from(*part)
                        .map_err(|_| "liquidity above int128")?),
                    salt: [0; 32],
                };
                let plan = sim
                    .compute_modify_liquidity(&p)
                    .map_err(|e| format!("burn fails: {e}"))?;
                sim.commit_modify_liquidity(&plan);
            }
        }
        for (who, part) in parts {
            let p = ModifyLiquidityParams {
                owner: who,
                tick_lower: lo,
                tick_upper: hi,
                liquidity_delta: -(i128::try_from(part).map_err(|_| "liquidity above int128")?),
                salt: [0; 32],
            };
            let out = self
                .manager
                .modify_liquidity(&self.ctx, &self.key, &p)
                .map_err(|e| format!("burn fails: {e}"))?;
            principal = principal
                .checked_add(out.principal_delta)
                .ok_or("principal overflows")?;
        }
        self.report.burns += 1;
        if Self::principal_differs(r, principal) {
            self.report.liquidity_amount_mismatches += 1;
        }
        Ok(())
    }
}

/// Replays `events_csv` on the pool rebuilt from `state_json` (see the module docs).
pub fn replay_chain(
    state_json: &str,
    events_csv: &str,
) -> Result<ChainReplayReport, ChainReplayError> {
    let snapshot = ChainSnapshot::from_json(state_json)?;
    let (manager, key) = snapshot.build()?;
    let (rows, unreadable) = read_rows(events_csv)?;
    let mut rp = Replayer {
        manager,
        key,
        ctx: HookContext::default(),
        scratch: Vec::with_capacity(64),
        report: ChainReplayReport::default(),
    };
    rp.report.events = rows.len() + unreadable.len();
    for s in unreadable {
        rp.report.skipped_count += 1;
        if rp.report.skipped.len() < MAX_DETAILS {
            rp.report.skipped.push(s);
        }
    }
    for r in &rows {
        let result = match r.get("action").to_ascii_lowercase().as_str() {
            "swap" => rp.swap(r),
            "mint" => rp.mint(r),
            "burn" => rp.burn(r),
            other => Err(format!("unknown action `{other}`")),
        };
        if let Err(reason) = result {
            rp.skip(r, reason);
        }
    }
    let slot0 = rp.manager.slot0(&rp.key).expect("pool exists");
    rp.report.final_sqrt_price_x96 = slot0.sqrt_price_x96;
    rp.report.final_tick = slot0.tick;
    rp.report.final_liquidity = rp.manager.liquidity(&rp.key).expect("pool exists");
    Ok(rp.report)
}

/// [`replay_chain`] on files; a log without event rows is an error.
pub fn replay_chain_files(
    state_path: impl AsRef<Path>,
    events_path: impl AsRef<Path>,
) -> Result<ChainReplayReport, ChainReplayError> {
    let read = |p: &Path| {
        std::fs::read_to_string(p).map_err(|source| ChainReplayError::Io {
            path: p.display().to_string(),
            source,
        })
    };
    let state = read(state_path.as_ref())?;
    ChainSnapshot::from_json(&state)?;
    let events = read(events_path.as_ref())?;
    let (rows, unreadable) = read_rows(&events)?;
    if rows.is_empty() && unreadable.is_empty() {
        return Err(ChainReplayError::Events(format!(
            "{}: no event rows (only a header): nothing to replay",
            events_path.as_ref().display()
        )));
    }
    replay_chain(&state, &events)
}

/// A swap as the log records it.
struct RecordedSwap {
    amount0: i128,
    amount1: i128,
    price_after: U256,
    liquidity: Option<u128>,
    zero_for_one: bool,
    amount_in: i128,
}

impl RecordedSwap {
    fn parse(r: &Row) -> Result<Self, String> {
        let amount0: i128 = r.parse("amount0")?;
        let amount1: i128 = r.parse("amount1")?;
        let price_after: U256 = r.parse("sqrt_price_x96_after")?;
        let liquidity = if r.get("liquidity").is_empty() {
            None
        } else {
            Some(r.parse::<u128>("liquidity")?)
        };
        let (zero_for_one, amount_in) = if amount0 > 0 && amount1 <= 0 {
            (true, amount0)
        } else if amount1 > 0 && amount0 <= 0 {
            (false, amount1)
        } else {
            return Err(format!(
                "amounts {amount0}/{amount1} do not show one token going in and the other out"
            ));
        };
        Ok(Self {
            amount0,
            amount1,
            price_after,
            liquidity,
            zero_for_one,
            amount_in,
        })
    }

    /// Exact-input swaps to try, in order: limited at the recorded price (when it is a usable
    /// limit from `current`), then without a limit. The flag says "at the recorded limit".
    fn attempts(&self, current: U256) -> Vec<(SwapParams, bool)> {
        let zero_for_one = self.zero_for_one;
        let after = self.price_after;
        let limit_usable = if zero_for_one {
            after < current && after > MIN_SQRT_PRICE
        } else {
            after > current && after < MAX_SQRT_PRICE
        };
        let no_limit = if zero_for_one {
            MIN_SQRT_PRICE + U256::from(1u8)
        } else {
            MAX_SQRT_PRICE - U256::from(1u8)
        };
        let with = |limit| SwapParams {
            zero_for_one,
            amount_specified: -self.amount_in,
            sqrt_price_limit_x96: limit,
        };
        let mut v = Vec::with_capacity(2);
        if limit_usable {
            v.push((with(after), true));
        }
        v.push((with(no_limit), false));
        v
    }

    /// The replay gives the recorded amounts, price and (when recorded) liquidity.
    fn matches(&self, out: &SwapOutcome) -> bool {
        event_amounts(out.delta) == (self.amount0, self.amount1)
            && out.sqrt_price_x96 == self.price_after
            && self.liquidity.is_none_or(|l| l == out.liquidity)
    }
}
