//! One pool's state and actions (concentrated liquidity as in the Uniswap v3 whitepaper, with
//! v4's conventions), written from the whitepaper semantics and checked against v4-core
//! reference vectors.
//!
//! Every action is split in two: a read-only `compute_*` that does all the math and all the
//! checks and may fail, producing a plan; and an infallible `commit_*` that writes the plan. A
//! failed action therefore leaves the pool untouched.

use crate::error::SpotError;
use crate::math::fee_math::{
    calculate_swap_fee, one_for_zero_protocol_fee, zero_for_one_protocol_fee,
};
use crate::math::full_math::{div_rem, mul_div};
use crate::math::liquidity_math::add_delta;
use crate::math::safe_cast::{i256_to_i128, u256_to_i128};
use crate::math::sqrt_price_math::{
    get_amount0_delta, get_amount0_delta_signed, get_amount1_delta, get_amount1_delta_signed,
};
use crate::math::swap_math::{
    compute_swap_step_abs, get_sqrt_price_target, SwapStep, MAX_SWAP_FEE,
};
use crate::math::tick_math::{
    get_sqrt_price_at_tick, get_tick_at_sqrt_price, sqrt_price_at_tick_le, MAX_SQRT_PRICE,
    MAX_TICK, MAX_TICK_SPACING, MIN_SQRT_PRICE, MIN_TICK, MIN_TICK_SPACING,
};
use crate::math::Q128;
use crate::tick::{fee_growth_inside, max_liquidity_per_tick, TickInfo};
use crate::tick_bitmap::TickBitmap;
use crate::types::{BalanceDelta, ModifyLiquidityParams, SwapParams};
use alloy_primitives::{Address, U256};
use std::collections::BTreeMap;

/// `floor(fee * 2^128 / liquidity)` (v4's `UnsafeMath.simpleMulDiv(feeAmount, Q128, liquidity)`;
/// the product wraps mod 2^256 as in the EVM, which only matters for fees >= 2^128).
#[inline]
fn fee_growth_delta(fee: U256, liquidity: u128) -> U256 {
    div_rem(fee.wrapping_mul(Q128), U256::from(liquidity)).0
}

/// `getTickAtSqrtPrice(price)` after a step that stopped inside a tick range, moving from a
/// price in `[sqrt(tick), sqrt(tick + 1)]`: if the price is still within `tick`'s range (checked
/// with one multiplication), the answer is `tick`; otherwise the full computation.
#[inline]
fn tick_after_partial_step(zero_for_one: bool, tick: i32, price: U256) -> Result<i32, SpotError> {
    let within = if zero_for_one {
        // price went down from at most sqrt(tick + 1): is it still >= sqrt(tick)?
        (MIN_TICK..=MAX_TICK).contains(&tick) && sqrt_price_at_tick_le(tick, price)?
    } else {
        // price went up from at least sqrt(tick): is it still < sqrt(tick + 1)?
        (MIN_TICK..MAX_TICK).contains(&tick) && !sqrt_price_at_tick_le(tick + 1, price)?
    };
    if within {
        Ok(tick)
    } else {
        get_tick_at_sqrt_price(price)
    }
}

/// v4's `Slot0`: the current price and fees of a pool.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize,
)]
pub struct Slot0 {
    /// Current sqrt(price) as Q64.96 (price = token1 per token0).
    pub sqrt_price_x96: U256,
    /// Current tick. After a zero-for-one swap that ends exactly on a tick's price this is that
    /// tick minus one (v4 moves it pre-emptively), otherwise `getTickAtSqrtPrice(sqrt_price)`.
    pub tick: i32,
    /// Protocol fee in pips, two 12-bit halves: zero-for-one in bits 0..12, one-for-zero in
    /// bits 12..24.
    pub protocol_fee: u32,
    /// LP fee in pips (the key's fee, or the hook-set fee of a dynamic-fee pool).
    pub lp_fee: u32,
}

/// Identifies a position: v4 hashes `(owner, tickLower, tickUpper, salt)`; here the tuple itself
/// is the (ordered) key.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
pub struct PositionKey {
    /// The position's owner (v4: the caller of modifyLiquidity).
    pub owner: Address,
    /// Lower tick of the range.
    pub tick_lower: i32,
    /// Upper tick of the range.
    pub tick_upper: i32,
    /// Salt distinguishing positions of one owner on one range.
    pub salt: [u8; 32],
}

/// A position's state (v4's `Position.State`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize,
)]
pub struct PositionInfo {
    /// The position's liquidity.
    pub liquidity: u128,
    /// Fee growth inside the range at the last update, Q128 (fees owed since then are
    /// `(inside_now - last) * liquidity / 2^128`, the subtraction wrapping mod 2^256).
    pub fee_growth_inside0_last_x128: U256,
    /// As `fee_growth_inside0_last_x128` for token1.
    pub fee_growth_inside1_last_x128: U256,
}

/// What a liquidity change did, from the caller's side (negative = paid into the pool).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ModifyLiquidityOutcome {
    /// `principal_delta + fees_accrued`: what the caller pays or receives in total.
    pub caller_delta: BalanceDelta,
    /// The tokens for the liquidity itself (rounded up when paid, down when received).
    pub principal_delta: BalanceDelta,
    /// Fees collected by the position (always >= 0), v4 pays them out on every modification.
    pub fees_accrued: BalanceDelta,
}

