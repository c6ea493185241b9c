//! New exposure waits for a settled oracle (docs/risk.md §8, `handlers::price_guard`): a
//! listing's warm-up, a stall, a lagging truncated spot and a thaw after a depth-loss freeze each
//! hold opens and grows back; reductions, closes and liquidations are never held. Found by the
//! adversary search (class (f) and the freeze-release jump, crates/azex-adversary/FINDINGS.md).
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_lossless
)] // test data is built with plain casts

mod common;

use azex_exchange::event::Event;
use azex_exchange::testkit::{addr, token, WorldSpec};
use azex_exchange::units::{QTY_ONE, USD_ONE, WAD};
use azex_exchange::{ExchangeError, GenesisBalance, Tx};
use common::Checked;

fn tokens(n: i128) -> i128 {
    n * QTY_ONE as i128
}

fn world() -> Checked {
    let mut spec = WorldSpec {
        users: 6,
        lp_capital: 5_000_000 * USD_ONE,
        ..WorldSpec::default()
    };
    // Token 2 for a listing after genesis.
    spec.genesis.balances.push(GenesisBalance {
        owner: addr(5),
        token: token(2),
        amount: 10_000_000 * QTY_ONE,
    });
    Checked::new(&spec).unwrap()
}

fn not_settled(r: Result<u64, ExchangeError>) -> bool {
    matches!(r, Err(ExchangeError::PriceNotSettled { .. }))
}

fn last_new_exposure(w: &Checked, market: u32) -> bool {
    w.events
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::PricesUpdated {
                market: m,
                new_exposure,
                ..
            } if *m == market => Some(*new_exposure),
            _ => None,
        })
        .expect("prices_updated")
}

#[test]
fn a_listing_takes_new_exposure_only_after_one_twap_window() {
    let mut w = world();
    w.tx(Tx::MintAzusd {
        user: addr(5),
        usdc: 5_000_000 * USD_ONE,
    })
    .unwrap();
    w.tx(Tx::CreateMarket {
        user: addr(5),
        base_token: token(2),
        base_decimals: 18,
        fee: 500,
        tick_spacing: 10,
        initial_price: 5 * WAD,
        tick_range: 2_000,
        seed_azusd: 2_000_000 * USD_ONE,
    })
    .unwrap();
    let listed = w.block.timestamp;
    let window = u64::from(w.state.params.risk_twap_window_secs);
    assert_eq!(w.state.markets[1].settled_at, listed + window);
    // In the listing block and for one window after it, no open on the new market.
    assert!(not_settled(w.open(2, 1, tokens(1_000), 5_000 * USD_ONE)));
    while w.block.timestamp + 2 < listed + window {
        w.next_block().unwrap();
        assert!(!last_new_exposure(&w, 1));
        assert!(not_settled(w.open(2, 1, tokens(-1_000), 5_000 * USD_ONE)));
    }
    // The genesis market is not held back meanwhile.
    w.open(2, 0, tokens(1), 1_000 * USD_ONE).unwrap();
    w.next_block().unwrap();
    w.next_block().unwrap();
    assert!(last_new_exposure(&w, 1));
    w.open(2, 1, tokens(1_000), 5_000 * USD_ONE).unwrap();
}

#[test]
fn a_stall_holds_new_exposure_back_for_one_window_never_a_reduction() {
    let mut w = world();
    let long = w.open(2, 0, tokens(10), 10_000 * USD_ONE).unwrap();
    w.open(3, 0, tokens(-5), 10_000 * USD_ONE).unwrap();
    // A block two block times late is a stall (default max gap: one block time).
    w.block_time = 5;
    w.next_block().unwrap();
    w.block_time = 2;
    let stalled_at = w.block.timestamp;
    assert!(!last_new_exposure(&w, 0));
    assert!(not_settled(w.open(4, 0, tokens(1), 5_000 * USD_ONE)));
    let grow = w.tx(Tx::ModifyPosition {
        user: addr(2),
        position: long,
        qty_delta: tokens(1),
        price_bound: u128::MAX,
    });
    assert!(matches!(grow, Err(ExchangeError::PriceNotSettled { .. })));
    // A reduction goes through at once.
    w.tx(Tx::ModifyPosition {
        user: addr(2),
        position: long,
        qty_delta: tokens(-2),
        price_bound: 0,
    })
    .unwrap();
    w.settle().unwrap();
    assert_eq!(
        w.block.timestamp,
        stalled_at + u64::from(w.state.params.risk_twap_window_secs)
    );
    w.open(4, 0, tokens(1), 5_000 * USD_ONE).unwrap();
}

