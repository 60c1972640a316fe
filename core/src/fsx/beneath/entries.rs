//! What the snapshot store needs beyond reading and writing whole files, under the same
//! rules as the rest of [`super::Dir`]: full metadata of an entry without following it, a
//! symlink's target, creating a symlink, renaming inside a held folder, a streamed temp file,
//! a folder's mode, and flushing what was written. Every call takes the held parent handle;
//! nothing here resolves a path from the root of the file system.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io;
use std::path::Path;

use super::{Dir, Kind};
use crate::error::{Error, Result};

/// The metadata of an entry, not followed: what decides whether a file changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    pub kind: Kind,
    /// Permission bits (`0o7777`).
    pub mode: u32,
    pub size: u64,
    /// Seconds and nanoseconds since the epoch.
    pub mtime: (i64, u32),
    pub ctime: (i64, u32),
    pub ino: u64,
}

impl Dir {
    /// The metadata of `rel` (not followed), `None` when it is missing.
    pub fn meta(&self, rel: &Path) -> Result<Option<Meta>> {
        let (dir, name) = match self.parent_of(rel, false) {
            Ok(found) => found,
            Err(e) if matches!(e.code(), crate::Code::Os("ENOENT")) => return Ok(None),
            Err(e) => return Err(e),
        };
        match os::meta_at(&dir, name) {
            Ok(meta) => Ok(Some(meta)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(
                format!("Cannot stat {}", self.path.join(rel).display()),
                e,
            )),
        }
    }

    /// The target of the symlink `rel` (the link itself is never followed).
    pub fn read_link(&self, rel: &Path) -> Result<OsString> {
        let (dir, name) = self.parent_of(rel, false)?;
        os::read_link_at(&dir, name).map_err(|e| {
            Error::io(
                format!("Cannot read link {}", dir.path.join(name).display()),
                e,
            )
        })
    }

    /// Create the symlink `rel` pointing at `target` (stored as given, never resolved);
    /// missing folders on the way are created. Fails when anything is at `rel`.
    pub fn symlink(&self, rel: &Path, target: &OsStr) -> Result<()> {
        let (dir, name) = self.parent_of(rel, true)?;
        os::symlink_at(&dir, name, target).map_err(|e| {
            Error::io(
                format!("Cannot create link {}", dir.path.join(name).display()),
                e,
            )
        })
    }

    /// A new temp file beside `name` in this folder (0600, created exclusively), to be
    /// filled and then moved over `name` with [`Dir::rename_here`].
    pub fn temp_file(&self, name: &OsStr) -> Result<(OsString, File)> {
        self.new_temp(name).map_err(|e| {
            Error::io(
                format!("Cannot create a temp file in {}", self.path.display()),
                e,
            )
        })
    }

    /// Rename the entry `from` of this folder to `to` (replacing a file or link there, never
    /// following it).
    pub fn rename_here(&self, from: &OsStr, to: &OsStr) -> Result<()> {
        super::sys::rename_at(&self.handle, &self.path, from, &self.handle, &self.path, to).map_err(
            |e| {
                Error::io(
                    format!("Cannot rename to {}", self.path.join(to).display()),
                    e,
                )
            },
        )
    }

    /// Remove the entry `name` of this folder if it is a file or link (`false` when absent).
    pub fn unlink_here(&self, name: &OsStr) -> Result<bool> {
        let full = self.path.join(name);
        match super::sys::unlink_at(&self.handle, &full, name, false) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Error::io(format!("Cannot remove {}", full.display()), e)),
        }
    }

    /// Set this folder's permission bits.
    pub fn set_mode(&self, mode: u32) -> Result<()> {
        os::set_dir_mode(self, mode)
            .map_err(|e| Error::io(format!("Cannot set the mode of {}", self.path.display()), e))
    }

    /// Make what was written below this folder durable: one `syncfs` on Linux (thousands of
    /// chunk files cost one call, not one `fsync` each), an `fsync` of the folder elsewhere
    /// (the caller fsyncs its files there).
    pub fn sync_below(&self) -> Result<()> {
        os::sync_below(self)
            .map_err(|e| Error::io(format!("Cannot flush {}", self.path.display()), e))
    }

    /// Whether the platform lets [`Dir::sync_below`] flush files written without `fsync`.
    pub fn syncs_whole_fs() -> bool {
        cfg!(any(target_os = "linux", target_os = "android"))
    }
}

