//! Scenario files: blocks and transactions as JSON lines, run through the state machine.
//!
//! # Format
//! One JSON object per line; blank lines and lines starting with `#` are ignored.
//! - `{"genesis": {...}}` — optional, first meaningful line: [`Genesis`] (params, balances,
//!   strategies). Without it the genesis is empty (default parameters, no balances).
//! - `{"block": {"height": 1, "timestamp": 1700000000}}` — ends the open block (if any) and begins
//!   this one. Heights must increase; time must not go back.
//! - `{"tx": {"type": "open_position", ...}}` — a [`Tx`] in the open block. Optional
//!   `"expect": "ok"` or `"expect": "error"` (or an error name such as
//!   `"VaultCapacityExceeded"`) turns the line into a check: a mismatch stops the run with an
//!   error naming the line.
//! - `{"blocks": {"count": N, "seconds": S}}` — N empty blocks, S seconds apart.
//! - `{"swap_to_price": {"user": "0x…", "market": 0, "price": "…"}}` — a real spot swap that trades
//!   the pool to a price (sugar: the runner computes the sqrt-price limit); takes `"expect"` too.
//! - `{"remove_spot_position": {"user": "0x…", "market": 0}}` — a real `spot_liquidity` that removes
//!   the user's largest spot position entirely (sugar: the runner looks it up); takes `"expect"`.
//! - `{"comment": "..."}` — ignored; a `"comment"` may also annotate any other line.
//!
//! Amounts are integers in protocol units (azUSD 1e-6, sizes 1e-18, prices WAD), as JSON numbers
//! or decimal strings.
//!
//! # Errors and limits
//! Every malformed line stops the run with a [`ScenarioError`] naming the line (1-based); nothing
//! after it runs (`azex run` prints `FILE:LINE: message` and exits non-zero). In particular:
//! - a line holds exactly one of `genesis`, `block`, `blocks`, `tx`, `swap_to_price`,
//!   `remove_spot_position` (or only a `comment`): two kinds on one line, or an object with none
//!   (`{}`), is an error;
//! - `expect` is only allowed next to `tx`, `swap_to_price` and `remove_spot_position`;
//! - unknown or misspelled field names are errors at every level (the line, the genesis and its
//!   parameters, balances and strategies, blocks, transactions);
//! - genesis parameters and strategies are range-checked ([`crate::params`]: e.g. an LP lock-up
//!   of at most a year, strategy yields of at most 100 % a year);
//! - a line must be a JSON object (`{…}`);
//! - `blocks.count` is between 1 and [`MAX_BLOCKS_PER_LINE`]; the heights and timestamps it
//!   produces are computed with checked arithmetic: a count or spacing that would pass
//!   `u64::MAX` (heights) or [`MAX_TIMESTAMP`] (9999-12-31, timestamps) is an error before any
//!   of its blocks runs; a `block` line's timestamp is at most [`MAX_TIMESTAMP`] too;
//! - a line is at most [`MAX_LINE_BYTES`] bytes and must be UTF-8;
//! - a file with no genesis, block or transaction line is an error.
//!
//! # Output
//! One JSON line per event `{"line": N, "block": H, "event": {...}}`, one per rejected transaction
//! `{"line": N, "block": H, "rejected": "<error>"}`, then a final summary object
//! ([`Summary`]) with the state hash. Same file → same output on any machine.
//!
//! [`run_reader`] streams: it reads one line at a time and hands each output line to a sink as
//! soon as it is made, so a run keeps only the state in memory (not the file, not the events).
//! [`run`] is the same over a string, collecting the output.

use crate::book;
use crate::engine::Genesis;
use crate::error::ExchangeError;
use crate::event::Event;
use crate::handlers::{liquidation, trade};
use crate::ids::PositionId;
use crate::math::mark;
use crate::risk::{self, VaultRisk};
use crate::state::{BlockCtx, State, AZUSD, USDC};
use crate::tx::Tx;
use crate::units::{Price, Qty, SignedUsd, Usd, WAD};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::BufRead;

/// Most blocks one `{"blocks": …}` line may ask for.
pub const MAX_BLOCKS_PER_LINE: u64 = 1_000_000;

/// Latest block timestamp a scenario may reach: 9999-12-31 23:59:59 UTC.
pub const MAX_TIMESTAMP: u64 = 253_402_300_799;

/// Longest line of a scenario file, in bytes (a genesis with thousands of balances fits).
pub const MAX_LINE_BYTES: usize = 16 << 20;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    #[serde(default)]
    genesis: Option<Genesis>,
    #[serde(default)]
    block: Option<BlockLine>,
    #[serde(default)]
    tx: Option<Tx>,
    #[serde(default)]
    blocks: Option<Blocks>,
    #[serde(default)]
    swap_to_price: Option<SwapToPrice>,
    #[serde(default)]
    remove_spot_position: Option<RemoveSpotPosition>,
    #[serde(default)]
    expect: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    comment: Option<String>,
}

