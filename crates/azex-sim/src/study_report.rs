//! The capital study's Markdown report, headline lines and PNG charts.
//!
//! Charts (`<out>/study-*.png`): capital per $100M of peak OI at the safety criterion per design
//! and scenario (`study-capital.png`), each path's LP drawdown at that capital
//! (`study-drawdowns.png`), the adversaries' PnL per path (`study-attackers.png`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use plotters::prelude::*;

use crate::charts::{err, register_font, ChartError};
use crate::study::{DesignResult, ScenarioStudy, StudyResult};
use crate::units::fmt_usd;

fn m(v: f64) -> String {
    format!("${:.1}M", v / 1e6)
}

fn opt_m(v: Option<f64>) -> String {
    v.map_or("none".into(), m)
}

fn bps(v: u32) -> String {
    format!("{:.1} %", f64::from(v) / 100.0)
}

/// The figure of a design for the headline: per $100M of peak OI at zero bad debt, or (marked
/// with `*`) with drawdown only when bad debt cannot be avoided.
pub fn headline_cell(d: &DesignResult) -> String {
    match (
        d.solvent_capital_per_100m_peak_oi,
        d.capital_drawdown_only_per_100m_peak_oi,
    ) {
        (Some(v), _) => m(v),
        (None, Some(v)) => format!("{}*", m(v)),
        (None, None) => "none".into(),
    }
}

/// One line per scenario and block length: capital per $100M peak OI per design.
pub fn headline_lines(r: &StudyResult) -> Vec<String> {
    r.scenarios
        .iter()
        .map(|s| {
            let cells: Vec<String> = s
                .designs
                .iter()
                .map(|d| format!("{} {}", d.design, headline_cell(d)))
                .collect();
            format!(
                "{:<26} {:>5}s blocks | per $100M peak OI: {}",
                s.scenario,
                s.block_seconds,
                cells.join(", ")
            )
        })
        .collect()
}

/// The study as Markdown.
#[expect(
    clippy::cast_sign_loss,
    clippy::cast_possible_truncation,
    reason = "a median of imbalance figures in bps (0..=10000)"
)]
pub fn render(r: &StudyResult) -> String {
    let c = &r.config;
    let mut o = String::new();
    let _ = writeln!(o, "# Capital study\n");
    let _ = writeln!(
        o,
        "Data: {}. {} path(s) of {} days per scenario and block length (block bootstrap of {}-bar \
         blocks, {} jump(s) of the data's worst basket bar per path), {} agents (no LP agents), \
         reference vault ${}. Criterion: LP value never 0, max drawdown <= {}, extra refused/ADL \
         volume <= {} of opens, zero bad debt (`*`: not reachable, drawdown-only capital shown). \
         Peers' utilisation cap {}, GMX v2 reserve factor {}.\n",
        r.data,
        c.paths,
        c.path_days,
        c.bootstrap_block_bars,
        c.jumps_per_path,
        c.agents,
        c.reference_capital_usd,
        bps(c.drawdown_cap_bps),
        bps(c.service_tolerance_bps),
        bps(c.utilisation_cap_bps),
        bps(c.gmx_reserve_factor_bps),
    );
    for s in &r.skipped {
        let _ = writeln!(o, "- skipped: {s}");
    }
    let _ = writeln!(o, "\n## Capital per $100M of peak OI at equal safety\n");
    let names: Vec<&str> = r
        .scenarios
        .first()
        .map(|s| s.designs.iter().map(|d| d.design.as_str()).collect())
        .unwrap_or_default();
    let _ = writeln!(
        o,
        "| scenario | block | imbalance (median) | {} |",
        names.join(" | ")
    );
    let _ = writeln!(o, "|---|---|---|{}", "---|".repeat(names.len()));
    for s in &r.scenarios {
        let cells: Vec<String> = s.designs.iter().map(headline_cell).collect();
        let _ = writeln!(
            o,
            "| {} | {} s | {} | {} |",
            s.scenario,
            s.block_seconds,
            bps(s.imbalance_bps.median as u32),
            cells.join(" | ")
        );
    }
    for s in &r.scenarios {
        scenario_section(&mut o, s);
    }
    o
}

