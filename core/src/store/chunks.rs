//! The chunks of a store: in pack files (`packs/`, format version 3, [`super::pack`]) and as
//! loose files (`chunks/<hh>/<id>`, format versions 1 and 2, read and collected, never
//! written any more).
//!
//! Which chunks are present is an in-memory map, loaded from the pack indexes and the loose
//! files the first time it is needed, plus the chunks this process has put and not flushed
//! yet. [`Chunks::put`] appends to the open pack (sealed at [`pack::TARGET`] bytes);
//! [`Chunks::flush`] makes the packs durable, then writes their indexes: a snapshot's record
//! is written only after it, so a record never names a chunk that is not durable.

use std::collections::{HashMap, VecDeque};
use std::ffi::OsStr;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};

use super::chunk::{decode, decode_as, ChunkId, IdMap, MAX_FILE};
use super::pack::{self, IndexEntry, PackDigest, PackHasher};
use crate::error::{Code, Error, Result};
use crate::fsx::beneath::{read_bounded_into, Dir, Kind};

/// Pack files kept open for reads (restore and verify jump between a few packs).
const OPEN_PACKS: usize = 16;

/// Where a present chunk is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loc {
    Loose,
    Packed {
        pack: Arc<str>,
        offset: u32,
        len: u32,
    },
}

/// One pack with a readable index.
#[derive(Debug, Clone)]
pub struct Pack {
    pub name: Arc<str>,
    pub entries: Vec<IndexEntry>,
    /// The digest of the whole pack file its index records (`None`: a version 3 index).
    pub digest: Option<PackDigest>,
}

/// A pack's name, its size as its entries say and the digest its index records.
pub type PackSummary = (Arc<str>, u64, Option<PackDigest>);

/// What the store holds, as its indexes and loose files say.
#[derive(Debug, Default)]
pub struct Index {
    pub packs: Vec<Pack>,
    /// Every present chunk at one place (the first pack listed that holds it; loose files
    /// only when no pack does): the place readers use and garbage collection keeps.
    pub map: IdMap<Loc>,
    pub loose: Vec<ChunkId>,
    /// Indexes that cannot be read: (pack name, why). Their chunks count as missing.
    pub damaged: Vec<(String, String)>,
    /// The modification time of `packs/` when it was listed: a chunk asked for and not
    /// found is looked for again only when it changed since (another process flushed packs).
    stamp: Option<std::time::SystemTime>,
}

impl Index {
    fn add_pack(&mut self, name: &str, entries: Vec<IndexEntry>, digest: Option<PackDigest>) {
        let name: Arc<str> = Arc::from(name);
        for e in &entries {
            self.map.entry(e.id).or_insert_with(|| Loc::Packed {
                pack: Arc::clone(&name),
                offset: e.offset,
                len: e.len,
            });
        }
        self.packs.push(Pack {
            name,
            entries,
            digest,
        });
    }
}

/// A pack being written, or written and waiting for [`Chunks::flush`] to index it.
struct Building {
    /// Its temp name while open; its name once sealed.
    file_name: String,
    file: Arc<File>,
    size: u64,
    entries: Vec<IndexEntry>,
    /// The digest of the bytes written so far (recorded in the index).
    hasher: PackHasher,
    /// `(name, index bytes)` once sealed.
    sealed: Option<(String, Vec<u8>)>,
}

#[derive(Default)]
struct Writer {
    open: Option<Building>,
    sealed: Vec<Building>,
    /// Chunks put and not flushed: their pack file, offset and length.
    pending: HashMap<ChunkId, (Arc<File>, u32, u32)>,
}

/// The chunks of one store.
pub struct Chunks {
    /// `chunks/` (versions 1-2), when there.
    loose: Option<Dir>,
    fans: Vec<OnceLock<Dir>>,
    /// `packs/` (version 3), when there.
    packs: Option<Dir>,
    index: OnceLock<RwLock<Index>>,
    writer: Mutex<Writer>,
    open_packs: Mutex<VecDeque<(Arc<str>, Arc<File>)>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // every update under these locks is one push, insert or take: sound after a panic
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn missing(id: &ChunkId) -> Error {
    Error::new(
        Code::Os("ENOENT"),
        format!("Chunk {} is not in the store", id.hex()),
    )
}

/// `n` bytes at `offset` of `file` into `buf` (`UnexpectedEof` when the file is shorter).
#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

impl Chunks {
    pub fn new(loose: Option<Dir>, packs: Option<Dir>) -> Chunks {
        Chunks {
            loose,
            fans: (0..256).map(|_| OnceLock::new()).collect(),
            packs,
            index: OnceLock::new(),
            writer: Mutex::new(Writer::default()),
            open_packs: Mutex::new(VecDeque::new()),
        }
    }

