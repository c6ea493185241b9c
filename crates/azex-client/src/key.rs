//! Key files: one line, the secp256k1 private key as `0x` + 64 hex digits.

use crate::signed::{address_of, sign, SignedTx};
use alloy_primitives::{hex, Address};
use azex_exchange::Tx;
use k256::ecdsa::SigningKey;
use std::path::Path;

/// A private key and its address.
#[derive(Clone)]
pub struct Key {
    sk: SigningKey,
    address: Address,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({})", self.address)
    }
}

/// Why a key could not be read, parsed or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading or writing the key file failed.
    #[error("key file {path}: {source}")]
    Io {
        /// The key file's path, as displayed.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The bytes or text are not a valid secp256k1 private key (bad hex, wrong length, zero or
    /// not below the curve order).
    #[error("not a secp256k1 private key (expected 0x + 64 hex digits)")]
    Invalid,
}

impl Key {
    /// A key from its 32-byte big-endian secret scalar; [`KeyError::Invalid`] if it is not a
    /// valid secp256k1 private key.
    pub fn from_bytes(b: &[u8]) -> Result<Self, KeyError> {
        let sk = SigningKey::from_slice(b).map_err(|_| KeyError::Invalid)?;
        let address = address_of(sk.verifying_key());
        Ok(Key { sk, address })
    }

    /// A fresh random key.
    pub fn generate() -> Self {
        loop {
            let b: [u8; 32] = rand::random();
            if let Ok(k) = Self::from_bytes(&b) {
                return k;
            }
        }
    }

    /// A key derived from a seed (tests, load generation, devnet bots): keccak256("azex" ‖ seed).
    pub fn from_seed(seed: u64) -> Self {
        let mut n = 0u64;
        loop {
            let mut m = b"azex-key".to_vec();
            m.extend_from_slice(&seed.to_be_bytes());
            m.extend_from_slice(&n.to_be_bytes());
            if let Ok(k) = Self::from_bytes(alloy_primitives::keccak256(&m).as_slice()) {
                return k;
            }
            n += 1;
        }
    }

    /// A key from the key-file text: hex (with or without `0x`, surrounding whitespace ignored)
    /// of the 32-byte secret; [`KeyError::Invalid`] otherwise.
    pub fn parse(s: &str) -> Result<Self, KeyError> {
        let b = hex::decode(s.trim()).map_err(|_| KeyError::Invalid)?;
        Self::from_bytes(&b)
    }

    /// Read and [`parse`](Key::parse) a key file; [`KeyError::Io`] if it cannot be read.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let s = std::fs::read_to_string(path).map_err(|e| KeyError::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        Self::parse(&s)
    }

    /// Write the key file (mode 0600 on Unix).
    pub fn save(&self, path: &Path) -> Result<(), KeyError> {
        let io = |e| KeyError::Io {
            path: path.display().to_string(),
            source: e,
        };
        let text = format!("0x{}\n", hex::encode(self.sk.to_bytes()));
        #[cfg(unix)]
        {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(path)
                .map_err(io)?;
            f.write_all(text.as_bytes()).map_err(io)?;
        }
        #[cfg(not(unix))]
        std::fs::write(path, text).map_err(io)?;
        Ok(())
    }

    /// Load the key file, or create it with a fresh key.
    pub fn load_or_create(path: &Path) -> Result<Self, KeyError> {
        if path.exists() {
            Self::load(path)
        } else {
            let k = Self::generate();
            k.save(path)?;
            Ok(k)
        }
    }

    /// The key's Ethereum address (last 20 bytes of keccak256 of the public key).
    pub fn address(&self) -> Address {
        self.address
    }

    /// The underlying k256 signing key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.sk
    }

    /// Sign a transaction (its `user` should be this key's address).
    pub fn sign(&self, tx: Tx, nonce: u64, expiry: u64, chain_id: u64) -> SignedTx {
        sign(&self.sk, tx, nonce, expiry, chain_id)
    }
}
