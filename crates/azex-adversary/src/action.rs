//! The coalition's moves: abstract actions, resolved against the state when they run.
//!
//! A move names its target relatively (the `slot`-th position of member `who`, the `market`-th
//! market modulo the number listed, a price as a deviation from the external price), so that a
//! mutated or spliced sequence still means something. A move whose target does not exist is
//! skipped; a move the engine refuses changes nothing (and is not written to scenario files).
//!
//! Everything a user can do is here except minting/redeeming azUSD (1:1 against USDC: no
//! economic effect; everyone mints at set-up) and strategy moves (users have none: reserves are
//! rebalanced by the protocol at block end, and the world has no strategies).

use crate::value::signed;
use crate::world::{ext_price, Party, World, COALITION, COALITION_TOKEN};
use alloy_primitives::{Address, U256};
use azex_exchange::book;
use azex_exchange::state::MarketStatus;
use azex_exchange::testkit::{addr, token};
use azex_exchange::units::{QTY_ONE, USD_ONE, WAD};
use azex_exchange::{ExchangeError, Tx, AZUSD};
use azex_spot::math::tick_math::{get_sqrt_price_at_tick, MAX_TICK, MIN_TICK};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// One move of the coalition. Amounts in whole USD, fractions in percent, prices in basis points
/// away from the external price. Targets are relative and taken modulo what exists:
/// `who` (member, mod 3), `market` (mod the markets listed), `slot` (the member's positions or
/// spot positions in id order), `target` (every open position in id order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "a", rename_all = "snake_case")]
pub enum Action {
    /// Open a position of `usd` notional at up to `lev`x: margin = the larger of notional / lev
    /// and the tier's initial margin, plus 0.5 % for fees and impact.
    Open {
        /// Coalition member.
        who: u8,
        /// Market.
        market: u8,
        /// Long (else short).
        long: bool,
        /// Notional, whole USD at the external price.
        usd: u32,
        /// Leverage wanted (the tier's initial margin caps it).
        lev: u8,
    },
    /// Grow the member's `slot`-th position by `pct` % of its size.
    Grow {
        /// Coalition member.
        who: u8,
        /// Which of its positions.
        slot: u8,
        /// Percent of the position's size.
        pct: u8,
    },
    /// Reduce it by `pct` % (100 % closes through `modify`).
    Reduce {
        /// Coalition member.
        who: u8,
        /// Which of its positions.
        slot: u8,
        /// Percent of the position's size.
        pct: u8,
    },
    /// Close the member's `slot`-th position.
    Close {
        /// Coalition member.
        who: u8,
        /// Which of its positions.
        slot: u8,
    },
    /// Add `usd` of margin to the member's `slot`-th position.
    AddMargin {
        /// Coalition member.
        who: u8,
        /// Which of its positions.
        slot: u8,
        /// Whole USD (at most the wallet).
        usd: u32,
    },
    /// Take `pct` % of the position's margin out.
    RemoveMargin {
        /// Coalition member.
        who: u8,
        /// Which of its positions.
        slot: u8,
        /// Percent of the margin.
        pct: u8,
    },
    /// Deposit `usd` into the LP vault.
    LpDeposit {
        /// Coalition member.
        who: u8,
        /// Whole USD (at most the wallet).
        usd: u32,
    },
    /// Withdraw `pct` % of the member's vault shares.
    LpWithdraw {
        /// Coalition member.
        who: u8,
        /// Percent of its shares.
        pct: u8,
    },
    /// Swap the market's pool toward `ext × (1 + bps / 10⁴)` with up to `pct` % of what the
    /// member has of the input token (the swap stops at that price).
    Swap {
        /// Coalition member.
        who: u8,
        /// Market whose pool is swapped.
        market: u8,
        /// Target price, basis points from the external price.
        bps: i32,
        /// Percent of the input token's balance offered.
        #[serde(default = "hundred")]
        pct: u8,
    },
    /// Add liquidity over `[tick − below, tick + above]` around the pool's tick, `usd` of azUSD.
    AddLiquidity {
        /// Coalition member.
        who: u8,
        /// Market whose pool gets the liquidity.
        market: u8,
        /// Ticks below the current tick.
        below: u16,
        /// Ticks above the current tick.
        above: u16,
        /// azUSD side of the position, whole USD.
        usd: u32,
        /// Position salt (separate positions on the same range).
        salt: u8,
    },
    /// Remove `pct` % of the member's `slot`-th spot position in the pool.
    RemoveLiquidity {
        /// Coalition member.
        who: u8,
        /// Market whose pool loses the liquidity.
        market: u8,
        /// Which of the member's spot positions in that pool.
        slot: u8,
        /// Percent of its liquidity.
        pct: u8,
    },
    /// List the coalition's token with any fee tier (pips), spacing, range, seed and price.
    List {
        /// Coalition member (the lister).
        who: u8,
        /// LP fee of the pool, pips.
        fee: u32,
        /// Tick spacing.
        spacing: u16,
        /// Seed range: ticks either side of the initial price.
        range: u32,
        /// Seed azUSD, whole USD.
        usd: u32,
        /// Initial price, basis points from the external price.
        bps: i32,
    },
    /// Act as keeper on the `target`-th open position (any owner).
    Liquidate {
        /// Coalition member (the keeper, paid the reward).
        who: u8,
        /// Which open position.
        target: u16,
    },
    /// Send a keeper's `deleverage` for a market.
    Deleverage {
        /// Coalition member.
        who: u8,
        /// Market.
        market: u8,
    },
    /// Settle the `target`-th position of a delisted market.
    Settle {
        /// Coalition member.
        who: u8,
        /// Which position of a delisted market.
        target: u16,
    },
    /// Ask for a delisted market to be listed again.
    Relist {
        /// Coalition member.
        who: u8,
        /// Market.
        market: u8,
    },
    /// End the block; the next one starts `secs` later (arbitrageur and keeper run).
    Block {
        /// Seconds to the next block (time jumps up to a day).
        secs: u32,
    },
}

