//! The OS failure behind a SQLite error. SQLite reports a failed open, fsync or unlink as
//! `SQLITE_CANTOPEN` / `SQLITE_IOERR_*`; the errno and the file are only in its error log
//! (`os_unix.c:NNN: (28) open(/p/db-journal) - No space left on device`).
//! `sqlite3_system_errno` is no substitute: it reads the thread's `errno` when the error
//! reaches the API, after later calls may have changed it (a failed journal open followed by
//! a probe that set ENOENT). So a log callback, installed once (SQLite allows it at any
//! time), keeps the last OS failure logged on each thread; an operation clears it when it
//! starts and reads it when it fails.
//!
//! A failed open needs more: the unix VFS retries a read-write open read-only, and logs the
//! retry's errno (a journal that failed to be created with ENOSPC is logged as ENOENT, "no
//! such file"). So SQLite's `open` system call is wrapped too (`xSetSystemCall`, SQLite's
//! own hook for this): each failed open is recorded with its own errno. The first failure
//! since [`start`] is the one kept: what came after it followed from it.

use std::cell::RefCell;
use std::sync::OnceLock;

/// One failed system call, as SQLite logged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsFailure {
    pub errno: i32,
    /// The call, in SQLite's words (`open`, `full_fsync`, `unlink`...).
    pub call: String,
    pub path: String,
}

thread_local! {
    static LAST: RefCell<Option<OsFailure>> = const { RefCell::new(None) };
}

/// Start recording (once per process) and forget this thread's last failure: call before
/// the SQLite work whose failure [`last`] will explain.
pub fn start() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        // SAFETY: SQLITE_CONFIG_LOG may be set at any time (sqlite3_config's "anytime"
        // options); the callback only parses text and touches a thread-local.
        // A failure leaves the errors without their OS detail, nothing worse.
        let _ = unsafe { rusqlite::trace::config_log(Some(record)) };
        #[cfg(unix)]
        open_hook::install();
    });
    LAST.with(|l| l.borrow_mut().take());
}

/// The last OS failure SQLite logged on this thread since [`start`].
pub fn last() -> Option<OsFailure> {
    LAST.with(|l| l.borrow().clone())
}

fn record(_code: std::ffi::c_int, message: &str) {
    if let Some(failure) = parse(message) {
        keep_first(failure);
    }
}

fn keep_first(failure: OsFailure) {
    LAST.with(|l| {
        l.borrow_mut().get_or_insert(failure);
    });
}

#[cfg(unix)]
mod open_hook {
    use std::ffi::{c_char, c_int, CStr};
    use std::sync::atomic::{AtomicUsize, Ordering};

    use rusqlite::ffi;

    /// The unix VFS's `open` (SQLite's `posixOpen`), whose signature this is.
    type Open = unsafe extern "C" fn(*const c_char, c_int, c_int) -> c_int;

    static ORIGINAL: AtomicUsize = AtomicUsize::new(0);

    /// Put [`recording_open`] in place of the default VFS's `open`; without a unix VFS (or
    /// its hook) nothing changes.
    pub(super) fn install() {
        // SAFETY: the default VFS lives as long as the process; xGetSystemCall and
        // xSetSystemCall are its documented hooks, "open" one of their names, and the
        // replacement has the signature SQLite calls it with (`osOpen` in os_unix.c).
        unsafe {
            let vfs = ffi::sqlite3_vfs_find(std::ptr::null());
            if vfs.is_null() {
                return;
            }
            let (Some(get), Some(set)) = ((*vfs).xGetSystemCall, (*vfs).xSetSystemCall) else {
                return;
            };
            let Some(original) = get(vfs, c"open".as_ptr()) else {
                return;
            };
            ORIGINAL.store(original as usize, Ordering::SeqCst);
            let ours: Open = recording_open;
            let ours = std::mem::transmute::<Open, unsafe extern "C" fn()>(ours);
            set(vfs, c"open".as_ptr(), Some(ours));
        }
    }

    /// `open`, recording a failure with its errno; errno is left as the call set it, for
    /// SQLite to read.
    unsafe extern "C" fn recording_open(path: *const c_char, flags: c_int, mode: c_int) -> c_int {
        // SAFETY: ORIGINAL holds the VFS's own `open` (stored before this was installed).
        let original =
            unsafe { std::mem::transmute::<usize, Open>(ORIGINAL.load(Ordering::SeqCst)) };
        let fd = unsafe { original(path, flags, mode) };
        if fd < 0 {
            let err = std::io::Error::last_os_error();
            if let Some(errno) = err.raw_os_error() {
                // SAFETY: SQLite passes a NUL-terminated path.
                let path = unsafe { CStr::from_ptr(path) }
                    .to_string_lossy()
                    .into_owned();
                super::keep_first(super::OsFailure {
                    errno,
                    call: "open".into(),
                    path,
                });
                set_errno(errno);
            }
        }
        fd
    }

