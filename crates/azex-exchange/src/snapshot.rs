//! State snapshots: [`State::encode`] and [`State::decode`], a versioned, checksummed byte image
//! of the whole state from which the node restarts without replaying its log from genesis.
//!
//! # Format (version 1)
//!
//! ```text
//! magic        8 bytes   "AZEXSNAP"
//! version      u32 LE    1
//! height       u64 LE    the state's block height (for listings; the payload has it too)
//! state hash   32 bytes  State::hash() of the encoded state
//! payload len  u64 LE
//! payload      borsh, field by field (below)
//! checksum     32 bytes  SHA-256 of everything before it
//! ```
//!
//! The payload is the canonical borsh bytes of each field of [`State`] in declaration order
//! (maps as a `u32` count and their entries in key order, exactly as the state hash reads them),
//! with each market followed by its pool key (which the hash reads separately too), and the pool
//! manager with its oracle hook in the spot crate's encoding.
//!
//! # Derived data
//!
//! * **Rebuilt on decoding, not stored**: `market_by_token` (from the markets), the position
//!   index (slab and hash table, from the id-ordered positions), each pool's tick bitmap and
//!   per-tick liquidity cap (from its ticks and tick spacing), pool ids (from the keys), the
//!   transaction scratch buffers (empty).
//! * **Stored and verified**: the per-market caches that are part of the hashed `Market`
//!   (`risk`, `premium_wad`, `clamp_u_wad`): the decoded state's [`State::hash`] must equal the
//!   hash in the header, which also checks every other field.
//!
//! # Hostile bytes
//!
//! Decoding never panics and never allocates more than a small multiple of its input: the
//! checksum is checked first; every count prefix is bounded by the input that remains (each entry
//! takes at least one byte, and nothing is preallocated beyond what the remaining input could
//! hold); map keys must be strictly increasing (one encoding per state); ids, market references,
//! parameters, pool shapes and the oracle rings are checked; trailing bytes are refused; and
//! finally the state hash must match. A snapshot that passes is the state that was encoded.

