//! Hostile input: the transaction decoder and every JSON endpoint get random and mutated input
//! (bounded counts); the node answers every request with the API's JSON error shape or a
//! success, never a 5xx, never panics, and stays healthy. Plus the WebSocket subscriptions.

#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_lossless
)] // test data is built with plain casts

use azex_client::{Client, Key, SignedTx};
use azex_exchange::Tx;
use azex_node::api::ApiLimits;
use azex_node::{start, NodeOptions};
use proptest::prelude::*;
use serde_json::Value;

fn valid_json() -> String {
    let k = Key::from_seed(5);
    serde_json::to_string(&k.sign(
        Tx::OpenPosition {
            user: k.address(),
            market: 0,
            qty: -5,
            margin: 7,
            price_bound: 9,
        },
        3,
        2_000_000_000,
        31_337,
    ))
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, .. ProptestConfig::default() })]

    #[test]
    fn decoder_never_panics_on_bytes(b in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(s) = serde_json::from_slice::<SignedTx>(&b) {
            let _ = s.verify(31_337);
        }
    }

    #[test]
    fn decoder_never_panics_on_mutations(pos in 0usize..2_000, byte in any::<u8>(), cut in 0usize..2_000) {
        let mut b = valid_json().into_bytes();
        let i = pos % b.len();
        b[i] = byte;
        b.truncate(cut.max(i + 1).min(b.len()));
        if let Ok(s) = serde_json::from_slice::<SignedTx>(&b) {
            // A mutated transaction either still verifies (the byte did not matter) or is refused.
            let _ = s.verify(31_337);
        }
    }
}

/// `None`: the server answered before reading a large body and closed the connection (a 405 or
/// 413 on a body it will not read), which the client sees as a broken pipe.
fn request(url: &str, method: &str, path: &str, body: &[u8]) -> Option<(u16, String)> {
    let full = format!("{url}{path}");
    let r = match method {
        "GET" => ureq::get(&full).call(),
        "POST" => ureq::post(&full)
            .set("content-type", "application/json")
            .send_bytes(body),
        "PUT" => ureq::put(&full).send_bytes(body),
        _ => ureq::delete(&full).call(),
    };
    match r {
        Ok(r) => Some((r.status(), r.into_string().unwrap_or_default())),
        Err(ureq::Error::Status(s, r)) => Some((s, r.into_string().unwrap_or_default())),
        Err(e) if body.len() > 1_000 => {
            let _ = e;
            None
        }
        Err(e) => panic!("{method} {path}: transport error {e}"),
    }
}

