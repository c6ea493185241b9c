//! Token balances by `(owner, token)`.
//!
//! An ordered map (not a hash table: owners choose their addresses, so a table keyed by them
//! could be flooded with colliding keys). The key is stored as a big-endian 320-bit integer in
//! three machine words, which orders exactly like the 40 bytes `owner ‖ token` (so iteration
//! order and the canonical bytes are those of a `BTreeMap<(Address, Address), u128>`), but
//! compares with three integer comparisons instead of two 20-byte `memcmp` calls per tree node.

use alloy_primitives::Address;
use std::collections::BTreeMap;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Key(u128, u128, u64);

impl Key {
    fn new(owner: &Address, token: &Address) -> Self {
        let mut b = [0u8; 40];
        b[..20].copy_from_slice(owner.as_slice());
        b[20..].copy_from_slice(token.as_slice());
        let w = |r: std::ops::Range<usize>| {
            let mut x = [0u8; 16];
            x[16 - r.len()..].copy_from_slice(&b[r]);
            u128::from_be_bytes(x)
        };
        Key(w(0..16), w(16..32), w(32..40) as u64)
    }
    fn parts(&self) -> (Address, Address) {
        let mut b = [0u8; 40];
        b[..16].copy_from_slice(&self.0.to_be_bytes());
        b[16..32].copy_from_slice(&self.1.to_be_bytes());
        b[32..].copy_from_slice(&self.2.to_be_bytes());
        (Address::from_slice(&b[..20]), Address::from_slice(&b[20..]))
    }
}

/// Balances by `(owner, token)`; a zero balance is not stored.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Wallets(BTreeMap<Key, u128>);

impl Wallets {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    #[inline]
    pub fn get(&self, owner: Address, token: Address) -> u128 {
        self.0.get(&Key::new(&owner, &token)).copied().unwrap_or(0)
    }
    /// Set a balance (zero removes the entry).
    #[inline]
    pub fn set(&mut self, owner: Address, token: Address, v: u128) {
        let k = Key::new(&owner, &token);
        if v == 0 {
            self.0.remove(&k);
        } else {
            self.0.insert(k, v);
        }
    }
    /// `((owner, token), balance)` in `(owner, token)` order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = ((Address, Address), u128)> + '_ {
        self.0.iter().map(|(k, v)| (k.parts(), *v))
    }
}

impl std::fmt::Debug for Wallets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// The same canonical bytes as a `BTreeMap<(Address, Address), u128>`.
impl borsh::BorshSerialize for Wallets {
    fn serialize<W: std::io::Write>(&self, w: &mut W) -> std::io::Result<()> {
        let n = u32::try_from(self.len()).map_err(|_| std::io::ErrorKind::InvalidData)?;
        n.serialize(w)?;
        for ((o, t), v) in self.iter() {
            w.write_all(o.as_slice())?;
            w.write_all(t.as_slice())?;
            v.serialize(w)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn a(x: u64) -> Address {
        // spread the value over the first and last bytes so both halves of the key matter
        let mut b = [0u8; 20];
        b[0] = (x % 3) as u8;
        b[12..].copy_from_slice(&x.to_be_bytes());
        Address::from(b)
    }

    proptest! {
        /// Same balances, same order and same canonical bytes as the plain map.
        #[test]
        fn behaves_like_a_btreemap(ops in proptest::collection::vec((0u64..12, 0u64..4, 0u128..3), 0..300)) {
            let mut w = Wallets::new();
            let mut m: BTreeMap<(Address, Address), u128> = BTreeMap::new();
            for (o, t, v) in ops {
                let (o, t) = (a(o), a(t * 1_000_003));
                w.set(o, t, v);
                if v == 0 { m.remove(&(o, t)); } else { m.insert((o, t), v); }
                prop_assert_eq!(w.get(o, t), m.get(&(o, t)).copied().unwrap_or(0));
            }
            prop_assert!(w.iter().eq(m.iter().map(|(k, v)| (*k, *v))));
            prop_assert_eq!(borsh::to_vec(&w).unwrap(), borsh::to_vec(&m).unwrap());
        }
    }

    #[test]
    fn key_round_trips() {
        let o = Address::from([0xabu8; 20]);
        let t = Address::from([0x01u8; 20]);
        assert_eq!(Key::new(&o, &t).parts(), (o, t));
    }
}
