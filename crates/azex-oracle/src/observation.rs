//! The observation ring buffer: Uniswap's `Oracle` library semantics with v4-periphery
//! `TruncatedOracle`'s tick truncation, written from the semantics (no Solidity translated).
//!
//! * An [`Observation`] holds the time it was written, the (truncated) tick it recorded and two
//!   accumulators: `tick_cumulative = Σ tick·Δt` and
//!   `seconds_per_liquidity_cumulative_x128 = Σ (Δt << 128) / max(liquidity, 1)`.
//! * [`transform`] extends an observation to a later time: the tick recorded is the pool's
//!   tick clamped to `prev.tick ± max_abs_tick_move`, and it is this truncated tick that
//!   accumulates over the elapsed interval.
//! * [`ObservationBuffer::write`] writes at most one observation per timestamp into a ring of
//!   `cardinality` slots; the ring grows to `cardinality_next` only when the write index wraps
//!   around to the end of the current ring (so the ring order stays oldest → newest).
//! * [`ObservationBuffer::observe`] returns the accumulators at `now - seconds_ago` for each
//!   request: exact at an observation, linearly interpolated between the two surrounding
//!   observations (found by binary search between the oldest and the newest), and
//!   counterfactually extrapolated from the newest observation with the current tick and
//!   liquidity when the target is after it.
//!
//! Differences from the Solidity library, all deliberate:
//! * timestamps are `u64` seconds (no 32-bit wrap-around in 2106, so plain comparisons replace
//!   Uniswap's `lte` wrap-around comparison);
//! * accumulators are `i64` / `U256` with checked arithmetic: an overflow is
//!   [`OracleError::Overflow`] instead of a silent wrap (`i64` holds `MAX_TICK`·t for
//!   t > 300,000 years);
//! * storage is a `Vec` that holds exactly `cardinality_next` slots (grown slots are
//!   uninitialized until written, as Uniswap's pre-filled slots are).

use crate::error::{OracleError, OracleResult};
use crate::params::MAX_CARDINALITY;
use alloy_primitives::U256;
use azex_math::mul_div;
use borsh::{BorshDeserialize, BorshSerialize};

/// One oracle observation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Observation {
    /// Block timestamp (seconds) the observation was written at.
    pub block_timestamp: u64,
    /// The truncated tick recorded by this observation (TruncatedOracle's `prevTick`): the tick
    /// that prevailed over `(previous.block_timestamp, block_timestamp]`, after truncation. The
    /// next observation may move at most `max_abs_tick_move` away from it.
    pub tick: i32,
    /// `Σ tick·Δt` since the pool's oracle was initialized.
    pub tick_cumulative: i64,
    /// `Σ (Δt << 128) / max(liquidity, 1)` since the pool's oracle was initialized.
    pub seconds_per_liquidity_cumulative_x128: U256,
    /// Whether this slot has been written (grown slots are not, until the ring reaches them).
    pub initialized: bool,
}

/// The accumulators at one point in time, as returned by [`ObservationBuffer::observe`]
/// (Uniswap's `(tickCumulative, secondsPerLiquidityCumulativeX128)` pair).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cumulative {
    /// Σ tick × seconds since the first observation.
    pub tick_cumulative: i64,
    /// Σ seconds / max(1, liquidity), Q128.
    pub seconds_per_liquidity_cumulative_x128: U256,
}

impl From<&Observation> for Cumulative {
    fn from(o: &Observation) -> Self {
        Self {
            tick_cumulative: o.tick_cumulative,
            seconds_per_liquidity_cumulative_x128: o.seconds_per_liquidity_cumulative_x128,
        }
    }
}

/// Clamps `tick` to `prev_tick ± max_abs_tick_move` (TruncatedOracle's truncation).
/// `max_abs_tick_move` is expected non-negative (parameters are validated as `1..=9116`).
#[expect(
    clippy::cast_possible_truncation,
    reason = "the moved tick lies between prev_tick and tick, both i32"
)]
pub fn truncate_tick(tick: i32, prev_tick: i32, max_abs_tick_move: i32) -> i32 {
    let m = i64::from(max_abs_tick_move.max(0));
    let diff = i64::from(tick) - i64::from(prev_tick);
    let moved = i64::from(prev_tick) + diff.clamp(-m, m);
    // `moved` lies between `prev_tick` and `tick`, both i32.
    moved as i32
}

