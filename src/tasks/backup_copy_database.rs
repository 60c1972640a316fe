//! `backupCopyDatabase(src, dest)`: a database's consistent copy through SQLite's backup
//! API, on the thread pool (a large database copies for seconds); `backupCancel()` stops it
//! between two steps of the copy.

use std::path::PathBuf;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use session_resilience_core::backup::cancel::Cancel;
use session_resilience_core::backup::sqlite::{self, CopyKind};

use crate::backup::two_paths;
use crate::error::{guarded, to_js};

pub struct CopyDatabaseTask {
    src: PathBuf,
    dest: PathBuf,
    cancel: Cancel,
}

#[napi]
impl Task for CopyDatabaseTask {
    type Output = session_resilience_core::Result<CopyKind>;
    type JsValue = String;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(guarded(|| {
            sqlite::copy_database(&self.src, &self.dest, &self.cancel)
        }))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<String> {
        output
            .map(|kind| kind.as_str().to_string())
            .map_err(|e| to_js(&env, e))
    }
}

/// Copy a database consistently; resolves `'sqlite'` (online backup API) or `'bytes'` (not
/// a SQLite file), rejects with the errno `code`, or `ECANCELED` after `backupCancel()`.
#[napi(catch_unwind)]
pub fn backup_copy_database(
    env: &Env,
    #[napi(ts_arg_type = "string")] src: Unknown,
    #[napi(ts_arg_type = "string")] dest: Unknown,
) -> Result<AsyncTask<CopyDatabaseTask>> {
    let (src, dest) = two_paths(env, ("src", src), ("dest", dest))?;
    Ok(AsyncTask::new(CopyDatabaseTask {
        src,
        dest,
        cancel: Cancel::new(),
    }))
}
