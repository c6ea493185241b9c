//! Mark price and execution price (docs/protocol.md §4, seed 001).
//!
//! ```text
//! markPrice      = spot × (1 + sign(net) × α × u^β),   u = |net| × spot / impactCapacity
//! impactCapacity = k1 × spotLiquidity + k2 × perpLiquidity
//! ```
//! `net = longOI − shortOI` in base units, so `|net| × spot` is the net notional in USD and `u`
//! is dimensionless.
//!
//! # Execution price: the integral of the mark curve
//! A trade moving net from `n0` to `n1` costs `∫_{n0}^{n1} mark(n) dn`. With `G(n) =
//! (C/S) × u(n)^(β+1) / (β+1)` (even in `n`, because the impact term is odd):
//! ```text
//! cost(n0 → n1) = S × (n1 − n0) + α × C / (β+1) × (u1^(β+1) − u0^(β+1))
//! ```
//! The second term is the *impact*: positive (a charge) when the trade grows |net|, negative (a
//! rebate) when it shrinks |net|; a trade that crosses zero is a rebate down to zero plus a charge
//! beyond. Because cost is an integral, splitting a trade into pieces costs the same as one trade,
//! and a round trip at constant S and C nets to zero impact before rounding — then rounding (always
//! toward +∞ on what the trader pays) makes every round trip a loss. Rebates are further scaled by
//! `rebate_factor ≤ 1` and capped by the market's impact pool in the trade handler, so no sequence
//! of trades (even one that changes C in between) is paid more impact than was charged.
//!
//! # Rounding
//! `pow` comes with an enclosure `down ≤ x^y ≤ up` (azex-math), `u` is computed rounded up for
//! the upper end and down for the lower end, so [`impact`] returns an upper bound of the charge and
//! a lower bound of the rebate: the protocol never pays out an unearned unit.

use crate::error::ExchangeError;
use crate::units::{mul_wad_down, notional_down, Price, Qty, SignedUsd, Usd, WAD};
use azex_math::{mul_div, mul_div_rounding_up, Rounding, U256};

/// α and β of one market.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImpactCurve {
    /// α, the premium at utilisation 1 (WAD).
    pub alpha_wad: u128,
    /// β, the curve's exponent (WAD).
    pub beta_wad: u128,
}

/// `impactCapacity = k1 × spotLiquidity + k2 × perpLiquidity`, rounded down (a safety figure).
pub fn impact_capacity(
    k1_wad: u128,
    spot_liquidity: Usd,
    k2_wad: u128,
    perp_liquidity: Usd,
) -> Result<Usd, ExchangeError> {
    mul_wad_down(spot_liquidity, k1_wad)?
        .checked_add(mul_wad_down(perp_liquidity, k2_wad)?)
        .ok_or_else(crate::error::overflow)
}

/// `u = |n| × S / C` in WAD, rounded in direction `r`.
pub fn utilisation(n: Qty, spot: Price, capacity: Usd, r: Rounding) -> Result<U256, ExchangeError> {
    if capacity == 0 {
        return Err(ExchangeError::DivisionByZero);
    }
    // |n| (1e18) × S (1e18) / (1e12 × C (1e6)) = WAD
    let num = U256::from(n.unsigned_abs()) * U256::from(spot); // < 2^256: both < 2^128
    let den = U256::from(capacity) * U256::from(1_000_000_000_000u128);
    Ok(azex_math::div_rounded(num, den, r)?)
}

/// `α × u^β` (the premium of the mark over spot), rounded down (display and funding).
pub fn premium_wad(curve: ImpactCurve, u_wad: U256) -> Result<u128, ExchangeError> {
    let p = azex_math::pow::pow_wad_down(u_wad, U256::from(curve.beta_wad))?;
    let v = mul_div(p, U256::from(curve.alpha_wad), U256::from(WAD))?;
    u128::try_from(v).map_err(|_| ExchangeError::Overflow)
}

/// Signed premium: positive when longs dominate.
pub fn signed_premium_wad(
    curve: ImpactCurve,
    net: Qty,
    spot: Price,
    capacity: Usd,
) -> Result<i128, ExchangeError> {
    if net == 0 {
        return Ok(0);
    }
    let u = utilisation(net, spot, capacity, Rounding::Down)?;
    let p = i128::try_from(premium_wad(curve, u)?).map_err(|_| ExchangeError::Overflow)?;
    Ok(if net > 0 { p } else { -p })
}

