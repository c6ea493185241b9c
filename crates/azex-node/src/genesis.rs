//! Development genesis: deterministic, publicly known keys (never for real value).

use alloy_primitives::Address;
use azex_client::Key;
use azex_exchange::units::{QTY_ONE, USD_ONE};
use azex_exchange::{Genesis, GenesisBalance, USDC};

/// Number of dev accounts funded by [`dev_genesis`].
pub const DEV_ACCOUNTS: u64 = 16;
/// Base tokens funded: [`dev_token`]`(1..=DEV_TOKENS)`.
pub const DEV_TOKENS: u64 = 5;

/// `prefix`, eleven zero bytes, then `n` big-endian in the last eight bytes.
fn numbered_address(prefix: u8, n: u64) -> Address {
    let mut b = [0u8; 20];
    b[12..].copy_from_slice(&n.to_be_bytes());
    b[0] = prefix;
    Address::from(b)
}

/// Dev base token `n` (`0xb0…0n`): the token addresses the engine's tests use
/// (`azex_exchange::testkit::token`), so dev genesis files and their hashes are the same.
pub fn dev_token(n: u64) -> Address {
    numbered_address(0xB0, n)
}

/// Numbered account `n` (`0xaa…0n`, as `azex_exchange::testkit::addr`): the users of the
/// snapshot benchmark, which needs many accounts and no keys.
pub fn numbered_account(n: u64) -> Address {
    numbered_address(0xAA, n)
}

/// Dev key `i` (1-based): `Key::from_seed(i)`.
pub fn dev_key(i: u64) -> Key {
    Key::from_seed(i)
}

/// Fund `accounts` with `usdc` USDC and `base` of each of the dev base tokens.
///
/// Dev chains run without the risk TWAP (`risk_twap_window_secs = 0`: the risk price is the
/// truncated spot). The engine lets a market take new exposure only one TWAP window after its
/// listing and after any block gap longer than `max_block_gap_secs` (`price_guard`); on a dev
/// chain whose block timestamps are wall-clock seconds that would hold every new market (and
/// every restart of the node) for a minute of real time. A production genesis keeps the window.
pub fn funded_genesis(accounts: &[alloy_primitives::Address], usdc: u128, base: u128) -> Genesis {
    let mut g = Genesis::default();
    g.params.risk_twap_window_secs = 0;
    for a in accounts {
        g.balances.push(GenesisBalance {
            owner: *a,
            token: USDC,
            amount: usdc,
        });
        for t in 1..=DEV_TOKENS {
            g.balances.push(GenesisBalance {
                owner: *a,
                token: dev_token(t),
                amount: base,
            });
        }
    }
    g
}

/// The default genesis of `azex node` without `--genesis`: dev keys 1..=16 each hold 1e9 USDC
/// and 1e6 of each of five base tokens; no market yet (listing is a transaction).
pub fn dev_genesis() -> Genesis {
    let accounts: Vec<_> = (1..=DEV_ACCOUNTS).map(|i| dev_key(i).address()).collect();
    funded_genesis(&accounts, 1_000_000_000 * USD_ONE, 1_000_000 * QTY_ONE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_addresses_are_the_engine_test_addresses() {
        // Pinned: dev genesis files (and their hashes) name these tokens.
        assert_eq!(
            dev_token(1).to_string().to_lowercase(),
            "0xb000000000000000000000000000000000000001"
        );
        assert_eq!(
            numbered_account(0x0102).to_string().to_lowercase(),
            "0xaa00000000000000000000000000000000000102"
        );
        assert_eq!(
            dev_token(u64::MAX).to_string().to_lowercase(),
            "0xb00000000000000000000000ffffffffffffffff"
        );
    }
}