fn hundred() -> u8 {
    100
}

/// A sequence of moves.
pub type Genome = Vec<Action>;

const LEVS: [u8; 9] = [1, 2, 3, 5, 8, 10, 15, 19, 20];
const FEES: [u32; 8] = [100, 500, 3_000, 3_000, 10_000, 10_000, 100_000, 500_000];
const SPACINGS: [u16; 4] = [1, 10, 60, 200];
const RANGES: [u32; 7] = [60, 200, 600, 2_000, 6_000, 20_000, 100_000];
const SECS: [u32; 8] = [2, 2, 2, 2, 6, 60, 3_601, 86_400];
const BPS: [i32; 10] = [10, 30, 50, 100, 200, 500, 1_000, 2_000, 5_000, 9_000];

/// A size spread evenly over orders of magnitude in `lo..=hi`, in integers only (no float, so
/// the same seed draws the same sizes on every machine): a power-of-two octave first, then a
/// value inside it.
fn log_uniform(rng: &mut impl Rng, lo: u32, hi: u32) -> u32 {
    let (lo, hi) = (lo.max(1), hi.max(lo.max(1)));
    let octaves = hi.ilog2() - lo.ilog2();
    let k = lo.ilog2() + rng.random_range(0..=octaves);
    let (a, b) = ((1u32 << k).max(lo), (1u32 << k).saturating_mul(2).min(hi));
    rng.random_range(a..=b.max(a))
}

fn pct(rng: &mut impl Rng) -> u8 {
    match rng.random_range(0..10) {
        0 => 100,
        1 => 50,
        2 => 99,
        3 => 10,
        _ => rng.random_range(1..=100),
    }
}