/// `{"block": {"height": H, "timestamp": T}}` (the scenario's own strict form of [`BlockCtx`]).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
struct BlockLine {
    height: u64,
    timestamp: u64,
}

/// `{"blocks": {"count": N, "seconds": S}}`: N empty blocks, S seconds apart.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Blocks {
    count: u64,
    seconds: u64,
}

/// `{"swap_to_price": {"user": …, "market": 0, "price": "…"}}`: a real `spot_swap` by `user`
/// that trades the pool to `price` (USD per token, WAD), spending at most half its balance of the
/// input token — sugar so scenario authors need not compute sqrt-price limits.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SwapToPrice {
    user: alloy_primitives::Address,
    market: u32,
    #[serde(with = "crate::serde_num")]
    price: Price,
}

/// `{"remove_spot_position": {"user": …, "market": 0}}`: a real `spot_liquidity` transaction that
/// removes the user's largest spot position in the market's pool entirely (sugar: the runner
/// looks up its range and liquidity).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RemoveSpotPosition {
    user: alloy_primitives::Address,
    market: u32,
}

fn remove_spot_position_tx(s: &State, r: &RemoveSpotPosition) -> Result<Tx, ExchangeError> {
    let m = s
        .market(r.market)
        .ok_or_else(|| ExchangeError::UnknownMarket(r.market))?;
    let pool = s
        .spot
        .pool(&m.pool_key)
        .map_err(crate::spot_link::spot_err)?;
    let (k, p) = pool
        .positions()
        .filter(|(k, p)| k.owner == r.user && p.liquidity > 0)
        .max_by_key(|(_, p)| p.liquidity)
        .ok_or(ExchangeError::InvalidParameter {
            name: "remove_spot_position",
            reason: "no spot position".into(),
        })?;
    let mut salt = [0u8; 8];
    salt.copy_from_slice(&k.salt[24..]);
    Ok(Tx::SpotLiquidity {
        user: r.user,
        market: r.market,
        tick_lower: k.tick_lower,
        tick_upper: k.tick_upper,
        liquidity_delta: -i128::try_from(p.liquidity).map_err(|_| ExchangeError::Overflow)?,
        salt: u64::from_be_bytes(salt),
    })
}

fn swap_to_price_tx(s: &State, w: &SwapToPrice) -> Result<Tx, ExchangeError> {
    let m = s
        .market(w.market)
        .ok_or_else(|| ExchangeError::UnknownMarket(w.market))?;
    let sqrt = crate::spot_link::sqrt_from_price(w.price, m.quote_is_token0, m.base_decimals)?;
    let cur = s
        .spot
        .slot0(&m.pool_key)
        .map_err(crate::spot_link::spot_err)?
        .sqrt_price_x96;
    let now = crate::spot_link::price_from_sqrt_saturating(cur, m.quote_is_token0, m.base_decimals);
    let sell_base = w.price < now;
    let bal = if sell_base {
        s.wallet(w.user, m.base_token)
    } else {
        s.wallet(w.user, crate::state::AZUSD)
    };
    let amount = i128::try_from(bal / 2)
        .map_err(|_| ExchangeError::Overflow)?
        .max(1);
    Ok(Tx::SpotSwap {
        user: w.user,
        market: w.market,
        base_for_quote: sell_base,
        amount_specified: -amount,
        sqrt_price_limit_x96: Some(sqrt),
    })
}

/// A scenario could not be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    /// A line is not valid scenario input (not a JSON object, an unknown or missing field, not
    /// exactly one kind, a transaction before the first block, a block count or time out of
    /// range, …).
    #[error("line {line}: {msg}")]
    Parse {
        /// The 1-based line.
        line: usize,
        /// What is wrong, for people.
        msg: String,
    },
    /// The engine refused a genesis, a block step or a sugar line's lookup outright (a
    /// transaction's refusal is an [`OutputLine::Rejected`] line instead, unless `expect`
    /// says otherwise).
    #[error("line {line}: {err}")]
    Engine {
        /// The 1-based line (0: the end of the run, its final `end_block` and summary).
        line: usize,
        /// The engine's error.
        err: ExchangeError,
    },
    /// A transaction's outcome differs from its line's `expect`.
    #[error("line {line}: expected {expected}, got {got}")]
    Expectation {
        /// The 1-based line.
        line: usize,
        /// What the line's `expect` asked for (`"ok"`, `"error"` or an error name).
        expected: String,
        /// What happened: `"ok"` or the error's [`ExchangeError::kind`].
        got: String,
    },
    /// The input could not be read (I/O error, not UTF-8, line too long).
    #[error("line {line}: {msg}")]
    Read {
        /// The 1-based line the reader stopped at.
        line: usize,
        /// The reading error, for people.
        msg: String,
    },
    /// No genesis, block or transaction line at all.
    #[error("empty scenario: no genesis, block or transaction line")]
    Empty,
}

