//! Result types and the per-model metric accumulators.

use serde::{Deserialize, Serialize};

use crate::baselines::max_drawdown_bps;
use crate::prices::CrashWindow;

/// Ratio `a / b` as f64 rounded to 6 decimals (0 when b = 0). One division of two exactly
/// converted integers, then a multiply/round/divide: identical on every IEEE-754 machine.
pub fn ratio6(a: u128, b: u128) -> f64 {
    if b == 0 {
        return 0.0;
    }
    ((a as f64 / b as f64) * 1e6).round() / 1e6
}

/// Drawdown inside one crash window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowDrawdown {
    /// The crash window's label.
    pub label: String,
    /// Peak-to-trough decline of the model's value inside the window (peak reset at the window
    /// start), bps.
    pub drawdown_bps: u32,
}

/// The figures of one model (AZEx, classic peer-to-pool, reserve-factor pool) on one run.
/// Amounts are micro-azUSD.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelMetrics {
    /// `"azex"`, `"classic"` or `"reserve_factor"`.
    pub model: String,
    /// Capital backing the model: AZEx = vault NAV after the first block; classic = peak
    /// requirement (fully backed); reserve factor = its fixed starting capital.
    pub capital_usd: i128,
    /// Peak liquidity requirement over blocks.
    pub required_peak_usd: u128,
    /// Mean over blocks.
    pub required_avg_usd: u128,
    /// Gross open interest (longs + shorts, all markets) peak and mean over blocks.
    pub oi_peak_usd: u128,
    /// Mean gross open interest over blocks.
    pub oi_avg_usd: u128,
    /// `required_peak / oi_peak`: capital that must be on hand at the worst moment per dollar
    /// of the largest open interest.
    pub capital_per_oi_peak: f64,
    /// `Σ required / Σ gross OI` over blocks (OI-weighted mean).
    pub capital_per_oi_avg: f64,
    /// Highest single-block `required / gross OI`, over blocks whose OI is at least a quarter of
    /// the mean (a nearly empty book says little).
    pub capital_per_oi_worst_block: f64,
    /// Blocks in which the requirement exceeded the capital available (NAV / pool value).
    pub shortfall_blocks: u64,
    /// Max drawdown of the LP value: AZEx share price; baselines capital + LP PnL.
    pub max_drawdown_bps: u32,
    /// Drawdown inside each crash window.
    pub crash_drawdowns: Vec<WindowDrawdown>,
    /// Largest LP loss over one block (fall of LP PnL from the previous block).
    pub worst_block_loss_usd: i128,
    /// Largest ratio of a block's LP loss to the requirement held at the start of that block
    /// (above 1: the requirement did not cover the move; -1: a loss while nothing was
    /// required).
    pub worst_block_loss_over_required: f64,
    /// Losses beyond traders' collateral, total.
    pub deficits_usd: u128,
    /// The part of `deficits_usd` borne by LPs (after any insurance fund).
    pub bad_debt_usd: u128,
    /// Notional closed by auto-deleveraging.
    pub adl_volume_usd: u128,
    /// Positions auto-deleveraged.
    pub adl_count: u64,
    /// Liquidations executed.
    pub liquidations: u64,
    /// Notional liquidated.
    pub liquidation_volume_usd: u128,
    /// Trading and liquidation fees credited to LPs.
    pub fees_to_lp_usd: u128,
    /// Net funding received by LPs (< 0: paid).
    pub funding_to_lp_usd: i128,
    /// LP profit: AZEx = final NAV − net LP deposits; baselines = fees + funding − trader PnL −
    /// deficits.
    pub lp_pnl_usd: i128,
    /// AZEx: share price change; baselines: LP PnL / capital. bps.
    pub lp_return_bps: i64,
    /// Opens refused for lack of capital (AZEx: the vault's requirement check; reserve factor:
    /// the reserve cap; classic: never).
    pub rejected_opens: u64,
    /// Notional of the refused opens.
    pub rejected_volume_usd: u128,
}

