//! # AZEx client
//!
//! - [`eip712`]: the EIP-712 typed data of every transaction kind (alloy `sol!` structs, domain
//!   `{name: "AZEx", version: "1", chainId}`) and their signing hashes;
//! - [`signed`]: [`SignedTx`] (transaction, nonce, expiry, chain id, signature), signing and
//!   signer recovery (secp256k1, Ethereum addresses);
//! - [`key`]: key files;
//! - [`wire`]: the node's wire types (blocks, receipts, errors);
//! - [`http`]: a typed blocking client and a [`Sender`] (key + nonce counter).

pub mod eip712;
pub mod http;
pub mod key;
pub mod signed;
pub mod wire;

pub use http::{Client, ClientError, Sender};
pub use key::Key;
pub use signed::{SigError, SignedTx};
pub use wire::*;
