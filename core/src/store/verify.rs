//! Verifying a store: every chunk that any snapshot references is checked once, however many
//! snapshots share it, and each bad chunk (missing, damaged) is reported with the snapshots it
//! breaks. A snapshot whose record or tree cannot be read is broken too.
//!
//! A chunk is checked by its pack or alone. First every pack whose index records a digest of
//! the whole file (format version 4) is hashed whole, once, the way `b3sum` hashes a file:
//! a pack that matches holds every chunk as its writer stored it (the writer derived each id
//! from the plain bytes before compressing them), so its chunks need no inflate and no
//! SHA-256. A chunk anywhere else (a pack that does not match, a version 3 pack without a
//! digest, a digest this code cannot compute, a loose chunk file) is read, inflated and
//! hashed against its id, as every chunk is with [`VerifyOptions::deep`]: damage is then
//! named chunk by chunk and snapshot by snapshot whatever the pack digests say.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};

use super::chunk::{Checker, ChunkId, Chunks, IdHash, IdMap, IdSet};
use super::chunks::Loc;
use super::list;
use super::pack;
use super::snapshot::Record;
use super::tree::{Fetch, Role, TreeReader, MAX_TREE_CHUNKS};
use super::Store;
use crate::error::Result;

mod walk;

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
    /// Distinct chunks checked (good), and their stored bytes (as they lie in packs and files).
    pub chunks: u64,
    pub bytes: u64,
    /// Of those, the chunks read, inflated and hashed one by one (the others were checked by
    /// their pack's digest).
    pub chunks_hashed: u64,
    /// Packs hashed whole whose digest matched their index.
    pub packs: u64,
    /// Packs whose digest did not match their index: their chunks were checked one by one
    /// (damage in bytes no chunk needs, a dead chunk's, leaves every snapshot whole).
    pub packs_mismatched: Vec<String>,
    pub bad_chunks: Vec<BadChunk>,
    /// Snapshots that cannot be restored whole, with the first reason.
    pub broken: BTreeMap<String, String>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.broken.is_empty() && self.bad_chunks.is_empty()
    }
}

/// A chunk's stored size, or why it is bad.
type Verdict = std::result::Result<u64, String>;

/// How [`verify_store_with`] checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Re-derive every chunk's id from its plain bytes (inflate and SHA-256), pack digests not
    /// used: what a store whose packs were written by a faulty writer needs.
    pub deep: bool,
}

/// Verify the store folder `store` (every snapshot, or only `only` when given), each pack
/// with a digest hashed whole.
pub fn verify_store(store: &Path, only: Option<&[String]>) -> Result<VerifyReport> {
    verify_store_with(store, only, VerifyOptions::default())
}

/// Verify the store folder `store` (every snapshot, or only `only` when given).
///
/// Unless `deep`, the packs are hashed whole on threads of their own ([`hash_packs`]) while
/// this thread walks every snapshot's tree once ([`walk::walk`]): each distinct tree run,
/// line and file list read once, unhashed, every chunk referenced noted. When the walk and the
/// pack verdicts say every tree and list chunk it read is good, the file chunks are judged
/// (good in a pack that matched, else read and hashed alone) and that is the report. Anything
/// else (a record, tree or list chunk that is bad or unreadable, a damaged line) and `deep`
/// take [`exact`]: the walk that judges each tree chunk before it reads it, as every verify did
/// before the fast walk, and names the snapshots each bad chunk breaks.
pub fn verify_store_with(
    store: &Path,
    only: Option<&[String]>,
    options: VerifyOptions,
) -> Result<VerifyReport> {
    let store = Store::open(store, false)?;
    let ids = match only {
        Some(ids) => ids.to_vec(),
        None => store.ids()?,
    };
    if options.deep {
        return exact(&store, &ids, PackVerdicts::default());
    }
    // the map of present chunks, loaded once before the threads share it (the hashing needs
    // its digests, the walk its places)
    store.chunks().packs()?;
    // (the walk on a thread of its own too: a panic in it is an error of the call)
    let (packs, walked) = std::thread::scope(|scope| {
        // a core left to the walk, the longer of the two (on 2 cores: the walk on one, the
        // hashing on the other, rather than three threads sharing two)
        let hashing = scope.spawn(|| hash_packs(store.chunks(), threads().max(2) - 1));
        let walking = scope.spawn(|| walk::walk(&store, &ids));
        let walked = walking.join().map_err(thread_failed);
        (hashing.join().map_err(thread_failed), walked)
    });
    let packs = packs??;
    if let Some(walked) = walked? {
        if let Some(found) = walk::judge(&store, walked, &packs.good)? {
            return assemble(&store, &ids, found, packs);
        }
    }
    exact(&store, &ids, packs)
}

