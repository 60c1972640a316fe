//! Is the holder named in a lock record alive?
//!
//! - another host: its pids mean nothing here; only an age beyond `staleMs` makes it dead;
//! - a native holder: it keeps an OS lock on the file while it holds, so a free OS lock
//!   means it is gone (at once, even after SIGKILL);
//! - otherwise (JS backend, legacy module): dead when the pid is gone or a zombie, or when
//!   the pid now belongs to a process that started at another time than the recorded one
//!   (a legacy record has no start time: started after the record was written).

use std::fs::File;

use super::oslock;
use super::record::Record;
use crate::process::{self, Liveness};
use crate::time;

/// Seconds of slack between start times measured by different tools (whole seconds,
/// rounding of clock ticks).
const START_SLACK_S: u64 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    Alive,
    Dead,
    /// Cannot be known from here (another host, not yet stale).
    Unknown,
}

impl Holder {
    /// `alive` as `getLockInfo` reports it: true, false, or null when unknowable.
    pub fn as_alive(self) -> Option<bool> {
        match self {
            Holder::Alive => Some(true),
            Holder::Dead => Some(false),
            Holder::Unknown => None,
        }
    }
}

/// Judge the holder of `record`; `file` is an open handle on the lock file it came from.
pub fn judge(record: &Record, file: Option<&File>, stale_ms: u64) -> Holder {
    if !record.is_local() {
        return if record.age_ms(time::now_ms()) as u64 > stale_ms {
            Holder::Dead
        } else {
            Holder::Unknown
        };
    }
    if record.is_native() {
        if let Some(file) = file {
            match oslock::try_lock(file) {
                Ok(true) => {
                    let _ = oslock::unlock(file);
                    return Holder::Dead;
                }
                Ok(false) => return Holder::Alive,
                Err(_) => {} // a file system without locks: fall back to the pid
            }
        }
    }
    pid_holder(record)
}

fn pid_holder(record: &Record) -> Holder {
    let started = match process::liveness(record.pid) {
        Liveness::Dead => return Holder::Dead,
        Liveness::Alive { start_time_s } => start_time_s,
    };
    let Some(started) = started else {
        return Holder::Alive;
    };
    let reused = match record.start_time {
        Some(recorded) => started.abs_diff(recorded) > START_SLACK_S,
        None => time::parse_iso8601(&record.timestamp)
            .is_some_and(|ms| started > (ms.max(0) as u64) / 1000 + START_SLACK_S),
    };
    if reused {
        Holder::Dead
    } else {
        Holder::Alive
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn legacy(pid: u32, timestamp: String) -> Record {
        Record {
            pid,
            timestamp,
            identifier: "x".into(),
            hostname: None,
            start_time: None,
            token: None,
            backend: None,
        }
    }

    #[test]
    fn this_process_is_alive_and_a_reused_pid_is_not() {
        let me = std::process::id();
        assert_eq!(
            judge(&legacy(me, time::now_iso()), None, 30_000),
            Holder::Alive
        );
        // Written long before this process started: the pid was someone else's then.
        assert_eq!(
            judge(&legacy(me, time::iso8601(1_000_000)), None, 30_000),
            Holder::Dead
        );
        let mut wrong_start = Record::ours("x", "t");
        wrong_start.backend = Some("js".into());
        wrong_start.start_time = wrong_start.start_time.map(|s| s - 1000);
        assert_eq!(judge(&wrong_start, None, 30_000), Holder::Dead);
    }

    #[test]
    fn start_times_within_two_seconds_are_the_same_process() {
        let mut r = Record::ours("x", "t");
        r.backend = Some("js".into());
        let start = r.start_time.unwrap();
        for (delta, expected) in [(2, Holder::Alive), (3, Holder::Dead)] {
            r.start_time = Some(start + delta);
            assert_eq!(judge(&r, None, 30_000), expected, "+{delta} s");
            r.start_time = Some(start - delta);
            assert_eq!(judge(&r, None, 30_000), expected, "-{delta} s");
        }
        // A legacy record (no start time) written within the slack of our start is ours.
        let started_ms = start as i64 * 1000;
        assert_eq!(
            judge(
                &legacy(r.pid, time::iso8601(started_ms - 1_500)),
                None,
                30_000
            ),
            Holder::Alive
        );
        assert_eq!(
            judge(
                &legacy(r.pid, time::iso8601(started_ms - 3_500)),
                None,
                30_000
            ),
            Holder::Dead
        );
        assert_eq!(
            judge(
                &legacy(crate::testutil::dead_pid(), time::now_iso()),
                None,
                30_000
            ),
            Holder::Dead
        );
    }

    /// A native record is judged by its OS lock when the file is at hand: held is alive,
    /// free is dead, whatever its pid says.
    #[test]
    fn a_native_holder_is_judged_by_its_os_lock() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.lock");
        let record = Record::ours("x", "t");
        std::fs::write(&path, record.to_bytes()).unwrap();
        let waiter = File::open(&path).unwrap();
        assert_eq!(judge(&record, Some(&waiter), 30_000), Holder::Dead);
        let holder = File::open(&path).unwrap();
        assert!(oslock::try_lock(&holder).unwrap());
        assert_eq!(judge(&record, Some(&waiter), 30_000), Holder::Alive);
        drop(holder);
        assert_eq!(judge(&record, Some(&waiter), 30_000), Holder::Dead);
        assert_eq!(Holder::Alive.as_alive(), Some(true));
        assert_eq!(Holder::Dead.as_alive(), Some(false));
        assert_eq!(Holder::Unknown.as_alive(), None);
    }

    #[test]
    fn another_host_is_only_judged_by_age() {
        let mut r = legacy(1, time::now_iso());
        r.hostname = Some("elsewhere.invalid".into());
        assert_eq!(judge(&r, None, 30_000), Holder::Unknown);
        r.timestamp = time::iso8601(time::now_ms() - 60_000);
        assert_eq!(judge(&r, None, 30_000), Holder::Dead);
    }

    /// "Older than staleMs" to the millisecond: exactly staleMs old is not yet dead.
    #[test]
    fn another_host_is_dead_only_once_strictly_older_than_stale_ms() {
        let mut r = legacy(1, time::now_iso());
        r.hostname = Some("elsewhere.invalid".into());
        for (age, expected) in [(30_000, Holder::Unknown), (30_001, Holder::Dead)] {
            let got = crate::testutil::within_one_ms(|now| {
                r.timestamp = time::iso8601(now - age);
                judge(&r, None, 30_000)
            });
            assert_eq!(got, expected, "{age} ms old");
        }
    }
}
