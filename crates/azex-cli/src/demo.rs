//! `azex demo`: the spot pool with the oracle hook, seen block by block.

use crate::fmt::{usd, wad};
use crate::out::{Fail, Out};
use azex_exchange::testkit::{addr, World, WorldSpec};
use azex_exchange::units::{QTY_ONE, USD_ONE, WAD};
use azex_exchange::Tx;

fn show(out: &mut Out, w: &World, key: &azex_spot::PoolKey, action: &str) -> Result<(), Fail> {
    let m = &w.state.markets[0];
    let tick = w.state.spot.slot0(key).map(|s| s.tick).unwrap_or(0);
    out.line(format_args!(
        "{:>5}  {:>8}  {:>12}  {:>12}  {:>12}  {:>14}  {action}",
        w.block.height,
        tick,
        wad(m.prices.pool, 2),
        wad(m.prices.spot, 2),
        wad(m.prices.risk, 2),
        usd(m.prices.spot_liquidity)
    ))
}

pub(crate) fn run(out: &mut Out) -> Result<(), Fail> {
    let e = |x: azex_exchange::ExchangeError| Fail::Msg(x.to_string());
    // A swap's exact input, as the engine's signed amount (its overflow error if it could not be).
    let signed = |x: u128| i128::try_from(x).map_err(|_| e(azex_exchange::ExchangeError::Overflow));
    let spec = WorldSpec {
        markets: vec![(1, 2_000 * WAD, 2_000_000 * USD_ONE)],
        lp_capital: 0,
        ..WorldSpec::default()
    };
    out.line(format_args!(
        "AZEx demo: an azUSD/BASE pool (Uniswap v4 semantics) with the AZEx oracle hook."
    ))?;
    out.line(format_args!("Listing BASE at $2,000 with $2M of azUSD liquidity (+ the matching BASE) over ±6000 ticks.\n"))?;
    let mut w = World::new(&spec).map_err(e)?;
    let key = w.state.markets[0].pool_key;
    let max_move = w.state.params.max_abs_tick_move;
    // 1.0001^max_move − 1 in basis points (integer approximation: max_move ticks ≈ max_move bp).
    out.line(format_args!(
        "oracle: at most one observation per block, truncated to ±{max_move} ticks (≈ ±{max_move} bp) per observation; risk price = {}s TWAP\n",
        w.state.params.risk_twap_window_secs
    ))?;
    out.line(format_args!(
        "{:>5}  {:>8}  {:>12}  {:>12}  {:>12}  {:>14}  action",
        "block", "pool tick", "pool price", "truncated", "TWAP (risk)", "depth ±2%"
    ))?;
    show(out, &w, &key, "listed")?;
    w.block_time = 12;
    for i in 0..3 {
        // Exact input: 1 BASE when selling, $2,000 of azUSD when buying.
        let (sell, amount) = if i % 2 == 0 {
            (true, QTY_ONE)
        } else {
            (false, 2_000 * USD_ONE)
        };
        w.tx(Tx::SpotSwap {
            user: addr(2),
            market: 0,
            base_for_quote: sell,
            amount_specified: -signed(amount)?,
            sqrt_price_limit_x96: None,
        })
        .map_err(e)?;
        w.next_block().map_err(e)?;
        show(out, &w, &key, "small swap")?;
    }
    // A manipulator buys BASE with $400k of azUSD in one swap.
    w.tx(Tx::SpotSwap {
        user: addr(3),
        market: 0,
        base_for_quote: false,
        amount_specified: -signed(400_000 * USD_ONE)?,
        sqrt_price_limit_x96: None,
    })
    .map_err(e)?;
    show(
        out,
        &w,
        &key,
        "MANIPULATION: $400k buy in one swap (prices refresh at the next block)",
    )?;
    for _ in 0..6 {
        w.next_block().map_err(e)?;
        show(
            out,
            &w,
            &key,
            "no trades: the truncated price walks toward the pool price",
        )?;
    }
    // The manipulator sells back.
    let bal = w.state.wallet(addr(3), w.state.markets[0].base_token);
    let bought = bal.saturating_sub(spec.base_each);
    w.tx(Tx::SpotSwap {
        user: addr(3),
        market: 0,
        base_for_quote: true,
        amount_specified: -signed(bought)?,
        sqrt_price_limit_x96: None,
    })
    .map_err(e)?;
    w.next_block().map_err(e)?;
    show(out, &w, &key, "manipulator sells back")?;
    for _ in 0..3 {
        w.next_block().map_err(e)?;
        show(out, &w, &key, "")?;
    }
    out.line(format_args!("\nThe pool price jumped; the truncated price AZEx marks with moved at most {max_move} ticks per block,"))?;
    out.line(format_args!(
        "and the TWAP used for liquidations moved less. state hash {}",
        w.state.hash_hex()
    ))?;
    Ok(())
}
