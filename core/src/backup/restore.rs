//! Putting backed-up files back, only ever inside the project root.
//!
//! Legacy trusted the `original` paths of `config-info.json`: `../../x` or an absolute path
//! wrote anywhere. Here a path must be relative and free of `..`, must not lead into `.git/`
//! (any depth: a planted `core.fsmonitor` runs a command) or `backups/`, and is resolved from
//! a handle on the root without following any symlink ([`Dir`]); otherwise `EPATHESCAPE`.
//! The write itself goes through the held parent folder (temp + rename in it): there is no
//! check followed by a path-based write that a folder swapped for a symlink could win.
//! Sources are read the same way below the root, so a symlink in a backup set is never
//! followed. The current file is kept in `backups/pre-restore/<ms>-<pid>-<n>/<original>`, created
//! exclusively (never beside the target in the work tree, where `git add -A` would take it).

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::path::{Component, Path, PathBuf};

use super::sqlite;
use crate::error::{check_path, Code, Error, Result};
use crate::fsx::beneath::{Dir, Kind};
use crate::time;

/// What a restore of one file did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    pub target: PathBuf,
    /// The previous content's copy, when there was a previous file.
    pub previous: Option<PathBuf>,
}

/// Where pre-restore copies go, below the root.
pub const PREVIOUS_DIR: &str = "backups/pre-restore";

fn escape(text: &str, why: &str) -> Error {
    Error::new(Code::PathEscape, format!("Refusing path {text}: {why}"))
}

/// A name as Windows and macOS compare it: case-folded, trailing dots and spaces dropped
/// (`.GIT`, `.git.` and `.git ` all name `.git` there).
fn folded(name: &OsStr) -> String {
    name.to_string_lossy()
        .trim_end_matches(['.', ' '])
        .to_ascii_lowercase()
}

/// A path that stays where it is joined: relative, and without `..` components.
pub fn check_relative(text: &str) -> Result<()> {
    check_path("path", Path::new(text))?;
    let path = Path::new(text);
    if path.has_root() || path.is_absolute() || text.starts_with('/') || text.starts_with('\\') {
        return Err(escape(text, "absolute paths are not restored"));
    }
    for component in path.components() {
        match component {
            Component::ParentDir => return Err(escape(text, "it leads out with '..'")),
            Component::Prefix(_) | Component::RootDir => {
                return Err(escape(text, "absolute paths are not restored"))
            }
            _ => {}
        }
    }
    Ok(())
}

/// A restore target: relative, no `..`, not in `.git/` (any depth) nor `backups/`.
pub fn check_target(text: &str) -> Result<()> {
    check_relative(text)?;
    let names: Vec<String> = Path::new(text)
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(folded(n)),
            _ => None,
        })
        .collect();
    if names.iter().any(|n| n == ".git") {
        return Err(escape(text, "files in .git/ are never restored"));
    }
    if names.first().is_some_and(|n| n == "backups") {
        return Err(escape(text, "files in backups/ are never restored"));
    }
    if names.is_empty() {
        return Err(escape(text, "it names the root itself"));
    }
    Ok(())
}

/// `root/original` after checking that it is a restore target resolving inside `root`
/// with no symlink on the way (what exists of it: the rest is created by the restore).
pub fn contained_path(root: &Path, original: &str) -> Result<PathBuf> {
    check_target(original)?;
    let dir = Dir::open(root)?;
    let rel = Path::new(original);
    // each existing folder on the way must be a real one; the last name may be missing
    let mut at = PathBuf::new();
    for c in rel.components() {
        at.push(c);
        match dir.stat(&at)? {
            None => break,
            Some((Kind::Symlink, _)) => {
                return Err(escape(original, "it goes through a symbolic link"))
            }
            Some(_) => {}
        }
    }
    Ok(root.join(rel))
}

/// `source` relative to `root` when it is below it (how a backup set is found).
fn below<'a>(root: &Path, source: &'a Path) -> Option<&'a Path> {
    source
        .strip_prefix(root)
        .ok()
        .filter(|r| !r.as_os_str().is_empty())
}

/// The held folder of the backup `source` and its name, reached without a link: below the
/// root's handle when it is inside the root (a symlinked `backups/`, kind folder or set is
/// refused), else its own folder.
fn source_dir<'a>(root: &Path, source: &'a Path) -> Result<(Dir, &'a OsStr)> {
    let name = source
        .file_name()
        .ok_or_else(|| escape(&source.display().to_string(), "it names no file"))?;
    let parent = source.parent().unwrap_or(Path::new("."));
    let dir = match below(root, parent) {
        Some(rel) => Dir::open(root)?.sub(rel, false)?,
        None => Dir::open(parent)?,
    };
    Ok((dir, name))
}

