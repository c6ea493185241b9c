//! Chain replay on logs produced by our own pool: a generator runs random swaps (exact input,
//! exact output, with and without limits), mints and burns, and writes STATE.json + EVENTS.csv
//! the way Uniswap's events record them; replaying must reproduce every swap.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_lossless
)] // test data is built with plain casts

use alloy_primitives::{Address, U256};
use azex_spot::chain_replay::{replay_chain, ChainSnapshot, SNAPSHOT_OWNER};
use azex_spot::math::tick_math::{get_sqrt_price_at_tick, MAX_SQRT_PRICE, MIN_SQRT_PRICE};
use azex_spot::{HookContext, ModifyLiquidityParams, NoHooks, PoolKey, PoolManager, SwapParams};
use std::collections::BTreeMap;
use std::fmt::Write;

/// SplitMix64: a deterministic test generator.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn one_in(&mut self, n: i64) -> bool {
        self.range(0, n) == 0
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo) as u64) as i64
    }
}

struct Generated {
    state_json: String,
    events_csv: String,
    swaps: usize,
    mints: usize,
    burns: usize,
    final_price: U256,
    final_liquidity: u128,
}

const HEADER: &str = "timestamp_utc,block,log_index,action,amount0,amount1,sqrt_price_x96_after,tick_lower,tick_upper,liquidity,owner";

fn owner(i: u64) -> Address {
    let mut a = [0u8; 20];
    a[0] = 0xab;
    a[19] = i as u8;
    Address::new(a)
}

fn generate(seed: u64, events: usize, fee: u32, tick_spacing: i32) -> Generated {
    let mut rng = Rng(seed);
    let t0 = rng.range(-50_000, 50_000) as i32;
    let p_lo = get_sqrt_price_at_tick(t0).unwrap();
    let p_hi = get_sqrt_price_at_tick(t0 + 1).unwrap();
    let price = p_lo + U256::from(rng.next()) % (p_hi - p_lo);
    let base = t0.div_euclid(tick_spacing) * tick_spacing;
    let mut ranges: BTreeMap<(i32, i32), u128> = BTreeMap::new();
    for _ in 0..15 {
        let lo = base + rng.range(-40, 40) as i32 * tick_spacing;
        let hi = lo + rng.range(1, 30) as i32 * tick_spacing;
        *ranges.entry((lo, hi)).or_default() +=
            (rng.next() as u128 % 1_000_000_000) * 1_000_000_000_000;
    }
    let mut state_json = format!(
        "{{\"fee\": {fee}, \"tick_spacing\": {tick_spacing}, \"sqrt_price_x96\": \"{price}\", \"tick\": {}, \"liquidity_by_range\": {{",
        azex_spot::math::tick_math::get_tick_at_sqrt_price(price).unwrap()
    );
    let parts: Vec<String> = ranges
        .iter()
        .map(|((lo, hi), l)| format!("\"{lo}:{hi}\": \"{l}\""))
        .collect();
    state_json.push_str(&parts.join(", "));
    state_json.push_str("}}");

    let snapshot = ChainSnapshot::from_json(&state_json).unwrap();
    let (mut m, key): (PoolManager<NoHooks>, PoolKey) = snapshot.build().unwrap();
    let ctx = HookContext::default();
    let mut csv = String::from(HEADER);
    csv.push('\n');
    let (mut swaps, mut mints, mut burns) = (0, 0, 0);
    let mut own: Vec<(Address, i32, i32)> = Vec::new();
    let snapshot_ranges: Vec<(i32, i32)> = ranges.keys().copied().collect();
    let mut block = 20_000_000u64;
    let mut log_index = 0u64;
    for i in 0..events {
        if rng.one_in(3) {
            block += 1;
            log_index = 0;
        }
        let price_now = m.slot0(&key).unwrap().sqrt_price_x96;
        let roll = rng.next() % 10;
        let ts = format!("2024-05-01T00:{:02}:{:02}Z", (i / 60) % 60, i % 60);
        if roll < 7 {
            let zero_for_one = rng.one_in(2);
            let mode = rng.next() % 3;
            let magnitude = (rng.next() >> rng.range(8, 40)) as i128 + 1;
            let amount = if mode == 1 { magnitude } else { -magnitude };
            let limit = if mode == 2 {
                // a limit a few ticks away
                let t = m.slot0(&key).unwrap().tick
                    + if zero_for_one {
                        -(rng.range(1, 200) as i32)
                    } else {
                        rng.range(1, 200) as i32
                    };
                get_sqrt_price_at_tick(t).unwrap()
            } else if zero_for_one {
                MIN_SQRT_PRICE + U256::from(1u8)
            } else {
                MAX_SQRT_PRICE - U256::from(1u8)
            };
            let params = SwapParams {
                zero_for_one,
                amount_specified: amount,
                sqrt_price_limit_x96: limit,
            };
            let Ok(d) = m.swap(&ctx, &key, &params) else {
                continue;
            };
            if d.amount0 == 0 && d.amount1 == 0 {
                continue; // nothing moved: no event worth logging
            }
            let s = m.slot0(&key).unwrap();
            let l = m.liquidity(&key).unwrap();
            writeln!(
                csv,
                "{ts},{block},{log_index},Swap,{},{},{},,,{l},{}",
                -d.amount0,
                -d.amount1,
                s.sqrt_price_x96,
                owner(99)
            )
            .unwrap();
            swaps += 1;
        } else if roll < 9 || own.is_empty() {
            let who = owner(rng.next() % 5);
            let lo = base + rng.range(-60, 60) as i32 * tick_spacing;
            let hi = lo + rng.range(1, 40) as i32 * tick_spacing;
            let l = (rng.next() as u128 % 1_000_000_000) * 1_000_000_000 + 1;
            let p = ModifyLiquidityParams {
                owner: who,
                tick_lower: lo,
                tick_upper: hi,
                liquidity_delta: l as i128,
                salt: [0; 32],
            };
            let Ok(out) = m.modify_liquidity(&ctx, &key, &p) else {
                continue;
            };
            if !own.contains(&(who, lo, hi)) {
                own.push((who, lo, hi));
            }
            let d = out.principal_delta;
            writeln!(
                csv,
                "{ts},{block},{log_index},Mint,{},{},{price_now},{lo},{hi},{l},{who}",
                -d.amount0, -d.amount1
            )
            .unwrap();
            mints += 1;
        } else {
            // burn part of an own position, or of the snapshot's liquidity (logged under an
            // owner with no replayed position: the replay takes it from the snapshot)
            let (who, lo, hi, logged_owner) = if rng.one_in(3) {
                let (lo, hi) = snapshot_ranges[rng.next() as usize % snapshot_ranges.len()];
                (SNAPSHOT_OWNER, lo, hi, owner(200))
            } else {
                let (w, lo, hi) = own[rng.next() as usize % own.len()];
                (w, lo, hi, w)
            };
            let held = m
                .position(&key, who, lo, hi, [0; 32])
                .unwrap()
                .map_or(0, |p| p.liquidity);
            if held == 0 {
                continue;
            }
            let l = if rng.one_in(2) { held } else { held / 2 + 1 };
            let p = ModifyLiquidityParams {
                owner: who,
                tick_lower: lo,
                tick_upper: hi,
                liquidity_delta: -(l as i128),
                salt: [0; 32],
            };
            let Ok(out) = m.modify_liquidity(&ctx, &key, &p) else {
                continue;
            };
            let d = out.principal_delta;
            writeln!(
                csv,
                "{ts},{block},{log_index},Burn,{},{},{price_now},{lo},{hi},{l},{logged_owner}",
                -d.amount0, -d.amount1
            )
            .unwrap();
            burns += 1;
        }
        log_index += 1;
    }
    Generated {
        state_json,
        events_csv: csv,
        swaps,
        mints,
        burns,
        final_price: m.slot0(&key).unwrap().sqrt_price_x96,
        final_liquidity: m.liquidity(&key).unwrap(),
    }
}

