//! Historical price input: loading, validation, alignment, intrabar paths and crash windows.
//!
//! # Input format
//! Any CSV (plain, or gzip when the file name ends in `.gz`) whose header contains
//! `timestamp` (or `timestamp_utc`), `symbol` and `close`; `open`, `high`, `low` and `volume` are
//! optional (either all of `open,high,low` or none; `volume` is accepted and not used). Header
//! names are case-insensitive; column order and extra columns are free.
//! Rows may be in "long" format with several symbols interleaved or in blocks.
//!
//! Timestamps: integer Unix seconds (integers above 1e11 are taken as milliseconds and must be
//! whole seconds), or UTC `YYYY-MM-DD HH:MM:SS`, `YYYY-MM-DDTHH:MM:SS` (optional trailing `Z`),
//! or `YYYY-MM-DD`. A timestamp is the **open** time of the bar.
//!
//! Prices are parsed from their decimal text straight into WAD integers (1e18 = 1 USD per
//! token), exactly, rounding half up at the 18th decimal: no float ever touches an input price.
//!
//! # Validation (errors carry the CSV line number)
//! - required columns present; every price parses and lies in
//!   [`MIN_PRICE_WAD`]..=[`MAX_PRICE_WAD`] (1e-8 to 1e9 USD per token: the unit conversions
//!   between USD amounts and token sizes stay exact within 128 bits for every amount the
//!   simulator allows);
//! - timestamps at most [`MAX_TIMESTAMP`] (9999-12-31 23:59:59 UTC); at most [`MAX_SYMBOLS`]
//!   symbols;
//! - per symbol, timestamps strictly increasing in file order (a repeat is a `Duplicate` error
//!   naming both lines, a step back is `Unsorted`);
//! - OHLC consistency is repaired, not rejected: `high` is raised to `max(open, close)` and `low`
//!   lowered to `min(open, close)` when the source violates it; the count is reported.
//!
//! # Time grid and gaps
//! The common grid is the sorted union of all symbols' timestamps inside the common range
//! `[latest first timestamp, earliest last timestamp]` (rows outside it are dropped). A symbol
//! without a bar at a grid time gets a flat bar at its previous close (O=H=L=C), counted in
//! [`PriceSeries::filled`]. The real data set has a few dozen such gaps of 1–4 bars per symbol.
//!
//! # Intrabar path
//! See [`intrabar_path`]: each bar becomes `k` sub-steps; anchors O → X → Y → C with
//! (X, Y) = (H, L) when `close < open` (a down bar is assumed to have gone up first) and (L, H)
//! otherwise; between anchors the price is linear in log-price. Files with only `close` get
//! `open` = previous close (first bar: its close), `high`/`low` = max/min of the two.

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::units::{parse_decimal_wad, WAD};

/// Lowest price accepted in a price file: 1e-8 USD per token (WAD).
pub const MIN_PRICE_WAD: u128 = 10_000_000_000;
/// Highest price accepted in a price file: 1e9 USD per token (WAD).
pub const MAX_PRICE_WAD: u128 = 1_000_000_000 * WAD;
/// Latest timestamp accepted: 9999-12-31 23:59:59 UTC.
pub const MAX_TIMESTAMP: u64 = 253_402_300_799;
/// Most symbols in a price file.
pub const MAX_SYMBOLS: usize = 1_000;

/// One bar, all prices in WAD.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bar {
    /// Open price (WAD).
    pub open: u128,
    /// High price (WAD).
    pub high: u128,
    /// Low price (WAD).
    pub low: u128,
    /// Close price (WAD).
    pub close: u128,
}

impl Bar {
    /// A bar whose four prices are `p` (WAD).
    pub fn flat(p: u128) -> Bar {
        Bar {
            open: p,
            high: p,
            low: p,
            close: p,
        }
    }
}

