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

/// Names in a restore's scratch folder: the backup and the live database's bytes (and its
/// journal or WAL, so that SQLite there sees what its users saw) where SQLite cannot be
/// given held paths, the copy kept, the result.
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

/// Where SQLite does a database restore's work, and how bytes get to it and back.
///
/// Held (Linux): a 0700 folder `backups/sr-db-<owner>-<random>` in the held `backups/`;
/// SQLite reads the backup and the live database where they are and writes here, all through
/// held paths (super::sqlite_held), and the results go into place by `renameat` between held
/// folders (one file system: no copy; a copy when a mount point is on the way, `EXDEV`).
/// Else (macOS, Windows): a folder of the temp dir (crate::fsx::scratch says why), the
/// backup and the live database copied in, the results copied out, through held folders.
/// The folder is removed when this drops; one left by a killed process is swept by the next
/// create or cleanup (lib/js/scratch.js).
struct Workspace {
    dir: Dir,
    home: Home,
}

enum Home {
    /// In `backups/` (the held folder and the name, to remove it).
    Backups(Dir, std::ffi::OsString),
    Temp(#[allow(dead_code)] tempfile::TempDir),
}

impl Drop for Workspace {
    fn drop(&mut self) {
        if let Home::Backups(backups, name) = &self.home {
            let _ = backups.remove(Path::new(name));
        }
    }
}

impl Workspace {
    fn new(root: &Dir) -> Result<Workspace> {
        if super::sqlite_held::registered() {
            let backups = root.sub(Path::new("backups"), true)?;
            backups.make_private()?;
            let name = std::ffi::OsString::from(crate::fsx::scratch::name());
            let dir = backups.sub_new(&name)?;
            if super::sqlite_held::held_path(&dir, OsStr::new(BACKUP)).is_some() {
                return Ok(Workspace {
                    dir,
                    home: Home::Backups(backups, name),
                });
            }
            drop(dir);
            let _ = backups.remove(Path::new(&name));
        }
        let temp = crate::fsx::scratch::new()?;
        let dir = Dir::open(temp.path())?;
        Ok(Workspace {
            dir,
            home: Home::Temp(temp),
        })
    }

    fn held(&self) -> bool {
        matches!(self.home, Home::Backups(..))
    }

    /// The path SQLite is given for the entry `name` of this folder.
    fn path(&self, name: &str) -> PathBuf {
        match self.held() {
            true => self.dir.pinned_path(OsStr::new(name)),
            false => self.dir.path().join(name),
        }
    }

    /// The path SQLite may read the file `name` of the held `dir` at: that very file, held;
    /// else a copy here named `as_name` (with its journal and WAL when `sidecars`: a live
    /// database). A backup (`!sidecars`) is read in place only when nothing of SQLite's
    /// would be made or played beside it: rollback-journal mode (a WAL-mode file, as a legacy
    /// byte copy may be, needs a `-shm`) and no `-journal` there.
    fn readable(&self, dir: &Dir, name: &OsStr, as_name: &str, sidecars: bool) -> Result<PathBuf> {
        let in_place = sidecars
            || (Workspace::journal_mode(dir, name) == Some(1)
                && dir.stat(Path::new(&sidecar(name, "-journal")))?.is_none());
        if self.held() && in_place {
            return Ok(dir.pinned_path(name));
        }
        dir.copy_to(Path::new(name), &self.dir, Path::new(as_name))?;
        for suffix in ["-journal", "-wal"].iter().filter(|_| sidecars) {
            let side = sidecar(name, suffix);
            if let Some((Kind::File, _)) = dir.stat(Path::new(&side))? {
                let to = format!("{as_name}{suffix}");
                dir.copy_to(Path::new(&side), &self.dir, Path::new(&to))?;
            }
        }
        Ok(self.path(as_name))
    }

    /// Is the file `name` of `dir` a SQLite database (read through the held folder)?
    fn is_sqlite(dir: &Dir, name: &OsStr) -> bool {
        Workspace::journal_mode(dir, name).is_some()
    }

    /// The journal mode byte of the SQLite header of `name` (1 rollback, 2 WAL), if SQLite.
    fn journal_mode(dir: &Dir, name: &OsStr) -> Option<u8> {
        use std::io::Read;
        let mut file = dir.open_read(Path::new(name)).ok()?;
        let mut head = [0u8; 19];
        file.read_exact(&mut head).ok()?;
        head.starts_with(b"SQLite format 3\0").then_some(head[18])
    }