fn bps(rng: &mut impl Rng) -> i32 {
    if rng.random_bool(0.2) {
        return rng.random_range(-9_000..=30_000);
    }
    let b = BPS[rng.random_range(0..BPS.len())];
    if rng.random_bool(0.5) {
        b
    } else {
        -b
    }
}

/// `x` times a factor between 1/4 and 4, spread evenly over the octaves (integers only).
fn scale(rng: &mut impl Rng, x: u32) -> u32 {
    let x = u64::from(x.max(1));
    // A factor of 2^(k/64) for k in −128..=128, as a rational with denominator 2^16.
    let k: i32 = rng.random_range(-128..=128);
    let (whole, frac) = (k.div_euclid(64), k.rem_euclid(64));
    // 2^(frac/64) ≈ 1 + frac × ln 2 / 64 (within 6 %: a search step, not a measurement).
    let num = 65_536 + u64::try_from(frac).unwrap_or(0) * 710;
    let v = x * num;
    let v = if whole >= 0 {
        v << whole
    } else {
        v >> (-whole)
    };
    u32::try_from((v >> 16).clamp(1, 4_000_000_000)).unwrap_or(u32::MAX)
}

/// `x`, at most `cap`.
fn capped_u16(x: u32, cap: u16) -> u16 {
    u16::try_from(x).map_or(cap, |x| x.min(cap))
}

fn pick<T: Copy>(rng: &mut impl Rng, xs: &[T]) -> T {
    xs[rng.random_range(0..xs.len())]
}

/// A coalition member, as the search draws it.
fn draw_who(rng: &mut impl Rng) -> u8 {
    rng.random_range(0..3)
}

/// A position slot, as the search draws it.
fn draw_slot(rng: &mut impl Rng) -> u8 {
    rng.random_range(0..8)
}

/// A market, as the search draws it.
fn draw_market(rng: &mut impl Rng) -> u8 {
    rng.random_range(0..4)
}

/// Redraw the member or (as often) the market.
fn who_or_market(rng: &mut impl Rng, who: &mut u8, market: &mut u8) {
    if rng.random_bool(0.5) {
        *who = draw_who(rng)
    } else {
        *market = draw_market(rng)
    }
}

impl Action {
    /// A random move, drawn with weights that favour trading and blocks.
    pub fn random(rng: &mut impl Rng) -> Action {
        let who = rng.random_range(0..3u8);
        let market = rng.random_range(0..4u8);
        let slot = rng.random_range(0..8u8);
        match rng.random_range(0..100) {
            0..=19 => Action::Open {
                who,
                market,
                long: rng.random_bool(0.5),
                usd: log_uniform(rng, 500, 3_000_000),
                lev: pick(rng, &LEVS),
            },
            20..=29 => Action::Close { who, slot },
            30..=34 => Action::Reduce {
                who,
                slot,
                pct: pct(rng),
            },
            35..=37 => Action::Grow {
                who,
                slot,
                pct: pct(rng),
            },
            38..=39 => Action::AddMargin {
                who,
                slot,
                usd: log_uniform(rng, 10, 200_000),
            },
            40..=42 => Action::RemoveMargin {
                who,
                slot,
                pct: pct(rng),
            },
            43..=45 => Action::LpDeposit {
                who,
                usd: log_uniform(rng, 1_000, 2_000_000),
            },
            46..=48 => Action::LpWithdraw { who, pct: pct(rng) },
            49..=57 => Action::Swap {
                who,
                market,
                bps: bps(rng),
                pct: pct(rng),
            },
            58..=61 => Action::AddLiquidity {
                who,
                market,
                below: capped_u16(log_uniform(rng, 1, 5_000), 5_000),
                above: capped_u16(log_uniform(rng, 1, 5_000), 5_000),
                usd: log_uniform(rng, 1_000, 2_000_000),
                salt: rng.random_range(0..4),
            },
            62..=67 => Action::RemoveLiquidity {
                who,
                market,
                slot,
                pct: pct(rng),
            },
            68..=70 => Action::List {
                who,
                fee: pick(rng, &FEES),
                spacing: pick(rng, &SPACINGS),
                range: pick(rng, &RANGES),
                usd: log_uniform(rng, 50_000, 4_000_000),
                bps: if rng.random_bool(0.5) { 0 } else { bps(rng) },
            },
            71..=73 => Action::Liquidate {
                who,
                target: rng.random_range(0..64),
            },
            74 => Action::Deleverage { who, market },
            75..=76 => Action::Settle {
                who,
                target: rng.random_range(0..64),
            },
            77 => Action::Relist { who, market },
            _ => Action::Block {
                secs: pick(rng, &SECS),
            },
        }
    }