/// A written-down liquidity change, ready to commit.
#[derive(Debug, Clone)]
pub struct ModifyPlan {
    pub(crate) position_key: PositionKey,
    pub(crate) position: PositionInfo,
    /// The two bound ticks' new state and whether each flipped (None when `liquidity_delta == 0`).
    pub(crate) ticks: Option<TickWrites>,
    pub(crate) removing: bool,
    pub(crate) liquidity: u128,
    pub(crate) tick_spacing: i32,
    /// The outcome, as returned to the caller.
    pub outcome: ModifyLiquidityOutcome,
}

/// The result of a swap, computed before anything is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwapOutcome {
    /// Caller-side token deltas (negative = paid in).
    pub delta: BalanceDelta,
    /// Price after the swap.
    pub sqrt_price_x96: U256,
    /// Tick after the swap.
    pub tick: i32,
    /// Active liquidity after the swap.
    pub liquidity: u128,
    /// Fee growth globals after the swap.
    pub fee_growth_global0_x128: U256,
    /// See `fee_growth_global0_x128`.
    pub fee_growth_global1_x128: U256,
    /// Input-token amount owed to the protocol.
    pub amount_to_protocol: U256,
    /// The total fee (LP + protocol) in pips the swap used.
    pub swap_fee: u32,
    /// Number of initialized ticks crossed.
    pub ticks_crossed: u32,
}

/// A tick crossed by a swap: its fee-growth-outside flips against these global values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crossing {
    pub(crate) tick: i32,
    pub(crate) fee_growth_global0_x128: U256,
    pub(crate) fee_growth_global1_x128: U256,
}

/// One initialized pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    tick_spacing: i32,
    max_liquidity_per_tick: u128,
    slot0: Slot0,
    fee_growth_global0_x128: U256,
    fee_growth_global1_x128: U256,
    liquidity: u128,
    ticks: BTreeMap<i32, TickInfo>,
    bitmap: TickBitmap,
    positions: BTreeMap<PositionKey, PositionInfo>,
}

impl Pool {
    /// Initializes a pool at `sqrt_price_x96` (tick = `getTickAtSqrtPrice`, which fails with
    /// `InvalidSqrtPrice` outside `[MIN_SQRT_PRICE, MAX_SQRT_PRICE)`), protocol fee 0, LP fee
    /// `lp_fee` (validated by the manager). The tick spacing must be in `1..=32767`.
    pub fn new(tick_spacing: i32, sqrt_price_x96: U256, lp_fee: u32) -> Result<Self, SpotError> {
        if tick_spacing > MAX_TICK_SPACING {
            return Err(SpotError::TickSpacingTooLarge(tick_spacing));
        }
        if tick_spacing < MIN_TICK_SPACING {
            return Err(SpotError::TickSpacingTooSmall(tick_spacing));
        }
        let tick = get_tick_at_sqrt_price(sqrt_price_x96)?;
        Ok(Self {
            tick_spacing,
            max_liquidity_per_tick: max_liquidity_per_tick(tick_spacing),
            slot0: Slot0 {
                sqrt_price_x96,
                tick,
                protocol_fee: 0,
                lp_fee,
            },
            fee_growth_global0_x128: U256::ZERO,
            fee_growth_global1_x128: U256::ZERO,
            liquidity: 0,
            ticks: BTreeMap::new(),
            bitmap: TickBitmap::new(),
            positions: BTreeMap::new(),
        })
    }

