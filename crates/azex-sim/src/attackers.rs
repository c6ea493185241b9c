//! Parameterised attackers for the attack search ([`crate::attack_search`]).
//!
//! Each attack is one [`AttackSpec`] (the parameters the search varies) played by a
//! **coalition** of `accounts` agents (consecutive ids, one engine account each). Member 0 is
//! the brain: it sees its own positions and wallet, decides, and hands the other members their
//! part as [`Intent`]s, which they carry out in the same step (they act after it: higher ids).
//! Every spot trade is member 0's. Amounts leave as integers; the only f64 is the push sizing
//! of [`usd_to_push_up`] / [`base_to_push_down`] (`+ − × / sqrt`), as in [`crate::agents`].
//!
//! How the engine prices (what the attacks work against): every trade, liquidation and the
//! mark of block `h` use the truncated oracle read from the spot pool at block `h`'s begin and
//! its TWAP (two blocks); liquidations are judged at the less favourable of the two. A push of
//! the pool in block `h` therefore moves prices only if it is still there when block `h + 1`
//! begins: with [`crate::EngineConfig::arbitrage_at_block_end`] (the default) the arbitrageur
//! trades every pool back before the block ends and no push survives; without it a push
//! survives one simulator block (the worst case). The attacks push every block they need the
//! price moved (the arbitrageur trades the pool back at each block's start).
//!
//! | kind | what it does |
//! |---|---|
//! | [`AttackKind::Jelly`] | JELLY (Hyperliquid, Mar 2025) / Mango: opens a dying leg (high leverage) and a winning leg (`hedge_bps` of its size, 3x) on one market across the accounts, then pumps (or dumps) spot for `push_blocks` blocks so the dying leg is liquidated into the vault; closes the winning leg at the moved price and sells the spot back |
//! | [`AttackKind::FundingDefault`] | opens a paying leg (the side that pays funding, high leverage, never topped up) across the accounts and a receiving leg (`hedge_bps`, 2x); holds `hold_blocks`; when the paying leg is gone (liquidated) or at the end closes everything, leaving any funding owed beyond margin behind |
//! | [`AttackKind::StopHunt`] | on the market with the largest net OI, opens against the crowded side and sells (buys) spot to push through its liquidation prices for `push_blocks` blocks, liquidating as a keeper; **gives up** after `max_refusals` refusals (its open refused, or a push the oracle did not follow) instead of paying for more pushes |
//! | [`AttackKind::MultiBlock`] | opens a perp position, then walks the pool (and with it the truncated oracle and its TWAP) `push_bps` over `push_blocks` blocks, holds it there `hold_blocks` more, closes the perp at the moved price and unwinds the spot |
//! | [`AttackKind::Sandwich`] | a keeper that, seeing at least `min_liquidatable` liquidatable positions on a market, opens a position (with or against the liquidations' direction), liquidates them, and closes in the same batch (`hold_blocks` 0) or `hold_blocks` blocks later |

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::agents::{base_to_push_down, liquidations, usable, usd_to_push_up, Agent, AgentKind};
use crate::types::*;
use crate::units::*;

/// The attack kinds of the search.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttackKind {
    /// JELLY / Mango: a dying leg liquidated into the vault by a spot push, a winning leg closed.
    Jelly,
    /// A paying leg left to default on funding, a receiving leg kept.
    FundingDefault,
    /// Pushes spot through the crowded side's liquidation prices, liquidating as a keeper.
    StopHunt,
    /// Walks the pool (and the oracle) over several blocks, then closes at the moved price.
    MultiBlock,
    /// A keeper that trades around the liquidations it sends.
    Sandwich,
}

impl AttackKind {
    /// Every kind, in search order.
    pub const ALL: [AttackKind; 5] = [
        AttackKind::Jelly,
        AttackKind::FundingDefault,
        AttackKind::StopHunt,
        AttackKind::MultiBlock,
        AttackKind::Sandwich,
    ];