/// Prices of several symbols on one common time grid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriceSeries {
    /// Where the data came from (file name or a label), for reports.
    pub source: String,
    /// Symbols, sorted (byte order), so the same data in any row order gives the same series.
    pub symbols: Vec<String>,
    /// Bar open times, Unix seconds, strictly increasing.
    pub timestamps: Vec<u64>,
    /// `bars[symbol][t]`.
    pub bars: Vec<Vec<Bar>>,
    /// Per symbol, how many grid bars were forward-filled.
    pub filled: Vec<u32>,
    /// Per symbol, the grid indexes of those bars (ascending).
    pub filled_at: Vec<Vec<u32>>,
    /// Per symbol, how many bars had inconsistent OHLC that was repaired (in the loaded file).
    pub repaired: Vec<u32>,
    /// Whether the input had open/high/low columns.
    pub has_ohlc: bool,
}

/// Errors from loading prices. Line numbers are 1-based CSV lines (the header is line 1).
#[derive(Debug, thiserror::Error)]
pub enum PriceError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The CSV reader failed.
    #[error("line {line}: CSV error: {msg}")]
    Csv {
        /// CSV line.
        line: u64,
        /// The reader's message.
        msg: String,
    },
    /// A required column is not in the header.
    #[error("missing required column `{0}` in the header")]
    MissingColumn(String),
    /// Some but not all of open/high/low.
    #[error("the header has some but not all of open/high/low; give all three or none")]
    PartialOhlc,
    /// A value that does not parse or is out of range.
    #[error("line {line}: column `{column}`: {reason} (value {value:?})")]
    BadValue {
        /// CSV line.
        line: u64,
        /// The column.
        column: String,
        /// The value as written.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Two rows for the same symbol and time.
    #[error("line {line}: duplicate bar for {symbol} at {timestamp} (first at line {first_line})")]
    Duplicate {
        /// CSV line of the second row.
        line: u64,
        /// CSV line of the first row.
        first_line: u64,
        /// The symbol.
        symbol: String,
        /// The bar's time (unix seconds).
        timestamp: u64,
    },
    /// A symbol's rows out of time order.
    #[error("line {line}: {symbol} timestamp {timestamp} is before the previous one {previous} (rows must be sorted by time per symbol)")]
    Unsorted {
        /// CSV line.
        line: u64,
        /// The symbol.
        symbol: String,
        /// This row's time (unix seconds).
        timestamp: u64,
        /// The previous row's time (unix seconds).
        previous: u64,
    },
    /// The file has no data rows.
    #[error("no data rows")]
    Empty,
    /// No time range common to every symbol.
    #[error("symbols do not overlap in time: latest start {start} is after earliest end {end}")]
    NoCommonRange {
        /// Latest first timestamp over symbols (unix seconds).
        start: u64,
        /// Earliest last timestamp over symbols (unix seconds).
        end: u64,
    },
}

/// Loads prices from a file; `.gz` (case-insensitive) is decompressed.
pub fn load_prices(path: impl AsRef<Path>) -> Result<PriceSeries, PriceError> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| PriceError::Io {
        path: name.clone(),
        source: e,
    })?;
    let reader = std::io::BufReader::with_capacity(1 << 16, file);
    let label = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| name.clone());
    if name.to_ascii_lowercase().ends_with(".gz") {
        parse_prices(flate2::read::MultiGzDecoder::new(reader), &label)
    } else {
        parse_prices(reader, &label)
    }
}

/// The shipped data set (`data/` at the workspace root), compiled into the library so that it
/// loads from any working directory (3.8 MB of gzip).
pub static DEFAULT_DATA: &[u8] = include_bytes!(
    "../../../data/gymcrypto_30m_BTC-ETH-LTC-XRP-EOS_USD_2017-10-01_to_2019-10-01.csv.gz"
);

/// Loads the shipped data set (BTC, ETH, LTC, XRP, EOS; 30-minute bars, 2017-10-01 to
/// 2019-10-01) from the bytes compiled into the library.
pub fn load_default_prices() -> Result<PriceSeries, PriceError> {
    parse_prices(
        flate2::read::MultiGzDecoder::new(DEFAULT_DATA),
        DEFAULT_DATA_FILE,
    )
}

/// Path of the shipped data in the source tree (`data/` at the workspace root).
pub fn default_data_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data")
        .join(DEFAULT_DATA_FILE)
}

/// File name of the shipped data set.
pub const DEFAULT_DATA_FILE: &str =
    "gymcrypto_30m_BTC-ETH-LTC-XRP-EOS_USD_2017-10-01_to_2019-10-01.csv.gz";

