//! Database copies through SQLite's online backup API (bundled SQLite, no system library).
//!
//! Legacy copied a live database byte by byte: a write during the copy gave a torn file.
//! The backup API copies all pages in one step under a read transaction, so the copy is
//! the database as of one instant, whatever other processes write meanwhile (they wait for
//! the busy timeout in rollback mode, and go on writing in WAL mode). A file that is not
//! SQLite is copied as bytes, as legacy did.
//!
//! The source is opened read-write (never created): after a writer crashed mid-transaction,
//! a hot `-journal` must be rolled back before anyone may read the database, and only a
//! connection that may write can do that; a WAL database likewise needs its `-shm` index
//! rebuilt. This is SQLite's own recovery, the one the application runs at its next start:
//! the committed rows stay, the uncommitted ones go. Copying the database and its journal
//! into a private folder and recovering there was the other choice; it reads the live
//! files without SQLite's locks, so a writer active meanwhile could tear the copy.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::backup::Backup;
use rusqlite::{Connection, OpenFlags};

use super::cancel::{cancelled, Cancel, CancelRead};
use super::sqlite_os;
use crate::error::{Code, Error, Result};

/// How long to wait for a writer's lock before giving up. (The functions below take it as a
/// `patience` argument, which the tests set short.)
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// One slice of that wait, SQLite's busy handler on every connection here: the waiting is
/// done by our loops, which see a cancel between slices and give up at the deadline.
const BUSY_SLICE: Duration = Duration::from_millis(20);

/// Pages copied per backup step: 1 MiB at the default 4 KiB page, a few milliseconds of work
/// between two looks at the cancel flag (Ctrl+C must stop a backup within 200 ms).
const PAGES_PER_STEP: std::ffi::c_int = 256;

/// Read-write without create: SQLite may recover a crashed database (see the top).
const RECOVERING: OpenFlags = OpenFlags::SQLITE_OPEN_READ_WRITE
    .union(OpenFlags::SQLITE_OPEN_URI)
    .union(OpenFlags::SQLITE_OPEN_NO_MUTEX);

/// How a database file was copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyKind {
    Sqlite,
    Bytes,
}

impl CopyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CopyKind::Sqlite => "sqlite",
            CopyKind::Bytes => "bytes",
        }
    }
}

/// True when the file starts with SQLite's magic header (a link at the name is not read).
pub fn is_sqlite(path: &Path) -> bool {
    use std::io::Read;
    let mut header = [0u8; 16];
    open_nofollow(path)
        .and_then(|mut f| f.read_exact(&mut header))
        .map(|()| &header == b"SQLite format 3\0")
        .unwrap_or(false)
}

/// Open `path` for reading, never through a link at its last name.
fn open_nofollow(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
    options.open(path)
}

/// Open a connection: a held path (`/proc/<pid>/fd/<n>/<name>`) through the VFS that keeps
/// it held (super::sqlite_held), any other path as SQLite does.
fn open(path: &Path, flags: OpenFlags) -> rusqlite::Result<Connection> {
    #[cfg(target_os = "linux")]
    if super::sqlite_held::is_held(path) && super::sqlite_held::registered() {
        return Connection::open_with_flags_and_vfs(path, flags, super::sqlite_held::NAME);
    }
    Connection::open_with_flags(path, flags)
}

/// Read-write, created when missing: what `Connection::open` does.
const CREATE: OpenFlags = OpenFlags::SQLITE_OPEN_READ_WRITE
    .union(OpenFlags::SQLITE_OPEN_CREATE)
    .union(OpenFlags::SQLITE_OPEN_URI)
    .union(OpenFlags::SQLITE_OPEN_NO_MUTEX);

