//! `storeDiff` and `storeLog`: reading the snapshot store on the thread pool (a diff against
//! the work tree walks the project and may hash files; a log reads every tree).

use std::path::PathBuf;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use session_resilience_core::backup::cancel::Cancel;
use session_resilience_core::store::{self, diff::Difference, DiffReport, DiffSpec, LogEntry};

use crate::args;
use crate::error::{guarded, to_js};
use crate::store::js_object;

#[napi(object)]
pub struct StoreDiffOptions {
    /// The work tree to compare with when there is no second snapshot.
    pub root: Option<String>,
    /// Legacy `tar --exclude` patterns; default the legacy list.
    pub excludes: Option<Vec<String>>,
    /// Databases (relative to the root) whose `-journal`, `-wal`, `-shm` are left out.
    pub databases: Option<Vec<String>>,
}

#[napi(object)]
pub struct StoreChange {
    pub path: String,
    /// `added`, `removed` or `modified`.
    pub change: String,
    /// `file`, `dir` or `symlink` (the newer side's; the older one's for a removal).
    #[napi(js_name = "type")]
    pub kind: String,
    /// For a modification: which of `type`, `mode`, `size`, `target`, `content` differ.
    pub what: Vec<String>,
}

#[napi(object)]
pub struct StoreDiffResult {
    pub changes: Vec<StoreChange>,
    pub added: f64,
    pub removed: f64,
    pub modified: f64,
    /// Work-tree files read because their metadata alone did not decide.
    pub hashed: f64,
    /// Work-tree entries left out (names not UTF-8, FIFOs, sockets, devices).
    pub skipped: Vec<String>,
}

fn kind_name(kind: store::tree::EntryKind) -> String {
    match kind {
        store::tree::EntryKind::Dir => "dir",
        store::tree::EntryKind::File => "file",
        store::tree::EntryKind::Symlink => "symlink",
    }
    .into()
}

fn change_of(d: Difference) -> StoreChange {
    StoreChange {
        path: d.path,
        change: d.change.as_str().into(),
        kind: kind_name(d.kind),
        what: d.what.into_iter().map(String::from).collect(),
    }
}

fn result_of(r: DiffReport) -> StoreDiffResult {
    let count = |c: store::diff::Change| r.changes.iter().filter(|d| d.change == c).count() as f64;
    StoreDiffResult {
        added: count(store::diff::Change::Added),
        removed: count(store::diff::Change::Removed),
        modified: count(store::diff::Change::Modified),
        hashed: r.hashed as f64,
        skipped: r.skipped,
        changes: r.changes.into_iter().map(change_of).collect(),
    }
}

pub struct DiffTask {
    store: PathBuf,
    from: String,
    to: Option<String>,
    root: Option<PathBuf>,
    excludes: Vec<String>,
    databases: Vec<String>,
    cancel: Cancel,
}

#[napi]
impl Task for DiffTask {
    type Output = session_resilience_core::Result<DiffReport>;
    type JsValue = StoreDiffResult;

    fn compute(&mut self) -> Result<Self::Output> {
        let spec = DiffSpec {
            store: &self.store,
            from: &self.from,
            to: self.to.as_deref(),
            root: self.root.as_deref(),
            excludes: &self.excludes,
            databases: &self.databases,
            cancel: self.cancel,
        };
        Ok(guarded(|| store::diff(&spec)))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<StoreDiffResult> {
        output.map(result_of).map_err(|e| to_js(&env, e))
    }
}

/// What was added, removed and modified from snapshot `from` to snapshot `to`, or to the work
/// tree `options.root` when `to` is null.
#[napi(catch_unwind)]
pub fn store_diff(
    env: &Env,
    #[napi(ts_arg_type = "string")] store: Unknown,
    from: String,
    to: Option<String>,
    options: Option<StoreDiffOptions>,
) -> Result<AsyncTask<DiffTask>> {
    let store = args::path(env, "store", store)?;
    let o = options.unwrap_or(StoreDiffOptions {
        root: None,
        excludes: None,
        databases: None,
    });
    Ok(AsyncTask::new(DiffTask {
        store,
        from,
        to,
        root: o.root.map(PathBuf::from),
        excludes: o
            .excludes
            .unwrap_or_else(session_resilience_core::backup::archive::default_excludes),
        databases: o.databases.unwrap_or_default(),
        cancel: Cancel::new(),
    }))
}

/// One snapshot's line of `storeLog`.
#[napi(object)]
pub struct StoreLogEntry {
    pub id: String,
    pub time: String,
    pub label: String,
    pub files: f64,
    /// Bytes of its files, before dedup and compression.
    pub logical: f64,
    /// Distinct chunks it references; those no earlier snapshot references.
    pub chunks: f64,
    pub new_chunks: f64,
    /// On-disk bytes of its new chunks, and of those shared with earlier snapshots.
    pub new_bytes: f64,
    pub shared_bytes: f64,
    pub missing_chunks: f64,
    /// Why its tree could not be read in full, or null.
    pub error: Option<String>,
}

fn log_entry(e: LogEntry) -> StoreLogEntry {
    js_object!(StoreLogEntry from e {
        same: [id, time, label, error],
        counts: [files, logical, chunks, new_chunks, new_bytes, shared_bytes, missing_chunks],
    })
}

pub struct LogTask {
    store: PathBuf,
}

#[napi]
impl Task for LogTask {
    type Output = session_resilience_core::Result<Vec<LogEntry>>;
    type JsValue = Vec<StoreLogEntry>;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(guarded(|| store::store_log(&self.store)))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<Vec<StoreLogEntry>> {
        output
            .map(|v| v.into_iter().map(log_entry).collect())
            .map_err(|e| to_js(&env, e))
    }
}

/// Every snapshot of the store, oldest first, with its logical size, new and shared bytes.
#[napi(catch_unwind)]
pub fn store_log(
    env: &Env,
    #[napi(ts_arg_type = "string")] store: Unknown,
) -> Result<AsyncTask<LogTask>> {
    let store = args::path(env, "store", store)?;
    Ok(AsyncTask::new(LogTask { store }))
}
