//! The OS-level lock a native holder keeps on its lock file while it holds it: its death
//! (even SIGKILL) releases the OS lock at once, so a waiter can tell a dead native holder
//! from a live one without guessing from pids and ages.
//!
//! Unix: `flock` through `std::fs::File::try_lock` (it does not stop anyone reading the
//! record). Windows: a whole-file `LockFileEx` would stop legacy readers from reading the
//! record, so we lock one byte far past its end instead.

use std::fs::File;
use std::io;

/// Take the OS lock without waiting: `Ok(true)` when we now hold it.
pub fn try_lock(file: &File) -> io::Result<bool> {
    imp::try_lock(file)
}

/// Wait for the OS lock, however long it takes (see [`wait_for_release`] for a bounded wait).
pub fn lock_blocking(file: &File) -> io::Result<()> {
    imp::lock_blocking(file)
}

/// Learn, without polling, when the current holder of `file`'s OS lock lets go (releases
/// or dies): a helper thread blocks on the OS lock of a duplicate handle, takes it, drops
/// it at once and reports on the returned channel. If the caller stops waiting first, the
/// thread stays blocked until the holder lets go, then exits (no lock is kept).
pub fn wait_for_release(file: &File) -> io::Result<std::sync::mpsc::Receiver<()>> {
    let handle = file.try_clone()?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("sr-lock-wait".into())
        .spawn(move || {
            if lock_blocking(&handle).is_ok() {
                let _ = unlock(&handle);
            }
            let _ = tx.send(());
        })?;
    Ok(rx)
}

/// Drop an OS lock taken with [`try_lock`] (closing the file drops it too).
pub fn unlock(file: &File) -> io::Result<()> {
    imp::unlock(file)
}

#[cfg(not(windows))]
mod imp {
    use std::fs::{File, TryLockError};
    use std::io;

    pub fn try_lock(file: &File) -> io::Result<bool> {
        match file.try_lock() {
            Ok(()) => Ok(true),
            Err(TryLockError::WouldBlock) => Ok(false),
            Err(TryLockError::Error(e)) => Err(e),
        }
    }

    pub fn lock_blocking(file: &File) -> io::Result<()> {
        file.lock()
    }

    pub fn unlock(file: &File) -> io::Result<()> {
        file.unlock()
    }
}

#[cfg(windows)]
mod imp {
    use std::fs::File;
    use std::io;
    use std::os::windows::io::AsRawHandle;

    use windows_sys::Win32::Foundation::{ERROR_LOCK_VIOLATION, HANDLE};
    use windows_sys::Win32::Storage::FileSystem::{
        LockFileEx, UnlockFileEx, LOCKFILE_EXCLUSIVE_LOCK, LOCKFILE_FAIL_IMMEDIATELY,
    };
    use windows_sys::Win32::System::IO::OVERLAPPED;

    // One byte at offset 2^63 - 1: never part of a record, so readers are never blocked.
    const OFFSET_LOW: u32 = u32::MAX;
    const OFFSET_HIGH: u32 = i32::MAX as u32;

    fn overlapped() -> OVERLAPPED {
        // SAFETY: OVERLAPPED is plain data; all-zero is its documented initial state.
        let mut o: OVERLAPPED = unsafe { std::mem::zeroed() };
        o.Anonymous.Anonymous.Offset = OFFSET_LOW;
        o.Anonymous.Anonymous.OffsetHigh = OFFSET_HIGH;
        o
    }

    pub fn try_lock(file: &File) -> io::Result<bool> {
        let mut o = overlapped();
        let flags = LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY;
        // SAFETY: the handle is valid for the life of `file`; `o` outlives the call.
        let ok = unsafe { LockFileEx(file.as_raw_handle() as HANDLE, flags, 0, 1, 0, &mut o) };
        if ok != 0 {
            return Ok(true);
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() == Some(ERROR_LOCK_VIOLATION as i32) {
            Ok(false)
        } else {
            Err(err)
        }
    }

    pub fn lock_blocking(file: &File) -> io::Result<()> {
        let mut o = overlapped();
        // SAFETY: as in try_lock; without FAIL_IMMEDIATELY the call waits for the range.
        let ok = unsafe {
            LockFileEx(
                file.as_raw_handle() as HANDLE,
                LOCKFILE_EXCLUSIVE_LOCK,
                0,
                1,
                0,
                &mut o,
            )
        };
        if ok != 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    pub fn unlock(file: &File) -> io::Result<()> {
        let mut o = overlapped();
        // SAFETY: as above.
        let ok = unsafe { UnlockFileEx(file.as_raw_handle() as HANDLE, 0, 1, 0, &mut o) };
        if ok != 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_handle_cannot_take_a_held_lock_until_it_is_closed() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.lock");
        std::fs::write(&path, b"{}").unwrap();
        let holder = File::open(&path).unwrap();
        assert!(try_lock(&holder).unwrap());
        let waiter = File::open(&path).unwrap();
        assert!(!try_lock(&waiter).unwrap());
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"{}",
            "the record stays readable"
        );
        let released = wait_for_release(&waiter).unwrap();
        assert!(released
            .recv_timeout(std::time::Duration::from_millis(50))
            .is_err());
        drop(holder);
        released
            .recv_timeout(std::time::Duration::from_secs(5))
            .unwrap();
        assert!(try_lock(&waiter).unwrap());
        unlock(&waiter).unwrap();
    }

    /// Windows: the OS lock covers no byte of the record, so readers are never blocked (a
    /// locked range refuses reads on Windows). Asked of the range itself: another handle can
    /// lock the record's bytes while ours is held (Wine does not refuse the read).
    #[cfg(windows)]
    #[test]
    fn the_windows_lock_leaves_the_record_bytes_free() {
        use std::os::windows::io::AsRawHandle;
        use windows_sys::Win32::Foundation::HANDLE;
        use windows_sys::Win32::Storage::FileSystem::{
            LockFileEx, UnlockFileEx, LOCKFILE_EXCLUSIVE_LOCK, LOCKFILE_FAIL_IMMEDIATELY,
        };
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.lock");
        std::fs::write(&path, b"{\"pid\":1}").unwrap();
        let holder = File::open(&path).unwrap();
        assert!(try_lock(&holder).unwrap());
        let other = File::open(&path).unwrap();
        let handle = other.as_raw_handle() as HANDLE;
        let flags = LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY;
        // SAFETY: OVERLAPPED is plain data, all-zero is offset 0; the handle lives in `other`
        let mut o = unsafe { std::mem::zeroed() };
        let locked = unsafe { LockFileEx(handle, flags, 0, 4096, 0, &mut o) };
        assert_ne!(locked, 0, "{}", std::io::Error::last_os_error());
        // SAFETY: as above
        unsafe { UnlockFileEx(handle, 0, 4096, 0, &mut o) };
        unlock(&holder).unwrap();
    }
}
