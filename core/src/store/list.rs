//! Id lists (store format version 2): a list of chunk ids longer than [`INLINE`] is not
//! written where it is used (a tree line, a record) but in chunks of its own, each the
//! concatenated 32-byte binary ids of a run of the list, cut where the content says (so a
//! list that changes in a few places shares its other runs with the previous snapshot's);
//! the list of those chunks is cut again the same way until at most [`INLINE`] ids are left.
//! What is written where the list is used is that top level and its `depth` (0: the ids are
//! the data chunks themselves).
//!
//! Cut rule (docs/store-format.md): a run ends after id `x` when the run holds at least
//! [`MIN_RUN`] ids and the last byte of `x` has its low three bits clear, or when it holds
//! [`MAX_RUN`] ids. Ids are SHA-256 digests, so about one id in 8 ends a run: runs of ~10
//! ids (320 bytes), and a changed id rewrites its own run only (a database checkpoint that
//! changed 126 pages of 12,800 rewrites ~70 KB of lists; runs of ~20 ids cost ~100 KB).
//! The minimum run makes every level at least twice shorter than the one below, whatever the
//! ids (a run of equal ids, the zeros of a sparse file, would otherwise cut after each one
//! forever).

use super::chunk::ChunkId;
use crate::error::{Code, Error, Result};

/// Lists of at most this many ids stay where they are used.
pub const INLINE: usize = 64;
/// Fewest ids in a run (except a list's last run).
pub const MIN_RUN: usize = 2;
/// Most ids in a run (32 KiB of ids).
pub const MAX_RUN: usize = 1024;
/// An id whose last byte has these bits clear ends a run.
const CUT_MASK: u8 = 0x07;
/// Deepest list a reader follows (each level is at least twice shorter: 64 * 2^32 ids).
const MAX_DEPTH: u32 = 32;

/// The runs of `ids`, in order.
pub fn runs(ids: &[ChunkId]) -> Vec<&[ChunkId]> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, id) in ids.iter().enumerate() {
        let len = i + 1 - start;
        if (len >= MIN_RUN && id.0[31] & CUT_MASK == 0) || len == MAX_RUN {
            out.push(&ids[start..=i]);
            start = i + 1;
        }
    }
    if start < ids.len() {
        out.push(&ids[start..]);
    }
    out
}

/// Store `ids` as a list: each run of each level handed to `put` (which stores the bytes as
/// a chunk and returns its id); the top level (at most [`INLINE`] ids) and its depth.
pub fn encode(
    mut ids: Vec<ChunkId>,
    put: &mut dyn FnMut(&[u8]) -> Result<ChunkId>,
) -> Result<(Vec<ChunkId>, u32)> {
    let mut depth = 0;
    while ids.len() > INLINE {
        let mut up = Vec::with_capacity(ids.len() / MIN_RUN + 1);
        for run in runs(&ids) {
            let bytes: Vec<u8> = run.iter().flat_map(|id| id.0).collect();
            up.push(put(&bytes)?);
        }
        ids = up;
        depth += 1;
    }
    Ok((ids, depth))
}

/// The ids of a list chunk's plain bytes (`ECORRUPT` unless whole, non-empty ids).
pub fn parse(bytes: &[u8]) -> Result<Vec<ChunkId>> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(32) {
        return Err(Error::new(
            Code::Corrupt,
            format!("A list chunk of {} bytes holds no whole ids", bytes.len()),
        ));
    }
    Ok(bytes
        .chunks_exact(32)
        .map(|c| {
            let mut id = [0u8; 32];
            id.copy_from_slice(c);
            ChunkId(id)
        })
        .collect())
}

/// Reads a list chunk, told how many list levels lie below it; `None`: leave it out.
pub type ListFetch<'f> = dyn FnMut(&ChunkId, u32) -> Result<Option<Vec<u8>>> + 'f;