/// A SQLite failure as an error with a code: busy, corrupt, full; a failed open, fsync or
/// unlink as the errno SQLite logged for it, naming the call and the file (see
/// [`sqlite_os`]); else EIO.
fn sql_error(context: &str, err: rusqlite::Error) -> Error {
    use rusqlite::ErrorCode as E;
    let code = match err.sqlite_error_code() {
        Some(E::DatabaseBusy | E::DatabaseLocked) => Code::Os("EBUSY"),
        Some(E::DatabaseCorrupt | E::NotADatabase) => Code::Corrupt,
        Some(E::DiskFull) => Code::Os("ENOSPC"),
        Some(E::SystemIoFailure | E::CannotOpen | E::ReadOnly | E::PermissionDenied) => {
            if let Some(os) = sqlite_os::last() {
                let why = std::io::Error::from_raw_os_error(os.errno);
                return Error::new(
                    Code::Os(crate::error::errno_name(&why)),
                    format!("{context}: {err} ({}({}): {why})", os.call, os.path),
                );
            }
            Code::Os("EIO")
        }
        _ => Code::Os("EIO"),
    };
    Error::new(code, format!("{context}: {err}"))
}

/// Copy the database `src` to `dest` (replaced atomically): a consistent snapshot for
/// SQLite files, the bytes otherwise. `cancel` stops it between steps of the copy
/// (`ECANCELED`, no file left at `dest` or beside it).
pub fn copy_database(src: &Path, dest: &Path, cancel: &Cancel) -> Result<CopyKind> {
    copy_with(src, dest, cancel, RECOVERING)
}

/// [`copy_database`], SQLite opening the source with `flags`.
fn copy_with(src: &Path, dest: &Path, cancel: &Cancel, flags: OpenFlags) -> Result<CopyKind> {
    let context = format!("Database backup of {} failed", src.display());
    sqlite_os::start();
    let dir = crate::fsx::atomic::parent_dir(dest);
    let temp = tempfile::Builder::new()
        .prefix(".db-copy-")
        .tempfile_in(dir)
        .map_err(|e| Error::io(&context, e))?;
    let kind = if is_sqlite(src) {
        let source = open(src, flags).map_err(|e| sql_error(&context, e))?;
        copy_pages(&source, temp.path(), cancel, &context, BUSY_TIMEOUT)?;
        CopyKind::Sqlite
    } else {
        let mut from = open_nofollow(src).map_err(|e| Error::io(&context, e))?;
        std::io::copy(&mut CancelRead::new(&mut from, cancel), &mut temp.as_file()).map_err(
            |e| match cancel.is_cancelled() {
                true => cancelled(&context),
                false => Error::io(&context, e),
            },
        )?;
        CopyKind::Bytes
    };
    temp.as_file()
        .sync_all()
        .map_err(|e| Error::io(&context, e))?;
    temp.persist(dest)
        .map_err(|e| Error::io(&context, e.error))?;
    Ok(kind)
}

/// [`copy_database`] of the live database `rel` below `root` (a project's), never read through
/// a link: each folder on the way is opened from the root's handle without following one
/// (a symlink there is `EPATHESCAPE`), the file must be a regular file, and SQLite is given
/// - on Linux, the held parent's `/proc/<pid>/fd/<n>/<name>` through the VFS that keeps it
///   held (super::sqlite_held): a parent swapped for a symlink meanwhile changes nothing, and
///   the `-journal`, `-wal` and `-shm` SQLite opens beside it are in the same held folder;
/// - elsewhere, the parent's path with `SQLITE_OPEN_NOFOLLOW` (SQLite refuses a path with a
///   link anywhere in it), on Unix below the root's real path (so the links above the project,
///   `/var` -> `/private/var` on macOS, are already resolved): a swap before SQLite looks is
///   refused; one between its look and its open is the race left there. On Windows the
///   held chain of folders cannot be renamed while we hold it (crate::fsx::beneath).
pub fn copy_database_below(
    root: &Path,
    rel: &Path,
    dest: &Path,
    cancel: &Cancel,
) -> Result<CopyKind> {
    use crate::fsx::beneath::{Dir, Kind};
    let shown = root.join(rel);
    let refused = |why: &str| {
        Error::new(
            Code::PathEscape,
            format!("Refusing database {}: {why}", shown.display()),
        )
    };
    let name = rel.file_name().ok_or_else(|| refused("it names no file"))?;
    let parent = Dir::open(root)?.sub(rel.parent().unwrap_or(Path::new("")), false)?;
    match parent.stat(Path::new(name))? {
        Some((Kind::File, _)) => {}
        Some((Kind::Symlink, _)) => return Err(refused("it is a symbolic link")),
        Some((kind, _)) => {
            return Err(Error::new(
                Code::Os("EINVAL"),
                format!(
                    "Refusing database {}: not a regular file (a {})",
                    shown.display(),
                    kind.as_str()
                ),
            ))
        }
        None => {
            return Err(Error::new(
                Code::Os("ENOENT"),
                format!("Database {} does not exist", shown.display()),
            ))
        }
    }
    copy_live_database(&source_in(&parent, name, root, rel), dest, cancel)
}

