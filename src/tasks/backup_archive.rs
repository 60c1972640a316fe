//! `backupCreateArchive(root, dest, excludes, onProgress, substitutes)`: the streaming tar.gz
//! on the thread pool (plus its compressor thread), progress to the optional JS callback;
//! the result carries the archive's size and SHA-256 for the manifest, and the files that
//! changed while read. `backupCheckArchive(path, onProgress)` reads an archive to its end.
//! Both stop at `backupCancel()`.

use std::path::PathBuf;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use session_resilience_core::backup::archive::{self, ArchiveCheck, ArchiveSpec, ArchiveStats};
use session_resilience_core::backup::cancel::{self, Cancel};

use crate::args;
use crate::backup::{reporter, ProgressCallback};
use crate::error::{guarded, to_js};

#[napi(object)]
pub struct ArchiveResult {
    pub files: f64,
    pub bytes: f64,
    /// Size of the `.tar.gz` written.
    pub size: f64,
    /// SHA-256 (hex) of the `.tar.gz`, taken while writing it: the manifest entry.
    pub sha256: String,
    /// Files (relative to root, `/`-separated) that changed while read: archived cut or
    /// zero-padded to the size they had when opened.
    pub changed: Vec<String>,
}

/// A file archived under another file's name: a live database's consistent copy.
#[napi(object)]
pub struct ArchiveSubstitute {
    /// Path relative to the root, `/`-separated (the name in the archive).
    pub path: String,
    /// The file whose bytes are archived.
    pub source: String,
}

pub struct CreateArchiveTask {
    root: PathBuf,
    dest: PathBuf,
    excludes: Vec<String>,
    substitutes: Vec<(String, PathBuf)>,
    cancel: Cancel,
    progress: Option<ProgressCallback>,
}

#[napi]
impl Task for CreateArchiveTask {
    type Output = session_resilience_core::Result<ArchiveStats>;
    type JsValue = ArchiveResult;

    fn compute(&mut self) -> Result<Self::Output> {
        let mut report = reporter(&self.progress);
        let spec = ArchiveSpec {
            root: &self.root,
            excludes: &self.excludes,
            substitutes: &self.substitutes,
            cancel: self.cancel,
        };
        Ok(guarded(|| {
            archive::create_archive(&spec, &self.dest, &mut report)
        }))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<ArchiveResult> {
        output
            .map(|s| ArchiveResult {
                files: s.files as f64,
                bytes: s.bytes as f64,
                size: s.size as f64,
                sha256: s.sha256,
                changed: s.changed,
            })
            .map_err(|e| to_js(&env, e))
    }
}

/// `excludes` defaults to the legacy list (`node_modules`, `dist`, `build`, `.next`,
/// `*.log`, `backups`, `.git`).
#[napi(catch_unwind)]
pub fn backup_create_archive(
    env: &Env,
    #[napi(ts_arg_type = "string")] root: Unknown,
    #[napi(ts_arg_type = "string")] dest: Unknown,
    excludes: Option<Vec<String>>,
    #[napi(ts_arg_type = "((progress: BackupProgress) => void) | undefined | null")]
    on_progress: Option<ProgressCallback>,
    substitutes: Option<Vec<ArchiveSubstitute>>,
) -> Result<AsyncTask<CreateArchiveTask>> {
    let root = args::path(env, "root", root)?;
    let dest = args::path(env, "dest", dest)?;
    let excludes = excludes.unwrap_or_else(archive::default_excludes);
    let substitutes = substitutes
        .unwrap_or_default()
        .into_iter()
        .map(|s| (s.path, PathBuf::from(s.source)))
        .collect();
    Ok(AsyncTask::new(CreateArchiveTask {
        root,
        dest,
        excludes,
        substitutes,
        cancel: Cancel::new(),
        progress: on_progress,
    }))
}

#[napi(object)]
pub struct ArchiveCheckResult {
    pub entries: f64,
    pub bytes: f64,
}

pub struct CheckArchiveTask {
    path: PathBuf,
    cancel: Cancel,
    progress: Option<ProgressCallback>,
}

#[napi]
impl Task for CheckArchiveTask {
    type Output = session_resilience_core::Result<ArchiveCheck>;
    type JsValue = ArchiveCheckResult;

    fn compute(&mut self) -> Result<Self::Output> {
        let mut report = reporter(&self.progress);
        Ok(guarded(|| {
            archive::check_archive(&self.path, &self.cancel, &mut report)
        }))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<ArchiveCheckResult> {
        output
            .map(|c| ArchiveCheckResult {
                entries: c.entries as f64,
                bytes: c.bytes as f64,
            })
            .map_err(|e| to_js(&env, e))
    }
}

/// Read a `.tar.gz` to its end (every header, every member, the gzip trailer): `ECORRUPT`
/// naming where it broke.
#[napi(catch_unwind)]
pub fn backup_check_archive(
    env: &Env,
    #[napi(ts_arg_type = "string")] path: Unknown,
    #[napi(ts_arg_type = "((progress: BackupProgress) => void) | undefined | null")]
    on_progress: Option<ProgressCallback>,
) -> Result<AsyncTask<CheckArchiveTask>> {
    let path = args::path(env, "path", path)?;
    Ok(AsyncTask::new(CheckArchiveTask {
        path,
        cancel: Cancel::new(),
        progress: on_progress,
    }))
}

/// Stop every backup task of this process started so far (archive, hashing, archive check):
/// they fail with `ECANCELED` at their next file or chunk. For a SIGINT handler.
#[napi]
pub fn backup_cancel() {
    cancel::cancel_running();
}
