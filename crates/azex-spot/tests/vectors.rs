//! Replays the Uniswap v4-core 1.0.2 reference vectors: every step must match.

use azex_spot::vectors::replay_vectors_file;
use std::path::PathBuf;

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn check(name: &str) {
    let report = replay_vectors_file(vectors_dir().join(name)).expect("vectors file readable");
    println!("{name}: {report}");
    assert!(report.scenarios > 0 && report.steps > report.scenarios);
    assert_eq!(report.mismatches, 0, "{name}: {report}");
}

#[test]
fn v4_core_pool_seed1() {
    check("uniswap-v4-core-1.0.2_pool_seed1.jsonl");
}

#[test]
fn v4_core_pool_edge_seed77() {
    check("uniswap-v4-core-1.0.2_pool_edge_seed77.jsonl");
}