struct RawRow {
    ts: u64,
    line: u64,
    bar: Bar,
}

/// The CSV columns the parser reads.
#[derive(Clone, Copy)]
struct Columns {
    ts: usize,
    sym: usize,
    close: usize,
    /// Open, high and low, when the file has all three.
    ohlc: Option<(usize, usize, usize)>,
}

impl Columns {
    fn find(headers: &csv::StringRecord) -> Result<Self, PriceError> {
        let find = |names: &[&str]| {
            headers
                .iter()
                .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
        };
        let ts = find(&["timestamp", "timestamp_utc"])
            .ok_or_else(|| PriceError::MissingColumn("timestamp".into()))?;
        let sym = find(&["symbol"]).ok_or_else(|| PriceError::MissingColumn("symbol".into()))?;
        let close = find(&["close"]).ok_or_else(|| PriceError::MissingColumn("close".into()))?;
        let ohlc = match (find(&["open"]), find(&["high"]), find(&["low"])) {
            (Some(o), Some(h), Some(l)) => Some((o, h, l)),
            (None, None, None) => None,
            _ => return Err(PriceError::PartialOhlc),
        };
        Ok(Columns {
            ts,
            sym,
            close,
            ohlc,
        })
    }
}

/// Rows per symbol, as read (symbol order fixed later by sorting).
type RowsBySymbol = std::collections::BTreeMap<String, Vec<RawRow>>;

/// Parses CSV text from any reader. `source` labels the data in reports.
pub fn parse_prices<R: Read>(reader: R, source: &str) -> Result<PriceSeries, PriceError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(reader);
    let headers = rdr
        .headers()
        .map_err(|e| PriceError::Csv {
            line: 1,
            msg: e.to_string(),
        })?
        .clone();
    let cols = Columns::find(&headers)?;
    let by_symbol = read_rows(&mut rdr, cols)?;
    if by_symbol.is_empty() {
        return Err(PriceError::Empty);
    }
    align_rows(by_symbol, cols.ohlc.is_some(), source)
}

/// Reads every record, checking values, the symbol count and each symbol's time order.
fn read_rows<R: Read>(rdr: &mut csv::Reader<R>, cols: Columns) -> Result<RowsBySymbol, PriceError> {
    let mut by_symbol = RowsBySymbol::new();
    let mut record = csv::StringRecord::new();
    loop {
        let more = rdr.read_record(&mut record).map_err(|e| PriceError::Csv {
            line: e.position().map(|p| p.line()).unwrap_or(0),
            msg: e.to_string(),
        })?;
        if !more {
            break;
        }
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let (ts, sym, bar) = parse_row(&record, cols, line)?;
        if !by_symbol.contains_key(sym) && by_symbol.len() >= MAX_SYMBOLS {
            return Err(PriceError::BadValue {
                line,
                column: "symbol".into(),
                value: sym.into(),
                reason: format!("more than {MAX_SYMBOLS} symbols"),
            });
        }
        let rows = by_symbol.entry(sym.to_string()).or_default();
        check_order(rows, ts, line, sym)?;
        rows.push(RawRow { ts, line, bar });
    }
    Ok(by_symbol)
}

/// One record's timestamp, symbol and bar (a flat bar at the close when the file has no OHLC;
/// open, high and low are filled in after sorting).
fn parse_row(
    record: &csv::StringRecord,
    cols: Columns,
    line: u64,
) -> Result<(u64, &str, Bar), PriceError> {
    let get = |c: usize, name: &str| -> Result<&str, PriceError> {
        record.get(c).ok_or_else(|| PriceError::BadValue {
            line,
            column: name.into(),
            value: String::new(),
            reason: "missing field".into(),
        })
    };
    let ts_s = get(cols.ts, "timestamp")?;
    let ts = parse_timestamp(ts_s)
        .and_then(|t| {
            if t > MAX_TIMESTAMP {
                Err("timestamp after 9999-12-31".to_string())
            } else {
                Ok(t)
            }
        })
        .map_err(|reason| PriceError::BadValue {
            line,
            column: "timestamp".into(),
            value: ts_s.into(),
            reason,
        })?;
    let sym = get(cols.sym, "symbol")?;
    if sym.is_empty() {
        return Err(PriceError::BadValue {
            line,
            column: "symbol".into(),
            value: String::new(),
            reason: "empty symbol".into(),
        });
    }
    let price = |c: usize, name: &str| -> Result<u128, PriceError> {
        parse_price(get(c, name)?, name, line)
    };
    let close = price(cols.close, "close")?;
    let bar = match cols.ohlc {
        Some((o, h, l)) => Bar {
            open: price(o, "open")?,
            high: price(h, "high")?,
            low: price(l, "low")?,
            close,
        },
        None => Bar::flat(close),
    };
    Ok((ts, sym, bar))
}