    /// The name in reports and JSON (also the [`AgentKind`] name of its agents).
    pub fn name(self) -> &'static str {
        self.agent_kind().name()
    }

    /// The kind named `s` ([`AttackKind::name`]).
    pub fn from_name(s: &str) -> Option<AttackKind> {
        AttackKind::ALL.into_iter().find(|k| k.name() == s)
    }

    /// The [`AgentKind`] of its agents.
    pub fn agent_kind(self) -> AgentKind {
        match self {
            AttackKind::Jelly => AgentKind::Jelly,
            AttackKind::FundingDefault => AgentKind::FundingDefault,
            AttackKind::StopHunt => AgentKind::PatientStopHunter,
            AttackKind::MultiBlock => AgentKind::MultiBlockManipulator,
            AttackKind::Sandwich => AgentKind::KeeperSandwich,
        }
    }

    /// Whether the attack pushes spot (a control run with `push_bps = 0` isolates the push).
    pub fn pushes(self) -> bool {
        matches!(
            self,
            AttackKind::Jelly | AttackKind::StopHunt | AttackKind::MultiBlock
        )
    }

    fn keeper(self) -> bool {
        matches!(self, AttackKind::StopHunt | AttackKind::Sandwich)
    }
}

/// One attack's parameters. Each kind reads the fields its docs name; the search varies only
/// those ([`crate::attack_search::dims`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttackSpec {
    /// The attack.
    pub kind: AttackKind,
    /// Market index (Jelly, FundingDefault, MultiBlock; StopHunt and Sandwich choose their own).
    pub market: usize,
    /// Jelly: pump (dying leg short) or dump; FundingDefault: the paying leg is long;
    /// MultiBlock: push up (long perp); Sandwich: trade with the liquidations (short when longs
    /// are liquidated) rather than against them.
    pub up: bool,
    /// Perp notional of the main leg, all accounts together (whole USD).
    pub notional_usd: u64,
    /// Leverage of the main leg (x100; the engine's margin tiers may ask for more margin).
    pub leverage_x100: u32,
    /// Accounts the main leg is split across (each holds `notional / accounts`).
    pub accounts: u32,
    /// Size of the second leg as bps of the main leg (Jelly's winning leg, FundingDefault's
    /// receiving leg).
    pub hedge_bps: u32,
    /// How far each push moves the pool from the data price (bps).
    pub push_bps: u32,
    /// Blocks pushed (MultiBlock: blocks to walk to the full push).
    pub push_blocks: u32,
    /// FundingDefault: blocks held; MultiBlock: blocks held at the full push; Sandwich: blocks
    /// before closing (0 = same batch); StopHunt: blocks between hunts.
    pub hold_blocks: u32,
    /// When the attack starts: bps of the run's length.
    pub start_bps: u32,
    /// StopHunt: refusals before it stops for good; Sandwich: liquidatable positions needed.
    pub threshold: u32,
}

impl AttackSpec {
    /// The starting point of the search for `kind`: close to the fixed-rule adversaries of
    /// [`crate::agents`] ($2M, 5 % pushes, the middle of the run).
    pub fn default_for(kind: AttackKind) -> AttackSpec {
        let mut s = AttackSpec {
            kind,
            market: 0,
            up: true,
            notional_usd: 2_000_000,
            leverage_x100: 1_000,
            accounts: 1,
            hedge_bps: 10_000,
            push_bps: 500,
            push_blocks: 2,
            hold_blocks: 8,
            start_bps: 5_000,
            threshold: 1,
        };
        match kind {
            AttackKind::Jelly => s.leverage_x100 = 2_000,
            AttackKind::FundingDefault => {
                s.leverage_x100 = 2_000;
                s.hold_blocks = 128;
                s.start_bps = 1_000;
            }
            AttackKind::StopHunt => {
                s.leverage_x100 = 500;
                s.hold_blocks = 16;
                s.start_bps = 500;
            }
            AttackKind::MultiBlock => s.hold_blocks = 1,
            AttackKind::Sandwich => {
                s.hold_blocks = 0;
                s.start_bps = 0;
            }
        }
        s
    }

    fn members(&self) -> u32 {
        match self.kind {
            AttackKind::Jelly | AttackKind::FundingDefault | AttackKind::MultiBlock => {
                self.accounts.clamp(1, 64)
            }
            _ => 1,
        }
    }
}

/// What the coalition did (shared by its members; read after the run).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttackLog {
    /// Attack rounds begun (opens sent).
    pub rounds: u32,
    /// Pushes sent (spot swaps that move the pool away from the data price).
    pub pushes: u32,
    /// Pushes the truncated oracle followed at the next block (by at least half the push).
    pub pushes_followed: u32,
    /// Refusals the attacker saw: an open that left no position, a push the oracle did not follow.
    pub refusals: u32,
    /// Step at which the stop hunter gave up for good.
    pub stopped_at_step: Option<u64>,
    /// Steps of the pushes after the stop (must stay empty).
    pub pushes_after_stop: u32,
    /// Sandwiches (an open right before liquidations).
    pub sandwiches: u32,
    /// Step the one-shot attacks finished at.
    pub done_at_step: Option<u64>,
}

