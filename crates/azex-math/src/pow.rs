//! Deterministic `log2`, `exp2` and fractional powers `x^y` in WAD with a proven enclosure.
//!
//! # What is guaranteed
//!
//! For `x` in WAD (any [`U256`], i.e. `0 <= x < 1.16e59`) and `y` in WAD with
//! `0 <= y <= POW_MAX_EXPONENT` (1000.0), let `v = 1e18 * (x/1e18)^(y/1e18)` be the exact real
//! result in WAD units. Then
//!
//! 1. **Enclosure**: `pow_wad_down(x, y) <= v <= pow_wad_up(x, y)`, always (when both return
//!    `Ok`).
//! 2. **Gap**: `pow_wad_up(x, y) - pow_wad_down(x, y) <= ceil(eps(y) * v) + 1` with
//!    `eps(y) = (y + 16) * 2^-60`, `y` the real exponent. So each side is within
//!    `eps(y) * v + 1` unit of the truth: `eps <= 1.74e-17` for `y <= 4` and
//!    `eps <= 8.82e-16` for every accepted `y`. (The `+ 1` is the unavoidable integer
//!    rounding: with `v = 4.0000001` units, `down = 4`, `up = 5`.)
//! 3. **Exact cases**: `y == 0` gives `1e18` (including `0^0 = 1`); `x == 0` gives 0;
//!    `y == 1e18` gives `x`; `x == 1e18` gives `1e18` (these four for any `y`, even above
//!    the maximum); integer `y` in `2..=5` gives `floor(v)` / `ceil(v)` exactly (integer
//!    power in up to 512 bits); results below one unit give `down = 0`, `up = 1`.
//! 4. **Errors**: [`MathError::Overflow`] when the rounded result does not fit in `U256`
//!    (the up side can overflow while the down side still fits);
//!    [`MathError::Domain`] for `y > POW_MAX_EXPONENT`. No input panics.
//!
//! `log2_q64_*`, `log2_wad_*` and `exp2_wad_*` are exposed with the same discipline: `_down`
//! is a lower bound of the exact real value, `_up` an upper bound.
//!
//! # Algorithm
//!
//! `v = 2^t` with `t = y * (log2 X - log2 1e18) + log2 1e18` (`X` = the raw integer `x`).
//! All internal values are binary fixed point; `Qn` means "integer scaled by `2^n`".
//!
//! **log2** (result in Q64, 64 fractional bits). `X = m * 2^(e-63)` with the 64-bit mantissa
//! `m` in `[2^63, 2^64)` (low bits of `X` beyond 64 significant bits are truncated, so the
//! true mantissa lies in `[m, m + 1)`). With `i` = the top 8 fraction bits of `m`, multiply by
//! the table value `R_i ~ 1 / (1 + (i + 1/2)/256)` (Q64): the product `w = m R_i` is exact in
//! Q127 and `z = w - 1` satisfies `|z| <= 2^-9 + 2^-63`. Then
//! `log2(m) = L_i + log2(1 + z)` where `L_i = -log2(R_i)` is tabulated, and
//! `log2(1 + z) = z/ln2 - z^2 * S(z)`, `S(z) = sum_{n>=2} (-1)^n z^(n-2) / (n ln 2)`, truncated
//! after `n = 7` (remainder `< 2^-74`). Error budget in Q64 ulps: `L_i` floor `< 1`; the
//! leading term `z * floor(2^63 / ln 2) / 2^126`, floored, `< 1 + 2^-8`; `S` in Q62 Horner
//! (coefficient, input and product floors, damped by `|z| < 2^-9`) `< 2^-60.4` absolute, which
//! after multiplication by `z^2 < 2^-18` is negligible; `z^2` in Q64 `< 1.01` ulp times
//! `S < 0.73`, plus the final floor: `< 1.75`. Total `|error| < 3.76` ulps for an exact
//! mantissa; mantissa truncation adds `[0, log2(1 + 2^-63)) < 2.89` ulps upwards. Hence
//! `log2 X in [v - 5, v + 8]` ulps ([`LOG2_ERR_BELOW_ULPS`], [`LOG2_ERR_ABOVE_ULPS`]).
//!
//! **exp2** (mantissa in Q127). `t = n + f`, `n = floor(t)`, `f` in `[0, 1)` Q64. With `i` =
//! the top 8 bits of `f` and `r = f - i/256 < 2^-8`, `2^f = T_i * 2^r` with
//! `T_i = floor(2^(i/256) * 2^63)` tabulated and `2^r - 1 = sum_{n=1..7} (r ln2)^n / n!` by Horner in
//! Q64 (all terms positive, every floor rounds down, so the computed value is a lower bound).
//! `M = T_i * (2^64 + P)` is then an exact Q127 product and a lower bound of `2^f * 2^127`;
//! its deficit is `< 2^63 * 1.01 * 2 + 2^64 * 1.004 < 2^65.01` (table floor, Horner floors,
//! series remainder `< 2^-83`), so `M + 2^66` ([`EXP2_ERR_Q127`]) is an upper bound.
//! `M * 2^(n - 127)` is then floored (down) or ceiled (up).
//!
//! **pow**. `y` is converted to Q64 as `floor` and `ceil` of `Y * 2^64 / 1e18` (exact integer
//! division `Y * 2^46 / 5^18`). The lower bound of `t` takes the lower bound of
//! `D = log2 X - log2 1e18` and the `y` bound that minimises the product (floor); the upper
//! bound symmetrically (ceil); `log2 1e18` is tabulated as a floor. Since `D_hi - D_lo = 14`
//! ulps, `t_hi - t_lo <= (14 y + |D| + 3) * 2^-64 <= (14 y + 200) * 2^-64` (`|D| < 196.3`
//! for `X < 2^256`). Combining with the exp2 margins (`2^-61` relative each side):
//! `up_real - down_real <= v * (2^(t_hi - t_lo) - 1 + 2^-60 * (1 + 2^-50))
//! <= v * (9.71 y + 155) * 2^-64 < v * (y + 16) * 2^-60`. Final floor/ceil add `< 1` each,
//! and `ceil(a) - floor(b) <= ceil(a - b) + 1`.
//!
//! # Cost
//!
//! The general path is two 256-entry table lookups, ~20 64x64-bit multiplications and one
//! 128-bit division by a constant, no allocation and no loop depending on the input. Measured
//! with `cargo bench -p azex-math --bench pow` (release, on a shared 2-core machine under
//! load, so upper-end figures): 45-75 ns per `pow_wad_down` / `pow_wad_up` call on the
//! general path, 50-110 ns per element over 64 mixed inputs, 55 ns for the exact `y = 2`
//! path and ~155 ns for the exact `y = 5` path.
//!
//! # Verification
//!
//! Every claim above is checked by the tests against a 384-bit reference
//! (`src/reference.rs`, tests only): the table entries, the `log2` core (worst observed
//! error 2.25 ulps of the 3.76 allowed) and the `exp2` core (worst deficit `1.96 * 2^64` of the
//! `2.01 * 2^64` allowed) on every table boundary, the exponent bounds `t_lo <= log2 v <= t_hi`
//! exactly in Q64, and the public enclosure and gap on a grid over the whole domain and on
//! random inputs. The checker is itself tested to reject swapped and off-by-one bounds.

