//! Chunks: their ids and their encoding on disk ([`super::chunks`] is where they are).
//!
//! A chunk's id is the SHA-256 of its plain bytes (64 lowercase hex digits). Its encoding,
//! in a pack (format version 3) or a loose file `chunks/<first two hex digits>/<id>`
//! (versions 1-2), is one codec byte then the payload: `0` the plain bytes, `1` the bytes as
//! raw DEFLATE (RFC 1951). Once written it never changes: same id, same plain bytes,
//! whoever wrote it.

use std::io::Write;

use flate2::write::DeflateEncoder;
use flate2::{Compression, Decompress, FlushDecompress, Status};
use sha2::{Digest, Sha256};

use super::chunker::MAX;
use crate::error::{Code, Error, Result};

pub use super::chunks::Chunks;

pub const CODEC_STORED: u8 = 0;
pub const CODEC_DEFLATE: u8 = 1;

/// A chunk file is never larger than this (a stored chunk of MAX bytes plus its codec byte;
/// DEFLATE output is only kept when smaller).
pub const MAX_FILE: u64 = MAX as u64 + 1;

/// DEFLATE level: 1, zlib-rs's fastest; see docs/store-format.md for the measurement.
const LEVEL: u32 = 1;

/// The value of each lowercase hex digit, 0xff for every other byte: a tree lists about a
/// million ids per hundred snapshots, and verify parses every one of them.
static HEX_VALUE: [u8; 256] = {
    let mut table = [0xff; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

/// A chunk id: the SHA-256 of its plain bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChunkId(pub [u8; 32]);

/// A map keyed by chunk id, hashed with [`IdHash`].
pub type IdMap<V> = std::collections::HashMap<ChunkId, V, IdHash>;
/// A set of chunk ids, hashed with [`IdHash`].
pub type IdSet = std::collections::HashSet<ChunkId, IdHash>;

/// Hashes chunk ids for maps and sets (verify and the map of present chunks hold ~80,000 of
/// them for the bench store, each looked up several times): an id is already a digest, so two
/// of its words folded with a key are enough, where SipHash reads all 32 bytes in rounds. The
/// key is random per process (from std's `RandomState`), and the fold mixes the high bits of a
/// 128-bit product into the low ones, so a store crafted with ids that share their low bits
/// cannot pile them into one bucket (the way foldhash and hashbrown's default keep HashDoS out).
#[derive(Clone, Copy)]
pub struct IdHash(u64);

impl Default for IdHash {
    fn default() -> Self {
        static KEY: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
        let key = KEY.get_or_init(|| {
            std::hash::BuildHasher::hash_one(&std::collections::hash_map::RandomState::new(), 1)
        });
        IdHash(*key)
    }
}

impl std::hash::BuildHasher for IdHash {
    type Hasher = IdHasher;
    fn build_hasher(&self) -> IdHasher {
        IdHasher(self.0)
    }
}

/// The state of [`IdHash`]: the key, then the hash.
pub struct IdHasher(u64);

/// `a * b` as 128 bits, its halves xored.
fn fold(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

impl std::hash::Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        // an id's 32 bytes arrive at once, folded 16 at a time
        for word in bytes.chunks(16) {
            let mut w = [0u8; 16];
            w[..word.len()].copy_from_slice(word);
            let lo = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
            let hi = u64::from_le_bytes([w[8], w[9], w[10], w[11], w[12], w[13], w[14], w[15]]);
            self.0 = fold(lo ^ self.0, hi ^ 0x243f_6a88_85a3_08d3);
        }
    }

    fn write_usize(&mut self, n: usize) {
        // the length an array's hash writes first (always 32 for an id)
        self.0 = fold(self.0 ^ n as u64, 0x1319_8a2e_0370_7344);
    }

    fn finish(&self) -> u64 {
        // folded once more: the last word's fold alone leaves the low bits of ids that differ
        // only in that word's top bits on a lattice (a third of the buckets for some keys)
        fold(self.0, 0xa409_3822_299f_31d0)
    }
}

impl ChunkId {
    pub fn of(data: &[u8]) -> ChunkId {
        ChunkId(Sha256::digest(data).into())
    }

    pub fn hex(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push(DIGITS[usize::from(b >> 4)] as char);
            s.push(DIGITS[usize::from(b & 15)] as char);
        }
        s
    }

    /// Parse 64 lowercase hex digits; anything else is `ECORRUPT` (a crafted tree).
    pub fn parse(text: &str) -> Result<ChunkId> {
        let bad = || {
            Error::new(
                Code::Corrupt,
                format!("Invalid chunk id {text:?} in the store"),
            )
        };
        if text.len() != 64 {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (byte, pair) in out.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
            let (high, low) = (
                HEX_VALUE[usize::from(pair[0])],
                HEX_VALUE[usize::from(pair[1])],
            );
            // 0xff marks a byte that is not a lowercase hex digit
            if (high | low) > 15 {
                return Err(bad());
            }
            *byte = high << 4 | low;
        }
        Ok(ChunkId(out))
    }
}

