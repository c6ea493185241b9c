//! One run: a coalition's moves against the honest world, a fixed unwind, probes, scoring.
//!
//! ```text
//! standard world ─ moves (each checked: invariants after every transaction and block)
//!   ─ probe A: every open position can be reduced and closed; every side of every live market
//!     can be opened
//!   ─ unwind: 30 honest blocks (the arbitrageur trades the pools back, the keeper works), then
//!     the coalition closes every position and withdraws its LP shares, then 2 more blocks
//!   ─ probe B (same as A) ─ valuation at the external prices
//! ```

use crate::action::{execute, Action};
use crate::value::{genesis_value, holdings, signed, Holdings};
use crate::world::{coalition, genesis, DeficitSeen, Party, World, HONEST_LP, PROBE};
use alloy_primitives::Address;
use azex_exchange::book;
use azex_exchange::event::Event;
use azex_exchange::state::{Market, MarketStatus, Position};
use azex_exchange::testkit::addr;
use azex_exchange::units::USD_ONE;
use azex_exchange::{ExchangeError, Genesis, State, Tx};
use serde::Serialize;
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Honest blocks of the unwind (2 s apart): enough for the truncated oracle (50 ticks a block)
/// to come back from a 15 % push and for the 60 s risk TWAP to forget it.
pub const UNWIND_BLOCKS: u64 = 30;

/// Rounding dust the coalition may end with above its start: 8 azUSD units (8e-6 USD) for the
/// valuation's own roundings (one floor per holding kind), plus 2 units per coalition
/// transaction that the engine accepted (every engine rounding is meant to go against the
/// trader; this leaves room for one unit of valuation rounding on each side of a transaction).
pub fn tolerance(coalition_txs: usize) -> i128 {
    8 + 2 * coalition_txs as i128
}

/// An invariant broken by a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Violation {
    /// The coalition ended with more than it started with (beyond [`tolerance`]).
    CoalitionGain {
        /// End value − genesis value, azUSD units.
        gain: i128,
        /// The dust allowed for this run.
        tolerance: i128,
    },
    /// A `DeficitCovered` event: a loss beyond a position's margin.
    Deficit {
        /// The position whose loss it was.
        position: u64,
        /// Who covered it (insurance fund or vault).
        payer: String,
        /// azUSD units.
        amount: u128,
        /// Block height.
        block: u64,
    },
    /// A simulated close (probe) of an open position would cover a deficit.
    LatentDeficit {
        /// The position probed.
        position: u64,
        /// The deficit its close would cover, azUSD units.
        amount: u128,
    },
    /// A small open on a side of a live market fails for no documented reason.
    BrickedSide {
        /// The market.
        market: u32,
        /// The side.
        long: bool,
        /// The engine's refusal.
        error: String,
    },
    /// A small reduce or a close of an open position fails for no documented reason.
    Unreducible {
        /// The position probed.
        position: u64,
        /// What was tried (`close`, `reduce 10%`, `settle_delisted`).
        action: String,
        /// The engine's refusal.
        error: String,
    },
    /// `azex_exchange::invariants::check` failed, a block could not begin or end, or the
    /// engine panicked.
    EngineFault {
        /// What happened.
        message: String,
    },
}

impl Violation {
    /// A short name of the class.
    pub fn kind(&self) -> &'static str {
        match self {
            Violation::CoalitionGain { .. } => "coalition_gain",
            Violation::Deficit { .. } => "deficit",
            Violation::LatentDeficit { .. } => "latent_deficit",
            Violation::BrickedSide { .. } => "bricked_side",
            Violation::Unreducible { .. } => "unreducible",
            Violation::EngineFault { .. } => "engine_fault",
        }
    }
}

