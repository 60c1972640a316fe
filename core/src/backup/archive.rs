//! The `full/<id>.tar.gz` archive of a project, written in Rust: files are streamed one at
//! a time through the tar writer and the gzip encoder into a temp file beside the target,
//! so memory stays bounded whatever the project size; the finished archive is fsynced once
//! and renamed into place (a crash never leaves a truncated archive under the final name).
//!
//! Two threads, as legacy `tar -czf` ran two processes (tar, gzip): this one walks the tree
//! and writes the tar stream into a bounded channel of buffers; a compressor thread gzips
//! them (zlib-rs, level 6 as gzip's default) and hashes the compressed bytes as they are
//! written, so the manifest gets the archive's SHA-256 without reading it back.
//!
//! Exclusions follow legacy `tar --exclude=<pattern>`: a pattern matches any path component
//! by name (`node_modules`, `.git`, `backups`), or by suffix when it starts with `*` (`*.log`).
//!
//! A live project changes while it is read. Every member is written with exactly the size in
//! its header, the size the file had when it was opened: a file that grew is cut there, one
//! that shrank is padded with zeros (what GNU tar does), so the archive always stays a valid
//! tar stream; such files are named in [`ArchiveStats::changed`]. Live databases are not read
//! at all: the caller passes their consistent copies as [`ArchiveSpec::substitutes`], and
//! their `-journal`, `-wal` and `-shm` files are left out (a torn page set plus a journal
//! from another instant is worse than nothing).

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};

use flate2::write::GzEncoder;
use flate2::Compression;

use super::cancel::{cancelled, Cancel};
use super::manifest::slash_path;
use super::{Meter, Progress};
use crate::error::{Error, Result};
use crate::fsx::checksum::Sha256Writer;

/// The legacy exclusions (`backupExcludes` of lib/js/defaults.json).
pub fn default_excludes() -> Vec<String> {
    crate::defaults::defaults().backup_excludes.clone()
}

/// The files SQLite keeps beside a database while it is in use.
const SQLITE_SIDE_FILES: &[&str] = &["-journal", "-wal", "-shm"];

/// The tar stream goes to the compressor in buffers of this size...
const CHUNK: usize = 256 * 1024;
/// ...at most this many queued: the pipeline holds about 1 MiB whatever the project size.
const QUEUED: usize = 4;

/// What to archive.
pub struct ArchiveSpec<'a> {
    pub root: &'a Path,
    pub excludes: &'a [String],
    /// `(path relative to root, '/'-separated; file whose bytes are archived under it)`: the
    /// consistent copies of live databases. Their SQLite side files are left out.
    pub substitutes: &'a [(String, PathBuf)],
    pub cancel: Cancel,
}

/// What went into an archive, and the archive written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveStats {
    /// Files (and symlinks) archived.
    pub files: u64,
    /// Their bytes before compression.
    pub bytes: u64,
    /// Size of the `.tar.gz`.
    pub size: u64,
    /// SHA-256 (hex) of the `.tar.gz`, computed while it was written.
    pub sha256: String,
    /// Files ('/'-separated, relative to root) that changed while they were read: archived
    /// with the size they had when opened (cut or zero-padded).
    pub changed: Vec<String>,
}

/// True when a path component `name` is excluded by one of `patterns`.
pub fn is_excluded(name: &str, patterns: &[String]) -> bool {
    patterns.iter().any(|p| match p.strip_prefix('*') {
        Some(suffix) => name.ends_with(suffix),
        None => name == p,
    })
}

/// Write a gzip'd tar of `spec.root` (minus `spec.excludes`) to `dest`.
pub fn create_archive(
    spec: &ArchiveSpec<'_>,
    dest: &Path,
    report: &mut dyn FnMut(Progress),
) -> Result<ArchiveStats> {
    let context = || format!("Archive of {} failed", spec.root.display());
    let dir = crate::fsx::atomic::parent_dir(dest);
    let temp = tempfile::Builder::new()
        .prefix(".archive-")
        .suffix(".partial")
        .tempfile_in(dir)
        .map_err(|e| Error::io(context(), e))?;
    let file = temp
        .as_file()
        .try_clone()
        .map_err(|e| Error::io(context(), e))?;
    let (walked, compressed) = std::thread::scope(|scope| {
        let (chunks, queue) = mpsc::sync_channel(QUEUED);
        let (recycle, recycled) = mpsc::channel();
        let compressor = scope.spawn(move || compress(queue, recycle, file));
        let mut sink = ChunkSender {
            buf: Vec::with_capacity(CHUNK),
            chunks,
            recycled,
        };
        let walked = write_tar(spec, &mut sink, report);
        // the end of the stream, or of a failed walk: the compressor's loop ends either way
        drop(sink);
        let compressed = compressor
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (walked, compressed)
    });
    let (done, (size, sha256)) = match (walked, compressed) {
        (Err(e), _) if spec.cancel.is_cancelled() => return Err(e),
        // a compressor failure (ENOSPC...) is the cause of the walk's broken channel
        (_, Err(e)) => return Err(Error::io(context(), e)),
        (Err(e), Ok(_)) => return Err(e),
        (Ok(done), Ok(archive)) => (done, archive),
    };
    spec.cancel.check(context())?;
    // The one fsync: a backup must survive a crash right after it is reported done.
    temp.as_file()
        .sync_all()
        .map_err(|e| Error::io(context(), e))?;
    temp.persist(dest)
        .map_err(|e| Error::io(context(), e.error))?;
    Ok(ArchiveStats {
        files: done.0.files,
        bytes: done.0.bytes,
        size,
        sha256,
        changed: done.1,
    })
}

