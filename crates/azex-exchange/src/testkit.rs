//! A small builder of ready-made worlds for tests, benchmarks, examples and the simulator:
//! funded users, markets listed with real pools, an LP vault with capital.

use crate::engine::{Genesis, GenesisBalance};
use crate::error::ExchangeError;
use crate::event::Event;
use crate::ids::MarketId;
use crate::state::{BlockCtx, State, USDC};
use crate::tx::Tx;
use crate::units::{Price, Usd, QTY_ONE, USD_ONE, WAD};
use alloy_primitives::Address;

/// A deterministic address for a small number (users, tokens in tests).
pub fn addr(n: u64) -> Address {
    let mut b = [0u8; 20];
    b[12..].copy_from_slice(&n.to_be_bytes());
    b[0] = 0xAA;
    Address::from(b)
}

/// A base token address for a symbol-like number.
pub fn token(n: u64) -> Address {
    let mut b = [0u8; 20];
    b[12..].copy_from_slice(&n.to_be_bytes());
    b[0] = 0xB0;
    Address::from(b)
}

/// A state plus a block clock.
pub struct World {
    /// The exchange's state.
    pub state: State,
    /// The current block.
    pub block: BlockCtx,
    /// Seconds per block.
    pub block_time: u64,
    /// Every event emitted so far.
    pub events: Vec<Event>,
}

/// How to build a world.
#[derive(Debug, Clone)]
pub struct WorldSpec {
    /// Users 1..=users each get `usdc_each` USDC and `base_each` of every base token.
    pub users: u64,
    /// USDC per user (azUSD units).
    pub usdc_each: u128,
    /// Of every base token, per user (1e-18 token).
    pub base_each: u128,
    /// Markets: (base token number, initial price WAD, seed azUSD).
    pub markets: Vec<(u64, Price, Usd)>,
    /// LP capital deposited by user 1.
    pub lp_capital: Usd,
    /// The genesis the users' balances are added to.
    pub genesis: Genesis,
}

impl Default for WorldSpec {
    fn default() -> Self {
        Self {
            users: 4,
            usdc_each: 100_000_000 * USD_ONE,
            base_each: 1_000_000 * QTY_ONE,
            markets: vec![(1, 2_000 * WAD, 20_000_000 * USD_ONE)],
            lp_capital: 10_000_000 * USD_ONE,
            genesis: Genesis::default(),
        }
    }
}

impl World {
    /// Genesis with the spec's users and balances; in the first block each user mints half of
    /// its USDC into azUSD and user 1 lists the markets and deposits the LP capital; then the
    /// next block.
    pub fn new(spec: &WorldSpec) -> Result<Self, ExchangeError> {
        let mut g = spec.genesis.clone();
        for u in 1..=spec.users {
            g.balances.push(GenesisBalance {
                owner: addr(u),
                token: USDC,
                amount: spec.usdc_each,
            });
            for (t, _, _) in &spec.markets {
                g.balances.push(GenesisBalance {
                    owner: addr(u),
                    token: token(*t),
                    amount: spec.base_each,
                });
            }
        }
        let state = State::genesis(&g)?;
        let mut w = World {
            state,
            block: BlockCtx {
                height: 0,
                timestamp: 1_600_000_000,
            },
            block_time: 2,
            events: vec![],
        };
        w.next_block()?;
        for u in 1..=spec.users {
            w.tx(Tx::MintAzusd {
                user: addr(u),
                usdc: spec.usdc_each / 2,
            })?;
        }
        for (t, price, seed) in &spec.markets {
            w.tx(Tx::CreateMarket {
                user: addr(1),
                base_token: token(*t),
                base_decimals: 18,
                fee: 500,
                tick_spacing: 10,
                initial_price: *price,
                tick_range: 6_000,
                seed_azusd: *seed,
            })?;
        }
        if spec.lp_capital > 0 {
            w.tx(Tx::LpDeposit {
                user: addr(1),
                amount: spec.lp_capital,
            })?;
        }
        w.next_block()?;
        Ok(w)
    }

    /// End the open block (if any) and begin the next.
    pub fn next_block(&mut self) -> Result<(), ExchangeError> {
        if self.state.block_open {
            let e = self.state.end_block()?;
            self.events.extend(e);
        }
        self.block = BlockCtx {
            height: self.block.height + 1,
            timestamp: self.block.timestamp + self.block_time,
        };
        let e = self.state.begin_block(self.block)?;
        self.events.extend(e);
        Ok(())
    }

