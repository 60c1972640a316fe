//! Taking a snapshot.
//!
//! The tree is walked through held folder handles ([`Dir`]): nothing below the root is
//! reached through a symlink, and FIFOs, sockets and devices are never opened. A file whose
//! size, mtime, ctime and inode equal its entry in the parent snapshot is not read again: its
//! chunks are reused (what git's index and restic's parent snapshot do). Others are cut into
//! chunks ([`super::chunker`]) and hashed on this thread; chunks the store lacks go through a
//! bounded queue to worker threads that compress and write them, so memory stays bounded
//! (a few chunks per worker) whatever the file sizes.
//!
//! Order of durability: every chunk into packs, then one flush of the packs (`syncfs`) and
//! their indexes ([`Chunks::flush`]), then the snapshot's record, atomically. A crash at any
//! point leaves either no record or a complete snapshot; packs written before a crash are
//! only unreferenced or unindexed (garbage collection's).

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

use super::chunk::{encode, ChunkId, Chunks};
use super::chunker::Chunker;
use super::database;
use super::list;
use super::snapshot::{self, Record};
use super::tree::{self, Entry, EntryKind};
use super::{Store, FORMAT_VERSION};
use crate::backup::archive::is_excluded;
use crate::backup::cancel::Cancel;
use crate::backup::sqlite;
use crate::backup::{Meter, Progress};
use crate::error::{Code, Error, Result};
use crate::fsx::beneath::{Dir, Kind, Meta};

/// What to snapshot.
pub struct SnapshotSpec<'a> {
    pub root: &'a Path,
    /// The store folder (`<root>/backups/store`); created when missing.
    pub store: &'a Path,
    pub id: &'a str,
    pub label: &'a str,
    /// Legacy `tar --exclude` patterns (a component's name, or `*suffix`).
    pub excludes: &'a [String],
    /// `(path relative to root, file whose bytes are stored under it)`: consistent copies of
    /// live databases; their `-journal`, `-wal`, `-shm` files are left out.
    pub substitutes: &'a [(String, PathBuf)],
    /// Paths (relative to root, '/'-separated) of live SQLite databases: copied through
    /// SQLite's backup API, and only when SQLite says they changed ([`super::database`]);
    /// their `-journal`, `-wal`, `-shm` files are left out.
    pub databases: &'a [String],
    /// The snapshot whose unchanged files are reused; `None`: the newest one.
    pub parent: Option<&'a str>,
    pub cancel: Cancel,
}

/// What a snapshot took.
#[derive(Debug, Clone)]
pub struct SnapshotStats {
    pub record: Record,
    /// Files whose content was read, and files reused unread from the parent.
    pub files_read: u64,
    pub files_reused: u64,
    /// Entries left out: names that are not UTF-8, FIFOs, sockets, devices.
    pub skipped: Vec<String>,
}

/// The SQLite files that live beside a database.
const SIDE_FILES: &[&str] = &["-journal", "-wal", "-shm"];

type Job = (ChunkId, Vec<u8>);

/// The walk's state: the parent's entries, the chunks seen, the queue to the writers.
struct Walker<'a> {
    spec: &'a SnapshotSpec<'a>,
    chunks: &'a Chunks,
    parent: HashMap<String, Entry>,
    seen: HashSet<ChunkId>,
    /// `None` once closed.
    queue: Option<SyncSender<Job>>,
    entries: Vec<Entry>,
    skipped: Vec<String>,
    files_read: u64,
    files_reused: u64,
    new_chunks: u64,
    meter: Meter<'a>,
}

pub(super) fn entry(path: String, kind: EntryKind, meta: &Meta) -> Entry {
    Entry {
        path,
        kind,
        mode: meta.mode,
        size: 0,
        mtime: meta.mtime,
        ctime: meta.ctime,
        ino: meta.ino.to_string(),
        target: None,
        chunks: Vec::new(),
        depth: 0,
        sqlite: None,
    }
}

pub(super) fn join(rel: &str, name: &str) -> String {
    if rel.is_empty() {
        name.to_string()
    } else {
        format!("{rel}/{name}")
    }
}

