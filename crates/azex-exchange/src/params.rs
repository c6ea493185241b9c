//! Risk and fee parameters: their defaults, their allowed ranges, and why.
//!
//! All ratios are WAD (1e18 = 100 %). Every parameter set is validated on creation
//! ([`MarketParams::validate`], [`GlobalParams::validate`]); a transaction can never install a
//! value outside the documented range, so no single key can "lift a limit" (Drift, Apr 2026).

use crate::error::ExchangeError;
use crate::units::{Usd, USD_ONE, WAD};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

const PCT: u128 = WAD / 100;
const BP: u128 = WAD / 10_000;

/// Safety factor applied to a market's net exposure, chosen by how imbalanced the market is.
/// `imbalance = |long − short| / (long + short)`; the first tier whose `max_imbalance`
/// is ≥ the market's imbalance applies.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
#[serde(deny_unknown_fields)]
pub struct SafetyTier {
    /// The tier applies up to this imbalance `|L − S| / (L + S)` (WAD).
    #[serde(with = "crate::serde_num")]
    pub max_imbalance_wad: u128,
    /// Safety factor on the net exposure `|L − S|` in this tier (WAD).
    #[serde(with = "crate::serde_num")]
    pub safety_factor_wad: u128,
}

/// Initial and maintenance margin for positions up to `max_notional` (azUSD units).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
#[serde(deny_unknown_fields)]
pub struct MarginTier {
    /// The tier applies to positions whose entry size `|cost basis|` is at most this (azUSD units).
    #[serde(with = "crate::serde_num")]
    pub max_notional: Usd,
    /// Initial margin, a fraction of the notional (WAD).
    #[serde(with = "crate::serde_num")]
    pub initial_margin_wad: u128,
    /// Maintenance margin, a fraction of the notional (WAD).
    #[serde(with = "crate::serde_num")]
    pub maintenance_margin_wad: u128,
}

/// Per-market parameters. Derived from spot depth at listing ([`MarketParams::derive_from_depth`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketParams {
    /// Mark-price impact strength α.
    #[serde(with = "crate::serde_num")]
    pub alpha_wad: u128,
    /// Mark-price non-linearity β (fractional allowed).
    #[serde(with = "crate::serde_num")]
    pub beta_wad: u128,
    /// Weight of spot depth in impact capacity.
    #[serde(with = "crate::serde_num")]
    pub k1_wad: u128,
    /// Weight of the vault's free liquidity in impact capacity.
    #[serde(with = "crate::serde_num")]
    pub k2_wad: u128,
    /// Trades that would push the mark premium above this are rejected (unless they reduce |net|).
    #[serde(with = "crate::serde_num")]
    pub max_premium_wad: u128,
    /// Share of an imbalance-reducing rebate that is paid (≤ 1). Rebates are also capped by the
    /// market's impact pool, so no trade sequence is paid more than was charged.
    #[serde(with = "crate::serde_num")]
    pub rebate_factor_wad: u128,
    /// Taker fee on traded notional, open and close.
    #[serde(with = "crate::serde_num")]
    pub taker_fee_wad: u128,
    /// Funding: rate per day = clamp(funding_factor × premium, ±max_funding_rate_per_day).
    #[serde(with = "crate::serde_num")]
    pub funding_factor_wad: u128,
    /// The largest funding rate per day either way (WAD).
    #[serde(with = "crate::serde_num")]
    pub max_funding_rate_per_day_wad: u128,
    /// Net-exposure safety tiers (ascending `max_imbalance`, last one = 100 %).
    pub safety_tiers: Vec<SafetyTier>,
    /// Stress term: fraction of the smaller side's notional that is required on top, covering
    /// the moment that side vanishes (mass liquidation, or a self-liquidation attack) until ADL
    /// has reduced the winning side.
    #[serde(with = "crate::serde_num")]
    pub stress_factor_wad: u128,
    /// Hard cap on each side's open interest (azUSD notional), tied to spot depth at listing.
    #[serde(with = "crate::serde_num")]
    pub max_oi_per_side: Usd,
    /// Smallest position notional accepted.
    #[serde(with = "crate::serde_num")]
    pub min_position_notional: Usd,
    /// Margin tiers (ascending `max_notional`).
    pub margin_tiers: Vec<MarginTier>,
    /// Spot depth (USD, ±band) below which the market stops taking new exposure.
    #[serde(with = "crate::serde_num")]
    pub min_spot_liquidity: Usd,
    /// Liquidation penalty on the notional closed, taken from what margin is left (never more).
    #[serde(with = "crate::serde_num")]
    pub liquidation_penalty_wad: u128,
    /// Keeper's share of the penalty: starts at `keeper_share_start`, grows by
    /// `keeper_share_growth_per_sec` from the start of the liquidation, capped at `keeper_share_max`
    /// (a Dutch auction on the keeper's reward; the rest goes to the insurance fund).
    #[serde(with = "crate::serde_num")]
    pub keeper_share_start_wad: u128,
    /// Growth of the keeper's share per second since the liquidation began (WAD).
    #[serde(with = "crate::serde_num")]
    pub keeper_share_growth_per_sec_wad: u128,
    /// The keeper's share never exceeds this (WAD).
    #[serde(with = "crate::serde_num")]
    pub keeper_share_max_wad: u128,
    /// Positions larger than this (notional) are liquidated stepwise, `liquidation_step_wad` of
    /// the size per block.
    #[serde(with = "crate::serde_num")]
    pub liquidation_step_notional: Usd,
    /// Fraction of the size a stepwise liquidation closes per block (WAD).
    #[serde(with = "crate::serde_num")]
    pub liquidation_step_wad: u128,
    /// ADL when a side's unrealised profit exceeds this share of vault NAV ...
    #[serde(with = "crate::serde_num")]
    pub adl_profit_cap_wad: u128,
    /// ... down to this share.
    #[serde(with = "crate::serde_num")]
    pub adl_profit_target_wad: u128,
    /// Blocks of depth below `min_spot_liquidity` (reduce-only meanwhile) before delisting.
    pub delist_after_blocks: u64,
}