/// A member's part, carried out by the member itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intent {
    /// Send this action.
    Act(Action),
    /// Close every position the member holds.
    CloseAll,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum St {
    Wait,
    Opened {
        at: u64,
    },
    Pushing {
        n: u32,
        from: u128,
    },
    /// StopHunt: between hunts.
    Idle {
        next_at: u64,
    },
    Hunting {
        market: MarketId,
        down: bool,
        n: u32,
        from: u128,
    },
    HuntOpened {
        market: MarketId,
        down: bool,
    },
    /// FundingDefault: holding since `since`.
    Holding {
        since: u64,
    },
    /// Sandwich: close at `until`.
    Sandwiched {
        until: u64,
    },
    Done,
}

/// The coalition's shared brain.
#[derive(Debug)]
pub struct Brain {
    /// The attack played.
    pub spec: AttackSpec,
    /// What the coalition did so far.
    pub log: AttackLog,
    start_step: u64,
    st: St,
    queues: Vec<VecDeque<Intent>>,
}

/// A handle on the brain to read the log after the run.
pub type BrainHandle = Rc<RefCell<Brain>>;

/// One member of a coalition.
pub struct Member {
    /// Agent id.
    pub id: AgentId,
    /// Index in the coalition (0 = the brain's decider).
    pub k: usize,
    /// The shared brain.
    pub brain: BrainHandle,
}

/// The coalition's agents for `spec`, with ids `first_id..`, starting at step
/// `total_steps × start_bps / 10000`.
#[expect(
    clippy::cast_possible_truncation,
    reason = "start ≤ total_steps (start_bps ≤ 10000); member index < 64"
)]
pub fn coalition(
    spec: &AttackSpec,
    first_id: AgentId,
    total_steps: u64,
) -> (Vec<Box<dyn Agent>>, BrainHandle) {
    let n = spec.members() as usize;
    let start_step =
        (u128::from(total_steps) * u128::from(spec.start_bps.min(10_000)) / BPS) as u64;
    let brain = Rc::new(RefCell::new(Brain {
        spec: spec.clone(),
        log: AttackLog::default(),
        start_step: start_step.min(total_steps.saturating_sub(1)),
        st: if spec.kind == AttackKind::StopHunt {
            St::Idle { next_at: 0 }
        } else {
            St::Wait
        },
        queues: vec![VecDeque::new(); n],
    }));
    let agents: Vec<Box<dyn Agent>> = (0..n)
        .map(|k| {
            Box::new(Member {
                id: first_id + k as u32,
                k,
                brain: brain.clone(),
            }) as Box<dyn Agent>
        })
        .collect();
    (agents, brain)
}

/// `lev` (x100) capped so that the margin is the tier's initial margin plus 1 % of the notional
/// (room for the open's impact and fees): an attacker wants its open to go through.
#[expect(
    clippy::cast_possible_truncation,
    reason = "im + 1 % ≥ 1 %, so the leverage x100 is at most 10000"
)]
pub fn open_leverage(notional: u128, lev: u32) -> u32 {
    let tiers = azex_exchange::params::default_margin_tiers();
    let im = tiers
        .iter()
        .find(|t| notional <= t.max_notional)
        .or(tiers.last())
        .map_or(WAD / 2, |t| t.initial_margin_wad);
    let cap = (100 * WAD / (im + WAD / 100)) as u32;
    lev.clamp(100, cap.max(100))
}

fn open(market: MarketId, side: Side, notional: u128, lev: u32) -> Action {
    Action::Open {
        market,
        side,
        notional_usd: notional,
        leverage_x100: open_leverage(notional, lev),
    }
}

fn push_action(m: &MarketObs, up: bool, bps: u32) -> Option<Action> {
    if bps == 0 || m.spot_depth_usd == 0 {
        return None;
    }
    let price = if m.data_price > 0 {
        m.data_price
    } else {
        m.spot_price
    };
    Some(if up {
        Action::SpotSwap {
            market: m.market,
            kind: SwapKind::BuyWithUsd {
                usd_in: usd_to_push_up(m.spot_depth_usd, bps).max(1),
            },
        }
    } else {
        Action::SpotSwap {
            market: m.market,
            kind: SwapKind::SellBase {
                base_in: base_to_push_down(m.spot_depth_usd, price, bps).max(1),
            },
        }
    })
}

