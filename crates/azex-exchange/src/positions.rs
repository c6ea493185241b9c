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
//!
//! The state hash reads the book through [`Positions::digest`], which is incremental: ids are
//! grouped in buckets of [`BUCKET_IDS`] consecutive ids, each bucket's SHA-256 is kept, and an
//! insert or remove only marks its bucket dirty. A block that touches `k` positions re-hashes at
//! most `k` buckets (64 positions each) plus one 40-byte line per non-empty bucket, instead of the
//! whole book (0.31 s per block at 1M positions before).

use crate::ids::PositionId;
use crate::state::Position;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
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

/// Ids per digest bucket: bucket `b` holds ids `b × 64 ..= b × 64 + 63`.
pub const BUCKET_IDS: u64 = 64;

/// A 32-byte SHA-256 digest.
type Hash32 = [u8; 32];

/// Open positions by id.
#[derive(Clone, Default)]
pub struct Positions {
    index: Index,
    slots: Vec<Position>,
    free: Vec<u32>,
    /// Digest of every non-empty bucket that is not dirty (cache; not state).
    digests: BTreeMap<u64, Hash32>,
    /// Buckets changed since the last [`Positions::refresh_digests`] (may repeat; cache; not state).
    dirty: Vec<u64>,
}

fn bucket_of(id: PositionId) -> u64 {
    id / BUCKET_IDS
}

