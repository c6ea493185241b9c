//! Snapshot measurements (`azex-node snapbench`): build a state with many open positions through
//! the engine (blocks of `OpenPosition` transactions, the state hash after every block, as the
//! node executes them), then measure the snapshot's size, encoding, writing (fsync), reading and
//! decoding (checksum, parse, rebuild of derived data, state-hash check), and restart from the
//! snapshot against replay from genesis.
//!
//! ```sh
//! cargo build --release -p azex-node
//! target/release/azex-node snapbench --positions 1000000
//! ```

use crate::chain::{self, Nonces};
use crate::genesis::{dev_token, numbered_account};
use azex_exchange::units::{QTY_ONE, USD_ONE, WAD};
use azex_exchange::{BlockCtx, Genesis, GenesisBalance, State, Tx, USDC};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

/// Options of `azex-node snapbench`.
#[derive(Debug, Clone, clap::Args)]
pub struct SnapbenchOptions {
    /// Open positions in the book.
    #[arg(long, default_value_t = 1_000_000)]
    pub positions: usize,
    /// Markets listed (at least 1, at most 2^32 − 1).
    #[arg(long, default_value_t = 5)]
    pub markets: u64,
    /// Accounts holding the positions (at least 2).
    #[arg(long = "accounts", default_value_t = 1_000)]
    pub users: u64,
    /// Transactions per block (at least 1).
    #[arg(long, default_value_t = 10_000)]
    pub per_block: usize,
    /// Blocks after the snapshot replayed on restart (at most all but the set-up block).
    #[arg(long, default_value_t = 10)]
    pub tail_blocks: usize,
    /// Scratch directory (emptied; default: a fresh one under the system's temporary directory).
    #[arg(long, default_value_os_t = std::env::temp_dir().join(format!("azex-snapbench-{}", std::process::id())))]
    pub data: PathBuf,
}

impl Default for SnapbenchOptions {
    fn default() -> Self {
        Self {
            positions: 1_000_000,
            markets: 5,
            users: 1_000,
            per_block: 10_000,
            tail_blocks: 10,
            data: std::env::temp_dir().join(format!("azex-snapbench-{}", std::process::id())),
        }
    }
}

/// What `snapbench` measured (printed as JSON).
#[derive(Debug, Clone, Serialize, Default)]
pub struct SnapbenchReport {
    /// Open positions in the final state.
    pub positions: usize,
    /// Markets listed.
    pub markets: u64,
    /// Accounts holding the positions.
    pub accounts: u64,
    /// Blocks executed from genesis (the set-up block included).
    pub blocks: usize,
    /// Transactions in those blocks.
    pub transactions: usize,
    /// Executing every block from genesis (begin, apply, end, state hash after each block).
    pub replay_from_genesis_secs: f64,
    /// Of which: the state hash after each block.
    pub replay_hash_secs: f64,
    /// `State::hash` once on the final state.
    pub hash_secs: f64,
    /// Size of the engine snapshot, bytes.
    pub snapshot_bytes: usize,
    /// `snapshot_bytes` per open position.
    pub bytes_per_position: f64,
    /// `State::encode` (includes one `State::hash` for the header).
    pub encode_secs: f64,
    /// Cloning the state (what the sequencer pays; encoding is on the snapshot thread).
    pub clone_secs: f64,
    /// Writing the node snapshot file: temp file, fsync, rename.
    pub write_fsync_secs: f64,
    /// Reading the file back.
    pub read_secs: f64,
    /// `decode`: checksum, parse, rebuild of derived data, and the state-hash check.
    pub decode_secs: f64,
    /// Restart from a snapshot taken `tail_blocks` blocks before the end: read + decode + replay
    /// of the blocks after it.
    pub restart_from_snapshot_secs: f64,
    /// Blocks after the snapshot replayed on restart.
    pub tail_blocks: usize,
    /// Of the restart: replaying those blocks.
    pub tail_replay_secs: f64,
}

pub(crate) fn genesis(o: &SnapbenchOptions) -> Genesis {
    let mut g = Genesis::default();
    g.params.risk_twap_window_secs = 0;
    // The most open interest per unit of spot depth the parameters allow: the book is balanced
    // (net ≈ 0), but the cap counts each side's open interest.
    g.params.oi_cap_depth_multiple = 1_000;
    for u in 1..=o.users {
        g.balances.push(GenesisBalance {
            owner: numbered_account(u),
            token: USDC,
            amount: 1_000_000_000 * USD_ONE,
        });
        for t in 1..=o.markets {
            g.balances.push(GenesisBalance {
                owner: numbered_account(u),
                token: dev_token(t),
                amount: 1_000_000 * QTY_ONE,
            });
        }
    }
    g
}

