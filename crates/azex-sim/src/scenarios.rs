//! Scenario presets.

use crate::agents::{AdversaryConfig, PopulationConfig};
use crate::driver::SimConfig;

/// Names of the presets, in report order.
pub const PRESET_NAMES: [&str; 10] = [
    "organic",
    "organic-one-sided",
    "balanced-high",
    "balanced-moderate",
    "one-sided",
    "crash-replay",
    "attack-self-liquidation",
    "attack-spot-manipulation",
    "attack-stop-hunt",
    "long-tail",
];

/// ±2 % spot depth of every market in the `long-tail` preset (whole USD).
pub const LONG_TAIL_DEPTH_USD: u64 = 300_000;

fn with(name: &str, description: &str, balance: f64) -> SimConfig {
    SimConfig {
        name: name.into(),
        description: description.into(),
        population: PopulationConfig {
            balance,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Hedgers (told to hold a ratio) replaced by funding arbitrageurs (trading for profit).
fn organic(name: &str, description: &str, balance: f64) -> SimConfig {
    let mut c = with(name, description, balance);
    c.population.mix.funding_arb = c.population.mix.hedger;
    c.population.mix.hedger = 0;
    c
}

fn attack(name: &str, description: &str, adv: AdversaryConfig) -> SimConfig {
    let mut c = with(name, description, 0.6);
    c.population.adversaries = adv;
    c
}

/// A preset by name.
pub fn preset(name: &str) -> Option<SimConfig> {
    Some(match name {
        "organic" => organic(
            name,
            "Balance as an outcome: directional flow leaning 0.6, no hedgers; funding/premium arbitrageurs (delta-hedged on spot, with costs and a capital limit) take the receiving side when it pays.",
            0.6,
        ),
        "organic-one-sided" => organic(
            name,
            "One-sided directional flow (balance 0) with funding/premium arbitrageurs as the only balancing flow.",
            0.0,
        ),
        "balanced-high" => with(
            name,
            "What-if, forced balance (balance 0.95): hedgers told to keep each market within 5% imbalance.",
            0.95,
        ),
        "balanced-moderate" => with(
            name,
            "What-if, forced balance (balance 0.6): hedgers told to keep each market within 40% imbalance.",
            0.6,
        ),
        "one-sided" => with(
            name,
            "One-sided flow (balance 0): undirected traders all go long, no hedging.",
            0.0,
        ),
        "crash-replay" => {
            let mut c = with(
                name,
                "Leveraged, long-leaning flow (balance 0.3, 5-25x) through the Jan-Feb 2018 crash.",
                0.3,
            );
            c.start = Some("2017-12-01".into());
            c.end = Some("2018-03-01".into());
            c.population.leverage = [5, 25];
            c
        }
        "attack-self-liquidation" => attack(
            name,
            "Moderate flow plus 5 attackers opening equal 50x long and short legs and letting one die.",
            AdversaryConfig { self_liquidators: 5, ..Default::default() },
        ),
        "attack-spot-manipulation" => attack(
            name,
            "Moderate flow plus 5 attackers moving the spot pool 5% around a perp trade (GMX AVAX 2022).",
            AdversaryConfig { spot_manipulators: 5, ..Default::default() },
        ),
        "attack-stop-hunt" => attack(
            name,
            "Moderate flow plus 5 attackers dumping spot 5% to trigger long liquidations, then covering.",
            AdversaryConfig { stop_hunters: 5, ..Default::default() },
        ),
        "long-tail" => {
            let mut c = organic(
                name,
                "Long-tail listings: every market listed with $300k of +-2% spot depth from a concentrated-liquidity profile (40% of the pool's capital within +-2%, 30% +-10%, 20% +-50%, 10% full range; static, not re-centred), so the engine's depth-derived OI caps and depth rules bind; flow as in organic with larger trades ($5k-$150k, whales $1M-$5M) against the small depth.",
                0.6,
            );
            c.depth = Some(crate::engine_venue::DepthConfig {
                depth_usd: Default::default(),
                default_depth_usd: LONG_TAIL_DEPTH_USD,
                liquidity_profile: crate::engine_venue::concentrated_profile(),
            });
            c.population.trade_usd = [5_000, 150_000];
            c.population.whale_usd = [1_000_000, 5_000_000];
            c
        }
        _ => return None,
    })
}

/// All presets.
pub fn presets() -> Vec<SimConfig> {
    PRESET_NAMES.iter().map(|n| preset(n).unwrap()).collect()
}

// ---------------------------------------------------------------------------------------------
// input validation (scenario and engine configuration files, command-line overrides)

/// Most blocks per data bar (`substeps`).
pub const MAX_SUBSTEPS: u32 = 1_000;
/// Most blocks one run may simulate (`bars × substeps`): bounds the per-block series in memory.
pub const MAX_TOTAL_BLOCKS: u64 = 10_000_000;
/// Longest scenario name (bytes).
pub const MAX_NAME_BYTES: usize = 100;
/// Most symbols (markets) a scenario may select.
pub const MAX_SYMBOLS: usize = 100;
/// Most points per chart series.
pub const MAX_CHART_POINTS: u32 = 100_000;

use crate::agents::MAX_CONFIG_USD;
use crate::engine_venue::EngineConfig;

/// Whether `name` is a plain file name: 1 to [`MAX_NAME_BYTES`] bytes of ASCII letters,
/// digits, `-`, `_` and `.`, not starting with `.` (so `../x`, `a/b`, `.hidden` and `` are
/// refused: a scenario name becomes `<out>/<name>.json` and chart file names).
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_BYTES
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn check(name: &str, v: u64, lo: u64, hi: u64) -> Result<(), String> {
    if v < lo || v > hi {
        return Err(format!("{name} {v} outside [{lo}, {hi}]"));
    }
    Ok(())
}

/// Checks a scenario configuration against the documented limits: a plain-file-name `name`
/// ([`is_plain_name`]), `substeps` in 1..=[`MAX_SUBSTEPS`], the population's limits
/// ([`crate::agents::PopulationConfig::validate`]), amounts ≤ [`MAX_CONFIG_USD`], basis points ≤
/// 10 000, at most [`MAX_SYMBOLS`] symbols and [`MAX_CHART_POINTS`] chart points.
pub fn validate_config(c: &SimConfig) -> Result<(), String> {
    if !is_plain_name(&c.name) {
        return Err(format!(
            "scenario name {:?} is not a plain file name (1-{MAX_NAME_BYTES} of A-Z a-z 0-9 - _ ., not starting with .)",
            c.name
        ));
    }
    check("substeps", c.substeps.into(), 1, MAX_SUBSTEPS.into())?;
    c.population.validate()?;
    check("genesis_vault_usd", c.genesis_vault_usd, 0, MAX_CONFIG_USD)?;
    check("reserve_factor_bps", c.reserve_factor_bps.into(), 1, 10_000)?;
    if let Some(v) = c.reserve_pool_capital_usd {
        check("reserve_pool_capital_usd", v, 0, MAX_CONFIG_USD)?;
    }
    check("crash.detect", c.crash.detect.into(), 0, 100)?;
    check("crash.horizon_days", c.crash.horizon_days.into(), 1, 3_650)?;
    check(
        "chart_points",
        c.chart_points.into(),
        2,
        MAX_CHART_POINTS.into(),
    )?;
    if let Some(d) = &c.depth {
        for (k, &v) in &d.depth_usd {
            if k.is_empty() {
                return Err("depth.depth_usd: empty symbol".into());
            }
            check(&format!("depth.depth_usd.{k}"), v, 1, MAX_CONFIG_USD)?;
        }
        check(
            "depth.default_depth_usd",
            d.default_depth_usd,
            1,
            MAX_CONFIG_USD,
        )?;
        validate_profile(&d.liquidity_profile)?;
    }
    if let Some(ch) = &c.chain {
        check("chain.substeps", ch.substeps.into(), 1, MAX_SUBSTEPS.into())?;
        if ch.substeps % c.substeps.max(1) != 0 {
            return Err(format!(
                "chain.substeps {} is not a multiple of substeps {}",
                ch.substeps, c.substeps
            ));
        }
        check(
            "chain.keeper_txs_per_block",
            ch.keeper_txs_per_block.into(),
            1,
            100_000,
        )?;
        check(
            "chain.keeper_latency_blocks",
            ch.keeper_latency_blocks.into(),
            0,
            100_000,
        )?;
    }
    if let Some(s) = &c.symbols {
        if s.is_empty() || s.len() > MAX_SYMBOLS {
            return Err(format!(
                "symbols: give 1 to {MAX_SYMBOLS} symbols, not {}",
                s.len()
            ));
        }
    }
    Ok(())
}

/// Checks a concentrated-liquidity profile: empty (full range) or bands whose shares add up to
/// 10 000 bps, each share ≥ 1 bps, at most 16 bands, half widths 1..=1 000 000 bps.
pub fn validate_profile(p: &[crate::engine_venue::LiquidityBand]) -> Result<(), String> {
    if p.is_empty() {
        return Ok(());
    }
    if p.len() > 16 {
        return Err("liquidity_profile: at most 16 bands".into());
    }
    let mut sum = 0u64;
    for b in p {
        check("liquidity_profile.share_bps", b.share_bps.into(), 1, 10_000)?;
        if let Some(w) = b.half_width_bps {
            check("liquidity_profile.half_width_bps", w.into(), 1, 1_000_000)?;
        }
        sum += u64::from(b.share_bps);
    }
    if sum != 10_000 {
        return Err(format!(
            "liquidity_profile: shares add up to {sum} bps, not 10000"
        ));
    }
    Ok(())
}

/// Checks that a run of `bars` data bars stays within [`MAX_TOTAL_BLOCKS`].
pub fn validate_run_size(c: &SimConfig, bars: usize) -> Result<(), String> {
    let per_bar = c
        .chain
        .as_ref()
        .map_or(c.substeps, |ch| ch.substeps.max(c.substeps));
    let blocks = (bars as u64).saturating_mul(per_bar.max(1).into());
    if blocks > MAX_TOTAL_BLOCKS {
        return Err(format!(
            "scenario {}: {bars} bars x {} substeps = {blocks} blocks, above the limit {MAX_TOTAL_BLOCKS} (use --max-bars, --start/--end or fewer --substeps)",
            c.name, c.substeps
        ));
    }
    Ok(())
}

/// Checks an engine venue configuration: depths and funding amounts in 1..=[`MAX_CONFIG_USD`]
/// whole USD, the spot fee below 100 % (v4: < 1 000 000 pips), tick spacing in 1..=32 767, the
/// chain block time in 1..=3 600 s, tick moves in 1..=9 116, the TWAP window ≤ 1 day, the
/// drawdown cap in 100..=9 000 bps, slippages ≤ 10 000 bps, the liquidatable list ≤ 100 000.
pub fn validate_engine_config(e: &EngineConfig) -> Result<(), String> {
    for (k, &v) in &e.depth_usd {
        if k.is_empty() {
            return Err("depth_usd: empty symbol".into());
        }
        check(&format!("depth_usd.{k}"), v, 1, MAX_CONFIG_USD)?;
    }
    check("default_depth_usd", e.default_depth_usd, 1, MAX_CONFIG_USD)?;
    check("spot_fee_pips", e.spot_fee_pips.into(), 0, 999_999)?;
    if !(1..=32_767).contains(&e.tick_spacing) {
        return Err(format!(
            "tick_spacing {} outside [1, 32767]",
            e.tick_spacing
        ));
    }
    check("chain_block_secs", e.chain_block_secs, 1, 3_600)?;
    let tick_ok = |v: i32| (1..=9_116).contains(&v);
    if !tick_ok(e.chain_max_abs_tick_move) {
        return Err(format!(
            "chain_max_abs_tick_move {} outside [1, 9116]",
            e.chain_max_abs_tick_move
        ));
    }
    if let Some(v) = e.max_abs_tick_move {
        if !tick_ok(v) {
            return Err(format!("max_abs_tick_move {v} outside [1, 9116]"));
        }
    }
    if let Some(v) = e.risk_twap_window_secs {
        check("risk_twap_window_secs", v.into(), 0, 86_400)?;
    }
    if let Some(v) = e.max_drawdown_bps {
        check("max_drawdown_bps", v.into(), 100, 9_000)?;
    }
    check("open_slippage_bps", e.open_slippage_bps.into(), 0, 10_000)?;
    check("close_slippage_bps", e.close_slippage_bps.into(), 0, 10_000)?;
    check(
        "liquidatable_list_max",
        e.liquidatable_list_max as u64,
        0,
        100_000,
    )?;
    check("agent_usdc_usd", e.agent_usdc_usd, 0, MAX_CONFIG_USD)?;
    check("agent_base_usd", e.agent_base_usd, 0, MAX_CONFIG_USD)?;
    check("mint_chunk_usd", e.mint_chunk_usd, 1, MAX_CONFIG_USD)?;
    validate_profile(&e.liquidity_profile)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_and_shipped_configs_are_valid() {
        for c in presets() {
            validate_config(&c).unwrap();
        }
        validate_engine_config(&EngineConfig::default()).unwrap();
        crate::study::StudyConfig::default().validate().unwrap();
        crate::study::StudyConfig::full().validate().unwrap();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            let text = std::fs::read_to_string(&p).unwrap();
            if name.starts_with("scenario-") {
                let c: SimConfig = serde_json::from_str(&text).unwrap();
                validate_config(&c).unwrap_or_else(|e| panic!("{name}: {e}"));
            } else if name.starts_with("engine-") {
                let c: EngineConfig = serde_json::from_str(&text).unwrap();
                validate_engine_config(&c).unwrap_or_else(|e| panic!("{name}: {e}"));
            } else if name.starts_with("study-") {
                let c: crate::study::StudyConfig = serde_json::from_str(&text).unwrap();
                c.validate().unwrap_or_else(|e| panic!("{name}: {e}"));
            }
        }
    }

    #[test]
    fn hostile_configs_are_refused() {
        let base = preset("balanced-high").unwrap();
        for name in ["../x", "a/b", "", ".hidden", "..", "a\\b", "x\0"] {
            let c = SimConfig {
                name: name.into(),
                ..base.clone()
            };
            assert!(validate_config(&c).is_err(), "{name:?}");
        }
        let mut c = base.clone();
        c.substeps = u32::MAX;
        assert!(validate_config(&c).is_err());
        let mut c = base.clone();
        c.population.agents = u32::MAX;
        assert!(validate_config(&c).is_err());
        let mut c = base.clone();
        c.population.leverage = [u32::MAX, u32::MAX];
        assert!(validate_config(&c).is_err());
        let mut c = base.clone();
        c.population.leverage = [10, 2];
        assert!(validate_config(&c).is_err());
        assert!(validate_run_size(&base, 100_000_000).is_err());
        let e = EngineConfig {
            mint_chunk_usd: 0,
            ..EngineConfig::default()
        };
        assert!(validate_engine_config(&e).is_err());
    }
}
