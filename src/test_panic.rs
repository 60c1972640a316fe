//! Exports that panic on purpose, compiled only with the `test-panic` feature (never into a
//! released binary). The torture suite builds them to prove that a Rust panic inside an
//! export reaches JavaScript as an `Error` (code `EINTERNAL` where our guard catches it)
//! and never takes the Node process down.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use session_resilience_core::Result as CoreResult;

use crate::error::{guarded, run, to_js};

/// A panic caught by napi's own `catch_unwind` wrapper.
#[napi(catch_unwind)]
pub fn test_panic_sync(message: String) -> Result<()> {
    panic!("{message}")
}

/// A panic caught by our guard, which maps it to `EINTERNAL`.
#[napi]
pub fn test_panic_guarded(env: &Env, message: String) -> Result<()> {
    run(env, || -> CoreResult<()> { panic!("{message}") })
}

pub struct PanicTask(String);

impl Task for PanicTask {
    type Output = CoreResult<()>;
    type JsValue = ();

    fn compute(&mut self) -> Result<Self::Output> {
        let message = self.0.clone();
        Ok(guarded(move || -> CoreResult<()> { panic!("{message}") }))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<()> {
        output.map_err(|e| to_js(&env, e))
    }
}

/// A panic on the thread pool, inside an AsyncTask.
#[napi]
pub fn test_panic_async(message: String) -> AsyncTask<PanicTask> {
    AsyncTask::new(PanicTask(message))
}