    /// Advance `n` blocks.
    pub fn advance(&mut self, n: u64) -> Result<(), ExchangeError> {
        for _ in 0..n {
            self.next_block()?;
        }
        Ok(())
    }

    /// Advance chain-time blocks (`block_time_secs` apart) until every market takes new
    /// exposure again (after a listing's warm-up or a long block: `handlers::price_guard`).
    pub fn settle(&mut self) -> Result<(), ExchangeError> {
        let keep = self.block_time;
        self.block_time = u64::from(self.state.params.block_time_secs);
        let r = (|| {
            for _ in 0..10_000 {
                let now = self.block.timestamp;
                if self
                    .state
                    .markets
                    .iter()
                    .all(|m| crate::handlers::price_guard::takes_new_exposure(m, now))
                {
                    return Ok(());
                }
                self.next_block()?;
            }
            Ok(())
        })();
        self.block_time = keep;
        r
    }

    /// Apply a transaction in the open block.
    pub fn tx(&mut self, tx: Tx) -> Result<Vec<Event>, ExchangeError> {
        let e = self.state.apply(&tx, self.block)?;
        self.events.extend(e.iter().cloned());
        Ok(e)
    }

    /// Open a position and return its id.
    pub fn open(
        &mut self,
        user: u64,
        market: MarketId,
        qty: i128,
        margin: Usd,
    ) -> Result<u64, ExchangeError> {
        let bound = if qty > 0 { u128::MAX } else { 0 };
        let ev = self.tx(Tx::OpenPosition {
            user: addr(user),
            market,
            qty,
            margin,
            price_bound: bound,
        })?;
        ev.iter()
            .find_map(|e| match e {
                Event::PositionOpened { position, .. } => Some(*position),
                _ => None,
            })
            .ok_or_else(crate::error::overflow)
    }

    /// Close a position at any price.
    pub fn close(&mut self, user: u64, position: u64) -> Result<Vec<Event>, ExchangeError> {
        let qty = self.state.position(position).map(|p| p.qty).unwrap_or(0);
        let bound = if qty > 0 { 0 } else { u128::MAX };
        self.tx(Tx::ClosePosition {
            user: addr(user),
            position,
            price_bound: bound,
        })
    }
}

impl World {
    /// Move market `market`'s pool price to `target` (USD per token, WAD) with one swap by the
    /// market maker (user `mover`), then advance `blocks` blocks so the truncated oracle and its
    /// TWAP follow.
    pub fn move_price(
        &mut self,
        mover: u64,
        market: MarketId,
        target: Price,
        blocks: u64,
    ) -> Result<(), ExchangeError> {
        let m = self.state.markets[market as usize];
        let sqrt = crate::spot_link::sqrt_from_price(target, m.quote_is_token0, m.base_decimals)?;
        let cur = self
            .state
            .spot
            .slot0(&m.pool_key)
            .map_err(crate::spot_link::spot_err)?
            .sqrt_price_x96;
        if sqrt != cur {
            let price_now = crate::spot_link::price_from_sqrt_saturating(
                cur,
                m.quote_is_token0,
                m.base_decimals,
            );
            let sell_base = target < price_now;
            let bal = if sell_base {
                self.state.wallet(addr(mover), m.base_token)
            } else {
                self.state.wallet(addr(mover), crate::state::AZUSD)
            };
            let amount = i128::try_from(bal / 2).map_err(|_| ExchangeError::Overflow)?;
            self.tx(Tx::SpotSwap {
                user: addr(mover),
                market,
                base_for_quote: sell_base,
                amount_specified: -amount,
                sqrt_price_limit_x96: Some(sqrt),
            })?;
        }
        self.advance(blocks)
    }

    /// Liquidate everything the index flags in `market` (as a keeper would), returning the events.
    pub fn keeper_pass(
        &mut self,
        keeper: u64,
        market: MarketId,
    ) -> Result<Vec<Event>, ExchangeError> {
        let ix = crate::liq_index::LiqIndex::build(&self.state)?;
        let mut out = vec![];
        for id in ix.candidates(&self.state, market)? {
            if let Ok(ev) = self.tx(Tx::Liquidate {
                user: addr(keeper),
                position: id,
            }) {
                out.extend(ev);
            }
        }
        Ok(out)
    }
}
