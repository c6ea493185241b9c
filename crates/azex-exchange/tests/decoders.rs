//! Fuzz-style property tests of the scenario decoder (issue 9): any bytes, any JSON-ish line, any
//! hostile field value — the runner returns a result (usually an error naming a line) and never
//! panics.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_lossless
)] // test data is built with plain casts

use azex_exchange::scenario::{run, ScenarioError};
use proptest::prelude::*;
use serde_json::{json, Value};

const USER: &str = "0xaa00000000000000000000000000000000000001";
const USDC: &str = "0x00000000000000000000000000000000005dc000";
const BASE: &str = "0xb000000000000000000000000000000000000001";

/// A prelude that lists a market and funds a user, so that fuzzed transactions reach the engine.
fn prelude() -> String {
    let g = json!({"genesis": {"balances": [
        {"owner": USER, "token": USDC, "amount": "100000000000000"},
        {"owner": USER, "token": BASE, "amount": "1000000000000000000000000"},
    ]}});
    let lines = [
        g,
        json!({"block": {"height": 1, "timestamp": 1_700_000_000u64}}),
        json!({"tx": {"type": "mint_azusd", "user": USER, "usdc": "50000000000000"}}),
        json!({"tx": {"type": "create_market", "user": USER, "base_token": BASE, "base_decimals": 18,
            "fee": 500, "tick_spacing": 10, "initial_price": "2000000000000000000000",
            "tick_range": 6000, "seed_azusd": "20000000000000"}}),
        json!({"tx": {"type": "lp_deposit", "user": USER, "amount": "10000000000000"}}),
        json!({"block": {"height": 2, "timestamp": 1_700_000_002u64}}),
    ];
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// Field names the scenario format and its types use, plus near misses.
const KEYS: &[&str] = &[
    "genesis",
    "block",
    "blocks",
    "tx",
    "swap_to_price",
    "remove_spot_position",
    "expect",
    "comment",
    "params",
    "balances",
    "strategies",
    "height",
    "timestamp",
    "count",
    "seconds",
    "type",
    "user",
    "market",
    "price",
    "owner",
    "token",
    "amount",
    "usdc",
    "azusd",
    "qty",
    "margin",
    "price_bound",
    "position",
    "qty_delta",
    "shares",
    "amount_in",
    "min_azusd_out",
    "base_for_quote",
    "amount_specified",
    "sqrt_price_limit_x96",
    "tick_lower",
    "tick_upper",
    "liquidity_delta",
    "salt",
    "base_token",
    "base_decimals",
    "fee",
    "tick_spacing",
    "initial_price",
    "tick_range",
    "seed_azusd",
    "name",
    "rate_per_year_wad",
    "capacity",
    "withdrawal_delay_secs",
    "target_share_wad",
    "lp_lockup_secs",
    "heigth",
    "blok",
    "",
];

const TX_TYPES: &[&str] = &[
    "mint_azusd",
    "redeem_azusd",
    "deposit_via_swap",
    "spot_swap",
    "spot_liquidity",
    "create_market",
    "lp_deposit",
    "lp_withdraw",
    "open_position",
    "modify_position",
    "close_position",
    "add_margin",
    "remove_margin",
    "liquidate",
    "deleverage",
    "settle_delisted",
    "relist",
    "no_such_tx",
];

/// Numbers at and around every integer boundary, as JSON numbers and as strings.
fn number() -> impl Strategy<Value = Value> {
    let edges: Vec<Value> = vec![
        json!(0),
        json!(1),
        json!(-1),
        json!(2),
        json!(u8::MAX),
        json!(i32::MAX),
        json!(i32::MIN),
        json!(u32::MAX),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(1.5),
        json!(1e300),
        json!("0"),
        json!("-1"),
        json!(u128::MAX.to_string()),
        json!((u128::MAX / 2).to_string()),
        json!(i128::MIN.to_string()),
        json!("340282366920938463463374607431768211456"),
        json!("1e18"),
        json!("1_000"),
        json!(""),
        json!("2000000000000000000000"),
        json!("1000000000000000000"),
        json!("100000000000000"),
    ];
    prop_oneof![
        proptest::sample::select(edges),
        any::<u64>().prop_map(|x| json!(x)),
        any::<i64>().prop_map(|x| json!(x)),
        any::<u128>().prop_map(|x| json!(x.to_string())),
        any::<i128>().prop_map(|x| json!(x.to_string())),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        proptest::sample::select(vec![USER, USDC, BASE, "0x", "0xzz", "ok", "error"])
            .prop_map(|s| json!(s)),
        proptest::sample::select(TX_TYPES.to_vec()).prop_map(|s| json!(s)),
        "\\PC{0,12}".prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(proptest::sample::select(KEYS.to_vec()), inner, 0..6)
                .prop_map(|m| Value::Object(
                    m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
                )),
        ]
    })
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    U128,
    I128,
    Market,
    Position,
    Bool,
    Tick,
    U8,
    U32,
    U64,
    Addr,
    Sqrt,
}