impl Default for MarketParams {
    fn default() -> Self {
        Self {
            alpha_wad: 5 * PCT,                // 5 % premium at u = 1
            beta_wad: 3 * WAD / 2,             // 1.5
            k1_wad: WAD,                       // spot depth counts fully
            k2_wad: WAD / 2,                   // vault free liquidity counts half
            max_premium_wad: 2 * PCT,          // reject trades beyond a 2 % mark premium
            rebate_factor_wad: 80 * PCT,       // pay 80 % of the curve's rebate
            taker_fee_wad: 6 * BP,             // 0.06 %
            funding_factor_wad: WAD,           // funding per day = premium
            max_funding_rate_per_day_wad: PCT, // ±1 % per day
            safety_tiers: vec![
                SafetyTier {
                    max_imbalance_wad: 10 * PCT,
                    safety_factor_wad: 3 * WAD / 2,
                },
                SafetyTier {
                    max_imbalance_wad: 30 * PCT,
                    safety_factor_wad: 7 * WAD / 4,
                },
                SafetyTier {
                    max_imbalance_wad: 60 * PCT,
                    safety_factor_wad: 2 * WAD,
                },
                SafetyTier {
                    max_imbalance_wad: WAD,
                    safety_factor_wad: 5 * WAD / 2,
                },
            ],
            stress_factor_wad: 5 * PCT,
            max_oi_per_side: 1_000_000_000 * USD_ONE,
            min_position_notional: 10 * USD_ONE,
            margin_tiers: default_margin_tiers(),
            min_spot_liquidity: 10_000 * USD_ONE,
            liquidation_penalty_wad: PCT / 2,
            keeper_share_start_wad: 20 * PCT,
            keeper_share_growth_per_sec_wad: PCT,
            keeper_share_max_wad: 60 * PCT,
            liquidation_step_notional: 250_000 * USD_ONE,
            liquidation_step_wad: 25 * PCT,
            adl_profit_cap_wad: 45 * PCT,
            adl_profit_target_wad: 40 * PCT,
            delist_after_blocks: 10,
        }
    }
}