    /// The pool's slot0.
    #[inline]
    pub fn slot0(&self) -> Slot0 {
        self.slot0
    }
    /// Active (in-range) liquidity.
    #[inline]
    pub fn liquidity(&self) -> u128 {
        self.liquidity
    }
    /// Tick spacing.
    #[inline]
    pub fn tick_spacing(&self) -> i32 {
        self.tick_spacing
    }
    /// `(feeGrowthGlobal0X128, feeGrowthGlobal1X128)`.
    #[inline]
    pub fn fee_growth_globals(&self) -> (U256, U256) {
        (self.fee_growth_global0_x128, self.fee_growth_global1_x128)
    }
    /// State of an initialized tick (`None` when not initialized).
    pub fn tick_info(&self, tick: i32) -> Option<TickInfo> {
        self.ticks.get(&tick).copied()
    }
    /// All initialized ticks in ascending order.
    pub fn ticks(&self) -> impl Iterator<Item = (i32, TickInfo)> + '_ {
        self.ticks.iter().map(|(t, i)| (*t, *i))
    }
    /// The tick bitmap.
    pub fn bitmap(&self) -> &TickBitmap {
        &self.bitmap
    }
    /// A position (`None` when it has no liquidity: v4 reports zeros for it).
    pub fn position(&self, key: &PositionKey) -> Option<PositionInfo> {
        self.positions.get(key).copied()
    }
    /// All positions with liquidity, in key order.
    pub fn positions(&self) -> impl Iterator<Item = (PositionKey, PositionInfo)> + '_ {
        self.positions.iter().map(|(k, p)| (*k, *p))
    }
    /// Largest gross liquidity a tick may reference.
    pub fn max_liquidity_per_tick(&self) -> u128 {
        self.max_liquidity_per_tick
    }

    /// Adopts a snapshot's recorded tick when it is the pre-emptively decremented one: after a
    /// zero-for-one swap that ends exactly on tick `t`'s price, Uniswap stores tick `t - 1`
    /// (and the liquidity of `[t, ..)` ranges is already out). Only allowed on a pool without
    /// liquidity; returns whether `tick` is consistent with the price (and was adopted).
    #[cfg(feature = "replay")]
    pub(crate) fn adopt_snapshot_tick(&mut self, tick: i32) -> bool {
        if tick == self.slot0.tick {
            return true;
        }
        let boundary = tick.checked_add(1) == Some(self.slot0.tick)
            && get_sqrt_price_at_tick(self.slot0.tick).ok() == Some(self.slot0.sqrt_price_x96);
        if boundary && self.liquidity == 0 && self.ticks.is_empty() {
            self.slot0.tick = tick;
            true
        } else {
            false
        }
    }

    /// Sets the protocol fee (already validated).
    pub fn set_protocol_fee(&mut self, protocol_fee: u32) {
        self.slot0.protocol_fee = protocol_fee;
    }
    /// Sets the LP fee (already validated).
    pub fn set_lp_fee(&mut self, lp_fee: u32) {
        self.slot0.lp_fee = lp_fee;
    }

    /// Fee growth inside `[tick_lower, tick_upper)` now.
    pub fn fee_growth_inside(&self, tick_lower: i32, tick_upper: i32) -> (U256, U256) {
        let lower = self.ticks.get(&tick_lower).copied().unwrap_or_default();
        let upper = self.ticks.get(&tick_upper).copied().unwrap_or_default();
        fee_growth_inside(
            &lower,
            &upper,
            tick_lower,
            tick_upper,
            self.slot0.tick,
            self.fee_growth_global0_x128,
            self.fee_growth_global1_x128,
        )
    }

    /// New state of a bound tick after adding `liquidity_delta` to it (`upper` flips the sign of
    /// its net contribution). Returns the new info and whether the tick flipped between
    /// initialized and not. By convention a newly initialized tick at or below the current tick
    /// assumes all fee growth so far happened below it.
    fn updated_tick(
        &self,
        tick: i32,
        liquidity_delta: i128,
        upper: bool,
    ) -> Result<(TickInfo, bool), SpotError> {
        let mut info = self.ticks.get(&tick).copied().unwrap_or_default();
        let gross_before = info.liquidity_gross;
        let gross_after = add_delta(gross_before, liquidity_delta)?;
        let flipped = (gross_after == 0) != (gross_before == 0);
        if gross_before == 0 && tick <= self.slot0.tick {
            info.fee_growth_outside0_x128 = self.fee_growth_global0_x128;
            info.fee_growth_outside1_x128 = self.fee_growth_global1_x128;
        }
        info.liquidity_net = if upper {
            info.liquidity_net.checked_sub(liquidity_delta)
        } else {
            info.liquidity_net.checked_add(liquidity_delta)
        }
        .ok_or(SpotError::ArithmeticOverflow)?;
        info.liquidity_gross = gross_after;
        Ok((info, flipped))
    }

    /// Compute phase of a liquidity change of position `(owner, tickLower, tickUpper, salt)`.
    ///
    /// Rules: ticks ordered and within `[MIN_TICK, MAX_TICK]`; both bound ticks' gross liquidity
    /// stays within `maxLiquidityPerTick` when adding; ticks that become (un)initialized must be
    /// multiples of the spacing; a zero delta on an empty position fails
    /// (`CannotUpdateEmptyPosition`); the position is paid its fees accrued since its last update;
    /// the principal is token0 only below the range, token1 only above it, both inside it (where
    /// the active liquidity changes too), rounded in the pool's favour.
    pub fn compute_modify_liquidity(
        &self,
        params: &ModifyLiquidityParams,
    ) -> Result<ModifyPlan, SpotError> {
        let (tick_lower, tick_upper) = (params.tick_lower, params.tick_upper);
        check_ticks(tick_lower, tick_upper)?;
        let ld = params.liquidity_delta;
        let (lower_info, upper_info, ticks) = self.updated_ticks(tick_lower, tick_upper, ld)?;
        let (inside0, inside1) = fee_growth_inside(
            &lower_info,
            &upper_info,
            tick_lower,
            tick_upper,
            self.slot0.tick,
            self.fee_growth_global0_x128,
            self.fee_growth_global1_x128,
        );
        let position_key = PositionKey {
            owner: params.owner,
            tick_lower,
            tick_upper,
            salt: params.salt,
        };
        let old = self
            .positions
            .get(&position_key)
            .copied()
            .unwrap_or_default();
        let new_liquidity = if ld == 0 {
            if old.liquidity == 0 {
                return Err(SpotError::CannotUpdateEmptyPosition);
            }
            old.liquidity
        } else {
            add_delta(old.liquidity, ld)?
        };
        let fees_accrued = fees_owed(&old, inside0, inside1)?;
        let position = PositionInfo {
            liquidity: new_liquidity,
            fee_growth_inside0_last_x128: inside0,
            fee_growth_inside1_last_x128: inside1,
        };
        let (principal, liquidity) = self.principal(tick_lower, tick_upper, ld)?;
        let caller_delta = BalanceDelta {
            amount0: principal
                .amount0
                .checked_add(fees_accrued.amount0)
                .ok_or(SpotError::SafeCastOverflow)?,
            amount1: principal
                .amount1
                .checked_add(fees_accrued.amount1)
                .ok_or(SpotError::SafeCastOverflow)?,
        };
        Ok(ModifyPlan {
            position_key,
            position,
            ticks,
            removing: ld < 0,
            liquidity,
            tick_spacing: self.tick_spacing,
            outcome: ModifyLiquidityOutcome {
                caller_delta,
                principal_delta: principal,
                fees_accrued,
            },
        })
    }

    /// The two boundary ticks after the change (with whether each flips), checked against the
    /// per-tick liquidity cap and the spacing; unchanged (and nothing to write) for a poke.
    fn updated_ticks(
        &self,
        tick_lower: i32,
        tick_upper: i32,
        ld: i128,
    ) -> Result<(TickInfo, TickInfo, Option<TickWrites>), SpotError> {
        if ld == 0 {
            return Ok((
                self.ticks.get(&tick_lower).copied().unwrap_or_default(),
                self.ticks.get(&tick_upper).copied().unwrap_or_default(),
                None,
            ));
        }
        let (lower, flipped_lower) = self.updated_tick(tick_lower, ld, false)?;
        let (upper, flipped_upper) = self.updated_tick(tick_upper, ld, true)?;
        if ld > 0 {
            if lower.liquidity_gross > self.max_liquidity_per_tick {
                return Err(SpotError::TickLiquidityOverflow(tick_lower));
            }
            if upper.liquidity_gross > self.max_liquidity_per_tick {
                return Err(SpotError::TickLiquidityOverflow(tick_upper));
            }
        }
        if flipped_lower {
            TickBitmap::check_aligned(tick_lower, self.tick_spacing)?;
        }
        if flipped_upper {
            TickBitmap::check_aligned(tick_upper, self.tick_spacing)?;
        }
        Ok((
            lower,
            upper,
            Some([
                (tick_lower, lower, flipped_lower),
                (tick_upper, upper, flipped_upper),
            ]),
        ))
    }

    /// The tokens the change moves (signed, caller's view before fees) and the active liquidity
    /// after it: all token0 for a range above the price, all token1 below it, both (and the
    /// active liquidity changes) when the range holds the price.
    fn principal(
        &self,
        tick_lower: i32,
        tick_upper: i32,
        ld: i128,
    ) -> Result<(BalanceDelta, u128), SpotError> {
        let mut principal = BalanceDelta::default();
        let mut liquidity = self.liquidity;
        if ld == 0 {
            return Ok((principal, liquidity));
        }
        let tick = self.slot0.tick;
        let sqrt_lower = get_sqrt_price_at_tick(tick_lower)?;
        let sqrt_upper = get_sqrt_price_at_tick(tick_upper)?;
        if tick < tick_lower {
            principal.amount0 =
                i256_to_i128(get_amount0_delta_signed(sqrt_lower, sqrt_upper, ld)?)?;
        } else if tick < tick_upper {
            let price = self.slot0.sqrt_price_x96;
            principal.amount0 = i256_to_i128(get_amount0_delta_signed(price, sqrt_upper, ld)?)?;
            principal.amount1 = i256_to_i128(get_amount1_delta_signed(sqrt_lower, price, ld)?)?;
            liquidity = add_delta(liquidity, ld)?;
        } else {
            principal.amount1 =
                i256_to_i128(get_amount1_delta_signed(sqrt_lower, sqrt_upper, ld)?)?;
        }
        Ok((principal, liquidity))
    }

    /// Commit phase of a liquidity change: writes ticks (clearing ticks that became
    /// uninitialized on removal), bitmap flips, the position (dropped when empty: an empty
    /// position behaves exactly like an absent one) and the active liquidity.
    pub fn commit_modify_liquidity(&mut self, plan: &ModifyPlan) {
        debug_assert_eq!(plan.tick_spacing, self.tick_spacing);
        if let Some(ticks) = &plan.ticks {
            for (tick, info, flipped) in ticks {
                if *flipped {
                    self.bitmap.flip_tick(*tick, self.tick_spacing);
                }
                if plan.removing && *flipped {
                    self.ticks.remove(tick);
                } else {
                    self.ticks.insert(*tick, *info);
                }
            }
        }
        if plan.position.liquidity == 0 {
            self.positions.remove(&plan.position_key);
        } else {
            self.positions.insert(plan.position_key, plan.position);
        }
        self.liquidity = plan.liquidity;
    }

    /// Compute phase of a swap. `lp_fee_override` replaces the stored LP fee (dynamic-fee pools,
    /// already validated). Crossed ticks are appended to `crossings` (cleared first) for
    /// [`commit_swap`](Self::commit_swap).
    ///
    /// Rules: the swap fee is the LP fee, or `protocol + lp - protocol*lp/1e6` with a protocol
    /// fee; a 100% fee cannot serve exact output; the price limit must lie strictly on the
    /// swap's side of the current price and strictly inside `(MIN_SQRT_PRICE, MAX_SQRT_PRICE)`.
    /// The swap walks from the current price towards the limit in steps, each ending at the next
    /// initialized tick or the end of the current bitmap word (whichever is first), at the limit,
    /// or where the amount runs out; each step's fee (less the protocol's share) is added to the
    /// input token's fee growth per unit of active liquidity; crossing an initialized tick flips
    /// its fee growth outside and applies its net liquidity (negated when moving down). When a
    /// step ends exactly on a tick price moving down, the tick becomes that tick minus one.
    pub fn compute_swap(
        &self,
        params: &SwapParams,
        lp_fee_override: Option<u32>,
        crossings: &mut Vec<Crossing>,
    ) -> Result<SwapOutcome, SpotError> {
        crossings.clear();
        let zero_for_one = params.zero_for_one;
        let start = self.slot0;
        let (protocol_fee, swap_fee) = self.swap_fees(zero_for_one, lp_fee_override);
        let exact_out = params.amount_specified > 0;
        if swap_fee >= MAX_SWAP_FEE && exact_out {
            return Err(SpotError::InvalidFeeForExactOut);
        }
        let mut out = SwapOutcome {
            delta: BalanceDelta::default(),
            sqrt_price_x96: start.sqrt_price_x96,
            tick: start.tick,
            liquidity: self.liquidity,
            fee_growth_global0_x128: self.fee_growth_global0_x128,
            fee_growth_global1_x128: self.fee_growth_global1_x128,
            amount_to_protocol: U256::ZERO,
            swap_fee,
            ticks_crossed: 0,
        };
        if params.amount_specified == 0 {
            return Ok(out);
        }
        check_price_limit(
            zero_for_one,
            start.sqrt_price_x96,
            params.sqrt_price_limit_x96,
        )?;
        // amounts as magnitudes: |amountSpecified| <= 2^127, so the remaining amount always
        // fits; the calculated amount is bounded like v4's int256 (checked) and cast to int128
        // at the end
        let specified_abs = U256::from(params.amount_specified.unsigned_abs());
        let mut run = SwapRun {
            zero_for_one,
            exact_out,
            limit: params.sqrt_price_limit_x96,
            protocol_fee,
            swap_fee,
            remaining: specified_abs,
            calculated: U256::ZERO,
            // fee growth of the input token, updated step by step
            fee_growth: if zero_for_one {
                self.fee_growth_global0_x128
            } else {
                self.fee_growth_global1_x128
            },
            price: start.sqrt_price_x96,
            tick: start.tick,
            liquidity: self.liquidity,
            to_protocol: U256::ZERO,
        };
        while !run.remaining.is_zero() && run.price != run.limit {
            self.swap_step(&mut run, crossings)?;
        }
        out.delta = swap_delta(&run, specified_abs)?;
        out.sqrt_price_x96 = run.price;
        out.tick = run.tick;
        out.liquidity = run.liquidity;
        if zero_for_one {
            out.fee_growth_global0_x128 = run.fee_growth;
        } else {
            out.fee_growth_global1_x128 = run.fee_growth;
        }
        out.amount_to_protocol = run.to_protocol;
        out.ticks_crossed = u32::try_from(crossings.len()).unwrap_or(u32::MAX);
        Ok(out)
    }

    /// The protocol fee of the swap's direction and the total swap fee (pips).
    fn swap_fees(&self, zero_for_one: bool, lp_fee_override: Option<u32>) -> (u32, u32) {
        let protocol_fee = if zero_for_one {
            zero_for_one_protocol_fee(self.slot0.protocol_fee)
        } else {
            one_for_zero_protocol_fee(self.slot0.protocol_fee)
        };
        let lp_fee = lp_fee_override.unwrap_or(self.slot0.lp_fee);
        let swap_fee = if protocol_fee == 0 {
            lp_fee
        } else {
            calculate_swap_fee(protocol_fee, lp_fee)
        };
        (protocol_fee, swap_fee)
    }

    /// One step of a swap: to the next initialized tick (within one bitmap word), the price
    /// limit, or until the amount is used up; crosses the tick if it reaches it.
    fn swap_step(&self, run: &mut SwapRun, crossings: &mut Vec<Crossing>) -> Result<(), SpotError> {
        let zero_for_one = run.zero_for_one;
        let step_start = run.price;
        let (next, initialized) = self.bitmap.next_initialized_tick_within_one_word(
            run.tick,
            self.tick_spacing,
            zero_for_one,
        );
        // the bitmap knows nothing of the tick bounds
        let next = next.clamp(MIN_TICK, MAX_TICK);
        let next_price = get_sqrt_price_at_tick(next)?;
        let step = compute_swap_step_abs(
            run.price,
            get_sqrt_price_target(zero_for_one, next_price, run.limit),
            run.liquidity,
            !run.exact_out,
            run.remaining,
            run.swap_fee,
        )?;
        run.price = step.sqrt_price_next_x96;
        let paid = run.account_amounts(&step)?;
        let lp_fee_amount = run.take_protocol_share(step.fee_amount, paid);
        if run.liquidity > 0 {
            // Q128 fee growth per unit of liquidity; wraps mod 2^256 by design
            run.fee_growth = run
                .fee_growth
                .wrapping_add(fee_growth_delta(lp_fee_amount, run.liquidity));
        }
        if run.price == next_price {
            if initialized {
                self.cross(run, next, crossings)?;
            }
            run.tick = if zero_for_one { next - 1 } else { next };
        } else if run.price != step_start {
            run.tick = tick_after_partial_step(zero_for_one, run.tick, run.price)?;
        }
        Ok(())
    }

    /// Cross the initialized tick `next`: record the fee growth to flip at commit and apply its
    /// net liquidity (moving down crosses it right to left: subtract).
    fn cross(
        &self,
        run: &mut SwapRun,
        next: i32,
        crossings: &mut Vec<Crossing>,
    ) -> Result<(), SpotError> {
        let (g0, g1) = if run.zero_for_one {
            (run.fee_growth, self.fee_growth_global1_x128)
        } else {
            (self.fee_growth_global0_x128, run.fee_growth)
        };
        crossings.push(Crossing {
            tick: next,
            fee_growth_global0_x128: g0,
            fee_growth_global1_x128: g1,
        });
        let net = self.ticks.get(&next).map_or(0, |t| t.liquidity_net);
        let net = if run.zero_for_one {
            net.wrapping_neg()
        } else {
            net
        };
        run.liquidity = add_delta(run.liquidity, net)?;
        Ok(())
    }

    /// Commit phase of a swap: flips the crossed ticks' fee growth outside
    /// (`outside = global - outside`, wrapping) and writes price, tick, liquidity and fee growth.
    pub fn commit_swap(&mut self, outcome: &SwapOutcome, crossings: &[Crossing]) {
        for c in crossings {
            if let Some(info) = self.ticks.get_mut(&c.tick) {
                info.fee_growth_outside0_x128 = c
                    .fee_growth_global0_x128
                    .wrapping_sub(info.fee_growth_outside0_x128);
                info.fee_growth_outside1_x128 = c
                    .fee_growth_global1_x128
                    .wrapping_sub(info.fee_growth_outside1_x128);
            }
        }
        self.slot0.sqrt_price_x96 = outcome.sqrt_price_x96;
        self.slot0.tick = outcome.tick;
        self.liquidity = outcome.liquidity;
        self.fee_growth_global0_x128 = outcome.fee_growth_global0_x128;
        self.fee_growth_global1_x128 = outcome.fee_growth_global1_x128;
    }

    /// Compute phase of a donation: the amounts are shared by the in-range liquidity
    /// (`feeGrowthGlobal += amount * 2^128 / liquidity`, wrapping); fails with
    /// `NoLiquidityToReceiveFees` when there is none. Returns the caller delta and the new fee
    /// growth globals.
    pub fn compute_donate(
        &self,
        amount0: U256,
        amount1: U256,
    ) -> Result<(BalanceDelta, U256, U256), SpotError> {
        if self.liquidity == 0 {
            return Err(SpotError::NoLiquidityToReceiveFees);
        }
        let delta = BalanceDelta {
            amount0: -u256_to_i128(amount0)?,
            amount1: -u256_to_i128(amount1)?,
        };
        let l = U256::from(self.liquidity);
        let mut g0 = self.fee_growth_global0_x128;
        let mut g1 = self.fee_growth_global1_x128;
        if !amount0.is_zero() {
            g0 = g0.wrapping_add(mul_div(amount0, Q128, l)?);
        }
        if !amount1.is_zero() {
            g1 = g1.wrapping_add(mul_div(amount1, Q128, l)?);
        }
        Ok((delta, g0, g1))
    }

    /// Commit phase of a donation.
    pub fn commit_donate(&mut self, fee_growth_global0_x128: U256, fee_growth_global1_x128: U256) {
        self.fee_growth_global0_x128 = fee_growth_global0_x128;
        self.fee_growth_global1_x128 = fee_growth_global1_x128;
    }

    /// Token amounts held by the pool's liquidity in the price band
    /// `[sqrt(tick_lower), sqrt(tick_upper)]`: token1 for the part below the current price, token0
    /// for the part above it, walking initialized ticks outwards from the current tick and
    /// rounding each segment down.
    pub fn amounts_in_range(
        &self,
        tick_lower: i32,
        tick_upper: i32,
    ) -> Result<(U256, U256), SpotError> {
        if tick_lower >= tick_upper {
            return Err(SpotError::TicksMisordered {
                tick_lower,
                tick_upper,
            });
        }
        let band_lo = get_sqrt_price_at_tick(tick_lower)?;
        let band_hi = get_sqrt_price_at_tick(tick_upper)?;
        let price = self.slot0.sqrt_price_x96;
        let tick = self.slot0.tick;

        // below the price: token1
        let mut amount1 = U256::ZERO;
        if band_lo < price {
            let mut hi = price.min(band_hi);
            let mut l = self.liquidity;
            let mut walk = self.ticks.range(..=tick).rev();
            loop {
                // next initialized tick below (or the band's end)
                let next = walk.next();
                let p = match next {
                    Some((&t, _)) => get_sqrt_price_at_tick(t)?,
                    None => band_lo,
                };
                let lo = p.max(band_lo);
                if lo < hi && l > 0 {
                    amount1 = amount1
                        .checked_add(get_amount1_delta(lo, hi, l, false))
                        .ok_or(SpotError::ArithmeticOverflow)?;
                }
                let Some((_, info)) = next else { break };
                if p <= band_lo {
                    break;
                }
                hi = hi.min(p);
                // crossing down: remove the tick's net liquidity
                let net = info
                    .liquidity_net
                    .checked_neg()
                    .ok_or(SpotError::ArithmeticOverflow)?;
                l = add_delta(l, net)?;
            }
        }
        // above the price: token0
        let mut amount0 = U256::ZERO;
        if band_hi > price {
            let mut lo = price.max(band_lo);
            let mut l = self.liquidity;
            let mut walk = self.ticks.range(tick.saturating_add(1)..);
            loop {
                // next initialized tick above (or the band's end)
                let next = walk.next();
                let p = match next {
                    Some((&t, _)) => get_sqrt_price_at_tick(t)?,
                    None => band_hi,
                };
                let hi = p.min(band_hi);
                if lo < hi && l > 0 {
                    amount0 = amount0
                        .checked_add(get_amount0_delta(lo, hi, l, false)?)
                        .ok_or(SpotError::ArithmeticOverflow)?;
                }
                let Some((_, info)) = next else { break };
                if p >= band_hi {
                    break;
                }
                lo = lo.max(p);
                l = add_delta(l, info.liquidity_net)?;
            }
        }
        Ok((amount0, amount1))
    }
}