/// A price field: a positive decimal inside the supported range.
fn parse_price(v: &str, column: &str, line: u64) -> Result<u128, PriceError> {
    let bad = |reason: String| PriceError::BadValue {
        line,
        column: column.into(),
        value: v.into(),
        reason,
    };
    let p = parse_decimal_wad(v).map_err(bad)?;
    if p == 0 {
        return Err(bad("price must be positive".into()));
    }
    if !(MIN_PRICE_WAD..=MAX_PRICE_WAD).contains(&p) {
        return Err(bad(
            "price outside the supported range 1e-8 to 1e9 USD".into()
        ));
    }
    Ok(p)
}

/// A row at `ts` may follow `rows` only if it is later than the last one (a duplicate is
/// reported as such even further back).
fn check_order(rows: &[RawRow], ts: u64, line: u64, sym: &str) -> Result<(), PriceError> {
    let Some(prev) = rows.last() else {
        return Ok(());
    };
    if ts == prev.ts {
        return Err(PriceError::Duplicate {
            line,
            first_line: prev.line,
            symbol: sym.into(),
            timestamp: ts,
        });
    }
    if ts < prev.ts {
        // A duplicate further back is still reported as a duplicate.
        if let Ok(i) = rows.binary_search_by_key(&ts, |r| r.ts) {
            return Err(PriceError::Duplicate {
                line,
                first_line: rows[i].line,
                symbol: sym.into(),
                timestamp: ts,
            });
        }
        return Err(PriceError::Unsorted {
            line,
            symbol: sym.into(),
            timestamp: ts,
            previous: prev.ts,
        });
    }
    Ok(())
}

/// Puts every symbol on the common time grid (the union of timestamps inside the range all
/// symbols cover), filling gaps with flat bars at the last close.
#[expect(
    clippy::cast_possible_truncation,
    reason = "at most MAX_SYMBOLS symbols and in-memory bar counts"
)]
fn align_rows(
    by_symbol: RowsBySymbol,
    has_ohlc: bool,
    source: &str,
) -> Result<PriceSeries, PriceError> {
    let start = by_symbol.values().map(|r| r[0].ts).max().unwrap();
    let end = by_symbol
        .values()
        .map(|r| r.last().unwrap().ts)
        .min()
        .unwrap();
    if start > end {
        return Err(PriceError::NoCommonRange { start, end });
    }
    let mut grid: Vec<u64> = by_symbol
        .values()
        .flat_map(|rows| rows.iter().map(|r| r.ts))
        .filter(|&t| t >= start && t <= end)
        .collect();
    grid.sort_unstable();
    grid.dedup();

    let symbols: Vec<String> = by_symbol.keys().cloned().collect();
    let mut bars = Vec::with_capacity(symbols.len());
    let mut filled = Vec::with_capacity(symbols.len());
    let mut filled_at = Vec::with_capacity(symbols.len());
    let mut repaired = Vec::with_capacity(symbols.len());
    for rows in by_symbol.values() {
        let (out, at, nrep) = align_symbol(rows, &grid, start, has_ohlc)?;
        bars.push(out);
        filled.push(at.len() as u32);
        filled_at.push(at);
        repaired.push(nrep);
    }
    Ok(PriceSeries {
        source: source.to_string(),
        symbols,
        timestamps: grid,
        bars,
        filled,
        filled_at,
        repaired,
        has_ohlc,
    })
}