/// A relative '/'-separated path as a `PathBuf` (the walk's keys).
fn rel_path(slashed: &str) -> PathBuf {
    slashed.split('/').filter(|c| !c.is_empty()).collect()
}

/// The substitutes by relative path, and the SQLite side files to leave out.
fn substitution<'a>(spec: &ArchiveSpec<'a>) -> (HashMap<PathBuf, &'a Path>, HashSet<PathBuf>) {
    let mut by_rel = HashMap::new();
    let mut left_out = HashSet::new();
    for (rel, source) in spec.substitutes {
        for side in SQLITE_SIDE_FILES {
            left_out.insert(rel_path(&format!("{rel}{side}")));
        }
        by_rel.insert(rel_path(rel), source.as_path());
    }
    (by_rel, left_out)
}

/// The tar stream of `root` into `sink`, depth-first over directories, each listed in name
/// order, so that two archives of the same tree list their entries alike.
fn write_tar(
    spec: &ArchiveSpec<'_>,
    sink: &mut ChunkSender,
    report: &mut dyn FnMut(Progress),
) -> Result<(Progress, Vec<String>)> {
    let root = spec.root;
    let context = || format!("Archive of {} failed", root.display());
    let (substitutes, left_out) = substitution(spec);
    // a copy that is not there fails the archive (ENOENT, as in the JS backend), also when
    // the live file it stands for is gone: an archive without the database it was asked
    // to hold would pass for a whole one
    for (rel, copy) in spec.substitutes {
        fs::metadata(copy).map_err(|e| {
            let live = root.join(rel_path(rel));
            let what = format!("copy {} of {}", copy.display(), live.display());
            Error::io(format!("{}: {what}", context()), e)
        })?;
    }
    let mut changed = Vec::new();
    let mut meter = Meter::new("archive", report);
    let mut builder = tar::Builder::new(sink);
    builder.follow_symlinks(false);
    builder.mode(tar::HeaderMode::Complete);
    let mut pending = vec![PathBuf::new()];
    while let Some(rel) = pending.pop() {
        let full = root.join(&rel);
        let mut names: Vec<_> = fs::read_dir(&full)
            .map_err(|e| Error::io(format!("{}: cannot read {}", context(), full.display()), e))?
            .filter_map(|entry| entry.ok().map(|e| e.file_name()))
            .collect();
        names.sort();
        for name in names.into_iter().rev() {
            if is_excluded(&name.to_string_lossy(), spec.excludes) {
                continue;
            }
            let rel_child = rel.join(&name);
            if left_out.contains(&rel_child) {
                continue;
            }
            let full_child = root.join(&rel_child);
            let failed = |e: io::Error| {
                if spec.cancel.is_cancelled() {
                    cancelled(context())
                } else {
                    Error::io(format!("{}: {}", context(), full_child.display()), e)
                }
            };
            spec.cancel.check(context())?;
            let meta = match fs::symlink_metadata(&full_child) {
                Ok(m) => m,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue, // removed meanwhile
                Err(e) => return Err(failed(e)),
            };
            #[cfg(test)]
            tests::run_hook(&tests::AFTER_LSTAT, &full_child);
            if meta.is_dir() {
                builder
                    .append_dir(&rel_child, &full_child)
                    .map_err(failed)?;
                pending.push(rel_child);
            } else if meta.is_file() {
                let source = substitutes.get(&rel_child).copied().unwrap_or(&full_child);
                let appended = append_file(&mut builder, &rel_child, source, &spec.cancel)
                    .map_err(|e| match substitutes.get(&rel_child) {
                        Some(copy) if !spec.cancel.is_cancelled() => Error::io(
                            format!(
                                "{}: copy {} of {}",
                                context(),
                                copy.display(),
                                full_child.display()
                            ),
                            e,
                        ),
                        _ => failed(e),
                    })?;
                if let Some(member) = appended {
                    meter.add(member.size);
                    if member.changed {
                        changed.push(slash_path(&rel_child));
                    }
                }
            } else if meta.file_type().is_symlink() {
                match builder.append_path_with_name(&full_child, &rel_child) {
                    Ok(()) => meter.add(0),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(failed(e)),
                }
            }
            // sockets, fifos and devices are not project content: skipped, as GNU tar warns
        }
    }
    let sink = builder.into_inner().map_err(|e| Error::io(context(), e))?;
    sink.flush().map_err(|e| Error::io(context(), e))?;
    Ok((meter.finish(), changed))
}

/// One regular file archived.
struct Member {
    size: u64,
    changed: bool,
}

