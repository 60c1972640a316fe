//! Names that become parts of file paths: backup labels and the backup file names built
//! from them. Anything a caller passes in is checked here before it touches a path, so no
//! input can name a file outside the directory it belongs to.

use crate::error::{Code, Error, Result};
use crate::time;

/// Longest label we accept; long enough for any real label, short enough for any file system.
pub const MAX_LABEL_LEN: usize = 64;

/// Names Windows maps to devices whatever the folder, case or extension (`nul.lock` is the
/// null device: every process would "hold" that lock at once).
const DEVICE_NAMES: &[&str] = &["con", "prn", "aux", "nul", "conin$", "conout$", "clock$"];

/// Why `name` cannot be one file name on every system (`None` when it can): a Windows device
/// name, with or without an extension, or a name ending in a dot or a space (Windows drops
/// them: `a.` and `a ` name the file `a`). Refused on every platform, so that a folder
/// shared between systems means the same thing everywhere.
pub fn non_portable(name: &str) -> Option<&'static str> {
    if name.ends_with('.') || name.ends_with(' ') {
        return Some("it must not end with a dot or a space (Windows drops them)");
    }
    let stem = name.split('.').next().unwrap_or(name).trim_end_matches(' ');
    let lower = stem.to_ascii_lowercase();
    let numbered = |prefix: &str| {
        lower.strip_prefix(prefix).is_some_and(|n| {
            matches!(
                n,
                "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "0" | "¹" | "²" | "³"
            )
        })
    };
    if DEVICE_NAMES.contains(&lower.as_str()) || numbered("com") || numbered("lpt") {
        return Some("it is a Windows device name (CON, PRN, AUX, NUL, COM1-9, LPT1-9)");
    }
    None
}

/// A label is 1 to 64 characters of `[A-Za-z0-9_-]`: it can never be `..`, hold a
/// separator, a NUL, or anything a shell or a file system treats specially; nor a Windows
/// device name.
pub fn check_label(label: &str) -> Result<()> {
    let ok = !label.is_empty()
        && label.len() <= MAX_LABEL_LEN
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !ok {
        return Err(Error::new(
            Code::BadLabel,
            format!(
                "Invalid backup label {label:?}: use 1 to {MAX_LABEL_LEN} characters of A-Z, a-z, 0-9, _ and -"
            ),
        ));
    }
    match non_portable(label) {
        None => Ok(()),
        Some(why) => Err(Error::new(
            Code::BadLabel,
            format!("Invalid backup label {label:?}: {why}"),
        )),
    }
}

/// `<basename>.<label>.<ISO stamp>.bak`, the legacy `backupFile` name; `serial` > 0 adds
/// `-<serial>` to the stamp so that two backups in one millisecond do not collide.
pub fn backup_file_name(basename: &str, label: &str, ms: i64, serial: u32) -> String {
    let stamp = time::file_stamp(ms);
    if serial == 0 {
        format!("{basename}.{label}.{stamp}.bak")
    } else {
        format!("{basename}.{label}.{stamp}-{serial}.bak")
    }
}

/// A backup file name taken apart: which file it backs up, when, and its serial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupName {
    pub basename: String,
    pub label: Option<String>,
    pub ms: i64,
    pub serial: u32,
}