// The cores work on fixed-width limbs (`u128` mantissas split into `u64` halves, `log2` values
// in signed Q64.64): every narrowing or sign-changing cast below is bounded by the invariant
// stated next to it and covered by the enclosure tests, and a checked conversion would put a
// branch in the 45-110 ns hot path. The workspace cast lints are therefore off in this module
// only (issue 10, item 3).
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)]

use crate::wad::{WAD, WAD_U128};
use crate::MathError;
use alloy_primitives::U256;

mod tables;
use tables::{EXP2_Q63, EXP_COEF_Q64, LOG2_E_Q63, LOG2_WAD_Q64, LOG_COEF_Q62, LOG_NEG_Q64};

/// `1.0` in Q64 (the scale of the `log2_q64_*` results).
pub const Q64_ONE: i128 = 1 << 64;

/// Largest exponent `y` (in WAD) accepted by [`pow_wad_down`] / [`pow_wad_up`]: `1000.0`.
/// Larger exponents are [`MathError::Domain`]: the gap bound `eps(y) = (y + 16) * 2^-60`
/// grows with `y`, and the protocol needs no such exponents.
pub const POW_MAX_EXPONENT: U256 = U256::from_limbs([
    POW_MAX_EXPONENT_U128 as u64,
    (POW_MAX_EXPONENT_U128 >> 64) as u64,
    0,
    0,
]);
const POW_MAX_EXPONENT_U128: u128 = 1_000 * WAD_U128;

