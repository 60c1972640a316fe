//! Removing a lock file so that its name is free at once, on every platform.
//!
//! Unix: `unlink` frees the name at once, whoever still has the file open. Windows: deleting
//! a file that another handle has open (a native waiter keeps one to sleep on the holder's
//! OS lock, a reader has one for a moment) only marks it "delete pending": the name stays
//! taken until the last handle closes, and every exclusive create of `<id>.lock` meanwhile
//! fails as if the lock were still held. Windows 10 NTFS hides this with POSIX delete
//! semantics, but FAT, network shares and Wine do not: measured under Wine, 2 processes
//! contending on one lock starved each other until one timed out. So on Windows the file is
//! first renamed to a hidden unique name in the same directory (open handles follow it: all
//! of ours and Node's share delete access), which frees the name at once, then deleted.

use std::fs;
use std::io;
use std::path::Path;

/// Remove the lock file at `path`; `NotFound` when there was none.
pub fn remove_lock_file(path: &Path) -> io::Result<()> {
    // a test can make it fail, or the file vanish just before (crate::testutil::removal_faults)
    #[cfg(test)]
    crate::testutil::before_lock_removal(path)?;
    imp::remove(path)
}

#[cfg(not(windows))]
mod imp {
    use super::*;

    pub fn remove(path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }
}

#[cfg(windows)]
mod imp {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    pub fn remove(path: &Path) -> io::Result<()> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
            return fs::remove_file(path);
        };
        let aside = dir.join(format!(
            ".{}.removed-{}-{}",
            name.to_string_lossy(),
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        match fs::rename(path, &aside) {
            // The name is free now; the file itself goes when its last handle closes.
            Ok(()) => fs::remove_file(&aside).or(Ok(())),
            // Not renamed (opened somewhere without delete sharing, say): a plain delete is
            // all we can do, and its error is the answer (`NotFound` when nothing is there).
            // Not `NotFound` from the rename alone: Wine says that of a name it cannot make.
            Err(_) => fs::remove_file(path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_is_free_at_once_even_while_another_handle_is_open() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.lock");
        fs::write(&path, b"{}").unwrap();
        let reader = fs::File::open(&path).unwrap();
        remove_lock_file(&path).unwrap();
        fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .expect("the name is free while the old file is still open");
        drop(reader);
        assert_eq!(
            remove_lock_file(&tmp.path().join("none.lock"))
                .unwrap_err()
                .kind(),
            io::ErrorKind::NotFound
        );
    }

    /// A lock file that cannot be renamed aside is removed all the same by a plain delete:
    /// here its hidden name would be too long for the file system (lock names are shorter;
    /// this makes the rename fail for sure). Wine fails that rename with "file not found",
    /// which must not be taken for "no lock file".
    #[test]
    fn a_lock_file_that_cannot_be_renamed_aside_is_deleted() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(format!("{}.lock", "x".repeat(245)));
        fs::write(&path, b"{}").unwrap();
        remove_lock_file(&path).unwrap();
        assert!(!path.exists());
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
    }
}
