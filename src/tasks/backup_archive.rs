//! `backupCreateArchive(root, dest, excludes, onProgress)`: the streaming tar.gz on the
//! thread pool (plus its compressor thread), progress to the optional JS callback; the
//! result carries the archive's size and SHA-256 for the manifest.

use std::path::PathBuf;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use session_resilience_core::backup::archive::{self, ArchiveStats};

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
}

pub struct CreateArchiveTask {
    root: PathBuf,
    dest: PathBuf,
    excludes: Vec<String>,
    progress: Option<ProgressCallback>,
}

#[napi]
impl Task for CreateArchiveTask {
    type Output = session_resilience_core::Result<ArchiveStats>;
    type JsValue = ArchiveResult;

    fn compute(&mut self) -> Result<Self::Output> {
        let mut report = reporter(&self.progress);
        Ok(guarded(|| {
            archive::create_archive(&self.root, &self.dest, &self.excludes, &mut report)
        }))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<ArchiveResult> {
        output
            .map(|s| ArchiveResult {
                files: s.files as f64,
                bytes: s.bytes as f64,
                size: s.size as f64,
                sha256: s.sha256,
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
) -> Result<AsyncTask<CreateArchiveTask>> {
    let root = args::path(env, "root", root)?;
    let dest = args::path(env, "dest", dest)?;
    let excludes = excludes.unwrap_or_else(|| {
        archive::DEFAULT_EXCLUDES
            .iter()
            .map(|s| s.to_string())
            .collect()
    });
    Ok(AsyncTask::new(CreateArchiveTask {
        root,
        dest,
        excludes,
        progress: on_progress,
    }))
}