    fn set_errno(errno: c_int) {
        // SAFETY: the thread's own errno slot.
        unsafe {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            {
                *libc::__errno_location() = errno;
            }
            #[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
            {
                *libc::__error() = errno;
            }
        }
    }
}

/// `os_unix.c:<line>: (<errno>) <call>(<path>) - <strerror>`, or on Windows
/// `os_win.c:<line>: (<GetLastError>) win<Call>(<path>) - <message>` (its open failures
/// are logged there, so Windows needs no open hook: the code is the one `winOpen` got, and
/// [`crate::error::errno_name`] maps it as every other Windows error); anything else is not
/// an OS failure.
fn parse(message: &str) -> Option<OsFailure> {
    let (rest, windows) = match message.strip_prefix("os_unix.c:") {
        Some(rest) => (rest, false),
        None => (message.strip_prefix("os_win.c:")?, true),
    };
    let rest = &rest[rest.find(": (")? + 3..];
    let (errno, rest) = rest.split_once(") ")?;
    let errno: i32 = errno.parse().ok()?;
    let (call, rest) = rest.split_once('(')?;
    let path = &rest[..rest.rfind(") - ")?];
    (errno != 0).then(|| OsFailure {
        errno,
        call: if windows {
            unix_name(call)
        } else {
            call.to_string()
        },
        path: path.to_string(),
    })
}

