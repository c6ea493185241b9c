//! One keeper: a liquidation index kept up to date from block records, and a step that turns what
//! it sees into `Liquidate`, `Deleverage` and `SettleDelisted` transactions.

use crate::view::{BlockRecord, ChainView, SubmitError, TxSink};
use alloy_primitives::Address;
use azex_exchange::event::Event;
use azex_exchange::handlers::liquidation::is_liquidatable;
use azex_exchange::liq_index::LiqIndex;
use azex_exchange::state::MarketStatus;
use azex_exchange::units::WAD;
use azex_exchange::{ExchangeError, MarketId, PositionId, Tx};
use std::collections::{BTreeMap, BTreeSet};

/// How a keeper behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeeperConfig {
    /// The keeper's address: signer of its transactions, receiver of its rewards.
    pub address: Address,
    /// Most transactions it submits per step (per block seen).
    pub max_txs_per_block: usize,
    /// Check each index candidate with the engine's own `is_liquidatable` at the view's
    /// liquidation price of its side (`Market::liquidation_price`) before sending (the index is a conservative superset). Saves refused transactions;
    /// the engine re-checks anyway.
    pub precheck: bool,
    /// Send `Deleverage` for markets where a simulation says it would succeed ...
    pub deleverage: bool,
    /// ... and cut at least this fraction (WAD) of a side. The engine may accept a `Deleverage`
    /// whose cut is rounding dust (keep = 1 − 1e-18); such a transaction is not worth sending.
    pub deleverage_min_cut_wad: u128,
    /// Send `SettleDelisted` for the positions of delisted markets.
    pub settle_delisted: bool,
    /// Blocks after which a transaction of ours that we have seen no receipt for is forgotten
    /// (and sent again if still needed).
    pub inflight_ttl: u64,
    /// Rebuild the index from the state every this many blocks even without a detected gap
    /// (0 = only at start and on gaps). A safety net against events the keeper does not know.
    pub rebuild_every: u64,
    /// Order work by a permutation seeded with the address, so that keepers with a
    /// per-block cap start on different positions and together cover more of a large batch.
    pub spread: bool,
}

impl KeeperConfig {
    /// The default configuration for a keeper at `address`: at most 256 transactions per step,
    /// precheck on, `Deleverage` on with a minimum cut of 1e-6 of a side (`WAD / 1_000_000`),
    /// delisting settlement on, in-flight transactions forgotten after 4 blocks, no periodic
    /// rebuild (only at start and on gaps), `spread` ordering on.
    pub fn new(address: Address) -> Self {
        Self {
            address,
            max_txs_per_block: 256,
            precheck: true,
            deleverage: true,
            deleverage_min_cut_wad: WAD / 1_000_000,
            settle_delisted: true,
            inflight_ttl: 4,
            rebuild_every: 0,
            spread: true,
        }
    }
}

/// What a keeper did so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeeperStats {
    /// Steps run (blocks seen).
    pub steps: u64,
    /// Full index rebuilds (start, gaps, periodic).
    pub rebuilds: u64,
    /// Height of the last block seen.
    pub height: u64,
    /// Positions in the index after the last step.
    pub indexed: usize,
    /// Candidates the index named, before the precheck (summed over steps).
    pub candidates: u64,
    /// `Liquidate` transactions submitted (summed over steps).
    pub submitted_liquidate: u64,
    /// `Deleverage` transactions submitted (summed over steps).
    pub submitted_deleverage: u64,
    /// `SettleDelisted` transactions submitted (summed over steps).
    pub submitted_settle: u64,
    /// Receipts of our own transactions (signed by this keeper's address) that say applied.
    pub own_applied: u64,
    /// Receipts of our own transactions that say refused, all reasons.
    pub own_refused: u64,
    /// The refusals counted in `own_refused`, by engine error kind (`"NotLiquidatable"`,
    /// `"UnknownPosition"`, …, see [`crate::error_kind`]).
    pub own_refusals: BTreeMap<String, u64>,
    /// Our transactions forgotten after `inflight_ttl` without a receipt.
    pub expired: u64,
    /// `PositionLiquidated` events that name this keeper as the liquidator.
    pub liquidations: u64,
    /// Sum of the `keeper_reward` of those events, in micro-azUSD (1e-6 azUSD).
    pub rewards: u128,
}