/// The signed premium clamped at `max_wad` (docs/protocol.md §4.10): `sign(net) × min(α u^β, max)`,
/// rounded toward zero; with no capacity any non-zero net is at the clamp.
pub fn clamped_signed_premium_wad(
    curve: ImpactCurve,
    net: Qty,
    spot: Price,
    capacity: Usd,
    max_wad: u128,
) -> Result<i128, ExchangeError> {
    let max = i128::try_from(max_wad).map_err(|_| ExchangeError::Overflow)?;
    Ok(match (net, capacity) {
        (0, _) => 0,
        (_, 0) => max * net.signum(),
        _ => signed_premium_wad(curve, net, spot, capacity)?.clamp(-max, max),
    })
}

/// `spot × (1 + premium)` for a signed premium in WAD, the adjustment rounded down.
pub fn apply_premium(spot: Price, premium_wad: i128) -> Result<Price, ExchangeError> {
    let adj = mul_wad_down(spot, premium_wad.unsigned_abs())?;
    if premium_wad >= 0 {
        spot.checked_add(adj).ok_or_else(crate::error::overflow)
    } else {
        Ok(spot.saturating_sub(adj))
    }
}

/// The mark price for a market state. The premium is clamped to `max_display_premium_wad`
/// (< 100 %) so a short-dominated mark stays positive even if depth vanished.
pub fn mark_price(
    curve: ImpactCurve,
    net: Qty,
    spot: Price,
    capacity: Usd,
    max_display_premium_wad: u128,
) -> Result<Price, ExchangeError> {
    if net == 0 || spot == 0 {
        return Ok(spot);
    }
    if capacity == 0 {
        let adj = mul_wad_down(spot, max_display_premium_wad)?;
        return Ok(if net > 0 { spot + adj } else { spot - adj });
    }
    let prem = signed_premium_wad(curve, net, spot, capacity)?;
    let clamped = prem.unsigned_abs().min(max_display_premium_wad);
    let adj = mul_wad_down(spot, clamped)?;
    Ok(if prem > 0 {
        spot.checked_add(adj).ok_or_else(crate::error::overflow)?
    } else {
        spot - adj
    })
}

/// The impact of moving net from `n0` to `n1` at spot `S` and capacity `C`, split into the
/// charge (growing |net|, rounded up) and the rebate (shrinking |net|, rounded down), both ≥ 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Impact {
    /// What the trade pays for growing |net| (azUSD units, rounded up).
    pub charge: Usd,
    /// What the curve returns for shrinking |net| (azUSD units, rounded down).
    pub rebate: Usd,
}

/// A lower bound of `F(u) = u^(β+1)`.
fn f_down(curve: ImpactCurve, u: U256) -> Result<U256, ExchangeError> {
    Ok(azex_math::pow::pow_wad_down(
        u,
        U256::from(curve.beta_wad + WAD),
    )?)
}

/// An upper bound of `F(u) = u^(β+1)`.
fn f_up(curve: ImpactCurve, u: U256) -> Result<U256, ExchangeError> {
    Ok(azex_math::pow::pow_wad_up(
        u,
        U256::from(curve.beta_wad + WAD),
    )?)
}

/// `α × C / (β+1) × x` with `x` in WAD, rounded in direction `r`.
fn scale(
    curve: ImpactCurve,
    capacity: Usd,
    x_wad: U256,
    r: Rounding,
) -> Result<Usd, ExchangeError> {
    // x × α / WAD × C / (β+1) — in one mulDiv: x × (α × C) / (WAD × (β+1)/WAD × WAD)
    let num = U256::from(curve.alpha_wad) * U256::from(capacity);
    let den = U256::from(curve.beta_wad + WAD); // × WAD (β+1 is WAD) → /WAD cancels one WAD of x
                                                // x_wad × α_wad × C / (WAD × (β+1)_wad) → result in C's unit (azUSD)
    let den = den * U256::from(WAD);
    let v = azex_math::mul_div_rounded(x_wad, num, den, r)?;
    u128::try_from(v).map_err(|_| ExchangeError::Overflow)
}

/// Impact charge/rebate of a trade moving net from `n0` to `n1` (see the module docs).
pub fn impact(
    curve: ImpactCurve,
    n0: Qty,
    n1: Qty,
    spot: Price,
    capacity: Usd,
) -> Result<Impact, ExchangeError> {
    impact_with_end(curve, n0, n1, spot, capacity).map(|(i, _)| i)
}

