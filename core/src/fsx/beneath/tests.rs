use std::ffi::OsStr;
use std::fs;
use std::path::Path;

use super::*;

fn tree() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let outside = tmp.path().join("outside");
    fs::create_dir_all(root.join("a/b")).unwrap();
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("victim"), b"VICTIM").unwrap();
    (tmp, root, outside)
}

#[test]
fn plain_paths_work_below_the_handle() {
    let (_tmp, root, _) = tree();
    let dir = Dir::open(&root).unwrap();
    dir.write_atomic(Path::new("a/b/f.txt"), b"one", true)
        .unwrap();
    dir.write_atomic(Path::new("a/b/f.txt"), b"two", false)
        .unwrap();
    assert_eq!(dir.read(Path::new("a/b/f.txt"), 10).unwrap(), b"two");
    assert_eq!(
        dir.stat(Path::new("a/b/f.txt")).unwrap(),
        Some((Kind::File, 3))
    );
    assert_eq!(dir.stat(Path::new("a/none/x")).unwrap(), None);
    dir.append(Path::new("a/log"), b"x\n").unwrap();
    dir.append(Path::new("a/log"), b"y\n").unwrap();
    assert_eq!(fs::read(root.join("a/log")).unwrap(), b"x\ny\n");
    let listed: Vec<_> = dir.list(Path::new("a")).unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    dir.sub(Path::new("new/deep"), true).unwrap();
    assert!(root.join("new/deep").is_dir());
    assert!(dir.remove(Path::new("a")).unwrap());
    assert!(!root.join("a").exists());
    assert!(!dir.remove(Path::new("a")).unwrap());
    assert!(matches!(
        dir.read(Path::new("../x"), 10).unwrap_err().code(),
        Code::PathEscape
    ));
    let big = dir.create_new(Path::new("big"), false).unwrap();
    drop(big);
    fs::write(root.join("big"), vec![1u8; 100]).unwrap();
    assert_eq!(
        dir.read(Path::new("big"), 99).unwrap_err().code().as_str(),
        "EFBIG"
    );
}

#[cfg(unix)]
#[test]
fn links_anywhere_on_the_way_are_refused_and_nothing_outside_changes() {
    use std::os::unix::fs::symlink;
    let (_tmp, root, outside) = tree();
    symlink(&outside, root.join("a/out")).unwrap();
    symlink(outside.join("victim"), root.join("a/file-link")).unwrap();
    symlink(outside.join("new"), root.join("a/dangling")).unwrap();
    let dir = Dir::open(&root).unwrap();
    let escape = |e: Error| assert_eq!(e.code(), Code::PathEscape, "{e}");
    escape(dir.read(Path::new("a/out/victim"), 100).unwrap_err());
    escape(dir.read(Path::new("a/file-link"), 100).unwrap_err());
    escape(
        dir.write_atomic(Path::new("a/out/victim"), b"x", false)
            .unwrap_err(),
    );
    escape(dir.append(Path::new("a/file-link"), b"x").unwrap_err());
    escape(dir.append(Path::new("a/dangling"), b"x").unwrap_err());
    escape(dir.sub(Path::new("a/out"), false).unwrap_err());
    escape(dir.sub(Path::new("a/out/sub"), true).unwrap_err());
    // a link on the way to a real folder, pointing outside or staying inside (a relative
    // link): refused either way, also when one openat2 resolves the whole path
    fs::create_dir(outside.join("deep")).unwrap();
    escape(dir.sub(Path::new("a/out/deep"), false).unwrap_err());
    fs::create_dir(root.join("a/b/c")).unwrap();
    symlink("b", root.join("a/in")).unwrap();
    escape(dir.sub(Path::new("a/in/c"), false).unwrap_err());
    escape(dir.read(Path::new("a/in/c/x"), 10).unwrap_err());
    escape(dir.remove(Path::new("a/out/victim")).unwrap_err());
    assert!(dir.create_new(Path::new("a/dangling"), false).is_err());
    // a link at the name is replaced itself, never written through
    dir.write_atomic(Path::new("a/file-link"), b"mine", false)
        .unwrap();
    assert_eq!(fs::read(root.join("a/file-link")).unwrap(), b"mine");
    // a link inside a removed tree is unlinked, its target stays
    symlink(&outside, root.join("a/b/inner")).unwrap();
    assert!(dir.remove(Path::new("a")).unwrap());
    assert_eq!(fs::read(outside.join("victim")).unwrap(), b"VICTIM");
    assert!(!outside.join("new").exists() && !outside.join("sub").exists());
    // the base itself may not be a link
    symlink(&outside, root.join("base-link")).unwrap();
    assert_eq!(
        Dir::open(&root.join("base-link")).unwrap_err().code(),
        Code::UnsafeDir
    );
}

