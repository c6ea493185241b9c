//! The transaction context: reads go to the state, writes go to an overlay of [`Effects`].
//!
//! A handler reads and writes through a [`Ctx`] as if it owned the state. Nothing touches the
//! state until every check has passed and [`State::commit`] writes the overlay — the single place
//! where state changes. A failed transaction drops its `Ctx` and leaves no trace; `simulate` runs
//! the very same handler and inspects the overlay instead of committing it.

use crate::error::ExchangeError;
use crate::event::Event;
use crate::ids::{MarketId, PositionId};
use crate::params::MarketParams;
use crate::state::{BlockCtx, Ledger, LpAccount, Market, Position, ProtocolFunds, State, Vault};
use crate::units::Checked;
use alloy_primitives::Address;

/// A pool operation to perform at commit time. Its outcome was computed (read-only) during the
/// plan; commit re-executes it on the pool manager, which is deterministic and must agree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpotOp {
    Initialize {
        key: azex_spot::PoolKey,
        sqrt_price_x96: alloy_primitives::U256,
    },
    Swap {
        key: azex_spot::PoolKey,
        params: azex_spot::SwapParams,
        sender: Address,
        expected: azex_spot::BalanceDelta,
    },
    Modify {
        key: azex_spot::PoolKey,
        params: azex_spot::ModifyLiquidityParams,
        sender: Address,
        expected: azex_spot::BalanceDelta,
    },
}

/// Everything a transaction changes.
#[derive(Debug, Default, Clone)]
pub struct Effects {
    pub(crate) wallets: Vec<((Address, Address), u128)>,
    pub(crate) lps: Vec<(Address, LpAccount)>,
    pub(crate) positions: Vec<(PositionId, Option<Position>)>,
    pub(crate) markets: Vec<Market>,
    pub(crate) new_markets: Vec<(Market, MarketParams)>,
    pub(crate) vault: Option<Vault>,
    pub(crate) ledger: Option<Ledger>,
    pub(crate) funds: Option<ProtocolFunds>,
    pub(crate) next_position_id: Option<PositionId>,
    pub(crate) spot_ops: Vec<SpotOp>,
    pub(crate) params_updates: Vec<(MarketId, MarketParams)>,
    pub events: Vec<Event>,
}

impl Effects {
    /// Nothing recorded (buffers may still hold capacity).
    pub fn is_empty(&self) -> bool {
        self.wallets.is_empty()
            && self.lps.is_empty()
            && self.positions.is_empty()
            && self.markets.is_empty()
            && self.new_markets.is_empty()
            && self.vault.is_none()
            && self.ledger.is_none()
            && self.funds.is_none()
            && self.next_position_id.is_none()
            && self.spot_ops.is_empty()
            && self.params_updates.is_empty()
            && self.events.is_empty()
    }
}

/// Read-through, write-to-overlay view of the state for one transaction.
pub struct Ctx<'s> {
    pub s: &'s State,
    pub block: BlockCtx,
    /// Boxed: the overlay moves from plan to commit (and back to the state for reuse) as a
    /// pointer, not as a few hundred bytes.
    pub fx: Box<Effects>,
}

impl<'s> Ctx<'s> {
    pub fn new(s: &'s State) -> Self {
        Ctx {
            s,
            block: s.block,
            fx: Box::default(),
        }
    }

    /// A context writing into `fx` (empty buffers, typically reused from the last transaction).
    pub(crate) fn with_effects(s: &'s State, fx: Box<Effects>) -> Self {
        debug_assert!(fx.is_empty(), "reused effects must be empty");
        Ctx {
            s,
            block: s.block,
            fx,
        }
    }

    pub fn emit(&mut self, e: Event) {
        self.fx.events.push(e);
    }

    // --- wallets ----------------------------------------------------------------------------
    pub fn wallet(&self, owner: Address, token: Address) -> u128 {
        for (k, v) in self.fx.wallets.iter().rev() {
            if *k == (owner, token) {
                return *v;
            }
        }
        self.s.wallet(owner, token)
    }
    fn set_wallet(&mut self, owner: Address, token: Address, v: u128) {
        if let Some(e) = self
            .fx
            .wallets
            .iter_mut()
            .find(|(k, _)| *k == (owner, token))
        {
            e.1 = v;
        } else {
            self.fx.wallets.push(((owner, token), v));
        }
    }
    pub fn credit(
        &mut self,
        owner: Address,
        token: Address,
        amount: u128,
    ) -> Result<(), ExchangeError> {
        let v = self.wallet(owner, token).add_c(amount)?;
        self.set_wallet(owner, token, v);
        Ok(())
    }
    pub fn debit(
        &mut self,
        owner: Address,
        token: Address,
        amount: u128,
    ) -> Result<(), ExchangeError> {
        let have = self.wallet(owner, token);
        if have < amount {
            return Err(ExchangeError::InsufficientBalance {
                token,
                have,
                need: amount,
            });
        }
        self.set_wallet(owner, token, have - amount);
        Ok(())
    }

    // --- LP accounts --------------------------------------------------------------------------
    pub fn lp(&self, owner: Address) -> LpAccount {
        for (k, v) in self.fx.lps.iter().rev() {
            if *k == owner {
                return *v;
            }
        }
        self.s.lps.get(&owner).copied().unwrap_or_default()
    }
    pub fn put_lp(&mut self, owner: Address, a: LpAccount) {
        if let Some(e) = self.fx.lps.iter_mut().find(|(k, _)| *k == owner) {
            e.1 = a;
        } else {
            self.fx.lps.push((owner, a));
        }
    }

