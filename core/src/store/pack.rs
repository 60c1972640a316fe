//! Pack files (format version 3): many encoded chunks in one file, and the index that says
//! where each one is.
//!
//! A first snapshot of a project writes tens of thousands of chunks; one file each (format 2)
//! made the kernel's file creation most of its time. A pack is the concatenation of encoded
//! chunks, each exactly as a loose chunk file holds it (codec byte + payload), written
//! through one temp file and renamed to `packs/<name>.pack` once full. Its index
//! `packs/<name>.idx` lists every chunk's id, offset and length; it is written only once the
//! pack's bytes are durable, so a chunk counts as present only when its index is there.
//!
//! Index bytes: the magic `SRIDX\0\0\x03`, the number of entries (u32 big-endian), 16 bytes
//! unique to this pack (its writer's pid, the time and a counter, hashed), then per entry the
//! id (32 bytes), offset and length (u32 big-endian each), then the SHA-256 of all of that.
//! `<name>` is that digest in hex: an index names itself, so a damaged one is told from a
//! good one without the pack; and no two packs share a name, even with the same chunks at the
//! same offsets (a collection that rewrote a chunk alone into a new pack while removing an
//! older pack of that chunk alone would otherwise remove the new one with it).

use sha2::{Digest, Sha256};

use super::chunk::{ChunkId, MAX_FILE};
use crate::error::{Code, Error, Result};

/// A pack is sealed once it holds this many bytes (restic's default pack size): a first
/// snapshot of the bench (113 MB) is 7 packs, a checkpoint one small pack.
pub const TARGET: u64 = 16 * 1024 * 1024;

const MAGIC: &[u8; 8] = b"SRIDX\0\0\x03";
const HEAD: usize = 28;
const UNIQUE: std::ops::Range<usize> = 12..28;
const ENTRY: usize = 40;
const DIGEST: usize = 32;

/// The largest index a reader accepts: far above a pack of TARGET bytes of the smallest
/// chunks (2 bytes each: ~8 M entries would be 320 MiB; real packs of 4 KiB pages hold ~8 K).
pub const MAX_INDEX: u64 = 64 * 1024 * 1024;

/// Where one chunk is in its pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexEntry {
    pub id: ChunkId,
    pub offset: u32,
    pub len: u32,
}

static PACKS_NAMED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// 16 bytes no other pack has: this process, the time, a counter, hashed.
fn unique() -> [u8; 16] {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = PACKS_NAMED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut h = Sha256::new();
    h.update(std::process::id().to_be_bytes());
    h.update(nanos.to_be_bytes());
    h.update(n.to_be_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(&h.finalize()[..16]);
    out
}

/// The index bytes of `entries` and the pack's name (the hex digest that ends them).
pub fn encode_index(entries: &[IndexEntry]) -> (String, Vec<u8>) {
    let mut out = Vec::with_capacity(HEAD + entries.len() * ENTRY + DIGEST);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    out.extend_from_slice(&unique());
    debug_assert_eq!(out.len(), UNIQUE.end);
    for e in entries {
        out.extend_from_slice(&e.id.0);
        out.extend_from_slice(&e.offset.to_be_bytes());
        out.extend_from_slice(&e.len.to_be_bytes());
    }
    let digest: [u8; 32] = Sha256::digest(&out).into();
    out.extend_from_slice(&digest);
    (ChunkId(digest).hex(), out)
}

/// The entries of index `name` (its file's bytes); `ECORRUPT` for anything but an index
/// that hashes to its name with entries a pack can hold.
pub fn parse_index(name: &str, bytes: &[u8]) -> Result<Vec<IndexEntry>> {
    let bad = |why: &str| {
        Error::new(
            Code::Corrupt,
            format!("The index of pack {name} is damaged: {why}"),
        )
    };
    if bytes.len() < HEAD + DIGEST || &bytes[..8] != MAGIC {
        return Err(bad("not a version 3 pack index"));
    }
    let (body, digest) = bytes.split_at(bytes.len() - DIGEST);
    if ChunkId(Sha256::digest(body).into()).hex() != name
        || digest != Sha256::digest(body).as_slice()
    {
        return Err(bad("its content does not match its name"));
    }
    let count = u32::from_be_bytes([body[8], body[9], body[10], body[11]]) as usize;
    if body.len() != HEAD + count * ENTRY {
        return Err(bad("its length does not match its number of entries"));
    }
    body[HEAD..]
        .chunks_exact(ENTRY)
        .map(|e| {
            let word = |at: usize| u32::from_be_bytes([e[at], e[at + 1], e[at + 2], e[at + 3]]);
            let mut id = [0u8; 32];
            id.copy_from_slice(&e[..32]);
            let (offset, len) = (word(32), word(36));
            if len == 0 || u64::from(len) > MAX_FILE {
                return Err(bad(&format!("an entry of {len} bytes")));
            }
            Ok(IndexEntry {
                id: ChunkId(id),
                offset,
                len,
            })
        })
        .collect()
}

/// `<stem>` when `name` is `<64 hex digits><suffix>`.
pub fn stem<'a>(name: &'a str, suffix: &str) -> Option<&'a str> {
    name.strip_suffix(suffix)
        .filter(|s| ChunkId::parse(s).is_ok())
}

pub fn pack_file(name: &str) -> String {
    format!("{name}.pack")
}

pub fn index_file(name: &str) -> String {
    format!("{name}.idx")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_round_trips_and_names_itself() {
        let entries = vec![
            IndexEntry {
                id: ChunkId::of(b"a"),
                offset: 0,
                len: 7,
            },
            IndexEntry {
                id: ChunkId::of(b"b"),
                offset: 7,
                len: 3,
            },
        ];
        let (name, bytes) = encode_index(&entries);
        assert_eq!(bytes.len(), HEAD + 2 * ENTRY + DIGEST);
        assert_eq!(parse_index(&name, &bytes).unwrap(), entries);
        // the same entries again: another pack, another name
        let (again, other) = encode_index(&entries);
        assert_ne!(again, name);
        assert_ne!(other[UNIQUE], bytes[UNIQUE]);
        assert_eq!(parse_index(&again, &other).unwrap(), entries);
        assert_eq!(stem(&index_file(&name), ".idx"), Some(name.as_str()));
        assert_eq!(stem("x.idx", ".idx"), None);
    }

    #[test]
    fn a_damaged_or_renamed_index_is_corrupt() {
        let entries = [IndexEntry {
            id: ChunkId::of(b"a"),
            offset: 0,
            len: 7,
        }];
        let (name, bytes) = encode_index(&entries);
        let other = ChunkId::of(b"other").hex();
        assert_eq!(
            parse_index(&other, &bytes).unwrap_err().code(),
            Code::Corrupt
        );
        for at in [0, 11, 20, 45, bytes.len() - 1] {
            let mut flipped = bytes.clone();
            flipped[at] ^= 1;
            assert_eq!(
                parse_index(&name, &flipped).unwrap_err().code(),
                Code::Corrupt
            );
        }
        assert!(parse_index(&name, &bytes[..10]).is_err());
        // an entry longer than a chunk file can be, in an index that hashes right
        let (name, bytes) = encode_index(&[IndexEntry {
            id: ChunkId::of(b"a"),
            offset: 0,
            len: MAX_FILE as u32 + 1,
        }]);
        assert_eq!(
            parse_index(&name, &bytes).unwrap_err().code(),
            Code::Corrupt
        );
    }
}