/// Mostly plausible values of a field kind, with every boundary among them.
fn of_kind(k: Kind) -> BoxedStrategy<Value> {
    let sel = |v: Vec<Value>| proptest::sample::select(v).boxed();
    match k {
        Kind::U128 => prop_oneof![
            3 => sel(vec![
                json!("0"), json!("1"), json!("1000000"), json!("1000000000"),
                json!("100000000000000"), json!("1000000000000000000"),
                json!("2000000000000000000000"), json!("20000000000000000000000"),
                json!(u128::MAX.to_string()), json!((u128::MAX / 2).to_string()),
                json!(u64::MAX), json!(-1), json!("x"),
            ]),
            1 => any::<u128>().prop_map(|x| json!(x.to_string())),
        ]
        .boxed(),
        Kind::I128 => prop_oneof![
            3 => sel(vec![
                json!("0"), json!("1"), json!("-1"), json!("1000000000000000000"),
                json!("-1000000000000000000"), json!("200000000000000000000"),
                json!("-200000000000000000000"), json!("-1000000000000"),
                json!(i128::MIN.to_string()), json!(i128::MAX.to_string()),
            ]),
            1 => any::<i128>().prop_map(|x| json!(x.to_string())),
        ]
        .boxed(),
        Kind::Market => sel(vec![json!(0), json!(0), json!(1), json!(u32::MAX)]),
        Kind::Position => sel(vec![json!(1), json!(2), json!(0), json!(u64::MAX)]),
        Kind::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Kind::Tick => sel(vec![
            json!(-6000),
            json!(6000),
            json!(0),
            json!(10),
            json!(-10),
            json!(887272),
            json!(-887272),
            json!(887273),
            json!(i32::MIN),
            json!(i32::MAX),
            json!(200310),
        ]),
        Kind::U8 => sel(vec![
            json!(18),
            json!(6),
            json!(0),
            json!(30),
            json!(255),
            json!(256),
        ]),
        Kind::U32 => sel(vec![
            json!(500),
            json!(0),
            json!(1_000_000),
            json!(u32::MAX),
        ]),
        Kind::U64 => sel(vec![json!(0), json!(1), json!(u64::MAX)]),
        Kind::Addr => sel(vec![
            json!(USER),
            json!(USDC),
            json!(BASE),
            json!("0xb000000000000000000000000000000000000002"),
        ]),
        Kind::Sqrt => sel(vec![
            Value::Null,
            json!("0"),
            json!("4295128739"),
            json!("4295128740"),
            json!("1461446703485210103287273052203988822378723970342"),
            json!("1461446703485210103287273052203988822378723970341"),
            json!("3543191142285914205922034323214"),
            json!("0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
        ]),
    }
}

/// Every transaction type with its fields.
fn tx_fields(t: &str) -> &'static [(&'static str, Kind)] {
    use Kind::*;
    match t {
        "mint_azusd" => &[("usdc", U128)],
        "redeem_azusd" => &[("azusd", U128)],
        "deposit_via_swap" => &[
            ("market", Market),
            ("amount_in", U128),
            ("min_azusd_out", U128),
        ],
        "spot_swap" => &[
            ("market", Market),
            ("base_for_quote", Bool),
            ("amount_specified", I128),
            ("sqrt_price_limit_x96", Sqrt),
        ],
        "spot_liquidity" => &[
            ("market", Market),
            ("tick_lower", Tick),
            ("tick_upper", Tick),
            ("liquidity_delta", I128),
            ("salt", U64),
        ],
        "create_market" => &[
            ("base_token", Addr),
            ("base_decimals", U8),
            ("fee", U32),
            ("tick_spacing", Tick),
            ("initial_price", U128),
            ("tick_range", Tick),
            ("seed_azusd", U128),
        ],
        "lp_deposit" => &[("amount", U128)],
        "lp_withdraw" => &[("shares", U128)],
        "open_position" => &[
            ("market", Market),
            ("qty", I128),
            ("margin", U128),
            ("price_bound", U128),
        ],
        "modify_position" => &[
            ("position", Position),
            ("qty_delta", I128),
            ("price_bound", U128),
        ],
        "close_position" => &[("position", Position), ("price_bound", U128)],
        "add_margin" | "remove_margin" => &[("position", Position), ("amount", U128)],
        "liquidate" | "settle_delisted" => &[("position", Position)],
        "deleverage" | "relist" => &[("market", Market)],
        _ => &[],
    }
}