/// What one step did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Step {
    /// Height of the view the step acted on (the newest finished block it saw).
    pub height: u64,
    /// Whether the step rebuilt the index from the state instead of folding in block records.
    pub rebuilt: bool,
    /// Candidates the index named this step, before the precheck.
    pub candidates: usize,
    /// The transactions submitted to the sink, in submission order.
    pub submitted: Vec<Tx>,
}

/// Why a step failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeeperError {
    /// The liquidation index failed on the view's state (a build, an update from block records,
    /// or a candidate query).
    #[error("engine: {0}")]
    Exchange(#[from] ExchangeError),
    /// The sink refused a transaction (the mempool is closed).
    #[error("submit: {0}")]
    Submit(#[from] SubmitError),
}

/// A unit of keeper work; also the key of in-flight deduplication (the signer is always us).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Job {
    Deleverage(MarketId),
    Liquidate(PositionId),
    Settle(PositionId),
}

impl Job {
    fn of(tx: &Tx) -> Option<Job> {
        match *tx {
            Tx::Liquidate { position, .. } => Some(Job::Liquidate(position)),
            Tx::Deleverage { market, .. } => Some(Job::Deleverage(market)),
            Tx::SettleDelisted { position, .. } => Some(Job::Settle(position)),
            _ => None,
        }
    }
    fn tx(self, user: Address) -> Tx {
        match self {
            Job::Deleverage(market) => Tx::Deleverage { user, market },
            Job::Liquidate(position) => Tx::Liquidate { user, position },
            Job::Settle(position) => Tx::SettleDelisted { user, position },
        }
    }
}

/// SplitMix64: a fixed, platform-independent mixer for the `spread` permutation.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn seed_of(a: &Address) -> u64 {
    a.as_slice().iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The position an event is about, if any. Every event that can change a position's size, cost,
/// margin or existence names it (ADL is the exception, handled per side).
pub fn position_named(e: &Event) -> Option<PositionId> {
    match e {
        Event::PositionOpened { position, .. }
        | Event::PositionModified { position, .. }
        | Event::PositionClosed { position, .. }
        | Event::PositionLiquidated { position, .. }
        | Event::PositionSettled { position, .. }
        | Event::AdlSettled { position, .. }
        | Event::FundingSettled { position, .. }
        | Event::MarginChanged { position, .. }
        | Event::DeficitCovered { position, .. } => Some(*position),
        _ => None,
    }
}

/// A keeper. Deterministic: the same views give the same transactions (ordered maps only; the
/// `spread` order is a fixed function of the address and the ids).
#[derive(Debug, Clone)]
pub struct Keeper {
    cfg: KeeperConfig,
    seed: u64,
    index: LiqIndex,
    /// Height of the last block folded into the index (`None`: never built).
    cursor: Option<u64>,
    last_rebuild: u64,
    /// Every live position we know of, by market (for delisting settlement).
    by_market: BTreeMap<MarketId, BTreeSet<PositionId>>,
    market_of: BTreeMap<PositionId, MarketId>,
    /// Our transactions not yet seen in a block, with the height at which they were sent.
    in_flight: BTreeMap<Job, u64>,
    stats: KeeperStats,
}

impl Keeper {
    /// A keeper with an empty index (its first step builds it from the state) and no
    /// transactions in flight.
    pub fn new(cfg: KeeperConfig) -> Self {
        Self {
            seed: seed_of(&cfg.address),
            cfg,
            index: LiqIndex::new(),
            cursor: None,
            last_rebuild: 0,
            by_market: BTreeMap::new(),
            market_of: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            stats: KeeperStats::default(),
        }
    }

    /// The keeper's configuration.
    pub fn config(&self) -> &KeeperConfig {
        &self.cfg
    }
    /// The keeper's address (signer of its transactions).
    pub fn address(&self) -> Address {
        self.cfg.address
    }
    /// What the keeper did so far.
    pub fn stats(&self) -> &KeeperStats {
        &self.stats
    }
    /// The keeper's liquidation index (as of its last sync).
    pub fn index(&self) -> &LiqIndex {
        &self.index
    }
    /// Height of the last block folded into the index.
    pub fn cursor(&self) -> Option<u64> {
        self.cursor
    }
    /// Transactions sent and not yet seen in a block.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Forget the index (the next step rebuilds it from the state).
    pub fn reset(&mut self) {
        self.cursor = None;
    }

