//! The locks this process holds, so that they can all be released together: at the end of
//! a Node environment (napi cleanup hook), at `exit()` (an `atexit` handler) and by
//! `safeExit`. Each entry keeps the open lock file, whose OS lock is the proof that we are
//! alive; closing it (dropping the entry) drops the OS lock.
//!
//! It also keeps the tokens of the locks this process released but could not remove (a read
//! or an unlink of the lock file failed at release): see [`leave`].

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex, MutexGuard};

use super::record::Record;

pub struct Held {
    pub file: File,
    pub token: String,
    pub identifier: String,
    /// Who took it (the binding passes its Node environment), for per-environment cleanup.
    pub owner: usize,
}

static HELD: LazyLock<Mutex<HashMap<PathBuf, Held>>> = LazyLock::new(Default::default);

/// Lock path -> tokens of our acquisitions released whose file stayed (see [`leave`]).
static LEFT: LazyLock<Mutex<HashMap<PathBuf, HashSet<String>>>> = LazyLock::new(Default::default);

fn held() -> MutexGuard<'static, HashMap<PathBuf, Held>> {
    // A panic while holding the map leaves it consistent (plain inserts and removes).
    HELD.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub fn insert(path: PathBuf, entry: Held) {
    held().insert(path, entry);
}

pub fn take(path: &Path) -> Option<Held> {
    held().remove(path)
}

pub fn holds(path: &Path) -> bool {
    held().contains_key(path)
}

/// Note that our acquisition `token` of the lock at `path` was released but its file may
/// still be there (removing it failed). That file names our pid, which is alive, so without
/// this note our own next acquire of the lock would wait for itself until its timeout. A
/// token names one acquisition, which has ended: a file that still carries it has no holder,
/// and [`was_left`] lets the next acquire take it over like a dead holder's (through the
/// takeover protocol, so a concurrent breaker is never raced). Only this backend's tokens are
/// noted here: a lock the JS backend of this same process holds is never judged dead by it.
pub fn leave(path: &Path, token: String) {
    left().entry(path.to_path_buf()).or_default().insert(token);
}

/// Was `token` of the lock at `path` released by us while its file stayed ([`leave`])?
pub fn was_left(path: &Path, token: &str) -> bool {
    left()
        .get(path)
        .is_some_and(|tokens| tokens.contains(token))
}

/// The file carrying `token` is gone (taken over): forget the note.
pub fn cleared(path: &Path, token: &str) {
    // (an emptied set stays: one per lock path that ever had a failed release)
    if let Some(tokens) = left().get_mut(path) {
        tokens.remove(token);
    }
}

fn left() -> MutexGuard<'static, HashMap<PathBuf, HashSet<String>>> {
    LEFT.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `(identifier, lock path)` of every lock held, sorted by path.
pub fn list() -> Vec<(String, PathBuf)> {
    let mut all: Vec<_> = held()
        .iter()
        .map(|(p, h)| (h.identifier.clone(), p.clone()))
        .collect();
    all.sort_by(|a, b| a.1.cmp(&b.1));
    all
}

/// Release every lock taken by `owner` (all of them for `None`); returns how many.
pub fn release_all(owner: Option<usize>) -> usize {
    let mut map = held();
    let (released, stayed) = release_matching(&mut map, owner);
    drop(map);
    for (path, token) in stayed {
        leave(&path, token);
    }
    released
}

/// For `atexit`: never block on the map (another thread may be inside it while the process
/// exits); the OS drops our OS locks anyway, and waiters treat that as a dead holder.
pub fn release_all_at_exit() -> usize {
    match HELD.try_lock() {
        Ok(mut map) => release_matching(&mut map, None).0,
        Err(std::sync::TryLockError::Poisoned(p)) => release_matching(&mut p.into_inner(), None).0,
        Err(std::sync::TryLockError::WouldBlock) => 0,
    }
}

/// Register (once) an `atexit` handler that releases every lock still held, for exits that
/// skip every other cleanup (Node's `process.exit()` calls the C runtime's `exit()`). On
/// Windows the handler of a DLL runs when the DLL is detached at process exit; without it
/// the OS would drop our OS locks but leave the lock files behind.
pub fn release_at_process_exit() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        extern "C" fn release_at_exit() {
            release_all_at_exit();
        }
        // SAFETY: registers a plain extern "C" function; failing only means no hook.
        unsafe {
            c_runtime_atexit(release_at_exit);
        }
    });
}

#[cfg(unix)]
use libc::atexit as c_runtime_atexit;

#[cfg(windows)]
extern "C" {
    // The C runtime's (msvcrt / ucrt) atexit, which the libc crate does not bind on Windows.
    #[link_name = "atexit"]
    fn c_runtime_atexit(callback: extern "C" fn()) -> std::ffi::c_int;
}

/// Release the matching entries: how many files were removed, and the `(path, token)` of
/// those whose file stayed (for [`leave`]; a file taken over by another is among them, and
/// harmless there: it does not carry our token).
fn release_matching(
    map: &mut HashMap<PathBuf, Held>,
    owner: Option<usize>,
) -> (usize, Vec<(PathBuf, String)>) {
    let paths: Vec<PathBuf> = map
        .iter()
        .filter(|(_, h)| owner.is_none_or(|o| h.owner == o))
        .map(|(p, _)| p.clone())
        .collect();
    let mut released = 0;
    let mut stayed = Vec::new();
    for path in paths {
        if let Some(entry) = map.remove(&path) {
            if remove_if_ours(&path, &entry.token) {
                released += 1;
            } else {
                stayed.push((path, entry.token));
            }
        }
    }
    (released, stayed)
}

