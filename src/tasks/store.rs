//! `storeCreateSnapshot`, `storeRestoreSnapshot`, `storeVerify`: the snapshot store's long
//! operations on the thread pool; they stop at `backupCancel()` like the backup tasks.

use std::path::PathBuf;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use session_resilience_core::backup::cancel::Cancel;
use session_resilience_core::store::{
    self, RestoreStats, SnapshotSpec, SnapshotStats, VerifyReport,
};

use crate::args;
use crate::backup::{reporter, ProgressCallback};
use crate::error::{guarded, to_js};
use crate::store::{js_object, snapshot_of, StoreSnapshot};
use crate::tasks::backup_archive::ArchiveSubstitute;

/// The `Task` of a store operation: `compute` runs `$run` (with `$me` the task) on the
/// thread pool, a panic turned into an error; `resolve` maps its result with `$map` (with
/// `$out` the result), an error keeping its code.
macro_rules! store_task {
    ($task:ty, $output:ty, $js:ty, |$me:ident| $run:expr, |$out:ident| $map:expr) => {
        #[napi]
        impl Task for $task {
            type Output = session_resilience_core::Result<$output>;
            type JsValue = $js;

            fn compute(&mut self) -> Result<Self::Output> {
                let $me = &*self;
                Ok(guarded(|| $run))
            }

            fn resolve(&mut self, env: Env, output: Self::Output) -> Result<$js> {
                output.map(|$out| $map).map_err(|e| to_js(&env, e))
            }
        }
    };
}

/// How to take a snapshot.
#[napi(object)]
pub struct StoreSnapshotOptions {
    pub label: Option<String>,
    /// Legacy `tar --exclude` patterns; default the legacy list.
    pub excludes: Option<Vec<String>>,
    /// Files stored under another file's name (live databases' consistent copies).
    pub substitutes: Option<Vec<ArchiveSubstitute>>,
    /// The snapshot whose unchanged files are reused; default the newest.
    pub parent: Option<String>,
    /// Live SQLite databases (paths relative to root, '/'-separated): copied through SQLite's
    /// backup API, and only when SQLite says they changed since the parent snapshot.
    pub databases: Option<Vec<String>>,
}

#[napi(object)]
pub struct StoreSnapshotResult {
    pub snapshot: StoreSnapshot,
    /// Files whose content was read, and files reused unread from the parent.
    pub files_read: f64,
    pub files_reused: f64,
    /// Entries left out (names not UTF-8, FIFOs, sockets, devices).
    pub skipped: Vec<String>,
}

pub struct CreateSnapshotTask {
    root: PathBuf,
    store: PathBuf,
    id: String,
    label: String,
    excludes: Vec<String>,
    substitutes: Vec<(String, PathBuf)>,
    databases: Vec<String>,
    parent: Option<String>,
    cancel: Cancel,
    progress: Option<ProgressCallback>,
}

#[napi]
impl Task for CreateSnapshotTask {
    type Output = session_resilience_core::Result<SnapshotStats>;
    type JsValue = StoreSnapshotResult;

