//! Crash-safe replacement of a file's content.
//!
//! The new bytes go to a temp file created exclusively, with an unpredictable name, in the
//! target's own directory (so the rename never crosses file systems); it is fsynced, renamed
//! over the target, and the directory is fsynced so the rename itself survives a power loss.
//! A reader, or a process killed at any instant, sees the whole old file or the whole new one.
//!
//! Temp names carry a recognisable marker and the writer's pid
//! (`.<name>.sr-tmp-<pid>-<random>`), so the next write into the directory can remove the
//! temps of writers that died mid-way.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{check_path, Error, Result};
use crate::process;

/// The marker in every temp file name this module creates.
pub const TEMP_MARKER: &str = ".sr-tmp-";

#[derive(Debug, Clone, Copy)]
pub struct WriteOptions {
    /// Flush the file and its directory to stable storage. Off trades durability after a
    /// power loss (never atomicity) for speed.
    pub fsync: bool,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions { fsync: true }
    }
}

/// Replace `path`'s content with `data`, atomically. The message of any error is the legacy
/// `Atomic write failed for <path>: <reason>`, its code the errno name.
pub fn atomic_write(path: &Path, data: &[u8], options: WriteOptions) -> Result<()> {
    check_path("filePath", path)
        .map_err(|e| e.context(format!("Atomic write failed for {}", path.display())))?;
    write_replacing(path, data, options)
        .map_err(|e| Error::io(format!("Atomic write failed for {}", path.display()), e))
}

fn write_replacing(path: &Path, data: &[u8], options: WriteOptions) -> io::Result<()> {
    let dir = parent_dir(path);
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    sweep_dead_temps(dir);

    let existing_mode = fs::metadata(path).ok().map(|m| m.permissions());
    let prefix = format!(
        ".{}{TEMP_MARKER}{}-",
        name.to_string_lossy(),
        std::process::id()
    );
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).rand_bytes(12);
    // A new file gets what `open(O_CREAT, 0666)` gives (the umask applies), as the legacy
    // writeFileSync did; tempfile's own default of 0600 would silently hide it from others.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut temp = builder.tempfile_in(dir)?;
    if let Some(mode) = existing_mode {
        temp.as_file().set_permissions(mode)?;
    }
    // through the File: tempfile's own Write wraps an error with its path, and the errno is lost
    temp.as_file_mut().write_all(data)?;
    if options.fsync {
        // On macOS std's sync_all is F_FULLFSYNC, which is what durability needs there.
        temp.as_file().sync_all()?;
    }
    persist_with_retry(temp, path)?;
    if options.fsync {
        sync_dir(dir)?;
    }
    Ok(())
}

/// The directory a path lives in (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Rename the temp over the target. Windows refuses while another handle has the target
/// open (EPERM/EACCES, often an antivirus or indexer holding it for a moment): retry with
/// backoff for about a second, then report. The temp is removed whatever happens.
fn persist_with_retry(mut temp: tempfile::NamedTempFile, target: &Path) -> io::Result<()> {
    let mut delay = Duration::from_millis(5);
    let mut waited = Duration::ZERO;
    loop {
        match temp.persist(target) {
            Ok(_) => return Ok(()),
            Err(e) if is_transient_rename_error(&e.error) && waited < Duration::from_secs(1) => {
                temp = e.file;
                std::thread::sleep(delay);
                waited += delay;
                delay = (delay * 2).min(Duration::from_millis(200));
            }
            Err(e) => return Err(e.error), // dropping e.file removes the temp
        }
    }
}

fn is_transient_rename_error(err: &io::Error) -> bool {
    cfg!(windows) && err.kind() == io::ErrorKind::PermissionDenied
}

