//! The state machine's entry points: genesis, block begin/end, apply, simulate, commit.
//!
//! ```text
//! state' = apply(state, tx, block)      deterministic: no clock, no randomness, no floats
//! ```
//! Each entry point runs a handler against a [`Ctx`] overlay and commits only on success, so a
//! refused transaction changes nothing. In tests and debug builds every commit is followed by a
//! full invariant check ([`crate::invariants`]).

use crate::ctx::{Ctx, Effects};
use crate::error::ExchangeError;
use crate::event::Event;
use crate::handlers;
use crate::params::GlobalParams;
use crate::risk::VaultRisk;
use crate::state::*;
use crate::tx::Tx;
use alloy_primitives::Address;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An external token balance at genesis (USDC or a base token; azUSD only exists by minting).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisBalance {
    /// The holder.
    pub owner: Address,
    /// The token held.
    pub token: Address,
    /// The balance, in the token's smallest unit.
    #[serde(with = "crate::serde_num")]
    pub amount: u128,
}

/// Everything the chain starts with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Genesis {
    /// The protocol's parameters (market defaults included).
    pub params: GlobalParams,
    /// External token balances.
    pub balances: Vec<GenesisBalance>,
    /// The azUSD reserve's yield strategies.
    pub strategies: Vec<StrategyConfig>,
}

/// What `simulate` reports: the events the transaction would emit and the vault's risk after it.
#[derive(Debug, Clone, Serialize)]
pub struct Simulation {
    /// The events the transaction would emit.
    pub events: Vec<Event>,
    /// The vault's risk figures after it.
    pub risk_after: VaultRisk,
}

impl State {
    /// Build the genesis state.
    pub fn genesis(g: &Genesis) -> Result<Self, ExchangeError> {
        g.params.validate()?;
        crate::params::validate_strategies(&g.strategies)?;
        let mut wallets = BTreeMap::new();
        let mut external_supply: BTreeMap<Address, u128> = BTreeMap::new();
        for b in &g.balances {
            if b.token == AZUSD {
                return Err(ExchangeError::Unauthorised(
                    "azUSD can only be minted against USDC",
                ));
            }
            let w: &mut u128 = wallets.entry((b.owner, b.token)).or_default();
            *w = w.checked_add(b.amount).ok_or_else(crate::error::overflow)?;
            let t = external_supply.entry(b.token).or_default();
            *t = t.checked_add(b.amount).ok_or_else(crate::error::overflow)?;
        }
        let mut share_sum = 0u128;
        for s in &g.strategies {
            share_sum = share_sum.saturating_add(s.target_share_wad);
        }
        if share_sum > crate::units::WAD {
            return Err(ExchangeError::InvalidParameter {
                name: "strategies",
                reason: "target shares sum above 100%".into(),
            });
        }
        let strategies = g
            .strategies
            .iter()
            .map(|c| Strategy {
                config: c.clone(),
                assets: 0,
                pending: vec![],
                last_accrual: 0,
            })
            .collect();
        Ok(State {
            params: g.params.clone(),
            block: BlockCtx::default(),
            block_open: false,
            ledger: Ledger {
                strategies,
                ..Default::default()
            },
            vault: Vault::default(),
            funds: ProtocolFunds::default(),
            wallets,
            lps: BTreeMap::new(),
            markets: vec![],
            market_params: vec![],
            market_by_token: BTreeMap::new(),
            positions: crate::positions::Positions::new(),
            next_position_id: 1,
            spot: crate::spot_link::new_spot(&g.params)?,
            event_seq: 0,
            external_supply,
            scratch: None,
        })
    }

    /// Open a block: advance time, refresh every market's oracle prices, accrue funding and
    /// strategy yield.
    pub fn begin_block(&mut self, b: BlockCtx) -> Result<Vec<Event>, ExchangeError> {
        if self.block_open {
            return Err(ExchangeError::BlockAlreadyOpen);
        }
        let first = self.block == BlockCtx::default() && self.event_seq == 0;
        if !first && (b.height <= self.block.height || b.timestamp < self.block.timestamp) {
            return Err(ExchangeError::BadBlock {
                last: self.block.height,
                got: b.height,
            });
        }
        // The oracle writes this block's observation first (it is part of the block's state),
        // outside the overlay: the block-begin steps below read it, and the overlay has no view
        // of the oracle ring (ARCHITECTURE.md, "One commit path"). All pools or none.
        crate::spot_link::observe_block(self, b)?;
        let events = {
            let mut ctx = Ctx::new(self);
            ctx.block = b;
            ctx.emit(Event::BlockBegun {
                height: b.height,
                timestamp: b.timestamp,
            });
            handlers::block::begin(&mut ctx)?;
            handlers::ledger::accrue_yield(&mut ctx)?;
            ctx.fx
        };
        self.block = b;
        self.block_open = true;
        self.commit(events)
    }

