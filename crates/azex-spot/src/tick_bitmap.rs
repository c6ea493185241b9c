//! The tick bitmap (v4's `TickBitmap`, MIT, Uniswap Labs): one bit per usable tick
//! (`tick / tickSpacing`), 256 bits per word, words keyed by `int16` position in a `BTreeMap`
//! (deterministic, only non-empty words stored).

use crate::error::SpotError;
use crate::math::bit_math;
use alloy_primitives::U256;
use std::collections::BTreeMap;

/// `TickBitmap.compress`: `floor(tick / tick_spacing)`.
#[inline]
pub fn compress(tick: i32, tick_spacing: i32) -> i32 {
    tick.div_euclid(tick_spacing)
}

/// `TickBitmap.position`: word index (`compressed >> 8`) and bit index (`compressed & 0xff`).
#[inline]
#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "word = compressed >> 8 fits i16 for ticks in range; bit = low 8 bits"
)]
pub fn position(compressed: i32) -> (i16, u8) {
    ((compressed >> 8) as i16, (compressed & 0xff) as u8)
}

/// Initialized-tick bitmap of one pool.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickBitmap {
    words: BTreeMap<i16, U256>,
}

impl TickBitmap {
    /// An empty bitmap.
    pub fn new() -> Self {
        Self::default()
    }

    /// The 256-bit word at `word_pos` (zero when absent).
    #[inline]
    pub fn word(&self, word_pos: i16) -> U256 {
        self.words.get(&word_pos).copied().unwrap_or(U256::ZERO)
    }

    /// Number of non-zero words stored.
    pub fn word_count(&self) -> usize {
        self.words.len()
    }

    /// Checks `TickBitmap.flipTick`'s precondition: `tick % tick_spacing == 0`, else
    /// `TickMisaligned(tick, tick_spacing)`.
    #[inline]
    pub fn check_aligned(tick: i32, tick_spacing: i32) -> Result<(), SpotError> {
        if tick % tick_spacing != 0 {
            Err(SpotError::TickMisaligned { tick, tick_spacing })
        } else {
            Ok(())
        }
    }

    /// `TickBitmap.flipTick`: toggles the bit of an aligned tick (callers check alignment with
    /// [`check_aligned`](Self::check_aligned) during their compute phase).
    pub fn flip_tick(&mut self, tick: i32, tick_spacing: i32) {
        let (word_pos, bit_pos) = position(tick / tick_spacing);
        let mask = U256::from(1u8) << bit_pos as usize;
        let w = self.words.entry(word_pos).or_insert(U256::ZERO);
        *w ^= mask;
        if w.is_zero() {
            self.words.remove(&word_pos);
        }
    }

    /// Whether an aligned tick's bit is set.
    pub fn is_initialized(&self, tick: i32, tick_spacing: i32) -> bool {
        if tick % tick_spacing != 0 {
            return false;
        }
        let (word_pos, bit_pos) = position(tick / tick_spacing);
        self.word(word_pos).bit(bit_pos as usize)
    }

