//! SQLite on a folder we hold, not on a path looked up again.
//!
//! SQLite opens files by name, and its unix VFS resolves every symlink of the name itself
//! before opening (`unixFullPathname` reads each link and goes on from its target): a
//! `/proc/<pid>/fd/<n>/<name>` path of a held folder ([`crate::fsx::beneath::Dir::pinned_path`])
//! would be turned back into the folder's path by name, the race the held folder closes; and
//! with `SQLITE_OPEN_NOFOLLOW` the magic link is refused outright. So on Linux a VFS of ours,
//! [`NAME`], is the unix VFS with one change: a path below `/proc/` is taken as it is. The
//! kernel then resolves `/proc/<pid>/fd/<n>` to the held folder itself (whatever was renamed
//! or swapped since), the database's `-journal`, `-wal` and `-shm` (its name plus a suffix)
//! resolve in the same folder, and SQLite's own `O_NOFOLLOW` on every open refuses a link at
//! the last name. Any other path goes to the unix VFS's own resolution, unchanged.
//!
//! Elsewhere (macOS, Windows) there is no such path: [`held_path`] says so with `None` and
//! the caller does the best there is (see `restore.rs` and `copy_database_below`).

use std::path::{Path, PathBuf};

use crate::fsx::beneath::Dir;

/// The VFS's name, for `Connection::open_with_flags_and_vfs`.
#[cfg(target_os = "linux")]
pub const NAME: &std::ffi::CStr = c"sr-held";

/// The path SQLite may be given for the entry `name` of the held folder `dir`, with the
/// VFS that keeps it held: `Some` only where the kernel resolves the folder from our handle
/// (Linux with /proc) and the VFS is registered.
pub fn held_path(dir: &Dir, name: &std::ffi::OsStr) -> Option<PathBuf> {
    let path = dir.pinned_path(name);
    (is_held(&path) && registered()).then_some(path)
}

/// Is `path` one SQLite must open through [`NAME`]?
pub fn is_held(path: &Path) -> bool {
    cfg!(target_os = "linux") && path.starts_with("/proc/")
}

/// Register the VFS once; `false` when it cannot be (then no path is held).
#[cfg(target_os = "linux")]
pub fn registered() -> bool {
    imp::register()
}

#[cfg(not(target_os = "linux"))]
pub fn registered() -> bool {
    false
}

#[cfg(target_os = "linux")]
mod imp {
    use std::ffi::{c_char, c_int, CStr};
    use std::sync::OnceLock;

    use rusqlite::ffi;

    /// The unix VFS's address (it lives as long as the process).
    static UNIX: OnceLock<Option<usize>> = OnceLock::new();

    pub(super) fn register() -> bool {
        UNIX.get_or_init(|| {
            // SAFETY: sqlite3_vfs_find initialises SQLite and returns a VFS that lives as long
            // as the process (or null). Ours is a leaked copy of it, so it lives as long too;
            // its methods are the unix VFS's own, which read only what the copy keeps
            // (pAppData, szOsFile, mxPathname), except xFullPathname below.
            unsafe {
                let unix = ffi::sqlite3_vfs_find(c"unix".as_ptr());
                if unix.is_null() {
                    return None;
                }
                let mut ours: ffi::sqlite3_vfs = std::ptr::read(unix);
                ours.zName = super::NAME.as_ptr();
                ours.pNext = std::ptr::null_mut();
                ours.xFullPathname = Some(full_pathname);
                let ours = Box::into_raw(Box::new(ours));
                if ffi::sqlite3_vfs_register(ours, 0) != ffi::SQLITE_OK {
                    drop(Box::from_raw(ours));
                    return None;
                }
                Some(unix as usize)
            }
        })
        .is_some()
    }

