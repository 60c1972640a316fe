//! Legacy `validation-helpers.js` functions under their legacy names.
//!
//! In-memory validation: the properties of the caller's value that the schema names are read
//! into a small snapshot (`validate_snapshot.rs`), validated and repaired in Rust, and the
//! list of repairs (path, new value) is then replayed on the caller's very object, which is
//! returned as `data`, as legacy callers expect. `repairTracker` works on the file in Rust: a
//! strict-JSON tracker is only scanned for what validation reads (`core::validate::scan`),
//! then the engine's `JSON.parse` builds the JS object from the file's text and the repairs
//! are replayed on it; any other file goes the full way (tolerant parse, backups) and its
//! repaired tracker is handed to `JSON.parse` as one string.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;
use session_resilience_core::validate::{self, Repair, Report, Seg};

use crate::args;
use crate::error::{guarded, run, to_js};
use crate::safe_file_ops::BackupDirOptions;
use crate::validate_snapshot::Snapshot;

fn global_fn<'env>(
    env: &'env Env,
    object: &str,
    name: &str,
) -> Result<Function<'env, Unknown<'env>, Unknown<'env>>> {
    // `Object` is a function, `JSON` an object: read either as an object.
    let holder: Unknown = env.get_global()?.get_named_property(object)?;
    let holder: Object = unsafe { holder.cast()? };
    holder.get_named_property::<Function<Unknown, Unknown>>(name)
}

fn to_js_value<'env>(env: &'env Env, value: &Value) -> Result<Unknown<'env>> {
    env.to_js_value(value)
}

fn child<'env>(at: Object<'env>, seg: &Seg) -> Result<Unknown<'env>> {
    match seg {
        Seg::Key(k) => at.get_named_property::<Unknown>(k),
        Seg::Index(i) => at.get_element::<Unknown>(*i as u32),
    }
}

fn set_child(at: &mut Object, seg: &Seg, value: Unknown) -> Result<()> {
    match seg {
        Seg::Key(k) => at.set_named_property(k, value),
        Seg::Index(i) => at.set_element(*i as u32, value),
    }
}

/// Replay `repairs` on the caller's object; returns the value to hand back as `data`.
fn apply<'env>(env: &'env Env, root: Unknown<'env>, repairs: &[Repair]) -> Result<Unknown<'env>> {
    let mut data = root;
    for repair in repairs {
        let path = match repair {
            Repair::Set { path, .. } | Repair::ToArray { path } => path,
        };
        let Some((last, parents)) = path.split_last() else {
            // The root itself is replaced: legacy returns a new object, the caller's stays.
            if let Repair::Set { value, .. } = repair {
                data = to_js_value(env, value)?;
            }
            continue;
        };
        let mut at: Object = unsafe { data.cast()? };
        for seg in parents {
            at = unsafe { child(at, seg)?.cast()? };
        }
        let new_value = match repair {
            Repair::Set { value, .. } => to_js_value(env, value)?,
            Repair::ToArray { .. } => global_fn(env, "Object", "values")?.call(child(at, last)?)?,
        };
        set_child(&mut at, last, new_value)?;
    }
    Ok(data)
}

fn result_object<'env>(
    env: &'env Env,
    report: &Report,
    data: Unknown<'env>,
) -> Result<Object<'env>> {
    let mut out = Object::new(env)?;
    out.set_named_property("valid", report.valid())?;
    out.set_named_property("errors", report.errors.clone())?;
    out.set_named_property("warnings", report.warnings.clone())?;
    out.set_named_property("repaired", report.repaired)?;
    out.set_named_property("data", data)?;
    Ok(out)
}

fn validate_in_place<'env>(
    env: &'env Env,
    value: Unknown<'env>,
    read: impl FnOnce(&Snapshot<'env>, Unknown<'env>) -> Result<Option<Value>>,
    check: impl FnOnce(&mut Value) -> Report,
) -> Result<Object<'env>> {
    let mut copy = read(&Snapshot::new(env), value)?.unwrap_or(Value::Null);
    let report = run(env, || Ok(check(&mut copy)))?;
    let data = apply(env, value, &report.repairs)?;
    result_object(env, &report, data)
}