/// What a run measured. Values in azUSD units (1e-6 USD) at the external prices.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// Coalition value of its genesis balances.
    pub coalition_start: i128,
    /// What the coalition holds at the end.
    pub coalition_end: Holdings,
    /// `coalition_end.total() − coalition_start`.
    pub coalition_gain: i128,
    /// The honest LP's vault shares valued at the start of the attack.
    pub honest_lp_start: i128,
    /// … and at the end.
    pub honest_lp_end: i128,
    /// `honest_lp_start − honest_lp_end` (positive: the LP lost).
    pub vault_loss: i128,
    /// Share price (azUSD units per 1e18 shares) at the start of the attack.
    pub share_price_start: u128,
    /// … at the end.
    pub share_price_end: u128,
    /// … at its lowest (at block boundaries and at the end).
    pub share_price_min: u128,
    /// What the honest arbitrageur made.
    pub arbitrageur_gain: i128,
    /// What the honest keeper made.
    pub keeper_gain: i128,
    /// Every `DeficitCovered` event of the run.
    pub deficits: Vec<DeficitSeen>,
    /// Every invariant the run broke (deduplicated).
    pub violations: Vec<Violation>,
    /// Coalition transactions the engine accepted (moves and unwind).
    pub coalition_txs: usize,
    /// Coalition transactions the engine refused.
    pub coalition_refused: usize,
    /// Height of the last block.
    pub end_block: u64,
    /// How far the run pushed the protocol (the search's niches).
    pub reach: crate::world::Reach,
    /// Which moves changed anything (the rest were skipped or refused).
    #[serde(skip)]
    pub effective: Vec<bool>,
}

impl Outcome {
    /// The search's score: coalition gain plus the honest LP's loss (azUSD units).
    pub fn fitness(&self) -> i128 {
        self.coalition_gain
            .saturating_add(self.vault_loss)
            .saturating_add(self.deficit_total())
    }

    /// The sum of the run's deficits (azUSD units, 1e-6 USD).
    pub fn deficit_total(&self) -> i128 {
        self.deficits.iter().map(|d| signed(d.amount)).sum()
    }

    /// The violation classes present, sorted, deduplicated.
    pub fn kinds(&self) -> Vec<&'static str> {
        let mut k: Vec<_> = self.violations.iter().map(|v| v.kind()).collect();
        k.sort_unstable();
        k.dedup();
        k
    }
}

/// The reference figures a run is scored against.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Start {
    /// Coalition value of its genesis balances.
    coalition: i128,
    /// The honest LP's stake and the share price when the attack starts.
    honest_lp: i128,
    share_price: u128,
    /// The arbitrageur's genesis value.
    arbitrageur: i128,
}

impl Start {
    /// Figures for a world whose attack starts now, from genesis `g`.
    pub(crate) fn now(w: &World, g: &Genesis) -> Start {
        Start {
            coalition: genesis_value(g, &coalition()),
            honest_lp: lp_value(w, addr(HONEST_LP)),
            share_price: w.share_price(),
            arbitrageur: genesis_value(g, &[addr(crate::world::ARBITRAGEUR)]),
        }
    }
}

/// A world prepared once and cloned for every run.
#[derive(Clone)]
pub struct Base {
    world: World,
    start: Start,
}

fn lp_value(w: &World, who: Address) -> i128 {
    holdings(&w.state, &[who]).lp_shares
}

impl Base {
    /// The standard world (see [`crate::world`]); `record` keeps a transcript for scenario files.
    pub fn standard(record: bool) -> Result<Self, ExchangeError> {
        let world = World::standard(record)?;
        let start = Start::now(&world, &genesis());
        Ok(Base { world, start })
    }
}

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Panics inside runs are findings, not noise: silence the default message while a run is under
/// `catch_unwind` on this thread (other threads and tests keep the normal hook).
fn install_quiet_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(|q| q.get()) {
                prev(info);
            }
        }));
    });
}

/// Run a coalition's moves against the base world. `record`: return the transcript too.
pub fn run(base: &Base, genome: &[Action], record: bool) -> (Outcome, Vec<crate::world::Line>) {
    install_quiet_hook();
    let mut w = base.world.clone();
    w.record = record;
    if !record {
        w.transcript.clear();
    }
    let mut violations = vec![];
    QUIET.with(|q| q.set(true));
    let res = catch_unwind(AssertUnwindSafe(|| {
        drive(&mut w, genome, &mut violations);
    }));
    QUIET.with(|q| q.set(false));
    if let Err(p) = res {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".into());
        violations.push(Violation::EngineFault {
            message: format!("engine panicked: {msg}"),
        });
    }
    let outcome = score(&base.start, &w, violations);
    (outcome, std::mem::take(&mut w.transcript))
}

pub(crate) fn drive(w: &mut World, genome: &[Action], violations: &mut Vec<Violation>) {
    for a in genome {
        if w.fault.is_some() {
            break;
        }
        if w.record {
            w.note(format!("coalition: {}", a.describe()));
        }
        match execute(w, a) {
            Ok(done) => w.effective.push(done),
            Err(_) => break,
        }
    }
    if w.fault.is_none() {
        w.note("probe A: every position reducible, every live side openable (simulated)");
        violations.extend(probe(w));
        let _ = unwind(w);
    }
    if w.fault.is_none() {
        violations.extend(probe(w));
    }
}