/// One scenario and block length: the chain mode (if any), the designs' table, the attackers.
#[expect(
    clippy::cast_possible_wrap,
    reason = "bad debt (micro-azUSD) is far below 2^127"
)]
fn scenario_section(o: &mut String, s: &ScenarioStudy) {
    let _ = writeln!(
        o,
        "\n## `{}`, {}-second blocks ({} paths of {} bars; {})\n",
        s.scenario, s.block_seconds, s.paths, s.bars_per_path, s.data
    );
    if let Some(k) = s.chain.as_ref().and_then(|c| c.control_substeps) {
        let _ = writeln!(
            o,
            "Control for the chain-resolution stress: the same windows ({}) and warm-up at {} \
             blocks per bar with the coarse conversion, no chain mode.\n",
            s.chain
                .as_ref()
                .map(|c| c.stress_bars.join(", "))
                .unwrap_or_default(),
            k
        );
    } else if let Some(c) = &s.chain {
        let _ = writeln!(
            o,
            "Chain-resolution stress: the data around its worst bar(s) {} replayed as they \
             happened; {} bar(s) at {}-s blocks ({} blocks) after a warm-up at {}-s blocks; \
             oracle bound and TWAP window as in production; keeper latency {} blocks, at most \
             {} keeper transactions per block; adversarial ordering {}.\n",
            c.stress_bars.join(", "),
            c.window_bars,
            s.block_seconds,
            c.chain_blocks_per_path,
            c.warmup_block_seconds,
            c.keeper_latency_blocks,
            c.keeper_txs_per_block,
            if c.adversarial_ordering { "on" } else { "off" },
        );
    }
    let _ = writeln!(
        o,
        "| design | solvent capital | per $100M peak OI | per $100M avg OI | drawdown-only per $100M peak | per path (median / p95 / worst) | formula per $100M peak / avg | bad debt (worst path) | max DD | DD p99 | paths with bad debt |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|---|---|---|---|---|");
    for d in &s.designs {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} / {} / {} | {} / {} | {} | {} | {} | {} / {} |",
            d.design,
            d.solvent_capital_usd.map_or("none".into(), |v| m(v as f64)),
            opt_m(d.solvent_capital_per_100m_peak_oi),
            opt_m(d.solvent_capital_per_100m_avg_oi),
            opt_m(d.capital_drawdown_only_per_100m_peak_oi),
            m(d.per_path_per_100m_peak_oi.median),
            m(d.per_path_per_100m_peak_oi.p95),
            m(d.per_path_per_100m_peak_oi.worst),
            m(d.formula_per_100m_peak_oi),
            m(d.formula_per_100m_avg_oi),
            fmt_usd(d.bad_debt_usd as i128),
            bps(d.lp_max_drawdown_bps),
            bps(d.lp_drawdown_p99_bps),
            d.paths_with_bad_debt,
            s.paths,
        );
    }
    if !s.attacker_pnl_usd.is_empty() {
        let _ = writeln!(o);
        for (k, v) in &s.attacker_pnl_usd {
            let _ = writeln!(
                o,
                "- {k}: {} over all paths (best path for the attacker {})",
                fmt_usd(*v),
                fmt_usd(s.attacker_best_path_pnl_usd.get(k).copied().unwrap_or(0))
            );
        }
    }
}

const COLORS: [RGBColor; 5] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
];

/// Writes the study's charts into `dir`; returns the files written.
#[expect(
    clippy::cast_possible_truncation,
    reason = "chart height from a handful of labels"
)]
pub fn write_charts(r: &StudyResult, dir: impl AsRef<Path>) -> Result<Vec<PathBuf>, ChartError> {
    register_font();
    let dir = dir.as_ref();
    std::fs::create_dir_all(dir)?;
    let mut files = Vec::new();
    if r.scenarios.is_empty() {
        return Ok(files);
    }
    let labels: Vec<String> = r
        .scenarios
        .iter()
        .map(|s| format!("{} {}s", s.scenario, s.block_seconds))
        .collect();
    let designs: Vec<String> = r.scenarios[0]
        .designs
        .iter()
        .map(|d| d.design.clone())
        .collect();
    let h = 140 + 40 * labels.len() as u32;

    // 1. capital per $100M of peak OI (worst path), per design: horizontal grouped bars
    let f = dir.join("study-capital.png");
    capital_chart(r, &f, &labels, &designs, h)?;
    files.push(f);

    // 2. per-path max drawdown at each path's capital
    let f = dir.join("study-drawdowns.png");
    drawdown_chart(r, &f, &labels, &designs, h)?;
    files.push(f);

    // 3. attackers' PnL (sum over paths) per kind and scenario
    if let Some(f) = attacker_chart(r, dir)? {
        files.push(f);
    }
    Ok(files)
}

