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

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};

use flate2::write::GzEncoder;
use flate2::Compression;

use super::{Meter, Progress};
use crate::error::{Error, Result};
use crate::fsx::checksum::Sha256Writer;

/// The legacy exclusions.
pub const DEFAULT_EXCLUDES: &[&str] = &[
    "node_modules",
    "dist",
    "build",
    ".next",
    "*.log",
    "backups",
    ".git",
];

/// The tar stream goes to the compressor in buffers of this size...
const CHUNK: usize = 256 * 1024;
/// ...at most this many queued: the pipeline holds about 1 MiB whatever the project size.
const QUEUED: usize = 4;

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
}

/// True when a path component `name` is excluded by one of `patterns`.
pub fn is_excluded(name: &str, patterns: &[String]) -> bool {
    patterns.iter().any(|p| match p.strip_prefix('*') {
        Some(suffix) => name.ends_with(suffix),
        None => name == p,
    })
}

/// Write a gzip'd tar of `root` (minus `excludes`) to `dest`.
pub fn create_archive(
    root: &Path,
    dest: &Path,
    excludes: &[String],
    report: &mut dyn FnMut(Progress),
) -> Result<ArchiveStats> {
    let context = || format!("Archive of {} failed", root.display());
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
        let walked = write_tar(root, excludes, &mut sink, report);
        // the end of the stream, or of a failed walk: the compressor's loop ends either way
        drop(sink);
        let compressed = compressor
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (walked, compressed)
    });
    let (done, (size, sha256)) = match (walked, compressed) {
        // a compressor failure (ENOSPC...) is the cause of the walk's broken channel
        (_, Err(e)) => return Err(Error::io(context(), e)),
        (Err(e), Ok(_)) => return Err(e),
        (Ok(done), Ok(archive)) => (done, archive),
    };
    // The one fsync: a backup must survive a crash right after it is reported done.
    temp.as_file()
        .sync_all()
        .map_err(|e| Error::io(context(), e))?;
    temp.persist(dest)
        .map_err(|e| Error::io(context(), e.error))?;
    Ok(ArchiveStats {
        files: done.files,
        bytes: done.bytes,
        size,
        sha256,
    })
}

/// The tar stream of `root` into `sink`, depth-first over directories, each listed in name
/// order, so that two archives of the same tree list their entries alike.
fn write_tar(
    root: &Path,
    excludes: &[String],
    sink: &mut ChunkSender,
    report: &mut dyn FnMut(Progress),
) -> Result<Progress> {
    let context = || format!("Archive of {} failed", root.display());
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
            if is_excluded(&name.to_string_lossy(), excludes) {
                continue;
            }
            let rel_child = rel.join(&name);
            let full_child = root.join(&rel_child);
            let meta = match fs::symlink_metadata(&full_child) {
                Ok(m) => m,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue, // removed meanwhile
                Err(e) => return Err(Error::io(context(), e)),
            };
            if meta.is_dir() {
                builder.append_dir(&rel_child, &full_child).map_err(|e| {
                    Error::io(format!("{}: {}", context(), full_child.display()), e)
                })?;
                pending.push(rel_child);
            } else if meta.is_file() || meta.file_type().is_symlink() {
                match builder.append_path_with_name(&full_child, &rel_child) {
                    Ok(()) => meter.add(if meta.is_file() { meta.len() } else { 0 }),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(Error::io(
                            format!("{}: {}", context(), full_child.display()),
                            e,
                        ))
                    }
                }
            }
            // sockets, fifos and devices are not project content: skipped, as GNU tar warns
        }
    }
    let sink = builder.into_inner().map_err(|e| Error::io(context(), e))?;
    sink.flush().map_err(|e| Error::io(context(), e))?;
    Ok(meter.finish())
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
/// Open an archive for reading (tests, and a future restore from the archive).
pub fn open_archive(path: &Path) -> io::Result<tar::Archive<flate2::read::GzDecoder<File>>> {
    Ok(tar::Archive::new(flate2::read::GzDecoder::new(File::open(
        path,
    )?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excludes() -> Vec<String> {
        DEFAULT_EXCLUDES.iter().map(|s| s.to_string()).collect()
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
        let stats = create_archive(&root, &dest, &excludes(), &mut |p| events.push(p)).unwrap();
        assert_eq!((stats.files, stats.bytes), (2, 300_002));
        // size and digest were taken while writing: they are those of the file on disk
        assert_eq!(stats.size, fs::metadata(&dest).unwrap().len());
        assert_eq!(stats.sha256, crate::fsx::sha256_file(&dest).unwrap());
        assert_eq!(events.last().unwrap().files, 2);
        let mut names: Vec<String> = open_archive(&dest)
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
        assert_eq!(names, ["README", "pkg", "src", "src/deep", "src/deep/a.rs"]);
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
        create_archive(&root, &dest, &excludes(), &mut |_| {}).unwrap();
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
        let err = create_archive(&tmp.path().join("missing"), &dest, &excludes(), &mut |_| {})
            .unwrap_err();
        assert_eq!(err.code().as_str(), "ENOENT");
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
    }
}