/// The end point of a trade on the curve as [`impact`] computed it: `u1` rounded up and an
/// upper bound of `u1^(β+1)`. Lets the premium cap be checked without another power.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurveEnd {
    /// `u1`, rounded up (WAD).
    pub u_up: U256,
    /// An upper bound of `u1^(β+1)` (WAD).
    pub f_up: U256,
}

/// [`impact`], also returning the trade's [`CurveEnd`].
pub fn impact_with_end(
    curve: ImpactCurve,
    n0: Qty,
    n1: Qty,
    spot: Price,
    capacity: Usd,
) -> Result<(Impact, CurveEnd), ExchangeError> {
    if n0 == n1 {
        // No trade: nothing to price (the end point is left at zero).
        let end = CurveEnd {
            u_up: U256::ZERO,
            f_up: U256::ZERO,
        };
        return Ok((Impact::default(), end));
    }
    if capacity == 0 {
        return Err(ExchangeError::DivisionByZero);
    }
    let u1_up = utilisation(n1, spot, capacity, Rounding::Up)?;
    let f1_up = f_up(curve, u1_up)?;
    let end = CurveEnd {
        u_up: u1_up,
        f_up: f1_up,
    };
    if capacity == 0 {
        return Err(ExchangeError::DivisionByZero);
    }
    let same_side = (n0 >= 0 && n1 >= 0) || (n0 <= 0 && n1 <= 0);
    let f0_down = f_down(curve, utilisation(n0, spot, capacity, Rounding::Down)?)?;
    let imp = if same_side {
        let (a, b) = (n0.unsigned_abs(), n1.unsigned_abs());
        if b > a {
            // Charge: F(u1)_up − F(u0)_down, scaled up.
            Impact {
                charge: scale(curve, capacity, f1_up.saturating_sub(f0_down), Rounding::Up)?,
                rebate: 0,
            }
        } else {
            // Rebate: F(u0)_down − F(u1)_up (a lower bound), scaled down.
            Impact {
                charge: 0,
                rebate: scale(
                    curve,
                    capacity,
                    f0_down.saturating_sub(f1_up),
                    Rounding::Down,
                )?,
            }
        }
    } else {
        // Crossing zero: rebate from n0 down to 0, charge from 0 to n1.
        Impact {
            charge: scale(curve, capacity, f1_up, Rounding::Up)?,
            rebate: scale(curve, capacity, f0_down, Rounding::Down)?,
        }
    };
    Ok((imp, end))
}

/// `u_c` with `α u_c^β = max_premium` (WAD), rounded down: where the mark curve is clamped.
/// `(max_premium / α)^(1/β)` with both quotients rounded down; the premium actually charged
/// beyond `u_c` is `α u_c^β` (within the power's enclosure of `max_premium`).
pub fn clamp_utilisation(curve: ImpactCurve, max_premium_wad: u128) -> Result<u128, ExchangeError> {
    if curve.alpha_wad == 0 || curve.beta_wad == 0 {
        return Err(ExchangeError::DivisionByZero);
    }
    let ratio = mul_div(
        U256::from(max_premium_wad),
        U256::from(WAD),
        U256::from(curve.alpha_wad),
    )?;
    let inv_beta = mul_div(U256::from(WAD), U256::from(WAD), U256::from(curve.beta_wad))?;
    let u = azex_math::pow::pow_wad_down(ratio, inv_beta)?;
    u128::try_from(u).map_err(|_| ExchangeError::Overflow)
}

/// Whether a net of `n` at price `b` and capacity `c` lies beyond the clamp `u_c` (exactly:
/// `|n| × b > c × u_c × 1e12`, i.e. `u > u_c`). With no capacity every non-zero net does.
pub fn beyond_clamp(n: Qty, b: Price, capacity: Usd, clamp_u_wad: u128) -> bool {
    let lhs = U256::from(n.unsigned_abs()) * U256::from(b);
    let rhs = U256::from(capacity)
        .saturating_mul(U256::from(clamp_u_wad))
        .saturating_mul(U256::from(1_000_000_000_000u128));
    lhs > rhs
}