    /// Change one parameter of the move (or, rarely, redraw it).
    pub fn tweak(&mut self, rng: &mut impl Rng) {
        if rng.random_bool(0.1) {
            *self = Action::random(rng);
            return;
        }
        let r = rng.random_range(0..4);
        match self {
            Action::Open { .. }
            | Action::Grow { .. }
            | Action::Reduce { .. }
            | Action::RemoveMargin { .. }
            | Action::Close { .. }
            | Action::AddMargin { .. }
            | Action::LpDeposit { .. }
            | Action::LpWithdraw { .. } => self.tweak_trade(r, rng),
            Action::Swap { .. }
            | Action::AddLiquidity { .. }
            | Action::RemoveLiquidity { .. }
            | Action::List { .. } => self.tweak_pool(r, rng),
            Action::Liquidate { .. }
            | Action::Settle { .. }
            | Action::Deleverage { .. }
            | Action::Relist { .. }
            | Action::Block { .. } => self.tweak_keeper(r, rng),
        }
    }

    /// [`Action::tweak`] of a position or vault move; `r` (0..4) picks the parameter.
    fn tweak_trade(&mut self, r: i32, rng: &mut impl Rng) {
        match self {
            Action::Open {
                who,
                market,
                long,
                usd,
                lev,
            } => match r {
                0 => *usd = scale(rng, *usd),
                1 => *lev = pick(rng, &LEVS),
                2 => *long = !*long,
                _ => who_or_market(rng, who, market),
            },
            Action::Grow { who, slot, pct: p }
            | Action::Reduce { who, slot, pct: p }
            | Action::RemoveMargin { who, slot, pct: p } => match r {
                0 | 1 => *p = pct(rng),
                2 => *slot = draw_slot(rng),
                _ => *who = draw_who(rng),
            },
            Action::Close { who, slot } => match r {
                0 | 1 => *slot = draw_slot(rng),
                _ => *who = draw_who(rng),
            },
            Action::AddMargin { who, slot, usd } => match r {
                0 | 1 => *usd = scale(rng, *usd),
                2 => *slot = draw_slot(rng),
                _ => *who = draw_who(rng),
            },
            Action::LpDeposit { who, usd } => match r {
                0..=2 => *usd = scale(rng, *usd),
                _ => *who = draw_who(rng),
            },
            Action::LpWithdraw { who, pct: p } => match r {
                0..=2 => *p = pct(rng),
                _ => *who = draw_who(rng),
            },
            other => unreachable!("tweak routes only trading moves here: {other:?}"),
        }
    }