/// The file content for `data`: DEFLATE when it saves space, the plain bytes otherwise.
pub fn encode(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    out.push(CODEC_DEFLATE);
    let mut enc = DeflateEncoder::new(out, Compression::new(LEVEL));
    // writing into a Vec cannot fail
    let deflated = enc.write_all(data).and_then(|()| enc.finish());
    match deflated {
        Ok(out) if out.len() < data.len() + 1 => out,
        _ => {
            let mut out = Vec::with_capacity(data.len() + 1);
            out.push(CODEC_STORED);
            out.extend_from_slice(data);
            out
        }
    }
}

/// The plain bytes of a chunk file, checked against its id (`ECORRUPT` otherwise).
pub fn decode(id: &ChunkId, file: &[u8]) -> Result<Vec<u8>> {
    decode_as(id, file, true)
}

/// [`decode`], the check against the id skipped when `check` is false (a chunk this process
/// has checked already: the file never changes once in place).
pub(super) fn decode_as(id: &ChunkId, file: &[u8], check: bool) -> Result<Vec<u8>> {
    let mut inflated = Vec::new();
    let data = match payload(id, file, &mut Decompress::new(false), &mut inflated)? {
        Some(stored) => stored.to_vec(),
        None => {
            // the inflate had room for a whole chunk; a small one (a tree run of 2 KB) kept
            // by a caller must not hold 256 KiB
            inflated.shrink_to_fit();
            inflated
        }
    };
    check_plain(id, &data, check)?;
    Ok(data)
}

fn corrupt(id: &ChunkId, why: &str) -> Error {
    Error::new(
        Code::Corrupt,
        format!("Chunk {} is damaged: {why}", id.hex()),
    )
}

/// A chunk file's plain bytes: the payload itself when stored (`Some`, no copy), or inflated
/// into `out` (`None`; `out` is cleared first and reused by callers that check many chunks).
fn payload<'f>(
    id: &ChunkId,
    file: &'f [u8],
    inflater: &mut Decompress,
    out: &mut Vec<u8>,
) -> Result<Option<&'f [u8]>> {
    match file.split_first() {
        Some((&CODEC_STORED, rest)) => Ok(Some(rest)),
        Some((&CODEC_DEFLATE, rest)) => {
            out.clear();
            // bounded: a crafted payload cannot inflate past the room given, MAX + 1 bytes
            // (one more than a chunk may hold, so that an oversized one is seen)
            out.reserve_exact(MAX + 1);
            inflater.reset(false);
            let status = inflater
                .decompress_vec(rest, out, FlushDecompress::Finish)
                .map_err(|e| corrupt(id, &e.to_string()))?;
            match status {
                Status::StreamEnd => Ok(None),
                _ if out.len() > MAX => Err(corrupt(id, "its content does not match its id")),
                _ => Err(corrupt(id, "its compressed data ends early")),
            }
        }
        Some((codec, _)) => Err(corrupt(id, &format!("unknown codec {codec}"))),
        None => Err(corrupt(id, "empty file")),
    }
}

