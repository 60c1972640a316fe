//! `backupCreateArchive(root, dest, excludes, onProgress)`: the streaming tar.gz on the
//! thread pool, progress to the optional JS callback.

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
}

pub struct CreateArchiveTask {
    root: PathBuf,
    dest: PathBuf,
    excludes: Vec<String>,
    progress: Option<ProgressCallback>,
}

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
            })
            .map_err(|e| to_js(&env, e))
    }
}

/// `excludes` defaults to the legacy list (`node_modules`, `dist`, `build`, `.next`,
/// `*.log`, `backups`, `.git`).
#[napi(catch_unwind)]
pub fn backup_create_archive(
    env: &Env,
    root: Unknown,
    dest: Unknown,
    excludes: Option<Vec<String>>,
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
