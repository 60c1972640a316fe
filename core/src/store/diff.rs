//! `backup-system diff`: what was added, removed and changed between two snapshots, or
//! between a snapshot and the project as it is now (the work tree).
//!
//! Both sides are streams of tree entries sorted by path (bytewise), merged in one pass.
//! An entry changed when its kind, mode, size, symlink target or chunk list differ; folders
//! compare by kind and mode only (their mtime moves with what is inside). On the work-tree
//! side a file whose size, mtime, ctime and inode equal the snapshot's entry is taken as
//! unchanged without being read (as a snapshot would reuse it); only a file whose metadata
//! moved but whose size did not is read and cut into chunks to compare chunk lists. The walk
//! goes through held folder handles ([`Dir`]): it follows no symlink and never leaves the
//! root; FIFOs, sockets and devices are never opened (reported as skipped).

use std::cmp::Ordering;
use std::ffi::OsStr;
use std::path::Path;

use super::chunk::ChunkId;
use super::chunker::Chunker;
use super::tree::{Entry, EntryKind};
use super::write::{entry, is_side_file_of, walk_project, Visit};
use super::Store;
use crate::backup::cancel::Cancel;
use crate::error::{Error, Result};
use crate::fsx::beneath::{Dir, Meta};

/// What to compare: snapshot `from` with snapshot `to`, or with the tree at `root`.
pub struct DiffSpec<'a> {
    pub store: &'a Path,
    pub from: &'a str,
    pub to: Option<&'a str>,
    /// The work tree, used when `to` is `None`.
    pub root: Option<&'a Path>,
    /// Legacy `tar --exclude` patterns, as the snapshots were taken with.
    pub excludes: &'a [String],
    /// Databases (paths relative to the root) whose side files are left out, as create does.
    pub databases: &'a [String],
    pub cancel: Cancel,
}

/// How a path changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Added,
    Removed,
    Modified,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Modified => "modified",
        }
    }
}

/// One path that differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub path: String,
    pub change: Change,
    /// The entry's kind on the newer side (the older one for a removal).
    pub kind: EntryKind,
    /// For a modification: which of `type`, `mode`, `size`, `target`, `content` differ.
    pub what: Vec<&'static str>,
}

/// The result of [`diff`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiffReport {
    pub changes: Vec<Difference>,
    /// Work-tree files read to compare their content (metadata alone did not decide).
    pub hashed: u64,
    /// Work-tree entries left out: names not UTF-8, FIFOs, sockets, devices.
    pub skipped: Vec<String>,
}

/// Compare `spec.from` with `spec.to` or the work tree.
pub fn diff(spec: &DiffSpec<'_>) -> Result<DiffReport> {
    let store = Store::open(spec.store, false)?;
    let from = store.record(spec.from)?;
    let mut report = DiffReport::default();
    match (spec.to, spec.root) {
        (Some(to), _) => {
            let to = store.record(to)?;
            let mut same = |a: &Entry, b: &Entry| Ok(a.chunks == b.chunks);
            merge(
                store.tree(&from)?,
                store.tree(&to)?,
                &mut same,
                &mut report,
                spec.cancel,
            )?;
        }
        (None, Some(root)) => {
            let root = Dir::open(root)?;
            let mut walk = WorkTree {
                spec,
                entries: Vec::new(),
                skipped: Vec::new(),
            };
            walk_project(&mut walk, &root, "")?;
            walk.entries
                .sort_unstable_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
            report.skipped = walk.skipped;
            let mut hashed = 0u64;
            let mut same = |a: &Entry, b: &Entry| same_content(&root, a, b, &mut hashed);
            merge(
                store.tree(&from)?,
                walk.entries.into_iter().map(Ok),
                &mut same,
                &mut report,
                spec.cancel,
            )?;
            report.hashed = hashed;
        }
        (None, None) => {
            return Err(Error::new(
                crate::Code::BadPath,
                "A diff needs a second snapshot or the project's root",
            ))
        }
    }
    Ok(report)
}

