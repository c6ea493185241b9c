//! # AZEx adversary search
//!
//! A seeded, deterministic search over transaction sequences of a **coalition** of accounts that
//! may do anything a user can, against **honest** parties — an LP, balanced traders, a keeper
//! that liquidates everything due every block, an arbitrageur that trades every pool back to the
//! edge of its fee band every block — in the spirit of TigerBeetle's VOPR. Every run is checked:
//!
//! - `azex_exchange::invariants::check` after every transaction and every block boundary;
//! - no `DeficitCovered` event, and no simulated close that would cover one;
//! - after the sequence and after the unwind, a small open on each side of each live market
//!   succeeds or is refused for a documented reason, and every open position can be reduced and
//!   closed (or settled, if delisted);
//! - at the constant external prices, the coalition does not end with more than it started with
//!   (beyond [`run::tolerance`], rounding dust).
//!
//! The search keeps the best sequences per class of violation, scored by coalition gain and the
//! honest LP's loss, and mutates them. Counterexamples become scenario files
//! ([`scenario::to_jsonl`]) that `azex run` replays and [`scenario::replay`] re-checks.
//!
//! | module | what |
//! |---|---|
//! | [`world`] | the honest world, its parties and the block step |
//! | [`action`] | the coalition's moves |
//! | [`run`] | one run: moves, probes, unwind, scoring, violations |
//! | [`value`] | valuation at the external prices |
//! | [`search`] | the archive, mutation, minimisation |
//! | [`scenario`] | counterexamples as scenario files, replay |

pub mod action;
pub mod run;
pub mod scenario;
pub mod search;
pub mod value;
pub mod world;

pub use action::{Action, Genome};
pub use run::{run, Base, Outcome, Violation};
pub use search::{search, Finding, SearchConfig, SearchReport};

/// A finding as a scenario file: its sequence re-run with a transcript (the run is deterministic,
/// so it is the run the search saw), with a header naming the seed and the engine commit.
pub fn finding_to_jsonl(
    f: &Finding,
    seed: u64,
    engine_commit: &str,
) -> Result<String, azex_exchange::ExchangeError> {
    let base = Base::standard(true)?;
    let (outcome, transcript) = run(&base, &f.genome, true);
    let f = Finding {
        outcome,
        ..f.clone()
    };
    Ok(scenario::to_jsonl(
        &transcript,
        &scenario::header(&f, seed, engine_commit),
        &f.genome,
    ))
}