/// Proven bound on how far the internal `log2` approximation can lie *above* the true value,
/// in Q64 ulps (`2^-64`): the lower bound is `approx - LOG2_ERR_BELOW_ULPS`.
pub const LOG2_ERR_BELOW_ULPS: i128 = 5;

/// Proven bound on how far the internal `log2` approximation can lie *below* the true value,
/// in Q64 ulps, including mantissa truncation of inputs wider than 64 significant bits.
pub const LOG2_ERR_ABOVE_ULPS: i128 = 8;

/// Proven bound on the deficit of the internal `2^f` mantissa (Q127, a lower bound), so that
/// `mantissa + EXP2_ERR_Q127` is an upper bound (`2^-61` relative).
pub const EXP2_ERR_Q127: u128 = 1 << 66;

/// `5^18`; `1e18 = 2^18 * 5^18`, so `a * 2^64 / 1e18 = a * 2^46 / 5^18`.
const FIVE_POW_18: u128 = 3_814_697_265_625;

/// `|t| > EXP2_WAD_LIMIT` (WAD) saturates `exp2_wad_*`: `2^200 * 1e18 > 2^256` and
/// `2^-200 * 1e18 < 1` unit.
const EXP2_WAD_LIMIT: i128 = 200 * WAD_U128 as i128;

/// `R_i = floor(2^64 / (1 + (i + 1/2)/256)) = floor(2^73 / (513 + 2i))`, the log reduction
/// reciprocals (Q64). Exact integer arithmetic, evaluated at compile time.
const LOG_RECIP_Q64: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = ((1u128 << 73) / (513 + 2 * i as u128)) as u64;
        i += 1;
    }
    t
};

/// Rounding direction of an internal computation: the crate's one [`crate::Rounding`].
use crate::Rounding as Dir;

// ---------------------------------------------------------------------------------------------
// Cores
// ---------------------------------------------------------------------------------------------

/// Splits `x >= 1` as `(e, m)` with `x = (m + delta) * 2^(e - 63)`, `m` in `[2^63, 2^64)`,
/// `0 <= delta < 1` (the truncated low bits). `None` for `x == 0`.
#[inline]
fn normalize(x: U256) -> Option<(u32, u64)> {
    let l = x.as_limbs();
    let k = if l[3] != 0 {
        3
    } else if l[2] != 0 {
        2
    } else if l[1] != 0 {
        1
    } else if l[0] != 0 {
        0
    } else {
        return None;
    };
    let hi = l[k];
    let lz = hi.leading_zeros(); // < 64 since hi != 0
    let lo = if k > 0 { l[k - 1] } else { 0 };
    let m = if lz == 0 {
        hi
    } else {
        (hi << lz) | (lo >> (64 - lz))
    };
    Some((64 * k as u32 + 63 - lz, m))
}

/// `log2(m / 2^63)` in Q64 for `m` in `[2^63, 2^64)`; `|error| < 3.76` ulps (module docs).
#[inline]
fn log2_mantissa_q64(m: u64) -> i128 {
    let i = ((m >> 55) & 0xff) as usize;
    // Exact Q127 product, within 2^-9 + 2^-63 of 1.
    let w = u128::from(m) * u128::from(LOG_RECIP_Q64[i]);
    let z = w.wrapping_sub(1 << 127) as i128; // |z| < 2^119: the wrap is the signed value
                                              // Leading term z / ln 2 = |z| * LOG2_E_Q63 / 2^126, computed as a floor of the magnitude.
    let za = z.unsigned_abs();
    let a = u128::from(LOG2_E_Q63);
    let lead_mag = (((za >> 64) * a) + ((u128::from(za as u64) * a) >> 64)) >> 62;
    let lead = if z < 0 {
        -(lead_mag as i128)
    } else {
        lead_mag as i128
    };
    // S(z) in Q62 by Horner: S = c2 - z (c3 - z (c4 - z (c5 - z (c6 - z c7)))).
    let z62 = (z >> 65) as i64; // |z62| < 2^54
    let mut s = LOG_COEF_Q62[7];
    let mut n = 6;
    while n >= 2 {
        s = LOG_COEF_Q62[n] - ((i128::from(z62) * i128::from(s)) >> 62) as i64;
        n -= 1;
    }
    // z^2 in Q64 (from z in Q64), then z^2 * S in Q64.
    let z64 = z >> 63; // |z64| < 2^56
    let z2 = (z64 * z64) >> 64;
    let tail = (z2 * i128::from(s)) >> 62;
    i128::from(LOG_NEG_Q64[i]) + lead - tail
}