use crate::ids::{MarketId, PositionId};
use crate::params::{GlobalParams, MarketParams};
use crate::state::{
    BlockCtx, Ledger, LpAccount, Market, Position, ProtocolFunds, Spot, State, Vault,
};
use alloy_primitives::Address;
use azex_spot::PoolKey;
use borsh::{BorshDeserialize, BorshSerialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The first bytes of every snapshot.
pub const MAGIC: [u8; 8] = *b"AZEXSNAP";
/// The format version written by [`State::encode`] and the only one [`State::decode`] reads.
pub const VERSION: u32 = 1;
/// Bytes before the payload: magic, version, height, state hash, payload length.
pub const HEADER_LEN: usize = 8 + 4 + 8 + 32 + 8;
/// Bytes after the payload: the SHA-256 checksum.
pub const TRAILER_LEN: usize = 32;

/// Why a snapshot could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// The first 8 bytes are not [`MAGIC`].
    #[error("not a snapshot (bad magic)")]
    BadMagic,
    /// The header's format version (the field) is not [`VERSION`].
    #[error("snapshot format version {0} (this build reads version {VERSION})")]
    UnsupportedVersion(u32),
    /// The input ends before the header, the announced payload and checksum, or a value
    /// inside the payload does; the string says where.
    #[error("snapshot truncated: {0}")]
    Truncated(String),
    /// The trailing SHA-256 does not match the bytes before it.
    #[error("snapshot checksum mismatch (corrupt)")]
    Checksum,
    /// The payload does not decode to a valid state (bad borsh, keys out of order, ids or
    /// references that do not check, bytes after the checksum or the payload, a header height
    /// different from the state's, …); the string says what.
    #[error("malformed snapshot: {0}")]
    Malformed(String),
    /// The decoded state's [`State::hash`] differs from the hash in the header.
    #[error("snapshot state hash mismatch: header {header}, decoded state {decoded}")]
    HashMismatch {
        /// The state hash the header holds, lowercase hex.
        header: String,
        /// The hash of the state decoded from the payload, lowercase hex.
        decoded: String,
    },
    /// Encoding: a collection (named by the field) has more than `u32::MAX` entries, beyond
    /// the format's count prefix.
    #[error("state too large to encode: {0}")]
    TooLarge(&'static str),
}

/// What the header of a snapshot says (read without decoding the state; checksum checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotInfo {
    /// Format version (always [`VERSION`] for a header that is read).
    pub version: u32,
    /// Block height of the encoded state.
    pub height: u64,
    /// [`State::hash`] of the encoded state, as the header states it.
    pub state_hash: [u8; 32],
    /// Length of the borsh payload in bytes.
    pub payload_len: u64,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn malformed(e: impl std::fmt::Display) -> SnapshotError {
    SnapshotError::Malformed(e.to_string())
}

fn count(n: usize, what: &'static str) -> Result<u32, SnapshotError> {
    u32::try_from(n).map_err(|_| SnapshotError::TooLarge(what))
}

/// Every `(key, value)` of a map in key order, as a `u32` count then the entries.
fn write_map<K: BorshSerialize, V: BorshSerialize>(
    out: &mut Vec<u8>,
    m: &BTreeMap<K, V>,
    what: &'static str,
) -> Result<(), SnapshotError> {
    put(out, &count(m.len(), what)?);
    for (k, v) in m {
        put(out, k);
        put(out, v);
    }
    Ok(())
}

fn put<T: BorshSerialize + ?Sized>(out: &mut Vec<u8>, v: &T) {
    // Writing into a `Vec` cannot fail; the only fallible encodings (counts beyond u32) are
    // checked by the callers before.
    let _ = v.serialize(out);
}

fn key_write(out: &mut Vec<u8>, k: &PoolKey) {
    put(out, k);
}

/// A cursor over the payload.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.buf.len()
    }
    fn get<T: BorshDeserialize>(&mut self, what: &str) -> Result<T, SnapshotError> {
        T::deserialize(&mut self.buf).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                SnapshotError::Truncated(format!("in {what}"))
            } else {
                SnapshotError::Malformed(format!("{what}: {e}"))
            }
        })
    }
    /// A count prefix, bounded by the input left: each entry takes at least `min_entry` bytes.
    fn count(&mut self, what: &str, min_entry: usize) -> Result<usize, SnapshotError> {
        let n = self.get::<u32>(what)? as usize;
        if n.saturating_mul(min_entry.max(1)) > self.remaining() {
            return Err(SnapshotError::Truncated(format!(
                "{what}: {n} entries announced, {} bytes left",
                self.remaining()
            )));
        }
        Ok(n)
    }
    /// A map in strictly increasing key order.
    fn map<K: BorshDeserialize + Ord, V: BorshDeserialize>(
        &mut self,
        what: &str,
        min_entry: usize,
    ) -> Result<BTreeMap<K, V>, SnapshotError> {
        let n = self.count(what, min_entry)?;
        let mut m = BTreeMap::new();
        for _ in 0..n {
            let k: K = self.get(what)?;
            let v: V = self.get(what)?;
            if m.last_key_value().is_some_and(|(last, _)| *last >= k) {
                return Err(SnapshotError::Malformed(format!(
                    "{what}: keys not in increasing order"
                )));
            }
            m.insert(k, v);
        }
        Ok(m)
    }
}

impl State {
    /// The snapshot of this state (see the [module docs](crate::snapshot) for the format).
    ///
    /// # Panics
    /// Only if a collection of the state holds more than `u32::MAX` entries, which the engine
    /// never builds (positions are indexed by `u32` slots).
    pub fn encode(&self) -> Vec<u8> {
        self.try_encode()
            .expect("a state's collections hold fewer than 2^32 entries")
    }

