//! The fast walk of a verify: every snapshot's tree read on one thread while the packs are
//! hashed on the others, each distinct piece of it parsed once.
//!
//! A hundred checkpoints share almost all their trees: in format version 2 a tree is cut
//! between lines into runs, and a run whose lines did not change is the same chunk in the next
//! snapshot. A run this walk read whole (starting and ending on a line boundary) references
//! exactly the chunks it did then, so when a later tree holds it at a line boundary it is
//! skipped unread; a changed run holds mostly unchanged lines, and a line seen before (the
//! same bytes) references the same chunks, so it is not parsed again; a file list chunk
//! expanded before (with the same levels below it) adds no id. Version 1 trees (cut anywhere)
//! are read the same way: their chunks rarely hold whole lines, and their lines are skipped
//! when seen before.
//!
//! What this walk reads is not judged as it reads it: each tree and list chunk is taken
//! unhashed, and judged afterwards ([`judge`]): good when its pack matched its digest, else
//! read and hashed alone. Attribution stays exact because this walk is only trusted whole:
//! any record it cannot read, chunk it cannot read, line it cannot parse, or tree or list
//! chunk judged bad afterwards sends the verify to the exact walk (`super::exact`), which
//! judges each chunk before it reads it and names every snapshot each bad chunk breaks.

use std::collections::HashSet;

use super::{in_good_pack, reason, threads, Found, GoodPacks, Verdict, Walk};
use crate::error::{Code, Error, Result};
use crate::store::chunk::{Checker, ChunkId, Chunks, IdHash, IdMap, IdSet};
use crate::store::list;
use crate::store::snapshot::Record;
use crate::store::tree::{check_path, Entry, MAX_TREE_CHUNKS};
use crate::store::Store;

/// Bytes of the trees' list chunks kept in memory: each snapshot's list of runs is resolved
/// again, through list chunks most snapshots share.
const LIST_CACHE: usize = 16 * 1024 * 1024;

/// What the walk found: every record (in the order of the ids), the tree and list chunks it
/// read (not judged yet), and every file chunk referenced (each once).
pub(super) struct Walked {
    records: Vec<Record>,
    trees: IdSet,
    files: IdSet,
}

/// Walk the trees of `ids`; `None` when anything is wrong (the exact walk then names it).
pub(super) fn walk(store: &Store, ids: &[String]) -> Option<Walked> {
    let mut walker = Walker::new(store.chunks());
    let mut records = Vec::with_capacity(ids.len());
    for id in ids {
        // the tests' way to make a thread fail mid-walk (never compiled into the addon)
        #[cfg(test)]
        if id.starts_with("test-panic-") {
            panic!("test panic in the walk of {id}");
        }
        let record = store.record(id).ok()?;
        walker.snapshot(&record).ok()?;
        records.push(record);
    }
    Some(Walked {
        records,
        trees: walker.trees,
        files: walker.files,
    })
}

/// The verdicts on what `walked` found, once the packs are hashed (`good`: those that
/// matched): `None` when a tree or list chunk the walk read is bad (what it read from that
/// chunk cannot be trusted).
pub(super) fn judge(store: &Store, walked: Walked, good: &GoodPacks) -> Result<Option<Found>> {
    let chunks = store.chunks();
    let (trees, trees_alone) = judge_all(chunks, good, walked.trees)?;
    if trees.iter().any(|(_, verdict)| verdict.is_err()) {
        return Ok(None);
    }
    let (files, files_alone) = judge_all(chunks, good, walked.files)?;
    let walks = walked
        .records
        .into_iter()
        .map(|record| Walk {
            outcome: Ok(record),
            bad_tree: Vec::new(),
        })
        .collect();
    Ok(Some(Found {
        walks,
        trees,
        files,
        hashed: trees_alone + files_alone,
    }))
}

/// The verdict on each chunk of `ids`, a thread per core taking a share of them, and how many
/// were read and hashed alone (those outside a pack of `good`).
fn judge_all(
    chunks: &Chunks,
    good: &GoodPacks,
    ids: IdSet,
) -> Result<(Vec<(ChunkId, Verdict)>, u64)> {
    let ids: Vec<ChunkId> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let share = ids.len().div_ceil(threads());
    let joined: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = ids
            .chunks(share)
            .map(|part| scope.spawn(move || judge_share(chunks, good, part)))
            .collect();
        handles.into_iter().map(|h| h.join()).collect()
    });
    let mut out = Vec::with_capacity(ids.len());
    let mut alone = 0;
    for part in joined {
        let (verdicts, n) = part.map_err(super::thread_failed)??;
        out.extend(verdicts);
        alone += n;
    }
    Ok((out, alone))
}

