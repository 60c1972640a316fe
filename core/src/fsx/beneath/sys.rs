//! The platform half of [`super`]: the few `*at` calls it is built from. Each takes the held
//! parent handle, the full path (for messages, and for the Windows calls, which are path
//! based under held handles) and the entry's name.

use std::io;

use super::Kind;

/// Marks "a symbolic link or reparse point was met" so that callers can tell it apart.
#[derive(Debug)]
struct LinkFound;

impl std::fmt::Display for LinkFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a symbolic link or reparse point is on the way")
    }
}

impl std::error::Error for LinkFound {}

fn link_found() -> io::Error {
    io::Error::other(LinkFound)
}

pub fn is_link_error(e: &io::Error) -> bool {
    if e.get_ref().is_some_and(|inner| inner.is::<LinkFound>()) {
        return true;
    }
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(libc::ELOOP)
    }
    #[cfg(not(unix))]
    {
        false
    }
}

#[cfg(unix)]
pub use unix::*;
#[cfg(windows)]
pub use windows::*;

#[cfg(unix)]
mod unix {
    use std::ffi::{OsStr, OsString};
    use std::fs::File;
    use std::io;
    use std::os::fd::{AsFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt;
    use std::path::{Path, PathBuf};

    use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags};

    use super::{link_found, Kind};

    pub type Handle = OwnedFd;

    const DIR_FLAGS: OFlags = OFlags::RDONLY
        .union(OFlags::DIRECTORY)
        .union(OFlags::NOFOLLOW)
        .union(OFlags::CLOEXEC);

    fn kind(ft: FileType) -> Kind {
        match ft {
            FileType::RegularFile => Kind::File,
            FileType::Directory => Kind::Dir,
            FileType::Symlink => Kind::Symlink,
            _ => Kind::Other,
        }
    }

