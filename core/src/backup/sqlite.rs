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
use std::time::Duration;

use rusqlite::backup::Backup;
use rusqlite::{Connection, OpenFlags};

use crate::error::{Code, Error, Result};

/// How long to wait for a writer's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

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

/// True when the file starts with SQLite's magic header.
pub fn is_sqlite(path: &Path) -> bool {
    use std::io::Read;
    let mut header = [0u8; 16];
    fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut header))
        .map(|()| &header == b"SQLite format 3\0")
        .unwrap_or(false)
}

fn sql_error(context: &str, err: rusqlite::Error) -> Error {
    sql_error_on(None, context, err)
}

/// The OS error behind SQLite's last failure on `conn` (an I/O error, a file it could not
/// open): the errno SQLite saw, so that the caller gets ENOSPC or EACCES, not a bare EIO.
fn system_errno(conn: &Connection) -> Option<std::io::Error> {
    // SAFETY: the handle is valid while `conn` is; sqlite3_system_errno only reads it.
    let errno = unsafe { rusqlite::ffi::sqlite3_system_errno(conn.handle()) };
    (errno != 0).then(|| std::io::Error::from_raw_os_error(errno))
}

/// A SQLite failure as an error with a code: busy, corrupt, full, else the OS errno behind it
/// (when `conn` is given and SQLite saw one), else EIO.
fn sql_error_on(conn: Option<&Connection>, context: &str, err: rusqlite::Error) -> Error {
    use rusqlite::ErrorCode as E;
    let failure = match &err {
        rusqlite::Error::SqliteFailure(e, _) => Some(e.code),
        _ => None,
    };
    let code = match failure {
        Some(E::DatabaseBusy | E::DatabaseLocked) => Code::Os("EBUSY"),
        Some(E::DatabaseCorrupt | E::NotADatabase) => Code::Corrupt,
        Some(E::DiskFull) => Code::Os("ENOSPC"),
        Some(E::SystemIoFailure | E::CannotOpen | E::ReadOnly | E::PermissionDenied) => conn
            .and_then(system_errno)
            .map(|e| Code::Os(crate::error::errno_name(&e)))
            .unwrap_or(Code::Os("EIO")),
        _ => Code::Os("EIO"),
    };
    Error::new(code, format!("{context}: {err}"))
}

/// Copy the database `src` to `dest` (replaced atomically): a consistent snapshot for
/// SQLite files, the bytes otherwise.
pub fn copy_database(src: &Path, dest: &Path) -> Result<CopyKind> {
    let context = format!("Database backup of {} failed", src.display());
    let dir = crate::fsx::atomic::parent_dir(dest);
    let temp = tempfile::Builder::new()
        .prefix(".db-copy-")
        .tempfile_in(dir)
        .map_err(|e| Error::io(&context, e))?;
    let kind = if is_sqlite(src) {
        let source =
            Connection::open_with_flags(src, RECOVERING).map_err(|e| sql_error(&context, e))?;
        source
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| sql_error(&context, e))?;
        copy_pages(&source, temp.path()).map_err(|e| sql_error_on(Some(&source), &context, e))?;
        CopyKind::Sqlite
    } else {
        fs::copy(src, temp.path()).map_err(|e| Error::io(&context, e))?;
        CopyKind::Bytes
    };
    temp.as_file()
        .sync_all()
        .map_err(|e| Error::io(&context, e))?;
    temp.persist(dest)
        .map_err(|e| Error::io(&context, e.error))?;
    Ok(kind)
}

/// All pages of `source` into a fresh database at `dest`, in one step (one read transaction:
/// a step-by-step copy would restart at every concurrent write and might never finish).
fn copy_pages(source: &Connection, dest: &Path) -> rusqlite::Result<()> {
    let mut target = Connection::open(dest)?;
    {
        let backup = Backup::new(source, &mut target)?;
        run_in_one_step(&backup)?;
    }
    // A copy is one self-contained file: no WAL beside it.
    target.pragma_update(None, "journal_mode", "DELETE")?;
    target.close().map_err(|(_, e)| e)
}

/// Copy every page in one step (`-1`), retrying while a writer holds the database locked.
fn run_in_one_step(backup: &Backup<'_, '_>) -> rusqlite::Result<()> {
    use rusqlite::backup::StepResult;
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match backup.step(-1)? {
            StepResult::Done => return Ok(()),
            StepResult::More | StepResult::Busy | StepResult::Locked
                if std::time::Instant::now() < deadline =>
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
    let context = format!("Database restore of {} failed", target.display());
    let from = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| sql_error(&context, e))?;
    let mut to = Connection::open(target).map_err(|e| sql_error(&context, e))?;
    to.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| sql_error_on(Some(&to), &context, e))?;
    let copied = Backup::new(&from, &mut to).and_then(|backup| run_in_one_step(&backup));
    if let Err(e) = copied {
        // the OS error may be the source's (a failed read) or the target's (a failed write)
        let err = sql_error_on(Some(&to), &context, e);
        return Err(match err.code() {
            Code::Os("EIO") => Error::new(
                system_errno(&from)
                    .map_or(Code::Os("EIO"), |e| Code::Os(crate::error::errno_name(&e))),
                err.message(),
            ),
            _ => err,
        });
    }
    to.close()
        .map_err(|(conn, e)| sql_error_on(Some(&conn), &context, e))
}

/// `PRAGMA integrity_check`: `"ok"` for a sound database.
pub fn integrity_check(path: &Path) -> Result<String> {
    let context = format!("Integrity check of {} failed", path.display());
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
            assert_eq!(copy_database(&db, &dest).unwrap(), CopyKind::Sqlite);
            assert_eq!(integrity_check(&dest).unwrap(), "ok");
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(writer.join().unwrap() > 0);
    }

    #[test]
    fn other_files_are_copied_as_bytes_and_restore_goes_through_sqlite() {
        let tmp = tempfile::tempdir().unwrap();
        let text = tmp.path().join("db.sqlite");
        fs::write(&text, "not a database").unwrap();
        let dest = tmp.path().join("copy");
        assert_eq!(copy_database(&text, &dest).unwrap(), CopyKind::Bytes);
        assert_eq!(fs::read(&dest).unwrap(), b"not a database");

        let db = tmp.path().join("a.sqlite");
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch("CREATE TABLE t(v); INSERT INTO t VALUES (1);")
            .unwrap();
        let saved = tmp.path().join("saved.sqlite");
        copy_database(&db, &saved).unwrap();
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
        assert_eq!(copy_database(&db, &copy).unwrap(), CopyKind::Sqlite);
        assert_eq!(integrity_check(&copy).unwrap(), "ok");
        let n: i64 = Connection::open(&copy)
            .unwrap()
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2);
    }
}
