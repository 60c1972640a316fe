//! `backup-system log`: every snapshot with what it costs.
//!
//! Snapshots are taken in store order (oldest first, by time then id). For each one, the
//! distinct chunks it references (its tree's and its files') are split into **new** ones,
//! referenced by no earlier snapshot, and **shared** ones; their sizes are the chunk files'
//! sizes on disk (compressed), each file stat'ed once. The sum of every snapshot's new bytes
//! is what the store holds for them; deleting a snapshot frees at most its new bytes plus
//! what later snapshots did not share. `logical` is the bytes of its files before dedup and
//! compression (the record's `bytes`).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::chunk::ChunkId;
use super::Store;
use crate::error::{Code, Result};

/// One snapshot's line of the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogEntry {
    pub id: String,
    pub time: String,
    pub label: String,
    pub files: u64,
    /// Bytes of its files (before dedup and compression).
    pub logical: u64,
    /// Distinct chunks it references, and those no earlier snapshot references.
    pub chunks: u64,
    pub new_chunks: u64,
    /// On-disk bytes of its new chunks, and of the chunks it shares with earlier snapshots.
    pub new_bytes: u64,
    pub shared_bytes: u64,
    /// Chunks it references that are not in the store (counted as 0 bytes).
    pub missing_chunks: u64,
    /// Why its tree could not be read in full (the counts cover what was read).
    pub error: Option<String>,
}

/// The log of the store folder `store`; empty when there is no store.
pub fn store_log(store: &Path) -> Result<Vec<LogEntry>> {
    let store = match Store::open(store, false) {
        Ok(s) => s,
        Err(e) if e.code() == Code::Os("ENOENT") => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    // chunk -> its size on disk, for every chunk an earlier snapshot referenced
    let mut earlier: HashMap<ChunkId, u64> = HashMap::new();
    let mut out = Vec::new();
    for record in store.records()? {
        let mut line = LogEntry {
            id: record.id.clone(),
            time: record.time.clone(),
            label: record.label.clone(),
            files: record.files,
            logical: record.bytes,
            ..LogEntry::default()
        };
        let mut mine: HashSet<ChunkId> = HashSet::new();
        let mut count = |id: ChunkId, line: &mut LogEntry| -> Result<()> {
            if !mine.insert(id) {
                return Ok(());
            }
            line.chunks += 1;
            if let Some(size) = earlier.get(&id) {
                line.shared_bytes += size;
                return Ok(());
            }
            let size = store.chunks().size(&id)?;
            if size == 0 {
                line.missing_chunks += 1;
            }
            line.new_chunks += 1;
            line.new_bytes += size;
            earlier.insert(id, size);
            Ok(())
        };
        let read = store.references(&record, &mut |id| count(id, &mut line));
        if let Err(e) = read {
            line.error = Some(e.to_string());
        }
        out.push(line);
    }
    Ok(out)
}