    /// [`Action::tweak`] of a spot pool move; `r` (0..4) picks the parameter.
    fn tweak_pool(&mut self, r: i32, rng: &mut impl Rng) {
        match self {
            Action::Swap {
                who,
                market,
                bps: b,
                pct: p,
            } => match r {
                0 => *b = bps(rng),
                1 => *b = b.saturating_mul(rng.random_range(50..=200)) / 100,
                2 => *p = pct(rng),
                _ => who_or_market(rng, who, market),
            },
            Action::AddLiquidity {
                who,
                market,
                below,
                above,
                usd,
                salt,
            } => match r {
                0 => *usd = scale(rng, *usd),
                1 => {
                    *below = capped_u16(scale(rng, u32::from(*below)), 60_000);
                    *above = capped_u16(scale(rng, u32::from(*above)), 60_000);
                }
                2 => *market = draw_market(rng),
                _ => {
                    *who = draw_who(rng);
                    *salt = rng.random_range(0..4);
                }
            },
            Action::RemoveLiquidity {
                who,
                market,
                slot,
                pct: p,
            } => match r {
                0 => *p = pct(rng),
                1 => *slot = draw_slot(rng),
                2 => *market = draw_market(rng),
                _ => *who = draw_who(rng),
            },
            Action::List {
                fee,
                spacing,
                range,
                usd,
                bps: b,
                ..
            } => match r {
                0 => *fee = pick(rng, &FEES),
                1 => {
                    *spacing = pick(rng, &SPACINGS);
                    *range = pick(rng, &RANGES);
                }
                2 => *usd = scale(rng, *usd),
                _ => *b = bps(rng),
            },
            other => unreachable!("tweak routes only pool moves here: {other:?}"),
        }
    }

    /// [`Action::tweak`] of a keeper move or a block; `r` (0..4) picks the parameter.
    fn tweak_keeper(&mut self, r: i32, rng: &mut impl Rng) {
        match self {
            Action::Liquidate { who, target } | Action::Settle { who, target } => match r {
                0..=2 => *target = rng.random_range(0..64),
                _ => *who = draw_who(rng),
            },
            Action::Deleverage { market, .. } | Action::Relist { market, .. } => {
                *market = draw_market(rng)
            }
            Action::Block { secs } => *secs = pick(rng, &SECS),
            other => unreachable!("tweak routes only keeper moves and blocks here: {other:?}"),
        }
    }