/// `ECORRUPT` unless `data` can be chunk `id` (and, with `check`, hashes to it).
fn check_plain(id: &ChunkId, data: &[u8], check: bool) -> Result<()> {
    if data.len() > MAX || (check && ChunkId::of(data) != *id) {
        return Err(corrupt(id, "its content does not match its id"));
    }
    Ok(())
}

/// Buffers reused from chunk to chunk by a reader that checks many of them (verify): the
/// chunk's file, its inflated bytes and the inflater's state, allocated once per thread
/// instead of once per chunk.
pub struct Checker {
    file: Vec<u8>,
    plain: Vec<u8>,
    inflater: Decompress,
}

impl Default for Checker {
    fn default() -> Self {
        Checker {
            file: Vec::with_capacity(MAX_FILE as usize + 1),
            plain: Vec::with_capacity(MAX + 1),
            inflater: Decompress::new(false),
        }
    }
}

impl Checker {
    /// Read chunk `id` from `chunks` and check it against its id: its stored size (encoded, as
    /// it lies in its pack or file), or the error (`ENOENT` when missing, `ECORRUPT` when
    /// damaged).
    pub fn check(&mut self, chunks: &Chunks, id: &ChunkId) -> Result<u64> {
        self.read(chunks, id, true)?;
        Ok(self.stored_len())
    }

    /// The stored size of the chunk [`Checker::read`] read last.
    pub fn stored_len(&self) -> u64 {
        self.file.len() as u64
    }

