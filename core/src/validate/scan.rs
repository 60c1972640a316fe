//! A tracker file read for validation only: the text is scanned by serde_json, but only the
//! properties validation looks at ([`schema::fields`]) are kept, in a small `Value` of the
//! same shape (the twin of the napi binding's `validate_snapshot.rs`, which does the same
//! for a JS object). A 6 MB tracker is mostly file lists, dependencies and quality gates the
//! schema never inspects: they are scanned, never allocated.
//!
//! Leaves keep their kind and, for scalars, their value; an array or object that is not
//! walked into becomes an empty one of the same kind, which is all a type check needs. So
//! `validate_tracker(&mut snapshot(text)?, repair)` gives the report (errors, warnings,
//! repairs with their paths) that validating the full parse gives, and its repairs can be
//! replayed on the full value ([`super::apply_repairs`]) or on a JS object.
//!
//! It accepts exactly what `serde_json::from_str::<Value>` accepts: every value, kept or
//! not, goes through the deserializer's `deserialize_any` as `Value` does (so strings are
//! unescaped and checked, lone surrogates and out-of-range numbers refused, and the 128
//! level recursion limit applies), never through `IgnoredAny`, which is laxer on all three.
//! A text this refuses is left to the full parser ([`super::parse`]) by the callers.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::schema::{self, Fields};

/// What a value is, seen from the validator: which of its properties are kept.
#[derive(Clone, Copy)]
enum Shape {
    /// Kept as a leaf: scalars with their value, arrays and objects empty.
    Leaf,
    Tracker,
    /// One of the tracker's sections (index into [`Fields::sections`]).
    Section(usize),
    /// `phases`: every entry is a phase.
    Phases,
    Phase,
    /// `weeks`: every entry is a week.
    Weeks,
    Week,
    /// `components`: every element (or, for an object, every entry) is a component.
    Components,
    Component,
}

impl Shape {
    /// The shape of property `key`, `None` when validation never reads it.
    fn child(self, key: &str, f: &Fields) -> Option<Shape> {
        let named = |names: &[&str]| names.contains(&key);
        match self {
            Shape::Leaf => None,
            Shape::Tracker => match key {
                "phases" => Some(Shape::Phases),
                _ => match f.sections.iter().position(|(s, _)| *s == key) {
                    Some(i) => Some(Shape::Section(i)),
                    None => named(&f.tracker).then_some(Shape::Leaf),
                },
            },
            Shape::Section(i) => named(&f.sections[i].1).then_some(Shape::Leaf),
            Shape::Phases => Some(Shape::Phase),
            Shape::Phase if key == "weeks" => Some(Shape::Weeks),
            Shape::Phase => named(&f.phase).then_some(Shape::Leaf),
            Shape::Weeks => Some(Shape::Week),
            Shape::Week if key == "components" => Some(Shape::Components),
            Shape::Week => named(&f.week).then_some(Shape::Leaf),
            Shape::Components => Some(Shape::Component),
            Shape::Component => named(&f.component).then_some(Shape::Leaf),
        }
    }

    /// The shape of an array's elements, `None` when they are not read.
    fn item(self) -> Option<Shape> {
        matches!(self, Shape::Components).then_some(Shape::Component)
    }
}

/// The validation snapshot of a tracker text (see the module comment).
pub fn snapshot(text: &str) -> serde_json::Result<Value> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Snap(Shape::Tracker).deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

struct Snap(Shape);

