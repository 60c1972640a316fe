//! The legacy `backupFile` copies of single files, named `<basename>.<label>.<stamp>.bak`,
//! their cleanup, and the search for the newest copy that is still good. (A backup *set* of
//! a whole project is another thing: `crate::backup`.)

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::atomic::{sweep_dead_temps, TEMP_MARKER};
use super::dirs::ensure_private_dir;
use crate::error::{check_path, Code, Error, Result};
use crate::names::{backup_file_name, check_label, parse_backup_name, BackupName};
use crate::time;

/// Copy `file` into `backup_dir` as `<basename>.<label>.<stamp>.bak` and return that path,
/// or `None` when `file` does not exist. The copy is written to a temp name, fsynced and
/// then linked into place without replacing anything, so a backup is never half-written and
/// two backups made in the same millisecond get distinct names (`<stamp>-1`, ...).
pub fn backup_file(file: &Path, label: &str, backup_dir: &Path) -> Result<Option<PathBuf>> {
    check_label(label)?;
    check_path("filePath", file)?;
    // a regular file only: a FIFO would block the open, a link to /dev/zero never ends
    let mut source = match crate::lock::file::open_regular(file, false) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            let context = format!("Backup failed for {}", file.display());
            return Err(match crate::lock::file::error(&context, e) {
                refused if refused.code() == Code::BadLock => Error::new(
                    Code::Os("EINVAL"),
                    refused
                        .message()
                        .replace("refusing the lock file", "refusing the source"),
                ),
                other => other,
            });
        }
    };
    let basename = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    ensure_private_dir(backup_dir)?;
    sweep_dead_temps(backup_dir);
    copy_into_place(&mut source, &basename, label, backup_dir)
        .map(Some)
        .map_err(|e| Error::io(format!("Backup failed for {}", file.display()), e))
}

fn copy_into_place(
    source: &mut File,
    basename: &str,
    label: &str,
    backup_dir: &Path,
) -> io::Result<PathBuf> {
    let prefix = format!(".{basename}{TEMP_MARKER}{}-", std::process::id());
    let mut temp = tempfile::Builder::new()
        .prefix(&prefix)
        .rand_bytes(12)
        .tempfile_in(backup_dir)?;
    io::copy(source, &mut temp)?;
    temp.flush()?;
    temp.as_file().sync_all()?;
    let ms = time::now_ms();
    for serial in 0.. {
        let target = backup_dir.join(backup_file_name(basename, label, ms, serial));
        match temp.persist_noclobber(&target) {
            Ok(_) => return Ok(target),
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => temp = e.file,
            Err(e) => return Err(e.error),
        }
    }
    unreachable!("an unbounded range always yields another serial")
}