/// Open the backup `source` for reading: a regular file, never a link.
fn open_source(root: &Path, source: &Path) -> Result<File> {
    let context = || format!("Cannot read backup {}", source.display());
    source_dir(root, source)
        .and_then(|(dir, name)| dir.open_read(Path::new(name)))
        .map_err(|e| e.context(context()))
}

/// The held parent of `root/original` (created as needed) and the target's name; refused
/// when the target is a symlink or not a regular file.
fn target_parent<'a>(root: &Dir, original: &'a str) -> Result<(Dir, &'a OsStr, Option<u64>)> {
    let rel = Path::new(original);
    let name = rel
        .file_name()
        .ok_or_else(|| escape(original, "it names no file"))?;
    let parent = root.sub(rel.parent().unwrap_or(Path::new("")), true)?;
    let existing = match parent.stat(Path::new(name))? {
        None => None,
        Some((Kind::File, len)) => Some(len),
        Some((Kind::Symlink, _)) => return Err(escape(original, "it is a symbolic link")),
        Some((kind, _)) => {
            return Err(escape(
                original,
                &format!("it is a {}, not a regular file", kind.as_str()),
            ))
        }
    };
    Ok((parent, name, existing))
}

/// A new held `backups/pre-restore/<ms>-<pid>-<n>` folder (0700) and its path.
fn previous_dir(root: &Dir) -> Result<(Dir, PathBuf)> {
    let backups = root.sub(Path::new("backups"), true)?;
    backups.make_private()?;
    // one new folder per kept file: two restores of one file in the same millisecond must
    // not collide (the copy is created exclusively)
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let stamp = format!("{}-{}-{seq}", time::now_ms(), std::process::id());
    let rel = Path::new("pre-restore").join(stamp);
    let dir = backups.sub(&rel, true)?;
    let path = dir.path().to_path_buf();
    Ok((dir, path))
}

/// Copy the current target (read through its held parent) to a new file in
/// `backups/pre-restore/<ms>-<pid>-<n>/<original>`, created `O_CREAT | O_EXCL | O_NOFOLLOW`.
/// A database is copied through SQLite (consistent even while in use) into that new folder.
fn keep_previous(root: &Dir, parent: &Dir, name: &OsStr, original: &str) -> Result<PathBuf> {
    let (keep, keep_path) = previous_dir(root)?;
    let context = || format!("Cannot keep {}", parent.path().join(name).display());
    let mut from = parent
        .open_read(Path::new(name))
        .map_err(|e| e.context(context()))?;
    let mut to = keep.create_new(Path::new(original), true)?;
    io::copy(&mut from, &mut to)
        .and_then(|_| to.sync_all())
        .map_err(|e| Error::io(context(), e))?;
    Ok(keep_path.join(original))
}

/// The consistent copy of the database `current` (a scratch copy of the live one) in
/// `backups/pre-restore/<ms>-<pid>-<n>/`: SQLite makes it in `scratch`, and it goes in
/// through the held folders.
fn keep_previous_database(
    root: &Dir,
    scratch: &Dir,
    current: &Path,
    original: &str,
) -> Result<PathBuf> {
    let (keep, keep_path) = previous_dir(root)?;
    let kept = scratch.path().join(KEPT);
    // restore runs on the caller's thread: nothing can cancel it midway (a new token)
    sqlite::copy_database(current, &kept, &super::cancel::Cancel::new())?;
    scratch.copy_to(Path::new(KEPT), &keep, Path::new(original))?;
    Ok(keep_path.join(original))
}

/// Names in a restore's scratch folder: the backup, the live database's bytes (and its
/// journal or WAL, so that SQLite there sees what its users saw), the copy kept, the result.
const BACKUP: &str = "backup.sqlite";
const CURRENT: &str = "current.sqlite";
const KEPT: &str = "kept.sqlite";
const RESTORED: &str = "restored.sqlite";

/// What SQLite keeps beside a database: a hot journal or WAL of the database being replaced
/// would be played into the restored one by its next user, so they go with it.
const SIDECARS: [&str; 3] = ["-journal", "-wal", "-shm"];

fn sidecar(name: &OsStr, suffix: &str) -> std::ffi::OsString {
    let mut side = name.to_os_string();
    side.push(suffix);
    side
}

/// Copy the live database `name` of the held `parent` (and its journal and WAL) into
/// `scratch` as `CURRENT`, through the held folders.
fn copy_current(parent: &Dir, name: &OsStr, scratch: &Dir) -> Result<()> {
    parent.copy_to(Path::new(name), scratch, Path::new(CURRENT))?;
    for suffix in ["-journal", "-wal"] {
        let side = sidecar(name, suffix);
        if let Some((Kind::File, _)) = parent.stat(Path::new(&side))? {
            parent.copy_to(
                Path::new(&side),
                scratch,
                Path::new(&format!("{CURRENT}{suffix}")),
            )?;
        }
    }
    Ok(())
}

