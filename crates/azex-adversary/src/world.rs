//! The world the coalition attacks, and the honest parties that live in it.
//!
//! Everything is priced against a **constant external price** per token (the price at which the
//! rest of the world trades it). Nothing in the world earns money on its own: there are no yield
//! strategies, the honest traders are exactly balanced (equal long and short size per market, so
//! the funding rate is zero and the vault's NAV does not move with the price) and they never trade
//! after the set-up. Any value the coalition ends with above what it started with was therefore
//! taken from an honest party.
//!
//! | party | address | does |
//! |---|---|---|
//! | LP | `addr(1)` | $1M in the LP vault |
//! | spot lister | `addr(2)` | lists market 0 (token A, $2,000) with $2M of spot liquidity |
//! | traders | `addr(3..=6)` | a long and a short of equal size on markets 0 and 1, 5x |
//! | probe | `addr(7)` | only for the end-of-run probes (simulated, never applied) |
//! | arbitrageur | `addr(8)` | every block, trades each pool back to the edge of its fee band |
//! | keeper | `addr(9)` | every block, liquidates everything due and settles delisted positions |
//! | coalition | `addr(100..=102)` | lists market 1 (token B, $20) at set-up; then the search decides |
//!
//! Token C ($5) belongs to the coalition (and the arbitrageur, standing for the outside market);
//! the coalition may list it with any fee tier, tick spacing, range and seed.

use alloy_primitives::{Address, U256};
use azex_exchange::event::{DeficitPayer, Event};
use azex_exchange::handlers::liquidation::is_liquidatable;
use azex_exchange::ids::PositionId;
use azex_exchange::state::MarketStatus;
use azex_exchange::testkit::{addr, token};
use azex_exchange::units::{Price, Usd, QTY_ONE, USD_ONE, WAD};
use azex_exchange::{BlockCtx, ExchangeError, Genesis, GenesisBalance, State, Tx, AZUSD, USDC};

/// The coalition's accounts (`testkit::addr` numbers).
pub const COALITION: [u64; 3] = [100, 101, 102];
pub(crate) const HONEST_LP: u64 = 1;
pub(crate) const LISTER: u64 = 2;
pub(crate) const TRADERS: [u64; 4] = [3, 4, 5, 6];
pub(crate) const PROBE: u64 = 7;
pub(crate) const ARBITRAGEUR: u64 = 8;
pub(crate) const KEEPER: u64 = 9;

/// `(token number, external price in whole USD)`: A (listed by an honest lister), B (listed by
/// the coalition at set-up), C (the coalition's own, unlisted at the start).
pub(crate) const TOKENS: [(u64, u128); 3] = [(1, 2_000), (2, 20), (3, 5)];
/// The token the coalition may list.
pub(crate) const COALITION_TOKEN: u64 = 3;
/// First block's timestamp.
pub(crate) const T0: u64 = 1_700_000_000;

/// The constant external price of a token (WAD), if it is one of the world's tokens.
pub fn ext_price(t: Address) -> Option<Price> {
    TOKENS
        .iter()
        .find(|(n, _)| token(*n) == t)
        .map(|(_, p)| p * WAD)
}

/// The coalition's addresses.
pub fn coalition() -> [Address; 3] {
    COALITION.map(addr)
}

/// Who sent a transaction (for the scenario file's comments).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// The world's set-up (listings, deposits, the honest traders' positions).
    Setup,
    /// The honest arbitrageur.
    Arbitrageur,
    /// The honest keeper.
    Keeper,
    /// A coalition move.
    Coalition,
    /// The coalition getting out at the end of a run.
    Unwind,
}

/// One line of a run's transcript: exactly what a scenario file replays.
#[derive(Debug, Clone)]
pub enum Line {
    /// The genesis.
    Genesis(Box<Genesis>),
    /// End the open block, begin this one.
    Block(BlockCtx),
    /// A transaction that succeeded, and who sent it.
    Tx {
        /// The transaction.
        tx: Tx,
        /// Its sender.
        party: Party,
    },
    /// A comment (the coalition's moves, refusals, markers).
    Note(String),
}

