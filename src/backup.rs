//! The native primitives of `lib/backup-system.js`: database restores, integrity checks and
//! restore containment (the long operations, archive, hashing, verify, git bundle and the
//! database copies, are async tasks in `tasks/`, which `backupCancel()` stops). Names start
//! with `backup` and match `lib/js/backup/`.

use std::path::PathBuf;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use session_resilience_core::backup::{self, restore::Restored, Progress};

use crate::args;
use crate::error::run;

/// How far a long backup operation got: `phase` is `archive`, `hash` or `verify`.
#[napi(object)]
pub struct BackupProgress {
    pub phase: String,
    pub files: f64,
    pub bytes: f64,
}

/// The JS progress callback, called from the worker thread without blocking it.
pub type ProgressCallback =
    ThreadsafeFunction<BackupProgress, (), BackupProgress, Status, false, true>;

/// A core progress reporter that forwards to the JS callback, when there is one.
pub fn reporter(callback: &Option<ProgressCallback>) -> impl FnMut(Progress) + '_ {
    move |p: Progress| {
        if let Some(cb) = callback {
            cb.call(
                BackupProgress {
                    phase: p.phase.to_string(),
                    files: p.files as f64,
                    bytes: p.bytes as f64,
                },
                ThreadsafeFunctionCallMode::NonBlocking,
            );
        }
    }
}

#[napi(object)]
pub struct RestoredFile {
    pub target: String,
    /// The copy of the file that was there before (`<file>.pre-restore.<ms>`), or null.
    pub previous: Option<String>,
}

fn restored(r: Restored) -> RestoredFile {
    RestoredFile {
        target: r.target.to_string_lossy().into_owned(),
        previous: r.previous.map(|p| p.to_string_lossy().into_owned()),
    }
}

pub fn two_paths(env: &Env, a: (&str, Unknown), b: (&str, Unknown)) -> Result<(PathBuf, PathBuf)> {
    Ok((args::path(env, a.0, a.1)?, args::path(env, b.0, b.1)?))
}

/// True when `root` is inside a git work tree.
#[napi(catch_unwind)]
pub fn backup_is_git_repo(
    env: &Env,
    #[napi(ts_arg_type = "string")] root: Unknown,
) -> Result<bool> {
    let root = args::path(env, "root", root)?;
    run(env, || backup::git::is_work_tree(&root))
}

/// `PRAGMA integrity_check` of a database: `'ok'` when sound.
#[napi(catch_unwind)]
pub fn backup_integrity_check(
    env: &Env,
    #[napi(ts_arg_type = "string")] db: Unknown,
) -> Result<String> {
    let db = args::path(env, "db", db)?;
    run(env, || backup::sqlite::integrity_check(&db))
}

/// `root/original` when it stays inside `root`, else throws `EPATHESCAPE`.
#[napi(catch_unwind)]
pub fn backup_contained_path(
    env: &Env,
    #[napi(ts_arg_type = "string")] root: Unknown,
    original: String,
) -> Result<String> {
    let root = args::path(env, "root", root)?;
    run(env, || {
        backup::restore::contained_path(&root, &original).map(|p| p.to_string_lossy().into_owned())
    })
}

/// Restore `source` to `root/original` (atomic write, previous file kept).
#[napi(catch_unwind)]
pub fn backup_restore_file(
    env: &Env,
    #[napi(ts_arg_type = "string")] root: Unknown,
    original: String,
    #[napi(ts_arg_type = "string")] source: Unknown,
) -> Result<RestoredFile> {
    let (root, source) = two_paths(env, ("root", root), ("source", source))?;
    run(env, || {
        backup::restore::restore_file(&root, &original, &source).map(restored)
    })
}

/// Restore a database to `root/original` through SQLite's backup API.
#[napi(catch_unwind)]
pub fn backup_restore_database(
    env: &Env,
    #[napi(ts_arg_type = "string")] root: Unknown,
    original: String,
    #[napi(ts_arg_type = "string")] source: Unknown,
) -> Result<RestoredFile> {
    let (root, source) = two_paths(env, ("root", root), ("source", source))?;
    run(env, || {
        backup::restore::restore_database(&root, &original, &source).map(restored)
    })
}
