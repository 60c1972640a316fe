//! Set-up shared by the store modules' own unit tests: a project folder beside a store
//! folder, and snapshots of it taken the way `backup-system` takes them.

use std::fs;
use std::path::{Path, PathBuf};

use super::{create_snapshot, SnapshotSpec, SnapshotStats};
use crate::backup::cancel::Cancel;

/// A temp folder with an empty `project/` to snapshot and the path of its `store/` (not
/// made: the first snapshot makes it).
pub fn project() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let (root, store) = (tmp.path().join("project"), tmp.path().join("store"));
    fs::create_dir(&root).unwrap();
    (tmp, root, store)
}

/// What a snapshot of `root` into `store` as `id` asks by default: label "test", no
/// excludes, substitutes or databases, no parent; callers change a field with `..spec(..)`.
pub fn spec<'a>(root: &'a Path, store: &'a Path, id: &'a str) -> SnapshotSpec<'a> {
    SnapshotSpec {
        root,
        store,
        id,
        label: "test",
        excludes: &[],
        substitutes: &[],
        databases: &[],
        parent: None,
        cancel: Cancel::new(),
    }
}

/// Snapshot `root` into `store` as `id`, as [`spec`] asks.
pub fn snap(root: &Path, store: &Path, id: &str) -> SnapshotStats {
    create_snapshot(&spec(root, store, id), &mut |_| {}).unwrap()
}