#[cfg(unix)]
#[test]
fn fifos_and_devices_are_refused_without_blocking() {
    let (_tmp, root, _) = tree();
    let fifo = root.join("fifo");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo has no other precondition.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let dir = Dir::open(&root).unwrap();
    let started = std::time::Instant::now();
    assert_eq!(
        dir.read(Path::new("fifo"), 10).unwrap_err().code().as_str(),
        "EINVAL"
    );
    assert_eq!(
        dir.append(Path::new("fifo"), b"x")
            .unwrap_err()
            .code()
            .as_str(),
        "EINVAL"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    let zero = File::open("/dev/zero").unwrap();
    assert_eq!(
        read_bounded(zero, 1024, Path::new("/dev/zero"))
            .unwrap_err()
            .code()
            .as_str(),
        "EFBIG"
    );
}

#[cfg(unix)]
#[test]
fn make_private_tightens_a_0755_folder() {
    use std::os::unix::fs::PermissionsExt;
    let (_tmp, root, _) = tree();
    fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).unwrap();
    let dir = Dir::open(&root).unwrap();
    assert!(dir.make_private().unwrap());
    assert!(!dir.make_private().unwrap());
    assert_eq!(
        fs::metadata(&root).unwrap().permissions().mode() & 0o777,
        0o700
    );
}

#[test]
fn sub_new_claims_a_name_once_and_write_new_never_replaces() {
    let (_tmp, root, _) = tree();
    let dir = Dir::open(&root).unwrap();
    let staging = dir.sub_new(OsStr::new(".staging-x")).unwrap();
    assert_eq!(
        dir.sub_new(OsStr::new(".staging-x"))
            .unwrap_err()
            .code()
            .as_str(),
        "EEXIST"
    );
    for bad in ["a/b", "..", "", "."] {
        assert!(dir.sub_new(OsStr::new(bad)).is_err(), "{bad} refused");
    }
    staging
        .write_new(Path::new("owner.json"), b"{}", true)
        .unwrap();
    assert_eq!(
        staging
            .write_new(Path::new("owner.json"), b"again", false)
            .unwrap_err()
            .code()
            .as_str(),
        "EEXIST"
    );
    assert_eq!(fs::read(root.join(".staging-x/owner.json")).unwrap(), b"{}");
}

#[test]
fn rename_to_moves_between_held_folders_and_says_enoent_for_nothing() {
    let (_tmp, root, _) = tree();
    let dir = Dir::open(&root).unwrap();
    let from = dir.sub(Path::new("a/b"), false).unwrap();
    let to = dir.sub(Path::new("c"), true).unwrap();
    from.write_new(Path::new("part"), b"P", false).unwrap();
    from.rename_to(OsStr::new("part"), &to, OsStr::new("moved"))
        .unwrap();
    assert_eq!(fs::read(root.join("c/moved")).unwrap(), b"P");
    let missing = from
        .rename_to(OsStr::new("part"), &to, OsStr::new("again"))
        .unwrap_err();
    assert_eq!(missing.code().as_str(), "ENOENT");
    assert!(from
        .rename_to(OsStr::new("x/y"), &to, OsStr::new("z"))
        .is_err());
}

