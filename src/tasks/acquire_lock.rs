//! `acquireLockAsync(identifier, options)`: `acquireLock` on the libuv thread pool, so the
//! wait sleeps off the event loop; resolves to `{ lockPath, brokenPids }`.

use std::path::PathBuf;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use session_resilience_core::lock::{self, Acquired};

use crate::error::{guarded, to_js};
use crate::lock::{core_options, identifier, lock_dir, register_cleanup, LockOptions, LockTaken};

pub struct AcquireLockTask {
    dir: PathBuf,
    identifier: String,
    options: lock::LockOptions,
    owner: usize,
}

#[napi]
impl Task for AcquireLockTask {
    type Output = session_resilience_core::Result<Acquired>;
    type JsValue = LockTaken;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(guarded(|| {
            lock::acquire(&self.dir, &self.identifier, &self.options, self.owner)
        }))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<LockTaken> {
        Ok(output.map_err(|e| to_js(&env, e))?.into())
    }
}

/// `acquireLock` off the event loop (the wait sleeps on the thread pool); resolves to
/// `{ lockPath, brokenPids }`, rejects with `ELOCKTIMEOUT` after `options.timeout` ms.
#[napi(catch_unwind)]
pub fn acquire_lock_async(
    env: &Env,
    #[napi(ts_arg_type = "string")] identifier: Unknown,
    options: Option<LockOptions>,
) -> Result<AsyncTask<AcquireLockTask>> {
    let id = self::identifier(env, identifier)?;
    let options = options.unwrap_or_default();
    Ok(AsyncTask::new(AcquireLockTask {
        options: core_options(None, &options),
        dir: lock_dir(options.lock_dir),
        identifier: id,
        owner: register_cleanup(env),
    }))
}