/// A `DeficitCovered` event seen during a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct DeficitSeen {
    /// The position whose loss it was.
    pub position: PositionId,
    /// Who covered it.
    pub payer: DeficitPayer,
    /// azUSD units.
    pub amount: Usd,
    /// Block height.
    pub block: u64,
}

/// A state, its block clock, and what the run has seen so far.
#[derive(Clone)]
pub struct World {
    /// The exchange's state.
    pub state: State,
    /// The open block.
    pub block: BlockCtx,
    pub(crate) record: bool,
    pub(crate) transcript: Vec<Line>,
    pub(crate) deficits: Vec<DeficitSeen>,
    /// The first invariant violation or chain halt (begin/end block refused).
    pub(crate) fault: Option<String>,
    pub(crate) coalition_ok: usize,
    pub(crate) coalition_refused: usize,
    /// Lowest share price seen at a block boundary (WAD-free: azUSD units per 1e18 shares).
    pub(crate) min_share_price: u128,
    /// What the run has reached (the search's behaviour descriptor).
    pub(crate) reach: Reach,
    /// For each coalition move run so far: whether it changed anything.
    pub(crate) effective: Vec<bool>,
}

/// How far a run pushed the protocol: the search keeps the best run for each combination
/// (stepping stones towards states where defects show).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Reach {
    /// Highest vault utilisation (requirement / usable NAV), in tenths, capped at 12.
    pub utilisation: u8,
    /// Lowest impact capacity of a live market with open positions: 0 (< $1k) … 4 (≥ $1M).
    pub capacity: u8,
    /// Seen: auto-deleveraging (1), a liquidation (2), the drawdown cap (4), a market status
    /// change (8).
    pub flags: u8,
}

fn bal(owner: u64, tok: Address, amount: u128) -> GenesisBalance {
    GenesisBalance {
        owner: addr(owner),
        token: tok,
        amount,
    }
}

/// The genesis of the standard world: default parameters, no yield strategies, balances.
pub fn genesis() -> Genesis {
    let (a, b, c) = (token(1), token(2), token(3));
    let usd = |x: u128| x * USD_ONE;
    let q = |x: u128| x * QTY_ONE;
    let mut balances = vec![
        bal(HONEST_LP, USDC, usd(1_500_000)),
        bal(LISTER, USDC, usd(3_000_000)),
        bal(LISTER, a, q(2_000)),
        bal(PROBE, USDC, usd(1_000_000)),
        bal(ARBITRAGEUR, USDC, usd(500_000_000)),
        bal(ARBITRAGEUR, a, q(200_000)),
        bal(ARBITRAGEUR, b, q(20_000_000)),
        bal(ARBITRAGEUR, c, q(80_000_000)),
    ];
    for t in TRADERS {
        balances.push(bal(t, USDC, usd(200_000)));
    }
    for (i, m) in COALITION.iter().enumerate() {
        balances.push(bal(*m, USDC, usd(2_000_000)));
        balances.push(bal(*m, a, q(500)));
        balances.push(bal(*m, b, q(if i == 0 { 150_000 } else { 50_000 })));
        if i == 0 {
            balances.push(bal(*m, c, q(1_000_000)));
        }
    }
    Genesis {
        balances,
        ..Genesis::default()
    }
}

impl World {
    /// A world at genesis with block 1 open (nothing else done).
    pub fn from_genesis(g: &Genesis, record: bool) -> Result<Self, ExchangeError> {
        let state = State::genesis(g)?;
        let mut w = World {
            state,
            block: BlockCtx::default(),
            record,
            transcript: vec![],
            deficits: vec![],
            fault: None,
            coalition_ok: 0,
            coalition_refused: 0,
            min_share_price: u128::MAX,
            reach: Reach {
                capacity: 4,
                ..Reach::default()
            },
            effective: vec![],
        };
        if record {
            w.transcript.push(Line::Genesis(Box::new(g.clone())));
        }
        Ok(w)
    }