/// Where SQLite opens the entry `name` of the held folder `parent`, which is `rel` below
/// `root`: the held path where there is one, else [`unheld_path`] (see
/// [`copy_database_below`]). Open it with `SQLITE_OPEN_NOFOLLOW`, as [`copy_live_database`]
/// and [`while_read_locked`] do.
pub fn source_in(
    parent: &crate::fsx::beneath::Dir,
    name: &std::ffi::OsStr,
    root: &Path,
    rel: &Path,
) -> std::path::PathBuf {
    super::sqlite_held::held_path(parent, name).unwrap_or_else(|| unheld_path(root, rel))
}

/// [`copy_database`] of a live database at the path [`source_in`] gave, with
/// `SQLITE_OPEN_NOFOLLOW`.
pub fn copy_live_database(src: &Path, dest: &Path, cancel: &Cancel) -> Result<CopyKind> {
    copy_with(
        src,
        dest,
        cancel,
        RECOVERING.union(OpenFlags::SQLITE_OPEN_NOFOLLOW),
    )
}

/// Where SQLite reads `rel` below `root` when no held path can be given: below the root's
/// real path on Unix (SQLITE_OPEN_NOFOLLOW then refuses only a link that appeared below it).
fn unheld_path(root: &Path, rel: &Path) -> std::path::PathBuf {
    #[cfg(unix)]
    if let Ok(real) = fs::canonicalize(root) {
        return real.join(rel);
    }
    root.join(rel)
}

/// Run `read` while this process holds a read transaction on the rollback-journal database
/// `src` (SQLite's SHARED lock: no writer can change the file until it ends; a hot journal
/// is rolled back first, as for a copy). Then the file's own bytes are a consistent
/// database. Not for WAL mode, where a checkpoint may write into the file meanwhile.
/// `src` is a live database, at the path [`source_in`] gave (opened with NOFOLLOW).
pub fn while_read_locked<T>(
    src: &Path,
    cancel: &Cancel,
    read: impl FnOnce() -> Result<T>,
) -> Result<T> {
    let context = format!("Reading database {} failed", src.display());
    sqlite_os::start();
    let flags = RECOVERING.union(OpenFlags::SQLITE_OPEN_NOFOLLOW);
    let source = open(src, flags).map_err(|e| sql_error(&context, e))?;
    begin_read(&source, cancel, &context, BUSY_TIMEOUT)?;
    let out = read();
    // a failed COMMIT of a read transaction changes nothing: closing the connection ends it
    let _ = source.execute_batch("COMMIT");
    out
}