/// The clamped impact integral from 0 to `|n|`, `I(n) = ∫_0^|n| b × p(u(m)) dm`, in azUSD × WAD
/// (so that the charge/rebate of a trade is rounded once, at the end), bounded `up` or down:
/// ```text
/// u ≤ u_c:  I = α C u^(β+1) / (β+1)
/// u > u_c:  I = α C u_c^(β+1) / (β+1) + α u_c^β × (|n| b − C u_c)
/// ```
/// (the second form is the first continued with the slope of the premium at `u_c`; with `C = 0`
/// only its last term remains: `p_c × |n| × b`).
fn clamped_integral_xw(
    curve: ImpactCurve,
    n: Qty,
    b: Price,
    capacity: Usd,
    clamp_u_wad: u128,
    r: Rounding,
) -> Result<U256, ExchangeError> {
    if n == 0 {
        return Ok(U256::ZERO);
    }
    let alpha = U256::from(curve.alpha_wad);
    let b1 = U256::from(curve.beta_wad + WAD);
    let cap = U256::from(capacity);
    let pow = |x: U256, y: U256| -> Result<U256, ExchangeError> {
        Ok(azex_math::pow_wad_rounded(x, y, r)?)
    };
    let div = |a: U256, m: U256, d: U256| -> Result<U256, ExchangeError> {
        Ok(azex_math::mul_div_rounded(a, m, d, r)?)
    };
    if !beyond_clamp(n, b, capacity, clamp_u_wad) {
        let u = utilisation(n, b, capacity, r)?;
        let f = pow(u, b1)?;
        return div(alpha * cap, f, b1);
    }
    let uc = U256::from(clamp_u_wad);
    let g = pow(uc, U256::from(curve.beta_wad))?; // u_c^β
    let h = pow(uc, b1)?; // u_c^(β+1)
    let head = if capacity == 0 {
        U256::ZERO
    } else {
        div(alpha * cap, h, b1)?
    };
    // |n| × b / 1e12 = N in azUSD × WAD, bounded in the same direction; C × u_c is exact.
    let nb = U256::from(n.unsigned_abs()) * U256::from(b);
    let notional_xw = azex_math::div_rounded(nb, U256::from(1_000_000_000_000u128), r)?;
    let excess = notional_xw.saturating_sub(cap * uc);
    let tail = div(alpha * g, excess, U256::from(WAD) * U256::from(WAD))?;
    head.checked_add(tail).ok_or_else(crate::error::overflow)
}

/// [`impact`] on the clamped curve (docs/protocol.md §4.4–§4.5): the premium never exceeds
/// `α u_c^β`, so a trade that reduces exposure pays at most that per unit however thin the market,
/// and a trade at zero capacity pays exactly that. Charges are rounded up, rebates down, from bounds of
/// the integral taken in the protocol's favour.
pub fn impact_clamped(
    curve: ImpactCurve,
    n0: Qty,
    n1: Qty,
    b: Price,
    capacity: Usd,
    clamp_u_wad: u128,
) -> Result<Impact, ExchangeError> {
    if n0 == n1 {
        return Ok(Impact::default());
    }
    let i = |n: Qty, r: Rounding| clamped_integral_xw(curve, n, b, capacity, clamp_u_wad, r);
    let to_usd = |x: U256, r: Rounding| -> Result<Usd, ExchangeError> {
        let v = azex_math::div_rounded(x, U256::from(WAD), r)?;
        u128::try_from(v).map_err(|_| ExchangeError::Overflow)
    };
    use Rounding::{Down, Up};
    let same_side = (n0 >= 0 && n1 >= 0) || (n0 <= 0 && n1 <= 0);
    Ok(if same_side {
        if n1.unsigned_abs() > n0.unsigned_abs() {
            Impact {
                charge: to_usd(i(n1, Up)?.saturating_sub(i(n0, Down)?), Up)?,
                rebate: 0,
            }
        } else {
            Impact {
                charge: 0,
                rebate: to_usd(i(n0, Down)?.saturating_sub(i(n1, Up)?), Down)?,
            }
        }
    } else {
        Impact {
            charge: to_usd(i(n1, Up)?, Up)?,
            rebate: to_usd(i(n0, Down)?, Down)?,
        }
    })
}