/// The blocks: mints, listings and LP capital, then `positions` opens of 0.01 token ($20) with
/// $5 margin, round-robin over markets and users, long and short alternating in each market.
pub(crate) fn blocks(o: &SnapbenchOptions) -> Vec<(BlockCtx, Vec<Tx>)> {
    let mut out = Vec::new();
    let mut ctx = BlockCtx {
        height: 1,
        timestamp: 1_700_000_000,
    };
    let mut setup = Vec::new();
    for u in 1..=o.users {
        setup.push(Tx::MintAzusd {
            user: numbered_account(u),
            usdc: 500_000_000 * USD_ONE,
        });
    }
    for t in 1..=o.markets {
        setup.push(Tx::CreateMarket {
            user: numbered_account(1),
            base_token: dev_token(t),
            base_decimals: 18,
            fee: 500,
            tick_spacing: 10,
            initial_price: 2_000 * WAD,
            // Concentrated: the manipulation-bound OI cap grows with the depth inside the
            // oracle's band, and 1M positions of $20 need $2M of OI per side and market.
            tick_range: 300,
            seed_azusd: 40_000_000 * USD_ONE,
        });
    }
    setup.push(Tx::LpDeposit {
        user: numbered_account(1),
        amount: 50_000_000 * USD_ONE,
    });
    out.push((ctx, setup));
    let qty = i128::try_from(QTY_ONE / 100).expect("0.01 token fits in i128");
    let mut cur = Vec::with_capacity(o.per_block);
    for i in 0..o.positions {
        // `run` caps `markets` at `u32::MAX`: never saturates there.
        let market = u32::try_from(i as u64 % o.markets).unwrap_or(u32::MAX);
        let long = (i as u64 / o.markets).is_multiple_of(2);
        let user = 2 + (i as u64 % (o.users - 1));
        cur.push(Tx::OpenPosition {
            user: numbered_account(user),
            market,
            qty: if long { qty } else { -qty },
            margin: 5 * USD_ONE,
            price_bound: if long { u128::MAX } else { 0 },
        });
        if cur.len() == o.per_block {
            ctx = BlockCtx {
                height: ctx.height + 1,
                timestamp: ctx.timestamp + 2,
            };
            out.push((ctx, std::mem::take(&mut cur)));
        }
    }
    if !cur.is_empty() {
        ctx = BlockCtx {
            height: ctx.height + 1,
            timestamp: ctx.timestamp + 2,
        };
        out.push((ctx, cur));
    }
    out
}

/// Build the state, then measure the snapshot and the restart from it (see the module docs).
pub fn run(o: &SnapbenchOptions) -> Result<SnapbenchReport, String> {
    let o = &SnapbenchOptions {
        markets: o.markets.clamp(1, u64::from(u32::MAX)),
        users: o.users.max(2),
        per_block: o.per_block.max(1),
        ..o.clone()
    };
    let g = genesis(o);
    let bl = blocks(o);
    let mut r = SnapbenchReport {
        markets: o.markets,
        accounts: o.users,
        blocks: bl.len(),
        transactions: bl.iter().map(|b| b.1.len()).sum(),
        // The snapshot follows at least the set-up block (block 1).
        tail_blocks: o.tail_blocks.min(bl.len() - 1),
        ..Default::default()
    };
    let snap_at = bl.len() - r.tail_blocks;
    crate::warn_line!(
        "snapbench: executing {} blocks / {} transactions from genesis",
        r.blocks,
        r.transactions
    );
    let (s, at_snap) = execute_from_genesis(&g, &bl, snap_at, &mut r)?;
    let t = Instant::now();
    let final_hash = s.hash();
    r.hash_secs = t.elapsed().as_secs_f64();
    measure_snapshot(o, &s, final_hash, &mut r)?;
    let restart = Restart {
        state: at_snap.ok_or("no snapshot state")?,
        height: s.block.height - r.tail_blocks as u64,
        tail: &bl[snap_at..],
        final_hash,
    };
    drop(s);
    measure_restart(o, restart, &mut r)?;
    let _ = std::fs::remove_dir_all(&o.data);
    Ok(r)
}