/// Merge two path-sorted entry streams into the differences between them.
fn merge(
    mut a: impl Iterator<Item = Result<Entry>>,
    mut b: impl Iterator<Item = Result<Entry>>,
    same_content: &mut dyn FnMut(&Entry, &Entry) -> Result<bool>,
    report: &mut DiffReport,
    cancel: Cancel,
) -> Result<()> {
    let (mut x, mut y) = (a.next().transpose()?, b.next().transpose()?);
    loop {
        cancel.check("Diff")?;
        let order = match (&x, &y) {
            (None, None) => return Ok(()),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(old), Some(new)) => old.path.as_bytes().cmp(new.path.as_bytes()),
        };
        match (order, x.take(), y.take()) {
            (Ordering::Less, Some(old), new) => {
                report.changes.push(whole(old, Change::Removed));
                (x, y) = (a.next().transpose()?, new);
            }
            (Ordering::Greater, old, Some(new)) => {
                report.changes.push(whole(new, Change::Added));
                (x, y) = (old, b.next().transpose()?);
            }
            (_, Some(old), Some(new)) => {
                let what = differences(&old, &new, same_content)?;
                if !what.is_empty() {
                    report.changes.push(Difference {
                        path: new.path,
                        change: Change::Modified,
                        kind: new.kind,
                        what,
                    });
                }
                (x, y) = (a.next().transpose()?, b.next().transpose()?);
            }
            _ => return Ok(()), // unreachable: the order was taken from the heads
        }
    }
}

fn whole(e: Entry, change: Change) -> Difference {
    Difference {
        path: e.path,
        change,
        kind: e.kind,
        what: Vec::new(),
    }
}

/// Which fields of two entries at the same path differ.
fn differences(
    old: &Entry,
    new: &Entry,
    same_content: &mut dyn FnMut(&Entry, &Entry) -> Result<bool>,
) -> Result<Vec<&'static str>> {
    if old.kind != new.kind {
        return Ok(vec!["type"]);
    }
    let mut what = Vec::new();
    if old.mode != new.mode {
        what.push("mode");
    }
    match old.kind {
        EntryKind::Dir => {}
        EntryKind::Symlink => {
            if old.target != new.target {
                what.push("target");
            }
        }
        EntryKind::File => {
            if old.size != new.size {
                what.push("size");
            } else if !same_content(old, new)? {
                what.push("content");
            }
        }
    }
    Ok(what)
}

/// A work-tree file against its snapshot entry: the metadata first, the content when the
/// metadata moved (cut and hashed exactly as a snapshot would, chunk lists compared).
fn same_content(root: &Dir, old: &Entry, new: &Entry, hashed: &mut u64) -> Result<bool> {
    if old.mtime == new.mtime && old.ctime == new.ctime && old.ino == new.ino {
        return Ok(true);
    }
    *hashed += 1;
    let file = root.open_read(Path::new(&new.path))?;
    let mut chunker = Chunker::new(file);
    let mut expected = old.chunks.iter();
    loop {
        let chunk = chunker.next_chunk().map_err(|e| {
            Error::io(
                format!("Cannot read {}", root.path().join(&new.path).display()),
                e,
            )
        })?;
        match (chunk, expected.next()) {
            (None, None) => return Ok(true),
            (Some(data), Some(id)) if ChunkId::of(data).hex() == *id => {}
            _ => return Ok(false),
        }
    }
}

/// The walk of the work tree: entries as a snapshot would record them (no chunks).
struct WorkTree<'a> {
    spec: &'a DiffSpec<'a>,
    entries: Vec<Entry>,
    skipped: Vec<String>,
}

impl Visit for WorkTree<'_> {
    fn cancelled(&self) -> Result<()> {
        self.spec.cancel.check("Diff")
    }

    fn excludes(&self) -> &[String] {
        self.spec.excludes
    }

    fn is_side_file(&self, path: &str) -> bool {
        is_side_file_of(path, self.spec.databases.iter())
    }

    fn entry(&mut self, entry: Entry) {
        self.entries.push(entry);
    }

    fn file(&mut self, _: &Dir, _: &OsStr, path: String, meta: &Meta) -> Result<()> {
        // a side file listed as another kind is left out once its metadata says it is a file
        if !self.is_side_file(&path) {
            let mut e = entry(path, EntryKind::File, meta);
            e.size = meta.size;
            self.entries.push(e);
        }
        Ok(())
    }

    fn skipped(&mut self, path: String) {
        self.skipped.push(path);
    }
}

