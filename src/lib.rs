//! The napi binding of session-resilience: thin glue over `session-resilience-core`.
//!
//! Each module converts JavaScript arguments, calls the core and maps its errors; the logic
//! lives in the core crate. Results are structured outcomes and nothing is printed here: the
//! legacy flows and console lines are in lib/ (the drop-in modules), the same for both
//! backends.
#![deny(clippy::all)]
// `clippy --all-targets` also checks this cdylib under cfg(test), where napi-derive registers
// nothing and every export looks unused; the binding is tested from Node, not by cargo.
#![cfg_attr(test, allow(dead_code))]

mod args;
mod backup;
mod contained;
mod error;
mod held;
mod lock;
mod safe_file_ops;
mod tasks;
#[cfg(feature = "test-panic")]
mod test_panic;
mod validate;