/// The point of holding a folder: once it is open, swapping its path for a symlink to a
/// folder outside changes nothing for what we write, move or remove through the handle.
#[cfg(unix)]
#[test]
fn a_held_folder_swapped_for_a_link_still_takes_every_write() {
    use std::os::unix::fs::symlink;
    let (_tmp, root, outside) = tree();
    let dir = Dir::open(&root).unwrap();
    let held = dir.sub(Path::new("a"), false).unwrap();
    let moved_to = dir.sub(Path::new("a/b"), false).unwrap();
    // the attacker's swap: a/ goes elsewhere in the project, a symlink to outside takes its name
    fs::rename(root.join("a"), root.join("a-real")).unwrap();
    symlink(&outside, root.join("a")).unwrap();
    held.write_new(Path::new("new"), b"N", false).unwrap();
    held.write_atomic(Path::new("atomic"), b"A", false).unwrap();
    held.rename_to(OsStr::new("new"), &moved_to, OsStr::new("new"))
        .unwrap();
    assert!(held.remove(Path::new("atomic")).unwrap());
    #[cfg(target_os = "linux")]
    {
        let pinned = held.pinned_path(OsStr::new("via-proc"));
        assert!(pinned.starts_with(format!("/proc/{}/fd", std::process::id())));
        fs::write(&pinned, b"P").unwrap();
        assert_eq!(fs::read(root.join("a-real/via-proc")).unwrap(), b"P");
        // our own pinned folder is a base again (other magic links are not: see the link tests)
        let again = Dir::open(&held.pinned_path(OsStr::new(""))).unwrap();
        assert_eq!(again.read(Path::new("via-proc"), 10).unwrap(), b"P");
        // ... and only the folder itself: a link inside it, named through it, is refused
        symlink(&outside, root.join("a-real/out")).unwrap();
        let err = Dir::open(&held.pinned_path(OsStr::new("out"))).unwrap_err();
        assert_eq!(err.code(), Code::UnsafeDir, "{err}");
        let other = format!("/proc/{}/cwd", std::process::id());
        assert!(
            Dir::open(Path::new(&other)).is_err(),
            "not a pinned fd of ours"
        );
    }
    assert_eq!(fs::read(root.join("a-real/b/new")).unwrap(), b"N");
    let mut outside_names: Vec<_> = fs::read_dir(&outside)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    outside_names.sort();
    assert_eq!(outside_names, vec![std::ffi::OsString::from("victim")]);
}

/// Windows: a directory symlink on the way (a reparse point) is refused, never followed, and a
/// held folder cannot be renamed away while we use paths below it (no `FILE_SHARE_DELETE`).
/// Creating a symlink needs a privilege (developer mode or an elevated shell) that a runner may
/// not have, and Wine 8 only pretends to make one: the link part is skipped when no reparse
/// point could be made; the held-folder part always runs.
#[cfg(windows)]
#[test]
fn reparse_points_are_refused_and_held_folders_stay_put_on_windows() {
    let (_tmp, root, outside) = tree();
    let dir = Dir::open(&root).unwrap();
    let held = dir.sub(Path::new("a"), false).unwrap();
    assert!(
        fs::rename(root.join("a"), root.join("a-moved")).is_err(),
        "a held folder cannot be renamed"
    );
    held.write_new(Path::new("kept"), b"K", false).unwrap();
    assert_eq!(fs::read(root.join("a/kept")).unwrap(), b"K");
    drop(held);

    let made = std::os::windows::fs::symlink_dir(&outside, root.join("link")).is_ok()
        && fs::symlink_metadata(root.join("link")).is_ok_and(|m| m.file_type().is_symlink());
    if !made {
        eprintln!("no directory symlink could be made here: the reparse-point part is skipped");
        return;
    }
    for result in [
        dir.write_atomic(Path::new("link/new"), b"x", false).err(),
        dir.read(Path::new("link/victim"), 10).err(),
        dir.sub(Path::new("link"), false).err(),
        dir.remove(Path::new("link/victim")).err(),
    ] {
        let err = result.expect("refused");
        assert!(matches!(err.code(), Code::PathEscape), "{err:?}");
    }
    assert!(matches!(
        Dir::open(&root.join("link")).unwrap_err().code(),
        Code::UnsafeDir
    ));
    assert_eq!(fs::read(outside.join("victim")).unwrap(), b"VICTIM");
    assert_eq!(fs::read_dir(&outside).unwrap().count(), 1);
}

