//! The manifest of a backup set: the size and SHA-256 of every file, with paths relative to
//! the `backups/` folder (`/`-separated), so a set moved to another folder or machine still
//! verifies. Hashing streams each file in constant memory.
//!
//! Everything is read through a handle on `backups/` ([`Dir`]): a symlinked `backups/`, a
//! symlinked `<kind>` folder or a symlink in a set is never followed (no hash oracle on
//! files outside).

use std::path::{Path, PathBuf};

use super::cancel::{cancelled, Cancel, CancelRead};
use super::restore::check_relative;
use super::{Meter, Progress};
use crate::error::{Code, Error, Result};
use crate::fsx::beneath::{Dir, Kind};
use crate::fsx::checksum::sha256_reader;

/// One file of a set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// What re-hashing a set found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verification {
    pub checked: u64,
    pub bytes: u64,
    /// Manifest paths with no file.
    pub missing: Vec<String>,
    /// Manifest paths whose size or hash differs.
    pub altered: Vec<String>,
}

/// Hash every file under each of `parts` (files or folders, relative to `backups_dir`);
/// parts that do not exist are skipped (a set without code has no `code/<id>`).
pub fn hash_parts(
    backups_dir: &Path,
    parts: &[String],
    cancel: &Cancel,
    report: &mut dyn FnMut(Progress),
) -> Result<Vec<Entry>> {
    let dir = Dir::open(backups_dir)?;
    let mut files = Vec::new();
    for part in parts {
        check_relative(part)?;
        collect_files(&dir, Path::new(part), &mut files)
            .map_err(|e| e.context(format!("Cannot list backup part {part}")))?;
    }
    // Sorted by the `/` path's bytes, the order both backends produce.
    files.sort_by_cached_key(|rel| slash_path(rel));
    let mut meter = Meter::new("hash", report);
    let mut entries = Vec::with_capacity(files.len());
    for rel in files {
        cancel.check(format!("Hashing {}", backups_dir.join(&rel).display()))?;
        let (size, sha256) = hash_one(&dir, &rel, cancel)?;
        meter.add(size);
        entries.push(Entry {
            path: slash_path(&rel),
            size,
            sha256,
        });
    }
    meter.finish();
    Ok(entries)
}

/// The size and SHA-256 of the regular file `rel` below `dir`, read through the handle; a
/// cancel stops it within one chunk (a large file hashes for seconds).
fn hash_one(dir: &Dir, rel: &Path, cancel: &Cancel) -> Result<(u64, String)> {
    let full = dir.path().join(rel);
    let context = || format!("Cannot hash {}", full.display());
    let mut file = dir.open_read(rel).map_err(|e| e.context(context()))?;
    let size = file.metadata().map_err(|e| Error::io(context(), e))?.len();
    let sha256 = sha256_reader(&mut CancelRead::new(&mut file, cancel)).map_err(|e| {
        if cancel.is_cancelled() {
            cancelled(context())
        } else {
            Error::io(context(), e)
        }
    })?;
    Ok((size, sha256))
}

/// The files of a set; a symlink, FIFO or device in it is refused (we made every member:
/// anything else was planted).
fn collect_files(dir: &Dir, rel: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    match dir.stat(rel)? {
        None => Ok(()),
        Some((Kind::Dir, _)) => {
            for (name, _) in dir.list(rel)? {
                collect_files(dir, &rel.join(name), out)?;
            }
            Ok(())
        }
        Some((Kind::File, _)) => {
            out.push(rel.to_path_buf());
            Ok(())
        }
        Some((kind, _)) => Err(Error::new(
            Code::PathEscape,
            format!(
                "Refusing backup member {}: a {}, not a file this package wrote",
                dir.path().join(rel).display(),
                kind.as_str()
            ),
        )),
    }
}