/// Recognise the names this package's backups carry: `backupFile`'s
/// `<basename>.<label>.<stamp>[-n].bak` and the legacy `atomicWrite`'s
/// `<basename>.<Date.now()>.bak` leftovers. Anything else is not ours.
pub fn parse_backup_name(name: &str) -> Option<BackupName> {
    let stem = name.strip_suffix(".bak")?;
    let (rest, stamp) = stem.rsplit_once('.')?;
    if stamp.len() == 13 && stamp.bytes().all(|b| b.is_ascii_digit()) {
        if rest.is_empty() {
            return None;
        }
        return Some(BackupName {
            basename: rest.to_string(),
            label: None,
            ms: stamp.parse().ok()?,
            serial: 0,
        });
    }
    let (stamp, serial) = match stamp.get(24..) {
        Some(tail) if !tail.is_empty() => (&stamp[..24], tail.strip_prefix('-')?.parse().ok()?),
        _ => (stamp, 0),
    };
    let ms = time::parse_iso8601(stamp)?;
    let (basename, label) = rest.rsplit_once('.')?;
    if basename.is_empty() || check_label(label).is_err() {
        return None;
    }
    Some(BackupName {
        basename: basename.to_string(),
        label: Some(label.to_string()),
        ms,
        serial,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_a_safe_character_set() {
        for bad in ["CON", "nul", "Aux", "com1", "LPT9", "prn"] {
            assert_eq!(
                check_label(bad).unwrap_err().code(),
                Code::BadLabel,
                "{bad}"
            );
        }
        for good in [
            "auto",
            "manual",
            "pre-restore",
            "phase_2",
            "A1",
            "console",
            "com10",
            "lpt",
        ] {
            assert!(check_label(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "..",
            "a/b",
            "a\\b",
            "a\0b",
            "a.b",
            " x",
            &"x".repeat(65),
        ] {
            assert_eq!(
                check_label(bad).unwrap_err().code(),
                Code::BadLabel,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn backup_names_round_trip() {
        let name = backup_file_name("phase-tracker.json", "auto", 1_757_344_468_688, 0);
        assert_eq!(name, "phase-tracker.json.auto.2025-09-08T15-14-28-688Z.bak");
        let parsed = parse_backup_name(&name).unwrap();
        assert_eq!(parsed.basename, "phase-tracker.json");
        assert_eq!(parsed.label.as_deref(), Some("auto"));
        assert_eq!(parsed.ms, 1_757_344_468_688);

        let second = backup_file_name("t.json", "manual", 5, 3);
        assert_eq!(parse_backup_name(&second).unwrap().serial, 3);
    }

    #[test]
    fn legacy_atomic_write_leftovers_are_recognised() {
        let parsed = parse_backup_name("tracker.json.1757344468688.bak").unwrap();
        assert_eq!(parsed.label, None);
        assert_eq!(parsed.ms, 1_757_344_468_688);
    }

    #[test]
    fn foreign_files_are_not_backups() {
        for name in [
            "notes.txt",
            "x.bak",
            ".bak",
            "a.auto.yesterday.bak",
            "a.b/c.2025-09-08T15-14-28-688Z.bak",
            // digits, but not the 13 of a Date.now(); 13 characters, but not digits
            "x.123.bak",
            "x.abcdefghijklm.bak",
            // no basename before the label, or a label outside the safe set
            ".auto.2025-09-08T15-14-28-688Z.bak",
            "a.b!c.2025-09-08T15-14-28-688Z.bak",
            "a.auto.2025-09-08T15-14-28-688Z-x.bak",
        ] {
            assert_eq!(parse_backup_name(name), None, "{name}");
        }
        assert_eq!(parse_backup_name(".1757344468688.bak"), None);
    }

    #[test]
    fn names_windows_would_change_or_take_as_devices_are_not_portable() {
        for name in [
            "a.",
            "a ",
            "CON",
            "nul.txt",
            "Aux.tar.gz",
            "com1",
            "COM²",
            "lpt0",
            "LPT9.log",
            "conin$",
            "nul .txt",
        ] {
            assert!(non_portable(name).is_some(), "{name}");
        }
        for name in [
            "a.b", "console", "com10", "lpt", "comx", "con-1", " a", ".a",
        ] {
            assert_eq!(non_portable(name), None, "{name}");
        }
        assert_eq!(
            non_portable("x."),
            Some("it must not end with a dot or a space (Windows drops them)")
        );
        assert_eq!(
            non_portable("lpt1"),
            Some("it is a Windows device name (CON, PRN, AUX, NUL, COM1-9, LPT1-9)")
        );
        assert!(check_label(&"x".repeat(MAX_LABEL_LEN)).is_ok());
    }
}
