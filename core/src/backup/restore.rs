//! Putting backed-up files back, only ever inside the project root.
//!
//! Legacy trusted the `original` paths of `config-info.json`: `../../x` or an absolute path
//! wrote anywhere. Here a path must be relative, free of `..`, and its deepest existing
//! ancestor must resolve (symlinks followed) inside the root; otherwise `EPATHESCAPE`.
//! The current file is kept as `<file>.pre-restore.<ms>` before it is replaced.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use super::sqlite;
use crate::error::{check_path, Code, Error, Result};
use crate::fsx::{atomic_write, WriteOptions};
use crate::time;

/// What a restore of one file did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    pub target: PathBuf,
    /// The previous content's copy, when there was a previous file.
    pub previous: Option<PathBuf>,
}

fn escape(text: &str, why: &str) -> Error {
    Error::new(Code::PathEscape, format!("Refusing path {text}: {why}"))
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

/// `root/original`, after checking that it resolves inside `root`.
pub fn contained_path(root: &Path, original: &str) -> Result<PathBuf> {
    check_relative(original)?;
    let real_root = fs::canonicalize(root)
        .map_err(|e| Error::io(format!("Cannot use root {}", root.display()), e))?;
    let target = real_root.join(original);
    // The deepest part that exists decides where the path really goes (a symlinked folder
    // or file on the way may lead out); what does not exist yet is plain names below it.
    let mut probe = target.as_path();
    loop {
        match fs::canonicalize(probe) {
            Ok(real) => {
                if !real.starts_with(&real_root) {
                    return Err(escape(
                        original,
                        &format!(
                            "it resolves to {} outside {}",
                            real.display(),
                            real_root.display()
                        ),
                    ));
                }
                break;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // A dangling symlink resolves nowhere: refuse rather than write through it.
                if fs::symlink_metadata(probe).is_ok() {
                    return Err(escape(original, "it goes through a dangling symbolic link"));
                }
                match probe.parent() {
                    Some(parent) => probe = parent,
                    None => break,
                }
            }
            Err(e) => return Err(Error::io(format!("Cannot resolve {original}"), e)),
        }
    }
    Ok(target)
}

/// Keep the current `target` as `<target>.pre-restore.<ms>` (`None` when there is none).
fn keep_previous(
    target: &Path,
    copy: impl Fn(&Path, &Path) -> Result<()>,
) -> Result<Option<PathBuf>> {
    if fs::symlink_metadata(target).is_err() {
        return Ok(None);
    }
    let mut name = target.as_os_str().to_owned();
    name.push(format!(".pre-restore.{}", time::now_ms()));
    let previous = PathBuf::from(name);
    copy(target, &previous)?;
    Ok(Some(previous))
}

/// Restore the file `source` to `root/original` with an atomic write.
pub fn restore_file(root: &Path, original: &str, source: &Path) -> Result<Restored> {
    let target = contained_path(root, original)?;
    let data = fs::read(source)
        .map_err(|e| Error::io(format!("Cannot read backup {}", source.display()), e))?;
    if let Some(dir) = target.parent() {
        fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("Cannot create {}", dir.display()), e))?;
    }
    let previous = keep_previous(&target, |from, to| {
        fs::copy(from, to)
            .map(|_| ())
            .map_err(|e| Error::io(format!("Cannot keep {}", from.display()), e))
    })?;
    atomic_write(&target, &data, WriteOptions::default())?;
    Ok(Restored { target, previous })
}

/// Restore a database to `root/original`: through SQLite's backup API when both sides are
/// SQLite (a live database stays consistent for its readers), else an atomic byte write.
pub fn restore_database(root: &Path, original: &str, source: &Path) -> Result<Restored> {
    let target = contained_path(root, original)?;
    let sqlite_both = sqlite::is_sqlite(source) && (!target.exists() || sqlite::is_sqlite(&target));
    if !sqlite_both {
        return restore_file(root, original, source);
    }
    if let Some(dir) = target.parent() {
        fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("Cannot create {}", dir.display()), e))?;
    }
    let previous = keep_previous(&target, |from, to| {
        sqlite::copy_database(from, to).map(|_| ())
    })?;
    sqlite::restore_database(source, &target)?;
    Ok(Restored { target, previous })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_leading_out_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        fs::create_dir(&root).unwrap();
        for bad in ["../../outside", "/etc/passwd", "a/../../b", "..", ""] {
            let err = contained_path(&root, bad).unwrap_err();
            let expected = if bad.is_empty() {
                "EBADPATH"
            } else {
                "EPATHESCAPE"
            };
            assert_eq!(err.code().as_str(), expected, "{bad}");
        }
        assert!(contained_path(&root, "a/new/file.json")
            .unwrap()
            .starts_with(fs::canonicalize(&root).unwrap()));
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_leading_out_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        let outside = tmp.path().join("outside");
        fs::create_dir_all(&root).unwrap();
        fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("link")).unwrap();
        std::os::unix::fs::symlink(outside.join("f"), root.join("dangling")).unwrap();
        std::os::unix::fs::symlink(root.join("inner"), root.join("ok")).unwrap();
        fs::create_dir(root.join("inner")).unwrap();
        assert_eq!(
            contained_path(&root, "link/x").unwrap_err().code(),
            Code::PathEscape
        );
        assert_eq!(
            contained_path(&root, "dangling").unwrap_err().code(),
            Code::PathEscape
        );
        assert!(contained_path(&root, "ok/x").is_ok());
        let src = tmp.path().join("src");
        fs::write(&src, "new").unwrap();
        assert!(restore_file(&root, "link/x", &src).is_err());
        assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);
    }

    #[test]
    fn restore_keeps_the_previous_file() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        fs::write(root.join(".env"), "OLD").unwrap();
        let src = root.join("saved");
        fs::write(&src, "NEW").unwrap();
        let done = restore_file(root, ".env", &src).unwrap();
        assert_eq!(fs::read_to_string(root.join(".env")).unwrap(), "NEW");
        assert_eq!(fs::read_to_string(done.previous.unwrap()).unwrap(), "OLD");
    }
}