    /// Put the result `name` at `dest_rel` below `dest`: by rename when held (replacing
    /// what is there unless `exclusive`), else (or across file systems) by a copy; the file
    /// and the folders it left and entered are fsynced.
    fn put(&self, name: &str, dest: &Dir, dest_rel: &Path, exclusive: bool) -> Result<()> {
        let here = Path::new(name);
        self.dir.open_read(here)?.sync_all().map_err(|e| {
            Error::io(
                format!("Cannot sync {}", self.dir.path().join(name).display()),
                e,
            )
        })?;
        let (to, to_name) = match (dest_rel.parent(), dest_rel.file_name()) {
            (Some(parent), Some(file)) => (dest.sub(parent, true)?, file),
            _ => return Err(escape(&dest_rel.display().to_string(), "it names no file")),
        };
        if self.held() {
            #[cfg(target_os = "linux")]
            let moved = match exclusive {
                true => self.dir.rename_new(OsStr::new(name), &to, to_name),
                false => self.dir.rename_to(OsStr::new(name), &to, to_name),
            };
            #[cfg(not(target_os = "linux"))]
            let moved = self.dir.rename_to(OsStr::new(name), &to, to_name);
            match moved {
                Ok(()) => return to.sync().and_then(|()| self.dir.sync()),
                Err(e) if e.code() == Code::Os("EXDEV") => {}
                Err(e) => return Err(e),
            }
        }
        match exclusive {
            true => self.dir.copy_to(here, &to, Path::new(to_name)).map(|_| ()),
            false => to.replace_from(Path::new(to_name), &mut self.dir.open_read(here)?, true),
        }?;
        to.sync()
    }
}

/// Keep a consistent copy of the database SQLite reads at `current` in a new
/// `backups/pre-restore/<ms>-<pid>-<n>/<original>`: SQLite makes it in the workspace, and it
/// goes in through the held folders, never replacing anything there.
fn keep_previous_database(
    root: &Dir,
    work: &Workspace,
    current: &Path,
    original: &str,
) -> Result<PathBuf> {
    let (keep, keep_path) = previous_dir(root)?;
    // restore runs on the caller's thread: nothing can cancel it midway (a new token)
    sqlite::copy_database(current, &work.path(KEPT), &super::cancel::Cancel::new())?;
    work.put(KEPT, &keep, Path::new(original), true)?;
    Ok(keep_path.join(original))
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
/// atomic byte write. SQLite is never given a path looked up again ([`Workspace`]): on
/// Linux it reads and writes through held folders and the results move by rename; elsewhere
/// it works on copies in a private scratch folder.
pub fn restore_database(root: &Path, original: &str, source: &Path) -> Result<Restored> {
    check_target(original)?;
    let (source_dir, source_name) = source_dir(root, source)?;
    let dir = Dir::open(root)?;
    let (parent, name, existing) = target_parent(&dir, original)?;
    let sqlite_both = Workspace::is_sqlite(&source_dir, source_name)
        && (existing.is_none() || Workspace::is_sqlite(&parent, name));
    if !sqlite_both {
        return restore_file(root, original, source);
    }
    let work = Workspace::new(&dir)?;
    let backup = work
        .readable(&source_dir, source_name, BACKUP, false)
        .map_err(|e| e.context(format!("Cannot read backup {}", source.display())))?;
    let previous = match existing {
        Some(_) => {
            let current = work.readable(&parent, name, CURRENT, true)?;
            Some(keep_previous_database(&dir, &work, &current, original)?)
        }
        None => None,
    };
    // created 0600 here, empty (an empty file is an empty database to SQLite): the restored
    // database keeps that mode wherever it goes
    drop(work.dir.create_new(Path::new(RESTORED), false)?);
    sqlite::restore_database(&backup, &work.path(RESTORED))?;
    for suffix in SIDECARS {
        parent.remove(Path::new(&sidecar(name, suffix)))?;
    }
    work.put(RESTORED, &parent, Path::new(name), false)?;
    Ok(Restored {
        target: root.join(original),
        previous,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::names_in;
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

    /// Windows: a drive letter makes a path leave the root, even without a backslash after
    /// it (`C:x` is `x` in drive C's current folder), and so does a verbatim or device prefix.
    #[cfg(windows)]
    #[test]
    fn a_drive_or_device_prefix_is_refused_as_absolute() {
        for bad in [
            "C:x",
            "c:sub\\x",
            "C:\\x",
            "C:/x",
            "\\\\?\\C:\\x",
            "\\\\.\\pipe\\x",
        ] {
            let err = check_relative(bad).unwrap_err();
            assert_eq!(err.code(), Code::PathEscape, "{bad}");
            assert!(err.message().contains("absolute"), "{err}");
        }
        assert!(check_relative("sub\\x").is_ok());
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

    /// A backup in WAL mode (a legacy byte copy of a WAL database) is not opened where it is
    /// (SQLite would make a `-shm` beside it): restored all the same, its set folder left as
    /// it was, and no scratch folder left in backups/.
    #[cfg(unix)]
    #[test]
    fn a_wal_mode_backup_restores_and_leaves_its_set_folder_alone() {
        use rusqlite::Connection;
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let set = root.join("backups/database/set");
        fs::create_dir_all(&set).unwrap();
        let saved = set.join("app.db");
        {
            let conn = Connection::open(&saved).unwrap();
            conn.execute_batch(
                "PRAGMA journal_mode=WAL; CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('new')",
            )
            .unwrap();
        }
        assert_eq!(fs::read(&saved).unwrap()[18], 2, "a WAL-mode file");
        let before = names_in(&set);
        restore_database(root, "app.db", &saved).unwrap();
        let value: String = Connection::open(root.join("app.db"))
            .unwrap()
            .query_row("SELECT v FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(value, "new");
        assert_eq!(names_in(&set), before);
        let left: Vec<String> = names_in(&root.join("backups"))
            .into_iter()
            .filter(|n| n.starts_with(crate::fsx::scratch::PREFIX))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    /// A database restored over one whose WAL holds committed rows never checkpointed into
    /// it: that WAL is the old database's and goes (a byte copy beside it would have SQLite
    /// play the old rows over the restored pages); the old rows are kept with the previous
    /// database.
    #[cfg(unix)]
    #[test]
    fn a_live_wal_of_the_old_database_is_not_played_into_the_restored_one() {
        use rusqlite::Connection;
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        fs::create_dir(root.join("data")).unwrap();
        let live = root.join("data/app.db");
        let wal = root.join("data/app.db-wal");
        {
            let conn = Connection::open(&live).unwrap();
            conn.execute_batch(
                "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;
                 CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('old')",
            )
            .unwrap();
            // the files as a writer that never checkpointed leaves them (closing checkpoints)
            fs::copy(&live, root.join("kept-db")).unwrap();
            fs::copy(&wal, root.join("kept-wal")).unwrap();
        }
        fs::rename(root.join("kept-db"), &live).unwrap();
        fs::rename(root.join("kept-wal"), &wal).unwrap();
        {
            let conn = Connection::open(root.join("saved.db")).unwrap();
            conn.execute_batch("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('new')")
                .unwrap();
        }
        let done = restore_database(root, "data/app.db", &root.join("saved.db")).unwrap();
        let rows = |path: &Path| -> Vec<String> {
            let conn = Connection::open(path).unwrap();
            let mut stmt = conn.prepare("SELECT v FROM t").unwrap();
            let rows = stmt.query_map([], |r| r.get(0)).unwrap();
            rows.map(|r| r.unwrap()).collect()
        };
        assert_eq!(rows(&live), ["new"]);
        assert!(!wal.exists());
        assert_eq!(rows(&done.previous.unwrap()), ["old"]);
    }

    /// A file that reads as SQLite to `journal_mode`: the header's first 19 bytes, its
    /// write-version byte (18) saying rollback journal (1) or WAL (2).
    fn fake_database(path: &Path, mode: u8) {
        let mut head = b"SQLite format 3\0".to_vec();
        head.extend_from_slice(&[16, 0, mode, mode]);
        head.resize(100, 0);
        fs::write(path, head).unwrap();
    }

    /// On Linux SQLite is handed the backup and the live database where they are, through
    /// held paths (resolving to those very files), and nothing is copied into the
    /// workspace: a rollback-mode backup without a journal, and a live database whatever its
    /// mode (its WAL is its users', read where it is).
    #[cfg(target_os = "linux")]
    #[test]
    fn on_linux_sqlite_reads_the_backup_and_the_live_database_in_place() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        fs::create_dir_all(root.join("backups/database/set")).unwrap();
        fs::create_dir(root.join("data")).unwrap();
        fake_database(&root.join("backups/database/set/app.db"), 1);
        fake_database(&root.join("data/app.db"), 2);
        fs::write(root.join("data/app.db-wal"), "wal").unwrap();
        let dir = Dir::open(root).unwrap();
        let work = Workspace::new(&dir).unwrap();
        let set = dir.sub(Path::new("backups/database/set"), false).unwrap();
        let data = dir.sub(Path::new("data"), false).unwrap();
        let backup = work
            .readable(&set, OsStr::new("app.db"), BACKUP, false)
            .unwrap();
        let current = work
            .readable(&data, OsStr::new("app.db"), CURRENT, true)
            .unwrap();
        for (given, file) in [
            (&backup, "backups/database/set/app.db"),
            (&current, "data/app.db"),
        ] {
            assert!(given.starts_with("/proc/"), "{}", given.display());
            assert_eq!(
                fs::canonicalize(given).unwrap(),
                fs::canonicalize(root.join(file)).unwrap()
            );
        }
        assert!(names_in(work.dir.path()).is_empty());
    }

    /// Where SQLite cannot be given held paths (macOS, Windows: a workspace in the temp
    /// dir), it reads copies made in the workspace, never the files where they are; the
    /// live database's WAL is copied with it.
    #[test]
    fn a_workspace_in_the_temp_dir_reads_copies() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        fake_database(&root.join("saved.db"), 1);
        fake_database(&root.join("app.db"), 2);
        fs::write(root.join("app.db-wal"), "wal").unwrap();
        let temp = crate::fsx::scratch::new().unwrap();
        let work = Workspace {
            dir: Dir::open(temp.path()).unwrap(),
            home: Home::Temp(temp),
        };
        let dir = Dir::open(root).unwrap();
        let backup = work
            .readable(&dir, OsStr::new("saved.db"), BACKUP, false)
            .unwrap();
        let current = work
            .readable(&dir, OsStr::new("app.db"), CURRENT, true)
            .unwrap();
        assert_eq!(backup, work.dir.path().join(BACKUP));
        assert_eq!(current, work.dir.path().join(CURRENT));
        assert_eq!(
            fs::read(&backup).unwrap(),
            fs::read(root.join("saved.db")).unwrap()
        );
        assert_eq!(
            names_in(work.dir.path()),
            [BACKUP, CURRENT, "current.sqlite-wal"]
        );
    }

    /// A held workspace by hand: the folder `ws` of `parent`, removed on drop.
    #[cfg(unix)]
    fn held_workspace(parent: &Path) -> Workspace {
        fs::create_dir(parent.join("ws")).unwrap();
        Workspace {
            dir: Dir::open(&parent.join("ws")).unwrap(),
            home: Home::Backups(Dir::open(parent).unwrap(), "ws".into()),
        }
    }

    /// The results go into place by rename, and across file systems (a mount point between
    /// the workspace and the target: `EXDEV`) by a copy: here a workspace on tmpfs
    /// (/dev/shm) and the targets on the disk, a real cross-device rename.
    #[cfg(target_os = "linux")]
    #[test]
    fn results_cross_file_systems_by_a_copy() {
        use std::os::unix::fs::MetadataExt;
        let shm = Path::new("/dev/shm");
        let disk = tempfile::tempdir().unwrap();
        let other = match shm.is_dir() {
            true => tempfile::tempdir_in(shm).unwrap(),
            false => return eprintln!("skipped: no /dev/shm"),
        };
        let dev = |p: &Path| fs::metadata(p).unwrap().dev();
        if dev(other.path()) == dev(disk.path()) {
            return eprintln!("skipped: /dev/shm is on the same file system as the temp dir");
        }
        let work = held_workspace(other.path());
        fs::write(work.dir.path().join(RESTORED), "restored").unwrap();
        fs::write(work.dir.path().join(KEPT), "kept").unwrap();
        fs::create_dir(disk.path().join("data")).unwrap();
        fs::write(disk.path().join("data/app.db"), "old").unwrap();
        let dest = Dir::open(disk.path()).unwrap();
        work.put(RESTORED, &dest, Path::new("data/app.db"), false)
            .unwrap();
        work.put(KEPT, &dest, Path::new("keep/app.db"), true)
            .unwrap();
        let read = |rel: &str| fs::read_to_string(disk.path().join(rel)).unwrap();
        assert_eq!(read("data/app.db"), "restored");
        assert_eq!(read("keep/app.db"), "kept");
        assert_eq!(names_in(&disk.path().join("data")), ["app.db"]);
        drop(work);
        assert!(
            names_in(other.path()).is_empty(),
            "the workspace is removed"
        );
    }

    /// Any other failed move is reported as the move's failure (here a folder where the
    /// database goes: `EISDIR`), not retried as a copy; what is there is left as it was.
    #[cfg(unix)]
    #[test]
    fn a_move_refused_for_another_reason_is_reported_as_is() {
        let tmp = tempfile::tempdir().unwrap();
        let work = held_workspace(tmp.path());
        fs::write(work.dir.path().join(RESTORED), "restored").unwrap();
        let dest_path = tmp.path().join("dest");
        fs::create_dir_all(dest_path.join("app.db")).unwrap();
        fs::write(dest_path.join("app.db/inside"), "x").unwrap();
        let dest = Dir::open(&dest_path).unwrap();
        let err = work
            .put(RESTORED, &dest, Path::new("app.db"), false)
            .unwrap_err();
        assert_eq!(err.code().as_str(), "EISDIR", "{err}");
        assert!(err.message().starts_with("Cannot move "), "{err}");
        assert_eq!(names_in(&dest_path), ["app.db"]);
        assert_eq!(names_in(&dest_path.join("app.db")), ["inside"]);
    }
}