/// Every snapshot walked with each tree and list chunk judged before it is read (hashed
/// unless its pack matched `packs`), file chunks checked as they are found: the path that
/// names the snapshots each bad chunk breaks, and `deep`'s (`packs` empty).
fn exact(store: &Store, ids: &[String], packs: PackVerdicts) -> Result<VerifyReport> {
    let pool = Pool::new(store, ids, &packs.good);
    let (walks, files) = pool.run()?;
    let trees = pool.trees.into_inner().unwrap_or_else(|p| p.into_inner());
    let trees = trees
        .into_iter()
        .filter_map(|(c, once)| once.get().map(|v| (c, v.clone())))
        .collect();
    let found = Found {
        walks,
        trees,
        files,
        hashed: pool.hashed.load(Ordering::Relaxed),
    };
    assemble(store, ids, found, packs)
}

/// What a walk found: each snapshot's walk (in the order of the ids), the verdicts on the
/// tree and list chunks and on the file chunks (each chunk once in each), and how many chunks
/// were read and hashed alone.
struct Found {
    walks: Vec<Walk>,
    trees: Vec<(ChunkId, Verdict)>,
    files: Vec<(ChunkId, Verdict)>,
    hashed: u64,
}

/// The report of `found`: the chunks counted, each bad one with the snapshots it breaks (the
/// trees walked again, only when some bad file chunk is named by no walk yet).
fn assemble(
    store: &Store,
    ids: &[String],
    found: Found,
    packs: PackVerdicts,
) -> Result<VerifyReport> {
    let mut report = VerifyReport {
        snapshots: ids.len() as u64,
        chunks_hashed: found.hashed,
        packs: packs.good.len() as u64,
        packs_mismatched: packs.mismatched,
        ..VerifyReport::default()
    };
    let trees: IdSet = found.trees.iter().map(|(c, _)| *c).collect();
    // a file chunk that is also a tree chunk (the same bytes) counts once, as a tree chunk
    let files = found.files.iter().filter(|(c, _)| !trees.contains(c));
    let mut bad: BTreeMap<ChunkId, (String, Vec<String>)> = BTreeMap::new();
    for (c, verdict) in found.trees.iter().chain(files) {
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
    let mut readable = Vec::new();
    for (id, walk) in ids.iter().zip(found.walks) {
        for c in &walk.bad_tree {
            if let Some((_, users)) = bad.get_mut(c) {
                users.push(id.clone());
            }
        }
        match walk.outcome {
            Ok(record) => readable.push(record),
            Err(why) => {
                report.broken.insert(id.clone(), why);
            }
        }
    }
    if bad.values().any(|(_, users)| users.is_empty()) {
        attribute(store, &readable, &mut bad, &mut report.broken)?;
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

/// Threads a verify runs its hashing on: one per core, at most 8.
fn threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().min(8))
}

/// A verify thread that panicked, as the error of the call (`EIO`).
fn thread_failed(panic: Box<dyn std::any::Any + Send>) -> crate::Error {
    let why = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into());
    crate::Error::new(
        crate::Code::Os("EIO"),
        format!("Verify stopped: one of its threads failed ({why})"),
    )
}