    /// The standard world, set up and with the first attack block open (arbitrage and keeper
    /// passes done): see the module documentation.
    pub fn standard(record: bool) -> Result<Self, ExchangeError> {
        let mut w = World::from_genesis(&genesis(), record)?;
        w.note("set-up: everyone mints azUSD; the lister lists A ($2,000) with $2M over +-6000 ticks; coalition member 0 lists B ($20) with $300k over +-1200 ticks (both 0.05 % pools); the LP deposits $1M");
        w.begin(BlockCtx {
            height: 1,
            timestamp: T0,
        })?;
        let g = genesis();
        for b in &g.balances {
            if b.token == USDC {
                w.setup(Tx::MintAzusd {
                    user: b.owner,
                    usdc: b.amount,
                })?;
            }
        }
        w.setup(Tx::CreateMarket {
            user: addr(LISTER),
            base_token: token(1),
            base_decimals: 18,
            fee: 500,
            tick_spacing: 10,
            initial_price: 2_000 * WAD,
            tick_range: 6_000,
            seed_azusd: 2_000_000 * USD_ONE,
        })?;
        w.setup(Tx::CreateMarket {
            user: addr(COALITION[0]),
            base_token: token(2),
            base_decimals: 18,
            fee: 500,
            tick_spacing: 10,
            initial_price: 20 * WAD,
            tick_range: 1_200,
            seed_azusd: 300_000 * USD_ONE,
        })?;
        w.setup(Tx::LpDeposit {
            user: addr(HONEST_LP),
            amount: 1_000_000 * USD_ONE,
        })?;
        w.note("honest traders: 50 A long and short ($100k each), 2,500 B long and short ($50k each), 5x");
        w.begin_next(2)?;
        let open = |user: u64, market: u32, qty: i128, margin: u128| Tx::OpenPosition {
            user: addr(user),
            market,
            qty,
            margin: margin * USD_ONE,
            price_bound: if qty > 0 { u128::MAX } else { 0 },
        };
        let one = i128::try_from(QTY_ONE).map_err(|_| ExchangeError::Overflow)?;
        w.setup(open(TRADERS[0], 0, 50 * one, 20_000))?;
        w.setup(open(TRADERS[1], 0, -50 * one, 20_000))?;
        w.setup(open(TRADERS[2], 1, 2_500 * one, 10_000))?;
        w.setup(open(TRADERS[3], 1, -2_500 * one, 10_000))?;
        w.next_block(2)?;
        w.note("the attack starts");
        w.attack_starts();
        Ok(w)
    }

    /// Mark the start of the attack: the lowest share price is watched from here on.
    pub(crate) fn attack_starts(&mut self) {
        self.min_share_price = u128::MAX;
        self.observe_share_price();
    }

    pub(crate) fn note(&mut self, s: impl Into<String>) {
        if self.record {
            self.transcript.push(Line::Note(s.into()));
        }
    }

    fn setup(&mut self, tx: Tx) -> Result<Vec<Event>, ExchangeError> {
        self.apply(tx, Party::Setup)
    }

    fn scan(&mut self, events: &[Event]) {
        for e in events {
            self.reach.flags |= match e {
                Event::Deleveraged { .. } => 1,
                Event::PositionLiquidated { .. } => 2,
                Event::DrawdownCapHit { .. } => 4,
                Event::MarketStatusChanged { .. } => 8,
                _ => 0,
            };
            if let Event::DeficitCovered {
                position,
                payer,
                amount,
            } = e
            {
                self.deficits.push(DeficitSeen {
                    position: *position,
                    payer: *payer,
                    amount: *amount,
                    block: self.block.height,
                });
            }
        }
    }

