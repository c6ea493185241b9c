//! The open positions: a slab of [`Position`]s with a hash index by id.
//!
//! A `BTreeMap<PositionId, Position>` keeps 192-byte values inside its nodes: every lookup in a
//! big book walks several cache-cold nodes full of position data, and every insert or remove
//! shifts, splits or merges nodes by copying whole positions. Here the index maps `id → slot`
//! through a hash table with a fixed, seedless hash (one or two cache lines per lookup, O(1)
//! insert and remove), and the positions sit in a `Vec` whose freed slots are reused in LIFO
//! order; when the book shrinks to a quarter of its slots they are compacted (memory given back).
//!
//! Determinism: the table is never iterated in its own order. Everything observable is in id
//! order, exactly as the map gave it — iteration sorts the ids first (O(n log n), for the rare
//! whole-book reads: the canonical hash, invariant checks, a keeper's index rebuild), and the
//! canonical bytes are those of a `BTreeMap<PositionId, Position>`. Slot layout and table
//! layout never leak into the hash or any result.

use crate::ids::PositionId;
use crate::state::Position;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A seedless hasher for sequential ids. The table picks a start bucket from the hash's low bits
/// and a 7-bit tag from its top bits. Ids are taken in blocks of 16: a block is placed at a
/// Fibonacci-scattered position and its ids in consecutive buckets there, so the newest
/// positions (the busiest) share a few cache lines, while consecutive blocks land far apart (an
/// identity-like hash would lay a long book out as one dense run of full buckets, and every id
/// whose home falls inside such a run would probe a long way). Tags mix the whole id. Ids are
/// assigned by the protocol, so no one can choose keys that collide.
#[derive(Default, Clone, Copy)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    #[inline]
    fn write_u64(&mut self, x: u64) {
        const LOW: u64 = (1 << 57) - 1;
        let x = self.0 ^ x;
        let block = (x >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 7; // 57 scattered bits
        let tag = x.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
        self.0 = (tag & !LOW) | (block & LOW & !0xF) | (x & 0xF);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

type Index = HashMap<PositionId, u32, BuildHasherDefault<IdHasher>>;

/// Compaction only pays off for big books: below this many free slots it never runs.
const COMPACT_MIN_FREE: usize = 1024;

/// Open positions by id.
#[derive(Clone, Default)]
pub struct Positions {
    index: Index,
    slots: Vec<Position>,
    free: Vec<u32>,
}

impl Positions {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn len(&self) -> usize {
        self.index.len()
    }
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
    #[inline]
    pub fn get(&self, id: &PositionId) -> Option<&Position> {
        self.index.get(id).map(|&s| &self.slots[s as usize])
    }
    pub fn contains_key(&self, id: &PositionId) -> bool {
        self.index.contains_key(id)
    }
    /// Insert or replace the position `id`. Returns the previous one.
    ///
    /// # Panics
    /// If more than `u32::MAX` positions are open at once (far beyond any memory this runs in).
    #[inline]
    pub fn insert(&mut self, id: PositionId, p: Position) -> Option<Position> {
        use std::collections::hash_map::Entry;
        match self.index.entry(id) {
            Entry::Occupied(e) => Some(std::mem::replace(&mut self.slots[*e.get() as usize], p)),
            Entry::Vacant(e) => {
                let slot = match self.free.pop() {
                    Some(s) => {
                        self.slots[s as usize] = p;
                        s
                    }
                    None => {
                        let s = u32::try_from(self.slots.len()).expect("< 2^32 open positions");
                        self.slots.push(p);
                        s
                    }
                };
                e.insert(slot);
                None
            }
        }
    }
    /// Remove the position `id`. Returns it.
    #[inline]
    pub fn remove(&mut self, id: &PositionId) -> Option<Position> {
        let slot = self.index.remove(id)?;
        self.free.push(slot);
        let p = self.slots[slot as usize];
        if self.free.len() > COMPACT_MIN_FREE && self.free.len() > 3 * self.index.len() {
            self.compact();
        }
        Some(p)
    }

    /// Give back the memory of a book that shrank: move the live positions to a fresh slab (in
    /// id order) once more than three quarters of the slots are free. Amortised O(1) per
    /// removal; changes nothing observable.
    fn compact(&mut self) {
        let order = self.sorted();
        let mut slots = Vec::with_capacity(order.len());
        for (i, (id, s)) in order.into_iter().enumerate() {
            slots.push(self.slots[s as usize]);
            // i < old slot count ≤ u32::MAX
            self.index.insert(id, i as u32);
        }
        self.slots = slots;
        self.free = Vec::new();
        self.index.shrink_to_fit();
    }
    /// `(id, slot)` sorted by id.
    fn sorted(&self) -> Vec<(PositionId, u32)> {
        let mut v: Vec<(PositionId, u32)> = self.index.iter().map(|(k, s)| (*k, *s)).collect();
        v.sort_unstable_by_key(|e| e.0);
        v
    }
    /// Positions in id order (sorts the ids: O(n log n)).
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Position> + '_ {
        self.sorted()
            .into_iter()
            .map(|(_, s)| &self.slots[s as usize])
    }
    /// Ids in order (sorts them: O(n log n)).
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = PositionId> + '_ {
        self.sorted().into_iter().map(|(k, _)| k)
    }
    /// `(id, position)` in id order (sorts the ids: O(n log n)).
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (PositionId, &Position)> + '_ {
        self.sorted()
            .into_iter()
            .map(|(k, s)| (k, &self.slots[s as usize]))
    }
}

