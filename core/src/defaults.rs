//! The defaults both backends share, read once from `lib/js/defaults.json` (the file the JS
//! side reads too), so each is said once across the languages: the environment variables
//! that name the lock and backup directories, those directories' names under the OS temp
//! dir, and the legacy archive exclusions.

use std::path::PathBuf;
use std::sync::LazyLock;

use serde::Deserialize;

use crate::fsx::dirs::default_dir;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Defaults {
    pub env: EnvNames,
    pub dir_names: DirNames,
    pub backup_excludes: Vec<String>,
}

/// Environment variable names.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvNames {
    pub backend: String,
    pub root: String,
    pub lock_dir: String,
    pub backup_dir: String,
}

/// Default directory names under the OS temp dir (shared with legacy processes).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirNames {
    pub lock_dir: String,
    pub backup_dir: String,
}

static DEFAULTS: LazyLock<Defaults> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../lib/js/defaults.json"))
        .expect("lib/js/defaults.json has every field (checked by the tests)")
});

pub fn defaults() -> &'static Defaults {
    &DEFAULTS
}

/// The lock directory when the caller names none: `$SESSION_RESILIENCE_LOCK_DIR`, else
/// `<tmpdir>/agenthive-locks` (the legacy one, shared with legacy processes).
pub fn default_lock_dir() -> PathBuf {
    default_dir(&DEFAULTS.env.lock_dir, &DEFAULTS.dir_names.lock_dir)
}

/// The `backupFile` directory when the caller names none: `$SESSION_RESILIENCE_BACKUP_DIR`,
/// else `<tmpdir>/agenthive-backups`.
pub fn default_backup_dir() -> PathBuf {
    default_dir(&DEFAULTS.env.backup_dir, &DEFAULTS.dir_names.backup_dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shared_file_has_every_field() {
        let d = defaults();
        assert_eq!(d.env.lock_dir, "SESSION_RESILIENCE_LOCK_DIR");
        assert_eq!(d.dir_names.backup_dir, "agenthive-backups");
        assert!(d.backup_excludes.iter().any(|e| e == "node_modules"));
    }

    /// The named folder when its variable is set (npm test sets neither), else the legacy
    /// one in the temp dir, shared with legacy processes.
    #[test]
    fn the_default_folders_are_the_legacy_ones_unless_named() {
        let expected = |var: &str, legacy: &str| match std::env::var_os(var) {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => std::env::temp_dir().join(legacy),
        };
        assert_eq!(
            default_lock_dir(),
            expected("SESSION_RESILIENCE_LOCK_DIR", "agenthive-locks")
        );
        assert_eq!(
            default_backup_dir(),
            expected("SESSION_RESILIENCE_BACKUP_DIR", "agenthive-backups")
        );
    }
}