/// fsync a directory so a rename in it is durable. Windows has no directory handles to
/// flush; NTFS journals the rename itself.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Remove temp files in `dir` whose writer is dead: ours (`.<name>.sr-tmp-<pid>-<rand>`)
/// and the legacy module's (`<name>.tmp.<ms>.<pid>`). Best effort: a temp we cannot judge
/// or remove is left alone.
pub fn sweep_dead_temps(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let me = std::process::id();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = temp_writer_pid(&name.to_string_lossy()) else {
            continue;
        };
        if pid != me && process::is_dead(pid, None) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// The pid of the process that created a temp file, if `name` is one of ours or legacy's.
pub fn temp_writer_pid(name: &str) -> Option<u32> {
    if let Some(at) = name.find(TEMP_MARKER) {
        if !name.starts_with('.') {
            return None;
        }
        let (pid, _random) = name[at + TEMP_MARKER.len()..].split_once('-')?;
        return pid.parse().ok();
    }
    // Legacy: `<name>.tmp.<Date.now()>.<pid>`.
    let (rest, pid) = name.rsplit_once('.')?;
    let (rest, ms) = rest.rsplit_once('.')?;
    let is_legacy = (rest.ends_with(".tmp") || rest == "tmp")
        && ms.len() >= 12
        && ms.bytes().all(|b| b.is_ascii_digit());
    if is_legacy {
        pid.parse().ok()
    } else {
        None
    }
}

/// Temp files of this process in `dir` (used by tests and by exit cleanup).
pub fn own_temps(dir: &Path) -> Vec<PathBuf> {
    let me = std::process::id();
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| temp_writer_pid(&e.file_name().to_string_lossy()) == Some(me))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::names_in;
    #[cfg(unix)]
    use std::fs::Permissions;

    #[test]
    fn writes_new_and_replaces_existing_files() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("t.json");
        atomic_write(&target, b"{\"a\":1}", WriteOptions::default()).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"{\"a\":1}");
        atomic_write(&target, b"{\"a\":2}", WriteOptions { fsync: false }).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"{\"a\":2}");
        assert_eq!(names_in(tmp.path()), vec!["t.json"]);
    }

    #[cfg(unix)]
    #[test]
    fn keeps_the_mode_of_an_existing_file() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("secret");
        fs::write(&target, b"old").unwrap();
        fs::set_permissions(&target, Permissions::from_mode(0o640)).unwrap();
        atomic_write(&target, b"new", WriteOptions::default()).unwrap();
        let mode = fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
    }

    #[test]
    fn a_missing_directory_fails_with_enoent_and_leaves_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("no/such/dir/t.json");
        let err = atomic_write(&target, b"x", WriteOptions::default()).unwrap_err();
        assert_eq!(err.code().as_str(), "ENOENT");
        assert!(err
            .message()
            .starts_with(&format!("Atomic write failed for {}: ", target.display())));
        assert!(names_in(tmp.path()).is_empty());
    }

    #[test]
    fn a_bare_file_name_lives_in_the_current_directory() {
        assert_eq!(parent_dir(Path::new("t.json")), Path::new("."));
        assert_eq!(parent_dir(Path::new("a/t.json")), Path::new("a"));
        assert_eq!(parent_dir(Path::new("/t.json")), Path::new("/"));
    }

    /// A rename that fails for good (the target is a directory) is reported at once with its
    /// errno, the directory is untouched and no temp is left (on Linux nothing is retried).
    #[cfg(unix)]
    #[test]
    fn replacing_a_directory_fails_and_leaves_no_temp() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("t.json");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("inside"), b"kept").unwrap();
        let err = atomic_write(&target, b"{}", WriteOptions::default()).unwrap_err();
        assert_eq!(err.code().as_str(), "EISDIR");
        assert_eq!(fs::read(target.join("inside")).unwrap(), b"kept");
        assert_eq!(names_in(tmp.path()), vec!["t.json"]);
    }

    #[test]
    fn bad_paths_are_refused_before_any_io() {
        let err = atomic_write(Path::new(""), b"x", WriteOptions::default()).unwrap_err();
        assert_eq!(err.code().as_str(), "EBADPATH");
        let err = atomic_write(Path::new("a\0b"), b"x", WriteOptions::default()).unwrap_err();
        assert_eq!(err.code().as_str(), "EBADPATH");
    }

    #[test]
    fn temps_of_dead_writers_are_swept_and_live_ones_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let dead = crate::testutil::dead_pid();
        let dead_temp = format!(".t.json{TEMP_MARKER}{dead}-abcdef");
        let legacy_temp = format!("t.json.tmp.1757344468688.{dead}");
        let live_temp = format!(".t.json{TEMP_MARKER}{}-abcdef", std::process::id());
        for name in [&dead_temp, &legacy_temp, &live_temp] {
            fs::write(tmp.path().join(name), b"partial").unwrap();
        }
        atomic_write(&tmp.path().join("t.json"), b"{}", WriteOptions::default()).unwrap();
        assert_eq!(names_in(tmp.path()), vec![live_temp, "t.json".to_string()]);
    }

    /// The sweep must ask whether a writer is alive: a temp named with another process's pid
    /// (ours or legacy's format) is kept while that process lives, and swept once it is dead.
    #[test]
    fn temps_of_another_live_writer_are_kept_until_it_dies() {
        let tmp = tempfile::tempdir().unwrap();
        let writer = crate::testutil::LiveChild::spawn();
        let pid = writer.pid();
        let ours = format!(".t.json{TEMP_MARKER}{pid}-abcdef");
        let legacy = format!("t.json.tmp.1757344468688.{pid}");
        for name in [&ours, &legacy] {
            fs::write(tmp.path().join(name), b"partial").unwrap();
        }
        let target = tmp.path().join("t.json");
        atomic_write(&target, b"{}", WriteOptions::default()).unwrap();
        let mut kept = vec![ours.clone(), legacy.clone(), "t.json".to_string()];
        kept.sort();
        assert_eq!(names_in(tmp.path()), kept, "a live writer's temps are kept");
        writer.kill();
        atomic_write(&target, b"{}", WriteOptions::default()).unwrap();
        assert_eq!(
            names_in(tmp.path()),
            vec!["t.json"],
            "a dead writer's are swept"
        );
    }

    /// Run by [`fsync_calls`] in a process of its own: one atomic write, as the environment says.
    #[test]
    #[ignore = "helper process for other tests"]
    fn helper_atomic_write_once() {
        let Some(target) = std::env::var_os("SR_CORE_TEST_TARGET") else {
            return;
        };
        let fsync = std::env::var("SR_CORE_TEST_FSYNC").as_deref() == Ok("1");
        atomic_write(Path::new(&target), b"{}", WriteOptions { fsync }).unwrap();
    }

    /// The fsync/fdatasync calls of one atomic write, counted by strace in a process of its
    /// own; `None` where strace is not installed.
    fn fsync_calls(fsync: bool) -> Option<usize> {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("t.json");
        let flag = std::ffi::OsStr::new(if fsync { "1" } else { "0" });
        let calls = crate::testutil::syscalls_of(
            "fsx::atomic::tests::helper_atomic_write_once",
            &[
                ("SR_CORE_TEST_TARGET", target.as_os_str()),
                ("SR_CORE_TEST_FSYNC", flag),
            ],
            &["fsync", "fdatasync"],
        )?;
        assert_eq!(fs::read(&target).unwrap(), b"{}");
        Some(calls.iter().sum())
    }

    /// Durability: the temp file is flushed before the rename and the directory after it;
    /// `fsync: false` flushes nothing. (Only a syscall trace can see a missing flush.)
    #[test]
    fn the_file_and_its_directory_are_fsynced_unless_asked_not_to() {
        let Some(with) = fsync_calls(true) else {
            eprintln!("strace is not installed: durability not checked here");
            return;
        };
        assert_eq!(with, 2, "one flush of the file, one of its directory");
        assert_eq!(fsync_calls(false), Some(0));
    }

    #[test]
    fn own_temps_are_this_process_s_only() {
        let tmp = tempfile::tempdir().unwrap();
        let me = std::process::id();
        let mine = format!(".t.json{TEMP_MARKER}{me}-abcdef");
        let legacy_mine = format!("t.json.tmp.1757344468688.{me}");
        for name in [
            mine.as_str(),
            legacy_mine.as_str(),
            ".t.json.sr-tmp-1-abcdef",
            "t.json",
        ] {
            fs::write(tmp.path().join(name), b"x").unwrap();
        }
        let mut own: Vec<String> = own_temps(tmp.path())
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        own.sort();
        assert_eq!(own, vec![mine, legacy_mine]);
        assert!(own_temps(&tmp.path().join("missing")).is_empty());
    }

    #[test]
    fn temp_names_are_parsed_strictly() {
        assert_eq!(temp_writer_pid(".x.sr-tmp-42-abc"), Some(42));
        assert_eq!(temp_writer_pid("x.tmp.1757344468688.42"), Some(42));
        assert_eq!(temp_writer_pid("tmp.1757344468688.42"), Some(42));
        assert_eq!(temp_writer_pid("notes.1757344468688.42"), None);
        assert_eq!(temp_writer_pid("x.sr-tmp-42-abc"), None);
        assert_eq!(temp_writer_pid("notes.txt"), None);
        assert_eq!(temp_writer_pid("a.tmp.5.42"), None);
    }

    /// Open `path` the way an editor, indexer or antivirus does on Windows: others may read
    /// it, but not delete or replace it while this handle lives.
    #[cfg(windows)]
    fn hold_open(path: &Path) -> fs::File {
        use std::os::windows::fs::OpenOptionsExt;
        const FILE_SHARE_READ: u32 = 1;
        fs::OpenOptions::new()
            .read(true)
            .share_mode(FILE_SHARE_READ)
            .open(path)
            .unwrap()
    }

    /// The case the retry exists for: a plain rename over the held target is refused
    /// (Access denied, EPERM), and the atomic write still lands once the holder lets go.
    #[cfg(windows)]
    #[test]
    fn replacing_a_target_held_open_for_a_moment_succeeds_after_retrying() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("t.json");
        fs::write(&target, b"old").unwrap();
        let holder = hold_open(&target);

        let probe = tmp.path().join("probe");
        fs::write(&probe, b"probe").unwrap();
        let refused = fs::rename(&probe, &target).unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::PermissionDenied);
        fs::remove_file(&probe).unwrap();

        // Released well inside the retry budget (about a second).
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(60));
            drop(holder);
        });
        atomic_write(&target, b"new", WriteOptions::default()).unwrap();
        releaser.join().unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"new");
        assert_eq!(names_in(tmp.path()), vec!["t.json"]);
    }

    /// A holder that never lets go: after the retries the write is reported as EPERM with
    /// the legacy message, the target keeps its old content and no temp is left behind.
    #[cfg(windows)]
    #[test]
    fn replacing_a_target_held_open_throughout_reports_eperm_and_keeps_it() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("t.json");
        fs::write(&target, b"old").unwrap();
        let holder = hold_open(&target);
        let err = atomic_write(&target, b"new", WriteOptions::default()).unwrap_err();
        drop(holder);
        assert_eq!(err.code().as_str(), "EPERM");
        assert!(
            err.message().starts_with(&format!(
                "Atomic write failed for {}: EPERM: ",
                target.display()
            )),
            "{}",
            err.message()
        );
        assert_eq!(fs::read(&target).unwrap(), b"old");
        assert_eq!(names_in(tmp.path()), vec!["t.json"]);
    }

    /// Only "Access denied" (a handle holding the target for a moment) is worth waiting
    /// for: any other failed rename (no such folder, a full disk, ...) is reported at once,
    /// not after a second of retries.
    #[cfg(windows)]
    #[test]
    fn only_access_denied_is_retried() {
        let denied = io::Error::from(io::ErrorKind::PermissionDenied);
        assert!(is_transient_rename_error(&denied));
        for kind in [
            io::ErrorKind::NotFound,
            io::ErrorKind::AlreadyExists,
            io::ErrorKind::Other,
        ] {
            assert!(
                !is_transient_rename_error(&io::Error::from(kind)),
                "{kind:?}"
            );
        }
    }
}