/// Delete the backups in `backup_dir` older than `max_age` (by mtime) and return how many.
/// Only regular files whose names this package's backups carry are considered: nothing
/// else in the directory, and no directory, is ever deleted.
pub fn cleanup_old_backups(backup_dir: &Path, max_age: Duration) -> Result<u32> {
    let context = || format!("Backup cleanup failed in {}", backup_dir.display());
    let entries = match fs::read_dir(backup_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(Error::io(context(), e)),
    };
    let cutoff = SystemTime::now()
        .checked_sub(max_age)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let mut removed = 0;
    for entry in entries.flatten() {
        if parse_backup_name(&entry.file_name().to_string_lossy()).is_none() {
            continue;
        }
        let Ok(meta) = entry.path().symlink_metadata() else {
            continue;
        };
        let old = meta.modified().map(|m| m < cutoff).unwrap_or(false);
        if meta.is_file() && old {
            fs::remove_file(entry.path()).map_err(|e| Error::io(context(), e))?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// The backups of files named `basename` in `backup_dir`, newest first.
pub fn backups_of(basename: &str, backup_dir: &Path) -> Vec<(BackupName, PathBuf)> {
    let mut found: Vec<(BackupName, PathBuf)> = fs::read_dir(backup_dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| {
                    let name = parse_backup_name(&e.file_name().to_string_lossy())?;
                    let is_file = e.file_type().map(|t| t.is_file()).unwrap_or(false);
                    (is_file && name.basename == basename).then(|| (name, e.path()))
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort_by_key(|(name, _)| std::cmp::Reverse((name.ms, name.serial)));
    found
}

/// The newest copy of `basename` whose bytes `is_good` accepts, with those bytes.
pub fn newest_good_copy(
    basename: &str,
    backup_dir: &Path,
    is_good: impl Fn(&[u8]) -> bool,
) -> Option<(PathBuf, Vec<u8>)> {
    backups_of(basename, backup_dir)
        .into_iter()
        .find_map(|(_, path)| {
            fs::read(&path)
                .ok()
                .filter(|b| is_good(b))
                .map(|b| (path, b))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only a missing file means "nothing to back up": any other failure to open it is an
    /// error with its errno, and nothing is created.
    #[cfg(unix)]
    #[test]
    fn a_file_that_cannot_be_opened_is_an_error_not_a_missing_file() {
        let tmp = tempfile::tempdir().unwrap();
        let regular = tmp.path().join("regular");
        fs::write(&regular, b"x").unwrap();
        let backups = tmp.path().join("backups");
        let err = backup_file(&regular.join("below"), "manual", &backups).unwrap_err();
        assert_eq!(err.code().as_str(), "ENOTDIR");
        assert!(!backups.exists());
        assert_eq!(
            backup_file(&tmp.path().join("missing"), "manual", &backups).unwrap(),
            None
        );
    }

    /// A source that is not a regular file (a folder here) is refused as a source, EINVAL
    /// (not as a lock file, EBADLOCK, the reader it shares with the locks).
    #[test]
    fn a_source_that_is_not_a_regular_file_is_refused_as_a_source() {
        let tmp = tempfile::tempdir().unwrap();
        let backups = tmp.path().join("backups");
        let err = backup_file(tmp.path(), "manual", &backups).unwrap_err();
        assert_eq!(err.code().as_str(), "EINVAL");
        assert!(err.message().contains("refusing the source"), "{err}");
        assert!(!backups.exists());
    }

    #[test]
    fn backups_of_lists_only_files_of_that_name() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let file = dir.join("t.json");
        fs::write(&file, b"1").unwrap();
        let backups = dir.join("backups");
        let first = backup_file(&file, "manual", &backups).unwrap().unwrap();
        let other = dir.join("u.json");
        fs::write(&other, b"2").unwrap();
        backup_file(&other, "manual", &backups).unwrap();
        // A directory whose name looks like a backup of t.json.
        let name = first
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace(".bak", "");
        fs::create_dir(backups.join(format!("{name}-9.bak"))).unwrap();
        let found: Vec<PathBuf> = backups_of("t.json", &backups)
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        assert_eq!(found, vec![first]);
    }

    #[test]
    fn cleanup_of_a_missing_folder_removes_nothing_and_of_a_file_fails() {
        let tmp = tempfile::tempdir().unwrap();
        let none = cleanup_old_backups(&tmp.path().join("missing"), Duration::ZERO).unwrap();
        assert_eq!(none, 0);
        let file = tmp.path().join("file");
        fs::write(&file, b"x").unwrap();
        assert!(cleanup_old_backups(&file, Duration::ZERO).is_err());
        assert!(file.exists());
    }

    /// A backup name the file system refuses (longer than a name may be, though its temp
    /// name fits) is reported, never retried under the next serial forever, and the temp
    /// is removed.
    #[cfg(unix)]
    #[test]
    fn a_backup_name_the_file_system_refuses_is_reported_and_leaves_no_temp() {
        let tmp = tempfile::tempdir().unwrap();
        let source = tmp.path().join("x".repeat(200));
        fs::write(&source, b"x").unwrap();
        let backups = tmp.path().join("backups");
        let label = "l".repeat(40);
        let err = backup_file(&source, &label, &backups).unwrap_err();
        assert_eq!(err.code().as_str(), "ENAMETOOLONG");
        assert_eq!(fs::read_dir(&backups).unwrap().count(), 0);
    }

    #[test]
    fn backups_get_the_legacy_name_and_the_same_bytes() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("tracker.json");
        fs::write(&file, b"{\"v\":1}").unwrap();
        let dir = tmp.path().join("backups");
        let path = backup_file(&file, "manual", &dir).unwrap().unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with("tracker.json.manual.") && name.ends_with("Z.bak"),
            "{name}"
        );
        assert_eq!(fs::read(&path).unwrap(), b"{\"v\":1}");
    }

    #[test]
    fn backups_in_one_millisecond_do_not_collide() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        fs::write(&file, b"x").unwrap();
        let dir = tmp.path().join("b");
        let paths: Vec<PathBuf> = (0..20)
            .map(|_| backup_file(&file, "auto", &dir).unwrap().unwrap())
            .collect();
        let mut unique = paths.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 20);
        assert_eq!(backups_of("f", &dir).len(), 20);
    }

    #[test]
    fn a_missing_file_has_no_backup() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(
            backup_file(&tmp.path().join("nope"), "auto", tmp.path()).unwrap(),
            None
        );
    }

    #[test]
    fn bad_labels_write_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        fs::write(&file, b"x").unwrap();
        let dir = tmp.path().join("b");
        for label in ["../../escape", "a/b", "..", "a\0b", ""] {
            let err = backup_file(&file, label, &dir).unwrap_err();
            assert_eq!(err.code().as_str(), "EBADLABEL");
        }
        assert!(!dir.exists());
    }

    #[test]
    fn cleanup_deletes_only_old_backups_of_ours() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let file = dir.join("f");
        fs::write(&file, b"x").unwrap();
        let ours = backup_file(&file, "auto", dir).unwrap().unwrap();
        fs::write(dir.join("notes.txt"), b"keep me").unwrap();
        fs::create_dir(dir.join("f.auto.2025-09-08T15-14-28-688Z.bak")).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(
            cleanup_old_backups(dir, Duration::from_millis(10)).unwrap(),
            1
        );
        assert!(!ours.exists());
        assert!(dir.join("notes.txt").exists());
        assert!(dir.join("f").exists());
        assert!(dir.join("f.auto.2025-09-08T15-14-28-688Z.bak").is_dir());
    }

    /// "Older than" is strict, as legacy's `age > maxAge`: a backup exactly as old as the
    /// limit is kept. Exact to the nanosecond by a limit past the epoch (nothing can be older
    /// than that) and a backup dated at the epoch itself.
    #[test]
    fn a_backup_exactly_as_old_as_the_limit_is_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        fs::write(&file, b"x").unwrap();
        let ours = backup_file(&file, "auto", tmp.path()).unwrap().unwrap();
        fs::File::options()
            .write(true)
            .open(&ours)
            .unwrap()
            .set_modified(SystemTime::UNIX_EPOCH)
            .unwrap();
        assert_eq!(cleanup_old_backups(tmp.path(), Duration::MAX).unwrap(), 0);
        assert!(ours.exists());
    }

    #[test]
    fn cleanup_keeps_young_backups() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        fs::write(&file, b"x").unwrap();
        let ours = backup_file(&file, "auto", tmp.path()).unwrap().unwrap();
        assert_eq!(
            cleanup_old_backups(tmp.path(), Duration::from_secs(3600)).unwrap(),
            0
        );
        assert!(ours.exists());
    }

    #[test]
    fn the_newest_good_backup_wins() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        fs::write(
            dir.join("t.json.auto.2025-01-01T00-00-00-000Z.bak"),
            b"{\"old\":1}",
        )
        .unwrap();
        fs::write(
            dir.join("t.json.auto.2025-02-01T00-00-00-000Z.bak"),
            b"{\"new\":1}",
        )
        .unwrap();
        fs::write(
            dir.join("t.json.auto.2025-03-01T00-00-00-000Z.bak"),
            b"{broken",
        )
        .unwrap();
        let parses = |b: &[u8]| serde_json::from_slice::<serde_json::Value>(b).is_ok();
        let (path, bytes) = newest_good_copy("t.json", dir, parses).unwrap();
        assert!(path.to_string_lossy().contains("2025-02-01"));
        assert_eq!(bytes, b"{\"new\":1}");
    }
}
