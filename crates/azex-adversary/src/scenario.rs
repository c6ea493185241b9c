//! Counterexamples as scenario files (the JSONL format of `azex_exchange::scenario`, runnable with
//! `cargo run -p azex-cli -- run FILE`), and their replay with this crate's checks.
//!
//! A file holds the whole run: the genesis, every block, every transaction that succeeded (set-up,
//! arbitrageur, keeper, coalition, unwind — each tagged with a `"comment"` naming its sender), the
//! coalition's moves as `#` comments, two markers the replay acts on (`# the attack starts`,
//! `# probe A: …`), and the sequence itself as `# adversary-genome: [...]` so a search can start
//! from it again. Refused transactions are left out: they change nothing.

use crate::action::Genome;
use crate::run::{probe, score, Outcome, Start};
use crate::search::{loss_pct, usd, Finding};
use crate::world::{Line, Party, World};
use azex_exchange::{BlockCtx, Genesis, Tx};
use serde_json::json;

const GENOME_TAG: &str = "# adversary-genome: ";

fn party_name(p: Party) -> &'static str {
    match p {
        Party::Setup => "setup",
        Party::Arbitrageur => "arbitrageur",
        Party::Keeper => "keeper",
        Party::Coalition => "coalition",
        Party::Unwind => "unwind (coalition)",
    }
}

fn party_of(comment: Option<&str>) -> Party {
    match comment {
        Some("arbitrageur") => Party::Arbitrageur,
        Some("keeper") => Party::Keeper,
        Some("coalition") => Party::Coalition,
        Some("unwind (coalition)") => Party::Unwind,
        _ => Party::Setup,
    }
}

/// Serialise a run's transcript as a scenario file, `header` lines first (as `#` comments), then
/// the sequence as an `# adversary-genome:` line.
pub fn to_jsonl(transcript: &[Line], header: &[String], genome: &Genome) -> String {
    let mut out = String::new();
    for h in header {
        for l in h.lines() {
            out += &format!("# {l}\n");
        }
    }
    out += GENOME_TAG;
    out += &serde_json::to_string(genome).unwrap_or_default();
    out += "\n";
    for l in transcript {
        let line = match l {
            Line::Genesis(g) => json!({ "genesis": g }).to_string(),
            Line::Block(b) => json!({ "block": b }).to_string(),
            Line::Tx { tx, party } => {
                json!({ "tx": tx, "comment": party_name(*party) }).to_string()
            }
            Line::Note(n) => format!("# {}", n.replace('\n', " ")),
        };
        out += &line;
        out += "\n";
    }
    out
}

/// The sequence stored in a scenario file, if any.
pub fn genome_of(text: &str) -> Option<Genome> {
    text.lines()
        .find_map(|l| l.strip_prefix(GENOME_TAG))
        .and_then(|j| serde_json::from_str(j).ok())
}

/// Replay a scenario file written by [`to_jsonl`] with this crate's checks: invariants after
/// every transaction and block, deficits, the probes (at the `# probe A` marker and at the end),
/// and the valuation. The coalition's start is its genesis value; the honest LP's is taken at the
/// `# the attack starts` marker.
pub fn replay(text: &str) -> Result<Outcome, String> {
    let mut world: Option<World> = None;
    let mut genesis: Option<Genesis> = None;
    let mut start: Option<Start> = None;
    let mut violations = vec![];
    for (i, raw) in text.lines().enumerate() {
        let t = raw.trim();
        let err = |m: String| format!("line {}: {m}", i + 1);
        if t.is_empty() {
            continue;
        }
        if let Some(c) = t.strip_prefix('#') {
            let c = c.trim();
            if let (Some(w), Some(g)) = (world.as_mut(), genesis.as_ref()) {
                if c.starts_with("the attack starts") {
                    w.attack_starts();
                    start = Some(Start::now(w, g));
                } else if c.starts_with("probe A") && w.fault.is_none() {
                    violations.extend(probe(w));
                }
            }
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(t).map_err(|e| err(e.to_string()))?;
        if let Some(g) = v.get("genesis") {
            let g: Genesis = serde_json::from_value(g.clone()).map_err(|e| err(e.to_string()))?;
            world = Some(World::from_genesis(&g, false).map_err(|e| err(e.to_string()))?);
            genesis = Some(g);
            continue;
        }
        let w = world
            .as_mut()
            .ok_or_else(|| err("no genesis line before".into()))?;
        if let Some(b) = v.get("block") {
            let b: BlockCtx = serde_json::from_value(b.clone()).map_err(|e| err(e.to_string()))?;
            if w.begin(b).is_err() {
                break;
            }
        } else if let Some(tx) = v.get("tx") {
            let tx: Tx = serde_json::from_value(tx.clone()).map_err(|e| err(e.to_string()))?;
            let party = party_of(v.get("comment").and_then(|c| c.as_str()));
            let _ = w.apply(tx, party);
        } else {
            return Err(err("only genesis, block and tx lines are replayed".into()));
        }
    }
    let w = world.ok_or("no genesis line")?;
    let g = genesis.ok_or("no genesis line")?;
    if w.fault.is_none() {
        violations.extend(probe(&w));
    }
    let start = start.unwrap_or_else(|| Start::now(&w, &g));
    Ok(score(&start, &w, violations))
}

/// The header of a finding's scenario file: how it was found and what it shows.
pub fn header(f: &Finding, seed: u64, engine_commit: &str) -> Vec<String> {
    let o = &f.outcome;
    let mut h = vec![
        format!(
            "AZEx adversary search counterexample: class {} (seed {seed}, engine commit {engine_commit})",
            f.kind
        ),
        format!(
            "coalition gain ${:.2} (tolerance ${:.6}), honest LP loss ${:.2} ({:.3} % of its stake), share price {} -> {} (lowest {}), deficits ${:.2}",
            usd(o.coalition_gain),
            usd(crate::run::tolerance(o.coalition_txs)),
            usd(o.vault_loss),
            loss_pct(o),
            o.share_price_start,
            o.share_price_end,
            o.share_price_min,
            usd(o.deficit_total())
        ),
        "violations:".to_string(),
    ];
    for v in &o.violations {
        h.push(format!(
            "  {}",
            serde_json::to_string(v).unwrap_or_default()
        ));
    }
    h.push(
        "replay: cargo run -p azex-cli -- run FILE   (checks: cargo run -p azex-adversary -- replay FILE)"
            .into(),
    );
    h
}
