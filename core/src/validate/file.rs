//! `repairTracker(path)` at file level: read, parse (strict, then tolerant), recover from
//! backups when the file cannot be read as a tracker, validate and repair, all on
//! `serde_json::Value`s: no JS object is built until the caller asks for the result.
//!
//! It never destroys data: a file that is not strict JSON, or not a tracker at all, first
//! gets a second name `<name>.corrupt-<stamp>` (a hard link, so the original stays in
//! place too); an unreadable tracker is recovered from the newest backup of it that parses
//! (a `backupFile` copy in the backup directory, or the tracker copy of a backup set under
//! `<root>/backups/config/<id>/`), and when none does the result is a failure that the CLI
//! does not write. This function itself writes nothing but that `.corrupt-` link.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::check::{apply_repairs, validate_tracker, Report};
use super::parse::parse_tracker;
use super::print::to_js_pretty;
use super::scan::snapshot;
use super::schema::{default_tracker, message};
use crate::error::{check_path, Code, Error, Result};
use crate::fsx::copies::{backup_file, backups_of};
use crate::fsx::json::link_aside;
use crate::fsx::{atomic_write, WriteOptions};
use crate::time;

/// Where the tracker sits in a project, and the name of its copy in a backup set.
const TRACKER_IN_ROOT: [&str; 3] = ["packages", "system-api", "phase-tracker.json"];
const TRACKER_IN_SET: &str = "packages_system-api_phase-tracker.json";

/// The legacy `repairTracker` result, in Rust.
#[derive(Debug)]
pub struct RepairOutcome {
    pub success: bool,
    /// The repaired tracker; on failure the default tracker (legacy shape).
    pub tracker: Value,
    pub report: Report,
    /// The failure message when `success` is false.
    pub error: Option<String>,
    /// The second name of the damaged bytes, when the file was not strict JSON.
    pub kept: Option<PathBuf>,
    /// The backup the tracker was recovered from.
    pub recovered_from: Option<PathBuf>,
}

impl RepairOutcome {
    fn failed(error: String, kept: Option<PathBuf>) -> RepairOutcome {
        RepairOutcome {
            success: false,
            tracker: default_tracker(),
            report: Report::default(),
            error: Some(error),
            kept,
            recovered_from: None,
        }
    }
}

/// Repair the tracker at `path` (see the module comment); `backup_dir` holds `backupFile`
/// copies. Only a bad path argument is an `Err`; every other failure is an outcome.
pub fn repair_tracker(path: &Path, backup_dir: &Path) -> Result<RepairOutcome> {
    check_path("trackerPath", path)?;
    let shown = path.display().to_string();
    let bytes = match fs::read(path) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => {
            return Ok(RepairOutcome::failed(
                Error::io(&shown, e).message().to_string(),
                None,
            ))
        }
    };
    let Some(bytes) = bytes else {
        // Nothing to lose: legacy starts from the default tracker.
        return Ok(finish(Value::Null, Vec::new(), None, None));
    };
    let text = String::from_utf8_lossy(&bytes);
    let parsed = parse_tracker(&text).ok().filter(|p| p.value.is_object());
    if let Some(parsed) = parsed.as_ref().filter(|p| !p.tolerant) {
        return Ok(finish(parsed.value.clone(), Vec::new(), None, None));
    }
    let kept = match link_aside(path) {
        Ok(kept) => kept,
        Err(e) => {
            let err = Error::io(format!("Cannot keep a copy of {shown}"), e);
            return Ok(RepairOutcome::failed(err.message().to_string(), None));
        }
    };
    let kept_shown = kept.display().to_string();
    if let Some(parsed) = parsed {
        let note = message("fixedJsonSyntax", &[("path", &shown)]);
        return Ok(finish(parsed.value, vec![note], Some(kept), None));
    }
    match newest_good_tracker_copy(path, backup_dir) {
        Some((from, value)) => {
            let from_shown = from.display().to_string();
            let note = message(
                "recoveredFromBackup",
                &[
                    ("path", &shown),
                    ("from", &from_shown),
                    ("kept", &kept_shown),
                ],
            );
            Ok(finish(value, vec![note], Some(kept), Some(from)))
        }
        None => {
            let error = message("unrecoverable", &[("path", &shown), ("kept", &kept_shown)]);
            Ok(RepairOutcome::failed(error, Some(kept)))
        }
    }
}