fn unwind_spot(obs: &Observation<'_>, out: &mut Vec<Action>) {
    for (i, &b) in obs.wallet.base.iter().enumerate() {
        if b > 0 {
            out.push(Action::SpotSwap {
                market: i,
                kind: SwapKind::SellAll,
            });
        } else if b < 0 {
            out.push(Action::SpotSwap {
                market: i,
                kind: SwapKind::Cover,
            });
        }
    }
}

fn close_all(obs: &Observation<'_>, out: &mut Vec<Action>) {
    out.extend(obs.own_positions.iter().map(|p| Action::close(p.id)));
}

/// Whether the oracle at this block followed a push made from `from` by at least half of it.
fn followed(m: &MarketObs, down: bool, from: u128, bps: u32) -> bool {
    let half = bps_floor(from, bps / 2);
    if down {
        m.spot_price.saturating_add(half) <= from
    } else {
        m.spot_price >= from.saturating_add(half)
    }
}

impl Brain {
    fn broadcast(&mut self, i: Intent) {
        for q in self.queues.iter_mut().skip(1) {
            q.push_back(i);
        }
    }

    fn finish(&mut self, obs: &Observation<'_>, out: &mut Vec<Action>) {
        close_all(obs, out);
        unwind_spot(obs, out);
        self.broadcast(Intent::CloseAll);
        self.st = St::Done;
        self.log.done_at_step = Some(obs.step);
    }

    /// Member 0's trading-phase decision (the others' parts go to their queues).
    fn trade(&mut self, obs: &Observation<'_>) -> Vec<Action> {
        let mut out = Vec::new();
        if obs.step < self.start_step || self.st == St::Done {
            return out;
        }
        let s = self.spec.clone();
        let n = self.queues.len() as u128;
        let piece = usd(s.notional_usd) / n;
        match s.kind {
            AttackKind::Jelly | AttackKind::MultiBlock => {
                self.jelly_round(obs, &s, piece, &mut out)
            }
            AttackKind::FundingDefault => self.funding_round(obs, &s, piece, &mut out),
            AttackKind::StopHunt => self.hunt(obs, &mut out),
            AttackKind::Sandwich => {
                if let St::Sandwiched { until } = self.st {
                    if obs.step >= until {
                        close_all(obs, &mut out);
                        self.st = St::Wait;
                    }
                }
            }
        }
        out
    }

    /// A Jelly or multi-block attack's step: open the leg(s), push the spot for `push_blocks`
    /// (plus `hold_blocks` for a multi-block attack), then close.
    fn jelly_round(
        &mut self,
        obs: &Observation<'_>,
        s: &AttackSpec,
        piece: u128,
        out: &mut Vec<Action>,
    ) {
        let Some(m) = obs.markets.get(s.market) else {
            self.st = St::Done;
            return;
        };
        match self.st.clone() {
            St::Wait => {
                if !usable(m) || piece == 0 {
                    return;
                }
                self.log.rounds += 1;
                let main = if s.kind == AttackKind::Jelly {
                    // the dying leg: against the push
                    if s.up {
                        Side::Short
                    } else {
                        Side::Long
                    }
                } else if s.up {
                    Side::Long
                } else {
                    Side::Short
                };
                let mut acts = vec![open(s.market, main, piece, s.leverage_x100)];
                if s.kind == AttackKind::Jelly {
                    let win = bps_floor(piece, s.hedge_bps);
                    if win >= USD {
                        acts.push(open(s.market, main.opposite(), win, 300));
                    }
                }
                for a in &acts {
                    self.broadcast(Intent::Act(*a));
                }
                out.extend(acts);
                self.st = St::Opened { at: obs.step };
            }
            St::Opened { .. } => {
                if !obs.own_positions.iter().any(|p| p.market == s.market) {
                    // the engine refused the legs: nothing to push for
                    self.log.refusals += 1;
                    self.finish(obs, out);
                    return;
                }
                self.push(m, 1, out);
                self.st = St::Pushing {
                    n: 1,
                    from: m.data_price,
                };
            }
            St::Pushing { n: k, from } => {
                if s.push_bps > 0 && followed(m, !s.up, from, self.step_push(k)) {
                    self.log.pushes_followed += 1;
                }
                let total = s.push_blocks.max(1)
                    + if s.kind == AttackKind::MultiBlock {
                        s.hold_blocks
                    } else {
                        0
                    };
                if k < total {
                    self.push(m, k + 1, out);
                    self.st = St::Pushing {
                        n: k + 1,
                        from: m.data_price,
                    };
                } else {
                    self.finish(obs, out);
                }
            }
            _ => self.st = St::Done,
        }
    }