    fn observe_reach(&mut self) {
        let s = &self.state;
        let Ok(t) = azex_exchange::risk::fold(
            s.vault.cash,
            s.markets.iter().map(|m| &m.risk),
            s.params.max_vault_utilisation_wad,
        ) else {
            return;
        };
        let usable = if t.nav > 0 {
            mul_div(
                t.nav.unsigned_abs(),
                s.params.max_vault_utilisation_wad,
                WAD,
            )
        } else {
            0
        };
        let util = match t.required.saturating_mul(10).checked_div(usable) {
            Some(u) => u8::try_from(u).map_or(12, |u| u.min(12)),
            None if t.required > 0 => 12,
            None => 0,
        };
        self.reach.utilisation = self.reach.utilisation.max(util);
        for (m, p) in s.markets.iter().zip(&s.market_params) {
            if m.long.positions + m.short.positions == 0
                || matches!(m.status, MarketStatus::Delisted { .. })
            {
                continue;
            }
            let c = azex_exchange::math::mark::impact_capacity(
                p.k1_wad,
                m.prices.spot_liquidity,
                p.k2_wad,
                t.free_liquidity,
            )
            .unwrap_or(0);
            let bucket = match c / USD_ONE {
                0..1_000 => 0,
                1_000..10_000 => 1,
                10_000..100_000 => 2,
                100_000..1_000_000 => 3,
                _ => 4,
            };
            self.reach.capacity = self.reach.capacity.min(bucket);
        }
    }

    fn check_invariants(&mut self, after: &str) {
        if self.fault.is_none() {
            if let Err(v) = azex_exchange::invariants::check(&self.state) {
                self.fault = Some(format!("invariant violated after {after}: {v}"));
            }
        }
    }

    /// Apply a transaction in the open block; record it if it succeeded.
    pub fn apply(&mut self, tx: Tx, party: Party) -> Result<Vec<Event>, ExchangeError> {
        let r = self.state.apply(&tx, self.block);
        if matches!(party, Party::Coalition | Party::Unwind) {
            if r.is_ok() {
                self.coalition_ok += 1;
            } else {
                self.coalition_refused += 1;
            }
        }
        if let (Err(e), true) = (&r, self.record && party != Party::Arbitrageur) {
            self.note(format!(
                "  refused ({e:?}): {}",
                serde_json::to_string(&tx).unwrap_or_default()
            ));
        }
        if let Ok(ev) = &r {
            self.scan(ev);
            self.observe_reach();
            self.check_invariants("a transaction");
            if self.record {
                self.transcript.push(Line::Tx { tx, party });
            }
        }
        r
    }

    /// End the open block (if any) and begin `b` — no honest passes (a scenario's `block` line).
    pub fn begin(&mut self, b: BlockCtx) -> Result<(), ExchangeError> {
        if self.record {
            self.transcript.push(Line::Block(b));
        }
        let res = (|| {
            let mut ev = vec![];
            if self.state.block_open {
                ev.extend(self.state.end_block()?);
            }
            ev.extend(self.state.begin_block(b)?);
            Ok::<_, ExchangeError>(ev)
        })();
        match res {
            Ok(ev) => {
                self.block = b;
                self.scan(&ev);
                self.observe_reach();
                self.check_invariants("a block boundary");
                self.observe_share_price();
                Ok(())
            }
            Err(e) => {
                if self.fault.is_none() {
                    self.fault = Some(format!("chain halted at block {}: {e}", b.height));
                }
                Err(e)
            }
        }
    }

    fn begin_next(&mut self, secs: u64) -> Result<(), ExchangeError> {
        self.begin(BlockCtx {
            height: self.block.height + 1,
            timestamp: self.block.timestamp + secs,
        })
    }

    /// The honest block step: the keeper's end-of-block pass, the block boundary (`secs` later),
    /// then the arbitrageur and the keeper at the start of the new block.
    pub fn next_block(&mut self, secs: u64) -> Result<(), ExchangeError> {
        if self.state.block_open {
            self.keep()?;
        }
        self.begin_next(secs)?;
        self.arbitrage()?;
        self.keep()
    }

