//! Inter-process locks that are never double-granted, wait without spinning and recover
//! from dead holders, on the legacy lock file `<lockDir>/<identifier>.lock`.
//!
//! The lock file itself is the mutex, because processes still running the legacy module
//! only look at it. One idea per module:
//! - [`id`]: which identifiers may become a file name;
//! - [`record`]: the JSON inside a lock file (legacy fields plus ours);
//! - [`oslock`]: the OS-level lock a native holder keeps on its lock file;
//! - [`liveness`]: is the holder of a record alive, dead, or unknowable;
//! - [`acquire`]: atomic creation (write a temp, then `link`) and the sleeping wait;
//! - [`takeover`]: removing a dead holder's lock, serialized between breakers;
//! - [`release`]: removing our own lock, and only ours;
//! - [`registry`]: the locks this process holds, released together at exit;
//! - [`unlink`]: removing a lock file so that its name is free at once (Windows too);
//! - [`info`]: what `getLockInfo` and `listLocks` report;
//! - [`file`]: reading lock files: regular files only, bounded (no FIFO, no `/dev/zero`).

pub mod acquire;
pub mod file;
pub mod id;
pub mod identity;
pub mod info;
pub mod liveness;
pub mod oslock;
pub mod record;
pub mod registry;
pub mod release;
pub mod takeover;
pub mod unlink;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use acquire::{acquire, Acquired};
pub use id::check_identifier;
pub use info::{info, list, LockState};
pub use release::{release, Released};

/// Legacy: a lock older than 30 s counts as stale. Here only for holders whose liveness
/// cannot be known (another host).
pub const DEFAULT_STALE_MS: u64 = 30_000;

/// How long an empty or unparseable lock file counts as "being written by a legacy process".
pub const GARBLED_GRACE_MS: u64 = 1_000;

/// How a caller wants to wait.
#[derive(Debug, Clone, Copy)]
pub struct LockOptions {
    /// Give up (`ELOCKTIMEOUT`) after this long; the first attempt is always made.
    pub timeout: Duration,
    /// Age after which a holder whose liveness cannot be checked (another host) is dead.
    pub stale_ms: u64,
    /// First and longest sleep between two looks at a held lock.
    pub poll_min: Duration,
    pub poll_max: Duration,
}

impl Default for LockOptions {
    fn default() -> Self {
        LockOptions {
            timeout: Duration::from_millis(5_000),
            stale_ms: DEFAULT_STALE_MS,
            poll_min: Duration::from_micros(100),
            poll_max: Duration::from_millis(1),
        }
    }
}

/// `<dir>/<identifier>.lock`; the identifier must have been checked.
pub fn lock_path(dir: &Path, identifier: &str) -> PathBuf {
    dir.join(format!("{identifier}.lock"))
}

/// The identifier a lock file name stands for, if it is one (`x.lock`, not a hidden file).
pub fn identifier_of(file_name: &str) -> Option<&str> {
    let id = file_name.strip_suffix(".lock")?;
    check_identifier(id).ok().map(|()| id)
}