/// Packs that matched their digest, and their size ([`PackVerdicts::good`]).
type GoodPacks = HashMap<usize, (Arc<str>, u64)>;

/// What hashing the packs whole found.
#[derive(Default)]
struct PackVerdicts {
    /// Packs whose file hashes to the digest their index records, and their size: keyed by
    /// the address of their name, the `Arc` every place in the chunk map shares (a lookup per
    /// chunk then hashes no string; a map reloaded since has other names, found in none, and
    /// its chunks are checked alone). The name is held, so that no other name can take its
    /// address.
    good: GoodPacks,
    /// Packs whose file does not, by name.
    mismatched: Vec<String>,
}

/// Hash every pack whose index records a digest this code computes on `threads` threads, the
/// largest packs first (the threads end together). A pack that cannot be read is left to the
/// chunk-by-chunk check, which names what is wrong with each chunk.
fn hash_packs(chunks: &Chunks, threads: usize) -> Result<PackVerdicts> {
    let mut todo: Vec<_> = chunks
        .packs()?
        .into_iter()
        .filter_map(|(name, size, digest)| Some((size, name, digest?)))
        .collect();
    // popped from the end: the largest last in the vector
    todo.sort_by_key(|(size, name, _)| (*size, Arc::clone(name)));
    if todo.is_empty() {
        // (a version 1-2 store has no packs/ at all)
        return Ok(PackVerdicts::default());
    }
    let todo = Mutex::new(todo);
    let verdicts = Mutex::new(PackVerdicts::default());
    let packs = chunks.packs_dir()?;
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut buf = Vec::new();
                while let Some((_, name, want)) = Pool::lock(&todo).pop() {
                    let digest = packs
                        .open_read(Path::new(&pack::pack_file(&name)))
                        .ok()
                        .and_then(|mut f| pack::digest_file(&mut f, want.hash, &mut buf).ok());
                    let mut v = Pool::lock(&verdicts);
                    match digest {
                        Some(Some((d, size))) if d == want.digest => {
                            v.good.insert(name_key(&name), (name, size));
                        }
                        Some(Some(_)) => v.mismatched.push(name.to_string()),
                        // unreadable, or a hash this code does not know
                        _ => {}
                    }
                }
            });
        }
    });
    let mut verdicts = verdicts.into_inner().unwrap_or_else(|p| p.into_inner());
    verdicts.mismatched.sort();
    Ok(verdicts)
}

/// Chunk `c`'s stored size when it lies in a pack of `good` (one that matched its digest), and
/// within it: an index entry past the pack's end is damage the chunk's own check names.
fn in_good_pack(chunks: &Chunks, good: &GoodPacks, c: &ChunkId) -> Option<u64> {
    if good.is_empty() {
        return None;
    }
    let place = chunks.locate_with(c, |loc| match loc {
        Some(Loc::Packed { pack, offset, len }) => {
            let end = u64::from(*offset) + u64::from(*len);
            let (_, size) = good.get(&name_key(pack))?;
            (end <= *size).then_some(u64::from(*len))
        }
        _ => None,
    });
    place.ok().flatten()
}

/// The key of pack `name` in [`PackVerdicts::good`]: the address its `Arc` points to.
fn name_key(name: &Arc<str>) -> usize {
    Arc::as_ptr(name) as *const u8 as usize
}

/// One snapshot walked: its record, or why it cannot be restored; and its tree chunks found
/// bad (each bad tree chunk is reported with every snapshot whose tree holds it).
struct Walk {
    outcome: std::result::Result<Record, String>,
    bad_tree: Vec<ChunkId>,
}

/// Ids queued for the hashing at a time (one lock and one wake-up per batch, not per chunk).
const BATCH: usize = 256;