    /// The honest arbitrageur: each pool whose price is outside `[ext × (1 − fee), ext / (1 −
    /// fee)]` (where trading it back stops paying) is traded back to the nearest edge.
    pub fn arbitrage(&mut self) -> Result<(), ExchangeError> {
        for i in 0..self.state.markets.len() {
            // Market ids are u32 (the engine refuses a listing beyond `MarketId::MAX`).
            let Ok(id) = u32::try_from(i) else { break };
            let m = self.state.markets[i];
            let Some(ext) = ext_price(m.base_token) else {
                continue;
            };
            let fee = u128::from(m.pool_key.fee);
            let Ok(slot) = self.state.spot.slot0(&m.pool_key) else {
                continue;
            };
            let now = azex_exchange::spot_link::price_from_sqrt_saturating(
                slot.sqrt_price_x96,
                m.quote_is_token0,
                m.base_decimals,
            );
            let lower = ext / 1_000_000 * (1_000_000 - fee.min(1_000_000));
            let upper = if fee >= 1_000_000 {
                u128::MAX
            } else {
                mul_div(ext, 1_000_000, 1_000_000 - fee)
            };
            let (target, sell_base) = if now > upper {
                (upper, true)
            } else if now < lower {
                (lower, false)
            } else {
                continue;
            };
            let Ok(limit) = azex_exchange::spot_link::sqrt_from_price(
                target.max(1),
                m.quote_is_token0,
                m.base_decimals,
            ) else {
                continue;
            };
            let input = if sell_base { m.base_token } else { AZUSD };
            let amount = crate::value::signed(self.state.wallet(addr(ARBITRAGEUR), input));
            if amount == 0 {
                continue;
            }
            // A refusal (e.g. the limit already passed by rounding) changes nothing.
            let _ = self.apply(
                Tx::SpotSwap {
                    user: addr(ARBITRAGEUR),
                    market: id,
                    base_for_quote: sell_base,
                    amount_specified: -amount,
                    sqrt_price_limit_x96: Some(limit),
                },
                Party::Arbitrageur,
            );
        }
        Ok(())
    }

    /// The honest keeper: liquidate (one step of) every liquidatable position, settle every
    /// position of a delisted market.
    pub fn keep(&mut self) -> Result<(), ExchangeError> {
        let mut due: Vec<Tx> = vec![];
        for p in self.state.positions.values() {
            let m = &self.state.markets[p.market as usize];
            let user = addr(KEEPER);
            if let MarketStatus::Delisted { .. } = m.status {
                due.push(Tx::SettleDelisted {
                    user,
                    position: p.id,
                });
                continue;
            }
            if p.last_liquidation_block == self.block.height {
                continue;
            }
            let params = &self.state.market_params[p.market as usize];
            let side = m.side(p.is_long());
            if is_liquidatable(params, side, p, m.liquidation_price(p.is_long())).unwrap_or(true) {
                due.push(Tx::Liquidate {
                    user,
                    position: p.id,
                });
            }
        }
        for tx in due {
            let _ = self.apply(tx, Party::Keeper);
        }
        Ok(())
    }

    /// The vault's share price now (azUSD units per 1e18 shares; 0 when NAV ≤ 0).
    pub fn share_price(&self) -> u128 {
        share_price(&self.state)
    }

    fn observe_share_price(&mut self) {
        let p = self.share_price();
        self.min_share_price = self.min_share_price.min(p);
    }
}

/// The vault's NAV (at risk prices) from the markets' cached risk figures.
pub(crate) fn vault_nav(s: &State) -> i128 {
    azex_exchange::risk::fold(
        s.vault.cash,
        s.markets.iter().map(|m| &m.risk),
        s.params.max_vault_utilisation_wad,
    )
    .map(|t| t.nav)
    .unwrap_or(i128::MIN)
}

/// Share price: NAV per 1e18 shares, azUSD units (0 when NAV ≤ 0 or no shares).
pub(crate) fn share_price(s: &State) -> u128 {
    let nav = vault_nav(s);
    if s.vault.shares == 0 || nav <= 0 {
        return 0;
    }
    mul_div(nav.unsigned_abs(), WAD, s.vault.shares)
}

/// `a × b / d` rounded down, saturating.
pub(crate) fn mul_div(a: u128, b: u128, d: u128) -> u128 {
    if d == 0 {
        return u128::MAX;
    }
    let r = U256::from(a) * U256::from(b) / U256::from(d);
    u128::try_from(r).unwrap_or(u128::MAX)
}
