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
//! Index bytes: the magic `SRIDX\0\0\x04`, the number of entries (u32 big-endian), 16 bytes
//! unique to this pack (its writer's pid, the time and a counter, hashed), then per entry the
//! id (32 bytes), offset and length (u32 big-endian each), then the digest of the whole pack
//! file (an algorithm byte, [`PackHash`], and 32 bytes), then the SHA-256 of all of that.
//! Indexes of format version 3 (magic `...\x03`) are the same without the pack digest: read
//! as they are, their packs verified chunk by chunk.
//!
//! Why a digest of the whole pack: verify hashes each pack file once, the way `b3sum` does,
//! instead of inflating and hashing every chunk in it; a pack whose digest matches holds every
//! chunk as its writer stored it, and the writer derived each id from the chunk's plain bytes
//! before it compressed them.
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

const MAGIC: &[u8; 8] = b"SRIDX\0\0\x04";
/// Format version 3's magic: an index without the pack's digest.
const MAGIC_V3: &[u8; 8] = b"SRIDX\0\0\x03";
const HEAD: usize = 28;
/// The pack digest's field: the algorithm byte and 32 bytes.
const PACK_DIGEST: usize = 33;
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

/// The hash of a whole pack file its index records (the algorithm byte of the index).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PackHash {
    /// 1: what the JS backend writes (Node has no BLAKE3).
    Sha256,
    /// 2: what this code writes.
    Blake3,
    /// A byte this code does not know (a later version's): verify checks that pack chunk by
    /// chunk.
    Other(u8),
}

impl PackHash {
    fn byte(self) -> u8 {
        match self {
            PackHash::Sha256 => 1,
            PackHash::Blake3 => 2,
            PackHash::Other(b) => b,
        }
    }

    fn from_byte(b: u8) -> PackHash {
        match b {
            1 => PackHash::Sha256,
            2 => PackHash::Blake3,
            b => PackHash::Other(b),
        }
    }
}

/// The digest of a whole pack file, as its index records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackDigest {
    pub hash: PackHash,
    pub digest: [u8; 32],
}

/// A pack's digest, computed as its chunks are appended (BLAKE3).
#[derive(Default)]
pub struct PackHasher(blake3::Hasher);

impl PackHasher {
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    pub fn finish(&self) -> PackDigest {
        PackDigest {
            hash: PackHash::Blake3,
            digest: *self.0.finalize().as_bytes(),
        }
    }
}

/// Bytes read at a time when a pack file is hashed whole (large reads: BLAKE3 hashes many of
/// its 1 KiB blocks at once with SIMD).
///
/// Read, never mapped: a mapped file that another process truncates meanwhile faults
/// (SIGBUS) and would kill the Node process, and whoever can write in the project can
/// truncate a pack. The copy out of the page cache costs ~20 % more CPU than mapping
/// (measured: 5 passes over the bench store's 214 MiB of packs, 0.44 s read in 1 MiB blocks
/// against 0.35 s mapped), and on 2 cores the hashing runs beside the longer tree walk.
const READ: usize = 1024 * 1024;

/// A whole-pack hash being computed, by the algorithm an index names.
enum Digester {
    Sha(Sha256),
    Blake(Box<blake3::Hasher>),
}