/// Approximation of `log2(x)` (raw integer `x >= 1`) in Q64; the truth lies in
/// `[approx - LOG2_ERR_BELOW_ULPS, approx + LOG2_ERR_ABOVE_ULPS]`. `None` for `x == 0`.
#[inline]
fn log2_int_approx_q64(x: U256) -> Option<i128> {
    let (e, m) = normalize(x)?;
    Some((i128::from(e) << 64) + log2_mantissa_q64(m))
}

/// Lower bound of `2^f * 2^127` for `f` in `[0, 1)` given in Q64; the deficit is below
/// [`EXP2_ERR_Q127`]. The result is `< 2^128` (it is at most `2^f * 2^127 < 2^128`).
#[inline]
fn exp2_frac_q127_down(f: u64) -> u128 {
    let i = (f >> 56) as usize;
    let r = u128::from(f & ((1 << 56) - 1)); // < 2^-8 in Q64
    let mut q = EXP_COEF_Q64[7];
    let mut n = 6;
    while n >= 1 {
        // every value stays below 1.0 (Q64), so the sum fits in u64
        q = EXP_COEF_Q64[n] + ((r * u128::from(q)) >> 64) as u64;
        n -= 1;
    }
    let p = (r * u128::from(q)) >> 64; // lower bound of 2^r - 1, Q64
    u128::from(EXP2_Q63[i]) * ((1u128 << 64) + p)
}

/// `floor(2^t)` (down) or `ceil` of an upper bound of `2^t` (up), for `t` in Q64, as an
/// integer. `n = floor(t) >= 256` overflows.
#[inline]
fn exp2_int_q64(t: i128, dir: Dir) -> Result<U256, MathError> {
    let n = t >> 64;
    if n >= 256 {
        return Err(MathError::Overflow);
    }
    if n < 0 {
        // 0 < 2^t < 1
        return Ok(match dir {
            Dir::Down => U256::ZERO,
            Dir::Up => U256::from(1u8),
        });
    }
    let m = exp2_frac_q127_down(t as u64);
    let m = match dir {
        Dir::Down => m,
        // The true value is < 2^128 - 1, so saturation keeps an upper bound.
        Dir::Up => m.saturating_add(EXP2_ERR_Q127),
    };
    let n = n as u32;
    if n >= 127 {
        // m < 2^128 and n <= 255: the shifted value is < 2^256.
        return Ok(U256::from(m) << (n - 127) as usize);
    }
    let s = 127 - n; // 1..=127
    let q = m >> s;
    Ok(U256::from(match dir {
        Dir::Down => q,
        Dir::Up => q + u128::from(m & ((1u128 << s) - 1) != 0), // q < 2^127
    }))
}

/// `(floor(a * b / 2^64), a * b % 2^64 != 0)` for `a * b < 2^192`.
#[inline]
fn mul_shr64(a: u128, b: u128) -> (u128, bool) {
    let (a1, a0) = (a >> 64, a & u128::from(u64::MAX));
    let (b1, b0) = (b >> 64, b & u128::from(u64::MAX));
    let p00 = a0 * b0;
    // Callers keep a, b < 2^76, so a1, b1 < 2^12 and nothing below overflows.
    let mid = a0 * b1 + a1 * b0 + (p00 >> 64);
    (((a1 * b1) << 64) + mid, p00 as u64 != 0)
}

