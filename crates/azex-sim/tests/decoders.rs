//! Fuzz-style property tests of the price-file decoder (issue 9): any bytes, any CSV-ish text —
//! `parse_prices` returns a series or an error, never panics; a series it returns stays within
//! the documented limits and the functions run on it (basket, crash windows, intrabar paths) do
//! not panic either.

use azex_sim::prices::{
    basket_index, detect_crash_windows, fixed_crash_windows, intrabar_path, parse_prices,
    parse_timestamp, MAX_PRICE_WAD, MAX_TIMESTAMP, MIN_PRICE_WAD,
};
use azex_sim::units::parse_decimal_wad;
use proptest::prelude::*;

fn check(text: &[u8]) {
    let r = std::panic::catch_unwind(|| {
        if let Ok(s) = parse_prices(text, "fuzz") {
            assert_eq!(s.bars.len(), s.symbols.len());
            for (sym, bars) in s.bars.iter().enumerate() {
                assert_eq!(bars.len(), s.timestamps.len(), "{}", s.symbols[sym]);
                for b in bars {
                    for p in [b.open, b.high, b.low, b.close] {
                        assert!((MIN_PRICE_WAD..=MAX_PRICE_WAD).contains(&p));
                    }
                    assert!(b.low <= b.open.min(b.close) && b.high >= b.open.max(b.close));
                    for k in [1, 2, 3, 4, 7] {
                        assert_eq!(intrabar_path(b, k).len(), k as usize);
                    }
                }
            }
            assert!(s.timestamps.windows(2).all(|w| w[0] < w[1]));
            assert!(s.timestamps.iter().all(|&t| t <= MAX_TIMESTAMP));
            let _ = basket_index(&s);
            let _ = detect_crash_windows(&s, 3, 3);
            let _ = fixed_crash_windows(&s);
            let _ = s.typical_bar_seconds();
        }
    });
    assert!(
        r.is_ok(),
        "parse_prices panicked on {:?}",
        String::from_utf8_lossy(text)
    );
}

fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(vec![
            "",
            "0",
            "1",
            "-1",
            "1e40",
            "1e-40",
            "0.00000001",
            "1000000000",
            "1000000000.1",
            "0.000000009",
            "1.5",
            ".5",
            "5.",
            "e",
            "1e",
            "NaN",
            "inf",
            "99999999999999999999",
            "100000000001",
            "100000000000000",
            "253402300799",
            "253402300800",
            "1500000000",
            "1500001800",
            "2018-01-01",
            "2018-02-30",
            "2018-01-01 00:00:00",
            "2018-01-01T24:00:00",
            "0001-01-01",
            "9999-12-31 23:59:59",
            "1969-12-31",
            "BTC",
            "ETH",
            "\"q\"",
            "é",
        ])
        .prop_map(String::from),
        any::<u64>().prop_map(|x| x.to_string()),
        "[0-9.eE+-]{0,12}",
        "\\PC{0,8}",
    ]
}

fn csv() -> impl Strategy<Value = String> {
    let header = prop_oneof![
        Just("timestamp,symbol,close".to_string()),
        Just("timestamp,symbol,open,high,low,close".to_string()),
        Just("Timestamp_UTC,SYMBOL,open,high,low,close,volume".to_string()),
        Just("timestamp,symbol,open,close".to_string()),
        Just("symbol,close".to_string()),
        "\\PC{0,30}",
    ];
    (
        header,
        proptest::collection::vec(proptest::collection::vec(cell(), 0..8), 0..12),
    )
        .prop_map(|(h, rows)| {
            let mut s = h;
            for r in rows {
                s.push('\n');
                s.push_str(&r.join(","));
            }
            s
        })
}

/// Well-formed files with boundary prices and times: these get past the header checks.
fn plausible_csv() -> impl Strategy<Value = String> {
    let price = prop_oneof![
        proptest::sample::select(vec![
            "0.00000001",
            "0.000000011",
            "1000000000",
            "999999999.999",
            "1",
            "0.5",
            "2",
            "100",
            "0.000000000005",
        ])
        .prop_map(String::from),
        (1u64..1_000_000_000).prop_map(|x| x.to_string()),
    ];
    let ts = prop_oneof![
        (0u64..2_000).prop_map(|i| (1_500_000_000 + i * 1800).to_string()),
        proptest::sample::select(vec!["0", "253402300799", "253402300799000", "1"])
            .prop_map(String::from),
    ];
    proptest::collection::vec(
        (
            ts,
            proptest::sample::select(vec!["A", "B", "C"]),
            price.clone(),
            price.clone(),
            price.clone(),
            price,
        ),
        1..40,
    )
    .prop_map(|rows| {
        let mut s = String::from("timestamp,symbol,open,high,low,close");
        for (t, sym, o, h, l, c) in rows {
            s.push_str(&format!("\n{t},{sym},{o},{h},{l},{c}"));
        }
        s
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        check(&bytes);
    }

    #[test]
    fn csv_ish_text(text in csv()) {
        check(text.as_bytes());
    }

    #[test]
    fn plausible_files(text in plausible_csv()) {
        check(text.as_bytes());
    }

    #[test]
    fn timestamps_and_decimals(s in prop_oneof![cell(), "\\PC{0,40}"]) {
        let r = std::panic::catch_unwind(|| {
            let _ = parse_timestamp(&s);
            let _ = parse_decimal_wad(&s);
        });
        prop_assert!(r.is_ok(), "panicked on {:?}", s);
    }
}

/// Found by `plausible_files`: a symbol whose only bar before the common range is followed by a
/// gap at the range's first time panicked (`prev_close.expect`); the gap now takes the close of
/// the bar before the range.
#[test]
fn gap_at_the_start_of_the_common_range() {
    let text = "timestamp,symbol,open,high,low,close\n\
        1501371600,B,0.5,3,0.4,2\n\
        1502147400,C,1,1,1,1\n\
        1503195000,B,1,3,0.5,2.5";
    let s = parse_prices(text.as_bytes(), "t").unwrap();
    assert_eq!(s.timestamps, vec![1502147400]);
    let b = s.symbol_index("B").unwrap();
    assert_eq!(s.bars[b][0].close, 2 * azex_sim::units::WAD);
    assert_eq!(s.filled[b], 1);
}
