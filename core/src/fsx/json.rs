//! Recovering a JSON file that no longer parses: its bytes are moved aside (never deleted)
//! as `<name>.corrupt-<stamp>`, and the newest backup of it that parses is put back
//! atomically. Deciding *whether* a file parses is the caller's job, because the JS engine's
//! `JSON.parse` is the judge both backends must agree with.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::atomic::{atomic_write, parent_dir, WriteOptions};
use super::copies::newest_good_copy;
use crate::error::{Error, Result};
use crate::time;

/// What a recovery did.
#[derive(Debug)]
pub struct Recovery {
    /// Where the damaged bytes now are.
    pub corrupt_copy: PathBuf,
    /// The backup restored over the file, and its content; `None` when no backup parsed.
    pub restored: Option<(PathBuf, String)>,
}

/// Move the damaged `file` aside and restore the newest backup from `backup_dir` for which
/// `parses` is true.
pub fn recover_from_backup(
    file: &Path,
    backup_dir: &Path,
    parses: impl Fn(&str) -> bool,
) -> Result<Recovery> {
    let corrupt_copy = keep_aside(file)
        .map_err(|e| Error::io(format!("Cannot move damaged {} aside", file.display()), e))?;
    let basename = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let good = newest_good_copy(&basename, backup_dir, |bytes| {
        std::str::from_utf8(bytes).map(&parses).unwrap_or(false)
    });
    let restored = match good {
        Some((path, bytes)) => {
            atomic_write(file, &bytes, WriteOptions::default())?;
            Some((path, String::from_utf8_lossy(&bytes).into_owned()))
        }
        None => None,
    };
    Ok(Recovery {
        corrupt_copy,
        restored,
    })
}

/// Rename `file` to `<name>.corrupt-<stamp>` beside it, never over an existing file.
pub fn keep_aside(file: &Path) -> io::Result<PathBuf> {
    let aside = link_aside(file)?;
    fs::remove_file(file)?;
    Ok(aside)
}

/// Give `file`'s bytes a second name `<name>.corrupt-<stamp>` beside it (a hard link, or a
/// copy where links are not supported), never over an existing file; `file` stays. Used
/// before a file is replaced by a repaired version: the replacement is atomic, and the
/// damaged bytes survive under the new name.
pub fn link_aside(file: &Path) -> io::Result<PathBuf> {
    let name = file
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?
        .to_string_lossy()
        .into_owned();
    let stamp = time::file_stamp(time::now_ms());
    for serial in 0u32.. {
        let aside_name = match serial {
            0 => format!("{name}.corrupt-{stamp}"),
            n => format!("{name}.corrupt-{stamp}-{n}"),
        };
        let aside = parent_dir(file).join(aside_name);
        // A link never replaces an existing name; a rename would.
        match fs::hard_link(file, &aside) {
            Ok(()) => return Ok(aside),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(_) => {
                // File systems without hard links: copy, which never replaces either.
                if aside.exists() {
                    continue;
                }
                // a folder is no file to keep (the link failed for that reason): say so as
                // the JS backend's copy does, where fs::copy would say EINVAL
                if fs::metadata(file)?.is_dir() {
                    return Err(io::ErrorKind::IsADirectory.into());
                }
                fs::copy(file, &aside)?;
                return Ok(aside);
            }
        }
    }
    unreachable!("an unbounded range always yields another serial")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file that cannot be linked because it is not there is an error, not a reason to try
    /// the next serial forever; two asides of one file get two names.
    /// A folder is refused as a folder (EISDIR, as the JS backend's copy says), and nothing
    /// is made beside it.
    #[test]
    fn link_aside_refuses_a_folder_and_makes_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let folder = tmp.path().join("t.json");
        fs::create_dir(&folder).unwrap();
        let err = link_aside(&folder).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::IsADirectory);
        let names: Vec<_> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("t.json")]);
    }

    #[test]
    fn link_aside_names_every_aside_anew_and_reports_a_missing_file() {
        let tmp = tempfile::tempdir().unwrap();
        let err = link_aside(&tmp.path().join("missing")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        let file = tmp.path().join("t.json");
        fs::write(&file, b"{").unwrap();
        let a = link_aside(&file).unwrap();
        let b = link_aside(&file).unwrap();
        assert_ne!(a, b);
        for aside in [&a, &b] {
            assert_eq!(fs::read(aside).unwrap(), b"{");
        }
        assert_eq!(fs::read(&file).unwrap(), b"{", "the file itself stays");
    }

    fn parses(text: &str) -> bool {
        serde_json::from_str::<serde_json::Value>(text).is_ok()
    }

    #[test]
    fn a_damaged_file_is_kept_and_the_newest_good_backup_restored() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("t.json");
        let backups = tmp.path().join("backups");
        fs::create_dir(&backups).unwrap();
        fs::write(
            backups.join("t.json.auto.2025-02-01T00-00-00-000Z.bak"),
            "{\"v\":2}",
        )
        .unwrap();
        fs::write(&file, "{\"v\":3, trunc").unwrap();

        let r = recover_from_backup(&file, &backups, parses).unwrap();
        assert_eq!(
            fs::read_to_string(&r.corrupt_copy).unwrap(),
            "{\"v\":3, trunc"
        );
        assert!(r
            .corrupt_copy
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("t.json.corrupt-"));
        assert_eq!(r.restored.unwrap().1, "{\"v\":2}");
        assert_eq!(fs::read_to_string(&file).unwrap(), "{\"v\":2}");
    }

    #[test]
    fn without_a_backup_the_bytes_are_still_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("t.json");
        fs::write(&file, "{oops").unwrap();
        let r = recover_from_backup(&file, &tmp.path().join("none"), parses).unwrap();
        assert!(r.restored.is_none());
        assert!(!file.exists());
        assert_eq!(fs::read_to_string(r.corrupt_copy).unwrap(), "{oops");
    }

    #[test]
    fn two_damaged_copies_in_one_millisecond_both_survive() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("t.json");
        fs::write(&file, "one").unwrap();
        let a = keep_aside(&file).unwrap();
        fs::write(&file, "two").unwrap();
        let b = keep_aside(&file).unwrap();
        assert_ne!(a, b);
        assert_eq!(fs::read_to_string(a).unwrap(), "one");
        assert_eq!(fs::read_to_string(b).unwrap(), "two");
    }
}
