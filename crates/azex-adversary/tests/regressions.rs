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

/// (e) ADL keeping nothing of a side bricks it: after (c)'s deficits drain the vault, ADL at
/// block 5 keeps 0 of market 0's short side (scale 0); every short open there then fails with
/// `DivisionByZero` for ever. Vault −100 %. Fixed by ADL epochs (f041b2d).
#[test]
fn e_adl_keeps_zero_bricks_side() {
    assert_clean("e-adl-keeps-zero-bricks-side.jsonl");
}

/// (c) family: with the lister's depth removed and the vault's free liquidity used up, the
/// impact capacity is zero and honest traders' positions can neither close nor reduce
/// (`NoImpactCapacity`); deficits on the way.
#[test]
fn c_no_impact_capacity_unreducible() {
    assert_clean("c-no-impact-capacity-unreducible.jsonl");
}

// --- found on engine eb444a0 (after the economics fixes and ADL epochs) ------------------------

/// (f) A listing at a false price: the coalition lists its token 2 % below the external price
/// with a narrow range (the depth rule is met), opens a long at the listing price; the
/// arbitrageur moves the pool to the true price at once, the truncated oracle follows at 50 ticks
/// a block, and the long's gain is the vault's loss.
#[test]
fn f_false_price_listing() {
    assert_clean("f-false-price-listing.jsonl");
}

/// (f) Oracle push on a deep pool: three blocks of buying A (the pool is arbitraged back at the
/// start of every next block, after the oracle has seen it) lift the truncated oracle and its
/// TWAP; a short opened at the lifted price gains as it comes back, more than the pushes cost.
#[test]
fn f_oracle_push_deep_pool() {
    assert_clean("f-oracle-push-deep-pool.jsonl");
}

/// (f) The same, larger: listed 5 % below the external price, $524k of longs at the listing
/// price, the pool pushed to +50 % by the coalition's own swap (through nothing but its own
/// liquidity). Honest LP −2.6 %.
#[test]
fn f_false_price_listing_large() {
    assert_clean("f-false-price-listing-large.jsonl");
}

// --- found on engine c7e41f3 (economics fixes in, before ADL epochs); still failing at 2499621 -

/// A depth-loss price freeze ends with a jump: the coalition's listing market loses its depth
/// (reduce-only, prices frozen at the risk price for six blocks) while the truncated oracle keeps
/// moving underneath; when depth comes back the liquidation price jumps 4.5 % at once, past a
/// long's margin, and the keeper's liquidation covers a deficit.
#[test]
fn deficit_freeze_release_jump() {
    assert_clean("deficit-freeze-release-jump.jsonl");
}

/// An open is born under water: while the truncated spot falls 6 % below its TWAP, a 20x long
/// executes around the higher of the two (and its initial margin is judged there), but is
/// liquidated at the lower: the keeper's next liquidation covers a deficit.
#[test]
fn deficit_open_below_liquidation_price() {
    assert_clean("deficit-open-below-liquidation-price.jsonl");
}

// --- found on engine f864e83 (the end of the issue-9 session, default parameters) --------------

/// (f) Own listing after a push: pool A pushed −0.5 % and −1 % over two hour-long blocks, then a
/// $144k 8x long on the coalition's own listed market: +$929, honest LP −0.125 %.
#[test]
fn f_own_listing_after_push_head() {
    assert_clean("f-own-listing-after-push-head.jsonl");
}

// --- found on engine 406101f (settling rules in), while fixing (f); fixed in 0a45d4e ----------

/// (f) A push across stalls: the coalition holds a $114k long on B, removes half the lister's
/// depth, pushes B up over 2 s blocks and then 60 s blocks (one pushed observation filled the
/// uncapped TWAP window) and closes: +$970, honest LP −0.22 %. Fixed by the capped TWAP.
#[test]
fn f_stall_push_then_close() {
    assert_clean("f-stall-push-then-close.jsonl");
}

/// (f) Depth removed under open OI: after a $114k long on B, the lister removes 42 % and 50 % of
/// its liquidity (caps were sized at listing depth), pushes the thinner pool +2 % over a few
/// blocks and closes: +$1,131, honest LP −0.17 %. Fixed by the OI cap at the current depth and
/// the freeze of a market whose depth no longer defends its OI.
#[test]
fn f_depth_removed_under_open_oi() {
    assert_clean("f-depth-removed-under-open-oi.jsonl");
}

/// (f) A young pool's TWAP: three pushes in the first seconds of a genesis market moved its
/// TWAP (over a few seconds of history) 0.4 %; a 10x long at the depressed TWAP: +$375, honest
/// LP −0.08 %. Fixed by completing a short history at the pool's initial tick.
#[test]
fn f_young_pool_push() {
    assert_clean("f-young-pool-push.jsonl");
}