/// `validateTrackerSchema(tracker, autoRepair = true)`: `{ valid, errors, warnings, repaired, data }`.
#[napi(
    catch_unwind,
    ts_return_type = "{ valid: boolean, errors: string[], warnings: string[], repaired: boolean, data: any }"
)]
pub fn validate_tracker_schema<'env>(
    env: &'env Env,
    #[napi(ts_arg_type = "any")] tracker: Unknown<'env>,
    auto_repair: Option<bool>,
) -> Result<Object<'env>> {
    let repair = auto_repair.unwrap_or(true);
    validate_in_place(
        env,
        tracker,
        |s, v| s.tracker(v),
        |v| validate::validate_tracker(v, repair),
    )
}

/// `validateComponent(component, context = 'component', autoRepair = true)`.
#[napi(
    catch_unwind,
    ts_return_type = "{ valid: boolean, errors: string[], warnings: string[], repaired: boolean, data: any }"
)]
pub fn validate_component<'env>(
    env: &'env Env,
    #[napi(ts_arg_type = "any")] component: Unknown<'env>,
    context: Option<String>,
    auto_repair: Option<bool>,
) -> Result<Object<'env>> {
    let repair = auto_repair.unwrap_or(true);
    let context = context.unwrap_or_else(|| "component".to_string());
    validate_in_place(
        env,
        component,
        |s, v| s.component(v),
        |v| validate::validate_component(v, &context, repair),
    )
}

/// `validateBackup(backup, autoRepair = true)`.
#[napi(
    catch_unwind,
    ts_return_type = "{ valid: boolean, errors: string[], warnings: string[], repaired: boolean, data: any }"
)]
pub fn validate_backup<'env>(
    env: &'env Env,
    #[napi(ts_arg_type = "any")] backup: Unknown<'env>,
    auto_repair: Option<bool>,
) -> Result<Object<'env>> {
    let repair = auto_repair.unwrap_or(true);
    validate_in_place(
        env,
        backup,
        |s, v| s.backup(v),
        |v| validate::validate_backup(v, repair),
    )
}

/// `createDefaultTracker()`: the legacy default tracker.
#[napi(catch_unwind, ts_return_type = "any")]
pub fn create_default_tracker(env: &Env) -> Result<Unknown<'_>> {
    let tracker = validate::schema::default_tracker();
    to_js_value(env, &tracker)
}

/// `repairTracker(trackerPath)`: `{ success: true, tracker, repaired, errors, warnings }` or
/// `{ success: false, error, tracker: <default tracker> }`. Writes nothing but a
/// `<name>.corrupt-<stamp>` link when the file is damaged.
#[napi(
    catch_unwind,
    ts_return_type = "{ success: boolean, tracker: any, repaired?: boolean, errors?: string[], warnings?: string[], error?: string }"
)]
pub fn repair_tracker<'env>(
    env: &'env Env,
    #[napi(ts_arg_type = "string")] tracker_path: Unknown<'env>,
    options: Option<BackupDirOptions>,
) -> Result<Object<'env>> {
    let path = args::path(env, "trackerPath", tracker_path)?;
    if let Some(scanned) = guarded(|| validate::scan_tracker(&path)).map_err(|e| to_js(env, e))? {
        // The file's own text, parsed by the engine, with the repairs found on its snapshot
        // replayed on it: no `Value` of the whole tracker is built in Rust.
        let parsed = json_parse(env, &scanned.text)?;
        let tracker = apply(env, parsed, &scanned.report.repairs)?;
        return repair_result(env, true, None, tracker, Some(scanned.report));
    }
    let dir = crate::safe_file_ops::backup_dir(options);
    let outcome = guarded(|| validate::repair_tracker(&path, &dir)).map_err(|e| to_js(env, e))?;
    let text =
        serde_json::to_string(&outcome.tracker).map_err(|e| Error::from_reason(e.to_string()))?;
    let tracker = json_parse(env, &text)?;
    let report = outcome.error.is_none().then_some(outcome.report);
    repair_result(env, outcome.success, outcome.error, tracker, report)
}