/// All pages of `source` into a fresh database at `dest`, [`PAGES_PER_STEP`] at a time,
/// checking `cancel` between steps, all inside one read transaction on `source`: the copy is
/// the database as of one instant (a writer in WAL mode goes on writing; one in rollback
/// mode waits for its busy timeout, as for a one-step copy). Without that transaction every
/// step would take its own, and a concurrent write would restart the copy from the first
/// page, which under a steady writer never ends.
fn copy_pages(
    source: &Connection,
    dest: &Path,
    cancel: &Cancel,
    context: &str,
    patience: Duration,
) -> Result<()> {
    let failed = |e| sql_error(context, e);
    begin_read(source, cancel, context, patience)?;
    let mut target = open(dest, CREATE).map_err(|e| sql_error(context, e))?;
    target.busy_timeout(BUSY_SLICE).map_err(failed)?;
    {
        let backup = Backup::new(source, &mut target).map_err(failed)?;
        step_until_done(&backup, cancel, context, patience)?;
    }
    source.execute_batch("COMMIT").map_err(failed)?;
    // A copy is one self-contained file: no WAL beside it.
    target
        .pragma_update(None, "journal_mode", "DELETE")
        .map_err(|e| sql_error(context, e))?;
    target.close().map_err(|(_, e)| sql_error(context, e))
}

/// Open the read transaction of the copy. The first read runs SQLite's recovery (a hot
/// journal is rolled back here); a writer's lock is waited for in short slices, so that a
/// cancel is seen while waiting, up to `patience` in all. Any other failure is final.
fn begin_read(
    source: &Connection,
    cancel: &Cancel,
    context: &str,
    patience: Duration,
) -> Result<()> {
    let failed = |e| sql_error(context, e);
    source.busy_timeout(BUSY_SLICE).map_err(failed)?;
    source.execute_batch("BEGIN").map_err(failed)?;
    let deadline = Instant::now() + patience;
    loop {
        cancel.check(context)?;
        let read = source.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        });
        match read {
            Ok(_) => return Ok(()),
            Err(e) if is_busy(&e) && Instant::now() < deadline => continue,
            Err(e) => return Err(failed(e)),
        }
    }
}

fn is_busy(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Step the backup to its end, checking `cancel` before each step. The source is held by the
/// read transaction; a step is busy only while another connection holds the destination
/// (a private temp file, so only by accident), waited for up to `patience`.
fn step_until_done(
    backup: &Backup<'_, '_>,
    cancel: &Cancel,
    context: &str,
    patience: Duration,
) -> Result<()> {
    use rusqlite::backup::StepResult;
    let deadline = Instant::now() + patience;
    loop {
        cancel.check(context)?;
        match backup.step(PAGES_PER_STEP) {
            Ok(StepResult::Done) => return Ok(()),
            Ok(StepResult::More) => {}
            Ok(StepResult::Busy | StepResult::Locked) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Ok(_) => return Err(busy_error(context)),
            Err(e) => return Err(sql_error(context, e)),
        }
    }
}

fn busy_error(context: &str) -> Error {
    Error::new(
        Code::Os("EBUSY"),
        format!("{context}: the database stayed locked by a writer"),
    )
}

/// Copy every page in one step (`-1`), retrying while a writer holds the database locked,
/// up to `patience`.
fn run_in_one_step(backup: &Backup<'_, '_>, patience: Duration) -> rusqlite::Result<()> {
    use rusqlite::backup::StepResult;
    let deadline = Instant::now() + patience;
    loop {
        match backup.step(-1)? {
            StepResult::Done => return Ok(()),
            StepResult::More | StepResult::Busy | StepResult::Locked
                if Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(20))
            }
            _ => {
                return Err(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                    Some("the database stayed locked by a writer".into()),
                ))
            }
        }
    }
}

/// Write the pages of the backup `source` into the database at `target`, through SQLite, so
/// that a process holding `target` open sees the old or the new content, never a mix.
pub fn restore_database(source: &Path, target: &Path) -> Result<()> {
    restore_within(source, target, BUSY_TIMEOUT)
}