/// One symbol's bars on `grid`, the grid indices it had no row at (filled), and how many bars'
/// high/low were widened to contain open and close (repaired).
#[expect(
    clippy::cast_possible_truncation,
    reason = "grid indexes of an in-memory series"
)]
fn align_symbol(
    rows: &[RawRow],
    grid: &[u64],
    start: u64,
    has_ohlc: bool,
) -> Result<(Vec<Bar>, Vec<u32>, u32), PriceError> {
    let mut out = Vec::with_capacity(grid.len());
    let mut at: Vec<u32> = Vec::new();
    let mut nrep = 0u32;
    let mut i = rows.partition_point(|r| r.ts < start);
    let mut prev_close: Option<u128> = None;
    let before = i.checked_sub(1).map(|j| rows[j].bar.close);
    for (gi, &t) in grid.iter().enumerate() {
        if i < rows.len() && rows[i].ts == t {
            let mut b = rows[i].bar;
            if !has_ohlc {
                b.open = prev_close.unwrap_or(b.close);
                b.high = b.open.max(b.close);
                b.low = b.open.min(b.close);
            } else {
                let hi = b.open.max(b.close);
                let lo = b.open.min(b.close);
                if b.high < hi || b.low > lo {
                    nrep += 1;
                    b.high = b.high.max(hi);
                    b.low = b.low.min(lo);
                }
            }
            prev_close = Some(b.close);
            out.push(b);
            i += 1;
        } else {
            // A gap: the last close at or before `t`, which exists because the grid starts
            // at or after this symbol's first bar (possibly a row before the common range,
            // which is dropped but still carries the price into the range).
            let p = prev_close.or(before).ok_or_else(|| PriceError::Csv {
                line: 0,
                msg: "no price before the common range".into(),
            })?;
            out.push(Bar::flat(p));
            at.push(gi as u32);
        }
    }
    Ok((out, at, nrep))
}

impl PriceSeries {
    /// Number of bars (timestamps).
    pub fn len(&self) -> usize {
        self.timestamps.len()
    }

    /// No bars.
    pub fn is_empty(&self) -> bool {
        self.timestamps.is_empty()
    }

    /// Index of a symbol.
    pub fn symbol_index(&self, symbol: &str) -> Option<usize> {
        self.symbols.iter().position(|s| s == symbol)
    }

    /// Duration of bar `t` in seconds: the gap to the next bar; the last bar repeats the
    /// previous gap (1 hour for a single-bar series).
    pub fn bar_seconds(&self, t: usize) -> u64 {
        if t + 1 < self.timestamps.len() {
            self.timestamps[t + 1] - self.timestamps[t]
        } else if t > 0 {
            self.timestamps[t] - self.timestamps[t - 1]
        } else {
            3600
        }
    }

    /// The most common bar duration (seconds).
    pub fn typical_bar_seconds(&self) -> u64 {
        let mut d: Vec<u64> = self.timestamps.windows(2).map(|w| w[1] - w[0]).collect();
        if d.is_empty() {
            return 3600;
        }
        d.sort_unstable();
        let (mut best, mut best_n, mut i) = (d[0], 0, 0);
        while i < d.len() {
            let j = d[i..].partition_point(|&x| x == d[i]) + i;
            if j - i > best_n {
                best = d[i];
                best_n = j - i;
            }
            i = j;
        }
        best
    }

