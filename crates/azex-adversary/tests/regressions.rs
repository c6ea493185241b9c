//! Every counterexample the search found, pinned as a scenario file under
//! `scenarios/adversary/`, replayed with the harness's checks: a regression test per file.
//!
//! A file that the engine still fails is `#[ignore = "engine fix pending: <class>"]`; remove the
//! ignore when the fix lands. Files found on an older engine replay their recorded transactions
//! on today's engine (some are now refused: the replay goes on), so they check that the same
//! sequence no longer breaks anything. See FINDINGS.md for what each one showed.

use azex_adversary::scenario::replay;
use azex_adversary::Outcome;
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/adversary")
}

/// Replay a pinned file: it must run in `azex run`'s scenario runner, and the harness's verdict
/// is returned.
fn pinned(name: &str) -> Outcome {
    let path = dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    azex_exchange::scenario::run(&text).unwrap_or_else(|e| panic!("{name}: azex run: {e}"));
    replay(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn assert_clean(name: &str) {
    let o = pinned(name);
    assert!(
        o.violations.is_empty(),
        "{name}: coalition gain ${:.2}, honest LP loss ${:.2}, violations:\n{}",
        o.coalition_gain as f64 / 1e6,
        o.vault_loss as f64 / 1e6,
        o.violations
            .iter()
            .map(|v| serde_json::to_string(v).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Every pinned file has a test below.
#[test]
fn every_pinned_scenario_has_a_test() {
    let src = include_str!("regressions.rs");
    let mut missing = vec![];
    for e in std::fs::read_dir(dir()).expect("scenarios/adversary") {
        let name = e.expect("entry").file_name().to_string_lossy().to_string();
        if name.ends_with(".jsonl") && !src.contains(&format!("\"{name}\"")) {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "pinned scenarios without a test: {missing:?}"
    );
}

// --- found on engine 75b0abc (before the economics fixes of be0f4c3) ---------------------------

/// (c) A close on thin depth charged far beyond its margin: the lister removes its spot liquidity,
/// the coalition's shorts use up the vault's free liquidity, the coalition's longs then close at
/// ~6x the price, the unpaid charge is a deficit the vault covers and goes into the impact pool,
/// and the coalition's short collects it as a rebate. Vault −34 %.
#[test]
fn c_thin_depth_close_deficit() {
    assert_clean("c-thin-depth-close-deficit.jsonl");
}
