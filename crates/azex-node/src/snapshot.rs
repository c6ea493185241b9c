//! Node snapshots: every `snapshot_every` blocks the node writes the engine's state
//! ([`State::encode`], `azex_exchange::snapshot`) together with what the node itself derives
//! from the log (every account's next nonce), so that start-up loads the newest valid snapshot
//! and replays only the blocks after it.
//!
//! Files `DATA/snapshots/snap-HEIGHT.bin` (height zero-padded to 20 digits, so names sort by
//! height):
//!
//! ```text
//! magic "AZXNSNP1" | height u64 | accounts u32 | (address 20 bytes, next nonce u64) × accounts
//! | crc32 of all of the above u32 | the engine snapshot (its own header, state hash, checksum)
//! ```
//!
//! Written atomically: to `*.tmp`, fsync, rename, fsync of the directory; only the newest
//! `keep` are kept. A snapshot is only written once its block is durable in the log (the writer
//! thread hands it over after the fsync), and start-up only accepts a snapshot whose state hash
//! equals the state hash the log records for that height: a snapshot can never be ahead of, or
//! disagree with, the log (the source of truth). A corrupt or mismatching snapshot is skipped in
//! favour of the previous one, and of genesis in the end.

use crate::chain::Nonces;
use alloy_primitives::Address;
use azex_exchange::snapshot::SnapshotError;
use azex_exchange::State;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

const MAGIC: [u8; 8] = *b"AZXNSNP1";

/// Default: one snapshot every this many blocks.
pub const DEFAULT_EVERY: u64 = 1_000;
/// Default: snapshots kept.
pub const DEFAULT_KEEP: usize = 3;

/// The snapshot directory of a data directory.
pub fn dir(data: &Path) -> PathBuf {
    data.join("snapshots")
}

fn file_name(height: u64) -> String {
    format!("snap-{height:020}.bin")
}

/// Snapshots present, newest first: `(height, path)`.
pub fn list(data: &Path) -> Vec<(u64, PathBuf)> {
    let mut v = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir(data)) {
        for e in rd.flatten() {
            let name = e.file_name();
            let Some(name) = name.to_str() else { continue };
            let Some(h) = name
                .strip_prefix("snap-")
                .and_then(|s| s.strip_suffix(".bin"))
                .and_then(|s| s.parse::<u64>().ok())
            else {
                continue;
            };
            v.push((h, e.path()));
        }
    }
    v.sort_by_key(|e| std::cmp::Reverse(e.0));
    v
}

