//! The azUSD ledger (docs/protocol.md §10): mint and redeem 1:1 against USDC, reserves in yield
//! strategies with a liquid buffer, yield split between LPs and the treasury.
//!
//! Double entry: `azUSD supply = liquid USDC + Σ strategy assets + Σ withdrawals in transit`
//! holds after every transaction. Yield is minted as azUSD exactly when the USDC it represents
//! has accrued in a strategy, so the identity holds through yield too.

use crate::ctx::Ctx;
use crate::error::ExchangeError;
use crate::event::Event;
use crate::state::{PendingWithdrawal, AZUSD, USDC};
use crate::units::{mul_div_down_u128, mul_wad_down, Checked, WAD};
use alloy_primitives::Address;

const SECONDS_PER_YEAR: u128 = 365 * 86_400;

/// Mint azUSD 1:1 for USDC.
pub(crate) fn mint(ctx: &mut Ctx, user: Address, usdc: u128) -> Result<(), ExchangeError> {
    if usdc == 0 {
        return Err(ExchangeError::ZeroAmount);
    }
    ctx.debit(user, USDC, usdc)?;
    let mut l = ctx.ledger();
    l.usdc_liquid = l.usdc_liquid.add_c(usdc)?;
    l.azusd_supply = l.azusd_supply.add_c(usdc)?;
    ctx.put_ledger(l);
    ctx.credit(user, AZUSD, usdc)?;
    ctx.emit(Event::AzusdMinted { user, amount: usdc });
    Ok(())
}

/// Redeem azUSD 1:1 for USDC from the liquid buffer.
pub(crate) fn redeem(ctx: &mut Ctx, user: Address, azusd: u128) -> Result<(), ExchangeError> {
    if azusd == 0 {
        return Err(ExchangeError::ZeroAmount);
    }
    ctx.debit(user, AZUSD, azusd)?;
    let mut l = ctx.ledger();
    if l.usdc_liquid < azusd {
        return Err(ExchangeError::InsufficientLiquidBuffer {
            liquid: l.usdc_liquid,
            need: azusd,
        });
    }
    l.usdc_liquid -= azusd;
    l.azusd_supply = l.azusd_supply.sub_c(azusd)?;
    ctx.put_ledger(l);
    ctx.credit(user, USDC, azusd)?;
    ctx.emit(Event::AzusdRedeemed {
        user,
        amount: azusd,
    });
    Ok(())
}

/// Block begin: accrue strategy yield up to now (simple interest on assets, rounded down), mint it
/// as azUSD (LP share to the vault, the rest to the treasury), and land matured withdrawals.
pub(crate) fn accrue_yield(ctx: &mut Ctx) -> Result<(), ExchangeError> {
    let now = ctx.block.timestamp;
    let mut l = ctx.ledger();
    if l.strategies.is_empty() {
        return Ok(());
    }
    let mut vault = ctx.vault();
    let mut funds = ctx.funds();
    let lp_share = ctx.s.params.lp_yield_share_wad;
    for (i, s) in l.strategies.iter_mut().enumerate() {
        let dt = u128::from(now.saturating_sub(s.last_accrual));
        s.last_accrual = s.last_accrual.max(now);
        if dt > 0 && s.assets > 0 {
            let y = mul_div_down_u128(
                mul_wad_down(s.assets, s.config.rate_per_year_wad)?,
                dt,
                SECONDS_PER_YEAR,
            )?;
            if y > 0 {
                s.assets = s.assets.add_c(y)?;
                l.azusd_supply = l.azusd_supply.add_c(y)?;
                l.yield_minted = l.yield_minted.add_c(y)?;
                let to_vault = mul_wad_down(y, lp_share)?;
                vault.cash = vault.cash.add_c(to_vault)?;
                vault.yield_earned = vault.yield_earned.add_c(to_vault)?;
                funds.treasury = funds.treasury.add_c(y - to_vault)?;
                ctx.fx.events.push(Event::YieldAccrued {
                    strategy: crate::ids::strategy_id(i),
                    amount: y,
                    to_vault,
                    to_treasury: y - to_vault,
                });
            }
        }
        let mut arrived = 0u128;
        s.pending.retain(|p| {
            if p.ready_at <= now {
                arrived += p.amount;
                false
            } else {
                true
            }
        });
        if arrived > 0 {
            l.usdc_liquid = l.usdc_liquid.add_c(arrived)?;
            ctx.fx.events.push(Event::StrategyWithdrawalArrived {
                strategy: crate::ids::strategy_id(i),
                amount: arrived,
            });
        }
    }
    ctx.put_ledger(l);
    ctx.put_vault(vault);
    ctx.put_funds(funds);
    Ok(())
}

/// Block end: keep `liquid_buffer` of the backing liquid; deploy any excess into strategies by
/// their target shares (within capacity), or request withdrawals (which arrive after each
/// strategy's delay) when the buffer is short.
pub(crate) fn rebalance(ctx: &mut Ctx) -> Result<(), ExchangeError> {
    let mut l = ctx.ledger();
    if l.strategies.is_empty() {
        return Ok(());
    }
    let backing = l.backing().ok_or_else(crate::error::overflow)?;
    let target_liquid = mul_wad_down(backing, ctx.s.params.liquid_buffer_wad)?;
    let in_transit: u128 = l
        .strategies
        .iter()
        .flat_map(|s| s.pending.iter())
        .map(|p| p.amount)
        .sum();
    let now = ctx.block.timestamp;
    if l.usdc_liquid > target_liquid {
        let deployable = l.usdc_liquid - target_liquid;
        for (i, s) in l.strategies.iter_mut().enumerate() {
            let want = mul_wad_down(deployable, s.config.target_share_wad.min(WAD))?;
            let room = s.config.capacity.saturating_sub(s.assets);
            let amount = want.min(room);
            if amount > 0 {
                s.assets += amount;
                l.usdc_liquid -= amount;
                ctx.fx.events.push(Event::StrategyRebalanced {
                    strategy: crate::ids::strategy_id(i),
                    deposited: amount,
                    withdrawal_requested: 0,
                });
            }
        }
    } else if l.usdc_liquid.saturating_add(in_transit) < target_liquid {
        let mut short = target_liquid - l.usdc_liquid - in_transit;
        for (i, s) in l.strategies.iter_mut().enumerate() {
            if short == 0 {
                break;
            }
            let amount = short.min(s.assets);
            if amount > 0 {
                s.assets -= amount;
                s.pending.push(PendingWithdrawal {
                    amount,
                    ready_at: now.saturating_add(s.config.withdrawal_delay_secs),
                });
                short -= amount;
                ctx.fx.events.push(Event::StrategyRebalanced {
                    strategy: crate::ids::strategy_id(i),
                    deposited: 0,
                    withdrawal_requested: amount,
                });
            }
        }
    }
    ctx.put_ledger(l);
    Ok(())
}
