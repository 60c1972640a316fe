//! Validation of a tracker, a component and a backup against the shared table, with the
//! legacy messages and the legacy repairs, defects fixed (see `lib/js/validate.js`, the JS
//! twin of this file, which the parity tests hold to the same results):
//! present means neither missing nor `null`; without auto-repair nothing changes and no
//! "Auto-repaired" is said; `valid` is false whenever there are errors; a `components`
//! object is converted to an array; defaults of `0` / `false` stay themselves; arrays are
//! not objects.
//!
//! A repair changes the `Value` in place and is also recorded as a [`Repair`], so that the
//! napi binding can replay it on the caller's JS object (legacy callers rely on in-place
//! repair). A `Set` with an empty path replaces the root itself: legacy returns a new object
//! as `data` then, without touching the caller's value.

use serde_json::{Map, Value};

use super::schema::{self, message, Clock};

/// One step of a path from the validated root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A change made by a repair, in the order it was made.
#[derive(Debug, Clone, PartialEq)]
pub enum Repair {
    /// Set the property (or element) at `path` to `value`.
    Set { path: Vec<Seg>, value: Value },
    /// Replace the object at `path` by the array of its values (`Object.values`).
    ToArray { path: Vec<Seg> },
}

/// The legacy result, less `data` (which is the repaired value itself).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Report {
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    pub repaired: bool,
    pub repairs: Vec<Repair>,
}

impl Report {
    pub fn valid(&self) -> bool {
        self.errors.is_empty()
    }
}

struct Walk {
    report: Report,
    repair: bool,
    clock: Clock,
}

/// Which message keys a property check uses.
struct Say {
    missing: &'static str,
    repaired: &'static str,
    type_: &'static str,
    type_repaired: &'static str,
}

const SECTION: Say = Say {
    missing: "sectionRequired",
    repaired: "sectionRepaired",
    type_: "sectionType",
    type_repaired: "sectionTypeRepaired",
};
const PHASE: Say = Say {
    missing: "phaseMissing",
    repaired: "phasePropRepaired",
    type_: "",
    type_repaired: "",
};
const WEEK: Say = Say {
    missing: "weekMissing",
    repaired: "weekPropRepaired",
    type_: "",
    type_repaired: "",
};
const COMPONENT: Say = Say {
    missing: "componentMissing",
    repaired: "componentRepaired",
    type_: "componentType",
    type_repaired: "componentTypeRepaired",
};
const BACKUP: Say = Say {
    missing: "backupMissing",
    repaired: "backupRepaired",
    type_: "backupType",
    type_repaired: "backupTypeRepaired",
};

fn is_present(v: Option<&Value>) -> bool {
    !matches!(v, None | Some(Value::Null))
}

fn type_matches(value: &Value, expected: &Value) -> bool {
    match expected {
        Value::Array(allowed) => allowed.contains(value),
        Value::String(t) => match t.as_str() {
            "string" => value.is_string(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            _ => false,
        },
        _ => false,
    }
}

/// Where the walk is, as a chain of borrowed steps: nothing is allocated while walking, a
/// `Vec<Seg>` is made only when a repair is recorded.
#[derive(Clone, Copy)]
enum At<'a> {
    Root,
    Key(&'a At<'a>, &'a str),
    Index(&'a At<'a>, usize),
}

impl At<'_> {
    fn to_vec(self) -> Vec<Seg> {
        let mut out = Vec::new();
        let mut at = self;
        loop {
            match at {
                At::Root => break,
                At::Key(up, k) => {
                    out.push(Seg::Key(k.to_string()));
                    at = *up;
                }
                At::Index(up, i) => {
                    out.push(Seg::Index(i));
                    at = *up;
                }
            }
        }
        out.reverse();
        out
    }
}

fn child<'a>(base: &'a At<'a>, key: &'a str) -> At<'a> {
    At::Key(base, key)
}

impl Walk {
    fn new(repair: bool, clock: Clock) -> Walk {
        Walk {
            report: Report::default(),
            repair,
            clock,
        }
    }

    fn error(&mut self, text: String) {
        self.report.errors.push(text);
    }

    fn set(&mut self, slot: &mut Value, path: Vec<Seg>, value: Value, warning: String) {
        *slot = value.clone();
        self.report.repairs.push(Repair::Set { path, value });
        self.report.repaired = true;
        self.report.warnings.push(warning);
    }