/// The unwind: honest blocks, then the coalition gets out of everything it can.
fn unwind(w: &mut World) -> Result<(), ExchangeError> {
    w.note(format!(
        "unwind: {UNWIND_BLOCKS} honest blocks, then the coalition closes everything and withdraws"
    ));
    for _ in 0..UNWIND_BLOCKS {
        w.next_block(2)?;
    }
    let members = coalition();
    let mine: Vec<(u64, Address, bool, bool)> = w
        .state
        .positions
        .values()
        .filter(|p| members.contains(&p.owner))
        .map(|p| {
            let delisted = matches!(
                w.state.markets[p.market as usize].status,
                MarketStatus::Delisted { .. }
            );
            (p.id, p.owner, p.is_long(), delisted)
        })
        .collect();
    for (id, owner, long, delisted) in mine {
        let tx = if delisted {
            Tx::SettleDelisted {
                user: owner,
                position: id,
            }
        } else {
            Tx::ClosePosition {
                user: owner,
                position: id,
                price_bound: if long { 0 } else { u128::MAX },
            }
        };
        let _ = w.apply(tx, Party::Unwind);
    }
    for m in members {
        if let Some(a) = w.state.lps.get(&m).copied() {
            let _ = w.apply(
                Tx::LpWithdraw {
                    user: m,
                    shares: a.shares,
                },
                Party::Unwind,
            );
        }
    }
    w.next_block(2)?;
    w.next_block(2)
}

fn is_legit_open_refusal(e: &ExchangeError) -> bool {
    // Documented refusals of a new exposure: the market takes none (reduce-only, delisted), the
    // vault cannot back it (capacity rule), the side is at its cap (premium cap, OI cap), or
    // there is no impact capacity at all (no depth and no free vault liquidity), or its oracle
    // has not settled (a warm-up, a stall, a lag or a thaw: each ends by itself within a bounded
    // number of blocks, `price_guard`).
    matches!(
        e,
        ExchangeError::ReduceOnly(_)
            | ExchangeError::Delisted(_)
            | ExchangeError::VaultCapacityExceeded { .. }
            | ExchangeError::ImpactCapExceeded { .. }
            | ExchangeError::OpenInterestCapExceeded { .. }
            | ExchangeError::NoImpactCapacity(_)
            | ExchangeError::PriceNotSettled { .. }
    )
}

fn deficit_in(events: &[Event]) -> u128 {
    events
        .iter()
        .map(|e| match e {
            Event::DeficitCovered { amount, .. } => *amount,
            _ => 0,
        })
        .sum()
}

/// Probe every side and every position (simulations only: nothing changes).
pub(crate) fn probe(w: &World) -> Vec<Violation> {
    let s = &w.state;
    let mut out = vec![];
    for m in &s.markets {
        probe_sides(s, m, &mut out);
    }
    for p in s.positions.values() {
        probe_position(s, p, &mut out);
    }
    out
}

/// An active market must take a $1,000 position at 4x (at its own oracle price) on each side,
/// unless the engine refuses it for a legitimate reason.
fn probe_sides(s: &State, m: &Market, out: &mut Vec<Violation>) {
    if m.status != MarketStatus::Active {
        return;
    }
    let q = crate::action::qty_of(1_000, m.prices.spot);
    if q == 0 {
        return;
    }
    for long in [true, false] {
        let tx = Tx::OpenPosition {
            user: addr(PROBE),
            market: m.id,
            qty: if long { q } else { -q },
            margin: 250 * USD_ONE,
            price_bound: if long { u128::MAX } else { 0 },
        };
        if let Err(e) = s.simulate(&tx) {
            if !is_legit_open_refusal(&e) {
                out.push(Violation::BrickedSide {
                    market: m.id,
                    long,
                    error: format!("{e:?}"),
                });
            }
        }
    }
}

