//! Releasing a lock: only its owner removes it (legacy: pid; ours: pid on this host), and
//! closing our handle drops the OS lock.

use std::fs;
use std::io;
use std::path::Path;

use super::record::Record;
use super::takeover::identity;
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
    // Whatever the file says now, our handle (and its OS lock) goes.
    let held = registry::take(&path);
    if let Some(held) = &held {
        // Fast path: the file at the path is still the one we created.
        let ours = match (held.file.metadata(), fs::metadata(&path)) {
            (Ok(mine), Ok(now)) => identity(&mine) == identity(&now),
            _ => false,
        };
        if ours && remove_lock_file(&path).is_ok() {
            return Ok(Released::Released);
        }
    }
    let bytes = match super::file::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Released::NoLock),
        Err(e)
            if e.get_ref()
                .is_some_and(|i| i.is::<super::file::NotALockFile>()) =>
        {
            return Err(super::file::error(path.display(), e))
        }
        Err(e) => {
            return Ok(Released::Unreadable(
                crate::Error::io(path.display(), e).message().to_string(),
            ))
        }
    };
    let Some(record) = Record::parse(&bytes) else {
        return Ok(Released::Unreadable(
            "lock file is not a valid lock record".to_string(),
        ));
    };
    if !record.is_own() {
        return Ok(Released::NotOwner { pid: record.pid });
    }
    match remove_lock_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => {
            return Ok(Released::Unreadable(
                crate::Error::io(path.display(), e).message().to_string(),
            ))
        }
    }
    drop(held);
    Ok(Released::Released)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::{acquire, LockOptions};
    use crate::testutil::LiveChild;

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
        assert_eq!(release(dir, "x").unwrap(), Released::Released);
        assert!(!got.path.exists());
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
}