/// Default margin tiers. Maintenance margin ≥ 2 % for the smallest tier: above the oracle's
/// per-block truncation bound (50 ticks ≈ 0.50 %) times the blocks a keeper needs (2), plus the
/// close fee and the liquidation penalty — the no-negative-equity argument (docs/risk.md).
pub fn default_margin_tiers() -> Vec<MarginTier> {
    vec![
        MarginTier {
            max_notional: 100_000 * USD_ONE,
            initial_margin_wad: 5 * PCT,
            maintenance_margin_wad: 5 * PCT / 2,
        },
        MarginTier {
            max_notional: 1_000_000 * USD_ONE,
            initial_margin_wad: 10 * PCT,
            maintenance_margin_wad: 5 * PCT,
        },
        MarginTier {
            max_notional: 10_000_000 * USD_ONE,
            initial_margin_wad: 20 * PCT,
            maintenance_margin_wad: 10 * PCT,
        },
        MarginTier {
            max_notional: u128::MAX,
            initial_margin_wad: 50 * PCT,
            maintenance_margin_wad: 25 * PCT,
        },
    ]
}

fn bad(name: &'static str, reason: impl Into<String>) -> ExchangeError {
    ExchangeError::InvalidParameter {
        name,
        reason: reason.into(),
    }
}

fn in_range(name: &'static str, v: u128, lo: u128, hi: u128) -> Result<(), ExchangeError> {
    if v < lo || v > hi {
        return Err(bad(name, format!("{v} outside [{lo}, {hi}]")));
    }
    Ok(())
}

impl MarketParams {
    /// Checks every field against its allowed range.
    pub fn validate(&self) -> Result<(), ExchangeError> {
        self.validate_pricing()?;
        self.validate_safety_tiers()?;
        self.validate_liquidation()?;
        self.validate_margin_tiers()
    }

    /// Mark price, impact, fees and funding.
    fn validate_pricing(&self) -> Result<(), ExchangeError> {
        in_range("alpha", self.alpha_wad, BP, WAD)?;
        in_range("beta", self.beta_wad, WAD / 2, 3 * WAD)?;
        in_range("k1", self.k1_wad, 0, 10 * WAD)?;
        in_range("k2", self.k2_wad, 0, 10 * WAD)?;
        if self.k1_wad == 0 && self.k2_wad == 0 {
            return Err(bad("k1/k2", "impact capacity would always be zero"));
        }
        in_range("max_premium", self.max_premium_wad, BP, 20 * PCT)?;
        in_range("rebate_factor", self.rebate_factor_wad, 0, WAD)?;
        in_range("taker_fee", self.taker_fee_wad, 0, PCT)?;
        in_range("funding_factor", self.funding_factor_wad, 0, 100 * WAD)?;
        in_range(
            "max_funding_rate_per_day",
            self.max_funding_rate_per_day_wad,
            0,
            10 * PCT,
        )?;
        in_range("stress_factor", self.stress_factor_wad, PCT, WAD)?;
        Ok(())
    }

    /// Safety tiers: imbalance bounds increasing to 100 %, factors ≥ 1 and not decreasing.
    fn validate_safety_tiers(&self) -> Result<(), ExchangeError> {
        if self.safety_tiers.is_empty() {
            return Err(bad("safety_tiers", "empty"));
        }
        let mut prev_imb = 0;
        let mut prev_sf = WAD;
        for t in &self.safety_tiers {
            if t.max_imbalance_wad <= prev_imb && prev_imb != 0 {
                return Err(bad("safety_tiers", "max_imbalance must increase"));
            }
            if t.safety_factor_wad < prev_sf {
                return Err(bad(
                    "safety_tiers",
                    "safety factors must not decrease (≥ 1)",
                ));
            }
            prev_imb = t.max_imbalance_wad;
            prev_sf = t.safety_factor_wad;
        }
        if prev_imb != WAD {
            return Err(bad("safety_tiers", "last tier must cover imbalance 100%"));
        }
        Ok(())
    }

