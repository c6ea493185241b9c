//! Development genesis: deterministic, publicly known keys (never for real value).

use azex_client::Key;
use azex_exchange::testkit::token;
use azex_exchange::units::{QTY_ONE, USD_ONE};
use azex_exchange::{Genesis, GenesisBalance, USDC};

/// Number of dev accounts funded by [`dev_genesis`].
pub const DEV_ACCOUNTS: u64 = 16;
/// Base tokens funded (token(1..=DEV_TOKENS), see `azex_exchange::testkit::token`).
pub const DEV_TOKENS: u64 = 5;

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
                token: token(t),
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
