//! A snapshot's tree: one JSON object per line for every folder, file and symlink below the
//! root, sorted by path (bytewise, UTF-8). The tree is stored like a file (cut into chunks),
//! so a snapshot that changes little shares most of its tree's chunks with the previous one.

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Read};

use serde::{Deserialize, Serialize};

use super::chunk::{ChunkId, Chunks};
use crate::error::{Code, Error, Result};

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
    /// A file's chunks, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chunks: Vec<String>,
    /// A live database's state when it was copied: `[change counter, page count, file size]`
    /// from its header (only for the databases a snapshot was told about; see
    /// [`super::write`]): the next snapshot copies it again only when that changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sqlite: Option<[u64; 3]>,
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

/// Reads the concatenated chunks of a tree, one chunk in memory at a time.
pub struct ChunkReader<'a> {
    chunks: &'a Chunks,
    ids: VecDeque<ChunkId>,
    current: Vec<u8>,
    pos: usize,
    /// Each chunk hashed against its id (false: the caller checked them all already).
    check: bool,
}

impl<'a> ChunkReader<'a> {
    pub fn new(chunks: &'a Chunks, ids: Vec<ChunkId>, check: bool) -> Self {
        ChunkReader {
            chunks,
            ids: ids.into(),
            current: Vec::new(),
            pos: 0,
            check,
        }
    }
}

impl Read for ChunkReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.current.len() {
            let Some(id) = self.ids.pop_front() else {
                return Ok(0);
            };
            let got = match self.check {
                true => self.chunks.get(&id),
                false => self.chunks.get_checked_before(&id),
            };
            self.current = got.map_err(io::Error::other)?;
            self.pos = 0;
        }
        let n = out.len().min(self.current.len() - self.pos);
        out[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// The entries of a stored tree, parsed one line at a time.
pub struct TreeReader<'a> {
    lines: io::Lines<BufReader<ChunkReader<'a>>>,
    snapshot: String,
}

impl<'a> TreeReader<'a> {
    /// `check`: see [`ChunkReader`].
    pub fn new(chunks: &'a Chunks, ids: Vec<ChunkId>, snapshot: &str, check: bool) -> Self {
        TreeReader {
            lines: BufReader::new(ChunkReader::new(chunks, ids, check)).lines(),
            snapshot: snapshot.to_string(),
        }
    }
}

impl Iterator for TreeReader<'_> {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Result<Entry>> {
        let line = match self.lines.next()? {
            Ok(line) => line,
            Err(e) => return Some(Err(unwrap_chunk_error(e, &self.snapshot))),
        };
        Some(
            serde_json::from_str::<Entry>(&line)
                .map_err(|e| {
                    Error::new(
                        Code::Corrupt,
                        format!("The tree of snapshot {} is damaged: {e}", self.snapshot),
                    )
                })
                .and_then(|entry| check_path(&entry.path).map(|()| entry)),
        )
    }
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

    #[test]
    fn paths_leaving_the_root_are_refused() {
        for bad in [
            "",
            "/etc/passwd",
            "a/../../b",
            "./a",
            "a//b",
            "a\\b",
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
