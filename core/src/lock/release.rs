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
