//! EIP-712 typed data for every transaction kind: one `sol!` struct per [`Tx`] variant, each
//! carrying the fields of the transaction plus the account `nonce` and an `expiry` (unix
//! seconds). The domain is `{name: "AZEx", version: "1", chainId}` (no verifying contract: the
//! node is not a contract). Hashing is alloy's (`SolStruct::eip712_signing_hash`), not ours.

use alloy_primitives::{B256, I256, U256};
use alloy_sol_types::{eip712_domain, Eip712Domain, SolStruct};
use azex_exchange::Tx;
use types as t;

/// The domain name every signature is bound to.
pub const DOMAIN_NAME: &str = "AZEx";
/// The domain version.
pub const DOMAIN_VERSION: &str = "1";

/// The EIP-712 domain of a chain.
pub fn domain(chain_id: u64) -> Eip712Domain {
    eip712_domain! {
        name: DOMAIN_NAME,
        version: DOMAIN_VERSION,
        chain_id: chain_id,
    }
}

/// The typed structs (Solidity names, camelCase fields), one per transaction kind.
pub mod types {
    alloy_sol_types::sol! {
        #[derive(Debug, PartialEq, Eq)]
        struct MintAzusd { address user; uint256 usdc; uint64 nonce; uint64 expiry; }
        #[derive(Debug, PartialEq, Eq)]
        struct RedeemAzusd { address user; uint256 azusd; uint64 nonce; uint64 expiry; }
        #[derive(Debug, PartialEq, Eq)]
        struct DepositViaSwap { address user; uint32 market; uint256 amountIn; uint256 minAzusdOut; uint64 nonce; uint64 expiry; }
        #[derive(Debug, PartialEq, Eq)]
        struct SpotSwap { address user; uint32 market; bool baseForQuote; int256 amountSpecified; bool hasSqrtPriceLimit; uint256 sqrtPriceLimitX96; uint64 nonce; uint64 expiry; }
        #[derive(Debug, PartialEq, Eq)]
        struct SpotLiquidity { address user; uint32 market; int32 tickLower; int32 tickUpper; int256 liquidityDelta; uint64 salt; uint64 nonce; uint64 expiry; }
        #[derive(Debug, PartialEq, Eq)]
        struct CreateMarket { address user; address baseToken; uint8 baseDecimals; uint32 fee; int32 tickSpacing; uint256 initialPrice; int32 tickRange; uint256 seedAzusd; uint64 nonce; uint64 expiry; }
        #[derive(Debug, PartialEq, Eq)]
        struct LpDeposit { address user; uint256 amount; uint64 nonce; uint64 expiry; }
        #[derive(Debug, PartialEq, Eq)]
        struct LpWithdraw { address user; uint256 shares; uint64 nonce; uint64 expiry; }
        #[derive(Debug, PartialEq, Eq)]
        struct OpenPosition { address user; uint32 market; int256 qty; uint256 margin; uint256 priceBound; uint64 nonce; uint64 expiry; }
        #[derive(Debug, PartialEq, Eq)]
        struct ModifyPosition { address user; uint64 position; int256 qtyDelta; uint256 priceBound; uint64 nonce; uint64 expiry; }
        #[derive(Debug, PartialEq, Eq)]
        struct ClosePosition { address user; uint64 position; uint256 priceBound; uint64 nonce; uint64 expiry; }
        #[derive(Debug, PartialEq, Eq)]
        struct AddMargin { address user; uint64 position; uint256 amount; uint64 nonce; uint64 expiry; }
        #[derive(Debug, PartialEq, Eq)]
        struct RemoveMargin { address user; uint64 position; uint256 amount; uint64 nonce; uint64 expiry; }
        #[derive(Debug, PartialEq, Eq)]
        struct Liquidate { address user; uint64 position; uint64 nonce; uint64 expiry; }
        #[derive(Debug, PartialEq, Eq)]
        struct Deleverage { address user; uint32 market; uint64 nonce; uint64 expiry; }
        #[derive(Debug, PartialEq, Eq)]
        struct SettleDelisted { address user; uint64 position; uint64 nonce; uint64 expiry; }
        #[derive(Debug, PartialEq, Eq)]
        struct Relist { address user; uint32 market; uint64 nonce; uint64 expiry; }
    }
}

fn u(v: u128) -> U256 {
    U256::from(v)
}

