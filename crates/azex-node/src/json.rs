//! JSON of engine values: integers that a double cannot hold exactly (|n| > 2^53) become decimal
//! strings, the convention of the engine's own amounts (`serde_num`), so u128/i128 fields of
//! events and state never overflow `serde_json::Value` nor lose digits in a JavaScript client.

use serde::Serialize;
use serde_json::Value;

const SAFE: u128 = 1 << 53;

/// Quote big integer literals in JSON text.
pub fn quote_big_ints(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len() + 16);
    let mut i = 0;
    let mut in_str = false;
    let mut start = 0;
    while i < b.len() {
        let c = b[i];
        if in_str {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == b'"' {
                in_str = false;
            }
            i += 1;
            continue;
        }
        if c == b'"' {
            in_str = true;
            i += 1;
            continue;
        }
        if c == b'-' || c.is_ascii_digit() {
            let j0 = i;
            let mut j = i + 1;
            while j < b.len()
                && (b[j].is_ascii_digit() || matches!(b[j], b'.' | b'e' | b'E' | b'+' | b'-'))
            {
                j += 1;
            }
            let tok = &s[j0..j];
            let is_int = !tok.contains(['.', 'e', 'E']);
            let big = is_int
                && tok
                    .trim_start_matches('-')
                    .parse::<u128>()
                    .map(|v| v > SAFE)
                    .unwrap_or(true);
            if big {
                out.push_str(&s[start..j0]);
                out.push('"');
                out.push_str(tok);
                out.push('"');
                start = j;
            }
            i = j;
            continue;
        }
        i += 1;
    }
    out.push_str(&s[start..]);
    out
}

/// Serialise to a `Value`, big integers as strings. Never fails (Null if it could not).
pub fn jv<T: Serialize + ?Sized>(t: &T) -> Value {
    match serde_json::to_string(t) {
        Ok(s) => serde_json::from_str(&quote_big_ints(&s)).unwrap_or(Value::Null),
        Err(_) => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_ints_quoted() {
        #[derive(Serialize)]
        struct X {
            a: u128,
            b: i128,
            c: u64,
            s: &'static str,
            f: f64,
        }
        let v = jv(&X {
            a: u128::MAX,
            b: -(1i128 << 100),
            c: 7,
            s: "12345678901234567890\"x",
            f: 1.5e30,
        });
        assert_eq!(v["a"], u128::MAX.to_string());
        assert_eq!(v["b"], (-(1i128 << 100)).to_string());
        assert_eq!(v["c"], 7);
        assert_eq!(v["s"], "12345678901234567890\"x");
        assert!(v["f"].is_number());
    }
}
