//! Contained file access: every path is resolved from a directory handle we hold, one
//! component at a time, without following a symbolic link (or a Windows reparse point)
//! anywhere on the way, so nothing planted inside a project can make us read, write,
//! append, truncate or delete outside it.
//!
//! A check followed by a path-based call is a race (swap a folder for a symlink between the
//! two); here the handle *is* the check:
//! - Linux: `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)` opens a
//!   whole relative path in one call; on a kernel without it (< 5.6) the walk below.
//! - Other Unix (macOS): a walk, `openat(O_NOFOLLOW | O_DIRECTORY)` per component, and the
//!   final `*at` call on the pinned parent with `O_NOFOLLOW` / `AT_SYMLINK_NOFOLLOW`.
//! - Windows: no `openat`; each directory on the way is opened with
//!   `FILE_FLAG_OPEN_REPARSE_POINT`, refused when it is a reparse point, and kept open without
//!   `FILE_SHARE_DELETE`, so it cannot be renamed or replaced while we use paths below it.
//!
//! Files opened for reading must be regular files: the final component is `lstat`ed first
//! (a FIFO or a device is never opened), then opened `O_NONBLOCK | O_NOFOLLOW` and `fstat`ed
//! again (what was swapped in meanwhile is refused too), and read with a bound.
//!
//! rustix, not cap-std: cap-std's sandbox follows symlinks that stay inside it and its
//! `FollowSymlinks::No` covers only the last component; we refuse a link anywhere on the way
//! (a symlinked `backups/` is an attack even when it points inside the project). rustix is
//! the thin, safe syscall layer cap-std itself is built on, already in our tree via tempfile.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

use crate::error::{check_path, Code, Error, Result};

mod entries;
mod sys;

pub use entries::Meta;

/// What is at a path, seen without following it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    /// A FIFO, socket or device: never project content we open.
    Other,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::File => "file",
            Kind::Dir => "directory",
            Kind::Symlink => "symlink",
            Kind::Other => "other",
        }
    }
}

/// A directory we hold open; every path below it is resolved from the handle.
#[derive(Debug)]
pub struct Dir {
    path: PathBuf,
    handle: sys::Handle,
}

/// The components of a relative path: plain names only (no root, no `..`).
fn names(rel: &Path) -> Result<Vec<&OsStr>> {
    let mut out = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            _ => {
                return Err(Error::new(
                    Code::PathEscape,
                    format!(
                        "Refusing path {}: only plain relative names stay inside",
                        rel.display()
                    ),
                ))
            }
        }
    }
    Ok(out)
}

/// `name` when it is one plain name (no separator, not `.` or `..`): what the calls that take
/// an entry of a held folder accept.
fn one_name(name: &OsStr) -> Result<&OsStr> {
    match names(Path::new(name))?.as_slice() {
        [only] if *only == name => Ok(name),
        _ => Err(Error::new(
            Code::BadPath,
            format!(
                "{} is not one plain name inside a folder",
                Path::new(name).display()
            ),
        )),
    }
}

/// The error for a symlink (or reparse point) met on the way.
fn link_refused(path: &Path) -> Error {
    Error::new(
        Code::PathEscape,
        format!(
            "Refusing path {}: it goes through a symbolic link",
            path.display()
        ),
    )
}

/// Map an OS error met while resolving `path`: a link on the way is a refusal, not an I/O error.
fn resolve_error(path: &Path, e: io::Error) -> Error {
    if sys::is_link_error(&e) {
        link_refused(path)
    } else {
        Error::io(format!("Cannot open {}", path.display()), e)
    }
}

fn not_regular(path: &Path, kind: Kind) -> Error {
    let what = match kind {
        Kind::Other => "FIFO, socket or device",
        other => other.as_str(),
    };
    Error::new(
        Code::Os("EINVAL"),
        format!("Refusing {}: not a regular file (a {what})", path.display()),
    )
}