impl std::fmt::Debug for Positions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// The same canonical bytes as a `BTreeMap<PositionId, Position>` (borsh: `u32` length, then the
/// entries in key order), so the state hash does not depend on the storage layout.
impl borsh::BorshSerialize for Positions {
    fn serialize<W: std::io::Write>(&self, w: &mut W) -> std::io::Result<()> {
        let n = u32::try_from(self.len()).map_err(|_| std::io::ErrorKind::InvalidData)?;
        n.serialize(w)?;
        for (k, p) in self.iter() {
            k.serialize(w)?;
            p.serialize(w)?;
        }
        Ok(())
    }
}

impl PartialEq for Positions {
    fn eq(&self, o: &Self) -> bool {
        self.len() == o.len() && self.iter().eq(o.iter())
    }
}
impl Eq for Positions {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn pos(id: u64, margin: u128) -> Position {
        Position {
            id,
            owner: alloy_primitives::Address::ZERO,
            market: 0,
            qty: 1,
            cost: 1,
            margin,
            funding_entry: 0,
            adl_a_entry: alloy_primitives::U256::ZERO,
            adl_b_entry: alloy_primitives::U256::ZERO,
            opened_at: 0,
            updated_at: 0,
            liquidation_started_at: 0,
            funding_debt: 0,
            last_liquidation_block: 0,
        }
    }

    proptest! {
        /// Any sequence of inserts and removes behaves exactly like a `BTreeMap`: same lookups,
        /// same order, same canonical bytes.
        #[test]
        fn behaves_like_a_btreemap(ops in proptest::collection::vec((any::<bool>(), 0u64..64, any::<u128>()), 0..400)) {
            let mut a = Positions::new();
            let mut b: BTreeMap<PositionId, Position> = BTreeMap::new();
            for (ins, id, m) in ops {
                if ins {
                    prop_assert_eq!(a.insert(id, pos(id, m)), b.insert(id, pos(id, m)));
                } else {
                    prop_assert_eq!(a.remove(&id), b.remove(&id));
                }
                prop_assert_eq!(a.len(), b.len());
                prop_assert_eq!(a.get(&id), b.get(&id));
            }
            prop_assert!(a.iter().eq(b.iter().map(|(k, p)| (*k, p))));
            prop_assert!(a.keys().eq(b.keys().copied()));
            prop_assert!(a.values().rev().eq(b.values().rev()));
            prop_assert_eq!(borsh::to_vec(&a).unwrap(), borsh::to_vec(&b).unwrap());
            // Slots are reused: never more slots than the peak number of open positions ≤ 64.
            prop_assert!(a.slots.len() <= 64);
        }
    }

    #[test]
    fn a_shrinking_book_gives_memory_back() {
        let mut a = Positions::new();
        for id in 0..10_000u64 {
            a.insert(id, pos(id, u128::from(id)));
        }
        for id in (0..10_000u64).filter(|id| id % 10 != 0) {
            assert_eq!(a.remove(&id).map(|p| p.margin), Some(u128::from(id)));
        }
        assert_eq!(a.len(), 1_000);
        assert!(a.slots.len() < 4_000, "compacted: {} slots", a.slots.len());
        assert!(a.values().map(|p| p.id).eq((0..10_000u64).step_by(10)));
        for id in (0..10_000u64).step_by(10) {
            assert_eq!(a.get(&id).map(|p| p.margin), Some(u128::from(id)));
        }
    }
}