/// Online accumulator of requirement and OI, plus the value series for drawdowns.
#[derive(Clone, Debug, Default)]
pub struct ModelTrack {
    /// Peak requirement (micro-azUSD).
    pub required_peak: u128,
    /// Sum of the per-block requirements (micro-azUSD).
    pub required_sum: u128,
    /// Peak gross OI (micro-azUSD).
    pub oi_peak: u128,
    /// Sum of the per-block gross OI (micro-azUSD).
    pub oi_sum: u128,
    /// Blocks whose requirement exceeded the capital available.
    pub shortfall_blocks: u64,
    /// Per block requirement and gross OI.
    pub required: Vec<u128>,
    /// Per block gross OI (micro-azUSD).
    pub oi: Vec<u128>,
    /// Blocks recorded.
    pub blocks: u64,
    /// Per block: the value whose drawdown is reported.
    pub values: Vec<i128>,
    /// Per block: LP PnL so far (deposits and withdrawals excluded).
    pub pnl: Vec<i128>,
}

impl ModelTrack {
    /// Records one block: requirement, gross OI, capital available, drawdown value and LP PnL (micro-azUSD).
    #[expect(
        clippy::cast_possible_wrap,
        reason = "requirements (micro-azUSD) are far below 2^127"
    )]
    pub fn record(&mut self, required: u128, oi: u128, available: i128, value: i128, pnl: i128) {
        self.pnl.push(pnl);
        self.blocks += 1;
        self.required_peak = self.required_peak.max(required);
        self.required_sum += required;
        self.oi_peak = self.oi_peak.max(oi);
        self.oi_sum += oi;
        self.required.push(required);
        self.oi.push(oi);
        if required as i128 > available {
            self.shortfall_blocks += 1;
        }
        self.values.push(value);
    }

    /// Fills the requirement, OI and drawdown fields of `m` (values offset by `base`).
    #[expect(clippy::cast_sign_loss, reason = "l > 0 is checked first")]
    pub fn finish_into(
        &self,
        m: &mut ModelMetrics,
        base: i128,
        windows: &[(String, usize, usize)],
    ) {
        let n = u128::from(self.blocks.max(1));
        m.required_peak_usd = self.required_peak;
        m.required_avg_usd = self.required_sum / n;
        m.oi_peak_usd = self.oi_peak;
        m.oi_avg_usd = self.oi_sum / n;
        m.capital_per_oi_peak = ratio6(self.required_peak, self.oi_peak);
        m.capital_per_oi_avg = ratio6(self.required_sum, self.oi_sum);
        // worst block, compared exactly by cross-multiplication
        let floor = (self.oi_sum / n) / 4;
        let mut worst = (0u128, 0u128);
        for (&r, &o) in self.required.iter().zip(&self.oi) {
            if o > 0 && o >= floor && (worst.1 == 0 || r * worst.1 > worst.0 * o) {
                worst = (r, o);
            }
        }
        m.capital_per_oi_worst_block = ratio6(worst.0, worst.1);
        let (mut loss, mut cover) = (0i128, (0u128, 0u128));
        for t in 1..self.pnl.len() {
            let l = self.pnl[t - 1] - self.pnl[t];
            if l > 0 {
                loss = loss.max(l);
                let (r, l) = (self.required[t - 1], l as u128);
                // compare l / r > best.0 / best.1 exactly; r = 0 with a loss counts as infinite
                let better = match (r, cover.1) {
                    (0, _) => cover.1 != 0 || l > cover.0,
                    (_, 0) => cover.0 == 0,
                    _ => l * cover.1 > cover.0 * r,
                };
                if better {
                    cover = (l, r);
                }
            }
        }
        m.worst_block_loss_usd = loss;
        m.worst_block_loss_over_required = if cover.1 == 0 && cover.0 > 0 {
            -1.0
        } else {
            ratio6(cover.0, cover.1)
        };
        m.shortfall_blocks = self.shortfall_blocks;
        let vals: Vec<i128> = self.values.iter().map(|v| v + base).collect();
        m.max_drawdown_bps = max_drawdown_bps(&vals).0;
        m.crash_drawdowns = windows
            .iter()
            .map(|(label, a, b)| WindowDrawdown {
                label: label.clone(),
                drawdown_bps: if a <= b && *b < vals.len() {
                    max_drawdown_bps(&vals[*a..=*b]).0
                } else {
                    0
                },
            })
            .collect();
    }
}

