//! Removing a dead holder's lock file, serialized between breakers.
//!
//! Two waiters that both judged the same lock dead must not both remove "it": the second
//! removal could hit the fresh lock the first one created (and both would hold). So a
//! breaker first takes the takeover marker `.<id>.lock.takeover.<gen>` (exclusive create),
//! then re-reads the lock file and removes it only if it is still the very file it judged
//! (same inode, same bytes). Everyone who removes a lock file that is not theirs does so
//! under the marker, so between that check and the unlink nobody else can change it.
//!
//! A breaker that dies while holding the marker must not block takeovers forever: a marker
//! whose writer is dead is skipped, and the next generation (`...takeover.<gen+1>`) is used.
//! A dead marker is never removed, so a generation can never be owned twice at once. Only
//! a live owner removes its own marker when done. Both backends follow this protocol.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::identity::{self, Identity};
use super::liveness::{judge, Holder};
use super::record::{new_token, Record};
use super::GARBLED_GRACE_MS;
use crate::error::{Code, Error, Result};
use crate::time;

/// More dead markers than this for one identifier means something is very wrong.
const MAX_GENERATIONS: u32 = 64;

/// What a reader saw: which file ([`identity`]), its size, and its bytes (at most a record's worth
/// and one more: a longer file is read in part).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub identity: Identity,
    pub len: u64,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Takeover {
    /// The dead lock file is gone: try to create ours.
    Broken,
    /// The lock file is not the one we judged any more: look again.
    Changed,
    /// Another breaker is at work: wait a little.
    Busy,
}

/// Open `path` and read it, with the identity of the file read.
/// Only a regular file is opened, and at most a record's worth read ([`super::file`]).
pub fn read_seen(path: &Path) -> io::Result<(File, Seen)> {
    let mut file = super::file::open_regular(path, false)?;
    let meta = file.metadata()?;
    let bytes = super::file::read_bounded(&mut file)?;
    let identity = identity::of_file(&file)?;
    Ok((
        file,
        Seen {
            identity,
            len: meta.len(),
            bytes,
        },
    ))
}

/// ms since a file was last modified (for empty or half-written files, which have no record).
pub fn mtime_age_ms(meta: &fs::Metadata) -> u64 {
    let modified = meta.modified().map(time::to_ms).unwrap_or(0);
    (time::now_ms() - modified).max(0) as u64
}

/// Remove the lock file at `path` if it is still exactly `seen` (judged dead by the caller).
pub fn break_dead(
    dir: &Path,
    identifier: &str,
    path: &Path,
    seen: &Seen,
    stale_ms: u64,
) -> Result<Takeover> {
    let context = || format!("Failed to acquire lock for {identifier}");
    let Some(_marker) =
        take_marker(dir, identifier, stale_ms).map_err(|e| match e.raw_os_error() {
            Some(_) => Error::io(context(), e),
            // ours, not the OS's (every generation's marker dead): its own words, as js says it
            None => Error::new(Code::Os("EIO"), format!("{}: {e}", context())),
        })?
    else {
        return Ok(Takeover::Busy);
    };
    let now = match read_seen(path) {
        Ok((_, now)) => now,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Takeover::Changed),
        Err(e) => return Err(super::file::error(context(), e)),
    };
    if now != *seen {
        return Ok(Takeover::Changed);
    }
    match super::unlink::remove_lock_file(path) {
        Ok(()) => Ok(Takeover::Broken),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Takeover::Changed),
        Err(e) => Err(Error::io(context(), e)),
    }
}

/// The marker, removed when dropped.
struct Marker(PathBuf);