    fn set_prop(
        &mut self,
        obj: &mut Map<String, Value>,
        base: &At,
        prop: &str,
        value: Value,
        warning: String,
    ) {
        let slot = obj.entry(prop.to_string()).or_insert(Value::Null);
        self.set(slot, child(base, prop).to_vec(), value, warning);
    }

    /// Required properties and types of `obj` against the table entry at `table`.
    fn properties(
        &mut self,
        obj: &mut Map<String, Value>,
        base: &At,
        table: &[&str],
        defaults: &[&str],
        say: &Say,
        values: &[(&str, &str)],
    ) {
        let with = |prop: &str| -> Vec<(&str, String)> {
            let mut all: Vec<(&str, String)> =
                values.iter().map(|(k, v)| (*k, v.to_string())).collect();
            all.push(("prop", prop.to_string()));
            all
        };
        let say_it = |key: &str, prop: &str| {
            let filled = with(prop);
            let refs: Vec<(&str, &str)> = filled.iter().map(|(k, v)| (*k, v.as_str())).collect();
            message(key, &refs)
        };
        let entry = schema::at(table);
        for prop in entry["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if is_present(obj.get(prop)) {
                continue;
            }
            self.error(say_it(say.missing, prop));
            if self.repair {
                let value = schema::default_of(defaults, prop, &self.clock);
                self.set_prop(obj, base, prop, value, say_it(say.repaired, prop));
            }
        }
        let Some(types) = entry.get("types").and_then(Value::as_object) else {
            return;
        };
        for (prop, expected) in types {
            match obj.get(prop.as_str()) {
                Some(v) if is_present(Some(v)) && !type_matches(v, expected) => {}
                _ => continue,
            }
            self.error(say_it(say.type_, prop));
            if self.repair {
                let value = schema::default_of(defaults, prop, &self.clock);
                self.set_prop(obj, base, prop, value, say_it(say.type_repaired, prop));
            }
        }
    }

    fn component(&mut self, value: &mut Value, path: &At, context: &str) {
        let Value::Object(obj) = value else {
            self.error(message("componentNotObject", &[("ctx", context)]));
            if self.repair {
                let default = schema::template("defaultComponent", &self.clock);
                let path = path.to_vec();
                self.set(
                    value,
                    path,
                    default,
                    message("componentDefault", &[("ctx", context)]),
                );
            }
            return;
        };
        let ctx = [("ctx", context)];
        self.properties(
            obj,
            path,
            &["component"],
            &["component", "defaults"],
            &COMPONENT,
            &ctx,
        );
    }

    fn components(&mut self, week: &mut Map<String, Value>, base: &At, context: &str) {
        let path = child(base, "components");
        let Some(components) = week.get_mut("components") else {
            return;
        };
        if !components.is_array() {
            self.error(message("componentsNotArray", &[("ctx", context)]));
            let Value::Object(map) = components else {
                return;
            };
            if !self.repair {
                return;
            }
            let values: Vec<Value> = std::mem::take(map).into_iter().map(|(_, v)| v).collect();
            *components = Value::Array(values);
            self.report.repairs.push(Repair::ToArray {
                path: path.to_vec(),
            });
            self.report.repaired = true;
            self.report
                .warnings
                .push(message("componentsConverted", &[("ctx", context)]));
        }
        let Value::Array(items) = components else {
            return;
        };
        for (i, item) in items.iter_mut().enumerate() {
            let item_path = At::Index(&path, i);
            self.component(item, &item_path, &format!("{context}.components[{i}]"));
        }
    }

    fn weeks(&mut self, weeks: &mut Map<String, Value>, base: &At, phase: &str) {
        for (week, value) in weeks.iter_mut() {
            let path = child(base, week);
            let Value::Object(obj) = value else {
                self.error(message("weekInvalid", &[("phase", phase), ("week", week)]));
                if self.repair {
                    let default = schema::template("defaultWeek", &self.clock);
                    let warning = message("weekRepaired", &[("phase", phase), ("week", week)]);
                    self.set(value, path.to_vec(), default, warning);
                }
                continue;
            };
            let names = [("phase", phase), ("week", week.as_str())];
            self.properties(obj, &path, &["week"], &["week", "defaults"], &WEEK, &names);
            if is_present(obj.get("components")) {
                self.components(obj, &path, &format!("{phase}.{week}"));
            }
        }
    }

    fn phases(&mut self, phases: &mut Map<String, Value>, base: &At) {
        for (phase, value) in phases.iter_mut() {
            let path = child(base, phase);
            let Value::Object(obj) = value else {
                self.error(message("phaseInvalid", &[("phase", phase)]));
                if self.repair {
                    let default = schema::template("defaultPhase", &self.clock);
                    self.set(
                        value,
                        path.to_vec(),
                        default,
                        message("phaseRepaired", &[("phase", phase)]),
                    );
                }
                continue;
            };
            self.properties(
                obj,
                &path,
                &["phase"],
                &["phase", "defaults"],
                &PHASE,
                &[("phase", phase)],
            );
            match obj.get_mut("weeks") {
                None | Some(Value::Null) => {}
                Some(Value::Object(weeks)) => self.weeks(weeks, &child(&path, "weeks"), phase),
                Some(_) => self.error(message("weeksNotObject", &[("phase", phase)])),
            }
        }
    }

    fn tracker(&mut self, tracker: &mut Value) {
        let Value::Object(root) = tracker else {
            self.error(message("trackerNotObject", &[]));
            if self.repair {
                let default = schema::template("defaultTracker", &self.clock);
                self.set(
                    tracker,
                    Vec::new(),
                    default,
                    message("createdDefaultTracker", &[]),
                );
            }
            return;
        };
        for prop in schema::names(&["tracker", "required"]) {
            if is_present(root.get(prop)) {
                continue;
            }
            self.error(message("missingProperty", &[("prop", prop)]));
            if self.repair {
                let value = schema::default_of(&["tracker", "defaults"], prop, &self.clock);
                let warning = message("repairedMissingProperty", &[("prop", prop)]);
                self.set_prop(root, &At::Root, prop, value, warning);
            }
        }
        for section in schema::names(&["tracker", "sections"]) {
            match root.get_mut(section) {
                None | Some(Value::Null) => {}
                Some(Value::Object(obj)) => {
                    let path = At::Key(&At::Root, section);
                    let ctx = [("ctx", section)];
                    self.properties(
                        obj,
                        &path,
                        &["tracker", section],
                        &["tracker", "defaults"],
                        &SECTION,
                        &ctx,
                    );
                }
                // Kept as it is: a wrong-typed section may still hold the user's data.
                Some(_) => self.error(message("sectionInvalidType", &[("prop", section)])),
            }
        }
        match root.get_mut("phases") {
            None | Some(Value::Null) => {}
            Some(Value::Object(phases)) => self.phases(phases, &At::Key(&At::Root, "phases")),
            Some(_) => self.error(message("phasesNotObject", &[])),
        }
        if self.repair && self.report.repaired {
            if let Some(Value::Object(info)) = root.get_mut("sessionInfo") {
                let now = Value::String(self.clock.now.clone());
                info.insert("lastUpdate".into(), now.clone());
                let path = vec![
                    Seg::Key("sessionInfo".into()),
                    Seg::Key("lastUpdate".into()),
                ];
                self.report.repairs.push(Repair::Set { path, value: now });
            }
        }
    }
}

