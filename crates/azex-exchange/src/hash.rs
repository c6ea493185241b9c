//! The canonical state hash: SHA-256 over a canonical byte encoding (borsh, whose maps are
//! written in key order) of every part of the state, pools and oracle included. The open
//! positions enter through their incremental digest ([`crate::positions::Positions::digest`]),
//! so the hash after a block costs what the block changed, not the size of the book. Replaying the same
//! transactions from the same genesis gives the same hash on any machine.

use crate::state::State;
use borsh::BorshSerialize;
use sha2::{Digest, Sha256};

struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn put<T: BorshSerialize + ?Sized>(w: &mut HashWriter, tag: &str, v: &T) {
    w.0.update(tag.as_bytes());
    // Writing into a hasher cannot fail.
    let _ = v.serialize(w);
}

fn key_bytes(k: &azex_spot::PoolKey) -> Vec<u8> {
    let mut b = Vec::with_capacity(72);
    b.extend_from_slice(k.currency0.as_slice());
    b.extend_from_slice(k.currency1.as_slice());
    b.extend_from_slice(&k.fee.to_le_bytes());
    b.extend_from_slice(&k.tick_spacing.to_le_bytes());
    b.extend_from_slice(k.hooks.as_slice());
    b
}

impl State {
    /// The canonical hash of the whole state. `State` is destructured field by field, so a new
    /// field cannot be added without deciding here whether it is hashed.
    pub fn hash(&self) -> [u8; 32] {
        let State {
            params,
            block,
            block_open,
            ledger,
            vault,
            funds,
            wallets,
            lps,
            markets,
            market_params,
            // Derived from `markets` (each market's base token): hashed through them.
            market_by_token: _,
            positions,
            next_position_id,
            spot: _, // hashed below, pool by pool, then the oracle hook
            event_seq,
            external_supply,
            // Reusable buffers, not state.
            scratch: _,
        } = self;
        let mut w = HashWriter(Sha256::new());
        put(&mut w, "params", params);
        put(&mut w, "block", block);
        put(&mut w, "open", block_open);
        put(&mut w, "ledger", ledger);
        put(&mut w, "vault", vault);
        put(&mut w, "funds", funds);
        put(&mut w, "wallets", wallets);
        put(&mut w, "lps", lps);
        for m in markets {
            put(&mut w, "market", m);
            w.0.update(key_bytes(&m.pool_key));
        }
        put(&mut w, "market_params", market_params);
        // The book by its incremental digest (`Positions::digest`: buckets of 64 ids).
        w.0.update(b"positions");
        w.0.update(positions.digest());
        put(&mut w, "next_position", next_position_id);
        put(&mut w, "events", event_seq);
        put(&mut w, "external", external_supply);
        // Pools: every field that defines them, in key order.
        for key in self.spot.pool_keys() {
            w.0.update(b"pool");
            w.0.update(key_bytes(key));
            if let Ok(e) = self.spot.pool_entry(key) {
                let s = e.pool.slot0();
                w.0.update(s.sqrt_price_x96.to_le_bytes::<32>());
                w.0.update(s.tick.to_le_bytes());
                w.0.update(s.protocol_fee.to_le_bytes());
                w.0.update(s.lp_fee.to_le_bytes());
                w.0.update(e.pool.liquidity().to_le_bytes());
                let (g0, g1) = e.pool.fee_growth_globals();
                w.0.update(g0.to_le_bytes::<32>());
                w.0.update(g1.to_le_bytes::<32>());
                w.0.update(e.balance0.to_le_bytes::<32>());
                w.0.update(e.balance1.to_le_bytes::<32>());
                for (t, info) in e.pool.ticks() {
                    w.0.update(t.to_le_bytes());
                    w.0.update(info.liquidity_gross.to_le_bytes());
                    w.0.update(info.liquidity_net.to_le_bytes());
                    w.0.update(info.fee_growth_outside0_x128.to_le_bytes::<32>());
                    w.0.update(info.fee_growth_outside1_x128.to_le_bytes::<32>());
                }
                for (k, p) in e.pool.positions() {
                    w.0.update(k.owner.as_slice());
                    w.0.update(k.tick_lower.to_le_bytes());
                    w.0.update(k.tick_upper.to_le_bytes());
                    w.0.update(k.salt);
                    w.0.update(p.liquidity.to_le_bytes());
                    w.0.update(p.fee_growth_inside0_last_x128.to_le_bytes::<32>());
                    w.0.update(p.fee_growth_inside1_last_x128.to_le_bytes::<32>());
                }
            }
        }
        put(&mut w, "oracle", self.spot.hook());
        w.0.finalize().into()
    }

    /// The hash as lowercase hex.
    pub fn hash_hex(&self) -> String {
        self.hash().iter().map(|b| format!("{b:02x}")).collect()
    }
}