/// Remove the lock file if it still carries our token (it could have been taken over if
/// we were wrongly judged dead: then it is someone else's and stays).
pub fn remove_if_ours(path: &Path, token: &str) -> bool {
    let ours = super::file::read(path)
        .ok()
        .and_then(|bytes| Record::parse(&bytes))
        .is_some_and(|r| r.token.as_deref() == Some(token));
    ours && super::unlink::remove_lock_file(path).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::{acquire, lock_path, LockOptions};
    use std::fs;

    #[test]
    fn the_registry_knows_what_this_process_holds_per_owner() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let b = acquire(dir, "b", &LockOptions::default(), 31).unwrap().path;
        let a = acquire(dir, "a", &LockOptions::default(), 31).unwrap().path;
        let c = acquire(dir, "c", &LockOptions::default(), 32).unwrap().path;
        assert!(holds(&a) && holds(&b) && holds(&c));
        assert!(!holds(&lock_path(dir, "d")));
        let mine: Vec<(String, PathBuf)> = list()
            .into_iter()
            .filter(|(_, p)| p.starts_with(dir))
            .collect();
        assert_eq!(
            mine,
            vec![
                ("a".into(), a.clone()),
                ("b".into(), b.clone()),
                ("c".into(), c.clone())
            ]
        );
        assert_eq!(release_all(Some(31)), 2, "owner 31's two locks");
        assert!(!a.exists() && !b.exists() && c.exists());
        assert!(holds(&c) && !holds(&a));
        let entry = take(&c).unwrap();
        assert_eq!(entry.identifier, "c");
        assert!(!holds(&c));
        assert!(remove_if_ours(&c, &entry.token));
        assert!(!c.exists());
    }

    #[test]
    fn tokens_released_but_left_are_noted_per_path_until_cleared() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("n.lock");
        leave(&path, "one".into());
        leave(&path, "two".into());
        assert!(was_left(&path, "one") && was_left(&path, "two"));
        assert!(!was_left(&path, "three"));
        assert!(!was_left(&tmp.path().join("other.lock"), "one"));
        cleared(&path, "one");
        assert!(!was_left(&path, "one"));
        assert!(was_left(&path, "two"), "the path's other token stays noted");
        cleared(&path, "two");
        assert!(!was_left(&path, "two"));
    }

    /// `releaseAllLocks` (or an environment's cleanup) that cannot remove a lock file notes
    /// its token like `release` does.
    #[test]
    fn release_all_notes_the_token_of_a_file_it_did_not_remove() {
        let tmp = tempfile::tempdir().unwrap();
        let path = acquire(tmp.path(), "k", &LockOptions::default(), 34)
            .unwrap()
            .path;
        let token = Record::parse(&fs::read(&path).unwrap())
            .unwrap()
            .token
            .unwrap();
        // rewritten since (here: another token), so not ours to remove
        fs::write(&path, Record::ours("k", "rewritten").to_bytes()).unwrap();
        assert_eq!(release_all(Some(34)), 0);
        assert!(path.exists());
        assert!(was_left(&path, &token));
        cleared(&path, &token);
    }

    #[test]
    fn only_a_file_with_our_token_is_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.lock");
        fs::write(&path, Record::ours("x", "theirs").to_bytes()).unwrap();
        assert!(!remove_if_ours(&path, "mine"));
        assert!(path.exists());
        fs::write(&path, b"{").unwrap();
        assert!(!remove_if_ours(&path, "mine"));
        assert!(!remove_if_ours(&tmp.path().join("missing.lock"), "mine"));
    }

    /// Run by [`every_lock_is_released_at_exit`] in a process of its own: take two locks,
    /// then release everything as the exit hook does.
    #[test]
    #[ignore = "helper process for other tests"]
    fn helper_release_at_exit() {
        let Some(dir) = std::env::var_os("SR_CORE_TEST_DIR") else {
            return;
        };
        let dir = PathBuf::from(dir);
        acquire(&dir, "one", &LockOptions::default(), 1).unwrap();
        acquire(&dir, "two", &LockOptions::default(), 2).unwrap();
        assert_eq!(release_all_at_exit(), 2);
        assert!(list().is_empty());
    }

    /// Run by [`an_exit_runs_the_registered_release`] in a process of its own: take a lock,
    /// register the exit hook (twice: it is registered once), and exit without any cleanup.
    #[test]
    #[ignore = "helper process for other tests"]
    fn helper_exit_holding_a_lock() {
        let Some(dir) = std::env::var_os("SR_CORE_TEST_DIR") else {
            return;
        };
        acquire(Path::new(&dir), "held", &LockOptions::default(), 1).unwrap();
        release_at_process_exit();
        release_at_process_exit();
        std::process::exit(0);
    }

    /// Run the helper test `name` in a process of its own, on `dir`; it must succeed.
    fn run_helper(name: &str, dir: &Path) {
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                &format!("lock::registry::tests::{name}"),
            ])
            .env("SR_CORE_TEST_DIR", dir)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    }

    #[test]
    fn an_exit_runs_the_registered_release() {
        let tmp = tempfile::tempdir().unwrap();
        run_helper("helper_exit_holding_a_lock", tmp.path());
        assert!(
            !lock_path(tmp.path(), "held").exists(),
            "the lock file outlived exit()"
        );
    }

    #[test]
    fn every_lock_is_released_at_exit() {
        let tmp = tempfile::tempdir().unwrap();
        run_helper("helper_release_at_exit", tmp.path());
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
    }
}