/// The seeds' capital-efficiency figure on one run: AZEx's requirement against what a fully
/// backed (classic) pool would lock for the same open interest at the same prices, i.e. "per
/// $100M of OI (= $100M locked classically), AZEx needs $X".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Headline {
    /// `Σ AZEx required / Σ Σ_m max(L_m, S_m)` over blocks (OI-weighted mean).
    pub azex_per_classic_avg: f64,
    /// Peak AZEx requirement / peak classic requirement.
    pub azex_per_classic_peak: f64,
    /// The bare net exposure `Σ_m |L_m − S_m|` (safety factor 1, no stress term) over the
    /// classic requirement, OI-weighted: what the seeds' formula alone would need.
    pub net_per_classic_avg: f64,
    /// OI-weighted mean imbalance `Σ |L − S| / Σ (L + S)` over markets and blocks, bps.
    pub imbalance_bps: u32,
}

/// Where the prices came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataSummary {
    /// Path or name of the price data.
    pub source: String,
    /// Market symbols, in market order.
    pub symbols: Vec<String>,
    /// Bars simulated.
    pub bars: u64,
    /// Sub-steps (blocks) per bar.
    pub substeps_per_bar: u32,
    /// Blocks simulated.
    pub blocks: u64,
    /// Timestamp of the first bar (UTC text).
    pub first: String,
    /// Timestamp of the last bar (UTC text).
    pub last: String,
    /// Bar length (seconds).
    pub bar_seconds: u64,
    /// Per market: bars forward-filled (missing in the data).
    pub filled_bars: Vec<u32>,
}

/// Per agent kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindSummary {
    /// Agent kind name.
    pub kind: String,
    /// Agents of this kind.
    pub count: u32,
    /// Calls to `decide`.
    pub activations: u64,
    /// Actions submitted.
    pub actions: u64,
    /// Actions the venue accepted.
    pub accepted: u64,
    /// Final wealth change: azUSD net + base at the last data price + open position equity +
    /// LP shares at the final share price.
    pub pnl_usd: i128,
}

/// Actions and their fate.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionStats {
    /// Actions sent to the venue.
    pub submitted: u64,
    /// Actions the venue accepted.
    pub accepted: u64,
    /// Rejections by kind (sorted by name).
    pub rejected: std::collections::BTreeMap<String, u64>,
    /// Batch references or wallet-relative swaps that had nothing to refer to (not sent).
    pub skipped: u64,
}

/// Per market.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketSummary {
    /// Market symbol.
    pub symbol: String,
    /// First open price in the data (USD, decimal text).
    pub first_price: String,
    /// Last close price in the data (USD, decimal text).
    pub last_price: String,
    /// Peak long OI (micro-azUSD).
    pub peak_long_oi_usd: u128,
    /// Peak short OI (micro-azUSD).
    pub peak_short_oi_usd: u128,
    /// Mean over blocks of |L − S| / (L + S), bps (blocks with OI only).
    pub avg_imbalance_bps: u32,
    /// Long OI at the end (micro-azUSD).
    pub final_long_oi_usd: u128,
    /// Short OI at the end (micro-azUSD).
    pub final_short_oi_usd: u128,
}