/// [`restore_database`], waiting up to `patience` for a writer of `target`. The loop does the
/// waiting; SQLite's busy handler on `target` is one slice (it was the whole 30 s, after which
/// the loop waited another 30 s: twice what is said).
fn restore_within(source: &Path, target: &Path, patience: Duration) -> Result<()> {
    let context = format!("Database restore of {} failed", target.display());
    sqlite_os::start();
    let failed = |e| sql_error(&context, e);
    let from = open(source, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(failed)?;
    let mut to = open(target, CREATE).map_err(failed)?;
    to.busy_timeout(BUSY_SLICE).map_err(failed)?;
    Backup::new(&from, &mut to)
        .and_then(|backup| run_in_one_step(&backup, patience))
        .map_err(failed)?;
    to.close().map_err(|(_, e)| failed(e))
}

/// `PRAGMA integrity_check`: `"ok"` for a sound database.
pub fn integrity_check(path: &Path) -> Result<String> {
    let context = format!("Integrity check of {} failed", path.display());
    sqlite_os::start();
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| sql_error(&context, e))?;
    conn.query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .map_err(|e| sql_error(&context, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_a_database_being_written_to_consistently() {
        let tmp = tempfile::tempdir().unwrap();
        let db = tmp.path().join("live.sqlite");
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);",
        )
        .unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer = {
            let (db, stop) = (db.clone(), stop.clone());
            std::thread::spawn(move || {
                let conn = Connection::open(&db).unwrap();
                conn.busy_timeout(Duration::from_secs(10)).unwrap();
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    conn.execute("INSERT INTO t(v) VALUES (zeroblob(4096))", [])
                        .unwrap();
                    n += 1;
                }
                n
            })
        };
        std::thread::sleep(Duration::from_millis(100));
        for i in 0..5 {
            let dest = tmp.path().join(format!("copy{i}.sqlite"));
            assert_eq!(
                copy_database(&db, &dest, &Cancel::new()).unwrap(),
                CopyKind::Sqlite
            );
            assert_eq!(integrity_check(&dest).unwrap(), "ok");
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(writer.join().unwrap() > 0);
    }

    /// A database below a root is copied from where the root's folder is held (Linux: its
    /// `/proc` path through the held VFS; elsewhere below the root's real path), rows and all.
    #[test]
    fn a_database_below_the_root_is_copied_with_its_rows() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("project");
        fs::create_dir_all(root.join("data")).unwrap();
        Connection::open(root.join("data").join("app.db"))
            .unwrap()
            .execute_batch("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('kept')")
            .unwrap();
        let dest = tmp.path().join("copy.db");
        let rel = Path::new("data").join("app.db");
        let kind = copy_database_below(&root, &rel, &dest, &Cancel::new()).unwrap();
        assert_eq!(kind, CopyKind::Sqlite);
        let value: String = Connection::open(&dest)
            .unwrap()
            .query_row("SELECT v FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(value, "kept");
    }

    #[test]
    fn a_cancelled_copy_fails_and_leaves_no_file() {
        use std::sync::atomic::{AtomicU64, Ordering};
        let tmp = tempfile::tempdir().unwrap();
        let db = tmp.path().join("a.sqlite");
        Connection::open(&db)
            .unwrap()
            .execute_batch("CREATE TABLE t(v); INSERT INTO t VALUES (zeroblob(100000));")
            .unwrap();
        let text = tmp.path().join("b.sqlite");
        fs::write(&text, "not a database").unwrap();
        let counter: &'static AtomicU64 = Box::leak(Box::new(AtomicU64::new(0)));
        let cancel = Cancel::on(counter);
        counter.fetch_add(1, Ordering::SeqCst);
        for src in [&db, &text] {
            let err = copy_database(src, &tmp.path().join("copy"), &cancel).unwrap_err();
            assert_eq!(err.code().as_str(), "ECANCELED", "{err}");
        }
        let mut left: Vec<_> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        left.sort();
        assert_eq!(left, ["a.sqlite", "b.sqlite"]);
    }

    #[test]
    fn other_files_are_copied_as_bytes_and_restore_goes_through_sqlite() {
        let tmp = tempfile::tempdir().unwrap();
        let text = tmp.path().join("db.sqlite");
        fs::write(&text, "not a database").unwrap();
        let dest = tmp.path().join("copy");
        assert_eq!(
            copy_database(&text, &dest, &Cancel::new()).unwrap(),
            CopyKind::Bytes
        );
        assert_eq!(fs::read(&dest).unwrap(), b"not a database");

        let db = tmp.path().join("a.sqlite");
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch("CREATE TABLE t(v); INSERT INTO t VALUES (1);")
            .unwrap();
        let saved = tmp.path().join("saved.sqlite");
        copy_database(&db, &saved, &Cancel::new()).unwrap();
        conn.execute("INSERT INTO t VALUES (2)", []).unwrap();
        restore_database(&saved, &db).unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
    }

    /// A database left by a writer that died mid-transaction: the database file holds some
    /// of the transaction's pages (the cache spilled), the hot journal the originals.
    fn crashed_mid_transaction(dir: &Path) -> std::path::PathBuf {
        let live = dir.join("live.sqlite");
        let conn = Connection::open(&live).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode=DELETE; PRAGMA cache_size=1;
             CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);
             INSERT INTO t(v) VALUES (randomblob(3000)), (randomblob(3000));
             BEGIN; INSERT INTO t(v) SELECT randomblob(3000) FROM t;
             INSERT INTO t(v) SELECT randomblob(3000) FROM t;
             INSERT INTO t(v) SELECT randomblob(3000) FROM t;",
        )
        .unwrap();
        // what a SIGKILL leaves on disk at this instant
        let crashed = dir.join("crashed");
        fs::create_dir_all(&crashed).unwrap();
        fs::copy(&live, crashed.join("db.sqlite")).unwrap();
        fs::copy(
            dir.join("live.sqlite-journal"),
            crashed.join("db.sqlite-journal"),
        )
        .unwrap();
        crashed.join("db.sqlite")
    }

    #[test]
    fn a_hot_journal_is_rolled_back_and_the_copy_has_the_committed_rows_only() {
        let tmp = tempfile::tempdir().unwrap();
        let db = crashed_mid_transaction(tmp.path());
        let copy = tmp.path().join("copy.sqlite");
        assert_eq!(
            copy_database(&db, &copy, &Cancel::new()).unwrap(),
            CopyKind::Sqlite
        );
        assert_eq!(integrity_check(&copy).unwrap(), "ok");
        let n: i64 = Connection::open(&copy)
            .unwrap()
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2);
    }

    /// SQLite's failures map to codes a caller can act on: busy or locked is EBUSY, a damaged
    /// file ECORRUPT, a full disk ENOSPC, anything else EIO (no OS failure logged).
    #[test]
    fn sqlite_failures_map_to_their_codes() {
        use rusqlite::ffi;
        sqlite_os::start(); // this thread's earlier tests may have left an OS failure
        let failure = |code| rusqlite::Error::SqliteFailure(ffi::Error::new(code), None);
        for (code, expected) in [
            (ffi::SQLITE_BUSY, "EBUSY"),
            (ffi::SQLITE_LOCKED, "EBUSY"),
            (ffi::SQLITE_CORRUPT, "ECORRUPT"),
            (ffi::SQLITE_NOTADB, "ECORRUPT"),
            (ffi::SQLITE_FULL, "ENOSPC"),
            (ffi::SQLITE_IOERR, "EIO"),
            (ffi::SQLITE_CANTOPEN, "EIO"),
            (ffi::SQLITE_MISUSE, "EIO"),
        ] {
            let err = sql_error(&format!("ctx {code}"), failure(code));
            assert_eq!(err.code().as_str(), expected, "SQLite code {code}");
            assert!(err.message().starts_with(&format!("ctx {code}: ")), "{err}");
        }
        assert_eq!(
            sql_error("ctx", rusqlite::Error::InvalidQuery)
                .code()
                .as_str(),
            "EIO"
        );
        assert_eq!(
            (CopyKind::Sqlite.as_str(), CopyKind::Bytes.as_str()),
            ("sqlite", "bytes")
        );
    }

    /// A file SQLite could not open carries the errno SQLite saw (here ENOENT: a database in a
    /// folder that does not exist) and the file, not a bare EIO.
    #[test]
    fn a_failure_to_open_carries_the_os_errno() {
        sqlite_os::start();
        let tmp = tempfile::tempdir().unwrap();
        let conn = Connection::open_in_memory().unwrap();
        let missing = tmp.path().join("no-such-folder/x.db");
        let err = conn
            .execute("ATTACH DATABASE ?1 AS x", [missing.to_str().unwrap()])
            .unwrap_err();
        let mapped = sql_error("attach", err);
        assert_eq!(mapped.code().as_str(), "ENOENT", "{mapped}");
        assert!(mapped.message().contains("no-such-folder"), "{mapped}");
    }

    /// A restore into a database a writer holds locked waits for the writer (here 300 ms),
    /// then goes through; it does not fail at the first busy step.
    #[test]
    fn a_restore_waits_for_a_writer_holding_the_target() {
        let tmp = tempfile::tempdir().unwrap();
        let (source, target) = saved_and_live(tmp.path());
        let holder = commit_later(hold_exclusive(&target));
        restore_database(&source, &target).unwrap();
        holder.join().unwrap();
        assert_eq!(value_in(&target), "new");
    }

    /// A copy of a database a writer holds locked (an exclusive transaction, rollback mode)
    /// waits for the writer, then copies what it committed; it does not fail at the first busy.
    #[test]
    fn a_copy_waits_for_a_writer_holding_the_database() {
        let tmp = tempfile::tempdir().unwrap();
        let db = tmp.path().join("live.db");
        let writer = Connection::open(&db).unwrap();
        writer.execute_batch("CREATE TABLE t (v TEXT)").unwrap();
        writer
            .execute_batch("BEGIN EXCLUSIVE; INSERT INTO t VALUES ('committed later')")
            .unwrap();
        let holder = commit_later(writer);
        let copy = tmp.path().join("copy.db");
        let kind = copy_database(&db, &copy, &Cancel::new()).unwrap();
        holder.join().unwrap();
        assert_eq!(kind, CopyKind::Sqlite);
        assert_eq!(value_in(&copy), "committed later");
    }

    /// Run `f` on a thread of its own and give its result, failing the test if it has not
    /// ended within `limit`: a wait that never ends fails here instead of hanging the suite.
    fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || tx.send(f()));
        rx.recv_timeout(limit)
            .expect("still waiting: a wait that should have ended did not")
    }

    /// A database at `path` whose table `t` holds the one value `v`.
    fn database_with(path: &Path, v: &str) {
        let conn = Connection::open(path).unwrap();
        conn.execute_batch("CREATE TABLE t (v TEXT)").unwrap();
        conn.execute("INSERT INTO t VALUES (?1)", [v]).unwrap();
    }

    /// A backup `saved.db` holding "new" and the database `live.db` holding "old", in `dir`.
    fn saved_and_live(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
        let (saved, live) = (dir.join("saved.db"), dir.join("live.db"));
        database_with(&saved, "new");
        database_with(&live, "old");
        (saved, live)
    }

    /// A database `live.db` holding "copied", and the path `dest.db` for its copy, in `dir`.
    fn live_and_dest(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
        let live = dir.join("live.db");
        database_with(&live, "copied");
        (live, dir.join("dest.db"))
    }

    fn value_in(path: &Path) -> String {
        Connection::open(path)
            .unwrap()
            .query_row("SELECT v FROM t", [], |r| r.get(0))
            .unwrap()
    }

    /// Another connection holding `path` in an exclusive transaction until it is dropped.
    fn hold_exclusive(path: &Path) -> Connection {
        let holder = Connection::open(path).unwrap();
        holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
        holder
    }

    /// `holder`'s transaction committed 300 ms from now, on a thread of its own.
    fn commit_later(holder: Connection) -> std::thread::JoinHandle<()> {
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            holder.execute_batch("COMMIT").unwrap();
        })
    }

    /// A copy whose destination another connection holds (300 ms, longer than a busy slice)
    /// waits for it between steps, then copies; it does not fail at the first busy step.
    #[test]
    fn a_copy_waits_for_a_connection_holding_its_destination() {
        let tmp = tempfile::tempdir().unwrap();
        let (db, dest) = live_and_dest(tmp.path());
        let release = commit_later(hold_exclusive(&dest));
        let source = Connection::open_with_flags(&db, RECOVERING).unwrap();
        let patience = Duration::from_secs(20);
        copy_pages(&source, &dest, &Cancel::new(), "copy", patience).unwrap();
        release.join().unwrap();
        assert_eq!(value_in(&dest), "copied");
    }

    /// ...and gives up with EBUSY once its patience is spent, the destination still held.
    #[test]
    fn a_copy_gives_up_on_a_destination_held_past_its_patience() {
        let tmp = tempfile::tempdir().unwrap();
        let (db, dest) = live_and_dest(tmp.path());
        let holder = hold_exclusive(&dest);
        let err = within(Duration::from_secs(20), move || {
            let source = Connection::open_with_flags(&db, RECOVERING).unwrap();
            let patience = Duration::from_millis(300);
            copy_pages(&source, &dest, &Cancel::new(), "copy", patience).unwrap_err()
        });
        drop(holder);
        assert_eq!(err.code().as_str(), "EBUSY", "{err}");
        assert!(err.message().contains("stayed locked by a writer"), "{err}");
    }

    /// A source damaged past its header (it opens; its first read fails) fails at once with
    /// ECORRUPT: only a busy database is waited for, not every failure of the first read.
    #[test]
    fn a_damaged_source_fails_at_its_first_read_without_waiting() {
        let tmp = tempfile::tempdir().unwrap();
        let damaged = tmp.path().join("damaged.db");
        let mut bytes = b"SQLite format 3\0".to_vec();
        bytes.resize(4096, 0xff);
        fs::write(&damaged, bytes).unwrap();
        assert!(is_sqlite(&damaged));
        let dest = tmp.path().join("copy.db");
        let err = within(Duration::from_secs(20), move || {
            let source = Connection::open_with_flags(&damaged, RECOVERING).unwrap();
            // an hour: a retried failure hangs (and fails `within`) instead of passing late
            let patience = Duration::from_secs(3600);
            copy_pages(&source, &dest, &Cancel::new(), "copy", patience).unwrap_err()
        });
        assert_eq!(err.code().as_str(), "ECORRUPT", "{err}");
    }

    /// A restore into a target another connection holds past the restore's patience gives up
    /// with EBUSY and leaves the target as it was.
    #[test]
    fn a_restore_gives_up_on_a_target_held_past_its_patience() {
        let tmp = tempfile::tempdir().unwrap();
        let (source, target) = saved_and_live(tmp.path());
        let holder = hold_exclusive(&target);
        let err = {
            let (source, target) = (source.clone(), target.clone());
            within(Duration::from_secs(20), move || {
                restore_within(&source, &target, Duration::from_millis(300)).unwrap_err()
            })
        };
        holder.execute_batch("ROLLBACK").unwrap();
        assert_eq!(err.code().as_str(), "EBUSY", "{err}");
        assert_eq!(value_in(&target), "old");
    }

    /// A restore copies every page in one step: with nobody holding the target, a patience
    /// far shorter than a step per page would take is enough for a 200-page database.
    #[test]
    fn a_restore_copies_all_pages_in_one_step() {
        let tmp = tempfile::tempdir().unwrap();
        let (source, target) = saved_and_live(tmp.path());
        Connection::open(&source)
            .unwrap()
            .execute_batch("CREATE TABLE big (b BLOB); INSERT INTO big VALUES (zeroblob(800000))")
            .unwrap();
        restore_within(&source, &target, Duration::from_millis(100)).unwrap();
        assert_eq!(value_in(&target), "new");
    }
}