impl ModifyPlan {
    /// Active liquidity after the change.
    pub fn liquidity_after(&self) -> u128 {
        self.liquidity
    }
}

/// Canonical bytes of a pool (for state snapshots): tick spacing, slot0, fee growths, active
/// liquidity, then the initialized ticks and the positions, each as a `u32` count followed by
/// the entries in key order. The tick bitmap and the per-tick liquidity cap are derived (from
/// the ticks and the tick spacing) and rebuilt on decoding, not stored.
impl borsh::BorshSerialize for Pool {
    fn serialize<W: std::io::Write>(&self, w: &mut W) -> std::io::Result<()> {
        self.tick_spacing.serialize(w)?;
        self.slot0.serialize(w)?;
        self.fee_growth_global0_x128.serialize(w)?;
        self.fee_growth_global1_x128.serialize(w)?;
        self.liquidity.serialize(w)?;
        serial::write_map(&self.ticks, w)?;
        serial::write_map(&self.positions, w)
    }
}

/// The inverse of the encoding above. Refuses (never panics on) bytes that no pool encodes: a
/// tick spacing or price out of range, ticks out of range or not aligned, keys out of order.
impl borsh::BorshDeserialize for Pool {
    fn deserialize_reader<R: std::io::Read>(r: &mut R) -> std::io::Result<Self> {
        let tick_spacing = i32::deserialize_reader(r)?;
        if !(MIN_TICK_SPACING..=MAX_TICK_SPACING).contains(&tick_spacing) {
            return Err(serial::invalid("pool tick spacing out of range"));
        }
        let slot0 = Slot0::deserialize_reader(r)?;
        if slot0.sqrt_price_x96 < MIN_SQRT_PRICE
            || slot0.sqrt_price_x96 >= MAX_SQRT_PRICE
            || !(MIN_TICK..=MAX_TICK).contains(&slot0.tick)
        {
            return Err(serial::invalid("pool price out of range"));
        }
        let fee_growth_global0_x128 = U256::deserialize_reader(r)?;
        let fee_growth_global1_x128 = U256::deserialize_reader(r)?;
        let liquidity = u128::deserialize_reader(r)?;
        let ticks: BTreeMap<i32, TickInfo> = serial::read_map(r)?;
        let mut bitmap = TickBitmap::new();
        for t in ticks.keys() {
            if !(MIN_TICK..=MAX_TICK).contains(t) || t % tick_spacing != 0 {
                return Err(serial::invalid("pool tick out of range or not aligned"));
            }
            bitmap.flip_tick(*t, tick_spacing);
        }
        let positions: BTreeMap<PositionKey, PositionInfo> = serial::read_map(r)?;
        Ok(Self {
            tick_spacing,
            max_liquidity_per_tick: max_liquidity_per_tick(tick_spacing),
            slot0,
            fee_growth_global0_x128,
            fee_growth_global1_x128,
            liquidity,
            ticks,
            bitmap,
            positions,
        })
    }
}

