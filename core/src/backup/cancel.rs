//! Stopping a running backup: Ctrl+C must end it within 200 ms, not when the archive is done.
//!
//! One process-wide generation counter: work takes a [`Cancel`] when it is *requested* (on
//! the caller's thread, before a worker thread picks it up), and is cancelled once the counter
//! has moved on. [`cancel_running`] moves it: every backup operation requested before that
//! call stops at its next check (between files, and between chunks of a file), while work
//! requested afterwards runs normally. A signal handler is the one caller: the process is
//! on its way out, so "everything running" is the right scope, and no token has to travel
//! through JS.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Code, Error};

static GENERATION: AtomicU64 = AtomicU64::new(0);

/// The errno name a cancelled operation fails with.
pub const CANCELED: &str = "ECANCELED";

/// A snapshot of the generation at request time.
#[derive(Debug, Clone, Copy)]
pub struct Cancel {
    counter: &'static AtomicU64,
    seen: u64,
}

impl Cancel {
    /// Work requested now: cancelled by any later [`cancel_running`].
    pub fn new() -> Self {
        Self::on(&GENERATION)
    }

    /// The same on a counter of its own (tests: cargo runs them in one process, and one
    /// test's cancel must not stop another's archive).
    pub(crate) fn on(counter: &'static AtomicU64) -> Self {
        Cancel {
            counter,
            seen: counter.load(Ordering::SeqCst),
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.counter.load(Ordering::SeqCst) != self.seen
    }

    /// `Err(ECANCELED)` once cancelled, naming what was interrupted.
    pub fn check(&self, what: impl std::fmt::Display) -> Result<(), Error> {
        if self.is_cancelled() {
            Err(cancelled(what))
        } else {
            Ok(())
        }
    }
}

impl Default for Cancel {
    fn default() -> Self {
        Self::new()
    }
}

/// `reader` that fails at its next read once `cancel` fired: a long read (hashing a large
/// file) stops within one chunk, not at the end of the file. The error is an I/O error whose
/// text is [`CANCELED`]; callers ask [`Cancel::is_cancelled`] to tell it from a real one.
pub struct CancelRead<'a, R> {
    inner: R,
    cancel: &'a Cancel,
}

impl<'a, R: std::io::Read> CancelRead<'a, R> {
    pub fn new(inner: R, cancel: &'a Cancel) -> Self {
        CancelRead { inner, cancel }
    }
}

impl<R: std::io::Read> std::io::Read for CancelRead<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.cancel.is_cancelled() {
            return Err(std::io::Error::other(CANCELED));
        }
        self.inner.read(buf)
    }
}

/// The error of an interrupted operation.
pub fn cancelled(what: impl std::fmt::Display) -> Error {
    Error::new(Code::Os(CANCELED), format!("{what}: cancelled"))
}

/// Cancel every backup operation of this process requested so far.
pub fn cancel_running() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_work_requested_before_the_call_is_cancelled() {
        let counter: &'static AtomicU64 = Box::leak(Box::new(AtomicU64::new(0)));
        let before = Cancel::on(counter);
        counter.fetch_add(1, Ordering::SeqCst);
        let after = Cancel::on(counter);
        assert!(before.is_cancelled());
        assert!(!after.is_cancelled());
        assert_eq!(before.check("x").unwrap_err().code().as_str(), "ECANCELED");
    }

    #[test]
    fn a_cancelled_reader_stops_at_its_next_read() {
        use std::io::Read;
        let counter: &'static AtomicU64 = Box::leak(Box::new(AtomicU64::new(0)));
        let cancel = Cancel::on(counter);
        let mut reader = CancelRead::new(&b"abcdef"[..], &cancel);
        let mut buf = [0u8; 2];
        assert_eq!(reader.read(&mut buf).unwrap(), 2);
        counter.fetch_add(1, Ordering::SeqCst);
        assert_eq!(reader.read(&mut buf).unwrap_err().to_string(), CANCELED);
    }

    const HELPER_ENV: &str = "SR_CORE_TEST_CANCEL_RUNNING";

    /// cancel_running moves the process-wide generation: work requested before it is
    /// cancelled, work requested after is not. In a process of its own (this test binary, the
    /// helper below): here it would cancel the other tests' work.
    #[test]
    fn cancel_running_cancels_this_process_s_earlier_work_only() {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "backup::cancel::tests::cancel_running_in_a_child",
            ])
            .env(HELPER_ENV, "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}");
        assert!(stdout.contains("1 passed"), "the helper ran: {stdout}");
    }

    #[test]
    #[ignore = "helper process for cancel_running_cancels_this_process_s_earlier_work_only"]
    fn cancel_running_in_a_child() {
        if std::env::var_os(HELPER_ENV).is_none() {
            return;
        }
        let before = Cancel::new();
        assert!(!before.is_cancelled());
        cancel_running();
        assert!(before.is_cancelled());
        assert!(!Cancel::new().is_cancelled());
    }
}
