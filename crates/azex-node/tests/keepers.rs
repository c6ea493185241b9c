//! Keepers as separate processes (here: threads, each with its own follower over HTTP and its
//! own key): three keepers, two killed mid-run, still liquidate every position that falls due
//! after a price drop, without a deficit.

#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_lossless
)] // test data is built with plain casts

use azex_client::{Client, Sender};
use azex_exchange::handlers::liquidation::is_liquidatable;
use azex_exchange::units::{QTY_ONE, USD_ONE, WAD};
use azex_exchange::Tx;
use azex_node::api::ApiLimits;
use azex_node::genesis::dev_key;
use azex_node::keeper::{run_keeper, KeeperOptions};
use azex_node::setup::{bootstrap, must, MarketSpec};
use azex_node::{start, NodeOptions};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[test]
fn three_keepers_two_killed() {
    let dir = std::env::temp_dir().join(format!("azex-keepers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut o = NodeOptions::new(dir.clone(), 0);
    o.block_time_ms = 50;
    o.api = ApiLimits::unlimited();
    let node = start(o).unwrap();
    let url = node.url();
    let client = Client::new(&url);
    let mut lister = Sender::connect(client.clone(), dev_key(1)).unwrap();
    bootstrap(
        &mut lister,
        &[MarketSpec {
            token: 1,
            price_wad: 2_000 * WAD,
            seed_azusd: 20_000_000 * USD_ONE,
        }],
        10_000_000 * USD_ONE,
    )
    .unwrap();

    // Traders 2..=9 open leveraged longs (about 8x).
    for k in 2..=9u64 {
        let mut t = Sender::connect(client.clone(), dev_key(k)).unwrap();
        let me = t.address();
        must(
            &mut t,
            Tx::MintAzusd {
                user: me,
                usdc: 100_000 * USD_ONE,
            },
        )
        .unwrap();
        for _ in 0..3 {
            must(
                &mut t,
                Tx::OpenPosition {
                    user: me,
                    market: 0,
                    // 1 token (~$2,000): 24 of them stay inside the market's OI cap.
                    qty: QTY_ONE as i128,
                    margin: 260 * USD_ONE,
                    price_bound: u128::MAX,
                },
            )
            .unwrap();
        }
    }
    let opened = node.shared.state.read().unwrap().positions.len();
    assert_eq!(opened, 24);

    // Three keepers, each with its own key file and replica.
    let mut keepers = Vec::new();
    for i in 0..3 {
        let stop = Arc::new(AtomicBool::new(false));
        let opts = KeeperOptions {
            node: url.clone(),
            key: dir.join(format!("keeper-{i}.key")),
            until_height: None,
            quiet: true,
        };
        let s2 = stop.clone();
        keepers.push((stop, std::thread::spawn(move || run_keeper(&opts, &s2))));
    }
    std::thread::sleep(Duration::from_millis(300));
    // Kill two of them.
    for (stop, _) in &keepers[..2] {
        stop.store(true, Ordering::SeqCst);
    }

    // A whale sells base until the pool price is 15% lower.
    let (sqrt, q0) = {
        let st = node.shared.state.read().unwrap();
        let m = st.markets[0];
        (
            azex_exchange::spot_link::sqrt_from_price(1_700 * WAD, m.quote_is_token0, 18).unwrap(),
            m.quote_is_token0,
        )
    };
    let _ = q0;
    let mut whale = Sender::connect(client.clone(), dev_key(10)).unwrap();
    let wa = whale.address();
    must(
        &mut whale,
        Tx::SpotSwap {
            user: wa,
            market: 0,
            base_for_quote: true,
            amount_specified: -(500_000 * QTY_ONE as i128),
            sqrt_price_limit_x96: Some(sqrt),
        },
    )
    .unwrap();

    // Bounded wait: every position that is liquidatable gets liquidated.
    let t0 = Instant::now();
    let liquidated;
    loop {
        let (due, left) = {
            let st = node.shared.state.read().unwrap();
            let m = st.markets[0];
            let p = &st.market_params[0];
            let due = st
                .positions
                .values()
                .filter(|pos| {
                    is_liquidatable(
                        p,
                        m.side(pos.is_long()),
                        pos,
                        m.liquidation_price(pos.is_long()),
                    )
                    .unwrap_or(false)
                })
                .count();
            (due, st.positions.len())
        };
        let gone = opened - left;
        let spot = node.shared.state.read().unwrap().markets[0].prices.spot;
        if due == 0 && gone > 0 && spot < 1_750 * WAD {
            liquidated = gone;
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(90),
            "{due} positions still due after 90 s ({gone} liquidated, spot {spot})"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Stop the last keeper; read what happened from the blocks.
    keepers[2].0.store(true, Ordering::SeqCst);
    let mut reports = Vec::new();
    for (_, h) in keepers {
        reports.push(h.join().unwrap().unwrap());
    }
    assert!(
        reports[2].sent > 0,
        "the surviving keeper sent liquidations"
    );
    let head = client.status().unwrap().height;
    let mut deficits = 0;
    let mut liq_events = 0;
    for h in 1..=head {
        let b = client.block(h).unwrap();
        for e in azex_node::index::block_events(&b) {
            match e["event"].as_str() {
                Some("deficit_covered") => deficits += 1,
                Some("position_liquidated") => liq_events += 1,
                _ => {}
            }
        }
    }
    eprintln!(
        "{liquidated} of {opened} positions liquidated ({liq_events} liquidation events), {deficits} deficits; keeper reports: {:?}",
        reports.iter().map(|r| (r.sent, r.send_errors, r.height)).collect::<Vec<_>>()
    );
    assert!(liquidated > 0);
    assert_eq!(deficits, 0, "no deficit");
    node.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