/// `floor` (down) or `ceil` (up) of `a * d / 2^64` for `a < 2^76`, `|d| < 2^76`.
#[inline]
fn mul_q64_signed(a: u128, d: i128, dir: Dir) -> i128 {
    let (q, inexact) = mul_shr64(a, d.unsigned_abs());
    let q = q as i128; // < 2^88
    let inexact = i128::from(inexact);
    match (dir, d < 0) {
        (Dir::Down, false) => q,
        (Dir::Down, true) => -q - inexact,
        (Dir::Up, false) => q + inexact,
        (Dir::Up, true) => -q,
    }
}

// ---------------------------------------------------------------------------------------------
// log2 / exp2
// ---------------------------------------------------------------------------------------------

/// Lower bound of `log2(x)` in Q64 (`result / 2^64 <= log2(x / 1e18)`), `x` in WAD.
/// Within `14` Q64 ulps of [`log2_q64_up`]. `x == 0` is [`MathError::Domain`];
/// `x == 1e18` gives exactly 0.
pub fn log2_q64_down(x: U256) -> Result<i128, MathError> {
    log2_q64(x, Dir::Down)
}

/// Upper bound of `log2(x)` in Q64 (`result / 2^64 >= log2(x / 1e18)`), `x` in WAD.
/// `x == 0` is [`MathError::Domain`]; `x == 1e18` gives exactly 0.
pub fn log2_q64_up(x: U256) -> Result<i128, MathError> {
    log2_q64(x, Dir::Up)
}

fn log2_q64(x: U256, dir: Dir) -> Result<i128, MathError> {
    if x == WAD {
        return Ok(0);
    }
    let v = log2_int_approx_q64(x).ok_or(MathError::Domain)?;
    Ok(match dir {
        Dir::Down => v - LOG2_ERR_BELOW_ULPS - (LOG2_WAD_Q64 + 1),
        Dir::Up => v + LOG2_ERR_ABOVE_ULPS - LOG2_WAD_Q64,
    })
}

/// Lower bound of `log2(x)` as a signed WAD (`result <= 1e18 * log2(x / 1e18)`), i.e. the
/// floor of a value at most 14 Q64 ulps below the truth. `x == 0` is [`MathError::Domain`].
pub fn log2_wad_down(x: U256) -> Result<i128, MathError> {
    let v = log2_q64(x, Dir::Down)?; // |v| < 2^73
    Ok((v * FIVE_POW_18 as i128) >> 46)
}

/// Upper bound of `log2(x)` as a signed WAD (`result >= 1e18 * log2(x / 1e18)`).
/// `x == 0` is [`MathError::Domain`].
pub fn log2_wad_up(x: U256) -> Result<i128, MathError> {
    let v = log2_q64(x, Dir::Up)?;
    Ok(-((-v * FIVE_POW_18 as i128) >> 46))
}

/// `floor` of a lower bound of `2^(t / 1e18)` in WAD, for a signed WAD exponent `t`
/// (so `exp2_wad_down(0) == 1e18`). Integer `t` (multiples of `1e18`) are exact.
/// Relative gap to [`exp2_wad_up`] below `2^-59` plus the integer rounding;
/// [`MathError::Overflow`] when the result exceeds `U256`.
pub fn exp2_wad_down(t: i128) -> Result<U256, MathError> {
    exp2_wad(t, Dir::Down)
}

/// `ceil` of an upper bound of `2^(t / 1e18)` in WAD, for a signed WAD exponent `t`.
/// Results below one unit give 1.
pub fn exp2_wad_up(t: i128) -> Result<U256, MathError> {
    exp2_wad(t, Dir::Up)
}

fn exp2_wad(t: i128, dir: Dir) -> Result<U256, MathError> {
    if t > EXP2_WAD_LIMIT {
        return Err(MathError::Overflow);
    }
    if t < -EXP2_WAD_LIMIT {
        return Ok(match dir {
            Dir::Down => U256::ZERO,
            Dir::Up => U256::from(1u8),
        });
    }
    let w = WAD_U128 as i128;
    if t % w == 0 {
        // exact: 1e18 * 2^k
        let k = t / w; // |k| <= 200
        return if k >= 0 {
            WAD.checked_shl(k as usize).ok_or(MathError::Overflow)
        } else {
            let s = (-k) as usize;
            let q = WAD >> s;
            let inexact = (q << s) != WAD;
            Ok(match dir {
                Dir::Down => q,
                Dir::Up => q + U256::from(u8::from(inexact)),
            })
        };
    }
    let num = t << 46; // |t| <= 2^68: fits
    let d = FIVE_POW_18 as i128;
    let q = num.div_euclid(d); // floor
    let t64 = match dir {
        Dir::Down => q + LOG2_WAD_Q64,
        Dir::Up => q + i128::from(num.rem_euclid(d) != 0) + LOG2_WAD_Q64 + 1,
    };
    exp2_int_q64(t64, dir)
}