    /// A funding-default attack's step: open the paying leg (and the receiving hedge), hold it
    /// `hold_blocks` or until it is gone, then close.
    fn funding_round(
        &mut self,
        obs: &Observation<'_>,
        s: &AttackSpec,
        piece: u128,
        out: &mut Vec<Action>,
    ) {
        let Some(m) = obs.markets.get(s.market) else {
            self.st = St::Done;
            return;
        };
        let pay = if s.up { Side::Long } else { Side::Short };
        match self.st.clone() {
            St::Wait => {
                if !usable(m) || piece == 0 {
                    return;
                }
                self.log.rounds += 1;
                let a = open(s.market, pay, piece, s.leverage_x100);
                self.broadcast(Intent::Act(a));
                out.push(a);
                let recv = bps_floor(usd(s.notional_usd), s.hedge_bps);
                if recv >= USD {
                    out.push(open(s.market, pay.opposite(), recv, 200));
                }
                self.st = St::Opened { at: obs.step };
            }
            St::Opened { at } => {
                if !obs
                    .own_positions
                    .iter()
                    .any(|p| p.market == s.market && p.side == pay)
                {
                    self.log.refusals += 1;
                    self.finish(obs, out);
                    return;
                }
                self.st = St::Holding { since: at };
            }
            St::Holding { since } => {
                let paying_alive = obs
                    .own_positions
                    .iter()
                    .any(|p| p.market == s.market && p.side == pay);
                if !paying_alive || obs.step >= since + u64::from(s.hold_blocks) {
                    self.finish(obs, out);
                }
            }
            _ => self.st = St::Done,
        }
    }

