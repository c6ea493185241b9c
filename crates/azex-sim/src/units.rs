//! Fixed-point units used at the simulator/engine boundary.
//!
//! | quantity            | type   | unit                                   |
//! |---------------------|--------|----------------------------------------|
//! | price               | `u128` | WAD: 1e18 = 1 USD per whole token      |
//! | position size, base | `u128` | WAD: 1e18 = 1 whole token              |
//! | USD amount          | `u128`/`i128` | micro-azUSD: 1e6 = 1 azUSD      |
//! | LP shares           | `u128` | WAD                                    |
//! | ratios              | `u32`  | basis points (1e4 = 100%) unless named |
//!
//! Everything that reaches a [`crate::Venue`] is an integer in one of these units. Conversions
//! name their rounding; products that can exceed 128 bits go through 256-bit `mul_div` from
//! `azex-math`.

use azex_math::{mul_div_down_u128, mul_div_e30_u128, mul_div_up_u128, WAD_U128};

/// 1e18: one whole unit in WAD precision (prices, base sizes, shares); azex-math's `WAD_U128`.
pub const WAD: u128 = WAD_U128;
/// 1e6: micro-azUSD per azUSD.
pub const USD: u128 = 1_000_000;
/// size_wad * price_wad / NOTIONAL_DIV = micro-azUSD notional.
pub const NOTIONAL_DIV: u128 = WAD * WAD / USD; // 1e30
/// 1e4 basis points = 100%.
pub const BPS: u128 = 10_000;

/// `a * b / d`, rounded down, exact (256-bit intermediate when needed), or `None` if the result
/// does not fit in 128 bits or `d == 0`. azex-math's [`mul_div_down_u128`], with its
/// 128-bit shortcut for the notional divisor ([`mul_div_e30_u128`]) tried
/// before the 256-bit division.
pub fn checked_mul_div_floor(a: u128, b: u128, d: u128) -> Option<u128> {
    if d == NOTIONAL_DIV && a.checked_mul(b).is_none() {
        if let Some((r, _)) = mul_div_e30_u128(a, b) {
            return Some(r);
        }
    }
    mul_div_down_u128(a, b, d).ok()
}

/// `a * b / d`, rounded up, exact, or `None` if the result does not fit or `d == 0`
/// (azex-math's [`mul_div_up_u128`]).
pub fn checked_mul_div_ceil(a: u128, b: u128, d: u128) -> Option<u128> {
    mul_div_up_u128(a, b, d).ok()
}

/// `a * b / d`, rounded down, exact; saturates at `u128::MAX` when the result does not fit in
/// 128 bits or `d == 0` (never panics). With inputs inside the documented limits (prices in
/// [`crate::prices::MIN_PRICE_WAD`]..=[`crate::prices::MAX_PRICE_WAD`], amounts ≤
/// [`crate::agents::MAX_CONFIG_USD`]) the simulator's conversions stay far below saturation;
/// a hostile price no longer aborts the run inside a unit conversion.
pub fn mul_div_floor(a: u128, b: u128, d: u128) -> u128 {
    checked_mul_div_floor(a, b, d).unwrap_or(u128::MAX)
}

/// `a * b / d`, rounded up, exact; saturates at `u128::MAX` like [`mul_div_floor`].
pub fn mul_div_ceil(a: u128, b: u128, d: u128) -> u128 {
    checked_mul_div_ceil(a, b, d).unwrap_or(u128::MAX)
}

/// Signed `a * b / d` with `b, d > 0`, rounded toward negative infinity; saturates at
/// `i128::MAX` / `-i128::MAX` like [`mul_div_floor`].
pub fn mul_div_signed_floor(a: i128, b: u128, d: u128) -> i128 {
    if a >= 0 {
        i128::try_from(mul_div_floor(a.unsigned_abs(), b, d)).unwrap_or(i128::MAX)
    } else {
        -i128::try_from(mul_div_ceil(a.unsigned_abs(), b, d)).unwrap_or(i128::MAX)
    }
}

/// Notional in micro-USD of `size_wad` tokens at `price_wad`, rounded down.
pub fn notional_floor(size_wad: u128, price_wad: u128) -> u128 {
    mul_div_floor(size_wad, price_wad, NOTIONAL_DIV)
}

/// Notional in micro-USD, rounded up.
pub fn notional_ceil(size_wad: u128, price_wad: u128) -> u128 {
    mul_div_ceil(size_wad, price_wad, NOTIONAL_DIV)
}

/// Token amount (WAD) worth `usd` micro-USD at `price_wad`, rounded down.
pub fn size_from_notional(usd: u128, price_wad: u128) -> u128 {
    mul_div_floor(usd, NOTIONAL_DIV, price_wad)
}

/// Whole USD to micro-USD (exact: u64 × 1e6 fits in u128).
pub const fn usd(whole: u64) -> u128 {
    whole as u128 * USD
}