/// Whether the premium at the end of a trade, `α × u1^β` as [`premium_wad`] computes it, is at
/// most `max_wad`, decided without a power when possible: `u^β = u^(β+1) / u ≤ f_up / u_up`…
/// precisely, `premium_wad(u_up) ≤ α × u_up^β ≤ α × f_up / u_up` (reals, `f_up ≥ u_up^(β+1)`),
/// so if the last figure, rounded up, is within the cap so is the premium. Otherwise (near or
/// above the cap) the premium is computed. Returns `Ok(None)` when within, `Ok(Some(premium))`
/// when above.
pub fn premium_above_cap(
    curve: ImpactCurve,
    end: CurveEnd,
    max_wad: u128,
) -> Result<Option<u128>, ExchangeError> {
    if end.u_up.is_zero() {
        return Ok(None);
    }
    let bound = mul_div_rounding_up(end.f_up, U256::from(curve.alpha_wad), end.u_up)?;
    if bound <= U256::from(max_wad) {
        return Ok(None);
    }
    let prem = premium_wad(curve, end.u_up)?;
    Ok((prem > max_wad).then_some(prem))
}

/// The signed spot part of a trade's cost, `S × Δ`, rounded toward +∞ (what the trader owes).
pub fn spot_cost(delta: Qty, spot: Price) -> Result<SignedUsd, ExchangeError> {
    crate::units::signed_value_ceil(delta, spot)
}

/// The average execution price of a trade with signed total `cost` for `delta` (display only),
/// rounded against the trader (up for buys, down for sells).
pub fn average_price(delta: Qty, cost: SignedUsd) -> Result<Price, ExchangeError> {
    if delta == 0 {
        return Ok(0);
    }
    // price = |cost| (1e6) × 1e30 / |delta| (1e18)
    let c = cost.unsigned_abs();
    let num = U256::from(c) * U256::from(crate::units::NOTIONAL_DIVISOR);
    let d = U256::from(delta.unsigned_abs());
    let v = if delta > 0 {
        azex_math::div_rounding_up(num, d)?
    } else {
        num / d
    };
    u128::try_from(v).map_err(|_| ExchangeError::Overflow)
}