#[test]
fn endpoints_answer_hostile_requests_with_json_errors() {
    let dir = std::env::temp_dir().join(format!("azex-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut o = NodeOptions::new(dir.clone(), 0);
    o.block_time_ms = 50;
    o.api = ApiLimits::unlimited();
    let node = start(o).unwrap();
    let url = node.url();
    let templates = [
        "/v1/markets/{}",
        "/v1/markets/{}/events?limit={}&before={}",
        "/v1/accounts/{}",
        "/v1/accounts/{}/nonce",
        "/v1/accounts/{}/events?before={}",
        "/v1/accounts/{}/txs?limit={}",
        "/v1/positions/{}",
        "/v1/blocks?from={}&limit={}&wait_ms={}",
        "/v1/blocks/{}",
        "/v1/tx/{}",
        "/v1/tx?wait={}",
        "/v1/txs",
        "/v1/simulate",
        "/v1/{}",
        "/{}",
    ];
    let atoms = [
        "0",
        "1",
        "-1",
        "18446744073709551616",
        "4294967296",
        "0x",
        "0xzz",
        "%00",
        "%ff%fe",
        "abc",
        "9:9",
        "1:",
        ":",
        "0x0000000000000000000000000000000000000001",
        &"f".repeat(300),
        "commit",
        "none",
        "1e3",
        "",
        "..",
        "0x0000000000000000000000000000000000000000000000000000000000000001",
        "true",
        "💥",
    ];
    let bodies: Vec<Vec<u8>> = vec![
        vec![], b"{}".to_vec(), b"[]".to_vec(), b"null".to_vec(), b"{\"type\":\"open_position\"}".to_vec(),
        b"{\"type\":\"mint_azusd\",\"user\":\"0x0000000000000000000000000000000000000001\",\"usdc\":\"-1\"}".to_vec(),
        b"{\"type\":\"mint_azusd\",\"user\":\"0x0000000000000000000000000000000000000001\",\"usdc\":\"340282366920938463463374607431768211456\"}".to_vec(),
        b"{\"type\":\"close_position\",\"user\":\"0x0000000000000000000000000000000000000001\",\"position\":1,\"price_bound\":0}".to_vec(),
        b"[{\"tx\":1}]".to_vec(), valid_json().into_bytes(), format!("[{}]", valid_json()).into_bytes(),
        vec![0xff; 100], b"{\"a\":".repeat(200), format!("[{}]", vec!["1"; 20_000].join(",")).into_bytes(),
    ];
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % n as u64) as usize
    };
    for _ in 0..600 {
        let t = templates[next(templates.len())];
        let mut path = String::new();
        for (i, part) in t.split("{}").enumerate() {
            if i > 0 {
                path.push_str(atoms[next(atoms.len())]);
            }
            path.push_str(part);
        }
        let method = ["GET", "POST", "PUT", "DELETE"][next(4)];
        let body = &bodies[next(bodies.len())];
        let Some((status, text)) = request(&url, method, &path, body) else {
            continue;
        };
        assert!(status < 500, "{method} {path} → {status}: {text}");
        if status >= 400 {
            let v: Value = serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("{method} {path}: not JSON: {text}"));
            assert!(
                v["error"]["code"].is_string() && v["error"]["message"].is_string(),
                "{method} {path}: {v}"
            );
        }
    }
    assert_eq!(
        Client::new(&url).get::<Value>("/health").unwrap()["status"],
        "ok"
    );
    node.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn websocket_subscriptions() {
    let dir = std::env::temp_dir().join(format!("azex-ws-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut o = NodeOptions::new(dir.clone(), 0);
    o.block_time_ms = 50;
    o.api = ApiLimits::unlimited();
    let node = start(o).unwrap();
    let stream = std::net::TcpStream::connect(node.addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let (mut ws, _) = tungstenite::client(format!("ws://{}/v1/ws", node.addr), stream).unwrap();
    let send = |ws: &mut tungstenite::WebSocket<std::net::TcpStream>, s: &str| {
        ws.send(tungstenite::Message::Text(s.into())).unwrap();
    };
    let read = |ws: &mut tungstenite::WebSocket<std::net::TcpStream>| -> Value {
        loop {
            if let tungstenite::Message::Text(t) = ws.read().unwrap() {
                return serde_json::from_str(&t).unwrap();
            }
        }
    };
    send(&mut ws, "not json");
    assert_eq!(read(&mut ws)["error"]["code"], "invalid_json");
    send(&mut ws, r#"{"op":"subscribe","channel":"nope"}"#);
    assert_eq!(read(&mut ws)["error"]["code"], "unknown_channel");
    let k = azex_node::genesis::dev_key(4);
    send(
        &mut ws,
        &format!(
            r#"{{"op":"subscribe","channel":"account","account":"{}"}}"#,
            k.address()
        ),
    );
    assert_eq!(read(&mut ws)["subscribed"], "account");
    send(&mut ws, r#"{"op":"subscribe","channel":"blocks"}"#);
    assert_eq!(read(&mut ws)["subscribed"], "blocks");
    // Blocks stream in; a transaction of the account shows up on its channel (bounded reads).
    let mut s = azex_client::Sender::connect(Client::new(&node.url()), k.clone()).unwrap();
    s.send(
        Tx::MintAzusd {
            user: k.address(),
            usdc: 5,
        },
        false,
    )
    .unwrap();
    let (mut blocks, mut account) = (0, 0);
    for _ in 0..200 {
        let v = read(&mut ws);
        match v["channel"].as_str() {
            Some("blocks") => blocks += 1,
            Some("account") => {
                account += 1;
                assert_eq!(v["events"][0]["event"], "azusd_minted");
            }
            _ => {}
        }
        if blocks >= 2 && account >= 1 {
            break;
        }
    }
    assert!(
        blocks >= 2 && account == 1,
        "blocks {blocks}, account {account}"
    );
    drop(ws);
    node.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