/// `winOpen` -> `open`, `winDelete` -> `delete`: the call named as on Unix.
fn unix_name(call: &str) -> String {
    let call = call.strip_prefix("win").unwrap_or(call);
    let mut chars = call.chars();
    chars
        .next()
        .map(|first| first.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sqlites_unix_error_lines() {
        let f = parse("os_unix.c:47364: (28) open(/a b/(x)/db-journal) - No space left on device");
        assert_eq!(
            f,
            Some(OsFailure {
                errno: 28,
                call: "open".into(),
                path: "/a b/(x)/db-journal".into()
            })
        );
        assert_eq!(
            parse("statement aborts at 3: [INSERT] disk I/O error"),
            None
        );
        assert_eq!(parse("os_unix.c:1: (0) close() - Success"), None);
    }

    #[test]
    fn reads_sqlites_windows_error_lines() {
        let f = parse(
            "os_win.c:51062: (3) winOpen(C:\\a b\\(x)\\db.sqlite) - The system cannot find the path specified.",
        );
        assert_eq!(
            f,
            Some(OsFailure {
                errno: 3,
                call: "open".into(),
                path: "C:\\a b\\(x)\\db.sqlite".into()
            })
        );
        let f = parse("os_win.c:9: (32) winDelete(C:\\p\\db-journal) - in use").unwrap();
        assert_eq!((f.errno, f.call.as_str()), (32, "delete"));
        assert_eq!(parse("os_win.c:1: (0) winClose(x) - ok"), None);
    }

    /// The folder a helper process works in as `nobody` (see [`as_non_root`]).
    #[cfg(unix)]
    const AS_NOBODY_ENV: &str = "SR_CORE_TEST_AS_NOBODY";

    /// Run `body` (a test of file permissions) in a fresh folder, as a user the permissions
    /// bind: this process when it is not root; else the ignored test `helper`, run in a child
    /// of this test binary that drops to `nobody` first (root may write anywhere, so a
    /// read-only file proves nothing as root).
    #[cfg(unix)]
    fn as_non_root(helper: &str, body: fn(&std::path::Path)) {
        let tmp = tempfile::tempdir().unwrap();
        // SAFETY: plain libc calls on our own ids and on a folder we made.
        if unsafe { libc::geteuid() } != 0 {
            return body(tmp.path());
        }
        std::os::unix::fs::chown(tmp.path(), Some(NOBODY), Some(NOBODY)).unwrap();
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--ignored", "--exact", helper])
            .env(AS_NOBODY_ENV, tmp.path())
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{helper} as nobody: {said}");
        assert!(
            tmp.path().join("done").exists(),
            "{helper} did not run: {said}"
        );
    }

    #[cfg(unix)]
    const NOBODY: u32 = 65534;

    /// The body of a helper test: as `nobody`, `body` in the folder [`as_non_root`] named.
    /// Does nothing when run as an ordinary ignored test.
    #[cfg(unix)]
    fn run_as_nobody(body: fn(&std::path::Path)) {
        let Some(dir) = std::env::var_os(AS_NOBODY_ENV) else {
            return;
        };
        // SAFETY: this helper process gives up root for good, before any file work.
        unsafe {
            assert_eq!(libc::setgroups(0, std::ptr::null()), 0);
            assert_eq!(libc::setgid(NOBODY), 0);
            assert_eq!(libc::setuid(NOBODY), 0);
        }
        let dir = std::path::Path::new(&dir);
        body(dir);
        std::fs::write(dir.join("done"), "").unwrap();
    }

    /// A read-write open refused (EACCES) and retried read-only by SQLite, which succeeds:
    /// the refusal is what is kept (the log alone says nothing of it).
    #[cfg(unix)]
    fn read_only_file(dir: &std::path::Path) {
        use std::os::unix::fs::PermissionsExt;
        let db = dir.join("db.sqlite");
        std::fs::write(&db, "").unwrap();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o400)).unwrap();
        start();
        let conn = rusqlite::Connection::open(&db).unwrap();
        assert!(conn.execute_batch("CREATE TABLE t(v)").is_err());
        let f = last().expect("the failed read-write open was recorded");
        assert_eq!((f.errno, f.call.as_str()), (libc::EACCES, "open"));
    }

    #[cfg(unix)]
    #[test]
    fn the_first_failed_open_is_kept_not_the_read_only_retry() {
        as_non_root(
            "backup::sqlite_os::tests::read_only_file_as_nobody",
            read_only_file,
        );
    }

    #[cfg(unix)]
    #[test]
    #[ignore = "helper process for the_first_failed_open_is_kept_not_the_read_only_retry"]
    fn read_only_file_as_nobody() {
        run_as_nobody(read_only_file);
    }

    /// A journal that cannot be deleted at commit (its folder is read-only; the journal
    /// itself was left there, empty, so it could be written): SQLite only logs that failure
    /// (no failed open), and the log is where the errno and the call come from.
    #[cfg(unix)]
    fn undeletable_journal(dir: &std::path::Path) {
        use std::os::unix::fs::PermissionsExt;
        let db = dir.join("db.sqlite");
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("PRAGMA journal_mode=DELETE; CREATE TABLE t(v)")
            .unwrap();
        std::fs::write(dir.join("db.sqlite-journal"), "").unwrap();
        let mode = |m| std::fs::Permissions::from_mode(m);
        std::fs::set_permissions(dir, mode(0o555)).unwrap();
        start();
        let failed = conn.execute("INSERT INTO t VALUES (1)", []);
        std::fs::set_permissions(dir, mode(0o755)).unwrap();
        assert!(failed.is_err(), "the commit could not delete its journal");
        let f = last().expect("the failed unlink was logged");
        assert_eq!((f.errno, f.call.as_str()), (libc::EACCES, "unlink"));
        assert_eq!(f.path, dir.join("db.sqlite-journal").to_string_lossy());
    }

    #[cfg(unix)]
    #[test]
    fn a_failure_sqlite_only_logs_is_recorded_from_its_log() {
        as_non_root(
            "backup::sqlite_os::tests::undeletable_journal_as_nobody",
            undeletable_journal,
        );
    }

    #[cfg(unix)]
    #[test]
    #[ignore = "helper process for a_failure_sqlite_only_logs_is_recorded_from_its_log"]
    fn undeletable_journal_as_nobody() {
        run_as_nobody(undeletable_journal);
    }

    /// A database in a folder that does not exist: the failed open is recorded with its own
    /// code (Unix: the open hook; Windows: `winOpen`'s log line), read as ENOENT.
    #[test]
    fn a_failed_open_is_recorded_with_its_errno_and_path() {
        start();
        let tmp = tempfile::tempdir().unwrap();
        let missing = tmp.path().join("no/such/dir/db.sqlite");
        assert!(rusqlite::Connection::open(&missing).is_err());
        let f = last().expect("the failed open was logged");
        let why = std::io::Error::from_raw_os_error(f.errno);
        assert_eq!(crate::error::errno_name(&why), "ENOENT", "{f:?}");
        assert_eq!(f.call, "open");
        // Windows' SQLite logs the full path it made, with its own separators
        let sep = |p: &str| p.replace('\\', "/");
        assert_eq!(sep(&f.path), sep(&missing.to_string_lossy()));
    }

    /// A folder opened as a database: EISDIR, not retried read-only. (Not on Windows: under
    /// Wine SQLite logs no failed open for a folder, so there is nothing to check.)
    #[cfg(unix)]
    #[test]
    fn a_folder_opened_as_a_database_is_recorded() {
        start();
        let tmp = tempfile::tempdir().unwrap();
        assert!(rusqlite::Connection::open(tmp.path()).is_err());
        let f = last().expect("the failed open was logged");
        assert_eq!((f.errno, f.call.as_str()), (libc::EISDIR, "open"));
    }
}