/// A well-typed transaction of a real type with fuzzed (often hostile) values: these reach the
/// engine.
fn tx() -> impl Strategy<Value = Value> {
    proptest::sample::select(TX_TYPES[..17].to_vec())
        .prop_flat_map(|t| {
            let fields: Vec<BoxedStrategy<(String, Value)>> = tx_fields(t)
                .iter()
                .map(|&(name, k)| of_kind(k).prop_map(move |v| (name.to_string(), v)).boxed())
                .collect();
            (
                Just(t),
                fields,
                proptest::option::weighted(
                    0.1,
                    proptest::sample::select(vec!["ok", "error", "Overflow"]),
                ),
            )
        })
        .prop_map(|(t, fields, expect)| {
            let mut m: serde_json::Map<String, Value> = fields.into_iter().collect();
            m.insert("type".into(), json!(t));
            m.insert("user".into(), json!(USER));
            let mut line = json!({ "tx": Value::Object(m) });
            if let Some(e) = expect {
                line["expect"] = json!(e);
            }
            line
        })
}

/// Any scenario line: a fuzzed transaction, a fuzzed block/blocks line, or a random object.
fn line() -> impl Strategy<Value = Value> {
    prop_oneof![
        12 => tx(),
        3 => (1u64..4, 0u64..200_000).prop_map(|(c, s)| json!({"blocks": {"count": c, "seconds": s}})),
        1 => (number(), number()).prop_map(|(h, t)| json!({"block": {"height": h, "timestamp": t}})),
        1 => (0u64..3, number()).prop_map(|(c, s)| json!({"blocks": {"count": c, "seconds": s}})),
        2 => (of_kind(Kind::Market), of_kind(Kind::U128))
            .prop_map(|(m, p)| json!({"swap_to_price": {"user": USER, "market": m, "price": p}})),
        1 => of_kind(Kind::Market).prop_map(|m| json!({"remove_spot_position": {"user": USER, "market": m}})),
        1 => value(),
    ]
}

fn must_not_panic(text: &str) {
    let r = std::panic::catch_unwind(|| run(text).map(|r| r.summary.state_hash));
    assert!(r.is_ok(), "scenario runner panicked on:\n{text}");
    if let Ok(Err(e)) = r {
        // every error names a line of the text (or the file as a whole)
        if let Some(n) = e.line() {
            assert!(n <= text.lines().count() + 1, "{e}");
        } else {
            assert_eq!(e, ScenarioError::Empty);
        }
        assert!(!e.detail().is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        must_not_panic(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn arbitrary_text_lines(lines in proptest::collection::vec("\\PC{0,40}", 0..6)) {
        must_not_panic(&lines.join("\n"));
    }

    #[test]
    fn json_ish_lines(lines in proptest::collection::vec(value(), 0..5)) {
        let text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        must_not_panic(&text.join("\n"));
    }

    #[test]
    fn fuzzed_genesis(g in value(), params in proptest::collection::btree_map(
        proptest::sample::select(vec!["lp_lockup_secs", "max_abs_tick_move", "block_time_secs",
            "risk_twap_window_secs", "min_listing_depth", "max_drawdown_wad", "lp_fee_share_wad"]),
        number(), 0..4)) {
        must_not_panic(&json!({"genesis": g}).to_string());
        let mut p = serde_json::to_value(azex_exchange::GlobalParams::default()).unwrap();
        for (k, v) in params {
            p[k] = v;
        }
        let text = format!("{}\n{}\n", json!({"genesis": {"params": p}}), json!({"block": {"height": 1, "timestamp": 1}}));
        must_not_panic(&text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn hostile_lines_after_a_listed_market(lines in proptest::collection::vec(line(), 1..12)) {
        let mut text = prelude();
        for l in &lines {
            text.push_str(&l.to_string());
            text.push('\n');
        }
        must_not_panic(&text);
    }
}

#[test]
fn the_prelude_runs() {
    let r = run(&prelude()).unwrap();
    assert_eq!(r.summary.markets.len(), 1);
}