#[test]
fn a_lagging_oracle_takes_no_new_exposure_until_it_has_caught_up() {
    let mut w = world();
    let long = w.open(2, 0, tokens(10), 10_000 * USD_ONE).unwrap();
    // Push the pool 3 % up in one block: the truncated spot follows 50 ticks (≈ 0.5 %) a block.
    let p = w.state.markets[0].prices.pool;
    w.move_price(4, 0, p / 100 * 103, 1).unwrap();
    let lag = w.state.markets[0].prices.oracle_lag_ticks;
    assert!(lag > 200, "lag {lag}");
    assert!(not_settled(w.open(3, 0, tokens(-1), 5_000 * USD_ONE)));
    w.close(2, long).unwrap();
    let mut blocks = 0;
    while w.state.markets[0].prices.oracle_lag_ticks > 0 {
        w.next_block().unwrap();
        blocks += 1;
        assert!(blocks < 10, "caught up in a few blocks");
    }
    assert!(last_new_exposure(&w, 0));
    w.open(3, 0, tokens(-1), 5_000 * USD_ONE).unwrap();
}

/// The lister's biggest spot position: (tick_lower, tick_upper, liquidity, salt).
fn lister_position(w: &Checked) -> (i32, i32, u128, u64) {
    let m = w.state.markets[0];
    let pool = w.state.spot.pool(&m.pool_key).unwrap();
    let (k, pos) = pool
        .positions()
        .filter(|(k, p)| k.owner == addr(1) && p.liquidity > 0)
        .max_by_key(|(_, p)| p.liquidity)
        .unwrap();
    let mut salt = [0u8; 8];
    salt.copy_from_slice(&k.salt[24..]);
    (
        k.tick_lower,
        k.tick_upper,
        pos.liquidity,
        u64::from_be_bytes(salt),
    )
}

#[test]
fn after_a_freeze_prices_thaw_one_bound_per_block() {
    let mut w = world();
    let long = w.open(2, 0, tokens(5), 5_000 * USD_ONE).unwrap();
    let (lo, hi, liq, salt) = lister_position(&w);
    w.tx(Tx::SpotLiquidity {
        user: addr(1),
        market: 0,
        tick_lower: lo,
        tick_upper: hi,
        liquidity_delta: -(liq as i128),
        salt,
    })
    .unwrap();
    let frozen = w.state.markets[0].frozen_price;
    assert!(frozen > 0);
    // The empty pool is moved 5 % down; the truncated oracle walks there under the freeze.
    let p = w.state.markets[0].prices.pool;
    w.move_price(4, 0, p / 100 * 95, 6).unwrap();
    assert_eq!(w.state.markets[0].prices.spot, frozen);
    // Depth comes back around the new price.
    let tick = w
        .state
        .spot
        .slot0(&w.state.markets[0].pool_key)
        .unwrap()
        .tick;
    let mid = tick - tick.rem_euclid(10);
    w.tx(Tx::SpotLiquidity {
        user: addr(1),
        market: 0,
        tick_lower: mid - 6_000,
        tick_upper: mid + 6_000,
        liquidity_delta: liq as i128,
        salt: 7,
    })
    .unwrap();
    let step =
        azex_exchange::handlers::price_guard::bound_ratio_wad(w.state.params.max_abs_tick_move)
            .unwrap();
    let mut prev = (frozen, frozen);
    let mut blocks = 0;
    loop {
        w.next_block().unwrap();
        let m = w.state.markets[0];
        assert_eq!(m.frozen_price, 0);
        for (now, was) in [(m.prices.spot, prev.0), (m.prices.risk, prev.1)] {
            // At most one bound a block (rounded down: never a longer step).
            assert!(
                now as f64 >= was as f64 * WAD as f64 / step as f64 * (1.0 - 1e-12),
                "{was} -> {now}"
            );
            assert!(now <= was, "prices only fall here");
        }
        prev = (m.prices.spot, m.prices.risk);
        if m.thaw_spot == 0 {
            break;
        }
        assert!(!last_new_exposure(&w, 0));
        assert!(not_settled(w.open(3, 0, tokens(1), 5_000 * USD_ONE)));
        blocks += 1;
        assert!(blocks < 40);
    }
    assert!(
        blocks >= 8,
        "a 5 % move thaws over about ten blocks: {blocks}"
    );
    w.settle().unwrap();
    w.open(3, 0, tokens(1), 5_000 * USD_ONE).unwrap();
    // The long was liquidatable on the way, step by step, without a deficit.
    let _ = w.close(2, long);
    assert!(!w
        .events
        .iter()
        .any(|e| matches!(e, Event::DeficitCovered { .. })));
}