/// Bounded, canonical map encoding shared by the pool and the manager.
pub(crate) mod serial {
    use borsh::{BorshDeserialize, BorshSerialize};
    use std::collections::BTreeMap;

    pub(crate) fn invalid(msg: &'static str) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidData, msg)
    }

    /// `u32` count, then the entries in key order (borsh's map layout).
    pub(crate) fn write_map<W: std::io::Write, K: BorshSerialize, V: BorshSerialize>(
        m: &BTreeMap<K, V>,
        w: &mut W,
    ) -> std::io::Result<()> {
        let n = u32::try_from(m.len()).map_err(|_| invalid("map too large"))?;
        n.serialize(w)?;
        for (k, v) in m {
            k.serialize(w)?;
            v.serialize(w)?;
        }
        Ok(())
    }

    /// The inverse of [`write_map`]: entries are read one by one (each consumes input, so a
    /// hostile count fails at the end of the input instead of allocating), keys must be strictly
    /// increasing (one encoding per map).
    pub(crate) fn read_map<R: std::io::Read, K: BorshDeserialize + Ord, V: BorshDeserialize>(
        r: &mut R,
    ) -> std::io::Result<BTreeMap<K, V>> {
        let n = u32::deserialize_reader(r)?;
        let mut m = BTreeMap::new();
        for _ in 0..n {
            let k = K::deserialize_reader(r)?;
            let v = V::deserialize_reader(r)?;
            if m.last_key_value().is_some_and(|(last, _)| *last >= k) {
                return Err(invalid("map keys out of order"));
            }
            m.insert(k, v);
        }
        Ok(m)
    }
}

