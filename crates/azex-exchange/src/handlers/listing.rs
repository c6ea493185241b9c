//! Permissionless listing (docs/protocol.md §11): anyone creates a market for any token by creating
//! its azUSD/BASE pool with the oracle hook and seeding liquidity from their own wallet.
//!
//! Rules (the Drift Apr-2026 and Mango lessons): the seeded pool must hold at least
//! `min_listing_depth` of value within the oracle's depth band; the market's OI caps are tied to
//! that depth (`oi_cap_depth_multiple × depth` per side); all other risk parameters take the
//! validated defaults — the lister cannot choose looser ones. A market whose depth later falls
//! below its `min_spot_liquidity` stops taking exposure (see the liquidation/delisting rules).

use crate::ctx::{Ctx, SpotOp};
use crate::error::ExchangeError;
use crate::event::Event;
use crate::ids::MarketId;
use crate::params::MarketParams;
use crate::spot_link::{self, spot_err, ORACLE_HOOK};
use crate::state::{Market, MarketPrices, MarketStatus, Side, AZUSD, USDC};
use crate::units::{Checked, Price, Usd};
use alloy_primitives::{Address, U256};
use azex_math::mul_div;
use azex_spot::math::tick_math::{
    get_sqrt_price_at_tick, get_tick_at_sqrt_price, MAX_TICK, MIN_TICK,
};
use azex_spot::{ModifyLiquidityParams, Pool, PoolKey};

/// The highest LP fee tier a listing may choose: 1 % (Uniswap's highest standard tier).
pub(crate) const MAX_LISTING_FEE_PIPS: u32 = 10_000;
/// One pip (1e-6) in WAD.
const PIPS_TO_WAD: u128 = 1_000_000_000_000;

/// A market's parameters at listing (and relisting) with spot depth `depth` on a pool of LP fee
/// tier `fee_pips`: the defaults, OI caps from the depth, and a taker fee of at least the fee
/// tier — a round trip must cost at least the width of the pool's fee band, inside which the pool
/// price can sit without being arbitraged (docs/protocol.md §11).
pub(crate) fn listed_params(
    depth: Usd,
    fee_pips: u32,
    band_ticks: i32,
    g: &crate::params::GlobalParams,
) -> Result<MarketParams, ExchangeError> {
    let mut mp = MarketParams::derive_from_depth(depth, g);
    mp.taker_fee_wad = mp.taker_fee_wad.max(u128::from(fee_pips) * PIPS_TO_WAD);
    mp.max_oi_per_side =
        mp.max_oi_per_side
            .min(manipulation_oi_cap(depth, mp.taker_fee_wad, band_ticks, g)?);
    mp.validate()?;
    Ok(mp)
}

/// The largest position on one side that cannot profit from moving the oracle (docs/protocol.md
/// §11; derivation in docs/risk.md §8): `N ≤ 2 f W D / b`, with `D` the spot depth within the band
/// `±b`, `f` the taker fee and `W` the blocks in the TWAP window. Trades execute at the less
/// favourable of the truncated spot and its TWAP, so moving the price a position trades at by `x`
/// means holding the pool `x` away for the whole window, against an arbitrageur who brings it back
/// every block: at least `W × D x² / (4b)`. The gain is at most `N x − 2 f N` (a round trip's
/// fees); its maximum over `x`, `N² b / (W D) − 2 f N`, is ≤ 0 exactly when `N ≤ 2 f W D / b`.
/// `b` is taken from above (`1.03e-4` per tick, true up to 290 ticks), rounded down overall.
pub(crate) fn manipulation_oi_cap(
    depth: Usd,
    taker_fee_wad: u128,
    band_ticks: i32,
    g: &crate::params::GlobalParams,
) -> Result<Usd, ExchangeError> {
    let w = u128::from((g.risk_twap_window_secs / g.block_time_secs.max(1)).max(1));
    let band_wad = u128::try_from(band_ticks.max(1))
        .map_err(|_| ExchangeError::Overflow)?
        .saturating_mul(103_000_000_000_000);
    let cap = mul_div(
        U256::from(depth),
        U256::from(2 * w) * U256::from(taker_fee_wad),
        U256::from(band_wad),
    )?;
    Ok(u128::try_from(cap).unwrap_or(u128::MAX))
}

/// The OI cap in force now: the listing's cap, and the manipulation bound at the market's depth
/// at block begin (a depth that has fallen since listing defends less OI: docs/risk.md §8).
pub(crate) fn oi_cap_now(
    m: &Market,
    p: &MarketParams,
    band_ticks: i32,
    g: &crate::params::GlobalParams,
) -> Result<Usd, ExchangeError> {
    Ok(p.max_oi_per_side.min(manipulation_oi_cap(
        m.prices.spot_liquidity,
        p.taker_fee_wad,
        band_ticks,
        g,
    )?))
}

