//! Snapshot records: `snapshots/<id>.json`, written last and atomically (after every chunk
//! it names is durable), so a record that exists always names a complete snapshot.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::chunk::ChunkId;
use super::{FORMAT_VERSION, OLDEST_VERSION};
use crate::error::{Code, Error, Result};
use crate::fsx::beneath::{Dir, Kind};

/// A snapshot's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    pub version: u32,
    pub id: String,
    /// ISO 8601, UTC.
    pub time: String,
    pub label: String,
    /// The snapshot whose unchanged entries were reused, if any.
    pub parent: Option<String>,
    /// The chunks of the tree, in order: in version 2 the top level of a list of
    /// `tree_depth` levels ([`super::list`]).
    pub tree: Vec<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub tree_depth: u32,
    pub files: u64,
    pub dirs: u64,
    pub symlinks: u64,
    /// Bytes of all files (before dedup and compression).
    pub bytes: u64,
    /// Chunks this snapshot added to the store, and their bytes on disk.
    pub new_chunks: u64,
    pub new_bytes: u64,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Record {
    pub fn tree_ids(&self) -> Result<Vec<ChunkId>> {
        self.tree.iter().map(|c| ChunkId::parse(c)).collect()
    }
}

/// A snapshot id is a plain file name: 1 to 128 of `[A-Za-z0-9._-]`, not starting with `.`.
pub fn check_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            Code::BadLabel,
            format!(
                "Invalid snapshot id {id:?}: use 1 to 128 characters of A-Z, a-z, 0-9, _, - and ."
            ),
        ))
    }
}

fn file_name(id: &str) -> String {
    format!("{id}.json")
}

/// Records are small; a larger file is not one of ours.
const MAX_RECORD: u64 = 1024 * 1024;

/// Write a record (durably; refuses to replace an existing snapshot).
pub fn write(dir: &Dir, record: &Record) -> Result<()> {
    check_id(&record.id)?;
    let name = file_name(&record.id);
    if dir.stat(Path::new(&name))?.is_some() {
        return Err(Error::new(
            Code::Os("EEXIST"),
            format!("Snapshot {} already exists", record.id),
        ));
    }
    let mut text = serde_json::to_vec_pretty(record)
        .map_err(|e| Error::new(Code::Internal, format!("Cannot serialize snapshot: {e}")))?;
    text.push(b'\n');
    dir.write_atomic(Path::new(&name), &text, true)
}

/// Read the record of `id` (`ENOENT` when there is none, `ECORRUPT` when damaged).
pub fn read(dir: &Dir, id: &str) -> Result<Record> {
    check_id(id)?;
    let bytes = dir
        .read(Path::new(&file_name(id)), MAX_RECORD)
        .map_err(|e| {
            if e.code() == Code::Os("ENOENT") {
                Error::new(Code::Os("ENOENT"), format!("No snapshot {id} in the store"))
            } else {
                e
            }
        })?;
    let record: Record = serde_json::from_slice(&bytes).map_err(|e| {
        Error::new(
            Code::Corrupt,
            format!("The record of snapshot {id} is damaged: {e}"),
        )
    })?;
    let known = (OLDEST_VERSION..=FORMAT_VERSION).contains(&record.version);
    // a version 1 record has no lists: a depth there is damage, not something to follow
    if !known || record.id != id || (record.version == 1 && record.tree_depth > 0) {
        return Err(Error::new(
            Code::Corrupt,
            format!(
                "The record of snapshot {id} is not a version {OLDEST_VERSION} to {FORMAT_VERSION} record of that id"
            ),
        ));
    }
    Ok(record)
}

/// The ids of every snapshot (temp files and other names are left out), oldest name first.
pub fn ids(dir: &Dir) -> Result<Vec<String>> {
    let mut out: Vec<String> = dir
        .list(Path::new(""))?
        .into_iter()
        .filter(|(_, kind)| *kind == Kind::File)
        .filter_map(|(name, _)| name.to_str()?.strip_suffix(".json").map(str::to_string))
        .filter(|id| check_id(id).is_ok())
        .collect();
    out.sort();
    Ok(out)
}

/// Remove a snapshot's record (its chunks stay until garbage collection).
pub fn remove(dir: &Dir, id: &str) -> Result<bool> {
    check_id(id)?;
    dir.unlink_here(std::ffi::OsStr::new(&file_name(id)))
}
