//! JSON numbers for u128/i128 that accept both numbers and decimal strings, and always write
//! decimal strings (JSON numbers lose precision above 2^53 in many readers).

use serde::{de, Deserialize, Deserializer, Serializer};

#[derive(Deserialize)]
#[serde(untagged)]
enum Num {
    U(u64),
    I(i64),
    S(String),
}

pub(crate) fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.to_string())
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
    match Num::deserialize(d)? {
        Num::U(x) => Ok(u128::from(x)),
        Num::I(x) => u128::try_from(x).map_err(|_| de::Error::custom("negative amount")),
        Num::S(s) => s
            .trim()
            .replace('_', "")
            .parse()
            .map_err(|_| de::Error::custom(format!("not an unsigned integer: {s:?}"))),
    }
}

pub(crate) mod signed {
    use super::*;
    pub(crate) fn serialize<S: Serializer>(v: &i128, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i128, D::Error> {
        match Num::deserialize(d)? {
            Num::U(x) => Ok(i128::from(x)),
            Num::I(x) => Ok(i128::from(x)),
            Num::S(s) => s
                .trim()
                .replace('_', "")
                .parse()
                .map_err(|_| de::Error::custom(format!("not an integer: {s:?}"))),
        }
    }
}
