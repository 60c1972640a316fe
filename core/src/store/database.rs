//! Live SQLite databases in a snapshot (the ones [`super::SnapshotSpec::databases`] names):
//! copied consistently, through SQLite's backup API, and only when SQLite says they changed
//! since the parent snapshot; otherwise the parent's chunks are reused without opening the
//! database (only its 100-byte header and the side files' sizes are looked at).
//!
//! - Rollback-journal mode (header byte 18 = 1): every transaction that changes the file
//!   increments the header's file change counter (offset 24). The counter, the page count
//!   (offset 28) and the file size are recorded in the entry (`sqlite`); the same three again
//!   and no `-journal` with content (a transaction under way, or a hot journal left by a
//!   crash) mean unchanged. A `touch` alone does not make a copy; a rewrite by SQLite does,
//!   whatever the file's times say.
//! - WAL mode (byte 18 = 2): commits go to the `-wal` file and do not maintain the counter,
//!   and `PRAGMA data_version` only compares states seen by one connection (useless across
//!   snapshots taken by different processes). So a `-wal` with frames means copy, every time
//!   (the copy goes through SQLite, which reads the WAL: committed rows that are not yet
//!   checkpointed are in it); an absent or empty `-wal` means the main file is the whole
//!   database, and the recorded state plus the file's size, mtime, ctime and inode decide.
//!
//! The state is read before the copy is made: a commit in between gives a copy newer than
//! the recorded state, so the next snapshot copies again (never the reverse).
//!
//! What is stored when a database changed: in rollback-journal mode, the live file's own
//! bytes, read while a SQLite read transaction holds its SHARED lock (no writer can change
//! the file meanwhile, and a hot journal is rolled back first), the state read again under
//! that lock; no copy is written. In WAL mode a checkpoint may write into the file during a
//! read, so SQLite's backup API makes a copy in a private folder, and that is stored.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::chunker::sqlite_group;
use super::tree::Entry;
use super::write::unchanged;
use crate::backup::cancel::Cancel;
use crate::backup::sqlite::copy_live_database;
use crate::error::{Error, Result};
use crate::fsx::beneath::{Dir, Kind, Meta};

/// What SQLite's files say about a live database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DbState {
    /// `[change counter, page count, file size]`, recorded in the entry.
    pub key: [u64; 3],
    wal: bool,
    /// A `-journal` (rollback mode) or `-wal` (WAL mode) with content.
    side_busy: bool,
}

impl DbState {
    /// Does the parent's entry still hold this database?
    pub fn reusable(&self, prev: &Entry, meta: &Meta) -> bool {
        !self.side_busy && prev.sqlite == Some(self.key) && (!self.wal || unchanged(prev, meta))
    }
}

/// The state of the database `name` in `dir` (`meta`: its metadata), `None` when the file is
/// not a SQLite database (it is then stored as any file).
pub fn state(dir: &Dir, name: &OsStr, meta: &Meta) -> Result<Option<DbState>> {
    state_of(dir, name, &mut dir.open_read(Path::new(name))?, meta.size)
}

/// The same from `file`, open on it (`size` bytes), left at offset 0.
pub fn state_of(dir: &Dir, name: &OsStr, file: &mut File, size: u64) -> Result<Option<DbState>> {
    let what = || dir.path().join(name);
    let mut head = [0u8; 100];
    match file.read_exact(&mut head) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(Error::io(format!("Cannot read {}", what().display()), e)),
    }
    file.seek(SeekFrom::Start(0))
        .map_err(|e| Error::io(format!("Cannot read {}", what().display()), e))?;
    if sqlite_group(&head).is_none() {
        return Ok(None);
    }
    let be = |at: usize| {
        u64::from(u32::from_be_bytes([
            head[at],
            head[at + 1],
            head[at + 2],
            head[at + 3],
        ]))
    };
    let wal = head[18] == 2;
    let mut side = OsString::from(name);
    side.push(if wal { "-wal" } else { "-journal" });
    // a side file that is not a plain file is not SQLite's: copy, SQLite will say
    let side_busy = dir
        .meta(Path::new(&side))?
        .is_some_and(|m| m.kind != Kind::File || m.size > 0);
    Ok(Some(DbState {
        key: [be(24), be(28), size],
        wal,
        side_busy,
    }))
}

impl DbState {
    /// In rollback-journal mode: the file's own bytes, read under SQLite's read lock, are a
    /// consistent database (no copy needed). WAL mode needs SQLite's copy.
    pub fn readable_in_place(&self) -> bool {
        !self.wal
    }
}

/// A consistent copy of the live database `path`, in a private scratch folder of the temp dir
/// (0700; removed when the returned guard drops; named for its owner, so that one left by a
/// killed process is swept: crate::fsx::scratch). SQLite opens files by name and resolves
/// links itself, so its copy is never made inside the project or the store.
pub fn copy(path: &Path, cancel: &Cancel) -> Result<(tempfile::TempDir, PathBuf)> {
    let scratch = crate::fsx::scratch::new()?;
    let copy = scratch.path().join("copy.sqlite");
    copy_live_database(path, &copy, cancel)?;
    Ok((scratch, copy))
}