    /// `packs/`, or `ENOENT` in a store opened for reading that has none.
    pub fn packs_dir(&self) -> Result<&Dir> {
        self.packs
            .as_ref()
            .ok_or_else(|| Error::new(Code::Os("ENOENT"), "The store has no packs folder"))
    }

    fn fan(&self, id: &ChunkId) -> Result<&Dir> {
        let slot = &self.fans[id.0[0] as usize];
        if let Some(dir) = slot.get() {
            return Ok(dir);
        }
        let loose = self.loose.as_ref().ok_or_else(|| missing(id))?;
        let dir = loose.sub(Path::new(&format!("{:02x}", id.0[0])), false)?;
        Ok(slot.get_or_init(|| dir))
    }

    /// The map of present chunks (loaded on first use).
    fn index(&self) -> Result<&RwLock<Index>> {
        if let Some(index) = self.index.get() {
            return Ok(index);
        }
        let loaded = self.load()?;
        Ok(self.index.get_or_init(|| RwLock::new(loaded)))
    }

    /// Read the indexes and loose files anew (a garbage collection may have repacked).
    fn reload(&self) -> Result<()> {
        let fresh = self.load()?;
        let index = self.index()?;
        *index.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        lock(&self.open_packs).clear();
        Ok(())
    }

    /// What the store holds now, read from disk: every readable index (a damaged one noted),
    /// every loose chunk file.
    pub fn load(&self) -> Result<Index> {
        let mut index = Index {
            stamp: self.packs_stamp(),
            ..Index::default()
        };
        if let Some(packs) = &self.packs {
            for (file, kind) in packs.list(Path::new(""))? {
                let Some(name) = file.to_str().and_then(|f| pack::stem(f, ".idx")) else {
                    continue;
                };
                if kind != Kind::File {
                    continue;
                }
                let read = packs
                    .read(Path::new(&file), pack::MAX_INDEX)
                    .and_then(|bytes| pack::parse_index(name, &bytes));
                match read {
                    Ok((entries, digest)) => index.add_pack(name, entries, digest),
                    // removed by a collection since the listing
                    Err(e) if e.code() == Code::Os("ENOENT") => {}
                    Err(e) => index.damaged.push((name.to_string(), e.to_string())),
                }
            }
        }
        if let Some(loose) = &self.loose {
            for (fan, kind) in loose.list(Path::new(""))? {
                if kind != Kind::Dir {
                    continue;
                }
                for (name, kind) in loose.list(Path::new(&fan))? {
                    if let (Kind::File, Some(Ok(id))) = (kind, name.to_str().map(ChunkId::parse)) {
                        index.map.entry(id).or_insert(Loc::Loose);
                        index.loose.push(id);
                    }
                }
            }
        }
        Ok(index)
    }

    /// Every pack with a readable index: its name, its file's size as its entries say (where
    /// the last one ends) and the digest its index records.
    pub fn packs(&self) -> Result<Vec<PackSummary>> {
        let index = self.index()?.read().unwrap_or_else(|p| p.into_inner());
        Ok(index
            .packs
            .iter()
            .map(|p| {
                let end = p
                    .entries
                    .iter()
                    .map(|e| u64::from(e.offset) + u64::from(e.len));
                (Arc::clone(&p.name), end.max().unwrap_or(0), p.digest)
            })
            .collect())
    }

    /// `f` of where chunk `id` is, as this store's map says, without a copy of the place
    /// (verify asks this of every chunk, from every thread).
    pub fn locate_with<R>(&self, id: &ChunkId, f: impl FnOnce(Option<&Loc>) -> R) -> Result<R> {
        let index = self.index()?.read().unwrap_or_else(|p| p.into_inner());
        Ok(f(index.map.get(id)))
    }

