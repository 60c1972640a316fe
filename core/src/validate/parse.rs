//! Parsing a tracker file: strict JSON first (fast, and what `JSON.parse` accepts), then a
//! tolerant parser for hand-edited files: dprint's `jsonc-parser` with comments, trailing
//! commas, single-quoted strings and unquoted property names allowed, and nothing else
//! (no hex, no `+1`, no `NaN`, no missing commas). It reads strings as strings, so their
//! content is never altered, unlike the legacy regex "fixes". `lib/js/parse.js` accepts the
//! same language on the JS backend.
//!
//! Nesting deeper than [`MAX_DEPTH`] is refused before parsing: both parsers recurse, and a
//! stack overflow would abort Node.

use jsonc_parser::ParseOptions;
use serde_json::Value;

/// The deepest nesting of objects and arrays accepted (the JS backend uses the same).
pub const MAX_DEPTH: usize = 512;

/// How a text was parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub value: Value,
    /// True when only the tolerant parser could read it (the file is not strict JSON).
    pub tolerant: bool,
}

fn tolerant_options() -> ParseOptions {
    ParseOptions {
        allow_comments: true,
        allow_loose_object_property_names: true,
        allow_trailing_commas: true,
        allow_missing_commas: false,
        allow_single_quoted_strings: true,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    }
}

/// Strict JSON, else the tolerant language; the error names the tolerant parser's complaint.
pub fn parse_tracker(text: &str) -> Result<Parsed, String> {
    if text.trim().is_empty() {
        return Err("the file is empty".to_string());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(value) => {
            return Ok(Parsed {
                value,
                tolerant: false,
            })
        }
        // serde_json stops at 128 levels; JSON.parse does not, and the file may be strict JSON.
        Err(e) if e.to_string().starts_with("recursion limit exceeded") => {
            if let Ok(value) = parse_guarded(text, &strict_options()) {
                return Ok(Parsed {
                    value,
                    tolerant: false,
                });
            }
        }
        Err(_) => {}
    }
    parse_tolerant(text).map(|value| Parsed {
        value,
        tolerant: true,
    })
}

/// The tolerant parser alone.
pub fn parse_tolerant(text: &str) -> Result<Value, String> {
    if text.trim().is_empty() {
        return Err("the file is empty".to_string());
    }
    parse_guarded(text, &tolerant_options())
}

fn parse_guarded(text: &str, options: &ParseOptions) -> Result<Value, String> {
    if nesting_depth(text) > MAX_DEPTH {
        return Err(format!("nesting deeper than {MAX_DEPTH}"));
    }
    jsonc_parser::parse_to_serde_value::<Value>(text, options).map_err(|e| e.to_string())
}

/// Nothing beyond JSON allowed.
fn strict_options() -> ParseOptions {
    ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_single_quoted_strings: false,
        ..tolerant_options()
    }
}

