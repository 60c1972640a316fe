//! Putting a snapshot back: the whole tree or the entries at or below some paths, into a
//! target folder (the project root), byte-identical, with modes, mtimes and symlinks.
//!
//! Every entry is created through held folder handles ([`Dir`]): a path from a tree with a
//! `..`, a root or a backslash is refused (a crafted tree), a symlink met on the way is
//! refused (links are restored as links, never followed, including ones the restore itself
//! just created), and `.git/` and `backups/` are never written. A file is streamed one chunk
//! at a time into a temp file beside its target, then renamed over it, so a crash leaves the
//! old file or the new one, and the temp a killed restore left is removed by the next one
//! (each folder it restores into is swept once of the temps whose writer is dead). All-zero
//! chunks become holes, so a sparse file stays sparse.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::chunk::ChunkId;
use super::tree::{Entry, EntryKind};
use super::Store;
use crate::error::{Code, Error, Result};
use crate::fsx::beneath::{Dir, Kind};

/// What a restore wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestoreStats {
    pub files: u64,
    pub dirs: u64,
    pub symlinks: u64,
    pub bytes: u64,
}

/// Top-level folders a restore never writes into.
const NEVER: &[&str] = &[".git", "backups"];

/// True when `path` is one of `only` or below one of them (everything when `only` is empty).
fn selected(path: &str, only: &[String]) -> bool {
    only.is_empty()
        || only.iter().any(|o| {
            let o = o.trim_end_matches('/');
            path == o || (path.starts_with(o) && path.as_bytes().get(o.len()) == Some(&b'/'))
        })
}

fn split(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}

fn system_time((secs, nanos): (i64, u32)) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::new(secs as u64, nanos)
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs()) + Duration::from_nanos(nanos.into())
    }
}

/// Clear the place for an entry of `kind`: a folder where a file or link goes (or the
/// reverse) is removed first; a folder where a folder goes is kept.
fn clear(parent: &Dir, name: &str, kind: EntryKind) -> Result<()> {
    match parent.stat(Path::new(name))? {
        None => Ok(()),
        Some((Kind::Dir, _)) if kind == EntryKind::Dir => Ok(()),
        Some((Kind::Dir, _)) => parent.remove(Path::new(name)).map(|_| ()),
        Some(_) if kind == EntryKind::Dir => parent.remove(Path::new(name)).map(|_| ()),
        Some(_) => Ok(()), // a file or link is replaced by the rename (or removed for a link)
    }
}

struct Restorer<'a> {
    store: &'a Store,
    target: &'a Dir,
    stats: RestoreStats,
    /// Folders and their modes, applied at the end (a read-only folder must be filled first).
    dir_modes: Vec<(String, u32)>,
    /// The folders already swept of dead writers' temps.
    swept: HashSet<String>,
}

impl Restorer<'_> {
    fn entry(&mut self, e: &Entry) -> Result<()> {
        let top = e.path.split('/').next().unwrap_or("");
        if NEVER.contains(&top) {
            return Err(Error::new(
                Code::PathEscape,
                format!(
                    "Refusing to restore {}: {top}/ is never a restore target",
                    e.path
                ),
            ));
        }
        let (parent_rel, name) = split(&e.path);
        let parent = self.target.sub(Path::new(parent_rel), true)?;
        if self.swept.insert(parent_rel.to_string()) {
            parent.sweep_dead_temps();
        }
        clear(&parent, name, e.kind)?;
        match e.kind {
            EntryKind::Dir => {
                parent.sub(Path::new(name), true)?;
                self.dir_modes.push((e.path.clone(), e.mode));
                self.stats.dirs += 1;
            }
            EntryKind::Symlink => {
                let target = e.target.as_deref().ok_or_else(|| {
                    Error::new(Code::Corrupt, format!("Symlink {} has no target", e.path))
                })?;
                parent.unlink_here(OsStr::new(name))?;
                parent.symlink(Path::new(name), OsStr::new(target))?;
                self.stats.symlinks += 1;
            }
            EntryKind::File => {
                self.file(&parent, name, e)?;
                self.stats.files += 1;
                self.stats.bytes += e.size;
            }
        }
        Ok(())
    }

    fn file(&self, parent: &Dir, name: &str, e: &Entry) -> Result<()> {
        let (temp, mut file) = parent.temp_file(OsStr::new(name))?;
        let filled = self.fill(&mut file, e).and_then(|()| {
            finish(&file, e).map_err(|err| {
                Error::io(
                    format!("Cannot restore {}", parent.path().join(name).display()),
                    err,
                )
            })
        });
        drop(file);
        let placed = filled.and_then(|()| parent.rename_here(&temp, OsStr::new(name)));
        if placed.is_err() {
            let _ = parent.unlink_here(&temp);
        }
        placed
    }

    /// Write the chunks of `e` into `file`, seeking over all-zero chunks.
    fn fill(&self, file: &mut File, e: &Entry) -> Result<()> {
        let full = || self.target.path().join(&e.path);
        let io_err = |err| Error::io(format!("Cannot restore {}", full().display()), err);
        let mut written = 0u64;
        // a run of the same chunk (zeros of a sparse file, repeated blocks) is read once
        let mut last: Option<(ChunkId, Vec<u8>, bool)> = None;
        for id in e.chunk_ids()? {
            if last.as_ref().is_none_or(|(prev, _, _)| *prev != id) {
                let data = self.store.chunks().get(&id).map_err(|err| {
                    Error::new(err.code(), format!("Cannot restore {}: {err}", e.path))
                })?;
                let zero = data.iter().all(|&b| b == 0);
                last = Some((id, data, zero));
            }
            let Some((_, data, zero)) = &last else {
                continue;
            };
            if *zero {
                file.seek(SeekFrom::Current(data.len() as i64))
                    .map_err(io_err)?;
            } else {
                file.write_all(data).map_err(io_err)?;
            }
            written += data.len() as u64;
        }
        if written != e.size {
            return Err(Error::new(
                Code::Corrupt,
                format!(
                    "{}: its chunks hold {written} bytes, its entry says {}",
                    e.path, e.size
                ),
            ));
        }
        file.set_len(written).map_err(io_err)
    }
}

