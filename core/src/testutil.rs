//! Helpers for the core's own tests: real processes, alive or dead, to stand for another
//! writer or lock holder (a pid of this process would be skipped or judged by other rules).

use std::io::Read;
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

/// The body of a [`LiveChild`]: waits until its stdin closes (the parent died or killed it).
/// Does nothing when run as an ordinary ignored test.
#[test]
#[ignore = "helper process for other tests"]
fn block_on_stdin() {
    if std::env::var_os(HELPER_ENV).is_some() {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
    }
}
