//! Argument checks shared by every export: a path must be a non-empty string. napi's own
//! conversion error says `StringExpected`; users get Node's `ERR_INVALID_ARG_TYPE` instead.

use std::path::PathBuf;

use napi::bindgen_prelude::*;
use session_resilience_core::{error::check_path, Code, Error as CoreError};

use crate::error::to_js;

/// A path argument: a JS string, not empty, without NUL.
pub fn path(env: &Env, name: &str, value: Unknown) -> Result<PathBuf> {
    if value.get_type()? != ValueType::String {
        let err = CoreError::new(
            Code::InvalidArg,
            format!("The \"{name}\" argument must be of type string"),
        );
        return Err(to_js(env, err));
    }
    let text = unsafe { String::from_napi_value(env.raw(), value.raw()) }?;
    let path = PathBuf::from(text);
    check_path(name, &path).map_err(|e| to_js(env, e))?;
    Ok(path)
}

/// A directory option, or `default()` when it is absent or empty.
pub fn dir_or_default(given: Option<String>, default: fn() -> PathBuf) -> PathBuf {
    match given {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => default(),
    }
}