impl Walker<'_> {
    /// Queue `data` as a chunk unless the store has it (or this snapshot queued it); its id.
    fn store_chunk(&mut self, data: &[u8]) -> Result<ChunkId> {
        let id = ChunkId::of(data);
        if self.seen.insert(id) && !self.chunks.has(&id)? {
            self.new_chunks += 1;
            let sent = self.queue.as_ref().map(|q| q.send((id, data.to_vec())));
            if !matches!(sent, Some(Ok(()))) {
                // every writer stopped: the caller reports the writers' error
                return Err(Error::new(Code::Os("EIO"), "The chunk writers stopped"));
            }
        }
        Ok(id)
    }

    /// Cut `source` into chunks, queue the ones the store lacks; the ids and the bytes read.
    fn store_stream(&mut self, source: impl Read, what: &Path) -> Result<(Vec<String>, u64)> {
        let mut chunker = Chunker::new(source);
        let mut ids = Vec::new();
        let mut bytes = 0u64;
        loop {
            let chunk = match chunker.next_chunk() {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(e) => return Err(Error::io(format!("Cannot read {}", what.display()), e)),
            };
            bytes += chunk.len() as u64;
            let id = self.store_chunk(chunk)?;
            ids.push(id.hex());
        }
        Ok((ids, bytes))
    }

    /// Store a list of ids ([`super::list`]); its top level and depth.
    fn store_list(&mut self, ids: Vec<ChunkId>) -> Result<(Vec<ChunkId>, u32)> {
        list::encode(ids, &mut |bytes| self.store_chunk(bytes))
    }

    fn walk(&mut self, dir: &Dir, rel: &str) -> Result<()> {
        walk_project(self, dir, rel)
    }
}

impl Visit for Walker<'_> {
    fn cancelled(&self) -> Result<()> {
        self.spec.cancel.check("Snapshot")
    }

    fn excludes(&self) -> &[String] {
        self.spec.excludes
    }

    fn entry(&mut self, entry: Entry) {
        self.entries.push(entry);
    }

    fn skipped(&mut self, path: String) {
        self.skipped.push(path);
    }

    fn is_side_file(&self, path: &str) -> bool {
        let databases = self.spec.substitutes.iter().map(|(db, _)| db);
        is_side_file_of(path, databases.chain(self.spec.databases))
    }

    fn file(&mut self, dir: &Dir, name: &OsStr, path: String, meta: &Meta) -> Result<()> {
        let mut e = entry(path, EntryKind::File, meta);
        let db = match self.spec.databases.contains(&e.path) {
            true => database::state(dir, name, meta)?,
            false => None,
        };
        if let Some((_, copy)) = self.spec.substitutes.iter().find(|(p, _)| *p == e.path) {
            let source = open_file(copy)?;
            (e.chunks, e.size) = self.store_stream(source, copy)?;
            self.files_read += 1;
        } else if let Some(state) = db {
            e.sqlite = Some(state.key);
            match self.parent.get(&e.path).filter(|p| state.reusable(p, meta)) {
                Some(prev) => {
                    (e.chunks, e.size) = (prev.chunks.clone(), prev.size);
                    self.files_reused += 1;
                }
                None => {
                    let live = self.spec.root.join(&e.path);
                    let src = sqlite::source_in(dir, name, self.spec.root, Path::new(&e.path));
                    let in_place = match state.readable_in_place() {
                        true => self.database_in_place(dir, name, &live, &src)?,
                        false => None,
                    };
                    match in_place {
                        Some((key, chunks, size)) => {
                            (e.sqlite, e.chunks, e.size) = (Some(key), chunks, size)
                        }
                        None => {
                            let (_scratch, copy) = database::copy(&src, &self.spec.cancel)?;
                            (e.chunks, e.size) = self.store_stream(open_file(&copy)?, &live)?;
                        }
                    }
                    self.files_read += 1;
                }
            }
        } else if let Some(prev) = self.parent.get(&e.path).filter(|p| unchanged(p, meta)) {
            (e.chunks, e.size) = (prev.chunks.clone(), prev.size);
            self.files_reused += 1;
        } else {
            let source = dir.open_read(Path::new(name))?;
            let full = dir.path().join(name);
            (e.chunks, e.size) = self.store_stream(source, &full)?;
            self.files_read += 1;
        }
        self.meter.add(e.size);
        self.entries.push(e);
        Ok(())
    }
}

/// What [`walk_project`] meets, handed to the snapshot being written ([`Walker`]) or to
/// diff's walk of the work tree (`super::diff`): both see the project the same way.
pub(super) trait Visit {
    /// `Err` once the caller cancelled.
    fn cancelled(&self) -> Result<()>;
    /// Legacy `tar --exclude` patterns.
    fn excludes(&self) -> &[String];
    /// A database's `-journal`, `-wal` or `-shm` file (left out).
    fn is_side_file(&self, path: &str) -> bool;
    /// A folder (walked into next) or a symlink, as a snapshot records it.
    fn entry(&mut self, entry: Entry);
    /// A regular file.
    fn file(&mut self, dir: &Dir, name: &OsStr, path: String, meta: &Meta) -> Result<()>;
    /// What a snapshot cannot hold: a name or link target that is not UTF-8, a FIFO, a
    /// socket, a device.
    fn skipped(&mut self, path: String);
}

