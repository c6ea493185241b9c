//! Markdown report: a summary across scenarios, then one section per scenario.

use std::fmt::Write as _;
use std::path::Path;

use crate::metrics::{ModelMetrics, SimResult};
use crate::prices::format_timestamp;
use crate::units::fmt_usd;

fn pct_bps(b: i64) -> String {
    format!(
        "{}{}.{:02}%",
        if b < 0 { "-" } else { "" },
        b.unsigned_abs() / 100,
        b.unsigned_abs() % 100
    )
}

#[expect(
    clippy::cast_possible_wrap,
    reason = "report amounts (micro-azUSD) are far below 2^127"
)]
fn usd_u(v: u128) -> String {
    format!("${}", fmt_usd(v as i128))
}

fn usd_i(v: i128) -> String {
    if v < 0 {
        format!("-${}", fmt_usd(-v))
    } else {
        format!("${}", fmt_usd(v))
    }
}

fn model_title(m: &str) -> &str {
    match m {
        "azex" => "AZEx (net exposure)",
        "classic" => "Classic peer-to-pool",
        "reserve_factor" => "Reserve-factor pool",
        other => other,
    }
}

/// Renders the report for several runs.
pub fn render_report(results: &[SimResult]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# AZEx simulation report\n");
    let _ = writeln!(
        s,
        "Capital required per dollar of open interest is the model's requirement divided by gross \
         open interest (longs + shorts); *avg* is the OI-weighted mean over blocks, *peak* the peak \
         requirement over the peak OI, *worst block* the highest ratio in any block with at least a \
         quarter of the mean OI. AZEx requires \
         `|L − S| × safety factor` per market; the classic pool `max(L, S)`; the reserve-factor \
         pool `max(L, S) / reserve factor`. All three see the same trades at the same prices.\n"
    );
    let _ = writeln!(s, "## Summary\n");
    let _ = writeln!(
        s,
        "| Scenario | Capital/OI avg: AZEx | Classic | Reserve factor | Max drawdown: AZEx | Classic | Reserve factor | LP return: AZEx | Classic | Reserve factor | AZEx bad debt | AZEx ADL volume | RF rejected volume |"
    );
    let _ = writeln!(
        s,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for r in results {
        let g = |n: &str| r.model(n);
        let cap = |n: &str| {
            g(n).map(|m| format!("{:.4}", m.capital_per_oi_avg))
                .unwrap_or_default()
        };
        let ret = |n: &str| g(n).map(|m| pct_bps(m.lp_return_bps)).unwrap_or_default();
        let dd = |n: &str| {
            g(n).map(|m| pct_bps(i64::from(m.max_drawdown_bps)))
                .unwrap_or_default()
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.scenario,
            cap("azex"),
            cap("classic"),
            cap("reserve_factor"),
            dd("azex"),
            dd("classic"),
            dd("reserve_factor"),
            ret("azex"),
            ret("classic"),
            ret("reserve_factor"),
            g("azex").map(|m| usd_u(m.bad_debt_usd)).unwrap_or_default(),
            g("azex")
                .map(|m| usd_u(m.adl_volume_usd))
                .unwrap_or_default(),
            g("reserve_factor")
                .map(|m| usd_u(m.rejected_volume_usd))
                .unwrap_or_default(),
        );
    }
    let _ = writeln!(
        s,
        "\n### Capital per $100M of open interest (the seeds' figure)\n\n\
         What AZEx requires for the open interest a fully backed (classic) pool would lock $100M \
         for, on the venue's own books: `Σ AZEx required / Σ Σ_m max(L_m, S_m)` over blocks, \
         the peak requirement over the peak classic requirement, and the bare net exposure \
         `Σ_m |L_m − S_m|` (safety factor 1, no stress term) on the same scale. Mean imbalance \
         is `Σ |L − S| / Σ (L + S)` over markets and blocks.\n"
    );
    let _ = writeln!(
        s,
        "| Scenario | AZEx per $100M (avg) | AZEx per $100M (peak) | Bare net per $100M | Mean imbalance | AZEx deficits | Liquidations |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|");
    for r in results {
        let h = &r.headline;
        let az = r.model("azex");
        let _ = writeln!(
            s,
            "| {} | ${:.1}M | ${:.1}M | ${:.1}M | {} | {} | {} |",
            r.scenario,
            h.azex_per_classic_avg * 100.0,
            h.azex_per_classic_peak * 100.0,
            h.net_per_classic_avg * 100.0,
            pct_bps(i64::from(h.imbalance_bps)),
            az.map(|m| usd_u(m.deficits_usd)).unwrap_or_default(),
            az.map(|m| m.liquidations.to_string()).unwrap_or_default(),
        );
    }
    for r in results {
        section(&mut s, r);
    }
    s
}

fn section(s: &mut String, r: &SimResult) {
    let _ = writeln!(s, "\n## Scenario `{}`\n", r.scenario);
    if !r.description.is_empty() {
        let _ = writeln!(s, "{}\n", r.description);
    }
    let d = &r.data;
    let _ = writeln!(
        s,
        "Venue: `{}`. Data: `{}`, {} from {} to {} UTC, {} bars of {} s × {} sub-steps = {} blocks. Seed {}.\n",
        r.venue,
        d.source,
        d.symbols.join(", "),
        d.first,
        d.last,
        d.bars,
        d.bar_seconds,
        d.substeps_per_bar,
        d.blocks,
        r.seed
    );
    if !r.venue_info.is_empty() {
        let facts: Vec<String> = r
            .venue_info
            .iter()
            .map(|(k, v)| format!("`{k}` = {v}"))
            .collect();
        let _ = writeln!(s, "Venue settings: {}.\n", facts.join(", "));
    }
    model_table(s, r);
    crash_table(s, r);
    market_table(s, r);
    agent_table(s, r);
}

/// The models side by side, one row per metric.
fn model_table(s: &mut String, r: &SimResult) {
    let ms: Vec<&ModelMetrics> = r.models.iter().collect();
    let _ = write!(s, "| Metric |");
    for m in &ms {
        let _ = write!(s, " {} |", model_title(&m.model));
    }
    let _ = writeln!(s);
    let _ = write!(s, "|---|");
    for _ in &ms {
        let _ = write!(s, "---:|");
    }
    let _ = writeln!(s);
    let mut row = |name: &str, f: &dyn Fn(&ModelMetrics) -> String| {
        let _ = write!(s, "| {name} |");
        for m in &ms {
            let _ = write!(s, " {} |", f(m));
        }
        let _ = writeln!(s);
    };
    row("Capital backing the model", &|m| usd_i(m.capital_usd));
    row("Required liquidity, peak", &|m| usd_u(m.required_peak_usd));
    row("Required liquidity, mean", &|m| usd_u(m.required_avg_usd));
    row("Gross OI, peak", &|m| usd_u(m.oi_peak_usd));
    row("Gross OI, mean", &|m| usd_u(m.oi_avg_usd));
    row("Capital per $ of OI, peak", &|m| {
        format!("{:.4}", m.capital_per_oi_peak)
    });
    row("Capital per $ of OI, avg", &|m| {
        format!("{:.4}", m.capital_per_oi_avg)
    });
    row("Capital per $ of OI, worst block", &|m| {
        format!("{:.4}", m.capital_per_oi_worst_block)
    });
    row("Blocks with requirement > capital", &|m| {
        m.shortfall_blocks.to_string()
    });
    row("Max drawdown", &|m| pct_bps(i64::from(m.max_drawdown_bps)));
    let labels: Vec<String> = ms
        .first()
        .map(|m| m.crash_drawdowns.iter().map(|w| w.label.clone()).collect())
        .unwrap_or_default();
    for (i, label) in labels.iter().enumerate() {
        row(&format!("Drawdown in {label}"), &|m| {
            m.crash_drawdowns
                .get(i)
                .map(|w| pct_bps(i64::from(w.drawdown_bps)))
                .unwrap_or_default()
        });
    }
    row("Worst one-block LP loss", &|m| {
        usd_i(m.worst_block_loss_usd)
    });
    row("Worst one-block loss / requirement held", &|m| {
        format!("{:.4}", m.worst_block_loss_over_required)
    });
    row("Deficits (loss beyond collateral)", &|m| {
        usd_u(m.deficits_usd)
    });
    row("Bad debt borne by LPs", &|m| usd_u(m.bad_debt_usd));
    row("ADL volume (count)", &|m| {
        format!("{} ({})", usd_u(m.adl_volume_usd), m.adl_count)
    });
    row("Liquidations (volume)", &|m| {
        format!("{} ({})", m.liquidations, usd_u(m.liquidation_volume_usd))
    });
    row("Fees to LPs", &|m| usd_u(m.fees_to_lp_usd));
    row("Funding to LPs", &|m| usd_i(m.funding_to_lp_usd));
    row("LP PnL", &|m| usd_i(m.lp_pnl_usd));
    row("LP return", &|m| pct_bps(m.lp_return_bps));
    row("Opens rejected for capital (volume)", &|m| {
        format!("{} ({})", m.rejected_opens, usd_u(m.rejected_volume_usd))
    });
}

/// The crash windows, if any.
fn crash_table(s: &mut String, r: &SimResult) {
    let d = &r.data;
    if !r.crash_windows.is_empty() {
        let _ = writeln!(
            s,
            "\nCrash windows (basket = equal-weight mean of normalised closes):\n"
        );
        let _ = writeln!(
            s,
            "| Window | Kind | From | To | Basket decline | Per symbol |"
        );
        let _ = writeln!(s, "|---|---|---|---|---:|---|");
        for w in &r.crash_windows {
            let per: Vec<String> = d
                .symbols
                .iter()
                .zip(&w.symbol_drawdown_bps)
                .map(|(sym, b)| format!("{sym} {}", pct_bps(i64::from(*b))))
                .collect();
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                w.label,
                w.kind,
                format_timestamp(w.start_ts),
                format_timestamp(w.end_ts),
                pct_bps(i64::from(w.basket_drawdown_bps)),
                per.join(", ")
            );
        }
    }
}