// ---------------------------------------------------------------------------------------------
// pow
// ---------------------------------------------------------------------------------------------

/// Lower bound of `x^y` in WAD: `pow_wad_down(x, y) <= 1e18 * (x/1e18)^(y/1e18)`, within
/// `ceil(eps(y) * v) + 1` units of [`pow_wad_up`], `eps(y) = (y + 16) * 2^-60` (module docs).
///
/// `x`: any WAD value; `y`: WAD exponent in `0..=POW_MAX_EXPONENT` (else
/// [`MathError::Domain`]). [`MathError::Overflow`] if the result exceeds `U256`.
pub fn pow_wad_down(x: U256, y: U256) -> Result<U256, MathError> {
    pow_wad(x, y, Dir::Down)
}

/// [`pow_wad_down`] or [`pow_wad_up`], by `r`: one routine for code that takes both bounds of an
/// enclosure with the same steps.
#[inline]
pub fn pow_wad_rounded(x: U256, y: U256, r: crate::Rounding) -> Result<U256, MathError> {
    match r {
        crate::Rounding::Down => pow_wad_down(x, y),
        crate::Rounding::Up => pow_wad_up(x, y),
    }
}

/// Upper bound of `x^y` in WAD: `pow_wad_up(x, y) >= 1e18 * (x/1e18)^(y/1e18)`; see
/// [`pow_wad_down`] for the domain and the gap bound.
pub fn pow_wad_up(x: U256, y: U256) -> Result<U256, MathError> {
    pow_wad(x, y, Dir::Up)
}

#[inline]
fn pow_wad(x: U256, y: U256, dir: Dir) -> Result<U256, MathError> {
    if y.is_zero() {
        return Ok(WAD);
    }
    if x.is_zero() {
        return Ok(U256::ZERO);
    }
    if y == WAD || x == WAD {
        return Ok(x);
    }
    if y > POW_MAX_EXPONENT {
        return Err(MathError::Domain);
    }
    let yl = y.as_limbs();
    let y = u128::from(yl[0]) | (u128::from(yl[1]) << 64); // y <= 1000e18 < 2^70
    if y <= 5 * WAD_U128 && (y as u64) % (WAD_U128 as u64) == 0 {
        return pow_int_exact(x, (y / WAD_U128) as u32, dir);
    }
    pow_general(x, y, dir)
}

