//! Garbage collection: remove the chunks no snapshot record references.
//!
//! Crash-safe by order: the set of referenced chunks is built from every record first, then
//! only chunks outside it are removed, one `unlink` each; a kill at any moment leaves every
//! surviving record's chunks in place (it can only leave garbage for the next run). A record
//! that cannot be read stops the collection (`ECORRUPT`): its chunks are unknown, so nothing is
//! removed rather than something it needs.
//!
//! A collection racing a snapshot being taken would see neither the new chunks' record (not
//! written yet) nor the parent chunks it reuses once their record is removed: callers hold
//! the store's lock around both (lib/backup/snapshot.js, `store-<hash>` in the lock folder).

use std::collections::HashSet;
use std::path::Path;

use super::chunk::ChunkId;
use super::Store;
use crate::error::{Error, Result};

/// What a collection removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcStats {
    pub snapshots: u64,
    /// Chunks present, and those removed with their bytes on disk.
    pub chunks: u64,
    pub removed: u64,
    pub removed_bytes: u64,
}

/// Remove every chunk of the store folder `store` that no snapshot references.
pub fn collect_garbage(store: &Path) -> Result<GcStats> {
    let store = Store::open(store, false)?;
    let mut live: HashSet<ChunkId> = HashSet::new();
    let ids = store.ids()?;
    for id in &ids {
        let record = store.record(id)?;
        store
            .references(&record, &mut |c| {
                live.insert(c);
                Ok(())
            })
            .map_err(|e| {
                Error::new(
                    e.code(),
                    format!("Garbage collection stopped, nothing removed: {e}"),
                )
            })?;
    }
    let mut stats = GcStats {
        snapshots: ids.len() as u64,
        ..GcStats::default()
    };
    for id in store.chunks().list()? {
        stats.chunks += 1;
        if live.contains(&id) {
            continue;
        }
        let size = store.chunks().size(&id)?;
        if store.chunks().remove(&id)? {
            stats.removed += 1;
            stats.removed_bytes += size;
        }
    }
    Ok(stats)
}
