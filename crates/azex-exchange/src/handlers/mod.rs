//! Transaction handlers, one module per concern. Each reads and writes only through [`Ctx`].

// Internals (they read and write through the crate-private `Ctx`), except the two read-only
// checks the keepers and the node call from outside: `liquidation` and `price_guard`.
pub(crate) mod block;
pub(crate) mod ledger;
pub mod liquidation;
pub(crate) mod listing;
pub(crate) mod lp;
pub mod price_guard;
pub(crate) mod protection;
pub(crate) mod spot;
pub(crate) mod trade;

use crate::ctx::Ctx;
use crate::error::ExchangeError;
use crate::tx::Tx;

/// Route a transaction to its handler.
pub fn dispatch(ctx: &mut Ctx, tx: &Tx) -> Result<(), ExchangeError> {
    match *tx {
        Tx::MintAzusd { user, usdc } => ledger::mint(ctx, user, usdc),
        Tx::RedeemAzusd { user, azusd } => ledger::redeem(ctx, user, azusd),
        Tx::DepositViaSwap { .. }
        | Tx::SpotSwap { .. }
        | Tx::SpotLiquidity { .. }
        | Tx::CreateMarket { .. } => spot_or_listing(ctx, tx),
        Tx::LpDeposit { user, amount } => lp::deposit(ctx, user, amount).map(|_| ()),
        Tx::LpWithdraw { user, shares } => lp::withdraw(ctx, user, shares).map(|_| ()),
        Tx::OpenPosition {
            user,
            market,
            qty,
            margin,
            price_bound,
        } => trade::open(ctx, user, market, qty, margin, price_bound).map(|_| ()),
        Tx::ModifyPosition {
            user,
            position,
            qty_delta,
            price_bound,
        } => trade::modify(ctx, user, position, qty_delta, price_bound),
        Tx::ClosePosition {
            user,
            position,
            price_bound,
        } => trade::close(ctx, user, position, price_bound),
        Tx::AddMargin {
            user,
            position,
            amount,
        } => trade::add_margin(ctx, user, position, amount),
        Tx::RemoveMargin {
            user,
            position,
            amount,
        } => trade::remove_margin(ctx, user, position, amount),
        Tx::Liquidate { user, position } => liquidation::liquidate(ctx, user, position),
        Tx::Deleverage { market, .. } => protection::deleverage_tx(ctx, market),
        Tx::SettleDelisted { position, .. } => protection::settle_delisted(ctx, position),
        Tx::Relist { user, market } => protection::relist(ctx, user, market),
    }
}

/// The spot pool's transactions and listings.
fn spot_or_listing(ctx: &mut Ctx, tx: &Tx) -> Result<(), ExchangeError> {
    match *tx {
        Tx::DepositViaSwap {
            user,
            market,
            amount_in,
            min_azusd_out,
        } => spot::deposit_via_swap(ctx, user, market, amount_in, min_azusd_out).map(|_| ()),
        Tx::SpotSwap {
            user,
            market,
            base_for_quote,
            amount_specified,
            sqrt_price_limit_x96,
        } => spot::swap(
            ctx,
            user,
            market,
            base_for_quote,
            amount_specified,
            sqrt_price_limit_x96,
        )
        .map(|_| ()),
        Tx::SpotLiquidity {
            user,
            market,
            tick_lower,
            tick_upper,
            liquidity_delta,
            salt,
        } => spot::modify_liquidity(
            ctx,
            user,
            market,
            tick_lower,
            tick_upper,
            liquidity_delta,
            salt,
        )
        .map(|_| ()),
        Tx::CreateMarket {
            user,
            base_token,
            base_decimals,
            fee,
            tick_spacing,
            initial_price,
            tick_range,
            seed_azusd,
        } => listing::create_market(
            ctx,
            &listing::Listing {
                user,
                base_token,
                base_decimals,
                fee,
                tick_spacing,
                initial_price,
                tick_range,
                seed_azusd,
            },
        )
        .map(|_| ()),
        _ => Err(ExchangeError::Internal(
            "spot_or_listing: not a spot or listing transaction".into(),
        )),
    }
}
