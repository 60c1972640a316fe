//! Held folders for `lib/`: a folder opened once beneath a base without following any symlink
//! (`core/src/fsx/beneath.rs`), kept open, and every later call resolved from its handle, so
//! that swapping its path (or a folder above it) for a symlink mid-way changes nothing. The
//! backup staging folder and its parts are written this way (`lib/backup/staging.js`); the
//! JS backend's twins are in `lib/js/held.js`. The handle is an opaque object; `heldClose`
//! closes it at once (the garbage collector would, later).

use std::cell::RefCell;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use session_resilience_core::fsx::beneath::Dir;
use session_resilience_core::{Code, Error as CoreError, Result as CoreResult};

use crate::args;
use crate::contained::{entries, write_in, ContainedEntry, ContainedWriteOptions};
use crate::error::run;

/// An open folder, or `None` once closed.
pub struct Held(RefCell<Option<Dir>>);

fn held(dir: Dir) -> External<Held> {
    External::new(Held(RefCell::new(Some(dir))))
}

/// Run `f` on the open folder of `h` (`EBADF` once it was closed).
fn with<T>(h: &External<Held>, f: impl FnOnce(&Dir) -> CoreResult<T>) -> CoreResult<T> {
    match h.0.borrow().as_ref() {
        Some(dir) => f(dir),
        None => Err(CoreError::new(
            Code::Os("EBADF"),
            "The held folder was closed".to_string(),
        )),
    }
}

/// Open and hold the folder `base/rel` (each component a real folder; missing ones made
/// 0700 when `create`). The base itself must not be a symlink (`EUNSAFEDIR`).
#[napi(catch_unwind, ts_return_type = "ExternalObject<'HeldDir'>")]
pub fn held_open(
    env: &Env,
    #[napi(ts_arg_type = "string")] base: Unknown,
    rel: String,
    create: Option<bool>,
) -> Result<External<Held>> {
    let base = args::path(env, "base", base)?;
    run(env, || {
        Dir::open(&base)?
            .sub(Path::new(&rel), create.unwrap_or(false))
            .map(held)
    })
}

/// The folder `rel` below a held one, held too. `how`: `open` (it must exist), `create`
/// (made 0700 when missing) or `new` (made now, one name, `EEXIST` when anything is there).
#[napi(catch_unwind, ts_return_type = "ExternalObject<'HeldDir'>")]
pub fn held_sub(
    env: &Env,
    #[napi(ts_arg_type = "ExternalObject<'HeldDir'>")] dir: &External<Held>,
    rel: String,
    how: Option<String>,
) -> Result<External<Held>> {
    run(env, || {
        with(dir, |d| match how.as_deref().unwrap_or("open") {
            "new" => d.sub_new(OsStr::new(&rel)),
            "create" => d.sub(Path::new(&rel), true),
            "open" => d.sub(Path::new(&rel), false),
            other => Err(CoreError::new(
                Code::InvalidArg,
                format!("how must be open, create or new, not {other}"),
            )),
        })
        .map(held)
    })
}

/// Write the file `rel` below a held folder: atomic replace, or exclusive create.
#[napi(catch_unwind)]
pub fn held_write(
    env: &Env,
    #[napi(ts_arg_type = "ExternalObject<'HeldDir'>")] dir: &External<Held>,
    rel: String,
    data: Either<String, &[u8]>,
    options: Option<ContainedWriteOptions>,
) -> Result<bool> {
    run(env, || {
        with(dir, |d| {
            write_in(d, Path::new(&rel), &data, options.as_ref())
        })
    })
}

/// Copy the regular file `srcBase/srcRel` (no link followed) to the new file `destRel` below
/// a held folder; the bytes copied.
#[napi(catch_unwind)]
pub fn held_copy_in(
    env: &Env,
    #[napi(ts_arg_type = "ExternalObject<'HeldDir'>")] dir: &External<Held>,
    #[napi(ts_arg_type = "string")] src_base: Unknown,
    src_rel: String,
    dest_rel: String,
) -> Result<f64> {
    let src_base: PathBuf = args::path(env, "srcBase", src_base)?;
    run(env, || {
        with(dir, |d| {
            Dir::open(&src_base)?.copy_to(Path::new(&src_rel), d, Path::new(&dest_rel))
        })
        .map(|n| n as f64)
    })
}

/// The regular file `rel` below a held folder, at most `maxBytes` (default 1 GiB).
#[napi(catch_unwind, ts_return_type = "Uint8Array")]
pub fn held_read(
    env: &Env,
    #[napi(ts_arg_type = "ExternalObject<'HeldDir'>")] dir: &External<Held>,
    rel: String,
    max_bytes: Option<f64>,
) -> Result<Buffer> {
    let max = max_bytes.map(|m| m.max(0.0) as u64).unwrap_or(1 << 30);
    run(env, || {
        with(dir, |d| d.read(Path::new(&rel), max)).map(Buffer::from)
    })
}

/// The entries of the folder `rel` below a held folder, in name order, not followed.
#[napi(catch_unwind)]
pub fn held_list(
    env: &Env,
    #[napi(ts_arg_type = "ExternalObject<'HeldDir'>")] dir: &External<Held>,
    rel: String,
) -> Result<Vec<ContainedEntry>> {
    run(env, || with(dir, |d| d.list(Path::new(&rel))).map(entries))
}

/// Remove `rel` below a held folder (a file, a link itself, or a real folder tree; links
/// inside unlinked, never followed); false when nothing was there.
#[napi(catch_unwind)]
pub fn held_remove(
    env: &Env,
    #[napi(ts_arg_type = "ExternalObject<'HeldDir'>")] dir: &External<Held>,
    rel: String,
) -> Result<bool> {
    run(env, || with(dir, |d| d.remove(Path::new(&rel))))
}

/// Move the entry `name` of a held folder to `destName` in another held folder (`renameat`);
/// `ENOENT` when nothing is at `name`.
#[napi(catch_unwind)]
pub fn held_rename(
    env: &Env,
    #[napi(ts_arg_type = "ExternalObject<'HeldDir'>")] dir: &External<Held>,
    name: String,
    #[napi(ts_arg_type = "ExternalObject<'HeldDir'>")] dest: &External<Held>,
    dest_name: String,
) -> Result<bool> {
    run(env, || {
        with(dir, |d| {
            with(dest, |to| {
                d.rename_to(OsStr::new(&name), to, OsStr::new(&dest_name))
            })
        })
        .map(|()| true)
    })
}

/// A path naming `name` in the held folder for writers that take only paths (tar, git, a
/// child process): `/proc/<pid>/fd/<n>/<name>` on Linux, the folder's path elsewhere
/// (`Dir::pinned_path` says what that keeps). Never for SQLite: it re-resolves links itself.
#[napi(catch_unwind)]
pub fn held_pinned_path(
    env: &Env,
    #[napi(ts_arg_type = "ExternalObject<'HeldDir'>")] dir: &External<Held>,
    name: String,
) -> Result<String> {
    run(env, || {
        with(dir, |d| {
            Ok(d.pinned_path(OsStr::new(&name))
                .to_string_lossy()
                .into_owned())
        })
    })
}

/// Close a held folder now; false when it was closed already.
#[napi(catch_unwind)]
pub fn held_close(#[napi(ts_arg_type = "ExternalObject<'HeldDir'>")] dir: &External<Held>) -> bool {
    dir.0.borrow_mut().take().is_some()
}
