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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testkit::{project, snap};
    use crate::testutil::names_in;
    use std::fs;

    /// No store yet (no backup taken): an empty log, not an error; a folder that is not a
    /// store is an error.
    #[test]
    fn no_store_is_an_empty_log_and_a_damaged_one_an_error() {
        let (_tmp, root, store) = project();
        assert_eq!(store_log(&store).unwrap(), vec![]);
        fs::create_dir(&store).unwrap();
        fs::write(store.join("store.json"), "not json").unwrap();
        assert_eq!(store_log(&store).unwrap_err().code(), Code::Corrupt);
        assert_eq!(store_log(&root.join("a.txt")).unwrap(), vec![]);
    }

    /// Each line is its record's, and splits the chunks it references into those no earlier
    /// snapshot has (new) and the others (shared), each counted once however often it is named.
    #[test]
    fn each_snapshot_counts_its_new_and_shared_chunks() {
        let (_tmp, root, store) = project();
        fs::write(root.join("a.txt"), "alpha\n").unwrap();
        fs::write(root.join("same.txt"), "alpha\n").unwrap();
        fs::write(root.join("b.txt"), "beta\n").unwrap();
        snap(&root, &store, "s1");
        fs::write(root.join("b.txt"), "beta, changed\n").unwrap();
        snap(&root, &store, "s2");
        let opened = Store::open(&store, false).unwrap();
        let records = opened.records().unwrap();
        // on-disk sizes: of a file's chunk, of a snapshot's tree
        let size = |id: &ChunkId| opened.chunks().size(id).unwrap();
        let file = |bytes: &[u8]| size(&ChunkId::of(bytes));
        let tree = |r: &crate::store::Record| r.tree_ids().unwrap().iter().map(size).sum::<u64>();
        let (alpha, beta, changed) = (file(b"alpha\n"), file(b"beta\n"), file(b"beta, changed\n"));
        assert!(alpha > 0 && beta > 0 && changed > 0);
        let log = store_log(&store).unwrap();
        for (line, record) in log.iter().zip(&records) {
            assert_eq!(
                (&line.id, &line.time, &line.label, line.files, line.logical),
                (
                    &record.id,
                    &record.time,
                    &"test".to_string(),
                    3,
                    record.bytes
                ),
            );
            assert_eq!((line.missing_chunks, &line.error), (0, &None));
        }
        assert_eq!(log.len(), 2);
        let (s1, s2) = (&log[0], &log[1]);
        assert_eq!(s1.id, "s1");
        assert_eq!((s1.logical, s2.logical), (17, 26));
        // s1: alpha (named twice), beta and its tree, all new
        assert_eq!((s1.chunks, s1.new_chunks, s1.shared_bytes), (3, 3, 0));
        assert_eq!(s1.new_bytes, alpha + beta + tree(&records[0]), "{s1:?}");
        // s2: alpha shared; the changed file and its own tree new
        assert_eq!((s2.chunks, s2.new_chunks, s2.shared_bytes), (3, 2, alpha));
        assert_eq!(s2.new_bytes, changed + tree(&records[1]), "{s2:?}");
    }

    /// A chunk gone from the store counts as missing, with no bytes; a snapshot whose tree
    /// cannot be read says why on its line, and the lines after it are still written.
    #[test]
    fn a_missing_chunk_and_an_unreadable_tree_are_said_on_their_line() {
        let (_tmp, root, store) = project();
        fs::write(root.join("a.txt"), "alpha\n").unwrap();
        snap(&root, &store, "s1");
        let first_pack = names_in(&store.join("packs"));
        fs::write(root.join("b.txt"), "beta\n").unwrap();
        snap(&root, &store, "s2");
        // s1's pack (alpha and s1's tree) goes, index and pack
        for name in &first_pack {
            fs::remove_file(store.join("packs").join(name)).unwrap();
        }
        let log = store_log(&store).unwrap();
        assert_eq!(log.len(), 2);
        let (s1, s2) = (&log[0], &log[1]);
        // s1: its tree is missing (counted, no bytes), and nothing below it could be read
        assert!(s1.error.is_some(), "{s1:?}");
        assert_eq!(
            (s1.chunks, s1.new_chunks, s1.missing_chunks),
            (1, 1, 1),
            "{s1:?}"
        );
        assert_eq!(s1.new_bytes, 0, "{s1:?}");
        // s2's tree is in its own pack: alpha is missing there, beta and the tree are not
        assert_eq!(s2.error, None, "{s2:?}");
        assert_eq!(
            (s2.chunks, s2.new_chunks, s2.missing_chunks),
            (3, 3, 1),
            "{s2:?}"
        );
        assert_eq!(s2.shared_bytes, 0, "{s2:?}");
    }
}