/// The CLI's `validate`: read and strictly parse the file (legacy used `JSON.parse`: a file
/// only the tolerant parser reads is not valid), then validate without repairing.
pub fn validate_tracker_file(path: &Path) -> Result<Report> {
    check_path("trackerPath", path)?;
    let shown = path.display().to_string();
    let bytes = fs::read(path).map_err(|e| Error::io(&shown, e))?;
    if let Some(mut snap) = std::str::from_utf8(&bytes)
        .ok()
        .and_then(|t| snapshot(t).ok())
    {
        return Ok(validate_tracker(&mut snap, false));
    }
    // Not strict JSON (or not UTF-8): the full parsers say what it is.
    let text = String::from_utf8_lossy(&bytes);
    let mut value = match parse_tracker(&text) {
        Ok(parsed) if !parsed.tolerant => parsed.value,
        Ok(_) => {
            return Err(Error::new(
                Code::Corrupt,
                format!("{shown} is not strict JSON"),
            ))
        }
        Err(e) => {
            return Err(Error::new(
                Code::Corrupt,
                format!("Cannot parse {shown}: {e}"),
            ))
        }
    };
    Ok(validate_tracker(&mut value, false))
}

/// A strict-JSON tracker file holding an object, read for validation only (see
/// [`super::scan`]): `repairTracker`'s answer without the tracker's full value.
#[derive(Debug)]
pub struct Scanned {
    /// The file's text, as read.
    pub text: String,
    /// The validation snapshot, repaired.
    pub snapshot: Value,
    /// The report of validating (and repairing) the snapshot; its repairs, replayed on the
    /// parsed text, give the tracker [`repair_tracker`] returns.
    pub report: Report,
}

/// [`repair_tracker`]'s fast path: `None` when the file is missing, unreadable, not UTF-8,
/// not strict JSON or not an object, all cases [`repair_tracker`] itself handles.
pub fn scan_tracker(path: &Path) -> Result<Option<Scanned>> {
    check_path("trackerPath", path)?;
    let Ok(bytes) = fs::read(path) else {
        return Ok(None);
    };
    let Ok(text) = String::from_utf8(bytes) else {
        return Ok(None);
    };
    let Some(mut snapshot) = snapshot(&text).ok().filter(Value::is_object) else {
        return Ok(None);
    };
    let report = validate_tracker(&mut snapshot, true);
    Ok(Some(Scanned {
        text,
        snapshot,
        report,
    }))
}

/// What the CLI's `repair` did to the file.
#[derive(Debug)]
pub struct FileRepair {
    pub success: bool,
    /// The failure message when `success` is false.
    pub error: Option<String>,
    pub report: Report,
    /// The repaired tracker was written back.
    pub saved: bool,
    /// The backup of the previous file made before writing.
    pub backup: Option<PathBuf>,
    /// Errors a validation of the repaired tracker still finds (repairs that cannot be made).
    pub remaining: Vec<String>,
}

/// `repairTracker`, then, when it repaired something, a `backupFile` copy (label
/// `pre-repair`) of the previous file and an atomic write of the repaired tracker, printed
/// as `JSON.stringify(tracker, null, 2)` does. No JS value is involved at any step, and a
/// strict-JSON file that needs no repair is only scanned, never built as a `Value`.
pub fn repair_tracker_file(path: &Path, backup_dir: &Path) -> Result<FileRepair> {
    if let Some(scanned) = scan_tracker(path)? {
        let Scanned {
            text,
            mut snapshot,
            report,
        } = scanned;
        // The snapshot, repaired, is a snapshot of the repaired tracker.
        let remaining = validate_tracker(&mut snapshot, false).errors;
        let tracker = match report.repaired {
            true => {
                let mut tracker: Value = serde_json::from_str(&text)
                    .map_err(|e| Error::new(Code::Internal, e.to_string()))?;
                apply_repairs(&mut tracker, &report.repairs);
                Some(tracker)
            }
            false => None,
        };
        return save(path, backup_dir, report, remaining, tracker.as_ref());
    }
    let mut outcome = repair_tracker(path, backup_dir)?;
    if !outcome.success {
        return Ok(FileRepair {
            success: false,
            error: outcome.error,
            report: outcome.report,
            saved: false,
            backup: None,
            remaining: Vec::new(),
        });
    }
    // Without repair, validation only reads: no copy of the tracker is needed.
    let remaining = validate_tracker(&mut outcome.tracker, false).errors;
    let repaired = outcome.report.repaired.then_some(&outcome.tracker);
    save(path, backup_dir, outcome.report, remaining, repaired)
}

