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

/// The property names validation reads in each kind of object, from the table: what a
/// snapshot of a tracker must keep (the napi binding's `validate_snapshot.rs` and the file
/// scan of [`super::scan`] both use this list, so neither can miss a property the validator
/// checks).
pub struct Fields {
    /// The tracker's required properties and sections.
    pub tracker: Vec<&'static str>,
    /// Each section with the properties checked in it.
    pub sections: Vec<(&'static str, Vec<&'static str>)>,
    /// A phase's required properties, and `weeks`.
    pub phase: Vec<&'static str>,
    /// A week's required properties, and `components`.
    pub week: Vec<&'static str>,
    pub component: Vec<&'static str>,
    pub backup: Vec<&'static str>,
}

/// The required and typed properties of a table entry, each once.
fn checked(path: &[&str]) -> Vec<&'static str> {
    let mut all = names(&[path, &["required"]].concat());
    if let Some(types) = at(&[path, &["types"]].concat()).as_object() {
        all.extend(types.keys().map(String::as_str));
    }
    let mut seen = Vec::new();
    all.retain(|n| {
        let fresh = !seen.contains(n);
        seen.push(*n);
        fresh
    });
    all
}

static FIELDS: LazyLock<Fields> = LazyLock::new(|| {
    let sections = names(&["tracker", "sections"]);
    let mut tracker = names(&["tracker", "required"]);
    tracker.extend(
        sections
            .iter()
            .copied()
            .filter(|s| !tracker.contains(s))
            .collect::<Vec<_>>(),
    );
    let mut phase = names(&["phase", "required"]);
    phase.push("weeks");
    let mut week = names(&["week", "required"]);
    week.push("components");
    Fields {
        sections: sections
            .iter()
            .map(|s| (*s, checked(&["tracker", s])))
            .collect(),
        tracker,
        phase,
        week,
        component: checked(&["component"]),
        backup: checked(&["backup"]),
    }
});

/// The property names validation reads (see [`Fields`]).
pub fn fields() -> &'static Fields {
    &FIELDS
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

    /// What a snapshot must keep, from the table: each kind's required properties first,
    /// then the ones only typed, each name once (sections list theirs in both).
    #[test]
    fn the_fields_are_the_tables_names_each_once() {
        let f = fields();
        assert_eq!(f.tracker, ["sessionInfo", "baselineStatus", "phases"]);
        assert_eq!(f.phase, ["status", "title", "weeks"]);
        assert_eq!(f.week, ["title", "status", "components"]);
        assert_eq!(
            f.component,
            ["name", "status", "files", "dependencies", "testFiles"]
        );
        assert_eq!(f.backup, ["id", "timestamp", "phase", "week"]);
        let sections: Vec<_> = f.sections.iter().map(|(s, _)| *s).collect();
        assert_eq!(sections, ["sessionInfo", "baselineStatus"]);
        assert_eq!(
            f.sections[0].1,
            ["sessionId", "currentPhase", "currentWeek", "lastUpdate"]
        );
        assert_eq!(
            f.sections[1].1,
            ["phase1Complete", "testsPassingBaseline", "agentsLoaded"]
        );
    }

    /// A message the table lacks is its own key; a placeholder given no value is left as
    /// it is.
    #[test]
    fn messages_fill_their_placeholders() {
        assert_eq!(message("noSuchMessage", &[("x", "1")]), "noSuchMessage");
        let text = message("phaseMissing", &[("prop", "title")]);
        assert_eq!(text, "Phase {phase} missing property: title");
    }
}
