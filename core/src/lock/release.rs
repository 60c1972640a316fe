//! Releasing a lock: only its owner removes it (legacy: pid; ours: pid on this host), and
//! closing our handle drops the OS lock.

use std::io;
use std::path::Path;

use super::identity;
use super::record::Record;
use super::unlink::remove_lock_file;
use super::{check_identifier, lock_path, registry};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Released {
    /// There was no lock file (legacy: `true`).
    NoLock,
    /// Ours, removed (`true`).
    Released,
    /// Someone else's (legacy: warns `Attempted to release lock owned by PID <pid>`, `false`).
    NotOwner { pid: u32 },
    /// Unreadable or not a record (legacy: logs, `false`).
    Unreadable(String),
}

pub fn release(dir: &Path, identifier: &str) -> Result<Released> {
    check_identifier(identifier)?;
    let path = lock_path(dir, identifier);
    // Whatever the file says now, our handle (and its OS lock) goes, after the removal.
    let held = registry::take(&path);
    let outcome = remove_ours(&path, held.as_ref());
    if let Some(held) = held {
        if !matches!(outcome, Ok(Released::Released | Released::NoLock)) {
            // The file may still carry our token: our next acquire must not wait for us.
            registry::leave(&path, held.token);
        }
    }
    outcome
}

/// Remove the lock file at `path` if it is ours; `held` is our registry entry for it, if any.
fn remove_ours(path: &Path, held: Option<&registry::Held>) -> Result<Released> {
    if let Some(held) = held {
        // Fast path: the file at the path is still the one we created.
        let ours = match (identity::of_file(&held.file), identity::of_path(path)) {
            (Ok(mine), Ok((now, _))) => mine == now,
            _ => false,
        };
        if ours && remove_lock_file(path).is_ok() {
            return Ok(Released::Released);
        }
    }
    let bytes = match super::file::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Released::NoLock),
        Err(e)
            if e.get_ref()
                .is_some_and(|i| i.is::<super::file::NotALockFile>()) =>
        {
            return Err(super::file::error(path.display(), e))
        }
        Err(e) => return Ok(unreadable(path, e)),
    };
    let Some(record) = Record::parse(&bytes) else {
        return Ok(Released::Unreadable(
            "lock file is not a valid lock record".to_string(),
        ));
    };
    if !record.is_own() {
        return Ok(Released::NotOwner { pid: record.pid });
    }
    match remove_lock_file(path) {
        Ok(()) => Ok(Released::Released),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Released::Released),
        Err(e) => Ok(unreadable(path, e)),
    }
}