impl<'de> DeserializeSeed<'de> for Snap {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Snap {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        match self.0.item() {
            Some(shape) => {
                while let Some(item) = seq.next_element_seed(Snap(shape))? {
                    items.push(item);
                }
            }
            None => while seq.next_element_seed(Skip)?.is_some() {},
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let fields = schema::fields();
        let mut out = Map::new();
        while let Some(key) = map.next_key_seed(Key)? {
            match self.0.child(&key, fields) {
                Some(shape) => {
                    let value = map.next_value_seed(Snap(shape))?;
                    // Last one wins, at the first one's place: as `Value` and `JSON.parse`.
                    out.insert(key.into_owned(), value);
                }
                None => map.next_value_seed(Skip)?,
            }
        }
        Ok(Value::Object(out))
    }
}

/// A property name, borrowed from the text when it has no escapes.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a property name")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// A value validation does not read: checked as `Value` would check it, nothing kept.
struct Skip;

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Skip)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key_seed(Skip)?.is_some() {
            map.next_value_seed(Skip)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::check::{apply_repairs, validate_tracker};
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// The scan and the full parse agree: same acceptance, same report, and the repairs
    /// made on the snapshot turn the full value into the one a full validation makes.
    fn agree(text: &str) {
        let full = serde_json::from_str::<Value>(text);
        let snap = snapshot(text);
        assert_eq!(
            full.is_ok(),
            snap.is_ok(),
            "acceptance differs for {text:?}"
        );
        let (Ok(full), Ok(snap)) = (full, snap) else {
            return;
        };
        for repair in [false, true] {
            let (mut a, mut b) = (full.clone(), snap.clone());
            let ra = validate_tracker(&mut a, repair);
            let rb = validate_tracker(&mut b, repair);
            assert_eq!(ra.errors, rb.errors, "{text}");
            assert_eq!(ra.warnings, rb.warnings, "{text}");
            assert_eq!(ra.repaired, rb.repaired, "{text}");
            let mut replayed = full.clone();
            apply_repairs(&mut replayed, &rb.repairs);
            mask_times(&mut replayed);
            mask_times(&mut a);
            assert_eq!(replayed, a, "{text}");
        }
    }

    /// Defaults made at different milliseconds: their times masked.
    fn mask_times(v: &mut Value) {
        match v {
            Value::String(s)
                if s.starts_with("agenthive-") || (s.len() >= 10 && s.as_bytes()[4] == b'-') =>
            {
                *s = "<time>".into()
            }
            Value::Array(items) => items.iter_mut().for_each(mask_times),
            Value::Object(map) => map.values_mut().for_each(mask_times),
            _ => {}
        }
    }

    #[test]
    fn the_real_tracker_and_hand_made_cases_agree_with_the_full_parse() {
        agree(include_str!(
            "../../../__test__/fixtures/phase-tracker.json"
        ));
        for text in [
            "null",
            "[]",
            "3",
            "{}",
            r#"{"sessionInfo": [], "baselineStatus": "x", "phases": []}"#,
            r#"{"sessionInfo": {"sessionId": 5, "currentPhase": "2", "extra": {"deep": [1, {"a": null}]}},
               "baselineStatus": {"phase1Complete": false, "agentsLoaded": 0, "testsPassingBaseline": ""},
               "phases": {"p1": null, "p2": [], "p3": {"status": "s", "weeks": []},
                 "p4": {"title": "t", "status": "s", "weeks": {"w1": 7, "w2": {"title": "x", "components": {"a": {"name": "A"}, "b": 7}},
                   "w3": {"title": "x", "status": "y", "components": [null, [], {"name": 1, "status": "done", "files": {}, "dependencies": "d", "testFiles": [1]}]},
                   "w4": {"components": "nope"}}}}}"#,
            r#"{"phases": {"p": {"status": "a", "status": null, "title": "t"}}, "phases": {"q": {}}}"#,
            r#"{"sessionInfo": {"sessionId": "a\"b\u00e9", "k\u0065y": 1}, "phases": {"\u0070": {}}}"#,
            // What IgnoredAny would let through and `Value` refuses: both must refuse.
            r#"{"phases": {}, "x": "\ud800"}"#,
            r#"{"phases": {}, "x": 1e400}"#,
            "{\"phases\": {}, \"x\": \"tab\tinside\"}",
            r#"{"phases": {}} x"#,
            r#"{"phases": {},}"#,
        ] {
            agree(text);
        }
        let deep = format!(
            "{{\"phases\": {{}}, \"x\": {}{}}}",
            "[".repeat(200),
            "]".repeat(200)
        );
        agree(&deep);
        assert!(snapshot(&deep).is_err(), "the recursion limit applies");
    }

    /// What validation never reads is not kept, at any level: an unread property of the
    /// tracker, a section, a phase, a week or a component is dropped, and an array or
    /// object that is kept but not walked into is kept empty.
    #[test]
    fn the_snapshot_keeps_only_what_validation_reads() {
        let text = r#"{
            "extra": {"a": 1},
            "sessionInfo": {"sessionId": "s", "currentPhase": 2.5, "currentWeek": -1, "lastUpdate": true, "notes": {"x": [1]}},
            "phases": {"p": {
                "title": "t", "qualityGates": {"g": {"title": "x"}}, "deps": ["a"],
                "weeks": {"w": {
                    "title": "w", "extra": {"components": [1]}, "log": [{"name": 1}],
                    "components": [{"name": "c", "files": ["f"], "owner": {"name": "o"}}]
                }}
            }}
        }"#;
        assert_eq!(
            snapshot(text).unwrap(),
            json!({
                "sessionInfo": {"sessionId": "s", "currentPhase": 2.5, "currentWeek": -1, "lastUpdate": true},
                "phases": {"p": {"title": "t", "weeks": {"w": {
                    "title": "w",
                    "components": [{"name": "c", "files": []}]
                }}}}
            })
        );
    }

    fn tracker_like() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i32>().prop_map(|n| json!(n)),
            prop_oneof![
                Just("planned"),
                Just("in_progress"),
                Just("completed"),
                Just("x")
            ]
            .prop_map(|s| json!(s)),
        ];
        let names = prop_oneof![
            Just("sessionInfo"),
            Just("baselineStatus"),
            Just("phases"),
            Just("weeks"),
            Just("components"),
            Just("status"),
            Just("title"),
            Just("name"),
            Just("files"),
            Just("sessionId"),
            Just("currentPhase"),
            Just("agentsLoaded"),
            Just("p1"),
            Just("other"),
        ];
        leaf.prop_recursive(6, 96, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::vec((names.clone(), inner), 0..6).prop_map(|kv| {
                    Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_tracker_like_value_gives_the_full_parse_report(v in tracker_like()) {
            agree(&serde_json::to_string(&v).unwrap());
        }

        #[test]
        fn any_text_is_accepted_exactly_when_the_full_parse_accepts_it(text in "[\\[\\]{}\":,a-z0-9 \\\\.e-]{0,40}") {
            prop_assert_eq!(serde_json::from_str::<Value>(&text).is_ok(), snapshot(&text).is_ok());
        }
    }
}
