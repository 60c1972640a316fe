//! `validateTrackerFile(path)`: the CLI's `validate` at file level. The file is read once
//! and scanned for the properties the schema names (see [`super::scan`]), so a large
//! tracker is validated without building its full value; a file that is not strict JSON is
//! handed to the full parsers so the error says what it is. Repairs of a tracker file run
//! in `lib/` (the same code on both backends); nothing here writes.

use std::fs;
use std::path::Path;

use super::check::{validate_tracker, Report};
use super::parse::parse_tracker;
use super::scan::snapshot;
use crate::error::{check_path, Code, Error, Result};

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

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> std::path::PathBuf {
        let file = dir.join("phase-tracker.json");
        fs::write(&file, text).expect("write the tracker");
        file
    }

    #[test]
    fn a_strict_tracker_is_validated_without_repairs_applied_to_the_file() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let text = r#"{"project": "p"}"#;
        let file = write(tmp.path(), text);
        let report = validate_tracker_file(&file).expect("strict JSON is validated");
        assert!(
            !report.errors.is_empty(),
            "a tracker without phases has errors"
        );
        assert_eq!(fs::read_to_string(&file).expect("read back"), text);
    }

    #[test]
    fn a_tolerant_or_broken_file_is_corrupt_and_names_itself() {
        let tmp = tempfile::tempdir().expect("tempdir");
        for text in ["{phases: {}, // comment\n}", "{\"phases\": "] {
            let file = write(tmp.path(), text);
            let err = validate_tracker_file(&file).expect_err("not strict JSON");
            assert_eq!(err.code(), Code::Corrupt);
            assert!(err.to_string().contains("phase-tracker.json"), "{err}");
        }
    }

    #[test]
    fn a_missing_file_is_enoent() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let err = validate_tracker_file(&tmp.path().join("nope.json")).expect_err("missing");
        assert_eq!(err.code().as_str(), "ENOENT");
    }

    /// A strict tracker nested deeper than serde_json's 128 levels (which the scan refuses)
    /// is still strict JSON: validated, not called corrupt.
    #[test]
    fn a_deep_strict_tracker_is_validated() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let file = write(
            tmp.path(),
            &format!(r#"{{"project": "p", "notes": {deep}}}"#),
        );
        let report = validate_tracker_file(&file).expect("deep strict JSON is validated");
        assert!(report
            .errors
            .contains(&"Missing required property: phases".to_string()));
    }
}