/// Mode and mtime of a filled file.
fn finish(file: &File, e: &Entry) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(e.mode & 0o7777))?;
    }
    #[cfg(not(unix))]
    {
        let mut perms = file.metadata()?.permissions();
        perms.set_readonly(e.mode & 0o200 == 0);
        file.set_permissions(perms)?;
    }
    file.set_modified(system_time(e.mtime))
}

/// Restore snapshot `id` from the store folder `store` into `target` (all of it, or the
/// entries at or below `only`, '/'-separated paths relative to the root).
pub fn restore_snapshot(
    store: &Path,
    id: &str,
    target: &Path,
    only: &[String],
) -> Result<RestoreStats> {
    let store = Store::open(store, false)?;
    let record = store.record(id)?;
    let target = Dir::open(target)?;
    let mut r = Restorer {
        store: &store,
        target: &target,
        stats: RestoreStats::default(),
        dir_modes: Vec::new(),
        swept: HashSet::new(),
    };
    check_selection(&store, &record, only)?;
    for e in store.tree(&record)? {
        let e = e?;
        if selected(&e.path, only) {
            r.entry(&e)?;
        }
    }
    // deepest first, so a read-only folder is closed after what is inside it
    r.dir_modes.sort_by(|a, b| b.0.cmp(&a.0));
    for (path, mode) in &r.dir_modes {
        target.sub(Path::new(path), false)?.set_mode(*mode)?;
    }
    Ok(r.stats)
}

/// Before anything is written: every path of `only` names something in the snapshot.
fn check_selection(store: &Store, record: &super::Record, only: &[String]) -> Result<()> {
    if only.is_empty() {
        return Ok(());
    }
    let mut matched = vec![false; only.len()];
    for e in store.tree(record)? {
        let e = e?;
        for (m, o) in matched.iter_mut().zip(only) {
            *m |= selected(&e.path, std::slice::from_ref(o));
        }
    }
    match only.iter().zip(&matched).find(|(_, m)| !**m) {
        Some((missing, _)) => Err(Error::new(
            Code::Os("ENOENT"),
            format!("{missing} is not in snapshot {}", record.id),
        )),
        None => Ok(()),
    }
}

/// Windows only (the store's own tests run on Unix): what `finish` makes of a mode there.
#[cfg(all(test, windows))]
mod windows_tests {
    use super::*;

    fn entry(mode: u32) -> Entry {
        Entry {
            path: "f".into(),
            kind: EntryKind::File,
            mode,
            size: 1,
            mtime: (1_700_000_000, 500),
            ctime: (1_700_000_000, 500),
            ino: "0".into(),
            target: None,
            chunks: Vec::new(),
            depth: 0,
            sqlite: None,
        }
    }

    /// Windows has no modes: a file restored from a mode without the owner's write bit is
    /// made read-only, any other writable; its mtime is the entry's.
    #[test]
    fn a_mode_without_the_owners_write_bit_restores_read_only() {
        let tmp = tempfile::tempdir().unwrap();
        for (mode, readonly) in [(0o444, true), (0o644, false), (0o200, false), (0o555, true)] {
            let path = tmp.path().join(format!("f{mode:o}"));
            std::fs::write(&path, b"x").unwrap();
            let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            finish(&file, &entry(mode)).unwrap();
            drop(file);
            let meta = std::fs::metadata(&path).unwrap();
            crate::testutil::set_readonly(&path, false);
            assert_eq!(meta.permissions().readonly(), readonly, "mode {mode:o}");
            assert_eq!(meta.modified().unwrap(), system_time((1_700_000_000, 500)));
        }
    }
}
