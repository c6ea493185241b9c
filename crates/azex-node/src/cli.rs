//! The logic of `azex tx …`: build any transaction kind from `--field value` pairs (the
//! transaction's own JSON field names; the signer's address fills `user`), sign it with a key
//! file (EIP-712) and submit it, or simulate it.
//!
//! ```text
//! azex tx --key k.key mint_azusd --usdc 1000000000
//! azex tx --key k.key open_position --market 0 --qty 1000000000000000000 --margin 500000000 --price-bound 3000000000000000000000
//! azex tx --key k.key --simulate close_position --position 7 --price-bound 0
//! azex tx keygen --key k.key
//! ```

use azex_client::{Client, Key, Sender};
use azex_exchange::Tx;
use serde_json::{Map, Value};
use std::path::PathBuf;

/// Options of `azex tx`.
#[derive(Debug, Clone)]
pub struct TxOptions {
    /// URL of the node's HTTP API.
    pub node: String,
    /// Key file of the sender.
    pub key: PathBuf,
    /// Transaction type (`open_position`, `mint_azusd`, … or with dashes), or `keygen`.
    pub kind: String,
    /// `--name value` pairs (dashes or underscores).
    pub fields: Vec<String>,
    /// Wait for durable commit (else return once in the mempool).
    pub wait: bool,
    /// Only simulate (no signature needed, nothing sent).
    pub simulate: bool,
    /// Sign with the account's next nonce and print the signed JSON without sending it (to
    /// POST it with curl).
    pub sign_only: bool,
}

/// Build the transaction JSON from the pairs and parse it with the engine's own rules.
pub fn build_tx(
    kind: &str,
    user: alloy_primitives::Address,
    fields: &[String],
) -> Result<Tx, String> {
    let mut m = Map::new();
    m.insert("type".into(), Value::String(kind.replace('-', "_")));
    m.insert("user".into(), Value::String(user.to_string()));
    let mut it = fields.iter();
    while let Some(name) = it.next() {
        let Some(name) = name.strip_prefix("--") else {
            return Err(format!("expected --field, got {name:?}"));
        };
        let name = name.replace('-', "_");
        let value = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
        let v = match value.as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            s => match s.parse::<i64>() {
                Ok(n) if n.unsigned_abs() < (1 << 53) => Value::from(n),
                _ => Value::String(s.to_string()),
            },
        };
        m.insert(name, v);
    }
    serde_json::from_value(Value::Object(m)).map_err(|e| format!("{kind}: {e}"))
}

/// Run `azex tx`. Returns what to print.
pub fn tx(o: &TxOptions) -> Result<Value, String> {
    if o.kind == "keygen" {
        if o.key.exists() {
            return Err(format!("{} exists", o.key.display()));
        }
        let k = Key::generate();
        k.save(&o.key).map_err(|e| e.to_string())?;
        return Ok(serde_json::json!({"address": k.address(), "key_file": o.key}));
    }
    let key = Key::load(&o.key).map_err(|e| e.to_string())?;
    let tx = build_tx(&o.kind, key.address(), &o.fields)?;
    let client = Client::new(&o.node);
    if o.simulate {
        return client.simulate(&tx).map_err(|e| e.to_string());
    }
    let mut s = Sender::connect(client, key).map_err(|e| e.to_string())?;
    if o.sign_only {
        return serde_json::to_value(s.sign(tx)).map_err(|e| e.to_string());
    }
    let ack = s.send(tx, o.wait).map_err(|e| e.to_string())?;
    serde_json::to_value(ack).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_every_shape() {
        let u = alloy_primitives::Address::repeat_byte(1);
        let f = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let t = build_tx(
            "open-position",
            u,
            &f(&[
                "--market",
                "0",
                "--qty",
                "-1000000000000000000",
                "--margin",
                "5",
                "--price-bound",
                "0",
            ]),
        )
        .unwrap();
        assert!(matches!(
            t,
            Tx::OpenPosition {
                qty: -1_000_000_000_000_000_000,
                ..
            }
        ));
        let t = build_tx(
            "spot_swap",
            u,
            &f(&[
                "--market",
                "1",
                "--base-for-quote",
                "true",
                "--amount-specified",
                "-5",
            ]),
        )
        .unwrap();
        assert!(matches!(
            t,
            Tx::SpotSwap {
                base_for_quote: true,
                ..
            }
        ));
        assert!(build_tx("open_position", u, &f(&["--bogus", "1"])).is_err());
        assert!(build_tx("nope", u, &[]).is_err());
        assert!(build_tx("mint_azusd", u, &f(&["--usdc"])).is_err());
    }
}