    /// Bring the index up to the view: fold in the records since the cursor, or rebuild from the
    /// state if the view cannot supply them (start, gap, reorg) or a periodic rebuild is due.
    /// Returns whether it rebuilt.
    pub fn sync<V: ChainView + ?Sized>(&mut self, view: &V) -> Result<bool, KeeperError> {
        let h = view.height();
        let mut rebuild = match self.cursor {
            None => true,
            Some(c) => match view.blocks_since(c) {
                Ok(records) => {
                    self.fold(view, &records)?;
                    false
                }
                Err(e) => {
                    tracing::info!(keeper = %self.cfg.address, %e, "gap: rebuilding the index");
                    true
                }
            },
        };
        if self.cfg.rebuild_every > 0 && h >= self.last_rebuild + self.cfg.rebuild_every {
            rebuild = true;
        }
        if rebuild {
            self.rebuild(view)?;
        }
        self.cursor = Some(h);
        self.stats.height = h;
        self.stats.indexed = self.index.len();
        // Forget what was sent too long ago without a receipt.
        let ttl = self.cfg.inflight_ttl;
        let before = self.in_flight.len();
        self.in_flight
            .retain(|_, sent| h.saturating_sub(*sent) < ttl);
        self.stats.expired += (before - self.in_flight.len()) as u64;
        Ok(rebuild)
    }

    fn rebuild<V: ChainView + ?Sized>(&mut self, view: &V) -> Result<(), KeeperError> {
        let s = view.state();
        self.index = LiqIndex::build(s)?;
        self.by_market.clear();
        self.market_of.clear();
        for p in s.positions.values() {
            self.track(p.id, Some(p.market));
        }
        self.last_rebuild = view.height();
        self.stats.rebuilds += 1;
        Ok(())
    }

    fn track(&mut self, id: PositionId, market: Option<MarketId>) {
        if let Some(old) = self.market_of.remove(&id) {
            if let Some(set) = self.by_market.get_mut(&old) {
                set.remove(&id);
            }
        }
        if let Some(m) = market {
            self.market_of.insert(id, m);
            self.by_market.entry(m).or_default().insert(id);
        }
    }

    /// Fold block records into the index: every position an event names is re-read from the
    /// view's (newest) state; a side that was deleveraged is re-indexed as a whole.
    fn fold<V: ChainView + ?Sized>(
        &mut self,
        view: &V,
        records: &[std::sync::Arc<BlockRecord>],
    ) -> Result<(), KeeperError> {
        let me = self.cfg.address;
        let mut touched = BTreeSet::new();
        let mut sides = BTreeSet::new();
        for r in records {
            for e in &r.events {
                if let Some(id) = position_named(e) {
                    touched.insert(id);
                }
                match e {
                    Event::Deleveraged {
                        market, long_side, ..
                    } => {
                        sides.insert((*market, *long_side));
                    }
                    Event::PositionLiquidated {
                        keeper,
                        keeper_reward,
                        ..
                    } if *keeper == me => {
                        self.stats.liquidations += 1;
                        self.stats.rewards += keeper_reward;
                    }
                    _ => {}
                }
            }
            for rc in &r.receipts {
                if rc.tx.user() != me {
                    continue;
                }
                let Some(job) = Job::of(&rc.tx) else { continue };
                self.in_flight.remove(&job);
                match &rc.result {
                    Ok(()) => self.stats.own_applied += 1,
                    Err(e) => {
                        self.stats.own_refused += 1;
                        *self
                            .stats
                            .own_refusals
                            .entry(crate::local::error_kind(e))
                            .or_default() += 1;
                    }
                }
            }
        }
        let s = view.state();
        for (market, long) in sides {
            self.index.reindex_side(s, market, long)?;
        }
        for id in touched {
            self.index.upsert(s, id)?;
            self.track(id, view.position(id).map(|p| p.market));
        }
        Ok(())
    }

