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
///
/// Builds the `Value` directly ([`to_value`]); a type that serialises something the direct path
/// does not take (a map key other than a string, integer, bool or char) goes through JSON text
/// and [`quote_big_ints`] instead, which gives the same `Value` the direct path would.
pub fn jv<T: Serialize + ?Sized>(t: &T) -> Value {
    to_value(t).unwrap_or_else(|_| jv_text(t))
}

/// [`jv`] through JSON text: `serde_json` writes it, [`quote_big_ints`] quotes the big integers,
/// `serde_json` parses it back.
pub fn jv_text<T: Serialize + ?Sized>(t: &T) -> Value {
    match serde_json::to_string(t) {
        Ok(s) => serde_json::from_str(&quote_big_ints(&s)).unwrap_or(Value::Null),
        Err(_) => Value::Null,
    }
}

/// `t` as a `Value` the way `serde_json` represents it, except that integers beyond ±2^53 are
/// decimal strings.
pub fn to_value<T: Serialize + ?Sized>(t: &T) -> Result<Value, serde_json::Error> {
    t.serialize(ValueSer)
}

fn int_value(negative: bool, magnitude: u128) -> Value {
    if magnitude > SAFE {
        let sign = if negative { "-" } else { "" };
        Value::String(format!("{sign}{magnitude}"))
    } else if negative {
        // magnitude ≤ 2^53: fits an i64 once negated.
        Value::Number(i64::try_from(magnitude).map_or(0, |m| -m).into())
    } else {
        Value::Number(u64::try_from(magnitude).unwrap_or(0).into())
    }
}

fn signed(v: i128) -> Value {
    int_value(v < 0, v.unsigned_abs())
}

/// The direct serialiser behind [`to_value`].
struct ValueSer;

/// A sequence (or tuple) being built; `variant` set for a tuple variant.
struct SeqSer {
    items: Vec<Value>,
    variant: Option<&'static str>,
}

/// A map or struct being built; `variant` set for a struct variant.
struct MapSer {
    map: serde_json::Map<String, Value>,
    key: Option<String>,
    variant: Option<&'static str>,
}

fn wrap(variant: Option<&'static str>, v: Value) -> Value {
    match variant {
        Some(name) => {
            let mut m = serde_json::Map::new();
            m.insert(name.to_owned(), v);
            Value::Object(m)
        }
        None => v,
    }
}

fn unsupported(what: &str) -> serde_json::Error {
    serde::ser::Error::custom(format!("{what} not supported by the direct path"))
}

impl serde::Serializer for ValueSer {
    type Ok = Value;
    type Error = serde_json::Error;
    type SerializeSeq = SeqSer;
    type SerializeTuple = SeqSer;
    type SerializeTupleStruct = SeqSer;
    type SerializeTupleVariant = SeqSer;
    type SerializeMap = MapSer;
    type SerializeStruct = MapSer;
    type SerializeStructVariant = MapSer;