/// An OS failure on the lock file, reported as legacy does (`false` and its message).
fn unreadable(path: &Path, e: io::Error) -> Released {
    Released::Unreadable(crate::Error::io(path.display(), e).message().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::{acquire, LockOptions};
    use crate::testutil::{removal_faults, LiveChild, RemovalFault};
    use std::fs;
    use std::fs::File;

    fn record_of(pid: u32) -> Vec<u8> {
        let mut r = Record::ours("x", "theirs");
        r.pid = pid;
        r.backend = Some("js".into());
        r.start_time = None;
        r.to_bytes()
    }

    #[test]
    fn our_lock_is_released_and_only_ours() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        assert_eq!(release(dir, "x").unwrap(), Released::NoLock);
        let got = acquire(dir, "x", &LockOptions::default(), 21).unwrap();
        let token = Record::parse(&fs::read(&got.path).unwrap())
            .unwrap()
            .token
            .unwrap();
        assert_eq!(release(dir, "x").unwrap(), Released::Released);
        assert!(!got.path.exists());
        assert!(
            !registry::was_left(&got.path, &token),
            "removed: nothing noted"
        );
        assert_eq!(release(dir, "x").unwrap(), Released::NoLock);
        assert_eq!(
            release(dir, "../x").unwrap_err().code(),
            crate::Code::BadLockId
        );
    }

    #[test]
    fn another_process_s_lock_is_not_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let other = LiveChild::spawn();
        let path = lock_path(tmp.path(), "x");
        fs::write(&path, record_of(other.pid())).unwrap();
        assert_eq!(
            release(tmp.path(), "x").unwrap(),
            Released::NotOwner { pid: other.pid() }
        );
        assert!(path.exists());
    }

    /// Our lock taken over meanwhile (the file replaced by another holder's): releasing it
    /// must not remove the new holder's file.
    #[test]
    fn a_lock_replaced_since_we_took_it_is_left_to_its_new_holder() {
        let tmp = tempfile::tempdir().unwrap();
        let other = LiveChild::spawn();
        let got = acquire(tmp.path(), "x", &LockOptions::default(), 22).unwrap();
        fs::remove_file(&got.path).unwrap();
        fs::write(&got.path, record_of(other.pid())).unwrap();
        assert_eq!(
            release(tmp.path(), "x").unwrap(),
            Released::NotOwner { pid: other.pid() }
        );
        assert!(got.path.exists());
    }

    /// A record of this process that the registry does not know (written by the legacy API
    /// of this process, say) is still ours to release.
    #[test]
    fn a_record_of_this_process_outside_the_registry_is_released() {
        let tmp = tempfile::tempdir().unwrap();
        let path = lock_path(tmp.path(), "x");
        fs::write(&path, Record::ours("x", "elsewhere").to_bytes()).unwrap();
        assert_eq!(release(tmp.path(), "x").unwrap(), Released::Released);
        assert!(!path.exists());
    }

    /// Our record, removed by someone else between our read and our unlink: the lock is gone
    /// as asked, so it is released, not reported as an error.
    #[test]
    fn our_record_removed_meanwhile_is_released() {
        let tmp = tempfile::tempdir().unwrap();
        let path = lock_path(tmp.path(), "x");
        fs::write(&path, Record::ours("x", "elsewhere").to_bytes()).unwrap();
        let _faults = removal_faults(&[RemovalFault::Vanish]);
        assert_eq!(release(tmp.path(), "x").unwrap(), Released::Released);
        assert!(!path.exists());
    }

    /// Issue 12: the removal of our own lock file fails at release. The failure is reported,
    /// the file stays, and our next acquire takes it over at once instead of waiting for
    /// itself (the record names our live pid) until its timeout.
    #[test]
    fn a_lock_file_we_failed_to_remove_is_taken_over_by_our_next_acquire() {
        let tmp = tempfile::tempdir().unwrap();
        let options = LockOptions {
            timeout: std::time::Duration::from_millis(1_000),
            ..LockOptions::default()
        };
        let got = acquire(tmp.path(), "x", &options, 41).unwrap();
        // both removals the release makes (its fast path, then after re-reading the record)
        let faults = removal_faults(&[RemovalFault::Fail, RemovalFault::Fail]);
        let outcome = release(tmp.path(), "x").unwrap();
        drop(faults);
        let Released::Unreadable(error) = outcome else {
            panic!("the failure is reported: {outcome:?}")
        };
        assert!(
            error.starts_with(&format!("{}: ", got.path.display())),
            "{error}"
        );
        let left = Record::parse(&fs::read(&got.path).unwrap()).unwrap();
        let token = left.token.clone().unwrap();
        assert!(registry::was_left(&got.path, &token));
        assert!(!registry::was_left(&got.path, "another acquisition"));
        // Our handle is closed, so the OS lock would already tell a waiter here; a file
        // system without OS locks leaves it our live pid only. Hold the OS lock from another
        // handle to stand for that: judged by itself, the record's holder is alive.
        let stand_in = File::open(&got.path).unwrap();
        assert!(crate::lock::oslock::try_lock(&stand_in).unwrap());
        let probe = File::open(&got.path).unwrap();
        assert_eq!(
            crate::lock::liveness::judge(&left, Some(&probe), 30_000),
            crate::lock::liveness::Holder::Alive
        );
        let again = acquire(tmp.path(), "x", &options, 41).expect("taken over, not waited for");
        assert!(
            again.broken.is_empty(),
            "no dead holder to report: it was us"
        );
        assert!(
            !registry::was_left(&got.path, &token),
            "the note goes with the file"
        );
        assert_eq!(release(tmp.path(), "x").unwrap(), Released::Released);
        assert!(!got.path.exists());
    }

    /// A record of this process's other acquisitions (another backend's live lock: its token
    /// is not among ours left behind) is still waited for.
    #[test]
    fn a_live_record_of_this_process_with_another_token_is_waited_for() {
        let tmp = tempfile::tempdir().unwrap();
        let path = lock_path(tmp.path(), "y");
        let mut theirs = Record::ours("y", "live-js-token");
        theirs.backend = Some("js".into());
        fs::write(&path, theirs.to_bytes()).unwrap();
        registry::leave(&path, "an earlier token".into());
        let options = LockOptions {
            timeout: std::time::Duration::from_millis(150),
            ..LockOptions::default()
        };
        let err = acquire(tmp.path(), "y", &options, 42).unwrap_err();
        assert_eq!(err.code(), crate::Code::LockTimeout);
        assert!(path.exists());
        registry::cleared(&path, "an earlier token");
    }

    #[test]
    fn garbage_and_unreadable_lock_files_are_reported_and_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let path = lock_path(tmp.path(), "x");
        fs::write(&path, b"{\"pid\": 1").unwrap();
        assert_eq!(
            release(tmp.path(), "x").unwrap(),
            Released::Unreadable("lock file is not a valid lock record".into())
        );
        assert!(path.exists());
        fs::remove_file(&path).unwrap();
        fs::create_dir(&path).unwrap();
        // not a regular file: refused (containment), and left where it is
        let err = release(tmp.path(), "x").unwrap_err();
        assert_eq!(err.code(), crate::error::Code::BadLock, "{err}");
        assert!(path.is_dir());
    }

    /// The file we created is removed whatever it says now: our own lock file, garbled in
    /// place (same file), is still released, not reported as unreadable.
    #[test]
    fn our_own_file_garbled_in_place_is_released() {
        let tmp = tempfile::tempdir().unwrap();
        let got = acquire(tmp.path(), "g", &LockOptions::default(), 22).unwrap();
        fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&got.path)
            .unwrap();
        assert_eq!(release(tmp.path(), "g").unwrap(), Released::Released);
        assert!(!got.path.exists());
    }

    /// An OS error reading the lock file (here ENOTDIR: its folder is a file) is reported as
    /// legacy does (`false` and the message), not thrown: only a refused file is an error.
    #[test]
    fn an_os_error_reading_the_file_is_reported_not_thrown() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("file");
        fs::write(&file, b"x").unwrap();
        let outcome = remove_ours(&file.join("x.lock"), None).unwrap();
        assert!(matches!(outcome, Released::Unreadable(_)), "{outcome:?}");
    }
}
