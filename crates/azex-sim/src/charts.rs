//! PNG charts (plotters, bitmap backend). Text is drawn with the DejaVu Sans (ASCII subset)
//! font embedded in the crate (`assets/`, Bitstream Vera licence), registered through
//! plotters' `ab_glyph` backend: no system fonts or font libraries are needed.
//!
//! Per scenario: `<name>-prices.png` (data price vs mark, one panel per market),
//! `<name>-oi.png` (long/short open interest per market), `<name>-liquidity.png` (required vs
//! available capital per model), `<name>-nav.png` (LP value index and drawdown per model: AZEx
//! uses the vault's share price so LP deposits and withdrawals do not show as gains or losses).

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::prelude::*;

use crate::metrics::{ChartSeries, SimResult};
use crate::prices::format_timestamp;

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans-ASCII.ttf");
static REGISTER: Once = Once::new();

/// Why charts could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// A file or directory could not be written.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// The plotting backend failed.
    #[error("drawing: {0}")]
    Draw(String),
}

pub(crate) fn err<E: std::fmt::Debug>(e: E) -> ChartError {
    ChartError::Draw(format!("{e:?}"))
}

pub(crate) fn register_font() {
    REGISTER.call_once(|| {
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

const COLORS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
];

struct Line<'a> {
    name: &'a str,
    ys: &'a [f64],
    color: RGBColor,
}

#[expect(
    clippy::cast_sign_loss,
    clippy::cast_possible_truncation,
    reason = "axis label: a day offset from the first timestamp (a negative one saturates to 0)"
)]
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    xs: &[f64],
    t0: u64,
    lines: &[Line<'_>],
    y_fmt: &dyn Fn(&f64) -> String,
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for l in lines {
        for &y in l.ys {
            if y.is_finite() {
                lo = lo.min(y);
                hi = hi.max(y);
            }
        }
    }
    if !lo.is_finite() {
        lo = 0.0;
        hi = 1.0;
    }
    if hi <= lo {
        hi = lo + 1.0;
    }
    let pad = (hi - lo) * 0.05;
    let x_max = xs.last().copied().unwrap_or(1.0).max(1e-9);
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 16))
        .margin(8)
        .x_label_area_size(24)
        .y_label_area_size(80)
        .build_cartesian_2d(0f64..x_max, (lo - pad)..(hi + pad))
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_labels(6)
        .y_labels(5)
        .x_label_formatter(&|d| format_timestamp(t0 + (*d * 86_400.0) as u64)[..10].to_string())
        .y_label_formatter(y_fmt)
        .label_style(("sans-serif", 11))
        .draw()
        .map_err(err)?;
    for l in lines {
        let c = l.color;
        chart
            .draw_series(LineSeries::new(
                xs.iter().copied().zip(l.ys.iter().copied()),
                c.stroke_width(1),
            ))
            .map_err(err)?
            .label(l.name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 11))
        .draw()
        .map_err(err)?;
    Ok(())
}

fn money(v: &f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.1}B", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e3 {
        format!("{:.0}k", v / 1e3)
    } else {
        format!("{v:.2}")
    }
}

