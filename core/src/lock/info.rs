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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{dead_pid, LiveChild};

    /// A JS-backend record (no OS lock): judged by pid and start time.
    fn record(pid: u32, age_ms: i64, host: Option<&str>) -> Vec<u8> {
        let mut r = Record::ours("x", "t");
        r.pid = pid;
        r.timestamp = time::iso8601(time::now_ms() - age_ms);
        r.hostname = host.map(str::to_string);
        r.start_time = match crate::process::liveness(pid) {
            crate::process::Liveness::Alive { start_time_s } => start_time_s,
            crate::process::Liveness::Dead => None,
        };
        r.backend = Some("js".into());
        r.to_bytes()
    }

    fn this_host() -> String {
        Record::ours("x", "t").hostname.unwrap()
    }

    fn held(state: LockState) -> (Option<bool>, bool, i64) {
        match state {
            LockState::Held {
                alive,
                stale,
                age_ms,
                ..
            } => (alive, stale, age_ms),
            other => panic!("not held: {other:?}"),
        }
    }

    #[test]
    fn free_corrupted_and_held_locks_are_told_apart() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        assert_eq!(info(dir, "x", 30_000).unwrap(), LockState::Free);
        fs::write(dir.join("x.lock"), b" \n").unwrap();
        assert_eq!(
            info(dir, "x", 30_000).unwrap(),
            LockState::Corrupted {
                error: "lock file is empty".into()
            }
        );
        fs::write(dir.join("x.lock"), b"{\"pid\": 1").unwrap();
        assert_eq!(
            info(dir, "x", 30_000).unwrap(),
            LockState::Corrupted {
                error: "lock file is not a valid lock record".into()
            }
        );
        assert_eq!(
            info(dir, "../x", 30_000).unwrap_err().code(),
            crate::Code::BadLockId
        );
    }

    #[test]
    fn a_live_holder_is_alive_and_fresh_a_dead_one_stale_whatever_its_age() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let host = this_host();
        let live = LiveChild::spawn();
        fs::write(dir.join("x.lock"), record(live.pid(), 5_000, Some(&host))).unwrap();
        let (alive, stale, age) = held(info(dir, "x", 30_000).unwrap());
        assert_eq!((alive, stale), (Some(true), false));
        assert!((5_000..10_000).contains(&age), "age {age}");
        // Alive is alive, however old the record (staleMs is for unknowable holders).
        fs::write(dir.join("x.lock"), record(live.pid(), 60_000, Some(&host))).unwrap();
        assert!(!held(info(dir, "x", 30_000).unwrap()).1);
        fs::write(dir.join("x.lock"), record(dead_pid(), 0, Some(&host))).unwrap();
        let (alive, stale, _) = held(info(dir, "x", 30_000).unwrap());
        assert_eq!((alive, stale), (Some(false), true));
    }

    #[test]
    fn a_holder_on_another_host_is_unknown_until_older_than_stale_ms() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        fs::write(
            dir.join("x.lock"),
            record(1, 5_000, Some("elsewhere.invalid")),
        )
        .unwrap();
        assert_eq!(held(info(dir, "x", 30_000).unwrap()).0, None);
        assert!(!held(info(dir, "x", 30_000).unwrap()).1);
        // Past staleMs the judge says dead: stale either way.
        assert!(held(info(dir, "x", 1_000).unwrap()).1);
        // Exactly staleMs old (to the millisecond) is not older than staleMs: not stale yet.
        let (alive, stale, age) = crate::testutil::within_one_ms(|_| {
            fs::write(
                dir.join("x.lock"),
                record(1, 30_000, Some("elsewhere.invalid")),
            )
            .unwrap();
            held(info(dir, "x", 30_000).unwrap())
        });
        assert_eq!((alive, stale, age), (None, false, 30_000));
    }

    /// A lock file that is not a regular file (here a folder) is refused (EBADLOCK), never read
    /// and never reported as a mere corrupt lock.
    #[test]
    fn a_lock_file_that_is_not_a_file_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir(tmp.path().join("x.lock")).unwrap();
        let err = info(tmp.path(), "x", 30_000).unwrap_err();
        assert_eq!(err.code(), crate::Code::BadLock, "{err}");
    }

    /// A lock file that is not a regular file among the others does not stop the listing:
    /// it is listed as corrupted (with the refusal's message), the others as they are.
    #[test]
    fn list_shows_a_lock_file_that_is_not_a_file_as_corrupted() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        fs::create_dir(dir.join("b.lock")).unwrap();
        fs::write(
            dir.join("a.lock"),
            record(dead_pid(), 0, Some(&this_host())),
        )
        .unwrap();
        let listed = list(dir, 30_000).unwrap();
        assert_eq!(listed.len(), 2, "{listed:?}");
        assert!(matches!(listed[0], (ref id, LockState::Held { .. }) if id == "a"));
        match &listed[1] {
            (id, LockState::Corrupted { error }) => {
                assert_eq!(id, "b");
                assert!(error.contains("b.lock"), "{error}");
            }
            other => panic!("not corrupted: {other:?}"),
        }
    }

    /// A lock file that cannot be read for another reason than its absence is reported
    /// corrupted (with the OS error), never as a free lock.
    #[test]
    fn an_unreadable_lock_path_is_corrupted_not_free() {
        let tmp = tempfile::tempdir().unwrap();
        // the lock directory is a file: the lock path's lookup fails with ENOTDIR
        let not_a_dir = tmp.path().join("locks");
        fs::write(&not_a_dir, b"").unwrap();
        match info(&not_a_dir, "x", 30_000).unwrap() {
            LockState::Corrupted { error } => assert!(error.contains("x.lock"), "{error}"),
            other => panic!("not corrupted: {other:?}"),
        }
    }

    #[test]
    fn list_names_every_lock_file_sorted_and_nothing_else() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        assert!(list(&dir.join("missing"), 30_000).unwrap().is_empty());
        let host = this_host();
        for id in ["b", "a", "c"] {
            fs::write(
                dir.join(format!("{id}.lock")),
                record(dead_pid(), 0, Some(&host)),
            )
            .unwrap();
        }
        for other in [
            ".a.lock.takeover.0",
            "notes.txt",
            "x.lock.bak",
            ".hidden.lock",
        ] {
            fs::write(dir.join(other), b"{}").unwrap();
        }
        let ids: Vec<String> = list(dir, 30_000)
            .unwrap()
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(ids, ["a", "b", "c"]);
        let file = dir.join("notadir");
        fs::write(&file, b"").unwrap();
        assert!(
            list(&file, 30_000).is_err(),
            "a file is not a lock directory"
        );
    }
}
