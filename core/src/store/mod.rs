//! The snapshot store: `backups/store/`, a content-addressed, deduplicated and compressed
//! copy of a project at any number of instants. The on-disk format is specified in
//! docs/store-format.md (both backends read and write it); in short:
//!
//! ```text
//! store/store.json              {"format":"session-resilience-store","version":1,...}
//! store/chunks/ab/<sha256>      one codec byte + payload; immutable
//! store/snapshots/<id>.json     a snapshot's record, written last
//! ```
//!
//! - [`chunker`]: content-defined cut points (FastCDC), the same in both backends;
//! - [`chunk`]: ids (SHA-256), encoding (DEFLATE or stored), the `chunks/` folder;
//! - [`tree`]: the entries of a snapshot, one JSON line each, stored as chunks;
//! - [`snapshot`]: the records;
//! - [`write`]: taking a snapshot, reusing unchanged files of the previous one unread;
//! - [`database`]: live SQLite databases, copied only when SQLite says they changed;
//! - [`restore`]: putting a snapshot (or some of its paths) back, contained;
//! - [`verify`]: re-hashing every chunk once and naming the snapshots a bad one breaks;
//! - [`gc`]: removing the chunks no snapshot references.
//!
//! Every file and folder is created through [`Dir`] (no symlink followed anywhere, files
//! 0600, folders 0700).

pub mod chunk;
pub mod chunker;
pub mod database;
pub mod gc;
pub mod restore;
pub mod snapshot;
pub mod tree;
pub mod verify;
pub mod write;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Code, Error, Result};
use crate::fsx::beneath::Dir;
use chunk::Chunks;

pub use gc::{collect_garbage, GcStats};
pub use restore::{restore_snapshot, RestoreStats};
pub use snapshot::Record;
pub use verify::{verify_store, VerifyReport};
pub use write::{create_snapshot, SnapshotSpec, SnapshotStats};

/// The version of the on-disk format this code reads and writes.
pub const FORMAT_VERSION: u32 = 1;
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
pub struct ChunkerConfig {
    pub algorithm: String,
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
    /// Open the store folder `path` (its last component must not be a link; created, with
    /// `store.json`, when `create` is set and it is missing). `ENOENT` when there is none.
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
        let config = Path::new(CONFIG);
        match dir.read(config, 64 * 1024) {
            Ok(bytes) => check_config(path, &bytes)?,
            Err(e) if create && e.code() == Code::Os("ENOENT") => {
                let mut text = serde_json::to_vec_pretty(&Config::current())
                    .map_err(|e| Error::new(Code::Internal, e.to_string()))?;
                text.push(b'\n');
                dir.write_atomic(config, &text, true)?;
            }
            Err(e) => return Err(e),
        }
        let chunks = Chunks::new(dir.sub(Path::new("chunks"), create)?);
        let snapshots = dir.sub(Path::new("snapshots"), create)?;
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

    /// The entries of snapshot `id`'s tree, streamed.
    pub fn tree(&self, record: &Record) -> Result<tree::TreeReader<'_>> {
        Ok(tree::TreeReader::new(
            &self.chunks,
            record.tree_ids()?,
            &record.id,
            true,
        ))
    }

    /// The same, for a tree whose chunks this process has checked already (not hashed again).
    pub(crate) fn tree_checked_before(&self, record: &Record) -> Result<tree::TreeReader<'_>> {
        Ok(tree::TreeReader::new(
            &self.chunks,
            record.tree_ids()?,
            &record.id,
            false,
        ))
    }

    /// Remove snapshot `id`'s record (its chunks stay until [`collect_garbage`]).
    pub fn remove_snapshot(&self, id: &str) -> Result<bool> {
        snapshot::remove(&self.snapshots, id)
    }

    pub(crate) fn snapshots_dir(&self) -> &Dir {
        &self.snapshots
    }
}

fn check_config(path: &Path, bytes: &[u8]) -> Result<()> {
    let config: Config = serde_json::from_slice(bytes).map_err(|e| {
        Error::new(
            Code::Corrupt,
            format!("{} is not a snapshot store: {e}", path.display()),
        )
    })?;
    let current = Config::current();
    if config.format != current.format
        || config.version != current.version
        || config.hash != current.hash
    {
        return Err(Error::new(
            Code::Corrupt,
            format!(
                "{} is a {} store version {} ({}); this code reads version {FORMAT_VERSION}",
                path.display(),
                config.format,
                config.version,
                config.hash
            ),
        ));
    }
    Ok(())
}

// real folders, modes and symlinks: Unix only
#[cfg(all(test, unix))]
mod tests;