/// Extends `last` to `block_timestamp` with the pool's current `tick` and `liquidity` (those in
/// force since `last` was written): the recorded tick is `tick` truncated against `last.tick`.
pub fn transform(
    last: &Observation,
    block_timestamp: u64,
    tick: i32,
    liquidity: u128,
    max_abs_tick_move: i32,
) -> OracleResult<Observation> {
    let delta = block_timestamp.checked_sub(last.block_timestamp).ok_or(
        OracleError::TimeWentBackwards {
            now: block_timestamp,
            latest: last.block_timestamp,
        },
    )?;
    let truncated = truncate_tick(tick, last.tick, max_abs_tick_move);
    let delta_i64 = i64::try_from(delta).map_err(|_| OracleError::Overflow)?;
    let tick_cumulative = i64::from(truncated)
        .checked_mul(delta_i64)
        .and_then(|x| last.tick_cumulative.checked_add(x))
        .ok_or(OracleError::Overflow)?;
    // delta < 2^64, so delta << 128 < 2^192: no overflow in the shift.
    let spl_step = (U256::from(delta) << 128) / U256::from(liquidity.max(1));
    let seconds_per_liquidity_cumulative_x128 = last
        .seconds_per_liquidity_cumulative_x128
        .checked_add(spl_step)
        .ok_or(OracleError::Overflow)?;
    Ok(Observation {
        block_timestamp,
        tick: truncated,
        tick_cumulative,
        seconds_per_liquidity_cumulative_x128,
        initialized: true,
    })
}

/// A write the buffer would perform, computed without mutating it (see
/// [`ObservationBuffer::prepare_write`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreparedWrite {
    /// Slot the observation goes to.
    pub index: u16,
    /// Cardinality after the write.
    pub cardinality: u16,
    /// The observation written.
    pub observation: Observation,
}

/// The ring buffer of one pool (Uniswap's `observations` array plus `index`, `cardinality` and
/// `cardinalityNext` from slot0).
#[derive(Debug, Clone, Default, PartialEq, Eq, BorshSerialize)]
pub struct ObservationBuffer {
    /// `cardinality_next` slots; slots at or beyond `cardinality` are uninitialized.
    slots: Vec<Observation>,
    /// Slot of the most recent observation.
    index: u16,
    /// Number of slots in use by the ring.
    cardinality: u16,
    /// Number of slots the ring grows to at its next wrap-around.
    cardinality_next: u16,
}

/// The derived layout (`slots` as a `u32` count and the observations, then `index`,
/// `cardinality`, `cardinality_next`), refusing a ring no sequence of writes produces (so that a
/// decoded buffer never indexes out of its slots): `slots.len() == cardinality_next`,
/// `cardinality ≤ cardinality_next`, `index < cardinality` (or an empty buffer).
impl BorshDeserialize for ObservationBuffer {
    fn deserialize_reader<R: std::io::Read>(r: &mut R) -> std::io::Result<Self> {
        let n = u32::deserialize_reader(r)?;
        if n > u32::from(MAX_CARDINALITY) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "observation buffer too large",
            ));
        }
        let mut slots = Vec::new();
        for _ in 0..n {
            slots.push(Observation::deserialize_reader(r)?);
        }
        let index = u16::deserialize_reader(r)?;
        let cardinality = u16::deserialize_reader(r)?;
        let cardinality_next = u16::deserialize_reader(r)?;
        let ring_ok = if cardinality == 0 {
            index == 0 && slots.is_empty() && cardinality_next == 0
        } else {
            index < cardinality && cardinality <= cardinality_next
        };
        if !ring_ok || slots.len() != usize::from(cardinality_next) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "observation ring out of shape",
            ));
        }
        Ok(Self {
            slots,
            index,
            cardinality,
            cardinality_next,
        })
    }
}