fn price(v: &f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

fn pct(v: &f64) -> String {
    format!("{:.0}%", v * 100.0)
}

fn ratio(v: &f64) -> String {
    format!("{v:.2}")
}

const MODEL_NAMES: [&str; 3] = ["AZEx", "Classic", "Reserve factor"];

/// Writes the scenario's charts into `dir` (created if needed); returns the files written.
#[expect(
    clippy::cast_possible_truncation,
    reason = "chart height: a handful of markets"
)]
pub fn write_charts(result: &SimResult, dir: impl AsRef<Path>) -> Result<Vec<PathBuf>, ChartError> {
    register_font();
    let dir = dir.as_ref();
    std::fs::create_dir_all(dir)?;
    let s = &result.series;
    let t0 = s.timestamps.first().copied().unwrap_or(0);
    let xs: Vec<f64> = s
        .timestamps
        .iter()
        .map(|&t| (t - t0) as f64 / 86_400.0)
        .collect();
    let name: String = result
        .scenario
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let syms = &result.data.symbols;
    let n = syms.len().max(1);
    let mut out = Vec::new();

    let ctx = ChartCtx { xs: &xs, t0 };

    let path = dir.join(format!("{name}-prices.png"));
    ctx.stacked(
        &path,
        240 * n as u32,
        n,
        s.data_price.len(),
        &|m| format!("{} - data price vs mark", syms[m]),
        &two_lines(
            ("data", &s.data_price, COLORS[0]),
            ("mark", &s.mark_price, COLORS[1]),
        ),
        &price,
    )?;
    out.push(path);

    let path = dir.join(format!("{name}-oi.png"));
    ctx.stacked(
        &path,
        240 * n as u32,
        n,
        s.long_oi.len(),
        &|m| format!("{} - open interest (USD)", syms[m]),
        &two_lines(
            ("long", &s.long_oi, COLORS[2]),
            ("short", &s.short_oi, COLORS[1]),
        ),
        &money,
    )?;
    out.push(path);

    let path = dir.join(format!("{name}-liquidity.png"));
    ctx.stacked(
        &path,
        720,
        3,
        s.required.len(),
        &|mi| format!("{} - required vs available capital (USD)", MODEL_NAMES[mi]),
        &two_lines(
            ("required", &s.required, COLORS[1]),
            ("available", &s.available, COLORS[0]),
        ),
        &money,
    )?;
    out.push(path);

    let path = dir.join(format!("{name}-nav.png"));
    ctx.nav(&path, s)?;
    out.push(path);
    Ok(out)
}

/// Per panel `m`: the lines `a.1[m]` and `b.1[m]`, named and coloured by `a` and `b`.
fn two_lines<'a>(
    a: (&'a str, &'a [Vec<f64>], RGBColor),
    b: (&'a str, &'a [Vec<f64>], RGBColor),
) -> impl Fn(usize) -> [Line<'a>; 2] {
    move |m| {
        [
            Line {
                name: a.0,
                ys: &a.1[m],
                color: a.2,
            },
            Line {
                name: b.0,
                ys: &b.1[m],
                color: b.2,
            },
        ]
    }
}

/// The time axis shared by a scenario's charts (days since `t0`).
struct ChartCtx<'a> {
    xs: &'a [f64],
    t0: u64,
}

impl ChartCtx<'_> {
    /// `count` panels stacked in a 1200 × `height` image, the first `limit` drawn: panel `i`
    /// titled `title(i)` with the two lines `lines(i)`.
    #[allow(clippy::too_many_arguments)]
    fn stacked<'l>(
        &self,
        path: &Path,
        height: u32,
        count: usize,
        limit: usize,
        title: &dyn Fn(usize) -> String,
        lines: &dyn Fn(usize) -> [Line<'l>; 2],
        y_fmt: &dyn Fn(&f64) -> String,
    ) -> Result<(), ChartError> {
        let root = BitMapBackend::new(path, (1200, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        for (m, area) in root.split_evenly((count, 1)).iter().enumerate() {
            if m >= limit {
                break;
            }
            panel(area, &title(m), self.xs, self.t0, &lines(m), y_fmt)?;
        }
        root.present().map_err(err)?;
        Ok(())
    }

    /// The LP value index and drawdown of the three models.
    fn nav(&self, path: &Path, s: &ChartSeries) -> Result<(), ChartError> {
        let (xs, t0) = (self.xs, self.t0);
        let root = BitMapBackend::new(path, (1200, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let areas = root.split_evenly((2, 1));
        let lines: Vec<Line<'_>> = s
            .value_index
            .iter()
            .enumerate()
            .map(|(i, ys)| Line {
                name: MODEL_NAMES[i],
                ys,
                color: COLORS[i],
            })
            .collect();
        panel(
            &areas[0],
            "LP value index (AZEx: vault share price; baselines: capital + LP PnL)",
            xs,
            t0,
            &lines,
            &ratio,
        )?;
        let lines: Vec<Line<'_>> = s
            .drawdown
            .iter()
            .enumerate()
            .map(|(i, ys)| Line {
                name: MODEL_NAMES[i],
                ys,
                color: COLORS[i],
            })
            .collect();
        panel(
            &areas[1],
            "Drawdown from peak (AZEx: share price)",
            xs,
            t0,
            &lines,
            &pct,
        )?;
        root.present().map_err(err)?;
        Ok(())
    }
}