impl ScenarioError {
    /// The 1-based line the error is about (`None`: the file as a whole; `Some(0)`: the end of
    /// the run).
    pub fn line(&self) -> Option<usize> {
        match self {
            ScenarioError::Parse { line, .. }
            | ScenarioError::Engine { line, .. }
            | ScenarioError::Expectation { line, .. }
            | ScenarioError::Read { line, .. } => Some(*line),
            ScenarioError::Empty => None,
        }
    }

    /// The message without the `line N:` prefix.
    pub fn detail(&self) -> String {
        match self {
            ScenarioError::Parse { msg, .. } | ScenarioError::Read { msg, .. } => msg.clone(),
            ScenarioError::Engine { err, .. } => err.to_string(),
            ScenarioError::Expectation { expected, got, .. } => {
                format!("expected {expected}, got {got}")
            }
            ScenarioError::Empty => self.to_string(),
        }
    }
}

/// A streamed run failed: the scenario itself, or the sink the output went to.
#[derive(Debug)]
pub enum RunError<E> {
    /// The scenario failed (see [`ScenarioError`]).
    Scenario(ScenarioError),
    /// The sink refused an output line (its own error).
    Output(E),
}

impl<E> From<ScenarioError> for RunError<E> {
    fn from(e: ScenarioError) -> Self {
        RunError::Scenario(e)
    }
}

/// One line of output (one at a time: written out as soon as it is made, so its size does not
/// matter).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
#[allow(clippy::large_enum_variant)]
pub enum OutputLine {
    /// Events of a transaction or block step, one output line each.
    Event {
        /// The 1-based line that caused it (0: the final `end_block` of the run).
        line: usize,
        /// Height of the block it happened in.
        block: u64,
        /// The event.
        event: Event,
    },
    /// A transaction the engine refused (the run goes on; counted in [`Summary::rejected`]).
    Rejected {
        /// The 1-based line of the transaction.
        line: usize,
        /// Height of the block it was sent in.
        block: u64,
        /// The error's message.
        rejected: String,
        /// The error's stable name ([`ExchangeError::kind`]).
        error_kind: String,
    },
}

/// Per-market figures at the end of a run.
#[derive(Debug, Clone, Serialize)]
pub struct MarketSummary {
    /// The market's id.
    pub market: u32,
    /// Its base token's address (checksummed hex).
    pub base_token: String,
    /// Its status as text (`"Active"`, `"ReduceOnly"`, `"Delisted { settlement_price: … }"`).
    pub status: String,
    /// Spot `S` in force in the last block (WAD USD per whole base token).
    pub spot: Price,
    /// Risk price `R` in force in the last block (WAD).
    pub risk_price: Price,
    /// The pool's price as read at the last block's begin.
    pub pool_price: Price,
    /// The pool's price and tick now (after the last block's transactions).
    pub pool_price_now: Price,
    /// The pool's current tick.
    pub pool_tick: i32,
    /// The pool's current Q64.96 sqrt price, as a decimal string.
    pub pool_sqrt_price_x96: String,
    /// Mark price (WAD) at the market's net and the last block's spot, with the impact capacity
    /// recomputed from the vault's free liquidity at the end of the run.
    pub mark: Price,
    /// The pool's depth read at the last block's begin (micro-azUSD).
    pub spot_liquidity: Usd,
    /// Effective long open interest (`Qty` magnitude, 1e-18 base token).
    pub long_qty: u128,
    /// Effective short open interest (`Qty` magnitude).
    pub short_qty: u128,
    /// Net `long − short` (`Qty`, signed).
    pub net_qty: Qty,
    /// Long open interest at the risk price (micro-azUSD, rounded up).
    pub long_notional: Usd,
    /// Short open interest at the risk price (micro-azUSD, rounded up).
    pub short_notional: Usd,
    /// Funding rate in force (WAD per day, signed: + longs pay).
    pub funding_rate_per_day_wad: i128,
    /// The long side's funding index (azUSD units × 1e18 per stored whole token).
    pub long_funding_index: i128,
    /// The short side's funding index (same units).
    pub short_funding_index: i128,
    /// The market's AZEx requirement (micro-azUSD).
    pub required: Usd,
    /// The classic fully-backed requirement `max(L, S)` (micro-azUSD), for comparison.
    pub classic_required: Usd,
    /// Open positions on the market (both sides, every ADL epoch).
    pub positions: u64,
}

/// One token balance of an account.
#[derive(Debug, Clone, Serialize)]
pub struct TokenBalance {
    /// `azUSD`, `USDC`, `base of market N`, or the address for any other token.
    pub token: String,
    /// The token's address, lowercase hex.
    pub address: String,
    /// In the token's own units (azUSD and USDC 1e-6, base tokens 10^-decimals).
    pub amount: u128,
}