impl Dir {
    /// Open `path` as a base directory. Its last component must be a real directory, not a
    /// symlink (`EUNSAFEDIR`); the components above it are the caller's choice.
    pub fn open(path: &Path) -> Result<Dir> {
        check_path("directory", path)?;
        match sys::open_base(path) {
            Ok(handle) => Ok(Dir {
                path: path.to_path_buf(),
                handle,
            }),
            Err(e) if sys::is_link_error(&e) => Err(Error::new(
                Code::UnsafeDir,
                format!(
                    "Refusing directory {}: it is a symbolic link",
                    path.display()
                ),
            )),
            Err(e) => Err(Error::io(
                format!("Cannot use directory {}", path.display()),
                e,
            )),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The sub-directory `rel`, each component a real directory; missing ones are created
    /// (mode 0700) when `create` is set.
    pub fn sub(&self, rel: &Path, create: bool) -> Result<Dir> {
        let parts = names(rel)?;
        let full = self.path.join(rel);
        if parts.is_empty() {
            return sys::dup(&self.handle)
                .map(|handle| Dir {
                    path: self.path.clone(),
                    handle,
                })
                .map_err(|e| Error::io(format!("Cannot open {}", full.display()), e));
        }
        if !create {
            if let Some(found) = sys::open_dir_beneath(&self.handle, &self.path, rel) {
                return found
                    .map(|handle| Dir {
                        path: full.clone(),
                        handle,
                    })
                    .map_err(|e| resolve_error(&full, e));
            }
        }
        let mut dir = sys::dup(&self.handle).map_err(|e| resolve_error(&full, e))?;
        let mut at = self.path.clone();
        for name in parts {
            at.push(name);
            dir = match sys::open_dir_at(&dir, &at, name) {
                Err(e) if create && e.kind() == io::ErrorKind::NotFound => {
                    match sys::mkdir_at(&dir, &at, name) {
                        Ok(()) => {}
                        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                        Err(e) => {
                            return Err(Error::io(format!("Cannot create {}", at.display()), e))
                        }
                    }
                    sys::open_dir_at(&dir, &at, name)
                }
                other => other,
            }
            .map_err(|e| resolve_error(&at, e))?;
        }
        Ok(Dir {
            path: full,
            handle: dir,
        })
    }

    /// Create the new folder `name` (0700) here and hold it: `EEXIST` when anything, a link
    /// included, is already at the name. Its creation is a claim (a staging folder's id).
    pub fn sub_new(&self, name: &OsStr) -> Result<Dir> {
        let full = self.path.join(one_name(name)?);
        sys::mkdir_at(&self.handle, &full, name)
            .map_err(|e| Error::io(format!("Cannot create {}", full.display()), e))?;
        // what we made may have been swapped for a link since: the no-follow open refuses it
        let handle =
            sys::open_dir_at(&self.handle, &full, name).map_err(|e| resolve_error(&full, e))?;
        Ok(Dir { path: full, handle })
    }

    /// The directory holding `rel` and the last name of `rel`.
    fn parent_of<'a>(&self, rel: &'a Path, create: bool) -> Result<(Dir, &'a OsStr)> {
        let parts = names(rel)?;
        let Some((last, _)) = parts.split_last() else {
            return Err(Error::new(
                Code::BadPath,
                format!("{} names no file", rel.display()),
            ));
        };
        let parent = rel.parent().unwrap_or(Path::new(""));
        Ok((self.sub(parent, create)?, last))
    }

    /// What is at `rel` (not followed), or `None` when it, or a folder above it, is missing.
    /// A symlink on the way is refused; a symlink at `rel` itself is reported as one.
    pub fn stat(&self, rel: &Path) -> Result<Option<(Kind, u64)>> {
        let (dir, name) = match self.parent_of(rel, false) {
            Ok(found) => found,
            Err(e) if matches!(e.code(), Code::Os("ENOENT")) => return Ok(None),
            Err(e) => return Err(e),
        };
        match sys::stat_at(&dir.handle, &dir.path.join(name), name) {
            Ok(found) => Ok(Some(found)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(
                format!("Cannot stat {}", self.path.join(rel).display()),
                e,
            )),
        }
    }

    /// Open the regular file `rel` for reading (never a FIFO, device or link).
    pub fn open_read(&self, rel: &Path) -> Result<File> {
        let (dir, name) = self.parent_of(rel, false)?;
        dir.open_file_here(name)
    }

    fn open_file_here(&self, name: &OsStr) -> Result<File> {
        let full = self.path.join(name);
        // lstat first: a FIFO or device is refused before any open (which could block or
        // have side effects); the fstat after the open catches a swap in between
        match sys::stat_at(&self.handle, &full, name) {
            Ok((Kind::File, _)) => {}
            Ok((Kind::Symlink, _)) => return Err(link_refused(&full)),
            Ok((kind, _)) => return Err(not_regular(&full, kind)),
            Err(e) => return Err(Error::io(format!("Cannot open {}", full.display()), e)),
        }
        let file =
            sys::open_read_at(&self.handle, &full, name).map_err(|e| resolve_error(&full, e))?;
        match sys::kind_of(&file) {
            Ok(Kind::File) => Ok(file),
            Ok(kind) => Err(not_regular(&full, kind)),
            Err(e) => Err(Error::io(format!("Cannot open {}", full.display()), e)),
        }
    }

    /// The content of the regular file `rel`, at most `max` bytes (`EFBIG` beyond).
    pub fn read(&self, rel: &Path, max: u64) -> Result<Vec<u8>> {
        let full = self.path.join(rel);
        let file = self.open_read(rel)?;
        read_bounded(file, max, &full)
    }

    /// Create the new file `rel` (0600), failing when anything, a link included, is there.
    /// Missing folders on the way are created (0700) when `parents` is set.
    pub fn create_new(&self, rel: &Path, parents: bool) -> Result<File> {
        let (dir, name) = self.parent_of(rel, parents)?;
        let full = dir.path.join(name);
        sys::create_new_at(&dir.handle, &full, name)
            .map_err(|e| Error::io(format!("Cannot create {}", full.display()), e))
    }

    /// Write the new file `rel` (0600, created exclusively: never through a link at its name),
    /// fsynced when `durable`; a failed write leaves no partial file.
    pub fn write_new(&self, rel: &Path, data: &[u8], durable: bool) -> Result<()> {
        let mut file = self.create_new(rel, true)?;
        let written = file
            .write_all(data)
            .and_then(|()| if durable { file.sync_all() } else { Ok(()) });
        drop(file);
        written.map_err(|e| {
            let _ = self.remove(rel);
            Error::io(format!("Cannot write {}", self.path.join(rel).display()), e)
        })
    }

    /// Move the entry `name` of this folder to `dest_name` in the held folder `dest`: one
    /// `renameat` between the two handles, neither path looked up again (`ENOENT` when
    /// nothing is at `name`). A staging folder's parts go into place this way.
    pub fn rename_to(&self, name: &OsStr, dest: &Dir, dest_name: &OsStr) -> Result<()> {
        let (from, to) = (one_name(name)?, one_name(dest_name)?);
        sys::rename_at(&self.handle, &self.path, from, &dest.handle, &dest.path, to).map_err(|e| {
            Error::io(
                format!(
                    "Cannot move {} to {}",
                    self.path.join(from).display(),
                    dest.path.join(to).display()
                ),
                e,
            )
        })
    }

    /// [`Dir::rename_to`] that never replaces: `EEXIST` when anything, a link included, is
    /// at `dest_name` (`renameat2(RENAME_NOREPLACE)`; Linux only).
    #[cfg(target_os = "linux")]
    pub fn rename_new(&self, name: &OsStr, dest: &Dir, dest_name: &OsStr) -> Result<()> {
        let (from, to) = (one_name(name)?, one_name(dest_name)?);
        sys::rename_new_at(&self.handle, from, &dest.handle, to).map_err(|e| {
            Error::io(
                format!(
                    "Cannot move {} to {}",
                    self.path.join(from).display(),
                    dest.path.join(to).display()
                ),
                e,
            )
        })
    }

    /// fsync this folder (a rename or a new entry in it then survives a power loss; a
    /// no-op on Windows, which cannot).
    pub fn sync(&self) -> Result<()> {
        sys::sync(&self.handle, &self.path)
            .map_err(|e| Error::io(format!("Cannot sync {}", self.path.display()), e))
    }

    /// Replace `rel` with `data`: a new temp file in the same held folder, fsynced when
    /// `durable`, renamed over the name (a link at the name is replaced, never followed).
    pub fn write_atomic(&self, rel: &Path, mut data: &[u8], durable: bool) -> Result<()> {
        self.replace_from(rel, &mut data, durable)
    }

    /// [`Dir::write_atomic`] with the bytes streamed from `from` (a database need not fit in
    /// memory).
    pub fn replace_from(&self, rel: &Path, from: &mut impl Read, durable: bool) -> Result<()> {
        let (dir, name) = self.parent_of(rel, true)?;
        let full = dir.path.join(name);
        let context = || format!("Atomic write failed for {}", full.display());
        let (temp_name, mut file) = dir.new_temp(name).map_err(|e| Error::io(context(), e))?;
        let written =
            io::copy(from, &mut file).and_then(|_| if durable { file.sync_all() } else { Ok(()) });
        drop(file);
        let placed = written.and_then(|()| {
            sys::rename_at(
                &dir.handle,
                &dir.path,
                &temp_name,
                &dir.handle,
                &dir.path,
                name,
            )
        });
        if let Err(e) = placed {
            let _ = sys::unlink_at(&dir.handle, &dir.path.join(&temp_name), &temp_name, false);
            return Err(Error::io(context(), e));
        }
        Ok(())
    }

    /// A fresh `.<name>.sr-<pid>-<ms>-<n>.tmp` created exclusively in this folder.
    fn new_temp(&self, name: &OsStr) -> io::Result<(OsString, File)> {
        for attempt in 0..100u32 {
            let mut temp = OsString::from(".");
            temp.push(name);
            temp.push(format!(
                ".sr-{}-{}-{attempt}.tmp",
                std::process::id(),
                crate::time::now_ms()
            ));
            match sys::create_new_at(&self.handle, &self.path.join(&temp), &temp) {
                Ok(file) => return Ok((temp, file)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::from(io::ErrorKind::AlreadyExists))
    }

    /// Remove the temp files of this folder (named by [`Dir::new_temp`]) whose writer is gone:
    /// what a killed restore or write left beside its target. Only regular files, removed
    /// without following anything; a temp whose writer may be alive, or that cannot be
    /// removed, is left. Returns how many were removed.
    pub fn sweep_dead_temps(&self) -> usize {
        let Ok(entries) = sys::list(&self.handle, &self.path) else {
            return 0;
        };
        let mut removed = 0;
        for (name, kind) in entries {
            let Some((pid, made_s)) = name.to_str().and_then(temp_writer) else {
                continue;
            };
            if kind != Kind::File || pid == std::process::id() {
                continue;
            }
            // a pid now running a process started after the temp was made is another's
            if crate::process::is_dead(pid, Some(made_s))
                && sys::unlink_at(&self.handle, &self.path.join(&name), &name, false).is_ok()
            {
                removed += 1;
            }
        }
        removed
    }

    /// Append `data` to the regular file `rel` (created 0600 if missing): `O_APPEND |
    /// O_NOFOLLOW`, and refused when it is not a regular file.
    pub fn append(&self, rel: &Path, data: &[u8]) -> Result<()> {
        let (dir, name) = self.parent_of(rel, false)?;
        let full = dir.path.join(name);
        let context = || format!("Cannot append to {}", full.display());
        match sys::stat_at(&dir.handle, &full, name) {
            Ok((Kind::File, _)) => {}
            Ok((Kind::Symlink, _)) => return Err(link_refused(&full)),
            Ok((kind, _)) => return Err(not_regular(&full, kind)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(context(), e)),
        }
        let mut file =
            sys::open_append_at(&dir.handle, &full, name).map_err(|e| resolve_error(&full, e))?;
        match sys::kind_of(&file) {
            Ok(Kind::File) => {}
            Ok(kind) => return Err(not_regular(&full, kind)),
            Err(e) => return Err(Error::io(context(), e)),
        }
        file.write_all(data).map_err(|e| Error::io(context(), e))
    }

    /// The entries of the folder `rel` (not followed), in name order.
    pub fn list(&self, rel: &Path) -> Result<Vec<(OsString, Kind)>> {
        let dir = self.sub(rel, false)?;
        let mut out = sys::list(&dir.handle, &dir.path)
            .map_err(|e| Error::io(format!("Cannot list {}", dir.path.display()), e))?;
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// Remove `rel`: a file, a symlink itself, or a real directory with everything in it
    /// (links inside are removed, never followed). `false` when nothing was there.
    pub fn remove(&self, rel: &Path) -> Result<bool> {
        let (dir, name) = match self.parent_of(rel, false) {
            Ok(found) => found,
            Err(e) if matches!(e.code(), Code::Os("ENOENT")) => return Ok(false),
            Err(e) => return Err(e),
        };
        let full = dir.path.join(name);
        let context = || format!("Cannot remove {}", full.display());
        match sys::stat_at(&dir.handle, &full, name) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Error::io(context(), e)),
            Ok((Kind::Dir, _)) => {
                let inner = dir.sub(Path::new(name), false)?;
                inner.empty_out()?;
                drop(inner);
                sys::unlink_at(&dir.handle, &full, name, true)
                    .map_err(|e| Error::io(context(), e))?;
                Ok(true)
            }
            Ok(_) => {
                sys::unlink_at(&dir.handle, &full, name, false)
                    .map_err(|e| Error::io(context(), e))?;
                Ok(true)
            }
        }
    }

    fn empty_out(&self) -> Result<()> {
        for (name, _) in self.list(Path::new(""))? {
            self.remove(Path::new(&name))?;
        }
        Ok(())
    }

    /// Make this folder owner-only (0700) when it is not; `true` when its mode changed.
    pub fn make_private(&self) -> Result<bool> {
        sys::make_private(&self.handle, &self.path)
            .map_err(|e| Error::io(format!("Cannot restrict {}", self.path.display()), e))
    }

    /// A folder of ours made owner-only: refused (`EUNSAFEDIR`) when another user owns it;
    /// `true` when its mode was tightened (legacy made its folders 0755).
    pub fn ensure_private(&self) -> Result<bool> {
        if let Some((uid, mode)) = self.owner_mode()? {
            // SAFETY: geteuid has no preconditions and cannot fail.
            #[cfg(unix)]
            let me = unsafe { libc::geteuid() };
            #[cfg(not(unix))]
            let me = uid;
            if uid != me {
                let how = if mode & 0o022 != 0 {
                    " and writable by others"
                } else {
                    ""
                };
                return Err(Error::new(
                    Code::UnsafeDir,
                    format!(
                        "Refusing directory {}: owned by uid {uid}, not by this user (uid {me}){how}",
                        self.path.display()
                    ),
                ));
            }
        }
        self.make_private()
    }

    /// Copy the regular file `rel` to the new file `dest_rel` below `dest` (created
    /// exclusively, folders on the way created); the bytes copied.
    pub fn copy_to(&self, rel: &Path, dest: &Dir, dest_rel: &Path) -> Result<u64> {
        let mut from = self.open_read(rel)?;
        let mut to = dest.create_new(dest_rel, true)?;
        let full = dest.path.join(dest_rel);
        let copied = io::copy(&mut from, &mut to)
            .and_then(|n| to.sync_all().map(|()| n))
            .map_err(|e| Error::io(format!("Cannot copy to {}", full.display()), e));
        if copied.is_err() {
            drop(to);
            let _ = dest.remove(dest_rel);
        }
        copied
    }

    /// Owner and mode of this folder (Unix; `None` elsewhere).
    pub fn owner_mode(&self) -> Result<Option<(u32, u32)>> {
        sys::owner_mode(&self.handle)
            .map_err(|e| Error::io(format!("Cannot stat {}", self.path.display()), e))
    }

    /// A path to give a writer that only takes paths (tar, git, a child process) for the entry
    /// `name` of this held folder: on Linux `/proc/<pid>/fd/<n>/<name>`, which the kernel
    /// resolves to this very folder whatever is renamed meanwhile (a child process of ours
    /// can use it too, unlike `/proc/self`). Elsewhere the folder's path: on Windows the
    /// held chain (no `FILE_SHARE_DELETE`) keeps that path ours; on macOS it is a path
    /// looked up again, the race the walk cannot close there. SQLite resolves the links in
    /// a path itself (it reads the magic link's target and opens that path), so it is never
    /// given one of these for a write.
    pub fn pinned_path(&self, name: &OsStr) -> PathBuf {
        let folder = sys::pinned_path(&self.handle, &self.path);
        if name.is_empty() {
            folder // no trailing `/`: the folder itself (Dir::open takes ours back)
        } else {
            folder.join(name)
        }
    }
}

/// Read all of `file`, failing with `EFBIG` past `max` bytes (a `/dev/zero` never ends).
pub fn read_bounded(file: File, max: u64, path: &Path) -> Result<Vec<u8>> {
    let mut data = Vec::new();
    read_bounded_into(file, max, path, &mut data)?;
    Ok(data)
}

/// [`read_bounded`] into `buf` (cleared first), for a caller that reads many files into one
/// buffer (the store's verify).
pub fn read_bounded_into(file: File, max: u64, path: &Path, buf: &mut Vec<u8>) -> Result<()> {
    buf.clear();
    file.take(max.saturating_add(1))
        .read_to_end(buf)
        .map_err(|e| Error::io(format!("Cannot read {}", path.display()), e))?;
    if buf.len() as u64 > max {
        return Err(Error::new(
            Code::Os("EFBIG"),
            format!("Refusing {}: larger than {max} bytes", path.display()),
        ));
    }
    Ok(())
}

/// The writer's pid and the second a temp named by [`Dir::new_temp`]
/// (`.<name>.sr-<pid>-<ms>-<attempt>.tmp`) was made; `None` for any other name.
pub fn temp_writer(name: &str) -> Option<(u32, u64)> {
    let stem = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let at = stem.rfind(".sr-")?;
    if at == 0 {
        return None; // no name before the marker
    }
    let mut fields = stem[at + 4..].split('-');
    let mut number = || -> Option<u64> {
        let f = fields.next()?;
        (!f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
            .then(|| f.parse().ok())
            .flatten()
    };
    let (pid, ms, _attempt) = (number()?, number()?, number()?);
    if fields.next().is_some() {
        return None;
    }
    Some((u32::try_from(pid).ok()?, ms / 1000))
}

#[cfg(test)]
mod tests;
