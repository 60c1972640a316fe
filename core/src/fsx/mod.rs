//! Safe file operations: the Rust side of legacy `safe-file-operations.js`.
//!
//! - [`atomic`]: crash-safe replacement of a file's content;
//! - [`checksum`]: streaming SHA-256 in constant memory;
//! - [`copies`]: the legacy `backupFile` copies of single files (`<name>.<label>.<stamp>.bak`),
//!   their cleanup, and finding the newest good one; backup *sets* are [`crate::backup`];
//! - [`dirs`]: the private directories locks and backups live in;
//! - [`json`]: reading a JSON file and recovering a damaged one from its backups;
//! - [`scratch`]: private temp folders where SQLite works on copies.

pub mod atomic;
pub mod beneath;
pub mod checksum;
pub mod copies;
pub mod dirs;
pub mod json;
pub mod scratch;

pub use atomic::{atomic_write, WriteOptions};
pub use checksum::sha256_file;
pub use copies::{backup_file, cleanup_old_backups};
