//! A snapshot's tree: one JSON object per line for every folder, file and symlink below the
//! root, sorted by path (bytewise, UTF-8), stored in chunks.
//!
//! Version 2 cuts the tree between lines, where the paths say ([`runs`]): a run of entries
//! whose lines did not change is the same chunk as in the previous snapshot, so a checkpoint
//! that changed 50 files rewrites the ~50 runs that hold them, not the whole tree; and a
//! file of more than [`list::INLINE`] chunks lists them in list chunks ([`super::list`]), so
//! its line stays short. Version 1 trees (cut like a file, lists inline) are read the same
//! way: a reader never depends on where the cuts are.
//!
//! Every tree and list chunk is read through a [`Fetch`] the caller chooses, so verify and
//! garbage collection see every chunk a snapshot references ([`References`]).

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Read};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::chunk::{ChunkId, Chunks};
use super::chunker::MAX;
use super::list;
use crate::error::{Code, Error, Result};

/// What a chunk fetched for a tree is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A chunk of the tree's text, or of the list of those chunks.
    Tree,
    /// A list chunk of a file's chunk list, with the number of list levels below it (0: its
    /// ids are data chunks).
    FileList(u32),
}

/// Reads the plain bytes of a tree or list chunk (checked or not, counted or not: the
/// caller's choice). `None` for a [`Role::FileList`] chunk means "do not expand it": the
/// entry's chunk list then lacks that run (verify, which collected those ids from an earlier
/// snapshot already, saves reading it again); for a [`Role::Tree`] chunk it reads as empty.
pub type Fetch<'a> = Box<dyn FnMut(&ChunkId, Role) -> Result<Option<Vec<u8>>> + 'a>;

/// What an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    Dir,
    File,
    Symlink,
}

/// One line of a tree. Field order is part of the format (both backends write it so, and
/// equal trees are then equal bytes, hence shared chunks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// '/'-separated, relative to the root, no `.` or `..` component.
    pub path: String,
    #[serde(rename = "type")]
    pub kind: EntryKind,
    /// Permission bits.
    pub mode: u32,
    /// Bytes of a file (0 for folders and links).
    pub size: u64,
    /// [seconds, nanoseconds] since the epoch.
    pub mtime: (i64, u32),
    pub ctime: (i64, u32),
    /// Inode number, as a decimal string (it may not fit a JavaScript number).
    pub ino: String,
    /// A symlink's target, as stored in the link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// A file's chunks, in order. In memory always the data chunks; on disk (version 2) the
    /// top level of a list of `depth` levels ([`super::list`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chunks: Vec<String>,
    /// Levels of list chunks between `chunks` and the data (0: `chunks` are the data).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub depth: u32,
    /// A live database's state when it was copied: `[change counter, page count, file size]`
    /// from its header (only for the databases a snapshot was told about; see
    /// [`super::write`]): the next snapshot copies it again only when that changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sqlite: Option<[u64; 3]>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Entry {
    /// One line of the tree (with its newline).
    pub fn line(&self) -> String {
        // serializing plain strings and numbers cannot fail
        let mut s = serde_json::to_string(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// The entry's chunk ids, checked.
    pub fn chunk_ids(&self) -> Result<Vec<ChunkId>> {
        self.chunks.iter().map(|c| ChunkId::parse(c)).collect()
    }
}

/// A path from a tree is used only when every component is a plain name.
pub fn check_path(path: &str) -> Result<()> {
    let bad = path.is_empty()
        || path.contains('\0')
        || path.contains('\\')
        || path
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..");
    if bad {
        return Err(Error::new(
            Code::PathEscape,
            format!(
                "Refusing path {path:?} from a snapshot: only plain relative names stay inside"
            ),
        ));
    }
    Ok(())
}

/// A [`Fetch`] from the store: each chunk hashed against its id, or (`check` false) only
/// decoded, for chunks this process has checked already.
pub fn fetch_from(chunks: &Chunks, check: bool) -> Fetch<'_> {
    match check {
        true => Box::new(move |id, _| chunks.get(id).map(Some)),
        false => Box::new(move |id, _| chunks.get_checked_before(id).map(Some)),
    }
}

/// Reads the concatenated chunks of a tree, one chunk in memory at a time.
pub struct ChunkReader<'a> {
    fetch: Fetch<'a>,
    ids: VecDeque<ChunkId>,
    current: Vec<u8>,
    pos: usize,
}