/// Windows: folders are guarded by ACLs, not modes, so nothing is "tightened" (the napi
/// `ensurePrivate` answers false there) and there is no owner and mode to report; the mode
/// an entry's metadata gives (what the snapshot store records) follows from its kind and
/// read-only attribute: 0755 a folder, 0644 a file, 0444 a read-only one.
#[cfg(windows)]
#[test]
fn modes_are_left_to_acls_and_derived_from_the_kind_on_windows() {
    let (_tmp, root, _) = tree();
    let dir = Dir::open(&root).unwrap();
    assert_eq!(dir.owner_mode().unwrap(), None);
    assert!(!dir.make_private().unwrap());
    assert!(!dir.ensure_private().unwrap());
    fs::write(root.join("a/rw"), b"x").unwrap();
    fs::write(root.join("a/ro"), b"x").unwrap();
    crate::testutil::set_readonly(&root.join("a/ro"), true);
    let mode = |rel: &str| dir.meta(Path::new(rel)).unwrap().unwrap().mode;
    let modes = [mode("a"), mode("a/rw"), mode("a/ro")];
    crate::testutil::set_readonly(&root.join("a/ro"), false);
    assert_eq!(modes, [0o755, 0o644, 0o444]);
}

/// Windows: a held folder's path for path-only writers is the folder's own path (the held
/// chain keeps it ours), through which a write lands in the folder.
#[cfg(windows)]
#[test]
fn the_pinned_path_is_the_folder_itself_on_windows() {
    let (_tmp, root, _) = tree();
    let dir = Dir::open(&root).unwrap();
    let held = dir.sub(Path::new("a"), false).unwrap();
    assert_eq!(held.pinned_path(OsStr::new("")), root.join("a"));
    let pinned = held.pinned_path(OsStr::new("via-path"));
    assert_eq!(pinned, root.join("a").join("via-path"));
    fs::write(&pinned, b"P").unwrap();
    assert_eq!(held.read(Path::new("via-path"), 10).unwrap(), b"P");
}

/// Windows: a symlink made with `Dir::symlink` is a link, and `Dir::read_link` gives its
/// target back as stored (never resolved). Making a link needs a privilege (developer mode or
/// an elevated shell, as on the CI runner), and Wine 8 reports success and makes nothing: the
/// test first tries std's own symlink_file beside it and is skipped (said on stderr) when
/// that makes no link.
#[cfg(windows)]
#[test]
fn a_symlink_is_made_and_its_target_read_back_on_windows() {
    let (_tmp, root, _) = tree();
    let probe = root.join("probe-link");
    let can_link = std::os::windows::fs::symlink_file("x", &probe).is_ok()
        && fs::symlink_metadata(&probe).is_ok_and(|m| m.file_type().is_symlink());
    if !can_link {
        eprintln!("no symlink could be made here: the link check is skipped");
        return;
    }
    let dir = Dir::open(&root).unwrap();
    dir.symlink(Path::new("a/link"), OsStr::new("b\\target"))
        .unwrap();
    let meta = fs::symlink_metadata(root.join("a/link")).unwrap();
    assert!(meta.file_type().is_symlink());
    assert_eq!(
        dir.read_link(Path::new("a/link")).unwrap(),
        OsStr::new("b\\target")
    );
    assert_eq!(
        dir.meta(Path::new("a/link")).unwrap().unwrap().kind,
        Kind::Symlink
    );
}

#[test]
fn temp_names_are_parsed_strictly() {
    assert_eq!(
        temp_writer(".f.txt.sr-42-1700000000123-0.tmp"),
        Some((42, 1_700_000_000))
    );
    assert_eq!(temp_writer(".a.sr-b.sr-7-1000-3.tmp"), Some((7, 1)));
    for not_ours in [
        "f.txt.sr-42-1700000000123-0.tmp", // not hidden
        "..sr-42-1700000000123-0.tmp",     // no name before the marker
        ".f.sr-42-1700000000123.tmp",      // a field missing
        ".f.sr-42-1700000000123-0-1.tmp",  // one too many
        ".f.sr-x2-1700000000123-0.tmp",    // not a number
        ".f.sr-42--0.tmp",                 // empty
        ".f.sr-+42-1700000000123-0.tmp",   // a sign (which u64's parse would take)
        ".f.sr-42-1700000000123-0.tmpx",   // other suffix
        ".f.sr-99999999999-1-0.tmp",       // no such pid
        ".f.sr-tmp-42-abcdef",             // fsx::atomic's own naming, swept there
    ] {
        assert_eq!(temp_writer(not_ours), None, "{not_ours}");
    }
}