/// Capital per $100M of peak OI (worst path), per design and scenario: horizontal grouped bars.
#[expect(
    clippy::cast_sign_loss,
    clippy::cast_possible_truncation,
    reason = "chart label index: checked ≥ 0 and in range first; a handful of labels"
)]
fn capital_chart(
    r: &StudyResult,
    f: &Path,
    labels: &[String],
    designs: &[String],
    h: u32,
) -> Result<(), ChartError> {
    let nd = designs.len().max(1);
    let root = BitMapBackend::new(f, (1100, h.max(400))).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let vals: Vec<Vec<f64>> = r
        .scenarios
        .iter()
        .map(|s| {
            s.designs
                .iter()
                .map(|d| {
                    d.solvent_capital_per_100m_peak_oi
                        .or(d.capital_drawdown_only_per_100m_peak_oi)
                        .unwrap_or(0.0)
                        / 1e6
                })
                .collect()
        })
        .collect();
    let bar_max = vals.iter().flatten().copied().fold(1.0, f64::max) * 1.05;
    let max = bar_max * 1.45;
    let n = labels.len();
    let mut ch = ChartBuilder::on(&root)
        .caption(
            "LP capital per $100M of peak OI at equal safety ($M; pale = bad debt on some path at every capital)",
            ("sans-serif", 16),
        )
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(20)
        .build_cartesian_2d(0f64..max, 0f64..n as f64)
        .map_err(err)?;
    let lab = labels.to_vec();
    ch.configure_mesh()
        .y_labels(n)
        .y_label_formatter(&move |y| {
            let i = (*y - 0.5).round();
            if i >= 0.0 && (i as usize) < lab.len() && (y - 0.5 - i).abs() < 1e-6 {
                lab[i as usize].clone()
            } else {
                String::new()
            }
        })
        .label_style(("sans-serif", 11))
        .draw()
        .map_err(err)?;
    ch.draw_series(labels.iter().enumerate().map(|(i, l)| {
        Text::new(
            l.clone(),
            (bar_max * 1.02, i as f64 + 0.5),
            ("sans-serif", 12),
        )
    }))
    .map_err(err)?;
    for (di, dn) in designs.iter().enumerate() {
        let c = COLORS[di % COLORS.len()];
        let bars: Vec<Rectangle<(f64, f64)>> = vals
            .iter()
            .enumerate()
            .map(|(si, v)| {
                let y0 = si as f64 + 0.1 + 0.8 * di as f64 / nd as f64;
                let y1 = y0 + 0.8 / nd as f64;
                let solvent = r.scenarios[si].designs[di]
                    .solvent_capital_per_100m_peak_oi
                    .is_some();
                Rectangle::new(
                    [(0.0, y0), (v[di], y1)],
                    c.mix(if solvent { 1.0 } else { 0.35 }).filled(),
                )
            })
            .collect();
        ch.draw_series(bars)
            .map_err(err)?
            .label(dn.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled()));
    }
    ch.configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 12))
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

