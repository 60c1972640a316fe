//! Helpers for the core's own tests: real processes, alive or dead, to stand for another
//! writer or lock holder (a pid of this process would be skipped or judged by other rules),
//! and faults injected into the removal of a lock file.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::ffi::OsStr;
use std::io::{self, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The environment variable that turns [`block_on_stdin`] into a waiting helper process.
const HELPER_ENV: &str = "SR_CORE_TEST_HELPER";

/// A live process of our own (this test binary, waiting on its stdin), killed when dropped so
/// that a failing assertion never leaves it behind.
pub struct LiveChild(Child);

impl LiveChild {
    pub fn spawn() -> LiveChild {
        let child = Command::new(std::env::current_exe().unwrap())
            .args(["--ignored", "--exact", "testutil::block_on_stdin"])
            .env(HELPER_ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        LiveChild(child)
    }

    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    /// Kill it and reap it: its pid is dead from here on.
    pub fn kill(mut self) -> u32 {
        let pid = self.0.id();
        let _ = self.0.kill();
        let _ = self.0.wait();
        pid
    }
}

impl Drop for LiveChild {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A pid that certainly belonged to a process that has exited.
pub fn dead_pid() -> u32 {
    LiveChild::spawn().kill()
}

/// `f(now_ms)`, run so that the clock reads the same millisecond before and after it (tried
/// again until it does): a boundary of "older than N ms" can then be tested to the
/// millisecond, e.g. a record written exactly N ms before `now_ms` and judged within it.
pub fn within_one_ms<T>(mut f: impl FnMut(i64) -> T) -> T {
    for _ in 0..10_000 {
        let before = crate::time::now_ms();
        let out = f(before);
        if crate::time::now_ms() == before {
            return out;
        }
    }
    panic!("the clock never stayed on one millisecond for the whole call");
}

/// How many calls to each of `syscalls` the helper test `helper` (an ignored test of this
/// binary that does one thing, as `envs` say) makes, counted by strace in a process of its own;
/// `None` where strace is not installed. Only a syscall trace sees a missing flush.
pub fn syscalls_of(helper: &str, envs: &[(&str, &OsStr)], syscalls: &[&str]) -> Option<Vec<usize>> {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("trace");
    let status = Command::new("strace")
        .args([
            "-f",
            "-qq",
            "-e",
            &format!("trace={}", syscalls.join(",")),
            "-o",
        ])
        .arg(&log)
        .arg(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", helper])
        .envs(envs.iter().copied())
        .stdout(Stdio::null())
        .status();
    match status {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
        other => assert!(other.unwrap().success(), "{helper}"),
    }
    let trace = std::fs::read_to_string(&log).unwrap();
    // With -f a call may be split in two lines; its first one names it.
    let count = |name: &str| {
        let call = format!("{name}(");
        trace
            .lines()
            .filter(|l| !l.contains("resumed>"))
            .filter(|l| {
                l.split_whitespace()
                    .nth(1)
                    .is_some_and(|w| w.starts_with(&call))
            })
            .count()
    };
    Some(syscalls.iter().map(|s| count(s)).collect())
}

/// What the next removal of a lock file on this thread meets (see [`removal_faults`]).
#[derive(Debug, Clone, Copy)]
pub enum RemovalFault {
    /// The unlink fails with EPERM, as it does on an immutable file (the Node suites inject
    /// it for real with strace).
    Fail,
    /// Another process removes the file just before us: our unlink really finds nothing.
    Vanish,
}

/// EPERM: "Operation not permitted" (1 on Linux and macOS).
const EPERM: i32 = 1;

thread_local! {
    static REMOVAL_FAULTS: RefCell<VecDeque<RemovalFault>> = const { RefCell::new(VecDeque::new()) };
}

/// Clears the faults not yet met when dropped, so that none outlives its test.
pub struct RemovalFaults;

impl Drop for RemovalFaults {
    fn drop(&mut self) {
        REMOVAL_FAULTS.with(|f| f.borrow_mut().clear());
    }
}

/// The next lock file removals of this thread meet `faults`, in order (thread-local: tests
/// running at the same time on other threads are not touched).
pub fn removal_faults(faults: &[RemovalFault]) -> RemovalFaults {
    REMOVAL_FAULTS.with(|f| f.borrow_mut().extend(faults.iter().copied()));
    RemovalFaults
}

/// Called by `lock::unlink::remove_lock_file` (in test builds) just before it unlinks `path`.
pub fn before_lock_removal(path: &Path) -> io::Result<()> {
    match REMOVAL_FAULTS.with(|f| f.borrow_mut().pop_front()) {
        Some(RemovalFault::Fail) => Err(io::Error::from_raw_os_error(EPERM)),
        Some(RemovalFault::Vanish) => std::fs::remove_file(path),
        None => Ok(()),
    }
}

/// The body of a [`LiveChild`]: waits until its stdin closes (the parent died or killed it).
/// Does nothing when run as an ordinary ignored test.
#[test]
#[ignore = "helper process for other tests"]
fn block_on_stdin() {
    if std::env::var_os(HELPER_ENV).is_some() {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
    }
}

/// The names in the folder `dir`, sorted.
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `n` pseudo-random bytes from `seed` (xorshift64): data DEFLATE cannot shrink, the same at
/// every run.
pub fn noise(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Windows: set or clear the read-only attribute of `path` (a test clears it again before its
/// temp folder is removed: Windows refuses to delete a read-only file).
#[cfg(windows)]
pub fn set_readonly(path: &Path, readonly: bool) {
    let mut perms = std::fs::metadata(path).unwrap().permissions();
    perms.set_readonly(readonly);
    std::fs::set_permissions(path, perms).unwrap();
}