/// Net notional `|n| × S`, rounded down.
pub fn net_notional(n: Qty, spot: Price) -> Result<Usd, ExchangeError> {
    notional_down(n, spot)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{QTY_ONE, USD_ONE};
    use proptest::prelude::*;

    const CURVE: ImpactCurve = ImpactCurve {
        alpha_wad: WAD / 20,
        beta_wad: 3 * WAD / 2,
    };
    const S: Price = 2_000 * WAD;
    const C: Usd = 10_000_000 * USD_ONE;

    fn q(tokens: i128) -> Qty {
        tokens * QTY_ONE as i128
    }

    #[test]
    fn mark_is_spot_when_balanced_and_moves_with_skew() {
        assert_eq!(mark_price(CURVE, 0, S, C, WAD / 2).unwrap(), S);
        // 5,000 tokens × $2,000 = $10M = C → u = 1 → premium = α = 5 %.
        let m = mark_price(CURVE, q(5_000), S, C, WAD / 2).unwrap();
        assert!(m.abs_diff(S + S / 20) <= 2, "{m}");
        let m = mark_price(CURVE, q(-5_000), S, C, WAD / 2).unwrap();
        assert!(m.abs_diff(S - S / 20) <= 2, "{m}");
    }

    #[test]
    fn opening_from_balance_pays_average_of_curve() {
        // From 0 to u = 1: impact = α C / (β+1) = 0.05 × 10M / 2.5 = $200,000
        let imp = impact(CURVE, 0, q(5_000), S, C).unwrap();
        assert_eq!(imp.rebate, 0);
        assert!(
            imp.charge.abs_diff(200_000 * USD_ONE) <= 2,
            "{}",
            imp.charge
        );
        // Closing gives back at most the same.
        let back = impact(CURVE, q(5_000), 0, S, C).unwrap();
        assert!(back.rebate <= imp.charge && imp.charge - back.rebate <= 4);
    }

    #[test]
    fn crossing_zero_is_rebate_then_charge() {
        let imp = impact(CURVE, q(1_000), q(-2_000), S, C).unwrap();
        let r = impact(CURVE, q(1_000), 0, S, C).unwrap();
        let c = impact(CURVE, 0, q(-2_000), S, C).unwrap();
        assert_eq!(imp.rebate, r.rebate);
        assert_eq!(imp.charge, c.charge);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        /// Splitting a trade into k pieces costs at least as much as one trade (rounding favours
        /// the protocol), and at most k·ε more.
        #[test]
        fn split_costs_same_as_whole(start in -4_000i128..4_000, sizes in proptest::collection::vec(1i128..2_000, 1..8), sell in any::<bool>()) {
            let sgn = if sell { -1 } else { 1 };
            let n0 = q(start);
            let total: i128 = sizes.iter().sum::<i128>() * sgn;
            let whole = impact(CURVE, n0, n0 + q(total), S, C).unwrap();
            let mut n = n0;
            let (mut ch, mut rb) = (0u128, 0u128);
            for s in &sizes {
                let i = impact(CURVE, n, n + q(s * sgn), S, C).unwrap();
                ch += i.charge; rb += i.rebate; n += q(s * sgn);
            }
            let whole_net = whole.charge as i128 - whole.rebate as i128;
            let split_net = ch as i128 - rb as i128;
            prop_assert!(split_net >= whole_net - 2, "split {split_net} < whole {whole_net}");
            prop_assert!(split_net - whole_net <= 4 * (sizes.len() as i128 + 1), "split {split_net} whole {whole_net}");
        }

        /// The premium-cap shortcut decides exactly as computing the premium does.
        #[test]
        fn premium_cap_shortcut_is_exact(n in 1i128..20_000, short in any::<bool>(), cap_m in 1u128..100, d in -3i128..3, beta_pct in 100u128..300) {
            let curve = ImpactCurve { alpha_wad: WAD / 20, beta_wad: beta_pct * WAD / 100 };
            let n1 = if short { -q(n) } else { q(n) };
            let c = cap_m * 1_000_000 * USD_ONE;
            let (_, end) = impact_with_end(curve, 0, n1, S, c).unwrap();
            let direct = premium_wad(curve, utilisation(n1, S, c, Rounding::Up).unwrap()).unwrap();
            for max in [direct.saturating_add_signed(d), direct / 2, direct.saturating_mul(2), WAD / 50] {
                prop_assert_eq!(
                    premium_above_cap(curve, end, max).unwrap(),
                    (direct > max).then_some(direct)
                );
            }
        }

        /// Below the clamp the clamped integral is the plain one (within a unit of rounding);
        /// beyond it no unit pays more than the clamped premium; splitting a trade on the clamped
        /// curve costs at least the whole and a round trip never earns.
        #[test]
        fn clamped_curve(start in -20_000i128..20_000, size in -20_000i128..20_000, pieces in 1usize..6, cap_m in 0u128..20) {
            let c = cap_m * 1_000_000 * USD_ONE;
            let uc = clamp_utilisation(CURVE, WAD / 50).unwrap();
            let (n0, n1) = (q(start), q(start + size));
            let clamped = impact_clamped(CURVE, n0, n1, S, c, uc).unwrap();
            let far = if n1.unsigned_abs() > n0.unsigned_abs() { n1 } else { n0 };
            if c > 0 && !beyond_clamp(far, S, c, uc) {
                let plain = impact(CURVE, n0, n1, S, c).unwrap();
                prop_assert!(clamped.charge.abs_diff(plain.charge) <= 1 && clamped.rebate.abs_diff(plain.rebate) <= 1);
            }
            // Per unit at most α u_c^β ≤ 2 % (+ rounding), on each leg.
            let max_per = |n: i128| notional_down(n, S).unwrap() / 50 + 2;
            prop_assert!(clamped.charge <= max_per(size.abs() * QTY_ONE as i128));
            prop_assert!(clamped.rebate <= max_per(size.abs() * QTY_ONE as i128));
            let back = impact_clamped(CURVE, n1, n0, S, c, uc).unwrap();
            prop_assert!(clamped.charge + back.charge >= clamped.rebate + back.rebate);
            let step = size / pieces as i128;
            if step != 0 {
                let (mut n, mut net) = (n0, 0i128);
                for k in 0..pieces {
                    let next = if k + 1 == pieces { n1 } else { n + q(step) };
                    let i = impact_clamped(CURVE, n, next, S, c, uc).unwrap();
                    net += i.charge as i128 - i.rebate as i128;
                    n = next;
                }
                let whole = clamped.charge as i128 - clamped.rebate as i128;
                prop_assert!(net >= whole - 2, "split {net} whole {whole}");
            }
        }

        /// A round trip never earns impact.
        #[test]
        fn round_trip_never_profits(start in -8_000i128..8_000, size in -8_000i128..8_000) {
            let n0 = q(start);
            let n1 = n0 + q(size);
            let a = impact(CURVE, n0, n1, S, C).unwrap();
            let b = impact(CURVE, n1, n0, S, C).unwrap();
            prop_assert!(a.charge + b.charge >= a.rebate + b.rebate);
        }
    }
}