/// Back up then write `repaired` when there is one.
fn save(
    path: &Path,
    backup_dir: &Path,
    report: Report,
    remaining: Vec<String>,
    repaired: Option<&Value>,
) -> Result<FileRepair> {
    let mut done = FileRepair {
        success: true,
        error: None,
        report,
        saved: false,
        backup: None,
        remaining,
    };
    if let Some(tracker) = repaired {
        done.backup = backup_file(path, "pre-repair", backup_dir)?;
        let text = to_js_pretty(tracker) + "\n";
        atomic_write(path, text.as_bytes(), WriteOptions::default())?;
        done.saved = true;
    }
    Ok(done)
}

/// Validate with repair; a file that needed its syntax fixed or a backup counts as repaired.
fn finish(
    mut tracker: Value,
    notes: Vec<String>,
    kept: Option<PathBuf>,
    from: Option<PathBuf>,
) -> RepairOutcome {
    let mut report = validate_tracker(&mut tracker, true);
    if !notes.is_empty() {
        report.repaired = true;
        report.warnings.splice(0..0, notes);
    }
    RepairOutcome {
        success: true,
        tracker,
        report,
        error: None,
        kept,
        recovered_from: from,
    }
}

/// The newest backup of the tracker that parses to an object, among the `backupFile`
/// copies in `backup_dir` and the tracker copies of the project's backup sets.
pub fn newest_good_tracker_copy(path: &Path, backup_dir: &Path) -> Option<(PathBuf, Value)> {
    let basename = path.file_name()?.to_string_lossy().into_owned();
    let mut candidates: Vec<(i64, PathBuf)> = backups_of(&basename, backup_dir)
        .into_iter()
        .map(|(name, p)| (name.ms, p))
        .collect();
    candidates.extend(backup_set_copies(path));
    candidates.sort_by_key(|c| std::cmp::Reverse(c.0));
    candidates.into_iter().find_map(|(_, candidate)| {
        let text = fs::read_to_string(&candidate).ok()?;
        let parsed = parse_tracker(&text).ok()?;
        parsed
            .value
            .is_object()
            .then_some((candidate, parsed.value))
    })
}