/// The jobs the threads share, under one lock.
#[derive(Default)]
struct Jobs {
    /// File chunks waiting to be hashed.
    batches: VecDeque<Vec<ChunkId>>,
    /// The next snapshot to walk (an index into the ids), and the walks under way.
    next: usize,
    walking: usize,
}

struct Pool<'a> {
    store: &'a Store,
    ids: &'a [String],
    /// Packs that matched their digest ([`PackVerdicts::good`]), and their size: their chunks
    /// are good as stored.
    good: &'a GoodPacks,
    /// Chunks read, inflated and hashed one by one.
    hashed: AtomicU64,
    jobs: Mutex<Jobs>,
    /// Signalled when a batch is queued or a walk ends.
    changed: Condvar,
    /// Every file chunk queued so far, so that each is queued once.
    seen: Mutex<IdSet>,
    /// Tree and list chunks: the first walk that needs one hashes it, others wait for its
    /// verdict.
    trees: Mutex<IdMap<Arc<OnceLock<Verdict>>>>,
    /// File list chunks (with the list levels below them) a walk expanded whole: their data
    /// chunks are queued already, so a later walk that shares one does not read it again.
    expanded: Mutex<HashSet<(ChunkId, u32), IdHash>>,
    /// Text chunks of trees (line-aligned runs, format version 2) a walk read whole: their
    /// entries' chunks are queued, so a later walk whose tree holds one skips it unread (a
    /// hundred checkpoints share most of their runs; each is parsed once, not per snapshot).
    runs: Mutex<IdSet>,
    /// Good tree chunks kept in memory, and their bytes (at most [`TREE_CACHE`]): snapshots
    /// share most of their tree runs, read once each then.
    cache: Mutex<(IdMap<Vec<u8>>, usize)>,
}

/// Bytes of tree chunks [`Pool`] keeps in memory.
const TREE_CACHE: usize = 32 * 1024 * 1024;

/// What one thread did: its walks (snapshot index, walk) and the file chunks it hashed.
type Done = (Vec<(usize, Walk)>, Vec<(ChunkId, Verdict)>);

/// What every thread did: the walks in snapshot order, and the file chunks' verdicts.
type Outcome = (Vec<Walk>, Vec<(ChunkId, Verdict)>);

impl<'a> Pool<'a> {
    fn new(store: &'a Store, ids: &'a [String], good: &'a GoodPacks) -> Self {
        Pool {
            store,
            ids,
            good,
            hashed: AtomicU64::new(0),
            jobs: Mutex::new(Jobs::default()),
            changed: Condvar::new(),
            seen: Mutex::default(),
            trees: Mutex::default(),
            expanded: Mutex::default(),
            runs: Mutex::default(),
            cache: Mutex::default(),
        }
    }