/// `validateTrackerSchema`: check (and with `repair`, fix) `tracker` in place.
pub fn validate_tracker(tracker: &mut Value, repair: bool) -> Report {
    let mut walk = Walk::new(repair, Clock::now());
    walk.tracker(tracker);
    walk.report
}

/// `validateComponent`: check (and with `repair`, fix) one component in place.
pub fn validate_component(component: &mut Value, context: &str, repair: bool) -> Report {
    let mut walk = Walk::new(repair, Clock::now());
    walk.component(component, &At::Root, context);
    walk.report
}

/// `validateBackup`: check (and with `repair`, fix) a restore point in place.
pub fn validate_backup(backup: &mut Value, repair: bool) -> Report {
    let mut walk = Walk::new(repair, Clock::now());
    match backup {
        Value::Object(obj) => walk.properties(
            obj,
            &At::Root,
            &["backup"],
            &["backup", "defaults"],
            &BACKUP,
            &[],
        ),
        _ => walk.error(message("backupNotObject", &[])),
    }
    walk.report
}

/// Replay `repairs` on another copy of the value they were made on (what the napi binding
/// does on the JS object); returns the new root when a repair replaced it.
pub fn apply_repairs(root: &mut Value, repairs: &[Repair]) {
    for repair in repairs {
        match repair {
            Repair::Set { path, value } => {
                if let Some(slot) = slot_at(root, path) {
                    *slot = value.clone();
                }
            }
            Repair::ToArray { path } => {
                if let Some(slot) = slot_at(root, path) {
                    if let Value::Object(map) = slot {
                        let values = std::mem::take(map).into_iter().map(|(_, v)| v).collect();
                        *slot = Value::Array(values);
                    }
                }
            }
        }
    }
}

