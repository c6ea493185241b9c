//! Shared helpers for the keeper tests: leveraged worlds, a price mover, liquidatability checks.
#![allow(dead_code)]

use alloy_primitives::Address;
use azex_exchange::handlers::liquidation::is_liquidatable;
use azex_exchange::spot_link::{price_from_sqrt_saturating, sqrt_from_price};
use azex_exchange::testkit::{addr, World, WorldSpec};
use azex_exchange::units::{Price, QTY_ONE, USD_ONE, WAD};
use azex_exchange::{ExchangeError, MarketId, PositionId, State, Tx, AZUSD};
use azex_keeper::{ChainConfig, LocalChain};

/// The user who moves prices (holds plenty of azUSD and base token).
pub(crate) const MOVER: u64 = 4;

/// A deep market ($20M seed) at $2,000, a $20M vault, `n` positions of $10k–$40k at 3x–18x,
/// alternating long and short, owned by users 5.. (user 4 moves prices), plus two whales of
/// $400k at 9x (one each side), liquidated stepwise.
pub(crate) fn leveraged_world(n: usize) -> (World, Vec<PositionId>) {
    let mut w = World::new(&WorldSpec {
        users: 26,
        markets: vec![(1, 2_000 * WAD, 20_000_000 * USD_ONE)],
        lp_capital: 20_000_000 * USD_ONE,
        ..WorldSpec::default()
    })
    .expect("world");
    let mut ids = Vec::with_capacity(n);
    for i in 0..n as u64 {
        let lev = 3 + (i * 7) % 16; // 3x..18x
        let notional = 10_000 + (i * 3_700) % 30_000; // $10k..$40k
        let qty = (notional as u128 * QTY_ONE / 2_000) as i128;
        let qty = if i % 2 == 0 { qty } else { -qty };
        // Up to +16 % margin on top, so positions of one leverage do not all fall together.
        let margin =
            notional as u128 * USD_ONE * (100 + (i as u128 * 13) % 17) / (100 * lev as u128);
        let user = 5 + i % 20;
        ids.push(w.open(user, 0, qty, margin).expect("open position"));
    }
    for (user, sign) in [(25, 1i128), (26, -1)] {
        let qty = sign * 200 * QTY_ONE as i128;
        ids.push(
            w.open(user, 0, qty, 400_000 * USD_ONE / 9)
                .expect("open whale"),
        );
    }
    (w, ids)
}

pub(crate) fn chain_of(w: World, verify_refusals: bool) -> LocalChain {
    LocalChain::new(
        w.state,
        ChainConfig {
            verify_refusals,
            ..ChainConfig::default()
        },
    )
    .expect("chain")
}

/// A swap of `mover` taking the pool of `market` to `target` (USD per token, WAD), like the
/// testkit's `World::move_price`, as a transaction for the mempool.
pub(crate) fn swap_to(s: &State, mover: Address, market: MarketId, target: Price) -> Option<Tx> {
    let m = &s.markets[market as usize];
    let sqrt = sqrt_from_price(target, m.quote_is_token0, m.base_decimals).ok()?;
    let cur = s.spot.slot0(&m.pool_key).ok()?.sqrt_price_x96;
    if sqrt == cur {
        return None;
    }
    let now = price_from_sqrt_saturating(cur, m.quote_is_token0, m.base_decimals);
    let sell_base = target < now;
    let bal = if sell_base {
        s.wallet(mover, m.base_token)
    } else {
        s.wallet(mover, AZUSD)
    };
    Some(Tx::SpotSwap {
        user: mover,
        market,
        base_for_quote: sell_base,
        amount_specified: -((bal / 2) as i128),
        sqrt_price_limit_x96: Some(sqrt),
    })
}

/// The price path of the main scenario: down 10 % in 2 % steps, up to +10 %, then still.
/// `(target price, blocks to hold)`.
pub(crate) fn down_and_up() -> Vec<(Price, u64)> {
    let mut p = vec![];
    for d in [1_960u128, 1_920, 1_880, 1_840, 1_800] {
        p.push((d * WAD, 20));
    }
    for u in [1_900u128, 2_000, 2_100, 2_200] {
        p.push((u * WAD, 20));
    }
    p.push((2_200 * WAD, 40));
    p
}

/// Positions liquidatable at their side's liquidation price (the engine's own predicate).
pub(crate) fn liquidatable(s: &State) -> Vec<PositionId> {
    s.positions
        .values()
        .filter(|p| {
            let m = &s.markets[p.market as usize];
            let params = &s.market_params[p.market as usize];
            let long = p.is_long();
            is_liquidatable(params, m.side(long), p, m.liquidation_price(long)).expect("predicate")
        })
        .map(|p| p.id)
        .collect()
}

/// Every position refuses a `Liquidate` simulation with `NotLiquidatable`.
pub(crate) fn assert_none_liquidatable_by_simulation(s: &State) {
    for id in s.positions.keys() {
        match s.simulate(&Tx::Liquidate {
            user: addr(777),
            position: id,
        }) {
            Err(ExchangeError::NotLiquidatable { .. }) => {}
            other => panic!("position {id}: {other:?}"),
        }
    }
}

/// Keeper addresses.
pub(crate) fn keeper(n: u64) -> Address {
    addr(9_000 + n)
}
