//! Opening lock files and takeover markers for reading: regular files only, never through a
//! symlink, and never more than a record's worth of bytes.
//!
//! Anyone who can write in the lock folder could put a FIFO (an `open` for reading blocks
//! until a writer comes: forever) or a link to `/dev/zero` (a read that never ends) where a
//! lock file should be. The name is `lstat`ed first, so neither is ever opened; the open uses
//! `O_NOFOLLOW | O_NONBLOCK` and is `fstat`ed again, so a swap in between is refused too.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::Path;

use crate::error::{Code, Error};

/// A lock record is a few hundred bytes; anything longer than this is not one.
pub const MAX_RECORD_BYTES: u64 = 64 * 1024;

/// The reason a lock file was refused without being read.
#[derive(Debug)]
pub struct NotALockFile(pub &'static str);

impl std::fmt::Display for NotALockFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not a regular file ({})", self.0)
    }
}

impl std::error::Error for NotALockFile {}

fn what(ft: fs::FileType) -> Option<&'static str> {
    if ft.is_file() {
        None
    } else if ft.is_symlink() {
        Some("a symbolic link")
    } else if ft.is_dir() {
        Some("a directory")
    } else {
        Some("a FIFO, socket or device")
    }
}

fn refuse(why: &'static str) -> io::Error {
    io::Error::other(NotALockFile(why))
}

/// `O_NOFOLLOW` on a symlink fails with ELOOP: that is a refusal, not an I/O error.
fn open_error(e: io::Error) -> io::Error {
    #[cfg(unix)]
    if e.raw_os_error() == Some(libc::ELOOP) {
        return refuse("a symbolic link");
    }
    e
}

/// Open the regular file at `path` for reading (and writing when `write`).
pub fn open_regular(path: &Path, write: bool) -> io::Result<File> {
    if let Some(why) = what(fs::symlink_metadata(path)?.file_type()) {
        return Err(refuse(why));
    }
    let mut options = OpenOptions::new();
    options.read(true).write(write);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::OpenOptionsExt;
        // a reparse point is opened itself (and refused below), not followed
        options.custom_flags(windows_sys::Win32::Storage::FileSystem::FILE_FLAG_OPEN_REPARSE_POINT);
    }
    let file = options.open(path).map_err(open_error)?;
    let meta = file.metadata()?;
    if let Some(why) = what(meta.file_type()) {
        return Err(refuse(why));
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::MetadataExt;
        const REPARSE: u32 = windows_sys::Win32::Storage::FileSystem::FILE_ATTRIBUTE_REPARSE_POINT;
        if meta.file_attributes() & REPARSE != 0 {
            return Err(refuse("a reparse point"));
        }
    }
    Ok(file)
}

/// At most `MAX_RECORD_BYTES + 1` bytes of `file`: more than a record is never a record.
pub fn read_bounded(file: &mut File) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    file.take(MAX_RECORD_BYTES + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The bytes of the lock file at `path` (regular, bounded).
pub fn read(path: &Path) -> io::Result<Vec<u8>> {
    read_bounded(&mut open_regular(path, false)?)
}

/// An error of the lock functions: `EBADLOCK` for a lock file that is not a regular file,
/// the OS error's code otherwise.
pub fn error(context: impl std::fmt::Display, e: io::Error) -> Error {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<NotALockFile>())
    {
        Some(why) => Error::new(
            Code::BadLock,
            format!("{context}: refusing the lock file: {why}"),
        ),
        None => Error::io(context, e),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn fifos_links_and_endless_files_are_refused_at_once() {
        let tmp = tempfile::tempdir().unwrap();
        let fifo = tmp.path().join("f.lock");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let zero = tmp.path().join("z.lock");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let started = Instant::now();
        for path in [&fifo, &zero] {
            let e = read(path).unwrap_err();
            assert_eq!(error("x", e).code(), Code::BadLock, "{}", path.display());
        }
        assert!(started.elapsed() < Duration::from_secs(1));
        let big = tmp.path().join("big.lock");
        fs::write(&big, vec![b' '; 200_000]).unwrap();
        assert_eq!(read(&big).unwrap().len() as u64, MAX_RECORD_BYTES + 1);
    }

    #[test]
    fn only_a_symlink_loop_error_is_a_refusal() {
        let refused = open_error(io::Error::from_raw_os_error(libc::ELOOP));
        assert_eq!(error("x", refused).code(), Code::BadLock);
        let other = open_error(io::Error::from_raw_os_error(libc::EACCES));
        assert_eq!(other.raw_os_error(), Some(libc::EACCES));
        assert_ne!(error("x", other).code(), Code::BadLock);
    }

    /// A name swapped between the `lstat` and the `open` (a symlink to another file put in
    /// place of the lock file) is refused by the open itself, never followed.
    #[test]
    fn a_symlink_swapped_in_after_the_check_is_not_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let secret = tmp.path().join("secret");
        fs::write(&secret, "secret").unwrap();
        let path = tmp.path().join("a.lock");
        fs::write(&path, "record").unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let swapper = {
            let (dir, path, stop) = (tmp.path().to_path_buf(), path.clone(), stop.clone());
            std::thread::spawn(move || {
                let (file, link) = (dir.join("file.tmp"), dir.join("link.tmp"));
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    fs::write(&file, "record").unwrap();
                    fs::rename(&file, &path).unwrap();
                    std::os::unix::fs::symlink(dir.join("secret"), &link).unwrap();
                    fs::rename(&link, &path).unwrap();
                }
            })
        };
        let (mut read_ok, mut refused) = (0, 0);
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(2) {
            match read(&path) {
                Ok(bytes) => {
                    assert_eq!(bytes, b"record", "the symlink was followed");
                    read_ok += 1;
                }
                Err(e) => {
                    // the name always exists (renamed over): an error is a refusal, whichever
                    // of the lstat or the open saw the symlink
                    assert_eq!(error("x", e).code(), Code::BadLock);
                    refused += 1;
                }
            }
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        swapper.join().unwrap();
        assert!(
            read_ok > 0 && refused > 0,
            "{read_ok} read, {refused} refused"
        );
    }
}