fn i(v: i128) -> I256 {
    // Every i128 fits in an int256.
    I256::try_from(v).unwrap_or(I256::ZERO)
}

/// The EIP-712 signing hash of `tx` with `nonce` and `expiry` under `domain`: what is signed,
/// and the transaction's hash on this chain. One typed struct per kind, built by the function
/// of the kind's group.
pub fn signing_hash(tx: &Tx, nonce: u64, expiry: u64, domain: &Eip712Domain) -> B256 {
    let s = Stamp {
        nonce,
        expiry,
        domain,
    };
    match tx {
        Tx::MintAzusd { .. }
        | Tx::RedeemAzusd { .. }
        | Tx::DepositViaSwap { .. }
        | Tx::LpDeposit { .. }
        | Tx::LpWithdraw { .. } => funds_hash(tx, &s),
        Tx::SpotSwap { .. } | Tx::SpotLiquidity { .. } | Tx::CreateMarket { .. } => {
            spot_hash(tx, &s)
        }
        Tx::OpenPosition { .. }
        | Tx::ModifyPosition { .. }
        | Tx::ClosePosition { .. }
        | Tx::AddMargin { .. }
        | Tx::RemoveMargin { .. } => position_hash(tx, &s),
        Tx::Liquidate { .. }
        | Tx::Deleverage { .. }
        | Tx::SettleDelisted { .. }
        | Tx::Relist { .. } => keeper_hash(tx, &s),
    }
}

/// What every typed struct carries besides the transaction's own fields, and the domain.
struct Stamp<'a> {
    nonce: u64,
    expiry: u64,
    domain: &'a Eip712Domain,
}

impl Stamp<'_> {
    /// alloy's EIP-712 signing hash of one typed struct.
    fn hash(&self, typed: impl SolStruct) -> B256 {
        typed.eip712_signing_hash(self.domain)
    }
}

/// azUSD and the LP vault: mint, redeem, deposit via a swap, LP deposit and withdrawal.
fn funds_hash(tx: &Tx, s: &Stamp<'_>) -> B256 {
    let (nonce, expiry) = (s.nonce, s.expiry);
    match tx {
        Tx::MintAzusd { user, usdc } => s.hash(t::MintAzusd {
            user: *user,
            usdc: u(*usdc),
            nonce,
            expiry,
        }),
        Tx::RedeemAzusd { user, azusd } => s.hash(t::RedeemAzusd {
            user: *user,
            azusd: u(*azusd),
            nonce,
            expiry,
        }),
        Tx::DepositViaSwap {
            user,
            market,
            amount_in,
            min_azusd_out,
        } => s.hash(t::DepositViaSwap {
            user: *user,
            market: *market,
            amountIn: u(*amount_in),
            minAzusdOut: u(*min_azusd_out),
            nonce,
            expiry,
        }),
        Tx::LpDeposit { user, amount } => s.hash(t::LpDeposit {
            user: *user,
            amount: u(*amount),
            nonce,
            expiry,
        }),
        Tx::LpWithdraw { user, shares } => s.hash(t::LpWithdraw {
            user: *user,
            shares: u(*shares),
            nonce,
            expiry,
        }),
        other => unreachable!("only azUSD and vault transactions come here: {other:?}"),
    }
}

/// The spot pools: swap, liquidity, listing.
fn spot_hash(tx: &Tx, s: &Stamp<'_>) -> B256 {
    let (nonce, expiry) = (s.nonce, s.expiry);
    match tx {
        Tx::SpotSwap {
            user,
            market,
            base_for_quote,
            amount_specified,
            sqrt_price_limit_x96,
        } => s.hash(t::SpotSwap {
            user: *user,
            market: *market,
            baseForQuote: *base_for_quote,
            amountSpecified: i(*amount_specified),
            hasSqrtPriceLimit: sqrt_price_limit_x96.is_some(),
            sqrtPriceLimitX96: sqrt_price_limit_x96.unwrap_or_default(),
            nonce,
            expiry,
        }),
        Tx::SpotLiquidity {
            user,
            market,
            tick_lower,
            tick_upper,
            liquidity_delta,
            salt,
        } => s.hash(t::SpotLiquidity {
            user: *user,
            market: *market,
            tickLower: *tick_lower,
            tickUpper: *tick_upper,
            liquidityDelta: i(*liquidity_delta),
            salt: *salt,
            nonce,
            expiry,
        }),
        Tx::CreateMarket {
            user,
            base_token,
            base_decimals,
            fee,
            tick_spacing,
            initial_price,
            tick_range,
            seed_azusd,
        } => s.hash(t::CreateMarket {
            user: *user,
            baseToken: *base_token,
            baseDecimals: *base_decimals,
            fee: *fee,
            tickSpacing: *tick_spacing,
            initialPrice: u(*initial_price),
            tickRange: *tick_range,
            seedAzusd: u(*seed_azusd),
            nonce,
            expiry,
        }),
        other => unreachable!("only spot transactions come here: {other:?}"),
    }
}

