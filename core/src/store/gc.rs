//! Garbage collection: remove the chunks no snapshot record references.
//!
//! The set of referenced chunks is built from every record first; a record, list or pack
//! index that cannot be read stops the collection (`ECORRUPT`, nothing removed): what it
//! names is unknown, so nothing is removed rather than something it needs. Then:
//!
//! - a pack none of whose chunks is live: its index is removed, then the pack;
//! - a pack whose dead chunks are at least [`REPACK_SHARE`] of its bytes: its live chunks
//!   are copied into new packs, which are flushed (durable, indexed) before its index is
//!   removed, then the pack;
//! - a loose chunk (versions 1-2) that is dead: unlinked;
//! - a temp file whose writer is gone (a killed snapshot's open pack): removed; a pack
//!   without an index (sealed, its writer killed before the flush) older than [`GRACE`]:
//!   removed.
//!
//! So a kill at any moment leaves every live chunk reachable through at least one complete
//! index (the old one until the new one is durable; two for a while after a kill between the
//! two, which the next collection resolves); it can only leave garbage for the next run.
//!
//! A collection racing a snapshot being taken would see neither the new chunks' index (not
//! flushed yet) nor the parent chunks it reuses once their record is removed: callers hold
//! the store's lock around both (lib/backup/snapshot.js, `store-<hash>` in the lock folder).
//! The grace before an unindexed pack is removed is a second guard, for a writer that does
//! not take the lock.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::path::Path;

use super::chunk::ChunkId;
use super::chunks::{Index, Loc, Pack};
use super::pack;
use super::Store;
use crate::error::{Code, Error, Result};
use crate::fsx::beneath::{Dir, Kind};

/// A pack is rewritten once its dead chunks are this share of its bytes (numerator,
/// denominator): below, the space is not worth the copy.
pub const REPACK_SHARE: (u64, u64) = (1, 4);

/// Seconds an unindexed pack is left alone (its writer may still run; a sealed pack's name
/// does not say who wrote it, as a temp's does).
pub const GRACE: i64 = 3600;

/// What a collection removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcStats {
    pub snapshots: u64,
    /// Chunks present, and those removed with their bytes on disk.
    pub chunks: u64,
    pub removed: u64,
    pub removed_bytes: u64,
}

fn stopped(e: Error) -> Error {
    Error::new(
        e.code(),
        format!("Garbage collection stopped, nothing removed: {e}"),
    )
}

/// Remove every chunk of the store folder `store` that no snapshot references.
pub fn collect_garbage(store: &Path) -> Result<GcStats> {
    let store = Store::open(store, false)?;
    let mut live: HashSet<ChunkId> = HashSet::new();
    let ids = store.ids()?;
    for id in &ids {
        let record = store.record(id)?;
        store
            .references(&record, &mut |c| {
                live.insert(c);
                Ok(())
            })
            .map_err(stopped)?;
    }
    let index = store.chunks().load()?;
    if let Some((_, why)) = index.damaged.first() {
        return Err(stopped(Error::new(Code::Corrupt, why.clone())));
    }
    let mut stats = GcStats {
        snapshots: ids.len() as u64,
        chunks: index.map.len() as u64,
        ..GcStats::default()
    };
    collect_packs(&store, &index, &live, &mut stats)?;
    for id in &index.loose {
        if live.contains(id) && index.map.get(id) == Some(&Loc::Loose) {
            continue;
        }
        let size = store.chunks().size(id)?;
        if store.chunks().remove_loose(id)? {
            stats.removed += u64::from(index.map.get(id) == Some(&Loc::Loose));
            stats.removed_bytes += size;
        }
    }
    if let Ok(packs) = store.chunks().packs_dir() {
        remove_orphans(packs, &mut stats)?;
    }
    Ok(stats)
}

/// Is entry `e` of `pack` the place of a live chunk?
fn kept(index: &Index, live: &HashSet<ChunkId>, pack: &Pack, e: &pack::IndexEntry) -> bool {
    live.contains(&e.id)
        && matches!(index.map.get(&e.id),
            Some(Loc::Packed { pack: p, offset, .. }) if *p == pack.name && *offset == e.offset)
}