/// Every account (wallet owner or LP) at the end of a run.
#[derive(Debug, Clone, Serialize)]
pub struct AccountSummary {
    /// The account's address, lowercase hex.
    pub owner: String,
    /// Its token balances, in token-address order.
    pub balances: Vec<TokenBalance>,
    /// LP vault shares held (1e-18 share units; 0 if none).
    pub lp_shares: u128,
    /// When the account's LP shares unlock (Unix seconds; 0 if none).
    pub lp_unlock_time: u64,
}

/// Every open position at the end of a run, read through the engine's own functions (effective
/// values after ADL scaling, funding and ADL settled as of the last block).
#[derive(Debug, Clone, Serialize)]
pub struct PositionSummary {
    /// The position's id.
    pub id: PositionId,
    /// Its owner's address, lowercase hex.
    pub owner: String,
    /// Its market.
    pub market: u32,
    /// `long` or `short`.
    pub side: &'static str,
    /// Effective size, 1e-18 base units, signed (+ long, − short); 0 once ADL closed its epoch.
    pub size: Qty,
    /// Effective cost basis, azUSD units (paid for a long > 0, received for a short < 0).
    pub cost_basis: SignedUsd,
    /// Its margin (micro-azUSD).
    pub margin: Usd,
    /// Funding owed (+) or to receive (−) since its last settlement, plus its funding debt.
    pub funding_owed: Option<SignedUsd>,
    /// ADL PnL credited to it and not yet settled.
    pub adl_pnl_pending: Option<SignedUsd>,
    /// The price it is judged at (the less favourable to it of the truncated spot and TWAP).
    pub judged_at_price: Price,
    /// `margin + uPnL − funding owed + ADL PnL − close fee` at `judged_at_price` (the engine's
    /// liquidation check); `null` if a figure overflowed.
    pub equity: Option<SignedUsd>,
    /// Maintenance margin at `judged_at_price` (micro-azUSD, rounded up); `null` if a figure
    /// overflowed.
    pub maintenance_margin: Option<Usd>,
    /// `equity < maintenance_margin` with a non-zero size; `null` if a figure overflowed.
    pub liquidatable: Option<bool>,
    /// The price at which it becomes liquidatable ([`State::liquidation_price`]); `null` if
    /// there is none.
    pub liquidation_price: Option<Price>,
    /// When it was opened (Unix seconds).
    pub opened_at: u64,
    /// When its stepwise liquidation began (0 = never).
    pub liquidation_started_at: u64,
}

/// The end-of-run summary.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Height of the last block.
    pub block: u64,
    /// Per-market figures, by market id.
    pub markets: Vec<MarketSummary>,
    /// Vault NAV at the risk prices (micro-azUSD, signed).
    pub vault_nav: SignedUsd,
    /// The vault's cash (micro-azUSD).
    pub vault_cash: Usd,
    /// LP shares outstanding (1e-18 share units).
    pub vault_shares: u128,
    /// azUSD per 1e18 shares (i.e. per whole share), WAD-free: azUSD units.
    pub share_price: Usd,
    /// Σ of the markets' AZEx requirements (micro-azUSD).
    pub total_required: Usd,
    /// Σ of the markets' classic requirements `max(L, S)` (micro-azUSD), for comparison.
    pub classic_required: Usd,
    /// The vault's free liquidity (micro-azUSD).
    pub free_liquidity: Usd,
    /// azUSD in existence (micro-azUSD).
    pub azusd_supply: u128,
    /// Liquid USDC in the ledger (USDC smallest unit, 1e-6).
    pub usdc_liquid: u128,
    /// USDC in strategies, withdrawals in transit included (USDC smallest unit, 1e-6).
    pub strategy_assets: u128,
    /// The treasury's azUSD (micro-azUSD).
    pub treasury: Usd,
    /// The insurance fund's azUSD (micro-azUSD).
    pub insurance: Usd,
    /// Transactions the engine refused during the run.
    pub rejected: usize,
    /// Every account's balances and LP shares, by address.
    pub accounts: Vec<AccountSummary>,
    /// Every open position, by id.
    pub open_positions: Vec<PositionSummary>,
    /// [`State::hash`] at the end, hex.
    pub state_hash: String,
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct ScenarioRun {
    /// Every output line, in order.
    pub output: Vec<OutputLine>,
    /// The end-of-run summary.
    pub summary: Summary,
    /// The final state.
    pub state: State,
}

/// The end of a streamed run.
#[derive(Debug, Clone)]
pub struct Finished {
    /// The end-of-run summary.
    pub summary: Summary,
    /// The final state.
    pub state: State,
}

fn error_kind(e: &ExchangeError) -> String {
    e.kind().to_string()
}