/// The two boundary ticks a liquidity change writes: `(tick, new info, flips in the bitmap)`.
pub(crate) type TickWrites = [(i32, TickInfo, bool); 2];

/// A range must be ordered and inside the tick bounds.
fn check_ticks(tick_lower: i32, tick_upper: i32) -> Result<(), SpotError> {
    if tick_lower >= tick_upper {
        return Err(SpotError::TicksMisordered {
            tick_lower,
            tick_upper,
        });
    }
    if tick_lower < MIN_TICK {
        return Err(SpotError::TickLowerOutOfBounds(tick_lower));
    }
    if tick_upper > MAX_TICK {
        return Err(SpotError::TickUpperOutOfBounds(tick_upper));
    }
    Ok(())
}

/// Fees a position accrued since its last update: its liquidity × the growth of the fee growth
/// inside its range (wrapping, Q128, rounded down).
fn fees_owed(old: &PositionInfo, inside0: U256, inside1: U256) -> Result<BalanceDelta, SpotError> {
    let liq = U256::from(old.liquidity);
    let fees0 = mul_div(
        inside0.wrapping_sub(old.fee_growth_inside0_last_x128),
        liq,
        Q128,
    )?;
    let fees1 = mul_div(
        inside1.wrapping_sub(old.fee_growth_inside1_last_x128),
        liq,
        Q128,
    )?;
    Ok(BalanceDelta {
        amount0: u256_to_i128(fees0)?,
        amount1: u256_to_i128(fees1)?,
    })
}