/// Remove the packs with no live chunk, repack those mostly dead.
fn collect_packs(
    store: &Store,
    index: &Index,
    live: &HashSet<ChunkId>,
    stats: &mut GcStats,
) -> Result<()> {
    let chunks = store.chunks();
    let (num, den) = REPACK_SHARE;
    let doomed: Vec<&Pack> = index
        .packs
        .iter()
        .filter(|pack| {
            let (mut kept_bytes, mut dead_bytes) = (0u64, 0u64);
            for e in &pack.entries {
                match kept(index, live, pack, e) {
                    true => kept_bytes += u64::from(e.len),
                    false => dead_bytes += u64::from(e.len),
                }
            }
            // no live chunk (an index listing none too: it holds nothing a reader can
            // find), or dead chunks at least REPACK_SHARE of its bytes
            kept_bytes == 0 || dead_bytes * den >= (kept_bytes + dead_bytes) * num
        })
        .collect();
    // a live chunk another pack that stays also lists is reachable through it: not copied
    // (a copy would be a second one, dead at the next collection)
    let gone: HashSet<&str> = doomed.iter().map(|p| &*p.name).collect();
    let elsewhere: HashSet<ChunkId> = index
        .packs
        .iter()
        .filter(|p| !gone.contains(&*p.name))
        .flat_map(|p| p.entries.iter().map(|e| e.id))
        .collect();
    for pack in &doomed {
        for e in pack.entries.iter().filter(|e| kept(index, live, pack, e)) {
            if !elsewhere.contains(&e.id) {
                chunks.put(&e.id, &chunks.get_raw(&e.id)?)?;
            }
        }
    }
    // the copies durable and indexed before any index that lists the originals goes
    chunks.flush()?;
    let Ok(packs) = chunks.packs_dir() else {
        return Ok(());
    };
    for pack in doomed {
        for e in &pack.entries {
            let here = matches!(index.map.get(&e.id),
                Some(Loc::Packed { pack: p, offset, .. }) if *p == pack.name && *offset == e.offset);
            if here && !live.contains(&e.id) {
                stats.removed += 1;
            }
            if !kept(index, live, pack, e) {
                stats.removed_bytes += u64::from(e.len);
            }
        }
        packs.unlink_here(OsStr::new(&pack::index_file(&pack.name)))?;
        packs.unlink_here(OsStr::new(&pack::pack_file(&pack.name)))?;
    }
    Ok(())
}