impl<'a> ChunkReader<'a> {
    pub fn new(fetch: Fetch<'a>, ids: Vec<ChunkId>) -> Self {
        ChunkReader {
            fetch,
            ids: ids.into(),
            current: Vec::new(),
            pos: 0,
        }
    }
}

impl Read for ChunkReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.current.len() {
            let Some(id) = self.ids.pop_front() else {
                return Ok(0);
            };
            self.current = (self.fetch)(&id, Role::Tree)
                .map_err(io::Error::other)?
                .unwrap_or_default();
            self.pos = 0;
        }
        let n = out.len().min(self.current.len() - self.pos);
        out[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Most tree chunks a record may name (a tree of 2^24 runs of ~20 entries is far beyond any
/// project): the bound a crafted record's list is resolved under.
pub(super) const MAX_TREE_CHUNKS: u64 = 1 << 24;

/// The entries of a stored tree, parsed one line at a time, each file's list resolved to its
/// data chunks.
pub struct TreeReader<'a> {
    reader: BufReader<ChunkReader<'a>>,
    line: String,
    snapshot: String,
}

impl<'a> TreeReader<'a> {
    /// The tree whose chunks are listed as `top` at `depth`, every tree and list chunk read
    /// through `fetch`.
    pub fn new(
        mut fetch: Fetch<'a>,
        top: Vec<ChunkId>,
        depth: u32,
        snapshot: &str,
    ) -> Result<Self> {
        let mut tree_fetch = |id: &ChunkId, _| fetch(id, Role::Tree);
        let ids = list::resolve(top, depth, MAX_TREE_CHUNKS, &mut tree_fetch).map_err(|e| {
            Error::new(
                e.code(),
                format!("The tree of snapshot {snapshot} cannot be read: {e}"),
            )
        })?;
        Ok(TreeReader {
            reader: BufReader::new(ChunkReader::new(fetch, ids)),
            line: String::new(),
            snapshot: snapshot.to_string(),
        })
    }

    fn parse(&mut self) -> Result<Entry> {
        let damaged = |e: &dyn std::fmt::Display| {
            Error::new(
                Code::Corrupt,
                format!("The tree of snapshot {} is damaged: {e}", self.snapshot),
            )
        };
        let mut entry: Entry = serde_json::from_str(&self.line).map_err(|e| damaged(&e))?;
        check_path(&entry.path)?;
        if entry.depth > 0 {
            let top = entry.chunk_ids()?;
            let fetch = &mut self.reader.get_mut().fetch;
            let mut list_fetch = |id: &ChunkId, below| fetch(id, Role::FileList(below));
            let ids =
                list::resolve(top, entry.depth, entry.size, &mut list_fetch).map_err(|e| {
                    Error::new(
                        e.code(),
                        format!(
                            "The tree of snapshot {}: the chunk list of {} cannot be read: {e}",
                            self.snapshot, entry.path
                        ),
                    )
                })?;
            entry.chunks = ids.iter().map(ChunkId::hex).collect();
            entry.depth = 0;
        }
        Ok(entry)
    }
}

impl Iterator for TreeReader<'_> {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Result<Entry>> {
        self.line.clear();
        match self.reader.read_line(&mut self.line) {
            Ok(0) => return None,
            Ok(_) => {}
            Err(e) => return Some(Err(unwrap_chunk_error(e, &self.snapshot))),
        }
        if self.line.ends_with('\n') {
            self.line.pop();
        }
        Some(self.parse())
    }
}

/// An entry's bytes decide where its run ends: only its path, so a run's bounds stay put
/// when the files in it change.
fn ends_run(path: &str) -> bool {
    Sha256::digest(path.as_bytes())[0] & 0x03 == 0
}

/// Fewest entries in a tree run (but the last), and the size past which a run ends anyway.
/// Runs of ~6 lines (~2 KB): a changed file rewrites about that much of the tree, and a tree
/// of 5,000 entries is ~900 runs, whose ids take list chunks of their own (measured per
/// checkpoint in bench/RESULTS.md: runs of ~10 lines cost more in rewritten lines than they
/// save in lists).
const TREE_MIN_LINES: usize = 2;
const TREE_RUN_BYTES: usize = 64 * 1024;

