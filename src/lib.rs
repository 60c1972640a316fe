//! The napi binding of session-resilience: thin glue over `session-resilience-core`.
//!
//! Each module converts JavaScript arguments, calls the core and maps its errors; the logic
//! lives in the core crate. Exported names are the legacy ones (`atomicWrite`, `backupFile`,
//! ...), so `require('session-resilience')` already is a drop-in for the legacy functions.
#![deny(clippy::all)]

mod args;
mod console;
mod error;
mod safe_file_ops;
mod tasks;
#[cfg(feature = "test-panic")]
mod test_panic;
