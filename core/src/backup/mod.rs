//! Backups of a whole project: the Rust side of legacy `backup-system.js`.
//!
//! The orchestration (ids, info files, the tracker's restore points, git restore steps)
//! lives in `lib/backup-system.js` and is shared by both backends; these modules do the
//! heavy or dangerous parts, each in bounded memory:
//! - [`archive`]: the `full/<id>.tar.gz` of the project, streamed, with the legacy exclusions;
//! - [`sqlite`]: consistent database copies through SQLite's online backup API;
//! - [`manifest`]: size + SHA-256 of every file of a set, and re-verifying them;
//! - [`git`]: `git bundle` and other git calls, always with argument lists;
//! - [`restore`]: putting files back, only ever inside the project root.

pub mod archive;
pub mod cancel;
pub mod git;
pub mod manifest;
pub mod restore;
pub mod sqlite;
pub mod sqlite_held;
pub mod sqlite_os;

/// How far a long operation got: reported to the caller's callback now and then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub phase: &'static str,
    pub files: u64,
    pub bytes: u64,
}

/// Report every this many files or bytes (whichever comes first), and once at the end.
const REPORT_FILES: u64 = 200;
const REPORT_BYTES: u64 = 32 * 1024 * 1024;

/// Counts files and bytes and calls the callback at a bounded rate.
pub(crate) struct Meter<'a> {
    phase: &'static str,
    files: u64,
    bytes: u64,
    last_files: u64,
    last_bytes: u64,
    report: &'a mut dyn FnMut(Progress),
}

impl<'a> Meter<'a> {
    pub(crate) fn new(phase: &'static str, report: &'a mut dyn FnMut(Progress)) -> Self {
        Meter {
            phase,
            files: 0,
            bytes: 0,
            last_files: 0,
            last_bytes: 0,
            report,
        }
    }

    pub(crate) fn add(&mut self, bytes: u64) {
        self.files += 1;
        self.bytes += bytes;
        if self.files - self.last_files >= REPORT_FILES
            || self.bytes - self.last_bytes >= REPORT_BYTES
        {
            self.emit();
        }
    }

    pub(crate) fn finish(mut self) -> Progress {
        self.emit();
        self.snapshot()
    }

    fn snapshot(&self) -> Progress {
        Progress {
            phase: self.phase,
            files: self.files,
            bytes: self.bytes,
        }
    }

    fn emit(&mut self) {
        self.last_files = self.files;
        self.last_bytes = self.bytes;
        let now = self.snapshot();
        (self.report)(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reports come every REPORT_FILES files or REPORT_BYTES bytes since the last one (each
    /// alone, counted from the last report, not from the start), and once at the end.
    #[test]
    fn the_meter_reports_at_its_thresholds_and_at_the_end() {
        // 32 MiB, written out: the threshold is part of what is tested
        const REPORT_BYTES: u64 = 33_554_432;
        let mut seen = Vec::new();
        let mut report = |p: Progress| seen.push((p.files, p.bytes));
        let mut meter = Meter::new("archive", &mut report);
        meter.add(REPORT_BYTES - 1);
        meter.add(0);
        meter.add(1); // 3 files, 32 MiB: the byte threshold
        for _ in 0..REPORT_FILES - 1 {
            meter.add(0);
        }
        meter.add(REPORT_BYTES - 1); // 200 files since the last report: the file threshold
        let last = meter.finish();
        assert_eq!(
            last,
            Progress {
                phase: "archive",
                files: 203,
                bytes: 2 * REPORT_BYTES - 1,
            }
        );
        assert_eq!(
            seen,
            [
                (3, REPORT_BYTES),
                (203, 2 * REPORT_BYTES - 1),
                (203, 2 * REPORT_BYTES - 1),
            ]
        );
    }
}
