//! `backupGitBundle(root, dest, exclude?)`: `git bundle create <dest> --all [^<oid>...]` in `root`, waited for on
//! the thread pool (a large history bundles for seconds); `backupCancel()` kills git.

use std::path::PathBuf;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use session_resilience_core::backup::cancel::Cancel;
use session_resilience_core::backup::git;

use crate::backup::two_paths;
use crate::error::{guarded, to_js};

pub struct GitBundleTask {
    root: PathBuf,
    dest: PathBuf,
    exclude: Vec<String>,
    cancel: Cancel,
}

#[napi]
impl Task for GitBundleTask {
    type Output = session_resilience_core::Result<()>;
    type JsValue = bool;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(guarded(|| {
            git::bundle(&self.root, &self.dest, &self.exclude, &self.cancel)
        }))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<bool> {
        output.map(|()| true).map_err(|e| to_js(&env, e))
    }
}

/// `git bundle create <dest> --all` in `root`, without what the commits `exclude` (full hex
/// ids) reach (an incremental bundle; git refuses an empty one: `ECOMMAND`); resolves
/// `true`, rejects with `ECOMMAND`, `ENOCOMMAND`, or `ECANCELED` after `backupCancel()`.
#[napi(catch_unwind)]
pub fn backup_git_bundle(
    env: &Env,
    #[napi(ts_arg_type = "string")] root: Unknown,
    #[napi(ts_arg_type = "string")] dest: Unknown,
    exclude: Option<Vec<String>>,
) -> Result<AsyncTask<GitBundleTask>> {
    let (root, dest) = two_paths(env, ("root", root), ("dest", dest))?;
    Ok(AsyncTask::new(GitBundleTask {
        root,
        dest,
        exclude: exclude.unwrap_or_default(),
        cancel: Cancel::new(),
    }))
}
