//! Facts about other processes on this host: is a pid alive, and when did it start.
//!
//! The start time is what makes a recycled pid detectable: a lock or temp file records its
//! writer's pid and start time, and a live process with that pid but a later start time is
//! somebody else.

use std::sync::{LazyLock, Mutex};
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

// One `System` per process: building one is costly, refreshing a single pid is cheap.
static SYSTEM: LazyLock<Mutex<System>> = LazyLock::new(|| Mutex::new(System::new()));

/// What we know about a pid right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// Running (or at least present), started at this time (seconds since the epoch), when known.
    Alive { start_time_s: Option<u64> },
    /// No such process, or a zombie that will never release anything.
    Dead,
}

/// Ask the OS about one pid.
pub fn liveness(pid: u32) -> Liveness {
    let mut system = match SYSTEM.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    };
    let sys_pid = Pid::from_u32(pid);
    system.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[sys_pid]),
        true,
        ProcessRefreshKind::nothing(),
    );
    match system.process(sys_pid) {
        None => Liveness::Dead,
        Some(p)
            if matches!(
                p.status(),
                sysinfo::ProcessStatus::Zombie | sysinfo::ProcessStatus::Dead
            ) =>
        {
            Liveness::Dead
        }
        Some(p) => Liveness::Alive {
            start_time_s: Some(p.start_time()),
        },
    }
}

/// This process's start time in seconds since the epoch.
pub fn own_start_time_s() -> Option<u64> {
    match liveness(std::process::id()) {
        Liveness::Alive { start_time_s } => start_time_s,
        Liveness::Dead => None,
    }
}

/// True when `pid` is certainly gone: not running, a zombie, or a different process that
/// reused the pid (it started after `not_after_s`, the time the record was written).
pub fn is_dead(pid: u32, not_after_s: Option<u64>) -> bool {
    match liveness(pid) {
        Liveness::Dead => true,
        Liveness::Alive { start_time_s } => match (start_time_s, not_after_s) {
            // Start times are whole seconds on some systems: allow one second of slack.
            (Some(started), Some(limit)) => started > limit + 1,
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive() {
        assert!(matches!(
            liveness(std::process::id()),
            Liveness::Alive { .. }
        ));
        assert!(own_start_time_s().is_some());
        assert!(!is_dead(std::process::id(), None));
    }

    #[test]
    fn a_child_is_alive_until_it_exits() {
        let child = crate::testutil::LiveChild::spawn();
        assert!(!is_dead(child.pid(), None), "alive while it runs");
        assert!(is_dead(child.kill(), None));
    }

    #[test]
    fn a_pid_started_after_the_record_is_someone_else() {
        let me = std::process::id();
        let started = own_start_time_s().unwrap();
        assert!(is_dead(me, Some(started - 100)));
        assert!(!is_dead(me, Some(started)));
        // whole seconds: one second of slack, not two
        assert!(!is_dead(me, Some(started - 1)));
        assert!(is_dead(me, Some(started - 2)));
    }

    /// The start time is the real one: a child spawned now started now.
    #[test]
    fn start_times_are_the_processes_own() {
        let now_s = || crate::time::now_ms() as u64 / 1000;
        let before = now_s();
        let child = crate::testutil::LiveChild::spawn();
        let Liveness::Alive {
            start_time_s: Some(started),
        } = liveness(child.pid())
        else {
            panic!("a live child has a start time")
        };
        assert!(
            (before - 1..=now_s() + 1).contains(&started),
            "{before} {started}"
        );
        let own = own_start_time_s().unwrap();
        assert!(own <= started && own + 3_600 > before, "{own} {before}");
    }

    /// A child that exited but was not reaped yet (a zombie) holds nothing: dead.
    #[cfg(unix)]
    #[test]
    fn a_zombie_is_dead() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let stat = format!("/proc/{pid}/stat");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        // exited, not reaped: state Z (on Linux; elsewhere, given a moment)
        while std::fs::read_to_string(&stat).is_ok_and(|s| !s.contains(") Z "))
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let judged = is_dead(pid, None);
        let _ = child.wait();
        assert!(judged, "a zombie is dead");
    }
}
