//! Replay of Uniswap v4-core reference vectors (JSON lines produced by running the real v4-core
//! 1.0.2 bytecode) against [`PoolManager`].
//!
//! Format, one scenario per line: `{"seed", "scenario", "steps": [...]}`; a step has an `op`
//! (`init`: fee, tickSpacing, sqrtPriceX96; `modify`: tickLower, tickUpper, liquidityDelta,
//! salt; `swap`: zeroForOne, amountSpecified, sqrtPriceLimitX96) and either `delta` + `state`
//! (`result.tick` for init) or `revert` (hex revert data). Each scenario starts a fresh manager
//! with one pool (currencies 0x…01 / 0x…02, no hook) and a fixed position owner. A step matches
//! when the delta, every state field and (for a revert) the exact revert data agree, and a
//! reverted step left the state unchanged.
//!
//! Malformed input is an error naming the line (never a silent pass): a step with nothing to
//! compare (no `revert`, `delta`, `state` or `result.tick`), a text with no step at all (an
//! empty file: "no steps compared"), or a number that does not fit its field (fee and lpFee
//! `uint32`, ticks and tick spacing `int32`; no wrapping `as` casts).

use crate::error::SpotError;
use crate::hooks::{HookContext, NoHooks};
use crate::manager::PoolManager;
use crate::math::tick_math::{MAX_SQRT_PRICE, MIN_SQRT_PRICE};
use crate::types::{BalanceDelta, ModifyLiquidityParams, PoolKey, SwapParams};
use alloy_primitives::{Address, U256};
use serde_json::Value;
use std::fmt;
use std::path::Path;

/// The position owner used for every modify (v4's test router in the vectors).
pub const VECTOR_OWNER: Address = Address::new([0x42; 20]);

/// Why a vectors file could not be replayed at all (a mismatch is not an error).
#[derive(Debug, thiserror::Error)]
pub enum VectorError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// File path.
        path: String,
        #[source]
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line is not valid JSON or misses a field.
    #[error("line {line}: {message}")]
    Format {
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Nothing was compared (no scenario line, or scenarios without steps).
    #[error("no steps compared (an empty vectors file?)")]
    NothingCompared,
}

/// The first step that did not match, in full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VectorMismatch {
    /// 1-based line of the scenario in the file.
    pub line: usize,
    /// The scenario's `seed` and `scenario` numbers.
    pub seed: i64,
    /// The scenario's `scenario` number.
    pub scenario: i64,
    /// 0-based step index within the scenario.
    pub step: usize,
    /// The step's `op`, as JSON.
    pub op: String,
    /// What the vector expects.
    pub expected: String,
    /// What the manager produced.
    pub got: String,
}

/// Outcome of a replay.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VectorReport {
    /// Scenarios (lines) replayed.
    pub scenarios: usize,
    /// Steps replayed.
    pub steps: usize,
    /// Steps that did not match.
    pub mismatches: usize,
    /// Steps that expected a revert (all kinds), for information.
    pub reverts: usize,
    /// The first mismatch.
    pub first_mismatch: Option<VectorMismatch>,
}

impl VectorReport {
    /// Merges another report (e.g. of a second file) into this one.
    pub fn merge(&mut self, other: VectorReport) {
        self.scenarios += other.scenarios;
        self.steps += other.steps;
        self.mismatches += other.mismatches;
        self.reverts += other.reverts;
        if self.first_mismatch.is_none() {
            self.first_mismatch = other.first_mismatch;
        }
    }
}

impl fmt::Display for VectorReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} scenarios, {} steps, {} mismatches",
            self.scenarios, self.steps, self.mismatches
        )?;
        if let Some(m) = &self.first_mismatch {
            write!(
                f,
                "\nfirst mismatch: line {} (seed {}, scenario {}), step {}\n  op:       {}\n  expected: {}\n  got:      {}",
                m.line, m.seed, m.scenario, m.step, m.op, m.expected, m.got
            )?;
        }
        Ok(())
    }
}

/// The observable pool state a vector step records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct State {
    sqrt_price_x96: U256,
    tick: i32,
    protocol_fee: u32,
    lp_fee: u32,
    fee_growth_global0_x128: U256,
    fee_growth_global1_x128: U256,
    liquidity: u128,
}