/// Largest int256, as v4 bounds step amounts and the calculated amount.
const I256_MAX: U256 = U256::from_limbs([u64::MAX, u64::MAX, u64::MAX, u64::MAX >> 1]);

/// The running state of a swap between steps.
struct SwapRun {
    zero_for_one: bool,
    exact_out: bool,
    limit: U256,
    protocol_fee: u32,
    swap_fee: u32,
    /// Magnitude of the specified amount not used yet.
    remaining: U256,
    /// Magnitude of the other token's amount so far.
    calculated: U256,
    /// Fee growth of the input token.
    fee_growth: U256,
    price: U256,
    tick: i32,
    liquidity: u128,
    to_protocol: U256,
}

impl SwapRun {
    /// Use the step's amounts: v4 casts each step amount to int256 (SafeCast, in this order) and
    /// accumulates the calculated amount in checked int256 (a negative one may reach -2^255).
    /// Returns what the step paid in (amount in + fee).
    fn account_amounts(&mut self, step: &SwapStep) -> Result<U256, SpotError> {
        if self.exact_out && step.amount_out > I256_MAX {
            return Err(SpotError::SafeCastOverflow);
        }
        let paid = step
            .amount_in
            .checked_add(step.fee_amount)
            .ok_or(SpotError::ArithmeticOverflow)?;
        if paid > I256_MAX || step.amount_out > I256_MAX {
            return Err(SpotError::SafeCastOverflow);
        }
        let (used, gained, bound) = if self.exact_out {
            (step.amount_out, paid, I256_MAX + U256::from(1u8))
        } else {
            (paid, step.amount_out, I256_MAX)
        };
        // the step never uses more than remains (SwapMath's invariant)
        self.remaining = self
            .remaining
            .checked_sub(used)
            .ok_or(SpotError::ArithmeticOverflow)?;
        self.calculated = self
            .calculated
            .checked_add(gained)
            .filter(|c| *c <= bound)
            .ok_or(SpotError::ArithmeticOverflow)?;
        Ok(paid)
    }

