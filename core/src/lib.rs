//! The file-safety core of `session-resilience`.
//!
//! Plain Rust, no Node types: every concern lives in its own module and is tested by
//! `cargo test` alone. The napi binding in the parent crate is a thin layer over these
//! functions, and the pure-JS backend in `lib/js/` implements the same contract.

pub mod backup;
pub mod defaults;
pub mod error;
pub mod fsx;
pub mod lock;
pub mod names;
pub mod process;
pub mod store;
#[cfg(test)]
mod testutil;
pub mod time;
pub mod validate;

pub use error::{Code, Error, Result};
