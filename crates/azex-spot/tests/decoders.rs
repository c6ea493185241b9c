//! Fuzz-style property tests of the vector (JSON lines) and chain-log (STATE.json + EVENTS.csv)
//! decoders (issue 9): any input gives a report or an error, never a panic; a report always
//! compared at least one step.

use azex_spot::chain_replay::replay_chain;
use azex_spot::vectors::replay_vectors_str;
use proptest::prelude::*;
use serde_json::{json, Value};

const Q96: &str = "79228162514264337593543950336";
const HEADER: &str = "timestamp_utc,block,log_index,action,amount0,amount1,sqrt_price_x96_after,tick_lower,tick_upper,liquidity,owner";

fn num() -> impl Strategy<Value = Value> {
    prop_oneof![
        proptest::sample::select(vec![
            json!(0),
            json!(1),
            json!(-1),
            json!(10),
            json!(60),
            json!(500),
            json!(3000),
            json!(-600),
            json!(600),
            json!(887272),
            json!(-887272),
            json!(887273),
            json!(i32::MAX),
            json!(i32::MIN),
            json!(u32::MAX),
            json!(4294967796u64),
            json!(i64::MAX),
            json!(u64::MAX),
            json!(1.5),
            json!(Q96),
            json!("4295128739"),
            json!("1461446703485210103287273052203988822378723970342"),
            json!("1461446703485210103287273052203988822378723970341"),
            json!("1000000000000000000"),
            json!("-1000000000000000000"),
            json!(u128::MAX.to_string()),
            json!(i128::MIN.to_string()),
            json!("170141183460469231731687303715884105728"),
            json!("115792089237316195423570985008687907853269984665640564039457584007913129639935"),
            json!("115792089237316195423570985008687907853269984665640564039457584007913129639936"),
            json!("0x7c9c6e8f"),
            json!("x"),
            json!(""),
        ]),
        any::<i64>().prop_map(|x| json!(x)),
        any::<i128>().prop_map(|x| json!(x.to_string())),
    ]
}

fn op() -> impl Strategy<Value = Value> {
    prop_oneof![
        (num(), num(), num()).prop_map(
            |(f, t, p)| json!({"op": "init", "fee": f, "tickSpacing": t, "sqrtPriceX96": p})
        ),
        (num(), num(), num(), proptest::option::of(num())).prop_map(|(l, u, d, s)| {
            let mut o =
                json!({"op": "modify", "tickLower": l, "tickUpper": u, "liquidityDelta": d});
            if let Some(s) = s {
                o["salt"] = s;
            }
            o
        }),
        (any::<bool>(), num(), proptest::option::of(num())).prop_map(|(z, a, l)| {
            let mut o = json!({"op": "swap", "zeroForOne": z, "amountSpecified": a});
            if let Some(l) = l {
                o["sqrtPriceLimitX96"] = l;
            }
            o
        }),
        Just(json!({"op": "burn"})),
        Just(json!({"op": 5})),
        Just(json!("init")),
    ]
}

fn state() -> impl Strategy<Value = Value> {
    (num(), num(), num(), num(), num(), num(), num()).prop_map(|(a, b, c, d, e, f, g)| {
        json!({"sqrtPriceX96": a, "tick": b, "protocolFee": c, "lpFee": d,
            "feeGrowthGlobal0X128": e, "feeGrowthGlobal1X128": f, "liquidity": g})
    })
}

fn step() -> impl Strategy<Value = Value> {
    (
        op(),
        proptest::option::of(num()),
        proptest::option::of((num(), num())),
        proptest::option::of(state()),
        proptest::option::of(prop_oneof![
            Just(json!("0x7983c051")),
            Just(json!("0x")),
            Just(json!(5))
        ]),
    )
        .prop_map(|(op, tick, delta, st, revert)| {
            let mut s = json!({ "op": op });
            if let Some(t) = tick {
                s["result"] = json!({ "tick": t });
            }
            if let Some((a, b)) = delta {
                s["delta"] = json!({"amount0": a, "amount1": b});
            }
            if let Some(st) = st {
                s["state"] = st;
            }
            if let Some(r) = revert {
                s["revert"] = r;
            }
            s
        })
}

