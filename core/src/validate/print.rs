//! `JSON.stringify(value, null, 2)`, byte for byte, for the trackers the native backend
//! writes: JavaScript's number formatting (`1e+21`, `2` for `2.0`, integers beyond 2^53 as
//! the double they become) and its key order (array-index keys first, ascending, then the
//! rest in insertion order), so both backends write identical files.

use serde_json::{Map, Value};

/// The pretty text of `value`, as `JSON.stringify(value, null, 2)` prints it.
pub fn to_js_pretty(value: &Value) -> String {
    let mut out = String::new();
    write_value(value, 0, &mut out);
    out
}

fn write_value(value: &Value, depth: usize, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&js_number(n)),
        Value::String(s) => write_string(s, out),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                indent(depth + 1, out);
                write_value(item, depth + 1, out);
            }
            out.push('\n');
            indent(depth, out);
            out.push(']');
        }
        Value::Object(map) if map.is_empty() => out.push_str("{}"),
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in js_key_order(map).into_iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                indent(depth + 1, out);
                write_string(key, out);
                out.push_str(": ");
                write_value(item, depth + 1, out);
            }
            out.push('\n');
            indent(depth, out);
            out.push('}');
        }
    }
}

fn indent(depth: usize, out: &mut String) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn write_string(s: &str, out: &mut String) {
    // serde_json escapes exactly as JSON.stringify does for well-formed strings.
    out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| String::from("\"\"")));
}

/// A canonical array index (`"0"`, `"17"`, below 2^32 - 1): JS lists these keys first.
fn array_index(key: &str) -> Option<u32> {
    if key.is_empty()
        || (key.len() > 1 && key.starts_with('0'))
        || !key.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    key.parse::<u32>().ok().filter(|n| *n != u32::MAX)
}

fn js_key_order(map: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut indexed: Vec<(u32, (&String, &Value))> = Vec::new();
    let mut named = Vec::with_capacity(map.len());
    for entry in map {
        match array_index(entry.0) {
            Some(n) => indexed.push((n, entry)),
            None => named.push(entry),
        }
    }
    indexed.sort_by_key(|(n, _)| *n);
    indexed.into_iter().map(|(_, e)| e).chain(named).collect()
}

fn js_number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        if i.unsigned_abs() <= 1 << 53 {
            return i.to_string();
        }
    }
    if let Some(u) = n.as_u64() {
        if u <= 1 << 53 {
            return u.to_string();
        }
    }
    js_f64(n.as_f64().unwrap_or(0.0))
}

/// ECMAScript `Number::toString(x)` for a finite double.
pub fn js_f64(x: f64) -> String {
    if x == 0.0 {
        return "0".to_string();
    }
    if x < 0.0 {
        return format!("-{}", js_f64(-x));
    }
    // Shortest round-trip digits and exponent: "d.ddde-7" -> digits "dddd", n = exp + 1.
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let k = digits.len() as i32;
    let n = exp.parse::<i32>().unwrap_or(0) + 1;
    if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let sign = if n >= 1 { "+" } else { "-" };
        let e = (n - 1).abs();
        match k {
            1 => format!("{digits}e{sign}{e}"),
            _ => format!("{}.{}e{sign}{e}", &digits[..1], &digits[1..]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_print_like_javascript() {
        let cases = [
            (1.0, "1"),
            (1.5, "1.5"),
            (1e21, "1e+21"),
            (1.5e21, "1.5e+21"),
            (1e20, "100000000000000000000"),
            (1e-7, "1e-7"),
            (1.25e-7, "1.25e-7"),
            (0.000001, "0.000001"),
            (123.456, "123.456"),
            (-0.0, "0"),
            (-2.5, "-2.5"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
        ];
        for (x, want) in cases {
            assert_eq!(js_f64(x), want, "{x}");
        }
        let big: Value = serde_json::from_str("12345678901234567891").unwrap();
        assert_eq!(to_js_pretty(&big), "12345678901234567000");
    }

    #[test]
    fn layout_and_key_order_like_json_stringify() {
        let v: Value = serde_json::from_str(
            r#"{"b": [1, {}, []], "10": "x", "2": null, "a": {"k": "\u0001\n"}}"#,
        )
        .unwrap();
        assert_eq!(
            to_js_pretty(&v),
            "{\n  \"2\": null,\n  \"10\": \"x\",\n  \"b\": [\n    1,\n    {},\n    []\n  ],\n  \"a\": {\n    \"k\": \"\\u0001\\n\"\n  }\n}"
        );
        assert_eq!(to_js_pretty(&json!([])), "[]");
    }
}