    /// Where chunk `id` is, as this store's map says (`None`: not there, or not flushed).
    pub fn locate(&self, id: &ChunkId) -> Result<Option<Loc>> {
        let index = self.index()?.read().unwrap_or_else(|p| p.into_inner());
        Ok(index.map.get(id).cloned())
    }

    /// `packs/`'s modification time (its link itself, never followed; only compared).
    fn packs_stamp(&self) -> Option<std::time::SystemTime> {
        let packs = self.packs.as_ref()?;
        std::fs::symlink_metadata(packs.path())
            .and_then(|m| m.modified())
            .ok()
    }

    /// [`Chunks::locate`], the indexes read again first when `packs/` changed since they were
    /// (a store held open while another process added snapshots).
    fn locate_fresh(&self, id: &ChunkId) -> Result<Option<Loc>> {
        if let Some(found) = self.locate(id)? {
            return Ok(Some(found));
        }
        let stamp = self
            .index()?
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .stamp;
        if stamp == self.packs_stamp() {
            return Ok(None);
        }
        self.reload()?;
        self.locate(id)
    }

    /// True when the chunk is in the store or put by this process (its bytes not checked).
    pub fn has(&self, id: &ChunkId) -> Result<bool> {
        Ok(self.locate(id)?.is_some() || lock(&self.writer).pending.contains_key(id))
    }

    /// Append an encoded chunk to the open pack (a new one when none is open); durable and
    /// visible to other processes after [`Chunks::flush`].
    pub fn put(&self, id: &ChunkId, file: &[u8]) -> Result<()> {
        let packs = self.packs_dir()?;
        let mut w = lock(&self.writer);
        if w.pending.contains_key(id) {
            return Ok(());
        }
        let open = match w.open.take() {
            Some(open) => open,
            None => new_pack(packs)?,
        };
        let offset = open.size as u32;
        if let Err(e) = (&*open.file).write_all(file) {
            // the pack may hold part of this chunk: it is dropped, with its chunks
            let _ = packs.unlink_here(OsStr::new(&open.file_name));
            for entry in &open.entries {
                w.pending.remove(&entry.id);
            }
            return Err(Error::io(
                format!(
                    "Cannot write {}",
                    packs.path().join(&open.file_name).display()
                ),
                e,
            ));
        }
        let mut open = open;
        open.hasher.update(file);
        open.size += file.len() as u64;
        let entry = IndexEntry {
            id: *id,
            offset,
            len: file.len() as u32,
        };
        open.entries.push(entry);
        w.pending
            .insert(*id, (Arc::clone(&open.file), offset, entry.len));
        if open.size >= pack::TARGET {
            let sealed = seal(packs, open)?;
            w.sealed.extend(sealed);
        } else {
            w.open = Some(open);
        }
        Ok(())
    }

    /// Make every chunk put so far durable and present: the packs' bytes (one `syncfs`, or an
    /// fsync each), then each index (temp, fsync, rename), then the folder. Only then may a
    /// record name them.
    pub fn flush(&self) -> Result<()> {
        let sealed = {
            let mut w = lock(&self.writer);
            if let Some(open) = w.open.take() {
                let done = seal(self.packs_dir()?, open)?;
                w.sealed.extend(done);
            }
            std::mem::take(&mut w.sealed)
        };
        if sealed.is_empty() {
            return Ok(());
        }
        let packs = self.packs_dir()?;
        let io = |what: &Building, e| {
            Error::io(
                format!(
                    "Cannot flush {}",
                    packs.path().join(&what.file_name).display()
                ),
                e,
            )
        };
        if Dir::syncs_whole_fs() {
            packs.sync_below()?;
        } else {
            for b in &sealed {
                b.file.sync_all().map_err(|e| io(b, e))?;
            }
        }
        for b in &sealed {
            if let Some((name, bytes)) = &b.sealed {
                packs.write_atomic(Path::new(&pack::index_file(name)), bytes, true)?;
            }
        }
        packs.sync()?;
        if let Some(index) = self.index.get() {
            let mut index = index.write().unwrap_or_else(|p| p.into_inner());
            for b in &sealed {
                if let Some((name, _)) = &b.sealed {
                    index.add_pack(name, b.entries.clone(), Some(b.hasher.finish()));
                }
            }
        }
        let mut w = lock(&self.writer);
        for b in &sealed {
            for e in &b.entries {
                w.pending.remove(&e.id);
            }
        }
        Ok(())
    }