/// Remove the temp files of `packs/` whose writer is gone (a killed snapshot's open pack),
/// and packs without an index once older than [`GRACE`].
fn remove_orphans(packs: &Dir, stats: &mut GcStats) -> Result<()> {
    packs.sweep_dead_temps();
    let listing = packs.list(Path::new(""))?;
    let names: HashSet<&OsStr> = listing.iter().map(|(n, _)| n.as_os_str()).collect();
    let now = crate::time::now_ms() / 1000;
    for (file, kind) in &listing {
        let Some(stem) = file.to_str().and_then(|f| pack::stem(f, ".pack")) else {
            continue;
        };
        if *kind != Kind::File || names.contains(OsStr::new(&pack::index_file(stem))) {
            continue;
        }
        let Some(meta) = packs.meta(Path::new(file))? else {
            continue;
        };
        if now - meta.mtime.0 >= GRACE && packs.unlink_here(file)? {
            stats.removed_bytes += meta.size;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::snapshot;
    use crate::store::testkit::{project, snap};
    use crate::testutil::names_in;
    use std::fs;

    fn packs(store: &Path) -> Vec<String> {
        names_in(&store.join("packs"))
    }

    /// A pack whose dead chunks are below REPACK_SHARE of its bytes is left as it is (the
    /// space is not worth the copy): here a few dead bytes beside 300 kB still live.
    #[test]
    fn a_pack_mostly_live_is_not_rewritten() {
        let (_tmp, root, store) = project();
        let big: Vec<u8> = (0..300_000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 7) as u8)
            .collect();
        fs::write(root.join("big.bin"), &big).unwrap();
        fs::write(root.join("small.txt"), "only in s1\n").unwrap();
        snap(&root, &store, "s1");
        fs::remove_file(root.join("small.txt")).unwrap();
        snap(&root, &store, "s2");
        let before = packs(&store);
        let opened = Store::open(&store, false).unwrap();
        assert!(snapshot::remove(opened.snapshots_dir(), "s1").unwrap());
        let gc = collect_garbage(&store).unwrap();
        assert_eq!(gc.snapshots, 1, "{gc:?}");
        assert_eq!(packs(&store), before, "{gc:?}");
    }

    /// A pack whose index lists no chunk holds nothing a reader can find: it goes, index
    /// first, like a pack whose chunks are all dead (no writer makes one; a planted or
    /// hand-made one would otherwise stay for ever).
    #[test]
    fn a_pack_whose_index_lists_nothing_is_removed() {
        let (_tmp, root, store) = project();
        fs::write(root.join("a.txt"), "alpha\n").unwrap();
        snap(&root, &store, "s1");
        let before = packs(&store);
        let digest = pack::PackDigest {
            hash: pack::PackHash::Blake3,
            digest: *blake3::hash(b"").as_bytes(),
        };
        let (name, bytes) = pack::encode_index(&[], &digest);
        fs::write(store.join("packs").join(format!("{name}.idx")), bytes).unwrap();
        fs::write(store.join("packs").join(format!("{name}.pack")), b"").unwrap();
        let gc = collect_garbage(&store).unwrap();
        assert_eq!(packs(&store), before, "{gc:?}");
        assert_eq!((gc.removed, gc.removed_bytes), (0, 0), "{gc:?}");
    }

    /// A pack rewritten because most of it is dead: the chunks counted removed are exactly
    /// those no snapshot left references (not the live one copied out), and the live one
    /// still reads.
    #[test]
    fn a_rewritten_pack_counts_only_its_dead_chunks_removed() {
        let (_tmp, root, store) = project();
        fs::write(root.join("keep.txt"), "kept\n").unwrap();
        let noise: Vec<u8> = (0..200_000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 9) as u8)
            .collect();
        fs::write(root.join("gone.bin"), &noise).unwrap();
        snap(&root, &store, "s1");
        fs::remove_file(root.join("gone.bin")).unwrap();
        snap(&root, &store, "s2");
        let opened = Store::open(&store, false).unwrap();
        let refs = |id: &str| {
            let mut ids = HashSet::new();
            let record = opened.record(id).unwrap();
            opened
                .references(&record, &mut |c| {
                    ids.insert(c);
                    Ok(())
                })
                .unwrap();
            ids
        };
        let dead = refs("s1").difference(&refs("s2")).count() as u64;
        assert!(dead >= 2, "gone.bin's chunks and s1's tree: {dead}");
        assert!(snapshot::remove(opened.snapshots_dir(), "s1").unwrap());
        let gc = collect_garbage(&store).unwrap();
        assert_eq!(gc.removed, dead, "{gc:?}");
        let kept = Store::open(&store, false).unwrap();
        let text = kept.chunks().get(&ChunkId::of(b"kept\n")).unwrap();
        assert_eq!(text, b"kept\n");
    }

    /// Past the grace period a pack without an index goes, its bytes counted; a pack with
    /// its index stays however old it is.
    #[test]
    fn only_an_unindexed_pack_past_the_grace_goes() {
        let (_tmp, root, store) = project();
        fs::write(root.join("a.txt"), "alpha\n").unwrap();
        snap(&root, &store, "s1");
        let packs_dir = store.join("packs");
        let orphan = packs_dir.join(format!("{}.pack", "ab".repeat(32)));
        let body = b"a sealed pack whose index never came";
        fs::write(&orphan, body).unwrap();
        let long_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 3600);
        for name in packs(&store) {
            let file = fs::File::options()
                .write(true)
                .open(packs_dir.join(name))
                .unwrap();
            file.set_modified(long_ago).unwrap();
        }
        let before = packs(&store);
        let gc = collect_garbage(&store).unwrap();
        let orphan_name = orphan.file_name().unwrap().to_str().unwrap().to_string();
        let expected: Vec<String> = before.into_iter().filter(|n| *n != orphan_name).collect();
        assert_eq!(packs(&store), expected, "{gc:?}");
        assert_eq!(gc.removed_bytes, body.len() as u64, "{gc:?}");
        assert!(crate::store::verify_store(&store, None).unwrap().ok());
    }

    /// The stats count the snapshots the collection kept chunks for: two, then one once a
    /// record is removed (and nothing removed while both stand).
    #[test]
    fn the_stats_count_the_snapshots_kept() {
        let (_tmp, root, store) = project();
        fs::write(root.join("a.txt"), "alpha\n").unwrap();
        for id in ["s1", "s2"] {
            fs::write(root.join(format!("{id}.txt")), id).unwrap();
            snap(&root, &store, id);
        }
        let both = collect_garbage(&store).unwrap();
        assert_eq!((both.snapshots, both.removed), (2, 0), "{both:?}");
        let opened = Store::open(&store, false).unwrap();
        assert!(snapshot::remove(opened.snapshots_dir(), "s2").unwrap());
        let one = collect_garbage(&store).unwrap();
        assert_eq!(one.snapshots, 1, "{one:?}");
        assert!(one.removed >= 1, "{one:?}");
    }
}
