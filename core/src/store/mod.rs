//! The snapshot store: `backups/store/`, a content-addressed, deduplicated and compressed
//! copy of a project at any number of instants. The on-disk format is specified in
//! docs/store-format.md (both backends read and write it); in short:
//!
//! ```text
//! store/store.json              {"format":"session-resilience-store","version":4,...}
//! store/packs/<name>.pack       encoded chunks (codec byte + payload each), concatenated
//! store/packs/<name>.idx        where each chunk of the pack is, and the pack's digest;
//!                               written once the pack is durable
//! store/chunks/ab/<sha256>      a loose chunk (versions 1-2: read, never written)
//! store/snapshots/<id>.json     a snapshot's record, written last
//! ```
//!
//! Version 4 (this code's) records in each pack's index the digest of the whole pack, so
//! verify hashes a pack once instead of each chunk in it; version 3 writes chunks into packs
//! ([`pack`]); version 2 cut trees between
//! entries and kept long chunk lists in chunks of their own ([`tree`], [`list`]). Version 1
//! and 2 stores are read as they are (loose chunks included), and the first snapshot
//! written into one turns its `store.json` to version 4.
//!
//! - [`chunker`]: content-defined cut points (FastCDC), the same in both backends;
//! - [`chunk`]: ids (SHA-256), encoding (DEFLATE or stored);
//! - [`pack`], [`chunks`]: pack files and their indexes; the chunks a store holds, where;
//! - [`tree`]: the entries of a snapshot, one JSON line each, stored as chunks;
//! - [`list`]: long lists of chunk ids, stored as chunks;
//! - [`snapshot`]: the records;
//! - [`write`]: taking a snapshot, reusing unchanged files of the previous one unread;
//! - [`database`]: live SQLite databases, copied only when SQLite says they changed;
//! - [`restore`]: putting a snapshot (or some of its paths) back, contained;
//! - [`verify`]: re-hashing every chunk once and naming the snapshots a bad one breaks;
//! - [`gc`]: removing the chunks no snapshot references;
//! - [`diff`], [`log`]: what changed between snapshots (or since one), what each one costs.
//!
//! Every file and folder is created through [`Dir`] (no symlink followed anywhere, files
//! 0600, folders 0700).

pub mod chunk;
pub mod chunker;
pub mod chunks;
pub mod database;
pub mod diff;
pub mod gc;
pub mod list;
pub mod log;
pub mod pack;
pub mod restore;
pub mod snapshot;
pub mod tree;
pub mod verify;
pub mod write;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Code, Error, Result};
use crate::fsx::beneath::Dir;
use chunk::{ChunkId, Chunks};

pub use diff::{diff, DiffReport, DiffSpec};
pub use gc::{collect_garbage, GcStats};
pub use log::{store_log, LogEntry};
pub use restore::{restore_snapshot, RestoreStats};
pub use snapshot::Record;
pub use verify::{verify_store, verify_store_with, VerifyOptions, VerifyReport};
pub use write::{create_snapshot, SnapshotSpec, SnapshotStats};

/// The version of the on-disk format this code writes (and the newest it reads).
pub const FORMAT_VERSION: u32 = 4;
/// The oldest version this code reads.
pub const OLDEST_VERSION: u32 = 1;
const FORMAT_NAME: &str = "session-resilience-store";
const CONFIG: &str = "store.json";

/// `store.json`: what a reader must check before trusting anything else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    pub format: String,
    pub version: u32,
    pub hash: String,
    pub chunker: ChunkerConfig,
    pub codecs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChunkerConfig {
    pub algorithm: String,
    pub min: usize,
    pub avg: usize,
    pub max: usize,
    /// Version 2: streams shorter than `below` are cut with these sizes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub small: Option<SmallConfig>,
    /// Version 2: a SQLite database is cut every `max(sqliteGroup, page size)` bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sqlite_group: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmallConfig {
    pub below: usize,
    pub min: usize,
    pub avg: usize,
    pub max: usize,
}

impl Config {
    fn current() -> Config {
        Config {
            format: FORMAT_NAME.into(),
            version: FORMAT_VERSION,
            hash: "sha256".into(),
            chunker: ChunkerConfig {
                algorithm: "fastcdc-ronomon".into(),
                min: chunker::MIN,
                avg: chunker::AVG,
                max: chunker::MAX,
                small: Some(SmallConfig {
                    below: chunker::SMALL_BELOW,
                    min: chunker::SMALL.min,
                    avg: chunker::SMALL.avg,
                    max: chunker::SMALL.max,
                }),
                sqlite_group: Some(chunker::DB_GROUP),
            },
            codecs: vec!["stored".into(), "deflate-raw".into()],
        }
    }
}

/// An open store.
pub struct Store {
    dir: Dir,
    chunks: Chunks,
    snapshots: Dir,
}