/// `floor` / `ceil` of `x^n / 1e18^(n-1)` exactly, for `2 <= n <= 5`.
///
/// `x^n` is built in little-endian 64-bit limbs (schoolbook, only the occupied limbs). If
/// `x^n` does not fit in 512 bits the result is at least `2^512 / 1e72 > 2^272`, so an
/// intermediate overflow is a true overflow of the result. The division by
/// `1e18^(n-1) = 2^(18(n-1)) * 5^(18(n-1))` is a shift followed by single-limb divisions by
/// powers of 5 of at most `5^27 < 2^64`; `floor(floor(a / b) / c) = floor(a / (b c))`, and
/// the quotient is exact iff every step is.
fn pow_int_exact(x: U256, n: u32, dir: Dir) -> Result<U256, MathError> {
    let xl = x.as_limbs();
    let mut xlen = 4;
    while xlen > 0 && xl[xlen - 1] == 0 {
        xlen -= 1;
    }
    if xlen == 0 {
        return Ok(U256::ZERO);
    }
    let mut p = [0u64; 8];
    p[..xlen].copy_from_slice(&xl[..xlen]);
    let mut plen = xlen;
    for _ in 1..n {
        let mut out = [0u64; 12];
        for i in 0..plen {
            let mut carry = 0u64;
            for j in 0..xlen {
                // <= (2^64 - 1)^2 + 2 (2^64 - 1) = 2^128 - 1
                let t = u128::from(p[i]) * u128::from(xl[j])
                    + u128::from(out[i + j])
                    + u128::from(carry);
                out[i + j] = t as u64;
                carry = (t >> 64) as u64;
            }
            out[i + xlen] = carry;
        }
        let mut len = plen + xlen;
        while out[len - 1] == 0 {
            len -= 1; // the top limb of a product of non-zero numbers is reached quickly
        }
        if len > 8 {
            return Err(MathError::Overflow);
        }
        p[..len].copy_from_slice(&out[..len]);
        plen = len;
    }
    // Shift right by 18 (n - 1) bits.
    let shift = 18 * (n as usize - 1); // <= 72
    let (ls, bs) = (shift / 64, shift % 64);
    let mut inexact = p[..ls].iter().any(|&l| l != 0) || (bs > 0 && (p[ls] << (64 - bs)) != 0);
    let mut q = [0u64; 8];
    let qlen = plen - ls.min(plen);
    for k in 0..qlen {
        let lo = p[k + ls] >> bs;
        let hi = if bs > 0 && k + ls + 1 < plen {
            p[k + ls + 1] << (64 - bs)
        } else {
            0
        };
        q[k] = lo | hi;
    }
    let mut qlen = qlen;
    // Divide by 5^(18 (n - 1)) in chunks of at most 5^27.
    let mut e5 = 18 * (n - 1);
    while e5 > 0 {
        let c = e5.min(27);
        e5 -= c;
        let d = u128::from(5u64.pow(c));
        let mut rem = 0u128;
        for k in (0..qlen).rev() {
            let cur = (rem << 64) | u128::from(q[k]);
            let qq = cur / d;
            rem = cur - qq * d;
            q[k] = qq as u64; // < 2^64 because rem < d
        }
        inexact |= rem != 0;
        while qlen > 0 && q[qlen - 1] == 0 {
            qlen -= 1;
        }
    }
    if qlen > 4 {
        return Err(MathError::Overflow);
    }
    let r = U256::from_limbs([q[0], q[1], q[2], q[3]]);
    match dir {
        Dir::Up if inexact => r.checked_add(U256::from(1u8)).ok_or(MathError::Overflow),
        _ => Ok(r),
    }
}

/// The general path (see the module docs): `x >= 1` unit, `y <= 1000e18`.
#[inline]
fn pow_general(x: U256, y: u128, dir: Dir) -> Result<U256, MathError> {
    let t = pow_log2_q64(x, y, dir).ok_or(MathError::Domain)?;
    exp2_int_q64(t, dir)
}

/// A lower (down) or upper (up) bound, in Q64, of `log2(v)` where `v = 1e18 (x/1e18)^(y/1e18)`
/// is the exact result in WAD units: `t = y * (log2 x - log2 1e18) + log2 1e18`.
/// `None` for `x == 0`; requires `y <= 1000e18`.
#[inline]
fn pow_log2_q64(x: U256, y: u128, dir: Dir) -> Option<i128> {
    let lx = log2_int_approx_q64(x)?;
    // y in Q64, floor and ceil: y * 2^64 / 1e18 = y * 2^46 / 5^18 (y * 2^46 < 2^116).
    let y_num = y << 46;
    let y_lo = y_num / FIVE_POW_18;
    let y_hi = y_lo + u128::from(y_num % FIVE_POW_18 != 0); // y_hi < 2^75
    Some(match dir {
        Dir::Down => {
            let d = lx - LOG2_ERR_BELOW_ULPS - (LOG2_WAD_Q64 + 1); // <= D, |d| < 2^74
            let yy = if d >= 0 { y_lo } else { y_hi };
            mul_q64_signed(yy, d, Dir::Down) + LOG2_WAD_Q64
        }
        Dir::Up => {
            let d = lx + LOG2_ERR_ABOVE_ULPS - LOG2_WAD_Q64; // >= D
            let yy = if d >= 0 { y_hi } else { y_lo };
            mul_q64_signed(yy, d, Dir::Up) + LOG2_WAD_Q64 + 1
        }
    })
}

#[cfg(test)]
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_lossless
)]
mod tests;