    fn serialize_bool(self, v: bool) -> Result<Value, Self::Error> {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value, Self::Error> {
        Ok(signed(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Value, Self::Error> {
        Ok(signed(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Value, Self::Error> {
        Ok(signed(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Value, Self::Error> {
        Ok(signed(v.into()))
    }
    fn serialize_i128(self, v: i128) -> Result<Value, Self::Error> {
        Ok(signed(v))
    }
    fn serialize_u8(self, v: u8) -> Result<Value, Self::Error> {
        Ok(int_value(false, v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Value, Self::Error> {
        Ok(int_value(false, v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Value, Self::Error> {
        Ok(int_value(false, v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Value, Self::Error> {
        Ok(int_value(false, v.into()))
    }
    fn serialize_u128(self, v: u128) -> Result<Value, Self::Error> {
        Ok(int_value(false, v))
    }
    fn serialize_f32(self, v: f32) -> Result<Value, Self::Error> {
        self.serialize_f64(v.into())
    }
    fn serialize_f64(self, v: f64) -> Result<Value, Self::Error> {
        // serde_json writes a non-finite float as `null`.
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn serialize_char(self, v: char) -> Result<Value, Self::Error> {
        Ok(Value::String(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value, Self::Error> {
        Ok(Value::String(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, Self::Error> {
        Ok(Value::Array(v.iter().map(|b| Value::from(*b)).collect()))
    }
    fn serialize_none(self) -> Result<Value, Self::Error> {
        Ok(Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<Value, Self::Error> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, Self::Error> {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Value, Self::Error> {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Value, Self::Error> {
        Ok(Value::String(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<Value, Self::Error> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<Value, Self::Error> {
        Ok(wrap(Some(variant), v.serialize(self)?))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSer, Self::Error> {
        Ok(SeqSer {
            items: Vec::with_capacity(len.unwrap_or(0)),
            variant: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqSer, Self::Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<SeqSer, Self::Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqSer, Self::Error> {
        Ok(SeqSer {
            items: Vec::with_capacity(len),
            variant: Some(variant),
        })
    }
    fn serialize_map(self, _: Option<usize>) -> Result<MapSer, Self::Error> {
        Ok(MapSer {
            map: serde_json::Map::new(),
            key: None,
            variant: None,
        })
    }
    fn serialize_struct(self, name: &'static str, _: usize) -> Result<MapSer, Self::Error> {
        if name.starts_with("$serde_json") {
            // serde_json's own RawValue / Number tokens: the text path handles them.
            return Err(unsupported(name));
        }
        self.serialize_map(None)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<MapSer, Self::Error> {
        Ok(MapSer {
            map: serde_json::Map::new(),
            key: None,
            variant: Some(variant),
        })
    }
}

impl SeqSer {
    fn push<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), serde_json::Error> {
        self.items.push(v.serialize(ValueSer)?);
        Ok(())
    }
    fn done(self) -> Value {
        wrap(self.variant, Value::Array(self.items))
    }
}

impl serde::ser::SerializeSeq for SeqSer {
    type Ok = Value;
    type Error = serde_json::Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Self::Error> {
        self.push(v)
    }
    fn end(self) -> Result<Value, Self::Error> {
        Ok(self.done())
    }
}

impl serde::ser::SerializeTuple for SeqSer {
    type Ok = Value;
    type Error = serde_json::Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Self::Error> {
        self.push(v)
    }
    fn end(self) -> Result<Value, Self::Error> {
        Ok(self.done())
    }
}

impl serde::ser::SerializeTupleStruct for SeqSer {
    type Ok = Value;
    type Error = serde_json::Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Self::Error> {
        self.push(v)
    }
    fn end(self) -> Result<Value, Self::Error> {
        Ok(self.done())
    }
}

impl serde::ser::SerializeTupleVariant for SeqSer {
    type Ok = Value;
    type Error = serde_json::Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Self::Error> {
        self.push(v)
    }
    fn end(self) -> Result<Value, Self::Error> {
        Ok(self.done())
    }
}

impl MapSer {
    fn field<T: Serialize + ?Sized>(&mut self, k: &str, v: &T) -> Result<(), serde_json::Error> {
        self.map.insert(k.to_owned(), v.serialize(ValueSer)?);
        Ok(())
    }
    fn done(self) -> Value {
        wrap(self.variant, Value::Object(self.map))
    }
}

/// A map key as `serde_json` writes it: strings as they are; integers, bools and chars as
/// their text (big integers are not quoted twice: a key is a string already).
fn key_text(k: Value) -> Result<String, serde_json::Error> {
    match k {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(unsupported("this map key")),
    }
}

impl serde::ser::SerializeMap for MapSer {
    type Ok = Value;
    type Error = serde_json::Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<(), Self::Error> {
        // Floats are not keys in serde_json; the text path keeps their exact behaviour.
        let v = k.serialize(ValueSer)?;
        if matches!(&v, Value::Number(n) if n.is_f64()) {
            return Err(unsupported("a float map key"));
        }
        self.key = Some(key_text(v)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Self::Error> {
        let k = self
            .key
            .take()
            .ok_or_else(|| unsupported("a value without a key"))?;
        self.field(&k, v)
    }
    fn end(self) -> Result<Value, Self::Error> {
        Ok(self.done())
    }
}

impl serde::ser::SerializeStruct for MapSer {
    type Ok = Value;
    type Error = serde_json::Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        k: &'static str,
        v: &T,
    ) -> Result<(), Self::Error> {
        self.field(k, v)
    }
    fn end(self) -> Result<Value, Self::Error> {
        Ok(self.done())
    }
}

impl serde::ser::SerializeStructVariant for MapSer {
    type Ok = Value;
    type Error = serde_json::Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        k: &'static str,
        v: &T,
    ) -> Result<(), Self::Error> {
        self.field(k, v)
    }
    fn end(self) -> Result<Value, Self::Error> {
        Ok(self.done())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// Every kind of serde value, nested.
    #[derive(Serialize, Debug, Clone)]
    enum E {
        Unit,
        New(i128),
        Tup(u64, i64),
        Strukt { a: u128, b: Option<f64> },
    }

    #[derive(Serialize, Debug, Clone)]
    struct All {
        u: u128,
        i: i128,
        u64_: u64,
        i64_: i64,
        small: (u8, i8, u16, i16, u32, i32),
        f: f64,
        f32_: f32,
        c: char,
        s: String,
        o: Option<u64>,
        unit: (),
        es: Vec<E>,
        by_int: BTreeMap<u128, i64>,
        by_neg: BTreeMap<i64, bool>,
        by_str: BTreeMap<String, E>,
        #[serde(flatten)]
        flat: BTreeMap<String, u128>,
    }

    /// Floats the text path parses back exactly (serde_json's parser may miss the last digit of
    /// a 17-digit float; the direct path keeps every float exactly): a few decimal digits, plus
    /// the non-finite ones (`null` on both paths).
    fn float() -> impl Strategy<Value = f64> {
        prop_oneof![
            (any::<i32>(), 0..6i32).prop_map(|(m, e)| f64::from(m) / 10f64.powi(e)),
            Just(f64::NAN),
            Just(f64::INFINITY),
        ]
    }

    fn e() -> impl Strategy<Value = E> {
        prop_oneof![
            Just(E::Unit),
            any::<i128>().prop_map(E::New),
            (any::<u64>(), any::<i64>()).prop_map(|(a, b)| E::Tup(a, b)),
            (any::<u128>(), prop::option::of(float())).prop_map(|(a, b)| E::Strukt { a, b }),
        ]
    }

    /// Integers near the ±2^53 edge as well as anywhere.
    fn edge_u() -> impl Strategy<Value = u128> {
        prop_oneof![any::<u128>(), (SAFE - 3..SAFE + 3), 0u128..10]
    }

    fn all() -> impl Strategy<Value = All> {
        (
            (edge_u(), any::<i128>(), any::<u64>(), any::<i64>()),
            any::<(u8, i8, u16, i16, u32, i32)>(),
            (
                float(),
                any::<i16>().prop_map(f32::from),
                any::<char>(),
                ".*",
                any::<Option<u64>>(),
            ),
            prop::collection::vec(e(), 0..4),
            prop::collection::btree_map(edge_u(), any::<i64>(), 0..3),
            prop::collection::btree_map(any::<i64>(), any::<bool>(), 0..3),
            prop::collection::btree_map("[a-z]{1,3}", e(), 0..3),
            prop::collection::btree_map("[A-Z]{1,3}", edge_u(), 0..3),
        )
            .prop_map(
                |((u, i, u64_, i64_), small, (f, f32_, c, s, o), es, bi, bn, bs, flat)| All {
                    u,
                    i,
                    u64_,
                    i64_,
                    small,
                    f,
                    f32_,
                    c,
                    s,
                    o,
                    unit: (),
                    es,
                    by_int: bi,
                    by_neg: bn,
                    by_str: bs,
                    flat,
                },
            )
    }

    proptest! {
        /// The direct path gives exactly the Value of the text path, for every kind of value.
        #[test]
        fn direct_equals_text(a in all()) {
            prop_assert_eq!(to_value(&a).unwrap(), jv_text(&a));
        }
    }

    /// The engine's own events and state, as the node serves them: direct = text.
    #[test]
    fn engine_values_direct_equals_text() {
        let o = crate::snapbench::SnapbenchOptions {
            positions: 300,
            markets: 2,
            users: 20,
            per_block: 50,
            ..Default::default()
        };
        let mut st = azex_exchange::State::genesis(&crate::snapbench::genesis(&o)).unwrap();
        let mut n = 0;
        for (ctx, txs) in crate::snapbench::blocks(&o) {
            let x = crate::chain::execute(&mut st, ctx, &txs).unwrap();
            let evs = x
                .begin
                .iter()
                .chain(x.results.iter().flatten().flatten())
                .chain(&x.end);
            for ev in evs {
                assert_eq!(to_value(ev).unwrap(), jv_text(ev), "{ev:?}");
                n += 1;
            }
        }
        assert!(n > 300, "{n} events");
        assert_eq!(to_value(&st.vault).unwrap(), jv_text(&st.vault));
        assert_eq!(to_value(&st.ledger).unwrap(), jv_text(&st.ledger));
        assert_eq!(to_value(&st.funds).unwrap(), jv_text(&st.funds));
        for m in &st.markets {
            assert_eq!(to_value(&m.status).unwrap(), jv_text(&m.status));
            assert_eq!(to_value(&m.prices).unwrap(), jv_text(&m.prices));
            assert_eq!(to_value(&m.risk).unwrap(), jv_text(&m.risk));
        }
        for p in &st.market_params {
            assert_eq!(to_value(p).unwrap(), jv_text(p));
        }
    }

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