    /// [`State::encode`], reporting instead of panicking on an unencodable state.
    pub fn try_encode(&self) -> Result<Vec<u8>, SnapshotError> {
        let payload = self.encode_payload()?;
        let mut out = Vec::with_capacity(HEADER_LEN + payload.len() + TRAILER_LEN);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&self.block.height.to_le_bytes());
        out.extend_from_slice(&self.hash());
        out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&payload);
        let sum: [u8; 32] = Sha256::digest(&out).into();
        out.extend_from_slice(&sum);
        Ok(out)
    }

    fn encode_payload(&self) -> Result<Vec<u8>, SnapshotError> {
        // Destructured field by field: a new field of `State` does not compile until it is
        // decided here whether (and how) snapshots carry it.
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
            market_by_token: _, // derived from `markets`: rebuilt on decoding
            positions,
            next_position_id,
            spot,
            event_seq,
            external_supply,
            scratch: _, // buffers, not state
        } = self;
        let mut out = Vec::with_capacity(4096 + positions.len() * 224);
        put(&mut out, params);
        put(&mut out, block);
        put(&mut out, block_open);
        put(&mut out, ledger);
        put(&mut out, vault);
        put(&mut out, funds);
        write_map(&mut out, wallets, "wallets")?;
        write_map(&mut out, lps, "lps")?;
        put(&mut out, &count(markets.len(), "markets")?);
        for m in markets {
            put(&mut out, m);
            key_write(&mut out, &m.pool_key);
        }
        put(&mut out, &count(market_params.len(), "market params")?);
        for p in market_params {
            put(&mut out, p);
        }
        positions
            .serialize(&mut out)
            .map_err(|_| SnapshotError::TooLarge("positions"))?;
        put(&mut out, next_position_id);
        spot.serialize(&mut out)
            .map_err(|_| SnapshotError::TooLarge("spot pools"))?;
        put(&mut out, event_seq);
        write_map(&mut out, external_supply, "external supply")?;
        Ok(out)
    }

    /// Reads and checks a snapshot's header and checksum without decoding the state.
    pub fn snapshot_info(bytes: &[u8]) -> Result<SnapshotInfo, SnapshotError> {
        split(bytes).map(|(info, _)| info)
    }

    /// The state a snapshot holds, with its derived data rebuilt. Any defect — wrong magic or
    /// version, truncation, checksum, malformed payload, a state hash different from the
    /// header's — is an error; hostile bytes never panic (see the module docs).
    pub fn decode(bytes: &[u8]) -> Result<State, SnapshotError> {
        let (info, payload) = split(bytes)?;
        let s = decode_payload(payload)?;
        let h = s.hash();
        if h != info.state_hash {
            return Err(SnapshotError::HashMismatch {
                header: hex(&info.state_hash),
                decoded: hex(&h),
            });
        }
        if s.block.height != info.height {
            return Err(malformed("header height differs from the state's"));
        }
        Ok(s)
    }
}

/// Header and checksum checks; returns the header and the payload.
fn split(bytes: &[u8]) -> Result<(SnapshotInfo, &[u8]), SnapshotError> {
    if bytes.len() < 8 {
        return Err(SnapshotError::Truncated("no header".into()));
    }
    if bytes[..8] != MAGIC {
        return Err(SnapshotError::BadMagic);
    }
    if bytes.len() < HEADER_LEN {
        return Err(SnapshotError::Truncated("header".into()));
    }
    let u32_at = |i: usize| {
        let mut b = [0u8; 4];
        b.copy_from_slice(&bytes[i..i + 4]);
        u32::from_le_bytes(b)
    };
    let u64_at = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&bytes[i..i + 8]);
        u64::from_le_bytes(b)
    };
    let version = u32_at(8);
    if version != VERSION {
        return Err(SnapshotError::UnsupportedVersion(version));
    }
    let height = u64_at(12);
    let mut state_hash = [0u8; 32];
    state_hash.copy_from_slice(&bytes[20..52]);
    let payload_len = u64_at(52);
    let body = bytes.len() - HEADER_LEN;
    let expected = usize::try_from(payload_len)
        .ok()
        .and_then(|p| p.checked_add(TRAILER_LEN));
    match expected {
        Some(e) if e == body => {}
        Some(e) if e > body => {
            return Err(SnapshotError::Truncated(format!(
                "payload of {payload_len} bytes announced, {} present",
                body.saturating_sub(TRAILER_LEN)
            )))
        }
        Some(_) => return Err(malformed("bytes after the checksum")),
        None => return Err(SnapshotError::Truncated("payload length".into())),
    }
    let end = bytes.len() - TRAILER_LEN;
    let sum: [u8; 32] = Sha256::digest(&bytes[..end]).into();
    if sum[..] != bytes[end..] {
        return Err(SnapshotError::Checksum);
    }
    Ok((
        SnapshotInfo {
            version,
            height,
            state_hash,
            payload_len,
        },
        &bytes[HEADER_LEN..end],
    ))
}