impl Drop for Marker {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

pub fn marker_path(dir: &Path, identifier: &str, generation: u32) -> PathBuf {
    dir.join(format!(".{identifier}.lock.takeover.{generation}"))
}

fn take_marker(dir: &Path, identifier: &str, stale_ms: u64) -> io::Result<Option<Marker>> {
    for generation in 0..MAX_GENERATIONS {
        let path = marker_path(dir, identifier, generation);
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut file) => {
                let marker = Marker(path);
                let mut record = Record::ours(identifier, &new_token());
                record.backend = None; // no OS lock on a marker: judge it by its pid
                file.write_all(&record.to_bytes())?;
                return Ok(Some(marker));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                if !marker_is_dead(&path, stale_ms)? {
                    return Ok(None);
                }
            }
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(format!(
        "{MAX_GENERATIONS} dead takeover markers for {identifier} in {}",
        dir.display()
    )))
}

fn marker_is_dead(path: &Path, stale_ms: u64) -> io::Result<bool> {
    let (file, seen) = match read_seen(path) {
        Ok(found) => found,
        // Its owner just finished: the lock file changed, the caller looks again.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    Ok(match Record::parse(&seen.bytes) {
        Some(record) => judge(&record, None, stale_ms) == Holder::Dead,
        None => mtime_age_ms(&file.metadata()?) > GARBLED_GRACE_MS,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_file_is_not_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.lock");
        fs::write(&path, b"old").unwrap();
        let (_, seen) = read_seen(&path).unwrap();
        fs::write(&path, b"new").unwrap();
        assert_eq!(
            break_dead(tmp.path(), "x", &path, &seen, 30_000).unwrap(),
            Takeover::Changed
        );
        assert!(path.exists());
        let (_, seen) = read_seen(&path).unwrap();
        assert_eq!(
            break_dead(tmp.path(), "x", &path, &seen, 30_000).unwrap(),
            Takeover::Broken
        );
        assert!(!path.exists());
        assert!(
            !marker_path(tmp.path(), "x", 0).exists(),
            "the marker is removed after use"
        );
    }

    #[test]
    fn a_lock_file_gone_meanwhile_is_a_change() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.lock");
        fs::write(&path, b"dead").unwrap();
        let (_, seen) = read_seen(&path).unwrap();
        fs::remove_file(&path).unwrap();
        assert_eq!(
            break_dead(tmp.path(), "x", &path, &seen, 30_000).unwrap(),
            Takeover::Changed
        );
        assert!(!marker_path(tmp.path(), "x", 0).exists());
    }

    /// The dead lock file removed by someone else between our check and our unlink is a
    /// change (look again); any other failure of the unlink is an error, and the file stays.
    #[test]
    fn an_unlink_that_finds_nothing_is_a_change_and_one_that_fails_an_error() {
        use crate::testutil::{removal_faults, RemovalFault};
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.lock");
        fs::write(&path, b"dead").unwrap();
        let (_, seen) = read_seen(&path).unwrap();
        let faults = removal_faults(&[RemovalFault::Vanish]);
        assert_eq!(
            break_dead(tmp.path(), "x", &path, &seen, 30_000).unwrap(),
            Takeover::Changed
        );
        drop(faults);
        assert!(!path.exists());
        fs::write(&path, b"dead").unwrap();
        let (_, seen) = read_seen(&path).unwrap();
        let faults = removal_faults(&[RemovalFault::Fail]);
        let err = break_dead(tmp.path(), "x", &path, &seen, 30_000).unwrap_err();
        drop(faults);
        assert_eq!(err.code(), Code::Os("EPERM"), "{err}");
        assert!(
            err.message().starts_with("Failed to acquire lock for x: "),
            "{err}"
        );
        assert!(path.exists(), "the lock file stays");
        assert!(!marker_path(tmp.path(), "x", 0).exists());
    }

    /// An empty marker is a breaker mid-write: others wait for the grace period, then skip it.
    #[test]
    fn an_empty_marker_is_waited_for_then_skipped() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.lock");
        fs::write(&path, b"dead").unwrap();
        let (_, seen) = read_seen(&path).unwrap();
        let marker = File::create(marker_path(tmp.path(), "x", 0)).unwrap();
        assert_eq!(
            break_dead(tmp.path(), "x", &path, &seen, 30_000).unwrap(),
            Takeover::Busy
        );
        let old =
            std::time::SystemTime::now() - std::time::Duration::from_millis(3 * GARBLED_GRACE_MS);
        marker.set_modified(old).unwrap();
        assert_eq!(
            break_dead(tmp.path(), "x", &path, &seen, 30_000).unwrap(),
            Takeover::Broken
        );
    }

    #[test]
    fn too_many_dead_markers_are_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.lock");
        fs::write(&path, b"dead").unwrap();
        let (_, seen) = read_seen(&path).unwrap();
        let mut dead = Record::ours("x", "t");
        dead.backend = None;
        dead.pid = crate::testutil::dead_pid();
        for generation in 0..MAX_GENERATIONS {
            fs::write(marker_path(tmp.path(), "x", generation), dead.to_bytes()).unwrap();
        }
        // An error (not an endless search for a free generation), and the lock file stays.
        let err = break_dead(tmp.path(), "x", &path, &seen, 30_000).unwrap_err();
        assert_eq!(err.code(), Code::Os("EIO"));
        assert_eq!(
            err.message(),
            format!(
                "Failed to acquire lock for x: 64 dead takeover markers for x in {}",
                tmp.path().display()
            ),
            "said in its own words, as the js backend says it"
        );
        assert!(path.exists());
    }

    #[test]
    fn a_live_marker_makes_others_wait_and_a_dead_one_is_skipped() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.lock");
        fs::write(&path, b"dead").unwrap();
        let (_, seen) = read_seen(&path).unwrap();
        let live = Record::ours("x", "t");
        fs::write(marker_path(tmp.path(), "x", 0), live.to_bytes()).unwrap();
        assert_eq!(
            break_dead(tmp.path(), "x", &path, &seen, 30_000).unwrap(),
            Takeover::Busy
        );
        let mut dead = live.clone();
        dead.backend = None;
        dead.start_time = dead.start_time.map(|s| s - 1000);
        fs::write(marker_path(tmp.path(), "x", 0), dead.to_bytes()).unwrap();
        assert_eq!(
            break_dead(tmp.path(), "x", &path, &seen, 30_000).unwrap(),
            Takeover::Broken
        );
        assert!(
            marker_path(tmp.path(), "x", 0).exists(),
            "a dead marker is never removed"
        );
        assert!(!marker_path(tmp.path(), "x", 1).exists());
    }

    /// Only "the marker is there" sends a creator to judge it: any other failure to create
    /// one (here: the lock folder is gone) is an error, not a busy takeover.
    #[test]
    fn a_marker_that_cannot_be_created_is_an_error_not_busy() {
        let tmp = tempfile::tempdir().unwrap();
        let gone = tmp.path().join("gone");
        let e = take_marker(&gone, "x", 30_000).err().expect("an error");
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }

    /// A marker gone meanwhile is "not dead" (its owner finished: look again); a marker that
    /// is not a regular file is refused with an error, never judged.
    #[test]
    #[cfg(unix)]
    fn a_vanished_marker_is_not_dead_and_a_strange_one_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(!marker_is_dead(&tmp.path().join("missing"), 30_000).unwrap());
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(tmp.path().join("missing"), &link).unwrap();
        let e = marker_is_dead(&link, 30_000).unwrap_err();
        assert_eq!(
            super::super::file::error("x", e).code(),
            crate::Code::BadLock
        );
    }

    /// A lock file swapped for a symlink while we judged it is refused (an error), not taken
    /// for a change to look at again.
    #[test]
    #[cfg(unix)]
    fn a_lock_file_turned_symlink_before_the_break_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.lock");
        fs::write(&path, b"dead").unwrap();
        let (_, seen) = read_seen(&path).unwrap();
        fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink(tmp.path().join("elsewhere"), &path).unwrap();
        let e = break_dead(tmp.path(), "x", &path, &seen, 30_000).unwrap_err();
        assert_eq!(e.code(), crate::Code::BadLock, "{e}");
        assert!(path.symlink_metadata().is_ok(), "the symlink is left alone");
    }
}