/// Positions: open, modify, close, add and remove margin.
fn position_hash(tx: &Tx, s: &Stamp<'_>) -> B256 {
    let (nonce, expiry) = (s.nonce, s.expiry);
    match tx {
        Tx::OpenPosition {
            user,
            market,
            qty,
            margin,
            price_bound,
        } => s.hash(t::OpenPosition {
            user: *user,
            market: *market,
            qty: i(*qty),
            margin: u(*margin),
            priceBound: u(*price_bound),
            nonce,
            expiry,
        }),
        Tx::ModifyPosition {
            user,
            position,
            qty_delta,
            price_bound,
        } => s.hash(t::ModifyPosition {
            user: *user,
            position: *position,
            qtyDelta: i(*qty_delta),
            priceBound: u(*price_bound),
            nonce,
            expiry,
        }),
        Tx::ClosePosition {
            user,
            position,
            price_bound,
        } => s.hash(t::ClosePosition {
            user: *user,
            position: *position,
            priceBound: u(*price_bound),
            nonce,
            expiry,
        }),
        Tx::AddMargin {
            user,
            position,
            amount,
        } => s.hash(t::AddMargin {
            user: *user,
            position: *position,
            amount: u(*amount),
            nonce,
            expiry,
        }),
        Tx::RemoveMargin {
            user,
            position,
            amount,
        } => s.hash(t::RemoveMargin {
            user: *user,
            position: *position,
            amount: u(*amount),
            nonce,
            expiry,
        }),
        other => unreachable!("only position transactions come here: {other:?}"),
    }
}

