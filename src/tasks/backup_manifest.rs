//! `backupHashFiles(backupsDir, parts, onProgress)` and
//! `backupVerifyFiles(backupsDir, entries, onProgress)`: building and re-checking a set's
//! manifest entries (streaming SHA-256) on the thread pool.

use std::path::PathBuf;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use session_resilience_core::backup::cancel::Cancel;
use session_resilience_core::backup::manifest::{self, Entry, Verification};

use crate::args;
use crate::backup::{reporter, ProgressCallback};
use crate::error::{guarded, to_js};

/// One file of a manifest: path relative to `backups/` with `/`, size, SHA-256 hex.
#[napi(object)]
pub struct ManifestEntry {
    pub path: String,
    pub size: f64,
    pub sha256: String,
}

#[napi(object)]
pub struct VerifyFilesResult {
    pub checked: f64,
    pub bytes: f64,
    pub missing: Vec<String>,
    pub altered: Vec<String>,
}

pub struct HashFilesTask {
    dir: PathBuf,
    parts: Vec<String>,
    cancel: Cancel,
    progress: Option<ProgressCallback>,
}

#[napi]
impl Task for HashFilesTask {
    type Output = session_resilience_core::Result<Vec<Entry>>;
    type JsValue = Vec<ManifestEntry>;

    fn compute(&mut self) -> Result<Self::Output> {
        let mut report = reporter(&self.progress);
        Ok(guarded(|| {
            manifest::hash_parts(&self.dir, &self.parts, &self.cancel, &mut report)
        }))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<Self::JsValue> {
        let entries = output.map_err(|e| to_js(&env, e))?;
        Ok(entries
            .into_iter()
            .map(|e| ManifestEntry {
                path: e.path,
                size: e.size as f64,
                sha256: e.sha256,
            })
            .collect())
    }
}

/// SHA-256 and size of each file under `backupsDir/<part>`: the manifest entries.
#[napi(catch_unwind)]
pub fn backup_hash_files(
    env: &Env,
    #[napi(ts_arg_type = "string")] backups_dir: Unknown,
    parts: Vec<String>,
    #[napi(ts_arg_type = "((progress: BackupProgress) => void) | undefined | null")]
    on_progress: Option<ProgressCallback>,
) -> Result<AsyncTask<HashFilesTask>> {
    let dir = args::path(env, "backupsDir", backups_dir)?;
    Ok(AsyncTask::new(HashFilesTask {
        dir,
        parts,
        cancel: Cancel::new(),
        progress: on_progress,
    }))
}

pub struct VerifyFilesTask {
    dir: PathBuf,
    entries: Vec<Entry>,
    cancel: Cancel,
    progress: Option<ProgressCallback>,
}

#[napi]
impl Task for VerifyFilesTask {
    type Output = session_resilience_core::Result<Verification>;
    type JsValue = VerifyFilesResult;

    fn compute(&mut self) -> Result<Self::Output> {
        let mut report = reporter(&self.progress);
        Ok(guarded(|| {
            manifest::verify(&self.dir, &self.entries, &self.cancel, &mut report)
        }))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<Self::JsValue> {
        let v = output.map_err(|e| to_js(&env, e))?;
        Ok(VerifyFilesResult {
            checked: v.checked as f64,
            bytes: v.bytes as f64,
            missing: v.missing,
            altered: v.altered,
        })
    }
}

/// Re-hash every manifest entry: which files are missing and which changed.
#[napi(catch_unwind)]
pub fn backup_verify_files(
    env: &Env,
    #[napi(ts_arg_type = "string")] backups_dir: Unknown,
    entries: Vec<ManifestEntry>,
    #[napi(ts_arg_type = "((progress: BackupProgress) => void) | undefined | null")]
    on_progress: Option<ProgressCallback>,
) -> Result<AsyncTask<VerifyFilesTask>> {
    let dir = args::path(env, "backupsDir", backups_dir)?;
    let entries = entries
        .into_iter()
        .map(|e| Entry {
            path: e.path,
            size: e.size as u64,
            sha256: e.sha256,
        })
        .collect();
    Ok(AsyncTask::new(VerifyFilesTask {
        dir,
        entries,
        cancel: Cancel::new(),
        progress: on_progress,
    }))
}
