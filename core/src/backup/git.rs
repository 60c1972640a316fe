//! Git, always run as `git <args...>` with an argument list and a working directory: a
//! path with spaces or quotes is one argument, never shell text (legacy built
//! `cd <root> && git ...` strings).

use std::ffi::OsStr;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use super::cancel::{cancelled, Cancel};
use crate::error::{Code, Error, Result};

/// Run git in `cwd` and return its stdout; a missing git is `ENOCOMMAND`, a failing one
/// `ECOMMAND` with git's own stderr in the message.
pub fn run(cwd: &Path, args: &[&OsStr]) -> Result<String> {
    let output = command(cwd, args).output().map_err(not_started)?;
    stdout_of(args, output)
}

/// The same, killing git (and what it started: `bundle` runs `pack-objects`) as soon as
/// `cancel` fires, which then fails with `ECANCELED`.
pub fn run_cancellable(cwd: &Path, args: &[&OsStr], cancel: &Cancel) -> Result<String> {
    cancel.check(format!("git {}", words(args)))?;
    let mut cmd = command(cwd, args);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        // its own process group: one kill reaches git's children too, and a Ctrl+C typed at
        // the terminal reaches us only (we stop git ourselves)
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let mut child = cmd.spawn().map_err(not_started)?;
    // both pipes drained meanwhile, so that git never blocks on a full one
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let mut pause = Duration::from_millis(1);
    let status = loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| Error::io("Cannot wait for git", e))?
        {
            break status;
        }
        if cancel.is_cancelled() {
            kill_group(&mut child);
            // the pipe readers end once the group is gone; they are not waited for
            return Err(cancelled(format!("git {}", words(args))));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(POLL);
    };
    let output = Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    };
    stdout_of(args, output)
}

/// The longest wait between two looks at a running git and at the cancel flag.
const POLL: Duration = Duration::from_millis(10);

fn command(cwd: &Path, args: &[&OsStr]) -> Command {
    let mut cmd = Command::new("git");
    cmd.args(args)
        .current_dir(cwd)
        .env("GIT_TERMINAL_PROMPT", "0");
    cmd
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            // a read error only shortens git's message
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// SIGKILL git's process group (its own: see `run_cancellable`), and reap git.
fn kill_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        if let Ok(pid) = libc::pid_t::try_from(child.id()) {
            // SAFETY: kill(2) on a process group we created; no memory is involved.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
        }
    }
    // elsewhere (and should the group kill have failed) git itself
    let _ = child.kill();
    let _ = child.wait();
}

fn words(args: &[&OsStr]) -> String {
    let words: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    words.join(" ")
}

