//! Verifying a store: every chunk that any snapshot references is read and re-hashed once,
//! however many snapshots share it, and each bad chunk (missing, damaged) is reported with
//! the snapshots it breaks. A snapshot whose record or tree cannot be read is broken too.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::chunk::{ChunkId, Chunks};
use super::snapshot::Record;
use super::tree::{Fetch, Role};
use super::Store;
use crate::error::Result;

/// A chunk that failed, and the snapshots that reference it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadChunk {
    pub id: String,
    /// "missing" or the damage found.
    pub reason: String,
    pub snapshots: Vec<String>,
}

/// The result of [`verify_store`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    pub snapshots: u64,
    /// Distinct chunks checked, and their plain bytes.
    pub chunks: u64,
    pub bytes: u64,
    pub bad_chunks: Vec<BadChunk>,
    /// Snapshots that cannot be restored whole, with the first reason.
    pub broken: BTreeMap<String, String>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.broken.is_empty() && self.bad_chunks.is_empty()
    }
}

/// Verify the store folder `store` (every snapshot, or only `only` when given).
///
/// Three passes: (1) each snapshot's record and tree (tree chunks hashed the first time one
/// is read, then read unhashed), listing every distinct file chunk; (2) those chunks read and
/// hashed once each, on every core; (3) only when some are bad, the trees walked again to
/// name the snapshots each bad chunk breaks.
pub fn verify_store(store: &Path, only: Option<&[String]>) -> Result<VerifyReport> {
    let store = Store::open(store, false)?;
    let ids = match only {
        Some(ids) => ids.to_vec(),
        None => store.ids()?,
    };
    let mut report = VerifyReport::default();
    let mut trees = TreeChunks::default();
    let mut files = Distinct::default();
    let mut readable = Vec::new();
    for id in &ids {
        report.snapshots += 1;
        match trees.walk(&store, id, |c| files.add(c)) {
            Ok(record) => readable.push(record),
            Err(why) => {
                report.broken.insert(id.clone(), why);
            }
        }
    }
    // a file chunk that is also a tree chunk (the same bytes) was checked in pass 1
    files.list.retain(|c| !trees.verdicts.contains_key(c));
    let checked = check_all(store.chunks(), &files.list);
    let mut bad: BTreeMap<ChunkId, (String, Vec<String>)> = BTreeMap::new();
    let all = trees
        .verdicts
        .iter()
        .chain(checked.iter().map(|(c, v)| (c, v)));
    for (c, verdict) in all {
        match verdict {
            Ok(bytes) => {
                report.chunks += 1;
                report.bytes += *bytes;
            }
            Err(why) => {
                bad.insert(*c, (why.clone(), Vec::new()));
            }
        }
    }
    for (c, users) in &trees.users {
        if let Some((_, list)) = bad.get_mut(c) {
            list.clone_from(users);
        }
    }
    if bad.values().any(|(_, users)| users.is_empty()) {
        attribute(&store, &readable, &mut bad, &mut report.broken)?;
    }
    report.bad_chunks = bad
        .into_iter()
        .map(|(id, (reason, snapshots))| BadChunk {
            id: id.hex(),
            reason,
            snapshots,
        })
        .collect();
    Ok(report)
}

/// Chunk ids in first-seen order, each once.
#[derive(Default)]
struct Distinct {
    seen: HashSet<ChunkId>,
    list: Vec<ChunkId>,
}

impl Distinct {
    fn add(&mut self, id: ChunkId) {
        if self.seen.insert(id) {
            self.list.push(id);
        }
    }
}

/// Pass 1's state: the verdict on each tree chunk, and the snapshots that use a bad one.
#[derive(Default)]
struct TreeChunks {
    verdicts: HashMap<ChunkId, std::result::Result<u64, String>>,
    users: HashMap<ChunkId, Vec<String>>,
    /// File list chunks expanded whole (with the levels below them): their data chunks are
    /// collected already, so a later snapshot that shares one does not read it again.
    expanded: HashSet<(ChunkId, u32)>,
    /// Once any snapshot's tree failed, nothing is skipped (a shared list above a bad one
    /// must make every snapshot that uses it broken).
    failed: bool,
    /// Good tree chunks kept in memory (up to [`TREE_CACHE`] bytes): snapshots share most of
    /// their tree runs, read once each then.
    cache: HashMap<ChunkId, Vec<u8>>,
    cached: usize,
}

/// Bytes of tree chunks [`TreeChunks`] keeps.
const TREE_CACHE: usize = 32 * 1024 * 1024;

