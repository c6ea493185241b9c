//! High-precision reference arithmetic, compiled for tests only.
//!
//! Everything here is big-integer fixed point with [`P`] = 384 fractional bits (about 115
//! significant decimal digits) and *explicit error bounds*: every transcendental value is
//! returned as an [`Encl`]osure `lo <= true * 2^P <= hi` whose width is a proven bound on the
//! accumulated truncation error (see [`exp_encl`]). Tests compare the production code against
//! these enclosures, so a comparison `prod <= hi` can only fail when the production value is
//! really above the true value (never because of reference noise).
//!
//! No floats are used: the reference must be independent of the code it checks, and f64 only
//! has 53 bits.

use alloy_primitives::U256;
use num_bigint::{BigInt, Sign};
use num_traits::{One, Signed, ToPrimitive, Zero};
use std::sync::OnceLock;

/// Fractional bits of the reference fixed point.
pub(crate) const P: u32 = 384;

/// `10^18` as a big integer.
pub(crate) fn wad_big() -> BigInt {
    BigInt::from(1_000_000_000_000_000_000u64)
}

/// `1.0` in the reference fixed point.
pub(crate) fn one() -> BigInt {
    BigInt::one() << P
}

/// Fixed-point product, floored.
fn mul(a: &BigInt, b: &BigInt) -> BigInt {
    (a * b) >> P
}

/// Converts a `U256` to a big integer.
pub(crate) fn big(x: U256) -> BigInt {
    BigInt::from_bytes_le(Sign::Plus, &x.to_le_bytes::<32>())
}

/// Converts a non-negative big integer that fits into a `U256`.
pub(crate) fn to_u256(x: &BigInt) -> U256 {
    assert!(!x.is_negative());
    let (_, bytes) = x.to_bytes_le();
    assert!(bytes.len() <= 32, "does not fit in U256");
    let mut buf = [0u8; 32];
    buf[..bytes.len()].copy_from_slice(&bytes);
    U256::from_le_bytes(buf)
}

/// `atanh(s) * 2^P` for `0 <= s <= 1/3` (fixed point), error at most 2^9 ulps.
fn atanh(s: &BigInt) -> BigInt {
    let s2 = mul(s, s);
    let mut pow = s.clone();
    let mut sum = BigInt::zero();
    let mut k = 1u32;
    loop {
        let term = &pow / k;
        if term.is_zero() {
            break;
        }
        sum += term;
        pow = mul(&pow, &s2);
        k += 2;
    }
    sum
}

/// `ln 2 * 2^P`, error at most 2^10 ulps.
pub(crate) fn ln2() -> &'static BigInt {
    static LN2: OnceLock<BigInt> = OnceLock::new();
    LN2.get_or_init(|| {
        let third = one() / 3u32;
        atanh(&third) * 2u32
    })
}

/// `ln(x) * 2^P` for an integer `x >= 1` below `2^P`; error at most 2^19 ulps
/// (`k * err(ln 2) + err(atanh)` with `k < 2^8` for `x < 2^256`, and more slack above).
pub(crate) fn ln_int(x: &BigInt) -> BigInt {
    assert!(x.is_positive());
    let k = x.bits() - 1;
    assert!(k < u64::from(P));
    let m = x << (u64::from(P) - k); // x / 2^k in [1, 2), exact
    let s = ((&m - one()) << P) / (&m + one());
    BigInt::from(k) * ln2() + atanh(&s) * 2u32
}

/// `ln(10^18) * 2^P`.
pub(crate) fn ln_wad() -> &'static BigInt {
    static LNW: OnceLock<BigInt> = OnceLock::new();
    LNW.get_or_init(|| ln_int(&wad_big()))
}

/// An enclosure `lo <= v * 2^P <= hi` of a real value `v`.
#[derive(Debug, Clone)]
pub(crate) struct Encl {
    /// Lower end (scaled by `2^P`).
    pub lo: BigInt,
    /// Upper end (scaled by `2^P`).
    pub hi: BigInt,
}

impl Encl {
    /// An exact value `n / d` (rational), enclosed by floor and ceil at scale `2^P`.
    pub(crate) fn ratio(n: &BigInt, d: &BigInt) -> Self {
        let scaled = n << P;
        let lo = &scaled / d; // non-negative operands in every caller
        let hi = if (&lo * d) == scaled {
            lo.clone()
        } else {
            &lo + 1
        };
        Encl { lo, hi }
    }

    /// True when the integer `v` is `<= ` the true value for certain... or at least not
    /// provably above it: `v * 2^P <= hi`.
    pub(crate) fn not_below(&self, v: &BigInt) -> bool {
        (v << P) <= self.hi
    }