    /// Keeps bars with `from <= t < to` (either bound optional) and at most `max_bars` bars.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "bar indexes of an in-memory series"
    )]
    pub fn slice(
        &self,
        from: Option<u64>,
        to: Option<u64>,
        max_bars: Option<usize>,
    ) -> PriceSeries {
        let a = from
            .map(|f| self.timestamps.partition_point(|&t| t < f))
            .unwrap_or(0);
        let mut b = to
            .map(|e| self.timestamps.partition_point(|&t| t < e))
            .unwrap_or(self.len());
        if let Some(m) = max_bars {
            b = b.min(a + m);
        }
        let b = b.max(a);
        let filled_at: Vec<Vec<u32>> = self
            .filled_at
            .iter()
            .map(|v| {
                v.iter()
                    .filter(|&&i| (i as usize) >= a && (i as usize) < b)
                    .map(|&i| i - a as u32)
                    .collect()
            })
            .collect();
        PriceSeries {
            source: self.source.clone(),
            symbols: self.symbols.clone(),
            timestamps: self.timestamps[a..b].to_vec(),
            bars: self.bars.iter().map(|v| v[a..b].to_vec()).collect(),
            filled: filled_at.iter().map(|v| v.len() as u32).collect(),
            filled_at,
            repaired: self.repaired.clone(),
            has_ohlc: self.has_ohlc,
        }
    }

    /// Keeps only the named symbols (in the series' own order). Unknown names are an error.
    pub fn select(&self, symbols: &[String]) -> Result<PriceSeries, String> {
        let mut idx = Vec::new();
        for s in symbols {
            idx.push(
                self.symbol_index(s)
                    .ok_or_else(|| format!("unknown symbol {s}"))?,
            );
        }
        idx.sort_unstable();
        idx.dedup();
        Ok(PriceSeries {
            source: self.source.clone(),
            symbols: idx.iter().map(|&i| self.symbols[i].clone()).collect(),
            timestamps: self.timestamps.clone(),
            bars: idx.iter().map(|&i| self.bars[i].clone()).collect(),
            filled: idx.iter().map(|&i| self.filled[i]).collect(),
            filled_at: idx.iter().map(|&i| self.filled_at[i].clone()).collect(),
            repaired: idx.iter().map(|&i| self.repaired[i]).collect(),
            has_ohlc: self.has_ohlc,
        })
    }
}

/// The `k` sub-step prices of one bar (WAD), the last one being the close.
///
/// Anchors: O at sub-step 0 (the bar's start, not emitted), X at `ix`, Y at `iy`, C at `k`, with
/// `(X, Y) = (H, L)` if `close < open` else `(L, H)`, `ix = round(k/3)`, `iy = round(2k/3)`
/// (so both extremes are visited exactly for every `k >= 3`; `k = 2` gives `[X, C]`, `k = 1`
/// gives `[C]`). Between two anchors A (at a) and B (at b) sub-step i is
/// `A * exp((i-a)/(b-a) * ln(B/A))` evaluated with the pure-Rust `libm` (identical bits on every
/// IEEE-754 machine) and rounded to the nearest WAD unit; anchors themselves are exact. An
/// interpolated price carries f64's ~15–16 significant digits.
pub fn intrabar_path(bar: &Bar, k: u32) -> Vec<u128> {
    let mut out = Vec::with_capacity(k as usize);
    intrabar_path_into(bar, k, &mut out);
    out
}

/// As [`intrabar_path`], appending into `out` (cleared first).
pub fn intrabar_path_into(bar: &Bar, k: u32, out: &mut Vec<u128>) {
    out.clear();
    let k = k.max(1);
    let (x, y) = if bar.close < bar.open {
        (bar.high, bar.low)
    } else {
        (bar.low, bar.high)
    };
    if k == 1 {
        out.push(bar.close);
        return;
    }
    if k == 2 {
        out.push(x);
        out.push(bar.close);
        return;
    }
    let ix = (k + 1) / 3;
    let iy = ((2 * k + 1) / 3).max(ix + 1).min(k - 1);
    let anchors = [(0u32, bar.open), (ix, x), (iy, y), (k, bar.close)];
    for i in 1..=k {
        let seg = anchors.windows(2).find(|w| i <= w[1].0).expect("i <= k");
        let (a, pa) = seg[0];
        let (b, pb) = seg[1];
        out.push(if i == b {
            pb
        } else {
            log_interp(pa, pb, i - a, b - a)
        });
    }
}

#[expect(
    clippy::cast_sign_loss,
    clippy::cast_possible_truncation,
    reason = "v is the rounded log-linear interpolation between two positive WAD prices (finite, ≥ 0)"
)]
fn log_interp(pa: u128, pb: u128, num: u32, den: u32) -> u128 {
    if pa == pb {
        return pa;
    }
    let t = f64::from(num) / f64::from(den);
    let r = libm::exp(t * libm::log(pb as f64 / pa as f64));
    let v = libm::floor(pa as f64 * r + 0.5);
    (v as u128).max(1)
}