/// Down-sampled series for charts (not serialised).
#[derive(Clone, Debug, Default)]
pub struct ChartSeries {
    /// Unix seconds of each point.
    pub timestamps: Vec<u64>,
    /// `[market][point]`, USD.
    pub data_price: Vec<Vec<f64>>,
    /// `[market][point]`, mark price, USD.
    pub mark_price: Vec<Vec<f64>>,
    /// `[market][point]`, long OI, USD.
    pub long_oi: Vec<Vec<f64>>,
    /// `[market][point]`, short OI, USD.
    pub short_oi: Vec<Vec<f64>>,
    /// `[model][point]`, USD, models in [`SimResult::models`] order.
    pub required: Vec<Vec<f64>>,
    /// `[model][point]`, capital available (NAV / pool value), USD.
    pub available: Vec<Vec<f64>>,
    /// LP value relative to its first value (AZEx: share price; baselines: capital + LP PnL).
    pub value_index: Vec<Vec<f64>>,
    /// Drawdown from the running peak, fraction (0..1).
    pub drawdown: Vec<Vec<f64>>,
}

/// Everything a run produces. Serialises to deterministic JSON (fixed field order, integers,
/// f64 only as ratios of integers).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimResult {
    /// Scenario name.
    pub scenario: String,
    /// Scenario description.
    pub description: String,
    /// Seed of the agents' random streams.
    pub seed: u64,
    /// [`crate::Venue::name`] of the venue the run used.
    pub venue: String,
    /// Where the prices came from.
    pub data: DataSummary,
    /// The crash windows measured.
    pub crash_windows: Vec<CrashWindow>,
    /// AZEx, classic and reserve-factor figures, in that order.
    pub models: Vec<ModelMetrics>,
    /// Per market.
    pub markets: Vec<MarketSummary>,
    /// Per agent kind.
    pub agents: Vec<KindSummary>,
    /// Actions and their fate.
    pub actions: ActionStats,
    /// The spot arbitrageur's wealth change (micro-azUSD).
    pub arbitrageur_pnl_usd: i128,
    /// The capital-efficiency headline.
    #[serde(default)]
    pub headline: Headline,
    /// The venue's own description of its configuration ([`crate::Venue::describe`]).
    #[serde(default)]
    pub venue_info: std::collections::BTreeMap<String, String>,
    /// The configuration run.
    pub config: crate::driver::SimConfig,
    /// Down-sampled series for charts.
    #[serde(skip)]
    pub series: ChartSeries,
}

impl PartialEq for ChartSeries {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl SimResult {
    /// Pretty JSON (deterministic for the same seed and data).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("SimResult serialises")
    }

    /// The metrics of model `name`.
    pub fn model(&self, name: &str) -> Option<&ModelMetrics> {
        self.models.iter().find(|m| m.model == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blank() -> ModelMetrics {
        ModelMetrics {
            model: "x".into(),
            ..ModelMetrics::default()
        }
    }

    #[test]
    fn track_by_hand() {
        let mut t = ModelTrack::default();
        // (required, oi, available, value, pnl)
        t.record(10, 100, 50, 100, 0);
        t.record(40, 100, 30, 120, 20);
        t.record(30, 400, 20, 60, -10); // loss 30 against 40 held: 0.75
        t.record(5, 10, 20, 90, -40); // loss 30 against 30 held: 1.0; OI 10 < mean/4
        let mut m = blank();
        t.finish_into(&mut m, 0, &[("w".into(), 1, 2)]);
        assert_eq!((m.required_peak_usd, m.required_avg_usd), (40, 21));
        assert_eq!((m.oi_peak_usd, m.oi_avg_usd), (400, 152));
        assert_eq!(m.capital_per_oi_peak, 0.1);
        assert_eq!(m.capital_per_oi_avg, 0.139344); // 85 / 610
        assert_eq!(m.capital_per_oi_worst_block, 0.4); // 40/100; the 5/10 block is below mean/4
        assert_eq!(m.shortfall_blocks, 2);
        assert_eq!(m.max_drawdown_bps, 5000); // 120 -> 60
        assert_eq!(
            m.crash_drawdowns,
            vec![WindowDrawdown {
                label: "w".into(),
                drawdown_bps: 5000
            }]
        );
        assert_eq!(m.worst_block_loss_usd, 30);
        assert_eq!(m.worst_block_loss_over_required, 1.0);
        assert_eq!(ratio6(1, 3), 0.333333);
        assert_eq!(ratio6(1, 0), 0.0);
    }
}