/// A position of a delisted market must settle; any other must close without a deficit and
/// (if it has at least 10 units) be reducible by 10 %.
fn probe_position(s: &State, p: &Position, out: &mut Vec<Violation>) {
    let m = &s.markets[p.market as usize];
    if let MarketStatus::Delisted { .. } = m.status {
        let tx = Tx::SettleDelisted {
            user: addr(PROBE),
            position: p.id,
        };
        if let Err(e) = s.simulate(&tx) {
            out.push(Violation::Unreducible {
                position: p.id,
                action: "settle_delisted".into(),
                error: format!("{e:?}"),
            });
        }
        return;
    }
    let long = p.is_long();
    let close = Tx::ClosePosition {
        user: p.owner,
        position: p.id,
        price_bound: if long { 0 } else { u128::MAX },
    };
    match s.simulate(&close) {
        Ok(sim) => {
            let d = deficit_in(&sim.events);
            if d > 0 {
                out.push(Violation::LatentDeficit {
                    position: p.id,
                    amount: d,
                });
            }
        }
        Err(e) => out.push(Violation::Unreducible {
            position: p.id,
            action: "close".into(),
            error: format!("{e:?}"),
        }),
    }
    let q = book::effective(p, m.side(long)).map(|x| x.0).unwrap_or(0);
    if q.unsigned_abs() >= 10 {
        let d = signed((q.unsigned_abs() / 10).max(1));
        let reduce = Tx::ModifyPosition {
            user: p.owner,
            position: p.id,
            qty_delta: if long { -d } else { d },
            price_bound: if long { 0 } else { u128::MAX },
        };
        if let Err(e) = s.simulate(&reduce) {
            out.push(Violation::Unreducible {
                position: p.id,
                action: "reduce 10%".into(),
                error: format!("{e:?}"),
            });
        }
    }
}

pub(crate) fn score(start: &Start, w: &World, mut violations: Vec<Violation>) -> Outcome {
    let mut seen = std::collections::BTreeSet::new();
    violations.retain(|v| seen.insert(format!("{v:?}")));
    if let Some(f) = &w.fault {
        violations.push(Violation::EngineFault { message: f.clone() });
    }
    for d in &w.deficits {
        violations.push(Violation::Deficit {
            position: d.position,
            payer: format!("{:?}", d.payer),
            amount: d.amount,
            block: d.block,
        });
    }
    let end = holdings(&w.state, &coalition());
    let gain = end.total() - start.coalition;
    let tol = tolerance(w.coalition_ok);
    if gain > tol {
        violations.push(Violation::CoalitionGain {
            gain,
            tolerance: tol,
        });
    }
    let honest_lp_end = lp_value(w, addr(HONEST_LP));
    let arb = holdings(&w.state, &[addr(crate::world::ARBITRAGEUR)]).total();
    let keeper = holdings(&w.state, &[addr(crate::world::KEEPER)]).total();
    Outcome {
        coalition_start: start.coalition,
        coalition_end: end,
        coalition_gain: gain,
        honest_lp_start: start.honest_lp,
        honest_lp_end,
        vault_loss: start.honest_lp - honest_lp_end,
        share_price_start: start.share_price,
        share_price_end: w.share_price(),
        share_price_min: w.min_share_price.min(w.share_price()),
        arbitrageur_gain: arb - start.arbitrageur,
        keeper_gain: keeper,
        deficits: w.deficits.clone(),
        violations,
        coalition_txs: w.coalition_ok,
        coalition_refused: w.coalition_refused,
        end_block: w.block.height,
        reach: w.reach,
        effective: w.effective.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use azex_exchange::event::DeficitPayer;

    /// Each check can fail: fed what it looks for, it reports it.
    #[test]
    fn every_check_can_fire() {
        assert!(!is_legit_open_refusal(&ExchangeError::DivisionByZero));
        assert!(!is_legit_open_refusal(&ExchangeError::Overflow));
        assert!(is_legit_open_refusal(&ExchangeError::ReduceOnly(0)));
        let w = World::standard(false).expect("world");
        let start = Start::now(&w, &genesis());
        assert!(score(&start, &w, vec![]).violations.is_empty());
        // A coalition that started poorer than it ends, by more than the dust.
        let poorer = Start {
            coalition: start.coalition - tolerance(0) - 10,
            ..start
        };
        assert_eq!(score(&poorer, &w, vec![]).kinds(), vec!["coalition_gain"]);
        let mut w2 = w.clone();
        w2.deficits.push(DeficitSeen {
            position: 1,
            payer: DeficitPayer::Vault,
            amount: 1,
            block: 3,
        });
        w2.fault = Some("invariant violated".into());
        assert_eq!(
            score(&start, &w2, vec![]).kinds(),
            vec!["deficit", "engine_fault"]
        );
    }
}