/// `x * bps / 1e4`, rounded down.
pub fn bps_floor(x: u128, bps: u32) -> u128 {
    mul_div_floor(x, u128::from(bps), BPS)
}

/// `x * bps / 1e4`, rounded up.
pub fn bps_ceil(x: u128, bps: u32) -> u128 {
    mul_div_ceil(x, u128::from(bps), BPS)
}

/// Parses a decimal string (`"4386.3"`, `"0.20145"`, `"1.5e-7"`, `"12"`) to WAD, exactly,
/// rounding half up at the 18th decimal. Negative values and non-numbers are errors; zero is
/// returned as 0 (the caller decides whether it is allowed).
#[expect(
    clippy::cast_sign_loss,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    reason = "string lengths are far below 2^63; scale is checked to be in 0..=38 before the u32 cast and negative before the usize cast"
)]
pub fn parse_decimal_wad(s: &str) -> Result<u128, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty value".into());
    }
    let (mant, exp) = match s.find(['e', 'E']) {
        Some(i) => {
            let e: i32 = s[i + 1..]
                .parse()
                .map_err(|_| format!("bad exponent in {s:?}"))?;
            (&s[..i], e)
        }
        None => (s, 0),
    };
    let mant = mant.strip_prefix('+').unwrap_or(mant);
    if mant.starts_with('-') {
        return Err(format!("negative value {s:?}"));
    }
    let (int_part, frac_part) = match mant.find('.') {
        Some(i) => (&mant[..i], &mant[i + 1..]),
        None => (mant, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(format!("not a number: {s:?}"));
    }
    if !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(format!("not a number: {s:?}"));
    }
    // digits = int_part ++ frac_part, value = digits * 10^(exp - frac_len)
    let digits: String = int_part.chars().chain(frac_part.chars()).collect();
    let digits = digits.trim_start_matches('0');
    let scale = i64::from(exp) - frac_part.len() as i64 + 18; // power of ten to apply to `digits`
    if digits.is_empty() {
        return Ok(0);
    }
    if scale >= 0 {
        if digits.len() as i64 + scale > 38 {
            return Err(format!("value too large: {s:?}"));
        }
        let d: u128 = digits
            .parse()
            .map_err(|_| format!("value too large: {s:?}"))?;
        let p = 10u128.pow(scale as u32);
        d.checked_mul(p)
            .ok_or_else(|| format!("value too large: {s:?}"))
    } else {
        let cut = (-scale) as usize;
        if cut > digits.len() {
            // The first dropped digit is a leading zero: the value rounds to 0.
            return Ok(0);
        }
        let keep = &digits[..digits.len() - cut];
        let dropped = digits.as_bytes()[digits.len() - cut];
        let mut v: u128 = if keep.is_empty() {
            0
        } else {
            if keep.len() > 38 {
                return Err(format!("value too large: {s:?}"));
            }
            keep.parse()
                .map_err(|_| format!("value too large: {s:?}"))?
        };
        if dropped >= b'5' {
            v += 1;
        }
        Ok(v)
    }
}

/// Formats micro-USD as `"-1,234,567.89"` (rounded toward zero to cents), for reports.
pub fn fmt_usd(micro: i128) -> String {
    let neg = micro < 0;
    let cents = micro.unsigned_abs() / 10_000;
    let whole = cents / 100;
    let frac = cents % 100;
    let w = whole.to_string();
    let mut out = String::new();
    for (i, ch) in w.chars().enumerate() {
        if i > 0 && (w.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    format!("{}{out}.{frac:02}", if neg { "-" } else { "" })
}

/// Formats a WAD price with `decimals` decimals (rounded down), for reports.
pub fn fmt_wad(v: u128, decimals: u32) -> String {
    let int = v / WAD;
    let frac = (v % WAD) / 10u128.pow(18 - decimals.min(18));
    if decimals == 0 {
        int.to_string()
    } else {
        format!("{int}.{frac:0width$}", width = decimals as usize)
    }
}

/// Lossy conversion for charts and agent heuristics only (never fed back into state).
pub fn wad_to_f64(v: u128) -> f64 {
    v as f64 / WAD as f64
}

/// Lossy conversion for charts and agent heuristics only.
pub fn usd_to_f64(micro: i128) -> f64 {
    micro as f64 / USD as f64
}

/// f64 USD (agent heuristics) to micro-USD, rounded to nearest, clamped at 0 and u64::MAX USD.
/// `as` casts are defined (saturating) in Rust, so this is deterministic.
#[expect(
    clippy::cast_sign_loss,
    clippy::cast_possible_truncation,
    reason = "x is checked positive and not NaN first; a value beyond u128 saturates"
)]
pub fn f64_to_usd(x: f64) -> u128 {
    if x.is_nan() || x <= 0.0 {
        return 0;
    }
    let m = (x * USD as f64 + 0.5).floor();
    m as u128
}

