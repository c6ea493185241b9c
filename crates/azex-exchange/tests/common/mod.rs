//! Test helper: a [`World`] whose every state transition (each transaction, each block begin and
//! end, the set-up included) is followed by the full invariant check, called **explicitly**: the
//! engine's own check after each commit is compiled only into debug builds, so without this a
//! `cargo test --release` run would check nothing.
#![allow(dead_code)]

use azex_exchange::state::State;
use azex_exchange::testkit::{addr, token, World, WorldSpec};
use azex_exchange::{BlockCtx, Event, ExchangeError, GenesisBalance, Tx, AZUSD, USDC};
use std::ops::{Deref, DerefMut};

/// Panics with the violation if the state breaks an invariant.
pub(crate) fn check(s: &State) {
    if let Err(v) = azex_exchange::invariants::check(s) {
        panic!("invariant violated: {v}");
    }
}

/// A world that checks every invariant after every state transition.
pub(crate) struct Checked(pub World);

impl Deref for Checked {
    type Target = World;
    fn deref(&self) -> &World {
        &self.0
    }
}

impl DerefMut for Checked {
    fn deref_mut(&mut self) -> &mut World {
        &mut self.0
    }
}

impl Checked {
    /// [`World::new`], step by step, checked after each step.
    pub(crate) fn new(spec: &WorldSpec) -> Result<Self, ExchangeError> {
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
        check(&state);
        let mut w = Checked(World {
            state,
            block: BlockCtx {
                height: 0,
                timestamp: 1_600_000_000,
            },
            block_time: 2,
            events: vec![],
        });
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

    /// End the open block (checked), begin the next (checked).
    pub(crate) fn next_block(&mut self) -> Result<(), ExchangeError> {
        if self.0.state.block_open {
            let e = self.0.state.end_block()?;
            check(&self.0.state);
            self.0.events.extend(e);
        }
        self.0.block = BlockCtx {
            height: self.0.block.height + 1,
            timestamp: self.0.block.timestamp + self.0.block_time,
        };
        let e = self.0.state.begin_block(self.0.block)?;
        check(&self.0.state);
        self.0.events.extend(e);
        Ok(())
    }

    pub(crate) fn advance(&mut self, n: u64) -> Result<(), ExchangeError> {
        for _ in 0..n {
            self.next_block()?;
        }
        Ok(())
    }

    /// Advance chain-time blocks (checked) until every market takes new exposure again.
    pub(crate) fn settle(&mut self) -> Result<(), ExchangeError> {
        let keep = self.0.block_time;
        self.0.block_time = u64::from(self.0.state.params.block_time_secs);
        for _ in 0..10_000 {
            let now = self.0.block.timestamp;
            if self
                .0
                .state
                .markets
                .iter()
                .all(|m| azex_exchange::handlers::price_guard::takes_new_exposure(m, now))
            {
                break;
            }
            self.next_block()?;
        }
        self.0.block_time = keep;
        Ok(())
    }

    /// Apply a transaction in the open block; check the state whether it committed or not.
    pub(crate) fn tx(&mut self, tx: Tx) -> Result<Vec<Event>, ExchangeError> {
        let r = self.0.state.apply(&tx, self.0.block);
        check(&self.0.state);
        let e = r?;
        self.0.events.extend(e.iter().cloned());
        Ok(e)
    }

    pub(crate) fn open(
        &mut self,
        user: u64,
        market: u32,
        qty: i128,
        margin: u128,
    ) -> Result<u64, ExchangeError> {
        let ev = self.tx(Tx::OpenPosition {
            user: addr(user),
            market,
            qty,
            margin,
            price_bound: if qty > 0 { u128::MAX } else { 0 },
        })?;
        ev.iter()
            .find_map(|e| match e {
                Event::PositionOpened { position, .. } => Some(*position),
                _ => None,
            })
            .ok_or(ExchangeError::Overflow)
    }

    pub(crate) fn close(&mut self, user: u64, position: u64) -> Result<Vec<Event>, ExchangeError> {
        let qty = self.0.state.position(position).map(|p| p.qty).unwrap_or(0);
        self.tx(Tx::ClosePosition {
            user: addr(user),
            position,
            price_bound: if qty > 0 { 0 } else { u128::MAX },
        })
    }

    /// [`World::move_price`]: one swap by `mover` toward `target`, then `blocks` blocks.
    pub(crate) fn move_price(
        &mut self,
        mover: u64,
        market: u32,
        target: u128,
        blocks: u64,
    ) -> Result<(), ExchangeError> {
        let m = self.0.state.markets[market as usize];
        let sqrt =
            azex_exchange::spot_link::sqrt_from_price(target, m.quote_is_token0, m.base_decimals)?;
        let cur = self
            .0
            .state
            .spot
            .slot0(&m.pool_key)
            .map_err(ExchangeError::Spot)?
            .sqrt_price_x96;
        if sqrt != cur {
            let now = azex_exchange::spot_link::price_from_sqrt_saturating(
                cur,
                m.quote_is_token0,
                m.base_decimals,
            );
            let sell_base = target < now;
            let bal = if sell_base {
                self.0.state.wallet(addr(mover), m.base_token)
            } else {
                self.0.state.wallet(addr(mover), AZUSD)
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

    /// [`World::keeper_pass`], each liquidation checked.
    pub(crate) fn keeper_pass(
        &mut self,
        keeper: u64,
        market: u32,
    ) -> Result<Vec<Event>, ExchangeError> {
        let ix = azex_exchange::liq_index::LiqIndex::build(&self.0.state)?;
        let mut out = vec![];
        for id in ix.candidates(&self.0.state, market)? {
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