/// The deepest bracket nesting of `text`, skipping strings (either quote) and comments.
/// An over-estimate on broken input is fine: it only decides whether to try parsing.
fn nesting_depth(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'"' | b'\'' => {
                let quote = bytes[i];
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b'{' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn strings_keep_their_content() {
        let text = r#"{
            // a comment
            url: 'http://localhost:1234/v1', /* block */
            "note": 'it\'s done',
            glob: "packages/**/*.test.js",
            list: [1, 2,],
        }"#;
        let parsed = parse_tracker(text).unwrap();
        assert!(parsed.tolerant);
        assert_eq!(
            parsed.value,
            json!({"url": "http://localhost:1234/v1", "note": "it's done", "glob": "packages/**/*.test.js", "list": [1, 2]})
        );
    }

    #[test]
    fn broken_and_hostile_input_is_an_error_not_a_panic() {
        for text in [
            "",
            "  ",
            "{\"a\": 1",
            "{a: }",
            "[1 2]",
            "{'a': 0x10}",
            "NaN",
            "+1",
            "{\"a\":1} x",
        ] {
            assert!(parse_tracker(text).is_err(), "{text:?} should not parse");
        }
        let deep = "[".repeat(100_000);
        assert!(parse_tracker(&deep).is_err());
        let deep_ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(
            !parse_tracker(&deep_ok).unwrap().tolerant,
            "deep strict JSON is strict"
        );
    }

    /// The depth counts brackets outside strings (either quote, escapes skipped) and
    /// comments (a line comment ends at \n or \r); closing brackets bring it down, the
    /// deepest point counts, and a stray closer or slash is nothing.
    #[test]
    fn nesting_depth_counts_brackets_outside_strings_and_comments() {
        for (text, depth) in [
            ("", 0),
            ("1", 0),
            ("[]", 1),
            ("{\"a\": [[1], {}]}", 3),
            ("[][][]", 1),
            ("[[]][[[]]]", 3),
            ("]]][", 1),
            (r#"["[[[", '{{{', "\"[[", 'it\'s [[', "\\", []]"#, 2),
            ("[ // [[[\n [] ]", 2),
            ("[ // [[[\r [] ]", 2),
            ("[ /* [[[ */ [] ]", 2),
            ("[ /* [[[ **/ [] ]", 2),
            ("[/**/[]]", 2),
            ("[ / [] ]", 2),
            ("\"unterminated [[[", 0),
            ("/* unterminated [[[", 0),
            ("[/* unterminated *", 1),
            ("[/* * [[ / ]] */]", 1),
            ("[[], /**/ [[]] /* x */]", 3),
            ("[/* */* [[ */]", 3),
            ("// [[[", 0),
        ] {
            assert_eq!(nesting_depth(text), depth, "{text:?}");
        }
    }

    /// MAX_DEPTH levels parse, one more is refused before parsing, on either path; an empty
    /// text is said to be empty.
    #[test]
    fn the_depth_limit_is_max_depth_and_empty_text_is_named() {
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(parse_tolerant(&nested(MAX_DEPTH)).is_ok());
        let err = parse_tolerant(&nested(MAX_DEPTH + 1)).unwrap_err();
        assert_eq!(err, format!("nesting deeper than {MAX_DEPTH}"));
        let err = parse_tracker(&nested(MAX_DEPTH + 1)).unwrap_err();
        assert_eq!(err, format!("nesting deeper than {MAX_DEPTH}"));
        for empty in ["", " \n\t"] {
            assert_eq!(parse_tracker(empty).unwrap_err(), "the file is empty");
            assert_eq!(parse_tolerant(empty).unwrap_err(), "the file is empty");
        }
    }

    /// A text deeper than serde_json's 128 levels is read with the strict options first: it
    /// is strict only when it is JSON, tolerant with a comment, a trailing comma, a
    /// single-quoted string or a bare property name.
    #[test]
    fn deep_text_is_strict_only_when_it_is_json() {
        let deep = |inner: &str| format!("{}{inner}{}", "[".repeat(200), "]".repeat(200));
        let parsed = parse_tracker(&deep("{\"a\": 1}")).unwrap();
        assert!(!parsed.tolerant);
        for extra in ["// c\n1", "1,", "'a'", "{a: 1}", "/* c */ 1"] {
            let parsed = parse_tracker(&deep(extra)).unwrap();
            assert!(parsed.tolerant, "{extra:?}");
        }
        for refused in ["0x10", "+1", ".5", "NaN", "1 2", r#""\x41""#] {
            assert!(parse_tracker(&deep(refused)).is_err(), "{refused:?}");
        }
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| json!(f)),
            ".*".prop_map(Value::String),
            "[a-z/*'\" ]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::vec((".*", inner), 0..8)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn valid_json_round_trips_unchanged(v in json_value()) {
            let compact = serde_json::to_string(&v).unwrap();
            let pretty = serde_json::to_string_pretty(&v).unwrap();
            prop_assert_eq!(&parse_tracker(&compact).unwrap().value, &v);
            prop_assert_eq!(&parse_tolerant(&compact).unwrap(), &v);
            prop_assert_eq!(&parse_tolerant(&pretty).unwrap(), &v);
        }

        #[test]
        fn any_text_parses_or_errs_without_panic(text in ".{0,200}") {
            let _ = parse_tracker(&text);
        }

        #[test]
        fn json_with_a_trailing_comma_and_comments_keeps_every_value(v in json_value()) {
            let text = format!("// head\n[{} , /* mid */ ]", serde_json::to_string(&v).unwrap());
            prop_assert_eq!(parse_tracker(&text).unwrap().value, json!([v]));
        }
    }

    /// A raw control character (a tab) inside a string is not JSON (JSON.parse refuses it
    /// too): only the tolerant parser reads it, and says so. Only serde_json's depth limit
    /// sends a text to the strict options of the other parser.
    #[test]
    fn a_raw_tab_in_a_string_is_tolerant_not_strict() {
        for text in ["{\"a\": \"x\ty\"}", "[\"a\u{1}\"]"] {
            let parsed = parse_tracker(text).unwrap();
            assert!(parsed.tolerant, "{text:?}");
        }
        assert_eq!(
            parse_tracker("{\"a\": \"x\ty\"}").unwrap().value,
            json!({"a": "x\ty"})
        );
    }
}