#[test]
fn own_logs_replay_exactly() {
    let (mut at_limit, mut without_limit) = (0, 0);
    for (seed, fee, ts) in [
        (1u64, 3000u32, 60i32),
        (2, 500, 10),
        (3, 10_000, 200),
        (4, 100, 1),
        (5, 0, 7),
    ] {
        let g = generate(seed, 400, fee, ts);
        assert!(
            g.swaps > 150 && g.mints > 20 && g.burns > 5,
            "seed {seed}: {} {} {}",
            g.swaps,
            g.mints,
            g.burns
        );
        let r = replay_chain(&g.state_json, &g.events_csv).unwrap();
        println!("seed {seed}: {r}");
        assert_eq!(r.swaps, g.swaps, "{r}");
        assert_eq!(r.swaps_matched, g.swaps, "{r}");
        assert_eq!(r.swaps_differed, 0, "{r}");
        at_limit += r.swaps_matched_at_limit;
        without_limit += r.swaps_matched_without_limit;
        assert_eq!((r.mints, r.burns), (g.mints, g.burns), "{r}");
        assert_eq!(r.liquidity_amount_mismatches, 0, "{r}");
        assert_eq!(r.skipped_count, 0, "{r}");
        assert_eq!(r.final_sqrt_price_x96, g.final_price);
        assert_eq!(r.final_liquidity, g.final_liquidity);
    }
    // both replay attempts are exercised
    assert!(
        at_limit > 0 && without_limit > 0,
        "{at_limit} {without_limit}"
    );
}