/// Walk the folder `dir` (at `rel` below the root) and everything below it, through held
/// folder handles (no symlink followed), in the order the folders list their names.
pub(super) fn walk_project(visit: &mut impl Visit, dir: &Dir, rel: &str) -> Result<()> {
    for (name, kind) in dir.list(Path::new(""))? {
        visit.cancelled()?;
        let Some(name_str) = name.to_str() else {
            visit.skipped(join(rel, &name.to_string_lossy()));
            continue;
        };
        if is_excluded(name_str, visit.excludes()) {
            continue;
        }
        let path = join(rel, name_str);
        if kind == Kind::File && visit.is_side_file(&path) {
            continue;
        }
        let Some(meta) = dir.meta(Path::new(&name))? else {
            continue; // removed while we walked
        };
        match meta.kind {
            Kind::Dir => {
                visit.entry(entry(path.clone(), EntryKind::Dir, &meta));
                let sub = dir.sub(Path::new(&name), false)?;
                walk_project(visit, &sub, &path)?;
            }
            Kind::Symlink => match dir.read_link(Path::new(&name))?.into_string() {
                Ok(target) => {
                    let mut e = entry(path, EntryKind::Symlink, &meta);
                    e.target = Some(target);
                    visit.entry(e);
                }
                Err(_) => visit.skipped(path),
            },
            Kind::File => visit.file(dir, &name, path, &meta)?,
            Kind::Other => visit.skipped(path),
        }
    }
    Ok(())
}

/// True when `path` is the `-journal`, `-wal` or `-shm` file of one of `databases`.
pub(super) fn is_side_file_of<'d>(
    path: &str,
    mut databases: impl Iterator<Item = &'d String>,
) -> bool {
    databases.any(|db| {
        SIDE_FILES
            .iter()
            .any(|side| path.strip_prefix(db.as_str()) == Some(side))
    })
}

/// A database stored from its own bytes: its state, chunk ids and size.
type InPlace = ([u64; 3], Vec<String>, u64);

impl Walker<'_> {
    /// A rollback-journal database's own bytes, read under SQLite's read lock
    /// ([`database`]): its state then, its chunks and size; `None` when it turned out to be
    /// in WAL mode (then it is copied). Our file is opened before SQLite's connection and
    /// closed after it: closing a descriptor drops this process's locks on the file.
    fn database_in_place(
        &mut self,
        dir: &Dir,
        name: &OsStr,
        live: &Path,
        src: &Path,
    ) -> Result<Option<InPlace>> {
        let mut file = dir.open_read(Path::new(name))?;
        let cancel = self.spec.cancel;
        sqlite::while_read_locked(src, &cancel, || {
            let size = file
                .metadata()
                .map_err(|e| Error::io(format!("Cannot read {}", live.display()), e))?
                .len();
            match database::state_of(dir, name, &mut file, size)? {
                Some(now) if now.readable_in_place() => {
                    let (chunks, bytes) = self.store_stream(&file, live)?;
                    Ok(Some((now.key, chunks, bytes)))
                }
                _ => Ok(None),
            }
        })
    }
}

/// The parent's entry still describes the file: same size, mtime, ctime and inode.
pub(super) fn unchanged(prev: &Entry, meta: &Meta) -> bool {
    prev.kind == EntryKind::File
        && prev.size == meta.size
        && prev.mtime == meta.mtime
        && prev.ctime == meta.ctime
        && prev.ino == meta.ino.to_string()
}

/// A file of ours outside the walk (a database copy), opened without following a link.
fn open_file(path: &Path) -> Result<std::fs::File> {
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => Dir::open(parent)?.open_read(Path::new(name)),
        _ => Err(Error::new(
            Code::BadPath,
            format!("{} names no file", path.display()),
        )),
    }
}

/// Compress and write queued chunks until the queue closes; the bytes written.
fn writer(chunks: &Chunks, queue: &Mutex<Receiver<Job>>, written: &AtomicU64) -> Result<()> {
    loop {
        // a poisoned lock means another writer panicked: stop too
        let job = match queue.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return Err(Error::new(Code::Internal, "A chunk writer panicked")),
        };
        let Ok((id, data)) = job else {
            return Ok(());
        };
        let file = encode(&data);
        chunks.put(&id, &file)?;
        written.fetch_add(file.len() as u64, Ordering::Relaxed);
    }
}