impl Digester {
    /// `None` when this code cannot compute `hash`.
    fn new(hash: PackHash) -> Option<Digester> {
        match hash {
            PackHash::Sha256 => Some(Digester::Sha(Sha256::new())),
            PackHash::Blake3 => Some(Digester::Blake(Box::default())),
            PackHash::Other(_) => None,
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        match self {
            Digester::Sha(h) => h.update(bytes),
            Digester::Blake(h) => {
                h.update(bytes);
            }
        }
    }

    fn finish(self) -> [u8; 32] {
        match self {
            Digester::Sha(h) => h.finalize().into(),
            Digester::Blake(h) => *h.finalize().as_bytes(),
        }
    }
}

/// The digest of the whole file `file` by `hash`, read with `buf`, and the file's size; `None`
/// when this code cannot compute that hash.
pub fn digest_file(
    file: &mut impl std::io::Read,
    hash: PackHash,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<([u8; 32], u64)>> {
    let Some(mut hasher) = Digester::new(hash) else {
        return Ok(None);
    };
    buf.resize(READ, 0);
    let mut size = 0u64;
    loop {
        let n = match file.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok(Some((hasher.finish(), size)))
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

/// The index bytes of `entries` in a pack whose file hashes to `pack`, and the pack's name
/// (the hex digest that ends them).
pub fn encode_index(entries: &[IndexEntry], pack: &PackDigest) -> (String, Vec<u8>) {
    let mut out = Vec::with_capacity(HEAD + entries.len() * ENTRY + PACK_DIGEST + DIGEST);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    out.extend_from_slice(&unique());
    debug_assert_eq!(out.len(), UNIQUE.end);
    for e in entries {
        out.extend_from_slice(&e.id.0);
        out.extend_from_slice(&e.offset.to_be_bytes());
        out.extend_from_slice(&e.len.to_be_bytes());
    }
    out.push(pack.hash.byte());
    out.extend_from_slice(&pack.digest);
    let digest: [u8; 32] = Sha256::digest(&out).into();
    out.extend_from_slice(&digest);
    (ChunkId(digest).hex(), out)
}

/// The entries of index `name` (its file's bytes) and the pack's digest (`None` in a version 3
/// index); `ECORRUPT` for anything but an index that hashes to its name with entries a pack
/// can hold.
pub fn parse_index(name: &str, bytes: &[u8]) -> Result<(Vec<IndexEntry>, Option<PackDigest>)> {
    let bad = |why: &str| {
        Error::new(
            Code::Corrupt,
            format!("The index of pack {name} is damaged: {why}"),
        )
    };
    let tail = match bytes.get(..8) {
        Some(m) if m == MAGIC => PACK_DIGEST,
        Some(m) if m == MAGIC_V3 => 0,
        _ => return Err(bad("not a version 3 or 4 pack index")),
    };
    if bytes.len() < HEAD + tail + DIGEST {
        return Err(bad("not a version 3 or 4 pack index"));
    }
    let (body, digest) = bytes.split_at(bytes.len() - DIGEST);
    if ChunkId(Sha256::digest(body).into()).hex() != name
        || digest != Sha256::digest(body).as_slice()
    {
        return Err(bad("its content does not match its name"));
    }
    let count = u32::from_be_bytes([body[8], body[9], body[10], body[11]]) as usize;
    if body.len() != HEAD + count * ENTRY + tail {
        return Err(bad("its length does not match its number of entries"));
    }
    let (body, pack) = body.split_at(body.len() - tail);
    let pack = pack.split_first().map(|(hash, digest)| {
        let mut d = [0u8; 32];
        d.copy_from_slice(digest);
        PackDigest {
            hash: PackHash::from_byte(*hash),
            digest: d,
        }
    });
    let entries = body[HEAD..]
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
        .collect::<Result<Vec<_>>>()?;
    Ok((entries, pack))
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

    /// An index of one 7-byte chunk at the start of its pack.
    fn one_entry() -> [IndexEntry; 1] {
        [IndexEntry {
            id: ChunkId::of(b"a"),
            offset: 0,
            len: 7,
        }]
    }

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
        let digest = PackDigest {
            hash: PackHash::Blake3,
            digest: [7; 32],
        };
        let (name, bytes) = encode_index(&entries, &digest);
        assert_eq!(bytes.len(), HEAD + 2 * ENTRY + PACK_DIGEST + DIGEST);
        assert_eq!(
            parse_index(&name, &bytes).unwrap(),
            (entries.clone(), Some(digest))
        );
        // the same entries again: another pack, another name
        let (again, other) = encode_index(&entries, &digest);
        assert_ne!(again, name);
        assert_ne!(other[UNIQUE], bytes[UNIQUE]);
        assert_eq!(parse_index(&again, &other).unwrap().0, entries);
        assert_eq!(stem(&index_file(&name), ".idx"), Some(name.as_str()));
        assert_eq!(stem("x.idx", ".idx"), None);
    }

    #[test]
    fn a_damaged_or_renamed_index_is_corrupt() {
        let entries = one_entry();
        let (name, bytes) = encode_index(&entries, &PackHasher::default().finish());
        let other = ChunkId::of(b"other").hex();
        assert_eq!(
            parse_index(&other, &bytes).unwrap_err().code(),
            Code::Corrupt
        );
        // the magic, the count, `unique`, an entry, the pack digest's algorithm and bytes, the
        // index's own digest: each is covered by the name
        for at in [0, 11, 20, 45, 68, 70, bytes.len() - 1] {
            let mut flipped = bytes.clone();
            flipped[at] ^= 1;
            assert_eq!(
                parse_index(&name, &flipped).unwrap_err().code(),
                Code::Corrupt
            );
        }
        assert!(parse_index(&name, &bytes[..10]).is_err());
        // an entry longer than a chunk file can be, in an index that hashes right
        let (name, bytes) = encode_index(
            &[IndexEntry {
                id: ChunkId::of(b"a"),
                offset: 0,
                len: MAX_FILE as u32 + 1,
            }],
            &PackHasher::default().finish(),
        );
        assert_eq!(
            parse_index(&name, &bytes).unwrap_err().code(),
            Code::Corrupt
        );
    }

    #[test]
    fn a_version_3_index_reads_without_a_pack_digest() {
        let entries = one_entry();
        let (_, v4) = encode_index(&entries, &PackHasher::default().finish());
        // the same index as format version 3 wrote it: no pack digest, the old magic
        let mut v3 = MAGIC_V3.to_vec();
        v3.extend_from_slice(&v4[8..HEAD + ENTRY]);
        let digest: [u8; 32] = Sha256::digest(&v3).into();
        v3.extend_from_slice(&digest);
        let name = ChunkId(digest).hex();
        assert_eq!(parse_index(&name, &v3).unwrap(), (entries.to_vec(), None));
        // a version 3 magic on a version 4 layout is refused
        let mut mixed = v4.clone();
        mixed[..8].copy_from_slice(MAGIC_V3);
        let body = mixed.len() - DIGEST;
        let digest: [u8; 32] = Sha256::digest(&mixed[..body]).into();
        mixed[body..].copy_from_slice(&digest);
        let err = parse_index(&ChunkId(digest).hex(), &mixed).unwrap_err();
        assert_eq!(err.code(), Code::Corrupt);
    }

    #[test]
    fn a_pack_file_hashes_as_it_was_written() {
        let mut hasher = PackHasher::default();
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        for part in data.chunks(70_000) {
            hasher.update(part);
        }
        let written = hasher.finish();
        assert_eq!(written.digest, *blake3::hash(&data).as_bytes());
        let mut buf = Vec::new();
        let whole = digest_file(&mut &data[..], PackHash::Blake3, &mut buf).unwrap();
        assert_eq!(whole, Some((written.digest, data.len() as u64)));
        let sha: [u8; 32] = Sha256::digest(&data).into();
        let whole = digest_file(&mut &data[..], PackHash::Sha256, &mut buf).unwrap();
        assert_eq!(whole, Some((sha, data.len() as u64)));
        let unknown = digest_file(&mut &data[..], PackHash::Other(9), &mut buf).unwrap();
        assert_eq!(unknown, None);
    }

    #[test]
    fn edge_indexes_read_and_an_unknown_magic_is_refused() {
        // a stored chunk of the largest size, and no entry at all
        let largest = [IndexEntry {
            id: ChunkId::of(b"a"),
            offset: 0,
            len: MAX_FILE as u32,
        }];
        let digest = PackHasher::default().finish();
        for entries in [&largest[..], &[]] {
            let (name, bytes) = encode_index(entries, &digest);
            assert_eq!(parse_index(&name, &bytes).unwrap().0, entries);
        }
        // another magic on a layout that hashes to its name
        let (_, mut bytes) = encode_index(&one_entry(), &digest);
        bytes[..8].copy_from_slice(b"SRIDX\0\0\x05");
        let body = bytes.len() - DIGEST;
        let sum: [u8; 32] = Sha256::digest(&bytes[..body]).into();
        bytes[body..].copy_from_slice(&sum);
        let err = parse_index(&ChunkId(sum).hex(), &bytes).unwrap_err();
        assert!(err.to_string().contains("not a version 3 or 4"), "{err}");
    }

    #[test]
    fn a_pack_read_interrupted_is_read_on_and_a_failed_one_is_an_error() {
        /// Gives `data`, failing once with `kind` first.
        struct Once<'a>(&'a [u8], Option<std::io::ErrorKind>);
        impl std::io::Read for Once<'_> {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                if let Some(kind) = self.1.take() {
                    return Err(kind.into());
                }
                std::io::Read::read(&mut self.0, out)
            }
        }
        let data = b"pack bytes".repeat(1000);
        let mut buf = Vec::new();
        let mut read = Once(&data, Some(std::io::ErrorKind::Interrupted));
        let whole = digest_file(&mut read, PackHash::Blake3, &mut buf).unwrap();
        assert_eq!(
            whole,
            Some((*blake3::hash(&data).as_bytes(), data.len() as u64))
        );
        let mut read = Once(&data, Some(std::io::ErrorKind::PermissionDenied));
        let err = digest_file(&mut read, PackHash::Blake3, &mut buf).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied);
    }
}
