//! Git, always run as `git <args...>` with an argument list and a working directory: a
//! path with spaces or quotes is one argument, never shell text (legacy built
//! `cd <root> && git ...` strings).

use std::path::Path;
use std::process::{Command, Output};

use crate::error::{Code, Error, Result};

/// Run git in `cwd` and return its stdout; a missing git is `ENOCOMMAND`, a failing one
/// `ECOMMAND` with git's own stderr in the message.
pub fn run(cwd: &Path, args: &[&std::ffi::OsStr]) -> Result<String> {
    let output = spawn(cwd, args)?;
    if !output.status.success() {
        let words: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        return Err(Error::new(
            Code::CommandFailed,
            format!(
                "git {} failed ({}): {}",
                words.join(" "),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn spawn(cwd: &Path, args: &[&std::ffi::OsStr]) -> Result<Output> {
    Command::new("git")
        .args(args)
        .current_dir(cwd)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::new(
                    Code::NoCommand,
                    "The git command is not installed or not on PATH (needed for the code backup)",
                )
            } else {
                Error::io("Cannot run git", e)
            }
        })
}

/// True when `dir` is inside a git work tree (a plain folder is backed up without code).
pub fn is_work_tree(dir: &Path) -> Result<bool> {
    let output = spawn(
        dir,
        &["rev-parse".as_ref(), "--is-inside-work-tree".as_ref()],
    )?;
    Ok(output.status.success() && String::from_utf8_lossy(&output.stdout).trim() == "true")
}

/// `git bundle create <dest> --all`, run in `root`.
pub fn bundle(root: &Path, dest: &Path) -> Result<()> {
    run(
        root,
        &[
            "bundle".as_ref(),
            "create".as_ref(),
            dest.as_os_str(),
            "--all".as_ref(),
        ],
    )?;
    // git creates the file with the umask's mode: a bundle holds the whole history, so it is
    // made owner-only like everything under backups/ (the file itself, never a link there)
    let bundle = crate::lock::file::open_regular(dest, false)
        .map_err(|e| Error::io(format!("Cannot restrict {}", dest.display()), e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        bundle
            .set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::io(format!("Cannot restrict {}", dest.display()), e))?;
    }
    drop(bundle);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) {
        let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
        run(dir, &args).unwrap();
    }

    #[test]
    fn bundles_a_repository_whose_path_has_spaces_and_quotes() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("my \"repo\" $(x)");
        std::fs::create_dir(&root).unwrap();
        git(&root, &["init", "-q"]);
        std::fs::write(root.join("a.txt"), "a").unwrap();
        git(&root, &["add", "a.txt"]);
        git(
            &root,
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "commit",
                "-qm",
                "one",
            ],
        );
        assert!(is_work_tree(&root).unwrap());
        let dest = tmp.path().join("out dir/repo.bundle");
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        bundle(&root, &dest).unwrap();
        let verify = run(
            &root,
            &["bundle".as_ref(), "verify".as_ref(), dest.as_os_str()],
        );
        assert!(verify.is_ok(), "{verify:?}");
    }

    #[test]
    fn a_plain_folder_is_not_a_work_tree() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(!is_work_tree(tmp.path()).unwrap());
        let err = bundle(tmp.path(), &tmp.path().join("x.bundle")).unwrap_err();
        assert_eq!(err.code(), Code::CommandFailed);
    }
}