    /// `TickBitmap.nextInitializedTickWithinOneWord`: the next initialized tick at or left of
    /// `tick` (`lte`) or strictly right of it, searching only the word that contains it; if
    /// none, the word's boundary tick is returned with `initialized = false`. Swaps step to that
    /// boundary, which is why the result is bounded to one word.
    #[inline]
    pub fn next_initialized_tick_within_one_word(
        &self,
        tick: i32,
        tick_spacing: i32,
        lte: bool,
    ) -> (i32, bool) {
        let compressed = compress(tick, tick_spacing);
        if lte {
            let (word_pos, bit_pos) = position(compressed);
            // all the 1s at or to the right of bit_pos
            let mask = U256::MAX >> (255 - bit_pos as usize);
            let masked = self.word(word_pos) & mask;
            match bit_math::most_significant_bit(masked) {
                Some(msb) => ((compressed - i32::from(bit_pos - msb)) * tick_spacing, true),
                None => ((compressed - i32::from(bit_pos)) * tick_spacing, false),
            }
        } else {
            // start from the next tick's word: the current tick's own state does not matter
            let compressed = compressed + 1;
            let (word_pos, bit_pos) = position(compressed);
            // all the 1s at or to the left of bit_pos
            let mask = !((U256::from(1u8) << bit_pos as usize) - U256::from(1u8));
            let masked = self.word(word_pos) & mask;
            match bit_math::least_significant_bit(masked) {
                Some(lsb) => ((compressed + i32::from(lsb - bit_pos)) * tick_spacing, true),
                None => (
                    (compressed + i32::from(255 - bit_pos)) * tick_spacing,
                    false,
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bitmap(ticks: &[i32]) -> TickBitmap {
        let mut b = TickBitmap::new();
        for &t in ticks {
            b.flip_tick(t, 1);
        }
        b
    }

    #[test]
    fn flip_and_query() {
        let mut b = TickBitmap::new();
        assert!(!b.is_initialized(1, 1));
        b.flip_tick(1, 1);
        assert!(b.is_initialized(1, 1));
        b.flip_tick(1, 1);
        assert!(!b.is_initialized(1, 1));
        assert_eq!(b.word_count(), 0);
        b.flip_tick(-230, 1);
        assert!(b.is_initialized(-230, 1));
        assert!(!b.is_initialized(-231, 1));
        assert!(TickBitmap::check_aligned(3, 2).is_err());
    }

    // Cases from Uniswap's TickBitmap tests (ticks -200, -55, -4, 70, 78, 84, 139, 240, 535).
    #[test]
    fn next_within_word() {
        let b = bitmap(&[-200, -55, -4, 70, 78, 84, 139, 240, 535]);
        // lte = false
        assert_eq!(
            b.next_initialized_tick_within_one_word(78, 1, false),
            (84, true)
        );
        assert_eq!(
            b.next_initialized_tick_within_one_word(-55, 1, false),
            (-4, true)
        );
        assert_eq!(
            b.next_initialized_tick_within_one_word(77, 1, false),
            (78, true)
        );
        assert_eq!(
            b.next_initialized_tick_within_one_word(-56, 1, false),
            (-55, true)
        );
        assert_eq!(
            b.next_initialized_tick_within_one_word(255, 1, false),
            (511, false)
        );
        assert_eq!(
            b.next_initialized_tick_within_one_word(-257, 1, false),
            (-200, true)
        );
        assert_eq!(
            b.next_initialized_tick_within_one_word(340, 1, false),
            (511, false)
        );
        assert_eq!(
            b.next_initialized_tick_within_one_word(328, 1, false),
            (511, false)
        );
        // lte = true
        assert_eq!(
            b.next_initialized_tick_within_one_word(78, 1, true),
            (78, true)
        );
        assert_eq!(
            b.next_initialized_tick_within_one_word(79, 1, true),
            (78, true)
        );
        assert_eq!(
            b.next_initialized_tick_within_one_word(258, 1, true),
            (256, false)
        );
        assert_eq!(
            b.next_initialized_tick_within_one_word(256, 1, true),
            (256, false)
        );
        assert_eq!(
            b.next_initialized_tick_within_one_word(72, 1, true),
            (70, true)
        );
        assert_eq!(
            b.next_initialized_tick_within_one_word(-257, 1, true),
            (-512, false)
        );
        assert_eq!(
            b.next_initialized_tick_within_one_word(1023, 1, true),
            (768, false)
        );
        assert_eq!(
            b.next_initialized_tick_within_one_word(900, 1, true),
            (768, false)
        );
    }

    #[test]
    fn compress_floors() {
        assert_eq!(compress(-1, 10), -1);
        assert_eq!(compress(-10, 10), -1);
        assert_eq!(compress(-11, 10), -2);
        assert_eq!(compress(9, 10), 0);
    }
}