/// A relative path with `/` separators, on every platform.
pub(crate) fn slash_path(rel: &Path) -> String {
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

/// Re-hash every file of `entries` under `backups_dir` and name each missing or altered one.
/// A manifest path that is absolute or climbs out with `..` is refused (`EPATHESCAPE`):
/// verifying must not read files outside the backups folder. A cancel stops it (`ECANCELED`).
pub fn verify(
    backups_dir: &Path,
    entries: &[Entry],
    cancel: &Cancel,
    report: &mut dyn FnMut(Progress),
) -> Result<Verification> {
    let dir = Dir::open(backups_dir)?;
    let mut result = Verification::default();
    let mut meter = Meter::new("verify", report);
    for entry in entries {
        check_relative(&entry.path)?;
        let rel = Path::new(&entry.path);
        // A file that is not there is missing, one whose bytes differ is altered, and so is a
        // symlink on the way or at the member, a FIFO or a device (never read); a regular file
        // that cannot be read is neither: that failure is the answer (EIO, EACCES...).
        let refused = |e: &Error| matches!(e.code(), Code::PathEscape | Code::Os("EINVAL"));
        match dir.stat(rel) {
            Ok(None) => result.missing.push(entry.path.clone()),
            Ok(Some((Kind::File, len))) => {
                #[cfg(test)]
                tests::run_hook(&dir.path().join(rel));
                let same = match hash_one(&dir, rel, cancel) {
                    Ok((size, h)) => len == entry.size && size == len && h == entry.sha256,
                    Err(e) if refused(&e) => false,
                    Err(e) => return Err(e.context(format!("Cannot verify {}", entry.path))),
                };
                if !same {
                    result.altered.push(entry.path.clone());
                }
                result.bytes += len;
                meter.add(len);
            }
            Ok(Some(_)) => result.altered.push(entry.path.clone()),
            Err(e) if refused(&e) => result.altered.push(entry.path.clone()),
            Err(e) => return Err(e),
        }
        result.checked += 1;
    }
    meter.finish();
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::fs;

    type Hook = Box<dyn FnMut(&Path)>;

    thread_local! {
        /// Run by [`verify`] on this thread between a member's `stat` (a regular file) and its
        /// hashing: lets a test swap the member at exactly that instant.
        static AFTER_STAT: Cell<Option<Hook>> = const { Cell::new(None) };
    }

    pub(super) fn run_hook(path: &Path) {
        AFTER_STAT.with(|cell| {
            if let Some(mut hook) = cell.take() {
                hook(path);
                cell.set(Some(hook));
            }
        });
    }

    /// One file `set/a` hashed, then verified with `swap` run between its stat and its read.
    #[cfg(unix)]
    fn verify_swapped(swap: impl FnMut(&Path) + 'static) -> Result<Verification> {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir(tmp.path().join("set")).unwrap();
        fs::write(tmp.path().join("set/a"), "a").unwrap();
        let entries = hash_parts(tmp.path(), &["set".into()], &Cancel::new(), &mut |_| {}).unwrap();
        AFTER_STAT.with(|cell| cell.set(Some(Box::new(swap))));
        let result = verify(tmp.path(), &entries, &Cancel::new(), &mut |_| {});
        AFTER_STAT.with(|cell| cell.set(None));
        result
    }

    /// A member made a symlink or a FIFO after its stat is altered (never read); one that
    /// cannot be read for another reason (gone after its stat: ENOENT) is an error that names
    /// it, not a verdict on the set.
    #[cfg(unix)]
    #[test]
    fn a_member_swapped_before_its_read_is_altered_other_failures_are_errors() {
        let to_link = |p: &Path| {
            fs::remove_file(p).unwrap();
            std::os::unix::fs::symlink("/etc/hostname", p).unwrap();
        };
        assert_eq!(verify_swapped(to_link).unwrap().altered, ["set/a"]);
        let to_dir = |p: &Path| {
            fs::remove_file(p).unwrap();
            fs::create_dir(p).unwrap();
        };
        assert_eq!(verify_swapped(to_dir).unwrap().altered, ["set/a"]);
        let gone = |p: &Path| fs::remove_file(p).unwrap();
        let err = verify_swapped(gone).unwrap_err();
        assert_eq!(err.code().as_str(), "ENOENT", "{err}");
        assert!(err.message().contains("Cannot verify set/a"), "{err}");
    }

    /// A symlink on the way to a member is altered; a path the OS cannot look up at all (a
    /// name longer than any file system allows) is an error.
    #[cfg(unix)]
    #[test]
    fn a_link_on_the_way_is_altered_an_impossible_lookup_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("real")).unwrap();
        fs::write(tmp.path().join("real/a"), "a").unwrap();
        std::os::unix::fs::symlink("real", tmp.path().join("set")).unwrap();
        let entry = |path: String| Entry {
            path,
            size: 1,
            sha256: crate::fsx::sha256_file(&tmp.path().join("real/a")).unwrap(),
        };
        let v = verify(
            tmp.path(),
            &[entry("set/a".into())],
            &Cancel::new(),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(
            (v.altered, v.missing, v.checked),
            (vec!["set/a".to_string()], vec![], 1)
        );
        let long = format!("real/{}", "x".repeat(300));
        let err = verify(tmp.path(), &[entry(long)], &Cancel::new(), &mut |_| {}).unwrap_err();
        assert_eq!(err.code().as_str(), "ENAMETOOLONG", "{err}");
    }

    #[test]
    fn a_flipped_byte_and_a_removed_file_are_named() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path();
        fs::create_dir_all(base.join("config/x")).unwrap();
        fs::create_dir_all(base.join("full")).unwrap();
        fs::write(base.join("config/x/a.json"), "{}").unwrap();
        fs::write(base.join("config/x/b.json"), "[]").unwrap();
        fs::write(base.join("full/x.tar.gz"), vec![1u8; 1000]).unwrap();
        let parts = [
            "config/x".to_string(),
            "full/x.tar.gz".into(),
            "code/x".into(),
        ];
        let entries = hash_parts(base, &parts, &Cancel::new(), &mut |_| {}).unwrap();
        let paths: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            ["config/x/a.json", "config/x/b.json", "full/x.tar.gz"]
        );
        let v = verify(base, &entries, &Cancel::new(), &mut |_| {}).unwrap();
        assert_eq!((v.altered.len(), v.checked, v.bytes), (0, 3, 1004));

        let mut bytes = fs::read(base.join("full/x.tar.gz")).unwrap();
        bytes[500] ^= 1;
        fs::write(base.join("full/x.tar.gz"), bytes).unwrap();
        fs::remove_file(base.join("config/x/b.json")).unwrap();
        let v = verify(base, &entries, &Cancel::new(), &mut |_| {}).unwrap();
        assert_eq!(v.altered, ["full/x.tar.gz"]);
        assert_eq!(v.missing, ["config/x/b.json"]);
        assert_eq!(v.checked, 3);
    }

    #[test]
    fn manifest_paths_leading_out_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let bad = Entry {
            path: "../outside".into(),
            size: 0,
            sha256: String::new(),
        };
        let err = verify(tmp.path(), &[bad], &Cancel::new(), &mut |_| {}).unwrap_err();
        assert_eq!(err.code().as_str(), "EPATHESCAPE");
    }
}
