//! The open positions: a slab of [`Position`]s with an ordered index by id.
//!
//! A `BTreeMap<PositionId, Position>` keeps 192-byte values inside its nodes, so every lookup in
//! a big book walks cache-cold nodes full of position data, and every insert or remove shifts and
//! splits nodes by copying whole positions. Here the ordered index holds only `id → slot`
//! (12 bytes an entry, ~16x denser nodes) and the positions sit in a `Vec` whose freed slots are
//! reused in LIFO order. Everything observable is in id order (iteration, the canonical bytes),
//! exactly as the map gave it: the slot layout is an implementation detail and never leaks into
//! the hash or any result.

use crate::ids::PositionId;
use crate::state::Position;
use std::collections::BTreeMap;

/// Open positions by id.
#[derive(Clone, Default)]
pub struct Positions {
    index: BTreeMap<PositionId, u32>,
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
    pub fn insert(&mut self, id: PositionId, p: Position) -> Option<Position> {
        use std::collections::btree_map::Entry;
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
    pub fn remove(&mut self, id: &PositionId) -> Option<Position> {
        let slot = self.index.remove(id)?;
        self.free.push(slot);
        Some(self.slots[slot as usize])
    }
    /// Positions in id order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Position> + '_ {
        self.index.values().map(|&s| &self.slots[s as usize])
    }
    /// Ids in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &PositionId> + '_ {
        self.index.keys()
    }
    /// `(id, position)` in id order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&PositionId, &Position)> + '_ {
        self.index
            .iter()
            .map(|(k, &s)| (k, &self.slots[s as usize]))
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
            prop_assert!(a.iter().eq(b.iter()));
            prop_assert!(a.values().rev().eq(b.values().rev()));
            prop_assert_eq!(borsh::to_vec(&a).unwrap(), borsh::to_vec(&b).unwrap());
            // Slots are reused: never more slots than the peak number of open positions ≤ 64.
            prop_assert!(a.slots.len() <= 64);
        }
    }
}
