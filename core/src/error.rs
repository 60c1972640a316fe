//! One error type for the whole core.
//!
//! Every error carries a `code` that reaches JavaScript unchanged: the errno name when the
//! OS refused something (`ENOENT`, `ENOSPC`, `EROFS`, ...) and a project code otherwise.
//! The message keeps the legacy text (`Atomic write failed for <path>: <reason>`), because
//! users and tests grep for it.

use std::fmt;
use std::io;
use std::path::Path;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The machine-readable part of an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// The OS failed; the name is the errno name (`"ENOENT"`), also on Windows.
    Os(&'static str),
    /// A path argument is empty, contains NUL, or is otherwise unusable.
    BadPath,
    /// A backup label outside the safe character set.
    BadLabel,
    /// A lock identifier that is not a plain file name.
    BadLockId,
    /// A lock file that is not a regular file (a FIFO, a device, a symlink).
    BadLock,
    /// A lock could not be taken within the caller's timeout.
    LockTimeout,
    /// A path would resolve outside the directory it must stay in.
    PathEscape,
    /// A directory we must trust is a symlink or belongs to someone else.
    UnsafeDir,
    /// Data that should parse does not, and could not be recovered.
    Corrupt,
    /// A value of the wrong type or shape was passed in.
    InvalidArg,
    /// An external command we need (git, tar, sqlite3) is not installed.
    NoCommand,
    /// An external command ran and failed.
    CommandFailed,
    /// A bug of ours (a caught panic): never the caller's fault.
    Internal,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Os(name) => name,
            Code::BadPath => "EBADPATH",
            Code::BadLabel => "EBADLABEL",
            Code::BadLockId => "EBADLOCKID",
            Code::BadLock => "EBADLOCK",
            Code::LockTimeout => "ELOCKTIMEOUT",
            Code::PathEscape => "EPATHESCAPE",
            Code::UnsafeDir => "EUNSAFEDIR",
            Code::Corrupt => "ECORRUPT",
            Code::InvalidArg => "ERR_INVALID_ARG_TYPE",
            Code::NoCommand => "ENOCOMMAND",
            Code::CommandFailed => "ECOMMAND",
            Code::Internal => "EINTERNAL",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error with a code and the full, user-facing message.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    code: Code,
    message: String,
    #[source]
    source: Option<io::Error>,
}

impl Error {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            source: None,
        }
    }

    /// An OS error, with its errno name as the code and `<context>: <reason>` as message.
    pub fn io(context: impl fmt::Display, err: io::Error) -> Self {
        Error {
            code: Code::Os(errno_name(&err)),
            message: format!("{context}: {}", describe_io(&err)),
            source: Some(err),
        }
    }

    pub fn code(&self) -> Code {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// The same error under a new message prefix: `<context>: <old message>`.
    /// Used to wrap a low-level failure in the legacy operation text.
    pub fn context(self, context: impl fmt::Display) -> Self {
        Error {
            code: self.code,
            message: format!("{context}: {}", self.message),
            source: self.source,
        }
    }
}

/// Reject paths that cannot be a file name on any platform we support.
pub fn check_path(what: &str, path: &Path) -> Result<()> {
    let text = path.as_os_str();
    if text.is_empty() {
        return Err(Error::new(
            Code::BadPath,
            format!("{what} must not be empty"),
        ));
    }
    if text.as_encoded_bytes().contains(&0) {
        return Err(Error::new(
            Code::BadPath,
            format!("{what} must not contain a NUL byte"),
        ));
    }
    Ok(())
}

/// A short reason in the style of Node's fs errors: `ENOSPC: no space left on device`.
fn describe_io(err: &io::Error) -> String {
    let name = errno_name(err);
    let text = err.to_string();
    // std appends " (os error N)"; Node does not, and both backends should read alike.
    let text = match text.find(" (os error") {
        Some(cut) => &text[..cut],
        None => &text,
    };
    let mut reason = node_description(name).unwrap_or(text).to_string();
    if let Some(first) = reason.get_mut(0..1) {
        first.make_ascii_lowercase();
    }
    format!("{name}: {reason}")
}