#[test]
fn a_pool_pushed_to_the_edge_of_its_range_does_not_stop_the_chain() {
    let mut spec = WorldSpec {
        users: 6,
        lp_capital: 5_000_000 * USD_ONE,
        ..WorldSpec::default()
    };
    // The widest truncation, so that the oracle reaches the edge within the test.
    spec.genesis.params.max_abs_tick_move = 9_116;
    let mut w = Checked::new(&spec).unwrap();
    let long = w.open(2, 0, tokens(5), 5_000 * USD_ONE).unwrap();
    let m = w.state.markets[0];
    let up = !m.quote_is_token0; // buying base raises the sqrt price when base is token1
    let limit = if up {
        azex_spot::math::tick_math::MAX_SQRT_PRICE - azex_math::U256::from(1u8)
    } else {
        azex_spot::math::tick_math::MIN_SQRT_PRICE + azex_math::U256::from(1u8)
    };
    w.tx(Tx::SpotSwap {
        user: addr(4),
        market: 0,
        base_for_quote: false,
        amount_specified: -(50_000_000 * USD_ONE as i128),
        sqrt_price_limit_x96: Some(limit),
    })
    .unwrap();
    let tick = w.state.spot.slot0(&m.pool_key).unwrap().tick;
    assert!(tick.abs() > 880_000, "the pool is at the edge: tick {tick}");
    // ~100 blocks walk the truncated tick across the whole range; every block runs.
    w.advance(120).unwrap();
    assert!(matches!(
        w.state.markets[0].status,
        azex_exchange::state::MarketStatus::Delisted { .. }
    ));
    w.tx(Tx::SettleDelisted {
        user: addr(9),
        position: long,
    })
    .unwrap();
}

/// `State::liquidation_price` is where the engine's own liquidation check flips.
#[test]
fn the_liquidation_price_is_where_the_check_flips() {
    use azex_exchange::handlers::liquidation::is_liquidatable;
    let mut w = world();
    let long = w.open(2, 0, tokens(45), 10_000 * USD_ONE).unwrap();
    let short = w.open(3, 0, tokens(-45), 10_000 * USD_ONE).unwrap();
    let safe = w.open(4, 0, tokens(1), 5_000 * USD_ONE).unwrap();
    w.next_block().unwrap();
    let s = &w.state;
    let p = &s.market_params[0];
    let m = &s.markets[0];
    let check = |id: u64, price: u128| {
        let pos = s.position(id).unwrap();
        is_liquidatable(p, m.side(pos.is_long()), pos, price).unwrap()
    };
    let l = s.liquidation_price(long).unwrap().unwrap();
    assert!(check(long, l) && !check(long, l + 1), "long flips at {l}");
    assert!(
        l < m.prices.spot && l > m.prices.spot * 8 / 10,
        "a 9x long: some 8 % below"
    );
    let h = s.liquidation_price(short).unwrap().unwrap();
    assert!(
        check(short, h) && !check(short, h - 1),
        "short flips at {h}"
    );
    assert!(h > m.prices.spot && h < m.prices.spot * 12 / 10);
    // A long margined beyond its notional is never liquidatable.
    assert_eq!(s.liquidation_price(safe).unwrap(), None);
}
