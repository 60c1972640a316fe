//! `backupCopyDatabase(src, dest, root?)`: a database's consistent copy through SQLite's
//! backup API, on the thread pool (a large database copies for seconds); `backupCancel()`
//! stops it between two steps of the copy. With `root`, `src` is a live database below it,
//! read through held folders (`sqlite::copy_database_below`).

use std::path::PathBuf;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use session_resilience_core::backup::cancel::Cancel;
use session_resilience_core::backup::sqlite::{self, CopyKind};

use crate::backup::two_paths;
use crate::error::{guarded, to_js};

pub struct CopyDatabaseTask {
    /// The project root `src` is below, when given.
    root: Option<PathBuf>,
    src: PathBuf,
    dest: PathBuf,
    cancel: Cancel,
}

#[napi]
impl Task for CopyDatabaseTask {
    type Output = session_resilience_core::Result<CopyKind>;
    type JsValue = String;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(guarded(|| match &self.root {
            Some(root) => match self.src.strip_prefix(root) {
                Ok(rel) => sqlite::copy_database_below(root, rel, &self.dest, &self.cancel),
                Err(_) => Err(session_resilience_core::Error::new(
                    session_resilience_core::Code::PathEscape,
                    format!(
                        "Refusing database {}: not below {}",
                        self.src.display(),
                        root.display()
                    ),
                )),
            },
            None => sqlite::copy_database(&self.src, &self.dest, &self.cancel),
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
/// With `root`, `src` must be below it and is read without following any link on the way
/// (`EPATHESCAPE`), SQLite kept on the held folder (Linux) or refusing links (elsewhere).
#[napi(catch_unwind)]
pub fn backup_copy_database(
    env: &Env,
    #[napi(ts_arg_type = "string")] src: Unknown,
    #[napi(ts_arg_type = "string")] dest: Unknown,
    root: Option<String>,
) -> Result<AsyncTask<CopyDatabaseTask>> {
    let (src, dest) = two_paths(env, ("src", src), ("dest", dest))?;
    let root = root.filter(|r| !r.is_empty()).map(PathBuf::from);
    Ok(AsyncTask::new(CopyDatabaseTask {
        root,
        src,
        dest,
        cancel: Cancel::new(),
    }))
}