#[cfg(unix)]
#[test]
fn the_temps_of_dead_writers_are_swept_and_nothing_else() {
    use crate::testutil::{dead_pid, LiveChild};
    let (_tmp, root, outside) = tree();
    let dir = Dir::open(&root.join("a")).unwrap();
    let now_ms = crate::time::now_ms();
    let dead = format!(".f.sr-{}-{now_ms}-0.tmp", dead_pid());
    let live_child = LiveChild::spawn();
    let live = format!(".g.sr-{}-{now_ms}-0.tmp", live_child.pid());
    let mine = format!(".h.sr-{}-{now_ms}-0.tmp", std::process::id());
    // a live pid whose process started long after the temp was made: the writer is gone
    let reused = format!(".i.sr-{}-1000-0.tmp", live_child.pid());
    let dead_dir = format!(".j.sr-{}-{now_ms}-0.tmp", dead_pid());
    let dead_link = format!(".k.sr-{}-{now_ms}-0.tmp", dead_pid());
    for name in [&dead, &live, &mine, &reused, "keep.txt"] {
        fs::write(root.join("a").join(name), b"T").unwrap();
    }
    fs::create_dir(root.join("a").join(&dead_dir)).unwrap();
    std::os::unix::fs::symlink(outside.join("victim"), root.join("a").join(&dead_link)).unwrap();

    assert_eq!(dir.sweep_dead_temps(), 2);
    let mut left: Vec<String> = fs::read_dir(root.join("a"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    let mut want = vec![
        live,
        mine,
        dead_dir,
        dead_link,
        "b".to_string(),
        "keep.txt".to_string(),
    ];
    want.sort();
    assert_eq!(left, want);
    assert_eq!(fs::read(outside.join("victim")).unwrap(), b"VICTIM");
}

/// What we open is closed in the processes we start (git, tar, sqlite3 must not inherit a
/// project file or a held folder): every file and folder handle is close-on-exec.
#[cfg(unix)]
#[test]
fn every_handle_opened_here_is_close_on_exec() {
    use rustix::io::{fcntl_getfd, FdFlags};
    let (_tmp, root, _) = tree();
    let dir = Dir::open(&root).unwrap();
    fs::write(root.join("a/f"), b"x").unwrap();
    let files = [
        dir.open_read(Path::new("a/f")).unwrap(),
        dir.create_new(Path::new("a/g"), false).unwrap(),
        sys::open_append_at(&dir.handle, &root.join("log"), OsStr::new("log")).unwrap(),
    ];
    for file in &files {
        assert!(fcntl_getfd(file).unwrap().contains(FdFlags::CLOEXEC));
    }
    let sub = dir.sub(Path::new("a/b"), false).unwrap();
    assert!(fcntl_getfd(&sub.handle).unwrap().contains(FdFlags::CLOEXEC));
}

/// A base that is a file, not a folder, is an OS error (ENOTDIR), not taken for a link.
#[cfg(unix)]
#[test]
fn a_file_as_the_base_is_not_a_directory_not_a_link() {
    let (_tmp, root, outside) = tree();
    let err = Dir::open(&outside.join("victim")).unwrap_err();
    assert_eq!(err.code(), Code::Os("ENOTDIR"), "{err}");
    let err = Dir::open(&root.join("none")).unwrap_err();
    assert_eq!(err.code(), Code::Os("ENOENT"), "{err}");
}

/// Run by [`flushes`] in a process of its own: one flush of the folder the environment names.
#[test]
#[ignore = "helper process for other tests"]
fn helper_flush_folder() {
    let Some(dir) = std::env::var_os("SR_CORE_TEST_DIR") else {
        return;
    };
    let dir = Dir::open(Path::new(&dir)).unwrap();
    match std::env::var("SR_CORE_TEST_FLUSH").as_deref() {
        Ok("sync") => dir.sync().unwrap(),
        Ok("sync_below") => dir.sync_below().unwrap(),
        other => panic!("{other:?}"),
    }
}

/// The fsync and syncfs calls of one flush (`how`: "sync" or "sync_below"), by strace.
#[cfg(target_os = "linux")]
fn flushes(how: &str) -> Option<Vec<usize>> {
    let (_tmp, root, _) = tree();
    crate::testutil::syscalls_of(
        "fsx::beneath::tests::helper_flush_folder",
        &[
            ("SR_CORE_TEST_DIR", root.as_os_str()),
            ("SR_CORE_TEST_FLUSH", OsStr::new(how)),
        ],
        &["fsync", "syncfs"],
    )
}

/// A folder's flush reaches the disk: `sync` fsyncs the folder itself, `sync_below` flushes
/// its whole file system in one syncfs (Linux). Only a syscall trace sees a missing flush.
#[cfg(target_os = "linux")]
#[test]
fn a_folder_flush_is_one_fsync_and_a_flush_below_one_syncfs() {
    let Some(sync) = flushes("sync") else {
        eprintln!("strace is not installed: flushes not checked here");
        return;
    };
    assert_eq!(sync, [1, 0]);
    assert_eq!(flushes("sync_below"), Some(vec![0, 1]));
}

/// A folder of ours, open to others, is made owner-only once; another user's is refused,
/// whatever its mode, and left as it is. (Root makes one for `nobody`; anyone else has `/`.)
#[cfg(unix)]
#[test]
fn another_user_s_folder_is_refused_and_ours_made_private() {
    use std::os::unix::fs::PermissionsExt;
    let (_tmp, root, outside) = tree();
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    fs::set_permissions(&outside, fs::Permissions::from_mode(0o755)).unwrap();
    let ours = Dir::open(&outside).unwrap();
    assert_eq!(ours.owner_mode().unwrap(), Some((me, 0o755)));
    assert!(ours.ensure_private().unwrap(), "tightened");
    assert_eq!(ours.owner_mode().unwrap(), Some((me, 0o700)));
    assert!(!ours.ensure_private().unwrap(), "already private");
    let theirs = if me == 0 {
        let path = root.join("a");
        std::os::unix::fs::chown(&path, Some(65534), Some(65534)).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o777)).unwrap();
        path
    } else {
        std::path::PathBuf::from("/")
    };
    let mode = fs::metadata(&theirs).unwrap().permissions().mode();
    let err = Dir::open(&theirs).unwrap().ensure_private().unwrap_err();
    assert_eq!(err.code(), Code::UnsafeDir, "{err}");
    assert!(
        err.message()
            .contains(&format!("not by this user (uid {me})")),
        "{err}"
    );
    if me == 0 {
        assert!(err.message().ends_with(" and writable by others"), "{err}");
        fs::set_permissions(&theirs, fs::Permissions::from_mode(0o755)).unwrap();
        let err = Dir::open(&theirs).unwrap().ensure_private().unwrap_err();
        assert!(
            err.message().ends_with("(uid 0)"),
            "not writable by others: {err}"
        );
    } else {
        assert_eq!(fs::metadata(&theirs).unwrap().permissions().mode(), mode);
    }
}