    /// A short human description (scenario comments).
    pub fn describe(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

fn member(who: u8) -> Address {
    addr(COALITION[usize::from(who) % COALITION.len()])
}

/// The member's open positions, in id order.
fn positions_of(w: &World, user: Address) -> Vec<u64> {
    w.state
        .positions
        .values()
        .filter(|p| p.owner == user)
        .map(|p| p.id)
        .collect()
}

fn nth<T: Copy>(xs: &[T], i: usize) -> Option<T> {
    if xs.is_empty() {
        None
    } else {
        Some(xs[i % xs.len()])
    }
}

/// `qty` (1e18 base units) of `usd` whole dollars at `price` (WAD).
pub(crate) fn qty_of(usd: u32, price: u128) -> i128 {
    if price == 0 {
        return 0;
    }
    let q = U256::from(usd) * U256::from(QTY_ONE) * U256::from(WAD) / U256::from(price);
    i128::try_from(q).unwrap_or(i128::MAX)
}

fn bound(buying: bool) -> u128 {
    if buying {
        u128::MAX
    } else {
        0
    }
}

/// The `market`-th market modulo the number listed (`None` when none is).
fn market_index(w: &World, market: u8) -> Option<u32> {
    let n = w.state.markets.len();
    if n == 0 {
        return None;
    }
    // Below 256: a u8 modulo the count.
    u32::try_from(usize::from(market) % n).ok()
}

/// Liquidity for `usd` azUSD in a range straddling the current price (the listing formula).
fn liquidity_for(sp: U256, sa: U256, sb: U256, usd: u32, quote_is_token0: bool) -> Option<i128> {
    let amount = U256::from(usd) * U256::from(USD_ONE);
    let q96 = U256::from(1u8) << 96;
    let l = if quote_is_token0 {
        if sb <= sp {
            return None;
        }
        azex_math::mul_div(azex_math::mul_div(amount, sp, q96).ok()?, sb, sb - sp).ok()?
    } else {
        if sp <= sa {
            return None;
        }
        azex_math::mul_div(amount, q96, sp - sa).ok()?
    };
    i128::try_from(l).ok().filter(|l| *l > 0)
}

/// Resolve a move against the world into a transaction (`None`: nothing to do).
pub(crate) fn resolve(w: &World, a: &Action) -> Option<Tx> {
    match *a {
        Action::Open {
            who,
            market,
            long,
            usd,
            lev,
        } => open(w, member(who), market, long, usd, lev),
        Action::Grow { who, slot, pct } => resize(w, member(who), slot, pct, true),
        Action::Reduce { who, slot, pct } => resize(w, member(who), slot, pct, false),
        Action::Close { who, slot } => close(w, member(who), slot),
        Action::AddMargin { who, slot, usd } => add_margin(w, member(who), slot, usd),
        Action::RemoveMargin { who, slot, pct } => remove_margin(w, member(who), slot, pct),
        Action::LpDeposit { who, usd } => lp_deposit(w, member(who), usd),
        Action::LpWithdraw { who, pct } => lp_withdraw(w, member(who), pct),
        Action::Swap {
            who,
            market,
            bps,
            pct,
        } => swap(w, member(who), market, bps, pct),
        Action::AddLiquidity {
            who,
            market,
            below,
            above,
            usd,
            salt,
        } => add_liquidity(w, member(who), market, (below, above), usd, salt),
        Action::RemoveLiquidity {
            who,
            market,
            slot,
            pct,
        } => remove_liquidity(w, member(who), market, slot, pct),
        Action::List {
            who,
            fee,
            spacing,
            range,
            usd,
            bps,
        } => list(w, member(who), (fee, spacing, range), usd, bps),
        Action::Liquidate { who, target } => liquidate(w, member(who), target),
        Action::Settle { who, target } => settle(w, member(who), target),
        Action::Deleverage { who, market } => Some(Tx::Deleverage {
            user: member(who),
            market: market_index(w, market)?,
        }),
        Action::Relist { who, market } => Some(Tx::Relist {
            user: member(who),
            market: market_index(w, market)?,
        }),
        Action::Block { .. } => None,
    }
}

/// `usd` of notional at the external price, margin = the larger of notional / `lev` and the
/// tier's initial margin, plus 0.5 % (at most the wallet).
fn open(w: &World, user: Address, market: u8, long: bool, usd: u32, lev: u8) -> Option<Tx> {
    let s = &w.state;
    let mi = market_index(w, market)?;
    let m = &s.markets[mi as usize];
    let price = ext_price(m.base_token)?;
    let q = qty_of(usd, price);
    let notional = u128::from(usd) * USD_ONE;
    let im = s.market_params[mi as usize]
        .margin_tier(notional)
        .initial_margin_wad;
    let margin = (notional / u128::from(lev.max(1)))
        .max(notional / 1_000 * (im / 1_000_000_000_000_000))
        + notional / 200;
    Some(Tx::OpenPosition {
        user,
        market: mi,
        qty: if long { q } else { -q },
        margin: margin.min(s.wallet(user, AZUSD)),
        price_bound: bound(long),
    })
}

/// The member's `slot`-th position.
fn own_position(w: &World, user: Address, slot: u8) -> Option<u64> {
    nth(&positions_of(w, user), usize::from(slot))
}

/// Grow (or reduce) the `slot`-th position by `pct` % of its effective size (at least one unit).
fn resize(w: &World, user: Address, slot: u8, pct: u8, grow: bool) -> Option<Tx> {
    let s = &w.state;
    let id = own_position(w, user, slot)?;
    let p = s.position(id)?;
    let m = &s.markets[p.market as usize];
    let (q, _) = book::effective(p, m.side(p.is_long())).ok()?;
    let d = signed((q.unsigned_abs() * u128::from(pct.clamp(1, 100)) / 100).max(1));
    let delta = if grow == p.is_long() { d } else { -d };
    Some(Tx::ModifyPosition {
        user,
        position: id,
        qty_delta: delta,
        price_bound: bound(delta > 0),
    })
}

fn close(w: &World, user: Address, slot: u8) -> Option<Tx> {
    let id = own_position(w, user, slot)?;
    let p = w.state.position(id)?;
    Some(Tx::ClosePosition {
        user,
        position: id,
        price_bound: bound(!p.is_long()),
    })
}

fn add_margin(w: &World, user: Address, slot: u8, usd: u32) -> Option<Tx> {
    let id = own_position(w, user, slot)?;
    let amount = (u128::from(usd) * USD_ONE).min(w.state.wallet(user, AZUSD));
    Some(Tx::AddMargin {
        user,
        position: id,
        amount,
    })
}

fn remove_margin(w: &World, user: Address, slot: u8, pct: u8) -> Option<Tx> {
    let id = own_position(w, user, slot)?;
    let p = w.state.position(id)?;
    Some(Tx::RemoveMargin {
        user,
        position: id,
        amount: p.margin * u128::from(pct.clamp(1, 100)) / 100,
    })
}

fn lp_deposit(w: &World, user: Address, usd: u32) -> Option<Tx> {
    Some(Tx::LpDeposit {
        user,
        amount: (u128::from(usd) * USD_ONE).min(w.state.wallet(user, AZUSD)),
    })
}

fn lp_withdraw(w: &World, user: Address, pct: u8) -> Option<Tx> {
    let shares = w.state.lps.get(&user)?.shares;
    Some(Tx::LpWithdraw {
        user,
        shares: (shares / 100 * u128::from(pct.clamp(1, 100))).max(1),
    })
}

/// `ext × (1 + bps / 10⁴)`, the price at most 99.99 % below the external price.
fn off_external(ext: u128, bps: i32) -> u128 {
    // The factor is at least 1 (bps floored at −9,999).
    ext / 10_000 * (10_000 + i128::from(bps).max(-9_999)).unsigned_abs()
}

/// Swap the pool toward `bps` from the external price with `pct` % of the input token held
/// (exact input, the target as the price limit).
fn swap(w: &World, user: Address, market: u8, bps: i32, pct: u8) -> Option<Tx> {
    let s = &w.state;
    let mi = market_index(w, market)?;
    let m = &s.markets[mi as usize];
    let ext = ext_price(m.base_token)?;
    let target = off_external(ext, bps);
    let sqrt =
        azex_exchange::spot_link::sqrt_from_price(target, m.quote_is_token0, m.base_decimals)
            .ok()?;
    let cur = s.spot.slot0(&m.pool_key).ok()?.sqrt_price_x96;
    let now = azex_exchange::spot_link::price_from_sqrt_saturating(
        cur,
        m.quote_is_token0,
        m.base_decimals,
    );
    if target == now {
        return None;
    }
    let sell_base = target < now;
    let input = if sell_base { m.base_token } else { AZUSD };
    let amount = signed(s.wallet(user, input) / 100 * u128::from(pct.clamp(1, 100)));
    if amount == 0 {
        return None;
    }
    Some(Tx::SpotSwap {
        user,
        market: mi,
        base_for_quote: sell_base,
        amount_specified: -amount,
        sqrt_price_limit_x96: Some(sqrt),
    })
}

/// `usd` of azUSD as liquidity over `[tick − below, tick + above]` around the pool's tick,
/// widened to the spacing and kept inside the usable ticks.
fn add_liquidity(
    w: &World,
    user: Address,
    market: u8,
    (below, above): (u16, u16),
    usd: u32,
    salt: u8,
) -> Option<Tx> {
    let s = &w.state;
    let mi = market_index(w, market)?;
    let m = &s.markets[mi as usize];
    let pool = s.spot.pool(&m.pool_key).ok()?;
    let slot0 = pool.slot0();
    let sp = pool.tick_spacing();
    let lo_lim = MIN_TICK.div_euclid(sp) * sp + sp;
    let hi_lim = MAX_TICK.div_euclid(sp) * sp;
    let lower = (slot0.tick - i32::from(below))
        .div_euclid(sp)
        .saturating_mul(sp)
        .max(lo_lim);
    let upper = ((slot0.tick + i32::from(above)).div_euclid(sp) + 1)
        .saturating_mul(sp)
        .min(hi_lim);
    if lower >= upper {
        return None;
    }
    let sa = get_sqrt_price_at_tick(lower).ok()?;
    let sb = get_sqrt_price_at_tick(upper).ok()?;
    let l = liquidity_for(slot0.sqrt_price_x96, sa, sb, usd, m.quote_is_token0)?;
    Some(Tx::SpotLiquidity {
        user,
        market: mi,
        tick_lower: lower,
        tick_upper: upper,
        liquidity_delta: l,
        salt: u64::from(salt),
    })
}

/// Take `pct` % (at least one unit) of the member's `slot`-th spot position in the pool.
fn remove_liquidity(w: &World, user: Address, market: u8, slot: u8, pct: u8) -> Option<Tx> {
    let s = &w.state;
    let mi = market_index(w, market)?;
    let m = &s.markets[mi as usize];
    let pool = s.spot.pool(&m.pool_key).ok()?;
    let mine: Vec<_> = pool
        .positions()
        .filter(|(k, p)| k.owner == user && p.liquidity > 0)
        .collect();
    let (k, p) = nth(&mine, usize::from(slot))?;
    let mut salt = [0u8; 8];
    salt.copy_from_slice(&k.salt[24..]);
    let l = (p.liquidity / 100 * u128::from(pct.clamp(1, 100)))
        .max(1)
        .min(p.liquidity);
    Some(Tx::SpotLiquidity {
        user,
        market: mi,
        tick_lower: k.tick_lower,
        tick_upper: k.tick_upper,
        liquidity_delta: -signed(l),
        salt: u64::from_be_bytes(salt),
    })
}

/// List the coalition's token (once) with the pool `(fee, spacing, range)`, `usd` of seed, at
/// `bps` from its external price.
fn list(w: &World, user: Address, pool: (u32, u16, u32), usd: u32, bps: i32) -> Option<Tx> {
    let (fee, spacing, range) = pool;
    let t = token(COALITION_TOKEN);
    if w.state.market_by_token.contains_key(&t) {
        return None;
    }
    let ext = ext_price(t)?;
    Some(Tx::CreateMarket {
        user,
        base_token: t,
        base_decimals: 18,
        fee,
        tick_spacing: i32::from(spacing),
        initial_price: off_external(ext, bps),
        tick_range: i32::try_from(range).map_or(443_636, |r| r.min(443_636)),
        seed_azusd: u128::from(usd) * USD_ONE,
    })
}

/// Keeper on the `target`-th open position (any owner).
fn liquidate(w: &World, user: Address, target: u16) -> Option<Tx> {
    let ids: Vec<u64> = w.state.positions.keys().collect();
    Some(Tx::Liquidate {
        user,
        position: nth(&ids, usize::from(target))?,
    })
}

/// Settle the `target`-th position of a delisted market.
fn settle(w: &World, user: Address, target: u16) -> Option<Tx> {
    let s = &w.state;
    let ids: Vec<u64> = s
        .positions
        .values()
        .filter(|p| {
            matches!(
                s.markets[p.market as usize].status,
                MarketStatus::Delisted { .. }
            )
        })
        .map(|p| p.id)
        .collect();
    Some(Tx::SettleDelisted {
        user,
        position: nth(&ids, usize::from(target))?,
    })
}

/// Run one move: whether it changed anything. `Err` only when the chain halted (a block could
/// not begin or end).
pub(crate) fn execute(w: &mut World, a: &Action) -> Result<bool, ExchangeError> {
    if let Action::Block { secs } = a {
        w.next_block(u64::from((*secs).max(1)))?;
        return Ok(true);
    }
    Ok(match resolve(w, a) {
        Some(tx) => w.apply(tx, Party::Coalition).is_ok(),
        None => false,
    })
}