/// [`judge_all`] of one share: a chunk in a pack of `good` is good as stored; the others are
/// read, inflated and hashed, in the order they lie on disk.
fn judge_share(
    chunks: &Chunks,
    good: &GoodPacks,
    part: &[ChunkId],
) -> Result<(Vec<(ChunkId, Verdict)>, u64)> {
    let mut out = Vec::with_capacity(part.len());
    let mut alone = Vec::new();
    for c in part {
        match in_good_pack(chunks, good, c) {
            Some(stored) => out.push((*c, Ok(stored))),
            None => alone.push(*c),
        }
    }
    if !alone.is_empty() {
        chunks.sort_by_place(&mut alone)?;
        let mut checker = Checker::default();
        out.extend(
            alone
                .iter()
                .map(|c| (*c, checker.check(chunks, c).map_err(reason))),
        );
    }
    Ok((out, alone.len() as u64))
}

struct Walker<'s> {
    chunks: &'s Chunks,
    checker: Checker,
    /// Tree and list chunks read.
    trees: IdSet,
    /// File chunks referenced.
    files: IdSet,
    /// Text chunks read whole from a line boundary to a line end: skipped when met again at
    /// a line boundary.
    runs: IdSet,
    /// Lines parsed (their bytes): skipped when met again.
    lines: HashSet<Box<[u8]>>,
    /// File list chunks expanded, with the levels below them.
    expanded: HashSet<(ChunkId, u32), IdHash>,
    /// The trees' list chunks read, and their bytes (at most [`LIST_CACHE`]).
    lists: IdMap<Vec<u8>>,
    listed: usize,
}

impl<'s> Walker<'s> {
    fn new(chunks: &'s Chunks) -> Self {
        Walker {
            chunks,
            checker: Checker::default(),
            trees: IdSet::default(),
            files: IdSet::default(),
            runs: IdSet::default(),
            lines: HashSet::new(),
            expanded: HashSet::default(),
            lists: IdMap::default(),
            listed: 0,
        }
    }

    /// The record's tree: its list of text chunks resolved, each text chunk not skipped read
    /// and its lines taken one by one (a line may span chunks).
    fn snapshot(&mut self, record: &Record) -> Result<()> {
        let top = record.tree_ids()?;
        let text = list::resolve(top, record.tree_depth, MAX_TREE_CHUNKS, &mut |c, _| {
            self.tree_list(c).map(Some)
        })?;
        // the bytes of a line not ended yet (empty: at a line boundary)
        let mut carry: Vec<u8> = Vec::new();
        for c in text {
            if carry.is_empty() && self.runs.contains(&c) {
                continue;
            }
            let from = carry.len();
            carry.extend_from_slice(self.checker.read(self.chunks, &c, false)?);
            self.trees.insert(c);
            if from == 0 && carry.ends_with(b"\n") {
                self.runs.insert(c);
            }
            let Some(end) = carry[from..].iter().rposition(|&b| b == b'\n') else {
                continue;
            };
            let end = from + end;
            for line in carry[..end].split(|&b| b == b'\n') {
                self.line(line)?;
            }
            carry.drain(..=end);
        }
        if !carry.is_empty() {
            // a last line without its newline, as the tree reader takes it
            self.line(&carry)?;
        }
        Ok(())
    }

    /// One tree line (without its newline), parsed as the tree reader parses it, its chunks
    /// noted; a line seen before is not parsed again.
    fn line(&mut self, line: &[u8]) -> Result<()> {
        if self.lines.contains(line) {
            return Ok(());
        }
        let damaged = |why: &dyn std::fmt::Display| {
            Error::new(Code::Corrupt, format!("A tree line is damaged: {why}"))
        };
        let text = std::str::from_utf8(line).map_err(|e| damaged(&e))?;
        let entry: Entry = serde_json::from_str(text).map_err(|e| damaged(&e))?;
        check_path(&entry.path)?;
        let top = entry.chunk_ids()?;
        let ids = match entry.depth {
            0 => top,
            depth => list::resolve(top, depth, entry.size, &mut |c, below| {
                self.file_list(c, below)
            })?,
        };
        self.files.extend(ids);
        self.lines.insert(line.into());
        Ok(())
    }