    /// Liquidation, keeper shares, ADL, delisting and the OI cap.
    fn validate_liquidation(&self) -> Result<(), ExchangeError> {
        in_range(
            "liquidation_penalty",
            self.liquidation_penalty_wad,
            0,
            5 * PCT,
        )?;
        in_range("keeper_share_start", self.keeper_share_start_wad, 0, WAD)?;
        in_range(
            "keeper_share_max",
            self.keeper_share_max_wad,
            self.keeper_share_start_wad,
            WAD,
        )?;
        in_range(
            "keeper_share_growth_per_sec",
            self.keeper_share_growth_per_sec_wad,
            0,
            WAD,
        )?;
        in_range("liquidation_step", self.liquidation_step_wad, 5 * PCT, WAD)?;
        in_range("adl_profit_cap", self.adl_profit_cap_wad, 10 * PCT, WAD)?;
        in_range(
            "adl_profit_target",
            self.adl_profit_target_wad,
            5 * PCT,
            self.adl_profit_cap_wad,
        )?;
        in_range(
            "delist_after_blocks",
            u128::from(self.delist_after_blocks),
            1,
            100_000,
        )?;
        if self.max_oi_per_side == 0 {
            return Err(bad("max_oi_per_side", "zero"));
        }
        Ok(())
    }

    /// Margin tiers: growing in size and margin, the last unbounded.
    fn validate_margin_tiers(&self) -> Result<(), ExchangeError> {
        if self.margin_tiers.is_empty()
            || self.margin_tiers.last().map(|t| t.max_notional) != Some(u128::MAX)
        {
            return Err(bad(
                "margin_tiers",
                "must be non-empty and end with an unbounded tier",
            ));
        }
        let mut prev = (0u128, 0u128, 0u128);
        for (i, t) in self.margin_tiers.iter().enumerate() {
            in_range("maintenance_margin", t.maintenance_margin_wad, PCT, WAD)?;
            in_range(
                "initial_margin",
                t.initial_margin_wad,
                t.maintenance_margin_wad,
                WAD,
            )?;
            if i > 0
                && (t.max_notional <= prev.0
                    || t.initial_margin_wad < prev.1
                    || t.maintenance_margin_wad < prev.2)
            {
                return Err(bad("margin_tiers", "tiers must grow in size and margin"));
            }
            prev = (
                t.max_notional,
                t.initial_margin_wad,
                t.maintenance_margin_wad,
            );
        }
        Ok(())
    }

    /// The safety factor for an imbalance ratio.
    pub fn safety_factor(&self, imbalance_wad: u128) -> u128 {
        self.safety_tiers
            .iter()
            .find(|t| imbalance_wad <= t.max_imbalance_wad)
            .or(self.safety_tiers.last())
            .map(|t| t.safety_factor_wad)
            .unwrap_or(WAD)
    }

    /// The margin tier for a position notional.
    pub fn margin_tier(&self, notional: Usd) -> MarginTier {
        *self
            .margin_tiers
            .iter()
            .find(|t| notional <= t.max_notional)
            .or(self.margin_tiers.last())
            .expect("validated: margin tiers are non-empty")
    }

    /// Listing rule: risk parameters follow from spot depth (USD within the oracle band).
    /// Each side's OI is capped at `OI_CAP_DEPTH_MULTIPLE` × depth, the stop-trading level is half
    /// the listing minimum. Everything else takes the defaults: `GlobalParams::market_defaults`
    /// when set at genesis, else [`MarketParams::default`].
    pub fn derive_from_depth(depth: Usd, global: &GlobalParams) -> Self {
        let p = global.market_defaults.clone().unwrap_or_default();
        Self {
            max_oi_per_side: depth.saturating_mul(global.oi_cap_depth_multiple),
            min_spot_liquidity: global.min_listing_depth / 2,
            ..p
        }
    }
}