/// The data chunk ids of a list stored as `top` at `depth`, each list chunk read through
/// `fetch`, told how many list levels lie below the chunk (0: its ids are the data) (`None`:
/// a run the caller does not want expanded, left out). `limit`: most ids a
/// level may hold (a file has at most one chunk per byte), so a crafted list cannot make a
/// reader allocate without bound.
pub fn resolve(
    top: Vec<ChunkId>,
    depth: u32,
    limit: u64,
    fetch: &mut ListFetch<'_>,
) -> Result<Vec<ChunkId>> {
    if depth > MAX_DEPTH {
        return Err(Error::new(
            Code::Corrupt,
            format!("A list of depth {depth} (at most {MAX_DEPTH})"),
        ));
    }
    let mut ids = top;
    for level in 0..depth {
        let mut down = Vec::new();
        for id in &ids {
            if let Some(bytes) = fetch(id, depth - 1 - level)? {
                down.extend(parse(&bytes)?);
            }
            if down.len() as u64 > limit {
                return Err(Error::new(
                    Code::Corrupt,
                    format!("A list holds more than {limit} ids"),
                ));
            }
        }
        ids = down;
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn ids(n: u32) -> Vec<ChunkId> {
        (0..n).map(|i| ChunkId::of(&i.to_le_bytes())).collect()
    }

    fn stored(list: Vec<ChunkId>) -> (Vec<ChunkId>, u32, HashMap<ChunkId, Vec<u8>>) {
        let mut store = HashMap::new();
        let (top, depth) = encode(list, &mut |b: &[u8]| {
            let id = ChunkId::of(b);
            store.insert(id, b.to_vec());
            Ok(id)
        })
        .unwrap();
        (top, depth, store)
    }

    #[test]
    fn short_lists_stay_inline_and_long_ones_round_trip_through_levels() {
        let (top, depth, store) = stored(ids(64));
        assert_eq!((top.len(), depth, store.len()), (64, 0, 0));
        for n in [65, 1500, 40_000] {
            let list = ids(n);
            let (top, depth, store) = stored(list.clone());
            assert!(
                top.len() <= INLINE && depth >= 1,
                "{n}: {} {depth}",
                top.len()
            );
            let back = resolve(top, depth, n.into(), &mut |id, _| {
                store
                    .get(id)
                    .cloned()
                    .map(Some)
                    .ok_or_else(|| Error::new(Code::Os("ENOENT"), "missing"))
            })
            .unwrap();
            assert_eq!(back, list);
        }
    }

    #[test]
    fn runs_are_bounded_and_a_changed_id_changes_one_run() {
        let list = ids(20_000);
        let sizes: Vec<usize> = runs(&list).iter().map(|r| r.len()).collect();
        assert!(sizes[..sizes.len() - 1].iter().all(|&s| s >= MIN_RUN));
        let avg = 20_000 / sizes.len();
        assert!((6..=14).contains(&avg), "average run {avg}");
        // equal ids (a sparse file's zeros) still shrink each level
        let zeros = vec![ChunkId::of(&[0; 4096]); 5000];
        assert!(runs(&zeros).len() <= 5000 / MIN_RUN + 1);
        let mut changed = list.clone();
        changed[7_000] = ChunkId::of(b"new");
        let before: std::collections::HashSet<_> = runs(&list).into_iter().collect();
        let new = runs(&changed)
            .into_iter()
            .filter(|r| !before.contains(r))
            .count();
        assert!(new <= 2, "{new} runs changed");
    }

    #[test]
    fn each_list_chunk_is_fetched_with_the_levels_below_it() {
        let list = ids(40_000);
        let (top, depth, store) = stored(list.clone());
        assert!(depth >= 2, "depth {depth}");
        let data: std::collections::HashSet<_> = list.iter().copied().collect();
        let mut told = Vec::new();
        let back = resolve(top, depth, 40_000, &mut |id, below| {
            told.push(below);
            let bytes = store[id].clone();
            // the chunks told 0 hold data ids, the others list chunks' ids
            let held = parse(&bytes).unwrap();
            assert_eq!(
                held.iter().all(|i| data.contains(i)),
                below == 0,
                "below {below}"
            );
            Ok(Some(bytes))
        })
        .unwrap();
        assert_eq!(back, list);
        assert_eq!(told.first(), Some(&(depth - 1)));
        assert_eq!(told.last(), Some(&0));
        assert!(told.windows(2).all(|w| w[0] >= w[1]), "{told:?}");
    }

    #[test]
    fn a_list_as_deep_as_a_reader_follows_resolves_and_a_deeper_one_is_not_read() {
        let one = ChunkId::of(b"x");
        let mut fetched = 0;
        let mut fetch = |_: &ChunkId, _| {
            fetched += 1;
            Ok(Some(one.0.to_vec()))
        };
        assert_eq!(
            resolve(vec![one], MAX_DEPTH, 1, &mut fetch).unwrap(),
            vec![one]
        );
        let err = resolve(vec![one], MAX_DEPTH + 1, 1, &mut fetch).unwrap_err();
        assert_eq!(err.code(), Code::Corrupt);
        // refused before any chunk is read
        assert_eq!(fetched, MAX_DEPTH);
    }

    #[test]
    fn crafted_lists_are_refused() {
        assert_eq!(parse(&[1; 33]).unwrap_err().code(), Code::Corrupt);
        assert_eq!(parse(&[]).unwrap_err().code(), Code::Corrupt);
        let one = ChunkId::of(b"x");
        let mut fetch = |_: &ChunkId, _| Ok(Some(one.0.repeat(8)));
        let err = resolve(vec![one; 8], 3, 100, &mut fetch).unwrap_err();
        assert_eq!(err.code(), Code::Corrupt);
        let err = resolve(vec![one], MAX_DEPTH + 1, 100, &mut fetch).unwrap_err();
        assert_eq!(err.code(), Code::Corrupt);
    }
}
