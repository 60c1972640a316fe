//! The snapshot store's exports (`store*`): napi objects and the synchronous listing; the
//! long operations (snapshot, restore, verify) are async tasks in `tasks/store.rs`. The
//! format and the logic are in `session_resilience_core::store` (docs/store-format.md).

use napi::bindgen_prelude::*;
use napi_derive::napi;
use session_resilience_core::store::{Record, Store};

use crate::args;
use crate::error::run;

/// A snapshot's record, as `storeListSnapshots` and `storeCreateSnapshot` return it.
#[napi(object)]
pub struct StoreSnapshot {
    pub id: String,
    /// ISO 8601, UTC.
    pub time: String,
    pub label: String,
    /// The snapshot whose unchanged files were reused, or null.
    pub parent: Option<String>,
    pub files: f64,
    pub dirs: f64,
    pub symlinks: f64,
    /// Bytes of all files (logical size).
    pub bytes: f64,
    /// Chunks this snapshot added to the store, and their size on disk.
    pub new_chunks: f64,
    pub new_bytes: f64,
}

/// A napi object from a core struct with the same field names: `same` fields moved as they
/// are, `counts` (u64) as JS numbers (f64), then any other `field: value` given (`$src` is
/// the struct's binding, for those values).
macro_rules! js_object {
    ($ty:ident from $src:ident { same: [$($same:ident),*], counts: [$($count:ident),*] $(, $field:ident: $value:expr)* $(,)? }) => {
        $ty { $($field: $value,)* $($same: $src.$same,)* $($count: $src.$count as f64,)* }
    };
}
pub(crate) use js_object;

pub fn snapshot_of(r: Record) -> StoreSnapshot {
    js_object!(StoreSnapshot from r {
        same: [id, time, label, parent],
        counts: [files, dirs, symlinks, bytes, new_chunks, new_bytes],
    })
}

/// Every readable snapshot of the store folder `store`, oldest first; `[]` when there is no
/// store yet.
#[napi(catch_unwind)]
pub fn store_list_snapshots(
    env: &Env,
    #[napi(ts_arg_type = "string")] store: Unknown,
) -> Result<Vec<StoreSnapshot>> {
    let store = args::path(env, "store", store)?;
    run(env, || match Store::open(&store, false) {
        Ok(s) => Ok(s.records()?.into_iter().map(snapshot_of).collect()),
        Err(e) if e.code().as_str() == "ENOENT" => Ok(Vec::new()),
        Err(e) => Err(e),
    })
}

/// Remove snapshot `id`'s record (its chunks go at the next `storeGc`); false when absent.
#[napi(catch_unwind)]
pub fn store_remove_snapshot(
    env: &Env,
    #[napi(ts_arg_type = "string")] store: Unknown,
    id: String,
) -> Result<bool> {
    let store = args::path(env, "store", store)?;
    run(env, || Store::open(&store, false)?.remove_snapshot(&id))
}