fn fmt_state(s: &State) -> String {
    format!(
        "sqrtPriceX96={} tick={} protocolFee={} lpFee={} feeGrowthGlobal0X128={} feeGrowthGlobal1X128={} liquidity={}",
        s.sqrt_price_x96, s.tick, s.protocol_fee, s.lp_fee, s.fee_growth_global0_x128, s.fee_growth_global1_x128, s.liquidity
    )
}

fn field<'a>(v: &'a Value, name: &str) -> Result<&'a Value, String> {
    v.get(name).ok_or_else(|| format!("missing field `{name}`"))
}

/// Decimal string or JSON integer -> text.
fn num_text(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(format!("not a number: {other}")),
    }
}

fn as_u256(v: &Value) -> Result<U256, String> {
    let t = num_text(v)?;
    t.parse::<U256>()
        .map_err(|e| format!("bad uint `{t}`: {e}"))
}

fn as_i64(v: &Value) -> Result<i64, String> {
    let t = num_text(v)?;
    t.parse::<i64>().map_err(|e| format!("bad int `{t}`: {e}"))
}

/// A number that must fit in `T` (`what` names it in the error).
fn as_int<T: TryFrom<i64>>(v: &Value, what: &str) -> Result<T, String> {
    let x = as_i64(v)?;
    T::try_from(x).map_err(|_| format!("{what} {x} out of range"))
}

/// Parses a signed decimal into i128; `Ok(None)` when it is an integer outside i128 (v4 would
/// fail the `int128` cast).
fn as_i128(v: &Value) -> Result<Option<i128>, String> {
    let t = num_text(v)?;
    match t.parse::<i128>() {
        Ok(x) => Ok(Some(x)),
        Err(_) => {
            let digits = t.strip_prefix('-').unwrap_or(&t);
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                Ok(None)
            } else {
                Err(format!("bad int `{t}`"))
            }
        }
    }
}

fn parse_state(v: &Value) -> Result<State, String> {
    Ok(State {
        sqrt_price_x96: as_u256(field(v, "sqrtPriceX96")?)?,
        tick: as_int(field(v, "tick")?, "tick")?,
        protocol_fee: as_int(field(v, "protocolFee")?, "protocolFee")?,
        lp_fee: as_int(field(v, "lpFee")?, "lpFee")?,
        fee_growth_global0_x128: as_u256(field(v, "feeGrowthGlobal0X128")?)?,
        fee_growth_global1_x128: as_u256(field(v, "feeGrowthGlobal1X128")?)?,
        liquidity: u128::try_from(as_u256(field(v, "liquidity")?)?)
            .map_err(|_| "liquidity above u128".to_string())?,
    })
}

fn parse_delta(v: &Value) -> Result<BalanceDelta, String> {
    let a0 = as_i128(field(v, "amount0")?)?.ok_or("amount0 outside int128")?;
    let a1 = as_i128(field(v, "amount1")?)?.ok_or("amount1 outside int128")?;
    Ok(BalanceDelta::new(a0, a1))
}

