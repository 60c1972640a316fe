//! The manifest of a backup set: the size and SHA-256 of every file, with paths relative to
//! the `backups/` folder (`/`-separated), so a set moved to another folder or machine still
//! verifies. Hashing streams each file in constant memory.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::cancel::Cancel;
use super::restore::check_relative;
use super::{Meter, Progress};
use crate::error::{Error, Result};
use crate::fsx::sha256_file;

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
    let mut files = Vec::new();
    for part in parts {
        check_relative(part)?;
        collect_files(backups_dir, Path::new(part), &mut files)
            .map_err(|e| Error::io(format!("Cannot list backup part {part}"), e))?;
    }
    // Sorted by the `/` path's bytes, the order both backends produce.
    files.sort_by_cached_key(|rel| slash_path(rel));
    let mut meter = Meter::new("hash", report);
    let mut entries = Vec::with_capacity(files.len());
    for rel in files {
        let full = backups_dir.join(&rel);
        cancel.check(format!("Hashing {}", full.display()))?;
        let size = fs::metadata(&full)
            .map_err(|e| Error::io(format!("Cannot hash {}", full.display()), e))?
            .len();
        let sha256 = sha256_file(&full)
            .map_err(|e| Error::io(format!("Cannot hash {}", full.display()), e))?;
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

fn collect_files(base: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    let meta = match fs::symlink_metadata(base.join(rel)) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if meta.is_dir() {
        for entry in fs::read_dir(base.join(rel))? {
            collect_files(base, &rel.join(entry?.file_name()), out)?;
        }
    } else if meta.is_file() {
        out.push(rel.to_path_buf());
    }
    Ok(())
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
/// verifying must not read files outside the backups folder.
pub fn verify(
    backups_dir: &Path,
    entries: &[Entry],
    report: &mut dyn FnMut(Progress),
) -> Result<Verification> {
    let mut result = Verification::default();
    let mut meter = Meter::new("verify", report);
    for entry in entries {
        check_relative(&entry.path)?;
        let full = backups_dir.join(&entry.path);
        // A file that is not there is missing, one whose bytes differ is altered; a file that
        // cannot be read is neither: that failure is the answer (EIO, EACCES...), with its path.
        let cannot = |e| Error::io(format!("Cannot verify {}", full.display()), e);
        match fs::metadata(&full) {
            Ok(meta) if meta.is_file() => {
                let same =
                    meta.len() == entry.size && sha256_file(&full).map_err(cannot)? == entry.sha256;
                if !same {
                    result.altered.push(entry.path.clone());
                }
                result.bytes += meta.len();
                meter.add(meta.len());
            }
            Ok(_) => result.altered.push(entry.path.clone()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                result.missing.push(entry.path.clone())
            }
            Err(e) => return Err(cannot(e)),
        }
        result.checked += 1;
    }
    meter.finish();
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(
            verify(base, &entries, &mut |_| {}).unwrap().altered.len(),
            0
        );

        let mut bytes = fs::read(base.join("full/x.tar.gz")).unwrap();
        bytes[500] ^= 1;
        fs::write(base.join("full/x.tar.gz"), bytes).unwrap();
        fs::remove_file(base.join("config/x/b.json")).unwrap();
        let v = verify(base, &entries, &mut |_| {}).unwrap();
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
        let err = verify(tmp.path(), &[bad], &mut |_| {}).unwrap_err();
        assert_eq!(err.code().as_str(), "EPATHESCAPE");
    }
}