    /// The work the view calls for, in submission order, without what is already in flight.
    fn plan<V: ChainView + ?Sized>(&mut self, view: &V) -> Result<(Vec<Job>, usize), KeeperError> {
        let s = view.state();
        let mut adl = Vec::new();
        let mut liq = Vec::new();
        let mut settle = Vec::new();
        let mut n_candidates = 0;
        for market in 0..view.market_count() {
            match view.market_status(market) {
                None => continue,
                Some(MarketStatus::Delisted { .. }) => {
                    if self.cfg.settle_delisted {
                        if let Some(ids) = self.by_market.get(&market) {
                            settle.extend(ids.iter().map(|id| Job::Settle(*id)));
                        }
                    }
                }
                Some(_) => {
                    if self.cfg.deleverage
                        && self.by_market.get(&market).is_some_and(|s| !s.is_empty())
                        && self.deleverage_worthwhile(view, market)
                    {
                        adl.push(Job::Deleverage(market));
                    }
                    let cands = self.index.candidates(s, market)?;
                    n_candidates += cands.len();
                    let m = &s.markets[market as usize];
                    let params = &s.market_params[market as usize];
                    for id in cands {
                        if self.cfg.precheck {
                            let Some(p) = s.position(id) else { continue };
                            // An error here is not ours to judge: let the engine decide.
                            let long = p.is_long();
                            let price = m.liquidation_price(long);
                            if let Ok(false) = is_liquidatable(params, m.side(long), p, price) {
                                continue;
                            }
                        }
                        liq.push(Job::Liquidate(id));
                    }
                }
            }
        }
        if self.cfg.spread {
            let seed = self.seed;
            let key = |j: &Job| match *j {
                Job::Liquidate(id) | Job::Settle(id) => (mix(id ^ seed), id),
                Job::Deleverage(m) => (0, u64::from(m)),
            };
            liq.sort_by_key(key);
            settle.sort_by_key(key);
        }
        let jobs = adl
            .into_iter()
            .chain(liq)
            .chain(settle)
            .filter(|j| !self.in_flight.contains_key(j))
            .take(self.cfg.max_txs_per_block)
            .collect();
        Ok((jobs, n_candidates))
    }

    /// Whether a `Deleverage` of `market` would be applied now and cut a side by at least
    /// [`KeeperConfig::deleverage_min_cut_wad`].
    fn deleverage_worthwhile<V: ChainView + ?Sized>(&self, view: &V, market: MarketId) -> bool {
        let max_keep = WAD.saturating_sub(self.cfg.deleverage_min_cut_wad);
        match view.simulate(&Job::Deleverage(market).tx(self.cfg.address)) {
            Ok(sim) => sim
                .events
                .iter()
                .any(|e| matches!(e, Event::Deleveraged { keep_wad, .. } if *keep_wad <= max_keep)),
            Err(_) => false,
        }
    }

    /// One keeper step: sync with the view, then submit what it calls for.
    pub fn step<V: ChainView + ?Sized, S: TxSink + ?Sized>(
        &mut self,
        view: &V,
        sink: &S,
    ) -> Result<Step, KeeperError> {
        let rebuilt = self.sync(view)?;
        let h = view.height();
        let (jobs, candidates) = self.plan(view)?;
        self.stats.steps += 1;
        self.stats.candidates += candidates as u64;
        let mut submitted = Vec::with_capacity(jobs.len());
        for job in jobs {
            let tx = job.tx(self.cfg.address);
            sink.submit(tx.clone())?;
            self.in_flight.insert(job, h);
            match job {
                Job::Deleverage(_) => self.stats.submitted_deleverage += 1,
                Job::Liquidate(_) => self.stats.submitted_liquidate += 1,
                Job::Settle(_) => self.stats.submitted_settle += 1,
            }
            submitted.push(tx);
        }
        Ok(Step {
            height: h,
            rebuilt,
            candidates,
            submitted,
        })
    }

    /// Consume the keeper, keeping its figures.
    pub fn into_stats(self) -> KeeperStats {
        self.stats
    }
}