/// Keepers and protection: liquidate, deleverage, settle a delisted position, relist.
fn keeper_hash(tx: &Tx, s: &Stamp<'_>) -> B256 {
    let (nonce, expiry) = (s.nonce, s.expiry);
    match tx {
        Tx::Liquidate { user, position } => s.hash(t::Liquidate {
            user: *user,
            position: *position,
            nonce,
            expiry,
        }),
        Tx::Deleverage { user, market } => s.hash(t::Deleverage {
            user: *user,
            market: *market,
            nonce,
            expiry,
        }),
        Tx::SettleDelisted { user, position } => s.hash(t::SettleDelisted {
            user: *user,
            position: *position,
            nonce,
            expiry,
        }),
        Tx::Relist { user, market } => s.hash(t::Relist {
            user: *user,
            market: *market,
            nonce,
            expiry,
        }),
        other => unreachable!("only keeper transactions come here: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::Address;

    /// One transaction of every kind, with values that use every field (negative signed
    /// values, a price limit and none).
    fn every_kind() -> Vec<Tx> {
        let user = Address::repeat_byte(0x11);
        vec![
            Tx::MintAzusd {
                user,
                usdc: 1_000_001,
            },
            Tx::RedeemAzusd {
                user,
                azusd: 2_000_002,
            },
            Tx::DepositViaSwap {
                user,
                market: 3,
                amount_in: 4_000_004,
                min_azusd_out: 5_000_005,
            },
            Tx::SpotSwap {
                user,
                market: 6,
                base_for_quote: true,
                amount_specified: -7_000_007,
                sqrt_price_limit_x96: Some(U256::from(8_000_008u64) << 96),
            },
            Tx::SpotSwap {
                user,
                market: 6,
                base_for_quote: false,
                amount_specified: 9_000_009,
                sqrt_price_limit_x96: None,
            },
            Tx::SpotLiquidity {
                user,
                market: 10,
                tick_lower: -600,
                tick_upper: 1_200,
                liquidity_delta: -11_000_011,
                salt: 12,
            },
            Tx::CreateMarket {
                user,
                base_token: Address::repeat_byte(0xB0),
                base_decimals: 18,
                fee: 3_000,
                tick_spacing: 60,
                initial_price: 2_000 * 10u128.pow(18),
                tick_range: -6_000,
                seed_azusd: 13_000_013,
            },
            Tx::LpDeposit {
                user,
                amount: 14_000_014,
            },
            Tx::LpWithdraw {
                user,
                shares: 15_000_015,
            },
            Tx::OpenPosition {
                user,
                market: 16,
                qty: -17_000_017,
                margin: 18_000_018,
                price_bound: u128::MAX,
            },
            Tx::ModifyPosition {
                user,
                position: 19,
                qty_delta: i128::MIN,
                price_bound: 20,
            },
            Tx::ClosePosition {
                user,
                position: 21,
                price_bound: 22,
            },
            Tx::AddMargin {
                user,
                position: 23,
                amount: 24,
            },
            Tx::RemoveMargin {
                user,
                position: 25,
                amount: 26,
            },
            Tx::Liquidate { user, position: 27 },
            Tx::Deleverage { user, market: 28 },
            Tx::SettleDelisted { user, position: 29 },
            Tx::Relist { user, market: 30 },
        ]
    }

    /// The signing hashes of [`every_kind`] (nonce 41, expiry 1,700,000,042, chain 31,337),
    /// pinned: a signature made by any client version must stay valid.
    const PINNED: [&str; 18] = [
        "0x7d36ac9fa5bfb7d0c0ee5a342bd4269804c9cfb1f090d75f9e7ab92630160bf1",
        "0x3c320583d7564789741824d4abfb623aff593658313e78a921d0a8f46e417d07",
        "0xa8f432690737a20d6912d862882b2d35cb85190635cdf5666a0bb1d640708cc5",
        "0xeb18e3213497719ce1051168a13d7bcb37c3a21a9e20ce1a139b11ca69c96200",
        "0xcb1c0f46ebdf6a2b86c144b6b6370194240eae17ff92daddd03450dc7a61590f",
        "0x32c2647915c5f70e878bdd2a1803411c0052cfdc019290ebf10c4a82e67466cd",
        "0x0be91447ba747f8fd596686e6e8bfd0719041bdae00c45efde3e117906b5ee21",
        "0x6f3e3768a83451a49a7b96814f2345d7d688ee081305fe460b2a7119cea7b662",
        "0xa7f55ce3fab0662ee38b9638950a0e71e1b18bc98b0e1f67e4cff228ed33db66",
        "0x964a500695074c475e401c226082b6fc0a9e2bf7b1a33a6c507713c191202d5c",
        "0x8f2886fccd8a09e1788a487f1e1b858effb6854e655a71693e8a1827d3aeea2f",
        "0xbabc5361a63f3375b99f87cae483a6dcadfd52f9b5bec9cae175c927d5c75c51",
        "0x296cb7a9a0db9b21929dfe2ca7d66081a73cf38d7a2ce1906c53967e0c97bfb7",
        "0xfd3b85f0afbd99a1d2c519cd461ad924c3167f3815793edccd98880f282a79b3",
        "0xac8686f01fe87ffd309687ccd70899895517394b10d17012bc35f9fa19f343b5",
        "0x04a107b31f325cb536442ed45378988c4636a177141e23bbc6e0e86a384df986",
        "0xdf89cb89e0149074eabd253df3c9048a2a57ebd12c11c04a593a5f0385a77efb",
        "0xace2229d20091556d1fb6efc10ff285f41c152debdd4aadc1f635f59e745f20c",
    ];

    #[test]
    fn signing_hashes_are_pinned() {
        let d = domain(31_337);
        let txs = every_kind();
        assert_eq!(txs.len(), PINNED.len());
        for (tx, want) in txs.iter().zip(PINNED) {
            let got = signing_hash(tx, 41, 1_700_000_042, &d);
            assert_eq!(got.to_string(), want, "{tx:?}");
        }
    }

    #[test]
    fn nonce_expiry_and_chain_are_signed() {
        let tx = &every_kind()[0];
        let d = domain(31_337);
        let base = signing_hash(tx, 41, 1_700_000_042, &d);
        assert_ne!(base, signing_hash(tx, 42, 1_700_000_042, &d));
        assert_ne!(base, signing_hash(tx, 41, 1_700_000_043, &d));
        assert_ne!(base, signing_hash(tx, 41, 1_700_000_042, &domain(1)));
    }
}