/// Append `source` as `rel` with exactly the size it had when opened; `None` when it was
/// removed before it could be opened.
fn append_file<W: Write>(
    builder: &mut tar::Builder<W>,
    rel: &Path,
    source: &Path,
    cancel: &Cancel,
) -> io::Result<Option<Member>> {
    let file = match File::open(source) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let before = file.metadata()?;
    #[cfg(test)]
    tests::run_hook(&tests::AFTER_OPEN, source);
    let mut header = tar::Header::new_gnu();
    header.set_metadata_in_mode(&before, tar::HeaderMode::Complete);
    header.set_size(before.len());
    let mut body = ExactSize {
        file: &file,
        left: before.len(),
        short: false,
        cancel,
    };
    builder.append_data(&mut header, rel, &mut body)?;
    let after = file.metadata()?;
    let changed = body.short
        || after.len() != before.len()
        || after.modified().ok() != before.modified().ok();
    Ok(Some(Member {
        size: before.len(),
        changed,
    }))
}

/// A file's bytes cut or zero-padded to `left` bytes, checking for cancellation at every
/// read (the tar writer copies in small chunks: a cancel is seen within microseconds).
struct ExactSize<'a> {
    file: &'a File,
    left: u64,
    short: bool,
    cancel: &'a Cancel,
}

impl Read for ExactSize<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.cancel.is_cancelled() {
            // not `Interrupted`: the copy loop would retry it
            return Err(io::Error::other("cancelled"));
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        let n = if self.short {
            0
        } else {
            loop {
                match self.file.read(&mut buf[..want]) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other?,
                }
            }
        };
        let n = if n == 0 {
            // the file shrank: the rest of the member is zeros, as its header promised
            self.short = true;
            buf[..want].fill(0);
            want
        } else {
            n
        };
        self.left -= n as u64;
        Ok(n)
    }
}

/// The writing end of the pipeline: fills a buffer and queues it when full (blocking while
/// the compressor is `QUEUED` buffers behind), reusing the buffers the compressor hands back.
struct ChunkSender {
    buf: Vec<u8>,
    chunks: SyncSender<Vec<u8>>,
    recycled: Receiver<Vec<u8>>,
}

impl ChunkSender {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let next = self
            .recycled
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(CHUNK));
        let full = std::mem::replace(&mut self.buf, next);
        self.chunks
            .send(full)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the compressor stopped"))
    }
}

impl Write for ChunkSender {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = (CHUNK - self.buf.len()).min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == CHUNK {
            self.send()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// The compressor thread: gzip every queued buffer into `file`, hashing the compressed bytes;
/// the archive's size and SHA-256 once the queue is closed.
fn compress(
    queue: Receiver<Vec<u8>>,
    recycle: Sender<Vec<u8>>,
    file: File,
) -> io::Result<(u64, String)> {
    let hashed = Sha256Writer::new(BufWriter::with_capacity(1 << 20, file));
    // level 6, gzip's default (what legacy `tar -z` used)
    let mut gzip = GzEncoder::new(hashed, Compression::default());
    for mut chunk in queue {
        gzip.write_all(&chunk)?;
        chunk.clear();
        let _ = recycle.send(chunk); // the walk may be over: the buffer is then just freed
    }
    let (mut buffered, size, sha256) = gzip.finish()?.finish();
    buffered.flush()?;
    Ok((size, sha256))
}
/// What reading an archive to its end found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveCheck {
    pub entries: u64,
    /// Bytes of the members (uncompressed).
    pub bytes: u64,
}

/// Read the tar.gz at `path` to its end: every header, every member's full size, then the
/// gzip trailer (CRC and length). A digest only says the bytes are the ones written; this
/// says they are a tar.gz of what it lists. A damaged stream is `ECORRUPT`, naming the member
/// after which it broke.
pub fn check_archive(
    path: &Path,
    cancel: &Cancel,
    report: &mut dyn FnMut(Progress),
) -> Result<ArchiveCheck> {
    let mut archive = open_archive(path)
        .map_err(|e| Error::io(format!("Cannot read archive {}", path.display()), e))?;
    let mut meter = Meter::new("verify", report);
    let mut last = String::from("(start)");
    // A read the OS failed (EIO, ENOSPC...) is that failure, not damage: the archive may be
    // whole, and verify must not call it corrupt; bad bytes (a bad header, a CRC, a short
    // stream) are damage.
    let damaged = |last: &str, why: &io::Error| match why.raw_os_error() {
        Some(errno) => Error::io(
            format!("Cannot read archive {} after {last}", path.display()),
            io::Error::from_raw_os_error(errno),
        ),
        None => Error::new(
            crate::error::Code::Corrupt,
            format!("Archive {} is damaged after {last}: {why}", path.display()),
        ),
    };
    let entries = archive.entries().map_err(|e| damaged(&last, &e))?;
    for entry in entries {
        cancel.check(format!("Check of {}", path.display()))?;
        let mut entry = entry.map_err(|e| damaged(&last, &e))?;
        let name = entry
            .path()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let size = entry.size();
        let read = io::copy(&mut entry, &mut io::sink()).map_err(|e| damaged(&name, &e))?;
        if read != size {
            let short = io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{read} of its {size} bytes"),
            );
            return Err(damaged(&name, &short));
        }
        meter.add(size);
        last = name;
    }
    // the rest of the gzip stream: the decoder checks the CRC and length at its end
    io::copy(&mut archive.into_inner(), &mut io::sink()).map_err(|e| damaged(&last, &e))?;
    let done = meter.finish();
    Ok(ArchiveCheck {
        entries: done.files,
        bytes: done.bytes,
    })
}