    /// `v * 2^P >= lo`: `v` is not provably below the true value.
    pub(crate) fn not_above(&self, v: &BigInt) -> bool {
        (v << P) >= self.lo
    }

    /// `floor(true value)` when the enclosure decides it.
    pub(crate) fn floor(&self) -> Option<BigInt> {
        let a = &self.lo >> P;
        let b = &self.hi >> P;
        (a == b).then_some(a)
    }

    /// `ceil(true value)` when the enclosure decides it.
    pub(crate) fn ceil(&self) -> Option<BigInt> {
        let a = -((-&self.lo) >> P);
        let b = -((-&self.hi) >> P);
        (a == b).then_some(a)
    }

    /// Integer floor of `mult * hi / 2^(P + shift)` (rounded up): used to evaluate
    /// `eps * value` bounds with `eps = mult / 2^shift`.
    pub(crate) fn scaled_hi_ceil(&self, mult: &BigInt, shift: u32) -> BigInt {
        -((-(&self.hi * mult)) >> (P + shift))
    }

    /// Approximate value as f64, for diagnostics only.
    pub(crate) fn approx_f64(&self) -> f64 {
        big_to_f64(&self.hi, P)
    }
}

/// Encloses `exp(l)` where `l * 2^P` is known up to `l_err` ulps (`|l_approx - l| <= l_err`).
///
/// Error analysis: `q = floor(l / ln2)` is exact arithmetic on the approximations;
/// `r = l - q ln2` then carries `l_err + |q| * 2^10` ulps of error, the Taylor series adds at
/// most ~2^8 ulps, and the final shift at most 1 absolute ulp. The enclosure uses a relative
/// margin `2 * (r_err + 2^9)` ulps plus 4 absolute ulps.
pub(crate) fn exp_encl(l: &BigInt, l_err: &BigInt) -> Encl {
    let ln2 = ln2();
    // floor division for signed l
    let mut q = l / ln2;
    if l.is_negative() && (&q * ln2) != *l {
        q -= 1;
    }
    let r = l - &q * ln2;
    debug_assert!(!r.is_negative() && &r < ln2);
    // Taylor series of exp(r), r in [0, ln 2).
    let mut sum = one();
    let mut term = one();
    let mut n = 1u32;
    loop {
        term = mul(&term, &r) / n;
        if term.is_zero() {
            break;
        }
        sum += &term;
        n += 1;
    }
    let r_err = l_err + q.abs() * 1024u32 + 512u32;
    // sum <= 2 * 2^P, so a relative error of r_err ulps in r is at most 2 * r_err ulps of sum.
    let err = (&r_err * 2u32) + 4u32;
    let q = q.to_i64().expect("exponent fits i64");
    let shift = |v: BigInt| -> BigInt {
        if q >= 0 {
            v << (q as u64)
        } else {
            v >> ((-q) as u64)
        }
    };
    let lo: BigInt = shift(&sum - &err) - 1;
    let hi: BigInt = shift(&sum + &err) + 1;
    Encl {
        lo: if lo.is_negative() { BigInt::zero() } else { lo },
        hi,
    }
}

/// Error bound (in ulps) of [`ln_int`] for inputs below `2^256`, doubled for safety.
fn ln_err() -> BigInt {
    BigInt::one() << 20
}

/// Enclosure of `x^y` in WAD units, for `x = X / 1e18`, `y = Y / 1e18` (the true result is
/// `1e18 * x^y`). `0^0 = 1`, `0^y = 0`.
pub(crate) fn pow_wad(x: U256, y: U256) -> Encl {
    let xb = big(x);
    let yb = big(y);
    let w = wad_big();
    if yb.is_zero() {
        return Encl::ratio(&w, &BigInt::one());
    }
    if xb.is_zero() {
        return Encl::ratio(&BigInt::zero(), &BigInt::one());
    }
    // ln R = y ln X + (1 - y) ln W  =  (Y ln X + (W - Y) ln W) / W
    let num = &yb * ln_int(&xb) + (&w - &yb) * ln_wad();
    let l = &num / &w; // truncation: 1 ulp
    let mult = (&yb + (&w - &yb).abs()) / &w + 1u32;
    let l_err = ln_err() * mult + 2u32;
    exp_encl(&l, &l_err)
}

/// Enclosure of `2^t` in WAD units for `t = T / 1e18` (signed): `R = 1e18 * 2^t`.
pub(crate) fn exp2_wad(t: i128) -> Encl {
    let w = wad_big();
    let l = (BigInt::from(t) * ln2()) / &w + ln_wad();
    let mult = BigInt::from(t.unsigned_abs()) / &w + 2u32;
    let l_err = ln_err() * mult + 2u32;
    exp_encl(&l, &l_err)
}