    fn compute(&mut self) -> Result<Self::Output> {
        let mut report = reporter(&self.progress);
        let spec = SnapshotSpec {
            root: &self.root,
            store: &self.store,
            id: &self.id,
            label: &self.label,
            excludes: &self.excludes,
            substitutes: &self.substitutes,
            databases: &self.databases,
            parent: self.parent.as_deref(),
            cancel: self.cancel,
        };
        Ok(guarded(|| store::create_snapshot(&spec, &mut report)))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<StoreSnapshotResult> {
        output
            .map(|s| {
                js_object!(StoreSnapshotResult from s {
                    same: [skipped],
                    counts: [files_read, files_reused],
                    snapshot: snapshot_of(s.record),
                })
            })
            .map_err(|e| to_js(&env, e))
    }
}

/// Take snapshot `id` of `root` into the store folder `store` (created when missing).
#[napi(catch_unwind)]
pub fn store_create_snapshot(
    env: &Env,
    #[napi(ts_arg_type = "string")] root: Unknown,
    #[napi(ts_arg_type = "string")] store: Unknown,
    id: String,
    options: Option<StoreSnapshotOptions>,
    #[napi(ts_arg_type = "((progress: BackupProgress) => void) | undefined | null")]
    on_progress: Option<ProgressCallback>,
) -> Result<AsyncTask<CreateSnapshotTask>> {
    let root = args::path(env, "root", root)?;
    let store = args::path(env, "store", store)?;
    let o = options.unwrap_or(StoreSnapshotOptions {
        label: None,
        excludes: None,
        substitutes: None,
        parent: None,
        databases: None,
    });
    Ok(AsyncTask::new(CreateSnapshotTask {
        root,
        store,
        id,
        label: o.label.unwrap_or_default(),
        excludes: o
            .excludes
            .unwrap_or_else(session_resilience_core::backup::archive::default_excludes),
        substitutes: o
            .substitutes
            .unwrap_or_default()
            .into_iter()
            .map(|s| (s.path, PathBuf::from(s.source)))
            .collect(),
        databases: o.databases.unwrap_or_default(),
        parent: o.parent,
        cancel: Cancel::new(),
        progress: on_progress,
    }))
}

#[napi(object)]
pub struct StoreRestoreResult {
    pub files: f64,
    pub dirs: f64,
    pub symlinks: f64,
    pub bytes: f64,
}

pub struct RestoreSnapshotTask {
    store: PathBuf,
    id: String,
    target: PathBuf,
    only: Vec<String>,
}

store_task!(
    RestoreSnapshotTask,
    RestoreStats,
    StoreRestoreResult,
    |t| store::restore_snapshot(&t.store, &t.id, &t.target, &t.only),
    |s| js_object!(StoreRestoreResult from s {
        same: [],
        counts: [files, dirs, symlinks, bytes],
    })
);

/// Restore snapshot `id` into `target`: everything, or the entries at or below `only`.
#[napi(catch_unwind)]
pub fn store_restore_snapshot(
    env: &Env,
    #[napi(ts_arg_type = "string")] store: Unknown,
    id: String,
    #[napi(ts_arg_type = "string")] target: Unknown,
    only: Option<Vec<String>>,
) -> Result<AsyncTask<RestoreSnapshotTask>> {
    let store = args::path(env, "store", store)?;
    let target = args::path(env, "target", target)?;
    Ok(AsyncTask::new(RestoreSnapshotTask {
        store,
        id,
        target,
        only: only.unwrap_or_default(),
    }))
}

#[napi(object)]
pub struct StoreBadChunk {
    pub id: String,
    /// `missing`, or the damage found.
    pub reason: String,
    /// The snapshots that reference it.
    pub snapshots: Vec<String>,
}

#[napi(object)]
pub struct StoreBrokenSnapshot {
    pub id: String,
    pub reason: String,
}

#[napi(object)]
pub struct StoreVerifyResult {
    pub ok: bool,
    pub snapshots: f64,
    /// Distinct chunks checked and good, and their stored bytes (as in packs and files).
    pub chunks: f64,
    pub bytes: f64,
    /// Of those, the chunks read, inflated and hashed one by one (the others were checked by
    /// their pack's digest).
    pub chunks_hashed: f64,
    /// Packs hashed whole whose digest matched their index.
    pub packs: f64,
    /// Packs whose digest did not match: their chunks were checked one by one.
    pub packs_mismatched: Vec<String>,
    pub bad_chunks: Vec<StoreBadChunk>,
    pub broken: Vec<StoreBrokenSnapshot>,
}

/// `storeVerify`'s options.
#[napi(object)]
pub struct StoreVerifyOptions {
    /// Re-derive every chunk's id (inflate and SHA-256), pack digests not used.
    pub deep: Option<bool>,
}

pub struct VerifyStoreTask {
    store: PathBuf,
    only: Option<Vec<String>>,
    options: store::VerifyOptions,
}

store_task!(
    VerifyStoreTask,
    VerifyReport,
    StoreVerifyResult,
    |t| store::verify_store_with(&t.store, t.only.as_deref(), t.options),
    |r| js_object!(StoreVerifyResult from r {
        same: [packs_mismatched],
        counts: [snapshots, chunks, bytes, chunks_hashed, packs],
        ok: r.ok(),
        bad_chunks: r
            .bad_chunks
            .into_iter()
            .map(|b| StoreBadChunk {
                id: b.id,
                reason: b.reason,
                snapshots: b.snapshots,
            })
            .collect(),
        broken: r
            .broken
            .into_iter()
            .map(|(id, reason)| StoreBrokenSnapshot { id, reason })
            .collect(),
    })
);

/// Check every chunk the snapshots (all, or `ids`) reference, once each: by its pack's digest
/// (each pack hashed whole once), or, with `deep` or where a pack does not match, re-hashed.
#[napi(catch_unwind)]
pub fn store_verify(
    env: &Env,
    #[napi(ts_arg_type = "string")] store: Unknown,
    ids: Option<Vec<String>>,
    options: Option<StoreVerifyOptions>,
) -> Result<AsyncTask<VerifyStoreTask>> {
    let store = args::path(env, "store", store)?;
    let deep = options.and_then(|o| o.deep).unwrap_or(false);
    Ok(AsyncTask::new(VerifyStoreTask {
        store,
        only: ids,
        options: store::VerifyOptions { deep },
    }))
}

#[napi(object)]
pub struct StoreGcResult {
    pub snapshots: f64,
    /// Chunks present, and those removed with their bytes on disk.
    pub chunks: f64,
    pub removed: f64,
    pub removed_bytes: f64,
}

pub struct GcTask {
    store: PathBuf,
}

store_task!(
    GcTask,
    store::GcStats,
    StoreGcResult,
    |t| store::collect_garbage(&t.store),
    |s| js_object!(StoreGcResult from s {
        same: [],
        counts: [snapshots, chunks, removed, removed_bytes],
    })
);

/// Remove the chunks no snapshot references (hold the store's lock: a snapshot being taken
/// reuses chunks it has not recorded yet).
#[napi(catch_unwind)]
pub fn store_gc(
    env: &Env,
    #[napi(ts_arg_type = "string")] store: Unknown,
) -> Result<AsyncTask<GcTask>> {
    let store = args::path(env, "store", store)?;
    Ok(AsyncTask::new(GcTask { store }))
}