    /// Every job done on a thread per core: the walks in snapshot order, and every file
    /// chunk's verdict. A thread that panicked makes the call an error (`EIO`), after the
    /// others ended: its walk still counts as ended ([`WalkEnd`]), so none waits for it.
    fn run(&self) -> Result<Outcome> {
        let joined: Vec<std::thread::Result<Done>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads())
                .map(|_| scope.spawn(|| self.work()))
                .collect();
            handles.into_iter().map(|h| h.join()).collect()
        });
        let mut done = Vec::with_capacity(joined.len());
        for j in joined {
            done.push(j.map_err(thread_failed)?);
        }
        let mut walks = Vec::new();
        let mut files = Vec::new();
        for (w, f) in done {
            walks.extend(w);
            files.extend(f);
        }
        walks.sort_by_key(|(i, _)| *i);
        Ok((walks.into_iter().map(|(_, w)| w).collect(), files))
    }

    fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
        // a lock poisoned by a panicking thread still guards sound data (each update is one
        // push or insert); the panic itself is re-raised when the thread is joined
        m.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One thread: hash queued batches first (the queue stays short), else walk the next
    /// snapshot, else wait while a walk may still queue more; done when neither is left.
    fn work(&self) -> Done {
        let mut checker = Checker::default();
        let (mut walks, mut files) = (Vec::new(), Vec::new());
        let mut jobs = Self::lock(&self.jobs);
        loop {
            if let Some(mut batch) = jobs.batches.pop_front() {
                drop(jobs);
                let chunks = self.store.chunks();
                // in pack order: each thread reads forward through the packs
                // chunks in packs that matched are good as stored; the others are read
                batch.retain(|c| match self.in_good_pack(c) {
                    Some(stored) => {
                        files.push((*c, Ok(stored)));
                        false
                    }
                    None => true,
                });
                let _ = chunks.sort_by_place(&mut batch);
                files.extend(batch.into_iter().map(|c| {
                    let v = self.verdict(chunks, &c, &mut checker);
                    (c, v)
                }));
            } else if jobs.next < self.ids.len() {
                let i = jobs.next;
                jobs.next += 1;
                jobs.walking += 1;
                drop(jobs);
                let _end = WalkEnd(self);
                walks.push((i, self.walk(&self.ids[i], &mut checker)));
            } else if jobs.walking == 0 {
                return (walks, files);
            } else {
                jobs = self.changed.wait(jobs).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            jobs = Self::lock(&self.jobs);
        }
    }

    /// Queue the chunks of `ids` that no walk has queued before.
    fn queue(&self, ids: &mut Vec<ChunkId>) {
        let fresh: Vec<ChunkId> = {
            let mut seen = Self::lock(&self.seen);
            ids.drain(..).filter(|c| seen.insert(*c)).collect()
        };
        if !fresh.is_empty() {
            Self::lock(&self.jobs).batches.push_back(fresh);
            self.changed.notify_one();
        }
    }

    fn in_good_pack(&self, c: &ChunkId) -> Option<u64> {
        in_good_pack(self.store.chunks(), self.good, c)
    }

    /// A chunk read and hashed with `checker`'s buffers: its stored size, or why it is bad.
    fn verdict(&self, chunks: &Chunks, id: &ChunkId, checker: &mut Checker) -> Verdict {
        self.hashed.fetch_add(1, Ordering::Relaxed);
        checker.check(chunks, id).map_err(reason)
    }

    /// The verdict on tree or list chunk `c`, judged here unless another walk did or is doing
    /// it (hashed, unless it lies in a pack that matched), and its plain bytes when this call
    /// is the one that read it (then no second read is needed).
    fn tree_verdict(&self, c: &ChunkId, checker: &mut Checker) -> (Verdict, Option<Vec<u8>>) {
        let once = Arc::clone(Self::lock(&self.trees).entry(*c).or_default());
        let mut read = None;
        let verdict = once.get_or_init(|| {
            let hash = self.in_good_pack(c).is_none();
            if hash {
                self.hashed.fetch_add(1, Ordering::Relaxed);
            }
            match checker.read(self.store.chunks(), c, hash) {
                Ok(data) => {
                    read = Some(data.to_vec());
                    Ok(checker.stored_len())
                }
                Err(e) => Err(reason(e)),
            }
        });
        (verdict.clone(), read)
    }

    /// Snapshot `id`'s record and tree, its file chunks queued.
    fn walk(&self, id: &str, checker: &mut Checker) -> Walk {
        let mut bad_tree = Vec::new();
        let outcome = self.walk_tree(id, checker, &mut bad_tree);
        Walk { outcome, bad_tree }
    }

    fn walk_tree(
        &self,
        id: &str,
        checker: &mut Checker,
        bad_tree: &mut Vec<ChunkId>,
    ) -> std::result::Result<Record, String> {
        // the tests' way to make a thread fail mid-walk (never compiled into the addon)
        #[cfg(test)]
        if id.starts_with("test-panic-") {
            panic!("test panic in the walk of {id}");
        }
        let record = self.store.record(id).map_err(|e| e.to_string())?;
        let mut pending = Vec::with_capacity(BATCH);
        let mut expanded = Vec::new();
        // text runs (format version 2 cuts the tree between lines) read whole by this walk
        let mut runs = Vec::new();
        let reading_text = Cell::new(false);
        let mut at_line_start = true;
        // every tree and list chunk (format version 2) is judged as the reader fetches it
        let mut fetch: Fetch<'_> = Box::new(|c: &ChunkId, role: Role| {
            if role == Role::Tree && reading_text.get() {
                // a run a successful walk read whole, here again at the start of a line: its
                // entries' chunks are queued already, and the next run starts a line too
                if at_line_start && Self::lock(&self.runs).contains(c) {
                    return Ok(None);
                }
            }
            if let Role::FileList(below) = role {
                if Self::lock(&self.expanded).contains(&(*c, below)) {
                    return Ok(None);
                }
                expanded.push((*c, below));
            }
            if let Some(data) = Self::lock(&self.cache).0.get(c) {
                return Ok(Some(data.clone()));
            }
            let (verdict, read) = self.tree_verdict(c, checker);
            if verdict.is_err() {
                bad_tree.push(*c);
                let why = format!("a chunk of its tree ({}) is bad", c.hex());
                return Err(crate::Error::new(crate::Code::Corrupt, why));
            }
            let data = match read {
                Some(data) => data,
                None => checker.read(self.store.chunks(), c, false)?.to_vec(),
            };
            if role == Role::Tree && reading_text.get() {
                if at_line_start && data.ends_with(b"\n") {
                    runs.push(*c);
                }
                at_line_start = data.ends_with(b"\n");
            }
            let mut cache = Self::lock(&self.cache);
            if role == Role::Tree && cache.1 + data.len() <= TREE_CACHE {
                cache.1 += data.len();
                cache.0.insert(*c, data.clone());
            }
            Ok(Some(data))
        });
        // the tree's text chunks, its list chunks judged on the way, so that `fetch` knows a
        // text chunk when the reader asks for one
        let cannot = |e: crate::Error| format!("The tree of snapshot {id} cannot be read: {e}");
        let top = record.tree_ids().map_err(|e| e.to_string())?;
        let text = list::resolve(top, record.tree_depth, MAX_TREE_CHUNKS, &mut |c, _| {
            fetch(c, Role::Tree)
        })
        .map_err(cannot)?;
        reading_text.set(true);
        let entries = TreeReader::new(fetch, text, 0, id);
        // the chunks listed before a damaged line are checked all the same
        let walked = entries.and_then(|entries| {
            for entry in entries {
                pending.extend(entry?.chunk_ids()?);
                if pending.len() >= BATCH {
                    self.queue(&mut pending);
                }
            }
            Ok(())
        });
        self.queue(&mut pending);
        if walked.is_ok() {
            // the whole tree read: every list expanded on the way was expanded whole (its
            // data chunks queued), so a later walk that shares one need not read it again
            Self::lock(&self.expanded).extend(expanded);
            Self::lock(&self.runs).extend(runs);
        }
        walked.map(|()| record).map_err(|e| e.to_string())
    }
}

/// A walk under way, ended when dropped: also when the walk panics, so the threads waiting
/// for the walks to end (more batches may come from them) are woken, not left waiting.
struct WalkEnd<'p, 'a>(&'p Pool<'a>);

impl Drop for WalkEnd<'_, '_> {
    fn drop(&mut self) {
        Pool::lock(&self.0.jobs).walking -= 1;
        self.0.changed.notify_all();
    }
}

/// Why a chunk is bad: "missing", or the damage found.
fn reason(e: crate::Error) -> String {
    match e.code() == crate::Code::Os("ENOENT") {
        true => "missing".into(),
        false => e.to_string(),
    }
}

/// the snapshots each bad file chunk breaks (each snapshot's first bad entry named).
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