/// Enclosure of `log2(x)` for a positive integer `x` (no WAD scaling), scaled by `2^P`.
pub(crate) fn log2_int(x: &BigInt) -> Encl {
    let ln = ln_int(x);
    let v = (&ln << P) / ln2();
    // ln has <= 2^19 ulps error, ln2 has <= 2^10 ulps relative: quotient error < 2^22 ulps
    // for |log2 x| < 2^9.
    let err = BigInt::one() << 24;
    Encl {
        lo: &v - &err,
        hi: &v + &err,
    }
}

/// Enclosure of `log2(X / 1e18)` scaled by `2^P`.
pub(crate) fn log2_wad(x: U256) -> Encl {
    let a = log2_int(&big(x));
    let b = log2_int(&wad_big());
    Encl {
        lo: a.lo - b.hi,
        hi: a.hi - b.lo,
    }
}

/// `floor(v * 2^bits)` for an enclosed value, if decided.
pub(crate) fn floor_scaled(e: &Encl, bits: u32) -> Option<BigInt> {
    let a = &e.lo >> (P - bits);
    let b = &e.hi >> (P - bits);
    (a == b).then_some(a)
}

/// `v / 2^frac_bits` as f64, for diagnostics only (never used as a reference).
pub(crate) fn big_to_f64(v: &BigInt, frac_bits: u32) -> f64 {
    let shift = v.bits().saturating_sub(60);
    let top = (v >> shift).to_f64().unwrap_or(f64::NAN);
    top * 2f64.powi(shift as i32 - frac_bits as i32)
}

/// Helper: the big integer as a `u128`/`i128` (panics if it does not fit; tests only).
pub(crate) fn to_i128(x: &BigInt) -> i128 {
    x.to_i128().expect("fits i128")
}

/// Exact `x^n / 1e18^(n-1)` as a rational (numerator, denominator) for integer powers.
pub(crate) fn int_pow_ratio(x: U256, n: u32) -> (BigInt, BigInt) {
    let xb = big(x);
    let num = num_traits::pow(xb, n as usize);
    let den = num_traits::pow(wad_big(), (n as usize).saturating_sub(1));
    (num, den)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln2_digits() {
        // ln 2 = 0.693147180559945309417232121458176568075500134360255254120680...
        let digits = (ln2() * BigInt::from(10u32).pow(60)) >> P;
        assert_eq!(
            digits.to_string(),
            "693147180559945309417232121458176568075500134360255254120680"
        );
    }

    #[test]
    fn ln10_digits() {
        // ln 10 = 2.302585092994045684017991454684364207601101488628772976033327...
        let ln10 = ln_int(&BigInt::from(10u32));
        let digits = (ln10 * BigInt::from(10u32).pow(60)) >> P;
        assert_eq!(
            digits.to_string(),
            "2302585092994045684017991454684364207601101488628772976033327"
        );
    }

    #[test]
    fn exp_of_one_is_e() {
        // e = 2.718281828459045235360287471352662497757247093699959574966967...
        let e = exp_encl(&one(), &BigInt::zero());
        let scale = BigInt::from(10u32).pow(60);
        assert_eq!(
            ((&e.lo * &scale) >> P).to_string(),
            "2718281828459045235360287471352662497757247093699959574966967"
        );
        assert_eq!(
            ((&e.hi * &scale) >> P).to_string(),
            "2718281828459045235360287471352662497757247093699959574966967"
        );
    }

    #[test]
    fn pow_reference_known_values() {
        let wad = U256::from(1_000_000_000_000_000_000u64);
        // 4^0.5 = 2 exactly: the enclosure must contain 2e18 and be tiny.
        let e = pow_wad(wad * U256::from(4u8), wad / U256::from(2u8));
        let two = BigInt::from(2_000_000_000_000_000_000u64);
        assert!(e.not_below(&two) && e.not_above(&two));
        assert!((&e.hi - &e.lo) < (BigInt::one() << (P - 200)));
        // 2^1.5 = 2.828427124746190097603377448419396157139343750753896146353359...
        let e = pow_wad(
            wad * U256::from(2u8),
            wad * U256::from(3u8) / U256::from(2u8),
        );
        assert_eq!(e.floor().unwrap().to_string(), "2828427124746190097");
        // 1e6^4 = 1e24 -> 1e42 WAD units exactly.
        let e = pow_wad(wad * U256::from(1_000_000u32), wad * U256::from(4u8));
        let v = BigInt::from(10u32).pow(42);
        assert!(e.not_below(&v) && e.not_above(&v));
    }
}

/// Table generation and verification helpers (shared by `pow`'s tests and the generator).
pub(crate) mod tables {
    use super::*;

