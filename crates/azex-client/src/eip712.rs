//! EIP-712 typed data for every transaction kind: one `sol!` struct per [`Tx`] variant, each
//! carrying the fields of the transaction plus the account `nonce` and an `expiry` (unix
//! seconds). The domain is `{name: "AZEx", version: "1", chainId}` (no verifying contract: the
//! node is not a contract). Hashing is alloy's (`SolStruct::eip712_signing_hash`), not ours.

use alloy_primitives::{B256, I256, U256};
use alloy_sol_types::{eip712_domain, Eip712Domain, SolStruct};
use azex_exchange::Tx;

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
/// and the transaction's hash on this chain.
pub fn signing_hash(tx: &Tx, nonce: u64, expiry: u64, domain: &Eip712Domain) -> B256 {
    use types as t;
    match tx {
        Tx::MintAzusd { user, usdc } => t::MintAzusd {
            user: *user,
            usdc: u(*usdc),
            nonce,
            expiry,
        }
        .eip712_signing_hash(domain),
        Tx::RedeemAzusd { user, azusd } => t::RedeemAzusd {
            user: *user,
            azusd: u(*azusd),
            nonce,
            expiry,
        }
        .eip712_signing_hash(domain),
        Tx::DepositViaSwap {
            user,
            market,
            amount_in,
            min_azusd_out,
        } => t::DepositViaSwap {
            user: *user,
            market: *market,
            amountIn: u(*amount_in),
            minAzusdOut: u(*min_azusd_out),
            nonce,
            expiry,
        }
        .eip712_signing_hash(domain),
        Tx::SpotSwap {
            user,
            market,
            base_for_quote,
            amount_specified,
            sqrt_price_limit_x96,
        } => t::SpotSwap {
            user: *user,
            market: *market,
            baseForQuote: *base_for_quote,
            amountSpecified: i(*amount_specified),
            hasSqrtPriceLimit: sqrt_price_limit_x96.is_some(),
            sqrtPriceLimitX96: sqrt_price_limit_x96.unwrap_or_default(),
            nonce,
            expiry,
        }
        .eip712_signing_hash(domain),
        Tx::SpotLiquidity {
            user,
            market,
            tick_lower,
            tick_upper,
            liquidity_delta,
            salt,
        } => t::SpotLiquidity {
            user: *user,
            market: *market,
            tickLower: *tick_lower,
            tickUpper: *tick_upper,
            liquidityDelta: i(*liquidity_delta),
            salt: *salt,
            nonce,
            expiry,
        }
        .eip712_signing_hash(domain),
        Tx::CreateMarket {
            user,
            base_token,
            base_decimals,
            fee,
            tick_spacing,
            initial_price,
            tick_range,
            seed_azusd,
        } => t::CreateMarket {
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
        }
        .eip712_signing_hash(domain),
        Tx::LpDeposit { user, amount } => t::LpDeposit {
            user: *user,
            amount: u(*amount),
            nonce,
            expiry,
        }
        .eip712_signing_hash(domain),
        Tx::LpWithdraw { user, shares } => t::LpWithdraw {
            user: *user,
            shares: u(*shares),
            nonce,
            expiry,
        }
        .eip712_signing_hash(domain),
        Tx::OpenPosition {
            user,
            market,
            qty,
            margin,
            price_bound,
        } => t::OpenPosition {
            user: *user,
            market: *market,
            qty: i(*qty),
            margin: u(*margin),
            priceBound: u(*price_bound),
            nonce,
            expiry,
        }
        .eip712_signing_hash(domain),
        Tx::ModifyPosition {
            user,
            position,
            qty_delta,
            price_bound,
        } => t::ModifyPosition {
            user: *user,
            position: *position,
            qtyDelta: i(*qty_delta),
            priceBound: u(*price_bound),
            nonce,
            expiry,
        }
        .eip712_signing_hash(domain),
        Tx::ClosePosition {
            user,
            position,
            price_bound,
        } => t::ClosePosition {
            user: *user,
            position: *position,
            priceBound: u(*price_bound),
            nonce,
            expiry,
        }
        .eip712_signing_hash(domain),
        Tx::AddMargin {
            user,
            position,
            amount,
        } => t::AddMargin {
            user: *user,
            position: *position,
            amount: u(*amount),
            nonce,
            expiry,
        }
        .eip712_signing_hash(domain),
        Tx::RemoveMargin {
            user,
            position,
            amount,
        } => t::RemoveMargin {
            user: *user,
            position: *position,
            amount: u(*amount),
            nonce,
            expiry,
        }
        .eip712_signing_hash(domain),
        Tx::Liquidate { user, position } => t::Liquidate {
            user: *user,
            position: *position,
            nonce,
            expiry,
        }
        .eip712_signing_hash(domain),
        Tx::Deleverage { user, market } => t::Deleverage {
            user: *user,
            market: *market,
            nonce,
            expiry,
        }
        .eip712_signing_hash(domain),
        Tx::SettleDelisted { user, position } => t::SettleDelisted {
            user: *user,
            position: *position,
            nonce,
            expiry,
        }
        .eip712_signing_hash(domain),
        Tx::Relist { user, market } => t::Relist {
            user: *user,
            market: *market,
            nonce,
            expiry,
        }
        .eip712_signing_hash(domain),
    }
}