    /// The encoded file of a chunk (`ENOENT` when missing).
    pub fn get_raw(&self, id: &ChunkId) -> Result<Vec<u8>> {
        let mut file = Vec::new();
        self.read_raw_into(id, &mut file)?;
        Ok(file)
    }

    /// The encoded file of a chunk into `buf` (cleared first; its capacity is reused).
    pub fn read_raw_into(&self, id: &ChunkId, buf: &mut Vec<u8>) -> Result<()> {
        match self.locate_fresh(id)? {
            Some(Loc::Loose) => self.read_loose(id, buf),
            Some(Loc::Packed { pack, offset, len }) => {
                match self.read_packed(id, &pack, offset, len, buf) {
                    // the pack went (a collection repacked its chunks): look again, once
                    Err(e) if e.code() == Code::Os("ENOENT") => {
                        self.reload()?;
                        match self.locate(id)? {
                            Some(Loc::Packed { pack, offset, len }) => {
                                self.read_packed(id, &pack, offset, len, buf)
                            }
                            Some(Loc::Loose) => self.read_loose(id, buf),
                            None => Err(missing(id)),
                        }
                    }
                    other => other,
                }
            }
            None => {
                let pending = lock(&self.writer).pending.get(id).cloned();
                let (file, offset, len) = pending.ok_or_else(|| missing(id))?;
                buf.clear();
                buf.resize(len as usize, 0);
                read_at(&file, buf, u64::from(offset))
                    .map_err(|e| Error::io(format!("Cannot read chunk {}", id.hex()), e))
            }
        }
    }

    fn read_loose(&self, id: &ChunkId, buf: &mut Vec<u8>) -> Result<()> {
        let fan = self.fan(id)?;
        let name = Path::new(&id.hex()).to_path_buf();
        let file = fan.open_read(&name)?;
        read_bounded_into(file, MAX_FILE, &fan.path().join(&name), buf)
    }

    fn read_packed(
        &self,
        id: &ChunkId,
        pack: &Arc<str>,
        offset: u32,
        len: u32,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        let file = self.pack_handle(pack)?;
        buf.clear();
        buf.resize(len as usize, 0);
        read_at(&file, buf, u64::from(offset)).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => Error::new(
                Code::Corrupt,
                format!(
                    "Chunk {} is damaged: pack {pack} ends before its bytes {offset}..{}",
                    id.hex(),
                    u64::from(offset) + u64::from(len)
                ),
            ),
            _ => Error::io(format!("Cannot read pack {pack}"), e),
        })
    }

    /// Pack `name`'s file, open (a few kept open: bounded memory, few `open` calls).
    fn pack_handle(&self, name: &Arc<str>) -> Result<Arc<File>> {
        if let Some((_, f)) = lock(&self.open_packs).iter().find(|(n, _)| n == name) {
            return Ok(Arc::clone(f));
        }
        let file = Arc::new(
            self.packs_dir()?
                .open_read(Path::new(&pack::pack_file(name)))?,
        );
        let mut open = lock(&self.open_packs);
        if open.len() >= OPEN_PACKS {
            open.pop_front();
        }
        open.push_back((Arc::clone(name), Arc::clone(&file)));
        Ok(file)
    }

    /// The plain bytes of a chunk, checked against its id.
    pub fn get(&self, id: &ChunkId) -> Result<Vec<u8>> {
        decode(id, &self.get_raw(id)?)
    }

    /// The plain bytes of a chunk that was checked earlier by this process (not hashed again).
    pub fn get_checked_before(&self, id: &ChunkId) -> Result<Vec<u8>> {
        decode_as(id, &self.get_raw(id)?, false)
    }

    /// Every chunk id present.
    pub fn list(&self) -> Result<Vec<ChunkId>> {
        let index = self.index()?.read().unwrap_or_else(|p| p.into_inner());
        Ok(index.map.keys().copied().collect())
    }

    /// A chunk's encoded size in the store (0 when it is not there).
    pub fn size(&self, id: &ChunkId) -> Result<u64> {
        match self.locate(id)? {
            Some(Loc::Packed { len, .. }) => Ok(u64::from(len)),
            Some(Loc::Loose) => match self.fan(id) {
                Ok(fan) => Ok(fan.stat(Path::new(&id.hex()))?.map_or(0, |(_, size)| size)),
                Err(e) if e.code() == Code::Os("ENOENT") => Ok(0),
                Err(e) => Err(e),
            },
            None => Ok(lock(&self.writer)
                .pending
                .get(id)
                .map_or(0, |(_, _, len)| u64::from(*len))),
        }
    }

    /// Sort `ids` in the order their bytes lie on disk (pack by pack, by offset; loose and
    /// missing ones last): reads then run forward through each pack.
    pub fn sort_by_place(&self, ids: &mut [ChunkId]) -> Result<()> {
        let index = self.index()?.read().unwrap_or_else(|p| p.into_inner());
        ids.sort_by_cached_key(|id| match index.map.get(id) {
            Some(Loc::Packed { pack, offset, .. }) => (0, Arc::clone(pack), *offset),
            _ => (1, Arc::from(""), 0),
        });
        Ok(())
    }

    /// Remove a loose chunk's file (`false` when it was not there).
    pub fn remove_loose(&self, id: &ChunkId) -> Result<bool> {
        match self.fan(id) {
            Ok(fan) => fan.unlink_here(OsStr::new(&id.hex())),
            Err(e) if e.code() == Code::Os("ENOENT") => Ok(false),
            Err(e) => Err(e),
        }
    }
}