/// git's stdout, or `ECOMMAND` with its stderr when it failed.
fn stdout_of(args: &[&OsStr], output: Output) -> Result<String> {
    if !output.status.success() {
        return Err(Error::new(
            Code::CommandFailed,
            format!(
                "git {} failed ({}): {}",
                words(args),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn not_started(e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        Error::new(
            Code::NoCommand,
            "The git command is not installed or not on PATH (needed for the code backup)",
        )
    } else {
        Error::io("Cannot run git", e)
    }
}

/// True when `dir` is inside a git work tree (a plain folder is backed up without code).
pub fn is_work_tree(dir: &Path) -> Result<bool> {
    let output = match command(
        dir,
        &["rev-parse".as_ref(), "--is-inside-work-tree".as_ref()],
    )
    .output()
    {
        Ok(output) => output,
        Err(e) => return start_failed(dir, e),
    };
    Ok(output.status.success() && String::from_utf8_lossy(&output.stdout).trim() == "true")
}

/// [`is_work_tree`]'s answer when git did not start in `dir`: no work tree when `dir` is no
/// folder (not there, or a file: the spawn's ENOENT names the folder as much as the
/// program), else the error of starting git (`ENOCOMMAND` when git is not on PATH).
fn start_failed(dir: &Path, e: std::io::Error) -> Result<bool> {
    if dir.is_dir() {
        Err(not_started(e))
    } else {
        Ok(false)
    }
}

/// `git bundle create <dest> --all`, run in `root`, without what the commits `exclude` (full
/// hex object ids) already reach: an incremental bundle whose prerequisites are those
/// commits. `cancel` kills it (a large history bundles for seconds).
pub fn bundle(root: &Path, dest: &Path, exclude: &[String], cancel: &Cancel) -> Result<()> {
    let nots = exclude
        .iter()
        .map(|oid| check_oid(oid).map(|()| format!("^{oid}")))
        .collect::<Result<Vec<_>>>()?;
    let mut args: Vec<&OsStr> = vec![
        "bundle".as_ref(),
        "create".as_ref(),
        dest.as_os_str(),
        "--all".as_ref(),
    ];
    args.extend(nots.iter().map(OsStr::new));
    run_cancellable(root, &args, cancel)?;
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

/// An object id as git prints it (40 or 64 lowercase hex digits): never an option or a
/// revision expression.
fn check_oid(oid: &str) -> Result<()> {
    let hex = oid
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if hex && matches!(oid.len(), 40 | 64) {
        return Ok(());
    }
    Err(Error::new(
        Code::InvalidArg,
        format!("{oid:?} is not a git object id (40 or 64 lowercase hex digits)"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) {
        let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
        run(dir, &args).unwrap();
    }

    /// The commits an incremental bundle leaves out are full object ids only (40 or 64
    /// lowercase hex digits, SHA-1 or SHA-256): an option, a revision expression or a short or
    /// upper-case id is refused before git runs.
    #[test]
    fn excluded_commits_are_full_object_ids_only() {
        let sha1 = "0123456789abcdef0123456789abcdef01234567";
        let sha256 = "a1".repeat(32);
        assert!(check_oid(sha1).is_ok());
        assert!(check_oid(&sha256).is_ok());
        let long = format!("{sha1}0");
        let upper = sha1.to_uppercase();
        let not_hex = "g".repeat(40);
        for bad in [
            "",
            "--output=x",
            "HEAD~1",
            &sha1[..39],
            &long,
            &upper,
            &not_hex,
        ] {
            assert_eq!(
                check_oid(bad).unwrap_err().code(),
                Code::InvalidArg,
                "{bad:?}"
            );
        }
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
        bundle(&root, &dest, &[], &Cancel::new()).unwrap();
        let verify = run(
            &root,
            &["bundle".as_ref(), "verify".as_ref(), dest.as_os_str()],
        );
        assert!(verify.is_ok(), "{verify:?}");
    }

    #[test]
    fn a_cancel_kills_git_and_what_it_started_at_once() {
        use std::sync::atomic::{AtomicU64, Ordering};
        let tmp = tempfile::tempdir().unwrap();
        let counter: &'static AtomicU64 = Box::leak(Box::new(AtomicU64::new(0)));
        let cancel = Cancel::on(counter);
        // an alias run through the shell: git, sh and sleep, three processes of one group
        let args: Vec<&OsStr> = ["-c", "alias.slow=!sleep 30", "slow"]
            .iter()
            .map(|a| a.as_ref())
            .collect();
        let bump = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            counter.fetch_add(1, Ordering::SeqCst);
        });
        let started = std::time::Instant::now();
        let err = run_cancellable(tmp.path(), &args, &cancel).unwrap_err();
        bump.join().unwrap();
        assert_eq!(err.code().as_str(), "ECANCELED");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        // already cancelled: git is not even started
        let err = bundle(tmp.path(), &tmp.path().join("x.bundle"), &[], &cancel).unwrap_err();
        assert_eq!(err.code().as_str(), "ECANCELED");
        assert!(!tmp.path().join("x.bundle").exists());
    }

    /// A folder that is not there, or a file, is no work tree: not "git is not installed"
    /// (the spawn fails with ENOENT / ENOTDIR for the working folder).
    #[test]
    fn a_missing_folder_or_a_file_is_not_a_work_tree() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(!is_work_tree(&tmp.path().join("missing")).unwrap());
        let file = tmp.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        assert!(!is_work_tree(&file).unwrap());
        // in a folder that is there, a failed start is git's: not on PATH is ENOCOMMAND
        let not_found = || std::io::Error::from(std::io::ErrorKind::NotFound);
        let err = start_failed(tmp.path(), not_found()).unwrap_err();
        assert_eq!(err.code(), Code::NoCommand);
        assert!(!start_failed(&tmp.path().join("missing"), not_found()).unwrap());
    }

    #[test]
    fn a_plain_folder_is_not_a_work_tree() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(!is_work_tree(tmp.path()).unwrap());
        let err = bundle(
            tmp.path(),
            &tmp.path().join("x.bundle"),
            &[],
            &Cancel::new(),
        )
        .unwrap_err();
        assert_eq!(err.code(), Code::CommandFailed);
        // an exclusion that is not an object id never reaches git (no option, no expression)
        for bad in [
            "--output=/tmp/x",
            "HEAD~1",
            &"A".repeat(40),
            &"a".repeat(39),
        ] {
            let err = bundle(
                tmp.path(),
                &tmp.path().join("x.bundle"),
                &[bad.to_string()],
                &Cancel::new(),
            )
            .unwrap_err();
            assert_eq!(err.code(), Code::InvalidArg, "{bad}");
        }
    }

    /// git answers "false" (and succeeds) inside a repository's .git folder: not a work tree.
    #[test]
    fn the_git_folder_itself_is_not_a_work_tree() {
        let tmp = tempfile::tempdir().unwrap();
        git(tmp.path(), &["init", "-q"]);
        assert!(is_work_tree(tmp.path()).unwrap());
        assert!(!is_work_tree(&tmp.path().join(".git")).unwrap());
    }

    /// A failing git is ECOMMAND naming the command it ran; a git that cannot be found is
    /// ENOCOMMAND, any other failure to start it its OS error.
    #[test]
    fn failures_name_the_command_and_a_missing_git_is_enocommand() {
        let tmp = tempfile::tempdir().unwrap();
        let err = run(tmp.path(), &["no-such-subcommand".as_ref(), "--x".as_ref()]).unwrap_err();
        assert_eq!(err.code(), Code::CommandFailed, "{err}");
        assert!(
            err.message()
                .starts_with("git no-such-subcommand --x failed"),
            "{err}"
        );
        let missing = not_started(std::io::Error::from(std::io::ErrorKind::NotFound));
        assert_eq!(missing.code(), Code::NoCommand);
        #[cfg(unix)]
        {
            let denied = not_started(std::io::Error::from_raw_os_error(libc::EACCES));
            assert_eq!(denied.code().as_str(), "EACCES");
        }
    }

    /// A cancel kills git and what it started (its whole process group): a command an alias
    /// runs through the shell never gets to finish.
    #[cfg(unix)]
    #[test]
    fn a_cancel_kills_git_and_its_children() {
        use std::sync::atomic::{AtomicU64, Ordering};
        let tmp = tempfile::tempdir().unwrap();
        let marker = tmp.path().join("finished");
        let alias = format!("alias.slow=!sleep 0.6; touch '{}'", marker.display());
        let counter: &'static AtomicU64 = Box::leak(Box::new(AtomicU64::new(0)));
        let cancel = Cancel::on(counter);
        let canceller = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            counter.fetch_add(1, Ordering::SeqCst);
        });
        let args: [&OsStr; 3] = ["-c".as_ref(), alias.as_ref(), "slow".as_ref()];
        let err = run_cancellable(tmp.path(), &args, &cancel).unwrap_err();
        canceller.join().unwrap();
        assert_eq!(err.code().as_str(), "ECANCELED", "{err}");
        std::thread::sleep(Duration::from_millis(1_000));
        assert!(
            !marker.exists(),
            "the alias's shell went on after the cancel"
        );
    }
}