#[cfg(unix)]
mod os {
    use std::ffi::{OsStr, OsString};
    use std::io;
    use std::os::unix::ffi::OsStringExt;

    use rustix::fs::{self as rfs, AtFlags, FileType, Mode};

    use super::{Dir, Kind, Meta};

    fn kind(mode: u32) -> Kind {
        match FileType::from_raw_mode(mode as _) {
            FileType::RegularFile => Kind::File,
            FileType::Directory => Kind::Dir,
            FileType::Symlink => Kind::Symlink,
            _ => Kind::Other,
        }
    }

    // the stat fields are i64 on Linux and narrower on some Unixes
    #[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
    pub fn meta_at(dir: &Dir, name: &OsStr) -> io::Result<Meta> {
        let st = rfs::statat(&dir.handle, name, AtFlags::SYMLINK_NOFOLLOW)?;
        let mode = u32::from(st.st_mode);
        Ok(Meta {
            kind: kind(mode),
            mode: mode & 0o7777,
            size: st.st_size as u64,
            mtime: (st.st_mtime as i64, st.st_mtime_nsec as u32),
            ctime: (st.st_ctime as i64, st.st_ctime_nsec as u32),
            ino: st.st_ino as u64,
        })
    }

    pub fn read_link_at(dir: &Dir, name: &OsStr) -> io::Result<OsString> {
        let target = rfs::readlinkat(&dir.handle, name, Vec::new())?;
        Ok(OsString::from_vec(target.into_bytes()))
    }

    pub fn symlink_at(dir: &Dir, name: &OsStr, target: &OsStr) -> io::Result<()> {
        Ok(rfs::symlinkat(target, &dir.handle, name)?)
    }

    pub fn set_dir_mode(dir: &Dir, mode: u32) -> io::Result<()> {
        Ok(rfs::fchmod(&dir.handle, Mode::from_raw_mode(mode as _))?)
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn sync_below(dir: &Dir) -> io::Result<()> {
        Ok(rfs::syncfs(&dir.handle)?)
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    pub fn sync_below(dir: &Dir) -> io::Result<()> {
        Ok(rfs::fsync(&dir.handle)?)
    }
}

#[cfg(windows)]
mod os {
    use std::ffi::{OsStr, OsString};
    use std::fs;
    use std::io;
    use std::os::windows::fs::MetadataExt;

    use super::{Dir, Kind, Meta};

    /// 100 ns ticks since 1601 to (seconds, nanoseconds) since 1970.
    fn filetime(ticks: u64) -> (i64, u32) {
        let unix = ticks as i64 - 116_444_736_000_000_000;
        (
            unix.div_euclid(10_000_000),
            (unix.rem_euclid(10_000_000) * 100) as u32,
        )
    }

    pub fn meta_at(dir: &Dir, name: &OsStr) -> io::Result<Meta> {
        let meta = fs::symlink_metadata(dir.path.join(name))?;
        let kind = if meta.file_type().is_symlink() {
            Kind::Symlink
        } else if meta.is_dir() {
            Kind::Dir
        } else if meta.is_file() {
            Kind::File
        } else {
            Kind::Other
        };
        let writable = if meta.permissions().readonly() {
            0o444
        } else {
            0o644
        };
        let mode = if kind == Kind::Dir { 0o755 } else { writable };
        Ok(Meta {
            kind,
            mode,
            size: meta.len(),
            mtime: filetime(meta.last_write_time()),
            // no change time in std on Windows: the write time stands in for it
            ctime: filetime(meta.last_write_time()),
            ino: 0,
        })
    }

    pub fn read_link_at(dir: &Dir, name: &OsStr) -> io::Result<OsString> {
        Ok(fs::read_link(dir.path.join(name))?.into_os_string())
    }

    pub fn symlink_at(dir: &Dir, name: &OsStr, target: &OsStr) -> io::Result<()> {
        std::os::windows::fs::symlink_file(target, dir.path.join(name))
    }

    pub fn set_dir_mode(_dir: &Dir, _mode: u32) -> io::Result<()> {
        Ok(()) // ACLs, not modes
    }

    pub fn sync_below(_dir: &Dir) -> io::Result<()> {
        Ok(()) // files were fsynced one by one (see Dir::syncs_whole_fs)
    }
}
