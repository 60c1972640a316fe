//! The validation table, read once from `lib/js/validation-schema.json` (the file the JS
//! backend reads too), and the default values it describes, with their `${ms}`, `${now}`,
//! `${today}` and `${defaultX}` placeholders filled in.

use std::sync::LazyLock;

use serde_json::{Map, Value};

use crate::time;

static TABLE: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../../lib/js/validation-schema.json"))
        .expect("lib/js/validation-schema.json is valid JSON (checked by the tests)")
});

/// The whole table.
pub fn table() -> &'static Value {
    &TABLE
}

/// `table()[a][b]...`, or `Value::Null` when absent.
pub fn at(path: &[&str]) -> &'static Value {
    path.iter()
        .fold(table(), |v, k| v.get(*k).unwrap_or(&Value::Null))
}

/// The names in a list of the table (`required`, `sections`).
pub fn names(path: &[&str]) -> Vec<&'static str> {
    at(path)
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// A message template with its `{name}` placeholders filled.
pub fn message(key: &str, values: &[(&str, &str)]) -> String {
    let mut text = at(&["messages", key]).as_str().unwrap_or(key).to_string();
    for (name, value) in values {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text
}

/// The time every default made during one validation shares.
#[derive(Debug, Clone)]
pub struct Clock {
    pub ms: String,
    pub now: String,
    pub today: String,
}

impl Clock {
    pub fn at(ms: i64) -> Clock {
        let now = time::iso8601(ms);
        Clock {
            ms: ms.to_string(),
            today: now[..10].to_string(),
            now,
        }
    }

    pub fn now() -> Clock {
        Clock::at(time::now_ms())
    }
}

/// A fresh copy of a table value with its placeholders filled.
pub fn expand(value: &Value, clock: &Clock) -> Value {
    match value {
        Value::String(s) => {
            if let Some(name) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
                if name.starts_with("default") {
                    return expand(at(&["templates", name]), clock);
                }
            }
            Value::String(
                s.replace("${ms}", &clock.ms)
                    .replace("${now}", &clock.now)
                    .replace("${today}", &clock.today),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| expand(v, clock)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), expand(v, clock)))
                .collect::<Map<_, _>>(),
        ),
        other => other.clone(),
    }
}

/// A whole template (`defaultTracker`, `defaultPhase`, ...).
pub fn template(name: &str, clock: &Clock) -> Value {
    expand(at(&["templates", name]), clock)
}

/// The default of `prop` in the table's `defaults` at `path`, `null` when there is none.
pub fn default_of(path: &[&str], prop: &str, clock: &Clock) -> Value {
    match at(path).get(prop) {
        Some(v) => expand(v, clock),
        None => Value::Null,
    }
}

/// The legacy default tracker.
pub fn default_tracker() -> Value {
    template("defaultTracker", &Clock::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_loads_and_defaults_expand() {
        let clock = Clock::at(1_757_344_468_688);
        let tracker = template("defaultTracker", &clock);
        assert_eq!(
            tracker["sessionInfo"]["sessionId"],
            "agenthive-1757344468688"
        );
        assert_eq!(tracker["sessionInfo"]["startDate"], "2025-09-08");
        assert_eq!(
            tracker["phases"]["phase2"]["weeks"]["week1"]["title"],
            "Default Week"
        );
        assert_eq!(
            default_of(&["tracker", "defaults"], "agentsLoaded", &clock),
            0
        );
        assert_eq!(
            default_of(&["tracker", "defaults"], "nope", &clock),
            Value::Null
        );
        assert_eq!(
            message("phaseMissing", &[("phase", "p1"), ("prop", "title")]),
            "Phase p1 missing property: title"
        );
    }
}