    fn sym(v: BigInt, err_bits: u32) -> Encl {
        let e = BigInt::one() << err_bits;
        Encl {
            lo: &v - &e,
            hi: &v + &e,
        }
    }

    /// `1 / ln 2`.
    pub(crate) fn log2_e() -> Encl {
        sym((one() << P) / ln2(), 14)
    }

    /// `1 / (n ln 2)`.
    pub(crate) fn inv_n_ln2(n: u32) -> Encl {
        sym((one() << P) / (ln2() * n), 14)
    }

    /// `(ln 2)^n / n!`.
    pub(crate) fn ln2_pow_over_fact(n: u32) -> Encl {
        let mut v = one();
        for k in 1..=n {
            v = mul(&v, ln2()) / k;
        }
        sym(v, 16)
    }

    /// `2^(i / 256)`.
    pub(crate) fn exp2_frac(i: u32) -> Encl {
        if i == 0 {
            return Encl::ratio(&BigInt::one(), &BigInt::one());
        }
        let l = (ln2() * i) / 256u32;
        exp_encl(&l, &BigInt::from(1024u32))
    }

    /// `-log2(r / 2^64)` for an integer `r`.
    pub(crate) fn neg_log2_q64(r: u64) -> Encl {
        let e = log2_int(&BigInt::from(r));
        let sixty_four = BigInt::from(64u32) << P;
        Encl {
            lo: &sixty_four - e.hi,
            hi: &sixty_four - e.lo,
        }
    }

    /// `log2(1e18)`.
    pub(crate) fn log2_wad_const() -> Encl {
        log2_int(&wad_big())
    }

    /// `floor(v * 2^bits)` as i128, asserting the reference decides it.
    pub(crate) fn fl(e: &Encl, bits: u32) -> i128 {
        to_i128(&floor_scaled(e, bits).expect("reference decides the floor"))
    }
}

#[cfg(test)]
mod generator {
    use super::tables::*;

    /// Prints `src/pow/tables.rs`. Run with
    /// `cargo test -p azex-math --release -- --ignored print_pow_tables --nocapture`
    /// and paste the output between the markers. The non-ignored test
    /// `pow::tests::tables_match_reference` re-derives every constant and fails on any drift.
    #[test]
    #[ignore]
    fn print_pow_tables() {
        let mut out = String::new();
        out.push_str(&format!(
            "/// `floor(log2(1e18) * 2^64)`.\npub(super) const LOG2_WAD_Q64: i128 = {:#x};\n",
            fl(&log2_wad_const(), 64)
        ));
        out.push_str(&format!(
            "/// `floor(2^63 / ln 2)`: `log2(e)` in Q63.\npub(super) const LOG2_E_Q63: u64 = {:#x};\n",
            fl(&log2_e(), 63)
        ));
        out.push_str("/// `floor(2^62 / (n ln 2))` for `n = 0..=7` (entries 0 and 1 unused): the\n/// coefficients of `log2(1 + z) = sum (-1)^(n+1) z^n / (n ln 2)` in Q62.\npub(super) const LOG_COEF_Q62: [i64; 8] = [0, 0");
        for n in 2..=7 {
            out.push_str(&format!(", {:#x}", fl(&inv_n_ln2(n), 62)));
        }
        out.push_str("];\n");
        out.push_str("/// `floor((ln 2)^n / n! * 2^64)` for `n = 0..=7` (entry 0 unused): the\n/// coefficients of `2^r - 1 = sum (r ln 2)^n / n!` in Q64.\npub(super) const EXP_COEF_Q64: [u64; 8] = [0");
        for n in 1..=7 {
            out.push_str(&format!(", {:#x}", fl(&ln2_pow_over_fact(n), 64)));
        }
        out.push_str("];\n");
        out.push_str("/// `floor(-log2(LOG_RECIP_Q64[i] / 2^64) * 2^64)`, i.e. `log2` of the reciprocal's\n/// inverse in Q64.\npub(super) const LOG_NEG_Q64: [u64; 256] = [\n");
        for i in 0..256u32 {
            let r = ((1u128 << 73) / u128::from(513 + 2 * i)) as u64;
            out.push_str(&format!("    {:#018x},\n", fl(&neg_log2_q64(r), 64)));
        }
        out.push_str("];\n");
        out.push_str("/// `floor(2^(i / 256) * 2^63)`: the exp2 table in Q63.\npub(super) const EXP2_Q63: [u64; 256] = [\n");
        for i in 0..256u32 {
            out.push_str(&format!("    {:#018x},\n", fl(&exp2_frac(i), 63)));
        }
        out.push_str("];\n");
        println!("BEGIN-TABLES\n{out}END-TABLES");
    }
}
