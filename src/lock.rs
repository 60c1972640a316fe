//! Legacy lock functions (`acquireLock`, `releaseLock`, `getLockInfo`) and the new ones
//! (`listLocks`, `releaseAllLocks`, `heldLocks`; `acquireLockAsync` is in `tasks/`), over
//! `session_resilience_core::lock`.
//!
//! Every lock this process holds is released when its Node environment ends (a napi env
//! cleanup hook) and when the process exits through `exit()` (an `atexit` handler: Node's
//! `process.exit()` does not run env cleanup hooks).

use std::cell::Cell;
use std::path::PathBuf;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use session_resilience_core::lock::{self, registry, LockState, Released};
use session_resilience_core::{Code, Error as CoreError};

use crate::args;
use crate::error::{run, to_js};

const DEFAULT_TIMEOUT_MS: f64 = 5_000.0;

#[napi(object)]
#[derive(Default)]
pub struct LockOptions {
    /// Where lock files live; default `$SESSION_RESILIENCE_LOCK_DIR` or `<tmpdir>/agenthive-locks`.
    pub lock_dir: Option<String>,
    /// ms to wait before `ELOCKTIMEOUT` (default 5000; `acquireLock` takes it as 2nd argument).
    pub timeout: Option<f64>,
    /// Age (ms) after which a holder on another host counts as dead (default 30000).
    pub stale_ms: Option<f64>,
    /// Longest sleep (ms) between two looks at a held lock without an OS lock to sleep on
    /// (a JS or legacy holder); default 1 (the JS backend: 2).
    pub poll_ms: Option<f64>,
}

pub fn lock_dir(given: Option<String>) -> PathBuf {
    args::dir_or_default(given, session_resilience_core::defaults::default_lock_dir)
}

fn ms(value: Option<f64>, default: f64) -> u64 {
    let v = value.filter(|v| v.is_finite()).unwrap_or(default).max(0.0);
    v.floor() as u64
}

/// The core options, with `timeout` (the positional argument) winning over `options.timeout`.
pub fn core_options(timeout: Option<f64>, options: &LockOptions) -> lock::LockOptions {
    let defaults = lock::LockOptions::default();
    let poll_max = Duration::from_micros(ms(options.poll_ms.map(|p| p * 1000.0), 1000.0).max(100));
    lock::LockOptions {
        timeout: Duration::from_millis(ms(timeout.or(options.timeout), DEFAULT_TIMEOUT_MS)),
        stale_ms: ms(options.stale_ms, lock::DEFAULT_STALE_MS as f64),
        poll_min: defaults.poll_min.min(poll_max),
        poll_max,
    }
}

/// The `identifier` argument: a string that is a safe file name.
pub fn identifier(env: &Env, value: Unknown) -> Result<String> {
    if value.get_type()? != ValueType::String {
        let err = CoreError::new(
            Code::InvalidArg,
            "The \"identifier\" argument must be of type string",
        );
        return Err(to_js(env, err));
    }
    let text = unsafe { String::from_napi_value(env.raw(), value.raw()) }?;
    lock::check_identifier(&text).map_err(|e| to_js(env, e))?;
    Ok(text)
}

thread_local! {
    // One cleanup hook per Node environment (each lives on its own thread).
    static HOOKED: Cell<bool> = const { Cell::new(false) };
}

/// Make sure this environment's locks are released when it ends; returns its owner tag.
pub fn register_cleanup(env: &Env) -> usize {
    let owner = env.raw() as usize;
    let hooked = HOOKED.with(Cell::get)
        || env
            .add_env_cleanup_hook(owner, |owner| {
                registry::release_all(Some(owner));
            })
            .is_ok();
    HOOKED.with(|h| h.set(hooked));
    registry::release_at_process_exit();
    owner
}

/// A lock taken: its file, and the pids named in the dead holders' lock files removed on
/// the way (lib/ prints the legacy "Removing stale lock" line for each).
#[napi(object)]
pub struct LockTaken {
    pub lock_path: String,
    pub broken_pids: Vec<u32>,
}

impl From<lock::Acquired> for LockTaken {
    fn from(acquired: lock::Acquired) -> Self {
        LockTaken {
            lock_path: acquired.path.to_string_lossy().into_owned(),
            broken_pids: acquired.broken.iter().map(|r| r.pid).collect(),
        }
    }
}

/// Take the lock, waiting up to `timeout` ms (default 5000): `{ lockPath, brokenPids }`, or
/// throws `Lock timeout for <id> after <ms>ms` (`ELOCKTIMEOUT`).
#[napi(catch_unwind)]
pub fn acquire_lock(
    env: &Env,
    #[napi(ts_arg_type = "string")] identifier: Unknown,
    timeout: Option<f64>,
    options: Option<LockOptions>,
) -> Result<LockTaken> {
    let id = self::identifier(env, identifier)?;
    let options = options.unwrap_or_default();
    let core = core_options(timeout, &options);
    let dir = lock_dir(options.lock_dir);
    let owner = register_cleanup(env);
    Ok(run(env, || lock::acquire(&dir, &id, &core, owner))?.into())
}

