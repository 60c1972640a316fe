//! The one validation function that pays off natively: `validateTrackerFile` (the CLI's
//! `validate`) reads, parses and validates a tracker file without building a JS object of it.
//! Everything that hands back or edits a JS object of the tracker (in-memory validation,
//! `repairTracker`, the CLI's repair) runs the JS walk on both backends: crossing into Rust
//! for it cost more than the walk itself (README, "Validation: where Rust pays").

use napi::bindgen_prelude::*;
use napi_derive::napi;
use session_resilience_core::validate;

use crate::args;
use crate::error::run;

/// The CLI's `validate`, all in Rust: read, strict parse, validate without repair.
/// `{ valid, errors, warnings }`; an unreadable or unparseable file throws (`ENOENT`,
/// `ECORRUPT`, ...).
#[napi(
    catch_unwind,
    ts_return_type = "{ valid: boolean, errors: string[], warnings: string[] }"
)]
pub fn validate_tracker_file<'env>(
    env: &'env Env,
    #[napi(ts_arg_type = "string")] tracker_path: Unknown<'env>,
) -> Result<Object<'env>> {
    let path = args::path(env, "trackerPath", tracker_path)?;
    let report = run(env, || validate::validate_tracker_file(&path))?;
    let mut out = Object::new(env)?;
    out.set_named_property("valid", report.valid())?;
    out.set_named_property("errors", report.errors)?;
    out.set_named_property("warnings", report.warnings)?;
    Ok(out)
}