/// A period of falling prices, for per-crash drawdown reporting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrashWindow {
    /// Name in reports.
    pub label: String,
    /// `"detected"` (largest basket declines) or `"fixed"` (documented calendar windows).
    pub kind: String,
    /// Open of the first bar (unix seconds); the window runs to `end_ts`, inclusive.
    pub start_ts: u64,
    /// Close (open + duration) of the last bar (unix seconds).
    pub end_ts: u64,
    /// Peak-to-trough decline of the equal-weight basket inside the window, bps.
    pub basket_drawdown_bps: u32,
    /// Per symbol (series order), peak-to-trough decline inside the window, bps.
    pub symbol_drawdown_bps: Vec<u32>,
}

/// Equal-weight basket index: mean over symbols of close / first close, WAD.
pub fn basket_index(series: &PriceSeries) -> Vec<u128> {
    let n = series.symbols.len().max(1) as u128;
    (0..series.len())
        .map(|t| {
            series
                .bars
                .iter()
                .map(|b| crate::units::mul_div_floor(b[t].close, WAD, b[0].close))
                .fold(0u128, u128::saturating_add)
                / n
        })
        .collect()
}

/// Largest peak-to-trough decline (bps) of `v[a..=b]`, with the peak before the trough.
#[expect(
    clippy::cast_possible_truncation,
    reason = "the decline is at most 10000 bps"
)]
pub fn max_decline_bps(v: &[u128]) -> u32 {
    let mut peak = 0u128;
    let mut best = 0u128;
    for &x in v {
        peak = peak.max(x);
        if peak > 0 {
            best = best.max(crate::units::mul_div_floor(peak - x, 10_000, peak));
        }
    }
    best as u32
}

/// Detects the `count` largest basket declines whose peak lies at most `horizon_bars` before
/// the trough, pairwise separated by at least `horizon_bars / 2` bars.
///
/// For every bar j the peak is the highest basket value in `[j - horizon, j]` (a sliding-window
/// maximum, O(n)); candidates are ranked by decline (ties: earlier first) and taken greedily.
/// Windows run from the peak bar's open to the trough bar's close (its open + its duration), so
/// the blocks of the trough bar are inside the window. Labels are `"crash-1"`, ... in
/// chronological order.
#[expect(
    clippy::cast_possible_truncation,
    reason = "the decline is at most 10000 bps"
)]
pub fn detect_crash_windows(
    series: &PriceSeries,
    horizon_bars: usize,
    count: usize,
) -> Vec<CrashWindow> {
    let n = series.len();
    if n < 2 || count == 0 {
        return Vec::new();
    }
    let idx = basket_index(series);
    let h = horizon_bars.max(1);
    // (decline_bps, peak, trough)
    let mut cands: Vec<(u32, usize, usize)> = Vec::with_capacity(n);
    let mut dq: std::collections::VecDeque<usize> = Default::default();
    for j in 0..n {
        while let Some(&b) = dq.back() {
            if idx[b] <= idx[j] {
                dq.pop_back();
            } else {
                break;
            }
        }
        dq.push_back(j);
        while let Some(&f) = dq.front() {
            if f + h < j {
                dq.pop_front();
            } else {
                break;
            }
        }
        let p = *dq.front().unwrap();
        if p < j && idx[p] > idx[j] {
            let d = crate::units::mul_div_floor(idx[p] - idx[j], 10_000, idx[p]) as u32;
            cands.push((d, p, j));
        }
    }
    cands.sort_by(|a, b| b.0.cmp(&a.0).then(a.2.cmp(&b.2)));
    let sep = h / 2;
    let mut chosen: Vec<(u32, usize, usize)> = Vec::new();
    for c in cands {
        if chosen.len() >= count {
            break;
        }
        let ok = chosen
            .iter()
            .all(|&(_, p, j)| c.2 + sep < p || j + sep < c.1);
        if ok {
            chosen.push(c);
        }
    }
    chosen.sort_by_key(|c| c.1);
    chosen
        .iter()
        .enumerate()
        .map(|(i, &(d, p, j))| CrashWindow {
            label: format!("crash-{}", i + 1),
            kind: "detected".into(),
            start_ts: series.timestamps[p],
            // the end of the trough bar (its close), so the window's blocks include it
            end_ts: series.timestamps[j] + series.bar_seconds(j),
            basket_drawdown_bps: d,
            symbol_drawdown_bps: series
                .bars
                .iter()
                .map(|b| max_decline_bps(&b[p..=j].iter().map(|x| x.close).collect::<Vec<_>>()))
                .collect(),
        })
        .collect()
}

