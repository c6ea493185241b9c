//! # AZEx hook oracle
//!
//! [`OracleHook`] is the hook registered on every azUSD/BASE spot pool (a Uniswap v4-style pool
//! of `azex-spot`). It is updated by the pool manager in the same state transition as the
//! action that moves the pool, and gives the exchange three things per pool:
//!
//! 1. a **truncated price**: the pool's tick, recorded at most once per block, and allowed to
//!    move at most `max_abs_tick_move` ticks from one observation to the next;
//! 2. a **TWAP** of that truncated price over any window still held by the observation ring
//!    buffer ([`OracleHook::twap_tick`], [`OracleHook::observe`]);
//! 3. **spot liquidity**: the azUSD value of the tokens the pool holds within a band around
//!    the current price ([`OracleHook::spot_liquidity`], module [`depth`]).
//!
//! Everything is deterministic integer math: time and block height come from the hook context
//! ([`azex_spot::HookContext`]) or the caller's `now`; state is ordered (`BTreeMap`) and
//! borsh-serialisable; every overflow is a named [`OracleError`].
//!
//! ## How observations are written (v4-periphery `TruncatedOracle` semantics)
//!
//! * `Initialize` writes the first observation: tick cumulative 0, recording the initial tick.
//! * The first swap or liquidity change of a block writes one observation, from the pool's tick
//!   and liquidity **before** the action (the state that prevailed since the previous action),
//!   exactly what TruncatedOracle records in `beforeSwap` / `beforeModifyPosition`. Later
//!   actions in the same block (or in a later block with the same timestamp) write nothing.
//!   Donations move neither price nor liquidity and write nothing.
//! * The recorded tick is the pool tick clamped to `previous ± max_abs_tick_move`; the clamped
//!   tick is what accumulates into `tick_cumulative` over the elapsed interval, so the TWAP is a
//!   mean of truncated ticks.
//! * Observations live in a ring buffer of `cardinality` slots, growable up to 65535
//!   ([`OracleHook::increase_cardinality_next`]); `observe` binary-searches it, interpolates
//!   between observations and extrapolates counterfactually from the latest observation to
//!   `now` with the current (truncated) tick. See [`observation`].
//! * An idle pool writes no observations; the exchange's block-begin step can call
//!   [`OracleHook::poke_pool`] to write the block's observation from the pool's current state,
//!   exactly what the block's first action would write (so the truncated price keeps
//!   converging toward an idle pool's tick, one step per block).
//! * Validation (`before_swap`, `before_add_liquidity`, `before_remove_liquidity`) rejects an
//!   action whose observation could not be written (block number or time running backwards,
//!   overflow), so the infallible commit (`on_committed`) never has to fail.
//!
//! Consequence (what the truncation buys): a manipulator who moves the pool within a block does
//! not move the oracle in that block at all (the block's observation was taken before their
//! first action), and moving it by `k·m` ticks takes `k` blocks during which they must hold the
//! pool away from its fair price against arbitrage.
//!
//! ## The truncation default: 50 ticks per block, and why
//!
//! A move of `m` ticks is a price ratio of `1.0001^m`. Uniswap's example uses `m = 9116`
//! (×2.49 per observation), which only stops absurd prints. AZEx sizes `m` against margin:
//!
//! * The liquidation and ADL triggers use the truncated price (smoothed by the TWAP). A
//!   position whose equity crosses its maintenance margin is liquidated in the next block at the
//!   latest (keepers race for it; the engine rechecks). Between two blocks that price moves by
//!   at most one observation step, a factor `1.0001^±m`.
//! * So if **maintenance margin > (1.0001^m − 1) + close fee + liquidation fee**, the equity of
//!   a position still above maintenance in block `n` is still ≥ 0 when it is liquidated in block
//!   `n + 1`: negative equity cannot arise from price moves the oracle lets through (for `d`
//!   blocks of liquidation delay the requirement is `1.0001^(d·m) − 1` plus fees).
//! * With **`m = 50`**: `1.0001^50 = 1.005012` (+0.501%; −0.499% downwards). A maintenance
//!   floor of 1% covers one block's worst move (0.50%) and leaves 0.49% for the close and
//!   liquidation fees; a floor at or below 0.5% would not be safe. (Uniswap's 9116 would need
//!   a maintenance margin above 149%: no leverage at all.)
//! * Why not smaller: the oracle must still follow real moves. At `m = 50` it can follow
//!   `50·n` ticks over `n` blocks: `1.0001^±3000` = +35% / −26% per minute at 1-second blocks,
//!   +16% / −14% at 2-second blocks, faster than sustained moves of listed assets; a crash
//!   faster than that is followed with a lag of a few blocks, during which the exchange sees a
//!   price closer to the pre-crash one (the liquidation waterfall and ADL cover what the lag
//!   costs). A smaller `m` makes that lag longer for the same safety gain per block.
//!
//! `max_abs_tick_move` is a per-pool parameter, validated in `1..=9116`
//! ([`OracleParams::validate`]); the exchange should keep it consistent with the market's
//! smallest maintenance-margin tier (rule above).
//!
//! ## Which price AZEx uses for what (the exchange implements this)
//!
//! * **Untruncated pool tick** ([`OracleHook::untruncated_pool_tick`]): the raw spot, moved by
//!   any swap within the block. Never used to value positions; useful for display and for
//!   measuring spot depth (the band is centred on it).
//! * **Truncated spot** ([`OracleHook::truncated_tick_at`] / [`OracleHook::truncated_price_at`]):
//!   the price an observation written `now` would record; it moves at most `m` ticks per block
//!   and never reflects a swap of the current block. The **mark price** formula of the exchange
//!   starts from it (`spot` in `mark = spot·(1 + sign(net)·α·(|net|·spot/capacity)^β)`).
//!   [`OracleHook::truncated_tick`] is the latest written observation's tick (the same value
//!   when the pool traded in this block; it lags when the pool is idle).
//! * **TWAP of the truncated price** ([`OracleHook::twap_tick`] / [`OracleHook::twap_price`]):
//!   the time-weighted geometric mean (arithmetic mean tick, rounded toward −∞ like Uniswap's
//!   `OracleLibrary.consult`). It is used for **liquidation and ADL triggers** and delisting
//!   settlement: a stop-hunter would have to hold the pool off its fair price for a large part
//!   of the window, not for one block. Over a block of `Δ` seconds it moves by at most
//!   `m·k·Δ/W` ticks (plus one tick of rounding), `k` being the number of observations in the
//!   window `W`: with one observation per block that is the truncated price's own bound `m`,
//!   and less when the pool has idle blocks.
//!
//! ## Spot liquidity
//!
//! [`OracleHook::spot_liquidity`] (see [`depth`]): the value, in **azUSD smallest units
//! (6 decimals)**, of the token0 and token1 the pool's liquidity holds between `tick − b` and
//! `tick + b` around the current tick, `b = depth_band_ticks` (default 198: `1.0001^198 ≈ 1.02`,
//! i.e. "±2% depth"). The BASE side is valued at the current pool price, rounded down.
//!
//! ## Units
//!
//! Ticks are `i32` (v4's `int24`), sqrt prices Q64.96 in a `U256` (token1 per token0),
//! timestamps `u64` seconds, tick cumulatives `i64`, seconds-per-liquidity Q128 in a `U256`.
//! Prices returned as amounts ([`OracleHook::twap_price`], [`base_to_quote`]) are azUSD smallest
//! units for a given amount of BASE smallest units, rounded down; pass `10^base_decimals` to get
//! the price of one BASE.
// Test data is built with plain casts; the library itself is held to the cast lints.
#![cfg_attr(
    test,
    allow(
        clippy::cast_possible_truncation,
        clippy::cast_possible_wrap,
        clippy::cast_sign_loss,
        clippy::cast_lossless
    )
)]

pub mod depth;
pub mod error;
pub mod hook;
pub mod observation;
pub mod params;
pub mod pool;
pub mod price;
pub mod twap;

#[cfg(test)]
mod hook_tests;

pub use depth::{depth_band, spot_liquidity, spot_liquidity_from_amounts, SpotDepth};
pub use error::{OracleError, OracleResult};
pub use hook::OracleHook;
pub use observation::{truncate_tick, Cumulative, Observation, ObservationBuffer, PreparedWrite};
pub use params::*;
pub use pool::PoolOracle;
pub use price::{base_to_quote, base_to_quote_at_tick, sqrt_price_at_tick};
pub use twap::{arithmetic_mean_tick, harmonic_mean_liquidity};