/// `JSON.parse(text)`: one string across the boundary, parsed by the engine, far cheaper
/// than a napi call per property of a large tracker.
fn json_parse<'env>(env: &'env Env, text: &str) -> Result<Unknown<'env>> {
    global_fn(env, "JSON", "parse")?.call(env.create_string(text)?.to_unknown())
}

/// `{ success: true, tracker, repaired, errors, warnings }` or `{ success: false, error, tracker }`.
fn repair_result<'env>(
    env: &'env Env,
    success: bool,
    error: Option<String>,
    tracker: Unknown<'env>,
    report: Option<Report>,
) -> Result<Object<'env>> {
    let mut out = Object::new(env)?;
    out.set_named_property("success", success)?;
    if let Some(error) = error {
        out.set_named_property("error", error)?;
    }
    out.set_named_property("tracker", tracker)?;
    if let Some(report) = report {
        out.set_named_property("repaired", report.repaired)?;
        out.set_named_property("errors", report.errors)?;
        out.set_named_property("warnings", report.warnings)?;
    }
    Ok(out)
}

/// The CLI's `repair`, all in Rust: `repairTracker`, then (when it repaired something) a
/// `backupFile` copy of the previous file and an atomic write of the repaired tracker.
/// `{ success, repaired, saved, errors, warnings, remainingErrors, backupPath, error? }`.
#[napi(
    catch_unwind,
    ts_return_type = "{ success: boolean, repaired: boolean, saved: boolean, errors: string[], warnings: string[], remainingErrors: string[], backupPath: string | null, error?: string }"
)]
pub fn repair_tracker_file<'env>(
    env: &'env Env,
    #[napi(ts_arg_type = "string")] tracker_path: Unknown<'env>,
    options: Option<BackupDirOptions>,
) -> Result<Object<'env>> {
    let path = args::path(env, "trackerPath", tracker_path)?;
    let dir = crate::safe_file_ops::backup_dir(options);
    let done = run(env, || validate::repair_tracker_file(&path, &dir))?;
    let mut out = Object::new(env)?;
    out.set_named_property("success", done.success)?;
    if let Some(error) = done.error {
        out.set_named_property("error", error)?;
    }
    out.set_named_property("repaired", done.report.repaired)?;
    out.set_named_property("saved", done.saved)?;
    out.set_named_property("errors", done.report.errors)?;
    out.set_named_property("warnings", done.report.warnings)?;
    out.set_named_property("remainingErrors", done.remaining)?;
    let backup = done.backup.map(|p| p.to_string_lossy().into_owned());
    out.set_named_property("backupPath", backup)?;
    Ok(out)
}

/// The CLI's `validate`, all in Rust: read, strict parse, validate without repair.
/// `{ valid, errors, warnings }`; an unreadable or unparseable file throws (`ENOENT`,
/// `ECORRUPT`, ...).
#[napi(
    catch_unwind,
    ts_return_type = "{ valid: boolean, errors: string[], warnings: string[] }"
)]
pub fn validate_tracker_file<'env>(
    env: &'env Env,
    #[napi(ts_arg_type = "string")] tracker_path: Unknown<'env>,
) -> Result<Object<'env>> {
    let path = args::path(env, "trackerPath", tracker_path)?;
    let report = run(env, || validate::validate_tracker_file(&path))?;
    let mut out = Object::new(env)?;
    out.set_named_property("valid", report.valid())?;
    out.set_named_property("errors", report.errors)?;
    out.set_named_property("warnings", report.warnings)?;
    Ok(out)
}