    /// Take the protocol's share of the step's fee (of the input, rounded down, in favour of
    /// LPs); returns the LPs' part.
    fn take_protocol_share(&mut self, fee_amount: U256, paid: U256) -> U256 {
        if self.protocol_fee == 0 {
            return fee_amount;
        }
        let share = if self.swap_fee == self.protocol_fee {
            fee_amount
        } else {
            paid.wrapping_mul(U256::from(self.protocol_fee)) / U256::from(1_000_000u32)
        };
        self.to_protocol = self.to_protocol.wrapping_add(share);
        fee_amount.wrapping_sub(share)
    }
}

/// The price limit must lie beyond the current price in the swap's direction and inside the
/// price range.
fn check_price_limit(zero_for_one: bool, current: U256, limit: U256) -> Result<(), SpotError> {
    let (already, out_of_bounds) = if zero_for_one {
        (limit >= current, limit <= MIN_SQRT_PRICE)
    } else {
        (limit <= current, limit >= MAX_SQRT_PRICE)
    };
    if already {
        return Err(SpotError::PriceLimitAlreadyExceeded {
            sqrt_price_current_x96: current,
            sqrt_price_limit_x96: limit,
        });
    }
    if out_of_bounds {
        return Err(SpotError::PriceLimitOutOfBounds(limit));
    }
    Ok(())
}

/// The caller's token deltas: int128 casts of the specified amount used (<= |amountSpecified|)
/// and of the calculated one. token0 is the specified token iff (zero_for_one and exact input)
/// or (one_for_zero and exact output).
#[expect(
    clippy::cast_possible_wrap,
    reason = "used ≤ 2^127; 2^127 wraps to i128::MIN, which is its own negation, as v4's int128 cast of −2^127"
)]
fn swap_delta(run: &SwapRun, specified_abs: U256) -> Result<BalanceDelta, SpotError> {
    // used <= |amountSpecified| <= 2^127
    let used = (specified_abs - run.remaining).to::<u128>() as i128;
    let used = if run.exact_out {
        used
    } else {
        used.wrapping_neg()
    };
    let calculated = if !run.exact_out {
        u256_to_i128(run.calculated)?
    } else if run.calculated == U256::from(1u128 << 127) {
        i128::MIN
    } else {
        -u256_to_i128(run.calculated)?
    };
    Ok(if run.zero_for_one != run.exact_out {
        BalanceDelta {
            amount0: used,
            amount1: calculated,
        }
    } else {
        BalanceDelta {
            amount0: calculated,
            amount1: used,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn new_validates_tick_spacing() {
        let p = get_sqrt_price_at_tick(0).unwrap();
        assert_eq!(
            Pool::new(0, p, 0).unwrap_err(),
            SpotError::TickSpacingTooSmall(0)
        );
        assert_eq!(
            Pool::new(32768, p, 0).unwrap_err(),
            SpotError::TickSpacingTooLarge(32768)
        );
        assert!(Pool::new(1, p, 0).is_ok());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// The one-multiplication tick check equals getTickAtSqrtPrice under the swap loop's
        /// invariant (`sqrt(tick) <= start <= sqrt(tick + 1)`, the price moving away from start).
        #[test]
        fn partial_step_tick_matches(tick in MIN_TICK..MAX_TICK, frac in 0u64..=1000, span in 1i32..4, zero_for_one in any::<bool>()) {
            let lo = get_sqrt_price_at_tick(tick).unwrap();
            let hi = get_sqrt_price_at_tick(tick + 1).unwrap();
            // a target price up to `span` ticks away, in the swap's direction
            let price = if zero_for_one {
                let far = get_sqrt_price_at_tick((tick - span).max(MIN_TICK)).unwrap();
                far + (hi - far) * U256::from(frac) / U256::from(1000u32)
            } else {
                let far = get_sqrt_price_at_tick((tick + 1 + span).min(MAX_TICK)).unwrap();
                lo + (far - lo) * U256::from(frac) / U256::from(1000u32)
            };
            prop_assume!(price >= MIN_SQRT_PRICE && price < MAX_SQRT_PRICE);
            // the price moved strictly away from the start (<= sqrt(tick + 1) going down)
            prop_assume!(!zero_for_one || price < hi);
            prop_assert_eq!(
                tick_after_partial_step(zero_for_one, tick, price).unwrap(),
                get_tick_at_sqrt_price(price).unwrap()
            );
        }
    }
}