/// Protocol-wide parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct GlobalParams {
    /// Spot depth (azUSD units within the oracle band) a new market needs to be listed.
    #[serde(with = "crate::serde_num")]
    pub min_listing_depth: Usd,
    /// Each side's OI cap as a multiple of spot depth at listing.
    #[serde(with = "crate::serde_num")]
    pub oi_cap_depth_multiple: u128,
    /// Share of trading fees that goes to the LP vault (rest: treasury).
    #[serde(with = "crate::serde_num")]
    pub lp_fee_share_wad: u128,
    /// Share of strategy yield that goes to the LP vault (rest: treasury).
    #[serde(with = "crate::serde_num")]
    pub lp_yield_share_wad: u128,
    /// Fraction of USDC reserves kept liquid for redemptions.
    #[serde(with = "crate::serde_num")]
    pub liquid_buffer_wad: u128,
    /// The vault never lets its total requirement exceed this share of its NAV.
    #[serde(with = "crate::serde_num")]
    pub max_vault_utilisation_wad: u128,
    /// Seconds an LP deposit is locked before it can be withdrawn (at most
    /// [`MAX_LP_LOCKUP_SECS`]).
    pub lp_lockup_secs: u64,
    /// Oracle truncation: maximum tick move per observation (per block).
    pub max_abs_tick_move: i32,
    /// TWAP window for risk prices (liquidation, ADL, delisting settlement), seconds.
    pub risk_twap_window_secs: u32,
    /// The chain's block time, seconds: how many blocks (oracle observations, each an
    /// arbitrage round) a TWAP window spans. Sizes the OI caps against oracle manipulation
    /// (docs/protocol.md §11).
    #[serde(default = "default_block_time_secs")]
    pub block_time_secs: u32,
    /// A block more than this many seconds after the previous one (a stall: one observation
    /// filled the TWAP window) starts one TWAP window in which no market takes new exposure
    /// (docs/risk.md §8). The chain's block time by default.
    #[serde(default = "default_max_block_gap_secs")]
    pub max_block_gap_secs: u64,
    /// LP drawdown cap: when the share price falls this far below its high-water mark, every
    /// market goes reduce-only and winning sides are deleveraged.
    #[serde(with = "crate::serde_num")]
    pub max_drawdown_wad: u128,
    /// The drawdown cap's way back: once the share price has made no new low for this long
    /// (seconds; the LP lock-up if that is longer, so every LP can leave at NAV before trading
    /// resumes), the high-water mark is rebased to it and markets reopen (docs/risk.md §4).
    #[serde(default = "default_drawdown_cooldown_secs")]
    pub drawdown_cooldown_secs: u64,
    /// Parameters every new market starts from (`None`: [`MarketParams::default`]); set at
    /// genesis. Listing then derives the OI cap and the minimum spot liquidity from the depth.
    #[serde(default)]
    pub market_defaults: Option<MarketParams>,
}

/// Longest LP lock-up `GlobalParams::validate` accepts: one year.
pub const MAX_LP_LOCKUP_SECS: u64 = 365 * 86_400;

/// Highest simple yearly rate a yield strategy may declare: 100 % a year (real USDC strategies
/// pay a few percent; a higher figure is a typo or an attack on the NAV).
pub const MAX_STRATEGY_RATE_PER_YEAR_WAD: u128 = WAD;

/// Longest withdrawal delay a yield strategy may declare: 90 days.
pub const MAX_STRATEGY_WITHDRAWAL_DELAY_SECS: u64 = 90 * 86_400;

/// Most yield strategies at genesis, and the longest strategy name (bytes).
pub const MAX_STRATEGIES: usize = 16;
/// The longest strategy name, in bytes.
pub const MAX_STRATEGY_NAME_BYTES: usize = 64;