fn market_table(s: &mut String, r: &SimResult) {
    let _ = writeln!(s, "\nMarkets:\n");
    let _ = writeln!(s, "| Market | First | Last | Peak long OI | Peak short OI | Mean imbalance | Final long OI | Final short OI |");
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---:|");
    for m in &r.markets {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            m.symbol,
            m.first_price,
            m.last_price,
            usd_u(m.peak_long_oi_usd),
            usd_u(m.peak_short_oi_usd),
            pct_bps(i64::from(m.avg_imbalance_bps)),
            usd_u(m.final_long_oi_usd),
            usd_u(m.final_short_oi_usd)
        );
    }
}

/// The agents per kind, then the action counts.
fn agent_table(s: &mut String, r: &SimResult) {
    let _ = writeln!(s, "\nAgents:\n");
    let _ = writeln!(
        s,
        "| Kind | Count | Activations | Actions | Accepted | PnL |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|");
    for a in &r.agents {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            a.kind,
            a.count,
            a.activations,
            a.actions,
            a.accepted,
            usd_i(a.pnl_usd)
        );
    }
    let rej: Vec<String> = r
        .actions
        .rejected
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let _ = writeln!(
        s,
        "\nActions: {} submitted, {} accepted, rejected: {}; {} skipped (nothing to refer to). Arbitrageur PnL {}.",
        r.actions.submitted,
        r.actions.accepted,
        if rej.is_empty() { "none".to_string() } else { rej.join(", ") },
        r.actions.skipped,
        usd_i(r.arbitrageur_pnl_usd)
    );
}

/// Writes [`render_report`] to `path`.
pub fn write_report(results: &[SimResult], path: impl AsRef<Path>) -> std::io::Result<()> {
    std::fs::write(path, render_report(results))
}