// real modes, symlinks and FIFOs: Unix only
#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::store::testkit::{project, snap};
    use crate::testutil::names_in;
    use std::fs;
    use std::os::unix::fs::{symlink, PermissionsExt};
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

    fn spec<'a>(store: &'a Path, from: &'a str, to: Option<&'a str>) -> DiffSpec<'a> {
        DiffSpec {
            store,
            from,
            to,
            root: None,
            excludes: &[],
            databases: &[],
            cancel: Cancel::new(),
        }
    }

    /// `(path, change, kind, what)` of each difference, in the report's order.
    fn changes(report: &DiffReport) -> Vec<(String, &'static str, EntryKind, Vec<&'static str>)> {
        let row = |d: &Difference| (d.path.clone(), d.change.as_str(), d.kind, d.what.clone());
        report.changes.iter().map(row).collect()
    }

    fn chmod(path: PathBuf, mode: u32) {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    /// Two snapshots: each kind of change is named with what changed, in path order, the
    /// first and last paths of either side included; an unchanged file is not.
    #[test]
    fn two_snapshots_differ_by_each_kind_of_change_in_path_order() {
        let (_tmp, root, store) = project();
        let write = |name: &str, text: &str| fs::write(root.join(name), text).unwrap();
        for (name, text) in [
            ("a-removed.txt", "gone\n"),
            ("grow.txt", "x"),
            ("kind", "a file, then a folder"),
            ("keep.txt", "kept\n"),
            ("mode.sh", "#!/bin/sh\n"),
            ("same-size.txt", "aaaa"),
            ("zzz-removed.txt", "gone too\n"),
        ] {
            write(name, text);
        }
        fs::create_dir(root.join("dir")).unwrap();
        chmod(root.join("dir"), 0o755);
        chmod(root.join("mode.sh"), 0o644);
        symlink("a", root.join("link")).unwrap();
        snap(&root, &store, "s1");
        for gone in ["a-removed.txt", "zzz-removed.txt", "kind", "link"] {
            fs::remove_file(root.join(gone)).unwrap();
        }
        fs::create_dir(root.join("kind")).unwrap();
        chmod(root.join("dir"), 0o700);
        chmod(root.join("mode.sh"), 0o755);
        symlink("b", root.join("link")).unwrap();
        write("grow.txt", "xyz");
        write("same-size.txt", "bbbb");
        write("zz-added.txt", "new\n");
        write("zzzz-added.txt", "newest\n");
        snap(&root, &store, "s2");
        let report = diff(&spec(&store, "s1", Some("s2"))).unwrap();
        use EntryKind::{Dir, File, Symlink};
        let row = |p: &str, c, k, w: &[&'static str]| (p.to_string(), c, k, w.to_vec());
        assert_eq!(
            changes(&report),
            vec![
                row("a-removed.txt", "removed", File, &[]),
                row("dir", "modified", Dir, &["mode"]),
                row("grow.txt", "modified", File, &["size"]),
                row("kind", "modified", Dir, &["type"]),
                row("link", "modified", Symlink, &["target"]),
                row("mode.sh", "modified", File, &["mode"]),
                row("same-size.txt", "modified", File, &["content"]),
                row("zz-added.txt", "added", File, &[]),
                row("zzz-removed.txt", "removed", File, &[]),
                row("zzzz-added.txt", "added", File, &[]),
            ]
        );
        assert_eq!((report.hashed, report.skipped.len()), (0, 0));
        // and the other way round: additions become removals
        let back = diff(&spec(&store, "s2", Some("s1"))).unwrap();
        assert_eq!(back.changes.len(), 10);
        assert_eq!(changes(&back)[0].1, "added");
        assert_eq!(changes(&back)[9].1, "removed");
        assert!(diff(&spec(&store, "s1", Some("s1")))
            .unwrap()
            .changes
            .is_empty());
    }

    /// Against the work tree: a file whose metadata did not move is not read; one that was
    /// touched is read and found the same; one rewritten at the same size (its mtime put back
    /// or not) is read and found changed. Excluded paths, a database's side files and FIFOs are not differences (the
    /// FIFO is named as skipped).
    #[test]
    fn the_work_tree_is_read_only_where_metadata_moved() {
        let (_tmp, root, store) = project();
        fs::write(root.join("same.txt"), "same\n").unwrap();
        fs::write(root.join("touched.txt"), "touched\n").unwrap();
        fs::write(root.join("rewritten.txt"), "aaaa").unwrap();
        fs::write(root.join("same-mtime.txt"), "cccc").unwrap();
        fs::create_dir(root.join("folder")).unwrap();
        symlink("same.txt", root.join("folder/link")).unwrap();
        snap(&root, &store, "s1");
        let (excludes, databases) = (["*.log".to_string()], ["db.sqlite".to_string()]);
        let at_root = || DiffSpec {
            root: Some(&root),
            excludes: &excludes,
            databases: &databases,
            ..spec(&store, "s1", None)
        };
        let untouched = diff(&at_root()).unwrap();
        assert_eq!((untouched.changes.len(), untouched.hashed), (0, 0));
        std::thread::sleep(std::time::Duration::from_millis(20));
        fs::write(root.join("touched.txt"), "touched\n").unwrap();
        fs::write(root.join("rewritten.txt"), "bbbb").unwrap();
        // rewritten at the same size with its mtime put back: its ctime still moved
        let sneaky = root.join("same-mtime.txt");
        let mtime = fs::metadata(&sneaky).unwrap().modified().unwrap();
        fs::write(&sneaky, "dddd").unwrap();
        let file = fs::File::options().write(true).open(&sneaky).unwrap();
        file.set_modified(mtime).unwrap();
        fs::write(root.join("noise.log"), "excluded\n").unwrap();
        fs::write(root.join("db.sqlite-journal"), "a side file\n").unwrap();
        let fifo = root.join("pipe");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let report = diff(&at_root()).unwrap();
        let row = |p: &str| (p.to_string(), "modified", EntryKind::File, vec!["content"]);
        assert_eq!(
            changes(&report),
            vec![row("rewritten.txt"), row("same-mtime.txt")]
        );
        assert_eq!(report.hashed, 3);
        assert_eq!(report.skipped, vec!["pipe".to_string()]);
    }

    /// No second side is a clear error; so is an unknown snapshot; a cancelled diff stops,
    /// against the work tree before its walk ends (a damaged snapshot would be found after).
    #[test]
    fn a_diff_without_a_second_side_an_unknown_snapshot_or_cancelled_stops() {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let (_tmp, root, store) = project();
        fs::write(root.join("a.txt"), "alpha\n").unwrap();
        snap(&root, &store, "s1");
        let no_side = diff(&spec(&store, "s1", None)).unwrap_err();
        assert_eq!(no_side.code(), crate::Code::BadPath);
        assert!(diff(&spec(&store, "s1", Some("nope"))).is_err());
        let cancel = Cancel::on(&COUNTER);
        COUNTER.fetch_add(1, AtomicOrdering::SeqCst);
        let stopped = diff(&DiffSpec {
            cancel,
            ..spec(&store, "s1", Some("s1"))
        })
        .unwrap_err();
        assert!(stopped.to_string().contains("Diff: cancelled"), "{stopped}");
        for name in names_in(&store.join("packs")) {
            fs::remove_file(store.join("packs").join(name)).unwrap();
        }
        let damaged = diff(&DiffSpec {
            root: Some(&root),
            ..spec(&store, "s1", None)
        })
        .unwrap_err();
        assert_eq!(damaged.code(), crate::Code::Os("ENOENT"), "{damaged}");
        let stopped = diff(&DiffSpec {
            root: Some(&root),
            cancel,
            ..spec(&store, "s1", None)
        })
        .unwrap_err();
        assert!(stopped.to_string().contains("Diff: cancelled"), "{stopped}");
    }
}
