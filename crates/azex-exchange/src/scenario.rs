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
//! - `{"comment": "..."}` — ignored.
//!
//! Amounts are integers in protocol units (azUSD 1e-6, sizes 1e-18, prices WAD), as JSON numbers
//! or decimal strings.
//!
//! # Output
//! One JSON line per event `{"line": N, "block": H, "event": {...}}`, one per rejected transaction
//! `{"line": N, "block": H, "rejected": "<error>"}`, then a final summary object
//! ([`Summary`]) with the state hash. Same file → same output on any machine.

use crate::engine::Genesis;
use crate::error::ExchangeError;
use crate::event::Event;
use crate::handlers::trade;
use crate::math::mark;
use crate::risk::{self, VaultRisk};
use crate::state::{BlockCtx, State};
use crate::tx::Tx;
use crate::units::{Price, Qty, SignedUsd, Usd, WAD};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    #[serde(default)]
    genesis: Option<Genesis>,
    #[serde(default)]
    block: Option<BlockCtx>,
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
    #[error("line {line}: {msg}")]
    Parse { line: usize, msg: String },
    #[error("line {line}: {err}")]
    Engine { line: usize, err: ExchangeError },
    #[error("line {line}: expected {expected}, got {got}")]
    Expectation {
        line: usize,
        expected: String,
        got: String,
    },
}

/// One line of output (one at a time: written out as soon as it is made, so its size does not
/// matter).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
#[allow(clippy::large_enum_variant)]
pub enum OutputLine {
    Event {
        line: usize,
        block: u64,
        event: Event,
    },
    Rejected {
        line: usize,
        block: u64,
        rejected: String,
        error_kind: String,
    },
}

/// Per-market figures at the end of a run.
#[derive(Debug, Clone, Serialize)]
pub struct MarketSummary {
    pub market: u32,
    pub base_token: String,
    pub status: String,
    pub spot: Price,
    pub risk_price: Price,
    pub pool_price: Price,
    pub mark: Price,
    pub spot_liquidity: Usd,
    pub long_qty: u128,
    pub short_qty: u128,
    pub net_qty: Qty,
    pub long_notional: Usd,
    pub short_notional: Usd,
    pub funding_rate_per_day_wad: i128,
    pub long_funding_index: i128,
    pub short_funding_index: i128,
    pub required: Usd,
    pub classic_required: Usd,
    pub positions: u64,
}

/// The end-of-run summary.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub block: u64,
    pub markets: Vec<MarketSummary>,
    pub vault_nav: SignedUsd,
    pub vault_cash: Usd,
    pub vault_shares: u128,
    /// azUSD per 1e18 shares (i.e. per whole share), WAD-free: azUSD units.
    pub share_price: Usd,
    pub total_required: Usd,
    pub classic_required: Usd,
    pub free_liquidity: Usd,
    pub azusd_supply: u128,
    pub usdc_liquid: u128,
    pub strategy_assets: u128,
    pub treasury: Usd,
    pub insurance: Usd,
    pub rejected: usize,
    pub state_hash: String,
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct ScenarioRun {
    pub output: Vec<OutputLine>,
    pub summary: Summary,
    pub state: State,
}

fn error_kind(e: &ExchangeError) -> String {
    format!("{e:?}")
        .split([' ', '(', '{'])
        .next()
        .unwrap_or("")
        .to_string()
}