/// The bytes of a node snapshot: nonces (sorted by address) and the engine's snapshot.
/// [`SnapshotError::TooLarge`] if there are 2^32 accounts or more.
pub fn encode(
    height: u64,
    nonces: &Nonces,
    state_snapshot: &[u8],
) -> Result<Vec<u8>, SnapshotError> {
    let mut accts: Vec<(&Address, &u64)> = nonces.0.iter().collect();
    accts.sort();
    let count = u32::try_from(accts.len()).map_err(|_| SnapshotError::TooLarge("accounts"))?;
    let mut out = Vec::with_capacity(24 + accts.len() * 28 + state_snapshot.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&height.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    for (a, n) in accts {
        out.extend_from_slice(a.as_slice());
        out.extend_from_slice(&n.to_le_bytes());
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(state_snapshot);
    Ok(out)
}

/// Why a snapshot file was not used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotFileError {
    /// The file could not be read.
    #[error("io: {0}")]
    Io(#[from] io::Error),
    /// Bad magic, too short, or the nonce section's CRC does not match.
    #[error("not a node snapshot, or its nonce section is corrupt")]
    Header,
    /// The engine's snapshot is invalid.
    #[error("state: {0}")]
    State(#[from] SnapshotError),
    /// The height in the node's header differs from the engine state's.
    #[error("file says height {file}, state is at {state}")]
    Height {
        /// Height in the node's header.
        file: u64,
        /// Height of the decoded state.
        state: u64,
    },
}

/// The decoded contents of a node snapshot.
pub struct Loaded {
    /// The block height the snapshot was taken after.
    pub height: u64,
    /// Every account's next nonce then.
    pub nonces: Nonces,
    /// The engine state then.
    pub state: State,
}

/// Decode a node snapshot (never panics on hostile bytes: every length is checked against the
/// input, the nonce section by its CRC, the state by its own checksum and state hash).
pub fn decode(bytes: &[u8]) -> Result<Loaded, SnapshotFileError> {
    if bytes.len() < 20 || bytes[..8] != MAGIC {
        return Err(SnapshotFileError::Header);
    }
    let height = u64::from_le_bytes(
        bytes[8..16]
            .try_into()
            .map_err(|_| SnapshotFileError::Header)?,
    );
    let n = u32::from_le_bytes(
        bytes[16..20]
            .try_into()
            .map_err(|_| SnapshotFileError::Header)?,
    ) as usize;
    let end = n
        .checked_mul(28)
        .and_then(|x| x.checked_add(20))
        .filter(|e| e.checked_add(4).is_some_and(|e4| e4 <= bytes.len()))
        .ok_or(SnapshotFileError::Header)?;
    let crc = u32::from_le_bytes(
        bytes[end..end + 4]
            .try_into()
            .map_err(|_| SnapshotFileError::Header)?,
    );
    if crc32fast::hash(&bytes[..end]) != crc {
        return Err(SnapshotFileError::Header);
    }
    let mut nonces = Nonces::default();
    for i in 0..n {
        let at = 20 + i * 28;
        let a = Address::from_slice(&bytes[at..at + 20]);
        let v = u64::from_le_bytes(
            bytes[at + 20..at + 28]
                .try_into()
                .map_err(|_| SnapshotFileError::Header)?,
        );
        nonces.0.insert(a, v);
    }
    let state = State::decode(&bytes[end + 4..])?;
    if state.block.height != height {
        return Err(SnapshotFileError::Height {
            file: height,
            state: state.block.height,
        });
    }
    Ok(Loaded {
        height,
        nonces,
        state,
    })
}

/// Write `bytes` as the snapshot of `height` atomically (temp file, fsync, rename, directory
/// fsync), then delete all but the newest `keep` snapshots. Returns the file's path.
pub fn write(data: &Path, height: u64, bytes: &[u8], keep: usize) -> io::Result<PathBuf> {
    let d = dir(data);
    std::fs::create_dir_all(&d)?;
    let path = d.join(file_name(height));
    let tmp = d.join(format!("{}.tmp", file_name(height)));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &path)?;
    sync_dir(&d);
    for (_, old) in list(data).into_iter().skip(keep.max(1)) {
        let _ = std::fs::remove_file(old);
    }
    Ok(path)
}

/// Delete snapshots above `height` (ahead of a log that lost its tail: they can never match
/// the blocks the node will make instead) and leftover temp files.
pub(crate) fn remove_above(data: &Path, height: u64) {
    for (h, p) in list(data) {
        if h > height {
            let _ = std::fs::remove_file(p);
        }
    }
    if let Ok(rd) = std::fs::read_dir(dir(data)) {
        for e in rd.flatten() {
            if e.file_name().to_str().is_some_and(|n| n.ends_with(".tmp")) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

fn sync_dir(d: &Path) {
    #[cfg(unix)]
    if let Ok(f) = std::fs::File::open(d) {
        let _ = f.sync_all();
    }
    #[cfg(not(unix))]
    let _ = d;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_section_roundtrip_and_corruption() {
        let g = crate::genesis::dev_genesis();
        let s = State::genesis(&g).unwrap();
        let mut nonces = Nonces::default();
        nonces.0.insert(Address::repeat_byte(7), 42);
        nonces.0.insert(Address::repeat_byte(1), 3);
        let bytes = encode(0, &nonces, &s.encode()).unwrap();
        let l = decode(&bytes).unwrap();
        assert_eq!(l.height, 0);
        assert_eq!(l.nonces.0, nonces.0);
        assert_eq!(l.state.hash(), s.hash());
        for cut in [0, 7, 19, 20, 40, 64, bytes.len() / 2, bytes.len() - 1] {
            assert!(decode(&bytes[..cut]).is_err(), "cut {cut}");
        }
        for i in (0..bytes.len()).step_by(97) {
            let mut b = bytes.clone();
            b[i] ^= 0x41;
            assert!(decode(&b).is_err(), "flip {i}");
        }
        let mut b = bytes.clone();
        b[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(&b).is_err());
    }
}