    /// `O_DIRECTORY | O_NOFOLLOW` on a symlink fails with ENOTDIR on some systems and ELOOP
    /// on others: say "link" for both when a link is what is there.
    fn dir_open_error(dir: &OwnedFd, name: &OsStr, e: rustix::io::Errno) -> io::Error {
        if e == rustix::io::Errno::NOTDIR || e == rustix::io::Errno::LOOP {
            if let Ok(st) = rfs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
                if FileType::from_raw_mode(st.st_mode) == FileType::Symlink {
                    return link_found();
                }
            }
        }
        e.into()
    }

    /// Is `path` a pinned path of ours (`/proc/<our pid>/fd/<n>`, see `pinned_path`)? That
    /// link is a folder we hold, so it is opened through rather than refused.
    #[cfg(target_os = "linux")]
    fn is_own_pinned(path: &Path) -> bool {
        let prefix = format!("/proc/{}/fd/", std::process::id());
        path.to_str()
            .and_then(|p| p.strip_prefix(&prefix))
            .map(|n| n.trim_end_matches('/'))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    }

    #[cfg(not(target_os = "linux"))]
    fn is_own_pinned(_path: &Path) -> bool {
        false
    }

    pub fn open_base(path: &Path) -> io::Result<Handle> {
        if is_own_pinned(path) {
            return Ok(rfs::open(
                path,
                DIR_FLAGS - OFlags::NOFOLLOW,
                Mode::empty(),
            )?);
        }
        match rfs::open(path, DIR_FLAGS, Mode::empty()) {
            Ok(fd) => Ok(fd),
            Err(e) if e == rustix::io::Errno::NOTDIR || e == rustix::io::Errno::LOOP => {
                match rfs::lstat(path) {
                    Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Symlink => {
                        Err(link_found())
                    }
                    _ => Err(e.into()),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    pub fn dup(h: &Handle) -> io::Result<Handle> {
        h.try_clone()
    }

    /// Linux ≥ 5.6: the whole relative path in one `openat2`, no link anywhere on the way.
    /// `None` when the kernel lacks it (the caller walks instead).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn open_dir_beneath(h: &Handle, _base: &Path, rel: &Path) -> Option<io::Result<Handle>> {
        use std::sync::atomic::{AtomicBool, Ordering};
        static MISSING: AtomicBool = AtomicBool::new(false);
        if MISSING.load(Ordering::Relaxed) {
            return None;
        }
        let how = rfs::ResolveFlags::BENEATH
            | rfs::ResolveFlags::NO_SYMLINKS
            | rfs::ResolveFlags::NO_MAGICLINKS;
        // EAGAIN: a rename elsewhere on the system raced the lookup; the walk is not racy
        for _ in 0..3 {
            match rfs::openat2(h, rel, DIR_FLAGS, Mode::empty(), how) {
                Ok(fd) => return Some(Ok(fd)),
                Err(rustix::io::Errno::AGAIN) => continue,
                Err(rustix::io::Errno::NOSYS) | Err(rustix::io::Errno::PERM) => {
                    // no openat2 (old kernel, or a seccomp filter that refuses it)
                    MISSING.store(true, Ordering::Relaxed);
                    return None;
                }
                Err(rustix::io::Errno::LOOP) | Err(rustix::io::Errno::XDEV) => {
                    return Some(Err(link_found()))
                }
                // ENOTDIR may be a link in last place: the walk tells which
                Err(rustix::io::Errno::NOTDIR) => return None,
                Err(e) => return Some(Err(e.into())),
            }
        }
        None
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    pub fn open_dir_beneath(_h: &Handle, _base: &Path, _rel: &Path) -> Option<io::Result<Handle>> {
        None
    }

    pub fn open_dir_at(h: &Handle, _full: &Path, name: &OsStr) -> io::Result<Handle> {
        rfs::openat(h, name, DIR_FLAGS, Mode::empty()).map_err(|e| dir_open_error(h, name, e))
    }

    pub fn mkdir_at(h: &Handle, _full: &Path, name: &OsStr) -> io::Result<()> {
        Ok(rfs::mkdirat(h, name, Mode::from_raw_mode(0o700))?)
    }

    pub fn stat_at(h: &Handle, _full: &Path, name: &OsStr) -> io::Result<(Kind, u64)> {
        let st = rfs::statat(h, name, AtFlags::SYMLINK_NOFOLLOW)?;
        Ok((kind(FileType::from_raw_mode(st.st_mode)), st.st_size as u64))
    }

    pub fn kind_of(file: &File) -> io::Result<Kind> {
        let st = rfs::fstat(file.as_fd())?;
        Ok(kind(FileType::from_raw_mode(st.st_mode)))
    }

    fn open_at(h: &Handle, name: &OsStr, flags: OFlags) -> io::Result<File> {
        let flags = flags | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK;
        Ok(File::from(rfs::openat(
            h,
            name,
            flags,
            Mode::from_raw_mode(0o600),
        )?))
    }

    pub fn open_read_at(h: &Handle, _full: &Path, name: &OsStr) -> io::Result<File> {
        let file = open_at(h, name, OFlags::RDONLY)?;
        // reads of a regular file never block anyway; clear it for plain blocking reads
        rfs::fcntl_setfl(file.as_fd(), OFlags::empty())?;
        Ok(file)
    }

    pub fn create_new_at(h: &Handle, _full: &Path, name: &OsStr) -> io::Result<File> {
        let file = open_at(h, name, OFlags::RDWR | OFlags::CREATE | OFlags::EXCL)?;
        rfs::fcntl_setfl(file.as_fd(), OFlags::empty())?;
        Ok(file)
    }

    pub fn open_append_at(h: &Handle, _full: &Path, name: &OsStr) -> io::Result<File> {
        let file = open_at(h, name, OFlags::WRONLY | OFlags::CREATE | OFlags::APPEND)?;
        rfs::fcntl_setfl(file.as_fd(), OFlags::APPEND)?;
        Ok(file)
    }

    pub fn rename_at(
        h: &Handle,
        _dir: &Path,
        from: &OsStr,
        dest: &Handle,
        _dest_dir: &Path,
        to: &OsStr,
    ) -> io::Result<()> {
        Ok(rfs::renameat(h, from, dest, to)?)
    }

    /// `rename_at` that fails with `EEXIST` instead of replacing what is at `to`.
    #[cfg(target_os = "linux")]
    pub fn rename_new_at(h: &Handle, from: &OsStr, dest: &Handle, to: &OsStr) -> io::Result<()> {
        Ok(rfs::renameat_with(
            h,
            from,
            dest,
            to,
            rfs::RenameFlags::NOREPLACE,
        )?)
    }

    /// fsync the folder itself, so that a rename in it survives a power loss.
    pub fn sync(h: &Handle, _path: &Path) -> io::Result<()> {
        Ok(rfs::fsync(h)?)
    }

    pub fn unlink_at(h: &Handle, _full: &Path, name: &OsStr, dir: bool) -> io::Result<()> {
        let flags = if dir {
            AtFlags::REMOVEDIR
        } else {
            AtFlags::empty()
        };
        Ok(rfs::unlinkat(h, name, flags)?)
    }

    pub fn list(h: &Handle, _path: &Path) -> io::Result<Vec<(OsString, Kind)>> {
        let mut out = Vec::new();
        for entry in rfs::Dir::read_from(h)? {
            let entry = entry?;
            let name = OsStr::from_bytes(entry.file_name().to_bytes());
            if name == "." || name == ".." {
                continue;
            }
            let k = match entry.file_type() {
                FileType::Unknown => kind(FileType::from_raw_mode(
                    rfs::statat(h, name, AtFlags::SYMLINK_NOFOLLOW)?.st_mode,
                )),
                ft => kind(ft),
            };
            out.push((name.to_os_string(), k));
        }
        Ok(out)
    }

    pub fn make_private(h: &Handle, _path: &Path) -> io::Result<bool> {
        let st = rfs::fstat(h)?;
        if st.st_mode & 0o777 == 0o700 {
            return Ok(false);
        }
        rfs::fchmod(h, Mode::from_raw_mode(0o700))?;
        Ok(true)
    }

    pub fn owner_mode(h: &Handle) -> io::Result<Option<(u32, u32)>> {
        let st = rfs::fstat(h)?;
        // st_mode is a u16 on macOS, a u32 on Linux
        #[allow(clippy::useless_conversion)]
        let mode = u32::from(st.st_mode) & 0o7777;
        Ok(Some((st.st_uid, mode)))
    }

    #[cfg(target_os = "linux")]
    pub fn pinned_path(h: &Handle, path: &Path) -> PathBuf {
        use std::os::fd::AsRawFd;
        let proc = PathBuf::from(format!("/proc/{}/fd/{}", std::process::id(), h.as_raw_fd()));
        if proc.exists() {
            proc
        } else {
            path.to_path_buf()
        }
    }

    #[cfg(not(target_os = "linux"))]
    pub fn pinned_path(_h: &Handle, path: &Path) -> PathBuf {
        path.to_path_buf()
    }
}

#[cfg(windows)]
mod windows {
    use std::ffi::{OsStr, OsString};
    use std::fs::{self, File, OpenOptions};
    use std::io;
    use std::os::windows::fs::{MetadataExt, OpenOptionsExt};
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    use windows_sys::Win32::Storage::FileSystem::{
        FILE_ATTRIBUTE_DIRECTORY, FILE_ATTRIBUTE_REPARSE_POINT, FILE_FLAG_BACKUP_SEMANTICS,
        FILE_FLAG_OPEN_REPARSE_POINT, FILE_SHARE_READ, FILE_SHARE_WRITE,
    };

    use super::{link_found, Kind};

    /// The directories from the base down, each held open without `FILE_SHARE_DELETE`: none
    /// can be renamed or removed while we work below it, so the paths we use stay ours.
    #[derive(Debug, Clone)]
    pub struct Handle {
        held: Vec<Arc<File>>,
    }

    fn attrs_kind(attrs: u32) -> Kind {
        if attrs & FILE_ATTRIBUTE_REPARSE_POINT != 0 {
            Kind::Symlink
        } else if attrs & FILE_ATTRIBUTE_DIRECTORY != 0 {
            Kind::Dir
        } else {
            Kind::File
        }
    }

    fn hold_dir(path: &Path) -> io::Result<File> {
        let dir = OpenOptions::new()
            .read(true)
            .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE)
            .custom_flags(FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT)
            .open(path)?;
        match attrs_kind(dir.metadata()?.file_attributes()) {
            Kind::Dir => Ok(dir),
            Kind::Symlink => Err(link_found()),
            _ => Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                "not a directory",
            )),
        }
    }

    pub fn open_base(path: &Path) -> io::Result<Handle> {
        Ok(Handle {
            held: vec![Arc::new(hold_dir(path)?)],
        })
    }

    pub fn dup(h: &Handle) -> io::Result<Handle> {
        Ok(h.clone())
    }

    pub fn open_dir_beneath(_h: &Handle, _base: &Path, _rel: &Path) -> Option<io::Result<Handle>> {
        None
    }

    pub fn open_dir_at(h: &Handle, full: &Path, _name: &OsStr) -> io::Result<Handle> {
        let mut held = h.held.clone();
        held.push(Arc::new(hold_dir(full)?));
        Ok(Handle { held })
    }

    pub fn mkdir_at(_h: &Handle, full: &Path, _name: &OsStr) -> io::Result<()> {
        fs::create_dir(full)
    }

    pub fn stat_at(_h: &Handle, full: &Path, _name: &OsStr) -> io::Result<(Kind, u64)> {
        let meta = fs::symlink_metadata(full)?;
        Ok((attrs_kind(meta.file_attributes()), meta.len()))
    }

    pub fn kind_of(file: &File) -> io::Result<Kind> {
        Ok(attrs_kind(file.metadata()?.file_attributes()))
    }

    fn options(full: &Path, opts: &mut OpenOptions) -> io::Result<File> {
        let file = opts.custom_flags(FILE_FLAG_OPEN_REPARSE_POINT).open(full)?;
        if kind_of(&file)? == Kind::Symlink {
            return Err(link_found());
        }
        Ok(file)
    }

    pub fn open_read_at(_h: &Handle, full: &Path, _name: &OsStr) -> io::Result<File> {
        options(full, OpenOptions::new().read(true))
    }

    pub fn create_new_at(_h: &Handle, full: &Path, _name: &OsStr) -> io::Result<File> {
        options(
            full,
            OpenOptions::new().read(true).write(true).create_new(true),
        )
    }

    pub fn open_append_at(_h: &Handle, full: &Path, _name: &OsStr) -> io::Result<File> {
        options(full, OpenOptions::new().append(true).create(true))
    }

    /// Windows cannot fsync a folder (a rename is made durable by the file system's log).
    pub fn sync(_h: &Handle, _path: &Path) -> io::Result<()> {
        Ok(())
    }

    pub fn rename_at(
        _h: &Handle,
        dir: &Path,
        from: &OsStr,
        _dest: &Handle,
        dest_dir: &Path,
        to: &OsStr,
    ) -> io::Result<()> {
        // both folders are held without FILE_SHARE_DELETE: their paths are still theirs
        fs::rename(dir.join(from), dest_dir.join(to))
    }

    pub fn unlink_at(_h: &Handle, full: &Path, _name: &OsStr, dir: bool) -> io::Result<()> {
        if dir {
            fs::remove_dir(full)
        } else {
            fs::remove_file(full)
        }
    }

    pub fn list(_h: &Handle, path: &Path) -> io::Result<Vec<(OsString, Kind)>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(path)? {
            let entry = entry?;
            let meta = fs::symlink_metadata(entry.path())?;
            out.push((entry.file_name(), attrs_kind(meta.file_attributes())));
        }
        Ok(out)
    }

    pub fn make_private(_h: &Handle, _path: &Path) -> io::Result<bool> {
        Ok(false) // ACLs, not modes: the user's profile folders are private already
    }

    pub fn owner_mode(_h: &Handle) -> io::Result<Option<(u32, u32)>> {
        Ok(None)
    }

    pub fn pinned_path(_h: &Handle, path: &Path) -> PathBuf {
        path.to_path_buf()
    }
}