/// Open an archive for reading (tests, and a future restore from the archive).
pub fn open_archive(path: &Path) -> io::Result<tar::Archive<flate2::read::GzDecoder<File>>> {
    Ok(tar::Archive::new(flate2::read::GzDecoder::new(File::open(
        path,
    )?)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::thread::LocalKey;

    type Hook = Box<dyn FnMut(&Path)>;

    thread_local! {
        /// Run by the walk on this thread right after it `lstat`ed an entry (its full path):
        /// lets a test change the tree at exactly that instant, as a live project does.
        pub(super) static AFTER_LSTAT: Cell<Option<Hook>> = const { Cell::new(None) };
        /// Run by [`append_file`] once the file is open and its size taken (its source path).
        pub(super) static AFTER_OPEN: Cell<Option<Hook>> = const { Cell::new(None) };
    }

    pub(super) fn run_hook(at: &'static LocalKey<Cell<Option<Hook>>>, path: &Path) {
        at.with(|cell| {
            if let Some(mut hook) = cell.take() {
                hook(path);
                cell.set(Some(hook));
            }
        });
    }

    /// Archive `root` with `hook` set at `at`, acting on the entry named `name` only.
    fn archive_with_hook(
        root: &Path,
        dest: &Path,
        at: &'static LocalKey<Cell<Option<Hook>>>,
        name: &'static str,
        mut act: impl FnMut(&Path) + 'static,
    ) -> Result<ArchiveStats> {
        at.with(|cell| {
            cell.set(Some(Box::new(move |path: &Path| {
                if path.file_name().is_some_and(|n| n == name) {
                    act(path)
                }
            })))
        });
        let result = archive(root, dest);
        at.with(|cell| cell.set(None));
        result
    }

    fn excludes() -> Vec<String> {
        default_excludes()
    }

    fn archive(root: &Path, dest: &Path) -> Result<ArchiveStats> {
        let excludes = excludes();
        let spec = ArchiveSpec {
            root,
            excludes: &excludes,
            substitutes: &[],
            cancel: Cancel::new(),
        };
        create_archive(&spec, dest, &mut |_| {})
    }

    fn names_in(dest: &Path) -> Vec<String> {
        let mut names: Vec<String> = open_archive(dest)
            .unwrap()
            .entries()
            .unwrap()
            .map(|e| {
                e.unwrap()
                    .path()
                    .unwrap()
                    .to_string_lossy()
                    .trim_end_matches('/')
                    .to_string()
            })
            .collect();
        names.sort();
        names
    }

    #[test]
    fn archives_the_tree_without_the_excluded_names() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("proj");
        for dir in [
            "src/deep",
            "node_modules/x",
            "backups/full",
            ".git",
            "pkg/dist",
        ] {
            fs::create_dir_all(root.join(dir)).unwrap();
        }
        fs::write(root.join("src/deep/a.rs"), vec![7u8; 300_000]).unwrap();
        fs::write(root.join("README"), "hi").unwrap();
        fs::write(root.join("debug.log"), "noise").unwrap();
        fs::write(root.join("node_modules/x/i.js"), "x").unwrap();
        fs::write(root.join("pkg/dist/out.js"), "x").unwrap();
        let dest = tmp.path().join("out.tar.gz");
        let mut events = Vec::new();
        let excludes = excludes();
        let spec = ArchiveSpec {
            root: &root,
            excludes: &excludes,
            substitutes: &[],
            cancel: Cancel::new(),
        };
        let stats = create_archive(&spec, &dest, &mut |p| events.push(p)).unwrap();
        assert_eq!((stats.files, stats.bytes), (2, 300_002));
        // size and digest were taken while writing: they are those of the file on disk
        assert_eq!(stats.size, fs::metadata(&dest).unwrap().len());
        assert_eq!(stats.sha256, crate::fsx::sha256_file(&dest).unwrap());
        assert_eq!(events.last().unwrap().files, 2);
        assert_eq!(
            names_in(&dest),
            ["README", "pkg", "src", "src/deep", "src/deep/a.rs"]
        );
        assert!(stats.changed.is_empty());
        let leftovers: Vec<_> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 2, "no temp file left: {leftovers:?}");
    }

    #[test]
    fn contents_spanning_many_pipeline_buffers_come_back_byte_for_byte() {
        use std::io::Read;
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("proj");
        fs::create_dir_all(&root).unwrap();
        // not compressible, several CHUNKs long, with an odd size
        let mut state = 0x2545_f491_u32;
        let data: Vec<u8> = (0..CHUNK * 5 + 123)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state as u8
            })
            .collect();
        fs::write(root.join("big.bin"), &data).unwrap();
        let dest = tmp.path().join("out.tar.gz");
        archive(&root, &dest).unwrap();
        let mut archive = open_archive(&dest).unwrap();
        let mut entry = archive.entries().unwrap().next().unwrap().unwrap();
        assert_eq!(entry.path().unwrap().to_str(), Some("big.bin"));
        let mut back = Vec::new();
        entry.read_to_end(&mut back).unwrap();
        assert!(back == data, "content differs");
    }

    #[test]
    fn an_unreadable_root_fails_with_a_code_and_leaves_no_partial_archive() {
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("out.tar.gz");
        let err = archive(&tmp.path().join("missing"), &dest).unwrap_err();
        assert_eq!(err.code().as_str(), "ENOENT");
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
    }

    #[test]
    fn databases_go_in_as_their_copies_without_side_files() {
        use std::io::Read;
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("proj");
        fs::create_dir_all(root.join("pkg")).unwrap();
        fs::write(root.join("pkg/db.sqlite"), "torn live bytes").unwrap();
        for side in ["-journal", "-wal", "-shm"] {
            fs::write(root.join(format!("pkg/db.sqlite{side}")), "side").unwrap();
        }
        fs::write(root.join("pkg/other.sqlite-wal"), "not ours: kept").unwrap();
        let copy = tmp.path().join("copy.sqlite");
        fs::write(&copy, "consistent copy").unwrap();
        let dest = tmp.path().join("out.tar.gz");
        let excludes = excludes();
        let substitutes = [("pkg/db.sqlite".to_string(), copy)];
        let spec = ArchiveSpec {
            root: &root,
            excludes: &excludes,
            substitutes: &substitutes,
            cancel: Cancel::new(),
        };
        create_archive(&spec, &dest, &mut |_| {}).unwrap();
        assert_eq!(
            names_in(&dest),
            ["pkg", "pkg/db.sqlite", "pkg/other.sqlite-wal"]
        );
        let mut archive = open_archive(&dest).unwrap();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            if entry.path().unwrap().ends_with("db.sqlite") {
                let mut text = String::new();
                entry.read_to_string(&mut text).unwrap();
                assert_eq!(text, "consistent copy");
            }
        }
        let check = check_archive(&dest, &Cancel::new(), &mut |_| {}).unwrap();
        assert_eq!(check.entries, 3);
    }

    #[test]
    fn a_file_that_shrinks_or_grows_while_read_keeps_its_header_size() {
        // The same reader the archive uses, on a file changed between open and read.
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("f");
        fs::write(&path, vec![1u8; 10_000]).unwrap();
        let file = File::open(&path).unwrap();
        let cancel = Cancel::new();
        let read_all = |left| {
            let mut body = ExactSize {
                file: &file,
                left,
                short: false,
                cancel: &cancel,
            };
            let mut out = Vec::new();
            body.read_to_end(&mut out).unwrap();
            (out, body.short)
        };
        fs::write(&path, vec![2u8; 4_000]).unwrap(); // truncated to 4000 under our feet
        let (bytes, short) = read_all(10_000);
        assert_eq!((bytes.len(), short), (10_000, true));
        assert!(bytes[..4_000].iter().all(|&b| b == 2) && bytes[4_000..].iter().all(|&b| b == 0));
        use std::io::Seek;
        (&file).seek(io::SeekFrom::Start(0)).unwrap();
        fs::write(&path, vec![3u8; 20_000]).unwrap(); // grew
        let (bytes, short) = read_all(10_000);
        assert_eq!((bytes.len(), short), (10_000, false));
    }

    #[test]
    fn a_cancelled_archive_stops_and_leaves_no_partial_file() {
        use std::sync::atomic::{AtomicU64, Ordering};
        let counter: &'static AtomicU64 = Box::leak(Box::new(AtomicU64::new(0)));
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("proj");
        fs::create_dir_all(&root).unwrap();
        fs::write(root.join("a"), "x").unwrap();
        let out = tmp.path().join("out");
        fs::create_dir_all(&out).unwrap();
        let excludes = excludes();
        let spec = ArchiveSpec {
            root: &root,
            excludes: &excludes,
            substitutes: &[],
            cancel: Cancel::on(counter),
        };
        counter.fetch_add(1, Ordering::SeqCst);
        let err = create_archive(&spec, &out.join("a.tar.gz"), &mut |_| {}).unwrap_err();
        assert_eq!(err.code().as_str(), "ECANCELED");
        assert_eq!(fs::read_dir(&out).unwrap().count(), 0);
    }

    #[test]
    fn a_damaged_archive_fails_the_structural_check() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("proj");
        fs::create_dir_all(&root).unwrap();
        let mut state = 7u32;
        let noise: Vec<u8> = (0..200_000)
            .map(|_| {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                (state >> 16) as u8
            })
            .collect();
        fs::write(root.join("a.bin"), &noise).unwrap();
        fs::write(root.join("b.txt"), "b").unwrap();
        let dest = tmp.path().join("out.tar.gz");
        archive(&root, &dest).unwrap();
        assert_eq!(
            check_archive(&dest, &Cancel::new(), &mut |_| {})
                .unwrap()
                .entries,
            2
        );
        let mut bytes = fs::read(&dest).unwrap();
        let cut = bytes.len() / 2;
        bytes.truncate(cut);
        fs::write(&dest, &bytes).unwrap();
        let err = check_archive(&dest, &Cancel::new(), &mut |_| {}).unwrap_err();
        assert_eq!(err.code().as_str(), "ECORRUPT", "{err}");
    }

    /// A project of `n` files `d/f000`... plus `d/a_last` (the walk takes a folder's names in
    /// reverse order: `a_last` comes after the `n` others, after the meter's report at 200).
    fn project_with_late_entry(tmp: &Path, n: usize) -> PathBuf {
        let root = tmp.join("proj");
        fs::create_dir_all(root.join("d")).unwrap();
        for i in 0..n {
            fs::write(root.join(format!("d/f{i:03}")), "x").unwrap();
        }
        fs::write(root.join("d/a_last"), "late").unwrap();
        root
    }

    fn archive_reporting(
        root: &Path,
        dest: &Path,
        report: &mut dyn FnMut(Progress),
    ) -> Result<ArchiveStats> {
        let excludes = excludes();
        let spec = ArchiveSpec {
            root,
            excludes: &excludes,
            substitutes: &[],
            cancel: Cancel::new(),
        };
        create_archive(&spec, dest, report)
    }

    /// An entry listed but gone before its `lstat` is skipped (a live project); one whose
    /// `lstat` fails otherwise (its folder became a file: ENOTDIR) fails the archive.
    #[test]
    fn an_entry_gone_after_the_listing_is_skipped_and_an_unreadable_one_fails() {
        let tmp = tempfile::tempdir().unwrap();
        let root = project_with_late_entry(tmp.path(), 200);
        let dest = tmp.path().join("out.tar.gz");
        let late = root.join("d/a_last");
        let stats = archive_reporting(&root, &dest, &mut |p| {
            if p.files == 200 && late.exists() {
                fs::remove_file(&late).unwrap();
            }
        })
        .unwrap();
        assert_eq!(stats.files, 200);
        assert!(!names_in(&dest).contains(&"d/a_last".to_string()));

        let root = project_with_late_entry(&tmp.path().join("2"), 200);
        let dest = tmp.path().join("out2.tar.gz");
        let d = root.join("d");
        let err = archive_reporting(&root, &dest, &mut |p| {
            if p.files == 200 && d.is_dir() {
                fs::rename(&d, d.with_extension("moved")).unwrap();
                fs::write(&d, "a file now").unwrap();
            }
        })
        .unwrap_err();
        assert_eq!(err.code().as_str(), "ENOTDIR", "{err}");
        assert!(!dest.exists());
    }

    /// A file or symlink gone between its `lstat` and its reading is skipped; one that cannot
    /// be opened or read for another reason (a symlink loop put in its place, a folder on its
    /// way that became a file) fails the archive with that error.
    #[cfg(unix)]
    #[test]
    fn a_member_gone_before_it_is_read_is_skipped_other_failures_are_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("proj");
        fs::create_dir_all(root.join("sub")).unwrap();
        fs::write(root.join("keep"), "k").unwrap();
        fs::write(root.join("sub/file"), "f").unwrap();
        std::os::unix::fs::symlink("keep", root.join("sub/link")).unwrap();
        let remove = |p: &Path| fs::remove_file(p).unwrap();
        for (name, expected) in [("file", "sub/link"), ("link", "sub/file")] {
            let fresh = tmp.path().join(format!("copy-{name}"));
            copy_tree(&root, &fresh);
            let dest = tmp.path().join(format!("{name}.tar.gz"));
            let stats = archive_with_hook(&fresh, &dest, &AFTER_LSTAT, name, remove).unwrap();
            assert_eq!(stats.files, 2, "{name} skipped");
            assert_eq!(names_in(&dest), ["keep", "sub", expected]);
        }
        // the file replaced by a symlink to itself: its open fails with ELOOP
        let fresh = tmp.path().join("loop");
        copy_tree(&root, &fresh);
        let dest = tmp.path().join("loop.tar.gz");
        let err = archive_with_hook(&fresh, &dest, &AFTER_LSTAT, "file", |p: &Path| {
            fs::remove_file(p).unwrap();
            std::os::unix::fs::symlink("file", p).unwrap();
        })
        .unwrap_err();
        assert_eq!(err.code().as_str(), "ELOOP", "{err}");
        // the symlink's folder renamed away and a file put in its place: ENOTDIR (the link is
        // the folder's only entry, so no later entry fails instead)
        let fresh = tmp.path().join("notdir");
        copy_tree(&root, &fresh);
        fs::remove_file(fresh.join("sub/file")).unwrap();
        let dest = tmp.path().join("notdir.tar.gz");
        let err = archive_with_hook(&fresh, &dest, &AFTER_LSTAT, "link", |p: &Path| {
            let sub = p.parent().unwrap();
            fs::rename(sub, sub.with_extension("moved")).unwrap();
            fs::write(sub, "a file now").unwrap();
        })
        .unwrap_err();
        assert_eq!(err.code().as_str(), "ENOTDIR", "{err}");
        assert!(!dest.exists());
    }

    #[cfg(unix)]
    fn copy_tree(from: &Path, to: &Path) {
        fs::create_dir_all(to).unwrap();
        for entry in fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let ft = entry.file_type().unwrap();
            let target = to.join(entry.file_name());
            if ft.is_dir() {
                copy_tree(&entry.path(), &target);
            } else if ft.is_symlink() {
                std::os::unix::fs::symlink(fs::read_link(entry.path()).unwrap(), target).unwrap();
            } else {
                fs::copy(entry.path(), target).unwrap();
            }
        }
    }

    /// A file whose size alone, or whose mtime alone, changed while it was read is named in
    /// `changed` (a file that grew keeps its first size: it is not cut short).
    #[test]
    fn a_change_of_size_alone_or_of_mtime_alone_is_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("proj");
        fs::create_dir_all(&root).unwrap();
        fs::write(root.join("grows"), "0123456789").unwrap();
        fs::write(root.join("touched"), "0123456789").unwrap();
        fs::write(root.join("still"), "0123456789").unwrap();
        let dest = tmp.path().join("out.tar.gz");
        // grows: ten bytes more, its mtime put back as it was
        let grow = |p: &Path| {
            let mtime = fs::metadata(p).unwrap().modified().unwrap();
            let f = fs::OpenOptions::new().append(true).open(p).unwrap();
            (&f).write_all(b"0123456789").unwrap();
            f.set_modified(mtime).unwrap();
        };
        let stats = archive_with_hook(&root, &dest, &AFTER_OPEN, "grows", grow).unwrap();
        assert_eq!(stats.changed, ["grows"]);
        assert_eq!(stats.bytes, 30, "archived at the size it had when opened");
        // touched: same bytes, another mtime
        let touch = |p: &Path| {
            let mtime = fs::metadata(p).unwrap().modified().unwrap();
            let f = fs::OpenOptions::new().write(true).open(p).unwrap();
            f.set_modified(mtime - std::time::Duration::from_secs(60))
                .unwrap();
        };
        let stats = archive_with_hook(&root, &dest, &AFTER_OPEN, "touched", touch).unwrap();
        assert_eq!(stats.changed, ["touched"]);
    }

    /// A project folder `proj` holding a live `db.sqlite`, in a temp folder of its own.
    fn project_with_a_live_database() -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("proj");
        fs::create_dir_all(&root).unwrap();
        fs::write(root.join("db.sqlite"), "live").unwrap();
        (tmp, root)
    }

    /// `root` archived into `dest` with the default excludes and `copy` in place of `rel`.
    fn archive_with_copy(
        root: &Path,
        rel: &str,
        copy: &Path,
        cancel: Cancel,
        dest: &Path,
    ) -> Result<ArchiveStats> {
        let excludes = excludes();
        let substitutes = [(rel.to_string(), copy.to_path_buf())];
        let spec = ArchiveSpec {
            root,
            excludes: &excludes,
            substitutes: &substitutes,
            cancel,
        };
        create_archive(&spec, dest, &mut |_| {})
    }

    /// A database copy that is not there fails the archive (ENOENT, naming the copy), also
    /// when the live file it stands for is gone too: no archive is left.
    #[test]
    fn a_missing_substitute_fails_the_archive() {
        let (tmp, root) = project_with_a_live_database();
        let copy = tmp.path().join("no-copy");
        for rel in ["db.sqlite", "gone.sqlite"] {
            let dest = tmp.path().join("out.tar.gz");
            let err = archive_with_copy(&root, rel, &copy, Cancel::new(), &dest).unwrap_err();
            assert_eq!(err.code().as_str(), "ENOENT", "{err}");
            assert!(
                err.message().contains(&format!("copy {}", copy.display())),
                "{err}"
            );
            let left: Vec<_> = fs::read_dir(tmp.path())
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(left, ["proj"], "no archive and no temp left");
        }
    }

    /// A database copy that cannot be read is reported as that copy (not as the live file it
    /// stands for); while the read is cancelled, the answer is the cancellation.
    #[test]
    fn an_unreadable_substitute_is_named_and_a_cancelled_one_is_ecanceled() {
        let (tmp, root) = project_with_a_live_database();
        // a folder where the copy should be: opened, then every read fails (EISDIR)
        let copy = tmp.path().join("copy-dir");
        fs::create_dir(&copy).unwrap();
        let dest = tmp.path().join("out.tar.gz");
        let err = archive_with_copy(&root, "db.sqlite", &copy, Cancel::new(), &dest).unwrap_err();
        assert_eq!(err.code().as_str(), "EISDIR", "{err}");
        let named = format!(
            "copy {} of {}",
            copy.display(),
            root.join("db.sqlite").display()
        );
        assert!(err.message().contains(&named), "{err}");

        // a long copy (sparse: 256 MiB of zeros), cancelled once it is open
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
        let counter: &'static AtomicU64 = Box::leak(Box::new(AtomicU64::new(0)));
        let big = tmp.path().join("copy-big");
        File::create(&big).unwrap().set_len(256 << 20).unwrap();
        let opened = AtomicBool::new(false);
        let err = std::thread::scope(|scope| {
            // cancels the moment the copy is open (seen in /proc/self/fd): mid-read
            scope.spawn(|| {
                while !opened.load(Ordering::SeqCst) {
                    let open = fs::read_dir("/proc/self/fd")
                        .unwrap()
                        .filter_map(|e| fs::read_link(e.ok()?.path()).ok())
                        .any(|target| target == big);
                    if open {
                        counter.fetch_add(1, Ordering::SeqCst);
                        opened.store(true, Ordering::SeqCst);
                    }
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            });
            let result = archive_with_copy(&root, "db.sqlite", &big, Cancel::on(counter), &dest);
            opened.store(true, Ordering::SeqCst);
            result
        })
        .unwrap_err();
        assert_eq!(err.code().as_str(), "ECANCELED", "{err}");
        assert!(!dest.exists());
    }

    /// The tar stream is cut into buffers of exactly CHUNK bytes, each queued when full (the
    /// pipeline's bounded memory), and the rest at flush.
    #[test]
    fn the_stream_is_queued_in_full_chunks_then_the_rest() {
        let (chunks, queue) = mpsc::sync_channel(QUEUED);
        let (_recycle, recycled) = mpsc::channel();
        let mut sink = ChunkSender {
            buf: Vec::with_capacity(CHUNK),
            chunks,
            recycled,
        };
        assert_eq!(sink.write(&[1; 10]).unwrap(), 10);
        assert!(
            queue.try_recv().is_err(),
            "nothing queued before a chunk is full"
        );
        // at most what fills the chunk is taken
        assert_eq!(sink.write(&vec![2; CHUNK]).unwrap(), CHUNK - 10);
        assert_eq!(queue.try_recv().unwrap().len(), CHUNK);
        assert_eq!(sink.write(&[3; 5]).unwrap(), 5);
        assert!(queue.try_recv().is_err());
        sink.flush().unwrap();
        assert_eq!(queue.try_recv().unwrap(), [3; 5]);
    }

    /// Where the helper below archives, and which case it runs.
    #[cfg(unix)]
    const FSIZE_DIR_ENV: &str = "SR_CORE_TEST_FSIZE_DIR";
    #[cfg(unix)]
    const FSIZE_CASE_ENV: &str = "SR_CORE_TEST_FSIZE_CASE";

    /// A compressor that fails (the file size limit: EFBIG, as ENOSPC would) is the cause
    /// reported, whatever the walk then failed with; a cancellation still wins over it.
    /// Each case runs in a process of its own (this test binary, the helper below) under a
    /// 64 KiB file size limit: the archive of 600 KiB of noise fails when written out.
    #[cfg(unix)]
    #[test]
    fn a_compressor_failure_is_the_error_unless_the_walk_was_cancelled() {
        for (case, expected) in [
            ("ok", "EFBIG"),
            ("walk-fails", "EFBIG"),
            ("cancelled", "ECANCELED"),
        ] {
            let tmp = tempfile::tempdir().unwrap();
            let out = std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "--ignored",
                    "--exact",
                    "backup::archive::tests::fsize_limited_archive",
                ])
                .env(FSIZE_DIR_ENV, tmp.path())
                .env(FSIZE_CASE_ENV, case)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{case}: {}",
                String::from_utf8_lossy(&out.stdout)
            );
            let code = fs::read_to_string(tmp.path().join("code")).unwrap();
            assert_eq!(code, expected, "{case}");
            assert!(!tmp.path().join("out/a.tar.gz").exists(), "{case}");
        }
    }

    /// The body of the test above, in a child with a 64 KiB file size limit; writes the error
    /// code to `<dir>/code`. Does nothing when run as an ordinary ignored test.
    #[cfg(unix)]
    #[test]
    #[ignore = "helper process for a_compressor_failure_is_the_error_unless_the_walk_was_cancelled"]
    fn fsize_limited_archive() {
        use std::sync::atomic::{AtomicU64, Ordering};
        let (Some(dir), Some(case)) = (
            std::env::var_os(FSIZE_DIR_ENV),
            std::env::var_os(FSIZE_CASE_ENV),
        ) else {
            return;
        };
        let dir = PathBuf::from(dir);
        let root = dir.join("proj");
        fs::create_dir_all(&root).unwrap();
        fs::create_dir_all(dir.join("out")).unwrap();
        // incompressible, over two CHUNKs (full chunks reach the compressor before the walk ends);
        // the walk takes `z_noise` first (names in reverse order), then `a_db`
        let mut state = 0x9e37_79b9_u32;
        let noise: Vec<u8> = (0..600 << 10)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state as u8
            })
            .collect();
        fs::write(root.join("z_noise"), noise).unwrap();
        fs::write(root.join("a_db"), "live").unwrap();
        let copy_dir = dir.join("copy-dir");
        fs::create_dir(&copy_dir).unwrap();
        let counter: &'static AtomicU64 = Box::leak(Box::new(AtomicU64::new(0)));
        let substitutes = match case.to_str() {
            // the walk fails too: the database's copy is a folder (EISDIR)
            Some("walk-fails") => vec![("a_db".to_string(), copy_dir)],
            _ => vec![],
        };
        if case == "cancelled" {
            AFTER_LSTAT.with(|cell| {
                cell.set(Some(Box::new(move |p: &Path| {
                    if p.ends_with("a_db") {
                        counter.fetch_add(1, Ordering::SeqCst);
                    }
                })))
            });
        }
        // SIGXFSZ ignored: a write past the limit then fails with EFBIG instead of killing us
        // SAFETY: plain libc calls on this helper process's own signal disposition and limit.
        unsafe {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit {
                rlim_cur: 64 << 10,
                rlim_max: 64 << 10,
            };
            assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limit), 0);
        }
        let excludes = excludes();
        let spec = ArchiveSpec {
            root: &root,
            excludes: &excludes,
            substitutes: &substitutes,
            cancel: Cancel::on(counter),
        };
        let err = create_archive(&spec, &dir.join("out/a.tar.gz"), &mut |_| {}).unwrap_err();
        fs::write(dir.join("code"), err.code().as_str()).unwrap();
    }
}
