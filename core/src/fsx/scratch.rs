//! Private scratch folders in the temp dir for SQLite's work. SQLite opens files by name and
//! resolves every link in a path itself (its journal too), so it is never given a path
//! inside the project or `backups/`, where a folder swapped for a link would redirect it: it
//! works on copies in one of these folders, and the bytes move in and out through held
//! folder handles ([`super::beneath::Dir`]).
//!
//! The name carries the owner, `sr-db-<pid>-<start time s>-<random>`, so that a folder left
//! by a killed process can be told from one in use and swept (lib/backup/scratch.js does the
//! sweeping, for both backends).

use crate::error::{Error, Result};

/// The start of every scratch folder's name (lib/backup/scratch.js matches the same).
pub const PREFIX: &str = "sr-db-";

/// A new 0700 scratch folder, removed when the guard drops.
pub fn new() -> Result<tempfile::TempDir> {
    let owner = format!(
        "{PREFIX}{}-{}-",
        std::process::id(),
        crate::process::own_start_time_s().unwrap_or(0)
    );
    let mut builder = tempfile::Builder::new();
    builder.prefix(&owner);
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700));
    builder
        .tempdir()
        .map_err(|e| Error::io("Cannot make a private folder for a database copy", e))
}