/// The chunks of a tree (version 2): its lines (sorted, each ending in a newline) in runs
/// that end after a line whose path [`ends_run`] (the first byte of its SHA-256 has its low
/// two bits clear) once the run has [`TREE_MIN_LINES`], or
/// once it reaches [`TREE_RUN_BYTES`]; a run longer than a chunk may be (very long paths) is
/// cut every [`MAX`] bytes.
pub fn runs<'e>(lines: impl IntoIterator<Item = (&'e str, String)>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut run: Vec<u8> = Vec::new();
    let mut count = 0;
    fn close(run: &mut Vec<u8>, out: &mut Vec<Vec<u8>>) {
        out.extend(run.chunks(MAX).map(<[u8]>::to_vec));
        run.clear();
    }
    for (path, line) in lines {
        run.extend_from_slice(line.as_bytes());
        count += 1;
        if (count >= TREE_MIN_LINES && ends_run(path)) || run.len() >= TREE_RUN_BYTES {
            close(&mut run, &mut out);
            count = 0;
        }
    }
    close(&mut run, &mut out);
    out
}

/// A chunk error that travelled through `io::Read` keeps its code (ENOENT, ECORRUPT).
fn unwrap_chunk_error(e: io::Error, snapshot: &str) -> Error {
    let code = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<Error>())
        .map(|inner| inner.code());
    match code {
        Some(code) => Error::new(
            code,
            format!("The tree of snapshot {snapshot} cannot be read: {e}"),
        ),
        // read_line's refusal of bytes that are not UTF-8: a tree is JSON lines, so damage
        None if e.kind() == io::ErrorKind::InvalidData => Error::new(
            Code::Corrupt,
            format!("The tree of snapshot {snapshot} is damaged: a line is not UTF-8"),
        ),
        None => Error::io(format!("The tree of snapshot {snapshot} cannot be read"), e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_lines_have_a_fixed_field_order() {
        let e = Entry {
            path: "a/b.txt".into(),
            kind: EntryKind::File,
            mode: 0o644,
            size: 3,
            mtime: (1, 2),
            ctime: (3, 4),
            ino: "99".into(),
            target: None,
            chunks: vec!["ab".into()],
            depth: 0,
            sqlite: None,
        };
        assert_eq!(
            e.line(),
            "{\"path\":\"a/b.txt\",\"type\":\"file\",\"mode\":420,\"size\":3,\"mtime\":[1,2],\"ctime\":[3,4],\"ino\":\"99\",\"chunks\":[\"ab\"]}\n"
        );
        let db = Entry {
            sqlite: Some([7, 3, 12288]),
            ..e
        };
        assert!(db
            .line()
            .ends_with(",\"chunks\":[\"ab\"],\"sqlite\":[7,3,12288]}\n"));
    }

    /// Chunks longer than a reader's buffer (a version 1 tree is one chunk of every line) are
    /// handed over in pieces, each from where the last one ended.
    #[test]
    fn chunks_longer_than_the_buffer_are_read_whole_in_order() {
        let parts: Vec<Vec<u8>> = [20_000usize, 3, 9_000]
            .iter()
            .enumerate()
            .map(|(i, &n)| (0..n).map(|j| (i * 7 + j % 251) as u8).collect())
            .collect();
        let ids: Vec<ChunkId> = parts.iter().map(|p| ChunkId::of(p)).collect();
        let by_id: std::collections::HashMap<ChunkId, Vec<u8>> =
            ids.iter().copied().zip(parts.iter().cloned()).collect();
        let fetch: Fetch<'_> = Box::new(move |id, _| Ok(by_id.get(id).cloned()));
        let mut read = Vec::new();
        let mut reader = std::io::BufReader::with_capacity(8192, ChunkReader::new(fetch, ids));
        std::io::Read::read_to_end(&mut reader, &mut read).unwrap();
        assert_eq!(read, parts.concat());
    }

    #[test]
    fn paths_leaving_the_root_are_refused() {
        for bad in [
            "",
            "/etc/passwd",
            "a/../../b",
            "./a",
            "a//b",
            "a\\b",
            "a\0b",
            "..",
            "a/",
        ] {
            assert_eq!(
                check_path(bad).unwrap_err().code(),
                Code::PathEscape,
                "{bad}"
            );
        }
        check_path("a/b c/ünï.txt").unwrap();
    }
}
