//! The vertical slice over loopback: start a node, list a market, trade with signed
//! transactions, check every error code of admission, restart and find everything again, follow
//! the chain with a replica.

#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_lossless
)] // test data is built with plain casts

use azex_client::{Client, Key, Outcome, Sender};
use azex_exchange::units::{QTY_ONE, USD_ONE, WAD};
use azex_exchange::Tx;
use azex_node::api::ApiLimits;
use azex_node::follower::Follower;
use azex_node::genesis::dev_key;
use azex_node::setup::{bootstrap, must, MarketSpec};
use azex_node::{start, NodeOptions};
use serde_json::Value;
use std::path::PathBuf;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("azex-node-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn opts(dir: &std::path::Path) -> NodeOptions {
    let mut o = NodeOptions::new(dir.to_path_buf(), 0);
    o.block_time_ms = 50;
    o.api = ApiLimits::unlimited();
    o
}

fn post_raw(url: &str, body: &[u8]) -> (u16, Value) {
    let r = ureq::post(url)
        .set("content-type", "application/json")
        .send_bytes(body);
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    };
    let status = resp.status();
    let v: Value = resp.into_json().unwrap_or(Value::Null);
    (status, v)
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

#[test]
fn vertical_slice() {
    let dir = tmp("slice");
    let node = start(opts(&dir)).unwrap();
    let url = node.url();
    let client = Client::new(&url);
    let st = client.status().unwrap();
    assert_eq!(st.chain_id, azex_node::DEFAULT_CHAIN_ID);

    // List a market at 2,000 with 10M of LP capital.
    let mut lister = Sender::connect(client.clone(), dev_key(1)).unwrap();
    let n = bootstrap(
        &mut lister,
        &[MarketSpec {
            token: 1,
            price_wad: 2_000 * WAD,
            seed_azusd: 20_000_000 * USD_ONE,
        }],
        10_000_000 * USD_ONE,
    )
    .unwrap();
    assert_eq!(n, 1);

    // A trader: mint, simulate, open.
    let mut t = Sender::connect(client.clone(), dev_key(2)).unwrap();
    let me = t.address();
    must(
        &mut t,
        Tx::MintAzusd {
            user: me,
            usdc: 1_000_000 * USD_ONE,
        },
    )
    .unwrap();
    let open = Tx::OpenPosition {
        user: me,
        market: 0,
        qty: 10 * QTY_ONE as i128,
        margin: 5_000 * USD_ONE,
        price_bound: u128::MAX,
    };
    let sim = client.simulate(&open).unwrap();
    assert_eq!(sim["ok"], true, "{sim}");
    let ack = must(&mut t, open).unwrap();
    assert_eq!(ack.status, "committed");
    let h = ack.height.unwrap();

    // Receipts, blocks, account, market, vault, events.
    let r = client.tx(ack.hash).unwrap();
    assert_eq!(r["outcome"]["status"], "applied");
    let b = client.block(h).unwrap();
    assert!(b.txs.iter().any(|x| x.hash == ack.hash));
    let acct: Value = client.get(&format!("/v1/accounts/{me}")).unwrap();
    let pos = &acct["positions"][0];
    assert_eq!(pos["market"], 0);
    assert!(
        pos["equity"].is_string() && pos["liquidation_price"].is_string(),
        "{pos}"
    );
    let m: Value = client.get("/v1/markets/0").unwrap();
    assert!(m["market"]["requirement"]["azex"].is_string());
    let v: Value = client.get("/v1/vault").unwrap();
    assert!(v["nav"].is_string());
    // Index catches up right after the block.
    let mut found = false;
    for _ in 0..100 {
        let ev: Value = client
            .get(&format!("/v1/accounts/{me}/events?limit=50"))
            .unwrap();
        if ev["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"]["event"] == "position_opened")
        {
            found = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(found, "account events indexed");
    let mev: Value = client.get("/v1/markets/0/events?limit=5").unwrap();
    assert!(!mev["items"].as_array().unwrap().is_empty());

    // A refused transaction is committed with its reason and uses its nonce.
    let ack = t
        .send(
            Tx::ClosePosition {
                user: me,
                position: 999_999,
                price_bound: 0,
            },
            true,
        )
        .unwrap();
    assert!(
        matches!(ack.outcome, Some(Outcome::Refused { ref kind, .. }) if kind == "UnknownPosition")
    );

    // Admission errors, each with its code.
    let key = dev_key(3);
    let chain = st.chain_id;
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3_600;
    let tx = Tx::MintAzusd {
        user: key.address(),
        usdc: 1,
    };
    let good = key.sign(tx.clone(), 0, exp, chain);
    let mut bad_sig = good.clone();
    let mut sig = bad_sig.signature.to_vec();
    sig[10] ^= 1;
    bad_sig.signature = sig.into();
    let e = client.submit(&bad_sig, false).unwrap_err();
    assert!(
        matches!(e.code(), Some("bad_signature") | Some("signer_mismatch")),
        "{e}"
    );
    let wrong_chain = key.sign(tx.clone(), 0, exp, chain + 1);
    assert_eq!(
        client.submit(&wrong_chain, false).unwrap_err().code(),
        Some("wrong_chain_id")
    );
    let other = Key::from_seed(77).sign(tx.clone(), 0, exp, chain);
    assert_eq!(
        client.submit(&other, false).unwrap_err().code(),
        Some("signer_mismatch")
    );
    let expired = key.sign(tx.clone(), 0, 1_000, chain);
    assert_eq!(
        client.submit(&expired, false).unwrap_err().code(),
        Some("expired")
    );
    let too_far = key.sign(tx.clone(), 0, exp + 10 * 86_400, chain);
    assert_eq!(
        client.submit(&too_far, false).unwrap_err().code(),
        Some("expiry_too_far")
    );
    let ack = client.submit(&good, true).unwrap();
    assert_eq!(ack.status, "committed");
    assert_eq!(
        client.submit(&good, false).unwrap_err().code(),
        Some("nonce_used")
    );
    let far = key.sign(tx.clone(), 1_000_000, exp, chain);
    assert_eq!(
        client.submit(&far, false).unwrap_err().code(),
        Some("nonce_too_far")
    );
    let (s, v) = post_raw(&format!("{url}/v1/tx"), b"{not json");
    assert_eq!((s, code(&v)), (400, "invalid_tx"));
    // Just over the 64 KiB limit: small enough for loopback socket buffers to take it whole,
    // so that the client reads the 413 instead of a broken pipe.
    let (s, v) = post_raw(&format!("{url}/v1/tx"), &vec![b' '; (64 << 10) + 100]);
    assert_eq!((s, code(&v)), (413, "payload_too_large"));
    let (s, v) = post_raw(&format!("{url}/v1/simulate"), br#"{"type":"nope"}"#);
    assert_eq!((s, code(&v)), (400, "invalid_tx"));
    let e = client.get::<Value>("/v1/accounts/0x12/events").unwrap_err();
    assert_eq!(e.code(), Some("invalid_address"));
    let e = client.get::<Value>("/v1/nope").unwrap_err();
    assert_eq!(e.code(), Some("not_found"));
    let e = client.get::<Value>("/v1/blocks/abc").unwrap_err();
    assert_eq!(e.code(), Some("invalid_parameter"));
    let (s, v) = post_raw(&format!("{url}/v1/status"), b"{}");
    assert_eq!((s, code(&v)), (405, "method_not_allowed"));
    let metrics = ureq::get(&format!("{url}/metrics"))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    assert!(metrics.contains("azex_txs_committed_total"));
    let spec: Value = client.get("/v1/openapi.json").unwrap();
    assert!(spec["openapi"].is_string());

    // A follower replays everything and agrees on every state hash.
    let head = client.status().unwrap();
    let mut f = Follower::connect(&url).unwrap();
    while f.height() < head.height {
        f.poll(1_000).unwrap();
    }
    let b = client.block(f.height()).unwrap();
    assert_eq!(alloy_primitives::B256::from(f.state().hash()), b.state_hash);

    // Restart: the same chain, the same receipts, nonces remembered.
    let before = client.status().unwrap();
    node.stop();
    let node = start(opts(&dir)).unwrap();
    let client = Client::new(&node.url());
    let after = client.status().unwrap();
    assert!(after.height >= before.height);
    assert_eq!(
        node.startup.replayed_blocks,
        after.height.min(node.startup.replayed_blocks)
    );
    assert_eq!(client.tx(ack.hash).unwrap()["status"], "committed");
    assert_eq!(
        client.submit(&good, false).unwrap_err().code(),
        Some("nonce_used")
    );
    assert_eq!(
        client.block(before.height).unwrap().state_hash,
        before.state_hash
    );
    node.stop();
    let (vs, _) = azex_node::node::verify_dir(&dir).unwrap();
    assert!(vs.replayed_blocks >= before.height);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rate_limits_per_ip_and_per_account() {
    let dir = tmp("rate");
    let mut o = NodeOptions::new(dir.clone(), 0);
    o.block_time_ms = 50;
    o.api.ip_rps = 5.0;
    o.api.ip_burst = 20.0;
    o.api.account_tps = 1.0;
    o.api.account_burst = 3.0;
    let node = start(o).unwrap();
    let client = Client::new(&node.url());
    // Per account: the 4th transaction of a burst is refused (it was signed correctly).
    let k = dev_key(6);
    let chain = azex_node::DEFAULT_CHAIN_ID;
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 600;
    let mut codes = Vec::new();
    for n in 0..5u64 {
        let s = k.sign(
            Tx::MintAzusd {
                user: k.address(),
                usdc: 1,
            },
            n,
            exp,
            chain,
        );
        codes.push(
            client
                .submit(&s, false)
                .err()
                .and_then(|e| e.code().map(String::from)),
        );
    }
    // The burst of 3 passes (a slow machine may refill a 4th token at 1/s).
    assert!(
        codes.iter().filter(|c| c.is_none()).count() >= 3,
        "{codes:?}"
    );
    assert!(
        codes
            .iter()
            .any(|c| c.as_deref() == Some("account_rate_limited")),
        "{codes:?}"
    );
    // Per IP: a burst beyond 20 requests is refused with 429 rate_limited.
    let mut limited = 0;
    for _ in 0..40 {
        if let Err(e) = client.status() {
            assert_eq!(e.code(), Some("rate_limited"));
            limited += 1;
        }
    }
    assert!(limited > 0);
    node.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