impl ObservationBuffer {
    /// A buffer with its first observation (tick cumulative 0) at `block_timestamp`, recording
    /// `tick`; cardinality 1 (Uniswap's `initialize`).
    pub fn initialize(block_timestamp: u64, tick: i32) -> Self {
        Self {
            slots: vec![Observation {
                block_timestamp,
                tick,
                tick_cumulative: 0,
                seconds_per_liquidity_cumulative_x128: U256::ZERO,
                initialized: true,
            }],
            index: 0,
            cardinality: 1,
            cardinality_next: 1,
        }
    }

    /// Whether the buffer holds at least one observation.
    pub fn is_initialized(&self) -> bool {
        self.cardinality > 0
    }

    /// Slot of the most recent observation.
    pub fn index(&self) -> u16 {
        self.index
    }

    /// Number of slots in use by the ring.
    pub fn cardinality(&self) -> u16 {
        self.cardinality
    }

    /// Number of slots allocated (the ring uses them once it wraps around).
    pub fn cardinality_next(&self) -> u16 {
        self.cardinality_next
    }

    /// The slot at `i` (`None` beyond `cardinality_next`).
    pub fn slot(&self, i: u16) -> Option<&Observation> {
        self.slots.get(usize::from(i))
    }

    /// The most recent observation.
    pub fn latest(&self) -> OracleResult<&Observation> {
        if self.cardinality == 0 {
            return Err(OracleError::NotInitialized);
        }
        Ok(&self.slots[usize::from(self.index)])
    }

    /// The oldest observation still kept (the slot after `index`, or slot 0 while the ring has
    /// not wrapped around into grown slots yet).
    pub fn oldest(&self) -> OracleResult<&Observation> {
        if self.cardinality == 0 {
            return Err(OracleError::NotInitialized);
        }
        let next = (u32::from(self.index) + 1) % u32::from(self.cardinality);
        let o = &self.slots[next as usize];
        Ok(if o.initialized { o } else { &self.slots[0] })
    }

    /// Allocates slots up to `cardinality_next` (Uniswap's `grow`). Never shrinks; returns the
    /// new `cardinality_next`. Errors: [`OracleError::NotInitialized`],
    /// [`OracleError::CardinalityTooLarge`] above 65535.
    pub fn grow(&mut self, cardinality_next: u32) -> OracleResult<u16> {
        if self.cardinality == 0 {
            return Err(OracleError::NotInitialized);
        }
        if cardinality_next > u32::from(MAX_CARDINALITY) {
            return Err(OracleError::CardinalityTooLarge {
                requested: cardinality_next,
            });
        }
        let next =
            u16::try_from(cardinality_next).map_err(|_| OracleError::CardinalityTooLarge {
                requested: cardinality_next,
            })?;
        if next > self.cardinality_next {
            self.slots.resize(usize::from(next), Observation::default());
            self.cardinality_next = next;
        }
        Ok(self.cardinality_next)
    }

    /// The write [`write`](Self::write) would do, without doing it: `Ok(None)` when an
    /// observation already exists at `block_timestamp` (at most one per timestamp).
    pub fn prepare_write(
        &self,
        block_timestamp: u64,
        tick: i32,
        liquidity: u128,
        max_abs_tick_move: i32,
    ) -> OracleResult<Option<PreparedWrite>> {
        let last = self.latest()?;
        if last.block_timestamp == block_timestamp {
            return Ok(None);
        }
        let observation = transform(last, block_timestamp, tick, liquidity, max_abs_tick_move)?;
        // Grow the ring only when the index is at its last slot, so that ring order stays
        // oldest -> newest.
        let cardinality =
            if self.cardinality_next > self.cardinality && self.index == self.cardinality - 1 {
                self.cardinality_next
            } else {
                self.cardinality
            };
        let index = u16::try_from((u32::from(self.index) + 1) % u32::from(cardinality))
            .map_err(|_| OracleError::Overflow)?;
        Ok(Some(PreparedWrite {
            index,
            cardinality,
            observation,
        }))
    }

