//! Price loading (crates/azex-sim/src/prices.rs): alignment, gap filling and errors.

use std::io::Write;

use azex_sim::prices::*;
use azex_sim::units::WAD;

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("azex-sim-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn parse(s: &str) -> Result<PriceSeries, PriceError> {
    parse_prices(s.as_bytes(), "test")
}

const GOOD: &str = "\
timestamp_utc,symbol,open,high,low,close,volume
2020-01-01 00:00:00,AAA,10,12,9,11,5
2020-01-01 00:00:00,BBB,1.5,1.6,1.4,1.45,7
2020-01-01 00:30:00,AAA,11,11.5,10.5,11,5
2020-01-01 01:00:00,AAA,11,13,10,12,5
2020-01-01 01:00:00,BBB,1.45,1.5,1.3,1.35,7
";

#[test]
fn loads_aligns_and_fills_gaps() {
    let p = parse(GOOD).unwrap();
    assert_eq!(p.symbols, vec!["AAA", "BBB"]);
    assert_eq!(p.len(), 3);
    assert_eq!(p.timestamps[0], 1_577_836_800);
    assert_eq!(p.bar_seconds(0), 1800);
    assert_eq!(p.bars[0][2].close, 12 * WAD);
    // BBB has no 00:30 bar: flat at the previous close
    assert_eq!(p.bars[1][1], Bar::flat(1_450_000_000_000_000_000));
    assert_eq!(p.filled, vec![0, 1]);
    assert_eq!(p.filled_at, vec![vec![], vec![1]]);
    let s = p.slice(Some(p.timestamps[1]), None, None);
    assert_eq!(
        (s.len(), s.filled.clone(), s.filled_at.clone()),
        (2, vec![0, 1], vec![vec![], vec![0]])
    );
    let s = p.slice(None, Some(p.timestamps[1]), Some(5));
    assert_eq!((s.len(), s.filled.clone()), (1, vec![0, 0]));
    assert_eq!(p.select(&["BBB".into()]).unwrap().filled, vec![1]);
    assert!(p.select(&["ZZZ".into()]).is_err());
    assert!(p.has_ohlc);
    assert_eq!(p.typical_bar_seconds(), 1800);
}

#[test]
fn same_data_in_any_row_order_gives_the_same_series() {
    let mut lines: Vec<&str> = GOOD.lines().collect();
    let header = lines.remove(0);
    // symbols in blocks instead of interleaved (order within a symbol kept)
    let mut blocks: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.contains("BBB"))
        .collect();
    blocks.extend(lines.iter().copied().filter(|l| l.contains("AAA")));
    let text = format!("{header}\n{}\n", blocks.join("\n"));
    assert_eq!(parse(&text).unwrap().bars, parse(GOOD).unwrap().bars);
}

#[test]
fn close_only_and_column_order() {
    let p = parse("symbol,close,timestamp\nX,100,1000\nX,110,2000\nX,99,3000\n").unwrap();
    assert!(!p.has_ohlc);
    let b = p.bars[0][1];
    assert_eq!(
        (b.open, b.high, b.low, b.close),
        (100 * WAD, 110 * WAD, 100 * WAD, 110 * WAD)
    );
    assert_eq!(p.bars[0][0].open, 100 * WAD);
}

#[test]
fn timestamp_formats() {
    assert_eq!(
        parse_timestamp("2017-10-01 00:30:00").unwrap(),
        1_506_817_800
    );
    assert_eq!(
        parse_timestamp("2017-10-01T00:30:00Z").unwrap(),
        1_506_817_800
    );
    assert_eq!(parse_timestamp("2017-10-01").unwrap(), 1_506_816_000);
    assert_eq!(parse_timestamp("1506817800").unwrap(), 1_506_817_800);
    assert_eq!(parse_timestamp("1506817800000").unwrap(), 1_506_817_800);
    assert!(parse_timestamp("1506817800001").is_err());
    assert!(parse_timestamp("2017-02-30").is_err());
    assert!(parse_timestamp("2017-10-01 24:00:00").is_err());
    assert!(parse_timestamp("yesterday").is_err());
    assert_eq!(format_timestamp(1_506_817_800), "2017-10-01 00:30");
    assert_eq!(format_timestamp(951_782_400), "2000-02-29 00:00");
}