/// Checks genesis yield strategies: at most [`MAX_STRATEGIES`]; each named (≤
/// [`MAX_STRATEGY_NAME_BYTES`], unique), its rate within [`MAX_STRATEGY_RATE_PER_YEAR_WAD`], its
/// withdrawal delay within [`MAX_STRATEGY_WITHDRAWAL_DELAY_SECS`], its target share ≤ 100 %,
/// and the shares summing to ≤ 100 %.
pub fn validate_strategies(
    strategies: &[crate::state::StrategyConfig],
) -> Result<(), ExchangeError> {
    if strategies.len() > MAX_STRATEGIES {
        return Err(bad(
            "strategies",
            format!("{} strategies, at most {MAX_STRATEGIES}", strategies.len()),
        ));
    }
    let mut share_sum = 0u128;
    for (i, s) in strategies.iter().enumerate() {
        if s.name.trim().is_empty() || s.name.len() > MAX_STRATEGY_NAME_BYTES {
            return Err(bad(
                "strategy name",
                format!("strategy {i}: name must be 1 to {MAX_STRATEGY_NAME_BYTES} bytes"),
            ));
        }
        if strategies[..i].iter().any(|o| o.name == s.name) {
            return Err(bad(
                "strategy name",
                format!("strategy {i}: name {:?} used twice", s.name),
            ));
        }
        in_range(
            "strategy rate_per_year",
            s.rate_per_year_wad,
            0,
            MAX_STRATEGY_RATE_PER_YEAR_WAD,
        )?;
        in_range(
            "strategy withdrawal_delay_secs",
            u128::from(s.withdrawal_delay_secs),
            0,
            u128::from(MAX_STRATEGY_WITHDRAWAL_DELAY_SECS),
        )?;
        in_range("strategy target_share", s.target_share_wad, 0, WAD)?;
        share_sum = share_sum.saturating_add(s.target_share_wad);
    }
    if share_sum > WAD {
        return Err(bad("strategies", "target shares sum above 100%"));
    }
    Ok(())
}

fn default_block_time_secs() -> u32 {
    2
}

fn default_max_block_gap_secs() -> u64 {
    2
}

fn default_drawdown_cooldown_secs() -> u64 {
    86_400
}

impl Default for GlobalParams {
    fn default() -> Self {
        Self {
            min_listing_depth: 50_000 * USD_ONE,
            oi_cap_depth_multiple: 20,
            lp_fee_share_wad: 70 * PCT,
            lp_yield_share_wad: 80 * PCT,
            liquid_buffer_wad: 20 * PCT,
            max_vault_utilisation_wad: 90 * PCT,
            lp_lockup_secs: 3_600,
            max_abs_tick_move: 50,
            risk_twap_window_secs: 60,
            block_time_secs: 2,
            max_block_gap_secs: default_max_block_gap_secs(),
            max_drawdown_wad: 20 * PCT,
            drawdown_cooldown_secs: default_drawdown_cooldown_secs(),
            market_defaults: None,
        }
    }
}