    /// The push of block `k` (1-based): MultiBlock walks to the full push over `push_blocks`.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "k.min(pb) / pb ≤ 1, so the result is at most push_bps"
    )]
    fn step_push(&self, k: u32) -> u32 {
        let s = &self.spec;
        if s.kind == AttackKind::MultiBlock {
            let pb = s.push_blocks.max(1);
            (u64::from(s.push_bps) * u64::from(k.min(pb)) / u64::from(pb)) as u32
        } else {
            s.push_bps
        }
    }

    /// Pushes the pool (back at the data price: the arbitrageur traded it there at this block's
    /// start). The spot bought (sold) is kept until the attack ends (selling it back into the
    /// pool would undo the push), so its PnL includes the path's move over the attack: the
    /// control run (`push_bps = 0`) and the held-out windows separate that from the push.
    fn push(&mut self, m: &MarketObs, k: u32, out: &mut Vec<Action>) {
        let up = self.spec.up;
        if let Some(a) = push_action(m, up, self.step_push(k)) {
            self.log.pushes += 1;
            if self.log.stopped_at_step.is_some() {
                self.log.pushes_after_stop += 1;
            }
            out.push(a);
        }
    }

    fn give_up_or_wait(&mut self, step: u64) {
        self.log.refusals += 1;
        if self.log.refusals >= self.spec.threshold.max(1) {
            self.st = St::Done;
            self.log.stopped_at_step = Some(step);
        } else {
            self.st = St::Idle {
                next_at: step + u64::from(self.spec.hold_blocks.max(1)),
            };
        }
    }

    fn hunt(&mut self, obs: &Observation<'_>, out: &mut Vec<Action>) {
        let s = self.spec.clone();
        match self.st.clone() {
            St::Idle { next_at } => {
                if obs.step < next_at {
                    return;
                }
                // the market with the largest net OI; hunt its crowded side
                let best = obs
                    .markets
                    .iter()
                    .filter(|m| usable(m) && m.long_oi_usd != m.short_oi_usd)
                    .max_by(|a, b| {
                        a.long_oi_usd
                            .abs_diff(a.short_oi_usd)
                            .cmp(&b.long_oi_usd.abs_diff(b.short_oi_usd))
                            .then(b.market.cmp(&a.market))
                    });
                let Some(m) = best else {
                    self.st = St::Idle {
                        next_at: obs.step + 1,
                    };
                    return;
                };
                let down = m.long_oi_usd > m.short_oi_usd;
                self.log.rounds += 1;
                out.push(open(
                    m.market,
                    if down { Side::Short } else { Side::Long },
                    usd(s.notional_usd),
                    s.leverage_x100,
                ));
                self.st = St::HuntOpened {
                    market: m.market,
                    down,
                };
            }
            St::HuntOpened { market, down } => {
                let m = &obs.markets[market];
                if !obs.own_positions.iter().any(|p| p.market == market) {
                    self.give_up_or_wait(obs.step);
                    return;
                }
                if let Some(a) = push_action(m, !down, s.push_bps) {
                    self.log.pushes += 1;
                    out.push(a);
                }
                self.st = St::Hunting {
                    market,
                    down,
                    n: 1,
                    from: m.data_price,
                };
            }
            St::Hunting {
                market,
                down,
                n,
                from,
            } => {
                let m = &obs.markets[market];
                if !followed(m, down, from, s.push_bps) {
                    // the engine did not take the push: stop paying for it
                    close_all(obs, out);
                    unwind_spot(obs, out);
                    self.give_up_or_wait(obs.step);
                    return;
                }
                self.log.pushes_followed += 1;
                if n < s.push_blocks.max(1) {
                    if let Some(a) = push_action(m, !down, s.push_bps) {
                        self.log.pushes += 1;
                        out.push(a);
                    }
                    self.st = St::Hunting {
                        market,
                        down,
                        n: n + 1,
                        from: m.data_price,
                    };
                } else {
                    close_all(obs, out);
                    unwind_spot(obs, out);
                    self.st = St::Idle {
                        next_at: obs.step + u64::from(s.hold_blocks.max(1)),
                    };
                }
            }
            St::Done => {}
            _ => self.st = St::Idle { next_at: 0 },
        }
    }

    /// Member 0's keeper-phase decision.
    fn keep(&mut self, obs: &Observation<'_>, rng: &mut ChaCha8Rng) -> Vec<Action> {
        let s = self.spec.clone();
        if s.kind == AttackKind::Sandwich && obs.step >= self.start_step && self.st == St::Wait {
            let best = obs
                .markets
                .iter()
                .filter(|m| usable(m) && m.liquidatable.len() >= s.threshold.max(1) as usize)
                .max_by(|a, b| {
                    a.liquidatable
                        .len()
                        .cmp(&b.liquidatable.len())
                        .then(b.market.cmp(&a.market))
                });
            if let Some(m) = best {
                // falling (data below the TWAP): longs are the ones liquidated
                let longs_liquidated = m.data_price < m.twap_price;
                let with = if longs_liquidated {
                    Side::Short
                } else {
                    Side::Long
                };
                let side = if s.up { with } else { with.opposite() };
                let mut out = vec![open(m.market, side, usd(s.notional_usd), s.leverage_x100)];
                out.extend(
                    m.liquidatable
                        .iter()
                        .map(|&id| Action::Liquidate { position: id }),
                );
                self.log.sandwiches += 1;
                self.log.rounds += 1;
                if s.hold_blocks == 0 {
                    out.push(Action::Close {
                        position: PosRef::Batch(0),
                    });
                } else {
                    self.st = St::Sandwiched {
                        until: obs.step + u64::from(s.hold_blocks),
                    };
                }
                return out;
            }
        }
        if s.kind.keeper() {
            return liquidations(obs, rng, 64);
        }
        Vec::new()
    }
}

impl Agent for Member {
    fn id(&self) -> AgentId {
        self.id
    }
    fn kind(&self) -> AgentKind {
        self.brain.borrow().spec.kind.agent_kind()
    }
    fn decide(&mut self, obs: &Observation<'_>, rng: &mut ChaCha8Rng) -> Vec<Action> {
        let mut b = self.brain.borrow_mut();
        if self.k == 0 {
            return match obs.phase {
                Phase::Trade => b.trade(obs),
                Phase::Keep => b.keep(obs, rng),
            };
        }
        let mut out = Vec::new();
        while let Some(i) = b.queues[self.k].pop_front() {
            match i {
                Intent::Act(a) => out.push(a),
                Intent::CloseAll => close_all(obs, &mut out),
            }
        }
        out
    }
    fn next_wake(&mut self, _rng: &mut ChaCha8Rng) -> u64 {
        let b = self.brain.borrow();
        if b.st == St::Done && b.queues[self.k].is_empty() {
            u64::MAX
        } else {
            1
        }
    }
    fn first_wake(&mut self, _rng: &mut ChaCha8Rng) -> u64 {
        self.brain.borrow().start_step
    }
    fn is_keeper(&self) -> bool {
        self.k == 0 && self.brain.borrow().spec.kind.keeper()
    }
}
