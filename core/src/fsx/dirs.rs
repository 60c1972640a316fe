//! The lock and backup directories: created owner-only, and refused when they are a
//! symlink or belong to another user (a shared `/tmp` is where those attacks live).

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{check_path, Code, Error, Result};

/// The directory named by `env_var`, else `<temp dir>/<name>` (the legacy default, so
/// legacy processes and ours meet in the same place).
pub fn default_dir(env_var: &str, name: &str) -> PathBuf {
    match std::env::var_os(env_var) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => std::env::temp_dir().join(name),
    }
}

/// Make sure `dir` exists, is a real directory, and is ours; create it (mode 0700) if missing.
/// One of ours that others may read or write (legacy made its lock folder 0755) is
/// tightened to 0700, with one warning on stderr.
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    check_path("directory", dir)?;
    if fs::symlink_metadata(dir).is_err() {
        create_private(dir)
            .map_err(|e| Error::io(format!("Cannot create directory {}", dir.display()), e))?;
    }
    check_trusted(dir)?;
    let held = super::beneath::Dir::open(dir)?;
    let before = held.owner_mode()?;
    if held.make_private()? {
        if let Some((_, mode)) = before {
            eprintln!(
                "session-resilience: warning: {} was mode {mode:o}; made owner-only (0700)",
                dir.display()
            );
        }
    }
    Ok(())
}

fn create_private(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Refuse a directory that is a symlink, not a directory, or owned by another user.
pub fn check_trusted(dir: &Path) -> Result<()> {
    let meta = fs::symlink_metadata(dir)
        .map_err(|e| Error::io(format!("Cannot use directory {}", dir.display()), e))?;
    if meta.file_type().is_symlink() {
        return Err(Error::new(
            Code::UnsafeDir,
            format!(
                "Refusing directory {}: it is a symbolic link",
                dir.display()
            ),
        ));
    }
    if !meta.is_dir() {
        return Err(Error::new(
            Code::Os("ENOTDIR"),
            format!("Cannot use directory {}: not a directory", dir.display()),
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            let writable = if meta.mode() & 0o022 != 0 {
                " and writable by others"
            } else {
                ""
            };
            return Err(Error::new(
                Code::UnsafeDir,
                format!(
                    "Refusing directory {}: owned by uid {}, not by this user (uid {me}){writable}; \
                     remove it or choose another folder",
                    dir.display(),
                    meta.uid()
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_owner_only_directories() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        ensure_private_dir(&dir).unwrap();
        assert!(dir.is_dir());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&dir).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        ensure_private_dir(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn tightens_an_own_0755_directory() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("legacy-locks");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        ensure_private_dir(&dir).unwrap();
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
    }

    #[cfg(unix)]
    #[test]
    fn refuses_a_symlinked_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real");
        fs::create_dir(&real).unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert_eq!(
            ensure_private_dir(&link).unwrap_err().code(),
            Code::UnsafeDir
        );
    }

    /// A folder another user owns is refused and left as it is, whatever its mode: the owner
    /// check is the only thing that refuses it (the open below does not, and as root the
    /// tightening would even succeed on someone else's folder). Needs root to make such a
    /// folder; as another user the test says so and checks nothing.
    #[cfg(unix)]
    #[test]
    fn refuses_and_leaves_alone_a_directory_of_another_user() {
        use std::os::unix::fs::PermissionsExt;
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: only root can give a folder to another user");
            return;
        }
        const NOBODY: u32 = 65534;
        let tmp = tempfile::tempdir().unwrap();
        for mode in [0o700, 0o777] {
            let dir = tmp.path().join(format!("theirs-{mode:o}"));
            fs::create_dir(&dir).unwrap();
            std::os::unix::fs::chown(&dir, Some(NOBODY), Some(NOBODY)).unwrap();
            fs::set_permissions(&dir, fs::Permissions::from_mode(mode)).unwrap();
            let err = ensure_private_dir(&dir).unwrap_err();
            assert_eq!(err.code(), Code::UnsafeDir, "mode {mode:o}");
            assert!(err.to_string().contains("owned by uid 65534"), "{err}");
            let says_writable = err.to_string().contains("writable by others");
            assert_eq!(says_writable, mode & 0o022 != 0, "{err}");
            assert_eq!(check_trusted(&dir).unwrap_err().code(), Code::UnsafeDir);
            let meta = fs::metadata(&dir).unwrap();
            assert_eq!(meta.permissions().mode() & 0o777, mode, "left as it was");
            assert_eq!(std::os::unix::fs::MetadataExt::uid(&meta), NOBODY);
        }
    }

    #[test]
    fn the_default_directory_is_the_variable_s_else_one_in_the_temp_dir() {
        // A variable of this test's own: tests run in parallel in one process.
        const VAR: &str = "SR_CORE_TEST_DEFAULT_DIR";
        let fallback = std::env::temp_dir().join("agenthive-x");
        std::env::remove_var(VAR);
        assert_eq!(default_dir(VAR, "agenthive-x"), fallback);
        std::env::set_var(VAR, "");
        assert_eq!(
            default_dir(VAR, "agenthive-x"),
            fallback,
            "empty counts as unset"
        );
        std::env::set_var(VAR, "/some/where");
        assert_eq!(default_dir(VAR, "agenthive-x"), Path::new("/some/where"));
        std::env::remove_var(VAR);
    }

    #[test]
    fn refuses_a_file() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        fs::write(&file, b"x").unwrap();
        assert_eq!(
            ensure_private_dir(&file).unwrap_err().code().as_str(),
            "ENOTDIR"
        );
    }
}