impl Positions {
    /// An empty book.
    pub fn new() -> Self {
        Self::default()
    }
    /// Number of open positions.
    pub fn len(&self) -> usize {
        self.index.len()
    }
    /// Whether no position is open.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
    /// The position `id`, if it is open (O(1): one hash lookup and one slot read).
    #[inline]
    pub fn get(&self, id: &PositionId) -> Option<&Position> {
        self.index.get(id).map(|&s| &self.slots[s as usize])
    }
    /// Whether the position `id` is open.
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
        self.mark_dirty(id);
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
        self.mark_dirty(*id);
        self.free.push(slot);
        let p = self.slots[slot as usize];
        if self.free.len() > COMPACT_MIN_FREE && self.free.len() > 3 * self.index.len() {
            self.compact();
        }
        Some(p)
    }

    /// Note that `id`'s bucket must be re-hashed. Consecutive changes to one bucket (a block's
    /// new positions) are recorded once; the list is deduplicated when it outgrows the book.
    #[inline]
    fn mark_dirty(&mut self, id: PositionId) {
        let b = bucket_of(id);
        if self.dirty.last() != Some(&b) {
            self.dirty.push(b);
            if self.dirty.len() > 64 + 2 * self.index.len() {
                self.dirty.sort_unstable();
                self.dirty.dedup();
            }
        }
    }

    /// SHA-256 of one bucket: `borsh(id) ‖ borsh(position)` for its positions in id order;
    /// `None` when the bucket is empty.
    fn bucket_digest(&self, b: u64) -> Option<Hash32> {
        let mut h = Sha256::new();
        let mut any = false;
        let first = b.saturating_mul(BUCKET_IDS);
        for id in first..first.saturating_add(BUCKET_IDS) {
            if let Some(p) = self.get(&id) {
                any = true;
                let mut w = HashInto(&mut h);
                // Writing into a hasher cannot fail.
                let _ = borsh::BorshSerialize::serialize(&id, &mut w);
                let _ = borsh::BorshSerialize::serialize(p, &mut w);
            }
        }
        any.then(|| h.finalize().into())
    }

    /// The dirty buckets, sorted and without repeats.
    fn dirty_sorted(&self) -> Vec<u64> {
        let mut d = self.dirty.clone();
        d.sort_unstable();
        d.dedup();
        d
    }

    /// Re-hash the dirty buckets into the cache. Changes nothing observable; makes the next
    /// [`Positions::digest`] cost one line per bucket. The engine calls it at the end of each
    /// block.
    pub fn refresh_digests(&mut self) {
        for b in self.dirty_sorted() {
            match self.bucket_digest(b) {
                Some(d) => self.digests.insert(b, d),
                None => self.digests.remove(&b),
            };
        }
        self.dirty.clear();
    }

    /// The book's canonical digest: SHA-256 over `u32 count ‖ (u64 bucket ‖ bucket digest)` for
    /// every non-empty bucket in order (little-endian). Dirty buckets are hashed afresh (without
    /// storing them: `&self`), clean ones read from the cache.
    pub fn digest(&self) -> Hash32 {
        let mut h = Sha256::new();
        // A count above u32::MAX cannot be reached (slots are u32-indexed).
        h.update(u32::try_from(self.len()).unwrap_or(u32::MAX).to_le_bytes());
        let mut line = |b: &u64, d: &Hash32| {
            h.update(b.to_le_bytes());
            h.update(d);
        };
        if self.dirty.is_empty() {
            self.digests.iter().for_each(|(b, d)| line(b, d));
        } else {
            let mut all = self.digests.clone();
            for b in self.dirty_sorted() {
                match self.bucket_digest(b) {
                    Some(d) => all.insert(b, d),
                    None => all.remove(&b),
                };
            }
            all.iter().for_each(|(b, d)| line(b, d));
        }
        h.finalize().into()
    }

    /// Give back the memory of a book that shrank: move the live positions to a fresh slab (in
    /// id order) once more than three quarters of the slots are free. Amortised O(1) per
    /// removal; changes nothing observable.
    fn compact(&mut self) {
        let order = self.sorted();
        let mut slots = Vec::with_capacity(order.len());
        for (i, (id, s)) in order.into_iter().enumerate() {
            slots.push(self.slots[s as usize]);
            // i < old slot count ≤ u32::MAX + 1 (slots are u32-indexed)
            self.index.insert(id, u32::try_from(i).unwrap_or(u32::MAX));
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

/// Lets borsh write straight into a SHA-256.
struct HashInto<'a>(&'a mut Sha256);

impl std::io::Write for HashInto<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
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

    /// The digest written from its definition, over a plain map (no cache, no buckets kept).
    fn digest_by_definition(b: &BTreeMap<PositionId, Position>) -> Hash32 {
        let mut buckets: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
        for (id, p) in b {
            let bytes = buckets.entry(id / 64).or_default();
            bytes.extend(borsh::to_vec(id).unwrap());
            bytes.extend(borsh::to_vec(p).unwrap());
        }
        let mut h = Sha256::new();
        h.update((b.len() as u32).to_le_bytes());
        for (k, bytes) in buckets {
            h.update(k.to_le_bytes());
            h.update(Sha256::digest(&bytes));
        }
        h.finalize().into()
    }

    proptest! {
        /// The incremental digest equals the digest computed from its definition after any
        /// sequence of inserts, removes and cache refreshes, whether or not the cache is fresh.
        #[test]
        fn incremental_digest_matches_its_definition(
            ops in proptest::collection::vec((0u8..3, 0u64..300, any::<u128>()), 0..300),
        ) {
            let mut a = Positions::new();
            let mut b: BTreeMap<PositionId, Position> = BTreeMap::new();
            for (op, id, m) in ops {
                match op {
                    0 => { a.insert(id, pos(id, m)); b.insert(id, pos(id, m)); }
                    1 => { a.remove(&id); b.remove(&id); }
                    _ => a.refresh_digests(),
                }
                prop_assert_eq!(a.digest(), digest_by_definition(&b));
            }
            a.refresh_digests();
            prop_assert!(a.dirty.is_empty());
            prop_assert_eq!(a.digest(), digest_by_definition(&b));
        }
    }

    #[test]
    fn every_field_of_every_position_moves_the_digest() {
        let mut a = Positions::new();
        for id in 0..200u64 {
            a.insert(id, pos(id, 7));
        }
        a.refresh_digests();
        let before = a.digest();
        for id in [0u64, 63, 64, 199] {
            let mut p = pos(id, 7);
            p.funding_debt = 1;
            a.insert(id, p);
            assert_ne!(a.digest(), before, "position {id}");
            a.refresh_digests();
            assert_ne!(a.digest(), before, "position {id}, cached");
            a.insert(id, pos(id, 7));
            a.refresh_digests();
            assert_eq!(a.digest(), before);
        }
        a.remove(&5);
        assert_ne!(a.digest(), before);
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