impl TreeChunks {
    /// Snapshot `id`'s record and tree, each file chunk handed to `file_chunk`; the record,
    /// or why the snapshot cannot be restored. Tree and list chunks (format version 2) are
    /// judged here, through the fetch [`Store::tree_with`] reads them with.
    fn walk(
        &mut self,
        store: &Store,
        id: &str,
        mut file_chunk: impl FnMut(ChunkId),
    ) -> std::result::Result<Record, String> {
        let record = store.record(id).map_err(|e| e.to_string())?;
        let walked = self.walk_tree(store, &record, &mut file_chunk);
        self.failed |= walked.is_err();
        walked.map(|()| record)
    }

    fn walk_tree(
        &mut self,
        store: &Store,
        record: &Record,
        file_chunk: &mut impl FnMut(ChunkId),
    ) -> std::result::Result<(), String> {
        let (verdicts, users, expanded) = (&mut self.verdicts, &mut self.users, &mut self.expanded);
        let (cache, cached) = (&mut self.cache, &mut self.cached);
        let skip = !self.failed;
        let mut pending = Vec::new();
        let fetch: Fetch<'_> = Box::new(|c: &ChunkId, role: Role| {
            if let Role::FileList(below) = role {
                if skip && expanded.contains(&(*c, below)) {
                    return Ok(None);
                }
                pending.push((*c, below));
            }
            if let Some(data) = cache.get(c) {
                return Ok(Some(data.clone()));
            }
            let data = match verdicts.get(c) {
                Some(Ok(_)) => Some(store.chunks().get_checked_before(c)?),
                Some(Err(_)) => None,
                None => read_and_judge(store.chunks(), c, verdicts),
            };
            if let (Some(data), Role::Tree) = (&data, role) {
                if *cached + data.len() <= TREE_CACHE {
                    *cached += data.len();
                    cache.insert(*c, data.clone());
                }
            }
            data.map(Some).ok_or_else(|| {
                users.entry(*c).or_default().push(record.id.clone());
                let why = format!("a chunk of its tree ({}) is bad", c.hex());
                crate::Error::new(crate::Code::Corrupt, why)
            })
        });
        for entry in store.tree_with(record, fetch).map_err(|e| e.to_string())? {
            let entry = entry.map_err(|e| e.to_string())?;
            entry
                .chunk_ids()
                .map_err(|e| e.to_string())?
                .into_iter()
                .for_each(&mut *file_chunk);
        }
        // the whole tree read: every list expanded on the way was expanded whole
        self.expanded.extend(pending);
        Ok(())
    }
}

/// A tree or list chunk read and hashed the first time: its verdict kept, its bytes if good.
fn read_and_judge(
    chunks: &Chunks,
    id: &ChunkId,
    verdicts: &mut HashMap<ChunkId, std::result::Result<u64, String>>,
) -> Option<Vec<u8>> {
    match chunks.get(id) {
        Ok(data) => {
            verdicts.insert(*id, Ok(data.len() as u64));
            Some(data)
        }
        Err(e) => {
            let why = match e.code() == crate::Code::Os("ENOENT") {
                true => "missing".into(),
                false => e.to_string(),
            };
            verdicts.insert(*id, Err(why));
            None
        }
    }
}

/// A chunk read and hashed: its plain size, or why it is bad.
fn verdict(chunks: &Chunks, id: &ChunkId) -> std::result::Result<u64, String> {
    match chunks.get(id) {
        Ok(data) => Ok(data.len() as u64),
        Err(e) if e.code() == crate::Code::Os("ENOENT") => Err("missing".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// Every chunk of `ids` read and hashed once, on every core.
fn check_all(chunks: &Chunks, ids: &[ChunkId]) -> Vec<(ChunkId, std::result::Result<u64, String>)> {
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(8));
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(id) = ids.get(i) else { return out };
                        out.push((*id, verdict(chunks, id)));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// Pass 3: the snapshots each bad file chunk breaks (each snapshot's first bad entry named).
fn attribute(
    store: &Store,
    records: &[Record],
    bad: &mut BTreeMap<ChunkId, (String, Vec<String>)>,
    broken: &mut BTreeMap<String, String>,
) -> Result<()> {
    for record in records {
        for entry in store.tree_checked_before(record)? {
            let entry = entry?;
            for c in entry.chunk_ids()? {
                let Some((_, users)) = bad.get_mut(&c) else {
                    continue;
                };
                if users.last() != Some(&record.id) {
                    users.push(record.id.clone());
                }
                broken
                    .entry(record.id.clone())
                    .or_insert_with(|| format!("{}: chunk {} is bad", entry.path, c.hex()));
            }
        }
    }
    Ok(())
}
