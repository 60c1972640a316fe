//! Contained file access for `lib/`: every path is `rel` below a `base` folder, resolved from a
//! handle without following any symlink (`core/src/fsx/beneath.rs`). `lib/backup-system.js`
//! and the session log do every operation under `backups/` through these; the JS backend's
//! twins are in `lib/js/contained.js`.

use std::path::{Path, PathBuf};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use session_resilience_core::fsx::beneath::{Dir, Kind};
use session_resilience_core::Result as CoreResult;

use crate::args;
use crate::error::run;

#[napi(object)]
pub struct ContainedEntry {
    pub name: String,
    /// `file`, `directory`, `symlink` or `other`.
    #[napi(js_name = "type")]
    pub kind: String,
    pub size: f64,
}

#[napi(object)]
pub struct ContainedWriteOptions {
    /// Create the file only if nothing is at the name (`O_CREAT | O_EXCL | O_NOFOLLOW`).
    pub exclusive: Option<bool>,
    /// fsync before the rename (atomic replace only).
    pub fsync: Option<bool>,
}

fn base_rel(env: &Env, base: Unknown, rel: String) -> Result<(PathBuf, PathBuf)> {
    Ok((args::path(env, "base", base)?, PathBuf::from(rel)))
}

fn entry(name: String, kind: Kind, size: u64) -> ContainedEntry {
    ContainedEntry {
        name,
        kind: kind.as_str().to_string(),
        size: size as f64,
    }
}

/// A listing as entries (sizes are not looked up: 0).
pub fn entries(listed: Vec<(std::ffi::OsString, Kind)>) -> Vec<ContainedEntry> {
    listed
        .into_iter()
        .map(|(name, kind)| entry(name.to_string_lossy().into_owned(), kind, 0))
        .collect()
}

/// What is at `base/rel` (not followed), or null; a symlink on the way is `EPATHESCAPE`.
#[napi(catch_unwind)]
pub fn contained_stat(
    env: &Env,
    #[napi(ts_arg_type = "string")] base: Unknown,
    rel: String,
) -> Result<Option<ContainedEntry>> {
    let (base, rel) = base_rel(env, base, rel)?;
    run(env, || {
        let found = Dir::open(&base)?.stat(&rel)?;
        let name = rel
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(found.map(|(kind, size)| entry(name, kind, size)))
    })
}

/// The regular file `base/rel`, at most `maxBytes` (default 1 GiB; `EFBIG` beyond). A
/// Buffer, declared as the Uint8Array it is (the declarations need no Node types).
#[napi(catch_unwind, ts_return_type = "Uint8Array")]
pub fn contained_read(
    env: &Env,
    #[napi(ts_arg_type = "string")] base: Unknown,
    rel: String,
    max_bytes: Option<f64>,
) -> Result<Buffer> {
    let (base, rel) = base_rel(env, base, rel)?;
    let max = max_bytes.map(|m| m.max(0.0) as u64).unwrap_or(1 << 30);
    run(env, || Ok(Dir::open(&base)?.read(&rel, max)?.into()))
}

/// Write `rel` below `dir`: atomic replace in its folder, or exclusive create (the options).
pub fn write_in(
    dir: &Dir,
    rel: &Path,
    data: &Either<String, &[u8]>,
    options: Option<&ContainedWriteOptions>,
) -> CoreResult<bool> {
    let bytes: &[u8] = match data {
        Either::A(text) => text.as_bytes(),
        Either::B(buffer) => buffer,
    };
    let fsync = options.and_then(|o| o.fsync).unwrap_or(true);
    if options.and_then(|o| o.exclusive).unwrap_or(false) {
        dir.write_new(rel, bytes, fsync)?;
    } else {
        dir.write_atomic(rel, bytes, fsync)?;
    }
    Ok(true)
}

/// Write `base/rel`: atomic replace in the held folder, or exclusive create.
#[napi(catch_unwind)]
pub fn contained_write(
    env: &Env,
    #[napi(ts_arg_type = "string")] base: Unknown,
    rel: String,
    data: Either<String, &[u8]>,
    options: Option<ContainedWriteOptions>,
) -> Result<bool> {
    let (base, rel) = base_rel(env, base, rel)?;
    run(env, || {
        write_in(&Dir::open(&base)?, &rel, &data, options.as_ref())
    })
}

/// Append to the regular file `base/rel` (created 0600 if missing; its folder must exist).
#[napi(catch_unwind)]
pub fn contained_append(
    env: &Env,
    #[napi(ts_arg_type = "string")] base: Unknown,
    rel: String,
    data: String,
) -> Result<bool> {
    let (base, rel) = base_rel(env, base, rel)?;
    run(env, || {
        Dir::open(&base)?
            .append(&rel, data.as_bytes())
            .map(|()| true)
    })
}

/// Create the folders of `base/rel` that are missing (0700); with `private`, make the last
/// one owner-only (refused when another user owns it). True when its mode was tightened.
#[napi(catch_unwind)]
pub fn contained_mkdir(
    env: &Env,
    #[napi(ts_arg_type = "string")] base: Unknown,
    rel: String,
    private: Option<bool>,
) -> Result<bool> {
    let (base, rel) = base_rel(env, base, rel)?;
    run(env, || {
        let dir = Dir::open(&base)?.sub(&rel, true)?;
        if private.unwrap_or(false) {
            dir.ensure_private()
        } else {
            Ok(false)
        }
    })
}

/// The entries of the folder `base/rel`, in name order, not followed.
#[napi(catch_unwind)]
pub fn contained_list(
    env: &Env,
    #[napi(ts_arg_type = "string")] base: Unknown,
    rel: String,
) -> Result<Vec<ContainedEntry>> {
    let (base, rel) = base_rel(env, base, rel)?;
    run(env, || Dir::open(&base)?.list(&rel).map(entries))
}

/// Remove `base/rel` (a file, a link itself, or a real folder tree, links inside unlinked,
/// never followed); false when nothing was there.
#[napi(catch_unwind)]
pub fn contained_remove(
    env: &Env,
    #[napi(ts_arg_type = "string")] base: Unknown,
    rel: String,
) -> Result<bool> {
    let (base, rel) = base_rel(env, base, rel)?;
    run(env, || Dir::open(&base)?.remove(&rel))
}

/// Copy the regular file `srcBase/srcRel` to the new file `destBase/destRel`; the bytes copied.
#[napi(catch_unwind)]
pub fn contained_copy(
    env: &Env,
    #[napi(ts_arg_type = "string")] src_base: Unknown,
    src_rel: String,
    #[napi(ts_arg_type = "string")] dest_base: Unknown,
    dest_rel: String,
) -> Result<f64> {
    let (src_base, src_rel) = base_rel(env, src_base, src_rel)?;
    let (dest_base, dest_rel) = base_rel(env, dest_base, dest_rel)?;
    run(env, || {
        copy(&src_base, &src_rel, &dest_base, &dest_rel).map(|n| n as f64)
    })
}

fn copy(src_base: &Path, src_rel: &Path, dest_base: &Path, dest_rel: &Path) -> CoreResult<u64> {
    let src = Dir::open(src_base)?;
    let dest = Dir::open(dest_base)?;
    src.copy_to(src_rel, &dest, dest_rel)
}