/// The tracker copies in `<root>/backups/config/<id>/`, with the time of their set (the
/// stamp that ends the set's name, else the directory's mtime), when `path` is
/// `<root>/packages/system-api/phase-tracker.json`.
fn backup_set_copies(path: &Path) -> Vec<(i64, PathBuf)> {
    let mut root = path;
    for expected in TRACKER_IN_ROOT.iter().rev() {
        if root
            .file_name()
            .map(|n| n.to_string_lossy() != *expected)
            .unwrap_or(true)
        {
            return Vec::new();
        }
        root = root.parent().unwrap_or(Path::new(""));
    }
    let root = if root.as_os_str().is_empty() {
        Path::new(".")
    } else {
        root
    };
    let Ok(sets) = fs::read_dir(root.join("backups").join("config")) else {
        return Vec::new();
    };
    sets.flatten()
        .filter_map(|set| {
            let copy = set.path().join(TRACKER_IN_SET);
            if !copy.is_file() {
                return None;
            }
            let name = set.file_name().to_string_lossy().into_owned();
            let stamp = name
                .len()
                .checked_sub(24)
                .and_then(|at| name.get(at..))
                .and_then(time::parse_iso8601);
            let ms = stamp.or_else(|| {
                set.metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .map(time::to_ms)
            })?;
            Some((ms, copy))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn project() -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("packages/system-api");
        fs::create_dir_all(&dir).unwrap();
        (tmp, dir.join("phase-tracker.json"))
    }

    #[test]
    fn a_damaging_tracker_keeps_every_value() {
        let (tmp, file) = project();
        let text = "{\n  // notes\n  \"sessionInfo\": {\"sessionId\": 'it\\'s done', \"currentPhase\": 2, \"currentWeek\": 1,\n    \"lastUpdate\": \"x\", url: \"http://localhost:1234/v1\"},\n  \"baselineStatus\": {\"phase1Complete\": false, \"testsPassingBaseline\": \"packages/**/*.test.js\", \"agentsLoaded\": 0,},\n  \"phases\": {},\n}";
        fs::write(&file, text).unwrap();
        let out = repair_tracker(&file, &tmp.path().join("b")).unwrap();
        assert!(out.success && out.report.repaired);
        assert_eq!(out.tracker["sessionInfo"]["sessionId"], "it's done");
        assert_eq!(
            out.tracker["sessionInfo"]["url"],
            "http://localhost:1234/v1"
        );
        assert_eq!(
            out.tracker["baselineStatus"]["testsPassingBaseline"],
            "packages/**/*.test.js"
        );
        assert_eq!(out.tracker["baselineStatus"]["phase1Complete"], false);
        assert_eq!(out.tracker["baselineStatus"]["agentsLoaded"], 0);
        assert_eq!(fs::read_to_string(out.kept.unwrap()).unwrap(), text);
        assert_eq!(
            fs::read_to_string(&file).unwrap(),
            text,
            "repairTracker itself does not write"
        );
    }

    #[test]
    fn a_truncated_tracker_comes_back_from_the_newest_backup() {
        let (tmp, file) = project();
        let backups = tmp.path().join("b");
        fs::create_dir(&backups).unwrap();
        fs::write(
            backups.join("phase-tracker.json.auto.2025-01-01T00-00-00-000Z.bak"),
            "{\"phases\": {\"old\": 1}}",
        )
        .unwrap();
        let set = tmp
            .path()
            .join("backups/config/phase2-start-2025-09-08T15-14-28-688Z");
        fs::create_dir_all(&set).unwrap();
        fs::write(
            set.join(TRACKER_IN_SET),
            "{\"phases\": {}, \"from\": \"set\"}",
        )
        .unwrap();
        fs::write(&file, "{\"sessionInfo\": {\"sessi").unwrap();
        let out = repair_tracker(&file, &backups).unwrap();
        assert!(out.success);
        assert_eq!(out.tracker["from"], "set");
        assert!(out.recovered_from.unwrap().ends_with(TRACKER_IN_SET));
        assert_eq!(
            fs::read_to_string(out.kept.unwrap()).unwrap(),
            "{\"sessionInfo\": {\"sessi"
        );
    }

    #[test]
    fn without_a_backup_it_fails_and_keeps_the_bytes() {
        let (tmp, file) = project();
        fs::write(&file, "[1, 2").unwrap();
        let out = repair_tracker(&file, &tmp.path().join("none")).unwrap();
        assert!(!out.success);
        assert!(out.error.unwrap().starts_with("Could not parse"));
        assert_eq!(out.tracker["phases"]["phase2"]["title"], "Default Phase");
        assert_eq!(fs::read_to_string(&file).unwrap(), "[1, 2");
        let missing = repair_tracker(&tmp.path().join("nope.json"), tmp.path()).unwrap();
        assert!(missing.success && missing.report.repaired);
        assert_eq!(
            missing.report.errors,
            vec!["Tracker is null or not an object".to_string()]
        );
        let _ = json!(null);
    }

    #[test]
    fn the_file_repair_backs_up_then_writes_javascript_style_json() {
        let (tmp, file) = project();
        let backups = tmp.path().join("b");
        let text = "{sessionInfo: {}, baselineStatus: {phase1Complete: false}, phases: {'2': {status: 's', title: 't'}, a: {status: 's', title: 't', n: 2.0}},}";
        fs::write(&file, text).unwrap();
        let done = repair_tracker_file(&file, &backups).unwrap();
        assert!(done.saved && done.remaining.is_empty());
        assert_eq!(fs::read_to_string(done.backup.unwrap()).unwrap(), text);
        let written = fs::read_to_string(&file).unwrap();
        assert!(written.ends_with("}\n") && written.contains("\"n\": 2\n"));
        let again = repair_tracker_file(&file, &backups).unwrap();
        assert!(!again.saved && again.backup.is_none());
    }
}