    /// Writes an observation at `block_timestamp` from the pool's `tick` and `liquidity` in
    /// force since the latest observation (Uniswap's `write`). Returns whether a new observation
    /// was written (`false` when one already exists at this timestamp).
    pub fn write(
        &mut self,
        block_timestamp: u64,
        tick: i32,
        liquidity: u128,
        max_abs_tick_move: i32,
    ) -> OracleResult<bool> {
        match self.prepare_write(block_timestamp, tick, liquidity, max_abs_tick_move)? {
            None => Ok(false),
            Some(w) => {
                self.apply(w);
                Ok(true)
            }
        }
    }

    /// Applies a write computed by [`prepare_write`](Self::prepare_write) on this same state.
    pub(crate) fn apply(&mut self, w: PreparedWrite) {
        self.slots[usize::from(w.index)] = w.observation;
        self.index = w.index;
        self.cardinality = w.cardinality;
    }

    /// The accumulators at `now - seconds_ago` for each entry of `seconds_agos` (Uniswap's
    /// `observe`). `tick` and `liquidity` are the pool's current (untruncated) values, in force
    /// since the latest observation; they are used, truncated, for targets after it.
    pub fn observe(
        &self,
        now: u64,
        seconds_agos: &[u32],
        tick: i32,
        liquidity: u128,
        max_abs_tick_move: i32,
    ) -> OracleResult<Vec<Cumulative>> {
        if self.cardinality == 0 {
            return Err(OracleError::NotInitialized);
        }
        seconds_agos
            .iter()
            .map(|&s| self.observe_single(now, s, tick, liquidity, max_abs_tick_move))
            .collect()
    }

    /// The accumulators at `now - seconds_ago` (Uniswap's `observeSingle`).
    pub fn observe_single(
        &self,
        now: u64,
        seconds_ago: u32,
        tick: i32,
        liquidity: u128,
        max_abs_tick_move: i32,
    ) -> OracleResult<Cumulative> {
        let latest = self.latest()?;
        if now < latest.block_timestamp {
            return Err(OracleError::TimeWentBackwards {
                now,
                latest: latest.block_timestamp,
            });
        }
        if seconds_ago == 0 {
            if latest.block_timestamp == now {
                return Ok(latest.into());
            }
            return Ok((&transform(latest, now, tick, liquidity, max_abs_tick_move)?).into());
        }
        let target = now
            .checked_sub(u64::from(seconds_ago))
            .ok_or(OracleError::SecondsAgoBeforeEpoch { now, seconds_ago })?;
        let (before, after) =
            self.surrounding_observations(target, tick, liquidity, max_abs_tick_move)?;
        if target == before.block_timestamp {
            return Ok((&before).into());
        }
        if target == after.block_timestamp {
            return Ok((&after).into());
        }
        // Strictly between: interpolate. Uniswap divides the tick-cumulative difference by the
        // observation interval first (truncating toward zero) and then scales by the target
        // offset; the difference is an exact multiple of the interval here (one truncated tick
        // prevails over it), so the order does not lose anything.
        let observation_delta = after.block_timestamp - before.block_timestamp;
        let target_delta = target - before.block_timestamp;
        let od = i64::try_from(observation_delta).map_err(|_| OracleError::Overflow)?;
        let td = i64::try_from(target_delta).map_err(|_| OracleError::Overflow)?;
        let tick_cumulative = after
            .tick_cumulative
            .checked_sub(before.tick_cumulative)
            .and_then(|d| d.checked_div(od))
            .and_then(|per_sec| per_sec.checked_mul(td))
            .and_then(|x| before.tick_cumulative.checked_add(x))
            .ok_or(OracleError::Overflow)?;
        let spl_diff = after
            .seconds_per_liquidity_cumulative_x128
            .checked_sub(before.seconds_per_liquidity_cumulative_x128)
            .ok_or(OracleError::Overflow)?;
        let spl = mul_div(
            spl_diff,
            U256::from(target_delta),
            U256::from(observation_delta),
        )?
        .checked_add(before.seconds_per_liquidity_cumulative_x128)
        .ok_or(OracleError::Overflow)?;
        Ok(Cumulative {
            tick_cumulative,
            seconds_per_liquidity_cumulative_x128: spl,
        })
    }