    /// A list chunk of a tree's list of runs: read once, then kept (each snapshot resolves
    /// its list again).
    fn tree_list(&mut self, c: &ChunkId) -> Result<Vec<u8>> {
        if let Some(data) = self.lists.get(c) {
            return Ok(data.clone());
        }
        let data = self.checker.read(self.chunks, c, false)?.to_vec();
        self.trees.insert(*c);
        if self.listed + data.len() <= LIST_CACHE {
            self.listed += data.len();
            self.lists.insert(*c, data.clone());
        }
        Ok(data)
    }

    /// A list chunk of a file's chunk list with `below` levels under it: `None` when expanded
    /// before (its data chunks are noted already).
    fn file_list(&mut self, c: &ChunkId, below: u32) -> Result<Option<Vec<u8>>> {
        if !self.expanded.insert((*c, below)) {
            return Ok(None);
        }
        let data = self.checker.read(self.chunks, c, false)?.to_vec();
        self.trees.insert(*c);
        Ok(Some(data))
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testkit::{project, snap};
    use crate::testutil::noise;
    use std::fs;

    /// A project whose tree needs a list of runs (1,000 entries) and whose large file needs a
    /// list of chunks (~90 chunks), snapshotted twice with one file changed in between.
    fn two_snapshots_with_lists() -> (tempfile::TempDir, std::path::PathBuf) {
        let (tmp, root, store) = project();
        for d in 0..20 {
            fs::create_dir_all(root.join(format!("many/d{d}"))).unwrap();
            for f in 0..50 {
                fs::write(
                    root.join(format!("many/d{d}/f{f}.txt")),
                    format!("{d} {f}\n"),
                )
                .unwrap();
            }
        }
        fs::write(
            root.join("large.bin"),
            noise(0x9e37_79b9_7f4a_7c15, 6_000_000),
        )
        .unwrap();
        snap(&root, &store, "s1");
        fs::write(root.join("many/d7/f3.txt"), "changed\n").unwrap();
        snap(&root, &store, "s2");
        (tmp, store)
    }

    /// The fast walk notes exactly the chunks the store's own enumeration says the snapshots
    /// reference (tree runs and lists apart from file chunks), and judges them all good.
    #[test]
    fn the_walk_notes_every_chunk_the_snapshots_reference_and_judges_them() {
        let (_tmp, dir) = two_snapshots_with_lists();
        let store = Store::open(&dir, false).unwrap();
        let ids = store.ids().unwrap();
        let mut referenced = IdSet::default();
        for id in &ids {
            let record = store.record(id).unwrap();
            assert!(record.tree_depth > 0, "{id}: a tree with a list of runs");
            store
                .references(&record, &mut |c| {
                    referenced.insert(c);
                    Ok(())
                })
                .unwrap();
        }
        let walked = walk(&store, &ids).expect("a sound store is walked whole");
        assert_eq!(walked.records.len(), 2);
        assert!(walked.trees.is_disjoint(&walked.files));
        assert!(walked.files.len() > list::INLINE, "the large file's chunks");
        let noted: IdSet = walked.trees.union(&walked.files).copied().collect();
        assert_eq!(noted, referenced);
        let (files, trees) = (walked.files.len(), walked.trees.len());
        let packs = super::super::hash_packs(store.chunks(), 1).unwrap();
        let found = judge(&store, walked, &packs.good)
            .unwrap()
            .expect("no tree chunk is bad");
        assert_eq!((found.trees.len(), found.files.len()), (trees, files));
        assert!(found
            .trees
            .iter()
            .chain(&found.files)
            .all(|(_, v)| v.is_ok()));
        assert_eq!(found.hashed, 0, "every chunk is in a pack that matched");
        // with no pack known good, every chunk is read and hashed alone, and still good
        let walked = walk(&store, &ids).unwrap();
        let found = judge(&store, walked, &GoodPacks::default())
            .unwrap()
            .unwrap();
        assert_eq!(found.hashed as usize, trees + files);
    }
}