impl Drop for Chunks {
    fn drop(&mut self) {
        // a pack never flushed (an error, a cancel) is not kept half-written
        let w = self.writer.get_mut().unwrap_or_else(|p| p.into_inner());
        if let (Some(open), Some(packs)) = (w.open.take(), &self.packs) {
            let _ = packs.unlink_here(OsStr::new(&open.file_name));
        }
    }
}

static PACK_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A new empty pack: a temp file `.pack.sr-<pid>-<ms>-<n>.tmp` in `packs/` (0600, created
/// exclusively; named like [`Dir`]'s temps, so a dead writer's is told by its name).
fn new_pack(packs: &Dir) -> Result<Building> {
    let file_name = format!(
        ".pack.sr-{}-{}-{}.tmp",
        std::process::id(),
        crate::time::now_ms(),
        PACK_COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let file = packs.create_new(Path::new(&file_name), false)?;
    Ok(Building {
        file_name,
        file: Arc::new(file),
        size: 0,
        entries: Vec::new(),
        hasher: PackHasher::default(),
        sealed: None,
    })
}

/// Name a full pack by its index and rename it into place (its index is written by
/// [`Chunks::flush`]); an empty one is removed (`None`).
fn seal(packs: &Dir, mut open: Building) -> Result<Option<Building>> {
    if open.entries.is_empty() {
        packs.unlink_here(OsStr::new(&open.file_name))?;
        return Ok(None);
    }
    let (name, bytes) = pack::encode_index(&open.entries, &open.hasher.finish());
    let file_name = pack::pack_file(&name);
    packs.rename_here(OsStr::new(&open.file_name), OsStr::new(&file_name))?;
    open.file_name = file_name;
    open.sealed = Some((name, bytes));
    Ok(Some(open))
}

/// Windows only (the store's own tests run on Unix): `read_at`, the positioned read there.
#[cfg(all(test, windows))]
mod windows_tests {
    use super::*;

    /// The bytes at an offset, however the file is read; a file shorter than what is asked
    /// is `UnexpectedEof`, from the start as from further on.
    #[test]
    fn read_at_reads_at_the_offset_and_refuses_to_run_past_the_end() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("pack");
        std::fs::write(&path, b"0123456789").unwrap();
        let file = File::open(&path).unwrap();
        let mut buf = [0u8; 4];
        read_at(&file, &mut buf, 3).unwrap();
        assert_eq!(&buf, b"3456");
        for offset in [0, 4, 5, 10] {
            let mut long = [0u8; 11];
            let err = read_at(&file, &mut long, offset).unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof, "at {offset}");
        }
        read_at(&file, &mut [], 10).unwrap();
    }
}