#[test]
fn gzip_by_extension() {
    let d = tmp("gz");
    let plain = d.join("p.csv");
    std::fs::write(&plain, GOOD).unwrap();
    let gz = d.join("p.csv.gz");
    let mut e = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    e.write_all(GOOD.as_bytes()).unwrap();
    e.finish().unwrap();
    let a = load_prices(&plain).unwrap();
    let b = load_prices(&gz).unwrap();
    assert_eq!(a.bars, b.bars);
    assert_eq!(b.source, "p.csv.gz");
    assert!(matches!(
        load_prices(d.join("missing.csv")),
        Err(PriceError::Io { .. })
    ));
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn bad_files_have_clear_errors_with_lines() {
    let e = parse("time,symbol,close\n1,A,1\n").unwrap_err();
    assert!(
        matches!(e, PriceError::MissingColumn(ref c) if c == "timestamp"),
        "{e}"
    );
    let e = parse("timestamp,close\n1,1\n").unwrap_err();
    assert!(matches!(e, PriceError::MissingColumn(ref c) if c == "symbol"));
    let e = parse("timestamp,symbol,open,close\n1,A,1,1\n").unwrap_err();
    assert!(matches!(e, PriceError::PartialOhlc));
    let e = parse("timestamp,symbol,close\n100,A,1\n200,A,2\n100,A,3\n").unwrap_err();
    assert!(
        matches!(
            e,
            PriceError::Duplicate {
                line: 4,
                first_line: 2,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("line 4"));
    let e = parse("timestamp,symbol,close\n100,A,1\n200,A,2\n150,A,3\n").unwrap_err();
    assert!(
        matches!(
            e,
            PriceError::Unsorted {
                line: 4,
                timestamp: 150,
                previous: 200,
                ..
            }
        ),
        "{e}"
    );
    let e = parse("timestamp,symbol,close\n100,A,1\n200,A,200,A,0\n").unwrap_err();
    assert!(
        matches!(e, PriceError::Csv { .. } | PriceError::BadValue { .. }),
        "{e}"
    );
    let e = parse("timestamp,symbol,close\n100,A,1\n200,A,0\n").unwrap_err();
    assert!(
        matches!(e, PriceError::BadValue { line: 3, ref column, .. } if column == "close"),
        "{e}"
    );
    let e = parse("timestamp,symbol,close\n100,A,-5\n").unwrap_err();
    assert!(matches!(e, PriceError::BadValue { line: 2, .. }));
    let e = parse("timestamp,symbol,close\n100,A,abc\n").unwrap_err();
    assert!(
        e.to_string().contains("line 2") && e.to_string().contains("abc"),
        "{e}"
    );
    let e = parse("timestamp,symbol,close\nnoon,A,1\n").unwrap_err();
    assert!(matches!(e, PriceError::BadValue { line: 2, ref column, .. } if column == "timestamp"));
    let e = parse("timestamp,symbol,close\n100,,1\n").unwrap_err();
    assert!(matches!(e, PriceError::BadValue { ref column, .. } if column == "symbol"));
    assert!(matches!(
        parse("timestamp,symbol,close\n").unwrap_err(),
        PriceError::Empty
    ));
    let e = parse("timestamp,symbol,close\n100,A,1\n200,A,1\n300,B,1\n").unwrap_err();
    assert!(matches!(
        e,
        PriceError::NoCommonRange {
            start: 300,
            end: 200
        }
    ));
}

#[test]
fn inconsistent_ohlc_is_repaired_and_counted() {
    let p = parse("timestamp,symbol,open,high,low,close\n1,A,10,9,8,11\n").unwrap();
    assert_eq!(p.repaired, vec![1]);
    assert_eq!(p.bars[0][0].high, 11 * WAD);
}

#[test]
fn intrabar_path_orders_and_interpolates() {
    let down = Bar {
        open: 100 * WAD,
        high: 120 * WAD,
        low: 80 * WAD,
        close: 90 * WAD,
    };
    let up = Bar {
        open: 100 * WAD,
        high: 120 * WAD,
        low: 80 * WAD,
        close: 110 * WAD,
    };
    assert_eq!(intrabar_path(&down, 1), vec![90 * WAD]);
    assert_eq!(intrabar_path(&down, 2), vec![120 * WAD, 90 * WAD]);
    assert_eq!(intrabar_path(&up, 2), vec![80 * WAD, 110 * WAD]);
    assert_eq!(intrabar_path(&down, 3), vec![120 * WAD, 80 * WAD, 90 * WAD]);
    assert_eq!(intrabar_path(&up, 3), vec![80 * WAD, 120 * WAD, 110 * WAD]);
    // k = 4: H at 1, L at 3; sub-step 2 is the geometric midpoint of 120 and 80
    let p = intrabar_path(&down, 4);
    assert_eq!((p[0], p[2], p[3]), (120 * WAD, 80 * WAD, 90 * WAD));
    let mid = (120f64 * 80.0).sqrt() * 1e18;
    assert!((p[1] as f64 - mid).abs() / mid < 1e-12, "{} vs {mid}", p[1]);
    // k = 6: anchors at 2 and 4, sub-step 1 is between O and H
    let p = intrabar_path(&up, 6);
    assert_eq!((p[1], p[3], p[5]), (80 * WAD, 120 * WAD, 110 * WAD));
    assert!(p[0] < 100 * WAD && p[0] > 80 * WAD);
    assert!(p[4] > 110 * WAD && p[4] < 120 * WAD);
    // every k visits both extremes from 3 on, ends at the close, stays within [L, H]
    for k in 3..=12 {
        for b in [down, up] {
            let p = intrabar_path(&b, k);
            assert_eq!(p.len(), k as usize);
            assert_eq!(*p.last().unwrap(), b.close);
            assert!(p.contains(&b.high) && p.contains(&b.low), "k={k}");
            assert!(p.iter().all(|&x| x >= b.low && x <= b.high));
        }
    }
    // flat bar
    assert_eq!(intrabar_path(&Bar::flat(5 * WAD), 4), vec![5 * WAD; 4]);
}

#[test]
fn crash_windows_on_synthetic_data() {
    // 100 -> 50 over bars 10..20, recover, then 100 -> 80 over 60..65
    let mut rows = String::from("timestamp,symbol,close\n");
    for i in 0..100u64 {
        let p = match i {
            0..=10 => 100.0,
            11..=20 => 100.0 - 5.0 * (i - 10) as f64,
            21..=40 => 50.0 + 2.5 * (i - 20) as f64,
            41..=60 => 100.0,
            61..=65 => 100.0 - 4.0 * (i - 60) as f64,
            _ => 80.0,
        };
        rows.push_str(&format!("{},A,{p}\n", i * 3600));
    }
    let s = parse(&rows).unwrap();
    let w = detect_crash_windows(&s, 20, 2);
    assert_eq!(w.len(), 2);
    assert_eq!(
        (w[0].start_ts, w[0].end_ts, w[0].basket_drawdown_bps),
        (10 * 3600, 21 * 3600, 5000) // to the close of the trough bar (20)
    );
    assert_eq!(
        (w[1].start_ts, w[1].end_ts, w[1].basket_drawdown_bps),
        (60 * 3600, 66 * 3600, 2000)
    );
    assert_eq!(w[0].label, "crash-1");
    assert_eq!(w[0].symbol_drawdown_bps, vec![5000]);
    assert!(fixed_crash_windows(&s).is_empty());
}

#[test]
fn shipped_data_loads() {
    let p = load_prices(default_data_path()).unwrap();
    assert_eq!(
        p.symbols,
        vec!["BTCUSD", "EOSUSD", "ETHUSD", "LTCUSD", "XRPUSD"]
    );
    assert!(p.len() > 35_000);
    assert_eq!(p.typical_bar_seconds(), 1800);
    assert_eq!(format_timestamp(p.timestamps[0]), "2017-10-01 00:00");
    assert_eq!(p.bars[0][0].open, 4_367_100_000_000_000_000_000);
    assert!(p.filled.iter().all(|&f| f > 0 && f < 200), "{:?}", p.filled);
    let fixed = fixed_crash_windows(&p);
    assert_eq!(fixed.len(), 2);
    assert!(fixed[0].symbol_drawdown_bps[0] > 5_000); // BTC fell more than half in Jan-Feb 2018
    let w = detect_crash_windows(&p, 30 * 48, 3);
    assert_eq!(w.len(), 3);
    assert!(w
        .iter()
        .any(|w| format_timestamp(w.start_ts).starts_with("2018-01")));
}