/// The documented calendar windows that fall (at least partly) inside the data:
/// "Jan-Feb 2018" = 2018-01-01 .. 2018-02-28 and "Nov 2018" = 2018-11-01 .. 2018-11-30
/// (UTC, whole days, end inclusive), clipped to the data.
#[expect(
    clippy::cast_sign_loss,
    reason = "the fixed windows' days are after 1970"
)]
pub fn fixed_crash_windows(series: &PriceSeries) -> Vec<CrashWindow> {
    let defs = [
        (
            "Jan-Feb 2018",
            days_from_civil(2018, 1, 1),
            days_from_civil(2018, 3, 1),
        ),
        (
            "Nov 2018",
            days_from_civil(2018, 11, 1),
            days_from_civil(2018, 12, 1),
        ),
    ];
    let mut out = Vec::new();
    if series.is_empty() {
        return out;
    }
    let idx = basket_index(series);
    for (label, d0, d1) in defs {
        let (s, e) = (d0 as u64 * 86_400, d1 as u64 * 86_400 - 1);
        let a = series.timestamps.partition_point(|&t| t < s);
        let b = series.timestamps.partition_point(|&t| t <= e);
        if a >= b {
            continue;
        }
        out.push(CrashWindow {
            label: label.into(),
            kind: "fixed".into(),
            start_ts: series.timestamps[a],
            end_ts: series.timestamps[b - 1] + series.bar_seconds(b - 1),
            basket_drawdown_bps: max_decline_bps(&idx[a..b]),
            symbol_drawdown_bps: series
                .bars
                .iter()
                .map(|v| max_decline_bps(&v[a..b].iter().map(|x| x.close).collect::<Vec<_>>()))
                .collect(),
        });
    }
    out
}

/// Parses a timestamp (see the module docs) to Unix seconds.
#[expect(
    clippy::cast_sign_loss,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    reason = "4- and 2-digit fields (year ≤ 9999, month ≤ 12, day ≤ 31); days are checked ≥ 0 before the u64 cast"
)]
pub fn parse_timestamp(s: &str) -> Result<u64, String> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        let v: u64 = s
            .parse()
            .map_err(|_| "timestamp out of range".to_string())?;
        if v > 100_000_000_000 {
            if v % 1000 != 0 {
                return Err("millisecond timestamp with sub-second part".into());
            }
            return Ok(v / 1000);
        }
        return Ok(v);
    }
    let s = s.strip_suffix('Z').unwrap_or(s);
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Result<u64, String> {
        let part = s.get(r).ok_or("truncated timestamp")?;
        if part.is_empty() || !part.bytes().all(|c| c.is_ascii_digit()) {
            return Err(format!("expected digits, got {part:?}"));
        }
        part.parse::<u64>().map_err(|e| e.to_string())
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return Err("expected Unix seconds or YYYY-MM-DD[ HH:MM:SS]".into());
    }
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return Err("invalid date".into());
    }
    let mut secs = 0;
    if b.len() > 10 {
        if b.len() != 19 || !(b[10] == b' ' || b[10] == b'T') || b[13] != b':' || b[16] != b':' {
            return Err("expected YYYY-MM-DD HH:MM:SS".into());
        }
        let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if hh > 23 || mm > 59 || ss > 59 {
            return Err("invalid time of day".into());
        }
        secs = hh * 3600 + mm * 60 + ss;
    }
    let days = days_from_civil(y as i64, m as u32, d as u32);
    if days < 0 {
        return Err("dates before 1970 are not supported".into());
    }
    Ok(days as u64 * 86_400 + secs)
}

fn days_in_month(y: u64, m: u64) -> u64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD HH:MM` (UTC) of Unix seconds, for reports.
#[expect(
    clippy::cast_possible_wrap,
    reason = "days since 1970 of a timestamp ≤ MAX_TIMESTAMP"
)]
pub fn format_timestamp(ts: u64) -> String {
    let days = (ts / 86_400) as i64;
    let secs = ts % 86_400;
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        secs / 3600,
        (secs % 3600) / 60
    )
}