    /// Close the block: rebalance reserves.
    pub fn end_block(&mut self) -> Result<Vec<Event>, ExchangeError> {
        if !self.block_open {
            return Err(ExchangeError::NoOpenBlock);
        }
        let fx = {
            let mut ctx = Ctx::new(self);
            handlers::ledger::rebalance(&mut ctx)?;
            handlers::protection::end_block(&mut ctx)?;
            handlers::block::end(&mut ctx)?;
            ctx.emit(Event::BlockEnded {
                height: self.block.height,
            });
            ctx.fx
        };
        let ev = self.commit(fx)?;
        self.block_open = false;
        // Cache the digests of the book's changed buckets: the state hash after the block then
        // costs what the block changed.
        self.positions.refresh_digests();
        Ok(ev)
    }

    /// Apply one transaction in the open block `b`. On error nothing changes.
    pub fn apply(&mut self, tx: &Tx, b: BlockCtx) -> Result<Vec<Event>, ExchangeError> {
        if !self.block_open {
            return Err(ExchangeError::NoOpenBlock);
        }
        if b != self.block {
            return Err(ExchangeError::BadBlock {
                last: self.block.height,
                got: b.height,
            });
        }
        let fx = self.plan(tx)?;
        self.commit(fx)
    }

    /// Run `tx` through the same code path as [`State::apply`] without committing; report its
    /// events and the vault's risk afterwards. Errors are exactly those `apply` would return.
    pub fn simulate(&self, tx: &Tx) -> Result<Simulation, ExchangeError> {
        let mut ctx = Ctx::new(self);
        handlers::dispatch(&mut ctx, tx)?;
        let risk_after = ctx.vault_risk()?;
        Ok(Simulation {
            events: ctx.fx.events,
            risk_after,
        })
    }

    fn plan(&mut self, tx: &Tx) -> Result<Box<Effects>, ExchangeError> {
        let fx = self.scratch.take().unwrap_or_default();
        let mut ctx = Ctx::with_effects(self, fx);
        handlers::dispatch(&mut ctx, tx)?;
        Ok(ctx.fx)
    }

    /// Write a transaction's effects: the one place where state changes. Pool operations run
    /// first (the only fallible part); if one fails nothing at all is written.
    fn commit(&mut self, mut fx: Box<Effects>) -> Result<Vec<Event>, ExchangeError> {
        // Every pool operation was quoted during the plan and the pool manager is deterministic,
        // so these cannot fail short of a bug; the check stays as a loud guard.
        for op in &fx.spot_ops {
            crate::spot_link::execute(self, op)?;
        }
        fx.spot_ops.clear();
        let Effects {
            wallets,
            lps,
            positions,
            markets,
            new_markets,
            vault,
            ledger,
            funds,
            next_position_id,
            spot_ops: _,
            params_updates,
            events,
        } = &mut *fx;
        for (m, p) in new_markets.drain(..) {
            debug_assert_eq!(m.id as usize, self.markets.len());
            self.market_by_token.insert(m.base_token, m.id);
            self.markets.push(m);
            self.market_params.push(p);
        }
        for ((owner, token), v) in wallets.drain(..) {
            if v == 0 {
                self.wallets.remove(&(owner, token));
            } else {
                self.wallets.insert((owner, token), v);
            }
        }
        for (owner, a) in lps.drain(..) {
            if a.shares == 0 {
                self.lps.remove(&owner);
            } else {
                self.lps.insert(owner, a);
            }
        }
        for (id, p) in positions.drain(..) {
            match p {
                Some(p) => {
                    self.positions.insert(id, p);
                }
                None => {
                    self.positions.remove(&id);
                }
            }
        }
        for m in markets.iter() {
            self.markets[m.id as usize] = *m;
        }
        markets.clear();
        for (id, p) in params_updates.drain(..) {
            self.market_params[id as usize] = p;
        }
        if let Some(v) = vault.take() {
            self.vault = v;
        }
        if let Some(l) = ledger.take() {
            self.ledger = l;
        }
        if let Some(f) = funds.take() {
            self.funds = f;
        }
        if let Some(n) = next_position_id.take() {
            self.next_position_id = n;
        }
        let events = std::mem::take(events);
        self.event_seq = self.event_seq.saturating_add(events.len() as u64);
        // Keep the emptied buffers for the next transaction (no allocation per transaction).
        self.scratch = Some(fx);
        #[cfg(any(test, debug_assertions, feature = "invariants"))]
        if let Err(v) = crate::invariants::check(self) {
            panic!("invariant violated after commit: {v}");
        }
        Ok(events)
    }
}