    /// A path below `/proc/` as it is (absolute, no `.` or `..` in what we give); any other
    /// through the unix VFS.
    unsafe extern "C" fn full_pathname(
        _vfs: *mut ffi::sqlite3_vfs,
        path: *const c_char,
        n_out: c_int,
        out: *mut c_char,
    ) -> c_int {
        // SAFETY: SQLite passes a NUL-terminated path and an output buffer of n_out bytes.
        let given = unsafe { CStr::from_ptr(path) }.to_bytes_with_nul();
        if given.starts_with(b"/proc/") {
            if given.len() > usize::try_from(n_out).unwrap_or(0) {
                return ffi::SQLITE_CANTOPEN;
            }
            // SAFETY: `given` fits in `out` (checked above); the two do not overlap.
            unsafe { std::ptr::copy_nonoverlapping(path, out, given.len()) };
            return ffi::SQLITE_OK;
        }
        let Some(Some(unix)) = UNIX.get() else {
            return ffi::SQLITE_CANTOPEN;
        };
        let unix = *unix as *mut ffi::sqlite3_vfs;
        // SAFETY: the unix VFS's own method, called with the unix VFS.
        match unsafe { (*unix).xFullPathname } {
            Some(resolve) => unsafe { resolve(unix, path, n_out, out) },
            None => ffi::SQLITE_CANTOPEN,
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use crate::backup::cancel::Cancel;
    use crate::backup::sqlite::copy_database;
    use rusqlite::Connection;
    use std::fs;

    fn value_in(path: &Path) -> String {
        Connection::open(path)
            .unwrap()
            .query_row("SELECT v FROM t", [], |r| r.get(0))
            .unwrap()
    }

    /// SQLite given a held path reads the held folder's database (and writes its WAL index
    /// there), even after the folder was moved away and a symlink to a folder outside put in
    /// its place: the victim outside is neither read nor changed. The folder then moves to
    /// where its path is longer than SQLite's unix VFS can resolve (512 bytes): the copy still
    /// works, so SQLite did not go by the folder's path (the unix VFS alone fails there).
    #[test]
    fn a_held_path_stays_on_the_held_folder_after_a_swap() {
        let tmp = tempfile::tempdir().unwrap();
        let (ours, outside) = (tmp.path().join("a"), tmp.path().join("outside"));
        fs::create_dir_all(&ours).unwrap();
        fs::create_dir_all(&outside).unwrap();
        for (dir, value) in [(&ours, "mine"), (&outside, "victim")] {
            let conn = Connection::open(dir.join("db.sqlite")).unwrap();
            conn.execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t (v TEXT)")
                .unwrap();
            conn.execute("INSERT INTO t VALUES (?1)", [value]).unwrap();
        }
        let victim_before = fs::read(outside.join("db.sqlite")).unwrap();
        let held = Dir::open(&ours).unwrap();
        let path = held_path(&held, std::ffi::OsStr::new("db.sqlite")).expect("held on Linux");
        fs::rename(&ours, tmp.path().join("moved")).unwrap();
        std::os::unix::fs::symlink(&outside, &ours).unwrap();
        let copy = tmp.path().join("copy.sqlite");
        copy_database(&path, &copy, &Cancel::new()).unwrap();
        assert_eq!(value_in(&copy), "mine");
        assert_eq!(fs::read(outside.join("db.sqlite")).unwrap(), victim_before);
        let beside: Vec<_> = fs::read_dir(&outside)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(beside, ["db.sqlite"], "nothing made beside the victim");
        let deep = (0..3).fold(tmp.path().to_path_buf(), |p, i| {
            p.join(format!("{i}").repeat(200))
        });
        fs::create_dir_all(deep.parent().unwrap()).unwrap();
        fs::rename(tmp.path().join("moved"), &deep).unwrap();
        fs::remove_file(&copy).unwrap();
        copy_database(&path, &copy, &Cancel::new()).unwrap();
        assert_eq!(value_in(&copy), "mine");
    }

    /// Only a path below /proc goes through the held VFS; any other is SQLite's usual one.
    #[test]
    fn only_proc_paths_are_held() {
        assert!(is_held(Path::new("/proc/1/fd/3/db.sqlite")));
        for other in ["/tmp/db.sqlite", "db.sqlite", "/procfs/x", "/x/proc/y"] {
            assert!(!is_held(Path::new(other)), "{other}");
        }
    }

    /// A symlink at the database's own name is refused (the header check and SQLite both open
    /// with O_NOFOLLOW), never read.
    #[test]
    fn a_link_at_the_held_name_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let victim = tmp.path().join("victim.sqlite");
        Connection::open(&victim)
            .unwrap()
            .execute_batch("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('victim')")
            .unwrap();
        fs::create_dir(tmp.path().join("a")).unwrap();
        std::os::unix::fs::symlink(&victim, tmp.path().join("a/db.sqlite")).unwrap();
        let held = Dir::open(&tmp.path().join("a")).unwrap();
        let path = held_path(&held, std::ffi::OsStr::new("db.sqlite")).unwrap();
        let copy = tmp.path().join("copy.sqlite");
        assert!(copy_database(&path, &copy, &Cancel::new()).is_err());
        assert!(!copy.exists());
    }
}
