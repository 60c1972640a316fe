//! Core errors become JS `Error` objects with the legacy message and a `code` property.
//! napi's own mapping would give every error the code `GenericFailure`; ours keeps the
//! errno name (`ENOSPC`) or the project code (`EBADLABEL`).

use napi::bindgen_prelude::*;
use session_resilience_core::{Code, Error as CoreError};

/// Build the JS error for a core error. The returned `napi::Error` holds a reference to
/// the finished JS object, which napi throws (or rejects with) unchanged.
pub fn to_js(env: &Env, err: CoreError) -> napi::Error {
    js_error(env, err.code().as_str(), err.message())
}

pub fn js_error(env: &Env, code: &str, message: &str) -> napi::Error {
    let built = env
        .create_error(napi::Error::new(Status::GenericFailure, message))
        .and_then(|mut obj| {
            obj.set_named_property("code", code)?;
            Ok(obj)
        });
    match built {
        Ok(obj) => napi::Error::from(obj.to_unknown()),
        Err(e) => e,
    }
}

/// Run core work, turning a panic into an ordinary error so that it can never unwind into
/// Node (which would abort the process).
pub fn guarded<T>(
    work: impl FnOnce() -> session_resilience_core::Result<T>,
) -> session_resilience_core::Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        Err(CoreError::new(
            Code::Internal,
            format!("Internal error in session-resilience: {what}"),
        ))
    })
}

/// `guarded`, with the error already converted for JS.
pub fn run<T>(env: &Env, work: impl FnOnce() -> session_resilience_core::Result<T>) -> Result<T> {
    guarded(work).map_err(|e| to_js(env, e))
}