/// Restore the file `source` to `root/original` with an atomic write in the held folder.
pub fn restore_file(root: &Path, original: &str, source: &Path) -> Result<Restored> {
    check_target(original)?;
    let mut from = open_source(root, source)?;
    let mut data = Vec::new();
    io::Read::read_to_end(&mut from, &mut data)
        .map_err(|e| Error::io(format!("Cannot read backup {}", source.display()), e))?;
    let dir = Dir::open(root)?;
    let (parent, name, existing) = target_parent(&dir, original)?;
    let previous = match existing {
        Some(_) => Some(keep_previous(&dir, &parent, name, original)?),
        None => None,
    };
    parent.write_atomic(Path::new(name), &data, true)?;
    Ok(Restored {
        target: root.join(original),
        previous,
    })
}

/// Restore a database to `root/original`: when both sides are SQLite, the backup's pages go
/// through SQLite's backup API into a fresh database, which replaces the target atomically
/// (a user holding the old file open keeps reading the old content, never a mix); else an
/// atomic byte write. SQLite works only in a private scratch folder (crate::fsx::scratch
/// says why): the backup and the live database are copied there, and the result and the
/// kept copy go back, through the held folders alone.
pub fn restore_database(root: &Path, original: &str, source: &Path) -> Result<Restored> {
    check_target(original)?;
    let (source_dir, source_name) = source_dir(root, source)?;
    let dir = Dir::open(root)?;
    let (parent, name, existing) = target_parent(&dir, original)?;
    let scratch_guard = crate::fsx::scratch::new()?;
    let scratch = Dir::open(scratch_guard.path())?;
    let at = |file: &str| scratch_guard.path().join(file);
    source_dir
        .copy_to(Path::new(source_name), &scratch, Path::new(BACKUP))
        .map_err(|e| e.context(format!("Cannot read backup {}", source.display())))?;
    if existing.is_some() {
        copy_current(&parent, name, &scratch)?;
    }
    let sqlite_both =
        sqlite::is_sqlite(&at(BACKUP)) && (existing.is_none() || sqlite::is_sqlite(&at(CURRENT)));
    if !sqlite_both {
        return restore_file(root, original, source);
    }
    let previous = match existing {
        Some(_) => Some(keep_previous_database(
            &dir,
            &scratch,
            &at(CURRENT),
            original,
        )?),
        None => None,
    };
    sqlite::restore_database(&at(BACKUP), &at(RESTORED))?;
    let mut restored = scratch.open_read(Path::new(RESTORED))?;
    for suffix in SIDECARS {
        parent.remove(Path::new(&sidecar(name, suffix)))?;
    }
    parent.replace_from(Path::new(name), &mut restored, true)?;
    Ok(Restored {
        target: root.join(original),
        previous,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn paths_leading_out_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        fs::create_dir(&root).unwrap();
        for bad in [
            "../../outside",
            "/etc/passwd",
            "a/../../b",
            "..",
            ".git/config",
            "sub/.git/hooks/pre-commit",
            ".GIT/config",
            ".git./config",
            "backups/state/x",
            "Backups/x",
        ] {
            let err = contained_path(&root, bad).unwrap_err();
            assert_eq!(err.code().as_str(), "EPATHESCAPE", "{bad}");
        }
        assert_eq!(
            contained_path(&root, "").unwrap_err().code().as_str(),
            "EBADPATH"
        );
        assert!(contained_path(&root, "a/new/file.json")
            .unwrap()
            .starts_with(&root));
        assert!(contained_path(&root, "src/backups/x").is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_on_the_way_are_refused_even_inside_the_root() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        let outside = tmp.path().join("outside");
        fs::create_dir_all(&root).unwrap();
        fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("link")).unwrap();
        std::os::unix::fs::symlink(outside.join("f"), root.join("dangling")).unwrap();
        fs::create_dir(root.join("inner")).unwrap();
        std::os::unix::fs::symlink(root.join("inner"), root.join("ok")).unwrap();
        for bad in ["link/x", "dangling", "ok/x"] {
            assert_eq!(
                contained_path(&root, bad).unwrap_err().code(),
                Code::PathEscape,
                "{bad}"
            );
        }
        let src = root.join("src");
        fs::write(&src, "new").unwrap();
        for bad in ["link/x", "dangling", "ok/x"] {
            assert!(restore_file(&root, bad, &src).is_err(), "{bad}");
        }
        assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);
        assert_eq!(fs::read_dir(root.join("inner")).unwrap().count(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_source_is_never_read() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        fs::create_dir_all(root.join("backups/config/x")).unwrap();
        fs::write(tmp.path().join("secret"), "SECRET").unwrap();
        let src = root.join("backups/config/x/.env");
        std::os::unix::fs::symlink(tmp.path().join("secret"), &src).unwrap();
        assert_eq!(
            restore_file(&root, ".env", &src).unwrap_err().code(),
            Code::PathEscape
        );
        assert!(!root.join(".env").exists());
        // a symlinked kind folder
        fs::remove_dir_all(root.join("backups/config")).unwrap();
        fs::create_dir_all(tmp.path().join("elsewhere/x")).unwrap();
        fs::write(tmp.path().join("elsewhere/x/.env"), "OUT").unwrap();
        std::os::unix::fs::symlink(tmp.path().join("elsewhere"), root.join("backups/config"))
            .unwrap();
        assert_eq!(
            restore_file(&root, ".env", &src).unwrap_err().code(),
            Code::PathEscape
        );
        assert!(!root.join(".env").exists());
    }

    #[test]
    fn restore_keeps_the_previous_file_in_backups() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        fs::write(root.join(".env"), "OLD").unwrap();
        let src = root.join("saved");
        fs::write(&src, "NEW").unwrap();
        let done = restore_file(root, ".env", &src).unwrap();
        assert_eq!(fs::read_to_string(root.join(".env")).unwrap(), "NEW");
        let previous = done.previous.unwrap();
        assert!(
            previous.starts_with(root.join(PREVIOUS_DIR)),
            "{}",
            previous.display()
        );
        assert_eq!(fs::read_to_string(previous).unwrap(), "OLD");
        let beside: Vec<_> = fs::read_dir(root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("pre-restore"))
            .collect();
        assert!(beside.is_empty(), "{beside:?}");
    }

    /// A path starting with a backslash is absolute on Windows: refused everywhere, so a
    /// config written there restores nowhere else.
    #[test]
    fn a_leading_backslash_is_refused_as_absolute() {
        for bad in ["\\x", "\\\\server\\share\\x"] {
            let err = check_relative(bad).unwrap_err();
            assert_eq!(err.code(), Code::PathEscape, "{bad}");
            assert!(err.message().contains("absolute"), "{err}");
        }
        assert!(
            check_relative("a\\b").is_ok(),
            "a backslash inside is a plain name here"
        );
    }

    /// A "database" backup that is not SQLite (a JSON store, say) is restored as its bytes.
    #[test]
    fn a_database_that_is_not_sqlite_is_restored_as_bytes() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        fs::write(root.join("saved.db"), "{\"plain\": true}").unwrap();
        let done = restore_database(root, "data/app.db", &root.join("saved.db")).unwrap();
        assert_eq!(done.previous, None);
        assert_eq!(
            fs::read_to_string(root.join("data/app.db")).unwrap(),
            "{\"plain\": true}"
        );
    }

    /// A database restored over a database goes in place, and keeps the previous one, as a
    /// readable database with its own rows, in backups/pre-restore/.
    #[cfg(unix)]
    #[test]
    fn a_database_restored_over_one_keeps_the_previous_database() {
        use rusqlite::Connection;
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let make = |path: &Path, value: &str| {
            let conn = Connection::open(path).unwrap();
            conn.execute_batch("CREATE TABLE t (v TEXT)").unwrap();
            conn.execute("INSERT INTO t VALUES (?1)", [value]).unwrap();
        };
        let value_in = |path: &Path| -> String {
            Connection::open(path)
                .unwrap()
                .query_row("SELECT v FROM t", [], |r| r.get(0))
                .unwrap()
        };
        fs::create_dir(root.join("data")).unwrap();
        make(&root.join("data/app.db"), "old");
        make(&root.join("saved.db"), "new");
        // a reader with the database open: the restored database replaces the file
        // atomically, so the reader keeps the old content (never a mix); a new one reads the
        // new rows. A stale WAL beside the old file is not played into the new one.
        let reader = Connection::open(root.join("data/app.db")).unwrap();
        fs::write(root.join("data/app.db-wal"), b"stale").unwrap();
        let done = restore_database(root, "data/app.db", &root.join("saved.db")).unwrap();
        assert_eq!(value_in(&root.join("data/app.db")), "new");
        assert!(!root.join("data/app.db-wal").exists());
        let seen: String = reader
            .query_row("SELECT v FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(seen, "old");
        let previous = done.previous.unwrap();
        assert!(
            previous.starts_with(root.join(PREVIOUS_DIR)),
            "{}",
            previous.display()
        );
        assert!(previous.ends_with("data/app.db"), "{}", previous.display());
        assert_eq!(value_in(&previous), "old");
    }
}
