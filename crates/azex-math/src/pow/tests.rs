//! Tests of [`super`] against the 384-bit reference in `crate::reference`.
//!
//! Every check compares with a reference *enclosure* (`lo <= truth <= hi`), so a check fails
//! only when the production value is really wrong. The checker itself is tested: swapped or
//! off-by-one bounds must be rejected (`checker_rejects_mutated_bounds`), so a weakened
//! implementation cannot pass silently.

use super::*;
use crate::reference::{self as r, tables as rt, Encl, P};
use num_bigint::BigInt;
use num_traits::One;
use proptest::prelude::*;

fn u(x: u128) -> U256 {
    U256::from(x)
}

fn wad_f(num: u128, den: u128) -> U256 {
    u(num * WAD_U128 / den)
}

// ---------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------

#[test]
fn tables_match_reference() {
    assert_eq!(LOG2_WAD_Q64, rt::fl(&rt::log2_wad_const(), 64));
    assert_eq!(i128::from(LOG2_E_Q63), rt::fl(&rt::log2_e(), 63));
    for (n, &c) in LOG_COEF_Q62.iter().enumerate().skip(2) {
        let n = n as u32;
        assert_eq!(
            i128::from(c),
            rt::fl(&rt::inv_n_ln2(n), 62),
            "LOG_COEF_Q62[{n}]"
        );
    }
    for (n, &c) in EXP_COEF_Q64.iter().enumerate().skip(1) {
        let n = n as u32;
        assert_eq!(
            i128::from(c),
            rt::fl(&rt::ln2_pow_over_fact(n), 64),
            "EXP_COEF_Q64[{n}]"
        );
    }
    for i in 0..256usize {
        let d = 513 + 2 * i as u128;
        let rcp = u128::from(LOG_RECIP_Q64[i]);
        assert!(rcp * d <= 1 << 73 && (rcp + 1) * d > 1 << 73);
        assert_eq!(
            i128::from(LOG_NEG_Q64[i]),
            rt::fl(&rt::neg_log2_q64(LOG_RECIP_Q64[i]), 64),
            "LOG_NEG_Q64[{i}]"
        );
        assert_eq!(
            i128::from(EXP2_Q63[i]),
            rt::fl(&rt::exp2_frac(i as u32), 63),
            "EXP2_Q63[{i}]"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// log2 core
// ---------------------------------------------------------------------------------------------

/// `approx - truth` in Q64 ulps, as an enclosure `(lo, hi)` scaled by `2^(P - 64)`.
fn log2_core_err(x: U256) -> (BigInt, BigInt) {
    let approx = BigInt::from(log2_int_approx_q64(x).unwrap()) << (P - 64);
    let e = r::log2_int(&r::big(x));
    (&approx - e.hi, approx - e.lo)
}

/// Checks `truth - approx` lies in `[-below, above]` ulps (strictly provable bounds) and
/// returns the worst-case `|approx - truth|` in ulps (f64, diagnostics only).
fn check_log2_core(x: U256, below: i64, above: i64) -> f64 {
    let (lo, hi) = log2_core_err(x);
    let s = P - 64;
    let ulps = |v: &BigInt| r::big_to_f64(v, s);
    // approx - truth <= below  and  truth - approx <= above
    assert!(
        hi <= BigInt::from(below) << s,
        "log2 approx too high for x = {x}: approx - truth up to {} ulps",
        ulps(&hi)
    );
    assert!(
        lo >= -(BigInt::from(above) << s),
        "log2 approx too low for x = {x}: approx - truth down to {} ulps",
        ulps(&lo)
    );
    ulps(&hi).abs().max(ulps(&lo).abs())
}

/// Mantissas around every table boundary, as 64-bit integers (exact mantissa, e = 63).
fn boundary_mantissas() -> Vec<u64> {
    let mut v = Vec::new();
    for i in 0..256u64 {
        let start = (1u64 << 63) + (i << 55);
        for off in [0u64, 1, 2, 1 << 20, 1 << 54, (1 << 55) - 2, (1 << 55) - 1] {
            v.push(start + off);
        }
        v.push(start + (1 << 54) + (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 11));
    }
    v.push(u64::MAX);
    v
}

#[test]
fn log2_core_error_bound_exact_mantissa() {
    // Inputs of at most 64 significant bits: |approx - truth| < 3.76 ulps (module docs).
    let mut worst = 0f64;
    for m in boundary_mantissas() {
        worst = worst.max(check_log2_core(u(u128::from(m)), 4, 4));
        // the same mantissa at other exponents, still exact
        worst = worst.max(check_log2_core(u(u128::from(m)) << 100, 4, 4));
        worst = worst.max(check_log2_core(u(u128::from(m >> 40)), 4, 4));
    }
    eprintln!("log2 core, exact mantissa: worst |err| = {worst:.3} ulps");
}

#[test]
fn log2_core_error_bound_truncated_mantissa() {
    // Inputs wider than 64 bits: truth - approx in (-3.76, 3.76 + 2.89).
    for m in boundary_mantissas().into_iter().step_by(3) {
        let x = (u(u128::from(m)) << 100) | ((U256::from(1u8) << 100) - U256::from(1u8));
        check_log2_core(x, 4, 7);
        let x = (u(u128::from(m)) << 192) | (U256::MAX >> 64);
        check_log2_core(x, 4, 7);
    }
    check_log2_core(U256::MAX, 4, 7);
}

// ---------------------------------------------------------------------------------------------
// exp2 core
// ---------------------------------------------------------------------------------------------

/// Checks `M <= 2^f * 2^127 <= M + margin` and returns the deficit in units of 2^64 (f64).
fn check_exp2_core(f: u64, tight_margin: &BigInt) -> f64 {
    let m = BigInt::from(exp2_frac_q127_down(f));
    let l = (r::ln2() * BigInt::from(f)) >> 64;
    // l is floor(f ln2 2^(P-64)) ... error < 1 + f * 2^10 / 2^64 ulps
    let e = r::exp_encl(&l, &BigInt::from(2048u32));
    let scaled = |v: &BigInt| v << (P - 127);
    assert!(scaled(&m) <= e.hi, "exp2 core above truth at f = {f:#x}");
    assert!(
        scaled(&(&m + tight_margin)) >= e.lo,
        "exp2 core deficit above margin at f = {f:#x}"
    );
    let deficit = (&e.hi >> (P - 127)) - &m;
    r::big_to_f64(&deficit, 64)
}

#[test]
fn exp2_core_error_bound() {
    // Proven: deficit < 2^65.01; checked against 2^65 + 2^59, and the public margin 2^66.
    let tight = (BigInt::one() << 65) + (BigInt::one() << 59);
    assert!(tight < BigInt::from(EXP2_ERR_Q127));
    let mut worst = 0f64;
    for i in 0..256u64 {
        let start = i << 56;
        for off in [0u64, 1, 1 << 30, 1 << 55, (1 << 56) - 1] {
            worst = worst.max(check_exp2_core(start + off, &tight));
        }
        worst = worst.max(check_exp2_core(
            start + (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 8),
            &tight,
        ));
    }
    worst = worst.max(check_exp2_core(u64::MAX, &tight));
    eprintln!("exp2 core: worst deficit = {worst:.3} * 2^64 (bound 2^65.01, margin 2^66)");
}

// ---------------------------------------------------------------------------------------------
// Public log2 / exp2
// ---------------------------------------------------------------------------------------------

fn check_log2_public(x: U256) {
    let e = r::log2_wad(x);
    let dq = log2_q64_down(x).unwrap();
    let uq = log2_q64_up(x).unwrap();
    assert!(
        (BigInt::from(dq) << (P - 64)) <= e.hi,
        "log2_q64_down above truth, x={x}"
    );
    assert!(
        (BigInt::from(uq) << (P - 64)) >= e.lo,
        "log2_q64_up below truth, x={x}"
    );
    assert!(uq - dq <= 14 && uq >= dq);
    let w = r::wad_big();
    let dw = log2_wad_down(x).unwrap();
    let uw = log2_wad_up(x).unwrap();
    assert!(
        (BigInt::from(dw) << P) <= &e.hi * &w,
        "log2_wad_down above truth, x={x}"
    );
    assert!(
        (BigInt::from(uw) << P) >= &e.lo * &w,
        "log2_wad_up below truth, x={x}"
    );
    assert!(
        uw - dw <= 2 && uw >= dw,
        "log2_wad gap {dw}..{uw} for x={x}"
    );
}

#[test]
fn log2_public_enclosures() {
    let mut xs = vec![
        u(1),
        u(2),
        u(3),
        u(999_999_999_999_999_999),
        WAD + u(1),
        WAD * u(2),
        WAD * u(3),
        WAD / u(2),
        u(1) << 64,
        U256::MAX,
        U256::MAX >> 1,
    ];
    for k in 0..256 {
        xs.push(U256::from(1u8) << k);
        xs.push((U256::from(3u8) << k) / u(2));
    }
    for x in xs {
        check_log2_public(x);
    }
    assert_eq!(log2_q64_down(WAD), Ok(0));
    assert_eq!(log2_wad_up(WAD), Ok(0));
    assert_eq!(log2_q64_down(U256::ZERO), Err(MathError::Domain));
    assert_eq!(log2_wad_up(U256::ZERO), Err(MathError::Domain));
}

fn check_exp2_public(t: i128) {
    let e = r::exp2_wad(t);
    let d = exp2_wad_down(t);
    let up = exp2_wad_up(t);
    let two256 = BigInt::one() << (256 + P);
    if e.hi < two256.clone() - (&e.hi >> 58) - (BigInt::from(2u8) << P) {
        let (d, up) = (r::big(d.unwrap()), r::big(up.unwrap()));
        assert!(e.not_below(&d), "exp2_wad_down above truth, t={t}");
        assert!(e.not_above(&up), "exp2_wad_up below truth, t={t}");
        // gap <= ceil(2^-59 v) + 1
        let allowed = e.scaled_hi_ceil(&BigInt::one(), 59) + 1;
        assert!(&up - &d <= allowed, "exp2 gap {} for t={t}", &up - &d);
    } else {
        assert!(e.hi >= two256 - (&e.hi >> 58) - (BigInt::from(2u8) << P));
        if let Ok(d) = d {
            assert!(e.not_below(&r::big(d)));
        }
        assert!(up.is_err() || e.not_above(&r::big(up.unwrap())));
    }
}

#[test]
fn exp2_public_enclosures() {
    let w = WAD_U128 as i128;
    let mut ts = vec![
        0,
        1,
        -1,
        w / 2,
        -w / 2,
        196 * w,
        196 * w + w / 5,
        197 * w,
        -59 * w,
        -60 * w,
    ];
    for k in -70..=197i128 {
        ts.push(k * w);
        ts.push(k * w + w / 3);
        ts.push(k * w - 1);
    }
    for t in ts {
        check_exp2_public(t);
    }
    assert_eq!(exp2_wad_down(0), Ok(WAD));
    assert_eq!(exp2_wad_up(3 * w), Ok(WAD * u(8)));
    assert_eq!(exp2_wad_down(-w), Ok(WAD / u(2)));
    assert_eq!(exp2_wad_down(-60 * w), Ok(U256::ZERO));
    assert_eq!(exp2_wad_up(-60 * w), Ok(u(1)));
    assert_eq!(exp2_wad_down(i128::MAX), Err(MathError::Overflow));
    assert_eq!(exp2_wad_down(i128::MIN), Ok(U256::ZERO));
    assert_eq!(exp2_wad_up(i128::MIN), Ok(u(1)));
    assert_eq!(exp2_wad_up(198 * w), Err(MathError::Overflow));
}

// ---------------------------------------------------------------------------------------------
// pow
// ---------------------------------------------------------------------------------------------

/// `ceil(eps(y) * v) + 1` with `eps(y) = (y + 16) 2^-60`, evaluated at the reference's upper
/// end: the largest gap `up - down` the documentation allows.
fn allowed_gap(y: U256, e: &Encl) -> BigInt {
    let w = r::wad_big();
    let mult = r::big(y) + BigInt::from(16u8) * &w; // (y + 16) * 1e18
                                                    // ceil(mult * hi / (1e18 * 2^(60 + P))) + 1
    let num = &e.hi * mult;
    let den = w << (60 + P);
    let q = &num / &den;
    let c = if &q * &den == num { q } else { q + 1 };
    c + 1
}

/// True when `eps(y) * v < 1/64`: the documented bounds are then within 1/64 unit of the
/// truth, so they must be the exact floor / ceil unless the truth lies within 1/64 of an
/// integer. These are the cases in which an off-by-one rounding is observable.
fn is_tight(y: U256, e: &Encl) -> bool {
    let w = r::wad_big();
    let mult = r::big(y) + BigInt::from(16u8) * &w;
    (&e.hi * mult) << 6 < w << (60 + P)
}

/// Outcome of one checked case, for the sensitivity statistics (tight cases only).
#[derive(Default, Debug, Clone, Copy)]
struct Stats {
    cases: u32,
    decided_floor: u32,
    down_is_floor: u32,
    decided_ceil: u32,
    up_is_ceil: u32,
}

/// The documented contract for one `(x, y)` and a candidate pair `(down, up)`.
fn check_pair(
    x: U256,
    y: U256,
    e: &Encl,
    down: Result<U256, MathError>,
    up: Result<U256, MathError>,
    stats: &mut Stats,
) -> Result<(), String> {
    let two256 = BigInt::one() << (256 + P);
    let ctx = || format!("x = {x}, y = {y}, truth ~ {:e}", e.approx_f64());
    // Overflow is allowed only near or above 2^256: for up when truth*(1 + 2^-50) + 2
    // reaches 2^256, for down only when truth itself does.
    let up_may_overflow = &e.hi + (&e.hi >> 50) + (BigInt::from(2u8) << P) >= two256;
    let down_may_overflow = e.hi >= two256;
    let down = match down {
        Ok(d) => Some(r::big(d)),
        Err(MathError::Overflow) if down_may_overflow => None,
        Err(err) => return Err(format!("down failed with {err:?}: {}", ctx())),
    };
    let up = match up {
        Ok(v) => Some(r::big(v)),
        Err(MathError::Overflow) if up_may_overflow => None,
        Err(err) => return Err(format!("up failed with {err:?}: {}", ctx())),
    };
    stats.cases += 1;
    if let Some(d) = &down {
        if !e.not_below(d) {
            return Err(format!("down = {d} above the truth: {}", ctx()));
        }
        if let (Some(f), true) = (e.floor(), is_tight(y, e)) {
            stats.decided_floor += 1;
            stats.down_is_floor += u32::from(&f == d);
        }
    }
    if let Some(v) = &up {
        if !e.not_above(v) {
            return Err(format!("up = {v} below the truth: {}", ctx()));
        }
        if let (Some(c), true) = (e.ceil(), is_tight(y, e)) {
            stats.decided_ceil += 1;
            stats.up_is_ceil += u32::from(&c == v);
        }
    }
    if let (Some(d), Some(v)) = (&down, &up) {
        let gap = v - d;
        let allowed = allowed_gap(y, e);
        if gap > allowed {
            return Err(format!("gap {gap} > allowed {allowed}: {}", ctx()));
        }
    }
    Ok(())
}

fn check_pow(x: U256, y: U256, stats: &mut Stats) {
    let e = r::pow_wad(x, y);
    if let Err(msg) = check_pair(x, y, &e, pow_wad_down(x, y), pow_wad_up(x, y), stats) {
        panic!("{msg}");
    }
}

fn x_grid() -> Vec<U256> {
    let mut xs: Vec<U256> = [
        1u128,
        2,
        3,
        7,
        10,
        1_000,
        1_000_000,
        1_000_000_007,
        1_000_000_000_000,
        999_999_999_999_999,
        100_000_000_000_000_000,
        500_000_000_000_000_000,
        999_999_999_999_999_999,
        1_000_000_000_000_000_001,
        1_000_000_001_000_000_000,
        1_234_567_890_123_456_789,
        1_500_000_000_000_000_000,
        2_000_000_000_000_000_000,
        2_718_281_828_459_045_235,
        3_000_000_000_000_000_000,
        10_000_000_000_000_000_000,
        123_456_789_000_000_000_000,
        1_000_000_000_000_000_000_000_000,         // 1e6 WAD
        1_000_000_000_000_000_000_000_000_000_000, // 1e12 WAD
        u128::MAX,
    ]
    .iter()
    .map(|&v| u(v))
    .collect();
    xs.push(WAD << 90);
    xs.push(U256::from(1u8) << 200);
    xs.push((U256::from(1u8) << 255) + u(12345));
    xs.push(U256::MAX);
    xs
}

fn y_grid() -> Vec<U256> {
    let mut ys: Vec<U256> = [
        1u128,
        1_000_000_000,
        100_000_000_000_000_000,
        333_333_333_333_333_333,
        500_000_000_000_000_000,
        999_999_999_999_999_999,
        1_000_000_000_000_000_001,
        1_200_000_000_000_000_000,
        1_500_000_000_000_000_000,
        2_000_000_000_000_000_000,
        2_200_000_000_000_000_000,
        2_500_000_000_000_000_000,
        3_000_000_000_000_000_000,
        3_700_000_000_000_000_000,
        4_000_000_000_000_000_000,
        4_000_000_000_000_000_001,
        5_000_000_000_000_000_000,
        6_000_000_000_000_000_000,
        10_500_000_000_000_000_000,
        64_300_000_000_000_000_000,
        999_999_999_999_999_999_999,
    ]
    .iter()
    .map(|&v| u(v))
    .collect();
    ys.push(POW_MAX_EXPONENT);
    ys
}

#[test]
fn pow_grid_enclosure_and_gap() {
    let mut stats = Stats::default();
    for x in x_grid() {
        for y in y_grid() {
            check_pow(x, y, &mut stats);
        }
    }
    eprintln!("pow grid: {stats:?}");
    assert!(stats.cases > 500);
    // Sensitivity: the bounds are the exact floor / ceil in nearly every decided case.
    assert!(
        stats.down_is_floor * 100 >= stats.decided_floor * 95,
        "{stats:?}"
    );
    assert!(
        stats.up_is_ceil * 100 >= stats.decided_ceil * 95,
        "{stats:?}"
    );
}

#[test]
fn pow_dense_near_one_and_mark_curve_range() {
    // u in [1e-6, 10] and beta + 1 in {1.2, 1.5, 2.2, 2.5}: the AZEx mark-curve domain.
    let mut stats = Stats::default();
    let mut x = u(1_000_000_000_000); // 1e-6
    while x < WAD * u(10) {
        for y in [
            1_200_000_000_000_000_000u128,
            1_500_000_000_000_000_000,
            2_200_000_000_000_000_000,
            2_500_000_000_000_000_000,
            500_000_000_000_000_000,
        ] {
            check_pow(x, u(y), &mut stats);
        }
        x = x * u(7) / u(3) + u(1);
    }
    for k in 0..40u32 {
        // x = 1 +- 2^-k
        let d = WAD >> k;
        for y in [
            u(500_000_000_000_000_000),
            u(3_500_000_000_000_000_000),
            POW_MAX_EXPONENT,
        ] {
            check_pow(WAD + d, y, &mut stats);
            check_pow(WAD - d, y, &mut stats);
        }
    }
    eprintln!("pow dense: {stats:?}");
    assert!(
        stats.down_is_floor * 100 >= stats.decided_floor * 95,
        "{stats:?}"
    );
    assert!(
        stats.up_is_ceil * 100 >= stats.decided_ceil * 95,
        "{stats:?}"
    );
}

#[test]
fn checker_rejects_mutated_bounds() {
    // A test that cannot fail is a defect: feed the checker swapped and off-by-one bounds and
    // require it to reject them (always for swaps, in nearly all tight cases for +-1).
    let (mut tight, mut down_plus_one_caught, mut up_minus_one_caught, mut swaps) = (0, 0, 0, 0);
    for x in x_grid().into_iter().take(22) {
        for y in [
            wad_f(1, 2),
            wad_f(3, 2),
            wad_f(6, 5),
            wad_f(11, 5),
            u(2) * WAD,
            wad_f(7, 2),
        ] {
            let e = r::pow_wad(x, y);
            let (d, v) = (pow_wad_down(x, y).unwrap(), pow_wad_up(x, y).unwrap());
            let mut s = Stats::default();
            check_pair(x, y, &e, Ok(d), Ok(v), &mut s).unwrap();
            if d != v {
                swaps += 1;
                assert!(
                    check_pair(x, y, &e, Ok(v), Ok(d), &mut s).is_err(),
                    "swap accepted"
                );
            }
            if e.floor().is_some() && e.ceil().is_some() && is_tight(y, &e) {
                tight += 1;
                let dp = d + u(1);
                if check_pair(x, y, &e, Ok(dp), Ok(v.max(dp)), &mut s).is_err() {
                    down_plus_one_caught += 1;
                }
                if v > U256::ZERO
                    && check_pair(x, y, &e, Ok(d.min(v - u(1))), Ok(v - u(1)), &mut s).is_err()
                {
                    up_minus_one_caught += 1;
                }
            }
        }
    }
    eprintln!("mutations: swaps {swaps}, tight {tight}, down+1 caught {down_plus_one_caught}, up-1 caught {up_minus_one_caught}");
    assert!(swaps > 80 && tight > 50);
    assert!(down_plus_one_caught * 100 >= tight * 95);
    assert!(up_minus_one_caught * 100 >= tight * 95);
}

#[test]
fn pow_special_cases_exact() {
    let xs = [U256::ZERO, u(1), u(3), WAD, WAD * u(7) / u(3), U256::MAX];
    for x in xs {
        assert_eq!(pow_wad_down(x, U256::ZERO), Ok(WAD));
        assert_eq!(pow_wad_up(x, U256::ZERO), Ok(WAD));
        assert_eq!(pow_wad_down(x, WAD), Ok(x));
        assert_eq!(pow_wad_up(x, WAD), Ok(x));
    }
    for y in [u(1), wad_f(1, 2), wad_f(7, 2), POW_MAX_EXPONENT] {
        assert_eq!(pow_wad_down(U256::ZERO, y), Ok(U256::ZERO));
        assert_eq!(pow_wad_up(U256::ZERO, y), Ok(U256::ZERO));
        assert_eq!(pow_wad_down(WAD, y), Ok(WAD));
        assert_eq!(pow_wad_up(WAD, y), Ok(WAD));
    }
    // Integer exponents 2..=5 are exact floor / ceil of the rational x^n / 1e18^(n-1).
    for x in x_grid()
        .into_iter()
        .chain([u(4) * WAD, wad_f(1, 2), u(1) << 64])
    {
        for n in 2..=5u32 {
            let y = u(u128::from(n)) * WAD;
            let (num, den) = r::int_pow_ratio(x, n);
            let fl = &num / &den;
            let ce = if &fl * &den == num {
                fl.clone()
            } else {
                &fl + 1
            };
            let fits = |v: &BigInt| v.bits() <= 256;
            match pow_wad_down(x, y) {
                Ok(d) => assert_eq!(r::big(d), fl, "x={x} n={n}"),
                Err(err) => assert!(err == MathError::Overflow && !fits(&fl)),
            }
            match pow_wad_up(x, y) {
                Ok(v) => assert_eq!(r::big(v), ce, "x={x} n={n}"),
                Err(err) => assert!(err == MathError::Overflow && !fits(&ce)),
            }
            // The general path also encloses the exact value at integer exponents.
            let y128 = u128::from(n) * WAD_U128;
            if let (Ok(gd), Ok(gu)) = (
                pow_general(x, y128, Dir::Down),
                pow_general(x, y128, Dir::Up),
            ) {
                assert!(
                    r::big(gd) <= fl && r::big(gu) >= ce,
                    "general path at x={x} n={n}"
                );
            }
        }
    }
    // Known values (gap allowance at ~2.8e18 units: eps(1.5) * v ~ 4.2 units).
    let (d, v) = (
        pow_wad_down(u(4) * WAD, wad_f(1, 2)).unwrap(),
        pow_wad_up(u(4) * WAD, wad_f(1, 2)).unwrap(),
    );
    assert!(
        d <= u(2) * WAD && v >= u(2) * WAD && v - d <= u(4),
        "4^0.5: {d}..{v}"
    );
    // 2^1.5 = 2.828427124746190097603...
    let (d, v) = (
        pow_wad_down(u(2) * WAD, wad_f(3, 2)).unwrap(),
        pow_wad_up(u(2) * WAD, wad_f(3, 2)).unwrap(),
    );
    assert!(
        d <= u(2_828_427_124_746_190_097) && v >= u(2_828_427_124_746_190_098) && v - d <= u(6),
        "2^1.5: {d}..{v}"
    );
    // Small results are the exact floor / ceil: (0.001)^1.5 = 3.16227766016837933199889e-5
    assert_eq!(
        pow_wad_down(wad_f(1, 1000), wad_f(3, 2)).unwrap(),
        u(31_622_776_601_683)
    );
    assert_eq!(
        pow_wad_up(wad_f(1, 1000), wad_f(3, 2)).unwrap(),
        u(31_622_776_601_684)
    );
}

#[test]
fn pow_errors_and_extremes() {
    let over = POW_MAX_EXPONENT + u(1);
    assert_eq!(pow_wad_down(u(2) * WAD, over), Err(MathError::Domain));
    assert_eq!(pow_wad_up(u(2) * WAD, U256::MAX), Err(MathError::Domain));
    assert_eq!(
        pow_wad_down(U256::MAX, u(2) * WAD),
        Err(MathError::Overflow)
    );
    assert_eq!(
        pow_wad_up(U256::MAX, wad_f(11, 10)),
        Err(MathError::Overflow)
    );
    assert_eq!(
        pow_wad_down(U256::MAX, POW_MAX_EXPONENT),
        Err(MathError::Overflow)
    );
    assert_eq!(pow_wad_down(u(1), POW_MAX_EXPONENT), Ok(U256::ZERO));
    assert_eq!(pow_wad_up(u(1), POW_MAX_EXPONENT), Ok(u(1)));
    // 1e-18^4 = 1e-72: below one unit.
    assert_eq!(pow_wad_down(u(1), u(4) * WAD), Ok(U256::ZERO));
    assert_eq!(pow_wad_up(u(1), u(4) * WAD), Ok(u(1)));
    assert_eq!(pow_wad_down(u(1), wad_f(9, 2)), Ok(U256::ZERO));
    assert_eq!(pow_wad_up(u(1), wad_f(9, 2)), Ok(u(1)));
    // (1e6)^4 = 1e24 exactly (integer path), 1e6^4.5 = 1e27.
    let m = WAD * u(1_000_000);
    assert_eq!(pow_wad_down(m, u(4) * WAD), Ok(U256::from(10u8).pow(u(42))));
    let mut s = Stats::default();
    check_pow(m, wad_f(9, 2), &mut s);
}

/// Checks the internal exponent bounds `t_lo <= log2(v) <= t_hi` (Q64) exactly: this is
/// where 1-ulp slips (a missing ceil, a wrong `y` bound) would hide behind the exp2 margin.
fn check_exponent_bounds(x: U256, y: U256) {
    let y128 = u128::try_from(y).unwrap();
    let lo = pow_log2_q64(x, y128, Dir::Down).unwrap();
    let hi = pow_log2_q64(x, y128, Dir::Up).unwrap();
    // truth = y * log2(x / 1e18) + log2(1e18), enclosed at scale 2^P
    let w = r::wad_big();
    let lx = r::log2_wad(x);
    let c = r::log2_int(&w);
    let yb = r::big(y);
    let t_lo = (&lx.lo * &yb) / &w - 1 + &c.lo;
    let t_hi = (&lx.hi * &yb) / &w + 1 + &c.hi;
    assert!(
        (BigInt::from(lo) << (P - 64)) <= t_hi,
        "t_lo above truth: x={x} y={y}"
    );
    assert!(
        (BigInt::from(hi) << (P - 64)) >= t_lo,
        "t_hi below truth: x={x} y={y}"
    );
    // width (14 y + |D| + 3) ulps
    let d_abs = (lx.hi.clone().max(-lx.lo.clone()) >> (P - 64)) + 1;
    let allowed = (BigInt::from(14u8) * &yb) / &w + 1 + (d_abs >> 64) + 1 + 3;
    assert!(
        BigInt::from(hi - lo) <= allowed,
        "t width {} > {allowed}",
        hi - lo
    );
}

#[test]
fn exponent_bounds_grid() {
    let mut ys = y_grid();
    ys.extend([u(2), u(17), u(1_000), u(999_983)]);
    // Multiples of 5^18 are exact in Q64 (y_lo == y_hi): no slack from the y rounding, so a
    // missing ceil in the product shows.
    let five18 = u(FIVE_POW_18);
    ys.extend([
        five18,
        five18 * u(7),
        five18 * u(1 << 20),
        five18 * u(3 << 20),
        five18 * u(262_000_000),
    ]);
    let mut xs = x_grid();
    for k in 1..200u128 {
        xs.push(u(k * 4_999_999_999_999_999 / 7));
    }
    for x in xs {
        for &y in &ys {
            check_exponent_bounds(x, y);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Random inputs
// ---------------------------------------------------------------------------------------------

/// Log-uniform `U256` in `[1, 2^256)`.
fn arb_x() -> impl Strategy<Value = U256> {
    (any::<[u64; 4]>(), 0usize..256).prop_map(|(l, s)| (U256::from_limbs(l) >> s).max(u(1)))
}

/// Exponents: mostly the protocol range `0..=5`, sometimes anything up to the maximum.
fn arb_y() -> impl Strategy<Value = U256> {
    prop_oneof![
        4 => (1u128..=5 * WAD_U128).prop_map(u),
        1 => (0u128..=1000, 0u128..WAD_U128).prop_map(|(i, f)| u(i * WAD_U128 + f).min(POW_MAX_EXPONENT)),
        1 => (0u32..70).prop_flat_map(|b| (0u128..(1u128 << b)).prop_map(u)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn pow_random_enclosure_and_gap(x in arb_x(), y in arb_y()) {
        let e = r::pow_wad(x, y);
        let mut s = Stats::default();
        if let Err(msg) = check_pair(x, y, &e, pow_wad_down(x, y), pow_wad_up(x, y), &mut s) {
            prop_assert!(false, "{}", msg);
        }
    }

    #[test]
    fn int_exponent_exact_random(x in arb_x(), n in 2u32..=5) {
        let y = u(u128::from(n)) * WAD;
        let (num, den) = r::int_pow_ratio(x, n);
        let fl = &num / &den;
        let ce = if &fl * &den == num { fl.clone() } else { &fl + 1 };
        match pow_wad_down(x, y) {
            Ok(d) => prop_assert_eq!(r::big(d), fl),
            Err(err) => prop_assert!(err == MathError::Overflow && fl.bits() > 256),
        }
        match pow_wad_up(x, y) {
            Ok(v) => prop_assert_eq!(r::big(v), ce),
            Err(err) => prop_assert!(err == MathError::Overflow && ce.bits() > 256),
        }
    }

    #[test]
    fn exponent_bounds_random(x in arb_x(), y in arb_y()) {
        check_exponent_bounds(x, y);
    }

    #[test]
    fn log2_core_random(x in arb_x()) {
        check_log2_core(x, 4, 7);
    }

    #[test]
    fn exp2_core_random(f in any::<u64>()) {
        let tight = (BigInt::one() << 65) + (BigInt::one() << 59);
        check_exp2_core(f, &tight);
    }

    #[test]
    fn exp2_public_random(t in -200i128 * WAD_U128 as i128..=200 * WAD_U128 as i128) {
        check_exp2_public(t);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// No input panics; errors are only the documented ones.
    #[test]
    fn never_panics(x in any::<[u64; 4]>(), y in any::<[u64; 4]>(), sx in 0usize..256, sy in 0usize..256, t in any::<i128>()) {
        let x = U256::from_limbs(x) >> sx;
        let y = U256::from_limbs(y) >> sy;
        for res in [pow_wad_down(x, y), pow_wad_up(x, y)] {
            prop_assert!(matches!(res, Ok(_) | Err(MathError::Overflow) | Err(MathError::Domain)));
        }
        let _ = (log2_wad_down(x), log2_wad_up(x), log2_q64_down(x), log2_q64_up(x));
        let _ = (exp2_wad_down(t), exp2_wad_up(t));
    }
}