/// Whether spot depth `depth` still defends the market's oracle for the OI it has: the larger
/// side's notional at the risk price within the manipulation bound at that depth (docs/risk.md
/// §8). When it does not, the oracle is treated as when depth is gone: prices freeze and the
/// market is reduce-only until it does again.
pub(crate) fn depth_defends(
    m: &Market,
    p: &MarketParams,
    depth: Usd,
    band_ticks: i32,
    g: &crate::params::GlobalParams,
) -> Result<bool, ExchangeError> {
    let big = m.long.eff_qty()?.max(m.short.eff_qty()?);
    let oi = crate::units::notional_down(
        i128::try_from(big).map_err(|_| ExchangeError::Overflow)?,
        m.prices.risk,
    )?;
    Ok(oi <= manipulation_oi_cap(depth, p.taker_fee_wad, band_ticks, g)?)
}

/// Where the mark curve of a market with these parameters is clamped.
pub(crate) fn clamp_of(mp: &MarketParams) -> Result<u128, ExchangeError> {
    crate::math::mark::clamp_utilisation(crate::handlers::trade::curve(mp), mp.max_premium_wad)
}

/// A listing request: the fields of `Tx::CreateMarket`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Listing {
    pub user: Address,
    pub base_token: Address,
    pub base_decimals: u8,
    /// LP fee of the spot pool, pips.
    pub fee: u32,
    pub tick_spacing: i32,
    /// USD per whole base token (WAD).
    pub initial_price: Price,
    /// The seed covers `±tick_range` ticks around the initial price.
    pub tick_range: i32,
    pub seed_azusd: Usd,
}

/// Permissionless listing (docs/protocol.md §11): validate the request, quote the seeded pool,
/// check its depth, derive the market's parameters, charge the seed; the pool is created and
/// seeded at commit.
pub(crate) fn create_market(ctx: &mut Ctx, l: &Listing) -> Result<MarketId, ExchangeError> {
    check_listing(ctx, l)?;
    let quote_is_token0 = AZUSD < l.base_token;
    let (currency0, currency1) = if quote_is_token0 {
        (AZUSD, l.base_token)
    } else {
        (l.base_token, AZUSD)
    };
    let key = PoolKey {
        currency0,
        currency1,
        fee: l.fee,
        tick_spacing: l.tick_spacing,
        hooks: ORACLE_HOOK,
    };
    let sqrt_p = spot_link::sqrt_from_price(l.initial_price, quote_is_token0, l.base_decimals)?;
    let params = seed_position(l, sqrt_p, quote_is_token0)?;
    // Quote on a fresh pool: exactly what the manager will do after initialising it.
    let mut pool = Pool::new(l.tick_spacing, sqrt_p, l.fee).map_err(spot_err)?;
    let plan = pool.compute_modify_liquidity(&params).map_err(spot_err)?;
    let delta = plan.outcome.caller_delta;
    pool.commit_modify_liquidity(&plan);
    // Depth within the oracle band, valued at the pool price.
    let band = ctx.s.spot.hook().default_params().depth_band_ticks;
    let depth = spot_link::pool_depth(&pool, quote_is_token0, band)?;
    let price = spot_link::price_from_sqrt(sqrt_p, quote_is_token0, l.base_decimals)?;
    if depth < ctx.s.params.min_listing_depth {
        return Err(ExchangeError::InsufficientDepth {
            depth,
            minimum: ctx.s.params.min_listing_depth,
        });
    }
    let mp = listed_params(depth, l.fee, band, &ctx.s.params)?;
    let mut m = new_market(ctx, l, key, quote_is_token0)?;
    m.clamp_u_wad = clamp_of(&mp)?;
    // Trades in the listing block are priced with the vault's free liquidity now.
    let free = ctx.vault_totals()?.free_liquidity;
    m.prices = MarketPrices {
        spot: price,
        risk: price,
        pool: price,
        spot_liquidity: depth,
        free_liquidity: free,
        capacity: crate::math::mark::impact_capacity(mp.k1_wad, depth, mp.k2_wad, free)?,
        oracle_lag_ticks: 0,
    };
    // The creator pays the seed.
    let (dq, db) = if quote_is_token0 {
        (delta.amount0, delta.amount1)
    } else {
        (delta.amount1, delta.amount0)
    };
    let (pay_q, pay_b) = (dq.unsigned_abs(), db.unsigned_abs());
    ctx.debit(l.user, AZUSD, pay_q)?;
    ctx.debit(l.user, l.base_token, pay_b)?;
    m.pool_azusd = m.pool_azusd.add_c(pay_q)?;
    m.pool_base = m.pool_base.add_c(pay_b)?;
    let id = m.id;
    ctx.emit(Event::MarketCreated {
        market: id,
        base_token: l.base_token,
        creator: l.user,
        spot_liquidity: depth,
        max_oi_per_side: mp.max_oi_per_side,
        price,
        seed_azusd: pay_q,
        seed_base: pay_b,
        taker_fee_wad: mp.taker_fee_wad,
    });
    ctx.fx.spot_ops.push(SpotOp::Initialize {
        key,
        sqrt_price_x96: sqrt_p,
    });
    ctx.fx.spot_ops.push(SpotOp::Modify {
        key,
        params,
        sender: l.user,
        expected: delta,
    });
    ctx.fx.new_markets.push((m, mp));
    Ok(id)
}