    // --- positions --------------------------------------------------------------------------
    pub fn position(&self, id: PositionId) -> Result<Position, ExchangeError> {
        for (k, v) in self.fx.positions.iter().rev() {
            if *k == id {
                return v.ok_or_else(|| ExchangeError::UnknownPosition(id));
            }
        }
        self.s
            .positions
            .get(&id)
            .copied()
            .ok_or_else(|| ExchangeError::UnknownPosition(id))
    }
    pub fn put_position(&mut self, p: Position) {
        self.set_position(p.id, Some(p));
    }
    pub fn remove_position(&mut self, id: PositionId) {
        self.set_position(id, None);
    }
    fn set_position(&mut self, id: PositionId, p: Option<Position>) {
        if let Some(e) = self.fx.positions.iter_mut().find(|(k, _)| *k == id) {
            e.1 = p;
        } else {
            self.fx.positions.push((id, p));
        }
    }
    pub fn next_position_id(&mut self) -> Result<PositionId, ExchangeError> {
        let id = self.fx.next_position_id.unwrap_or(self.s.next_position_id);
        self.fx.next_position_id = Some(id.add_c(1)?);
        Ok(id)
    }

    // --- markets ----------------------------------------------------------------------------
    pub fn market(&self, id: MarketId) -> Result<Market, ExchangeError> {
        match self.market_ref(id) {
            Some(m) => Ok(*m),
            None => Err(ExchangeError::UnknownMarket(id)),
        }
    }
    /// Write a market (its cached risk figures are recomputed here, the one place markets are
    /// written during a transaction).
    pub fn put_market(&mut self, mut m: Market) -> Result<(), ExchangeError> {
        let p = self.params(m.id)?;
        m.risk = crate::risk::market_risk(&m, p)?;
        m.premium_wad = crate::handlers::trade::premium_now(&m, p, m.net_qty()?)?;
        self.store_market(m);
        Ok(())
    }

    /// Write a market whose cached risk figures the caller has just computed with
    /// [`crate::risk::market_risk`] (checked in debug builds).
    pub fn put_market_with_risk(&mut self, m: Market) -> Result<(), ExchangeError> {
        debug_assert_eq!(
            Ok(m.risk),
            crate::risk::market_risk(&m, self.params(m.id)?),
            "stale risk cache"
        );
        self.store_market(m);
        Ok(())
    }

    fn store_market(&mut self, m: Market) {
        if let Some((nm, _)) = self.fx.new_markets.iter_mut().find(|(x, _)| x.id == m.id) {
            *nm = m;
        } else if let Some(e) = self.fx.markets.iter_mut().find(|x| x.id == m.id) {
            *e = m;
        } else {
            self.fx.markets.push(m);
        }
    }

    /// Write a market whose risk inputs are unchanged since it was last written in this
    /// transaction (only its funding rate changed): keeps the cached risk figures.
    pub fn put_market_keep_risk(&mut self, mut m: Market) -> Result<(), ExchangeError> {
        let Some(prev) = self.market_ref(m.id) else {
            return self.put_market(m);
        };
        m.risk = prev.risk;
        self.put_market_with_risk(m)
    }

    /// A market as this transaction sees it, by reference (no clone).
    pub fn market_ref(&self, id: MarketId) -> Option<&Market> {
        if let Some(m) = self.fx.markets.iter().rev().find(|m| m.id == id) {
            return Some(m);
        }
        if let Some((m, _)) = self.fx.new_markets.iter().find(|(m, _)| m.id == id) {
            return Some(m);
        }
        self.s.markets.get(id as usize)
    }
    pub fn params(&self, id: MarketId) -> Result<&MarketParams, ExchangeError> {
        if let Some((_, p)) = self.fx.params_updates.iter().rev().find(|(m, _)| *m == id) {
            return Ok(p);
        }
        if let Some((_, p)) = self.fx.new_markets.iter().find(|(m, _)| m.id == id) {
            return Ok(p);
        }
        self.s
            .market_params
            .get(id as usize)
            .ok_or_else(|| ExchangeError::UnknownMarket(id))
    }
    /// A market's parameters without copying them when they come from the state (the usual
    /// case: only listing and parameter updates write them in a transaction).
    pub fn params_snapshot(
        &self,
        id: MarketId,
    ) -> Result<std::borrow::Cow<'s, MarketParams>, ExchangeError> {
        let in_overlay = self.fx.params_updates.iter().any(|(m, _)| *m == id)
            || self.fx.new_markets.iter().any(|(m, _)| m.id == id);
        if in_overlay {
            return self.params(id).map(|p| std::borrow::Cow::Owned(p.clone()));
        }
        self.s
            .market_params
            .get(id as usize)
            .map(std::borrow::Cow::Borrowed)
            .ok_or_else(|| ExchangeError::UnknownMarket(id))
    }
    pub fn market_count(&self) -> usize {
        self.s.markets.len() + self.fx.new_markets.len()
    }
    /// Every market as the transaction sees it, in id order.
    pub fn all_markets(&self) -> Result<Vec<Market>, ExchangeError> {
        crate::ids::market_ids(self.market_count())
            .map(|i| self.market(i))
            .collect()
    }

    // --- vault and ledger -------------------------------------------------------------------
    pub fn vault(&self) -> Vault {
        self.fx.vault.unwrap_or(self.s.vault)
    }
    pub fn put_vault(&mut self, v: Vault) {
        self.fx.vault = Some(v);
    }
    pub fn funds(&self) -> ProtocolFunds {
        self.fx.funds.unwrap_or(self.s.funds)
    }
    pub fn put_funds(&mut self, f: ProtocolFunds) {
        self.fx.funds = Some(f);
    }
    pub fn ledger(&self) -> Ledger {
        self.fx
            .ledger
            .clone()
            .unwrap_or_else(|| self.s.ledger.clone())
    }
    pub fn put_ledger(&mut self, l: Ledger) {
        self.fx.ledger = Some(l);
    }
}