    /// The observations at or just before and at or just after `target` (Uniswap's
    /// `getSurroundingObservations`). When `target` is at or after the latest observation the
    /// second one is the counterfactual observation at `target`.
    fn surrounding_observations(
        &self,
        target: u64,
        tick: i32,
        liquidity: u128,
        max_abs_tick_move: i32,
    ) -> OracleResult<(Observation, Observation)> {
        let latest = *self.latest()?;
        if latest.block_timestamp <= target {
            if latest.block_timestamp == target {
                return Ok((latest, Observation::default()));
            }
            let at = transform(&latest, target, tick, liquidity, max_abs_tick_move)?;
            return Ok((latest, at));
        }
        let oldest = self.oldest()?;
        if oldest.block_timestamp > target {
            return Err(OracleError::ObservationTooOld {
                target,
                oldest: oldest.block_timestamp,
            });
        }
        // oldest <= target < latest: the binary search terminates.
        Ok(self.binary_search(target))
    }

    /// Finds `before <= target <= after` among consecutive ring slots (Uniswap's
    /// `binarySearch`). Precondition: `oldest <= target < latest`.
    fn binary_search(&self, target: u64) -> (Observation, Observation) {
        let card = u32::from(self.cardinality);
        let mut l = (u32::from(self.index) + 1) % card; // oldest
        let mut r = l + card - 1; // newest
        loop {
            let i = (l + r) / 2;
            let before = self.slots[(i % card) as usize];
            if !before.initialized {
                // Grown slots not yet reached by the ring: the true oldest is further on.
                l = i + 1;
                continue;
            }
            let after = self.slots[((i + 1) % card) as usize];
            let target_at_or_after = before.block_timestamp <= target;
            if target_at_or_after && target <= after.block_timestamp {
                return (before, after);
            }
            if !target_at_or_after {
                r = i - 1;
            } else {
                l = i + 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const M: i32 = 50;

    fn cum(tc: i64, spl: U256) -> Cumulative {
        Cumulative {
            tick_cumulative: tc,
            seconds_per_liquidity_cumulative_x128: spl,
        }
    }

    fn q128() -> U256 {
        U256::from(1u8) << 128
    }

    #[test]
    fn truncation_clamps_both_ways() {
        assert_eq!(truncate_tick(1000, 0, 50), 50);
        assert_eq!(truncate_tick(-1000, 0, 50), -50);
        assert_eq!(truncate_tick(30, 0, 50), 30);
        assert_eq!(truncate_tick(-887_272, 887_272, 9116), 887_272 - 9116);
        assert_eq!(truncate_tick(i32::MIN, i32::MAX, 1), i32::MAX - 1);
    }

    #[test]
    fn initialize_sets_first_observation() {
        let b = ObservationBuffer::initialize(100, 7);
        assert_eq!(b.cardinality(), 1);
        assert_eq!(b.cardinality_next(), 1);
        assert_eq!(b.index(), 0);
        let o = b.latest().unwrap();
        assert_eq!(
            *o,
            Observation {
                block_timestamp: 100,
                tick: 7,
                tick_cumulative: 0,
                seconds_per_liquidity_cumulative_x128: U256::ZERO,
                initialized: true
            }
        );
    }

    #[test]
    fn uninitialized_buffer_errors() {
        let b = ObservationBuffer::default();
        assert_eq!(b.latest(), Err(OracleError::NotInitialized));
        assert_eq!(
            b.observe(10, &[0], 0, 0, M),
            Err(OracleError::NotInitialized)
        );
        let mut b = b;
        assert_eq!(b.grow(5), Err(OracleError::NotInitialized));
        assert_eq!(b.write(10, 0, 0, M), Err(OracleError::NotInitialized));
    }

    #[test]
    fn one_write_per_timestamp() {
        let mut b = ObservationBuffer::initialize(0, 0);
        b.grow(4).unwrap();
        assert!(b.write(10, 20, 5, M).unwrap());
        // Same timestamp: nothing written, even with a different tick.
        assert!(!b.write(10, 40, 5, M).unwrap());
        assert_eq!(b.index(), 1);
        assert_eq!(b.latest().unwrap().tick, 20);
        assert_eq!(b.latest().unwrap().tick_cumulative, 200);
    }

    #[test]
    fn write_accumulates_truncated_tick_and_spl() {
        let mut b = ObservationBuffer::initialize(5, 0);
        b.grow(3).unwrap();
        // Tick 1000 requested, truncated to 50, over 10 s with liquidity 4.
        b.write(15, 1000, 4, M).unwrap();
        let o = *b.latest().unwrap();
        assert_eq!(o.tick, 50);
        assert_eq!(o.tick_cumulative, 500);
        assert_eq!(
            o.seconds_per_liquidity_cumulative_x128,
            (U256::from(10u8) << 128) / U256::from(4u8)
        );
        // Zero liquidity counts as 1.
        b.write(17, 1000, 0, M).unwrap();
        let o2 = *b.latest().unwrap();
        assert_eq!(o2.tick, 100);
        assert_eq!(o2.tick_cumulative, 700);
        assert_eq!(
            o2.seconds_per_liquidity_cumulative_x128,
            o.seconds_per_liquidity_cumulative_x128 + (U256::from(2u8) << 128)
        );
    }

    #[test]
    fn time_going_backwards_is_an_error() {
        let mut b = ObservationBuffer::initialize(100, 0);
        assert_eq!(
            b.write(99, 0, 0, M),
            Err(OracleError::TimeWentBackwards {
                now: 99,
                latest: 100
            })
        );
        assert_eq!(
            b.observe(99, &[0], 0, 0, M),
            Err(OracleError::TimeWentBackwards {
                now: 99,
                latest: 100
            })
        );
    }

    #[test]
    fn grow_is_bounded_and_never_shrinks() {
        let mut b = ObservationBuffer::initialize(0, 0);
        assert_eq!(b.grow(10).unwrap(), 10);
        assert_eq!(b.grow(3).unwrap(), 10);
        assert_eq!(b.cardinality(), 1);
        assert_eq!(
            b.grow(65_536),
            Err(OracleError::CardinalityTooLarge { requested: 65_536 })
        );
        assert_eq!(b.grow(65_535).unwrap(), 65_535);
        assert!(b.slot(65_534).is_some());
        assert!(b.slot(65_535).is_none());
    }

    #[test]
    fn ring_wraps_around_and_overwrites_oldest() {
        let mut b = ObservationBuffer::initialize(0, 0);
        b.grow(3).unwrap();
        for t in 1..=3u64 {
            b.write(t * 10, 0, 1, M).unwrap();
        }
        // Writes went to slots 1, 2, then wrapped to 0.
        assert_eq!(b.cardinality(), 3);
        assert_eq!(b.index(), 0);
        assert_eq!(b.latest().unwrap().block_timestamp, 30);
        assert_eq!(b.oldest().unwrap().block_timestamp, 10);
        b.write(40, 0, 1, M).unwrap();
        assert_eq!(b.index(), 1);
        assert_eq!(b.oldest().unwrap().block_timestamp, 20);
        // Observing before the oldest kept observation is too old.
        assert_eq!(
            b.observe(40, &[21], 0, 1, M),
            Err(OracleError::ObservationTooOld {
                target: 19,
                oldest: 20
            })
        );
        assert!(b.observe(40, &[20], 0, 1, M).is_ok());
    }

    #[test]
    fn growth_takes_effect_only_at_wrap_point() {
        let mut b = ObservationBuffer::initialize(0, 0);
        b.grow(2).unwrap();
        b.write(1, 0, 1, M).unwrap(); // slot 1, cardinality 2
        b.write(2, 0, 1, M).unwrap(); // wraps to slot 0
        assert_eq!((b.index(), b.cardinality()), (0, 2));
        b.grow(4).unwrap();
        // Index 0 is not the last slot of the ring: cardinality stays 2 for this write.
        b.write(3, 0, 1, M).unwrap();
        assert_eq!((b.index(), b.cardinality()), (1, 2));
        // Now index 1 == cardinality - 1: the ring grows to 4 and the write goes to slot 2.
        b.write(4, 0, 1, M).unwrap();
        assert_eq!((b.index(), b.cardinality()), (2, 4));
        // Slots: 0 = t2, 1 = t3, 2 = t4, 3 = uninitialized. The slot after the index is not
        // written yet, so the oldest is slot 0.
        assert_eq!(b.oldest().unwrap().block_timestamp, 2);
        // The binary search skips the uninitialized slot.
        let got = b.observe(4, &[1, 2, 0], 0, 1, M).unwrap();
        assert_eq!(got.len(), 3);
        b.write(5, 0, 1, M).unwrap();
        assert_eq!((b.index(), b.cardinality()), (3, 4));
        b.write(6, 0, 1, M).unwrap();
        assert_eq!((b.index(), b.cardinality()), (0, 4));
        assert_eq!(b.oldest().unwrap().block_timestamp, 3);
    }

    /// Hand-computed interpolation: observations at t=0 (tick 0), t=10 (tick 10 over (0,10]),
    /// t=30 (tick 20 over (10,30]), liquidity 2 then 4.
    #[test]
    fn observe_interpolates_between_observations() {
        let mut b = ObservationBuffer::initialize(0, 0);
        b.grow(8).unwrap();
        b.write(10, 10, 2, M).unwrap(); // tc = 100, spl = 10/2 = 5 (x2^128)
        b.write(30, 20, 4, M).unwrap(); // tc = 100 + 400 = 500, spl = 5 + 20/4 = 10
        let q = q128();
        let now = 30;
        let got = b.observe(now, &[30, 25, 20, 15, 10, 0], 999, 1, M).unwrap();
        assert_eq!(
            got,
            vec![
                cum(0, U256::ZERO),                             // t=0: first observation
                cum(50, q * U256::from(5u8) / U256::from(2u8)), // t=5: halfway in (0,10]
                cum(100, q * U256::from(5u8)),                  // t=10: exact
                cum(
                    200,
                    q * U256::from(5u8) + q * U256::from(5u8) / U256::from(4u8)
                ), // t=15
                cum(
                    300,
                    q * U256::from(5u8) + q * U256::from(10u8) / U256::from(4u8)
                ), // t=20
                cum(500, q * U256::from(10u8)),                 // t=30: latest
            ]
        );
    }

    #[test]
    fn observe_extrapolates_counterfactually_with_truncation() {
        let mut b = ObservationBuffer::initialize(0, 0);
        b.grow(4).unwrap();
        b.write(10, 10, 1, M).unwrap(); // tc = 100
                                        // Current pool tick 1000 (untruncated), liquidity 2: after t=10 the truncated tick is 60.
        let got = b.observe(20, &[0, 5, 10], 1000, 2, M).unwrap();
        let q = q128();
        assert_eq!(
            got[0],
            cum(100 + 60 * 10, q * U256::from(10u8) + q * U256::from(5u8))
        );
        assert_eq!(
            got[1],
            cum(
                100 + 60 * 5,
                q * U256::from(10u8) + q * U256::from(5u8) / U256::from(2u8)
            )
        );
        assert_eq!(got[2], cum(100, q * U256::from(10u8)));
    }

    #[test]
    fn seconds_ago_before_epoch_is_an_error() {
        let b = ObservationBuffer::initialize(0, 0);
        assert_eq!(
            b.observe(5, &[6], 0, 0, M),
            Err(OracleError::SecondsAgoBeforeEpoch {
                now: 5,
                seconds_ago: 6
            })
        );
    }

    #[test]
    fn single_observation_observes_at_and_after_but_not_before() {
        let b = ObservationBuffer::initialize(100, 3);
        assert_eq!(
            b.observe(100, &[0], 3, 1, M).unwrap()[0],
            cum(0, U256::ZERO)
        );
        assert_eq!(
            b.observe(110, &[10], 3, 1, M).unwrap()[0],
            cum(0, U256::ZERO)
        );
        assert_eq!(
            b.observe(110, &[0], 3, 1, M).unwrap()[0].tick_cumulative,
            30
        );
        assert_eq!(
            b.observe(110, &[11], 3, 1, M),
            Err(OracleError::ObservationTooOld {
                target: 99,
                oldest: 100
            })
        );
    }

    #[test]
    fn negative_interpolation_matches_uniswap_rounding() {
        // Interpolating a negative tick: (tc_after - tc_before) / dt * target_delta.
        let mut b = ObservationBuffer::initialize(0, 0);
        b.grow(4).unwrap();
        b.write(3, -7, 1, M).unwrap(); // tc = -21
        let got = b.observe(3, &[2], 0, 1, M).unwrap();
        assert_eq!(got[0].tick_cumulative, -7);
    }

    /// Reference observe: walk the history of (time, truncated tick in force after it) and
    /// integrate directly.
    fn reference_tick_cumulative(history: &[(u64, i32)], target: u64) -> i64 {
        // history[0] = (t0, tick0); history[k] = (t_k, tick recorded over (t_{k-1}, t_k]).
        let mut tc = 0i64;
        for w in history.windows(2) {
            let (t0, _) = w[0];
            let (t1, tick) = w[1];
            if target <= t0 {
                break;
            }
            let end = target.min(t1);
            tc += i64::from(tick) * (end - t0) as i64;
        }
        tc
    }

    proptest! {
        /// Consecutive observations never differ by more than the bound, whatever the pool
        /// tick does.
        #[test]
        fn observed_tick_moves_at_most_bound(
            m in 1i32..=9116,
            start in -887_272i32..=887_272,
            steps in proptest::collection::vec((1u64..100, -887_272i32..=887_272, any::<u128>()), 1..60),
        ) {
            let mut b = ObservationBuffer::initialize(0, start);
            b.grow(16).unwrap();
            let mut t = 0;
            let mut prev = start;
            for (dt, tick, liq) in steps {
                t += dt;
                b.write(t, tick, liq, m).unwrap();
                let cur = b.latest().unwrap().tick;
                prop_assert!((i64::from(cur) - i64::from(prev)).abs() <= i64::from(m));
                // And it moves toward the pool tick, reaching it when within the bound.
                if (i64::from(tick) - i64::from(prev)).abs() <= i64::from(m) {
                    prop_assert_eq!(cur, tick);
                }
                prev = cur;
            }
        }

        /// observe() equals a direct integration of the recorded ticks at every second in the
        /// kept history, including the counterfactual tail.
        #[test]
        fn observe_matches_direct_integration(
            card in 1u32..8,
            steps in proptest::collection::vec((1u64..20, -2000i32..2000), 1..30),
            tail in 0u64..20,
            pool_tick in -2000i32..2000,
        ) {
            let mut b = ObservationBuffer::initialize(0, 0);
            b.grow(card).unwrap();
            let mut t = 0;
            let mut hist = vec![(0u64, 0i32)];
            for (dt, tick) in steps {
                t += dt;
                b.write(t, tick, 1, M).unwrap();
                hist.push((t, b.latest().unwrap().tick));
            }
            let now = t + tail;
            if tail > 0 {
                let last = hist.last().unwrap().1;
                hist.push((now, truncate_tick(pool_tick, last, M)));
            }
            let oldest = b.oldest().unwrap().block_timestamp;
            for target in oldest..=now {
                let got = b.observe(now, &[(now - target) as u32], pool_tick, 1, M).unwrap();
                prop_assert_eq!(got[0].tick_cumulative, reference_tick_cumulative(&hist, target));
            }
            if oldest > 0 {
                let too_old = b.observe(now, &[(now - oldest + 1) as u32], pool_tick, 1, M);
                prop_assert_eq!(too_old, Err(OracleError::ObservationTooOld { target: oldest - 1, oldest }));
            }
        }
    }
}