#[napi(object)]
#[derive(Default)]
pub struct LockDirOptions {
    pub lock_dir: Option<String>,
    pub stale_ms: Option<f64>,
}

/// What `releaseLock` did: `released` when removed or absent; otherwise the pid of the
/// process that owns it, or why it could not be read.
#[napi(object)]
pub struct LockRelease {
    pub released: bool,
    pub owner_pid: Option<u32>,
    pub error: Option<String>,
}

/// Release our lock, and only ours.
#[napi(catch_unwind)]
pub fn release_lock(
    env: &Env,
    #[napi(ts_arg_type = "string")] identifier: Unknown,
    options: Option<LockDirOptions>,
) -> Result<LockRelease> {
    let id = self::identifier(env, identifier)?;
    let dir = lock_dir(options.and_then(|o| o.lock_dir));
    let (released, owner_pid, error) = match run(env, || lock::release(&dir, &id))? {
        Released::NoLock | Released::Released => (true, None, None),
        Released::NotOwner { pid } => (false, Some(pid), None),
        Released::Unreadable(error) => (false, None, Some(error)),
    };
    Ok(LockRelease {
        released,
        owner_pid,
        error,
    })
}

fn stale_ms(options: &Option<LockDirOptions>) -> u64 {
    ms(
        options.as_ref().and_then(|o| o.stale_ms),
        lock::DEFAULT_STALE_MS as f64,
    )
}

fn state_object(env: &Env, state: &LockState) -> Result<Object<'static>> {
    let mut obj = Object::new(env)?;
    match state {
        LockState::Free => obj.set_named_property("locked", false)?,
        LockState::Corrupted { error } => {
            obj.set_named_property("locked", true)?;
            obj.set_named_property("corrupted", true)?;
            obj.set_named_property("error", error.as_str())?;
        }
        LockState::Held {
            record,
            age_ms,
            alive,
            stale,
        } => {
            obj.set_named_property("locked", true)?;
            obj.set_named_property("pid", record.pid)?;
            obj.set_named_property("timestamp", record.timestamp.as_str())?;
            obj.set_named_property("age", *age_ms as f64)?;
            obj.set_named_property("stale", *stale)?;
            match &record.hostname {
                Some(host) => obj.set_named_property("hostname", host.as_str())?,
                None => obj.set_named_property("hostname", Null)?,
            }
            match alive {
                Some(alive) => obj.set_named_property("alive", *alive)?,
                None => obj.set_named_property("alive", Null)?,
            }
        }
    }
    Ok(obj)
}

/// `{ locked: false }`, `{ locked: true, pid, timestamp, age, stale, hostname, alive }` or
/// `{ locked: true, corrupted: true, error }`.
#[napi(
    catch_unwind,
    ts_return_type = "{ locked: boolean, pid?: number, timestamp?: string, age?: number, stale?: boolean, hostname?: string | null, alive?: boolean | null, corrupted?: boolean, error?: string }"
)]
pub fn get_lock_info(
    env: &Env,
    #[napi(ts_arg_type = "string")] identifier: Unknown,
    options: Option<LockDirOptions>,
) -> Result<Object<'static>> {
    let id = self::identifier(env, identifier)?;
    let stale = stale_ms(&options);
    let dir = lock_dir(options.and_then(|o| o.lock_dir));
    let state = run(env, || lock::info(&dir, &id, stale))?;
    state_object(env, &state)
}

/// Every lock in the directory: `[{ identifier, ...getLockInfo }]`, sorted by identifier.
#[napi(
    catch_unwind,
    ts_return_type = "Array<{ locked: boolean, pid?: number, timestamp?: string, age?: number, stale?: boolean, hostname?: string | null, alive?: boolean | null, corrupted?: boolean, error?: string } & { identifier: string }>"
)]
pub fn list_locks(env: &Env, options: Option<LockDirOptions>) -> Result<Vec<Object<'static>>> {
    let stale = stale_ms(&options);
    let dir = lock_dir(options.and_then(|o| o.lock_dir));
    let all = run(env, || lock::list(&dir, stale))?;
    let mut out = Vec::with_capacity(all.len());
    for (id, state) in &all {
        let mut obj = state_object(env, state)?;
        obj.set_named_property("identifier", id.as_str())?;
        out.push(obj);
    }
    Ok(out)
}

/// Release every lock this process holds (any directory); returns how many were removed.
#[napi(catch_unwind)]
pub fn release_all_locks() -> u32 {
    registry::release_all(None) as u32
}

/// The lock file paths this process holds.
#[napi(catch_unwind)]
pub fn held_locks() -> Vec<String> {
    registry::list()
        .into_iter()
        .map(|(_, p)| p.to_string_lossy().into_owned())
        .collect()
}