#[cfg(test)]
mod tests {
    use super::*;
    use azex_math::{mul_div, U256};

    #[test]
    fn parse_exact() {
        assert_eq!(
            parse_decimal_wad("4386.3").unwrap(),
            4_386_300_000_000_000_000_000
        );
        assert_eq!(
            parse_decimal_wad("0.20145").unwrap(),
            201_450_000_000_000_000
        );
        assert_eq!(parse_decimal_wad("12").unwrap(), 12 * WAD);
        assert_eq!(parse_decimal_wad("1.5e-7").unwrap(), 150_000_000_000);
        assert_eq!(parse_decimal_wad("2E3").unwrap(), 2000 * WAD);
        assert_eq!(parse_decimal_wad(".5").unwrap(), WAD / 2);
        assert_eq!(parse_decimal_wad("0").unwrap(), 0);
        // rounding at the 18th decimal: half up
        assert_eq!(parse_decimal_wad("0.0000000000000000015").unwrap(), 2);
        assert_eq!(parse_decimal_wad("0.0000000000000000014").unwrap(), 1);
        assert_eq!(parse_decimal_wad("0.0000000000000000005").unwrap(), 1);
        assert_eq!(parse_decimal_wad("0.0000000000000000004").unwrap(), 0);
        assert!(parse_decimal_wad("-1").is_err());
        assert!(parse_decimal_wad("abc").is_err());
        assert!(parse_decimal_wad("").is_err());
        assert!(parse_decimal_wad("1e40").is_err());
    }

    fn reference(a: u128, b: u128, d: u128) -> u128 {
        u128::try_from(mul_div(U256::from(a), U256::from(b), U256::from(d)).unwrap()).unwrap()
    }

    proptest::proptest! {
        #[test]
        fn fast_mul_div_matches_256_bit(a in 0u128..10u128.pow(34), b in 0u128..10u128.pow(26), ceil in proptest::bool::ANY) {
            let d = NOTIONAL_DIV;
            proptest::prop_assert_eq!(mul_div_floor(a, b, d), reference(a, b, d));
            if let Some((r, _)) = mul_div_e30_u128(a, b) {
                proptest::prop_assert_eq!(r, reference(a, b, d));
            }
            let d2 = 7_919u128 * 10u128.pow(20);
            if ceil {
                let exact = U256::from(a) * U256::from(b) % U256::from(d2) == U256::ZERO;
                proptest::prop_assert_eq!(mul_div_ceil(a, b, d2), reference(a, b, d2) + u128::from(!exact));
            } else {
                proptest::prop_assert_eq!(mul_div_floor(a, b, d2), reference(a, b, d2));
            }
        }
    }

    const E15: u128 = 1_000_000_000_000_000;

    #[test]
    fn e30_edges() {
        for (a, b) in [
            (E15 - 1, E15 - 1),
            (E15 * E15, 1),
            (10u128.pow(26) + 999, 10u128.pow(23) - 1),
            (u128::MAX / E15, E15),
        ] {
            assert_eq!(
                mul_div_floor(a, b, NOTIONAL_DIV),
                reference(a, b, NOTIONAL_DIV)
            );
        }
    }

    #[test]
    fn conversions_saturate_instead_of_panicking() {
        // issue 9: a price of 5e-12 USD made size_from_notional abort the run
        assert_eq!(
            size_from_notional(usd(10_000_000_000), 5_000_000),
            u128::MAX
        );
        assert_eq!(size_from_notional(usd(u64::MAX), 1), u128::MAX);
        assert_eq!(mul_div_floor(1, 1, 0), u128::MAX);
        assert_eq!(mul_div_ceil(u128::MAX, u128::MAX, 1), u128::MAX);
        assert_eq!(checked_mul_div_floor(u128::MAX, 2, 1), None);
        assert_eq!(mul_div_signed_floor(i128::MIN, u128::MAX, 1), -i128::MAX);
        assert_eq!(mul_div_signed_floor(i128::MAX, 2, 1), i128::MAX);
        // the documented limits stay far from saturation
        let min_size = size_from_notional(
            usd(crate::agents::MAX_CONFIG_USD),
            crate::prices::MIN_PRICE_WAD,
        );
        assert!(min_size < u128::MAX / 100);
    }

    #[test]
    fn notional_roundtrip() {
        let p = parse_decimal_wad("4386.3").unwrap();
        let s = size_from_notional(usd(10_000), p);
        let n = notional_floor(s, p);
        assert!(n <= usd(10_000) && usd(10_000) - n <= 1);
        assert_eq!(fmt_usd(-1_234_567_890_000), "-1,234,567.89");
        assert_eq!(fmt_wad(p, 2), "4386.30");
    }
}