/// Exactly one kind per line, `expect` only on transaction lines. `Ok(false)`: a comment line
/// (nothing to run).
fn line_kind_ok(n: usize, line: &Line) -> Result<bool, ScenarioError> {
    let present = [
        ("genesis", line.genesis.is_some()),
        ("block", line.block.is_some()),
        ("blocks", line.blocks.is_some()),
        ("tx", line.tx.is_some()),
        ("swap_to_price", line.swap_to_price.is_some()),
        ("remove_spot_position", line.remove_spot_position.is_some()),
    ];
    let kinds: Vec<&str> = present.iter().filter(|x| x.1).map(|x| x.0).collect();
    const ONE_OF: &str = "one of genesis, block, blocks, tx, swap_to_price, remove_spot_position";
    match kinds.as_slice() {
        [] if line.expect.is_some() => Err(parse_err(
            n,
            format!("`expect` without a transaction (give {ONE_OF})"),
        )),
        [] if line.comment.is_some() => Ok(false),
        [] => Err(parse_err(
            n,
            format!("nothing to do on this line: give {ONE_OF}"),
        )),
        [_] if line.expect.is_some()
            && (line.genesis.is_some() || line.block.is_some() || line.blocks.is_some()) =>
        {
            Err(parse_err(
                n,
                format!(
                    "`expect` is only checked on tx, swap_to_price and remove_spot_position lines, not on {}",
                    kinds[0]
                ),
            ))
        }
        [_] => Ok(true),
        _ => Err(parse_err(
            n,
            format!("{} on one line: give exactly {ONE_OF}", kinds.join(" and ")),
        )),
    }
}

fn parse_err(line: usize, msg: impl Into<String>) -> ScenarioError {
    ScenarioError::Parse {
        line,
        msg: msg.into(),
    }
}

