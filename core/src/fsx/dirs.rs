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