/// Execute every block from genesis as the node does (`chain::execute` step by step, to time
/// the state hash after each block apart). Returns the final state and the state after block
/// `snap_at` (1-based count of blocks).
fn execute_from_genesis(
    g: &Genesis,
    bl: &[(BlockCtx, Vec<Tx>)],
    snap_at: usize,
    r: &mut SnapbenchReport,
) -> Result<(State, Option<State>), String> {
    let mut s = State::genesis(g).map_err(|e| e.to_string())?;
    let mut at_snap: Option<State> = None;
    let t0 = Instant::now();
    let mut refused = 0usize;
    for (i, (ctx, txs)) in bl.iter().enumerate() {
        s.begin_block(*ctx).map_err(|e| e.to_string())?;
        for tx in txs {
            if let Err(err) = s.apply(tx, *ctx) {
                if i == 0 {
                    return Err(format!("setup refused: {err}"));
                }
                if refused == 0 {
                    crate::warn_line!("snapbench: first refusal (block {}): {err}", ctx.height);
                }
                refused += 1;
            }
        }
        s.end_block().map_err(|e| e.to_string())?;
        let th = Instant::now();
        std::hint::black_box(s.hash());
        r.replay_hash_secs += th.elapsed().as_secs_f64();
        if i + 1 == snap_at {
            at_snap = Some(s.clone());
        }
    }
    r.replay_from_genesis_secs = t0.elapsed().as_secs_f64();
    r.positions = s.positions.len();
    if refused > 0 {
        crate::warn_line!("snapbench: {refused} opens refused by the engine");
    }
    Ok((s, at_snap))
}

/// Clone, encode, write (fsync), read back and decode the final state's snapshot; the decoded
/// state must have the final state's hash.
fn measure_snapshot(
    o: &SnapbenchOptions,
    s: &State,
    final_hash: [u8; 32],
    r: &mut SnapbenchReport,
) -> Result<(), String> {
    let t = Instant::now();
    let c = s.clone();
    r.clone_secs = t.elapsed().as_secs_f64();
    drop(c);
    let t = Instant::now();
    let bytes = s.encode();
    r.encode_secs = t.elapsed().as_secs_f64();
    r.snapshot_bytes = bytes.len();
    r.bytes_per_position = bytes.len() as f64 / r.positions.max(1) as f64;
    std::fs::create_dir_all(&o.data).map_err(|e| e.to_string())?;
    let file = crate::snapshot::encode(s.block.height, &Nonces::default(), &bytes)
        .map_err(|e| e.to_string())?;
    drop(bytes);
    let t = Instant::now();
    let path =
        crate::snapshot::write(&o.data, s.block.height, &file, 3).map_err(|e| e.to_string())?;
    r.write_fsync_secs = t.elapsed().as_secs_f64();
    drop(file);
    let t = Instant::now();
    let back = std::fs::read(&path).map_err(|e| e.to_string())?;
    r.read_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let loaded = crate::snapshot::decode(&back).map_err(|e| e.to_string())?;
    r.decode_secs = t.elapsed().as_secs_f64();
    if loaded.state.hash() != final_hash {
        return Err("decoded state differs".into());
    }
    Ok(())
}

/// A restart to measure: the state `tail.len()` blocks before the end, the height its snapshot
/// file is written under, the blocks after it and the hash they must reach.
struct Restart<'a> {
    state: State,
    height: u64,
    tail: &'a [(BlockCtx, Vec<Tx>)],
    final_hash: [u8; 32],
}

/// Write the earlier state's snapshot, then restart from it: read, decode, replay the tail;
/// the restarted state must reach the final hash.
fn measure_restart(
    o: &SnapbenchOptions,
    restart: Restart<'_>,
    r: &mut SnapbenchReport,
) -> Result<(), String> {
    let Restart {
        state,
        height,
        tail,
        final_hash,
    } = restart;
    let file = crate::snapshot::encode(state.block.height, &Nonces::default(), &state.encode())
        .map_err(|e| e.to_string())?;
    drop(state);
    let path = crate::snapshot::write(&o.data, height, &file, 3).map_err(|e| e.to_string())?;
    drop(file);
    let t = Instant::now();
    let back = std::fs::read(&path).map_err(|e| e.to_string())?;
    let mut restored = crate::snapshot::decode(&back)
        .map_err(|e| e.to_string())?
        .state;
    drop(back);
    let t_tail = Instant::now();
    for (ctx, txs) in tail {
        chain::execute(&mut restored, *ctx, txs.iter()).map_err(|e| e.to_string())?;
    }
    r.tail_replay_secs = t_tail.elapsed().as_secs_f64();
    r.restart_from_snapshot_secs = t.elapsed().as_secs_f64();
    if restored.hash() != final_hash {
        return Err("restart from the snapshot reached another state".into());
    }
    Ok(())
}