/// Node's (libuv's) wording where it differs from the OS's `strerror`, so that the JS
/// backend, which reports Node's fs errors, and this one say the same thing.
fn node_description(name: &str) -> Option<&'static str> {
    Some(match name {
        "EIO" => "i/o error",
        "EEXIST" => "file already exists",
        "EISDIR" => "illegal operation on a directory",
        "EXDEV" => "cross-device link not permitted",
        "EBUSY" => "resource busy or locked",
        "ENFILE" => "file table overflow",
        "ENAMETOOLONG" => "name too long",
        "ELOOP" => "too many symbolic links encountered",
        "ETXTBSY" => "text file is busy",
        "ENOMEM" => "not enough memory",
        _ => return None,
    })
}

/// The errno name of an OS error, the way Node spells it.
pub fn errno_name(err: &io::Error) -> &'static str {
    if let Some(raw) = err.raw_os_error() {
        if let Some(name) = os_code_name(raw) {
            return name;
        }
    }
    kind_name(err.kind())
}

#[cfg(unix)]
fn os_code_name(raw: i32) -> Option<&'static str> {
    Some(match raw {
        libc::ENOENT => "ENOENT",
        libc::EACCES => "EACCES",
        libc::EPERM => "EPERM",
        libc::ENOSPC => "ENOSPC",
        libc::EROFS => "EROFS",
        libc::EIO => "EIO",
        libc::EEXIST => "EEXIST",
        libc::ENOTDIR => "ENOTDIR",
        libc::EISDIR => "EISDIR",
        libc::ENOTEMPTY => "ENOTEMPTY",
        libc::EXDEV => "EXDEV",
        libc::EBUSY => "EBUSY",
        libc::EMFILE => "EMFILE",
        libc::ENFILE => "ENFILE",
        libc::ENAMETOOLONG => "ENAMETOOLONG",
        libc::ELOOP => "ELOOP",
        libc::EDQUOT => "EDQUOT",
        libc::EFBIG => "EFBIG",
        libc::EINVAL => "EINVAL",
        libc::EAGAIN => "EAGAIN",
        libc::EINTR => "EINTR",
        libc::ETXTBSY => "ETXTBSY",
        libc::ESRCH => "ESRCH",
        libc::EBADF => "EBADF",
        libc::ENOMEM => "ENOMEM",
        _ => return None,
    })
}

/// Win32 error codes mapped to the errno names Node (libuv) gives them.
#[cfg(windows)]
fn os_code_name(raw: i32) -> Option<&'static str> {
    Some(match raw {
        2 | 3 => "ENOENT",     // FILE_NOT_FOUND, PATH_NOT_FOUND
        5 => "EPERM",          // ACCESS_DENIED (libuv: EPERM)
        32 | 33 => "EBUSY",    // SHARING_VIOLATION, LOCK_VIOLATION
        39 | 112 => "ENOSPC",  // HANDLE_DISK_FULL, DISK_FULL
        19 => "EROFS",         // WRITE_PROTECT
        80 | 183 => "EEXIST",  // FILE_EXISTS, ALREADY_EXISTS
        145 => "ENOTEMPTY",    // DIR_NOT_EMPTY
        17 => "EXDEV",         // NOT_SAME_DEVICE
        206 => "ENAMETOOLONG", // FILENAME_EXCED_RANGE
        267 => "ENOTDIR",      // DIRECTORY
        87 | 123 => "EINVAL",  // INVALID_PARAMETER, INVALID_NAME
        23 | 1117 => "EIO",    // CRC, IO_DEVICE
        4 => "EMFILE",         // TOO_MANY_OPEN_FILES
        _ => return None,
    })
}

#[cfg(not(any(unix, windows)))]
fn os_code_name(_raw: i32) -> Option<&'static str> {
    None
}

