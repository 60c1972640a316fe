//! The `full/<id>.tar.gz` archive of a project, written in Rust: files are streamed one at
//! a time through the tar writer and the gzip encoder into a temp file beside the target,
//! so memory stays bounded whatever the project size; the finished archive is fsynced and
//! renamed into place (a crash never leaves a truncated archive under the final name).
//!
//! Exclusions follow legacy `tar --exclude=<pattern>`: a pattern matches any path component
//! by name (`node_modules`, `.git`, `backups`), or by suffix when it starts with `*` (`*.log`).

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;

use super::{Meter, Progress};
use crate::error::{Error, Result};

/// The legacy exclusions.
pub const DEFAULT_EXCLUDES: &[&str] = &[
    "node_modules",
    "dist",
    "build",
    ".next",
    "*.log",
    "backups",
    ".git",
];

/// What went into an archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveStats {
    pub files: u64,
    pub bytes: u64,
}

/// True when a path component `name` is excluded by one of `patterns`.
pub fn is_excluded(name: &str, patterns: &[String]) -> bool {
    patterns.iter().any(|p| match p.strip_prefix('*') {
        Some(suffix) => name.ends_with(suffix),
        None => name == p,
    })
}

/// Write a gzip'd tar of `root` (minus `excludes`) to `dest`.
pub fn create_archive(
    root: &Path,
    dest: &Path,
    excludes: &[String],
    report: &mut dyn FnMut(Progress),
) -> Result<ArchiveStats> {
    let context = || format!("Archive of {} failed", root.display());
    let dir = crate::fsx::atomic::parent_dir(dest);
    let temp = tempfile::Builder::new()
        .prefix(".archive-")
        .suffix(".partial")
        .tempfile_in(dir)
        .map_err(|e| Error::io(context(), e))?;
    let mut meter = Meter::new("archive", report);
    let file = temp
        .as_file()
        .try_clone()
        .map_err(|e| Error::io(context(), e))?;
    let encoder = GzEncoder::new(
        BufWriter::with_capacity(1 << 20, file),
        Compression::default(),
    );
    let mut builder = tar::Builder::new(encoder);
    builder.follow_symlinks(false);
    builder.mode(tar::HeaderMode::Complete);
    let mut pending = vec![PathBuf::new()];
    // Depth-first over directories, each listed in name order, so that two archives of the
    // same tree list their entries alike.
    while let Some(rel) = pending.pop() {
        let full = root.join(&rel);
        let mut names: Vec<_> = fs::read_dir(&full)
            .map_err(|e| Error::io(format!("{}: cannot read {}", context(), full.display()), e))?
            .filter_map(|entry| entry.ok().map(|e| e.file_name()))
            .collect();
        names.sort();
        for name in names.into_iter().rev() {
            if is_excluded(&name.to_string_lossy(), excludes) {
                continue;
            }
            let rel_child = rel.join(&name);
            let full_child = root.join(&rel_child);
            let meta = match fs::symlink_metadata(&full_child) {
                Ok(m) => m,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue, // removed meanwhile
                Err(e) => return Err(Error::io(context(), e)),
            };
            if meta.is_dir() {
                builder.append_dir(&rel_child, &full_child).map_err(|e| {
                    Error::io(format!("{}: {}", context(), full_child.display()), e)
                })?;
                pending.push(rel_child);
            } else if meta.is_file() || meta.file_type().is_symlink() {
                match builder.append_path_with_name(&full_child, &rel_child) {
                    Ok(()) => meter.add(if meta.is_file() { meta.len() } else { 0 }),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(Error::io(
                            format!("{}: {}", context(), full_child.display()),
                            e,
                        ))
                    }
                }
            }
            // sockets, fifos and devices are not project content: skipped, as GNU tar warns
        }
    }
    let encoder = builder.into_inner().map_err(|e| Error::io(context(), e))?;
    let mut buffered = encoder.finish().map_err(|e| Error::io(context(), e))?;
    buffered.flush().map_err(|e| Error::io(context(), e))?;
    drop(buffered);
    temp.as_file()
        .sync_all()
        .map_err(|e| Error::io(context(), e))?;
    temp.persist(dest)
        .map_err(|e| Error::io(context(), e.error))?;
    let done = meter.finish();
    Ok(ArchiveStats {
        files: done.files,
        bytes: done.bytes,
    })
}

/// Open an archive for reading (tests, and a future restore from the archive).
pub fn open_archive(path: &Path) -> io::Result<tar::Archive<flate2::read::GzDecoder<File>>> {
    Ok(tar::Archive::new(flate2::read::GzDecoder::new(File::open(
        path,
    )?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excludes() -> Vec<String> {
        DEFAULT_EXCLUDES.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn archives_the_tree_without_the_excluded_names() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("proj");
        for dir in [
            "src/deep",
            "node_modules/x",
            "backups/full",
            ".git",
            "pkg/dist",
        ] {
            fs::create_dir_all(root.join(dir)).unwrap();
        }
        fs::write(root.join("src/deep/a.rs"), vec![7u8; 300_000]).unwrap();
        fs::write(root.join("README"), "hi").unwrap();
        fs::write(root.join("debug.log"), "noise").unwrap();
        fs::write(root.join("node_modules/x/i.js"), "x").unwrap();
        fs::write(root.join("pkg/dist/out.js"), "x").unwrap();
        let dest = tmp.path().join("out.tar.gz");
        let mut events = Vec::new();
        let stats = create_archive(&root, &dest, &excludes(), &mut |p| events.push(p)).unwrap();
        assert_eq!(
            stats,
            ArchiveStats {
                files: 2,
                bytes: 300_002
            }
        );
        assert_eq!(events.last().unwrap().files, 2);
        let mut names: Vec<String> = open_archive(&dest)
            .unwrap()
            .entries()
            .unwrap()
            .map(|e| {
                e.unwrap()
                    .path()
                    .unwrap()
                    .to_string_lossy()
                    .trim_end_matches('/')
                    .to_string()
            })
            .collect();
        names.sort();
        assert_eq!(names, ["README", "pkg", "src", "src/deep", "src/deep/a.rs"]);
        let leftovers: Vec<_> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 2, "no temp file left: {leftovers:?}");
    }

    #[test]
    fn an_unreadable_root_fails_with_a_code_and_leaves_no_partial_archive() {
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("out.tar.gz");
        let err = create_archive(&tmp.path().join("missing"), &dest, &excludes(), &mut |_| {})
            .unwrap_err();
        assert_eq!(err.code().as_str(), "ENOENT");
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
    }
}