/// The request's own bounds (docs/protocol.md §11), and the token not listed yet.
fn check_listing(ctx: &Ctx, l: &Listing) -> Result<(), ExchangeError> {
    let bad = |name: &'static str, reason: String| ExchangeError::InvalidParameter { name, reason };
    if l.base_token == AZUSD || l.base_token == USDC || l.base_token == Address::ZERO {
        return Err(bad("base_token", "not a listable token".into()));
    }
    if l.base_decimals > 30 {
        return Err(bad("base_decimals", "above 30".into()));
    }
    if !(1..=16_384).contains(&l.tick_spacing) || !(1..=443_636).contains(&l.tick_range) {
        return Err(bad("tick_spacing/tick_range", "out of range".into()));
    }
    if l.seed_azusd == 0 {
        return Err(ExchangeError::ZeroAmount);
    }
    if l.fee > MAX_LISTING_FEE_PIPS {
        // Inside its fee band no arbitrageur corrects a pool, so a wide band would let the
        // lister hold the oracle where it likes (docs/protocol.md §11). This also refuses v4's
        // dynamic-fee flag.
        return Err(bad(
            "fee",
            format!("above {MAX_LISTING_FEE_PIPS} pips (1 %)"),
        ));
    }
    let taken = ctx.s.market_by_token.contains_key(&l.base_token)
        || ctx
            .fx
            .new_markets
            .iter()
            .any(|(m, _)| m.base_token == l.base_token);
    if taken {
        return Err(ExchangeError::MarketExists(l.base_token));
    }
    Ok(())
}

/// The creator's seed position: `±tick_range` around the initial tick (on the spacing, inside
/// the usable range), its liquidity from the azUSD side of the range (rounded down).
fn seed_position(
    l: &Listing,
    sqrt_p: U256,
    quote_is_token0: bool,
) -> Result<ModifyLiquidityParams, ExchangeError> {
    let (spacing, range) = (l.tick_spacing, l.tick_range);
    let tick = get_tick_at_sqrt_price(sqrt_p).map_err(spot_err)?;
    let lower = (tick - range).div_euclid(spacing) * spacing;
    let upper = (tick + range).div_euclid(spacing) * spacing + spacing;
    let min_usable = MIN_TICK.div_euclid(spacing) * spacing + spacing;
    let max_usable = MAX_TICK.div_euclid(spacing) * spacing;
    let (lower, upper) = (lower.max(min_usable), upper.min(max_usable));
    let sa = get_sqrt_price_at_tick(lower).map_err(spot_err)?;
    let sb = get_sqrt_price_at_tick(upper).map_err(spot_err)?;
    let q96 = U256::from(1u8) << 96;
    let seed = U256::from(l.seed_azusd);
    let liquidity = if quote_is_token0 {
        // amount0 = L × (sb − sp) × 2^96 / (sp × sb)
        mul_div(mul_div(seed, sqrt_p, q96)?, sb, sb - sqrt_p)?
    } else {
        // amount1 = L × (sp − sa) / 2^96
        mul_div(seed, q96, sqrt_p - sa)?
    };
    Ok(ModifyLiquidityParams {
        owner: l.user,
        tick_lower: lower,
        tick_upper: upper,
        liquidity_delta: i128::try_from(liquidity).map_err(|_| ExchangeError::Overflow)?,
        salt: [0u8; 32],
    })
}

/// A new, empty market for the request (prices and parameters are set by the caller).
fn new_market(
    ctx: &Ctx,
    l: &Listing,
    key: PoolKey,
    quote_is_token0: bool,
) -> Result<Market, ExchangeError> {
    let now = ctx.block.timestamp;
    Ok(Market {
        id: MarketId::try_from(ctx.market_count()).map_err(|_| crate::error::overflow())?,
        base_token: l.base_token,
        base_decimals: l.base_decimals,
        pool_key: key,
        quote_is_token0,
        status: MarketStatus::Active,
        long: Side {
            is_long: true,
            ..Side::new()
        },
        short: Side {
            is_long: false,
            ..Side::new()
        },
        funding_rate_per_day_wad: 0,
        last_funding_time: now,
        impact_pool: 0,
        prices: MarketPrices::default(),
        creator: l.user,
        listed_at: now,
        volume: 0,
        pool_azusd: 0,
        pool_base: 0,
        low_depth_blocks: 0,
        frozen_price: 0,
        thaw_spot: 0,
        thaw_risk: 0,
        // One TWAP window of warm-up; listings in the genesis block (height 1, the operator's)
        // start settled (`handlers::price_guard`).
        settled_at: if ctx.block.height <= 1 {
            now
        } else {
            crate::handlers::price_guard::settles_at(now, &ctx.s.params)
        },
        clamp_u_wad: 0,
        premium_wad: 0,
        risk: Default::default(),
    })
}
