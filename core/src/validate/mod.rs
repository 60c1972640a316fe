//! Tracker validation: the Rust side of legacy `validation-helpers.js`, defects fixed.
//!
//! - [`schema`]: the table (required keys, types, defaults, message texts) shared with the
//!   JS backend through `lib/js/validation-schema.json`;
//! - [`check`]: validation of a tracker, a component or a backup, which repairs a
//!   `serde_json::Value` in place *and* records each repair as a [`Repair`] (path, new
//!   value), so the napi binding can replay the repairs on the caller's own JS object;
//! - [`parse`]: strict JSON first, then a tolerant parser (comments, trailing commas,
//!   single quotes, unquoted keys) that never alters the inside of a string;
//! - [`scan`]: a tracker text read for validation only: the properties the schema names,
//!   in a small `Value`, the rest scanned and never allocated;
//! - [`file`]: `validateTrackerFile(path)`: read once, scan, validate.

pub mod check;
pub mod file;
pub mod parse;
pub mod scan;
pub mod schema;

pub use check::{
    apply_repairs, validate_backup, validate_component, validate_tracker, Repair, Report, Seg,
};
pub use file::validate_tracker_file;