/// What a call that takes one entry of a held folder accepts: one plain name, nothing that
/// only looks like one once normalised (`a/`, `./a`), never `..` or a path.
#[test]
fn one_name_is_one_plain_name_only() {
    assert_eq!(one_name(OsStr::new("a")).unwrap(), OsStr::new("a"));
    for bad in ["a/", "./a", "a/b", "", "."] {
        assert_eq!(
            one_name(OsStr::new(bad)).unwrap_err().code(),
            Code::BadPath,
            "{bad:?}"
        );
    }
    assert_eq!(
        one_name(OsStr::new("..")).unwrap_err().code(),
        Code::PathEscape
    );
}

/// A leading `./` is the folder itself, as in any path; what is not a regular file is
/// refused with what it is.
#[test]
fn a_leading_dot_is_the_folder_and_a_non_file_is_named_for_what_it_is() {
    let (_tmp, root, _) = tree();
    fs::write(root.join("a/f"), b"F").unwrap();
    let dir = Dir::open(&root).unwrap();
    assert_eq!(dir.read(Path::new("./a/f"), 10).unwrap(), b"F");
    let err = dir.read(Path::new("a/b"), 10).unwrap_err();
    assert_eq!(err.code(), Code::Os("EINVAL"));
    assert!(
        err.message().ends_with("not a regular file (a directory)"),
        "{err}"
    );
    for (kind, name) in [
        (Kind::File, "file"),
        (Kind::Dir, "directory"),
        (Kind::Symlink, "symlink"),
        (Kind::Other, "other"),
    ] {
        assert_eq!(kind.as_str(), name);
    }
}

