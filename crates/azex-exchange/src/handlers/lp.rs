//! LP vault deposits and withdrawals (docs/protocol.md §8.2).
//!
//! Shares are priced at NAV (valued at risk prices, see [`crate::risk`]). Deposits mint
//! `amount × shares / NAV` rounded down; withdrawals pay `shares × NAV / shares_total` rounded
//! down. A withdrawal may not take capital that backs the requirement: after it,
//! `Σ required ≤ NAV × max_utilisation` must still hold, and it must fit the vault's cash.
//! Deposits are locked for `lp_lockup_secs` (no deposit-trade-withdraw loops in one block).

use crate::ctx::Ctx;
use crate::error::ExchangeError;
use crate::event::Event;
use crate::state::AZUSD;
use crate::units::{mul_div_down_u128, mul_wad_down, Checked, Usd};
use alloy_primitives::Address;

/// Shares minted for the very first deposit per azUSD unit (1 share = 1e-18; $1 = 1e18 shares).
pub(crate) const INITIAL_SHARES_PER_UNIT: u128 = 1_000_000_000_000;

pub(crate) fn deposit(ctx: &mut Ctx, user: Address, amount: Usd) -> Result<u128, ExchangeError> {
    if amount == 0 {
        return Err(ExchangeError::ZeroAmount);
    }
    let risk = ctx.vault_totals()?;
    let mut v = ctx.vault();
    let shares = if v.shares == 0 {
        amount
            .checked_mul(INITIAL_SHARES_PER_UNIT)
            .ok_or_else(crate::error::overflow)?
    } else {
        if risk.nav <= 0 {
            return Err(ExchangeError::VaultInsolvent);
        }
        mul_div_down_u128(amount, v.shares, risk.nav.unsigned_abs())?
    };
    if shares == 0 {
        return Err(ExchangeError::ZeroAmount);
    }
    ctx.debit(user, AZUSD, amount)?;
    v.cash = v.cash.add_c(amount)?;
    v.shares = v.shares.add_c(shares)?;
    ctx.put_vault(v);
    let mut a = ctx.lp(user);
    a.shares = a.shares.add_c(shares)?;
    a.unlock_time = ctx
        .block
        .timestamp
        .saturating_add(ctx.s.params.lp_lockup_secs);
    ctx.put_lp(user, a);
    ctx.emit(Event::LpDeposited {
        user,
        amount,
        shares,
    });
    Ok(shares)
}

pub(crate) fn withdraw(ctx: &mut Ctx, user: Address, shares: u128) -> Result<Usd, ExchangeError> {
    if shares == 0 {
        return Err(ExchangeError::ZeroAmount);
    }
    let mut a = ctx.lp(user);
    if a.shares < shares {
        return Err(ExchangeError::InsufficientShares {
            have: a.shares,
            need: shares,
        });
    }
    if ctx.block.timestamp < a.unlock_time {
        return Err(ExchangeError::WithdrawalLocked {
            unlock_time: a.unlock_time,
        });
    }
    let risk = ctx.vault_totals()?;
    let mut v = ctx.vault();
    let nav = if risk.nav > 0 {
        risk.nav.unsigned_abs()
    } else {
        0
    };
    let amount = mul_div_down_u128(shares, nav, v.shares)?;
    // The rest must still back the requirement.
    let nav_after = nav - amount;
    let usable_after = mul_wad_down(nav_after, ctx.s.params.max_vault_utilisation_wad)?;
    if risk.required > usable_after {
        let usable_now = mul_wad_down(nav, ctx.s.params.max_vault_utilisation_wad)?;
        let free = usable_now.saturating_sub(risk.required);
        return Err(ExchangeError::WithdrawalExceedsFreeLiquidity {
            requested: amount,
            free,
        });
    }
    if v.cash < amount {
        return Err(ExchangeError::VaultCashShort {
            cash: v.cash,
            need: amount,
        });
    }
    v.cash -= amount;
    v.shares -= shares;
    a.shares -= shares;
    ctx.put_vault(v);
    ctx.put_lp(user, a);
    ctx.credit(user, AZUSD, amount)?;
    ctx.emit(Event::LpWithdrawn {
        user,
        shares,
        amount,
    });
    Ok(amount)
}