fn vectors_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            4 => proptest::collection::vec(step(), 0..6)
                .prop_map(|steps| json!({"seed": 1, "scenario": 2, "steps": steps}).to_string()),
            1 => "\\PC{0,60}",
            1 => Just(String::new()),
            1 => Just(r#"{"steps": 5}"#.to_string()),
        ],
        0..4,
    )
    .prop_map(|lines| lines.join("\n"))
}

fn check_vectors(text: &str) {
    let r = std::panic::catch_unwind(|| replay_vectors_str(text));
    match r {
        Err(_) => panic!("replay_vectors_str panicked on {text:?}"),
        Ok(Ok(rep)) => assert!(rep.steps > 0, "a report with nothing compared: {text:?}"),
        Ok(Err(_)) => {}
    }
}

fn csv_cell() -> impl Strategy<Value = String> {
    prop_oneof![
        num().prop_map(|v| match v {
            Value::String(s) => s,
            v => v.to_string(),
        }),
        proptest::sample::select(vec![
            "Swap",
            "Mint",
            "Burn",
            "swap",
            "Collect",
            "",
            "0xabababababababababababababababababababab",
            "0x5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",
            "0xzz",
            "\"",
        ])
        .prop_map(String::from),
        "\\PC{0,10}",
    ]
}

fn events_csv() -> impl Strategy<Value = String> {
    let row = prop_oneof![
        // the documented 11 columns
        (
            0u64..5,
            0u64..5,
            proptest::sample::select(vec!["Swap", "Mint", "Burn"]),
            proptest::collection::vec(csv_cell(), 7),
        )
            .prop_map(|(b, l, a, rest)| {
                let mut r = vec![
                    "2024-01-01".to_string(),
                    b.to_string(),
                    l.to_string(),
                    a.to_string(),
                ];
                r.extend(rest);
                r.join(",")
            }),
        // anything
        proptest::collection::vec(csv_cell(), 0..14).prop_map(|r| r.join(",")),
    ];
    (
        prop_oneof![4 => Just(HEADER.to_string()), 1 => "\\PC{0,40}"],
        proptest::collection::vec(row, 0..10),
    )
        .prop_map(|(h, rows)| {
            let mut s = h;
            for r in rows {
                s.push('\n');
                s.push_str(&r);
            }
            s
        })
}

fn state_json() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (num(), num(), num(), num(), proptest::collection::btree_map(
                prop_oneof![
                    Just("-600:600".to_string()),
                    Just("-60:60".to_string()),
                    Just("0:60".to_string()),
                    Just("-887220:887220".to_string()),
                    Just("60:0".to_string()),
                    Just("a:b".to_string()),
                    Just("5".to_string()),
                ],
                num(),
                0..4,
            ))
            .prop_map(|(f, t, p, k, r)| {
                json!({"fee": f, "tick_spacing": t, "sqrt_price_x96": p, "tick": k,
                    "liquidity_by_range": r}).to_string()
            }),
        1 => Just(format!(
            r#"{{"fee": 3000, "tick_spacing": 60, "sqrt_price_x96": "{Q96}", "tick": 0, "liquidity_by_range": {{"-600:600": "1000000000000000000"}}}}"#
        )),
        1 => "\\PC{0,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn vectors_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        check_vectors(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn vectors_json_ish(text in vectors_text()) {
        check_vectors(&text);
    }

    #[test]
    fn chain_log(state in state_json(), events in events_csv()) {
        let r = std::panic::catch_unwind(|| replay_chain(&state, &events));
        prop_assert!(r.is_ok(), "replay_chain panicked on\n{}\n{}", state, events);
    }

    #[test]
    fn chain_log_arbitrary_bytes(a in proptest::collection::vec(any::<u8>(), 0..200),
                                 b in proptest::collection::vec(any::<u8>(), 0..200)) {
        let (a, b) = (String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
        let r = std::panic::catch_unwind(|| replay_chain(&a, &b));
        prop_assert!(r.is_ok(), "replay_chain panicked on\n{}\n{}", a, b);
    }
}