/// The entry calls the snapshot store uses, each against what std says of the same entry:
/// metadata not followed (kind, mode, size, times to the nanosecond, inode), a link's target,
/// a new link, a temp file renamed over a name, an unlink, a folder's mode.
#[cfg(unix)]
#[test]
fn entries_are_seen_and_changed_without_following_links() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let (_tmp, root, outside) = tree();
    fs::write(root.join("a/f"), b"12345").unwrap();
    fs::set_permissions(root.join("a/f"), fs::Permissions::from_mode(0o640)).unwrap();
    let dir = Dir::open(&root).unwrap();
    let same = |rel: &str, meta: Meta| {
        let std = fs::symlink_metadata(root.join(rel)).unwrap();
        assert_eq!(meta.mode, std.mode() & 0o7777, "{rel}");
        assert_eq!(meta.size, std.size(), "{rel}");
        assert_eq!(meta.mtime, (std.mtime(), std.mtime_nsec() as u32), "{rel}");
        assert_eq!(meta.ctime, (std.ctime(), std.ctime_nsec() as u32), "{rel}");
        assert_eq!(meta.ino, std.ino(), "{rel}");
    };
    let file = dir.meta(Path::new("a/f")).unwrap().unwrap();
    assert_eq!((file.kind, file.mode, file.size), (Kind::File, 0o640, 5));
    same("a/f", file);
    let folder = dir.meta(Path::new("a/b")).unwrap().unwrap();
    assert_eq!(folder.kind, Kind::Dir);
    same("a/b", folder);
    assert_eq!(dir.meta(Path::new("a/none")).unwrap(), None);
    assert_eq!(dir.meta(Path::new("none/x")).unwrap(), None);
    // missing is None; a link on the way is still refused, not taken for missing
    std::os::unix::fs::symlink(&outside, root.join("out")).unwrap();
    let err = dir.meta(Path::new("out/victim")).unwrap_err();
    assert_eq!(err.code(), Code::PathEscape, "{err}");
    // and an OS error on the entry itself is reported, not taken for missing
    let err = dir.meta(Path::new(&"n".repeat(300))).unwrap_err();
    assert_eq!(err.code(), Code::Os("ENAMETOOLONG"), "{err}");

    dir.symlink(Path::new("new/link"), outside.as_os_str())
        .unwrap();
    let link = dir.meta(Path::new("new/link")).unwrap().unwrap();
    assert_eq!(link.kind, Kind::Symlink, "the link itself, not its target");
    same("new/link", link);
    assert_eq!(
        dir.read_link(Path::new("new/link")).unwrap(),
        outside.as_os_str()
    );
    assert!(dir.symlink(Path::new("new/link"), OsStr::new("x")).is_err());
    assert!(dir.read_link(Path::new("a/f")).is_err());

    let a = dir.sub(Path::new("a"), false).unwrap();
    let (temp, mut out) = a.temp_file(OsStr::new("f")).unwrap();
    out.write_all(b"new").unwrap();
    drop(out);
    assert!(temp_writer(temp.to_str().unwrap()).is_some(), "{temp:?}");
    a.rename_here(&temp, OsStr::new("f")).unwrap();
    assert_eq!(fs::read(root.join("a/f")).unwrap(), b"new");
    assert!(a.rename_here(&temp, OsStr::new("f")).is_err(), "gone");
    assert!(a.unlink_here(OsStr::new("f")).unwrap());
    assert!(!a.unlink_here(OsStr::new("f")).unwrap());
    assert!(
        a.unlink_here(OsStr::new("b")).is_err(),
        "a folder is not unlinked"
    );

    a.set_mode(0o750).unwrap();
    assert_eq!(
        fs::metadata(root.join("a")).unwrap().permissions().mode() & 0o777,
        0o750
    );
    assert_eq!(Dir::syncs_whole_fs(), cfg!(target_os = "linux"));
    assert_eq!(fs::read(outside.join("victim")).unwrap(), b"VICTIM");
}