#[test]
fn rows_out_of_order_are_sorted() {
    let g = generate(11, 200, 3000, 60);
    let mut lines: Vec<&str> = g.events_csv.lines().collect();
    let header = lines.remove(0);
    lines.reverse();
    let shuffled = format!("{header}\n{}\n", lines.join("\n"));
    let r = replay_chain(&g.state_json, &shuffled).unwrap();
    assert_eq!(r.swaps_matched, g.swaps, "{r}");
    assert_eq!(r.skipped_count, 0, "{r}");
}

#[test]
fn corrupted_rows_are_reported() {
    let g = generate(7, 300, 3000, 60);
    let mut lines: Vec<String> = g.events_csv.lines().map(String::from).collect();
    // corrupt the output amount of the 10th swap (the negative one): add one wei
    let (idx, _) = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains(",Swap,"))
        .nth(10)
        .unwrap();
    let mut cols: Vec<String> = lines[idx].split(',').map(String::from).collect();
    let out_col = if cols[4].starts_with('-') { 4 } else { 5 };
    let v: i128 = cols[out_col].parse().unwrap();
    cols[out_col] = (v + 1).to_string();
    lines[idx] = cols.join(",");
    let r = replay_chain(&g.state_json, &lines.join("\n")).unwrap();
    println!("{r}");
    // one differing swap; the replay commits the swap to the recorded price and stays in step
    assert_eq!(r.swaps_differed, 1, "{r}");
    assert_eq!(r.swaps_matched, g.swaps - 1, "{r}");
    assert_eq!(r.differences.len(), 1);
    assert_eq!(r.differences[0].row, idx);
    assert_eq!(r.skipped_count, 0, "{r}");
    assert!(r.to_string().contains("swap differs at row"));

    // an unreadable row is reported, not applied
    let (bad_idx, _) = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains(",Swap,"))
        .nth(20)
        .unwrap();
    let mut cols: Vec<String> = lines[bad_idx].split(',').map(String::from).collect();
    cols[4] = "12x".into();
    lines[bad_idx] = cols.join(",");
    let r = replay_chain(&g.state_json, &lines.join("\n")).unwrap();
    println!("{r}");
    assert_eq!(r.skipped_count, 1, "{r}");
    assert_eq!(r.skipped[0].row, bad_idx);
    assert!(
        r.skipped[0].reason.contains("amount0"),
        "{}",
        r.skipped[0].reason
    );
    // everything before the unreadable row still matches (the corrupted one excepted)
    assert!(r.swaps_matched >= 19, "{r}");
    assert!(r.to_string().contains("not applied: row"));
}

#[test]
fn burn_split_between_owner_and_snapshot() {
    let state = r#"{"fee": 3000, "tick_spacing": 60, "sqrt_price_x96": "79228162514264337593543950336", "tick": 0, "liquidity_by_range": {"-600:600": "1000000000000000000"}}"#;
    let who = "0x00000000000000000000000000000000000000aa";
    let csv = format!(
        "{HEADER}\n\
         t,1,0,Mint,,,,-600,600,500,{who}\n\
         t,1,1,Burn,,,,-600,600,1000,{who}\n\
         t,1,2,Burn,,,,-600,600,1000000000000000000,{who}\n\
         t,1,3,Burn,,,,-600,600,0,{who}\n\
         t,1,4,Frobnicate,,,,,,,\n"
    );
    let r = replay_chain(state, &csv).unwrap();
    // the 2nd burn takes 500 from the owner and 500 from the snapshot; the 3rd exceeds what is left
    assert_eq!((r.mints, r.burns), (1, 2), "{r}");
    assert_eq!(r.skipped_count, 2, "{r}");
    assert!(r.skipped[0].reason.contains("exceeds"), "{r}");
    assert!(r.skipped[1].reason.contains("unknown action"), "{r}");
    assert_eq!(r.final_liquidity, 1_000_000_000_000_000_000 - 500);
}

#[test]
fn snapshot_errors() {
    assert!(replay_chain("{}", HEADER).is_err());
    let state = r#"{"fee": 3000, "tick_spacing": 60, "sqrt_price_x96": "79228162514264337593543950336", "tick": 5, "liquidity_by_range": {}}"#;
    assert!(replay_chain(state, HEADER).is_err());
    // the pre-emptively decremented tick at an exact tick price is accepted
    let p = get_sqrt_price_at_tick(60).unwrap();
    let state = format!(
        r#"{{"fee": 3000, "tick_spacing": 60, "sqrt_price_x96": "{p}", "tick": 59, "liquidity_by_range": {{"60:120": "1000"}}}}"#
    );
    let r = replay_chain(&state, HEADER).unwrap();
    assert_eq!((r.final_tick, r.final_liquidity), (59, 0));
    assert!(replay_chain(&state, "a,b\n1,2\n").is_err());
}
