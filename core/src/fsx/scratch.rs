//! Private scratch folders for SQLite's work. SQLite opens files by name and resolves every
//! link in a path itself (its journal too), so it is never given a path looked up again
//! inside the project or `backups/`, where a folder swapped for a link would redirect it.
//! Either it works on copies in a folder of the temp dir, the bytes moving in and out through
//! held folder handles ([`super::beneath::Dir`]); or, on Linux, it is given held paths
//! (`crate::backup::sqlite_held`) and a restore's scratch folder sits in the held `backups/`
//! (same file system as the project: its results move into place by rename, not by copy).
//!
//! The name carries the owner, `sr-db-<pid>-<start time s>-<random>`, so that a folder left
//! by a killed process can be told from one in use and swept (lib/js/scratch.js does the
//! sweeping, for both backends, in the temp dir and in `backups/`).

use crate::error::{Error, Result};

/// The start of every scratch folder's name (lib/backup/scratch.js matches the same).
pub const PREFIX: &str = "sr-db-";

/// `sr-db-<pid>-<start time s>-`: who made a scratch folder (the sweep reads it back).
fn owner() -> String {
    format!(
        "{PREFIX}{}-{}-",
        std::process::id(),
        crate::process::own_start_time_s().unwrap_or(0)
    )
}

/// A new 0700 scratch folder in the temp dir, removed when the guard drops.
pub fn new() -> Result<tempfile::TempDir> {
    let mut builder = tempfile::Builder::new();
    let owner = owner();
    builder.prefix(&owner);
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700));
    builder
        .tempdir()
        .map_err(|e| Error::io("Cannot make a private folder for a database copy", e))
}

/// A fresh scratch folder name to create (exclusively) in a folder of ours, such as the held
/// `backups/` of a restore: the owner, then 16 hex digits that differ between calls.
pub fn name() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    format!("{}{:08x}{:08x}", owner(), nanos, seq as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `sr-db-<pid>-<start time s>-`: what the sweep (lib/js/scratch.js) reads back to tell a
    /// folder in use from one a killed process left.
    fn expected_owner() -> String {
        let start = crate::process::own_start_time_s().unwrap();
        format!("sr-db-{}-{start}-", std::process::id())
    }

    #[test]
    fn names_carry_their_owner_and_differ() {
        let (a, b) = (name(), name());
        assert_ne!(a, b);
        for n in [a, b] {
            let tail = n.strip_prefix(&expected_owner()).expect(&n);
            assert_eq!(tail.len(), 16, "{n}");
            assert!(tail.bytes().all(|c| c.is_ascii_hexdigit()), "{n}");
        }
    }

    #[test]
    fn a_scratch_folder_is_private_owned_and_removed_with_its_guard() {
        let dir = new().unwrap();
        let path = dir.path().to_path_buf();
        assert!(path.is_dir());
        assert_eq!(path.parent(), Some(std::env::temp_dir().as_path()));
        let file_name = path.file_name().unwrap().to_str().unwrap();
        assert!(file_name.starts_with(&expected_owner()), "{file_name}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        drop(dir);
        assert!(!path.exists());
    }
}
