//! What `getLockInfo` and `listLocks` report about a lock: the legacy shapes plus the
//! holder's host and whether it is alive (`true`, `false`, or unknown).

use std::fs;
use std::io;
use std::path::Path;

use super::liveness::{judge, Holder};
use super::record::Record;
use super::takeover::read_seen;
use super::{check_identifier, identifier_of, lock_path};
use crate::error::{Error, Result};
use crate::time;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockState {
    Free,
    Corrupted {
        error: String,
    },
    Held {
        record: Record,
        age_ms: i64,
        alive: Option<bool>,
        /// The holder is dead, or unknowable and older than `staleMs`.
        stale: bool,
    },
}

pub fn info(dir: &Path, identifier: &str, stale_ms: u64) -> Result<LockState> {
    check_identifier(identifier)?;
    let path = lock_path(dir, identifier);
    let (file, seen) = match read_seen(&path) {
        Ok(found) => found,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(LockState::Free),
        Err(e)
            if e.get_ref()
                .is_some_and(|i| i.is::<super::file::NotALockFile>()) =>
        {
            return Err(super::file::error(path.display(), e))
        }
        Err(e) => {
            return Ok(LockState::Corrupted {
                error: Error::io(path.display(), e).message().to_string(),
            })
        }
    };
    let Some(record) = Record::parse(&seen.bytes) else {
        let error = if seen.bytes.iter().all(u8::is_ascii_whitespace) {
            "lock file is empty"
        } else {
            "lock file is not a valid lock record"
        };
        return Ok(LockState::Corrupted {
            error: error.to_string(),
        });
    };
    let age_ms = record.age_ms(time::now_ms());
    let holder = judge(&record, Some(&file), stale_ms);
    let stale = holder == Holder::Dead || (holder == Holder::Unknown && age_ms as u64 > stale_ms);
    Ok(LockState::Held {
        alive: holder.as_alive(),
        record,
        age_ms,
        stale,
    })
}

/// Every lock file in `dir` (none when it does not exist), sorted by identifier.
pub fn list(dir: &Path, stale_ms: u64) -> Result<Vec<(String, LockState)>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(Error::io(
                format!("Cannot list locks in {}", dir.display()),
                e,
            ))
        }
    };
    let mut ids: Vec<String> = entries
        .flatten()
        .filter_map(|e| identifier_of(&e.file_name().to_string_lossy()).map(str::to_string))
        .collect();
    ids.sort();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        match info(dir, &id, stale_ms) {
            Ok(LockState::Free) => {} // released while we listed
            Ok(state) => out.push((id, state)),
            // a FIFO or device among the lock files: listed as corrupt, never read
            Err(e) if e.code() == crate::Code::BadLock => out.push((
                id,
                LockState::Corrupted {
                    error: e.message().to_string(),
                },
            )),
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}