/// Run a scenario from its text.
pub fn run(text: &str) -> Result<ScenarioRun, ScenarioError> {
    let mut state: Option<State> = None;
    let mut output = Vec::new();
    let mut rejected = 0usize;
    let mut block = BlockCtx::default();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let line: Line = serde_json::from_str(t).map_err(|e| ScenarioError::Parse {
            line: n,
            msg: e.to_string(),
        })?;
        let kinds =
            line.genesis.is_some() as u8 + line.block.is_some() as u8 + line.tx.is_some() as u8;
        if kinds > 1 {
            return Err(ScenarioError::Parse {
                line: n,
                msg: "one of genesis, block, tx per line".into(),
            });
        }
        if let Some(g) = line.genesis {
            if state.is_some() {
                return Err(ScenarioError::Parse {
                    line: n,
                    msg: "genesis must be the first line".into(),
                });
            }
            state = Some(State::genesis(&g).map_err(|err| ScenarioError::Engine { line: n, err })?);
            continue;
        }
        let s = match state.as_mut() {
            Some(s) => s,
            None => state.insert(
                State::genesis(&Genesis::default())
                    .map_err(|err| ScenarioError::Engine { line: n, err })?,
            ),
        };
        if let Some(b) = line.block {
            let mut evs = Vec::new();
            if s.block_open {
                evs.extend(
                    s.end_block()
                        .map_err(|err| ScenarioError::Engine { line: n, err })?,
                );
            }
            evs.extend(
                s.begin_block(b)
                    .map_err(|err| ScenarioError::Engine { line: n, err })?,
            );
            block = b;
            output.extend(evs.into_iter().map(|event| OutputLine::Event {
                line: n,
                block: b.height,
                event,
            }));
            continue;
        }
        if let Some(bl) = line.blocks {
            for _ in 0..bl.count {
                let b = BlockCtx {
                    height: block.height + 1,
                    timestamp: block.timestamp + bl.seconds,
                };
                let mut evs = Vec::new();
                if s.block_open {
                    evs.extend(
                        s.end_block()
                            .map_err(|err| ScenarioError::Engine { line: n, err })?,
                    );
                }
                evs.extend(
                    s.begin_block(b)
                        .map_err(|err| ScenarioError::Engine { line: n, err })?,
                );
                block = b;
                output.extend(evs.into_iter().map(|event| OutputLine::Event {
                    line: n,
                    block: b.height,
                    event,
                }));
            }
            continue;
        }
        let tx = match (line.tx, line.swap_to_price, line.remove_spot_position) {
            (Some(tx), None, None) => tx,
            (None, Some(w), None) => {
                swap_to_price_tx(s, &w).map_err(|err| ScenarioError::Engine { line: n, err })?
            }
            (None, None, Some(r)) => remove_spot_position_tx(s, &r)
                .map_err(|err| ScenarioError::Engine { line: n, err })?,
            (None, None, None) => continue,
            _ => {
                return Err(ScenarioError::Parse {
                    line: n,
                    msg: "one of tx, swap_to_price, remove_spot_position per line".into(),
                })
            }
        };
        if !s.block_open {
            return Err(ScenarioError::Parse {
                line: n,
                msg: "transaction before the first block".into(),
            });
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
                });
            }
        }
        match res {
            Ok(evs) => output.extend(evs.into_iter().map(|event| OutputLine::Event {
                line: n,
                block: block.height,
                event,
            })),
            Err(e) => {
                rejected += 1;
                output.push(OutputLine::Rejected {
                    line: n,
                    block: block.height,
                    rejected: e.to_string(),
                    error_kind: got,
                });
            }
        }
    }
    let mut state = match state {
        Some(s) => s,
        None => State::genesis(&Genesis::default())
            .map_err(|err| ScenarioError::Engine { line: 0, err })?,
    };
    if state.block_open {
        let evs = state
            .end_block()
            .map_err(|err| ScenarioError::Engine { line: 0, err })?;
        output.extend(evs.into_iter().map(|event| OutputLine::Event {
            line: 0,
            block: block.height,
            event,
        }));
    }
    let summary =
        summarize(&state, rejected).map_err(|err| ScenarioError::Engine { line: 0, err })?;
    Ok(ScenarioRun {
        output,
        summary,
        state,
    })
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
        markets.push(MarketSummary {
            market: m.id,
            base_token: m.base_token.to_string(),
            status: format!("{:?}", m.status),
            spot: m.prices.spot,
            risk_price: m.prices.risk,
            pool_price: m.prices.pool,
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
        crate::units::mul_div_down_u128(r.nav as u128, WAD, s.vault.shares)?
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
        state_hash: s.hash_hex(),
    })
}