/// Creating the folders on the way: a folder another creator made in the meantime is taken
/// as it is (two threads making the same new paths at once both succeed), and any other
/// failure to create one is reported as that (sysfs refuses every mkdir).
#[test]
fn folders_on_the_way_are_shared_with_a_concurrent_creator_and_a_refusal_is_reported() {
    let (_tmp, root, _) = tree();
    let dir = std::sync::Arc::new(Dir::open(&root).unwrap());
    for round in 0..200 {
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (dir, barrier) = (dir.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    let rel = format!("r{round}/x/y/z");
                    dir.sub(Path::new(&rel), true).map(|_| ())
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap().unwrap();
        }
    }
    #[cfg(target_os = "linux")]
    {
        let sys = Dir::open(Path::new("/sys")).unwrap();
        let err = sys.sub(Path::new("sr-test-never"), true).unwrap_err();
        assert!(
            err.message()
                .starts_with("Cannot create /sys/sr-test-never: "),
            "{err}"
        );
        assert_ne!(err.code(), Code::Os("ENOENT"), "{err}");
    }
}

/// A temp name already taken (another writer's, made in the same millisecond) moves on to
/// the next attempt; any other failure to create the temp is reported as it is.
#[cfg(unix)]
#[test]
fn a_taken_temp_name_moves_on_and_another_failure_is_reported() {
    let (_tmp, root, _) = tree();
    let dir = Dir::open(&root).unwrap();
    // every first-attempt name of the next 3 seconds is taken
    let now = crate::time::now_ms();
    let me = std::process::id();
    for ms in now..now + 3_000 {
        fs::write(root.join(format!(".f.sr-{me}-{ms}-0.tmp")), b"").unwrap();
    }
    dir.write_atomic(Path::new("f"), b"placed", false).unwrap();
    assert_eq!(fs::read(root.join("f")).unwrap(), b"placed");
    // a held folder removed meanwhile: its temp cannot be made (ENOENT), said as that
    let a = dir.sub(Path::new("a/b"), false).unwrap();
    fs::remove_dir(root.join("a/b")).unwrap();
    let err = a.write_atomic(Path::new("f"), b"x", false).unwrap_err();
    assert_eq!(err.code(), Code::Os("ENOENT"), "{err}");
}

/// An OS error on the entry itself (a name too long for the file system) is reported by
/// the call that met it, append and remove alike; a missing one is nothing to remove.
#[test]
fn an_os_error_on_the_entry_is_reported_and_a_missing_one_is_nothing() {
    let (_tmp, root, _) = tree();
    let dir = Dir::open(&root).unwrap();
    let long = "n".repeat(300);
    let err = dir.append(Path::new(&long), b"x").unwrap_err();
    assert_eq!(err.code(), Code::Os("ENAMETOOLONG"), "{err}");
    assert!(err.message().starts_with("Cannot append to "), "{err}");
    let err = dir.remove(Path::new(&long)).unwrap_err();
    assert_eq!(err.code(), Code::Os("ENAMETOOLONG"), "{err}");
    assert!(!dir.remove(Path::new("none/x")).unwrap());
    assert!(!dir.remove(Path::new("a/none")).unwrap());
}

/// The size bound is inclusive: exactly `max` bytes are read, one more is refused.
#[test]
fn a_file_of_exactly_the_bound_is_read() {
    let (_tmp, root, _) = tree();
    fs::write(root.join("five"), b"12345").unwrap();
    let dir = Dir::open(&root).unwrap();
    assert_eq!(dir.read(Path::new("five"), 5).unwrap(), b"12345");
    assert_eq!(
        dir.read(Path::new("five"), 4).unwrap_err().code(),
        Code::Os("EFBIG")
    );
}

/// A file's mtime in seconds and nanoseconds since 1970, the same on every platform
/// (Windows counts 100 ns ticks since 1601): one after 1970 to the tick, and one before it
/// (negative seconds, the nanoseconds still counted forward).
#[test]
fn an_mtime_is_seconds_and_nanoseconds_since_1970_either_side_of_it() {
    use std::time::{Duration, UNIX_EPOCH};
    let (_tmp, root, _) = tree();
    let dir = Dir::open(&root).unwrap();
    for (rel, when, expected) in [
        (
            "a/after",
            UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_700),
            (1_700_000_000, 123_456_700),
        ),
        (
            "a/before",
            UNIX_EPOCH - Duration::new(1, 500_000_000),
            (-2, 500_000_000),
        ),
    ] {
        fs::write(root.join(rel), b"x").unwrap();
        let file = fs::File::options()
            .write(true)
            .open(root.join(rel))
            .unwrap();
        file.set_modified(when).unwrap();
        drop(file);
        assert_eq!(
            dir.meta(Path::new(rel)).unwrap().unwrap().mtime,
            expected,
            "{rel}"
        );
    }
}