fn slot_at<'a>(root: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    let mut at = root;
    for seg in path {
        at = match (seg, at) {
            (Seg::Key(k), Value::Object(map)) => map.entry(k.clone()).or_insert(Value::Null),
            (Seg::Index(i), Value::Array(items)) => items.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tracker() -> Value {
        serde_json::from_str(include_str!(
            "../../../__test__/fixtures/phase-tracker.json"
        ))
        .unwrap()
    }

    #[test]
    fn falsy_values_are_values_and_validate_only_never_mutates() {
        let mut t = json!({
            "sessionInfo": {"sessionId": "s", "currentPhase": 0, "currentWeek": 0, "lastUpdate": ""},
            "baselineStatus": {"phase1Complete": false, "testsPassingBaseline": "", "agentsLoaded": 0},
            "phases": {}
        });
        let before = t.clone();
        let r = validate_tracker(&mut t, false);
        assert_eq!(r, Report::default());
        assert!(r.valid());
        assert_eq!(t, before);

        let mut broken = json!({"sessionInfo": {"currentPhase": "2"}, "baselineStatus": {"phase1Complete": false}});
        let copy = broken.clone();
        let r = validate_tracker(&mut broken, false);
        assert!(!r.valid());
        assert!(r.warnings.is_empty() && !r.repaired && r.repairs.is_empty());
        assert_eq!(broken, copy);
        assert!(r
            .errors
            .contains(&"Missing required property: phases".to_string()));
        assert!(r
            .errors
            .contains(&"sessionInfo.currentPhase has invalid type".to_string()));
    }

    #[test]
    fn repairs_are_recorded_and_replay_to_the_same_value() {
        let mut t = json!({
            "sessionInfo": {"sessionId": 5},
            "phases": {"p1": null, "p2": {"weeks": {"w1": {"components": {"a": {"name": "A"}, "b": 7}}}}}
        });
        let original = t.clone();
        let r = validate_tracker(&mut t, true);
        assert!(r.repaired && !r.valid());
        assert!(r
            .warnings
            .contains(&"Converted p2.w1 components from object to array".to_string()));
        assert_eq!(
            t["phases"]["p2"]["weeks"]["w1"]["components"][0]["status"],
            "planned"
        );
        assert_eq!(
            t["phases"]["p2"]["weeks"]["w1"]["components"][1]["name"],
            "DefaultComponent"
        );
        assert_eq!(t["baselineStatus"]["agentsLoaded"], 0);
        assert_eq!(t["baselineStatus"]["phase1Complete"], true);
        let mut replay = original;
        apply_repairs(&mut replay, &r.repairs);
        assert_eq!(replay, t);
        // A repaired tracker validates clean.
        assert!(validate_tracker(&mut t, true).valid());
    }

    #[test]
    fn the_real_tracker_only_lacks_phase_titles() {
        assert_eq!(
            validate_tracker(&mut tracker(), false).errors,
            ["Phase phase1 missing property: title"]
        );
    }

    #[test]
    fn roots_that_are_not_objects() {
        for mut v in [json!(null), json!([]), json!(3), json!("x")] {
            let r = validate_tracker(&mut v.clone(), false);
            assert_eq!(
                r.errors,
                vec!["Tracker is null or not an object".to_string()]
            );
            let r = validate_tracker(&mut v, true);
            assert_eq!(
                r.warnings,
                vec!["Created default tracker structure".to_string()]
            );
            assert!(matches!(&r.repairs[0], Repair::Set { path, .. } if path.is_empty()));
        }
        let mut b = json!([1]);
        assert_eq!(
            validate_backup(&mut b, true).errors,
            vec!["Backup is not a valid object".to_string()]
        );
        let mut b = json!({"id": "x", "timestamp": "t", "phase": 0, "week": "1"});
        let r = validate_backup(&mut b, true);
        assert_eq!(r.errors, vec!["Backup.week has invalid type".to_string()]);
        assert_eq!(b["week"], 1);
        assert_eq!(b["phase"], 0);
    }

    /// A tracker with a defect of every kind the walk knows.
    fn every_defect() -> Value {
        json!({
            "sessionInfo": {"sessionId": 7, "currentPhase": "2", "currentWeek": [], "lastUpdate": null},
            "baselineStatus": "broken",
            "phases": {
                "a": 3,
                "b": {"status": "done", "weeks": {"w1": "x", "w2": {"title": "T", "components": "c"}}},
                "c": {"status": "s", "title": "t", "weeks": [1]},
                "d": {"status": "s", "title": "t", "weeks": {"w": {"title": "T", "status": "s", "components": {
                    "k": {"name": 1, "status": "bad", "files": {}, "dependencies": [], "testFiles": "x"},
                    "j": null
                }}}}
            }
        })
    }

    /// Without repair: every defect is reported, in the order of the walk, and an object of
    /// components is not walked into (it is not converted).
    #[test]
    fn every_defect_is_reported_in_walk_order() {
        let mut t = every_defect();
        let r = validate_tracker(&mut t, false);
        assert_eq!(
            r.errors,
            [
                "sessionInfo.lastUpdate is required",
                "sessionInfo.sessionId has invalid type",
                "sessionInfo.currentPhase has invalid type",
                "sessionInfo.currentWeek has invalid type",
                "baselineStatus has invalid type",
                "Phase a is invalid",
                "Phase b missing property: title",
                "Phase b week w1 is invalid",
                "b.w2 missing property: status",
                "b.w2 components must be an array",
                "Phase c weeks must be an object",
                "d.w components must be an array",
            ]
        );
        assert_eq!(t, every_defect());
    }

    /// With repair: what can be repaired is, with its warning and its recorded repair (the
    /// last one stamps sessionInfo.lastUpdate); a wrong-typed section, a `weeks` array and
    /// a `components` string are reported but kept (they may hold the user's data).
    #[test]
    fn every_repairable_defect_is_repaired_and_recorded() {
        let mut t = every_defect();
        let r = validate_tracker(&mut t, true);
        assert!(r.repaired && !r.valid());
        assert_eq!(r.errors.len(), 17);
        assert_eq!(
            r.errors[12..],
            [
                "d.w.components[0].name has invalid type",
                "d.w.components[0].status has invalid type",
                "d.w.components[0].files has invalid type",
                "d.w.components[0].testFiles has invalid type",
                "d.w.components[1] is not a valid object",
            ]
        );
        assert_eq!(
            r.warnings,
            [
                "Auto-repaired sessionInfo.lastUpdate",
                "Auto-repaired sessionInfo.sessionId type",
                "Auto-repaired sessionInfo.currentPhase type",
                "Auto-repaired sessionInfo.currentWeek type",
                "Auto-repaired phase a",
                "Auto-repaired phase b.title",
                "Auto-repaired b.w1",
                "Auto-repaired b.w2.status",
                "Converted d.w components from object to array",
                "Auto-repaired d.w.components[0].name type",
                "Auto-repaired d.w.components[0].status type",
                "Auto-repaired d.w.components[0].files type",
                "Auto-repaired d.w.components[0].testFiles type",
                "Created default component for d.w.components[1]",
            ]
        );
        let info = &t["sessionInfo"];
        assert!(info["sessionId"]
            .as_str()
            .unwrap()
            .starts_with("agenthive-"));
        assert_eq!(
            (&info["currentPhase"], &info["currentWeek"]),
            (&json!(2), &json!(1))
        );
        assert_eq!(t["baselineStatus"], "broken");
        assert_eq!(t["phases"]["a"]["title"], "Default Phase");
        assert_eq!(t["phases"]["b"]["title"], "Default Phase");
        assert_eq!(t["phases"]["b"]["weeks"]["w1"]["title"], "Default Week");
        assert_eq!(t["phases"]["b"]["weeks"]["w2"]["status"], "planned");
        assert_eq!(t["phases"]["b"]["weeks"]["w2"]["components"], "c");
        assert_eq!(t["phases"]["c"]["weeks"], json!([1]));
        let components = &t["phases"]["d"]["weeks"]["w"]["components"];
        assert_eq!(
            components[0],
            json!({"name": "DefaultComponent", "status": "planned", "files": [], "dependencies": [], "testFiles": []})
        );
        assert_eq!(components[1]["name"], "DefaultComponent");
        let Some(Repair::Set { path, value }) = r.repairs.last() else {
            panic!("the last repair stamps lastUpdate: {:?}", r.repairs.last());
        };
        assert_eq!(
            path,
            &[
                Seg::Key("sessionInfo".into()),
                Seg::Key("lastUpdate".into())
            ]
        );
        assert_eq!(value, &info["lastUpdate"]);
        assert!(value.as_str().unwrap().ends_with('Z'));
        let mut replay = every_defect();
        apply_repairs(&mut replay, &r.repairs);
        assert_eq!(replay, t);
        // what was kept is still reported, and nothing more
        let again = validate_tracker(&mut t, true);
        assert_eq!(
            again.errors,
            [
                "baselineStatus has invalid type",
                "b.w2 components must be an array",
                "Phase c weeks must be an object",
            ]
        );
        assert!(!again.repaired && again.repairs.is_empty() && again.warnings.is_empty());
    }

    /// A sound tracker validated with repair on is left alone: no repair, no lastUpdate stamp.
    #[test]
    fn a_sound_tracker_is_not_stamped_by_a_repairing_validation() {
        let mut t = json!({
            "sessionInfo": {"sessionId": "s", "currentPhase": 1, "currentWeek": 1, "lastUpdate": "then"},
            "baselineStatus": {"phase1Complete": true, "testsPassingBaseline": "1/1", "agentsLoaded": 3},
            "phases": {"p": {"status": "s", "title": "t", "weeks": {"w": {"title": "T", "status": "s",
                "components": [{"name": "n", "status": "completed", "files": ["a"], "dependencies": [], "testFiles": []}]}}}}
        });
        let before = t.clone();
        assert_eq!(validate_tracker(&mut t, true), Report::default());
        assert_eq!(t, before);
    }

    /// validateComponent and validateBackup alone: a non-object component is replaced by
    /// the default one when repairing (the whole value: an empty path), reported otherwise;
    /// a backup's missing properties get their defaults.
    #[test]
    fn a_component_and_a_backup_alone() {
        let mut c = json!("x");
        let r = validate_component(&mut c, "ctx", false);
        assert_eq!(r.errors, ["ctx is not a valid object"]);
        assert_eq!(c, "x");
        let r = validate_component(&mut c, "ctx", true);
        assert_eq!(r.warnings, ["Created default component for ctx"]);
        assert!(matches!(&r.repairs[..], [Repair::Set { path, .. }] if path.is_empty()));
        assert_eq!(c["status"], "planned");
        let mut b = json!({"id": "x"});
        let r = validate_backup(&mut b, true);
        assert_eq!(
            r.errors,
            [
                "Backup missing required property: timestamp",
                "Backup missing required property: phase",
                "Backup missing required property: week",
            ]
        );
        assert_eq!((&b["phase"], &b["week"]), (&json!(2), &json!(1)));
        assert!(b["timestamp"].as_str().unwrap().ends_with('Z'));
    }

    /// Each type name of the table matches its own kind only ("object" is no array, an
    /// array no object), a list matches its members, and an unknown name matches nothing.
    /// (The table uses no "object" type today; the JS twin knows it too.)
    #[test]
    fn type_names_match_their_own_kind_only() {
        let values = [
            json!("s"),
            json!(1),
            json!(true),
            json!([]),
            json!({}),
            json!(null),
        ];
        for (name, matching) in [
            ("string", 0),
            ("number", 1),
            ("boolean", 2),
            ("array", 3),
            ("object", 4),
        ] {
            for (i, v) in values.iter().enumerate() {
                assert_eq!(type_matches(v, &json!(name)), i == matching, "{name} {v}");
            }
        }
        for v in &values {
            assert!(!type_matches(v, &json!("date")), "{v}");
            assert!(!type_matches(v, &json!(3)), "{v}");
        }
        assert!(type_matches(&json!("a"), &json!(["a", "b"])));
        assert!(!type_matches(&json!("c"), &json!(["a", "b"])));
    }
}