    /// Read chunk `id` from `chunks`, hashed against its id when `check` (not when this
    /// process checked it already): its plain bytes, held until the next call.
    pub fn read(&mut self, chunks: &Chunks, id: &ChunkId, check: bool) -> Result<&[u8]> {
        chunks.read_raw_into(id, &mut self.file)?;
        let data = match payload(id, &self.file, &mut self.inflater, &mut self.plain)? {
            Some(stored) => stored,
            None => &self.plain,
        };
        check_plain(id, data, check)?;
        Ok(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trip_and_codec_choice() {
        let text = b"abc ".repeat(1000);
        let enc = encode(&text);
        assert_eq!(enc[0], CODEC_DEFLATE);
        assert!(enc.len() < 200);
        assert_eq!(decode(&ChunkId::of(&text), &enc).unwrap(), text);
        let random: Vec<u8> = (0..5000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        let id = ChunkId::of(&random);
        let enc = encode(&random);
        assert_eq!(decode(&id, &enc).unwrap(), random);
        assert_eq!(
            decode(&id, &[CODEC_STORED]).unwrap_err().code(),
            Code::Corrupt
        );
    }

    #[test]
    fn a_flipped_byte_or_unknown_codec_is_corrupt() {
        let text = b"hello world ".repeat(100);
        let id = ChunkId::of(&text);
        let mut enc = encode(&text);
        assert_eq!(enc[0], CODEC_DEFLATE);
        enc[2] ^= 0x40;
        assert_eq!(decode(&id, &enc).unwrap_err().code(), Code::Corrupt);
        assert_eq!(decode(&id, &[9, 1, 2]).unwrap_err().code(), Code::Corrupt);
        assert_eq!(decode(&id, &[]).unwrap_err().code(), Code::Corrupt);
    }

    #[test]
    fn ids_parse_only_lowercase_hex() {
        let id = ChunkId::of(b"x");
        assert_eq!(ChunkId::parse(&id.hex()).unwrap(), id);
        assert!(ChunkId::parse(&id.hex().to_uppercase()).is_err());
        assert!(ChunkId::parse("../../etc/passwd").is_err());
        assert_eq!(
            ChunkId::of(b"").hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn id_hash_spreads_ids_that_share_their_low_bytes() {
        use std::hash::BuildHasher;
        let build = IdHash::default();
        // 4,096 ids equal but for one byte in their upper half: all distinct hashes, and
        // spread over the low bits a table uses for buckets
        let mut hashes = std::collections::HashSet::new();
        let mut buckets = std::collections::HashSet::new();
        for i in 0..4096u32 {
            let mut id = [7u8; 32];
            id[8..12].copy_from_slice(&i.to_le_bytes());
            let h = build.hash_one(ChunkId(id));
            hashes.insert(h);
            buckets.insert(h & 0xfff);
        }
        assert_eq!(hashes.len(), 4096);
        assert!(buckets.len() > 2000, "{} buckets of 4096", buckets.len());
        // equal ids hash equal; a set keyed so works as any set
        let a = ChunkId::of(b"a");
        assert_eq!(build.hash_one(a), build.hash_one(ChunkId::of(b"a")));
        let mut set = IdSet::default();
        assert!(set.insert(a) && !set.insert(a) && set.contains(&a));
        assert!(!set.contains(&ChunkId::of(b"b")));
    }

    #[test]
    fn chunks_up_to_max_bytes_round_trip_and_larger_ones_are_corrupt() {
        // the largest chunk, stored (its file MAX_FILE bytes) and deflated
        let random = crate::testutil::noise(3, MAX);
        let enc = encode(&random);
        assert_eq!((enc[0], enc.len() as u64), (CODEC_STORED, MAX_FILE));
        assert!(decode(&ChunkId::of(&random), &enc).unwrap() == random);
        let zeros = vec![0u8; MAX];
        let enc = encode(&zeros);
        assert_eq!(enc[0], CODEC_DEFLATE);
        assert!(decode(&ChunkId::of(&zeros), &enc).unwrap() == zeros);
        // one byte more is no chunk, stored or deflated, whatever its id
        let over = vec![0u8; MAX + 1];
        let id = ChunkId::of(&over);
        let mut stored = vec![CODEC_STORED];
        stored.extend_from_slice(&over);
        for file in [stored, encode(&over)] {
            let err = decode(&id, &file).unwrap_err();
            assert_eq!(err.code(), Code::Corrupt);
            assert!(err.to_string().contains("does not match its id"), "{err}");
        }
        // far more than a chunk, deflated: the inflate stops at its room, past MAX, and says
        // so (not that the stream ended early)
        let far = vec![0u8; MAX + 1000];
        let err = decode(&ChunkId::of(&far), &encode(&far)).unwrap_err();
        assert!(err.to_string().contains("does not match its id"), "{err}");
        // the empty chunk
        let enc = encode(b"");
        assert_eq!(decode(&ChunkId::of(b""), &enc).unwrap(), b"");
    }

    #[test]
    fn deflate_data_that_ends_early_is_named_so() {
        // MAX bytes flushed but the stream never finished: all of the chunk, no end
        let mut enc = DeflateEncoder::new(vec![CODEC_DEFLATE], Compression::new(LEVEL));
        enc.write_all(&vec![7u8; MAX]).unwrap();
        enc.flush().unwrap();
        let file = enc.get_ref().clone();
        let err = decode(&ChunkId::of(&vec![7u8; MAX]), &file).unwrap_err();
        assert_eq!(err.code(), Code::Corrupt);
        assert!(err.to_string().contains("ends early"), "{err}");
        // a stream cut short: the same
        let text = b"hello world ".repeat(100);
        let full = encode(&text);
        let err = decode(&ChunkId::of(&text), &full[..full.len() / 2]).unwrap_err();
        assert!(err.to_string().contains("ends early"), "{err}");
    }

    #[test]
    fn an_id_with_one_character_that_is_not_lowercase_hex_is_refused() {
        let hex = ChunkId::of(b"x").hex();
        for (at, bad) in [(0, ':'), (1, 'g'), (10, '/'), (63, 'G'), (62, '`')] {
            let mut text = hex.clone().into_bytes();
            text[at] = bad as u8;
            let text = String::from_utf8(text).unwrap();
            let err = ChunkId::parse(&text).unwrap_err();
            assert_eq!(err.code(), Code::Corrupt, "{text}");
        }
        // two bad characters of one pair, and every digit in both places
        let gg = format!("gg{}", &hex[2..]);
        assert!(ChunkId::parse(&gg).is_err());
        let digits = "0123456789abcdef".repeat(4);
        let id = ChunkId::parse(&digits).unwrap();
        assert_eq!(id.0[..8], [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]);
        assert_eq!(id.hex(), digits);
        let swapped = "fedcba9876543210".repeat(4);
        assert_eq!(ChunkId::parse(&swapped).unwrap().hex(), swapped);
    }

    #[test]
    fn id_hash_spreads_ids_that_differ_only_in_their_high_bits() {
        use std::hash::BuildHasher;
        let build = IdHash::default();
        // ids equal but for the top bytes of a 64-bit word (of the first or second half):
        // the fold brings those bits down to the low ones a table uses
        for at in [4, 12, 28] {
            let mut buckets = std::collections::HashSet::new();
            for i in 0..4096u32 {
                let mut id = [7u8; 32];
                id[at..at + 4].copy_from_slice(&(i << 20).to_le_bytes());
                buckets.insert(build.hash_one(ChunkId(id)) & 0xfff);
            }
            assert!(buckets.len() > 2000, "at {at}: {} buckets", buckets.len());
        }
    }

    /// Set in the test binary run again by `id_hash_is_keyed_anew_in_each_process`: the child
    /// prints its hash of one id and ends.
    const HASH_CHILD: &str = "SR_TEST_ID_HASH_CHILD";

    #[test]
    fn id_hash_is_keyed_anew_in_each_process() {
        use std::hash::BuildHasher;
        let id = ChunkId::of(b"the same id everywhere");
        let here = IdHash::default().hash_one(id);
        if std::env::var_os(HASH_CHILD).is_some() {
            println!("\nid-hash={here}");
            return;
        }
        // the same id in four other processes: a store crafted against one process's hashes
        // (ids piled into one bucket) is spread in the next
        let mut seen = std::collections::HashSet::from([here]);
        for _ in 0..4 {
            let out = std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "store::chunk::tests::id_hash_is_keyed_anew_in_each_process",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(HASH_CHILD, "1")
                .output()
                .unwrap();
            assert!(out.status.success());
            let text = String::from_utf8_lossy(&out.stdout);
            let hash = text
                .lines()
                .find_map(|l| l.strip_prefix("id-hash="))
                .unwrap_or_else(|| panic!("no hash in {text}"));
            seen.insert(hash.parse::<u64>().unwrap());
        }
        assert_eq!(seen.len(), 5, "{seen:?}");
    }

    #[test]
    fn a_checker_reads_each_chunk_with_its_stored_size_and_finds_damage() {
        let tmp = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(&tmp.path().join("store"), true).unwrap();
        let text = b"abc ".repeat(1000);
        let random = crate::testutil::noise(5, 3000);
        for data in [&text[..], &random[..]] {
            store
                .chunks()
                .put(&ChunkId::of(data), &encode(data))
                .unwrap();
        }
        store.chunks().flush().unwrap();
        let mut checker = Checker::default();
        for data in [&text[..], &random[..]] {
            let id = ChunkId::of(data);
            let size = encode(data).len() as u64;
            assert_eq!(checker.check(store.chunks(), &id).unwrap(), size);
            assert_eq!(checker.read(store.chunks(), &id, true).unwrap(), data);
            assert_eq!(checker.stored_len(), size);
        }
        assert!(encode(&text).len() < 100 && encode(&random).len() == 3001);
        // a chunk the store lacks; bytes that are not the id's
        let err = checker
            .check(store.chunks(), &ChunkId::of(b"x"))
            .unwrap_err();
        assert_eq!(err.code().as_str(), "ENOENT");
        let mut wrong = ChunkId::of(&text);
        wrong.0[0] ^= 1;
        store.chunks().put(&wrong, &encode(b"other")).unwrap();
        store.chunks().flush().unwrap();
        let err = checker.check(store.chunks(), &wrong).unwrap_err();
        assert_eq!(err.code(), Code::Corrupt);
        // unchecked, the same bytes are handed over as they are
        assert_eq!(
            checker.read(store.chunks(), &wrong, false).unwrap(),
            b"other"
        );
    }
}