fn kind_name(kind: io::ErrorKind) -> &'static str {
    use io::ErrorKind as K;
    match kind {
        K::NotFound => "ENOENT",
        K::PermissionDenied => "EACCES",
        K::AlreadyExists => "EEXIST",
        K::InvalidInput => "EINVAL",
        K::StorageFull => "ENOSPC",
        K::ReadOnlyFilesystem => "EROFS",
        K::NotADirectory => "ENOTDIR",
        K::IsADirectory => "EISDIR",
        K::DirectoryNotEmpty => "ENOTEMPTY",
        K::WouldBlock => "EAGAIN",
        K::Interrupted => "EINTR",
        // the kinds std gives one errno alone: an error that lost its errno on the way (tempfile
        // wraps its own with the temp file's path) is still named as the OS named it
        K::FileTooLarge => "EFBIG",
        K::QuotaExceeded => "EDQUOT",
        K::InvalidFilename => "ENAMETOOLONG",
        K::CrossesDevices => "EXDEV",
        K::ResourceBusy => "EBUSY",
        K::ExecutableFileBusy => "ETXTBSY",
        K::OutOfMemory => "ENOMEM",
        K::UnexpectedEof | K::InvalidData => "EIO",
        _ => "EIO",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_errors_keep_their_errno_name() {
        let err = Error::io(
            "Atomic write failed for /x",
            io::Error::from_raw_os_error(28),
        );
        #[cfg(unix)]
        assert_eq!(err.code().as_str(), "ENOSPC");
        assert!(err.message().starts_with("Atomic write failed for /x: "));
        assert!(!err.message().contains("os error"));
    }

    /// tempfile wraps an OS error with its temp file's path, keeping its kind alone: the name
    /// must still be the OS's (ENAMETOOLONG, not the EIO every unnamed kind gets).
    #[cfg(unix)]
    #[test]
    fn a_wrapped_os_error_keeps_its_errno_name() {
        let dir = tempfile::tempdir().expect("temp dir");
        let wrapped = tempfile::Builder::new()
            .prefix(&"n".repeat(300))
            .tempfile_in(dir.path())
            .expect_err("a name longer than NAME_MAX");
        assert_eq!(
            wrapped.raw_os_error(),
            None,
            "tempfile no longer wraps: test something else"
        );
        assert_eq!(Error::io("Write", wrapped).code().as_str(), "ENAMETOOLONG");
    }

    /// Every kind std decodes from one errno alone is named as that errno, as the raw table
    /// names it, when the errno itself is gone (an error wrapped by a library).
    #[cfg(unix)]
    #[test]
    fn a_kind_of_one_errno_is_named_as_that_errno() {
        let kinds = [
            libc::EFBIG,
            libc::EDQUOT,
            libc::ENAMETOOLONG,
            libc::EXDEV,
            libc::EBUSY,
            libc::ETXTBSY,
            libc::ENOMEM,
            libc::ENOENT,
            libc::ENOSPC,
            libc::EROFS,
            libc::ENOTDIR,
            libc::EISDIR,
            libc::ENOTEMPTY,
            libc::EEXIST,
            libc::EINVAL,
            libc::EAGAIN,
            libc::EINTR,
            libc::EACCES,
        ];
        for raw in kinds {
            let os = io::Error::from_raw_os_error(raw);
            let wrapped = io::Error::new(os.kind(), "wrapped, errno gone");
            assert_eq!(errno_name(&wrapped), errno_name(&os), "errno {raw}");
        }
    }

    #[test]
    fn context_keeps_the_code() {
        let err = Error::new(Code::BadLabel, "label must match [A-Za-z0-9_-]").context("Backup");
        assert_eq!(err.code(), Code::BadLabel);
        assert_eq!(err.message(), "Backup: label must match [A-Za-z0-9_-]");
    }

    /// The errno names this core promises to spell as Node does (the raw table of
    /// os_code_name: std's ErrorKind decoding is no contract, and names EPERM "EACCES").
    #[cfg(unix)]
    const NAMED: [&str; 25] = [
        "ENOENT",
        "EACCES",
        "EPERM",
        "ENOSPC",
        "EROFS",
        "EIO",
        "EEXIST",
        "ENOTDIR",
        "EISDIR",
        "ENOTEMPTY",
        "EXDEV",
        "EBUSY",
        "EMFILE",
        "ENFILE",
        "ENAMETOOLONG",
        "ELOOP",
        "EDQUOT",
        "EFBIG",
        "EINVAL",
        "EAGAIN",
        "EINTR",
        "ETXTBSY",
        "ESRCH",
        "EBADF",
        "ENOMEM",
    ];

    /// Node itself says what each name's number is here and how libuv words it (the JS
    /// backend reports Node's own errors): `{ name: [errno, text or null] }`.
    #[cfg(unix)]
    fn node_errnos() -> std::collections::HashMap<String, (i32, Option<String>)> {
        let script = r#"
            const map = require('util').getSystemErrorMap()
            const out = {}
            for (const name of process.argv.slice(1)) {
              const n = require('os').constants.errno[name]
              out[name] = [n, (map.get(-n) || [])[1] || null]
            }
            console.log(JSON.stringify(out))"#;
        let out = std::process::Command::new("node")
            .arg("-e")
            .arg(script)
            .args(NAMED)
            .output()
            .expect("node runs");
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Each OS error is named and worded as Node names and words it, `<context>: <NAME>:
    /// <text>`, whatever std's own text (`Input/output error (os error 5)`).
    #[cfg(unix)]
    #[test]
    fn os_errors_are_named_and_worded_as_node_does() {
        let node = node_errnos();
        for name in NAMED {
            let (raw, text) = &node[name];
            assert_eq!(
                os_code_name(*raw),
                Some(name),
                "{name} by its own table entry"
            );
            let err = Error::io("op", io::Error::from_raw_os_error(*raw));
            assert_eq!(err.code(), Code::Os(name));
            assert_eq!(err.to_string(), err.message());
            assert!(std::error::Error::source(&err).is_some(), "{name}");
            // libuv (Node 20) has no text for a few (EDQUOT): only the name is compared there
            if let Some(text) = text {
                assert_eq!(err.message(), format!("op: {name}: {text}"));
            }
        }
    }

    /// An error without an OS code (made by std or by us) is named by its kind, the name of
    /// the errno that kind stands for.
    #[cfg(unix)]
    #[test]
    fn errors_without_an_os_code_are_named_by_their_kind() {
        let node = node_errnos();
        for name in [
            "ENOENT",
            "EACCES",
            "EEXIST",
            "EINVAL",
            "ENOSPC",
            "EROFS",
            "ENOTDIR",
            "EISDIR",
            "ENOTEMPTY",
            "EAGAIN",
            "EINTR",
        ] {
            let kind = io::Error::from_raw_os_error(node[name].0).kind();
            assert_eq!(errno_name(&io::Error::from(kind)), name, "{kind:?}");
        }
        assert_eq!(errno_name(&io::Error::other("ours")), "EIO");
    }

    #[test]
    fn codes_print_as_their_names() {
        for (code, name) in [
            (Code::Os("ENOENT"), "ENOENT"),
            (Code::BadPath, "EBADPATH"),
            (Code::InvalidArg, "ERR_INVALID_ARG_TYPE"),
            (Code::Internal, "EINTERNAL"),
        ] {
            assert_eq!(code.to_string(), name);
        }
    }

    /// Windows: the Win32 errors of file operations are named as Node names them, each error
    /// provoked for real (run under Wine here: `npm run mutants -- rust-windows`).
    #[cfg(windows)]
    #[test]
    fn win32_errors_of_file_operations_are_named_as_node_names_them() {
        use std::fs;
        use std::os::windows::fs::OpenOptionsExt;
        use std::os::windows::io::AsRawHandle;
        use windows_sys::Win32::Foundation::HANDLE;
        use windows_sys::Win32::Storage::FileSystem::{
            LockFileEx, LOCKFILE_EXCLUSIVE_LOCK, LOCKFILE_FAIL_IMMEDIATELY,
        };
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        fs::write(dir.join("file"), b"x").unwrap();
        fs::create_dir(dir.join("sub")).unwrap();
        fs::write(dir.join("sub").join("f"), b"").unwrap();
        fs::write(dir.join("ro"), b"").unwrap();
        let open = |p: &Path| fs::File::open(p).map(drop);
        let create_new = |p: &Path| {
            let mut options = fs::OpenOptions::new();
            options.write(true).create_new(true).open(p).map(drop)
        };
        let readonly = |on: bool| {
            let mut perms = fs::metadata(dir.join("ro")).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perms.set_readonly(on);
            fs::set_permissions(dir.join("ro"), perms).unwrap();
        };
        let mut got = vec![
            ("a missing file", open(&dir.join("missing"))),
            ("a missing folder", open(&dir.join("missing").join("x"))),
            ("a new file that exists", create_new(&dir.join("file"))),
            ("a new folder that exists", fs::create_dir(dir.join("sub"))),
            ("a folder not empty", fs::remove_dir(dir.join("sub"))),
            ("a file as a folder", fs::remove_dir(dir.join("file"))),
            ("a name with <", create_new(&dir.join("a<b"))),
        ];
        // another handle holds the file open and shares nothing
        let held = fs::OpenOptions::new()
            .read(true)
            .share_mode(0)
            .open(dir.join("file"))
            .unwrap();
        got.push(("a file opened unshared", open(&dir.join("file"))));
        drop(held);
        // another handle holds a lock on the file's first byte
        let lock = |f: &fs::File| {
            // SAFETY: OVERLAPPED is plain data, all-zero its initial state; the handle is
            // valid while `f` lives
            let mut o = unsafe { std::mem::zeroed() };
            let flags = LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY;
            let ok = unsafe { LockFileEx(f.as_raw_handle() as HANDLE, flags, 0, 1, 0, &mut o) };
            if ok != 0 {
                Ok(())
            } else {
                Err(io::Error::last_os_error())
            }
        };
        let holder = fs::File::open(dir.join("file")).unwrap();
        lock(&holder).unwrap();
        let other = fs::File::open(dir.join("file")).unwrap();
        got.push(("a lock held by another handle", lock(&other)));
        drop(holder);
        readonly(true);
        got.push(("a read-only file removed", fs::remove_file(dir.join("ro"))));
        readonly(false);
        // each by its own table entry too: std's ErrorKind decoding, which names most of them
        // the same without one, is no contract (as on Unix)
        let named: Vec<_> = got
            .into_iter()
            .map(|(what, r)| match r {
                Ok(()) => (what, None),
                Err(e) => {
                    let raw = e.raw_os_error().unwrap();
                    assert_eq!(os_code_name(raw), Some(errno_name(&e)), "{what}");
                    (what, Some((Some(raw), errno_name(&e))))
                }
            })
            .collect();
        let err = |raw, name| Some((Some(raw), name));
        assert_eq!(
            named,
            [
                ("a missing file", err(2, "ENOENT")),
                ("a missing folder", err(3, "ENOENT")),
                ("a new file that exists", err(80, "EEXIST")),
                ("a new folder that exists", err(183, "EEXIST")),
                ("a folder not empty", err(145, "ENOTEMPTY")),
                ("a file as a folder", err(267, "ENOTDIR")),
                ("a name with <", err(123, "EINVAL")),
                ("a file opened unshared", err(32, "EBUSY")),
                ("a lock held by another handle", err(33, "EBUSY")),
                // libuv too names it EPERM, not EACCES
                ("a read-only file removed", err(5, "EPERM")),
            ]
        );
    }

    /// Windows: the Win32 codes no test can provoke (a full disk, a write-protected or failing
    /// medium, too many handles, another drive, a name over 255 characters, which std turns
    /// into another error with its long-path prefix) are named as libuv's
    /// uv_translate_sys_error (src/win/error.c) names them, Node's names on Windows.
    #[cfg(windows)]
    #[test]
    fn win32_codes_no_test_can_provoke_are_named_as_libuv_names_them() {
        for (raw, name) in [
            (39, "ENOSPC"),        // HANDLE_DISK_FULL
            (112, "ENOSPC"),       // DISK_FULL
            (19, "EROFS"),         // WRITE_PROTECT
            (17, "EXDEV"),         // NOT_SAME_DEVICE
            (206, "ENAMETOOLONG"), // FILENAME_EXCED_RANGE
            (87, "EINVAL"),        // INVALID_PARAMETER
            (23, "EIO"),           // CRC
            (1117, "EIO"),         // IO_DEVICE
            (4, "EMFILE"),         // TOO_MANY_OPEN_FILES
        ] {
            assert_eq!(
                os_code_name(raw),
                Some(name),
                "{raw} by its own table entry"
            );
            assert_eq!(
                errno_name(&io::Error::from_raw_os_error(raw)),
                name,
                "{raw}"
            );
        }
        // a code with no entry is named by its kind, as on Unix
        assert_eq!(os_code_name(1), None);
    }

    #[test]
    fn paths_with_nul_or_nothing_are_refused() {
        assert_eq!(
            check_path("path", Path::new("")).unwrap_err().code(),
            Code::BadPath
        );
        assert_eq!(
            check_path("path", Path::new("a\0b")).unwrap_err().code(),
            Code::BadPath
        );
        assert!(check_path("path", Path::new("a/b")).is_ok());
    }
}