/// The payload's state, checked for shape (not yet against the header's hash).
fn decode_payload(payload: &[u8]) -> Result<State, SnapshotError> {
    let mut r = Reader { buf: payload };
    let params: GlobalParams = r.get("params")?;
    params
        .validate()
        .map_err(|e| malformed(format!("params: {e}")))?;
    let block: BlockCtx = r.get("block")?;
    let block_open: bool = r.get("block open")?;
    let ledger: Ledger = r.get("ledger")?;
    let vault: Vault = r.get("vault")?;
    let funds: ProtocolFunds = r.get("funds")?;
    let wallets: BTreeMap<(Address, Address), u128> = r.map("wallets", 56)?;
    let lps: BTreeMap<Address, LpAccount> = r.map("lps", 44)?;
    let n_markets = r.count("markets", 64)?;
    let mut markets = Vec::with_capacity(n_markets);
    let mut market_by_token: BTreeMap<Address, MarketId> = BTreeMap::new();
    for i in 0..n_markets {
        let mut m: Market = r.get("market")?;
        m.pool_key = r.get("market pool key")?;
        if m.id as usize != i {
            return Err(malformed(format!("market {i} carries id {}", m.id)));
        }
        if market_by_token.insert(m.base_token, m.id).is_some() {
            return Err(malformed(format!(
                "two markets on base token {}",
                m.base_token
            )));
        }
        markets.push(m);
    }
    let n_params = r.count("market params", 16)?;
    if n_params != markets.len() {
        return Err(malformed("market parameters do not match the markets"));
    }
    let mut market_params = Vec::with_capacity(n_params);
    for _ in 0..n_params {
        let p: MarketParams = r.get("market params")?;
        p.validate()
            .map_err(|e| malformed(format!("market params: {e}")))?;
        market_params.push(p);
    }
    let n_pos = r.count("positions", 8 + 8)?;
    let mut positions = crate::positions::Positions::new();
    let mut last: Option<PositionId> = None;
    for _ in 0..n_pos {
        let id: PositionId = r.get("position id")?;
        let p: Position = r.get("position")?;
        if last.is_some_and(|l| l >= id) {
            return Err(malformed("position ids not in increasing order"));
        }
        last = Some(id);
        if p.id != id || p.qty == 0 || markets.get(p.market as usize).is_none() {
            return Err(malformed(format!("position {id} is inconsistent")));
        }
        positions.insert(id, p);
    }
    positions.refresh_digests();
    let next_position_id: PositionId = r.get("next position id")?;
    if last.is_some_and(|l| l >= next_position_id) {
        return Err(malformed("a position id at or beyond the next one"));
    }
    let spot: Spot = r.get("spot pools")?;
    for m in &markets {
        if !spot.is_initialized(&m.pool_key) {
            return Err(malformed(format!("market {} has no pool", m.id)));
        }
    }
    let event_seq: u64 = r.get("event sequence")?;
    let external_supply: BTreeMap<Address, u128> = r.map("external supply", 36)?;
    if r.remaining() != 0 {
        return Err(malformed(format!(
            "{} bytes after the state",
            r.remaining()
        )));
    }
    Ok(State {
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
        market_by_token,
        positions,
        next_position_id,
        spot,
        event_seq,
        external_supply,
        scratch: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{run_reader, Finished};
    use crate::tx::Tx;
    use std::path::{Path, PathBuf};

    fn scenario_files() -> Vec<PathBuf> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
        let mut v = Vec::new();
        for dir in [root.clone(), root.join("adversary")] {
            for e in std::fs::read_dir(&dir).unwrap() {
                let p = e.unwrap().path();
                if p.extension().is_some_and(|x| x == "jsonl") {
                    v.push(p);
                }
            }
        }
        v.sort();
        assert!(v.len() >= 10, "scenarios found: {}", v.len());
        v
    }

    /// The state after the first `k` lines (its block ended), or `None` when that prefix is not
    /// a runnable scenario on its own.
    fn prefix_state(lines: &[&str], k: usize) -> Option<State> {
        let text = lines[..k].join("\n");
        run_reader(text.as_bytes(), |_| Ok::<(), std::convert::Infallible>(()))
            .ok()
            .map(|f: Finished| f.state)
    }

    fn outcome(r: Result<Vec<crate::Event>, crate::ExchangeError>) -> String {
        format!("{r:?}")
    }

    /// Runs the rest of a scenario (blocks and transactions; the helper lines that need the
    /// scenario runner's private quoting are skipped) on both states, comparing every outcome
    /// and the hashes after every block.
    fn continue_both(a: &mut State, b: &mut State, rest: &[&str], name: &str) {
        let mut blk = BlockCtx {
            height: a.block.height + 1,
            timestamp: a.block.timestamp + 12,
        };
        assert_eq!(outcome(a.begin_block(blk)), outcome(b.begin_block(blk)));
        for raw in rest {
            let t = raw.trim();
            if !t.starts_with('{') {
                continue;
            }
            let v: serde_json::Value = serde_json::from_str(t).unwrap();
            let mut new_blocks = Vec::new();
            if let Some(x) = v.get("block") {
                let h = x["height"].as_u64().unwrap();
                let ts = x["timestamp"].as_u64().unwrap();
                if h > blk.height && ts >= blk.timestamp {
                    new_blocks.push(BlockCtx {
                        height: h,
                        timestamp: ts,
                    });
                }
            } else if let Some(x) = v.get("blocks") {
                let n = x["count"].as_u64().unwrap();
                let secs = x["seconds"].as_u64().unwrap();
                for i in 1..=n {
                    new_blocks.push(BlockCtx {
                        height: blk.height + i,
                        timestamp: blk.timestamp + i * secs,
                    });
                }
            } else if let Some(x) = v.get("tx") {
                let tx: Tx = serde_json::from_value(x.clone()).unwrap();
                let (ra, rb) = (outcome(a.apply(&tx, blk)), outcome(b.apply(&tx, blk)));
                assert_eq!(ra, rb, "{name}: {t}");
            }
            for nb in new_blocks {
                assert_eq!(outcome(a.end_block()), outcome(b.end_block()), "{name}");
                assert_eq!(a.hash(), b.hash(), "{name}: block {}", blk.height);
                assert_eq!(outcome(a.begin_block(nb)), outcome(b.begin_block(nb)));
                blk = nb;
            }
        }
        assert_eq!(outcome(a.end_block()), outcome(b.end_block()));
        assert_eq!(a.hash(), b.hash(), "{name}: final");
    }

    /// decode(encode(s)) has the same hash, the same bytes again, and behaves identically on
    /// the rest of the scenario: at four cut points of every pinned scenario.
    #[test]
    fn roundtrip_on_pinned_scenarios_behaves_identically() {
        let mut checked = 0;
        for path in scenario_files() {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let text = std::fs::read_to_string(&path).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            let n = lines.len();
            let mut cuts = vec![n / 4, n / 2, 3 * n / 4, n];
            cuts.dedup();
            for k in cuts {
                if k == 0 {
                    continue;
                }
                let Some(mut a) = prefix_state(&lines, k) else {
                    continue;
                };
                let bytes = a.encode();
                let mut b = State::decode(&bytes).unwrap_or_else(|e| panic!("{name}@{k}: {e}"));
                assert_eq!(a.hash(), b.hash(), "{name}@{k}");
                assert_eq!(b.encode(), bytes, "{name}@{k}: re-encoding differs");
                assert_eq!(a.market_by_token, b.market_by_token);
                assert_eq!(a.positions, b.positions);
                assert_eq!(a.markets, b.markets);
                crate::invariants::check(&b).unwrap_or_else(|e| panic!("{name}@{k}: {e}"));
                let info = State::snapshot_info(&bytes).unwrap();
                assert_eq!((info.height, info.state_hash), (a.block.height, a.hash()));
                continue_both(&mut a, &mut b, &lines[k..], &name);
                checked += 1;
            }
        }
        assert!(checked >= 20, "only {checked} cut points ran");
    }

    fn sample() -> Vec<u8> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/balanced.jsonl");
        let text = std::fs::read_to_string(path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        prefix_state(&lines, lines.len()).unwrap().encode()
    }

    /// Re-seal a tampered snapshot: a fresh payload length and checksum, so the parser itself
    /// (not the checksum) must refuse it.
    fn reseal(mut payload_and_header: Vec<u8>) -> Vec<u8> {
        let len = (payload_and_header.len() - HEADER_LEN) as u64;
        payload_and_header[52..60].copy_from_slice(&len.to_le_bytes());
        let sum: [u8; 32] = Sha256::digest(&payload_and_header).into();
        payload_and_header.extend_from_slice(&sum);
        payload_and_header
    }

    #[test]
    fn truncated_and_corrupted_snapshots_are_errors() {
        let good = sample();
        assert!(State::decode(&good).is_ok());
        // Every truncation.
        let step = (good.len() / 3000).max(1);
        for cut in (0..good.len()).step_by(step) {
            assert!(State::decode(&good[..cut]).is_err(), "cut at {cut}");
        }
        // Every single-byte flip is caught (by the checksum, or the header checks).
        let step = (good.len() / 2000).max(1);
        for i in (0..good.len()).step_by(step) {
            let mut bad = good.clone();
            bad[i] ^= 0x5a;
            assert!(State::decode(&bad).is_err(), "flip at {i}");
        }
        // Trailing garbage, wrong magic, wrong version.
        let mut bad = good.clone();
        bad.push(0);
        assert!(State::decode(&bad).is_err());
        let mut bad = good.clone();
        bad[0] = b'X';
        assert_eq!(State::decode(&bad).unwrap_err(), SnapshotError::BadMagic);
        let mut bad = good.clone();
        bad[8] = 2;
        assert_eq!(
            State::decode(&bad).unwrap_err(),
            SnapshotError::UnsupportedVersion(2)
        );
        assert!(State::decode(&[]).is_err());
    }

    /// Tampered payloads with a valid checksum: the parser refuses them (or the state hash
    /// does) without panicking; truncated payloads likewise.
    #[test]
    fn resealed_tampering_is_refused_without_panic() {
        let good = sample();
        let body = &good[..good.len() - TRAILER_LEN];
        let plen = body.len() - HEADER_LEN;
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for i in 0..1500 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut v = body.to_vec();
            match i % 3 {
                0 => {
                    let at = HEADER_LEN + (x as usize % plen);
                    v[at] ^= (x >> 32) as u8 | 1;
                }
                1 => {
                    // A count prefix turned huge somewhere: four 0xff bytes.
                    let at = HEADER_LEN + (x as usize % (plen - 4));
                    v[at..at + 4].copy_from_slice(&[0xff; 4]);
                }
                _ => {
                    let keep = HEADER_LEN + (x as usize % plen);
                    v.truncate(keep);
                }
            }
            if v[..] == body[..] {
                continue; // the bytes were 0xff already
            }
            let bad = reseal(v);
            assert!(State::decode(&bad).is_err(), "case {i} decoded");
        }
    }
}