impl GlobalParams {
    /// Checks every field against its allowed range (`InvalidParameter` naming the first one
    /// outside it).
    pub fn validate(&self) -> Result<(), ExchangeError> {
        in_range(
            "block_time_secs",
            u128::from(self.block_time_secs),
            1,
            3_600,
        )?;
        in_range(
            "max_block_gap_secs",
            u128::from(self.max_block_gap_secs),
            u128::from(self.block_time_secs),
            86_400,
        )?;
        in_range("lp_fee_share", self.lp_fee_share_wad, 0, WAD)?;
        in_range("lp_yield_share", self.lp_yield_share_wad, 0, WAD)?;
        in_range("liquid_buffer", self.liquid_buffer_wad, 5 * PCT, WAD)?;
        in_range(
            "max_vault_utilisation",
            self.max_vault_utilisation_wad,
            10 * PCT,
            WAD,
        )?;
        in_range(
            "oi_cap_depth_multiple",
            self.oi_cap_depth_multiple,
            1,
            1_000,
        )?;
        in_range(
            "max_abs_tick_move",
            // A negative move is out of range: reported as u128::MAX.
            u128::try_from(self.max_abs_tick_move).unwrap_or(u128::MAX),
            1,
            9_116,
        )?;
        in_range(
            "risk_twap_window",
            u128::from(self.risk_twap_window_secs),
            0,
            86_400,
        )?;
        in_range("max_drawdown", self.max_drawdown_wad, PCT, 90 * PCT)?;
        in_range(
            "drawdown_cooldown_secs",
            u128::from(self.drawdown_cooldown_secs),
            60,
            30 * 86_400,
        )?;
        in_range(
            "lp_lockup_secs",
            u128::from(self.lp_lockup_secs),
            0,
            u128::from(MAX_LP_LOCKUP_SECS),
        )?;
        if self.min_listing_depth < 1_000 * USD_ONE {
            return Err(bad("min_listing_depth", "below $1,000"));
        }
        if self.market_defaults.is_some() {
            // Checked as a market listed at the minimum depth would be (its two depth-derived
            // fields replaced).
            MarketParams::derive_from_depth(self.min_listing_depth, self).validate()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genesis_market_defaults_are_used_and_checked() {
        let mut g = GlobalParams::default();
        let mut d = MarketParams {
            taker_fee_wad: 10 * BP,
            ..MarketParams::default()
        };
        g.market_defaults = Some(d.clone());
        g.validate().unwrap();
        let p = MarketParams::derive_from_depth(1_000_000 * USD_ONE, &g);
        assert_eq!(p.taker_fee_wad, 10 * BP);
        // the depth-derived fields still follow the depth
        assert_eq!(p.max_oi_per_side, 20_000_000 * USD_ONE);
        assert_eq!(p.min_spot_liquidity, g.min_listing_depth / 2);
        // out-of-range defaults are refused at genesis
        d.alpha_wad = 2 * WAD;
        g.market_defaults = Some(d);
        assert!(matches!(
            g.validate(),
            Err(ExchangeError::InvalidParameter { name: "alpha", .. })
        ));
    }

    #[test]
    fn hostile_inputs_are_refused() {
        // issue 9: an LP lock-up of u64::MAX and a strategy yield of 1e24 WAD a year
        let g = GlobalParams {
            lp_lockup_secs: u64::MAX,
            ..GlobalParams::default()
        };
        assert!(matches!(
            g.validate(),
            Err(ExchangeError::InvalidParameter {
                name: "lp_lockup_secs",
                ..
            })
        ));
        let s = crate::state::StrategyConfig {
            name: "x".into(),
            rate_per_year_wad: 1_000_000 * WAD,
            capacity: 1,
            withdrawal_delay_secs: 0,
            target_share_wad: WAD / 2,
        };
        assert!(validate_strategies(std::slice::from_ref(&s)).is_err());
        let ok = crate::state::StrategyConfig {
            rate_per_year_wad: 5 * PCT,
            ..s.clone()
        };
        validate_strategies(std::slice::from_ref(&ok)).unwrap();
        assert!(
            validate_strategies(&[ok.clone(), ok.clone()]).is_err(),
            "same name twice"
        );
        let slow = crate::state::StrategyConfig {
            withdrawal_delay_secs: u64::MAX,
            ..ok
        };
        assert!(validate_strategies(&[slow]).is_err());
        // misspelled fields are errors, not ignored
        let mut v = serde_json::to_value(GlobalParams::default()).unwrap();
        v["lp_lockup_sec"] = 5.into();
        assert!(serde_json::from_value::<GlobalParams>(v).is_err());
        let mut v = serde_json::to_value(MarketParams::default()).unwrap();
        v["margin_tiers"][0]["initial_margin"] = "1".into();
        assert!(serde_json::from_value::<MarketParams>(v).is_err());
    }

    #[test]
    fn defaults_are_valid() {
        MarketParams::default().validate().unwrap();
        GlobalParams::default().validate().unwrap();
    }

    #[test]
    fn out_of_range_is_refused() {
        let p = MarketParams {
            rebate_factor_wad: WAD + 1,
            ..MarketParams::default()
        };
        assert!(matches!(
            p.validate(),
            Err(ExchangeError::InvalidParameter {
                name: "rebate_factor",
                ..
            })
        ));
        let mut p = MarketParams::default();
        p.safety_tiers[1].safety_factor_wad = WAD / 2;
        assert!(p.validate().is_err());
    }

    #[test]
    fn tiers_pick_first_covering() {
        let p = MarketParams::default();
        assert_eq!(p.safety_factor(0), 3 * WAD / 2);
        assert_eq!(p.safety_factor(10 * PCT), 3 * WAD / 2);
        assert_eq!(p.safety_factor(10 * PCT + 1), 7 * WAD / 4);
        assert_eq!(p.safety_factor(WAD), 5 * WAD / 2);
        assert_eq!(
            p.margin_tier(100_000 * USD_ONE + 1).initial_margin_wad,
            10 * PCT
        );
    }
}