impl Store {
    /// Open the store folder `path` (its last component must not be a link). With `create`
    /// (to write a snapshot): created, with `store.json`, when missing, and an older
    /// store's `store.json` turned to this version (its records and loose chunks stay
    /// readable as they are).
    /// `ENOENT` when there is none.
    pub fn open(path: &Path, create: bool) -> Result<Store> {
        let (parent, name) = match (path.parent(), path.file_name()) {
            (Some(parent), Some(name)) => (parent, name),
            _ => {
                return Err(Error::new(
                    Code::BadPath,
                    format!("{} cannot be a store folder", path.display()),
                ))
            }
        };
        let dir = Dir::open(parent)?.sub(Path::new(name), create)?;
        // a writer keeps the store owner-only, also a folder that was there before (made by
        // hand, or by an older version), as the backups folder is kept (fsx/dirs.rs)
        let private = |dir: Dir| -> Result<Dir> {
            if create {
                dir.ensure_private()?;
            }
            Ok(dir)
        };
        let dir = private(dir)?;
        let config = Path::new(CONFIG);
        let version = match dir.read(config, 64 * 1024) {
            Ok(bytes) => check_config(path, &bytes)?,
            Err(e) if create && e.code() == Code::Os("ENOENT") => 0,
            Err(e) => return Err(e),
        };
        if create && version < FORMAT_VERSION {
            // before any chunk or record of the new version: a reader of the old version
            // then refuses the store rather than misread a record
            let mut text = serde_json::to_vec_pretty(&Config::current())
                .map_err(|e| Error::new(Code::Internal, e.to_string()))?;
            text.push(b'\n');
            dir.write_atomic(config, &text, true)?;
        }
        // `chunks/` only in stores written by versions 1-2, `packs/` created by the first
        // writer of version 3: either may be missing
        let optional = |name: &str, create: bool| match dir.sub(Path::new(name), create) {
            Ok(sub) => Ok(Some(sub)),
            Err(e) if e.code() == Code::Os("ENOENT") => Ok(None),
            Err(e) => Err(e),
        };
        let packs = optional("packs", create)?.map(private).transpose()?;
        let chunks = Chunks::new(optional("chunks", false)?, packs);
        let snapshots = private(dir.sub(Path::new("snapshots"), create)?)?;
        Ok(Store {
            dir,
            chunks,
            snapshots,
        })
    }

    pub fn chunks(&self) -> &Chunks {
        &self.chunks
    }

    pub fn dir(&self) -> &Dir {
        &self.dir
    }

    /// The record of snapshot `id`.
    pub fn record(&self, id: &str) -> Result<Record> {
        snapshot::read(&self.snapshots, id)
    }

    /// Every snapshot's record, oldest first (by time, then id); damaged ones are skipped
    /// here and reported by [`verify_store`].
    pub fn records(&self) -> Result<Vec<Record>> {
        let mut out: Vec<Record> = snapshot::ids(&self.snapshots)?
            .iter()
            .filter_map(|id| self.record(id).ok())
            .collect();
        out.sort_by(|a, b| (&a.time, &a.id).cmp(&(&b.time, &b.id)));
        Ok(out)
    }

    /// Every snapshot id with a record file, damaged or not.
    pub fn ids(&self) -> Result<Vec<String>> {
        snapshot::ids(&self.snapshots)
    }

    /// The entries of snapshot `id`'s tree, streamed (every tree and list chunk hashed).
    pub fn tree(&self, record: &Record) -> Result<tree::TreeReader<'_>> {
        self.tree_with(record, tree::fetch_from(&self.chunks, true))
    }

    /// The same, for a tree whose chunks this process has checked already (not hashed again).
    pub(crate) fn tree_checked_before(&self, record: &Record) -> Result<tree::TreeReader<'_>> {
        self.tree_with(record, tree::fetch_from(&self.chunks, false))
    }

    /// The same, every tree and list chunk read through `fetch`.
    pub fn tree_with<'a>(
        &'a self,
        record: &Record,
        fetch: tree::Fetch<'a>,
    ) -> Result<tree::TreeReader<'a>> {
        tree::TreeReader::new(fetch, record.tree_ids()?, record.tree_depth, &record.id)
    }

    /// Every chunk snapshot `record` references, each handed to `each` (a chunk may come
    /// more than once): the top of its tree's list (as the record names it), its tree's and
    /// lists' chunks (read and hashed on the way) and its files' chunks. When the tree cannot
    /// be read whole, what was reached (the chunk that failed included) is still handed over
    /// before the error. The one enumeration garbage collection and the log rely on, so a
    /// chunk of a new kind of structure cannot be missed by one of them.
    pub fn references(
        &self,
        record: &Record,
        each: &mut dyn FnMut(ChunkId) -> Result<()>,
    ) -> Result<()> {
        record.tree_ids()?.into_iter().try_for_each(&mut *each)?;
        let structure = std::cell::RefCell::new(Vec::new());
        let fetch: tree::Fetch<'_> = Box::new(|id, _| {
            structure.borrow_mut().push(*id);
            self.chunks.get(id).map(Some)
        });
        let walked = self.tree_with(record, fetch).and_then(|entries| {
            for entry in entries {
                entry?.chunk_ids()?.into_iter().try_for_each(&mut *each)?;
            }
            Ok(())
        });
        structure
            .into_inner()
            .into_iter()
            .try_for_each(&mut *each)?;
        walked
    }

    /// Remove snapshot `id`'s record (its chunks stay until [`collect_garbage`]).
    pub fn remove_snapshot(&self, id: &str) -> Result<bool> {
        snapshot::remove(&self.snapshots, id)
    }

    pub(crate) fn snapshots_dir(&self) -> &Dir {
        &self.snapshots
    }
}

/// The version of a `store.json` this code reads (`ECORRUPT` for anything else).
fn check_config(path: &Path, bytes: &[u8]) -> Result<u32> {
    let config: Config = serde_json::from_slice(bytes).map_err(|e| {
        Error::new(
            Code::Corrupt,
            format!("{} is not a snapshot store: {e}", path.display()),
        )
    })?;
    let current = Config::current();
    if config.format != current.format
        || !(OLDEST_VERSION..=FORMAT_VERSION).contains(&config.version)
        || config.hash != current.hash
    {
        return Err(Error::new(
            Code::Corrupt,
            format!(
                "{} is a {} store version {} ({}); this code reads versions {OLDEST_VERSION} to {FORMAT_VERSION}",
                path.display(),
                config.format,
                config.version,
                config.hash
            ),
        ));
    }
    Ok(config.version)
}

// real folders, modes and symlinks: Unix only
#[cfg(test)]
mod testkit;
#[cfg(all(test, unix))]
mod tests;
