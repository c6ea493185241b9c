//! Every scenario file in `scenarios/` runs, meets its own per-line expectations, replays to the
//! same hash, and emits the events pinned in `scenarios/expected/NAME.events` (one line per event:
//! the scenario line that caused it, the event kind and the whole event with every amount; the
//! per-block markers and price/funding-accrual updates are left out, their effects show in the
//! amounts; the last line is the final state hash). Set `BLESS=1` to rewrite the pinned files
//! after an intended change.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_lossless
)] // test data is built with plain casts

use azex_exchange::scenario::{run, OutputLine};
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios")
}

fn pinned(lines: &[OutputLine]) -> String {
    let mut out = String::new();
    for l in lines {
        match l {
            OutputLine::Event { line, event, .. } => {
                let json = serde_json::to_string(event).unwrap();
                let kind = event.kind();
                // The kind is the event's JSON tag.
                let tag = serde_json::from_str::<serde_json::Value>(&json).unwrap()["event"]
                    .as_str()
                    .map(str::to_string);
                assert_eq!(tag.as_deref(), Some(kind), "{json}");
                if matches!(
                    kind,
                    "prices_updated" | "funding_accrued" | "block_begun" | "block_ended"
                ) {
                    continue;
                }
                out.push_str(&format!("{line} {kind} {json}\n"));
            }
            OutputLine::Rejected {
                line, error_kind, ..
            } => out.push_str(&format!("{line} rejected {error_kind}\n")),
        }
    }
    out
}

#[test]
fn scenarios_run_and_emit_their_pinned_events() {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    names.sort();
    assert!(names.len() >= 10, "the scenario set is missing files");
    let bless = std::env::var("BLESS").is_ok();
    let mut failures = vec![];
    for path in names {
        let text = std::fs::read_to_string(&path).unwrap();
        let r = run(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            run(&text).unwrap().summary.state_hash,
            r.summary.state_hash,
            "{} replays to the same hash",
            path.display()
        );
        let got = format!("{}state_hash {}\n", pinned(&r.output), r.summary.state_hash);
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let exp_path = dir().join("expected").join(format!("{name}.events"));
        if bless {
            std::fs::write(&exp_path, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&exp_path).unwrap_or_default();
        if want != got {
            failures.push(format!(
                "{name}: events differ from {} (rerun with BLESS=1 if intended)",
                exp_path.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The mechanisms each scenario exists for really show up.
#[test]
fn each_mechanism_scenario_shows_its_mechanism() {
    let expect = [
        ("liquidation", "position_liquidated"),
        ("stepwise-liquidation", "rejected LiquidationCooldown"),
        ("adl", "deleveraged"),
        ("drawdown", "drawdown_cap_hit"),
        ("delisting", "position_settled"),
        ("self-liquidation", "deleveraged"),
        ("waterfall", "deficit_covered"),
        ("over-limit", "rejected VaultCapacityExceeded"),
    ];
    for (name, kind) in expect {
        let text = std::fs::read_to_string(dir().join(format!("{name}.jsonl"))).unwrap();
        let got = pinned(&run(&text).unwrap().output);
        assert!(got.contains(kind), "{name} shows no {kind}");
    }
}