/// The parent snapshot's file entries by path.
fn parent_entries(store: &Store, parent: Option<&Record>) -> Result<HashMap<String, Entry>> {
    let mut map = HashMap::new();
    if let Some(record) = parent {
        for e in store.tree(record)? {
            let e = e?;
            if e.kind == EntryKind::File {
                map.insert(e.path.clone(), e);
            }
        }
    }
    Ok(map)
}

/// Take snapshot `spec.id` of `spec.root` into the store.
pub fn create_snapshot(
    spec: &SnapshotSpec<'_>,
    report: &mut dyn FnMut(Progress),
) -> Result<SnapshotStats> {
    snapshot::check_id(spec.id)?;
    let root = Dir::open(spec.root)?;
    let store = Store::open(spec.store, true)?;
    if store.ids()?.iter().any(|id| id == spec.id) {
        return Err(Error::new(
            Code::Os("EEXIST"),
            format!("Snapshot {} already exists", spec.id),
        ));
    }
    let parent = match spec.parent {
        Some(id) => Some(store.record(id)?),
        None => store.records()?.pop(),
    };
    let previous = parent_entries(&store, parent.as_ref())?;
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(8));
    let (queue, jobs) = sync_channel::<Job>(workers * 2);
    let jobs = Arc::new(Mutex::new(jobs));
    let written = AtomicU64::new(0);

    let (walked, wrote) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let jobs = Arc::clone(&jobs);
                let (chunks, written) = (store.chunks(), &written);
                scope.spawn(move || writer(chunks, &jobs, written))
            })
            .collect();
        let mut walker = Walker {
            spec,
            chunks: store.chunks(),
            parent: previous,
            seen: HashSet::new(),
            queue: Some(queue),
            entries: Vec::new(),
            skipped: Vec::new(),
            files_read: 0,
            files_reused: 0,
            new_chunks: 0,
            meter: Meter::new("snapshot", report),
        };
        let walked = walk_and_store_tree(&mut walker, &root);
        walker.queue = None; // closes the queue: the writers finish what is queued and stop
                             // join every writer (the first error wins), then hand back the walker
        let mut wrote: Result<()> = Ok(());
        for h in handles {
            let done = h.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            if wrote.is_ok() {
                wrote = done;
            }
        }
        (walked.map(|tree| (tree, walker)), wrote)
    });
    wrote?;
    let ((tree, tree_depth), walker) = walked?;
    spec.cancel.check("Snapshot")?;
    store.chunks().flush()?;
    let count = |k: EntryKind| walker.entries.iter().filter(|e| e.kind == k).count() as u64;
    let record = Record {
        version: FORMAT_VERSION,
        id: spec.id.to_string(),
        time: crate::time::now_iso(),
        label: spec.label.to_string(),
        parent: parent.map(|p| p.id),
        tree,
        tree_depth,
        files: count(EntryKind::File),
        dirs: count(EntryKind::Dir),
        symlinks: count(EntryKind::Symlink),
        bytes: walker.entries.iter().map(|e| e.size).sum(),
        new_chunks: walker.new_chunks,
        new_bytes: written.load(Ordering::Relaxed),
    };
    snapshot::write(store.snapshots_dir(), &record)?;
    walker.meter.finish();
    Ok(SnapshotStats {
        record,
        files_read: walker.files_read,
        files_reused: walker.files_reused,
        skipped: walker.skipped,
    })
}

/// Walk the root, then store the sorted tree (version 2: runs of lines, long chunk lists in
/// list chunks); the top level of the tree's list and its depth.
fn walk_and_store_tree(walker: &mut Walker<'_>, root: &Dir) -> Result<(Vec<String>, u32)> {
    walker.walk(root, "")?;
    walker
        .entries
        .sort_unstable_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    let mut lines = Vec::with_capacity(walker.entries.len());
    for i in 0..walker.entries.len() {
        let line = match walker.entries[i].chunks.len() > list::INLINE {
            true => {
                let ids = walker.entries[i].chunk_ids()?;
                let (top, depth) = walker.store_list(ids)?;
                let stored = Entry {
                    chunks: top.iter().map(ChunkId::hex).collect(),
                    depth,
                    ..walker.entries[i].clone()
                };
                stored.line()
            }
            false => walker.entries[i].line(),
        };
        lines.push(line);
    }
    let runs = tree::runs(walker.entries.iter().map(|e| e.path.as_str()).zip(lines));
    let mut ids = Vec::with_capacity(runs.len());
    for run in runs {
        ids.push(walker.store_chunk(&run)?);
    }
    let (top, depth) = walker.store_list(ids)?;
    Ok((top.iter().map(ChunkId::hex).collect(), depth))
}