/// Field names present in `input` but absent from `known` (the same value parsed and written
/// back): keys the parser ignored. Walks objects and arrays of equal length; a key given as
/// `null` that the type writes out as absent is not reported.
fn unknown_fields(input: &Value, known: &Value, path: &str, out: &mut Vec<String>) {
    match (input, known) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let p = format!("{path}.{k}");
                match b.get(k) {
                    Some(w) => unknown_fields(v, w, &p, out),
                    None if v.is_null() => {}
                    None => out.push(p),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                unknown_fields(v, w, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// The genesis of a line, checked: no field the parser would ignore (whatever the attributes of
/// the types it is made of), strategies within their bounds.
fn checked_genesis(n: usize, raw: &str, g: &Genesis) -> Result<(), ScenarioError> {
    let v: Value = serde_json::from_str(raw).map_err(|e| parse_err(n, e.to_string()))?;
    let known = serde_json::to_value(g).map_err(|e| parse_err(n, e.to_string()))?;
    let mut unknown = Vec::new();
    if let Some(input) = v.get("genesis") {
        unknown_fields(input, &known, "genesis", &mut unknown);
    }
    if !unknown.is_empty() {
        return Err(parse_err(
            n,
            format!("unknown field(s) {}", unknown.join(", ")),
        ));
    }
    crate::params::validate_strategies(&g.strategies)
        .map_err(|err| ScenarioError::Engine { line: n, err })
}

/// Runs a scenario line by line (see the module docs). Feed it lines with [`Runner::line`], then
/// call [`Runner::finish`]; every output line goes to the sink as soon as it is made.
#[derive(Debug, Default)]
pub struct Runner {
    state: Option<State>,
    block: BlockCtx,
    rejected: usize,
    /// A genesis, block or transaction line was seen.
    anything: bool,
}

impl Runner {
    /// A runner with no state yet (the genesis line, or the default genesis, makes one).
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&mut self, n: usize) -> Result<&mut State, ScenarioError> {
        if self.state.is_none() {
            let s = State::genesis(&Genesis::default())
                .map_err(|err| ScenarioError::Engine { line: n, err })?;
            self.state = Some(s);
        }
        Ok(self.state.as_mut().expect("just set"))
    }

    /// Ends the open block (if any) and begins `b`, sending the events to `sink`.
    fn next_block<E>(
        &mut self,
        n: usize,
        b: BlockCtx,
        sink: &mut impl FnMut(OutputLine) -> Result<(), E>,
    ) -> Result<(), RunError<E>> {
        let eng = |err| ScenarioError::Engine { line: n, err };
        let s = self.state(n)?;
        let mut evs = Vec::new();
        if s.block_open {
            evs.extend(s.end_block().map_err(eng)?);
        }
        evs.extend(s.begin_block(b).map_err(eng)?);
        self.block = b;
        for event in evs {
            sink(OutputLine::Event {
                line: n,
                block: b.height,
                event,
            })
            .map_err(RunError::Output)?;
        }
        Ok(())
    }

    /// Runs line `n` (1-based) of the file, `raw` its text.
    pub fn line<E>(
        &mut self,
        n: usize,
        raw: &str,
        sink: &mut impl FnMut(OutputLine) -> Result<(), E>,
    ) -> Result<(), RunError<E>> {
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') {
            return Ok(());
        }
        if !t.starts_with('{') {
            return Err(parse_err(n, "a line must be one JSON object `{...}`").into());
        }
        let line: Line = serde_json::from_str(t).map_err(|e| parse_err(n, e.to_string()))?;
        if !line_kind_ok(n, &line)? {
            return Ok(()); // a comment line
        }
        if let Some(g) = &line.genesis {
            return self.genesis_line(n, t, g);
        }
        self.anything = true;
        if let Some(b) = line.block {
            if b.timestamp > MAX_TIMESTAMP {
                return Err(parse_err(
                    n,
                    format!(
                        "block timestamp {} after {MAX_TIMESTAMP} (9999-12-31 23:59:59 UTC)",
                        b.timestamp
                    ),
                )
                .into());
            }
            let b = BlockCtx {
                height: b.height,
                timestamp: b.timestamp,
            };
            return self.next_block(n, b, sink);
        }
        if let Some(bl) = &line.blocks {
            return self.blocks_line(n, bl, sink);
        }
        self.tx_line(n, line, sink)
    }

    fn genesis_line<E>(&mut self, n: usize, t: &str, g: &Genesis) -> Result<(), RunError<E>> {
        if self.state.is_some() {
            return Err(parse_err(n, "genesis must be the first line").into());
        }
        checked_genesis(n, t, g)?;
        self.state = Some(State::genesis(g).map_err(|err| ScenarioError::Engine { line: n, err })?);
        self.anything = true;
        Ok(())
    }

    /// `{"blocks": {count, seconds}}`: `count` empty blocks `seconds` apart, all checked first.
    fn blocks_line<E>(
        &mut self,
        n: usize,
        bl: &Blocks,
        sink: &mut impl FnMut(OutputLine) -> Result<(), E>,
    ) -> Result<(), RunError<E>> {
        if bl.count == 0 || bl.count > MAX_BLOCKS_PER_LINE {
            return Err(parse_err(
                n,
                format!(
                    "blocks.count {} outside [1, {MAX_BLOCKS_PER_LINE}]",
                    bl.count
                ),
            )
            .into());
        }
        // The last block's height and time, checked before any block runs.
        let last_height = self.block.height.checked_add(bl.count);
        let last_time = bl
            .count
            .checked_mul(bl.seconds)
            .and_then(|d| self.block.timestamp.checked_add(d));
        if last_height.is_none() || last_time.is_none_or(|t| t > MAX_TIMESTAMP) {
            return Err(parse_err(
                n,
                format!(
                    "{} blocks {} s apart after block {} (time {}) would pass the largest height (u64) or timestamp ({MAX_TIMESTAMP})",
                    bl.count, bl.seconds, self.block.height, self.block.timestamp
                ),
            )
            .into());
        }
        for _ in 0..bl.count {
            // Cannot overflow: bounded by the last block's height and time checked above.
            let b = BlockCtx {
                height: self.block.height + 1,
                timestamp: self.block.timestamp + bl.seconds,
            };
            self.next_block(n, b, sink)?;
        }
        Ok(())
    }

    /// A transaction line (`tx`, `swap_to_price` or `remove_spot_position`): apply it, check
    /// its `expect`, write its events or its refusal.
    fn tx_line<E>(
        &mut self,
        n: usize,
        line: Line,
        sink: &mut impl FnMut(OutputLine) -> Result<(), E>,
    ) -> Result<(), RunError<E>> {
        let block = self.block;
        let s = self.state(n)?;
        let eng = |err| ScenarioError::Engine { line: n, err };
        let tx = match (line.tx, line.swap_to_price, line.remove_spot_position) {
            (Some(tx), _, _) => tx,
            (_, Some(w), _) => swap_to_price_tx(s, &w).map_err(eng)?,
            (_, _, Some(r)) => remove_spot_position_tx(s, &r).map_err(eng)?,
            _ => unreachable!("exactly one kind, checked by line_kind_ok"),
        };
        if !s.block_open {
            return Err(parse_err(n, "transaction before the first block").into());
        }
        let res = s.apply(&tx, block);
        let got = match &res {
            Ok(_) => "ok".to_string(),
            Err(e) => error_kind(e),
        };
        if let Some(exp) = &line.expect {
            let matches = exp == &got || (exp == "error" && res.is_err());
            if !matches {
                return Err(ScenarioError::Expectation {
                    line: n,
                    expected: exp.clone(),
                    got,
                }
                .into());
            }
        }
        match res {
            Ok(evs) => {
                for event in evs {
                    sink(OutputLine::Event {
                        line: n,
                        block: block.height,
                        event,
                    })
                    .map_err(RunError::Output)?;
                }
            }
            Err(e) => {
                self.rejected += 1;
                sink(OutputLine::Rejected {
                    line: n,
                    block: block.height,
                    rejected: e.to_string(),
                    error_kind: got,
                })
                .map_err(RunError::Output)?;
            }
        }
        Ok(())
    }

    /// Ends the open block and summarises the state.
    pub fn finish<E>(
        mut self,
        sink: &mut impl FnMut(OutputLine) -> Result<(), E>,
    ) -> Result<Finished, RunError<E>> {
        if !self.anything {
            return Err(ScenarioError::Empty.into());
        }
        let eng = |err| ScenarioError::Engine { line: 0, err };
        let block = self.block;
        let rejected = self.rejected;
        let mut state = match self.state.take() {
            Some(s) => s,
            None => State::genesis(&Genesis::default()).map_err(eng)?,
        };
        if state.block_open {
            for event in state.end_block().map_err(eng)? {
                sink(OutputLine::Event {
                    line: 0,
                    block: block.height,
                    event,
                })
                .map_err(RunError::Output)?;
            }
        }
        let summary = summarize(&state, rejected).map_err(eng)?;
        Ok(Finished { summary, state })
    }
}

/// Reads one line of at most `max` bytes (without its `\n`) into `buf`. `Ok(false)` at the end.
fn read_line_bounded(
    r: &mut impl BufRead,
    buf: &mut Vec<u8>,
    max: usize,
    n: usize,
) -> Result<bool, ScenarioError> {
    use std::io::Read;
    buf.clear();
    let got = r
        .by_ref()
        .take(max as u64 + 1)
        .read_until(b'\n', buf)
        .map_err(|e| ScenarioError::Read {
            line: n,
            msg: format!("reading: {e}"),
        })?;
    if got == 0 {
        return Ok(false);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
    } else if buf.len() > max {
        return Err(ScenarioError::Read {
            line: n,
            msg: format!("line longer than {max} bytes"),
        });
    }
    Ok(true)
}

/// Runs a scenario from a reader, one line at a time, handing every output line to `sink` as soon
/// as it is made (memory: the state, one line and one block's events — not the file, not the
/// output). Stops at the first error of the scenario or of the sink.
pub fn run_reader<R: BufRead, E>(
    mut reader: R,
    mut sink: impl FnMut(OutputLine) -> Result<(), E>,
) -> Result<Finished, RunError<E>> {
    let mut runner = Runner::new();
    let mut buf = Vec::new();
    let mut n = 0usize;
    loop {
        n += 1;
        if !read_line_bounded(&mut reader, &mut buf, MAX_LINE_BYTES, n)? {
            break;
        }
        let text = std::str::from_utf8(&buf).map_err(|e| ScenarioError::Read {
            line: n,
            msg: format!("not UTF-8: {e}"),
        })?;
        runner.line(n, text, &mut sink)?;
    }
    runner.finish(&mut sink)
}

/// Run a scenario from its text, collecting the output.
pub fn run(text: &str) -> Result<ScenarioRun, ScenarioError> {
    let mut output = Vec::new();
    let done = run_reader(text.as_bytes(), |l| {
        output.push(l);
        Ok::<(), std::convert::Infallible>(())
    })
    .map_err(|e| match e {
        RunError::Scenario(e) => e,
        RunError::Output(never) => match never {},
    })?;
    Ok(ScenarioRun {
        output,
        summary: done.summary,
        state: done.state,
    })
}

/// The name of a token in the summary.
fn token_name(s: &State, token: alloy_primitives::Address) -> String {
    if token == AZUSD {
        "azUSD".into()
    } else if token == USDC {
        "USDC".into()
    } else if let Some(m) = s.market_by_token.get(&token) {
        format!("base of market {m}")
    } else {
        token.to_string()
    }
}

/// Every account: wallet balances and LP shares, by address.
fn accounts(s: &State) -> Vec<AccountSummary> {
    use alloy_primitives::Address;
    let mut out: std::collections::BTreeMap<Address, AccountSummary> = Default::default();
    fn entry(
        out: &mut std::collections::BTreeMap<Address, AccountSummary>,
        owner: Address,
    ) -> &mut AccountSummary {
        out.entry(owner).or_insert_with(|| AccountSummary {
            owner: owner.to_string().to_lowercase(),
            balances: vec![],
            lp_shares: 0,
            lp_unlock_time: 0,
        })
    }
    for (&(owner, token), &amount) in &s.wallets {
        entry(&mut out, owner).balances.push(TokenBalance {
            token: token_name(s, token),
            address: token.to_string().to_lowercase(),
            amount,
        });
    }
    for (&owner, lp) in &s.lps {
        let a = entry(&mut out, owner);
        a.lp_shares = lp.shares;
        a.lp_unlock_time = lp.unlock_time;
    }
    out.into_values().collect()
}

/// Every open position, by id, with the figures the engine's liquidation check uses.
fn positions(s: &State) -> Vec<PositionSummary> {
    let mut out = Vec::with_capacity(s.positions.len());
    for (id, p) in s.positions.iter() {
        let long = p.is_long();
        let (m, params) = match (s.market(p.market), s.market_params.get(p.market as usize)) {
            (Some(m), Some(params)) => (m, params),
            _ => continue,
        };
        let side = m.side(long);
        let (q, c) = book::effective(p, side).unwrap_or((0, 0));
        let funding_owed = book::funding_owed_by(p, side).ok().and_then(|f| {
            i128::try_from(p.funding_debt)
                .ok()
                .and_then(|d| f.checked_add(d))
        });
        let adl = book::adl_owed_to(p, side).ok();
        let price = m.liquidation_price(long);
        let health = match (funding_owed, adl) {
            (Some(f), Some(a)) => f
                .checked_sub(a)
                .and_then(|owed| liquidation::health(params, q, c, p.margin, owed, price).ok()),
            _ => None,
        };
        out.push(PositionSummary {
            id,
            owner: p.owner.to_string().to_lowercase(),
            market: p.market,
            side: if long { "long" } else { "short" },
            size: q,
            cost_basis: c,
            margin: p.margin,
            funding_owed,
            adl_pnl_pending: adl,
            judged_at_price: price,
            equity: health.map(|h| h.0),
            maintenance_margin: health.map(|h| h.1),
            liquidatable: health.map(|(eq, mm)| q != 0 && (eq < 0 || eq.unsigned_abs() < mm)),
            liquidation_price: s.liquidation_price(id).ok().flatten(),
            opened_at: p.opened_at,
            liquidation_started_at: p.liquidation_started_at,
        });
    }
    out
}

/// The summary of a state.
pub fn summarize(s: &State, rejected: usize) -> Result<Summary, ExchangeError> {
    let r: VaultRisk = risk::vault_risk(
        &s.vault,
        s.markets.iter().zip(s.market_params.iter()),
        s.params.max_vault_utilisation_wad,
    )?;
    let mut markets = Vec::new();
    for (m, p) in s.markets.iter().zip(&s.market_params) {
        let mr = &r.markets[m.id as usize];
        let cap = trade::capacity(m, p, r.free_liquidity)?;
        let net = m.net_qty()?;
        let markp = mark::mark_price(trade::curve(p), net, m.prices.spot, cap, WAD / 2)?;
        let slot0 = s
            .spot
            .slot0(&m.pool_key)
            .map_err(crate::spot_link::spot_err)?;
        markets.push(MarketSummary {
            market: m.id,
            base_token: m.base_token.to_string(),
            status: format!("{:?}", m.status),
            spot: m.prices.spot,
            risk_price: m.prices.risk,
            pool_price: m.prices.pool,
            pool_price_now: crate::spot_link::price_from_sqrt_saturating(
                slot0.sqrt_price_x96,
                m.quote_is_token0,
                m.base_decimals,
            ),
            pool_tick: slot0.tick,
            pool_sqrt_price_x96: slot0.sqrt_price_x96.to_string(),
            mark: markp,
            spot_liquidity: m.prices.spot_liquidity,
            long_qty: m.long.eff_qty()?,
            short_qty: m.short.eff_qty()?,
            net_qty: net,
            long_notional: mr.long_notional,
            short_notional: mr.short_notional,
            funding_rate_per_day_wad: m.funding_rate_per_day_wad,
            long_funding_index: m.long.funding_index,
            short_funding_index: m.short.funding_index,
            required: mr.required,
            classic_required: mr.classic_required,
            positions: m.long.positions + m.short.positions,
        });
    }
    let share_price = if s.vault.shares == 0 || r.nav <= 0 {
        0
    } else {
        crate::units::mul_div_down_u128(r.nav.unsigned_abs(), WAD, s.vault.shares)?
    };
    let strategy_assets = s
        .ledger
        .strategies
        .iter()
        .map(|x| x.assets + x.pending.iter().map(|p| p.amount).sum::<u128>())
        .sum();
    Ok(Summary {
        block: s.block.height,
        markets,
        vault_nav: r.nav,
        vault_cash: s.vault.cash,
        vault_shares: s.vault.shares,
        share_price,
        total_required: r.required,
        classic_required: r.classic_required,
        free_liquidity: r.free_liquidity,
        azusd_supply: s.ledger.azusd_supply,
        usdc_liquid: s.ledger.usdc_liquid,
        strategy_assets,
        treasury: s.funds.treasury,
        insurance: s.funds.insurance,
        rejected,
        accounts: accounts(s),
        open_positions: positions(s),
        state_hash: s.hash_hex(),
    })
}
