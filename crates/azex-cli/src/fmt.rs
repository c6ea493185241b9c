//! Human formatting of protocol integers (display only).

/// A WAD value (1e18) as a decimal with `dp` places, truncated.
pub(crate) fn wad(v: u128, dp: u32) -> String {
    let unit = 1_000_000_000_000_000_000u128;
    let int = v / unit;
    let frac = (v % unit) / 10u128.pow(18 - dp);
    format!("{int}.{frac:0width$}", width = dp as usize)
}

/// An azUSD amount (1e-6) in dollars with cents.
pub(crate) fn usd(v: u128) -> String {
    let int = v / 1_000_000;
    let cents = (v % 1_000_000) / 10_000;
    let mut s = int.to_string();
    let mut out = String::new();
    while s.len() > 3 {
        let tail = s.split_off(s.len() - 3);
        out = format!(",{tail}{out}");
    }
    format!("${s}{out}.{cents:02}")
}
