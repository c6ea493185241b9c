//! Setting a fresh chain up over the API (devnet, load generator, tests): mint azUSD, list
//! markets, deposit LP capital. Plain signed transactions, nothing privileged.

use crate::genesis::dev_token;
use azex_client::{ClientError, Outcome, Sender, TxAck};
use azex_exchange::units::USD_ONE;
use azex_exchange::Tx;

/// One market to list: base token number ([`dev_token`]`(n)`) and initial price (WAD).
#[derive(Debug, Clone, Copy)]
pub struct MarketSpec {
    /// Base token number: the token is [`dev_token`]`(token)`.
    pub token: u64,
    /// Initial price in azUSD per base token, WAD (1e18 = 1.0).
    pub price_wad: u128,
    /// azUSD seeded into the pool, micro-USD (1e-6).
    pub seed_azusd: u128,
}

/// Why setting a chain up failed.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// Sending or waiting failed.
    #[error("{0}")]
    Client(#[from] ClientError),
    #[error("{what} refused: {kind}: {message}")]
    /// The engine refused a transaction.
    Refused {
        /// The transaction (its debug form, at most 120 characters).
        what: String,
        /// The engine's error kind.
        kind: String,
        /// The engine's error message.
        message: String,
    },
}

/// Send and wait for commit; an engine refusal is an error.
pub fn must(s: &mut Sender, tx: Tx) -> Result<TxAck, SetupError> {
    let what = format!("{tx:?}");
    let ack = s.send(tx, true)?;
    match &ack.outcome {
        Some(Outcome::Refused { kind, message }) => Err(SetupError::Refused {
            what: what.chars().take(120).collect(),
            kind: kind.clone(),
            message: message.clone(),
        }),
        _ => Ok(ack),
    }
}

/// Mint azUSD for the lister, list the markets (skipping tokens already listed), deposit LP
/// capital. Returns the number of markets listed now.
pub fn bootstrap(
    lister: &mut Sender,
    markets: &[MarketSpec],
    lp_capital: u128,
) -> Result<usize, SetupError> {
    let listed: serde_json::Value = lister.client.get("/v1/markets")?;
    let have: Vec<String> = listed["markets"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| m["base_token"].as_str().map(|s| s.to_lowercase()))
                .collect()
        })
        .unwrap_or_default();
    let todo: Vec<&MarketSpec> = markets
        .iter()
        .filter(|m| !have.contains(&dev_token(m.token).to_string().to_lowercase()))
        .collect();
    if todo.is_empty() {
        return Ok(0);
    }
    let need: u128 = todo.iter().map(|m| m.seed_azusd).sum::<u128>() + lp_capital;
    let me = lister.address();
    must(
        lister,
        Tx::MintAzusd {
            user: me,
            usdc: need + 1_000 * USD_ONE,
        },
    )?;
    for m in &todo {
        must(
            lister,
            Tx::CreateMarket {
                user: me,
                base_token: dev_token(m.token),
                base_decimals: 18,
                fee: 500,
                tick_spacing: 10,
                initial_price: m.price_wad,
                tick_range: 6_000,
                seed_azusd: m.seed_azusd,
            },
        )?;
    }
    if lp_capital > 0 {
        must(
            lister,
            Tx::LpDeposit {
                user: me,
                amount: lp_capital,
            },
        )?;
    }
    Ok(todo.len())
}
