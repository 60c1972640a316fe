//! Which file a lock file is: the file itself, not its name or its contents.
//!
//! A takeover and a release remove a lock file only if it is still the very file they judged
//! or created. Unix names a file by (device, inode); Windows by (volume serial number, file
//! index), which `GetFileInformationByHandle` gives for an open handle (std's `Metadata` does
//! not have them on stable). Size and mtime would not do: a replacement of the same length
//! written in the same millisecond would pass for ours, and be removed under its new holder.
//!
//! Both are unique among files that exist at once; a lock file is compared while its judge
//! holds it open (or just read it), so its number cannot have been reused meanwhile.

use std::fs::File;
use std::io;
use std::path::Path;

/// (device, inode) on Unix; (volume serial number, file index) on Windows.
pub type Identity = (u64, u64);

/// The identity of an open file.
pub fn of_file(file: &File) -> io::Result<Identity> {
    Ok(sys::of_file(file)?.0)
}

/// The identity and size of the file at `path` now.
pub fn of_path(path: &Path) -> io::Result<(Identity, u64)> {
    sys::of_path(path)
}

#[cfg(unix)]
mod sys {
    use std::fs::{self, File};
    use std::io;
    use std::os::unix::fs::MetadataExt;
    use std::path::Path;

    use super::Identity;

    fn identity(meta: &fs::Metadata) -> (Identity, u64) {
        ((meta.dev(), meta.ino()), meta.len())
    }

    pub fn of_file(file: &File) -> io::Result<(Identity, u64)> {
        Ok(identity(&file.metadata()?))
    }

    pub fn of_path(path: &Path) -> io::Result<(Identity, u64)> {
        Ok(identity(&fs::metadata(path)?))
    }
}

#[cfg(windows)]
mod sys {
    use std::fs::{File, OpenOptions};
    use std::io;
    use std::os::windows::fs::OpenOptionsExt;
    use std::os::windows::io::AsRawHandle;
    use std::path::Path;

    use windows_sys::Win32::Foundation::HANDLE;
    use windows_sys::Win32::Storage::FileSystem::{
        GetFileInformationByHandle, BY_HANDLE_FILE_INFORMATION, FILE_FLAG_BACKUP_SEMANTICS,
        FILE_FLAG_OPEN_REPARSE_POINT, FILE_READ_ATTRIBUTES, FILE_SHARE_DELETE, FILE_SHARE_READ,
        FILE_SHARE_WRITE,
    };

    use super::Identity;

    fn join(high: u32, low: u32) -> u64 {
        (u64::from(high) << 32) | u64::from(low)
    }

    pub fn of_file(file: &File) -> io::Result<(Identity, u64)> {
        // SAFETY: a zeroed BY_HANDLE_FILE_INFORMATION is valid (plain integers), and the
        // handle is the open file's own, alive for the call.
        let mut info: BY_HANDLE_FILE_INFORMATION = unsafe { std::mem::zeroed() };
        if unsafe { GetFileInformationByHandle(file.as_raw_handle() as HANDLE, &mut info) } == 0 {
            return Err(io::Error::last_os_error());
        }
        let index = join(info.nFileIndexHigh, info.nFileIndexLow);
        let size = join(info.nFileSizeHigh, info.nFileSizeLow);
        Ok(((u64::from(info.dwVolumeSerialNumber), index), size))
    }

    /// Opened only to ask: attributes only, sharing everything (nobody's open, rename or
    /// delete is refused meanwhile), a reparse point itself rather than its target (so a
    /// link is never the file it names), and a folder too (so one is not an error).
    pub fn of_path(path: &Path) -> io::Result<(Identity, u64)> {
        let file = OpenOptions::new()
            .access_mode(FILE_READ_ATTRIBUTES)
            .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)
            .custom_flags(FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS)
            .open(path)?;
        of_file(&file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// The file at a name, not its name, length or mtime: a replacement of the same length
    /// with the same mtime, made while the first existed and renamed over it, is another file.
    /// (Not deleted and written again: Wine keeps a deleted file that is still open at its
    /// name, and a write there writes into that very file; nor renamed over it while it is
    /// open: Wine refuses that, access denied.)
    #[test]
    fn a_same_length_same_mtime_replacement_is_another_file() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.lock");
        fs::write(&path, "first").unwrap();
        let first = File::open(&path).unwrap();
        let mtime = first.metadata().unwrap().modified().unwrap();
        let mine = of_file(&first).unwrap();
        assert_eq!(
            of_path(&path).unwrap(),
            (mine, 5),
            "the same file by handle and by name"
        );
        drop(first);

        let other = tmp.path().join("other");
        fs::write(&other, "other").unwrap();
        let file = fs::OpenOptions::new().write(true).open(&other).unwrap();
        file.set_modified(mtime).unwrap();
        drop(file);
        fs::rename(&other, &path).unwrap();
        let meta = fs::metadata(&path).unwrap();
        assert_eq!((meta.len(), meta.modified().unwrap()), (5, mtime));
        let (now, len) = of_path(&path).unwrap();
        assert_eq!(len, 5);
        assert_ne!(now, mine, "the replacement is not the file we judged");
    }

    /// The size past 4 GiB is the whole size (Windows gives it in two 32-bit halves, the
    /// file index too): a sparse file, nothing written.
    #[test]
    fn a_file_past_4_gib_has_its_whole_size() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("big.lock");
        let len = (1u64 << 32) + 5;
        let file = File::create(&path).unwrap();
        file.set_len(len).unwrap();
        assert_eq!(of_path(&path).unwrap().1, len);
        assert_eq!(sys::of_file(&file).unwrap().1, len);
    }

    /// A folder has an identity too (asking is not an error), its own and not a file's.
    #[test]
    fn a_folder_has_an_identity_of_its_own() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        fs::write(&file, "x").unwrap();
        let (folder, _) = of_path(tmp.path()).unwrap();
        assert_ne!(folder, of_path(&file).unwrap().0);
        assert_eq!(folder, of_path(tmp.path()).unwrap().0);
    }

    /// A lock file held open by a writer that shares nothing (a legacy writer's handle, say)
    /// can still be told apart: asking takes attributes only, which no share mode refuses.
    #[cfg(windows)]
    #[test]
    fn a_file_held_by_a_handle_sharing_nothing_is_still_identified() {
        use std::os::windows::fs::OpenOptionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("held.lock");
        fs::write(&path, "held").unwrap();
        let holder = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .share_mode(0)
            .open(&path)
            .unwrap();
        assert_eq!(of_path(&path).unwrap(), (of_file(&holder).unwrap(), 4));
    }
}