/// Per-path max drawdown at each path's capital, per design and scenario, with the cap dashed.
#[expect(
    clippy::cast_sign_loss,
    clippy::cast_possible_truncation,
    reason = "chart label index: checked ≥ 0 and in range first; a handful of labels"
)]
fn drawdown_chart(
    r: &StudyResult,
    f: &Path,
    labels: &[String],
    designs: &[String],
    h: u32,
) -> Result<(), ChartError> {
    let nd = designs.len().max(1);
    let root = BitMapBackend::new(f, (1100, h.max(400))).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let n = labels.len();
    let mut ch = ChartBuilder::on(&root)
        .caption(
            "LP max drawdown per path at the design's capital (%; cap dashed)",
            ("sans-serif", 16),
        )
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(20)
        .build_cartesian_2d(0f64..145f64, 0f64..n as f64)
        .map_err(err)?;
    let lab = labels.to_vec();
    ch.configure_mesh()
        .y_labels(n)
        .y_label_formatter(&move |y| {
            let i = (*y - 0.5).round();
            if i >= 0.0 && (i as usize) < lab.len() && (y - 0.5 - i).abs() < 1e-6 {
                lab[i as usize].clone()
            } else {
                String::new()
            }
        })
        .label_style(("sans-serif", 11))
        .draw()
        .map_err(err)?;
    ch.draw_series(
        labels
            .iter()
            .enumerate()
            .map(|(i, l)| Text::new(l.clone(), (102.0, i as f64 + 0.5), ("sans-serif", 12))),
    )
    .map_err(err)?;
    let cap = f64::from(r.config.drawdown_cap_bps) / 100.0;
    ch.draw_series(DashedLineSeries::new(
        vec![(cap, 0.0), (cap, n as f64)],
        4,
        4,
        BLACK.stroke_width(1),
    ))
    .map_err(err)?;
    for (di, dn) in designs.iter().enumerate() {
        let c = COLORS[di % COLORS.len()];
        let pts: Vec<Circle<(f64, f64), i32>> = r
            .scenarios
            .iter()
            .enumerate()
            .flat_map(|(si, s)| {
                let y = si as f64 + 0.1 + 0.8 * (di as f64 + 0.5) / nd as f64;
                s.designs[di]
                    .paths
                    .iter()
                    .map(move |p| {
                        Circle::new((f64::from(p.max_drawdown_bps) / 100.0, y), 3, c.filled())
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        ch.draw_series(pts)
            .map_err(err)?
            .label(dn.as_str())
            .legend(move |(x, y)| Circle::new((x + 6, y), 4, c.filled()));
    }
    ch.configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 12))
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

/// Attackers' PnL (sum over paths) per kind and scenario; `None` when there were none.
#[expect(
    clippy::cast_sign_loss,
    clippy::cast_possible_truncation,
    reason = "chart label index: checked ≥ 0 and in range first; a handful of labels"
)]
fn attacker_chart(r: &StudyResult, dir: &Path) -> Result<Option<PathBuf>, ChartError> {
    let att: Vec<(String, f64)> = r
        .scenarios
        .iter()
        .flat_map(|s| {
            s.attacker_pnl_usd.iter().map(move |(k, v)| {
                (
                    format!("{} {}s {}", s.scenario, s.block_seconds, k),
                    *v as f64 / 1e12,
                )
            })
        })
        .collect();
    if att.is_empty() {
        return Ok(None);
    }
    let f = dir.join("study-attackers.png");
    {
        let root = BitMapBackend::new(&f, (1100, (140 + 40 * att.len() as u32).max(300)))
            .into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let lo = att.iter().map(|a| a.1).fold(0.0, f64::min) * 1.1 - 0.01;
        let hi = att.iter().map(|a| a.1).fold(0.0, f64::max) * 1.1 + 0.01;
        let n = att.len();
        let mut ch = ChartBuilder::on(&root)
            .caption(
                "Adversaries' PnL, sum over paths ($M; reference runs on the engine)",
                ("sans-serif", 16),
            )
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(20)
            .build_cartesian_2d(lo..(hi + (hi - lo) * 0.8), 0f64..n as f64)
            .map_err(err)?;
        let lab: Vec<String> = att.iter().map(|a| a.0.clone()).collect();
        ch.configure_mesh()
            .y_labels(n)
            .y_label_formatter(&move |y| {
                let i = (*y - 0.5).round();
                if i >= 0.0 && (i as usize) < lab.len() && (y - 0.5 - i).abs() < 1e-6 {
                    lab[i as usize].clone()
                } else {
                    String::new()
                }
            })
            .label_style(("sans-serif", 11))
            .draw()
            .map_err(err)?;
        ch.draw_series(att.iter().enumerate().map(|(i, (l, _))| {
            Text::new(
                l.clone(),
                (hi + (hi - lo) * 0.02, i as f64 + 0.5),
                ("sans-serif", 12),
            )
        }))
        .map_err(err)?;
        ch.draw_series(att.iter().enumerate().map(|(i, (_, v))| {
            let c = if *v > 0.0 { COLORS[1] } else { COLORS[0] };
            Rectangle::new([(0.0, i as f64 + 0.2), (*v, i as f64 + 0.8)], c.filled())
        }))
        .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(Some(f))
}