fn hex(data: &[u8]) -> String {
    let mut s = String::with_capacity(2 + data.len() * 2);
    s.push_str("0x");
    for b in data {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// An op's outcome: the caller delta (modify/swap) or the tick (init), or the revert.
type StepResult = Result<(Option<BalanceDelta>, Option<i32>), SpotError>;

struct Scenario {
    manager: PoolManager<NoHooks>,
    key: Option<PoolKey>,
    ctx: HookContext,
}

impl Scenario {
    fn state(&self) -> Option<State> {
        let key = self.key.as_ref()?;
        let pool = self.manager.pool(key).ok()?;
        let s = pool.slot0();
        let (g0, g1) = pool.fee_growth_globals();
        Some(State {
            sqrt_price_x96: s.sqrt_price_x96,
            tick: s.tick,
            protocol_fee: s.protocol_fee,
            lp_fee: s.lp_fee,
            fee_growth_global0_x128: g0,
            fee_growth_global1_x128: g1,
            liquidity: pool.liquidity(),
        })
    }

    fn pool_key(fee: u32, tick_spacing: i32) -> PoolKey {
        let mut c0 = [0u8; 20];
        c0[19] = 1;
        let mut c1 = [0u8; 20];
        c1[19] = 2;
        PoolKey {
            currency0: Address::new(c0),
            currency1: Address::new(c1),
            fee,
            tick_spacing,
            hooks: Address::ZERO,
        }
    }

    /// Runs one op; `Ok(Some(delta))` for actions with a delta, `Ok(None)` for init.
    fn run(&mut self, op: &Value) -> Result<StepResult, String> {
        let kind = field(op, "op")?.as_str().ok_or("op is not a string")?;
        match kind {
            "init" => {
                let fee: u32 = as_int(field(op, "fee")?, "fee")?;
                let ts: i32 = as_int(field(op, "tickSpacing")?, "tickSpacing")?;
                let price = as_u256(field(op, "sqrtPriceX96")?)?;
                let key = Self::pool_key(fee, ts);
                let r = self.manager.initialize(&self.ctx, &key, price);
                if r.is_ok() || self.key.is_none() {
                    self.key = Some(key);
                }
                Ok(r.map(|t| (None, Some(t))))
            }
            "modify" => {
                let key = self.key.ok_or("modify before init")?;
                let tick_lower: i32 = as_int(field(op, "tickLower")?, "tickLower")?;
                let tick_upper: i32 = as_int(field(op, "tickUpper")?, "tickUpper")?;
                let salt = match op.get("salt") {
                    None | Some(Value::Null) => [0u8; 32],
                    Some(v) => {
                        let s = as_u256(v)?;
                        s.to_be_bytes::<32>()
                    }
                };
                let Some(liquidity_delta) = as_i128(field(op, "liquidityDelta")?)? else {
                    // v4: params.liquidityDelta.toInt128() (after the pool check)
                    if !self.manager.is_initialized(&key) {
                        return Ok(Err(SpotError::PoolNotInitialized));
                    }
                    return Ok(Err(SpotError::SafeCastOverflow));
                };
                let params = ModifyLiquidityParams {
                    owner: VECTOR_OWNER,
                    tick_lower,
                    tick_upper,
                    liquidity_delta,
                    salt,
                };
                Ok(self
                    .manager
                    .modify_liquidity(&self.ctx, &key, &params)
                    .map(|o| (Some(o.caller_delta), None)))
            }
            "swap" => {
                let key = self.key.ok_or("swap before init")?;
                let zero_for_one = field(op, "zeroForOne")?
                    .as_bool()
                    .ok_or("zeroForOne is not a bool")?;
                let amount = as_i128(field(op, "amountSpecified")?)?
                    .ok_or("amountSpecified outside int128 is not supported by SwapParams")?;
                let limit = match op.get("sqrtPriceLimitX96") {
                    None | Some(Value::Null) => {
                        if zero_for_one {
                            MIN_SQRT_PRICE + U256::from(1u8)
                        } else {
                            MAX_SQRT_PRICE - U256::from(1u8)
                        }
                    }
                    Some(v) => as_u256(v)?,
                };
                let params = SwapParams {
                    zero_for_one,
                    amount_specified: amount,
                    sqrt_price_limit_x96: limit,
                };
                Ok(self
                    .manager
                    .swap(&self.ctx, &key, &params)
                    .map(|d| (Some(d), None)))
            }
            other => Err(format!("unknown op `{other}`")),
        }
    }
}

/// Compares one step; returns `(expected, got)` texts on mismatch.
fn check_step(sc: &mut Scenario, step: &Value) -> Result<Option<(String, String)>, String> {
    let op = field(step, "op")?;
    let has_tick = step.get("result").and_then(|r| r.get("tick")).is_some();
    if step.get("revert").is_none()
        && step.get("delta").is_none()
        && step.get("state").is_none()
        && !has_tick
    {
        return Err("nothing to compare (no revert, delta, state or result.tick)".into());
    }
    let before = sc.state();
    // the whole pool (ticks, bitmap, positions) and its balances, to check a revert left no trace
    let whole_before = sc.key.and_then(|k| sc.manager.pool_entry(&k).ok().cloned());
    let result = sc.run(op)?;
    if let Some(revert) = step.get("revert") {
        let want = revert
            .as_str()
            .ok_or("revert is not a string")?
            .to_ascii_lowercase();
        return Ok(match result {
            Ok((delta, tick)) => Some((
                format!("revert {want}"),
                format!("success delta={delta:?} tick={tick:?}"),
            )),
            Err(e) => {
                let got = hex(&e.revert_data());
                if got != want {
                    Some((format!("revert {want}"), format!("revert {got} ({e})")))
                } else if sc.state() != before {
                    Some((
                        "state unchanged after revert".to_string(),
                        format!(
                            "state changed: {} -> {}",
                            before.as_ref().map(fmt_state).unwrap_or_default(),
                            sc.state().as_ref().map(fmt_state).unwrap_or_default()
                        ),
                    ))
                } else if sc.key.and_then(|k| sc.manager.pool_entry(&k).ok().cloned())
                    != whole_before
                {
                    Some((
                        "pool unchanged after revert".to_string(),
                        "ticks, positions or balances changed".to_string(),
                    ))
                } else {
                    None
                }
            }
        });
    }
    let (delta, tick) = match result {
        Ok(x) => x,
        Err(e) => {
            return Ok(Some((
                "success".to_string(),
                format!("revert {} ({e})", hex(&e.revert_data())),
            )))
        }
    };
    let mut wrong = Vec::new();
    let mut want = Vec::new();
    if let Some(d) = step.get("delta") {
        let exp = parse_delta(d)?;
        if delta != Some(exp) {
            want.push(format!("delta={exp:?}"));
            wrong.push(format!("delta={delta:?}"));
        }
    }
    if let Some(r) = step.get("result").and_then(|r| r.get("tick")) {
        let exp: i32 = as_int(r, "result.tick")?;
        if tick != Some(exp) {
            want.push(format!("result.tick={exp}"));
            wrong.push(format!("result.tick={tick:?}"));
        }
    }
    if let Some(s) = step.get("state") {
        let exp = parse_state(s)?;
        let got = sc.state();
        if got != Some(exp) {
            want.push(fmt_state(&exp));
            wrong.push(
                got.as_ref()
                    .map(fmt_state)
                    .unwrap_or_else(|| "no pool".into()),
            );
        }
    }
    Ok(if wrong.is_empty() {
        None
    } else {
        Some((want.join("; "), wrong.join("; ")))
    })
}

/// Replays vectors given as text (JSON lines). An error if a line is malformed, a step has
/// nothing to compare, or no step was compared at all.
pub fn replay_vectors_str(text: &str) -> Result<VectorReport, VectorError> {
    let mut report = VectorReport::default();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let fmt_err = |message: String| VectorError::Format {
            line: line_no,
            message,
        };
        let v: Value = serde_json::from_str(line).map_err(|e| fmt_err(e.to_string()))?;
        let steps = field(&v, "steps")
            .map_err(fmt_err)?
            .as_array()
            .ok_or_else(|| fmt_err("steps is not an array".into()))?;
        let seed = v.get("seed").and_then(|s| as_i64(s).ok()).unwrap_or(-1);
        let scenario = v.get("scenario").and_then(|s| as_i64(s).ok()).unwrap_or(-1);
        report.scenarios += 1;
        let mut sc = Scenario {
            manager: PoolManager::new(NoHooks),
            key: None,
            ctx: HookContext::default(),
        };
        for (j, step) in steps.iter().enumerate() {
            report.steps += 1;
            if step.get("revert").is_some() {
                report.reverts += 1;
            }
            let outcome =
                check_step(&mut sc, step).map_err(|m| fmt_err(format!("step {j}: {m}")))?;
            if let Some((expected, got)) = outcome {
                report.mismatches += 1;
                if report.first_mismatch.is_none() {
                    report.first_mismatch = Some(VectorMismatch {
                        line: line_no,
                        seed,
                        scenario,
                        step: j,
                        op: step.get("op").map(|o| o.to_string()).unwrap_or_default(),
                        expected,
                        got,
                    });
                }
            }
        }
    }
    if report.steps == 0 {
        return Err(VectorError::NothingCompared);
    }
    Ok(report)
}

/// Replays a vectors file (JSON lines, see the module docs): N scenarios, M steps, K mismatches
/// and the first mismatch in full.
pub fn replay_vectors_file(path: impl AsRef<Path>) -> Result<VectorReport, VectorError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| VectorError::Io {
        path: path.display().to_string(),
        source,
    })?;
    replay_vectors_str(&text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::salt_from_u64;

    const SEED1: &str = include_str!("../tests/vectors/uniswap-v4-core-1.0.2_pool_seed1.jsonl");

    #[test]
    fn detects_a_corrupted_delta() {
        let first = SEED1.lines().next().unwrap();
        let ok = replay_vectors_str(first).unwrap();
        assert_eq!(ok.mismatches, 0);
        // first modify's amount0: change one digit
        let bad = first.replacen("-1189146836976967805", "-1189146836976967806", 1);
        assert_ne!(bad, first);
        let r = replay_vectors_str(&bad).unwrap();
        assert_eq!(r.mismatches, 1);
        let m = r.first_mismatch.clone().unwrap();
        assert_eq!(m.step, 1);
        assert!(r.to_string().starts_with("1 scenarios, "));
        assert!(r.to_string().contains("first mismatch"));
    }

    #[test]
    fn nothing_to_compare_is_an_error() {
        // issue 9: an empty file or steps without expectations reported "0 mismatches"
        for text in ["", "\n\n", r#"{"seed":1,"scenario":1,"steps":[]}"#] {
            assert!(
                matches!(replay_vectors_str(text), Err(VectorError::NothingCompared)),
                "{text:?}"
            );
        }
        let bare = r#"{"steps":[{"op":{"op":"init","fee":500,"tickSpacing":10,"sqrtPriceX96":"79228162514264337593543950336"}}]}"#;
        let e = replay_vectors_str(bare).unwrap_err().to_string();
        assert!(e.contains("nothing to compare"), "{e}");
        // out-of-range numbers are errors, not wrapped by `as`
        let wrapped = r#"{"steps":[{"op":{"op":"init","fee":4294967796,"tickSpacing":10,"sqrtPriceX96":"79228162514264337593543950336"},"result":{"tick":0}}]}"#;
        let e = replay_vectors_str(wrapped).unwrap_err().to_string();
        assert!(e.contains("fee 4294967796 out of range"), "{e}");
        let tick = r#"{"steps":[{"op":{"op":"init","fee":500,"tickSpacing":4294967306,"sqrtPriceX96":"79228162514264337593543950336"},"result":{"tick":0}}]}"#;
        assert!(replay_vectors_str(tick).is_err());
    }

    #[test]
    fn detects_a_wrong_revert() {
        // a swap whose limit equals the current price reverts with PriceLimitAlreadyExceeded
        let line = r#"{"seed":0,"scenario":0,"steps":[{"op":{"op":"init","fee":500,"tickSpacing":10,"sqrtPriceX96":"79228162514264337593543950336"},"result":{"tick":0},"state":{"sqrtPriceX96":"79228162514264337593543950336","tick":0,"protocolFee":0,"lpFee":500,"feeGrowthGlobal0X128":"0","feeGrowthGlobal1X128":"0","liquidity":"0"}},{"op":{"op":"swap","zeroForOne":true,"amountSpecified":"-5","sqrtPriceLimitX96":"79228162514264337593543950336"},"revert":"0x7c9c6e8fWORDWORD"},{"op":{"op":"swap","zeroForOne":true,"amountSpecified":"0"},"revert":"0xbe8b8507"},{"op":{"op":"init","fee":500,"tickSpacing":10,"sqrtPriceX96":"79228162514264337593543950336"},"revert":"0x7983c051"},{"op":{"op":"modify","tickLower":-10,"tickUpper":10,"liquidityDelta":"0","salt":salt},"revert":"0xaefeb924"}]}"#;
        let word = format!("{}1{}", "0".repeat(39), "0".repeat(24));
        let line = line
            .replace("salt", &salt_from_u64(0)[31].to_string())
            .replace("WORD", &word);
        let r = replay_vectors_str(&line).unwrap();
        assert_eq!((r.scenarios, r.steps, r.reverts), (1, 5, 4));
        assert_eq!(r.mismatches, 0, "{r}");
        let wrong = line.replace("0xbe8b8507", "0x93dafdf1");
        assert_eq!(replay_vectors_str(&wrong).unwrap().mismatches, 1);
    }
}
